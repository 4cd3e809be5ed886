/* test_sha1.c: core/sha1.c against the vectors of FIPS 180 (MD5: test_md5.c). */

#include <criterion/criterion.h>

#include "kl_core.h"
#include "sha1.h"


static void
kl_test_hex(const u_char *d, size_t n, char *out)
{
    size_t i;

    for (i = 0; i < n; i++) {
        sprintf(out + 2 * i, "%02x", d[i]);
    }
}


static void
kl_test_sha1(const char *in, size_t len, const char *hex)
{
    char      out[41];
    u_char    d[KL_SHA1_DIGEST_LEN];
    size_t    i;
    kl_sha1_t ctx;

    /* whole, then a byte at a time: the block joins must not matter */
    kl_sha1_init(&ctx);
    kl_sha1_update(&ctx, in, len);
    kl_sha1_final(d, &ctx);
    kl_test_hex(d, sizeof(d), out);
    cr_expect_str_eq(out, hex, "sha1 of %zu bytes", len);

    kl_sha1_init(&ctx);
    for (i = 0; i < len; i++) {
        kl_sha1_update(&ctx, in + i, 1);
    }
    kl_sha1_final(d, &ctx);
    kl_test_hex(d, sizeof(d), out);
    cr_expect_str_eq(out, hex, "sha1 bytewise of %zu bytes", len);
}


Test(sha1, fips180)
{
    static char million[1000000];
    const char *s448 =
        "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";

    kl_test_sha1("", 0, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    kl_test_sha1("abc", 3, "a9993e364706816aba3e25717850c26c9cd0d89d");
    kl_test_sha1(s448, strlen(s448),
                 "84983e441c3bd26ebaae4aa1f95129e5e54670f1");

    memset(million, 'a', sizeof(million));
    kl_test_sha1(million, sizeof(million),
                 "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}
