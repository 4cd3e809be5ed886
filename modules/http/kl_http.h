/* kl_http.h: the HTTP engine's umbrella: module interface, confs, request, phases, filters. */

#ifndef KL_HTTP_H
#define KL_HTTP_H

#include "kl_core.h"
#include "parse.h"

typedef struct kl_http_request_s        kl_http_request_t;
typedef struct kl_http_core_loc_conf_s  kl_http_core_loc_conf_t;
typedef struct kl_http_core_srv_conf_s  kl_http_core_srv_conf_t;
typedef struct kl_http_phase_handler_s  kl_http_phase_handler_t;
typedef struct kl_table_elt_s           kl_table_elt_t;
typedef struct kl_http_variable_value_s kl_http_variable_value_t;
typedef struct kl_http_request_body_s   kl_http_request_body_t;
typedef struct kl_http_regex_s          kl_http_regex_t;
typedef struct kl_http_upstream_s       kl_http_upstream_t;
typedef struct kl_http_postponed_s      kl_http_postponed_request_t;
typedef struct kl_http_posted_s         kl_http_posted_request_t;

/* Status codes the engine names; any 100..599 may be returned. */
#define KL_HTTP_CONTINUE                 100
#define KL_HTTP_OK                       200
#define KL_HTTP_CREATED                  201
#define KL_HTTP_NO_CONTENT               204
#define KL_HTTP_PARTIAL_CONTENT          206
#define KL_HTTP_SPECIAL_RESPONSE         300
#define KL_HTTP_MOVED_PERMANENTLY        301
#define KL_HTTP_MOVED_TEMPORARILY        302
#define KL_HTTP_SEE_OTHER                303
#define KL_HTTP_NOT_MODIFIED             304
#define KL_HTTP_TEMPORARY_REDIRECT       307
#define KL_HTTP_PERMANENT_REDIRECT       308
#define KL_HTTP_BAD_REQUEST              400
#define KL_HTTP_UNAUTHORIZED             401
#define KL_HTTP_FORBIDDEN                403
#define KL_HTTP_NOT_FOUND                404
#define KL_HTTP_NOT_ALLOWED              405
#define KL_HTTP_REQUEST_TIME_OUT         408
#define KL_HTTP_CONFLICT                 409
#define KL_HTTP_LENGTH_REQUIRED          411
#define KL_HTTP_PRECONDITION_FAILED      412
#define KL_HTTP_REQUEST_ENTITY_TOO_LARGE 413
#define KL_HTTP_REQUEST_URI_TOO_LARGE    414
#define KL_HTTP_UNSUPPORTED_MEDIA_TYPE   415
#define KL_HTTP_RANGE_NOT_SATISFIABLE    416
#define KL_HTTP_MISDIRECTED_REQUEST      421
#define KL_HTTP_TOO_MANY_REQUESTS        429
#define KL_HTTP_REQUEST_HEADER_TOO_LARGE 431
/* nginx's own codes, sent as 400 with a page saying why (error_page
 * may catch them by these numbers). */
#define KL_HTTP_REQUEST_HEADER_OR_COOKIE_TOO_LARGE 494
#define KL_HTTPS_CERT_ERROR                        495
#define KL_HTTPS_NO_CERT                           496
#define KL_HTTP_TO_HTTPS                           497
/* nginx's "close without a response" (return 444). */
#define KL_HTTP_CLOSE 444
/* Not sent: the client went away; logged as nginx logs it. */
#define KL_HTTP_CLIENT_CLOSED_REQUEST 499
#define KL_HTTP_INTERNAL_SERVER_ERROR 500
#define KL_HTTP_NOT_IMPLEMENTED       501
#define KL_HTTP_BAD_GATEWAY           502
#define KL_HTTP_SERVICE_UNAVAILABLE   503
#define KL_HTTP_GATEWAY_TIME_OUT      504
#define KL_HTTP_VERSION_NOT_SUPPORTED 505

#define KL_HTTP_LC_HEADER_LEN         32
#define KL_HTTP_MAX_URI_CHANGES       10
#define KL_HTTP_DISCARD_BUFFER_SIZE   4096
#define KL_HTTP_LINGERING_BUFFER_SIZE 4096

/* Why output is held back (c->buffered style bits on the request). */
#define KL_HTTP_WRITE_BUFFERED 0x10

/* The three conf arrays of a block: what a directive's conf offset picks. */
typedef struct {
    void **main_conf;
    void **srv_conf;
    void **loc_conf;
} kl_http_conf_ctx_t;

#define KL_HTTP_MAIN_CONF_OFFSET offsetof(kl_http_conf_ctx_t, main_conf)
#define KL_HTTP_SRV_CONF_OFFSET  offsetof(kl_http_conf_ctx_t, srv_conf)
#define KL_HTTP_LOC_CONF_OFFSET  offsetof(kl_http_conf_ctx_t, loc_conf)

/* An HTTP module's hooks; unset ones are NULL. */
typedef struct {
    kl_int_t (*preconfiguration)(kl_conf_t *cf);
    kl_int_t (*postconfiguration)(kl_conf_t *cf);

    void *(*create_main_conf)(kl_conf_t *cf);
    char *(*init_main_conf)(kl_conf_t *cf, void *conf);

    void *(*create_srv_conf)(kl_conf_t *cf);
    char *(*merge_srv_conf)(kl_conf_t *cf, void *prev, void *conf);

    void *(*create_loc_conf)(kl_conf_t *cf);
    char *(*merge_loc_conf)(kl_conf_t *cf, void *prev, void *conf);
} kl_http_module_t;

#define kl_http_get_module_main_conf(r, module)                                \
    (r)->main_conf[(module).ctx_index]
#define kl_http_get_module_srv_conf(r, module) (r)->srv_conf[(module).ctx_index]
#define kl_http_get_module_loc_conf(r, module) (r)->loc_conf[(module).ctx_index]
#define kl_http_get_module_ctx(r, module)      (r)->ctx[(module).ctx_index]
#define kl_http_set_ctx(r, c, module)          (r)->ctx[(module).ctx_index] = c

#define kl_http_conf_get_module_main_conf(cf, module)                          \
    ((kl_http_conf_ctx_t *) (cf)->ctx)->main_conf[(module).ctx_index]
#define kl_http_conf_get_module_srv_conf(cf, module)                           \
    ((kl_http_conf_ctx_t *) (cf)->ctx)->srv_conf[(module).ctx_index]
#define kl_http_conf_get_module_loc_conf(cf, module)                           \
    ((kl_http_conf_ctx_t *) (cf)->ctx)->loc_conf[(module).ctx_index]

/* A header field; hash 0 marks one deleted or to be ignored. */
struct kl_table_elt_s {
    kl_uint_t       hash;
    kl_str_t        key;
    kl_str_t        value;
    u_char         *lowcase_key;
    kl_table_elt_t *next; /* the next field with the same name */
};

#define KL_HTTP_CONNECTION_CLOSE      1
#define KL_HTTP_CONNECTION_KEEP_ALIVE 2

typedef struct {
    kl_list_t headers;

    kl_table_elt_t *host;
    kl_table_elt_t *connection;
    kl_table_elt_t *if_modified_since;
    kl_table_elt_t *if_unmodified_since;
    kl_table_elt_t *if_match;
    kl_table_elt_t *if_none_match;
    kl_table_elt_t *user_agent;
    kl_table_elt_t *referer;
    kl_table_elt_t *content_length;
    kl_table_elt_t *content_type;
    kl_table_elt_t *range;
    kl_table_elt_t *if_range;
    kl_table_elt_t *transfer_encoding;
    kl_table_elt_t *te;
    kl_table_elt_t *expect;
    kl_table_elt_t *upgrade;
    kl_table_elt_t *accept_encoding;
    kl_table_elt_t *authorization;
    kl_table_elt_t *keep_alive;
    kl_table_elt_t *cookie;
    kl_table_elt_t *x_forwarded_for;

    kl_str_t server; /* Host, lowercased, without port */
    off_t    content_length_n;

    kl_uint_t count; /* field lines read, for max_headers */

    unsigned connection_type:2;
    unsigned chunked:1;
} kl_http_headers_in_t;

typedef struct {
    kl_list_t headers;
    kl_list_t trailers;

    kl_uint_t status;
    kl_str_t  status_line;

    kl_table_elt_t *server;
    kl_table_elt_t *date;
    kl_table_elt_t *content_length;
    kl_table_elt_t *content_encoding;
    kl_table_elt_t *location;
    kl_table_elt_t *last_modified;
    kl_table_elt_t *accept_ranges;
    kl_table_elt_t *etag;

    kl_str_t content_type;
    kl_str_t charset;
    kl_str_t override_charset; /* a peer's X-Accel-Charset */
    size_t   content_type_len; /* without "; charset=" */

    off_t  content_length_n;
    time_t last_modified_time;
} kl_http_headers_out_t;

/* Per-connection HTTP/1 state; it outlives the requests on a keep-alive one. */
typedef struct kl_http_addr_conf_s kl_http_addr_conf_t;

/*
 * What the PROXY protocol header of a connection said (listen ...
 * proxy_protocol), in one block of its own that lives as long as the
 * connection: the strings follow the struct.
 */
typedef struct {
    kl_str_t  src_addr;
    kl_str_t  dst_addr;
    in_port_t src_port;
    in_port_t dst_port;
    kl_str_t  tlvs; /* v2, raw */
} kl_http_proxy_protocol_t;

typedef struct {
    kl_http_addr_conf_t *addr_conf;
    kl_http_conf_ctx_t  *conf_ctx; /* the default server's */

    kl_buf_t **busy; /* large header buffers in use */
    kl_uint_t  nbusy;
    kl_buf_t **free; /* and kept for reuse */
    kl_uint_t  nfree;

    kl_msec_t start_msec; /* for keepalive_time */

    kl_http_proxy_protocol_t *proxy_protocol; /* NULL: none, or no address */

    /* the request being answered: its lingering close or discarded
     * body's deadline, and a discarded body's framing */
    kl_msec_t         lingering_deadline;
    off_t             discard_left; /* Content-Length bodies */
    kl_http_chunked_t discard_chunked;
} kl_http_connection_t;

typedef void (*kl_http_event_handler_pt)(kl_http_request_t *r);
typedef kl_int_t (*kl_http_handler_pt)(kl_http_request_t *r);

/*
 * The protocol a request came by (r->proto, set by the protocol that
 * made the request): all that depends on how the connection frames
 * bytes. HTTP/1 fills it in v1/ (kl_http_v1_proto); docs/architecture.md
 * says what each member is under HTTP/2, where a stream is a request.
 */
typedef struct {
    /* the last header filter: serialise r->headers_out and hand it on */
    kl_int_t (*send_header)(kl_http_request_t *r);

    /* the end of the write filter: send at most limit bytes of in (0: no
     * limit); what is left, NULL when all went, or KL_CHAIN_ERROR */
    kl_chain_t *(*send_chain)(kl_http_request_t *r, kl_chain_t *in,
                              off_t limit);

    /* body bytes (the framing taken off) appended at b->last, never past
     * b->end: KL_OK at the body's end, KL_AGAIN (b full, or nothing more
     * yet), 400 (bad framing; the client gone, c->error), 413 */
    kl_int_t (*read_body)(kl_http_request_t *r, kl_buf_t *b);

    /* the body nobody reads, dropped (r->discarding while it takes time,
     * the request held): KL_OK, or a status to answer */
    kl_int_t (*discard_body)(kl_http_request_t *r);

    /* "100 Continue" to a client that waits for it: KL_OK, KL_ERROR */
    kl_int_t (*send_continue)(kl_http_request_t *r);

    /* A 101 head with these fields (hash 0: left out), queued in r->out
     * for the writer, and the bytes the client sent after its request
     * (already read by the protocol) moved to preread, as many as fit:
     * KL_OK, KL_ERROR, or KL_DECLINED when the protocol cannot switch
     * (HTTP/2) */
    kl_int_t (*switch_protocols)(kl_http_request_t *r, kl_str_t *status_line,
                                 kl_list_t *fields, kl_buf_t *preread);

    /* r's main request is done (others may still hold it): once it is
     * alone, keep the connection for the next request (keep-alive,
     * pipelining) or close it (lingering); HTTP/2 ends the stream */
    void (*finalize)(kl_http_request_t *r);

    /* the last reference went: free r (kl_http_free_request, rc as it
     * logs) and what carried it (v1: the connection) */
    void (*close)(kl_http_request_t *r, kl_int_t rc);
} kl_http_proto_t;

/* The connection's log context: its client, and the request running. */
typedef struct {
    kl_connection_t   *connection;
    kl_http_request_t *request;
} kl_http_log_ctx_t;

/*
 * Called as a subrequest finalises, with the rc it finalises with (it
 * may be called more than once: an error page finalises again); it
 * returns the rc to go on with.
 */
typedef kl_int_t (*kl_http_post_subrequest_pt)(kl_http_request_t *r, void *data,
                                               kl_int_t rc);

typedef struct {
    kl_http_post_subrequest_pt handler;
    void                      *data;
} kl_http_post_subrequest_t;

/* A parent's output in order: a child request, or data held for later. */
struct kl_http_postponed_s {
    kl_http_request_t           *request;
    kl_chain_t                  *out;
    kl_http_postponed_request_t *next;
};

/* A request whose write handler is to run (subrequest.c). */
struct kl_http_posted_s {
    kl_http_request_t        *request;
    kl_http_posted_request_t *next;
};

/* kl_http_subrequest's flags, as nginx's NGX_HTTP_SUBREQUEST_*. */
#define KL_HTTP_SUBREQUEST_IN_MEMORY  2  /* the body kept in sr->out */
#define KL_HTTP_SUBREQUEST_WAITED     4  /* done even if not yet active */
#define KL_HTTP_SUBREQUEST_BACKGROUND 16 /* the parent does not wait */

/* nginx's limit on subrequest nesting ("subrequests cycle"). */
#define KL_HTTP_MAX_SUBREQUESTS 50

struct kl_http_request_s {
    kl_connection_t       *connection;
    const kl_http_proto_t *proto;

    void **ctx;
    void **main_conf;
    void **srv_conf;
    void **loc_conf;

    kl_http_event_handler_pt read_event_handler;
    kl_http_event_handler_pt write_event_handler;

    kl_http_connection_t *http_connection;
    kl_pool_t            *pool;
    kl_buf_t             *header_in;

    kl_http_headers_in_t  headers_in;
    kl_http_headers_out_t headers_out;

    time_t    start_sec;
    kl_msec_t start_msec;

    kl_uint_t method;
    kl_uint_t http_version;

    kl_str_t request_line;
    kl_str_t uri; /* decoded, normalised path */
    kl_str_t args;
    kl_str_t exten;
    kl_str_t unparsed_uri; /* the target as sent */
    kl_str_t method_name;
    kl_str_t http_protocol;
    kl_str_t schema;

    kl_chain_t        *out; /* unsent output; an in-memory child's body */
    kl_http_request_t *main;
    kl_http_request_t *parent; /* NULL for the main request */

    /* subrequest.c: children and output in order, and what runs next */
    kl_http_postponed_request_t *postponed;
    kl_http_post_subrequest_t   *post_subrequest;
    kl_http_posted_request_t    *posted_requests; /* the main's */
    kl_event_t                  *posted_event;    /* the main's, lazily */
    kl_uint_t                   *posted_gone;     /* set as the main is freed */

    kl_http_parse_t parse;

    kl_int_t           phase_handler;
    kl_http_handler_pt content_handler;
    kl_uint_t          access_code;
    kl_uint_t          err_status;

    off_t request_length;

    /* variables.c: values by index, computed on first use */
    kl_http_variable_value_t *variables;

    /* regex.c: the last match's offsets and subject, for $1..$9 */
    int      *captures;
    kl_uint_t ncaptures;
    kl_uint_t captures_size;
    u_char   *captures_data;

    /* body.c: the request body, once a handler asked to read it */
    kl_http_request_body_t *request_body;

    /* upstream.c: the exchange with a peer (proxy_pass), if any */
    kl_http_upstream_t *upstream;

    /* core_limits.c: bytes a second (0: none), and after how many */
    size_t limit_rate;
    size_t limit_rate_after;

    unsigned count:16; /* references, as nginx's */
    unsigned uri_changes:4;
    unsigned buffered:8;

    unsigned keepalive:1;
    unsigned pipeline:1; /* came pipelined after another ($pipe) */
    unsigned lingering_close:1;
    unsigned internal:1;
    unsigned error_page:1;
    unsigned header_only:1;
    unsigned header_sent:1;
    unsigned valid_location:1;
    unsigned valid_unparsed_uri:1;
    unsigned uri_changed:1;
    unsigned done:1;
    unsigned logged:1;
    unsigned chunked:1;
    unsigned expect_tested:1;
    unsigned has_body:1;        /* a body not yet read */
    unsigned discarding:1;      /* reading it to drop it */
    unsigned allow_ranges:1;    /* the content handler can serve ranges */
    unsigned expect_trailers:1; /* add_trailer: the body goes chunked */
    unsigned terminated:1;
    unsigned stat_reading:1; /* counted in kl_stat_t reading */
    unsigned stat_writing:1; /* counted in kl_stat_t writing */
    /* a filter (gzip) needs the body in memory, not file buffers */
    unsigned filter_need_in_memory:1;
    unsigned gzip_vary:1; /* "Vary: Accept-Encoding" is in headers_out */
    /* the body is handed over as it comes, not gathered (body.c) */
    unsigned request_body_no_buffering:1;
    unsigned limit_rate_set:1; /* from the conf or "set $limit_rate" */
    unsigned limit_rate_after_set:1;
    unsigned subrequest_depth:6; /* 0 for the main request */
    unsigned subrequest_in_memory:1;
    unsigned waited:1;
    unsigned background:1;
    /* header_filter.c made headers_out.location absolute (hash 0): the
     * protocol writes it with the head's own fields */
    unsigned location_absolute:1;
    /* the limit_req and limit_conn verdicts of the main request, kept
     * across internal redirects (its ctx is not): nonzero once decided */
    unsigned limit_req_status:3;
    unsigned limit_conn_status:2;
};

/* Phases, in the order requests go through them (DESIGN.md section 6). */
typedef enum {
    KL_HTTP_POST_READ_PHASE = 0,
    KL_HTTP_SERVER_REWRITE_PHASE,
    KL_HTTP_FIND_CONFIG_PHASE,
    KL_HTTP_REWRITE_PHASE,
    KL_HTTP_POST_REWRITE_PHASE,
    KL_HTTP_PREACCESS_PHASE,
    KL_HTTP_ACCESS_PHASE,
    KL_HTTP_POST_ACCESS_PHASE,
    KL_HTTP_PRECONTENT_PHASE,
    KL_HTTP_CONTENT_PHASE,
    KL_HTTP_LOG_PHASE
} kl_http_phases_e;

typedef kl_int_t (*kl_http_phase_handler_pt)(kl_http_request_t       *r,
                                             kl_http_phase_handler_t *ph);

struct kl_http_phase_handler_s {
    kl_http_phase_handler_pt checker;
    kl_http_handler_pt       handler;
    kl_int_t                 next; /* the first handler of the next phase */
};

typedef struct {
    kl_http_phase_handler_t *handlers;
    kl_uint_t                server_rewrite_index;
    kl_uint_t                location_rewrite_index;
} kl_http_phase_engine_t;

typedef kl_int_t (*kl_http_output_header_filter_pt)(kl_http_request_t *r);
typedef kl_int_t (*kl_http_output_body_filter_pt)(kl_http_request_t *r,
                                                  kl_chain_t        *chain);

/* Where a listen directive's options are kept until sockets are made. */
typedef struct {
    kl_sockaddr_t sockaddr;
    socklen_t     socklen;
    kl_str_t      addr_text;
    int           backlog;
    int           rcvbuf;
    int           sndbuf;
    int           fastopen;
    int           keepidle;
    int           keepintvl;
    int           keepcnt;
    unsigned      set:1;
    unsigned      default_server:1;
    unsigned      bind:1;
    unsigned      wildcard:1;
    unsigned      ipv6only:1;
    unsigned      reuseport:1;
    unsigned      deferred_accept:1;
    unsigned      keepalive:2;
    unsigned      ssl:1; /* listen ... ssl */
    unsigned      proxy_protocol:1;
} kl_http_listen_opt_t;

typedef struct {
    kl_str_t                 name; /* lowercased; "*.x", "x.*", ".x" */
    kl_http_core_srv_conf_t *server;
    kl_http_regex_t         *regex; /* "~pattern" names */
} kl_http_server_name_t;

/* The servers reachable through one address, and which is the default. */
struct kl_http_addr_conf_s {
    kl_http_core_srv_conf_t *default_server;
    kl_array_t               names; /* kl_http_server_name_t */
    unsigned                 default_explicit:1;
    unsigned                 ssl:1; /* a listen of it says ssl: TLS first */
    unsigned                 proxy_protocol:1; /* any listen of it says so */
};

typedef struct {
    kl_sockaddr_t       sockaddr;
    socklen_t           socklen;
    kl_http_addr_conf_t conf;
} kl_http_in_addr_t;

/* ls->servers: the addresses a (possibly wildcard) socket serves. */
typedef struct {
    kl_http_in_addr_t *addrs;
    kl_uint_t          naddrs;
} kl_http_port_t;

/* Collected at parse time: one listen of one server. */
typedef struct {
    kl_http_listen_opt_t     opt;
    kl_http_core_srv_conf_t *server;
} kl_http_listen_t;

typedef struct {
    kl_array_t servers; /* kl_http_core_srv_conf_t * */
    kl_array_t listens; /* kl_http_listen_t */

    kl_http_phase_engine_t phase_engine;
    kl_array_t             phases[KL_HTTP_LOG_PHASE + 1];

    kl_http_output_header_filter_pt top_header_filter;
    kl_http_output_body_filter_pt   top_body_filter;

    kl_uint_t server_names_hash_max_size;
    kl_uint_t server_names_hash_bucket_size;
    kl_uint_t types_hash_max_size;
    kl_uint_t types_hash_bucket_size;
    kl_uint_t variables_hash_max_size;
    kl_uint_t variables_hash_bucket_size;
} kl_http_core_main_conf_t;

typedef struct {
    size_t num;
    size_t size;
} kl_bufs_t;

struct kl_http_core_srv_conf_s {
    kl_array_t          server_names; /* kl_http_server_name_t */
    kl_http_conf_ctx_t *ctx;
    u_char             *file_name;
    kl_uint_t           line;
    kl_str_t            server_name; /* the first one */

    size_t    connection_pool_size;
    size_t    request_pool_size;
    size_t    client_header_buffer_size;
    kl_bufs_t large_client_header_buffers;
    kl_msec_t client_header_timeout;

    kl_int_t ignore_invalid_headers;
    kl_int_t merge_slashes;
    kl_int_t underscores_in_headers;

    kl_uint_t max_headers; /* request field lines at most */

    /*
     * The server's TLS context, set by the ssl module (modules/ssl/) when
     * the server has a certificate or ssl_reject_handshake on; NULL else.
     * A listen ... ssl address hands its connections to its default
     * server's, and SNI switches to the named server's.
     */
    kl_ssl_t *ssl;

    unsigned listen:1;
    unsigned ssl_enable:1; /* "ssl on" (nginx 1.22): as listen ... ssl */
};

/* error_page CODE ... [=[RESPONSE]] URI */
typedef struct {
    kl_int_t status;
    kl_int_t overwrite; /* -1: keep the code; 0: "=", the page's own */
    kl_str_t uri;       /* "/x", "@name" or a URL */
    kl_str_t args;

    /* A URI with variables: a kl_http_complex_value_t (variables.h comes
     * later), evaluated per error, uri and args then unused; NULL for a
     * constant one. */
    void *value;
} kl_http_err_page_t;

typedef struct {
    kl_str_t exten;
    kl_str_t type;
} kl_http_type_t;

struct kl_http_core_loc_conf_s {
    kl_str_t                 name; /* the location's URI */
    kl_http_core_loc_conf_t *parent;
    kl_array_t              *locations; /* nested, kl_http_core_loc_conf_t * */
    void                   **loc_conf;  /* this location's conf array */

    kl_http_regex_t *regex;           /* "~" and "~*" locations */
    kl_array_t      *regex_locations; /* nested regexes, in config order */
    /* rewrite's "if" blocks and limit_except blocks: merged only */
    kl_array_t *if_locations;

    unsigned exact_match:1;
    unsigned noregex:1;
    unsigned named:1;
    unsigned internal:1;
    unsigned lmt_excpt:1; /* the pseudo-location of a limit_except block */

    kl_http_handler_pt handler; /* set by content modules */

    kl_str_t  root;
    kl_uint_t root_set; /* from a root directive */

    /*
     * alias: 0 for root; else the length of the location prefix the URI
     * loses; KL_HTTP_ALIAS_REGEX for a regex location's alias, the full
     * path. root_cv (a kl_http_complex_value_t) is set when the path has
     * variables, or is a regex location's alias.
     */
    size_t alias;
    void  *root_cv;

    kl_array_t *types; /* kl_http_type_t, sorted */
    kl_str_t    default_type;

    off_t     client_max_body_size;
    kl_msec_t client_body_timeout;
    kl_msec_t send_timeout;
    kl_msec_t keepalive_timeout;
    time_t    keepalive_header;
    kl_uint_t keepalive_requests;
    kl_msec_t keepalive_time;
    kl_msec_t lingering_time;
    kl_msec_t lingering_timeout;
    kl_uint_t lingering_close;

    size_t sendfile_max_chunk;
    size_t postpone_output;

    kl_int_t sendfile;
    kl_int_t tcp_nopush;
    kl_int_t tcp_nodelay;
    kl_int_t server_tokens;
    kl_int_t reset_timedout_connection;
    kl_int_t absolute_redirect;
    kl_int_t port_in_redirect;
    kl_int_t server_name_in_redirect;
    kl_int_t log_not_found;
    kl_int_t etag;

    kl_array_t *error_pages; /* kl_http_err_page_t */
    kl_log_t   *error_log;   /* NULL until merged: then the cycle's */
    kl_int_t    recursive_error_pages;

    /* core_limits.c: sizes that may hold variables (limit_rate) */
    void *limit_rate;
    void *limit_rate_after;

    kl_uint_t keepalive_disable; /* KL_HTTP_KEEPALIVE_DISABLE_* */
    kl_int_t  msie_padding;
    kl_int_t  msie_refresh;
    kl_int_t  log_subrequest;
    size_t    send_lowat;
    size_t    read_ahead;
    kl_int_t  aio_write;

    /* core_symlinks.c: KL_DISABLE_SYMLINKS_*, and from= (a complex value) */
    kl_uint_t disable_symlinks;
    void     *disable_symlinks_from; /* NULL: the whole path */
    size_t    subrequest_output_buffer_size;

    /* core_access.c: satisfy, limit_except, auth_delay */
    kl_uint_t satisfy;      /* KL_HTTP_SATISFY_* */
    kl_uint_t limit_except; /* methods that get limit_except_loc_conf */
    void    **limit_except_loc_conf;
    kl_msec_t auth_delay;
};

#define KL_HTTP_SATISFY_ALL 0
#define KL_HTTP_SATISFY_ANY 1

#define KL_HTTP_ALIAS_REGEX ((size_t) -1)

#define KL_HTTP_LINGERING_OFF    0
#define KL_HTTP_LINGERING_ON     1
#define KL_HTTP_LINGERING_ALWAYS 2

extern kl_module_t kl_http_module;
extern kl_module_t kl_http_core_module;

/* response.c: a request's end, whatever protocol it came by. */
void kl_http_free_request(kl_http_request_t *r, kl_int_t rc);
void kl_http_close_request(kl_http_request_t *r, kl_int_t rc);

/* headers_in.c: the request fields kiln acts on. */
kl_int_t kl_http_process_known_header(kl_http_request_t *r, kl_table_elt_t *h);
kl_int_t kl_http_validate_host(kl_str_t *host, kl_pool_t *pool);
kl_int_t kl_http_set_virtual_server(kl_http_request_t *r, kl_str_t *host);

/*
 * The server of ac named host (exact, wildcard, regex), or NULL; r may be
 * NULL (SNI): regex captures then go nowhere. *rc: KL_ERROR when a regex
 * failed to run.
 */
kl_http_core_srv_conf_t *
kl_http_find_virtual_server(kl_http_addr_conf_t *ac, kl_str_t *host,
                            kl_http_request_t *r, kl_log_t *log, kl_int_t *rc);

/* phases.c: running requests through the phase engine. */
void     kl_http_handler(kl_http_request_t *r);
void     kl_http_core_run_phases(kl_http_request_t *r);
kl_int_t kl_http_init_phase_handlers(kl_conf_t                *cf,
                                     kl_http_core_main_conf_t *cmcf);
kl_int_t kl_http_internal_redirect(kl_http_request_t *r, kl_str_t *uri,
                                   kl_str_t *args);
kl_int_t kl_http_find_location(kl_http_request_t *r);

/* Continue the request in location @name (server level): KL_DONE. */
kl_int_t kl_http_named_location(kl_http_request_t *r, kl_str_t *name);

/* Match s, keeping the captures for $1..$9: KL_OK, KL_DECLINED, KL_ERROR. */
kl_int_t kl_http_regex_exec(kl_http_request_t *r, kl_http_regex_t *re,
                            kl_str_t *s);

/* A regex of the configuration: its named captures become variables. */
struct kl_http_regex_s {
    kl_regex_t *regex;
    kl_uint_t   nvariables;
    kl_int_t   *variables; /* pairs: capture group, variable index */
};

/* Compile rc (pool, pattern, options set); errors are logged. */
kl_http_regex_t *kl_http_regex_compile(kl_conf_t *cf, kl_regex_compile_t *rc);
void             kl_http_update_location_config(kl_http_request_t *r);
void             kl_http_set_exten(kl_http_request_t *r);

/* response.c: headers, bodies, errors, finalisation. */
kl_int_t kl_http_send_header(kl_http_request_t *r);
kl_int_t kl_http_output_filter(kl_http_request_t *r, kl_chain_t *in);
kl_int_t kl_http_special_response_handler(kl_http_request_t *r, kl_int_t error);
void     kl_http_finalize_request(kl_http_request_t *r, kl_int_t rc);
void     kl_http_finalize_connection(kl_http_request_t *r);
void     kl_http_terminate_request(kl_http_request_t *r, kl_int_t rc);
void     kl_http_request_empty_handler(kl_http_request_t *r);
void     kl_http_block_reading(kl_http_request_t *r);
u_char  *kl_http_map_uri_to_path(kl_http_request_t *r, kl_str_t *path,
                                 size_t *root_length, size_t reserved);
kl_int_t kl_http_set_content_type(kl_http_request_t *r);
kl_int_t kl_http_send_redirect(kl_http_request_t *r, kl_uint_t status,
                               kl_str_t *location);
kl_int_t kl_http_set_etag(kl_http_request_t *r);

/* Append a response field whose key and value outlive the request. */
kl_table_elt_t *kl_http_push_header(kl_http_request_t *r, const char *key,
                                    const char *value);


/*
 * subrequest.c: start a child of r on uri (args may be NULL) that runs
 * from the server rewrite phase with r's connection and pool; *psr is
 * set to it. ps (may be NULL) is called as it finalises; flags are
 * KL_HTTP_SUBREQUEST_*. KL_OK, or KL_ERROR (logged: too deep, too many,
 * no memory).
 */
kl_int_t kl_http_subrequest(kl_http_request_t *r, kl_str_t *uri, kl_str_t *args,
                            kl_http_request_t        **psr,
                            kl_http_post_subrequest_t *ps, kl_uint_t flags);

/* Run r's write handler soon (after the current handler). */
kl_int_t kl_http_post_request(kl_http_request_t *r);

/* response.c's finalisation of a subrequest whose handler is done. */
void kl_http_finalize_subrequest(kl_http_request_t *r);

/* body.c: request bodies. Returns KL_OK or an error status to answer. */
kl_int_t kl_http_discard_request_body(kl_http_request_t *r);

/* write_filter.c: the end of the body filter chain, before r->proto. */
kl_int_t kl_http_write_filter(kl_http_request_t *r, kl_chain_t *in);

/* core_module.c: config helpers for modules. */
kl_int_t  kl_http_add_phase_handler(kl_conf_t *cf, kl_http_phases_e phase,
                                    kl_http_handler_pt h);
kl_str_t *kl_http_status_text(kl_uint_t status);

#include "variables.h"

/* A response from a status and text (return, ...); a 3xx text is the URL. */
kl_int_t kl_http_send_response(kl_http_request_t *r, kl_uint_t status,
                               kl_str_t *ct, kl_http_complex_value_t *cv);

/* body.c: reading request bodies, and the body module's confs. */
#include "body.h"

/* v1/: HTTP/1.x, the protocol of every connection today. */
#include "v1.h"

#endif /* KL_HTTP_H */
