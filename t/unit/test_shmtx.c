/*
 * test_shmtx.c: the shared mutex: owner by pid, unlock only by the owner,
 * force_unlock for a dead owner, and no two processes inside at once.
 */

#include <criterion/criterion.h>

#include <sys/wait.h>
#include <time.h>

#include "kl_core.h"
#include "shmem.h"
#include "shmtx.h"

#define NCHILD 3

/* What the fork test shares: the lock and the evidence. */
typedef struct {
    kl_shmtx_sh_t      mtx;
    kl_uint_t          inside;     /* atomic: holders right now */
    kl_uint_t          violations; /* atomic: times inside was not 1 */
    volatile kl_uint_t counter;    /* plain: only touched under the lock */
    kl_uint_t          taken[NCHILD];
} shared_t;

static kl_shm_t   shm;
static kl_shmtx_t mtx;


static void
setup(void)
{
    shm.size = sizeof(shared_t);
    cr_assert_eq(kl_shm_alloc(&shm), KL_OK);
    kl_shmtx_init(&mtx, &((shared_t *) shm.addr)->mtx);
}


static void
teardown(void)
{
    kl_shm_free(&shm);
}


Test(shmtx, owner_is_the_pid, .init = setup, .fini = teardown)
{
    shared_t *z = (shared_t *) shm.addr;

    kl_loop.pid = 1000;
    cr_assert_eq(kl_shmtx_trylock(&mtx), 1);
    cr_assert_eq(z->mtx.lock, 1000);

    /* Taking it again is not an error for the owner. */
    cr_assert_eq(kl_shmtx_trylock(&mtx), 1);

    kl_loop.pid = 2000;
    cr_assert_eq(kl_shmtx_trylock(&mtx), 0, "taken while held");

    /* Only the owner may give it back. */
    kl_shmtx_unlock(&mtx);
    cr_assert_eq(z->mtx.lock, 1000);
    cr_assert_eq(kl_shmtx_trylock(&mtx), 0);

    kl_loop.pid = 1000;
    kl_shmtx_unlock(&mtx);
    cr_assert_eq(z->mtx.lock, 0);

    kl_loop.pid = 2000;
    cr_assert_eq(kl_shmtx_trylock(&mtx), 1);
    cr_assert_eq(z->mtx.lock, 2000);
}


Test(shmtx, force_unlock_only_for_the_holder, .init = setup, .fini = teardown)
{
    kl_loop.pid = 1000;
    cr_assert_eq(kl_shmtx_trylock(&mtx), 1);

    cr_assert_eq(kl_shmtx_force_unlock(&mtx, 2000), 0);
    cr_assert_eq(kl_shmtx_force_unlock(&mtx, 0), 0);
    cr_assert_eq(kl_shmtx_force_unlock(&mtx, -1), 0);

    kl_loop.pid = 3000;
    cr_assert_eq(kl_shmtx_trylock(&mtx), 0, "still held by 1000");

    cr_assert_eq(kl_shmtx_force_unlock(&mtx, 1000), 1);
    cr_assert_eq(kl_shmtx_force_unlock(&mtx, 1000), 0, "already released");

    cr_assert_eq(kl_shmtx_trylock(&mtx), 1);
}


Test(shmtx, no_zone_means_no_lock)
{
    kl_shmtx_t none = { .lock = NULL };

    kl_loop.pid = 1000;
    cr_assert_eq(kl_shmtx_trylock(&none), 0);
    kl_shmtx_unlock(&none);
    cr_assert_eq(kl_shmtx_force_unlock(&none, 1000), 0);
}


Test(shmtx, dead_holder_is_released_by_force_unlock, .init = setup,
     .fini = teardown)
{
    int   status;
    pid_t pid;

    pid = fork();
    cr_assert_neq(pid, -1);

    if (pid == 0) {
        kl_loop.pid = getpid();
        _exit(kl_shmtx_trylock(&mtx) ? 0 : 1);
    }

    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
              "the child did not get the lock");

    kl_loop.pid = getpid();
    cr_assert_eq(kl_shmtx_trylock(&mtx), 0, "the dead child still holds it");

    cr_assert_eq(kl_shmtx_force_unlock(&mtx, pid), 1);
    cr_assert_eq(kl_shmtx_trylock(&mtx), 1);
    kl_shmtx_unlock(&mtx);
}


static kl_uint_t
hammer(shared_t *z, double seconds)
{
    kl_uint_t       n, taken, spin;
    struct timespec t0, t;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    taken = 0;

    for (n = 0;; n++) {
        if ((n & 255) == 0) {
            clock_gettime(CLOCK_MONOTONIC, &t);

            if ((t.tv_sec - t0.tv_sec) + (t.tv_nsec - t0.tv_nsec) / 1e9
                > seconds) {
                return taken;
            }
        }

        if (!kl_shmtx_trylock(&mtx)) {
            continue;
        }

        if (__atomic_add_fetch(&z->inside, 1, __ATOMIC_SEQ_CST) != 1) {
            __atomic_add_fetch(&z->violations, 1, __ATOMIC_SEQ_CST);
        }

        /* A read-modify-write that loses updates unless excluded. */
        z->counter = z->counter + 1;

        for (spin = 0; spin < 50; spin++) {
            __asm__ __volatile__("" ::: "memory");
        }

        __atomic_sub_fetch(&z->inside, 1, __ATOMIC_SEQ_CST);
        kl_shmtx_unlock(&mtx);
        taken++;
    }
}


Test(shmtx, processes_never_hold_it_together, .init = setup, .fini = teardown,
     .timeout = 30)
{
    int       i, status;
    pid_t     pids[NCHILD];
    shared_t *z = (shared_t *) shm.addr;
    kl_uint_t sum;

    for (i = 0; i < NCHILD; i++) {
        pids[i] = fork();
        cr_assert_neq(pids[i], -1);

        if (pids[i] == 0) {
            kl_loop.pid = getpid();
            z->taken[i] = hammer(z, 1.0);
            _exit(0);
        }
    }

    sum = 0;

    for (i = 0; i < NCHILD; i++) {
        cr_assert_eq(waitpid(pids[i], &status, 0), pids[i]);
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        cr_assert_gt(z->taken[i], 0, "child %d never got the lock", i);
        sum += z->taken[i];
    }

    cr_assert_eq(z->violations, 0, "%lu times two processes held it",
                 (unsigned long) z->violations);
    cr_assert_eq(z->counter, sum, "lost updates: counter %lu, taken %lu",
                 (unsigned long) z->counter, (unsigned long) sum);
    cr_assert_eq(z->mtx.lock, 0, "left locked");
}
