/* zone_tree.h: keyed state in a zone: an rbtree by hash and key, and an LRU queue. */

#ifndef KL_ZONE_TREE_H
#define KL_ZONE_TREE_H

#include "kl_config.h"
#include "kl_types.h"
#include "queue.h"
#include "rbtree.h"
#include "slab.h"

/*
 * One key's state: in the tree by node.key (the key's hash) and then by
 * the key's bytes, and in the LRU queue. The owner's value (value_size
 * bytes given to insert, zeroed) comes first in data, 8-byte aligned,
 * then the key.
 */
typedef struct {
    kl_rbtree_node_t node;
    kl_queue_t       lru; /* most recently used at the head */
    uint16_t         len; /* of the key */
    uint16_t         key_offset;
    _Alignas(8) u_char data[]; /* the value, then the key */
} kl_zone_node_t;

/*
 * The root, kept in the zone (slab-allocated, or in the pool's data):
 * lookup, insert and delete run under the pool's lock, the caller's.
 */
typedef struct {
    kl_rbtree_t      tree;
    kl_rbtree_node_t sentinel;
    kl_queue_t       lru;
    kl_uint_t        count;
} kl_zone_tree_t;

#define kl_zone_node_value(n) ((void *) (n)->data)
#define kl_zone_node_key(n)   ((n)->data + (n)->key_offset)

/*
 * May the oldest node go? For kl_zone_tree_expire: 1 to delete it, 0 to
 * keep it, which ends the expiry (the others are younger still).
 */
typedef kl_uint_t (*kl_zone_tree_expire_pt)(kl_zone_node_t *node, void *ctx);

void kl_zone_tree_init(kl_zone_tree_t *t);

/* The node of key (len bytes, hash its hash), or NULL. */
kl_zone_node_t *kl_zone_tree_lookup(kl_zone_tree_t *t, kl_uint_t hash,
                                    u_char *key, size_t len);

/*
 * A new node for key, at the head of the LRU, its value zeroed; NULL if
 * the pool is full (the caller may expire some and try again) or the
 * key is longer than 65535 bytes. The key must not be in the tree.
 */
kl_zone_node_t *kl_zone_tree_insert(kl_zone_tree_t *t, kl_slab_pool_t *pool,
                                    kl_uint_t hash, u_char *key, size_t len,
                                    size_t value_size);

/* Remove node from the tree and the LRU, and free it. */
void kl_zone_tree_delete(kl_zone_tree_t *t, kl_slab_pool_t *pool,
                         kl_zone_node_t *node);

/* node was used now: to the head of the LRU. */
void kl_zone_tree_touch(kl_zone_tree_t *t, kl_zone_node_t *node);

/*
 * Delete up to n of the least recently used nodes, oldest first, while
 * expired (if not NULL) agrees. Returns how many went.
 */
kl_uint_t kl_zone_tree_expire(kl_zone_tree_t *t, kl_slab_pool_t *pool,
                              kl_uint_t n, kl_zone_tree_expire_pt expired,
                              void *ctx);

#endif /* KL_ZONE_TREE_H */
