/*
 * ssl_conf.c: filling an SSL_CTX from settings: certificate chains and
 * keys (files or "data:" values, encrypted keys with ssl_password_file),
 * ciphers, curves, DH parameters, ssl_conf_command and ALPN.
 */

#include "kl_core.h"
#include "ssl.h"

#if (KL_HAVE_OPENSSL)

#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>


/* PEM bytes of cert or key: a file, or the text after "data:". */
static BIO *
kl_ssl_bio(kl_str_t *value, kl_uint_t level, kl_log_t *log, const char *what)
{
    BIO *bio;

    if (value->len > 5 && kl_strncmp(value->data, "data:", 5) == 0) {
        bio = BIO_new_mem_buf(value->data + 5, (int) (value->len - 5));
        if (bio == NULL) {
            kl_ssl_error(level, log, 0, "BIO_new_mem_buf() failed");
        }
        return bio;
    }

    bio = BIO_new_file((char *) value->data, "r");
    if (bio == NULL) {
        kl_ssl_error(level, log, 0,
                     "cannot load %s \"%V\": BIO_new_file() failed", what,
                     value);
    }

    return bio;
}


/* A chain: the leaf and its intermediates, from one PEM. */
static X509 *
kl_ssl_load_chain(kl_str_t *cert, STACK_OF(X509) * *chain, kl_uint_t level,
                  kl_log_t *log)
{
    BIO  *bio;
    X509 *x509, *ca;

    bio = kl_ssl_bio(cert, level, log, "certificate");
    if (bio == NULL) {
        return NULL;
    }

    x509 = PEM_read_bio_X509_AUX(bio, NULL, NULL, NULL);
    if (x509 == NULL) {
        kl_ssl_error(level, log, 0,
                     "cannot load certificate \"%V\": "
                     "PEM_read_bio_X509_AUX() failed",
                     cert);
        BIO_free(bio);
        return NULL;
    }

    *chain = sk_X509_new_null();
    if (*chain == NULL) {
        X509_free(x509);
        BIO_free(bio);
        return NULL;
    }

    for (;;) {
        ca = PEM_read_bio_X509(bio, NULL, NULL, NULL);
        if (ca == NULL) {
            /* The end of the file is the one error expected here. */
            if (ERR_GET_REASON(ERR_peek_last_error()) == PEM_R_NO_START_LINE) {
                ERR_clear_error();
                break;
            }

            kl_ssl_error(level, log, 0,
                         "cannot load certificate \"%V\": "
                         "PEM_read_bio_X509() failed",
                         cert);
            sk_X509_pop_free(*chain, X509_free);
            X509_free(x509);
            BIO_free(bio);
            return NULL;
        }

        if (sk_X509_push(*chain, ca) == 0) {
            X509_free(ca);
            sk_X509_pop_free(*chain, X509_free);
            X509_free(x509);
            BIO_free(bio);
            return NULL;
        }
    }

    BIO_free(bio);
    return x509;
}


typedef struct {
    kl_array_t *passwords;
    kl_uint_t   next;
} kl_ssl_pw_t;


static int
kl_ssl_password_callback(char *buf, int size, int rwflag, void *userdata)
{
    size_t       len;
    kl_str_t    *pw;
    kl_ssl_pw_t *p;

    (void) rwflag;

    p = userdata;

    if (p == NULL || p->passwords == NULL || p->next >= p->passwords->nelts) {
        return 0;
    }

    pw = p->passwords->elts;
    pw += p->next;

    len = kl_min(pw->len, (size_t) size);
    kl_memcpy(buf, pw->data, len);

    return (int) len;
}


/* The key, each password tried in turn (nginx: "all ... failed"). */
static EVP_PKEY *
kl_ssl_load_key(kl_str_t *key, kl_array_t *passwords, kl_uint_t level,
                kl_log_t *log)
{
    BIO        *bio;
    EVP_PKEY   *pkey;
    kl_uint_t   tries;
    kl_ssl_pw_t pw;

    pw.passwords = passwords;
    tries = (passwords && passwords->nelts) ? passwords->nelts : 1;

    for (pw.next = 0; pw.next < tries; pw.next++) {
        bio = kl_ssl_bio(key, level, log, "certificate key");
        if (bio == NULL) {
            return NULL;
        }

        ERR_clear_error();
        pkey =
            PEM_read_bio_PrivateKey(bio, NULL, kl_ssl_password_callback, &pw);
        BIO_free(bio);

        if (pkey != NULL) {
            ERR_clear_error();
            return pkey;
        }
    }

    kl_ssl_error(level, log, 0,
                 "cannot load certificate key \"%V\": "
                 "PEM_read_bio_PrivateKey() failed",
                 key);
    return NULL;
}


kl_int_t
kl_ssl_certificate(kl_ssl_t *ssl, kl_str_t *cert, kl_str_t *key,
                   kl_array_t *passwords, kl_log_t *log)
{
    X509     *x509;
    EVP_PKEY *pkey;
    STACK_OF(X509) * chain;

    x509 = kl_ssl_load_chain(cert, &chain, KL_LOG_EMERG, log);
    if (x509 == NULL) {
        return KL_ERROR;
    }

    if (SSL_CTX_use_certificate(ssl->ctx, x509) == 0) {
        kl_ssl_error(KL_LOG_EMERG, log, 0,
                     "SSL_CTX_use_certificate(\"%V\") failed", cert);
        X509_free(x509);
        sk_X509_pop_free(chain, X509_free);
        return KL_ERROR;
    }

    X509_free(x509);

    /* Takes the chain: it belongs to the certificate just set. */
    if (SSL_CTX_set0_chain(ssl->ctx, chain) == 0) {
        kl_ssl_error(KL_LOG_EMERG, log, 0, "SSL_CTX_set0_chain(\"%V\") failed",
                     cert);
        sk_X509_pop_free(chain, X509_free);
        return KL_ERROR;
    }

    pkey = kl_ssl_load_key(key, passwords, KL_LOG_EMERG, log);
    if (pkey == NULL) {
        return KL_ERROR;
    }

    if (SSL_CTX_use_PrivateKey(ssl->ctx, pkey) == 0) {
        kl_ssl_error(KL_LOG_EMERG, log, 0,
                     "SSL_CTX_use_PrivateKey(\"%V\") failed", key);
        EVP_PKEY_free(pkey);
        return KL_ERROR;
    }

    EVP_PKEY_free(pkey);
    ssl->certificates++;
    return KL_OK;
}


kl_int_t
kl_ssl_connection_certificate(kl_connection_t *c, kl_str_t *cert, kl_str_t *key,
                              kl_array_t *passwords)
{
    SSL      *ssl;
    X509     *x509;
    EVP_PKEY *pkey;
    STACK_OF(X509) * chain;

    ssl = c->ssl->connection;

    x509 = kl_ssl_load_chain(cert, &chain, KL_LOG_ERR, c->log);
    if (x509 == NULL) {
        return KL_ERROR;
    }

    if (SSL_use_certificate(ssl, x509) == 0) {
        kl_ssl_error(KL_LOG_ERR, c->log, 0,
                     "SSL_use_certificate(\"%V\") failed", cert);
        X509_free(x509);
        sk_X509_pop_free(chain, X509_free);
        return KL_ERROR;
    }

    X509_free(x509);

    if (SSL_set0_chain(ssl, chain) == 0) {
        kl_ssl_error(KL_LOG_ERR, c->log, 0, "SSL_set0_chain(\"%V\") failed",
                     cert);
        sk_X509_pop_free(chain, X509_free);
        return KL_ERROR;
    }

    pkey = kl_ssl_load_key(key, passwords, KL_LOG_ERR, c->log);
    if (pkey == NULL) {
        return KL_ERROR;
    }

    if (SSL_use_PrivateKey(ssl, pkey) == 0) {
        kl_ssl_error(KL_LOG_ERR, c->log, 0, "SSL_use_PrivateKey(\"%V\") failed",
                     key);
        EVP_PKEY_free(pkey);
        return KL_ERROR;
    }

    EVP_PKEY_free(pkey);
    return KL_OK;
}


kl_int_t
kl_ssl_load_pair(kl_str_t *cert, kl_str_t *key, kl_array_t *passwords,
                 kl_log_t *log, kl_ssl_pair_t *pair)
{
    X509     *x509;
    EVP_PKEY *pkey;
    STACK_OF(X509) * chain;

    x509 = kl_ssl_load_chain(cert, &chain, KL_LOG_ERR, log);
    if (x509 == NULL) {
        return KL_ERROR;
    }

    pkey = kl_ssl_load_key(key, passwords, KL_LOG_ERR, log);
    if (pkey == NULL) {
        X509_free(x509);
        sk_X509_pop_free(chain, X509_free);
        return KL_ERROR;
    }

    pair->x509 = x509;
    pair->chain = chain;
    pair->pkey = pkey;

    return KL_OK;
}


kl_int_t
kl_ssl_use_pair(kl_connection_t *c, kl_ssl_pair_t *pair)
{
    if (SSL_use_cert_and_key(c->ssl->connection, pair->x509, pair->pkey,
                             pair->chain, 1)
        != 1)
    {
        kl_ssl_error(KL_LOG_ERR, c->log, 0, "SSL_use_cert_and_key() failed");
        return KL_ERROR;
    }

    return KL_OK;
}


void
kl_ssl_free_pair(kl_ssl_pair_t *pair)
{
    X509_free(pair->x509);
    sk_X509_pop_free(pair->chain, X509_free);
    EVP_PKEY_free(pair->pkey);
    kl_memzero(pair, sizeof(kl_ssl_pair_t));
}


kl_array_t *
kl_ssl_read_password_file(kl_pool_t *pool, kl_str_t *file, kl_log_t *log)
{
    u_char     *p, *last, *end;
    ssize_t     n;
    kl_fd_t     fd;
    kl_str_t   *pw;
    kl_array_t *passwords;
    u_char      buf[4096];

    passwords = kl_array_create(pool, 4, sizeof(kl_str_t));
    if (passwords == NULL) {
        return NULL;
    }

    fd = open((char *) file->data, O_RDONLY | O_CLOEXEC);
    if (fd == -1) {
        kl_log_error(KL_LOG_EMERG, log, errno, "open() \"%s\" failed",
                     file->data);
        return NULL;
    }

    n = read(fd, buf, sizeof(buf));
    (void) close(fd);

    if (n == -1) {
        kl_log_error(KL_LOG_EMERG, log, errno, "read() \"%s\" failed",
                     file->data);
        return NULL;
    }

    if (n == sizeof(buf)) {
        kl_log_error(KL_LOG_EMERG, log, 0, "too long line in \"%s\"",
                     file->data);
        return NULL;
    }

    last = buf + n;

    for (p = buf; p < last; p = end + 1) {
        end = memchr(p, '\n', last - p);
        if (end == NULL) {
            end = last;
        }

        n = end - p;
        if (n && p[n - 1] == '\r') {
            n--;
        }

        if (n == 0) {
            continue;
        }

        pw = kl_array_push(passwords);
        if (pw == NULL) {
            return NULL;
        }

        pw->len = (size_t) n;
        pw->data = kl_pnalloc(pool, (size_t) n);
        if (pw->data == NULL) {
            return NULL;
        }
        kl_memcpy(pw->data, p, (size_t) n);
    }

    explicit_bzero(buf, sizeof(buf));

    if (passwords->nelts == 0) {
        kl_log_error(KL_LOG_EMERG, log, 0, "no passwords in \"%s\"",
                     file->data);
        return NULL;
    }

    return passwords;
}


kl_int_t
kl_ssl_ciphers(kl_ssl_t *ssl, kl_str_t *ciphers, kl_uint_t prefer,
               kl_log_t *log)
{
    if (SSL_CTX_set_cipher_list(ssl->ctx, (char *) ciphers->data) == 0) {
        kl_ssl_error(KL_LOG_EMERG, log, 0,
                     "SSL_CTX_set_cipher_list(\"%V\") failed", ciphers);
        return KL_ERROR;
    }

    if (prefer) {
        SSL_CTX_set_options(ssl->ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
    }

    return KL_OK;
}


kl_int_t
kl_ssl_ecdh_curve(kl_ssl_t *ssl, kl_str_t *name, kl_log_t *log)
{
    if (name->len == 4 && kl_strncmp(name->data, "auto", 4) == 0) {
        return KL_OK;
    }

    if (SSL_CTX_set1_curves_list(ssl->ctx, (char *) name->data) == 0) {
        kl_ssl_error(KL_LOG_EMERG, log, 0,
                     "SSL_CTX_set1_curves_list(\"%V\") failed", name);
        return KL_ERROR;
    }

    return KL_OK;
}


kl_int_t
kl_ssl_dhparam(kl_ssl_t *ssl, kl_str_t *file, kl_log_t *log)
{
    BIO      *bio;
    EVP_PKEY *dh;

    bio = BIO_new_file((char *) file->data, "r");
    if (bio == NULL) {
        kl_ssl_error(KL_LOG_EMERG, log, 0, "BIO_new_file(\"%V\") failed", file);
        return KL_ERROR;
    }

    dh = PEM_read_bio_Parameters(bio, NULL);
    BIO_free(bio);

    if (dh == NULL) {
        kl_ssl_error(KL_LOG_EMERG, log, 0,
                     "PEM_read_bio_Parameters(\"%V\") failed", file);
        return KL_ERROR;
    }

    /* set0: the context owns dh from here on. */
    if (SSL_CTX_set0_tmp_dh_pkey(ssl->ctx, dh) != 1) {
        kl_ssl_error(KL_LOG_EMERG, log, 0,
                     "SSL_CTX_set0_tmp_dh_pkey(\"%V\") failed", file);
        EVP_PKEY_free(dh);
        return KL_ERROR;
    }

    return KL_OK;
}


kl_int_t
kl_ssl_conf_commands(kl_ssl_t *ssl, kl_array_t *commands, kl_log_t *log)
{
    int           rc;
    kl_uint_t     i;
    kl_keyval_t  *cmd;
    SSL_CONF_CTX *cctx;

    if (commands == NULL || commands->nelts == 0) {
        return KL_OK;
    }

    cctx = SSL_CONF_CTX_new();
    if (cctx == NULL) {
        kl_ssl_error(KL_LOG_EMERG, log, 0, "SSL_CONF_CTX_new() failed");
        return KL_ERROR;
    }

    SSL_CONF_CTX_set_flags(
        cctx, SSL_CONF_FLAG_FILE | SSL_CONF_FLAG_SERVER | SSL_CONF_FLAG_CLIENT
                  | SSL_CONF_FLAG_CERTIFICATE | SSL_CONF_FLAG_SHOW_ERRORS);
    SSL_CONF_CTX_set_ssl_ctx(cctx, ssl->ctx);

    cmd = commands->elts;

    for (i = 0; i < commands->nelts; i++) {
        rc = SSL_CONF_cmd(cctx, (char *) cmd[i].key.data,
                          (char *) cmd[i].value.data);

        if (rc == -2) {
            kl_ssl_error(KL_LOG_EMERG, log, 0,
                         "unknown \"%V\" command in ssl_conf_command",
                         &cmd[i].key);
            SSL_CONF_CTX_free(cctx);
            return KL_ERROR;
        }

        if (rc <= 0) {
            kl_ssl_error(KL_LOG_EMERG, log, 0,
                         "SSL_CONF_cmd(\"%V\", \"%V\") failed", &cmd[i].key,
                         &cmd[i].value);
            SSL_CONF_CTX_free(cctx);
            return KL_ERROR;
        }
    }

    if (SSL_CONF_CTX_finish(cctx) != 1) {
        kl_ssl_error(KL_LOG_EMERG, log, 0, "SSL_CONF_finish() failed");
        SSL_CONF_CTX_free(cctx);
        return KL_ERROR;
    }

    SSL_CONF_CTX_free(cctx);
    return KL_OK;
}


static int
kl_ssl_alpn_select(SSL *ssl_conn, const unsigned char **out,
                   unsigned char *outlen, const unsigned char *in,
                   unsigned int inlen, void *arg)
{
    kl_ssl_t *ssl;

    (void) ssl_conn;

    ssl = arg;

    if (SSL_select_next_proto((unsigned char **) out, outlen, ssl->alpn,
                              (unsigned int) ssl->alpn_len, in, inlen)
        != OPENSSL_NPN_NEGOTIATED)
    {
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    }

    return SSL_TLSEXT_ERR_OK;
}


kl_int_t
kl_ssl_alpn(kl_ssl_t *ssl, const u_char *protos, size_t len)
{
    ssl->alpn = protos;
    ssl->alpn_len = len;

    if (protos == NULL) {
        SSL_CTX_set_alpn_select_cb(ssl->ctx, NULL, NULL);
        return KL_OK;
    }

    /* ssl lives as long as its context: the configuration's memory. */
    SSL_CTX_set_alpn_select_cb(ssl->ctx, kl_ssl_alpn_select, ssl);

    return KL_OK;
}


#endif /* KL_HAVE_OPENSSL */
