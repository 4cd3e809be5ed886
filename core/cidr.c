/* cidr.c: IPv4 and IPv6 addresses and networks read from configuration text. */

#include "cidr.h"

#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>


kl_int_t
kl_cidr_parse_addr(const u_char *text, size_t len, int *family, u_char *addr)
{
    char buf[INET6_ADDRSTRLEN + 1];

    if (len == 0 || len >= sizeof(buf)) {
        return KL_ERROR;
    }

    memcpy(buf, text, len);
    buf[len] = '\0';

    if (inet_pton(AF_INET, buf, addr) == 1) {
        *family = AF_INET;
        return KL_OK;
    }

    if (inet_pton(AF_INET6, buf, addr) == 1) {
        *family = AF_INET6;
        return KL_OK;
    }

    return KL_ERROR;
}


kl_int_t
kl_cidr_parse(const u_char *text, size_t len, kl_cidr_t *cidr)
{
    size_t        alen, i;
    kl_int_t      rc;
    kl_uint_t     bits, prefix;
    const u_char *slash, *p;

    slash = memchr(text, '/', len);
    alen = slash ? (size_t) (slash - text) : len;

    memset(cidr, 0, sizeof(kl_cidr_t));

    if (kl_cidr_parse_addr(text, alen, &cidr->family, cidr->addr) != KL_OK) {
        return KL_ERROR;
    }

    bits = cidr->family == AF_INET ? 32 : 128;

    if (slash == NULL) {
        cidr->prefix = bits;
        return KL_OK;
    }

    p = slash + 1;

    if (p == text + len || (size_t) (text + len - p) > 3) {
        return KL_ERROR;
    }

    prefix = 0;

    for (; p < text + len; p++) {
        if (*p < '0' || *p > '9') {
            return KL_ERROR;
        }

        prefix = prefix * 10 + (*p - '0');
    }

    if (prefix > bits) {
        return KL_ERROR;
    }

    cidr->prefix = prefix;
    rc = KL_OK;

    for (i = 0; i < bits / 8; i++) {
        u_char mask;

        if (prefix >= 8 * (i + 1)) {
            continue;
        }

        mask = prefix > 8 * i ? (u_char) (0xff << (8 - (prefix - 8 * i))) : 0;

        if (cidr->addr[i] & ~mask) {
            cidr->addr[i] &= mask;
            rc = KL_DONE;
        }
    }

    return rc;
}
