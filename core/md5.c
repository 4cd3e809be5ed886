/* md5.c: MD5 (RFC 1321), without OpenSSL, which kiln may be built without. */

#include "kl_config.h"
#include "kl_types.h"
#include "md5.h"


static const uint32_t kl_md5_k[64] = {
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
    0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
};

static const u_char kl_md5_r[64] = {
    7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
    5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20,
    4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
    6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
};


static void
kl_md5_block(kl_md5_t *ctx, const u_char *p)
{
    uint32_t  w[16], a, b, c, d, f, t;
    kl_uint_t i, g;

    for (i = 0; i < 16; i++) {
        w[i] = (uint32_t) p[4 * i] | (uint32_t) p[4 * i + 1] << 8
               | (uint32_t) p[4 * i + 2] << 16 | (uint32_t) p[4 * i + 3] << 24;
    }

    a = ctx->s[0];
    b = ctx->s[1];
    c = ctx->s[2];
    d = ctx->s[3];

    for (i = 0; i < 64; i++) {
        if (i < 16) {
            f = (b & c) | (~b & d);
            g = i;

        } else if (i < 32) {
            f = (d & b) | (~d & c);
            g = (5 * i + 1) & 15;

        } else if (i < 48) {
            f = b ^ c ^ d;
            g = (3 * i + 5) & 15;

        } else {
            f = c ^ (b | ~d);
            g = (7 * i) & 15;
        }

        t = d;
        d = c;
        c = b;
        f = a + f + kl_md5_k[i] + w[g];
        b = b + ((f << kl_md5_r[i]) | (f >> (32 - kl_md5_r[i])));
        a = t;
    }

    ctx->s[0] += a;
    ctx->s[1] += b;
    ctx->s[2] += c;
    ctx->s[3] += d;
}


void
kl_md5_init(kl_md5_t *ctx)
{
    ctx->s[0] = 0x67452301;
    ctx->s[1] = 0xefcdab89;
    ctx->s[2] = 0x98badcfe;
    ctx->s[3] = 0x10325476;
    ctx->bytes = 0;
}


void
kl_md5_update(kl_md5_t *ctx, const void *data, size_t len)
{
    size_t        used, n;
    const u_char *p = data;

    used = (size_t) (ctx->bytes & 63);
    ctx->bytes += len;

    if (used) {
        n = 64 - used;

        if (len < n) {
            memcpy(ctx->buf + used, p, len);
            return;
        }

        memcpy(ctx->buf + used, p, n);
        kl_md5_block(ctx, ctx->buf);
        p += n;
        len -= n;
    }

    while (len >= 64) {
        kl_md5_block(ctx, p);
        p += 64;
        len -= 64;
    }

    memcpy(ctx->buf, p, len);
}


void
kl_md5_final(u_char digest[KL_MD5_DIGEST_LEN], kl_md5_t *ctx)
{
    size_t    used;
    uint64_t  bits;
    kl_uint_t i;

    bits = ctx->bytes << 3;
    used = (size_t) (ctx->bytes & 63);

    ctx->buf[used++] = 0x80;

    if (used > 56) {
        memset(ctx->buf + used, 0, 64 - used);
        kl_md5_block(ctx, ctx->buf);
        used = 0;
    }

    memset(ctx->buf + used, 0, 56 - used);

    for (i = 0; i < 8; i++) {
        ctx->buf[56 + i] = (u_char) (bits >> (8 * i));
    }

    kl_md5_block(ctx, ctx->buf);

    for (i = 0; i < 4; i++) {
        digest[4 * i] = (u_char) ctx->s[i];
        digest[4 * i + 1] = (u_char) (ctx->s[i] >> 8);
        digest[4 * i + 2] = (u_char) (ctx->s[i] >> 16);
        digest[4 * i + 3] = (u_char) (ctx->s[i] >> 24);
    }
}
