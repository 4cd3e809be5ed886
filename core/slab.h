/* slab.h: an allocator inside a shared zone: page runs, and power-of-two chunks. */

#ifndef KL_SLAB_H
#define KL_SLAB_H

#include "kl_config.h"
#include "kl_types.h"
#include "queue.h"
#include "shmtx.h"
#include "shmem.h"

#define KL_SLAB_PAGE_SHIFT 12
#define KL_SLAB_PAGE_SIZE  (1 << KL_SLAB_PAGE_SHIFT)
#define KL_SLAB_MIN_SHIFT  3 /* 8-byte chunks, the smallest */
#define KL_SLAB_MAX_SHIFT  (KL_SLAB_PAGE_SHIFT - 1) /* larger: whole pages */
#define KL_SLAB_CLASSES    (KL_SLAB_MAX_SHIFT - KL_SLAB_MIN_SHIFT + 1)
#define KL_SLAB_MAX_CHUNKS (KL_SLAB_PAGE_SIZE >> KL_SLAB_MIN_SHIFT)

/*
 * One per page of the pool. A run of pages (free, or allocated whole)
 * is described by its first page's entry and, when free, its last's
 * (head), so that a freed run can join both neighbours in O(1). A page
 * cut into chunks of one size class keeps their bitmap here, not in the
 * page, so that a 2 KiB class still fits two chunks in a page.
 */
typedef struct kl_slab_page_s kl_slab_page_t;

struct kl_slab_page_s {
    kl_queue_t      link;   /* in the free runs, or in its class's list */
    kl_slab_page_t *head;   /* the last page of a free run: its first */
    uint32_t        npages; /* the first page of a run */
    uint16_t        type;   /* KL_SLAB_FREE ... (slab.c) */
    uint16_t        shift;  /* a page of chunks: their size, log2 */
    uint32_t        nfree;  /* a page of chunks: how many are free */
    uint32_t        nchunks;
    uint64_t        bitmap[KL_SLAB_MAX_CHUNKS / 64]; /* 1: taken, or none */
};

/*
 * At the start of a zone's memory, so every process finds it at the same
 * address. Pointers inside are shared as they are: the zone is mapped
 * before the fork, at one address for all.
 */
typedef struct {
    kl_shmtx_t      mutex; /* the zone's lock; lock NULL: no locking */
    kl_queue_t      free;  /* free runs, by their first page */
    kl_queue_t      partial[KL_SLAB_CLASSES];
    kl_slab_page_t *pages; /* one per page of [start, end) */
    u_char         *start; /* the first page, page-aligned */
    u_char         *end;
    kl_uint_t       npages;
    kl_uint_t       free_pages;
    kl_uint_t       nomem_logged; /* exhaustion is logged once per zone */
    void           *data;         /* the owner's root (tree, counters) */
    u_char          log_ctx[96];  /* " in zone \"NAME\"", for messages */
} kl_slab_pool_t;

/*
 * Lay a pool over [addr, addr + size): everything but the pool header
 * and page table is allocatable. NULL if not even one page fits.
 */
kl_slab_pool_t *kl_slab_init(void *addr, size_t size);

/*
 * The same over a zone's memory, with the zone's mutex as the pool's
 * lock. For a zone's init hook: with old_data the pool is already there
 * (a reload kept the zone) and is returned as it is.
 */
kl_slab_pool_t *kl_slab_zone_init(kl_shm_zone_t *zone, void *old_data);

/*
 * size bytes, aligned on the chunk size up to a page (8 at least), or a
 * run of whole pages above half a page; NULL when the pool is exhausted
 * (logged once per pool). _locked: the caller holds pool->mutex.
 */
void *kl_slab_alloc(kl_slab_pool_t *pool, size_t size);
void *kl_slab_alloc_locked(kl_slab_pool_t *pool, size_t size);
void *kl_slab_calloc(kl_slab_pool_t *pool, size_t size);
void *kl_slab_calloc_locked(kl_slab_pool_t *pool, size_t size);

/* Give p back; a pointer the pool did not hand out is logged and ignored. */
void kl_slab_free(kl_slab_pool_t *pool, void *p);
void kl_slab_free_locked(kl_slab_pool_t *pool, void *p);

#endif /* KL_SLAB_H */
