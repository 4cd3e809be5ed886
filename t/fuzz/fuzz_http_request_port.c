/* fuzz_http_request_port.c: libFuzzer target for $request_port's parser. */

/*
 * The input is an authority, untrusted. The answer must be 0 or a port
 * (1..65535) whose decimal digits, once leading zeros are dropped, end
 * the input right after a ':' (after the ']' of a leading '[').
 */

#include "kl_http.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char   *p, *colon;
    size_t    i;
    kl_uint_t port, n;

    /* an exact size, so that AddressSanitizer sees a read past the end */
    p = malloc(size ? size : 1);
    if (p == NULL) {
        abort();
    }

    memcpy(p, data, size);

    port = kl_http_parse_authority_port(p, size);

    if (port > 65535) {
        abort();
    }

    if (port) {
        colon = NULL;

        for (i = size; i > 0; i--) {
            if (p[i - 1] == ':') {
                colon = &p[i - 1];
                break;
            }
        }

        if (colon == NULL || size - (colon + 1 - p) > 5) {
            abort();
        }

        if (size && p[0] == '[' && (colon == p || colon[-1] != ']')) {
            abort();
        }

        for (n = 0, i = colon + 1 - p; i < size; i++) {
            if (p[i] < '0' || p[i] > '9') {
                abort();
            }

            n = n * 10 + (p[i] - '0');
        }

        if (n != port) {
            abort();
        }
    }

    free(p);

    return 0;
}
