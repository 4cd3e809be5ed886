/*
 * upstream.h: the upstream core: a request's exchange with a peer
 * (connect, send the request and its body, read the response head,
 * relay the body), driven by a protocol's callbacks (proxy; FastCGI
 * next), as nginx's ngx_http_upstream.
 */

#ifndef KL_HTTP_UPSTREAM_H
#define KL_HTTP_UPSTREAM_H

#include "kl_http.h"
#include "upstream_peer.h"
#include "upstream_parse.h"
#include "resolver.h"

/* proxy_next_upstream: when to try the next peer. */
#define KL_HTTP_UPSTREAM_FT_ERROR          0x00000002
#define KL_HTTP_UPSTREAM_FT_TIMEOUT        0x00000004
#define KL_HTTP_UPSTREAM_FT_INVALID_HEADER 0x00000008
#define KL_HTTP_UPSTREAM_FT_HTTP_500       0x00000010
#define KL_HTTP_UPSTREAM_FT_HTTP_502       0x00000020
#define KL_HTTP_UPSTREAM_FT_HTTP_503       0x00000040
#define KL_HTTP_UPSTREAM_FT_HTTP_504       0x00000080
#define KL_HTTP_UPSTREAM_FT_HTTP_403       0x00000100
#define KL_HTTP_UPSTREAM_FT_HTTP_404       0x00000200
#define KL_HTTP_UPSTREAM_FT_HTTP_429       0x00000400
#define KL_HTTP_UPSTREAM_FT_NOLIVE         0x40000000
#define KL_HTTP_UPSTREAM_FT_NON_IDEMPOTENT 0x10000000
#define KL_HTTP_UPSTREAM_FT_OFF            0x80000000

/* proxy_ignore_headers: the response fields whose meaning is ignored. */
#define KL_HTTP_UPSTREAM_IGN_XA_REDIRECT   0x00000002
#define KL_HTTP_UPSTREAM_IGN_XA_EXPIRES    0x00000004
#define KL_HTTP_UPSTREAM_IGN_EXPIRES       0x00000008
#define KL_HTTP_UPSTREAM_IGN_CACHE_CONTROL 0x00000010
#define KL_HTTP_UPSTREAM_IGN_SET_COOKIE    0x00000020
#define KL_HTTP_UPSTREAM_IGN_XA_LIMIT_RATE 0x00000040
#define KL_HTTP_UPSTREAM_IGN_XA_BUFFERING  0x00000080
#define KL_HTTP_UPSTREAM_IGN_XA_CHARSET    0x00000100
#define KL_HTTP_UPSTREAM_IGN_VARY          0x00000200

/* proxy_bind: a fixed local address, or one evaluated per request. */
typedef struct {
    kl_sockaddr_t           *sockaddr; /* NULL: value is evaluated */
    socklen_t                socklen;
    kl_str_t                 name;
    kl_http_complex_value_t *value;
    unsigned                 transparent:1;
} kl_http_upstream_local_t;

/* 1 when this build has TLS (OpenSSL): https:// and suwsgi:// work. */
#if (KL_HAVE_OPENSSL)
#define KL_HTTP_UPSTREAM_SSL 1
#else
#define KL_HTTP_UPSTREAM_SSL 0
#endif

/*
 * TLS to the peer (upstream_ssl.c): X_ssl_* of proxy and uwsgi, one set
 * in kl_http_upstream_conf_t merged by one function. Strings with NULL
 * data are unset; the SSL_CTX is made when the level's X_pass needs it.
 */
typedef struct {
    kl_int_t enable; /* X_pass https://, suwsgi://, or with variables */

    kl_str_t certificate;
    kl_str_t certificate_key;
    /* either name has variables: both evaluated, loaded per connection */
    kl_http_complex_value_t *certificate_value;
    kl_http_complex_value_t *certificate_key_value;
    kl_array_t *passwords; /* kl_str_t, X_ssl_password_file's lines */
    kl_str_t    ciphers;
    kl_uint_t   protocols;     /* KL_SSL_* (core/ssl.h) */
    kl_array_t *conf_commands; /* kl_keyval_t */
    kl_str_t    crl;
    kl_str_t    trusted_certificate;

    kl_http_complex_value_t *name; /* NULL: the host of X_pass */
    kl_int_t                 server_name;
    kl_int_t                 session_reuse;
    kl_int_t                 verify;
    kl_uint_t                verify_depth;

    /* X_ssl_certificate_cache: max 0 is off; the cache itself, made by
     * the first connection of a worker that needs it */
    kl_uint_t cache_max;
    time_t    cache_inactive;
    time_t    cache_valid;
    void     *cache;

    kl_ssl_t *ctx; /* NULL: no TLS at this level */
} kl_http_upstream_ssl_t;


/* A protocol module's settings of the exchange (proxy_*). */
typedef struct {
    kl_http_upstream_srv_conf_t *upstream; /* NULL: none here */

    kl_msec_t connect_timeout;
    kl_msec_t send_timeout;
    kl_msec_t read_timeout;
    kl_msec_t next_upstream_timeout; /* 0: no limit */

    size_t    buffer_size;       /* the response head, and unbuffered bodies */
    kl_bufs_t bufs;              /* body buffers when buffering */
    size_t    busy_buffers_size; /* at most this much queued to the client */
    kl_int_t  buffering;
    kl_uint_t next_upstream;
    kl_uint_t next_upstream_tries; /* 0: no limit */

    /* Buffered bodies the client is slow to take spill to a temp file. */
    kl_http_temp_path_t *temp_path;
    size_t max_temp_file_size_conf;   /* as written; 0: no spilling */
    size_t temp_file_write_size_conf; /* as written; the default depends */
    off_t  max_temp_file_size;
    size_t temp_file_write_size;

    kl_int_t pass_request_body;
    kl_int_t request_buffering; /* off: the body goes on as it comes */
    kl_int_t intercept_errors;

    kl_array_t *hide;         /* X_hide_header values */
    kl_array_t *pass;         /* X_pass_header values */
    kl_array_t *hide_headers; /* kl_str_t, lowercase: not passed on */

    /* upstream_settings.c: set, merged and applied there */
    kl_int_t  ignore_client_abort;
    kl_uint_t ignore_headers; /* KL_HTTP_UPSTREAM_IGN_* */
    kl_int_t  force_ranges;
    kl_int_t  socket_keepalive;
    /* bytes/s read from the peer (variables); NULL: no limit */
    kl_http_complex_value_t  *limit_rate;
    kl_uint_t                 headers_hash_max_size;
    kl_uint_t                 headers_hash_bucket_size;
    kl_http_upstream_local_t *local; /* X_bind; NULL: none, or off */

    kl_http_upstream_ssl_t ssl; /* X_ssl_*: upstream_ssl.c */
} kl_http_upstream_conf_t;

/*
 * One attempt: what the $upstream_* lists show (variables_upstream.c).
 * An entry with redirect set only marks an internal redirect between two
 * exchanges of the request (" : " in the lists).
 */
typedef struct {
    kl_str_t *peer;
    kl_uint_t status; /* 0: none was read ("-"), 502/504 for failures */
    kl_msec_t start;
    kl_msec_t response_time;
    kl_msec_t connect_time; /* KL_HTTP_UPSTREAM_NO_TIME: not connected */
    kl_msec_t header_time;  /* KL_HTTP_UPSTREAM_NO_TIME: no head read */
    off_t     bytes_received;
    off_t     bytes_sent;
    off_t     sent_start;    /* the peer connection's c->sent at connect */
    off_t     header_length; /* bytes of bytes_received that were the head */
    unsigned  ended:1;
    unsigned  redirect:1;
} kl_http_upstream_state_t;

#define KL_HTTP_UPSTREAM_NO_TIME ((kl_msec_t) -1)

/* The response head as the protocol understood it. */
typedef struct {
    kl_list_t headers; /* kl_table_elt_t, as received */
    kl_uint_t status_n;
    kl_str_t  status_line;
    off_t     content_length_n; /* -1: not given */

    kl_table_elt_t *location;
    kl_table_elt_t *refresh;

    unsigned connection_close:1;
    unsigned chunked:1;
} kl_http_upstream_headers_in_t;

/*
 * proxy_pass with variables: the peer named by the request (nginx's
 * u->resolved): an upstream group of that name and port, else an
 * address literal, else the addresses the resolver finds for the name.
 */
typedef struct {
    kl_str_t      host; /* without the port; an IPv6 literal bracketed */
    in_port_t     port; /* 80 when not given */
    kl_sockaddr_t sockaddr;
    socklen_t     socklen; /* 0: host is not an address literal */
    kl_str_t      name;    /* "127.0.0.1:8081", in name_data */
    u_char        name_data[64];
    unsigned      no_port:1;

    /* Resolved: the addresses, tried in turn; the query while it runs. */
    kl_resolver_ctx_t  *ctx;
    kl_resolver_addr_t *addrs;
    kl_str_t           *names;
    kl_uint_t           naddrs;
    kl_uint_t           current;
} kl_http_upstream_resolved_t;

typedef void (*kl_http_upstream_handler_pt)(kl_http_request_t  *r,
                                            kl_http_upstream_t *u);

struct kl_http_upstream_s {
    kl_http_upstream_handler_pt read_event_handler;
    kl_http_upstream_handler_pt write_event_handler;

    kl_peer_connection_t     peer;
    kl_http_upstream_conf_t *conf;

    kl_http_upstream_headers_in_t headers_in;

    /* The request: head then body, as it goes out to the peer. */
    kl_chain_t *request_bufs;

    /* The response head, then as much body as came with it. */
    kl_buf_t buffer;

    /* Body buffers: up to nbufs of bufs_size, reused once all is sent. */
    kl_buf_t   **bufs;
    kl_uint_t    nbufs;
    kl_uint_t    bufs_used;
    size_t       bufs_size;
    kl_chain_t  *free_links; /* views of the buffers, to reuse */
    kl_chain_t  *busy_links; /* views queued to the client */
    kl_chain_t  *pending;    /* views read ahead, not yet queued */
    kl_chain_t **pending_last;

    /* The temp file the body spills to (made on first use), the bytes of
     * it not yet sent, and the buffer its bytes are read into. */
    kl_file_t *temp_file;
    kl_buf_t  *spill_buf;

    /* upgraded: client bytes on their way to the peer */
    kl_buf_t *from_client;

    /* unbuffered request body: the framed piece being sent */
    kl_chain_t *body_out;

    /* Body bytes still to come from the peer; -1: until it closes. */
    off_t length;

    /* The protocol's callbacks (nginx's). */
    kl_int_t (*create_request)(kl_http_request_t *r);
    kl_int_t (*reinit_request)(kl_http_request_t *r);
    /* KL_OK head done (u->buffer.pos at the body), KL_AGAIN, or
     * KL_HTTP_UPSTREAM_INVALID_HEADER (logged). */
    kl_int_t (*process_header)(kl_http_request_t *r);
    /* Set up reading the body (u->length); KL_OK or KL_ERROR. */
    kl_int_t (*input_filter_init)(kl_http_request_t *r);
    /* Decode [b->pos, b->last) in place: the body bytes are left at
     * [b->pos, b->last); KL_OK, KL_DONE at the body's end, or KL_ERROR. */
    kl_int_t (*input_filter)(kl_http_request_t *r, kl_buf_t *b);
    void (*finalize_request)(kl_http_request_t *r, kl_int_t rc);
    /*
     * r->request_body_no_buffering: frame the next piece of the body
     * from b (NULL: no body), taking a prefix of [b->pos, b->last) (pos
     * moves past it), and when last (the body is all read) and b is all
     * taken, the body's end. *out: the chain to send (NULL: nothing),
     * buffers of the protocol's ctx and a view of b, reused per piece.
     * KL_DONE when the end was framed, KL_OK, or KL_ERROR.
     */
    kl_int_t (*body_frame)(kl_http_request_t *r, kl_buf_t *b, kl_uint_t last,
                           kl_chain_t **out);
    /* Rewrite the URL at h->value + prefix (Location, Refresh): KL_OK,
     * KL_DECLINED (left as is) or KL_ERROR. NULL: none. */
    kl_int_t (*rewrite_redirect)(kl_http_request_t *r, kl_table_elt_t *h,
                                 size_t prefix);
    /* Rewrite a Set-Cookie field (proxy_cookie_*): KL_OK or KL_ERROR.
     * NULL: none. */
    kl_int_t (*rewrite_cookie)(kl_http_request_t *r, kl_table_elt_t *h);
    void *input_filter_ctx;

    kl_str_t schema; /* "http://", for logs */
    kl_str_t uri;    /* for logs */

    kl_array_t               *state; /* kl_http_upstream_state_t */
    kl_http_upstream_state_t *cur_state;

    /* Set by the protocol before kl_http_upstream_init: the peer is
     * chosen per request (conf->upstream is then not used). */
    kl_http_upstream_resolved_t *resolved;

    kl_msec_t start_time; /* of the first attempt, next_upstream_timeout */

    /* X_limit_rate: its value here (0: none), when the body began, and
     * how much of it was read */
    size_t    limit_rate;
    kl_msec_t body_start;
    off_t     body_read;

    kl_uint_t tries; /* attempts left, next_upstream_tries */

    /* TLS to the peer: the name its certificate must match (no port),
     * and what goes on once the handshake is over */
    kl_str_t ssl_name;
    void (*ssl_done)(kl_http_request_t *r, kl_http_upstream_t *u, kl_uint_t ft);

    unsigned buffering:1;
    unsigned ssl:1; /* this exchange is over TLS (https://, suwsgi://) */
    unsigned request_sent:1;
    unsigned header_sent:1;
    unsigned keepalive:1;
    unsigned upgrade:1;
    unsigned body_done:1;
    unsigned body_queued:1; /* the last buffer is queued */
    /* unbuffered request body: all of it sent, its end included; the
     * head is out and the body going; its end is framed in body_out */
    unsigned request_body_sent:1;
    unsigned body_sending:1;
    unsigned body_end_framed:1;
};

#define KL_HTTP_UPSTREAM_INVALID_HEADER 40

/* Attach an upstream to r (r->upstream); KL_OK or KL_ERROR. */
kl_int_t kl_http_upstream_create(kl_http_request_t *r);

/*
 * Forget the head of an answer before another peer is asked (a
 * protocol's reinit_request): every field of u->headers_in, and a fresh
 * list for the next head's fields.
 */
kl_int_t kl_http_upstream_reinit_head(kl_http_request_t  *r,
                                      kl_http_upstream_t *u);

/* Start the exchange: the body post handler, or called when it is read. */
void kl_http_upstream_init(kl_http_request_t *r);

/* End the exchange (close or keep the peer connection), then r with rc. */
void kl_http_upstream_finalize(kl_http_request_t *r, kl_http_upstream_t *u,
                               kl_int_t rc);

/*
 * upstream_body.c: relay the response body once the head was sent:
 * through the body buffers, spilling to a temp file when buffering and
 * the client is slow; the exchange is then finalized.
 */
void kl_http_upstream_start_body(kl_http_request_t *r, kl_http_upstream_t *u);

/*
 * upstream_upgrade.c: the peer answered 101 to a client that asked to
 * upgrade (WebSocket): send the head, then relay bytes both ways until
 * either side closes, with read_timeout and send_timeout.
 */
void kl_http_upstream_upgrade(kl_http_request_t *r, kl_http_upstream_t *u);

/*
 * upstream_resolve.c: u->resolved names the peer: set u->peer for an
 * address literal (*usp NULL), or *usp to the group of that name; KL_OK.
 * Else, with a resolver, KL_AGAIN: the name is being resolved, and
 * kl_http_upstream_start is called with its addresses as the peers (or
 * the exchange ends with 502, "X could not be resolved" logged).
 * Without one, KL_HTTP_BAD_GATEWAY ("no resolver defined to resolve X").
 */
kl_int_t kl_http_upstream_find_resolved(kl_http_request_t            *r,
                                        kl_http_upstream_t           *u,
                                        kl_http_upstream_srv_conf_t **usp);

/*
 * Groups with "server ... resolve" (upstream_resolve.c): while the conf
 * is read, _conf checks the balancer and finds the resolver (nginx's
 * errors), before the balancer's init_upstream; _wrap, after it, makes
 * each request use the worker's current tables; _start, in each worker,
 * resolves the names and rebuilds the tables when their addresses
 * change (at each TTL's end). KL_OK or KL_ERROR (logged).
 */
kl_int_t kl_http_upstream_resolve_conf(kl_conf_t                   *cf,
                                       kl_http_upstream_srv_conf_t *us);
kl_int_t kl_http_upstream_resolve_wrap(kl_conf_t                   *cf,
                                       kl_http_upstream_srv_conf_t *us);
kl_int_t kl_http_upstream_resolve_start(kl_cycle_t                  *cycle,
                                        kl_http_upstream_srv_conf_t *us);

/* Is host an IPv4 or a bracketed IPv6 address (nothing to resolve)? */
kl_uint_t kl_http_upstream_is_literal(kl_str_t *host);

/* Stop resolving u's name, if it is still being resolved. */
void kl_http_upstream_resolve_done(kl_http_upstream_t *u);

/* Choose the peer among us's (NULL: u->peer is set) and connect. */
void kl_http_upstream_start(kl_http_request_t *r, kl_http_upstream_t *u,
                            kl_http_upstream_srv_conf_t *us);

/*
 * Split "host[:port]" (a proxy_pass URL's authority, evaluated per
 * request) into ur; an IPv4 or bracketed IPv6 literal also fills its
 * sockaddr. KL_OK, or KL_ERROR with *err: "no host", "invalid host",
 * "invalid port" (nginx's words). Pure: no lookup, no allocation.
 */
kl_int_t kl_http_upstream_parse_authority(kl_str_t                    *text,
                                          kl_http_upstream_resolved_t *ur,
                                          const char                 **err);

/*
 * ur as kl_http_upstream_parse_authority left it, but a missing port is
 * port (443 for https://): in the address and its name too.
 */
void kl_http_upstream_default_port(kl_http_upstream_resolved_t *ur,
                                   in_port_t                    port);

/*
 * For a protocol's body_frame: cl names b, set to the memory [pos, last)
 * (nothing when empty), appended at **ll.
 */
void kl_http_upstream_body_link(kl_chain_t ***ll, kl_chain_t *cl, kl_buf_t *b,
                                u_char *pos, u_char *last);

/* The ", upstream: "..."" part of r's error log lines (v1/connection.c). */
u_char *kl_http_upstream_log_error(kl_http_request_t *r, u_char *buf,
                                   size_t len);


/*
 * The hidden response fields: hide (X_hide_header's, may be NULL), then
 * extra (the protocol's own, a kl_null_string-ended list, may be NULL),
 * then nginx's defaults (Date, Server...) but those pass
 * (X_pass_header's, may be NULL) names; into conf->hide_headers (new).
 */
/* X_param NAME VALUE [if_not_empty]: FastCGI, uwsgi and SCGI params. */
typedef struct {
    kl_str_t                 key;
    kl_http_complex_value_t *value;
    kl_uint_t                skip_empty;
} kl_http_upstream_param_t;

/*
 * The lowercase names after "HTTP_" of params (kl_http_upstream_param_t):
 * the request fields those params replace. NULL on allocation failure.
 */
kl_array_t *kl_http_upstream_header_params(kl_conf_t *cf, kl_array_t *params);

/*
 * X_hide_header and X_pass_header merged (conf->hide and conf->pass
 * inherited from prev when a level has none of its own, as nginx), then
 * conf->hide_headers built: the hidden names, extra (a module's own,
 * ending with an empty string, or NULL), and the upstream defaults that
 * X_pass_header does not let through.
 */
kl_int_t kl_http_upstream_hide_headers(kl_conf_t               *cf,
                                       kl_http_upstream_conf_t *conf,
                                       kl_http_upstream_conf_t *prev,
                                       kl_str_t                *extra);

/*
 * The response field the parser p just read, pushed onto
 * u->headers_in.headers with its lowercase key; NULL: no memory.
 */
kl_table_elt_t *kl_http_upstream_push_header(kl_http_request_t  *r,
                                             kl_http_upstream_t *u,
                                             kl_http_parse_t    *p);

/* Register the $upstream_* variables (variables_upstream.c). */
kl_int_t kl_http_upstream_add_variables(kl_conf_t *cf);

/* X_hide_header, X_pass_header: the name, lowercase, onto the kl_array_t *
 * (of kl_str_t, made on first use) at cmd->offset. */
char *kl_http_upstream_header_name_slot(kl_conf_t *cf, kl_command_t *cmd,
                                        void *conf);

/* A protocol's create_loc_conf: every shared setting unset. */
void kl_http_upstream_conf_init(kl_http_upstream_conf_t *conf);

/*
 * A protocol's merge_loc_conf: the shared settings merged with prev's
 * and nginx's defaults. *busy is X_busy_buffers_size as written (kept in
 * the protocol's conf: the value as written is inherited, the default,
 * 2 x the larger of buffer_size and one buffer, is not). The buffers,
 * max_temp_file_size and temp_file_write_size are checked with nginx's
 * messages naming "<prefix>_busy_buffers_size" etc.; temp_path defaults
 * to dir in the prefix, levels 1 2. KL_OK or KL_ERROR (logged).
 */
kl_int_t kl_http_upstream_merge_conf(kl_conf_t               *cf,
                                     kl_http_upstream_conf_t *conf,
                                     kl_http_upstream_conf_t *prev,
                                     size_t *busy, size_t prev_busy,
                                     const char *prefix, const char *dir);


/*
 * upstream_settings.c: the settings proxy and fastcgi share beyond the
 * exchange's own: X_ignore_client_abort, _ignore_headers, _force_ranges,
 * _socket_keepalive, _limit_rate, _bind, _headers_hash_*, the
 * X_hide_header and X_pass_header setter (the cache, store and TLS
 * directives are refused by core/conf_absent.c, with the reason).
 */

/* Unset them (kl_http_upstream_conf_init calls it). */
void kl_http_upstream_settings_init(kl_http_upstream_conf_t *conf);

/* Merge them with prev's and nginx's defaults; KL_OK or KL_ERROR. */
kl_int_t kl_http_upstream_settings_merge(kl_conf_t               *cf,
                                         kl_http_upstream_conf_t *conf,
                                         kl_http_upstream_conf_t *prev);

/* X_ignore_headers FIELD ...: into the kl_uint_t at cmd->offset. */
char *kl_http_upstream_ignore_headers_slot(kl_conf_t *cf, kl_command_t *cmd,
                                           void *conf);

/* X_bind ADDRESS [transparent] | off: the kl_http_upstream_local_t *
 * at cmd->offset. */
char *kl_http_upstream_bind_slot(kl_conf_t *cf, kl_command_t *cmd, void *conf);

/* X_limit_rate RATE: a size, or a value with variables read as one per
 * request; the kl_http_complex_value_t * at cmd->offset. */
char *kl_http_upstream_rate_slot(kl_conf_t *cf, kl_command_t *cmd, void *conf);

/* The X_limit_rate of this request into u->limit_rate: a value that is
 * not a size is logged ("invalid size") and means no limit, as nginx. */
void kl_http_upstream_eval_rate(kl_http_request_t *r, kl_http_upstream_t *u);

/* A flag whose "on" this build cannot honour (proxy_pass_trailers):
 * "off" is what it does anyway; "on" is refused with cmd->post's
 * phrase. */
char *kl_http_upstream_off_only_slot(kl_conf_t *cf, kl_command_t *cmd,
                                     void *conf);

/* X_send_lowat SIZE: SO_SNDLOWAT cannot be set on Linux; a size other
 * than 0 is warned about and ignored, as nginx does there. */
char *kl_http_upstream_lowat_slot(kl_conf_t *cf, kl_command_t *cmd, void *conf);

#define KL_HTTP_UPSTREAM_NO_TRAILERS                                           \
    "is not supported: trailers from the peer are not passed in this build "   \
    "of kiln"

/*
 * Before connect: the socket's local address (X_bind) and SO_KEEPALIVE
 * (X_socket_keepalive) into u->peer; KL_OK, or KL_ERROR (logged: the
 * request gets 500).
 */
kl_int_t kl_http_upstream_set_local(kl_http_request_t  *r,
                                    kl_http_upstream_t *u);

/*
 * upstream_cgi_head.c: a field of a CGI head (FastCGI, uwsgi, SCGI):
 * Content-Length checked and kept, Location and Refresh noted, a Status
 * field left in *status; KL_OK or KL_HTTP_UPSTREAM_INVALID_HEADER.
 */
kl_int_t kl_http_upstream_cgi_field(kl_http_request_t *r, kl_http_upstream_t *u,
                                    kl_table_elt_t *h, kl_table_elt_t **status);

/* The head is read: the status from a Status field (RFC 3875 6.3.3), else
 * 302 for a Location, else 200; KL_OK or KL_HTTP_UPSTREAM_INVALID_HEADER. */
kl_int_t kl_http_upstream_cgi_status(kl_http_request_t  *r,
                                     kl_http_upstream_t *u,
                                     kl_table_elt_t     *status);

/*
 * upstream_accel.c: the X-Accel-* fields of the response head, unless
 * X_ignore_headers names them: X-Accel-Redirect redirects r internally
 * (KL_DONE: the exchange is over and r continues elsewhere); Buffering
 * switches u->buffering; Charset labels the response; Limit-Rate sets
 * r->limit_rate; Expires has nothing to act on here and, like every
 * X-Accel field, is hidden. KL_OK to send the response, KL_DONE, or KL_ERROR.
 */
kl_int_t kl_http_upstream_process_accel(kl_http_request_t  *r,
                                        kl_http_upstream_t *u);

/* Every response field of the peer named name (lowercase) onto
 * r->headers_out (an intercepted 401's WWW-Authenticate); KL_OK or
 * KL_ERROR. */
kl_int_t kl_http_upstream_copy_named(kl_http_request_t  *r,
                                     kl_http_upstream_t *u, const char *name,
                                     size_t len);

/*
 * X-Accel-Redirect's value as a URI: the path before any '?',
 * %-decoded into dst (room for value->len bytes), as *uri; *args the
 * bytes after the '?' (len 0: none). KL_ERROR for what nginx calls
 * unsafe: not starting with '/', a bad escape, a NUL, or a "/.."
 * segment once decoded. Pure: no allocation.
 */
kl_int_t kl_http_upstream_accel_uri(kl_str_t *value, u_char *dst, kl_str_t *uri,
                                    kl_str_t *args);


/*
 * upstream_ssl.c: TLS to the peer. _init unsets the settings
 * (kl_http_upstream_conf_init calls it); _merge merges them with prev's
 * and nginx's defaults, checks them with nginx's messages naming
 * "<prefix>_ssl_..." and, when the level's X_pass needs TLS, makes the
 * SSL_CTX (shared with prev's when nothing differs); KL_OK or KL_ERROR.
 */
void     kl_http_upstream_ssl_init(kl_http_upstream_ssl_t *ssl);
kl_int_t kl_http_upstream_ssl_merge(kl_conf_t *cf, kl_http_upstream_ssl_t *conf,
                                    kl_http_upstream_ssl_t *prev,
                                    const char             *prefix);

/* The setters of the X_ssl_* rows (KL_HTTP_UPSTREAM_SSL_COMMANDS). */
char *kl_http_upstream_ssl_password_slot(kl_conf_t *cf, kl_command_t *cmd,
                                         void *conf);
char *kl_http_upstream_ssl_command_slot(kl_conf_t *cf, kl_command_t *cmd,
                                        void *conf);
char *kl_http_upstream_ssl_name_slot(kl_conf_t *cf, kl_command_t *cmd,
                                     void *conf);
char *kl_http_upstream_ssl_cache_slot(kl_conf_t *cf, kl_command_t *cmd,
                                      void *conf);

extern kl_conf_enum_t kl_http_upstream_ssl_protocols[];

/*
 * The connect path (upstream.c): after the TCP connect, when u->ssl,
 * the handshake on u->peer.connection (bounded by connect_timeout), the
 * name sent as SNI and checked against the certificate, the verify
 * result, the peer's session set and saved; then done(r, u, 0), or
 * done(r, u, FT_ERROR or FT_TIMEOUT) after logging as nginx: the caller
 * goes to the next peer. done also runs when the handshake ends later.
 * KL_ERROR (logged): a failure here, not the peer's (a certificate named
 * with variables that does not load): the caller answers 500, as nginx.
 */
typedef void (*kl_http_upstream_ssl_done_pt)(kl_http_request_t  *r,
                                             kl_http_upstream_t *u,
                                             kl_uint_t           ft);
kl_int_t kl_http_upstream_ssl_connect(kl_http_request_t           *r,
                                      kl_http_upstream_t          *u,
                                      kl_http_upstream_ssl_done_pt done);

/* The exchange on this connection is over: keep its session (TLS 1.3
 * tickets come after the handshake) for the next connection to the peer. */
void kl_http_upstream_ssl_save_session(kl_http_upstream_t *u);

#define KL_HTTP_UPSTREAM_SSL_FLAGS                                             \
    (KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF)

/*
 * The X_ssl_* directive rows of a protocol module: pfx its prefix
 * ("proxy"), type its loc conf, up the path in it of its
 * kl_http_upstream_conf_t ("upstream", "cgi.upstream").
 */
#define KL_HTTP_UPSTREAM_SSL_ROW(pfx, name, args, set, type, field, post)      \
    {                                                                          \
        kl_string(pfx "_ssl_" name), KL_HTTP_UPSTREAM_SSL_FLAGS | args, set,   \
            KL_HTTP_LOC_CONF_OFFSET, offsetof(type, field), post               \
    }

#define KL_HTTP_UPSTREAM_SSL_COMMANDS(pfx, type, up)                           \
    KL_HTTP_UPSTREAM_SSL_ROW(pfx, "certificate", KL_CONF_TAKE1,                \
                             kl_conf_set_str_slot, type, up.ssl.certificate,   \
                             NULL),                                            \
        KL_HTTP_UPSTREAM_SSL_ROW(pfx, "certificate_key", KL_CONF_TAKE1,        \
                                 kl_conf_set_str_slot, type,                   \
                                 up.ssl.certificate_key, NULL),                \
        KL_HTTP_UPSTREAM_SSL_ROW(pfx, "password_file", KL_CONF_TAKE1,          \
                                 kl_http_upstream_ssl_password_slot, type,     \
                                 up.ssl.passwords, NULL),                      \
        KL_HTTP_UPSTREAM_SSL_ROW(pfx, "ciphers", KL_CONF_TAKE1,                \
                                 kl_conf_set_str_slot, type, up.ssl.ciphers,   \
                                 NULL),                                        \
        KL_HTTP_UPSTREAM_SSL_ROW(                                              \
            pfx, "protocols", KL_CONF_1MORE, kl_conf_set_bitmask_slot, type,   \
            up.ssl.protocols, kl_http_upstream_ssl_protocols),                 \
        KL_HTTP_UPSTREAM_SSL_ROW(pfx, "conf_command", KL_CONF_TAKE2,           \
                                 kl_http_upstream_ssl_command_slot, type,      \
                                 up.ssl.conf_commands, NULL),                  \
        KL_HTTP_UPSTREAM_SSL_ROW(pfx, "crl", KL_CONF_TAKE1,                    \
                                 kl_conf_set_str_slot, type, up.ssl.crl,       \
                                 NULL),                                        \
        KL_HTTP_UPSTREAM_SSL_ROW(pfx, "trusted_certificate", KL_CONF_TAKE1,    \
                                 kl_conf_set_str_slot, type,                   \
                                 up.ssl.trusted_certificate, NULL),            \
        KL_HTTP_UPSTREAM_SSL_ROW(pfx, "name", KL_CONF_TAKE1,                   \
                                 kl_http_upstream_ssl_name_slot, type,         \
                                 up.ssl.name, NULL),                           \
        KL_HTTP_UPSTREAM_SSL_ROW(pfx, "server_name", KL_CONF_FLAG,             \
                                 kl_conf_set_flag_slot, type,                  \
                                 up.ssl.server_name, NULL),                    \
        KL_HTTP_UPSTREAM_SSL_ROW(pfx, "session_reuse", KL_CONF_FLAG,           \
                                 kl_conf_set_flag_slot, type,                  \
                                 up.ssl.session_reuse, NULL),                  \
        KL_HTTP_UPSTREAM_SSL_ROW(pfx, "verify", KL_CONF_FLAG,                  \
                                 kl_conf_set_flag_slot, type, up.ssl.verify,   \
                                 NULL),                                        \
        KL_HTTP_UPSTREAM_SSL_ROW(pfx, "verify_depth", KL_CONF_TAKE1,           \
                                 kl_conf_set_num_slot, type,                   \
                                 up.ssl.verify_depth, NULL),                   \
        KL_HTTP_UPSTREAM_SSL_ROW(pfx, "certificate_cache", KL_CONF_TAKE123,    \
                                 kl_http_upstream_ssl_cache_slot, type,        \
                                 up.ssl, NULL)

#endif /* KL_HTTP_UPSTREAM_H */
