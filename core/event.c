/*
 * event.c: the events module, the worker's loop iteration, posted events
 * and accept.
 *
 * Three accept strategies share these listeners (docs/accept.md):
 *
 * - EPOLLEXCLUSIVE (the default): every worker keeps every shared
 *   listener in its epoll, and the kernel wakes one waiter per
 *   connection instead of all of them.
 * - reuseport: "listen ... reuseport" gives each worker its own socket
 *   (kl_event_listen_connections skips the other workers' copies) and
 *   the kernel spreads connections by hash. Such listeners stay in their
 *   worker's epoll for its whole life and never take part in the mutex.
 * - accept_mutex on: as nginx's. Each iteration a worker that is not
 *   sitting out (accept_skip, set from how full its connection array
 *   is) tries a lock in shared memory; the holder alone keeps the shared
 *   listeners in its epoll, level-triggered, posts their events and
 *   accepts them, then gives the lock back once the posted accepts are
 *   done. A worker that misses the lock takes the listeners out of its
 *   epoll and waits at most accept_mutex_delay before trying again.
 *
 * The lock is the mutex of a zone the events module registers on the
 * cycle when the mutex is on ("kiln_accept_mutex"), mapped by the master
 * before the cycle's workers are forked. A reload that keeps the mutex
 * keeps the zone, so old and new workers share one lock for the short
 * time both live, which is harmless: an exiting worker never takes it
 * and drops it if it holds it, and one that dies holding it is released
 * by the master's reap (kl_shm_zones_unlock).
 *
 * The same module registers "kiln_stat", the connection and request
 * counters of all workers (kl_stat_t, for stub_status): a reload keeps
 * it, so the counts run on across reloads and respawns, as nginx's do.
 */

#include "kl_core.h"

#include <sys/resource.h>

/* fds a worker keeps beside its connections: files, logs, the channel. */
#define KL_EVENT_FD_RESERVE 64


static void    *kl_event_create_conf(kl_cycle_t *cycle);
static char    *kl_event_init_conf(kl_cycle_t *cycle, void *conf);
static kl_int_t kl_event_module_init(kl_cycle_t *cycle);
static kl_int_t kl_event_add_zones(kl_cycle_t *cycle, kl_event_conf_t *ecf);
static kl_int_t kl_event_zone_init(kl_shm_zone_t *zone, void *old_data);
static char    *kl_events_block(kl_conf_t *cf, kl_command_t *cmd, void *conf);
static char *kl_event_connections(kl_conf_t *cf, kl_command_t *cmd, void *conf);
static char *kl_event_use(kl_conf_t *cf, kl_command_t *cmd, void *conf);
static kl_int_t    kl_event_listen_connections(kl_cycle_t *cycle);
static kl_shmtx_t *kl_event_accept_mutex(kl_cycle_t *cycle);
static void      kl_event_set_strategy(kl_cycle_t *cycle, kl_event_conf_t *ecf);
static void      kl_event_accept_mutex_try(kl_cycle_t *cycle);
static void      kl_event_accept_mutex_drop(kl_cycle_t *cycle);
static kl_int_t  kl_event_poll_listeners(kl_cycle_t *cycle, kl_uint_t on,
                                         kl_uint_t shared_only);
static void      kl_event_accept_retry(kl_event_t *ev);
static void      kl_event_accept_backoff(kl_event_t *ev);
static kl_uint_t kl_event_accept_full(kl_event_t *ev);
static kl_uint_t kl_event_accept_failed(kl_event_t *ev, int err);
static kl_connection_t *kl_event_accept_connection(kl_event_t     *ev,
                                                   kl_listening_t *ls, int s,
                                                   kl_sockaddr_t *sa,
                                                   socklen_t      socklen);
static void             kl_event_accept_start(kl_connection_t *c);
static kl_uint_t kl_event_accept_spread(kl_event_t *ev, kl_listening_t *ls);


/* Directive tables keep one field a line, as nginx's do. */
/* clang-format off */
static kl_command_t  kl_events_commands[] = {

    { kl_string("events"),
      KL_MAIN_CONF | KL_CONF_BLOCK | KL_CONF_NOARGS,
      kl_events_block,
      0,
      0,
      NULL },

    { kl_string("worker_connections"),
      KL_EVENT_CONF | KL_DIRECT_CONF | KL_CONF_TAKE1,
      kl_event_connections,
      0,
      0,
      NULL },

    { kl_string("multi_accept"),
      KL_EVENT_CONF | KL_DIRECT_CONF | KL_CONF_FLAG,
      kl_conf_set_flag_slot,
      0,
      offsetof(kl_event_conf_t, multi_accept),
      NULL },

    { kl_string("accept_mutex"),
      KL_EVENT_CONF | KL_DIRECT_CONF | KL_CONF_FLAG,
      kl_conf_set_flag_slot,
      0,
      offsetof(kl_event_conf_t, accept_mutex),
      NULL },

    { kl_string("accept_mutex_delay"),
      KL_EVENT_CONF | KL_DIRECT_CONF | KL_CONF_TAKE1,
      kl_conf_set_msec_slot,
      0,
      offsetof(kl_event_conf_t, accept_mutex_delay),
      NULL },

    { kl_string("use"),
      KL_EVENT_CONF | KL_DIRECT_CONF | KL_CONF_TAKE1,
      kl_event_use,
      0,
      0,
      NULL },

    kl_null_command
};
/* clang-format on */


static kl_core_module_t kl_events_module_ctx = {
    .create_conf = kl_event_create_conf,
    .init_conf = kl_event_init_conf,
};


kl_module_t kl_events_module = {
    .name = "kl_events_module",
    .type = KL_CORE_MODULE,
    .ctx = &kl_events_module_ctx,
    .commands = kl_events_commands,
    .init_module = kl_event_module_init,
};


static void *
kl_event_create_conf(kl_cycle_t *cycle)
{
    kl_event_conf_t *ecf;

    ecf = kl_pcalloc(cycle->pool, sizeof(kl_event_conf_t));
    if (ecf == NULL) {
        return NULL;
    }

    ecf->connections = KL_CONF_UNSET_UINT;
    ecf->multi_accept = KL_CONF_UNSET;
    ecf->accept_mutex = KL_CONF_UNSET;
    ecf->accept_mutex_delay = KL_CONF_UNSET_MSEC;

    return ecf;
}


static char *
kl_event_init_conf(kl_cycle_t *cycle, void *conf)
{
    kl_event_conf_t *ecf = conf;

    kl_conf_init_uint_value(ecf->connections, 512);
    kl_conf_init_value(ecf->multi_accept, 0);
    kl_conf_init_value(ecf->accept_mutex, 0);
    kl_conf_init_msec_value(ecf->accept_mutex_delay, 500);

    if (kl_event_add_zones(cycle, ecf) != KL_OK) {
        return KL_CONF_ERROR;
    }

    return KL_CONF_OK;
}


static kl_int_t
kl_event_add_zones(kl_cycle_t *cycle, kl_event_conf_t *ecf)
{
    kl_str_t        name;
    kl_core_conf_t *ccf;

    ccf = (kl_core_conf_t *) kl_get_conf(cycle->conf_ctx, kl_core_module);

    kl_str_set(&name, "kiln_stat");
    ecf->stat_zone = kl_shm_zone_add_cycle(
        cycle, &name, KL_SHM_ZONE_HEADER + sizeof(kl_stat_t),
        &kl_events_module);
    if (ecf->stat_zone == NULL) {
        return KL_ERROR;
    }

    ecf->stat_zone->init = kl_event_zone_init;

    /* One worker, or none forked: there is nobody to exclude. */
    if (!ecf->accept_mutex || !ccf->master || ccf->worker_processes < 2) {
        return KL_OK;
    }

    /* The zone's own lock is the mutex; a page is what mmap maps anyway. */
    kl_str_set(&name, "kiln_accept_mutex");
    ecf->accept_zone =
        kl_shm_zone_add_cycle(cycle, &name, 4096, &kl_events_module);
    if (ecf->accept_zone == NULL) {
        return KL_ERROR;
    }

    ecf->accept_zone->init = kl_event_zone_init;
    ecf->accept_zone->quiet_unlock = 1; /* held a good part of the time */

    return KL_OK;
}


/* Both zones are as the old workers left them, or zeroed: unlocked, 0. */
static kl_int_t
kl_event_zone_init(kl_shm_zone_t *zone, void *old_data)
{
    (void) old_data;

    zone->data = kl_shm_zone_start(zone);

    return KL_OK;
}


/* The master, for each new cycle, once its zones are mapped. */
static kl_int_t
kl_event_module_init(kl_cycle_t *cycle)
{
    kl_event_conf_t *ecf;

    ecf = (kl_event_conf_t *) kl_get_conf(cycle->conf_ctx, kl_events_module);

    cycle->stat = ecf->stat_zone->data;

    return KL_OK;
}


static char *
kl_events_block(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    char     *rv;
    kl_conf_t pcf;

    (void) cmd;
    (void) conf;

    pcf = *cf;
    cf->cmd_type = KL_EVENT_CONF;

    rv = kl_conf_parse(cf, NULL);

    *cf = pcf;

    return rv;
}


static char *
kl_event_connections(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_event_conf_t *ecf = conf;
    kl_str_t        *value;
    kl_int_t         n;

    (void) cmd;

    if (ecf->connections != KL_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;
    n = kl_atoi(value[1].data, value[1].len);

    if (n == KL_ERROR || n < 2) {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0, "invalid number \"%V\"",
                          &value[1]);
        return KL_CONF_ERROR;
    }

    ecf->connections = (kl_uint_t) n;

    return KL_CONF_OK;
}


static char *
kl_event_use(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_event_conf_t *ecf = conf;
    kl_str_t        *value;

    (void) cmd;

    value = cf->args->elts;

    if (value[1].len != 5 || kl_strncmp(value[1].data, "epoll", 5) != 0) {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0, "invalid event type \"%V\"",
                          &value[1]);
        return KL_CONF_ERROR;
    }

    ecf->use = value[1];

    return KL_CONF_OK;
}


kl_int_t
kl_event_process_init(kl_cycle_t *cycle)
{
    kl_uint_t        i;
    kl_event_t      *rev, *wev;
    kl_event_conf_t *ecf;
    kl_connection_t *c, *next;
    struct rlimit    rlmt;
    kl_core_conf_t  *ccf;

    ecf = (kl_event_conf_t *) kl_get_conf(cycle->conf_ctx, kl_events_module);

    kl_queue_init(&kl_loop.posted);
    kl_queue_init(&kl_loop.posted_accept);
    kl_queue_init(&kl_loop.posted_next);
    kl_queue_init(&kl_loop.reusable);
    kl_loop.reusable_n = 0;
    kl_event_timer_init(&kl_loop.timers, &kl_loop.timer_sentinel);

    kl_loop.multi_accept = ecf->multi_accept;
    kl_loop.accept_mutex_delay = ecf->accept_mutex_delay;
    kl_loop.accept_mutex_held = 0;
    kl_loop.accept_skip = 0;

    kl_event_set_strategy(cycle, ecf);

    ccf = (kl_core_conf_t *) kl_get_conf(cycle->conf_ctx, kl_core_module);
    kl_loop.accept_spread = kl_loop.accept_strategy == KL_ACCEPT_EXCLUSIVE
                            && ccf->master && ccf->worker_processes > 1;

    kl_loop.actions = &kl_epoll_actions;

    if (kl_loop.actions->init(cycle) != KL_OK) {
        return KL_ERROR;
    }

    cycle->connection_n = ecf->connections;

    /*
     * A connection is an fd: with worker_connections at or above the fd
     * limit, accept4 fails with EMFILE while slots are free, and the
     * EMFILE path closes idle connections to make room. Fewer slots, so
     * the worker counts itself full first, with fds kept for files, logs
     * and the master's channel.
     */
    if (getrlimit(RLIMIT_NOFILE, &rlmt) == 0 && rlmt.rlim_cur != RLIM_INFINITY
        && rlmt.rlim_cur > 2 * KL_EVENT_FD_RESERVE
        && (rlim_t) cycle->connection_n > rlmt.rlim_cur - KL_EVENT_FD_RESERVE)
    {
        cycle->connection_n = (kl_uint_t) (rlmt.rlim_cur - KL_EVENT_FD_RESERVE);
    }

    cycle->connections =
        kl_calloc(sizeof(kl_connection_t) * cycle->connection_n, cycle->log);
    cycle->read_events =
        kl_calloc(sizeof(kl_event_t) * cycle->connection_n, cycle->log);
    cycle->write_events =
        kl_calloc(sizeof(kl_event_t) * cycle->connection_n, cycle->log);

    if (cycle->connections == NULL || cycle->read_events == NULL
        || cycle->write_events == NULL)
    {
        return KL_ERROR;
    }

    for (i = 0; i < cycle->connection_n; i++) {
        rev = &cycle->read_events[i];
        wev = &cycle->write_events[i];

        /* instance starts at 1 so the first use flips it to 0. */
        rev->closed = 1;
        rev->instance = 1;
        wev->closed = 1;
        wev->write = 1;
    }

    next = NULL;
    i = cycle->connection_n;
    c = cycle->connections;

    do {
        i--;

        c[i].data = next;
        c[i].read = &cycle->read_events[i];
        c[i].write = &cycle->write_events[i];
        c[i].fd = -1;

        next = &c[i];
    } while (i);

    cycle->free_connections = next;
    cycle->free_connection_n = cycle->connection_n;

    return kl_event_listen_connections(cycle);
}


static kl_int_t
kl_event_listen_connections(kl_cycle_t *cycle)
{
    kl_uint_t        i;
    kl_event_t      *rev;
    kl_listening_t  *ls;
    kl_connection_t *c;

    ls = cycle->listening.elts;

    for (i = 0; i < cycle->listening.nelts; i++) {

        /*
         * A worker polls its own reuseport copy. master_process off has
         * one process for every copy the kernel hands connections to
         * (nginx polls only the first there, and the rest hang).
         */
        if (ls[i].reuseport && kl_loop.role != KL_PROCESS_SINGLE
            && (kl_int_t) ls[i].worker != kl_loop.worker)
        {
            continue;
        }

        if (ls[i].fd == -1) {
            continue;
        }

        c = kl_get_connection(ls[i].fd, cycle->log);
        if (c == NULL) {
            return KL_ERROR;
        }

        c->log = &ls[i].log;
        c->listening = &ls[i];
        ls[i].connection = c;

        rev = c->read;
        rev->log = c->log;
        rev->accept = 1;
        rev->handler = kl_event_accept;

        /* Under the mutex, shared listeners come with the lock. */
        if (kl_loop.accept_strategy == KL_ACCEPT_MUTEX && !ls[i].reuseport) {
            continue;
        }

        if (kl_loop.actions->add(rev) != KL_OK) {
            return KL_ERROR;
        }
    }

    return KL_OK;
}


/*
 * The mutex only where it can matter: several workers of a master, and
 * at least one listener that they share. Without shared listeners
 * (all "reuseport"), each worker polls its own sockets.
 */
static void
kl_event_set_strategy(kl_cycle_t *cycle, kl_event_conf_t *ecf)
{
    kl_uint_t       i, shared, own;
    kl_listening_t *ls;
    kl_core_conf_t *ccf;
#if (KL_HAVE_EPOLLEXCLUSIVE)
    static char *names[] = { "EPOLLEXCLUSIVE", "reuseport", "accept_mutex" };
#else
    static char *names[] = { "shared listeners, no EPOLLEXCLUSIVE", "reuseport",
                             "accept_mutex" };
#endif

    ccf = (kl_core_conf_t *) kl_get_conf(cycle->conf_ctx, kl_core_module);
    ls = cycle->listening.elts;
    shared = 0;
    own = 0;

    for (i = 0; i < cycle->listening.nelts; i++) {
        if (ls[i].reuseport) {
            own++;
        } else {
            shared++;
        }
    }

    if (shared == 0 && own) {
        kl_loop.accept_strategy = KL_ACCEPT_REUSEPORT;

    } else if (ecf->accept_zone != NULL && ecf->accept_zone->shm.addr != NULL
               && kl_loop.role == KL_PROCESS_WORKER
               && ccf->worker_processes > 1)
    {
        kl_loop.accept_strategy = KL_ACCEPT_MUTEX;

    } else {
        kl_loop.accept_strategy = KL_ACCEPT_EXCLUSIVE;
    }

    kl_log_error(KL_LOG_INFO, cycle->log, 0, "accept strategy: %s%s",
                 names[kl_loop.accept_strategy],
                 (shared && own) ? ", reuseport for reuseport listeners" : "");
}


void
kl_event_process_events_and_timers(kl_cycle_t *cycle)
{
    kl_msec_t   timer;
    kl_queue_t *q;

    timer = kl_event_find_timer();

    /* Work deferred to this iteration must not wait for a timer. */
    if (!kl_queue_empty(&kl_loop.posted_next)) {
        while (!kl_queue_empty(&kl_loop.posted_next)) {
            q = kl_queue_head(&kl_loop.posted_next);
            kl_queue_remove(q);
            kl_queue_insert_tail(&kl_loop.posted, q);
        }

        timer = 0;
    }

    if (kl_loop.accept_strategy == KL_ACCEPT_MUTEX) {
        kl_event_accept_mutex_try(cycle);

        /* Without the lock, come back soon to try for it again. */
        if (!kl_loop.accept_mutex_held
            && (timer == KL_TIMER_INFINITE
                || timer > kl_loop.accept_mutex_delay))
        {
            timer = kl_loop.accept_mutex_delay;
        }
    }

    (void) kl_loop.actions->process(cycle, timer,
                                    KL_UPDATE_TIME | KL_POST_EVENTS);

    kl_event_process_posted(&kl_loop.posted_accept);

    /*
     * The listeners stay in this epoll until a later try fails, so the
     * next round costs no epoll_ctl when this worker wins again.
     */
    if (kl_loop.accept_mutex_held) {
        kl_shmtx_unlock(kl_event_accept_mutex(cycle));
    }

    kl_event_expire_timers();

    kl_event_process_posted(&kl_loop.posted);
}


/* Only under KL_ACCEPT_MUTEX, which needs the zone mapped. */
static kl_shmtx_t *
kl_event_accept_mutex(kl_cycle_t *cycle)
{
    kl_event_conf_t *ecf;

    ecf = (kl_event_conf_t *) kl_get_conf(cycle->conf_ctx, kl_events_module);

    return &ecf->accept_zone->mutex;
}


static void
kl_event_accept_mutex_try(kl_cycle_t *cycle)
{
    /* Exiting (listeners closed) or out of fds: stay out of the race. */
    if (kl_loop.exiting || kl_loop.accept_disabled) {
        kl_event_accept_mutex_drop(cycle);
        return;
    }

    /* Nearly out of connections: let the other workers accept a while. */
    if (kl_loop.accept_skip > 0) {
        kl_loop.accept_skip--;
        kl_event_accept_mutex_drop(cycle);
        return;
    }

    if (!kl_shmtx_trylock(kl_event_accept_mutex(cycle))) {
        kl_event_accept_mutex_drop(cycle);
        return;
    }

    if (kl_loop.accept_mutex_held) {
        return;
    }

    if (kl_event_poll_listeners(cycle, 1, 1) != KL_OK) {
        (void) kl_event_poll_listeners(cycle, 0, 1);
        kl_shmtx_unlock(kl_event_accept_mutex(cycle));
        return;
    }

    kl_loop.accept_mutex_held = 1;
}


/* Take the shared listeners out of this epoll and give the lock back. */
static void
kl_event_accept_mutex_drop(kl_cycle_t *cycle)
{
    if (kl_loop.accept_mutex_held) {
        (void) kl_event_poll_listeners(cycle, 0, 1);
        kl_loop.accept_mutex_held = 0;
    }

    /* A no-op unless this process holds it. */
    kl_shmtx_unlock(kl_event_accept_mutex(cycle));
}


void
kl_event_process_posted(kl_queue_t *posted)
{
    kl_queue_t *q;
    kl_event_t *ev;

    while (!kl_queue_empty(posted)) {
        q = kl_queue_head(posted);
        ev = kl_queue_data(q, kl_event_t, queue);

        kl_delete_posted_event(ev);

        ev->handler(ev);
    }
}


/*
 * Take connections off a listener: one, or all that wait with
 * multi_accept. Each phase is a static helper (the compiler inlines them:
 * this is the hot path for short connections).
 */
void
kl_event_accept(kl_event_t *ev)
{
    int              s;
    socklen_t        socklen;
    kl_sockaddr_t    sa;
    kl_listening_t  *ls;
    kl_connection_t *c, *lc;

    lc = ev->data;
    ls = lc->listening;
    ev->ready = 0;

    do {
        if (kl_event_accept_full(ev)) {
            return;
        }

        socklen = sizeof(kl_sockaddr_t);

        s = accept4(lc->fd, &sa.sockaddr, &socklen,
                    SOCK_NONBLOCK | SOCK_CLOEXEC);

        if (s == -1) {
            if (kl_event_accept_failed(ev, errno)) {
                continue;
            }

            return;
        }

        kl_stat_add(accepted, 1);

        c = kl_event_accept_connection(ev, ls, s, &sa, socklen);
        if (c == NULL) {
            return;
        }

        kl_event_accept_start(c);

        if (kl_event_accept_spread(ev, ls)) {
            return;
        }

    } while (kl_loop.multi_accept);
}


/* No free connection even after idle ones made room: 1, and back off. */
static kl_uint_t
kl_event_accept_full(kl_event_t *ev)
{
    /* Idle keep-alive and waiting connections make room first. */
    if (kl_cycle->free_connections == NULL) {
        kl_close_idle_connections(kl_cycle);
    }

    /*
     * Still full: leave new connections in the listen queue, to be
     * accepted once some close, rather than take each and drop it
     * (nginx's way, an alert and a lost client per connection).
     */
    if (kl_cycle->free_connections == NULL) {
        kl_log_error(KL_LOG_ALERT, ev->log, 0,
                     "%ui worker_connections are not enough",
                     kl_cycle->connection_n);
        kl_event_accept_backoff(ev);
        return 1;
    }

    return 0;
}


/* accept4() failed with err: 1 if the next one may still succeed. */
static kl_uint_t
kl_event_accept_failed(kl_event_t *ev, int err)
{
    if (err == EAGAIN || err == EWOULDBLOCK) {
        return 0;
    }

    if (err == ECONNABORTED || err == EINTR) {
        return 1;
    }

    kl_log_error((err == EMFILE || err == ENFILE) ? KL_LOG_CRIT : KL_LOG_ALERT,
                 ev->log, err, "accept4() failed");

    if (err == EMFILE || err == ENFILE) {
        kl_event_accept_backoff(ev);
        kl_close_idle_connections(kl_cycle);
    }

    return 0;
}


/*
 * The connection for accepted socket s, set up from its listener; NULL
 * (s closed) when none is free or its log cannot be allocated.
 */
static kl_connection_t *
kl_event_accept_connection(kl_event_t *ev, kl_listening_t *ls, int s,
                           kl_sockaddr_t *sa, socklen_t socklen)
{
    size_t           len;
    kl_log_t        *log;
    kl_connection_t *c;
    u_char           text[KL_SOCKADDR_STRLEN];

    c = kl_get_connection(s, ev->log);

    if (c == NULL) {
        close(s);
        kl_close_idle_connections(kl_cycle);
        return NULL;
    }

    /* nginx's ngx_accept_disabled: positive when over 7/8 full. */
    kl_loop.accept_skip = (kl_int_t) (kl_cycle->connection_n / 8)
                          - (kl_int_t) kl_cycle->free_connection_n;

    /*
     * What an idle connection keeps, in one exact block: its log, its
     * peer address and that address as text. No pool: the protocol
     * makes one for the time it is busy.
     */
    len = kl_sock_ntop(&sa->sockaddr, socklen, text, sizeof(text), 0);

    log = kl_alloc(sizeof(kl_log_t) + socklen + len, ev->log);
    if (log == NULL) {
        kl_close_connection(c);
        return NULL;
    }

    *log = ls->log;
    c->log = log;
    c->own_log = 1; /* kl_close_connection counts it out of "active" */

    kl_stat_add(active, 1);
    kl_stat_add(handled, 1);

    c->sockaddr = (struct sockaddr *) (log + 1);
    kl_memcpy(c->sockaddr, sa, socklen);
    c->socklen = socklen;

    c->addr_text.data = (u_char *) c->sockaddr + socklen;
    c->addr_text.len = len;
    kl_memcpy(c->addr_text.data, text, len);

    c->listening = ls;
    c->io = &kl_os_io;
    c->local_sockaddr = &ls->sockaddr.sockaddr;
    c->local_socklen = ls->socklen;
    c->number = ++kl_loop.connection_counter;

    /* A unix socket has no TCP options: take them as set, never try. */
    if (ls->sockaddr.sockaddr.sa_family == AF_UNIX) {
        c->tcp_nodelay = 1;
        c->corked = 1;
    }

    c->read->log = log;
    c->write->log = log;
    c->write->ready = 1;

    log->connection = c->number;
    log->data = NULL;
    log->handler = NULL;

    return c;
}


/* Hand a new connection to its protocol, then to epoll if still open. */
static void
kl_event_accept_start(kl_connection_t *c)
{
    c->listening->handler(c);

    /*
     * Into the epoll set only now, if still open: the handler read
     * at once, and a request that came with the handshake may have
     * been answered and closed with no epoll_ctl at all. What became
     * ready meanwhile is reported as soon as the socket is added.
     */
    if (c->fd != -1 && !c->read->active
        && kl_loop.actions->add_conn(c) != KL_OK) {
        c->close = 1;
        c->error = 1;
        c->read->handler(c->read);
    }
}


/*
 * Over 7/8 full on a shared EPOLLEXCLUSIVE listener, with other workers to
 * take over: step out for accept_mutex_delay (and return 1) so that
 * workers with room take the next connections, rather than fill up (and
 * drain idle keep-alive connections) while they idle. Come back to take
 * one each time: when all are this full, they still accept.
 */
static kl_uint_t
kl_event_accept_spread(kl_event_t *ev, kl_listening_t *ls)
{
    if (kl_loop.accept_skip > 0 && kl_loop.accept_spread && !ls->reuseport
        && !kl_loop.accept_disabled && !kl_loop.exiting)
    {
        kl_event_disable_accept(kl_cycle);
        ev->handler = kl_event_accept_retry;
        kl_event_add_timer(ev, kl_loop.accept_mutex_delay);
        return 1;
    }

    return 0;
}


/* Stop polling listeners for a while rather than spin on them. */
static void
kl_event_accept_backoff(kl_event_t *ev)
{
    kl_event_disable_accept(kl_cycle);
    ev->handler = kl_event_accept_retry;
    kl_event_add_timer(ev, 500);
}


static void
kl_event_accept_retry(kl_event_t *ev)
{
    ev->timedout = 0;

    if (kl_loop.exiting) {
        ev->handler = kl_event_accept;
        return;
    }

    if (kl_cycle->free_connections == NULL) {
        kl_close_idle_connections(kl_cycle);
    }

    /* Out of connections still: wait on, quietly (the alert is logged). */
    if (kl_cycle->free_connections == NULL) {
        kl_event_add_timer(ev, 500);
        return;
    }

    ev->handler = kl_event_accept;
    (void) kl_event_enable_accept(kl_cycle);
}


/* Stop polling every listener: out of fds (EMFILE, ENFILE). */
void
kl_event_disable_accept(kl_cycle_t *cycle)
{
    (void) kl_event_poll_listeners(cycle, 0, 0);

    kl_loop.accept_disabled = 1;

    /* The shared listeners are gone from this epoll: so is the lock. */
    if (kl_loop.accept_strategy == KL_ACCEPT_MUTEX) {
        kl_loop.accept_mutex_held = 0;
        kl_shmtx_unlock(kl_event_accept_mutex(cycle));
    }
}


/* Poll the listeners again; under the mutex, shared ones wait for it. */
kl_int_t
kl_event_enable_accept(kl_cycle_t *cycle)
{
    kl_uint_t       i;
    kl_listening_t *ls;

    if (kl_loop.accept_strategy != KL_ACCEPT_MUTEX) {
        if (kl_event_poll_listeners(cycle, 1, 0) != KL_OK) {
            return KL_ERROR;
        }

    } else {
        ls = cycle->listening.elts;

        for (i = 0; i < cycle->listening.nelts; i++) {
            if (ls[i].reuseport && ls[i].connection != NULL
                && !ls[i].connection->read->active
                && kl_loop.actions->add(ls[i].connection->read) != KL_OK)
            {
                return KL_ERROR;
            }
        }
    }

    kl_loop.accept_disabled = 0;

    return KL_OK;
}


/*
 * Add (on) or remove this worker's listeners from the backend: all of
 * them, or only the shared ones (not "reuseport") for the mutex.
 */
static kl_int_t
kl_event_poll_listeners(kl_cycle_t *cycle, kl_uint_t on, kl_uint_t shared_only)
{
    kl_int_t        rc;
    kl_uint_t       i;
    kl_event_t     *rev;
    kl_listening_t *ls;

    rc = KL_OK;
    ls = cycle->listening.elts;

    for (i = 0; i < cycle->listening.nelts; i++) {
        if (ls[i].connection == NULL || (shared_only && ls[i].reuseport)) {
            continue;
        }

        rev = ls[i].connection->read;

        if (on && !rev->active) {
            if (kl_loop.actions->add(rev) != KL_OK) {
                return KL_ERROR;
            }

        } else if (!on && rev->active) {
            /* Removing goes on past a failure: leave as few as possible. */
            if (kl_loop.actions->del(rev, 0) != KL_OK) {
                rc = KL_ERROR;
            }
        }
    }

    return rc;
}
