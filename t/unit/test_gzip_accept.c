/* test_gzip_accept.c: the Accept-Encoding and msie6 tests of gzip (gzip_accept.c), against nginx 1.22's rules. */

#include <criterion/criterion.h>

#include "kl_core.h"
#include "gzip_accept.h"


typedef struct {
    const char *value;
    kl_uint_t   ok;
} kl_test_case_t;


/* Each value is passed in an exact-size copy: no NUL after it. */
static kl_uint_t
kl_test_accept(const char *s)
{
    size_t    len;
    u_char   *p;
    kl_uint_t ok;

    len = strlen(s);
    p = malloc(len ? len : 1);
    cr_assert_not_null(p);
    memcpy(p, s, len);

    ok = kl_http_gzip_accept(p, len);

    free(p);

    return ok;
}


static const kl_test_case_t kl_test_accepts[] = {
    { "gzip", 1 },
    { "GZIP", 1 },
    { "Gzip", 1 },
    { "gzip,deflate", 1 },
    { "gzip, deflate, br", 1 },
    { "deflate, gzip", 1 },
    { "deflate,gzip", 1 },
    { "br;q=1.0, gzip;q=0.8, *;q=0.1", 1 },
    { "gzip ", 1 },
    { "gzip  ,br", 1 },
    { "gzip;q=1", 1 },
    { "gzip;q=1.0", 1 },
    { "gzip;q=1.000", 1 },
    { "gzip;q=0.5", 1 },
    { "gzip;q=0.001", 1 },
    { "gzip; q=0.5", 1 },
    { "gzip ;q=0.5", 1 },
    { "gzip;Q=0.5", 1 },
    { "gzip;q=0.5,br", 1 },
    { "gzip;q=0.5 ,br", 1 },
    { "gzip;", 1 },
    { "gzip; ", 1 },

    /* refused: q=0, malformed qvalues, other tokens */
    { "gzip;q=0", 0 },
    { "gzip;q=0.0", 0 },
    { "gzip;q=0.000", 0 },
    { "gzip; q=0", 0 },
    { "gzip;q=0, *", 0 },
    { "gzip;q=0,identity", 0 },
    { "gzip;q=1.1", 0 },
    { "gzip;q=1.0000", 0 },
    { "gzip;q=0.0001", 0 },
    { "gzip;q=2", 0 },
    { "gzip;q=", 0 },
    { "gzip;q", 0 },
    { "gzip;q=.5", 0 },
    { "gzip;q=0.5x", 0 },
    { "gzip;x=1", 0 },
    { "gzip;level=1", 0 },
    { "x-gzip", 0 },
    { "gzipped", 0 },
    { "gzipx, gzip", 0 },
    { "x-gzip, gzip", 1 },
    { "*", 0 },
    { "*;q=1", 0 },
    { "identity", 0 },
    { "deflate", 0 },
    { "br", 0 },
    { "", 0 },
    { "gzi", 0 },
    { "gzip\t", 0 },
    { "\tgzip", 0 },
    { ";gzip", 0 },
};


Test(gzip_accept, table)
{
    size_t i;

    for (i = 0; i < sizeof(kl_test_accepts) / sizeof(kl_test_case_t); i++) {
        cr_expect_eq(kl_test_accept(kl_test_accepts[i].value),
                     kl_test_accepts[i].ok, "\"%s\": want %lu",
                     kl_test_accepts[i].value,
                     (unsigned long) kl_test_accepts[i].ok);
    }
}


Test(gzip_accept, quantity)
{
    const u_char *s;

    s = (const u_char *) "1";
    cr_expect_eq(kl_http_gzip_quantity(s, s + 1), 100);
    s = (const u_char *) "0.5";
    cr_expect_eq(kl_http_gzip_quantity(s, s + 3), 5);
    s = (const u_char *) "0.25";
    /* nginx adds the digits: 2 + 5 */
    cr_expect_eq(kl_http_gzip_quantity(s, s + 4), 7);
    s = (const u_char *) "1.001";
    cr_expect_eq(kl_http_gzip_quantity(s, s + 5), 0);
    s = (const u_char *) "0 ";
    cr_expect_eq(kl_http_gzip_quantity(s, s + 2), 0);
    s = (const u_char *) "1,";
    cr_expect_eq(kl_http_gzip_quantity(s, s + 2), 100);
    s = (const u_char *) "";
    cr_expect_eq(kl_http_gzip_quantity(s, s), 0);
}


static kl_uint_t
kl_test_msie6(const char *s)
{
    size_t    len;
    u_char   *p;
    kl_uint_t v;

    len = strlen(s);
    p = malloc(len ? len : 1);
    cr_assert_not_null(p);
    memcpy(p, s, len);

    v = kl_http_gzip_msie6(p, len);

    free(p);

    return v;
}


Test(gzip_accept, msie6)
{
    cr_expect_eq(kl_test_msie6("Mozilla/4.0 (compatible; MSIE 6.0; Windows NT "
                               "5.1)"),
                 1);
    cr_expect_eq(kl_test_msie6("Mozilla/4.0 (compatible; MSIE 6.0; Windows NT "
                               "5.1; SV1)"),
                 0);
    cr_expect_eq(kl_test_msie6("Mozilla/4.0 (compatible; MSIE 5.5; Windows "
                               "98)"),
                 1);
    cr_expect_eq(kl_test_msie6("Mozilla/4.0 (compatible; MSIE 4.01; Windows "
                               "95)"),
                 1);
    cr_expect_eq(kl_test_msie6("Mozilla/4.0 (compatible; MSIE 7.0; Windows NT "
                               "6.0)"),
                 0);
    cr_expect_eq(kl_test_msie6("Mozilla/4.0 (compatible; MSIE 6.0; Opera 9)"),
                 0);
    cr_expect_eq(kl_test_msie6("Mozilla/5.0 (X11; Linux x86_64)"), 0);
    /* nginx wants the byte after "MSIE 6." */
    cr_expect_eq(kl_test_msie6("MSIE 6."), 0);
    cr_expect_eq(kl_test_msie6("MSIE 6.0"), 1);
    cr_expect_eq(kl_test_msie6("MSIE 6.0;"), 1);
    cr_expect_eq(kl_test_msie6("MSIE 6x0;"), 0);
    cr_expect_eq(kl_test_msie6(""), 0);
}


static kl_uint_t
kl_test_directive(const char *value, const char *name)
{
    size_t    len;
    u_char   *p;
    kl_uint_t v;

    len = strlen(value);
    p = malloc(len ? len : 1);
    cr_assert_not_null(p);
    memcpy(p, value, len);

    v = kl_http_gzip_directive(p, len, (const u_char *) name, strlen(name));

    free(p);

    return v;
}


/* Cache-Control items, as nginx's ngx_http_parse_multi_header_lines. */
Test(gzip_accept, directive)
{
    cr_expect_eq(kl_test_directive("no-cache", "no-cache"), 1);
    cr_expect_eq(kl_test_directive("NO-CACHE", "no-cache"), 1);
    cr_expect_eq(kl_test_directive("max-age=0, no-cache", "no-cache"), 1);
    cr_expect_eq(kl_test_directive("max-age=0,no-cache ", "no-cache"), 1);
    cr_expect_eq(kl_test_directive("no-cache , private", "private"), 1);
    cr_expect_eq(kl_test_directive("no-cache , private", "no-cache"), 1);
    cr_expect_eq(kl_test_directive("no-cache=\"x\"", "no-cache"), 0);
    cr_expect_eq(kl_test_directive("no-cachex", "no-cache"), 0);
    cr_expect_eq(kl_test_directive("xno-cache", "no-cache"), 0);
    cr_expect_eq(kl_test_directive("public", "private"), 0);
    cr_expect_eq(kl_test_directive("", "private"), 0);
    cr_expect_eq(kl_test_directive("priv", "private"), 0);
}
