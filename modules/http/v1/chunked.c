/*
 * chunked.c: HTTP/1's chunked transfer coding of responses (RFC 9112
 * section 7.1), as nginx's chunked filter: an HTTP/1.1 response of
 * unknown length is sent as chunks, so the connection can stay open; an
 * HTTP/1.0 one is ended by closing. head.c decides as it writes the head
 * (kl_http_v1_chunked_start); the body filter, the last before the write
 * filter, frames only what head.c marked r->chunked.
 *
 * Each call of the body filter with data becomes one chunk: "HEX CRLF"
 * before the chain, CRLF after it; the last buffer brings "0 CRLF", the
 * trailers (r->headers_out.trailers) and CRLF. The small buffers the
 * framing takes are reused once the write filter has sent them.
 */

#include "kl_http.h"


typedef struct {
    kl_http_output_body_filter_pt next_body_filter;
} kl_http_chunked_main_conf_t;

typedef struct {
    kl_int_t chunked_transfer_encoding;
} kl_http_chunked_loc_conf_t;

typedef struct {
    kl_chain_t *free; /* framing buffers sent, ready for reuse */
    kl_chain_t *busy; /* framing buffers handed on, maybe unsent */
} kl_http_chunked_ctx_t;


static void    *kl_http_chunked_create_main_conf(kl_conf_t *cf);
static void    *kl_http_chunked_create_loc_conf(kl_conf_t *cf);
static char    *kl_http_chunked_merge_loc_conf(kl_conf_t *cf, void *parent,
                                               void *child);
static kl_int_t kl_http_chunked_filter_init(kl_conf_t *cf);


/* Directive tables keep one field a line, as nginx's do. */
/* clang-format off */
static kl_command_t  kl_http_chunked_commands[] = {

    { kl_string("chunked_transfer_encoding"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_FLAG,
      kl_conf_set_flag_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_chunked_loc_conf_t, chunked_transfer_encoding),
      NULL },

    kl_null_command
};
/* clang-format on */


static kl_http_module_t kl_http_chunked_filter_module_ctx = {
    .postconfiguration = kl_http_chunked_filter_init,
    .create_main_conf = kl_http_chunked_create_main_conf,
    .create_loc_conf = kl_http_chunked_create_loc_conf,
    .merge_loc_conf = kl_http_chunked_merge_loc_conf,
};


kl_module_t kl_http_chunked_filter_module = {
    .name = "kl_http_chunked_filter_module",
    .type = KL_HTTP_MODULE,
    .ctx = &kl_http_chunked_filter_module_ctx,
    .commands = kl_http_chunked_commands,
};


/*
 * Called by head.c as the head is written, so only for HTTP/1: no other
 * protocol ever sets r->chunked, and the body filter passes their
 * output through untouched.
 */
kl_int_t
kl_http_v1_chunked_start(kl_http_request_t *r)
{
    kl_uint_t                   status;
    kl_http_chunked_ctx_t      *ctx;
    kl_http_chunked_loc_conf_t *clf;

    status = r->headers_out.status;

    if (status == KL_HTTP_NOT_MODIFIED || status == KL_HTTP_NO_CONTENT
        || status < KL_HTTP_OK || r != r->main || r->header_only
        || r->method == KL_HTTP_HEAD
        || (r->headers_out.content_length_n != -1 && !r->expect_trailers))
    {
        return KL_OK;
    }

    clf = kl_http_get_module_loc_conf(r, kl_http_chunked_filter_module);

    if (r->http_version < KL_HTTP_VERSION_11 || !clf->chunked_transfer_encoding)
    {
        if (r->headers_out.content_length_n == -1) {
            /* Only closing the connection can end this body. */
            r->keepalive = 0;
        }

        /* A known length wins over trailers that cannot be sent. */
        return KL_OK;
    }

    /* Trailers need chunks: the length goes, as in nginx. */
    if (r->headers_out.content_length_n != -1) {
        r->headers_out.content_length_n = -1;

        if (r->headers_out.content_length) {
            r->headers_out.content_length->hash = 0;
            r->headers_out.content_length = NULL;
        }
    }

    ctx = kl_pcalloc(r->pool, sizeof(kl_http_chunked_ctx_t));
    if (ctx == NULL) {
        return KL_ERROR;
    }

    kl_http_set_ctx(r, ctx, kl_http_chunked_filter_module);

    r->chunked = 1;

    return KL_OK;
}


/* A framing buffer: a sent one again (keeping its memory), or a new one. */
static kl_chain_t *
kl_http_chunked_get_buf(kl_http_request_t *r, kl_http_chunked_ctx_t *ctx)
{
    u_char     *start, *end;
    kl_chain_t *cl;

    if (ctx->free) {
        cl = ctx->free;
        ctx->free = cl->next;
        cl->next = NULL;

        start = cl->buf->start;
        end = cl->buf->end;
        kl_memzero(cl->buf, sizeof(kl_buf_t));
        cl->buf->start = start;
        cl->buf->end = end;

        return cl;
    }

    cl = kl_chain_alloc(r->pool);
    if (cl == NULL) {
        return NULL;
    }

    cl->buf = kl_buf_calloc(r->pool);
    if (cl->buf == NULL) {
        return NULL;
    }

    cl->next = NULL;

    return cl;
}


/*
 * After the next filters ran: the write filter copied the links it
 * queued, so a framing link is ours again; its buffer is free once sent.
 * It sends in order, so the sent ones are at the head of busy.
 */
static void
kl_http_chunked_keep(kl_http_chunked_ctx_t *ctx, kl_chain_t *framing)
{
    kl_chain_t *cl, **ll;

    framing->next = NULL;

    for (ll = &ctx->busy; *ll; ll = &(*ll)->next) { /* the tail */
    }

    *ll = framing;

    while (ctx->busy && kl_buf_size(ctx->busy->buf) == 0) {
        cl = ctx->busy;
        ctx->busy = cl->next;
        cl->next = ctx->free;
        ctx->free = cl;
    }
}


/* "CRLF 0 CRLF", the trailer fields, "CRLF"; the CRLF ending data first. */
static kl_chain_t *
kl_http_chunked_create_trailers(kl_http_request_t     *r,
                                kl_http_chunked_ctx_t *ctx)
{
    size_t      len;
    u_char     *p;
    kl_buf_t   *b;
    kl_chain_t *cl;

    static u_char last_chunk[] = "\r\n0\r\n\r\n";

    len = kl_http_fields_length(&r->headers_out.trailers);

    cl = kl_http_chunked_get_buf(r, ctx);
    if (cl == NULL) {
        return NULL;
    }

    b = cl->buf;
    b->memory = 1;
    b->last_buf = 1;

    if (len == 0) {
        b->pos = last_chunk;
        b->last = last_chunk + sizeof(last_chunk) - 1;
        return cl;
    }

    len += sizeof(last_chunk) - 1;

    p = kl_pnalloc(r->pool, len);
    if (p == NULL) {
        return NULL;
    }

    b->pos = p;
    p = kl_cpymem(p, "\r\n0\r\n", sizeof("\r\n0\r\n") - 1);

    p = kl_http_fields_write(p, &r->headers_out.trailers);

    *p++ = '\r';
    *p++ = '\n';

    b->last = p;

    return cl;
}


static kl_int_t
kl_http_chunked_body_filter(kl_http_request_t *r, kl_chain_t *in)
{
    off_t                        size;
    u_char                      *chunk;
    kl_int_t                     rc;
    kl_buf_t                    *b;
    kl_chain_t                  *out, *cl, *tl, *head, *tail, **ll;
    kl_http_chunked_ctx_t       *ctx;
    kl_http_chunked_main_conf_t *cmf;

    static u_char crlf[] = "\r\n";

    cmf = kl_http_get_module_main_conf(r, kl_http_chunked_filter_module);
    ctx = kl_http_get_module_ctx(r, kl_http_chunked_filter_module);

    if (in == NULL || !r->chunked || r->header_only || ctx == NULL) {
        return cmf->next_body_filter(r, in);
    }

    out = NULL;
    ll = &out;
    size = 0;

    for (cl = in; /* void */; cl = cl->next) {
        size += kl_buf_size(cl->buf);

        if (cl->buf->flush || cl->buf->sync || kl_buf_in_memory(cl->buf)
            || cl->buf->in_file)
        {
            tl = kl_chain_alloc(r->pool);
            if (tl == NULL) {
                return KL_ERROR;
            }

            tl->buf = cl->buf;
            *ll = tl;
            ll = &tl->next;
        }

        if (cl->next == NULL) {
            break;
        }
    }

    *ll = NULL;
    head = NULL;
    tail = NULL;

    if (size) {
        head = kl_http_chunked_get_buf(r, ctx);
        if (head == NULL) {
            return KL_ERROR;
        }

        b = head->buf;
        chunk = b->start;

        if (chunk == NULL) {
            /* 16 hex digits hold any off_t */
            chunk = kl_pnalloc(r->pool, sizeof("0000000000000000\r\n") - 1);
            if (chunk == NULL) {
                return KL_ERROR;
            }

            b->start = chunk;
            b->end = chunk + sizeof("0000000000000000\r\n") - 1;
        }

        b->temporary = 1;
        b->pos = chunk;
        b->last = kl_slprintf(chunk, b->end, "%xO\r\n", size);

        head->next = out;
        out = head;

        if (ll == &out) {
            ll = &head->next;
        }
    }

    if (cl->buf->last_buf) {
        tail = kl_http_chunked_create_trailers(r, ctx);
        if (tail == NULL) {
            return KL_ERROR;
        }

        /* The last buffer is now the one ending the chunks. */
        cl->buf->last_buf = 0;

        if (size == 0) {
            /* no chunk data to end with CRLF */
            tail->buf->pos += 2;
        }

    } else if (size) {
        tail = kl_http_chunked_get_buf(r, ctx);
        if (tail == NULL) {
            return KL_ERROR;
        }

        b = tail->buf;
        b->memory = 1;
        b->pos = crlf;
        b->last = crlf + sizeof(crlf) - 1;
    }

    *ll = tail;

    rc = cmf->next_body_filter(r, out);

    if (head) {
        kl_http_chunked_keep(ctx, head);
    }

    if (tail) {
        kl_http_chunked_keep(ctx, tail);
    }

    return rc;
}


static void *
kl_http_chunked_create_main_conf(kl_conf_t *cf)
{
    return kl_pcalloc(cf->pool, sizeof(kl_http_chunked_main_conf_t));
}


static void *
kl_http_chunked_create_loc_conf(kl_conf_t *cf)
{
    kl_http_chunked_loc_conf_t *clf;

    clf = kl_palloc(cf->pool, sizeof(kl_http_chunked_loc_conf_t));
    if (clf == NULL) {
        return NULL;
    }

    clf->chunked_transfer_encoding = KL_CONF_UNSET;

    return clf;
}


static char *
kl_http_chunked_merge_loc_conf(kl_conf_t *cf, void *parent, void *child)
{
    kl_http_chunked_loc_conf_t *prev = parent;
    kl_http_chunked_loc_conf_t *conf = child;

    (void) cf;

    kl_conf_merge_value(conf->chunked_transfer_encoding,
                        prev->chunked_transfer_encoding, 1);

    return KL_CONF_OK;
}


/* The body filter at the top of its chain, the old top after it. */
static kl_int_t
kl_http_chunked_filter_init(kl_conf_t *cf)
{
    kl_http_core_main_conf_t    *cmcf;
    kl_http_chunked_main_conf_t *cmf;

    cmcf = kl_http_conf_get_module_main_conf(cf, kl_http_core_module);
    cmf = kl_http_conf_get_module_main_conf(cf, kl_http_chunked_filter_module);

    cmf->next_body_filter = cmcf->top_body_filter;
    cmcf->top_body_filter = kl_http_chunked_body_filter;

    return KL_OK;
}
