/* test_http_upstream_accel.c: kl_http_upstream_accel_uri, X-Accel-Redirect's value as a URI and its args. */

#include <criterion/criterion.h>

#include "kl_http.h"
#include "upstream.h"


typedef struct {
    const char *value;
    const char *uri; /* NULL: unsafe */
    const char *args;
} kl_test_accel_t;


static const kl_test_accel_t kl_test_accels[] = {
    { "/a/b", "/a/b", "" },      { "/a?x=1&y", "/a", "x=1&y" },
    { "/a?", "/a", "" },         { "/d%73t%3Fq", "/dst?q", "" },
    { "/%41?%41", "/A", "%41" }, { "/a/..b/c", "/a/..b/c", "" },
    { "/a/b..", "/a/b..", "" },  { "/..x", "/..x", "" },
    { "/a/./b", "/a/./b", "" },

    { "", NULL, NULL },          { "a/b", NULL, NULL },
    { "?x", NULL, NULL },        { "/a/../b", NULL, NULL },
    { "/a/..", NULL, NULL },     { "/..", NULL, NULL },
    { "/a/..?x", NULL, NULL },   { "/a/%2e%2e/b", NULL, NULL },
    { "/a%2f..", NULL, NULL },   { "/a%00b", NULL, NULL },
    { "/a%zz", NULL, NULL },     { "/a%4", NULL, NULL },
    { "%2fa", "/a", "" },
};


Test(http_upstream_accel, uris)
{
    u_char   dst[64];
    size_t   i;
    kl_str_t value, uri, args;
    kl_int_t rc;

    for (i = 0; i < sizeof(kl_test_accels) / sizeof(kl_test_accels[0]); i++) {
        value.data = (u_char *) kl_test_accels[i].value;
        value.len = strlen(kl_test_accels[i].value);

        rc = kl_http_upstream_accel_uri(&value, dst, &uri, &args);

        if (kl_test_accels[i].uri == NULL) {
            cr_expect_eq(rc, KL_ERROR, "%s: unsafe", kl_test_accels[i].value);
            continue;
        }

        cr_assert_eq(rc, KL_OK, "%s: accepted", kl_test_accels[i].value);
        cr_expect_eq(uri.len, strlen(kl_test_accels[i].uri), "%s: uri length",
                     kl_test_accels[i].value);
        cr_expect(memcmp(uri.data, kl_test_accels[i].uri, uri.len) == 0,
                  "%s: uri", kl_test_accels[i].value);
        cr_expect_eq(args.len, strlen(kl_test_accels[i].args), "%s: args",
                     kl_test_accels[i].value);
        cr_expect(args.len == 0
                      || memcmp(args.data, kl_test_accels[i].args, args.len)
                             == 0,
                  "%s: args", kl_test_accels[i].value);
    }
}


Test(http_upstream_accel, a_nul_in_the_args)
{
    u_char   dst[16];
    kl_str_t value, uri, args;

    value.data = (u_char *) "/a?b\0c";
    value.len = 6;

    cr_assert_eq(kl_http_upstream_accel_uri(&value, dst, &uri, &args),
                 KL_ERROR);
}
