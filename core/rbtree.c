/* rbtree.c: the intrusive red-black tree (CLR's algorithm, as nginx has it). */

/*
 * The tree owns no memory: nodes are embedded in their objects and one
 * sentinel node stands for every leaf.  The insert callback places a node
 * as a plain binary-tree leaf; kl_rbtree_insert() then rebalances.  Keys
 * may repeat: a deletion removes exactly the node given.
 */

#include "kl_config.h"
#include "kl_types.h"
#include "rbtree.h"

static void kl_rbtree_left_rotate(kl_rbtree_node_t **root,
                                  kl_rbtree_node_t  *sentinel,
                                  kl_rbtree_node_t  *node);
static void kl_rbtree_right_rotate(kl_rbtree_node_t **root,
                                   kl_rbtree_node_t  *sentinel,
                                   kl_rbtree_node_t  *node);
static void kl_rbtree_delete_fixup(kl_rbtree_node_t **root,
                                   kl_rbtree_node_t  *sentinel,
                                   kl_rbtree_node_t  *temp);


void
kl_rbtree_insert(kl_rbtree_t *tree, kl_rbtree_node_t *node)
{
    kl_rbtree_node_t **root, *temp, *sentinel;

    root = &tree->root;
    sentinel = tree->sentinel;

    if (*root == sentinel) {
        node->parent = NULL;
        node->left = sentinel;
        node->right = sentinel;
        kl_rbt_black(node);
        *root = node;

        return;
    }

    tree->insert(*root, node, sentinel);

    while (node != *root && kl_rbt_is_red(node->parent)) {

        if (node->parent == node->parent->parent->left) {
            temp = node->parent->parent->right;

            if (kl_rbt_is_red(temp)) {
                kl_rbt_black(node->parent);
                kl_rbt_black(temp);
                kl_rbt_red(node->parent->parent);
                node = node->parent->parent;

            } else {
                if (node == node->parent->right) {
                    node = node->parent;
                    kl_rbtree_left_rotate(root, sentinel, node);
                }

                kl_rbt_black(node->parent);
                kl_rbt_red(node->parent->parent);
                kl_rbtree_right_rotate(root, sentinel, node->parent->parent);
            }

        } else {
            temp = node->parent->parent->left;

            if (kl_rbt_is_red(temp)) {
                kl_rbt_black(node->parent);
                kl_rbt_black(temp);
                kl_rbt_red(node->parent->parent);
                node = node->parent->parent;

            } else {
                if (node == node->parent->left) {
                    node = node->parent;
                    kl_rbtree_right_rotate(root, sentinel, node);
                }

                kl_rbt_black(node->parent);
                kl_rbt_red(node->parent->parent);
                kl_rbtree_left_rotate(root, sentinel, node->parent->parent);
            }
        }
    }

    kl_rbt_black(*root);
}


void
kl_rbtree_insert_value(kl_rbtree_node_t *temp, kl_rbtree_node_t *node,
                       kl_rbtree_node_t *sentinel)
{
    kl_rbtree_node_t **p;

    for (;;) {

        p = (node->key < temp->key) ? &temp->left : &temp->right;

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


/*
 * Deadlines are msec counters that may wrap: comparing the signed
 * difference orders them correctly while they lie within half the key
 * range of each other.
 */
void
kl_rbtree_insert_timer_value(kl_rbtree_node_t *temp, kl_rbtree_node_t *node,
                             kl_rbtree_node_t *sentinel)
{
    kl_rbtree_node_t **p;

    for (;;) {

        p = ((kl_rbtree_key_int_t) (node->key - temp->key) < 0) ? &temp->left
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


void
kl_rbtree_delete(kl_rbtree_t *tree, kl_rbtree_node_t *node)
{
    kl_uint_t          red;
    kl_rbtree_node_t **root, *sentinel, *subst, *temp;

    root = &tree->root;
    sentinel = tree->sentinel;

    if (node->left == sentinel) {
        temp = node->right;
        subst = node;

    } else if (node->right == sentinel) {
        temp = node->left;
        subst = node;

    } else {
        subst = kl_rbtree_min(node->right, sentinel);
        temp = subst->right;
    }

    if (subst == *root) {
        *root = temp;
        kl_rbt_black(temp);

        node->left = NULL;
        node->right = NULL;
        node->parent = NULL;
        node->key = 0;

        return;
    }

    red = kl_rbt_is_red(subst);

    if (subst == subst->parent->left) {
        subst->parent->left = temp;

    } else {
        subst->parent->right = temp;
    }

    if (subst == node) {
        temp->parent = subst->parent;

    } else {

        if (subst->parent == node) {
            temp->parent = subst;

        } else {
            temp->parent = subst->parent;
        }

        subst->left = node->left;
        subst->right = node->right;
        subst->parent = node->parent;
        kl_rbt_copy_color(subst, node);

        if (node == *root) {
            *root = subst;

        } else {
            if (node == node->parent->left) {
                node->parent->left = subst;

            } else {
                node->parent->right = subst;
            }
        }

        if (subst->left != sentinel) {
            subst->left->parent = subst;
        }

        if (subst->right != sentinel) {
            subst->right->parent = subst;
        }
    }

    node->left = NULL;
    node->right = NULL;
    node->parent = NULL;
    node->key = 0;

    if (red) {
        return;
    }

    kl_rbtree_delete_fixup(root, sentinel, temp);
}


static void
kl_rbtree_delete_fixup(kl_rbtree_node_t **root, kl_rbtree_node_t *sentinel,
                       kl_rbtree_node_t *temp)
{
    kl_rbtree_node_t *w;

    while (temp != *root && kl_rbt_is_black(temp)) {

        if (temp == temp->parent->left) {
            w = temp->parent->right;

            if (kl_rbt_is_red(w)) {
                kl_rbt_black(w);
                kl_rbt_red(temp->parent);
                kl_rbtree_left_rotate(root, sentinel, temp->parent);
                w = temp->parent->right;
            }

            if (kl_rbt_is_black(w->left) && kl_rbt_is_black(w->right)) {
                kl_rbt_red(w);
                temp = temp->parent;

            } else {
                if (kl_rbt_is_black(w->right)) {
                    kl_rbt_black(w->left);
                    kl_rbt_red(w);
                    kl_rbtree_right_rotate(root, sentinel, w);
                    w = temp->parent->right;
                }

                kl_rbt_copy_color(w, temp->parent);
                kl_rbt_black(temp->parent);
                kl_rbt_black(w->right);
                kl_rbtree_left_rotate(root, sentinel, temp->parent);
                temp = *root;
            }

        } else {
            w = temp->parent->left;

            if (kl_rbt_is_red(w)) {
                kl_rbt_black(w);
                kl_rbt_red(temp->parent);
                kl_rbtree_right_rotate(root, sentinel, temp->parent);
                w = temp->parent->left;
            }

            if (kl_rbt_is_black(w->left) && kl_rbt_is_black(w->right)) {
                kl_rbt_red(w);
                temp = temp->parent;

            } else {
                if (kl_rbt_is_black(w->left)) {
                    kl_rbt_black(w->right);
                    kl_rbt_red(w);
                    kl_rbtree_left_rotate(root, sentinel, w);
                    w = temp->parent->left;
                }

                kl_rbt_copy_color(w, temp->parent);
                kl_rbt_black(temp->parent);
                kl_rbt_black(w->left);
                kl_rbtree_right_rotate(root, sentinel, temp->parent);
                temp = *root;
            }
        }
    }

    kl_rbt_black(temp);
}


static void
kl_rbtree_left_rotate(kl_rbtree_node_t **root, kl_rbtree_node_t *sentinel,
                      kl_rbtree_node_t *node)
{
    kl_rbtree_node_t *temp;

    temp = node->right;
    node->right = temp->left;

    if (temp->left != sentinel) {
        temp->left->parent = node;
    }

    temp->parent = node->parent;

    if (node == *root) {
        *root = temp;

    } else if (node == node->parent->left) {
        node->parent->left = temp;

    } else {
        node->parent->right = temp;
    }

    temp->left = node;
    node->parent = temp;
}


static void
kl_rbtree_right_rotate(kl_rbtree_node_t **root, kl_rbtree_node_t *sentinel,
                       kl_rbtree_node_t *node)
{
    kl_rbtree_node_t *temp;

    temp = node->left;
    node->left = temp->right;

    if (temp->right != sentinel) {
        temp->right->parent = node;
    }

    temp->parent = node->parent;

    if (node == *root) {
        *root = temp;

    } else if (node == node->parent->right) {
        node->parent->right = temp;

    } else {
        node->parent->left = temp;
    }

    temp->right = node;
    node->parent = temp;
}


kl_rbtree_node_t *
kl_rbtree_min(kl_rbtree_node_t *node, kl_rbtree_node_t *sentinel)
{
    while (node->left != sentinel) {
        node = node->left;
    }

    return node;
}


/* In-order successor, or NULL after the last node. */
kl_rbtree_node_t *
kl_rbtree_next(kl_rbtree_t *tree, kl_rbtree_node_t *node)
{
    kl_rbtree_node_t *root, *sentinel, *parent;

    sentinel = tree->sentinel;

    if (node->right != sentinel) {
        return kl_rbtree_min(node->right, sentinel);
    }

    root = tree->root;

    for (;;) {
        parent = node->parent;

        if (node == root) {
            return NULL;
        }

        if (node == parent->left) {
            return parent;
        }

        node = parent;
    }
}
