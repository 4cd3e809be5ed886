/*
 * charset_recode.c: recoding bytes between charsets with the tables that
 * charset_map builds: single-byte to single-byte, single-byte to UTF-8 and
 * UTF-8 to single-byte. Pure functions over bytes, so that the body filter
 * is only buffers and the recoding is unit-tested and fuzzed on its own.
 *
 * UTF-8 is decoded strictly (RFC 3629): overlong forms, surrogates and
 * values past U+10FFFF are not characters: each maximal subpart of an
 * invalid sequence becomes one '?' (Unicode's practice), and the byte
 * that broke it is read again. nginx swallows that byte, a character of
 * the text; kiln keeps it (docs/directives.md). A character the single-byte charset lacks goes out as a
 * numeric character reference, "&#1103;", as nginx sends it, so an HTML
 * page loses no text.
 */

#include "charset_recode.h"


void
kl_charset_recode_bytes(const u_char *table, u_char *dst, const u_char *src,
                        size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        dst[i] = table[src[i]];
    }
}


size_t
kl_charset_to_utf8(const u_char *table, const u_char *src, size_t n,
                   u_char *dst)
{
    size_t        i, len, total;
    const u_char *e;

    total = 0;

    for (i = 0; i < n; i++) {
        e = &table[src[i] * KL_CHARSET_UTF_LEN];
        len = e[0];

        if (dst) {
            kl_memcpy(dst + total, e + 1, len);
        }

        total += len;
    }

    return total;
}


uint32_t
kl_charset_utf8_decode(const u_char *p, size_t n, size_t *len)
{
    size_t   need, i;
    uint32_t cp;
    u_char   lo, hi;

    *len = 1;

    if (p[0] < 0x80) {
        return p[0];
    }

    lo = 0x80;
    hi = 0xbf;

    if (p[0] >= 0xc2 && p[0] <= 0xdf) {
        need = 2;
        cp = p[0] & 0x1f;

    } else if (p[0] >= 0xe0 && p[0] <= 0xef) {
        need = 3;
        cp = p[0] & 0x0f;
        lo = (p[0] == 0xe0) ? 0xa0 : 0x80; /* no overlong form */
        hi = (p[0] == 0xed) ? 0x9f : 0xbf; /* no surrogate */

    } else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
        need = 4;
        cp = p[0] & 0x07;
        lo = (p[0] == 0xf0) ? 0x90 : 0x80;
        hi = (p[0] == 0xf4) ? 0x8f : 0xbf; /* not past U+10FFFF */

    } else {
        return KL_CHARSET_BAD;
    }

    for (i = 1; i < need; i++) {
        if (i == n) {
            return KL_CHARSET_CUT;
        }

        if (p[i] < lo || p[i] > hi) {
            *len = i; /* the maximal subpart: one '?' for it, as Unicode */
            return KL_CHARSET_BAD;
        }

        cp = (cp << 6) | (p[i] & 0x3f);
        lo = 0x80;
        hi = 0xbf;
    }

    *len = need;

    return cp;
}


/* One character out: its byte, "&#N;" when the charset lacks it, or '?'. */
static size_t
kl_charset_emit(kl_charset_pages_t pages, uint32_t cp, u_char *dst)
{
    u_char  b, num[sizeof("&#1114111;")];
    size_t  len;
    u_char *page;

    if (cp == KL_CHARSET_BAD) {
        b = '?';

    } else if (cp < 0x80) {
        b = (u_char) cp;

    } else {
        page = (cp <= 0xffff) ? pages[cp >> 8] : NULL;
        b = page ? page[cp & 0xff] : 0;

        if (b == 0) {
            len = (size_t) (kl_slprintf(num, num + sizeof(num), "&#%ui;",
                                        (kl_uint_t) cp)
                            - num);
            if (dst) {
                kl_memcpy(dst, num, len);
            }

            return len;
        }
    }

    if (dst) {
        *dst = b;
    }

    return 1;
}


size_t
kl_charset_from_utf8(kl_charset_pages_t pages, kl_charset_utf8_state_t *st,
                     const u_char *src, size_t n, kl_uint_t last, u_char *dst)
{
    u_char   tmp[8];
    size_t   i, k, off, len, total, used;
    uint32_t cp;

    total = 0;
    i = 0;

    /* The bytes a previous buffer cut, completed with this one's first. */
    if (st->nsaved) {
        used = st->nsaved;
        k = (n < 4 - used) ? n : 4 - used;

        kl_memcpy(tmp, st->saved, used);
        kl_memcpy(tmp + used, src, k);

        for (off = 0; off < used; off += len) {
            cp = kl_charset_utf8_decode(tmp + off, used + k - off, &len);

            if (cp == KL_CHARSET_CUT) {
                /* all of src is in tmp and the character still goes on */
                if (!last) {
                    if (dst) {
                        st->nsaved = used + k - off;
                        kl_memcpy(st->saved, tmp + off, st->nsaved);
                    }

                    return total;
                }

                cp = KL_CHARSET_BAD;
                len = used + k - off;
            }

            total += kl_charset_emit(pages, cp, dst ? dst + total : NULL);
        }

        i = off - used;

        if (dst) {
            st->nsaved = 0;
        }
    }

    while (i < n) {
        if (src[i] < 0x80) {
            if (dst) {
                dst[total] = src[i];
            }

            total++;
            i++;
            continue;
        }

        cp = kl_charset_utf8_decode(src + i, n - i, &len);

        if (cp == KL_CHARSET_CUT) {
            if (!last) {
                if (dst) {
                    st->nsaved = n - i;
                    kl_memcpy(st->saved, src + i, n - i);
                }

                return total;
            }

            cp = KL_CHARSET_BAD;
            len = n - i;
        }

        total += kl_charset_emit(pages, cp, dst ? dst + total : NULL);
        i += len;
    }

    return total;
}
