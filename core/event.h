/* event.h: read/write events, the event-backend seam, posted events, the events module. */

#ifndef KL_EVENT_H
#define KL_EVENT_H

#include "kl_config.h"
#include "kl_types.h"
#include "string.h"
#include "queue.h"
#include "rbtree.h"

struct kl_event_s {
    void               *data; /* the connection */
    kl_event_handler_pt handler;
    kl_log_t           *log;

    kl_rbtree_node_t timer;
    kl_queue_t       queue; /* posted */

    int available; /* accept: how many more to take */

    unsigned write:1;
    unsigned accept:1;
    unsigned instance:1; /* detects stale epoll reports */
    unsigned active:1;   /* registered with the backend */
    unsigned ready:1;    /* may read/write without EAGAIN */
    unsigned eof:1;
    unsigned pending_eof:1;
    unsigned error:1;
    unsigned timedout:1;
    unsigned timer_set:1;
    unsigned delayed:1;
    unsigned posted:1;
    unsigned closed:1;
    unsigned cancelable:1; /* may be left pending at exit */
};

/*
 * The backend seam (STYLE rule 11): epoll lives behind this table in
 * event_epoll.c and nowhere else.
 */
typedef struct {
    kl_int_t (*add)(kl_event_t *ev); /* a listening socket, LT */
    kl_int_t (*del)(kl_event_t *ev, kl_uint_t closing);
    kl_int_t (*add_conn)(kl_connection_t *c); /* read+write, ET */
    kl_int_t (*del_conn)(kl_connection_t *c, kl_uint_t closing);
    kl_int_t (*process)(kl_cycle_t *cycle, kl_msec_t timer, kl_uint_t flags);
    kl_int_t (*init)(kl_cycle_t *cycle);
    void (*done)(kl_cycle_t *cycle);
} kl_event_actions_t;

extern const kl_event_actions_t kl_epoll_actions;

#define KL_CLOSE_EVENT      1
#define KL_POST_EVENTS      1
#define KL_UPDATE_TIME      2
#define KL_TIMER_INFINITE   (kl_msec_t) - 1
#define KL_TIMER_LAZY_DELAY 300

#define KL_ACCEPT_EXCLUSIVE 0 /* EPOLLEXCLUSIVE on a shared socket */
#define KL_ACCEPT_REUSEPORT 1 /* a socket per worker */
#define KL_ACCEPT_MUTEX     2

/* The events module's conf: the "events { }" block. */
typedef struct {
    kl_uint_t connections;
    kl_int_t  multi_accept;
    kl_int_t  accept_mutex;
    kl_msec_t accept_mutex_delay;
    kl_str_t  use;

    struct kl_shm_zone_s *accept_zone; /* accept_mutex on, several workers */
    struct kl_shm_zone_s *stat_zone;   /* kl_stat_t */
} kl_event_conf_t;

/*
 * The connection and request counts of all workers together, in the
 * events module's "kiln_stat" zone (nginx's ngx_stat_*): stub_status
 * and $connections_* read them. Each counter has its own 128 bytes, so
 * that workers bumping different ones do not fight over a cache line.
 * "waiting" is not kept: it is active - reading - writing.
 */
struct kl_stat_s {
    _Alignas(128) kl_uint_t accepted; /* accept4 returned a socket */
    _Alignas(128) kl_uint_t handled;  /* and it got a connection */
    _Alignas(128) kl_uint_t active;   /* handled, not yet closed */
    _Alignas(128) kl_uint_t requests; /* request heads begun */
    _Alignas(128) kl_uint_t reading;  /* reading a request head */
    _Alignas(128) kl_uint_t writing;  /* head read, response not done */
};

/*
 * Add n (negative to subtract) to counter name: one relaxed atomic add,
 * no lock, no system call. A process without the zone (unit tests)
 * counts nothing.
 */
#define kl_stat_add(name, n)                                                   \
    do {                                                                       \
        if (kl_cycle != NULL && kl_cycle->stat != NULL) {                      \
            (void) __atomic_fetch_add(&kl_cycle->stat->name, (kl_uint_t) (n),  \
                                      __ATOMIC_RELAXED);                       \
        }                                                                      \
    } while (0)

extern kl_module_t kl_events_module;

/* The worker's event loop: wait, run handlers, expire timers, run posted. */
void kl_event_process_events_and_timers(kl_cycle_t *cycle);

/* Start the backend and register the listeners (worker init). */
kl_int_t kl_event_process_init(kl_cycle_t *cycle);

/* Ensure c's events are registered (edge-triggered: once per fd). */
kl_int_t kl_event_add_conn(kl_connection_t *c);

#define kl_post_event(ev, q)                                                   \
    if (!(ev)->posted) {                                                       \
        (ev)->posted = 1;                                                      \
        kl_queue_insert_tail(q, &(ev)->queue);                                 \
    }

#define kl_delete_posted_event(ev)                                             \
    (ev)->posted = 0;                                                          \
    kl_queue_remove(&(ev)->queue)

void kl_event_process_posted(kl_queue_t *posted);

/* The listening socket's read handler: accept4 in a loop. */
void kl_event_accept(kl_event_t *ev);

/* Stop/restart polling listeners (graceful exit, fd exhaustion). */
void     kl_event_disable_accept(kl_cycle_t *cycle);
kl_int_t kl_event_enable_accept(kl_cycle_t *cycle);

#endif /* KL_EVENT_H */
