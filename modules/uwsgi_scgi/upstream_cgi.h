/*
 * upstream_cgi.h: what uwsgi_pass and scgi_pass share (upstream_cgi.c):
 * params as CGI variables, the peer named per request, and a response
 * that is CGI output (an optional HTTP/1.x status line, then fields with
 * Status: and Location:) ended by the close of the connection.
 */

#ifndef KL_HTTP_UPSTREAM_CGI_H
#define KL_HTTP_UPSTREAM_CGI_H

#include "kl_http.h"
#include "upstream.h"
#include "cgi_parse.h"


/* X_param NAME VALUE [if_not_empty] */
typedef kl_http_upstream_param_t kl_http_cgi_param_t;


/* The settings of a CGI-shaped protocol (uwsgi_*, scgi_*). */
typedef struct {
    kl_http_upstream_conf_t upstream;

    kl_http_complex_value_t *pass_value; /* X_pass with variables */

    /* X_param as written here; NULL: those of the level above */
    kl_array_t *params;
    /* lowercase names after "HTTP_" of the params, '_' kept: the request
     * fields they replace */
    kl_array_t *header_params;

    kl_int_t pass_request_headers;


    size_t busy_buffers_size_conf; /* as written; the default depends */
} kl_http_cgi_loc_conf_t;


/* One variable of the request: a param, or a request field as HTTP_*. */
typedef struct {
    kl_str_t key;
    kl_str_t value;
} kl_http_cgi_var_t;


/* The protocol's request builder: u->request_bufs from the variables. */
typedef kl_int_t (*kl_http_cgi_create_pt)(kl_http_request_t *r,
                                          kl_http_cgi_var_t *vars,
                                          kl_uint_t          nvars);


/* A protocol: how it builds its request and names its peers. */
typedef struct {
    kl_http_cgi_create_pt create;
    const char           *schema;     /* for logs: "uwsgi://" */
    const char           *prefix;     /* X_pass may start so ("": none) */
    const char           *tls_prefix; /* refused ("": none) */
} kl_http_cgi_proto_t;


typedef struct {
    kl_http_cgi_loc_conf_t    *conf;
    void                      *proto_conf; /* the module's loc conf */
    const kl_http_cgi_proto_t *proto;

    kl_http_cgi_head_t head;
    kl_table_elt_t    *status_field;

    /* X_request_buffering off: a view of each piece, reused */
    kl_buf_t   body_buf;
    kl_chain_t body_link;
} kl_http_cgi_ctx_t;


/*
 * The content handler's work: an upstream for r with the callbacks of
 * this file and proto's create to build the request, the peer
 * evaluated for a pass with variables, the body read or discarded. An
 * HTTP status, or KL_DONE.
 */
kl_int_t kl_http_cgi_handler(kl_http_request_t *r, kl_http_cgi_loc_conf_t *conf,
                             void                      *proto_conf,
                             const kl_http_cgi_proto_t *proto);

/*
 * X_pass ADDRESS: an upstream group (host:port, unix:PATH, a block's
 * name, after proto's prefix if any), or a value with variables
 * evaluated per request; handler becomes the location's content handler.
 */
char *kl_http_cgi_pass(kl_conf_t *cf, kl_http_cgi_loc_conf_t *conf,
                       kl_http_handler_pt         handler,
                       const kl_http_cgi_proto_t *proto);

/* X_param NAME VALUE [if_not_empty]: cmd->offset is that of the
 * kl_http_cgi_loc_conf_t in the module's conf. */
char *kl_http_cgi_param_slot(kl_conf_t *cf, kl_command_t *cmd, void *conf);

/* X_buffers NUMBER SIZE, into the kl_http_cgi_loc_conf_t at cmd->offset. */
char *kl_http_cgi_buffers_slot(kl_conf_t *cf, kl_command_t *cmd, void *conf);

/* For a protocol's create: copies of the buffered body's buffers linked
 * at *ll; nothing when the body is not passed or goes as it comes. */
kl_int_t kl_http_cgi_body(kl_http_request_t *r, kl_chain_t **ll);

/* X_pass's answer to a TLS scheme (suwsgi://), after "directive". */
#define KL_HTTP_CGI_NO_TLS                                                     \
    "is refused: TLS is not supported by this build of kiln"

/* create_loc_conf: every setting unset. */
void kl_http_cgi_conf_init(kl_http_cgi_loc_conf_t *conf);

/* merge_loc_conf, with prefix ("uwsgi") naming the directives in errors
 * and dir the default temp path; KL_CONF_OK or KL_CONF_ERROR. */
char *kl_http_cgi_merge_conf(kl_conf_t *cf, kl_http_cgi_loc_conf_t *conf,
                             kl_http_cgi_loc_conf_t *prev, const char *prefix,
                             const char *dir);

#endif /* KL_HTTP_UPSTREAM_CGI_H */
