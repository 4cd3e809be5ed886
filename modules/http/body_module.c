/*
 * body_module.c: the request body directives (client_body_buffer_size,
 * client_body_temp_path, client_body_in_file_only,
 * client_body_in_single_buffer), and the registry of every temp
 * directory of the http confs (temp_file.c fills it), which the master
 * creates when a configuration is loaded. body.c does the reading;
 * client_max_body_size and client_body_timeout stay with the core module.
 */

#include "kl_http.h"


static void    *kl_http_body_create_main_conf(kl_conf_t *cf);
static void    *kl_http_body_create_loc_conf(kl_conf_t *cf);
static char    *kl_http_body_merge_loc_conf(kl_conf_t *cf, void *parent,
                                            void *child);
static kl_int_t kl_http_body_init_module(kl_cycle_t *cycle);


static kl_conf_enum_t kl_http_body_in_file_only[] = {
    { kl_string("off"), KL_HTTP_BODY_FILE_OFF },
    { kl_string("on"), KL_HTTP_BODY_FILE_ON },
    { kl_string("clean"), KL_HTTP_BODY_FILE_CLEAN },
    { kl_null_string, 0 }
};


#define KL_HTTP_BODY_ANY_LOC                                                   \
    (KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF)

/* Directive tables keep one field a line, as nginx's do. */
/* clang-format off */
static kl_command_t  kl_http_body_commands[] = {

    { kl_string("client_body_buffer_size"),
      KL_HTTP_BODY_ANY_LOC | KL_CONF_TAKE1,
      kl_conf_set_size_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_body_loc_conf_t, client_body_buffer_size),
      NULL },

    { kl_string("client_body_temp_path"),
      KL_HTTP_BODY_ANY_LOC | KL_CONF_TAKE1234,
      kl_http_temp_path_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_body_loc_conf_t, client_body_temp_path),
      NULL },

    { kl_string("client_body_in_file_only"),
      KL_HTTP_BODY_ANY_LOC | KL_CONF_TAKE1,
      kl_conf_set_enum_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_body_loc_conf_t, client_body_in_file_only),
      kl_http_body_in_file_only },

    { kl_string("client_body_in_single_buffer"),
      KL_HTTP_BODY_ANY_LOC | KL_CONF_FLAG,
      kl_conf_set_flag_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_body_loc_conf_t, client_body_in_single_buffer),
      NULL },

    kl_null_command
};
/* clang-format on */


static kl_http_module_t kl_http_body_module_ctx = {
    .create_main_conf = kl_http_body_create_main_conf,
    .create_loc_conf = kl_http_body_create_loc_conf,
    .merge_loc_conf = kl_http_body_merge_loc_conf,
};


kl_module_t kl_http_body_module = {
    .name = "kl_http_body_module",
    .type = KL_HTTP_MODULE,
    .ctx = &kl_http_body_module_ctx,
    .commands = kl_http_body_commands,
    .init_module = kl_http_body_init_module,
};


static void *
kl_http_body_create_main_conf(kl_conf_t *cf)
{
    kl_http_body_main_conf_t *bmcf;

    bmcf = kl_pcalloc(cf->pool, sizeof(kl_http_body_main_conf_t));
    if (bmcf == NULL) {
        return NULL;
    }

    if (kl_array_init(&bmcf->paths, cf->pool, 2, sizeof(kl_http_temp_path_t *))
        != KL_OK)
    {
        return NULL;
    }

    return bmcf;
}


static void *
kl_http_body_create_loc_conf(kl_conf_t *cf)
{
    kl_http_body_loc_conf_t *blcf;

    blcf = kl_pcalloc(cf->pool, sizeof(kl_http_body_loc_conf_t));
    if (blcf == NULL) {
        return NULL;
    }

    blcf->client_body_buffer_size = KL_CONF_UNSET_SIZE;
    blcf->client_body_temp_path = KL_CONF_UNSET_PTR;
    blcf->client_body_in_file_only = KL_CONF_UNSET_UINT;
    blcf->client_body_in_single_buffer = KL_CONF_UNSET;

    return blcf;
}


static char *
kl_http_body_merge_loc_conf(kl_conf_t *cf, void *parent, void *child)
{
    kl_http_body_loc_conf_t *prev = parent;
    kl_http_body_loc_conf_t *conf = child;

    /* nginx's: two pages on 64-bit systems. */
    kl_conf_merge_size_value(conf->client_body_buffer_size,
                             prev->client_body_buffer_size, 16 * 1024);
    kl_conf_merge_uint_value(conf->client_body_in_file_only,
                             prev->client_body_in_file_only,
                             KL_HTTP_BODY_FILE_OFF);
    kl_conf_merge_value(conf->client_body_in_single_buffer,
                        prev->client_body_in_single_buffer, 0);

    return kl_http_temp_path_merge(cf, &conf->client_body_temp_path,
                                   prev->client_body_temp_path,
                                   "client_body_temp", 0, 0);
}


/* The master makes the temp directories of every module. */
static kl_int_t
kl_http_body_init_module(kl_cycle_t *cycle)
{
    return kl_http_temp_paths_create(cycle);
}
