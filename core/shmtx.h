/* shmtx.h: a non-blocking mutex on a word in a shared memory zone. */

#ifndef KL_SHMTX_H
#define KL_SHMTX_H

#include "kl_config.h"

/* The shared part: place it in a zone (kl_shm_alloc zeroes it: unlocked). */
typedef struct {
    kl_uint_t lock; /* 0, or the pid of the holder */
} kl_shmtx_sh_t;

/* A process's handle on the shared word. */
typedef struct {
    kl_uint_t *lock; /* NULL: no mutex (every call is a no-op that fails) */
} kl_shmtx_t;

/* Point mtx at sh, which lives in a zone mapped before fork. */
void kl_shmtx_init(kl_shmtx_t *mtx, kl_shmtx_sh_t *sh);

/*
 * Take the lock for kl_loop.pid without waiting: 1 if taken (or already
 * held by this process), 0 if another process holds it.
 */
kl_uint_t kl_shmtx_trylock(kl_shmtx_t *mtx);

/*
 * Take the lock, waiting for it: spin a while, then yield the CPU
 * between tries. For short critical sections (a slab allocation), never
 * for the accept mutex. The lock word must exist (lock not NULL).
 */
void kl_shmtx_lock(kl_shmtx_t *mtx);

/* Release it if this process (kl_loop.pid) holds it; otherwise nothing. */
void kl_shmtx_unlock(kl_shmtx_t *mtx);

/*
 * Release it if the dead process pid holds it (the master, on reaping a
 * worker). 1 if it was released, 0 if pid did not hold it.
 */
kl_uint_t kl_shmtx_force_unlock(kl_shmtx_t *mtx, pid_t pid);

#endif /* KL_SHMTX_H */
