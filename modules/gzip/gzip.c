/*
 * gzip.c: the gzip filter, as nginx 1.22's: response bodies of the
 * gzip_types compressed with zlib for clients that accept gzip.
 *
 * The header filter decides, as ngx_http_gzip_header_filter and
 * ngx_http_gzip_ok do: 200, 403 and 404 responses not already encoded,
 * of a listed type and not shorter than gzip_min_length, to a client
 * whose Accept-Encoding takes gzip, not disabled for its User-Agent, at
 * least gzip_http_version, and, when proxied (a Via field), allowed by
 * gzip_proxied. It then sets Content-Encoding, drops the length and
 * Accept-Ranges, weakens the ETag, and asks the content handler for the
 * body in memory (r->filter_need_in_memory). Vary comes with gzip_vary
 * whenever the response could have been compressed.
 *
 * The body filter streams through deflate (zlib's gzip wrapper) into at
 * most gzip_buffers output buffers, each reused once sent. It moves the
 * pos of the buffers it has read, so the copy filter, which reads a file
 * piece by piece for it, refills them only once they are compressed.
 * Work is bounded per event: after gzip_buffers' worth of input or
 * output, it yields to the loop (the write event, posted for the next
 * iteration, calls it again). zlib's memory is one block sized as nginx's
 * ngx_http_gzip_filter_memory sizes it, from the request's pool, freed
 * as soon as the stream ends.
 */

#include "kl_http.h"
#include "gzip_accept.h"

#if !(KL_HAVE_ZLIB)
#error "the gzip modules need zlib: install it, or ./configure \
--without-http_gzip_filter_module --without-http_gzip_static_module"
#endif

#include <zlib.h>


/* Input or output still held: the request must not end (r->buffered). */
#define KL_HTTP_GZIP_BUFFERED 0x40

typedef struct {
    kl_http_output_header_filter_pt next_header_filter;
    kl_http_output_body_filter_pt   next_body_filter;
} kl_http_gzip_main_conf_t;

typedef struct {
    kl_http_request_t *request;
    z_stream           zstream;

    kl_chain_t *in;      /* input links not yet read whole */
    kl_buf_t   *in_buf;  /* the one deflate reads */
    kl_buf_t   *out_buf; /* the one deflate writes */
    kl_chain_t *out;     /* full output not yet passed on */
    kl_chain_t *busy;    /* passed on, maybe unsent */
    kl_chain_t *free;    /* sent: reusable */
    kl_int_t    bufs;    /* output buffers allocated */

    u_char *preallocated; /* zlib's block */
    u_char *free_mem;
    size_t  allocated;
    int     wbits;
    int     memlevel;

    size_t work; /* bytes in and out since the last yield */

    off_t zin;
    off_t zout;

    unsigned started:1;
    unsigned flush:1; /* a flush buffer was read: Z_SYNC_FLUSH */
    unsigned last:1;  /* the last buffer was read: Z_FINISH */
    unsigned done:1;
} kl_http_gzip_ctx_t;


static kl_int_t kl_http_gzip_add_variables(kl_conf_t *cf);
static kl_int_t kl_http_gzip_filter_init(kl_conf_t *cf);
static void    *kl_http_gzip_create_main_conf(kl_conf_t *cf);
static void    *kl_http_gzip_create_conf(kl_conf_t *cf);
static char *kl_http_gzip_merge_conf(kl_conf_t *cf, void *parent, void *child);
static char *kl_http_gzip_types(kl_conf_t *cf, kl_command_t *cmd, void *conf);
static char *kl_http_gzip_comp_level(kl_conf_t *cf, kl_command_t *cmd,
                                     void *conf);
static char *kl_http_gzip_buffers(kl_conf_t *cf, kl_command_t *cmd, void *conf);


/* Directive tables keep one field a line, as nginx's do. */
/* clang-format off */
static kl_command_t  kl_http_gzip_filter_commands[] = {

    { kl_string("gzip"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF
      | KL_CONF_FLAG,
      kl_conf_set_flag_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_gzip_conf_t, enable),
      NULL },

    { kl_string("gzip_buffers"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF
      | KL_CONF_TAKE2,
      kl_http_gzip_buffers,
      KL_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { kl_string("gzip_types"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF
      | KL_CONF_1MORE,
      kl_http_gzip_types,
      KL_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { kl_string("gzip_comp_level"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF
      | KL_CONF_TAKE1,
      kl_http_gzip_comp_level,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_gzip_conf_t, level),
      NULL },

    { kl_string("gzip_min_length"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF
      | KL_CONF_TAKE1,
      kl_conf_set_size_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_gzip_conf_t, min_length),
      NULL },

    kl_null_command
};
/* clang-format on */


static kl_http_module_t kl_http_gzip_filter_module_ctx = {
    .preconfiguration = kl_http_gzip_add_variables,
    .postconfiguration = kl_http_gzip_filter_init,
    .create_main_conf = kl_http_gzip_create_main_conf,
    .create_loc_conf = kl_http_gzip_create_conf,
    .merge_loc_conf = kl_http_gzip_merge_conf,
};


kl_module_t kl_http_gzip_filter_module = {
    .name = "kl_http_gzip_filter_module",
    .type = KL_HTTP_MODULE,
    .ctx = &kl_http_gzip_filter_module_ctx,
    .commands = kl_http_gzip_filter_commands,
};


static kl_str_t kl_http_gzip_text_html = kl_string("text/html");


/* Is the response's type, without its parameters, one of gzip_types? */
static kl_uint_t
kl_http_gzip_test_type(kl_http_request_t *r, kl_http_gzip_conf_t *conf)
{
    size_t    len;
    u_char   *ct;
    kl_str_t *t;
    kl_uint_t i, n;

    if (conf->any) {
        return 1;
    }

    ct = r->headers_out.content_type.data;
    len = r->headers_out.content_type_len;

    if (len == 0) {
        return 0;
    }

    if (conf->types) {
        t = conf->types->elts;
        n = conf->types->nelts;

    } else {
        t = &kl_http_gzip_text_html;
        n = 1;
    }

    for (i = 0; i < n; i++) {
        if (t[i].len == len && kl_strncasecmp(ct, t[i].data, len) == 0) {
            return 1;
        }
    }

    return 0;
}


/* nginx's ngx_http_weak_etag: W/ before a strong tag; drop a malformed one. */
static kl_int_t
kl_http_gzip_weak_etag(kl_http_request_t *r)
{
    u_char         *p;
    kl_table_elt_t *etag;

    etag = r->headers_out.etag;

    if (etag == NULL) {
        return KL_OK;
    }

    if (etag->value.len > 2 && etag->value.data[0] == 'W'
        && etag->value.data[1] == '/')
    {
        return KL_OK;
    }

    if (etag->value.len < 1 || etag->value.data[0] != '"') {
        etag->hash = 0;
        r->headers_out.etag = NULL;
        return KL_OK;
    }

    p = kl_pnalloc(r->pool, etag->value.len + 2);
    if (p == NULL) {
        return KL_ERROR;
    }

    p[0] = 'W';
    p[1] = '/';
    kl_memcpy(p + 2, etag->value.data, etag->value.len);

    etag->value.data = p;
    etag->value.len += 2;

    return KL_OK;
}


/*
 * zlib's memory for a response of known length: a smaller window when the
 * body is short, as nginx (the window is 262 bytes shorter than 2^wbits).
 * 8 KiB for deflate_state, the window and hash buffers, the pending one.
 */
static void
kl_http_gzip_memory(kl_http_request_t *r, kl_http_gzip_ctx_t *ctx)
{
    int wbits, memlevel;

    wbits = MAX_WBITS;
    memlevel = MAX_MEM_LEVEL - 1;

    if (r->headers_out.content_length_n > 0) {
        while (wbits > 9
               && r->headers_out.content_length_n < ((1 << (wbits - 1)) - 262))
        {
            wbits--;
            memlevel--;
        }

        if (memlevel < 1) {
            memlevel = 1;
        }
    }

    ctx->wbits = wbits;
    ctx->memlevel = memlevel;
    ctx->allocated = 8192 + 16 + (1 << (wbits + 2)) + (1 << (memlevel + 9));
}


static kl_int_t
kl_http_gzip_header_filter(kl_http_request_t *r)
{
    kl_table_elt_t             *h;
    kl_http_gzip_ctx_t         *ctx;
    kl_http_gzip_conf_t        *conf;
    kl_http_gzip_main_conf_t   *gmcf;
    kl_http_gzip_common_conf_t *common;

    gmcf = kl_http_get_module_main_conf(r, kl_http_gzip_filter_module);
    conf = kl_http_get_module_loc_conf(r, kl_http_gzip_filter_module);

    if (!conf->enable
        || (r->headers_out.status != KL_HTTP_OK
            && r->headers_out.status != KL_HTTP_FORBIDDEN
            && r->headers_out.status != KL_HTTP_NOT_FOUND)
        || (r->headers_out.content_encoding
            && r->headers_out.content_encoding->value.len)
        || (r->headers_out.content_length_n != -1
            && r->headers_out.content_length_n < conf->min_length)
        || !kl_http_gzip_test_type(r, conf) || r->header_only)
    {
        return gmcf->next_header_filter(r);
    }

    common = kl_http_get_module_loc_conf(r, kl_http_gzip_common_module);

    /* nginx's r->gzip_vary: the answer depends on Accept-Encoding. */
    if (common->vary && kl_http_gzip_vary(r) != KL_OK) {
        return KL_ERROR;
    }

    if (kl_http_gzip_ok(r, common) != KL_OK) {
        return gmcf->next_header_filter(r);
    }

    ctx = kl_pcalloc(r->pool, sizeof(kl_http_gzip_ctx_t));
    if (ctx == NULL) {
        return KL_ERROR;
    }

    ctx->request = r;
    kl_http_gzip_memory(r, ctx);
    kl_http_set_ctx(r, ctx, kl_http_gzip_filter_module);

    h = kl_http_push_header(r, "Content-Encoding", "gzip");
    if (h == NULL) {
        return KL_ERROR;
    }

    r->headers_out.content_encoding = h;
    r->filter_need_in_memory = 1;

    r->headers_out.content_length_n = -1;

    if (r->headers_out.content_length) {
        r->headers_out.content_length->hash = 0;
        r->headers_out.content_length = NULL;
    }

    if (r->headers_out.accept_ranges) {
        r->headers_out.accept_ranges->hash = 0;
        r->headers_out.accept_ranges = NULL;
    }

    r->allow_ranges = 0;

    if (kl_http_gzip_weak_etag(r) != KL_OK) {
        return KL_ERROR;
    }

    return gmcf->next_header_filter(r);
}


/*
 * zlib's allocator: pieces of the preallocated block; other sizes are
 * multiples of 512, deflate_state takes about 6 KiB and gets 8 KiB, as in
 * nginx. Past the block (another zlib build), the request's pool.
 */
static void *
kl_http_gzip_alloc(void *opaque, u_int items, u_int size)
{
    void               *p;
    size_t              alloc;
    kl_http_gzip_ctx_t *ctx = opaque;

    alloc = (size_t) items * size;

    if (alloc % 512 != 0 && alloc < 8192) {
        alloc = 8192;
    }

    if (alloc <= ctx->allocated) {
        p = ctx->free_mem;
        ctx->free_mem += alloc;
        ctx->allocated -= alloc;
        return p;
    }

    return kl_palloc(ctx->request->pool, (size_t) items * size);
}


static void
kl_http_gzip_free(void *opaque, void *address)
{
    /* the pool frees it */
    (void) opaque;
    (void) address;
}


static kl_int_t
kl_http_gzip_start(kl_http_request_t *r, kl_http_gzip_ctx_t *ctx,
                   kl_http_gzip_conf_t *conf)
{
    int rc;

    ctx->preallocated = kl_palloc(r->pool, ctx->allocated);
    if (ctx->preallocated == NULL) {
        return KL_ERROR;
    }

    ctx->free_mem = ctx->preallocated;

    ctx->zstream.zalloc = kl_http_gzip_alloc;
    ctx->zstream.zfree = kl_http_gzip_free;
    ctx->zstream.opaque = ctx;

    /* windowBits + 16: zlib writes the gzip header and trailer */
    rc = deflateInit2(&ctx->zstream, (int) conf->level, Z_DEFLATED,
                      ctx->wbits + 16, ctx->memlevel, Z_DEFAULT_STRATEGY);

    if (rc != Z_OK) {
        kl_log_error(KL_LOG_ALERT, r->connection->log, 0,
                     "deflateInit2() failed: %d", rc);
        return KL_ERROR;
    }

    ctx->started = 1;

    return KL_OK;
}


/* Once the trailer is out: zlib's memory goes back at once. */
static void
kl_http_gzip_end(kl_http_request_t *r, kl_http_gzip_ctx_t *ctx)
{
    ctx->zin = (off_t) ctx->zstream.total_in;
    ctx->zout = (off_t) ctx->zstream.total_out;

    deflateEnd(&ctx->zstream);

    (void) kl_pfree(r->pool, ctx->preallocated);
    ctx->preallocated = NULL;
    ctx->done = 1;
}


/* An output buffer: a sent one, or a new one while under gzip_buffers. */
static kl_int_t
kl_http_gzip_get_buf(kl_http_request_t *r, kl_http_gzip_ctx_t *ctx,
                     kl_http_gzip_conf_t *conf)
{
    kl_chain_t *cl;

    if (ctx->free) {
        cl = ctx->free;
        ctx->free = cl->next;
        ctx->out_buf = cl->buf;

    } else if (ctx->bufs < (kl_int_t) conf->bufs.num) {
        ctx->out_buf = kl_buf_create_temp(r->pool, conf->bufs.size);
        if (ctx->out_buf == NULL) {
            return KL_ERROR;
        }

        ctx->bufs++;

    } else {
        return KL_DECLINED;
    }

    ctx->out_buf->pos = ctx->out_buf->start;
    ctx->out_buf->last = ctx->out_buf->start;
    ctx->out_buf->flush = 0;
    ctx->out_buf->last_buf = 0;

    ctx->zstream.next_out = ctx->out_buf->pos;
    ctx->zstream.avail_out = (uInt) conf->bufs.size;

    return KL_OK;
}


/* Hand the current output buffer on to ctx->out. */
static kl_int_t
kl_http_gzip_emit(kl_http_request_t *r, kl_http_gzip_ctx_t *ctx)
{
    kl_chain_t *cl, **ll;

    cl = kl_chain_alloc(r->pool);
    if (cl == NULL) {
        return KL_ERROR;
    }

    ctx->out_buf->last = ctx->zstream.next_out;
    ctx->work += ctx->out_buf->last - ctx->out_buf->pos;

    cl->buf = ctx->out_buf;
    cl->next = NULL;

    for (ll = &ctx->out; *ll; ll = &(*ll)->next) { /* the tail */
    }

    *ll = cl;
    ctx->out_buf = NULL;

    return KL_OK;
}


/*
 * The next input for deflate: KL_OK with next_in set (or the last or a
 * flush noted), KL_DECLINED when there is none yet.
 */
static kl_int_t
kl_http_gzip_next_in(kl_http_request_t *r, kl_http_gzip_ctx_t *ctx)
{
    kl_buf_t *b;

    if (ctx->in == NULL) {
        return KL_DECLINED;
    }

    b = ctx->in->buf;
    ctx->in = ctx->in->next;
    ctx->in_buf = b;

    /* The copy filter, which runs before, reads files for gzip. */
    if (b->in_file && !kl_buf_in_memory(b)) {
        kl_log_error(KL_LOG_ALERT, r->connection->log, 0,
                     "gzip got a file buffer not in memory");
        return KL_ERROR;
    }

    if (kl_buf_in_memory(b)) {
        ctx->zstream.next_in = b->pos;
        ctx->zstream.avail_in = (uInt) (b->last - b->pos);
    }

    if (b->last_buf) {
        ctx->last = 1;

    } else if (b->flush) {
        ctx->flush = 1;
    }

    return KL_OK;
}


/* After deflate: what it read of in_buf is consumed, for its producer. */
static void
kl_http_gzip_consumed(kl_http_gzip_ctx_t *ctx)
{
    kl_buf_t *b = ctx->in_buf;

    if (b == NULL) {
        return;
    }

    if (kl_buf_in_memory(b)) {
        ctx->work += ctx->zstream.next_in - b->pos;
        b->pos = ctx->zstream.next_in;
    }

    if (b->in_file) {
        b->file_pos = b->file_last;
    }
}


/*
 * Run deflate until it needs input that has not come, the output buffers
 * run out, or the work bound is reached: KL_OK (stopped), KL_ERROR.
 */
static kl_int_t
kl_http_gzip_deflate(kl_http_request_t *r, kl_http_gzip_ctx_t *ctx,
                     kl_http_gzip_conf_t *conf, size_t bound)
{
    int      flush, rc;
    kl_int_t n;

    while (ctx->work < bound && !ctx->done) {

        if (ctx->zstream.avail_in == 0 && !ctx->last && !ctx->flush) {
            n = kl_http_gzip_next_in(r, ctx);

            if (n == KL_ERROR) {
                return KL_ERROR;
            }

            if (n == KL_DECLINED) {
                return KL_OK;
            }
        }

        if (ctx->out_buf == NULL) {
            n = kl_http_gzip_get_buf(r, ctx, conf);

            if (n == KL_ERROR) {
                return KL_ERROR;
            }

            if (n == KL_DECLINED) {
                return KL_OK;
            }
        }

        flush = Z_NO_FLUSH;

        if (ctx->zstream.avail_in == 0) {
            flush = ctx->last ? Z_FINISH : (ctx->flush ? Z_SYNC_FLUSH : 0);
        }

        rc = deflate(&ctx->zstream, flush);

        if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
            kl_log_error(KL_LOG_ALERT, r->connection->log, 0,
                         "deflate() failed: %d, %d", flush, rc);
            return KL_ERROR;
        }

        kl_http_gzip_consumed(ctx);

        if (rc == Z_STREAM_END) {
            ctx->out_buf->last_buf = 1;

            if (kl_http_gzip_emit(r, ctx) != KL_OK) {
                return KL_ERROR;
            }

            kl_http_gzip_end(r, ctx);
            return KL_OK;
        }

        if (ctx->zstream.avail_out == 0) {
            if (kl_http_gzip_emit(r, ctx) != KL_OK) {
                return KL_ERROR;
            }

            continue;
        }

        if (flush == Z_SYNC_FLUSH) {
            /* all of it is out, with room to spare */
            ctx->flush = 0;
            ctx->out_buf->flush = 1;

            if (kl_http_gzip_emit(r, ctx) != KL_OK) {
                return KL_ERROR;
            }
        }
    }

    return KL_OK;
}


/*
 * After the next filters: the links they queued are copies, so ours come
 * back; an output buffer is reusable once the writer has sent all of it.
 */
static void
kl_http_gzip_update_chains(kl_http_gzip_ctx_t *ctx, kl_chain_t *out)
{
    kl_chain_t *cl, **ll;

    for (ll = &ctx->busy; *ll; ll = &(*ll)->next) { /* the tail */
    }

    *ll = out;

    while (ctx->busy && ctx->busy->buf->pos == ctx->busy->buf->last) {
        cl = ctx->busy;
        ctx->busy = cl->next;
        cl->next = ctx->free;
        ctx->free = cl;
    }
}


static kl_uint_t
kl_http_gzip_pending(kl_http_gzip_ctx_t *ctx)
{
    return !ctx->done
           && (ctx->in || ctx->zstream.avail_in || ctx->last || ctx->flush);
}


/*
 * Yield with work left: the write event, posted for the next iteration,
 * brings the writer back through here. Without a ready socket, its own
 * event comes when it drains.
 */
static kl_int_t
kl_http_gzip_yield(kl_http_request_t *r, kl_http_gzip_ctx_t *ctx)
{
    kl_event_t *wev;

    ctx->work = 0;
    wev = r->connection->write;

    if (wev->ready && !wev->delayed) {
        kl_post_event(wev, &kl_loop.posted_next);
    }

    return KL_AGAIN;
}


static kl_int_t
kl_http_gzip_body_filter(kl_http_request_t *r, kl_chain_t *in)
{
    size_t                    bound;
    kl_int_t                  rc;
    kl_chain_t               *out;
    kl_http_gzip_ctx_t       *ctx;
    kl_http_gzip_conf_t      *conf;
    kl_http_gzip_main_conf_t *gmcf;

    gmcf = kl_http_get_module_main_conf(r, kl_http_gzip_filter_module);
    ctx = kl_http_get_module_ctx(r, kl_http_gzip_filter_module);

    if (ctx == NULL || (ctx->done && ctx->out == NULL)) {
        return gmcf->next_body_filter(r, in);
    }

    conf = kl_http_get_module_loc_conf(r, kl_http_gzip_filter_module);

    if (!ctx->started && kl_http_gzip_start(r, ctx, conf) != KL_OK) {
        return KL_ERROR;
    }

    if (in && kl_chain_add_copy(r->pool, &ctx->in, in) != KL_OK) {
        return KL_ERROR;
    }

    bound = conf->bufs.num * conf->bufs.size;

    for (;;) {
        if (kl_http_gzip_deflate(r, ctx, conf, bound) != KL_OK) {
            return KL_ERROR;
        }

        out = ctx->out;
        ctx->out = NULL;

        if (kl_http_gzip_pending(ctx)) {
            r->buffered |= KL_HTTP_GZIP_BUFFERED;
        } else {
            r->buffered &= ~KL_HTTP_GZIP_BUFFERED;
        }

        /*
         * New input deflate took whole, with no output yet: nothing to
         * send. Calling on would send a held-back header alone (the write
         * filter holds nothing back on a call without new data), so the
         * header would leave in a segment of its own, as nginx's does not.
         */
        if (out == NULL && in != NULL && !kl_http_gzip_pending(ctx)) {
            return (r->buffered & KL_HTTP_WRITE_BUFFERED) ? KL_AGAIN : KL_OK;
        }

        /* With nothing new, this still sends what is queued. */
        rc = gmcf->next_body_filter(r, out);

        kl_http_gzip_update_chains(ctx, out);

        if (rc == KL_ERROR || !kl_http_gzip_pending(ctx)) {
            return rc;
        }

        if (ctx->work >= bound) {
            return kl_http_gzip_yield(r, ctx);
        }

        if (rc == KL_AGAIN) {
            /* the socket is full: its write event brings us back */
            return KL_AGAIN;
        }

        /*
         * Sent, with work left: deflate stopped for want of an output
         * buffer. Going round frees them, or, if the write filter held
         * them back (postpone_output), sends them: it holds nothing when
         * called without new data.
         */
    }
}


static kl_int_t
kl_http_gzip_ratio_variable(kl_http_request_t *r, kl_http_variable_value_t *v,
                            uintptr_t data)
{
    kl_uint_t           zint, zfrac;
    kl_http_gzip_ctx_t *ctx;

    (void) data;

    ctx = kl_http_get_module_ctx(r, kl_http_gzip_filter_module);

    if (ctx == NULL || ctx->zout == 0) {
        v->not_found = 1;
        return KL_OK;
    }

    v->data = kl_pnalloc(r->pool, KL_INT_T_LEN + 3);
    if (v->data == NULL) {
        return KL_ERROR;
    }

    zint = (kl_uint_t) (ctx->zin / ctx->zout);
    zfrac = (kl_uint_t) ((ctx->zin * 100 / ctx->zout) % 100);

    /* nginx rounds half up: 2.125 to 2.13 */
    if ((ctx->zin * 1000 / ctx->zout) % 10 > 4) {
        zfrac++;

        if (zfrac > 99) {
            zint++;
            zfrac = 0;
        }
    }

    v->len = kl_snprintf(v->data, KL_INT_T_LEN + 3, "%ui.%02ui", zint, zfrac)
             - v->data;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return KL_OK;
}


static kl_int_t
kl_http_gzip_add_variables(kl_conf_t *cf)
{
    kl_str_t            name = kl_string("gzip_ratio");
    kl_http_variable_t *var;

    var = kl_http_add_variable(cf, &name, KL_HTTP_VAR_NOCACHEABLE);
    if (var == NULL) {
        return KL_ERROR;
    }

    var->get_handler = kl_http_gzip_ratio_variable;

    return KL_OK;
}


/* As nginx's types slot: lists add up, and "*" stands for every type. */
static char *
kl_http_gzip_types(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_http_gzip_conf_t *gcf = conf;

    kl_str_t *value, *t;
    kl_uint_t i, n;

    (void) cmd;

    if (gcf->any) {
        return KL_CONF_OK;
    }

    if (gcf->types == NULL) {
        gcf->types = kl_array_create(cf->pool, 4, sizeof(kl_str_t));
        if (gcf->types == NULL) {
            return KL_CONF_ERROR;
        }

        t = kl_array_push(gcf->types);
        if (t == NULL) {
            return KL_CONF_ERROR;
        }

        *t = kl_http_gzip_text_html;
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        if (value[i].len == 1 && value[i].data[0] == '*') {
            gcf->any = 1;
            return KL_CONF_OK;
        }

        kl_strlow(value[i].data, value[i].data, value[i].len);

        t = gcf->types->elts;

        for (n = 0; n < gcf->types->nelts; n++) {
            if (t[n].len == value[i].len
                && kl_strncmp(t[n].data, value[i].data, value[i].len) == 0)
            {
                kl_conf_log_error(KL_LOG_WARN, cf, 0,
                                  "duplicate MIME type \"%V\"", &value[i]);
                break;
            }
        }

        if (n < gcf->types->nelts) {
            continue;
        }

        t = kl_array_push(gcf->types);
        if (t == NULL) {
            return KL_CONF_ERROR;
        }

        *t = value[i];
    }

    return KL_CONF_OK;
}


static char *
kl_http_gzip_comp_level(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    char                *rv;
    kl_http_gzip_conf_t *gcf = conf;

    rv = kl_conf_set_num_slot(cf, cmd, conf);

    if (rv != KL_CONF_OK) {
        return rv;
    }

    if (gcf->level < 1 || gcf->level > 9) {
        /* nginx's num bounds post handler words it so */
        kl_conf_log_error(KL_LOG_EMERG, cf, 0, "value must be between 1 and 9");
        return KL_CONF_ERROR;
    }

    return KL_CONF_OK;
}


/* gzip_buffers NUMBER SIZE, in nginx's bufs slot words. */
static char *
kl_http_gzip_buffers(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    ssize_t              size;
    kl_int_t             num;
    kl_str_t            *value;
    kl_http_gzip_conf_t *gcf = conf;

    (void) cmd;

    if (gcf->bufs.num) {
        return "is duplicate";
    }

    value = cf->args->elts;

    num = kl_atoi(value[1].data, value[1].len);
    if (num == KL_ERROR || num == 0) {
        return "invalid value";
    }

    size = kl_conf_parse_size(&value[2]);
    if (size == KL_ERROR || size == 0) {
        return "invalid value";
    }

    gcf->bufs.num = (size_t) num;
    gcf->bufs.size = (size_t) size;

    return KL_CONF_OK;
}


static void *
kl_http_gzip_create_main_conf(kl_conf_t *cf)
{
    return kl_pcalloc(cf->pool, sizeof(kl_http_gzip_main_conf_t));
}


static void *
kl_http_gzip_create_conf(kl_conf_t *cf)
{
    kl_http_gzip_conf_t *conf;

    /* pcalloc: types, any, bufs unset */
    conf = kl_pcalloc(cf->pool, sizeof(kl_http_gzip_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    conf->enable = KL_CONF_UNSET;
    conf->min_length = KL_CONF_UNSET;
    conf->level = KL_CONF_UNSET;

    return conf;
}


static char *
kl_http_gzip_merge_conf(kl_conf_t *cf, void *parent, void *child)
{
    kl_http_gzip_conf_t *prev = parent;
    kl_http_gzip_conf_t *conf = child;

    (void) cf;

    kl_conf_merge_value(conf->enable, prev->enable, 0);
    kl_conf_merge_value(conf->min_length, prev->min_length, 20);
    kl_conf_merge_value(conf->level, prev->level, 1);

    if (conf->bufs.num == 0) {
        if (prev->bufs.num) {
            conf->bufs = prev->bufs;

        } else {
            /* nginx's default: 128 KiB in pages */
            conf->bufs.num = (128 * 1024) / 4096;
            conf->bufs.size = 4096;
        }
    }

    if (conf->types == NULL && !conf->any) {
        conf->types = prev->types;
        conf->any = prev->any;
    }

    return KL_CONF_OK;
}


static kl_int_t
kl_http_gzip_filter_init(kl_conf_t *cf)
{
    kl_http_core_main_conf_t *cmcf;
    kl_http_gzip_main_conf_t *gmcf;

    cmcf = kl_http_conf_get_module_main_conf(cf, kl_http_core_module);
    gmcf = kl_http_conf_get_module_main_conf(cf, kl_http_gzip_filter_module);

    gmcf->next_header_filter = cmcf->top_header_filter;
    cmcf->top_header_filter = kl_http_gzip_header_filter;

    gmcf->next_body_filter = cmcf->top_body_filter;
    cmcf->top_body_filter = kl_http_gzip_body_filter;

    return KL_OK;
}
