/* test_realip.c: includes modules/realip.c for its static parser of forwarded addresses and its walk of X-Forwarded-For lists against trusted CIDRs. */

#include <criterion/criterion.h>

#include "realip.c"


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


TestSuite(realip, .init = setup, .fini = teardown);


/* The text of a parsed address with its port ("" when it is not one). */
static const char *
parsed(const char *s)
{
    static u_char text[KL_SOCKADDR_STRLEN + 1];
    size_t        n;
    socklen_t     len;
    kl_sockaddr_t sa;

    if (kl_http_realip_parse((const u_char *) s, strlen(s), &sa, &len) != KL_OK)
    {
        return "";
    }

    n = kl_sock_ntop(&sa.sockaddr, len, text, KL_SOCKADDR_STRLEN, 1);
    text[n] = '\0';

    return (const char *) text;
}


Test(realip, parse)
{
    cr_expect_str_eq(parsed("192.0.2.1"), "192.0.2.1:0");
    cr_expect_str_eq(parsed("192.0.2.1:8080"), "192.0.2.1:8080");
    cr_expect_str_eq(parsed("2001:db8::1"), "[2001:db8::1]:0");
    cr_expect_str_eq(parsed("[2001:db8::1]"), "[2001:db8::1]:0");
    cr_expect_str_eq(parsed("[::1]:443"), "[::1]:443");

    cr_expect_str_eq(parsed(""), "");
    cr_expect_str_eq(parsed("192.0.2.1:"), "");
    cr_expect_str_eq(parsed("192.0.2.1:0"), "");
    cr_expect_str_eq(parsed("192.0.2.1:65536"), "");
    cr_expect_str_eq(parsed("192.0.2"), "");
    cr_expect_str_eq(parsed("192.0.2.256"), "");
    cr_expect_str_eq(parsed("[::1"), "");
    cr_expect_str_eq(parsed("[::1]x"), "");
    cr_expect_str_eq(parsed("[1.2.3.4]"), "");
    cr_expect_str_eq(parsed("host"), "");
    cr_expect_str_eq(parsed(" 1.2.3.4"), "");
}


/* Walk xff from 127.0.0.1 with 127.0.0.1 and 10.0.0.0/8 trusted. */
static const char *
walk(const char *xff, kl_uint_t recursive, kl_int_t *rc)
{
    static u_char         text[KL_SOCKADDR_STRLEN + 1];
    size_t                n;
    kl_cidr_t            *c;
    kl_array_t           *from;
    struct sockaddr_in    sin;
    kl_http_realip_addr_t addr;

    from = kl_array_create(pool, 2, sizeof(kl_cidr_t));
    c = kl_array_push(from);
    kl_cidr_parse((u_char *) "127.0.0.1", 9, c);
    c = kl_array_push(from);
    kl_cidr_parse((u_char *) "10.0.0.0/8", 10, c);

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(0x7f000001);
    addr.sockaddr = (struct sockaddr *) &sin;
    addr.socklen = sizeof(sin);

    *rc = kl_http_realip_walk(pool, &addr, (const u_char *) xff, strlen(xff),
                              from, recursive);

    n = kl_sock_ntop(addr.sockaddr, addr.socklen, text, KL_SOCKADDR_STRLEN, 0);
    text[n] = '\0';

    return (const char *) text;
}


Test(realip, walk)
{
    kl_int_t rc;

    cr_expect_str_eq(walk("1.1.1.1, 2.2.2.2", 0, &rc), "2.2.2.2");
    cr_expect_eq(rc, KL_OK);
    cr_expect_str_eq(walk("1.1.1.1, 10.0.0.1", 1, &rc), "1.1.1.1");
    cr_expect_eq(rc, KL_OK);
    cr_expect_str_eq(walk("1.1.1.1, 2.2.2.2, 10.0.0.1", 1, &rc), "2.2.2.2");
    cr_expect_eq(rc, KL_DONE);
    cr_expect_str_eq(walk("10.0.0.2,10.0.0.1 ,, ", 1, &rc), "10.0.0.2");
    cr_expect_eq(rc, KL_OK);
    cr_expect_str_eq(walk("junk, 10.0.0.1", 1, &rc), "10.0.0.1");
    cr_expect_eq(rc, KL_DONE);
    cr_expect_str_eq(walk("junk", 1, &rc), "127.0.0.1");
    cr_expect_eq(rc, KL_DECLINED);
    cr_expect_str_eq(walk("", 0, &rc), "127.0.0.1");
    cr_expect_eq(rc, KL_DECLINED);
    cr_expect_str_eq(walk(" , ,", 1, &rc), "127.0.0.1");
    cr_expect_eq(rc, KL_DECLINED);
}
