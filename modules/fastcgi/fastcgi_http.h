/* fastcgi_http.h: the FastCGI module's confs, and its exchange with a responder (fastcgi_http.c). */

#ifndef KL_HTTP_FASTCGI_HTTP_H
#define KL_HTTP_FASTCGI_HTTP_H

#include "kl_http.h"
#include "upstream.h"
#include "fastcgi_parse.h"


/* fastcgi_param NAME VALUE [if_not_empty] */
typedef kl_http_upstream_param_t kl_http_fastcgi_param_t;


typedef struct {
    kl_http_upstream_conf_t  upstream;
    kl_http_complex_value_t *pass_value; /* fastcgi_pass with variables */

    /* fastcgi_param as written here; NULL: those of the level above */
    kl_array_t *params;
    /* lowercase names after "HTTP_" of the params, '_' kept: the request
     * fields they replace */
    kl_array_t *header_params;

    kl_str_t         index;       /* fastcgi_index */
    kl_http_regex_t *split_regex; /* fastcgi_split_path_info */
    kl_int_t         keep_conn;
    kl_int_t         pass_request_headers;

    kl_array_t *catch_stderr; /* kl_str_t: fastcgi_catch_stderr */


    size_t busy_buffers_size_conf; /* as written; the default depends */
} kl_http_fastcgi_loc_conf_t;


typedef struct {
    kl_http_fastcgi_loc_conf_t *conf;

    /* fastcgi_split_path_info's result, computed once per request */
    kl_str_t script_name;
    kl_str_t path_info;

    kl_fastcgi_parse_t record;
    kl_http_parse_t    parse;

    /* The end of the decoded STDOUT bytes in u->buffer while the head
     * is read: raw bytes read later start there. */
    u_char *decoded;

    kl_table_elt_t *status; /* the Status field, if any */

    off_t rest; /* body bytes Content-Length still allows; -1: no limit */

    /* fastcgi_request_buffering off: a STDIN record's header, data and
     * padding (then the empty record at the end), reused for each */
    kl_buf_t   body_bufs[3];
    kl_chain_t body_links[3];
    u_char     body_head[8];
    u_char     body_tail[7 + 8];

    unsigned split:1;       /* script_name and path_info are set */
    unsigned stdout_done:1; /* the empty STDOUT record came */
    unsigned end_request:1; /* END_REQUEST came */
} kl_http_fastcgi_ctx_t;


#define KL_HTTP_FASTCGI_RECORD_MAX 32768 /* content bytes per record sent */


/* The upstream callbacks of fastcgi_pass (see upstream.h); the upstream's
 * input_filter_ctx is r's kl_http_fastcgi_ctx_t, whose conf is set. */
kl_int_t kl_http_fastcgi_create_request(kl_http_request_t *r);
kl_int_t kl_http_fastcgi_reinit_request(kl_http_request_t *r);
kl_int_t kl_http_fastcgi_process_header(kl_http_request_t *r);
kl_int_t kl_http_fastcgi_input_filter_init(kl_http_request_t *r);
kl_int_t kl_http_fastcgi_input_filter(kl_http_request_t *r, kl_buf_t *b);
kl_int_t kl_http_fastcgi_body_frame(kl_http_request_t *r, kl_buf_t *b,
                                    kl_uint_t last, kl_chain_t **out);

#endif /* KL_HTTP_FASTCGI_HTTP_H */
