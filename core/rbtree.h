/* rbtree.h: intrusive red-black tree keyed by kl_uint_t (timers, later zones). */

#ifndef KL_RBTREE_H
#define KL_RBTREE_H

#include "kl_config.h"
#include "kl_types.h"

typedef kl_uint_t kl_rbtree_key_t;
typedef kl_int_t  kl_rbtree_key_int_t;

typedef struct kl_rbtree_node_s kl_rbtree_node_t;

struct kl_rbtree_node_s {
    kl_rbtree_key_t   key;
    kl_rbtree_node_t *left;
    kl_rbtree_node_t *right;
    kl_rbtree_node_t *parent;
    u_char            color;
    u_char            data;
};

typedef struct kl_rbtree_s kl_rbtree_t;

typedef void (*kl_rbtree_insert_pt)(kl_rbtree_node_t *root,
                                    kl_rbtree_node_t *node,
                                    kl_rbtree_node_t *sentinel);

struct kl_rbtree_s {
    kl_rbtree_node_t   *root;
    kl_rbtree_node_t   *sentinel;
    kl_rbtree_insert_pt insert;
};

#define kl_rbtree_init(tree, s, i)                                             \
    kl_rbtree_sentinel_init(s);                                                \
    (tree)->root = s;                                                          \
    (tree)->sentinel = s;                                                      \
    (tree)->insert = i

#define kl_rbt_red(node)              ((node)->color = 1)
#define kl_rbt_black(node)            ((node)->color = 0)
#define kl_rbt_is_red(node)           ((node)->color)
#define kl_rbt_is_black(node)         (!kl_rbt_is_red(node))
#define kl_rbt_copy_color(n1, n2)     (n1->color = n2->color)
#define kl_rbtree_sentinel_init(node) kl_rbt_black(node)

void kl_rbtree_insert(kl_rbtree_t *tree, kl_rbtree_node_t *node);
void kl_rbtree_delete(kl_rbtree_t *tree, kl_rbtree_node_t *node);

/* Insert by key; equal keys go right (value order). */
void kl_rbtree_insert_value(kl_rbtree_node_t *root, kl_rbtree_node_t *node,
                            kl_rbtree_node_t *sentinel);

/* Insert by key compared as wrapping msec deadlines (timers). */
void kl_rbtree_insert_timer_value(kl_rbtree_node_t *root,
                                  kl_rbtree_node_t *node,
                                  kl_rbtree_node_t *sentinel);

kl_rbtree_node_t *kl_rbtree_min(kl_rbtree_node_t *node,
                                kl_rbtree_node_t *sentinel);
kl_rbtree_node_t *kl_rbtree_next(kl_rbtree_t *tree, kl_rbtree_node_t *node);

#endif /* KL_RBTREE_H */
