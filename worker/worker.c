/*
 * worker.c: a worker process: privileges and rlimits, module init, the
 * event loop, and graceful or fast exit.
 *
 * Signals stay blocked in the worker except inside epoll_pwait, so a
 * QUIT that arrives while handlers run is seen at the next wait instead
 * of interrupting them.
 */

#include "kl_core.h"

#include <grp.h>
#include <sched.h>


/*
 * How long an idle keep-alive connection of a quitting worker may still
 * bring a request (answered with "Connection: close"). Closing it at once,
 * as nginx does, loses a request the client sent just as we closed; a
 * client that is really idle is closed when this runs out.
 */
#define KL_WORKER_QUIT_IDLE_GRACE 1000
#include <sys/resource.h>
#include <sys/prctl.h>


static void     kl_worker_init(kl_cycle_t *cycle, kl_int_t worker);
static void     kl_worker_start_quit(kl_cycle_t *cycle, kl_event_t *shutdown);
static void     kl_worker_shutdown_timeout(kl_event_t *ev);
static void     kl_worker_exit(kl_cycle_t *cycle);
static void     kl_worker_drain_listeners(kl_cycle_t *cycle);
static void     kl_worker_idle_grace(void);
static void     kl_worker_set_affinity(kl_cycle_t *cycle, kl_core_conf_t *ccf,
                                       kl_int_t worker);
static kl_int_t kl_worker_set_env(kl_cycle_t *cycle, kl_core_conf_t *ccf);


void
kl_worker_process_cycle(kl_cycle_t *cycle, kl_int_t worker)
{
    kl_event_t shutdown;

    kl_loop.role = (kl_loop.role == KL_PROCESS_SINGLE) ? KL_PROCESS_SINGLE
                                                       : KL_PROCESS_WORKER;
    kl_loop.worker = worker;

    kl_worker_init(cycle, worker);

    if (kl_loop.role == KL_PROCESS_WORKER) {
        kl_proctitle_set("kiln: worker process");
    }

    kl_memzero(&shutdown, sizeof(kl_event_t));

    for (;;) {

        if (kl_loop.exiting && cycle->free_connection_n == cycle->connection_n)
        {
            kl_worker_exit(cycle);
        }

        kl_event_process_events_and_timers(cycle);

        if (kl_sig.terminate) {
            kl_log_error(KL_LOG_NOTICE, cycle->log, 0, "exiting");
            kl_worker_exit(cycle);
        }

        if (kl_sig.quit) {
            kl_sig.quit = 0;

            if (!kl_loop.exiting) {
                kl_log_error(KL_LOG_NOTICE, cycle->log, 0,
                             "gracefully shutting down");
                kl_worker_start_quit(cycle, &shutdown);
            }
        }

        if (kl_sig.reopen) {
            kl_sig.reopen = 0;
            kl_log_error(KL_LOG_NOTICE, cycle->log, 0, "reopening logs");
            kl_cycle_reopen_files(cycle, KL_CONF_UNSET_UINT);
        }
    }
}


static void
kl_worker_init(kl_cycle_t *cycle, kl_int_t worker)
{
    kl_uint_t       i;
    struct rlimit   rlmt;
    kl_core_conf_t *ccf;

    ccf = (kl_core_conf_t *) kl_get_conf(cycle->conf_ctx, kl_core_module);

    if (ccf->priority_set && kl_loop.role == KL_PROCESS_WORKER
        && setpriority(PRIO_PROCESS, 0, (int) ccf->priority) == -1)
    {
        kl_log_error(KL_LOG_ALERT, cycle->log, errno, "setpriority(%i) failed",
                     ccf->priority);
    }

    if (ccf->rlimit_nofile != KL_CONF_UNSET) {
        rlmt.rlim_cur = (rlim_t) ccf->rlimit_nofile;
        rlmt.rlim_max = (rlim_t) ccf->rlimit_nofile;

        if (setrlimit(RLIMIT_NOFILE, &rlmt) == -1) {
            kl_log_error(KL_LOG_ALERT, cycle->log, errno,
                         "setrlimit(RLIMIT_NOFILE, %i) failed",
                         ccf->rlimit_nofile);
        }
    }

    if (ccf->rlimit_core != KL_CONF_UNSET) {
        rlmt.rlim_cur = (rlim_t) ccf->rlimit_core;
        rlmt.rlim_max = (rlim_t) ccf->rlimit_core;

        if (setrlimit(RLIMIT_CORE, &rlmt) == -1) {
            kl_log_error(KL_LOG_ALERT, cycle->log, errno,
                         "setrlimit(RLIMIT_CORE, %O) failed", ccf->rlimit_core);
        }
    }

    /* Single-process mode keeps the master's identity, as nginx does. */
    if (kl_loop.role == KL_PROCESS_WORKER && geteuid() == 0
        && ccf->user != (uid_t) KL_CONF_UNSET_UINT)
    {
        if (setgid(ccf->group) == -1) {
            kl_log_error(KL_LOG_EMERG, cycle->log, errno, "setgid(%d) failed",
                         (int) ccf->group);
            exit(2);
        }

        if (initgroups((char *) ccf->user_name.data, ccf->group) == -1) {
            kl_log_error(KL_LOG_EMERG, cycle->log, errno,
                         "initgroups(%V, %d) failed", &ccf->user_name,
                         (int) ccf->group);
        }

        if (setuid(ccf->user) == -1) {
            kl_log_error(KL_LOG_EMERG, cycle->log, errno, "setuid(%d) failed",
                         (int) ccf->user);
            exit(2);
        }

        /* setuid() clears it; cores are worth having from workers. */
        (void) prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
    }

    kl_worker_set_affinity(cycle, ccf, worker);

    if (kl_loop.role == KL_PROCESS_WORKER
        && kl_worker_set_env(cycle, ccf) != KL_OK) {
        exit(2);
    }

    if (ccf->working_directory.len
        && chdir((char *) ccf->working_directory.data) == -1)
    {
        kl_log_error(KL_LOG_ALERT, cycle->log, errno, "chdir(\"%s\") failed",
                     ccf->working_directory.data);
        exit(2);
    }

    if (kl_event_process_init(cycle) != KL_OK) {
        exit(2);
    }

    for (i = 0; kl_modules[i]; i++) {
        if (kl_modules[i]->init_process
            && kl_modules[i]->init_process(cycle) != KL_OK) {
            exit(2);
        }
    }
}


static void
kl_worker_start_quit(kl_cycle_t *cycle, kl_event_t *shutdown)
{
    kl_core_conf_t *ccf;

    kl_loop.exiting = 1;

    kl_proctitle_set("kiln: worker process is shutting down");

    /*
     * Out of the epoll set first, so no new wake-up lands here; then take
     * what is already queued; then let go. The master keeps the sockets.
     */
    kl_event_disable_accept(cycle);
    kl_worker_drain_listeners(cycle);
    kl_close_listening_sockets(cycle);

    kl_worker_idle_grace();

    ccf = (kl_core_conf_t *) kl_get_conf(cycle->conf_ctx, kl_core_module);

    if (ccf->shutdown_timeout) {
        shutdown->handler = kl_worker_shutdown_timeout;
        shutdown->data = cycle;
        shutdown->log = cycle->log;
        shutdown->cancelable = 1;
        kl_event_add_timer(shutdown, ccf->shutdown_timeout);
    }
}


static void
kl_worker_shutdown_timeout(kl_event_t *ev)
{
    kl_uint_t        i;
    kl_cycle_t      *cycle;
    kl_connection_t *c;

    cycle = ev->data;
    c = cycle->connections;

    kl_log_error(KL_LOG_NOTICE, cycle->log, 0,
                 "worker_shutdown_timeout expired, closing connections");

    for (i = 0; i < cycle->connection_n; i++) {
        if (c[i].fd == -1 || c[i].read->accept) {
            continue;
        }

        c[i].close = 1;
        c[i].error = 1;
        c[i].read->handler(c[i].read);
    }
}


static void
kl_worker_exit(kl_cycle_t *cycle)
{
    kl_uint_t       i;
    kl_listening_t *ls;

    for (i = 0; kl_modules[i]; i++) {
        if (kl_modules[i]->exit_process) {
            kl_modules[i]->exit_process(cycle);
        }
    }

    /* A single process is the master too: it removes what a master would. */
    if (kl_loop.role == KL_PROCESS_SINGLE) {
        kl_cycle_delete_pidfile(cycle);

        ls = cycle->listening.elts;

        for (i = 0; i < cycle->listening.nelts; i++) {
            kl_listening_unlink(&ls[i], cycle->log);
        }
    }

    kl_log_error(KL_LOG_NOTICE, cycle->log, 0, "exit");

    kl_pool_stash_free(&kl_loop.pool_stash);

    exit(0);
}


/*
 * Accept what is already queued for us: with EPOLLEXCLUSIVE the kernel
 * may have woken this worker alone for those connections.
 */
static void
kl_worker_drain_listeners(kl_cycle_t *cycle)
{
    kl_uint_t       i, multi;
    kl_listening_t *ls;

    multi = kl_loop.multi_accept;
    kl_loop.multi_accept = 1;

    ls = cycle->listening.elts;

    for (i = 0; i < cycle->listening.nelts; i++) {
        if (ls[i].connection) {
            kl_event_accept(ls[i].connection->read);
        }
    }

    kl_loop.multi_accept = multi;
}


static void
kl_worker_idle_grace(void)
{
    kl_queue_t      *q;
    kl_event_t      *rev;
    kl_connection_t *c;

    for (q = kl_queue_head(&kl_loop.reusable);
         q != kl_queue_sentinel(&kl_loop.reusable); q = kl_queue_next(q))
    {
        c = kl_queue_data(q, kl_connection_t, queue);
        rev = c->read;

        if (!rev->timer_set
            || (kl_msec_int_t) (rev->timer.key - kl_now())
                   > KL_WORKER_QUIT_IDLE_GRACE)
        {
            kl_event_add_timer(rev, KL_WORKER_QUIT_IDLE_GRACE);
        }
    }
}


static void
kl_worker_set_affinity(kl_cycle_t *cycle, kl_core_conf_t *ccf, kl_int_t worker)
{
    int       cpu, n, k;
    cpu_set_t set, *masks;
    kl_uint_t nmasks;

    if (ccf->cpu_affinity == NULL) {
        return;
    }

    masks = ccf->cpu_affinity->elts;
    nmasks = ccf->cpu_affinity->nelts;

    if (ccf->cpu_affinity_auto) {
        /* Worker N takes the Nth CPU it may use, round robin. */
        if (nmasks) {
            set = masks[0];
        } else if (sched_getaffinity(0, sizeof(cpu_set_t), &set) == -1) {
            kl_log_error(KL_LOG_ALERT, cycle->log, errno,
                         "sched_getaffinity() failed");
            return;
        }

        n = CPU_COUNT(&set);
        k = (int) (worker % n);

        for (cpu = 0; cpu < CPU_SETSIZE; cpu++) {
            if (CPU_ISSET(cpu, &set) && k-- == 0) {
                break;
            }
        }

        CPU_ZERO(&set);
        CPU_SET(cpu, &set);

    } else {
        set = masks[kl_min((kl_uint_t) worker, nmasks - 1)];
    }

    if (sched_setaffinity(0, sizeof(cpu_set_t), &set) == -1) {
        kl_log_error(KL_LOG_ALERT, cycle->log, errno,
                     "sched_setaffinity() failed");
    }
}


/*
 * As nginx: a worker keeps only TZ and what "env" names ("NAME" keeps the
 * inherited value, "NAME=VALUE" sets one); the master keeps everything,
 * for the binary it may exec on USR2.
 */
static kl_int_t
kl_worker_set_env(kl_cycle_t *cycle, kl_core_conf_t *ccf)
{
    char     *tz, *value, **keep;
    kl_str_t *var;
    kl_uint_t i, n;

    n = ccf->env ? ccf->env->nelts : 0;

    keep = kl_palloc(cycle->pool, (n + 2) * sizeof(char *));
    if (keep == NULL) {
        return KL_ERROR;
    }

    var = ccf->env ? ccf->env->elts : NULL;

    tz = getenv("TZ");
    keep[0] = tz ? kl_pnalloc(cycle->pool, sizeof("TZ=") + strlen(tz)) : NULL;

    if (tz && keep[0]) {
        (void) sprintf(keep[0], "TZ=%s", tz);
    }

    for (i = 0; i < n; i++) {
        if (kl_strchr(var[i].data, '=')) {
            keep[i + 1] = (char *) var[i].data;
            continue;
        }

        value = getenv((char *) var[i].data);
        keep[i + 1] = NULL;

        if (value) {
            keep[i + 1] =
                kl_pnalloc(cycle->pool, var[i].len + 2 + strlen(value));
            if (keep[i + 1] == NULL) {
                return KL_ERROR;
            }

            (void) sprintf(keep[i + 1], "%s=%s", var[i].data, value);
        }
    }

    if (clearenv() != 0) {
        return KL_ERROR;
    }

    for (i = 0; i < n + 1; i++) {
        if (keep[i] && putenv(keep[i]) != 0) {
            kl_log_error(KL_LOG_ALERT, cycle->log, errno,
                         "putenv(\"%s\") failed", keep[i]);
            return KL_ERROR;
        }
    }

    return KL_OK;
}
