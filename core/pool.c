/* pool.c: arenas of bump-allocated blocks, tracked large blocks, cleanups. */

/*
 * A pool is a chain of equal-size blocks; the first also holds the pool
 * header.  Small requests take bytes from the first block with room.
 * Each time none had room and a new block is added, every block from
 * pool->current on counts a failure; one that has failed more than four
 * times is skipped from then on (pool->current moves past it), so a
 * nearly full block does not slow every call.
 * Requests above pool->max are malloc'd and listed in pool->large, so the
 * pool can free them early (kl_pfree) or all at once.
 */

#include "kl_config.h"
#include "kl_types.h"
#include "string.h"
#include "log.h"
#include "pool.h"

static void *kl_palloc_small(kl_pool_t *pool, size_t size, kl_uint_t align);
static void *kl_palloc_block(kl_pool_t *pool, size_t size);
static void *kl_palloc_large(kl_pool_t *pool, size_t size);
static void  kl_pool_run_cleanups(kl_pool_t *pool);


kl_pool_t *
kl_pool_create(size_t size, kl_log_t *log)
{
    kl_pool_t *p;

    if (size < KL_MIN_POOL_SIZE) {
        size = KL_MIN_POOL_SIZE;
    }

    p = kl_memalign(KL_POOL_ALIGNMENT, size, log);
    if (p == NULL) {
        return NULL;
    }

    p->d.last = (u_char *) p + sizeof(kl_pool_t);
    p->d.end = (u_char *) p + size;
    p->d.next = NULL;
    p->d.failed = 0;

    size -= sizeof(kl_pool_t);
    p->max = (size < KL_MAX_ALLOC_FROM_POOL) ? size : KL_MAX_ALLOC_FROM_POOL;

    p->current = p;
    p->large = NULL;
    p->cleanup = NULL;
    p->log = log;

    return p;
}


/*
 * Request pools come and go on every keep-alive request: their first
 * blocks are kept in a stash for the next one instead of going back to
 * malloc.
 */

/*
 * Under ASan a stashed block stays poisoned, so a late use still shows;
 * all but its kl_pool_data_t, whose next LeakSanitizer must see.
 */
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define kl_pool_poison(p, n)                                                   \
    ASAN_POISON_MEMORY_REGION((u_char *) (p) + sizeof(kl_pool_data_t),         \
                              (n) - sizeof(kl_pool_data_t))
#define kl_pool_unpoison(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define kl_pool_poison(p, n)
#define kl_pool_unpoison(p, n)
#endif


kl_pool_t *
kl_pool_create_reused(kl_pool_stash_t *stash, size_t size, kl_log_t *log)
{
    kl_uint_t  i;
    kl_pool_t *p;

    if (size < KL_MIN_POOL_SIZE) {
        size = KL_MIN_POOL_SIZE;
    }

    for (i = stash->n; i > 0; i--) {
        p = stash->pools[i - 1];

        if ((size_t) (p->d.end - (u_char *) p) != size) {
            continue;
        }

        stash->pools[i - 1] = stash->pools[--stash->n];
        kl_pool_unpoison(p, size);

        if (p->d.next) {
            kl_pool_unpoison(p->d.next, size);
        }

        p->d.last = (u_char *) p + sizeof(kl_pool_t);
        p->d.failed = 0;
        p->current = p;
        p->large = NULL;
        p->cleanup = NULL;
        p->log = log;

        return p;
    }

    return kl_pool_create(size, log);
}


void
kl_pool_release(kl_pool_stash_t *stash, kl_pool_t *pool)
{
    kl_pool_t       *p, *n;
    kl_pool_large_t *l;

    if (stash->n == KL_POOL_STASH) {
        kl_pool_free(pool);
        return;
    }

    kl_pool_run_cleanups(pool);

    for (l = pool->large; l; l = l->next) {
        if (l->alloc) {
            kl_free(l->alloc);
        }
    }

    /* A request pool often spills into a second block: keep one. */
    p = pool->d.next;

    if (p) {
        for (n = p->d.next; n; n = p) {
            p = n->d.next;
            kl_free(n);
        }

        pool->d.next->d.next = NULL;
        pool->d.next->d.last = kl_align_ptr(
            (u_char *) pool->d.next + sizeof(kl_pool_data_t), KL_ALIGNMENT);
        pool->d.next->d.failed = 0;
    }

    if (pool->d.next) {
        kl_pool_poison(pool->d.next, (size_t) (pool->d.end - (u_char *) pool));
    }

    kl_pool_poison(pool, (size_t) (pool->d.end - (u_char *) pool));
    stash->pools[stash->n++] = pool;
}


/*
 * At exit, so that what stays allocated is what was set up once: how many
 * pools the stash holds depends on how many requests overlapped last.
 * Their cleanups ran and their large blocks went at release.
 */
void
kl_pool_stash_free(kl_pool_stash_t *stash)
{
    kl_pool_t *p;

    while (stash->n) {
        p = stash->pools[--stash->n];
        kl_pool_unpoison(p, (size_t) (p->d.end - (u_char *) p));

        if (p->d.next) {
            kl_pool_unpoison(p->d.next, (size_t) (p->d.end - (u_char *) p));
            kl_free(p->d.next);
        }

        kl_free(p);
    }
}


void
kl_pool_free(kl_pool_t *pool)
{
    kl_pool_t       *p, *n;
    kl_pool_large_t *l;

    kl_pool_run_cleanups(pool);

    for (l = pool->large; l; l = l->next) {
        if (l->alloc) {
            kl_free(l->alloc);
        }
    }

    for (p = pool, n = pool->d.next; /* void */; p = n, n = n->d.next) {
        kl_free(p);

        if (n == NULL) {
            break;
        }
    }
}


/*
 * The cleanups live in pool memory that a reset hands out again, so they
 * run here too: afterwards the pool is as good as new.
 */
void
kl_pool_reset(kl_pool_t *pool)
{
    kl_pool_t       *p;
    kl_pool_large_t *l;

    kl_pool_run_cleanups(pool);

    for (l = pool->large; l; l = l->next) {
        if (l->alloc) {
            kl_free(l->alloc);
        }
    }

    pool->d.last = (u_char *) pool + sizeof(kl_pool_t);
    pool->d.failed = 0;

    for (p = pool->d.next; p; p = p->d.next) {
        p->d.last =
            kl_align_ptr((u_char *) p + sizeof(kl_pool_data_t), KL_ALIGNMENT);
        p->d.failed = 0;
    }

    pool->current = pool;
    pool->large = NULL;
    pool->cleanup = NULL;
}


/* Most recently added first, so later objects go before what they use. */
static void
kl_pool_run_cleanups(kl_pool_t *pool)
{
    kl_pool_cleanup_t *c;

    for (c = pool->cleanup; c; c = c->next) {
        if (c->handler) {
            c->handler(c->data);
        }
    }

    pool->cleanup = NULL;
}


void *
kl_palloc_next(kl_pool_t *pool, size_t size, kl_uint_t align)
{
    if (size <= pool->max) {
        return kl_palloc_small(pool, size, align);
    }

    return kl_palloc_large(pool, size);
}


static void *
kl_palloc_small(kl_pool_t *pool, size_t size, kl_uint_t align)
{
    u_char    *m;
    kl_pool_t *p;

    p = pool->current;

    do {
        m = p->d.last;

        if (align) {
            m = kl_align_ptr(m, KL_ALIGNMENT);
        }

        if (m <= p->d.end && (size_t) (p->d.end - m) >= size) {
            p->d.last = m + size;

            return m;
        }

        p = p->d.next;

    } while (p);

    return kl_palloc_block(pool, size);
}


static void *
kl_palloc_block(kl_pool_t *pool, size_t size)
{
    u_char    *m;
    size_t     psize;
    kl_pool_t *p, *new;

    psize = (size_t) (pool->d.end - (u_char *) pool);

    m = kl_memalign(KL_POOL_ALIGNMENT, psize, pool->log);
    if (m == NULL) {
        return NULL;
    }

    new = (kl_pool_t *) m;

    new->d.end = m + psize;
    new->d.next = NULL;
    new->d.failed = 0;

    m += sizeof(kl_pool_data_t);
    m = kl_align_ptr(m, KL_ALIGNMENT);
    new->d.last = m + size;

    for (p = pool->current; p->d.next; p = p->d.next) {
        if (p->d.failed++ > 4) {
            pool->current = p->d.next;
        }
    }

    p->d.next = new;

    return m;
}


static void *
kl_palloc_large(kl_pool_t *pool, size_t size)
{
    void            *p;
    kl_uint_t        n;
    kl_pool_large_t *large;

    p = kl_alloc(size, pool->log);
    if (p == NULL) {
        return NULL;
    }

    /* reuse a slot freed by kl_pfree, but look only at the first few */
    n = 0;

    for (large = pool->large; large; large = large->next) {
        if (large->alloc == NULL) {
            large->alloc = p;
            return p;
        }

        if (n++ > 3) {
            break;
        }
    }

    large = kl_palloc_small(pool, sizeof(kl_pool_large_t), 1);
    if (large == NULL) {
        kl_free(p);
        return NULL;
    }

    large->alloc = p;
    large->next = pool->large;
    pool->large = large;

    return p;
}


void *
kl_pmemalign(kl_pool_t *pool, size_t size, size_t alignment)
{
    void            *p;
    kl_pool_large_t *large;

    p = kl_memalign(alignment, size, pool->log);
    if (p == NULL) {
        return NULL;
    }

    large = kl_palloc_small(pool, sizeof(kl_pool_large_t), 1);
    if (large == NULL) {
        kl_free(p);
        return NULL;
    }

    large->alloc = p;
    large->next = pool->large;
    pool->large = large;

    return p;
}


kl_int_t
kl_pfree(kl_pool_t *pool, void *p)
{
    kl_pool_large_t *l;

    for (l = pool->large; l; l = l->next) {
        if (p == l->alloc) {
            kl_free(l->alloc);
            l->alloc = NULL;

            return KL_OK;
        }
    }

    return KL_DECLINED;
}


kl_pool_cleanup_t *
kl_pool_cleanup_add(kl_pool_t *p, size_t size)
{
    kl_pool_cleanup_t *c;

    c = kl_palloc(p, sizeof(kl_pool_cleanup_t));
    if (c == NULL) {
        return NULL;
    }

    if (size) {
        c->data = kl_palloc(p, size);
        if (c->data == NULL) {
            return NULL;
        }

    } else {
        c->data = NULL;
    }

    c->handler = NULL;
    c->next = p->cleanup;

    p->cleanup = c;

    return c;
}


void
kl_pool_cleanup_file(void *data)
{
    kl_pool_cleanup_file_t *c = data;

    if (close(c->fd) == -1 && c->log) {
        kl_log_error(KL_LOG_ALERT, c->log, kl_errno, "close() \"%s\" failed",
                     c->name ? c->name : (u_char *) "");
    }
}


void *
kl_alloc(size_t size, kl_log_t *log)
{
    void *p;

    p = malloc(size);

    if (p == NULL && log) {
        kl_log_error(KL_LOG_EMERG, log, kl_errno, "malloc(%uz) failed", size);
    }

    return p;
}


void *
kl_calloc(size_t size, kl_log_t *log)
{
    void *p;

    p = kl_alloc(size, log);
    if (p) {
        kl_memzero(p, size);
    }

    return p;
}


void *
kl_memalign(size_t alignment, size_t size, kl_log_t *log)
{
    int   err;
    void *p;

    /* posix_memalign() wants a power of two no smaller than a pointer */
    if (alignment < sizeof(void *)) {
        alignment = sizeof(void *);
    }

    err = posix_memalign(&p, alignment, size);

    if (err) {
        if (log) {
            kl_log_error(KL_LOG_EMERG, log, err,
                         "posix_memalign(%uz, %uz) failed", alignment, size);
        }

        return NULL;
    }

    return p;
}
