/*
 * test_upstream_balancers.c: upstream groups built from a config text and
 * their balancers (round robin, least_conn, ip_hash, hash, keepalive),
 * driven through get/free as the upstream core calls them. The exact
 * choices expected were taken from nginx 1.22 proxying to three loopback
 * servers with the same groups.
 */

#include "kl_test_http.h"
#include "upstream_peer.h"


#define KL_TEST_CONF(upstream)                                                 \
    "error_log logs/error.log info;\n"                                         \
    "events { }\n"                                                             \
    "http {\n"                                                                 \
    "    access_log off;\n"                                                    \
    "    upstream b {\n" upstream "\n"                                         \
    "    }\n"                                                                  \
    "    server {\n"                                                           \
    "        listen 127.0.0.1:1;\n"                                            \
    "    }\n"                                                                  \
    "}\n"

#define KL_TEST_THREE                                                          \
    "server 127.0.0.1:27081; server 127.0.0.2:27082; server 127.0.0.3:27083;"


static kl_test_http_t kl_t;


static void
kl_test_fini(void)
{
    kl_test_http_clean(&kl_t);
}


TestSuite(upstream, .fini = kl_test_fini);


/* The group "b" of the cycle, with a request to use it. */
static kl_http_upstream_srv_conf_t *
kl_test_group(const char *upstream_text)
{
    kl_uint_t                     i, ci;
    kl_http_conf_ctx_t           *ctx;
    kl_http_upstream_main_conf_t *umcf;
    kl_http_upstream_srv_conf_t **uscfp;

    cr_assert_not_null(kl_test_http_cycle(&kl_t, "upstream", upstream_text),
                       "config refused: %s", kl_test_http_errors(&kl_t));

    (void) kl_test_http_request(&kl_t, "/", "", 0);

    ci = KL_MODULE_UNSET_INDEX;

    for (i = 0; kl_modules[i]; i++) {
        if (strcmp(kl_modules[i]->name, "kl_http_upstream_module") == 0) {
            ci = kl_modules[i]->ctx_index;
        }
    }

    cr_assert_neq(ci, KL_MODULE_UNSET_INDEX);

    ctx = kl_t.cycle->conf_ctx[kl_http_module.index];
    umcf = ctx->main_conf[ci];
    uscfp = umcf->upstreams.elts;

    for (i = 0; i < umcf->upstreams.nelts; i++) {
        if (uscfp[i]->host.len == 1 && uscfp[i]->host.data[0] == 'b') {
            return uscfp[i];
        }
    }

    cr_assert_fail("no group b");
    return NULL;
}


/* A new request's peer connection to the group. */
static kl_peer_connection_t *
kl_test_pc(kl_http_upstream_srv_conf_t *us)
{
    kl_peer_connection_t *pc;

    pc = kl_pcalloc(kl_t.r->pool, sizeof(kl_peer_connection_t));
    cr_assert_not_null(pc);
    pc->log = kl_t.log;

    cr_assert_eq(us->peer.init(kl_t.r, us, pc), KL_OK);

    return pc;
}


/* get: the chosen peer's name (static), or "BUSY". */
static const char *
kl_test_get(kl_peer_connection_t *pc)
{
    kl_int_t    rc;
    static char name[64];

    rc = pc->get(pc, pc->data);

    if (rc == KL_BUSY) {
        return "BUSY";
    }

    cr_assert(rc == KL_OK || rc == KL_DONE, "get returned %d", (int) rc);
    snprintf(name, sizeof(name), "%.*s", (int) pc->name->len, pc->name->data);

    return name;
}


/* One whole request: get, then free with state. */
static const char *
kl_test_one(kl_http_upstream_srv_conf_t *us, kl_uint_t state)
{
    const char           *name;
    kl_peer_connection_t *pc;

    pc = kl_test_pc(us);
    name = kl_test_get(pc);

    if (strcmp(name, "BUSY") != 0) {
        pc->free(pc, pc->data, state);
    }

    return name;
}


Test(upstream, round_robin_smooth_weighted_order)
{
    int                          i;
    kl_http_upstream_srv_conf_t *us;
    static const char *nginx[] = { "127.0.0.1:27081", "127.0.0.1:27081",
                                   "127.0.0.2:27082", "127.0.0.1:27081",
                                   "127.0.0.3:27083", "127.0.0.1:27081",
                                   "127.0.0.1:27081" };

    us = kl_test_group(KL_TEST_CONF("server 127.0.0.1:27081 weight=5;"
                                    "server 127.0.0.2:27082;"
                                    "server 127.0.0.3:27083;"));

    /* twice: the sequence repeats every total weight */
    for (i = 0; i < 14; i++) {
        cr_assert_str_eq(kl_test_one(us, 0), nginx[i % 7], "request %d", i);
    }
}


Test(upstream, tries_count_peers_not_down_with_backups)
{
    kl_peer_connection_t        *pc;
    kl_http_upstream_srv_conf_t *us;

    us = kl_test_group(KL_TEST_CONF("server 127.0.0.1:1; server 127.0.0.2:1;"
                                    "server 127.0.0.3:1 down;"
                                    "server 127.0.0.4:1 backup;"));
    pc = kl_test_pc(us);
    cr_assert_eq(pc->tries, 3);
}


Test(upstream, one_request_tries_each_peer_once_then_busy)
{
    int                          a, b;
    const char                  *name;
    kl_peer_connection_t        *pc;
    kl_http_upstream_srv_conf_t *us;

    us = kl_test_group(KL_TEST_CONF("server 127.0.0.1:1 max_fails=0;"
                                    "server 127.0.0.2:1 max_fails=0;"));
    pc = kl_test_pc(us);
    a = b = 0;

    for (int i = 0; i < 2; i++) {
        name = kl_test_get(pc);
        a += strcmp(name, "127.0.0.1:1") == 0;
        b += strcmp(name, "127.0.0.2:1") == 0;
        pc->free(pc, pc->data, KL_PEER_FAILED);
    }

    cr_assert_eq(a, 1);
    cr_assert_eq(b, 1);
    cr_assert_eq(pc->tries, 0);
    cr_assert_str_eq(kl_test_get(pc), "BUSY");
    cr_assert_eq(pc->name->len, 1, "the group's name for the log");

    /* max_fails=0: failures never take a peer out for the next request */
    cr_assert_str_neq(kl_test_one(us, 0), "BUSY");
}


Test(upstream, down_peer_never_chosen)
{
    kl_http_upstream_srv_conf_t *us;

    us = kl_test_group(KL_TEST_CONF("server 127.0.0.1:1;"
                                    "server 127.0.0.2:1 down;"));

    for (int i = 0; i < 6; i++) {
        cr_assert_str_eq(kl_test_one(us, 0), "127.0.0.1:1");
    }
}


Test(upstream, backup_only_when_primaries_are_unusable)
{
    kl_http_upstream_srv_conf_t *us;

    kl_loop.clock.msec = 1000000;
    us = kl_test_group(KL_TEST_CONF("server 127.0.0.1:1;"
                                    "server 127.0.0.9:1 backup;"));

    cr_assert_str_eq(kl_test_one(us, 0), "127.0.0.1:1");
    cr_assert_str_eq(kl_test_one(us, 0), "127.0.0.1:1");

    /* max_fails=1: one failure takes it out for fail_timeout (10s) */
    cr_assert_str_eq(kl_test_one(us, KL_PEER_FAILED), "127.0.0.1:1");
    cr_assert_str_eq(kl_test_one(us, 0), "127.0.0.9:1");
    cr_assert_str_eq(kl_test_one(us, KL_PEER_FAILED), "127.0.0.9:1");
    cr_assert_str_eq(kl_test_one(us, 0), "BUSY");

    kl_loop.clock.msec += 10001;
    cr_assert_str_eq(kl_test_one(us, 0), "127.0.0.1:1");
}


Test(upstream, backup_all_down)
{
    kl_http_upstream_srv_conf_t *us;

    us = kl_test_group(KL_TEST_CONF("server 127.0.0.1:1 down;"
                                    "server 127.0.0.2:1 down;"
                                    "server 127.0.0.9:1 backup;"));

    cr_assert_str_eq(kl_test_one(us, 0), "127.0.0.9:1");
}


/* nginx: after fail_timeout one request probes; a success restores. */
Test(upstream, max_fails_fail_timeout_then_one_probe)
{
    int                          i, a;
    const char                  *name;
    kl_peer_connection_t        *pc[4];
    kl_http_upstream_srv_conf_t *us;

    kl_loop.clock.msec = 5000000;
    us = kl_test_group(KL_TEST_CONF("server 127.0.0.1:1 max_fails=2 "
                                    "fail_timeout=10s;"
                                    "server 127.0.0.2:1;"));

    /* two failures of A (B succeeds in between) */
    for (i = 0, a = 0; a < 2 && i < 10; i++) {
        pc[0] = kl_test_pc(us);
        name = kl_test_get(pc[0]);

        if (strcmp(name, "127.0.0.1:1") == 0) {
            pc[0]->free(pc[0], pc[0]->data, KL_PEER_FAILED);
            a++;
        } else {
            pc[0]->free(pc[0], pc[0]->data, 0);
        }
    }

    cr_assert_eq(a, 2);

    /* within fail_timeout: only B */
    kl_loop.clock.msec += 9000;

    for (i = 0; i < 6; i++) {
        cr_assert_str_eq(kl_test_one(us, 0), "127.0.0.2:1");
    }

    /* past it: exactly one of the concurrent requests probes A */
    kl_loop.clock.msec += 1001;
    a = 0;

    for (i = 0; i < 4; i++) {
        pc[i] = kl_test_pc(us);
        a += strcmp(kl_test_get(pc[i]), "127.0.0.1:1") == 0;
    }

    cr_assert_eq(a, 1);

    for (i = 0; i < 4; i++) {
        pc[i]->free(pc[i], pc[i]->data, 0);
    }

    /* the probe succeeded: A is back in the rotation */
    a = 0;

    for (i = 0; i < 4; i++) {
        a += strcmp(kl_test_one(us, 0), "127.0.0.1:1") == 0;
    }

    cr_assert_eq(a, 2);
}


Test(upstream, failed_probe_keeps_peer_out)
{
    int                          i;
    kl_http_upstream_srv_conf_t *us;

    kl_loop.clock.msec = 7000000;
    us = kl_test_group(KL_TEST_CONF("server 127.0.0.1:1 fail_timeout=5s;"
                                    "server 127.0.0.2:1 down;"
                                    "server 127.0.0.9:1 backup;"));

    cr_assert_str_eq(kl_test_one(us, KL_PEER_FAILED), "127.0.0.1:1");
    cr_assert_str_eq(kl_test_one(us, 0), "127.0.0.9:1");

    kl_loop.clock.msec += 5001;
    cr_assert_str_eq(kl_test_one(us, KL_PEER_FAILED), "127.0.0.1:1");

    for (i = 0; i < 3; i++) {
        cr_assert_str_eq(kl_test_one(us, 0), "127.0.0.9:1");
    }
}


Test(upstream, max_conns)
{
    kl_peer_connection_t        *a, *b, *c;
    kl_http_upstream_srv_conf_t *us;

    us = kl_test_group(KL_TEST_CONF("server 127.0.0.1:1 max_conns=1;"
                                    "server 127.0.0.2:1 max_conns=2;"));

    a = kl_test_pc(us);
    b = kl_test_pc(us);
    c = kl_test_pc(us);

    cr_assert_str_eq(kl_test_get(a), "127.0.0.1:1");
    cr_assert_str_eq(kl_test_get(b), "127.0.0.2:1");
    cr_assert_str_eq(kl_test_get(c), "127.0.0.2:1");
    cr_assert_str_eq(kl_test_one(us, 0), "BUSY");

    a->free(a, a->data, 0);
    cr_assert_str_eq(kl_test_one(us, 0), "127.0.0.1:1");
}


Test(upstream, single_peer_max_conns)
{
    kl_peer_connection_t        *a;
    kl_http_upstream_srv_conf_t *us;

    us = kl_test_group(KL_TEST_CONF("server 127.0.0.1:1 max_conns=1;"));
    a = kl_test_pc(us);
    cr_assert_eq(a->tries, 1);
    cr_assert_str_eq(kl_test_get(a), "127.0.0.1:1");
    cr_assert_str_eq(kl_test_one(us, 0), "BUSY");
    a->free(a, a->data, KL_PEER_FAILED);
    cr_assert_eq(a->tries, 0);

    /* a lone peer is never marked failed, as in nginx */
    cr_assert_str_eq(kl_test_one(us, 0), "127.0.0.1:1");
}


Test(upstream, name_resolves_to_every_address)
{
    kl_http_upstream_srv_conf_t *us;
    kl_http_upstream_server_t   *s;

    us = kl_test_group(KL_TEST_CONF("server localhost:27081 weight=2;"
                                    "server unix:/tmp/kl.sock;"
                                    "server [::1]:27082 backup;"
                                    "server 127.0.0.1;"));
    s = us->servers->elts;
    cr_assert_eq(us->servers->nelts, 4);
    cr_assert_geq(s[0].naddrs, 1);
    cr_assert_eq(s[0].weight, 2);
    cr_assert_eq(s[1].addrs[0].sockaddr.sa_family, AF_UNIX);
    cr_assert_eq(s[2].backup, 1);
    cr_assert_eq(ntohs(s[3].addrs[0].sockaddr_in.sin_port), 80);
    cr_assert_eq(s[3].max_fails, 1);
    cr_assert_eq(s[3].fail_timeout, 10);
}


Test(upstream, least_conn_weights_and_ties)
{
    kl_peer_connection_t        *a, *b;
    kl_http_upstream_srv_conf_t *us;

    us = kl_test_group(KL_TEST_CONF("least_conn;"
                                    "server 127.0.0.1:1 weight=2;"
                                    "server 127.0.0.2:1;"));

    /* no conns: a tie, the smooth round robin picks the heavier */
    a = kl_test_pc(us);
    cr_assert_str_eq(kl_test_get(a), "127.0.0.1:1");

    /* A 1 conn / 2, B 0 / 1: B */
    b = kl_test_pc(us);
    cr_assert_str_eq(kl_test_get(b), "127.0.0.2:1");

    /* A 1/2 < B 1/1: A */
    cr_assert_str_eq(kl_test_one(us, 0), "127.0.0.1:1");

    a->free(a, a->data, 0);

    /* A 0, B 1: A, whatever the round robin would say */
    for (int i = 0; i < 4; i++) {
        cr_assert_str_eq(kl_test_one(us, 0), "127.0.0.1:1");
    }

    b->free(b, b->data, 0);
}


Test(upstream, least_conn_uses_backup)
{
    kl_http_upstream_srv_conf_t *us;

    us = kl_test_group(KL_TEST_CONF("least_conn;"
                                    "server 127.0.0.1:1 down;"
                                    "server 127.0.0.9:1 backup;"));

    cr_assert_str_eq(kl_test_one(us, 0), "127.0.0.9:1");
}


static void
kl_test_client(const char *ip)
{
    struct sockaddr_in *sin;

    sin = kl_pcalloc(kl_t.r->pool, sizeof(struct sockaddr_in));
    cr_assert_not_null(sin);
    sin->sin_family = AF_INET;
    cr_assert_eq(inet_pton(AF_INET, ip, &sin->sin_addr), 1);

    kl_t.c->sockaddr = (struct sockaddr *) sin;
    kl_t.c->socklen = sizeof(struct sockaddr_in);
}


Test(upstream, ip_hash_as_nginx_and_sticky)
{
    int                          i;
    kl_http_upstream_srv_conf_t *us;
    static const char *clients[] = { "127.0.0.1", "127.0.1.1", "127.0.2.1",
                                     "127.0.3.1", "127.1.0.1" };
    static const char *nginx[] = { "127.0.0.3:27083", "127.0.0.1:27081",
                                   "127.0.0.2:27082", "127.0.0.3:27083",
                                   "127.0.0.2:27082" };

    us = kl_test_group(KL_TEST_CONF("ip_hash;" KL_TEST_THREE));

    for (i = 0; i < 5; i++) {
        kl_test_client(clients[i]);
        cr_assert_str_eq(kl_test_one(us, 0), nginx[i], "client %s", clients[i]);
        cr_assert_str_eq(kl_test_one(us, 0), nginx[i]);
    }

    /* the last octet does not count */
    kl_test_client("127.0.1.200");
    cr_assert_str_eq(kl_test_one(us, 0), "127.0.0.1:27081");
}


Test(upstream, ip_hash_distribution_and_failover)
{
    int                          i, n[3];
    char                         ip[32];
    const char                  *name;
    kl_peer_connection_t        *pc;
    kl_http_upstream_srv_conf_t *us;

    us = kl_test_group(KL_TEST_CONF("ip_hash;" KL_TEST_THREE));
    n[0] = n[1] = n[2] = 0;

    for (i = 0; i < 300; i++) {
        snprintf(ip, sizeof(ip), "10.%d.%d.1", i / 256, i % 256);
        kl_test_client(ip);
        name = kl_test_one(us, 0);
        n[name[8] - '1']++;
    }

    for (i = 0; i < 3; i++) {
        cr_assert_gt(n[i], 60, "server %d got %d of 300", i, n[i]);
    }

    /* the sticky peer fails: the same request goes on to another */
    kl_test_client("127.0.0.1");
    pc = kl_test_pc(us);
    cr_assert_str_eq(kl_test_get(pc), "127.0.0.3:27083");
    pc->free(pc, pc->data, KL_PEER_FAILED);
    name = kl_test_get(pc);
    cr_assert(strcmp(name, "127.0.0.3:27083") != 0 && strcmp(name, "BUSY"));
    pc->free(pc, pc->data, 0);

    /* and later requests too, while it is failed */
    cr_assert_str_neq(kl_test_one(us, 0), "127.0.0.3:27083");
}


static const char *
kl_test_key(kl_http_upstream_srv_conf_t *us, const char *uri)
{
    kl_t.r->uri.data = (u_char *) uri;
    kl_t.r->uri.len = strlen(uri);

    return kl_test_one(us, 0);
}


Test(upstream, hash_as_nginx)
{
    int                          i;
    char                         uri[16];
    kl_http_upstream_srv_conf_t *us;
    static const char *nginx[] = { "127.0.0.3:27083", "127.0.0.2:27082",
                                   "127.0.0.3:27083", "127.0.0.1:27081",
                                   "127.0.0.3:27083", "127.0.0.1:27081" };

    us = kl_test_group(KL_TEST_CONF("hash $uri;" KL_TEST_THREE));

    for (i = 0; i < 6; i++) {
        snprintf(uri, sizeof(uri), "/hp/%c", 'a' + i);
        cr_assert_str_eq(kl_test_key(us, uri), nginx[i], "key %s", uri);
        cr_assert_str_eq(kl_test_key(us, uri), nginx[i]);
    }
}


Test(upstream, hash_rehash_on_failure)
{
    const char                  *first, *second;
    kl_peer_connection_t        *pc;
    kl_http_upstream_srv_conf_t *us;
    char                         keep[64];

    us = kl_test_group(KL_TEST_CONF("hash $uri;" KL_TEST_THREE));
    kl_t.r->uri.data = (u_char *) "/hp/a";
    kl_t.r->uri.len = 5;

    pc = kl_test_pc(us);
    first = kl_test_get(pc);
    snprintf(keep, sizeof(keep), "%s", first);
    pc->free(pc, pc->data, KL_PEER_FAILED);
    second = kl_test_get(pc);
    cr_assert_str_neq(second, keep);
    cr_assert_str_neq(second, "BUSY");
    pc->free(pc, pc->data, 0);
}


Test(upstream, consistent_hash_as_nginx)
{
    int                          i;
    char                         uri[16];
    kl_http_upstream_srv_conf_t *us;
    static const char *nginx[] = { "127.0.0.3:27083", "127.0.0.3:27083",
                                   "127.0.0.1:27081", "127.0.0.3:27083",
                                   "127.0.0.3:27083", "127.0.0.3:27083" };

    us = kl_test_group(KL_TEST_CONF("hash $uri consistent;" KL_TEST_THREE));

    for (i = 0; i < 6; i++) {
        snprintf(uri, sizeof(uri), "/ch/%c", 'a' + i);
        cr_assert_str_eq(kl_test_key(us, uri), nginx[i], "key %s", uri);
    }
}


#define KL_TEST_KEYS 1000

static char kl_test_map[KL_TEST_KEYS][24];


static void
kl_test_map_keys(const char *conf, int compare, int *moved, int *moved_kept)
{
    int                          i;
    char                         uri[32];
    const char                  *name;
    kl_http_upstream_srv_conf_t *us;

    us = kl_test_group(conf);
    *moved = *moved_kept = 0;

    for (i = 0; i < KL_TEST_KEYS; i++) {
        snprintf(uri, sizeof(uri), "/key/%d", i);
        name = kl_test_key(us, uri);

        if (compare && strcmp(name, kl_test_map[i]) != 0) {
            (*moved)++;

            /* a key whose server is still there must not move */
            if (strcmp(kl_test_map[i], "127.0.0.5:1") != 0) {
                (*moved_kept)++;
            }
        }

        snprintf(kl_test_map[i], sizeof(kl_test_map[i]), "%s", name);
    }
}


Test(upstream, consistent_hash_moves_about_one_nth)
{
    int moved, kept;

    kl_test_map_keys(KL_TEST_CONF("hash $uri consistent;"
                                  "server 127.0.0.1:1; server 127.0.0.2:1;"
                                  "server 127.0.0.3:1; server 127.0.0.4:1;"
                                  "server 127.0.0.5:1;"),
                     0, &moved, &kept);

    kl_test_map_keys(KL_TEST_CONF("hash $uri consistent;"
                                  "server 127.0.0.1:1; server 127.0.0.2:1;"
                                  "server 127.0.0.3:1; server 127.0.0.4:1;"),
                     1, &moved, &kept);

    cr_assert_eq(kept, 0);
    cr_assert(moved > KL_TEST_KEYS / 10 && moved < KL_TEST_KEYS * 3 / 10,
              "%d of %d keys moved", moved, KL_TEST_KEYS);
}


Test(upstream, plain_hash_moves_most)
{
    int moved, kept;

    kl_test_map_keys(KL_TEST_CONF("hash $uri;"
                                  "server 127.0.0.1:1; server 127.0.0.2:1;"
                                  "server 127.0.0.3:1; server 127.0.0.4:1;"
                                  "server 127.0.0.5:1;"),
                     0, &moved, &kept);

    kl_test_map_keys(KL_TEST_CONF("hash $uri;"
                                  "server 127.0.0.1:1; server 127.0.0.2:1;"
                                  "server 127.0.0.3:1; server 127.0.0.4:1;"),
                     1, &moved, &kept);

    cr_assert_gt(moved, KL_TEST_KEYS / 2);
}


Test(upstream, hash_empty_key_falls_back_to_round_robin)
{
    kl_http_upstream_srv_conf_t *us;

    us = kl_test_group(KL_TEST_CONF("hash $http_x_none;"
                                    "server 127.0.0.1:1; server 127.0.0.2:1;"));

    cr_assert_str_eq(kl_test_one(us, 0), "127.0.0.1:1");
    cr_assert_str_eq(kl_test_one(us, 0), "127.0.0.2:1");
    cr_assert_str_eq(kl_test_one(us, 0), "127.0.0.1:1");
}


Test(upstream, sock_parse_all)
{
    kl_str_t       s;
    socklen_t     *lens;
    kl_uint_t      n, i;
    kl_pool_t     *pool;
    const char    *err;
    kl_sockaddr_t *addrs;

    pool = kl_pool_create(4096, NULL);
    cr_assert_not_null(pool);

    kl_str_set(&s, "8080");
    cr_assert_eq(kl_sock_parse_all(pool, &s, 80, &addrs, &lens, &n, &err),
                 KL_ERROR);
    cr_assert_str_eq(err, "invalid host");

    kl_str_set(&s, "127.0.0.7");
    cr_assert_eq(kl_sock_parse_all(pool, &s, 80, &addrs, &lens, &n, &err),
                 KL_OK);
    cr_assert_eq(n, 1);
    cr_assert_eq(ntohs(addrs[0].sockaddr_in.sin_port), 80);

    kl_str_set(&s, "[::1]:81");
    cr_assert_eq(kl_sock_parse_all(pool, &s, 80, &addrs, &lens, &n, &err),
                 KL_OK);
    cr_assert_eq(n, 1);
    cr_assert_eq(addrs[0].sockaddr.sa_family, AF_INET6);
    cr_assert_eq(lens[0], sizeof(struct sockaddr_in6));

    /* a name: all of its addresses, IPv4 first, each with the port */
    kl_str_set(&s, "localhost:8081");
    cr_assert_eq(kl_sock_parse_all(pool, &s, 80, &addrs, &lens, &n, &err),
                 KL_OK);
    cr_assert_geq(n, 1);
    cr_assert_eq(addrs[0].sockaddr.sa_family, AF_INET);

    for (i = 0; i < n; i++) {
        cr_assert_eq(ntohs(addrs[i].sockaddr_in.sin_port), 8081);

        if (i > 0 && addrs[i - 1].sockaddr.sa_family == AF_INET6) {
            cr_assert_eq(addrs[i].sockaddr.sa_family, AF_INET6);
        }
    }

    kl_str_set(&s, "no-such-host.invalid");
    cr_assert_eq(kl_sock_parse_all(pool, &s, 80, &addrs, &lens, &n, &err),
                 KL_ERROR);
    cr_assert_str_eq(err, "host not found");

    kl_pool_free(pool);
}
