/* fuzz_userid_cookie.c: libFuzzer target for modules/userid/userid_cookie.c (the uid cookie found in a Cookie line and decoded). */

/*
 * The input is a Cookie line, untrusted, looked up for "uid". A value
 * found must lie inside the line; decoding it gives KL_OK, KL_DECLINED
 * (shorter than 22) or KL_ERROR, and a uid decoded from a value whose 22
 * first characters are all base64 encodes back to those characters (the
 * last one's spare bits aside).
 */

#include "kl_core.h"
#include "userid_cookie.h"


static int
fuzz_b64(u_char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
           || (c >= '0' && c <= '9') || c == '+' || c == '/';
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char   *line, out[KL_HTTP_USERID_ENCODED_LEN];
    size_t    i;
    uint32_t  uid[4];
    kl_int_t  rc;
    kl_str_t  name, value;
    kl_uint_t all;

    /* an exact size, so that AddressSanitizer sees a read past the end */
    line = malloc(size ? size : 1);
    if (line == NULL) {
        abort();
    }

    memcpy(line, data, size);
    kl_str_set(&name, "uid");

    rc = kl_http_userid_cookie_find(line, size, &name, &value);

    if (rc == KL_OK) {
        if (value.data < line || value.data + value.len > line + size) {
            abort();
        }

        rc = kl_http_userid_decode(&value, uid);

        if (rc != KL_OK && rc != KL_DECLINED && rc != KL_ERROR) {
            abort();
        }

        if ((rc == KL_DECLINED) != (value.len < 22)) {
            abort();
        }

        all = value.len >= 22;
        for (i = 0; all && i < 22; i++) {
            all = fuzz_b64(value.data[i]);
        }

        if (all) {
            if (rc != KL_OK) {
                abort();
            }

            kl_http_userid_encode(out, uid, '\0');

            if (memcmp(out, value.data, 21) != 0) {
                abort();
            }
        }

    } else if (rc != KL_DECLINED) {
        abort();
    }

    free(line);

    return 0;
}
