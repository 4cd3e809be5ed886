/*
 * shmem.c: shared memory mappings, and the cycle's named zones.
 *
 * MAP_SHARED|MAP_ANONYMOUS, as nginx does on Linux: no file, no name in
 * /dev/shm to clean up after a crash, and the kernel frees the pages when
 * the last process holding the mapping exits. The price is that only
 * children forked after the mapping share it, which is exactly the
 * master-then-fork order kiln already has.
 *
 * Zones are registered on the cycle while its configuration is read and
 * mapped by the master once the whole configuration is good, before any
 * worker of the cycle is forked. A reload keeps a zone whose name, owner
 * and size are unchanged: the new cycle's zone points at the same memory
 * and its init hook gets the old data, so counters and keyed state live
 * on across reloads and through the old and new workers alike. Only the
 * master unmaps, and only in itself: workers keep their mappings until
 * they exit, so an old worker finishing its requests after a reload
 * still sees a zone the new configuration dropped.
 */

#include "kl_core.h"
#include "shmem.h"

#include <sys/mman.h>


static kl_int_t       kl_shm_zone_lookup(kl_cycle_t *cycle, kl_str_t *name,
                                         size_t size, void *tag,
                                         kl_shm_zone_t **found);
static kl_shm_zone_t *kl_shm_zone_find(kl_cycle_t *cycle, kl_str_t *name);
static kl_int_t       kl_shm_zone_map(kl_cycle_t *cycle, kl_shm_zone_t *zone,
                                      kl_cycle_t *old);


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


kl_shm_zone_t *
kl_shm_zone_add(kl_conf_t *cf, kl_str_t *name, size_t size, void *tag)
{
    kl_int_t       rc;
    kl_shm_zone_t *zone;

    rc = kl_shm_zone_lookup(cf->cycle, name, size, tag, &zone);

    if (rc == KL_DECLINED) {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                          "the size %uz of shared memory zone \"%V\" "
                          "conflicts with already declared size %uz",
                          size, name, zone->shm.size);
        return NULL;
    }

    if (rc == KL_BUSY) {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                          "the shared memory zone \"%V\" is "
                          "already declared for a different use",
                          name);
        return NULL;
    }

    return rc == KL_OK ? zone : NULL;
}


kl_shm_zone_t *
kl_shm_zone_add_cycle(kl_cycle_t *cycle, kl_str_t *name, size_t size, void *tag)
{
    kl_int_t       rc;
    kl_shm_zone_t *zone;

    rc = kl_shm_zone_lookup(cycle, name, size, tag, &zone);

    if (rc == KL_DECLINED) {
        kl_log_error(KL_LOG_EMERG, cycle->log, 0,
                     "the size %uz of shared memory zone \"%V\" "
                     "conflicts with already declared size %uz",
                     size, name, zone->shm.size);
        return NULL;
    }

    if (rc == KL_BUSY) {
        kl_log_error(KL_LOG_EMERG, cycle->log, 0,
                     "the shared memory zone \"%V\" is "
                     "already declared for a different use",
                     name);
        return NULL;
    }

    return rc == KL_OK ? zone : NULL;
}


/*
 * KL_OK with *found the zone (new or existing), KL_DECLINED (another
 * size) or KL_BUSY (another owner) with *found the existing one, or
 * KL_ERROR (no memory).
 */
static kl_int_t
kl_shm_zone_lookup(kl_cycle_t *cycle, kl_str_t *name, size_t size, void *tag,
                   kl_shm_zone_t **found)
{
    kl_shm_zone_t *zone;

    zone = kl_shm_zone_find(cycle, name);
    *found = zone;

    if (zone != NULL) {
        if (zone->tag != tag) {
            return KL_BUSY;
        }

        if (size && zone->shm.size && size != zone->shm.size) {
            return KL_DECLINED;
        }

        if (size) {
            zone->shm.size = size;
        }

        return KL_OK;
    }

    zone = kl_list_push(&cycle->shm_zones);
    if (zone == NULL) {
        return KL_ERROR;
    }

    kl_memzero(zone, sizeof(kl_shm_zone_t));

    zone->shm.size = size;
    zone->shm.name.len = name->len;
    zone->shm.name.data = kl_pnalloc(cycle->pool, name->len);
    if (zone->shm.name.data == NULL) {
        return KL_ERROR;
    }

    kl_memcpy(zone->shm.name.data, name->data, name->len);
    zone->tag = tag;
    *found = zone;

    return KL_OK;
}


static kl_shm_zone_t *
kl_shm_zone_find(kl_cycle_t *cycle, kl_str_t *name)
{
    kl_uint_t       i;
    kl_list_part_t *part;
    kl_shm_zone_t  *zone;

    part = &cycle->shm_zones.part;
    zone = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                return NULL;
            }
            part = part->next;
            zone = part->elts;
            i = 0;
        }

        if (zone[i].shm.name.len == name->len
            && kl_strncmp(zone[i].shm.name.data, name->data, name->len) == 0)
        {
            return &zone[i];
        }
    }
}


kl_int_t
kl_shm_zones_map(kl_cycle_t *cycle, kl_cycle_t *old)
{
    kl_uint_t       i;
    kl_list_part_t *part;
    kl_shm_zone_t  *zone;

    part = &cycle->shm_zones.part;
    zone = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                return KL_OK;
            }
            part = part->next;
            zone = part->elts;
            i = 0;
        }

        if (kl_shm_zone_map(cycle, &zone[i], old) != KL_OK) {
            return KL_ERROR;
        }
    }
}


static kl_int_t
kl_shm_zone_map(kl_cycle_t *cycle, kl_shm_zone_t *zone, kl_cycle_t *old)
{
    void          *old_data;
    kl_shm_zone_t *oz;

    /* Declared by nobody, only referred to: the referrer says so. */
    if (zone->init == NULL) {
        return KL_OK;
    }

    if (zone->shm.size == 0) {
        kl_log_error(KL_LOG_EMERG, cycle->log, 0,
                     "zero size shared memory zone \"%V\"", &zone->shm.name);
        return KL_ERROR;
    }

    if (zone->shm.size <= KL_SHM_ZONE_HEADER) {
        kl_log_error(KL_LOG_EMERG, cycle->log, 0,
                     "shared memory zone \"%V\" is too small", &zone->shm.name);
        return KL_ERROR;
    }

    /* noreuse (an upstream zone): the old workers keep the old one */
    oz = zone->noreuse ? NULL : kl_shm_zone_find(old, &zone->shm.name);

    /*
     * nginx maps a fresh zone when the size changed and the state is
     * lost without a word; the reload is refused instead, and the old
     * configuration keeps serving with its zone (docs/modules.md).
     */
    if (oz != NULL && oz->shm.addr != NULL && oz->tag == zone->tag
        && oz->shm.size != zone->shm.size)
    {
        kl_log_error(KL_LOG_EMERG, cycle->log, 0,
                     "the size %uz of shared memory zone \"%V\" "
                     "conflicts with already declared size %uz",
                     zone->shm.size, &zone->shm.name, oz->shm.size);
        return KL_ERROR;
    }

    old_data = NULL;

    if (oz != NULL && oz->shm.addr != NULL && oz->tag == zone->tag) {
        zone->shm.addr = oz->shm.addr;
        zone->old = oz;
        zone->reused = 1;
        old_data = oz->data;

    } else if (kl_shm_alloc(&zone->shm) != KL_OK) {
        kl_log_error(KL_LOG_EMERG, cycle->log, errno,
                     "mmap(MAP_ANONYMOUS|MAP_SHARED, %uz) "
                     "for zone \"%V\" failed",
                     zone->shm.size, &zone->shm.name);
        return KL_ERROR;
    }

    kl_shmtx_init(&zone->mutex, (kl_shmtx_sh_t *) zone->shm.addr);

    return zone->init(zone, old_data);
}


void
kl_shm_zones_keep(kl_cycle_t *cycle)
{
    kl_uint_t       i;
    kl_list_part_t *part;
    kl_shm_zone_t  *zone;

    for (part = &cycle->shm_zones.part; part; part = part->next) {
        zone = part->elts;

        for (i = 0; i < part->nelts; i++) {
            if (zone[i].reused) {
                zone[i].old->remain = 1;
                zone[i].old = NULL;
                zone[i].reused = 0;
            }
        }
    }
}


void
kl_shm_zones_free(kl_cycle_t *cycle)
{
    kl_uint_t       i;
    kl_list_part_t *part;
    kl_shm_zone_t  *zone;

    for (part = &cycle->shm_zones.part; part; part = part->next) {
        zone = part->elts;

        for (i = 0; i < part->nelts; i++) {
            /* reused: a failed cycle's borrowing, the old one's to unmap */
            if (!zone[i].remain && !zone[i].reused) {
                kl_shm_free(&zone[i].shm);
            }
        }
    }
}


void
kl_shm_zones_unlock(kl_cycle_t *cycle, pid_t pid)
{
    kl_uint_t       i;
    kl_list_part_t *part;
    kl_shm_zone_t  *zone;

    for (part = &cycle->shm_zones.part; part; part = part->next) {
        zone = part->elts;

        for (i = 0; i < part->nelts; i++) {
            if (zone[i].shm.addr != NULL
                && kl_shmtx_force_unlock(&zone[i].mutex, pid)
                && !zone[i].quiet_unlock)
            {
                kl_log_error(KL_LOG_ALERT, cycle->log, 0,
                             "shared memory zone \"%V\" was locked by %d",
                             &zone[i].shm.name, (int) pid);
            }
        }
    }
}
