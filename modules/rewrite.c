/*
 * rewrite.c: the rewrite module. For now its "return" directive: answer
 * with a status, a text body or a redirect, at the server's rewrite phase
 * (return in server) or the location's (return in location). rewrite,
 * if, set and break join it with their script engine.
 */

#include "kl_http.h"


typedef struct {
    kl_int_t                 status; /* KL_CONF_UNSET: no return here */
    kl_http_complex_value_t *text;   /* body, or the Location of a 3xx */
} kl_http_rewrite_loc_conf_t;


static kl_int_t kl_http_rewrite_init(kl_conf_t *cf);
static void    *kl_http_rewrite_create_loc_conf(kl_conf_t *cf);
static kl_int_t kl_http_rewrite_handler(kl_http_request_t *r);
static char    *kl_http_rewrite_return(kl_conf_t *cf, kl_command_t *cmd,
                                       void *conf);


/* clang-format off */
static kl_command_t  kl_http_rewrite_commands[] = {

    { kl_string("return"),
      KL_HTTP_SRV_CONF | KL_HTTP_SIF_CONF | KL_HTTP_LOC_CONF
      | KL_HTTP_LIF_CONF | KL_CONF_TAKE12,
      kl_http_rewrite_return,
      KL_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    kl_null_command
};
/* clang-format on */


static kl_http_module_t kl_http_rewrite_module_ctx = {
    .postconfiguration = kl_http_rewrite_init,
    .create_loc_conf = kl_http_rewrite_create_loc_conf,
};


kl_module_t kl_http_rewrite_module = {
    .name = "kl_http_rewrite_module",
    .type = KL_HTTP_MODULE,
    .ctx = &kl_http_rewrite_module_ctx,
    .commands = kl_http_rewrite_commands,
};


static kl_int_t
kl_http_rewrite_init(kl_conf_t *cf)
{
    if (kl_http_add_phase_handler(cf, KL_HTTP_SERVER_REWRITE_PHASE,
                                  kl_http_rewrite_handler)
        != KL_OK)
    {
        return KL_ERROR;
    }

    return kl_http_add_phase_handler(cf, KL_HTTP_REWRITE_PHASE,
                                     kl_http_rewrite_handler);
}


/*
 * Not merged: a server's return runs once, at the server rewrite phase,
 * and a location's only for that location, as nginx's scripts do.
 */
static void *
kl_http_rewrite_create_loc_conf(kl_conf_t *cf)
{
    kl_http_rewrite_loc_conf_t *rlcf;

    rlcf = kl_pcalloc(cf->pool, sizeof(kl_http_rewrite_loc_conf_t));
    if (rlcf == NULL) {
        return NULL;
    }

    rlcf->status = KL_CONF_UNSET;

    return rlcf;
}


static kl_int_t
kl_http_rewrite_handler(kl_http_request_t *r)
{
    kl_http_rewrite_loc_conf_t *rlcf;

    rlcf = kl_http_get_module_loc_conf(r, kl_http_rewrite_module);

    if (rlcf->status == KL_CONF_UNSET) {
        return KL_DECLINED;
    }

    return kl_http_send_response(r, (kl_uint_t) rlcf->status, NULL, rlcf->text);
}


static kl_uint_t
kl_http_rewrite_is_url(kl_str_t *s)
{
    return (s->len > 7 && kl_strncmp(s->data, "http://", 7) == 0)
           || (s->len > 8 && kl_strncmp(s->data, "https://", 8) == 0)
           || (s->len > 7 && kl_strncmp(s->data, "$scheme", 7) == 0);
}


static char *
kl_http_rewrite_return(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_http_rewrite_loc_conf_t *rlcf = conf;
    kl_int_t                    status;
    kl_str_t                   *value, *text;

    (void) cmd;

    if (rlcf->status != KL_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;
    text = NULL;

    status = kl_atoi(value[1].data, value[1].len);

    if (status == KL_ERROR) {
        if (cf->args->nelts == 2 && kl_http_rewrite_is_url(&value[1])) {
            /* "return URL": a 302 to it. */
            status = KL_HTTP_MOVED_TEMPORARILY;
            text = &value[1];

        } else {
            kl_conf_log_error(KL_LOG_EMERG, cf, 0, "invalid return code \"%V\"",
                              &value[1]);
            return KL_CONF_ERROR;
        }

    } else {
        if (status > 999) {
            kl_conf_log_error(KL_LOG_EMERG, cf, 0, "invalid return code \"%V\"",
                              &value[1]);
            return KL_CONF_ERROR;
        }

        if (cf->args->nelts == 3) {
            text = &value[2];
        }
    }

    rlcf->status = status;

    if (text == NULL) {
        return KL_CONF_OK;
    }

    rlcf->text = kl_http_compile_value(cf, text);
    if (rlcf->text == NULL) {
        return KL_CONF_ERROR;
    }

    return KL_CONF_OK;
}
