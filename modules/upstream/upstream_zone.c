/*
 * upstream_zone.c: "zone NAME [SIZE]" in upstream {}: the group's peer
 * tables in a shared zone, so that every worker sees the same fails,
 * fail times, weights and connection counts (max_fails, least_conn,
 * max_conns act on the whole server, as in nginx).
 *
 * The round robin tables are built per group while the configuration is
 * read, as without a zone; once the master maps the zone, its init hook
 * copies the peers and their lists into it and the group points at the
 * copies, before any worker is forked. The strings and addresses stay in
 * the configuration's memory, which every worker has a copy of: only
 * what changes at run time is shared. Every get and free of a balancer
 * then holds the zone's lock (upstream_round_robin.h).
 *
 * As in nginx, a reload maps the zone afresh (the old workers keep the
 * old one until they exit): the new configuration's peers start with no
 * failure and no connection counted. Several groups may share one zone;
 * the size is then given once, "zone NAME;" elsewhere referring to it.
 */

#include "kl_http.h"
#include "upstream_round_robin.h"


/* always built: the groups and their list are its */
extern kl_module_t kl_http_upstream_module;

static char    *kl_http_upstream_zone(kl_conf_t *cf, kl_command_t *cmd,
                                      void *conf);
static kl_int_t kl_http_upstream_zone_check(kl_conf_t *cf);
static kl_int_t kl_http_upstream_zone_init(kl_shm_zone_t *zone, void *old_data);
static kl_http_upstream_rr_peers_t *
kl_http_upstream_zone_copy(kl_slab_pool_t              *pool,
                           kl_http_upstream_rr_peers_t *src, kl_shmtx_t *mutex);


/* Directive tables keep one field a line, as nginx's do. */
/* clang-format off */
static kl_command_t  kl_http_upstream_zone_commands[] = {

    { kl_string("zone"),
      KL_HTTP_UPS_CONF | KL_CONF_TAKE12,
      kl_http_upstream_zone,
      0,
      0,
      NULL },

    kl_null_command
};
/* clang-format on */


static kl_http_module_t kl_http_upstream_zone_module_ctx = {
    .postconfiguration = kl_http_upstream_zone_check,
};


kl_module_t kl_http_upstream_zone_module = {
    .name = "kl_http_upstream_zone_module",
    .type = KL_HTTP_MODULE,
    .ctx = &kl_http_upstream_zone_module_ctx,
    .commands = kl_http_upstream_zone_commands,
};


/* nginx's words for the name and the size; 32k at least, as nginx. */
static char *
kl_http_upstream_zone(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    ssize_t                       size;
    kl_str_t                     *value;
    kl_http_upstream_srv_conf_t  *us;
    kl_http_upstream_main_conf_t *umcf;

    (void) cmd;
    (void) conf;

    us = kl_http_upstream_block(cf);
    umcf = kl_http_conf_get_module_main_conf(cf, kl_http_upstream_module);

    value = cf->args->elts;

    if (us->shm_zone) {
        return "is duplicate";
    }

    if (value[1].len == 0) {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0, "invalid zone name \"%V\"",
                          &value[1]);
        return KL_CONF_ERROR;
    }

    size = 0;

    if (cf->args->nelts == 3) {
        size = kl_conf_parse_size(&value[2]);

        if (size == KL_ERROR) {
            kl_conf_log_error(KL_LOG_EMERG, cf, 0, "invalid zone size \"%V\"",
                              &value[2]);
            return KL_CONF_ERROR;
        }

        if (size < (ssize_t) (8 * KL_SLAB_PAGE_SIZE)) {
            kl_conf_log_error(KL_LOG_EMERG, cf, 0, "zone \"%V\" is too small",
                              &value[1]);
            return KL_CONF_ERROR;
        }
    }

    us->shm_zone = kl_shm_zone_add(cf, &value[1], (size_t) size,
                                   &kl_http_upstream_zone_module);
    if (us->shm_zone == NULL) {
        return KL_CONF_ERROR;
    }

    us->shm_zone->init = kl_http_upstream_zone_init;
    us->shm_zone->data = umcf;
    us->shm_zone->noreuse = 1;

    return KL_CONF_OK;
}


/*
 * A group whose peers follow a name at run time ("server ... resolve")
 * rebuilds its tables in each worker (upstream_resolve_group.c), which a
 * shared copy cannot follow yet. nginx requires a zone for "resolve", so
 * such configurations carry one: the group is served with its state per
 * worker, and the configuration test says so.
 */
static kl_int_t
kl_http_upstream_zone_check(kl_conf_t *cf)
{
    kl_uint_t                     i;
    kl_http_upstream_srv_conf_t **usp;
    kl_http_upstream_main_conf_t *umcf;

    umcf = kl_http_conf_get_module_main_conf(cf, kl_http_upstream_module);
    usp = umcf->upstreams.elts;

    for (i = 0; i < umcf->upstreams.nelts; i++) {
        if (usp[i]->shm_zone && usp[i]->resolve) {
            kl_log_error(KL_LOG_WARN, cf->log, 0,
                         "\"zone\" is not shared by a group with "
                         "\"server ... resolve\": its peers' state stays "
                         "per worker in upstream \"%V\" in %V:%ui",
                         &usp[i]->host, &usp[i]->file_name, usp[i]->line);
        }
    }

    return KL_OK;
}


/* In the master, the zone fresh: every group of the zone copied into it. */
static kl_int_t
kl_http_upstream_zone_init(kl_shm_zone_t *zone, void *old_data)
{
    kl_uint_t                     i;
    kl_slab_pool_t               *pool;
    kl_http_upstream_rr_peers_t  *peers;
    kl_http_upstream_srv_conf_t **usp;
    kl_http_upstream_main_conf_t *umcf;

    umcf = zone->data;

    pool = kl_slab_zone_init(zone, old_data);
    if (pool == NULL) {
        kl_log_error(KL_LOG_EMERG, kl_cycle->log, 0,
                     "upstream zone \"%V\" is too small", &zone->shm.name);
        return KL_ERROR;
    }

    zone->data = pool;
    usp = umcf->upstreams.elts;

    for (i = 0; i < umcf->upstreams.nelts; i++) {
        if (usp[i]->shm_zone != zone || usp[i]->peer.data == NULL
            || usp[i]->resolve) {
            continue;
        }

        peers =
            kl_http_upstream_zone_copy(pool, usp[i]->peer.data, &zone->mutex);
        if (peers == NULL) {
            kl_log_error(KL_LOG_EMERG, kl_cycle->log, 0,
                         "upstream zone \"%V\" is too small for upstream "
                         "\"%V\"",
                         &zone->shm.name, &usp[i]->host);
            return KL_ERROR;
        }

        usp[i]->peer.data = peers;
    }

    return KL_OK;
}


/* A list of peers (and its backup list) in the zone; NULL: no room. */
static kl_http_upstream_rr_peers_t *
kl_http_upstream_zone_copy(kl_slab_pool_t              *pool,
                           kl_http_upstream_rr_peers_t *src, kl_shmtx_t *mutex)
{
    kl_http_upstream_rr_peer_t  *peer, **tail, *sp;
    kl_http_upstream_rr_peers_t *peers;

    peers = kl_slab_alloc(pool, sizeof(kl_http_upstream_rr_peers_t));
    if (peers == NULL) {
        return NULL;
    }

    kl_memcpy(peers, src, sizeof(kl_http_upstream_rr_peers_t));
    peers->mutex = mutex;
    tail = &peers->peer;

    for (sp = src->peer; sp; sp = sp->next) {
        peer = kl_slab_alloc(pool, sizeof(kl_http_upstream_rr_peer_t));
        if (peer == NULL) {
            return NULL;
        }

        kl_memcpy(peer, sp, sizeof(kl_http_upstream_rr_peer_t));
        *tail = peer;
        tail = &peer->next;
    }

    *tail = NULL;

    if (src->next) {
        peers->next = kl_http_upstream_zone_copy(pool, src->next, mutex);
        if (peers->next == NULL) {
            return NULL;
        }
    }

    return peers;
}
