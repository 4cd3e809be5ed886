/*
 * ssl.c: the TLS layer over OpenSSL 3: contexts from settings, a
 * connection's SSL object for either side, the non-blocking handshake,
 * and the c->io table (recv, send, send_chain, peek, shutdown) that
 * replaces the plain socket's once a connection speaks TLS.
 *
 * OpenSSL reads and writes the socket itself (a socket BIO on c->fd), so
 * the ready flags are kept here as the plain table keeps them: a read
 * that OpenSSL answers with WANT_READ clears c->read->ready, a write
 * answered with WANT_WRITE clears c->write->ready. When a read needs the
 * socket writable (or a write needs it readable), the other event's
 * handler is borrowed until that is over (saved_*_handler), so the
 * waiting side runs when the other direction is ready.
 *
 * Without OpenSSL (not found, or --without-http_ssl_module) only stubs
 * that refuse remain, so that callers need no #if.
 */

#include "kl_core.h"
#include "ssl.h"

#if (KL_HAVE_OPENSSL)

#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>


static ssize_t     kl_ssl_recv(kl_connection_t *c, u_char *buf, size_t size);
static ssize_t     kl_ssl_send(kl_connection_t *c, u_char *buf, size_t size);
static kl_chain_t *kl_ssl_send_chain(kl_connection_t *c, kl_chain_t *in,
                                     off_t limit);
static kl_int_t    kl_ssl_peek(kl_connection_t *c);
static kl_int_t    kl_ssl_io_shutdown(kl_connection_t *c);
static void        kl_ssl_connection_error(kl_connection_t *c, int sslerr,
                                           kl_err_t err, const char *text);


/* Until the handshake ends, and after it unless the kernel encrypts. */
static const kl_conn_io_t kl_ssl_io = {
    .recv = kl_ssl_recv,
    .send = kl_ssl_send,
    .send_chain = kl_ssl_send_chain,
    .peek = kl_ssl_peek,
    .shutdown = kl_ssl_io_shutdown,
    .handshake = kl_ssl_handshake,
    .name = "ssl",
    .sendfile = 0,
};

/* kTLS send: files go with SSL_sendfile, the kernel encrypting. */
static const kl_conn_io_t kl_ssl_io_ktls = {
    .recv = kl_ssl_recv,
    .send = kl_ssl_send,
    .send_chain = kl_ssl_send_chain,
    .peek = kl_ssl_peek,
    .shutdown = kl_ssl_io_shutdown,
    .handshake = kl_ssl_handshake,
    .name = "ssl+ktls",
    .sendfile = 1,
};


kl_uint_t
kl_ssl_available(void)
{
    return 1;
}


const char *
kl_ssl_version(void)
{
    return OpenSSL_version(OPENSSL_VERSION);
}


void
kl_ssl_clear_error(kl_log_t *log)
{
    (void) log;
    ERR_clear_error();
}


void
kl_ssl_error(kl_uint_t level, kl_log_t *log, kl_err_t err, const char *fmt, ...)
{
    int           flags;
    u_char       *p, *last;
    va_list       args;
    const char   *data;
    unsigned long n;
    u_char        errstr[KL_MAX_ERROR_STR];

    last = errstr + KL_MAX_ERROR_STR;

    va_start(args, fmt);
    p = kl_vslprintf(errstr, last - 1, fmt, args);
    va_end(args);

    if (ERR_peek_error()) {
        p = kl_slprintf(p, last, " (SSL:");

        for (;;) {
            n = ERR_peek_error_data(&data, &flags);
            if (n == 0) {
                break;
            }

            /* ERR_error_string_n wants at least one byte. */
            if (p < last - 1) {
                *p++ = ' ';
                ERR_error_string_n(n, (char *) p, last - p);
                while (p < last && *p) {
                    p++;
                }

                if (p < last && *data && (flags & ERR_TXT_STRING)) {
                    p = kl_slprintf(p, last, ":%s", data);
                }
            }

            (void) ERR_get_error();
        }

        if (p < last) {
            *p++ = ')';
        }
    }

    kl_log_error(level, log, err, "%*s", (size_t) (p - errstr), errstr);
}


static void
kl_ssl_ctx_cleanup(void *data)
{
    SSL_CTX_free(data);
}


static kl_int_t
kl_ssl_protocols(SSL_CTX *ctx, kl_uint_t protocols)
{
    int min, max;

    /*
     * OpenSSL takes a range: the lowest and highest asked for (a gap in
     * between, as "TLSv1 TLSv1.2", is filled by the SSL_OP_NO_* below).
     */
    min = (protocols & KL_SSL_TLSv1)     ? TLS1_VERSION
          : (protocols & KL_SSL_TLSv1_1) ? TLS1_1_VERSION
          : (protocols & KL_SSL_TLSv1_2) ? TLS1_2_VERSION
                                         : TLS1_3_VERSION;
    max = (protocols & KL_SSL_TLSv1_3)   ? TLS1_3_VERSION
          : (protocols & KL_SSL_TLSv1_2) ? TLS1_2_VERSION
          : (protocols & KL_SSL_TLSv1_1) ? TLS1_1_VERSION
                                         : TLS1_VERSION;

    if (protocols & KL_SSL_SSLv3) {
        min = SSL3_VERSION;
    }

    if (!(protocols & KL_SSL_TLSv1)) {
        SSL_CTX_set_options(ctx, SSL_OP_NO_TLSv1);
    }
    if (!(protocols & KL_SSL_TLSv1_1)) {
        SSL_CTX_set_options(ctx, SSL_OP_NO_TLSv1_1);
    }
    if (!(protocols & KL_SSL_TLSv1_2)) {
        SSL_CTX_set_options(ctx, SSL_OP_NO_TLSv1_2);
    }
    if (!(protocols & KL_SSL_TLSv1_3)) {
        SSL_CTX_set_options(ctx, SSL_OP_NO_TLSv1_3);
    }

    if (!SSL_CTX_set_min_proto_version(ctx, min)
        || !SSL_CTX_set_max_proto_version(ctx, max))
    {
        return KL_ERROR;
    }

    return KL_OK;
}


kl_int_t
kl_ssl_create(kl_ssl_t *ssl, kl_uint_t protocols, kl_pool_t *pool,
              kl_log_t *log)
{
    SSL_CTX           *ctx;
    kl_pool_cleanup_t *cln;

    cln = kl_pool_cleanup_add(pool, 0);
    if (cln == NULL) {
        return KL_ERROR;
    }

    ctx = SSL_CTX_new(TLS_method());
    if (ctx == NULL) {
        kl_ssl_error(KL_LOG_EMERG, log, 0, "SSL_CTX_new() failed");
        return KL_ERROR;
    }

    cln->handler = kl_ssl_ctx_cleanup;
    cln->data = ctx;

    ssl->ctx = ctx;
    ssl->log = log;
    ssl->buffer_size = KL_SSL_BUFSIZE;

    SSL_CTX_set_app_data(ctx, ssl);

    /*
     * As nginx: no TLS compression (CRIME), no client renegotiation, a
     * fresh key for each DH/ECDH exchange, and the client's cipher order
     * until ssl_prefer_server_ciphers says otherwise.
     */
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION
                                 | SSL_OP_SINGLE_DH_USE
                                 | SSL_OP_SINGLE_ECDH_USE);
    SSL_CTX_clear_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);

    if (kl_ssl_protocols(ctx, protocols) != KL_OK) {
        kl_ssl_error(KL_LOG_EMERG, log, 0,
                     "SSL_CTX_set_min_proto_version()"
                     " failed");
        return KL_ERROR;
    }

    /*
     * Partial writes: send_chain counts what went out; a moving buffer:
     * a retried write may come from another copy of the same bytes;
     * released buffers: an idle connection holds no 34 KiB of OpenSSL's.
     */
    SSL_CTX_set_mode(
        ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER
                 | SSL_MODE_RELEASE_BUFFERS | SSL_MODE_NO_AUTO_CHAIN);

    /*
     * Read ahead, as nginx: a record's header and body come in one read
     * instead of two (one system call less per keep-alive request).
     * kl_ssl_peek asks SSL_has_pending, which sees bytes read ahead.
     */
    SSL_CTX_set_read_ahead(ctx, 1);

    return KL_OK;
}


kl_int_t
kl_ssl_detect(kl_connection_t *c)
{
    ssize_t n;
    u_char  buf[1];

    for (;;) {
        n = recv(c->fd, buf, 1, MSG_PEEK);

        if (n == 1) {
            return (buf[0] == 0x16 || (buf[0] & 0x80)) ? KL_OK : KL_DECLINED;
        }

        if (n == 0) {
            return KL_DONE;
        }

        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            c->read->ready = 0;
            return KL_AGAIN;
        }

        if (errno != EINTR) {
            return KL_ERROR;
        }
    }
}


kl_int_t
kl_ssl_create_connection(kl_ssl_t *ssl, kl_connection_t *c, kl_uint_t flags)
{
    SSL                 *conn;
    kl_ssl_connection_t *sc;

    sc = kl_calloc(sizeof(kl_ssl_connection_t), c->log);
    if (sc == NULL) {
        return KL_ERROR;
    }

    sc->ssl = ssl;
    sc->buffer = (flags & KL_SSL_BUFFER) != 0;
    sc->buffer_size = ssl->buffer_size ? ssl->buffer_size : KL_SSL_BUFSIZE;
    sc->client = (flags & KL_SSL_CLIENT) != 0;

    conn = SSL_new(ssl->ctx);
    if (conn == NULL) {
        kl_ssl_error(KL_LOG_ALERT, c->log, 0, "SSL_new() failed");
        kl_free(sc);
        return KL_ERROR;
    }

    if (SSL_set_fd(conn, c->fd) == 0) {
        kl_ssl_error(KL_LOG_ALERT, c->log, 0, "SSL_set_fd() failed");
        SSL_free(conn);
        kl_free(sc);
        return KL_ERROR;
    }

    if (sc->client) {
        SSL_set_connect_state(conn);
    } else {
        SSL_set_accept_state(conn);
    }

    SSL_set_app_data(conn, c);

    sc->connection = conn;
    c->ssl = sc;
    c->io = &kl_ssl_io;

    return KL_OK;
}


/* The connection's SSL and state go (kl_close_connection calls it). */
void
kl_ssl_free_connection(kl_connection_t *c)
{
    kl_ssl_connection_t *sc;

    sc = c->ssl;
    if (sc == NULL) {
        return;
    }

    if (sc->connection) {
        SSL_free(sc->connection);
    }

    if (sc->buf) {
        kl_free(sc->buf);
    }

    kl_free(sc);
    c->ssl = NULL;
}


/* Put back the handlers borrowed while one direction waited for the other. */
static void
kl_ssl_restore_handlers(kl_connection_t *c)
{
    kl_ssl_connection_t *sc;

    sc = c->ssl;

    if (sc->saved_read_handler) {
        c->read->handler = sc->saved_read_handler;
        sc->saved_read_handler = NULL;
        c->io_want_read = 0;
    }

    if (sc->saved_write_handler) {
        c->write->handler = sc->saved_write_handler;
        sc->saved_write_handler = NULL;
        c->io_want_write = 0;
    }
}


static void
kl_ssl_handshake_handler(kl_event_t *ev)
{
    kl_connection_t *c;

    c = ev->data;

    if (ev->timedout) {
        c->ssl->handler(c);
        return;
    }

    if (kl_ssl_handshake(c) == KL_AGAIN) {
        return;
    }

    c->ssl->handler(c);
}


/* Between the handshake's end and the caller's own handlers. */
static void
kl_ssl_empty_handler(kl_event_t *ev)
{
    (void) ev;
}


static void
kl_ssl_handshake_done(kl_connection_t *c)
{
    BIO *wbio, *rbio;

    c->ssl->handshaked = 1;
    c->read->handler = kl_ssl_empty_handler;
    c->write->handler = kl_ssl_empty_handler;

    wbio = SSL_get_wbio(c->ssl->connection);
    rbio = SSL_get_rbio(c->ssl->connection);

    c->ssl->ktls_send = BIO_get_ktls_send(wbio) == 1;
    c->ssl->ktls_recv = BIO_get_ktls_recv(rbio) == 1;

    if (c->ssl->ktls_send) {
        c->io = &kl_ssl_io_ktls;
    }
}


kl_int_t
kl_ssl_handshake(kl_connection_t *c)
{
    int      n, sslerr;
    kl_err_t err;

    if (c->ssl->handshaked) {
        return KL_OK;
    }

    ERR_clear_error();

    n = SSL_do_handshake(c->ssl->connection);
    c->ssl->last = n;

    if (n == 1) {
        kl_ssl_handshake_done(c);
        return KL_OK;
    }

    sslerr = SSL_get_error(c->ssl->connection, n);
    err = (sslerr == SSL_ERROR_SYSCALL) ? errno : 0;

    if (sslerr == SSL_ERROR_WANT_READ || sslerr == SSL_ERROR_WANT_WRITE) {
        if (sslerr == SSL_ERROR_WANT_READ) {
            c->read->ready = 0;
        } else {
            c->write->ready = 0;
        }

        c->io_want_write = sslerr == SSL_ERROR_WANT_WRITE;
        c->io_want_read = 0;
        c->read->handler = kl_ssl_handshake_handler;
        c->write->handler = kl_ssl_handshake_handler;
        return KL_AGAIN;
    }

    c->read->eof = 1;

    /*
     * A close inside a record is OpenSSL 3's "unexpected eof while
     * reading": the same close for nginx, which sets
     * SSL_OP_IGNORE_UNEXPECTED_EOF.
     */
    if (sslerr == SSL_ERROR_ZERO_RETURN
        || (sslerr == SSL_ERROR_SYSCALL && err == 0 && ERR_peek_error() == 0)
        || (sslerr == SSL_ERROR_SSL
            && ERR_GET_REASON(ERR_peek_error())
                   == SSL_R_UNEXPECTED_EOF_WHILE_READING))
    {
        ERR_clear_error();
        kl_log_error(c->ssl->client ? KL_LOG_ERR : KL_LOG_INFO, c->log, 0,
                     "peer closed connection in SSL handshake");
        c->read->error = 1;
        c->error = 1;
        return KL_ERROR;
    }

    c->read->error = 1;
    c->error = 1;

    kl_ssl_connection_error(c, sslerr, err, "SSL_do_handshake() failed");

    return KL_ERROR;
}


/*
 * nginx's choice of level: what a client can cause (reset, a bad
 * ClientHello, an alert it sent, no shared protocol or cipher) is info,
 * the rest crit.
 */
static kl_uint_t
kl_ssl_error_level(int sslerr, kl_err_t err)
{
    int           reason;
    unsigned long n;

    if (sslerr == SSL_ERROR_SYSCALL) {
        if (err == ECONNRESET || err == EPIPE || err == ENOTCONN
            || err == ETIMEDOUT || err == ECONNREFUSED || err == ENETDOWN
            || err == ENETUNREACH || err == EHOSTDOWN || err == EHOSTUNREACH)
        {
            return KL_LOG_INFO;
        }

        return KL_LOG_CRIT;
    }

    if (sslerr != SSL_ERROR_SSL) {
        return KL_LOG_CRIT;
    }

    n = ERR_peek_last_error();
    if (ERR_GET_LIB(n) != ERR_LIB_SSL) {
        return KL_LOG_CRIT;
    }

    reason = ERR_GET_REASON(n);

    /* An alert the peer sent: reason = SSL_AD_REASON_OFFSET + alert. */
    if (reason >= SSL_AD_REASON_OFFSET) {
        return KL_LOG_INFO;
    }

    switch (reason) {
    case SSL_R_BAD_CHANGE_CIPHER_SPEC:
    case SSL_R_BLOCK_CIPHER_PAD_IS_WRONG:
    case SSL_R_DIGEST_CHECK_FAILED:
    case SSL_R_ERROR_IN_RECEIVED_CIPHER_LIST:
    case SSL_R_EXCESSIVE_MESSAGE_SIZE:
    case SSL_R_HTTPS_PROXY_REQUEST:
    case SSL_R_HTTP_REQUEST:
    case SSL_R_LENGTH_MISMATCH:
    case SSL_R_LENGTH_TOO_SHORT:
    case SSL_R_NO_CIPHERS_SPECIFIED:
    case SSL_R_NO_COMPRESSION_SPECIFIED:
    case SSL_R_NO_SHARED_CIPHER:
    case SSL_R_RECORD_LENGTH_MISMATCH:
    case SSL_R_PARSE_TLSEXT:
    case SSL_R_UNEXPECTED_MESSAGE:
    case SSL_R_UNEXPECTED_RECORD:
    case SSL_R_UNKNOWN_ALERT_TYPE:
    case SSL_R_UNKNOWN_PROTOCOL:
    case SSL_R_UNSUPPORTED_PROTOCOL:
    case SSL_R_UNKNOWN_SSL_VERSION:
    case SSL_R_UNSAFE_LEGACY_RENEGOTIATION_DISABLED:
    case SSL_R_VERSION_TOO_LOW:
    case SSL_R_VERSION_TOO_HIGH:
    case SSL_R_WRONG_VERSION_NUMBER:
    case SSL_R_DECRYPTION_FAILED_OR_BAD_RECORD_MAC:
    case SSL_R_BAD_KEY_SHARE:
    case SSL_R_BAD_EXTENSION:
    case SSL_R_BAD_ECPOINT:
    case SSL_R_BAD_LENGTH:
    case SSL_R_BAD_PACKET:
    case SSL_R_BAD_RECORD_TYPE:
    case SSL_R_MISSING_SIGALGS_EXTENSION:
    case SSL_R_NO_SHARED_SIGNATURE_ALGORITHMS:
    case SSL_R_NO_SUITABLE_KEY_SHARE:
    case SSL_R_NO_SUITABLE_SIGNATURE_ALGORITHM:
    case SSL_R_PACKET_LENGTH_TOO_LONG:
    case SSL_R_RECORD_TOO_SMALL:
    case SSL_R_SSLV3_ALERT_NO_CERTIFICATE:
    case SSL_R_WRONG_CIPHER_RETURNED:
    case SSL_R_WRONG_CURVE:
    case SSL_R_INAPPROPRIATE_FALLBACK:
    case SSL_R_CALLBACK_FAILED:
    case SSL_R_UNEXPECTED_EOF_WHILE_READING:
    case SSL_R_NO_PROTOCOLS_AVAILABLE:
    case SSL_R_DATA_LENGTH_TOO_LONG:
    case SSL_R_ENCRYPTED_LENGTH_TOO_LONG:
    case SSL_R_INVALID_TICKET_KEYS_LENGTH:
    case SSL_R_NO_APPLICATION_PROTOCOL:
        return KL_LOG_INFO;
    default:
        return KL_LOG_CRIT;
    }
}


static void
kl_ssl_connection_error(kl_connection_t *c, int sslerr, kl_err_t err,
                        const char *text)
{
    kl_uint_t level;

    level = kl_ssl_error_level(sslerr, err);

    /* a peer kiln connected to is not a client: nginx says error there */
    if (level == KL_LOG_INFO && c->ssl && c->ssl->client) {
        level = KL_LOG_ERR;
    }

    kl_ssl_error(level, c->log, err, "%s", text);
}


/* The other direction is ready: run the side that waited for it. */
static void
kl_ssl_read_for_write(kl_event_t *wev)
{
    kl_connection_t *c;

    c = wev->data;
    c->read->handler(c->read);
}


static void
kl_ssl_write_for_read(kl_event_t *rev)
{
    kl_connection_t *c;

    c = rev->data;
    c->write->handler(c->write);
}


/*
 * SSL_read or SSL_write returned n <= 0: what it means. want: the
 * direction of the call (0 read, 1 write).
 */
static ssize_t
kl_ssl_handle_io(kl_connection_t *c, int n, kl_uint_t write, const char *what)
{
    int                  sslerr;
    kl_err_t             err;
    kl_ssl_connection_t *sc;

    sc = c->ssl;
    sslerr = SSL_get_error(sc->connection, n);
    err = (sslerr == SSL_ERROR_SYSCALL) ? errno : 0;

    if (sslerr == SSL_ERROR_WANT_READ) {
        c->read->ready = 0;

        if (write && sc->saved_read_handler == NULL) {
            /* A write waits for bytes from the peer (a key update). */
            sc->saved_read_handler = c->read->handler;
            c->read->handler = kl_ssl_write_for_read;
            c->io_want_read = 1;
        }

        return KL_AGAIN;
    }

    if (sslerr == SSL_ERROR_WANT_WRITE) {
        c->write->ready = 0;

        if (!write && sc->saved_write_handler == NULL) {
            sc->saved_write_handler = c->write->handler;
            c->write->handler = kl_ssl_read_for_write;
            c->io_want_write = 1;
        }

        return KL_AGAIN;
    }

    if (!write
        && (sslerr == SSL_ERROR_ZERO_RETURN
            || (sslerr == SSL_ERROR_SYSCALL && err == 0
                && ERR_peek_error() == 0)))
    {
        c->read->ready = 0;
        c->read->eof = 1;
        return 0;
    }

    if (write) {
        c->write->ready = 0;
        c->write->error = 1;
    } else {
        c->read->ready = 0;
        c->read->error = 1;
        c->read->eof = 1;
    }

    c->error = 1;
    sc->no_send_shutdown = 1;
    errno = err;

    kl_ssl_connection_error(c, sslerr, err, what);

    return KL_ERROR;
}


static ssize_t
kl_ssl_recv(kl_connection_t *c, u_char *buf, size_t size)
{
    int     n;
    ssize_t bytes, rc;

    if (c->ssl->last == 0 && c->read->eof) {
        return 0;
    }

    bytes = 0;

    ERR_clear_error();

    /* Fill buf: OpenSSL hands out a record at a time. */
    for (;;) {
        n = SSL_read(c->ssl->connection, buf,
                     (int) kl_min(size, (size_t) INT_MAX));
        c->ssl->last = n;

        if (n > 0) {
            bytes += n;
            size -= n;

            if (size == 0) {
                /* Full: more may be held, ready stays set. */
                kl_ssl_restore_handlers(c);
                return bytes;
            }

            buf += n;
            continue;
        }

        rc = kl_ssl_handle_io(c, n, 0, "SSL_read() failed");

        if (bytes) {
            if (rc == 0 || rc == KL_ERROR) {
                /* The bytes first; the end or the error on the next call. */
                c->read->ready = 1;
                c->read->eof = 0;
                c->read->error = 0;
                c->error = 0;
                if (rc == 0) {
                    c->ssl->last = 0;
                }
            }

            if (rc == KL_AGAIN && c->ssl->saved_write_handler == NULL) {
                kl_ssl_restore_handlers(c);
            }

            return bytes;
        }

        if (rc != KL_AGAIN) {
            if (rc == 0) {
                c->ssl->last = 0;
            }
            return rc;
        }

        return KL_AGAIN;
    }
}


/*
 * SSL_write until size bytes went or the socket is full: with partial
 * writes on, OpenSSL returns after each record even when the socket
 * would take more, and an edge-triggered writer must not stop there.
 * A write cut by WANT_WRITE leaves its record pending in OpenSSL: the
 * next call must offer at least the rest again (c->ssl->retry).
 */
static ssize_t
kl_ssl_write(kl_connection_t *c, u_char *data, size_t size)
{
    int     n;
    ssize_t total, rc;

    total = 0;

    for (;;) {
        ERR_clear_error();

        n = SSL_write(c->ssl->connection, data + total,
                      (int) kl_min(size - (size_t) total, (size_t) INT_MAX));
        c->ssl->last = n;

        if (n > 0) {
            if (c->ssl->saved_read_handler) {
                kl_ssl_restore_handlers(c);
            }

            total += n;

            if ((size_t) total == size) {
                c->ssl->retry = 0;
                return total;
            }

            continue;
        }

        rc = kl_ssl_handle_io(c, n, 1, "SSL_write() failed");

        if (rc == KL_AGAIN) {
            c->ssl->retry = size - (size_t) total;
            return total ? total : KL_AGAIN;
        }

        return KL_ERROR;
    }
}


static ssize_t
kl_ssl_send(kl_connection_t *c, u_char *buf, size_t size)
{
    ssize_t n;

    if (size == 0) {
        return 0;
    }

    n = kl_ssl_write(c, buf, size);
    if (n > 0) {
        c->sent += n;
    }

    return n;
}


/* kTLS: a file buffer through SSL_sendfile, the kernel encrypting. */
static ssize_t
kl_ssl_sendfile(kl_connection_t *c, kl_buf_t *b, size_t size)
{
    int      sslerr;
    ssize_t  n;
    kl_err_t err;

    if (!c->sendfile || !c->ssl->ktls_send) {
        kl_log_error(KL_LOG_ALERT, c->log, 0,
                     "file buffer in SSL send_chain without kTLS sendfile");
        return KL_ERROR;
    }

    ERR_clear_error();

    n = SSL_sendfile(c->ssl->connection, b->file->fd, b->file_pos, size, 0);

    if (n > 0) {
        return n;
    }

    sslerr = SSL_get_error(c->ssl->connection, (int) n);
    err = (sslerr == SSL_ERROR_SYSCALL) ? errno : 0;

    if (sslerr == SSL_ERROR_WANT_WRITE
        || (sslerr == SSL_ERROR_SYSCALL && (err == EAGAIN || err == EINTR)))
    {
        ERR_clear_error();
        return 0;
    }

    c->ssl->no_send_shutdown = 1;
    kl_ssl_connection_error(c, sslerr, err, "SSL_sendfile() failed");
    return KL_ERROR;
}


/*
 * The next write: buffers from in (at most limit bytes), small ones
 * copied together into c->ssl->buf so that they make one record; a
 * first buffer of a record's size or more goes as it is. The chain
 * moves only by what SSL_write took, so a retried write finds the same
 * bytes at its head (and is made at least as long, as OpenSSL wants).
 */
static size_t
kl_ssl_gather(kl_connection_t *c, kl_chain_t *in, off_t limit, u_char **data)
{
    size_t               n, want, size;
    kl_buf_t            *b;
    kl_ssl_connection_t *sc;

    sc = c->ssl;
    want = kl_min((size_t) limit, sc->buffer_size);
    want = kl_max(want, sc->retry);

    for (/* void */; in; in = in->next) {
        b = in->buf;
        if (!kl_buf_special(b) && kl_buf_in_memory_only(b) && kl_buf_size(b)) {
            break;
        }
        if (!kl_buf_special(b) && b->in_file) {
            return 0;
        }
    }

    if (in == NULL) {
        return 0;
    }

    b = in->buf;
    size = (size_t) (b->last - b->pos);

    if (!sc->buffer || size >= want) {
        *data = b->pos;
        return kl_max(kl_min(size, (size_t) limit), kl_min(size, sc->retry));
    }

    if (sc->buf == NULL) {
        sc->buf = kl_alloc(sc->buffer_size, c->log);
        if (sc->buf == NULL) {
            return (size_t) KL_ERROR;
        }
    }

    n = 0;

    for (/* void */; in && n < want; in = in->next) {
        b = in->buf;

        if (kl_buf_special(b)) {
            continue;
        }

        if (!kl_buf_in_memory_only(b)) {
            break;
        }

        size = kl_min((size_t) (b->last - b->pos), want - n);
        kl_memcpy(sc->buf + n, b->pos, size);
        n += size;
    }

    *data = sc->buf;
    return n;
}


static kl_chain_t *
kl_ssl_send_chain(kl_connection_t *c, kl_chain_t *in, off_t limit)
{
    off_t       sent;
    size_t      size;
    ssize_t     n;
    u_char     *data;
    kl_buf_t   *b;
    kl_chain_t *cl;

    if (limit == 0 || limit > (off_t) (SSIZE_MAX - 4096)) {
        limit = (off_t) (SSIZE_MAX - 4096);
    }

    sent = 0;

    while (in && sent < limit) {
        size = kl_ssl_gather(c, in, limit - sent, &data);

        if (size == (size_t) KL_ERROR) {
            return KL_CHAIN_ERROR;
        }

        if (size == 0) {
            /* A file buffer first (kTLS), or only empty ones left. */
            for (cl = in; cl; cl = cl->next) {
                b = cl->buf;
                if (!kl_buf_special(b) && kl_buf_size(b)) {
                    break;
                }
            }

            if (cl == NULL) {
                return kl_chain_update_sent(in, 0);
            }

            b = cl->buf;
            size = (size_t) kl_min(b->file_last - b->file_pos, limit - sent);
            n = kl_ssl_sendfile(c, b, size);

            if (n == KL_ERROR) {
                c->error = 1;
                c->write->error = 1;
                return KL_CHAIN_ERROR;
            }

            if (n == 0) {
                c->write->ready = 0;
                return in;
            }

        } else {
            n = kl_ssl_write(c, data, size);

            if (n == KL_ERROR) {
                return KL_CHAIN_ERROR;
            }

            if (n == KL_AGAIN) {
                return in;
            }
        }

        c->sent += n;
        sent += n;
        in = kl_chain_update_sent(in, n);

        if ((size_t) n < size) {
            c->write->ready = 0;
            return in;
        }
    }

    return in;
}


static kl_int_t
kl_ssl_peek(kl_connection_t *c)
{
    ssize_t n;
    u_char  buf[1];

    if (SSL_has_pending(c->ssl->connection)) {
        return KL_OK;
    }

    for (;;) {
        n = recv(c->fd, buf, 1, MSG_PEEK);

        if (n > 0) {
            return KL_OK;
        }

        if (n == 0) {
            return KL_DONE;
        }

        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return KL_AGAIN;
        }

        if (errno != EINTR) {
            return KL_ERROR;
        }
    }
}


/*
 * Lingering close: close_notify, then the FIN, while reads go on (the
 * SSL object stays for them). A close_notify the socket cannot take now
 * is dropped rather than waited for: the FIN still goes.
 */
static kl_int_t
kl_ssl_io_shutdown(kl_connection_t *c)
{
    if (!c->ssl->no_send_shutdown && !c->error) {
        ERR_clear_error();
        SSL_set_quiet_shutdown(c->ssl->connection, 0);
        (void) SSL_shutdown(c->ssl->connection);
        ERR_clear_error();
    }

    return shutdown(c->fd, SHUT_WR) == -1 ? KL_ERROR : KL_OK;
}


static void
kl_ssl_shutdown_handler(kl_event_t *ev)
{
    kl_connection_t  *c;
    kl_ssl_handler_pt handler;

    c = ev->data;
    handler = c->ssl->handler;

    if (ev->timedout) {
        c->timedout = 1;
    }

    if (kl_ssl_shutdown(c) == KL_AGAIN) {
        return;
    }

    handler(c);
}


kl_int_t
kl_ssl_shutdown(kl_connection_t *c)
{
    int                  n, sslerr, mode;
    kl_ssl_connection_t *sc;

    sc = c->ssl;
    if (sc == NULL) {
        return KL_OK;
    }

    if (SSL_in_init(sc->connection) || c->timedout || c->error
        || sc->no_send_shutdown)
    {
        /* Nothing to tell a peer that never finished or went silent. */
        SSL_set_quiet_shutdown(sc->connection, 1);

    } else {
        mode = SSL_get_shutdown(sc->connection);
        if (sc->no_wait_shutdown) {
            mode |= SSL_RECEIVED_SHUTDOWN;
        }
        SSL_set_shutdown(sc->connection, mode);

        ERR_clear_error();
        n = SSL_shutdown(sc->connection);

        if (n != 1 && ERR_peek_error()) {
            sslerr = SSL_get_error(sc->connection, n);

            if (sslerr == SSL_ERROR_WANT_WRITE && !c->write->timedout) {
                c->write->ready = 0;
                c->read->handler = kl_ssl_shutdown_handler;
                c->write->handler = kl_ssl_shutdown_handler;
                if (!c->write->timer_set) {
                    kl_event_add_timer(c->write, 3000);
                }
                return KL_AGAIN;
            }

            /* Quiet, as nginx: a peer gone mid-shutdown is no news. */
            ERR_clear_error();
        }
    }

    if (c->write->timer_set && c->write->handler == kl_ssl_shutdown_handler) {
        kl_event_del_timer(c->write);
    }

    if (sc->shutdown_without_free) {
        sc->shutdown_without_free = 0;
        return KL_OK;
    }

    kl_ssl_free_connection(c);
    c->io = &kl_os_io;

    return KL_OK;
}


kl_uint_t
kl_ssl_ktls_check(kl_ssl_t *ssl, kl_log_t *log)
{
    int     fd;
    ssize_t n;
    char    buf[256];

    if (ssl->ctx == NULL
        || !(SSL_CTX_get_options(ssl->ctx) & SSL_OP_ENABLE_KTLS)) {
        return 0;
    }

    fd = open("/proc/sys/net/ipv4/tcp_available_ulp", O_RDONLY | O_CLOEXEC);
    n = (fd == -1) ? -1 : read(fd, buf, sizeof(buf) - 1);

    if (fd != -1) {
        (void) close(fd);
    }

    if (n > 0) {
        buf[n] = '\0';
        if (strstr(buf, "tls") != NULL) {
            return 1;
        }
    }

    kl_log_error(KL_LOG_INFO, log, 0,
                 "kTLS is not available: the kernel has no \"tls\" in "
                 "tcp_available_ulp; OpenSSL encrypts in user space");
    return 0;
}


void
kl_ssl_free_buffer(kl_connection_t *c)
{
    if (c->ssl && c->ssl->connection) {
        (void) SSL_free_buffers(c->ssl->connection);
    }

    if (c->ssl && c->ssl->buf) {
        kl_free(c->ssl->buf);
        c->ssl->buf = NULL;
    }
}


struct ssl_session_st *
kl_ssl_get_session(kl_connection_t *c)
{
    SSL_SESSION *s;

    if (c->ssl == NULL) {
        return NULL;
    }

    s = SSL_get1_session(c->ssl->connection);
    if (s != NULL && !SSL_SESSION_is_resumable(s)) {
        SSL_SESSION_free(s);
        return NULL;
    }

    return s;
}


kl_int_t
kl_ssl_set_session(kl_connection_t *c, struct ssl_session_st *s)
{
    if (s == NULL) {
        return KL_OK;
    }

    if (SSL_set_session(c->ssl->connection, s) == 0) {
        kl_ssl_error(KL_LOG_ALERT, c->log, 0, "SSL_set_session() failed");
        return KL_ERROR;
    }

    return KL_OK;
}


void
kl_ssl_free_session(struct ssl_session_st *s)
{
    SSL_SESSION_free(s);
}


kl_int_t
kl_ssl_set_server_name(kl_connection_t *c, kl_str_t *name)
{
    u_char buf[256];

    if (name->len == 0 || name->len >= sizeof(buf)) {
        return KL_OK;
    }

    kl_memcpy(buf, name->data, name->len);
    buf[name->len] = '\0';

    if (SSL_set_tlsext_host_name(c->ssl->connection, (char *) buf) == 0) {
        kl_ssl_error(KL_LOG_ERR, c->log, 0,
                     "SSL_set_tlsext_host_name(\"%V\") failed", name);
        return KL_ERROR;
    }

    return KL_OK;
}


static kl_int_t
kl_ssl_copy(kl_pool_t *pool, kl_str_t *s, const char *v)
{
    s->len = v ? kl_strlen(v) : 0;
    if (s->len == 0) {
        s->data = NULL;
        return KL_OK;
    }

    s->data = kl_pnalloc(pool, s->len);
    if (s->data == NULL) {
        return KL_ERROR;
    }

    kl_memcpy(s->data, v, s->len);
    return KL_OK;
}


kl_int_t
kl_ssl_get_protocol(kl_connection_t *c, kl_pool_t *pool, kl_str_t *s)
{
    return kl_ssl_copy(pool, s, SSL_get_version(c->ssl->connection));
}


kl_int_t
kl_ssl_get_cipher_name(kl_connection_t *c, kl_pool_t *pool, kl_str_t *s)
{
    return kl_ssl_copy(pool, s, SSL_get_cipher_name(c->ssl->connection));
}


kl_int_t
kl_ssl_get_server_name(kl_connection_t *c, kl_pool_t *pool, kl_str_t *s)
{
    return kl_ssl_copy(
        pool, s,
        SSL_get_servername(c->ssl->connection, TLSEXT_NAMETYPE_host_name));
}


kl_int_t
kl_ssl_get_alpn_protocol(kl_connection_t *c, kl_pool_t *pool, kl_str_t *s)
{
    unsigned int         len;
    const unsigned char *data;

    SSL_get0_alpn_selected(c->ssl->connection, &data, &len);

    s->len = len;
    if (len == 0) {
        return KL_OK;
    }

    s->data = kl_pnalloc(pool, len);
    if (s->data == NULL) {
        return KL_ERROR;
    }

    kl_memcpy(s->data, data, len);
    return KL_OK;
}


kl_int_t
kl_ssl_get_session_id(kl_connection_t *c, kl_pool_t *pool, kl_str_t *s)
{
    u_char       *p;
    unsigned int  i, len;
    SSL_SESSION  *sess;
    const u_char *id;

    s->len = 0;

    sess = SSL_get0_session(c->ssl->connection);
    if (sess == NULL) {
        return KL_OK;
    }

    id = SSL_SESSION_get_id(sess, &len);
    if (len == 0) {
        return KL_OK;
    }

    p = kl_pnalloc(pool, 2 * len);
    if (p == NULL) {
        return KL_ERROR;
    }

    s->data = p;
    s->len = 2 * len;

    for (i = 0; i < len; i++) {
        p = kl_slprintf(p, s->data + s->len, "%02xd", id[i]);
    }

    return KL_OK;
}


kl_int_t
kl_ssl_get_session_reused(kl_connection_t *c, kl_pool_t *pool, kl_str_t *s)
{
    (void) pool;

    if (SSL_session_reused(c->ssl->connection)) {
        kl_str_set(s, "r");
    } else {
        kl_str_set(s, ".");
    }

    return KL_OK;
}


#endif /* KL_HAVE_OPENSSL */
