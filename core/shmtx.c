/*
 * shmtx.c: a mutex on a shared word, for the accept mutex.
 *
 * The word holds 0 or the holder's pid, so a worker that dies holding
 * it can be recognised: the master, which reaps every worker, compares
 * and swaps the dead pid back to 0. The accept mutex is never waited for
 * (a worker that misses it polls its own connections and tries again
 * later). A zone's slab is, but only around a few hundred instructions:
 * kl_shmtx_lock spins, then yields, and needs no futex or semaphore.
 * Acquire on taking and release on giving back order the holder's
 * epoll_ctl calls against the next holder's.
 */

#include "kl_core.h"
#include "shmtx.h"

#include <sched.h>

/* Tries before yielding: a holder on another CPU is out in far fewer. */
#define KL_SHMTX_SPIN 1024


void
kl_shmtx_init(kl_shmtx_t *mtx, kl_shmtx_sh_t *sh)
{
    mtx->lock = &sh->lock;
}


kl_uint_t
kl_shmtx_trylock(kl_shmtx_t *mtx)
{
    kl_uint_t pid, cur;

    if (mtx->lock == NULL) {
        return 0;
    }

    pid = (kl_uint_t) kl_loop.pid;
    cur = __atomic_load_n(mtx->lock, __ATOMIC_RELAXED);

    if (cur == pid) {
        return 1;
    }

    /* Read first: a failed compare-and-swap still takes the cache line. */
    if (cur != 0) {
        return 0;
    }

    return __atomic_compare_exchange_n(mtx->lock, &cur, pid, 0,
                                       __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}


void
kl_shmtx_lock(kl_shmtx_t *mtx)
{
    kl_uint_t i;

    for (;;) {
        for (i = 0; i < KL_SHMTX_SPIN; i++) {
            /* It reads before it swaps: spinning costs no cache line. */
            if (kl_shmtx_trylock(mtx)) {
                return;
            }

#if defined(__x86_64__) || defined(__i386__)
            __builtin_ia32_pause();
#endif
        }

        (void) sched_yield();
    }
}


void
kl_shmtx_unlock(kl_shmtx_t *mtx)
{
    kl_uint_t pid;

    if (mtx->lock == NULL) {
        return;
    }

    pid = (kl_uint_t) kl_loop.pid;

    (void) __atomic_compare_exchange_n(mtx->lock, &pid, 0, 0, __ATOMIC_RELEASE,
                                       __ATOMIC_RELAXED);
}


kl_uint_t
kl_shmtx_force_unlock(kl_shmtx_t *mtx, pid_t pid)
{
    kl_uint_t held;

    if (mtx->lock == NULL || pid <= 0) {
        return 0;
    }

    held = (kl_uint_t) pid;

    return __atomic_compare_exchange_n(mtx->lock, &held, 0, 0, __ATOMIC_RELEASE,
                                       __ATOMIC_RELAXED);
}
