/* proxy_protocol.h: the PROXY protocol header (v1 text, v2 binary) and its TLVs, read from bytes; pure, no I/O. */

#ifndef KL_PROXY_PROTOCOL_H
#define KL_PROXY_PROTOCOL_H

#include "kl_config.h"
#include "kl_types.h"
#include "string.h"

/* A v1 line is at most 107 bytes with its CRLF (the protocol's limit). */
#define KL_PROXY_PROTOCOL_V1_MAX 107

/* The fixed part of a v2 header: signature, version, family, length. */
#define KL_PROXY_PROTOCOL_V2_HEADER 16

/* Text of an address from a v2 header (an IPv6 address at most). */
#define KL_PROXY_PROTOCOL_ADDR_LEN 48

/* Why a header was refused (kl_proxy_protocol_t.error). */
#define KL_PROXY_PROTOCOL_BROKEN    1 /* "broken header" */
#define KL_PROXY_PROTOCOL_VERSION   2 /* a v2 signature, another version */
#define KL_PROXY_PROTOCOL_TOO_LARGE 3 /* longer than the room given */

/* SSL TLV of v2: the types its value nests, and its client flags. */
#define KL_PROXY_PROTOCOL_TLV_SSL 0x20

/*
 * A parsed header. The strings are views into the parsed bytes, except
 * the v2 addresses, which are text written into addr_text: copy what
 * must outlive the input (the struct included).
 */
typedef struct {
    size_t    len;     /* bytes of the header, the CRLF or TLVs included */
    kl_uint_t version; /* 1 or 2 */
    kl_uint_t error;   /* KL_PROXY_PROTOCOL_*, with KL_ERROR */

    /*
     * 0: the header carries no addresses kiln uses (v1 UNKNOWN; v2 LOCAL,
     * a transport other than a stream, a family other than IPv4 or IPv6):
     * the connection's own addresses stand.
     */
    unsigned addrs:1;

    kl_str_t  src_addr;
    kl_str_t  dst_addr;
    in_port_t src_port;
    in_port_t dst_port;
    kl_str_t  tlvs; /* v2: the TLVs after the addresses, raw */

    u_char addr_text[2][KL_PROXY_PROTOCOL_ADDR_LEN];
} kl_proxy_protocol_t;

/*
 * Read a header at the start of buf[0..len). KL_OK: *pp is filled and
 * pp->len bytes were the header (the bytes after it belong to the next
 * stage). KL_AGAIN: every byte so far can start a header; call again
 * with more (at most room bytes will ever be given: a v2 header longer
 * than that fails with KL_PROXY_PROTOCOL_TOO_LARGE). KL_ERROR: not a
 * header; pp->error says why.
 */
kl_int_t kl_proxy_protocol_parse(const u_char *buf, size_t len, size_t room,
                                 kl_proxy_protocol_t *pp);

/*
 * The value of the TLV nginx names name ("alpn", "authority",
 * "unique_id", "ssl", "netns", "0xNN"; "ssl_version", "ssl_cn",
 * "ssl_cipher", "ssl_sig_alg", "ssl_key_alg" and "ssl_0xNN" inside the
 * SSL TLV; "ssl_verify", the SSL TLV's verify field, as 4 raw bytes with
 * *verify set) in the raw TLVs. KL_OK with *value a view into tlvs,
 * KL_DECLINED when absent, KL_ABORT for a name nginx does not know,
 * KL_ERROR when the TLVs are broken.
 */
kl_int_t kl_proxy_protocol_tlv(const kl_str_t *tlvs, const kl_str_t *name,
                               kl_str_t *value, kl_uint_t *verify);

#endif /* KL_PROXY_PROTOCOL_H */
