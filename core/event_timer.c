/* event_timer.c: timers keyed by deadline in the loop's rbtree. */

#include "kl_core.h"


void
kl_event_timer_init(kl_rbtree_t *tree, kl_rbtree_node_t *sentinel)
{
    kl_rbtree_init(tree, sentinel, kl_rbtree_insert_timer_value);
}


void
kl_event_add_timer(kl_event_t *ev, kl_msec_t timer)
{
    kl_msec_t     key;
    kl_msec_int_t diff;

    key = kl_now() + timer;

    if (ev->timer_set) {
        diff = (kl_msec_int_t) (key - ev->timer.key);

        if (kl_abs(diff) < KL_TIMER_LAZY_DELAY) {
            return;
        }

        kl_event_del_timer(ev);
    }

    ev->timer.key = key;
    kl_rbtree_insert(&kl_loop.timers, &ev->timer);
    ev->timer_set = 1;
}


void
kl_event_del_timer(kl_event_t *ev)
{
    kl_rbtree_delete(&kl_loop.timers, &ev->timer);
    ev->timer.left = NULL;
    ev->timer.right = NULL;
    ev->timer.parent = NULL;
    ev->timer_set = 0;
}


kl_msec_t
kl_event_find_timer(void)
{
    kl_rbtree_node_t *node, *root, *sentinel;
    kl_msec_int_t     timer;

    if (kl_loop.timers.root == &kl_loop.timer_sentinel) {
        return KL_TIMER_INFINITE;
    }

    root = kl_loop.timers.root;
    sentinel = kl_loop.timers.sentinel;
    node = kl_rbtree_min(root, sentinel);

    timer = (kl_msec_int_t) (node->key - kl_now());

    return (kl_msec_t) (timer > 0 ? timer : 0);
}


void
kl_event_expire_timers(void)
{
    kl_event_t       *ev;
    kl_rbtree_node_t *node, *root, *sentinel;

    sentinel = kl_loop.timers.sentinel;

    for (;;) {
        root = kl_loop.timers.root;

        if (root == sentinel) {
            return;
        }

        node = kl_rbtree_min(root, sentinel);

        if ((kl_msec_int_t) (node->key - kl_now()) > 0) {
            return;
        }

        ev = (kl_event_t *) ((char *) node - offsetof(kl_event_t, timer));

        kl_event_del_timer(ev);

        ev->timedout = 1;
        ev->handler(ev);
    }
}


kl_uint_t
kl_event_no_timers_left(void)
{
    kl_event_t       *ev;
    kl_rbtree_node_t *node, *root, *sentinel;

    sentinel = kl_loop.timers.sentinel;
    root = kl_loop.timers.root;

    if (root == sentinel) {
        return 1;
    }

    for (node = kl_rbtree_min(root, sentinel); node;
         node = kl_rbtree_next(&kl_loop.timers, node))
    {
        ev = (kl_event_t *) ((char *) node - offsetof(kl_event_t, timer));

        if (!ev->cancelable) {
            return 0;
        }
    }

    return 1;
}
