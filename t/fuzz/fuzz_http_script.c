/* fuzz_http_script.c: libFuzzer target for kl_http_script_parse. */

/*
 * The first byte's low bit turns captures on, the rest is the value. A
 * parse must tile the input exactly, in order: a literal holds no '$'
 * and never follows another literal, a name is name bytes and as long
 * as it can be (unless in braces), a capture is "$1".."$9". Counting
 * (parts NULL) gives the same answer, and a short parts array is filled
 * only up to its size. An error points at a '$' that truly names
 * nothing, after a prefix that parses.
 */

#include "kl_http.h"


static int
fuzz_name_char(u_char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z')
           || (ch >= '0' && ch <= '9') || ch == '_';
}


static void
fuzz_check_parts(u_char *src, size_t len, kl_uint_t captures,
                 kl_http_script_part_t *parts, kl_int_t n)
{
    size_t    pos, i, start, end;
    kl_int_t  k;
    kl_uint_t prev;

    pos = 0;
    prev = (kl_uint_t) -1;

    for (k = 0; k < n; k++) {
        kl_http_script_part_t *p = &parts[k];

        switch (p->type) {

        case KL_HTTP_SCRIPT_TEXT:
            if (prev == KL_HTTP_SCRIPT_TEXT || p->text.len == 0
                || p->text.data != src + pos
                || memchr(p->text.data, '$', p->text.len))
            {
                abort();
            }

            pos += p->text.len;
            break;

        case KL_HTTP_SCRIPT_CAPTURE:
            if (!captures || p->text.data != src + pos || p->text.len != 2
                || src[pos] != '$' || p->n < 1 || p->n > 9
                || src[pos + 1] != '0' + p->n)
            {
                abort();
            }

            pos += 2;
            break;

        case KL_HTTP_SCRIPT_VAR:
            if (p->text.len == 0 || src[pos] != '$') {
                abort();
            }

            start = pos + 1;

            if (src[start] == '{') {
                start++;
            }

            if (p->text.data != src + start) {
                abort();
            }

            for (i = 0; i < p->text.len; i++) {
                if (!fuzz_name_char(p->text.data[i])) {
                    abort();
                }
            }

            end = start + p->text.len;

            if (start == pos + 2) {
                if (end >= len || src[end] != '}') {
                    abort();
                }

                end++;

            } else {
                /* unbraced: the longest name, and not a capture */
                if ((end < len && fuzz_name_char(src[end]))
                    || (captures && src[start] >= '1' && src[start] <= '9'))
                {
                    abort();
                }
            }

            pos = end;
            break;

        default:
            abort();
        }

        prev = p->type;
    }

    if (pos != len) {
        abort();
    }
}


static void
fuzz_check_error(u_char *src, size_t len, kl_uint_t captures,
                 kl_http_script_error_t *err)
{
    size_t i;

    if (err->pos >= len || src[err->pos] != '$') {
        abort();
    }

    /* everything before the '$' parses */
    if (kl_http_script_parse(src, err->pos, captures, NULL, 0, NULL)
        == KL_ERROR) {
        abort();
    }

    i = err->pos + 1;

    if (err->code == KL_HTTP_SCRIPT_ERR_BRACKET) {
        if (i >= len || src[i] != '{' || err->name.data != src + i + 1) {
            abort();
        }

        for (i = 0; i < err->name.len; i++) {
            if (!fuzz_name_char(err->name.data[i])) {
                abort();
            }
        }

        i = err->pos + 2 + err->name.len;

        if (i < len && (src[i] == '}' || fuzz_name_char(src[i]))) {
            abort();
        }

        return;
    }

    if (err->code != KL_HTTP_SCRIPT_ERR_NAME) {
        abort();
    }

    /* "$" at the end, "${" at the end, "${}", or "$" and no name byte */
    if (i == len) {
        return;
    }

    if (src[i] == '{') {
        if (i + 1 != len && src[i + 1] != '}') {
            abort();
        }

        return;
    }

    if (fuzz_name_char(src[i])) {
        abort();
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char                *src;
    size_t                 len;
    kl_int_t               n, m, half;
    kl_uint_t              captures;
    kl_http_script_part_t *parts, *few;
    kl_http_script_error_t err, err2;

    if (size == 0) {
        return 0;
    }

    captures = data[0] & 1;
    len = size - 1;

    /* exact size, so that AddressSanitizer sees a read past len */
    src = malloc(len ? len : 1);
    if (src == NULL) {
        abort();
    }

    memcpy(src, data + 1, len);

    n = kl_http_script_parse(src, len, captures, NULL, 0, &err);

    if (n == KL_ERROR) {
        fuzz_check_error(src, len, captures, &err);

        m = kl_http_script_parse(src, len, captures, NULL, 0, &err2);

        if (m != KL_ERROR || err2.code != err.code || err2.pos != err.pos) {
            abort();
        }

        free(src);
        return 0;
    }

    parts = malloc((n + 1) * sizeof(kl_http_script_part_t));
    if (parts == NULL) {
        abort();
    }

    m = kl_http_script_parse(src, len, captures, parts, n, &err);

    if (m != n) {
        abort();
    }

    fuzz_check_parts(src, len, captures, parts, n);

    /* A short array: filled up to its size, the count still whole. */
    half = n / 2;
    few = malloc((half + 1) * sizeof(kl_http_script_part_t));
    if (few == NULL) {
        abort();
    }

    memset(&few[half], 0xa5, sizeof(kl_http_script_part_t));

    if (kl_http_script_parse(src, len, captures, few, half, &err) != n
        || (half && memcmp(few, parts, half * sizeof(kl_http_script_part_t)))
        || ((u_char *) &few[half])[0] != 0xa5)
    {
        abort();
    }

    free(few);
    free(parts);
    free(src);

    return 0;
}
