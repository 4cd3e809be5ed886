/* fuzz_http_upstream_accel.c: libFuzzer target for kl_http_upstream_accel_uri (X-Accel-Redirect). */

/*
 * The input is an X-Accel-Redirect value from a peer. An accepted one
 * gives a path starting with '/', no longer than the input, without a
 * NUL or a "/.." segment, and args that are a view of the input after
 * its first '?'.
 */

#include "kl_http.h"
#include "upstream.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char  *copy, *dst, *q, *p;
    kl_str_t value, uri, args;

    copy = malloc(size ? size : 1);
    dst = malloc(size ? size : 1);
    if (copy == NULL || dst == NULL) {
        free(copy);
        free(dst);
        return 0;
    }

    memcpy(copy, data, size);
    value.data = copy;
    value.len = size;

    if (kl_http_upstream_accel_uri(&value, dst, &uri, &args) == KL_OK) {
        if (uri.data != dst || uri.len == 0 || uri.len > size || dst[0] != '/'
            || memchr(uri.data, '\0', uri.len) != NULL)
        {
            abort();
        }

        for (p = uri.data; p + 3 <= uri.data + uri.len; p++) {
            if (p[0] == '/' && p[1] == '.' && p[2] == '.'
                && (p + 3 == uri.data + uri.len || p[3] == '/'))
            {
                abort();
            }
        }

        q = memchr(copy, '?', size);

        if (args.len && (q == NULL || args.data != q + 1)) {
            abort();
        }
    }

    free(copy);
    free(dst);
    return 0;
}
