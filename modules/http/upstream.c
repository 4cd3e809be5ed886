/*
 * upstream.c: the upstream core, as nginx's ngx_http_upstream: a
 * request's exchange with a peer of its group. It connects (with
 * connect_timeout), sends the request the protocol built (with
 * send_timeout), reads the response head into buffer_size bytes (with
 * read_timeout) for the protocol to parse, tries the next peer when
 * proxy_next_upstream allows it and nothing was sent to the client yet,
 * then relays the body (upstream_body.c: through proxy_buffers and a
 * temp file when the client is slow).
 *
 * Lifetime: the handler takes a reference on the request (the body
 * reader does); kl_http_upstream_finalize closes or frees the peer
 * connection and finalizes the request. A pool cleanup closes the peer
 * connection of a request ended by anything else (client gone).
 */

#include "upstream.h"
#include "event_connect.h"


static void     kl_http_upstream_connect(kl_http_request_t  *r,
                                         kl_http_upstream_t *u);
static void     kl_http_upstream_handler(kl_event_t *ev);
static void     kl_http_upstream_send_request(kl_http_request_t  *r,
                                              kl_http_upstream_t *u);
static void     kl_http_upstream_ssl_done(kl_http_request_t  *r,
                                          kl_http_upstream_t *u, kl_uint_t ft);
static void     kl_http_upstream_request_sent(kl_http_request_t  *r,
                                              kl_http_upstream_t *u);
static void     kl_http_upstream_send_body(kl_http_request_t  *r,
                                           kl_http_upstream_t *u);
static kl_int_t kl_http_upstream_body_step(kl_http_request_t  *r,
                                           kl_http_upstream_t *u);
static void     kl_http_upstream_read_request_handler(kl_http_request_t *r);
static void     kl_http_upstream_process_header(kl_http_request_t  *r,
                                                kl_http_upstream_t *u);
static kl_int_t kl_http_upstream_test_connect(kl_connection_t *c);
static void kl_http_upstream_next(kl_http_request_t *r, kl_http_upstream_t *u,
                                  kl_uint_t ft);
static void kl_http_upstream_close_peer(kl_http_upstream_t *u, kl_uint_t state);
static void kl_http_upstream_cleanup(void *data);
static void kl_http_upstream_end_state(kl_http_upstream_t *u);
static kl_uint_t kl_http_upstream_may_retry(kl_http_request_t  *r,
                                            kl_http_upstream_t *u,
                                            kl_uint_t           ft);
static void      kl_http_upstream_send_response(kl_http_request_t  *r,
                                                kl_http_upstream_t *u);
static void      kl_http_upstream_check_broken(kl_http_request_t *r);
static void kl_http_upstream_dummy(kl_http_request_t *r, kl_http_upstream_t *u);
static kl_int_t kl_http_upstream_copy_headers(kl_http_request_t  *r,
                                              kl_http_upstream_t *u);
static kl_int_t kl_http_upstream_intercept(kl_http_request_t  *r,
                                           kl_http_upstream_t *u);
static kl_int_t kl_http_upstream_check_buffers(kl_conf_t               *cf,
                                               kl_http_upstream_conf_t *conf,
                                               size_t busy, const char *prefix);
static kl_int_t kl_http_upstream_merge_temp(kl_conf_t               *cf,
                                            kl_http_upstream_conf_t *conf,
                                            kl_http_upstream_conf_t *prev,
                                            const char              *prefix,
                                            const char              *dir);


/*
 * Hop-by-hop fields and those the engine makes itself: never copied.
 * Upgrade is: a 426 must say what to upgrade to (RFC 9110 15.5.22).
 */
static kl_str_t kl_http_upstream_skip[] = {
    kl_string("connection"),        kl_string("keep-alive"),
    kl_string("transfer-encoding"), kl_string("content-length"),
    kl_string("content-type"),      kl_null_string,
};


kl_int_t
kl_http_upstream_create(kl_http_request_t *r)
{
    kl_pool_cleanup_t        *cln;
    kl_http_upstream_t       *u;
    kl_http_upstream_state_t *st;

    u = kl_pcalloc(r->pool, sizeof(kl_http_upstream_t));
    if (u == NULL) {
        return KL_ERROR;
    }

    if (kl_list_init(&u->headers_in.headers, r->pool, 8, sizeof(kl_table_elt_t))
        != KL_OK)
    {
        return KL_ERROR;
    }

    if (r->upstream) {
        /* After an internal redirect the lists go on: " : " between. */
        u->state = r->upstream->state;
        st = kl_array_push(u->state);
        if (st == NULL) {
            return KL_ERROR;
        }

        kl_memzero(st, sizeof(kl_http_upstream_state_t));
        st->redirect = 1;

    } else {
        u->state =
            kl_array_create(r->pool, 1, sizeof(kl_http_upstream_state_t));
        if (u->state == NULL) {
            return KL_ERROR;
        }
    }

    cln = kl_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return KL_ERROR;
    }

    cln->handler = kl_http_upstream_cleanup;
    cln->data = r;

    u->peer.log = r->connection->log;
    u->headers_in.content_length_n = -1;
    u->length = -1;
    r->upstream = u;

    return KL_OK;
}


kl_int_t
kl_http_upstream_reinit_head(kl_http_request_t *r, kl_http_upstream_t *u)
{
    kl_memzero(&u->headers_in, sizeof(kl_http_upstream_headers_in_t));
    u->headers_in.content_length_n = -1;

    return kl_list_init(&u->headers_in.headers, r->pool, 8,
                        sizeof(kl_table_elt_t));
}


void
kl_http_upstream_init(kl_http_request_t *r)
{
    kl_int_t                     rc;
    kl_connection_t             *c;
    kl_http_upstream_t          *u;
    kl_http_upstream_srv_conf_t *us;

    c = r->connection;
    u = r->upstream;

    if (c->read->timer_set) {
        kl_event_del_timer(c->read);
    }

    /* A body still coming is read once the request head went out. */
    r->read_event_handler = (r->request_body_no_buffering && r->has_body)
                                ? kl_http_upstream_read_request_handler
                            : u->conf->ignore_client_abort
                                ? kl_http_block_reading
                                : kl_http_upstream_check_broken;
    r->write_event_handler = kl_http_request_empty_handler;

    if (u->create_request(r) != KL_OK) {
        kl_http_finalize_request(r, KL_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    us = u->conf->upstream;

    if (u->resolved) {
        rc = kl_http_upstream_find_resolved(r, u, &us);

        if (rc == KL_AGAIN) {
            /* The resolver calls kl_http_upstream_start with the peers. */
            return;
        }

        if (rc != KL_OK) {
            kl_http_upstream_finalize(r, u, rc);
            return;
        }
    }

    kl_http_upstream_start(r, u, us);
}


void
kl_http_upstream_start(kl_http_request_t *r, kl_http_upstream_t *u,
                       kl_http_upstream_srv_conf_t *us)
{
    if (us && us->peer.init(r, us, &u->peer) != KL_OK) {
        kl_http_finalize_request(r, KL_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    if (kl_http_upstream_set_local(r, u) != KL_OK) {
        kl_http_finalize_request(r, KL_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    /* the name the peer's certificate is for, by default (nginx's) */
    if (us) {
        u->ssl_name = us->host;

    } else if (u->resolved) {
        u->ssl_name = u->resolved->host;
    }

    u->start_time = kl_now();
    u->tries = u->conf->next_upstream_tries;

    if (u->tries && u->peer.tries > u->tries) {
        u->peer.tries = u->tries;
    }

    kl_http_upstream_connect(r, u);
}


static void
kl_http_upstream_connect(kl_http_request_t *r, kl_http_upstream_t *u)
{
    kl_int_t         rc;
    kl_chain_t      *cl;
    kl_connection_t *c;

    r->connection->log->action = "connecting to upstream";

    u->cur_state = kl_array_push(u->state);
    if (u->cur_state == NULL) {
        kl_http_upstream_finalize(r, u, KL_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    kl_memzero(u->cur_state, sizeof(kl_http_upstream_state_t));
    u->cur_state->start = kl_now();
    u->cur_state->connect_time = KL_HTTP_UPSTREAM_NO_TIME;
    u->cur_state->header_time = KL_HTTP_UPSTREAM_NO_TIME;

    u->peer.ssl_session = NULL;

    rc = kl_event_connect_peer(&u->peer);

    if (rc == KL_ERROR) {
        kl_http_upstream_finalize(r, u, KL_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    /* With no live peer, the group's name, as nginx lists it. */
    u->cur_state->peer = u->peer.name;

    if (rc == KL_BUSY) {
        kl_log_error(KL_LOG_ERR, r->connection->log, 0, "no live upstreams");
        kl_http_upstream_next(r, u, KL_HTTP_UPSTREAM_FT_NOLIVE);
        return;
    }

    if (rc == KL_DECLINED) {
        kl_http_upstream_next(r, u, KL_HTTP_UPSTREAM_FT_ERROR);
        return;
    }

    c = u->peer.connection;
    c->data = r;
    u->cur_state->sent_start = c->sent;
    c->log = r->connection->log;
    c->read->log = c->log;
    c->write->log = c->log;
    c->read->handler = kl_http_upstream_handler;
    c->write->handler = kl_http_upstream_handler;

    u->write_event_handler = kl_http_upstream_send_request;
    u->read_event_handler = kl_http_upstream_process_header;

    if (u->request_sent) {
        /* A retry: the request goes out again from its start. */
        for (cl = u->request_bufs; cl; cl = cl->next) {
            cl->buf->pos = cl->buf->start;
            cl->buf->file_pos = 0;
        }

        u->buffer.pos = u->buffer.start;
        u->buffer.last = u->buffer.start;

        if (u->reinit_request(r) != KL_OK) {
            kl_http_upstream_finalize(r, u, KL_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }
    }

    u->request_sent = 0;

    if (rc == KL_AGAIN) {
        kl_event_add_timer(c->write, u->conf->connect_timeout);
        return;
    }

    kl_http_upstream_send_request(r, u);
}


static void
kl_http_upstream_handler(kl_event_t *ev)
{
    kl_connection_t    *c;
    kl_http_request_t  *r;
    kl_http_upstream_t *u;

    c = ev->data;
    r = c->data;
    u = r->upstream;

    if (ev->write) {
        u->write_event_handler(r, u);

    } else {
        u->read_event_handler(r, u);
    }
}


static void
kl_http_upstream_send_request(kl_http_request_t *r, kl_http_upstream_t *u)
{
    kl_chain_t      *rest;
    kl_connection_t *c;

    c = u->peer.connection;

    if (c->write->timedout) {
        c->write->timedout = 0;
        kl_log_error(KL_LOG_ERR, r->connection->log, ETIMEDOUT,
                     "upstream timed out");
        kl_http_upstream_next(r, u, KL_HTTP_UPSTREAM_FT_TIMEOUT);
        return;
    }

    if (!u->request_sent && kl_http_upstream_test_connect(c) != KL_OK) {
        kl_http_upstream_next(r, u, KL_HTTP_UPSTREAM_FT_ERROR);
        return;
    }

    if (u->ssl && c->ssl == NULL) {
        /* connected: TLS first; the handshake's end comes back here */
        if (kl_http_upstream_ssl_connect(r, u, kl_http_upstream_ssl_done)
            != KL_OK) {
            kl_http_upstream_finalize(r, u, KL_HTTP_INTERNAL_SERVER_ERROR);
        }

        return;
    }

    if (u->cur_state->connect_time == KL_HTTP_UPSTREAM_NO_TIME) {
        u->cur_state->connect_time = kl_now() - u->cur_state->start;
    }

    r->connection->log->action = "sending request to upstream";

    rest = c->io->send_chain(c, u->request_bufs, 0);

    /* Sending began: a retry must rebuild the request's buffers. */
    u->request_sent = 1;

    if (rest == KL_CHAIN_ERROR) {
        /* TLS logged its failure itself ("SSL_write() failed ...") */
        if (c->ssl == NULL) {
            kl_log_error(KL_LOG_ERR, r->connection->log, errno,
                         "send() failed");
        }

        kl_http_upstream_next(r, u, KL_HTTP_UPSTREAM_FT_ERROR);
        return;
    }

    if (rest) {
        kl_event_add_timer(c->write, u->conf->send_timeout);
        return;
    }

    if (c->write->timer_set) {
        kl_event_del_timer(c->write);
    }

    if (r->request_body_no_buffering) {
        /* The body's turn; the peer's write events still come here. */
        u->body_sending = 1;
        kl_http_upstream_send_body(r, u);
        return;
    }

    kl_http_upstream_request_sent(r, u);
}


/* The handshake with the peer is over: on with the request, or to the
 * next peer (ft, logged). */
static void
kl_http_upstream_ssl_done(kl_http_request_t *r, kl_http_upstream_t *u,
                          kl_uint_t ft)
{
    kl_connection_t *c;

    if (ft) {
        kl_http_upstream_next(r, u, ft);
        return;
    }

    c = u->peer.connection;
    c->read->handler = kl_http_upstream_handler;
    c->write->handler = kl_http_upstream_handler;

    kl_http_upstream_send_request(r, u);
}


/* All of the request is out: the response is awaited. */
static void
kl_http_upstream_request_sent(kl_http_request_t *r, kl_http_upstream_t *u)
{
    kl_connection_t *c;

    c = u->peer.connection;

    u->write_event_handler = kl_http_upstream_dummy;
    r->connection->log->action = "reading response header from upstream";

    kl_event_add_timer(c->read, u->conf->read_timeout);

    if (c->read->ready) {
        kl_http_upstream_process_header(r, u);
    }
}


/*
 * The unbuffered body, once the head is out: a piece read from the
 * client is framed, sent, and only once all of it is gone is the client
 * read again, into the same buffer. The peer's write events and the
 * client's read events both come here.
 */
static void
kl_http_upstream_send_body(kl_http_request_t *r, kl_http_upstream_t *u)
{
    kl_int_t         rc;
    kl_connection_t *c;

    c = r->connection;
    c->log->action = "sending request to upstream";

    rc = kl_http_upstream_body_step(r, u);

    if (rc == KL_AGAIN) {
        return;
    }

    if (rc == KL_OK) {
        u->request_body_sent = 1;
        r->read_event_handler = kl_http_upstream_check_broken;
        kl_http_upstream_request_sent(r, u);
        return;
    }

    if (rc == KL_ERROR) {
        if (u->peer.connection->ssl == NULL) {
            kl_log_error(KL_LOG_ERR, c->log, errno, "send() failed");
        }

        kl_http_upstream_next(r, u, KL_HTTP_UPSTREAM_FT_ERROR);
        return;
    }

    /* The client's side failed: 400, 413, 408 (the client gone: 400). */
    kl_http_upstream_finalize(r, u, rc);
}


/* KL_OK all sent, KL_AGAIN, KL_ERROR (the peer), or an HTTP status. */
static kl_int_t
kl_http_upstream_body_step(kl_http_request_t *r, kl_http_upstream_t *u)
{
    kl_int_t                rc;
    kl_buf_t               *b;
    kl_chain_t             *rest;
    kl_connection_t        *c;
    kl_http_request_body_t *rb;

    c = u->peer.connection;
    rb = r->request_body;
    b = rb ? rb->buf : NULL;

    for (;;) {
        if (u->body_out) {
            rest = c->io->send_chain(c, u->body_out, 0);

            if (rest == KL_CHAIN_ERROR) {
                return KL_ERROR;
            }

            u->body_out = rest;

            if (rest) {
                /* The peer's turn: the client waits, not timed. */
                if (r->connection->read->timer_set) {
                    kl_event_del_timer(r->connection->read);
                }

                kl_event_add_timer(c->write, u->conf->send_timeout);
                return KL_AGAIN;
            }

            if (c->write->timer_set) {
                kl_event_del_timer(c->write);
            }

            if (u->body_end_framed) {
                return KL_OK;
            }
        }

        if (r->has_body && b->pos == b->last) {
            rc = kl_http_read_unbuffered_request_body(r);

            if (rc != KL_OK && rc != KL_AGAIN) {
                return rc == KL_ERROR ? KL_HTTP_INTERNAL_SERVER_ERROR : rc;
            }

            if (rc == KL_AGAIN && b->pos == b->last) {
                return KL_AGAIN;
            }
        }

        rc = u->body_frame(r, b, !r->has_body, &u->body_out);

        if (rc == KL_ERROR) {
            return KL_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (rc == KL_DONE) {
            u->body_end_framed = 1;

            if (u->body_out == NULL) {
                return KL_OK;
            }
        }
    }
}


/* The client's read events while its body is still coming. */
static void
kl_http_upstream_read_request_handler(kl_http_request_t *r)
{
    kl_http_upstream_t *u;

    u = r->upstream;

    if (!u->body_sending) {
        /* Connecting, or the head is going out: the body waits. */
        return;
    }

    if (u->write_event_handler != kl_http_upstream_send_request) {
        /* The response came first: the rest of the body is not read. */
        if (r->connection->read->timer_set) {
            kl_event_del_timer(r->connection->read);
        }

        r->connection->read->timedout = 0;

        r->read_event_handler = kl_http_upstream_check_broken;
        kl_http_upstream_check_broken(r);
        return;
    }

    kl_http_upstream_send_body(r, u);
}


static kl_int_t
kl_http_upstream_test_connect(kl_connection_t *c)
{
    int       err;
    socklen_t len;

    err = 0;
    len = sizeof(int);

    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, (void *) &err, &len) == -1) {
        err = errno;
    }

    if (err) {
        c->log->action = "connecting to upstream";
        kl_log_error(KL_LOG_ERR, c->log, err, "connect() failed");
        return KL_ERROR;
    }

    return KL_OK;
}


static void
kl_http_upstream_process_header(kl_http_request_t *r, kl_http_upstream_t *u)
{
    ssize_t          n;
    kl_int_t         rc;
    kl_connection_t *c;

    c = u->peer.connection;

    if (c->read->timedout) {
        c->read->timedout = 0;
        kl_log_error(KL_LOG_ERR, r->connection->log, ETIMEDOUT,
                     "upstream timed out");
        kl_http_upstream_next(r, u, KL_HTTP_UPSTREAM_FT_TIMEOUT);
        return;
    }

    if (!u->request_sent) {
        if (kl_http_upstream_test_connect(c) != KL_OK) {
            kl_http_upstream_next(r, u, KL_HTTP_UPSTREAM_FT_ERROR);
        }

        /* The answer can only come after the request. */
        return;
    }

    if (u->buffer.start == NULL) {
        u->buffer.start = kl_pnalloc(r->pool, u->conf->buffer_size);
        if (u->buffer.start == NULL) {
            kl_http_upstream_finalize(r, u, KL_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        u->buffer.pos = u->buffer.start;
        u->buffer.last = u->buffer.start;
        u->buffer.end = u->buffer.start + u->conf->buffer_size;
        u->buffer.temporary = 1;
    }

    for (;;) {
        n = c->io->recv(c, u->buffer.last, u->buffer.end - u->buffer.last);

        if (n == KL_AGAIN) {
            kl_event_add_timer(c->read, u->conf->read_timeout);
            return;
        }

        if (n == 0) {
            kl_log_error(KL_LOG_ERR, r->connection->log, 0,
                         "upstream prematurely closed connection");
        }

        if (n == KL_ERROR && c->ssl == NULL) {
            /* TLS logged its failure itself ("SSL_read() failed ...") */
            kl_log_error(KL_LOG_ERR, r->connection->log, errno,
                         "recv() failed");
        }

        if (n == 0 || n == KL_ERROR) {
            kl_http_upstream_next(r, u, KL_HTTP_UPSTREAM_FT_ERROR);
            return;
        }

        u->buffer.last += n;
        u->cur_state->bytes_received += n;

        rc = u->process_header(r);

        if (rc == KL_AGAIN) {
            if (u->buffer.last == u->buffer.end) {
                kl_log_error(KL_LOG_ERR, r->connection->log, 0,
                             "upstream sent too big header");
                kl_http_upstream_next(r, u, KL_HTTP_UPSTREAM_FT_INVALID_HEADER);
                return;
            }

            continue;
        }

        break;
    }

    if (rc == KL_HTTP_UPSTREAM_INVALID_HEADER) {
        kl_http_upstream_next(r, u, KL_HTTP_UPSTREAM_FT_INVALID_HEADER);
        return;
    }

    if (rc != KL_OK) {
        kl_http_upstream_finalize(r, u, KL_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    u->cur_state->status = u->headers_in.status_n;
    u->cur_state->header_time = kl_now() - u->cur_state->start;
    u->cur_state->header_length =
        u->cur_state->bytes_received - (u->buffer.last - u->buffer.pos);

    if (u->headers_in.status_n == 101) {
        if (r->headers_in.upgrade == NULL) {
            kl_log_error(KL_LOG_ERR, r->connection->log, 0,
                         "upstream switched protocols unasked");
            kl_http_upstream_finalize(r, u, KL_HTTP_BAD_GATEWAY);
            return;
        }

        kl_http_upstream_upgrade(r, u);
        return;
    }

    switch (u->headers_in.status_n) {
    case 500:
        rc = KL_HTTP_UPSTREAM_FT_HTTP_500;
        break;
    case 502:
        rc = KL_HTTP_UPSTREAM_FT_HTTP_502;
        break;
    case 503:
        rc = KL_HTTP_UPSTREAM_FT_HTTP_503;
        break;
    case 504:
        rc = KL_HTTP_UPSTREAM_FT_HTTP_504;
        break;
    case 403:
        rc = KL_HTTP_UPSTREAM_FT_HTTP_403;
        break;
    case 404:
        rc = KL_HTTP_UPSTREAM_FT_HTTP_404;
        break;
    case 429:
        rc = KL_HTTP_UPSTREAM_FT_HTTP_429;
        break;
    default:
        rc = 0;
    }

    if (rc && u->peer.tries > 1 && kl_http_upstream_may_retry(r, u, rc)) {
        kl_http_upstream_next(r, u, rc);
        return;
    }

    if (kl_http_upstream_intercept(r, u) == KL_OK) {
        return;
    }

    kl_http_upstream_send_response(r, u);
}


static kl_int_t
kl_http_upstream_intercept(kl_http_request_t *r, kl_http_upstream_t *u)
{
    kl_uint_t                i;
    kl_http_err_page_t      *err_page;
    kl_http_core_loc_conf_t *clcf;

    if (!u->conf->intercept_errors || u->headers_in.status_n < 300) {
        return KL_DECLINED;
    }

    clcf = kl_http_get_module_loc_conf(r, kl_http_core_module);

    if (clcf->error_pages == NULL) {
        return KL_DECLINED;
    }

    err_page = clcf->error_pages->elts;

    for (i = 0; i < clcf->error_pages->nelts; i++) {
        if (err_page[i].status == (kl_int_t) u->headers_in.status_n) {
            /* A 401's challenges are the client's to answer: every one
             * goes with our page (nginx 1.23+; 1.22 kept the first). */
            if (u->headers_in.status_n == KL_HTTP_UNAUTHORIZED
                && kl_http_upstream_copy_named(r, u, "www-authenticate", 16)
                       != KL_OK)
            {
                kl_http_upstream_finalize(r, u, KL_HTTP_INTERNAL_SERVER_ERROR);
                return KL_OK;
            }

            kl_http_upstream_finalize(r, u, u->headers_in.status_n);
            return KL_OK;
        }
    }

    return KL_DECLINED;
}


static void
kl_http_upstream_next(kl_http_request_t *r, kl_http_upstream_t *u, kl_uint_t ft)
{
    kl_uint_t state, status;

    if (ft == KL_HTTP_UPSTREAM_FT_TIMEOUT) {
        status = KL_HTTP_GATEWAY_TIME_OUT;

    } else if (ft
               & (KL_HTTP_UPSTREAM_FT_ERROR | KL_HTTP_UPSTREAM_FT_NOLIVE
                  | KL_HTTP_UPSTREAM_FT_INVALID_HEADER))
    {
        status = KL_HTTP_BAD_GATEWAY;

    } else {
        /* An answer refused by proxy_next_upstream: used if last. */
        status = u->headers_in.status_n;
    }

    if (u->cur_state && u->cur_state->status == 0) {
        u->cur_state->status = status;
    }

    kl_http_upstream_end_state(u);

    state = (ft
             & (KL_HTTP_UPSTREAM_FT_ERROR | KL_HTTP_UPSTREAM_FT_TIMEOUT
                | KL_HTTP_UPSTREAM_FT_INVALID_HEADER))
                ? KL_PEER_FAILED
                : KL_PEER_NEXT;

    /* The balancer's free counts the try (pc->tries), as in nginx. */
    if (ft != KL_HTTP_UPSTREAM_FT_NOLIVE) {
        kl_http_upstream_close_peer(u, state);
    }

    if (ft == KL_HTTP_UPSTREAM_FT_NOLIVE || u->peer.tries == 0
        || !kl_http_upstream_may_retry(r, u, ft))
    {
        kl_http_upstream_finalize(r, u, status);
        return;
    }

    kl_http_upstream_connect(r, u);
}


/* proxy_next_upstream, _tries, _timeout and non_idempotent allow another? */
static kl_uint_t
kl_http_upstream_may_retry(kl_http_request_t *r, kl_http_upstream_t *u,
                           kl_uint_t ft)
{
    kl_msec_t timeout;

    timeout = u->conf->next_upstream_timeout;

    if (u->peer.tries == 0 || !(u->conf->next_upstream & ft)
        || (timeout && kl_now() - u->start_time >= timeout))
    {
        return 0;
    }

    /* The body sent is gone: nothing could send it again (nginx's rule). */
    if (u->request_sent && r->request_body_no_buffering) {
        return 0;
    }

    if (u->request_sent
        && (r->method & (KL_HTTP_POST | KL_HTTP_PATCH | KL_HTTP_LOCK))
        && !(u->conf->next_upstream & KL_HTTP_UPSTREAM_FT_NON_IDEMPOTENT))
    {
        return 0;
    }

    return 1;
}


static void
kl_http_upstream_close_peer(kl_http_upstream_t *u, kl_uint_t state)
{
    if (u->peer.connection && u->peer.connection->ssl
        && !(state & (KL_PEER_NEXT | KL_PEER_FAILED)))
    {
        /* TLS 1.3 tickets arrive after the handshake: keep the latest */
        kl_http_upstream_ssl_save_session(u);
    }

    if (u->peer.free && u->peer.sockaddr) {
        u->peer.free(&u->peer, u->peer.data, state);
        u->peer.sockaddr = NULL;
    }

    if (u->peer.connection) {
        if (u->peer.connection->ssl) {
            /* close_notify, as nginx, without waiting for the peer's */
            u->peer.connection->ssl->no_wait_shutdown = 1;
            (void) kl_ssl_shutdown(u->peer.connection);
        }

        kl_close_connection(u->peer.connection);
        u->peer.connection = NULL;
    }
}


static void
kl_http_upstream_end_state(kl_http_upstream_t *u)
{
    if (u->cur_state && !u->cur_state->ended) {
        u->cur_state->ended = 1;
        u->cur_state->response_time = kl_now() - u->cur_state->start;

        if (u->peer.connection) {
            u->cur_state->bytes_sent =
                u->peer.connection->sent - u->cur_state->sent_start;
        }
    }
}


static void
kl_http_upstream_cleanup(void *data)
{
    kl_http_request_t  *r;
    kl_http_upstream_t *u;

    r = data;
    u = r->upstream;

    /* The request ended while the exchange was on (client gone). */
    if (u && (u->peer.connection || u->peer.sockaddr)) {
        kl_http_upstream_close_peer(u, 0);
    }
}


void
kl_http_upstream_finalize(kl_http_request_t *r, kl_http_upstream_t *u,
                          kl_int_t rc)
{
    if (u->resolved) {
        kl_http_upstream_resolve_done(u);
    }

    kl_http_upstream_end_state(u);

    if (u->cur_state && u->cur_state->status == 0 && rc >= 500) {
        u->cur_state->status = rc;
    }

    /* A body not all sent leaves the peer's framing unfinished. */
    if (r->request_body_no_buffering && !u->request_body_sent) {
        u->keepalive = 0;
    }

    kl_http_upstream_close_peer(
        u, (u->keepalive && u->peer.connection) ? KL_PEER_KEEPALIVE : 0);

    if (u->finalize_request) {
        u->finalize_request(r, rc);
    }

    r->connection->log->action = "sending to client";

    if (u->header_sent && rc >= KL_HTTP_SPECIAL_RESPONSE) {
        /* Too late for an error page: the response is cut short. */
        rc = KL_ERROR;
    }

    kl_http_finalize_request(r, rc);
}


static void
kl_http_upstream_dummy(kl_http_request_t *r, kl_http_upstream_t *u)
{
    (void) r;
    (void) u;
}


static void
kl_http_upstream_check_broken(kl_http_request_t *r)
{
    kl_int_t         rc;
    kl_connection_t *c;

    c = r->connection;

    if (c->error) {
        return;
    }

    rc = c->io->peek(c);

    if (rc == KL_AGAIN) {
        c->read->ready = 0;
        return;
    }

    if (rc == KL_OK) {
        /* Pipelined bytes stay in the socket for the next request. The
         * edge that announced them is spent, so readiness stays set: the
         * keep-alive hand-over reads them at once instead of waiting for
         * an event that will not come. */
        return;
    }

    c->error = 1;
    kl_log_error(KL_LOG_INFO, c->log, rc == KL_DONE ? 0 : errno,
                 "client prematurely closed connection");

    kl_http_upstream_finalize(r, r->upstream, KL_HTTP_CLIENT_CLOSED_REQUEST);
}


static kl_int_t
kl_http_upstream_copy_headers(kl_http_request_t *r, kl_http_upstream_t *u)
{
    u_char         *p;
    kl_int_t        rc;
    kl_str_t       *s;
    kl_uint_t       i, skip;
    kl_list_part_t *part;
    kl_table_elt_t *h, *ho;

    r->headers_out.status = u->headers_in.status_n;
    r->headers_out.status_line = u->headers_in.status_line;
    r->headers_out.content_length_n = u->headers_in.content_length_n;

    part = &u->headers_in.headers.part;
    h = part->elts;

    for (i = 0;; i++) {
        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].hash == 0) {
            continue;
        }

        if (h[i].key.len == 12
            && kl_strncasecmp(h[i].key.data, (u_char *) "content-type", 12)
                   == 0)
        {
            /* a charset parameter goes apart, for the charset filter */
            r->headers_out.content_type = h[i].value;
            r->headers_out.content_type_len = kl_http_upstream_content_type(
                &h[i].value, &r->headers_out.charset);
            continue;
        }

        skip = 0;

        for (s = kl_http_upstream_skip; s->len; s++) {
            if (s->len == h[i].key.len
                && kl_strncasecmp(h[i].lowcase_key, s->data, s->len) == 0)
            {
                skip = 1;
                break;
            }
        }

        if (skip) {
            continue;
        }

        if (u->conf->hide_headers) {
            s = u->conf->hide_headers->elts;

            for (skip = 0; skip < u->conf->hide_headers->nelts; skip++) {
                if (s[skip].len == h[i].key.len
                    && kl_strncasecmp(h[i].lowcase_key, s[skip].data,
                                      s[skip].len)
                           == 0)
                {
                    break;
                }
            }

            if (skip < u->conf->hide_headers->nelts) {
                continue;
            }
        }

        ho = kl_list_push(&r->headers_out.headers);
        if (ho == NULL) {
            return KL_ERROR;
        }

        *ho = h[i];
        ho->next = NULL;

        /* Only a Location proxy_redirect rewrote is the engine's to make
         * absolute (nginx's rule): the peer's relative one stays so. */
        if (&h[i] == u->headers_in.location && u->rewrite_redirect) {
            rc = u->rewrite_redirect(r, ho, 0);

            if (rc == KL_ERROR) {
                return KL_ERROR;
            }

            if (rc == KL_OK) {
                r->headers_out.location = ho;
            }
        }

        if (u->rewrite_cookie && h[i].key.len == 10
            && kl_strncmp(h[i].lowcase_key, "set-cookie", 10) == 0
            && u->rewrite_cookie(r, ho) != KL_OK)
        {
            return KL_ERROR;
        }

        if (&h[i] == u->headers_in.refresh && u->rewrite_redirect) {
            p = kl_strnstr(ho->value.data, ho->value.data + ho->value.len,
                           "url=", 4);

            if (p
                && u->rewrite_redirect(r, ho, p + 4 - ho->value.data)
                       == KL_ERROR) {
                return KL_ERROR;
            }
        }

        if (h[i].key.len == 13
            && kl_strncasecmp(h[i].lowcase_key, (u_char *) "last-modified", 13)
                   == 0)
        {
            r->headers_out.last_modified = ho;
            r->headers_out.last_modified_time =
                kl_parse_http_time(ho->value.data, ho->value.len);
        }

        if (h[i].key.len == 4
            && kl_strncasecmp(h[i].lowcase_key, (u_char *) "etag", 4) == 0)
        {
            r->headers_out.etag = ho;
        }

        /* proxy_pass_header Server / Date: the peer's replace kiln's */
        if (h[i].key.len == 6
            && kl_strncasecmp(h[i].lowcase_key, (u_char *) "server", 6) == 0)
        {
            r->headers_out.server = ho;
        }

        if (h[i].key.len == 4
            && kl_strncasecmp(h[i].lowcase_key, (u_char *) "date", 4) == 0)
        {
            r->headers_out.date = ho;
        }
    }

    return KL_OK;
}


kl_table_elt_t *
kl_http_upstream_push_header(kl_http_request_t *r, kl_http_upstream_t *u,
                             kl_http_parse_t *p)
{
    kl_table_elt_t *h;

    h = kl_list_push(&u->headers_in.headers);
    if (h == NULL) {
        return NULL;
    }

    h->hash = 1;
    h->next = NULL;
    h->key.data = p->header_name_start;
    h->key.len = p->header_name_end - p->header_name_start;
    h->value.data = p->header_start;
    h->value.len = p->header_end - p->header_start;

    h->lowcase_key = kl_pnalloc(r->pool, h->key.len);
    if (h->lowcase_key == NULL) {
        return NULL;
    }

    kl_strlow(h->lowcase_key, h->key.data, h->key.len);

    return h;
}


static void
kl_http_upstream_send_response(kl_http_request_t *r, kl_http_upstream_t *u)
{
    kl_int_t rc;

    rc = kl_http_upstream_process_accel(r, u);

    if (rc == KL_DONE) {
        return;
    }

    if (rc != KL_OK || kl_http_upstream_copy_headers(r, u) != KL_OK
        || u->input_filter_init(r) != KL_OK)
    {
        kl_http_upstream_finalize(r, u, KL_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    if (u->conf->force_ranges) {
        r->allow_ranges = 1;
    }

    /*
     * The rest of an unbuffered body will not be read: this connection
     * carries no other request, and RFC 9112 9.6 says to tell the client
     * (nginx 1.22 says keep-alive, then closes).
     */
    if (r->has_body && r->request_body_no_buffering) {
        r->keepalive = 0;
    }

    rc = kl_http_send_header(r);

    u->header_sent = 1;

    if (rc == KL_ERROR || rc > KL_OK) {
        kl_http_upstream_finalize(r, u, rc);
        return;
    }

    u->write_event_handler = kl_http_upstream_dummy;

    kl_http_upstream_start_body(r, u);
}


void
kl_http_upstream_body_link(kl_chain_t ***ll, kl_chain_t *cl, kl_buf_t *b,
                           u_char *pos, u_char *last)
{
    if (pos == last) {
        return;
    }

    kl_memzero(b, sizeof(kl_buf_t));
    b->start = pos;
    b->pos = pos;
    b->last = last;
    b->end = last;
    b->memory = 1;

    cl->buf = b;
    cl->next = NULL;
    **ll = cl;
    *ll = &cl->next;
}


u_char *
kl_http_upstream_log_error(kl_http_request_t *r, u_char *buf, size_t len)
{
    kl_http_upstream_t *u;

    u = r->upstream;

    if (u == NULL || u->peer.name == NULL) {
        return buf;
    }

    return kl_slprintf(buf, buf + len, ", upstream: \"%V%V%V\"", &u->schema,
                       u->peer.name, &u->uri);
}


void
kl_http_upstream_conf_init(kl_http_upstream_conf_t *conf)
{
    conf->connect_timeout = KL_CONF_UNSET_MSEC;
    conf->send_timeout = KL_CONF_UNSET_MSEC;
    conf->read_timeout = KL_CONF_UNSET_MSEC;
    conf->next_upstream_timeout = KL_CONF_UNSET_MSEC;
    conf->buffer_size = KL_CONF_UNSET_SIZE;
    conf->next_upstream = KL_CONF_UNSET_UINT;
    conf->next_upstream_tries = KL_CONF_UNSET_UINT;
    conf->pass_request_body = KL_CONF_UNSET;
    conf->request_buffering = KL_CONF_UNSET;
    conf->intercept_errors = KL_CONF_UNSET;
    conf->buffering = KL_CONF_UNSET;
    conf->temp_path = KL_CONF_UNSET_PTR;
    conf->max_temp_file_size_conf = KL_CONF_UNSET_SIZE;
    conf->temp_file_write_size_conf = KL_CONF_UNSET_SIZE;

    kl_http_upstream_settings_init(conf);
    kl_http_upstream_ssl_init(&conf->ssl);
}


kl_int_t
kl_http_upstream_merge_conf(kl_conf_t *cf, kl_http_upstream_conf_t *conf,
                            kl_http_upstream_conf_t *prev, size_t *busy,
                            size_t prev_busy, const char *prefix,
                            const char *dir)
{
    kl_conf_merge_msec_value(conf->connect_timeout, prev->connect_timeout,
                             60000);
    kl_conf_merge_msec_value(conf->send_timeout, prev->send_timeout, 60000);
    kl_conf_merge_msec_value(conf->read_timeout, prev->read_timeout, 60000);
    kl_conf_merge_msec_value(conf->next_upstream_timeout,
                             prev->next_upstream_timeout, 0);
    kl_conf_merge_size_value(conf->buffer_size, prev->buffer_size, 4096);
    kl_conf_merge_uint_value(conf->next_upstream, prev->next_upstream,
                             KL_HTTP_UPSTREAM_FT_ERROR
                                 | KL_HTTP_UPSTREAM_FT_TIMEOUT);
    kl_conf_merge_uint_value(conf->next_upstream_tries,
                             prev->next_upstream_tries, 0);
    kl_conf_merge_value(conf->pass_request_body, prev->pass_request_body, 1);
    kl_conf_merge_value(conf->request_buffering, prev->request_buffering, 1);
    kl_conf_merge_value(conf->intercept_errors, prev->intercept_errors, 0);
    kl_conf_merge_value(conf->buffering, prev->buffering, 1);

    if (kl_http_upstream_settings_merge(cf, conf, prev) != KL_OK
        || kl_http_upstream_ssl_merge(cf, &conf->ssl, &prev->ssl, prefix)
               != KL_OK)
    {
        return KL_ERROR;
    }

    if (conf->next_upstream & KL_HTTP_UPSTREAM_FT_OFF) {
        conf->next_upstream = KL_HTTP_UPSTREAM_FT_OFF;
    }

    if (conf->bufs.num == 0) {
        /* nginx's default: 8 buffers of a memory page */
        conf->bufs = prev->bufs.num ? prev->bufs : (kl_bufs_t){ 8, 4096 };
    }

    kl_conf_merge_size_value(*busy, prev_busy, KL_CONF_UNSET_SIZE);

    if (kl_http_upstream_check_buffers(cf, conf, *busy, prefix) != KL_OK) {
        return KL_ERROR;
    }

    return kl_http_upstream_merge_temp(cf, conf, prev, prefix, dir);
}


static kl_int_t
kl_http_upstream_check_buffers(kl_conf_t *cf, kl_http_upstream_conf_t *conf,
                               size_t busy, const char *prefix)
{
    size_t size;

    size = kl_max(conf->buffer_size, conf->bufs.size);

    conf->busy_buffers_size = (busy == KL_CONF_UNSET_SIZE) ? 2 * size : busy;

    if (conf->busy_buffers_size < size) {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                          "\"%s_busy_buffers_size\" must be equal to or "
                          "greater than the maximum of the value of "
                          "\"%s_buffer_size\" and one of the "
                          "\"%s_buffers\"",
                          prefix, prefix, prefix);
        return KL_ERROR;
    }

    if (conf->busy_buffers_size > (conf->bufs.num - 1) * conf->bufs.size) {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                          "\"%s_busy_buffers_size\" must be less than "
                          "the size of all \"%s_buffers\" minus one buffer",
                          prefix, prefix);
        return KL_ERROR;
    }

    return KL_OK;
}


static kl_int_t
kl_http_upstream_merge_temp(kl_conf_t *cf, kl_http_upstream_conf_t *conf,
                            kl_http_upstream_conf_t *prev, const char *prefix,
                            const char *dir)
{
    size_t size;

    /* As nginx: the values as written are inherited, the defaults not. */
    kl_conf_merge_size_value(conf->max_temp_file_size_conf,
                             prev->max_temp_file_size_conf, KL_CONF_UNSET_SIZE);
    kl_conf_merge_size_value(conf->temp_file_write_size_conf,
                             prev->temp_file_write_size_conf,
                             KL_CONF_UNSET_SIZE);

    size = kl_max(conf->buffer_size, conf->bufs.size);

    conf->temp_file_write_size =
        (conf->temp_file_write_size_conf == KL_CONF_UNSET_SIZE)
            ? 2 * size
            : conf->temp_file_write_size_conf;

    if (conf->temp_file_write_size < size) {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                          "\"%s_temp_file_write_size\" must be equal to or "
                          "greater than the maximum of the value of "
                          "\"%s_buffer_size\" and one of the \"%s_buffers\"",
                          prefix, prefix, prefix);
        return KL_ERROR;
    }

    conf->max_temp_file_size =
        (conf->max_temp_file_size_conf == KL_CONF_UNSET_SIZE)
            ? (off_t) 1024 * 1024 * 1024
            : (off_t) conf->max_temp_file_size_conf;

    if (conf->max_temp_file_size != 0
        && conf->max_temp_file_size < (off_t) size) {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                          "\"%s_max_temp_file_size\" must be equal to zero to "
                          "disable temporary files usage or must be equal to "
                          "or greater than the maximum of the value of "
                          "\"%s_buffer_size\" and one of the \"%s_buffers\"",
                          prefix, prefix, prefix);
        return KL_ERROR;
    }

    if (kl_http_temp_path_merge(cf, &conf->temp_path, prev->temp_path, dir, 1,
                                2)
        != KL_CONF_OK)
    {
        return KL_ERROR;
    }

    return KL_OK;
}
