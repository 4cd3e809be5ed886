/*
 * ssl_stapling.c: OCSP stapling for `listen ... ssl` servers: ssl_stapling,
 * ssl_stapling_file (a DER OCSP response read at config time and stapled
 * to every handshake whose client asks for certificate status) and
 * ssl_stapling_verify. Querying an OCSP responder (ssl_stapling_responder,
 * or ssl_stapling without a file) is not implemented: the responder
 * directive is refused by core/conf_absent.c, and ssl_stapling on without
 * a file warns at config time that nothing is stapled.
 */

#include "kl_http.h"
#include "ssl_module.h"

#if !(KL_HAVE_OPENSSL)
#error "the ssl_stapling module needs OpenSSL 3: install libssl-dev, or \
./configure --without-http_ssl_module"
#endif

#include <openssl/ssl.h>
#include <openssl/ocsp.h>


typedef struct {
    kl_int_t stapling;
    kl_int_t verify;
    kl_str_t file;

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

    if (conf->conf_file == NULL) {
        conf->conf_file = prev->conf_file;
        conf->conf_line = prev->conf_line;
    }

    cscf = kl_http_conf_get_module_srv_conf(cf, kl_http_core_module);

    if (!conf->stapling || cscf->ssl == NULL || cscf->ssl->ctx == NULL) {
        return KL_CONF_OK;
    }

    if (conf->file.len == 0) {
        kl_log_error(KL_LOG_WARN, cf->log, 0,
                     "\"ssl_stapling\" ignored, querying an OCSP responder "
                     "is not supported by kiln yet (use "
                     "\"ssl_stapling_file\") in %s:%ui",
                     conf->conf_file, conf->conf_line);
        return KL_CONF_OK;
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
