/* resolver.c: the worker's DNS client: names, their queries in flight and waiters, the answer cache. */

/*
 * nginx's ngx_resolver, per worker. A node is a name (or an SRV name):
 * while its queries are in flight (A and AAAA together, as configured)
 * every ctx asking for it waits on it; once answered it is kept until
 * its TTL (or valid=) ends, a "not found" for 10 s (or valid=), other
 * failures not at all. A query unanswered after KL_RESOLVER_RESEND ms
 * is sent again to the next server, round robin, while anyone waits;
 * each ctx gives up at its own timeout. Nodes live on the heap, not in
 * a pool: they outlive the requests that made them. The sockets are in
 * resolver_io.c.
 */

#include "kl_core.h"
#include "resolver.h"

#include <sys/random.h>


#define KL_RESOLVER_RESEND   5000 /* nginx's resend_timeout */
#define KL_RESOLVER_NEGATIVE 10   /* s a "not found" is kept */
#define KL_RESOLVER_RRS      32   /* records kept from one answer */

/*
 * Answers kept per resolver and worker: a name may come from the client
 * ($arg_host), so the oldest answers go first past this many.
 */
#define KL_RESOLVER_NODES 10000

static kl_int_t kl_resolver_add_servers(kl_conf_t *cf, kl_resolver_t *r,
                                        kl_array_t *servers, kl_str_t *value);
static kl_resolver_node_t *kl_resolver_lookup(kl_resolver_t     *r,
                                              kl_resolver_ctx_t *ctx);
static kl_int_t            kl_resolver_query_start(kl_resolver_node_t  *rn,
                                                   kl_resolver_query_t *q, u_char *name,
                                                   size_t len);
static void                kl_resolver_send(kl_resolver_node_t *rn);
static void                kl_resolver_resend_handler(kl_event_t *ev);
static kl_resolver_node_t *kl_resolver_find(kl_resolver_t *r, kl_uint_t id,
                                            kl_uint_t *qi);
static void                kl_resolver_node_complete(kl_resolver_node_t *rn);
static void                kl_resolver_answer_ctx(kl_resolver_ctx_t  *ctx,
                                                  kl_resolver_node_t *rn);
static void                kl_resolver_srv_start(kl_resolver_ctx_t  *ctx,
                                                 kl_resolver_node_t *rn);
static void kl_resolver_srv_child_handler(kl_resolver_ctx_t *child);
static void kl_resolver_finish(kl_resolver_ctx_t *ctx);
static void kl_resolver_timeout_handler(kl_event_t *ev);
static void kl_resolver_cleanup(void *data);


kl_resolver_t *
kl_resolver_create(kl_conf_t *cf, kl_str_t *value, kl_uint_t n)
{
    kl_str_t           s;
    kl_int_t           valid;
    kl_uint_t          i;
    kl_array_t        *servers;
    kl_resolver_t     *r;
    kl_pool_cleanup_t *cln;

    r = kl_pcalloc(cf->pool, sizeof(kl_resolver_t));
    servers = kl_array_create(cf->pool, 2, sizeof(kl_resolver_server_t));
    cln = kl_pool_cleanup_add(cf->pool, 0);

    if (r == NULL || servers == NULL || cln == NULL) {
        return NULL;
    }

    /* The new cycle's own log: cycle->log is the old one's while the
     * configuration is read, and goes with it on a reload. */
    r->log = &cf->cycle->new_log;
    r->ipv4 = 1;
    r->ipv6 = 1;
    kl_queue_init(&r->nodes);
    cln->handler = kl_resolver_cleanup;
    cln->data = r;

    for (i = 1; i < n; i++) {
        if (kl_strncmp(value[i].data, "valid=", 6) == 0) {
            s.data = value[i].data + 6;
            s.len = value[i].len - 6;
            valid = kl_conf_parse_time(&s, 1);

            if (valid == KL_ERROR) {
                goto invalid;
            }

            r->valid = (time_t) valid;

        } else if (kl_strncmp(value[i].data, "ipv4=", 5) == 0
                   || kl_strncmp(value[i].data, "ipv6=", 5) == 0)
        {
            s.data = value[i].data + 5;
            s.len = value[i].len - 5;

            if ((s.len != 2 || kl_strncmp(s.data, "on", 2) != 0)
                && (s.len != 3 || kl_strncmp(s.data, "off", 3) != 0))
            {
                goto invalid;
            }

            if (value[i].data[3] == '4') {
                r->ipv4 = (s.len == 2);
            } else {
                r->ipv6 = (s.len == 2);
            }

        } else if (kl_strncmp(value[i].data, "status_zone=", 12) == 0) {
            kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                              "\"status_zone\" is not supported: kiln keeps "
                              "no resolver statistics");
            return NULL;

        } else if (kl_resolver_add_servers(cf, r, servers, &value[i]) != KL_OK)
        {
            return NULL;
        }
    }

    if (!r->ipv4 && !r->ipv6) {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                          "\"ipv4\" and \"ipv6\" cannot both be \"off\"");
        return NULL;
    }

    if (servers->nelts == 0) {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0, "no name servers defined");
        return NULL;
    }

    r->servers = servers->elts;
    r->nservers = servers->nelts;

    return r;

invalid:

    kl_conf_log_error(KL_LOG_EMERG, cf, 0, "invalid parameter: %V", &value[i]);

    return NULL;
}


/* An address (or a name: each of its addresses) of the resolver line. */
static kl_int_t
kl_resolver_add_servers(kl_conf_t *cf, kl_resolver_t *r, kl_array_t *servers,
                        kl_str_t *value)
{
    kl_uint_t             j, naddrs;
    socklen_t            *socklens;
    const char           *err;
    kl_sockaddr_t        *addrs;
    kl_resolver_server_t *rs;

    if (kl_sock_parse_all(cf->pool, value, 53, &addrs, &socklens, &naddrs, &err)
        != KL_OK)
    {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0, "%s in resolver \"%V\"", err,
                          value);
        return KL_ERROR;
    }

    for (j = 0; j < naddrs; j++) {
        rs = kl_array_push(servers);
        if (rs == NULL) {
            return KL_ERROR;
        }

        kl_memzero(rs, sizeof(kl_resolver_server_t));
        rs->sockaddr = addrs[j];
        rs->socklen = socklens[j];
        rs->resolver = r;
        rs->name.data = kl_pnalloc(cf->pool, KL_SOCKADDR_STRLEN);

        if (rs->name.data == NULL) {
            return KL_ERROR;
        }

        rs->name.len = kl_sock_ntop(&addrs[j].sockaddr, socklens[j],
                                    rs->name.data, KL_SOCKADDR_STRLEN, 1);
    }

    return KL_OK;
}


kl_resolver_ctx_t *
kl_resolve_start(kl_resolver_t *r, kl_pool_t *pool)
{
    kl_resolver_ctx_t *ctx;

    ctx = kl_pcalloc(pool, sizeof(kl_resolver_ctx_t));
    if (ctx == NULL) {
        return NULL;
    }

    ctx->resolver = r;
    ctx->pool = pool;
    ctx->timeout = 30000;
    ctx->log = r->log;

    return ctx;
}


kl_int_t
kl_resolve_name(kl_resolver_ctx_t *ctx)
{
    kl_resolver_t      *r;
    kl_resolver_node_t *rn;

    r = ctx->resolver;

    if (ctx->name.len && ctx->name.data[ctx->name.len - 1] == '.') {
        ctx->name.len--;
    }

    if (ctx->name.len == 0 || ctx->name.len > KL_RESOLVER_NAME_LEN) {
        return KL_ERROR;
    }

    rn = kl_resolver_lookup(r, ctx);
    if (rn == NULL) {
        return KL_ERROR;
    }

    ctx->busy = 1;

    if (!rn->in_flight) {
        kl_resolver_answer_ctx(ctx, rn);
        return KL_OK;
    }

    ctx->node = rn;
    kl_queue_insert_tail(&rn->waiters, &ctx->queue);

    ctx->timer.handler = kl_resolver_timeout_handler;
    ctx->timer.data = ctx;
    ctx->timer.log = ctx->log;
    kl_event_add_timer(&ctx->timer, ctx->timeout);

    return KL_OK;
}


void
kl_resolve_name_done(kl_resolver_ctx_t *ctx)
{
    kl_uint_t i;

    if (ctx->node) {
        kl_queue_remove(&ctx->queue);
        ctx->node = NULL;
    }

    if (ctx->timer.timer_set) {
        kl_event_del_timer(&ctx->timer);
    }

    if (ctx->children) {
        for (i = 0; i < ctx->nsrvs; i++) {
            kl_resolve_name_done(&ctx->children[i]);
        }
    }

    ctx->busy = 0;
    ctx->done = 1;
}


/*
 * The node of ctx's name: a fresh or in-flight one as is, else a new one
 * with its queries sent. Stale nodes nobody waits on are freed on the way.
 */
static kl_resolver_node_t *
kl_resolver_lookup(kl_resolver_t *r, kl_resolver_ctx_t *ctx)
{
    kl_uint_t           i;
    kl_queue_t         *q, *next;
    kl_resolver_node_t *rn, *found;

    found = NULL;

    for (q = kl_queue_head(&r->nodes); q != kl_queue_sentinel(&r->nodes);
         q = next) {
        next = kl_queue_next(q);
        rn = kl_queue_data(q, kl_resolver_node_t, queue);

        if (!rn->in_flight && !rn->locked && rn->expire <= kl_loop.clock.sec) {
            kl_resolver_node_free(rn);
            continue;
        }

        if (rn->service == ctx->service && rn->name_len == ctx->name.len
            && kl_strncasecmp(rn->name, ctx->name.data, rn->name_len) == 0)
        {
            found = rn;
        }
    }

    if (found) {
        return found;
    }

    /* Oldest first: answers, not queries in flight or being told. */
    for (q = kl_queue_head(&r->nodes);
         r->nnodes >= KL_RESOLVER_NODES && q != kl_queue_sentinel(&r->nodes);
         q = next)
    {
        next = kl_queue_next(q);
        rn = kl_queue_data(q, kl_resolver_node_t, queue);

        if (!rn->in_flight && !rn->locked) {
            kl_resolver_node_free(rn);
        }
    }

    rn = kl_calloc(sizeof(kl_resolver_node_t), r->log);
    if (rn == NULL) {
        return NULL;
    }

    r->nnodes++;

    rn->resolver = r;
    rn->service = ctx->service;
    rn->name_len = ctx->name.len;
    kl_strlow(rn->name, ctx->name.data, ctx->name.len);
    kl_queue_init(&rn->waiters);
    kl_queue_insert_tail(&r->nodes, &rn->queue);

    if (ctx->service) {
        rn->q[rn->nq++].type = KL_RESOLVER_SRV;

    } else {
        if (r->ipv4) {
            rn->q[rn->nq++].type = KL_RESOLVER_A;
        }

        if (r->ipv6) {
            rn->q[rn->nq++].type = KL_RESOLVER_AAAA;
        }
    }

    for (i = 0; i < rn->nq; i++) {
        if (kl_resolver_query_start(rn, &rn->q[i], rn->name, rn->name_len)
            != KL_OK) {
            kl_resolver_node_free(rn);
            return NULL;
        }
    }

    rn->in_flight = 1;
    rn->resend.handler = kl_resolver_resend_handler;
    rn->resend.data = rn;
    rn->resend.log = r->log;
    rn->resend.cancelable = 1;
    rn->server = r->last++ % r->nservers;

    kl_resolver_send(rn);

    return rn;
}


/* Ask q about name: a fresh random ID no other query in flight has. */
static kl_int_t
kl_resolver_query_start(kl_resolver_node_t *rn, kl_resolver_query_t *q,
                        u_char *name, size_t len)
{
    uint16_t            id;
    kl_str_t            s;
    kl_uint_t           i, clash;
    kl_queue_t         *qq;
    kl_resolver_node_t *other;

    for (;;) {
        if (getrandom(&id, sizeof(id), GRND_NONBLOCK) != sizeof(id)) {
            id = (uint16_t) random();
        }

        clash = 0;

        for (qq = kl_queue_head(&rn->resolver->nodes);
             qq != kl_queue_sentinel(&rn->resolver->nodes);
             qq = kl_queue_next(qq))
        {
            other = kl_queue_data(qq, kl_resolver_node_t, queue);

            for (i = 0; i < other->nq; i++) {
                if (other->q[i].state == -1 && other->q[i].id == id) {
                    clash = 1;
                }
            }
        }

        if (!clash) {
            break;
        }
    }

    if (q->name != name) {
        kl_memcpy(q->name, name, len);
    }

    q->name_len = len;
    q->id = id;
    q->state = -1;
    s.data = q->name;
    s.len = len;

    return kl_resolver_build_query(q->query, &q->qlen, &s, q->type, id);
}


/* Send the node's unanswered queries to its current server. */
static void
kl_resolver_send(kl_resolver_node_t *rn)
{
    kl_uint_t             i;
    kl_resolver_server_t *s;

    s = &rn->resolver->servers[rn->server];

    for (i = 0; i < rn->nq; i++) {
        if (rn->q[i].state == -1 && rn->q[i].tcp == NULL) {
            (void) kl_resolver_udp_send(s, rn->q[i].query, rn->q[i].qlen);
        }
    }

    kl_event_add_timer(&rn->resend, KL_RESOLVER_RESEND);
}


/* No answer in time: the next server, while anyone still waits. */
static void
kl_resolver_resend_handler(kl_event_t *ev)
{
    kl_uint_t           i;
    kl_resolver_t      *r;
    kl_resolver_node_t *rn;

    rn = ev->data;
    r = rn->resolver;

    if (kl_queue_empty(&rn->waiters)) {
        kl_resolver_node_free(rn);
        kl_resolver_close_idle(r);
        return;
    }

    for (i = 0; i < rn->nq; i++) {
        kl_resolver_tcp_close(rn, i);
    }

    rn->server = r->last++ % r->nservers;
    kl_resolver_send(rn);
}


/* A message from server s (UDP), or the TCP answer of rn's query qi. */
void
kl_resolver_process_answer(kl_resolver_server_t *s, u_char *p, size_t len,
                           kl_resolver_node_t *tcp_rn, kl_uint_t tcp_qi)
{
    kl_str_t             name;
    kl_uint_t            i, qi;
    const char          *err;
    kl_resolver_t       *r;
    kl_resolver_rr_t     rrs[KL_RESOLVER_RRS];
    kl_resolver_node_t  *rn;
    kl_resolver_query_t *q;
    kl_resolver_answer_t ans;

    r = s->resolver;
    rn = tcp_rn;
    qi = tcp_qi;

    if (rn == NULL) {
        rn = (len >= 2) ? kl_resolver_find(r, (p[0] << 8) | p[1], &qi) : NULL;

        if (rn == NULL) {
            kl_log_error(KL_LOG_ERR, r->log, 0,
                         "unexpected DNS response from %V", &s->name);
            return;
        }
    }

    q = &rn->q[qi];
    name.data = q->name;
    name.len = q->name_len;
    ans.rrs = rrs;
    ans.nalloc = KL_RESOLVER_RRS;
    ans.id = q->id;

    if (kl_resolver_parse_answer(p, len, &name, q->type, &ans, &err) != KL_OK
        || ans.id != q->id)
    {
        kl_log_error(KL_LOG_ERR, r->log, 0, "%s in DNS response from %V",
                     ans.id != q->id ? "wrong ID" : err, &s->name);
        return;
    }

    if (ans.truncated) {
        if (tcp_rn == NULL && kl_resolver_tcp_send(s, rn, qi) == KL_OK) {
            return;
        }

        ans.rcode = KL_RESOLVER_SERVFAIL;
    }

    if (tcp_rn) {
        kl_resolver_tcp_close(rn, qi);
    }

    q->ttl = (q->hops ? kl_min(q->ttl, ans.ttl) : ans.ttl);

    if (ans.rcode) {
        q->state = (kl_int_t) ans.rcode;

    } else if (ans.cname_len) {
        if (++q->hops > KL_RESOLVER_CNAME_HOPS
            || kl_resolver_query_start(rn, q, ans.cname, ans.cname_len)
                   != KL_OK)
        {
            q->state = KL_RESOLVER_SERVFAIL;

        } else {
            (void) kl_resolver_udp_send(s, q->query, q->qlen);
            return;
        }

    } else if (ans.nrrs == 0) {
        q->state = KL_RESOLVER_NXDOMAIN; /* no data: nginx's "not found" */

    } else {
        q->rrs = kl_alloc(ans.nrrs * sizeof(kl_resolver_rr_t), r->log);
        q->state = q->rrs ? 0 : KL_RESOLVER_SERVFAIL;

        if (q->rrs) {
            kl_memcpy(q->rrs, rrs, ans.nrrs * sizeof(kl_resolver_rr_t));
            q->nrrs = ans.nrrs;
        }
    }

    for (i = 0; i < rn->nq; i++) {
        if (rn->q[i].state == -1) {
            return;
        }
    }

    kl_resolver_node_complete(rn);
}


/* The query in flight with this ID (only one may have it), and its node. */
static kl_resolver_node_t *
kl_resolver_find(kl_resolver_t *r, kl_uint_t id, kl_uint_t *qi)
{
    kl_uint_t           i;
    kl_queue_t         *q;
    kl_resolver_node_t *rn;

    for (q = kl_queue_head(&r->nodes); q != kl_queue_sentinel(&r->nodes);
         q = kl_queue_next(q))
    {
        rn = kl_queue_data(q, kl_resolver_node_t, queue);

        for (i = 0; rn->in_flight && i < rn->nq; i++) {
            if (rn->q[i].state == -1 && rn->q[i].id == id) {
                *qi = i;
                return rn;
            }
        }
    }

    return NULL;
}


/* Every query is answered: merge, decide how long to keep, tell waiters. */
static void
kl_resolver_node_complete(kl_resolver_node_t *rn)
{
    uint32_t           ttl;
    kl_uint_t          i, n;
    kl_queue_t        *q;
    kl_resolver_t     *r;
    kl_resolver_ctx_t *ctx;

    r = rn->resolver;
    n = 0;
    ttl = UINT32_MAX;
    rn->state = rn->q[0].state;

    for (i = 0; i < rn->nq; i++) {
        if (rn->q[i].state == 0) {
            n += rn->q[i].nrrs;
            ttl = kl_min(ttl, rn->q[i].ttl);
        }
    }

    if (n) {
        rn->rrs = kl_alloc(n * sizeof(kl_resolver_rr_t), r->log);
        rn->state = rn->rrs ? 0 : KL_RESOLVER_SERVFAIL;
    }

    for (i = 0; i < rn->nq; i++) {
        if (rn->rrs && rn->q[i].state == 0) {
            kl_memcpy(rn->rrs + rn->nrrs, rn->q[i].rrs,
                      rn->q[i].nrrs * sizeof(kl_resolver_rr_t));
            rn->nrrs += rn->q[i].nrrs;
        }

        kl_free(rn->q[i].rrs);
        rn->q[i].rrs = NULL;
        kl_resolver_tcp_close(rn, i);
    }

    if (rn->state == 0) {
        rn->expire = kl_loop.clock.sec + (r->valid ? r->valid : (time_t) ttl);

    } else if (rn->state == KL_RESOLVER_NXDOMAIN) {
        rn->expire =
            kl_loop.clock.sec + (r->valid ? r->valid : KL_RESOLVER_NEGATIVE);

    } else {
        rn->expire = 0; /* not kept: the next ask asks again */
    }

    rn->in_flight = 0;

    if (rn->resend.timer_set) {
        kl_event_del_timer(&rn->resend);
    }

    /* A handler may end other waiters or start new asks: one at a time. */
    rn->locked = 1;

    while (!kl_queue_empty(&rn->waiters)) {
        q = kl_queue_head(&rn->waiters);
        ctx = kl_queue_data(q, kl_resolver_ctx_t, queue);
        kl_queue_remove(q);
        ctx->node = NULL;

        if (ctx->timer.timer_set) {
            kl_event_del_timer(&ctx->timer);
        }

        kl_resolver_answer_ctx(ctx, rn);
    }

    rn->locked = 0;

    kl_resolver_close_idle(r);
}


void
kl_resolver_node_free(kl_resolver_node_t *rn)
{
    kl_uint_t i;

    for (i = 0; i < rn->nq; i++) {
        kl_resolver_tcp_close(rn, i);
        kl_free(rn->q[i].rrs);
    }

    if (rn->resend.timer_set) {
        kl_event_del_timer(&rn->resend);
    }

    kl_queue_remove(&rn->queue);
    rn->resolver->nnodes--;
    kl_free(rn->rrs);
    kl_free(rn);
}


/* Give ctx the node's answer (copied into ctx's pool), then its handler. */
static void
kl_resolver_answer_ctx(kl_resolver_ctx_t *ctx, kl_resolver_node_t *rn)
{
    kl_uint_t            i;
    kl_resolver_rr_t    *rr;
    kl_resolver_addr_t  *a;
    struct sockaddr_in  *sin;
    struct sockaddr_in6 *sin6;

    ctx->state = rn->state;
    ctx->valid = rn->expire;

    if (rn->state == 0 && rn->service) {
        kl_resolver_srv_start(ctx, rn);
        return;
    }

    if (rn->state == 0) {
        ctx->addrs = kl_pcalloc(ctx->pool, rn->nrrs * sizeof(*ctx->addrs));

        if (ctx->addrs == NULL) {
            ctx->state = KL_RESOLVER_SERVFAIL;
        }
    }

    for (i = 0; ctx->addrs && i < rn->nrrs; i++) {
        rr = &rn->rrs[i];
        a = &ctx->addrs[ctx->naddrs++];

        if (rr->type == KL_RESOLVER_A) {
            sin = &a->sockaddr.sockaddr_in;
            sin->sin_family = AF_INET;
            kl_memcpy(&sin->sin_addr, rr->addr, 4);
            a->socklen = sizeof(struct sockaddr_in);

        } else {
            sin6 = &a->sockaddr.sockaddr_in6;
            sin6->sin6_family = AF_INET6;
            kl_memcpy(&sin6->sin6_addr, rr->addr, 16);
            a->socklen = sizeof(struct sockaddr_in6);
        }
    }

    kl_resolver_finish(ctx);
}


/* SRV records in hand: resolve each target (one child ctx each). */
static void
kl_resolver_srv_start(kl_resolver_ctx_t *ctx, kl_resolver_node_t *rn)
{
    kl_uint_t               i, n, locked;
    kl_resolver_ctx_t      *child;
    kl_resolver_srv_name_t *srv;

    ctx->srvs = kl_pcalloc(ctx->pool, rn->nrrs * sizeof(*ctx->srvs));
    ctx->children = kl_pcalloc(ctx->pool, rn->nrrs * sizeof(*ctx->children));

    if (ctx->srvs == NULL || ctx->children == NULL) {
        ctx->state = KL_RESOLVER_SERVFAIL;
        kl_resolver_finish(ctx);
        return;
    }

    for (i = 0; i < rn->nrrs; i++) {
        srv = &ctx->srvs[i];
        srv->port = rn->rrs[i].port;
        srv->priority = rn->rrs[i].priority;
        srv->weight = rn->rrs[i].weight;
        srv->state = KL_RESOLVER_NXDOMAIN;
        srv->name.len = rn->rrs[i].target_len;
        srv->name.data = kl_pnalloc(ctx->pool, srv->name.len + 1);

        if (srv->name.data == NULL) {
            ctx->state = KL_RESOLVER_SERVFAIL;
            kl_resolver_finish(ctx);
            return;
        }

        kl_memcpy(srv->name.data, rn->rrs[i].target, srv->name.len);
    }

    ctx->nsrvs = rn->nrrs;
    ctx->waiting = rn->nrrs;
    ctx->busy = 1;

    /*
     * Each child may answer at once (cached), the last one running ctx's
     * handler, which may free ctx: count first, then ask, and touch
     * neither ctx nor rn (kept from the sweep meanwhile) after the last.
     */
    n = rn->nrrs;
    locked = rn->locked;
    rn->locked = 1;

    for (i = 0; i < n; i++) {
        if (i == n - 1) {
            rn->locked = locked;
        }

        child = &ctx->children[i];
        child->resolver = ctx->resolver;
        child->pool = ctx->pool;
        child->timeout = ctx->timeout;
        child->log = ctx->log;
        child->name = ctx->srvs[i].name;
        child->handler = kl_resolver_srv_child_handler;
        child->data = &ctx->srvs[i];
        child->parent = ctx;

        /* RFC 2782: "." says the service is not offered there. */
        if (child->name.len == 0 || kl_resolve_name(child) != KL_OK) {
            child->done = 1;
            kl_resolver_srv_child_handler(child);
        }
    }
}


static void
kl_resolver_srv_child_handler(kl_resolver_ctx_t *child)
{
    kl_uint_t               i;
    kl_resolver_ctx_t      *ctx;
    kl_resolver_srv_name_t *srv;

    ctx = child->parent;
    srv = child->data;

    if (child->name.len) {
        srv->state = child->state;
        srv->addrs = child->addrs;
        srv->naddrs = child->naddrs;
    }

    kl_resolve_name_done(child);

    if (--ctx->waiting) {
        return;
    }

    ctx->state = ctx->srvs[0].state;

    for (i = 0; i < ctx->nsrvs; i++) {
        if (ctx->srvs[i].naddrs) {
            ctx->state = 0;
            ctx->valid = kl_min(ctx->valid, ctx->children[i].valid);
        }
    }

    kl_resolver_finish(ctx);
}


static void
kl_resolver_finish(kl_resolver_ctx_t *ctx)
{
    if (ctx->timer.timer_set) {
        kl_event_del_timer(&ctx->timer);
    }

    ctx->handler(ctx);
}


static void
kl_resolver_timeout_handler(kl_event_t *ev)
{
    kl_resolver_ctx_t *ctx;

    ctx = ev->data;

    if (ctx->node) {
        kl_queue_remove(&ctx->queue);
        ctx->node = NULL;
    }

    ctx->state = ETIMEDOUT;
    ctx->handler(ctx);
}


/* The configuration goes: its nodes with it (the sockets went at exit). */
static void
kl_resolver_cleanup(void *data)
{
    kl_resolver_t      *r = data;
    kl_resolver_node_t *rn;

    while (!kl_queue_empty(&r->nodes)) {
        rn = kl_queue_data(kl_queue_head(&r->nodes), kl_resolver_node_t, queue);
        kl_resolver_node_free(rn);
    }
}
