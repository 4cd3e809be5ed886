/*
 * ssl_module.c: the main-context TLS settings (nginx's openssl module):
 * ssl_object_cache_inheritable. kiln loads certificates, keys and
 * ticket keys anew at every (re)load, which is what `off` asks for; `on`
 * (the default) lets nginx keep unchanged objects across a reload, a
 * saving only: both are accepted and serve the same files.
 */

#include "kl_core.h"


typedef struct {
    kl_int_t inheritable;
} kl_ssl_module_conf_t;


static void *kl_ssl_module_create_conf(kl_cycle_t *cycle);
static char *kl_ssl_module_init_conf(kl_cycle_t *cycle, void *conf);
static char *kl_ssl_object_cache_inheritable(kl_conf_t *cf, kl_command_t *cmd,
                                             void *conf);


/* Directive tables keep one field a line, as nginx's do. */
/* clang-format off */
static kl_command_t  kl_ssl_module_commands[] = {

    { kl_string("ssl_object_cache_inheritable"),
      KL_MAIN_CONF | KL_DIRECT_CONF | KL_CONF_FLAG,
      kl_ssl_object_cache_inheritable,
      0,
      offsetof(kl_ssl_module_conf_t, inheritable),
      NULL },

    kl_null_command
};
/* clang-format on */


static kl_core_module_t kl_ssl_module_ctx = {
    kl_ssl_module_create_conf,
    kl_ssl_module_init_conf,
};


kl_module_t kl_ssl_module = {
    .name = "kl_ssl_module",
    .type = KL_CORE_MODULE,
    .ctx = &kl_ssl_module_ctx,
    .commands = kl_ssl_module_commands,
};


static void *
kl_ssl_module_create_conf(kl_cycle_t *cycle)
{
    kl_ssl_module_conf_t *scf;

    scf = kl_pcalloc(cycle->pool, sizeof(kl_ssl_module_conf_t));
    if (scf == NULL) {
        return NULL;
    }

    scf->inheritable = KL_CONF_UNSET;

    return scf;
}


static char *
kl_ssl_module_init_conf(kl_cycle_t *cycle, void *conf)
{
    kl_ssl_module_conf_t *scf;

    (void) cycle;

    scf = conf;
    kl_conf_init_value(scf->inheritable, 1);

    return KL_CONF_OK;
}


static char *
kl_ssl_object_cache_inheritable(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    if (!kl_ssl_available()) {
        return "is refused: TLS is not supported by this build of kiln";
    }

    return kl_conf_set_flag_slot(cf, cmd, conf);
}
