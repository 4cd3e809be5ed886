/* test_array.c: array creation, push, push_n, growth in place and by copy. */

#include <criterion/criterion.h>

#include "kl_config.h"
#include "kl_types.h"
#include "pool.h"
#include "array.h"


Test(array, push_keeps_values_across_growth)
{
    kl_pool_t  *pool;
    kl_array_t *a;
    kl_uint_t   i, *v, *elts;

    pool = kl_pool_create(KL_DEFAULT_POOL_SIZE, NULL);
    cr_assert_not_null(pool);

    a = kl_array_create(pool, 2, sizeof(kl_uint_t));
    cr_assert_not_null(a);
    cr_assert_eq(a->nelts, 0);
    cr_assert_eq(a->nalloc, 2);
    cr_assert_eq(a->size, sizeof(kl_uint_t));

    for (i = 0; i < 10000; i++) {
        v = kl_array_push(a);
        cr_assert_not_null(v);
        *v = i * 3;
    }

    cr_assert_eq(a->nelts, 10000);
    cr_assert_geq(a->nalloc, a->nelts);

    elts = a->elts;
    for (i = 0; i < 10000; i++) {
        cr_assert_eq(elts[i], i * 3);
    }

    kl_pool_free(pool);
}


Test(array, grows_in_place_when_last_in_pool)
{
    kl_pool_t *pool;
    kl_array_t a;
    void      *elts;

    pool = kl_pool_create(KL_DEFAULT_POOL_SIZE, NULL);
    cr_assert_eq(kl_array_init(&a, pool, 4, 8), KL_OK);
    elts = a.elts;

    cr_assert_not_null(kl_array_push_n(&a, 4));
    cr_assert_not_null(kl_array_push(&a));
    cr_assert_eq(a.elts, elts, "the array was last in the pool");
    cr_assert_eq(a.nalloc, 5);
    cr_assert_eq(a.nelts, 5);

    /* something allocated after the array forces a move */
    cr_assert_not_null(kl_palloc(pool, 8));
    cr_assert_not_null(kl_array_push(&a));
    cr_assert_neq(a.elts, elts);
    cr_assert_eq(a.nalloc, 10);
    cr_assert_eq(a.nelts, 6);

    kl_pool_free(pool);
}


Test(array, push_n_and_zero_capacity)
{
    kl_pool_t  *pool;
    kl_array_t *a;
    int        *v;
    kl_uint_t   i;

    pool = kl_pool_create(1024, NULL);

    a = kl_array_create(pool, 0, sizeof(int));
    cr_assert_not_null(a);

    v = kl_array_push(a);
    cr_assert_not_null(v);
    *v = 7;

    v = kl_array_push_n(a, 1000);
    cr_assert_not_null(v);
    for (i = 0; i < 1000; i++) {
        v[i] = (int) i;
    }

    cr_assert_eq(a->nelts, 1001);
    cr_assert_eq(((int *) a->elts)[0], 7);
    cr_assert_eq(((int *) a->elts)[1000], 999);

    cr_assert_null(kl_array_push_n(a, SIZE_MAX / 2));

    kl_pool_free(pool);
}


Test(array, init_rejects_overflow)
{
    kl_pool_t *pool;
    kl_array_t a;

    pool = kl_pool_create(1024, NULL);
    cr_assert_eq(kl_array_init(&a, pool, SIZE_MAX / 2, 16), KL_ERROR);
    kl_pool_free(pool);
}
