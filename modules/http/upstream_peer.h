/* upstream_peer.h: upstream groups (upstream { server ...; }) and choosing a peer for each connection to them. */

/*
 * The contract between the upstream core (upstream.c, proxy, fastcgi:
 * they open, use and release connections to a peer) and the balancers
 * (round robin, least_conn, ip_hash, hash, keepalive: they say which
 * peer, and may hand back a cached connection). It is nginx's: a
 * kl_peer_connection_t carries get/free callbacks that the balancer of
 * the request's group set up in its per-request init.
 *
 * A group is an "upstream NAME { }" block, or made implicitly by
 * proxy_pass http://host:port (one server: every address the name
 * resolves to). Groups are per worker: fails, conns and the keepalive
 * cache are not shared between workers (docs say so).
 */

#ifndef KL_HTTP_UPSTREAM_PEER_H
#define KL_HTTP_UPSTREAM_PEER_H

#include "kl_http.h"

typedef struct kl_peer_connection_s        kl_peer_connection_t;
typedef struct kl_http_upstream_srv_conf_s kl_http_upstream_srv_conf_t;

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

    /* proxy_bind: the socket's local address (NULL: the kernel's) */
    struct sockaddr *local;
    socklen_t        local_socklen;

    unsigned cached:1;       /* connection came from the keepalive cache */
    unsigned so_keepalive:1; /* proxy_socket_keepalive: SO_KEEPALIVE */
    unsigned transparent:1;  /* proxy_bind transparent: IP_TRANSPARENT */
};

/* One "server" line of a group, as configured. */
typedef struct {
    kl_str_t       name;  /* as written: "backend1.example.com:8080" */
    kl_sockaddr_t *addrs; /* every address the name resolved to */
    socklen_t     *socklens;
    kl_uint_t      naddrs;

    kl_uint_t weight;       /* 1 */
    kl_uint_t max_fails;    /* 1; 0: never marked failed */
    time_t    fail_timeout; /* 10s */
    kl_uint_t max_conns;    /* 0: no limit */

    unsigned down:1;
    unsigned backup:1;
    /* resolve: addrs follow the name's at run time (upstream_resolve.c) */
    unsigned resolve:1;

    kl_str_t  host;    /* resolve: the name, without the port */
    in_port_t port;    /* resolve: the port (80) */
    kl_str_t  service; /* service=: the SRV name's service part */
} kl_http_upstream_server_t;

/* Which parameters a balancer allows on its group's server lines. */
#define KL_HTTP_UPSTREAM_CREATE       0x0001
#define KL_HTTP_UPSTREAM_WEIGHT       0x0002
#define KL_HTTP_UPSTREAM_MAX_FAILS    0x0004
#define KL_HTTP_UPSTREAM_FAIL_TIMEOUT 0x0008
#define KL_HTTP_UPSTREAM_DOWN         0x0010
#define KL_HTTP_UPSTREAM_BACKUP       0x0020
#define KL_HTTP_UPSTREAM_MAX_CONNS    0x0100
/* The balancer's tables may be rebuilt at run time (server ... resolve). */
#define KL_HTTP_UPSTREAM_MODIFY 0x0200

/* Called once when the configuration is complete: build the peer tables. */
typedef kl_int_t (*kl_http_upstream_init_pt)(kl_conf_t                   *cf,
                                             kl_http_upstream_srv_conf_t *us);

/* Called for each request that uses the group: set up r's pc get/free. */
typedef kl_int_t (*kl_http_upstream_init_peer_pt)(
    kl_http_request_t *r, kl_http_upstream_srv_conf_t *us,
    kl_peer_connection_t *pc);

typedef struct {
    kl_http_upstream_init_pt      init_upstream; /* NULL: round robin */
    kl_http_upstream_init_peer_pt init;
    void                         *data; /* the balancer's tables */
} kl_http_upstream_peer_t;

struct kl_http_upstream_srv_conf_s {
    kl_http_upstream_peer_t peer;
    void                  **srv_conf; /* balancer modules' own confs */

    kl_array_t *servers; /* kl_http_upstream_server_t */

    kl_uint_t flags;     /* KL_HTTP_UPSTREAM_* allowed */
    kl_str_t  host;      /* the group's name, or the host of proxy_pass */
    kl_str_t  file_name; /* where it was defined, for errors */
    kl_uint_t line;
    in_port_t port; /* implicit groups: proxy_pass's port */

    void *resolve; /* servers with "resolve": their run-time state */

    unsigned implicit:1; /* made by proxy_pass, not an upstream block */
    unsigned no_port:1;  /* proxy_pass named no port (port is then 80) */
};

/* kl_http_upstream_module's main conf: every group of the http block. */
typedef struct {
    kl_array_t upstreams; /* kl_http_upstream_srv_conf_t * */
} kl_http_upstream_main_conf_t;

/*
 * The group of the upstream block being read: what a balancer directive
 * (least_conn, hash, keepalive...) sets its init_upstream and flags on.
 */
kl_http_upstream_srv_conf_t *kl_http_upstream_block(kl_conf_t *cf);

/*
 * A balancer directive (least_conn, ip_hash, hash) in the upstream block
 * being read: init builds its tables, flags are the server parameters it
 * allows; nginx's warning when the block had a balancer already.
 */
kl_http_upstream_srv_conf_t *
kl_http_upstream_set_balancer(kl_conf_t *cf, kl_http_upstream_init_pt init,
                              kl_uint_t flags);

/*
 * The group named by url ("backend", or "host:port" for an implicit one),
 * made if new: proxy_pass and fastcgi_pass call it while the
 * configuration is read; a block "upstream backend" defined later in the
 * file fills the same group. flags: the KL_HTTP_UPSTREAM_* the caller
 * needs. NULL on error (logged: 'upstream "x" may not have port 80').
 */
kl_http_upstream_srv_conf_t *kl_http_upstream_add(kl_conf_t *cf, kl_str_t *url,
                                                  kl_uint_t flags);

/* Round robin (smooth weighted, backups, max_fails/fail_timeout,
 * max_conns): the default, and what the other balancers fall back on. */
kl_int_t kl_http_upstream_init_round_robin(kl_conf_t                   *cf,
                                           kl_http_upstream_srv_conf_t *us);
kl_int_t kl_http_upstream_init_round_robin_peer(kl_http_request_t           *r,
                                                kl_http_upstream_srv_conf_t *us,
                                                kl_peer_connection_t *pc);

#endif /* KL_HTTP_UPSTREAM_PEER_H */
