/*
 * proxy_http.c: the HTTP/1.x side of proxy_pass: the request line and
 * fields sent to the peer (the URI rules, proxy_set_header), the response
 * head read back (the status line by upstream_parse.c, the fields by the
 * request parser's kl_http_parse_header_line), the body's framing undone
 * in place (Content-Length, chunked, or to the close), and proxy_redirect.
 */

#include "kl_http.h"
#include "upstream.h"
#include "proxy_http.h"


static kl_int_t  kl_http_proxy_uri(kl_http_request_t        *r,
                                   kl_http_proxy_loc_conf_t *plcf,
                                   kl_str_t                 *uri);
static kl_uint_t kl_http_proxy_skipped(kl_http_proxy_loc_conf_t *plcf,
                                       kl_table_elt_t           *h);
static kl_uint_t kl_http_proxy_next_field(kl_http_request_t        *r,
                                          kl_http_proxy_loc_conf_t *plcf,
                                          kl_list_part_t **part, kl_uint_t *i,
                                          kl_table_elt_t **h);
static kl_uint_t kl_http_proxy_has_close(kl_str_t *value);
static kl_int_t  kl_http_proxy_set_values(kl_http_request_t        *r,
                                          kl_http_proxy_loc_conf_t *plcf,
                                          kl_str_t **valuesp, size_t *len);
static u_char   *kl_http_proxy_put_framing(kl_http_request_t        *r,
                                           kl_http_proxy_loc_conf_t *plcf,
                                           u_char *p, u_char *end, kl_uint_t body,
                                           off_t body_len, kl_str_t *set_body);
static kl_buf_t *kl_http_proxy_head(kl_http_request_t        *r,
                                    kl_http_proxy_loc_conf_t *plcf,
                                    kl_str_t *method, kl_uint_t body,
                                    off_t body_len, kl_str_t *set_body);
static kl_int_t  kl_http_proxy_link_body(kl_http_request_t        *r,
                                         kl_http_proxy_loc_conf_t *plcf,
                                         kl_chain_t **ll, kl_str_t *set_body,
                                         off_t body_len);
static kl_int_t  kl_http_proxy_rewrite(kl_http_request_t *r, kl_table_elt_t *h,
                                       size_t prefix, size_t cut,
                                       kl_str_t *replacement);


/* Request fields the proxy replaces or drops (nginx's defaults). */
static kl_str_t kl_http_proxy_skip_in[] = {
    kl_string("keep-alive"),
    kl_string("te"),
    kl_string("expect"),
    kl_string("upgrade"),
    kl_string("transfer-encoding"),
    kl_string("content-length"),
    kl_null_string,
};


/* The URI sent: the location's prefix replaced by proxy_pass's URI. */
static kl_int_t
kl_http_proxy_uri(kl_http_request_t *r, kl_http_proxy_loc_conf_t *plcf,
                  kl_str_t *uri)
{
    u_char              *p, *start;
    size_t               loc_len, len, esc;
    kl_str_t             rest;
    kl_http_proxy_ctx_t *ctx;

    ctx = r->upstream->input_filter_ctx;

    if (plcf->url_value && ctx->uri.len) {
        /* nginx: an evaluated URI part replaces the request's whole */
        *uri = ctx->uri;
        return KL_OK;
    }

    if (!plcf->has_uri) {
        if (r->valid_unparsed_uri) {
            *uri = r->unparsed_uri;
            return KL_OK;
        }

        rest = r->uri;
        kl_str_null(uri);

    } else {
        loc_len = plcf->location.len;

        if (r->uri.len < loc_len) {
            loc_len = 0;
        }

        rest.data = r->uri.data + loc_len;
        rest.len = r->uri.len - loc_len;
        *uri = plcf->uri;
    }

    esc = kl_escape_uri(NULL, rest.data, rest.len, KL_ESCAPE_URI);
    len = uri->len + rest.len + esc + 1 + r->args.len;

    p = kl_pnalloc(r->pool, len);
    if (p == NULL) {
        return KL_ERROR;
    }

    start = p;

    if (uri->len) {
        p = kl_cpymem(p, uri->data, uri->len);
    }

    if (esc) {
        kl_escape_uri(p, rest.data, rest.len, KL_ESCAPE_URI);
        p += rest.len + esc;

    } else {
        p = kl_cpymem(p, rest.data, rest.len);
    }

    if (r->args.len) {
        *p++ = '?';
        p = kl_cpymem(p, r->args.data, r->args.len);
    }

    uri->data = start;
    uri->len = p - start;

    return KL_OK;
}


static kl_uint_t
kl_http_proxy_skipped(kl_http_proxy_loc_conf_t *plcf, kl_table_elt_t *h)
{
    kl_str_t               *s;
    kl_uint_t               i;
    kl_http_proxy_header_t *sh;

    for (s = kl_http_proxy_skip_in; s->len; s++) {
        if (s->len == h->key.len
            && kl_strncasecmp(h->key.data, s->data, s->len) == 0) {
            return 1;
        }
    }

    /* A field proxy_set_header sets replaces the client's. */
    sh = plcf->set_headers->elts;

    for (i = 0; i < plcf->set_headers->nelts; i++) {
        if (sh[i].key.len == h->key.len
            && kl_strncasecmp(h->key.data, sh[i].key.data, h->key.len) == 0)
        {
            return 1;
        }
    }

    return 0;
}


/* The client's fields passed on, and their bytes, or NULL for none. */
static kl_uint_t
kl_http_proxy_next_field(kl_http_request_t *r, kl_http_proxy_loc_conf_t *plcf,
                         kl_list_part_t **part, kl_uint_t *i,
                         kl_table_elt_t **h)
{
    kl_table_elt_t *elts;

    if (!plcf->pass_request_headers) {
        return 0;
    }

    if (*part == NULL) {
        *part = &r->headers_in.headers.part;
        *i = 0;

    } else {
        (*i)++;
    }

    for (;;) {
        if (*i >= (*part)->nelts) {
            if ((*part)->next == NULL) {
                return 0;
            }

            *part = (*part)->next;
            *i = 0;
            continue;
        }

        elts = (*part)->elts;

        if (elts[*i].hash && !kl_http_proxy_skipped(plcf, &elts[*i])) {
            *h = &elts[*i];
            return 1;
        }

        (*i)++;
    }
}


/*
 * proxy_set_header's values, evaluated once: their length, and that of the
 * client's fields passed on, are added to *len (an empty value drops the
 * field, as in nginx).
 */
static kl_int_t
kl_http_proxy_set_values(kl_http_request_t *r, kl_http_proxy_loc_conf_t *plcf,
                         kl_str_t **valuesp, size_t *len)
{
    kl_str_t               *values;
    kl_uint_t               i, n;
    kl_list_part_t         *part;
    kl_table_elt_t         *h;
    kl_http_proxy_header_t *sh;

    sh = plcf->set_headers->elts;
    n = plcf->set_headers->nelts;

    values = kl_palloc(r->pool, (n ? n : 1) * sizeof(kl_str_t));
    if (values == NULL) {
        return KL_ERROR;
    }

    for (i = 0; i < n; i++) {
        if (kl_http_complex_value(r, sh[i].value, &values[i]) != KL_OK) {
            return KL_ERROR;
        }

        if (values[i].len) {
            *len += sh[i].key.len + 2 + values[i].len + 2;
        }
    }

    part = NULL;

    while (kl_http_proxy_next_field(r, plcf, &part, &i, &h)) {
        *len += h->key.len + 2 + h->value.len + 2;
    }

    *valuesp = values;

    return KL_OK;
}


/* One "name: value" line: inline, it is called per field sent. */
static inline u_char *
kl_http_proxy_put_field(u_char *p, kl_str_t *key, kl_str_t *value)
{
    p = kl_cpymem(p, key->data, key->len);
    *p++ = ':';
    *p++ = ' ';
    p = kl_cpymem(p, value->data, value->len);
    *p++ = '\r';
    *p++ = '\n';

    return p;
}


/*
 * The body's framing field: the client's own when the body goes on as it
 * comes, else the length of what was read, or of proxy_set_body's.
 */
static u_char *
kl_http_proxy_put_framing(kl_http_request_t *r, kl_http_proxy_loc_conf_t *plcf,
                          u_char *p, u_char *end, kl_uint_t body,
                          off_t body_len, kl_str_t *set_body)
{
    if (body && r->request_body_no_buffering) {
        return r->headers_in.chunked
                   ? kl_cpymem(p, "Transfer-Encoding: chunked\r\n",
                               sizeof("Transfer-Encoding: chunked\r\n") - 1)
                   : kl_slprintf(p, end, "Content-Length: %O\r\n",
                                 r->headers_in.content_length_n);
    }

    if (body) {
        return kl_slprintf(p, end, "Content-Length: %O\r\n", body_len);
    }

    if (plcf->body) {
        return kl_slprintf(p, end, "Content-Length: %uz\r\n", set_body->len);
    }

    return p;
}


/* The head: request line, proxy_set_header's fields, the framing, then
 * the client's fields not replaced or dropped. */
static kl_buf_t *
kl_http_proxy_head(kl_http_request_t *r, kl_http_proxy_loc_conf_t *plcf,
                   kl_str_t *method, kl_uint_t body, off_t body_len,
                   kl_str_t *set_body)
{
    u_char                 *p;
    size_t                  len;
    kl_buf_t               *b;
    kl_str_t               *values, *uri;
    kl_uint_t               i, n;
    kl_list_part_t         *part;
    kl_table_elt_t         *h;
    kl_http_proxy_header_t *sh;

    uri = &r->upstream->uri;

    len = method->len + 1 + uri->len + sizeof(" HTTP/1.1\r\n") - 1
          + sizeof("Content-Length: \r\n") - 1 + KL_INT_T_LEN
          + sizeof("Transfer-Encoding: chunked\r\n") - 1 + sizeof("\r\n") - 1;

    if (kl_http_proxy_set_values(r, plcf, &values, &len) != KL_OK) {
        return NULL;
    }

    b = kl_buf_create_temp(r->pool, len);
    if (b == NULL) {
        return NULL;
    }

    p = b->last;
    p = kl_cpymem(p, method->data, method->len);
    *p++ = ' ';
    p = kl_cpymem(p, uri->data, uri->len);
    p = kl_slprintf(p, b->end, " HTTP/1.%ui\r\n",
                    plcf->http_version == KL_HTTP_VERSION_11 ? 1 : 0);

    sh = plcf->set_headers->elts;
    n = plcf->set_headers->nelts;

    for (i = 0; i < n; i++) {
        if (values[i].len) {
            p = kl_http_proxy_put_field(p, &sh[i].key, &values[i]);
        }
    }

    p = kl_http_proxy_put_framing(r, plcf, p, b->end, body, body_len, set_body);

    part = NULL;

    while (kl_http_proxy_next_field(r, plcf, &part, &i, &h)) {
        p = kl_http_proxy_put_field(p, &h->key, &h->value);
    }

    *p++ = '\r';
    *p++ = '\n';
    b->last = p;

    return b;
}


/*
 * The body behind the head: proxy_set_body's value, or views of the
 * client's buffers read (copies: a retry rewinds them, the client's stay
 * as read).
 */
static kl_int_t
kl_http_proxy_link_body(kl_http_request_t *r, kl_http_proxy_loc_conf_t *plcf,
                        kl_chain_t **ll, kl_str_t *set_body, off_t body_len)
{
    kl_buf_t   *fb;
    kl_chain_t *cl, *in;

    if (plcf->body && set_body->len) {
        fb = kl_buf_calloc(r->pool);
        cl = kl_chain_alloc(r->pool);
        if (fb == NULL || cl == NULL) {
            return KL_ERROR;
        }

        fb->pos = set_body->data;
        fb->last = set_body->data + set_body->len;
        fb->start = fb->pos;
        fb->end = fb->last;
        fb->memory = 1;
        cl->buf = fb;
        *ll = cl;
        ll = &cl->next;
    }

    if (body_len) {
        for (in = r->request_body->bufs; in; in = in->next) {
            fb = kl_buf_calloc(r->pool);
            cl = kl_chain_alloc(r->pool);
            if (fb == NULL || cl == NULL) {
                return KL_ERROR;
            }

            *fb = *in->buf;
            fb->last_buf = 0;
            cl->buf = fb;
            *ll = cl;
            ll = &cl->next;
        }
    }

    return KL_OK;
}


kl_int_t
kl_http_proxy_create_request(kl_http_request_t *r)
{
    off_t                     body_len;
    kl_buf_t                 *b;
    kl_str_t                  uri, method, set_body;
    kl_uint_t                 body;
    kl_chain_t               *cl, *in;
    kl_http_upstream_t       *u;
    kl_http_proxy_loc_conf_t *plcf;

    u = r->upstream;
    plcf = ((kl_http_proxy_ctx_t *) r->upstream->input_filter_ctx)->conf;

    if (kl_http_proxy_uri(r, plcf, &uri) != KL_OK) {
        return KL_ERROR;
    }

    u->uri = uri;

    body_len = 0;
    body = plcf->upstream.pass_request_body
           && (r->headers_in.content_length_n >= 0 || r->headers_in.chunked);

    /* proxy_set_body: this is the body sent, the client's is not. */
    if (plcf->body) {
        if (kl_http_complex_value(r, plcf->body, &set_body) != KL_OK) {
            return KL_ERROR;
        }

        body = 0;
    }

    if (body && r->request_body) {
        for (in = r->request_body->bufs; in; in = in->next) {
            body_len += kl_buf_size(in->buf);
        }
    }

    method = r->method_name;

    if (plcf->method
        && kl_http_complex_value(r, plcf->method, &method) != KL_OK) {
        return KL_ERROR;
    }

    ((kl_http_proxy_ctx_t *) u->input_filter_ctx)->head =
        method.len == 4 && kl_strncmp(method.data, "HEAD", 4) == 0;

    b = kl_http_proxy_head(r, plcf, &method, body, body_len, &set_body);
    if (b == NULL) {
        return KL_ERROR;
    }

    cl = kl_chain_alloc(r->pool);
    if (cl == NULL) {
        return KL_ERROR;
    }

    cl->buf = b;
    u->request_bufs = cl;

    return kl_http_proxy_link_body(r, plcf, &cl->next, &set_body, body_len);
}


/*
 * A piece of an unbuffered body: as it is with Content-Length, or one
 * chunk (the client's chunks were decoded; pieces are chunked again).
 */
kl_int_t
kl_http_proxy_body_frame(kl_http_request_t *r, kl_buf_t *b, kl_uint_t last,
                         kl_chain_t **out)
{
    u_char              *p;
    off_t                size;
    kl_chain_t         **ll;
    kl_http_proxy_ctx_t *ctx;

    static u_char end[] = "\r\n0\r\n\r\n";

    ctx = r->upstream->input_filter_ctx;
    size = b ? b->last - b->pos : 0;
    ll = out;
    *out = NULL;

    if (size && r->headers_in.chunked) {
        p = kl_slprintf(ctx->body_chunk,
                        ctx->body_chunk + sizeof(ctx->body_chunk), "%xO\r\n",
                        size);
        kl_http_upstream_body_link(&ll, &ctx->body_links[0], &ctx->body_bufs[0],
                                   ctx->body_chunk, p);
    }

    if (size) {
        kl_http_upstream_body_link(&ll, &ctx->body_links[1], &ctx->body_bufs[1],
                                   b->pos, b->last);
        b->pos = b->last;
    }

    if (r->headers_in.chunked) {
        /* The chunk's CRLF; at the end, the last chunk after it. */
        p = size ? end : end + 2;
        kl_http_upstream_body_link(&ll, &ctx->body_links[2], &ctx->body_bufs[2],
                                   p, last ? end + sizeof(end) - 1 : end + 2);
    }

    return last ? KL_DONE : KL_OK;
}


kl_int_t
kl_http_proxy_reinit_request(kl_http_request_t *r)
{
    kl_uint_t                 head;
    kl_http_upstream_t       *u;
    kl_http_proxy_ctx_t      *ctx;
    kl_http_proxy_loc_conf_t *plcf;

    u = r->upstream;
    ctx = r->upstream->input_filter_ctx;

    /* A fresh parse of the next peer's answer; the request is the same. */
    plcf = ctx->conf;
    head = ctx->head;
    kl_memzero(ctx, sizeof(kl_http_proxy_ctx_t));
    ctx->conf = plcf;
    ctx->head = head;

    return kl_http_upstream_reinit_head(r, u);
}


kl_int_t
kl_http_proxy_process_header(kl_http_request_t *r)
{
    off_t                n;
    kl_int_t             rc;
    kl_str_t            *name, *value;
    kl_table_elt_t      *h;
    kl_http_upstream_t  *u;
    kl_http_proxy_ctx_t *ctx;

    u = r->upstream;
    ctx = r->upstream->input_filter_ctx;

again:

    if (ctx->head_state == 0) {
        rc = kl_http_parse_status_line(&ctx->status, &u->buffer);

        if (rc == KL_AGAIN) {
            return KL_AGAIN;
        }

        if (rc != KL_OK) {
            kl_log_error(KL_LOG_ERR, r->connection->log, 0,
                         "upstream sent no valid HTTP/1.0 header");
            return KL_HTTP_UPSTREAM_INVALID_HEADER;
        }

        u->headers_in.status_n = ctx->status.code;
        u->headers_in.status_line.data = ctx->status.start + 9;
        u->headers_in.status_line.len = ctx->status.end - ctx->status.start - 9;
        ctx->head_state = 1;

        if (ctx->status.http_version < KL_HTTP_VERSION_11) {
            u->headers_in.connection_close = 1;
        }
    }

    for (;;) {
        rc = kl_http_parse_header_line(&ctx->parse, &u->buffer);

        if (rc == KL_AGAIN) {
            return KL_AGAIN;
        }

        if (rc == KL_HTTP_PARSE_HEADER_DONE) {
            if (u->headers_in.chunked && u->headers_in.content_length_n != -1) {
                /* Framing two ways: smuggling (RFC 9112 6.1), refused. */
                kl_log_error(KL_LOG_ERR, r->connection->log, 0,
                             "upstream sent \"Content-Length\" and "
                             "\"Transfer-Encoding\" headers at the same "
                             "time");
                return KL_HTTP_UPSTREAM_INVALID_HEADER;
            }

            if (u->headers_in.status_n < 200 && u->headers_in.status_n != 101) {
                /* An interim answer (100, 103): the final one follows. */
                if (kl_http_proxy_reinit_request(r) != KL_OK) {
                    return KL_ERROR;
                }

                goto again;
            }

            return KL_OK;
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

        name = &h->key;
        value = &h->value;

        if (name->len == 14
            && kl_strncasecmp(h->lowcase_key, (u_char *) "content-length", 14)
                   == 0)
        {
            n = kl_atoof(value->data, value->len);

            /* RFC 9112 6.3: repeated values must agree, as in requests. */
            if (n == KL_ERROR
                || (u->headers_in.content_length_n != -1
                    && u->headers_in.content_length_n != n))
            {
                kl_log_error(KL_LOG_ERR, r->connection->log, 0,
                             "upstream sent invalid \"Content-Length\" "
                             "header: \"%V: %V\"",
                             name, value);
                return KL_HTTP_UPSTREAM_INVALID_HEADER;
            }

            u->headers_in.content_length_n = n;

        } else if (name->len == 17
                   && kl_strncasecmp(h->lowcase_key,
                                     (u_char *) "transfer-encoding", 17)
                          == 0)
        {
            if (value->len != 7
                || kl_strncasecmp(value->data, (u_char *) "chunked", 7) != 0)
            {
                kl_log_error(KL_LOG_ERR, r->connection->log, 0,
                             "upstream sent unknown \"Transfer-Encoding\": "
                             "\"%V\"",
                             value);
                return KL_HTTP_UPSTREAM_INVALID_HEADER;
            }

            u->headers_in.chunked = 1;

        } else if (name->len == 10
                   && kl_strncasecmp(h->lowcase_key, (u_char *) "connection",
                                     10)
                          == 0)
        {
            if (kl_http_proxy_has_close(value)) {
                u->headers_in.connection_close = 1;
            }

        } else if (name->len == 8
                   && kl_strncasecmp(h->lowcase_key, (u_char *) "location", 8)
                          == 0)
        {
            u->headers_in.location = h;

        } else if (name->len == 7
                   && kl_strncasecmp(h->lowcase_key, (u_char *) "refresh", 7)
                          == 0)
        {
            u->headers_in.refresh = h;
        }
    }
}


static kl_uint_t
kl_http_proxy_has_close(kl_str_t *value)
{
    u_char  *pos;
    kl_str_t item;

    pos = value->data;

    while (kl_http_list_next(&pos, value->data + value->len, &item) == KL_OK) {
        if (item.len == 5
            && kl_strncasecmp(item.data, (u_char *) "close", 5) == 0) {
            return 1;
        }
    }

    return 0;
}


kl_int_t
kl_http_proxy_input_filter_init(kl_http_request_t *r)
{
    kl_http_upstream_t       *u;
    kl_http_proxy_loc_conf_t *plcf;

    u = r->upstream;
    plcf = ((kl_http_proxy_ctx_t *) r->upstream->input_filter_ctx)->conf;

    u->keepalive = plcf->http_version == KL_HTTP_VERSION_11
                   && !u->headers_in.connection_close;

    if (u->headers_in.status_n == KL_HTTP_NO_CONTENT
        || u->headers_in.status_n == KL_HTTP_NOT_MODIFIED
        || u->headers_in.status_n < 200
        || ((kl_http_proxy_ctx_t *) u->input_filter_ctx)->head)
    {
        u->length = 0;
        r->headers_out.content_length_n = u->headers_in.content_length_n;

    } else if (u->headers_in.chunked) {
        /* Framed again by the engine (chunked or to the close). */
        u->length = 1;
        r->headers_out.content_length_n = -1;

    } else if (u->headers_in.content_length_n >= 0) {
        u->length = u->headers_in.content_length_n;

    } else {
        u->length = -1;
        u->keepalive = 0;
    }

    return KL_OK;
}


/* Undo the peer's framing of [b->pos, b->last) in place. */
kl_int_t
kl_http_proxy_input_filter(kl_http_request_t *r, kl_buf_t *b)
{
    off_t                n;
    u_char              *w, *start;
    kl_int_t             rc;
    kl_http_upstream_t  *u;
    kl_http_proxy_ctx_t *ctx;

    u = r->upstream;

    if (!u->headers_in.chunked) {
        if (u->length == -1) {
            return KL_OK;
        }

        if (b->last - b->pos > u->length) {
            kl_log_error(KL_LOG_WARN, r->connection->log, 0,
                         "upstream sent more data than specified in "
                         "\"Content-Length\" header");
            b->last = b->pos + u->length;
            u->keepalive = 0;
        }

        u->length -= b->last - b->pos;

        return u->length == 0 ? KL_DONE : KL_OK;
    }

    ctx = r->upstream->input_filter_ctx;
    start = b->pos;
    w = b->pos;

    for (;;) {
        rc = kl_http_parse_chunked(&ctx->chunked, b);

        if (rc == KL_OK) {
            n = kl_min(ctx->chunked.size, (off_t) (b->last - b->pos));
            memmove(w, b->pos, (size_t) n);
            w += n;
            b->pos += n;
            ctx->chunked.size -= n;
            continue;
        }

        if (rc == KL_DONE || rc == KL_AGAIN) {
            if (rc == KL_DONE && b->pos < b->last) {
                kl_log_error(KL_LOG_WARN, r->connection->log, 0,
                             "upstream sent data after final chunk");
                u->keepalive = 0;
            }

            b->pos = start;
            b->last = w;
            break;
        }

        kl_log_error(KL_LOG_ERR, r->connection->log, 0,
                     "upstream sent invalid chunked response");
        return KL_ERROR;
    }

    return rc == KL_DONE ? KL_DONE : KL_OK;
}


/* Replace the cut bytes of h's value after prefix by replacement. */
static kl_int_t
kl_http_proxy_rewrite(kl_http_request_t *r, kl_table_elt_t *h, size_t prefix,
                      size_t cut, kl_str_t *replacement)
{
    u_char *p;
    size_t  len;

    len = h->value.len - cut + replacement->len;

    p = kl_pnalloc(r->pool, len);
    if (p == NULL) {
        return KL_ERROR;
    }

    kl_memcpy(p, h->value.data, prefix);
    if (replacement->len) {
        kl_memcpy(p + prefix, replacement->data, replacement->len);
    }
    kl_memcpy(p + prefix + replacement->len, h->value.data + prefix + cut,
              h->value.len - prefix - cut);

    h->value.len = len;
    h->value.data = p;

    return KL_OK;
}


kl_int_t
kl_http_proxy_rewrite_redirect(kl_http_request_t *r, kl_table_elt_t *h,
                               size_t prefix)
{
    size_t                    len;
    kl_int_t                  rc;
    kl_str_t                  pattern, replacement;
    kl_uint_t                 i;
    kl_http_proxy_redirect_t *pr;
    kl_http_proxy_loc_conf_t *plcf;

    plcf = ((kl_http_proxy_ctx_t *) r->upstream->input_filter_ctx)->conf;
    pr = plcf->redirects->elts;
    len = h->value.len - prefix;

    for (i = 0; i < plcf->redirects->nelts; i++) {
        if (pr[i].regex) {
            pattern.data = h->value.data + prefix;
            pattern.len = len;

            rc = kl_http_regex_exec(r, pr[i].regex, &pattern);

            if (rc == KL_DECLINED) {
                continue;
            }

            if (rc != KL_OK) {
                return KL_ERROR;
            }

        } else {
            if (kl_http_complex_value(r, pr[i].pattern, &pattern) != KL_OK) {
                return KL_ERROR;
            }

            if (pattern.len > len
                || kl_strncmp(h->value.data + prefix, pattern.data, pattern.len)
                       != 0)
            {
                continue;
            }
        }

        /* A regex's match replaces the whole URL, as nginx; a prefix only
         * itself. The replacement may use the regex's captures. */
        if (kl_http_complex_value(r, pr[i].replacement, &replacement) != KL_OK)
        {
            return KL_ERROR;
        }

        return kl_http_proxy_rewrite(r, h, prefix, pattern.len, &replacement);
    }

    return KL_DECLINED;
}


kl_int_t
kl_http_proxy_rewrite_cookie(kl_http_request_t *r, kl_table_elt_t *h)
{
    kl_http_proxy_loc_conf_t *plcf;

    plcf = ((kl_http_proxy_ctx_t *) r->upstream->input_filter_ctx)->conf;

    return kl_http_proxy_cookie_rewrite(r, h, plcf->cookie_domains,
                                        plcf->cookie_paths, plcf->cookie_flags);
}
