/*
 * upstream_upgrade.c: a connection upgraded by the peer's 101 (WebSocket):
 * the client's protocol writes the 101 head (r->proto->switch_protocols:
 * HTTP/1's own, not a response the header filters see), then bytes are
 * relayed both ways, as nginx's ngx_http_upstream_process_upgraded:
 * each direction has one buffer, read into when empty and written out
 * when the other end can take it. A close or an error on either side ends both; a side that stays
 * silent for read_timeout ends them too, as does a write that waits longer
 * than send_timeout.
 */

#include "upstream.h"


static kl_int_t kl_http_upstream_upgrade_head(kl_http_request_t  *r,
                                              kl_http_upstream_t *u);
static void     kl_http_upstream_upgraded_client(kl_http_request_t *r);
static void     kl_http_upstream_upgraded_peer(kl_http_request_t  *r,
                                               kl_http_upstream_t *u);
static void kl_http_upstream_relay(kl_http_request_t *r, kl_uint_t from_peer);
static ssize_t   kl_http_upstream_send(kl_connection_t *c, kl_buf_t *b);
static kl_uint_t kl_http_upstream_passed(kl_http_upstream_t *u,
                                         kl_table_elt_t     *h);


void
kl_http_upstream_upgrade(kl_http_request_t *r, kl_http_upstream_t *u)
{
    kl_connection_t *c;

    c = r->connection;

    u->keepalive = 0;
    u->upgrade = 1;
    u->header_sent = 1;
    r->keepalive = 0;
    r->header_sent = 1;
    r->headers_out.status = 101;

    u->from_client = kl_buf_create_temp(r->pool, u->conf->buffer_size);
    if (u->from_client == NULL) {
        kl_http_upstream_finalize(r, u, KL_ERROR);
        return;
    }

    if (kl_http_upstream_upgrade_head(r, u) != KL_OK) {
        kl_http_upstream_finalize(r, u, KL_ERROR);
        return;
    }

    c->log->action = "proxying upgraded connection";

    r->read_event_handler = kl_http_upstream_upgraded_client;
    r->write_event_handler = kl_http_upstream_upgraded_client;
    u->read_event_handler = kl_http_upstream_upgraded_peer;
    u->write_event_handler = kl_http_upstream_upgraded_peer;

    /* Edge-triggered: whatever is ready now must be acted on now. */
    c->read->ready = 1;
    u->peer.connection->read->ready = 1;

    kl_http_upstream_relay(r, 1);
}


/*
 * The 101 head, with the peer's fields but the hidden and framing ones,
 * written by the client's protocol (which may not switch: KL_DECLINED).
 */
static kl_int_t
kl_http_upstream_upgrade_head(kl_http_request_t *r, kl_http_upstream_t *u)
{
    kl_uint_t       i;
    kl_list_t       fields;
    kl_list_part_t *part;
    kl_table_elt_t *h, *f;

    if (kl_list_init(&fields, r->pool, 8, sizeof(kl_table_elt_t)) != KL_OK) {
        return KL_ERROR;
    }

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

        if (kl_http_upstream_passed(u, &h[i])) {
            f = kl_list_push(&fields);
            if (f == NULL) {
                return KL_ERROR;
            }

            *f = h[i];
        }
    }

    return r->proto->switch_protocols(r, &u->headers_in.status_line, &fields,
                                      u->from_client);
}


static kl_uint_t
kl_http_upstream_passed(kl_http_upstream_t *u, kl_table_elt_t *h)
{
    kl_str_t *s;
    kl_uint_t i;

    static kl_str_t framing[] = {
        kl_string("connection"),
        kl_string("keep-alive"),
        kl_string("transfer-encoding"),
        kl_string("content-length"),
        kl_null_string,
    };

    if (h->hash == 0) {
        return 0;
    }

    for (s = framing; s->len; s++) {
        if (s->len == h->key.len
            && kl_strncasecmp(h->lowcase_key, s->data, s->len) == 0)
        {
            return 0;
        }
    }

    s = u->conf->hide_headers ? u->conf->hide_headers->elts : NULL;

    for (i = 0; s && i < u->conf->hide_headers->nelts; i++) {
        if (s[i].len == h->key.len
            && kl_strncasecmp(h->lowcase_key, s[i].data, s[i].len) == 0)
        {
            return 0;
        }
    }

    return 1;
}


static void
kl_http_upstream_upgraded_client(kl_http_request_t *r)
{
    kl_http_upstream_relay(r, 0);
}


static void
kl_http_upstream_upgraded_peer(kl_http_request_t *r, kl_http_upstream_t *u)
{
    (void) u;

    kl_http_upstream_relay(r, 1);
}


/*
 * Move bytes until neither side can go on. from_peer says whose event
 * woke us: its timeouts are the ones to look at.
 */
static void
kl_http_upstream_relay(kl_http_request_t *r, kl_uint_t from_peer)
{
    ssize_t                  n;
    kl_uint_t                progress;
    kl_buf_t                *b;
    kl_connection_t         *client, *peer, *src, *dst;
    kl_http_upstream_t      *u;
    kl_http_core_loc_conf_t *clcf;

    u = r->upstream;
    client = r->connection;
    peer = u->peer.connection;

    src = from_peer ? peer : client;

    if (src->read->timedout || src->write->timedout) {
        kl_log_error(KL_LOG_INFO, client->log, ETIMEDOUT,
                     from_peer ? "upstream timed out" : "client timed out");
        kl_http_upstream_finalize(r, u, KL_ERROR);
        return;
    }

    /* The 101 head first. */
    if (r->out) {
        r->out = client->io->send_chain(client, r->out, 0);

        if (r->out == KL_CHAIN_ERROR) {
            r->out = NULL;
            kl_http_upstream_finalize(r, u, KL_ERROR);
            return;
        }

        if (r->out) {
            clcf = kl_http_get_module_loc_conf(r, kl_http_core_module);
            kl_event_add_timer(client->write, clcf->send_timeout);
            return;
        }
    }

    do {
        progress = 0;

        /* peer to client through u->buffer, client to peer through
         * u->from_client */
        for (from_peer = 0; from_peer < 2; from_peer++) {
            src = from_peer ? peer : client;
            dst = from_peer ? client : peer;
            b = from_peer ? &u->buffer : u->from_client;

            if (b->pos < b->last && dst->write->ready) {
                n = kl_http_upstream_send(dst, b);

                if (n == KL_ERROR) {
                    kl_http_upstream_finalize(r, u, KL_ERROR);
                    return;
                }

                if (n > 0) {
                    progress = 1;
                    b->pos += n;

                    if (dst == client) {
                        client->sent += n;
                    }
                }
            }

            if (b->pos == b->last) {
                b->pos = b->start;
                b->last = b->start;
            }

            if (b->last < b->end && src->read->ready) {
                n = src->io->recv(src, b->last, b->end - b->last);

                if (n == 0 || n == KL_ERROR) {
                    /* Either end gone: the upgraded connection is over. */
                    kl_http_upstream_finalize(r, u, KL_OK);
                    return;
                }

                if (n > 0) {
                    progress = 1;
                    b->last += n;
                }
            }
        }

    } while (progress);

    clcf = kl_http_get_module_loc_conf(r, kl_http_core_module);

    /* Reading waits read_timeout for either side; writing send_timeout. */
    kl_event_add_timer(peer->read, u->conf->read_timeout);
    kl_event_add_timer(client->read, u->conf->read_timeout);

    if (u->buffer.pos < u->buffer.last) {
        kl_event_add_timer(client->write, clcf->send_timeout);

    } else if (client->write->timer_set) {
        kl_event_del_timer(client->write);
    }

    if (u->from_client->pos < u->from_client->last) {
        kl_event_add_timer(peer->write, u->conf->send_timeout);

    } else if (peer->write->timer_set) {
        kl_event_del_timer(peer->write);
    }
}


/* [b->pos, b->last) to c: bytes sent, 0 when it would block. */
static ssize_t
kl_http_upstream_send(kl_connection_t *c, kl_buf_t *b)
{
    ssize_t n;

    n = c->io->send(c, b->pos, b->last - b->pos);

    if (n == KL_AGAIN) {
        return 0;
    }

    if (n == KL_ERROR) {
        kl_log_error(KL_LOG_INFO, c->log, errno, "send() failed");
    }

    return n;
}
