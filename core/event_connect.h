/* event_connect.h: opening a non-blocking connection to a peer chosen by its balancer. */

#ifndef KL_EVENT_CONNECT_H
#define KL_EVENT_CONNECT_H

#include "kl_core.h"

/*
 * A connection to a peer and the balancer that chooses it: core's side of
 * the contract of modules/http/upstream_peer.h (nginx's
 * ngx_peer_connection_t), so that core knows no upstream type.
 */
typedef struct kl_peer_connection_s kl_peer_connection_t;

/* free()'s state: how the connection ended. */
#define KL_PEER_KEEPALIVE 1 /* response read whole, connection reusable */
#define KL_PEER_NEXT      2 /* an answer proxy_next_upstream refuses */
#define KL_PEER_FAILED    4 /* error or timeout: counts toward max_fails */

/*
 * Choose a peer: set pc->sockaddr, socklen, name; KL_OK. KL_DONE when
 * pc->connection is a cached live connection to use at once (keepalive).
 * KL_BUSY when every peer is down, failed or at max_conns (the caller
 * answers 502 and logs "no live upstreams").
 */
typedef kl_int_t (*kl_peer_get_pt)(kl_peer_connection_t *pc, void *data);

/*
 * The connection to the peer chosen by get is over (state: KL_PEER_*,
 * 0 for a plain success). Called once per get, before the next get on a
 * retry. With KL_PEER_KEEPALIVE a keepalive balancer may take
 * pc->connection into its cache and set pc->connection to NULL; else the
 * caller closes pc->connection itself after free returns. The cache
 * counts the responses of a connection in c->requests (for
 * keepalive_requests; the caller leaves it alone) and closes it with
 * kl_close_connection, which frees c->pool: a pool the caller hung on the
 * connection must live as long as the connection, not the request.
 */
typedef void (*kl_peer_free_pt)(kl_peer_connection_t *pc, void *data,
                                kl_uint_t state);

struct kl_peer_connection_s {
    kl_connection_t *connection;

    struct sockaddr *sockaddr;
    socklen_t        socklen;
    kl_str_t        *name;   /* "127.0.0.1:8081": $upstream_addr, logs */
    kl_str_t        *server; /* its server line, as written, or NULL */

    kl_uint_t tries; /* peers that may still be tried; set by init */
    kl_msec_t start_time;

    kl_peer_get_pt  get;
    kl_peer_free_pt free;
    void           *data; /* the balancer's per-request state */

    kl_log_t *log;

    /*
     * TLS to the peer: where the balancer keeps the chosen peer's session
     * to resume (an SSL_SESSION *, owned there), so that the next
     * connection to it resumes; NULL: none is kept (a peer chosen per
     * request). Set by get.
     */
    void **ssl_session;

    /* proxy_bind: the socket's local address (NULL: the kernel's) */
    struct sockaddr *local;
    socklen_t        local_socklen;

    unsigned cached:1;       /* connection came from the keepalive cache */
    unsigned so_keepalive:1; /* proxy_socket_keepalive: SO_KEEPALIVE */
    unsigned transparent:1;  /* proxy_bind transparent: IP_TRANSPARENT */
};

/*
 * Ask pc->get for a peer, then socket (non-blocking, close-on-exec),
 * connect and register the connection with the event loop, as pc's
 * pc->connection (its log is pc->log). Returns KL_OK when connected at
 * once, KL_AGAIN while the connect is in progress (the write event says
 * when it ends), KL_DONE for a cached connection handed back by get (a
 * keepalive balancer), KL_BUSY when get found no peer, KL_DECLINED when
 * this peer failed at once (connect() refused: try the next one, after
 * pc->free), or KL_ERROR (no connection left, a system call failed).
 * A failure of connect() is logged at error level as nginx logs it.
 */
kl_int_t kl_event_connect_peer(kl_peer_connection_t *pc);

#endif /* KL_EVENT_CONNECT_H */
