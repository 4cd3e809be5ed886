/* fuzz_http_uri.c: libFuzzer target for kl_http_normalize_uri. */

/*
 * The first byte chooses merge_slashes, the rest is the path. The result
 * must hold the invariants (no longer than the input, starts with '/', no
 * "." or ".." segment, no "//" when merging), must equal a slow reference
 * (decode everything, split at '/', resolve segments on a stack, as in
 * RFC 3986 section 5.2.4), must be the same in place, and normalising a
 * result that has no '%' left must give it back unchanged.
 */

#include "kl_config.h"
#include "parse.h"


static int
fuzz_hex(u_char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    c |= 0x20;

    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }

    return -1;
}


/* The reference: returns the length written to out, or -1. */
static ssize_t
fuzz_reference(u_char *src, size_t len, u_char *out, int merge)
{
    u_char *dec, **seg_start;
    size_t  i, n, nseg, *seg_len, start, slen;
    ssize_t rc, o;
    int     last, dot;

    if (len == 0 || src[0] != '/') {
        return -1;
    }

    dec = malloc(len);
    seg_start = malloc(len * sizeof(u_char *));
    seg_len = malloc(len * sizeof(size_t));

    if (dec == NULL || seg_start == NULL || seg_len == NULL) {
        abort();
    }

    rc = -1;

    for (i = 0, n = 0; i < len; i++) {
        if (src[i] == '\0') {
            goto done;
        }

        if (src[i] != '%') {
            dec[n++] = src[i];
            continue;
        }

        if (i + 2 >= len || fuzz_hex(src[i + 1]) < 0
            || fuzz_hex(src[i + 2]) < 0) {
            goto done;
        }

        dec[n] = (u_char) (fuzz_hex(src[i + 1]) * 16 + fuzz_hex(src[i + 2]));

        if (dec[n++] == '\0') {
            goto done;
        }

        i += 2;
    }

    /* segments after the leading '/' */
    nseg = 0;
    start = 1;

    for (i = 1; i <= n; i++) {
        if (i < n && dec[i] != '/') {
            continue;
        }

        slen = i - start;
        last = (i == n);
        dot = (slen == 1 && dec[start] == '.');

        if (slen == 2 && dec[start] == '.' && dec[start + 1] == '.') {
            if (nseg == 0) {
                goto done;
            }

            nseg--;
            dot = 1;
        }

        if (dot) {
            if (last) {
                seg_start[nseg] = dec + start;
                seg_len[nseg++] = 0;
            }

        } else if (slen > 0 || !merge || last) {
            seg_start[nseg] = dec + start;
            seg_len[nseg++] = slen;
        }

        start = i + 1;
    }

    o = 0;
    out[o++] = '/';

    for (i = 0; i < nseg; i++) {
        if (i > 0) {
            out[o++] = '/';
        }

        memcpy(out + o, seg_start[i], seg_len[i]);
        o += seg_len[i];
    }

    rc = o;

done:

    free(seg_len);
    free(seg_start);
    free(dec);

    return rc;
}


static void
fuzz_invariants(u_char *out, ssize_t n, int merge)
{
    ssize_t i, start;

    if (n < 1 || out[0] != '/') {
        abort();
    }

    for (start = 1, i = 1; i <= n; i++) {
        if (i < n && out[i] != '/') {
            if (out[i] == '\0') {
                abort();
            }

            continue;
        }

        if ((i - start == 1 && out[start] == '.')
            || (i - start == 2 && out[start] == '.' && out[start + 1] == '.'))
        {
            abort();
        }

        if (merge && i < n && i - start == 0) {
            abort();
        }

        start = i + 1;
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char *src, *dst, *ref, *again;
    size_t  len;
    ssize_t rc, rrc, arc;
    int     merge;

    if (size == 0) {
        return 0;
    }

    merge = data[0] & 1;
    len = size - 1;

    /* exact sizes, so that AddressSanitizer sees a write past len */
    src = malloc(len ? len : 1);
    dst = malloc(len ? len : 1);
    ref = malloc(len + 1);

    if (src == NULL || dst == NULL || ref == NULL) {
        abort();
    }

    memcpy(src, data + 1, len);

    rc = kl_http_normalize_uri(src, len, dst, merge);
    rrc = fuzz_reference(src, len, ref, merge);

    if (rc != rrc && !(rc == KL_ERROR && rrc == -1)) {
        abort();
    }

    if (rc >= 0) {
        if ((size_t) rc > len || memcmp(dst, ref, rc) != 0) {
            abort();
        }

        fuzz_invariants(dst, rc, merge);

        if (memchr(dst, '%', rc) == NULL) {
            again = malloc(rc);
            if (again == NULL) {
                abort();
            }

            arc = kl_http_normalize_uri(dst, rc, again, merge);

            if (arc != rc || memcmp(again, dst, rc) != 0) {
                abort();
            }

            free(again);
        }
    }

    /* in place */
    arc = kl_http_normalize_uri(src, len, src, merge);

    if (arc != rc || (rc > 0 && memcmp(src, dst, rc) != 0)) {
        abort();
    }

    free(ref);
    free(dst);
    free(src);

    return 0;
}
