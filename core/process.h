/* process.h: the per-process state: the current cycle, the event loop, signal flags. */

#ifndef KL_PROCESS_H
#define KL_PROCESS_H

#include "kl_config.h"
#include "kl_types.h"
#include "queue.h"
#include "rbtree.h"
#include "time.h"
#include "event.h"
#include "pool.h"

#define KL_PROCESS_SINGLE    0
#define KL_PROCESS_MASTER    1
#define KL_PROCESS_WORKER    2
#define KL_PROCESS_SIGNALLER 3

/*
 * Everything a process owns outside its configuration: the clock, timers,
 * posted events and the backend. One per process; see STYLE rule 14.
 */
struct kl_loop_s {
    kl_clock_t       clock;
    kl_rbtree_t      timers;
    kl_rbtree_node_t timer_sentinel;
    kl_queue_t       posted;
    kl_queue_t       posted_accept;
    kl_queue_t       posted_next; /* run next iteration */
    kl_queue_t       reusable;    /* idle keep-alive connections */
    kl_uint_t        reusable_n;

    const kl_event_actions_t *actions;
    kl_fd_t                   backend_fd;
    void                     *backend_events;
    kl_uint_t                 backend_nevents;

    kl_uint_t role;
    kl_int_t  worker; /* slot number, -1 outside */
    pid_t     pid;
    pid_t     parent;
    kl_uint_t connection_counter;
    kl_uint_t accept_strategy;
    kl_uint_t multi_accept;

    kl_msec_t accept_mutex_delay;
    kl_int_t  accept_skip; /* nginx's ngx_accept_disabled: rounds to sit out */

    char     *title_start; /* argv, for the title */
    size_t    title_size;
    char    **argv;             /* a copy of main's, for USR2 */
    char     *binary;           /* absolute path of the binary to exec */
    void     *regex_match_data; /* pcre2_match_data *, reused */
    kl_uint_t regex_match_size;

    kl_pool_stash_t pool_stash; /* request pools, reused */

    /* The last Last-Modified sent, formatted (-1: none yet). */
    time_t last_modified_time;
    u_char last_modified[sizeof("Mon, 28 Sep 1970 06:00:00 GMT") - 1];

    unsigned exiting:1; /* graceful quit in progress */
    unsigned accept_disabled:1;
    unsigned accept_mutex_held:1; /* shared listeners are in this epoll */
    unsigned accept_spread:1;     /* EPOLLEXCLUSIVE, several workers */
    unsigned daemonized:1;
    unsigned inherited:1;
    unsigned use_stderr:1; /* also echo [emerg]..[warn] */
};

extern kl_cycle_t *kl_cycle;
extern kl_loop_t   kl_loop;

/* Set by signal handlers, consumed by the master and worker loops. */
typedef struct {
    volatile sig_atomic_t reconfigure;   /* HUP */
    volatile sig_atomic_t reopen;        /* USR1 */
    volatile sig_atomic_t quit;          /* QUIT */
    volatile sig_atomic_t terminate;     /* TERM, INT */
    volatile sig_atomic_t child;         /* CHLD */
    volatile sig_atomic_t noaccept;      /* WINCH */
    volatile sig_atomic_t change_binary; /* USR2 */
    volatile sig_atomic_t alarm;         /* ALRM */
} kl_signals_t;

extern kl_signals_t kl_sig;

#define kl_now() (kl_loop.clock.msec)

/* Keep argv's memory for the process title ("kiln: worker process"). */
kl_int_t kl_proctitle_init(int argc, char **argv, kl_log_t *log);
void     kl_proctitle_set(const char *title);

/*
 * A worker's life: init, loop, graceful or fast exit. Never returns.
 * worker/ defines it and master/ calls it: both see only core/.
 */
void kl_worker_process_cycle(kl_cycle_t *cycle, kl_int_t slot);

#endif /* KL_PROCESS_H */
