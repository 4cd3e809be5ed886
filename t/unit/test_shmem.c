/*
 * test_shmem.c: mappings are zeroed, shared with children forked after
 * them, freed; the cycle's zones are registered, mapped, kept by a
 * reload with the same name, tag and size, refused another size, and
 * unmapped by the cycle that owns them.
 */

#include <criterion/criterion.h>

#include <sys/wait.h>

#include "kl_core.h"
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


/* Zones on cycles: what kl_cycle_init and the master's reload do. */

static int tag_a, tag_b;
static int inits, reused;

static kl_log_t       zlog;
static kl_open_file_t zlog_file;
static char           zlog_path[] = "/tmp/kl_test_shmem_XXXXXX";


static kl_int_t
zone_init(kl_shm_zone_t *zone, void *old_data)
{
    inits++;
    reused += old_data != NULL;

    /* The data is the start of the zone: kept across a reload. */
    zone->data = kl_shm_zone_start(zone);

    return KL_OK;
}


static kl_cycle_t *
cycle_new(void)
{
    kl_cycle_t *cycle;

    if (zlog_file.fd == 0) {
        zlog_file.fd = mkstemp(zlog_path);
        cr_assert_geq(zlog_file.fd, 0);
        (void) unlink(zlog_path); /* read through the fd only */
        zlog.file = &zlog_file;
        zlog.log_level = KL_LOG_NOTICE;
    }

    cycle = calloc(1, sizeof(kl_cycle_t));
    cr_assert_not_null(cycle);
    cycle->log = &zlog;
    cycle->pool = kl_pool_create(4096, &zlog);
    cr_assert_not_null(cycle->pool);
    cr_assert_eq(
        kl_list_init(&cycle->shm_zones, cycle->pool, 2, sizeof(kl_shm_zone_t)),
        KL_OK);

    return cycle;
}


static kl_shm_zone_t *
zone_add(kl_cycle_t *cycle, const char *name, size_t size, void *tag)
{
    kl_str_t       n;
    kl_shm_zone_t *zone;

    n.data = (u_char *) name;
    n.len = strlen(name);

    zone = kl_shm_zone_add_cycle(cycle, &n, size, tag);

    if (zone != NULL) {
        zone->init = zone_init;
    }

    return zone;
}


static void
cycle_free(kl_cycle_t *cycle)
{
    kl_shm_zones_free(cycle);
    kl_pool_free(cycle->pool);
    free(cycle);
}


/* The test log holds text. */
static int
logged(const char *text)
{
    char    buf[8192];
    ssize_t n;

    n = pread(zlog_file.fd, buf, sizeof(buf) - 1, 0);
    cr_assert_geq(n, 0);
    buf[n] = '\0';

    return strstr(buf, text) != NULL;
}


Test(shm_zone, add_returns_the_same_zone_and_refuses_conflicts)
{
    kl_cycle_t    *cycle;
    kl_shm_zone_t *a;

    cycle = cycle_new();

    a = zone_add(cycle, "one", 8192, &tag_a);
    cr_assert_not_null(a);
    cr_assert_eq(zone_add(cycle, "one", 8192, &tag_a), a);
    cr_assert_eq(zone_add(cycle, "one", 0, &tag_a), a, "0: a reference");
    cr_assert_neq(zone_add(cycle, "two", 8192, &tag_a), a);

    cr_assert_null(zone_add(cycle, "one", 16384, &tag_a));
    cr_assert(logged("the size 16384 of shared memory zone \"one\" "
                     "conflicts with already declared size 8192"));

    cr_assert_null(zone_add(cycle, "one", 8192, &tag_b));
    cr_assert(logged("the shared memory zone \"one\" is already declared "
                     "for a different use"));

    /* A reference first, the size with the declaration. */
    a = zone_add(cycle, "later", 0, &tag_a);
    cr_assert_eq(a->shm.size, 0);
    cr_assert_eq(zone_add(cycle, "later", 12288, &tag_a), a);
    cr_assert_eq(a->shm.size, 12288);

    cycle_free(cycle);
}


Test(shm_zone, map_gives_each_zone_zeroed_memory_and_a_lock)
{
    kl_cycle_t    *old, *cycle;
    kl_shm_zone_t *a, *b;

    old = cycle_new();
    cycle = cycle_new();
    inits = 0;
    reused = 0;

    a = zone_add(cycle, "a", 8192, &tag_a);
    b = zone_add(cycle, "b", 8192, &tag_b);
    cr_assert_eq(kl_shm_zones_map(cycle, old), KL_OK);

    cr_assert_eq(inits, 2);
    cr_assert_eq(reused, 0);
    cr_assert_not_null(a->shm.addr);
    cr_assert_neq(a->shm.addr, b->shm.addr);
    cr_assert_eq(a->data, a->shm.addr + KL_SHM_ZONE_HEADER);
    cr_assert_eq((u_char *) a->mutex.lock, a->shm.addr);
    cr_assert_eq(*(u_char *) a->data, 0);

    cycle_free(cycle);
    cycle_free(old);
}


Test(shm_zone, reload_keeps_a_zone_of_same_name_tag_and_size)
{
    u_char        *addr;
    kl_cycle_t    *c1, *c2, *c3, *empty;
    kl_shm_zone_t *a1, *a2, *a3, *b1, *b2;

    empty = cycle_new();
    c1 = cycle_new();
    a1 = zone_add(c1, "a", 8192, &tag_a);
    b1 = zone_add(c1, "b", 8192, &tag_a);
    cr_assert_eq(kl_shm_zones_map(c1, empty), KL_OK);
    kl_shm_zones_keep(c1);
    memcpy(a1->data, "state", 6);
    addr = a1->shm.addr;

    /* Reload: "a" unchanged, "b" with another owner (a fresh zone). */
    c2 = cycle_new();
    inits = 0;
    reused = 0;
    a2 = zone_add(c2, "a", 8192, &tag_a);
    b2 = zone_add(c2, "b", 8192, &tag_b);
    cr_assert_eq(kl_shm_zones_map(c2, c1), KL_OK);
    kl_shm_zones_keep(c2);

    cr_assert_eq(reused, 1);
    cr_assert_eq(a2->shm.addr, a1->shm.addr);
    cr_assert_str_eq(a2->data, "state");
    cr_assert_neq(b2->shm.addr, b1->shm.addr);

    /* The old cycle goes: "a" stays mapped (a1->remain), "b" of c1 goes. */
    cr_assert(a1->remain);
    cycle_free(c1);
    cr_assert_str_eq(a2->data, "state", "still mapped");

    /* And again: the chain holds over several reloads. */
    c3 = cycle_new();
    a3 = zone_add(c3, "a", 8192, &tag_a);
    cr_assert_eq(kl_shm_zones_map(c3, c2), KL_OK);
    kl_shm_zones_keep(c3);
    cycle_free(c2);
    cr_assert_eq(a3->shm.addr, addr);
    cr_assert_str_eq(a3->data, "state");

    cycle_free(c3);
    cycle_free(empty);
}


Test(shm_zone, reload_with_another_size_is_refused_and_the_old_zone_kept)
{
    kl_cycle_t    *c1, *c2, *empty;
    kl_shm_zone_t *a1, *keep1, *fresh2;

    empty = cycle_new();
    c1 = cycle_new();
    a1 = zone_add(c1, "a", 8192, &tag_a);
    keep1 = zone_add(c1, "keep", 8192, &tag_a);
    cr_assert_eq(kl_shm_zones_map(c1, empty), KL_OK);
    kl_shm_zones_keep(c1);
    memcpy(a1->data, "state", 6);
    memcpy(keep1->data, "kept", 5);

    c2 = cycle_new();
    (void) zone_add(c2, "keep", 8192, &tag_a);
    fresh2 = zone_add(c2, "new", 8192, &tag_a);
    (void) zone_add(c2, "a", 16384, &tag_a);

    cr_assert_eq(kl_shm_zones_map(c2, c1), KL_ERROR);
    cr_assert(logged("the size 16384 of shared memory zone \"a\" "
                     "conflicts with already declared size 8192"));
    cr_assert_not_null(fresh2->shm.addr, "mapped before the failure");

    /* The failed cycle goes; what it borrowed stays with the old one. */
    cycle_free(c2);
    cr_assert(!keep1->remain);
    cr_assert_str_eq(keep1->data, "kept");
    cr_assert_str_eq(a1->data, "state");

    cycle_free(c1);
    cycle_free(empty);
}


Test(shm_zone, unlock_releases_locks_a_dead_process_held)
{
    kl_cycle_t    *c, *empty;
    kl_shm_zone_t *a;

    empty = cycle_new();
    c = cycle_new();
    a = zone_add(c, "a", 8192, &tag_a);
    cr_assert_eq(kl_shm_zones_map(c, empty), KL_OK);

    *a->mutex.lock = 4242;
    kl_shm_zones_unlock(c, 4243);
    cr_assert_eq(*a->mutex.lock, 4242, "not the holder: kept");
    kl_shm_zones_unlock(c, 4242);
    cr_assert_eq(*a->mutex.lock, 0);
    cr_assert(logged("shared memory zone \"a\" was locked by 4242"));

    cycle_free(c);
    cycle_free(empty);
}


Test(shm_zone, unused_and_zero_size_zones)
{
    kl_str_t       n = kl_string("ref");
    kl_cycle_t    *c, *empty;
    kl_shm_zone_t *z;

    empty = cycle_new();
    c = cycle_new();

    /* Referred to, never declared: the referrer reports it, not mapped. */
    z = kl_shm_zone_add_cycle(c, &n, 0, &tag_a);
    cr_assert_eq(kl_shm_zones_map(c, empty), KL_OK);
    cr_assert_null(z->shm.addr);

    z->init = zone_init;
    cr_assert_eq(kl_shm_zones_map(c, empty), KL_ERROR);
    cr_assert(logged("zero size shared memory zone \"ref\""));

    cycle_free(c);
    cycle_free(empty);
}
