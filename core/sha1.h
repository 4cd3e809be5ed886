/* sha1.h: SHA-1 (FIPS 180-4), for {SHA} and {SSHA} passwords; not for new designs. */

#ifndef KL_SHA1_H
#define KL_SHA1_H

#include "kl_config.h"
#include "kl_types.h"

#define KL_SHA1_DIGEST_LEN 20

typedef struct {
    uint32_t h[5];
    uint64_t bytes;
    u_char   buf[64];
} kl_sha1_t;

void kl_sha1_init(kl_sha1_t *ctx);
void kl_sha1_update(kl_sha1_t *ctx, const void *data, size_t len);
void kl_sha1_final(u_char digest[KL_SHA1_DIGEST_LEN], kl_sha1_t *ctx);

#endif /* KL_SHA1_H */
