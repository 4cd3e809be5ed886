/*
 * proxy_protocol.c: the first stage of a connection accepted on "listen
 * ... proxy_protocol": its PROXY protocol header is read into the
 * connection's header buffer and parsed (core/proxy_protocol.c), what it
 * says is kept in hc->proxy_protocol, and the next stage is called with
 * the bytes that came after the header still in c->buffer (pos..last).
 *
 * As nginx, the header must come within client_header_timeout, and a
 * broken or missing one closes the connection with nginx's log line
 * ("broken header: ..."); unlike nginx, a header cut across segments is
 * waited for (the parser says whether the bytes so far can begin one).
 */

#include "kl_http.h"
#include "v1.h"
#include "proxy_protocol.h"


static kl_int_t kl_http_proxy_protocol_keep(kl_connection_t     *c,
                                            kl_proxy_protocol_t *pp);
static void     kl_http_proxy_protocol_error(kl_connection_t     *c,
                                             kl_proxy_protocol_t *pp);


void
kl_http_proxy_protocol_handler(kl_event_t *rev)
{
    ssize_t                  n;
    kl_int_t                 rc;
    kl_buf_t                *b;
    kl_connection_t         *c;
    kl_proxy_protocol_t      pp;
    kl_http_connection_t    *hc;
    kl_http_core_srv_conf_t *cscf;

    c = rev->data;

    if (rev->timedout) {
        kl_log_error(KL_LOG_INFO, c->log, ETIMEDOUT, "client timed out");
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

    b = c->buffer;

    for (;;) {
        rc = kl_proxy_protocol_parse(b->pos, b->last - b->pos, b->end - b->pos,
                                     &pp);

        if (rc == KL_OK) {
            break;
        }

        if (rc == KL_ERROR || b->last == b->end) {
            if (rc != KL_ERROR) {
                pp.error = KL_PROXY_PROTOCOL_TOO_LARGE;
            }

            kl_http_proxy_protocol_error(c, &pp);
            kl_http_close_connection(c);
            return;
        }

        if (hc->addr_conf->ssl) {
            /* TLS reads the socket itself: take nothing past the header. */
            n = kl_os_recv_peek(c, b->pos, b->end - b->pos, b->last - b->pos);
            if (n > 0) {
                b->last = b->pos;
            }

        } else {
            n = c->io->recv(c, b->last, b->end - b->last);
        }

        if (n == KL_AGAIN) {
            if (!rev->timer_set) {
                kl_event_add_timer(rev, cscf->client_header_timeout);
            }

            /* As nginx: closed first when connections run out. */
            kl_reusable_connection(c, 1);
            return;
        }

        if (n == KL_ERROR) {
            kl_http_close_connection(c);
            return;
        }

        if (n == 0) {
            kl_log_error(KL_LOG_INFO, c->log, 0, "client closed connection");
            kl_http_close_connection(c);
            return;
        }

        b->last += n;
    }

    kl_reusable_connection(c, 0);

    if (pp.addrs && kl_http_proxy_protocol_keep(c, &pp) != KL_OK) {
        kl_http_close_connection(c);
        return;
    }

    if (hc->addr_conf->ssl) {
        /* Only the header: it was looked at, now it is taken. */
        if (c->io->recv(c, b->pos, pp.len) != (ssize_t) pp.len) {
            kl_http_close_connection(c);
            return;
        }

        b->last = b->pos + pp.len;
    }

    b->pos += pp.len;

    if (b->pos == b->last) {
        b->pos = b->start;
        b->last = b->start;
    }

    /*
     * The next stage: TLS, whose ClientHello is still in the socket,
     * or HTTP/1, which takes the bytes left in c->buffer before it reads.
     */
    if (hc->addr_conf->ssl) {
        kl_http_ssl_init_connection(c);
        return;
    }

    c->log->action = "waiting for request";
    rev->handler = kl_http_wait_request_handler;
    kl_http_wait_request_handler(rev);
}


/* One block for the connection's life (the idle connection has no pool). */
static kl_int_t
kl_http_proxy_protocol_keep(kl_connection_t *c, kl_proxy_protocol_t *pp)
{
    u_char                   *p;
    kl_http_connection_t     *hc;
    kl_http_proxy_protocol_t *kp;

    hc = c->data;

    kp = kl_alloc(sizeof(kl_http_proxy_protocol_t) + pp->src_addr.len
                      + pp->dst_addr.len + pp->tlvs.len,
                  c->log);
    if (kp == NULL) {
        return KL_ERROR;
    }

    p = (u_char *) (kp + 1);

    kp->src_addr.data = p;
    kp->src_addr.len = pp->src_addr.len;
    p = kl_cpymem(p, pp->src_addr.data, pp->src_addr.len);

    kp->dst_addr.data = p;
    kp->dst_addr.len = pp->dst_addr.len;
    p = kl_cpymem(p, pp->dst_addr.data, pp->dst_addr.len);

    /* v1 has no TLVs: no pointer to copy from. */
    kp->tlvs.data = p;
    kp->tlvs.len = pp->tlvs.len;

    if (pp->tlvs.len) {
        kl_memcpy(p, pp->tlvs.data, pp->tlvs.len);
    }

    kp->src_port = pp->src_port;
    kp->dst_port = pp->dst_port;

    hc->proxy_protocol = kp;

    return KL_OK;
}


/* nginx's words for each way a header fails. */
static void
kl_http_proxy_protocol_error(kl_connection_t *c, kl_proxy_protocol_t *pp)
{
    u_char *p, *start;

    switch (pp->error) {

    case KL_PROXY_PROTOCOL_VERSION:
        kl_log_error(KL_LOG_ERR, c->log, 0,
                     "unknown PROXY protocol version: %ui", pp->version);
        return;

    case KL_PROXY_PROTOCOL_TOO_LARGE:
        kl_log_error(KL_LOG_ERR, c->log, 0, "header is too large");
        return;

    default:
        start = c->buffer->pos;

        for (p = start; p < c->buffer->last; p++) {
            if (*p == '\r' || *p == '\n') {
                break;
            }
        }

        kl_log_error(KL_LOG_ERR, c->log, 0, "broken header: \"%*s\"",
                     (size_t) (p - start), start);
    }
}
