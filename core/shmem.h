/* shmem.h: shared memory zones: anonymous shared mappings made before fork. */

#ifndef KL_SHMEM_H
#define KL_SHMEM_H

#include "kl_config.h"
#include "string.h"

/*
 * A zone is memory every process forked after kl_shm_alloc() sees at the
 * same address: the master maps it, the workers inherit the mapping.
 * There is no file behind it, so it cannot be reattached by name: a zone
 * lives as long as the processes that mapped it.
 */
typedef struct {
    u_char  *addr; /* NULL until allocated */
    size_t   size;
    kl_str_t name; /* for the caller's messages */
} kl_shm_t;

/*
 * Map shm->size zeroed bytes shared with future children. KL_OK, or
 * KL_ERROR with errno set (the caller logs: core helpers do not).
 */
kl_int_t kl_shm_alloc(kl_shm_t *shm);

/* Unmap a zone in this process only; addr is NULL afterwards. */
void kl_shm_free(kl_shm_t *shm);

#endif /* KL_SHMEM_H */
