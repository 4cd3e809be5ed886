/* test_userid_cookie.c: modules/userid/userid_cookie.c: the cookie found in a Cookie line, decoded, encoded and printed as nginx 1.22 does. */

#include <criterion/criterion.h>
#include <string.h>

#include "kl_core.h"
#include "userid_cookie.h"


static kl_str_t
t_str(const char *s)
{
    kl_str_t v;

    v.data = (u_char *) s;
    v.len = strlen(s);

    return v;
}


static void
t_find(const char *line, const char *name, const char *expect)
{
    kl_int_t rc;
    kl_str_t n, value;

    n = t_str(name);
    rc = kl_http_userid_cookie_find((u_char *) line, strlen(line), &n, &value);

    if (expect == NULL) {
        cr_assert_eq(rc, KL_DECLINED, "%s in \"%s\"", name, line);
        return;
    }

    cr_assert_eq(rc, KL_OK, "%s in \"%s\"", name, line);
    cr_assert_eq(value.len, strlen(expect));
    cr_assert(memcmp(value.data, expect, value.len) == 0, "%s in \"%s\"", name,
              line);
}


Test(userid_cookie, find)
{
    t_find("uid=abc", "uid", "abc");
    t_find("a=b; uid=abc; c=d", "uid", "abc");
    t_find("a=b, uid=abc", "uid", "abc");
    t_find("UID = abc", "uid", "abc");
    t_find("xuid=abc", "uid", NULL);
    t_find("uid", "uid", NULL);
    t_find("uidx=1; uid=2", "uid", "2");
    t_find("uid=", "uid", "");
    t_find("", "uid", NULL);
    t_find("uid=a,b; c=d", "uid", "a,b");
}


/* Cookies Debian's nginx 1.22 set, and the $uid_set it printed for them. */
Test(userid_cookie, decode_nginx)
{
    u_char   hex[KL_HTTP_USERID_PRINTED_LEN];
    uint32_t uid[4], one;
    kl_str_t v;

    one = 1;
    if (*(u_char *) &one != 1) {
        cr_skip_test("nginx's values are of a little-endian machine");
    }

    v = t_str("fwAAAWsXWe4dTBSPAwMDAg==");
    cr_assert_eq(kl_http_userid_decode(&v, uid), KL_OK);
    kl_http_userid_print(hex, uid);
    cr_assert(memcmp(hex, "0100007FEE59176B8F144C1D02030303", 32) == 0);

    v = t_str("0gQAAO5ZF2uPFEwdAQAAAA==");
    cr_assert_eq(kl_http_userid_decode(&v, uid), KL_OK);
    kl_http_userid_print(hex, uid);
    cr_assert(memcmp(hex, "000004D26B1759EE1D4C148F00000001", 32) == 0);

    /* marked: only 22 characters count */
    v = t_str("fwAAAWsXWe4dTBSPAwMEAgZ=");
    cr_assert_eq(kl_http_userid_decode(&v, uid), KL_OK);
    kl_http_userid_print(hex, uid);
    cr_assert(memcmp(hex, "0100007FEE59176B8F144C1D02040303", 32) == 0);
}


Test(userid_cookie, decode_bad)
{
    uint32_t uid[4];
    kl_str_t v;

    v = t_str("short");
    cr_assert_eq(kl_http_userid_decode(&v, uid), KL_DECLINED);

    v = t_str("fwAAAWsXWe4dTBSPAwMDA");
    cr_assert_eq(kl_http_userid_decode(&v, uid), KL_DECLINED);

    v = t_str("fwAAAWsXWe4dTBSP!wMDAg==");
    cr_assert_eq(kl_http_userid_decode(&v, uid), KL_ERROR);

    v = t_str("fwAAAWsXWe4dTBSP-wMDAg==");
    cr_assert_eq(kl_http_userid_decode(&v, uid), KL_ERROR);

    /* a '=' early: decoded up to it, the rest 0 */
    v = t_str("fwAAAQ================");
    cr_assert_eq(kl_http_userid_decode(&v, uid), KL_OK);
    cr_assert_eq(uid[3], 0);
    cr_assert_eq(uid[2], 0);

    /* one character before a '=' is not base64 */
    v = t_str("fwAAA=================");
    cr_assert_eq(kl_http_userid_decode(&v, uid), KL_ERROR);
}


Test(userid_cookie, encode_round_trip)
{
    u_char   out[KL_HTTP_USERID_ENCODED_LEN], *e;
    uint32_t uid[4], back[4];
    kl_str_t v;
    int      i, j;

    for (i = 0; i < 64; i++) {
        for (j = 0; j < 16; j++) {
            ((u_char *) uid)[j] = (u_char) (i * 37 + j * 101);
        }

        e = kl_http_userid_encode(out, uid, '\0');
        cr_assert_eq(e - out, KL_HTTP_USERID_ENCODED_LEN);
        cr_assert_eq(out[22], '=');
        cr_assert_eq(out[23], '=');

        v.data = out;
        v.len = e - out;
        cr_assert_eq(kl_http_userid_decode(&v, back), KL_OK);
        cr_assert(memcmp(uid, back, 16) == 0);

        e = kl_http_userid_encode(out, uid, 'Z');
        cr_assert_eq(out[22], 'Z');
        cr_assert_eq(out[23], '=');
        cr_assert_eq(kl_http_userid_decode(&v, back), KL_OK);
        cr_assert(memcmp(uid, back, 16) == 0);
    }
}


Test(userid_cookie, encode_nginx)
{
    u_char   out[KL_HTTP_USERID_ENCODED_LEN];
    uint32_t uid[4];
    kl_str_t v;

    v = t_str("0gQAAO5ZF2uPFEwdAQAAAA==");
    cr_assert_eq(kl_http_userid_decode(&v, uid), KL_OK);
    kl_http_userid_encode(out, uid, '\0');
    cr_assert(memcmp(out, "0gQAAO5ZF2uPFEwdAQAAAA==", 24) == 0);
}


Test(userid_cookie, cookie_time)
{
    u_char buf[32], *e;
    time_t t;

    /* 2145916555: nginx's "max" */
    t = 2145916555;
    e = kl_http_userid_cookie_time(buf, t);
    cr_assert(memcmp(buf, "Thu, 31-Dec-37 23:55:55 GMT", e - buf) == 0);

    /* 2026-12-09 01:14:22 UTC: as nginx 1.22 wrote it */
    t = 1796778862;
    e = kl_http_userid_cookie_time(buf, t);
    cr_assert(memcmp(buf, "Wed, 09-Dec-26 01:14:22 GMT", e - buf) == 0, "%.*s",
              (int) (e - buf), buf);

    /* after 2037: four digits */
    t = 2208988800; /* 2040-01-01 */
    e = kl_http_userid_cookie_time(buf, t);
    cr_assert(memcmp(buf, "Sun, 01-Jan-2040 00:00:00 GMT", e - buf) == 0,
              "%.*s", (int) (e - buf), buf);
}
