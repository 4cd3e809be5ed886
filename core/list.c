/* list.c: pool-backed lists of fixed-size parts; elements never move. */

#include "kl_config.h"
#include "kl_types.h"
#include "pool.h"
#include "list.h"


kl_list_t *
kl_list_create(kl_pool_t *pool, kl_uint_t n, size_t size)
{
    kl_list_t *list;

    list = kl_palloc(pool, sizeof(kl_list_t));
    if (list == NULL) {
        return NULL;
    }

    if (kl_list_init(list, pool, n, size) != KL_OK) {
        return NULL;
    }

    return list;
}


kl_int_t
kl_list_init(kl_list_t *list, kl_pool_t *pool, kl_uint_t n, size_t size)
{
    /* a part of no elements could never take a push */
    if (n == 0 || (size && n > SIZE_MAX / size)) {
        return KL_ERROR;
    }

    list->part.elts = kl_palloc(pool, n * size);
    if (list->part.elts == NULL) {
        return KL_ERROR;
    }

    list->part.nelts = 0;
    list->part.next = NULL;
    list->last = &list->part;
    list->size = size;
    list->nalloc = n;
    list->pool = pool;

    return KL_OK;
}


void *
kl_list_push(kl_list_t *l)
{
    void           *elt;
    kl_list_part_t *last;

    last = l->last;

    if (last->nelts == l->nalloc) {

        last = kl_palloc(l->pool, sizeof(kl_list_part_t));
        if (last == NULL) {
            return NULL;
        }

        last->elts = kl_palloc(l->pool, l->nalloc * l->size);
        if (last->elts == NULL) {
            return NULL;
        }

        last->nelts = 0;
        last->next = NULL;

        l->last->next = last;
        l->last = last;
    }

    elt = (u_char *) last->elts + l->size * last->nelts;
    last->nelts++;

    return elt;
}
