/* test_rbtree.c: order, invariants, timer wrap, 100k timer expiry. */

#include <criterion/criterion.h>

#include "kl_config.h"
#include "kl_types.h"
#include "rbtree.h"

#define NTIMERS 100000

static uint64_t rng = 88172645463325252ULL;


static kl_uint_t
xorshift(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;

    return (kl_uint_t) rng;
}


/* Black height of the subtree, failing on a red-red edge or a bad parent. */
static int
check_node(kl_rbtree_node_t *node, kl_rbtree_node_t *sentinel)
{
    int lh, rh;

    if (node == sentinel) {
        return 1;
    }

    if (kl_rbt_is_red(node)) {
        cr_assert(kl_rbt_is_black(node->left), "red node with red child");
        cr_assert(kl_rbt_is_black(node->right), "red node with red child");
    }

    if (node->left != sentinel) {
        cr_assert_eq(node->left->parent, node);
    }

    if (node->right != sentinel) {
        cr_assert_eq(node->right->parent, node);
    }

    lh = check_node(node->left, sentinel);
    rh = check_node(node->right, sentinel);
    cr_assert_eq(lh, rh, "unequal black heights");

    return lh + kl_rbt_is_black(node);
}


static void
check_tree(kl_rbtree_t *tree)
{
    cr_assert(kl_rbt_is_black(tree->sentinel));

    if (tree->root != tree->sentinel) {
        cr_assert(kl_rbt_is_black(tree->root));
    }

    check_node(tree->root, tree->sentinel);
}


Test(rbtree, empty_tree)
{
    kl_rbtree_t      tree;
    kl_rbtree_node_t sentinel, n;

    kl_rbtree_init(&tree, &sentinel, kl_rbtree_insert_value);
    cr_assert_eq(tree.root, &sentinel);

    memset(&n, 0, sizeof(n));
    n.key = 5;
    kl_rbtree_insert(&tree, &n);
    cr_assert_eq(tree.root, &n);
    cr_assert_eq(kl_rbtree_min(tree.root, &sentinel), &n);
    cr_assert_null(kl_rbtree_next(&tree, &n));

    kl_rbtree_delete(&tree, &n);
    cr_assert_eq(tree.root, &sentinel);
}


Test(rbtree, insert_value_orders_and_next_walks)
{
    kl_rbtree_t      tree;
    kl_rbtree_node_t sentinel, *nodes, *n;
    kl_uint_t        i, count, prev;

    nodes = calloc(2000, sizeof(kl_rbtree_node_t));
    cr_assert_not_null(nodes);

    kl_rbtree_init(&tree, &sentinel, kl_rbtree_insert_value);

    for (i = 0; i < 2000; i++) {
        /* plenty of duplicate keys */
        nodes[i].key = xorshift() % 500;
        kl_rbtree_insert(&tree, &nodes[i]);
    }

    check_tree(&tree);

    count = 0;
    prev = 0;
    for (n = kl_rbtree_min(tree.root, &sentinel); n;
         n = kl_rbtree_next(&tree, n)) {
        cr_assert_geq(n->key, prev);
        prev = n->key;
        count++;
    }
    cr_assert_eq(count, 2000);

    /* delete every other node, the invariants hold throughout */
    for (i = 0; i < 2000; i += 2) {
        kl_rbtree_delete(&tree, &nodes[i]);
        if (i % 200 == 0) {
            check_tree(&tree);
        }
    }

    check_tree(&tree);

    count = 0;
    for (n = kl_rbtree_min(tree.root, &sentinel); n;
         n = kl_rbtree_next(&tree, n)) {
        cr_assert_eq((n - nodes) % 2, 1, "a deleted node is still linked");
        count++;
    }
    cr_assert_eq(count, 1000);

    free(nodes);
}


Test(rbtree, timer_keys_tolerate_wrap)
{
    kl_rbtree_t      tree;
    kl_rbtree_node_t sentinel, a, b, c, *n;

    kl_rbtree_init(&tree, &sentinel, kl_rbtree_insert_timer_value);

    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    memset(&c, 0, sizeof(c));

    /* c's deadline wrapped past zero: it is still the latest */
    a.key = (kl_uint_t) -100;
    b.key = (kl_uint_t) -10;
    c.key = 50;

    kl_rbtree_insert(&tree, &c);
    kl_rbtree_insert(&tree, &a);
    kl_rbtree_insert(&tree, &b);

    n = kl_rbtree_min(tree.root, &sentinel);
    cr_assert_eq(n, &a);
    n = kl_rbtree_next(&tree, n);
    cr_assert_eq(n, &b);
    n = kl_rbtree_next(&tree, n);
    cr_assert_eq(n, &c);
}


Test(rbtree, ordered_expiry_of_100k_timers)
{
    kl_rbtree_t      tree;
    kl_rbtree_node_t sentinel, *nodes, *n;
    kl_uint_t        i, count, prev, base;

    nodes = calloc(NTIMERS, sizeof(kl_rbtree_node_t));
    cr_assert_not_null(nodes);

    kl_rbtree_init(&tree, &sentinel, kl_rbtree_insert_timer_value);

    /* deadlines within a day of a clock that started near zero */
    base = 1000;

    for (i = 0; i < NTIMERS; i++) {
        nodes[i].key = base + xorshift() % 86400000;
        kl_rbtree_insert(&tree, &nodes[i]);
    }

    check_tree(&tree);

    count = 0;
    prev = 0;

    while (tree.root != &sentinel) {
        n = kl_rbtree_min(tree.root, &sentinel);
        cr_assert_geq(n->key, prev, "timer %lu expired out of order",
                      (unsigned long) count);
        prev = n->key;

        kl_rbtree_delete(&tree, n);
        count++;

        if (count % 25000 == 0) {
            check_tree(&tree);
        }
    }

    cr_assert_eq(count, NTIMERS, "every timer came out exactly once");

    free(nodes);
}
