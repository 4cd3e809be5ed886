/* metrics_store.c: the metrics counters table: slots found by hash without a lock, made under the zone's lock. */

/*
 * A reader probes from the key's hash until it finds the key or a free
 * slot. Slots are only ever made, never removed, and a slot's state is
 * stored READY (release) after its key: a reader that sees READY (acquire)
 * sees the whole key. A reader that reaches a FREE slot takes the lock
 * and probes again, making the slot if it is still missing, so two
 * workers never make the same key twice.
 */

#include "metrics.h"


static uint32_t  kl_http_metrics_hash(kl_uint_t kind, u_char *key, size_t len);
static kl_uint_t kl_http_metrics_match(kl_http_metrics_slot_t *s,
                                       kl_uint_t kind, uint32_t hash,
                                       u_char *key, size_t len);
static kl_http_metrics_slot_t *kl_http_metrics_make(kl_http_metrics_table_t *t,
                                                    kl_uint_t kind,
                                                    uint32_t hash, u_char *key,
                                                    size_t len);


static const kl_msec_t kl_http_metrics_bounds[KL_HTTP_METRICS_NBOUNDS] = {
    5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000,
};


kl_msec_t
kl_http_metrics_bound(kl_uint_t i)
{
    return kl_http_metrics_bounds[i];
}


kl_uint_t
kl_http_metrics_bucket(kl_msec_t ms)
{
    kl_uint_t i;

    for (i = 0; i < KL_HTTP_METRICS_NBOUNDS; i++) {
        if (ms <= kl_http_metrics_bounds[i]) {
            return i;
        }
    }

    return KL_HTTP_METRICS_NBOUNDS;
}


kl_http_metrics_table_t *
kl_http_metrics_table_init(void *addr, size_t size)
{
    kl_http_metrics_table_t *t;

    if (size < sizeof(kl_http_metrics_table_t) + sizeof(kl_http_metrics_slot_t))
    {
        return NULL;
    }

    t = addr;
    t->nslots = (size - sizeof(kl_http_metrics_table_t))
                / sizeof(kl_http_metrics_slot_t);

    return t;
}


kl_http_metrics_slot_t *
kl_http_metrics_slot(kl_http_metrics_table_t *t, kl_shmtx_t *mutex,
                     kl_uint_t kind, u_char *key, size_t len)
{
    uint32_t                hash;
    kl_uint_t               i, n;
    kl_http_metrics_slot_t *s;

    if (len > KL_HTTP_METRICS_KEY_MAX) {
        len = KL_HTTP_METRICS_KEY_MAX;
    }

    hash = kl_http_metrics_hash(kind, key, len);
    n = t->nslots;

    for (i = 0; i < n; i++) {
        s = &t->slots[(hash + i) % n];

        if (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE)
            == KL_HTTP_METRICS_FREE) {
            break;
        }

        if (kl_http_metrics_match(s, kind, hash, key, len)) {
            return s;
        }
    }

    if (mutex) {
        kl_shmtx_lock(mutex);
    }

    s = kl_http_metrics_make(t, kind, hash, key, len);

    if (mutex) {
        kl_shmtx_unlock(mutex);
    }

    if (s == NULL) {
        __atomic_fetch_add(&t->dropped, 1, __ATOMIC_RELAXED);
    }

    return s;
}


/* Under the lock: the slot, found again or made. NULL: the table is full. */
static kl_http_metrics_slot_t *
kl_http_metrics_make(kl_http_metrics_table_t *t, kl_uint_t kind, uint32_t hash,
                     u_char *key, size_t len)
{
    kl_uint_t               i, n;
    kl_http_metrics_slot_t *s;

    n = t->nslots;

    for (i = 0; i < n; i++) {
        s = &t->slots[(hash + i) % n];

        if (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE)
            == KL_HTTP_METRICS_FREE) {
            s->kind = (uint32_t) kind;
            s->hash = hash;
            s->len = (uint32_t) len;
            kl_memcpy(s->key, key, len);
            __atomic_store_n(&s->state, KL_HTTP_METRICS_READY,
                             __ATOMIC_RELEASE);
            return s;
        }

        if (kl_http_metrics_match(s, kind, hash, key, len)) {
            return s;
        }
    }

    return NULL;
}


static kl_uint_t
kl_http_metrics_match(kl_http_metrics_slot_t *s, kl_uint_t kind, uint32_t hash,
                      u_char *key, size_t len)
{
    return s->hash == hash && s->kind == kind && s->len == len
           && memcmp(s->key, key, len) == 0;
}


/* FNV-1a over the kind and the key: short keys, no attacker-chosen
 * collisions worth a keyed hash (the keys come from the configuration,
 * peer addresses and limit outcomes). */
static uint32_t
kl_http_metrics_hash(kl_uint_t kind, u_char *key, size_t len)
{
    size_t   i;
    uint32_t h;

    h = 2166136261u ^ (uint32_t) kind;
    h *= 16777619u;

    for (i = 0; i < len; i++) {
        h ^= key[i];
        h *= 16777619u;
    }

    return h;
}
