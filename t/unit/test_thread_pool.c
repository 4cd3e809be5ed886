/* test_thread_pool.c: tasks run in threads, finish through the eventfd, queue bound, joins. */

#include <criterion/criterion.h>

#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "kl_config.h"
#include "kl_types.h"
#include "pool.h"
#include "log.h"
#include "thread_pool.h"

static kl_pool_t *pool;
static kl_log_t   log;


typedef struct {
    kl_thread_task_t task;
    pthread_t        ran_in;
    atomic_int      *gate; /* handler waits while it is 0 */
    atomic_int       started;
    atomic_int       finished;
    int              done;
    int              delay_ms;
} test_job_t;


static void
setup(void)
{
    pool = kl_pool_create(KL_DEFAULT_POOL_SIZE, NULL);
    cr_assert_not_null(pool);
}


static void
teardown(void)
{
    kl_pool_free(pool);
}


static void
job_handler(kl_thread_task_t *task)
{
    test_job_t *job = task->data;

    job->ran_in = pthread_self();
    atomic_store(&job->started, 1);

    while (job->gate && atomic_load(job->gate) == 0) {
        usleep(1000);
    }

    if (job->delay_ms) {
        usleep(job->delay_ms * 1000);
    }

    atomic_store(&job->finished, 1);
}


static void
job_done(kl_thread_task_t *task)
{
    test_job_t *job = task->data;

    job->done++;
}


static void
job_init(test_job_t *job)
{
    memset(job, 0, sizeof(test_job_t));
    job->task.handler = job_handler;
    job->task.done = job_done;
    job->task.data = job;
}


static kl_thread_pool_t *
start_pool(kl_uint_t threads, kl_uint_t max_queue)
{
    kl_str_t          name = kl_string("test");
    kl_thread_pool_t *tp;

    tp = kl_thread_pool_create(pool, &name, threads, max_queue);
    cr_assert_not_null(tp);
    cr_assert_eq(kl_thread_pool_start(tp, &log), KL_OK);

    return tp;
}


static void
wait_started(test_job_t *job)
{
    int i;

    for (i = 0; i < 5000 && !atomic_load(&job->started); i++) {
        usleep(1000);
    }

    cr_assert(atomic_load(&job->started), "the task never started");
}


/* Run done handlers until n have run or 5 s pass, polling the eventfd. */
static kl_uint_t
complete(kl_thread_pool_t *tp, kl_uint_t n)
{
    int           i;
    kl_uint_t     got;
    struct pollfd pfd;

    got = 0;

    for (i = 0; i < 50 && got < n; i++) {
        pfd.fd = kl_thread_pool_fd(tp);
        pfd.events = POLLIN;
        pfd.revents = 0;

        if (poll(&pfd, 1, 100) == 1) {
            got += kl_thread_pool_complete(tp);
        }
    }

    return got;
}


Test(thread_pool, tasks_run_in_threads_and_complete, .init = setup,
     .fini = teardown)
{
    int               i;
    test_job_t        jobs[20];
    kl_thread_pool_t *tp;

    tp = start_pool(4, 64);

    for (i = 0; i < 20; i++) {
        job_init(&jobs[i]);
        cr_assert_eq(kl_thread_task_post(tp, &jobs[i].task), KL_OK);
    }

    cr_assert_eq(complete(tp, 20), 20);

    for (i = 0; i < 20; i++) {
        cr_assert(atomic_load(&jobs[i].finished));
        cr_assert_eq(jobs[i].done, 1, "done handler ran once");
        cr_assert(!pthread_equal(jobs[i].ran_in, pthread_self()));
    }

    /*
     * Nothing runs twice. (The eventfd may still be readable once: a
     * thread writes it after its task was already collected.)
     */
    usleep(20000);
    cr_assert_eq(kl_thread_pool_complete(tp), 0);

    kl_thread_pool_stop(tp);
}


Test(thread_pool, done_handlers_wait_for_the_loop, .init = setup,
     .fini = teardown)
{
    test_job_t        job;
    kl_thread_pool_t *tp;

    tp = start_pool(1, 4);

    job_init(&job);
    cr_assert_eq(kl_thread_task_post(tp, &job.task), KL_OK);
    wait_started(&job);

    /* Finished in the thread, but done runs only from complete(). */
    while (!atomic_load(&job.finished)) {
        usleep(1000);
    }

    usleep(10000);
    cr_assert_eq(job.done, 0);
    cr_assert_eq(complete(tp, 1), 1);
    cr_assert_eq(job.done, 1);

    kl_thread_pool_stop(tp);
}


Test(thread_pool, queue_bound_enforced, .init = setup, .fini = teardown)
{
    atomic_int        gate = 0;
    test_job_t        busy, queued[3];
    kl_thread_pool_t *tp;

    tp = start_pool(1, 2);

    job_init(&busy);
    busy.gate = &gate;
    cr_assert_eq(kl_thread_task_post(tp, &busy.task), KL_OK);
    wait_started(&busy);

    /* The one thread is busy: two may wait, a third is refused. */
    job_init(&queued[0]);
    job_init(&queued[1]);
    job_init(&queued[2]);
    cr_assert_eq(kl_thread_task_post(tp, &queued[0].task), KL_OK);
    cr_assert_eq(kl_thread_task_post(tp, &queued[1].task), KL_OK);
    cr_assert_eq(kl_thread_task_post(tp, &queued[2].task), KL_ERROR);

    atomic_store(&gate, 1);

    cr_assert_eq(complete(tp, 3), 3);
    cr_assert_eq(queued[2].done, 0, "the refused task never ran");
    cr_assert(!atomic_load(&queued[2].started));

    /* The queue has room again. */
    cr_assert_eq(kl_thread_task_post(tp, &queued[2].task), KL_OK);
    cr_assert_eq(complete(tp, 1), 1);
    cr_assert_eq(queued[2].done, 1);

    kl_thread_pool_stop(tp);
}


Test(thread_pool, stop_joins_running_threads, .init = setup, .fini = teardown)
{
    test_job_t        job;
    kl_thread_pool_t *tp;

    tp = start_pool(2, 4);

    job_init(&job);
    job.delay_ms = 200;
    cr_assert_eq(kl_thread_task_post(tp, &job.task), KL_OK);
    wait_started(&job);

    kl_thread_pool_stop(tp);

    cr_assert(atomic_load(&job.finished), "stop returned before the task");
    cr_assert_eq(kl_thread_pool_fd(tp), -1);

    /* A stopped pool starts again. */
    cr_assert_eq(kl_thread_pool_start(tp, &log), KL_OK);
    job_init(&job);
    cr_assert_eq(kl_thread_task_post(tp, &job.task), KL_OK);
    cr_assert_eq(complete(tp, 1), 1);
    kl_thread_pool_stop(tp);
}
