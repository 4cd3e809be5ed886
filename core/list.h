/* list.h: pool-backed lists of fixed-size parts; element addresses never move. */

#ifndef KL_LIST_H
#define KL_LIST_H

#include "kl_config.h"
#include "kl_types.h"

typedef struct kl_list_part_s kl_list_part_t;

struct kl_list_part_s {
    void           *elts;
    kl_uint_t       nelts;
    kl_list_part_t *next;
};

struct kl_list_s {
    kl_list_part_t *last;
    kl_list_part_t  part;
    size_t          size;
    kl_uint_t       nalloc;
    kl_pool_t      *pool;
};

kl_list_t *kl_list_create(kl_pool_t *pool, kl_uint_t n, size_t size);
kl_int_t   kl_list_init(kl_list_t *list, kl_pool_t *pool, kl_uint_t n,
                        size_t size);

/* Room for one more element; a new part is added when the last is full. */
void *kl_list_push(kl_list_t *list);

#endif /* KL_LIST_H */
