/* test_metrics_store.c: modules/metrics/metrics_store.c: slots found and made by key, a full table, the time buckets. */

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kl_core.h"
#include "shmem.h"
#include "shmtx.h"
#include "metrics.h"


static kl_http_metrics_table_t *
t_table(kl_uint_t nslots)
{
    size_t size;
    void  *mem;

    size = sizeof(kl_http_metrics_table_t)
           + nslots * sizeof(kl_http_metrics_slot_t);
    mem = calloc(1, size);
    cr_assert_not_null(mem);

    return kl_http_metrics_table_init(mem, size);
}


Test(metrics_store, too_small)
{
    u_char mem[sizeof(kl_http_metrics_table_t) + 8];

    cr_assert_null(kl_http_metrics_table_init(mem, sizeof(mem)));
}


Test(metrics_store, same_key_same_slot)
{
    kl_http_metrics_table_t *t;
    kl_http_metrics_slot_t  *a, *b, *c;

    t = t_table(16);
    cr_assert_eq(t->nslots, 16);

    a = kl_http_metrics_slot(t, NULL, KL_HTTP_METRICS_SERVER,
                             (u_char *) "example", 7);
    b = kl_http_metrics_slot(t, NULL, KL_HTTP_METRICS_SERVER,
                             (u_char *) "example", 7);
    cr_assert_not_null(a);
    cr_assert_eq(a, b);

    /* another kind, the same bytes: another slot */
    c = kl_http_metrics_slot(t, NULL, KL_HTTP_METRICS_LIMIT_REQ,
                             (u_char *) "example", 7);
    cr_assert_neq(a, c);

    /* a prefix is another key */
    c = kl_http_metrics_slot(t, NULL, KL_HTTP_METRICS_SERVER,
                             (u_char *) "exampl", 6);
    cr_assert_neq(a, c);

    /* the empty server name */
    c = kl_http_metrics_slot(t, NULL, KL_HTTP_METRICS_SERVER, (u_char *) "", 0);
    cr_assert_not_null(c);
    cr_assert_eq(c->len, 0);

    cr_assert_eq(a->state, KL_HTTP_METRICS_READY);
    cr_assert_eq(a->len, 7);
    cr_assert(memcmp(a->key, "example", 7) == 0);

    free(t);
}


Test(metrics_store, full_table_drops)
{
    char                     key[16];
    kl_uint_t                i;
    kl_http_metrics_table_t *t;
    kl_http_metrics_slot_t  *s;

    t = t_table(4);

    for (i = 0; i < 4; i++) {
        snprintf(key, sizeof(key), "k%u", (unsigned) i);
        cr_assert_not_null(kl_http_metrics_slot(t, NULL, KL_HTTP_METRICS_SERVER,
                                                (u_char *) key, strlen(key)));
    }

    s = kl_http_metrics_slot(t, NULL, KL_HTTP_METRICS_SERVER, (u_char *) "k9",
                             2);
    cr_assert_null(s);
    cr_assert_eq(t->dropped, 1);

    /* the ones made are still found when full */
    for (i = 0; i < 4; i++) {
        snprintf(key, sizeof(key), "k%u", (unsigned) i);
        s = kl_http_metrics_slot(t, NULL, KL_HTTP_METRICS_SERVER,
                                 (u_char *) key, strlen(key));
        cr_assert_not_null(s);
        cr_assert_eq(s->len, strlen(key));
    }

    cr_assert_eq(t->dropped, 1);

    free(t);
}


Test(metrics_store, long_key_cut)
{
    u_char                   key[KL_HTTP_METRICS_KEY_MAX + 50];
    kl_http_metrics_table_t *t;
    kl_http_metrics_slot_t  *a, *b;

    t = t_table(8);
    memset(key, 'x', sizeof(key));

    a = kl_http_metrics_slot(t, NULL, KL_HTTP_METRICS_PEER, key, sizeof(key));
    b = kl_http_metrics_slot(t, NULL, KL_HTTP_METRICS_PEER, key,
                             KL_HTTP_METRICS_KEY_MAX);
    cr_assert_not_null(a);
    cr_assert_eq(a, b);
    cr_assert_eq(a->len, KL_HTTP_METRICS_KEY_MAX);

    free(t);
}


Test(metrics_store, buckets)
{
    cr_assert_eq(kl_http_metrics_bucket(0), 0);
    cr_assert_eq(kl_http_metrics_bucket(5), 0);
    cr_assert_eq(kl_http_metrics_bucket(6), 1);
    cr_assert_eq(kl_http_metrics_bucket(1000), 7);
    cr_assert_eq(kl_http_metrics_bucket(10000), KL_HTTP_METRICS_NBOUNDS - 1);
    cr_assert_eq(kl_http_metrics_bucket(10001), KL_HTTP_METRICS_NBOUNDS);
    cr_assert_eq(kl_http_metrics_bound(0), 5);
    cr_assert_eq(kl_http_metrics_bound(KL_HTTP_METRICS_NBOUNDS - 1), 10000);
}


#define T_CHILDREN 4
#define T_ROUNDS   4000
#define T_KEYS     50

/*
 * Workers making and counting the same keys at once: each key gets one
 * slot, and no count is lost (the lock-free lookup, the locked make).
 */
Test(metrics_store, workers_share_slots)
{
    char                     key[16];
    pid_t                    pid;
    size_t                   size;
    uint64_t                 total;
    kl_uint_t                i, ready, c;
    kl_shm_t                 shm;
    kl_shmtx_t               mtx;
    kl_http_metrics_table_t *t;
    kl_http_metrics_slot_t  *s;
    int                      status;

    size = KL_SHM_ZONE_HEADER + sizeof(kl_http_metrics_table_t)
           + 256 * sizeof(kl_http_metrics_slot_t);
    shm.size = size;
    cr_assert_eq(kl_shm_alloc(&shm), KL_OK);

    kl_shmtx_init(&mtx, (kl_shmtx_sh_t *) shm.addr);
    t = kl_http_metrics_table_init(shm.addr + KL_SHM_ZONE_HEADER,
                                   size - KL_SHM_ZONE_HEADER);
    cr_assert_not_null(t);

    for (c = 0; c < T_CHILDREN; c++) {
        pid = fork();
        cr_assert_neq(pid, -1);

        if (pid == 0) {
            kl_loop.pid = getpid();

            for (i = 0; i < T_ROUNDS; i++) {
                snprintf(key, sizeof(key), "k%u", (unsigned) (i % T_KEYS));
                s = kl_http_metrics_slot(t, &mtx, KL_HTTP_METRICS_SERVER,
                                         (u_char *) key, strlen(key));
                if (s == NULL) {
                    _exit(1);
                }

                __atomic_fetch_add(&s->n[0], 1, __ATOMIC_RELAXED);
            }

            _exit(0);
        }
    }

    for (c = 0; c < T_CHILDREN; c++) {
        cr_assert_neq(wait(&status), -1);
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }

    ready = 0;
    total = 0;

    for (i = 0; i < t->nslots; i++) {
        if (t->slots[i].state != KL_HTTP_METRICS_READY) {
            continue;
        }

        ready++;
        total += t->slots[i].n[0];
        cr_assert_eq(t->slots[i].n[0], T_CHILDREN * T_ROUNDS / T_KEYS);
    }

    cr_assert_eq(ready, T_KEYS, "each key made once");
    cr_assert_eq(total, (uint64_t) T_CHILDREN * T_ROUNDS);
    cr_assert_eq(t->dropped, 0);

    kl_shm_free(&shm);
}
