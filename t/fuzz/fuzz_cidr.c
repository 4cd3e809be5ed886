/* fuzz_cidr.c: libFuzzer target for core/cidr.c (allow/deny addresses). */

/*
 * The input, in an exact-size buffer, is parsed as ADDR[/BITS]. On
 * success the address must have no bit outside its mask, and the mask
 * must be contiguous ones then zeros.
 */

#include "kl_core.h"
#include "cidr.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char   *text;
    uint32_t  m;
    kl_int_t  rc;
    kl_uint_t i, zero;
    kl_cidr_t cidr;

    text = malloc(size ? size : 1);
    if (text == NULL) {
        abort();
    }

    memcpy(text, data, size);

    rc = kl_cidr_parse(text, size, &cidr);

    if (rc == KL_OK || rc == KL_DONE) {
        if (cidr.family == AF_INET) {
            m = ~ntohl(cidr.u.in.mask); /* ones after zeros */

            if ((cidr.u.in.addr & ~cidr.u.in.mask) || (m & (m + 1))) {
                abort();
            }

        } else if (cidr.family == AF_INET6) {
            zero = 0;

            for (i = 0; i < 16; i++) {
                if ((cidr.u.in6.addr[i] & ~cidr.u.in6.mask[i])
                    || (zero && cidr.u.in6.mask[i])) {
                    abort();
                }

                if (cidr.u.in6.mask[i] != 0xff) {
                    zero = 1;
                }
            }

        } else {
            abort();
        }
    }

    free(text);

    return 0;
}
