/* upstream_peer.h: upstream groups (upstream { server ...; }) and choosing a peer for each connection to them. */

/*
 * The contract between the upstream core (upstream.c, proxy, fastcgi:
 * they open, use and release connections to a peer) and the balancers
 * (round robin, least_conn, ip_hash, hash, keepalive: they say which
 * peer, and may hand back a cached connection). It is nginx's: a
 * kl_peer_connection_t (core/event_connect.h, as nginx's
 * ngx_event_connect.h) carries get/free callbacks that the balancer of
 * the request's group set up in its per-request init.
 *
 * A group is an "upstream NAME { }" block, or made implicitly by
 * proxy_pass http://host:port (one server: every address the name
 * resolves to). Groups are per worker: fails, conns and weights are not
 * shared between workers unless the group has a "zone"; the keepalive
 * cache never is.
 */

#ifndef KL_HTTP_UPSTREAM_PEER_H
#define KL_HTTP_UPSTREAM_PEER_H

#include "kl_http.h"
#include "event_connect.h"

typedef struct kl_http_upstream_srv_conf_s kl_http_upstream_srv_conf_t;

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
/* kl_http_upstream_add: a URL with no port means 443 (https://), not 80. */
#define KL_HTTP_UPSTREAM_PORT_443 0x0400

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

    /* "zone NAME [SIZE]": the peers' tables are copied there, shared by
     * the workers (upstream_zone.c); NULL: each worker has its own */
    kl_shm_zone_t *shm_zone;

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

/*
 * The group proxy_pass with variables names at run time: host as a block
 * name (no port) or an implicit group of that host and port; NULL if none.
 * The engine finds groups through this, not through the module's conf.
 */
kl_http_upstream_srv_conf_t *kl_http_upstream_find_group(kl_http_request_t *r,
                                                         kl_str_t *host,
                                                         in_port_t port,
                                                         kl_uint_t no_port);

/* Round robin (smooth weighted, backups, max_fails/fail_timeout,
 * max_conns): the default, and what the other balancers fall back on. */
kl_int_t kl_http_upstream_init_round_robin(kl_conf_t                   *cf,
                                           kl_http_upstream_srv_conf_t *us);
kl_int_t kl_http_upstream_init_round_robin_peer(kl_http_request_t           *r,
                                                kl_http_upstream_srv_conf_t *us,
                                                kl_peer_connection_t *pc);

#endif /* KL_HTTP_UPSTREAM_PEER_H */
