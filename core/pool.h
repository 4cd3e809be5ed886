/* pool.h: arenas freed whole, one per cycle, connection and request, with cleanups. */

#ifndef KL_POOL_H
#define KL_POOL_H

#include "kl_config.h"
#include "kl_types.h"

/* Requests above this go to a malloc'd "large" block the pool tracks. */
#define KL_MAX_ALLOC_FROM_POOL (4096 - 1)
#define KL_DEFAULT_POOL_SIZE   (16 * 1024)
#define KL_POOL_ALIGNMENT      16
#define KL_MIN_POOL_SIZE                                                       \
    kl_align((sizeof(kl_pool_t) + 2 * sizeof(kl_pool_large_t)),                \
             KL_POOL_ALIGNMENT)

typedef void (*kl_pool_cleanup_pt)(void *data);

typedef struct kl_pool_cleanup_s kl_pool_cleanup_t;

struct kl_pool_cleanup_s {
    kl_pool_cleanup_pt handler;
    void              *data;
    kl_pool_cleanup_t *next;
};

typedef struct kl_pool_large_s kl_pool_large_t;

struct kl_pool_large_s {
    kl_pool_large_t *next;
    void            *alloc;
};

typedef struct {
    u_char    *last;
    u_char    *end;
    kl_pool_t *next;
    kl_uint_t  failed;
} kl_pool_data_t;

struct kl_pool_s {
    kl_pool_data_t     d;
    size_t             max;
    kl_pool_t         *current;
    kl_pool_large_t   *large;
    kl_pool_cleanup_t *cleanup;
    kl_log_t          *log;
};

typedef struct {
    kl_fd_t   fd;
    u_char   *name;
    kl_log_t *log;
} kl_pool_cleanup_file_t;

/* A new pool whose first block is size bytes; NULL if malloc fails. */
kl_pool_t *kl_pool_create(size_t size, kl_log_t *log);

/* Run the cleanups, then free every block and large allocation. */
void kl_pool_free(kl_pool_t *pool);

/*
 * kl_pool_create and kl_pool_free for short-lived pools of one size (a
 * request each): released first blocks are kept in a stash (the event
 * loop's: one per process, never shared with thread-pool tasks).
 */
#define KL_POOL_STASH 8

typedef struct {
    kl_pool_t *pools[KL_POOL_STASH];
    kl_uint_t  n;
} kl_pool_stash_t;

kl_pool_t *kl_pool_create_reused(kl_pool_stash_t *stash, size_t size,
                                 kl_log_t *log);
void       kl_pool_release(kl_pool_stash_t *stash, kl_pool_t *pool);
void       kl_pool_stash_free(kl_pool_stash_t *stash);

/* Free large allocations and rewind every block, keeping the memory. */
void kl_pool_reset(kl_pool_t *pool);

/*
 * What kl_palloc and kl_pnalloc do when the current block has no room:
 * a later block, a new one, or a large allocation.
 */
void *kl_palloc_next(kl_pool_t *pool, size_t size, kl_uint_t align);

/*
 * The bump from the current block is inline: a keep-alive request makes
 * about 20 allocations, and each call and its frame cost as much as the
 * bump itself (callgrind: about 20 instructions an allocation).
 */
static inline void *
kl_palloc_bump(kl_pool_t *pool, size_t size, kl_uint_t align)
{
    u_char    *m;
    kl_pool_t *p;

    p = pool->current;
    m = align ? kl_align_ptr(p->d.last, KL_ALIGNMENT) : p->d.last;

    if (size <= pool->max && m <= p->d.end && (size_t) (p->d.end - m) >= size) {
        p->d.last = m + size;
        return m;
    }

    return kl_palloc_next(pool, size, align);
}

/* Aligned. */
static inline void *
kl_palloc(kl_pool_t *pool, size_t size)
{
    return kl_palloc_bump(pool, size, 1);
}

/* Unaligned (strings). */
static inline void *
kl_pnalloc(kl_pool_t *pool, size_t size)
{
    return kl_palloc_bump(pool, size, 0);
}

/* Aligned, zeroed: a constant size is zeroed without a call. */
static inline void *
kl_pcalloc(kl_pool_t *pool, size_t size)
{
    void *p;

    p = kl_palloc_bump(pool, size, 1);
    if (p) {
        memset(p, 0, size);
    }

    return p;
}

void *kl_pmemalign(kl_pool_t *pool, size_t size, size_t alignment);

/* Free a large allocation early; KL_DECLINED if p is not one. */
kl_int_t kl_pfree(kl_pool_t *pool, void *p);

/* Register a cleanup with size bytes of data (0: none); NULL on failure. */
kl_pool_cleanup_t *kl_pool_cleanup_add(kl_pool_t *p, size_t size);

/* Cleanup handler closing a kl_pool_cleanup_file_t's fd. */
void kl_pool_cleanup_file(void *data);

/* Heap helpers that log failures; core's only malloc/free call sites. */
void *kl_alloc(size_t size, kl_log_t *log);
void *kl_calloc(size_t size, kl_log_t *log);
/* Aligned heap memory (O_DIRECT buffers), freed with kl_free; logs failure. */
void *kl_memalign(size_t alignment, size_t size, kl_log_t *log);
#define kl_free free

#endif /* KL_POOL_H */
