/* test_md5.c: kl_md5_* against the RFC 1321 test suite, whole, bytewise and split. */

#include <criterion/criterion.h>

#include <stdio.h>
#include <string.h>

#include "kl_core.h"


static void
md5_hex(const char *s, size_t len, char out[33])
{
    u_char   d[16];
    kl_md5_t ctx;
    int      i;

    kl_md5_init(&ctx);
    kl_md5_update(&ctx, s, len);
    kl_md5_final(d, &ctx);

    for (i = 0; i < 16; i++) {
        sprintf(out + 2 * i, "%02x", d[i]);
    }
}


/* A byte at a time: the block joins must not matter. */
static void
md5_hex_bytewise(const char *s, size_t len, char out[33])
{
    u_char   d[KL_MD5_DIGEST_LEN];
    kl_md5_t ctx;
    size_t   i;

    kl_md5_init(&ctx);

    for (i = 0; i < len; i++) {
        kl_md5_update(&ctx, s + i, 1);
    }

    kl_md5_final(d, &ctx);

    for (i = 0; i < KL_MD5_DIGEST_LEN; i++) {
        sprintf(out + 2 * i, "%02x", d[i]);
    }
}


Test(md5, rfc1321_suite)
{
    static const char *suite[][2] = {
        { "", "d41d8cd98f00b204e9800998ecf8427e" },
        { "a", "0cc175b9c0f1b6a831c399e269772661" },
        { "abc", "900150983cd24fb0d6963f7d28e17f72" },
        { "message digest", "f96b697d7cb7938d525a2f31aaf161d0" },
        { "abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b" },
        { "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
          "d174ab98d277d9f5a5611c2c9f419d9f" },
        { "1234567890123456789012345678901234567890123456789012345678901234"
          "5678901234567890",
          "57edf4a22be3c955ac49da2e2107b67a" },
    };
    char   hex[33];
    size_t i;

    for (i = 0; i < sizeof(suite) / sizeof(suite[0]); i++) {
        md5_hex(suite[i][0], strlen(suite[i][0]), hex);
        cr_assert_str_eq(hex, suite[i][1], "\"%s\"", suite[i][0]);
        md5_hex_bytewise(suite[i][0], strlen(suite[i][0]), hex);
        cr_assert_str_eq(hex, suite[i][1], "bytewise \"%s\"", suite[i][0]);
    }
}


/* The digest does not depend on how the input is cut (55, 56, 64 edges). */
Test(md5, split_updates)
{
    u_char   buf[200], whole[16], part[16];
    kl_md5_t ctx;
    size_t   len, cut;

    for (len = 0; len < sizeof(buf); len++) {
        buf[len] = (u_char) (len * 7 + 3);
    }

    for (len = 50; len < 140; len++) {
        kl_md5_init(&ctx);
        kl_md5_update(&ctx, buf, len);
        kl_md5_final(whole, &ctx);

        for (cut = 0; cut <= len; cut += 5) {
            kl_md5_init(&ctx);
            kl_md5_update(&ctx, buf, cut);
            kl_md5_update(&ctx, buf + cut, len - cut);
            kl_md5_final(part, &ctx);
            cr_assert(memcmp(whole, part, 16) == 0, "len %zu cut %zu", len,
                      cut);
        }
    }
}
