/* thread_pool.h: threads for blocking work (file reads), finished tasks handed back to the loop. */

#ifndef KL_THREAD_POOL_H
#define KL_THREAD_POOL_H

#include "kl_config.h"
#include "kl_types.h"
#include "string.h"

typedef struct kl_thread_pool_s kl_thread_pool_t;
typedef struct kl_thread_task_s kl_thread_task_t;

struct kl_thread_task_s {
    kl_thread_task_t *next;
    void (*handler)(kl_thread_task_t *task); /* in a pool thread */
    void (*done)(kl_thread_task_t *task);    /* in the loop, afterwards */
    void *data;
};

/* Conf time: a pool's settings, no threads yet; NULL on failure. */
kl_thread_pool_t *kl_thread_pool_create(kl_pool_t *pool, kl_str_t *name,
                                        kl_uint_t threads, kl_uint_t max_queue);

/* In the worker: the eventfd and the threads. KL_OK or KL_ERROR. */
kl_int_t kl_thread_pool_start(kl_thread_pool_t *tp, kl_log_t *log);

/* Have the event loop run finished tasks' done handlers (worker only). */
kl_int_t kl_thread_pool_watch(kl_thread_pool_t *tp);

/* Stop and join the threads; queued tasks are dropped. */
void kl_thread_pool_stop(kl_thread_pool_t *tp);

/* Queue task: KL_OK, or KL_ERROR when max_queue tasks already wait. */
kl_int_t kl_thread_task_post(kl_thread_pool_t *tp, kl_thread_task_t *task);

/* The eventfd that becomes readable when tasks are finished. */
kl_fd_t kl_thread_pool_fd(kl_thread_pool_t *tp);

/* Run the done handlers of finished tasks; returns how many ran. */
kl_uint_t kl_thread_pool_complete(kl_thread_pool_t *tp);

extern kl_module_t kl_thread_pool_module;

/*
 * The pool called name (aio threads=NAME): defined by thread_pool now or
 * later in the main context, or "default" (32 threads); NULL on failure.
 */
kl_thread_pool_t *kl_thread_pool_add(kl_conf_t *cf, kl_str_t *name);

#endif /* KL_THREAD_POOL_H */
