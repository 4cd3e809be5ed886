/*
 * body.c (v1): HTTP/1's request body framing (RFC 9112 section 6):
 * Content-Length or chunked bytes, from what came with the head
 * (header_in) and then the socket, turned into body bytes for the
 * engine's body.c (r->proto->read_body); and a body nobody reads,
 * dropped (->discard_body), in the background if it is not all there
 * yet, bounded by lingering_time and lingering_timeout once the response
 * is out, as nginx's.
 *
 * Neither ever reads past the body's end: with Content-Length at most
 * the bytes left, chunked at most the parser's lower bound of what
 * remains. So a pipelined request after the body stays in the socket
 * (or in header_in, where it was read with the head). A chunked body is
 * decoded in place: raw bytes are read into the buffer's free space and
 * the data moved down over the framing, which it never overtakes.
 */

#include "kl_http.h"


static kl_int_t kl_http_v1_body_consume(kl_http_request_t *r, kl_buf_t *in,
                                        kl_buf_t *b);
static kl_int_t kl_http_v1_body_chunked(kl_http_request_t *r, kl_buf_t *in,
                                        kl_buf_t *b);
static ssize_t  kl_http_v1_body_recv(kl_http_request_t *r, u_char *p,
                                     size_t size);
static kl_int_t kl_http_v1_read_discarded(kl_http_request_t *r);
static kl_int_t kl_http_v1_discard_consume(kl_http_request_t *r, kl_buf_t *b);
static void     kl_http_v1_discarded_body_handler(kl_http_request_t *r);


/*
 * Body bytes appended at b->last, never past b->end: KL_OK at the body's
 * end, KL_AGAIN when b is full or nothing more is there yet, 400 (bad
 * framing, or the client gone: c->error), 413 (a chunk past
 * client_max_body_size).
 */
kl_int_t
kl_http_v1_read_body(kl_http_request_t *r, kl_buf_t *b)
{
    off_t                   size;
    ssize_t                 n;
    kl_int_t                rc;
    kl_buf_t                raw, *hb;
    kl_http_request_body_t *rb;

    rb = r->request_body;
    hb = r->header_in;
    rc = KL_AGAIN;

    while (rb->rest && b->last < b->end) {
        /* A decoded chunk is never longer than its raw bytes: it fits. */
        size = kl_min(rb->rest, (off_t) (b->end - b->last));

        kl_memzero(&raw, sizeof(kl_buf_t));

        if (hb->pos < hb->last) {
            raw.pos = hb->pos;
            raw.last = hb->pos + kl_min(size, (off_t) (hb->last - hb->pos));

            rc = kl_http_v1_body_consume(r, &raw, b);

            r->request_length += raw.pos - hb->pos;
            hb->pos = raw.pos;

        } else {
            n = kl_http_v1_body_recv(r, b->last, (size_t) size);

            if (n == 0) {
                return KL_AGAIN;
            }

            if (n < 0) {
                return KL_HTTP_BAD_REQUEST;
            }

            raw.pos = b->last;
            raw.last = b->last + n;

            rc = kl_http_v1_body_consume(r, &raw, b);
        }

        if (rc != KL_OK && rc != KL_AGAIN) {
            return rc;
        }
    }

    return rb->rest ? KL_AGAIN : KL_OK;
}


/*
 * Read at most size bytes to p: how many, 0 when none is there yet, or
 * -1 when the client is gone (c->error set).
 */
static ssize_t
kl_http_v1_body_recv(kl_http_request_t *r, u_char *p, size_t size)
{
    ssize_t          n;
    kl_connection_t *c;

    c = r->connection;

    if (!c->read->ready) {
        return 0;
    }

    n = c->io->recv(c, p, size);

    if (n == KL_AGAIN) {
        return 0;
    }

    if (n == 0) {
        kl_log_error(KL_LOG_INFO, c->log, 0,
                     "client prematurely closed connection");
    }

    if (n == 0 || n == KL_ERROR) {
        c->error = 1;
        return -1;
    }

    r->request_length += n;

    return n;
}


/* Append n bytes at p (which may lie in b's free part) to b. */
static void
kl_http_v1_body_save(kl_buf_t *b, u_char *p, size_t n)
{
    if (p != b->last) {
        memmove(b->last, p, n);
    }

    b->last += n;
}


/* Raw body bytes at in (header_in, or read into b's free part). */
static kl_int_t
kl_http_v1_body_consume(kl_http_request_t *r, kl_buf_t *in, kl_buf_t *b)
{
    off_t                   n;
    kl_http_request_body_t *rb;

    rb = r->request_body;

    if (r->headers_in.chunked) {
        return kl_http_v1_body_chunked(r, in, b);
    }

    n = kl_min(rb->rest, (off_t) (in->last - in->pos));

    kl_http_v1_body_save(b, in->pos, (size_t) n);

    in->pos += n;
    rb->rest -= n;
    rb->received += n;

    return rb->rest ? KL_AGAIN : KL_OK;
}


/*
 * Decode [in->pos, in->last) into b. KL_OK at the last chunk's end,
 * KL_AGAIN for more, 400 for bad framing, 413 past client_max_body_size
 * (checked against each chunk's announced size, before its data is
 * read, as nginx does).
 */
static kl_int_t
kl_http_v1_body_chunked(kl_http_request_t *r, kl_buf_t *in, kl_buf_t *b)
{
    off_t                    n;
    kl_int_t                 rc;
    kl_http_request_body_t  *rb;
    kl_http_core_loc_conf_t *clcf;

    rb = r->request_body;

    for (;;) {
        rc = kl_http_parse_chunked(&rb->chunked, in);

        if (rc == KL_OK) {
            clcf = kl_http_get_module_loc_conf(r, kl_http_core_module);

            if (clcf->client_max_body_size
                && clcf->client_max_body_size - rb->received < rb->chunked.size)
            {
                kl_log_error(KL_LOG_ERR, r->connection->log, 0,
                             "client intended to send too large chunked "
                             "body: %O+%O bytes",
                             rb->received, rb->chunked.size);
                r->keepalive = 0;
                return KL_HTTP_REQUEST_ENTITY_TOO_LARGE;
            }

            n = kl_min(rb->chunked.size, (off_t) (in->last - in->pos));

            kl_http_v1_body_save(b, in->pos, (size_t) n);

            in->pos += n;
            rb->chunked.size -= n;
            rb->received += n;

            /* Parsing on, even at the input's end, updates the bound. */
            continue;
        }

        if (rc == KL_DONE) {
            rb->rest = 0;
            return KL_OK;
        }

        if (rc == KL_AGAIN) {
            rb->rest = kl_max(rb->chunked.length, 1);
            return KL_AGAIN;
        }

        kl_log_error(KL_LOG_INFO, r->connection->log, 0,
                     "client sent invalid chunked body");

        return KL_HTTP_BAD_REQUEST;
    }
}


/*
 * Read the body and drop it: KL_OK at its end, KL_AGAIN for more, 400
 * (bad framing), KL_ERROR (the client is gone).
 */
static kl_int_t
kl_http_v1_read_discarded(kl_http_request_t *r)
{
    size_t           size;
    ssize_t          n;
    kl_int_t         rc;
    kl_buf_t         b;
    kl_connection_t *c;
    u_char           buffer[KL_HTTP_DISCARD_BUFFER_SIZE];

    c = r->connection;

    /* What came with the head first. */
    rc = kl_http_v1_discard_consume(r, r->header_in);

    for (;;) {
        if (rc != KL_AGAIN) {
            return rc;
        }

        if (!c->read->ready) {
            return KL_AGAIN;
        }

        if (r->headers_in.chunked) {
            size = (size_t) kl_min(r->http_connection->discard_chunked.length,
                                   KL_HTTP_DISCARD_BUFFER_SIZE);
        } else {
            size = (size_t) kl_min(r->http_connection->discard_left,
                                   KL_HTTP_DISCARD_BUFFER_SIZE);
        }

        if (size == 0) {
            size = 1;
        }

        n = c->io->recv(c, buffer, size);

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

        rc = kl_http_v1_discard_consume(r, &b);
    }
}


/* KL_OK at the body's end, KL_AGAIN for more, or an error status. */
static kl_int_t
kl_http_v1_discard_consume(kl_http_request_t *r, kl_buf_t *b)
{
    off_t    n;
    kl_int_t rc;

    if (!r->headers_in.chunked) {
        n = kl_min(r->http_connection->discard_left,
                   (off_t) (b->last - b->pos));
        b->pos += n;
        r->http_connection->discard_left -= n;

        return r->http_connection->discard_left ? KL_AGAIN : KL_OK;
    }

    for (;;) {
        rc = kl_http_parse_chunked(&r->http_connection->discard_chunked, b);

        if (rc == KL_OK) {
            n = kl_min(r->http_connection->discard_chunked.size,
                       (off_t) (b->last - b->pos));
            b->pos += n;
            r->http_connection->discard_chunked.size -= n;

            /*
             * Parse on even at the input's end: that brings the bound of
             * what remains (length) down by the data just skipped, so the
             * next read cannot reach into a pipelined request.
             */
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


/*
 * The body nobody reads, dropped: KL_OK (gone, or r->discarding: read in
 * the background, the request held until then), or a status to answer
 * (400: the framing is lost, and the connection closes after).
 */
kl_int_t
kl_http_v1_discard_body(kl_http_request_t *r)
{
    kl_int_t         rc;
    kl_event_t      *rev;
    kl_connection_t *c;

    c = r->connection;
    rev = c->read;

    if (rev->timer_set) {
        kl_event_del_timer(rev);
    }

    /* The length, if known; the protocol's framing counts it down. */
    r->http_connection->discard_left = r->headers_in.content_length_n;
    kl_memzero(&r->http_connection->discard_chunked, sizeof(kl_http_chunked_t));

    rc = kl_http_v1_read_discarded(r);

    if (rc == KL_OK) {
        r->has_body = 0;
        return KL_OK;
    }

    if (rc != KL_AGAIN) {
        /* The framing is lost: answer, then close (has_body stays set). */
        r->keepalive = 0;
        return rc == KL_ERROR ? KL_OK : rc;
    }

    r->read_event_handler = kl_http_v1_discarded_body_handler;
    r->discarding = 1;
    r->count++;

    return KL_OK;
}


static void
kl_http_v1_discarded_body_handler(kl_http_request_t *r)
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

    if (r->http_connection->lingering_deadline
        && (kl_msec_int_t) (r->http_connection->lingering_deadline - kl_now())
               <= 0)
    {
        c->error = 1;
        kl_http_finalize_request(r, KL_ERROR);
        return;
    }

    rc = kl_http_v1_read_discarded(r);

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
        left = r->http_connection->lingering_deadline - kl_now();
        kl_event_add_timer(rev, kl_min(left, clcf->lingering_timeout));
    }
}


/* The response is out; the rest of the body gets lingering_* time. */
void
kl_http_v1_discard_body_wait(kl_http_request_t *r)
{
    kl_http_core_loc_conf_t *clcf;

    clcf = kl_http_get_module_loc_conf(r, kl_http_core_module);

    if (r->http_connection->lingering_deadline == 0) {
        r->http_connection->lingering_deadline =
            kl_now() + clcf->lingering_time;
    }

    /*
     * Finalizing blocked reading; the discarding takes the reads back.
     * Bytes that came meanwhile raise no new edge: go and read them.
     */
    r->read_event_handler = kl_http_v1_discarded_body_handler;

    kl_event_add_timer(r->connection->read, clcf->lingering_timeout);

    if (r->connection->read->ready) {
        kl_post_event(r->connection->read, &kl_loop.posted);
    }
}
