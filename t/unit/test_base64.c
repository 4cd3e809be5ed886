/* test_base64.c: base64 and base64url encoding and decoding (RFC 4648 vectors). */

#include <criterion/criterion.h>

#include <string.h>

#include "kl_core.h"

#define S(lit) (const u_char *) (lit), sizeof(lit) - 1


Test(base64, rfc4648_vectors)
{
    static const char *v[][2] = {
        { "", "" },
        { "f", "Zg==" },
        { "fo", "Zm8=" },
        { "foo", "Zm9v" },
        { "foob", "Zm9vYg==" },
        { "fooba", "Zm9vYmE=" },
        { "foobar", "Zm9vYmFy" },
    };
    u_char out[16];
    size_t i, n;

    for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        n = kl_base64_encode(out, (const u_char *) v[i][0], strlen(v[i][0]));
        cr_assert_eq(n, strlen(v[i][1]));
        cr_assert(memcmp(out, v[i][1], n) == 0);

        cr_assert_eq(kl_base64_decode(out, &n, (const u_char *) v[i][1],
                                      strlen(v[i][1])),
                     KL_OK);
        cr_assert_eq(n, strlen(v[i][0]));
        cr_assert(memcmp(out, v[i][0], n) == 0);
    }
}


Test(base64, url_alphabet)
{
    u_char out[8];
    size_t n;

    /* 0xfb 0xff 0xbf: "+/+/" in base64, "-_-_" in base64url */
    cr_assert_eq(kl_base64url_decode(out, &n, S("-_-_")), KL_OK);
    cr_assert_eq(n, 3);
    cr_assert(memcmp(out, "\xfb\xff\xbf", 3) == 0);
    cr_assert_eq(kl_base64_decode(out, &n, S("+/+/")), KL_OK);
    cr_assert(memcmp(out, "\xfb\xff\xbf", 3) == 0);

    cr_assert_eq(kl_base64url_decode(out, &n, S("+/+/")), KL_ERROR);
    cr_assert_eq(kl_base64_decode(out, &n, S("-_-_")), KL_ERROR);
}


/* As nginx: no padding needed, '=' ends the input, one char over fails. */
Test(base64, nginx_edges)
{
    u_char out[8];
    size_t n;

    cr_assert_eq(kl_base64_decode(out, &n, S("Zm8")), KL_OK);
    cr_assert_eq(n, 2);
    cr_assert_eq(kl_base64_decode(out, &n, S("Zm8=junk!")), KL_OK);
    cr_assert_eq(n, 2);
    cr_assert_eq(kl_base64_decode(out, &n, S("Zm9vY")), KL_ERROR);
    cr_assert_eq(kl_base64_decode(out, &n, S("Zm 8")), KL_ERROR);
    cr_assert_eq(kl_base64_decode(out, &n, S("=")), KL_OK);
    cr_assert_eq(n, 0);
}
