/* sha1.c: SHA-1 (FIPS 180-4), without OpenSSL, which kiln may be built without. */

#include "kl_config.h"
#include "kl_types.h"
#include "sha1.h"


#define kl_sha1_rol(x, n) (((x) << (n)) | ((x) >> (32 - (n))))


static void
kl_sha1_block(kl_sha1_t *ctx, const u_char *p)
{
    uint32_t  w[80], a, b, c, d, e, f, k, t;
    kl_uint_t i;

    for (i = 0; i < 16; i++) {
        w[i] = (uint32_t) p[4 * i] << 24 | (uint32_t) p[4 * i + 1] << 16
               | (uint32_t) p[4 * i + 2] << 8 | (uint32_t) p[4 * i + 3];
    }

    for (i = 16; i < 80; i++) {
        t = w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16];
        w[i] = kl_sha1_rol(t, 1);
    }

    a = ctx->h[0];
    b = ctx->h[1];
    c = ctx->h[2];
    d = ctx->h[3];
    e = ctx->h[4];

    for (i = 0; i < 80; i++) {
        if (i < 20) {
            f = (b & c) | (~b & d);
            k = 0x5a827999;

        } else if (i < 40) {
            f = b ^ c ^ d;
            k = 0x6ed9eba1;

        } else if (i < 60) {
            f = (b & c) | (b & d) | (c & d);
            k = 0x8f1bbcdc;

        } else {
            f = b ^ c ^ d;
            k = 0xca62c1d6;
        }

        t = kl_sha1_rol(a, 5) + f + e + k + w[i];
        e = d;
        d = c;
        c = kl_sha1_rol(b, 30);
        b = a;
        a = t;
    }

    ctx->h[0] += a;
    ctx->h[1] += b;
    ctx->h[2] += c;
    ctx->h[3] += d;
    ctx->h[4] += e;
}


void
kl_sha1_init(kl_sha1_t *ctx)
{
    ctx->h[0] = 0x67452301;
    ctx->h[1] = 0xefcdab89;
    ctx->h[2] = 0x98badcfe;
    ctx->h[3] = 0x10325476;
    ctx->h[4] = 0xc3d2e1f0;
    ctx->bytes = 0;
}


void
kl_sha1_update(kl_sha1_t *ctx, const void *data, size_t len)
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
        kl_sha1_block(ctx, ctx->buf);
        p += n;
        len -= n;
    }

    while (len >= 64) {
        kl_sha1_block(ctx, p);
        p += 64;
        len -= 64;
    }

    memcpy(ctx->buf, p, len);
}


void
kl_sha1_final(u_char digest[KL_SHA1_DIGEST_LEN], kl_sha1_t *ctx)
{
    size_t    used;
    uint64_t  bits;
    kl_uint_t i;

    bits = ctx->bytes << 3;
    used = (size_t) (ctx->bytes & 63);

    ctx->buf[used++] = 0x80;

    if (used > 56) {
        memset(ctx->buf + used, 0, 64 - used);
        kl_sha1_block(ctx, ctx->buf);
        used = 0;
    }

    memset(ctx->buf + used, 0, 56 - used);

    for (i = 0; i < 8; i++) {
        ctx->buf[56 + i] = (u_char) (bits >> (56 - 8 * i));
    }

    kl_sha1_block(ctx, ctx->buf);

    for (i = 0; i < 5; i++) {
        digest[4 * i] = (u_char) (ctx->h[i] >> 24);
        digest[4 * i + 1] = (u_char) (ctx->h[i] >> 16);
        digest[4 * i + 2] = (u_char) (ctx->h[i] >> 8);
        digest[4 * i + 3] = (u_char) ctx->h[i];
    }
}
