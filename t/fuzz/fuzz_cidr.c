/* fuzz_cidr.c: libFuzzer target for kl_cidr_parse and geo's X-Forwarded-For walk. */

/*
 * The input is a network's text. A network parsed must have a prefix no
 * longer than its family allows and no bit set past it, and printing it
 * back and parsing that must give the same network. The same bytes, read
 * as an X-Forwarded-For value from a trusted peer, must give an address
 * or leave the peer's.
 */

#include "kl_core.h"
#include "geo/geo_ranges.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static kl_uint_t
fuzz_trust_all(void *data, int family, const u_char *addr)
{
    (void) data;
    (void) family;

    return addr[0] != 1; /* 1.x.x.x ends a recursive walk */
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int       family;
    char      text[64];
    u_char    addr[16], buf[256];
    size_t    bytes, i, n;
    kl_int_t  rc;
    kl_cidr_t c, again;

    rc = kl_cidr_parse(data, size, &c);

    if (rc != KL_ERROR) {
        bytes = c.family == AF_INET ? 4 : 16;

        if (c.prefix > bytes * 8) {
            abort();
        }

        for (i = c.prefix; i < bytes * 8; i++) {
            if (c.addr[i / 8] & (0x80 >> (i % 8))) {
                abort();
            }
        }

        if (inet_ntop(c.family, c.addr, text, sizeof(text)) == NULL) {
            abort();
        }

        n = strlen(text);
        n += snprintf(text + n, sizeof(text) - n, "/%u", (unsigned) c.prefix);

        if (kl_cidr_parse((u_char *) text, n, &again) != KL_OK
            || again.family != c.family || again.prefix != c.prefix
            || memcmp(again.addr, c.addr, bytes) != 0)
        {
            abort();
        }
    }

    if (size <= sizeof(buf)) {
        memcpy(buf, data, size);
        family = AF_INET;
        memcpy(addr, "\x7f\x00\x00\x01", 4);

        rc = kl_http_geo_forwarded(buf, size, size & 1, fuzz_trust_all, NULL,
                                   &family, addr);

        if (rc == KL_DECLINED
            && (family != AF_INET || memcmp(addr, "\x7f\x00\x00\x01", 4)))
        {
            abort();
        }
    }

    return 0;
}
