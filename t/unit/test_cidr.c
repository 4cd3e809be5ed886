/* test_cidr.c: core/cidr.c: ADDR[/BITS] for IPv4 and IPv6, as nginx's allow/deny read them. */

#include <criterion/criterion.h>

#include "kl_core.h"
#include "cidr.h"

#include <arpa/inet.h>


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
