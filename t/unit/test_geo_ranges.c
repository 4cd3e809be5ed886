/* test_geo_ranges.c: geo's ranges (cut, overlap, delete, lookup) and the X-Forwarded-For walk. */

#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "kl_core.h"
#include "geo/geo_ranges.h"

static kl_pool_t                  *pool;
static kl_http_geo_ranges_build_t  b;
static kl_http_geo_ranges_t        out;
static kl_http_geo_ranges_report_t rep;

static char A[] = "a", B[] = "b", C[] = "c";

#define IP(a, b, c, d)                                                         \
    ((uint32_t) (a) << 24 | (uint32_t) (b) << 16 | (uint32_t) (c) << 8 | (d))


static void
setup(void)
{
    pool = kl_pool_create(4096, NULL);
    cr_assert_not_null(pool);
    cr_assert_eq(kl_http_geo_ranges_init(&b, pool), KL_OK);
}


static void
teardown(void)
{
    kl_pool_free(pool);
}


static void
finish(void)
{
    cr_assert_eq(kl_http_geo_ranges_finish(&b, &out, pool), KL_OK);
}


Test(geo_ranges, nested_cut, .init = setup, .fini = teardown)
{
    cr_assert_eq(
        kl_http_geo_ranges_add(&b, IP(10, 0, 0, 0), IP(10, 0, 0, 255), A, &rep),
        KL_OK);
    cr_assert_eq(
        kl_http_geo_ranges_add(&b, IP(10, 0, 0, 10), IP(10, 0, 0, 20), B, &rep),
        KL_OK);
    cr_assert_eq(
        kl_http_geo_ranges_add(&b, IP(10, 0, 0, 0), IP(10, 0, 0, 3), C, &rep),
        KL_OK);
    finish();

    cr_assert_eq(kl_http_geo_ranges_find(&out, IP(10, 0, 0, 2)), C);
    cr_assert_eq(kl_http_geo_ranges_find(&out, IP(10, 0, 0, 4)), A);
    cr_assert_eq(kl_http_geo_ranges_find(&out, IP(10, 0, 0, 10)), B);
    cr_assert_eq(kl_http_geo_ranges_find(&out, IP(10, 0, 0, 20)), B);
    cr_assert_eq(kl_http_geo_ranges_find(&out, IP(10, 0, 0, 21)), A);
    cr_assert_eq(kl_http_geo_ranges_find(&out, IP(10, 0, 0, 255)), A);
    cr_assert_null(kl_http_geo_ranges_find(&out, IP(10, 0, 1, 0)));
    cr_assert_null(kl_http_geo_ranges_find(&out, IP(9, 255, 255, 255)));
}


Test(geo_ranges, overlap_and_duplicate, .init = setup, .fini = teardown)
{
    kl_http_geo_ranges_add(&b, IP(10, 0, 0, 5), IP(10, 0, 0, 20), A, &rep);

    cr_assert_eq(
        kl_http_geo_ranges_add(&b, IP(10, 0, 0, 0), IP(10, 0, 0, 10), B, &rep),
        KL_DECLINED);
    cr_assert_eq(rep.overlap[0], IP(10, 0, 0, 5));
    cr_assert_eq(rep.overlap[1], IP(10, 0, 0, 20));

    cr_assert_eq(
        kl_http_geo_ranges_add(&b, IP(10, 0, 0, 5), IP(10, 0, 0, 20), C, &rep),
        KL_BUSY);
    cr_assert_eq(rep.old, A);
    finish();
    cr_assert_eq(kl_http_geo_ranges_find(&out, IP(10, 0, 0, 7)), C);
}


/* A wide range is cut at /16 blocks, judged per block, joined again. */
Test(geo_ranges, wide_and_delete, .init = setup, .fini = teardown)
{
    cr_assert_eq(kl_http_geo_ranges_add(&b, IP(1, 0, 0, 0),
                                        IP(1, 255, 255, 255), A, &rep),
                 KL_OK);
    cr_assert_eq(
        kl_http_geo_ranges_add(&b, IP(1, 2, 3, 4), IP(1, 2, 3, 4), B, &rep),
        KL_OK);
    cr_assert_eq(
        kl_http_geo_ranges_add(&b, IP(5, 0, 0, 0), IP(5, 0, 0, 9), C, &rep),
        KL_OK);
    cr_assert_eq(kl_http_geo_ranges_delete(&b, IP(5, 0, 0, 0), IP(5, 0, 0, 9)),
                 KL_OK);
    cr_assert_eq(kl_http_geo_ranges_delete(&b, IP(5, 0, 0, 0), IP(5, 0, 0, 9)),
                 KL_DECLINED);
    finish();

    cr_assert_eq(out.n, 3);
    cr_assert_eq(kl_http_geo_ranges_find(&out, IP(1, 0, 0, 0)), A);
    cr_assert_eq(kl_http_geo_ranges_find(&out, IP(1, 2, 3, 4)), B);
    cr_assert_eq(kl_http_geo_ranges_find(&out, IP(1, 2, 3, 5)), A);
    cr_assert_eq(kl_http_geo_ranges_find(&out, IP(1, 255, 255, 255)), A);
    cr_assert_null(kl_http_geo_ranges_find(&out, IP(5, 0, 0, 1)));
}


/* Random disjoint ranges against a linear scan. */
Test(geo_ranges, random_lookup, .init = setup, .fini = teardown)
{
    enum {
        N = 3000
    };
    static uint32_t s[N], e[N];
    uint32_t        a, next;
    kl_uint_t       i, j;
    void           *want;

    srandom(11);
    next = 0;

    for (i = 0; i < N; i++) {
        s[i] = next + random() % 70000;
        e[i] = s[i] + random() % 70000;
        next = e[i] + 1;
        cr_assert_eq(kl_http_geo_ranges_add(&b, s[i], e[i],
                                            (void *) (uintptr_t) (i + 1), &rep),
                     KL_OK);
    }

    finish();

    for (j = 0; j < 20000; j++) {
        a = random() % (next + 1000);
        want = NULL;

        for (i = 0; i < N; i++) {
            if (a >= s[i] && a <= e[i]) {
                want = (void *) (uintptr_t) (i + 1);
            }
        }

        cr_assert_eq(kl_http_geo_ranges_find(&out, a), want, "addr %u", a);
    }
}


static kl_uint_t
trust_ten(void *data, int family, const u_char *addr)
{
    (void) data;
    return family == AF_INET && (addr[0] == 10 || addr[0] == 127);
}


static void
walk(const char *xff, kl_uint_t recursive, const char *start, kl_int_t rc,
     const char *want)
{
    int    family, wf;
    u_char addr[16], wa[16];

    cr_assert_eq(
        kl_cidr_parse_addr((u_char *) start, strlen(start), &family, addr),
        KL_OK);
    cr_assert_eq(kl_http_geo_forwarded((u_char *) xff, strlen(xff), recursive,
                                       trust_ten, NULL, &family, addr),
                 rc, "%s", xff);
    cr_assert_eq(kl_cidr_parse_addr((u_char *) want, strlen(want), &wf, wa),
                 KL_OK);
    cr_assert_eq(family, wf, "%s", xff);
    cr_assert(memcmp(addr, wa, wf == AF_INET ? 4 : 16) == 0, "%s", xff);
}


Test(geo_ranges, forwarded)
{
    walk("192.0.2.1", 0, "127.0.0.1", KL_OK, "192.0.2.1");
    walk("192.0.2.1", 0, "192.0.2.9", KL_DECLINED, "192.0.2.9");
    walk("192.0.2.1, 10.0.0.1", 0, "127.0.0.1", KL_OK, "10.0.0.1");
    walk("192.0.2.1, 10.0.0.1", 1, "127.0.0.1", KL_OK, "192.0.2.1");
    walk("10.0.0.2,10.0.0.1", 1, "127.0.0.1", KL_OK, "10.0.0.2");
    walk("192.0.2.1:80", 0, "127.0.0.1", KL_OK, "192.0.2.1");
    walk("[2001:db8::1]:443", 0, "127.0.0.1", KL_OK, "2001:db8::1");
    walk("2001:db8::2 ,  ", 0, "127.0.0.1", KL_OK, "2001:db8::2");
    walk("junk", 0, "127.0.0.1", KL_DECLINED, "127.0.0.1");
    walk("", 1, "127.0.0.1", KL_DECLINED, "127.0.0.1");
    walk("192.0.2.1, junk, 10.0.0.1", 1, "127.0.0.1", KL_OK, "10.0.0.1");
}
