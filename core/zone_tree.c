/*
 * zone_tree.c: keyed state in a shared zone, the shape limit_req,
 * limit_conn and a TLS session cache share: a chained hash table and an
 * LRU queue (the file kept its name from the rbtree it replaced).
 *
 * The bucket array is allocated from the zone once, sized from the
 * zone's capacity, so a lookup costs the bucket's cache line and the
 * nodes of one short chain whatever the number of states: the rbtree
 * cost a cache miss per level (17 levels at 100 000 states). The table
 * never grows: the zone cannot, and its size bounds the states. The LRU
 * queue runs from the most recently used node to the least, so that
 * expiry, when the pool is full or on a schedule, takes from its tail.
 * Nodes, buckets and the root live in the zone and link with plain
 * pointers: every process maps the zone at one address. Nothing here
 * locks: the caller holds the pool's mutex around a lookup and the
 * insert or update that follows it.
 */

#include "kl_core.h"
#include "zone_tree.h"

/* Both halves of a 64-bit hash reach the 32 bits a node keeps. */
#define kl_zone_hash_fold(h)                                                   \
    ((uint32_t) ((uint64_t) (h) ^ ((uint64_t) (h) >> 32)))


kl_int_t
kl_zone_hash_init(kl_zone_hash_t *t, kl_slab_pool_t *pool, kl_uint_t nbuckets,
                  size_t state_size)
{
    kl_uint_t n;

    if (nbuckets == 0) {
        nbuckets = ((kl_uint_t) pool->npages << KL_SLAB_PAGE_SHIFT)
                   / (state_size ? state_size : 128);
    }

    /* The bucket index is taken from the node's 32 bits of hash. */
    nbuckets = kl_min(nbuckets, (kl_uint_t) 1 << 31);

    for (n = 1; n * 2 <= nbuckets; n *= 2) { /* void */
    }

    t->buckets = kl_slab_calloc(pool, n * sizeof(kl_zone_node_t *));
    if (t->buckets == NULL) {
        return KL_ERROR;
    }

    t->mask = n - 1;
    kl_queue_init(&t->lru);
    t->count = 0;

    return KL_OK;
}


kl_zone_node_t *
kl_zone_hash_lookup(kl_zone_hash_t *t, kl_uint_t hash, u_char *key, size_t len)
{
    uint32_t        fold;
    kl_zone_node_t *zn;

    fold = kl_zone_hash_fold(hash);

    for (zn = t->buckets[fold & t->mask]; zn != NULL; zn = zn->next) {
        if (zn->hash == fold && zn->len == len
            && memcmp(kl_zone_node_key(zn), key, len) == 0)
        {
            return zn;
        }
    }

    return NULL;
}


kl_zone_node_t *
kl_zone_hash_insert(kl_zone_hash_t *t, kl_slab_pool_t *pool, kl_uint_t hash,
                    u_char *key, size_t len, size_t value_size)
{
    size_t          offset;
    kl_zone_node_t *zn, **b;

    offset = kl_align(value_size, 8);

    if (len > 0xffff || offset > 0xffff) {
        return NULL;
    }

    zn = kl_slab_alloc_locked(pool, sizeof(kl_zone_node_t) + offset + len);
    if (zn == NULL) {
        return NULL;
    }

    kl_memzero(zn->data, offset);
    zn->hash = kl_zone_hash_fold(hash);
    zn->len = (uint16_t) len;
    zn->key_offset = (uint16_t) offset;
    kl_memcpy(kl_zone_node_key(zn), key, len);

    b = &t->buckets[zn->hash & t->mask];
    zn->next = *b;
    *b = zn;

    kl_queue_insert_head(&t->lru, &zn->lru);
    t->count++;

    return zn;
}


void
kl_zone_hash_delete(kl_zone_hash_t *t, kl_slab_pool_t *pool,
                    kl_zone_node_t *node)
{
    kl_zone_node_t **p;

    for (p = &t->buckets[node->hash & t->mask]; *p != node; p = &(*p)->next) {
        /* void: the node is in its bucket's chain */
    }

    *p = node->next;
    kl_queue_remove(&node->lru);
    t->count--;

    kl_slab_free_locked(pool, node);
}


void
kl_zone_hash_touch(kl_zone_hash_t *t, kl_zone_node_t *node)
{
    kl_queue_remove(&node->lru);
    kl_queue_insert_head(&t->lru, &node->lru);
}


kl_uint_t
kl_zone_hash_expire(kl_zone_hash_t *t, kl_slab_pool_t *pool, kl_uint_t n,
                    kl_zone_hash_expire_pt expired, void *ctx)
{
    kl_uint_t       done;
    kl_zone_node_t *node;

    for (done = 0; done < n && !kl_queue_empty(&t->lru); done++) {
        node = kl_queue_data(kl_queue_last(&t->lru), kl_zone_node_t, lru);

        if (expired != NULL && !expired(node, ctx)) {
            break;
        }

        kl_zone_hash_delete(t, pool, node);
    }

    return done;
}
