/*
 * metrics.c: "metrics", a Prometheus page of kiln's counters, and
 * "metrics_zone", the shared zone they are kept in.
 *
 * Counting is done at the log phase of each main request, into the
 * zone's table (metrics_store.c): a lookup by server name, a handful of
 * relaxed atomic adds, one more lookup per upstream attempt and per
 * limit outcome. Nothing is counted unless the configuration names a
 * metrics zone or a metrics page: then the zone is "metrics_zone NAME
 * SIZE" if given, else an implicit one (kiln_metrics, 1 MiB). The
 * connection counts are read from the events module's kiln_stat zone,
 * as stub_status reads them. limit_req and limit_conn outcomes come from
 * $limit_req_status and $limit_conn_status, read by index only when a
 * module registered them, so this module names neither.
 */

#include "kl_http.h"
#include "upstream.h"
#include "metrics.h"


#define KL_HTTP_METRICS_ZONE_SIZE (1024 * 1024)

/* Room ensured before each line: two labels of KEY_MAX bytes escaped,
 * the longest name and label names, the value. */
#define KL_HTTP_METRICS_LINE_MAX (2 * KL_HTTP_METRICS_KEY_MAX + 256)
#define KL_HTTP_METRICS_BUF_SIZE (64 * 1024)

typedef struct {
    kl_shm_zone_t *zone;       /* NULL: nothing counted */
    kl_uint_t      pages;      /* some location has "metrics" */
    kl_int_t       limit_req;  /* the $limit_req_status index, or -1 */
    kl_int_t       limit_conn; /* the $limit_conn_status index, or -1 */
} kl_http_metrics_main_conf_t;

/* The page being written: a chain of buffers. */
typedef struct {
    kl_pool_t   *pool;
    kl_chain_t  *out;
    kl_chain_t **last;
    kl_buf_t    *b;
    off_t        size;
} kl_http_metrics_page_t;


static kl_int_t kl_http_metrics_handler(kl_http_request_t *r);
static kl_int_t kl_http_metrics_log_handler(kl_http_request_t *r);
static void     kl_http_metrics_count_upstream(kl_http_request_t       *r,
                                               kl_http_metrics_table_t *t,
                                               kl_shmtx_t              *mutex);
static void     kl_http_metrics_count_limit(kl_http_request_t       *r,
                                            kl_http_metrics_table_t *t,
                                            kl_shmtx_t *mutex, kl_int_t index,
                                            kl_uint_t kind);
static u_char  *kl_http_metrics_room(kl_http_metrics_page_t *pg, size_t n);
static kl_int_t kl_http_metrics_write(kl_http_metrics_page_t  *pg,
                                      kl_http_metrics_table_t *t);
static kl_int_t kl_http_metrics_write_servers(kl_http_metrics_page_t  *pg,
                                              kl_http_metrics_table_t *t);
static kl_int_t kl_http_metrics_write_histogram(kl_http_metrics_page_t  *pg,
                                                kl_http_metrics_table_t *t);
static kl_int_t kl_http_metrics_write_peers(kl_http_metrics_page_t  *pg,
                                            kl_http_metrics_table_t *t);
static kl_int_t kl_http_metrics_write_limits(kl_http_metrics_page_t  *pg,
                                             kl_http_metrics_table_t *t);
static kl_int_t kl_http_metrics_write_connections(kl_http_metrics_page_t *pg);
static kl_int_t kl_http_metrics_head(kl_http_metrics_page_t *pg,
                                     const char *name, const char *help,
                                     const char *type);
static kl_int_t kl_http_metrics_line(kl_http_metrics_page_t *pg,
                                     const char *name, const char *suffix,
                                     kl_http_metrics_label_t *labels,
                                     kl_uint_t nlabels, uint64_t value,
                                     kl_uint_t ms);
static uint64_t kl_http_metrics_get(kl_http_metrics_slot_t *s, kl_uint_t i);
static void     kl_http_metrics_peer_labels(kl_http_metrics_slot_t  *s,
                                            kl_http_metrics_label_t *l);
static kl_int_t kl_http_metrics_zone_init(kl_shm_zone_t *zone, void *old_data);
static void    *kl_http_metrics_create_main_conf(kl_conf_t *cf);
static kl_int_t kl_http_metrics_init(kl_conf_t *cf);
static char *kl_http_metrics_zone(kl_conf_t *cf, kl_command_t *cmd, void *conf);
static char *kl_http_metrics(kl_conf_t *cf, kl_command_t *cmd, void *conf);


/* Directive tables keep one field a line, as nginx's do. */
/* clang-format off */
static kl_command_t  kl_http_metrics_commands[] = {

    { kl_string("metrics"),
      KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_NOARGS,
      kl_http_metrics,
      0,
      0,
      NULL },

    { kl_string("metrics_zone"),
      KL_HTTP_MAIN_CONF | KL_CONF_TAKE2,
      kl_http_metrics_zone,
      KL_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    kl_null_command
};
/* clang-format on */


static kl_http_module_t kl_http_metrics_module_ctx = {
    .postconfiguration = kl_http_metrics_init,
    .create_main_conf = kl_http_metrics_create_main_conf,
};


kl_module_t kl_http_metrics_module = {
    .name = "kl_http_metrics_module",
    .type = KL_HTTP_MODULE,
    .ctx = &kl_http_metrics_module_ctx,
    .commands = kl_http_metrics_commands,
};


static const char *kl_http_metrics_classes[KL_HTTP_METRICS_CLASSES] = {
    "1xx", "2xx", "3xx", "4xx", "5xx", "other",
};


static kl_int_t
kl_http_metrics_log_handler(kl_http_request_t *r)
{
    kl_uint_t                    status, cls;
    kl_msec_int_t                ms;
    kl_shmtx_t                  *mutex;
    kl_http_metrics_slot_t      *s;
    kl_http_metrics_table_t     *t;
    kl_http_core_srv_conf_t     *cscf;
    kl_http_metrics_main_conf_t *mmcf;

    if (r != r->main) {
        return KL_OK;
    }

    mmcf = kl_http_get_module_main_conf(r, kl_http_metrics_module);
    t = mmcf->zone->data;
    mutex = &mmcf->zone->mutex;

    cscf = kl_http_get_module_srv_conf(r, kl_http_core_module);

    s = kl_http_metrics_slot(t, mutex, KL_HTTP_METRICS_SERVER,
                             cscf->server_name.data, cscf->server_name.len);

    if (s) {
        status = r->err_status ? r->err_status : r->headers_out.status;
        cls = (status >= 100 && status < 600) ? status / 100 - 1 : 5;

        ms = (kl_msec_int_t) (kl_now() - r->start_msec);
        ms = kl_max(ms, 0);

        __atomic_fetch_add(&s->n[cls], 1, __ATOMIC_RELAXED);
        __atomic_fetch_add(&s->n[KL_HTTP_METRICS_BYTES_IN],
                           (uint64_t) r->request_length, __ATOMIC_RELAXED);
        __atomic_fetch_add(
            &s->n[KL_HTTP_METRICS_BUCKET0 + kl_http_metrics_bucket(ms)], 1,
            __ATOMIC_RELAXED);
        __atomic_fetch_add(&s->n[KL_HTTP_METRICS_TIME_SUM], (uint64_t) ms,
                           __ATOMIC_RELAXED);

        __atomic_fetch_add(&s->n[KL_HTTP_METRICS_BYTES_OUT],
                           (uint64_t) kl_http_bytes_sent(r), __ATOMIC_RELAXED);
    }

    if (r->upstream) {
        kl_http_metrics_count_upstream(r, t, mutex);
    }

    kl_http_metrics_count_limit(r, t, mutex, mmcf->limit_req,
                                KL_HTTP_METRICS_LIMIT_REQ);
    kl_http_metrics_count_limit(r, t, mutex, mmcf->limit_conn,
                                KL_HTTP_METRICS_LIMIT_CONN);

    return KL_OK;
}


/*
 * Every attempt of the request, each under its peer: an attempt that
 * read no response head (refused, timed out, reset, a bad head) is a
 * failure too. The group is the last exchange's.
 */
static void
kl_http_metrics_count_upstream(kl_http_request_t *r, kl_http_metrics_table_t *t,
                               kl_shmtx_t *mutex)
{
    u_char key[KL_HTTP_METRICS_KEY_MAX], gname[KL_HTTP_METRICS_KEY_MAX], *p,
        *end;
    kl_str_t                     group;
    kl_uint_t                    i;
    kl_http_upstream_t          *u;
    kl_http_metrics_slot_t      *s;
    kl_http_upstream_state_t    *st;
    kl_http_upstream_srv_conf_t *us;

    u = r->upstream;

    if (u->state == NULL) {
        return;
    }

    end = key + KL_HTTP_METRICS_KEY_MAX;
    us = (u->conf) ? u->conf->upstream : NULL;

    /* an implicit group (proxy_pass http://host:port) by its host:port,
     * as nginx names it in its messages */
    if (us && us->implicit && !us->no_port) {
        group.data = gname;
        group.len = kl_slprintf(gname, gname + sizeof(gname), "%V:%d",
                                &us->host, (int) us->port)
                    - gname;
    } else if (us) {
        group = us->host;
    } else if (u->resolved) {
        group = u->resolved->host;
    } else {
        kl_str_null(&group);
    }

    group.len = kl_min(group.len, KL_HTTP_METRICS_KEY_MAX / 2);

    st = u->state->elts;

    for (i = 0; i < u->state->nelts; i++) {
        if (st[i].redirect || st[i].peer == NULL) {
            continue;
        }

        p = kl_cpymem(key, group.data, group.len);
        *p++ = '\0';
        p = kl_cpymem(p, st[i].peer->data,
                      kl_min(st[i].peer->len, (size_t) (end - p)));

        s = kl_http_metrics_slot(t, mutex, KL_HTTP_METRICS_PEER, key, p - key);
        if (s == NULL) {
            continue;
        }

        __atomic_fetch_add(&s->n[KL_HTTP_METRICS_PEER_REQUESTS], 1,
                           __ATOMIC_RELAXED);
        __atomic_fetch_add(&s->n[KL_HTTP_METRICS_PEER_TIME_SUM],
                           (uint64_t) st[i].response_time, __ATOMIC_RELAXED);

        if (st[i].header_time == KL_HTTP_UPSTREAM_NO_TIME) {
            __atomic_fetch_add(&s->n[KL_HTTP_METRICS_PEER_FAILURES], 1,
                               __ATOMIC_RELAXED);
        }
    }
}


static void
kl_http_metrics_count_limit(kl_http_request_t *r, kl_http_metrics_table_t *t,
                            kl_shmtx_t *mutex, kl_int_t index, kl_uint_t kind)
{
    kl_http_metrics_slot_t   *s;
    kl_http_variable_value_t *v;

    if (index < 0) {
        return;
    }

    v = kl_http_get_indexed_variable(r, (kl_uint_t) index);
    if (v == NULL || v->not_found || v->len == 0) {
        return;
    }

    s = kl_http_metrics_slot(t, mutex, kind, v->data, v->len);
    if (s) {
        __atomic_fetch_add(&s->n[0], 1, __ATOMIC_RELAXED);
    }
}


static kl_int_t
kl_http_metrics_handler(kl_http_request_t *r)
{
    kl_int_t                     rc;
    kl_http_metrics_page_t       pg;
    kl_http_metrics_main_conf_t *mmcf;

    if (!(r->method & (KL_HTTP_GET | KL_HTTP_HEAD))) {
        return KL_HTTP_NOT_ALLOWED;
    }

    rc = kl_http_discard_request_body(r);
    if (rc != KL_OK) {
        return rc;
    }

    mmcf = kl_http_get_module_main_conf(r, kl_http_metrics_module);

    kl_memzero(&pg, sizeof(kl_http_metrics_page_t));
    pg.pool = r->pool;
    pg.last = &pg.out;

    if (kl_http_metrics_write(&pg, mmcf->zone->data) != KL_OK) {
        return KL_HTTP_INTERNAL_SERVER_ERROR;
    }

    kl_str_set(&r->headers_out.content_type,
               "text/plain; version=0.0.4; charset=utf-8");
    r->headers_out.content_type_len = sizeof("text/plain") - 1;
    r->headers_out.status = KL_HTTP_OK;
    r->headers_out.content_length_n = pg.size;

    pg.b->last_buf = (r == r->main);
    pg.b->last_in_chain = 1;

    rc = kl_http_send_header(r);

    if (rc == KL_ERROR || rc > KL_OK || r->header_only) {
        return rc;
    }

    return kl_http_output_filter(r, pg.out);
}


static kl_int_t
kl_http_metrics_write(kl_http_metrics_page_t *pg, kl_http_metrics_table_t *t)
{
    if (kl_http_metrics_write_servers(pg, t) != KL_OK
        || kl_http_metrics_write_histogram(pg, t) != KL_OK
        || kl_http_metrics_write_connections(pg) != KL_OK
        || kl_http_metrics_write_peers(pg, t) != KL_OK
        || kl_http_metrics_write_limits(pg, t) != KL_OK)
    {
        return KL_ERROR;
    }

    if (kl_http_metrics_head(pg, "kiln_metrics_dropped_total",
                             "Label sets not counted: the metrics zone "
                             "was full.",
                             "counter")
            != KL_OK
        || kl_http_metrics_line(pg, "kiln_metrics_dropped_total", NULL, NULL, 0,
                                __atomic_load_n(&t->dropped, __ATOMIC_RELAXED),
                                0)
               != KL_OK)
    {
        return KL_ERROR;
    }

    return KL_OK;
}


/* Requests by status class, bytes in and out, per server name. */
static kl_int_t
kl_http_metrics_write_servers(kl_http_metrics_page_t  *pg,
                              kl_http_metrics_table_t *t)
{
    uint64_t                n;
    kl_uint_t               i, j;
    const char             *name;
    kl_http_metrics_slot_t *s;
    kl_http_metrics_label_t l[2];

    l[0].name = "server";
    l[1].name = "code";

    if (kl_http_metrics_head(pg, "kiln_http_requests_total",
                             "Requests, by server name and status class.",
                             "counter")
        != KL_OK)
    {
        return KL_ERROR;
    }

    for (i = 0; i < t->nslots; i++) {
        s = &t->slots[i];

        if (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE)
                != KL_HTTP_METRICS_READY
            || s->kind != KL_HTTP_METRICS_SERVER)
        {
            continue;
        }

        l[0].value.data = s->key;
        l[0].value.len = s->len;

        for (j = 0; j < KL_HTTP_METRICS_CLASSES; j++) {
            n = kl_http_metrics_get(s, j);

            if (j == KL_HTTP_METRICS_CLASSES - 1 && n == 0) {
                continue;
            }

            l[1].value.data = (u_char *) kl_http_metrics_classes[j];
            l[1].value.len = kl_strlen(kl_http_metrics_classes[j]);

            if (kl_http_metrics_line(pg, "kiln_http_requests_total", NULL, l, 2,
                                     n, 0)
                != KL_OK)
            {
                return KL_ERROR;
            }
        }
    }

    for (j = 0; j < 2; j++) {
        name = j ? "kiln_http_response_bytes_total"
                 : "kiln_http_request_bytes_total";

        if (kl_http_metrics_head(pg, name,
                                 j ? "Bytes sent to clients, heads included."
                                   : "Bytes of requests received, heads "
                                     "included.",
                                 "counter")
            != KL_OK)
        {
            return KL_ERROR;
        }

        for (i = 0; i < t->nslots; i++) {
            s = &t->slots[i];

            if (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE)
                    != KL_HTTP_METRICS_READY
                || s->kind != KL_HTTP_METRICS_SERVER)
            {
                continue;
            }

            l[0].value.data = s->key;
            l[0].value.len = s->len;

            if (kl_http_metrics_line(
                    pg, name, NULL, l, 1,
                    kl_http_metrics_get(s, KL_HTTP_METRICS_BYTES_IN + j), 0)
                != KL_OK)
            {
                return KL_ERROR;
            }
        }
    }

    return KL_OK;
}


/* The request time histogram: cumulative buckets, _sum, _count. */
static kl_int_t
kl_http_metrics_write_histogram(kl_http_metrics_page_t  *pg,
                                kl_http_metrics_table_t *t)
{
    u_char                  le[KL_INT_T_LEN + 8];
    uint64_t                n;
    kl_uint_t               i, j;
    kl_http_metrics_slot_t *s;
    kl_http_metrics_label_t l[2];

    static const char name[] = "kiln_http_request_duration_seconds";

    if (kl_http_metrics_head(pg, name,
                             "Time from the request's first byte to its "
                             "log phase, by server name.",
                             "histogram")
        != KL_OK)
    {
        return KL_ERROR;
    }

    l[0].name = "server";
    l[1].name = "le";

    for (i = 0; i < t->nslots; i++) {
        s = &t->slots[i];

        if (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE)
                != KL_HTTP_METRICS_READY
            || s->kind != KL_HTTP_METRICS_SERVER)
        {
            continue;
        }

        l[0].value.data = s->key;
        l[0].value.len = s->len;
        n = 0;

        for (j = 0; j <= KL_HTTP_METRICS_NBOUNDS; j++) {
            n += kl_http_metrics_get(s, KL_HTTP_METRICS_BUCKET0 + j);

            if (j == KL_HTTP_METRICS_NBOUNDS) {
                kl_str_set(&l[1].value, "+Inf");
            } else {
                /* the bound in seconds, as the samples print times */
                l[1].value.data = le;
                l[1].value.len = kl_slprintf(le, le + sizeof(le), "%M.%03M",
                                             kl_http_metrics_bound(j) / 1000,
                                             kl_http_metrics_bound(j) % 1000)
                                 - le;
            }

            if (kl_http_metrics_line(pg, name, "_bucket", l, 2, n, 0) != KL_OK)
            {
                return KL_ERROR;
            }
        }

        if (kl_http_metrics_line(
                pg, name, "_sum", l, 1,
                kl_http_metrics_get(s, KL_HTTP_METRICS_TIME_SUM), 1)
                != KL_OK
            || kl_http_metrics_line(pg, name, "_count", l, 1, n, 0) != KL_OK)
        {
            return KL_ERROR;
        }
    }

    return KL_OK;
}


/* The events module's counts of all workers (stub_status's). */
static kl_int_t
kl_http_metrics_write_connections(kl_http_metrics_page_t *pg)
{
    uint64_t                active, reading, writing, waiting;
    kl_stat_t              *st;
    kl_http_metrics_label_t l;

    static const char gauge[] = "kiln_connections";
    static const char acc[] = "kiln_connections_accepted_total";
    static const char hnd[] = "kiln_connections_handled_total";

    st = kl_cycle->stat;
    if (st == NULL) {
        return KL_OK;
    }

    active = __atomic_load_n(&st->active, __ATOMIC_RELAXED);
    reading = __atomic_load_n(&st->reading, __ATOMIC_RELAXED);
    writing = __atomic_load_n(&st->writing, __ATOMIC_RELAXED);
    waiting = (active > reading + writing) ? active - (reading + writing) : 0;

    l.name = "state";

    if (kl_http_metrics_head(pg, gauge, "Client connections open, by state.",
                             "gauge")
        != KL_OK)
    {
        return KL_ERROR;
    }

    kl_str_set(&l.value, "active");
    if (kl_http_metrics_line(pg, gauge, NULL, &l, 1, active, 0) != KL_OK) {
        return KL_ERROR;
    }

    kl_str_set(&l.value, "reading");
    if (kl_http_metrics_line(pg, gauge, NULL, &l, 1, reading, 0) != KL_OK) {
        return KL_ERROR;
    }

    kl_str_set(&l.value, "writing");
    if (kl_http_metrics_line(pg, gauge, NULL, &l, 1, writing, 0) != KL_OK) {
        return KL_ERROR;
    }

    kl_str_set(&l.value, "waiting");
    if (kl_http_metrics_line(pg, gauge, NULL, &l, 1, waiting, 0) != KL_OK) {
        return KL_ERROR;
    }

    if (kl_http_metrics_head(pg, acc, "Client connections accepted.", "counter")
            != KL_OK
        || kl_http_metrics_line(
               pg, acc, NULL, NULL, 0,
               __atomic_load_n(&st->accepted, __ATOMIC_RELAXED), 0)
               != KL_OK
        || kl_http_metrics_head(pg, hnd,
                                "Client connections handled (accepted "
                                "and given a connection).",
                                "counter")
               != KL_OK
        || kl_http_metrics_line(pg, hnd, NULL, NULL, 0,
                                __atomic_load_n(&st->handled, __ATOMIC_RELAXED),
                                0)
               != KL_OK)
    {
        return KL_ERROR;
    }

    return KL_OK;
}


/* Attempts, failures and response time, per upstream group and peer. */
static kl_int_t
kl_http_metrics_write_peers(kl_http_metrics_page_t  *pg,
                            kl_http_metrics_table_t *t)
{
    kl_uint_t               i, j;
    kl_http_metrics_slot_t *s;
    kl_http_metrics_label_t l[2];

    static const char *names[] = {
        "kiln_upstream_requests_total",
        "kiln_upstream_failures_total",
        "kiln_upstream_response_seconds",
    };
    static const char *helps[] = {
        "Attempts to get a response from an upstream peer.",
        "Attempts that read no response head (refused, timed out, "
        "reset, invalid).",
        "Time of the attempts, from the choice of the peer to the end of "
        "the response.",
    };

    for (j = 0; j < 3; j++) {
        if (kl_http_metrics_head(pg, names[j], helps[j],
                                 j == 2 ? "summary" : "counter")
            != KL_OK)
        {
            return KL_ERROR;
        }

        for (i = 0; i < t->nslots; i++) {
            s = &t->slots[i];

            if (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE)
                    != KL_HTTP_METRICS_READY
                || s->kind != KL_HTTP_METRICS_PEER)
            {
                continue;
            }

            kl_http_metrics_peer_labels(s, l);

            if (j < 2) {
                if (kl_http_metrics_line(pg, names[j], NULL, l, 2,
                                         kl_http_metrics_get(s, j), 0)
                    != KL_OK)
                {
                    return KL_ERROR;
                }

                continue;
            }

            if (kl_http_metrics_line(
                    pg, names[j], "_sum", l, 2,
                    kl_http_metrics_get(s, KL_HTTP_METRICS_PEER_TIME_SUM), 1)
                    != KL_OK
                || kl_http_metrics_line(
                       pg, names[j], "_count", l, 2,
                       kl_http_metrics_get(s, KL_HTTP_METRICS_PEER_REQUESTS), 0)
                       != KL_OK)
            {
                return KL_ERROR;
            }
        }
    }

    return KL_OK;
}


/* The key is "group\0peer". */
static void
kl_http_metrics_peer_labels(kl_http_metrics_slot_t  *s,
                            kl_http_metrics_label_t *l)
{
    u_char *nul;

    l[0].name = "upstream";
    l[1].name = "peer";

    nul = memchr(s->key, '\0', s->len);
    if (nul == NULL) {
        nul = s->key + s->len;
    }

    l[0].value.data = s->key;
    l[0].value.len = nul - s->key;
    l[1].value.data = (nul < s->key + s->len) ? nul + 1 : nul;
    l[1].value.len = s->key + s->len - l[1].value.data;
}


static kl_int_t
kl_http_metrics_write_limits(kl_http_metrics_page_t  *pg,
                             kl_http_metrics_table_t *t)
{
    kl_uint_t               i, j;
    kl_http_metrics_slot_t *s;
    kl_http_metrics_label_t l;

    static const char *names[] = {
        "kiln_limit_req_total",
        "kiln_limit_conn_total",
    };
    static const char *helps[] = {
        "Requests by their $limit_req_status.",
        "Requests by their $limit_conn_status.",
    };

    l.name = "status";

    for (j = 0; j < 2; j++) {
        if (kl_http_metrics_head(pg, names[j], helps[j], "counter") != KL_OK) {
            return KL_ERROR;
        }

        for (i = 0; i < t->nslots; i++) {
            s = &t->slots[i];

            if (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE)
                    != KL_HTTP_METRICS_READY
                || s->kind != KL_HTTP_METRICS_LIMIT_REQ + j)
            {
                continue;
            }

            l.value.data = s->key;
            l.value.len = s->len;

            if (kl_http_metrics_line(pg, names[j], NULL, &l, 1,
                                     kl_http_metrics_get(s, 0), 0)
                != KL_OK)
            {
                return KL_ERROR;
            }
        }
    }

    return KL_OK;
}


static uint64_t
kl_http_metrics_get(kl_http_metrics_slot_t *s, kl_uint_t i)
{
    return __atomic_load_n(&s->n[i], __ATOMIC_RELAXED);
}


/* n bytes free at the end of the page, in a new buffer if need be. */
static u_char *
kl_http_metrics_room(kl_http_metrics_page_t *pg, size_t n)
{
    kl_chain_t *cl;

    if (pg->b && (size_t) (pg->b->end - pg->b->last) >= n) {
        return pg->b->last;
    }

    pg->b = kl_buf_create_temp(pg->pool, kl_max(n, KL_HTTP_METRICS_BUF_SIZE));
    if (pg->b == NULL) {
        return NULL;
    }

    cl = kl_chain_alloc(pg->pool);
    if (cl == NULL) {
        return NULL;
    }

    cl->buf = pg->b;
    cl->next = NULL;
    *pg->last = cl;
    pg->last = &cl->next;

    return pg->b->last;
}


static kl_int_t
kl_http_metrics_head(kl_http_metrics_page_t *pg, const char *name,
                     const char *help, const char *type)
{
    u_char *p, *e;

    p = kl_http_metrics_room(pg, kl_http_metrics_family_len(name, help, type));
    if (p == NULL) {
        return KL_ERROR;
    }

    e = kl_http_metrics_family(p, name, help, type);
    pg->size += e - p;
    pg->b->last = e;

    return KL_OK;
}


static kl_int_t
kl_http_metrics_line(kl_http_metrics_page_t *pg, const char *name,
                     const char *suffix, kl_http_metrics_label_t *labels,
                     kl_uint_t nlabels, uint64_t value, kl_uint_t ms)
{
    u_char *p, *e;

    p = kl_http_metrics_room(
        pg, kl_http_metrics_sample_len(name, suffix, labels, nlabels));
    if (p == NULL) {
        return KL_ERROR;
    }

    e = kl_http_metrics_sample(p, name, suffix, labels, nlabels, value, ms);
    pg->size += e - p;
    pg->b->last = e;

    return KL_OK;
}


/* The table as the old workers left it, when a reload kept the zone. */
static kl_int_t
kl_http_metrics_zone_init(kl_shm_zone_t *zone, void *old_data)
{
    if (old_data) {
        zone->data = old_data;
        return KL_OK;
    }

    zone->data = kl_http_metrics_table_init(
        kl_shm_zone_start(zone), zone->shm.size - KL_SHM_ZONE_HEADER);
    if (zone->data == NULL) {
        kl_log_error(KL_LOG_EMERG, kl_cycle->log, 0,
                     "metrics zone \"%V\" is too small", &zone->shm.name);
        return KL_ERROR;
    }

    return KL_OK;
}


static void *
kl_http_metrics_create_main_conf(kl_conf_t *cf)
{
    kl_http_metrics_main_conf_t *mmcf;

    mmcf = kl_pcalloc(cf->pool, sizeof(kl_http_metrics_main_conf_t));
    if (mmcf == NULL) {
        return NULL;
    }

    mmcf->limit_req = -1;
    mmcf->limit_conn = -1;

    return mmcf;
}


/* With a zone or a page: the implicit zone if none was named, the
 * variables' indexes, and the log phase handler. */
static kl_int_t
kl_http_metrics_init(kl_conf_t *cf)
{
    kl_str_t                     name;
    kl_http_metrics_main_conf_t *mmcf;

    mmcf = kl_http_conf_get_module_main_conf(cf, kl_http_metrics_module);

    if (mmcf->zone == NULL && !mmcf->pages) {
        return KL_OK;
    }

    if (mmcf->zone == NULL) {
        kl_str_set(&name, "kiln_metrics");
        mmcf->zone = kl_shm_zone_add(cf, &name, KL_HTTP_METRICS_ZONE_SIZE,
                                     &kl_http_metrics_module);
        if (mmcf->zone == NULL) {
            return KL_ERROR;
        }

        mmcf->zone->init = kl_http_metrics_zone_init;
    }

    kl_str_set(&name, "limit_req_status");
    if (kl_http_variable_registered(cf, &name)) {
        mmcf->limit_req = kl_http_get_variable_index(cf, &name);
        if (mmcf->limit_req == KL_ERROR) {
            return KL_ERROR;
        }
    }

    kl_str_set(&name, "limit_conn_status");
    if (kl_http_variable_registered(cf, &name)) {
        mmcf->limit_conn = kl_http_get_variable_index(cf, &name);
        if (mmcf->limit_conn == KL_ERROR) {
            return KL_ERROR;
        }
    }

    return kl_http_add_phase_handler(cf, KL_HTTP_LOG_PHASE,
                                     kl_http_metrics_log_handler);
}


/* "metrics_zone NAME SIZE": the zone counted into, at most one. */
static char *
kl_http_metrics_zone(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    ssize_t                      size;
    kl_str_t                    *value;
    kl_http_metrics_main_conf_t *mmcf = conf;

    (void) cmd;

    if (mmcf->zone) {
        return "is duplicate";
    }

    value = cf->args->elts;

    size = kl_conf_parse_size(&value[2]);
    if (size == KL_ERROR) {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0, "invalid zone size \"%V\"",
                          &value[2]);
        return KL_CONF_ERROR;
    }

    if (size < (ssize_t) (8 * 4096)) {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0, "zone \"%V\" is too small",
                          &value[1]);
        return KL_CONF_ERROR;
    }

    mmcf->zone =
        kl_shm_zone_add(cf, &value[1], (size_t) size, &kl_http_metrics_module);
    if (mmcf->zone == NULL) {
        return KL_CONF_ERROR;
    }

    mmcf->zone->init = kl_http_metrics_zone_init;

    return KL_CONF_OK;
}


static char *
kl_http_metrics(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_http_core_loc_conf_t     *clcf;
    kl_http_metrics_main_conf_t *mmcf;

    (void) cmd;
    (void) conf;

    mmcf = kl_http_conf_get_module_main_conf(cf, kl_http_metrics_module);
    mmcf->pages = 1;

    clcf = kl_http_conf_get_module_loc_conf(cf, kl_http_core_module);
    clcf->handler = kl_http_metrics_handler;

    return KL_CONF_OK;
}
