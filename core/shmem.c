/*
 * shmem.c: shared memory zones.
 *
 * MAP_SHARED|MAP_ANONYMOUS, as nginx does on Linux: no file, no name in
 * /dev/shm to clean up after a crash, and the kernel frees the pages when
 * the last process holding the mapping exits. The price is that only
 * children forked after the mapping share it, which is exactly the
 * master-then-fork order kiln already has.
 */

#include "kl_config.h"
#include "kl_types.h"
#include "shmem.h"

#include <sys/mman.h>


kl_int_t
kl_shm_alloc(kl_shm_t *shm)
{
    void *p;

    if (shm->size == 0) {
        errno = EINVAL;
        return KL_ERROR;
    }

    p = mmap(NULL, shm->size, PROT_READ | PROT_WRITE,
             MAP_ANONYMOUS | MAP_SHARED, -1, 0);

    if (p == MAP_FAILED) {
        return KL_ERROR;
    }

    shm->addr = p;

    return KL_OK;
}


void
kl_shm_free(kl_shm_t *shm)
{
    if (shm->addr == NULL) {
        return;
    }

    (void) munmap(shm->addr, shm->size);
    shm->addr = NULL;
}
