/*
 * upstream_keepalive.c: "keepalive N;" in an upstream block: each worker
 * keeps up to N idle connections to the group's peers (least recently
 * used closed first), and hands one back when the group's balancer picks
 * a peer it has one for. keepalive_requests, keepalive_timeout (idle)
 * and keepalive_time (since the connect) bound a connection's reuse. It wraps whatever balancer the group had when
 * "keepalive" was read, so it must come after the balancer directive.
 */

#include "kl_http.h"
#include "upstream_peer.h"


typedef struct {
    kl_uint_t max_cached;
    kl_uint_t requests;
    kl_msec_t timeout;
    kl_msec_t time; /* keepalive_time: a connection's whole life */

    kl_queue_t cache; /* most recently used first */
    kl_queue_t free;

    kl_http_upstream_init_pt      original_init_upstream;
    kl_http_upstream_init_peer_pt original_init_peer;
} kl_http_upstream_keepalive_srv_conf_t;

/* One idle connection in the cache, with the peer address it goes to. */
typedef struct {
    kl_http_upstream_keepalive_srv_conf_t *conf;
    kl_queue_t                             queue;
    kl_connection_t                       *connection;
    socklen_t                              socklen;
    kl_sockaddr_t                          sockaddr;
} kl_http_upstream_keepalive_cache_t;

typedef struct {
    kl_http_upstream_keepalive_srv_conf_t *conf;
    void                                  *data;
    kl_peer_get_pt                         original_get_peer;
    kl_peer_free_pt                        original_free_peer;
} kl_http_upstream_keepalive_peer_data_t;


static void *kl_http_upstream_keepalive_create_conf(kl_conf_t *cf);
static char *kl_http_upstream_keepalive(kl_conf_t *cf, kl_command_t *cmd,
                                        void *conf);
static kl_int_t
kl_http_upstream_init_keepalive(kl_conf_t *cf, kl_http_upstream_srv_conf_t *us);
static kl_int_t
                kl_http_upstream_init_keepalive_peer(kl_http_request_t           *r,
                                                     kl_http_upstream_srv_conf_t *us,
                                                     kl_peer_connection_t        *pc);
static kl_int_t kl_http_upstream_get_keepalive_peer(kl_peer_connection_t *pc,
                                                    void                 *data);
static void     kl_http_upstream_free_keepalive_peer(kl_peer_connection_t *pc,
                                                     void *data, kl_uint_t state);
static void     kl_http_upstream_keepalive_close_handler(kl_event_t *ev);
static void     kl_http_upstream_keepalive_dummy_handler(kl_event_t *ev);


static kl_command_t kl_http_upstream_keepalive_commands[] = {
    { kl_string("keepalive"), KL_HTTP_UPS_CONF | KL_CONF_TAKE1,
      kl_http_upstream_keepalive, KL_HTTP_SRV_CONF_OFFSET, 0, NULL },

    { kl_string("keepalive_requests"), KL_HTTP_UPS_CONF | KL_CONF_TAKE1,
      kl_conf_set_num_slot, KL_HTTP_SRV_CONF_OFFSET,
      offsetof(kl_http_upstream_keepalive_srv_conf_t, requests), NULL },

    { kl_string("keepalive_timeout"), KL_HTTP_UPS_CONF | KL_CONF_TAKE1,
      kl_conf_set_msec_slot, KL_HTTP_SRV_CONF_OFFSET,
      offsetof(kl_http_upstream_keepalive_srv_conf_t, timeout), NULL },

    { kl_string("keepalive_time"), KL_HTTP_UPS_CONF | KL_CONF_TAKE1,
      kl_conf_set_msec_slot, KL_HTTP_SRV_CONF_OFFSET,
      offsetof(kl_http_upstream_keepalive_srv_conf_t, time), NULL },

    kl_null_command
};


static kl_http_module_t kl_http_upstream_keepalive_module_ctx = {
    .create_srv_conf = kl_http_upstream_keepalive_create_conf,
};


kl_module_t kl_http_upstream_keepalive_module = {
    .name = "kl_http_upstream_keepalive_module",
    .ctx = &kl_http_upstream_keepalive_module_ctx,
    .commands = kl_http_upstream_keepalive_commands,
    .type = KL_HTTP_MODULE,
};


static void *
kl_http_upstream_keepalive_create_conf(kl_conf_t *cf)
{
    kl_http_upstream_keepalive_srv_conf_t *kcf;

    kcf = kl_pcalloc(cf->pool, sizeof(kl_http_upstream_keepalive_srv_conf_t));
    if (kcf == NULL) {
        return NULL;
    }

    kcf->requests = KL_CONF_UNSET_UINT;
    kcf->timeout = KL_CONF_UNSET_MSEC;
    kcf->time = KL_CONF_UNSET_MSEC;

    return kcf;
}


static char *
kl_http_upstream_keepalive(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_int_t                               n;
    kl_str_t                              *value;
    kl_http_upstream_srv_conf_t           *uscf;
    kl_http_upstream_keepalive_srv_conf_t *kcf;

    kcf = conf;

    if (kcf->max_cached) {
        return "is duplicate";
    }

    value = cf->args->elts;
    n = kl_atoi(value[1].data, value[1].len);

    if (n == KL_ERROR || n == 0) {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                          "invalid value \"%V\" in \"%V\" directive", &value[1],
                          &cmd->name);
        return KL_CONF_ERROR;
    }

    kcf->max_cached = (kl_uint_t) n;

    uscf = kl_http_upstream_block(cf);

    kcf->original_init_upstream = uscf->peer.init_upstream
                                      ? uscf->peer.init_upstream
                                      : kl_http_upstream_init_round_robin;

    uscf->peer.init_upstream = kl_http_upstream_init_keepalive;

    return KL_CONF_OK;
}


static kl_int_t
kl_http_upstream_init_keepalive(kl_conf_t *cf, kl_http_upstream_srv_conf_t *us)
{
    kl_uint_t                              i;
    kl_http_upstream_keepalive_cache_t    *cached;
    kl_http_upstream_keepalive_srv_conf_t *kcf;

    kcf = us->srv_conf[kl_http_upstream_keepalive_module.ctx_index];

    kl_conf_init_uint_value(kcf->requests, 1000);
    kl_conf_init_msec_value(kcf->timeout, 60000);
    kl_conf_init_msec_value(kcf->time, 3600000);

    if (kcf->original_init_upstream(cf, us) != KL_OK) {
        return KL_ERROR;
    }

    kcf->original_init_peer = us->peer.init;
    us->peer.init = kl_http_upstream_init_keepalive_peer;

    cached = kl_pcalloc(cf->pool, sizeof(kl_http_upstream_keepalive_cache_t)
                                      * kcf->max_cached);
    if (cached == NULL) {
        return KL_ERROR;
    }

    kl_queue_init(&kcf->cache);
    kl_queue_init(&kcf->free);

    for (i = 0; i < kcf->max_cached; i++) {
        kl_queue_insert_head(&kcf->free, &cached[i].queue);
        cached[i].conf = kcf;
    }

    return KL_OK;
}


static kl_int_t
kl_http_upstream_init_keepalive_peer(kl_http_request_t           *r,
                                     kl_http_upstream_srv_conf_t *us,
                                     kl_peer_connection_t        *pc)
{
    kl_http_upstream_keepalive_peer_data_t *kp;
    kl_http_upstream_keepalive_srv_conf_t  *kcf;

    kcf = us->srv_conf[kl_http_upstream_keepalive_module.ctx_index];

    kp = kl_palloc(r->pool, sizeof(kl_http_upstream_keepalive_peer_data_t));
    if (kp == NULL) {
        return KL_ERROR;
    }

    if (kcf->original_init_peer(r, us, pc) != KL_OK) {
        return KL_ERROR;
    }

    kp->conf = kcf;
    kp->data = pc->data;
    kp->original_get_peer = pc->get;
    kp->original_free_peer = pc->free;

    pc->data = kp;
    pc->get = kl_http_upstream_get_keepalive_peer;
    pc->free = kl_http_upstream_free_keepalive_peer;

    return KL_OK;
}


/* The balancer picks the peer; a cached connection to it is used if any. */
static kl_int_t
kl_http_upstream_get_keepalive_peer(kl_peer_connection_t *pc, void *data)
{
    kl_int_t                                rc;
    kl_queue_t                             *q, *cache;
    kl_connection_t                        *c;
    kl_http_upstream_keepalive_cache_t     *item;
    kl_http_upstream_keepalive_peer_data_t *kp;

    kp = data;

    rc = kp->original_get_peer(pc, kp->data);

    if (rc != KL_OK) {
        return rc;
    }

    cache = &kp->conf->cache;

    for (q = kl_queue_head(cache); q != kl_queue_sentinel(cache);
         q = kl_queue_next(q))
    {
        item = kl_queue_data(q, kl_http_upstream_keepalive_cache_t, queue);

        if (item->socklen != pc->socklen
            || memcmp(&item->sockaddr, pc->sockaddr, pc->socklen) != 0)
        {
            continue;
        }

        kl_queue_remove(q);
        kl_queue_insert_head(&kp->conf->free, q);

        c = item->connection;
        item->connection = NULL;

        kl_reusable_connection(c, 0);

        c->idle = 0;
        c->sent = 0;
        c->data = NULL;
        c->log = pc->log;
        c->read->log = pc->log;
        c->write->log = pc->log;

        if (c->pool) {
            c->pool->log = pc->log;
        }

        if (c->read->timer_set) {
            kl_event_del_timer(c->read);
        }

        pc->connection = c;
        pc->cached = 1;

        return KL_DONE;
    }

    return KL_OK;
}


/*
 * A connection whose response was read whole goes to the cache (the
 * least recently used one closed if it is full), unless it failed, hit
 * keepalive_requests, or its peer already closed or sent something.
 */
static void
kl_http_upstream_free_keepalive_peer(kl_peer_connection_t *pc, void *data,
                                     kl_uint_t state)
{
    kl_queue_t                             *q;
    kl_connection_t                        *c;
    kl_http_upstream_keepalive_cache_t     *item;
    kl_http_upstream_keepalive_peer_data_t *kp;

    kp = data;
    c = pc->connection;

    if (!(state & KL_PEER_KEEPALIVE) || (state & KL_PEER_FAILED) || c == NULL
        || c->read->eof || c->read->error || c->read->timedout
        || c->write->error || c->write->timedout || kl_loop.exiting)
    {
        goto invalid;
    }

    c->requests++;

    if (c->requests >= kp->conf->requests
        || kl_now() - c->start_time > kp->conf->time)
    {
        goto invalid;
    }

    if (kl_queue_empty(&kp->conf->free)) {
        q = kl_queue_last(&kp->conf->cache);
        kl_queue_remove(q);

        item = kl_queue_data(q, kl_http_upstream_keepalive_cache_t, queue);
        kl_close_connection(item->connection);

    } else {
        q = kl_queue_head(&kp->conf->free);
        kl_queue_remove(q);

        item = kl_queue_data(q, kl_http_upstream_keepalive_cache_t, queue);
    }

    kl_queue_insert_head(&kp->conf->cache, q);

    item->connection = c;
    pc->connection = NULL;

    c->read->delayed = 0;
    kl_event_add_timer(c->read, kp->conf->timeout);

    if (c->write->timer_set) {
        kl_event_del_timer(c->write);
    }

    c->write->handler = kl_http_upstream_keepalive_dummy_handler;
    c->read->handler = kl_http_upstream_keepalive_close_handler;

    c->data = item;
    c->idle = 1;
    c->log = kl_cycle->log;
    c->read->log = kl_cycle->log;
    c->write->log = kl_cycle->log;

    if (c->pool) {
        c->pool->log = kl_cycle->log;
    }

    /* an exiting worker closes its reusable connections */
    kl_reusable_connection(c, 1);

    item->socklen = pc->socklen;
    kl_memcpy(&item->sockaddr, pc->sockaddr, pc->socklen);

    if (c->read->ready) {
        kl_http_upstream_keepalive_close_handler(c->read);
    }

invalid:

    kp->original_free_peer(pc, kp->data, state);
}


/*
 * An idle cached connection is readable only when the peer closed it or
 * sent bytes nobody asked for: either way it is no longer reusable.
 */
static void
kl_http_upstream_keepalive_close_handler(kl_event_t *ev)
{
    kl_connection_t                       *c;
    kl_http_upstream_keepalive_cache_t    *item;
    kl_http_upstream_keepalive_srv_conf_t *conf;

    c = ev->data;

    if (!c->close && !ev->timedout) {
        if (c->io->peek(c) == KL_AGAIN) {
            ev->ready = 0;
            return;
        }
    }

    item = c->data;
    conf = item->conf;

    kl_close_connection(c);

    item->connection = NULL;
    kl_queue_remove(&item->queue);
    kl_queue_insert_head(&conf->free, &item->queue);
}


static void
kl_http_upstream_keepalive_dummy_handler(kl_event_t *ev)
{
    (void) ev;
}
