/*
 * upstream_cgi.c: the part of uwsgi_pass and scgi_pass that is not the
 * wire format of the request: directives' shared setters and merge, the
 * peer of a pass with variables, the request's CGI variables (params,
 * then request fields as HTTP_*, as nginx), and the response.
 *
 * Both peers answer with CGI output, as nginx reads it: an HTTP/1.x
 * status line if the output starts with one, else a Status: field, else
 * 302 with a Location, else 200; then the body, as long as
 * Content-Length says or until the peer closes. Neither protocol can
 * say where a response ends without a length, so, as nginx, the
 * connection is never kept for another request.
 */

#include "upstream_cgi.h"


static kl_int_t kl_http_cgi_eval(kl_http_request_t         *r,
                                 kl_http_cgi_loc_conf_t    *conf,
                                 const kl_http_cgi_proto_t *proto);
static kl_int_t kl_http_cgi_prefix(kl_str_t *url, const char *prefix);
static kl_int_t kl_http_cgi_create_request(kl_http_request_t *r);
static kl_int_t kl_http_cgi_reinit_request(kl_http_request_t *r);
static kl_int_t kl_http_cgi_process_header(kl_http_request_t *r);
static kl_int_t kl_http_cgi_field(kl_http_request_t *r, kl_http_cgi_ctx_t *ctx,
                                  kl_http_upstream_t *u);
static kl_int_t kl_http_cgi_status(kl_http_request_t *r, kl_http_cgi_ctx_t *ctx,
                                   kl_http_upstream_t *u);
static kl_int_t kl_http_cgi_input_filter_init(kl_http_request_t *r);
static kl_int_t kl_http_cgi_input_filter(kl_http_request_t *r, kl_buf_t *b);
static kl_int_t kl_http_cgi_body_frame(kl_http_request_t *r, kl_buf_t *b,
                                       kl_uint_t last, kl_chain_t **out);


/* Response fields the peer means for the server alone (nginx's). */
static kl_str_t kl_http_cgi_hide_default[] = {
    kl_string("status"),
    kl_null_string,
};


kl_int_t
kl_http_cgi_handler(kl_http_request_t *r, kl_http_cgi_loc_conf_t *conf,
                    void *proto_conf, const kl_http_cgi_proto_t *proto)
{
    kl_int_t            rc;
    kl_http_cgi_ctx_t  *ctx;
    kl_http_upstream_t *u;

    if (kl_http_upstream_create(r) != KL_OK) {
        return KL_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx = kl_pcalloc(r->pool, sizeof(kl_http_cgi_ctx_t));
    if (ctx == NULL) {
        return KL_HTTP_INTERNAL_SERVER_ERROR;
    }

    u = r->upstream;
    ctx->conf = conf;
    ctx->proto_conf = proto_conf;
    ctx->proto = proto;
    u->input_filter_ctx = ctx;
    u->conf = &conf->upstream;
    u->create_request = kl_http_cgi_create_request;
    u->reinit_request = kl_http_cgi_reinit_request;
    u->process_header = kl_http_cgi_process_header;
    u->input_filter_init = kl_http_cgi_input_filter_init;
    u->input_filter = kl_http_cgi_input_filter;
    u->buffering = conf->upstream.buffering ? 1 : 0;
    u->schema.data = (u_char *) proto->schema;
    u->schema.len = kl_strlen(proto->schema);

    if (conf->upstream.ssl.enable && conf->pass_value == NULL) {
        u->ssl = 1;
        u->schema.data = (u_char *) proto->tls_prefix;
        u->schema.len = kl_strlen(proto->tls_prefix);
    }

    if (conf->pass_value && kl_http_cgi_eval(r, conf, proto) != KL_OK) {
        return KL_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (!conf->upstream.pass_request_body) {
        rc = kl_http_discard_request_body(r);
        if (rc != KL_OK) {
            return rc;
        }

        r->main->count++;
        kl_http_upstream_init(r);
        return KL_DONE;
    }

    /*
     * nginx's condition: the length goes before the body (CONTENT_LENGTH),
     * so a chunked body is read whole first whatever request_buffering.
     */
    if (!conf->upstream.request_buffering && !r->headers_in.chunked) {
        r->request_body_no_buffering = 1;
        u->body_frame = kl_http_cgi_body_frame;
    }

    rc = kl_http_read_client_request_body(r, kl_http_upstream_init);

    if (rc >= KL_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return KL_DONE;
}


/*
 * X_pass with variables, as nginx's ngx_http_uwsgi_eval: the value,
 * without its schema, names the peer: host:port, an upstream group, or
 * unix:PATH. Errors are logged and answer 500.
 */
static kl_int_t
kl_http_cgi_eval(kl_http_request_t *r, kl_http_cgi_loc_conf_t *conf,
                 const kl_http_cgi_proto_t *proto)
{
    kl_str_t                     url;
    const char                  *err;
    kl_http_upstream_resolved_t *ur;

    if (kl_http_complex_value(r, conf->pass_value, &url) != KL_OK) {
        return KL_ERROR;
    }

    if (kl_http_cgi_prefix(&url, proto->tls_prefix)) {
        if (!conf->upstream.ssl.enable) {
            kl_log_error(KL_LOG_ERR, r->connection->log, 0,
                         "TLS is not supported by this build of kiln: "
                         "\"%s%V\"",
                         proto->tls_prefix, &url);
            return KL_ERROR;
        }

        r->upstream->ssl = 1;
        r->upstream->schema.data = (u_char *) proto->tls_prefix;
        r->upstream->schema.len = kl_strlen(proto->tls_prefix);

    } else {
        (void) kl_http_cgi_prefix(&url, proto->prefix);
    }

    ur = kl_pcalloc(r->pool, sizeof(kl_http_upstream_resolved_t));
    if (ur == NULL) {
        return KL_ERROR;
    }

    if (url.len > 5 && kl_strncasecmp(url.data, (u_char *) "unix:", 5) == 0) {
        if (url.len - 5 >= sizeof(ur->sockaddr.sockaddr_un.sun_path)) {
            kl_log_error(KL_LOG_ERR, r->connection->log, 0,
                         "too long path in the unix domain socket in "
                         "upstream \"%V\"",
                         &url);
            return KL_ERROR;
        }

        ur->sockaddr.sockaddr_un.sun_family = AF_UNIX;
        kl_memcpy(ur->sockaddr.sockaddr_un.sun_path, url.data + 5, url.len - 5);
        ur->socklen = sizeof(struct sockaddr_un);
        ur->host = url;
        ur->name = url;
        r->upstream->resolved = ur;
        return KL_OK;
    }

    if (kl_http_upstream_parse_authority(&url, ur, &err) != KL_OK) {
        kl_log_error(KL_LOG_ERR, r->connection->log, 0, "%s in upstream \"%V\"",
                     err, &url);
        return KL_ERROR;
    }

    if (ur->no_port && ur->socklen) {
        /* nginx's: an address needs a port (a group's name does not) */
        kl_log_error(KL_LOG_ERR, r->connection->log, 0,
                     "no port in upstream \"%V\"", &url);
        return KL_ERROR;
    }

    r->upstream->resolved = ur;

    return KL_OK;
}


/* Whether url starts with prefix (not empty): then it is cut off. */
static kl_int_t
kl_http_cgi_prefix(kl_str_t *url, const char *prefix)
{
    size_t n;

    n = kl_strlen(prefix);

    if (n == 0 || url->len <= n
        || kl_strncasecmp(url->data, (u_char *) prefix, n) != 0)
    {
        return 0;
    }

    url->data += n;
    url->len -= n;

    return 1;
}


char *
kl_http_cgi_pass(kl_conf_t *cf, kl_http_cgi_loc_conf_t *conf,
                 kl_http_handler_pt handler, const kl_http_cgi_proto_t *proto)
{
    kl_str_t                    *value, url;
    kl_http_core_loc_conf_t     *clcf;
    kl_http_upstream_srv_conf_t *us;

    if (conf->upstream.upstream || conf->pass_value) {
        return "is duplicate";
    }

    value = cf->args->elts;
    clcf = kl_http_conf_get_module_loc_conf(cf, kl_http_core_module);
    clcf->handler = handler;

    if (kl_http_script_variables_count(&value[1])) {
        /* checked per request, as nginx: the value is not known yet */
        conf->pass_value = kl_http_compile_value(cf, &value[1]);

        /* the scheme is known per request: a context in case (nginx's) */
        conf->upstream.ssl.enable =
            KL_HTTP_UPSTREAM_SSL && proto->tls_prefix[0] != '\0';

        return conf->pass_value ? KL_CONF_OK : KL_CONF_ERROR;
    }

    url = value[1];

    if (kl_http_cgi_prefix(&url, proto->tls_prefix)) {
        if (!KL_HTTP_UPSTREAM_SSL) {
            return KL_HTTP_CGI_NO_TLS;
        }

        conf->upstream.ssl.enable = 1;

    } else {
        (void) kl_http_cgi_prefix(&url, proto->prefix);
        conf->upstream.ssl.enable = 0;
    }

    us = kl_http_upstream_add(cf, &url, 0);
    if (us == NULL) {
        return KL_CONF_ERROR;
    }

    conf->upstream.upstream = us;

    return KL_CONF_OK;
}


char *
kl_http_cgi_param_slot(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_http_cgi_loc_conf_t *ccf = (void *) ((char *) conf + cmd->offset);

    kl_str_t            *value;
    kl_http_cgi_param_t *prm;

    value = cf->args->elts;

    if (cf->args->nelts == 4
        && (value[3].len != 12
            || kl_strncmp(value[3].data, "if_not_empty", 12) != 0))
    {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0, "invalid parameter \"%V\"",
                          &value[3]);
        return KL_CONF_ERROR;
    }

    if (ccf->params == NULL) {
        ccf->params = kl_array_create(cf->pool, 8, sizeof(kl_http_cgi_param_t));
        if (ccf->params == NULL) {
            return KL_CONF_ERROR;
        }
    }

    prm = kl_array_push(ccf->params);
    if (prm == NULL) {
        return KL_CONF_ERROR;
    }

    prm->key = value[1];
    prm->skip_empty = cf->args->nelts == 4;
    prm->value = kl_http_compile_value(cf, &value[2]);

    return prm->value ? KL_CONF_OK : KL_CONF_ERROR;
}


char *
kl_http_cgi_buffers_slot(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_http_cgi_loc_conf_t *ccf = (void *) ((char *) conf + cmd->offset);

    ssize_t   size;
    kl_int_t  num;
    kl_str_t *value;

    if (ccf->upstream.bufs.num != 0) {
        return "is duplicate";
    }

    value = cf->args->elts;

    num = kl_atoi(value[1].data, value[1].len);
    size = kl_conf_parse_size(&value[2]);

    if (num == KL_ERROR || num == 0 || size == KL_ERROR || size == 0) {
        return "invalid value";
    }

    ccf->upstream.bufs.num = num;
    ccf->upstream.bufs.size = size;

    return KL_CONF_OK;
}


void
kl_http_cgi_conf_init(kl_http_cgi_loc_conf_t *conf)
{
    kl_http_upstream_conf_init(&conf->upstream);
    conf->busy_buffers_size_conf = KL_CONF_UNSET_SIZE;
    conf->pass_request_headers = KL_CONF_UNSET;
}


char *
kl_http_cgi_merge_conf(kl_conf_t *cf, kl_http_cgi_loc_conf_t *conf,
                       kl_http_cgi_loc_conf_t *prev, const char *prefix,
                       const char *dir)
{
    if (kl_http_upstream_merge_conf(cf, &conf->upstream, &prev->upstream,
                                    &conf->busy_buffers_size_conf,
                                    prev->busy_buffers_size_conf, prefix, dir)
        != KL_OK)
    {
        return KL_CONF_ERROR;
    }

    kl_conf_merge_value(conf->pass_request_headers, prev->pass_request_headers,
                        1);

    /* As nginx: a level with params of its own inherits none. */
    if (conf->params == NULL) {
        conf->params = prev->params;
    }

    conf->header_params = kl_http_upstream_header_params(cf, conf->params);
    if (conf->header_params == NULL) {
        return KL_CONF_ERROR;
    }

    if (kl_http_upstream_hide_headers(cf, &conf->upstream, &prev->upstream,
                                      kl_http_cgi_hide_default)
        != KL_OK)
    {
        return KL_CONF_ERROR;
    }

    return KL_CONF_OK;
}


/*
 * A request field passed as HTTP_*? Not when a param HTTP_<NAME> sets
 * it (nginx's rule), nor a field the engine marked invalid (hash 0).
 */
static kl_uint_t
kl_http_cgi_header_passed(kl_http_cgi_loc_conf_t *conf, kl_table_elt_t *h)
{
    u_char    ch;
    size_t    k;
    kl_str_t *hp;
    kl_uint_t i;

    if (h->hash == 0) {
        return 0;
    }

    hp = conf->header_params->elts;

    for (i = 0; i < conf->header_params->nelts; i++) {
        if (hp[i].len != h->key.len) {
            continue;
        }

        for (k = 0; k < h->key.len; k++) {
            ch = kl_tolower(h->key.data[k]);

            if ((ch == '-' ? '_' : ch) != hp[i].data[k]) {
                break;
            }
        }

        if (k == h->key.len) {
            return 0;
        }
    }

    return 1;
}


/* A field's name as a variable: "HTTP_", capitals, '-' as '_'. */
static kl_int_t
kl_http_cgi_field_var(kl_http_request_t *r, kl_table_elt_t *h,
                      kl_http_cgi_var_t *var)
{
    u_char *p, ch;
    size_t  k;

    p = kl_pnalloc(r->pool, 5 + h->key.len);
    if (p == NULL) {
        return KL_ERROR;
    }

    var->key.data = p;
    var->key.len = 5 + h->key.len;
    p = kl_cpymem(p, "HTTP_", 5);

    for (k = 0; k < h->key.len; k++) {
        ch = h->key.data[k];
        *p++ = (ch == '-') ? '_' : kl_toupper(ch);
    }

    var->value = h->value;

    return KL_OK;
}


/* The request's variables: the params, then the request's fields. */
static kl_int_t
kl_http_cgi_vars(kl_http_request_t *r, kl_http_cgi_loc_conf_t *conf,
                 kl_http_cgi_var_t **varsp, kl_uint_t *nvarsp)
{
    kl_uint_t            i, n, nvars;
    kl_list_part_t      *part;
    kl_table_elt_t      *h;
    kl_http_cgi_var_t   *vars;
    kl_http_cgi_param_t *prm;

    n = conf->params ? conf->params->nelts : 0;
    prm = n ? conf->params->elts : NULL;
    nvars = n;

    for (part = &r->headers_in.headers.part; part; part = part->next) {
        nvars += part->nelts;
    }

    vars = kl_palloc(r->pool, (nvars ? nvars : 1) * sizeof(kl_http_cgi_var_t));
    if (vars == NULL) {
        return KL_ERROR;
    }

    nvars = 0;

    for (i = 0; i < n; i++) {
        if (kl_http_complex_value(r, prm[i].value, &vars[nvars].value) != KL_OK)
        {
            return KL_ERROR;
        }

        if (vars[nvars].value.len == 0 && prm[i].skip_empty) {
            continue;
        }

        vars[nvars++].key = prm[i].key;
    }

    part = conf->pass_request_headers ? &r->headers_in.headers.part : NULL;

    for (/* void */; part; part = part->next) {
        h = part->elts;

        for (i = 0; i < part->nelts; i++) {
            if (!kl_http_cgi_header_passed(conf, &h[i])) {
                continue;
            }

            if (kl_http_cgi_field_var(r, &h[i], &vars[nvars]) != KL_OK) {
                return KL_ERROR;
            }

            nvars++;
        }
    }

    *varsp = vars;
    *nvarsp = nvars;

    return KL_OK;
}


static kl_int_t
kl_http_cgi_create_request(kl_http_request_t *r)
{
    kl_uint_t          nvars;
    kl_http_cgi_ctx_t *ctx;
    kl_http_cgi_var_t *vars;

    ctx = r->upstream->input_filter_ctx;

    if (kl_http_cgi_vars(r, ctx->conf, &vars, &nvars) != KL_OK) {
        return KL_ERROR;
    }

    return ctx->proto->create(r, vars, nvars);
}


static kl_int_t
kl_http_cgi_reinit_request(kl_http_request_t *r)
{
    kl_http_cgi_ctx_t  *ctx;
    kl_http_upstream_t *u;

    u = r->upstream;
    ctx = u->input_filter_ctx;

    kl_memzero(&ctx->head, sizeof(kl_http_cgi_head_t));
    ctx->status_field = NULL;

    u->keepalive = 0;

    if (kl_http_upstream_reinit_head(r, u) != KL_OK) {
        return KL_ERROR;
    }

    /* Built anew: the body's views are of pieces that rewinding would
     * not restore, and the variables may have changed. */
    return kl_http_cgi_create_request(r);
}


/*
 * The head (cgi_parse.c): a status line if the output starts with one
 * (uWSGI's apps send one), then fields; the status is the line's, else
 * the Status field's, else 302 with a Location, else 200, as nginx.
 */
static kl_int_t
kl_http_cgi_process_header(kl_http_request_t *r)
{
    kl_int_t            rc;
    kl_http_cgi_ctx_t  *ctx;
    kl_http_upstream_t *u;

    u = r->upstream;
    ctx = u->input_filter_ctx;

    for (;;) {
        rc = kl_http_cgi_parse_head(&ctx->head, &u->buffer);

        if (rc == KL_AGAIN) {
            return KL_AGAIN;
        }

        if (rc == KL_HTTP_PARSE_HEADER_DONE) {
            return kl_http_cgi_status(r, ctx, u);
        }

        if (rc != KL_OK) {
            kl_log_error(KL_LOG_ERR, r->connection->log, 0,
                         "upstream sent invalid header");
            return KL_HTTP_UPSTREAM_INVALID_HEADER;
        }

        rc = kl_http_cgi_field(r, ctx, u);

        if (rc != KL_OK) {
            return rc;
        }
    }
}


/* The field just read, kept, and noted if it says something. */
static kl_int_t
kl_http_cgi_field(kl_http_request_t *r, kl_http_cgi_ctx_t *ctx,
                  kl_http_upstream_t *u)
{
    kl_table_elt_t *h;

    h = kl_http_upstream_push_header(r, u, &ctx->head.parse);
    if (h == NULL) {
        return KL_ERROR;
    }

    if (h->key.len == 17
        && kl_strncmp(h->lowcase_key, "transfer-encoding", 17) == 0)
    {
        /* No framing of its own: the body ends at the close. */
        kl_log_error(KL_LOG_ERR, r->connection->log, 0,
                     "upstream sent \"Transfer-Encoding\" header: \"%V\"",
                     &h->value);
        return KL_HTTP_UPSTREAM_INVALID_HEADER;
    }

    return kl_http_upstream_cgi_field(r, u, h, &ctx->status_field);
}


/* The head is read: its status. */
static kl_int_t
kl_http_cgi_status(kl_http_request_t *r, kl_http_cgi_ctx_t *ctx,
                   kl_http_upstream_t *u)
{
    kl_http_status_line_t *sl;

    sl = &ctx->head.status;

    if (sl->code) {
        /* The status line's: it wins over a Status field, as nginx. */
        u->headers_in.status_n = sl->code;
        u->headers_in.status_line.data = sl->start + 9;
        u->headers_in.status_line.len = sl->end - sl->start - 9;
        return KL_OK;
    }

    return kl_http_upstream_cgi_status(r, u, ctx->status_field);
}


static kl_int_t
kl_http_cgi_input_filter_init(kl_http_request_t *r)
{
    kl_http_upstream_t *u;

    u = r->upstream;
    u->keepalive = 0;

    if (u->headers_in.status_n == KL_HTTP_NO_CONTENT
        || u->headers_in.status_n == KL_HTTP_NOT_MODIFIED)
    {
        u->length = 0;

    } else {
        u->length = u->headers_in.content_length_n;
    }

    return KL_OK;
}


/* The body as it comes, cut at Content-Length when the peer gave one. */
static kl_int_t
kl_http_cgi_input_filter(kl_http_request_t *r, kl_buf_t *b)
{
    kl_http_upstream_t *u;

    u = r->upstream;

    if (u->length == -1) {
        return KL_OK;
    }

    if (b->last - b->pos > u->length) {
        kl_log_error(KL_LOG_WARN, r->connection->log, 0,
                     "upstream sent more data than specified in "
                     "\"Content-Length\" header");
        b->last = b->pos + u->length;
    }

    u->length -= b->last - b->pos;

    return u->length == 0 ? KL_DONE : KL_OK;
}


kl_int_t
kl_http_cgi_body(kl_http_request_t *r, kl_chain_t **ll)
{
    kl_buf_t          *fb;
    kl_chain_t        *cl, *in;
    kl_http_cgi_ctx_t *ctx;

    ctx = r->upstream->input_filter_ctx;

    if (!ctx->conf->upstream.pass_request_body || r->request_body == NULL
        || r->request_body_no_buffering)
    {
        /* No body, or it follows as it comes (body_frame). */
        return KL_OK;
    }

    for (in = r->request_body->bufs; in; in = in->next) {
        fb = kl_buf_calloc(r->pool);
        cl = kl_chain_alloc(r->pool);
        if (fb == NULL || cl == NULL) {
            return KL_ERROR;
        }

        /* A copy: a retry rewinds it, the client's stays as read. */
        *fb = *in->buf;
        fb->last_buf = 0;
        fb->flush = 0;
        cl->buf = fb;
        cl->next = NULL;
        *ll = cl;
        ll = &cl->next;
    }

    return KL_OK;
}


/* An unbuffered body goes as it comes: no framing, its end unmarked. */
static kl_int_t
kl_http_cgi_body_frame(kl_http_request_t *r, kl_buf_t *b, kl_uint_t last,
                       kl_chain_t **out)
{
    kl_chain_t       **ll;
    kl_http_cgi_ctx_t *ctx;

    ctx = r->upstream->input_filter_ctx;
    ll = out;
    *out = NULL;

    if (b && b->pos < b->last) {
        kl_http_upstream_body_link(&ll, &ctx->body_link, &ctx->body_buf, b->pos,
                                   b->last);
        b->pos = b->last;
    }

    return last ? KL_DONE : KL_OK;
}
