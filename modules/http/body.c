/*
 * body.c: request bodies: reading one for a handler that wants it, and
 * discarding one it does not want, so the connection can carry the next
 * request. The framing is the protocol's (r->proto->read_body,
 * ->discard_body: HTTP/1's Content-Length and chunked are in v1/body.c);
 * here the body bytes are gathered in one buffer, and each time the
 * buffer is full and more is coming, its bytes go to a temp file.
 */

#include "kl_http.h"


static kl_int_t kl_http_test_expect(kl_http_request_t *r);
static kl_int_t kl_http_body_fill(kl_http_request_t *r);
static kl_int_t kl_http_do_read_client_request_body(kl_http_request_t *r);
static void     kl_http_read_client_request_body_handler(kl_http_request_t *r);
static kl_int_t kl_http_body_write(kl_http_request_t *r);
static kl_int_t kl_http_body_create_temp_file(kl_http_request_t *r);
static kl_int_t kl_http_body_done(kl_http_request_t *r);

kl_int_t
kl_http_read_client_request_body(kl_http_request_t             *r,
                                 kl_http_client_body_handler_pt post_handler)
{
    size_t                   size;
    kl_int_t                 rc;
    kl_http_request_body_t  *rb;
    kl_http_body_loc_conf_t *blcf;
    kl_http_core_loc_conf_t *clcf;

    r->main->count++;

    if (r != r->main || r->request_body || r->discarding) {
        /* The body is there, or gone: nothing comes any more (nginx's). */
        r->request_body_no_buffering = 0;
        post_handler(r);
        return KL_OK;
    }

    rb = kl_pcalloc(r->pool, sizeof(kl_http_request_body_t));
    if (rb == NULL) {
        rc = KL_HTTP_INTERNAL_SERVER_ERROR;
        goto failed;
    }

    rb->post_handler = post_handler;
    r->request_body = rb;

    blcf = kl_http_get_module_loc_conf(r, kl_http_body_module);

    if (!r->has_body) {
        /* No body, or one already discarded; nginx still makes the file. */
        if (r->headers_in.content_length_n == 0
            && blcf->client_body_in_file_only != KL_HTTP_BODY_FILE_OFF
            && kl_http_body_create_temp_file(r) != KL_OK)
        {
            rc = KL_HTTP_INTERNAL_SERVER_ERROR;
            goto failed;
        }

        post_handler(r);
        return KL_OK;
    }

    clcf = kl_http_get_module_loc_conf(r, kl_http_core_module);

    if (!r->headers_in.chunked && clcf->client_max_body_size
        && r->headers_in.content_length_n > clcf->client_max_body_size)
    {
        kl_log_error(KL_LOG_ERR, r->connection->log, 0,
                     "client intended to send too large body: %O bytes",
                     r->headers_in.content_length_n);
        r->keepalive = 0;
        rc = KL_HTTP_REQUEST_ENTITY_TOO_LARGE;
        goto failed;
    }

    if (kl_http_test_expect(r) != KL_OK) {
        rc = KL_HTTP_INTERNAL_SERVER_ERROR;
        goto failed;
    }

    r->connection->log->action = "reading client request body";

    /*
     * With a known length, a quarter over the buffer still stays in
     * memory; not when the body is passed on as it comes: the buffer is
     * then the most that is read ahead of the consumer.
     */
    size = kl_max(blcf->client_body_buffer_size, 1);

    /* The protocol's framing keeps rest; a length not known is 1 to it. */
    if (r->headers_in.content_length_n < 0) {
        rb->rest = 1;

    } else {
        rb->rest = r->headers_in.content_length_n;

        if (rb->rest
            <= (off_t) (size + (r->request_body_no_buffering ? 0 : size / 4))) {
            size = (size_t) rb->rest;
        }
    }

    rb->buf = kl_buf_create_temp(r->pool, size);
    if (rb->buf == NULL) {
        rc = KL_HTTP_INTERNAL_SERVER_ERROR;
        goto failed;
    }

    if (r->request_body_no_buffering) {
        rc = kl_http_read_unbuffered_request_body(r);

        if (rc == KL_OK || rc == KL_AGAIN) {
            post_handler(r);
            return KL_OK;
        }

        goto failed;
    }

    rc = kl_http_body_fill(r);

    if (rc == KL_AGAIN) {
        r->read_event_handler = kl_http_read_client_request_body_handler;
        r->write_event_handler = kl_http_request_empty_handler;

        rc = kl_http_do_read_client_request_body(r);

    } else if (rc == KL_OK) {
        rc = kl_http_body_done(r);
    }

    if (rc == KL_ERROR) {
        rc = KL_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc < KL_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

failed:

    r->main->count--;

    return rc;
}


/*
 * RFC 9110 section 10.1.1: a client that expects 100-continue waits for
 * it before sending the body; the protocol answers (HTTP/1.0 cannot).
 * Other expectations are ignored, as nginx ignores them (417 is a MAY).
 */
static kl_int_t
kl_http_test_expect(kl_http_request_t *r)
{
    kl_str_t *expect;

    if (r->expect_tested || r->headers_in.expect == NULL) {
        return KL_OK;
    }

    r->expect_tested = 1;

    expect = &r->headers_in.expect->value;

    if (expect->len != sizeof("100-continue") - 1
        || kl_strncasecmp(expect->data, (u_char *) "100-continue",
                          sizeof("100-continue") - 1)
               != 0)
    {
        return KL_OK;
    }

    return r->proto->send_continue(r);
}


/*
 * The protocol's body bytes into the buffer, the buffer to the temp file
 * each time it is full and more is coming: KL_OK once the whole body is
 * in, KL_AGAIN, or an error status.
 */
static kl_int_t
kl_http_body_fill(kl_http_request_t *r)
{
    kl_int_t  rc;
    kl_buf_t *buf;

    buf = r->request_body->buf;

    for (;;) {
        if (buf->last == buf->end && kl_http_body_write(r) != KL_OK) {
            return KL_HTTP_INTERNAL_SERVER_ERROR;
        }

        rc = r->proto->read_body(r, buf);

        if (rc != KL_AGAIN || buf->last < buf->end) {
            return rc;
        }
    }
}


static kl_int_t
kl_http_do_read_client_request_body(kl_http_request_t *r)
{
    kl_int_t                 rc;
    kl_http_core_loc_conf_t *clcf;

    rc = kl_http_body_fill(r);

    if (rc == KL_AGAIN) {
        clcf = kl_http_get_module_loc_conf(r, kl_http_core_module);
        kl_event_add_timer(r->connection->read, clcf->client_body_timeout);

        return KL_AGAIN;
    }

    if (rc != KL_OK) {
        return rc;
    }

    return kl_http_body_done(r);
}


static void
kl_http_read_client_request_body_handler(kl_http_request_t *r)
{
    kl_int_t         rc;
    kl_connection_t *c;

    c = r->connection;

    if (c->read->timedout) {
        /* nginx's 408 here is logged, never sent: the client is stuck. */
        c->timedout = 1;
        kl_log_error(KL_LOG_INFO, c->log, ETIMEDOUT, "client timed out");
        kl_http_finalize_request(r, KL_HTTP_REQUEST_TIME_OUT);
        return;
    }

    rc = kl_http_do_read_client_request_body(r);

    if (rc >= KL_HTTP_SPECIAL_RESPONSE || rc == KL_ERROR) {
        kl_http_finalize_request(r, rc);
    }
}


/*
 * The unbuffered read: what the head brought, then the socket, into the
 * free part of rb->buf (emptied first if the consumer took it all), never
 * more than fits (a decoded chunk is never longer than its raw bytes).
 */
kl_int_t
kl_http_read_unbuffered_request_body(kl_http_request_t *r)
{
    kl_int_t                 rc;
    kl_buf_t                *buf;
    kl_connection_t         *c;
    kl_http_core_loc_conf_t *clcf;

    c = r->connection;

    if (c->read->timedout) {
        c->read->timedout = 0;
        c->timedout = 1;
        kl_log_error(KL_LOG_INFO, c->log, ETIMEDOUT, "client timed out");
        return KL_HTTP_REQUEST_TIME_OUT;
    }

    if (!r->has_body) {
        return KL_OK;
    }

    buf = r->request_body->buf;

    if (buf->pos == buf->last) {
        buf->pos = buf->start;
        buf->last = buf->start;
    }

    rc = r->proto->read_body(r, buf);

    if (rc == KL_OK) {
        /* As nginx: the length read, for whoever passes the body on. */
        r->headers_in.content_length_n = r->request_body->received;
        r->has_body = 0;

        if (c->read->timer_set) {
            kl_event_del_timer(c->read);
        }

        return KL_OK;
    }

    if (rc != KL_AGAIN) {
        return rc;
    }

    /* A full buffer waits for the consumer: then the client is not late. */
    if (buf->last < buf->end) {
        clcf = kl_http_get_module_loc_conf(r, kl_http_core_module);
        kl_event_add_timer(c->read, clcf->client_body_timeout);

    } else if (c->read->timer_set) {
        kl_event_del_timer(c->read);
    }

    return KL_AGAIN;
}


/* The buffer's bytes to the temp file, which is made on first use. */
static kl_int_t
kl_http_body_write(kl_http_request_t *r)
{
    size_t                  n;
    kl_buf_t               *buf;
    kl_file_t              *file;
    kl_http_request_body_t *rb;

    rb = r->request_body;
    buf = rb->buf;

    if (rb->temp_file == NULL && kl_http_body_create_temp_file(r) != KL_OK) {
        return KL_ERROR;
    }

    file = rb->temp_file;
    n = buf->last - buf->pos;

    if (n && kl_write_fd_all(file->fd, buf->pos, n) == -1) {
        kl_log_error(KL_LOG_CRIT, r->connection->log, errno,
                     "write() \"%s\" failed", file->name.data);
        return KL_ERROR;
    }

    file->offset += (off_t) n;
    buf->pos = buf->start;
    buf->last = buf->start;

    return KL_OK;
}


/*
 * Unless client_body_in_file_only keeps it, the file is unlinked as soon
 * as it is open: only the fd holds it.
 */
static kl_int_t
kl_http_body_create_temp_file(kl_http_request_t *r)
{
    kl_http_body_loc_conf_t *blcf;

    blcf = kl_http_get_module_loc_conf(r, kl_http_body_module);

    r->request_body->temp_file = kl_http_temp_file_create(
        r, blcf->client_body_temp_path, blcf->client_body_in_file_only,
        "a client request body is buffered to a temporary file");

    return r->request_body->temp_file ? KL_OK : KL_ERROR;
}


/* The whole body is in: describe it in bufs, then hand over. */
static kl_int_t
kl_http_body_done(kl_http_request_t *r)
{
    kl_buf_t                *b;
    kl_chain_t              *cl;
    kl_connection_t         *c;
    kl_http_request_body_t  *rb;
    kl_http_body_loc_conf_t *blcf;

    c = r->connection;
    rb = r->request_body;
    blcf = kl_http_get_module_loc_conf(r, kl_http_body_module);

    if (rb->temp_file
        || blcf->client_body_in_file_only != KL_HTTP_BODY_FILE_OFF) {
        if (kl_http_body_write(r) != KL_OK) {
            return KL_ERROR;
        }

        b = rb->temp_file->offset ? kl_buf_calloc(r->pool) : NULL;

        if (b) {
            b->in_file = 1;
            b->file = rb->temp_file;
            b->file_pos = 0;
            b->file_last = rb->temp_file->offset;
        }

    } else {
        b = (rb->buf->last > rb->buf->pos) ? rb->buf : NULL;
    }

    if (b) {
        cl = kl_chain_alloc(r->pool);
        if (cl == NULL) {
            return KL_ERROR;
        }

        cl->buf = b;
        cl->next = NULL;
        rb->bufs = cl;
    }

    /* As nginx: the length read, for whoever passes the body on. */
    r->headers_in.content_length_n = rb->received;

    r->has_body = 0;
    r->read_event_handler = kl_http_block_reading;
    c->log->action = NULL;

    if (c->read->timer_set) {
        kl_event_del_timer(c->read);
    }

    rb->post_handler(r);

    return KL_OK;
}


/*
 * Nobody reads the body: the protocol drops it (HTTP/1 reads it off the
 * connection, in the background when it is not all there yet).
 */
kl_int_t
kl_http_discard_request_body(kl_http_request_t *r)
{
    if (r != r->main || r->discarding || r->request_body || !r->has_body) {
        return KL_OK;
    }

    /*
     * A 100-continue client gets its go-ahead only when its body is
     * wanted: not when an error page is the answer (err_status is set
     * then), as nginx's special response handler marks expect_tested.
     */
    if (!r->err_status && kl_http_test_expect(r) != KL_OK) {
        return KL_HTTP_INTERNAL_SERVER_ERROR;
    }

    return r->proto->discard_body(r);
}
