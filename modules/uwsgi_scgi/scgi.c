/*
 * scgi.c: scgi_pass, as nginx's ngx_http_scgi_module: its directives, the
 * content handler, and the request in SCGI's form: a netstring
 * ("LENGTH:" the headers ",") of NUL-terminated names and values,
 * CONTENT_LENGTH first (the body's length, as the protocol requires),
 * then the params and the request's fields as HTTP_*, then the body as it
 * is. As in nginx, SCGI=1 comes from scgi_params, not from the module.
 * upstream_cgi.c does the rest: the params, the response (CGI fields with
 * Status:, or a status line) and the peer named per request; upstream.c
 * runs the exchange.
 *
 * An SCGI server ends a response at the close: the connection is not
 * kept (keepalive in an upstream group has no effect here, as in nginx).
 */

#include "upstream_cgi.h"


static kl_int_t kl_http_scgi_handler(kl_http_request_t *r);
static kl_int_t kl_http_scgi_create(kl_http_request_t *r,
                                    kl_http_cgi_var_t *vars, kl_uint_t nvars);
static char    *kl_http_scgi_pass(kl_conf_t *cf, kl_command_t *cmd, void *conf);
static void    *kl_http_scgi_create_loc_conf(kl_conf_t *cf);
static char    *kl_http_scgi_merge_loc_conf(kl_conf_t *cf, void *parent,
                                            void *child);


/* scgi_pass takes the address alone (nginx's); "scgi://" is for logs. */
static const kl_http_cgi_proto_t kl_http_scgi_proto = {
    .create = kl_http_scgi_create,
    .schema = "scgi://",
    .prefix = "",
    .tls_prefix = "",
};


static kl_conf_enum_t kl_http_scgi_next_upstream_masks[] = {
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
 * nginx's page lists is here but caching and store ones, which
 * core/conf_absent.c refuses with the reason, as for proxy_ and
 * fastcgi_. The rows from X_ignore_client_abort on are the shared
 * upstream settings (upstream_settings.c), as fastcgi's.
 */
/* clang-format off */
static kl_command_t  kl_http_scgi_commands[] = {

    { kl_string("scgi_pass"),
      KL_HTTP_LOC_CONF | KL_HTTP_LIF_CONF | KL_CONF_TAKE1,
      kl_http_scgi_pass,
      KL_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { kl_string("scgi_param"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE23,
      kl_http_cgi_param_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { kl_string("scgi_connect_timeout"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE1,
      kl_conf_set_msec_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_cgi_loc_conf_t, upstream.connect_timeout),
      NULL },

    { kl_string("scgi_send_timeout"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE1,
      kl_conf_set_msec_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_cgi_loc_conf_t, upstream.send_timeout),
      NULL },

    { kl_string("scgi_read_timeout"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE1,
      kl_conf_set_msec_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_cgi_loc_conf_t, upstream.read_timeout),
      NULL },

    { kl_string("scgi_buffer_size"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE1,
      kl_conf_set_size_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_cgi_loc_conf_t, upstream.buffer_size),
      NULL },

    { kl_string("scgi_buffering"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_FLAG,
      kl_conf_set_flag_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_cgi_loc_conf_t, upstream.buffering),
      NULL },

    { kl_string("scgi_buffers"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE2,
      kl_http_cgi_buffers_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { kl_string("scgi_busy_buffers_size"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE1,
      kl_conf_set_size_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_cgi_loc_conf_t, busy_buffers_size_conf),
      NULL },

    { kl_string("scgi_temp_path"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE1234,
      kl_http_temp_path_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_cgi_loc_conf_t, upstream.temp_path),
      NULL },

    { kl_string("scgi_max_temp_file_size"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE1,
      kl_conf_set_size_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_cgi_loc_conf_t, upstream.max_temp_file_size_conf),
      NULL },

    { kl_string("scgi_temp_file_write_size"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE1,
      kl_conf_set_size_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_cgi_loc_conf_t, upstream.temp_file_write_size_conf),
      NULL },

    { kl_string("scgi_next_upstream"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_1MORE,
      kl_conf_set_bitmask_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_cgi_loc_conf_t, upstream.next_upstream),
      kl_http_scgi_next_upstream_masks },

    { kl_string("scgi_next_upstream_tries"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE1,
      kl_conf_set_num_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_cgi_loc_conf_t, upstream.next_upstream_tries),
      NULL },

    { kl_string("scgi_next_upstream_timeout"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE1,
      kl_conf_set_msec_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_cgi_loc_conf_t, upstream.next_upstream_timeout),
      NULL },

    { kl_string("scgi_intercept_errors"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_FLAG,
      kl_conf_set_flag_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_cgi_loc_conf_t, upstream.intercept_errors),
      NULL },

    { kl_string("scgi_pass_request_headers"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_FLAG,
      kl_conf_set_flag_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_cgi_loc_conf_t, pass_request_headers),
      NULL },

    { kl_string("scgi_pass_request_body"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_FLAG,
      kl_conf_set_flag_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_cgi_loc_conf_t, upstream.pass_request_body),
      NULL },

    { kl_string("scgi_request_buffering"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_FLAG,
      kl_conf_set_flag_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_cgi_loc_conf_t, upstream.request_buffering),
      NULL },

    { kl_string("scgi_hide_header"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE1,
      kl_http_upstream_header_name_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_cgi_loc_conf_t, upstream.hide),
      NULL },

    { kl_string("scgi_pass_header"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE1,
      kl_http_upstream_header_name_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_cgi_loc_conf_t, upstream.pass),
      NULL },

    { kl_string("scgi_ignore_client_abort"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_FLAG,
      kl_conf_set_flag_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_cgi_loc_conf_t, upstream.ignore_client_abort),
      NULL },
    { kl_string("scgi_ignore_headers"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_1MORE,
      kl_http_upstream_ignore_headers_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_cgi_loc_conf_t, upstream.ignore_headers),
      NULL },
    { kl_string("scgi_force_ranges"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_FLAG,
      kl_conf_set_flag_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_cgi_loc_conf_t, upstream.force_ranges),
      NULL },
    { kl_string("scgi_socket_keepalive"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_FLAG,
      kl_conf_set_flag_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_cgi_loc_conf_t, upstream.socket_keepalive),
      NULL },
    { kl_string("scgi_limit_rate"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE1,
      kl_http_upstream_rate_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_cgi_loc_conf_t, upstream.limit_rate),
      NULL },
    { kl_string("scgi_bind"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE12,
      kl_http_upstream_bind_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_cgi_loc_conf_t, upstream.local),
      NULL },

    kl_null_command
};
/* clang-format on */


static kl_http_module_t kl_http_scgi_module_ctx = {
    .create_loc_conf = kl_http_scgi_create_loc_conf,
    .merge_loc_conf = kl_http_scgi_merge_loc_conf,
};


kl_module_t kl_http_scgi_module = {
    .name = "kl_http_scgi_module",
    .ctx = &kl_http_scgi_module_ctx,
    .commands = kl_http_scgi_commands,
    .type = KL_HTTP_MODULE,
};


static kl_int_t
kl_http_scgi_handler(kl_http_request_t *r)
{
    kl_http_cgi_loc_conf_t *slcf;

    slcf = kl_http_get_module_loc_conf(r, kl_http_scgi_module);

    return kl_http_cgi_handler(r, slcf, slcf, &kl_http_scgi_proto);
}


/* The netstring, then views of the body. */
static kl_int_t
kl_http_scgi_create(kl_http_request_t *r, kl_http_cgi_var_t *vars,
                    kl_uint_t nvars)
{
    off_t               body_len;
    u_char             *p, cl_text[sizeof("-9223372036854775808")];
    size_t              len, cl_len;
    kl_buf_t           *b;
    kl_uint_t           i, body;
    kl_chain_t         *cl, *in;
    kl_http_cgi_ctx_t  *ctx;
    kl_http_upstream_t *u;

    u = r->upstream;
    ctx = u->input_filter_ctx;
    body = ctx->conf->upstream.pass_request_body && r->request_body;
    body_len = 0;

    if (body && r->request_body_no_buffering) {
        /* never chunked here (kl_http_cgi_handler); -1: no body */
        body_len = kl_max(r->headers_in.content_length_n, 0);

    } else if (body) {
        for (in = r->request_body->bufs; in; in = in->next) {
            body_len += kl_buf_size(in->buf);
        }
    }

    cl_len = kl_slprintf(cl_text, cl_text + sizeof(cl_text), "%O", body_len)
             - cl_text;
    len = sizeof("CONTENT_LENGTH") + cl_len + 1;

    for (i = 0; i < nvars; i++) {
        len += vars[i].key.len + 1 + vars[i].value.len + 1;
    }

    b = kl_buf_create_temp(r->pool, sizeof("18446744073709551615:") + len + 1);
    cl = kl_chain_alloc(r->pool);
    if (b == NULL || cl == NULL) {
        return KL_ERROR;
    }

    p = kl_slprintf(b->last, b->end, "%uz:", len);
    p = kl_cpymem(p, "CONTENT_LENGTH", sizeof("CONTENT_LENGTH"));
    p = kl_cpymem(p, cl_text, cl_len);
    *p++ = '\0';

    for (i = 0; i < nvars; i++) {
        p = kl_cpymem(p, vars[i].key.data, vars[i].key.len);
        *p++ = '\0';

        if (vars[i].value.len) {
            p = kl_cpymem(p, vars[i].value.data, vars[i].value.len);
        }

        *p++ = '\0';
    }

    *p++ = ',';
    b->last = p;
    cl->buf = b;
    cl->next = NULL;
    u->request_bufs = cl;

    return kl_http_cgi_body(r, &cl->next);
}


static char *
kl_http_scgi_pass(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    (void) cmd;

    return kl_http_cgi_pass(cf, conf, kl_http_scgi_handler,
                            &kl_http_scgi_proto);
}


static void *
kl_http_scgi_create_loc_conf(kl_conf_t *cf)
{
    kl_http_cgi_loc_conf_t *conf;

    conf = kl_pcalloc(cf->pool, sizeof(kl_http_cgi_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    kl_http_cgi_conf_init(conf);

    return conf;
}


static char *
kl_http_scgi_merge_loc_conf(kl_conf_t *cf, void *parent, void *child)
{
    return kl_http_cgi_merge_conf(cf, child, parent, "scgi", "scgi_temp");
}
