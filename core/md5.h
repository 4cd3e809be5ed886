/* md5.h: MD5 (RFC 1321) for secure_link_md5 and Apache $apr1$ passwords; no OpenSSL needed. */

#ifndef KL_MD5_H
#define KL_MD5_H

#include "kl_config.h"
#include "kl_types.h"

#define KL_MD5_DIGEST_LEN 16

/* A running MD5: init, update any number of times, then final. */
typedef struct {
    uint64_t bytes;
    uint32_t a, b, c, d;
    u_char   buffer[64];
} kl_md5_t;

void kl_md5_init(kl_md5_t *ctx);
void kl_md5_update(kl_md5_t *ctx, const void *data, size_t size);

/* Writes the digest into result; ctx must be init'ed to reuse. */
void kl_md5_final(u_char result[KL_MD5_DIGEST_LEN], kl_md5_t *ctx);

#endif /* KL_MD5_H */
