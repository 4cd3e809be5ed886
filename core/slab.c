/*
 * slab.c: an allocator inside a shared zone.
 *
 * The pool cuts its memory into 4 KiB pages. A request above half a
 * page takes a run of whole pages, first fit from the list of free runs;
 * a freed run joins its free neighbours at once, found through the page
 * table (the page after a run is the next run's first, the page before
 * it the previous run's last, whose entry names its first). Smaller
 * requests round up to a power of two from 8 bytes to 2 KiB, and each
 * class takes pages one at a time and hands out their chunks, found
 * through a bitmap in the page's entry; a class keeps the pages that
 * still have a free chunk on a list, and a page whose chunks are all
 * free again goes back to the runs.
 *
 * All of it sits in the zone: the pool header at its start, then the
 * page table, then the pages. Workers share the zone at one address, so
 * the lists hold plain pointers. The _locked functions assume the
 * caller holds pool->mutex (to allocate a node and insert it in a tree
 * under one lock); the others take it around the call.
 */

#include "kl_core.h"
#include "slab.h"


#define KL_SLAB_FREE  1 /* first or last page of a free run */
#define KL_SLAB_RUN   2 /* first page of an allocated run */
#define KL_SLAB_INNER 3 /* another page of an allocated run */
#define KL_SLAB_SMALL 4 /* a page of chunks */

#define kl_slab_page_addr(pool, page)                                          \
    ((pool)->start + (((page) - (pool)->pages) << KL_SLAB_PAGE_SHIFT))


static kl_slab_page_t *kl_slab_alloc_pages(kl_slab_pool_t *pool, kl_uint_t n);
static void  kl_slab_free_pages(kl_slab_pool_t *pool, kl_slab_page_t *page,
                                kl_uint_t n);
static void  kl_slab_mark_free(kl_slab_pool_t *pool, kl_slab_page_t *page,
                               kl_uint_t n);
static void *kl_slab_alloc_chunk(kl_slab_pool_t *pool, kl_uint_t shift);
static void  kl_slab_free_chunk(kl_slab_pool_t *pool, kl_slab_page_t *page,
                                u_char *p);
static void  kl_slab_error(kl_slab_pool_t *pool, kl_uint_t level,
                           const char *text);


kl_slab_pool_t *
kl_slab_init(void *addr, size_t size)
{
    u_char         *p, *end;
    kl_uint_t       i, n;
    kl_slab_pool_t *pool;

    p = kl_align_ptr(addr, sizeof(void *));
    end = (u_char *) addr + size;

    if (p + sizeof(kl_slab_pool_t) > end) {
        return NULL;
    }

    pool = (kl_slab_pool_t *) p;
    kl_memzero(pool, sizeof(kl_slab_pool_t));

    pool->pages = (kl_slab_page_t *) kl_align_ptr(pool + 1, sizeof(void *));
    p = (u_char *) pool->pages;

    /* Pages and their entries, then whatever alignment leaves over. */
    n = (end > p) ? (end - p) / (KL_SLAB_PAGE_SIZE + sizeof(kl_slab_page_t))
                  : 0;

    for (/* void */; n > 0; n--) {
        pool->start =
            kl_align_ptr(p + n * sizeof(kl_slab_page_t), KL_SLAB_PAGE_SIZE);

        if (pool->start + (n << KL_SLAB_PAGE_SHIFT) <= end) {
            break;
        }
    }

    if (n == 0) {
        return NULL;
    }

    pool->npages = n;
    pool->end = pool->start + (n << KL_SLAB_PAGE_SHIFT);

    kl_memzero(pool->pages, n * sizeof(kl_slab_page_t));
    kl_queue_init(&pool->free);

    for (i = 0; i < KL_SLAB_CLASSES; i++) {
        kl_queue_init(&pool->partial[i]);
    }

    kl_slab_mark_free(pool, pool->pages, n);
    kl_queue_insert_head(&pool->free, &pool->pages->link);
    pool->free_pages = n;

    return pool;
}


kl_slab_pool_t *
kl_slab_zone_init(kl_shm_zone_t *zone, void *old_data)
{
    kl_slab_pool_t *pool;

    if (old_data != NULL) {
        return old_data;
    }

    pool = kl_slab_init(kl_shm_zone_start(zone),
                        zone->shm.size - KL_SHM_ZONE_HEADER);
    if (pool == NULL) {
        return NULL;
    }

    pool->mutex = zone->mutex;

    (void) kl_slprintf(pool->log_ctx, pool->log_ctx + sizeof(pool->log_ctx) - 1,
                       " in zone \"%V\"", &zone->shm.name);

    return pool;
}


void *
kl_slab_alloc(kl_slab_pool_t *pool, size_t size)
{
    void *p;

    if (pool->mutex.lock != NULL) {
        kl_shmtx_lock(&pool->mutex);
    }

    p = kl_slab_alloc_locked(pool, size);

    if (pool->mutex.lock != NULL) {
        kl_shmtx_unlock(&pool->mutex);
    }

    return p;
}


void *
kl_slab_alloc_locked(kl_slab_pool_t *pool, size_t size)
{
    void           *p;
    kl_uint_t       shift;
    kl_slab_page_t *page;

    if (size > KL_SLAB_PAGE_SIZE / 2) {
        page = (size > (size_t) pool->npages << KL_SLAB_PAGE_SHIFT)
                   ? NULL
                   : kl_slab_alloc_pages(pool, (size + KL_SLAB_PAGE_SIZE - 1)
                                                   >> KL_SLAB_PAGE_SHIFT);

        p = page ? kl_slab_page_addr(pool, page) : NULL;

    } else {
        shift = KL_SLAB_MIN_SHIFT;

        while (((size_t) 1 << shift) < size) {
            shift++;
        }

        p = kl_slab_alloc_chunk(pool, shift);
    }

    if (p == NULL && !pool->nomem_logged) {
        pool->nomem_logged = 1;
        kl_slab_error(pool, KL_LOG_CRIT, "kl_slab_alloc() failed: no memory");
    }

    return p;
}


void *
kl_slab_calloc(kl_slab_pool_t *pool, size_t size)
{
    void *p;

    p = kl_slab_alloc(pool, size);

    if (p != NULL) {
        kl_memzero(p, size);
    }

    return p;
}


void *
kl_slab_calloc_locked(kl_slab_pool_t *pool, size_t size)
{
    void *p;

    p = kl_slab_alloc_locked(pool, size);

    if (p != NULL) {
        kl_memzero(p, size);
    }

    return p;
}


void
kl_slab_free(kl_slab_pool_t *pool, void *p)
{
    if (pool->mutex.lock != NULL) {
        kl_shmtx_lock(&pool->mutex);
    }

    kl_slab_free_locked(pool, p);

    if (pool->mutex.lock != NULL) {
        kl_shmtx_unlock(&pool->mutex);
    }
}


void
kl_slab_free_locked(kl_slab_pool_t *pool, void *p)
{
    u_char         *addr;
    kl_slab_page_t *page;

    addr = p;

    if (addr < pool->start || addr >= pool->end) {
        kl_slab_error(pool, KL_LOG_ALERT, "kl_slab_free(): outside of pool");
        return;
    }

    page = &pool->pages[(addr - pool->start) >> KL_SLAB_PAGE_SHIFT];

    switch (page->type) {

    case KL_SLAB_SMALL:
        kl_slab_free_chunk(pool, page, addr);
        return;

    case KL_SLAB_RUN:
        if (addr != kl_slab_page_addr(pool, page)) {
            break;
        }

        kl_slab_free_pages(pool, page, page->npages);
        return;

    case KL_SLAB_FREE:
        kl_slab_error(pool, KL_LOG_ALERT,
                      "kl_slab_free(): page is already free");
        return;
    }

    kl_slab_error(pool, KL_LOG_ALERT, "kl_slab_free(): pointer to wrong page");
}


/* First fit: the first free run long enough, cut from its front. */
static kl_slab_page_t *
kl_slab_alloc_pages(kl_slab_pool_t *pool, kl_uint_t n)
{
    kl_uint_t       i;
    kl_queue_t     *q;
    kl_slab_page_t *page;

    for (q = kl_queue_head(&pool->free); q != kl_queue_sentinel(&pool->free);
         q = kl_queue_next(q))
    {
        page = kl_queue_data(q, kl_slab_page_t, link);

        if (page->npages < n) {
            continue;
        }

        kl_queue_remove(q);

        if (page->npages > n) {
            kl_slab_mark_free(pool, page + n, page->npages - n);
            kl_queue_insert_head(&pool->free, &page[n].link);
        }

        page->type = KL_SLAB_RUN;
        page->npages = n;
        page->head = NULL;

        for (i = 1; i < n; i++) {
            page[i].type = KL_SLAB_INNER;
            page[i].head = NULL;
        }

        pool->free_pages -= n;

        return page;
    }

    return NULL;
}


static void
kl_slab_free_pages(kl_slab_pool_t *pool, kl_slab_page_t *page, kl_uint_t n)
{
    kl_slab_page_t *next, *prev;

    pool->free_pages += n;

    next = page + n;

    if (next < pool->pages + pool->npages && next->type == KL_SLAB_FREE) {
        kl_queue_remove(&next->link);
        n += next->npages;
    }

    if (page > pool->pages && page[-1].type == KL_SLAB_FREE) {
        prev = page[-1].head;
        kl_queue_remove(&prev->link);
        n += prev->npages;
        page->type = KL_SLAB_INNER;
        page = prev;
    }

    kl_slab_mark_free(pool, page, n);
    kl_queue_insert_head(&pool->free, &page->link);
}


/* A free run of n pages from page: its first and last entries. */
static void
kl_slab_mark_free(kl_slab_pool_t *pool, kl_slab_page_t *page, kl_uint_t n)
{
    (void) pool;

    page->type = KL_SLAB_FREE;
    page->npages = n;
    page->head = page;

    page[n - 1].type = KL_SLAB_FREE;
    page[n - 1].head = page;

    /* A first page merged into a longer run no longer starts one. */
    if (n > 1) {
        page[n - 1].npages = 0;
    }
}


static void *
kl_slab_alloc_chunk(kl_slab_pool_t *pool, kl_uint_t shift)
{
    kl_uint_t       i, w, bit, cls;
    kl_queue_t     *q;
    kl_slab_page_t *page;

    cls = shift - KL_SLAB_MIN_SHIFT;
    q = &pool->partial[cls];

    if (kl_queue_empty(q)) {
        page = kl_slab_alloc_pages(pool, 1);
        if (page == NULL) {
            return NULL;
        }

        page->type = KL_SLAB_SMALL;
        page->shift = (uint16_t) shift;
        page->nchunks = KL_SLAB_PAGE_SIZE >> shift;
        page->nfree = page->nchunks;

        /* Bits past the last chunk stay taken: never handed out. */
        for (i = 0; i < KL_SLAB_MAX_CHUNKS / 64; i++) {
            page->bitmap[i] = (i * 64 < page->nchunks) ? 0 : ~(uint64_t) 0;
        }

        if (page->nchunks < 64) {
            page->bitmap[0] = ~(uint64_t) 0 << page->nchunks;
        }

        kl_queue_insert_head(q, &page->link);
    }

    page = kl_queue_data(kl_queue_head(q), kl_slab_page_t, link);

    for (w = 0; page->bitmap[w] == ~(uint64_t) 0; w++) { /* void */
    }

    bit = (kl_uint_t) __builtin_ctzll(~page->bitmap[w]);
    page->bitmap[w] |= (uint64_t) 1 << bit;

    if (--page->nfree == 0) {
        kl_queue_remove(&page->link);
    }

    return kl_slab_page_addr(pool, page) + ((w * 64 + bit) << shift);
}


static void
kl_slab_free_chunk(kl_slab_pool_t *pool, kl_slab_page_t *page, u_char *p)
{
    size_t    off;
    kl_uint_t n;
    uint64_t  mask;

    off = p - kl_slab_page_addr(pool, page);

    if (off & (((size_t) 1 << page->shift) - 1)) {
        kl_slab_error(pool, KL_LOG_ALERT,
                      "kl_slab_free(): pointer to wrong chunk");
        return;
    }

    n = off >> page->shift;
    mask = (uint64_t) 1 << (n % 64);

    if (!(page->bitmap[n / 64] & mask)) {
        kl_slab_error(pool, KL_LOG_ALERT,
                      "kl_slab_free(): chunk is already free");
        return;
    }

    page->bitmap[n / 64] &= ~mask;

    if (page->nfree++ == 0) {
        kl_queue_insert_head(&pool->partial[page->shift - KL_SLAB_MIN_SHIFT],
                             &page->link);
    }

    if (page->nfree == page->nchunks) {
        kl_queue_remove(&page->link);
        page->npages = 1;
        kl_slab_free_pages(pool, page, 1);
    }
}


/* Unit tests have no cycle and so no log: they read the pool instead. */
static void
kl_slab_error(kl_slab_pool_t *pool, kl_uint_t level, const char *text)
{
    if (kl_cycle == NULL || kl_cycle->log == NULL) {
        return;
    }

    kl_log_error(level, kl_cycle->log, 0, "%s%s", text, pool->log_ctx);
}
