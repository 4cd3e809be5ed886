/*
 * ssl_client.c: client certificates on TLS servers: ssl_verify_client,
 * ssl_client_certificate, ssl_trusted_certificate, ssl_verify_depth and
 * ssl_crl set on the server's context (made by ssl_module.c, merged
 * before this module), the verify result read once a request's head is
 * in (495 and 496, as nginx), and the $ssl_client_* variables.
 */

#include "kl_http.h"
#include "ssl_module.h"
#include "ssl_client.h"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <openssl/pem.h>


#define KL_HTTP_SSL_VERIFY_OFF            0
#define KL_HTTP_SSL_VERIFY_ON             1
#define KL_HTTP_SSL_VERIFY_OPTIONAL       2
#define KL_HTTP_SSL_VERIFY_OPTIONAL_NO_CA 3


typedef struct {
    kl_uint_t verify;
    kl_uint_t verify_depth;
    kl_str_t  client_certificate;
    kl_str_t  trusted_certificate;
    kl_str_t  crl;
} kl_http_ssl_client_srv_conf_t;


static void     *kl_http_ssl_client_create_srv_conf(kl_conf_t *cf);
static char     *kl_http_ssl_client_merge_srv_conf(kl_conf_t *cf, void *parent,
                                                   void *child);
static kl_int_t  kl_http_ssl_client_ctx(kl_conf_t                     *cf,
                                        kl_http_ssl_client_srv_conf_t *conf,
                                        SSL_CTX                       *ctx);
static kl_int_t  kl_http_ssl_client_locations(kl_conf_t *cf, SSL_CTX *ctx,
                                              kl_str_t *name, kl_uint_t list);
static int       kl_http_ssl_client_verify_cb(int ok, X509_STORE_CTX *store);
static kl_int_t  kl_http_ssl_client_init(kl_conf_t *cf);
static kl_int_t  kl_http_ssl_client_handler(kl_http_request_t *r);
static kl_uint_t kl_http_ssl_client_optional_error(long rc);
static char     *kl_http_ssl_client_ocsp(kl_conf_t *cf, kl_command_t *cmd,
                                         void *conf);


static kl_conf_enum_t kl_http_ssl_client_verify[] = {
    { kl_string("off"), KL_HTTP_SSL_VERIFY_OFF },
    { kl_string("on"), KL_HTTP_SSL_VERIFY_ON },
    { kl_string("optional"), KL_HTTP_SSL_VERIFY_OPTIONAL },
    { kl_string("optional_no_ca"), KL_HTTP_SSL_VERIFY_OPTIONAL_NO_CA },
    { kl_null_string, 0 }
};


#define KL_HTTP_SSL_CLIENT_NO_OCSP                                             \
    "is refused: OCSP checks of client certificates are not supported by "     \
    "kiln yet"


/* Directive tables keep one field a line, as nginx's do. */
/* clang-format off */
static kl_command_t  kl_http_ssl_client_commands[] = {

    { kl_string("ssl_verify_client"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_CONF_TAKE1,
      kl_conf_set_enum_slot,
      KL_HTTP_SRV_CONF_OFFSET,
      offsetof(kl_http_ssl_client_srv_conf_t, verify),
      kl_http_ssl_client_verify },

    { kl_string("ssl_verify_depth"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_CONF_TAKE1,
      kl_conf_set_num_slot,
      KL_HTTP_SRV_CONF_OFFSET,
      offsetof(kl_http_ssl_client_srv_conf_t, verify_depth),
      NULL },

    { kl_string("ssl_client_certificate"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_CONF_TAKE1,
      kl_conf_set_str_slot,
      KL_HTTP_SRV_CONF_OFFSET,
      offsetof(kl_http_ssl_client_srv_conf_t, client_certificate),
      NULL },

    { kl_string("ssl_trusted_certificate"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_CONF_TAKE1,
      kl_conf_set_str_slot,
      KL_HTTP_SRV_CONF_OFFSET,
      offsetof(kl_http_ssl_client_srv_conf_t, trusted_certificate),
      NULL },

    { kl_string("ssl_crl"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_CONF_TAKE1,
      kl_conf_set_str_slot,
      KL_HTTP_SRV_CONF_OFFSET,
      offsetof(kl_http_ssl_client_srv_conf_t, crl),
      NULL },

    { kl_string("ssl_ocsp"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_CONF_TAKE1,
      kl_http_ssl_client_ocsp,
      KL_HTTP_SRV_CONF_OFFSET,
      0,
      NULL },

    { kl_string("ssl_ocsp_cache"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_CONF_TAKE1,
      kl_http_ssl_client_ocsp,
      KL_HTTP_SRV_CONF_OFFSET,
      0,
      NULL },

    { kl_string("ssl_ocsp_responder"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_CONF_TAKE1,
      kl_http_ssl_client_ocsp,
      KL_HTTP_SRV_CONF_OFFSET,
      0,
      NULL },

    kl_null_command
};
/* clang-format on */


static kl_http_module_t kl_http_ssl_client_module_ctx = {
    .preconfiguration = kl_http_ssl_client_add_variables,
    .postconfiguration = kl_http_ssl_client_init,
    .create_srv_conf = kl_http_ssl_client_create_srv_conf,
    .merge_srv_conf = kl_http_ssl_client_merge_srv_conf,
};


kl_module_t kl_http_ssl_client_module = {
    .name = "kl_http_ssl_client_module",
    .ctx = &kl_http_ssl_client_module_ctx,
    .commands = kl_http_ssl_client_commands,
    .type = KL_HTTP_MODULE,
};


static void *
kl_http_ssl_client_create_srv_conf(kl_conf_t *cf)
{
    kl_http_ssl_client_srv_conf_t *conf;

    conf = kl_pcalloc(cf->pool, sizeof(kl_http_ssl_client_srv_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    conf->verify = KL_CONF_UNSET_UINT;
    conf->verify_depth = KL_CONF_UNSET_UINT;

    return conf;
}


/* ssl_ocsp off is what kiln does; on and leaf, and the cache and the
 * responder that only serve them, are refused. */
static char *
kl_http_ssl_client_ocsp(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_str_t *value;

    (void) conf;

    value = cf->args->elts;

    if (cmd->name.len == sizeof("ssl_ocsp") - 1
        && kl_strcmp(value[1].data, "off") == 0)
    {
        return KL_CONF_OK;
    }

    return KL_HTTP_SSL_CLIENT_NO_OCSP;
}


static char *
kl_http_ssl_client_merge_srv_conf(kl_conf_t *cf, void *parent, void *child)
{
    kl_http_ssl_client_srv_conf_t *prev = parent;
    kl_http_ssl_client_srv_conf_t *conf = child;

    kl_http_ssl_srv_conf_t *sscf;

    kl_conf_merge_uint_value(conf->verify, prev->verify, 0);
    kl_conf_merge_uint_value(conf->verify_depth, prev->verify_depth, 1);
    kl_conf_merge_str_value(conf->client_certificate, prev->client_certificate,
                            "");
    kl_conf_merge_str_value(conf->trusted_certificate,
                            prev->trusted_certificate, "");
    kl_conf_merge_str_value(conf->crl, prev->crl, "");

    /* the ssl module, merged first, made this server's context if any */
    sscf = kl_http_conf_get_module_srv_conf(cf, kl_http_ssl_module);

    if (sscf->ssl.ctx == NULL) {
        return KL_CONF_OK;
    }

    if (kl_http_ssl_client_ctx(cf, conf, sscf->ssl.ctx) != KL_OK) {
        return KL_CONF_ERROR;
    }

    return KL_CONF_OK;
}


/* nginx's ngx_ssl_client_certificate, _trusted_certificate and _crl. */
static kl_int_t
kl_http_ssl_client_ctx(kl_conf_t *cf, kl_http_ssl_client_srv_conf_t *conf,
                       SSL_CTX *ctx)
{
    kl_str_t     file;
    X509_STORE  *store;
    X509_LOOKUP *lookup;

    if (conf->verify) {
        if (conf->verify != KL_HTTP_SSL_VERIFY_OPTIONAL_NO_CA
            && conf->client_certificate.len == 0
            && conf->trusted_certificate.len == 0)
        {
            kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                              "no ssl_client_certificate for "
                              "ssl_verify_client");
            return KL_ERROR;
        }

        /* the handshake goes on whatever the result: read per request */
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, kl_http_ssl_client_verify_cb);
        SSL_CTX_set_verify_depth(ctx, (int) conf->verify_depth);

        if (conf->client_certificate.len
            && kl_http_ssl_client_locations(cf, ctx, &conf->client_certificate,
                                            1)
                   != KL_OK)
        {
            return KL_ERROR;
        }
    }

    if (conf->trusted_certificate.len) {
        SSL_CTX_set_verify(ctx, SSL_CTX_get_verify_mode(ctx),
                           kl_http_ssl_client_verify_cb);
        SSL_CTX_set_verify_depth(ctx, (int) conf->verify_depth);

        if (kl_http_ssl_client_locations(cf, ctx, &conf->trusted_certificate, 0)
            != KL_OK)
        {
            return KL_ERROR;
        }
    }

    if (conf->crl.len == 0) {
        return KL_OK;
    }

    file = conf->crl;

    if (kl_conf_full_name(cf->cycle, &file, 1) != KL_OK) {
        return KL_ERROR;
    }

    store = SSL_CTX_get_cert_store(ctx);
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


/* The CAs of name verify clients; with list, their names are also sent
 * in the CertificateRequest (ssl_client_certificate). */
static kl_int_t
kl_http_ssl_client_locations(kl_conf_t *cf, SSL_CTX *ctx, kl_str_t *name,
                             kl_uint_t list)
{
    kl_str_t file;
    STACK_OF(X509_NAME) * names;

    file = *name;

    if (kl_conf_full_name(cf->cycle, &file, 1) != KL_OK) {
        return KL_ERROR;
    }

    if (SSL_CTX_load_verify_locations(ctx, (char *) file.data, NULL) == 0) {
        kl_ssl_error(KL_LOG_EMERG, cf->log, 0,
                     "SSL_CTX_load_verify_locations(\"%s\") failed", file.data);
        return KL_ERROR;
    }

    /* as nginx: a file with other than certificates leaves errors */
    kl_ssl_clear_error(cf->log);

    if (!list) {
        return KL_OK;
    }

    names = SSL_load_client_CA_file((char *) file.data);
    if (names == NULL) {
        kl_ssl_error(KL_LOG_EMERG, cf->log, 0,
                     "SSL_load_client_CA_file(\"%s\") failed", file.data);
        return KL_ERROR;
    }

    SSL_CTX_set_client_CA_list(ctx, names);

    return KL_OK;
}


static int
kl_http_ssl_client_verify_cb(int ok, X509_STORE_CTX *store)
{
    (void) ok;
    (void) store;

    return 1;
}


static kl_int_t
kl_http_ssl_client_init(kl_conf_t *cf)
{
    return kl_http_add_phase_handler(cf, KL_HTTP_POST_READ_PHASE,
                                     kl_http_ssl_client_handler);
}


/*
 * Once the head is in, as nginx's ngx_http_process_request: a failed
 * verification is 495 (optional_no_ca lets an unknown CA pass), a
 * missing certificate with "on" is 496; the session is dropped from
 * the cache so that it cannot be resumed to skip the check.
 */
static kl_int_t
kl_http_ssl_client_handler(kl_http_request_t *r)
{
    long                           rc;
    X509                          *cert;
    SSL                           *ssl;
    const char                    *action;
    kl_connection_t               *c;
    kl_http_ssl_client_srv_conf_t *conf;

    c = r->connection;

    if (c->ssl == NULL || r != r->main) {
        return KL_DECLINED;
    }

    conf = kl_http_get_module_srv_conf(r, kl_http_ssl_client_module);

    if (!conf->verify) {
        return KL_DECLINED;
    }

    ssl = c->ssl->connection;
    rc = SSL_get_verify_result(ssl);

    /* nginx checks before it starts processing: its words in the log */
    action = c->log->action;
    c->log->action = "reading client request headers";

    if (rc != X509_V_OK
        && (conf->verify != KL_HTTP_SSL_VERIFY_OPTIONAL_NO_CA
            || !kl_http_ssl_client_optional_error(rc)))
    {
        kl_log_error(KL_LOG_INFO, c->log, 0,
                     "client SSL certificate verify error: (%l:%s)", rc,
                     X509_verify_cert_error_string(rc));
        SSL_CTX_remove_session(SSL_get_SSL_CTX(ssl), SSL_get0_session(ssl));
        c->log->action = action;
        return KL_HTTPS_CERT_ERROR;
    }

    if (conf->verify == KL_HTTP_SSL_VERIFY_ON) {
        cert = SSL_get1_peer_certificate(ssl);

        if (cert == NULL) {
            kl_log_error(KL_LOG_INFO, c->log, 0,
                         "client sent no required SSL certificate");
            SSL_CTX_remove_session(SSL_get_SSL_CTX(ssl), SSL_get0_session(ssl));
            return KL_HTTPS_NO_CERT;
        }

        X509_free(cert);
    }

    c->log->action = action;

    return KL_DECLINED;
}


/* What optional_no_ca lets pass: a chain that ends at a CA not known. */
static kl_uint_t
kl_http_ssl_client_optional_error(long rc)
{
    return rc == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT
           || rc == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN
           || rc == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT
           || rc == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY
           || rc == X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE;
}
