/*
 * core_servers.c: the HTTP core module's structure directives: server,
 * location (prefix, exact, regex, named), listen and server_name. Their
 * table rows are in core_module.c.
 */

#include "kl_http.h"
#include "core_module.h"


static kl_int_t  kl_http_core_regex_location(kl_conf_t               *cf,
                                             kl_http_core_loc_conf_t *clcf,
                                             kl_str_t                *pattern,
                                             kl_uint_t                caseless);
static kl_uint_t kl_http_core_is_wildcard(kl_sockaddr_t *sa);
static kl_int_t  kl_http_core_location_name(kl_conf_t               *cf,
                                            kl_http_core_loc_conf_t *clcf);
static kl_int_t  kl_http_core_location_nested(kl_conf_t               *cf,
                                              kl_http_core_loc_conf_t *clcf,
                                              kl_http_core_loc_conf_t *pclcf);
static kl_int_t  kl_http_core_location_add(kl_conf_t               *cf,
                                           kl_http_core_loc_conf_t *clcf,
                                           kl_http_core_loc_conf_t *pclcf);
static kl_int_t  kl_http_core_regex_server_name(kl_conf_t               *cf,
                                                kl_http_core_srv_conf_t *cscf,
                                                kl_str_t                *name);


kl_http_conf_ctx_t *
kl_http_core_new_ctx(kl_conf_t *cf, kl_uint_t srv)
{
    void               *mconf;
    kl_uint_t           m, mi, n;
    kl_http_module_t   *module;
    kl_http_conf_ctx_t *ctx, *pctx;

    ctx = kl_pcalloc(cf->pool, sizeof(kl_http_conf_ctx_t));
    if (ctx == NULL) {
        return NULL;
    }

    pctx = cf->ctx;
    n = kl_modules_count(KL_HTTP_MODULE);

    ctx->main_conf = pctx->main_conf;
    ctx->srv_conf =
        srv ? kl_pcalloc(cf->pool, sizeof(void *) * n) : pctx->srv_conf;
    ctx->loc_conf = kl_pcalloc(cf->pool, sizeof(void *) * n);

    if (ctx->srv_conf == NULL || ctx->loc_conf == NULL) {
        return NULL;
    }

    for (m = 0; kl_modules[m]; m++) {
        if (kl_modules[m]->type != KL_HTTP_MODULE) {
            continue;
        }

        module = kl_modules[m]->ctx;
        mi = kl_modules[m]->ctx_index;

        if (srv && module->create_srv_conf) {
            mconf = module->create_srv_conf(cf);
            if (mconf == NULL) {
                return NULL;
            }

            ctx->srv_conf[mi] = mconf;
        }

        if (module->create_loc_conf) {
            mconf = module->create_loc_conf(cf);
            if (mconf == NULL) {
                return NULL;
            }

            ctx->loc_conf[mi] = mconf;
        }
    }

    return ctx;
}


char *
kl_http_core_server(kl_conf_t *cf, kl_command_t *cmd, void *dummy)
{
    char                     *rv;
    kl_conf_t                 pcf;
    kl_http_conf_ctx_t       *ctx;
    kl_http_core_srv_conf_t  *cscf, **cscfp;
    kl_http_core_loc_conf_t  *clcf;
    kl_http_core_main_conf_t *cmcf;

    (void) cmd;
    (void) dummy;

    ctx = kl_http_core_new_ctx(cf, 1);
    if (ctx == NULL) {
        return KL_CONF_ERROR;
    }

    cscf = ctx->srv_conf[kl_http_core_module.ctx_index];
    cscf->ctx = ctx;

    clcf = ctx->loc_conf[kl_http_core_module.ctx_index];
    clcf->loc_conf = ctx->loc_conf;

    cmcf = ctx->main_conf[kl_http_core_module.ctx_index];

    cscfp = kl_array_push(&cmcf->servers);
    if (cscfp == NULL) {
        return KL_CONF_ERROR;
    }

    *cscfp = cscf;

    pcf = *cf;
    cf->ctx = ctx;
    cf->cmd_type = KL_HTTP_SRV_CONF;

    rv = kl_conf_parse(cf, NULL);

    *cf = pcf;

    return rv;
}


/*
 * The location's modifier and name: "=", "^~", "~" and "~*" given apart or
 * stuck to the name, "@" naming a named location; sets clcf->name.
 */
static kl_int_t
kl_http_core_location_name(kl_conf_t *cf, kl_http_core_loc_conf_t *clcf)
{
    u_char   *mod;
    size_t    len;
    kl_str_t *value, *name;
    kl_uint_t caseless;

    value = cf->args->elts;

    if (cf->args->nelts == 3) {
        mod = value[1].data;
        len = value[1].len;
        name = &value[2];

        if (len == 1 && mod[0] == '=') {
            clcf->exact_match = 1;

        } else if (len == 2 && mod[0] == '^' && mod[1] == '~') {
            clcf->noregex = 1;

        } else if ((len == 1 && mod[0] == '~')
                   || (len == 2 && mod[0] == '~' && mod[1] == '*'))
        {
            if (kl_http_core_regex_location(cf, clcf, name, len == 2) != KL_OK)
            {
                return KL_ERROR;
            }

        } else {
            kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                              "invalid location modifier \"%V\"", &value[1]);
            return KL_ERROR;
        }

    } else {
        name = &value[1];

        if (name->len && name->data[0] == '=') {
            clcf->exact_match = 1;
            name->data++;
            name->len--;

        } else if (name->len > 1 && name->data[0] == '^'
                   && name->data[1] == '~') {
            clcf->noregex = 1;
            name->data += 2;
            name->len -= 2;

        } else if (name->len && name->data[0] == '~') {
            caseless = (name->len > 1 && name->data[1] == '*');
            name->data += 1 + caseless;
            name->len -= 1 + caseless;

            if (kl_http_core_regex_location(cf, clcf, name, caseless) != KL_OK)
            {
                return KL_ERROR;
            }

        } else if (name->len && name->data[0] == '@') {
            clcf->named = 1;
        }
    }

    clcf->name = *name;

    return KL_OK;
}


/* A location inside a location: the checks nginx makes, in its order. */
static kl_int_t
kl_http_core_location_nested(kl_conf_t *cf, kl_http_core_loc_conf_t *clcf,
                             kl_http_core_loc_conf_t *pclcf)
{
    if (pclcf->exact_match) {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                          "location \"%V\" cannot be inside "
                          "the exact location \"%V\"",
                          &clcf->name, &pclcf->name);
        return KL_ERROR;
    }

    if (pclcf->named) {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                          "location \"%V\" cannot be inside "
                          "the named location \"%V\"",
                          &clcf->name, &pclcf->name);
        return KL_ERROR;
    }

    if (clcf->named) {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                          "named location \"%V\" can be "
                          "on the server level only",
                          &clcf->name);
        return KL_ERROR;
    }

    if (pclcf->regex && !clcf->regex) {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                          "location \"%V\" cannot be inside "
                          "the regex location \"%V\"",
                          &clcf->name, &pclcf->name);
        return KL_ERROR;
    }

    if (!clcf->regex
        && (clcf->name.len < pclcf->name.len
            || kl_strncmp(clcf->name.data, pclcf->name.data, pclcf->name.len)
                   != 0))
    {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                          "location \"%V\" is outside location \"%V\"",
                          &clcf->name, &pclcf->name);
        return KL_ERROR;
    }

    clcf->parent = pclcf;

    return KL_OK;
}


/* Regexes are tried in the order written; the rest are looked up, so a
 * second one with the same name and kind is refused. */
static kl_int_t
kl_http_core_location_add(kl_conf_t *cf, kl_http_core_loc_conf_t *clcf,
                          kl_http_core_loc_conf_t *pclcf)
{
    kl_uint_t                 i;
    kl_array_t              **list;
    kl_http_core_loc_conf_t **clcfp;

    list = clcf->regex ? &pclcf->regex_locations : &pclcf->locations;

    if (*list == NULL) {
        *list = kl_array_create(cf->pool, 4, sizeof(void *));
        if (*list == NULL) {
            return KL_ERROR;
        }
    }

    clcfp = (*list)->elts;

    for (i = 0; !clcf->regex && i < (*list)->nelts; i++) {
        if (clcfp[i]->exact_match == clcf->exact_match
            && clcfp[i]->name.len == clcf->name.len
            && kl_strncmp(clcfp[i]->name.data, clcf->name.data, clcf->name.len)
                   == 0)
        {
            kl_conf_log_error(KL_LOG_EMERG, cf, 0, "duplicate location \"%V\"",
                              &clcf->name);
            return KL_ERROR;
        }
    }

    clcfp = kl_array_push(*list);
    if (clcfp == NULL) {
        return KL_ERROR;
    }

    *clcfp = clcf;

    return KL_OK;
}


char *
kl_http_core_location(kl_conf_t *cf, kl_command_t *cmd, void *dummy)
{
    char                    *rv;
    kl_conf_t                save;
    kl_http_conf_ctx_t      *ctx, *pctx;
    kl_http_core_loc_conf_t *clcf, *pclcf;

    (void) cmd;
    (void) dummy;

    ctx = kl_http_core_new_ctx(cf, 0);
    if (ctx == NULL) {
        return KL_CONF_ERROR;
    }

    pctx = cf->ctx;
    clcf = ctx->loc_conf[kl_http_core_module.ctx_index];
    clcf->loc_conf = ctx->loc_conf;

    if (kl_http_core_location_name(cf, clcf) != KL_OK) {
        return KL_CONF_ERROR;
    }

    pclcf = pctx->loc_conf[kl_http_core_module.ctx_index];

    if (cf->cmd_type == KL_HTTP_LOC_CONF
        && kl_http_core_location_nested(cf, clcf, pclcf) != KL_OK)
    {
        return KL_CONF_ERROR;
    }

    if (kl_http_core_location_add(cf, clcf, pclcf) != KL_OK) {
        return KL_CONF_ERROR;
    }

    save = *cf;
    cf->ctx = ctx;
    cf->cmd_type = KL_HTTP_LOC_CONF;

    rv = kl_conf_parse(cf, NULL);

    *cf = save;

    return rv;
}


static kl_int_t
kl_http_core_regex_location(kl_conf_t *cf, kl_http_core_loc_conf_t *clcf,
                            kl_str_t *pattern, kl_uint_t caseless)
{
    kl_regex_compile_t rc;

    kl_memzero(&rc, sizeof(kl_regex_compile_t));

    rc.pattern = *pattern;
    rc.pool = cf->pool;
    rc.options = caseless ? KL_REGEX_CASELESS : 0;

    clcf->regex = kl_http_regex_compile(cf, &rc);

    return clcf->regex ? KL_OK : KL_ERROR;
}


kl_int_t
kl_http_core_add_listen(kl_conf_t *cf, kl_http_core_srv_conf_t *cscf,
                        kl_http_listen_opt_t *lsopt)
{
    u_char                    text[KL_SOCKADDR_STRLEN];
    kl_http_listen_t         *l;
    kl_http_core_main_conf_t *cmcf;

    cmcf = kl_http_conf_get_module_main_conf(cf, kl_http_core_module);

    lsopt->addr_text.len = kl_sock_ntop(&lsopt->sockaddr.sockaddr,
                                        lsopt->socklen, text, sizeof(text), 1);
    lsopt->addr_text.data = kl_pnalloc(cf->pool, lsopt->addr_text.len);
    if (lsopt->addr_text.data == NULL) {
        return KL_ERROR;
    }

    kl_memcpy(lsopt->addr_text.data, text, lsopt->addr_text.len);

    l = kl_array_push(&cmcf->listens);
    if (l == NULL) {
        return KL_ERROR;
    }

    l->opt = *lsopt;
    l->server = cscf;
    cscf->listen = 1;

    return KL_OK;
}


static kl_uint_t
kl_http_core_is_wildcard(kl_sockaddr_t *sa)
{
    if (sa->sockaddr.sa_family == AF_INET) {
        return sa->sockaddr_in.sin_addr.s_addr == htonl(INADDR_ANY);
    }

    if (sa->sockaddr.sa_family == AF_INET6) {
        return IN6_IS_ADDR_UNSPECIFIED(&sa->sockaddr_in6.sin6_addr);
    }

    return 0;
}


/*
 * Parameters nginx has and kiln refuses, with the reason: a config that
 * asks for TLS must not come up serving plain HTTP on that port.
 */
static const char *
kl_http_core_listen_absent(kl_str_t *v)
{
    if (kl_strcmp(v->data, "ssl") == 0 && !kl_ssl_available()) {
        return "TLS is not supported by this build of kiln";
    }

    if (kl_strcmp(v->data, "http2") == 0 || kl_strcmp(v->data, "spdy") == 0) {
        return "HTTP/2 is not supported by this build of kiln";
    }

    if (kl_strcmp(v->data, "quic") == 0) {
        return "HTTP/3 and QUIC are not supported by kiln";
    }

    if (kl_strcmp(v->data, "proxy_protocol") == 0) {
        return "the PROXY protocol is not supported by this build of kiln";
    }

    if (kl_strncmp(v->data, "setfib=", 7) == 0
        || kl_strncmp(v->data, "accept_filter=", 14) == 0)
    {
        return "it is a FreeBSD socket option, not available on Linux";
    }

    return NULL;
}


/* "so_keepalive=on|off|[keepidle]:[keepintvl]:[keepcnt]", as nginx. */
static kl_int_t
kl_http_core_listen_keepalive(kl_http_listen_opt_t *lsopt, kl_str_t *v)
{
    u_char   *p, *end, *colon;
    kl_int_t  n, vals[3];
    kl_uint_t i;

    p = v->data + 13;
    end = v->data + v->len;

    if (kl_strcmp(p, "on") == 0) {
        lsopt->keepalive = 1;
        return KL_OK;
    }

    if (kl_strcmp(p, "off") == 0) {
        lsopt->keepalive = 2;
        return KL_OK;
    }

    for (i = 0; i < 3; i++) {
        colon = memchr(p, ':', (size_t) (end - p));

        if ((i < 2) != (colon != NULL)) {
            return KL_ERROR;
        }

        if (colon == NULL) {
            colon = end;
        }

        vals[i] = 0;

        if (colon > p) {
            if (i < 2) {
                kl_str_t t = { (size_t) (colon - p), p };

                n = kl_conf_parse_time(&t, 1);
            } else {
                n = kl_atoi(p, (size_t) (colon - p));
            }

            if (n == KL_ERROR || n == 0 || n > INT_MAX) {
                return KL_ERROR;
            }

            vals[i] = n;
        }

        p = colon + 1;
    }

    if (vals[0] == 0 && vals[1] == 0 && vals[2] == 0) {
        return KL_ERROR;
    }

    lsopt->keepalive = 1;
    lsopt->keepidle = (int) vals[0];
    lsopt->keepintvl = (int) vals[1];
    lsopt->keepcnt = (int) vals[2];

    return KL_OK;
}


/* One listen parameter: KL_OK, or KL_ERROR with the message logged. */
static kl_int_t
kl_http_core_listen_param(kl_conf_t *cf, kl_http_listen_opt_t *lsopt,
                          kl_str_t *v)
{
    kl_int_t    n;
    const char *why;

    if (kl_strcmp(v->data, "default_server") == 0
        || kl_strcmp(v->data, "default") == 0)
    {
        lsopt->default_server = 1;
        return KL_OK;
    }

    if (kl_strcmp(v->data, "ssl") == 0 && kl_ssl_available()) {
        lsopt->ssl = 1;
        return KL_OK;
    }

    if (kl_strcmp(v->data, "bind") == 0) {
        lsopt->set = 1;
        lsopt->bind = 1;
        return KL_OK;
    }

    if (kl_strcmp(v->data, "reuseport") == 0) {
#if (KL_HAVE_REUSEPORT)
        lsopt->set = 1;
        lsopt->bind = 1;
        lsopt->reuseport = 1;
        return KL_OK;
#else
        kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                          "reuseport is not supported on this platform");
        return KL_ERROR;
#endif
    }

    if (kl_strcmp(v->data, "deferred") == 0) {
        lsopt->set = 1;
        lsopt->bind = 1;
        lsopt->deferred_accept = 1;
        return KL_OK;
    }

    if (kl_strncmp(v->data, "backlog=", 8) == 0) {
        n = kl_atoi(v->data + 8, v->len - 8);
        if (n == KL_ERROR || n == 0 || n > INT_MAX) {
            kl_conf_log_error(KL_LOG_EMERG, cf, 0, "invalid backlog \"%V\"", v);
            return KL_ERROR;
        }

        lsopt->set = 1;
        lsopt->bind = 1;
        lsopt->backlog = (int) n;
        return KL_OK;
    }

    if (kl_strncmp(v->data, "rcvbuf=", 7) == 0
        || kl_strncmp(v->data, "sndbuf=", 7) == 0)
    {
        kl_str_t size = { v->len - 7, v->data + 7 };
        ssize_t  sz;

        sz = kl_conf_parse_size(&size);
        if (sz == KL_ERROR || sz > INT_MAX) {
            kl_conf_log_error(KL_LOG_EMERG, cf, 0, "invalid %*s \"%V\"",
                              (size_t) 6, v->data, &size);
            return KL_ERROR;
        }

        if (v->data[0] == 'r') {
            lsopt->rcvbuf = (int) sz;
        } else {
            lsopt->sndbuf = (int) sz;
        }

        lsopt->set = 1;
        lsopt->bind = 1;
        return KL_OK;
    }

    if (kl_strncmp(v->data, "ipv6only=", 9) == 0) {
        if (kl_strcmp(v->data + 9, "on") == 0) {
            lsopt->ipv6only = 1;
        } else if (kl_strcmp(v->data + 9, "off") == 0) {
            lsopt->ipv6only = 0;
        } else {
            kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                              "invalid ipv6only flags \"%s\"", v->data + 9);
            return KL_ERROR;
        }

        lsopt->set = 1;
        lsopt->bind = 1;
        return KL_OK;
    }

    if (kl_strncmp(v->data, "fastopen=", 9) == 0) {
        n = kl_atoi(v->data + 9, v->len - 9);
        if (n == KL_ERROR || n > INT_MAX) {
            kl_conf_log_error(KL_LOG_EMERG, cf, 0, "invalid fastopen \"%V\"",
                              v);
            return KL_ERROR;
        }

#if (KL_HAVE_TCP_FASTOPEN)
        lsopt->set = 1;
        lsopt->bind = 1;
        lsopt->fastopen = (int) n;
        return KL_OK;
#else
        kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                          "fastopen is not supported on this platform");
        return KL_ERROR;
#endif
    }

    if (kl_strncmp(v->data, "so_keepalive=", 13) == 0) {
        if (kl_http_core_listen_keepalive(lsopt, v) != KL_OK) {
            kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                              "invalid so_keepalive value: \"%s\"",
                              v->data + 13);
            return KL_ERROR;
        }

        lsopt->set = 1;
        lsopt->bind = 1;
        return KL_OK;
    }

    why = kl_http_core_listen_absent(v);

    if (why) {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0, "invalid parameter \"%V\": %s",
                          v, why);
        return KL_ERROR;
    }

    kl_conf_log_error(KL_LOG_EMERG, cf, 0, "invalid parameter \"%V\"", v);
    return KL_ERROR;
}


/*
 * "[addr:]first-last" (current nginx): the address with the first port,
 * and the last port apart; *last is 0 when the text is no range. A unix
 * path or a name with a '-' is left whole: the range is only where the
 * port is.
 */
static kl_int_t
kl_http_core_listen_range(kl_str_t *text, kl_str_t *base, kl_uint_t *last)
{
    u_char  *p, *end, *port, *dash;
    kl_int_t n;

    *base = *text;
    *last = 0;

    p = text->data;
    end = p + text->len;

    if (text->len >= 5 && kl_strncmp(p, "unix:", 5) == 0) {
        return KL_OK;
    }

    port = p;

    if (p < end && *p == '[') {
        p = memchr(p, ']', (size_t) (end - p));
        if (p == NULL || p + 1 >= end || p[1] != ':') {
            return KL_OK;
        }

        port = p + 2;

    } else {
        for (p = end; p > text->data; p--) {
            if (p[-1] == ':') {
                port = p;
                break;
            }
        }
    }

    dash = memchr(port, '-', (size_t) (end - port));
    if (dash == NULL) {
        return KL_OK;
    }

    n = kl_atoi(dash + 1, (size_t) (end - dash - 1));
    if (n == KL_ERROR || n < 1 || n > 65535) {
        return KL_ERROR;
    }

    if (kl_atoi(port, (size_t) (dash - port)) == KL_ERROR) {
        return KL_ERROR;
    }

    base->len = (size_t) (dash - text->data);
    *last = (kl_uint_t) n;

    return KL_OK;
}


char *
kl_http_core_listen(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_http_core_srv_conf_t *cscf = conf;
    kl_str_t                *value, base;
    kl_uint_t                i, port, last;
    const char              *err;
    kl_http_listen_opt_t     lsopt;

    (void) cmd;

    value = cf->args->elts;

    kl_memzero(&lsopt, sizeof(kl_http_listen_opt_t));

    if (kl_http_core_listen_range(&value[1], &base, &last) != KL_OK) {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                          "invalid port range in \"%V\" of the "
                          "\"listen\" directive",
                          &value[1]);
        return KL_CONF_ERROR;
    }

    if (kl_sock_parse(&base, 80, &lsopt.sockaddr, &lsopt.socklen, &err)
        != KL_OK) {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                          "%s in \"%V\" of the "
                          "\"listen\" directive",
                          err, &value[1]);
        return KL_CONF_ERROR;
    }

    lsopt.backlog = 511;
    lsopt.rcvbuf = -1;
    lsopt.sndbuf = -1;
    lsopt.fastopen = -1;
    lsopt.ipv6only = 1;
    lsopt.wildcard = kl_http_core_is_wildcard(&lsopt.sockaddr);

    for (i = 2; i < cf->args->nelts; i++) {
        if (kl_http_core_listen_param(cf, &lsopt, &value[i]) != KL_OK) {
            return KL_CONF_ERROR;
        }
    }

    port = kl_sock_get_port(&lsopt.sockaddr.sockaddr);

    if (last == 0) {
        last = port;

    } else if (last < port) {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                          "invalid port range in \"%V\" of the "
                          "\"listen\" directive",
                          &value[1]);
        return KL_CONF_ERROR;
    }

    for (/* void */; port <= last; port++) {
        kl_sock_set_port(&lsopt.sockaddr.sockaddr, port);

        if (kl_http_core_add_listen(cf, cscf, &lsopt) != KL_OK) {
            return KL_CONF_ERROR;
        }
    }

    return KL_CONF_OK;
}


/* nginx matches regex server names without regard to case. */
static kl_int_t
kl_http_core_regex_server_name(kl_conf_t *cf, kl_http_core_srv_conf_t *cscf,
                               kl_str_t *name)
{
    kl_http_regex_t       *re;
    kl_regex_compile_t     rc;
    kl_http_server_name_t *sn;

    kl_memzero(&rc, sizeof(kl_regex_compile_t));

    rc.pattern.data = name->data + 1;
    rc.pattern.len = name->len - 1;
    rc.pool = cf->pool;
    rc.options = KL_REGEX_CASELESS;

    re = kl_http_regex_compile(cf, &rc);
    if (re == NULL) {
        return KL_ERROR;
    }

    sn = kl_array_push(&cscf->server_names);
    if (sn == NULL) {
        return KL_ERROR;
    }

    sn->server = cscf;
    sn->name = *name;
    sn->regex = re;

    return KL_OK;
}


char *
kl_http_core_server_name(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_http_core_srv_conf_t *cscf = conf;
    kl_str_t                *value, name;
    kl_uint_t                i;
    kl_http_server_name_t   *sn;

    (void) cmd;

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {

        name = value[i];

        if (name.len > 1 && name.data[0] == '~') {
            if (kl_http_core_regex_server_name(cf, cscf, &name) != KL_OK) {
                return KL_CONF_ERROR;
            }

            continue;
        }

        if (name.len == 9 && kl_strncmp(name.data, "$hostname", 9) == 0) {
            name = cf->cycle->hostname;
        }

        if (kl_strchr(name.data, '/')) {
            kl_conf_log_error(KL_LOG_WARN, cf, 0,
                              "server name \"%V\" has suspicious symbols",
                              &name);
        }

        sn = kl_array_push(&cscf->server_names);
        if (sn == NULL) {
            return KL_CONF_ERROR;
        }

        sn->server = cscf;
        sn->regex = NULL;
        sn->name.len = name.len;
        sn->name.data = kl_pnalloc(cf->pool, name.len + 1);
        if (sn->name.data == NULL) {
            return KL_CONF_ERROR;
        }

        kl_strlow(sn->name.data, name.data, name.len);
        sn->name.data[name.len] = '\0';

        /* "example.com." names the same host as "example.com". */
        if (sn->name.len > 1 && sn->name.data[sn->name.len - 1] == '.') {
            sn->name.len--;
        }
    }

    return KL_CONF_OK;
}
