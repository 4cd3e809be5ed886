/* test_murmurhash.c: kl_murmur_hash2 against published MurmurHash2 values. */

#include <criterion/criterion.h>

#include "kl_core.h"

#define S(lit) (const u_char *) (lit), sizeof(lit) - 1


Test(murmurhash, known_values)
{
    cr_assert_eq(kl_murmur_hash2(S("")), 0);
    cr_assert_eq(kl_murmur_hash2(S("hello")), 0xe56129cb);
}


/* Each tail length (0..3 bytes past the last word) takes its own path. */
Test(murmurhash, tails_differ)
{
    uint32_t h[8];
    size_t   i, j;

    for (i = 0; i < 8; i++) {
        h[i] = kl_murmur_hash2((const u_char *) "abcdefgh", i);
    }

    for (i = 0; i < 8; i++) {
        for (j = i + 1; j < 8; j++) {
            cr_assert_neq(h[i], h[j], "lengths %zu and %zu", i, j);
        }
    }
}


/* Bytes are read little-endian, whatever their alignment. */
Test(murmurhash, unaligned)
{
    u_char buf[16] = "xabcdefghij";

    cr_assert_eq(kl_murmur_hash2(buf + 1, 10),
                 kl_murmur_hash2(S("abcdefghij")));
}
