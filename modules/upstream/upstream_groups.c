/*
 * upstream_groups.c: upstream groups: the "upstream NAME { }" block, its
 * "server" lines, the groups proxy_pass names (kl_http_upstream_add), and
 * each group's balancer tables built when the configuration is complete.
 */

#include "kl_http.h"
#include "core_module.h"
#include "upstream.h"


static void    *kl_http_upstream_create_main_conf(kl_conf_t *cf);
static char    *kl_http_upstream_init_main_conf(kl_conf_t *cf, void *conf);
static char    *kl_http_upstream(kl_conf_t *cf, kl_command_t *cmd, void *dummy);
static char    *kl_http_upstream_server(kl_conf_t *cf, kl_command_t *cmd,
                                        void *conf);
static char    *kl_http_upstream_server_param(kl_conf_t                   *cf,
                                              kl_http_upstream_srv_conf_t *uscf,
                                              kl_http_upstream_server_t   *us,
                                              kl_str_t                    *value);
static kl_int_t kl_http_upstream_parse_url(kl_str_t *url, kl_str_t *host,
                                           in_port_t *port, kl_uint_t *no_port,
                                           const char **err);
static char    *kl_http_upstream_server_resolve(kl_conf_t                 *cf,
                                                kl_http_upstream_server_t *us,
                                                kl_str_t                  *url);
static kl_int_t kl_http_upstream_init_process(kl_cycle_t *cycle);


static kl_command_t kl_http_upstream_commands[] = {
    { kl_string("upstream"), KL_HTTP_MAIN_CONF | KL_CONF_BLOCK | KL_CONF_TAKE1,
      kl_http_upstream, 0, 0, NULL },

    { kl_string("server"), KL_HTTP_UPS_CONF | KL_CONF_1MORE,
      kl_http_upstream_server, KL_HTTP_SRV_CONF_OFFSET, 0, NULL },

    kl_null_command
};


/*
 * $upstream_addr, _status, _response_time belong to every protocol over
 * the upstream core (proxy, fastcgi), so the always-built module adds them.
 */
static kl_http_module_t kl_http_upstream_module_ctx = {
    .preconfiguration = kl_http_upstream_add_variables,
    .create_main_conf = kl_http_upstream_create_main_conf,
    .init_main_conf = kl_http_upstream_init_main_conf,
};


kl_module_t kl_http_upstream_module = {
    .name = "kl_http_upstream_module",
    .ctx = &kl_http_upstream_module_ctx,
    .commands = kl_http_upstream_commands,
    .type = KL_HTTP_MODULE,
    .init_process = kl_http_upstream_init_process,
};


static void *
kl_http_upstream_create_main_conf(kl_conf_t *cf)
{
    kl_http_upstream_main_conf_t *umcf;

    umcf = kl_pcalloc(cf->pool, sizeof(kl_http_upstream_main_conf_t));
    if (umcf == NULL) {
        return NULL;
    }

    if (kl_array_init(&umcf->upstreams, cf->pool, 4,
                      sizeof(kl_http_upstream_srv_conf_t *))
        != KL_OK)
    {
        return NULL;
    }

    return umcf;
}


/* Every group is known now, proxy_pass ones included: build the tables. */
static char *
kl_http_upstream_init_main_conf(kl_conf_t *cf, void *conf)
{
    kl_uint_t                     i;
    kl_http_upstream_init_pt      init;
    kl_http_upstream_main_conf_t *umcf;
    kl_http_upstream_srv_conf_t **uscfp;

    umcf = conf;
    uscfp = umcf->upstreams.elts;

    for (i = 0; i < umcf->upstreams.nelts; i++) {
        init = uscfp[i]->peer.init_upstream ? uscfp[i]->peer.init_upstream
                                            : kl_http_upstream_init_round_robin;

        if (kl_http_upstream_resolve_conf(cf, uscfp[i]) != KL_OK
            || init(cf, uscfp[i]) != KL_OK
            || kl_http_upstream_resolve_wrap(cf, uscfp[i]) != KL_OK)
        {
            return KL_CONF_ERROR;
        }
    }

    return KL_CONF_OK;
}


/* Each worker resolves the names of "server ... resolve" on its own. */
static kl_int_t
kl_http_upstream_init_process(kl_cycle_t *cycle)
{
    kl_uint_t                     i;
    kl_http_conf_ctx_t           *ctx;
    kl_http_upstream_srv_conf_t **uscfp;
    kl_http_upstream_main_conf_t *umcf;

    ctx = (kl_http_conf_ctx_t *) cycle->conf_ctx[kl_http_module.index];

    if (ctx == NULL) {
        return KL_OK;
    }

    umcf = ctx->main_conf[kl_http_upstream_module.ctx_index];
    uscfp = umcf->upstreams.elts;

    for (i = 0; i < umcf->upstreams.nelts; i++) {
        if (uscfp[i]->resolve
            && kl_http_upstream_resolve_start(cycle, uscfp[i]) != KL_OK)
        {
            return KL_ERROR;
        }
    }

    return KL_OK;
}


kl_http_upstream_srv_conf_t *
kl_http_upstream_block(kl_conf_t *cf)
{
    return kl_http_conf_get_module_srv_conf(cf, kl_http_upstream_module);
}


kl_http_upstream_srv_conf_t *
kl_http_upstream_set_balancer(kl_conf_t *cf, kl_http_upstream_init_pt init,
                              kl_uint_t flags)
{
    kl_http_upstream_srv_conf_t *uscf;

    uscf = kl_http_upstream_block(cf);

    if (uscf->peer.init_upstream) {
        kl_conf_log_error(KL_LOG_WARN, cf, 0,
                          "load balancing method redefined");
    }

    uscf->peer.init_upstream = init;
    uscf->flags = flags;

    return uscf;
}


/* upstream_resolve.c's order: a block by name, else an implicit group. */
kl_http_upstream_srv_conf_t *
kl_http_upstream_find_group(kl_http_request_t *r, kl_str_t *host,
                            in_port_t port, kl_uint_t no_port)
{
    kl_uint_t                     i;
    kl_http_upstream_srv_conf_t  *uscf, **uscfp;
    kl_http_upstream_main_conf_t *umcf;

    umcf = kl_http_get_module_main_conf(r, kl_http_upstream_module);
    uscfp = umcf->upstreams.elts;

    for (i = 0; i < umcf->upstreams.nelts; i++) {
        uscf = uscfp[i];

        if (uscf->host.len == host->len
            && ((uscf->port == 0 && no_port) || uscf->port == port)
            && kl_strncasecmp(uscf->host.data, host->data, host->len) == 0)
        {
            return uscf;
        }
    }

    return NULL;
}


/*
 * nginx's ngx_http_upstream_add: an upstream block and proxy_pass
 * http://NAME share one group; proxy_pass http://NAME:PORT names the
 * block only if the block is not defined (a block has no port).
 */
kl_http_upstream_srv_conf_t *
kl_http_upstream_add(kl_conf_t *cf, kl_str_t *url, kl_uint_t flags)
{
    kl_str_t                      host;
    in_port_t                     port;
    kl_uint_t                     i, no_port;
    const char                   *err;
    kl_http_upstream_srv_conf_t  *uscf, **uscfp;
    kl_http_upstream_main_conf_t *umcf;

    if (flags & KL_HTTP_UPSTREAM_CREATE) {
        host = *url;
        port = 0;
        no_port = 1;

    } else if (kl_http_upstream_parse_url(url, &host, &port, &no_port, &err)
               != KL_OK)
    {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0, "%s in upstream \"%V\"", err,
                          url);
        return NULL;
    }

    if (no_port && (flags & KL_HTTP_UPSTREAM_PORT_443)) {
        port = 443;
    }

    flags &= ~KL_HTTP_UPSTREAM_PORT_443;

    umcf = kl_http_conf_get_module_main_conf(cf, kl_http_upstream_module);
    uscfp = umcf->upstreams.elts;

    for (i = 0; i < umcf->upstreams.nelts; i++) {
        if (uscfp[i]->host.len != host.len
            || kl_strncasecmp(uscfp[i]->host.data, host.data, host.len) != 0)
        {
            continue;
        }

        if ((flags & KL_HTTP_UPSTREAM_CREATE)
            && (uscfp[i]->flags & KL_HTTP_UPSTREAM_CREATE))
        {
            kl_conf_log_error(KL_LOG_EMERG, cf, 0, "duplicate upstream \"%V\"",
                              &host);
            return NULL;
        }

        if ((uscfp[i]->flags & KL_HTTP_UPSTREAM_CREATE) && !no_port) {
            kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                              "upstream \"%V\" may not have port %d", &host,
                              (int) port);
            return NULL;
        }

        if ((flags & KL_HTTP_UPSTREAM_CREATE) && !uscfp[i]->no_port) {
            kl_log_error(KL_LOG_EMERG, cf->log, 0,
                         "upstream \"%V\" may not have port %d in %V:%ui",
                         &host, (int) uscfp[i]->port, &uscfp[i]->file_name,
                         uscfp[i]->line);
            return NULL;
        }

        if (uscfp[i]->port && port && uscfp[i]->port != port) {
            continue;
        }

        if (flags & KL_HTTP_UPSTREAM_CREATE) {
            uscfp[i]->flags = flags;
            uscfp[i]->port = 0;
            uscfp[i]->implicit = 0;
        }

        return uscfp[i];
    }

    uscf = kl_pcalloc(cf->pool, sizeof(kl_http_upstream_srv_conf_t));
    if (uscf == NULL) {
        return NULL;
    }

    uscf->flags = flags;
    uscf->host = host;
    uscf->file_name = cf->conf_file->file.name;
    uscf->line = cf->conf_file->line;
    uscf->port = port;
    uscf->no_port = no_port;
    uscf->implicit = !(flags & KL_HTTP_UPSTREAM_CREATE);

    uscfp = kl_array_push(&umcf->upstreams);
    if (uscfp == NULL) {
        return NULL;
    }

    *uscfp = uscf;

    return uscf;
}


/* "host", "host:port", "[v6]:port", "unix:path" (the whole is the host). */
static kl_int_t
kl_http_upstream_parse_url(kl_str_t *url, kl_str_t *host, in_port_t *port,
                           kl_uint_t *no_port, const char **err)
{
    u_char  *p, *last, *colon, *rb;
    kl_int_t n;

    p = url->data;
    last = p + url->len;

    *host = *url;
    *port = 80;
    *no_port = 1;

    if (url->len >= 5 && kl_strncasecmp(p, (u_char *) "unix:", 5) == 0) {
        if (url->len == 5) {
            *err = "no path in the unix domain socket";
            return KL_ERROR;
        }

        *port = 0;
        return KL_OK;
    }

    colon = NULL;

    if (url->len && p[0] == '[') {
        rb = memchr(p, ']', url->len);

        if (rb == NULL || (rb + 1 < last && rb[1] != ':')) {
            *err = "invalid host";
            return KL_ERROR;
        }

        colon = (rb + 1 < last) ? rb + 1 : NULL;

    } else {
        colon = memchr(p, ':', url->len);
    }

    if (colon) {
        n = kl_atoi(colon + 1, (size_t) (last - colon - 1));

        if (n < 1 || n > 65535) {
            *err = "invalid port";
            return KL_ERROR;
        }

        host->len = (size_t) (colon - p);
        *port = (in_port_t) n;
        *no_port = 0;
    }

    if (host->len == 0) {
        *err = "no host";
        return KL_ERROR;
    }

    return KL_OK;
}


/* A conf context of its own, so balancer modules get srv confs here. */
static char *
kl_http_upstream(kl_conf_t *cf, kl_command_t *cmd, void *dummy)
{
    char                        *rv;
    kl_str_t                    *value;
    kl_conf_t                    pcf;
    kl_http_conf_ctx_t          *ctx;
    kl_http_upstream_srv_conf_t *uscf;

    (void) cmd;
    (void) dummy;

    value = cf->args->elts;

    uscf = kl_http_upstream_add(
        cf, &value[1],
        KL_HTTP_UPSTREAM_CREATE | KL_HTTP_UPSTREAM_WEIGHT
            | KL_HTTP_UPSTREAM_MAX_CONNS | KL_HTTP_UPSTREAM_MAX_FAILS
            | KL_HTTP_UPSTREAM_FAIL_TIMEOUT | KL_HTTP_UPSTREAM_DOWN
            | KL_HTTP_UPSTREAM_BACKUP | KL_HTTP_UPSTREAM_MODIFY);

    if (uscf == NULL) {
        return KL_CONF_ERROR;
    }

    ctx = kl_http_core_new_ctx(cf, 1);
    if (ctx == NULL) {
        return KL_CONF_ERROR;
    }

    ctx->srv_conf[kl_http_upstream_module.ctx_index] = uscf;
    uscf->srv_conf = ctx->srv_conf;

    uscf->servers =
        kl_array_create(cf->pool, 4, sizeof(kl_http_upstream_server_t));
    if (uscf->servers == NULL) {
        return KL_CONF_ERROR;
    }

    pcf = *cf;
    cf->ctx = ctx;
    cf->cmd_type = KL_HTTP_UPS_CONF;

    rv = kl_conf_parse(cf, NULL);

    *cf = pcf;

    if (rv != KL_CONF_OK) {
        return rv;
    }

    if (uscf->servers->nelts == 0) {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                          "no servers are inside upstream");
        return KL_CONF_ERROR;
    }

    return KL_CONF_OK;
}


static char *
kl_http_upstream_server(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    char                        *rv;
    kl_str_t                    *value;
    kl_uint_t                    i;
    const char                  *err;
    kl_http_upstream_server_t   *us;
    kl_http_upstream_srv_conf_t *uscf;

    (void) cmd;

    uscf = conf;
    value = cf->args->elts;

    us = kl_array_push(uscf->servers);
    if (us == NULL) {
        return KL_CONF_ERROR;
    }

    kl_memzero(us, sizeof(kl_http_upstream_server_t));

    us->weight = 1;
    us->max_fails = 1;
    us->fail_timeout = 10;

    for (i = 2; i < cf->args->nelts; i++) {
        if (value[i].len == 7 && kl_strncmp(value[i].data, "resolve", 7) == 0) {
            us->resolve = 1;
            continue;
        }

        if (kl_strncmp(value[i].data, "service=", 8) == 0) {
            us->service.data = value[i].data + 8;
            us->service.len = value[i].len - 8;
            continue;
        }

        rv = kl_http_upstream_server_param(cf, uscf, us, &value[i]);
        if (rv != KL_CONF_OK) {
            return rv;
        }
    }

    if (us->service.len && !us->resolve) {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                          "service upstream \"%V\" requires "
                          "\"resolve\" parameter",
                          &value[1]);
        return KL_CONF_ERROR;
    }

    if (us->resolve) {
        us->name = value[1];
        return kl_http_upstream_server_resolve(cf, us, &value[1]);
    }

    if (kl_sock_parse_all(cf->pool, &value[1], 80, &us->addrs, &us->socklens,
                          &us->naddrs, &err)
        != KL_OK)
    {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0, "%s in upstream \"%V\"", err,
                          &value[1]);
        return KL_CONF_ERROR;
    }

    us->name = value[1];

    return KL_CONF_OK;
}


/*
 * "server NAME[:PORT] resolve": the name is not looked up now (nginx's
 * no_resolve); an address literal needs no resolver and is used as is.
 */
static char *
kl_http_upstream_server_resolve(kl_conf_t *cf, kl_http_upstream_server_t *us,
                                kl_str_t *url)
{
    kl_str_t    host;
    in_port_t   port;
    kl_uint_t   no_port;
    const char *err;

    if (kl_http_upstream_parse_url(url, &host, &port, &no_port, &err) != KL_OK)
    {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0, "%s in upstream \"%V\"", err,
                          url);
        return KL_CONF_ERROR;
    }

    if (us->service.len && !no_port) {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                          "service upstream \"%V\" may not have port", url);
        return KL_CONF_ERROR;
    }

    if (host.len >= 5 && kl_strncasecmp(host.data, (u_char *) "unix:", 5) == 0)
    {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                          "invalid parameter \"resolve\" for the unix "
                          "socket \"%V\"",
                          url);
        return KL_CONF_ERROR;
    }

    if (kl_http_upstream_is_literal(&host)) {
        /* nothing to resolve: the address as it is */
        us->resolve = 0;
        us->service.len = 0;

        if (kl_sock_parse_all(cf->pool, url, 80, &us->addrs, &us->socklens,
                              &us->naddrs, &err)
            != KL_OK)
        {
            kl_conf_log_error(KL_LOG_EMERG, cf, 0, "%s in upstream \"%V\"", err,
                              url);
            return KL_CONF_ERROR;
        }

        return KL_CONF_OK;
    }

    us->host = host;
    us->port = port;

    return KL_CONF_OK;
}


/* One weight=, max_fails=, ... parameter, if the group's balancer takes it. */
static char *
kl_http_upstream_server_param(kl_conf_t *cf, kl_http_upstream_srv_conf_t *uscf,
                              kl_http_upstream_server_t *us, kl_str_t *value)
{
    kl_int_t  n;
    kl_str_t  s;
    kl_uint_t flag;

    n = 0;

    if (kl_strncmp(value->data, "weight=", 7) == 0) {
        flag = KL_HTTP_UPSTREAM_WEIGHT;
        n = kl_atoi(value->data + 7, value->len - 7);
        n = (n == 0) ? KL_ERROR : n;
        us->weight = (kl_uint_t) n;

    } else if (kl_strncmp(value->data, "max_conns=", 10) == 0) {
        flag = KL_HTTP_UPSTREAM_MAX_CONNS;
        n = kl_atoi(value->data + 10, value->len - 10);
        us->max_conns = (kl_uint_t) n;

    } else if (kl_strncmp(value->data, "max_fails=", 10) == 0) {
        flag = KL_HTTP_UPSTREAM_MAX_FAILS;
        n = kl_atoi(value->data + 10, value->len - 10);
        us->max_fails = (kl_uint_t) n;

    } else if (kl_strncmp(value->data, "fail_timeout=", 13) == 0) {
        flag = KL_HTTP_UPSTREAM_FAIL_TIMEOUT;
        s.data = value->data + 13;
        s.len = value->len - 13;
        n = kl_conf_parse_time(&s, 1);
        us->fail_timeout = (time_t) n;

    } else if (value->len == 6 && kl_strncmp(value->data, "backup", 6) == 0) {
        flag = KL_HTTP_UPSTREAM_BACKUP;
        us->backup = 1;

    } else if (value->len == 4 && kl_strncmp(value->data, "down", 4) == 0) {
        flag = KL_HTTP_UPSTREAM_DOWN;
        us->down = 1;

    } else {
        goto invalid;
    }

    if (!(uscf->flags & flag)) {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                          "balancing method does not support parameter "
                          "\"%V\"",
                          value);
        return KL_CONF_ERROR;
    }

    if (n == KL_ERROR) {
        goto invalid;
    }

    return KL_CONF_OK;

invalid:

    kl_conf_log_error(KL_LOG_EMERG, cf, 0, "invalid parameter \"%V\"", value);

    return KL_CONF_ERROR;
}
