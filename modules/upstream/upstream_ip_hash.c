/*
 * upstream_ip_hash.c: "ip_hash;": a client sticks to one peer, chosen by
 * the first three octets of its IPv4 address or its whole IPv6 address
 * (nginx's hash, so a group keeps the mapping nginx gives). A peer that
 * cannot be used moves the hash on; after 20 tries, round robin.
 */

#include "kl_http.h"
#include "upstream_round_robin.h"


typedef struct {
    kl_http_upstream_rr_peer_data_t rrp; /* first: round robin's data */

    kl_uint_t hash;
    u_char    addrlen;
    u_char   *addr;
    u_char    tries;
} kl_http_upstream_ip_hash_peer_data_t;


static char    *kl_http_upstream_ip_hash(kl_conf_t *cf, kl_command_t *cmd,
                                         void *conf);
static kl_int_t kl_http_upstream_init_ip_hash(kl_conf_t                   *cf,
                                              kl_http_upstream_srv_conf_t *us);
static kl_int_t
                kl_http_upstream_init_ip_hash_peer(kl_http_request_t           *r,
                                                   kl_http_upstream_srv_conf_t *us,
                                                   kl_peer_connection_t        *pc);
static kl_int_t kl_http_upstream_get_ip_hash_peer(kl_peer_connection_t *pc,
                                                  void                 *data);
static kl_int_t
kl_http_upstream_get_ip_hash_peer_locked(kl_peer_connection_t *pc, void *data);


static u_char kl_http_upstream_ip_hash_pseudo_addr[3];


static kl_command_t kl_http_upstream_ip_hash_commands[] = {
    { kl_string("ip_hash"), KL_HTTP_UPS_CONF | KL_CONF_NOARGS,
      kl_http_upstream_ip_hash, 0, 0, NULL },

    kl_null_command
};


static kl_http_module_t kl_http_upstream_ip_hash_module_ctx = { 0 };


kl_module_t kl_http_upstream_ip_hash_module = {
    .name = "kl_http_upstream_ip_hash_module",
    .ctx = &kl_http_upstream_ip_hash_module_ctx,
    .commands = kl_http_upstream_ip_hash_commands,
    .type = KL_HTTP_MODULE,
};


static char *
kl_http_upstream_ip_hash(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    (void) cmd;
    (void) conf;

    (void) kl_http_upstream_set_balancer(
        cf, kl_http_upstream_init_ip_hash,
        KL_HTTP_UPSTREAM_CREATE | KL_HTTP_UPSTREAM_WEIGHT
            | KL_HTTP_UPSTREAM_MAX_CONNS | KL_HTTP_UPSTREAM_MAX_FAILS
            | KL_HTTP_UPSTREAM_FAIL_TIMEOUT | KL_HTTP_UPSTREAM_DOWN);

    return KL_CONF_OK;
}


static kl_int_t
kl_http_upstream_init_ip_hash(kl_conf_t *cf, kl_http_upstream_srv_conf_t *us)
{
    if (kl_http_upstream_init_round_robin(cf, us) != KL_OK) {
        return KL_ERROR;
    }

    us->peer.init = kl_http_upstream_init_ip_hash_peer;

    return KL_OK;
}


static kl_int_t
kl_http_upstream_init_ip_hash_peer(kl_http_request_t           *r,
                                   kl_http_upstream_srv_conf_t *us,
                                   kl_peer_connection_t        *pc)
{
    struct sockaddr                      *sa;
    kl_http_upstream_ip_hash_peer_data_t *iphp;

    iphp = kl_pcalloc(r->pool, sizeof(kl_http_upstream_ip_hash_peer_data_t));
    if (iphp == NULL) {
        return KL_ERROR;
    }

    if (kl_http_upstream_rr_peer_init(r, us, pc, &iphp->rrp) != KL_OK) {
        return KL_ERROR;
    }

    pc->get = kl_http_upstream_get_ip_hash_peer;
    pc->data = iphp;

    sa = r->connection->sockaddr;

    if (sa && sa->sa_family == AF_INET) {
        iphp->addr = (u_char *) &((struct sockaddr_in *) sa)->sin_addr.s_addr;
        iphp->addrlen = 3;

    } else if (sa && sa->sa_family == AF_INET6) {
        iphp->addr = ((struct sockaddr_in6 *) sa)->sin6_addr.s6_addr;
        iphp->addrlen = 16;

    } else {
        iphp->addr = kl_http_upstream_ip_hash_pseudo_addr;
        iphp->addrlen = 3;
    }

    iphp->hash = 89;
    iphp->tries = 0;

    return KL_OK;
}


/* The balancer's choice under the group's lock (a zone's; none: none). */
static kl_int_t
kl_http_upstream_get_ip_hash_peer(kl_peer_connection_t *pc, void *data)
{
    kl_int_t    rc;
    kl_shmtx_t *mutex;

    mutex = ((kl_http_upstream_ip_hash_peer_data_t *) data)->rrp.peers->mutex;

    kl_http_upstream_rr_lock(mutex);
    rc = kl_http_upstream_get_ip_hash_peer_locked(pc, data);
    kl_http_upstream_rr_unlock(mutex);

    return rc;
}


static kl_int_t
kl_http_upstream_get_ip_hash_peer_locked(kl_peer_connection_t *pc, void *data)
{
    kl_uint_t                             i, p, w, hash;
    kl_msec_t                             now;
    kl_http_upstream_rr_peer_t           *peer;
    kl_http_upstream_ip_hash_peer_data_t *iphp;

    iphp = data;

    if (iphp->tries > 20 || iphp->rrp.peers->single) {
        return kl_http_upstream_get_round_robin_peer_locked(pc, &iphp->rrp);
    }

    pc->cached = 0;
    pc->connection = NULL;

    now = kl_loop.clock.msec;
    hash = iphp->hash;

    for (;;) {
        for (i = 0; i < (kl_uint_t) iphp->addrlen; i++) {
            hash = (hash * 113 + iphp->addr[i]) % 6271;
        }

        w = hash % iphp->rrp.peers->total_weight;
        peer = iphp->rrp.peers->peer;
        p = 0;

        while (w >= (kl_uint_t) peer->weight) {
            w -= (kl_uint_t) peer->weight;
            peer = peer->next;
            p++;
        }

        if (kl_http_upstream_rr_usable(&iphp->rrp, peer, p, now)) {
            break;
        }

        if (++iphp->tries > 20) {
            return kl_http_upstream_get_round_robin_peer_locked(pc, &iphp->rrp);
        }
    }

    kl_http_upstream_rr_take(pc, &iphp->rrp, peer, p, now);
    iphp->hash = hash;

    return KL_OK;
}
