/* test_list.c: list parts fill in order and elements never move. */

#include <criterion/criterion.h>

#include "kl_config.h"
#include "kl_types.h"
#include "pool.h"
#include "list.h"


Test(list, push_fills_parts_and_keeps_addresses)
{
    kl_pool_t      *pool;
    kl_list_t      *list;
    kl_list_part_t *part;
    int            *v, *addr[1000], *elts;
    kl_uint_t       i, n, parts;

    pool = kl_pool_create(1024, NULL);
    cr_assert_not_null(pool);

    list = kl_list_create(pool, 8, sizeof(int));
    cr_assert_not_null(list);
    cr_assert_eq(list->last, &list->part);

    for (i = 0; i < 1000; i++) {
        v = kl_list_push(list);
        cr_assert_not_null(v);
        *v = (int) i;
        addr[i] = v;
    }

    /* walk the list the way callers do and check order and addresses */
    n = 0;
    parts = 0;

    for (part = &list->part; part; part = part->next) {
        parts++;
        cr_assert_leq(part->nelts, list->nalloc);
        elts = part->elts;

        for (i = 0; i < part->nelts; i++) {
            cr_assert_eq(elts[i], (int) n);
            cr_assert_eq(&elts[i], addr[n]);
            n++;
        }
    }

    cr_assert_eq(n, 1000);
    cr_assert_eq(parts, 125);
    cr_assert_eq(list->last->nelts, 8);

    kl_pool_free(pool);
}


Test(list, init_embedded)
{
    kl_pool_t *pool;
    kl_list_t  list;
    char      *c;

    pool = kl_pool_create(1024, NULL);

    cr_assert_eq(kl_list_init(&list, pool, 1, 1), KL_OK);
    c = kl_list_push(&list);
    *c = 'a';
    c = kl_list_push(&list);
    *c = 'b';

    cr_assert_eq(list.part.nelts, 1);
    cr_assert_not_null(list.part.next);
    cr_assert_eq(*(char *) list.part.elts, 'a');
    cr_assert_eq(*(char *) list.part.next->elts, 'b');

    cr_assert_eq(kl_list_init(&list, pool, 0, 4), KL_ERROR);

    kl_pool_free(pool);
}
