/*
 * body.c: request bodies. For now: discarding a body the handler does
 * not want, so the connection can carry the next request.
 *
 * Discarding never reads past the body's end: with Content-Length at
 * most the bytes left, chunked at most the parser's lower bound of what
 * remains. So a pipelined request after the body stays in the socket
 * (or in header_in, where it was read with the head).
 */

#include "kl_http.h"


static kl_int_t kl_http_read_discarded_body(kl_http_request_t *r);
static kl_int_t kl_http_discard_consume(kl_http_request_t *r, kl_buf_t *b);
static void     kl_http_discarded_body_handler(kl_http_request_t *r);


kl_int_t
kl_http_discard_request_body(kl_http_request_t *r)
{
    kl_int_t         rc;
    kl_event_t      *rev;
    kl_connection_t *c;

    if (r != r->main || r->discarding || !r->has_body) {
        return KL_OK;
    }

    c = r->connection;
    rev = c->read;

    if (rev->timer_set) {
        kl_event_del_timer(rev);
    }

    r->discard_left =
        r->headers_in.chunked ? 0 : r->headers_in.content_length_n;

    rc = kl_http_read_discarded_body(r);

    if (rc == KL_OK) {
        r->has_body = 0;
        return KL_OK;
    }

    if (rc != KL_AGAIN) {
        /* The framing is lost: answer, then close (has_body stays set). */
        r->keepalive = 0;
        return rc == KL_ERROR ? KL_OK : rc;
    }

    r->read_event_handler = kl_http_discarded_body_handler;
    r->discarding = 1;
    r->count++;

    return KL_OK;
}


static void
kl_http_discarded_body_handler(kl_http_request_t *r)
{
    kl_int_t                 rc;
    kl_msec_t                left;
    kl_event_t              *rev;
    kl_connection_t         *c;
    kl_http_core_loc_conf_t *clcf;

    c = r->connection;
    rev = c->read;

    if (rev->timedout) {
        c->timedout = 1;
        c->error = 1;
        kl_http_finalize_request(r, KL_ERROR);
        return;
    }

    if (r->lingering_deadline
        && (kl_msec_int_t) (r->lingering_deadline - kl_now()) <= 0)
    {
        c->error = 1;
        kl_http_finalize_request(r, KL_ERROR);
        return;
    }

    rc = kl_http_read_discarded_body(r);

    if (rc == KL_OK) {
        r->discarding = 0;
        r->has_body = 0;
        r->read_event_handler = kl_http_block_reading;

        if (rev->timer_set) {
            kl_event_del_timer(rev);
        }

        kl_http_finalize_request(r, KL_DONE);
        return;
    }

    if (rc != KL_AGAIN) {
        c->error = 1;
        kl_http_finalize_request(r, KL_ERROR);
        return;
    }

    /* Only once the response is done does the wait for the body count. */
    if (r->done) {
        clcf = kl_http_get_module_loc_conf(r, kl_http_core_module);
        left = r->lingering_deadline - kl_now();
        kl_event_add_timer(rev, kl_min(left, clcf->lingering_timeout));
    }
}


void
kl_http_discard_body_wait(kl_http_request_t *r)
{
    kl_http_core_loc_conf_t *clcf;

    clcf = kl_http_get_module_loc_conf(r, kl_http_core_module);

    /* The response is out; the rest of the body gets lingering_* time. */
    if (r->lingering_deadline == 0) {
        r->lingering_deadline = kl_now() + clcf->lingering_time;
    }

    kl_event_add_timer(r->connection->read, clcf->lingering_timeout);
}


static kl_int_t
kl_http_read_discarded_body(kl_http_request_t *r)
{
    size_t           size;
    ssize_t          n;
    kl_int_t         rc;
    kl_buf_t         b;
    kl_connection_t *c;
    u_char           buffer[KL_HTTP_DISCARD_BUFFER_SIZE];

    c = r->connection;

    /* What came with the head first. */
    rc = kl_http_discard_consume(r, r->header_in);

    for (;;) {
        if (rc != KL_AGAIN) {
            return rc;
        }

        if (!c->read->ready) {
            return KL_AGAIN;
        }

        if (r->headers_in.chunked) {
            size = (size_t) kl_min(r->discard_chunked.length,
                                   KL_HTTP_DISCARD_BUFFER_SIZE);
        } else {
            size =
                (size_t) kl_min(r->discard_left, KL_HTTP_DISCARD_BUFFER_SIZE);
        }

        if (size == 0) {
            size = 1;
        }

        n = kl_connection_recv(c, buffer, size);

        if (n == KL_AGAIN) {
            return KL_AGAIN;
        }

        if (n == KL_ERROR) {
            return KL_ERROR;
        }

        if (n == 0) {
            /* The client gave up on its body; the connection ends. */
            return KL_ERROR;
        }

        kl_memzero(&b, sizeof(kl_buf_t));
        b.pos = buffer;
        b.last = buffer + n;

        rc = kl_http_discard_consume(r, &b);
    }
}


/* KL_OK at the body's end, KL_AGAIN for more, or an error status. */
static kl_int_t
kl_http_discard_consume(kl_http_request_t *r, kl_buf_t *b)
{
    off_t    n;
    kl_int_t rc;

    if (!r->headers_in.chunked) {
        n = kl_min(r->discard_left, (off_t) (b->last - b->pos));
        b->pos += n;
        r->discard_left -= n;

        return r->discard_left ? KL_AGAIN : KL_OK;
    }

    for (;;) {
        rc = kl_http_parse_chunked(&r->discard_chunked, b);

        if (rc == KL_OK) {
            n = kl_min(r->discard_chunked.size, (off_t) (b->last - b->pos));
            b->pos += n;
            r->discard_chunked.size -= n;

            if (b->pos == b->last) {
                return KL_AGAIN;
            }

            continue;
        }

        if (rc == KL_DONE) {
            return KL_OK;
        }

        if (rc == KL_AGAIN) {
            return KL_AGAIN;
        }

        kl_log_error(KL_LOG_INFO, r->connection->log, 0,
                     "client sent invalid chunked body");

        return KL_HTTP_BAD_REQUEST;
    }
}
