/*
 * auth_request.c: auth_request URI|off and auth_request_set $var VALUE,
 * as nginx's auth_request module.
 *
 * At the access phase a request runs a header_only subrequest to URI
 * and waits for it. Its status decides: 2xx lets the request go on;
 * 401 and 403 are the answer (a 401 with the subrequest's
 * WWW-Authenticate fields, every one of them); any other status is 500,
 * logged as nginx logs it. The subrequest gets no request body (it is
 * not read; the handler of the main request still gets it).
 * auth_request_set values are evaluated in the subrequest once it is
 * done, whatever its status, so its response fields ($sent_http_*) are
 * visible, and set on the main request.
 */

#include "kl_http.h"


typedef struct {
    kl_http_complex_value_t *value;
    kl_int_t                 index;
    kl_http_set_variable_pt  set_handler;
    uintptr_t                data;
} kl_http_auth_request_var_t;

typedef struct {
    kl_str_t    uri;  /* len 0: off */
    kl_array_t *vars; /* kl_http_auth_request_var_t */
} kl_http_auth_request_conf_t;

typedef struct {
    kl_uint_t          done;
    kl_uint_t          status;
    kl_http_request_t *subrequest;
} kl_http_auth_request_ctx_t;


static kl_int_t kl_http_auth_request_done(kl_http_request_t *r, void *data,
                                          kl_int_t rc);
static void    *kl_http_auth_request_create_conf(kl_conf_t *cf);
static char    *kl_http_auth_request_merge_conf(kl_conf_t *cf, void *parent,
                                                void *child);
static kl_int_t kl_http_auth_request_init(kl_conf_t *cf);
static char *kl_http_auth_request(kl_conf_t *cf, kl_command_t *cmd, void *conf);
static char *kl_http_auth_request_set(kl_conf_t *cf, kl_command_t *cmd,
                                      void *conf);


/* clang-format off */
static kl_command_t  kl_http_auth_request_commands[] = {

    { kl_string("auth_request"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE1,
      kl_http_auth_request,
      KL_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { kl_string("auth_request_set"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE2,
      kl_http_auth_request_set,
      KL_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    kl_null_command
};
/* clang-format on */


static kl_http_module_t kl_http_auth_request_module_ctx = {
    .postconfiguration = kl_http_auth_request_init,
    .create_loc_conf = kl_http_auth_request_create_conf,
    .merge_loc_conf = kl_http_auth_request_merge_conf,
};


kl_module_t kl_http_auth_request_module = {
    .name = "kl_http_auth_request_module",
    .type = KL_HTTP_MODULE,
    .ctx = &kl_http_auth_request_module_ctx,
    .commands = kl_http_auth_request_commands,
};


static kl_int_t
kl_http_auth_request_set_variables(kl_http_request_t           *r,
                                   kl_http_auth_request_conf_t *arcf,
                                   kl_http_auth_request_ctx_t  *ctx)
{
    kl_str_t                    val;
    kl_uint_t                   i;
    kl_http_variable_value_t    vv;
    kl_http_auth_request_var_t *av;

    if (arcf->vars == NULL) {
        return KL_OK;
    }

    av = arcf->vars->elts;

    for (i = 0; i < arcf->vars->nelts; i++) {
        if (kl_http_complex_value(ctx->subrequest, av[i].value, &val) != KL_OK)
        {
            return KL_ERROR;
        }

        if (av[i].set_handler) {
            kl_memzero(&vv, sizeof(kl_http_variable_value_t));
            vv.len = val.len;
            vv.data = val.data;
            vv.valid = 1;
            av[i].set_handler(r, &vv, av[i].data);
            continue;
        }

        if (kl_http_set_indexed_variable(r, (kl_uint_t) av[i].index, &val)
            != KL_OK) {
            return KL_ERROR;
        }
    }

    return KL_OK;
}


/* The subrequest's WWW-Authenticate fields, all of them, on r. */
static kl_int_t
kl_http_auth_request_www_authenticate(kl_http_request_t *r,
                                      kl_http_request_t *sr)
{
    kl_uint_t       i;
    kl_list_part_t *part;
    kl_table_elt_t *h, *ho;

    part = &sr->headers_out.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {
        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].hash == 0 || h[i].key.len != sizeof("WWW-Authenticate") - 1
            || kl_strncasecmp(h[i].key.data, (u_char *) "WWW-Authenticate",
                              h[i].key.len)
                   != 0)
        {
            continue;
        }

        ho = kl_list_push(&r->headers_out.headers);
        if (ho == NULL) {
            return KL_ERROR;
        }

        *ho = h[i];
        ho->next = NULL;
    }

    return KL_OK;
}


static kl_int_t
kl_http_auth_request_decide(kl_http_request_t           *r,
                            kl_http_auth_request_conf_t *arcf,
                            kl_http_auth_request_ctx_t  *ctx)
{
    if (!ctx->done) {
        return KL_AGAIN;
    }

    if (kl_http_auth_request_set_variables(r, arcf, ctx) != KL_OK) {
        return KL_ERROR;
    }

    if (ctx->status == KL_HTTP_FORBIDDEN) {
        return (kl_int_t) ctx->status;
    }

    if (ctx->status == KL_HTTP_UNAUTHORIZED) {
        if (kl_http_auth_request_www_authenticate(r, ctx->subrequest) != KL_OK)
        {
            return KL_ERROR;
        }

        return (kl_int_t) ctx->status;
    }

    if (ctx->status >= KL_HTTP_OK && ctx->status < KL_HTTP_SPECIAL_RESPONSE) {
        return KL_OK;
    }

    kl_log_error(KL_LOG_ERR, r->connection->log, 0,
                 "auth request unexpected status: %ui", ctx->status);

    return KL_HTTP_INTERNAL_SERVER_ERROR;
}


static kl_int_t
kl_http_auth_request_handler(kl_http_request_t *r)
{
    kl_http_request_t           *sr;
    kl_http_post_subrequest_t   *ps;
    kl_http_auth_request_ctx_t  *ctx;
    kl_http_auth_request_conf_t *arcf;

    arcf = kl_http_get_module_loc_conf(r, kl_http_auth_request_module);

    if (arcf->uri.len == 0) {
        return KL_DECLINED;
    }

    ctx = kl_http_get_module_ctx(r, kl_http_auth_request_module);

    if (ctx) {
        return kl_http_auth_request_decide(r, arcf, ctx);
    }

    ctx = kl_pcalloc(r->pool, sizeof(kl_http_auth_request_ctx_t));
    ps = kl_palloc(r->pool, sizeof(kl_http_post_subrequest_t));
    if (ctx == NULL || ps == NULL) {
        return KL_ERROR;
    }

    ps->handler = kl_http_auth_request_done;
    ps->data = ctx;

    if (kl_http_subrequest(r, &arcf->uri, NULL, &sr, ps,
                           KL_HTTP_SUBREQUEST_WAITED)
        != KL_OK)
    {
        return KL_ERROR;
    }

    /* An empty body: the client's is neither read nor sent (nginx's). */
    sr->request_body = kl_pcalloc(r->pool, sizeof(kl_http_request_body_t));
    if (sr->request_body == NULL) {
        return KL_ERROR;
    }

    sr->header_only = 1;

    ctx->subrequest = sr;
    kl_http_set_ctx(r, ctx, kl_http_auth_request_module);

    return KL_AGAIN;
}


static kl_int_t
kl_http_auth_request_done(kl_http_request_t *r, void *data, kl_int_t rc)
{
    kl_http_auth_request_ctx_t *ctx;

    ctx = data;

    ctx->done = 1;
    ctx->status = r->headers_out.status;

    return rc;
}


/* An auth_request_set variable before the subrequest set it: no value. */
static kl_int_t
kl_http_auth_request_variable(kl_http_request_t *r, kl_http_variable_value_t *v,
                              uintptr_t data)
{
    (void) r;
    (void) data;

    v->not_found = 1;

    return KL_OK;
}


static void *
kl_http_auth_request_create_conf(kl_conf_t *cf)
{
    kl_http_auth_request_conf_t *conf;

    conf = kl_pcalloc(cf->pool, sizeof(kl_http_auth_request_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    conf->vars = KL_CONF_UNSET_PTR;

    return conf;
}


static char *
kl_http_auth_request_merge_conf(kl_conf_t *cf, void *parent, void *child)
{
    kl_http_auth_request_conf_t *prev = parent;
    kl_http_auth_request_conf_t *conf = child;

    (void) cf;

    kl_conf_merge_str_value(conf->uri, prev->uri, "");
    kl_conf_merge_ptr_value(conf->vars, prev->vars, NULL);

    return KL_CONF_OK;
}


static kl_int_t
kl_http_auth_request_init(kl_conf_t *cf)
{
    return kl_http_add_phase_handler(cf, KL_HTTP_ACCESS_PHASE,
                                     kl_http_auth_request_handler);
}


static char *
kl_http_auth_request(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_str_t                    *value;
    kl_http_auth_request_conf_t *arcf = conf;

    (void) cmd;

    if (arcf->uri.data != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 3 && kl_strcmp(value[1].data, "off") == 0) {
        arcf->uri.len = 0;
        arcf->uri.data = (u_char *) "";
        return KL_CONF_OK;
    }

    arcf->uri = value[1];

    return KL_CONF_OK;
}


static char *
kl_http_auth_request_set(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_int_t                     index;
    kl_str_t                    *value;
    kl_http_variable_t          *v;
    kl_http_auth_request_var_t  *av;
    kl_http_auth_request_conf_t *arcf = conf;

    (void) cmd;

    value = cf->args->elts;

    if (value[1].data[0] != '$') {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0, "invalid variable name \"%V\"",
                          &value[1]);
        return KL_CONF_ERROR;
    }

    value[1].len--;
    value[1].data++;

    if (arcf->vars == KL_CONF_UNSET_PTR) {
        arcf->vars =
            kl_array_create(cf->pool, 1, sizeof(kl_http_auth_request_var_t));
        if (arcf->vars == NULL) {
            return KL_CONF_ERROR;
        }
    }

    av = kl_array_push(arcf->vars);
    if (av == NULL) {
        return KL_CONF_ERROR;
    }

    v = kl_http_add_variable(cf, &value[1], KL_HTTP_VAR_CHANGEABLE);
    if (v == NULL) {
        return KL_CONF_ERROR;
    }

    index = kl_http_get_variable_index(cf, &value[1]);
    if (index == KL_ERROR) {
        return KL_CONF_ERROR;
    }

    if (v->get_handler == NULL) {
        v->get_handler = kl_http_auth_request_variable;
    }

    av->index = index;
    av->set_handler = v->set_handler;
    av->data = v->data;

    av->value = kl_http_compile_value(cf, &value[2]);
    if (av->value == NULL) {
        return KL_CONF_ERROR;
    }

    return KL_CONF_OK;
}
