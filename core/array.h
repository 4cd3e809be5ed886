/* array.h: pool-backed growable arrays of fixed-size elements. */

#ifndef KL_ARRAY_H
#define KL_ARRAY_H

#include "kl_config.h"
#include "kl_types.h"

struct kl_array_s {
    void      *elts;
    kl_uint_t  nelts;
    size_t     size;
    kl_uint_t  nalloc;
    kl_pool_t *pool;
};

/* A new array with room for n elements of size bytes; NULL on failure. */
kl_array_t *kl_array_create(kl_pool_t *p, kl_uint_t n, size_t size);

/* Initialise an array embedded elsewhere; KL_OK or KL_ERROR. */
kl_int_t kl_array_init(kl_array_t *array, kl_pool_t *pool, kl_uint_t n,
                       size_t size);

/* Room for one (n) more element(s) at the end; doubles on growth. NULL on failure. */
void *kl_array_push(kl_array_t *a);
void *kl_array_push_n(kl_array_t *a, kl_uint_t n);

#endif /* KL_ARRAY_H */
