/* htpasswd.h: Basic credentials and htpasswd lines: pure parsers, and the password check. */

#ifndef KL_HTTP_HTPASSWD_H
#define KL_HTTP_HTPASSWD_H

#include "kl_core.h"

/*
 * An Authorization value [value, value + len): "Basic" (any case), one
 * space, any more spaces, base64 of "user:password" (kl_base64_decode:
 * as nginx, the base64 ends at its first '='). Decoded into buf (at
 * least len bytes); user and passwd point into it, passwd followed by a
 * NUL. KL_OK; KL_DECLINED when it is not such a value, the base64 is
 * invalid, there is no colon, or the user is empty (nginx's cases for
 * "no user/password was provided").
 */
kl_int_t kl_htpasswd_credentials(const u_char *value, size_t len, u_char *buf,
                                 kl_str_t *user, kl_str_t *passwd);

/*
 * One line of a user file, its end of line removed: "user:hash" or
 * "user:hash:anything" (the hash ends at the next colon, as in nginx).
 * KL_OK with user and hash pointing into the line; KL_DECLINED for a
 * blank line or a comment ('#' first); KL_ERROR for a malformed line (no
 * colon, an empty user or hash, a NUL byte).
 */
kl_int_t kl_htpasswd_parse_line(const u_char *line, size_t len, kl_str_t *user,
                                kl_str_t *hash);

/* The hash schemes kl_htpasswd_scheme tells apart. */
#define KL_HTPASSWD_PLAIN 1 /* {PLAIN}password */
#define KL_HTPASSWD_SHA   2 /* {SHA}base64(SHA-1(password)) */
#define KL_HTPASSWD_SSHA  3 /* {SSHA}base64(SHA-1(password salt) salt) */
#define KL_HTPASSWD_APR1  4 /* $apr1$salt$hash, Apache's MD5 */
#define KL_HTPASSWD_CRYPT 5 /* anything else: crypt(3) */

kl_uint_t kl_htpasswd_scheme(const kl_str_t *hash);

/*
 * "$apr1$SALT$" + 22 characters for password and the salt of setting (up
 * to 8 bytes before a '$'); out has room for 37 bytes. Returns the length
 * written, 0 when setting does not start with "$apr1$".
 */
size_t kl_htpasswd_apr1(const u_char *pw, size_t pwlen, const kl_str_t *setting,
                        u_char *out);

/*
 * Whether passwd (NUL-terminated at passwd->len) matches hash, compared
 * in constant time for a given hash length: KL_OK; KL_DECLINED when it
 * does not; KL_ABORT for a crypt(3) hash in a build without libcrypt;
 * KL_ERROR when the hash is invalid for its scheme (never matches). The
 * pool gives crypt_rn its scratch space.
 */
kl_int_t kl_htpasswd_verify(kl_pool_t *pool, const kl_str_t *passwd,
                            const kl_str_t *hash);

#endif /* KL_HTTP_HTPASSWD_H */
