/* fuzz_gzip_accept.c: libFuzzer target for gzip's Accept-Encoding and User-Agent tests. */

/*
 * The input is the field value, copied to an exact-size buffer so that
 * AddressSanitizer sees a read past its end. Both answers must be 0 or 1,
 * the qvalue at most 100, and a value holding no "gzip" in any case must
 * never be accepted.
 */

#include "kl_core.h"
#include "gzip_accept.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static int
kl_fuzz_has_gzip(const u_char *p, size_t len)
{
    size_t i;

    for (i = 0; i + 4 <= len; i++) {
        if (kl_strncasecmp((u_char *) p + i, (u_char *) "gzip", 4) == 0) {
            return 1;
        }
    }

    return 0;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char   *value;
    kl_uint_t ok;

    value = malloc(size ? size : 1);
    if (value == NULL) {
        abort();
    }

    memcpy(value, data, size);

    ok = kl_http_gzip_accept(value, size);

    if (ok > 1 || (ok && !kl_fuzz_has_gzip(value, size))) {
        abort();
    }

    if (kl_http_gzip_msie6(value, size) > 1) {
        abort();
    }

    if (kl_http_gzip_quantity(value, value + size) > 100) {
        abort();
    }

    if (kl_http_gzip_directive(value, size, (const u_char *) "no-cache", 8) > 1)
    {
        abort();
    }

    free(value);

    return 0;
}
