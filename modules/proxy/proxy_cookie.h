/* proxy_cookie.h: proxy_cookie_domain, proxy_cookie_path and proxy_cookie_flags: Set-Cookie fields from the peer, rewritten (proxy_cookie.c). */

#ifndef KL_HTTP_PROXY_COOKIE_H
#define KL_HTTP_PROXY_COOKIE_H

#include "kl_http.h"

/* proxy_cookie_flags: what each flag does to a cookie. */
#define KL_HTTP_PROXY_COOKIE_SECURE          0x0001
#define KL_HTTP_PROXY_COOKIE_NOSECURE        0x0002
#define KL_HTTP_PROXY_COOKIE_HTTPONLY        0x0004
#define KL_HTTP_PROXY_COOKIE_NOHTTPONLY      0x0008
#define KL_HTTP_PROXY_COOKIE_SAMESITE_STRICT 0x0010
#define KL_HTTP_PROXY_COOKIE_SAMESITE_LAX    0x0020
#define KL_HTTP_PROXY_COOKIE_SAMESITE_NONE   0x0040
#define KL_HTTP_PROXY_COOKIE_NOSAMESITE      0x0080
#define KL_HTTP_PROXY_COOKIE_SAMESITE        0x0070

/* One attribute of a Set-Cookie value, "key=value" or "key", trimmed;
 * the first is the cookie's name and value. */
typedef struct {
    kl_str_t  key;
    kl_str_t  value;
    kl_uint_t has_value; /* there was an '=' */
} kl_http_proxy_cookie_attr_t;

/* proxy_cookie_domain / _path FROM TO: a text (with variables) or a
 * regex, and its replacement. */
typedef struct {
    kl_http_complex_value_t *pattern; /* NULL with a regex */
    kl_http_regex_t         *regex;
    kl_http_complex_value_t *replacement;
} kl_http_proxy_cookie_rewrite_t;

/* proxy_cookie_flags NAME FLAG...: NAME a text (with variables) or a
 * regex, "~" (without case, as nginx); the flags as written, each a
 * complex value (a variable's value is read as a flag per request). */
typedef struct {
    kl_http_complex_value_t *name; /* NULL with a regex */
    kl_http_regex_t         *regex;
    kl_array_t              *flags; /* kl_http_complex_value_t */
} kl_http_proxy_cookie_flags_t;

/*
 * Split the Set-Cookie value [p, last) at each ';' into attrs (room for
 * as many as there are ';' plus one), each trimmed of spaces and tabs,
 * and split at its first '='. Returns the number of attributes, or
 * KL_ERROR when the first has no '=' (not a cookie: left alone, as
 * nginx). Pure: the attributes are views of the input.
 */
kl_int_t kl_http_proxy_cookie_split(u_char *p, u_char *last,
                                    kl_http_proxy_cookie_attr_t *attrs);

/* A flag's text as a KL_HTTP_PROXY_COOKIE_* bit, or 0 if unknown. */
kl_uint_t kl_http_proxy_cookie_flag(kl_str_t *text);

/*
 * Apply the flags bits to attrs[0, *n): secure and httponly are added at
 * the end when missing ("Secure", "HttpOnly"), samesite=X sets the
 * value of a SameSite attribute or adds one, the no* bits remove every
 * attribute of that name. attrs has room for *n + 3. Pure.
 */
void kl_http_proxy_cookie_set_flags(kl_http_proxy_cookie_attr_t *attrs,
                                    kl_uint_t *n, kl_uint_t flags);

/* The attributes joined with "; " into buf (room for
 * kl_http_proxy_cookie_len()); returns the end. Pure. */
size_t  kl_http_proxy_cookie_len(kl_http_proxy_cookie_attr_t *attrs,
                                 kl_uint_t                    n);
u_char *kl_http_proxy_cookie_join(u_char                      *buf,
                                  kl_http_proxy_cookie_attr_t *attrs,
                                  kl_uint_t                    n);

/* Directive setters: proxy_cookie_domain and _path onto the
 * kl_array_t * (of kl_http_proxy_cookie_rewrite_t) at cmd->offset,
 * proxy_cookie_flags onto one of kl_http_proxy_cookie_flags_t; "off"
 * sets NULL. */
char *kl_http_proxy_cookie_rewrite_slot(kl_conf_t *cf, kl_command_t *cmd,
                                        void *conf);
char *kl_http_proxy_cookie_flags_slot(kl_conf_t *cf, kl_command_t *cmd,
                                      void *conf);

/*
 * Rewrite the Set-Cookie field h by the rules (each array may be NULL):
 * the first domain rule and the first path rule that match, then the
 * flags of the first flags rule whose name matches. h->value is
 * replaced (a pool copy) when a rule applied. KL_OK or KL_ERROR.
 */
kl_int_t kl_http_proxy_cookie_rewrite(kl_http_request_t *r, kl_table_elt_t *h,
                                      kl_array_t *domains, kl_array_t *paths,
                                      kl_array_t *flags);

#endif /* KL_HTTP_PROXY_COOKIE_H */
