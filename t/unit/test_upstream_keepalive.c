/*
 * test_upstream_keepalive.c: the keepalive cache of an upstream group
 * (modules/upstream/upstream_keepalive.c): connections released reusable are kept
 * (one socketpair end plays the connection, the other the peer), handed
 * back for the same peer, closed when the peer closes or talks, when the
 * cache is full (least recently used), after keepalive_requests, or idle.
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

#define KL_TEST_NCONN 8


static kl_test_http_t  kl_t;
static kl_connection_t kl_conns[KL_TEST_NCONN];
static kl_event_t      kl_revs[KL_TEST_NCONN], kl_wevs[KL_TEST_NCONN];


static void
kl_test_fini(void)
{
    kl_uint_t i;

    for (i = 0; i < KL_TEST_NCONN; i++) {
        if (kl_conns[i].fd > 0 && !kl_conns[i].destroyed) {
            kl_close_connection(&kl_conns[i]);
        }
    }

    kl_test_http_clean(&kl_t);
}


TestSuite(upstream_keepalive, .fini = kl_test_fini);


static kl_http_upstream_srv_conf_t *
kl_test_group(const char *upstream_text)
{
    kl_uint_t                     i, ci;
    kl_http_conf_ctx_t           *ctx;
    kl_http_upstream_main_conf_t *umcf;
    kl_http_upstream_srv_conf_t **uscfp;

    cr_assert_not_null(kl_test_http_cycle(&kl_t, "upstream_ka", upstream_text),
                       "config refused: %s", kl_test_http_errors(&kl_t));

    (void) kl_test_http_request(&kl_t, "/", "", 0);

    /* a free list of connections, as a worker has */
    kl_cycle->free_connections = NULL;

    for (i = 0; i < KL_TEST_NCONN; i++) {
        kl_conns[i].read = &kl_revs[i];
        kl_conns[i].write = &kl_wevs[i];
        kl_conns[i].fd = -1;
        kl_conns[i].data = kl_cycle->free_connections;
        kl_cycle->free_connections = &kl_conns[i];
    }

    kl_cycle->free_connection_n = KL_TEST_NCONN;

    ci = KL_MODULE_UNSET_INDEX;

    for (i = 0; kl_modules[i]; i++) {
        if (strcmp(kl_modules[i]->name, "kl_http_upstream_module") == 0) {
            ci = kl_modules[i]->ctx_index;
        }
    }

    ctx = kl_t.cycle->conf_ctx[kl_http_module.index];
    umcf = ctx->main_conf[ci];
    uscfp = umcf->upstreams.elts;
    cr_assert_eq(umcf->upstreams.nelts, 1);

    return uscfp[0];
}


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


/* The upstream core's part: a new connection to the chosen peer. */
static kl_connection_t *
kl_test_connect(kl_peer_connection_t *pc, int *peer)
{
    int              sv[2];
    kl_connection_t *c;

    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    cr_assert_neq(fcntl(sv[0], F_SETFL, O_NONBLOCK), -1);

    c = kl_get_connection(sv[0], pc->log);
    cr_assert_not_null(c);
    c->io = &kl_os_io;
    c->start_time = kl_now(); /* as kl_event_connect_peer: keepalive_time */

    pc->connection = c;
    *peer = sv[1];

    return c;
}


static int
kl_test_peer_sees_close(int peer)
{
    char buf[1];

    return recv(peer, buf, 1, MSG_DONTWAIT) == 0;
}


Test(upstream_keepalive, released_connection_is_reused_for_its_peer)
{
    int                          peer;
    kl_connection_t             *c;
    kl_peer_connection_t        *pc;
    kl_http_upstream_srv_conf_t *us;

    us = kl_test_group(KL_TEST_CONF("server 127.0.0.1:1; server 127.0.0.2:1;"
                                    "keepalive 4;"));

    /* first request: A, no cached connection */
    pc = kl_test_pc(us);
    cr_assert_eq(pc->get(pc, pc->data), KL_OK);
    cr_assert_eq(pc->cached, 0);
    cr_assert_null(pc->connection);
    c = kl_test_connect(pc, &peer);
    pc->free(pc, pc->data, KL_PEER_KEEPALIVE);

    cr_assert_null(pc->connection, "taken into the cache");
    cr_assert(c->idle && c->reusable && c->read->timer_set);
    cr_assert_eq(c->log, kl_cycle->log, "no pointer to the ended request");

    /* second: round robin says B, nothing cached for it */
    pc = kl_test_pc(us);
    cr_assert_eq(pc->get(pc, pc->data), KL_OK);
    cr_assert_eq(pc->cached, 0);
    pc->free(pc, pc->data, 0);

    /* third: A again, its cached connection */
    pc = kl_test_pc(us);
    cr_assert_eq(pc->get(pc, pc->data), KL_DONE);
    cr_assert_eq(pc->cached, 1);
    cr_assert_eq(pc->connection, c);
    cr_assert(!c->idle && !c->reusable && !c->read->timer_set);
    cr_assert_eq(c->log, kl_t.log);

    /* not reusable this time (state 0): the caller closes it */
    pc->free(pc, pc->data, 0);
    cr_assert_eq(pc->connection, c);
    kl_close_connection(c);
    cr_assert(kl_test_peer_sees_close(peer));
    close(peer);
}


Test(upstream_keepalive, failed_connection_not_cached)
{
    int                          peer;
    kl_connection_t             *c;
    kl_peer_connection_t        *pc;
    kl_http_upstream_srv_conf_t *us;

    us = kl_test_group(KL_TEST_CONF("server 127.0.0.1:1; keepalive 4;"));

    pc = kl_test_pc(us);
    cr_assert_eq(pc->get(pc, pc->data), KL_OK);
    c = kl_test_connect(pc, &peer);
    pc->free(pc, pc->data, KL_PEER_KEEPALIVE | KL_PEER_FAILED);
    cr_assert_eq(pc->connection, c);
    kl_close_connection(c);
    close(peer);

    pc = kl_test_pc(us);
    cr_assert_eq(pc->get(pc, pc->data), KL_OK);
    cr_assert_eq(pc->cached, 0);
}


Test(upstream_keepalive, full_cache_closes_least_recently_used)
{
    int                          p1, p2;
    kl_connection_t             *c1, *c2;
    kl_peer_connection_t        *pc;
    kl_http_upstream_srv_conf_t *us;

    us = kl_test_group(KL_TEST_CONF("server 127.0.0.1:1; server 127.0.0.2:1;"
                                    "keepalive 1;"));

    pc = kl_test_pc(us);
    cr_assert_eq(pc->get(pc, pc->data), KL_OK);
    c1 = kl_test_connect(pc, &p1);
    pc->free(pc, pc->data, KL_PEER_KEEPALIVE);

    pc = kl_test_pc(us);
    cr_assert_eq(pc->get(pc, pc->data), KL_OK);
    c2 = kl_test_connect(pc, &p2);
    pc->free(pc, pc->data, KL_PEER_KEEPALIVE);

    cr_assert(c1->destroyed, "the older one made room");
    cr_assert(kl_test_peer_sees_close(p1));
    cr_assert(!c2->destroyed && c2->idle);

    /* A (round robin) has nothing cached now, B has c2 */
    pc = kl_test_pc(us);
    cr_assert_eq(pc->get(pc, pc->data), KL_OK);
    pc->free(pc, pc->data, 0);

    pc = kl_test_pc(us);
    cr_assert_eq(pc->get(pc, pc->data), KL_DONE);
    cr_assert_eq(pc->connection, c2);
    close(p1);
    close(p2);
}


Test(upstream_keepalive, peer_close_or_bytes_evict)
{
    int                          p1, p2;
    kl_connection_t             *c1, *c2;
    kl_peer_connection_t        *pc;
    kl_http_upstream_srv_conf_t *us;

    us = kl_test_group(KL_TEST_CONF("server 127.0.0.1:1; keepalive 4;"));

    pc = kl_test_pc(us);
    cr_assert_eq(pc->get(pc, pc->data), KL_OK);
    c1 = kl_test_connect(pc, &p1);
    pc->free(pc, pc->data, KL_PEER_KEEPALIVE);

    /* idle and nothing to read: the read event changes nothing */
    c1->read->ready = 1;
    c1->read->handler(c1->read);
    cr_assert(!c1->destroyed);
    cr_assert_eq(c1->read->ready, 0);

    /* the peer closes: the event loop would call the read handler */
    close(p1);
    c1->read->ready = 1;
    c1->read->handler(c1->read);
    cr_assert(c1->destroyed);

    pc = kl_test_pc(us);
    cr_assert_eq(pc->get(pc, pc->data), KL_OK, "nothing cached any more");

    /* bytes already waiting as it is released: not cached at all */
    c2 = kl_test_connect(pc, &p2);
    cr_assert_eq(write(p2, "x", 1), 1);
    c2->read->ready = 1;
    pc->free(pc, pc->data, KL_PEER_KEEPALIVE);
    cr_assert(c2->destroyed);
    cr_assert_null(pc->connection);

    pc = kl_test_pc(us);
    cr_assert_eq(pc->get(pc, pc->data), KL_OK);
    close(p2);
}


Test(upstream_keepalive, idle_timeout_closes)
{
    int                          p;
    kl_connection_t             *c;
    kl_peer_connection_t        *pc;
    kl_http_upstream_srv_conf_t *us;

    us = kl_test_group(KL_TEST_CONF("server 127.0.0.1:1; keepalive 4;"
                                    "keepalive_timeout 5s;"));

    pc = kl_test_pc(us);
    cr_assert_eq(pc->get(pc, pc->data), KL_OK);
    c = kl_test_connect(pc, &p);
    pc->free(pc, pc->data, KL_PEER_KEEPALIVE);

    cr_assert(c->read->timer_set);
    cr_assert_eq(c->read->timer.key, kl_loop.clock.msec + 5000);

    /* what the timer would do when it expires */
    kl_event_del_timer(c->read);
    c->read->timedout = 1;
    c->read->handler(c->read);
    cr_assert(c->destroyed);
    cr_assert(kl_test_peer_sees_close(p));
    close(p);
}


Test(upstream_keepalive, keepalive_requests_limit)
{
    int                          p, i;
    kl_connection_t             *c;
    kl_peer_connection_t        *pc;
    kl_http_upstream_srv_conf_t *us;

    us = kl_test_group(KL_TEST_CONF("server 127.0.0.1:1; keepalive 4;"
                                    "keepalive_requests 3;"));

    pc = kl_test_pc(us);
    cr_assert_eq(pc->get(pc, pc->data), KL_OK);
    c = kl_test_connect(pc, &p);
    pc->free(pc, pc->data, KL_PEER_KEEPALIVE);

    /* requests 2 and 3 reuse it; after the third it is not kept */
    for (i = 2; i <= 3; i++) {
        pc = kl_test_pc(us);
        cr_assert_eq(pc->get(pc, pc->data), KL_DONE, "request %d", i);
        cr_assert_eq(pc->connection, c);
        pc->free(pc, pc->data, KL_PEER_KEEPALIVE);
    }

    cr_assert_eq(pc->connection, c, "handed back to the caller to close");
    kl_close_connection(c);
    close(p);

    pc = kl_test_pc(us);
    cr_assert_eq(pc->get(pc, pc->data), KL_OK);
}


Test(upstream_keepalive, wraps_the_balancer_before_it)
{
    int                          p;
    kl_connection_t             *c;
    kl_peer_connection_t        *pc, *held;
    kl_http_upstream_srv_conf_t *us;

    us = kl_test_group(KL_TEST_CONF("least_conn;"
                                    "server 127.0.0.1:1; server 127.0.0.2:1;"
                                    "keepalive 2;"));

    /* least_conn: A is busy, so B; B's connection is cached */
    held = kl_test_pc(us);
    cr_assert_eq(held->get(held, held->data), KL_OK);
    cr_assert_eq(held->name->data[8], '1');

    pc = kl_test_pc(us);
    cr_assert_eq(pc->get(pc, pc->data), KL_OK);
    cr_assert_eq(pc->name->data[8], '2');
    c = kl_test_connect(pc, &p);
    pc->free(pc, pc->data, KL_PEER_KEEPALIVE);

    /* A still busy: B again, from the cache */
    pc = kl_test_pc(us);
    cr_assert_eq(pc->get(pc, pc->data), KL_DONE);
    cr_assert_eq(pc->connection, c);
    pc->free(pc, pc->data, 0);
    held->free(held, held->data, 0);
    kl_close_connection(c);
    close(p);
}


Test(upstream_keepalive, keepalive_time_limit)
{
    int                          p;
    kl_connection_t             *c;
    kl_peer_connection_t        *pc;
    kl_http_upstream_srv_conf_t *us;

    us = kl_test_group(KL_TEST_CONF("server 127.0.0.1:1; keepalive 4;"
                                    "keepalive_time 10s;"));

    pc = kl_test_pc(us);
    cr_assert_eq(pc->get(pc, pc->data), KL_OK);
    c = kl_test_connect(pc, &p);
    pc->free(pc, pc->data, KL_PEER_KEEPALIVE);
    cr_assert_null(pc->connection, "young: taken into the cache");

    /* The same connection, made 11 s ago: too old to keep when freed. */
    pc = kl_test_pc(us);
    cr_assert_eq(pc->get(pc, pc->data), KL_DONE);
    cr_assert_eq(pc->connection, c);
    c->start_time = kl_now() - 11000;
    pc->free(pc, pc->data, KL_PEER_KEEPALIVE);

    cr_assert_eq(pc->connection, c, "old: handed back to the caller");
    kl_close_connection(c);
    close(p);
}
