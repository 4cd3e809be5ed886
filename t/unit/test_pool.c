/* test_pool.c: small and large allocations, cleanups, reset, pfree. */

#include <criterion/criterion.h>

#include "kl_config.h"
#include "kl_types.h"
#include "string.h"
#include "pool.h"
#include "log.h"

static int order[8];
static int norder;


static void
record_cleanup(void *data)
{
    order[norder++] = *(int *) data;
}


Test(pool, many_small_allocations)
{
    kl_pool_t *pool;
    u_char    *p[5000];
    size_t     i, size;

    pool = kl_pool_create(1024, NULL);
    cr_assert_not_null(pool);
    cr_assert_leq(pool->max, (size_t) KL_MAX_ALLOC_FROM_POOL);

    for (i = 0; i < 5000; i++) {
        size = 1 + i % 200;
        p[i] = kl_palloc(pool, size);
        cr_assert_not_null(p[i]);
        cr_assert_eq((uintptr_t) p[i] % KL_ALIGNMENT, 0,
                     "allocation %zu misaligned", i);
        memset(p[i], (int) (i & 0xff), size);
    }

    /* no allocation overlapped another: every fill survived */
    for (i = 0; i < 5000; i++) {
        size = 1 + i % 200;
        cr_assert_eq(p[i][0], (u_char) (i & 0xff));
        cr_assert_eq(p[i][size - 1], (u_char) (i & 0xff));
    }

    cr_assert_not_null(pool->d.next, "a 1k pool must have grown");

    kl_pool_free(pool);
}


Test(pool, unaligned_and_zeroed)
{
    kl_pool_t *pool;
    u_char    *a, *b, *z;
    size_t     i;

    pool = kl_pool_create(KL_DEFAULT_POOL_SIZE, NULL);
    cr_assert_not_null(pool);

    a = kl_pnalloc(pool, 3);
    b = kl_pnalloc(pool, 5);
    cr_assert_eq(b, a + 3, "pnalloc packs strings back to back");

    z = kl_pcalloc(pool, 300);
    cr_assert_not_null(z);
    for (i = 0; i < 300; i++) {
        cr_assert_eq(z[i], 0);
    }

    z = kl_pmemalign(pool, 100, 4096);
    cr_assert_not_null(z);
    cr_assert_eq((uintptr_t) z % 4096, 0);
    cr_assert_eq(kl_pfree(pool, z), KL_OK);

    kl_pool_free(pool);
}


Test(pool, large_allocations)
{
    kl_pool_t       *pool;
    u_char          *big[20];
    kl_pool_large_t *l;
    size_t           i, n;

    pool = kl_pool_create(4096, NULL);
    cr_assert_not_null(pool);

    for (i = 0; i < 20; i++) {
        big[i] = kl_palloc(pool, 100000 + i);
        cr_assert_not_null(big[i]);
        memset(big[i], 0x5a, 100000 + i);
    }

    n = 0;
    for (l = pool->large; l; l = l->next) {
        if (l->alloc) {
            n++;
        }
    }
    cr_assert_eq(n, 20);

    cr_assert_eq(kl_pfree(pool, big[18]), KL_OK);
    cr_assert_eq(kl_pfree(pool, big[18]), KL_DECLINED);
    cr_assert_eq(kl_pfree(pool, pool), KL_DECLINED);

    /* a recently freed slot is reused instead of growing the list */
    big[18] = kl_palloc(pool, 50000);
    cr_assert_not_null(big[18]);
    n = 0;
    for (l = pool->large; l; l = l->next) {
        n++;
    }
    cr_assert_eq(n, 20);

    kl_pool_free(pool);
}


Test(pool, cleanups_run_newest_first)
{
    kl_pool_t         *pool;
    kl_pool_cleanup_t *c;
    int                i;

    norder = 0;

    pool = kl_pool_create(1024, NULL);
    cr_assert_not_null(pool);

    for (i = 1; i <= 3; i++) {
        c = kl_pool_cleanup_add(pool, sizeof(int));
        cr_assert_not_null(c);
        cr_assert_not_null(c->data);
        *(int *) c->data = i;
        c->handler = record_cleanup;
    }

    /* a cleanup without a handler is skipped */
    c = kl_pool_cleanup_add(pool, 0);
    cr_assert_not_null(c);
    cr_assert_null(c->data);

    kl_pool_free(pool);

    cr_assert_eq(norder, 3);
    cr_assert_eq(order[0], 3);
    cr_assert_eq(order[1], 2);
    cr_assert_eq(order[2], 1);
}


Test(pool, cleanup_file_closes_fd)
{
    kl_pool_t              *pool;
    kl_pool_cleanup_t      *c;
    kl_pool_cleanup_file_t *cf;
    int                     fd;

    pool = kl_pool_create(1024, NULL);
    fd = open("/dev/null", O_RDONLY);
    cr_assert_geq(fd, 0);

    c = kl_pool_cleanup_add(pool, sizeof(kl_pool_cleanup_file_t));
    cr_assert_not_null(c);
    cf = c->data;
    cf->fd = fd;
    cf->name = (u_char *) "/dev/null";
    cf->log = NULL;
    c->handler = kl_pool_cleanup_file;

    kl_pool_free(pool);

    cr_assert_eq(fcntl(fd, F_GETFD), -1);
    cr_assert_eq(errno, EBADF);
}


Test(pool, reset_rewinds_and_runs_cleanups)
{
    kl_pool_t         *pool;
    kl_pool_cleanup_t *c;
    u_char            *first, *p;
    size_t             i;

    norder = 0;

    pool = kl_pool_create(1024, NULL);
    cr_assert_not_null(pool);

    first = kl_palloc(pool, 16);

    for (i = 0; i < 100; i++) {
        cr_assert_not_null(kl_palloc(pool, 100));
    }
    cr_assert_not_null(kl_palloc(pool, 10000));
    cr_assert_not_null(pool->large);

    c = kl_pool_cleanup_add(pool, sizeof(int));
    *(int *) c->data = 9;
    c->handler = record_cleanup;

    kl_pool_reset(pool);

    cr_assert_eq(norder, 1);
    cr_assert_eq(order[0], 9);
    cr_assert_null(pool->large);
    cr_assert_null(pool->cleanup);
    cr_assert_eq(pool->current, pool);

    p = kl_palloc(pool, 16);
    cr_assert_eq(p, first, "reset pool hands out its first bytes again");

    /* the kept blocks are reused before any new one is made */
    for (i = 0; i < 100; i++) {
        cr_assert_not_null(kl_palloc(pool, 100));
    }

    kl_pool_free(pool);
    cr_assert_eq(norder, 1, "a reset pool does not rerun old cleanups");
}


Test(pool, heap_helpers)
{
    u_char *p;
    size_t  i;

    p = kl_calloc(1000, NULL);
    cr_assert_not_null(p);
    for (i = 0; i < 1000; i++) {
        cr_assert_eq(p[i], 0);
    }
    kl_free(p);

    p = kl_alloc(10, NULL);
    cr_assert_not_null(p);
    kl_free(p);
}


Test(pool, tiny_pool_is_clamped)
{
    kl_pool_t *pool;
    void      *p;

    pool = kl_pool_create(1, NULL);
    cr_assert_not_null(pool);

    p = kl_palloc(pool, 64);
    cr_assert_not_null(p);
    memset(p, 1, 64);

    kl_pool_free(pool);
}


/* ASan would otherwise report the deliberately impossible malloc below. */
const char *__asan_default_options(void);

const char *
__asan_default_options(void)
{
    return "allocator_may_return_null=1";
}


Test(pool, allocation_failure_is_logged_and_returned)
{
    char           path[64];
    char           text[512];
    int            fd;
    ssize_t        n;
    kl_log_t       log;
    kl_open_file_t file;

    snprintf(path, sizeof(path), "/tmp/kl_test_pool_%d", (int) getpid());
    fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    cr_assert_geq(fd, 0);

    memset(&log, 0, sizeof(log));
    file.fd = fd;
    file.name.data = (u_char *) path;
    file.name.len = strlen(path);
    log.file = &file;
    log.log_level = KL_LOG_ERR;

    cr_assert_null(kl_alloc(SIZE_MAX - 4096, &log));
    cr_assert_null(kl_calloc(SIZE_MAX - 4096, &log));
    cr_assert_null(kl_pool_create(SIZE_MAX - 4096, &log));

    n = pread(fd, text, sizeof(text) - 1, 0);
    cr_assert_gt(n, 0);
    text[n] = '\0';

    cr_assert_not_null(strstr(text, "[emerg] "));
    cr_assert_not_null(strstr(text, "malloc(18446744073709547519) failed"),
                       "%s", text);
    cr_assert_not_null(strstr(text, "posix_memalign(16, "), "%s", text);

    close(fd);
    unlink(path);
}


/*
 * The stash: a released pool comes back rewound for the same size only,
 * its cleanups run and its large blocks go at release (once: freeing the
 * stash runs and frees neither again), at most KL_POOL_STASH wait, and
 * kl_pool_stash_free empties it. That it frees the blocks is seen from
 * outside: t/memcheck/memcheck.t finds the same memory held at exit
 * whatever the stash held.
 */
Test(pool, stash_reuses_and_frees)
{
    int                i, one;
    u_char            *p;
    kl_pool_t         *a, *b, *pools[KL_POOL_STASH + 1];
    kl_pool_stash_t    stash;
    kl_pool_cleanup_t *c;

    kl_memzero(&stash, sizeof(stash));
    norder = 0;
    one = 1;

    a = kl_pool_create_reused(&stash, 1024, NULL);
    cr_assert_not_null(a);

    /* Spill into a second block, and leave a large block and a cleanup. */
    for (i = 0; i < 8; i++) {
        cr_assert_not_null(kl_palloc(a, 200));
    }
    cr_assert_not_null(a->d.next);
    cr_assert_not_null(kl_palloc(a, 8192));

    c = kl_pool_cleanup_add(a, 0);
    cr_assert_not_null(c);
    c->handler = record_cleanup;
    c->data = &one;

    kl_pool_release(&stash, a);
    cr_assert_eq(stash.n, 1);
    cr_assert_eq(norder, 1, "the cleanup ran at release");

    /* Another size is not served from the stash. */
    b = kl_pool_create_reused(&stash, 2048, NULL);
    cr_assert_neq(b, a);
    cr_assert_eq(stash.n, 1);
    kl_pool_free(b);

    /* The same size is, rewound: nothing of the last use is left. */
    b = kl_pool_create_reused(&stash, 1024, NULL);
    cr_assert_eq(b, a);
    cr_assert_eq(stash.n, 0);
    cr_assert_null(b->large);
    cr_assert_null(b->cleanup);
    p = kl_palloc(b, 16);
    cr_assert_eq(p, (u_char *) b + sizeof(kl_pool_t));

    cr_assert_not_null(kl_palloc(b, 8192));
    c = kl_pool_cleanup_add(b, 0);
    cr_assert_not_null(c);
    c->handler = record_cleanup;
    c->data = &one;

    /* One more than the stash holds: the last is freed, not kept. */
    pools[0] = b;
    for (i = 1; i <= KL_POOL_STASH; i++) {
        pools[i] = kl_pool_create_reused(&stash, 1024, NULL);
        cr_assert_not_null(pools[i]);
    }
    for (i = 0; i <= KL_POOL_STASH; i++) {
        kl_pool_release(&stash, pools[i]);
    }
    cr_assert_eq(stash.n, KL_POOL_STASH);
    cr_assert_eq(norder, 2);

    kl_pool_stash_free(&stash);
    cr_assert_eq(stash.n, 0);
    cr_assert_eq(norder, 2, "stashed pools' cleanups do not run again");
}
