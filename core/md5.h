/* md5.h: MD5 (RFC 1321), for Apache $apr1$ passwords; not for new designs. */

#ifndef KL_MD5_H
#define KL_MD5_H

#include "kl_config.h"
#include "kl_types.h"

#define KL_MD5_DIGEST_LEN 16

typedef struct {
    uint32_t s[4];
    uint64_t bytes;
    u_char   buf[64];
} kl_md5_t;

void kl_md5_init(kl_md5_t *ctx);
void kl_md5_update(kl_md5_t *ctx, const void *data, size_t len);
void kl_md5_final(u_char digest[KL_MD5_DIGEST_LEN], kl_md5_t *ctx);

#endif /* KL_MD5_H */
