/*
 * variables.c: the variable registry: names registered by modules at
 * preconfiguration, indexes handed to confs while the configuration is
 * read, names resolved when the http block ends, and values computed per
 * request on first use. The core variables themselves are in
 * variables_core.c, complex values in script.c.
 *
 * The registry lives in this module's main conf. Its preconfiguration
 * hook registers the core variables before any directive is read; its
 * postconfiguration hook resolves every name a directive asked an index
 * for, so a variable may be used above the directive that defines it, as
 * in nginx. An index asked for after that is resolved at once.
 */

#include "kl_http.h"


static void    *kl_http_variables_create_main_conf(kl_conf_t *cf);
static kl_int_t kl_http_variables_preconfiguration(kl_conf_t *cf);
static kl_int_t kl_http_variables_init(kl_conf_t *cf);
static kl_int_t kl_http_variables_resolve(kl_conf_t                     *cf,
                                          kl_http_variables_main_conf_t *vmcf,
                                          kl_http_variable_t            *v);


static kl_http_module_t kl_http_variables_module_ctx = {
    .preconfiguration = kl_http_variables_preconfiguration,
    .postconfiguration = kl_http_variables_init,
    .create_main_conf = kl_http_variables_create_main_conf,
};


kl_module_t kl_http_variables_module = {
    .name = "kl_http_variables_module",
    .type = KL_HTTP_MODULE,
    .ctx = &kl_http_variables_module_ctx,
};


static void *
kl_http_variables_create_main_conf(kl_conf_t *cf)
{
    kl_http_variables_main_conf_t *vmcf;

    vmcf = kl_pcalloc(cf->pool, sizeof(kl_http_variables_main_conf_t));
    if (vmcf == NULL) {
        return NULL;
    }

    if (kl_array_init(&vmcf->variables, cf->pool, 16,
                      sizeof(kl_http_variable_t))
            != KL_OK
        || kl_array_init(&vmcf->keys, cf->pool, 64, sizeof(kl_http_variable_t))
               != KL_OK
        || kl_array_init(&vmcf->prefixes, cf->pool, 8,
                         sizeof(kl_http_variable_t))
               != KL_OK)
    {
        return NULL;
    }

    return vmcf;
}


static kl_int_t
kl_http_variables_preconfiguration(kl_conf_t *cf)
{
    return kl_http_variables_core_add(cf);
}


static kl_int_t
kl_http_variables_init(kl_conf_t *cf)
{
    kl_uint_t                      i;
    kl_http_variable_t            *v;
    kl_http_variables_main_conf_t *vmcf;

    vmcf = kl_http_conf_get_module_main_conf(cf, kl_http_variables_module);
    v = vmcf->variables.elts;

    for (i = 0; i < vmcf->variables.nelts; i++) {
        if (kl_http_variables_resolve(cf, vmcf, &v[i]) != KL_OK) {
            return KL_ERROR;
        }
    }

    vmcf->resolved = 1;

    return kl_http_variables_core_init(cf);
}


static kl_int_t
kl_http_variables_resolve(kl_conf_t *cf, kl_http_variables_main_conf_t *vmcf,
                          kl_http_variable_t *v)
{
    kl_uint_t                  i;
    kl_http_variable_t        *key;
    kl_http_variable_prefix_t *pd;

    key = vmcf->keys.elts;

    for (i = 0; i < vmcf->keys.nelts; i++) {
        if (key[i].name.len == v->name.len
            && kl_strncmp(key[i].name.data, v->name.data, v->name.len) == 0)
        {
            v->get_handler = key[i].get_handler;
            v->set_handler = key[i].set_handler;
            v->data = key[i].data;
            v->flags = key[i].flags;
            key[i].flags |= KL_HTTP_VAR_INDEXED;
            key[i].index = v->index;
            return KL_OK;
        }
    }

    key = vmcf->prefixes.elts;

    for (i = 0; i < vmcf->prefixes.nelts; i++) {
        if (v->name.len >= key[i].name.len
            && kl_strncmp(key[i].name.data, v->name.data, key[i].name.len) == 0)
        {
            /* Its own copy: the variables array may move as it grows. */
            pd = kl_palloc(cf->pool, sizeof(kl_http_variable_prefix_t));
            if (pd == NULL) {
                return KL_ERROR;
            }

            pd->name = v->name;
            pd->prefix = key[i].name.len;

            v->get_handler = key[i].get_handler;
            v->data = (uintptr_t) pd;
            v->flags = key[i].flags & ~KL_HTTP_VAR_PREFIX;
            return KL_OK;
        }
    }

    kl_log_error(KL_LOG_EMERG, cf->log, 0, "unknown \"%V\" variable", &v->name);

    return KL_ERROR;
}


kl_http_variable_t *
kl_http_add_variable(kl_conf_t *cf, kl_str_t *name, kl_uint_t flags)
{
    kl_uint_t                      i;
    kl_array_t                    *a;
    kl_http_variable_t            *v;
    kl_http_variables_main_conf_t *vmcf;

    if (name->len == 0) {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0, "invalid variable name \"$\"");
        return NULL;
    }

    vmcf = kl_http_conf_get_module_main_conf(cf, kl_http_variables_module);
    a = (flags & KL_HTTP_VAR_PREFIX) ? &vmcf->prefixes : &vmcf->keys;
    v = a->elts;

    for (i = 0; i < a->nelts; i++) {
        if (v[i].name.len != name->len
            || kl_strncasecmp(v[i].name.data, name->data, name->len) != 0)
        {
            continue;
        }

        if (!(v[i].flags & KL_HTTP_VAR_CHANGEABLE)
            || !(flags & KL_HTTP_VAR_CHANGEABLE)) {
            kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                              "the duplicate \"%V\" variable", name);
            return NULL;
        }

        if (!(flags & KL_HTTP_VAR_WEAK)) {
            v[i].flags &= ~KL_HTTP_VAR_WEAK;
        }

        return &v[i];
    }

    v = kl_array_push(a);
    if (v == NULL) {
        return NULL;
    }

    kl_memzero(v, sizeof(kl_http_variable_t));

    v->name.len = name->len;
    v->name.data = kl_pnalloc(cf->pool, name->len);
    if (v->name.data == NULL) {
        return NULL;
    }

    kl_strlow(v->name.data, name->data, name->len);
    v->flags = flags;

    return v;
}


kl_int_t
kl_http_get_variable_index(kl_conf_t *cf, kl_str_t *name)
{
    kl_uint_t                      i;
    kl_http_variable_t            *v;
    kl_http_variables_main_conf_t *vmcf;

    if (name->len == 0) {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0, "invalid variable name \"$\"");
        return KL_ERROR;
    }

    vmcf = kl_http_conf_get_module_main_conf(cf, kl_http_variables_module);
    v = vmcf->variables.elts;

    for (i = 0; i < vmcf->variables.nelts; i++) {
        if (v[i].name.len == name->len
            && kl_strncasecmp(v[i].name.data, name->data, name->len) == 0)
        {
            return (kl_int_t) i;
        }
    }

    v = kl_array_push(&vmcf->variables);
    if (v == NULL) {
        return KL_ERROR;
    }

    kl_memzero(v, sizeof(kl_http_variable_t));

    v->name.len = name->len;
    v->name.data = kl_pnalloc(cf->pool, name->len);
    if (v->name.data == NULL) {
        return KL_ERROR;
    }

    kl_strlow(v->name.data, name->data, name->len);
    v->index = vmcf->variables.nelts - 1;

    if (vmcf->resolved && kl_http_variables_resolve(cf, vmcf, v) != KL_OK) {
        return KL_ERROR;
    }

    return (kl_int_t) v->index;
}


kl_uint_t
kl_http_variable_registered(kl_conf_t *cf, kl_str_t *name)
{
    kl_uint_t                      i;
    kl_http_variable_t            *v;
    kl_http_variables_main_conf_t *vmcf;

    vmcf = kl_http_conf_get_module_main_conf(cf, kl_http_variables_module);
    v = vmcf->keys.elts;

    for (i = 0; i < vmcf->keys.nelts; i++) {
        if (v[i].name.len == name->len
            && kl_strncasecmp(v[i].name.data, name->data, name->len) == 0)
        {
            return 1;
        }
    }

    return 0;
}


kl_http_variable_value_t *
kl_http_get_indexed_variable(kl_http_request_t *r, kl_uint_t index)
{
    kl_http_variable_t            *v;
    kl_http_variable_value_t      *value;
    kl_http_variables_main_conf_t *vmcf;

    vmcf = kl_http_get_module_main_conf(r, kl_http_variables_module);

    if (index >= vmcf->variables.nelts) {
        kl_log_error(KL_LOG_ALERT, r->connection->log, 0,
                     "unknown variable index: %ui", index);
        return NULL;
    }

    if (r->variables == NULL) {
        r->variables = kl_pcalloc(
            r->pool, vmcf->variables.nelts * sizeof(kl_http_variable_value_t));
        if (r->variables == NULL) {
            return NULL;
        }
    }

    value = &r->variables[index];

    if (value->valid || value->not_found) {
        return value;
    }

    v = vmcf->variables.elts;

    if (v[index].get_handler
        && v[index].get_handler(r, value, v[index].data) == KL_OK)
    {
        if (v[index].flags & KL_HTTP_VAR_NOCACHEABLE) {
            value->no_cacheable = 1;
        }

        return value;
    }

    value->valid = 0;
    value->not_found = 1;

    return NULL;
}


kl_http_variable_value_t *
kl_http_get_flushed_variable(kl_http_request_t *r, kl_uint_t index)
{
    kl_http_variable_value_t *value;

    if (r->variables) {
        value = &r->variables[index];

        if (value->valid || value->not_found) {
            if (!value->no_cacheable) {
                return value;
            }

            value->valid = 0;
            value->not_found = 0;
        }
    }

    return kl_http_get_indexed_variable(r, index);
}


kl_int_t
kl_http_set_indexed_variable(kl_http_request_t *r, kl_uint_t index,
                             kl_str_t *value)
{
    kl_http_variable_value_t      *v;
    kl_http_variables_main_conf_t *vmcf;

    vmcf = kl_http_get_module_main_conf(r, kl_http_variables_module);

    if (index >= vmcf->variables.nelts) {
        return KL_ERROR;
    }

    if (r->variables == NULL) {
        r->variables = kl_pcalloc(
            r->pool, vmcf->variables.nelts * sizeof(kl_http_variable_value_t));
        if (r->variables == NULL) {
            return KL_ERROR;
        }
    }

    v = &r->variables[index];

    v->data = value->data;
    v->len = value->len;
    v->valid = 1;
    v->not_found = 0;
    v->no_cacheable = 0;

    return KL_OK;
}
