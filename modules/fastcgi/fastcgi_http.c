/*
 * fastcgi_http.c: the FastCGI side of fastcgi_pass: the request as
 * records (BEGIN_REQUEST; PARAMS from fastcgi_param and the request's
 * fields as HTTP_*, as nginx; STDIN with the body, memory or file
 * pieces sent as views), and the responder's records read back
 * (fastcgi_parse.c): STDOUT as a CGI head (Status:, Location:, fields by
 * the request parser's kl_http_parse_header_line) then the body, STDERR
 * logged, END_REQUEST the end.
 *
 * The STDOUT content is decoded in place: the records' headers and
 * padding are squeezed out of the buffer the bytes were read into, so
 * the head parser and the body filters see the plain CGI output.
 */

#include "fastcgi_http.h"


static kl_int_t  kl_http_fastcgi_decode(kl_http_request_t     *r,
                                        kl_http_fastcgi_ctx_t *ctx, u_char *pos,
                                        u_char *last, u_char **end);
static void      kl_http_fastcgi_log_stderr(kl_http_request_t *r, kl_str_t *s);
static kl_uint_t kl_http_fastcgi_caught(kl_http_fastcgi_loc_conf_t *flcf,
                                        kl_str_t                   *s);


/* The length a FastCGI name-value pair spends on a length: 1 or 4. */
#define kl_http_fastcgi_len_len(n) ((n) > 127 ? 4 : 1)


static u_char *
kl_http_fastcgi_put_len(u_char *p, size_t n)
{
    if (n > 127) {
        *p++ = (u_char) (((n >> 24) & 0x7f) | 0x80);
        *p++ = (u_char) ((n >> 16) & 0xff);
        *p++ = (u_char) ((n >> 8) & 0xff);
        *p++ = (u_char) (n & 0xff);

    } else {
        *p++ = (u_char) n;
    }

    return p;
}


static u_char *
kl_http_fastcgi_put_header(u_char *p, kl_uint_t type, size_t len,
                           size_t padding)
{
    *p++ = 1;
    *p++ = (u_char) type;
    *p++ = 0;
    *p++ = 1; /* the request id: one request a connection */
    *p++ = (u_char) ((len >> 8) & 0xff);
    *p++ = (u_char) (len & 0xff);
    *p++ = (u_char) padding;
    *p++ = 0;

    return p;
}


/*
 * A request field passed as a param? Not when a fastcgi_param
 * HTTP_<NAME> sets it (nginx's rule); its name is "HTTP_" and the field
 * name in capitals, '-' as '_'.
 */
static kl_uint_t
kl_http_fastcgi_header_passed(kl_http_fastcgi_loc_conf_t *flcf,
                              kl_table_elt_t             *h)
{
    u_char    ch;
    size_t    k;
    kl_str_t *hp;
    kl_uint_t i;

    if (h->hash == 0) {
        return 0;
    }

    hp = flcf->header_params->elts;

    for (i = 0; i < flcf->header_params->nelts; i++) {
        if (hp[i].len != h->key.len) {
            continue;
        }

        for (k = 0; k < h->key.len; k++) {
            ch = kl_tolower(h->key.data[k]);

            if (ch == '-') {
                ch = '_';
            }

            if (ch != hp[i].data[k]) {
                break;
            }
        }

        if (k == h->key.len) {
            return 0;
        }
    }

    return 1;
}


/* The PARAMS stream's bytes: the params then the request's fields. */
static kl_int_t
kl_http_fastcgi_params(kl_http_request_t *r, kl_http_fastcgi_loc_conf_t *flcf,
                       kl_str_t *out)
{
    u_char                  *p, ch;
    size_t                   len, k;
    kl_str_t                *values;
    kl_uint_t                i, n, pass;
    kl_list_part_t          *part;
    kl_table_elt_t          *h;
    kl_http_fastcgi_param_t *prm;

    n = flcf->params ? flcf->params->nelts : 0;
    prm = n ? flcf->params->elts : NULL;

    values = kl_palloc(r->pool, (n ? n : 1) * sizeof(kl_str_t));
    if (values == NULL) {
        return KL_ERROR;
    }

    len = 0;

    for (i = 0; i < n; i++) {
        if (kl_http_complex_value(r, prm[i].value, &values[i]) != KL_OK) {
            return KL_ERROR;
        }

        if (values[i].len == 0 && prm[i].skip_empty) {
            continue;
        }

        len += kl_http_fastcgi_len_len(prm[i].key.len)
               + kl_http_fastcgi_len_len(values[i].len) + prm[i].key.len
               + values[i].len;
    }

    pass = flcf->pass_request_headers;

    for (part = &r->headers_in.headers.part; pass && part; part = part->next) {
        h = part->elts;

        for (i = 0; i < part->nelts; i++) {
            if (kl_http_fastcgi_header_passed(flcf, &h[i])) {
                len += kl_http_fastcgi_len_len(h[i].key.len + 5)
                       + kl_http_fastcgi_len_len(h[i].value.len) + h[i].key.len
                       + 5 + h[i].value.len;
            }
        }
    }

    p = kl_pnalloc(r->pool, len ? len : 1);
    if (p == NULL) {
        return KL_ERROR;
    }

    out->data = p;

    for (i = 0; i < n; i++) {
        if (values[i].len == 0 && prm[i].skip_empty) {
            continue;
        }

        p = kl_http_fastcgi_put_len(p, prm[i].key.len);
        p = kl_http_fastcgi_put_len(p, values[i].len);
        p = kl_cpymem(p, prm[i].key.data, prm[i].key.len);

        if (values[i].len) {
            p = kl_cpymem(p, values[i].data, values[i].len);
        }
    }

    for (part = &r->headers_in.headers.part; pass && part; part = part->next) {
        h = part->elts;

        for (i = 0; i < part->nelts; i++) {
            if (!kl_http_fastcgi_header_passed(flcf, &h[i])) {
                continue;
            }

            p = kl_http_fastcgi_put_len(p, h[i].key.len + 5);
            p = kl_http_fastcgi_put_len(p, h[i].value.len);
            p = kl_cpymem(p, "HTTP_", 5);

            for (k = 0; k < h[i].key.len; k++) {
                ch = h[i].key.data[k];

                if (ch >= 'a' && ch <= 'z') {
                    ch &= ~0x20;

                } else if (ch == '-') {
                    ch = '_';
                }

                *p++ = ch;
            }

            p = kl_cpymem(p, h[i].value.data, h[i].value.len);
        }
    }

    out->len = p - out->data;

    return KL_OK;
}


/* Append a link for b to *ll. */
static kl_int_t
kl_http_fastcgi_link(kl_http_request_t *r, kl_chain_t ***ll, kl_buf_t *b)
{
    kl_chain_t *cl;

    cl = kl_chain_alloc(r->pool);
    if (cl == NULL) {
        return KL_ERROR;
    }

    cl->buf = b;
    cl->next = NULL;
    **ll = cl;
    *ll = &cl->next;

    return KL_OK;
}


/*
 * The STDIN records of the body: for each piece of at most
 * KL_HTTP_FASTCGI_RECORD_MAX bytes a small buffer (the previous piece's
 * padding and this record's header) then a view of the piece, memory or
 * file. *padding is left with the last piece's, for the caller to
 * put before the empty record that ends the stream.
 */
static kl_int_t
kl_http_fastcgi_stdin(kl_http_request_t *r, kl_chain_t **ll, size_t *padding)
{
    off_t       size, piece;
    u_char     *p;
    kl_buf_t   *b, *v, *in;
    kl_chain_t *cl;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        in = cl->buf;
        size = kl_buf_size(in);
        piece = 0;

        while (piece < size) {
            b = kl_buf_create_temp(r->pool, 16);
            v = kl_buf_calloc(r->pool);
            if (b == NULL || v == NULL) {
                return KL_ERROR;
            }

            p = b->last;
            kl_memzero(p, *padding);
            p += *padding;

            *v = *in;
            v->last_buf = 0;
            v->flush = 0;

            if (kl_buf_in_memory(in)) {
                v->pos = in->pos + piece;
                v->last =
                    v->pos
                    + kl_min(size - piece, (off_t) KL_HTTP_FASTCGI_RECORD_MAX);
                v->start = v->pos;
                v->end = v->last;
                v->in_file = 0;

            } else {
                v->file_pos = in->file_pos + piece;
                v->file_last =
                    v->file_pos
                    + kl_min(size - piece, (off_t) KL_HTTP_FASTCGI_RECORD_MAX);
            }

            *padding = (8 - (size_t) kl_buf_size(v) % 8) % 8;
            b->last = kl_http_fastcgi_put_header(
                p, KL_FASTCGI_STDIN, (size_t) kl_buf_size(v), *padding);
            piece += kl_buf_size(v);

            if (kl_http_fastcgi_link(r, &ll, b) != KL_OK
                || kl_http_fastcgi_link(r, &ll, v) != KL_OK)
            {
                return KL_ERROR;
            }
        }
    }

    return KL_OK;
}


kl_int_t
kl_http_fastcgi_create_request(kl_http_request_t *r)
{
    u_char                     *p;
    size_t                      len, n, padding, nrec;
    kl_buf_t                   *b;
    kl_str_t                    params;
    kl_chain_t                 *head, **ll;
    kl_http_upstream_t         *u;
    kl_http_fastcgi_loc_conf_t *flcf;

    u = r->upstream;
    flcf = ((kl_http_fastcgi_ctx_t *) u->input_filter_ctx)->conf;

    if (kl_http_fastcgi_params(r, flcf, &params) != KL_OK) {
        return KL_ERROR;
    }

    /* BEGIN_REQUEST, the PARAMS records, the empty one. */
    nrec = (params.len + KL_HTTP_FASTCGI_RECORD_MAX - 1)
           / KL_HTTP_FASTCGI_RECORD_MAX;
    len = 16 + nrec * 8 + params.len + 7 + 8;

    b = kl_buf_create_temp(r->pool, len);
    if (b == NULL) {
        return KL_ERROR;
    }

    p = kl_http_fastcgi_put_header(b->last, KL_FASTCGI_BEGIN_REQUEST, 8, 0);
    *p++ = 0;
    *p++ = 1; /* FCGI_RESPONDER */
    *p++ = flcf->keep_conn ? 1 : 0;
    kl_memzero(p, 5);
    p += 5;

    padding = 0;

    for (n = 0; n < params.len; n += len) {
        len = kl_min(params.len - n, (size_t) KL_HTTP_FASTCGI_RECORD_MAX);
        padding = (8 - len % 8) % 8;
        p = kl_http_fastcgi_put_header(p, KL_FASTCGI_PARAMS, len,
                                       n + len == params.len ? padding : 0);
        p = kl_cpymem(p, params.data + n, len);
    }

    kl_memzero(p, padding);
    p += padding;
    p = kl_http_fastcgi_put_header(p, KL_FASTCGI_PARAMS, 0, 0);
    b->last = p;

    head = NULL;
    ll = &head;

    if (kl_http_fastcgi_link(r, &ll, b) != KL_OK) {
        return KL_ERROR;
    }

    padding = 0;

    if (flcf->upstream.pass_request_body && r->request_body
        && r->request_body->bufs
        && kl_http_fastcgi_stdin(r, ll, &padding) != KL_OK)
    {
        return KL_ERROR;
    }

    while (*ll) {
        ll = &(*ll)->next;
    }

    if (r->request_body_no_buffering) {
        /* The STDIN records follow as the body comes (body_frame). */
        u->request_bufs = head;
        return KL_OK;
    }

    b = kl_buf_create_temp(r->pool, 16);
    if (b == NULL) {
        return KL_ERROR;
    }

    kl_memzero(b->last, padding);
    b->last =
        kl_http_fastcgi_put_header(b->last + padding, KL_FASTCGI_STDIN, 0, 0);

    if (kl_http_fastcgi_link(r, &ll, b) != KL_OK) {
        return KL_ERROR;
    }

    u->request_bufs = head;

    return KL_OK;
}


/*
 * A piece of an unbuffered body: one STDIN record of at most
 * KL_HTTP_FASTCGI_RECORD_MAX bytes of b, its padding, and at the end the
 * empty record.
 */
kl_int_t
kl_http_fastcgi_body_frame(kl_http_request_t *r, kl_buf_t *b, kl_uint_t last,
                           kl_chain_t **out)
{
    u_char                *p;
    size_t                 size, padding;
    kl_chain_t           **ll;
    kl_http_fastcgi_ctx_t *ctx;

    ctx = r->upstream->input_filter_ctx;
    size = b ? (size_t) kl_min(b->last - b->pos,
                               (off_t) KL_HTTP_FASTCGI_RECORD_MAX)
             : 0;
    ll = out;
    *out = NULL;
    p = ctx->body_tail;

    if (size) {
        padding = (8 - size % 8) % 8;
        kl_http_fastcgi_put_header(ctx->body_head, KL_FASTCGI_STDIN, size,
                                   padding);
        kl_http_upstream_body_link(&ll, &ctx->body_links[0], &ctx->body_bufs[0],
                                   ctx->body_head, ctx->body_head + 8);
        kl_http_upstream_body_link(&ll, &ctx->body_links[1], &ctx->body_bufs[1],
                                   b->pos, b->pos + size);
        b->pos += size;
        kl_memzero(p, padding);
        p += padding;
    }

    last = last && (b == NULL || b->pos == b->last);

    if (last) {
        p = kl_http_fastcgi_put_header(p, KL_FASTCGI_STDIN, 0, 0);
    }

    kl_http_upstream_body_link(&ll, &ctx->body_links[2], &ctx->body_bufs[2],
                               ctx->body_tail, p);

    return last ? KL_DONE : KL_OK;
}


kl_int_t
kl_http_fastcgi_reinit_request(kl_http_request_t *r)
{
    kl_http_upstream_t    *u;
    kl_http_fastcgi_ctx_t *ctx;

    u = r->upstream;
    ctx = u->input_filter_ctx;

    kl_memzero(&ctx->record, sizeof(kl_fastcgi_parse_t));
    kl_memzero(&ctx->parse, sizeof(kl_http_parse_t));
    ctx->decoded = NULL;
    ctx->status = NULL;
    ctx->rest = -1;
    ctx->stdout_done = 0;
    ctx->end_request = 0;

    u->keepalive = 0;

    if (kl_http_upstream_reinit_head(r, u) != KL_OK) {
        return KL_ERROR;
    }

    /*
     * The request again, built anew: the upstream rewinds each buffer to
     * its start and a file to offset 0, and the STDIN records are views
     * of pieces of the body, which that rewinding would not restore.
     */
    return kl_http_fastcgi_create_request(r);
}


/* Is one of fastcgi_catch_stderr's strings in this piece of STDERR? */
static kl_uint_t
kl_http_fastcgi_caught(kl_http_fastcgi_loc_conf_t *flcf, kl_str_t *s)
{
    kl_str_t *c;
    kl_uint_t i;

    for (i = 0; flcf->catch_stderr && i < flcf->catch_stderr->nelts; i++) {
        c = &((kl_str_t *) flcf->catch_stderr->elts)[i];

        if (kl_strnstr(s->data, s->data + s->len, (char *) c->data, c->len)) {
            return 1;
        }
    }

    return 0;
}


/* nginx's message: the text without its trailing newlines and dots. */
static void
kl_http_fastcgi_log_stderr(kl_http_request_t *r, kl_str_t *s)
{
    u_char *e;

    for (e = s->data + s->len; e > s->data; e--) {
        if (e[-1] != '\n' && e[-1] != '\r' && e[-1] != '.' && e[-1] != ' ') {
            break;
        }
    }

    if (e == s->data) {
        return;
    }

    kl_log_error(KL_LOG_ERR, r->connection->log, 0,
                 "FastCGI sent in stderr: \"%*s\"", (size_t) (e - s->data),
                 s->data);
}


/*
 * Decode the records in [pos, last) in place: STDOUT content moved down
 * to pos onwards (*end after it), STDERR logged, END_REQUEST noted.
 * KL_OK, or KL_ERROR (logged) for what is not FastCGI from a responder.
 */
static kl_int_t
kl_http_fastcgi_decode(kl_http_request_t *r, kl_http_fastcgi_ctx_t *ctx,
                       u_char *pos, u_char *last, u_char **end)
{
    u_char             *w;
    kl_int_t            rc;
    kl_buf_t            in;
    kl_str_t            content;
    kl_http_upstream_t *u;

    u = r->upstream;
    w = pos;
    kl_memzero(&in, sizeof(kl_buf_t));
    in.pos = pos;
    in.last = last;

    while (in.pos < in.last) {
        if (ctx->end_request) {
            /* A responder says nothing after END_REQUEST: not reused. */
            kl_log_error(KL_LOG_WARN, r->connection->log, 0,
                         "upstream sent data after END_REQUEST");
            u->keepalive = 0;
            break;
        }

        rc = kl_fastcgi_parse_record(&ctx->record, &in, &content);

        if (rc == KL_AGAIN) {
            break;
        }

        if (rc == KL_FASTCGI_PARSE_INVALID) {
            kl_log_error(KL_LOG_ERR, r->connection->log, 0,
                         "upstream sent unsupported FastCGI protocol version "
                         "or record");
            return KL_ERROR;
        }

        if (ctx->record.type != KL_FASTCGI_STDOUT
            && ctx->record.type != KL_FASTCGI_STDERR
            && ctx->record.type != KL_FASTCGI_END_REQUEST)
        {
            kl_log_error(KL_LOG_ERR, r->connection->log, 0,
                         "upstream sent unexpected FastCGI record: %ui",
                         ctx->record.type);
            return KL_ERROR;
        }

        if (rc == KL_OK) {
            if (ctx->record.type == KL_FASTCGI_STDERR) {
                kl_http_fastcgi_log_stderr(r, &content);

                /* fastcgi_catch_stderr: an invalid response, as nginx */
                if (kl_http_fastcgi_caught(ctx->conf, &content)) {
                    return KL_ERROR;
                }

                continue;
            }

            if (ctx->stdout_done) {
                kl_log_error(KL_LOG_ERR, r->connection->log, 0,
                             "upstream sent STDOUT after its end");
                return KL_ERROR;
            }

            memmove(w, content.data, content.len);
            w += content.len;
            continue;
        }

        /* KL_FASTCGI_RECORD_DONE */

        if (ctx->record.type == KL_FASTCGI_STDOUT
            && ctx->record.content_length == 0) {
            ctx->stdout_done = 1;

        } else if (ctx->record.type == KL_FASTCGI_END_REQUEST) {
            ctx->end_request = 1;
            u->keepalive = ctx->conf->keep_conn ? 1 : 0;
        }
    }

    *end = w;

    return KL_OK;
}


kl_int_t
kl_http_fastcgi_process_header(kl_http_request_t *r)
{
    u_char                *w;
    kl_int_t               rc;
    kl_buf_t              *b, view;
    kl_table_elt_t        *h;
    kl_http_upstream_t    *u;
    kl_http_fastcgi_ctx_t *ctx;

    u = r->upstream;
    ctx = u->input_filter_ctx;
    b = &u->buffer;

    if (ctx->decoded == NULL) {
        ctx->decoded = b->pos;
    }

    /* The raw bytes are those read since the last call. */
    if (kl_http_fastcgi_decode(r, ctx, ctx->decoded, b->last, &w) != KL_OK) {
        return KL_HTTP_UPSTREAM_INVALID_HEADER;
    }

    ctx->decoded = w;
    b->last = w;
    view = *b;

    for (;;) {
        rc = kl_http_parse_header_line(&ctx->parse, &view);
        b->pos = view.pos;

        if (rc == KL_AGAIN) {
            if (ctx->stdout_done || ctx->end_request) {
                kl_log_error(KL_LOG_ERR, r->connection->log, 0,
                             "upstream prematurely closed FastCGI stdout");
                return KL_HTTP_UPSTREAM_INVALID_HEADER;
            }

            return KL_AGAIN;
        }

        if (rc == KL_HTTP_PARSE_HEADER_DONE) {
            break;
        }

        if (rc != KL_OK) {
            kl_log_error(KL_LOG_ERR, r->connection->log, 0,
                         "upstream sent invalid header");
            return KL_HTTP_UPSTREAM_INVALID_HEADER;
        }

        h = kl_http_upstream_push_header(r, u, &ctx->parse);
        if (h == NULL) {
            return KL_ERROR;
        }

        rc = kl_http_upstream_cgi_field(r, u, h, &ctx->status);
        if (rc != KL_OK) {
            return rc;
        }
    }

    return kl_http_upstream_cgi_status(r, u, ctx->status);
}


kl_int_t
kl_http_fastcgi_input_filter_init(kl_http_request_t *r)
{
    kl_http_upstream_t    *u;
    kl_http_fastcgi_ctx_t *ctx;

    u = r->upstream;
    ctx = u->input_filter_ctx;

    ctx->rest = u->headers_in.content_length_n;

    if (ctx->end_request && u->buffer.pos == u->buffer.last) {
        /* All came with the head. */
        u->length = 0;

        if (ctx->rest > 0) {
            kl_log_error(KL_LOG_ERR, r->connection->log, 0,
                         "upstream prematurely closed FastCGI request");
            return KL_ERROR;
        }

        return KL_OK;
    }

    /* Until END_REQUEST: neither a length nor the close. */
    u->length = 1;

    return KL_OK;
}


/*
 * The body bytes of b: the head buffer's are decoded already; any other
 * read is decoded in place. Content-Length, when the responder gave
 * one, bounds the body.
 */
kl_int_t
kl_http_fastcgi_input_filter(kl_http_request_t *r, kl_buf_t *b)
{
    u_char                *w;
    kl_http_upstream_t    *u;
    kl_http_fastcgi_ctx_t *ctx;

    u = r->upstream;
    ctx = u->input_filter_ctx;

    if (b != &u->buffer) {
        if (kl_http_fastcgi_decode(r, ctx, b->pos, b->last, &w) != KL_OK) {
            u->keepalive = 0;
            return KL_ERROR;
        }

        b->last = w;
    }

    if (ctx->rest != -1) {
        if (b->last - b->pos > ctx->rest) {
            kl_log_error(KL_LOG_WARN, r->connection->log, 0,
                         "upstream sent more data than specified in "
                         "\"Content-Length\" header");
            b->last = b->pos + ctx->rest;
        }

        ctx->rest -= b->last - b->pos;
    }

    if (!ctx->end_request) {
        return KL_OK;
    }

    if (ctx->rest > 0) {
        kl_log_error(KL_LOG_ERR, r->connection->log, 0,
                     "upstream prematurely closed FastCGI request");
        u->keepalive = 0;
        return KL_ERROR;
    }

    return KL_DONE;
}
