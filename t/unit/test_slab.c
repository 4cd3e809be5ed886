/*
 * test_slab.c: the zone allocator: size classes, page runs, free and
 * reuse, exhaustion, fragmentation, bad frees, a random run against a
 * shadow map, and processes allocating under the zone's lock at once.
 */

#include <criterion/criterion.h>

#include <stdlib.h>
#include <sys/wait.h>

#include "kl_core.h"
#include "slab.h"

#define ARENA (64 * KL_SLAB_PAGE_SIZE)

static u_char *arena;


static void
setup(void)
{
    cr_assert_eq(posix_memalign((void **) &arena, KL_SLAB_PAGE_SIZE, ARENA), 0);
    memset(arena, 0xee, ARENA);
}


static void
teardown(void)
{
    free(arena);
}


static kl_slab_pool_t *
pool_new(size_t size)
{
    kl_slab_pool_t *pool;

    pool = kl_slab_init(arena, size);
    cr_assert_not_null(pool);
    cr_assert_eq(pool->free_pages, pool->npages);

    return pool;
}


TestSuite(slab, .init = setup, .fini = teardown);


Test(slab, init_leaves_pages_and_refuses_too_little)
{
    kl_slab_pool_t *pool;

    pool = pool_new(ARENA);
    cr_assert_geq(pool->npages, 60, "header and table cost %lu pages",
                  (unsigned long) (64 - pool->npages));
    cr_assert_eq((uintptr_t) pool->start % KL_SLAB_PAGE_SIZE, 0);
    cr_assert_leq(pool->end, arena + ARENA);

    cr_assert_null(kl_slab_init(arena, sizeof(kl_slab_pool_t) + 100));
    cr_assert_null(kl_slab_init(arena, 16));
}


Test(slab, small_sizes_round_to_a_power_of_two_and_align)
{
    size_t          size, cls;
    u_char         *a, *b;
    kl_slab_pool_t *pool;

    pool = pool_new(ARENA);

    for (size = 1; size <= KL_SLAB_PAGE_SIZE / 2; size += 7) {
        for (cls = 8; cls < size; cls <<= 1) { /* void */
        }

        a = kl_slab_alloc(pool, size);
        b = kl_slab_alloc(pool, size);
        cr_assert_not_null(a);
        cr_assert_not_null(b);
        cr_assert_eq((uintptr_t) a % cls, 0, "size %zu: %p", size, a);
        cr_assert_eq((uintptr_t) b % cls, 0, "size %zu: %p", size, b);

        /* Two chunks of a class side by side in one page. */
        cr_assert_eq(a - b == (ptrdiff_t) cls || b - a == (ptrdiff_t) cls, 1,
                     "size %zu: %p and %p are not %zu apart", size, a, b, cls);

        memset(a, 0x11, size);
        memset(b, 0x22, size);
        cr_assert_eq(a[size - 1], 0x11);

        kl_slab_free(pool, a);
        kl_slab_free(pool, b);
    }

    cr_assert_eq(pool->free_pages, pool->npages,
                 "freed chunks gave pages back");
}


Test(slab, one_page_holds_a_class_whole)
{
    kl_uint_t       i;
    u_char         *p[512];
    kl_slab_pool_t *pool;

    pool = pool_new(ARENA);

    for (i = 0; i < 512; i++) {
        p[i] = kl_slab_alloc(pool, 8);
        cr_assert_not_null(p[i]);
    }

    cr_assert_eq(pool->free_pages, pool->npages - 1, "512 x 8 B: one page");

    p[0] = kl_slab_alloc(pool, 8);
    cr_assert_eq(pool->free_pages, pool->npages - 2, "the 513th: a second");
    kl_slab_free(pool, p[0]);

    for (i = 1; i < 512; i++) {
        kl_slab_free(pool, p[i]);
    }

    cr_assert_eq(pool->free_pages, pool->npages - 1, "one chunk keeps a page");
}


Test(slab, large_sizes_take_page_runs)
{
    u_char         *a, *b, *c;
    kl_slab_pool_t *pool;

    pool = pool_new(ARENA);

    a = kl_slab_alloc(pool, KL_SLAB_PAGE_SIZE / 2 + 1);
    cr_assert_eq((uintptr_t) a % KL_SLAB_PAGE_SIZE, 0);
    cr_assert_eq(pool->free_pages, pool->npages - 1);

    b = kl_slab_alloc(pool, 3 * KL_SLAB_PAGE_SIZE);
    cr_assert_eq((uintptr_t) b % KL_SLAB_PAGE_SIZE, 0);
    cr_assert_eq(pool->free_pages, pool->npages - 4);

    c = kl_slab_alloc(pool, 3 * KL_SLAB_PAGE_SIZE + 1);
    cr_assert_eq(pool->free_pages, pool->npages - 8);
    memset(c, 0x33, 3 * KL_SLAB_PAGE_SIZE + 1);

    cr_assert(b >= a + KL_SLAB_PAGE_SIZE || a >= b + 3 * KL_SLAB_PAGE_SIZE);

    kl_slab_free(pool, b);
    cr_assert_eq(pool->free_pages, pool->npages - 5);

    /* The freed 3-page run is reused for a 2-page request. */
    cr_assert_eq(kl_slab_alloc(pool, 2 * KL_SLAB_PAGE_SIZE), b);

    kl_slab_free(pool, b);
    kl_slab_free(pool, a);
    kl_slab_free(pool, c);
    cr_assert_eq(pool->free_pages, pool->npages);

    /* Coalesced back into one run: the whole pool in one request. */
    a = kl_slab_alloc(pool, pool->npages * KL_SLAB_PAGE_SIZE);
    cr_assert_eq(a, pool->start);
    cr_assert_null(kl_slab_alloc(pool, (pool->npages + 1) * KL_SLAB_PAGE_SIZE));
}


Test(slab, free_and_reuse)
{
    u_char         *a, *b;
    kl_slab_pool_t *pool;

    pool = pool_new(ARENA);

    a = kl_slab_alloc(pool, 100);
    kl_slab_free(pool, a);
    b = kl_slab_alloc(pool, 120);
    cr_assert_eq(a, b, "the freed chunk of the class is the next one out");

    a = kl_slab_calloc(pool, 128);
    cr_assert_not_null(a);
    cr_assert_eq(a[0], 0);
    cr_assert_eq(a[127], 0);
}


Test(slab, exhaustion_returns_null_logs_once_and_recovers)
{
    kl_uint_t       i, n;
    u_char         *p[64];
    kl_slab_pool_t *pool;

    pool = pool_new(ARENA);
    n = pool->npages;

    for (i = 0; i < n; i++) {
        p[i] = kl_slab_alloc(pool, KL_SLAB_PAGE_SIZE);
        cr_assert_not_null(p[i]);
    }

    cr_assert_eq(pool->free_pages, 0);
    cr_assert_eq(pool->nomem_logged, 0);

    cr_assert_null(kl_slab_alloc(pool, KL_SLAB_PAGE_SIZE));
    cr_assert_eq(pool->nomem_logged, 1);
    cr_assert_null(kl_slab_alloc(pool, 8), "no page for a first chunk");
    cr_assert_eq(pool->nomem_logged, 1, "logged once");

    kl_slab_free(pool, p[n / 2]);
    cr_assert_not_null(kl_slab_alloc(pool, 8));
    cr_assert_null(kl_slab_alloc(pool, 2048), "another class: no page");
    cr_assert_null(kl_slab_alloc(pool, 2048 + 1));
}


Test(slab, fragmentation_then_coalescing)
{
    kl_uint_t       i, n;
    u_char         *p[64];
    kl_slab_pool_t *pool;

    pool = pool_new(ARENA);
    n = pool->npages;

    for (i = 0; i < n; i++) {
        p[i] = kl_slab_alloc(pool, KL_SLAB_PAGE_SIZE);
    }

    /* Every other page free: half the pool, no two pages in a row. */
    for (i = 0; i < n; i += 2) {
        kl_slab_free(pool, p[i]);
    }

    cr_assert_eq(pool->free_pages, n - n / 2);
    cr_assert_null(kl_slab_alloc(pool, 2 * KL_SLAB_PAGE_SIZE));

    /* Freeing the odd ones joins each to both neighbours. */
    for (i = 1; i < n; i += 2) {
        kl_slab_free(pool, p[i]);
    }

    cr_assert_eq(pool->free_pages, n);
    cr_assert_eq(kl_slab_alloc(pool, n * KL_SLAB_PAGE_SIZE), pool->start);
}


Test(slab, bad_frees_are_ignored)
{
    u_char         *a, *b, *big;
    kl_uint_t       free_pages;
    kl_slab_pool_t *pool;

    pool = pool_new(ARENA);

    a = kl_slab_alloc(pool, 64);
    b = kl_slab_alloc(pool, 64);
    big = kl_slab_alloc(pool, 2 * KL_SLAB_PAGE_SIZE);
    free_pages = pool->free_pages;

    kl_slab_free(pool, arena - 1);               /* outside */
    kl_slab_free(pool, a + 8);                   /* inside a chunk */
    kl_slab_free(pool, big + 100);               /* inside a run */
    kl_slab_free(pool, big + KL_SLAB_PAGE_SIZE); /* a run's second page */
    kl_slab_free(pool, pool->end - 16);          /* a free page */
    cr_assert_eq(pool->free_pages, free_pages);

    kl_slab_free(pool, a);
    kl_slab_free(pool, a); /* twice */
    cr_assert_eq(kl_slab_alloc(pool, 64), a);
    cr_assert_neq(kl_slab_alloc(pool, 64), a, "a was not handed out twice");

    kl_slab_free(pool, big);
    kl_slab_free(pool, big); /* twice: a free page now */
    cr_assert_eq(pool->free_pages, free_pages + 2);
    (void) b;
}


typedef struct {
    u_char *p;
    size_t  size;
    u_char  fill;
} live_t;


/* Every live block still holds its own fill: nothing overlapped it. */
static void
check_live(live_t *live, kl_uint_t n)
{
    kl_uint_t i;
    size_t    j;

    for (i = 0; i < n; i++) {
        for (j = 0; j < live[i].size; j += 13) {
            cr_assert_eq(live[i].p[j], live[i].fill,
                         "block %p (%zu) overwritten at %zu", live[i].p,
                         live[i].size, j);
        }
    }
}


Test(slab, random_run_against_a_shadow_map)
{
    size_t          size;
    u_char         *p;
    kl_uint_t       i, k, n, round, failed;
    live_t          live[400];
    kl_slab_pool_t *pool;

    pool = pool_new(ARENA);
    srandom(20261207);
    n = 0;
    failed = 0;

    for (round = 0; round < 40000; round++) {

        if (n > 0 && (n == 400 || random() % 100 < 45)) {
            k = (kl_uint_t) random() % n;
            kl_slab_free(pool, live[k].p);
            live[k] = live[--n];
            continue;
        }

        switch (random() % 4) {
        case 0:
            size = 1 + random() % 64;
            break;
        case 1:
            size = 1 + random() % 2048;
            break;
        case 2:
            size = 2049 + random() % (3 * KL_SLAB_PAGE_SIZE);
            break;
        default:
            size = 1 + random() % 512;
        }

        p = kl_slab_alloc(pool, size);

        if (p == NULL) {
            failed++;
            continue;
        }

        cr_assert(p >= pool->start && p + size <= pool->end);

        for (i = 0; i < n; i++) {
            cr_assert(p + size <= live[i].p || p >= live[i].p + live[i].size,
                      "round %u: [%p, +%zu) overlaps [%p, +%zu)", round, p,
                      size, live[i].p, live[i].size);
        }

        live[n].p = p;
        live[n].size = size;
        live[n].fill = (u_char) (round | 1);
        memset(p, live[n].fill, size);
        n++;

        if (round % 1000 == 0) {
            check_live(live, n);
        }
    }

    check_live(live, n);
    cr_assert_lt(failed, 40000 / 4, "%u allocations failed", failed);

    while (n) {
        kl_slab_free(pool, live[--n].p);
    }

    cr_assert_eq(pool->free_pages, pool->npages, "every page came back");
    cr_assert_eq(kl_slab_alloc(pool, pool->npages * KL_SLAB_PAGE_SIZE),
                 pool->start, "and in one run");
}


Test(slab, zone_pool_is_shared_and_locked_across_processes)
{
    int             status;
    pid_t           pid[3];
    kl_uint_t       i, j, k;
    void           *p[16];
    kl_shm_zone_t   zone;
    kl_slab_pool_t *pool;

    kl_memzero(&zone, sizeof(kl_shm_zone_t));
    zone.shm.size = 256 * 1024;
    kl_str_set(&zone.shm.name, "test");
    cr_assert_eq(kl_shm_alloc(&zone.shm), KL_OK);
    kl_shmtx_init(&zone.mutex, (kl_shmtx_sh_t *) zone.shm.addr);

    pool = kl_slab_zone_init(&zone, NULL);
    cr_assert_not_null(pool);
    cr_assert_eq(pool->mutex.lock, zone.mutex.lock);
    cr_assert_str_eq((char *) pool->log_ctx, " in zone \"test\"");
    cr_assert_eq(kl_slab_zone_init(&zone, pool), pool, "kept by a reload");

    for (i = 0; i < 3; i++) {
        pid[i] = fork();
        cr_assert_neq(pid[i], -1);

        if (pid[i] == 0) {
            kl_loop.pid = getpid();

            for (j = 0; j < 16 * 190; j++) {
                p[j % 16] = kl_slab_alloc(pool, 16 + (j * 37) % 3000);
                if (p[j % 16] == NULL) {
                    _exit(1);
                }

                memset(p[j % 16], (int) i, 16);

                /* Every 16 blocks, all back: the others allocate meanwhile. */
                if (j % 16 == 15) {
                    for (k = 0; k < 16; k++) {
                        kl_slab_free(pool, p[k]);
                    }
                }
            }

            _exit(0);
        }
    }

    for (i = 0; i < 3; i++) {
        cr_assert_eq(waitpid(pid[i], &status, 0), pid[i]);
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }

    cr_assert_eq(*zone.mutex.lock, 0, "unlocked at the end");
    cr_assert_eq(pool->free_pages, pool->npages, "every block came back");

    kl_shm_free(&zone.shm);
}
