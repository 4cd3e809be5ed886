/* upstream_resolve_group.c: "server NAME resolve" and "service=": a group's peers follow the addresses of names, per worker. */

/*
 * nginx keeps such a group in a shared zone and updates it in place; kiln
 * has no upstream zone, so each worker resolves the names itself (the
 * resolver's cache is per worker too) and rebuilds the group's round
 * robin tables when an answer differs from the last one. A table in use
 * by a request stays until that request ends (a reference on the request
 * pool); the new one serves requests that start after. Failure counts
 * (max_fails) start again in a new table.
 *
 * An NXDOMAIN removes the name's addresses; other failures keep the last
 * ones. A name is asked again when its answer expires (TTL or valid=),
 * at least a second later.
 */

#include "upstream.h"
#include "upstream_round_robin.h"
#include "resolver_module.h"


extern kl_module_t kl_http_resolver_module;

/* One address a name gave (its port set), with SRV's weight and priority. */
typedef struct {
    kl_sockaddr_t sockaddr;
    socklen_t     socklen;
    kl_uint_t     weight;
    kl_uint_t     priority;
} kl_http_upstream_raddr_t;

/* A group's tables of one moment, alive while requests use them. */
typedef struct {
    kl_pool_t *pool; /* holds this struct too */
    void      *peers;
    kl_uint_t  refs;
} kl_http_upstream_rgen_t;

typedef struct kl_http_upstream_rstate_s kl_http_upstream_rstate_t;

/* A "resolve" server line and what its name gave last. */
typedef struct {
    kl_http_upstream_rstate_t *st;
    kl_http_upstream_server_t *server;
    kl_str_t                   name; /* asked: the host, or the SRV name */
    kl_resolver_ctx_t         *ctx;
    kl_pool_t                 *ctx_pool;
    kl_event_t                 timer; /* ask again */
    kl_pool_t                 *pool;  /* holds addrs */
    kl_http_upstream_raddr_t  *addrs;
    kl_uint_t                  naddrs;
} kl_http_upstream_rserver_t;

struct kl_http_upstream_rstate_s {
    kl_http_upstream_srv_conf_t  *us;
    kl_http_upstream_init_peer_pt init; /* the balancer's, per request */
    kl_resolver_t                *resolver;
    kl_msec_t                     timeout;
    kl_log_t                     *log;
    kl_http_upstream_rserver_t   *rs;
    kl_uint_t                     nrs;
    kl_http_upstream_rgen_t      *current; /* NULL: no peer known */
};

static kl_int_t kl_http_upstream_resolve_peer(kl_http_request_t           *r,
                                              kl_http_upstream_srv_conf_t *us,
                                              kl_peer_connection_t        *pc);
static kl_int_t kl_http_upstream_resolve_busy(kl_peer_connection_t *pc,
                                              void                 *data);
static void kl_http_upstream_resolve_idle(kl_peer_connection_t *pc, void *data,
                                          kl_uint_t state);
static void kl_http_upstream_rgen_unref(void *data);
static void kl_http_upstream_resolve_ask(kl_http_upstream_rserver_t *rs);
static void kl_http_upstream_resolve_timer(kl_event_t *ev);
static void kl_http_upstream_resolve_answer(kl_resolver_ctx_t *ctx);
static kl_int_t  kl_http_upstream_resolve_keep(kl_http_upstream_rserver_t *rs,
                                               kl_resolver_ctx_t          *ctx,
                                               kl_uint_t *changed);
static kl_uint_t kl_http_upstream_raddr_same(kl_http_upstream_raddr_t *a,
                                             kl_uint_t                 na,
                                             kl_http_upstream_raddr_t *b,
                                             kl_uint_t                 nb);
static kl_int_t kl_http_upstream_resolve_rebuild(kl_http_upstream_rstate_t *st);
static kl_int_t kl_http_upstream_rebuild_server(kl_array_t *out,
                                                kl_pool_t  *pool,
                                                kl_http_upstream_rserver_t *rs);


kl_int_t
kl_http_upstream_resolve_conf(kl_conf_t *cf, kl_http_upstream_srv_conf_t *us)
{
    kl_uint_t                  i, n;
    kl_sockaddr_t             *sa;
    kl_http_resolver_conf_t   *rcf, *hcf;
    kl_http_upstream_server_t *server;
    kl_http_upstream_rstate_t *st;

    if (us->servers == NULL || us->srv_conf == NULL) {
        return KL_OK;
    }

    server = us->servers->elts;
    n = 0;

    for (i = 0; i < us->servers->nelts; i++) {
        n += server[i].resolve;
    }

    if (n == 0) {
        return KL_OK;
    }

    if (!(us->flags & KL_HTTP_UPSTREAM_MODIFY)) {
        kl_log_error(KL_LOG_EMERG, cf->log, 0,
                     "load balancing method does not support resolving names "
                     "at run time in upstream \"%V\" in %V:%ui",
                     &us->host, &us->file_name, us->line);
        return KL_ERROR;
    }

    rcf = us->srv_conf[kl_http_resolver_module.ctx_index];
    hcf = kl_http_conf_get_module_loc_conf(cf, kl_http_resolver_module);

    st = kl_pcalloc(cf->pool, sizeof(kl_http_upstream_rstate_t));
    if (st == NULL) {
        return KL_ERROR;
    }

    st->us = us;
    st->resolver = (rcf->resolver != KL_CONF_UNSET_PTR)   ? rcf->resolver
                   : (hcf->resolver != KL_CONF_UNSET_PTR) ? hcf->resolver
                                                          : NULL;
    st->timeout = (rcf->timeout != KL_CONF_UNSET_MSEC)   ? rcf->timeout
                  : (hcf->timeout != KL_CONF_UNSET_MSEC) ? hcf->timeout
                                                         : 30000;

    if (st->resolver == NULL) {
        kl_log_error(KL_LOG_EMERG, cf->log, 0,
                     "no resolver defined to resolve names at run time in "
                     "upstream \"%V\" in %V:%ui",
                     &us->host, &us->file_name, us->line);
        return KL_ERROR;
    }

    /* The balancer's init wants addresses: one placeholder each, for now. */
    for (i = 0; i < us->servers->nelts; i++) {
        if (!server[i].resolve) {
            continue;
        }

        sa = kl_pcalloc(cf->pool, sizeof(kl_sockaddr_t));
        server[i].socklens = kl_palloc(cf->pool, sizeof(socklen_t));

        if (sa == NULL || server[i].socklens == NULL) {
            return KL_ERROR;
        }

        sa->sockaddr_in.sin_family = AF_INET;
        sa->sockaddr_in.sin_port = htons(server[i].port);
        server[i].addrs = sa;
        server[i].socklens[0] = sizeof(struct sockaddr_in);
        server[i].naddrs = 1;
    }

    us->resolve = st;

    return KL_OK;
}


kl_int_t
kl_http_upstream_resolve_wrap(kl_conf_t *cf, kl_http_upstream_srv_conf_t *us)
{
    kl_uint_t                  i;
    kl_http_upstream_server_t *server;
    kl_http_upstream_rstate_t *st;

    (void) cf;

    st = us->resolve;

    if (st == NULL) {
        return KL_OK;
    }

    st->init = us->peer.init;
    us->peer.init = kl_http_upstream_resolve_peer;

    server = us->servers->elts;

    for (i = 0; i < us->servers->nelts; i++) {
        if (server[i].resolve) {
            server[i].naddrs = 0;
        }
    }

    return KL_OK;
}


kl_uint_t
kl_http_upstream_is_literal(kl_str_t *host)
{
    u_char          text[INET6_ADDRSTRLEN + 1];
    struct in6_addr a6;

    if (host->len < 2 || host->len > INET6_ADDRSTRLEN) {
        return 0;
    }

    if (host->data[0] == '[' && host->data[host->len - 1] == ']') {
        kl_memcpy(text, host->data + 1, host->len - 2);
        text[host->len - 2] = '\0';
        return inet_pton(AF_INET6, (char *) text, &a6) == 1;
    }

    kl_memcpy(text, host->data, host->len);
    text[host->len] = '\0';

    return inet_pton(AF_INET, (char *) text, &a6) == 1;
}


/* Worker start: a table of the fixed servers, then ask every name. */
kl_int_t
kl_http_upstream_resolve_start(kl_cycle_t                  *cycle,
                               kl_http_upstream_srv_conf_t *us)
{
    u_char                     *p;
    size_t                      len;
    kl_uint_t                   i, n;
    kl_http_upstream_server_t  *server;
    kl_http_upstream_rstate_t  *st;
    kl_http_upstream_rserver_t *rs;

    st = us->resolve;
    st->log = cycle->log;
    server = us->servers->elts;
    n = 0;

    for (i = 0; i < us->servers->nelts; i++) {
        n += server[i].resolve;
    }

    st->rs = kl_pcalloc(cycle->pool, n * sizeof(kl_http_upstream_rserver_t));
    if (st->rs == NULL) {
        return KL_ERROR;
    }

    for (i = 0; i < us->servers->nelts; i++) {
        if (!server[i].resolve) {
            continue;
        }

        rs = &st->rs[st->nrs++];
        rs->st = st;
        rs->server = &server[i];
        rs->name = server[i].host;

        if (server[i].service.len) {
            /* "http": _http._tcp.HOST (RFC 2782); "a.b": a.b.HOST */
            len =
                server[i].service.len + server[i].host.len + sizeof("_._tcp.");
            p = kl_pnalloc(cycle->pool, len);
            if (p == NULL) {
                return KL_ERROR;
            }

            rs->name.data = p;
            rs->name.len = (size_t) ((memchr(server[i].service.data, '.',
                                             server[i].service.len)
                                          ? kl_snprintf(p, len, "%V.%V",
                                                        &server[i].service,
                                                        &server[i].host)
                                          : kl_snprintf(p, len, "_%V._tcp.%V",
                                                        &server[i].service,
                                                        &server[i].host))
                                     - p);
        }

        rs->timer.handler = kl_http_upstream_resolve_timer;
        rs->timer.data = rs;
        rs->timer.log = st->log;
        rs->timer.cancelable = 1;
    }

    if (kl_http_upstream_resolve_rebuild(st) != KL_OK) {
        return KL_ERROR;
    }

    for (i = 0; i < st->nrs; i++) {
        kl_http_upstream_resolve_ask(&st->rs[i]);
    }

    return KL_OK;
}


/* Per request: the balancer's init over the current table. */
static kl_int_t
kl_http_upstream_resolve_peer(kl_http_request_t           *r,
                              kl_http_upstream_srv_conf_t *us,
                              kl_peer_connection_t        *pc)
{
    kl_pool_cleanup_t           *cln;
    kl_http_upstream_rgen_t     *gen;
    kl_http_upstream_rstate_t   *st;
    kl_http_upstream_srv_conf_t *view;

    st = us->resolve;
    gen = st->current;

    if (gen == NULL) {
        /* No name resolved yet, or none has an address: "no live". */
        pc->get = kl_http_upstream_resolve_busy;
        pc->free = kl_http_upstream_resolve_idle;
        pc->data = us;
        pc->tries = 1;
        return KL_OK;
    }

    view = kl_palloc(r->pool, sizeof(kl_http_upstream_srv_conf_t));
    cln = kl_pool_cleanup_add(r->pool, 0);

    if (view == NULL || cln == NULL) {
        return KL_ERROR;
    }

    gen->refs++;
    cln->handler = kl_http_upstream_rgen_unref;
    cln->data = gen;

    *view = *us;
    view->peer.data = gen->peers;

    return st->init(r, view, pc);
}


static kl_int_t
kl_http_upstream_resolve_busy(kl_peer_connection_t *pc, void *data)
{
    kl_http_upstream_srv_conf_t *us = data;

    pc->name = &us->host;

    return KL_BUSY;
}


static void
kl_http_upstream_resolve_idle(kl_peer_connection_t *pc, void *data,
                              kl_uint_t state)
{
    (void) data;
    (void) state;

    pc->tries = 0;
}


static void
kl_http_upstream_rgen_unref(void *data)
{
    kl_http_upstream_rgen_t *gen = data;

    /* The current table holds one reference of its own (rebuild). */
    if (--gen->refs == 0) {
        kl_pool_free(gen->pool);
    }
}


static void
kl_http_upstream_resolve_ask(kl_http_upstream_rserver_t *rs)
{
    kl_pool_t                 *pool;
    kl_resolver_ctx_t         *ctx;
    kl_http_upstream_rstate_t *st;

    st = rs->st;

    pool = kl_pool_create(1024, st->log);
    if (pool == NULL) {
        kl_event_add_timer(&rs->timer, 1000);
        return;
    }

    ctx = kl_resolve_start(st->resolver, pool);
    if (ctx == NULL) {
        kl_pool_free(pool);
        kl_event_add_timer(&rs->timer, 1000);
        return;
    }

    ctx->name = rs->name;
    ctx->service = (rs->server->service.len != 0);
    ctx->handler = kl_http_upstream_resolve_answer;
    ctx->data = rs;
    ctx->timeout = st->timeout;
    ctx->log = st->log;
    ctx->background = 1;

    rs->ctx = ctx;
    rs->ctx_pool = pool;

    if (kl_resolve_name(ctx) != KL_OK) {
        kl_log_error(KL_LOG_ERR, st->log, 0,
                     "%V could not be resolved in upstream \"%V\"", &rs->name,
                     &st->us->host);
        rs->ctx = NULL;
        rs->ctx_pool = NULL;
        kl_pool_free(pool);
        kl_event_add_timer(&rs->timer, 1000);
    }
}


static void
kl_http_upstream_resolve_timer(kl_event_t *ev)
{
    kl_http_upstream_rserver_t *rs = ev->data;

    if (kl_loop.exiting) {
        return;
    }

    kl_http_upstream_resolve_ask(rs);
}


static void
kl_http_upstream_resolve_answer(kl_resolver_ctx_t *ctx)
{
    time_t                      valid;
    kl_msec_t                   delay;
    kl_uint_t                   changed;
    kl_pool_t                  *pool;
    kl_http_upstream_rserver_t *rs;
    kl_http_upstream_rstate_t  *st;

    rs = ctx->data;
    st = rs->st;
    changed = 0;

    if (ctx->state) {
        kl_log_error(KL_LOG_ERR, st->log, 0,
                     "%V could not be resolved (%i: %s) in upstream \"%V\"",
                     &ctx->name, ctx->state, kl_resolver_strerror(ctx->state),
                     &st->us->host);

        if (ctx->state == KL_RESOLVER_NXDOMAIN && rs->naddrs) {
            rs->naddrs = 0;
            changed = 1;
        }

    } else if (kl_http_upstream_resolve_keep(rs, ctx, &changed) != KL_OK) {
        changed = 0;
    }

    valid = ctx->valid;
    pool = rs->ctx_pool;
    kl_resolve_name_done(ctx);
    rs->ctx = NULL;
    rs->ctx_pool = NULL;
    kl_pool_free(pool);

    if (changed) {
        (void) kl_http_upstream_resolve_rebuild(st);
    }

    delay = (valid > kl_loop.clock.sec)
                ? (kl_msec_t) (valid - kl_loop.clock.sec) * 1000
                : 1000;

    kl_event_add_timer(&rs->timer, delay);
}


/* The answer's addresses, kept in rs's own pool if they differ. */
static kl_int_t
kl_http_upstream_resolve_keep(kl_http_upstream_rserver_t *rs,
                              kl_resolver_ctx_t *ctx, kl_uint_t *changed)
{
    in_port_t                 port;
    kl_uint_t                 i, j, n, nsrv;
    kl_pool_t                *pool;
    kl_resolver_addr_t       *a;
    kl_resolver_srv_name_t   *srv, one;
    kl_http_upstream_raddr_t *addrs, *ra;

    /* A plain name is one SRV-like entry with the line's port. */
    if (ctx->service) {
        srv = ctx->srvs;
        nsrv = ctx->nsrvs;

    } else {
        kl_memzero(&one, sizeof(one));
        one.port = rs->server->port;
        one.weight = rs->server->weight;
        one.addrs = ctx->addrs;
        one.naddrs = ctx->naddrs;
        srv = &one;
        nsrv = 1;
    }

    n = 0;

    for (i = 0; i < nsrv; i++) {
        n += srv[i].naddrs;
    }

    pool = kl_pool_create(1024, rs->st->log);
    addrs = pool ? kl_pcalloc(pool, (n ? n : 1) * sizeof(*addrs)) : NULL;

    if (addrs == NULL) {
        if (pool) {
            kl_pool_free(pool);
        }

        return KL_ERROR;
    }

    ra = addrs;

    for (i = 0; i < nsrv; i++) {
        port = htons(srv[i].port);

        for (j = 0; j < srv[i].naddrs; j++, ra++) {
            a = &srv[i].addrs[j];
            ra->sockaddr = a->sockaddr;
            ra->socklen = a->socklen;
            ra->weight = srv[i].weight ? srv[i].weight : 1;
            ra->priority = srv[i].priority;

            if (a->sockaddr.sockaddr.sa_family == AF_INET6) {
                ra->sockaddr.sockaddr_in6.sin6_port = port;
            } else {
                ra->sockaddr.sockaddr_in.sin_port = port;
            }
        }
    }

    if (kl_http_upstream_raddr_same(rs->addrs, rs->naddrs, addrs, n)) {
        kl_pool_free(pool);
        return KL_OK;
    }

    if (rs->pool) {
        kl_pool_free(rs->pool);
    }

    rs->pool = pool;
    rs->addrs = addrs;
    rs->naddrs = n;
    *changed = 1;

    return KL_OK;
}


/* The same set (order aside): nothing to rebuild. */
static kl_uint_t
kl_http_upstream_raddr_same(kl_http_upstream_raddr_t *a, kl_uint_t na,
                            kl_http_upstream_raddr_t *b, kl_uint_t nb)
{
    kl_uint_t i, j;

    if (na != nb) {
        return 0;
    }

    for (i = 0; i < na; i++) {
        for (j = 0; j < nb; j++) {
            if (a[i].weight == b[j].weight && a[i].priority == b[j].priority
                && kl_sock_cmp(&a[i].sockaddr.sockaddr, a[i].socklen,
                               &b[j].sockaddr.sockaddr, b[j].socklen))
            {
                break;
            }
        }

        if (j == nb) {
            return 0;
        }
    }

    return 1;
}


/*
 * A new table from the fixed servers and the names' current addresses,
 * built by round robin's own init in a pool of its own.
 */
static kl_int_t
kl_http_upstream_resolve_rebuild(kl_http_upstream_rstate_t *st)
{
    kl_uint_t                   i, r;
    kl_pool_t                  *pool;
    kl_conf_t                   cf;
    kl_array_t                 *servers;
    kl_http_upstream_rgen_t    *gen, *old;
    kl_http_upstream_server_t  *server, *s;
    kl_http_upstream_srv_conf_t view;

    pool = kl_pool_create(4096, st->log);
    if (pool == NULL) {
        return KL_ERROR;
    }

    servers = kl_array_create(pool, 4, sizeof(kl_http_upstream_server_t));
    gen = kl_pcalloc(pool, sizeof(kl_http_upstream_rgen_t));

    if (servers == NULL || gen == NULL) {
        goto failed;
    }

    server = st->us->servers->elts;
    r = 0;

    for (i = 0; i < st->us->servers->nelts; i++) {
        if (server[i].resolve) {
            if (kl_http_upstream_rebuild_server(servers, pool, &st->rs[r++])
                != KL_OK) {
                goto failed;
            }

            continue;
        }

        s = kl_array_push(servers);
        if (s == NULL) {
            goto failed;
        }

        *s = server[i];
    }

    gen->pool = pool;
    gen->refs = 1; /* the current table's own */

    server = servers->elts;

    for (i = 0; i < servers->nelts; i++) {
        if (!server[i].backup) {
            break;
        }
    }

    if (i < servers->nelts) {
        /* Round robin's init logs to cf->log and allocates from cf->pool. */
        kl_memzero(&cf, sizeof(kl_conf_t));
        cf.pool = pool;
        cf.log = st->log;
        view = *st->us;
        view.servers = servers;

        if (kl_http_upstream_init_round_robin(&cf, &view) != KL_OK) {
            goto failed;
        }

        gen->peers = view.peer.data;

    } else {
        kl_pool_free(pool);
        gen = NULL;
    }

    old = st->current;
    st->current = gen;

    if (old) {
        kl_http_upstream_rgen_unref(old);
    }

    return KL_OK;

failed:

    kl_pool_free(pool);

    return KL_ERROR;
}


/*
 * The server lines a "resolve" line stands for now: one with the name's
 * addresses; for SRV, one per record: the best priority's as the line
 * is (primary, or backup with "backup"), the others as backups (none
 * with "backup"), nginx's rule.
 */
static kl_int_t
kl_http_upstream_rebuild_server(kl_array_t *out, kl_pool_t *pool,
                                kl_http_upstream_rserver_t *rs)
{
    kl_uint_t                  i, best;
    kl_http_upstream_server_t *s;

    best = (kl_uint_t) -1;

    for (i = 0; i < rs->naddrs; i++) {
        best = kl_min(best, rs->addrs[i].priority);
    }

    for (i = 0; i < rs->naddrs; i++) {
        if (rs->server->backup && rs->addrs[i].priority != best) {
            continue;
        }

        s = kl_array_push(out);
        if (s == NULL) {
            return KL_ERROR;
        }

        *s = *rs->server;
        s->addrs = kl_palloc(pool, sizeof(kl_sockaddr_t));
        s->socklens = kl_palloc(pool, sizeof(socklen_t));

        if (s->addrs == NULL || s->socklens == NULL) {
            return KL_ERROR;
        }

        s->addrs[0] = rs->addrs[i].sockaddr;
        s->socklens[0] = rs->addrs[i].socklen;
        s->naddrs = 1;
        s->resolve = 0;

        if (rs->server->service.len) {
            s->weight = rs->addrs[i].weight;
            s->backup = rs->server->backup || rs->addrs[i].priority != best;
        }
    }

    return KL_OK;
}
