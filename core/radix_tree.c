/* radix_tree.c: a binary trie of networks, longest prefix wins on lookup. */

/*
 * One node a bit, as nginx's radix tree: a lookup of an IPv4 address is
 * at most 32 steps, of IPv6 128, whatever the number of networks; geo
 * builds its trees once at configuration, so path compression would buy
 * little for the memory of a few thousand networks.
 */

#include "kl_core.h"

#define kl_radix_bit(key, i) (((key)[(i) >> 3] >> (7 - ((i) &7))) & 1)


static kl_radix_node_t *
kl_radix_node_alloc(kl_radix_tree_t *tree)
{
    kl_radix_node_t *node;

    node = kl_palloc(tree->pool, sizeof(kl_radix_node_t));
    if (node == NULL) {
        return NULL;
    }

    node->child[0] = NULL;
    node->child[1] = NULL;
    node->value = KL_RADIX_NO_VALUE;

    return node;
}


kl_radix_tree_t *
kl_radix_tree_create(kl_pool_t *pool, kl_uint_t bits)
{
    kl_radix_tree_t *tree;

    tree = kl_palloc(pool, sizeof(kl_radix_tree_t));
    if (tree == NULL) {
        return NULL;
    }

    tree->pool = pool;
    tree->bits = bits;
    tree->root = kl_radix_node_alloc(tree);

    return tree->root ? tree : NULL;
}


/* The node of key/prefix; with create, made along with its path. */
static kl_radix_node_t *
kl_radix_tree_walk(kl_radix_tree_t *tree, const u_char *key, kl_uint_t prefix,
                   kl_uint_t create)
{
    kl_uint_t        i, bit;
    kl_radix_node_t *node, *next;

    node = tree->root;

    for (i = 0; i < prefix && i < tree->bits; i++) {
        bit = kl_radix_bit(key, i);
        next = node->child[bit];

        if (next == NULL) {
            if (!create) {
                return NULL;
            }

            next = kl_radix_node_alloc(tree);
            if (next == NULL) {
                return NULL;
            }

            node->child[bit] = next;
        }

        node = next;
    }

    return node;
}


kl_int_t
kl_radix_tree_insert(kl_radix_tree_t *tree, const u_char *key, kl_uint_t prefix,
                     uintptr_t value)
{
    kl_radix_node_t *node;

    node = kl_radix_tree_walk(tree, key, prefix, 1);
    if (node == NULL) {
        return KL_ERROR;
    }

    if (node->value != KL_RADIX_NO_VALUE) {
        return KL_BUSY;
    }

    node->value = value;

    return KL_OK;
}


kl_int_t
kl_radix_tree_delete(kl_radix_tree_t *tree, const u_char *key, kl_uint_t prefix)
{
    kl_radix_node_t *node;

    node = kl_radix_tree_walk(tree, key, prefix, 0);

    if (node == NULL || node->value == KL_RADIX_NO_VALUE) {
        return KL_ERROR;
    }

    node->value = KL_RADIX_NO_VALUE;

    return KL_OK;
}


uintptr_t
kl_radix_tree_get(kl_radix_tree_t *tree, const u_char *key, kl_uint_t prefix)
{
    kl_radix_node_t *node;

    node = kl_radix_tree_walk(tree, key, prefix, 0);

    return node ? node->value : KL_RADIX_NO_VALUE;
}


uintptr_t
kl_radix_tree_find(kl_radix_tree_t *tree, const u_char *key)
{
    uintptr_t        value;
    kl_uint_t        i;
    kl_radix_node_t *node;

    value = KL_RADIX_NO_VALUE;
    node = tree->root;

    for (i = 0; node; i++) {
        if (node->value != KL_RADIX_NO_VALUE) {
            value = node->value;
        }

        if (i == tree->bits) {
            break;
        }

        node = node->child[kl_radix_bit(key, i)];
    }

    return value;
}
