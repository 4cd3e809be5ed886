/*
 * fastcgi.c: fastcgi_pass, as nginx's ngx_http_fastcgi_module: its
 * directives, $fastcgi_script_name and $fastcgi_path_info
 * (fastcgi_split_path_info, fastcgi_index), and the content handler
 * that starts the exchange; fastcgi_http.c speaks FastCGI to the
 * responder, upstream.c runs the exchange (connect, retries, buffers,
 * timeouts).
 *
 * fastcgi_pass ADDRESS names an upstream group (kl_http_upstream_add):
 * an "upstream NAME" block, or an implicit group of host:port or
 * unix:PATH.
 */

#include "fastcgi_http.h"


static kl_int_t kl_http_fastcgi_handler(kl_http_request_t *r);
static kl_http_fastcgi_ctx_t *
kl_http_fastcgi_split(kl_http_request_t *r, kl_http_fastcgi_loc_conf_t *flcf);
static char *kl_http_fastcgi_pass(kl_conf_t *cf, kl_command_t *cmd, void *conf);
static kl_int_t kl_http_fastcgi_eval(kl_http_request_t          *r,
                                     kl_http_fastcgi_loc_conf_t *flcf);
static char    *kl_http_fastcgi_param(kl_conf_t *cf, kl_command_t *cmd,
                                      void *conf);
static char *kl_http_fastcgi_split_path_info(kl_conf_t *cf, kl_command_t *cmd,
                                             void *conf);
static char *kl_http_fastcgi_buffers(kl_conf_t *cf, kl_command_t *cmd,
                                     void *conf);
static char *kl_http_fastcgi_header_name(kl_conf_t *cf, kl_command_t *cmd,
                                         void *conf);
static kl_int_t kl_http_fastcgi_add_variables(kl_conf_t *cf);
static kl_int_t kl_http_fastcgi_variable(kl_http_request_t        *r,
                                         kl_http_variable_value_t *v,
                                         uintptr_t                 data);
static void    *kl_http_fastcgi_create_loc_conf(kl_conf_t *cf);
static char    *kl_http_fastcgi_merge_loc_conf(kl_conf_t *cf, void *parent,
                                               void *child);


static kl_conf_enum_t kl_http_fastcgi_next_upstream_masks[] = {
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


/* Directive tables keep one field a line, as nginx's do. */
/* clang-format off */
static kl_command_t  kl_http_fastcgi_commands[] = {

    { kl_string("fastcgi_pass"),
      KL_HTTP_LOC_CONF | KL_HTTP_LIF_CONF | KL_CONF_TAKE1,
      kl_http_fastcgi_pass,
      KL_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { kl_string("fastcgi_index"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE1,
      kl_conf_set_str_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_fastcgi_loc_conf_t, index),
      NULL },

    { kl_string("fastcgi_split_path_info"),
      KL_HTTP_LOC_CONF | KL_CONF_TAKE1,
      kl_http_fastcgi_split_path_info,
      KL_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { kl_string("fastcgi_param"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE23,
      kl_http_fastcgi_param,
      KL_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { kl_string("fastcgi_keep_conn"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_FLAG,
      kl_conf_set_flag_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_fastcgi_loc_conf_t, keep_conn),
      NULL },

    { kl_string("fastcgi_connect_timeout"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE1,
      kl_conf_set_msec_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_fastcgi_loc_conf_t, upstream.connect_timeout),
      NULL },

    { kl_string("fastcgi_send_timeout"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE1,
      kl_conf_set_msec_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_fastcgi_loc_conf_t, upstream.send_timeout),
      NULL },

    { kl_string("fastcgi_read_timeout"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE1,
      kl_conf_set_msec_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_fastcgi_loc_conf_t, upstream.read_timeout),
      NULL },

    { kl_string("fastcgi_buffer_size"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE1,
      kl_conf_set_size_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_fastcgi_loc_conf_t, upstream.buffer_size),
      NULL },

    { kl_string("fastcgi_buffering"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_FLAG,
      kl_conf_set_flag_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_fastcgi_loc_conf_t, upstream.buffering),
      NULL },

    { kl_string("fastcgi_buffers"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE2,
      kl_http_fastcgi_buffers,
      KL_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { kl_string("fastcgi_busy_buffers_size"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE1,
      kl_conf_set_size_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_fastcgi_loc_conf_t, busy_buffers_size_conf),
      NULL },

    { kl_string("fastcgi_temp_path"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE1234,
      kl_http_temp_path_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_fastcgi_loc_conf_t, upstream.temp_path),
      NULL },

    { kl_string("fastcgi_max_temp_file_size"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE1,
      kl_conf_set_size_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_fastcgi_loc_conf_t, upstream.max_temp_file_size_conf),
      NULL },

    { kl_string("fastcgi_temp_file_write_size"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE1,
      kl_conf_set_size_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_fastcgi_loc_conf_t, upstream.temp_file_write_size_conf),
      NULL },

    { kl_string("fastcgi_next_upstream"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_1MORE,
      kl_conf_set_bitmask_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_fastcgi_loc_conf_t, upstream.next_upstream),
      kl_http_fastcgi_next_upstream_masks },

    { kl_string("fastcgi_next_upstream_tries"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE1,
      kl_conf_set_num_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_fastcgi_loc_conf_t, upstream.next_upstream_tries),
      NULL },

    { kl_string("fastcgi_next_upstream_timeout"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE1,
      kl_conf_set_msec_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_fastcgi_loc_conf_t, upstream.next_upstream_timeout),
      NULL },

    { kl_string("fastcgi_intercept_errors"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_FLAG,
      kl_conf_set_flag_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_fastcgi_loc_conf_t, upstream.intercept_errors),
      NULL },

    { kl_string("fastcgi_pass_request_headers"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_FLAG,
      kl_conf_set_flag_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_fastcgi_loc_conf_t, pass_request_headers),
      NULL },

    { kl_string("fastcgi_pass_request_body"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_FLAG,
      kl_conf_set_flag_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_fastcgi_loc_conf_t, upstream.pass_request_body),
      NULL },

    { kl_string("fastcgi_request_buffering"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_FLAG,
      kl_conf_set_flag_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_fastcgi_loc_conf_t, upstream.request_buffering),
      NULL },

    { kl_string("fastcgi_hide_header"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE1,
      kl_http_fastcgi_header_name,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_fastcgi_loc_conf_t, upstream.hide),
      NULL },

    { kl_string("fastcgi_pass_header"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE1,
      kl_http_fastcgi_header_name,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_fastcgi_loc_conf_t, upstream.pass),
      NULL },

    { kl_string("fastcgi_ignore_client_abort"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_FLAG,
      kl_conf_set_flag_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_fastcgi_loc_conf_t, upstream.ignore_client_abort),
      NULL },
    { kl_string("fastcgi_ignore_headers"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_1MORE,
      kl_http_upstream_ignore_headers_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_fastcgi_loc_conf_t, upstream.ignore_headers),
      NULL },
    { kl_string("fastcgi_force_ranges"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_FLAG,
      kl_conf_set_flag_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_fastcgi_loc_conf_t, upstream.force_ranges),
      NULL },
    { kl_string("fastcgi_socket_keepalive"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_FLAG,
      kl_conf_set_flag_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_fastcgi_loc_conf_t, upstream.socket_keepalive),
      NULL },
    { kl_string("fastcgi_limit_rate"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE1,
      kl_http_upstream_rate_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_fastcgi_loc_conf_t, upstream.limit_rate),
      NULL },
    { kl_string("fastcgi_bind"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE12,
      kl_http_upstream_bind_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_fastcgi_loc_conf_t, upstream.local),
      NULL },
    { kl_string("fastcgi_send_lowat"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE1,
      kl_http_upstream_lowat_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },
    { kl_string("fastcgi_catch_stderr"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE1,
      kl_conf_set_str_array_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_fastcgi_loc_conf_t, catch_stderr),
      NULL },

    kl_null_command
};
/* clang-format on */


static kl_http_module_t kl_http_fastcgi_module_ctx = {
    .preconfiguration = kl_http_fastcgi_add_variables,
    .create_loc_conf = kl_http_fastcgi_create_loc_conf,
    .merge_loc_conf = kl_http_fastcgi_merge_loc_conf,
};


kl_module_t kl_http_fastcgi_module = {
    .name = "kl_http_fastcgi_module",
    .ctx = &kl_http_fastcgi_module_ctx,
    .commands = kl_http_fastcgi_commands,
    .type = KL_HTTP_MODULE,
};


/* Response fields the responder means for the server alone (nginx's). */
static kl_str_t kl_http_fastcgi_hide_default[] = {
    kl_string("status"),
    kl_null_string,
};


static kl_int_t
kl_http_fastcgi_handler(kl_http_request_t *r)
{
    kl_int_t                    rc;
    kl_http_upstream_t         *u;
    kl_http_fastcgi_ctx_t      *ctx;
    kl_http_fastcgi_loc_conf_t *flcf;

    if (kl_http_upstream_create(r) != KL_OK) {
        return KL_HTTP_INTERNAL_SERVER_ERROR;
    }

    flcf = kl_http_get_module_loc_conf(r, kl_http_fastcgi_module);

    /* The split may have been made already, for a variable. */
    ctx = kl_http_fastcgi_split(r, flcf);
    if (ctx == NULL) {
        return KL_HTTP_INTERNAL_SERVER_ERROR;
    }

    u = r->upstream;
    ctx->conf = flcf;
    ctx->rest = -1;
    u->input_filter_ctx = ctx;
    u->conf = &flcf->upstream;

    if (flcf->pass_value && kl_http_fastcgi_eval(r, flcf) != KL_OK) {
        return KL_HTTP_INTERNAL_SERVER_ERROR;
    }

    u->create_request = kl_http_fastcgi_create_request;
    u->reinit_request = kl_http_fastcgi_reinit_request;
    u->process_header = kl_http_fastcgi_process_header;
    u->input_filter_init = kl_http_fastcgi_input_filter_init;
    u->input_filter = kl_http_fastcgi_input_filter;
    u->buffering = flcf->upstream.buffering ? 1 : 0;
    kl_str_set(&u->schema, "fastcgi://");

    if (!flcf->upstream.pass_request_body) {
        rc = kl_http_discard_request_body(r);
        if (rc != KL_OK) {
            return rc;
        }

        r->main->count++;
        kl_http_upstream_init(r);
        return KL_DONE;
    }

    if (!flcf->upstream.request_buffering) {
        r->request_body_no_buffering = 1;
        u->body_frame = kl_http_fastcgi_body_frame;
    }

    rc = kl_http_read_client_request_body(r, kl_http_upstream_init);

    if (rc >= KL_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return KL_DONE;
}


/* r's context, with $fastcgi_script_name's and _path_info's parts. */
static kl_http_fastcgi_ctx_t *
kl_http_fastcgi_split(kl_http_request_t *r, kl_http_fastcgi_loc_conf_t *flcf)
{
    int                    captures[3 * 3];
    kl_int_t               n;
    kl_http_fastcgi_ctx_t *ctx;

    ctx = kl_http_get_module_ctx(r, kl_http_fastcgi_module);

    if (ctx == NULL) {
        ctx = kl_pcalloc(r->pool, sizeof(kl_http_fastcgi_ctx_t));
        if (ctx == NULL) {
            return NULL;
        }

        kl_http_set_ctx(r, ctx, kl_http_fastcgi_module);
    }

    if (ctx->split) {
        return ctx;
    }

    ctx->script_name = r->uri;
    kl_str_null(&ctx->path_info);

    if (flcf->split_regex) {
        n = kl_regex_exec(flcf->split_regex->regex, &r->uri, captures, 9);

        if (n >= 0) {
            ctx->script_name.data = r->uri.data + captures[2];
            ctx->script_name.len = captures[3] - captures[2];
            ctx->path_info.data = r->uri.data + captures[4];
            ctx->path_info.len = captures[5] - captures[4];

        } else if (n != KL_REGEX_NO_MATCHED) {
            kl_log_error(KL_LOG_ALERT, r->connection->log, 0,
                         "regex exec failed: %i on \"%V\"", n, &r->uri);
            return NULL;
        }
    }

    ctx->split = 1;

    return ctx;
}


static char *
kl_http_fastcgi_pass(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_http_fastcgi_loc_conf_t *flcf = conf;

    kl_str_t                    *value;
    kl_http_core_loc_conf_t     *clcf;
    kl_http_upstream_srv_conf_t *us;

    (void) cmd;

    if (flcf->upstream.upstream || flcf->pass_value) {
        return "is duplicate";
    }

    value = cf->args->elts;

    clcf = kl_http_conf_get_module_loc_conf(cf, kl_http_core_module);
    clcf->handler = kl_http_fastcgi_handler;

    if (kl_http_script_variables_count(&value[1])) {
        /* The address is evaluated per request (kl_http_fastcgi_eval). */
        flcf->pass_value = kl_http_compile_value(cf, &value[1]);
        return flcf->pass_value ? KL_CONF_OK : KL_CONF_ERROR;
    }

    us = kl_http_upstream_add(cf, &value[1], 0);
    if (us == NULL) {
        return KL_CONF_ERROR;
    }

    flcf->upstream.upstream = us;

    return KL_CONF_OK;
}


/*
 * fastcgi_pass with variables, as nginx's ngx_http_fastcgi_eval: the
 * value is host:port (an address literal, an upstream group, or a name
 * for the resolver) or unix:PATH. Errors are logged and answer 500.
 */
static kl_int_t
kl_http_fastcgi_eval(kl_http_request_t *r, kl_http_fastcgi_loc_conf_t *flcf)
{
    size_t                       len;
    kl_str_t                     url;
    const char                  *err;
    struct sockaddr_un          *sun;
    kl_http_upstream_resolved_t *ur;

    if (kl_http_complex_value(r, flcf->pass_value, &url) != KL_OK) {
        return KL_ERROR;
    }

    ur = kl_pcalloc(r->pool, sizeof(kl_http_upstream_resolved_t));
    if (ur == NULL) {
        return KL_ERROR;
    }

    if (url.len >= 5 && kl_strncasecmp(url.data, (u_char *) "unix:", 5) == 0) {
        sun = &ur->sockaddr.sockaddr_un;
        len = url.len - 5;

        if (len == 0 || len >= sizeof(sun->sun_path)) {
            kl_log_error(KL_LOG_ERR, r->connection->log, 0,
                         "%s in upstream \"%V\"",
                         len ? "too long path in the unix domain socket"
                             : "no path in the unix domain socket",
                         &url);
            return KL_ERROR;
        }

        sun->sun_family = AF_UNIX;
        kl_memcpy(sun->sun_path, url.data + 5, len);
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

    if (ur->no_port) {
        kl_log_error(KL_LOG_ERR, r->connection->log, 0,
                     "no port in upstream \"%V\"", &url);
        return KL_ERROR;
    }

    r->upstream->resolved = ur;

    return KL_OK;
}


static char *
kl_http_fastcgi_param(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_http_fastcgi_loc_conf_t *flcf = conf;

    kl_str_t                *value;
    kl_http_fastcgi_param_t *prm;

    (void) cmd;

    value = cf->args->elts;

    if (cf->args->nelts == 4
        && (value[3].len != 12
            || kl_strncmp(value[3].data, "if_not_empty", 12) != 0))
    {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0, "invalid parameter \"%V\"",
                          &value[3]);
        return KL_CONF_ERROR;
    }

    if (flcf->params == NULL) {
        flcf->params =
            kl_array_create(cf->pool, 8, sizeof(kl_http_fastcgi_param_t));
        if (flcf->params == NULL) {
            return KL_CONF_ERROR;
        }
    }

    prm = kl_array_push(flcf->params);
    if (prm == NULL) {
        return KL_CONF_ERROR;
    }

    prm->key = value[1];
    prm->skip_empty = cf->args->nelts == 4;
    prm->value = kl_http_compile_value(cf, &value[2]);

    return prm->value ? KL_CONF_OK : KL_CONF_ERROR;
}


static char *
kl_http_fastcgi_split_path_info(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_http_fastcgi_loc_conf_t *flcf = conf;

    kl_str_t          *value;
    kl_regex_compile_t rc;

    (void) cmd;

    value = cf->args->elts;

    kl_memzero(&rc, sizeof(kl_regex_compile_t));
    rc.pattern = value[1];
    rc.pool = cf->pool;

    flcf->split_regex = kl_http_regex_compile(cf, &rc);
    if (flcf->split_regex == NULL) {
        return KL_CONF_ERROR;
    }

    if (rc.regex->captures != 2) {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                          "pattern \"%V\" must have 2 captures", &value[1]);
        return KL_CONF_ERROR;
    }

    return KL_CONF_OK;
}


/* fastcgi_buffers NUMBER SIZE */
static char *
kl_http_fastcgi_buffers(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_http_fastcgi_loc_conf_t *flcf = conf;

    ssize_t   size;
    kl_int_t  num;
    kl_str_t *value;

    (void) cmd;

    if (flcf->upstream.bufs.num != 0) {
        return "is duplicate";
    }

    value = cf->args->elts;

    num = kl_atoi(value[1].data, value[1].len);
    if (num == KL_ERROR || num == 0) {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0, "invalid value \"%V\"",
                          &value[1]);
        return KL_CONF_ERROR;
    }

    size = kl_conf_parse_size(&value[2]);
    if (size == KL_ERROR || size == 0) {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0, "invalid value \"%V\"",
                          &value[2]);
        return KL_CONF_ERROR;
    }

    flcf->upstream.bufs.num = num;
    flcf->upstream.bufs.size = size;

    return KL_CONF_OK;
}


/* fastcgi_hide_header, fastcgi_pass_header (not Server, Date: below). */
static char *
kl_http_fastcgi_header_name(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_str_t *value;

    value = cf->args->elts;

    if (cmd->offset == offsetof(kl_http_fastcgi_loc_conf_t, upstream.pass)
        && ((value[1].len == 6
             && kl_strncasecmp(value[1].data, (u_char *) "server", 6) == 0)
            || (value[1].len == 4
                && kl_strncasecmp(value[1].data, (u_char *) "date", 4) == 0)))
    {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                          "passing the \"%V\" field is not supported",
                          &value[1]);
        return KL_CONF_ERROR;
    }

    return kl_http_upstream_header_name_slot(cf, cmd, conf);
}


#define KL_HTTP_FASTCGI_VAR_SCRIPT_NAME 0
#define KL_HTTP_FASTCGI_VAR_PATH_INFO   1


static kl_str_t kl_http_fastcgi_var_names[] = {
    kl_string("fastcgi_script_name"),
    kl_string("fastcgi_path_info"),
};


static kl_int_t
kl_http_fastcgi_add_variables(kl_conf_t *cf)
{
    kl_uint_t           i;
    kl_http_variable_t *v;

    for (i = 0; i < 2; i++) {
        v = kl_http_add_variable(cf, &kl_http_fastcgi_var_names[i],
                                 KL_HTTP_VAR_NOCACHEABLE);
        if (v == NULL) {
            return KL_ERROR;
        }

        v->get_handler = kl_http_fastcgi_variable;
        v->data = i;
    }

    return KL_OK;
}


/* $fastcgi_script_name (with fastcgi_index after a '/'), _path_info. */
static kl_int_t
kl_http_fastcgi_variable(kl_http_request_t *r, kl_http_variable_value_t *v,
                         uintptr_t data)
{
    u_char                     *p;
    kl_http_fastcgi_ctx_t      *ctx;
    kl_http_fastcgi_loc_conf_t *flcf;

    flcf = kl_http_get_module_loc_conf(r, kl_http_fastcgi_module);

    ctx = kl_http_fastcgi_split(r, flcf);
    if (ctx == NULL) {
        return KL_ERROR;
    }

    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;

    if (data == KL_HTTP_FASTCGI_VAR_PATH_INFO) {
        /* Never NULL: complex values copy it with memcpy. */
        v->len = ctx->path_info.len;
        v->data = ctx->path_info.data ? ctx->path_info.data : (u_char *) "";
        return KL_OK;
    }

    if (ctx->script_name.len == 0
        || ctx->script_name.data[ctx->script_name.len - 1] != '/'
        || flcf->index.len == 0)
    {
        v->len = ctx->script_name.len;
        v->data = ctx->script_name.data;
        return KL_OK;
    }

    p = kl_pnalloc(r->pool, ctx->script_name.len + flcf->index.len);
    if (p == NULL) {
        return KL_ERROR;
    }

    v->data = p;
    p = kl_cpymem(p, ctx->script_name.data, ctx->script_name.len);
    p = kl_cpymem(p, flcf->index.data, flcf->index.len);
    v->len = p - v->data;

    return KL_OK;
}


static void *
kl_http_fastcgi_create_loc_conf(kl_conf_t *cf)
{
    kl_http_fastcgi_loc_conf_t *conf;

    conf = kl_pcalloc(cf->pool, sizeof(kl_http_fastcgi_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    kl_http_upstream_conf_init(&conf->upstream);
    conf->busy_buffers_size_conf = KL_CONF_UNSET_SIZE;
    conf->keep_conn = KL_CONF_UNSET;
    conf->pass_request_headers = KL_CONF_UNSET;
    conf->split_regex = KL_CONF_UNSET_PTR;
    conf->catch_stderr = KL_CONF_UNSET_PTR;

    return conf;
}


static char *
kl_http_fastcgi_merge_loc_conf(kl_conf_t *cf, void *parent, void *child)
{
    kl_http_fastcgi_loc_conf_t *prev = parent;
    kl_http_fastcgi_loc_conf_t *conf = child;

    if (kl_http_upstream_merge_conf(
            cf, &conf->upstream, &prev->upstream, &conf->busy_buffers_size_conf,
            prev->busy_buffers_size_conf, "fastcgi", "fastcgi_temp")
        != KL_OK)
    {
        return KL_CONF_ERROR;
    }

    kl_conf_merge_value(conf->keep_conn, prev->keep_conn, 0);
    kl_conf_merge_value(conf->pass_request_headers, prev->pass_request_headers,
                        1);
    kl_conf_merge_str_value(conf->index, prev->index, "");
    kl_conf_merge_ptr_value(conf->split_regex, prev->split_regex, NULL);
    kl_conf_merge_ptr_value(conf->catch_stderr, prev->catch_stderr, NULL);

    /* As nginx: a level with params of its own inherits none. */
    if (conf->params == NULL) {
        conf->params = prev->params;
    }

    conf->header_params = kl_http_upstream_header_params(cf, conf->params);
    if (conf->header_params == NULL) {
        return KL_CONF_ERROR;
    }

    /* nginx's hidden fields (the upstream's and Status), plus ours. */
    if (kl_http_upstream_hide_headers(cf, &conf->upstream, &prev->upstream,
                                      kl_http_fastcgi_hide_default)
        != KL_OK)
    {
        return KL_CONF_ERROR;
    }

    return KL_CONF_OK;
}
