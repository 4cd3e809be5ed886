/* md5.c: MD5 (RFC 1321) over bytes, written from the RFC's description. */

/*
 * MD5 is broken for collisions; secure_link_md5 and auth_basic's $apr1$
 * hashes use it only because nginx and Apache define them with it, and
 * links and user files made for them must keep working.
 * Blocks are read little-endian byte by byte, so the host's order and
 * alignment do not matter.
 */

#include "md5.h"

#include <string.h>

#define KL_MD5_FN_F(x, y, z) ((z) ^ ((x) & ((y) ^ (z))))
#define KL_MD5_FN_G(x, y, z) ((y) ^ ((z) & ((x) ^ (y))))
#define KL_MD5_FN_H(x, y, z) ((x) ^ (y) ^ (z))
#define KL_MD5_FN_I(x, y, z) ((y) ^ ((x) | ~(z)))

static const u_char kl_md5_shift[4][4] = {
    { 7, 12, 17, 22 }, { 5, 9, 14, 20 }, { 4, 11, 16, 23 }, { 6, 10, 15, 21 }
};

/* floor(abs(sin(i + 1)) * 2^32), RFC 1321 section 3.4 */
static const uint32_t kl_md5_t_table[64] = {
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a,
    0xa8304613, 0xfd469501, 0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be,
    0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821, 0xf61e2562, 0xc040b340,
    0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8,
    0x676f02d9, 0x8d2a4c8a, 0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c,
    0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70, 0x289b7ec6, 0xeaa127fa,
    0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92,
    0xffeff47d, 0x85845dd1, 0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1,
    0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391
};


static void
kl_md5_block(kl_md5_t *ctx, const u_char *p)
{
    uint32_t  x[16], a, b, c, d, f, tmp;
    kl_uint_t i, g, round;

    for (i = 0; i < 16; i++) {
        x[i] = (uint32_t) p[i * 4] | (uint32_t) p[i * 4 + 1] << 8
               | (uint32_t) p[i * 4 + 2] << 16 | (uint32_t) p[i * 4 + 3] << 24;
    }

    a = ctx->a;
    b = ctx->b;
    c = ctx->c;
    d = ctx->d;

    for (i = 0; i < 64; i++) {
        round = i / 16;

        switch (round) {
        case 0:
            f = KL_MD5_FN_F(b, c, d);
            g = i;
            break;
        case 1:
            f = KL_MD5_FN_G(b, c, d);
            g = (5 * i + 1) % 16;
            break;
        case 2:
            f = KL_MD5_FN_H(b, c, d);
            g = (3 * i + 5) % 16;
            break;
        default:
            f = KL_MD5_FN_I(b, c, d);
            g = (7 * i) % 16;
            break;
        }

        tmp = a + f + x[g] + kl_md5_t_table[i];
        tmp = (tmp << kl_md5_shift[round][i % 4])
              | (tmp >> (32 - kl_md5_shift[round][i % 4]));

        a = d;
        d = c;
        c = b;
        b = b + tmp;
    }

    ctx->a += a;
    ctx->b += b;
    ctx->c += c;
    ctx->d += d;
}


void
kl_md5_init(kl_md5_t *ctx)
{
    ctx->a = 0x67452301;
    ctx->b = 0xefcdab89;
    ctx->c = 0x98badcfe;
    ctx->d = 0x10325476;
    ctx->bytes = 0;
}


void
kl_md5_update(kl_md5_t *ctx, const void *data, size_t size)
{
    size_t        used, free;
    const u_char *p = data;

    used = (size_t) (ctx->bytes & 0x3f);
    ctx->bytes += size;

    if (used) {
        free = 64 - used;

        if (size < free) {
            memcpy(&ctx->buffer[used], p, size);
            return;
        }

        memcpy(&ctx->buffer[used], p, free);
        kl_md5_block(ctx, ctx->buffer);
        p += free;
        size -= free;
    }

    while (size >= 64) {
        kl_md5_block(ctx, p);
        p += 64;
        size -= 64;
    }

    memcpy(ctx->buffer, p, size);
}


void
kl_md5_final(u_char result[KL_MD5_DIGEST_LEN], kl_md5_t *ctx)
{
    size_t    used, free;
    uint64_t  bits;
    uint32_t  w[4];
    kl_uint_t i;

    used = (size_t) (ctx->bytes & 0x3f);
    ctx->buffer[used++] = 0x80;
    free = 64 - used;

    if (free < 8) {
        memset(&ctx->buffer[used], 0, free);
        kl_md5_block(ctx, ctx->buffer);
        used = 0;
        free = 64;
    }

    memset(&ctx->buffer[used], 0, free - 8);

    bits = ctx->bytes << 3;

    for (i = 0; i < 8; i++) {
        ctx->buffer[56 + i] = (u_char) (bits >> (8 * i));
    }

    kl_md5_block(ctx, ctx->buffer);

    w[0] = ctx->a;
    w[1] = ctx->b;
    w[2] = ctx->c;
    w[3] = ctx->d;

    for (i = 0; i < 16; i++) {
        result[i] = (u_char) (w[i / 4] >> (8 * (i % 4)));
    }

    memset(ctx, 0, sizeof(*ctx));
}
