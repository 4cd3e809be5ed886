/* cidr.h: "ADDR[/BITS]" for IPv4 and IPv6, pure parsers and the match. */

#ifndef KL_CIDR_H
#define KL_CIDR_H

#include "kl_config.h"
#include "kl_types.h"

#include <netinet/in.h>
#include <string.h>

/*
 * A network: an address and its mask, both in network byte order, and
 * the mask's length in bits (allow/deny and realip test addr and mask;
 * geo's radix tree takes the address bytes and prefix).
 */
typedef struct {
    int       family; /* AF_INET or AF_INET6 */
    kl_uint_t prefix; /* 0..32 or 0..128 */
    union {
        struct {
            uint32_t addr;
            uint32_t mask;
        } in;
        struct {
            u_char addr[16];
            u_char mask[16];
        } in6;
    } u;
} kl_cidr_t;

/*
 * Parse [p, p + len): an IPv4 or IPv6 address, optionally "/BITS" (up
 * to 32 or 128; none means a single address). KL_OK; KL_DONE when the
 * address had bits set beyond the mask, which are cleared (nginx warns
 * about "low address bits"); KL_ERROR for anything else. Pure.
 */
kl_int_t kl_cidr_parse(const u_char *p, size_t len, kl_cidr_t *cidr);

/*
 * Parse an IPv4 or IPv6 address alone into addr (4 or 16 bytes, network
 * order), setting *family; KL_OK or KL_ERROR. Pure.
 */
kl_int_t kl_cidr_parse_addr(const u_char *p, size_t len, int *family,
                            u_char *addr);

/* The address of cidr as bytes in network order (4 or 16 of them). */
static inline const u_char *
kl_cidr_addr(const kl_cidr_t *cidr)
{
    return cidr->family == AF_INET ? (const u_char *) &cidr->u.in.addr
                                   : cidr->u.in6.addr;
}

/* Whether the IPv6 address a (16 bytes) is inside cidr (an AF_INET6 one). */
static inline kl_uint_t
kl_cidr_match6(const kl_cidr_t *cidr, const u_char *a)
{
    kl_uint_t i;

    for (i = 0; i < 16; i++) {
        if ((a[i] & cidr->u.in6.mask[i]) != cidr->u.in6.addr[i]) {
            return 0;
        }
    }

    return 1;
}

/* Whether the address a (4 or 16 bytes, as family) is inside cidr. */
static inline kl_uint_t
kl_cidr_match(const kl_cidr_t *cidr, int family, const u_char *a)
{
    uint32_t in;

    if (cidr->family != family) {
        return 0;
    }

    if (family == AF_INET6) {
        return kl_cidr_match6(cidr, a);
    }

    memcpy(&in, a, 4);

    return (in & cidr->u.in.mask) == cidr->u.in.addr;
}

#endif /* KL_CIDR_H */
