/*
 * limit_conn.c: limit_conn_zone, limit_conn, limit_conn_status,
 * limit_conn_log_level, limit_conn_dry_run and $limit_conn_status, as
 * nginx's limit_conn module: requests in progress counted per key in a
 * shared zone.
 *
 * A request that passes takes one count per zone and gives it back from
 * a cleanup of its pool, so every way a request ends (a response sent, a
 * client gone mid-response, a worker's request terminated) releases it;
 * subrequests share the main request's pool and are counted once, with
 * it. A key's state goes when its count falls to 0, so a zone holds
 * only the keys with requests in progress and has nothing to evict: a
 * full zone refuses the request, as nginx's does.
 */

#include "kl_http.h"


#define KL_HTTP_LIMIT_CONN_PASSED           1
#define KL_HTTP_LIMIT_CONN_REJECTED         2
#define KL_HTTP_LIMIT_CONN_REJECTED_DRY_RUN 3

/* nginx keeps a key's length in a byte. */
#define KL_HTTP_LIMIT_CONN_KEY_MAX 255

/* One key's state: the value of its zone node. */
typedef struct {
    kl_uint_t conn;
} kl_http_limit_conn_node_t;

/* limit_conn_zone's, per cycle (the zone's data). */
typedef struct {
    kl_zone_hash_t          *tree;
    kl_slab_pool_t          *shpool;
    kl_http_complex_value_t *key;
} kl_http_limit_conn_ctx_t;

/* One limit_conn line. */
typedef struct {
    kl_shm_zone_t *shm_zone;
    kl_uint_t      conn;
} kl_http_limit_conn_limit_t;

typedef struct {
    kl_array_t *limits; /* kl_http_limit_conn_limit_t; NULL: none */
    kl_uint_t   log_level;
    kl_int_t    status_code;
    kl_int_t    dry_run;
} kl_http_limit_conn_conf_t;

/* A count to give back when the request's pool goes. */
typedef struct {
    kl_shm_zone_t  *shm_zone;
    kl_zone_node_t *node;
} kl_http_limit_conn_cleanup_t;


static kl_int_t kl_http_limit_conn_handler(kl_http_request_t *r);
static void     kl_http_limit_conn_cleanup(void *data);
static kl_int_t kl_http_limit_conn_status_variable(kl_http_request_t        *r,
                                                   kl_http_variable_value_t *v,
                                                   uintptr_t data);
static void    *kl_http_limit_conn_create_conf(kl_conf_t *cf);
static char    *kl_http_limit_conn_merge_conf(kl_conf_t *cf, void *parent,
                                              void *child);
static kl_int_t kl_http_limit_conn_add_variables(kl_conf_t *cf);
static kl_int_t kl_http_limit_conn_init(kl_conf_t *cf);
static char    *kl_http_limit_conn_zone(kl_conf_t *cf, kl_command_t *cmd,
                                        void *conf);
static char *kl_http_limit_conn(kl_conf_t *cf, kl_command_t *cmd, void *conf);
static char *kl_http_limit_conn_status(kl_conf_t *cf, kl_command_t *cmd,
                                       void *conf);


static kl_conf_enum_t kl_http_limit_conn_log_levels[] = {
    { kl_string("info"), KL_LOG_INFO },
    { kl_string("notice"), KL_LOG_NOTICE },
    { kl_string("warn"), KL_LOG_WARN },
    { kl_string("error"), KL_LOG_ERR },
    { kl_null_string, 0 },
};


/* clang-format off */
static kl_command_t  kl_http_limit_conn_commands[] = {

    { kl_string("limit_conn_zone"),
      KL_HTTP_MAIN_CONF | KL_CONF_TAKE2,
      kl_http_limit_conn_zone,
      0,
      0,
      NULL },

    { kl_string("limit_conn"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE2,
      kl_http_limit_conn,
      KL_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { kl_string("limit_conn_log_level"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE1,
      kl_conf_set_enum_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_limit_conn_conf_t, log_level),
      &kl_http_limit_conn_log_levels },

    { kl_string("limit_conn_status"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE1,
      kl_http_limit_conn_status,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_limit_conn_conf_t, status_code),
      NULL },

    { kl_string("limit_conn_dry_run"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_FLAG,
      kl_conf_set_flag_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_limit_conn_conf_t, dry_run),
      NULL },

    kl_null_command
};
/* clang-format on */


static kl_http_module_t kl_http_limit_conn_module_ctx = {
    .preconfiguration = kl_http_limit_conn_add_variables,
    .postconfiguration = kl_http_limit_conn_init,
    .create_loc_conf = kl_http_limit_conn_create_conf,
    .merge_loc_conf = kl_http_limit_conn_merge_conf,
};


kl_module_t kl_http_limit_conn_module = {
    .name = "kl_http_limit_conn_module",
    .type = KL_HTTP_MODULE,
    .ctx = &kl_http_limit_conn_module_ctx,
    .commands = kl_http_limit_conn_commands,
};


static kl_str_t kl_http_limit_conn_status_names[] = {
    kl_string("PASSED"),
    kl_string("REJECTED"),
    kl_string("REJECTED_DRY_RUN"),
};


/*
 * The key of ctx's zone for r. A key that is one variable alone (the
 * usual $binary_remote_addr) is that variable's value as it is: the
 * complex value would copy it, for the same bytes.
 */
/* Give back the counts taken so far by this request (it is refused). */
static void
kl_http_limit_conn_cleanup_all(kl_pool_t *pool)
{
    kl_pool_cleanup_t *cln;

    for (cln = pool->cleanup; cln; cln = cln->next) {
        if (cln->handler == kl_http_limit_conn_cleanup) {
            kl_http_limit_conn_cleanup(cln->data);
            cln->handler = NULL;
        }
    }
}


/* Take one count of key in limit's zone: KL_OK, or KL_BUSY / KL_ERROR. */
static kl_int_t
kl_http_limit_conn_take(kl_http_request_t *r, kl_http_limit_conn_limit_t *limit,
                        kl_str_t *key)
{
    kl_uint_t                     hash;
    kl_zone_node_t               *node;
    kl_pool_cleanup_t            *cln;
    kl_http_limit_conn_ctx_t     *ctx;
    kl_http_limit_conn_node_t    *lc;
    kl_http_limit_conn_cleanup_t *lccln;

    ctx = limit->shm_zone->data;
    hash = kl_zone_hash_key(key->data, key->len);

    /* First, so that a count taken always has its way back. */
    cln = kl_pool_cleanup_add(r->pool, sizeof(kl_http_limit_conn_cleanup_t));
    if (cln == NULL) {
        return KL_HTTP_INTERNAL_SERVER_ERROR;
    }

    kl_shmtx_lock(&ctx->shpool->mutex);

    node = kl_zone_hash_lookup(ctx->tree, hash, key->data, key->len);

    if (node == NULL) {
        node = kl_zone_hash_insert(ctx->tree, ctx->shpool, hash, key->data,
                                   key->len, sizeof(kl_http_limit_conn_node_t));
        if (node == NULL) {
            kl_shmtx_unlock(&ctx->shpool->mutex);
            return KL_ERROR;
        }

        lc = kl_zone_node_value(node);
        lc->conn = 1;

    } else {
        lc = kl_zone_node_value(node);

        if (lc->conn >= limit->conn) {
            kl_shmtx_unlock(&ctx->shpool->mutex);
            return KL_BUSY;
        }

        lc->conn++;
    }

    kl_shmtx_unlock(&ctx->shpool->mutex);

    lccln = cln->data;
    lccln->shm_zone = limit->shm_zone;
    lccln->node = node;
    cln->handler = kl_http_limit_conn_cleanup;

    return KL_OK;
}


static kl_int_t
kl_http_limit_conn_handler(kl_http_request_t *r)
{
    kl_int_t                    rc;
    kl_str_t                    key;
    kl_uint_t                   i;
    kl_http_limit_conn_ctx_t   *ctx;
    kl_http_limit_conn_conf_t  *lccf;
    kl_http_limit_conn_limit_t *limits;

    if (r->main->limit_conn_status) {
        return KL_DECLINED;
    }

    lccf = kl_http_get_module_loc_conf(r, kl_http_limit_conn_module);

    if (lccf->limits == NULL) {
        return KL_DECLINED;
    }

    limits = lccf->limits->elts;

    for (i = 0; i < lccf->limits->nelts; i++) {
        ctx = limits[i].shm_zone->data;

        if (kl_http_complex_value_ref(r, ctx->key, &key) != KL_OK) {
            return KL_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (key.len == 0) {
            continue;
        }

        if (key.len > KL_HTTP_LIMIT_CONN_KEY_MAX) {
            kl_log_error(KL_LOG_ERR, r->connection->log, 0,
                         "the value of the \"%V\" key "
                         "is more than 255 bytes: \"%V\"",
                         &ctx->key->value, &key);
            continue;
        }

        r->main->limit_conn_status = KL_HTTP_LIMIT_CONN_PASSED;

        rc = kl_http_limit_conn_take(r, &limits[i], &key);

        if (rc == KL_OK) {
            continue;
        }

        if (rc == KL_HTTP_INTERNAL_SERVER_ERROR) {
            return rc;
        }

        if (rc == KL_BUSY) {
            kl_log_error(lccf->log_level, r->connection->log, 0,
                         "limiting connections%s by zone \"%V\"",
                         lccf->dry_run ? ", dry run," : "",
                         &limits[i].shm_zone->shm.name);
        }

        kl_http_limit_conn_cleanup_all(r->pool);

        if (lccf->dry_run) {
            r->main->limit_conn_status = KL_HTTP_LIMIT_CONN_REJECTED_DRY_RUN;
            return KL_DECLINED;
        }

        r->main->limit_conn_status = KL_HTTP_LIMIT_CONN_REJECTED;

        return lccf->status_code;
    }

    return KL_DECLINED;
}


static void
kl_http_limit_conn_cleanup(void *data)
{
    kl_http_limit_conn_cleanup_t *lccln = data;
    kl_http_limit_conn_ctx_t     *ctx;
    kl_http_limit_conn_node_t    *lc;

    ctx = lccln->shm_zone->data;
    lc = kl_zone_node_value(lccln->node);

    kl_shmtx_lock(&ctx->shpool->mutex);

    lc->conn--;

    if (lc->conn == 0) {
        kl_zone_hash_delete(ctx->tree, ctx->shpool, lccln->node);
    }

    kl_shmtx_unlock(&ctx->shpool->mutex);
}


static kl_int_t
kl_http_limit_conn_status_variable(kl_http_request_t        *r,
                                   kl_http_variable_value_t *v, uintptr_t data)
{
    kl_str_t *name;

    (void) data;

    if (r->main->limit_conn_status == 0) {
        v->not_found = 1;
        return KL_OK;
    }

    name = &kl_http_limit_conn_status_names[r->main->limit_conn_status - 1];

    v->len = name->len;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;
    v->data = name->data;

    return KL_OK;
}


static kl_int_t
kl_http_limit_conn_init_zone(kl_shm_zone_t *zone, void *old_data)
{
    kl_http_limit_conn_ctx_t *octx = old_data;
    kl_http_limit_conn_ctx_t *ctx = zone->data;
    kl_slab_pool_t           *pool;

    if (octx != NULL) {
        if (ctx->key->value.len != octx->key->value.len
            || kl_strncmp(ctx->key->value.data, octx->key->value.data,
                          ctx->key->value.len)
                   != 0)
        {
            kl_log_error(KL_LOG_EMERG, kl_cycle->log, 0,
                         "limit_conn_zone \"%V\" uses the \"%V\" key "
                         "while previously it used the \"%V\" key",
                         &zone->shm.name, &ctx->key->value, &octx->key->value);
            return KL_ERROR;
        }

        ctx->tree = octx->tree;
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

    ctx->tree = kl_slab_alloc(pool, sizeof(kl_zone_hash_t));
    if (ctx->tree == NULL) {
        return KL_ERROR;
    }

    if (kl_zone_hash_init(ctx->tree, pool, 0, 64) != KL_OK) {
        return KL_ERROR;
    }

    pool->data = ctx->tree;

    *kl_slprintf(pool->log_ctx, pool->log_ctx + sizeof(pool->log_ctx) - 1,
                 " in limit_conn_zone \"%V\"", &zone->shm.name) = '\0';

    return KL_OK;
}


static void *
kl_http_limit_conn_create_conf(kl_conf_t *cf)
{
    kl_http_limit_conn_conf_t *conf;

    conf = kl_pcalloc(cf->pool, sizeof(kl_http_limit_conn_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /* limits: NULL, none on this level (a parent's are inherited) */
    conf->log_level = KL_CONF_UNSET_UINT;
    conf->status_code = KL_CONF_UNSET;
    conf->dry_run = KL_CONF_UNSET;

    return conf;
}


static char *
kl_http_limit_conn_merge_conf(kl_conf_t *cf, void *parent, void *child)
{
    kl_http_limit_conn_conf_t *prev = parent;
    kl_http_limit_conn_conf_t *conf = child;

    (void) cf;

    if (conf->limits == NULL) {
        conf->limits = prev->limits;
    }

    kl_conf_merge_uint_value(conf->log_level, prev->log_level, KL_LOG_ERR);
    kl_conf_merge_value(conf->status_code, prev->status_code,
                        KL_HTTP_SERVICE_UNAVAILABLE);
    kl_conf_merge_value(conf->dry_run, prev->dry_run, 0);

    return KL_CONF_OK;
}


static kl_int_t
kl_http_limit_conn_add_variables(kl_conf_t *cf)
{
    kl_str_t            name = kl_string("limit_conn_status");
    kl_http_variable_t *var;

    var = kl_http_add_variable(cf, &name, KL_HTTP_VAR_NOCACHEABLE);
    if (var == NULL) {
        return KL_ERROR;
    }

    var->get_handler = kl_http_limit_conn_status_variable;

    return KL_OK;
}


/* A zone limit_conn names but no limit_conn_zone declares: nginx's words. */
static kl_int_t
kl_http_limit_conn_init(kl_conf_t *cf)
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

        if (zone[i].tag == &kl_http_limit_conn_module && zone[i].init == NULL) {
            kl_log_error(KL_LOG_EMERG, cf->log, 0,
                         "zero size shared memory zone \"%V\"",
                         &zone[i].shm.name);
            return KL_ERROR;
        }
    }

    return kl_http_add_phase_handler(cf, KL_HTTP_PREACCESS_PHASE,
                                     kl_http_limit_conn_handler);
}


static char *
kl_http_limit_conn_zone(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    u_char                   *p;
    ssize_t                   size;
    kl_str_t                 *value, name, s;
    kl_shm_zone_t            *zone;
    kl_http_limit_conn_ctx_t *ctx;

    (void) conf;

    value = cf->args->elts;

    ctx = kl_pcalloc(cf->pool, sizeof(kl_http_limit_conn_ctx_t));
    if (ctx == NULL) {
        return KL_CONF_ERROR;
    }

    ctx->key = kl_http_compile_value(cf, &value[1]);
    if (ctx->key == NULL) {
        return KL_CONF_ERROR;
    }

    if (kl_strncmp(value[2].data, "zone=", 5) != 0) {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0, "invalid parameter \"%V\"",
                          &value[2]);
        return KL_CONF_ERROR;
    }

    name.data = value[2].data + 5;

    p = memchr(name.data, ':', value[2].len - 5);
    if (p == NULL) {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0, "invalid zone size \"%V\"",
                          &value[2]);
        return KL_CONF_ERROR;
    }

    name.len = (size_t) (p - name.data);

    s.data = p + 1;
    s.len = (size_t) (value[2].data + value[2].len - s.data);

    size = kl_conf_parse_size(&s);
    if (size == KL_ERROR) {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0, "invalid zone size \"%V\"",
                          &value[2]);
        return KL_CONF_ERROR;
    }

    if (size < (ssize_t) (8 * KL_SLAB_PAGE_SIZE)) {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0, "zone \"%V\" is too small",
                          &value[2]);
        return KL_CONF_ERROR;
    }

    zone =
        kl_shm_zone_add(cf, &name, (size_t) size, &kl_http_limit_conn_module);
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

    zone->init = kl_http_limit_conn_init_zone;
    zone->data = ctx;

    return KL_CONF_OK;
}


static char *
kl_http_limit_conn(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_int_t                    n;
    kl_str_t                   *value;
    kl_uint_t                   i;
    kl_shm_zone_t              *zone;
    kl_http_limit_conn_conf_t  *lccf = conf;
    kl_http_limit_conn_limit_t *limit, *limits;

    (void) cmd;

    value = cf->args->elts;

    zone = kl_shm_zone_add(cf, &value[1], 0, &kl_http_limit_conn_module);
    if (zone == NULL) {
        return KL_CONF_ERROR;
    }

    if (lccf->limits == NULL) {
        lccf->limits =
            kl_array_create(cf->pool, 1, sizeof(kl_http_limit_conn_limit_t));
        if (lccf->limits == NULL) {
            return KL_CONF_ERROR;
        }
    }

    limits = lccf->limits->elts;

    for (i = 0; i < lccf->limits->nelts; i++) {
        if (zone == limits[i].shm_zone) {
            return "is duplicate";
        }
    }

    n = kl_atoi(value[2].data, value[2].len);
    if (n <= 0) {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                          "invalid number of connections \"%V\"", &value[2]);
        return KL_CONF_ERROR;
    }

    if (n > 65535) {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                          "connection limit must be less 65536");
        return KL_CONF_ERROR;
    }

    limit = kl_array_push(lccf->limits);
    if (limit == NULL) {
        return KL_CONF_ERROR;
    }

    limit->conn = (kl_uint_t) n;
    limit->shm_zone = zone;

    return KL_CONF_OK;
}


/* limit_conn_status CODE: 400 to 599, as nginx takes it. */
static char *
kl_http_limit_conn_status(kl_conf_t *cf, kl_command_t *cmd, void *conf)
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
