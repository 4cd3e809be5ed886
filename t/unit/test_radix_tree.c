/* test_radix_tree.c: longest-prefix lookup, duplicates, delete, and a random run. */

#include <criterion/criterion.h>

#include <stdlib.h>

#include "kl_core.h"

static kl_pool_t *pool;


static void
setup(void)
{
    pool = kl_pool_create(4096, NULL);
    cr_assert_not_null(pool);
}


static void
teardown(void)
{
    kl_pool_free(pool);
}


static const u_char *
v4(uint32_t a)
{
    static u_char b[4];

    b[0] = a >> 24;
    b[1] = a >> 16;
    b[2] = a >> 8;
    b[3] = a;

    return b;
}


Test(radix_tree, longest_prefix, .init = setup, .fini = teardown)
{
    kl_radix_tree_t *t;

    t = kl_radix_tree_create(pool, 32);
    cr_assert_not_null(t);

    cr_assert_eq(kl_radix_tree_find(t, v4(0x01020304)), KL_RADIX_NO_VALUE);

    cr_assert_eq(kl_radix_tree_insert(t, v4(0), 0, 1), KL_OK);
    cr_assert_eq(kl_radix_tree_insert(t, v4(0x0a000000), 8, 2), KL_OK);
    cr_assert_eq(kl_radix_tree_insert(t, v4(0x0a010000), 16, 3), KL_OK);
    cr_assert_eq(kl_radix_tree_insert(t, v4(0x0a010203), 32, 4), KL_OK);

    cr_assert_eq(kl_radix_tree_find(t, v4(0x01020304)), 1);
    cr_assert_eq(kl_radix_tree_find(t, v4(0x0a090909)), 2);
    cr_assert_eq(kl_radix_tree_find(t, v4(0x0a01ffff)), 3);
    cr_assert_eq(kl_radix_tree_find(t, v4(0x0a010203)), 4);
    cr_assert_eq(kl_radix_tree_find(t, v4(0x0a010202)), 3);
}


Test(radix_tree, busy_and_delete, .init = setup, .fini = teardown)
{
    kl_radix_tree_t *t;

    t = kl_radix_tree_create(pool, 32);

    cr_assert_eq(kl_radix_tree_insert(t, v4(0x0a000000), 8, 2), KL_OK);
    cr_assert_eq(kl_radix_tree_insert(t, v4(0x0a000000), 8, 5), KL_BUSY);
    cr_assert_eq(kl_radix_tree_get(t, v4(0x0a000000), 8), 2);
    cr_assert_eq(kl_radix_tree_get(t, v4(0x0a000000), 9), KL_RADIX_NO_VALUE);

    cr_assert_eq(kl_radix_tree_delete(t, v4(0x0a000000), 16), KL_ERROR);
    cr_assert_eq(kl_radix_tree_delete(t, v4(0x0a000000), 8), KL_OK);
    cr_assert_eq(kl_radix_tree_delete(t, v4(0x0a000000), 8), KL_ERROR);
    cr_assert_eq(kl_radix_tree_find(t, v4(0x0a000001)), KL_RADIX_NO_VALUE);
    cr_assert_eq(kl_radix_tree_insert(t, v4(0x0a000000), 8, 5), KL_OK);
    cr_assert_eq(kl_radix_tree_find(t, v4(0x0a000001)), 5);
}


Test(radix_tree, ipv6, .init = setup, .fini = teardown)
{
    kl_radix_tree_t *t;
    kl_cidr_t        c;

    t = kl_radix_tree_create(pool, 128);

    kl_cidr_parse((u_char *) "2001:db8::/32", 13, &c);
    cr_assert_eq(kl_radix_tree_insert(t, kl_cidr_addr(&c), c.prefix, 7), KL_OK);
    kl_cidr_parse((u_char *) "2001:db8::1", 11, &c);
    cr_assert_eq(kl_radix_tree_insert(t, kl_cidr_addr(&c), c.prefix, 8), KL_OK);

    cr_assert_eq(kl_radix_tree_find(t, kl_cidr_addr(&c)), 8);
    kl_cidr_parse((u_char *) "2001:db8::2", 11, &c);
    cr_assert_eq(kl_radix_tree_find(t, kl_cidr_addr(&c)), 7);
    kl_cidr_parse((u_char *) "2001:db9::1", 11, &c);
    cr_assert_eq(kl_radix_tree_find(t, kl_cidr_addr(&c)), KL_RADIX_NO_VALUE);
}


/* 2000 random networks against a linear longest-prefix scan. */
Test(radix_tree, random_against_scan, .init = setup, .fini = teardown)
{
    enum {
        N = 2000
    };
    static uint32_t  net[N], pfx[N];
    kl_radix_tree_t *t;
    uint32_t         a, mask;
    kl_uint_t        i, j, best, want;

    srandom(7);
    t = kl_radix_tree_create(pool, 32);

    for (i = 0; i < N; i++) {
        pfx[i] = 8 + random() % 25;
        mask = pfx[i] == 32 ? 0xffffffff : ~(0xffffffffu >> pfx[i]);
        /* few first octets, so networks nest */
        net[i] = ((uint32_t) (random() % 4) << 24 | (uint32_t) random()) & mask;

        if (kl_radix_tree_insert(t, v4(net[i]), pfx[i], i) == KL_BUSY) {
            pfx[i] = 0xff; /* a duplicate: the first keeps its value */
        }
    }

    for (j = 0; j < 20000; j++) {
        a = (uint32_t) (random() % 4) << 24 | (uint32_t) random();
        want = KL_RADIX_NO_VALUE;
        best = 0;

        for (i = 0; i < N; i++) {
            if (pfx[i] == 0xff) {
                continue;
            }

            mask = pfx[i] == 32 ? 0xffffffff : ~(0xffffffffu >> pfx[i]);

            if ((a & mask) == net[i]
                && (want == KL_RADIX_NO_VALUE || pfx[i] > best)) {
                want = i;
                best = pfx[i];
            }
        }

        cr_assert_eq(kl_radix_tree_find(t, v4(a)), want, "address %08x", a);
    }
}
