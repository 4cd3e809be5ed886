/* resolver.h: the asynchronous DNS client of a worker: names to addresses (A, AAAA, SRV), cached. */

/*
 * nginx's resolver: a configuration names the servers ("resolver"
 * directive); each worker asks them over UDP on its own event loop
 * (TCP when an answer is truncated), shares a query among the callers
 * waiting for the same name, and keeps answers until their TTL (or
 * valid=) runs out. A caller starts a ctx, sets its name, handler and
 * timeout, and calls kl_resolve_name; the handler runs once (maybe before
 * kl_resolve_name returns, from the cache) with ctx->state 0 and the
 * addresses, or an rcode (KL_RESOLVER_NXDOMAIN...) or ETIMEDOUT; then,
 * or to give up earlier, the caller calls kl_resolve_name_done.
 */

#ifndef KL_RESOLVER_H
#define KL_RESOLVER_H

#include "kl_core.h"
#include "resolver_parse.h"

typedef struct kl_resolver_s      kl_resolver_t;
typedef struct kl_resolver_ctx_s  kl_resolver_ctx_t;
typedef struct kl_resolver_node_s kl_resolver_node_t;

typedef void (*kl_resolver_handler_pt)(kl_resolver_ctx_t *ctx);

/* A name server: its address, and this worker's UDP socket to it. */
typedef struct {
    kl_sockaddr_t    sockaddr;
    socklen_t        socklen;
    kl_str_t         name; /* "127.0.0.1:53", for logs */
    kl_connection_t *udp;
    kl_resolver_t   *resolver;
} kl_resolver_server_t;

struct kl_resolver_s {
    kl_resolver_server_t *servers;
    kl_uint_t             nservers;
    kl_uint_t             last; /* round robin: the next to ask */

    time_t    valid; /* seconds answers are kept; 0: their TTL */
    kl_log_t *log;

    kl_queue_t nodes; /* this worker's answers and queries in flight */
    kl_uint_t  nnodes;

    unsigned ipv4:1;
    unsigned ipv6:1;
};

/* One address of a name; the port is the caller's to set. */
typedef struct {
    kl_sockaddr_t sockaddr;
    socklen_t     socklen;
} kl_resolver_addr_t;

/* One SRV record of a service, with its target's addresses. */
typedef struct {
    kl_str_t            name; /* the target */
    in_port_t           port;
    kl_uint_t           priority;
    kl_uint_t           weight;
    kl_int_t            state; /* of resolving the target */
    kl_resolver_addr_t *addrs;
    kl_uint_t           naddrs;
} kl_resolver_srv_name_t;

struct kl_resolver_ctx_s {
    kl_resolver_t         *resolver;
    kl_pool_t             *pool; /* results are allocated here */
    kl_str_t               name;
    kl_uint_t              service; /* name is an SRV name */
    kl_msec_t              timeout;
    kl_resolver_handler_pt handler;
    void                  *data;
    kl_log_t              *log;

    /* The outcome: state 0 and addrs (or srvs), or a code. */
    kl_int_t                state;
    kl_resolver_addr_t     *addrs;
    kl_uint_t               naddrs;
    kl_resolver_srv_name_t *srvs;
    kl_uint_t               nsrvs;
    time_t                  valid; /* when the answer goes stale */

    /* The resolver's own. */
    kl_resolver_node_t *node;
    kl_queue_t          queue; /* among the node's waiters */
    kl_event_t          timer;
    kl_resolver_ctx_t  *parent; /* an SRV ctx for its targets */
    kl_resolver_ctx_t  *children;
    kl_uint_t           waiting; /* children not done yet */
    unsigned            busy:1;  /* kl_resolve_name called, not done */
    /* A quitting worker does not wait for it (re-resolving a group): the
     * query is dropped and the handler never runs. */
    unsigned background:1;
    unsigned done:1;
};

/* One question in flight: A, AAAA or SRV, following CNAMEs. */
typedef struct {
    kl_uint_t             type;
    uint16_t              id;
    kl_int_t              state; /* -1: waiting for the answer */
    size_t                qlen;
    u_char                query[KL_RESOLVER_QUERY_LEN];
    size_t                name_len; /* the name asked now (a CNAME's end) */
    u_char                name[KL_RESOLVER_NAME_LEN + 1];
    kl_uint_t             hops;
    uint32_t              ttl;
    kl_resolver_rr_t     *rrs; /* heap, once answered */
    kl_uint_t             nrrs;
    kl_resolver_node_t   *node;
    kl_uint_t             index;  /* in node->q */
    kl_resolver_server_t *server; /* TCP: whom it is asked */
    kl_connection_t      *tcp;    /* asked again over TCP: the exchange */
    u_char               *tcp_buf;
    size_t                tcp_len; /* bytes read, or the query sent */
    size_t                tcp_sent;
} kl_resolver_query_t;

/* A name: a query in flight with its waiters, or a cached answer. */
struct kl_resolver_node_s {
    kl_queue_t          queue; /* in resolver->nodes */
    kl_resolver_t      *resolver;
    size_t              name_len;
    u_char              name[KL_RESOLVER_NAME_LEN + 1];
    kl_uint_t           service;
    kl_resolver_query_t q[2]; /* A then AAAA, or SRV */
    kl_uint_t           nq;
    kl_queue_t          waiters; /* kl_resolver_ctx_t */
    kl_event_t          resend;
    kl_uint_t           server; /* asked last */
    time_t              expire; /* answered: kept until then */
    kl_int_t            state;
    kl_resolver_rr_t   *rrs; /* heap: the answer */
    kl_uint_t           nrrs;
    unsigned            in_flight:1;
    unsigned            locked:1; /* its waiters are being told */
};

/*
 * A resolver from a "resolver" directive's n arguments (value[0] being
 * the directive's name): addresses or names with an optional port (53),
 * valid=TIME, ipv4=on|off, ipv6=on|off. NULL on error, logged in nginx's
 * words; status_zone= is refused, kiln keeping no resolver statistics.
 */
kl_resolver_t *kl_resolver_create(kl_conf_t *cf, kl_str_t *value, kl_uint_t n);

/* A ctx in pool for resolver (zeroed; timeout 30 s); NULL on failure. */
kl_resolver_ctx_t *kl_resolve_start(kl_resolver_t *r, kl_pool_t *pool);

/*
 * Resolve ctx->name (ctx->service: its SRV records, then their targets).
 * KL_OK: the handler will run, maybe already did. KL_ERROR: out of
 * memory or an invalid name (nothing will run).
 */
kl_int_t kl_resolve_name(kl_resolver_ctx_t *ctx);

/* Stop waiting (idempotent): no handler runs for ctx after this. */
void kl_resolve_name_done(kl_resolver_ctx_t *ctx);

/*
 * resolver_io.c: the sockets. Send query q (len bytes) for node to
 * server (UDP), or over TCP; received answers go to
 * kl_resolver_process_answer. Close everything idle at exit.
 */
kl_int_t kl_resolver_udp_send(kl_resolver_server_t *s, u_char *q, size_t len);
kl_int_t kl_resolver_tcp_send(kl_resolver_server_t *s, kl_resolver_node_t *rn,
                              kl_uint_t qi);
void     kl_resolver_tcp_close(kl_resolver_node_t *rn, kl_uint_t qi);
void     kl_resolver_close_idle(kl_resolver_t *r);
void kl_resolver_process_answer(kl_resolver_server_t *s, u_char *p, size_t len,
                                kl_resolver_node_t *tcp_rn, kl_uint_t tcp_qi);

/* resolver.c, for resolver_io.c: forget a node (its sockets, timers). */
void kl_resolver_node_free(kl_resolver_node_t *rn);

#endif /* KL_RESOLVER_H */
