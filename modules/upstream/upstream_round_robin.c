/*
 * upstream_round_robin.c: the default balancer of upstream groups:
 * nginx's smooth weighted round robin, with backups, max_fails and
 * fail_timeout, max_conns; and the peer tables the other balancers use.
 */

#include "kl_http.h"
#include "upstream_round_robin.h"


static kl_int_t kl_http_upstream_rr_build(kl_conf_t                    *cf,
                                          kl_http_upstream_srv_conf_t  *us,
                                          kl_uint_t                     backup,
                                          kl_http_upstream_rr_peers_t **out);
static void     kl_http_upstream_rr_free_sessions(void *data);
static kl_int_t kl_http_upstream_rr_implicit(kl_conf_t                   *cf,
                                             kl_http_upstream_srv_conf_t *us);
static kl_http_upstream_rr_peer_t *
kl_http_upstream_get_peer(kl_http_upstream_rr_peer_data_t *rrp);


kl_int_t
kl_http_upstream_init_round_robin(kl_conf_t                   *cf,
                                  kl_http_upstream_srv_conf_t *us)
{
    kl_http_upstream_rr_peers_t *peers, *backup;

    us->peer.init = kl_http_upstream_init_round_robin_peer;

    if (us->servers == NULL) {
        return kl_http_upstream_rr_implicit(cf, us);
    }

    if (kl_http_upstream_rr_build(cf, us, 0, &peers) != KL_OK) {
        return KL_ERROR;
    }

    if (peers == NULL) {
        kl_log_error(KL_LOG_EMERG, cf->log, 0,
                     "no servers in upstream \"%V\" in %V:%ui", &us->host,
                     &us->file_name, us->line);
        return KL_ERROR;
    }

    us->peer.data = peers;

    if (kl_http_upstream_rr_build(cf, us, 1, &backup) != KL_OK) {
        return KL_ERROR;
    }

    if (backup) {
        peers->single = 0;
        peers->next = backup;
    }

    return KL_OK;
}


/* The peers of the primary (backup 0) or backup servers; NULL if none. */
static kl_int_t
kl_http_upstream_rr_build(kl_conf_t *cf, kl_http_upstream_srv_conf_t *us,
                          kl_uint_t backup, kl_http_upstream_rr_peers_t **out)
{
    size_t                       len;
    u_char                      *text;
    kl_uint_t                    i, j, n, w, t;
    kl_http_upstream_server_t   *server;
    kl_http_upstream_rr_peer_t  *peer, **tail;
    kl_pool_cleanup_t           *cln;
    kl_http_upstream_rr_peers_t *peers;

    *out = NULL;
    server = us->servers->elts;
    n = w = t = 0;

    for (i = 0; i < us->servers->nelts; i++) {
        if (server[i].backup != backup) {
            continue;
        }

        n += server[i].naddrs;
        w += server[i].naddrs * server[i].weight;

        if (!server[i].down) {
            t += server[i].naddrs;
        }
    }

    if (n == 0) {
        return KL_OK;
    }

    peers = kl_pcalloc(cf->pool, sizeof(kl_http_upstream_rr_peers_t));
    peer = kl_pcalloc(cf->pool, sizeof(kl_http_upstream_rr_peer_t) * n);
    cln = kl_pool_cleanup_add(cf->pool, 0);

    if (peers == NULL || peer == NULL || cln == NULL) {
        return KL_ERROR;
    }

    /* the TLS sessions its peers keep go with the table (a rebuild) */
    cln->handler = kl_http_upstream_rr_free_sessions;
    cln->data = peers;

    /* a backup list is never "single": its peers may be marked failed */
    peers->single = (n == 1 && !backup);
    peers->number = n;
    peers->weighted = (w != n);
    peers->total_weight = w;
    peers->tries = t;
    peers->name = &us->host;

    n = 0;
    tail = &peers->peer;

    for (i = 0; i < us->servers->nelts; i++) {
        if (server[i].backup != backup) {
            continue;
        }

        for (j = 0; j < server[i].naddrs; j++) {
            text = kl_pnalloc(cf->pool, KL_SOCKADDR_STRLEN);
            if (text == NULL) {
                return KL_ERROR;
            }

            len = kl_sock_ntop(&server[i].addrs[j].sockaddr,
                               server[i].socklens[j], text, KL_SOCKADDR_STRLEN,
                               1);

            peer[n].sockaddr = &server[i].addrs[j].sockaddr;
            peer[n].socklen = server[i].socklens[j];
            peer[n].name.data = text;
            peer[n].name.len = len;
            peer[n].server = server[i].name;
            peer[n].weight = (kl_int_t) server[i].weight;
            peer[n].effective_weight = (kl_int_t) server[i].weight;
            peer[n].current_weight = 0;
            peer[n].max_conns = server[i].max_conns;
            peer[n].max_fails = server[i].max_fails;
            peer[n].fail_timeout = (kl_msec_t) server[i].fail_timeout * 1000;
            peer[n].down = server[i].down;

            *tail = &peer[n];
            tail = &peer[n].next;
            n++;
        }
    }

    *out = peers;

    return KL_OK;
}


static void
kl_http_upstream_rr_free_sessions(void *data)
{
    kl_http_upstream_rr_peers_t *peers = data;

    kl_http_upstream_rr_peer_t *peer;

    for (peer = peers->peer; peer; peer = peer->next) {
        if (peer->ssl_session) {
            kl_ssl_free_session(peer->ssl_session);
            peer->ssl_session = NULL;
        }
    }
}


/* A group made by proxy_pass: every address of its host, weight 1. */
static kl_int_t
kl_http_upstream_rr_implicit(kl_conf_t *cf, kl_http_upstream_srv_conf_t *us)
{
    u_char                    *p;
    kl_str_t                   text;
    const char                *err;
    kl_http_upstream_server_t *server;

    us->servers = kl_array_create(cf->pool, 1, sizeof(*server));
    if (us->servers == NULL) {
        return KL_ERROR;
    }

    server = kl_array_push(us->servers);
    if (server == NULL) {
        return KL_ERROR;
    }

    kl_memzero(server, sizeof(*server));

    text = us->host;

    if (!(us->host.len >= 5
          && kl_strncmp(us->host.data, (u_char *) "unix:", 5) == 0))
    {
        if (us->port == 0) {
            kl_log_error(KL_LOG_EMERG, cf->log, 0,
                         "no port in upstream \"%V\" in %V:%ui", &us->host,
                         &us->file_name, us->line);
            return KL_ERROR;
        }

        p = kl_pnalloc(cf->pool, us->host.len + sizeof(":65535"));
        if (p == NULL) {
            return KL_ERROR;
        }

        text.data = p;
        text.len =
            (size_t) (kl_snprintf(p, us->host.len + sizeof(":65535"), "%V:%ud",
                                  &us->host, (unsigned) us->port)
                      - p);
    }

    if (kl_sock_parse_all(cf->pool, &text, us->port, &server->addrs,
                          &server->socklens, &server->naddrs, &err)
        != KL_OK)
    {
        kl_log_error(KL_LOG_EMERG, cf->log, 0,
                     "%s in upstream \"%V\" in %V:%ui", err, &us->host,
                     &us->file_name, us->line);
        return KL_ERROR;
    }

    server->name = text;
    server->weight = 1;
    server->max_fails = 1;
    server->fail_timeout = 10;

    return kl_http_upstream_init_round_robin(cf, us);
}


kl_int_t
kl_http_upstream_init_round_robin_peer(kl_http_request_t           *r,
                                       kl_http_upstream_srv_conf_t *us,
                                       kl_peer_connection_t        *pc)
{
    kl_http_upstream_rr_peer_data_t *rrp;

    rrp = kl_pcalloc(r->pool, sizeof(kl_http_upstream_rr_peer_data_t));
    if (rrp == NULL) {
        return KL_ERROR;
    }

    return kl_http_upstream_rr_peer_init(r, us, pc, rrp);
}


kl_int_t
kl_http_upstream_rr_peer_init(kl_http_request_t               *r,
                              kl_http_upstream_srv_conf_t     *us,
                              kl_peer_connection_t            *pc,
                              kl_http_upstream_rr_peer_data_t *rrp)
{
    kl_uint_t                    n;
    kl_http_upstream_rr_peers_t *peers;

    peers = us->peer.data;
    rrp->peers = peers;
    rrp->current = NULL;

    n = peers->number;

    if (peers->next && peers->next->number > n) {
        n = peers->next->number;
    }

    if (n <= KL_HTTP_UPSTREAM_TRIED_BITS) {
        rrp->data = 0;
        rrp->tried = &rrp->data;

    } else {
        n = (n + KL_HTTP_UPSTREAM_TRIED_BITS - 1) / KL_HTTP_UPSTREAM_TRIED_BITS;

        rrp->tried = kl_pcalloc(r->pool, n * sizeof(uintptr_t));
        if (rrp->tried == NULL) {
            return KL_ERROR;
        }
    }

    pc->get = kl_http_upstream_get_round_robin_peer;
    pc->free = kl_http_upstream_free_round_robin_peer;
    pc->data = rrp;
    pc->tries = peers->tries + (peers->next ? peers->next->tries : 0);

    return KL_OK;
}


kl_int_t
kl_http_upstream_get_round_robin_peer(kl_peer_connection_t *pc, void *data)
{
    kl_int_t                         rc;
    kl_shmtx_t                      *mutex;
    kl_http_upstream_rr_peer_data_t *rrp;

    rrp = data;
    mutex = rrp->peers->mutex;

    kl_http_upstream_rr_lock(mutex);
    rc = kl_http_upstream_get_round_robin_peer_locked(pc, data);
    kl_http_upstream_rr_unlock(mutex);

    return rc;
}


kl_int_t
kl_http_upstream_get_round_robin_peer_locked(kl_peer_connection_t *pc,
                                             void                 *data)
{
    kl_uint_t                        i, n;
    kl_int_t                         rc;
    kl_http_upstream_rr_peer_t      *peer;
    kl_http_upstream_rr_peers_t     *peers;
    kl_http_upstream_rr_peer_data_t *rrp;

    rrp = data;
    pc->cached = 0;
    pc->connection = NULL;

    peers = rrp->peers;

    if (peers->single) {
        peer = peers->peer;

        if (peer->down || (peer->max_conns && peer->conns >= peer->max_conns)) {
            goto failed;
        }

        kl_http_upstream_rr_take(pc, rrp, peer, 0, kl_loop.clock.msec);

        return KL_OK;
    }

    peer = kl_http_upstream_get_peer(rrp);

    if (peer == NULL) {
        goto failed;
    }

    pc->sockaddr = peer->sockaddr;
    pc->socklen = peer->socklen;
    pc->name = &peer->name;
    pc->server = &peer->server;
    pc->ssl_session = &peer->ssl_session;
    peer->conns++;

    return KL_OK;

failed:

    if (peers->next) {
        rrp->peers = peers->next;

        n = (rrp->peers->number + KL_HTTP_UPSTREAM_TRIED_BITS - 1)
            / KL_HTTP_UPSTREAM_TRIED_BITS;

        for (i = 0; i < n; i++) {
            rrp->tried[i] = 0;
        }

        rc = kl_http_upstream_get_round_robin_peer_locked(pc, rrp);

        if (rc != KL_BUSY) {
            return rc;
        }
    }

    pc->name = peers->name;

    return KL_BUSY;
}


kl_uint_t
kl_http_upstream_rr_usable(kl_http_upstream_rr_peer_data_t *rrp,
                           kl_http_upstream_rr_peer_t *peer, kl_uint_t i,
                           kl_msec_t now)
{
    if (rrp->tried[i / KL_HTTP_UPSTREAM_TRIED_BITS]
        & ((uintptr_t) 1 << i % KL_HTTP_UPSTREAM_TRIED_BITS))
    {
        return 0;
    }

    if (peer->down) {
        return 0;
    }

    if (peer->max_fails && peer->fails >= peer->max_fails
        && kl_http_upstream_rr_since(now, peer->checked) <= peer->fail_timeout)
    {
        return 0;
    }

    if (peer->max_conns && peer->conns >= peer->max_conns) {
        return 0;
    }

    return 1;
}


void
kl_http_upstream_rr_take(kl_peer_connection_t            *pc,
                         kl_http_upstream_rr_peer_data_t *rrp,
                         kl_http_upstream_rr_peer_t *peer, kl_uint_t i,
                         kl_msec_t now)
{
    rrp->current = peer;
    rrp->tried[i / KL_HTTP_UPSTREAM_TRIED_BITS] |=
        (uintptr_t) 1 << i % KL_HTTP_UPSTREAM_TRIED_BITS;

    /* Past fail_timeout a failed peer gets this one request as a probe. */
    if (kl_http_upstream_rr_since(now, peer->checked) > peer->fail_timeout) {
        peer->checked = now;
    }

    pc->sockaddr = peer->sockaddr;
    pc->socklen = peer->socklen;
    pc->name = &peer->name;
    pc->server = &peer->server;
    pc->ssl_session = &peer->ssl_session;
    peer->conns++;
}


/*
 * Smooth weighted round robin: each usable peer gains its effective
 * weight, the highest is chosen and loses the total. Weights 5, 1, 1
 * give a a b a c a a, spread rather than a a a a a b c.
 */
static kl_http_upstream_rr_peer_t *
kl_http_upstream_get_peer(kl_http_upstream_rr_peer_data_t *rrp)
{
    kl_int_t                    total;
    kl_uint_t                   i, p;
    kl_msec_t                   now;
    kl_http_upstream_rr_peer_t *peer, *best;

    now = kl_loop.clock.msec;
    best = NULL;
    total = 0;
    p = 0;

    for (peer = rrp->peers->peer, i = 0; peer; peer = peer->next, i++) {
        if (!kl_http_upstream_rr_usable(rrp, peer, i, now)) {
            continue;
        }

        peer->current_weight += peer->effective_weight;
        total += peer->effective_weight;

        if (peer->effective_weight < peer->weight) {
            peer->effective_weight++;
        }

        if (best == NULL || peer->current_weight > best->current_weight) {
            best = peer;
            p = i;
        }
    }

    if (best == NULL) {
        return NULL;
    }

    rrp->current = best;
    rrp->tried[p / KL_HTTP_UPSTREAM_TRIED_BITS] |=
        (uintptr_t) 1 << p % KL_HTTP_UPSTREAM_TRIED_BITS;

    best->current_weight -= total;

    if (kl_http_upstream_rr_since(now, best->checked) > best->fail_timeout) {
        best->checked = now;
    }

    return best;
}


void
kl_http_upstream_free_round_robin_peer(kl_peer_connection_t *pc, void *data,
                                       kl_uint_t state)
{
    kl_msec_t                        now;
    kl_shmtx_t                      *mutex;
    kl_http_upstream_rr_peer_t      *peer;
    kl_http_upstream_rr_peer_data_t *rrp;

    rrp = data;
    peer = rrp->current;

    if (peer == NULL) {
        pc->tries = 0;
        return;
    }

    rrp->current = NULL;
    mutex = rrp->peers->mutex;

    kl_http_upstream_rr_lock(mutex);

    if (rrp->peers->single) {
        peer->conns--;
        kl_http_upstream_rr_unlock(mutex);
        pc->tries = 0;
        return;
    }

    if (state & KL_PEER_FAILED) {
        now = kl_loop.clock.msec;

        peer->fails++;
        peer->accessed = now;
        peer->checked = now;

        if (peer->max_fails) {
            peer->effective_weight -= peer->weight / (kl_int_t) peer->max_fails;

            if (peer->fails >= peer->max_fails) {
                kl_log_error(KL_LOG_WARN, pc->log, 0,
                             "upstream server temporarily disabled");
            }
        }

        if (peer->effective_weight < 0) {
            peer->effective_weight = 0;
        }

    } else if (peer->accessed < peer->checked) {
        /* a probe after fail_timeout came back: the peer is live again */
        peer->fails = 0;
    }

    peer->conns--;

    kl_http_upstream_rr_unlock(mutex);

    if (pc->tries) {
        pc->tries--;
    }
}


/* The table of zlib and nginx (polynomial 0xedb88320), built once. */
uint32_t
kl_http_upstream_crc32_update(uint32_t crc, u_char *p, size_t len)
{
    size_t          i;
    uint32_t        c, k;
    static uint32_t table[256];
    static int      built;

    if (!built) {
        for (i = 0; i < 256; i++) {
            c = (uint32_t) i;

            for (k = 0; k < 8; k++) {
                c = (c & 1) ? 0xedb88320 ^ (c >> 1) : c >> 1;
            }

            table[i] = c;
        }

        built = 1;
    }

    for (i = 0; i < len; i++) {
        crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
    }

    return crc;
}
