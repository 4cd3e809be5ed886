/* test_shmem.c: zones are zeroed, shared with children forked after them, freed. */

#include <criterion/criterion.h>

#include <sys/wait.h>

#include "kl_config.h"
#include "kl_types.h"
#include "shmem.h"


static int
wait_child(pid_t pid)
{
    int status;

    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status), "child died on a signal");

    return WEXITSTATUS(status);
}


Test(shmem, alloc_is_zeroed_and_writable)
{
    size_t   i;
    kl_shm_t shm = { .size = 10000 };

    cr_assert_eq(kl_shm_alloc(&shm), KL_OK);
    cr_assert_not_null(shm.addr);
    cr_assert_eq(shm.size, 10000);

    for (i = 0; i < shm.size; i++) {
        cr_assert_eq(shm.addr[i], 0, "byte %zu not zero", i);
    }

    memset(shm.addr, 0xa5, shm.size);
    cr_assert_eq(shm.addr[shm.size - 1], 0xa5);

    kl_shm_free(&shm);
    cr_assert_null(shm.addr);
}


Test(shmem, child_writes_are_seen_by_the_parent)
{
    pid_t    pid;
    kl_shm_t shm = { .size = 4096 };

    cr_assert_eq(kl_shm_alloc(&shm), KL_OK);

    pid = fork();
    cr_assert_neq(pid, -1);

    if (pid == 0) {
        memcpy(shm.addr, "from the child", 15);
        _exit(0);
    }

    cr_assert_eq(wait_child(pid), 0);
    cr_assert_str_eq((char *) shm.addr, "from the child");

    kl_shm_free(&shm);
}


Test(shmem, parent_writes_after_fork_are_seen_by_the_child)
{
    int      fds[2];
    char     go;
    pid_t    pid;
    kl_shm_t shm = { .size = 4096 };

    cr_assert_eq(kl_shm_alloc(&shm), KL_OK);
    cr_assert_eq(pipe(fds), 0);

    pid = fork();
    cr_assert_neq(pid, -1);

    if (pid == 0) {
        close(fds[1]);

        if (read(fds[0], &go, 1) != 1) {
            _exit(2);
        }

        _exit(strcmp((char *) shm.addr, "from the parent") == 0 ? 0 : 1);
    }

    close(fds[0]);
    memcpy(shm.addr, "from the parent", 16);
    cr_assert_eq(write(fds[1], "g", 1), 1);
    close(fds[1]);

    cr_assert_eq(wait_child(pid), 0, "the child did not see the write");

    kl_shm_free(&shm);
}


Test(shmem, two_zones_are_distinct)
{
    kl_shm_t a = { .size = 64 };
    kl_shm_t b = { .size = 64 };

    cr_assert_eq(kl_shm_alloc(&a), KL_OK);
    cr_assert_eq(kl_shm_alloc(&b), KL_OK);
    cr_assert_neq(a.addr, b.addr);

    a.addr[0] = 1;
    cr_assert_eq(b.addr[0], 0);

    kl_shm_free(&a);
    kl_shm_free(&b);
}


Test(shmem, zero_size_fails_with_einval)
{
    kl_shm_t shm = { .size = 0 };

    errno = 0;
    cr_assert_eq(kl_shm_alloc(&shm), KL_ERROR);
    cr_assert_eq(errno, EINVAL);
    cr_assert_null(shm.addr);
}


Test(shmem, impossible_size_fails_with_errno)
{
    kl_shm_t shm = { .size = SIZE_MAX / 2 };

    errno = 0;
    cr_assert_eq(kl_shm_alloc(&shm), KL_ERROR);
    cr_assert_neq(errno, 0);
    cr_assert_null(shm.addr);
}


Test(shmem, free_twice_is_harmless)
{
    kl_shm_t shm = { .size = 128 };

    cr_assert_eq(kl_shm_alloc(&shm), KL_OK);
    kl_shm_free(&shm);
    kl_shm_free(&shm);
    cr_assert_null(shm.addr);
}
