/*
 * ssl_certificate.c: certificates named with variables
 * (`ssl_certificate /certs/$ssl_server_name.crt`): compiled once, then
 * evaluated and loaded at each handshake, after SNI chose the server, by
 * the context's certificate callback, as nginx does. The values are
 * evaluated on a small request of their own (no request exists yet), in a
 * pool freed when the pair is loaded. ssl_certificate_cache is not used
 * yet: every handshake reads the files.
 */

#include "kl_http.h"
#include "ssl_module.h"

#include <openssl/ssl.h>


static int kl_http_ssl_certificate_cb(SSL *ssl_conn, void *arg);


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


static int
kl_http_ssl_certificate_cb(SSL *ssl_conn, void *arg)
{
    int                     rc;
    kl_str_t                cert, key;
    kl_uint_t               i;
    kl_pool_t              *pool;
    kl_array_t             *passwords;
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

        if (kl_ssl_connection_certificate(c, &cert, &key, passwords) != KL_OK) {
            goto done;
        }
    }

    rc = 1;

done:

    kl_pool_free(pool);
    return rc;
}
