/*
 * ssl.c: HTTP/1 over TLS: a `listen ... ssl` connection's handshake,
 * bounded by client_header_timeout, before the first request is read;
 * plain HTTP sent there is read anyway and answered 497 (a 400 page).
 */

#include "v1.h"


static void kl_http_ssl_handshake(kl_event_t *rev);
static void kl_http_ssl_handshake_done(kl_connection_t *c);


void
kl_http_ssl_init_connection(kl_connection_t *c)
{
    kl_event_t              *rev;
    kl_http_connection_t    *hc;
    kl_http_core_srv_conf_t *cscf;

    hc = c->data;
    cscf = hc->addr_conf->default_server;

    c->log->action = "SSL handshaking";

    rev = c->read;
    rev->handler = kl_http_ssl_handshake;
    c->write->handler = kl_http_empty_handler;

    kl_event_add_timer(rev, cscf->client_header_timeout);

    /* The ClientHello usually came with the TCP handshake's last ACK. */
    rev->ready = 1;
    kl_http_ssl_handshake(rev);
}


static void
kl_http_ssl_handshake(kl_event_t *rev)
{
    kl_int_t                 rc;
    kl_connection_t         *c;
    kl_http_connection_t    *hc;
    kl_http_core_srv_conf_t *cscf;

    c = rev->data;

    if (rev->timedout) {
        kl_log_error(KL_LOG_INFO, c->log, ETIMEDOUT, "client timed out");
        kl_http_close_connection(c);
        return;
    }

    if (c->close) {
        kl_http_close_connection(c);
        return;
    }

    rc = kl_ssl_detect(c);

    if (rc == KL_AGAIN) {
        kl_reusable_connection(c, 1);
        return;
    }

    if (rc == KL_DONE) {
        kl_log_error(KL_LOG_INFO, c->log, 0, "client closed connection");
        kl_http_close_connection(c);
        return;
    }

    if (rc == KL_ERROR) {
        kl_log_error(KL_LOG_INFO, c->log, errno, "recv() failed");
        kl_http_close_connection(c);
        return;
    }

    kl_reusable_connection(c, 0);

    if (rc == KL_DECLINED) {
        /* Plain HTTP: read it, to answer 497 (kl_http_ssl_plain_request). */
        c->log->action = "waiting for request";
        rev->handler = kl_http_wait_request_handler;
        kl_http_wait_request_handler(rev);
        return;
    }

    hc = c->data;
    cscf = hc->addr_conf->default_server;

    if (cscf->ssl == NULL
        || kl_ssl_create_connection(cscf->ssl, c, KL_SSL_BUFFER) != KL_OK)
    {
        kl_http_close_connection(c);
        return;
    }

    c->ssl->handler = kl_http_ssl_handshake_done;

    rc = kl_ssl_handshake(c);

    if (rc == KL_AGAIN) {
        return;
    }

    kl_http_ssl_handshake_done(c);
}


static void
kl_http_ssl_handshake_done(kl_connection_t *c)
{
    if (c->read->timedout || c->write->timedout) {
        kl_log_error(KL_LOG_INFO, c->log, ETIMEDOUT, "client timed out");
        kl_http_close_connection(c);
        return;
    }

    if (!c->ssl->handshaked) {
        kl_http_close_connection(c);
        return;
    }

    c->log->action = "waiting for request";
    c->read->handler = kl_http_wait_request_handler;
    c->write->handler = kl_http_empty_handler;

    /*
     * The request may have come with the handshake's last flight: read
     * now (the timer set for the handshake goes on for the request).
     */
    kl_http_wait_request_handler(c->read);
}


kl_int_t
kl_http_ssl_plain_request(kl_http_request_t *r)
{
    kl_connection_t *c;

    c = r->connection;

    if (c->ssl || !r->http_connection->addr_conf->ssl) {
        return KL_OK;
    }

    c->log->action = "reading client request headers";
    kl_log_error(KL_LOG_INFO, c->log, 0,
                 "client sent plain HTTP request to HTTPS port");
    c->log->action = NULL;
    kl_http_finalize_request(r, KL_HTTP_TO_HTTPS);
    return KL_DONE;
}


/*
 * Closing a TLS connection: close_notify without waiting for the
 * client's (nginx's no_wait_shutdown); KL_AGAIN when the socket must
 * drain first, the close then runs again from the layer.
 */
kl_int_t
kl_http_ssl_close(kl_connection_t *c)
{
    if (c->ssl == NULL) {
        return KL_OK;
    }

    c->ssl->no_wait_shutdown = 1;

    if (kl_ssl_shutdown(c) == KL_AGAIN) {
        c->ssl->handler = kl_http_close_connection;
        return KL_AGAIN;
    }

    return KL_OK;
}
