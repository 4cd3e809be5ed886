/* test_resolver.c: the resolver's configuration (kl_resolver_create) and the names kl_resolve_name refuses before any query. */

#include <criterion/criterion.h>

#include "kl_core.h"
#include "resolver.h"


static kl_log_t   t_log; /* level 0: silent */
static kl_cycle_t t_cycle;
static kl_conf_t  t_cf;


static void
t_setup(void)
{
    kl_memzero(&t_log, sizeof(t_log));
    kl_memzero(&t_cycle, sizeof(t_cycle));
    kl_memzero(&t_cf, sizeof(t_cf));

    t_cycle.log = &t_log;
    t_cf.cycle = &t_cycle;
    t_cf.log = &t_log;
    t_cf.pool = kl_pool_create(4096, &t_log);
    cr_assert_not_null(t_cf.pool);
}


static void
t_teardown(void)
{
    kl_pool_free(t_cf.pool);
}


/* "resolver" and its arguments, as the parser hands them. */
static kl_resolver_t *
t_create(const char **args, kl_uint_t n)
{
    kl_str_t  value[8];
    kl_uint_t i;

    for (i = 0; i < n; i++) {
        value[i].data = (u_char *) args[i];
        value[i].len = strlen(args[i]);
    }

    return kl_resolver_create(&t_cf, value, n);
}


TestSuite(resolver, .init = t_setup, .fini = t_teardown);


Test(resolver, create)
{
    kl_resolver_t *r;
    const char *args[] = { "resolver", "127.0.0.1", "[::1]:5353", "valid=30s",
                           "ipv6=off" };

    r = t_create(args, 5);
    cr_assert_not_null(r);
    cr_assert_eq(r->nservers, 2);
    cr_assert_eq(r->servers[0].sockaddr.sockaddr.sa_family, AF_INET);
    cr_assert_eq(ntohs(r->servers[0].sockaddr.sockaddr_in.sin_port), 53);
    cr_assert_eq(r->servers[1].sockaddr.sockaddr.sa_family, AF_INET6);
    cr_assert_eq(ntohs(r->servers[1].sockaddr.sockaddr_in6.sin6_port), 5353);
    cr_assert_eq(r->servers[1].name.len, strlen("[::1]:5353"));
    cr_assert_eq(memcmp(r->servers[1].name.data, "[::1]:5353", 10), 0);
    cr_assert_eq(r->valid, 30);
    cr_assert(r->ipv4);
    cr_assert(!r->ipv6);
}


Test(resolver, defaults)
{
    kl_resolver_t     *r;
    kl_resolver_ctx_t *ctx;
    const char        *args[] = { "resolver", "127.0.0.1:5300" };

    r = t_create(args, 2);
    cr_assert_not_null(r);
    cr_assert_eq(r->valid, 0, "TTLs unless valid=");
    cr_assert(r->ipv4 && r->ipv6, "A and AAAA by default");

    ctx = kl_resolve_start(r, t_cf.pool);
    cr_assert_not_null(ctx);
    cr_assert_eq(ctx->timeout, 30000);
    cr_assert_eq(ctx->resolver, r);
}


Test(resolver, refused)
{
    kl_uint_t          i;
    static const char *bad[][3] = {
        { "resolver", "127.0.0.1", "valid=x" },
        { "resolver", "127.0.0.1", "ipv6=maybe" },
        { "resolver", "127.0.0.1", "status_zone=z" },
        { "resolver", "ipv4=off", "ipv6=off" },
        { "resolver", "127.0.0.1:0", "valid=1s" },
        { "resolver", "valid=1s", "ipv6=on" },
    };

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cr_assert_null(t_create(bad[i], 3), "%s %s", bad[i][1], bad[i][2]);
    }
}


/* Refused before a node exists: no socket, no timer. */
Test(resolver, bad_names)
{
    char               big[300];
    kl_resolver_t     *r;
    kl_resolver_ctx_t *ctx;
    const char        *args[] = { "resolver", "127.0.0.1" };

    r = t_create(args, 2);
    cr_assert_not_null(r);

    ctx = kl_resolve_start(r, t_cf.pool);
    kl_str_set(&ctx->name, "");
    cr_assert_eq(kl_resolve_name(ctx), KL_ERROR);

    memset(big, 'a', sizeof(big));
    ctx->name.data = (u_char *) big;
    ctx->name.len = sizeof(big);
    cr_assert_eq(kl_resolve_name(ctx), KL_ERROR);

    kl_str_set(&ctx->name, "a..b");
    cr_assert_eq(kl_resolve_name(ctx), KL_ERROR);
    cr_assert(kl_queue_empty(&r->nodes), "the node was let go");
    cr_assert_eq(r->nnodes, 0);
}
