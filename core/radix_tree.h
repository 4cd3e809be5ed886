/* radix_tree.h: a binary trie of networks (IPv4 or IPv6) to values. */

#ifndef KL_RADIX_TREE_H
#define KL_RADIX_TREE_H

#include "kl_config.h"
#include "kl_types.h"

#define KL_RADIX_NO_VALUE ((uintptr_t) -1)

typedef struct kl_radix_node_s kl_radix_node_t;

struct kl_radix_node_s {
    kl_radix_node_t *child[2];
    uintptr_t        value; /* KL_RADIX_NO_VALUE: none at this prefix */
};

/*
 * A tree of one family: keys are addresses as bytes in network order, a
 * network is a key and a prefix length in bits. Nodes come from the pool
 * and are never freed before it (a deleted network leaves its path).
 */
typedef struct {
    kl_radix_node_t *root;
    kl_pool_t       *pool;
    kl_uint_t        bits; /* 32 or 128 */
} kl_radix_tree_t;

/* A tree of bits-long keys (32: IPv4, 128: IPv6); NULL without memory. */
kl_radix_tree_t *kl_radix_tree_create(kl_pool_t *pool, kl_uint_t bits);

/*
 * Give the network key/prefix the value: KL_OK, KL_BUSY when it has one
 * already (unchanged), KL_ERROR without memory.
 */
kl_int_t kl_radix_tree_insert(kl_radix_tree_t *tree, const u_char *key,
                              kl_uint_t prefix, uintptr_t value);

/* Remove the value of exactly this network: KL_OK, or KL_ERROR if none. */
kl_int_t kl_radix_tree_delete(kl_radix_tree_t *tree, const u_char *key,
                              kl_uint_t prefix);

/*
 * The value of the longest network holding the address key, or
 * KL_RADIX_NO_VALUE. At most bits steps.
 */
uintptr_t kl_radix_tree_find(kl_radix_tree_t *tree, const u_char *key);

/* The value set for exactly key/prefix, or KL_RADIX_NO_VALUE. */
uintptr_t kl_radix_tree_get(kl_radix_tree_t *tree, const u_char *key,
                            kl_uint_t prefix);

#endif /* KL_RADIX_TREE_H */
