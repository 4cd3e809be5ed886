/* fuzz_string.c: libFuzzer target for string.c number parsers, escapes. */

/*
 * Numbers (Content-Length, chunk sizes, ports, config values): kl_atoi,
 * kl_atoof, kl_atosz, kl_atotm and kl_hextoi must equal a reference that
 * accumulates in 128 bits and refuses past each type's maximum.
 *
 * Escapes (the access log, autoindex, Location): what kl_escape_uri,
 * kl_escape_html and kl_escape_json write must be as long as their
 * counting mode says, must decode back to the input, and must hold no
 * byte that the same escape would escape again.
 */

#include "kl_core.h"


static int
fuzz_hex(u_char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }

    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }

    return -1;
}


/* -1 for invalid or above max, else the value */
static __int128
fuzz_number(const u_char *p, size_t n, __int128 max, int base)
{
    __int128 v;
    int      d;

    if (n == 0) {
        return -1;
    }

    for (v = 0; n--; p++) {
        d = (base == 10) ? ((*p >= '0' && *p <= '9') ? *p - '0' : -1)
                         : fuzz_hex(*p);

        if (d < 0) {
            return -1;
        }

        v = v * base + d;

        if (v > max) {
            return -1;
        }
    }

    return v;
}


static void
fuzz_numbers(u_char *p, size_t n)
{
    if ((__int128) kl_atoi(p, n) != fuzz_number(p, n, KL_MAX_INT_T_VALUE, 10)
        || (__int128) kl_atoof(p, n)
               != fuzz_number(p, n, KL_MAX_OFF_T_VALUE, 10)
        || (__int128) kl_atosz(p, n) != fuzz_number(p, n, SSIZE_MAX, 10)
        || (__int128) kl_atotm(p, n)
               != fuzz_number(p, n, KL_MAX_TIME_T_VALUE, 10)
        || (__int128) kl_hextoi(p, n)
               != fuzz_number(p, n, KL_MAX_INT_T_VALUE, 16))
    {
        abort();
    }
}


static void
fuzz_escape_uri(u_char *src, size_t len, kl_uint_t type)
{
    u_char   *dst, c;
    size_t    i, o;
    uintptr_t n;
    int       hi, lo;

    n = kl_escape_uri(NULL, src, len, type);

    dst = malloc(len + n + 1);
    if (dst == NULL) {
        abort();
    }

    if (kl_escape_uri(dst, src, len, type) != n) {
        abort();
    }

    /* decode: every '%' starts an escape, and nothing is escaped twice */
    for (i = 0, o = 0; o < len + n; i++) {
        c = dst[o];

        if (c == '%') {
            if (o + 2 >= len + n) {
                abort();
            }

            hi = fuzz_hex(dst[o + 1]);
            lo = fuzz_hex(dst[o + 2]);

            if (hi < 0 || lo < 0 || i >= len || src[i] != hi * 16 + lo) {
                abort();
            }

            o += 3;
            continue;
        }

        if (i >= len || src[i] != c || kl_escape_uri(NULL, &c, 1, type) != 0) {
            abort();
        }

        o++;
    }

    if (i != len) {
        abort();
    }

    free(dst);
}


static void
fuzz_escape_html(u_char *src, size_t len)
{
    u_char *dst;
    size_t  n, i, o, k;
    static const struct {
        u_char      c;
        const char *entity;
    } ent[] = {
        { '<', "&lt;" }, { '>', "&gt;" }, { '&', "&amp;" }, { '"', "&quot;" }
    };

    n = kl_escape_html(NULL, src, len);

    dst = malloc(n + 1);
    if (dst == NULL) {
        abort();
    }

    if (kl_escape_html(dst, src, len) != n) {
        abort();
    }

    for (i = 0, o = 0; o < n; i++) {
        if (i >= len) {
            abort();
        }

        if (dst[o] == '<' || dst[o] == '>' || dst[o] == '"') {
            abort();
        }

        if (dst[o] != '&') {
            if (dst[o++] != src[i]) {
                abort();
            }

            continue;
        }

        for (k = 0; k < 4; k++) {
            if (o + strlen(ent[k].entity) <= n
                && memcmp(dst + o, ent[k].entity, strlen(ent[k].entity)) == 0)
            {
                break;
            }
        }

        if (k == 4 || src[i] != ent[k].c) {
            abort();
        }

        o += strlen(ent[k].entity);
    }

    if (i != len) {
        abort();
    }

    free(dst);
}


static void
fuzz_escape_json(u_char *src, size_t len)
{
    u_char *dst, *end, c;
    size_t  n, i, o;
    int     v, k, d;

    n = kl_escape_json_len(src, len);

    dst = malloc(len + n + 1);
    if (dst == NULL) {
        abort();
    }

    end = kl_escape_json(dst, src, len);

    if ((size_t) (end - dst) != len + n) {
        abort();
    }

    /* RFC 8259 7: a string's content, read back */
    for (i = 0, o = 0; o < len + n; i++) {
        c = dst[o];

        if (c <= 0x1f || c == '"' || i >= len) {
            abort();
        }

        if (c != '\\') {
            if (src[i] != c) {
                abort();
            }

            o++;
            continue;
        }

        if (o + 1 >= len + n) {
            abort();
        }

        switch (dst[o + 1]) {
        case '"':
        case '\\':
            v = dst[o + 1];
            break;
        case 'n':
            v = '\n';
            break;
        case 'r':
            v = '\r';
            break;
        case 't':
            v = '\t';
            break;
        case 'b':
            v = '\b';
            break;
        case 'f':
            v = '\f';
            break;
        case 'u':
            if (o + 5 >= len + n) {
                abort();
            }

            for (v = 0, k = 2; k < 6; k++) {
                d = fuzz_hex(dst[o + k]);
                if (d < 0) {
                    abort();
                }

                v = v * 16 + d;
            }

            o += 4;
            break;
        default:
            abort();
        }

        if (src[i] != v) {
            abort();
        }

        o += 2;
    }

    if (i != len) {
        abort();
    }

    free(dst);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char *copy;

    /* exact size, so that AddressSanitizer sees a read past the end */
    copy = malloc(size ? size : 1);
    if (copy == NULL) {
        abort();
    }

    memcpy(copy, data, size);

    fuzz_numbers(copy, size);
    fuzz_escape_uri(copy, size, KL_ESCAPE_URI);
    fuzz_escape_uri(copy, size, KL_ESCAPE_ARGS);
    fuzz_escape_uri(copy, size, KL_ESCAPE_HTML);
    fuzz_escape_html(copy, size);
    fuzz_escape_json(copy, size);

    free(copy);

    return 0;
}
