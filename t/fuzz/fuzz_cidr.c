/* fuzz_cidr.c: libFuzzer target for core/cidr.c (allow/deny, realip, geo) and geo's X-Forwarded-For walk. */

/*
 * The input, in an exact-size buffer, is parsed as ADDR[/BITS]. On
 * success the mask must be contiguous ones then zeros, as many as the
 * prefix, the address must have no bit outside it, and printing the
 * network back and parsing that must give the same network. The same
 * bytes, read as an X-Forwarded-For value from a trusted peer, must give
 * an address or leave the peer's.
 */

#include "kl_core.h"
#include "cidr.h"
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


/* The mask is prefix ones then zeros, and the address is inside it. */
static void
fuzz_cidr_check_mask(const kl_cidr_t *c)
{
    uint32_t  m;
    kl_uint_t i, ones;

    if (c->family == AF_INET) {
        m = ~ntohl(c->u.in.mask); /* ones after zeros */

        if ((c->u.in.addr & ~c->u.in.mask) || (m & (m + 1))
            || (kl_uint_t) __builtin_popcount(~m) != c->prefix)
        {
            abort();
        }

        return;
    }

    if (c->family != AF_INET6) {
        abort();
    }

    ones = 0;

    for (i = 0; i < 128; i++) {
        if (c->u.in6.mask[i / 8] & (0x80 >> (i % 8))) {
            if (ones != i) {
                abort(); /* a one after a zero */
            }

            ones++;
        }
    }

    for (i = 0; i < 16; i++) {
        if (c->u.in6.addr[i] & ~c->u.in6.mask[i]) {
            abort();
        }
    }

    if (ones != c->prefix) {
        abort();
    }
}


static void
fuzz_cidr_round_trip(const kl_cidr_t *c)
{
    char      text[64];
    size_t    n;
    kl_cidr_t again;

    if (inet_ntop(c->family, kl_cidr_addr(c), text, sizeof(text)) == NULL) {
        abort();
    }

    n = strlen(text);
    n += snprintf(text + n, sizeof(text) - n, "/%u", (unsigned) c->prefix);

    if (kl_cidr_parse((u_char *) text, n, &again) != KL_OK
        || again.family != c->family || again.prefix != c->prefix
        || memcmp(&again.u, &c->u, sizeof(c->u)) != 0)
    {
        abort();
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int       family;
    u_char   *text, addr[16], buf[256];
    kl_int_t  rc;
    kl_cidr_t c;

    text = malloc(size ? size : 1);
    if (text == NULL) {
        abort();
    }

    memcpy(text, data, size);

    rc = kl_cidr_parse(text, size, &c);

    if (rc == KL_OK || rc == KL_DONE) {
        fuzz_cidr_check_mask(&c);
        fuzz_cidr_round_trip(&c);

    } else if (rc != KL_ERROR) {
        abort();
    }

    free(text);

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
