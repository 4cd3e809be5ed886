/*
 * ssl_stapling.c: OCSP stapling for `listen ... ssl` servers: ssl_stapling,
 * ssl_stapling_file (a DER OCSP response read at config time and stapled
 * to every handshake whose client asks for certificate status),
 * ssl_stapling_responder and ssl_stapling_verify. Without a file, each
 * certificate of the server gets a kl_ssl_staple_t (its issuer, its
 * responder) and each worker fetches its response (ssl_ocsp.c) when a
 * client first asks; handshakes go without a staple until it is there.
 */

#include "kl_http.h"
#include "ssl_module.h"
#include "ssl_ocsp.h"
#include "ssl_ocsp_parse.h"
#include "resolver_module.h"

#if !(KL_HAVE_OPENSSL)
#error "the ssl_stapling module needs OpenSSL 3: install libssl-dev, or \
./configure --without-http_ssl_module"
#endif

#include <openssl/ssl.h>
#include <openssl/ocsp.h>
#include <openssl/err.h>


extern kl_module_t kl_http_resolver_module;


typedef struct {
    kl_int_t stapling;
    kl_int_t verify;
    kl_str_t file;
    kl_str_t responder;

    kl_array_t *staples; /* kl_ssl_staple_t *, fetched from responders */

    u_char   *conf_file; /* where ssl_stapling or ssl_stapling_file was */
    kl_uint_t conf_line;

    kl_str_t staple; /* the DER response, when stapling from the file */
} kl_http_ssl_stapling_conf_t;


static void    *kl_http_ssl_stapling_create_srv_conf(kl_conf_t *cf);
static char    *kl_http_ssl_stapling_merge_srv_conf(kl_conf_t *cf, void *parent,
                                                    void *child);
static char    *kl_http_ssl_stapling_where(kl_conf_t *cf, kl_command_t *cmd,
                                           void *conf);
static kl_int_t kl_http_ssl_stapling_load(kl_conf_t                   *cf,
                                          kl_http_ssl_stapling_conf_t *conf);
static int      kl_http_ssl_stapling_status(SSL *ssl_conn, void *arg);
static kl_int_t kl_http_ssl_stapling_certs(kl_conf_t                   *cf,
                                           kl_http_ssl_stapling_conf_t *conf,
                                           SSL_CTX                     *ctx);
static kl_int_t kl_http_ssl_stapling_cert(kl_conf_t                   *cf,
                                          kl_http_ssl_stapling_conf_t *conf,
                                          SSL_CTX *ctx, X509 *cert);
static kl_int_t
kl_http_ssl_stapling_responder(kl_conf_t *cf, kl_http_ssl_stapling_conf_t *conf,
                               kl_ssl_staple_t *st);
static void kl_http_ssl_stapling_cleanup(void *data);
static int  kl_http_ssl_stapling_fetched(SSL *ssl_conn, void *arg);


/* clang-format off */
#define KL_HTTP_SSL_STAPLING_CONF (KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF)

static kl_command_t  kl_http_ssl_stapling_commands[] = {

    { kl_string("ssl_stapling"),
      KL_HTTP_SSL_STAPLING_CONF | KL_CONF_FLAG,
      kl_http_ssl_stapling_where,
      KL_HTTP_SRV_CONF_OFFSET,
      offsetof(kl_http_ssl_stapling_conf_t, stapling),
      NULL },

    { kl_string("ssl_stapling_file"),
      KL_HTTP_SSL_STAPLING_CONF | KL_CONF_TAKE1,
      kl_http_ssl_stapling_where,
      KL_HTTP_SRV_CONF_OFFSET,
      offsetof(kl_http_ssl_stapling_conf_t, file),
      NULL },

    { kl_string("ssl_stapling_responder"),
      KL_HTTP_SSL_STAPLING_CONF | KL_CONF_TAKE1,
      kl_http_ssl_stapling_where,
      KL_HTTP_SRV_CONF_OFFSET,
      offsetof(kl_http_ssl_stapling_conf_t, responder),
      NULL },

    { kl_string("ssl_stapling_verify"),
      KL_HTTP_SSL_STAPLING_CONF | KL_CONF_FLAG,
      kl_conf_set_flag_slot,
      KL_HTTP_SRV_CONF_OFFSET,
      offsetof(kl_http_ssl_stapling_conf_t, verify),
      NULL },

    kl_null_command
};
/* clang-format on */


static kl_http_module_t kl_http_ssl_stapling_module_ctx = {
    .create_srv_conf = kl_http_ssl_stapling_create_srv_conf,
    .merge_srv_conf = kl_http_ssl_stapling_merge_srv_conf,
};


kl_module_t kl_http_ssl_stapling_module = {
    .name = "kl_http_ssl_stapling_module",
    .type = KL_HTTP_MODULE,
    .ctx = &kl_http_ssl_stapling_module_ctx,
    .commands = kl_http_ssl_stapling_commands,
};


static void *
kl_http_ssl_stapling_create_srv_conf(kl_conf_t *cf)
{
    kl_http_ssl_stapling_conf_t *conf;

    conf = kl_pcalloc(cf->pool, sizeof(kl_http_ssl_stapling_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    conf->stapling = KL_CONF_UNSET;
    conf->verify = KL_CONF_UNSET;

    return conf;
}


/* The flag or string slot, and where it was: the merge's warnings and
 * errors name the line, as the ssl module's do. */
static char *
kl_http_ssl_stapling_where(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    char                        *rv;
    kl_http_ssl_stapling_conf_t *scf;

    scf = conf;

    if (cmd->offset == offsetof(kl_http_ssl_stapling_conf_t, stapling)) {
        rv = kl_conf_set_flag_slot(cf, cmd, conf);
    } else {
        rv = kl_conf_set_str_slot(cf, cmd, conf);
    }

    if (rv == KL_CONF_OK) {
        scf->conf_file = cf->conf_file->file.name.data;
        scf->conf_line = cf->conf_file->line;
    }

    return rv;
}


/*
 * Runs after the ssl module's merge (listed after it in auto/modules), so
 * cscf->ssl is the server's context when it has one. A server without a
 * context has nothing to staple, as in nginx.
 */
static char *
kl_http_ssl_stapling_merge_srv_conf(kl_conf_t *cf, void *parent, void *child)
{
    kl_http_ssl_stapling_conf_t *prev, *conf;
    kl_http_core_srv_conf_t     *cscf;

    prev = parent;
    conf = child;

    kl_conf_merge_value(conf->stapling, prev->stapling, 0);
    kl_conf_merge_value(conf->verify, prev->verify, 1);
    kl_conf_merge_str_value(conf->file, prev->file, "");
    kl_conf_merge_str_value(conf->responder, prev->responder, "");

    if (conf->conf_file == NULL) {
        conf->conf_file = prev->conf_file;
        conf->conf_line = prev->conf_line;
    }

    cscf = kl_http_conf_get_module_srv_conf(cf, kl_http_core_module);

    if (!conf->stapling || cscf->ssl == NULL || cscf->ssl->ctx == NULL) {
        return KL_CONF_OK;
    }

    if (conf->file.len == 0) {
        return kl_http_ssl_stapling_certs(cf, conf, cscf->ssl->ctx) == KL_OK
                   ? KL_CONF_OK
                   : KL_CONF_ERROR;
    }

    /* The http level's file is read once, then shared by its servers. */
    if (prev->staple.len && prev->file.data == conf->file.data) {
        conf->staple = prev->staple;

    } else if (kl_http_ssl_stapling_load(cf, conf) != KL_OK) {
        return KL_CONF_ERROR;
    }

    SSL_CTX_set_tlsext_status_cb(cscf->ssl->ctx, kl_http_ssl_stapling_status);
    SSL_CTX_set_tlsext_status_arg(cscf->ssl->ctx, conf);

    return KL_CONF_OK;
}


/* Read and parse the DER response, keep its bytes in the cycle's pool. */
static kl_int_t
kl_http_ssl_stapling_load(kl_conf_t *cf, kl_http_ssl_stapling_conf_t *conf)
{
    int            len;
    u_char        *p;
    BIO           *bio;
    kl_str_t       name;
    OCSP_RESPONSE *response;

    name = conf->file;

    if (kl_conf_full_name(cf->cycle, &name, 1) != KL_OK) {
        return KL_ERROR;
    }

    bio = BIO_new_file((char *) name.data, "rb");
    if (bio == NULL) {
        kl_ssl_error(KL_LOG_EMERG, cf->log, 0,
                     "BIO_new_file(\"%s\") failed in %s:%ui", name.data,
                     conf->conf_file, conf->conf_line);
        return KL_ERROR;
    }

    response = d2i_OCSP_RESPONSE_bio(bio, NULL);
    BIO_free(bio);

    if (response == NULL) {
        kl_ssl_error(KL_LOG_EMERG, cf->log, 0,
                     "d2i_OCSP_RESPONSE_bio(\"%s\") failed in %s:%ui",
                     name.data, conf->conf_file, conf->conf_line);
        return KL_ERROR;
    }

    len = i2d_OCSP_RESPONSE(response, NULL);
    p = len > 0 ? kl_pnalloc(cf->pool, len) : NULL;

    if (p == NULL) {
        OCSP_RESPONSE_free(response);
        return KL_ERROR;
    }

    conf->staple.data = p;
    conf->staple.len = i2d_OCSP_RESPONSE(response, &p);
    OCSP_RESPONSE_free(response);

    return KL_OK;
}


/*
 * OpenSSL calls this only when the client sent status_request. OpenSSL
 * frees what it is given, so each handshake gets its own copy.
 */
static int
kl_http_ssl_stapling_status(SSL *ssl_conn, void *arg)
{
    u_char                      *p;
    kl_http_ssl_stapling_conf_t *conf;

    conf = arg;

    if (conf == NULL || conf->staple.len == 0) {
        return SSL_TLSEXT_ERR_NOACK;
    }

    p = OPENSSL_malloc(conf->staple.len);
    if (p == NULL) {
        return SSL_TLSEXT_ERR_NOACK;
    }

    kl_memcpy(p, conf->staple.data, conf->staple.len);

    if (SSL_set_tlsext_status_ocsp_resp(ssl_conn, p, conf->staple.len) != 1) {
        OPENSSL_free(p);
        return SSL_TLSEXT_ERR_NOACK;
    }

    return SSL_TLSEXT_ERR_OK;
}


/* A staple for each certificate of the context, as nginx's ngx_ssl_stapling. */
static kl_int_t
kl_http_ssl_stapling_certs(kl_conf_t *cf, kl_http_ssl_stapling_conf_t *conf,
                           SSL_CTX *ctx)
{
    int      more;
    X509    *cert;
    kl_int_t rc;

    conf->staples = kl_array_create(cf->pool, 2, sizeof(kl_ssl_staple_t *));
    if (conf->staples == NULL) {
        return KL_ERROR;
    }

    for (more = SSL_CTX_set_current_cert(ctx, SSL_CERT_SET_FIRST); more;
         more = SSL_CTX_set_current_cert(ctx, SSL_CERT_SET_NEXT))
    {
        cert = SSL_CTX_get0_certificate(ctx);
        if (cert == NULL) {
            continue;
        }

        rc = kl_http_ssl_stapling_cert(cf, conf, ctx, cert);
        if (rc == KL_ERROR) {
            return KL_ERROR;
        }
    }

    SSL_CTX_set_current_cert(ctx, SSL_CERT_SET_FIRST);

    if (conf->staples->nelts) {
        SSL_CTX_set_tlsext_status_cb(ctx, kl_http_ssl_stapling_fetched);
        SSL_CTX_set_tlsext_status_arg(ctx, conf);
    }

    return KL_OK;
}


/* KL_DECLINED: this certificate is not stapled (warned, as nginx). */
static kl_int_t
kl_http_ssl_stapling_cert(kl_conf_t *cf, kl_http_ssl_stapling_conf_t *conf,
                          SSL_CTX *ctx, X509 *cert)
{
    int                i;
    char               buf[256];
    X509              *issuer;
    X509_STORE_CTX    *sctx;
    kl_ssl_staple_t   *st, **pst;
    kl_pool_cleanup_t *cln;

    st = kl_pcalloc(cf->pool, sizeof(kl_ssl_staple_t));
    cln = kl_pool_cleanup_add(cf->pool, 0);
    if (st == NULL || cln == NULL) {
        return KL_ERROR;
    }

    X509_NAME_oneline(X509_get_subject_name(cert), buf, sizeof(buf));
    st->name = kl_pnalloc(cf->pool, kl_strlen(buf) + 1);
    if (st->name == NULL) {
        return KL_ERROR;
    }

    kl_memcpy(st->name, buf, kl_strlen(buf) + 1);

    X509_up_ref(cert);
    st->cert = cert;
    st->ssl_ctx = ctx;
    cln->handler = kl_http_ssl_stapling_cleanup;
    cln->data = st;

    SSL_CTX_get0_chain_certs(ctx, &st->chain);

    /* the issuer: in the chain, else among the trusted certificates */
    for (i = 0; i < sk_X509_num(st->chain); i++) {
        issuer = sk_X509_value(st->chain, i);

        if (X509_check_issued(issuer, cert) == X509_V_OK) {
            X509_up_ref(issuer);
            st->issuer = issuer;
            break;
        }
    }

    if (st->issuer == NULL) {
        sctx = X509_STORE_CTX_new();

        if (sctx
            && X509_STORE_CTX_init(sctx, SSL_CTX_get_cert_store(ctx), NULL,
                                   NULL)
                   == 1
            && X509_STORE_CTX_get1_issuer(&issuer, sctx, cert) > 0)
        {
            st->issuer = issuer;
        }

        X509_STORE_CTX_free(sctx);
        ERR_clear_error();
    }

    if (st->issuer == NULL) {
        kl_log_error(KL_LOG_WARN, cf->log, 0,
                     "\"ssl_stapling\" ignored, issuer certificate not found "
                     "for certificate \"%s\"",
                     st->name);
        return KL_DECLINED;
    }

    st->id = OCSP_cert_to_id(NULL, cert, st->issuer);
    if (st->id == NULL) {
        kl_ssl_error(KL_LOG_EMERG, cf->log, 0, "OCSP_cert_to_id() failed");
        return KL_ERROR;
    }

    if (kl_http_ssl_stapling_responder(cf, conf, st) != KL_OK) {
        return KL_DECLINED;
    }

    pst = kl_array_push(conf->staples);
    if (pst == NULL) {
        return KL_ERROR;
    }

    *pst = st;

    return KL_OK;
}


/*
 * ssl_stapling_responder, else the certificate's AIA OCSP URL; its host
 * resolved now, and again by the resolver at each fetch when the
 * server's "resolver" names one (nginx's order of things).
 */
static kl_int_t
kl_http_ssl_stapling_responder(kl_conf_t *cf, kl_http_ssl_stapling_conf_t *conf,
                               kl_ssl_staple_t *st)
{
    u_char                  *p;
    kl_str_t                 url, addr;
    const char              *err;
    struct in_addr           in;
    kl_http_conf_ctx_t      *http;
    kl_http_core_srv_conf_t *cscf;
    kl_http_resolver_conf_t *rcf, *hrcf;
    STACK_OF(OPENSSL_STRING) * aia;

    url = conf->responder;

    if (url.len == 0) {
        aia = X509_get1_ocsp(st->cert);

        if (aia == NULL || sk_OPENSSL_STRING_num(aia) == 0) {
            X509_email_free(aia);
            kl_log_error(KL_LOG_WARN, cf->log, 0,
                         "\"ssl_stapling\" ignored, no OCSP responder URL in "
                         "the certificate \"%s\"",
                         st->name);
            return KL_DECLINED;
        }

        p = (u_char *) sk_OPENSSL_STRING_value(aia, 0);
        url.len = kl_strlen(p);
        url.data = kl_pnalloc(cf->pool, url.len);

        if (url.data == NULL) {
            X509_email_free(aia);
            return KL_ERROR;
        }

        kl_memcpy(url.data, p, url.len);
        X509_email_free(aia);
    }

    if (kl_ssl_ocsp_parse_url(&url, &st->host, &st->port, &st->uri, &err)
        != KL_OK) {
        kl_log_error(KL_LOG_WARN, cf->log, 0,
                     "\"ssl_stapling\" ignored, %s in OCSP responder \"%V\" "
                     "in the certificate \"%s\"",
                     err, &url, st->name);
        return KL_DECLINED;
    }

    st->numeric = st->host.data[0] == '[';

    if (!st->numeric && st->host.len < 64) {
        p = kl_pnalloc(cf->pool, st->host.len + 1);
        if (p == NULL) {
            return KL_ERROR;
        }

        kl_memcpy(p, st->host.data, st->host.len);
        p[st->host.len] = '\0';
        st->numeric = inet_pton(AF_INET, (char *) p, &in) == 1;
    }

    /* the server's resolver, or the http block's (its loc confs are not
     * merged yet when servers' srv confs are) */
    cscf = kl_http_conf_get_module_srv_conf(cf, kl_http_core_module);
    rcf = cscf->ctx->loc_conf[kl_http_resolver_module.ctx_index];
    http = (kl_http_conf_ctx_t *) cf->cycle->conf_ctx[kl_http_module.index];
    hrcf = http->loc_conf[kl_http_resolver_module.ctx_index];

    st->resolver = rcf->resolver != KL_CONF_UNSET_PTR    ? rcf->resolver
                   : hrcf->resolver != KL_CONF_UNSET_PTR ? hrcf->resolver
                                                         : NULL;
    st->resolver_timeout = rcf->timeout != KL_CONF_UNSET_MSEC    ? rcf->timeout
                           : hrcf->timeout != KL_CONF_UNSET_MSEC ? hrcf->timeout
                                                                 : 30000;
    st->timeout = 60000;
    st->verify = conf->verify;
    st->log = &cf->cycle->new_log;

    addr.len = st->host.len + sizeof(":65535") - 1;
    addr.data = kl_pnalloc(cf->pool, addr.len);
    if (addr.data == NULL) {
        return KL_ERROR;
    }

    addr.len = kl_slprintf(addr.data, addr.data + addr.len, "%V:%ui", &st->host,
                           st->port)
               - addr.data;

    /* as nginx, the name must resolve now, even with a resolver */
    if (kl_sock_parse_all(cf->pool, &addr, st->port, &st->addrs, &st->socklens,
                          &st->naddrs, &err)
        != KL_OK)
    {
        url.data += 7;
        url.len -= 7;
        kl_log_error(KL_LOG_WARN, cf->log, 0,
                     "\"ssl_stapling\" ignored, %s in OCSP responder \"%V\" "
                     "in the certificate \"%s\"",
                     err ? err : "host not found", &url, st->name);
        return KL_DECLINED;
    }

    return KL_OK;
}


static void
kl_http_ssl_stapling_cleanup(void *data)
{
    kl_ssl_staple_t *st = data;

    OCSP_CERTID_free(st->id);
    X509_free(st->issuer);
    X509_free(st->cert);
    free(st->staple);
}


/*
 * The staple of the certificate chosen for this handshake, when this
 * worker has a valid one; a fetch starts when it is due (the first
 * client that asks starts the first one and goes without).
 */
static int
kl_http_ssl_stapling_fetched(SSL *ssl_conn, void *arg)
{
    int                          rc;
    u_char                      *p;
    X509                        *cert;
    kl_uint_t                    i;
    kl_ssl_staple_t             *st, **staples;
    kl_http_ssl_stapling_conf_t *conf;

    conf = arg;
    cert = SSL_get_certificate(ssl_conn);
    staples = conf->staples->elts;
    st = NULL;

    for (i = 0; i < conf->staples->nelts; i++) {
        if (staples[i]->cert == cert) {
            st = staples[i];
            break;
        }
    }

    if (st == NULL) {
        return SSL_TLSEXT_ERR_NOACK;
    }

    rc = SSL_TLSEXT_ERR_NOACK;

    if (st->staple_len && st->valid >= kl_loop.clock.sec) {
        p = OPENSSL_malloc(st->staple_len);

        if (p) {
            kl_memcpy(p, st->staple, st->staple_len);

            if (SSL_set_tlsext_status_ocsp_resp(ssl_conn, p, st->staple_len)
                == 1) {
                rc = SSL_TLSEXT_ERR_OK;

            } else {
                OPENSSL_free(p);
            }
        }
    }

    if (!st->loading && st->refresh < kl_loop.clock.sec) {
        kl_ssl_ocsp_fetch(st);
    }

    return rc;
}
