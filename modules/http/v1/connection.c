/*
 * connection.c: an HTTP/1 connection's life up to a request: waiting,
 * reading and parsing the head; and kl_http_v1_proto, the table its
 * requests carry. What follows a response (keep-alive, pipelining,
 * lingering close) is keepalive.c.
 *
 * A connection moves through these read handlers, one at a time:
 *
 *   wait_request      idle, after accept or between keep-alive requests
 *                     (c->idle): no pool at all, no buffer until bytes
 *   request_line      reading and parsing the request line
 *   request_headers   reading and parsing the header fields
 *   request_handler   the phases run; reads are blocked, writes drive
 *   lingering_close   response sent, draining the client before close
 *                     (keepalive.c)
 *
 * Every handler first honours c->close (graceful exit, idle reclaim).
 */

#include "kl_http.h"
#include "upstream.h"


/*
 * All an idle connection holds besides what accept made (its log and
 * address): one exact block, freed as the connection closes. The
 * connection's pool (c->pool: the header buffer, large header buffers)
 * lives only while the connection is busy, from the first bytes of a
 * request until it goes idle again.
 */
typedef struct {
    kl_http_log_ctx_t    ctx; /* first: the block is freed as c->log->data */
    kl_http_connection_t hc;
} kl_http_idle_t;


static void        kl_http_process_request_headers(kl_event_t *rev);
static ssize_t     kl_http_read_request_header(kl_http_request_t *r);
static kl_int_t    kl_http_alloc_large_header_buffer(kl_http_request_t *r,
                                                     kl_uint_t request_line);
static kl_int_t    kl_http_process_request_uri(kl_http_request_t *r);
static void        kl_http_request_line_so_far(kl_http_request_t *r);
static void        kl_http_header_too_large(kl_http_request_t *r);
static kl_int_t    kl_http_v1_process_request_header(kl_http_request_t *r);
static void        kl_http_process_request(kl_http_request_t *r);
static void        kl_http_request_handler(kl_event_t *ev);
static kl_chain_t *kl_http_v1_send_chain(kl_http_request_t *r, kl_chain_t *in,
                                         off_t limit);
static void        kl_http_v1_close(kl_http_request_t *r, kl_int_t rc);
static u_char     *kl_http_log_error(kl_log_t *log, u_char *buf, size_t len);


const kl_http_proto_t kl_http_v1_proto = {
    .send_header = kl_http_v1_send_header,
    .send_chain = kl_http_v1_send_chain,
    .read_body = kl_http_v1_read_body,
    .discard_body = kl_http_v1_discard_body,
    .send_continue = kl_http_v1_send_continue,
    .switch_protocols = kl_http_v1_switch_protocols,
    .finalize = kl_http_v1_finalize,
    .close = kl_http_v1_close,
};


/* The request goes, and the connection with it. */
static void
kl_http_v1_close(kl_http_request_t *r, kl_int_t rc)
{
    kl_connection_t *c;

    c = r->connection;

    kl_http_free_request(r, rc);
    kl_http_close_connection(c);
}


void
kl_http_init_connection(kl_connection_t *c)
{
    kl_uint_t             i;
    socklen_t             len;
    kl_sockaddr_t         sa;
    kl_event_t           *rev;
    kl_http_port_t       *port;
    kl_http_in_addr_t    *addr;
    kl_http_idle_t       *idle;
    kl_http_log_ctx_t    *ctx;
    kl_http_connection_t *hc;

    idle = kl_calloc(sizeof(kl_http_idle_t), c->log);
    if (idle == NULL) {
        kl_http_close_connection(c);
        return;
    }

    ctx = &idle->ctx;
    hc = &idle->hc;

    /* From here kl_http_close_connection frees the block. */
    c->log->data = ctx;
    c->data = hc;

    port = c->listening->servers;
    addr = &port->addrs[0];

    if (port->naddrs > 1) {
        /* A wildcard socket: which of its addresses was connected to? */
        len = sizeof(kl_sockaddr_t);

        if (getsockname(c->fd, &sa.sockaddr, &len) == -1) {
            kl_log_error(KL_LOG_ERR, c->log, errno, "getsockname() failed");
            kl_http_close_connection(c);
            return;
        }

        addr = &port->addrs[port->naddrs - 1];

        for (i = 0; i < port->naddrs - 1; i++) {
            if (kl_sock_cmp(&port->addrs[i].sockaddr.sockaddr,
                            port->addrs[i].socklen, &sa.sockaddr, len))
            {
                addr = &port->addrs[i];
                break;
            }
        }
    }

    hc->addr_conf = &addr->conf;
    hc->conf_ctx = addr->conf.default_server->ctx;
    hc->start_msec = kl_now();

    ctx->connection = c;
    ctx->request = NULL;

    c->log->connection = c->number;
    c->log->handler = kl_http_log_error;
    c->log->data = ctx;
    rev = c->read;
    c->write->handler = kl_http_empty_handler;

    /* The stages: the PROXY header, then TLS, then HTTP/1. */
    if (addr->conf.proxy_protocol) {
        c->log->action = "reading PROXY protocol";
        rev->handler = kl_http_proxy_protocol_handler;

    } else if (addr->conf.ssl) {
        kl_http_ssl_init_connection(c);
        return;

    } else {
        c->log->action = "waiting for request";
        rev->handler = kl_http_wait_request_handler;
    }

    /*
     * The request usually came with the handshake's last packet (and
     * always does with deferred accept): reading now saves a trip
     * through epoll; if nothing is there yet, recv says so at once.
     */
    rev->ready = 1;
    rev->handler(rev);
}


/*
 * The connection's pool and header buffer, for the time it is busy. The
 * pool comes from the loop's stash, so a keep-alive connection takes and
 * gives back the same block without malloc; its first block holds the
 * header buffer when that is small enough, so the buffer costs no malloc
 * either.
 */
kl_int_t
kl_http_get_buffer(kl_connection_t *c, size_t size)
{
    size_t pool_size;

    if (c->pool == NULL) {
        pool_size = c->listening->pool_size;

        if (pool_size < KL_MAX_ALLOC_FROM_POOL
            && size < KL_MAX_ALLOC_FROM_POOL - pool_size)
        {
            pool_size += kl_align(size, KL_POOL_ALIGNMENT) + sizeof(kl_buf_t);
        }

        c->pool = kl_pool_create_reused(&kl_loop.pool_stash, pool_size, c->log);
        if (c->pool == NULL) {
            return KL_ERROR;
        }
    }

    if (c->buffer == NULL) {
        c->buffer = kl_buf_create_temp(c->pool, size);
        if (c->buffer == NULL) {
            return KL_ERROR;
        }
    }

    return KL_OK;
}


/*
 * An idle connection gives its pool back (DESIGN.md section 4), and with
 * it the header buffer and any large header buffers; a local address
 * that $server_addr looked up and kept in the pool goes too (the next
 * lookup makes it again).
 */
void
kl_http_release_pool(kl_connection_t *c, kl_http_connection_t *hc)
{
    if (c->pool == NULL) {
        return;
    }

    kl_pool_release(&kl_loop.pool_stash, c->pool);

    c->pool = NULL;
    c->buffer = NULL;

    hc->busy = NULL;
    hc->nbusy = 0;
    hc->free = NULL;
    hc->nfree = 0;

    c->local_sockaddr = &c->listening->sockaddr.sockaddr;
    c->local_socklen = c->listening->socklen;
}


void
kl_http_wait_request_handler(kl_event_t *rev)
{
    ssize_t                  n;
    kl_connection_t         *c;
    kl_http_connection_t    *hc;
    kl_http_core_srv_conf_t *cscf;

    c = rev->data;

    if (rev->timedout) {
        /* An idle keep-alive connection ends quietly, as in nginx. */
        if (!c->idle) {
            kl_log_error(KL_LOG_INFO, c->log, ETIMEDOUT, "client timed out");
        }

        kl_http_close_connection(c);
        return;
    }

    if (c->close) {
        kl_http_close_connection(c);
        return;
    }

    hc = c->data;
    cscf = hc->conf_ctx->srv_conf[kl_http_core_module.ctx_index];

    if (kl_http_get_buffer(c, cscf->client_header_buffer_size) != KL_OK) {
        kl_http_close_connection(c);
        return;
    }

    /* Bytes that came after a PROXY protocol header are the first ones. */
    n = c->buffer->pos < c->buffer->last
            ? 0
            : c->io->recv(c, c->buffer->last, c->buffer->end - c->buffer->last);

    if (n == KL_AGAIN) {
        if (!rev->timer_set) {
            kl_event_add_timer(rev, cscf->client_header_timeout);
        }

        kl_reusable_connection(c, 1);
        kl_http_release_pool(c, hc);
        return;
    }

    if (n == KL_ERROR) {
        kl_http_close_connection(c);
        return;
    }

    if (n == 0 && c->buffer->pos == c->buffer->last) {
        if (!c->idle) {
            kl_log_error(KL_LOG_INFO, c->log, 0, "client closed connection");
        }

        kl_http_close_connection(c);
        return;
    }

    c->buffer->last += n;

    if (c->idle) {
        /* The keep-alive timer ends here; the request's own starts. */
        c->idle = 0;

        if (rev->timer_set) {
            kl_event_del_timer(rev);
        }
    }

    kl_reusable_connection(c, 0);

    c->data = kl_http_create_request(c);
    if (c->data == NULL) {
        kl_http_close_connection(c);
        return;
    }

    c->log->action = "reading client request line";

    rev->handler = kl_http_process_request_line;
    kl_http_process_request_line(rev);
}


kl_http_request_t *
kl_http_create_request(kl_connection_t *c)
{
    kl_pool_t               *pool;
    kl_http_request_t       *r;
    kl_http_log_ctx_t       *ctx;
    kl_http_connection_t    *hc;
    kl_http_core_srv_conf_t *cscf;

    hc = c->data;
    cscf = hc->conf_ctx->srv_conf[kl_http_core_module.ctx_index];

    pool = kl_pool_create_reused(&kl_loop.pool_stash, cscf->request_pool_size,
                                 c->log);
    if (pool == NULL) {
        return NULL;
    }

    r = kl_pcalloc(pool, sizeof(kl_http_request_t));
    if (r == NULL) {
        kl_pool_release(&kl_loop.pool_stash, pool);
        return NULL;
    }

    r->pool = pool;
    r->http_connection = hc;
    r->connection = c;
    r->proto = &kl_http_v1_proto;

    /* A new request: no deadline of the last one holds. */
    hc->lingering_deadline = 0;

    r->main_conf = hc->conf_ctx->main_conf;
    r->srv_conf = hc->conf_ctx->srv_conf;
    r->loc_conf = hc->conf_ctx->loc_conf;

    r->read_event_handler = kl_http_block_reading;
    r->write_event_handler = kl_http_request_empty_handler;
    r->header_in = hc->nbusy ? hc->busy[0] : c->buffer;

    r->ctx =
        kl_pcalloc(pool, sizeof(void *) * kl_modules_count(KL_HTTP_MODULE));

    if (r->ctx == NULL
        || kl_list_init(&r->headers_in.headers, pool, 20,
                        sizeof(kl_table_elt_t))
               != KL_OK
        || kl_list_init(&r->headers_out.headers, pool, 20,
                        sizeof(kl_table_elt_t))
               != KL_OK
        || kl_list_init(&r->headers_out.trailers, pool, 2,
                        sizeof(kl_table_elt_t))
               != KL_OK)
    {
        kl_pool_release(&kl_loop.pool_stash, pool);
        return NULL;
    }

    r->main = r;
    r->count = 1;
    r->start_sec = kl_loop.clock.sec;
    r->start_msec = kl_now();
    r->method = KL_HTTP_UNKNOWN;
    r->http_version = KL_HTTP_VERSION_10;
    r->uri_changes = KL_HTTP_MAX_URI_CHANGES + 1;

    r->headers_in.content_length_n = -1;
    r->headers_out.content_length_n = -1;
    r->headers_out.last_modified_time = -1;

    ctx = c->log->data;
    ctx->request = r;

    c->requests++;

    r->stat_reading = 1;
    kl_stat_add(reading, 1);
    kl_stat_add(requests, 1);

    return r;
}


/*
 * A request that ends before its line was parsed is logged with as much of
 * the line as came ($request), up to the first CR or LF; nginx's variable
 * looks for it itself, kiln's knows nothing of the HTTP/1 buffer.
 */
static void
kl_http_request_line_so_far(kl_http_request_t *r)
{
    u_char *p;

    if (r->request_line.data || r->parse.request_start == NULL) {
        return;
    }

    for (p = r->parse.request_start; p < r->header_in->last; p++) {
        if (*p == '\r' || *p == '\n') {
            break;
        }
    }

    r->request_line.data = r->parse.request_start;
    r->request_line.len = p - r->parse.request_start;
}


void
kl_http_process_request_line(kl_event_t *rev)
{
    ssize_t            n;
    kl_int_t           rc, rv;
    kl_connection_t   *c;
    kl_http_request_t *r;

    c = rev->data;
    r = c->data;

    if (rev->timedout) {
        kl_log_error(KL_LOG_INFO, c->log, ETIMEDOUT, "client timed out");
        c->timedout = 1;
        kl_http_request_line_so_far(r);
        kl_http_close_request(r, KL_HTTP_REQUEST_TIME_OUT);
        return;
    }

    if (c->close) {
        kl_http_close_request(r, 0);
        return;
    }

    rc = KL_AGAIN;

    for (;;) {

        if (rc == KL_AGAIN) {
            n = kl_http_read_request_header(r);

            if (n == KL_AGAIN || n == KL_ERROR) {
                return;
            }
        }

        rc = kl_http_parse_request_line(&r->parse, r->header_in);

        if (rc == KL_OK) {
            r->request_line.data = r->parse.request_start;
            r->request_line.len = r->parse.request_end - r->parse.request_start;
            r->request_length = r->header_in->pos - r->parse.request_start;

            r->method = r->parse.method;
            r->method_name.data = r->parse.request_start;
            r->method_name.len = r->parse.method_end - r->parse.request_start;

            r->http_version = r->parse.http_version;
            r->http_protocol.data = r->parse.request_end - 8;
            r->http_protocol.len = 8;

            if (r->parse.schema_start) {
                r->schema.data = r->parse.schema_start;
                r->schema.len = r->parse.schema_end - r->parse.schema_start;
            }

            if (kl_http_process_request_uri(r) != KL_OK) {
                return;
            }

            if (r->parse.host_start && r->parse.host_end) {
                kl_str_t host;

                host.data = r->parse.host_start;
                host.len = r->parse.host_end - r->parse.host_start;

                if (kl_http_validate_host(&host, r->pool) != KL_OK) {
                    kl_log_error(KL_LOG_INFO, c->log, 0,
                                 "client sent invalid host in request line");
                    kl_http_finalize_request(r, KL_HTTP_BAD_REQUEST);
                    return;
                }

                r->headers_in.server = host;

                if (kl_http_set_virtual_server(r, &host) != KL_OK) {
                    return;
                }
            }

            c->log->action = "reading client request headers";

            r->parse.state = 0;
            rev->handler = kl_http_process_request_headers;
            kl_http_process_request_headers(rev);

            return;
        }

        if (rc != KL_AGAIN) {
            kl_log_error(KL_LOG_INFO, c->log, 0,
                         rc == KL_HTTP_PARSE_INVALID_VERSION
                             ? "client sent unsupported HTTP version"
                             : "client sent invalid request");

            kl_http_request_line_so_far(r);
            kl_http_finalize_request(r, rc == KL_HTTP_PARSE_INVALID_VERSION
                                            ? KL_HTTP_VERSION_NOT_SUPPORTED
                                            : KL_HTTP_BAD_REQUEST);
            return;
        }

        /* The line does not fit the buffer yet. */
        if (r->header_in->pos == r->header_in->end) {

            rv = kl_http_alloc_large_header_buffer(r, 1);

            if (rv == KL_ERROR) {
                kl_http_close_request(r, KL_HTTP_INTERNAL_SERVER_ERROR);
                return;
            }

            if (rv == KL_DECLINED) {
                r->request_line.len =
                    r->header_in->end - r->parse.request_start;
                r->request_line.data = r->parse.request_start;

                kl_log_error(KL_LOG_INFO, c->log, 0,
                             "client sent too long URI");
                kl_http_finalize_request(r, KL_HTTP_REQUEST_URI_TOO_LARGE);
                return;
            }
        }
    }
}


static kl_int_t
kl_http_process_request_uri(kl_http_request_t *r)
{
    u_char                  *path_end;
    ssize_t                  n;
    size_t                   len;
    kl_http_core_srv_conf_t *cscf;

    r->unparsed_uri.data = r->parse.uri_start;
    r->unparsed_uri.len = r->parse.uri_end - r->parse.uri_start;
    r->valid_unparsed_uri = 1;

    if (r->parse.asterisk_form) {
        kl_str_set(&r->uri, "*");
        return KL_OK;
    }

    path_end = r->parse.path_end;

    if (r->parse.args_start) {
        r->args.data = r->parse.args_start;
        r->args.len = r->parse.uri_end - r->parse.args_start;
    }

    if (r->parse.path_start == NULL || r->parse.path_start >= path_end) {
        kl_str_set(&r->uri, "/");
        return KL_OK;
    }

    len = path_end - r->parse.path_start;

    if (r->parse.complex_uri || r->parse.quoted_uri) {
        r->uri.data = kl_pnalloc(r->pool, len + 1);
        if (r->uri.data == NULL) {
            kl_http_close_request(r, KL_HTTP_INTERNAL_SERVER_ERROR);
            return KL_ERROR;
        }

        cscf = kl_http_get_module_srv_conf(r, kl_http_core_module);

        n = kl_http_normalize_uri(r->parse.path_start, len, r->uri.data,
                                  cscf->merge_slashes);

        if (n == KL_ERROR) {
            r->uri.len = 0;
            kl_log_error(KL_LOG_INFO, r->connection->log, 0,
                         "client sent invalid request");
            kl_http_finalize_request(r, KL_HTTP_BAD_REQUEST);
            return KL_ERROR;
        }

        r->uri.len = (size_t) n;

    } else {
        r->uri.data = r->parse.path_start;
        r->uri.len = len;
    }

    kl_http_set_exten(r);

    return KL_OK;
}


/*
 * A header line that fits no large buffer: logged as nginx logs it, with
 * the line's start (cut to leave room for the rest of the error line).
 */
static void
kl_http_header_too_large(kl_http_request_t *r)
{
    size_t  len;
    u_char *p;

    p = r->parse.header_name_start;
    r->lingering_close = 1;

    if (p == NULL) {
        kl_log_error(KL_LOG_INFO, r->connection->log, 0,
                     "client sent too large request");

    } else {
        len = kl_min((size_t) (r->header_in->end - p), KL_MAX_ERROR_STR - 300);
        kl_log_error(KL_LOG_INFO, r->connection->log, 0,
                     "client sent too long header line: \"%*s...\"", len, p);
    }

    kl_http_finalize_request(r, KL_HTTP_REQUEST_HEADER_TOO_LARGE);
}


static void
kl_http_process_request_headers(kl_event_t *rev)
{
    ssize_t                  n;
    kl_int_t                 rc, rv;
    kl_table_elt_t          *h;
    kl_connection_t         *c;
    kl_http_request_t       *r;
    kl_http_core_srv_conf_t *cscf;

    c = rev->data;
    r = c->data;

    if (rev->timedout) {
        kl_log_error(KL_LOG_INFO, c->log, ETIMEDOUT, "client timed out");
        c->timedout = 1;
        kl_http_close_request(r, KL_HTTP_REQUEST_TIME_OUT);
        return;
    }

    if (c->close) {
        kl_http_close_request(r, 0);
        return;
    }

    cscf = kl_http_get_module_srv_conf(r, kl_http_core_module);
    rc = KL_AGAIN;

    for (;;) {

        if (rc == KL_AGAIN) {

            if (r->header_in->pos == r->header_in->end) {

                rv = kl_http_alloc_large_header_buffer(r, 0);

                if (rv == KL_ERROR) {
                    kl_http_close_request(r, KL_HTTP_INTERNAL_SERVER_ERROR);
                    return;
                }

                if (rv == KL_DECLINED) {
                    kl_http_header_too_large(r);
                    return;
                }
            }

            n = kl_http_read_request_header(r);

            if (n == KL_AGAIN || n == KL_ERROR) {
                return;
            }
        }

        rc = kl_http_parse_header_line(&r->parse, r->header_in);

        if (rc == KL_OK) {

            r->request_length += r->header_in->pos - r->parse.header_name_start;

            if (r->headers_in.count++ >= cscf->max_headers) {
                kl_log_error(KL_LOG_INFO, c->log, 0,
                             "client sent too many header lines");
                kl_http_finalize_request(r, KL_HTTP_BAD_REQUEST);
                return;
            }

            if (r->parse.underscore && !cscf->underscores_in_headers
                && cscf->ignore_invalid_headers)
            {
                kl_log_error(
                    KL_LOG_INFO, c->log, 0,
                    "client sent invalid header line: \"%*s\"",
                    (size_t) (r->parse.header_end - r->parse.header_name_start),
                    r->parse.header_name_start);
                continue;
            }

            h = kl_list_push(&r->headers_in.headers);
            if (h == NULL) {
                kl_http_close_request(r, KL_HTTP_INTERNAL_SERVER_ERROR);
                return;
            }

            h->hash = r->parse.header_hash;
            h->next = NULL;
            h->key.data = r->parse.header_name_start;
            h->key.len = r->parse.header_name_end - r->parse.header_name_start;
            h->value.data = r->parse.header_start;
            h->value.len = r->parse.header_end - r->parse.header_start;

            /* The parser is past this line: its ':' and CR may be NULs. */
            h->key.data[h->key.len] = '\0';
            h->value.data[h->value.len] = '\0';

            h->lowcase_key = kl_pnalloc(r->pool, h->key.len);
            if (h->lowcase_key == NULL) {
                kl_http_close_request(r, KL_HTTP_INTERNAL_SERVER_ERROR);
                return;
            }

            kl_strlow(h->lowcase_key, h->key.data, h->key.len);

            if (kl_http_process_known_header(r, h) != KL_OK) {
                return;
            }

            continue;
        }

        if (rc == KL_HTTP_PARSE_HEADER_DONE) {

            r->request_length += r->header_in->pos - r->parse.header_name_start;

            c->log->action = "processing client request";

            if (kl_http_v1_process_request_header(r) != KL_OK) {
                return;
            }

            kl_http_process_request(r);

            return;
        }

        if (rc == KL_AGAIN) {
            continue;
        }

        kl_log_error(KL_LOG_INFO, c->log, 0, "client sent invalid header line");
        kl_http_finalize_request(r, KL_HTTP_BAD_REQUEST);

        return;
    }
}


static ssize_t
kl_http_read_request_header(kl_http_request_t *r)
{
    ssize_t                  n;
    kl_event_t              *rev;
    kl_connection_t         *c;
    kl_http_core_srv_conf_t *cscf;

    c = r->connection;
    rev = c->read;

    n = r->header_in->last - r->header_in->pos;

    if (n > 0) {
        return n;
    }

    if (rev->ready) {
        n = c->io->recv(c, r->header_in->last,
                        r->header_in->end - r->header_in->last);
    } else {
        n = KL_AGAIN;
    }

    if (n == KL_AGAIN) {
        if (!rev->timer_set) {
            cscf = kl_http_get_module_srv_conf(r, kl_http_core_module);
            kl_event_add_timer(rev, cscf->client_header_timeout);
        }

        return KL_AGAIN;
    }

    if (n == 0) {
        kl_log_error(KL_LOG_INFO, c->log, 0,
                     "client prematurely closed connection");
    }

    if (n == 0 || n == KL_ERROR) {
        c->error = 1;
        c->log->action = "reading client request headers";

        kl_http_request_line_so_far(r);
        kl_http_finalize_request(r, KL_HTTP_BAD_REQUEST);
        return KL_ERROR;
    }

    r->header_in->last += n;

    return n;
}


static void
kl_http_move_pointer(u_char **p, u_char *old, u_char *end, u_char *new)
{
    if (*p && *p >= old && *p <= end) {
        *p = new + (*p - old);
    }
}


/*
 * Move the line being parsed into a large buffer. Finished lines stay
 * where they are: the buffers they live in are kept until the request
 * ends, so the kl_str_t values pointing into them stay valid.
 */
static kl_int_t
kl_http_alloc_large_header_buffer(kl_http_request_t *r, kl_uint_t request_line)
{
    u_char                  *old, *new, *end;
    size_t                   size;
    kl_buf_t                *b;
    kl_http_parse_t         *p;
    kl_http_connection_t    *hc;
    kl_http_core_srv_conf_t *cscf;

    p = &r->parse;
    hc = r->http_connection;
    cscf = kl_http_get_module_srv_conf(r, kl_http_core_module);

    old = request_line ? p->request_start : p->header_name_start;

    if (old == NULL || (request_line && p->state == 0)) {
        old = r->header_in->pos;
    }

    end = r->header_in->last;
    size = end - old;

    if (size >= cscf->large_client_header_buffers.size) {
        return KL_DECLINED;
    }

    if (hc->free == NULL) {
        hc->free =
            kl_palloc(r->connection->pool, cscf->large_client_header_buffers.num
                                               * sizeof(kl_buf_t *));
        hc->busy =
            kl_palloc(r->connection->pool, cscf->large_client_header_buffers.num
                                               * sizeof(kl_buf_t *));
        if (hc->free == NULL || hc->busy == NULL) {
            return KL_ERROR;
        }
    }

    if (hc->nfree) {
        b = hc->free[--hc->nfree];

    } else if (hc->nbusy < cscf->large_client_header_buffers.num) {
        b = kl_buf_create_temp(r->connection->pool,
                               cscf->large_client_header_buffers.size);
        if (b == NULL) {
            return KL_ERROR;
        }

    } else {
        return KL_DECLINED;
    }

    hc->busy[hc->nbusy++] = b;

    new = b->start;
    kl_memcpy(new, old, size);

    b->pos = new + (r->header_in->pos - old);
    b->last = new + size;

    kl_http_move_pointer(&p->request_start, old, end, new);
    kl_http_move_pointer(&p->request_end, old, end, new);
    kl_http_move_pointer(&p->method_end, old, end, new);
    kl_http_move_pointer(&p->uri_start, old, end, new);
    kl_http_move_pointer(&p->uri_end, old, end, new);
    kl_http_move_pointer(&p->schema_start, old, end, new);
    kl_http_move_pointer(&p->schema_end, old, end, new);
    kl_http_move_pointer(&p->host_start, old, end, new);
    kl_http_move_pointer(&p->host_end, old, end, new);
    kl_http_move_pointer(&p->port_start, old, end, new);
    kl_http_move_pointer(&p->port_end, old, end, new);
    kl_http_move_pointer(&p->path_start, old, end, new);
    kl_http_move_pointer(&p->path_end, old, end, new);
    kl_http_move_pointer(&p->args_start, old, end, new);
    kl_http_move_pointer(&p->exten_start, old, end, new);
    kl_http_move_pointer(&p->header_name_start, old, end, new);
    kl_http_move_pointer(&p->header_name_end, old, end, new);
    kl_http_move_pointer(&p->header_start, old, end, new);
    kl_http_move_pointer(&p->header_end, old, end, new);

    r->header_in = b;

    return KL_OK;
}


/* The whole head is in: HTTP/1's rules (Host, framing) and the methods. */
static kl_int_t
kl_http_v1_process_request_header(kl_http_request_t *r)
{
    kl_table_elt_t *te;

    /* RFC 9112 3.2: every 1.1 request has Host, absolute-form too. */
    if (r->headers_in.host == NULL && r->http_version > KL_HTTP_VERSION_10) {
        kl_log_error(KL_LOG_INFO, r->connection->log, 0,
                     "client sent HTTP/1.1 request without \"Host\" header");
        kl_http_finalize_request(r, KL_HTTP_BAD_REQUEST);
        return KL_ERROR;
    }

    /* No host at all (HTTP/1.0): server_name "" takes it, as in nginx. */
    if (r->headers_in.server.len == 0
        && kl_http_set_virtual_server(r, &r->headers_in.server) != KL_OK)
    {
        return KL_ERROR;
    }

    te = r->headers_in.transfer_encoding;

    if (te) {
        if (r->headers_in.content_length) {
            kl_log_error(KL_LOG_INFO, r->connection->log, 0,
                         "client sent \"Content-Length\" and "
                         "\"Transfer-Encoding\" headers at the same time");
            kl_http_finalize_request(r, KL_HTTP_BAD_REQUEST);
            return KL_ERROR;
        }

        if (r->http_version < KL_HTTP_VERSION_11) {
            kl_log_error(KL_LOG_INFO, r->connection->log, 0,
                         "client sent HTTP/1.0 request with "
                         "\"Transfer-Encoding\" header");
            kl_http_finalize_request(r, KL_HTTP_BAD_REQUEST);
            return KL_ERROR;
        }

        if (te->value.len != 7
            || kl_strncasecmp(te->value.data, (u_char *) "chunked", 7) != 0)
        {
            kl_log_error(KL_LOG_INFO, r->connection->log, 0,
                         "client sent unknown \"Transfer-Encoding\": \"%V\"",
                         &te->value);
            r->keepalive = 0;
            kl_http_finalize_request(r, KL_HTTP_NOT_IMPLEMENTED);
            return KL_ERROR;
        }

        r->headers_in.chunked = 1;
    }

    /*
     * RFC 9110 15.6.2: a method the server does not know is 501 (nginx
     * answers 405); methods are case-sensitive, so "get" is one.
     */
    if (r->method == KL_HTTP_UNKNOWN) {
        kl_log_error(KL_LOG_INFO, r->connection->log, 0,
                     "client sent unknown method \"%V\"", &r->method_name);
        kl_http_finalize_request(r, KL_HTTP_NOT_IMPLEMENTED);
        return KL_ERROR;
    }

    if (r->method == KL_HTTP_CONNECT || r->method == KL_HTTP_TRACE) {
        kl_log_error(KL_LOG_INFO, r->connection->log, 0,
                     "client sent %V method", &r->method_name);
        kl_http_finalize_request(r, KL_HTTP_NOT_ALLOWED);
        return KL_ERROR;
    }

    if (r->headers_in.chunked || r->headers_in.content_length_n > 0) {
        r->has_body = 1;
    }

    return KL_OK;
}


static void
kl_http_process_request(kl_http_request_t *r)
{
    kl_connection_t *c;

    c = r->connection;

    if (c->read->timer_set) {
        kl_event_del_timer(c->read);
    }

    c->read->handler = kl_http_request_handler;
    c->write->handler = kl_http_request_handler;
    r->read_event_handler = kl_http_block_reading;

    r->stat_reading = 0;
    r->stat_writing = 1;
    kl_stat_add(reading, -1);
    kl_stat_add(writing, 1);

    if (kl_http_ssl_plain_request(r) == KL_DONE) {
        return;
    }

    /* nginx's messages carry no "while ..." once a request runs. */
    c->log->action = NULL;

    /* HTTP/1.1 keeps the connection unless told not to; 1.0 the reverse. */
    switch (r->headers_in.connection_type) {
    case 0:
        r->keepalive = (r->http_version > KL_HTTP_VERSION_10);
        break;

    case KL_HTTP_CONNECTION_CLOSE:
        r->keepalive = 0;
        break;

    case KL_HTTP_CONNECTION_KEEP_ALIVE:
        r->keepalive = 1;
        break;
    }

    kl_http_handler(r);
}


static void
kl_http_request_handler(kl_event_t *ev)
{
    kl_connection_t   *c;
    kl_http_request_t *r;

    c = ev->data;
    r = c->data;

    if (c->close) {
        r->main->count++;
        kl_http_terminate_request(r, 0);
        return;
    }

    /* limit_rate's timer: the send may go on, it did not time out. */
    if (ev->delayed && ev->timedout) {
        ev->delayed = 0;
        ev->timedout = 0;
    }

    if (ev->write) {
        r->write_event_handler(r);
    } else {
        r->read_event_handler(r);
    }
}


/* HTTP/1 frames nothing here (chunks are the chunked filter's): c->io. */
static kl_chain_t *
kl_http_v1_send_chain(kl_http_request_t *r, kl_chain_t *in, off_t limit)
{
    return r->connection->io->send_chain(r->connection, in, limit);
}


void
kl_http_empty_handler(kl_event_t *wev)
{
    (void) wev;
}


void
kl_http_close_connection(kl_connection_t *c)
{
    kl_http_idle_t *idle;

    if (kl_http_ssl_close(c) == KL_AGAIN) {
        return;
    }

    /* Accepted connections only: the unit tests bring their own. */
    idle = c->own_log ? c->log->data : NULL;

    kl_close_connection(c);

    if (idle != NULL) {
        kl_free(idle->hc.proxy_protocol);
    }

    kl_free(idle);
}


static u_char *
kl_http_log_error(kl_log_t *log, u_char *buf, size_t len)
{
    u_char                  *p, *q, *last;
    kl_str_t                 line;
    kl_http_request_t       *r;
    kl_http_log_ctx_t       *ctx;
    kl_http_core_srv_conf_t *cscf;

    ctx = log->data;
    last = buf + len;

    p = kl_slprintf(buf, last, ", client: %V", &ctx->connection->addr_text);

    r = ctx->request;

    if (r == NULL) {
        /* Before a request (TLS handshake, waiting): the address, as nginx. */
        if (ctx->connection->listening) {
            p = kl_slprintf(p, last, ", server: %V",
                            &ctx->connection->listening->addr_text);
        }

        return p;
    }

    cscf = kl_http_get_module_srv_conf(r, kl_http_core_module);

    p = kl_slprintf(p, last, ", server: %V", &cscf->server_name);

    line = r->request_line;

    if (line.data == NULL && r->parse.request_start) {
        /* The line is not parsed to its end: show what came. */
        for (q = r->parse.request_start; q < r->header_in->last; q++) {
            if (*q == '\r' || *q == '\n') {
                break;
            }
        }

        line.len = q - r->parse.request_start;
        line.data = r->parse.request_start;
    }

    if (line.len) {
        p = kl_slprintf(p, last, ", request: \"%V\"", &line);
    }

    if (r->upstream) {
        p = kl_http_upstream_log_error(r, p, last - p);
    }

    if (r->headers_in.host) {
        p = kl_slprintf(p, last, ", host: \"%V\"", &r->headers_in.host->value);
    }

    return p;
}
