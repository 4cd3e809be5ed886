/*
 * upstream_resolve.c: the peer of a proxy_pass with variables, chosen per
 * request (nginx's u->resolved): the URL's host[:port] split, an address
 * literal used as the one peer, else an upstream group of that name, else
 * the name resolved by the location's resolver (core/resolver.c) while
 * the request waits, its addresses then tried in turn. Without a
 * resolver, any other name is a 502, as nginx without one.
 */

#include "upstream.h"
#include "resolver_module.h"


extern kl_module_t kl_http_resolver_module;

static kl_int_t kl_http_upstream_resolve(kl_http_request_t           *r,
                                         kl_http_upstream_resolved_t *ur);
static void     kl_http_upstream_resolve_handler(kl_resolver_ctx_t *ctx);
static void     kl_http_upstream_resolve_cleanup(void *data);
static kl_int_t kl_http_upstream_resolved_get(kl_peer_connection_t *pc,
                                              void                 *data);
static void kl_http_upstream_resolved_free(kl_peer_connection_t *pc, void *data,
                                           kl_uint_t state);


/*
 * nginx's order: an address literal is used as is; else a group of that
 * name whose port matches (a block has none); else the resolver, if the
 * location has one: 502 with nginx's line if not.
 */
kl_int_t
kl_http_upstream_find_resolved(kl_http_request_t *r, kl_http_upstream_t *u,
                               kl_http_upstream_srv_conf_t **usp)
{
    kl_http_resolver_conf_t     *rcf;
    kl_http_upstream_resolved_t *ur;

    ur = u->resolved;
    *usp = NULL;

    if (ur->socklen) {
        ur->addrs = NULL;
        ur->naddrs = 1;
        u->peer.get = kl_http_upstream_resolved_get;
        u->peer.free = kl_http_upstream_resolved_free;
        u->peer.data = ur;
        u->peer.tries = 1;
        return KL_OK;
    }

    *usp = kl_http_upstream_find_group(r, &ur->host, ur->port, ur->no_port);

    if (*usp != NULL) {
        return KL_OK;
    }

    rcf = kl_http_get_module_loc_conf(r, kl_http_resolver_module);

    if (rcf->resolver == NULL) {
        kl_log_error(KL_LOG_ERR, r->connection->log, 0,
                     "no resolver defined to resolve %V", &ur->host);

        return KL_HTTP_BAD_GATEWAY;
    }

    return kl_http_upstream_resolve(r, ur);
}


static kl_int_t
kl_http_upstream_resolve(kl_http_request_t *r, kl_http_upstream_resolved_t *ur)
{
    kl_resolver_ctx_t       *ctx;
    kl_pool_cleanup_t       *cln;
    kl_http_resolver_conf_t *rcf;

    rcf = kl_http_get_module_loc_conf(r, kl_http_resolver_module);

    /* "[::1x]" was refused by the split; a bracket here is no name. */
    if (ur->host.data[0] == '[') {
        kl_log_error(KL_LOG_ERR, r->connection->log, 0,
                     "%V could not be resolved (%i: %s)", &ur->host,
                     (kl_int_t) KL_RESOLVER_FORMERR,
                     kl_resolver_strerror(KL_RESOLVER_FORMERR));
        return KL_HTTP_BAD_GATEWAY;
    }

    ctx = kl_resolve_start(rcf->resolver, r->pool);
    cln = kl_pool_cleanup_add(r->pool, 0);

    if (ctx == NULL || cln == NULL) {
        return KL_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->name = ur->host;
    ctx->handler = kl_http_upstream_resolve_handler;
    ctx->data = r;
    ctx->timeout = rcf->timeout;
    ctx->log = r->connection->log;

    cln->handler = kl_http_upstream_resolve_cleanup;
    cln->data = ctx;

    ur->ctx = ctx;

    if (kl_resolve_name(ctx) != KL_OK) {
        ur->ctx = NULL;
        kl_log_error(KL_LOG_ERR, r->connection->log, 0,
                     "%V could not be resolved (%i: %s)", &ur->host,
                     (kl_int_t) KL_RESOLVER_FORMERR,
                     kl_resolver_strerror(KL_RESOLVER_FORMERR));
        return KL_HTTP_BAD_GATEWAY;
    }

    /* The handler may have run already: it goes on from there either way. */
    return KL_AGAIN;
}


/* The name's addresses (or why there are none): the peers, in turn. */
static void
kl_http_upstream_resolve_handler(kl_resolver_ctx_t *ctx)
{
    size_t                       len;
    kl_uint_t                    i;
    kl_http_request_t           *r;
    kl_http_upstream_t          *u;
    kl_resolver_addr_t          *a;
    kl_http_upstream_resolved_t *ur;

    r = ctx->data;
    u = r->upstream;
    ur = u->resolved;

    kl_resolve_name_done(ctx);
    ur->ctx = NULL;

    if (ctx->state) {
        kl_log_error(KL_LOG_ERR, r->connection->log, 0,
                     "%V could not be resolved (%i: %s)", &ctx->name,
                     ctx->state, kl_resolver_strerror(ctx->state));
        kl_http_upstream_finalize(r, u, KL_HTTP_BAD_GATEWAY);
        return;
    }

    ur->names = kl_palloc(r->pool, ctx->naddrs * sizeof(kl_str_t));
    if (ur->names == NULL) {
        kl_http_upstream_finalize(r, u, KL_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    for (i = 0; i < ctx->naddrs; i++) {
        a = &ctx->addrs[i];

        if (a->sockaddr.sockaddr.sa_family == AF_INET6) {
            a->sockaddr.sockaddr_in6.sin6_port = htons(ur->port);
        } else {
            a->sockaddr.sockaddr_in.sin_port = htons(ur->port);
        }

        ur->names[i].data = kl_pnalloc(r->pool, KL_SOCKADDR_STRLEN);
        if (ur->names[i].data == NULL) {
            kl_http_upstream_finalize(r, u, KL_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        len = kl_sock_ntop(&a->sockaddr.sockaddr, a->socklen, ur->names[i].data,
                           KL_SOCKADDR_STRLEN, 1);
        ur->names[i].len = len;
    }

    ur->addrs = ctx->addrs;
    ur->naddrs = ctx->naddrs;
    ur->current = 0;

    u->peer.get = kl_http_upstream_resolved_get;
    u->peer.free = kl_http_upstream_resolved_free;
    u->peer.data = ur;
    u->peer.tries = ur->naddrs;

    kl_http_upstream_start(r, u, NULL);
}


void
kl_http_upstream_resolve_done(kl_http_upstream_t *u)
{
    if (u->resolved->ctx) {
        kl_resolve_name_done(u->resolved->ctx);
        u->resolved->ctx = NULL;
    }
}


/* The request went while its name was being resolved. */
static void
kl_http_upstream_resolve_cleanup(void *data)
{
    kl_resolve_name_done(data);
}


static kl_int_t
kl_http_upstream_resolved_get(kl_peer_connection_t *pc, void *data)
{
    kl_resolver_addr_t          *a;
    kl_http_upstream_resolved_t *ur = data;

    if (ur->addrs == NULL) {
        pc->sockaddr = &ur->sockaddr.sockaddr;
        pc->socklen = ur->socklen;
        pc->name = &ur->name;
        pc->server = &ur->host;
        return KL_OK;
    }

    a = &ur->addrs[ur->current % ur->naddrs];
    pc->sockaddr = &a->sockaddr.sockaddr;
    pc->socklen = a->socklen;
    pc->name = &ur->names[ur->current % ur->naddrs];
    pc->server = &ur->host;

    return KL_OK;
}


static void
kl_http_upstream_resolved_free(kl_peer_connection_t *pc, void *data,
                               kl_uint_t state)
{
    kl_http_upstream_resolved_t *ur = data;

    (void) state;

    /* The next address, if any is left. */
    ur->current++;

    if (pc->tries) {
        pc->tries--;
    }
}


kl_int_t
kl_http_upstream_parse_authority(kl_str_t                    *text,
                                 kl_http_upstream_resolved_t *ur,
                                 const char                 **err)
{
    u_char  *p, *last, *colon, *rb;
    u_char   addr[INET6_ADDRSTRLEN + 2];
    size_t   n;
    kl_int_t port;

    p = text->data;
    last = p + text->len;

    kl_memzero(ur, sizeof(kl_http_upstream_resolved_t));
    ur->port = 80;
    ur->no_port = 1;

    if (p < last && p[0] == '[') {
        rb = memchr(p, ']', text->len);

        if (rb == NULL || (rb + 1 < last && rb[1] != ':')) {
            *err = "invalid host";
            return KL_ERROR;
        }

        ur->host.data = p;
        ur->host.len = rb + 1 - p;
        colon = (rb + 1 < last) ? rb + 1 : NULL;

    } else {
        colon = memchr(p, ':', text->len);
        ur->host.data = p;
        ur->host.len = (colon ? colon : last) - p;
    }

    if (colon) {
        port = kl_atoi(colon + 1, last - colon - 1);

        if (port < 1 || port > 65535) {
            *err = "invalid port";
            return KL_ERROR;
        }

        ur->port = (in_port_t) port;
        ur->no_port = 0;
    }

    if (ur->host.len == 0) {
        *err = "no host";
        return KL_ERROR;
    }

    n = ur->host.len;

    if (n >= sizeof(addr)) {
        return KL_OK;
    }

    if (ur->host.data[0] == '[') {
        kl_memcpy(addr, ur->host.data + 1, n - 2);
        addr[n - 2] = '\0';

        if (inet_pton(AF_INET6, (char *) addr,
                      &ur->sockaddr.sockaddr_in6.sin6_addr)
            != 1)
        {
            *err = "invalid host";
            return KL_ERROR;
        }

        ur->sockaddr.sockaddr_in6.sin6_family = AF_INET6;
        ur->sockaddr.sockaddr_in6.sin6_port = htons(ur->port);
        ur->socklen = sizeof(struct sockaddr_in6);

    } else {
        kl_memcpy(addr, ur->host.data, n);
        addr[n] = '\0';

        if (inet_pton(AF_INET, (char *) addr,
                      &ur->sockaddr.sockaddr_in.sin_addr)
            != 1) {
            return KL_OK;
        }

        ur->sockaddr.sockaddr_in.sin_family = AF_INET;
        ur->sockaddr.sockaddr_in.sin_port = htons(ur->port);
        ur->socklen = sizeof(struct sockaddr_in);
    }

    ur->name.data = ur->name_data;
    ur->name.len = kl_sock_ntop(&ur->sockaddr.sockaddr, ur->socklen,
                                ur->name_data, sizeof(ur->name_data), 1);

    return KL_OK;
}


void
kl_http_upstream_default_port(kl_http_upstream_resolved_t *ur, in_port_t port)
{
    if (!ur->no_port) {
        return;
    }

    ur->port = port;

    if (ur->socklen == 0) {
        return;
    }

    if (ur->sockaddr.sockaddr.sa_family == AF_INET6) {
        ur->sockaddr.sockaddr_in6.sin6_port = htons(port);

    } else {
        ur->sockaddr.sockaddr_in.sin_port = htons(port);
    }

    ur->name.len = kl_sock_ntop(&ur->sockaddr.sockaddr, ur->socklen,
                                ur->name_data, sizeof(ur->name_data), 1);
}
