/* fuzz_regex.c: libFuzzer target for kl_regex_compile and kl_regex_exec. */

/*
 * Location, server_name and rewrite patterns come from the operator; the
 * subjects they are matched against (URIs, Host) from clients. Byte 0's
 * low bit asks for ~* (caseless), byte 1 is the pattern's length, the
 * rest is the pattern then the subject.
 *
 * A compile error must fit the caller's buffer (a small one here) in
 * nginx's wording; a compiled pattern must know its group count as PCRE2
 * does. A match returns at most groups + 1 pairs, each unset (-1, -1) or
 * inside the subject with start <= end; an array too small for them gets
 * the first pairs only, the same ones, and NO_MATCHED stays NO_MATCHED.
 */

#include "kl_core.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>


#define FUZZ_ERR_SIZE 48


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int               *caps, small[2];
    u_char            *copy, err[FUZZ_ERR_SIZE];
    size_t             plen, n, i;
    uint32_t           count;
    kl_int_t           rc, rc2;
    kl_str_t           subject;
    kl_log_t           log;
    kl_pool_t         *pool;
    kl_regex_compile_t c;
    static const char  prefix[] = "pcre2_compile() failed: ";

    /* patterns are config lines: keep backtracking within the timeout */
    if (size < 2 || size > 512) {
        return 0;
    }

    plen = data[1];
    if (plen > size - 2) {
        plen = size - 2;
    }

    /* exact size, so that AddressSanitizer sees a read past the end */
    n = size - 2;
    copy = malloc(n ? n : 1);
    memset(&log, 0, sizeof(log));
    pool = kl_pool_create(4096, &log);

    if (copy == NULL || pool == NULL) {
        abort();
    }

    memcpy(copy, data + 2, n);

    memset(&c, 0, sizeof(c));
    c.pattern.data = copy;
    c.pattern.len = plen;
    c.pool = pool;
    c.options = (data[0] & 1) ? KL_REGEX_CASELESS : 0;
    c.err.data = err;
    c.err.len = sizeof(err);

    if (kl_regex_compile(&c) != KL_OK) {
        if (c.err.len > sizeof(err)
            || (c.err.len >= sizeof(prefix) - 1
                && memcmp(err, prefix, sizeof(prefix) - 1) != 0))
        {
            abort();
        }

        goto done;
    }

    if (c.regex == NULL
        || pcre2_pattern_info(c.regex->code, PCRE2_INFO_CAPTURECOUNT, &count)
               != 0
        || count != c.regex->captures)
    {
        abort();
    }

    subject.data = copy + plen;
    subject.len = n - plen;

    caps = malloc((c.regex->captures + 1) * 2 * sizeof(int));
    if (caps == NULL) {
        abort();
    }

    rc = kl_regex_exec(c.regex, &subject, caps, (c.regex->captures + 1) * 2);

    if (rc >= 0) {
        if (rc < 1 || (kl_uint_t) rc > c.regex->captures + 1) {
            abort();
        }

        for (i = 0; i < (size_t) rc; i++) {
            if (caps[2 * i] == -1 && caps[2 * i + 1] == -1 && i > 0) {
                continue;
            }

            if (caps[2 * i] < 0 || caps[2 * i] > caps[2 * i + 1]
                || (size_t) caps[2 * i + 1] > subject.len)
            {
                abort();
            }
        }

        rc2 = kl_regex_exec(c.regex, &subject, small, 2);

        if (rc2 != 1 || small[0] != caps[0] || small[1] != caps[1]) {
            abort();
        }

    } else if (rc == KL_REGEX_NO_MATCHED) {
        if (kl_regex_exec(c.regex, &subject, small, 2) != KL_REGEX_NO_MATCHED) {
            abort();
        }
    }

    free(caps);

done:

    kl_pool_free(pool);
    free(copy);

    return 0;
}
