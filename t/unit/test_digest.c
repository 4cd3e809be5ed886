/* test_digest.c: core/sha1.c and core/md5.c against the vectors of FIPS 180 and RFC 1321. */

#include <criterion/criterion.h>

#include "kl_core.h"
#include "sha1.h"
#include "md5.h"


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


static void
kl_test_md5(const char *in, size_t len, const char *hex)
{
    char     out[33];
    u_char   d[KL_MD5_DIGEST_LEN];
    size_t   i;
    kl_md5_t ctx;

    kl_md5_init(&ctx);
    kl_md5_update(&ctx, in, len);
    kl_md5_final(d, &ctx);
    kl_test_hex(d, sizeof(d), out);
    cr_expect_str_eq(out, hex, "md5 of %zu bytes", len);

    kl_md5_init(&ctx);
    for (i = 0; i < len; i++) {
        kl_md5_update(&ctx, in + i, 1);
    }
    kl_md5_final(d, &ctx);
    kl_test_hex(d, sizeof(d), out);
    cr_expect_str_eq(out, hex, "md5 bytewise of %zu bytes", len);
}


Test(digest, sha1)
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


Test(digest, md5)
{
    const char *s80 = "1234567890123456789012345678901234567890"
                      "1234567890123456789012345678901234567890";

    kl_test_md5("", 0, "d41d8cd98f00b204e9800998ecf8427e");
    kl_test_md5("a", 1, "0cc175b9c0f1b6a831c399e269772661");
    kl_test_md5("abc", 3, "900150983cd24fb0d6963f7d28e17f72");
    kl_test_md5("message digest", 14, "f96b697d7cb7938d525a2f31aaf161d0");
    kl_test_md5(s80, strlen(s80), "57edf4a22be3c955ac49da2e2107b67a");
}
