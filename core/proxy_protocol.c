/*
 * proxy_protocol.c: the PROXY protocol header a load balancer sends
 * before the client's bytes (haproxy's proxy-protocol.txt), read as
 * nginx reads it, and the TLVs of a v2 header looked up by nginx's names.
 *
 * Unlike nginx, which reads the header from the first segment alone and
 * calls a header cut across two segments broken, the parser tells a
 * valid beginning (KL_AGAIN) from a wrong one, so a header may arrive a
 * byte at a time; a v1 line still ends within its 107 bytes.
 */

#include "kl_config.h"
#include "kl_types.h"
#include "string.h"
#include "proxy_protocol.h"

#include <arpa/inet.h>


static const u_char kl_proxy_protocol_v2_sig[12] = { '\r', '\n', '\r', '\n',
                                                     '\0', '\r', '\n', 'Q',
                                                     'U',  'I',  'T',  '\n' };


typedef struct {
    const char *name;
    kl_uint_t   type;
    kl_uint_t   ssl; /* 1: a sub-TLV of the SSL TLV; 2: its verify field */
} kl_proxy_protocol_tlv_name_t;


static const kl_proxy_protocol_tlv_name_t kl_proxy_protocol_tlv_names[] = {
    { "alpn", 0x01, 0 },        { "authority", 0x02, 0 },
    { "unique_id", 0x05, 0 },   { "ssl", 0x20, 0 },
    { "ssl_verify", 0, 2 },     { "ssl_version", 0x21, 1 },
    { "ssl_cn", 0x22, 1 },      { "ssl_cipher", 0x23, 1 },
    { "ssl_sig_alg", 0x24, 1 }, { "ssl_key_alg", 0x25, 1 },
    { "netns", 0x30, 0 },       { NULL, 0, 0 }
};


#define kl_pp_u16(p) ((kl_uint_t) (p)[0] << 8 | (kl_uint_t) (p)[1])


/*
 * Does buf[0..len) match the start of lit? KL_OK when all of lit came,
 * KL_AGAIN when buf ends first, KL_ERROR on a difference.
 */
static kl_int_t
kl_proxy_protocol_prefix(const u_char *buf, size_t len, const char *lit)
{
    size_t n, i;

    n = kl_strlen(lit);

    for (i = 0; i < n; i++) {
        if (i == len) {
            return KL_AGAIN;
        }

        if (buf[i] != (u_char) lit[i]) {
            return KL_ERROR;
        }
    }

    return KL_OK;
}


/*
 * A field of a v1 line from *p up to sep: an address of hex digits,
 * colons and dots, or a port of decimal digits (at most 65535).
 */
static kl_int_t
kl_proxy_protocol_v1_field(const u_char **p, const u_char *last, u_char sep,
                           kl_uint_t port, kl_str_t *text, in_port_t *num)
{
    u_char        ch;
    kl_uint_t     n;
    const u_char *start;

    start = *p;
    n = 0;

    for (;;) {
        if (*p == last) {
            return KL_AGAIN;
        }

        ch = *(*p)++;

        if (ch == sep) {
            break;
        }

        if (ch >= '0' && ch <= '9') {
            n = n * 10 + (ch - '0');

            if (port && n > 65535) {
                return KL_ERROR;
            }

            continue;
        }

        if (port
            || (ch != ':' && ch != '.' && (ch < 'a' || ch > 'f')
                && (ch < 'A' || ch > 'F')))
        {
            return KL_ERROR;
        }
    }

    if (*p - 1 == start) {
        return KL_ERROR;
    }

    text->data = (u_char *) start;
    text->len = *p - 1 - start;

    if (num) {
        *num = (in_port_t) n;
    }

    return KL_OK;
}


/* "PROXY TCP4|TCP6 SRC DST SPORT DPORT\r\n" or "PROXY UNKNOWN ...\r\n". */
static kl_int_t
kl_proxy_protocol_v1(const u_char *buf, size_t len, kl_proxy_protocol_t *pp)
{
    kl_int_t      rc;
    kl_str_t      port;
    const u_char *p, *last;

    pp->version = 1;

    /* Nothing past the protocol's 107 bytes is ever looked at. */
    last = buf + kl_min(len, KL_PROXY_PROTOCOL_V1_MAX);
    p = buf + 6;

    rc = kl_proxy_protocol_prefix(p, last - p, "UNKNOWN");

    if (rc != KL_ERROR) {
        for (p += 7; rc == KL_OK && p + 1 < last; p++) {
            if (p[0] == '\r' && p[1] == '\n') {
                pp->len = p + 2 - buf;
                return KL_OK;
            }
        }

        goto again;
    }

    if (last - p <= 3) {
        rc = kl_proxy_protocol_prefix(p, last - p, "TCP");
        rc = rc == KL_OK ? KL_AGAIN : rc;

    } else if (p[3] == '4' || p[3] == '6') {
        rc = kl_proxy_protocol_prefix(p, last - p,
                                      p[3] == '4' ? "TCP4 " : "TCP6 ");

    } else {
        rc = KL_ERROR;
    }

    if (rc != KL_OK) {
        goto again;
    }

    p += 5;

    if ((rc = kl_proxy_protocol_v1_field(&p, last, ' ', 0, &pp->src_addr, NULL))
            != KL_OK
        || (rc = kl_proxy_protocol_v1_field(&p, last, ' ', 0, &pp->dst_addr,
                                            NULL))
               != KL_OK
        || (rc = kl_proxy_protocol_v1_field(&p, last, ' ', 1, &port,
                                            &pp->src_port))
               != KL_OK
        || (rc = kl_proxy_protocol_v1_field(&p, last, '\r', 1, &port,
                                            &pp->dst_port))
               != KL_OK)
    {
        goto again;
    }

    if (p == last) {
        rc = KL_AGAIN;
        goto again;
    }

    if (*p++ != '\n') {
        rc = KL_ERROR;
        goto again;
    }

    pp->addrs = 1;
    pp->len = p - buf;

    return KL_OK;

again:

    if (rc == KL_ERROR || len >= KL_PROXY_PROTOCOL_V1_MAX) {
        pp->error = KL_PROXY_PROTOCOL_BROKEN;
        return KL_ERROR;
    }

    return KL_AGAIN;
}


/* One v2 address as text, in the struct's own room. */
static void
kl_proxy_protocol_v2_addr(kl_proxy_protocol_t *pp, kl_uint_t i, int family,
                          const u_char *addr, kl_str_t *text)
{
    u_char *dst;

    dst = pp->addr_text[i];

    if (inet_ntop(family, addr, (char *) dst, KL_PROXY_PROTOCOL_ADDR_LEN)
        == NULL) {
        dst[0] = '\0';
    }

    text->data = dst;
    text->len = kl_strlen(dst);
}


/* The 16-byte head, then addresses and TLVs as it counts them. */
static kl_int_t
kl_proxy_protocol_v2(const u_char *buf, size_t len, size_t room,
                     kl_proxy_protocol_t *pp)
{
    size_t        hlen, alen;
    kl_uint_t     family;
    const u_char *p;

    pp->version = 2;

    if (len < 13) {
        return KL_AGAIN;
    }

    if ((buf[12] >> 4) != 2) {
        pp->version = buf[12] >> 4;
        pp->error = KL_PROXY_PROTOCOL_VERSION;
        return KL_ERROR;
    }

    if (len < KL_PROXY_PROTOCOL_V2_HEADER) {
        return KL_AGAIN;
    }

    hlen = KL_PROXY_PROTOCOL_V2_HEADER + kl_pp_u16(buf + 14);

    if (hlen > room) {
        pp->error = KL_PROXY_PROTOCOL_TOO_LARGE;
        return KL_ERROR;
    }

    if (len < hlen) {
        return KL_AGAIN;
    }

    pp->len = hlen;
    family = buf[13] >> 4;

    /* LOCAL, or not a stream: the header is skipped, as by nginx. */
    if ((buf[12] & 0x0f) != 1 || (buf[13] & 0x0f) != 1
        || (family != 1 && family != 2))
    {
        return KL_OK;
    }

    alen = family == 1 ? 12 : 36;

    if (hlen - KL_PROXY_PROTOCOL_V2_HEADER < alen) {
        pp->error = KL_PROXY_PROTOCOL_BROKEN;
        return KL_ERROR;
    }

    p = buf + KL_PROXY_PROTOCOL_V2_HEADER;

    if (family == 1) {
        kl_proxy_protocol_v2_addr(pp, 0, AF_INET, p, &pp->src_addr);
        kl_proxy_protocol_v2_addr(pp, 1, AF_INET, p + 4, &pp->dst_addr);
        p += 8;

    } else {
        kl_proxy_protocol_v2_addr(pp, 0, AF_INET6, p, &pp->src_addr);
        kl_proxy_protocol_v2_addr(pp, 1, AF_INET6, p + 16, &pp->dst_addr);
        p += 32;
    }

    pp->src_port = (in_port_t) kl_pp_u16(p);
    pp->dst_port = (in_port_t) kl_pp_u16(p + 2);
    p += 4;

    pp->tlvs.data = (u_char *) p;
    pp->tlvs.len = buf + hlen - p;
    pp->addrs = 1;

    return KL_OK;
}


kl_int_t
kl_proxy_protocol_parse(const u_char *buf, size_t len, size_t room,
                        kl_proxy_protocol_t *pp)
{
    kl_int_t rc;

    kl_memzero(pp, sizeof(kl_proxy_protocol_t));

    if (len == 0) {
        return KL_AGAIN;
    }

    if (buf[0] == '\r') {
        rc = memcmp(buf, kl_proxy_protocol_v2_sig,
                    kl_min(len, sizeof(kl_proxy_protocol_v2_sig)))
                     == 0
                 ? KL_OK
                 : KL_ERROR;

        if (rc == KL_OK) {
            return kl_proxy_protocol_v2(buf, len, room, pp);
        }

    } else {
        rc = kl_proxy_protocol_prefix(buf, len, "PROXY ");

        if (rc == KL_OK) {
            return kl_proxy_protocol_v1(buf, len, pp);
        }

        if (rc == KL_AGAIN) {
            return KL_AGAIN;
        }
    }

    pp->error = KL_PROXY_PROTOCOL_BROKEN;

    return KL_ERROR;
}


/* The TLV of type in tlvs, as nginx walks them. */
static kl_int_t
kl_proxy_protocol_lookup(const u_char *p, size_t n, kl_uint_t type,
                         kl_str_t *value)
{
    size_t len;

    while (n) {
        if (n < 3) {
            return KL_ERROR;
        }

        len = kl_pp_u16(p + 1);

        if (n - 3 < len) {
            return KL_ERROR;
        }

        if (p[0] == type) {
            value->data = (u_char *) p + 3;
            value->len = len;
            return KL_OK;
        }

        p += 3 + len;
        n -= 3 + len;
    }

    return KL_DECLINED;
}


kl_int_t
kl_proxy_protocol_tlv(const kl_str_t *tlvs, const kl_str_t *name,
                      kl_str_t *value, kl_uint_t *verify)
{
    kl_int_t                            rc, type;
    kl_uint_t                           ssl;
    kl_str_t                            sslv;
    const kl_proxy_protocol_tlv_name_t *tn;

    *verify = 0;
    ssl = 0;
    type = -1;

    for (tn = kl_proxy_protocol_tlv_names; tn->name; tn++) {
        if (name->len == kl_strlen(tn->name)
            && kl_strncmp(name->data, tn->name, name->len) == 0)
        {
            type = (kl_int_t) tn->type;
            ssl = tn->ssl;
            break;
        }
    }

    if (type == -1) {
        if (name->len > 6 && kl_strncmp(name->data, "ssl_0x", 6) == 0) {
            type = kl_hextoi(name->data + 6, name->len - 6);
            ssl = 1;

        } else if (name->len > 2 && kl_strncmp(name->data, "0x", 2) == 0) {
            type = kl_hextoi(name->data + 2, name->len - 2);
        }

        if (type < 0 || type > 255) {
            return KL_ABORT;
        }
    }

    if (ssl == 0) {
        return kl_proxy_protocol_lookup(tlvs->data, tlvs->len, (kl_uint_t) type,
                                        value);
    }

    rc = kl_proxy_protocol_lookup(tlvs->data, tlvs->len,
                                  KL_PROXY_PROTOCOL_TLV_SSL, &sslv);
    if (rc != KL_OK) {
        return rc;
    }

    /* client (1 byte), verify (4 bytes), then the sub-TLVs */
    if (sslv.len < 5) {
        return KL_ERROR;
    }

    if (ssl == 2) {
        value->data = sslv.data + 1;
        value->len = 4;
        *verify = 1;
        return KL_OK;
    }

    return kl_proxy_protocol_lookup(sslv.data + 5, sslv.len - 5,
                                    (kl_uint_t) type, value);
}
