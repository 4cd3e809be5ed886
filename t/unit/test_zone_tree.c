/*
 * test_zone_tree.c: keyed state in a slab pool: lookup by hash and key
 * (colliding hashes too), insert, delete, the LRU order, expiry of the
 * oldest with and without a predicate, a full pool, a random run
 * against a shadow table, and many keys on a bad hash (long chains).
 */

#include <criterion/criterion.h>

#include <stdlib.h>

#include "kl_core.h"
#include "zone_tree.h"

#define ARENA (32 * KL_SLAB_PAGE_SIZE)

static u_char         *arena;
static kl_slab_pool_t *pool;
static kl_zone_hash_t *tree;


static void
setup(void)
{
    cr_assert_eq(posix_memalign((void **) &arena, KL_SLAB_PAGE_SIZE, ARENA), 0);
    pool = kl_slab_init(arena, ARENA);
    cr_assert_not_null(pool);

    tree = kl_slab_alloc(pool, sizeof(kl_zone_hash_t));
    cr_assert_not_null(tree);
    cr_assert_eq(kl_zone_hash_init(tree, pool, 0, 128), KL_OK);
    pool->data = tree;
}


static void
teardown(void)
{
    free(arena);
}


TestSuite(zone_tree, .init = setup, .fini = teardown);


static kl_zone_node_t *
add(const char *key, kl_uint_t hash)
{
    return kl_zone_hash_insert(tree, pool, hash, (u_char *) key, strlen(key),
                               sizeof(kl_uint_t));
}


static kl_zone_node_t *
find(const char *key, kl_uint_t hash)
{
    return kl_zone_hash_lookup(tree, hash, (u_char *) key, strlen(key));
}


Test(zone_tree, insert_lookup_delete)
{
    kl_zone_node_t *a, *b;

    cr_assert_null(find("a", 1));

    a = add("alpha", 1);
    b = add("beta", 2);
    cr_assert_not_null(a);
    cr_assert_eq(*(kl_uint_t *) kl_zone_node_value(a), 0, "value zeroed");
    cr_assert_eq(memcmp(kl_zone_node_key(a), "alpha", 5), 0);
    cr_assert_eq((uintptr_t) kl_zone_node_value(a) % 8, 0);

    cr_assert_eq(find("alpha", 1), a);
    cr_assert_eq(find("beta", 2), b);
    cr_assert_null(find("alpha", 2), "the hash is part of the key");
    cr_assert_null(find("alph", 1));
    cr_assert_null(find("alphaa", 1));
    cr_assert_eq(tree->count, 2);

    kl_zone_hash_delete(tree, pool, a);
    cr_assert_null(find("alpha", 1));
    cr_assert_eq(find("beta", 2), b);
    cr_assert_eq(tree->count, 1);
}


Test(zone_tree, colliding_hashes_are_told_apart_by_key)
{
    kl_uint_t       i;
    char            key[16];
    kl_zone_node_t *n[50];

    for (i = 0; i < 50; i++) {
        snprintf(key, sizeof(key), "k%u", (unsigned) i);
        n[i] = add(key, 7);
        cr_assert_not_null(n[i]);
        *(kl_uint_t *) kl_zone_node_value(n[i]) = i;
    }

    for (i = 0; i < 50; i++) {
        snprintf(key, sizeof(key), "k%u", (unsigned) i);
        cr_assert_eq(find(key, 7), n[i], "%s", key);
    }

    for (i = 0; i < 50; i += 2) {
        kl_zone_hash_delete(tree, pool, n[i]);
    }

    for (i = 0; i < 50; i++) {
        snprintf(key, sizeof(key), "k%u", (unsigned) i);
        cr_assert_eq(find(key, 7), (i % 2) ? n[i] : NULL, "%s", key);
    }
}


Test(zone_tree, lru_order_touch_and_expire)
{
    kl_zone_node_t *a, *b, *c;

    a = add("a", 1);
    b = add("b", 2);
    c = add("c", 3);

    /* Oldest first: a, b, c; a used again: b, c, a. */
    kl_zone_hash_touch(tree, a);

    cr_assert_eq(kl_zone_hash_expire(tree, pool, 1, NULL, NULL), 1);
    cr_assert_null(find("b", 2), "the least recently used went");
    cr_assert_eq(find("a", 1), a);
    cr_assert_eq(find("c", 3), c);

    cr_assert_eq(kl_zone_hash_expire(tree, pool, 5, NULL, NULL), 2);
    cr_assert_eq(tree->count, 0);
    cr_assert(kl_queue_empty(&tree->lru));
    cr_assert_eq(kl_zone_hash_expire(tree, pool, 1, NULL, NULL), 0);
    (void) b;
}


static kl_uint_t
older_than(kl_zone_node_t *node, void *ctx)
{
    return *(kl_uint_t *) kl_zone_node_value(node) < *(kl_uint_t *) ctx;
}


Test(zone_tree, expire_stops_at_the_first_node_kept)
{
    kl_uint_t       i, limit;
    char            key[16];
    kl_zone_node_t *n;

    for (i = 0; i < 10; i++) {
        snprintf(key, sizeof(key), "%u", (unsigned) i);
        n = add(key, i);
        *(kl_uint_t *) kl_zone_node_value(n) = i; /* a "last seen" time */
    }

    limit = 4;
    cr_assert_eq(kl_zone_hash_expire(tree, pool, 100, older_than, &limit), 4);
    cr_assert_eq(tree->count, 6);
    cr_assert_null(find("3", 3));
    cr_assert_not_null(find("4", 4));
}


Test(zone_tree, a_full_pool_then_expire_and_retry)
{
    kl_uint_t       i, free_pages;
    char            key[32];
    kl_zone_node_t *n;

    free_pages = pool->free_pages;

    for (i = 0;; i++) {
        snprintf(key, sizeof(key), "client-%u", (unsigned) i);
        if (add(key, i) == NULL) {
            break;
        }
    }

    cr_assert_gt(i, 900, "only %u nodes", (unsigned) i);
    cr_assert_eq(tree->count, i);

    cr_assert_eq(kl_zone_hash_expire(tree, pool, 1, NULL, NULL), 1);
    n = add(key, i);
    cr_assert_not_null(n, "room made by the oldest");
    cr_assert_null(find("client-0", 0));

    cr_assert_eq(kl_zone_hash_expire(tree, pool, (kl_uint_t) -1, NULL, NULL),
                 i);
    cr_assert_eq(pool->free_pages, free_pages, "every node freed");

    cr_assert_null(kl_zone_hash_insert(tree, pool, 1, (u_char *) key, 70000, 8),
                   "a key over 65535 bytes");
}


Test(zone_tree, random_run_against_a_shadow_table)
{
    kl_uint_t       i, k, round;
    char            key[16];
    kl_zone_node_t *shadow[300], *n;

    kl_memzero(shadow, sizeof(shadow));
    srandom(7);

    for (round = 0; round < 20000; round++) {
        k = (kl_uint_t) random() % 300;
        snprintf(key, sizeof(key), "key%u", (unsigned) k);

        /* A small hash range: many collisions. */
        n = find(key, k % 17);
        cr_assert_eq(n, shadow[k], "round %u, %s", round, key);

        if (n == NULL) {
            shadow[k] = add(key, k % 17);
            cr_assert_not_null(shadow[k]);
            *(kl_uint_t *) kl_zone_node_value(shadow[k]) = k;

        } else if (random() % 2) {
            cr_assert_eq(*(kl_uint_t *) kl_zone_node_value(n), k);
            kl_zone_hash_delete(tree, pool, n);
            shadow[k] = NULL;

        } else {
            kl_zone_hash_touch(tree, n);
        }
    }

    for (i = 0, k = 0; i < 300; i++) {
        k += shadow[i] != NULL;
    }

    cr_assert_eq(tree->count, k);
}


/* A hash that gives every key one of 3 values: long chains, all found. */
static kl_uint_t
bad_hash(kl_uint_t i)
{
    return i % 3;
}


Test(zone_tree, many_keys_with_a_bad_hash)
{
    kl_uint_t              i;
    char                   key[16];
    static kl_zone_node_t *n[600];

    for (i = 0; i < 600; i++) {
        snprintf(key, sizeof(key), "many%u", (unsigned) i);
        n[i] = add(key, bad_hash(i));
        cr_assert_not_null(n[i], "%s", key);
    }

    cr_assert_eq(tree->count, 600);

    for (i = 0; i < 600; i++) {
        snprintf(key, sizeof(key), "many%u", (unsigned) i);
        cr_assert_eq(find(key, bad_hash(i)), n[i], "%s", key);
        cr_assert_null(find(key, bad_hash(i) + 3), "%s, another hash", key);
    }

    /* Unlink from the middle, the head and the tail of the chains. */
    for (i = 0; i < 600; i += 3) {
        kl_zone_hash_delete(tree, pool, n[i]);
    }

    for (i = 0; i < 600; i++) {
        snprintf(key, sizeof(key), "many%u", (unsigned) i);
        cr_assert_eq(find(key, bad_hash(i)), (i % 3) ? n[i] : NULL, "%s", key);
    }

    cr_assert_eq(kl_zone_hash_expire(tree, pool, (kl_uint_t) -1, NULL, NULL),
                 400);
    cr_assert_eq(tree->count, 0);
}
