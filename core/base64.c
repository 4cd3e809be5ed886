/* base64.c: base64 and base64url (RFC 4648) encoding and decoding. */

#include "base64.h"

#define KL_B64_BAD 0xff


/* The value of c in the alphabet (url: "-_" for "+/"), or KL_B64_BAD. */
static u_char
kl_base64_value(u_char c, kl_uint_t url)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }

    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }

    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }

    if (c == (url ? '-' : '+')) {
        return 62;
    }

    if (c == (url ? '_' : '/')) {
        return 63;
    }

    return KL_B64_BAD;
}


static kl_int_t
kl_base64_decode_internal(u_char *dst, size_t *out, const u_char *src,
                          size_t len, kl_uint_t url)
{
    size_t    n, i;
    uint32_t  acc;
    kl_uint_t bits;
    u_char   *d;

    for (n = 0; n < len; n++) {
        if (src[n] == '=') {
            break;
        }

        if (kl_base64_value(src[n], url) == KL_B64_BAD) {
            return KL_ERROR;
        }
    }

    if (n % 4 == 1) {
        return KL_ERROR;
    }

    d = dst;
    acc = 0;
    bits = 0;

    for (i = 0; i < n; i++) {
        acc = (acc << 6) | kl_base64_value(src[i], url);
        bits += 6;

        if (bits >= 8) {
            bits -= 8;
            *d++ = (u_char) (acc >> bits);
        }
    }

    *out = d - dst;

    return KL_OK;
}


kl_int_t
kl_base64_decode(u_char *dst, size_t *out, const u_char *src, size_t len)
{
    return kl_base64_decode_internal(dst, out, src, len, 0);
}


kl_int_t
kl_base64url_decode(u_char *dst, size_t *out, const u_char *src, size_t len)
{
    return kl_base64_decode_internal(dst, out, src, len, 1);
}


size_t
kl_base64_encode(u_char *dst, const u_char *src, size_t len)
{
    static const u_char basis[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    u_char *d = dst;

    while (len > 2) {
        *d++ = basis[src[0] >> 2];
        *d++ = basis[((src[0] & 3) << 4) | (src[1] >> 4)];
        *d++ = basis[((src[1] & 0x0f) << 2) | (src[2] >> 6)];
        *d++ = basis[src[2] & 0x3f];
        src += 3;
        len -= 3;
    }

    if (len) {
        *d++ = basis[src[0] >> 2];

        if (len == 1) {
            *d++ = basis[(src[0] & 3) << 4];
            *d++ = '=';

        } else {
            *d++ = basis[((src[0] & 3) << 4) | (src[1] >> 4)];
            *d++ = basis[(src[1] & 0x0f) << 2];
        }

        *d++ = '=';
    }

    return d - dst;
}
