/*
 * ssl_client_vars.c: the $ssl_client_* variables, from the certificate
 * the client presented (nginx's ngx_ssl_get_* getters): its PEM forms,
 * names, serial, fingerprint, validity and the verify result.
 */

#include "kl_http.h"
#include "ssl_module.h"
#include "ssl_client.h"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <openssl/pem.h>


typedef kl_int_t (*kl_http_ssl_client_get_pt)(kl_connection_t *c, X509 *cert,
                                              kl_pool_t *pool, kl_str_t *s);


static kl_int_t kl_http_ssl_client_variable(kl_http_request_t        *r,
                                            kl_http_variable_value_t *v,
                                            uintptr_t                 data);
static kl_int_t kl_http_ssl_client_verify_var(kl_http_request_t        *r,
                                              kl_http_variable_value_t *v,
                                              uintptr_t                 data);
static kl_int_t kl_http_ssl_client_bio(BIO *bio, kl_pool_t *pool, kl_str_t *s);
static kl_int_t kl_http_ssl_client_raw(kl_connection_t *c, X509 *cert,
                                       kl_pool_t *pool, kl_str_t *s);
static kl_int_t kl_http_ssl_client_tabbed(kl_connection_t *c, X509 *cert,
                                          kl_pool_t *pool, kl_str_t *s);
static kl_int_t kl_http_ssl_client_escaped(kl_connection_t *c, X509 *cert,
                                           kl_pool_t *pool, kl_str_t *s);
static kl_int_t kl_http_ssl_client_s_dn(kl_connection_t *c, X509 *cert,
                                        kl_pool_t *pool, kl_str_t *s);
static kl_int_t kl_http_ssl_client_i_dn(kl_connection_t *c, X509 *cert,
                                        kl_pool_t *pool, kl_str_t *s);
static kl_int_t kl_http_ssl_client_s_dn_legacy(kl_connection_t *c, X509 *cert,
                                               kl_pool_t *pool, kl_str_t *s);
static kl_int_t kl_http_ssl_client_i_dn_legacy(kl_connection_t *c, X509 *cert,
                                               kl_pool_t *pool, kl_str_t *s);
static kl_int_t kl_http_ssl_client_serial(kl_connection_t *c, X509 *cert,
                                          kl_pool_t *pool, kl_str_t *s);
static kl_int_t kl_http_ssl_client_fingerprint(kl_connection_t *c, X509 *cert,
                                               kl_pool_t *pool, kl_str_t *s);
static kl_int_t kl_http_ssl_client_v_start(kl_connection_t *c, X509 *cert,
                                           kl_pool_t *pool, kl_str_t *s);
static kl_int_t kl_http_ssl_client_v_end(kl_connection_t *c, X509 *cert,
                                         kl_pool_t *pool, kl_str_t *s);
static kl_int_t kl_http_ssl_client_v_remain(kl_connection_t *c, X509 *cert,
                                            kl_pool_t *pool, kl_str_t *s);


typedef struct {
    kl_str_t                  name;
    kl_http_ssl_client_get_pt get;
} kl_http_ssl_client_var_t;


static kl_http_ssl_client_var_t kl_http_ssl_client_vars[] = {
    { kl_string("ssl_client_cert"), kl_http_ssl_client_tabbed },
    { kl_string("ssl_client_raw_cert"), kl_http_ssl_client_raw },
    { kl_string("ssl_client_escaped_cert"), kl_http_ssl_client_escaped },
    { kl_string("ssl_client_s_dn"), kl_http_ssl_client_s_dn },
    { kl_string("ssl_client_i_dn"), kl_http_ssl_client_i_dn },
    { kl_string("ssl_client_s_dn_legacy"), kl_http_ssl_client_s_dn_legacy },
    { kl_string("ssl_client_i_dn_legacy"), kl_http_ssl_client_i_dn_legacy },
    { kl_string("ssl_client_serial"), kl_http_ssl_client_serial },
    { kl_string("ssl_client_fingerprint"), kl_http_ssl_client_fingerprint },
    { kl_string("ssl_client_v_start"), kl_http_ssl_client_v_start },
    { kl_string("ssl_client_v_end"), kl_http_ssl_client_v_end },
    { kl_string("ssl_client_v_remain"), kl_http_ssl_client_v_remain },
    { kl_null_string, NULL }
};


kl_int_t
kl_http_ssl_client_add_variables(kl_conf_t *cf)
{
    kl_str_t                  name;
    kl_http_variable_t       *v;
    kl_http_ssl_client_var_t *sv;

    for (sv = kl_http_ssl_client_vars; sv->name.len; sv++) {
        v = kl_http_add_variable(cf, &sv->name, 0);
        if (v == NULL) {
            return KL_ERROR;
        }

        v->get_handler = kl_http_ssl_client_variable;
        v->data = (uintptr_t) sv->get;
    }

    kl_str_set(&name, "ssl_client_verify");

    v = kl_http_add_variable(cf, &name, 0);
    if (v == NULL) {
        return KL_ERROR;
    }

    v->get_handler = kl_http_ssl_client_verify_var;

    return KL_OK;
}


/* Not found on a plain connection; empty with no certificate (nginx's). */
static kl_int_t
kl_http_ssl_client_variable(kl_http_request_t *r, kl_http_variable_value_t *v,
                            uintptr_t data)
{
    X509                     *cert;
    kl_int_t                  rc;
    kl_str_t                  s;
    kl_http_ssl_client_get_pt get;

    if (r->connection->ssl == NULL) {
        v->not_found = 1;
        return KL_OK;
    }

    cert = SSL_get1_peer_certificate(r->connection->ssl->connection);
    s.len = 0;
    s.data = NULL;
    rc = KL_OK;

    if (cert) {
        get = (kl_http_ssl_client_get_pt) data;
        rc = get(r->connection, cert, r->pool, &s);
        X509_free(cert);
    }

    if (rc != KL_OK) {
        return KL_ERROR;
    }

    kl_http_variable_set(v, s.data, s.len);
    return KL_OK;
}


/* NONE, SUCCESS, or FAILED:reason (nginx's ngx_ssl_get_client_verify). */
static kl_int_t
kl_http_ssl_client_verify_var(kl_http_request_t *r, kl_http_variable_value_t *v,
                              uintptr_t data)
{
    long        rc;
    X509       *cert;
    size_t      n;
    u_char     *p;
    const char *str;

    (void) data;

    if (r->connection->ssl == NULL) {
        v->not_found = 1;
        return KL_OK;
    }

    cert = SSL_get1_peer_certificate(r->connection->ssl->connection);

    if (cert == NULL) {
        kl_http_variable_set(v, (u_char *) "NONE", 4);
        return KL_OK;
    }

    X509_free(cert);

    rc = SSL_get_verify_result(r->connection->ssl->connection);

    if (rc == X509_V_OK) {
        kl_http_variable_set(v, (u_char *) "SUCCESS", 7);
        return KL_OK;
    }

    str = X509_verify_cert_error_string(rc);
    n = sizeof("FAILED:") - 1 + kl_strlen(str);

    p = kl_pnalloc(r->pool, n);
    if (p == NULL) {
        return KL_ERROR;
    }

    kl_memcpy(kl_cpymem(p, "FAILED:", sizeof("FAILED:") - 1), str,
              kl_strlen(str));
    kl_http_variable_set(v, p, n);

    return KL_OK;
}


/* What a memory BIO holds, into pool memory; the BIO is freed. */
static kl_int_t
kl_http_ssl_client_bio(BIO *bio, kl_pool_t *pool, kl_str_t *s)
{
    size_t len;

    len = BIO_pending(bio);
    s->len = len;
    s->data = kl_pnalloc(pool, len ? len : 1);

    if (s->data == NULL || (len && BIO_read(bio, s->data, (int) len) <= 0)) {
        BIO_free(bio);
        return KL_ERROR;
    }

    BIO_free(bio);
    return KL_OK;
}


static kl_int_t
kl_http_ssl_client_raw(kl_connection_t *c, X509 *cert, kl_pool_t *pool,
                       kl_str_t *s)
{
    BIO *bio;

    bio = BIO_new(BIO_s_mem());
    if (bio == NULL) {
        kl_ssl_error(KL_LOG_ALERT, c->log, 0, "BIO_new() failed");
        return KL_ERROR;
    }

    if (PEM_write_bio_X509(bio, cert) == 0) {
        kl_ssl_error(KL_LOG_ALERT, c->log, 0, "PEM_write_bio_X509() failed");
        BIO_free(bio);
        return KL_ERROR;
    }

    return kl_http_ssl_client_bio(bio, pool, s);
}


/* The PEM with a tab after each line break but the last, which goes
 * ($ssl_client_cert: a header line can carry it). */
static kl_int_t
kl_http_ssl_client_tabbed(kl_connection_t *c, X509 *cert, kl_pool_t *pool,
                          kl_str_t *s)
{
    size_t   i, len;
    u_char  *p;
    kl_str_t pem;

    if (kl_http_ssl_client_raw(c, cert, pool, &pem) != KL_OK) {
        return KL_ERROR;
    }

    if (pem.len == 0) {
        *s = pem;
        return KL_OK;
    }

    len = pem.len - 1;

    for (i = 0; i < pem.len - 1; i++) {
        if (pem.data[i] == '\n') {
            len++;
        }
    }

    p = kl_pnalloc(pool, len);
    if (p == NULL) {
        return KL_ERROR;
    }

    s->data = p;
    s->len = len;

    for (i = 0; i < pem.len - 1; i++) {
        *p++ = pem.data[i];

        if (pem.data[i] == '\n') {
            *p++ = '\t';
        }
    }

    return KL_OK;
}


/* The PEM escaped as a URI component: all but ALPHA DIGIT - . _ ~. */
static kl_int_t
kl_http_ssl_client_escaped(kl_connection_t *c, X509 *cert, kl_pool_t *pool,
                           kl_str_t *s)
{
    size_t        i, n;
    u_char       *p, ch;
    kl_str_t      pem;
    static u_char hex[] = "0123456789ABCDEF";

    if (kl_http_ssl_client_raw(c, cert, pool, &pem) != KL_OK) {
        return KL_ERROR;
    }

    p = kl_pnalloc(pool, 3 * pem.len + 1);
    if (p == NULL) {
        return KL_ERROR;
    }

    s->data = p;

    for (i = 0; i < pem.len; i++) {
        ch = pem.data[i];

        if ((ch >= '0' && ch <= '9')
            || ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'z') || ch == '-'
            || ch == '.' || ch == '_' || ch == '~')
        {
            *p++ = ch;
            continue;
        }

        *p++ = '%';
        *p++ = hex[ch >> 4];
        *p++ = hex[ch & 0xf];
    }

    n = p - s->data;
    s->len = n;

    return KL_OK;
}


static kl_int_t
kl_http_ssl_client_dn(kl_connection_t *c, X509_NAME *name, kl_pool_t *pool,
                      kl_str_t *s)
{
    BIO *bio;

    bio = BIO_new(BIO_s_mem());
    if (bio == NULL) {
        kl_ssl_error(KL_LOG_ALERT, c->log, 0, "BIO_new() failed");
        return KL_ERROR;
    }

    if (X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253) < 0) {
        kl_ssl_error(KL_LOG_ALERT, c->log, 0, "X509_NAME_print_ex() failed");
        BIO_free(bio);
        return KL_ERROR;
    }

    return kl_http_ssl_client_bio(bio, pool, s);
}


static kl_int_t
kl_http_ssl_client_s_dn(kl_connection_t *c, X509 *cert, kl_pool_t *pool,
                        kl_str_t *s)
{
    return kl_http_ssl_client_dn(c, X509_get_subject_name(cert), pool, s);
}


static kl_int_t
kl_http_ssl_client_i_dn(kl_connection_t *c, X509 *cert, kl_pool_t *pool,
                        kl_str_t *s)
{
    return kl_http_ssl_client_dn(c, X509_get_issuer_name(cert), pool, s);
}


/* The old form: "/C=../CN=..", X509_NAME_oneline's. */
static kl_int_t
kl_http_ssl_client_oneline(kl_connection_t *c, X509_NAME *name, kl_pool_t *pool,
                           kl_str_t *s)
{
    char *p;

    p = X509_NAME_oneline(name, NULL, 0);
    if (p == NULL) {
        kl_ssl_error(KL_LOG_ALERT, c->log, 0, "X509_NAME_oneline() failed");
        return KL_ERROR;
    }

    s->len = kl_strlen(p);
    s->data = kl_pnalloc(pool, s->len ? s->len : 1);

    if (s->data) {
        kl_memcpy(s->data, p, s->len);
    }

    OPENSSL_free(p);

    return s->data ? KL_OK : KL_ERROR;
}


static kl_int_t
kl_http_ssl_client_s_dn_legacy(kl_connection_t *c, X509 *cert, kl_pool_t *pool,
                               kl_str_t *s)
{
    return kl_http_ssl_client_oneline(c, X509_get_subject_name(cert), pool, s);
}


static kl_int_t
kl_http_ssl_client_i_dn_legacy(kl_connection_t *c, X509 *cert, kl_pool_t *pool,
                               kl_str_t *s)
{
    return kl_http_ssl_client_oneline(c, X509_get_issuer_name(cert), pool, s);
}


static kl_int_t
kl_http_ssl_client_serial(kl_connection_t *c, X509 *cert, kl_pool_t *pool,
                          kl_str_t *s)
{
    BIO *bio;

    bio = BIO_new(BIO_s_mem());
    if (bio == NULL) {
        kl_ssl_error(KL_LOG_ALERT, c->log, 0, "BIO_new() failed");
        return KL_ERROR;
    }

    i2a_ASN1_INTEGER(bio, X509_get_serialNumber(cert));

    return kl_http_ssl_client_bio(bio, pool, s);
}


/* SHA-1 of the DER form, lowercase hex. */
static kl_int_t
kl_http_ssl_client_fingerprint(kl_connection_t *c, X509 *cert, kl_pool_t *pool,
                               kl_str_t *s)
{
    unsigned int  i, len;
    u_char        buf[EVP_MAX_MD_SIZE];
    static u_char hex[] = "0123456789abcdef";

    if (X509_digest(cert, EVP_sha1(), buf, &len) == 0) {
        kl_ssl_error(KL_LOG_ALERT, c->log, 0, "X509_digest() failed");
        return KL_ERROR;
    }

    s->len = 2 * len;
    s->data = kl_pnalloc(pool, s->len);
    if (s->data == NULL) {
        return KL_ERROR;
    }

    for (i = 0; i < len; i++) {
        s->data[2 * i] = hex[buf[i] >> 4];
        s->data[2 * i + 1] = hex[buf[i] & 0xf];
    }

    return KL_OK;
}


/* "Dec  8 01:00:00 2026 GMT", ASN1_TIME_print's. */
static kl_int_t
kl_http_ssl_client_time(kl_connection_t *c, const ASN1_TIME *t, kl_pool_t *pool,
                        kl_str_t *s)
{
    BIO *bio;

    bio = BIO_new(BIO_s_mem());
    if (bio == NULL) {
        kl_ssl_error(KL_LOG_ALERT, c->log, 0, "BIO_new() failed");
        return KL_ERROR;
    }

    ASN1_TIME_print(bio, t);

    return kl_http_ssl_client_bio(bio, pool, s);
}


static kl_int_t
kl_http_ssl_client_v_start(kl_connection_t *c, X509 *cert, kl_pool_t *pool,
                           kl_str_t *s)
{
    return kl_http_ssl_client_time(c, X509_get0_notBefore(cert), pool, s);
}


static kl_int_t
kl_http_ssl_client_v_end(kl_connection_t *c, X509 *cert, kl_pool_t *pool,
                         kl_str_t *s)
{
    return kl_http_ssl_client_time(c, X509_get0_notAfter(cert), pool, s);
}


/* Whole days left; 0 within the last day and once expired (nginx's). */
static kl_int_t
kl_http_ssl_client_v_remain(kl_connection_t *c, X509 *cert, kl_pool_t *pool,
                            kl_str_t *s)
{
    int days, secs;

    if (ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(cert)) == 0) {
        kl_ssl_error(KL_LOG_ALERT, c->log, 0, "ASN1_TIME_diff() failed");
        return KL_ERROR;
    }

    if (days < 0 || secs < 0) {
        days = 0;
    }

    s->data = kl_pnalloc(pool, KL_INT_T_LEN);
    if (s->data == NULL) {
        return KL_ERROR;
    }

    s->len = kl_sprint_uint(s->data, (uint64_t) days) - s->data;

    return KL_OK;
}
