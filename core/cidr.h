/* cidr.h: "ADDR[/BITS]" for IPv4 and IPv6, a pure parser and the match. */

#ifndef KL_CIDR_H
#define KL_CIDR_H

#include "kl_config.h"
#include "kl_types.h"

#include <netinet/in.h>

/* An address and its mask, both in network byte order. */
typedef struct {
    int family; /* AF_INET or AF_INET6 */
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

#endif /* KL_CIDR_H */
