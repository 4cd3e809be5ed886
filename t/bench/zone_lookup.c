/* t/bench/zone_lookup.c: the CPU time of one limit_req state lookup in a
 * zone tree of N keys, as modules/limit_req.c does it.
 *
 *   zone_lookup N LOOKUPS
 *
 * Lays a slab pool and a kl_zone_hash_t over malloc'd memory (the zone's
 * layout without the mapping: no lock), inserts N keys "k1" .. "kN"
 * with limit_req's value size and hash (FNV-1a), then looks up LOOKUPS
 * keys drawn at random (precomputed, so the drawing is not timed), each
 * found one moved to the head of the LRU as limit_req does. Prints
 * "ns/lookup X" from CLOCK_PROCESS_CPUTIME_ID, the best of five passes
 * (the least disturbed by a neighbour's load), and "zone_bytes B": the
 * slab bytes the N states took. t/bench/limits builds it against
 * objs/libkiln.a and runs it for 1 000 and 100 000 keys. */

#include "kl_core.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define ZL_PASSES 5

/* limit_req's value: modules/limit_req.c kl_http_limit_req_node_t. */
typedef struct {
    kl_msec_t last;
    kl_int_t  excess;
    kl_uint_t count;
} zl_bucket_t;


static kl_uint_t
zl_hash(u_char *p, size_t len)
{
    uint64_t h = 14695981039346656037ULL;

    while (len--) {
        h ^= *p++;
        h *= 1099511628211ULL;
    }

    return (kl_uint_t) h;
}


static double
zl_cpu_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}


int
main(int argc, char **argv)
{
    u_char         *mem;
    size_t          size, used;
    double          best, t0, t;
    uint32_t       *pick, seed;
    kl_uint_t       n, m, i, pass, found, *hash;
    kl_zone_node_t *node;
    kl_zone_hash_t  tree;
    kl_slab_pool_t *pool;
    static u_char   keys[100000 * 8 + 8];
    static uint16_t lens[100001];
    static uint32_t offs[100001];

    if (argc != 3 || (n = strtoul(argv[1], NULL, 10)) < 1 || n > 100000
        || (m = strtoul(argv[2], NULL, 10)) < 1)
    {
        fprintf(stderr, "usage: zone_lookup N(1..100000) LOOKUPS\n");
        return 2;
    }

    size = n * 256 + 64 * KL_SLAB_PAGE_SIZE;
    mem = aligned_alloc(KL_SLAB_PAGE_SIZE, size);
    hash = malloc(sizeof(kl_uint_t) * (n + 1));
    pick = malloc(sizeof(uint32_t) * m);
    if (mem == NULL || hash == NULL || pick == NULL) {
        perror("malloc");
        return 1;
    }

    pool = kl_slab_init(mem, size);
    if (pool == NULL) {
        fprintf(stderr, "zone_lookup: kl_slab_init failed\n");
        return 1;
    }

    /* As limit_req sizes it: one bucket per 64 bytes of the zone. */
    if (kl_zone_hash_init(&tree, pool, 0, 64) != KL_OK) {
        fprintf(stderr, "zone_lookup: no room for the buckets\n");
        return 1;
    }


    /* The states alone: t/bench/limits adds the buckets' share. */
    used = pool->free_pages;

    for (i = 1, offs[0] = 0; i <= n; i++) {
        offs[i] = offs[i - 1] + lens[i - 1];
        lens[i] = (uint16_t) snprintf((char *) keys + offs[i], 8, "k%lu",
                                      (unsigned long) i);
        hash[i] = zl_hash(keys + offs[i], lens[i]);

        if (kl_zone_hash_insert(&tree, pool, hash[i], keys + offs[i], lens[i],
                                sizeof(zl_bucket_t))
            == NULL)
        {
            fprintf(stderr, "zone_lookup: the pool is full at %lu\n",
                    (unsigned long) i);
            return 1;
        }
    }

    used = (used - pool->free_pages) * KL_SLAB_PAGE_SIZE;

    for (i = 0, seed = 12345; i < m; i++) {
        seed = seed * 1103515245 + 12345;
        pick[i] = 1 + (seed >> 8) % n;
    }

    best = 0;

    for (pass = 0; pass < ZL_PASSES; pass++) {
        found = 0;
        t0 = zl_cpu_ns();

        for (i = 0; i < m; i++) {
            node = kl_zone_hash_lookup(&tree, hash[pick[i]],
                                       keys + offs[pick[i]], lens[pick[i]]);
            if (node != NULL) {
                kl_zone_hash_touch(&tree, node);
                found++;
            }
        }

        t = zl_cpu_ns() - t0;

        if (found != m) {
            fprintf(stderr, "zone_lookup: %lu of %lu found\n",
                    (unsigned long) found, (unsigned long) m);
            return 1;
        }

        if (pass == 0 || t < best) {
            best = t;
        }
    }

    printf("ns/lookup %.1f\nzone_bytes %lu\n", best / m, (unsigned long) used);

    return 0;
}
