/* ssl.h: the TLS layer over OpenSSL: contexts, connections, the c->io table. */

#ifndef KL_SSL_H
#define KL_SSL_H

#include "kl_config.h"
#include "kl_types.h"
#include "string.h"
#include "array.h"
#include "log.h"

/*
 * OpenSSL's own struct tags, so that this header needs no OpenSSL header
 * (and compiles when kiln is built without it): SSL_CTX, SSL and
 * SSL_SESSION are typedefs of these.
 */
struct ssl_ctx_st;
struct ssl_st;
struct ssl_session_st;

/* ssl_protocols, as nginx's bits. */
#define KL_SSL_SSLv2             0x0002
#define KL_SSL_SSLv3             0x0004
#define KL_SSL_TLSv1             0x0008
#define KL_SSL_TLSv1_1           0x0010
#define KL_SSL_TLSv1_2           0x0020
#define KL_SSL_TLSv1_3           0x0040
#define KL_SSL_DEFAULT_PROTOCOLS (KL_SSL_TLSv1_2 | KL_SSL_TLSv1_3)

/* kl_ssl_create_connection flags. */
#define KL_SSL_BUFFER 1 /* send_chain coalesces into buffer_size records */
#define KL_SSL_CLIENT 2 /* we connect (upstream); else we accepted */

#define KL_SSL_BUFSIZE 16384 /* ssl_buffer_size's default */

/* A context: one SSL_CTX and what connections made from it inherit. */
typedef struct {
    struct ssl_ctx_st *ctx;
    kl_log_t          *log;
    size_t             buffer_size;
    kl_uint_t          certificates; /* pairs kl_ssl_certificate added */
    void              *data;         /* the owner's (a server's conf) */
    const u_char      *alpn;         /* kl_ssl_alpn's, in wire form */
    size_t             alpn_len;
} kl_ssl_t;

/* Called when an asynchronous handshake or shutdown ends. */
typedef void (*kl_ssl_handler_pt)(kl_connection_t *c);

/* A connection's TLS state: c->ssl, from kl_ssl_create_connection. */
typedef struct kl_ssl_connection_s {
    struct ssl_st      *connection;
    kl_ssl_t           *ssl; /* made from; SNI may switch the SSL_CTX */
    kl_ssl_handler_pt   handler;
    kl_event_handler_pt saved_read_handler;
    kl_event_handler_pt saved_write_handler;

    u_char *buf; /* send_chain's record under construction */
    size_t  buffer_size;
    size_t  retry; /* an SSL_write's length to repeat after WANT_WRITE */

    kl_int_t last; /* the last SSL_* call's result, for the logs */

    unsigned handshaked:1;
    unsigned client:1;
    unsigned buffer:1;
    unsigned no_wait_shutdown:1; /* send close_notify, wait for nothing */
    unsigned no_send_shutdown:1; /* not even close_notify (timeouts) */
    unsigned shutdown_without_free:1;
    unsigned ktls_send:1; /* the kernel encrypts: sendfile works */
    unsigned ktls_recv:1;
    unsigned in_early:1;
} kl_ssl_connection_t;


/* kiln was built with OpenSSL: 1; else every call below fails. */
kl_uint_t kl_ssl_available(void);

/* "OpenSSL 3.0.x ..." for kiln -V and the logs. */
const char *kl_ssl_version(void);

/*
 * A context for protocols (KL_SSL_* bits), its SSL_CTX freed with pool
 * (the configuration's: a reload frees the old one when its cycle goes).
 * Options as nginx: no compression, no renegotiation, single DH/ECDH
 * use, partial writes, released buffers when idle.
 */
kl_int_t kl_ssl_create(kl_ssl_t *ssl, kl_uint_t protocols, kl_pool_t *pool,
                       kl_log_t *log);

/*
 * Certificate chain and key from files (relative to the prefix, already
 * resolved by the caller) or "data:PEM" values; passwords: the lines of
 * ssl_password_file, tried in turn for an encrypted key (NULL: none).
 * Several calls add several pairs (RSA and ECDSA). KL_ERROR after
 * logging at emerg with the OpenSSL reason, as nginx words it.
 */
kl_int_t kl_ssl_certificate(kl_ssl_t *ssl, kl_str_t *cert, kl_str_t *key,
                            kl_array_t *passwords, kl_log_t *log);

/*
 * The same for a connection (certificates named with variables, loaded
 * per handshake): c->ssl gets the pair instead of its context's.
 */
kl_int_t kl_ssl_connection_certificate(kl_connection_t *c, kl_str_t *cert,
                                       kl_str_t *key, kl_array_t *passwords);

/*
 * A certificate chain and key loaded once and used by many handshakes
 * (a cache of certificates named with variables): OpenSSL objects,
 * untyped here.
 */
typedef struct {
    void *x509;  /* X509 * */
    void *chain; /* STACK_OF(X509) * */
    void *pkey;  /* EVP_PKEY * */
} kl_ssl_pair_t;

/* Load a pair as kl_ssl_certificate does (errors logged at error). */
kl_int_t kl_ssl_load_pair(kl_str_t *cert, kl_str_t *key, kl_array_t *passwords,
                          kl_log_t *log, kl_ssl_pair_t *pair);

/* c's handshake uses pair (OpenSSL takes references, pair stays). */
kl_int_t kl_ssl_use_pair(kl_connection_t *c, kl_ssl_pair_t *pair);

void kl_ssl_free_pair(kl_ssl_pair_t *pair);

/* ssl_password_file: its lines (kl_str_t), empty lines skipped. */
kl_array_t *kl_ssl_read_password_file(kl_pool_t *pool, kl_str_t *file,
                                      kl_log_t *log);

/* ssl_ciphers (TLS 1.2 and below) and ssl_prefer_server_ciphers. */
kl_int_t kl_ssl_ciphers(kl_ssl_t *ssl, kl_str_t *ciphers, kl_uint_t prefer,
                        kl_log_t *log);

/* ssl_ecdh_curve: "auto" keeps OpenSSL's list; else "X25519:prime256v1". */
kl_int_t kl_ssl_ecdh_curve(kl_ssl_t *ssl, kl_str_t *name, kl_log_t *log);

/* ssl_dhparam: DH parameters from a PEM file (TLS 1.2 DHE ciphers). */
kl_int_t kl_ssl_dhparam(kl_ssl_t *ssl, kl_str_t *file, kl_log_t *log);

/*
 * ssl_conf_command: name/value pairs (kl_keyval_t) through SSL_CONF_cmd,
 * applied after every other setting, as nginx does.
 */
kl_int_t kl_ssl_conf_commands(kl_ssl_t *ssl, kl_array_t *commands,
                              kl_log_t *log);

/*
 * ALPN (server side): the first of ours the client offers, in our order;
 * protos is the wire form ("\x08http/1.1"). NULL clears it.
 */
kl_int_t kl_ssl_alpn(kl_ssl_t *ssl, const u_char *protos, size_t len);

/*
 * What a fresh accepted connection starts with, by its first byte (not
 * taken): KL_OK a TLS record (0x16) or an SSLv2 hello, KL_DECLINED
 * something else (plain HTTP on a TLS port), KL_AGAIN nothing yet
 * (c->read->ready cleared), KL_DONE the peer closed, KL_ERROR.
 */
kl_int_t kl_ssl_detect(kl_connection_t *c);

/*
 * c's TLS state from ssl, c->ssl set, c->io = the TLS table. flags:
 * KL_SSL_CLIENT for a connection we made, KL_SSL_BUFFER to coalesce
 * small buffers (HTTP responses). KL_ERROR after logging.
 */
kl_int_t kl_ssl_create_connection(kl_ssl_t *ssl, kl_connection_t *c,
                                  kl_uint_t flags);

/*
 * Drive the handshake (the table's handshake slot is this function):
 * KL_OK done; KL_AGAIN: it installed its own read and write handlers and
 * calls c->ssl->handler(c) when it ends, well or not, or when either
 * event times out (the caller set the timer and reads c->read->timedout
 * and c->ssl->handshaked there); KL_ERROR after logging (client-caused
 * failures at info, as nginx: "SSL_do_handshake() failed (SSL: ...)").
 * Set c->ssl->handler before the first call.
 */
kl_int_t kl_ssl_handshake(kl_connection_t *c);

/*
 * Client side: the session to reuse on the next connection to the same
 * peer (a reference, kl_ssl_free_session it), NULL when none was made or
 * it cannot be resumed; and set one before the handshake.
 */
struct ssl_session_st *kl_ssl_get_session(kl_connection_t *c);
kl_int_t kl_ssl_set_session(kl_connection_t *c, struct ssl_session_st *s);
void     kl_ssl_free_session(struct ssl_session_st *s);

/* Client side: SNI to send (before the handshake). */
kl_int_t kl_ssl_set_server_name(kl_connection_t *c, kl_str_t *name);

/*
 * End TLS before the socket closes: close_notify (not after a timeout or
 * an error, nor with no_send_shutdown), quiet on errors as nginx, then
 * free the SSL. KL_OK: c->ssl is gone and c->io is the plain table's;
 * KL_AGAIN: the close_notify waits for the socket, c->ssl->handler(c)
 * runs when it went (or after 3 s): call kl_ssl_shutdown again there.
 */
kl_int_t kl_ssl_shutdown(kl_connection_t *c);

/*
 * Free c->ssl without a word to the peer (kl_close_connection calls it
 * for a connection closed without kl_ssl_shutdown).
 */
void kl_ssl_free_connection(kl_connection_t *c);

/*
 * Whether any context asked for kTLS (ssl_conf_command Options KTLS)
 * and the kernel has the "tls" ULP: 1 yes, 0 no (logged once at info:
 * OpenSSL then encrypts in user space, with no error).
 */
kl_uint_t kl_ssl_ktls_check(kl_ssl_t *ssl, kl_log_t *log);

/* An idle keep-alive connection: give OpenSSL's buffers back. */
void kl_ssl_free_buffer(kl_connection_t *c);

/*
 * Log an OpenSSL failure: "<fmt> (SSL: error:...:reason[:data] ...)",
 * the error queue drained. err: errno or 0.
 */
void kl_ssl_error(kl_uint_t level, kl_log_t *log, kl_err_t err, const char *fmt,
                  ...);

/* Clear OpenSSL's error queue (before a call whose errors we read). */
void kl_ssl_clear_error(kl_log_t *log);

/*
 * Read-only facts about a connection for variables and logs, into pool
 * memory; s->len = 0 when not known.
 */
kl_int_t kl_ssl_get_protocol(kl_connection_t *c, kl_pool_t *pool, kl_str_t *s);
kl_int_t kl_ssl_get_cipher_name(kl_connection_t *c, kl_pool_t *pool,
                                kl_str_t *s);
kl_int_t kl_ssl_get_server_name(kl_connection_t *c, kl_pool_t *pool,
                                kl_str_t *s);
kl_int_t kl_ssl_get_alpn_protocol(kl_connection_t *c, kl_pool_t *pool,
                                  kl_str_t *s);
kl_int_t kl_ssl_get_session_id(kl_connection_t *c, kl_pool_t *pool,
                               kl_str_t *s);
kl_int_t kl_ssl_get_session_reused(kl_connection_t *c, kl_pool_t *pool,
                                   kl_str_t *s);

#endif /* KL_SSL_H */
