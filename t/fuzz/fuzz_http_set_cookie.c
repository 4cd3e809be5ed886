/* fuzz_http_set_cookie.c: libFuzzer target for kl_http_parse_set_cookie. */

/*
 * Byte 0 is the length of the cookie name, taken from the next bytes
 * (any bytes: a variable name is lowercase letters, digits and '_', but
 * the function must not care); the rest is the Set-Cookie field value,
 * untrusted. A cookie found must lie inside the value, before its first
 * ';', without blanks at either end; its name, blanks trimmed, must
 * equal NAME ignoring case.
 */

#include "kl_http.h"


static int
fuzz_blank(u_char c)
{
    return c == ' ' || c == '\t';
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char  *name, *field, *semi, *eq, *s, *e;
    size_t   nlen, flen, i;
    kl_int_t rc;
    kl_str_t value;

    if (size < 1) {
        return 0;
    }

    nlen = data[0] % 32;
    if (nlen > size - 1) {
        nlen = size - 1;
    }

    flen = size - 1 - nlen;

    /* exact sizes, so that AddressSanitizer sees a read past the end */
    name = malloc(nlen ? nlen : 1);
    field = malloc(flen ? flen : 1);

    if (name == NULL || field == NULL) {
        abort();
    }

    memcpy(name, data + 1, nlen);
    memcpy(field, data + 1 + nlen, flen);

    rc = kl_http_parse_set_cookie(field, flen, name, nlen, &value);

    if (rc != KL_OK && rc != KL_DECLINED) {
        abort();
    }

    if (rc == KL_OK) {
        semi = memchr(field, ';', flen);
        if (semi == NULL) {
            semi = field + flen;
        }

        eq = memchr(field, '=', semi - field);

        if (eq == NULL || value.data <= eq || value.data + value.len > semi
            || (value.len
                && (fuzz_blank(value.data[0])
                    || fuzz_blank(value.data[value.len - 1]))))
        {
            abort();
        }

        for (s = field; s < eq && fuzz_blank(*s); s++) {
            /* void */
        }

        for (e = eq; e > s && fuzz_blank(e[-1]); e--) {
            /* void */
        }

        if ((size_t) (e - s) != nlen) {
            abort();
        }

        for (i = 0; i < nlen; i++) {
            if (kl_tolower(s[i]) != kl_tolower(name[i])) {
                abort();
            }
        }
    }

    free(field);
    free(name);

    return 0;
}
