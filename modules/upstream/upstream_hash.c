/*
 * upstream_hash.c: "hash KEY [consistent];": the peer chosen by a hash of
 * a complex value. Plain: nginx's (Cache::Memcached's) crc32 modulo the
 * total weight, rehashed when the peer cannot be used. Consistent: a
 * ketama ring of 160 points per weight unit (Cache::Memcached::Fast's
 * points, as nginx), so removing one of N servers moves about 1/N keys.
 */

#include "kl_http.h"
#include "upstream_round_robin.h"


typedef struct {
    uint32_t  hash;
    kl_str_t *server;
} kl_http_upstream_chash_point_t;

typedef struct {
    kl_uint_t                       number;
    kl_http_upstream_chash_point_t *point;
} kl_http_upstream_chash_points_t;

typedef struct {
    kl_http_complex_value_t         *key;
    kl_http_upstream_chash_points_t *points;
} kl_http_upstream_hash_srv_conf_t;

typedef struct {
    kl_http_upstream_rr_peer_data_t rrp; /* first: round robin's data */

    kl_http_upstream_hash_srv_conf_t *conf;
    kl_str_t                          key;
    kl_uint_t                         tries;
    kl_uint_t                         rehash;
    uint32_t                          hash;
} kl_http_upstream_hash_peer_data_t;


static void    *kl_http_upstream_hash_create_conf(kl_conf_t *cf);
static char    *kl_http_upstream_hash(kl_conf_t *cf, kl_command_t *cmd,
                                      void *conf);
static kl_int_t kl_http_upstream_init_hash(kl_conf_t                   *cf,
                                           kl_http_upstream_srv_conf_t *us);
static kl_int_t kl_http_upstream_init_hash_peer(kl_http_request_t           *r,
                                                kl_http_upstream_srv_conf_t *us,
                                                kl_peer_connection_t *pc);
static kl_int_t kl_http_upstream_get_hash_peer(kl_peer_connection_t *pc,
                                               void                 *data);
static kl_int_t kl_http_upstream_get_hash_peer_locked(kl_peer_connection_t *pc,
                                                      void *data);
static kl_int_t kl_http_upstream_init_chash(kl_conf_t                   *cf,
                                            kl_http_upstream_srv_conf_t *us);
static void     kl_http_upstream_chash_server(kl_str_t *server, uint32_t *base);
static int      kl_http_upstream_chash_cmp(const void *one, const void *two);
static kl_uint_t
kl_http_upstream_find_chash_point(kl_http_upstream_chash_points_t *points,
                                  uint32_t                         hash);
static kl_int_t
                kl_http_upstream_init_chash_peer(kl_http_request_t           *r,
                                                 kl_http_upstream_srv_conf_t *us,
                                                 kl_peer_connection_t        *pc);
static kl_int_t kl_http_upstream_get_chash_peer(kl_peer_connection_t *pc,
                                                void                 *data);
static kl_int_t kl_http_upstream_get_chash_peer_locked(kl_peer_connection_t *pc,
                                                       void *data);


static kl_command_t kl_http_upstream_hash_commands[] = {
    { kl_string("hash"), KL_HTTP_UPS_CONF | KL_CONF_TAKE12,
      kl_http_upstream_hash, KL_HTTP_SRV_CONF_OFFSET, 0, NULL },

    kl_null_command
};


static kl_http_module_t kl_http_upstream_hash_module_ctx = {
    .create_srv_conf = kl_http_upstream_hash_create_conf,
};


kl_module_t kl_http_upstream_hash_module = {
    .name = "kl_http_upstream_hash_module",
    .ctx = &kl_http_upstream_hash_module_ctx,
    .commands = kl_http_upstream_hash_commands,
    .type = KL_HTTP_MODULE,
};


static void *
kl_http_upstream_hash_create_conf(kl_conf_t *cf)
{
    return kl_pcalloc(cf->pool, sizeof(kl_http_upstream_hash_srv_conf_t));
}


static char *
kl_http_upstream_hash(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_str_t                         *value;
    kl_http_upstream_init_pt          init;
    kl_http_upstream_hash_srv_conf_t *hcf;

    (void) cmd;

    hcf = conf;
    value = cf->args->elts;

    hcf->key = kl_http_compile_value(cf, &value[1]);
    if (hcf->key == NULL) {
        return KL_CONF_ERROR;
    }

    init = kl_http_upstream_init_hash;

    if (cf->args->nelts == 3) {
        if (kl_strcmp(value[2].data, "consistent") != 0) {
            kl_conf_log_error(KL_LOG_EMERG, cf, 0, "invalid parameter \"%V\"",
                              &value[2]);
            return KL_CONF_ERROR;
        }

        init = kl_http_upstream_init_chash;
    }

    (void) kl_http_upstream_set_balancer(
        cf, init,
        KL_HTTP_UPSTREAM_CREATE | KL_HTTP_UPSTREAM_WEIGHT
            | KL_HTTP_UPSTREAM_MAX_CONNS | KL_HTTP_UPSTREAM_MAX_FAILS
            | KL_HTTP_UPSTREAM_FAIL_TIMEOUT | KL_HTTP_UPSTREAM_DOWN);

    return KL_CONF_OK;
}


static kl_int_t
kl_http_upstream_init_hash(kl_conf_t *cf, kl_http_upstream_srv_conf_t *us)
{
    if (kl_http_upstream_init_round_robin(cf, us) != KL_OK) {
        return KL_ERROR;
    }

    us->peer.init = kl_http_upstream_init_hash_peer;

    return KL_OK;
}


static kl_int_t
kl_http_upstream_init_hash_peer(kl_http_request_t           *r,
                                kl_http_upstream_srv_conf_t *us,
                                kl_peer_connection_t        *pc)
{
    kl_http_upstream_hash_srv_conf_t  *hcf;
    kl_http_upstream_hash_peer_data_t *hp;

    hp = kl_pcalloc(r->pool, sizeof(kl_http_upstream_hash_peer_data_t));
    if (hp == NULL) {
        return KL_ERROR;
    }

    hcf = us->srv_conf[kl_http_upstream_hash_module.ctx_index];

    if (kl_http_complex_value(r, hcf->key, &hp->key) != KL_OK) {
        return KL_ERROR;
    }

    if (kl_http_upstream_rr_peer_init(r, us, pc, &hp->rrp) != KL_OK) {
        return KL_ERROR;
    }

    pc->get = kl_http_upstream_get_hash_peer;
    pc->data = hp;

    hp->conf = hcf;

    return KL_OK;
}


/* The balancer's choice under the group's lock (a zone's; none: none). */
static kl_int_t
kl_http_upstream_get_hash_peer(kl_peer_connection_t *pc, void *data)
{
    kl_int_t    rc;
    kl_shmtx_t *mutex;

    mutex = ((kl_http_upstream_hash_peer_data_t *) data)->rrp.peers->mutex;

    kl_http_upstream_rr_lock(mutex);
    rc = kl_http_upstream_get_hash_peer_locked(pc, data);
    kl_http_upstream_rr_unlock(mutex);

    return rc;
}


static kl_int_t
kl_http_upstream_get_hash_peer_locked(kl_peer_connection_t *pc, void *data)
{
    u_char                             buf[KL_INT_T_LEN];
    size_t                             size;
    uint32_t                           hash;
    kl_uint_t                          p, w;
    kl_msec_t                          now;
    kl_http_upstream_rr_peer_t        *peer;
    kl_http_upstream_hash_peer_data_t *hp;

    hp = data;

    if (hp->tries > 20 || hp->rrp.peers->single || hp->key.len == 0) {
        return kl_http_upstream_get_round_robin_peer_locked(pc, &hp->rrp);
    }

    pc->cached = 0;
    pc->connection = NULL;

    now = kl_loop.clock.msec;

    for (;;) {
        /* ((crc32([REHASH] KEY) >> 16) & 0x7fff) + PREV_HASH */
        hash = kl_http_upstream_crc32_init();

        if (hp->rehash > 0) {
            size = (size_t) (kl_snprintf(buf, sizeof(buf), "%ui", hp->rehash)
                             - buf);
            hash = kl_http_upstream_crc32_update(hash, buf, size);
        }

        hash = kl_http_upstream_crc32_update(hash, hp->key.data, hp->key.len);
        hash = kl_http_upstream_crc32_final(hash);

        hash = (hash >> 16) & 0x7fff;
        hp->hash += hash;
        hp->rehash++;

        w = hp->hash % hp->rrp.peers->total_weight;
        peer = hp->rrp.peers->peer;
        p = 0;

        while (w >= (kl_uint_t) peer->weight) {
            w -= (kl_uint_t) peer->weight;
            peer = peer->next;
            p++;
        }

        if (kl_http_upstream_rr_usable(&hp->rrp, peer, p, now)) {
            break;
        }

        if (++hp->tries > 20) {
            return kl_http_upstream_get_round_robin_peer_locked(pc, &hp->rrp);
        }
    }

    kl_http_upstream_rr_take(pc, &hp->rrp, peer, p, now);

    return KL_OK;
}


static kl_int_t
kl_http_upstream_init_chash(kl_conf_t *cf, kl_http_upstream_srv_conf_t *us)
{
    uint32_t                          base, hash, prev;
    kl_uint_t                         i, j, npoints;
    kl_http_upstream_rr_peer_t       *peer;
    kl_http_upstream_rr_peers_t      *peers;
    kl_http_upstream_hash_srv_conf_t *hcf;
    kl_http_upstream_chash_points_t  *points;

    if (kl_http_upstream_init_round_robin(cf, us) != KL_OK) {
        return KL_ERROR;
    }

    us->peer.init = kl_http_upstream_init_chash_peer;

    peers = us->peer.data;
    npoints = peers->total_weight * 160;

    points = kl_palloc(cf->pool, sizeof(kl_http_upstream_chash_points_t));
    if (points == NULL) {
        return KL_ERROR;
    }

    points->point =
        kl_palloc(cf->pool, sizeof(kl_http_upstream_chash_point_t) * npoints);
    if (points->point == NULL) {
        return KL_ERROR;
    }

    points->number = 0;

    for (peer = peers->peer; peer; peer = peer->next) {
        kl_http_upstream_chash_server(&peer->server, &base);

        /* crc32(HOST \0 PORT PREV_HASH), the previous hash little-endian */
        prev = 0;
        npoints = (kl_uint_t) peer->weight * 160;

        for (j = 0; j < npoints; j++) {
            u_char le[4] = { (u_char) prev, (u_char) (prev >> 8),
                             (u_char) (prev >> 16), (u_char) (prev >> 24) };

            hash = kl_http_upstream_crc32_update(base, le, 4);
            hash = kl_http_upstream_crc32_final(hash);

            points->point[points->number].hash = hash;
            points->point[points->number].server = &peer->server;
            points->number++;

            prev = hash;
        }
    }

    qsort(points->point, points->number, sizeof(kl_http_upstream_chash_point_t),
          kl_http_upstream_chash_cmp);

    for (i = 0, j = 1; j < points->number; j++) {
        if (points->point[i].hash != points->point[j].hash) {
            points->point[++i] = points->point[j];
        }
    }

    points->number = i + 1;

    hcf = us->srv_conf[kl_http_upstream_hash_module.ctx_index];
    hcf->points = points;

    return KL_OK;
}


/* The running crc32 of "HOST\0PORT" for a server line's address. */
static void
kl_http_upstream_chash_server(kl_str_t *server, uint32_t *base)
{
    u_char  *host, *port, c;
    size_t   host_len, port_len, j;
    uint32_t hash;

    host = server->data;
    host_len = server->len;
    port = NULL;
    port_len = 0;

    if (server->len >= 5
        && kl_strncasecmp(server->data, (u_char *) "unix:", 5) == 0)
    {
        host = server->data + 5;
        host_len = server->len - 5;
        goto done;
    }

    for (j = 0; j < server->len; j++) {
        c = server->data[server->len - j - 1];

        if (c == ':') {
            host_len = server->len - j - 1;
            port = server->data + server->len - j;
            port_len = j;
            goto done;
        }

        if (c < '0' || c > '9') {
            break;
        }
    }

done:

    hash = kl_http_upstream_crc32_init();
    hash = kl_http_upstream_crc32_update(hash, host, host_len);
    hash = kl_http_upstream_crc32_update(hash, (u_char *) "", 1);
    hash = kl_http_upstream_crc32_update(hash, port, port_len);

    *base = hash;
}


static int
kl_http_upstream_chash_cmp(const void *one, const void *two)
{
    const kl_http_upstream_chash_point_t *a = one, *b = two;

    return (a->hash < b->hash) ? -1 : (a->hash > b->hash);
}


/* The first point at or after hash (the ring's end wraps in the caller). */
static kl_uint_t
kl_http_upstream_find_chash_point(kl_http_upstream_chash_points_t *points,
                                  uint32_t                         hash)
{
    kl_uint_t                       i, j, k;
    kl_http_upstream_chash_point_t *point;

    point = points->point;
    i = 0;
    j = points->number;

    while (i < j) {
        k = (i + j) / 2;

        if (hash > point[k].hash) {
            i = k + 1;

        } else if (hash < point[k].hash) {
            j = k;

        } else {
            return k;
        }
    }

    return i;
}


static kl_int_t
kl_http_upstream_init_chash_peer(kl_http_request_t           *r,
                                 kl_http_upstream_srv_conf_t *us,
                                 kl_peer_connection_t        *pc)
{
    uint32_t                           hash;
    kl_http_upstream_hash_peer_data_t *hp;

    if (kl_http_upstream_init_hash_peer(r, us, pc) != KL_OK) {
        return KL_ERROR;
    }

    pc->get = kl_http_upstream_get_chash_peer;

    hp = pc->data;

    hash = kl_http_upstream_crc32_init();
    hash = kl_http_upstream_crc32_update(hash, hp->key.data, hp->key.len);
    hash = kl_http_upstream_crc32_final(hash);

    hp->hash =
        (uint32_t) kl_http_upstream_find_chash_point(hp->conf->points, hash);

    return KL_OK;
}


/* The balancer's choice under the group's lock (a zone's; none: none). */
static kl_int_t
kl_http_upstream_get_chash_peer(kl_peer_connection_t *pc, void *data)
{
    kl_int_t    rc;
    kl_shmtx_t *mutex;

    mutex = ((kl_http_upstream_hash_peer_data_t *) data)->rrp.peers->mutex;

    kl_http_upstream_rr_lock(mutex);
    rc = kl_http_upstream_get_chash_peer_locked(pc, data);
    kl_http_upstream_rr_unlock(mutex);

    return rc;
}


static kl_int_t
kl_http_upstream_get_chash_peer_locked(kl_peer_connection_t *pc, void *data)
{
    kl_int_t                           total;
    kl_uint_t                          i, best_i;
    kl_msec_t                          now;
    kl_str_t                          *server;
    kl_http_upstream_rr_peer_t        *peer, *best;
    kl_http_upstream_chash_points_t   *points;
    kl_http_upstream_hash_peer_data_t *hp;

    hp = data;

    if (hp->tries > 20 || hp->rrp.peers->single || hp->key.len == 0) {
        return kl_http_upstream_get_round_robin_peer_locked(pc, &hp->rrp);
    }

    pc->cached = 0;
    pc->connection = NULL;

    now = kl_loop.clock.msec;
    points = hp->conf->points;

    for (;;) {
        server = points->point[hp->hash % points->number].server;

        best = NULL;
        best_i = 0;
        total = 0;

        /* the ring names a server line: its addresses share the points */
        for (peer = hp->rrp.peers->peer, i = 0; peer; peer = peer->next, i++) {
            if (peer->server.len != server->len
                || kl_strncmp(peer->server.data, server->data, server->len) != 0
                || !kl_http_upstream_rr_usable(&hp->rrp, peer, i, now))
            {
                continue;
            }

            peer->current_weight += peer->effective_weight;
            total += peer->effective_weight;

            if (peer->effective_weight < peer->weight) {
                peer->effective_weight++;
            }

            if (best == NULL || peer->current_weight > best->current_weight) {
                best = peer;
                best_i = i;
            }
        }

        if (best) {
            best->current_weight -= total;
            break;
        }

        hp->hash++;
        hp->tries++;

        if (hp->tries > 20) {
            return kl_http_upstream_get_round_robin_peer_locked(pc, &hp->rrp);
        }
    }

    kl_http_upstream_rr_take(pc, &hp->rrp, best, best_i, now);

    return KL_OK;
}
