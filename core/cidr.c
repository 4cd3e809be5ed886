/* cidr.c: "ADDR[/BITS]" for IPv4 and IPv6 (allow, deny, realip, geo). */

#include "kl_config.h"
#include "kl_types.h"
#include "cidr.h"

#include <arpa/inet.h>
#include <sys/socket.h>


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
kl_cidr_parse_addr(const u_char *p, size_t len, int *family, u_char *addr)
{
    char text[INET6_ADDRSTRLEN + 1];

    /* inet_pton would stop at a NUL and take "10.0.0.1\0junk" */
    if (len == 0 || len >= sizeof(text) || memchr(p, '\0', len) != NULL) {
        return KL_ERROR;
    }

    memcpy(text, p, len);
    text[len] = '\0';

    if (memchr(p, ':', len) == NULL) {
        if (inet_pton(AF_INET, text, addr) != 1) {
            return KL_ERROR;
        }

        *family = AF_INET;
        return KL_OK;
    }

    if (inet_pton(AF_INET6, text, addr) != 1) {
        return KL_ERROR;
    }

    *family = AF_INET6;
    return KL_OK;
}


kl_int_t
kl_cidr_parse(const u_char *p, size_t len, kl_cidr_t *cidr)
{
    u_char        a[16];
    size_t        alen, i;
    kl_int_t      bits, rc;
    uint32_t      in;
    const u_char *slash;

    slash = memchr(p, '/', len);
    alen = slash ? (size_t) (slash - p) : len;

    memset(cidr, 0, sizeof(kl_cidr_t));

    if (kl_cidr_parse_addr(p, alen, &cidr->family, a) != KL_OK) {
        return KL_ERROR;
    }

    bits = cidr->family == AF_INET ? 32 : 128;

    if (slash) {
        bits = kl_cidr_bits(slash + 1, len - alen - 1, bits);
        if (bits < 0) {
            return KL_ERROR;
        }
    }

    cidr->prefix = (kl_uint_t) bits;

    if (cidr->family == AF_INET) {
        memcpy(&in, a, 4);
        cidr->u.in.mask =
            bits ? htonl((uint32_t) (0xffffffffu << (32 - bits))) : 0;
        cidr->u.in.addr = in & cidr->u.in.mask;

        return cidr->u.in.addr == in ? KL_OK : KL_DONE;
    }

    memcpy(cidr->u.in6.addr, a, 16);
    rc = KL_OK;

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
