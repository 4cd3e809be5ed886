/* metrics.h: the metrics module's counters table (a shared zone) and its Prometheus text writer. */

/*
 * The counters live in one shared zone as a table of label sets: a slot
 * per server name, per upstream peer, per limit outcome, each holding
 * its own 64-bit counters. A slot is found by hashing its kind and key
 * (the label values, NUL-separated) and probing linearly; once made it
 * is never moved or freed, so workers find it without a lock and count
 * with relaxed atomic adds. Only making a slot takes the zone's lock.
 * A reload that keeps the zone (same name and size) keeps the table.
 */

#ifndef KL_HTTP_METRICS_H
#define KL_HTTP_METRICS_H

#include "kl_core.h"

/* Label values longer than this (all of a key) are cut. */
#define KL_HTTP_METRICS_KEY_MAX 128

/* What a slot counts. */
#define KL_HTTP_METRICS_SERVER     1 /* key: server name */
#define KL_HTTP_METRICS_PEER       2 /* key: upstream NUL peer address */
#define KL_HTTP_METRICS_LIMIT_REQ  3 /* key: $limit_req_status */
#define KL_HTTP_METRICS_LIMIT_CONN 4 /* key: $limit_conn_status */

/* A server's counters: requests by status class (1xx..5xx, then any
 * other status), bytes, then the request time buckets. */
#define KL_HTTP_METRICS_CLASSES   6
#define KL_HTTP_METRICS_BYTES_IN  6
#define KL_HTTP_METRICS_BYTES_OUT 7
#define KL_HTTP_METRICS_BUCKET0   8 /* 11 bounds, then above the last */
#define KL_HTTP_METRICS_NBOUNDS   11
#define KL_HTTP_METRICS_TIME_SUM  20 /* ms */

/* A peer's counters. */
#define KL_HTTP_METRICS_PEER_REQUESTS 0
#define KL_HTTP_METRICS_PEER_FAILURES 1
#define KL_HTTP_METRICS_PEER_TIME_SUM 2 /* ms */

#define KL_HTTP_METRICS_COUNTERS 21

#define KL_HTTP_METRICS_FREE  0
#define KL_HTTP_METRICS_READY 1

typedef struct {
    uint32_t state; /* FREE, or READY: kind, hash, len and key are set */
    uint32_t kind;
    uint32_t hash;
    uint32_t len;
    u_char   key[KL_HTTP_METRICS_KEY_MAX];
    uint64_t n[KL_HTTP_METRICS_COUNTERS];
} kl_http_metrics_slot_t;

typedef struct {
    uint64_t               nslots;
    uint64_t               dropped; /* counts a full table turned away */
    kl_http_metrics_slot_t slots[];
} kl_http_metrics_table_t;

/* The i-th request time bucket's upper bound, in ms (Prometheus's
 * default buckets, 5 ms to 10 s). */
kl_msec_t kl_http_metrics_bound(kl_uint_t i);

/*
 * A table over [addr, addr + size), zeroed memory: NULL if not one slot
 * fits. Pure.
 */
kl_http_metrics_table_t *kl_http_metrics_table_init(void *addr, size_t size);

/*
 * The slot of (kind, key), made if new while holding mutex (NULL: no
 * lock, one process). Keys longer than KL_HTTP_METRICS_KEY_MAX are cut.
 * NULL when the table is full (t->dropped then counts it).
 */
kl_http_metrics_slot_t *kl_http_metrics_slot(kl_http_metrics_table_t *t,
                                             kl_shmtx_t *mutex, kl_uint_t kind,
                                             u_char *key, size_t len);

/* Which bucket (0..NBOUNDS, the last above every bound) ms falls in. */
kl_uint_t kl_http_metrics_bucket(kl_msec_t ms);


/* One label of a sample: its name, and its value, escaped when written. */
typedef struct {
    const char *name;
    kl_str_t    value;
} kl_http_metrics_label_t;

/* The bytes a label value takes once escaped (\\, \", \n). Pure. */
size_t kl_http_metrics_escape_len(u_char *src, size_t len);

/* Write src escaped at dst; the end. Pure. */
u_char *kl_http_metrics_escape(u_char *dst, u_char *src, size_t len);

/*
 * The bytes kl_http_metrics_sample needs at most for name and labels
 * (the value included). Pure.
 */
size_t kl_http_metrics_sample_len(const char *name, const char *suffix,
                                  kl_http_metrics_label_t *labels,
                                  kl_uint_t                nlabels);

/*
 * 'name{a="x",b="y"} value\n' at p (which has sample_len bytes): with
 * suffix appended to name ("_bucket"; NULL: none), value as an integer,
 * or with ms set as seconds with three decimals (1500 -> 1.500). The
 * end. Pure.
 */
u_char *kl_http_metrics_sample(u_char *p, const char *name, const char *suffix,
                               kl_http_metrics_label_t *labels,
                               kl_uint_t nlabels, uint64_t value, kl_uint_t ms);

/* The bytes kl_http_metrics_family needs at most. Pure. */
size_t kl_http_metrics_family_len(const char *name, const char *help,
                                  const char *type);

/* "# HELP name help\n# TYPE name type\n" at p; the end. Pure. */
u_char *kl_http_metrics_family(u_char *p, const char *name, const char *help,
                               const char *type);

#endif /* KL_HTTP_METRICS_H */
