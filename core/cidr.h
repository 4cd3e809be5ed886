/* cidr.h: IPv4 and IPv6 addresses and networks ("192.0.2.0/24") from text. */

#ifndef KL_CIDR_H
#define KL_CIDR_H

#include "kl_config.h"
#include "kl_types.h"

/*
 * A network: family AF_INET or AF_INET6, the address as bytes in
 * network order (4 or 16 of them), and the prefix length in bits.
 */
typedef struct {
    int       family;
    kl_uint_t prefix;
    u_char    addr[16];
} kl_cidr_t;

/*
 * Parse "ADDR" (a host: the whole prefix) or "ADDR/N", ADDR an IPv4
 * dotted quad or an IPv6 address. KL_OK; KL_DONE when ADDR has bits set
 * past the prefix (they are cleared, and nginx warns "low address bits
 * of ... are meaningless"); KL_ERROR when it is not a network. Pure.
 */
kl_int_t kl_cidr_parse(const u_char *text, size_t len, kl_cidr_t *cidr);

/*
 * Parse an IPv4 or IPv6 address alone into addr (4 or 16 bytes), setting
 * *family; KL_OK or KL_ERROR. Pure.
 */
kl_int_t kl_cidr_parse_addr(const u_char *text, size_t len, int *family,
                            u_char *addr);

#endif /* KL_CIDR_H */
