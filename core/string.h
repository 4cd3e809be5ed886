/* string.h: counted strings and the byte helpers every parser and printer uses. */

#ifndef KL_STRING_H
#define KL_STRING_H

#include "kl_config.h"
#include "kl_types.h"

typedef struct {
    size_t  len;
    u_char *data;
} kl_str_t;

typedef struct {
    kl_str_t key;
    kl_str_t value;
} kl_keyval_t;

#define kl_string(str)                                                         \
    {                                                                          \
        sizeof(str) - 1, (u_char *) str                                        \
    }
#define kl_null_string                                                         \
    {                                                                          \
        0, NULL                                                                \
    }
#define kl_str_set(str, text)                                                  \
    (str)->len = sizeof(text) - 1;                                             \
    (str)->data = (u_char *) text
#define kl_str_null(str)                                                       \
    (str)->len = 0;                                                            \
    (str)->data = NULL

#define kl_tolower(c) (u_char)((c >= 'A' && c <= 'Z') ? (c | 0x20) : c)
#define kl_toupper(c) (u_char)((c >= 'a' && c <= 'z') ? (c & ~0x20) : c)

#define kl_memzero(buf, n)     (void) memset(buf, 0, n)
#define kl_memcpy(dst, src, n) (void) memcpy(dst, src, n)
#define kl_cpymem(dst, src, n) (((u_char *) memcpy(dst, src, n)) + (n))
#define kl_strncmp(s1, s2, n)  strncmp((const char *) s1, (const char *) s2, n)
#define kl_strcmp(s1, s2)      strcmp((const char *) s1, (const char *) s2)
#define kl_strlen(s)           strlen((const char *) s)
#define kl_strchr(s1, c)       strchr((const char *) s1, (int) c)

/* Lowercase n bytes of src into dst (they may be the same buffer). */
void kl_strlow(u_char *dst, u_char *src, size_t n);

/* Copy at most n - 1 bytes and NUL-terminate; returns the end (the NUL). */
u_char *kl_cpystrn(u_char *dst, u_char *src, size_t n);

/* Duplicate src into pool memory, NUL-terminated; NULL on allocation failure. */
u_char *kl_pstrdup(kl_pool_t *pool, kl_str_t *src);

kl_int_t kl_strcasecmp(u_char *s1, u_char *s2);
kl_int_t kl_strncasecmp(u_char *s1, u_char *s2, size_t n);

/* Case-insensitive comparison of two counted strings of equal meaning. */
kl_int_t kl_str_eq_nocase(kl_str_t *a, kl_str_t *b);

/* Find needle (len n) in [s, last); NULL if absent. */
u_char *kl_strnstr(u_char *s, u_char *last, char *needle, size_t n);

/*
 * Decimal parsers for untrusted bytes: all digits, no sign, no overflow.
 * Return KL_ERROR (-1) on any violation, so callers need one check.
 */
kl_int_t kl_atoi(u_char *line, size_t n);
off_t    kl_atoof(u_char *line, size_t n);
ssize_t  kl_atosz(u_char *line, size_t n);
time_t   kl_atotm(u_char *line, size_t n);
kl_int_t kl_hextoi(u_char *line, size_t n);

/*
 * Formatted output into [buf, last), nginx's conversions:
 *   %V  kl_str_t *         %*s  size_t len, u_char *data     %s  char *
 *   %d %ud int/unsigned    %i %ui kl_int_t/kl_uint_t         %l %ul long
 *   %O  off_t              %T  time_t      %M  kl_msec_t      %z %uz ssize_t/size_t
 *   %p  pointer            %c  char        %xd %Xd hex        %%
 * Width with optional zero padding ("%04d") applies to the integer forms.
 * Never writes past last; returns the end of what was written (no NUL).
 */
u_char *kl_slprintf(u_char *buf, u_char *last, const char *fmt, ...);
u_char *kl_snprintf(u_char *buf, size_t max, const char *fmt, ...);
u_char *kl_vslprintf(u_char *buf, u_char *last, const char *fmt, va_list args);

/* HTTP-date (IMF-fixdate) of t, exactly 29 bytes; returns the end. */
u_char *kl_http_time(u_char *buf, time_t t);

/* n in decimal / lower-case hex, no padding; buf has room for 20 bytes. */
u_char *kl_sprint_uint(u_char *buf, uint64_t n);
u_char *kl_sprint_hex(u_char *buf, uint64_t n);

/* Parse an HTTP-date in any of RFC 9110's three forms; KL_ERROR if invalid. */
time_t kl_parse_http_time(u_char *value, size_t len);

#define KL_ESCAPE_URI  0
#define KL_ESCAPE_ARGS 1
#define KL_ESCAPE_HTML 2

/* Escape src into dst (or only count, when dst is NULL): returns bytes added. */
uintptr_t kl_escape_uri(u_char *dst, u_char *src, size_t size, kl_uint_t type);

/* HTML-escape &<>" ; with dst NULL returns the escaped length. */
size_t kl_escape_html(u_char *dst, u_char *src, size_t size);

/*
 * JSON string escape (RFC 8259 7), as nginx's ngx_escape_json: '"', '\\'
 * and control bytes (\n \r \t \b \f, else \u00xx). Returns the end;
 * kl_escape_json_len gives the escaped length without writing.
 */
u_char *kl_escape_json(u_char *dst, u_char *src, size_t size);
size_t  kl_escape_json_len(u_char *src, size_t size);

#endif /* KL_STRING_H */
