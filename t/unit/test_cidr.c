/* test_cidr.c: core/cidr.c: ADDR[/BITS] for IPv4 and IPv6, as allow/deny, realip and geo read them. */

#include <criterion/criterion.h>

#include "kl_core.h"
#include "cidr.h"

#include <arpa/inet.h>

#define S(lit) (const u_char *) (lit), sizeof(lit) - 1


typedef struct {
    const char *text;
    kl_int_t    rc;
    const char *addr; /* after masking */
    const char *mask;
} kl_test_cidr_t;


static const kl_test_cidr_t kl_test_cidrs[] = {
    { "127.0.0.1", KL_OK, "127.0.0.1", "255.255.255.255" },
    { "10.0.0.0/8", KL_OK, "10.0.0.0", "255.0.0.0" },
    { "10.1.2.3/8", KL_DONE, "10.0.0.0", "255.0.0.0" },
    { "0.0.0.0/0", KL_OK, "0.0.0.0", "0.0.0.0" },
    { "1.2.3.4/0", KL_DONE, "0.0.0.0", "0.0.0.0" },
    { "192.168.1.128/25", KL_OK, "192.168.1.128", "255.255.255.128" },
    { "192.168.1.129/32", KL_OK, "192.168.1.129", "255.255.255.255" },
    { "::1", KL_OK, "::1", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff" },
    { "2001:db8::/32", KL_OK, "2001:db8::", "ffff:ffff::" },
    { "2001:db8::1/32", KL_DONE, "2001:db8::", "ffff:ffff::" },
    { "::/0", KL_OK, "::", "::" },
    { "2001:db8:8000::/33", KL_OK, "2001:db8:8000::", "ffff:ffff:8000::" },
    { "::ffff:10.0.0.1", KL_OK, "::ffff:10.0.0.1",
      "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff" },
    { "10.0.0.0/33", KL_ERROR, NULL, NULL },
    { "::1/129", KL_ERROR, NULL, NULL },
    { "10.0.0.0/", KL_ERROR, NULL, NULL },
    { "10.0.0.0/8/8", KL_ERROR, NULL, NULL },
    { "10.0.0.0/-1", KL_ERROR, NULL, NULL },
    { "10.0.0.0/+8", KL_ERROR, NULL, NULL },
    { "10.0.0.0/0008", KL_ERROR, NULL, NULL },
    { "300.0.0.1", KL_ERROR, NULL, NULL },
    { "10.0.0", KL_ERROR, NULL, NULL },
    { "all", KL_ERROR, NULL, NULL },
    { "unix:", KL_ERROR, NULL, NULL },
    { "/8", KL_ERROR, NULL, NULL },
    { "", KL_ERROR, NULL, NULL },
    { "1::2::3", KL_ERROR, NULL, NULL },
    { "[::1]", KL_ERROR, NULL, NULL },
};


Test(cidr, table)
{
    u_char         expect[16];
    size_t         i;
    kl_int_t       rc;
    kl_cidr_t      cidr;
    const char    *t;
    struct in_addr in;

    for (i = 0; i < sizeof(kl_test_cidrs) / sizeof(kl_test_cidrs[0]); i++) {
        t = kl_test_cidrs[i].text;
        rc = kl_cidr_parse((u_char *) t, strlen(t), &cidr);

        cr_expect_eq(rc, kl_test_cidrs[i].rc, "%s: rc %ld", t, (long) rc);

        if (rc == KL_ERROR || kl_test_cidrs[i].addr == NULL) {
            continue;
        }

        if (strchr(t, ':') == NULL) {
            cr_assert_eq(cidr.family, AF_INET, "%s", t);
            inet_pton(AF_INET, kl_test_cidrs[i].addr, &in);
            cr_expect_eq(cidr.u.in.addr, in.s_addr, "%s: addr", t);
            inet_pton(AF_INET, kl_test_cidrs[i].mask, &in);
            cr_expect_eq(cidr.u.in.mask, in.s_addr, "%s: mask", t);
            continue;
        }

        cr_assert_eq(cidr.family, AF_INET6, "%s", t);
        inet_pton(AF_INET6, kl_test_cidrs[i].addr, expect);
        cr_expect(memcmp(cidr.u.in6.addr, expect, 16) == 0, "%s: addr", t);
        inet_pton(AF_INET6, kl_test_cidrs[i].mask, expect);
        cr_expect(memcmp(cidr.u.in6.mask, expect, 16) == 0, "%s: mask", t);
    }
}


/* Not NUL-terminated: the parser reads only len bytes. */
Test(cidr, length_bounded)
{
    kl_cidr_t cidr;

    cr_expect_eq(kl_cidr_parse((u_char *) "10.0.0.1/89", 8, &cidr), KL_OK);
    cr_expect_eq(kl_cidr_parse((u_char *) "10.0.0.1/89", 10, &cidr), KL_DONE);
    cr_expect_eq(kl_cidr_parse((u_char *) "10.0.0.1\0", 9, &cidr), KL_ERROR);
}


Test(cidr, match6)
{
    u_char    a[16];
    kl_cidr_t cidr;

    cr_assert_eq(kl_cidr_parse((u_char *) "2001:db8::/32", 13, &cidr), KL_OK);

    inet_pton(AF_INET6, "2001:db8:ffff::1", a);
    cr_expect(kl_cidr_match6(&cidr, a));
    inet_pton(AF_INET6, "2001:db9::1", a);
    cr_expect(!kl_cidr_match6(&cidr, a));
}


/* geo's view: the address as bytes in network order and the prefix. */
Test(cidr, ipv4)
{
    kl_cidr_t c;

    cr_assert_eq(kl_cidr_parse(S("192.0.2.0/24"), &c), KL_OK);
    cr_assert_eq(c.family, AF_INET);
    cr_assert_eq(c.prefix, 24);
    cr_assert(memcmp(kl_cidr_addr(&c), "\xc0\x00\x02\x00", 4) == 0);

    cr_assert_eq(kl_cidr_parse(S("10.1.2.3"), &c), KL_OK);
    cr_assert_eq(c.prefix, 32);

    cr_assert_eq(kl_cidr_parse(S("0.0.0.0/0"), &c), KL_OK);
    cr_assert_eq(c.prefix, 0);
}


Test(cidr, host_bits_cleared)
{
    kl_cidr_t c;

    cr_assert_eq(kl_cidr_parse(S("192.0.2.77/25"), &c), KL_DONE);
    cr_assert(memcmp(kl_cidr_addr(&c), "\xc0\x00\x02\x00", 4) == 0);

    cr_assert_eq(kl_cidr_parse(S("192.0.2.200/25"), &c), KL_DONE);
    cr_assert(memcmp(kl_cidr_addr(&c), "\xc0\x00\x02\x80", 4) == 0);

    cr_assert_eq(kl_cidr_parse(S("2001:db8::1/64"), &c), KL_DONE);
    cr_assert_eq(kl_cidr_addr(&c)[15], 0);
}


Test(cidr, ipv6)
{
    kl_cidr_t c;

    cr_assert_eq(kl_cidr_parse(S("2001:db8::/32"), &c), KL_OK);
    cr_assert_eq(c.family, AF_INET6);
    cr_assert_eq(c.prefix, 32);
    cr_assert(memcmp(kl_cidr_addr(&c), "\x20\x01\x0d\xb8", 4) == 0);

    cr_assert_eq(kl_cidr_parse(S("::1"), &c), KL_OK);
    cr_assert_eq(c.prefix, 128);
    cr_assert_eq(kl_cidr_parse(S("::/0"), &c), KL_OK);
    cr_assert_eq(c.prefix, 0);
}


Test(cidr, errors)
{
    kl_cidr_t c;

    cr_assert_eq(kl_cidr_parse(S("192.0.2.0/33"), &c), KL_ERROR);
    cr_assert_eq(kl_cidr_parse(S("2001:db8::/129"), &c), KL_ERROR);
    cr_assert_eq(kl_cidr_parse(S("192.0.2.0/"), &c), KL_ERROR);
    cr_assert_eq(kl_cidr_parse(S("192.0.2.0/2x"), &c), KL_ERROR);
    cr_assert_eq(kl_cidr_parse(S("192.0.2/24"), &c), KL_ERROR);
    cr_assert_eq(kl_cidr_parse(S("256.0.0.1"), &c), KL_ERROR);
    cr_assert_eq(kl_cidr_parse(S("example.com"), &c), KL_ERROR);
    cr_assert_eq(kl_cidr_parse(S(""), &c), KL_ERROR);
    cr_assert_eq(kl_cidr_parse(S("/8"), &c), KL_ERROR);
    cr_assert_eq(kl_cidr_parse(S("1.2.3.4/0024"), &c), KL_ERROR);
}


Test(cidr, parse_addr)
{
    int    family;
    u_char a[16];

    cr_assert_eq(kl_cidr_parse_addr(S("192.0.2.1"), &family, a), KL_OK);
    cr_assert_eq(family, AF_INET);
    cr_assert(memcmp(a, "\xc0\x00\x02\x01", 4) == 0);

    cr_assert_eq(kl_cidr_parse_addr(S("2001:db8::1"), &family, a), KL_OK);
    cr_assert_eq(family, AF_INET6);
    cr_assert(memcmp(a, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16) == 0);

    cr_assert_eq(kl_cidr_parse_addr(S("192.0.2.0/24"), &family, a), KL_ERROR);
    cr_assert_eq(kl_cidr_parse_addr(S("192.0.2.1\0x"), &family, a), KL_ERROR);
    cr_assert_eq(kl_cidr_parse_addr(S(""), &family, a), KL_ERROR);
    cr_assert_eq(kl_cidr_parse_addr(S("localhost"), &family, a), KL_ERROR);
}


Test(cidr, match)
{
    u_char    a[16];
    kl_cidr_t c;

    cr_assert_eq(kl_cidr_parse(S("192.0.2.128/25"), &c), KL_OK);

    inet_pton(AF_INET, "192.0.2.200", a);
    cr_expect(kl_cidr_match(&c, AF_INET, a));
    inet_pton(AF_INET, "192.0.2.127", a);
    cr_expect(!kl_cidr_match(&c, AF_INET, a));

    inet_pton(AF_INET6, "::ffff:192.0.2.200", a);
    cr_expect(!kl_cidr_match(&c, AF_INET6, a), "another family");

    cr_assert_eq(kl_cidr_parse(S("2001:db8::/32"), &c), KL_OK);
    inet_pton(AF_INET6, "2001:db8:1::5", a);
    cr_expect(kl_cidr_match(&c, AF_INET6, a));
    inet_pton(AF_INET, "32.1.13.184", a);
    cr_expect(!kl_cidr_match(&c, AF_INET, a), "another family");
}
