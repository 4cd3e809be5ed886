/* test_http_parse_host.c: Host validation (kl_http_validate_host), table-driven. */

#include <criterion/criterion.h>

#include "kl_core.h"
#include "kl_http.h"


typedef struct {
    const char *in;
    kl_int_t    rc;
    const char *host; /* the normalised host on KL_OK */
} kl_test_host_t;


static const kl_test_host_t kl_test_hosts[] = {
    { "localhost", KL_OK, "localhost" },
    { "Example.COM.", KL_OK, "example.com" },
    { "example.com:8080", KL_OK, "example.com" },
    { "example.com:", KL_OK, "example.com" },
    { "a_b-c~d.e", KL_OK, "a_b-c~d.e" },
    { "127.0.0.1:80", KL_OK, "127.0.0.1" },
    { "[::1]", KL_OK, "[::1]" },
    { "[::1]:80", KL_OK, "[::1]" },
    { "[2001:DB8::1]", KL_OK, "[2001:db8::1]" },
    { "[::ffff:192.0.2.1]:443", KL_OK, "[::ffff:192.0.2.1]" },
    /* IPvFuture (RFC 3986 3.2.2), as nginx accepts it */
    { "[v1.x]", KL_OK, "[v1.x]" },
    { "[V1F.a:b-c~!$&'()*+,;=]:80", KL_OK, "[v1f.a:b-c~!$&'()*+,;=]" },
    { "[v1.]", KL_ERROR, NULL },
    { "[v.x]", KL_ERROR, NULL },
    { "[vg.x]", KL_ERROR, NULL },
    { "[v1x]", KL_ERROR, NULL },
    { "[v1.x/]", KL_ERROR, NULL },
    { "[v1.x]y", KL_ERROR, NULL },
    { "[v1.[x]", KL_ERROR, NULL },
    { "[v]", KL_ERROR, NULL },
    { "[x::1]", KL_ERROR, NULL },

    { "", KL_ERROR, NULL },
    { ".", KL_ERROR, NULL },
    { "..", KL_ERROR, NULL },
    { ".example.com", KL_ERROR, NULL },
    { "example..com", KL_ERROR, NULL },
    { "a/..", KL_ERROR, NULL },
    { "a\\b", KL_ERROR, NULL },
    { "user@host", KL_ERROR, NULL },
    { "host:8x", KL_ERROR, NULL },
    { "host:80:80", KL_ERROR, NULL },
    { "[::1", KL_ERROR, NULL },
    { "[]", KL_ERROR, NULL },
    { "[:]", KL_ERROR, NULL },

    /* regressions: the brackets took any hex digits, ':' and '.' */
    { "[..]", KL_ERROR, NULL },
    { "[...]", KL_ERROR, NULL },
    { "[1.2.3.4]", KL_ERROR, NULL },
    { "[::1::2]", KL_ERROR, NULL },
    { "[fffff::1]", KL_ERROR, NULL },
    { "[::1]..", KL_ERROR, NULL },
    { "[::1].x", KL_ERROR, NULL },
    { "[::1]x", KL_ERROR, NULL },
    { "[::1][::1]", KL_ERROR, NULL },
    { "[0:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0]", KL_ERROR, NULL },
};


Test(http_parse_host, table)
{
    size_t     i, n;
    kl_str_t   host;
    kl_int_t   rc;
    kl_pool_t *pool;

    pool = kl_pool_create(4096, NULL);
    cr_assert_not_null(pool);

    n = sizeof(kl_test_hosts) / sizeof(kl_test_hosts[0]);

    for (i = 0; i < n; i++) {
        host.data = (u_char *) kl_test_hosts[i].in;
        host.len = strlen(kl_test_hosts[i].in);

        rc = kl_http_validate_host(&host, pool);

        cr_expect_eq(rc, kl_test_hosts[i].rc, "\"%s\": rc %ld, want %ld",
                     kl_test_hosts[i].in, (long) rc,
                     (long) kl_test_hosts[i].rc);

        if (rc == KL_OK && kl_test_hosts[i].rc == KL_OK) {
            cr_expect(host.len == strlen(kl_test_hosts[i].host)
                          && memcmp(host.data, kl_test_hosts[i].host, host.len)
                                 == 0,
                      "\"%s\": \"%.*s\", want \"%s\"", kl_test_hosts[i].in,
                      (int) host.len, host.data, kl_test_hosts[i].host);
        }
    }

    kl_pool_free(pool);
}
