/*
 * thread_pool.c: a worker's threads for blocking work, such as reads of
 * a slow disk, so the event loop never waits for them.
 *
 * Tasks wait in a queue bounded by max_queue; a thread takes one, runs
 * its handler, puts it on the done list and writes the eventfd. The
 * loop watches the eventfd like a listener (its own pseudo-connection,
 * not one of worker_connections, so a graceful exit does not wait for
 * it) and runs the done handlers in the loop's thread.
 */

#include "kl_core.h"
#include "thread_pool.h"

#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>


struct kl_thread_pool_s {
    kl_str_t  name;
    kl_uint_t threads;
    kl_uint_t max_queue;
    kl_log_t *log;

    pthread_mutex_t   mtx;
    pthread_cond_t    cond;
    kl_thread_task_t *first; /* waiting */
    kl_thread_task_t *last;
    kl_uint_t         waiting;
    kl_thread_task_t *done_first; /* finished, for the loop */
    kl_thread_task_t *done_last;

    pthread_t *tids;
    kl_uint_t  running;
    kl_fd_t    fd; /* eventfd */

    kl_connection_t conn; /* the eventfd as the loop sees it */
    kl_event_t      rev;
    kl_event_t      wev;

    u_char   *file; /* where it was first named, for "unknown" */
    kl_uint_t line;

    unsigned stop:1;
    unsigned started:1;
};


/* The thread_pool module's conf: every pool named by thread_pool or aio. */
typedef struct {
    kl_array_t pools; /* kl_thread_pool_t * */
} kl_thread_pool_conf_t;


#define KL_THREAD_POOL_DEFAULT_THREADS   32
#define KL_THREAD_POOL_DEFAULT_MAX_QUEUE 65536


static void    *kl_thread_pool_create_conf(kl_cycle_t *cycle);
static char    *kl_thread_pool_init_conf(kl_cycle_t *cycle, void *conf);
static char    *kl_thread_pool_directive(kl_conf_t *cf, kl_command_t *cmd,
                                         void *conf);
static kl_int_t kl_thread_pool_init_worker(kl_cycle_t *cycle);
static void     kl_thread_pool_exit_worker(kl_cycle_t *cycle);


/* clang-format off */
static kl_command_t  kl_thread_pool_commands[] = {

    { kl_string("thread_pool"),
      KL_MAIN_CONF | KL_DIRECT_CONF | KL_CONF_TAKE23,
      kl_thread_pool_directive,
      0,
      0,
      NULL },

    kl_null_command
};
/* clang-format on */


static kl_core_module_t kl_thread_pool_module_ctx = {
    .create_conf = kl_thread_pool_create_conf,
    .init_conf = kl_thread_pool_init_conf,
};


kl_module_t kl_thread_pool_module = {
    .name = "kl_thread_pool_module",
    .type = KL_CORE_MODULE,
    .ctx = &kl_thread_pool_module_ctx,
    .commands = kl_thread_pool_commands,
    .init_process = kl_thread_pool_init_worker,
    .exit_process = kl_thread_pool_exit_worker,
};


static void *kl_thread_pool_cycle(void *data);
static void  kl_thread_pool_handler(kl_event_t *ev);


kl_thread_pool_t *
kl_thread_pool_create(kl_pool_t *pool, kl_str_t *name, kl_uint_t threads,
                      kl_uint_t max_queue)
{
    kl_thread_pool_t *tp;

    tp = kl_pcalloc(pool, sizeof(kl_thread_pool_t));
    if (tp == NULL) {
        return NULL;
    }

    tp->name = *name;
    tp->threads = threads;
    tp->max_queue = max_queue;
    tp->fd = -1;

    return tp;
}


kl_int_t
kl_thread_pool_start(kl_thread_pool_t *tp, kl_log_t *log)
{
    int       err;
    kl_uint_t i;

    tp->log = log;
    tp->first = NULL;
    tp->last = NULL;
    tp->done_first = NULL;
    tp->done_last = NULL;
    tp->waiting = 0;
    tp->running = 0;
    tp->stop = 0;

    tp->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (tp->fd == -1) {
        kl_log_error(KL_LOG_ALERT, log, errno, "eventfd() failed");
        return KL_ERROR;
    }

    tp->tids = kl_calloc(tp->threads * sizeof(pthread_t), log);
    if (tp->tids == NULL) {
        close(tp->fd);
        tp->fd = -1;
        return KL_ERROR;
    }

    if (pthread_mutex_init(&tp->mtx, NULL) != 0) {
        goto failed;
    }

    if (pthread_cond_init(&tp->cond, NULL) != 0) {
        pthread_mutex_destroy(&tp->mtx);
        goto failed;
    }

    tp->started = 1;

    for (i = 0; i < tp->threads; i++) {
        err = pthread_create(&tp->tids[i], NULL, kl_thread_pool_cycle, tp);

        if (err != 0) {
            kl_log_error(KL_LOG_ALERT, log, err,
                         "pthread_create() for pool \"%V\" failed", &tp->name);
            kl_thread_pool_stop(tp);
            return KL_ERROR;
        }

        tp->running++;
    }

    return KL_OK;

failed:

    kl_free(tp->tids);
    tp->tids = NULL;
    close(tp->fd);
    tp->fd = -1;

    return KL_ERROR;
}


kl_int_t
kl_thread_pool_watch(kl_thread_pool_t *tp)
{
    kl_memzero(&tp->conn, sizeof(kl_connection_t));
    kl_memzero(&tp->rev, sizeof(kl_event_t));
    kl_memzero(&tp->wev, sizeof(kl_event_t));

    tp->conn.fd = tp->fd;
    tp->conn.read = &tp->rev;
    tp->conn.write = &tp->wev;
    tp->conn.log = tp->log;
    tp->conn.data = tp;

    tp->rev.data = &tp->conn;
    tp->rev.log = tp->log;
    tp->rev.handler = kl_thread_pool_handler;
    tp->wev.data = &tp->conn;
    tp->wev.log = tp->log;
    tp->wev.write = 1;

    return kl_loop.actions->add(&tp->rev);
}


void
kl_thread_pool_stop(kl_thread_pool_t *tp)
{
    kl_uint_t i;

    if (!tp->started) {
        return;
    }

    if (tp->rev.active) {
        (void) kl_loop.actions->del(&tp->rev, 0);
    }

    if (tp->rev.posted) {
        kl_delete_posted_event(&tp->rev);
    }

    pthread_mutex_lock(&tp->mtx);
    tp->stop = 1;
    pthread_cond_broadcast(&tp->cond);
    pthread_mutex_unlock(&tp->mtx);

    for (i = 0; i < tp->running; i++) {
        (void) pthread_join(tp->tids[i], NULL);
    }

    pthread_cond_destroy(&tp->cond);
    pthread_mutex_destroy(&tp->mtx);

    kl_free(tp->tids);
    tp->tids = NULL;
    tp->running = 0;
    tp->started = 0;
    tp->conn.fd = -1;

    close(tp->fd);
    tp->fd = -1;
}


kl_int_t
kl_thread_task_post(kl_thread_pool_t *tp, kl_thread_task_t *task)
{
    pthread_mutex_lock(&tp->mtx);

    if (tp->waiting >= tp->max_queue) {
        pthread_mutex_unlock(&tp->mtx);

        kl_log_error(KL_LOG_ERR, tp->log, 0,
                     "thread pool \"%V\" queue overflow: %ui tasks waiting",
                     &tp->name, tp->waiting);
        return KL_ERROR;
    }

    task->next = NULL;

    if (tp->last) {
        tp->last->next = task;
    } else {
        tp->first = task;
    }

    tp->last = task;
    tp->waiting++;

    pthread_cond_signal(&tp->cond);
    pthread_mutex_unlock(&tp->mtx);

    return KL_OK;
}


kl_fd_t
kl_thread_pool_fd(kl_thread_pool_t *tp)
{
    return tp->fd;
}


kl_uint_t
kl_thread_pool_complete(kl_thread_pool_t *tp)
{
    uint64_t          count;
    kl_uint_t         n;
    kl_thread_task_t *task, *next;

    /* Reset the counter first: a task finished after it writes again. */
    (void) read(tp->fd, &count, sizeof(uint64_t));

    pthread_mutex_lock(&tp->mtx);
    task = tp->done_first;
    tp->done_first = NULL;
    tp->done_last = NULL;
    pthread_mutex_unlock(&tp->mtx);

    for (n = 0; task; n++) {
        next = task->next;
        task->done(task);
        task = next;
    }

    return n;
}


static void
kl_thread_pool_handler(kl_event_t *ev)
{
    kl_connection_t *c;

    c = ev->data;

    /* Level-triggered: whatever is left is reported again. */
    (void) kl_thread_pool_complete(c->data);
}


static void *
kl_thread_pool_cycle(void *data)
{
    sigset_t          set;
    uint64_t          one;
    kl_thread_task_t *task;
    kl_thread_pool_t *tp = data;

    /* Signals are the loop's business. */
    sigfillset(&set);
    (void) pthread_sigmask(SIG_BLOCK, &set, NULL);

    one = 1;

    for (;;) {
        pthread_mutex_lock(&tp->mtx);

        while (tp->first == NULL && !tp->stop) {
            pthread_cond_wait(&tp->cond, &tp->mtx);
        }

        if (tp->stop) {
            pthread_mutex_unlock(&tp->mtx);
            return NULL;
        }

        task = tp->first;
        tp->first = task->next;

        if (tp->first == NULL) {
            tp->last = NULL;
        }

        tp->waiting--;
        pthread_mutex_unlock(&tp->mtx);

        task->handler(task);

        pthread_mutex_lock(&tp->mtx);

        task->next = NULL;

        if (tp->done_last) {
            tp->done_last->next = task;
        } else {
            tp->done_first = task;
        }

        tp->done_last = task;
        pthread_mutex_unlock(&tp->mtx);

        if (write(tp->fd, &one, sizeof(uint64_t)) != sizeof(uint64_t)) {
            kl_log_error(KL_LOG_ALERT, tp->log, errno,
                         "write() to the eventfd of pool \"%V\" failed",
                         &tp->name);
        }
    }
}


static void *
kl_thread_pool_create_conf(kl_cycle_t *cycle)
{
    kl_thread_pool_conf_t *tcf;

    tcf = kl_pcalloc(cycle->pool, sizeof(kl_thread_pool_conf_t));
    if (tcf == NULL) {
        return NULL;
    }

    if (kl_array_init(&tcf->pools, cycle->pool, 4, sizeof(void *)) != KL_OK) {
        return NULL;
    }

    return tcf;
}


/* A pool named but never defined: "default" gets nginx's 32 threads. */
static char *
kl_thread_pool_init_conf(kl_cycle_t *cycle, void *conf)
{
    kl_thread_pool_conf_t *tcf = conf;
    kl_uint_t              i;
    kl_thread_pool_t     **tpp;

    tpp = tcf->pools.elts;

    for (i = 0; i < tcf->pools.nelts; i++) {
        if (tpp[i]->threads) {
            continue;
        }

        if (tpp[i]->name.len == 7
            && kl_strncmp(tpp[i]->name.data, "default", 7) == 0) {
            tpp[i]->threads = KL_THREAD_POOL_DEFAULT_THREADS;
            tpp[i]->max_queue = KL_THREAD_POOL_DEFAULT_MAX_QUEUE;
            continue;
        }

        kl_log_error(KL_LOG_EMERG, cycle->log, 0,
                     "unknown thread pool \"%V\" in %s:%ui", &tpp[i]->name,
                     tpp[i]->file, tpp[i]->line);
        return KL_CONF_ERROR;
    }

    return KL_CONF_OK;
}


kl_thread_pool_t *
kl_thread_pool_add(kl_conf_t *cf, kl_str_t *name)
{
    kl_uint_t              i;
    kl_thread_pool_t      *tp, **tpp;
    kl_thread_pool_conf_t *tcf;

    tcf = (kl_thread_pool_conf_t *) kl_get_conf(cf->cycle->conf_ctx,
                                                kl_thread_pool_module);
    tpp = tcf->pools.elts;

    for (i = 0; i < tcf->pools.nelts; i++) {
        if (tpp[i]->name.len == name->len
            && kl_strncmp(tpp[i]->name.data, name->data, name->len) == 0)
        {
            return tpp[i];
        }
    }

    tp = kl_thread_pool_create(cf->pool, name, 0, 0);
    tpp = kl_array_push(&tcf->pools);

    if (tp == NULL || tpp == NULL) {
        return NULL;
    }

    tp->file = cf->conf_file ? cf->conf_file->file.name.data
                             : (u_char *) "command line";
    tp->line = cf->conf_file ? cf->conf_file->line : 0;

    *tpp = tp;

    return tp;
}


/* thread_pool NAME threads=N [max_queue=M] */
static char *
kl_thread_pool_directive(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_str_t         *value;
    kl_int_t          n;
    kl_uint_t         i;
    kl_thread_pool_t *tp;

    (void) cmd;
    (void) conf;

    value = cf->args->elts;

    tp = kl_thread_pool_add(cf, &value[1]);
    if (tp == NULL) {
        return KL_CONF_ERROR;
    }

    if (tp->threads) {
        return "is duplicate";
    }

    tp->max_queue = KL_THREAD_POOL_DEFAULT_MAX_QUEUE;

    for (i = 2; i < cf->args->nelts; i++) {

        if (kl_strncmp(value[i].data, "threads=", 8) == 0) {
            n = kl_atoi(value[i].data + 8, value[i].len - 8);

            if (n == KL_ERROR || n == 0) {
                kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                                  "invalid threads value \"%V\"", &value[i]);
                return KL_CONF_ERROR;
            }

            tp->threads = (kl_uint_t) n;
            continue;
        }

        if (kl_strncmp(value[i].data, "max_queue=", 10) == 0) {
            n = kl_atoi(value[i].data + 10, value[i].len - 10);

            if (n == KL_ERROR) {
                kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                                  "invalid max_queue value \"%V\"", &value[i]);
                return KL_CONF_ERROR;
            }

            tp->max_queue = (kl_uint_t) n;
            continue;
        }

        kl_conf_log_error(KL_LOG_EMERG, cf, 0, "invalid parameter \"%V\"",
                          &value[i]);
        return KL_CONF_ERROR;
    }

    if (tp->threads == 0) {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                          "\"%V\" must have \"threads\" parameter", &cmd->name);
        return KL_CONF_ERROR;
    }

    tp->file = cf->conf_file ? cf->conf_file->file.name.data
                             : (u_char *) "command line";
    tp->line = cf->conf_file ? cf->conf_file->line : 0;

    return KL_CONF_OK;
}


/* Each worker runs every pool's threads; the master runs none. */
static kl_int_t
kl_thread_pool_init_worker(kl_cycle_t *cycle)
{
    kl_uint_t              i;
    kl_thread_pool_t     **tpp;
    kl_thread_pool_conf_t *tcf;

    tcf = (kl_thread_pool_conf_t *) kl_get_conf(cycle->conf_ctx,
                                                kl_thread_pool_module);
    tpp = tcf->pools.elts;

    for (i = 0; i < tcf->pools.nelts; i++) {
        if (kl_thread_pool_start(tpp[i], cycle->log) != KL_OK
            || kl_thread_pool_watch(tpp[i]) != KL_OK)
        {
            return KL_ERROR;
        }
    }

    return KL_OK;
}


static void
kl_thread_pool_exit_worker(kl_cycle_t *cycle)
{
    kl_uint_t              i;
    kl_thread_pool_t     **tpp;
    kl_thread_pool_conf_t *tcf;

    tcf = (kl_thread_pool_conf_t *) kl_get_conf(cycle->conf_ctx,
                                                kl_thread_pool_module);
    tpp = tcf->pools.elts;

    for (i = 0; i < tcf->pools.nelts; i++) {
        kl_thread_pool_stop(tpp[i]);
    }
}
