/* fuzz_base64.c: libFuzzer target for kl_base64_decode and kl_base64url_decode. */

/*
 * The input is decoded both ways. What decodes must fit the bound, and
 * encoding it again must give the input back up to its first '=' (the
 * url form after mapping "-_" to "+/"), less the bits a short last
 * group carries past a whole byte.
 */

#include "kl_core.h"

#include <stdlib.h>
#include <string.h>


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char   *out, *enc;
    size_t    n, e, in;
    kl_uint_t url;

    out = malloc(kl_base64_decoded_length(size) + 1);
    enc = malloc(kl_base64_encoded_length(kl_base64_decoded_length(size)) + 1);

    if (out == NULL || enc == NULL) {
        abort();
    }

    for (url = 0; url < 2; url++) {
        if ((url ? kl_base64url_decode : kl_base64_decode)(out, &n, data, size)
            != KL_OK)
        {
            continue;
        }

        if (n > kl_base64_decoded_length(size)) {
            abort();
        }

        for (in = 0; in < size && data[in] != '='; in++) {
            /* void */
        }

        if (n != in * 6 / 8) {
            abort();
        }

        e = kl_base64_encode(enc, out, n);

        while (e && enc[e - 1] == '=') {
            e--;
        }

        /* all but the last character, whose low bits may differ */
        if (e != in || (e > 1 && memcmp(enc, data, e - 1) != 0 && !url)) {
            abort();
        }
    }

    free(out);
    free(enc);

    return 0;
}
