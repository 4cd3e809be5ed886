/* fuzz_log_escape.c: libFuzzer target for the access log's value escaping. */

/*
 * A logged variable holds client bytes ($request, $http_user_agent...).
 * For each escape= mode (default, json, none) and for a found and a
 * missing value, the length kl_http_log_value_len counts must be exactly
 * what kl_http_log_copy_value writes (the line buffer is sized by it),
 * and the text must decode back: default escaping leaves only printable
 * bytes other than '"' and '\', the rest as \xHH; a missing value is "-"
 * by default and nothing in json and none modes.
 *
 * modules/log/log.c is included for its static helpers; the archive's copy
 * of it is then never linked in.
 */

#include "../../modules/log/log.c"


static int
fuzz_hex(u_char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }

    return -1;
}


static void
fuzz_check_default(u_char *out, size_t n, const u_char *src, size_t len)
{
    size_t i, o;
    int    hi, lo;

    for (i = 0, o = 0; o < n; i++) {
        if (i >= len) {
            abort();
        }

        if (out[o] != '\\') {
            if (kl_http_log_must_escape(out[o]) || out[o] != src[i]) {
                abort();
            }

            o++;
            continue;
        }

        if (o + 3 >= n || out[o + 1] != 'x') {
            abort();
        }

        hi = fuzz_hex(out[o + 2]);
        lo = fuzz_hex(out[o + 3]);

        if (hi < 0 || lo < 0 || src[i] != hi * 16 + lo
            || !kl_http_log_must_escape(src[i]))
        {
            abort();
        }

        o += 4;
    }

    if (i != len) {
        abort();
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char                  *src, *out, *end, dash[4];
    size_t                   n;
    kl_uint_t                mode;
    kl_http_variable_value_t v;

    src = malloc(size ? size : 1);
    if (src == NULL) {
        abort();
    }

    memcpy(src, data, size);

    for (mode = KL_HTTP_LOG_ESCAPE_DEFAULT; mode <= KL_HTTP_LOG_ESCAPE_NONE;
         mode++) {
        memset(&v, 0, sizeof(v));
        v.data = src;
        v.len = size;
        v.valid = 1;

        /* exact size, so that AddressSanitizer sees a write past it */
        n = kl_http_log_value_len(&v, mode);
        out = malloc(n ? n : 1);
        if (out == NULL) {
            abort();
        }

        end = kl_http_log_copy_value(out, &v, mode);

        if ((size_t) (end - out) != n) {
            abort();
        }

        if (mode == KL_HTTP_LOG_ESCAPE_DEFAULT) {
            fuzz_check_default(out, n, src, size);

        } else if (mode == KL_HTTP_LOG_ESCAPE_NONE) {
            if (n != size || memcmp(out, src, size) != 0) {
                abort();
            }

        } else if (n != size + kl_escape_json_len(src, size)) {
            abort();
        }

        free(out);

        /* not found, and no value at all */
        v.not_found = 1;
        n = kl_http_log_value_len(&v, mode);
        end = kl_http_log_copy_value(dash, &v, mode);

        if (n != (mode == KL_HTTP_LOG_ESCAPE_DEFAULT ? 1u : 0u)
            || (size_t) (end - dash) != n || (n && dash[0] != '-')
            || kl_http_log_value_len(NULL, mode) != n
            || kl_http_log_copy_value(dash, NULL, mode) != end)
        {
            abort();
        }
    }

    free(src);

    return 0;
}
