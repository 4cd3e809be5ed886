/*
 * master.c: the master process: signals, daemon, spawning and reaping
 * workers, reload and stop (the process title is core/process.c's).
 *
 * The master keeps its signals blocked and waits in sigsuspend(), so a
 * signal is only ever handled at that one point: handlers set flags and
 * the loop below acts on them with the whole program state consistent.
 */

#include "kl_core.h"
#include "master.h"

#include <sys/wait.h>


#define KL_MAX_PROCESSES 1024

/* A worker whose life was shorter than this is a crash-loop suspect. */
#define KL_RESPAWN_MIN_LIFE  1000
#define KL_RESPAWN_MAX_DELAY 30000

typedef struct {
    pid_t       pid;
    int         status;
    kl_msec_t   started;
    kl_msec_t   delay;      /* current crash-loop back-off */
    kl_msec_t   respawn_at; /* 0: not waiting to respawn */
    kl_cycle_t *cycle;
    kl_int_t    worker;    /* 0..worker_processes-1 of its cycle */
    unsigned    respawn:1; /* restart it when it dies */
    unsigned    exiting:1; /* sent QUIT */
    unsigned    exited:1;
} kl_process_t;

typedef struct {
    kl_process_t procs[KL_MAX_PROCESSES];
    kl_int_t     last; /* one past the highest slot in use */
    kl_uint_t    live;
    pid_t        new_binary;    /* USR2's new master, while it runs */
    unsigned     stopping:1;    /* QUIT or TERM: no more respawns */
    unsigned     noaccepting:1; /* WINCH: workers stopped, master stays */
    unsigned     terminating:1; /* TERM or INT seen: fast shutdown */
    unsigned     quitting:1;    /* QUIT seen: graceful shutdown */
    kl_msec_t    delay;         /* fast shutdown's next TERM, then KILL */
} kl_master_t;


static void  kl_signal_handler(int signo);
static void  kl_master_start_workers(kl_master_t *m, kl_cycle_t *cycle,
                                     kl_int_t n);
static pid_t kl_master_spawn(kl_master_t *m, kl_cycle_t *cycle, kl_int_t s,
                             kl_int_t worker);
static void  kl_master_reap(kl_master_t *m);
static void  kl_master_signal_workers(kl_master_t *m, int signo);
static void  kl_master_reload(kl_master_t *m);
static void  kl_master_respawn_due(kl_master_t *m);
static void  kl_master_set_alarm(kl_master_t *m, kl_msec_t delay);
static void  kl_master_exit(kl_master_t *m, kl_cycle_t *cycle);
static void  kl_master_on_child(kl_master_t *m);
static void  kl_master_on_alarm(kl_master_t *m);
static void  kl_master_on_terminate(kl_master_t *m);
static void  kl_master_on_quit(kl_master_t *m);
static void  kl_master_on_reconfigure(kl_master_t *m);
static void  kl_master_on_change_binary(kl_master_t *m);
static void  kl_master_on_reopen(kl_master_t *m);
static void  kl_master_on_noaccept(kl_master_t *m);
static void  kl_master_title(void);
static void  kl_master_reap_new_binary(kl_master_t *m);


static struct {
    int         signo;
    const char *name;
} kl_signals[] = { { SIGHUP, "SIGHUP" },   { SIGUSR1, "SIGUSR1" },
                   { SIGUSR2, "SIGUSR2" }, { SIGWINCH, "SIGWINCH" },
                   { SIGTERM, "SIGTERM" }, { SIGINT, "SIGINT" },
                   { SIGQUIT, "SIGQUIT" }, { SIGCHLD, "SIGCHLD" },
                   { SIGALRM, "SIGALRM" }, { SIGIO, "SIGIO" },
                   { SIGPIPE, "SIGPIPE" }, { 0, NULL } };


kl_int_t
kl_signals_init(kl_log_t *log)
{
    kl_uint_t        i;
    sigset_t         set;
    struct sigaction sa;

    sigemptyset(&set);

    for (i = 0; kl_signals[i].signo; i++) {
        kl_memzero(&sa, sizeof(struct sigaction));

        if (kl_signals[i].signo == SIGPIPE || kl_signals[i].signo == SIGIO) {
            sa.sa_handler = SIG_IGN;
        } else {
            sa.sa_handler = kl_signal_handler;
            sigaddset(&set, kl_signals[i].signo);
        }

        sigemptyset(&sa.sa_mask);

        if (sigaction(kl_signals[i].signo, &sa, NULL) == -1) {
            kl_log_error(KL_LOG_EMERG, log, errno, "sigaction(%s) failed",
                         kl_signals[i].name);
            return KL_ERROR;
        }
    }

    /* Blocked everywhere; sigsuspend and epoll_pwait open the window. */
    if (sigprocmask(SIG_BLOCK, &set, NULL) == -1) {
        kl_log_error(KL_LOG_ALERT, log, errno, "sigprocmask() failed");
        return KL_ERROR;
    }

    return KL_OK;
}


static void
kl_signal_handler(int signo)
{
    int err;

    err = errno;

    switch (signo) {

    case SIGHUP:
        kl_sig.reconfigure = 1;
        break;

    case SIGUSR1:
        kl_sig.reopen = 1;
        break;

    case SIGUSR2:
        kl_sig.change_binary = 1;
        break;

    case SIGWINCH:
        kl_sig.noaccept = 1;
        break;

    case SIGQUIT:
        kl_sig.quit = 1;
        break;

    case SIGTERM:
    case SIGINT:
        kl_sig.terminate = 1;
        break;

    case SIGCHLD:
        kl_sig.child = 1;
        break;

    case SIGALRM:
        kl_sig.alarm = 1;
        break;
    }

    errno = err;
}


kl_int_t
kl_daemonize(kl_log_t *log)
{
    int fd;

    switch (fork()) {
    case -1:
        kl_log_error(KL_LOG_EMERG, log, errno, "fork() failed");
        return KL_ERROR;

    case 0:
        break;

    default:
        _exit(0);
    }

    kl_loop.parent = kl_loop.pid;
    kl_loop.pid = getpid();

    if (setsid() == -1) {
        kl_log_error(KL_LOG_EMERG, log, errno, "setsid() failed");
        return KL_ERROR;
    }

    umask(0);

    fd = open("/dev/null", O_RDWR);
    if (fd == -1) {
        kl_log_error(KL_LOG_EMERG, log, errno, "open(\"/dev/null\") failed");
        return KL_ERROR;
    }

    if (dup2(fd, STDIN_FILENO) == -1 || dup2(fd, STDOUT_FILENO) == -1) {
        kl_log_error(KL_LOG_EMERG, log, errno, "dup2() failed");
        return KL_ERROR;
    }

    if (fd > STDERR_FILENO) {
        close(fd);
    }

    return KL_OK;
}


/*
 * The master's loop: wait for a signal, then act on each flag the handler
 * set, one helper per signal, in the order that keeps a stop first.
 */
void
kl_master_process_cycle(kl_cycle_t *cycle)
{
    sigset_t        set;
    kl_master_t    *m;
    kl_core_conf_t *ccf;

    m = kl_calloc(sizeof(kl_master_t), cycle->log);
    if (m == NULL) {
        kl_master_exit(NULL, cycle);
    }

    kl_master_title();

    ccf = (kl_core_conf_t *) kl_get_conf(cycle->conf_ctx, kl_core_module);

    kl_log_error(KL_LOG_NOTICE, cycle->log, 0,
                 "kiln/" KL_VERSION " master process started, pid %d",
                 (int) kl_loop.pid);

    kl_master_start_workers(m, cycle, ccf->worker_processes);

    sigemptyset(&set);

    for (;;) {
        sigsuspend(&set);

        kl_time_update(&kl_loop.clock);

        /*
         * A stop can come in the same wakeup as a worker's exit or the
         * respawn alarm: INT from a terminal reaches the whole process
         * group, and a worker that got it first may be gone before the
         * master, still forking the others, waits again. Known before
         * either is handled, it keeps both from starting a worker, which
         * would also inherit the pending flag.
         */
        if (kl_sig.terminate || kl_sig.quit) {
            m->stopping = 1;
        }

        if (kl_sig.child) {
            kl_master_on_child(m);
        }

        if (kl_sig.alarm) {
            kl_master_on_alarm(m);
        }

        if (kl_sig.terminate) {
            kl_master_on_terminate(m);
            continue;
        }

        if (kl_sig.quit) {
            kl_master_on_quit(m);
            continue;
        }

        if (m->terminating || m->quitting) {
            continue;
        }

        if (kl_sig.reconfigure) {
            kl_master_on_reconfigure(m);
        }

        if (kl_sig.change_binary) {
            kl_master_on_change_binary(m);
        }

        if (kl_sig.reopen) {
            kl_master_on_reopen(m);
        }

        if (kl_sig.noaccept) {
            kl_master_on_noaccept(m);
        }
    }
}


/* CHLD: reap, and leave once the last worker of a stop is gone. */
static void
kl_master_on_child(kl_master_t *m)
{
    kl_sig.child = 0;
    kl_master_reap(m);

    if (m->live == 0 && (m->terminating || m->quitting)) {
        kl_master_exit(m, kl_cycle);
    }
}


/* ALRM: a fast shutdown's next step, or a crashed worker's respawn. */
static void
kl_master_on_alarm(kl_master_t *m)
{
    kl_sig.alarm = 0;

    if (m->terminating) {
        /* Workers did not stop in time: escalate. */
        m->delay *= 2;

        if (m->delay > 1000) {
            kl_master_signal_workers(m, SIGKILL);
        } else {
            kl_master_signal_workers(m, SIGTERM);
        }

        kl_master_set_alarm(m, m->delay);

    } else if (!m->stopping) {
        kl_master_respawn_due(m);
    }
}


/* TERM, INT: fast shutdown, TERM again to the workers on each one. */
static void
kl_master_on_terminate(kl_master_t *m)
{
    kl_sig.terminate = 0;

    if (!m->terminating) {
        kl_log_error(KL_LOG_NOTICE, kl_cycle->log, 0,
                     "exiting on signal (fast shutdown)");
        m->terminating = 1;
        m->stopping = 1;
        m->delay = 50;
        kl_master_set_alarm(m, m->delay);
    }

    kl_master_signal_workers(m, SIGTERM);

    if (m->live == 0) {
        kl_master_exit(m, kl_cycle);
    }
}


/* QUIT: graceful shutdown; the listeners close at once. */
static void
kl_master_on_quit(kl_master_t *m)
{
    kl_sig.quit = 0;

    if (!m->quitting) {
        kl_log_error(KL_LOG_NOTICE, kl_cycle->log, 0,
                     "gracefully shutting down");
        m->quitting = 1;
        m->stopping = 1;
    }

    kl_master_signal_workers(m, SIGQUIT);
    kl_close_listening_sockets(kl_cycle);

    if (m->live == 0) {
        kl_master_exit(m, kl_cycle);
    }
}


/* HUP: reload, or during an upgrade, workers again with the same config. */
static void
kl_master_on_reconfigure(kl_master_t *m)
{
    kl_core_conf_t *ccf;

    kl_sig.reconfigure = 0;

    if (m->new_binary > 0) {
        /* Rollback of an upgrade: workers again, same config. */
        if (m->noaccepting) {
            kl_log_error(KL_LOG_NOTICE, kl_cycle->log, 0,
                         "start worker processes");
            m->noaccepting = 0;
            ccf = (kl_core_conf_t *) kl_get_conf(kl_cycle->conf_ctx,
                                                 kl_core_module);
            kl_master_start_workers(m, kl_cycle, ccf->worker_processes);
        }

    } else {
        kl_master_reload(m);
    }
}


/* USR2: start the new binary, unless one runs or this one is that. */
static void
kl_master_on_change_binary(kl_master_t *m)
{
    kl_sig.change_binary = 0;

    if (m->new_binary > 0) {
        kl_log_error(KL_LOG_NOTICE, kl_cycle->log, 0,
                     "changing binary is already in progress, "
                     "new binary pid %d, ignoring USR2",
                     (int) m->new_binary);

    } else if (kl_loop.inherited && getppid() == kl_loop.parent) {
        /* A new binary whose old master still runs: not yet. */
        kl_log_error(KL_LOG_NOTICE, kl_cycle->log, 0,
                     "the old binary process %d is still running, "
                     "ignoring USR2",
                     (int) kl_loop.parent);

    } else {
        kl_log_error(KL_LOG_NOTICE, kl_cycle->log, 0, "changing binary");
        m->new_binary = kl_upgrade_exec(kl_cycle);

        if (m->new_binary == -1) {
            m->new_binary = 0;
        }
    }
}


/* USR1: reopen the logs, owned by the workers' user, then the workers'. */
static void
kl_master_on_reopen(kl_master_t *m)
{
    kl_core_conf_t *ccf;

    kl_sig.reopen = 0;
    kl_log_error(KL_LOG_NOTICE, kl_cycle->log, 0, "reopening logs");

    ccf = (kl_core_conf_t *) kl_get_conf(kl_cycle->conf_ctx, kl_core_module);

    kl_cycle_reopen_files(kl_cycle, geteuid() == 0 ? (kl_uint_t) ccf->user
                                                   : KL_CONF_UNSET_UINT);
    kl_master_signal_workers(m, SIGUSR1);
}


/* WINCH: stop the workers, the master stays (a daemon's upgrade step). */
static void
kl_master_on_noaccept(kl_master_t *m)
{
    kl_sig.noaccept = 0;

    /* nginx: only a daemon has a terminal-less reason for it. */
    if (!kl_loop.daemonized) {
        kl_log_error(KL_LOG_NOTICE, kl_cycle->log, 0,
                     "WINCH ignored: kiln is not running as a daemon");
        return;
    }

    kl_log_error(KL_LOG_NOTICE, kl_cycle->log, 0,
                 "gracefully shutting down worker processes");
    m->noaccepting = 1;
    kl_master_signal_workers(m, SIGQUIT);
}


static void
kl_master_start_workers(kl_master_t *m, kl_cycle_t *cycle, kl_int_t n)
{
    kl_int_t i, s;

    for (i = 0; i < n; i++) {
        /* Reuse a free slot: slot numbers become worker numbers. */
        for (s = 0; s < m->last; s++) {
            if (m->procs[s].pid == -1) {
                break;
            }
        }

        if (s == KL_MAX_PROCESSES) {
            kl_log_error(KL_LOG_ALERT, cycle->log, 0,
                         "no more than %d processes can be spawned",
                         KL_MAX_PROCESSES);
            return;
        }

        (void) kl_master_spawn(m, cycle, s, i);
    }
}


static pid_t
kl_master_spawn(kl_master_t *m, kl_cycle_t *cycle, kl_int_t s, kl_int_t worker)
{
    pid_t         pid;
    kl_process_t *p;

    p = &m->procs[s];

    pid = fork();

    switch (pid) {

    case -1:
        kl_log_error(KL_LOG_ALERT, cycle->log, errno,
                     "fork() failed while spawning worker process");
        return -1;

    case 0:
        kl_loop.parent = kl_loop.pid;
        kl_loop.pid = getpid();
        kl_free(m);
        kl_worker_process_cycle(cycle, worker);
        /* unreachable: the worker exits */
        _exit(2);

    default:
        break;
    }

    kl_log_error(KL_LOG_NOTICE, cycle->log, 0, "start worker process %d",
                 (int) pid);

    p->pid = pid;
    p->status = 0;
    p->started = kl_now();
    p->respawn_at = 0;
    p->cycle = cycle;
    p->worker = worker;
    p->respawn = 1;
    p->exiting = 0;
    p->exited = 0;

    if (s == m->last) {
        m->last++;
    }

    m->live++;

    return pid;
}


static void
kl_master_reap(kl_master_t *m)
{
    int           status, sig;
    pid_t         pid;
    kl_int_t      s;
    kl_msec_t     life, next;
    kl_process_t *p;

    next = 0;

    for (;;) {
        pid = waitpid(-1, &status, WNOHANG);

        if (pid == 0) {
            break;
        }

        if (pid == -1) {
            if (errno == EINTR) {
                continue;
            }

            break;
        }

        /* A worker killed holding a zone's lock (accept mutex, slab) must
         * not keep it. */
        kl_shm_zones_unlock(kl_cycle, pid);

        if (pid == m->new_binary) {
            m->new_binary = 0;
            kl_master_reap_new_binary(m);

            kl_log_error(KL_LOG_NOTICE, kl_cycle->log, 0,
                         "new binary process %d exited with %s %d", (int) pid,
                         WIFSIGNALED(status) ? "signal" : "code",
                         WIFSIGNALED(status) ? WTERMSIG(status)
                                             : WEXITSTATUS(status));
            continue;
        }

        for (s = 0; s < m->last; s++) {
            if (m->procs[s].pid == pid) {
                break;
            }
        }

        if (s == m->last) {
            continue;
        }

        p = &m->procs[s];
        p->status = status;
        p->exited = 1;
        m->live--;

        if (WIFSIGNALED(status)) {
            sig = WTERMSIG(status);
            kl_log_error(KL_LOG_ALERT, kl_cycle->log, 0,
                         "worker process %d exited on signal %d%s", (int) pid,
                         sig, WCOREDUMP(status) ? " (core dumped)" : "");

        } else if (WEXITSTATUS(status) != 0) {
            kl_log_error(KL_LOG_ALERT, kl_cycle->log, 0,
                         "worker process %d exited with code %d", (int) pid,
                         WEXITSTATUS(status));

        } else {
            kl_log_error(KL_LOG_NOTICE, kl_cycle->log, 0,
                         "worker process %d exited with code 0", (int) pid);
        }

        /* Exit code 2 means the worker could not start: do not loop. */
        if (WIFEXITED(status) && WEXITSTATUS(status) == 2 && p->respawn) {
            kl_log_error(KL_LOG_ALERT, kl_cycle->log, 0,
                         "worker process %d exited with fatal code 2 "
                         "and cannot be respawned",
                         (int) pid);
            p->respawn = 0;
        }

        if (!p->respawn || p->exiting || p->cycle != kl_cycle || m->stopping) {
            p->pid = -1;
            continue;
        }

        life = kl_now() - p->started;

        if (life >= KL_RESPAWN_MIN_LIFE) {
            p->delay = 0;
            (void) kl_master_spawn(m, kl_cycle, s, p->worker);
            continue;
        }

        /* Died young: back off exponentially so a crash loop cannot spin. */
        p->delay = p->delay ? kl_min(p->delay * 2, KL_RESPAWN_MAX_DELAY) : 500;
        p->respawn_at = kl_now() + p->delay;
        p->pid = -2;

        kl_log_error(KL_LOG_ALERT, kl_cycle->log, 0,
                     "worker process %d died %M ms after start, "
                     "respawning in %M ms",
                     (int) pid, life, p->delay);

        if (next == 0 || p->delay < next) {
            next = p->delay;
        }
    }

    if (next) {
        kl_master_set_alarm(m, next);
    }
}


static void
kl_master_respawn_due(kl_master_t *m)
{
    kl_int_t  s;
    kl_msec_t next, left;

    next = 0;

    for (s = 0; s < m->last; s++) {
        if (m->procs[s].pid != -2) {
            continue;
        }

        if ((kl_msec_int_t) (m->procs[s].respawn_at - kl_now()) <= 0) {
            m->procs[s].respawn_at = 0;
            (void) kl_master_spawn(m, kl_cycle, s, m->procs[s].worker);
            continue;
        }

        left = m->procs[s].respawn_at - kl_now();

        if (next == 0 || left < next) {
            next = left;
        }
    }

    if (next) {
        kl_master_set_alarm(m, next);
    }
}


static void
kl_master_set_alarm(kl_master_t *m, kl_msec_t delay)
{
    struct itimerval itv;

    (void) m;

    itv.it_interval.tv_sec = 0;
    itv.it_interval.tv_usec = 0;
    itv.it_value.tv_sec = delay / 1000;
    itv.it_value.tv_usec = (delay % 1000) * 1000;

    if (setitimer(ITIMER_REAL, &itv, NULL) == -1) {
        kl_log_error(KL_LOG_ALERT, kl_cycle->log, errno, "setitimer() failed");
    }
}


static void
kl_master_signal_workers(kl_master_t *m, int signo)
{
    kl_int_t s;

    for (s = 0; s < m->last; s++) {
        if (m->procs[s].pid <= 0) {
            if (m->procs[s].pid == -2 && (signo == SIGQUIT || signo == SIGTERM))
            {
                /* A worker waiting to respawn will not be needed now. */
                m->procs[s].pid = -1;
            }
            continue;
        }

        if (signo == SIGQUIT) {
            m->procs[s].exiting = 1;
        }

        if (kill(m->procs[s].pid, signo) == -1) {
            kl_log_error(KL_LOG_ALERT, kl_cycle->log, errno,
                         "kill(%d, %d) failed", (int) m->procs[s].pid, signo);
        }
    }
}


static void
kl_master_reload(kl_master_t *m)
{
    kl_int_t        s, last;
    kl_cycle_t     *cycle, *old;
    kl_core_conf_t *ccf;

    kl_log_error(KL_LOG_NOTICE, kl_cycle->log, 0, "reconfiguring");

    old = kl_cycle;
    cycle = kl_cycle_init(old, 0);

    if (cycle == NULL) {
        kl_log_error(KL_LOG_ALERT, old->log, 0,
                     "reload failed, still serving the old configuration");
        return;
    }

    kl_cycle = cycle;
    ccf = (kl_core_conf_t *) kl_get_conf(cycle->conf_ctx, kl_core_module);

    /* The old workers will quit: they are not to be respawned. */
    last = m->last;

    for (s = 0; s < last; s++) {
        if (m->procs[s].pid == -2) {
            m->procs[s].pid = -1;
        }

        if (m->procs[s].pid > 0) {
            m->procs[s].respawn = 0;
            m->procs[s].exiting = 1;
            m->procs[s].cycle = NULL;
        }
    }

    /*
     * Close the listeners the new cycle did not keep before forking: new
     * workers must not inherit them (the old workers hold their own
     * copies until they leave).
     */
    kl_cycle_free(old, 1);

    kl_master_start_workers(m, cycle, ccf->worker_processes);

    for (s = 0; s < last; s++) {
        if (m->procs[s].pid > 0 && m->procs[s].exiting
            && kill(m->procs[s].pid, SIGQUIT) == -1)
        {
            kl_log_error(KL_LOG_ALERT, cycle->log, errno,
                         "kill(%d, SIGQUIT) failed", (int) m->procs[s].pid);
        }
    }
}


static void
kl_master_exit(kl_master_t *m, kl_cycle_t *cycle)
{
    kl_uint_t       i;
    kl_listening_t *ls;
    kl_core_conf_t *ccf;

    ccf = (kl_core_conf_t *) kl_get_conf(cycle->conf_ctx, kl_core_module);

    /* While a new binary runs, kiln.pid is its: ours is the .oldbin. */
    if (m && m->new_binary > 0) {
        if (unlink((char *) ccf->oldpid.data) == -1) {
            kl_log_error(KL_LOG_ALERT, cycle->log, errno,
                         "unlink() \"%s\" failed", ccf->oldpid.data);
        }
    } else {
        kl_cycle_delete_pidfile(cycle);
    }

    kl_log_error(KL_LOG_NOTICE, cycle->log, 0, "exit");

    for (i = 0; kl_modules[i]; i++) {
        if (kl_modules[i]->exit_master) {
            kl_modules[i]->exit_master(cycle);
        }
    }

    if (m == NULL || m->new_binary <= 0) {
        ls = cycle->listening.elts;

        for (i = 0; i < cycle->listening.nelts; i++) {
            kl_listening_unlink(&ls[i], cycle->log);
        }
    }

    kl_close_listening_sockets(cycle);

    exit(0);
}


/* The new master is gone: kiln.pid is ours again, and so is the work. */
static void
kl_master_reap_new_binary(kl_master_t *m)
{
    kl_core_conf_t *ccf;

    ccf = (kl_core_conf_t *) kl_get_conf(kl_cycle->conf_ctx, kl_core_module);

    if (rename((char *) ccf->oldpid.data, (char *) ccf->pid.data) == -1) {
        kl_log_error(KL_LOG_ALERT, kl_cycle->log, errno,
                     "rename() %s back to %s failed after the new binary "
                     "process exited",
                     ccf->oldpid.data, ccf->pid.data);
    }

    if (m->noaccepting && !m->stopping) {
        m->noaccepting = 0;
        kl_master_start_workers(m, kl_cycle, ccf->worker_processes);
    }
}


/* "kiln: master process /path/kiln -c ...", as nginx shows itself. */
static void
kl_master_title(void)
{
    u_char *p, *last;
    u_char  title[1024];
    int     i;

    p = title;
    last = title + sizeof(title) - 1;
    p = kl_slprintf(p, last, "kiln: master process");

    for (i = 0; kl_loop.argv && kl_loop.argv[i]; i++) {
        p = kl_slprintf(p, last, " %s", kl_loop.argv[i]);
    }

    *p = '\0';

    kl_proctitle_set((char *) title);
}


void
kl_single_process_cycle(kl_cycle_t *cycle)
{
    kl_proctitle_set("kiln: single process");

    kl_worker_process_cycle(cycle, 0);
}
