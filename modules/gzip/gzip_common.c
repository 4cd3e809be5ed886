/*
 * gzip_common.c: gzip_http_version, gzip_proxied, gzip_vary and
 * gzip_disable, the settings the gzip filter and gzip_static share.
 *
 * nginx keeps them in its core module when either gzip module is built;
 * kiln keeps them in a module of their own, built when either is
 * (auto/modules: part-of=gzip_filter,gzip_static), so each of the two
 * builds and links without the other. kl_http_gzip_ok (gzip_accept.c)
 * reads them.
 */

#include "kl_http.h"
#include "gzip_accept.h"


static void *kl_http_gzip_common_create_conf(kl_conf_t *cf);
static char *kl_http_gzip_common_merge_conf(kl_conf_t *cf, void *parent,
                                            void *child);
static char *kl_http_gzip_proxied(kl_conf_t *cf, kl_command_t *cmd, void *conf);
static char *kl_http_gzip_disable(kl_conf_t *cf, kl_command_t *cmd, void *conf);


static kl_conf_enum_t kl_http_gzip_http_version[] = {
    { kl_string("1.0"), KL_HTTP_VERSION_10 },
    { kl_string("1.1"), KL_HTTP_VERSION_11 },
    { kl_null_string, 0 },
};


static kl_conf_enum_t kl_http_gzip_proxied_mask[] = {
    { kl_string("off"), KL_HTTP_GZIP_PROXIED_OFF },
    { kl_string("expired"), KL_HTTP_GZIP_PROXIED_EXPIRED },
    { kl_string("no-cache"), KL_HTTP_GZIP_PROXIED_NO_CACHE },
    { kl_string("no-store"), KL_HTTP_GZIP_PROXIED_NO_STORE },
    { kl_string("private"), KL_HTTP_GZIP_PROXIED_PRIVATE },
    { kl_string("no_last_modified"), KL_HTTP_GZIP_PROXIED_NO_LM },
    { kl_string("no_etag"), KL_HTTP_GZIP_PROXIED_NO_ETAG },
    { kl_string("auth"), KL_HTTP_GZIP_PROXIED_AUTH },
    { kl_string("any"), KL_HTTP_GZIP_PROXIED_ANY },
    { kl_null_string, 0 },
};


/* Directive tables keep one field a line, as nginx's do. */
/* clang-format off */
static kl_command_t  kl_http_gzip_common_commands[] = {

    { kl_string("gzip_http_version"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF
      | KL_CONF_TAKE1,
      kl_conf_set_enum_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_gzip_common_conf_t, http_version),
      kl_http_gzip_http_version },

    { kl_string("gzip_proxied"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF
      | KL_CONF_1MORE,
      kl_http_gzip_proxied,
      KL_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { kl_string("gzip_vary"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF
      | KL_CONF_FLAG,
      kl_conf_set_flag_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_gzip_common_conf_t, vary),
      NULL },

    { kl_string("gzip_disable"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF
      | KL_CONF_1MORE,
      kl_http_gzip_disable,
      KL_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    kl_null_command
};
/* clang-format on */


static kl_http_module_t kl_http_gzip_common_module_ctx = {
    .create_loc_conf = kl_http_gzip_common_create_conf,
    .merge_loc_conf = kl_http_gzip_common_merge_conf,
};


kl_module_t kl_http_gzip_common_module = {
    .name = "kl_http_gzip_common_module",
    .type = KL_HTTP_MODULE,
    .ctx = &kl_http_gzip_common_module_ctx,
    .commands = kl_http_gzip_common_commands,
};


/* As nginx's bitmask slot. */
static char *
kl_http_gzip_proxied(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_str_t                   *value;
    kl_uint_t                   i, m;
    kl_http_gzip_common_conf_t *gcf = conf;

    (void) cmd;

    if (gcf->proxied) {
        return "is duplicate";
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        for (m = 0; kl_http_gzip_proxied_mask[m].name.len; m++) {
            if (kl_http_gzip_proxied_mask[m].name.len == value[i].len
                && kl_strcasecmp(kl_http_gzip_proxied_mask[m].name.data,
                                 value[i].data)
                       == 0)
            {
                break;
            }
        }

        if (kl_http_gzip_proxied_mask[m].name.len == 0) {
            kl_conf_log_error(KL_LOG_EMERG, cf, 0, "invalid value \"%s\"",
                              value[i].data);
            return KL_CONF_ERROR;
        }

        if (gcf->proxied & kl_http_gzip_proxied_mask[m].value) {
            kl_conf_log_error(KL_LOG_WARN, cf, 0, "duplicate value \"%s\"",
                              value[i].data);
        } else {
            gcf->proxied |= kl_http_gzip_proxied_mask[m].value;
        }
    }

    /* nginx's bitmask slot marks a set value with its lowest bit */
    gcf->proxied |= 1;

    return KL_CONF_OK;
}


/* gzip_disable msie6 | REGEX ...: regexes match User-Agent, caseless. */
static char *
kl_http_gzip_disable(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    u_char                      errstr[256];
    kl_str_t                   *value;
    kl_uint_t                   i;
    kl_regex_t                **re;
    kl_http_regex_t            *hre;
    kl_regex_compile_t          rc;
    kl_http_gzip_common_conf_t *gcf = conf;

    (void) cmd;

    gcf->disable_set = 1;
    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        if (kl_strcmp(value[i].data, "msie6") == 0) {
            gcf->disable_msie6 = 1;
            continue;
        }

        if (gcf->disable == NULL) {
            gcf->disable = kl_array_create(cf->pool, 2, sizeof(kl_regex_t *));
            if (gcf->disable == NULL) {
                return KL_CONF_ERROR;
            }
        }

        kl_memzero(&rc, sizeof(kl_regex_compile_t));
        rc.pattern = value[i];
        rc.pool = cf->pool;
        rc.options = KL_REGEX_CASELESS;
        rc.err.len = sizeof(errstr);
        rc.err.data = errstr;

        hre = kl_http_regex_compile(cf, &rc);
        if (hre == NULL) {
            return KL_CONF_ERROR;
        }

        re = kl_array_push(gcf->disable);
        if (re == NULL) {
            return KL_CONF_ERROR;
        }

        *re = hre->regex;
    }

    return KL_CONF_OK;
}


static void *
kl_http_gzip_common_create_conf(kl_conf_t *cf)
{
    kl_http_gzip_common_conf_t *conf;

    /* pcalloc: proxied, disable unset */
    conf = kl_pcalloc(cf->pool, sizeof(kl_http_gzip_common_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    conf->http_version = KL_CONF_UNSET_UINT;
    conf->vary = KL_CONF_UNSET;

    return conf;
}


static char *
kl_http_gzip_common_merge_conf(kl_conf_t *cf, void *parent, void *child)
{
    kl_http_gzip_common_conf_t *prev = parent;
    kl_http_gzip_common_conf_t *conf = child;

    (void) cf;

    kl_conf_merge_uint_value(conf->http_version, prev->http_version,
                             KL_HTTP_VERSION_11);
    kl_conf_merge_value(conf->vary, prev->vary, 0);

    if (conf->proxied == 0) {
        conf->proxied =
            prev->proxied ? prev->proxied : (1 | KL_HTTP_GZIP_PROXIED_OFF);
    }

    if (!conf->disable_set) {
        conf->disable = prev->disable;
        conf->disable_msie6 = prev->disable_msie6;
        conf->disable_set = prev->disable_set;
    }

    return KL_CONF_OK;
}
