/*
 * upstream_least_conn.c: "least_conn;": the peer with the fewest active
 * connections for its weight, round robin among equals (nginx's rule).
 * The counts are this worker's own connections.
 */

#include "kl_http.h"
#include "upstream_round_robin.h"


static char *kl_http_upstream_least_conn(kl_conf_t *cf, kl_command_t *cmd,
                                         void *conf);
static kl_int_t
kl_http_upstream_init_least_conn(kl_conf_t                   *cf,
                                 kl_http_upstream_srv_conf_t *us);
static kl_int_t
                kl_http_upstream_init_least_conn_peer(kl_http_request_t           *r,
                                                      kl_http_upstream_srv_conf_t *us,
                                                      kl_peer_connection_t        *pc);
static kl_int_t kl_http_upstream_get_least_conn_peer(kl_peer_connection_t *pc,
                                                     void *data);
static kl_int_t
kl_http_upstream_get_least_conn_peer_locked(kl_peer_connection_t *pc,
                                            void                 *data);
static kl_http_upstream_rr_peer_t *
kl_http_upstream_least_conn_pick(kl_http_upstream_rr_peer_data_t *rrp,
                                 kl_msec_t now, kl_uint_t *pi);


static kl_command_t kl_http_upstream_least_conn_commands[] = {
    { kl_string("least_conn"), KL_HTTP_UPS_CONF | KL_CONF_NOARGS,
      kl_http_upstream_least_conn, 0, 0, NULL },

    kl_null_command
};


static kl_http_module_t kl_http_upstream_least_conn_module_ctx = { 0 };


kl_module_t kl_http_upstream_least_conn_module = {
    .name = "kl_http_upstream_least_conn_module",
    .ctx = &kl_http_upstream_least_conn_module_ctx,
    .commands = kl_http_upstream_least_conn_commands,
    .type = KL_HTTP_MODULE,
};


static char *
kl_http_upstream_least_conn(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    (void) cmd;
    (void) conf;

    (void) kl_http_upstream_set_balancer(
        cf, kl_http_upstream_init_least_conn,
        KL_HTTP_UPSTREAM_CREATE | KL_HTTP_UPSTREAM_WEIGHT
            | KL_HTTP_UPSTREAM_MAX_CONNS | KL_HTTP_UPSTREAM_MAX_FAILS
            | KL_HTTP_UPSTREAM_FAIL_TIMEOUT | KL_HTTP_UPSTREAM_DOWN
            | KL_HTTP_UPSTREAM_BACKUP);

    return KL_CONF_OK;
}


static kl_int_t
kl_http_upstream_init_least_conn(kl_conf_t *cf, kl_http_upstream_srv_conf_t *us)
{
    if (kl_http_upstream_init_round_robin(cf, us) != KL_OK) {
        return KL_ERROR;
    }

    us->peer.init = kl_http_upstream_init_least_conn_peer;

    return KL_OK;
}


static kl_int_t
kl_http_upstream_init_least_conn_peer(kl_http_request_t           *r,
                                      kl_http_upstream_srv_conf_t *us,
                                      kl_peer_connection_t        *pc)
{
    if (kl_http_upstream_init_round_robin_peer(r, us, pc) != KL_OK) {
        return KL_ERROR;
    }

    pc->get = kl_http_upstream_get_least_conn_peer;

    return KL_OK;
}


/* The balancer's choice under the group's lock (a zone's; none: none). */
static kl_int_t
kl_http_upstream_get_least_conn_peer(kl_peer_connection_t *pc, void *data)
{
    kl_int_t    rc;
    kl_shmtx_t *mutex;

    mutex = ((kl_http_upstream_rr_peer_data_t *) data)->peers->mutex;

    kl_http_upstream_rr_lock(mutex);
    rc = kl_http_upstream_get_least_conn_peer_locked(pc, data);
    kl_http_upstream_rr_unlock(mutex);

    return rc;
}


static kl_int_t
kl_http_upstream_get_least_conn_peer_locked(kl_peer_connection_t *pc,
                                            void                 *data)
{
    kl_int_t                         rc;
    kl_uint_t                        i, n, p;
    kl_msec_t                        now;
    kl_http_upstream_rr_peer_t      *best;
    kl_http_upstream_rr_peers_t     *peers;
    kl_http_upstream_rr_peer_data_t *rrp;

    rrp = data;
    pc->cached = 0;
    pc->connection = NULL;

    now = kl_loop.clock.msec;
    peers = rrp->peers;

    best = kl_http_upstream_least_conn_pick(rrp, now, &p);

    if (best) {
        kl_http_upstream_rr_take(pc, rrp, best, p, now);
        return KL_OK;
    }

    if (peers->next) {
        rrp->peers = peers->next;

        n = (rrp->peers->number + KL_HTTP_UPSTREAM_TRIED_BITS - 1)
            / KL_HTTP_UPSTREAM_TRIED_BITS;

        for (i = 0; i < n; i++) {
            rrp->tried[i] = 0;
        }

        rc = kl_http_upstream_get_least_conn_peer_locked(pc, rrp);

        if (rc != KL_BUSY) {
            return rc;
        }
    }

    pc->name = peers->name;

    return KL_BUSY;
}


/*
 * conns/weight compared as conns * other weight, no division; ties go
 * to the smooth weighted round robin among the tied peers.
 */
static kl_http_upstream_rr_peer_t *
kl_http_upstream_least_conn_pick(kl_http_upstream_rr_peer_data_t *rrp,
                                 kl_msec_t now, kl_uint_t *pi)
{
    kl_int_t                    total;
    kl_uint_t                   i, p, many;
    kl_http_upstream_rr_peer_t *peer, *best;

    best = NULL;
    many = 0;
    p = 0;

    for (peer = rrp->peers->peer, i = 0; peer; peer = peer->next, i++) {
        if (!kl_http_upstream_rr_usable(rrp, peer, i, now)) {
            continue;
        }

        if (best == NULL
            || peer->conns * (kl_uint_t) best->weight
                   < best->conns * (kl_uint_t) peer->weight)
        {
            best = peer;
            many = 0;
            p = i;

        } else if (peer->conns * (kl_uint_t) best->weight
                   == best->conns * (kl_uint_t) peer->weight)
        {
            many = 1;
        }
    }

    if (best == NULL) {
        return NULL;
    }

    if (many) {
        total = 0;

        for (peer = best, i = p; peer; peer = peer->next, i++) {
            if (!kl_http_upstream_rr_usable(rrp, peer, i, now)) {
                continue;
            }

            if (peer->conns * (kl_uint_t) best->weight
                != best->conns * (kl_uint_t) peer->weight)
            {
                continue;
            }

            peer->current_weight += peer->effective_weight;
            total += peer->effective_weight;

            if (peer->effective_weight < peer->weight) {
                peer->effective_weight++;
            }

            if (peer->current_weight > best->current_weight) {
                best = peer;
                p = i;
            }
        }

        best->current_weight -= total;
    }

    *pi = p;

    return best;
}
