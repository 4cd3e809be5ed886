/*
 * range.c: byte range responses (RFC 9110 section 14), as nginx 1.22's
 * range filters: "Accept-Ranges: bytes" on a whole 200 response of known
 * length; for a Range request (checked against If-Range), 206 with one
 * part and a Content-Range, 206 multipart/byteranges for several, or 416.
 *
 * The header filter decides and rewrites the head; the body filter cuts
 * the body the handler sends down to the ranges, moving pos/last of
 * memory buffers and file_pos/file_last of file ones, so file data is
 * never copied here. As nginx, several ranges need the whole body in
 * one buffer (the static module sends one).
 */

#include "kl_http.h"
#include "range_parse.h"


typedef struct {
    kl_http_output_header_filter_pt next_header_filter;
    kl_http_output_body_filter_pt   next_body_filter;
    kl_uint_t boundary; /* the last one this worker used */
} kl_http_range_main_conf_t;

typedef struct {
    kl_int_t max_ranges;
} kl_http_range_loc_conf_t;

typedef struct {
    off_t      offset;          /* of the next body byte in the whole */
    kl_array_t ranges;          /* kl_http_range_t */
    kl_str_t   boundary_header; /* CRLF "--B" CRLF [Content-Type...] ... */
    kl_str_t  *content_ranges;  /* "S-E/L" CRLF CRLF of each part */
} kl_http_range_ctx_t;

/* Boundaries are 20 digits, as nginx's on 64-bit systems. */
#define KL_HTTP_RANGE_BOUNDARY_LEN 20

/* The longest off_t in decimal, sign included. */
#define KL_OFF_T_LEN (sizeof("-9223372036854775808") - 1)


static void    *kl_http_range_create_main_conf(kl_conf_t *cf);
static void    *kl_http_range_create_loc_conf(kl_conf_t *cf);
static char    *kl_http_range_merge_loc_conf(kl_conf_t *cf, void *parent,
                                             void *child);
static kl_int_t kl_http_range_filter_init(kl_conf_t *cf);


/* Directive tables keep one field a line, as nginx's do. */
/* clang-format off */
static kl_command_t  kl_http_range_commands[] = {

    { kl_string("max_ranges"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE1,
      kl_conf_set_num_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_range_loc_conf_t, max_ranges),
      NULL },

    kl_null_command
};
/* clang-format on */


static kl_http_module_t kl_http_range_filter_module_ctx = {
    .postconfiguration = kl_http_range_filter_init,
    .create_main_conf = kl_http_range_create_main_conf,
    .create_loc_conf = kl_http_range_create_loc_conf,
    .merge_loc_conf = kl_http_range_merge_loc_conf,
};


kl_module_t kl_http_range_filter_module = {
    .name = "kl_http_range_filter_module",
    .type = KL_HTTP_MODULE,
    .ctx = &kl_http_range_filter_module_ctx,
    .commands = kl_http_range_commands,
};


static kl_table_elt_t *
kl_http_range_push_header(kl_http_request_t *r, const char *key, size_t len)
{
    kl_table_elt_t *h;

    h = kl_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NULL;
    }

    h->hash = 1;
    h->next = NULL;
    h->key.data = (u_char *) key;
    h->key.len = strlen(key);
    h->lowcase_key = NULL;

    h->value.data = kl_pnalloc(r->pool, len);
    if (h->value.data == NULL) {
        return NULL;
    }

    return h;
}


static void
kl_http_range_clear_length(kl_http_request_t *r)
{
    if (r->headers_out.content_length) {
        r->headers_out.content_length->hash = 0;
        r->headers_out.content_length = NULL;
    }
}


/*
 * If-Range (RFC 9110 13.1.5): the ranges apply only to the representation
 * the client has. An entity-tag must match strongly (a weak one never
 * does); a date must equal Last-Modified exactly, as nginx compares it.
 */
static kl_uint_t
kl_http_range_if_range(kl_http_request_t *r)
{
    kl_str_t *if_range, *etag;

    if (r->headers_in.if_range == NULL) {
        return 1;
    }

    if_range = &r->headers_in.if_range->value;

    if (if_range->len >= 2 && if_range->data[if_range->len - 1] == '"') {
        if (r->headers_out.etag == NULL) {
            return 0;
        }

        etag = &r->headers_out.etag->value;

        if (if_range->data[0] != '"' || etag->len == 0 || etag->data[0] != '"')
        {
            return 0;
        }

        return if_range->len == etag->len
               && kl_strncmp(if_range->data, etag->data, etag->len) == 0;
    }

    if (r->headers_out.last_modified_time == -1) {
        return 0;
    }

    return kl_parse_http_time(if_range->data, if_range->len)
           == r->headers_out.last_modified_time;
}


static kl_int_t
kl_http_range_not_satisfiable(kl_http_request_t *r)
{
    kl_table_elt_t *h;

    h = kl_http_range_push_header(r, "Content-Range",
                                  sizeof("bytes */") - 1 + KL_OFF_T_LEN);
    if (h == NULL) {
        return KL_ERROR;
    }

    h->value.len =
        kl_snprintf(h->value.data, sizeof("bytes */") - 1 + KL_OFF_T_LEN,
                    "bytes */%O", r->headers_out.content_length_n)
        - h->value.data;

    r->headers_out.status = KL_HTTP_RANGE_NOT_SATISFIABLE;
    r->headers_out.content_length_n = -1;
    kl_http_range_clear_length(r);

    return KL_HTTP_RANGE_NOT_SATISFIABLE;
}


static kl_int_t
kl_http_range_singlepart_header(kl_http_request_t *r, kl_http_range_ctx_t *ctx)
{
    kl_table_elt_t  *h;
    kl_http_range_t *range;

    h = kl_http_range_push_header(r, "Content-Range",
                                  sizeof("bytes -/") - 1 + 3 * KL_OFF_T_LEN);
    if (h == NULL) {
        return KL_ERROR;
    }

    range = ctx->ranges.elts;

    h->value.len =
        kl_snprintf(h->value.data, sizeof("bytes -/") - 1 + 3 * KL_OFF_T_LEN,
                    "bytes %O-%O/%O", range->start, range->end - 1,
                    r->headers_out.content_length_n)
        - h->value.data;

    r->headers_out.content_length_n = range->end - range->start;
    kl_http_range_clear_length(r);

    return KL_OK;
}


/*
 * Several ranges: each part is the boundary header (CRLF "--" boundary
 * CRLF, the Content-Type, "Content-Range: bytes "), "S-E/L" CRLF CRLF
 * and the data; then CRLF "--" boundary "--" CRLF. The length is known.
 */
static kl_int_t
kl_http_range_multipart_header(kl_http_request_t *r, kl_http_range_ctx_t *ctx)
{
    off_t                      len;
    size_t                     size;
    kl_uint_t                  i, boundary;
    kl_http_range_t           *range;
    kl_http_range_main_conf_t *rmcf;

    rmcf = kl_http_get_module_main_conf(r, kl_http_range_filter_module);
    boundary = ++rmcf->boundary;

    size = sizeof("\r\n--\r\nContent-Type: ; charset=\r\n"
                  "Content-Range: bytes ")
           - 1 + KL_HTTP_RANGE_BOUNDARY_LEN + r->headers_out.content_type.len
           + r->headers_out.charset.len;

    ctx->boundary_header.data = kl_pnalloc(r->pool, size);
    if (ctx->boundary_header.data == NULL) {
        return KL_ERROR;
    }

    if (r->headers_out.content_type_len == r->headers_out.content_type.len
        && r->headers_out.charset.len)
    {
        ctx->boundary_header.len =
            kl_snprintf(ctx->boundary_header.data, size,
                        "\r\n--%020ui\r\nContent-Type: %V; charset=%V\r\n"
                        "Content-Range: bytes ",
                        boundary, &r->headers_out.content_type,
                        &r->headers_out.charset)
            - ctx->boundary_header.data;

    } else if (r->headers_out.content_type.len) {
        ctx->boundary_header.len =
            kl_snprintf(ctx->boundary_header.data, size,
                        "\r\n--%020ui\r\nContent-Type: %V\r\n"
                        "Content-Range: bytes ",
                        boundary, &r->headers_out.content_type)
            - ctx->boundary_header.data;

    } else {
        ctx->boundary_header.len =
            kl_snprintf(ctx->boundary_header.data, size,
                        "\r\n--%020ui\r\nContent-Range: bytes ", boundary)
            - ctx->boundary_header.data;
    }

    size = sizeof("multipart/byteranges; boundary=") - 1
           + KL_HTTP_RANGE_BOUNDARY_LEN;

    r->headers_out.content_type.data = kl_pnalloc(r->pool, size);
    if (r->headers_out.content_type.data == NULL) {
        return KL_ERROR;
    }

    r->headers_out.content_type.len =
        kl_snprintf(r->headers_out.content_type.data, size,
                    "multipart/byteranges; boundary=%020ui", boundary)
        - r->headers_out.content_type.data;
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    kl_str_null(&r->headers_out.charset);

    ctx->content_ranges =
        kl_palloc(r->pool, ctx->ranges.nelts * sizeof(kl_str_t));
    if (ctx->content_ranges == NULL) {
        return KL_ERROR;
    }

    /* the closing CRLF "--" boundary "--" CRLF */
    len = sizeof("\r\n----\r\n") - 1 + KL_HTTP_RANGE_BOUNDARY_LEN;
    range = ctx->ranges.elts;

    for (i = 0; i < ctx->ranges.nelts; i++) {
        ctx->content_ranges[i].data =
            kl_pnalloc(r->pool, 3 * KL_OFF_T_LEN + sizeof("-/\r\n\r\n") - 1);
        if (ctx->content_ranges[i].data == NULL) {
            return KL_ERROR;
        }

        ctx->content_ranges[i].len =
            kl_snprintf(ctx->content_ranges[i].data,
                        3 * KL_OFF_T_LEN + sizeof("-/\r\n\r\n") - 1,
                        "%O-%O/%O\r\n\r\n", range[i].start, range[i].end - 1,
                        r->headers_out.content_length_n)
            - ctx->content_ranges[i].data;

        len += ctx->boundary_header.len + ctx->content_ranges[i].len
               + (range[i].end - range[i].start);
    }

    r->headers_out.content_length_n = len;
    kl_http_range_clear_length(r);

    return KL_OK;
}


static kl_int_t
kl_http_range_accept_ranges(kl_http_request_t *r)
{
    kl_table_elt_t *h;

    h = kl_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return KL_ERROR;
    }

    h->hash = 1;
    h->next = NULL;
    h->lowcase_key = NULL;
    kl_str_set(&h->key, "Accept-Ranges");
    kl_str_set(&h->value, "bytes");
    r->headers_out.accept_ranges = h;

    return KL_OK;
}


/*
 * Ranges apply to a whole 200 response of known length to a main
 * request: what nginx's handlers mark with r->allow_ranges.
 */
static kl_int_t
kl_http_range_header_filter(kl_http_request_t *r)
{
    kl_int_t                   rc;
    kl_table_elt_t            *range;
    kl_http_range_ctx_t       *ctx;
    kl_http_range_loc_conf_t  *rlcf;
    kl_http_range_main_conf_t *rmcf;

    rmcf = kl_http_get_module_main_conf(r, kl_http_range_filter_module);
    rlcf = kl_http_get_module_loc_conf(r, kl_http_range_filter_module);

    /* Only handlers that say so (static files) serve ranges, as nginx. */
    if (r->http_version < KL_HTTP_VERSION_10 || !r->allow_ranges
        || r->headers_out.status != KL_HTTP_OK || r != r->main
        || r->headers_out.content_length_n < 0 || rlcf->max_ranges == 0)
    {
        return rmcf->next_header_filter(r);
    }

    range = r->headers_in.range;

    if (range == NULL || !kl_http_range_if_range(r)) {
        goto accept;
    }

    ctx = kl_pcalloc(r->pool, sizeof(kl_http_range_ctx_t));
    if (ctx == NULL
        || kl_array_init(&ctx->ranges, r->pool, 1, sizeof(kl_http_range_t))
               != KL_OK)
    {
        return KL_ERROR;
    }

    rc = kl_http_range_parse(range->value.data,
                             range->value.data + range->value.len,
                             r->headers_out.content_length_n,
                             (kl_uint_t) rlcf->max_ranges, &ctx->ranges);

    switch (rc) {

    case KL_OK:
        kl_http_set_ctx(r, ctx, kl_http_range_filter_module);

        r->headers_out.status = KL_HTTP_PARTIAL_CONTENT;
        kl_str_null(&r->headers_out.status_line);

        if (ctx->ranges.nelts == 1) {
            rc = kl_http_range_singlepart_header(r, ctx);
        } else {
            rc = kl_http_range_multipart_header(r, ctx);
        }

        if (rc != KL_OK) {
            return rc;
        }

        return rmcf->next_header_filter(r);

    case KL_HTTP_RANGE_NOT_SATISFIABLE:
        return kl_http_range_not_satisfiable(r);

    case KL_ERROR:
        return KL_ERROR;

    default: /* KL_DECLINED: the whole representation */
        break;
    }

accept:

    if (kl_http_range_accept_ranges(r) != KL_OK) {
        return KL_ERROR;
    }

    return rmcf->next_header_filter(r);
}


/* One range: drop the buffers outside it, trim the two at its ends. */
static kl_int_t
kl_http_range_singlepart_body(kl_http_request_t *r, kl_http_range_ctx_t *ctx,
                              kl_chain_t *in)
{
    off_t                      start, last;
    kl_buf_t                  *buf;
    kl_chain_t                *out, *cl, **ll;
    kl_http_range_t           *range;
    kl_http_range_main_conf_t *rmcf;

    rmcf = kl_http_get_module_main_conf(r, kl_http_range_filter_module);
    out = NULL;
    ll = &out;
    range = ctx->ranges.elts;

    for (cl = in; cl; cl = cl->next) {
        buf = cl->buf;

        start = ctx->offset;
        last = ctx->offset + kl_buf_size(buf);
        ctx->offset = last;

        if (kl_buf_special(buf)) {
            *ll = cl;
            ll = &cl->next;
            continue;
        }

        if (range->end <= start || range->start >= last) {
            /* consumed without being sent */
            if (buf->in_file) {
                buf->file_pos = buf->file_last;
            }

            buf->pos = buf->last;
            buf->sync = 1;
            continue;
        }

        if (range->start > start) {
            if (buf->in_file) {
                buf->file_pos += range->start - start;
            }

            if (kl_buf_in_memory(buf)) {
                buf->pos += (size_t) (range->start - start);
            }
        }

        if (range->end <= last) {
            if (buf->in_file) {
                buf->file_last -= last - range->end;
            }

            if (kl_buf_in_memory(buf)) {
                buf->last -= (size_t) (last - range->end);
            }

            buf->last_buf = 1;
            buf->last_in_chain = 1;
            *ll = cl;
            cl->next = NULL;
            break;
        }

        *ll = cl;
        ll = &cl->next;
    }

    if (out == NULL) {
        return KL_OK;
    }

    return rmcf->next_body_filter(r, out);
}


static kl_chain_t *
kl_http_range_link(kl_http_request_t *r, kl_buf_t *b, kl_chain_t ***ll)
{
    kl_chain_t *cl;

    cl = kl_chain_alloc(r->pool);
    if (cl == NULL) {
        return NULL;
    }

    cl->buf = b;
    cl->next = NULL;
    **ll = cl;
    *ll = &cl->next;

    return cl;
}


/* A view of [start, end) of the body in buf: no data copied. */
static kl_buf_t *
kl_http_range_part(kl_http_request_t *r, kl_buf_t *buf, off_t start, off_t end)
{
    kl_buf_t *b;

    b = kl_buf_calloc(r->pool);
    if (b == NULL) {
        return NULL;
    }

    b->in_file = buf->in_file;
    b->temporary = buf->temporary;
    b->memory = buf->memory;
    b->file = buf->file;

    if (buf->in_file) {
        b->file_pos = buf->file_pos + start;
        b->file_last = buf->file_pos + end;
    }

    if (kl_buf_in_memory(buf)) {
        b->pos = buf->pos + (size_t) start;
        b->last = buf->pos + (size_t) end;
    }

    return b;
}


static kl_int_t
kl_http_range_multipart_body(kl_http_request_t *r, kl_http_range_ctx_t *ctx,
                             kl_chain_t *in)
{
    kl_buf_t                  *b, *buf;
    kl_uint_t                  i;
    kl_chain_t                *out, **ll;
    kl_http_range_t           *range;
    kl_http_range_main_conf_t *rmcf;

    rmcf = kl_http_get_module_main_conf(r, kl_http_range_filter_module);

    if (kl_buf_special(in->buf)) {
        return rmcf->next_body_filter(r, in);
    }

    buf = in->buf;

    /* The parts are views into one buffer holding the whole body. */
    if (ctx->offset != 0) {
        goto overlapped;
    }

    range = ctx->ranges.elts;

    if (!buf->last_buf) {
        for (i = 0; i < ctx->ranges.nelts; i++) {
            if (range[i].end > kl_buf_size(buf)) {
                goto overlapped;
            }
        }
    }

    ctx->offset = kl_buf_size(buf);
    out = NULL;
    ll = &out;

    for (i = 0; i < ctx->ranges.nelts; i++) {
        b = kl_buf_calloc(r->pool);
        if (b == NULL) {
            return KL_ERROR;
        }

        b->memory = 1;
        b->pos = ctx->boundary_header.data;
        b->last = b->pos + ctx->boundary_header.len;

        if (kl_http_range_link(r, b, &ll) == NULL) {
            return KL_ERROR;
        }

        b = kl_buf_calloc(r->pool);
        if (b == NULL) {
            return KL_ERROR;
        }

        b->memory = 1;
        b->pos = ctx->content_ranges[i].data;
        b->last = b->pos + ctx->content_ranges[i].len;

        if (kl_http_range_link(r, b, &ll) == NULL) {
            return KL_ERROR;
        }

        b = kl_http_range_part(r, buf, range[i].start, range[i].end);
        if (b == NULL || kl_http_range_link(r, b, &ll) == NULL) {
            return KL_ERROR;
        }
    }

    b = kl_buf_calloc(r->pool);
    if (b == NULL) {
        return KL_ERROR;
    }

    /* CRLF "--" boundary, from the boundary header, then "--" CRLF */
    b->temporary = 1;
    b->last_buf = 1;
    b->pos = kl_pnalloc(r->pool, sizeof("\r\n----\r\n") - 1
                                     + KL_HTTP_RANGE_BOUNDARY_LEN);
    if (b->pos == NULL) {
        return KL_ERROR;
    }

    b->last = kl_cpymem(b->pos, ctx->boundary_header.data,
                        sizeof("\r\n--") - 1 + KL_HTTP_RANGE_BOUNDARY_LEN);
    b->last = kl_cpymem(b->last, "--\r\n", sizeof("--\r\n") - 1);

    if (kl_http_range_link(r, b, &ll) == NULL) {
        return KL_ERROR;
    }

    return rmcf->next_body_filter(r, out);

overlapped:

    kl_log_error(KL_LOG_ALERT, r->connection->log, 0,
                 "range in overlapped buffers");

    return KL_ERROR;
}


static kl_int_t
kl_http_range_body_filter(kl_http_request_t *r, kl_chain_t *in)
{
    kl_http_range_ctx_t       *ctx;
    kl_http_range_main_conf_t *rmcf;

    rmcf = kl_http_get_module_main_conf(r, kl_http_range_filter_module);
    ctx = kl_http_get_module_ctx(r, kl_http_range_filter_module);

    if (in == NULL || ctx == NULL) {
        return rmcf->next_body_filter(r, in);
    }

    if (ctx->ranges.nelts == 1) {
        return kl_http_range_singlepart_body(r, ctx, in);
    }

    return kl_http_range_multipart_body(r, ctx, in);
}


static void *
kl_http_range_create_main_conf(kl_conf_t *cf)
{
    return kl_pcalloc(cf->pool, sizeof(kl_http_range_main_conf_t));
}


static void *
kl_http_range_create_loc_conf(kl_conf_t *cf)
{
    kl_http_range_loc_conf_t *rlcf;

    rlcf = kl_palloc(cf->pool, sizeof(kl_http_range_loc_conf_t));
    if (rlcf == NULL) {
        return NULL;
    }

    rlcf->max_ranges = KL_CONF_UNSET;

    return rlcf;
}


static char *
kl_http_range_merge_loc_conf(kl_conf_t *cf, void *parent, void *child)
{
    kl_http_range_loc_conf_t *prev = parent;
    kl_http_range_loc_conf_t *conf = child;

    (void) cf;

    /* nginx's default: as many as fit in an int32 */
    kl_conf_merge_value(conf->max_ranges, prev->max_ranges, INT32_MAX);

    return KL_CONF_OK;
}


/* Put both filters at the top of their chains, the old tops after them. */
static kl_int_t
kl_http_range_filter_init(kl_conf_t *cf)
{
    kl_http_core_main_conf_t  *cmcf;
    kl_http_range_main_conf_t *rmcf;

    cmcf = kl_http_conf_get_module_main_conf(cf, kl_http_core_module);
    rmcf = kl_http_conf_get_module_main_conf(cf, kl_http_range_filter_module);

    rmcf->next_header_filter = cmcf->top_header_filter;
    cmcf->top_header_filter = kl_http_range_header_filter;

    rmcf->next_body_filter = cmcf->top_body_filter;
    cmcf->top_body_filter = kl_http_range_body_filter;

    return KL_OK;
}
