/*
 * core_symlinks.c: disable_symlinks, a core directive as in nginx: where
 * a symbolic link in a path is refused (static, try_files). The open
 * that checks each component lives in core/open_file_cache.c.
 */

#include "kl_http.h"
#include "core_symlinks.h"


/* disable_symlinks off | on | if_not_owner [from=PART] */
char *
kl_http_core_disable_symlinks(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_str_t                *value, from;
    kl_uint_t                i;
    kl_http_core_loc_conf_t *clcf = conf;

    (void) cmd;

    if (clcf->disable_symlinks != KL_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {

        if (kl_strcmp(value[i].data, "off") == 0) {
            clcf->disable_symlinks = KL_DISABLE_SYMLINKS_OFF;
            continue;
        }

        if (kl_strcmp(value[i].data, "if_not_owner") == 0) {
            clcf->disable_symlinks = KL_DISABLE_SYMLINKS_NOTOWNER;
            continue;
        }

        if (kl_strcmp(value[i].data, "on") == 0) {
            clcf->disable_symlinks = KL_DISABLE_SYMLINKS_ON;
            continue;
        }

        if (kl_strncmp(value[i].data, "from=", 5) == 0
            && clcf->disable_symlinks_from == KL_CONF_UNSET_PTR)
        {
            from.data = value[i].data + 5;
            from.len = value[i].len - 5;

            clcf->disable_symlinks_from = kl_http_compile_value(cf, &from);
            if (clcf->disable_symlinks_from == NULL) {
                return KL_CONF_ERROR;
            }

            continue;
        }

        kl_conf_log_error(KL_LOG_EMERG, cf, 0, "invalid parameter \"%V\"",
                          &value[i]);
        return KL_CONF_ERROR;
    }

    if (clcf->disable_symlinks == KL_CONF_UNSET_UINT) {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                          "\"disable_symlinks\" must have \"off\", \"on\" "
                          "or \"if_not_owner\" parameter");
        return KL_CONF_ERROR;
    }

    if (cf->args->nelts == 2) {
        clcf->disable_symlinks_from = NULL;
        return KL_CONF_OK;
    }

    if (clcf->disable_symlinks_from == KL_CONF_UNSET_PTR) {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0, "duplicate parameters \"%V %V\"",
                          &value[1], &value[2]);
        return KL_CONF_ERROR;
    }

    if (clcf->disable_symlinks == KL_DISABLE_SYMLINKS_OFF) {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                          "\"from=\" cannot be used with \"off\" parameter");
        return KL_CONF_ERROR;
    }

    return KL_CONF_OK;
}


/*
 * As nginx: the part of path named by from= is opened as it is; an empty,
 * foreign or whole-path value checks everything or nothing.
 */
kl_int_t
kl_http_set_disable_symlinks(kl_http_request_t *r, kl_str_t *path,
                             kl_open_file_info_t *of)
{
    u_char                  *p;
    kl_str_t                 from;
    kl_http_core_loc_conf_t *clcf;

    clcf = kl_http_get_module_loc_conf(r, kl_http_core_module);

    of->disable_symlinks = clcf->disable_symlinks;
    of->disable_symlinks_from = 0;

    if (clcf->disable_symlinks_from == NULL) {
        return KL_OK;
    }

    if (kl_http_complex_value(r, clcf->disable_symlinks_from, &from) != KL_OK) {
        return KL_ERROR;
    }

    if (from.len == 0 || from.len > path->len
        || memcmp(path->data, from.data, from.len) != 0)
    {
        return KL_OK;
    }

    if (from.len == path->len) {
        of->disable_symlinks = KL_DISABLE_SYMLINKS_OFF;
        return KL_OK;
    }

    p = path->data + from.len;

    if (*p == '/') {
        of->disable_symlinks_from = from.len;
        return KL_OK;
    }

    p--;

    if (*p == '/') {
        of->disable_symlinks_from = from.len - 1;
    }

    return KL_OK;
}
