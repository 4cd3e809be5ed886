/*
 * keepalive.c: what an HTTP/1 connection does once a response is done:
 * the next request (keep-alive; a pipelined one is already in the
 * buffer), or a lingering close that drains what the client still sends
 * so that the kernel does not answer it with a reset.
 */

#include "kl_http.h"


static void kl_http_set_keepalive(kl_http_request_t *r);
static void kl_http_set_lingering_close(kl_http_request_t *r);
static void kl_http_lingering_close_handler(kl_event_t *rev);


/*
 * r's main request is done; once nothing else holds it, the connection
 * takes the next request (keep-alive; a pipelined one is already read),
 * or drains what the client still sends before closing (lingering).
 */
void
kl_http_v1_finalize(kl_http_request_t *r)
{
    kl_http_core_loc_conf_t *clcf;

    if (r->main->discarding && r->main->done) {
        /* The response is out; the body is still coming in. */
        kl_http_v1_discard_body_wait(r->main);
    }

    if (r->main->count != 1) {
        kl_http_close_request(r, 0);
        return;
    }

    r = r->main;
    clcf = kl_http_get_module_loc_conf(r, kl_http_core_module);

    if (r->connection->read->eof) {
        kl_http_close_request(r, 0);
        return;
    }

    if (r->has_body) {
        /* Its body was not read: the next bytes are not a request. */
        r->keepalive = 0;
        r->lingering_close = 1;
    }

    if (!kl_loop.exiting && r->keepalive && clcf->keepalive_timeout > 0) {
        kl_http_set_keepalive(r);
        return;
    }

    if (clcf->lingering_close == KL_HTTP_LINGERING_ALWAYS
        || (clcf->lingering_close == KL_HTTP_LINGERING_ON
            && (r->lingering_close || r->header_in->pos < r->header_in->last
                || r->connection->read->ready)))
    {
        kl_http_set_lingering_close(r);
        return;
    }

    kl_http_close_request(r, 0);
}


static void
kl_http_set_keepalive(kl_http_request_t *r)
{
    int                      on;
    kl_uint_t                i;
    kl_buf_t                *b, *keep;
    kl_event_t              *rev;
    kl_connection_t         *c;
    kl_http_connection_t    *hc;
    kl_http_core_loc_conf_t *clcf;

    c = r->connection;
    rev = c->read;
    hc = r->http_connection;
    b = r->header_in;
    clcf = kl_http_get_module_loc_conf(r, kl_http_core_module);

    c->log->action = "closing request";

    kl_http_free_request(r, 0);

    c->data = hc;
    c->sent = 0;
    c->write->handler = kl_http_empty_handler;

    /* Large buffers go back to the free list, but one holding a pipelined
     * request is kept as the next request's header buffer. */
    keep = (b->pos < b->last && b != c->buffer) ? b : NULL;

    for (i = 0; i < hc->nbusy; i++) {
        if (hc->busy[i] != keep) {
            hc->busy[i]->pos = hc->busy[i]->start;
            hc->busy[i]->last = hc->busy[i]->start;
            hc->free[hc->nfree++] = hc->busy[i];
        }
    }

    hc->nbusy = 0;

    if (keep) {
        hc->busy[hc->nbusy++] = keep;
    }

    if (b->pos < b->last) {
        /* Pipelined: the next request is already here. */
        if (b == c->buffer && b->pos != b->start) {
            /* Room at the end for the rest of the next request. */
            size_t n = b->last - b->pos;

            memmove(b->start, b->pos, n);
            b->pos = b->start;
            b->last = b->start + n;
        }

        c->data = kl_http_create_request(c);
        if (c->data == NULL) {
            kl_http_close_connection(c);
            return;
        }

        ((kl_http_request_t *) c->data)->pipeline = 1;
        c->log->action = "reading client pipelined request line";

        rev->handler = kl_http_process_request_line;
        kl_post_event(rev, &kl_loop.posted);
        return;
    }

    kl_http_release_pool(c, hc);

    /* An idle TLS connection holds no record buffers (OpenSSL's, ours). */
    if (c->ssl) {
        kl_ssl_free_buffer(c);
    }

    if (clcf->tcp_nodelay && !c->tcp_nodelay) {
        on = 1;

        if (kl_socket_tcp_nodelay(c->fd, on) == -1) {
            kl_log_error(KL_LOG_INFO, c->log, errno,
                         "setsockopt(TCP_NODELAY) failed");
        } else {
            c->tcp_nodelay = 1;
        }
    }

    c->log->action = "keepalive";

    rev->handler = kl_http_wait_request_handler;
    c->write->handler = kl_http_empty_handler;
    c->idle = 1;

    kl_reusable_connection(c, 1);
    kl_event_add_timer(rev, clcf->keepalive_timeout);

    if (rev->ready) {
        kl_post_event(rev, &kl_loop.posted);
    }
}


static void
kl_http_set_lingering_close(kl_http_request_t *r)
{
    kl_event_t              *rev, *wev;
    kl_connection_t         *c;
    kl_http_core_loc_conf_t *clcf;

    c = r->connection;
    clcf = kl_http_get_module_loc_conf(r, kl_http_core_module);

    rev = c->read;
    rev->handler = kl_http_lingering_close_handler;

    r->http_connection->lingering_deadline = kl_now() + clcf->lingering_time;

    wev = c->write;
    wev->handler = kl_http_empty_handler;

    /* Tell the client we are done, but read what it still sends, so the
     * kernel does not answer it with a reset that destroys our response. */
    if (c->io->shutdown(c) != KL_OK) {
        kl_log_error(KL_LOG_INFO, c->log, errno, "shutdown() failed");
        kl_http_close_request(r, 0);
        return;
    }

    kl_event_add_timer(rev, clcf->lingering_timeout);

    if (rev->ready) {
        kl_http_lingering_close_handler(rev);
    }
}


static void
kl_http_lingering_close_handler(kl_event_t *rev)
{
    ssize_t                  n;
    kl_msec_t                timer;
    kl_connection_t         *c;
    kl_http_request_t       *r;
    kl_http_core_loc_conf_t *clcf;
    u_char                   buffer[KL_HTTP_LINGERING_BUFFER_SIZE];

    c = rev->data;
    r = c->data;

    if (rev->timedout || c->close) {
        kl_http_close_request(r, 0);
        return;
    }

    if ((kl_msec_int_t) (r->http_connection->lingering_deadline - kl_now())
        <= 0) {
        kl_http_close_request(r, 0);
        return;
    }

    timer = r->http_connection->lingering_deadline - kl_now();

    do {
        n = c->io->recv(c, buffer, KL_HTTP_LINGERING_BUFFER_SIZE);

        if (n == KL_ERROR || n == 0) {
            kl_http_close_request(r, 0);
            return;
        }

    } while (rev->ready);

    clcf = kl_http_get_module_loc_conf(r, kl_http_core_module);

    kl_event_add_timer(rev, kl_min(timer, clcf->lingering_timeout));
}
