/* fuzz_resolver_parse.c: libFuzzer target for kl_resolver_parse_answer (DNS answers from the network). */

/*
 * The input is a datagram from a name server, or anyone who can send
 * one. Its first byte picks the type asked (A, AAAA, SRV) and the name is
 * "example.com", as in the seeds. KL_OK and an error phrase are
 * exclusive; records kept never exceed the room given, a kept TTL never
 * has its top bit, an SRV target is at most 253 bytes of lowercase text,
 * and a CNAME end is given only when no record was kept.
 */

#include "kl_core.h"
#include "resolver_parse.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char                *copy;
    size_t                 i, j;
    kl_str_t               name = kl_string("example.com");
    kl_int_t               rc;
    kl_uint_t              type;
    const char            *err;
    kl_resolver_rr_t       rrs[4];
    kl_resolver_answer_t   ans;
    static const kl_uint_t types[] = { KL_RESOLVER_A, KL_RESOLVER_AAAA,
                                       KL_RESOLVER_SRV };

    if (size < 1) {
        return 0;
    }

    type = types[data[0] % 3];
    copy = malloc(size - 1 ? size - 1 : 1);
    if (copy == NULL) {
        return 0;
    }

    memcpy(copy, data + 1, size - 1);
    ans.rrs = rrs;
    ans.nalloc = 4;
    err = NULL;

    rc = kl_resolver_parse_answer(copy, size - 1, &name, type, &ans, &err);

    if (rc != KL_OK) {
        if (rc != KL_ERROR || err == NULL) {
            abort();
        }

        free(copy);
        return 0;
    }

    if (ans.nrrs > ans.nalloc || ans.cname_len > KL_RESOLVER_NAME_LEN
        || (ans.cname_len && ans.nrrs) || (ans.truncated && ans.nrrs))
    {
        abort();
    }

    for (i = 0; i < ans.nrrs; i++) {
        if (rrs[i].type != type || (rrs[i].ttl & 0x80000000)
            || rrs[i].ttl < ans.ttl) {
            abort();
        }

        if (type != KL_RESOLVER_SRV) {
            continue;
        }

        if (rrs[i].target_len > KL_RESOLVER_NAME_LEN) {
            abort();
        }

        for (j = 0; j < rrs[i].target_len; j++) {
            if (rrs[i].target[j] >= 'A' && rrs[i].target[j] <= 'Z') {
                abort();
            }
        }
    }

    free(copy);
    return 0;
}
