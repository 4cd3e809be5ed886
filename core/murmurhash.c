/* murmurhash.c: MurmurHash2 (Austin Appleby's, 32-bit, seed 0). */

#include "murmurhash.h"

#define KL_MURMUR_M 0x5bd1e995


uint32_t
kl_murmur_hash2(const u_char *data, size_t len)
{
    uint32_t h, k;

    /* nginx seeds with the length as a 32-bit value */
    h = (uint32_t) len;

    while (len >= 4) {
        k = (uint32_t) data[0];
        k |= (uint32_t) data[1] << 8;
        k |= (uint32_t) data[2] << 16;
        k |= (uint32_t) data[3] << 24;

        k *= KL_MURMUR_M;
        k ^= k >> 24;
        k *= KL_MURMUR_M;

        h *= KL_MURMUR_M;
        h ^= k;

        data += 4;
        len -= 4;
    }

    switch (len) {
    case 3:
        h ^= (uint32_t) data[2] << 16;
        /* fall through */
    case 2:
        h ^= (uint32_t) data[1] << 8;
        /* fall through */
    case 1:
        h ^= data[0];
        h *= KL_MURMUR_M;
    }

    h ^= h >> 13;
    h *= KL_MURMUR_M;
    h ^= h >> 15;

    return h;
}
