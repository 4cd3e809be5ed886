/*
 * uwsgi.c: uwsgi_pass, as nginx's ngx_http_uwsgi_module: its directives,
 * the content handler, and the request as one uwsgi packet: a 4-byte
 * header (modifier1, the vars' size as 16 bits little-endian, modifier2),
 * the vars (16-bit little-endian length, key, length, value), then the
 * body as it is. upstream_cgi.c does the rest: the params, the response
 * (the status line uWSGI sends, or CGI fields) and the peer named per
 * request; upstream.c runs the exchange.
 *
 * The vars' size has 16 bits: a request whose vars would be larger is
 * refused with 500, as nginx ("uwsgi request is too big"). uWSGI ends a
 * response at the close: the connection is not kept (keepalive in an
 * upstream group has no effect here, as in nginx).
 */

#include "upstream_cgi.h"


typedef struct {
    kl_http_cgi_loc_conf_t cgi; /* first: the shared setters' offset 0 */

    kl_int_t modifier1; /* uwsgi_modifier1 */
    kl_int_t modifier2; /* uwsgi_modifier2 */
} kl_http_uwsgi_loc_conf_t;


static kl_int_t kl_http_uwsgi_handler(kl_http_request_t *r);
static kl_int_t kl_http_uwsgi_create(kl_http_request_t *r,
                                     kl_http_cgi_var_t *vars, kl_uint_t nvars);
static char *kl_http_uwsgi_pass(kl_conf_t *cf, kl_command_t *cmd, void *conf);
static char *kl_http_uwsgi_modifier(kl_conf_t *cf, kl_command_t *cmd,
                                    void *conf);
static void *kl_http_uwsgi_create_loc_conf(kl_conf_t *cf);
static char *kl_http_uwsgi_merge_loc_conf(kl_conf_t *cf, void *parent,
                                          void *child);


/* uwsgi_pass takes "uwsgi://" before the address, and "suwsgi://" for
 * uwsgi over TLS (refused by a build without TLS). */
static const kl_http_cgi_proto_t kl_http_uwsgi_proto = {
    .create = kl_http_uwsgi_create,
    .schema = "uwsgi://",
    .prefix = "uwsgi://",
    .tls_prefix = "suwsgi://",
};


static kl_conf_enum_t kl_http_uwsgi_next_upstream_masks[] = {
    { kl_string("error"), KL_HTTP_UPSTREAM_FT_ERROR },
    { kl_string("timeout"), KL_HTTP_UPSTREAM_FT_TIMEOUT },
    { kl_string("invalid_header"), KL_HTTP_UPSTREAM_FT_INVALID_HEADER },
    { kl_string("non_idempotent"), KL_HTTP_UPSTREAM_FT_NON_IDEMPOTENT },
    { kl_string("http_500"), KL_HTTP_UPSTREAM_FT_HTTP_500 },
    { kl_string("http_503"), KL_HTTP_UPSTREAM_FT_HTTP_503 },
    { kl_string("http_403"), KL_HTTP_UPSTREAM_FT_HTTP_403 },
    { kl_string("http_404"), KL_HTTP_UPSTREAM_FT_HTTP_404 },
    { kl_string("http_429"), KL_HTTP_UPSTREAM_FT_HTTP_429 },
    { kl_string("off"), KL_HTTP_UPSTREAM_FT_OFF },
    { kl_null_string, 0 }
};


/*
 * Directive tables keep one field a line, as nginx's do. Every directive
 * nginx's page lists is here but caching, store and TLS ones, which
 * core/conf_absent.c refuses with the reason, as for proxy_ and
 * fastcgi_. The rows from X_ignore_client_abort on are the shared
 * upstream settings (upstream_settings.c), as fastcgi's.
 */
/* clang-format off */
static kl_command_t  kl_http_uwsgi_commands[] = {

    { kl_string("uwsgi_pass"),
      KL_HTTP_LOC_CONF | KL_HTTP_LIF_CONF | KL_CONF_TAKE1,
      kl_http_uwsgi_pass,
      KL_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { kl_string("uwsgi_param"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE23,
      kl_http_cgi_param_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_uwsgi_loc_conf_t, cgi),
      NULL },

    { kl_string("uwsgi_modifier1"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE1,
      kl_http_uwsgi_modifier,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_uwsgi_loc_conf_t, modifier1),
      NULL },

    { kl_string("uwsgi_modifier2"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE1,
      kl_http_uwsgi_modifier,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_uwsgi_loc_conf_t, modifier2),
      NULL },

    { kl_string("uwsgi_connect_timeout"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE1,
      kl_conf_set_msec_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_uwsgi_loc_conf_t, cgi.upstream.connect_timeout),
      NULL },

    { kl_string("uwsgi_send_timeout"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE1,
      kl_conf_set_msec_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_uwsgi_loc_conf_t, cgi.upstream.send_timeout),
      NULL },

    { kl_string("uwsgi_read_timeout"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE1,
      kl_conf_set_msec_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_uwsgi_loc_conf_t, cgi.upstream.read_timeout),
      NULL },

    { kl_string("uwsgi_buffer_size"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE1,
      kl_conf_set_size_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_uwsgi_loc_conf_t, cgi.upstream.buffer_size),
      NULL },

    { kl_string("uwsgi_buffering"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_FLAG,
      kl_conf_set_flag_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_uwsgi_loc_conf_t, cgi.upstream.buffering),
      NULL },

    { kl_string("uwsgi_buffers"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE2,
      kl_http_cgi_buffers_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_uwsgi_loc_conf_t, cgi),
      NULL },

    { kl_string("uwsgi_busy_buffers_size"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE1,
      kl_conf_set_size_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_uwsgi_loc_conf_t, cgi.busy_buffers_size_conf),
      NULL },

    { kl_string("uwsgi_temp_path"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE1234,
      kl_http_temp_path_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_uwsgi_loc_conf_t, cgi.upstream.temp_path),
      NULL },

    { kl_string("uwsgi_max_temp_file_size"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE1,
      kl_conf_set_size_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_uwsgi_loc_conf_t, cgi.upstream.max_temp_file_size_conf),
      NULL },

    { kl_string("uwsgi_temp_file_write_size"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE1,
      kl_conf_set_size_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_uwsgi_loc_conf_t, cgi.upstream.temp_file_write_size_conf),
      NULL },

    { kl_string("uwsgi_next_upstream"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_1MORE,
      kl_conf_set_bitmask_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_uwsgi_loc_conf_t, cgi.upstream.next_upstream),
      kl_http_uwsgi_next_upstream_masks },

    { kl_string("uwsgi_next_upstream_tries"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE1,
      kl_conf_set_num_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_uwsgi_loc_conf_t, cgi.upstream.next_upstream_tries),
      NULL },

    { kl_string("uwsgi_next_upstream_timeout"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE1,
      kl_conf_set_msec_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_uwsgi_loc_conf_t, cgi.upstream.next_upstream_timeout),
      NULL },

    { kl_string("uwsgi_intercept_errors"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_FLAG,
      kl_conf_set_flag_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_uwsgi_loc_conf_t, cgi.upstream.intercept_errors),
      NULL },

    { kl_string("uwsgi_pass_request_headers"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_FLAG,
      kl_conf_set_flag_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_uwsgi_loc_conf_t, cgi.pass_request_headers),
      NULL },

    { kl_string("uwsgi_pass_request_body"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_FLAG,
      kl_conf_set_flag_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_uwsgi_loc_conf_t, cgi.upstream.pass_request_body),
      NULL },

    { kl_string("uwsgi_request_buffering"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_FLAG,
      kl_conf_set_flag_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_uwsgi_loc_conf_t, cgi.upstream.request_buffering),
      NULL },

    { kl_string("uwsgi_hide_header"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE1,
      kl_http_upstream_header_name_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_uwsgi_loc_conf_t, cgi.upstream.hide),
      NULL },

    { kl_string("uwsgi_pass_header"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE1,
      kl_http_upstream_header_name_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_uwsgi_loc_conf_t, cgi.upstream.pass),
      NULL },

    { kl_string("uwsgi_ignore_client_abort"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_FLAG,
      kl_conf_set_flag_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_uwsgi_loc_conf_t, cgi.upstream.ignore_client_abort),
      NULL },
    { kl_string("uwsgi_ignore_headers"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_1MORE,
      kl_http_upstream_ignore_headers_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_uwsgi_loc_conf_t, cgi.upstream.ignore_headers),
      NULL },
    { kl_string("uwsgi_force_ranges"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_FLAG,
      kl_conf_set_flag_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_uwsgi_loc_conf_t, cgi.upstream.force_ranges),
      NULL },
    { kl_string("uwsgi_socket_keepalive"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_FLAG,
      kl_conf_set_flag_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_uwsgi_loc_conf_t, cgi.upstream.socket_keepalive),
      NULL },
    { kl_string("uwsgi_limit_rate"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE1,
      kl_http_upstream_rate_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_uwsgi_loc_conf_t, cgi.upstream.limit_rate),
      NULL },
    { kl_string("uwsgi_bind"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE12,
      kl_http_upstream_bind_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_uwsgi_loc_conf_t, cgi.upstream.local),
      NULL },

#if (KL_HTTP_UPSTREAM_SSL)
    KL_HTTP_UPSTREAM_SSL_COMMANDS("uwsgi", kl_http_uwsgi_loc_conf_t,
                                  cgi.upstream),
#endif

    kl_null_command
};
/* clang-format on */


static kl_http_module_t kl_http_uwsgi_module_ctx = {
    .create_loc_conf = kl_http_uwsgi_create_loc_conf,
    .merge_loc_conf = kl_http_uwsgi_merge_loc_conf,
};


kl_module_t kl_http_uwsgi_module = {
    .name = "kl_http_uwsgi_module",
    .ctx = &kl_http_uwsgi_module_ctx,
    .commands = kl_http_uwsgi_commands,
    .type = KL_HTTP_MODULE,
};


static kl_int_t
kl_http_uwsgi_handler(kl_http_request_t *r)
{
    kl_http_uwsgi_loc_conf_t *ulcf;

    ulcf = kl_http_get_module_loc_conf(r, kl_http_uwsgi_module);

    return kl_http_cgi_handler(r, &ulcf->cgi, ulcf, &kl_http_uwsgi_proto);
}


static u_char *
kl_http_uwsgi_put_str(u_char *p, kl_str_t *s)
{
    *p++ = (u_char) (s->len & 0xff);
    *p++ = (u_char) ((s->len >> 8) & 0xff);

    return s->len ? kl_cpymem(p, s->data, s->len) : p;
}


/* The packet: header and vars in one buffer, then views of the body. */
static kl_int_t
kl_http_uwsgi_create(kl_http_request_t *r, kl_http_cgi_var_t *vars,
                     kl_uint_t nvars)
{
    u_char                   *p;
    size_t                    len;
    kl_buf_t                 *b;
    kl_uint_t                 i;
    kl_chain_t               *cl;
    kl_http_cgi_ctx_t        *ctx;
    kl_http_upstream_t       *u;
    kl_http_uwsgi_loc_conf_t *ulcf;

    u = r->upstream;
    ctx = u->input_filter_ctx;
    ulcf = ctx->proto_conf;
    len = 0;

    for (i = 0; i < nvars; i++) {
        /* A key or value over 65535 is caught by the sum: it is larger. */
        len += 2 + vars[i].key.len + 2 + vars[i].value.len;
    }

    if (len > 65535) {
        kl_log_error(KL_LOG_ALERT, r->connection->log, 0,
                     "uwsgi request is too big: %uz", len);
        return KL_ERROR;
    }

    b = kl_buf_create_temp(r->pool, 4 + len);
    cl = kl_chain_alloc(r->pool);
    if (b == NULL || cl == NULL) {
        return KL_ERROR;
    }

    p = b->last;
    *p++ = (u_char) ulcf->modifier1;
    *p++ = (u_char) (len & 0xff);
    *p++ = (u_char) ((len >> 8) & 0xff);
    *p++ = (u_char) ulcf->modifier2;

    for (i = 0; i < nvars; i++) {
        p = kl_http_uwsgi_put_str(p, &vars[i].key);
        p = kl_http_uwsgi_put_str(p, &vars[i].value);
    }

    b->last = p;
    cl->buf = b;
    cl->next = NULL;
    u->request_bufs = cl;

    return kl_http_cgi_body(r, &cl->next);
}


static char *
kl_http_uwsgi_pass(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_http_uwsgi_loc_conf_t *ulcf = conf;

    (void) cmd;

    return kl_http_cgi_pass(cf, &ulcf->cgi, kl_http_uwsgi_handler,
                            &kl_http_uwsgi_proto);
}


/* uwsgi_modifier1, uwsgi_modifier2: a byte of the packet's header. */
static char *
kl_http_uwsgi_modifier(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_int_t *np = (kl_int_t *) ((char *) conf + cmd->offset);

    kl_int_t  n;
    kl_str_t *value;

    if (*np != KL_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;
    n = kl_atoi(value[1].data, value[1].len);

    if (n == KL_ERROR) {
        return "invalid number";
    }

    if (n > 255) {
        /* nginx's bounds check names no directive */
        kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                          "value must be between 0 and 255");
        return KL_CONF_ERROR;
    }

    *np = n;

    return KL_CONF_OK;
}


static void *
kl_http_uwsgi_create_loc_conf(kl_conf_t *cf)
{
    kl_http_uwsgi_loc_conf_t *conf;

    conf = kl_pcalloc(cf->pool, sizeof(kl_http_uwsgi_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    kl_http_cgi_conf_init(&conf->cgi);
    conf->modifier1 = KL_CONF_UNSET;
    conf->modifier2 = KL_CONF_UNSET;

    return conf;
}


static char *
kl_http_uwsgi_merge_loc_conf(kl_conf_t *cf, void *parent, void *child)
{
    kl_http_uwsgi_loc_conf_t *prev = parent;
    kl_http_uwsgi_loc_conf_t *conf = child;

    kl_conf_merge_value(conf->modifier1, prev->modifier1, 0);
    kl_conf_merge_value(conf->modifier2, prev->modifier2, 0);

    return kl_http_cgi_merge_conf(cf, &conf->cgi, &prev->cgi, "uwsgi",
                                  "uwsgi_temp");
}
