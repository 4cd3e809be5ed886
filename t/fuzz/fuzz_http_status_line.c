/* fuzz_http_status_line.c: libFuzzer target for the upstream status line parser. */

/*
 * The first byte is the size of the pieces the input is fed in (0: at
 * once), the rest the bytes an upstream sent, in an exact-size buffer so
 * that AddressSanitizer sees a read past its end. KL_OK must come with a
 * code of 100..999, major version 1, start at the first byte, end before
 * the new b->pos, and the reason (if any) inside the line; AGAIN must
 * consume all it was given.
 */

#include "kl_core.h"
#include "upstream_parse.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char               *copy;
    size_t                len, step, fed;
    kl_int_t              rc;
    kl_buf_t              b;
    kl_http_status_line_t st;

    if (size < 1) {
        return 0;
    }

    step = data[0];
    len = size - 1;

    copy = malloc(len ? len : 1);
    if (copy == NULL) {
        abort();
    }

    memcpy(copy, data + 1, len);

    memset(&st, 0, sizeof(st));
    memset(&b, 0, sizeof(b));
    b.pos = copy;
    fed = step ? (step < len ? step : len) : len;
    b.last = copy + fed;

    for (;;) {
        rc = kl_http_parse_status_line(&st, &b);

        if (rc != KL_AGAIN) {
            break;
        }

        if (b.pos != b.last) {
            abort();
        }

        if (fed == len) {
            break;
        }

        fed = (fed + step < len) ? fed + step : len;
        b.last = copy + fed;
    }

    if (rc == KL_OK) {
        if (st.code < 100 || st.code > 999 || st.http_version / 1000 != 1
            || st.start != copy || st.end >= b.pos || b.pos > copy + len
            || (st.reason_start
                && (st.reason_start < st.start || st.reason_start >= st.end)))
        {
            abort();
        }

    } else if (rc != KL_AGAIN && rc != KL_HTTP_UPSTREAM_PARSE_INVALID) {
        abort();
    }

    free(copy);

    return 0;
}
