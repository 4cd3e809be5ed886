/*
 * charset_body.c: the charset body filter: recodes the bytes of a response
 * the charset header filter (charset.c) chose to recode.
 *
 * It is listed before the copy filter in auto/modules, so it runs after
 * the file reader and sees bytes, and before gzip, which compresses what
 * it made. It is set up only when the configuration has a charset_map.
 * Between single-byte charsets a writable buffer is recoded where it is;
 * any other buffer is recoded into one of ours, and the buffer it came
 * from is marked consumed only when ours has been sent, so a producer
 * that waits for its buffers (an upstream's proxy_buffers) is held back
 * by the client as without recoding, and ours are reused once sent.
 */

#include "charset.h"


/* charset.c: the header filter keeps each response's ctx under its index. */
extern kl_module_t kl_http_charset_filter_module;

typedef struct {
    kl_http_output_body_filter_pt next_body_filter;
} kl_http_charset_body_main_conf_t;


static void    *kl_http_charset_body_create_main_conf(kl_conf_t *cf);
static kl_int_t kl_http_charset_body_init(kl_conf_t *cf);


static kl_http_module_t kl_http_charset_body_filter_module_ctx = {
    .postconfiguration = kl_http_charset_body_init,
    .create_main_conf = kl_http_charset_body_create_main_conf,
};


kl_module_t kl_http_charset_body_filter_module = {
    .name = "kl_http_charset_body_filter_module",
    .type = KL_HTTP_MODULE,
    .ctx = &kl_http_charset_body_filter_module_ctx,
};


/* The recoded length of [p, p + n): exact, so a buffer is never short. */
static size_t
kl_http_charset_body_size(kl_http_charset_ctx_t *ctx, u_char *p, size_t n,
                          kl_uint_t last)
{
    if (ctx->bytes) {
        return n;
    }

    if (ctx->to_utf8) {
        return kl_charset_to_utf8(ctx->to_utf8, p, n, NULL);
    }

    return kl_charset_from_utf8(ctx->pages, &ctx->utf8, p, n, last, NULL);
}


/* A buffer of at least size bytes: a sent one of ours, or a new one. */
static kl_http_charset_out_t *
kl_http_charset_body_get(kl_http_request_t *r, kl_http_charset_ctx_t *ctx,
                         size_t size)
{
    kl_http_charset_out_t *o, **oo;

    for (oo = &ctx->free; *oo; oo = &(*oo)->next) {
        o = *oo;

        if ((size_t) (o->buf->end - o->buf->start) >= size) {
            *oo = o->next;
            o->next = NULL;
            o->buf->pos = o->buf->start;
            o->buf->last = o->buf->start;
            o->buf->flush = 0;
            o->buf->last_buf = 0;
            o->buf->last_in_chain = 0;
            return o;
        }
    }

    o = kl_palloc(r->pool, sizeof(kl_http_charset_out_t));
    if (o == NULL) {
        return NULL;
    }

    /* small pieces share a size, so that they can be reused */
    o->buf = kl_buf_create_temp(r->pool, kl_max(size, 4096));
    if (o->buf == NULL) {
        return NULL;
    }

    o->next = NULL;

    return o;
}


/*
 * Recodes one buffer; *out is the buffer to pass on (b itself when
 * recoded in place or special) and *o the one of ours that holds it.
 */
static kl_int_t
kl_http_charset_body_buf(kl_http_request_t *r, kl_http_charset_ctx_t *ctx,
                         kl_buf_t *b, kl_buf_t **out, kl_http_charset_out_t **o)
{
    size_t    n, size;
    kl_buf_t *nb;

    *o = NULL;
    *out = b;

    if (b->in_file && !kl_buf_in_memory(b)) {
        kl_log_error(KL_LOG_ALERT, r->connection->log, 0,
                     "charset got a file buffer not in memory");
        return KL_ERROR;
    }

    n = kl_buf_in_memory(b) ? (size_t) (b->last - b->pos) : 0;

    if (ctx->bytes && b->temporary && !b->in_file) {
        kl_charset_recode_bytes(ctx->bytes, b->pos, b->pos, n);
        return KL_OK;
    }

    /* nothing to recode, unless a cut UTF-8 sequence ends with the body */
    if (n == 0 && !(b->last_buf && ctx->utf8.nsaved)) {
        return KL_OK;
    }

    size = kl_http_charset_body_size(ctx, b->pos, n, b->last_buf);

    *o = kl_http_charset_body_get(r, ctx, size);
    if (*o == NULL) {
        return KL_ERROR;
    }

    nb = (*o)->buf;
    (*o)->src = b;

    if (ctx->bytes) {
        kl_charset_recode_bytes(ctx->bytes, nb->pos, b->pos, n);
        nb->last += n;

    } else if (ctx->to_utf8) {
        nb->last += kl_charset_to_utf8(ctx->to_utf8, b->pos, n, nb->pos);

    } else {
        nb->last += kl_charset_from_utf8(ctx->pages, &ctx->utf8, b->pos, n,
                                         b->last_buf, nb->pos);
    }

    nb->flush = b->flush;
    nb->last_buf = b->last_buf;
    nb->last_in_chain = b->last_in_chain;

    *out = nb;

    return KL_OK;
}


/* Ours that are sent: their sources are consumed, they are free again. */
static void
kl_http_charset_body_update(kl_http_charset_ctx_t *ctx,
                            kl_http_charset_out_t *added)
{
    kl_http_charset_out_t *o, **oo;

    for (oo = &ctx->busy; *oo; oo = &(*oo)->next) { /* the tail */
    }

    *oo = added;

    while (ctx->busy && ctx->busy->buf->pos == ctx->busy->buf->last) {
        o = ctx->busy;
        ctx->busy = o->next;

        if (o->src) {
            o->src->pos = o->src->last;
            o->src = NULL;
        }

        o->next = ctx->free;
        ctx->free = o;
    }
}


static kl_int_t
kl_http_charset_body_filter(kl_http_request_t *r, kl_chain_t *in)
{
    kl_int_t                          rc;
    kl_buf_t                         *b;
    kl_chain_t                       *out, **ll, *cl;
    kl_http_charset_ctx_t            *ctx;
    kl_http_charset_out_t            *o, *added, **oo;
    kl_http_charset_body_main_conf_t *bmcf;

    bmcf = kl_http_get_module_main_conf(r, kl_http_charset_body_filter_module);
    ctx = kl_http_get_module_ctx(r, kl_http_charset_filter_module);

    if (ctx == NULL || in == NULL) {
        rc = bmcf->next_body_filter(r, in);

        if (ctx) {
            kl_http_charset_body_update(ctx, NULL);
        }

        return rc;
    }

    out = NULL;
    ll = &out;
    added = NULL;
    oo = &added;

    for (/* void */; in; in = in->next) {
        if (kl_http_charset_body_buf(r, ctx, in->buf, &b, &o) != KL_OK) {
            return KL_ERROR;
        }

        if (o) {
            *oo = o;
            oo = &o->next;
        }

        cl = kl_chain_alloc(r->pool);
        if (cl == NULL) {
            return KL_ERROR;
        }

        cl->buf = b;
        *ll = cl;
        ll = &cl->next;
    }

    *ll = NULL;

    rc = bmcf->next_body_filter(r, out);

    kl_http_charset_body_update(ctx, added);

    return rc;
}


static void *
kl_http_charset_body_create_main_conf(kl_conf_t *cf)
{
    return kl_pcalloc(cf->pool, sizeof(kl_http_charset_body_main_conf_t));
}


static kl_int_t
kl_http_charset_body_init(kl_conf_t *cf)
{
    kl_http_core_main_conf_t         *cmcf;
    kl_http_charset_body_main_conf_t *bmcf;

    /*
     * Only a charset_map makes a recoding: without one, every response
     * would pass through here for nothing (about 35 instructions each).
     */
    if (!kl_http_charset_maps(cf)) {
        return KL_OK;
    }

    cmcf = kl_http_conf_get_module_main_conf(cf, kl_http_core_module);
    bmcf = kl_http_conf_get_module_main_conf(
        cf, kl_http_charset_body_filter_module);

    bmcf->next_body_filter = cmcf->top_body_filter;
    cmcf->top_body_filter = kl_http_charset_body_filter;

    return KL_OK;
}
