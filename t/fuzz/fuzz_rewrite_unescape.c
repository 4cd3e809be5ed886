/* fuzz_rewrite_unescape.c: libFuzzer target for kl_http_rewrite_unescape_redirect. */

/*
 * The result is never longer than the input and is written in place. An
 * input without '%' comes back as it was; one whose first '?' has no '%'
 * before it keeps everything from that '?' on, byte for byte, and ends
 * there too. The same input unescaped twice from fresh copies gives the
 * same bytes (no state outlives a call).
 */

#include "kl_http.h"
#include "rewrite.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char *a, *b, *q, *pct;
    size_t  n, m, tail;

    a = malloc(size + 1);
    b = malloc(size + 1);
    if (a == NULL || b == NULL) {
        abort();
    }

    memcpy(a, data, size);
    memcpy(b, data, size);

    n = kl_http_rewrite_unescape_redirect(a, size);
    m = kl_http_rewrite_unescape_redirect(b, size);

    if (n > size || n != m || memcmp(a, b, n) != 0) {
        abort();
    }

    pct = size ? memchr(data, '%', size) : NULL;

    if (pct == NULL && (n != size || memcmp(a, data, size) != 0)) {
        abort();
    }

    q = size ? memchr(data, '?', size) : NULL;

    if (q && (pct == NULL || pct > q)) {
        tail = size - (size_t) (q - data);

        if (n < tail || memcmp(a + n - tail, q, tail) != 0
            || memcmp(a, data, n - tail) != 0)
        {
            abort();
        }
    }

    free(a);
    free(b);

    return 0;
}
