/* murmurhash.h: MurmurHash2 (32-bit) as nginx computes it, for split_clients. */

#ifndef KL_MURMURHASH_H
#define KL_MURMURHASH_H

#include "kl_config.h"
#include "kl_types.h"

/*
 * MurmurHash2 of len bytes at data, seed 0, bytes read little-endian
 * whatever the host: the value nginx's ngx_murmur_hash2 gives, so a key
 * lands in the same split_clients bucket on kiln and on nginx. Pure.
 */
uint32_t kl_murmur_hash2(const u_char *data, size_t len);

#endif /* KL_MURMURHASH_H */
