/* queue.h: intrusive doubly-linked circular queues (posted events, free lists). */

#ifndef KL_QUEUE_H
#define KL_QUEUE_H

#include "kl_config.h"

typedef struct kl_queue_s kl_queue_t;

struct kl_queue_s {
    kl_queue_t *prev;
    kl_queue_t *next;
};

#define kl_queue_init(q)                                                       \
    (q)->prev = q;                                                             \
    (q)->next = q
#define kl_queue_empty(h) (h == (h)->prev)

#define kl_queue_insert_head(h, x)                                             \
    (x)->next = (h)->next;                                                     \
    (x)->next->prev = x;                                                       \
    (x)->prev = h;                                                             \
    (h)->next = x

#define kl_queue_insert_tail(h, x)                                             \
    (x)->prev = (h)->prev;                                                     \
    (x)->prev->next = x;                                                       \
    (x)->next = h;                                                             \
    (h)->prev = x

#define kl_queue_head(h)     (h)->next
#define kl_queue_last(h)     (h)->prev
#define kl_queue_sentinel(h) (h)
#define kl_queue_next(q)     (q)->next
#define kl_queue_prev(q)     (q)->prev

#define kl_queue_remove(x)                                                     \
    (x)->next->prev = (x)->prev;                                               \
    (x)->prev->next = (x)->next;                                               \
    (x)->prev = NULL;                                                          \
    (x)->next = NULL

#define kl_queue_data(q, type, link)                                           \
    (type *) ((u_char *) q - offsetof(type, link))

#endif /* KL_QUEUE_H */
