/* zone_tree.h: keyed state in a zone: a chained hash table and an LRU queue. */

#ifndef KL_ZONE_TREE_H
#define KL_ZONE_TREE_H

#include "kl_config.h"
#include "kl_types.h"
#include "queue.h"
#include "slab.h"

/*
 * One key's state: in its bucket's chain and in the LRU queue. hash is
 * the caller's hash folded to 32 bits (kl_zone_hash_fold), so that a
 * chain walk compares key bytes only on a fold match and the node stays
 * 32 bytes: a limit_req state with a 4-byte key then fits a 64-byte
 * slab chunk. The owner's value (value_size bytes given to insert,
 * zeroed) comes first in data, 8-byte aligned, then the key.
 */
typedef struct kl_zone_node_s kl_zone_node_t;

struct kl_zone_node_s {
    kl_zone_node_t *next; /* in the bucket's chain */
    kl_queue_t      lru;  /* most recently used at the head */
    uint32_t        hash;
    uint16_t        len; /* of the key */
    uint16_t        key_offset;
    _Alignas(8) u_char data[]; /* the value, then the key */
};

/*
 * The root, kept in the zone (slab-allocated, or in the pool's data),
 * with its bucket array slab-allocated at init: lookup, insert and
 * delete run under the pool's lock, the caller's.
 */
typedef struct {
    kl_zone_node_t **buckets;
    kl_uint_t        mask; /* buckets - 1, a power of two less one */
    kl_queue_t       lru;
    kl_uint_t        count;
} kl_zone_hash_t;

#define kl_zone_node_value(n) ((void *) (n)->data)
#define kl_zone_node_key(n)   ((n)->data + (n)->key_offset)

/*
 * May the oldest node go? For kl_zone_hash_expire: 1 to delete it, 0 to
 * keep it, which ends the expiry (the others are younger still).
 */
typedef kl_uint_t (*kl_zone_hash_expire_pt)(kl_zone_node_t *node, void *ctx);

/*
 * Allocate the bucket array from pool (under no lock: a zone's init):
 * nbuckets rounded down to a power of two, or with 0 one bucket per
 * state_size bytes of the pool's pages, so the load factor stays at or
 * below 1 while the states average state_size bytes. KL_ERROR if the
 * pool cannot hold the array.
 */
kl_int_t kl_zone_hash_init(kl_zone_hash_t *t, kl_slab_pool_t *pool,
                           kl_uint_t nbuckets, size_t state_size);

/* A key's hash for lookup and insert: FNV-1a, 64 bits, folded as needed. */
static inline kl_uint_t
kl_zone_hash_key(const u_char *p, size_t len)
{
    uint64_t h;

    h = 14695981039346656037ULL;

    while (len--) {
        h ^= *p++;
        h *= 1099511628211ULL;
    }

    return (kl_uint_t) h;
}

/*
 * The node of key (len bytes, hash its hash), or NULL. Hashes that fold
 * to the same 32 bits are one: callers derive the hash from the key.
 */
kl_zone_node_t *kl_zone_hash_lookup(kl_zone_hash_t *t, kl_uint_t hash,
                                    u_char *key, size_t len);

/*
 * A new node for key, at the head of the LRU, its value zeroed; NULL if
 * the pool is full (the caller may expire some and try again) or the
 * key is longer than 65535 bytes. The key must not be in the table.
 */
kl_zone_node_t *kl_zone_hash_insert(kl_zone_hash_t *t, kl_slab_pool_t *pool,
                                    kl_uint_t hash, u_char *key, size_t len,
                                    size_t value_size);

/* Remove node from its chain and the LRU, and free it. */
void kl_zone_hash_delete(kl_zone_hash_t *t, kl_slab_pool_t *pool,
                         kl_zone_node_t *node);

/* node was used now: to the head of the LRU. */
void kl_zone_hash_touch(kl_zone_hash_t *t, kl_zone_node_t *node);

/*
 * Delete up to n of the least recently used nodes, oldest first, while
 * expired (if not NULL) agrees. Returns how many went.
 */
kl_uint_t kl_zone_hash_expire(kl_zone_hash_t *t, kl_slab_pool_t *pool,
                              kl_uint_t n, kl_zone_hash_expire_pt expired,
                              void *ctx);

#endif /* KL_ZONE_TREE_H */
