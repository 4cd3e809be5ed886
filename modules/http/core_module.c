/*
 * core_module.c: the HTTP core module: server, location, listen,
 * server_name, root, alias, types and the engine's timeouts, sizes and flags.
 */

#include "kl_http.h"
#include "core_module.h"
#include "core_limits.h"
#include "core_symlinks.h"
#include "core_access.h"


static void *kl_http_core_create_main_conf(kl_conf_t *cf);
static char *kl_http_core_init_main_conf(kl_conf_t *cf, void *conf);
static void *kl_http_core_create_srv_conf(kl_conf_t *cf);
static char *kl_http_core_merge_srv_conf(kl_conf_t *cf, void *parent,
                                         void *child);
static void *kl_http_core_create_loc_conf(kl_conf_t *cf);
static char *kl_http_core_merge_loc_conf(kl_conf_t *cf, void *parent,
                                         void *child);

static char *kl_http_core_root(kl_conf_t *cf, kl_command_t *cmd, void *conf);
static char *kl_http_core_types(kl_conf_t *cf, kl_command_t *cmd, void *conf);
static char *kl_http_core_type(kl_conf_t *cf, kl_command_t *dummy, void *conf);
static char *kl_http_core_keepalive(kl_conf_t *cf, kl_command_t *cmd,
                                    void *conf);
static char *kl_http_core_error_page(kl_conf_t *cf, kl_command_t *cmd,
                                     void *conf);
static char *kl_http_core_internal(kl_conf_t *cf, kl_command_t *cmd,
                                   void *conf);
static char *kl_http_core_error_log(kl_conf_t *cf, kl_command_t *cmd,
                                    void *conf);
static char *kl_http_core_bufs(kl_conf_t *cf, kl_command_t *cmd, void *conf);


/* "build" names the build in nginx (--build=NAME); kiln has none: as on. */
static kl_conf_enum_t kl_http_core_server_tokens[] = { { kl_string("off"), 0 },
                                                       { kl_string("on"), 1 },
                                                       { kl_string("build"),
                                                         1 },
                                                       { kl_null_string, 0 } };

static kl_conf_enum_t kl_http_core_keepalive_disable[] = {
    { kl_string("none"), KL_HTTP_KEEPALIVE_DISABLE_NONE },
    { kl_string("msie6"), KL_HTTP_KEEPALIVE_DISABLE_MSIE6 },
    { kl_string("safari"), KL_HTTP_KEEPALIVE_DISABLE_SAFARI },
    { kl_null_string, 0 }
};

static kl_conf_enum_t kl_http_core_lingering_close[] = {
    { kl_string("off"), KL_HTTP_LINGERING_OFF },
    { kl_string("on"), KL_HTTP_LINGERING_ON },
    { kl_string("always"), KL_HTTP_LINGERING_ALWAYS },
    { kl_null_string, 0 }
};


#define KL_HTTP_ANY_LOC                                                        \
    (KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF)

#define kl_http_core_loc_slot(nm, args, setter, field)                         \
    {                                                                          \
        kl_string(nm), KL_HTTP_ANY_LOC | args, setter,                         \
            KL_HTTP_LOC_CONF_OFFSET, offsetof(kl_http_core_loc_conf_t, field), \
            NULL                                                               \
    }

#define kl_http_core_srv_slot(nm, args, setter, field)                         \
    {                                                                          \
        kl_string(nm), KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | args, setter,    \
            KL_HTTP_SRV_CONF_OFFSET, offsetof(kl_http_core_srv_conf_t, field), \
            NULL                                                               \
    }

#define kl_http_core_main_slot(nm, setter, field)                              \
    {                                                                          \
        kl_string(nm), KL_HTTP_MAIN_CONF | KL_CONF_TAKE1, setter,              \
            KL_HTTP_MAIN_CONF_OFFSET,                                          \
            offsetof(kl_http_core_main_conf_t, field), NULL                    \
    }


/* Directive tables keep one field a line, as nginx's do. */
/* clang-format off */
static kl_command_t  kl_http_core_commands[] = {

    { kl_string("server"),
      KL_HTTP_MAIN_CONF | KL_CONF_BLOCK | KL_CONF_NOARGS,
      kl_http_core_server,
      0,
      0,
      NULL },

    { kl_string("location"),
      KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_BLOCK | KL_CONF_TAKE12,
      kl_http_core_location,
      KL_HTTP_SRV_CONF_OFFSET,
      0,
      NULL },

    { kl_string("listen"),
      KL_HTTP_SRV_CONF | KL_CONF_1MORE,
      kl_http_core_listen,
      KL_HTTP_SRV_CONF_OFFSET,
      0,
      NULL },

    { kl_string("server_name"),
      KL_HTTP_SRV_CONF | KL_CONF_1MORE,
      kl_http_core_server_name,
      KL_HTTP_SRV_CONF_OFFSET,
      0,
      NULL },

    { kl_string("root"),
      KL_HTTP_ANY_LOC | KL_HTTP_LIF_CONF | KL_CONF_TAKE1,
      kl_http_core_root,
      KL_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { kl_string("alias"),
      KL_HTTP_LOC_CONF | KL_CONF_TAKE1,
      kl_http_core_root,
      KL_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { kl_string("types"),
      KL_HTTP_ANY_LOC | KL_CONF_BLOCK | KL_CONF_NOARGS,
      kl_http_core_types,
      KL_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { kl_string("error_page"),
      KL_HTTP_ANY_LOC | KL_HTTP_LIF_CONF | KL_CONF_2MORE,
      kl_http_core_error_page,
      KL_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { kl_string("error_log"),
      KL_HTTP_ANY_LOC | KL_CONF_1MORE,
      kl_http_core_error_log,
      KL_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { kl_string("internal"),
      KL_HTTP_LOC_CONF | KL_CONF_NOARGS,
      kl_http_core_internal,
      KL_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { kl_string("satisfy"),
      KL_HTTP_ANY_LOC | KL_CONF_TAKE1,
      kl_conf_set_enum_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_core_loc_conf_t, satisfy),
      kl_http_core_satisfy },

    { kl_string("limit_except"),
      KL_HTTP_LOC_CONF | KL_CONF_BLOCK | KL_CONF_1MORE,
      kl_http_core_limit_except,
      KL_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    kl_http_core_loc_slot("auth_delay", KL_CONF_TAKE1,
                          kl_conf_set_msec_slot, auth_delay),
    kl_http_core_loc_slot("recursive_error_pages", KL_CONF_FLAG,
                          kl_conf_set_flag_slot, recursive_error_pages),

    kl_http_core_loc_slot("log_subrequest", KL_CONF_FLAG,
                          kl_conf_set_flag_slot, log_subrequest),

    kl_http_core_loc_slot("subrequest_output_buffer_size", KL_CONF_TAKE1,
                          kl_conf_set_size_slot,
                          subrequest_output_buffer_size),

    { kl_string("keepalive_timeout"),
      KL_HTTP_ANY_LOC | KL_CONF_TAKE12,
      kl_http_core_keepalive,
      KL_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { kl_string("large_client_header_buffers"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_CONF_TAKE2,
      kl_http_core_bufs,
      KL_HTTP_SRV_CONF_OFFSET,
      offsetof(kl_http_core_srv_conf_t, large_client_header_buffers),
      NULL },

    kl_http_core_loc_slot("default_type", KL_CONF_TAKE1,
                          kl_conf_set_str_slot, default_type),
    kl_http_core_loc_slot("keepalive_requests", KL_CONF_TAKE1,
                          kl_conf_set_num_slot, keepalive_requests),
    kl_http_core_loc_slot("keepalive_time", KL_CONF_TAKE1,
                          kl_conf_set_msec_slot, keepalive_time),
    kl_http_core_loc_slot("client_max_body_size", KL_CONF_TAKE1,
                          kl_conf_set_off_slot, client_max_body_size),
    kl_http_core_loc_slot("client_body_timeout", KL_CONF_TAKE1,
                          kl_conf_set_msec_slot, client_body_timeout),
    kl_http_core_loc_slot("send_timeout", KL_CONF_TAKE1,
                          kl_conf_set_msec_slot, send_timeout),
    { kl_string("lingering_close"),
      KL_HTTP_ANY_LOC | KL_CONF_TAKE1,
      kl_conf_set_enum_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_core_loc_conf_t, lingering_close),
      kl_http_core_lingering_close },
    kl_http_core_loc_slot("lingering_time", KL_CONF_TAKE1,
                          kl_conf_set_msec_slot, lingering_time),
    kl_http_core_loc_slot("lingering_timeout", KL_CONF_TAKE1,
                          kl_conf_set_msec_slot, lingering_timeout),
    kl_http_core_loc_slot("sendfile", KL_CONF_FLAG | KL_HTTP_LIF_CONF,
                          kl_conf_set_flag_slot, sendfile),
    kl_http_core_loc_slot("sendfile_max_chunk", KL_CONF_TAKE1,
                          kl_conf_set_size_slot, sendfile_max_chunk),
    kl_http_core_loc_slot("postpone_output", KL_CONF_TAKE1,
                          kl_conf_set_size_slot, postpone_output),
    kl_http_core_loc_slot("tcp_nopush", KL_CONF_FLAG,
                          kl_conf_set_flag_slot, tcp_nopush),
    kl_http_core_loc_slot("tcp_nodelay", KL_CONF_FLAG,
                          kl_conf_set_flag_slot, tcp_nodelay),
    { kl_string("server_tokens"),
      KL_HTTP_ANY_LOC | KL_CONF_TAKE1,
      kl_conf_set_enum_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_core_loc_conf_t, server_tokens),
      kl_http_core_server_tokens },
    kl_http_core_loc_slot("reset_timedout_connection", KL_CONF_FLAG,
                          kl_conf_set_flag_slot, reset_timedout_connection),
    kl_http_core_loc_slot("absolute_redirect", KL_CONF_FLAG,
                          kl_conf_set_flag_slot, absolute_redirect),
    kl_http_core_loc_slot("port_in_redirect", KL_CONF_FLAG,
                          kl_conf_set_flag_slot, port_in_redirect),
    kl_http_core_loc_slot("server_name_in_redirect", KL_CONF_FLAG,
                          kl_conf_set_flag_slot, server_name_in_redirect),
    kl_http_core_loc_slot("log_not_found", KL_CONF_FLAG,
                          kl_conf_set_flag_slot, log_not_found),
    kl_http_core_loc_slot("etag", KL_CONF_FLAG,
                          kl_conf_set_flag_slot, etag),
    kl_http_core_loc_slot("limit_rate", KL_CONF_TAKE1 | KL_HTTP_LIF_CONF,
                          kl_http_set_complex_value_size_slot, limit_rate),
    kl_http_core_loc_slot("limit_rate_after",
                          KL_CONF_TAKE1 | KL_HTTP_LIF_CONF,
                          kl_http_set_complex_value_size_slot,
                          limit_rate_after),
    { kl_string("keepalive_disable"),
      KL_HTTP_ANY_LOC | KL_CONF_1MORE,
      kl_conf_set_bitmask_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_core_loc_conf_t, keepalive_disable),
      kl_http_core_keepalive_disable },
    kl_http_core_loc_slot("msie_padding", KL_CONF_FLAG,
                          kl_conf_set_flag_slot, msie_padding),
    kl_http_core_loc_slot("msie_refresh", KL_CONF_FLAG,
                          kl_conf_set_flag_slot, msie_refresh),
    kl_http_core_loc_slot("send_lowat", KL_CONF_TAKE1,
                          kl_http_core_send_lowat, send_lowat),
    kl_http_core_loc_slot("read_ahead", KL_CONF_TAKE1,
                          kl_http_core_read_ahead, read_ahead),
    kl_http_core_loc_slot("aio_write", KL_CONF_FLAG,
                          kl_http_core_aio_write, aio_write),
    kl_http_core_loc_slot("disable_symlinks", KL_CONF_TAKE12,
                          kl_http_core_disable_symlinks, disable_symlinks),

    kl_http_core_srv_slot("client_header_timeout", KL_CONF_TAKE1,
                          kl_conf_set_msec_slot, client_header_timeout),
    kl_http_core_srv_slot("client_header_buffer_size", KL_CONF_TAKE1,
                          kl_conf_set_size_slot, client_header_buffer_size),
    kl_http_core_srv_slot("connection_pool_size", KL_CONF_TAKE1,
                          kl_conf_set_size_slot, connection_pool_size),
    kl_http_core_srv_slot("request_pool_size", KL_CONF_TAKE1,
                          kl_conf_set_size_slot, request_pool_size),
    kl_http_core_srv_slot("ignore_invalid_headers", KL_CONF_FLAG,
                          kl_conf_set_flag_slot, ignore_invalid_headers),
    kl_http_core_srv_slot("merge_slashes", KL_CONF_FLAG,
                          kl_conf_set_flag_slot, merge_slashes),
    kl_http_core_srv_slot("underscores_in_headers", KL_CONF_FLAG,
                          kl_conf_set_flag_slot, underscores_in_headers),
    kl_http_core_srv_slot("max_headers", KL_CONF_TAKE1,
                          kl_conf_set_num_slot, max_headers),

    /* nginx's hash tuning; kiln's lookups need none, values are kept. */
    kl_http_core_main_slot("server_names_hash_max_size",
                           kl_conf_set_num_slot, server_names_hash_max_size),
    kl_http_core_main_slot("server_names_hash_bucket_size",
                           kl_conf_set_num_slot,
                           server_names_hash_bucket_size),
    kl_http_core_main_slot("types_hash_max_size",
                           kl_conf_set_num_slot, types_hash_max_size),
    kl_http_core_main_slot("types_hash_bucket_size",
                           kl_conf_set_num_slot, types_hash_bucket_size),
    kl_http_core_main_slot("variables_hash_max_size",
                           kl_conf_set_num_slot, variables_hash_max_size),
    kl_http_core_main_slot("variables_hash_bucket_size",
                           kl_conf_set_num_slot,
                           variables_hash_bucket_size),

    kl_null_command
};
/* clang-format on */


static kl_http_module_t kl_http_core_module_ctx = {
    .preconfiguration = kl_http_core_limits_add_variables,
    .create_main_conf = kl_http_core_create_main_conf,
    .init_main_conf = kl_http_core_init_main_conf,
    .create_srv_conf = kl_http_core_create_srv_conf,
    .merge_srv_conf = kl_http_core_merge_srv_conf,
    .create_loc_conf = kl_http_core_create_loc_conf,
    .merge_loc_conf = kl_http_core_merge_loc_conf,
};


kl_module_t kl_http_core_module = {
    .name = "kl_http_core_module",
    .type = KL_HTTP_MODULE,
    .ctx = &kl_http_core_module_ctx,
    .commands = kl_http_core_commands,
};


static void *
kl_http_core_create_main_conf(kl_conf_t *cf)
{
    kl_uint_t                 i;
    kl_http_core_main_conf_t *cmcf;

    cmcf = kl_pcalloc(cf->pool, sizeof(kl_http_core_main_conf_t));
    if (cmcf == NULL) {
        return NULL;
    }

    if (kl_array_init(&cmcf->servers, cf->pool, 4, sizeof(void *)) != KL_OK
        || kl_array_init(&cmcf->listens, cf->pool, 4, sizeof(kl_http_listen_t))
               != KL_OK)
    {
        return NULL;
    }

    for (i = 0; i <= KL_HTTP_LOG_PHASE; i++) {
        if (kl_array_init(&cmcf->phases[i], cf->pool, 2,
                          sizeof(kl_http_handler_pt))
            != KL_OK)
        {
            return NULL;
        }
    }

    cmcf->server_names_hash_max_size = KL_CONF_UNSET_UINT;
    cmcf->server_names_hash_bucket_size = KL_CONF_UNSET_UINT;
    cmcf->types_hash_max_size = KL_CONF_UNSET_UINT;
    cmcf->types_hash_bucket_size = KL_CONF_UNSET_UINT;
    cmcf->variables_hash_max_size = KL_CONF_UNSET_UINT;
    cmcf->variables_hash_bucket_size = KL_CONF_UNSET_UINT;

    return cmcf;
}


static char *
kl_http_core_init_main_conf(kl_conf_t *cf, void *conf)
{
    kl_http_core_main_conf_t *cmcf = conf;

    if (cmcf->servers.nelts == 0) {
        kl_conf_log_error(KL_LOG_WARN, cf, 0,
                          "no \"server\" blocks in \"http\", "
                          "nothing will be served");
    }

    kl_conf_init_uint_value(cmcf->server_names_hash_max_size, 512);
    kl_conf_init_uint_value(cmcf->server_names_hash_bucket_size, 64);
    kl_conf_init_uint_value(cmcf->types_hash_max_size, 1024);
    kl_conf_init_uint_value(cmcf->types_hash_bucket_size, 64);
    kl_conf_init_uint_value(cmcf->variables_hash_max_size, 1024);
    kl_conf_init_uint_value(cmcf->variables_hash_bucket_size, 64);

    return KL_CONF_OK;
}


static void *
kl_http_core_create_srv_conf(kl_conf_t *cf)
{
    kl_http_core_srv_conf_t *cscf;

    cscf = kl_pcalloc(cf->pool, sizeof(kl_http_core_srv_conf_t));
    if (cscf == NULL) {
        return NULL;
    }

    if (kl_array_init(&cscf->server_names, cf->pool, 4,
                      sizeof(kl_http_server_name_t))
        != KL_OK)
    {
        return NULL;
    }

    cscf->connection_pool_size = KL_CONF_UNSET_SIZE;
    cscf->request_pool_size = KL_CONF_UNSET_SIZE;
    cscf->client_header_buffer_size = KL_CONF_UNSET_SIZE;
    cscf->client_header_timeout = KL_CONF_UNSET_MSEC;
    cscf->ignore_invalid_headers = KL_CONF_UNSET;
    cscf->merge_slashes = KL_CONF_UNSET;
    cscf->underscores_in_headers = KL_CONF_UNSET;
    cscf->max_headers = KL_CONF_UNSET_UINT;
    cscf->file_name = cf->conf_file ? cf->conf_file->file.name.data
                                    : (u_char *) "command line";
    cscf->line = cf->conf_file ? cf->conf_file->line : 0;

    return cscf;
}


static char *
kl_http_core_merge_srv_conf(kl_conf_t *cf, void *parent, void *child)
{
    kl_http_core_srv_conf_t *prev = parent;
    kl_http_core_srv_conf_t *conf = child;
    kl_http_listen_opt_t     lsopt;
    kl_http_server_name_t   *sn;
    const char              *err;
    kl_str_t                 addr;

    kl_conf_merge_size_value(conf->connection_pool_size,
                             prev->connection_pool_size, 512);
    kl_conf_merge_size_value(conf->request_pool_size, prev->request_pool_size,
                             4096);
    kl_conf_merge_size_value(conf->client_header_buffer_size,
                             prev->client_header_buffer_size, 1024);
    kl_conf_merge_msec_value(conf->client_header_timeout,
                             prev->client_header_timeout, 60000);
    kl_conf_merge_value(conf->ignore_invalid_headers,
                        prev->ignore_invalid_headers, 1);
    kl_conf_merge_value(conf->merge_slashes, prev->merge_slashes, 1);
    kl_conf_merge_value(conf->underscores_in_headers,
                        prev->underscores_in_headers, 0);
    kl_conf_merge_uint_value(conf->max_headers, prev->max_headers, 1000);

    if (conf->large_client_header_buffers.num == 0) {
        if (prev->large_client_header_buffers.num) {
            conf->large_client_header_buffers =
                prev->large_client_header_buffers;
        } else {
            conf->large_client_header_buffers.num = 4;
            conf->large_client_header_buffers.size = 8192;
        }
    }

    if (conf->large_client_header_buffers.size < conf->connection_pool_size) {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                          "the \"large_client_header_buffers\" size must be "
                          "equal to or greater than \"connection_pool_size\"");
        return KL_CONF_ERROR;
    }

    if (conf->server_names.nelts == 0) {
        /* nginx: a server without server_name answers to "". */
        sn = kl_array_push(&conf->server_names);
        if (sn == NULL) {
            return KL_CONF_ERROR;
        }

        kl_str_null(&sn->name);
        sn->name.data = (u_char *) "";
        sn->server = conf;
        sn->regex = NULL;
    }

    sn = conf->server_names.elts;
    conf->server_name = sn[0].name;

    if (conf->listen || conf->ctx == NULL) {
        return KL_CONF_OK;
    }

    /* No listen: *:80 as root, *:8000 otherwise, as nginx. */
    kl_memzero(&lsopt, sizeof(kl_http_listen_opt_t));

    if (geteuid() == 0) {
        kl_str_set(&addr, "80");
    } else {
        kl_str_set(&addr, "8000");
    }

    if (kl_sock_parse(&addr, 80, &lsopt.sockaddr, &lsopt.socklen, &err)
        != KL_OK) {
        return KL_CONF_ERROR;
    }

    lsopt.backlog = 511;
    lsopt.rcvbuf = -1;
    lsopt.sndbuf = -1;
    lsopt.wildcard = 1;
    lsopt.ipv6only = 1;

    if (kl_http_core_add_listen(cf, conf, &lsopt) != KL_OK) {
        return KL_CONF_ERROR;
    }

    return KL_CONF_OK;
}


static void *
kl_http_core_create_loc_conf(kl_conf_t *cf)
{
    kl_http_core_loc_conf_t *clcf;

    clcf = kl_pcalloc(cf->pool, sizeof(kl_http_core_loc_conf_t));
    if (clcf == NULL) {
        return NULL;
    }

    clcf->types = KL_CONF_UNSET_PTR;
    clcf->client_max_body_size = KL_CONF_UNSET;
    clcf->client_body_timeout = KL_CONF_UNSET_MSEC;
    clcf->send_timeout = KL_CONF_UNSET_MSEC;
    clcf->keepalive_timeout = KL_CONF_UNSET_MSEC;
    clcf->keepalive_header = KL_CONF_UNSET;
    clcf->keepalive_requests = KL_CONF_UNSET_UINT;
    clcf->keepalive_time = KL_CONF_UNSET_MSEC;
    clcf->lingering_time = KL_CONF_UNSET_MSEC;
    clcf->lingering_timeout = KL_CONF_UNSET_MSEC;
    clcf->lingering_close = KL_CONF_UNSET_UINT;
    clcf->sendfile_max_chunk = KL_CONF_UNSET_SIZE;
    clcf->postpone_output = KL_CONF_UNSET_SIZE;
    clcf->sendfile = KL_CONF_UNSET;
    clcf->tcp_nopush = KL_CONF_UNSET;
    clcf->tcp_nodelay = KL_CONF_UNSET;
    clcf->server_tokens = KL_CONF_UNSET;
    clcf->reset_timedout_connection = KL_CONF_UNSET;
    clcf->absolute_redirect = KL_CONF_UNSET;
    clcf->port_in_redirect = KL_CONF_UNSET;
    clcf->server_name_in_redirect = KL_CONF_UNSET;
    clcf->log_not_found = KL_CONF_UNSET;
    clcf->etag = KL_CONF_UNSET;
    clcf->error_pages = KL_CONF_UNSET_PTR;
    clcf->recursive_error_pages = KL_CONF_UNSET;
    clcf->limit_rate = KL_CONF_UNSET_PTR;
    clcf->limit_rate_after = KL_CONF_UNSET_PTR;
    clcf->keepalive_disable = KL_CONF_UNSET_UINT;
    clcf->msie_padding = KL_CONF_UNSET;
    clcf->msie_refresh = KL_CONF_UNSET;
    clcf->log_subrequest = KL_CONF_UNSET;
    clcf->send_lowat = KL_CONF_UNSET_SIZE;
    clcf->read_ahead = KL_CONF_UNSET_SIZE;
    clcf->aio_write = KL_CONF_UNSET;
    clcf->disable_symlinks = KL_CONF_UNSET_UINT;
    clcf->disable_symlinks_from = KL_CONF_UNSET_PTR;
    clcf->subrequest_output_buffer_size = KL_CONF_UNSET_SIZE;
    clcf->satisfy = KL_CONF_UNSET_UINT;
    clcf->auth_delay = KL_CONF_UNSET_MSEC;

    return clcf;
}


static int
kl_http_cmp_types(const void *one, const void *two)
{
    const kl_http_type_t *a = one, *b = two;
    size_t                n;
    int                   rc;

    n = kl_min(a->exten.len, b->exten.len);
    rc = memcmp(a->exten.data, b->exten.data, n);

    if (rc) {
        return rc;
    }

    return (a->exten.len > b->exten.len) - (a->exten.len < b->exten.len);
}


/* Sort by extension and keep the last definition of each, as nginx does. */
static void
kl_http_core_sort_types(kl_array_t *types)
{
    kl_uint_t       i, j, n;
    kl_http_type_t *t;

    t = types->elts;
    n = 0;

    /* Drop every definition that a later one overrides, keeping order. */
    for (i = 0; i < types->nelts; i++) {
        for (j = i + 1; j < types->nelts; j++) {
            if (t[j].exten.len == t[i].exten.len
                && kl_strncmp(t[j].exten.data, t[i].exten.data, t[i].exten.len)
                       == 0)
            {
                break;
            }
        }

        if (j == types->nelts) {
            t[n++] = t[i];
        }
    }

    types->nelts = n;

    qsort(t, types->nelts, sizeof(kl_http_type_t), kl_http_cmp_types);
}


static char *
kl_http_core_merge_loc_conf(kl_conf_t *cf, void *parent, void *child)
{
    kl_http_core_loc_conf_t *prev = parent;
    kl_http_core_loc_conf_t *conf = child;
    kl_http_type_t          *type;

    if (conf->root.data == NULL) {
        conf->root = prev->root;
        conf->root_set = prev->root_set;
        conf->alias = prev->alias;
        conf->root_cv = prev->root_cv;

        if (conf->root.data == NULL) {
            kl_str_set(&conf->root, "html");

            if (kl_conf_full_name(cf->cycle, &conf->root, 0) != KL_OK) {
                return KL_CONF_ERROR;
            }
        }
    }

    if (conf->types == KL_CONF_UNSET_PTR) {
        if (prev->types == KL_CONF_UNSET_PTR) {
            /* nginx's built-in three, when no types block is anywhere. */
            prev->types = kl_array_create(cf->pool, 3, sizeof(kl_http_type_t));
            if (prev->types == NULL) {
                return KL_CONF_ERROR;
            }

            type = kl_array_push_n(prev->types, 3);
            if (type == NULL) {
                return KL_CONF_ERROR;
            }

            kl_str_set(&type[0].exten, "gif");
            kl_str_set(&type[0].type, "image/gif");
            kl_str_set(&type[1].exten, "html");
            kl_str_set(&type[1].type, "text/html");
            kl_str_set(&type[2].exten, "jpg");
            kl_str_set(&type[2].type, "image/jpeg");
        }

        conf->types = prev->types;
    }

    /* Idempotent, so an inherited array may be sorted again. */
    kl_http_core_sort_types(conf->types);

    kl_conf_merge_str_value(conf->default_type, prev->default_type,
                            "text/plain");
    kl_conf_merge_off_value(conf->client_max_body_size,
                            prev->client_max_body_size, 1024 * 1024);
    kl_conf_merge_msec_value(conf->client_body_timeout,
                             prev->client_body_timeout, 60000);
    kl_conf_merge_msec_value(conf->send_timeout, prev->send_timeout, 60000);
    kl_conf_merge_msec_value(conf->keepalive_timeout, prev->keepalive_timeout,
                             75000);
    kl_conf_merge_sec_value(conf->keepalive_header, prev->keepalive_header, 0);
    kl_conf_merge_uint_value(conf->keepalive_requests, prev->keepalive_requests,
                             1000);
    kl_conf_merge_msec_value(conf->keepalive_time, prev->keepalive_time,
                             3600000);
    kl_conf_merge_msec_value(conf->lingering_time, prev->lingering_time, 30000);
    kl_conf_merge_msec_value(conf->lingering_timeout, prev->lingering_timeout,
                             5000);
    kl_conf_merge_uint_value(conf->lingering_close, prev->lingering_close,
                             KL_HTTP_LINGERING_ON);
    kl_conf_merge_size_value(conf->sendfile_max_chunk, prev->sendfile_max_chunk,
                             2 * 1024 * 1024);
    kl_conf_merge_size_value(conf->postpone_output, prev->postpone_output,
                             1460);
    kl_conf_merge_value(conf->sendfile, prev->sendfile, 0);
    kl_conf_merge_value(conf->tcp_nopush, prev->tcp_nopush, 0);
    kl_conf_merge_value(conf->tcp_nodelay, prev->tcp_nodelay, 1);
    kl_conf_merge_value(conf->server_tokens, prev->server_tokens, 1);
    kl_conf_merge_value(conf->reset_timedout_connection,
                        prev->reset_timedout_connection, 0);
    kl_conf_merge_value(conf->absolute_redirect, prev->absolute_redirect, 1);
    kl_conf_merge_value(conf->port_in_redirect, prev->port_in_redirect, 1);
    kl_conf_merge_value(conf->server_name_in_redirect,
                        prev->server_name_in_redirect, 0);
    kl_conf_merge_value(conf->log_not_found, prev->log_not_found, 1);
    kl_conf_merge_value(conf->etag, prev->etag, 1);
    kl_conf_merge_ptr_value(conf->error_pages, prev->error_pages, NULL);

    if (conf->error_log == NULL) {
        conf->error_log =
            prev->error_log ? prev->error_log : &cf->cycle->new_log;
    }
    kl_conf_merge_value(conf->recursive_error_pages,
                        prev->recursive_error_pages, 0);
    kl_conf_merge_ptr_value(conf->limit_rate, prev->limit_rate, NULL);
    kl_conf_merge_ptr_value(conf->limit_rate_after, prev->limit_rate_after,
                            NULL);
    kl_conf_merge_uint_value(conf->keepalive_disable, prev->keepalive_disable,
                             KL_HTTP_KEEPALIVE_DISABLE_MSIE6);
    kl_conf_merge_value(conf->msie_padding, prev->msie_padding, 1);
    kl_conf_merge_value(conf->msie_refresh, prev->msie_refresh, 0);
    kl_conf_merge_value(conf->log_subrequest, prev->log_subrequest, 0);
    kl_conf_merge_size_value(conf->send_lowat, prev->send_lowat, 0);
    kl_conf_merge_size_value(conf->read_ahead, prev->read_ahead, 0);
    kl_conf_merge_value(conf->aio_write, prev->aio_write, 0);

    /* from= goes with the mode it was given with. */
    if (conf->disable_symlinks == KL_CONF_UNSET_UINT) {
        conf->disable_symlinks = prev->disable_symlinks;
        conf->disable_symlinks_from = prev->disable_symlinks_from;
    }

    kl_conf_merge_uint_value(conf->disable_symlinks, prev->disable_symlinks,
                             KL_DISABLE_SYMLINKS_OFF);
    kl_conf_merge_ptr_value(conf->disable_symlinks_from,
                            prev->disable_symlinks_from, NULL);
    /* nginx's default: one memory page */
    kl_conf_merge_size_value(conf->subrequest_output_buffer_size,
                             prev->subrequest_output_buffer_size,
                             (size_t) sysconf(_SC_PAGESIZE));
    kl_conf_merge_uint_value(conf->satisfy, prev->satisfy, KL_HTTP_SATISFY_ALL);
    kl_conf_merge_msec_value(conf->auth_delay, prev->auth_delay, 0);

    return KL_CONF_OK;
}


/* root and alias, as nginx's one setter for both. */
static char *
kl_http_core_root(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_http_core_loc_conf_t        *clcf = conf;
    kl_uint_t                       alias, n;
    kl_str_t                       *value;
    kl_http_complex_value_t        *cv;
    kl_http_compile_complex_value_t ccv;

    alias = (cmd->name.len == sizeof("alias") - 1);

    if (clcf->root.data) {
        if ((clcf->alias != 0) == alias) {
            return "is duplicate";
        }

        kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                          "\"%V\" directive is duplicate, "
                          "\"%s\" directive was specified earlier",
                          &cmd->name, clcf->alias ? "alias" : "root");
        return KL_CONF_ERROR;
    }

    if (clcf->named && alias) {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                          "the \"alias\" directive cannot be used "
                          "inside the named location");
        return KL_CONF_ERROR;
    }

    value = cf->args->elts;

    if (strstr((char *) value[1].data, "$document_root")
        || strstr((char *) value[1].data, "${document_root}"))
    {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                          "the $document_root variable cannot be used "
                          "in the \"%V\" directive",
                          &cmd->name);
        return KL_CONF_ERROR;
    }

    if (strstr((char *) value[1].data, "$realpath_root")
        || strstr((char *) value[1].data, "${realpath_root}"))
    {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                          "the $realpath_root variable cannot be used "
                          "in the \"%V\" directive",
                          &cmd->name);
        return KL_CONF_ERROR;
    }

    /* An alias keeps its '/': it replaces the location's prefix. */
    clcf->alias = alias ? clcf->name.len : 0;
    clcf->root = value[1];
    clcf->root_set = 1;

    /* "root /srv/www/;" maps "/a" to "/srv/www/a", not "/srv/www//a". */
    if (!alias && clcf->root.len > 1
        && clcf->root.data[clcf->root.len - 1] == '/') {
        clcf->root.len--;
    }

    if (clcf->root.len == 0 || clcf->root.data[0] != '$') {
        if (kl_conf_full_name(cf->cycle, &clcf->root, 0) != KL_OK) {
            return KL_CONF_ERROR;
        }
    }

    n = kl_http_script_variables_count(&clcf->root);

    /* A regex location's alias is the whole path: evaluated per request. */
    if (alias && clcf->regex) {
        clcf->alias = KL_HTTP_ALIAS_REGEX;
        n = 1;
    }

    if (n == 0) {
        return KL_CONF_OK;
    }

    cv = kl_palloc(cf->pool, sizeof(kl_http_complex_value_t));
    if (cv == NULL) {
        return KL_CONF_ERROR;
    }

    kl_memzero(&ccv, sizeof(kl_http_compile_complex_value_t));

    ccv.cf = cf;
    ccv.value = &clcf->root;
    ccv.complex_value = cv;
    ccv.root_prefix = 1;

    if (kl_http_compile_complex_value(&ccv) != KL_OK) {
        return KL_CONF_ERROR;
    }

    clcf->root_cv = cv;

    return KL_CONF_OK;
}


static char *
kl_http_core_types(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_http_core_loc_conf_t *clcf = conf;
    char                    *rv;
    kl_conf_t                save;

    (void) cmd;

    if (clcf->types == KL_CONF_UNSET_PTR || clcf->types == NULL) {
        clcf->types = kl_array_create(cf->pool, 64, sizeof(kl_http_type_t));
        if (clcf->types == NULL) {
            return KL_CONF_ERROR;
        }
    }

    save = *cf;
    cf->handler = kl_http_core_type;
    cf->handler_conf = conf;

    rv = kl_conf_parse(cf, NULL);

    *cf = save;

    return rv;
}


static char *
kl_http_core_type(kl_conf_t *cf, kl_command_t *dummy, void *conf)
{
    kl_http_core_loc_conf_t *clcf = conf;
    kl_str_t                *value, type;
    kl_uint_t                i;
    kl_http_type_t          *t;

    (void) dummy;

    value = cf->args->elts;

    if (cf->args->nelts < 2) {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                          "invalid number of arguments in \"types\" "
                          "directive");
        return KL_CONF_ERROR;
    }

    type = value[0];

    for (i = 1; i < cf->args->nelts; i++) {
        t = kl_array_push(clcf->types);
        if (t == NULL) {
            return KL_CONF_ERROR;
        }

        t->type = type;
        t->exten.len = value[i].len;
        t->exten.data = kl_pnalloc(cf->pool, value[i].len);
        if (t->exten.data == NULL) {
            return KL_CONF_ERROR;
        }

        kl_strlow(t->exten.data, value[i].data, value[i].len);
    }

    return KL_CONF_OK;
}


static char *
kl_http_core_keepalive(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_http_core_loc_conf_t *clcf = conf;
    kl_str_t                *value;
    kl_int_t                 t;

    (void) cmd;

    if (clcf->keepalive_timeout != KL_CONF_UNSET_MSEC) {
        return "is duplicate";
    }

    value = cf->args->elts;

    t = kl_conf_parse_time(&value[1], 0);
    if (t == KL_ERROR) {
        return "invalid value";
    }

    clcf->keepalive_timeout = (kl_msec_t) t;

    if (cf->args->nelts == 2) {
        return KL_CONF_OK;
    }

    t = kl_conf_parse_time(&value[2], 1);
    if (t == KL_ERROR) {
        return "invalid value";
    }

    clcf->keepalive_header = (time_t) t;

    return KL_CONF_OK;
}


static char *
kl_http_core_bufs(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_bufs_t *bufs;
    kl_str_t  *value;
    kl_int_t   n;
    ssize_t    size;

    bufs = (kl_bufs_t *) ((char *) conf + cmd->offset);

    if (bufs->num) {
        return "is duplicate";
    }

    value = cf->args->elts;

    n = kl_atoi(value[1].data, value[1].len);
    size = kl_conf_parse_size(&value[2]);

    if (n == KL_ERROR || n == 0 || size == KL_ERROR || size == 0) {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0, "invalid value \"%V %V\"",
                          &value[1], &value[2]);
        return KL_CONF_ERROR;
    }

    bufs->num = (size_t) n;
    bufs->size = (size_t) size;

    return KL_CONF_OK;
}


kl_int_t
kl_http_add_phase_handler(kl_conf_t *cf, kl_http_phases_e phase,
                          kl_http_handler_pt h)
{
    kl_http_handler_pt       *hp;
    kl_http_core_main_conf_t *cmcf;

    cmcf = kl_http_conf_get_module_main_conf(cf, kl_http_core_module);

    hp = kl_array_push(&cmcf->phases[phase]);
    if (hp == NULL) {
        return KL_ERROR;
    }

    *hp = h;

    return KL_OK;
}


static char *
kl_http_core_error_page(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_http_core_loc_conf_t *clcf = conf;
    u_char                  *q;
    kl_int_t                 overwrite, status;
    kl_str_t                *value, uri;
    kl_uint_t                i, n;
    kl_http_err_page_t      *err;
    kl_http_complex_value_t *cv;

    (void) cmd;

    if (clcf->error_pages == NULL || clcf->error_pages == KL_CONF_UNSET_PTR) {
        clcf->error_pages =
            kl_array_create(cf->pool, 4, sizeof(kl_http_err_page_t));
        if (clcf->error_pages == NULL) {
            return KL_CONF_ERROR;
        }
    }

    value = cf->args->elts;

    /* The codes are value[1 .. n-1]; value[n] is "=..." or the URI. */
    n = cf->args->nelts - 1;
    overwrite = -1;

    if (value[n - 1].data[0] == '=') {
        n--;

        if (n == 1) {
            kl_conf_log_error(KL_LOG_EMERG, cf, 0, "invalid value \"%V\"",
                              &value[n]);
            return KL_CONF_ERROR;
        }

        overwrite = 0;

        if (value[n].len > 1) {
            overwrite = kl_atoi(value[n].data + 1, value[n].len - 1);

            if (overwrite == KL_ERROR) {
                kl_conf_log_error(KL_LOG_EMERG, cf, 0, "invalid value \"%V\"",
                                  &value[n]);
                return KL_CONF_ERROR;
            }
        }
    }

    uri = value[cf->args->nelts - 1];
    cv = NULL;

    /* With variables ("https://$host$request_uri", "/err/$uri"): compiled
     * once for all the codes; a constant stays a string, as cheap as ever. */
    if (kl_http_script_variables_count(&uri)) {
        cv = kl_http_compile_value(cf, &uri);
        if (cv == NULL) {
            return KL_CONF_ERROR;
        }
    }

    for (i = 1; i < n; i++) {
        status = kl_atoi(value[i].data, value[i].len);

        if (status == KL_ERROR || status == 499) {
            kl_conf_log_error(KL_LOG_EMERG, cf, 0, "invalid value \"%V\"",
                              &value[i]);
            return KL_CONF_ERROR;
        }

        if (status < 300 || status > 599) {
            kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                              "value \"%V\" must be between 300 and 599",
                              &value[i]);
            return KL_CONF_ERROR;
        }

        err = kl_array_push(clcf->error_pages);
        if (err == NULL) {
            return KL_CONF_ERROR;
        }

        err->status = status;
        err->overwrite = overwrite;

        /* nginx's own 494-497 answer 400 unless =code says otherwise */
        if (overwrite == -1 && status >= 494 && status <= 497) {
            err->overwrite = KL_HTTP_BAD_REQUEST;
        }
        err->uri = uri;
        err->value = cv;
        kl_str_null(&err->args);

        /* "/50x.html?from=err": the query goes with the redirect. */
        q = (u_char *) kl_strchr(uri.data, '?');

        if (cv == NULL && q && uri.data[0] == '/') {
            err->uri.len = q - uri.data;
            err->args.data = q + 1;
            err->args.len = uri.len - err->uri.len - 1;
        }
    }

    return KL_CONF_OK;
}


static char *
kl_http_core_internal(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_http_core_loc_conf_t *clcf = conf;

    (void) cf;
    (void) cmd;

    if (clcf->internal) {
        return "is duplicate";
    }

    clcf->internal = 1;

    return KL_CONF_OK;
}


static char *
kl_http_core_error_log(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_http_core_loc_conf_t *clcf = conf;

    (void) cmd;

    if (clcf->error_log == NULL) {
        clcf->error_log = kl_pcalloc(cf->pool, sizeof(kl_log_t));
        if (clcf->error_log == NULL) {
            return KL_CONF_ERROR;
        }
    }

    return kl_conf_set_error_log(cf, clcf->error_log);
}
