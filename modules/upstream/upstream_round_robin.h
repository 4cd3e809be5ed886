/* upstream_round_robin.h: the peer tables of a group and the round robin state the other balancers build on. */

#ifndef KL_HTTP_UPSTREAM_ROUND_ROBIN_H
#define KL_HTTP_UPSTREAM_ROUND_ROBIN_H

#include "upstream_peer.h"

typedef struct kl_http_upstream_rr_peer_s  kl_http_upstream_rr_peer_t;
typedef struct kl_http_upstream_rr_peers_s kl_http_upstream_rr_peers_t;

/*
 * One address of a server line. Times are the monotonic clock in ms
 * (kl_loop.clock.msec): fails count toward max_fails; checked is when the
 * peer was last failed or last let through as a probe; accessed when it
 * last failed.
 */
struct kl_http_upstream_rr_peer_s {
    struct sockaddr *sockaddr;
    socklen_t        socklen;
    kl_str_t         name;   /* "127.0.0.1:8081" */
    kl_str_t         server; /* the server line's address, as written */

    kl_int_t current_weight;
    kl_int_t effective_weight;
    kl_int_t weight;

    kl_uint_t conns;
    kl_uint_t max_conns;

    kl_uint_t fails;
    kl_msec_t accessed;
    kl_msec_t checked;

    kl_uint_t max_fails;
    kl_msec_t fail_timeout;

    unsigned down:1;

    /* TLS: the session of the last connection to this peer, to resume
     * (SSL_SESSION *; pc->ssl_session points here) */
    void *ssl_session;

    kl_http_upstream_rr_peer_t *next;
};

/* The primary peers of a group; next: its backup peers, if any. */
struct kl_http_upstream_rr_peers_s {
    kl_uint_t number;
    kl_uint_t total_weight;
    kl_uint_t tries; /* peers not down */

    unsigned single:1; /* one peer and no backup: no choice to make */
    unsigned weighted:1;

    kl_str_t *name; /* the group's */

    /* "zone": the tables are in that shared zone and every worker's get
     * and free hold its lock; NULL: the worker's own tables, no lock */
    kl_shmtx_t *mutex;

    kl_http_upstream_rr_peers_t *next;
    kl_http_upstream_rr_peer_t  *peer;
};

/* A request's state: which list is in use, the peer chosen, those tried. */
typedef struct {
    kl_http_upstream_rr_peers_t *peers;
    kl_http_upstream_rr_peer_t  *current;
    uintptr_t                   *tried;
    uintptr_t                    data;
} kl_http_upstream_rr_peer_data_t;

#define KL_HTTP_UPSTREAM_TRIED_BITS (8 * sizeof(uintptr_t))

/* Set up rrp (a balancer's own state may embed it) for pc. */
kl_int_t kl_http_upstream_rr_peer_init(kl_http_request_t               *r,
                                       kl_http_upstream_srv_conf_t     *us,
                                       kl_peer_connection_t            *pc,
                                       kl_http_upstream_rr_peer_data_t *rrp);

/* The round robin get and free: data is a kl_http_upstream_rr_peer_data_t. */
kl_int_t kl_http_upstream_get_round_robin_peer(kl_peer_connection_t *pc,
                                               void                 *data);

/* The same get for a balancer's get that holds the group's lock already. */
kl_int_t kl_http_upstream_get_round_robin_peer_locked(kl_peer_connection_t *pc,
                                                      void *data);

/* Take and release the lock of a group in a zone (none: no-ops). */
static inline void
kl_http_upstream_rr_lock(kl_shmtx_t *mutex)
{
    if (mutex) {
        kl_shmtx_lock(mutex);
    }
}

static inline void
kl_http_upstream_rr_unlock(kl_shmtx_t *mutex)
{
    if (mutex) {
        kl_shmtx_unlock(mutex);
    }
}

/*
 * ms from then to now, 0 if then is later: in a zone, then may come from
 * another worker, whose clock was read a little after this one's.
 */
static inline kl_msec_t
kl_http_upstream_rr_since(kl_msec_t now, kl_msec_t then)
{
    return ((kl_msec_int_t) (now - then) > 0) ? now - then : 0;
}
void kl_http_upstream_free_round_robin_peer(kl_peer_connection_t *pc,
                                            void *data, kl_uint_t state);

/* May peer be chosen now (not tried by this request, down, failed, full)? */
kl_uint_t kl_http_upstream_rr_usable(kl_http_upstream_rr_peer_data_t *rrp,
                                     kl_http_upstream_rr_peer_t      *peer,
                                     kl_uint_t i, kl_msec_t now);

/* Hand peer (the i-th of the list in use) to pc: address, conns, tried. */
void kl_http_upstream_rr_take(kl_peer_connection_t            *pc,
                              kl_http_upstream_rr_peer_data_t *rrp,
                              kl_http_upstream_rr_peer_t *peer, kl_uint_t i,
                              kl_msec_t now);

/* CRC-32 (zlib's, nginx's ngx_crc32): running form, then final. */
uint32_t kl_http_upstream_crc32_update(uint32_t crc, u_char *p, size_t len);
#define kl_http_upstream_crc32_init()     0xffffffff
#define kl_http_upstream_crc32_final(crc) ((crc) ^ 0xffffffff)

#endif /* KL_HTTP_UPSTREAM_ROUND_ROBIN_H */
