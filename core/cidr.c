/* cidr.c: "ADDR[/BITS]" for IPv4 and IPv6 (allow, deny; geo and realip may share it). */

#include "kl_config.h"
#include "kl_types.h"
#include "cidr.h"

#include <arpa/inet.h>


/* The BITS of "/BITS": 0..max, decimal, no sign; -1 if invalid. */
static kl_int_t
kl_cidr_bits(const u_char *p, size_t len, kl_int_t max)
{
    size_t   i;
    kl_int_t n;

    if (len == 0 || len > 3) {
        return -1;
    }

    n = 0;

    for (i = 0; i < len; i++) {
        if (p[i] < '0' || p[i] > '9') {
            return -1;
        }

        n = n * 10 + (p[i] - '0');
    }

    return n <= max ? n : -1;
}


kl_int_t
kl_cidr_parse(const u_char *p, size_t len, kl_cidr_t *cidr)
{
    char           text[INET6_ADDRSTRLEN + 1];
    size_t         alen, i;
    kl_int_t       bits, rc;
    kl_uint_t      ipv6;
    const u_char  *slash;
    struct in_addr in;

    slash = memchr(p, '/', len);
    alen = slash ? (size_t) (slash - p) : len;

    if (alen == 0 || alen >= sizeof(text) || memchr(p, '\0', alen) != NULL) {
        return KL_ERROR;
    }

    memcpy(text, p, alen);
    text[alen] = '\0';

    ipv6 = memchr(p, ':', alen) != NULL;

    memset(cidr, 0, sizeof(kl_cidr_t));
    bits = ipv6 ? 128 : 32;

    if (slash) {
        bits = kl_cidr_bits(slash + 1, len - alen - 1, bits);
        if (bits < 0) {
            return KL_ERROR;
        }
    }

    rc = KL_OK;

    if (!ipv6) {
        if (inet_pton(AF_INET, text, &in) != 1) {
            return KL_ERROR;
        }

        cidr->family = AF_INET;
        cidr->u.in.mask =
            bits ? htonl((uint32_t) (0xffffffffu << (32 - bits))) : 0;
        cidr->u.in.addr = in.s_addr & cidr->u.in.mask;

        return cidr->u.in.addr == in.s_addr ? KL_OK : KL_DONE;
    }

    if (inet_pton(AF_INET6, text, cidr->u.in6.addr) != 1) {
        return KL_ERROR;
    }

    cidr->family = AF_INET6;

    for (i = 0; i < 16; i++) {
        if (bits >= 8) {
            cidr->u.in6.mask[i] = 0xff;
            bits -= 8;

        } else {
            cidr->u.in6.mask[i] = (u_char) (0xff00 >> bits);
            bits = 0;
        }

        if (cidr->u.in6.addr[i] & ~cidr->u.in6.mask[i]) {
            cidr->u.in6.addr[i] &= cidr->u.in6.mask[i];
            rc = KL_DONE;
        }
    }

    return rc;
}
