/*
 * zone_tree.c: keyed state in a shared zone, the shape limit_req,
 * limit_conn and a TLS session cache share.
 *
 * The tree is core/rbtree.c keyed by the key's hash, with the key bytes
 * to settle equal hashes, so a lookup compares bytes only on a hash
 * match. The LRU queue runs from the most recently used node to the
 * least, so that expiry, when the pool is full or on a schedule, takes
 * from its tail. Nodes and the root live in the zone and link with plain
 * pointers: every process maps the zone at one address. Nothing here
 * locks: the caller holds the pool's mutex around a lookup and the
 * insert or update that follows it.
 */

#include "kl_core.h"
#include "zone_tree.h"


static void     kl_zone_tree_insert_value(kl_rbtree_node_t *root,
                                          kl_rbtree_node_t *node,
                                          kl_rbtree_node_t *sentinel);
static kl_int_t kl_zone_tree_cmp(kl_zone_node_t *a, kl_uint_t hash, u_char *key,
                                 size_t len);


void
kl_zone_tree_init(kl_zone_tree_t *t)
{
    kl_rbtree_init(&t->tree, &t->sentinel, kl_zone_tree_insert_value);
    kl_queue_init(&t->lru);
    t->count = 0;
}


/* <0, 0, >0 as node a sorts before, with, after (hash, key). */
static kl_int_t
kl_zone_tree_cmp(kl_zone_node_t *a, kl_uint_t hash, u_char *key, size_t len)
{
    int rc;

    if (a->node.key != hash) {
        return a->node.key < hash ? -1 : 1;
    }

    rc = memcmp(kl_zone_node_key(a), key, kl_min((size_t) a->len, len));

    if (rc != 0) {
        return rc;
    }

    return (kl_int_t) a->len - (kl_int_t) len;
}


kl_zone_node_t *
kl_zone_tree_lookup(kl_zone_tree_t *t, kl_uint_t hash, u_char *key, size_t len)
{
    kl_int_t          rc;
    kl_zone_node_t   *zn;
    kl_rbtree_node_t *node, *sentinel;

    node = t->tree.root;
    sentinel = t->tree.sentinel;

    while (node != sentinel) {
        zn = (kl_zone_node_t *) node;
        rc = kl_zone_tree_cmp(zn, hash, key, len);

        if (rc == 0) {
            return zn;
        }

        node = (rc > 0) ? node->left : node->right;
    }

    return NULL;
}


static void
kl_zone_tree_insert_value(kl_rbtree_node_t *temp, kl_rbtree_node_t *node,
                          kl_rbtree_node_t *sentinel)
{
    kl_zone_node_t    *zn;
    kl_rbtree_node_t **p;

    zn = (kl_zone_node_t *) node;

    for (;;) {
        p = (kl_zone_tree_cmp((kl_zone_node_t *) temp, node->key,
                              kl_zone_node_key(zn), zn->len)
             > 0)
                ? &temp->left
                : &temp->right;

        if (*p == sentinel) {
            break;
        }

        temp = *p;
    }

    *p = node;
    node->parent = temp;
    node->left = sentinel;
    node->right = sentinel;
    kl_rbt_red(node);
}


kl_zone_node_t *
kl_zone_tree_insert(kl_zone_tree_t *t, kl_slab_pool_t *pool, kl_uint_t hash,
                    u_char *key, size_t len, size_t value_size)
{
    size_t          offset;
    kl_zone_node_t *zn;

    offset = kl_align(value_size, 8);

    if (len > 0xffff || offset > 0xffff) {
        return NULL;
    }

    zn = kl_slab_alloc_locked(pool, sizeof(kl_zone_node_t) + offset + len);
    if (zn == NULL) {
        return NULL;
    }

    kl_memzero(zn->data, offset);
    zn->node.key = hash;
    zn->len = (uint16_t) len;
    zn->key_offset = (uint16_t) offset;
    kl_memcpy(kl_zone_node_key(zn), key, len);

    kl_rbtree_insert(&t->tree, &zn->node);
    kl_queue_insert_head(&t->lru, &zn->lru);
    t->count++;

    return zn;
}


void
kl_zone_tree_delete(kl_zone_tree_t *t, kl_slab_pool_t *pool,
                    kl_zone_node_t *node)
{
    kl_rbtree_delete(&t->tree, &node->node);
    kl_queue_remove(&node->lru);
    t->count--;

    kl_slab_free_locked(pool, node);
}


void
kl_zone_tree_touch(kl_zone_tree_t *t, kl_zone_node_t *node)
{
    kl_queue_remove(&node->lru);
    kl_queue_insert_head(&t->lru, &node->lru);
}


kl_uint_t
kl_zone_tree_expire(kl_zone_tree_t *t, kl_slab_pool_t *pool, kl_uint_t n,
                    kl_zone_tree_expire_pt expired, void *ctx)
{
    kl_uint_t       done;
    kl_zone_node_t *node;

    for (done = 0; done < n && !kl_queue_empty(&t->lru); done++) {
        node = kl_queue_data(kl_queue_last(&t->lru), kl_zone_node_t, lru);

        if (expired != NULL && !expired(node, ctx)) {
            break;
        }

        kl_zone_tree_delete(t, pool, node);
    }

    return done;
}
