/*
 * charset.c: the charset filter, nginx's without recoding: "charset NAME"
 * adds "; charset=NAME" to the Content-Type of the charset_types, for
 * every response that has one, error pages included, but not for 301 and
 * 302 (nginx's rule, for old browsers that kept a redirect's charset).
 *
 * nginx recodes between two charsets that a charset_map links; kiln has
 * no charset_map, so a location whose charset and source_charset differ
 * is refused with nginx's own message for a missing map: sending the
 * bytes unchanged under another charset's name would be wrong. When
 * either name comes from a variable, the mismatch is found per request
 * and, as in nginx, logged and the response left unlabelled.
 */

#include "kl_http.h"


#define KL_HTTP_CHARSET_OFF   -2
#define KL_HTTP_CHARSET_UNSET -1

/* A charset: off, a name, or a variable's value ("charset $name"). */
typedef struct {
    kl_int_t set; /* KL_HTTP_CHARSET_OFF, _UNSET or 1 */
    kl_str_t name;
    kl_int_t index; /* the variable's, or KL_CONF_UNSET */
} kl_http_charset_name_t;

typedef struct {
    kl_http_charset_name_t charset;
    kl_http_charset_name_t source_charset;
    kl_int_t               override_charset;

    kl_array_t *types; /* kl_str_t, lowercase; NULL: the defaults */
    kl_uint_t   any;   /* charset_types * */
} kl_http_charset_loc_conf_t;

typedef struct {
    kl_http_output_header_filter_pt next_header_filter;
} kl_http_charset_main_conf_t;


static char    *kl_http_charset_set_name(kl_conf_t *cf, kl_command_t *cmd,
                                         void *conf);
static char    *kl_http_charset_types(kl_conf_t *cf, kl_command_t *cmd,
                                      void *conf);
static void    *kl_http_charset_create_main_conf(kl_conf_t *cf);
static void    *kl_http_charset_create_loc_conf(kl_conf_t *cf);
static char    *kl_http_charset_merge_loc_conf(kl_conf_t *cf, void *parent,
                                               void *child);
static kl_int_t kl_http_charset_filter_init(kl_conf_t *cf);


/* clang-format off */
static kl_command_t  kl_http_charset_filter_commands[] = {

    { kl_string("charset"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF
      | KL_HTTP_LIF_CONF | KL_CONF_TAKE1,
      kl_http_charset_set_name,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_charset_loc_conf_t, charset),
      NULL },

    { kl_string("source_charset"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF
      | KL_HTTP_LIF_CONF | KL_CONF_TAKE1,
      kl_http_charset_set_name,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_charset_loc_conf_t, source_charset),
      NULL },

    { kl_string("override_charset"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF
      | KL_HTTP_LIF_CONF | KL_CONF_FLAG,
      kl_conf_set_flag_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_charset_loc_conf_t, override_charset),
      NULL },

    { kl_string("charset_types"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF
      | KL_CONF_1MORE,
      kl_http_charset_types,
      KL_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    kl_null_command
};
/* clang-format on */


static kl_http_module_t kl_http_charset_filter_module_ctx = {
    .postconfiguration = kl_http_charset_filter_init,
    .create_main_conf = kl_http_charset_create_main_conf,
    .create_loc_conf = kl_http_charset_create_loc_conf,
    .merge_loc_conf = kl_http_charset_merge_loc_conf,
};


kl_module_t kl_http_charset_filter_module = {
    .name = "kl_http_charset_filter_module",
    .type = KL_HTTP_MODULE,
    .ctx = &kl_http_charset_filter_module_ctx,
    .commands = kl_http_charset_filter_commands,
};


/* nginx's default charset_types; text/html is in every list. */
static kl_str_t kl_http_charset_default_types[] = {
    kl_string("text/html"),
    kl_string("text/xml"),
    kl_string("text/plain"),
    kl_string("text/vnd.wap.wml"),
    kl_string("application/javascript"),
    kl_string("application/rss+xml"),
    kl_null_string,
};


/* Is the response's type, without its parameters, one of the list? */
static kl_uint_t
kl_http_charset_test_type(kl_http_request_t *r, kl_http_charset_loc_conf_t *lcf)
{
    size_t    len;
    kl_str_t *t;
    kl_uint_t i, n;
    u_char   *ct;

    if (lcf->any) {
        return 1;
    }

    ct = r->headers_out.content_type.data;
    len = r->headers_out.content_type_len;

    if (lcf->types) {
        t = lcf->types->elts;
        n = lcf->types->nelts;

    } else {
        t = kl_http_charset_default_types;
        n = sizeof(kl_http_charset_default_types) / sizeof(kl_str_t) - 1;
    }

    for (i = 0; i < n; i++) {
        if (t[i].len == len && kl_strncasecmp(ct, t[i].data, len) == 0) {
            return 1;
        }
    }

    return 0;
}


/*
 * The name a charset setting gives for r: KL_OK, KL_DECLINED (off), or
 * KL_ERROR when its variable has no value, which fails the response as
 * in nginx.
 */
static kl_int_t
kl_http_charset_value(kl_http_request_t *r, kl_http_charset_name_t *cn,
                      kl_str_t *name)
{
    kl_http_variable_value_t *vv;

    if (cn->set != 1) {
        return KL_DECLINED;
    }

    if (cn->index == KL_CONF_UNSET) {
        *name = cn->name;
        return KL_OK;
    }

    vv = kl_http_get_indexed_variable(r, (kl_uint_t) cn->index);

    if (vv == NULL || vv->not_found) {
        return KL_ERROR;
    }

    name->len = vv->len;
    name->data = vv->data;

    return KL_OK;
}


static kl_int_t
kl_http_charset_header_filter(kl_http_request_t *r)
{
    kl_int_t                     rc;
    kl_str_t                     dst, src;
    kl_http_charset_loc_conf_t  *lcf;
    kl_http_charset_main_conf_t *cmcf;

    cmcf = kl_http_get_module_main_conf(r, kl_http_charset_filter_module);
    lcf = kl_http_get_module_loc_conf(r, kl_http_charset_filter_module);

    /* charset off (the default) decides before any type is compared. */
    if (r != r->main || r->headers_out.content_type.len == 0
        || lcf->charset.set != 1)
    {
        return cmcf->next_header_filter(r);
    }

    /* The destination: the charset directive's, for the listed types. */
    if (r->headers_out.charset.len) {
        if (!lcf->override_charset) {
            return cmcf->next_header_filter(r);
        }

    } else if (!kl_http_charset_test_type(r, lcf)) {
        return cmcf->next_header_filter(r);
    }

    rc = kl_http_charset_value(r, &lcf->charset, &dst);

    if (rc == KL_ERROR) {
        return KL_ERROR;
    }

    if (rc == KL_DECLINED) {
        return cmcf->next_header_filter(r);
    }

    /* The source: what the response says, or source_charset. */
    if (r->headers_out.charset.len) {
        src = r->headers_out.charset;
        rc = KL_OK;

    } else {
        rc = kl_http_charset_value(r, &lcf->source_charset, &src);

        if (rc == KL_ERROR) {
            return KL_ERROR;
        }
    }

    if (rc == KL_OK
        && (src.len != dst.len || kl_strncasecmp(src.data, dst.data, dst.len)))
    {
        kl_log_error(KL_LOG_ERR, r->connection->log, 0,
                     "no \"charset_map\" between the charsets \"%V\" and "
                     "\"%V\"",
                     &src, &dst);

        return cmcf->next_header_filter(r);
    }

    if (rc == KL_OK) {
        r->headers_out.content_type.len = r->headers_out.content_type_len;
    }

    if (r->headers_out.status == KL_HTTP_MOVED_PERMANENTLY
        || r->headers_out.status == KL_HTTP_MOVED_TEMPORARILY)
    {
        kl_str_null(&r->headers_out.charset);

    } else {
        r->headers_out.charset = dst;
    }

    return cmcf->next_header_filter(r);
}


static char *
kl_http_charset_set_name(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_str_t               *value, var;
    kl_http_charset_name_t *cn;

    cn = (kl_http_charset_name_t *) ((char *) conf + cmd->offset);

    if (cn->set != KL_HTTP_CHARSET_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (cmd->offset == offsetof(kl_http_charset_loc_conf_t, charset)
        && kl_strcmp(value[1].data, "off") == 0)
    {
        cn->set = KL_HTTP_CHARSET_OFF;
        return KL_CONF_OK;
    }

    cn->set = 1;
    cn->name = value[1];

    /* As nginx: a leading '$' makes the rest a variable's name. */
    if (value[1].data[0] != '$') {
        return KL_CONF_OK;
    }

    var.data = value[1].data + 1;
    var.len = value[1].len - 1;

    cn->index = kl_http_get_variable_index(cf, &var);
    if (cn->index == KL_ERROR) {
        return KL_CONF_ERROR;
    }

    return KL_CONF_OK;
}


/* As nginx's types slot: lists add up, and "*" stands for every type. */
static char *
kl_http_charset_types(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_http_charset_loc_conf_t *lcf = conf;

    kl_str_t *value, *t;
    kl_uint_t i, n;

    (void) cmd;

    if (lcf->any) {
        return KL_CONF_OK;
    }

    if (lcf->types == NULL) {
        lcf->types = kl_array_create(cf->pool, 4, sizeof(kl_str_t));
        if (lcf->types == NULL) {
            return KL_CONF_ERROR;
        }

        t = kl_array_push(lcf->types);
        if (t == NULL) {
            return KL_CONF_ERROR;
        }

        *t = kl_http_charset_default_types[0];
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        if (value[i].len == 1 && value[i].data[0] == '*') {
            lcf->any = 1;
            return KL_CONF_OK;
        }

        kl_strlow(value[i].data, value[i].data, value[i].len);

        t = lcf->types->elts;

        for (n = 0; n < lcf->types->nelts; n++) {
            if (t[n].len == value[i].len
                && kl_strncmp(t[n].data, value[i].data, value[i].len) == 0)
            {
                kl_conf_log_error(KL_LOG_WARN, cf, 0,
                                  "duplicate MIME type \"%V\"", &value[i]);
                break;
            }
        }

        if (n < lcf->types->nelts) {
            continue;
        }

        t = kl_array_push(lcf->types);
        if (t == NULL) {
            return KL_CONF_ERROR;
        }

        *t = value[i];
    }

    return KL_CONF_OK;
}


static void *
kl_http_charset_create_main_conf(kl_conf_t *cf)
{
    return kl_pcalloc(cf->pool, sizeof(kl_http_charset_main_conf_t));
}


static void *
kl_http_charset_create_loc_conf(kl_conf_t *cf)
{
    kl_http_charset_loc_conf_t *lcf;

    lcf = kl_pcalloc(cf->pool, sizeof(kl_http_charset_loc_conf_t));
    if (lcf == NULL) {
        return NULL;
    }

    lcf->charset.set = KL_HTTP_CHARSET_UNSET;
    lcf->charset.index = KL_CONF_UNSET;
    lcf->source_charset.set = KL_HTTP_CHARSET_UNSET;
    lcf->source_charset.index = KL_CONF_UNSET;
    lcf->override_charset = KL_CONF_UNSET;

    return lcf;
}


static char *
kl_http_charset_merge_loc_conf(kl_conf_t *cf, void *parent, void *child)
{
    kl_http_charset_loc_conf_t *prev = parent;
    kl_http_charset_loc_conf_t *conf = child;

    kl_conf_merge_value(conf->override_charset, prev->override_charset, 0);

    if (conf->charset.set == KL_HTTP_CHARSET_UNSET) {
        conf->charset = prev->charset;
    }

    if (conf->source_charset.set == KL_HTTP_CHARSET_UNSET) {
        conf->source_charset = prev->source_charset;
    }

    if (conf->types == NULL && !conf->any) {
        conf->types = prev->types;
        conf->any = prev->any;
    }

    if (conf->charset.set != 1 || conf->source_charset.set != 1
        || conf->charset.index != KL_CONF_UNSET
        || conf->source_charset.index != KL_CONF_UNSET)
    {
        return KL_CONF_OK;
    }

    if (conf->charset.name.len == conf->source_charset.name.len
        && kl_strncasecmp(conf->charset.name.data,
                          conf->source_charset.name.data,
                          conf->charset.name.len)
               == 0)
    {
        return KL_CONF_OK;
    }

    kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                      "no \"charset_map\" between the charsets \"%V\" and "
                      "\"%V\" (kiln does not recode)",
                      &conf->source_charset.name, &conf->charset.name);

    return KL_CONF_ERROR;
}


static kl_int_t
kl_http_charset_filter_init(kl_conf_t *cf)
{
    kl_http_core_main_conf_t    *cmcf;
    kl_http_charset_main_conf_t *chmcf;

    cmcf = kl_http_conf_get_module_main_conf(cf, kl_http_core_module);
    chmcf =
        kl_http_conf_get_module_main_conf(cf, kl_http_charset_filter_module);

    chmcf->next_header_filter = cmcf->top_header_filter;
    cmcf->top_header_filter = kl_http_charset_header_filter;

    return KL_OK;
}
