/* test_cidr.c: kl_cidr_parse and kl_cidr_parse_addr over IPv4 and IPv6 text. */

#include <criterion/criterion.h>

#include <string.h>
#include <sys/socket.h>

#include "kl_core.h"

#define S(lit) (const u_char *) (lit), sizeof(lit) - 1


Test(cidr, ipv4)
{
    kl_cidr_t c;

    cr_assert_eq(kl_cidr_parse(S("192.0.2.0/24"), &c), KL_OK);
    cr_assert_eq(c.family, AF_INET);
    cr_assert_eq(c.prefix, 24);
    cr_assert(memcmp(c.addr, "\xc0\x00\x02\x00", 4) == 0);

    cr_assert_eq(kl_cidr_parse(S("10.1.2.3"), &c), KL_OK);
    cr_assert_eq(c.prefix, 32);

    cr_assert_eq(kl_cidr_parse(S("0.0.0.0/0"), &c), KL_OK);
    cr_assert_eq(c.prefix, 0);
}


Test(cidr, host_bits_cleared)
{
    kl_cidr_t c;

    cr_assert_eq(kl_cidr_parse(S("192.0.2.77/25"), &c), KL_DONE);
    cr_assert(memcmp(c.addr, "\xc0\x00\x02\x00", 4) == 0);

    cr_assert_eq(kl_cidr_parse(S("192.0.2.200/25"), &c), KL_DONE);
    cr_assert(memcmp(c.addr, "\xc0\x00\x02\x80", 4) == 0);

    cr_assert_eq(kl_cidr_parse(S("2001:db8::1/64"), &c), KL_DONE);
    cr_assert_eq(c.addr[15], 0);
}


Test(cidr, ipv6)
{
    kl_cidr_t c;

    cr_assert_eq(kl_cidr_parse(S("2001:db8::/32"), &c), KL_OK);
    cr_assert_eq(c.family, AF_INET6);
    cr_assert_eq(c.prefix, 32);
    cr_assert(memcmp(c.addr, "\x20\x01\x0d\xb8", 4) == 0);

    cr_assert_eq(kl_cidr_parse(S("::1"), &c), KL_OK);
    cr_assert_eq(c.prefix, 128);
    cr_assert_eq(kl_cidr_parse(S("::/0"), &c), KL_OK);
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
