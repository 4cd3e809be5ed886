/* event_timer.h: deadline-keyed timers in an rbtree, re-armed lazily. */

#ifndef KL_EVENT_TIMER_H
#define KL_EVENT_TIMER_H

#include "kl_config.h"
#include "kl_types.h"
#include "rbtree.h"

void kl_event_timer_init(kl_rbtree_t *tree, kl_rbtree_node_t *sentinel);

/*
 * Arm ev to fire timer ms from now. Re-arming a set timer whose deadline
 * would move by less than KL_TIMER_LAZY_DELAY ms is skipped: keep-alive
 * and read timeouts are re-armed on every event, and the tree churn cost
 * more than the precision is worth.
 */
void kl_event_add_timer(kl_event_t *ev, kl_msec_t timer);
void kl_event_del_timer(kl_event_t *ev);

/* ms until the nearest deadline (0 if past), KL_TIMER_INFINITE if none. */
kl_msec_t kl_event_find_timer(void);

/* Run the handlers of every timer whose deadline has passed. */
void kl_event_expire_timers(void);

/* True when only cancelable timers remain (a quitting worker may exit). */
kl_uint_t kl_event_no_timers_left(void);

#endif /* KL_EVENT_TIMER_H */
