/*
 * ssl_certificate.c: certificates named with variables
 * (`ssl_certificate /certs/$ssl_server_name.crt`): compiled once, then
 * evaluated and loaded at each handshake, after SNI chose the server, by
 * the context's certificate callback, as nginx does. The values are
 * evaluated on a small request of their own (no request exists yet), in a
 * pool freed when the pair is loaded. With ssl_certificate_cache, each
 * worker keeps up to max pairs by their names: one unused for inactive
 * or loaded more than valid ago is read again, the least recently used
 * goes when the cache is full. Without it every handshake reads the
 * files, as nginx.
 */

#include "kl_http.h"
#include "ssl_module.h"

#include <openssl/ssl.h>


static int kl_http_ssl_certificate_cb(SSL *ssl_conn, void *arg);


/* A cached pair: its names as evaluated (the key), the objects, times. */
typedef struct {
    u_char       *names; /* "cert\0key\0", malloc'd */
    size_t        len;
    kl_ssl_pair_t pair;
    time_t        loaded;
    time_t        used;
    kl_uint_t     seq; /* the cache's use count at its last use (LRU) */
} kl_http_ssl_cached_t;

typedef struct {
    kl_http_ssl_cached_t *entries; /* max of them */
    kl_uint_t             n;
    kl_uint_t             seq;
} kl_http_ssl_cache_t;


static kl_http_complex_value_t **
kl_http_ssl_compile(kl_conf_t *cf, kl_array_t *names)
{
    kl_str_t                       *name;
    kl_uint_t                       i;
    kl_http_complex_value_t       **cvs;
    kl_http_compile_complex_value_t ccv;

    cvs = kl_pcalloc(cf->pool, names->nelts * sizeof(void *));
    if (cvs == NULL) {
        return NULL;
    }

    name = names->elts;

    for (i = 0; i < names->nelts; i++) {
        cvs[i] = kl_pcalloc(cf->pool, sizeof(kl_http_complex_value_t));
        if (cvs[i] == NULL) {
            return NULL;
        }

        kl_memzero(&ccv, sizeof(kl_http_compile_complex_value_t));
        ccv.cf = cf;
        ccv.value = &name[i];
        ccv.complex_value = cvs[i];
        ccv.zero = 1;
        ccv.conf_prefix = kl_strncmp(name[i].data, "data:", 5) != 0;

        if (kl_http_compile_complex_value(&ccv) != KL_OK) {
            return NULL;
        }
    }

    return cvs;
}


kl_int_t
kl_http_ssl_variable_certificates(kl_conf_t *cf, kl_http_ssl_srv_conf_t *sscf)
{
    kl_str_t *name;
    kl_uint_t i, n;

    name = sscf->certificates->elts;
    n = 0;

    for (i = 0; i < sscf->certificates->nelts; i++) {
        n += kl_http_script_variables_count(&name[i]);
    }

    name = sscf->certificate_keys->elts;

    for (i = 0; i < sscf->certificate_keys->nelts; i++) {
        n += kl_http_script_variables_count(&name[i]);
    }

    if (n == 0) {
        return KL_DECLINED;
    }

    sscf->certificate_values = kl_http_ssl_compile(cf, sscf->certificates);
    sscf->certificate_key_values =
        kl_http_ssl_compile(cf, sscf->certificate_keys);

    if (sscf->certificate_values == NULL
        || sscf->certificate_key_values == NULL) {
        return KL_ERROR;
    }

    SSL_CTX_set_cert_cb(sscf->ssl.ctx, kl_http_ssl_certificate_cb, sscf);

    return KL_OK;
}


/*
 * The request variables are evaluated on: the connection, the server SNI
 * chose, no header (so $host is the server's name), the pool given.
 */
static kl_http_request_t *
kl_http_ssl_fake_request(kl_connection_t *c, kl_pool_t *pool)
{
    kl_http_request_t    *r;
    kl_http_connection_t *hc;

    hc = c->data;

    r = kl_pcalloc(pool, sizeof(kl_http_request_t));
    if (r == NULL) {
        return NULL;
    }

    r->ctx =
        kl_pcalloc(pool, sizeof(void *) * kl_modules_count(KL_HTTP_MODULE));
    if (r->ctx == NULL) {
        return NULL;
    }

    r->pool = pool;
    r->connection = c;
    r->http_connection = hc;
    r->main = r;
    r->count = 1;
    r->main_conf = hc->conf_ctx->main_conf;
    r->srv_conf = hc->conf_ctx->srv_conf;
    r->loc_conf = hc->conf_ctx->loc_conf;
    r->method = KL_HTTP_UNKNOWN;
    r->http_version = KL_HTTP_VERSION_10;
    r->start_sec = kl_loop.clock.sec;
    r->start_msec = kl_now();
    r->headers_in.content_length_n = -1;
    r->headers_out.content_length_n = -1;
    r->headers_out.last_modified_time = -1;

    return r;
}


/*
 * The pair named cert and key from sscf's cache, loaded (and cached)
 * when absent or stale. NULL after logging.
 */
static kl_ssl_pair_t *
kl_http_ssl_cached_pair(kl_connection_t *c, kl_http_ssl_srv_conf_t *sscf,
                        kl_str_t *cert, kl_str_t *key, kl_array_t *passwords)
{
    u_char               *names;
    size_t                len;
    time_t                now;
    kl_uint_t             i, lru;
    kl_ssl_pair_t         pair;
    kl_http_ssl_cache_t  *cache;
    kl_http_ssl_cached_t *e;

    cache = sscf->cache;

    if (cache == NULL) {
        cache = kl_calloc(sizeof(kl_http_ssl_cache_t), c->log);
        if (cache == NULL) {
            return NULL;
        }

        cache->entries = kl_calloc(sizeof(kl_http_ssl_cached_t)
                                       * (size_t) sscf->certificate_cache,
                                   c->log);
        if (cache->entries == NULL) {
            kl_free(cache);
            return NULL;
        }

        sscf->cache = cache;
    }

    now = kl_loop.clock.sec;
    len = cert->len + key->len + 2;

    for (i = 0; i < cache->n; i++) {
        e = &cache->entries[i];

        if (e->len != len || memcmp(e->names, cert->data, cert->len) != 0
            || memcmp(e->names + cert->len + 1, key->data, key->len) != 0)
        {
            continue;
        }

        e->seq = ++cache->seq;

        if (now - e->loaded < sscf->cache_valid
            && now - e->used < sscf->cache_inactive) {
            e->used = now;
            return &e->pair;
        }

        /* Stale: read the files again, in the same slot. */
        if (kl_ssl_load_pair(cert, key, passwords, c->log, &pair) != KL_OK) {
            return NULL;
        }

        kl_ssl_free_pair(&e->pair);
        e->pair = pair;
        e->loaded = now;
        e->used = now;
        return &e->pair;
    }

    if (kl_ssl_load_pair(cert, key, passwords, c->log, &pair) != KL_OK) {
        return NULL;
    }

    names = kl_alloc(len, c->log);
    if (names == NULL) {
        kl_ssl_free_pair(&pair);
        return NULL;
    }

    kl_memcpy(names, cert->data, cert->len);
    names[cert->len] = '\0';
    kl_memcpy(names + cert->len + 1, key->data, key->len);
    names[len - 1] = '\0';

    if (cache->n < (kl_uint_t) sscf->certificate_cache) {
        e = &cache->entries[cache->n++];

    } else {
        /* Full: the least recently used goes. */
        lru = 0;
        for (i = 1; i < cache->n; i++) {
            if (cache->entries[i].seq < cache->entries[lru].seq) {
                lru = i;
            }
        }

        e = &cache->entries[lru];
        kl_ssl_free_pair(&e->pair);
        kl_free(e->names);
    }

    e->names = names;
    e->len = len;
    e->pair = pair;
    e->loaded = now;
    e->used = now;
    e->seq = ++cache->seq;

    return &e->pair;
}


static int
kl_http_ssl_certificate_cb(SSL *ssl_conn, void *arg)
{
    int                     rc;
    kl_str_t                cert, key;
    kl_uint_t               i;
    kl_pool_t              *pool;
    kl_array_t             *passwords;
    kl_ssl_pair_t          *pair;
    kl_connection_t        *c;
    kl_http_request_t      *r;
    kl_http_ssl_srv_conf_t *sscf;

    c = SSL_get_app_data(ssl_conn);
    sscf = arg;

    if (c == NULL || c->ssl == NULL || c->data == NULL) {
        return 0;
    }

    pool = kl_pool_create(1024, c->log);
    if (pool == NULL) {
        return 0;
    }

    rc = 0;

    r = kl_http_ssl_fake_request(c, pool);
    if (r == NULL) {
        goto done;
    }

    passwords = sscf->passwords == KL_CONF_UNSET_PTR ? NULL : sscf->passwords;

    for (i = 0; i < sscf->certificates->nelts; i++) {
        if (kl_http_complex_value(r, sscf->certificate_values[i], &cert)
                != KL_OK
            || kl_http_complex_value(r, sscf->certificate_key_values[i], &key)
                   != KL_OK)
        {
            goto done;
        }

        if (sscf->certificate_cache == 0) {
            if (kl_ssl_connection_certificate(c, &cert, &key, passwords)
                != KL_OK) {
                goto done;
            }

            continue;
        }

        pair = kl_http_ssl_cached_pair(c, sscf, &cert, &key, passwords);

        if (pair == NULL || kl_ssl_use_pair(c, pair) != KL_OK) {
            goto done;
        }
    }

    rc = 1;

done:

    kl_pool_free(pool);
    return rc;
}
