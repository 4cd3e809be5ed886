/*
 * write_filter.c: the last body filter: queue the chain, hold small
 * output back (postpone_output) so header and body leave together, send
 * with writev/sendfile, and (tcp_nopush) hold a file's header for its
 * first segment.
 */

#include "kl_http.h"
#include "core_limits.h"


static kl_int_t kl_http_write_filter_init(kl_conf_t *cf);


static kl_http_module_t kl_http_write_filter_module_ctx = {
    .postconfiguration = kl_http_write_filter_init,
};


kl_module_t kl_http_write_filter_module = {
    .name = "kl_http_write_filter_module",
    .type = KL_HTTP_MODULE,
    .ctx = &kl_http_write_filter_module_ctx,
};


static kl_int_t
kl_http_write_filter_init(kl_conf_t *cf)
{
    kl_http_core_main_conf_t *cmcf;

    cmcf = kl_http_conf_get_module_main_conf(cf, kl_http_core_module);
    cmcf->top_body_filter = kl_http_write_filter;

    return KL_OK;
}


kl_int_t
kl_http_write_filter(kl_http_request_t *r, kl_chain_t *in)
{
    off_t                    size, limit, sent;
    kl_uint_t                last, flush, file;
    kl_chain_t              *cl, *ln, **ll, *chain;
    kl_connection_t         *c;
    kl_http_core_loc_conf_t *clcf;

    c = r->connection;

    if (c->error) {
        return KL_ERROR;
    }

    size = 0;
    last = 0;
    flush = 0;
    file = 0;
    ll = &r->out;

    for (cl = r->out; cl; cl = cl->next) {
        ll = &cl->next;
        size += kl_buf_size(cl->buf);
        flush |= cl->buf->flush;
        last |= cl->buf->last_buf;
        file |= cl->buf->in_file;
    }

    for (ln = in; ln; ln = ln->next) {
        cl = kl_chain_alloc(r->pool);
        if (cl == NULL) {
            return KL_ERROR;
        }

        cl->buf = ln->buf;
        *ll = cl;
        ll = &cl->next;

        size += kl_buf_size(cl->buf);
        flush |= cl->buf->flush;
        last |= cl->buf->last_buf;
        file |= cl->buf->in_file;
    }

    *ll = NULL;

    clcf = kl_http_get_module_loc_conf(r, kl_http_core_module);

    /* Wait for more unless this is all, or enough for a full segment. */
    if (!last && !flush && in && size < (off_t) clcf->postpone_output) {
        return KL_OK;
    }

    if (c->write->delayed) {
        r->buffered |= KL_HTTP_WRITE_BUFFERED;
        return KL_AGAIN;
    }

    if (size == 0) {
        r->out = NULL;
        r->buffered &= ~KL_HTTP_WRITE_BUFFERED;
        return KL_OK;
    }

    /*
     * The header rides in the file's first segment: send_chain sends
     * what precedes a file with MSG_MORE, which is TCP_CORK for one
     * call, with none of the two setsockopt calls per response nginx
     * makes. sendfile itself fills whole segments up to its last.
     */
    if (file && c->sendfile && clcf->tcp_nopush) {
        c->tcp_nopush = KL_TCP_NOPUSH_SET;
    }

    /*
     * The last of a response the connection closes after, with nothing
     * else holding the request (a body being read, a redirect): its tail
     * waits for the FIN, which close or lingering close sends at once.
     * nginx gets the same from TCP_CORK, and only for files.
     */
    if (last && !r->keepalive && r == r->main && r->count == 1) {
        c->fin_follows = 1;
    }

    /*
     * limit_rate bounds each send, sendfile's included, by the rate. A
     * request no limit applies to (none configured, none set through
     * $limit_rate) skips the allowance: about 30 instructions a call.
     */
    limit = (off_t) clcf->sendfile_max_chunk;

    if (r->limit_rate_set ? r->limit_rate != 0 : clcf->limit_rate != NULL) {
        limit = kl_http_limit_rate_allowance(r, limit);

        if (limit == 0 && c->write->delayed) {
            r->buffered |= KL_HTTP_WRITE_BUFFERED;
            return KL_AGAIN;
        }
    }

    sent = c->sent;

    /* The protocol frames (HTTP/1: none) and sends through c->io. */
    chain = r->proto->send_chain(r, r->out, limit);

    if (chain == KL_CHAIN_ERROR) {
        c->error = 1;
        return KL_ERROR;
    }

    r->out = chain;

    if (r->limit_rate) {
        kl_http_limit_rate_sent(r, sent);
    }

    if (chain) {
        r->buffered |= KL_HTTP_WRITE_BUFFERED;

        /* Stopped by the limit, not the socket: go on next iteration. */
        if (c->write->ready && !c->write->delayed) {
            kl_post_event(c->write, &kl_loop.posted_next);
        }

        return KL_AGAIN;
    }

    r->buffered &= ~KL_HTTP_WRITE_BUFFERED;

    if (last) {
        c->tcp_nopush = KL_TCP_NOPUSH_UNSET;
    }

    return KL_OK;
}
