/*
 * limit_req.c: limit_req_zone, limit_req, limit_req_status,
 * limit_req_log_level, limit_req_dry_run and $limit_req_status, as
 * nginx's limit_req module: a leaky bucket per key in a shared zone.
 *
 * A key's state is its excess, in thousandths of a request, and when it
 * was last drained (monotonic milliseconds, the same clock in every
 * worker). Each request drains rate * elapsed and adds 1000; above burst
 * it is refused, above delay it waits the time the excess takes to drain
 * to delay. Lookups and updates run under the zone's lock, so workers
 * count as one. With several limits on a location, every zone but the
 * last is only checked and its node held (count); once all passed, the
 * held nodes are charged and the longest delay wins, as nginx does, so a
 * request refused by a later zone costs the earlier ones nothing.
 *
 * The zone keeps its keys in a kl_zone_hash_t: each lookup frees up to
 * two states idle for a minute and fully drained, and a full zone
 * evicts its least recently used state; a request that still finds no
 * room is refused as nginx refuses it (limit_req_status), the failure
 * logged once until an allocation succeeds again.
 */

#include "kl_http.h"


/* $limit_req_status, as r->main->limit_req_status holds it (0: none). */
#define KL_HTTP_LIMIT_REQ_PASSED           1
#define KL_HTTP_LIMIT_REQ_DELAYED          2
#define KL_HTTP_LIMIT_REQ_REJECTED         3
#define KL_HTTP_LIMIT_REQ_DELAYED_DRY_RUN  4
#define KL_HTTP_LIMIT_REQ_REJECTED_DRY_RUN 5

/* A state idle this long with nothing left to drain may go. */
#define KL_HTTP_LIMIT_REQ_IDLE 60000

/* One key's state: the value of its zone node. */
typedef struct {
    kl_msec_t last;   /* when excess was last drained */
    kl_int_t  excess; /* thousandths of a request above the rate */
    kl_uint_t count;  /* requests holding it between check and charge */
} kl_http_limit_req_node_t;

/* In the zone: the keys, and whether a failed insert was logged. */
typedef struct {
    kl_zone_hash_t tree;
    kl_uint_t      nomem_logged;
} kl_http_limit_req_shctx_t;

/* limit_req_zone's, per cycle (the zone's data). */
typedef struct {
    kl_http_limit_req_shctx_t *sh;
    kl_slab_pool_t            *shpool;
    kl_uint_t                  rate; /* requests per 1000 s */
    kl_http_complex_value_t   *key;
    kl_shm_zone_t             *zone;
    /* this process's: the node held between check and charge */
    kl_zone_node_t *node;
} kl_http_limit_req_ctx_t;

/* One limit_req line. */
typedef struct {
    kl_shm_zone_t *shm_zone;
    kl_uint_t      burst; /* thousandths */
    kl_uint_t      delay; /* thousandths; nodelay: all of burst */
} kl_http_limit_req_limit_t;

typedef struct {
    kl_array_t *limits; /* kl_http_limit_req_limit_t; NULL: none */
    kl_uint_t   limit_log_level;
    kl_uint_t   delay_log_level;
    kl_int_t    status_code;
    kl_int_t    dry_run;
} kl_http_limit_req_conf_t;


static kl_int_t kl_http_limit_req_handler(kl_http_request_t *r);
static void     kl_http_limit_req_delay(kl_http_request_t *r);
static void     kl_http_limit_req_test_reading(kl_http_request_t *r);
static kl_int_t kl_http_limit_req_status_variable(kl_http_request_t        *r,
                                                  kl_http_variable_value_t *v,
                                                  uintptr_t data);
static void    *kl_http_limit_req_create_conf(kl_conf_t *cf);
static char    *kl_http_limit_req_merge_conf(kl_conf_t *cf, void *parent,
                                             void *child);
static kl_int_t kl_http_limit_req_add_variables(kl_conf_t *cf);
static kl_int_t kl_http_limit_req_init(kl_conf_t *cf);
static char    *kl_http_limit_req_zone(kl_conf_t *cf, kl_command_t *cmd,
                                       void *conf);
static char    *kl_http_limit_req(kl_conf_t *cf, kl_command_t *cmd, void *conf);
static char    *kl_http_limit_req_status(kl_conf_t *cf, kl_command_t *cmd,
                                         void *conf);


static kl_conf_enum_t kl_http_limit_req_log_levels[] = {
    { kl_string("info"), KL_LOG_INFO },
    { kl_string("notice"), KL_LOG_NOTICE },
    { kl_string("warn"), KL_LOG_WARN },
    { kl_string("error"), KL_LOG_ERR },
    { kl_null_string, 0 },
};

/* clang-format off */
static kl_command_t  kl_http_limit_req_commands[] = {

    { kl_string("limit_req_zone"),
      KL_HTTP_MAIN_CONF | KL_CONF_TAKE3 | KL_CONF_TAKE4,
      kl_http_limit_req_zone,
      0,
      0,
      NULL },

    { kl_string("limit_req"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_1MORE,
      kl_http_limit_req,
      KL_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { kl_string("limit_req_log_level"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE1,
      kl_conf_set_enum_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_limit_req_conf_t, limit_log_level),
      &kl_http_limit_req_log_levels },

    { kl_string("limit_req_status"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE1,
      kl_http_limit_req_status,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_limit_req_conf_t, status_code),
      NULL },

    { kl_string("limit_req_dry_run"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_FLAG,
      kl_conf_set_flag_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_limit_req_conf_t, dry_run),
      NULL },

    kl_null_command
};
/* clang-format on */


static kl_http_module_t kl_http_limit_req_module_ctx = {
    .preconfiguration = kl_http_limit_req_add_variables,
    .postconfiguration = kl_http_limit_req_init,
    .create_loc_conf = kl_http_limit_req_create_conf,
    .merge_loc_conf = kl_http_limit_req_merge_conf,
};


kl_module_t kl_http_limit_req_module = {
    .name = "kl_http_limit_req_module",
    .type = KL_HTTP_MODULE,
    .ctx = &kl_http_limit_req_module_ctx,
    .commands = kl_http_limit_req_commands,
};


static kl_str_t kl_http_limit_req_status_names[] = {
    kl_string("PASSED"),           kl_string("DELAYED"),
    kl_string("REJECTED"),         kl_string("DELAYED_DRY_RUN"),
    kl_string("REJECTED_DRY_RUN"),
};


/*
 * The key of ctx's zone for r. A key that is one variable alone (the
 * usual $binary_remote_addr) is that variable's value as it is: the
 * complex value would copy it, for the same bytes.
 */
/* Milliseconds since last, as nginx bounds them: a clock that went back. */
static kl_int_t
kl_http_limit_req_elapsed(kl_msec_t now, kl_msec_t last)
{
    kl_int_t ms;

    ms = (kl_int_t) (now - last);

    if (ms < -60000) {
        return 1;
    }

    return ms < 0 ? 0 : ms;
}


/* kl_zone_hash_expire: idle a minute, fully drained, and not held. */
static kl_uint_t
kl_http_limit_req_idle(kl_zone_node_t *node, void *data)
{
    kl_int_t                  ms;
    kl_http_limit_req_ctx_t  *ctx = data;
    kl_http_limit_req_node_t *lr;

    lr = kl_zone_node_value(node);

    if (lr->count) {
        return 0;
    }

    ms = (kl_int_t) (kl_now() - lr->last);
    if (ms < 0) {
        ms = -ms;
    }

    if (ms < KL_HTTP_LIMIT_REQ_IDLE) {
        return 0;
    }

    return lr->excess - (kl_int_t) ctx->rate * ms / 1000 <= 0;
}


/* kl_zone_hash_expire, when the zone is full: the oldest, unless held. */
static kl_uint_t
kl_http_limit_req_unheld(kl_zone_node_t *node, void *data)
{
    kl_http_limit_req_node_t *lr;

    (void) data;

    lr = kl_zone_node_value(node);

    return lr->count == 0;
}


/* A new state for key, evicting to make room; NULL: none (logged once). */
static kl_zone_node_t *
kl_http_limit_req_insert(kl_http_limit_req_ctx_t *ctx, kl_uint_t hash,
                         kl_str_t *key)
{
    size_t          size;
    kl_zone_node_t *node;

    size = sizeof(kl_http_limit_req_node_t);

    node = kl_zone_hash_insert(&ctx->sh->tree, ctx->shpool, hash, key->data,
                               key->len, size);

    if (node == NULL) {
        (void) kl_zone_hash_expire(&ctx->sh->tree, ctx->shpool, 1,
                                   kl_http_limit_req_unheld, ctx);
        (void) kl_zone_hash_expire(&ctx->sh->tree, ctx->shpool, 2,
                                   kl_http_limit_req_idle, ctx);

        node = kl_zone_hash_insert(&ctx->sh->tree, ctx->shpool, hash, key->data,
                                   key->len, size);
    }

    if (node == NULL) {
        if (!ctx->sh->nomem_logged) {
            ctx->sh->nomem_logged = 1;
            kl_log_error(KL_LOG_ALERT, kl_cycle->log, 0,
                         "could not allocate node%s", ctx->shpool->log_ctx);
        }

        return NULL;
    }

    ctx->sh->nomem_logged = 0;

    return node;
}


/*
 * Under the zone's lock: KL_BUSY above burst (*ep the excess), KL_OK
 * charged (account: the last limit), KL_AGAIN checked and held in
 * ctx->node, KL_ERROR no room for a new key.
 */
static kl_int_t
kl_http_limit_req_lookup(kl_http_limit_req_limit_t *limit, kl_uint_t hash,
                         kl_str_t *key, kl_uint_t *ep, kl_uint_t account)
{
    kl_int_t                  ms, excess;
    kl_msec_t                 now;
    kl_zone_node_t           *node;
    kl_http_limit_req_ctx_t  *ctx;
    kl_http_limit_req_node_t *lr;

    ctx = limit->shm_zone->data;
    now = kl_now();

    node = kl_zone_hash_lookup(&ctx->sh->tree, hash, key->data, key->len);

    if (node != NULL) {
        kl_zone_hash_touch(&ctx->sh->tree, node);
        lr = kl_zone_node_value(node);

        ms = kl_http_limit_req_elapsed(now, lr->last);

        excess = lr->excess - (kl_int_t) ctx->rate * ms / 1000 + 1000;
        if (excess < 0) {
            excess = 0;
        }

        *ep = (kl_uint_t) excess;

        if ((kl_uint_t) excess > limit->burst) {
            return KL_BUSY;
        }

        if (account) {
            lr->excess = excess;
            if (ms) {
                lr->last = now;
            }
            return KL_OK;
        }

        lr->count++;
        ctx->node = node;

        return KL_AGAIN;
    }

    *ep = 0;

    (void) kl_zone_hash_expire(&ctx->sh->tree, ctx->shpool, 2,
                               kl_http_limit_req_idle, ctx);

    node = kl_http_limit_req_insert(ctx, hash, key);
    if (node == NULL) {
        return KL_ERROR;
    }

    lr = kl_zone_node_value(node);
    lr->excess = 0;

    if (account) {
        lr->last = now;
        lr->count = 0;
        return KL_OK;
    }

    lr->last = 0;
    lr->count = 1;
    ctx->node = node;

    return KL_AGAIN;
}


/*
 * Charge the nodes held by the first n limits; the longest delay of
 * all, with *ep and *limit set to the excess and limit that cause it.
 */
static kl_msec_t
kl_http_limit_req_account(kl_http_limit_req_limit_t *limits, kl_uint_t n,
                          kl_uint_t *ep, kl_http_limit_req_limit_t **limit)
{
    kl_int_t                  excess, ms;
    kl_msec_t                 now, delay, max_delay;
    kl_http_limit_req_ctx_t  *ctx;
    kl_http_limit_req_node_t *lr;

    excess = (kl_int_t) *ep;

    if ((kl_uint_t) excess <= (*limit)->delay) {
        max_delay = 0;

    } else {
        ctx = (*limit)->shm_zone->data;
        max_delay = (kl_msec_t) ((kl_uint_t) excess - (*limit)->delay) * 1000
                    / ctx->rate;
    }

    while (n--) {
        ctx = limits[n].shm_zone->data;

        if (ctx->node == NULL) {
            continue;
        }

        lr = kl_zone_node_value(ctx->node);

        kl_shmtx_lock(&ctx->shpool->mutex);

        now = kl_now();
        ms = kl_http_limit_req_elapsed(now, lr->last);

        excess = lr->excess - (kl_int_t) ctx->rate * ms / 1000 + 1000;
        if (excess < 0) {
            excess = 0;
        }

        if (ms) {
            lr->last = now;
        }

        lr->excess = excess;
        lr->count--;

        kl_shmtx_unlock(&ctx->shpool->mutex);

        ctx->node = NULL;

        if ((kl_uint_t) excess <= limits[n].delay) {
            continue;
        }

        delay = (kl_msec_t) ((kl_uint_t) excess - limits[n].delay) * 1000
                / ctx->rate;

        if (delay > max_delay) {
            max_delay = delay;
            *ep = (kl_uint_t) excess;
            *limit = &limits[n];
        }
    }

    return max_delay;
}


/* A request refused: the nodes the first n limits held, let go. */
static void
kl_http_limit_req_unlock(kl_http_limit_req_limit_t *limits, kl_uint_t n)
{
    kl_http_limit_req_ctx_t  *ctx;
    kl_http_limit_req_node_t *lr;

    while (n--) {
        ctx = limits[n].shm_zone->data;

        if (ctx->node == NULL) {
            continue;
        }

        lr = kl_zone_node_value(ctx->node);

        kl_shmtx_lock(&ctx->shpool->mutex);
        lr->count--;
        kl_shmtx_unlock(&ctx->shpool->mutex);

        ctx->node = NULL;
    }
}


/* Each limit in turn: KL_DECLINED (no key), or the last lookup's rc. */
static kl_int_t
kl_http_limit_req_check(kl_http_request_t *r, kl_http_limit_req_conf_t *lrcf,
                        kl_uint_t *np, kl_uint_t *ep)
{
    kl_int_t                   rc;
    kl_str_t                   key;
    kl_uint_t                  n, hash;
    kl_http_limit_req_ctx_t   *ctx;
    kl_http_limit_req_limit_t *limits;

    rc = KL_DECLINED;
    limits = lrcf->limits->elts;

    for (n = 0; n < lrcf->limits->nelts; n++) {
        ctx = limits[n].shm_zone->data;

        if (kl_http_complex_value_ref(r, ctx->key, &key) != KL_OK) {
            kl_http_limit_req_unlock(limits, n);
            *np = n;
            return KL_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (key.len == 0) {
            continue;
        }

        if (key.len > 65535) {
            kl_log_error(KL_LOG_ERR, r->connection->log, 0,
                         "the value of the \"%V\" key "
                         "is more than 65535 bytes: \"%*s...\"",
                         &ctx->key->value, (size_t) 16, key.data);
            continue;
        }

        hash = kl_zone_hash_key(key.data, key.len);

        kl_shmtx_lock(&ctx->shpool->mutex);
        rc = kl_http_limit_req_lookup(&limits[n], hash, &key, ep,
                                      n == lrcf->limits->nelts - 1);
        kl_shmtx_unlock(&ctx->shpool->mutex);

        if (rc != KL_AGAIN) {
            break;
        }
    }

    *np = n;

    return rc;
}


static kl_int_t
kl_http_limit_req_refuse(kl_http_request_t *r, kl_http_limit_req_conf_t *lrcf,
                         kl_int_t rc, kl_uint_t n, kl_uint_t excess)
{
    kl_http_limit_req_limit_t *limits;

    limits = lrcf->limits->elts;

    if (rc == KL_BUSY) {
        kl_log_error(lrcf->limit_log_level, r->connection->log, 0,
                     "limiting requests%s, excess: %ui.%03ui by zone \"%V\"",
                     lrcf->dry_run ? ", dry run" : "", excess / 1000,
                     excess % 1000, &limits[n].shm_zone->shm.name);
    }

    kl_http_limit_req_unlock(limits, n);

    if (lrcf->dry_run) {
        r->main->limit_req_status = KL_HTTP_LIMIT_REQ_REJECTED_DRY_RUN;
        return KL_DECLINED;
    }

    r->main->limit_req_status = KL_HTTP_LIMIT_REQ_REJECTED;

    return lrcf->status_code;
}


static kl_int_t
kl_http_limit_req_handler(kl_http_request_t *r)
{
    kl_int_t                   rc;
    kl_uint_t                  n, excess;
    kl_msec_t                  delay;
    kl_connection_t           *c;
    kl_http_limit_req_conf_t  *lrcf;
    kl_http_limit_req_limit_t *limits, *limit;

    if (r->main->limit_req_status) {
        return KL_DECLINED;
    }

    lrcf = kl_http_get_module_loc_conf(r, kl_http_limit_req_module);

    if (lrcf->limits == NULL) {
        return KL_DECLINED;
    }

    excess = 0;
    rc = kl_http_limit_req_check(r, lrcf, &n, &excess);

    if (rc == KL_DECLINED || rc == KL_HTTP_INTERNAL_SERVER_ERROR) {
        return rc;
    }

    if (rc == KL_BUSY || rc == KL_ERROR) {
        return kl_http_limit_req_refuse(r, lrcf, rc, n, excess);
    }

    /* KL_AGAIN: the last limit had no key; KL_OK: it was charged. */
    limits = lrcf->limits->elts;

    if (rc == KL_AGAIN) {
        excess = 0;
    }

    if (n == lrcf->limits->nelts) {
        n--;
    }

    limit = &limits[n];
    delay = kl_http_limit_req_account(limits, n, &excess, &limit);

    if (delay == 0) {
        r->main->limit_req_status = KL_HTTP_LIMIT_REQ_PASSED;
        return KL_DECLINED;
    }

    kl_log_error(lrcf->delay_log_level, r->connection->log, 0,
                 "delaying request%s, excess: %ui.%03ui, by zone \"%V\"",
                 lrcf->dry_run ? ", dry run" : "", excess / 1000, excess % 1000,
                 &limit->shm_zone->shm.name);

    if (lrcf->dry_run) {
        r->main->limit_req_status = KL_HTTP_LIMIT_REQ_DELAYED_DRY_RUN;
        return KL_DECLINED;
    }

    r->main->limit_req_status = KL_HTTP_LIMIT_REQ_DELAYED;

    c = r->connection;

    /* The request waits; a client that leaves meanwhile ends it (499). */
    r->read_event_handler = kl_http_limit_req_test_reading;
    r->write_event_handler = kl_http_limit_req_delay;

    if (c->write->timer_set) {
        kl_event_del_timer(c->write);
    }

    c->write->delayed = 1;
    kl_event_add_timer(c->write, delay);

    if (c->read->ready) {
        kl_http_limit_req_test_reading(r);
    }

    return KL_AGAIN;
}


static void
kl_http_limit_req_delay(kl_http_request_t *r)
{
    /* A write event before the timer: still waiting. */
    if (r->connection->write->delayed) {
        return;
    }

    r->read_event_handler = kl_http_block_reading;
    r->write_event_handler = kl_http_core_run_phases;

    kl_http_core_run_phases(r);
}


/* While delayed: bytes (a pipelined request) wait; a close ends it. */
static void
kl_http_limit_req_test_reading(kl_http_request_t *r)
{
    kl_int_t         rc;
    kl_connection_t *c;

    c = r->connection;

    if (c->error) {
        return;
    }

    rc = c->io->peek(c);

    if (rc == KL_AGAIN) {
        c->read->ready = 0;
        return;
    }

    if (rc == KL_OK) {
        return;
    }

    c->error = 1;
    kl_log_error(KL_LOG_INFO, c->log, rc == KL_DONE ? 0 : errno,
                 "client prematurely closed connection");

    if (c->write->timer_set) {
        kl_event_del_timer(c->write);
    }

    c->write->delayed = 0;

    kl_http_finalize_request(r, KL_HTTP_CLIENT_CLOSED_REQUEST);
}


static kl_int_t
kl_http_limit_req_status_variable(kl_http_request_t        *r,
                                  kl_http_variable_value_t *v, uintptr_t data)
{
    kl_str_t *name;

    (void) data;

    if (r->main->limit_req_status == 0) {
        v->not_found = 1;
        return KL_OK;
    }

    name = &kl_http_limit_req_status_names[r->main->limit_req_status - 1];

    v->len = name->len;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;
    v->data = name->data;

    return KL_OK;
}


static kl_int_t
kl_http_limit_req_init_zone(kl_shm_zone_t *zone, void *old_data)
{
    kl_http_limit_req_ctx_t *octx = old_data;
    kl_http_limit_req_ctx_t *ctx = zone->data;
    kl_slab_pool_t          *pool;

    if (octx != NULL) {
        if (ctx->key->value.len != octx->key->value.len
            || kl_strncmp(ctx->key->value.data, octx->key->value.data,
                          ctx->key->value.len)
                   != 0)
        {
            kl_log_error(KL_LOG_EMERG, kl_cycle->log, 0,
                         "limit_req \"%V\" uses the \"%V\" key "
                         "while previously it used the \"%V\" key",
                         &zone->shm.name, &ctx->key->value, &octx->key->value);
            return KL_ERROR;
        }

        ctx->sh = octx->sh;
        ctx->shpool = octx->shpool;

        return KL_OK;
    }

    pool = kl_slab_zone_init(zone, NULL);
    if (pool == NULL) {
        kl_log_error(KL_LOG_EMERG, kl_cycle->log, 0, "zone \"%V\" is too small",
                     &zone->shm.name);
        return KL_ERROR;
    }

    ctx->shpool = pool;

    ctx->sh = kl_slab_alloc(pool, sizeof(kl_http_limit_req_shctx_t));
    if (ctx->sh == NULL) {
        return KL_ERROR;
    }

    /* 64 bytes: a state with a key of up to 8 bytes fills a 64-byte chunk. */
    if (kl_zone_hash_init(&ctx->sh->tree, pool, 0, 64) != KL_OK) {
        return KL_ERROR;
    }

    ctx->sh->nomem_logged = 0;
    pool->data = ctx->sh;

    *kl_slprintf(pool->log_ctx, pool->log_ctx + sizeof(pool->log_ctx) - 1,
                 " in limit_req zone \"%V\"", &zone->shm.name) = '\0';

    return KL_OK;
}


static void *
kl_http_limit_req_create_conf(kl_conf_t *cf)
{
    kl_http_limit_req_conf_t *conf;

    conf = kl_pcalloc(cf->pool, sizeof(kl_http_limit_req_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /* limits: NULL, none on this level (a parent's are inherited) */
    conf->limit_log_level = KL_CONF_UNSET_UINT;
    conf->status_code = KL_CONF_UNSET;
    conf->dry_run = KL_CONF_UNSET;

    return conf;
}


static char *
kl_http_limit_req_merge_conf(kl_conf_t *cf, void *parent, void *child)
{
    kl_http_limit_req_conf_t *prev = parent;
    kl_http_limit_req_conf_t *conf = child;

    (void) cf;

    if (conf->limits == NULL) {
        conf->limits = prev->limits;
    }

    kl_conf_merge_uint_value(conf->limit_log_level, prev->limit_log_level,
                             KL_LOG_ERR);

    /* Delays are logged a level below refusals (info stays info). */
    conf->delay_log_level = (conf->limit_log_level == KL_LOG_INFO)
                                ? KL_LOG_INFO
                                : conf->limit_log_level + 1;

    kl_conf_merge_value(conf->status_code, prev->status_code,
                        KL_HTTP_SERVICE_UNAVAILABLE);

    kl_conf_merge_value(conf->dry_run, prev->dry_run, 0);

    return KL_CONF_OK;
}


static kl_int_t
kl_http_limit_req_add_variables(kl_conf_t *cf)
{
    kl_str_t            name = kl_string("limit_req_status");
    kl_http_variable_t *var;

    var = kl_http_add_variable(cf, &name, KL_HTTP_VAR_NOCACHEABLE);
    if (var == NULL) {
        return KL_ERROR;
    }

    var->get_handler = kl_http_limit_req_status_variable;

    return KL_OK;
}


/*
 * Every zone a limit_req names must have been declared by a
 * limit_req_zone (the http block is read: all of them are); nginx
 * reports one that was not so.
 */
static kl_int_t
kl_http_limit_req_init(kl_conf_t *cf)
{
    kl_uint_t       i;
    kl_list_part_t *part;
    kl_shm_zone_t  *zone;

    part = &cf->cycle->shm_zones.part;
    zone = part->elts;

    for (i = 0; /* void */; i++) {
        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            zone = part->elts;
            i = 0;
        }

        if (zone[i].tag == &kl_http_limit_req_module && zone[i].init == NULL) {
            kl_log_error(KL_LOG_EMERG, cf->log, 0,
                         "zero size shared memory zone \"%V\"",
                         &zone[i].shm.name);
            return KL_ERROR;
        }
    }

    return kl_http_add_phase_handler(cf, KL_HTTP_PREACCESS_PHASE,
                                     kl_http_limit_req_handler);
}


/* "rate=Nr/s", "rate=Nr/m" or "rate=N" (per second): per 1000 s; 0 bad. */
static kl_uint_t
kl_http_limit_req_parse_rate(kl_str_t *value)
{
    size_t    len;
    kl_int_t  rate;
    kl_uint_t scale;

    len = value->len;
    scale = 1;

    if (len >= 8 && kl_strncmp(value->data + len - 3, "r/s", 3) == 0) {
        len -= 3;

    } else if (len >= 8 && kl_strncmp(value->data + len - 3, "r/m", 3) == 0) {
        scale = 60;
        len -= 3;
    }

    rate = kl_atoi(value->data + 5, len - 5);
    if (rate <= 0) {
        return 0;
    }

    return (kl_uint_t) rate * 1000 / scale;
}


/* "zone=NAME:SIZE": name and size, or a phrase to refuse it with. */
static const char *
kl_http_limit_req_parse_zone(kl_str_t *value, kl_str_t *name, ssize_t *size)
{
    u_char  *p;
    kl_str_t s;

    name->data = value->data + 5;

    p = memchr(name->data, ':', value->len - 5);
    if (p == NULL) {
        return "invalid zone size";
    }

    name->len = (size_t) (p - name->data);

    s.data = p + 1;
    s.len = (size_t) (value->data + value->len - s.data);

    *size = kl_conf_parse_size(&s);
    if (*size == KL_ERROR) {
        return "invalid zone size";
    }

    if (*size < (ssize_t) (8 * KL_SLAB_PAGE_SIZE)) {
        return "too small";
    }

    return NULL;
}


static char *
kl_http_limit_req_zone(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    ssize_t                  size;
    kl_str_t                *value, name;
    kl_uint_t                i, rate;
    const char              *err;
    kl_shm_zone_t           *zone;
    kl_http_limit_req_ctx_t *ctx;

    (void) conf;

    value = cf->args->elts;

    ctx = kl_pcalloc(cf->pool, sizeof(kl_http_limit_req_ctx_t));
    if (ctx == NULL) {
        return KL_CONF_ERROR;
    }

    ctx->key = kl_http_compile_value(cf, &value[1]);
    if (ctx->key == NULL) {
        return KL_CONF_ERROR;
    }

    size = 0;
    rate = 1000;
    name.len = 0;

    for (i = 2; i < cf->args->nelts; i++) {

        if (kl_strncmp(value[i].data, "zone=", 5) == 0) {
            err = kl_http_limit_req_parse_zone(&value[i], &name, &size);

            if (err != NULL && err[0] == 't') {
                kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                                  "zone \"%V\" is too small", &value[i]);
                return KL_CONF_ERROR;
            }

            if (err != NULL) {
                kl_conf_log_error(KL_LOG_EMERG, cf, 0, "%s \"%V\"", err,
                                  &value[i]);
                return KL_CONF_ERROR;
            }

            continue;
        }

        if (kl_strncmp(value[i].data, "rate=", 5) == 0) {
            rate = kl_http_limit_req_parse_rate(&value[i]);

            if (rate == 0) {
                kl_conf_log_error(KL_LOG_EMERG, cf, 0, "invalid rate \"%V\"",
                                  &value[i]);
                return KL_CONF_ERROR;
            }

            continue;
        }

        if (value[i].len == 4 && kl_strncmp(value[i].data, "sync", 4) == 0) {
            kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                              "the \"sync\" parameter is NGINX Plus only "
                              "(zones synchronised between servers), "
                              "kiln does not have it");
            return KL_CONF_ERROR;
        }

        kl_conf_log_error(KL_LOG_EMERG, cf, 0, "invalid parameter \"%V\"",
                          &value[i]);
        return KL_CONF_ERROR;
    }

    if (name.len == 0) {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                          "\"%V\" must have \"zone\" parameter", &cmd->name);
        return KL_CONF_ERROR;
    }

    ctx->rate = rate;

    zone = kl_shm_zone_add(cf, &name, (size_t) size, &kl_http_limit_req_module);
    if (zone == NULL) {
        return KL_CONF_ERROR;
    }

    if (zone->data) {
        ctx = zone->data;
        kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                          "%V \"%V\" is already bound to key \"%V\"",
                          &cmd->name, &name, &ctx->key->value);
        return KL_CONF_ERROR;
    }

    ctx->zone = zone;
    zone->init = kl_http_limit_req_init_zone;
    zone->data = ctx;

    return KL_CONF_OK;
}


/* One "burst=N" or "delay=N": N, or 0 when it is not a positive number. */
static kl_uint_t
kl_http_limit_req_number(kl_str_t *value, size_t skip)
{
    kl_int_t n;

    n = kl_atoi(value->data + skip, value->len - skip);

    return n <= 0 ? 0 : (kl_uint_t) n;
}


static char *
kl_http_limit_req(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_str_t                  *value, s;
    kl_uint_t                  i, burst, delay;
    kl_shm_zone_t             *zone;
    kl_http_limit_req_conf_t  *lrcf = conf;
    kl_http_limit_req_limit_t *limit, *limits;

    value = cf->args->elts;

    zone = NULL;
    burst = 0;
    delay = 0;

    for (i = 1; i < cf->args->nelts; i++) {

        if (kl_strncmp(value[i].data, "zone=", 5) == 0) {
            s.len = value[i].len - 5;
            s.data = value[i].data + 5;

            zone = kl_shm_zone_add(cf, &s, 0, &kl_http_limit_req_module);
            if (zone == NULL) {
                return KL_CONF_ERROR;
            }

            continue;
        }

        if (kl_strncmp(value[i].data, "burst=", 6) == 0) {
            burst = kl_http_limit_req_number(&value[i], 6);
            if (burst == 0) {
                kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                                  "invalid burst value \"%V\"", &value[i]);
                return KL_CONF_ERROR;
            }

            continue;
        }

        if (kl_strncmp(value[i].data, "delay=", 6) == 0) {
            delay = kl_http_limit_req_number(&value[i], 6);
            if (delay == 0) {
                kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                                  "invalid delay value \"%V\"", &value[i]);
                return KL_CONF_ERROR;
            }

            continue;
        }

        if (value[i].len == 7 && kl_strncmp(value[i].data, "nodelay", 7) == 0) {
            delay = KL_MAX_INT_T_VALUE / 1000;
            continue;
        }

        kl_conf_log_error(KL_LOG_EMERG, cf, 0, "invalid parameter \"%V\"",
                          &value[i]);
        return KL_CONF_ERROR;
    }

    if (zone == NULL) {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                          "\"%V\" must have \"zone\" parameter", &cmd->name);
        return KL_CONF_ERROR;
    }

    if (lrcf->limits == NULL) {
        lrcf->limits =
            kl_array_create(cf->pool, 1, sizeof(kl_http_limit_req_limit_t));
        if (lrcf->limits == NULL) {
            return KL_CONF_ERROR;
        }
    }

    limits = lrcf->limits->elts;

    for (i = 0; i < lrcf->limits->nelts; i++) {
        if (zone == limits[i].shm_zone) {
            return "is duplicate";
        }
    }

    limit = kl_array_push(lrcf->limits);
    if (limit == NULL) {
        return KL_CONF_ERROR;
    }

    limit->shm_zone = zone;
    limit->burst = burst * 1000;
    limit->delay = delay * 1000;

    return KL_CONF_OK;
}


/* limit_req_status CODE: 400 to 599, as nginx takes it. */
static char *
kl_http_limit_req_status(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    char     *rv;
    kl_int_t *np;

    rv = kl_conf_set_num_slot(cf, cmd, conf);
    if (rv != KL_CONF_OK) {
        return rv;
    }

    np = (kl_int_t *) ((char *) conf + cmd->offset);

    if (*np < 400 || *np > 599) {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                          "value must be between 400 and 599");
        return KL_CONF_ERROR;
    }

    return KL_CONF_OK;
}
