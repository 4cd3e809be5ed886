/*
 * upstream_settings.c: the settings proxy and fastcgi share beyond the
 * exchange's own (nginx's ngx_http_upstream_conf_t has them all):
 * X_ignore_client_abort, _ignore_headers, _force_ranges,
 * _socket_keepalive, _limit_rate, _bind and _headers_hash_*; the hidden
 * response fields (X_hide_header, X_pass_header and nginx's defaults);
 * and the setter that refuses, with the reason, proxy_pass_trailers on
 * (the cache, store and TLS directives are core/conf_absent.c's).
 *
 * kiln keeps the hidden and passed fields in short arrays, not in a
 * hash: X_headers_hash_max_size and _bucket_size are read as numbers and
 * have nothing to size (docs/directives.md says so).
 */

#include "kl_http.h"
#include "upstream.h"


static kl_int_t kl_http_upstream_local_parse(kl_str_t *text, kl_sockaddr_t *sa,
                                             socklen_t *socklen);

/* Response fields hidden unless proxy_pass_header names them (nginx's). */
static kl_str_t kl_http_upstream_hide_default[] = {
    kl_string("date"),
    kl_string("server"),
    kl_string("x-pad"),
    kl_string("x-accel-expires"),
    kl_string("x-accel-redirect"),
    kl_string("x-accel-limit-rate"),
    kl_string("x-accel-buffering"),
    kl_string("x-accel-charset"),
    kl_null_string,
};


static kl_conf_enum_t kl_http_upstream_ignore_masks[] = {
    { kl_string("X-Accel-Redirect"), KL_HTTP_UPSTREAM_IGN_XA_REDIRECT },
    { kl_string("X-Accel-Expires"), KL_HTTP_UPSTREAM_IGN_XA_EXPIRES },
    { kl_string("X-Accel-Limit-Rate"), KL_HTTP_UPSTREAM_IGN_XA_LIMIT_RATE },
    { kl_string("X-Accel-Buffering"), KL_HTTP_UPSTREAM_IGN_XA_BUFFERING },
    { kl_string("X-Accel-Charset"), KL_HTTP_UPSTREAM_IGN_XA_CHARSET },
    { kl_string("Expires"), KL_HTTP_UPSTREAM_IGN_EXPIRES },
    { kl_string("Cache-Control"), KL_HTTP_UPSTREAM_IGN_CACHE_CONTROL },
    { kl_string("Set-Cookie"), KL_HTTP_UPSTREAM_IGN_SET_COOKIE },
    { kl_string("Vary"), KL_HTTP_UPSTREAM_IGN_VARY },
    { kl_null_string, 0 }
};


void
kl_http_upstream_settings_init(kl_http_upstream_conf_t *conf)
{
    conf->ignore_client_abort = KL_CONF_UNSET;
    conf->ignore_headers = KL_CONF_UNSET_UINT;
    conf->force_ranges = KL_CONF_UNSET;
    conf->socket_keepalive = KL_CONF_UNSET;
    conf->limit_rate = KL_CONF_UNSET_PTR;
    conf->headers_hash_max_size = KL_CONF_UNSET_UINT;
    conf->headers_hash_bucket_size = KL_CONF_UNSET_UINT;
    conf->local = KL_CONF_UNSET_PTR;
}


kl_int_t
kl_http_upstream_settings_merge(kl_conf_t *cf, kl_http_upstream_conf_t *conf,
                                kl_http_upstream_conf_t *prev)
{
    kl_conf_merge_value(conf->ignore_client_abort, prev->ignore_client_abort,
                        0);
    kl_conf_merge_uint_value(conf->ignore_headers, prev->ignore_headers, 0);
    kl_conf_merge_value(conf->force_ranges, prev->force_ranges, 0);
    kl_conf_merge_value(conf->socket_keepalive, prev->socket_keepalive, 0);
    kl_conf_merge_ptr_value(conf->limit_rate, prev->limit_rate, NULL);
    kl_conf_merge_uint_value(conf->headers_hash_max_size,
                             prev->headers_hash_max_size, 512);
    kl_conf_merge_uint_value(conf->headers_hash_bucket_size,
                             prev->headers_hash_bucket_size, 64);
    kl_conf_merge_ptr_value(conf->local, prev->local, NULL);

    (void) cf;

    return KL_OK;
}


char *
kl_http_upstream_ignore_headers_slot(kl_conf_t *cf, kl_command_t *cmd,
                                     void *conf)
{
    kl_str_t       *value;
    kl_uint_t       i, *mask;
    kl_conf_enum_t *e;

    mask = (kl_uint_t *) ((char *) conf + cmd->offset);

    if (*mask != KL_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    *mask = 0;
    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        for (e = kl_http_upstream_ignore_masks; e->name.len; e++) {
            if (e->name.len == value[i].len
                && kl_strncasecmp(e->name.data, value[i].data, e->name.len)
                       == 0)
            {
                break;
            }
        }

        if (e->name.len == 0) {
            kl_conf_log_error(KL_LOG_EMERG, cf, 0, "invalid value \"%V\"",
                              &value[i]);
            return KL_CONF_ERROR;
        }

        *mask |= e->value;
    }

    return KL_CONF_OK;
}


char *
kl_http_upstream_bind_slot(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_str_t                  *value;
    kl_http_upstream_local_t **lp, *local;

    lp = (kl_http_upstream_local_t **) ((char *) conf + cmd->offset);

    if (*lp != KL_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (cf->args->nelts == 2 && value[1].len == 3
        && kl_strncmp(value[1].data, "off", 3) == 0)
    {
        *lp = NULL;
        return KL_CONF_OK;
    }

    local = kl_pcalloc(cf->pool, sizeof(kl_http_upstream_local_t));
    if (local == NULL) {
        return KL_CONF_ERROR;
    }

    *lp = local;
    local->name = value[1];

    if (cf->args->nelts == 3) {
        if (value[2].len != 11
            || kl_strncmp(value[2].data, "transparent", 11) != 0) {
            kl_conf_log_error(KL_LOG_EMERG, cf, 0, "invalid parameter \"%V\"",
                              &value[2]);
            return KL_CONF_ERROR;
        }

        local->transparent = 1;
    }

    if (kl_http_script_variables_count(&value[1])) {
        local->value = kl_http_compile_value(cf, &value[1]);
        return local->value ? KL_CONF_OK : KL_CONF_ERROR;
    }

    local->sockaddr = kl_palloc(cf->pool, sizeof(kl_sockaddr_t));
    if (local->sockaddr == NULL) {
        return KL_CONF_ERROR;
    }

    if (kl_http_upstream_local_parse(&value[1], local->sockaddr,
                                     &local->socklen)
        != KL_OK)
    {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0, "invalid address \"%V\"",
                          &value[1]);
        return KL_CONF_ERROR;
    }

    return KL_CONF_OK;
}


kl_int_t
kl_http_upstream_set_local(kl_http_request_t *r, kl_http_upstream_t *u)
{
    kl_str_t                  text;
    kl_sockaddr_t            *sa;
    kl_http_upstream_local_t *local;

    u->peer.so_keepalive = u->conf->socket_keepalive ? 1 : 0;
    local = u->conf->local;

    if (local == NULL) {
        return KL_OK;
    }

    u->peer.transparent = local->transparent;

    if (local->sockaddr) {
        u->peer.local = &local->sockaddr->sockaddr;
        u->peer.local_socklen = local->socklen;
        return KL_OK;
    }

    if (kl_http_complex_value(r, local->value, &text) != KL_OK) {
        return KL_ERROR;
    }

    /* An empty value binds nothing (nginx's rule for variables). */
    if (text.len == 0) {
        u->peer.local = NULL;
        return KL_OK;
    }

    sa = kl_palloc(r->pool, sizeof(kl_sockaddr_t));
    if (sa == NULL) {
        return KL_ERROR;
    }

    if (kl_http_upstream_local_parse(&text, sa, &u->peer.local_socklen)
        != KL_OK) {
        /* nginx's rule: logged, and the connection made unbound */
        kl_log_error(KL_LOG_ERR, r->connection->log, 0,
                     "invalid local address \"%V\"", &text);
        u->peer.local = NULL;
        return KL_OK;
    }

    u->peer.local = &sa->sockaddr;

    return KL_OK;
}


/* An address literal, with a port or not (0: the kernel picks one). */
static kl_int_t
kl_http_upstream_local_parse(kl_str_t *text, kl_sockaddr_t *sa,
                             socklen_t *socklen)
{
    const char                 *err;
    kl_http_upstream_resolved_t ur;

    if (kl_http_upstream_parse_authority(text, &ur, &err) != KL_OK
        || ur.socklen == 0)
    {
        return KL_ERROR;
    }

    if (ur.no_port) {
        if (ur.sockaddr.sockaddr.sa_family == AF_INET6) {
            ur.sockaddr.sockaddr_in6.sin6_port = 0;

        } else {
            ur.sockaddr.sockaddr_in.sin_port = 0;
        }
    }

    *sa = ur.sockaddr;
    *socklen = ur.socklen;

    return KL_OK;
}


char *
kl_http_upstream_lowat_slot(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    ssize_t   size;
    kl_str_t *value;

    (void) conf;

    value = cf->args->elts;
    size = kl_conf_parse_size(&value[1]);

    if (size == KL_ERROR) {
        return "invalid value";
    }

    /* SO_SNDLOWAT cannot be set on Linux: nginx warns alike there. */
    if (size) {
        kl_conf_log_error(KL_LOG_WARN, cf, 0,
                          "\"%V\" is not supported, ignored", &cmd->name);
    }

    return KL_CONF_OK;
}


char *
kl_http_upstream_header_name_slot(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_str_t    *value, *s;
    kl_array_t **a;

    a = (kl_array_t **) ((char *) conf + cmd->offset);
    value = cf->args->elts;

    if (*a == NULL) {
        *a = kl_array_create(cf->pool, 4, sizeof(kl_str_t));
        if (*a == NULL) {
            return KL_CONF_ERROR;
        }
    }

    s = kl_array_push(*a);
    if (s == NULL) {
        return KL_CONF_ERROR;
    }

    s->len = value[1].len;
    s->data = kl_pnalloc(cf->pool, s->len);
    if (s->data == NULL) {
        return KL_CONF_ERROR;
    }

    kl_strlow(s->data, value[1].data, s->len);

    return KL_CONF_OK;
}


char *
kl_http_upstream_rate_slot(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_str_t                 *value;
    kl_http_complex_value_t **cv;

    cv = (kl_http_complex_value_t **) ((char *) conf + cmd->offset);

    if (*cv != KL_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (kl_http_script_variables_count(&value[1]) == 0
        && kl_conf_parse_size(&value[1]) == KL_ERROR)
    {
        return "invalid value";
    }

    *cv = kl_http_compile_value(cf, &value[1]);

    return *cv ? KL_CONF_OK : KL_CONF_ERROR;
}


void
kl_http_upstream_eval_rate(kl_http_request_t *r, kl_http_upstream_t *u)
{
    ssize_t  size;
    kl_str_t text;

    u->limit_rate = 0;

    if (u->conf->limit_rate == NULL
        || kl_http_complex_value(r, u->conf->limit_rate, &text) != KL_OK)
    {
        return;
    }

    size = kl_conf_parse_size(&text);

    if (size == KL_ERROR) {
        kl_log_error(KL_LOG_ERR, r->connection->log, 0, "invalid size \"%V\"",
                     &text);
        return;
    }

    u->limit_rate = (size_t) size;
}


char *
kl_http_upstream_off_only_slot(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_str_t *value;

    (void) conf;

    value = cf->args->elts;

    if (value[1].len == 3
        && kl_strncasecmp(value[1].data, (u_char *) "off", 3) == 0)
    {
        return KL_CONF_OK;
    }

    if (value[1].len == 2
        && kl_strncasecmp(value[1].data, (u_char *) "on", 2) == 0) {
        return (char *) cmd->post;
    }

    kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                      "invalid value \"%V\" in \"%V\" directive, "
                      "it must be \"on\" or \"off\"",
                      &value[1], &cmd->name);
    return KL_CONF_ERROR;
}


kl_array_t *
kl_http_upstream_header_params(kl_conf_t *cf, kl_array_t *params)
{
    kl_str_t                 *hp;
    kl_uint_t                 i;
    kl_array_t               *names;
    kl_http_upstream_param_t *prm;

    names = kl_array_create(cf->pool, 4, sizeof(kl_str_t));
    if (names == NULL) {
        return NULL;
    }

    for (i = 0; params && i < params->nelts; i++) {
        prm = &((kl_http_upstream_param_t *) params->elts)[i];

        if (prm->key.len <= 5 || kl_strncmp(prm->key.data, "HTTP_", 5) != 0) {
            continue;
        }

        hp = kl_array_push(names);
        if (hp == NULL) {
            return NULL;
        }

        hp->len = prm->key.len - 5;
        hp->data = kl_pnalloc(cf->pool, hp->len);
        if (hp->data == NULL) {
            return NULL;
        }

        kl_strlow(hp->data, prm->key.data + 5, hp->len);
    }

    return names;
}


kl_int_t
kl_http_upstream_hide_headers(kl_conf_t *cf, kl_http_upstream_conf_t *conf,
                              kl_http_upstream_conf_t *prev, kl_str_t *extra)
{
    kl_str_t   *s, *h, *ps;
    kl_uint_t   i;
    kl_array_t *hide, *pass;

    /* As nginx: a level with a list of its own inherits none of it. */
    if (conf->hide == NULL) {
        conf->hide = prev->hide;
    }

    if (conf->pass == NULL) {
        conf->pass = prev->pass;
    }

    hide = conf->hide;
    pass = conf->pass;

    conf->hide_headers = kl_array_create(cf->pool, 12, sizeof(kl_str_t));
    if (conf->hide_headers == NULL) {
        return KL_ERROR;
    }

    for (i = 0; hide && i < hide->nelts; i++) {
        h = kl_array_push(conf->hide_headers);
        if (h == NULL) {
            return KL_ERROR;
        }

        *h = ((kl_str_t *) hide->elts)[i];
    }

    for (s = extra; s && s->len; s++) {
        h = kl_array_push(conf->hide_headers);
        if (h == NULL) {
            return KL_ERROR;
        }

        *h = *s;
    }

    for (s = kl_http_upstream_hide_default; s->len; s++) {
        ps = pass ? pass->elts : NULL;

        for (i = 0; pass && i < pass->nelts; i++) {
            if (ps[i].len == s->len
                && kl_strncasecmp(ps[i].data, s->data, s->len) == 0) {
                break;
            }
        }

        if (pass && i < pass->nelts) {
            continue;
        }

        h = kl_array_push(conf->hide_headers);
        if (h == NULL) {
            return KL_ERROR;
        }

        *h = *s;
    }

    return KL_OK;
}
