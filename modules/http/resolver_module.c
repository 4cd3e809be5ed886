/*
 * resolver_module.c: the "resolver" and "resolver_timeout" directives
 * (nginx's ngx_http_core_module ones, and their twins inside upstream
 * blocks). The resolver itself is core/resolver.c; proxy_pass with
 * variables (upstream_resolve.c) and "server ... resolve" use it.
 */

#include "kl_http.h"
#include "resolver_module.h"


static void *kl_http_resolver_create_conf(kl_conf_t *cf);
static char *kl_http_resolver_merge_loc_conf(kl_conf_t *cf, void *parent,
                                             void *child);
static char *kl_http_resolver(kl_conf_t *cf, kl_command_t *cmd, void *conf);


#define KL_HTTP_RESOLVER_ANY_LOC                                               \
    (KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF)

/* Directive tables keep one field a line, as nginx's do. */
/* clang-format off */
static kl_command_t  kl_http_resolver_commands[] = {

    { kl_string("resolver"),
      KL_HTTP_RESOLVER_ANY_LOC | KL_CONF_1MORE,
      kl_http_resolver,
      KL_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { kl_string("resolver_timeout"),
      KL_HTTP_RESOLVER_ANY_LOC | KL_CONF_TAKE1,
      kl_conf_set_msec_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_resolver_conf_t, timeout),
      NULL },

    /* inside upstream { }: the group's own */
    { kl_string("resolver"),
      KL_HTTP_UPS_CONF | KL_CONF_1MORE,
      kl_http_resolver,
      KL_HTTP_SRV_CONF_OFFSET,
      0,
      NULL },

    { kl_string("resolver_timeout"),
      KL_HTTP_UPS_CONF | KL_CONF_TAKE1,
      kl_conf_set_msec_slot,
      KL_HTTP_SRV_CONF_OFFSET,
      offsetof(kl_http_resolver_conf_t, timeout),
      NULL },

    kl_null_command
};
/* clang-format on */


static kl_http_module_t kl_http_resolver_module_ctx = {
    .create_srv_conf = kl_http_resolver_create_conf,
    .create_loc_conf = kl_http_resolver_create_conf,
    .merge_loc_conf = kl_http_resolver_merge_loc_conf,
};


kl_module_t kl_http_resolver_module = {
    .name = "kl_http_resolver_module",
    .type = KL_HTTP_MODULE,
    .ctx = &kl_http_resolver_module_ctx,
    .commands = kl_http_resolver_commands,
};


static void *
kl_http_resolver_create_conf(kl_conf_t *cf)
{
    kl_http_resolver_conf_t *rcf;

    rcf = kl_pcalloc(cf->pool, sizeof(kl_http_resolver_conf_t));
    if (rcf == NULL) {
        return NULL;
    }

    rcf->resolver = KL_CONF_UNSET_PTR;
    rcf->timeout = KL_CONF_UNSET_MSEC;

    return rcf;
}


static char *
kl_http_resolver_merge_loc_conf(kl_conf_t *cf, void *parent, void *child)
{
    kl_http_resolver_conf_t *prev = parent;
    kl_http_resolver_conf_t *conf = child;

    (void) cf;

    kl_conf_merge_ptr_value(conf->resolver, prev->resolver, NULL);
    kl_conf_merge_msec_value(conf->timeout, prev->timeout, 30000);

    return KL_CONF_OK;
}


static char *
kl_http_resolver(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_http_resolver_conf_t *rcf = conf;

    (void) cmd;

    if (rcf->resolver != KL_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    rcf->resolver = kl_resolver_create(cf, cf->args->elts, cf->args->nelts);

    if (rcf->resolver == NULL) {
        return KL_CONF_ERROR;
    }

    return KL_CONF_OK;
}
