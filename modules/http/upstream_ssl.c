/*
 * upstream_ssl.c: TLS to upstream peers: the X_ssl_* settings proxy and
 * uwsgi share (one set in kl_http_upstream_conf_t, one merge), the
 * client SSL_CTX made from them, and per connection the handshake, the
 * name (SNI and the certificate's host check), the verify result and
 * the session kept for the next connection to the same peer.
 */

#include "kl_http.h"
#include "upstream.h"

#if (KL_HAVE_OPENSSL)
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#endif


static kl_int_t kl_http_upstream_ssl_values(kl_conf_t              *cf,
                                            kl_http_upstream_ssl_t *conf,
                                            kl_http_upstream_ssl_t *prev,
                                            const char             *prefix);
static kl_int_t kl_http_upstream_ssl_create_ctx(kl_conf_t              *cf,
                                                kl_http_upstream_ssl_t *conf,
                                                kl_http_upstream_ssl_t *prev);


kl_conf_enum_t kl_http_upstream_ssl_protocols[] = {
    { kl_string("SSLv2"), KL_SSL_SSLv2 },
    { kl_string("SSLv3"), KL_SSL_SSLv3 },
    { kl_string("TLSv1"), KL_SSL_TLSv1 },
    { kl_string("TLSv1.1"), KL_SSL_TLSv1_1 },
    { kl_string("TLSv1.2"), KL_SSL_TLSv1_2 },
    { kl_string("TLSv1.3"), KL_SSL_TLSv1_3 },
    { kl_null_string, 0 }
};


void
kl_http_upstream_ssl_init(kl_http_upstream_ssl_t *ssl)
{
    ssl->enable = KL_CONF_UNSET;
    ssl->passwords = KL_CONF_UNSET_PTR;
    ssl->protocols = KL_CONF_UNSET_UINT;
    ssl->conf_commands = KL_CONF_UNSET_PTR;
    ssl->name = KL_CONF_UNSET_PTR;
    ssl->server_name = KL_CONF_UNSET;
    ssl->session_reuse = KL_CONF_UNSET;
    ssl->verify = KL_CONF_UNSET;
    ssl->verify_depth = KL_CONF_UNSET_UINT;
    ssl->cache_max = KL_CONF_UNSET_UINT;
}


char *
kl_http_upstream_ssl_password_slot(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_str_t    *value, file;
    kl_array_t **passwords;

    passwords = (kl_array_t **) ((char *) conf + cmd->offset);

    if (*passwords != KL_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    /* read now, as nginx: the file may be readable by root only */
    value = cf->args->elts;
    file = value[1];

    if (kl_conf_full_name(cf->cycle, &file, 1) != KL_OK) {
        return KL_CONF_ERROR;
    }

    *passwords = kl_ssl_read_password_file(cf->pool, &file, cf->log);

    return *passwords ? KL_CONF_OK : KL_CONF_ERROR;
}


char *
kl_http_upstream_ssl_command_slot(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_str_t    *value;
    kl_array_t **a;
    kl_keyval_t *kv;

    a = (kl_array_t **) ((char *) conf + cmd->offset);

    if (*a == KL_CONF_UNSET_PTR) {
        *a = kl_array_create(cf->pool, 2, sizeof(kl_keyval_t));
        if (*a == NULL) {
            return KL_CONF_ERROR;
        }
    }

    kv = kl_array_push(*a);
    if (kv == NULL) {
        return KL_CONF_ERROR;
    }

    value = cf->args->elts;
    kv->key = value[1];
    kv->value = value[2];

    return KL_CONF_OK;
}


char *
kl_http_upstream_ssl_name_slot(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_str_t                 *value;
    kl_http_complex_value_t **cv;

    cv = (kl_http_complex_value_t **) ((char *) conf + cmd->offset);

    if (*cv != KL_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    *cv = kl_http_compile_value(cf, &value[1]);

    return *cv ? KL_CONF_OK : KL_CONF_ERROR;
}


/* X_ssl_certificate_cache off | max=N [inactive=time] [valid=time]:
 * cmd->offset is that of the kl_http_upstream_ssl_t. */
char *
kl_http_upstream_ssl_cache_slot(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_int_t                n;
    kl_str_t               *value, s;
    kl_uint_t               i;
    kl_http_upstream_ssl_t *ssl;

    ssl = (kl_http_upstream_ssl_t *) ((char *) conf + cmd->offset);

    if (ssl->cache_max != KL_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (cf->args->nelts == 2 && kl_strcmp(value[1].data, "off") == 0) {
        ssl->cache_max = 0;
        return KL_CONF_OK;
    }

    ssl->cache_max = KL_CONF_UNSET_UINT;
    ssl->cache_inactive = 10;
    ssl->cache_valid = 60;

    for (i = 1; i < cf->args->nelts; i++) {
        if (kl_strncmp(value[i].data, "max=", 4) == 0) {
            n = kl_atoi(value[i].data + 4, value[i].len - 4);
            if (n <= 0) {
                goto invalid;
            }

            ssl->cache_max = n;
            continue;
        }

        if (kl_strncmp(value[i].data, "inactive=", 9) == 0) {
            s.data = value[i].data + 9;
            s.len = value[i].len - 9;
            n = kl_conf_parse_time(&s, 1);
            if (n == KL_ERROR) {
                goto invalid;
            }

            ssl->cache_inactive = n;
            continue;
        }

        if (kl_strncmp(value[i].data, "valid=", 6) == 0) {
            s.data = value[i].data + 6;
            s.len = value[i].len - 6;
            n = kl_conf_parse_time(&s, 1);
            if (n == KL_ERROR) {
                goto invalid;
            }

            ssl->cache_valid = n;
            continue;
        }

        goto invalid;
    }

    if (ssl->cache_max == KL_CONF_UNSET_UINT) {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                          "\"%V\" must have \"max\" parameter", &cmd->name);
        return KL_CONF_ERROR;
    }

    return KL_CONF_OK;

invalid:

    kl_conf_log_error(KL_LOG_EMERG, cf, 0, "invalid parameter \"%V\"",
                      &value[i]);
    return KL_CONF_ERROR;
}


kl_int_t
kl_http_upstream_ssl_merge(kl_conf_t *cf, kl_http_upstream_ssl_t *conf,
                           kl_http_upstream_ssl_t *prev, const char *prefix)
{
    kl_conf_merge_value(conf->enable, prev->enable, 0);
    kl_conf_merge_str_value(conf->certificate, prev->certificate, "");
    kl_conf_merge_str_value(conf->certificate_key, prev->certificate_key, "");
    kl_conf_merge_ptr_value(conf->passwords, prev->passwords, NULL);
    kl_conf_merge_str_value(conf->ciphers, prev->ciphers, "DEFAULT");
    kl_conf_merge_uint_value(conf->protocols, prev->protocols,
                             KL_SSL_DEFAULT_PROTOCOLS);
    kl_conf_merge_ptr_value(conf->conf_commands, prev->conf_commands, NULL);
    kl_conf_merge_str_value(conf->crl, prev->crl, "");
    kl_conf_merge_str_value(conf->trusted_certificate,
                            prev->trusted_certificate, "");
    kl_conf_merge_ptr_value(conf->name, prev->name, NULL);
    kl_conf_merge_value(conf->server_name, prev->server_name, 0);
    kl_conf_merge_value(conf->session_reuse, prev->session_reuse, 1);
    kl_conf_merge_value(conf->verify, prev->verify, 0);
    kl_conf_merge_uint_value(conf->verify_depth, prev->verify_depth, 1);

    if (conf->cache_max == KL_CONF_UNSET_UINT) {
        conf->cache_max =
            prev->cache_max == KL_CONF_UNSET_UINT ? 0 : prev->cache_max;
        conf->cache_inactive = prev->cache_inactive;
        conf->cache_valid = prev->cache_valid;
    }

    if (!conf->enable) {
        return KL_OK;
    }

    if (conf->certificate.len && conf->certificate_key.len == 0) {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                          "no \"%s_ssl_certificate_key\" is defined "
                          "for certificate \"%V\"",
                          prefix, &conf->certificate);
        return KL_ERROR;
    }

    if (conf->verify && conf->trusted_certificate.len == 0) {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                          "no %s_ssl_trusted_certificate for %s_ssl_verify",
                          prefix, prefix);
        return KL_ERROR;
    }

    if (conf->certificate.len
        && (kl_http_script_variables_count(&conf->certificate)
            || kl_http_script_variables_count(&conf->certificate_key))
        && kl_http_upstream_ssl_values(cf, conf, prev, prefix) != KL_OK)
    {
        return KL_ERROR;
    }

    return kl_http_upstream_ssl_create_ctx(cf, conf, prev);
}


/*
 * Certificate names with variables: loaded for each connection (nginx
 * 1.21), from the values compiled once per level, or taken from the
 * level's X_ssl_certificate_cache (kl_http_upstream_ssl_cached).
 */
static kl_int_t
kl_http_upstream_ssl_values(kl_conf_t *cf, kl_http_upstream_ssl_t *conf,
                            kl_http_upstream_ssl_t *prev, const char *prefix)
{
    if (conf->certificate.data == prev->certificate.data
        && conf->certificate_key.data == prev->certificate_key.data
        && prev->certificate_value)
    {
        conf->certificate_value = prev->certificate_value;
        conf->certificate_key_value = prev->certificate_key_value;

    } else {
        conf->certificate_value = kl_http_compile_value(cf, &conf->certificate);
        conf->certificate_key_value =
            kl_http_compile_value(cf, &conf->certificate_key);

        if (conf->certificate_value == NULL
            || conf->certificate_key_value == NULL) {
            return KL_ERROR;
        }
    }

    (void) prefix;

    return KL_OK;
}


#if (KL_HTTP_UPSTREAM_SSL)

static kl_int_t kl_http_upstream_ssl_str_eq(kl_str_t *a, kl_str_t *b);
static kl_int_t kl_http_upstream_ssl_same(kl_http_upstream_ssl_t *a,
                                          kl_http_upstream_ssl_t *b);
static kl_int_t kl_http_upstream_ssl_file(kl_conf_t *cf, kl_str_t *name);
static kl_int_t kl_http_upstream_ssl_trust(kl_conf_t              *cf,
                                           kl_http_upstream_ssl_t *conf,
                                           kl_ssl_t               *ssl);
static int      kl_http_upstream_ssl_verify_cb(int ok, X509_STORE_CTX *store);
static kl_int_t kl_http_upstream_ssl_name(kl_http_request_t  *r,
                                          kl_http_upstream_t *u,
                                          kl_connection_t    *c);
static void     kl_http_upstream_ssl_handshaked(kl_connection_t *c);
static kl_int_t kl_http_upstream_ssl_certificate(kl_http_request_t  *r,
                                                 kl_http_upstream_t *u,
                                                 kl_connection_t    *c);
static kl_int_t kl_http_upstream_ssl_path(kl_http_request_t *r, kl_str_t *name);
static kl_ssl_pair_t *kl_http_upstream_ssl_cached(kl_connection_t        *c,
                                                  kl_http_upstream_ssl_t *ssl,
                                                  kl_str_t               *cert,
                                                  kl_str_t               *key);
static kl_int_t       kl_http_upstream_ssl_check(kl_http_request_t  *r,
                                                 kl_http_upstream_t *u,
                                                 kl_connection_t    *c);


/*
 * One SSL_CTX per level that needs TLS, made from its merged settings;
 * a level that changed nothing of its parent's shares the parent's.
 */
static kl_int_t
kl_http_upstream_ssl_create_ctx(kl_conf_t *cf, kl_http_upstream_ssl_t *conf,
                                kl_http_upstream_ssl_t *prev)
{
    kl_str_t  cert, key;
    kl_ssl_t *ssl;

    if (prev->ctx && kl_http_upstream_ssl_same(conf, prev)) {
        conf->ctx = prev->ctx;
        return KL_OK;
    }

    ssl = kl_pcalloc(cf->pool, sizeof(kl_ssl_t));
    if (ssl == NULL) {
        return KL_ERROR;
    }

    if (kl_ssl_create(ssl, conf->protocols, cf->pool, cf->log) != KL_OK) {
        return KL_ERROR;
    }

    ssl->data = conf;

#ifdef SSL_OP_IGNORE_UNEXPECTED_EOF
    /*
     * A peer that closes without close_notify (uWSGI does) ends the
     * response as a plain close would, as nginx 1.22; the framing of the
     * response still catches a short one.
     */
    SSL_CTX_set_options(ssl->ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
#endif

    if (conf->certificate.len && conf->certificate_value == NULL) {
        cert = conf->certificate;
        key = conf->certificate_key;

        if (kl_http_upstream_ssl_file(cf, &cert) != KL_OK
            || kl_http_upstream_ssl_file(cf, &key) != KL_OK
            || kl_ssl_certificate(ssl, &cert, &key, conf->passwords, cf->log)
                   != KL_OK)
        {
            return KL_ERROR;
        }
    }

    if (kl_ssl_ciphers(ssl, &conf->ciphers, 0, cf->log) != KL_OK) {
        return KL_ERROR;
    }

    if (kl_http_upstream_ssl_trust(cf, conf, ssl) != KL_OK) {
        return KL_ERROR;
    }

    conf->ctx = ssl;

    if (conf->conf_commands
        && kl_ssl_conf_commands(ssl, conf->conf_commands, cf->log) != KL_OK)
    {
        return KL_ERROR;
    }

    return KL_OK;
}


static kl_int_t
kl_http_upstream_ssl_str_eq(kl_str_t *a, kl_str_t *b)
{
    return a->len == b->len
           && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}


/* Would conf's context be prev's (every setting the same)? */
static kl_int_t
kl_http_upstream_ssl_same(kl_http_upstream_ssl_t *a, kl_http_upstream_ssl_t *b)
{
    return a->protocols == b->protocols && a->passwords == b->passwords
           && a->verify == b->verify
           && a->certificate_value == b->certificate_value
           && a->conf_commands == b->conf_commands
           && a->verify_depth == b->verify_depth
           && kl_http_upstream_ssl_str_eq(&a->certificate, &b->certificate)
           && kl_http_upstream_ssl_str_eq(&a->certificate_key,
                                          &b->certificate_key)
           && kl_http_upstream_ssl_str_eq(&a->ciphers, &b->ciphers)
           && kl_http_upstream_ssl_str_eq(&a->crl, &b->crl)
           && kl_http_upstream_ssl_str_eq(&a->trusted_certificate,
                                          &b->trusted_certificate);
}


/* A file name relative to the configuration's prefix; "data:" as is. */
static kl_int_t
kl_http_upstream_ssl_file(kl_conf_t *cf, kl_str_t *name)
{
    if (name->len > 5 && kl_strncmp(name->data, "data:", 5) == 0) {
        return KL_OK;
    }

    return kl_conf_full_name(cf->cycle, name, 1);
}


/*
 * The CAs that verify the peer, the depth, and the CRL, as nginx's
 * ngx_ssl_trusted_certificate and ngx_ssl_crl: the handshake goes on
 * whatever the result, which is read after it when verify is on.
 */
static kl_int_t
kl_http_upstream_ssl_trust(kl_conf_t *cf, kl_http_upstream_ssl_t *conf,
                           kl_ssl_t *ssl)
{
    kl_str_t     file;
    X509_STORE  *store;
    X509_LOOKUP *lookup;

    if (conf->verify) {
        SSL_CTX_set_verify(ssl->ctx, SSL_CTX_get_verify_mode(ssl->ctx),
                           kl_http_upstream_ssl_verify_cb);
        SSL_CTX_set_verify_depth(ssl->ctx, (int) conf->verify_depth);

        file = conf->trusted_certificate;

        if (kl_conf_full_name(cf->cycle, &file, 1) != KL_OK) {
            return KL_ERROR;
        }

        if (SSL_CTX_load_verify_locations(ssl->ctx, (char *) file.data, NULL)
            == 0) {
            kl_ssl_error(KL_LOG_EMERG, cf->log, 0,
                         "SSL_CTX_load_verify_locations(\"%s\") failed",
                         file.data);
            return KL_ERROR;
        }

        /* nginx's: a bad file leaves errors behind that are not ours */
        kl_ssl_clear_error(cf->log);
    }

    if (conf->crl.len == 0) {
        return KL_OK;
    }

    file = conf->crl;

    if (kl_conf_full_name(cf->cycle, &file, 1) != KL_OK) {
        return KL_ERROR;
    }

    store = SSL_CTX_get_cert_store(ssl->ctx);
    lookup = store ? X509_STORE_add_lookup(store, X509_LOOKUP_file()) : NULL;

    if (lookup == NULL) {
        kl_ssl_error(KL_LOG_EMERG, cf->log, 0,
                     "X509_STORE_add_lookup() failed");
        return KL_ERROR;
    }

    if (X509_LOOKUP_load_file(lookup, (char *) file.data, X509_FILETYPE_PEM)
        == 0) {
        kl_ssl_error(KL_LOG_EMERG, cf->log, 0,
                     "X509_LOOKUP_load_file(\"%s\") failed", file.data);
        return KL_ERROR;
    }

    X509_STORE_set_flags(store,
                         X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);

    return KL_OK;
}


/* Every certificate passes here: the result is read after the handshake
 * (SSL_get_verify_result), as nginx does for upstreams. */
static int
kl_http_upstream_ssl_verify_cb(int ok, X509_STORE_CTX *store)
{
    (void) ok;
    (void) store;

    return 1;
}


kl_int_t
kl_http_upstream_ssl_connect(kl_http_request_t *r, kl_http_upstream_t *u,
                             kl_http_upstream_ssl_done_pt done)
{
    kl_int_t         rc;
    kl_connection_t *c;

    c = u->peer.connection;
    u->ssl_done = done;

    if (u->conf->ssl.ctx == NULL) {
        /* a pass with variables named https:// where no context is */
        kl_log_error(KL_LOG_ERR, r->connection->log, 0,
                     "no TLS context for \"%V\"", &u->schema);
        return KL_ERROR;
    }

    if (kl_ssl_create_connection(u->conf->ssl.ctx, c, KL_SSL_CLIENT) != KL_OK
        || kl_http_upstream_ssl_name(r, u, c) != KL_OK
        || kl_http_upstream_ssl_certificate(r, u, c) != KL_OK)
    {
        return KL_ERROR;
    }

    if (u->conf->ssl.session_reuse && u->peer.ssl_session
        && *u->peer.ssl_session
        && kl_ssl_set_session(c, *u->peer.ssl_session) != KL_OK)
    {
        return KL_ERROR;
    }

    r->connection->log->action = "SSL handshaking to upstream";
    c->ssl->handler = kl_http_upstream_ssl_handshaked;

    rc = kl_ssl_handshake(c);

    if (rc == KL_AGAIN) {
        if (!c->write->timer_set) {
            kl_event_add_timer(c->write, u->conf->connect_timeout);
        }

        return KL_OK;
    }

    kl_http_upstream_ssl_handshaked(c);

    return KL_OK;
}


/* Certificate names with variables: this request's, loaded for c. */
static kl_int_t
kl_http_upstream_ssl_certificate(kl_http_request_t *r, kl_http_upstream_t *u,
                                 kl_connection_t *c)
{
    kl_str_t                cert, key;
    kl_ssl_pair_t          *pair;
    kl_http_upstream_ssl_t *ssl;

    ssl = &u->conf->ssl;

    if (ssl->certificate_value == NULL) {
        return KL_OK;
    }

    if (kl_http_complex_value(r, ssl->certificate_value, &cert) != KL_OK
        || kl_http_complex_value(r, ssl->certificate_key_value, &key) != KL_OK)
    {
        return KL_ERROR;
    }

    if (cert.len == 0) {
        /* nothing named: no certificate for this one */
        return KL_OK;
    }

    if (kl_http_upstream_ssl_path(r, &cert) != KL_OK
        || kl_http_upstream_ssl_path(r, &key) != KL_OK)
    {
        return KL_ERROR;
    }

    if (ssl->cache_max == 0) {
        return kl_ssl_connection_certificate(c, &cert, &key, ssl->passwords);
    }

    pair = kl_http_upstream_ssl_cached(c, ssl, &cert, &key);
    if (pair == NULL) {
        return KL_ERROR;
    }

    return kl_ssl_use_pair(c, pair);
}


/* A pair of the cache: its names as evaluated ("cert\0key\0", the key),
 * the objects, when loaded and last used, its use count (LRU). */
typedef struct {
    u_char       *names;
    size_t        len;
    kl_ssl_pair_t pair;
    time_t        loaded;
    time_t        used;
    kl_uint_t     seq;
} kl_http_upstream_ssl_cached_t;

typedef struct {
    kl_http_upstream_ssl_cached_t *entries; /* cache_max of them */
    kl_uint_t                      n;
    kl_uint_t                      seq;
} kl_http_upstream_ssl_cache_t;


/*
 * X_ssl_certificate_cache: the pair of these names, loaded when absent,
 * read again past valid= or after inactive= unused; a full cache drops
 * the least recently used. Per worker, in heap memory that lives as
 * long as the worker. NULL after logging.
 */
static kl_ssl_pair_t *
kl_http_upstream_ssl_cached(kl_connection_t *c, kl_http_upstream_ssl_t *ssl,
                            kl_str_t *cert, kl_str_t *key)
{
    u_char                        *names;
    size_t                         len;
    time_t                         now;
    kl_uint_t                      i, lru;
    kl_ssl_pair_t                  pair;
    kl_http_upstream_ssl_cache_t  *cache;
    kl_http_upstream_ssl_cached_t *e;

    cache = ssl->cache;

    if (cache == NULL) {
        cache = kl_calloc(sizeof(kl_http_upstream_ssl_cache_t), c->log);
        if (cache == NULL) {
            return NULL;
        }

        cache->entries = kl_calloc(
            sizeof(kl_http_upstream_ssl_cached_t) * ssl->cache_max, c->log);
        if (cache->entries == NULL) {
            kl_free(cache);
            return NULL;
        }

        ssl->cache = cache;
    }

    now = kl_loop.clock.sec;
    len = cert->len + key->len + 2;
    e = NULL;

    for (i = 0; i < cache->n; i++) {
        if (cache->entries[i].len == len
            && memcmp(cache->entries[i].names, cert->data, cert->len) == 0
            && memcmp(cache->entries[i].names + cert->len + 1, key->data,
                      key->len)
                   == 0)
        {
            e = &cache->entries[i];
            break;
        }
    }

    if (e && now - e->loaded < ssl->cache_valid
        && now - e->used < ssl->cache_inactive)
    {
        e->used = now;
        e->seq = ++cache->seq;
        return &e->pair;
    }

    if (kl_ssl_load_pair(cert, key, ssl->passwords, c->log, &pair) != KL_OK) {
        return NULL;
    }

    if (e == NULL) {
        names = kl_alloc(len, c->log);
        if (names == NULL) {
            kl_ssl_free_pair(&pair);
            return NULL;
        }

        kl_memcpy(names, cert->data, cert->len);
        names[cert->len] = '\0';
        kl_memcpy(names + cert->len + 1, key->data, key->len);
        names[len - 1] = '\0';

        if (cache->n < ssl->cache_max) {
            e = &cache->entries[cache->n++];

        } else {
            for (lru = 0, i = 1; i < cache->n; i++) {
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

    } else {
        /* stale: the files again, in the same slot */
        kl_ssl_free_pair(&e->pair);
    }

    e->pair = pair;
    e->loaded = now;
    e->used = now;
    e->seq = ++cache->seq;

    return &e->pair;
}


/* A file name relative to the configuration's prefix, NUL-terminated in
 * r's pool; a "data:" value only terminated. */
static kl_int_t
kl_http_upstream_ssl_path(kl_http_request_t *r, kl_str_t *name)
{
    u_char *p;

    if (name->len > 5 && kl_strncmp(name->data, "data:", 5) == 0) {
        p = kl_pstrdup(r->pool, name);
        name->data = p;
        return p ? KL_OK : KL_ERROR;
    }

    return kl_file_full_name(r->pool, &kl_cycle->conf_prefix, name);
}


/*
 * nginx's ngx_http_upstream_ssl_name: X_ssl_name, else the peer's host,
 * without a port; sent as SNI with X_ssl_server_name on unless it is an
 * IP address (RFC 6066), and kept to check the certificate against.
 */
static kl_int_t
kl_http_upstream_ssl_name(kl_http_request_t *r, kl_http_upstream_t *u,
                          kl_connection_t *c)
{
    u_char        *p, *last;
    kl_str_t       name;
    struct in_addr a4;
    u_char         buf[INET_ADDRSTRLEN];

    if (!u->conf->ssl.server_name && !u->conf->ssl.verify) {
        return KL_OK;
    }

    if (u->conf->ssl.name) {
        if (kl_http_complex_value(r, u->conf->ssl.name, &name) != KL_OK) {
            return KL_ERROR;
        }

    } else {
        name = u->ssl_name;
    }

    if (name.len == 0) {
        goto done;
    }

    p = name.data;
    last = name.data + name.len;

    if (*p == '[') {
        p = memchr(p, ']', last - p);
        if (p == NULL) {
            p = name.data;
        }
    }

    p = memchr(p, ':', last - p);
    if (p != NULL) {
        name.len = p - name.data;
    }

    if (!u->conf->ssl.server_name || name.len == 0 || name.data[0] == '[') {
        goto done;
    }

    if (name.len < sizeof(buf)) {
        kl_memcpy(buf, name.data, name.len);
        buf[name.len] = '\0';

        if (inet_pton(AF_INET, (char *) buf, &a4) == 1) {
            goto done;
        }
    }

    if (kl_ssl_set_server_name(c, &name) != KL_OK) {
        return KL_ERROR;
    }

done:

    u->ssl_name = name;

    return KL_OK;
}


static void
kl_http_upstream_ssl_handshaked(kl_connection_t *c)
{
    kl_http_request_t  *r;
    kl_http_upstream_t *u;

    r = c->data;
    u = r->upstream;

    if (c->ssl && c->ssl->handshaked) {
        if (u->conf->ssl.verify && kl_http_upstream_ssl_check(r, u, c) != KL_OK)
        {
            u->ssl_done(r, u, KL_HTTP_UPSTREAM_FT_ERROR);
            return;
        }

        kl_http_upstream_ssl_save_session(u);

        u->ssl_done(r, u, 0);
        return;
    }

    if (c->write->timedout || c->read->timedout) {
        c->write->timedout = 0;
        c->read->timedout = 0;
        kl_log_error(KL_LOG_ERR, r->connection->log, ETIMEDOUT,
                     "upstream timed out");
        u->ssl_done(r, u, KL_HTTP_UPSTREAM_FT_TIMEOUT);
        return;
    }

    u->ssl_done(r, u, KL_HTTP_UPSTREAM_FT_ERROR);
}


/* verify on: the chain's result, then the name (nginx's words). */
static kl_int_t
kl_http_upstream_ssl_check(kl_http_request_t *r, kl_http_upstream_t *u,
                           kl_connection_t *c)
{
    long  rc;
    X509 *cert;
    int   match;

    rc = SSL_get_verify_result(c->ssl->connection);

    if (rc != X509_V_OK) {
        kl_log_error(KL_LOG_ERR, r->connection->log, 0,
                     "upstream SSL certificate verify error: (%l:%s)", rc,
                     X509_verify_cert_error_string(rc));
        return KL_ERROR;
    }

    cert = SSL_get1_peer_certificate(c->ssl->connection);
    match = 0;

    if (cert && u->ssl_name.len) {
        match = X509_check_host(cert, (char *) u->ssl_name.data,
                                u->ssl_name.len, 0, NULL)
                == 1;
    }

    X509_free(cert);

    if (!match) {
        kl_log_error(KL_LOG_ERR, r->connection->log, 0,
                     "upstream SSL certificate does not match \"%V\"",
                     &u->ssl_name);
        return KL_ERROR;
    }

    return KL_OK;
}


void
kl_http_upstream_ssl_save_session(kl_http_upstream_t *u)
{
    void            *s;
    kl_connection_t *c;

    c = u->peer.connection;

    if (!u->conf->ssl.session_reuse || c == NULL || c->ssl == NULL
        || !c->ssl->handshaked || u->peer.ssl_session == NULL)
    {
        return;
    }

    s = kl_ssl_get_session(c);
    if (s == NULL) {
        return;
    }

    if (*u->peer.ssl_session) {
        kl_ssl_free_session(*u->peer.ssl_session);
    }

    *u->peer.ssl_session = s;
}

#else

/* Without TLS no X_pass asks for it (refused there); nothing to make. */
static kl_int_t
kl_http_upstream_ssl_create_ctx(kl_conf_t *cf, kl_http_upstream_ssl_t *conf,
                                kl_http_upstream_ssl_t *prev)
{
    (void) conf;
    (void) prev;

    kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                      "TLS is not supported by this build of kiln");
    return KL_ERROR;
}


kl_int_t
kl_http_upstream_ssl_connect(kl_http_request_t *r, kl_http_upstream_t *u,
                             kl_http_upstream_ssl_done_pt done)
{
    (void) r;
    (void) u;
    (void) done;

    return KL_ERROR;
}


void
kl_http_upstream_ssl_save_session(kl_http_upstream_t *u)
{
    (void) u;
}

#endif
