/*
 * proxy.c: proxy_pass to an HTTP/1.x peer: the request line and fields
 * sent, the response head parsed (status line by upstream_parse.c,
 * fields by the request parser's kl_http_parse_header_line), and the
 * body's framing (Content-Length, chunked, or until the peer closes)
 * undone before the engine's filters frame it again for the client.
 *
 * proxy_pass http://NAME names an upstream group (kl_http_upstream_add):
 * an "upstream NAME" block, or an implicit group of the addresses
 * host:port resolves to.
 */

#include "kl_http.h"
#include "upstream.h"
#include "proxy_http.h"


static kl_int_t kl_http_proxy_handler(kl_http_request_t *r);
static kl_int_t kl_http_proxy_eval(kl_http_request_t        *r,
                                   kl_http_proxy_ctx_t      *ctx,
                                   kl_http_proxy_loc_conf_t *plcf);
static size_t   kl_http_proxy_schema(kl_str_t *url, kl_uint_t tls);
static char *kl_http_proxy_pass(kl_conf_t *cf, kl_command_t *cmd, void *conf);
static char *kl_http_proxy_http_version(kl_conf_t *cf, kl_command_t *cmd,
                                        void *conf);
static char *kl_http_proxy_redirect(kl_conf_t *cf, kl_command_t *cmd,
                                    void *conf);
static kl_int_t
                kl_http_proxy_add_default_redirect(kl_conf_t                *cf,
                                                   kl_http_proxy_loc_conf_t *plcf);
static char    *kl_http_proxy_buffers(kl_conf_t *cf, kl_command_t *cmd,
                                      void *conf);
static char    *kl_http_proxy_set_header(kl_conf_t *cf, kl_command_t *cmd,
                                         void *conf);
static kl_int_t kl_http_proxy_merge_headers(kl_conf_t                *cf,
                                            kl_http_proxy_loc_conf_t *conf);
static kl_int_t kl_http_proxy_add_variables(kl_conf_t *cf);
static kl_int_t kl_http_proxy_variable(kl_http_request_t        *r,
                                       kl_http_variable_value_t *v,
                                       uintptr_t                 data);
static void    *kl_http_proxy_create_loc_conf(kl_conf_t *cf);
static char    *kl_http_proxy_merge_loc_conf(kl_conf_t *cf, void *parent,
                                             void *child);


static kl_conf_enum_t kl_http_proxy_next_upstream_masks[] = {
    { kl_string("error"), KL_HTTP_UPSTREAM_FT_ERROR },
    { kl_string("timeout"), KL_HTTP_UPSTREAM_FT_TIMEOUT },
    { kl_string("invalid_header"), KL_HTTP_UPSTREAM_FT_INVALID_HEADER },
    { kl_string("non_idempotent"), KL_HTTP_UPSTREAM_FT_NON_IDEMPOTENT },
    { kl_string("http_500"), KL_HTTP_UPSTREAM_FT_HTTP_500 },
    { kl_string("http_502"), KL_HTTP_UPSTREAM_FT_HTTP_502 },
    { kl_string("http_503"), KL_HTTP_UPSTREAM_FT_HTTP_503 },
    { kl_string("http_504"), KL_HTTP_UPSTREAM_FT_HTTP_504 },
    { kl_string("http_403"), KL_HTTP_UPSTREAM_FT_HTTP_403 },
    { kl_string("http_404"), KL_HTTP_UPSTREAM_FT_HTTP_404 },
    { kl_string("http_429"), KL_HTTP_UPSTREAM_FT_HTTP_429 },
    { kl_string("off"), KL_HTTP_UPSTREAM_FT_OFF },
    { kl_null_string, 0 }
};


/* Directive tables keep one field a line, as nginx's do. */
/* clang-format off */
static kl_command_t  kl_http_proxy_commands[] = {

    { kl_string("proxy_pass"),
      KL_HTTP_LOC_CONF | KL_HTTP_LIF_CONF | KL_HTTP_LMT_CONF | KL_CONF_TAKE1,
      kl_http_proxy_pass,
      KL_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { kl_string("proxy_connect_timeout"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE1,
      kl_conf_set_msec_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_proxy_loc_conf_t, upstream.connect_timeout),
      NULL },

    { kl_string("proxy_send_timeout"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE1,
      kl_conf_set_msec_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_proxy_loc_conf_t, upstream.send_timeout),
      NULL },

    { kl_string("proxy_read_timeout"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE1,
      kl_conf_set_msec_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_proxy_loc_conf_t, upstream.read_timeout),
      NULL },

    { kl_string("proxy_buffer_size"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE1,
      kl_conf_set_size_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_proxy_loc_conf_t, upstream.buffer_size),
      NULL },

    { kl_string("proxy_redirect"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE12,
      kl_http_proxy_redirect,
      KL_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { kl_string("proxy_buffering"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_FLAG,
      kl_conf_set_flag_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_proxy_loc_conf_t, upstream.buffering),
      NULL },

    { kl_string("proxy_buffers"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE2,
      kl_http_proxy_buffers,
      KL_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { kl_string("proxy_busy_buffers_size"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE1,
      kl_conf_set_size_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_proxy_loc_conf_t, busy_buffers_size_conf),
      NULL },

    { kl_string("proxy_temp_path"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE1234,
      kl_http_temp_path_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_proxy_loc_conf_t, upstream.temp_path),
      NULL },

    { kl_string("proxy_max_temp_file_size"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE1,
      kl_conf_set_size_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_proxy_loc_conf_t, upstream.max_temp_file_size_conf),
      NULL },

    { kl_string("proxy_temp_file_write_size"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE1,
      kl_conf_set_size_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_proxy_loc_conf_t, upstream.temp_file_write_size_conf),
      NULL },

    { kl_string("proxy_next_upstream"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_1MORE,
      kl_conf_set_bitmask_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_proxy_loc_conf_t, upstream.next_upstream),
      kl_http_proxy_next_upstream_masks },

    { kl_string("proxy_next_upstream_tries"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE1,
      kl_conf_set_num_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_proxy_loc_conf_t, upstream.next_upstream_tries),
      NULL },

    { kl_string("proxy_next_upstream_timeout"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE1,
      kl_conf_set_msec_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_proxy_loc_conf_t, upstream.next_upstream_timeout),
      NULL },

    { kl_string("proxy_intercept_errors"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_FLAG,
      kl_conf_set_flag_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_proxy_loc_conf_t, upstream.intercept_errors),
      NULL },

    { kl_string("proxy_pass_request_body"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_FLAG,
      kl_conf_set_flag_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_proxy_loc_conf_t, upstream.pass_request_body),
      NULL },

    { kl_string("proxy_request_buffering"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_FLAG,
      kl_conf_set_flag_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_proxy_loc_conf_t, upstream.request_buffering),
      NULL },

    { kl_string("proxy_http_version"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE1,
      kl_http_proxy_http_version,
      KL_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { kl_string("proxy_set_header"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE2,
      kl_http_proxy_set_header,
      KL_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { kl_string("proxy_pass_request_headers"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_FLAG,
      kl_conf_set_flag_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_proxy_loc_conf_t, pass_request_headers),
      NULL },

    { kl_string("proxy_pass_header"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE1,
      kl_http_upstream_header_name_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_proxy_loc_conf_t, upstream.pass),
      NULL },

    { kl_string("proxy_method"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE1,
      kl_http_set_complex_value_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_proxy_loc_conf_t, method),
      NULL },

    { kl_string("proxy_hide_header"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE1,
      kl_http_upstream_header_name_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_proxy_loc_conf_t, upstream.hide),
      NULL },

    { kl_string("proxy_ignore_client_abort"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_FLAG,
      kl_conf_set_flag_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_proxy_loc_conf_t, upstream.ignore_client_abort),
      NULL },
    { kl_string("proxy_ignore_headers"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_1MORE,
      kl_http_upstream_ignore_headers_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_proxy_loc_conf_t, upstream.ignore_headers),
      NULL },
    { kl_string("proxy_force_ranges"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_FLAG,
      kl_conf_set_flag_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_proxy_loc_conf_t, upstream.force_ranges),
      NULL },
    { kl_string("proxy_socket_keepalive"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_FLAG,
      kl_conf_set_flag_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_proxy_loc_conf_t, upstream.socket_keepalive),
      NULL },
    { kl_string("proxy_limit_rate"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE1,
      kl_http_upstream_rate_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_proxy_loc_conf_t, upstream.limit_rate),
      NULL },
    { kl_string("proxy_bind"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE12,
      kl_http_upstream_bind_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_proxy_loc_conf_t, upstream.local),
      NULL },
    { kl_string("proxy_headers_hash_max_size"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE1,
      kl_conf_set_num_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_proxy_loc_conf_t, upstream.headers_hash_max_size),
      NULL },
    { kl_string("proxy_headers_hash_bucket_size"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE1,
      kl_conf_set_num_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_proxy_loc_conf_t, upstream.headers_hash_bucket_size),
      NULL },
    { kl_string("proxy_send_lowat"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE1,
      kl_http_upstream_lowat_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },
    { kl_string("proxy_set_body"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE1,
      kl_http_set_complex_value_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_proxy_loc_conf_t, body),
      NULL },
    { kl_string("proxy_cookie_domain"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE12,
      kl_http_proxy_cookie_rewrite_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_proxy_loc_conf_t, cookie_domains),
      NULL },
    { kl_string("proxy_cookie_path"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE12,
      kl_http_proxy_cookie_rewrite_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_proxy_loc_conf_t, cookie_paths),
      NULL },
    { kl_string("proxy_cookie_flags"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE1234,
      kl_http_proxy_cookie_flags_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_proxy_loc_conf_t, cookie_flags),
      NULL },
    { kl_string("proxy_pass_trailers"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_FLAG,
      kl_http_upstream_off_only_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      0,
      (void *) KL_HTTP_UPSTREAM_NO_TRAILERS },

#if (KL_HTTP_UPSTREAM_SSL)
    KL_HTTP_UPSTREAM_SSL_COMMANDS("proxy", kl_http_proxy_loc_conf_t, upstream),
#endif

    kl_null_command
};
/* clang-format on */


static kl_http_module_t kl_http_proxy_module_ctx = {
    .preconfiguration = kl_http_proxy_add_variables,
    .create_loc_conf = kl_http_proxy_create_loc_conf,
    .merge_loc_conf = kl_http_proxy_merge_loc_conf,
};


kl_module_t kl_http_proxy_module = {
    .name = "kl_http_proxy_module",
    .ctx = &kl_http_proxy_module_ctx,
    .commands = kl_http_proxy_commands,
    .type = KL_HTTP_MODULE,
};


static kl_int_t
kl_http_proxy_handler(kl_http_request_t *r)
{
    kl_int_t                  rc;
    kl_http_upstream_t       *u;
    kl_http_proxy_ctx_t      *ctx;
    kl_http_proxy_loc_conf_t *plcf;

    if (kl_http_upstream_create(r) != KL_OK) {
        return KL_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx = kl_pcalloc(r->pool, sizeof(kl_http_proxy_ctx_t));
    if (ctx == NULL) {
        return KL_HTTP_INTERNAL_SERVER_ERROR;
    }

    kl_http_set_ctx(r, ctx, kl_http_proxy_module);

    plcf = kl_http_get_module_loc_conf(r, kl_http_proxy_module);

    u = r->upstream;
    ctx->conf = plcf;
    u->input_filter_ctx = ctx;
    u->conf = &plcf->upstream;
    u->create_request = kl_http_proxy_create_request;
    u->reinit_request = kl_http_proxy_reinit_request;
    u->process_header = kl_http_proxy_process_header;
    u->input_filter_init = kl_http_proxy_input_filter_init;
    u->input_filter = kl_http_proxy_input_filter;
    u->buffering = plcf->upstream.buffering ? 1 : 0;

    if (plcf->redirects) {
        u->rewrite_redirect = kl_http_proxy_rewrite_redirect;
    }

    if (plcf->cookie_domains || plcf->cookie_paths || plcf->cookie_flags) {
        u->rewrite_cookie = kl_http_proxy_rewrite_cookie;
    }
    kl_str_set(&u->schema, "http://");

    if (plcf->upstream.ssl.enable && plcf->url_value == NULL) {
        u->ssl = 1;
        kl_str_set(&u->schema, "https://");
    }

    if (plcf->url_value && kl_http_proxy_eval(r, ctx, plcf) != KL_OK) {
        return KL_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (!plcf->upstream.pass_request_body) {
        rc = kl_http_discard_request_body(r);
        if (rc != KL_OK) {
            return rc;
        }

        r->main->count++;
        kl_http_upstream_init(r);
        return KL_DONE;
    }

    /* nginx's condition: a chunked body goes chunked, to HTTP/1.1 only. */
    if (!plcf->upstream.request_buffering && plcf->body == NULL
        && (!r->headers_in.chunked || plcf->http_version == KL_HTTP_VERSION_11))
    {
        r->request_body_no_buffering = 1;
        u->body_frame = kl_http_proxy_body_frame;
    }

    rc = kl_http_read_client_request_body(r, kl_http_upstream_init);

    if (rc >= KL_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return KL_DONE;
}


/*
 * proxy_pass with variables, as nginx's ngx_http_proxy_eval: the URL's
 * authority names the peer (kl_http_upstream_init finds it), its URI
 * part, if any, is sent as is. Errors are logged and answer 500.
 */
static kl_int_t
kl_http_proxy_eval(kl_http_request_t *r, kl_http_proxy_ctx_t *ctx,
                   kl_http_proxy_loc_conf_t *plcf)
{
    u_char                      *p, *last, *end, *q;
    size_t                       n;
    kl_str_t                     url, authority;
    const char                  *err;
    kl_http_upstream_resolved_t *ur;

    if (kl_http_complex_value(r, plcf->url_value, &url) != KL_OK) {
        return KL_ERROR;
    }

    n = kl_http_proxy_schema(&url, plcf->upstream.ssl.enable);

    if (n == 0) {
        kl_log_error(KL_LOG_ERR, r->connection->log, 0,
                     "invalid URL prefix in \"%V\"", &url);
        return KL_ERROR;
    }

    if (n == 8) {
        r->upstream->ssl = 1;
        kl_str_set(&r->upstream->schema, "https://");
    }

    p = url.data + n;
    last = url.data + url.len;

    for (end = p; end < last && *end != '/' && *end != '?'; end++) {
        /* the authority ends at the path or the query */
    }

    authority.data = p;
    authority.len = end - p;

    ur = kl_palloc(r->pool, sizeof(kl_http_upstream_resolved_t));
    if (ur == NULL) {
        return KL_ERROR;
    }

    if (kl_http_upstream_parse_authority(&authority, ur, &err) != KL_OK) {
        url.data = p;
        url.len = last - p;
        kl_log_error(KL_LOG_ERR, r->connection->log, 0, "%s in upstream \"%V\"",
                     err, &url);
        return KL_ERROR;
    }

    if (end < last && *end == '?') {
        q = kl_pnalloc(r->pool, last - end + 1);
        if (q == NULL) {
            return KL_ERROR;
        }

        q[0] = '/';
        kl_memcpy(q + 1, end, last - end);
        ctx->uri.data = q;
        ctx->uri.len = last - end + 1;

    } else {
        ctx->uri.data = end;
        ctx->uri.len = last - end;
    }

    kl_http_upstream_default_port(ur, n == 8 ? 443 : 80);

    /* $proxy_host: the host, with the port unless it is the default */
    ctx->host =
        (ur->no_port || ur->port == (n == 8 ? 443 : 80)) ? ur->host : authority;

    if (ur->no_port) {
        if (n == 8) {
            kl_str_set(&ctx->port, "443");

        } else {
            kl_str_set(&ctx->port, "80");
        }

    } else {
        ctx->port.data = ur->host.data + ur->host.len + 1;
        ctx->port.len = end - ctx->port.data;
    }

    r->upstream->resolved = ur;

    return KL_OK;
}


/* The length of url's scheme: 7 for "http://", 8 for "https://" when
 * tls allows it, else 0. */
static size_t
kl_http_proxy_schema(kl_str_t *url, kl_uint_t tls)
{
    if (url->len > 7 && kl_strncasecmp(url->data, (u_char *) "http://", 7) == 0)
    {
        return 7;
    }

    if (tls && url->len > 8
        && kl_strncasecmp(url->data, (u_char *) "https://", 8) == 0)
    {
        return 8;
    }

    return 0;
}


static char *
kl_http_proxy_pass(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_http_proxy_loc_conf_t *plcf = conf;

    u_char                      *p, *host_end, *text_end;
    size_t                       n;
    kl_str_t                    *value;
    kl_http_core_loc_conf_t     *clcf;
    kl_http_upstream_srv_conf_t *us;

    (void) cmd;

    if (plcf->upstream.upstream || plcf->url_value) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (kl_http_script_variables_count(&value[1])) {
        /* checked per request, as nginx: the value is not known yet */
        plcf->url_value = kl_http_compile_value(cf, &value[1]);
        if (plcf->url_value == NULL) {
            return KL_CONF_ERROR;
        }

        clcf = kl_http_conf_get_module_loc_conf(cf, kl_http_core_module);
        clcf->handler = kl_http_proxy_handler;
        plcf->location = clcf->name;

#if (KL_HTTP_UPSTREAM_SSL)
        /* the scheme is known per request: a context in case (nginx's) */
        plcf->upstream.ssl.enable = 1;
#endif

        return KL_CONF_OK;
    }

    n = kl_http_proxy_schema(&value[1], 1);

    if (n == 8 && !KL_HTTP_UPSTREAM_SSL) {
        return "is refused: https:// needs TLS, which this build of kiln "
               "does not have";
    }

    if (n == 0 || value[1].len == n) {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0, "invalid URL prefix in \"%V\"",
                          &value[1]);
        return KL_CONF_ERROR;
    }

    plcf->url = value[1];
    plcf->upstream.ssl.enable = (n == 8);
    p = value[1].data + n;
    text_end = value[1].data + value[1].len;

    for (host_end = p; host_end < text_end && *host_end != '/'; host_end++) {
        /* the authority ends at the path */
    }

    plcf->host.data = p;
    plcf->host.len = host_end - p;

    if (host_end < text_end) {
        plcf->has_uri = 1;
        plcf->uri.data = host_end;
        plcf->uri.len = text_end - host_end;
    }

    us = kl_http_upstream_add(cf, &plcf->host,
                              n == 8 ? KL_HTTP_UPSTREAM_PORT_443 : 0);
    if (us == NULL) {
        return KL_CONF_ERROR;
    }

    for (p = plcf->host.data + plcf->host.len; p > plcf->host.data; p--) {
        if (p[-1] == ':' || p[-1] == ']') {
            break;
        }
    }

    if (p > plcf->host.data && p[-1] == ':') {
        plcf->port.data = p;
        plcf->port.len = plcf->host.data + plcf->host.len - p;

    } else if (n == 8) {
        kl_str_set(&plcf->port, "443");

    } else {
        kl_str_set(&plcf->port, "80");
    }

    plcf->upstream.upstream = us;

    clcf = kl_http_conf_get_module_loc_conf(cf, kl_http_core_module);
    clcf->handler = kl_http_proxy_handler;
    plcf->location = clcf->name;

    if (plcf->has_uri
        && (clcf->regex || clcf->named || clcf->lmt_excpt
            || cf->cmd_type == KL_HTTP_LIF_CONF))
    {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                          "\"proxy_pass\" cannot have URI part in location "
                          "given by regular expression, or inside named "
                          "location, or inside \"if\" statement, or inside "
                          "\"limit_except\" block");
        return KL_CONF_ERROR;
    }

    return KL_CONF_OK;
}


static char *
kl_http_proxy_http_version(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_http_proxy_loc_conf_t *plcf = conf;

    kl_str_t *value;

    (void) cmd;

    if (plcf->http_version != KL_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 3 && kl_strncmp(value[1].data, "1.0", 3) == 0) {
        plcf->http_version = KL_HTTP_VERSION_10;

    } else if (value[1].len == 3 && kl_strncmp(value[1].data, "1.1", 3) == 0) {
        plcf->http_version = KL_HTTP_VERSION_11;

    } else {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0, "invalid value \"%V\"",
                          &value[1]);
        return KL_CONF_ERROR;
    }

    return KL_CONF_OK;
}


/* proxy_buffers NUMBER SIZE */
static char *
kl_http_proxy_buffers(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_http_proxy_loc_conf_t *plcf = conf;

    ssize_t   size;
    kl_int_t  num;
    kl_str_t *value;

    (void) cmd;

    if (plcf->upstream.bufs.num != 0) {
        return "is duplicate";
    }

    value = cf->args->elts;

    num = kl_atoi(value[1].data, value[1].len);
    size = kl_conf_parse_size(&value[2]);

    if (num == KL_ERROR || num == 0 || size == KL_ERROR || size == 0) {
        return "invalid value";
    }

    /* One buffer is read into while another is sent: nginx needs two. */
    if (num < 2) {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                          "there must be at least 2 \"proxy_buffers\"");
        return KL_CONF_ERROR;
    }

    plcf->upstream.bufs.num = (size_t) num;
    plcf->upstream.bufs.size = (size_t) size;

    return KL_CONF_OK;
}


static char *
kl_http_proxy_set_header(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_http_proxy_loc_conf_t *plcf = conf;

    kl_str_t               *value;
    kl_http_proxy_header_t *h;

    (void) cmd;

    if (plcf->set_headers_conf == NULL) {
        plcf->set_headers_conf =
            kl_array_create(cf->pool, 4, sizeof(kl_http_proxy_header_t));
        if (plcf->set_headers_conf == NULL) {
            return KL_CONF_ERROR;
        }
    }

    value = cf->args->elts;

    h = kl_array_push(plcf->set_headers_conf);
    if (h == NULL) {
        return KL_CONF_ERROR;
    }

    h->key = value[1];
    h->value = kl_http_compile_value(cf, &value[2]);

    return h->value ? KL_CONF_OK : KL_CONF_ERROR;
}


#define KL_HTTP_PROXY_VAR_HOST 0
#define KL_HTTP_PROXY_VAR_PORT 1
#define KL_HTTP_PROXY_VAR_XFF  2


static kl_str_t kl_http_proxy_var_names[] = {
    kl_string("proxy_host"),
    kl_string("proxy_port"),
    kl_string("proxy_add_x_forwarded_for"),
};


static kl_int_t
kl_http_proxy_add_variables(kl_conf_t *cf)
{
    kl_uint_t           i;
    kl_http_variable_t *v;

    for (i = 0; i < 3; i++) {
        v = kl_http_add_variable(cf, &kl_http_proxy_var_names[i],
                                 KL_HTTP_VAR_NOCACHEABLE);
        if (v == NULL) {
            return KL_ERROR;
        }

        v->get_handler = kl_http_proxy_variable;
        v->data = i;
    }

    return KL_OK;
}


static kl_int_t
kl_http_proxy_variable(kl_http_request_t *r, kl_http_variable_value_t *v,
                       uintptr_t data)
{
    u_char                   *p;
    size_t                    len;
    kl_table_elt_t           *xff;
    kl_http_proxy_ctx_t      *ctx;
    kl_http_proxy_loc_conf_t *plcf;

    plcf = kl_http_get_module_loc_conf(r, kl_http_proxy_module);

    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    if (data == KL_HTTP_PROXY_VAR_HOST || data == KL_HTTP_PROXY_VAR_PORT) {
        ctx = kl_http_get_module_ctx(r, kl_http_proxy_module);

        if (plcf->url_value && ctx && ctx->host.len) {
            v->data = data ? ctx->port.data : ctx->host.data;
            v->len = data ? ctx->port.len : ctx->host.len;
            return KL_OK;
        }

        if (plcf->upstream.upstream == NULL) {
            v->not_found = 1;
            return KL_OK;
        }

        v->data = data ? plcf->port.data : plcf->host.data;
        v->len = data ? plcf->port.len : plcf->host.len;
        return KL_OK;
    }

    xff = r->headers_in.x_forwarded_for;

    if (xff == NULL) {
        v->data = r->connection->addr_text.data;
        v->len = r->connection->addr_text.len;
        return KL_OK;
    }

    len = 0;

    for (; xff; xff = xff->next) {
        len += xff->value.len + 2;
    }

    len += r->connection->addr_text.len;

    p = kl_pnalloc(r->pool, len);
    if (p == NULL) {
        return KL_ERROR;
    }

    v->data = p;

    for (xff = r->headers_in.x_forwarded_for; xff; xff = xff->next) {
        p = kl_cpymem(p, xff->value.data, xff->value.len);
        *p++ = ',';
        *p++ = ' ';
    }

    p = kl_cpymem(p, r->connection->addr_text.data,
                  r->connection->addr_text.len);
    v->len = p - v->data;

    return KL_OK;
}


static void *
kl_http_proxy_create_loc_conf(kl_conf_t *cf)
{
    kl_http_proxy_loc_conf_t *conf;

    conf = kl_pcalloc(cf->pool, sizeof(kl_http_proxy_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    kl_http_upstream_conf_init(&conf->upstream);
    conf->busy_buffers_size_conf = KL_CONF_UNSET_SIZE;
    conf->redirect = KL_CONF_UNSET;
    conf->method = KL_CONF_UNSET_PTR;
    conf->http_version = KL_CONF_UNSET_UINT;
    conf->pass_request_headers = KL_CONF_UNSET;
    conf->body = KL_CONF_UNSET_PTR;
    conf->cookie_domains = KL_CONF_UNSET_PTR;
    conf->cookie_paths = KL_CONF_UNSET_PTR;
    conf->cookie_flags = KL_CONF_UNSET_PTR;

    return conf;
}


static char *
kl_http_proxy_merge_loc_conf(kl_conf_t *cf, void *parent, void *child)
{
    kl_http_proxy_loc_conf_t *prev = parent;
    kl_http_proxy_loc_conf_t *conf = child;

    if (kl_http_upstream_merge_conf(
            cf, &conf->upstream, &prev->upstream, &conf->busy_buffers_size_conf,
            prev->busy_buffers_size_conf, "proxy", "proxy_temp")
        != KL_OK)
    {
        return KL_CONF_ERROR;
    }

    kl_conf_merge_value(conf->redirect, prev->redirect, 1);

    if (conf->redirects == NULL && conf->redirect) {
        conf->redirects = prev->redirects;
    }

    if (conf->redirects == NULL && conf->redirect && conf->url.data
        && kl_http_proxy_add_default_redirect(cf, conf) != KL_OK)
    {
        return KL_CONF_ERROR;
    }
    kl_conf_merge_uint_value(conf->http_version, prev->http_version,
                             KL_HTTP_VERSION_10);
    kl_conf_merge_value(conf->pass_request_headers, prev->pass_request_headers,
                        1);

    if (conf->set_headers_conf == NULL) {
        conf->set_headers_conf = prev->set_headers_conf;
    }

    if (kl_http_proxy_merge_headers(cf, conf) != KL_OK) {
        return KL_CONF_ERROR;
    }

    kl_conf_merge_ptr_value(conf->method, prev->method, NULL);
    kl_conf_merge_ptr_value(conf->body, prev->body, NULL);
    kl_conf_merge_ptr_value(conf->cookie_domains, prev->cookie_domains, NULL);
    kl_conf_merge_ptr_value(conf->cookie_paths, prev->cookie_paths, NULL);
    kl_conf_merge_ptr_value(conf->cookie_flags, prev->cookie_flags, NULL);

    /* nginx's default hidden fields, plus proxy_hide_header's. */
    if (kl_http_upstream_hide_headers(cf, &conf->upstream, &prev->upstream,
                                      NULL)
        != KL_OK)
    {
        return KL_CONF_ERROR;
    }

    return KL_CONF_OK;
}


/* nginx's defaults, unless proxy_set_header names the field. */
static kl_str_t kl_http_proxy_default_headers[] = {
    kl_string("Host"),  kl_string("$proxy_host"), kl_string("Connection"),
    kl_string("close"), kl_null_string,           kl_null_string,
};


static kl_int_t
kl_http_proxy_merge_headers(kl_conf_t *cf, kl_http_proxy_loc_conf_t *conf)
{
    kl_str_t               *d;
    kl_uint_t               i, n, found;
    kl_http_proxy_header_t *h, *set;

    conf->set_headers =
        kl_array_create(cf->pool, 4, sizeof(kl_http_proxy_header_t));
    if (conf->set_headers == NULL) {
        return KL_ERROR;
    }

    n = conf->set_headers_conf ? conf->set_headers_conf->nelts : 0;
    set = n ? conf->set_headers_conf->elts : NULL;

    for (d = kl_http_proxy_default_headers; d->len; d += 2) {
        found = 0;

        for (i = 0; i < n; i++) {
            if (set[i].key.len == d->len
                && kl_strncasecmp(set[i].key.data, d->data, d->len) == 0)
            {
                found = 1;
                break;
            }
        }

        if (found) {
            continue;
        }

        h = kl_array_push(conf->set_headers);
        if (h == NULL) {
            return KL_ERROR;
        }

        h->key = d[0];
        h->value = kl_http_compile_value(cf, &d[1]);
        if (h->value == NULL) {
            return KL_ERROR;
        }
    }

    for (i = 0; i < n; i++) {
        h = kl_array_push(conf->set_headers);
        if (h == NULL) {
            return KL_ERROR;
        }

        *h = set[i];
    }

    return KL_OK;
}


static char *
kl_http_proxy_redirect(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_http_proxy_loc_conf_t *plcf = conf;

    u_char                    errstr[KL_MAX_CONF_ERRSTR];
    kl_str_t                 *value;
    kl_regex_compile_t        rc;
    kl_http_proxy_redirect_t *pr;

    (void) cmd;

    if (plcf->redirect == 0) {
        return "is duplicate";
    }

    plcf->redirect = 1;
    value = cf->args->elts;

    if (cf->args->nelts == 2) {
        if (value[1].len == 3 && kl_strncmp(value[1].data, "off", 3) == 0) {
            plcf->redirect = 0;
            plcf->redirects = NULL;
            return KL_CONF_OK;
        }

        if (value[1].len != 7 || kl_strncmp(value[1].data, "default", 7) != 0) {
            kl_conf_log_error(KL_LOG_EMERG, cf, 0, "invalid parameter \"%V\"",
                              &value[1]);
            return KL_CONF_ERROR;
        }

        if (plcf->url_value) {
            kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                              "\"proxy_redirect default\" cannot be used "
                              "with \"proxy_pass\" directive with variables");
            return KL_CONF_ERROR;
        }

        if (plcf->url.data == NULL) {
            kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                              "\"proxy_redirect default\" should be placed "
                              "after the \"proxy_pass\" directive");
            return KL_CONF_ERROR;
        }

        return kl_http_proxy_add_default_redirect(cf, plcf) == KL_OK
                   ? KL_CONF_OK
                   : KL_CONF_ERROR;
    }

    if (plcf->redirects == NULL) {
        plcf->redirects =
            kl_array_create(cf->pool, 2, sizeof(kl_http_proxy_redirect_t));
        if (plcf->redirects == NULL) {
            return KL_CONF_ERROR;
        }
    }

    pr = kl_array_push(plcf->redirects);
    if (pr == NULL) {
        return KL_CONF_ERROR;
    }

    kl_memzero(pr, sizeof(kl_http_proxy_redirect_t));

    pr->replacement = kl_http_compile_value(cf, &value[2]);
    if (pr->replacement == NULL) {
        return KL_CONF_ERROR;
    }

    if (value[1].data[0] != '~') {
        pr->pattern = kl_http_compile_value(cf, &value[1]);
        return pr->pattern ? KL_CONF_OK : KL_CONF_ERROR;
    }

    /* "~REGEX" matches case-sensitively, "~*REGEX" without case */
    kl_memzero(&rc, sizeof(kl_regex_compile_t));
    rc.pattern.data = value[1].data + 1;
    rc.pattern.len = value[1].len - 1;

    if (rc.pattern.len && rc.pattern.data[0] == '*') {
        rc.pattern.data++;
        rc.pattern.len--;
        rc.options = KL_REGEX_CASELESS;
    }

    rc.pool = cf->pool;
    rc.err.data = errstr;
    rc.err.len = sizeof(errstr);

    pr->regex = kl_http_regex_compile(cf, &rc);

    return pr->regex ? KL_CONF_OK : KL_CONF_ERROR;
}


/*
 * nginx's "default": the proxy_pass URL becomes the location's prefix;
 * without a URI part, "URL/" becomes "/".
 */
static kl_int_t
kl_http_proxy_add_default_redirect(kl_conf_t                *cf,
                                   kl_http_proxy_loc_conf_t *plcf)
{
    u_char                   *p;
    kl_str_t                  pattern, replacement;
    kl_http_proxy_redirect_t *pr;

    if (plcf->redirects == NULL) {
        plcf->redirects =
            kl_array_create(cf->pool, 1, sizeof(kl_http_proxy_redirect_t));
        if (plcf->redirects == NULL) {
            return KL_ERROR;
        }
    }

    if (plcf->has_uri) {
        pattern = plcf->url;
        replacement = plcf->location;

    } else {
        p = kl_pnalloc(cf->pool, plcf->url.len + 1);
        if (p == NULL) {
            return KL_ERROR;
        }

        kl_memcpy(p, plcf->url.data, plcf->url.len);
        p[plcf->url.len] = '/';
        pattern.data = p;
        pattern.len = plcf->url.len + 1;
        kl_str_set(&replacement, "/");
    }

    pr = kl_array_push(plcf->redirects);
    if (pr == NULL) {
        return KL_ERROR;
    }

    pr->regex = NULL;
    pr->pattern = kl_http_compile_value(cf, &pattern);
    pr->replacement = kl_http_compile_value(cf, &replacement);

    return (pr->pattern && pr->replacement) ? KL_OK : KL_ERROR;
}
