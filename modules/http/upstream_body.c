/*
 * upstream_body.c: the response body of the upstream core, once the head
 * went to the client: each read from the peer is decoded in place by the
 * protocol's input filter and queued to the client as a view of the
 * buffer read into. At most nbufs buffers are in flight; when all are,
 * a buffered body spills to a temp file (up to max_temp_file_size,
 * temp_file_write_size at a time) whose ranges are queued behind the
 * views, in order; when the file may not grow, reading from the peer
 * waits for the client to take what was sent. Everything queued gone
 * out, the buffers and the file are used again from their start. Once
 * the body is all read, all of it is passed on and the exchange ends,
 * the peer connection closed or kept, the client still taking the rest.
 */

#include "upstream.h"


static void      kl_http_upstream_process_body(kl_http_request_t  *r,
                                               kl_http_upstream_t *u);
static void      kl_http_upstream_body_upstream(kl_http_request_t  *r,
                                                kl_http_upstream_t *u);
static void      kl_http_upstream_body_downstream(kl_http_request_t *r);
static kl_int_t  kl_http_upstream_pass(kl_http_request_t  *r,
                                       kl_http_upstream_t *u, u_char *p,
                                       size_t n, kl_uint_t last);
static kl_buf_t *kl_http_upstream_queue(kl_http_request_t  *r,
                                        kl_http_upstream_t *u);
static kl_int_t  kl_http_upstream_spill_buf(kl_http_request_t  *r,
                                            kl_http_upstream_t *u,
                                            kl_buf_t          **bp);
static kl_int_t  kl_http_upstream_spill(kl_http_request_t  *r,
                                        kl_http_upstream_t *u, u_char *p,
                                        size_t n);
static kl_int_t  kl_http_upstream_flush(kl_http_request_t  *r,
                                        kl_http_upstream_t *u);
static kl_int_t  kl_http_upstream_recycle(kl_http_request_t  *r,
                                          kl_http_upstream_t *u);
static void      kl_http_upstream_wait_client(kl_http_request_t *r);
static kl_int_t  kl_http_upstream_read_buf(kl_http_request_t  *r,
                                           kl_http_upstream_t *u, kl_buf_t **bp,
                                           kl_buf_t **spill);
static kl_int_t  kl_http_upstream_rate(kl_http_upstream_t *u, size_t *size);
static kl_int_t  kl_http_upstream_take(kl_http_request_t  *r,
                                       kl_http_upstream_t *u, kl_buf_t *b,
                                       kl_buf_t *spill, ssize_t n);
static void      kl_http_upstream_body_read(kl_http_request_t  *r,
                                            kl_http_upstream_t *u);


/* Read and relay the body (none for a HEAD): after the head was sent. */
void
kl_http_upstream_start_body(kl_http_request_t *r, kl_http_upstream_t *u)
{
    kl_int_t rc;

    r->connection->log->action = "reading upstream";

    /* Unbuffered: one buffer, sent as soon as anything is read into it. */
    u->bufs_size = u->buffering ? u->conf->bufs.size : u->conf->buffer_size;
    u->nbufs = u->buffering ? u->conf->bufs.num : 1;
    u->bufs = kl_pcalloc(r->pool, u->nbufs * sizeof(kl_buf_t *));
    if (u->bufs == NULL) {
        kl_http_upstream_finalize(r, u, KL_ERROR);
        return;
    }

    u->read_event_handler = kl_http_upstream_body_upstream;
    r->write_event_handler = kl_http_upstream_body_downstream;
    u->body_start = kl_now();
    kl_http_upstream_eval_rate(r, u);

    if (r->header_only && u->length != 0) {
        /* No body for the client: the peer's is not read, nor reused. */
        u->length = 0;
        u->keepalive = 0;
    }

    /* Whatever body came with the head goes out first. */
    if (u->length != 0 && u->buffer.pos < u->buffer.last) {
        rc = u->input_filter(r, &u->buffer);

        if (rc == KL_ERROR) {
            kl_http_upstream_finalize(r, u, KL_ERROR);
            return;
        }

        if (rc == KL_DONE) {
            u->length = 0;
        }

        if (kl_http_upstream_pass(r, u, u->buffer.pos,
                                  u->buffer.last - u->buffer.pos, 0)
            != KL_OK)
        {
            kl_http_upstream_finalize(r, u, KL_ERROR);
            return;
        }
    }

    kl_http_upstream_process_body(r, u);
}


/*
 * Queue n body bytes at p (a view of a buffer), or the end of the body
 * when last, behind what was read ahead; then pass on as much of that as
 * busy_buffers_size lets be in flight to the client.
 */
static kl_int_t
kl_http_upstream_pass(kl_http_request_t *r, kl_http_upstream_t *u, u_char *p,
                      size_t n, kl_uint_t last)
{
    kl_buf_t *b;

    if (n == 0 && !last) {
        return kl_http_upstream_flush(r, u);
    }

    b = kl_http_upstream_queue(r, u);
    if (b == NULL) {
        return KL_ERROR;
    }

    if (n) {
        b->start = p;
        b->pos = p;
        b->last = p + n;
        b->end = p + n;
        b->temporary = 1;
    }

    b->last_buf = last ? 1 : 0;

    return kl_http_upstream_flush(r, u);
}


/* A blank view (flush set) queued behind the read-ahead; NULL: no memory. */
static kl_buf_t *
kl_http_upstream_queue(kl_http_request_t *r, kl_http_upstream_t *u)
{
    kl_chain_t *cl;

    if (u->free_links) {
        cl = u->free_links;
        u->free_links = cl->next;

    } else {
        cl = kl_chain_alloc(r->pool);
        if (cl == NULL) {
            return NULL;
        }

        cl->buf = kl_buf_calloc(r->pool);
        if (cl->buf == NULL) {
            return NULL;
        }
    }

    kl_memzero(cl->buf, sizeof(kl_buf_t));
    cl->buf->flush = 1;
    cl->next = NULL;

    if (u->pending_last == NULL) {
        u->pending_last = &u->pending;
    }

    *u->pending_last = cl;
    u->pending_last = &cl->next;

    return cl->buf;
}


/*
 * The buffer to read the peer into when every body buffer is in flight:
 * the spill buffer, as much as the temp file may still grow: KL_OK,
 * KL_DECLINED (it may not: the peer waits), KL_ERROR. Never for an
 * unbuffered response. A filter that needs the body in memory (gzip)
 * gets the file ranges read back by the copy filter.
 */
static kl_int_t
kl_http_upstream_spill_buf(kl_http_request_t *r, kl_http_upstream_t *u,
                           kl_buf_t **bp)
{
    off_t     room;
    kl_buf_t *b;

    if (!u->buffering || u->conf->max_temp_file_size == 0) {
        return KL_DECLINED;
    }

    room =
        u->conf->max_temp_file_size - (u->temp_file ? u->temp_file->offset : 0);

    if (room <= 0) {
        return KL_DECLINED;
    }

    if (u->spill_buf == NULL) {
        u->spill_buf =
            kl_buf_create_temp(r->pool, u->conf->temp_file_write_size);
        if (u->spill_buf == NULL) {
            return KL_ERROR;
        }
    }

    b = u->spill_buf;
    b->pos = b->start;
    b->last = b->start;
    b->end = b->start + kl_min((off_t) u->conf->temp_file_write_size, room);
    *bp = b;

    return KL_OK;
}


/*
 * Append n decoded body bytes at p to the temp file (made on first use,
 * unlinked at once) and queue their range: the last queued range grows
 * when it ends where these begin.
 */
static kl_int_t
kl_http_upstream_spill(kl_http_request_t *r, kl_http_upstream_t *u, u_char *p,
                       size_t n)
{
    off_t       offset;
    kl_buf_t   *b;
    kl_chain_t *tail;

    if (n == 0) {
        return kl_http_upstream_flush(r, u);
    }

    if (u->temp_file == NULL) {
        u->temp_file = kl_http_temp_file_create(
            r, u->conf->temp_path, KL_HTTP_TEMP_FILE_UNLINK,
            "an upstream response is buffered to a temporary file");
        if (u->temp_file == NULL) {
            return KL_ERROR;
        }
    }

    offset = u->temp_file->offset;

    if (kl_write_fd_all(u->temp_file->fd, p, n) == -1) {
        kl_log_error(KL_LOG_CRIT, r->connection->log, errno,
                     "write() \"%s\" failed", u->temp_file->name.data);
        return KL_ERROR;
    }

    u->temp_file->offset += (off_t) n;

    /* pending_last is the next field of the last queued link. */
    tail = u->pending ? (kl_chain_t *) ((char *) u->pending_last
                                        - offsetof(kl_chain_t, next))
                      : NULL;

    if (tail && tail->buf->in_file && tail->buf->file_last == offset) {
        tail->buf->file_last = u->temp_file->offset;
        return kl_http_upstream_flush(r, u);
    }

    b = kl_http_upstream_queue(r, u);
    if (b == NULL) {
        return KL_ERROR;
    }

    b->in_file = 1;
    b->file = u->temp_file;
    b->file_pos = offset;
    b->file_last = u->temp_file->offset;

    return kl_http_upstream_flush(r, u);
}


/* Pass read-ahead views to the client while little enough is in flight. */
static kl_int_t
kl_http_upstream_flush(kl_http_request_t *r, kl_http_upstream_t *u)
{
    off_t       busy;
    kl_int_t    rc;
    kl_chain_t *cl, out;

    while (u->pending) {
        busy = 0;

        for (cl = r->out; cl; cl = cl->next) {
            busy += kl_buf_size(cl->buf);
        }

        /* Once the body is all read, all of it goes (nginx's pipe). */
        if (u->buffering && busy && busy >= (off_t) u->conf->busy_buffers_size
            && u->length != 0 && !u->body_done)
        {
            return KL_OK;
        }

        cl = u->pending;
        u->pending = cl->next;

        if (u->pending == NULL) {
            u->pending_last = &u->pending;
        }

        /* The link is ours again once everything queued has gone out. */
        cl->next = u->busy_links;
        u->busy_links = cl;

        /* The write filter keeps a link of its own; ours only names b. */
        out.buf = cl->buf;
        out.next = NULL;

        rc = kl_http_output_filter(r, &out);

        if (rc == KL_ERROR) {
            return KL_ERROR;
        }
    }

    return KL_OK;
}


static void
kl_http_upstream_body_upstream(kl_http_request_t *r, kl_http_upstream_t *u)
{
    kl_connection_t *c;

    c = u->peer.connection;

    if (c->read->timedout && c->read->delayed) {
        /* X_limit_rate's pause is over, not a timeout */
        c->read->timedout = 0;
        c->read->delayed = 0;

    } else if (c->read->timedout) {
        c->read->timedout = 0;
        kl_log_error(KL_LOG_ERR, r->connection->log, ETIMEDOUT,
                     "upstream timed out");
        kl_http_upstream_finalize(r, u, KL_ERROR);
        return;
    }

    kl_http_upstream_process_body(r, u);
}


static void
kl_http_upstream_body_downstream(kl_http_request_t *r)
{
    kl_connection_t    *c;
    kl_http_upstream_t *u;

    c = r->connection;
    u = r->upstream;

    if (c->write->timedout) {
        c->timedout = 1;
        kl_log_error(KL_LOG_INFO, c->log, ETIMEDOUT, "client timed out");
        kl_http_upstream_finalize(r, u, KL_HTTP_REQUEST_TIME_OUT);
        return;
    }

    if (kl_http_output_filter(r, NULL) == KL_ERROR) {
        kl_http_upstream_finalize(r, u, KL_ERROR);
        return;
    }

    kl_http_upstream_process_body(r, u);
}


/* Everything went out: every buffer and the temp file are free again. */
static kl_int_t
kl_http_upstream_recycle(kl_http_request_t *r, kl_http_upstream_t *u)
{
    kl_uint_t        i;
    kl_chain_t      *cl;
    kl_connection_t *downstream;

    downstream = r->connection;
    u->bufs_used = 0;

    while (u->busy_links) {
        cl = u->busy_links;
        u->busy_links = cl->next;
        cl->next = u->free_links;
        u->free_links = cl;
    }

    for (i = 0; i < u->nbufs; i++) {
        if (u->bufs[i]) {
            u->bufs[i]->pos = u->bufs[i]->start;
            u->bufs[i]->last = u->bufs[i]->start;
        }
    }

    /* The temp file is written again from its start. */
    if (u->temp_file && u->temp_file->offset) {
        if (lseek(u->temp_file->fd, 0, SEEK_SET) == -1) {
            kl_log_error(KL_LOG_CRIT, downstream->log, errno,
                         "lseek() \"%s\" failed", u->temp_file->name.data);
            return KL_ERROR;
        }

        u->temp_file->offset = 0;
    }

    /* Not limit_rate's delay: the next send must wait it out. */
    if (downstream->write->timer_set && !downstream->write->delayed) {
        kl_event_del_timer(downstream->write);
    }

    return KL_OK;
}


/* The client holds every buffer: its send_timeout runs until it takes some
 * (a limit_rate delay has its own timer: keep it). */
static void
kl_http_upstream_wait_client(kl_http_request_t *r)
{
    kl_connection_t         *downstream;
    kl_http_core_loc_conf_t *clcf;

    downstream = r->connection;
    clcf = kl_http_get_module_loc_conf(r, kl_http_core_module);

    if (!downstream->write->delayed) {
        kl_event_add_timer(downstream->write, clcf->send_timeout);
    }
}


/*
 * The buffer to read into: the last one with room, a new one, or, when all
 * are used, a spill buffer for the temp file (*spill is set to it).
 * KL_DECLINED: all in flight, wait for the client to take some.
 */
static kl_int_t
kl_http_upstream_read_buf(kl_http_request_t *r, kl_http_upstream_t *u,
                          kl_buf_t **bp, kl_buf_t **spill)
{
    kl_int_t  rc;
    kl_buf_t *b;

    b = u->bufs_used ? u->bufs[u->bufs_used - 1] : NULL;
    *spill = NULL;

    if ((b == NULL || b->last == b->end) && u->bufs_used == u->nbufs) {
        rc = kl_http_upstream_spill_buf(r, u, spill);
        *bp = *spill;

        return rc;
    }

    if (b == NULL || b->last == b->end) {
        b = u->bufs[u->bufs_used];

        if (b == NULL) {
            b = kl_buf_create_temp(r->pool, u->bufs_size);
            if (b == NULL) {
                return KL_ERROR;
            }

            u->bufs[u->bufs_used] = b;
        }

        u->bufs_used++;
    }

    *bp = b;

    return KL_OK;
}


/*
 * X_limit_rate: trims *size to nginx's budget, the rate times the seconds
 * begun so far; KL_AGAIN when it is spent (the read is paused on a timer).
 */
static kl_int_t
kl_http_upstream_rate(kl_http_upstream_t *u, size_t *size)
{
    off_t            limit;
    kl_connection_t *c;

    c = u->peer.connection;

    limit =
        (off_t) u->limit_rate * (off_t) (kl_now() - u->body_start + 1000) / 1000
        - u->body_read;

    if (limit <= 0) {
        c->read->delayed = 1;
        kl_event_add_timer(
            c->read, (kl_msec_t) (-limit * 1000 / (off_t) u->limit_rate + 1));
        return KL_AGAIN;
    }

    *size = (size_t) kl_min((off_t) *size, limit);

    return KL_OK;
}


/* The n bytes read at b->last go through the input filter, then to the
 * client's queue or, in a spill buffer, to the temp file. */
static kl_int_t
kl_http_upstream_take(kl_http_request_t *r, kl_http_upstream_t *u, kl_buf_t *b,
                      kl_buf_t *spill, ssize_t n)
{
    kl_int_t rc;
    kl_buf_t view;

    u->body_read += n;
    u->cur_state->bytes_received += n;

    view = *b;
    view.pos = b->last;
    view.last = b->last + n;

    rc = u->input_filter(r, &view);

    if (rc == KL_ERROR) {
        return KL_ERROR;
    }

    if (rc == KL_DONE) {
        u->length = 0;
    }

    /* The decoded bytes were moved down to where the read began. */
    if (spill) {
        return kl_http_upstream_spill(r, u, view.pos, view.last - view.pos);
    }

    rc = kl_http_upstream_pass(r, u, view.pos, view.last - view.pos, 0);
    b->last = view.last;

    return rc;
}


/* The body is read whole: queue its end, then finish once read ahead is
 * out (the engine's writer sends what the filters still hold). */
static void
kl_http_upstream_body_read(kl_http_request_t *r, kl_http_upstream_t *u)
{
    kl_int_t         rc;
    kl_connection_t *c;

    c = u->peer.connection;

    if (c->read->timer_set) {
        kl_event_del_timer(c->read);
    }

    if (!u->body_queued) {
        u->body_queued = 1;

        if (kl_http_upstream_pass(r, u, NULL, 0, 1) != KL_OK) {
            kl_http_upstream_finalize(r, u, KL_ERROR);
            return;
        }
    }

    if (u->pending) {
        /* Read ahead is still waiting for the client to take some. */
        kl_http_upstream_wait_client(r);
        return;
    }

    if (r->out || r->buffered) {
        /* The writer of the engine finishes sending. */
        rc = KL_AGAIN;

    } else {
        rc = KL_OK;
    }

    u->keepalive = u->keepalive && u->length == 0;

    kl_http_upstream_finalize(r, u, rc == KL_AGAIN ? KL_OK : rc);
}


static void
kl_http_upstream_process_body(kl_http_request_t *r, kl_http_upstream_t *u)
{
    size_t           size;
    ssize_t          n;
    kl_int_t         rc;
    kl_buf_t        *b, *spill;
    kl_connection_t *c, *downstream;

    c = u->peer.connection;
    downstream = r->connection;

    for (;;) {
        if (kl_http_upstream_flush(r, u) != KL_OK) {
            kl_http_upstream_finalize(r, u, KL_ERROR);
            return;
        }

        if (r->out == NULL && r->buffered == 0 && u->pending == NULL) {
            if (kl_http_upstream_recycle(r, u) != KL_OK) {
                kl_http_upstream_finalize(r, u, KL_ERROR);
                return;
            }
        }

        if (u->length == 0 || u->body_done) {
            break;
        }

        rc = kl_http_upstream_read_buf(r, u, &b, &spill);

        if (rc == KL_ERROR) {
            kl_http_upstream_finalize(r, u, KL_ERROR);
            return;
        }

        if (rc == KL_DECLINED) {
            kl_http_upstream_wait_client(r);
            return;
        }

        size = b->end - b->last;

        if (u->limit_rate && kl_http_upstream_rate(u, &size) == KL_AGAIN) {
            return;
        }

        /* Not paused: a timer set from here on is read_timeout's. */
        c->read->delayed = 0;

        n = c->io->recv(c, b->last, size);

        if (n == KL_AGAIN) {
            kl_event_add_timer(c->read, u->conf->read_timeout);
            return;
        }

        if (n == KL_ERROR || n == 0) {
            if (u->length == -1 && n == 0) {
                /* A body delimited by the close of the connection. */
                u->body_done = 1;
                break;
            }

            /* TLS logged its own failure ("SSL_read() failed ...") */
            if (n == 0 || c->ssl == NULL) {
                kl_log_error(KL_LOG_ERR, downstream->log, n ? errno : 0,
                             n ? "recv() failed"
                               : "upstream prematurely closed connection");
            }

            kl_http_upstream_finalize(r, u, KL_ERROR);
            return;
        }

        if (kl_http_upstream_take(r, u, b, spill, n) != KL_OK) {
            kl_http_upstream_finalize(r, u, KL_ERROR);
            return;
        }
    }

    kl_http_upstream_body_read(r, u);
}
