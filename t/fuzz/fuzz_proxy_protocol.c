/* fuzz_proxy_protocol.c: libFuzzer target for kl_proxy_protocol_parse and kl_proxy_protocol_tlv (the first bytes of a connection). */

/*
 * The input is what a client sends first on a "listen ... proxy_protocol"
 * socket. Every call sees a prefix, as bytes arrive: a prefix of a header
 * that parses asks for more or parses the same way, never fails; a header
 * never claims more bytes than it was given, a v1 one more than 107; its
 * strings lie inside the input or the struct; every TLV name is looked
 * up without reading past the TLVs.
 */

#include "kl_core.h"
#include "proxy_protocol.h"


static void
check_str(kl_str_t *s, const uint8_t *data, size_t size,
          kl_proxy_protocol_t *pp)
{
    const u_char *room = (const u_char *) pp->addr_text;

    if (s->len == 0) {
        return;
    }

    if (s->data >= data && s->data + s->len <= data + size) {
        return;
    }

    if (s->data >= room && s->data + s->len <= room + sizeof(pp->addr_text)) {
        return;
    }

    abort();
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t              i;
    kl_int_t            rc, full;
    kl_str_t            v, name;
    kl_uint_t           verify;
    kl_proxy_protocol_t pp, pp2;
    static const char  *names[] = { "alpn",        "authority",  "unique_id",
                                    "ssl",         "ssl_verify", "ssl_version",
                                    "ssl_cn",      "ssl_cipher", "ssl_sig_alg",
                                    "ssl_key_alg", "netns",      "0x05",
                                    "ssl_0x23",    "0xff",       "bad" };

    full = kl_proxy_protocol_parse(data, size, 1024, &pp);

    if (full == KL_OK) {
        if (pp.len == 0 || pp.len > size
            || (pp.version == 1 && pp.len > KL_PROXY_PROTOCOL_V1_MAX))
        {
            abort();
        }

        check_str(&pp.src_addr, data, size, &pp);
        check_str(&pp.dst_addr, data, size, &pp);
        check_str(&pp.tlvs, data, size, &pp);

        for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
            name.data = (u_char *) names[i];
            name.len = strlen(names[i]);

            if (kl_proxy_protocol_tlv(&pp.tlvs, &name, &v, &verify) == KL_OK
                && (v.data < pp.tlvs.data
                    || v.data + v.len > pp.tlvs.data + pp.tlvs.len))
            {
                abort();
            }
        }

    } else if (full == KL_ERROR) {
        if (pp.error == 0) {
            abort();
        }

    } else if (full != KL_AGAIN) {
        abort();
    }

    /* Each prefix: never an error where the whole was fine. */
    for (i = 0; i < size && i < 200; i++) {
        rc = kl_proxy_protocol_parse(data, i, 1024, &pp2);

        if (full != KL_ERROR && rc == KL_ERROR) {
            abort();
        }

        if (full == KL_OK && rc == KL_OK && pp2.len != pp.len) {
            abort();
        }
    }

    return 0;
}
