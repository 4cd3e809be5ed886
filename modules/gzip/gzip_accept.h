/* gzip_accept.h: whether a request may get gzip: the field tests (pure) and the confs of gzip and gzip_static. */

#ifndef KL_GZIP_ACCEPT_H
#define KL_GZIP_ACCEPT_H

#include "kl_http.h"

#define KL_HTTP_GZIP_PROXIED_OFF      0x0002
#define KL_HTTP_GZIP_PROXIED_EXPIRED  0x0004
#define KL_HTTP_GZIP_PROXIED_NO_CACHE 0x0008
#define KL_HTTP_GZIP_PROXIED_NO_STORE 0x0010
#define KL_HTTP_GZIP_PROXIED_PRIVATE  0x0020
#define KL_HTTP_GZIP_PROXIED_NO_LM    0x0040
#define KL_HTTP_GZIP_PROXIED_NO_ETAG  0x0080
#define KL_HTTP_GZIP_PROXIED_AUTH     0x0100
#define KL_HTTP_GZIP_PROXIED_ANY      0x0200

/* The gzip filter's loc conf (gzip.c). */
typedef struct {
    kl_int_t    enable;
    kl_array_t *types; /* kl_str_t, lowercase; text/html first */
    kl_uint_t   any;   /* gzip_types * */
    ssize_t     min_length;
    kl_int_t    level;
    kl_bufs_t   bufs;
} kl_http_gzip_conf_t;

/*
 * gzip_vary, gzip_proxied, gzip_http_version and gzip_disable are
 * nginx's core directives, shared by gzip and gzip_static: their own
 * module (gzip_common.c) holds them, built when either is, so that
 * either builds without the other.
 */
typedef struct {
    kl_uint_t   http_version;
    kl_uint_t   proxied; /* KL_HTTP_GZIP_PROXIED_* bits */
    kl_int_t    vary;
    kl_array_t *disable; /* kl_regex_t * */
    kl_uint_t   disable_msie6;
    kl_uint_t   disable_set;
} kl_http_gzip_common_conf_t;

/* gzip_common.c: its loc conf is a kl_http_gzip_common_conf_t. */
extern kl_module_t kl_http_gzip_common_module;

/*
 * Whether an Accept-Encoding value accepts gzip, by nginx 1.22's rules
 * (ngx_http_gzip_ok): a "gzip" token, case-insensitive, at the start or
 * after ',' or ' ', then only spaces up to ',' or the end, or ";q=" with
 * a non-zero qvalue of at most three decimals. "x-gzip", "*" and
 * "identity" do not count, and the first "gzip" followed by anything else
 * refuses. 1 or 0; reads only [p, p + len).
 */
kl_uint_t kl_http_gzip_accept(const u_char *p, size_t len);

/*
 * nginx's qvalue of [p, last): 0..100 (hundredths as nginx counts them,
 * the digits after the point added up), 0 for a malformed value.
 */
kl_uint_t kl_http_gzip_quantity(const u_char *p, const u_char *last);

/*
 * Whether a User-Agent value is what "gzip_disable msie6" means, as
 * nginx decides it: "MSIE 4.", "MSIE 5." or "MSIE 6." without "SV1"
 * after it, and no "Opera" anywhere. 1 or 0.
 */
kl_uint_t kl_http_gzip_msie6(const u_char *p, size_t len);

/*
 * Whether a comma-separated field value (Cache-Control) has the directive
 * name (caseless) as an item of its own, followed only by spaces up to ','
 * or the end, as nginx's ngx_http_parse_multi_header_lines finds it
 * ("no-cache" but not "no-cache=x"). 1 or 0.
 */
kl_uint_t kl_http_gzip_directive(const u_char *p, size_t len,
                                 const u_char *name, size_t nlen);

/*
 * Whether r may get gzip under conf, as nginx's ngx_http_gzip_ok: a main
 * request whose Accept-Encoding takes gzip, not msie6 when that is
 * disabled, at least gzip_http_version, allowed by gzip_proxied when it
 * has a Via field, and matching no gzip_disable regex. KL_OK or
 * KL_DECLINED. Call it once the response's fields are set.
 */
kl_int_t kl_http_gzip_ok(kl_http_request_t          *r,
                         kl_http_gzip_common_conf_t *conf);

/*
 * "Vary: Accept-Encoding", once per response: gzip_static adds it when it
 * looks for FILE.gz, and the gzip filter may add it again for FILE.
 */
kl_int_t kl_http_gzip_vary(kl_http_request_t *r);

#endif /* KL_GZIP_ACCEPT_H */
