/*
 * http.c: the "http" block: creating every HTTP module's confs, merging
 * them down servers and locations, building the phase engine, and turning
 * listen directives into listening sockets with their servers.
 */

#include "kl_http.h"


static char     *kl_http_block(kl_conf_t *cf, kl_command_t *cmd, void *conf);
static char     *kl_http_merge_servers(kl_conf_t                *cf,
                                       kl_http_core_main_conf_t *cmcf,
                                       kl_http_module_t         *module,
                                       kl_uint_t                 ctx_index);
static char     *kl_http_merge_locations(kl_conf_t               *cf,
                                         kl_http_core_loc_conf_t *pclcf,
                                         void **loc_conf, kl_http_module_t *module,
                                         kl_uint_t ctx_index);
static kl_int_t  kl_http_optimize_servers(kl_conf_t                *cf,
                                          kl_http_core_main_conf_t *cmcf);
static kl_int_t  kl_http_add_addr_server(kl_conf_t *cf, kl_http_addr_conf_t *ac,
                                         kl_http_listen_t *l);
static kl_int_t  kl_http_check_ssl(kl_conf_t *cf, kl_http_addr_conf_t *ac);
static in_port_t kl_http_listen_port(kl_http_listen_t *l);
static kl_uint_t kl_http_listen_socket(kl_http_core_main_conf_t *cmcf,
                                       u_char *used, kl_uint_t i);
static kl_http_port_t *kl_http_port_addrs(kl_conf_t                *cf,
                                          kl_http_core_main_conf_t *cmcf,
                                          u_char *used, kl_uint_t w);
static kl_int_t kl_http_port_listening(kl_conf_t *cf, kl_core_conf_t *ccf,
                                       kl_http_port_t   *port,
                                       kl_http_listen_t *lw);


/* Directive tables keep one field a line, as nginx's do. */
/* clang-format off */
static kl_command_t  kl_http_commands[] = {

    { kl_string("http"),
      KL_MAIN_CONF | KL_CONF_BLOCK | KL_CONF_NOARGS,
      kl_http_block,
      0,
      0,
      NULL },

    kl_null_command
};
/* clang-format on */


static kl_core_module_t kl_http_module_ctx = {
    .create_conf = NULL,
    .init_conf = NULL,
};


kl_module_t kl_http_module = {
    .name = "kl_http_module",
    .type = KL_CORE_MODULE,
    .ctx = &kl_http_module_ctx,
    .commands = kl_http_commands,
};


static char *
kl_http_block(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    char                     *rv;
    kl_uint_t                 m, mi, n;
    kl_conf_t                 pcf;
    kl_http_module_t         *module;
    kl_http_conf_ctx_t       *ctx;
    kl_http_core_main_conf_t *cmcf;

    (void) cmd;

    if (*(kl_http_conf_ctx_t **) conf) {
        return "is duplicate";
    }

    ctx = kl_pcalloc(cf->pool, sizeof(kl_http_conf_ctx_t));
    if (ctx == NULL) {
        return KL_CONF_ERROR;
    }

    *(kl_http_conf_ctx_t **) conf = ctx;

    n = kl_modules_count(KL_HTTP_MODULE);

    ctx->main_conf = kl_pcalloc(cf->pool, sizeof(void *) * n);
    ctx->srv_conf = kl_pcalloc(cf->pool, sizeof(void *) * n);
    ctx->loc_conf = kl_pcalloc(cf->pool, sizeof(void *) * n);

    if (ctx->main_conf == NULL || ctx->srv_conf == NULL
        || ctx->loc_conf == NULL) {
        return KL_CONF_ERROR;
    }

    for (m = 0; kl_modules[m]; m++) {
        if (kl_modules[m]->type != KL_HTTP_MODULE) {
            continue;
        }

        module = kl_modules[m]->ctx;
        mi = kl_modules[m]->ctx_index;

        if (module->create_main_conf) {
            ctx->main_conf[mi] = module->create_main_conf(cf);
            if (ctx->main_conf[mi] == NULL) {
                return KL_CONF_ERROR;
            }
        }

        if (module->create_srv_conf) {
            ctx->srv_conf[mi] = module->create_srv_conf(cf);
            if (ctx->srv_conf[mi] == NULL) {
                return KL_CONF_ERROR;
            }
        }

        if (module->create_loc_conf) {
            ctx->loc_conf[mi] = module->create_loc_conf(cf);
            if (ctx->loc_conf[mi] == NULL) {
                return KL_CONF_ERROR;
            }
        }
    }

    pcf = *cf;
    cf->ctx = ctx;

    for (m = 0; kl_modules[m]; m++) {
        if (kl_modules[m]->type != KL_HTTP_MODULE) {
            continue;
        }

        module = kl_modules[m]->ctx;

        if (module->preconfiguration && module->preconfiguration(cf) != KL_OK) {
            return KL_CONF_ERROR;
        }
    }

    cf->module_type = KL_HTTP_MODULE;
    cf->cmd_type = KL_HTTP_MAIN_CONF;

    rv = kl_conf_parse(cf, NULL);

    if (rv != KL_CONF_OK) {
        *cf = pcf;
        return rv;
    }

    cmcf = ctx->main_conf[kl_http_core_module.ctx_index];

    for (m = 0; kl_modules[m]; m++) {
        if (kl_modules[m]->type != KL_HTTP_MODULE) {
            continue;
        }

        module = kl_modules[m]->ctx;
        mi = kl_modules[m]->ctx_index;

        if (module->init_main_conf) {
            rv = module->init_main_conf(cf, ctx->main_conf[mi]);
            if (rv != KL_CONF_OK) {
                *cf = pcf;
                return rv;
            }
        }

        rv = kl_http_merge_servers(cf, cmcf, module, mi);
        if (rv != KL_CONF_OK) {
            *cf = pcf;
            return rv;
        }
    }

    for (m = 0; kl_modules[m]; m++) {
        if (kl_modules[m]->type != KL_HTTP_MODULE) {
            continue;
        }

        module = kl_modules[m]->ctx;

        if (module->postconfiguration && module->postconfiguration(cf) != KL_OK)
        {
            return KL_CONF_ERROR;
        }
    }

    if (kl_http_init_phase_handlers(cf, cmcf) != KL_OK) {
        return KL_CONF_ERROR;
    }

    *cf = pcf;

    if (kl_http_optimize_servers(cf, cmcf) != KL_OK) {
        return KL_CONF_ERROR;
    }

    return KL_CONF_OK;
}


static char *
kl_http_merge_servers(kl_conf_t *cf, kl_http_core_main_conf_t *cmcf,
                      kl_http_module_t *module, kl_uint_t ctx_index)
{
    char                     *rv;
    kl_uint_t                 s;
    kl_http_conf_ctx_t       *ctx, saved;
    kl_http_core_loc_conf_t  *clcf;
    kl_http_core_srv_conf_t **cscfp;

    cscfp = cmcf->servers.elts;
    ctx = (kl_http_conf_ctx_t *) cf->ctx;
    saved = *ctx;
    rv = KL_CONF_OK;

    for (s = 0; s < cmcf->servers.nelts; s++) {

        /* http -> server */
        ctx->srv_conf = cscfp[s]->ctx->srv_conf;

        if (module->merge_srv_conf) {
            rv = module->merge_srv_conf(cf, saved.srv_conf[ctx_index],
                                        cscfp[s]->ctx->srv_conf[ctx_index]);
            if (rv != KL_CONF_OK) {
                goto failed;
            }
        }

        if (module->merge_loc_conf) {

            /* http -> server's own location-level conf */
            ctx->loc_conf = cscfp[s]->ctx->loc_conf;

            rv = module->merge_loc_conf(cf, saved.loc_conf[ctx_index],
                                        cscfp[s]->ctx->loc_conf[ctx_index]);
            if (rv != KL_CONF_OK) {
                goto failed;
            }

            /* server -> each location, recursively */
            clcf = cscfp[s]->ctx->loc_conf[kl_http_core_module.ctx_index];

            rv = kl_http_merge_locations(cf, clcf, cscfp[s]->ctx->loc_conf,
                                         module, ctx_index);
            if (rv != KL_CONF_OK) {
                goto failed;
            }
        }
    }

failed:

    *ctx = saved;

    return rv;
}


static char *
kl_http_merge_locations(kl_conf_t *cf, kl_http_core_loc_conf_t *pclcf,
                        void **loc_conf, kl_http_module_t *module,
                        kl_uint_t ctx_index)
{
    char                     *rv;
    kl_uint_t                 i, k;
    kl_array_t               *lists[3];
    kl_http_conf_ctx_t       *ctx, saved;
    kl_http_core_loc_conf_t **clcfp;

    ctx = (kl_http_conf_ctx_t *) cf->ctx;
    saved = *ctx;

    lists[0] = pclcf->locations;
    lists[1] = pclcf->regex_locations;
    lists[2] = pclcf->if_locations; /* inherit, as nginx's noname ones */

    for (k = 0; k < 3; k++) {
        if (lists[k] == NULL) {
            continue;
        }

        clcfp = lists[k]->elts;

        for (i = 0; i < lists[k]->nelts; i++) {

            ctx->loc_conf = clcfp[i]->loc_conf;

            rv = module->merge_loc_conf(cf, loc_conf[ctx_index],
                                        clcfp[i]->loc_conf[ctx_index]);
            if (rv != KL_CONF_OK) {
                return rv;
            }

            rv = kl_http_merge_locations(cf, clcfp[i], clcfp[i]->loc_conf,
                                         module, ctx_index);
            if (rv != KL_CONF_OK) {
                return rv;
            }
        }
    }

    *ctx = saved;

    return KL_CONF_OK;
}


/*
 * Group listens by port and family. When a group holds a wildcard
 * address (0.0.0.0 or ::), only the wildcard socket is opened, unless an
 * address asks for "bind" (or reuseport, deferred, backlog... which
 * need their own socket): the kernel refuses a specific address next to
 * the wildcard on the same port, and nginx resolves the local address
 * per connection instead (getsockname in kl_http_init_connection).
 */
static kl_int_t
kl_http_optimize_servers(kl_conf_t *cf, kl_http_core_main_conf_t *cmcf)
{
    kl_uint_t       i, w;
    kl_http_port_t *port;
    kl_core_conf_t *ccf;
    u_char         *used;

    used = kl_pcalloc(cf->temp_pool, cmcf->listens.nelts + 1);
    if (used == NULL) {
        return KL_ERROR;
    }

    ccf = (kl_core_conf_t *) kl_get_conf(cf->cycle->conf_ctx, kl_core_module);

    for (i = 0; i < cmcf->listens.nelts; i++) {

        if (used[i]) {
            continue;
        }

        w = kl_http_listen_socket(cmcf, used, i);

        port = kl_http_port_addrs(cf, cmcf, used, w);
        if (port == NULL) {
            return KL_ERROR;
        }

        if (kl_http_port_listening(cf, ccf, port,
                                   (kl_http_listen_t *) cmcf->listens.elts + w)
            != KL_OK)
        {
            return KL_ERROR;
        }
    }

    return KL_OK;
}


static in_port_t
kl_http_listen_port(kl_http_listen_t *l)
{
    return (l->opt.sockaddr.sockaddr.sa_family == AF_INET6)
               ? l->opt.sockaddr.sockaddr_in6.sin6_port
               : l->opt.sockaddr.sockaddr_in.sin_port;
}


/*
 * The listen whose socket serves listen i: i itself, or (unless i asks for
 * "bind") the first unused wildcard of its port and family.
 */
static kl_uint_t
kl_http_listen_socket(kl_http_core_main_conf_t *cmcf, u_char *used, kl_uint_t i)
{
    kl_uint_t         j;
    kl_http_listen_t *l;

    l = cmcf->listens.elts;

    if (l[i].opt.bind) {
        return i;
    }

    for (j = 0; j < cmcf->listens.nelts; j++) {
        if (!used[j] && l[j].opt.wildcard
            && kl_http_listen_port(&l[j]) == kl_http_listen_port(&l[i])
            && l[j].opt.sockaddr.sockaddr.sa_family
                   == l[i].opt.sockaddr.sockaddr.sa_family)
        {
            return j;
        }
    }

    return i;
}


/*
 * The port of listen w's socket: every unused address it serves (marked
 * used), each with its servers, the wildcard last. NULL on error.
 */
static kl_http_port_t *
kl_http_port_addrs(kl_conf_t *cf, kl_http_core_main_conf_t *cmcf, u_char *used,
                   kl_uint_t w)
{
    kl_uint_t          j, k, naddrs;
    in_port_t          pw;
    kl_http_port_t    *port;
    kl_http_listen_t  *l;
    kl_http_in_addr_t *addr;

    l = cmcf->listens.elts;
    pw = kl_http_listen_port(&l[w]);

    port = kl_pcalloc(cf->pool, sizeof(kl_http_port_t));
    addr =
        kl_pcalloc(cf->pool, sizeof(kl_http_in_addr_t) * cmcf->listens.nelts);
    if (port == NULL || addr == NULL) {
        return NULL;
    }

    port->addrs = addr;
    naddrs = 0;

    for (j = 0; j < cmcf->listens.nelts; j++) {

        if (used[j]) {
            continue;
        }

        if (j != w) {
            if (!l[w].opt.wildcard || l[j].opt.bind
                || kl_http_listen_port(&l[j]) != pw
                || l[j].opt.sockaddr.sockaddr.sa_family
                       != l[w].opt.sockaddr.sockaddr.sa_family)
            {
                /* Only listens with the very same address join. */
                if (!kl_sock_cmp(&l[j].opt.sockaddr.sockaddr, l[j].opt.socklen,
                                 &l[w].opt.sockaddr.sockaddr, l[w].opt.socklen))
                {
                    continue;
                }
            }
        }

        for (k = 0; k < naddrs; k++) {
            if (kl_sock_cmp(&addr[k].sockaddr.sockaddr, addr[k].socklen,
                            &l[j].opt.sockaddr.sockaddr, l[j].opt.socklen))
            {
                break;
            }
        }

        if (k == naddrs) {
            addr[k].sockaddr = l[j].opt.sockaddr;
            addr[k].socklen = l[j].opt.socklen;

            if (kl_array_init(&addr[k].conf.names, cf->pool, 4,
                              sizeof(kl_http_server_name_t))
                != KL_OK)
            {
                return NULL;
            }

            naddrs++;
        }

        if (addr[k].conf.default_explicit && l[j].opt.default_server
            && addr[k].conf.default_server != l[j].server)
        {
            kl_log_error(KL_LOG_EMERG, cf->log, 0,
                         "a duplicate default server for %V in %s:%ui",
                         &l[j].opt.addr_text, l[j].server->file_name,
                         l[j].server->line);
            return NULL;
        }

        if (kl_http_add_addr_server(cf, &addr[k].conf, &l[j]) != KL_OK) {
            return NULL;
        }

        addr[k].conf.ssl |= l[j].opt.ssl;
        used[j] = 1;
    }

    for (k = 0; k < naddrs; k++) {
        /* nginx 1.22: "ssl on" in the default server makes TLS come first. */
        if (addr[k].conf.default_server->ssl_enable) {
            addr[k].conf.ssl = 1;
        }

        if (kl_http_check_ssl(cf, &addr[k].conf) != KL_OK) {
            return NULL;
        }
    }

    /* The wildcard address goes last: specific ones match first. */
    for (k = 0; k + 1 < naddrs; k++) {
        if (kl_sock_cmp(&addr[k].sockaddr.sockaddr, addr[k].socklen,
                        &l[w].opt.sockaddr.sockaddr, l[w].opt.socklen))
        {
            kl_http_in_addr_t tmp = addr[k];

            addr[k] = addr[naddrs - 1];
            addr[naddrs - 1] = tmp;
            break;
        }
    }

    port->naddrs = naddrs;

    return port;
}


/*
 * A TLS address needs a certificate in its default server, as nginx
 * says; a default server that only rejects handshakes (no certificate)
 * needs every other server on the address to have one or to reject too.
 */
static kl_int_t
kl_http_check_ssl(kl_conf_t *cf, kl_http_addr_conf_t *ac)
{
    kl_uint_t                i;
    kl_http_server_name_t   *sn;
    kl_http_core_srv_conf_t *cscf;

    if (!ac->ssl) {
        return KL_OK;
    }

    cscf = ac->default_server;

    if (cscf->ssl && cscf->ssl->certificates) {
        return KL_OK;
    }

    sn = ac->names.elts;

    for (i = 0; cscf->ssl && i < ac->names.nelts; i++) {
        if (sn[i].server->ssl == NULL) {
            cscf = sn[i].server;
            break;
        }
    }

    if (cscf->ssl == NULL) {
        kl_log_error(KL_LOG_EMERG, cf->log, 0,
                     "no \"ssl_certificate\" is defined for the \"listen ... "
                     "ssl\" directive in %s:%ui",
                     cscf->file_name, cscf->line);
        return KL_ERROR;
    }

    return KL_OK;
}


/* Listen lw's socket for port, one per worker with reuseport. */
static kl_int_t
kl_http_port_listening(kl_conf_t *cf, kl_core_conf_t *ccf, kl_http_port_t *port,
                       kl_http_listen_t *lw)
{
    kl_uint_t       k;
    kl_listening_t *ls;

    for (k = 0; k < (lw->opt.reuseport ? (kl_uint_t) ccf->worker_processes : 1);
         k++)
    {
        ls = kl_create_listening(cf->cycle, &lw->opt.sockaddr.sockaddr,
                                 lw->opt.socklen);
        if (ls == NULL) {
            return KL_ERROR;
        }

        ls->handler = kl_http_init_connection;
        ls->servers = port;
        ls->backlog = lw->opt.backlog;
        ls->rcvbuf = lw->opt.rcvbuf;
        ls->sndbuf = lw->opt.sndbuf;
        ls->ipv6only = lw->opt.ipv6only;
        ls->reuseport = lw->opt.reuseport;
        ls->deferred_accept = lw->opt.deferred_accept;
        ls->fastopen = lw->opt.fastopen;
        ls->keepalive = lw->opt.keepalive;
        ls->keepidle = lw->opt.keepidle;
        ls->keepintvl = lw->opt.keepintvl;
        ls->keepcnt = lw->opt.keepcnt;
        ls->worker = k;
        ls->pool_size = lw->server->connection_pool_size;
        ls->logp = cf->cycle->log;
        ls->log.log_level = cf->cycle->new_log.log_level;
    }

    return KL_OK;
}


static kl_int_t
kl_http_add_addr_server(kl_conf_t *cf, kl_http_addr_conf_t *ac,
                        kl_http_listen_t *l)
{
    kl_uint_t              i, j;
    kl_http_server_name_t *sn, *name;

    /* As nginx: one listen with proxy_protocol sets it for its address. */
    ac->proxy_protocol |= l->opt.proxy_protocol;

    /* The first server on an address is its default, unless one says so. */
    if (l->opt.default_server) {
        ac->default_server = l->server;
        ac->default_explicit = 1;

    } else if (ac->default_server == NULL) {
        ac->default_server = l->server;
    }

    sn = l->server->server_names.elts;

    /*
     * "" is a name too: a request without Host goes to the server named
     * so, and two on one address conflict, as in nginx.
     */
    for (i = 0; i < l->server->server_names.nelts; i++) {
        name = ac->names.elts;

        for (j = 0; j < ac->names.nelts; j++) {
            if (name[j].name.len == sn[i].name.len
                && kl_strncmp(name[j].name.data, sn[i].name.data,
                              sn[i].name.len)
                       == 0)
            {
                if (name[j].server != l->server) {
                    kl_log_error(KL_LOG_WARN, cf->log, 0,
                                 "conflicting server name \"%V\" on %V, "
                                 "ignored",
                                 &sn[i].name, &l->opt.addr_text);
                }
                break;
            }
        }

        if (j < ac->names.nelts) {
            continue;
        }

        name = kl_array_push(&ac->names);
        if (name == NULL) {
            return KL_ERROR;
        }

        *name = sn[i];
    }

    return KL_OK;
}
