/*
 * ssl_session.c: resumption for the ssl module: ssl_session_cache (off,
 * none, builtin[:size], shared:NAME:SIZE in a zone every worker uses,
 * kept across a reload), ssl_session_timeout, ssl_session_tickets and
 * ssl_session_ticket_key (the first key encrypts, every key decrypts);
 * and the $ssl_* variables that need OpenSSL itself.
 *
 * The shared cache keeps each session as OpenSSL serialises it (DER),
 * keyed by its id, in a zone hash table (core/zone_tree.h) whose LRU gives the
 * oldest to drop when the zone is full, as nginx's does.
 */

#include "kl_http.h"
#include "ssl_module.h"

#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/core_names.h>


/* nginx's bound on a stored session. */
#define KL_HTTP_SSL_MAX_SESSION 4096

typedef struct {
    time_t   expire;
    uint32_t len;
    _Alignas(8) u_char der[];
} kl_http_ssl_sess_t;

typedef struct {
    u_char    name[16];
    u_char    hmac_key[32];
    u_char    aes_key[32];
    kl_uint_t size; /* 48 or 80: the file's */
} kl_http_ssl_ticket_key_t;


/* Session ids are random already: FNV-1a only folds them to a word. */
static kl_uint_t
kl_http_ssl_hash(const u_char *id, size_t len)
{
    size_t   i;
    uint32_t h;

    h = 2166136261u;

    for (i = 0; i < len; i++) {
        h = (h ^ id[i]) * 16777619u;
    }

    return h;
}


static kl_int_t
kl_http_ssl_session_zone_init(kl_shm_zone_t *zone, void *old_data)
{
    kl_slab_pool_t *pool;
    kl_zone_hash_t *tree;

    pool = kl_slab_zone_init(zone, old_data);
    if (pool == NULL) {
        return KL_ERROR;
    }

    if (old_data) {
        zone->data = old_data;
        return KL_OK;
    }

    tree = kl_slab_calloc(pool, sizeof(kl_zone_hash_t));
    if (tree == NULL) {
        return KL_ERROR;
    }

    /* A session's DER is some hundreds of bytes. */
    if (kl_zone_hash_init(tree, pool, 0, 256) != KL_OK) {
        return KL_ERROR;
    }

    pool->data = tree;
    zone->data = pool;

    return KL_OK;
}


/* ssl_session_cache off | none | [builtin[:size]] [shared:name:size] */
char *
kl_http_ssl_session_cache(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    ssize_t                 size;
    kl_int_t                n;
    kl_str_t               *value, name, s;
    kl_uint_t               i, j;
    kl_http_ssl_srv_conf_t *sscf;

    (void) cmd;

    sscf = conf;
    value = cf->args->elts;

    if (sscf->builtin_session_cache != KL_CONF_UNSET) {
        return "is duplicate";
    }

    sscf->builtin_session_cache = KL_HTTP_SSL_NO_BUILTIN;

    for (i = 1; i < cf->args->nelts; i++) {

        if (kl_strcmp(value[i].data, "off") == 0) {
            sscf->builtin_session_cache = KL_HTTP_SSL_NO_SCACHE;
            continue;
        }

        if (kl_strcmp(value[i].data, "none") == 0) {
            sscf->builtin_session_cache = KL_HTTP_SSL_NONE_SCACHE;
            continue;
        }

        if (kl_strcmp(value[i].data, "builtin") == 0) {
            sscf->builtin_session_cache = KL_HTTP_SSL_DFLT_BUILTIN;
            continue;
        }

        if (value[i].len > sizeof("builtin:") - 1
            && kl_strncmp(value[i].data, "builtin:", 8) == 0)
        {
            n = kl_atoi(value[i].data + 8, value[i].len - 8);
            if (n == KL_ERROR) {
                goto invalid;
            }

            sscf->builtin_session_cache = n;
            continue;
        }

        if (value[i].len > sizeof("shared:") - 1
            && kl_strncmp(value[i].data, "shared:", 7) == 0)
        {
            for (j = 7; j < value[i].len; j++) {
                if (value[i].data[j] == ':') {
                    break;
                }
            }

            if (j == value[i].len || j == 7) {
                goto invalid;
            }

            name.data = value[i].data + 7;
            name.len = j - 7;

            s.data = value[i].data + j + 1;
            s.len = value[i].len - j - 1;

            size = kl_conf_parse_size(&s);
            if (size == KL_ERROR) {
                goto invalid;
            }

            if (size < (ssize_t) (8 * 4096)) {
                kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                                  "session cache \"%V\" is too small",
                                  &value[i]);
                return KL_CONF_ERROR;
            }

            sscf->shm_zone =
                kl_shm_zone_add(cf, &name, (size_t) size, &kl_http_ssl_module);
            if (sscf->shm_zone == NULL) {
                return KL_CONF_ERROR;
            }

            sscf->shm_zone->init = kl_http_ssl_session_zone_init;
            continue;
        }

        goto invalid;
    }

    if (sscf->shm_zone && sscf->builtin_session_cache == KL_HTTP_SSL_NO_SCACHE)
    {
        sscf->shm_zone = NULL;
    }

    return KL_CONF_OK;

invalid:

    kl_conf_log_error(KL_LOG_EMERG, cf, 0, "invalid session cache \"%V\"",
                      &value[i]);
    return KL_CONF_ERROR;
}


/*
 * The settings OpenSSL's session callbacks belong to: those of the
 * context the connection was made from (OpenSSL's session_ctx), not of
 * the one SNI switched to.
 */
static kl_http_ssl_srv_conf_t *
kl_http_ssl_session_conf(SSL *ssl_conn)
{
    kl_ssl_t        *ssl;
    kl_connection_t *c;

    c = SSL_get_app_data(ssl_conn);

    if (c != NULL && c->ssl != NULL) {
        ssl = c->ssl->ssl;
    } else {
        ssl = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl_conn));
    }

    return ssl ? ssl->data : NULL;
}


static kl_shm_zone_t *
kl_http_ssl_zone_of(SSL_CTX *ctx)
{
    kl_ssl_t               *ssl;
    kl_http_ssl_srv_conf_t *sscf;

    ssl = SSL_CTX_get_app_data(ctx);
    if (ssl == NULL || ssl->data == NULL) {
        return NULL;
    }

    sscf = ssl->data;
    return sscf->shm_zone;
}


static kl_shm_zone_t *
kl_http_ssl_conn_zone(SSL *ssl_conn)
{
    kl_http_ssl_srv_conf_t *sscf;

    sscf = kl_http_ssl_session_conf(ssl_conn);
    return sscf ? sscf->shm_zone : NULL;
}


static kl_uint_t
kl_http_ssl_sess_expired(kl_zone_node_t *node, void *ctx)
{
    kl_http_ssl_sess_t *sess;

    sess = kl_zone_node_value(node);
    return sess->expire <= *(time_t *) ctx;
}


static int
kl_http_ssl_new_session(SSL *ssl_conn, SSL_SESSION *sess)
{
    int                 len;
    u_char             *p, buf[KL_HTTP_SSL_MAX_SESSION];
    time_t              now;
    kl_uint_t           hash;
    unsigned int        idlen;
    const u_char       *id;
    kl_shm_zone_t      *zone;
    kl_zone_node_t     *node;
    kl_slab_pool_t     *pool;
    kl_zone_hash_t     *tree;
    kl_http_ssl_sess_t *s;

    zone = kl_http_ssl_conn_zone(ssl_conn);
    if (zone == NULL) {
        return 0;
    }

    len = i2d_SSL_SESSION(sess, NULL);
    if (len <= 0 || len > KL_HTTP_SSL_MAX_SESSION) {
        return 0;
    }

    p = buf;
    (void) i2d_SSL_SESSION(sess, &p);

    id = SSL_SESSION_get_id(sess, &idlen);
    if (idlen == 0) {
        return 0;
    }

    hash = kl_http_ssl_hash((u_char *) id, idlen);
    now = kl_loop.clock.sec;

    pool = zone->data;
    tree = pool->data;

    kl_shmtx_lock(&pool->mutex);

    /* A couple of expired ones go at each store, as nginx does. */
    (void) kl_zone_hash_expire(tree, pool, 2, kl_http_ssl_sess_expired, &now);

    node = kl_zone_hash_lookup(tree, hash, (u_char *) id, idlen);
    if (node) {
        kl_zone_hash_delete(tree, pool, node);
    }

    node = kl_zone_hash_insert(tree, pool, hash, (u_char *) id, idlen,
                               sizeof(kl_http_ssl_sess_t) + (size_t) len);
    if (node == NULL) {
        /* Full: the least recently used goes, expired or not. */
        (void) kl_zone_hash_expire(tree, pool, 1, NULL, NULL);
        node = kl_zone_hash_insert(tree, pool, hash, (u_char *) id, idlen,
                                   sizeof(kl_http_ssl_sess_t) + (size_t) len);
    }

    if (node) {
        s = kl_zone_node_value(node);
        s->expire = now + (time_t) SSL_SESSION_get_timeout(sess);
        s->len = (uint32_t) len;
        kl_memcpy(s->der, buf, (size_t) len);
    }

    kl_shmtx_unlock(&pool->mutex);

    return 0;
}


static SSL_SESSION *
kl_http_ssl_get_session(SSL *ssl_conn, const unsigned char *id, int len,
                        int *copy)
{
    u_char              buf[KL_HTTP_SSL_MAX_SESSION];
    size_t              n;
    const u_char       *p;
    kl_shm_zone_t      *zone;
    kl_zone_node_t     *node;
    kl_slab_pool_t     *pool;
    kl_zone_hash_t     *tree;
    kl_http_ssl_sess_t *s;

    *copy = 0;

    zone = kl_http_ssl_conn_zone(ssl_conn);
    if (zone == NULL || len <= 0) {
        return NULL;
    }

    pool = zone->data;
    tree = pool->data;
    n = 0;

    kl_shmtx_lock(&pool->mutex);

    node =
        kl_zone_hash_lookup(tree, kl_http_ssl_hash((u_char *) id, (size_t) len),
                            (u_char *) id, (size_t) len);
    if (node) {
        s = kl_zone_node_value(node);

        if (s->expire > kl_loop.clock.sec) {
            n = s->len;
            kl_memcpy(buf, s->der, n);
            kl_zone_hash_touch(tree, node);

        } else {
            kl_zone_hash_delete(tree, pool, node);
        }
    }

    kl_shmtx_unlock(&pool->mutex);

    if (n == 0) {
        return NULL;
    }

    p = buf;
    return d2i_SSL_SESSION(NULL, &p, (long) n);
}


static void
kl_http_ssl_remove_session(SSL_CTX *ctx, SSL_SESSION *sess)
{
    unsigned int    len;
    const u_char   *id;
    kl_shm_zone_t  *zone;
    kl_zone_node_t *node;
    kl_slab_pool_t *pool;
    kl_zone_hash_t *tree;

    zone = kl_http_ssl_zone_of(ctx);
    if (zone == NULL) {
        return;
    }

    id = SSL_SESSION_get_id(sess, &len);
    if (len == 0) {
        return;
    }

    pool = zone->data;
    tree = pool->data;

    kl_shmtx_lock(&pool->mutex);

    node = kl_zone_hash_lookup(tree, kl_http_ssl_hash((u_char *) id, len),
                               (u_char *) id, len);
    if (node) {
        kl_zone_hash_delete(tree, pool, node);
    }

    kl_shmtx_unlock(&pool->mutex);
}


static kl_int_t
kl_http_ssl_cache_mode(kl_http_ssl_srv_conf_t *sscf)
{
    long     mode;
    SSL_CTX *ctx;

    ctx = sscf->ssl.ctx;

    if (sscf->builtin_session_cache == KL_HTTP_SSL_NO_SCACHE) {
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
        return KL_OK;
    }

    if (sscf->builtin_session_cache == KL_HTTP_SSL_NONE_SCACHE) {
        /*
         * As nginx: the server says sessions may be resumed (some
         * clients misbehave when told they cannot) and keeps none.
         */
        SSL_CTX_set_session_cache_mode(
            ctx, SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_NO_AUTO_CLEAR
                     | SSL_SESS_CACHE_NO_INTERNAL_STORE);
        SSL_CTX_sess_set_cache_size(ctx, 1);
        return KL_OK;
    }

    mode = SSL_SESS_CACHE_SERVER;

    if (sscf->shm_zone && sscf->builtin_session_cache == KL_HTTP_SSL_NO_BUILTIN)
    {
        mode |= SSL_SESS_CACHE_NO_INTERNAL;
    }

    SSL_CTX_set_session_cache_mode(ctx, mode);

    if (sscf->builtin_session_cache >= 0) {
        SSL_CTX_sess_set_cache_size(ctx, sscf->builtin_session_cache);
    }

    if (sscf->shm_zone) {
        SSL_CTX_sess_set_new_cb(ctx, kl_http_ssl_new_session);
        SSL_CTX_sess_set_get_cb(ctx, kl_http_ssl_get_session);
        SSL_CTX_sess_set_remove_cb(ctx, kl_http_ssl_remove_session);
    }

    return KL_OK;
}


static int
kl_http_ssl_ticket_key_cb(SSL *ssl_conn, unsigned char *name, unsigned char *iv,
                          EVP_CIPHER_CTX *ectx, EVP_MAC_CTX *hctx, int enc)
{
    size_t                    size;
    kl_uint_t                 i;
    kl_array_t               *keys;
    OSSL_PARAM                params[2];
    const EVP_CIPHER         *cipher;
    kl_http_ssl_srv_conf_t   *sscf;
    kl_http_ssl_ticket_key_t *key;

    sscf = kl_http_ssl_session_conf(ssl_conn);
    if (sscf == NULL || sscf->ticket_keys == NULL) {
        return enc ? -1 : 0;
    }

    keys = sscf->ticket_keys;
    key = keys->elts;

    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                                 (char *) "SHA256", 0);
    params[1] = OSSL_PARAM_construct_end();

    if (enc == 1) {
        cipher = key[0].size == 48 ? EVP_aes_128_cbc() : EVP_aes_256_cbc();
        size = key[0].size == 48 ? 16 : 32;

        if (RAND_bytes(iv, EVP_CIPHER_get_iv_length(cipher)) != 1
            || EVP_EncryptInit_ex(ectx, cipher, NULL, key[0].aes_key, iv) != 1
            || EVP_MAC_init(hctx, key[0].hmac_key, size, params) != 1)
        {
            return -1;
        }

        kl_memcpy(name, key[0].name, 16);
        return 1;
    }

    for (i = 0; i < keys->nelts; i++) {
        if (memcmp(name, key[i].name, 16) == 0) {
            break;
        }
    }

    if (i == keys->nelts) {
        /* Not ours (or rotated out): a full handshake, a new ticket. */
        return 0;
    }

    cipher = key[i].size == 48 ? EVP_aes_128_cbc() : EVP_aes_256_cbc();
    size = key[i].size == 48 ? 16 : 32;

    if (EVP_MAC_init(hctx, key[i].hmac_key, size, params) != 1
        || EVP_DecryptInit_ex(ectx, cipher, NULL, key[i].aes_key, iv) != 1)
    {
        return -1;
    }

    /* 2: decrypted with an old key, so a new ticket with the first. */
    return i == 0 ? 1 : 2;
}


/* ssl_session_ticket_key files: 48 or 80 bytes each, as nginx reads them. */
static kl_int_t
kl_http_ssl_ticket_keys(kl_conf_t *cf, kl_http_ssl_srv_conf_t *sscf,
                        kl_log_t *log)
{
    ssize_t                   n;
    kl_fd_t                   fd;
    kl_str_t                 *file, name;
    kl_uint_t                 i;
    struct stat               st;
    u_char                    buf[80];
    kl_http_ssl_ticket_key_t *key;

    sscf->ticket_keys =
        kl_array_create(cf->pool, sscf->session_ticket_keys->nelts,
                        sizeof(kl_http_ssl_ticket_key_t));
    if (sscf->ticket_keys == NULL) {
        return KL_ERROR;
    }

    file = sscf->session_ticket_keys->elts;

    for (i = 0; i < sscf->session_ticket_keys->nelts; i++) {
        name = file[i];

        if (kl_conf_full_name(cf->cycle, &name, 1) != KL_OK) {
            return KL_ERROR;
        }

        fd = open((char *) name.data, O_RDONLY | O_CLOEXEC);
        if (fd == -1) {
            kl_log_error(KL_LOG_EMERG, log, errno, "open() \"%V\" failed",
                         &name);
            return KL_ERROR;
        }

        if (fstat(fd, &st) == -1) {
            kl_log_error(KL_LOG_EMERG, log, errno, "fstat() \"%V\" failed",
                         &name);
            (void) close(fd);
            return KL_ERROR;
        }

        if (st.st_size != 48 && st.st_size != 80) {
            kl_log_error(KL_LOG_EMERG, log, 0, "\"%V\" must be 48 or 80 bytes",
                         &name);
            (void) close(fd);
            return KL_ERROR;
        }

        n = read(fd, buf, (size_t) st.st_size);
        (void) close(fd);

        if (n != st.st_size) {
            kl_log_error(KL_LOG_EMERG, log, n == -1 ? errno : 0,
                         "read() \"%V\" failed", &name);
            return KL_ERROR;
        }

        key = kl_array_push(sscf->ticket_keys);
        if (key == NULL) {
            return KL_ERROR;
        }

        kl_memzero(key, sizeof(kl_http_ssl_ticket_key_t));
        key->size = (kl_uint_t) n;
        kl_memcpy(key->name, buf, 16);

        if (n == 48) {
            kl_memcpy(key->aes_key, buf + 16, 16);
            kl_memcpy(key->hmac_key, buf + 32, 16);
        } else {
            kl_memcpy(key->hmac_key, buf + 16, 32);
            kl_memcpy(key->aes_key, buf + 48, 32);
        }

        explicit_bzero(buf, sizeof(buf));
    }

    if (SSL_CTX_set_tlsext_ticket_key_evp_cb(sscf->ssl.ctx,
                                             kl_http_ssl_ticket_key_cb)
        == 0)
    {
        kl_ssl_error(KL_LOG_EMERG, log, 0,
                     "SSL_CTX_set_tlsext_ticket_key_evp_cb() failed");
        return KL_ERROR;
    }

    return KL_OK;
}


kl_int_t
kl_http_ssl_session_setup(kl_conf_t *cf, kl_http_ssl_srv_conf_t *sscf,
                          kl_log_t *log)
{
    u_char      *p, sid[SSL_MAX_SID_CTX_LENGTH];
    kl_str_t    *cert;
    kl_uint_t    i;
    unsigned int len;
    EVP_MD_CTX  *md;

    /*
     * The session id context: a digest of the server's certificate
     * names, so that a session made for one server is not resumed by
     * another through the shared cache.
     */
    md = EVP_MD_CTX_new();
    if (md == NULL || EVP_DigestInit_ex(md, EVP_sha1(), NULL) != 1) {
        EVP_MD_CTX_free(md);
        return KL_ERROR;
    }

    if (sscf->certificates) {
        cert = sscf->certificates->elts;
        for (i = 0; i < sscf->certificates->nelts; i++) {
            (void) EVP_DigestUpdate(md, cert[i].data, cert[i].len);
        }
    }

    p = sid;
    len = 0;
    (void) EVP_DigestFinal_ex(md, p, &len);
    EVP_MD_CTX_free(md);

    if (SSL_CTX_set_session_id_context(sscf->ssl.ctx, sid, len) == 0) {
        kl_ssl_error(KL_LOG_EMERG, log, 0,
                     "SSL_CTX_set_session_id_context() failed");
        return KL_ERROR;
    }

    SSL_CTX_set_timeout(sscf->ssl.ctx, (long) sscf->session_timeout);

    if (kl_http_ssl_cache_mode(sscf) != KL_OK) {
        return KL_ERROR;
    }

    if (!sscf->session_tickets) {
        SSL_CTX_set_options(sscf->ssl.ctx, SSL_OP_NO_TICKET);
        return KL_OK;
    }

    if (sscf->session_ticket_keys
        && kl_http_ssl_ticket_keys(cf, sscf, log) != KL_OK)
    {
        return KL_ERROR;
    }

    return KL_OK;
}


/* A name list joined with ':' into pool memory. */
static kl_int_t
kl_http_ssl_join(kl_pool_t *pool, kl_str_t *s, const char **names, int n)
{
    int     i;
    size_t  len;
    u_char *p;

    len = 0;
    for (i = 0; i < n; i++) {
        len += kl_strlen(names[i]) + 1;
    }

    if (len == 0) {
        s->len = 0;
        return KL_OK;
    }

    p = kl_pnalloc(pool, len);
    if (p == NULL) {
        return KL_ERROR;
    }

    s->data = p;

    for (i = 0; i < n; i++) {
        if (i) {
            *p++ = ':';
        }
        p = kl_cpymem(p, names[i], kl_strlen(names[i]));
    }

    s->len = p - s->data;
    return KL_OK;
}


kl_int_t
kl_http_ssl_get_ciphers(kl_connection_t *c, kl_pool_t *pool, kl_str_t *s)
{
    int               i, n;
    u_char           *p;
    const char      **names;
    const SSL_CIPHER *cipher;
    STACK_OF(SSL_CIPHER) * list;

    list = SSL_get_client_ciphers(c->ssl->connection);
    n = list ? sk_SSL_CIPHER_num(list) : 0;

    names = kl_palloc(pool, (size_t) (n + 1) * sizeof(char *));
    if (names == NULL) {
        return KL_ERROR;
    }

    for (i = 0; i < n; i++) {
        cipher = sk_SSL_CIPHER_value(list, i);
        names[i] = SSL_CIPHER_get_name(cipher);

        if (names[i] == NULL || kl_strcmp(names[i], "(NONE)") == 0) {
            p = kl_pnalloc(pool, sizeof("0x0000"));
            if (p == NULL) {
                return KL_ERROR;
            }
            *kl_slprintf(p, p + 6, "0x%04xd",
                         (unsigned) SSL_CIPHER_get_protocol_id(cipher)) = '\0';
            names[i] = (const char *) p;
        }
    }

    return kl_http_ssl_join(pool, s, names, n);
}


/* A group's name as nginx gives it: OpenSSL's short name, or 0xNNNN. */
static const char *
kl_http_ssl_group_name(kl_pool_t *pool, int nid)
{
    u_char     *p;
    const char *name;

    if (!(nid & TLSEXT_nid_unknown)) {
        name = OBJ_nid2sn(nid);
        if (name) {
            return name;
        }
    }

    p = kl_pnalloc(pool, sizeof("0x0000"));
    if (p == NULL) {
        return NULL;
    }

    *kl_slprintf(p, p + 6, "0x%04xd", (unsigned) (nid & 0xffff)) = '\0';
    return (const char *) p;
}


kl_int_t
kl_http_ssl_get_curve(kl_connection_t *c, kl_pool_t *pool, kl_str_t *s)
{
    int         nid;
    const char *name;

    s->len = 0;

    nid = SSL_get_negotiated_group(c->ssl->connection);
    if (nid == 0 || nid == NID_undef) {
        return KL_OK;
    }

    name = kl_http_ssl_group_name(pool, nid);
    if (name == NULL) {
        return KL_ERROR;
    }

    s->data = (u_char *) name;
    s->len = kl_strlen(name);
    return KL_OK;
}


kl_int_t
kl_http_ssl_get_curves(kl_connection_t *c, kl_pool_t *pool, kl_str_t *s)
{
    int          i, n, *groups;
    const char **names;

    s->len = 0;

    n = SSL_get1_curves(c->ssl->connection, NULL);
    if (n <= 0) {
        return KL_OK;
    }

    groups = kl_palloc(pool, (size_t) n * sizeof(int));
    names = kl_palloc(pool, (size_t) n * sizeof(char *));
    if (groups == NULL || names == NULL) {
        return KL_ERROR;
    }

    n = SSL_get1_curves(c->ssl->connection, groups);

    for (i = 0; i < n; i++) {
        names[i] = kl_http_ssl_group_name(pool, groups[i]);
        if (names[i] == NULL) {
            return KL_ERROR;
        }
    }

    return kl_http_ssl_join(pool, s, names, n);
}


/* kiln takes no 0-RTT data (ssl_early_data on is warned about): "". */
kl_int_t
kl_http_ssl_get_early_data(kl_connection_t *c, kl_pool_t *pool, kl_str_t *s)
{
    (void) c;
    (void) pool;

    s->len = 0;
    return KL_OK;
}
