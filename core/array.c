/* array.c: pool-backed growable arrays that grow in place when they can. */

#include "kl_config.h"
#include "kl_types.h"
#include "string.h"
#include "pool.h"
#include "array.h"


kl_array_t *
kl_array_create(kl_pool_t *p, kl_uint_t n, size_t size)
{
    kl_array_t *a;

    a = kl_palloc(p, sizeof(kl_array_t));
    if (a == NULL) {
        return NULL;
    }

    if (kl_array_init(a, p, n, size) != KL_OK) {
        return NULL;
    }

    return a;
}


kl_int_t
kl_array_init(kl_array_t *array, kl_pool_t *pool, kl_uint_t n, size_t size)
{
    array->nelts = 0;
    array->size = size;
    array->nalloc = n;
    array->pool = pool;

    if (size && n > SIZE_MAX / size) {
        return KL_ERROR;
    }

    array->elts = kl_palloc(pool, n * size);
    if (array->elts == NULL) {
        return KL_ERROR;
    }

    return KL_OK;
}


void *
kl_array_push(kl_array_t *a)
{
    return kl_array_push_n(a, 1);
}


/*
 * When the elements end exactly where the pool's first block has its
 * free space, the array grows in place; otherwise it moves to a block of
 * twice the size and the old memory stays with the pool until it is freed.
 */
void *
kl_array_push_n(kl_array_t *a, kl_uint_t n)
{
    void      *elt, *new;
    size_t     size;
    kl_uint_t  nalloc;
    kl_pool_t *p;

    if (n > SIZE_MAX / (a->size ? a->size : 1) - a->nelts) {
        return NULL;
    }

    size = n * a->size;

    if (a->nelts + n > a->nalloc) {

        p = a->pool;

        if ((u_char *) a->elts + a->size * a->nalloc == p->d.last
            && a->nalloc != 0 && (size_t) (p->d.end - p->d.last) >= size)
        {
            p->d.last += size;
            a->nalloc += n;

        } else {
            nalloc = kl_max(n, a->nalloc);

            if (nalloc > SIZE_MAX / 2 / (a->size ? a->size : 1)) {
                return NULL;
            }

            nalloc *= 2;

            new = kl_palloc(p, nalloc * a->size);
            if (new == NULL) {
                return NULL;
            }

            if (a->nelts) {
                kl_memcpy(new, a->elts, a->nelts * a->size);
            }

            a->elts = new;
            a->nalloc = nalloc;
        }
    }

    elt = (u_char *) a->elts + a->size * a->nelts;
    a->nelts += n;

    return elt;
}
