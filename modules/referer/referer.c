/* referer.c: "valid_referers ..." and $invalid_referer, as nginx's referer module. */

/*
 * $invalid_referer is empty when the Referer field is valid for the
 * location, "1" otherwise. Valid: no field with "none"; a value not
 * starting "http://" or "https://" with "blocked"; a host (before '/' or
 * ':', at most 255 bytes) among the names listed (referer_hosts.c:
 * exact, then wildcards; a name may require a URI prefix), or among the
 * server's names with "server_names"; or, failing those, a "~regex"
 * matching what follows the scheme (caseless, as nginx). A location with
 * no valid_referers of its own takes its parent's.
 */

#include "kl_http.h"
#include "referer_hosts.h"


typedef struct {
    kl_http_referer_hosts_t *hosts;        /* NULL: none given here */
    kl_array_t              *regex;        /* kl_regex_t *, on the rest */
    kl_array_t              *server_regex; /* kl_regex_t *, on the host */

    kl_int_t  no_referer;
    kl_int_t  blocked_referer;
    kl_uint_t server_names;

    kl_uint_t hash_max_size;
    kl_uint_t hash_bucket_size;
} kl_http_referer_conf_t;


static void    *kl_http_referer_create_conf(kl_conf_t *cf);
static char    *kl_http_referer_merge_conf(kl_conf_t *cf, void *parent,
                                           void *child);
static char    *kl_http_valid_referers(kl_conf_t *cf, kl_command_t *cmd,
                                       void *conf);
static kl_int_t kl_http_referer_add_variables(kl_conf_t *cf);


/* clang-format off */
static kl_command_t  kl_http_referer_commands[] = {

    { kl_string("valid_referers"),
      KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_1MORE,
      kl_http_valid_referers,
      KL_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { kl_string("referer_hash_max_size"),
      KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE1,
      kl_conf_set_num_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_referer_conf_t, hash_max_size),
      NULL },

    { kl_string("referer_hash_bucket_size"),
      KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE1,
      kl_conf_set_num_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_referer_conf_t, hash_bucket_size),
      NULL },

    kl_null_command
};
/* clang-format on */


static kl_http_module_t kl_http_referer_module_ctx = {
    .preconfiguration = kl_http_referer_add_variables,
    .create_loc_conf = kl_http_referer_create_conf,
    .merge_loc_conf = kl_http_referer_merge_conf,
};


kl_module_t kl_http_referer_module = {
    .name = "kl_http_referer_module",
    .type = KL_HTTP_MODULE,
    .ctx = &kl_http_referer_module_ctx,
    .commands = kl_http_referer_commands,
};


/* Does one of the regexes match s? KL_OK, KL_DECLINED, or KL_ERROR. */
static kl_int_t
kl_http_referer_regex(kl_http_request_t *r, kl_array_t *a, u_char *p,
                      size_t len)
{
    kl_int_t     rc;
    kl_str_t     s;
    kl_uint_t    i;
    kl_regex_t **re;

    if (a == NULL) {
        return KL_DECLINED;
    }

    s.data = p;
    s.len = len;
    re = a->elts;

    for (i = 0; i < a->nelts; i++) {
        rc = kl_regex_exec(re[i], &s, NULL, 0);

        if (rc >= 0) {
            return KL_OK;
        }

        if (rc != KL_REGEX_NO_MATCHED) {
            kl_log_error(KL_LOG_ALERT, r->connection->log, 0,
                         "pcre2_match() failed: %i on \"%V\"", rc, &s);
            return KL_ERROR;
        }
    }

    return KL_DECLINED;
}


/* Is the Referer valid for rlcf? KL_OK, KL_DECLINED, or KL_ERROR. */
static kl_int_t
kl_http_referer_valid(kl_http_request_t *r, kl_http_referer_conf_t *rlcf)
{
    u_char                 *ref, *last, *p, buf[256];
    size_t                  len, i;
    kl_int_t                rc;
    kl_http_referer_host_t *host;

    if (r->headers_in.referer == NULL) {
        return rlcf->no_referer == 1 ? KL_OK : KL_DECLINED;
    }

    ref = r->headers_in.referer->value.data;
    len = r->headers_in.referer->value.len;
    last = ref + len;

    /* nginx looks for a scheme only in values of 11 bytes or more */
    if (len >= sizeof("http://i.ru") - 1
        && kl_strncasecmp(ref, (u_char *) "http://", 7) == 0)
    {
        ref += 7;

    } else if (len >= sizeof("http://i.ru") - 1
               && kl_strncasecmp(ref, (u_char *) "https://", 8) == 0)
    {
        ref += 8;

    } else {
        return rlcf->blocked_referer == 1 ? KL_OK : KL_DECLINED;
    }

    len = last - ref;

    for (p = ref, i = 0; p < last && *p != '/' && *p != ':'; p++, i++) {
        if (i == sizeof(buf)) {
            return KL_DECLINED;
        }

        buf[i] = kl_tolower(*p);
    }

    host = kl_http_referer_hosts_find(rlcf->hosts, buf, i);

    if (host) {
        if (host->uri == NULL) {
            return KL_OK;
        }

        while (p < last && *p != '/') {
            p++;
        }

        if ((size_t) (last - p) < host->uri->len
            || kl_strncmp(host->uri->data, p, host->uri->len) != 0)
        {
            return KL_DECLINED;
        }

        return KL_OK;
    }

    rc = kl_http_referer_regex(r, rlcf->server_regex, buf, i);

    if (rc != KL_DECLINED) {
        return rc;
    }

    return kl_http_referer_regex(r, rlcf->regex, ref, len);
}


static kl_int_t
kl_http_referer_variable(kl_http_request_t *r, kl_http_variable_value_t *v,
                         uintptr_t data)
{
    kl_int_t                rc;
    kl_http_referer_conf_t *rlcf;

    (void) data;

    rlcf = kl_http_get_module_loc_conf(r, kl_http_referer_module);

    if (rlcf->hosts == NULL) {
        rc = KL_OK;

    } else {
        rc = kl_http_referer_valid(r, rlcf);

        if (rc == KL_ERROR) {
            return KL_ERROR;
        }
    }

    if (rc == KL_OK) {
        kl_http_variable_set(v, (u_char *) "", 0);

    } else {
        kl_http_variable_set(v, (u_char *) "1", 1);
    }

    return KL_OK;
}


static kl_int_t
kl_http_referer_add_regex(kl_conf_t *cf, kl_array_t **a, kl_regex_t *regex)
{
    kl_regex_t **re;

    if (*a == NULL) {
        *a = kl_array_create(cf->pool, 2, sizeof(kl_regex_t *));
        if (*a == NULL) {
            return KL_ERROR;
        }
    }

    re = kl_array_push(*a);
    if (re == NULL) {
        return KL_ERROR;
    }

    *re = regex;

    return KL_OK;
}


/* A name of the list, with its URI part; logs nginx's errors. */
static char *
kl_http_referer_add_host(kl_conf_t *cf, kl_http_referer_conf_t *rlcf,
                         kl_str_t *name, kl_str_t *uri)
{
    kl_int_t rc;
    kl_str_t copy;

    copy.len = name->len;
    copy.data = kl_pnalloc(cf->pool, name->len + 1);
    if (copy.data == NULL) {
        return KL_CONF_ERROR;
    }

    kl_memcpy(copy.data, name->data, name->len);
    copy.data[copy.len] = '\0';

    rc = kl_http_referer_hosts_add(rlcf->hosts, &copy, uri);

    if (rc == KL_OK) {
        return KL_CONF_OK;
    }

    if (rc == KL_DECLINED) {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                          "invalid hostname or wildcard \"%V\"", name);
    }

    if (rc == KL_BUSY) {
        /* nginx names the key as its table keeps it: lowercase */
        kl_conf_log_error(KL_LOG_EMERG, cf, 0, "conflicting parameter \"%V\"",
                          &copy);
    }

    return KL_CONF_ERROR;
}


/* "~regex": caseless, over what follows the scheme. */
static char *
kl_http_referer_add_regex_referer(kl_conf_t *cf, kl_http_referer_conf_t *rlcf,
                                  kl_str_t *name)
{
    kl_http_regex_t   *re;
    kl_regex_compile_t rc;

    if (name->len == 1) {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0, "empty regex in \"%V\"", name);
        return KL_CONF_ERROR;
    }

    kl_memzero(&rc, sizeof(kl_regex_compile_t));
    rc.pattern.data = name->data + 1;
    rc.pattern.len = name->len - 1;
    rc.pool = cf->pool;
    rc.options = KL_REGEX_CASELESS;

    re = kl_http_regex_compile(cf, &rc);
    if (re == NULL) {
        return KL_CONF_ERROR;
    }

    if (kl_http_referer_add_regex(cf, &rlcf->regex, re->regex) != KL_OK) {
        return KL_CONF_ERROR;
    }

    return KL_CONF_OK;
}


static char *
kl_http_valid_referers(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    u_char                 *p;
    char                   *rv;
    kl_str_t               *value, name, *uri;
    kl_uint_t               i;
    kl_http_referer_conf_t *rlcf = conf;

    (void) cmd;

    if (rlcf->hosts == NULL) {
        rlcf->hosts = kl_palloc(cf->pool, sizeof(kl_http_referer_hosts_t));
        if (rlcf->hosts == NULL
            || kl_http_referer_hosts_init(rlcf->hosts, cf->pool) != KL_OK)
        {
            return KL_CONF_ERROR;
        }
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        if (value[i].len == 0) {
            kl_conf_log_error(KL_LOG_EMERG, cf, 0, "invalid referer \"%V\"",
                              &value[i]);
            return KL_CONF_ERROR;
        }

        if (kl_strcmp(value[i].data, "none") == 0) {
            rlcf->no_referer = 1;
            continue;
        }

        if (kl_strcmp(value[i].data, "blocked") == 0) {
            rlcf->blocked_referer = 1;
            continue;
        }

        if (kl_strcmp(value[i].data, "server_names") == 0) {
            rlcf->server_names = 1;
            continue;
        }

        if (value[i].data[0] == '~') {
            rv = kl_http_referer_add_regex_referer(cf, rlcf, &value[i]);
            if (rv != KL_CONF_OK) {
                return rv;
            }

            continue;
        }

        name = value[i];
        uri = NULL;
        p = memchr(name.data, '/', name.len);

        if (p) {
            uri = kl_palloc(cf->pool, sizeof(kl_str_t));
            if (uri == NULL) {
                return KL_CONF_ERROR;
            }

            uri->data = p;
            uri->len = name.data + name.len - p;
            name.len = p - name.data;
        }

        rv = kl_http_referer_add_host(cf, rlcf, &name, uri);
        if (rv != KL_CONF_OK) {
            return rv;
        }
    }

    return KL_CONF_OK;
}


static void *
kl_http_referer_create_conf(kl_conf_t *cf)
{
    kl_http_referer_conf_t *conf;

    conf = kl_pcalloc(cf->pool, sizeof(kl_http_referer_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /* hosts, regex, server_regex: NULL, none given */
    conf->no_referer = KL_CONF_UNSET;
    conf->blocked_referer = KL_CONF_UNSET;
    conf->server_names = KL_CONF_UNSET_UINT;
    conf->hash_max_size = KL_CONF_UNSET_UINT;
    conf->hash_bucket_size = KL_CONF_UNSET_UINT;

    return conf;
}


/* "server_names": the names of the server the location is in. */
static char *
kl_http_referer_server_names(kl_conf_t *cf, kl_http_referer_conf_t *conf)
{
    char                    *rv;
    kl_uint_t                n;
    kl_http_server_name_t   *sn;
    kl_http_core_srv_conf_t *cscf;

    cscf = kl_http_conf_get_module_srv_conf(cf, kl_http_core_module);
    sn = cscf->server_names.elts;

    for (n = 0; n < cscf->server_names.nelts; n++) {
        if (sn[n].regex) {
            if (kl_http_referer_add_regex(cf, &conf->server_regex,
                                          sn[n].regex->regex)
                != KL_OK)
            {
                return KL_CONF_ERROR;
            }

            continue;
        }

        if (sn[n].name.len == 0) {
            continue;
        }

        rv = kl_http_referer_add_host(cf, conf, &sn[n].name, NULL);
        if (rv != KL_CONF_OK) {
            return rv;
        }
    }

    return KL_CONF_OK;
}


static char *
kl_http_referer_merge_conf(kl_conf_t *cf, void *parent, void *child)
{
    char                   *rv;
    kl_http_referer_conf_t *prev = parent;
    kl_http_referer_conf_t *conf = child;

    kl_conf_merge_uint_value(conf->hash_max_size, prev->hash_max_size, 2048);
    kl_conf_merge_uint_value(conf->hash_bucket_size, prev->hash_bucket_size,
                             64);

    if (conf->hosts == NULL) {
        conf->hosts = prev->hosts;
        conf->regex = prev->regex;
        conf->server_regex = prev->server_regex;
        conf->no_referer = prev->no_referer;
        conf->blocked_referer = prev->blocked_referer;
        conf->server_names = prev->server_names;
        return KL_CONF_OK;
    }

    if (conf->server_names == 1) {
        rv = kl_http_referer_server_names(cf, conf);
        if (rv != KL_CONF_OK) {
            return rv;
        }
    }

    kl_http_referer_hosts_sort(conf->hosts);

    if ((conf->no_referer == 1 || conf->blocked_referer == 1)
        && kl_http_referer_hosts_empty(conf->hosts) && conf->regex == NULL
        && conf->server_regex == NULL)
    {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                          "the \"none\" or \"blocked\" referers are specified "
                          "in the \"valid_referers\" directive "
                          "without any valid referer");
        return KL_CONF_ERROR;
    }

    return KL_CONF_OK;
}


static kl_int_t
kl_http_referer_add_variables(kl_conf_t *cf)
{
    kl_str_t            name = kl_string("invalid_referer");
    kl_http_variable_t *var;

    var = kl_http_add_variable(cf, &name, KL_HTTP_VAR_CHANGEABLE);
    if (var == NULL) {
        return KL_ERROR;
    }

    var->get_handler = kl_http_referer_variable;

    return KL_OK;
}
