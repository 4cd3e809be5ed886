/* userid_cookie.h: the userid cookie as nginx writes it: found in a Cookie line, its 16 bytes decoded and encoded, printed for $uid_got. */

/*
 * A uid is 16 bytes seen as four 32-bit words in the machine's order,
 * as nginx keeps them: "userid on" stores each word in network order
 * (htonl) and "userid v1" in the machine's, and the variables print each
 * word as a host integer in hex. The cookie is the 16 bytes in base64
 * (RFC 4648, with '+' and '/'), 24 characters, the first '=' of the
 * padding replaced by the mark when userid_mark is set. Reading keeps
 * nginx's rule: only the first 22 characters are decoded, so a mark or a
 * mangled padding does not matter.
 */

#ifndef KL_HTTP_USERID_COOKIE_H
#define KL_HTTP_USERID_COOKIE_H

#include "kl_core.h"

/* The cookie's value: 16 bytes in base64. */
#define KL_HTTP_USERID_ENCODED_LEN 24
/* "%08X" four times */
#define KL_HTTP_USERID_PRINTED_LEN 32

/*
 * The value of the cookie name in one Cookie line [p, p + len), found
 * as nginx finds it: pairs split at ';' or ',', the name matched without
 * case, blanks around '=' skipped, the value up to the next ';'. KL_OK
 * and *value (a view into p), or KL_DECLINED. Pure.
 */
kl_int_t kl_http_userid_cookie_find(u_char *p, size_t len, kl_str_t *name,
                                    kl_str_t *value);

/*
 * The uid of a cookie value: its first 22 characters decoded (up to a
 * '=' among them; words not reached stay 0). KL_OK, KL_DECLINED when
 * the value is shorter than 22 ("too short"), KL_ERROR when a byte is not
 * base64 ("invalid"). uid is zeroed first. Pure.
 */
kl_int_t kl_http_userid_decode(kl_str_t *value, uint32_t uid[4]);

/*
 * The 24 characters of uid's cookie at dst, the 23rd being mark when mark
 * is not '\0'; the end. Pure.
 */
u_char *kl_http_userid_encode(u_char *dst, uint32_t uid[4], u_char mark);

/* The 32 hex digits (uppercase) of the four words at dst; the end. Pure. */
u_char *kl_http_userid_print(u_char *dst, uint32_t uid[4]);

/*
 * "Thu, 31-Dec-37 23:55:55 GMT" for t, as nginx's cookie expiry: a
 * two-digit year up to 2037, four digits after. At most 32 bytes; the
 * end. Pure.
 */
u_char *kl_http_userid_cookie_time(u_char *dst, time_t t);

#endif /* KL_HTTP_USERID_COOKIE_H */
