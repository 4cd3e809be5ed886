/* proxy_http.h: the proxy module's confs, and its HTTP/1.x exchange (proxy_http.c). */

#ifndef KL_HTTP_PROXY_HTTP_H
#define KL_HTTP_PROXY_HTTP_H

#include "kl_http.h"
#include "upstream.h"
#include "proxy_cookie.h"

typedef struct {
    kl_http_upstream_conf_t upstream;

    kl_http_complex_value_t *url_value; /* proxy_pass with variables */

    kl_str_t  url;      /* as written */
    kl_str_t  host;     /* $proxy_host: "host[:port]" as in the URL */
    kl_str_t  port;     /* $proxy_port */
    kl_str_t  uri;      /* the URI part; len 0 without one */
    kl_str_t  location; /* the location's prefix */
    kl_uint_t http_version;
    kl_uint_t has_uri;


    kl_http_complex_value_t *method; /* proxy_method; NULL: the client's */

    /* proxy_set_header as written, then with the defaults merged in */
    kl_array_t *set_headers_conf; /* kl_http_proxy_header_t */
    kl_array_t *set_headers;
    kl_int_t    pass_request_headers;

    size_t busy_buffers_size_conf; /* as written; the default depends */

    kl_int_t    redirect;  /* 0: proxy_redirect off */
    kl_array_t *redirects; /* kl_http_proxy_redirect_t, tried in order */

    kl_http_complex_value_t *body; /* proxy_set_body; NULL: the client's */

    /* proxy_cookie_domain, _path (kl_http_proxy_cookie_rewrite_t) and
     * _flags (kl_http_proxy_cookie_flags_t); NULL: none, or off */
    kl_array_t *cookie_domains;
    kl_array_t *cookie_paths;
    kl_array_t *cookie_flags;
} kl_http_proxy_loc_conf_t;


/* proxy_redirect PREFIX REPLACEMENT: a URL starting so is rewritten;
 * proxy_redirect ~REGEX REPLACEMENT: a URL it matches is replaced whole,
 * the replacement taking its captures. */
typedef struct {
    kl_http_complex_value_t *pattern; /* NULL with a regex */
    kl_http_regex_t         *regex;
    kl_http_complex_value_t *replacement;
} kl_http_proxy_redirect_t;


/* A field proxy_set_header sets: an empty value leaves it out. */
typedef struct {
    kl_str_t                 key;
    kl_http_complex_value_t *value;
} kl_http_proxy_header_t;


typedef struct {
    kl_http_proxy_loc_conf_t *conf;
    kl_http_status_line_t     status;
    kl_http_parse_t           parse;
    kl_http_chunked_t         chunked;
    kl_uint_t                 head_state; /* 0 status line, 1 fields */
    /* proxy_pass with variables: its value for this request */
    kl_str_t host;   /* $proxy_host */
    kl_str_t port;   /* $proxy_port */
    kl_str_t uri;    /* the URI part, sent as is; or none */
    unsigned head:1; /* the method sent is HEAD */
    /* proxy_request_buffering off: a piece's framing, reused for each:
     * the chunk-size line, the data, the CRLF and the last chunk */
    kl_buf_t   body_bufs[3];
    kl_chain_t body_links[3];
    u_char     body_chunk[sizeof("ffffffffffffffff\r\n")];
} kl_http_proxy_ctx_t;


/* The upstream callbacks of proxy_pass (see upstream.h); r's module ctx
 * is a kl_http_proxy_ctx_t whose conf is the location's. */
kl_int_t kl_http_proxy_create_request(kl_http_request_t *r);
kl_int_t kl_http_proxy_reinit_request(kl_http_request_t *r);
kl_int_t kl_http_proxy_process_header(kl_http_request_t *r);
kl_int_t kl_http_proxy_input_filter_init(kl_http_request_t *r);
kl_int_t kl_http_proxy_input_filter(kl_http_request_t *r, kl_buf_t *b);
kl_int_t kl_http_proxy_body_frame(kl_http_request_t *r, kl_buf_t *b,
                                  kl_uint_t last, kl_chain_t **out);
kl_int_t kl_http_proxy_rewrite_redirect(kl_http_request_t *r, kl_table_elt_t *h,
                                        size_t prefix);
kl_int_t kl_http_proxy_rewrite_cookie(kl_http_request_t *r, kl_table_elt_t *h);

#endif /* KL_HTTP_PROXY_HTTP_H */
