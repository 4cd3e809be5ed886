/*
 * variables_core.c: nginx's core variables ($uri, $args, $host,
 * $remote_addr, $status, $bytes_sent, ...). Those read from header
 * fields, cookies and arguments are in variables_headers.c, the newer
 * ones ($request_id, $tcpinfo_*, ...) in variables_request.c.
 *
 * $bytes_sent and $body_bytes_sent count what one request sent. The
 * connection's counter runs across keep-alive requests, so a header
 * filter notes where it stood when this response's head went down and
 * how long the head was.
 */

#include "kl_http.h"


/* Per request, from the header filter. */
typedef struct {
    off_t sent_start;  /* c->sent before the head */
    off_t header_size; /* the head's bytes */
} kl_http_variables_ctx_t;


/* variables.c's module: its ctx slot holds kl_http_variables_ctx_t. */
extern kl_module_t kl_http_variables_module;


static kl_int_t kl_http_variables_header_filter(kl_http_request_t *r);

static kl_int_t kl_http_variable_request(kl_http_request_t        *r,
                                         kl_http_variable_value_t *v,
                                         uintptr_t                 data);
static kl_int_t kl_http_variable_misc(kl_http_request_t        *r,
                                      kl_http_variable_value_t *v,
                                      uintptr_t                 data);
static void     kl_http_variable_set_args(kl_http_request_t        *r,
                                          kl_http_variable_value_t *v,
                                          uintptr_t                 data);
static kl_int_t kl_http_variable_number(kl_http_request_t        *r,
                                        kl_http_variable_value_t *v,
                                        uintptr_t                 data);
static kl_int_t kl_http_variable_address(kl_http_request_t        *r,
                                         kl_http_variable_value_t *v,
                                         uintptr_t                 data);
static kl_int_t kl_http_variable_path(kl_http_request_t        *r,
                                      kl_http_variable_value_t *v,
                                      uintptr_t                 data);


/* What kl_http_variable_misc, _number, _address and _path compute. */
enum {
    KL_HTTP_VAR_HOST = 0,
    KL_HTTP_VAR_HOSTNAME,
    KL_HTTP_VAR_SCHEME,
    KL_HTTP_VAR_HTTPS,
    KL_HTTP_VAR_IS_ARGS,
    KL_HTTP_VAR_ARGS,
    KL_HTTP_VAR_REQUEST,
    KL_HTTP_VAR_METHOD,
    KL_HTTP_VAR_SERVER_NAME,
    KL_HTTP_VAR_VERSION,
    KL_HTTP_VAR_PIPE,
    KL_HTTP_VAR_TIME_LOCAL,
    KL_HTTP_VAR_TIME_ISO8601,
    KL_HTTP_VAR_CONTENT_LENGTH,

    KL_HTTP_VAR_STATUS,
    KL_HTTP_VAR_BYTES_SENT,
    KL_HTTP_VAR_BODY_BYTES_SENT,
    KL_HTTP_VAR_REQUEST_LENGTH,
    KL_HTTP_VAR_REQUEST_TIME,
    KL_HTTP_VAR_MSEC,
    KL_HTTP_VAR_CONNECTION,
    KL_HTTP_VAR_CONNECTION_REQUESTS,
    KL_HTTP_VAR_PID,

    KL_HTTP_VAR_REMOTE_ADDR,
    KL_HTTP_VAR_BINARY_REMOTE_ADDR,
    KL_HTTP_VAR_REMOTE_PORT,
    KL_HTTP_VAR_SERVER_ADDR,
    KL_HTTP_VAR_SERVER_PORT,

    KL_HTTP_VAR_DOCUMENT_ROOT,
    KL_HTTP_VAR_REALPATH_ROOT,
    KL_HTTP_VAR_REQUEST_FILENAME
};


#define kl_http_var(nm, get, data, flags)                                      \
    {                                                                          \
        kl_string(nm), NULL, get, data, flags, 0                               \
    }

#define kl_http_var_r(nm, field, flags)                                        \
    kl_http_var(nm, kl_http_variable_request,                                  \
                offsetof(kl_http_request_t, field), flags)

#define KL_HTTP_VAR_NC KL_HTTP_VAR_NOCACHEABLE

static kl_http_variable_t kl_http_core_variables[] = {
    kl_http_var_r("uri", uri, KL_HTTP_VAR_NC),
    kl_http_var_r("document_uri", uri, KL_HTTP_VAR_NC),
    kl_http_var_r("request_uri", unparsed_uri, 0),
    kl_http_var_r("server_protocol", http_protocol, 0),

    kl_http_var("host", kl_http_variable_misc, KL_HTTP_VAR_HOST, 0),
    kl_http_var("hostname", kl_http_variable_misc, KL_HTTP_VAR_HOSTNAME, 0),
    kl_http_var("scheme", kl_http_variable_misc, KL_HTTP_VAR_SCHEME, 0),
    kl_http_var("https", kl_http_variable_misc, KL_HTTP_VAR_HTTPS, 0),
    kl_http_var("is_args", kl_http_variable_misc, KL_HTTP_VAR_IS_ARGS,
                KL_HTTP_VAR_NC),
    /* "set $args ..." replaces the query, as in nginx. */
    { kl_string("args"), kl_http_variable_set_args, kl_http_variable_misc,
      KL_HTTP_VAR_ARGS, KL_HTTP_VAR_NC | KL_HTTP_VAR_CHANGEABLE, 0 },
    kl_http_var("query_string", kl_http_variable_misc, KL_HTTP_VAR_ARGS,
                KL_HTTP_VAR_NC),
    kl_http_var("request", kl_http_variable_misc, KL_HTTP_VAR_REQUEST, 0),
    /* error_page makes a POST a GET: computed again, as nginx. */
    kl_http_var("request_method", kl_http_variable_misc, KL_HTTP_VAR_METHOD,
                KL_HTTP_VAR_NC),
    kl_http_var("server_name", kl_http_variable_misc, KL_HTTP_VAR_SERVER_NAME,
                0),
    kl_http_var("nginx_version", kl_http_variable_misc, KL_HTTP_VAR_VERSION, 0),
    kl_http_var("kiln_version", kl_http_variable_misc, KL_HTTP_VAR_VERSION, 0),
    kl_http_var("pipe", kl_http_variable_misc, KL_HTTP_VAR_PIPE, 0),
    kl_http_var("time_local", kl_http_variable_misc, KL_HTTP_VAR_TIME_LOCAL,
                KL_HTTP_VAR_NC),
    kl_http_var("time_iso8601", kl_http_variable_misc, KL_HTTP_VAR_TIME_ISO8601,
                KL_HTTP_VAR_NC),
    kl_http_var("content_length", kl_http_variable_misc,
                KL_HTTP_VAR_CONTENT_LENGTH, 0),

    kl_http_var("status", kl_http_variable_number, KL_HTTP_VAR_STATUS,
                KL_HTTP_VAR_NC),
    kl_http_var("bytes_sent", kl_http_variable_number, KL_HTTP_VAR_BYTES_SENT,
                KL_HTTP_VAR_NC),
    kl_http_var("body_bytes_sent", kl_http_variable_number,
                KL_HTTP_VAR_BODY_BYTES_SENT, KL_HTTP_VAR_NC),
    kl_http_var("request_length", kl_http_variable_number,
                KL_HTTP_VAR_REQUEST_LENGTH, KL_HTTP_VAR_NC),
    kl_http_var("request_time", kl_http_variable_number,
                KL_HTTP_VAR_REQUEST_TIME, KL_HTTP_VAR_NC),
    kl_http_var("msec", kl_http_variable_number, KL_HTTP_VAR_MSEC,
                KL_HTTP_VAR_NC),
    kl_http_var("connection", kl_http_variable_number, KL_HTTP_VAR_CONNECTION,
                0),
    kl_http_var("connection_requests", kl_http_variable_number,
                KL_HTTP_VAR_CONNECTION_REQUESTS, 0),
    kl_http_var("pid", kl_http_variable_number, KL_HTTP_VAR_PID, 0),

    kl_http_var("remote_addr", kl_http_variable_address,
                KL_HTTP_VAR_REMOTE_ADDR, 0),
    kl_http_var("binary_remote_addr", kl_http_variable_address,
                KL_HTTP_VAR_BINARY_REMOTE_ADDR, 0),
    kl_http_var("remote_port", kl_http_variable_address,
                KL_HTTP_VAR_REMOTE_PORT, 0),
    kl_http_var("server_addr", kl_http_variable_address,
                KL_HTTP_VAR_SERVER_ADDR, 0),
    kl_http_var("server_port", kl_http_variable_address,
                KL_HTTP_VAR_SERVER_PORT, 0),

    kl_http_var("document_root", kl_http_variable_path,
                KL_HTTP_VAR_DOCUMENT_ROOT, KL_HTTP_VAR_NC),
    kl_http_var("realpath_root", kl_http_variable_path,
                KL_HTTP_VAR_REALPATH_ROOT, KL_HTTP_VAR_NC),
    kl_http_var("request_filename", kl_http_variable_path,
                KL_HTTP_VAR_REQUEST_FILENAME, KL_HTTP_VAR_NC),

    kl_http_null_variable
};


kl_int_t
kl_http_variables_core_add(kl_conf_t *cf)
{
    kl_http_variable_t *cv, *v;

    for (cv = kl_http_core_variables; cv->name.len; cv++) {
        v = kl_http_add_variable(cf, &cv->name, cv->flags);
        if (v == NULL) {
            return KL_ERROR;
        }

        v->get_handler = cv->get_handler;
        v->set_handler = cv->set_handler;
        v->data = cv->data;
    }

    if (kl_http_variables_headers_add(cf) != KL_OK
        || kl_http_variables_request_add(cf) != KL_OK)
    {
        return KL_ERROR;
    }

    return KL_OK;
}


kl_int_t
kl_http_variables_core_init(kl_conf_t *cf)
{
    kl_http_core_main_conf_t      *cmcf;
    kl_http_variables_main_conf_t *vmcf;

    cmcf = kl_http_conf_get_module_main_conf(cf, kl_http_core_module);
    vmcf = kl_http_conf_get_module_main_conf(cf, kl_http_variables_module);

    vmcf->next_header_filter = cmcf->top_header_filter;
    cmcf->top_header_filter = kl_http_variables_header_filter;

    return KL_OK;
}


/* Header filter: where c->sent stood, and how long the head is. */
static kl_int_t
kl_http_variables_header_filter(kl_http_request_t *r)
{
    off_t                          sent, queued;
    kl_int_t                       rc;
    kl_chain_t                    *cl;
    kl_http_variables_ctx_t       *ctx;
    kl_http_variables_main_conf_t *vmcf;

    ctx = kl_pcalloc(r->pool, sizeof(kl_http_variables_ctx_t));
    if (ctx == NULL) {
        return KL_ERROR;
    }

    kl_http_set_ctx(r, ctx, kl_http_variables_module);

    /* Bytes queued before the head (none, normally) are not the head's. */
    queued = 0;

    for (cl = r->out; cl; cl = cl->next) {
        queued += kl_buf_size(cl->buf);
    }

    sent = r->connection->sent;
    ctx->sent_start = sent + queued;

    vmcf = kl_http_get_module_main_conf(r, kl_http_variables_module);
    rc = vmcf->next_header_filter(r);

    /* What went out during the call plus what it left queued. */
    ctx->header_size = r->connection->sent - sent - queued;

    for (cl = r->out; cl; cl = cl->next) {
        ctx->header_size += kl_buf_size(cl->buf);
    }

    return rc;
}


static kl_int_t
kl_http_variable_request(kl_http_request_t *r, kl_http_variable_value_t *v,
                         uintptr_t data)
{
    kl_str_t *s;

    s = (kl_str_t *) ((char *) r + data);

    if (s->data == NULL) {
        v->not_found = 1;
        return KL_OK;
    }

    kl_http_variable_set(v, s->data, s->len);

    return KL_OK;
}


static kl_int_t
kl_http_variable_copy(kl_http_request_t *r, kl_http_variable_value_t *v,
                      u_char *data, size_t len)
{
    u_char *p;

    p = kl_pnalloc(r->pool, len);
    if (p == NULL) {
        return KL_ERROR;
    }

    kl_memcpy(p, data, len);
    kl_http_variable_set(v, p, len);

    return KL_OK;
}


/* The request line, or as much of it as came (the protocol sets that when
 * a request ends before its line was parsed). */
static void
kl_http_variable_request_line(kl_http_request_t *r, kl_str_t *line)
{
    *line = r->request_line;
}


/* v's bytes live in the request pool: they outlive the request's args. */
static void
kl_http_variable_set_args(kl_http_request_t *r, kl_http_variable_value_t *v,
                          uintptr_t data)
{
    (void) data;

    r->args.len = v->len;
    r->args.data = v->data;
}


static kl_int_t
kl_http_variable_misc(kl_http_request_t *r, kl_http_variable_value_t *v,
                      uintptr_t data)
{
    u_char                  *p;
    kl_str_t                 s;
    kl_http_core_srv_conf_t *cscf;

    kl_str_null(&s);

    switch (data) {

    case KL_HTTP_VAR_HOST:
        if (r->headers_in.server.len) {
            s = r->headers_in.server;
        } else {
            cscf = kl_http_get_module_srv_conf(r, kl_http_core_module);
            s = cscf->server_name;
        }
        break;

    case KL_HTTP_VAR_HOSTNAME:
        s = kl_cycle->hostname;
        break;

    case KL_HTTP_VAR_SCHEME:
        if (r->connection->ssl) {
            kl_str_set(&s, "https");
        } else {
            kl_str_set(&s, "http");
        }
        break;

    case KL_HTTP_VAR_HTTPS:
        if (r->connection->ssl) {
            kl_str_set(&s, "on");
        } else {
            kl_str_set(&s, "");
        }
        break;

    case KL_HTTP_VAR_IS_ARGS:
        if (r->args.len) {
            kl_str_set(&s, "?");
        } else {
            kl_str_set(&s, "");
        }
        break;

    case KL_HTTP_VAR_ARGS:
        /* nginx logs "-" for "/x" and for "/x?" alike */
        if (r->args.len) {
            s = r->args;
        }
        break;

    case KL_HTTP_VAR_REQUEST:
        kl_http_variable_request_line(r, &s);
        if (s.len == 0) {
            kl_str_null(&s);
        }
        break;

    case KL_HTTP_VAR_METHOD:
        s = r->method_name;
        break;

    case KL_HTTP_VAR_SERVER_NAME:
        cscf = kl_http_get_module_srv_conf(r, kl_http_core_module);
        s = cscf->server_name;
        break;

    case KL_HTTP_VAR_VERSION:
        kl_str_set(&s, KL_VERSION);
        break;

    case KL_HTTP_VAR_PIPE:
        if (r->pipeline) {
            kl_str_set(&s, "p");
        } else {
            kl_str_set(&s, ".");
        }
        break;

    case KL_HTTP_VAR_TIME_LOCAL:
        return kl_http_variable_copy(r, v, kl_loop.clock.http_log_time,
                                     sizeof(kl_loop.clock.http_log_time) - 1);

    case KL_HTTP_VAR_TIME_ISO8601:
        return kl_http_variable_copy(r, v, kl_loop.clock.iso8601,
                                     sizeof(kl_loop.clock.iso8601) - 1);

    case KL_HTTP_VAR_CONTENT_LENGTH:
        if (r->headers_in.content_length) {
            s = r->headers_in.content_length->value;

        } else if (r->headers_in.content_length_n >= 0) {
            p = kl_pnalloc(r->pool, KL_INT_T_LEN);
            if (p == NULL) {
                return KL_ERROR;
            }

            s.data = p;
            s.len = kl_slprintf(p, p + KL_INT_T_LEN, "%O",
                                r->headers_in.content_length_n)
                    - p;
        }
        break;
    }

    if (s.data == NULL) {
        v->not_found = 1;
        return KL_OK;
    }

    kl_http_variable_set(v, s.data, s.len);

    return KL_OK;
}


off_t
kl_http_bytes_sent(kl_http_request_t *r)
{
    kl_http_variables_ctx_t *ctx;

    ctx = kl_http_get_module_ctx(r, kl_http_variables_module);

    return ctx ? r->connection->sent - ctx->sent_start : 0;
}


static kl_int_t
kl_http_variable_number(kl_http_request_t *r, kl_http_variable_value_t *v,
                        uintptr_t data)
{
    u_char                  *p, *last;
    off_t                    n;
    kl_msec_int_t            ms;
    kl_connection_t         *c;
    kl_http_variables_ctx_t *ctx;

    c = r->connection;
    ctx = kl_http_get_module_ctx(r, kl_http_variables_module);

    p = kl_pnalloc(r->pool, KL_INT_T_LEN + sizeof(".000"));
    if (p == NULL) {
        return KL_ERROR;
    }

    last = p + KL_INT_T_LEN + sizeof(".000");

    switch (data) {

    case KL_HTTP_VAR_STATUS:
        n = r->err_status ? (off_t) r->err_status
                          : (off_t) r->headers_out.status;
        last = kl_slprintf(p, last, "%03O", n);
        break;

    case KL_HTTP_VAR_BYTES_SENT:
        n = ctx ? c->sent - ctx->sent_start : 0;
        last = kl_slprintf(p, last, "%O", n);
        break;

    case KL_HTTP_VAR_BODY_BYTES_SENT:
        n = ctx ? c->sent - ctx->sent_start - ctx->header_size : 0;
        last = kl_slprintf(p, last, "%O", n < 0 ? (off_t) 0 : n);
        break;

    case KL_HTTP_VAR_REQUEST_LENGTH:
        last = kl_slprintf(p, last, "%O", r->request_length);
        break;

    case KL_HTTP_VAR_REQUEST_TIME:
        ms = (kl_msec_int_t) (kl_now() - r->start_msec);
        ms = kl_max(ms, 0);
        last = kl_slprintf(p, last, "%T.%03M", (time_t) (ms / 1000),
                           (kl_msec_t) (ms % 1000));
        break;

    case KL_HTTP_VAR_MSEC:
        last = kl_slprintf(p, last, "%T.%03ui", kl_loop.clock.sec,
                           kl_loop.clock.msec_part);
        break;

    case KL_HTTP_VAR_CONNECTION:
        last = kl_slprintf(p, last, "%ui", c->number);
        break;

    case KL_HTTP_VAR_CONNECTION_REQUESTS:
        last = kl_slprintf(p, last, "%ui", c->requests);
        break;

    default: /* KL_HTTP_VAR_PID */
        last = kl_slprintf(p, last, "%d", (int) kl_loop.pid);
        break;
    }

    kl_http_variable_set(v, p, last - p);

    return KL_OK;
}


static kl_uint_t
kl_http_variable_port(struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET6) {
        return ntohs(((struct sockaddr_in6 *) sa)->sin6_port);
    }

    if (sa->sa_family == AF_INET) {
        return ntohs(((struct sockaddr_in *) sa)->sin_port);
    }

    return 0;
}


/* The local address, asking the kernel when the socket is a wildcard. */
static kl_int_t
kl_http_variable_local_sockaddr(kl_connection_t *c)
{
    socklen_t      len;
    kl_sockaddr_t *sa;

    sa = (kl_sockaddr_t *) c->local_sockaddr;

    if (sa
        && ((sa->sockaddr.sa_family == AF_INET
             && sa->sockaddr_in.sin_addr.s_addr != htonl(INADDR_ANY))
            || (sa->sockaddr.sa_family == AF_INET6
                && !IN6_IS_ADDR_UNSPECIFIED(&sa->sockaddr_in6.sin6_addr))))
    {
        return KL_OK;
    }

    sa = kl_palloc(c->pool, sizeof(kl_sockaddr_t));
    if (sa == NULL) {
        return KL_ERROR;
    }

    len = sizeof(kl_sockaddr_t);

    if (getsockname(c->fd, &sa->sockaddr, &len) == -1) {
        kl_log_error(KL_LOG_CRIT, c->log, errno, "getsockname() failed");
        return KL_ERROR;
    }

    /* Kept for the connection, as nginx does. */
    c->local_sockaddr = &sa->sockaddr;
    c->local_socklen = len;

    return KL_OK;
}


static kl_int_t
kl_http_variable_address(kl_http_request_t *r, kl_http_variable_value_t *v,
                         uintptr_t data)
{
    u_char          *p;
    size_t           len;
    kl_uint_t        port;
    kl_connection_t *c;
    struct sockaddr *sa;
    u_char           text[KL_SOCKADDR_STRLEN];

    c = r->connection;
    sa = c->sockaddr;

    switch (data) {

    case KL_HTTP_VAR_REMOTE_ADDR:
        kl_http_variable_set(v, c->addr_text.data, c->addr_text.len);
        return KL_OK;

    case KL_HTTP_VAR_BINARY_REMOTE_ADDR:
        if (sa->sa_family == AF_INET6) {
            p = (u_char *) &((struct sockaddr_in6 *) sa)->sin6_addr;
            len = 16;

        } else if (sa->sa_family == AF_INET) {
            p = (u_char *) &((struct sockaddr_in *) sa)->sin_addr;
            len = 4;

        } else {
            p = NULL;
            len = 0;
        }

        kl_http_variable_set(v, p, len);
        return KL_OK;

    case KL_HTTP_VAR_SERVER_ADDR:
        if (kl_http_variable_local_sockaddr(c) != KL_OK) {
            return KL_ERROR;
        }

        len = kl_sock_ntop(c->local_sockaddr, c->local_socklen, text,
                           sizeof(text), 0);
        return kl_http_variable_copy(r, v, text, len);

    case KL_HTTP_VAR_SERVER_PORT:
        sa = c->local_sockaddr;
        /* fall through */

    default: /* KL_HTTP_VAR_REMOTE_PORT */
        port = sa ? kl_http_variable_port(sa) : 0;
        len = 0;

        if (port > 0 && port < 65536) {
            len = kl_snprintf(text, sizeof(text), "%ui", port) - text;
        }

        return kl_http_variable_copy(r, v, text, len);
    }
}


static kl_int_t
kl_http_variable_path(kl_http_request_t *r, kl_http_variable_value_t *v,
                      uintptr_t data)
{
    u_char                  *real;
    size_t                   root;
    kl_str_t                 path, root_value;
    kl_http_core_loc_conf_t *clcf;

    clcf = kl_http_get_module_loc_conf(r, kl_http_core_module);

    switch (data) {

    case KL_HTTP_VAR_DOCUMENT_ROOT:
        /* root or alias as written, its variables evaluated. */
        if (clcf->root_cv == NULL) {
            kl_http_variable_set(v, clcf->root.data, clcf->root.len);
            return KL_OK;
        }

        if (kl_http_complex_value(r, clcf->root_cv, &path) != KL_OK) {
            return KL_ERROR;
        }

        kl_http_variable_set(v, path.data, path.len);
        return KL_OK;

    case KL_HTTP_VAR_REALPATH_ROOT:
        root_value = clcf->root;

        if (clcf->root_cv
            && kl_http_complex_value(r, clcf->root_cv, &root_value) != KL_OK)
        {
            return KL_ERROR;
        }

        path.data = kl_pnalloc(r->pool, root_value.len + 1);
        real = kl_pnalloc(r->pool, PATH_MAX);
        if (path.data == NULL || real == NULL) {
            return KL_ERROR;
        }

        *kl_cpymem(path.data, root_value.data, root_value.len) = '\0';

        if (realpath((char *) path.data, (char *) real) == NULL) {
            kl_log_error(KL_LOG_CRIT, r->connection->log, errno,
                         "realpath() \"%s\" failed", path.data);
            return KL_ERROR;
        }

        kl_http_variable_set(v, real, kl_strlen(real));
        return KL_OK;

    default: /* KL_HTTP_VAR_REQUEST_FILENAME */
        if (r->uri.data == NULL) {
            v->not_found = 1;
            return KL_OK;
        }

        if (kl_http_map_uri_to_path(r, &path, &root, 0) == NULL) {
            return KL_ERROR;
        }

        kl_http_variable_set(v, path.data, path.len);
        return KL_OK;
    }
}
