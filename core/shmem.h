/* shmem.h: shared memory: anonymous shared mappings, and the cycle's named zones. */

#ifndef KL_SHMEM_H
#define KL_SHMEM_H

#include "kl_config.h"
#include "kl_types.h"
#include "string.h"
#include "shmtx.h"

/*
 * A mapping is memory every process forked after kl_shm_alloc() sees at
 * the same address: the master maps it, the workers inherit the mapping.
 * There is no file behind it, so it cannot be reattached by name: it
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

/* Unmap a mapping in this process only; addr is NULL afterwards. */
void kl_shm_free(kl_shm_t *shm);


typedef struct kl_shm_zone_s kl_shm_zone_t;

/*
 * The owner's hook, called in the master once the zone is mapped:
 * old_data is the previous cycle's zone->data when a reload kept the
 * zone (its memory is then as the old workers left it), NULL for fresh
 * zeroed memory. It sets zone->data. KL_OK, or KL_ERROR (logged) to
 * fail the cycle.
 */
typedef kl_int_t (*kl_shm_zone_init_pt)(kl_shm_zone_t *zone, void *old_data);

/*
 * A named zone of the cycle. A module registers it while the
 * configuration is read and sets init and data; the cycle maps it before
 * the workers are forked. The first KL_SHM_ZONE_HEADER bytes hold the
 * zone's lock (mutex); the owner has the rest, kl_shm_zone_start() on.
 */
struct kl_shm_zone_s {
    void               *data; /* the owner's; kept across a reload */
    kl_shm_t            shm;  /* name, size (the whole mapping), addr */
    kl_shmtx_t          mutex;
    kl_shm_zone_init_pt init;
    void               *tag;            /* the owner (a module's address) */
    kl_shm_zone_t      *old;            /* the previous cycle's, while reused */
    unsigned            reused:1;       /* mapped by the previous cycle */
    unsigned            remain:1;       /* taken over by the next cycle */
    unsigned            quiet_unlock:1; /* a dead holder is no news */
    unsigned            noreuse:1;      /* a reload maps it afresh */
};

/* The lock word alone on its cache lines (two: adjacent-line prefetch). */
#define KL_SHM_ZONE_HEADER 128

#define kl_shm_zone_start(zone) ((zone)->shm.addr + KL_SHM_ZONE_HEADER)
#define kl_shm_zone_end(zone)   ((zone)->shm.addr + (zone)->shm.size)

/*
 * The zone name of cf's cycle, registered with size bytes (the header
 * included) for tag: the existing zone when name is already registered
 * with the same tag and size, or size 0 (a reference to a zone declared
 * elsewhere, whose size comes with its declaration). NULL on a conflict
 * (logged in nginx's words with the file and line) or no memory.
 */
kl_shm_zone_t *kl_shm_zone_add(kl_conf_t *cf, kl_str_t *name, size_t size,
                               void *tag);

/* The same for a core module's init_conf, which has no file and line. */
kl_shm_zone_t *kl_shm_zone_add_cycle(kl_cycle_t *cycle, kl_str_t *name,
                                     size_t size, void *tag);

/*
 * Map cycle's zones and run their init hooks: a zone of old with the
 * same name, tag and size is reused with its data; the same name and tag
 * with another size is refused. KL_ERROR is logged; kl_shm_zones_free
 * then unmaps what this call mapped.
 */
kl_int_t kl_shm_zones_map(kl_cycle_t *cycle, kl_cycle_t *old);

/* cycle is in force: the zones it reused now outlive the old cycle. */
void kl_shm_zones_keep(kl_cycle_t *cycle);

/* Unmap, in this process, the zones of cycle no other cycle holds. */
void kl_shm_zones_free(kl_cycle_t *cycle);

/* The master reaped pid: release every zone lock it died holding. */
void kl_shm_zones_unlock(kl_cycle_t *cycle, pid_t pid);

#endif /* KL_SHMEM_H */
