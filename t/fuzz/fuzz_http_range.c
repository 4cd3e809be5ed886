/* fuzz_http_range.c: libFuzzer target for the Range field parser. */

/*
 * The first byte picks max_ranges (0..15) and the next one the length of
 * the representation (a small one, or a large one); the rest is the field
 * value, copied to an exact-size buffer so that AddressSanitizer sees a
 * read past its end. A KL_OK answer must hold between 1 and max_ranges
 * ranges, each a non-empty [start, end) inside the representation, their
 * sum at most its length; every other answer is one of the documented
 * codes.
 */

#include "kl_core.h"
#include "kl_http.h"
#include "range_parse.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char          *value;
    off_t            length, sum;
    size_t           len;
    kl_int_t         rc;
    kl_uint_t        i, max;
    kl_pool_t       *pool;
    kl_array_t       ranges;
    kl_http_range_t *r;

    if (size < 2) {
        return 0;
    }

    max = data[0] & 0x0f;
    length = (data[1] & 0x80) ? (off_t) 1 << 40 | data[1] : data[1];
    len = size - 2;

    value = malloc(len ? len : 1);
    pool = kl_pool_create(4096, NULL);

    if (value == NULL || pool == NULL
        || kl_array_init(&ranges, pool, 1, sizeof(kl_http_range_t)) != KL_OK)
    {
        abort();
    }

    memcpy(value, data + 2, len);

    rc = kl_http_range_parse(value, value + len, length, max, &ranges);

    if (rc == KL_OK) {
        if (ranges.nelts == 0 || ranges.nelts > max) {
            abort();
        }

        r = ranges.elts;
        sum = 0;

        for (i = 0; i < ranges.nelts; i++) {
            if (r[i].start < 0 || r[i].start >= r[i].end || r[i].end > length) {
                abort();
            }

            sum += r[i].end - r[i].start;
        }

        if (sum > length) {
            abort();
        }

    } else if (rc != KL_DECLINED && rc != KL_HTTP_RANGE_NOT_SATISFIABLE) {
        abort();
    }

    kl_pool_free(pool);
    free(value);

    return 0;
}
