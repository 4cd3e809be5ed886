/* ssl_none.c: the TLS layer's entries when kiln is built without OpenSSL: each refuses. */

#include "kl_core.h"
#include "ssl.h"

#if !(KL_HAVE_OPENSSL)


/*
 * Built without OpenSSL: every entry refuses. The configuration never
 * gets here with a TLS listener (the ssl module is left out, so `listen
 * ... ssl` is refused), but upstream code may still ask.
 */

kl_uint_t
kl_ssl_available(void)
{
    return 0;
}


const char *
kl_ssl_version(void)
{
    return "none";
}


static kl_int_t
kl_ssl_none(kl_log_t *log)
{
    kl_log_error(KL_LOG_EMERG, log, 0,
                 "kiln was built without OpenSSL (TLS): install libssl-dev"
                 " and run ./configure without --without-http_ssl_module");
    return KL_ERROR;
}


void
kl_ssl_clear_error(kl_log_t *log)
{
    (void) log;
}


void
kl_ssl_error(kl_uint_t level, kl_log_t *log, kl_err_t err, const char *fmt, ...)
{
    (void) fmt;
    kl_log_error(level, log, err, "TLS error (built without OpenSSL)");
}


kl_int_t
kl_ssl_create(kl_ssl_t *ssl, kl_uint_t protocols, kl_pool_t *pool,
              kl_log_t *log)
{
    (void) ssl;
    (void) protocols;
    (void) pool;
    return kl_ssl_none(log);
}


kl_int_t
kl_ssl_certificate(kl_ssl_t *ssl, kl_str_t *cert, kl_str_t *key,
                   kl_array_t *passwords, kl_log_t *log)
{
    (void) ssl;
    (void) cert;
    (void) key;
    (void) passwords;
    return kl_ssl_none(log);
}


kl_int_t
kl_ssl_connection_certificate(kl_connection_t *c, kl_str_t *cert, kl_str_t *key,
                              kl_array_t *passwords)
{
    (void) cert;
    (void) key;
    (void) passwords;
    return kl_ssl_none(c->log);
}


kl_int_t
kl_ssl_load_pair(kl_str_t *cert, kl_str_t *key, kl_array_t *passwords,
                 kl_log_t *log, kl_ssl_pair_t *pair)
{
    (void) cert;
    (void) key;
    (void) passwords;
    (void) pair;
    return kl_ssl_none(log);
}


kl_int_t
kl_ssl_use_pair(kl_connection_t *c, kl_ssl_pair_t *pair)
{
    (void) pair;
    return kl_ssl_none(c->log);
}


void
kl_ssl_free_pair(kl_ssl_pair_t *pair)
{
    (void) pair;
}


kl_array_t *
kl_ssl_read_password_file(kl_pool_t *pool, kl_str_t *file, kl_log_t *log)
{
    (void) pool;
    (void) file;
    (void) kl_ssl_none(log);
    return NULL;
}


kl_int_t
kl_ssl_ciphers(kl_ssl_t *ssl, kl_str_t *ciphers, kl_uint_t prefer,
               kl_log_t *log)
{
    (void) ssl;
    (void) ciphers;
    (void) prefer;
    return kl_ssl_none(log);
}


kl_int_t
kl_ssl_ecdh_curve(kl_ssl_t *ssl, kl_str_t *name, kl_log_t *log)
{
    (void) ssl;
    (void) name;
    return kl_ssl_none(log);
}


kl_int_t
kl_ssl_dhparam(kl_ssl_t *ssl, kl_str_t *file, kl_log_t *log)
{
    (void) ssl;
    (void) file;
    return kl_ssl_none(log);
}


kl_int_t
kl_ssl_conf_commands(kl_ssl_t *ssl, kl_array_t *commands, kl_log_t *log)
{
    (void) ssl;
    (void) commands;
    return kl_ssl_none(log);
}


kl_int_t
kl_ssl_alpn(kl_ssl_t *ssl, const u_char *protos, size_t len)
{
    (void) ssl;
    (void) protos;
    (void) len;
    return KL_ERROR;
}


kl_int_t
kl_ssl_detect(kl_connection_t *c)
{
    (void) c;
    return KL_DECLINED;
}


kl_int_t
kl_ssl_create_connection(kl_ssl_t *ssl, kl_connection_t *c, kl_uint_t flags)
{
    (void) ssl;
    (void) flags;
    return kl_ssl_none(c->log);
}


void
kl_ssl_free_connection(kl_connection_t *c)
{
    c->ssl = NULL;
}


kl_int_t
kl_ssl_handshake(kl_connection_t *c)
{
    return kl_ssl_none(c->log);
}


struct ssl_session_st *
kl_ssl_get_session(kl_connection_t *c)
{
    (void) c;
    return NULL;
}


kl_int_t
kl_ssl_set_session(kl_connection_t *c, struct ssl_session_st *s)
{
    (void) s;
    return kl_ssl_none(c->log);
}


void
kl_ssl_free_session(struct ssl_session_st *s)
{
    (void) s;
}


kl_int_t
kl_ssl_set_server_name(kl_connection_t *c, kl_str_t *name)
{
    (void) name;
    return kl_ssl_none(c->log);
}


kl_int_t
kl_ssl_shutdown(kl_connection_t *c)
{
    c->ssl = NULL;
    return KL_OK;
}


kl_uint_t
kl_ssl_ktls_check(kl_ssl_t *ssl, kl_log_t *log)
{
    (void) ssl;
    (void) log;
    return 0;
}


void
kl_ssl_free_buffer(kl_connection_t *c)
{
    (void) c;
}


static kl_int_t
kl_ssl_no_value(kl_connection_t *c, kl_pool_t *pool, kl_str_t *s)
{
    (void) c;
    (void) pool;
    s->len = 0;
    s->data = NULL;
    return KL_OK;
}


kl_int_t
kl_ssl_get_protocol(kl_connection_t *c, kl_pool_t *pool, kl_str_t *s)
{
    return kl_ssl_no_value(c, pool, s);
}


kl_int_t
kl_ssl_get_cipher_name(kl_connection_t *c, kl_pool_t *pool, kl_str_t *s)
{
    return kl_ssl_no_value(c, pool, s);
}


kl_int_t
kl_ssl_get_server_name(kl_connection_t *c, kl_pool_t *pool, kl_str_t *s)
{
    return kl_ssl_no_value(c, pool, s);
}


kl_int_t
kl_ssl_get_alpn_protocol(kl_connection_t *c, kl_pool_t *pool, kl_str_t *s)
{
    return kl_ssl_no_value(c, pool, s);
}


kl_int_t
kl_ssl_get_session_id(kl_connection_t *c, kl_pool_t *pool, kl_str_t *s)
{
    return kl_ssl_no_value(c, pool, s);
}


kl_int_t
kl_ssl_get_session_reused(kl_connection_t *c, kl_pool_t *pool, kl_str_t *s)
{
    return kl_ssl_no_value(c, pool, s);
}

#endif /* !(KL_HAVE_OPENSSL) */
