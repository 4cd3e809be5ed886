/* charset_recode.h: the charset module's recoding tables and the pure functions that recode bytes with them. */

#ifndef KL_CHARSET_RECODE_H
#define KL_CHARSET_RECODE_H

#include "kl_core.h"

/*
 * A single-byte charset to UTF-8: 256 entries of this many bytes, the
 * first the length of the UTF-8 sequence (0: the byte has no character
 * and is dropped, as nginx drops it), then the sequence. nginx's maps stay
 * in the Basic Multilingual Plane, so 3 bytes of UTF-8 are enough.
 */
#define KL_CHARSET_UTF_LEN 4

/*
 * UTF-8 to a single-byte charset: 256 pages of 256 bytes, indexed by the
 * code point's high and low byte; a missing page or a 0 byte is a
 * character the charset lacks, sent as "&#N;" as nginx does.
 */
typedef u_char *kl_charset_pages_t[256];

/* A UTF-8 sequence cut by a buffer's end waits here for the next buffer. */
typedef struct {
    u_char saved[4];
    size_t nsaved;
} kl_charset_utf8_state_t;

/* dst[i] = table[src[i]]: between two single-byte charsets. */
void kl_charset_recode_bytes(const u_char *table, u_char *dst,
                             const u_char *src, size_t n);

/*
 * A single-byte charset to UTF-8 through an KL_CHARSET_UTF_LEN table.
 * With dst NULL, only counts; returns the bytes written (or needed).
 */
size_t kl_charset_to_utf8(const u_char *table, const u_char *src, size_t n,
                          u_char *dst);

/*
 * UTF-8 to a single-byte charset. A sequence cut at the end of src waits
 * in st unless last is set; each maximal subpart of an invalid sequence
 * becomes one '?'. With dst NULL, only counts and leaves st as it was; returns the
 * bytes written (or needed).
 */
size_t kl_charset_from_utf8(kl_charset_pages_t       pages,
                            kl_charset_utf8_state_t *st, const u_char *src,
                            size_t n, kl_uint_t last, u_char *dst);

/*
 * Decodes one UTF-8 character of p[0..n): its code point, with *len set
 * to the bytes it took; KL_CHARSET_CUT when p[0..n) is the valid start of
 * a longer sequence, KL_CHARSET_BAD when it is not UTF-8 (overlong forms,
 * surrogates and values past U+10FFFF are not), with *len the bytes of
 * its maximal subpart.
 */
#define KL_CHARSET_CUT 0xfffffffe
#define KL_CHARSET_BAD 0xffffffff

uint32_t kl_charset_utf8_decode(const u_char *p, size_t n, size_t *len);

#endif /* KL_CHARSET_RECODE_H */
