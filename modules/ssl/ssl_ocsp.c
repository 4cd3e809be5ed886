/* ssl_ocsp.c: a worker's OCSP fetcher for stapling: the request over HTTP/1.0 on a non-blocking connection, the name through the resolver, the response checked and kept. */

#include "kl_http.h"
#include "ssl_ocsp.h"
#include "ssl_ocsp_parse.h"
#include "event_connect.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

/* nginx's buffer for the response: a larger one is refused */
#define KL_SSL_OCSP_RESPONSE_MAX 16384

typedef struct {
    kl_ssl_staple_t     *st;
    kl_pool_t           *pool;
    kl_log_t             log; /* "while requesting certificate status, ..." */
    kl_peer_connection_t pc;
    kl_str_t             peer;
    kl_resolver_ctx_t   *resolve;

    kl_sockaddr_t *addrs;
    socklen_t     *socklens;
    kl_uint_t      naddrs;
    kl_uint_t      next; /* the address to try next */

    u_char *request;
    size_t  request_len;
    size_t  sent;

    u_char *response;
    size_t  response_len;
} kl_ssl_ocsp_ctx_t;


static u_char  *kl_ssl_ocsp_log_handler(kl_log_t *log, u_char *buf, size_t len);
static kl_int_t kl_ssl_ocsp_request(kl_ssl_ocsp_ctx_t *ctx);
static void     kl_ssl_ocsp_resolve_handler(kl_resolver_ctx_t *resolve);
static void     kl_ssl_ocsp_connect(kl_ssl_ocsp_ctx_t *ctx);
static kl_int_t kl_ssl_ocsp_get_peer(kl_peer_connection_t *pc, void *data);
static void     kl_ssl_ocsp_write_handler(kl_event_t *ev);
static void     kl_ssl_ocsp_read_handler(kl_event_t *ev);
static kl_int_t kl_ssl_ocsp_process(kl_ssl_ocsp_ctx_t *ctx);
static kl_int_t kl_ssl_ocsp_verify(kl_ssl_ocsp_ctx_t *ctx, u_char *body,
                                   size_t len, time_t *valid);
static void     kl_ssl_ocsp_done(kl_ssl_ocsp_ctx_t *ctx, kl_uint_t ok);


void
kl_ssl_ocsp_fetch(kl_ssl_staple_t *st)
{
    kl_pool_t         *pool;
    kl_ssl_ocsp_ctx_t *ctx;

    st->loading = 1;

    pool = kl_pool_create(2048, st->log);
    ctx = pool ? kl_pcalloc(pool, sizeof(kl_ssl_ocsp_ctx_t)) : NULL;

    if (ctx == NULL) {
        if (pool) {
            kl_pool_free(pool);
        }

        st->loading = 0;
        st->refresh = kl_loop.clock.sec + 300;
        return;
    }

    ctx->st = st;
    ctx->pool = pool;
    ctx->log = *st->log;
    ctx->log.action = "requesting certificate status";
    ctx->log.handler = kl_ssl_ocsp_log_handler;
    ctx->log.data = ctx;
    ctx->addrs = st->addrs;
    ctx->socklens = st->socklens;
    ctx->naddrs = st->naddrs;

    if (kl_ssl_ocsp_request(ctx) != KL_OK) {
        kl_ssl_ocsp_done(ctx, 0);
        return;
    }

    if (st->numeric || st->resolver == NULL) {
        if (!st->numeric) {
            kl_log_error(KL_LOG_WARN, &ctx->log, 0,
                         "no resolver defined to resolve %V", &st->host);
        }

        kl_ssl_ocsp_connect(ctx);
        return;
    }

    ctx->resolve = kl_resolve_start(st->resolver, pool);
    if (ctx->resolve == NULL) {
        kl_ssl_ocsp_done(ctx, 0);
        return;
    }

    ctx->resolve->name = st->host;
    ctx->resolve->handler = kl_ssl_ocsp_resolve_handler;
    ctx->resolve->data = ctx;
    ctx->resolve->timeout = st->resolver_timeout;
    ctx->resolve->log = &ctx->log;

    if (kl_resolve_name(ctx->resolve) != KL_OK) {
        ctx->resolve = NULL;
        kl_ssl_ocsp_done(ctx, 0);
    }
}


static u_char *
kl_ssl_ocsp_log_handler(kl_log_t *log, u_char *buf, size_t len)
{
    u_char            *p;
    kl_ssl_ocsp_ctx_t *ctx;

    ctx = log->data;

    p = kl_snprintf(buf, len, ", responder: %V", &ctx->st->host);

    if (ctx->peer.len) {
        p = kl_slprintf(p, buf + len, ", peer: %V", &ctx->peer);
    }

    return kl_slprintf(p, buf + len, ", certificate: \"%s\"", ctx->st->name);
}


/* POST uri HTTP/1.0 with the DER request as the body (RFC 6960 A.1). */
static kl_int_t
kl_ssl_ocsp_request(kl_ssl_ocsp_ctx_t *ctx)
{
    int           len;
    u_char       *p, *der;
    OCSP_CERTID  *id;
    OCSP_REQUEST *req;

    req = OCSP_REQUEST_new();
    id = req ? OCSP_CERTID_dup(ctx->st->id) : NULL;

    if (id == NULL || OCSP_request_add0_id(req, id) == NULL) {
        kl_ssl_error(KL_LOG_CRIT, &ctx->log, 0,
                     "OCSP_request_add0_id() failed");
        OCSP_CERTID_free(id);
        OCSP_REQUEST_free(req);
        return KL_ERROR;
    }

    len = i2d_OCSP_REQUEST(req, NULL);
    ctx->request = len > 0 ? kl_pnalloc(ctx->pool, len + 256 + ctx->st->uri.len
                                                       + ctx->st->host.len)
                           : NULL;

    if (ctx->request == NULL) {
        OCSP_REQUEST_free(req);
        return KL_ERROR;
    }

    p = kl_slprintf(ctx->request,
                    ctx->request + len + 256 + ctx->st->uri.len
                        + ctx->st->host.len,
                    "POST %V HTTP/1.0\r\n"
                    "Host: %V\r\n"
                    "Content-Type: application/ocsp-request\r\n"
                    "Content-Length: %d\r\n\r\n",
                    &ctx->st->uri, &ctx->st->host, len);

    der = p;
    i2d_OCSP_REQUEST(req, &der);
    OCSP_REQUEST_free(req);

    ctx->request_len = der - ctx->request;

    return KL_OK;
}


static void
kl_ssl_ocsp_resolve_handler(kl_resolver_ctx_t *resolve)
{
    kl_uint_t          i;
    kl_ssl_ocsp_ctx_t *ctx;

    ctx = resolve->data;

    if (resolve->state) {
        kl_log_error(KL_LOG_ERR, &ctx->log, 0,
                     "%V could not be resolved (%i: %s)", &resolve->name,
                     resolve->state, kl_resolver_strerror(resolve->state));
        kl_ssl_ocsp_done(ctx, 0);
        return;
    }

    ctx->naddrs = resolve->naddrs;
    ctx->addrs = kl_palloc(ctx->pool, ctx->naddrs * sizeof(kl_sockaddr_t));
    ctx->socklens = kl_palloc(ctx->pool, ctx->naddrs * sizeof(socklen_t));

    if (ctx->addrs == NULL || ctx->socklens == NULL) {
        kl_ssl_ocsp_done(ctx, 0);
        return;
    }

    for (i = 0; i < ctx->naddrs; i++) {
        kl_memcpy(&ctx->addrs[i], &resolve->addrs[i].sockaddr,
                  resolve->addrs[i].socklen);
        ctx->socklens[i] = resolve->addrs[i].socklen;
        kl_sock_set_port(&ctx->addrs[i].sockaddr, ctx->st->port);
    }

    kl_resolve_name_done(resolve);
    ctx->resolve = NULL;

    kl_ssl_ocsp_connect(ctx);
}


/* The addresses in turn until one accepts the connect (or is pending). */
static void
kl_ssl_ocsp_connect(kl_ssl_ocsp_ctx_t *ctx)
{
    u_char          *p;
    kl_int_t         rc;
    kl_connection_t *c;

    for (; ctx->next < ctx->naddrs; ctx->next++) {
        p = kl_pnalloc(ctx->pool, KL_SOCKADDR_STRLEN);
        if (p == NULL) {
            break;
        }

        ctx->peer.data = p;
        ctx->peer.len =
            kl_sock_ntop(&ctx->addrs[ctx->next].sockaddr,
                         ctx->socklens[ctx->next], p, KL_SOCKADDR_STRLEN, 1);

        kl_memzero(&ctx->pc, sizeof(kl_peer_connection_t));
        ctx->pc.sockaddr = &ctx->addrs[ctx->next].sockaddr;
        ctx->pc.socklen = ctx->socklens[ctx->next];
        ctx->pc.name = &ctx->peer;
        ctx->pc.get = kl_ssl_ocsp_get_peer;
        ctx->pc.log = &ctx->log;
        ctx->pc.tries = 1;

        rc = kl_event_connect_peer(&ctx->pc);

        if (rc == KL_DECLINED) {
            continue;
        }

        if (rc != KL_OK && rc != KL_AGAIN) {
            break;
        }

        c = ctx->pc.connection;
        c->data = ctx;
        c->read->handler = kl_ssl_ocsp_read_handler;
        c->write->handler = kl_ssl_ocsp_write_handler;

        /* a quitting worker does not wait for a responder */
        c->read->cancelable = 1;
        c->write->cancelable = 1;
        kl_event_add_timer(c->read, ctx->st->timeout);
        kl_event_add_timer(c->write, ctx->st->timeout);

        if (rc == KL_OK) {
            kl_ssl_ocsp_write_handler(c->write);
        }

        return;
    }

    kl_ssl_ocsp_done(ctx, 0);
}


static kl_int_t
kl_ssl_ocsp_get_peer(kl_peer_connection_t *pc, void *data)
{
    (void) pc;
    (void) data;

    return KL_OK;
}


static void
kl_ssl_ocsp_write_handler(kl_event_t *ev)
{
    ssize_t            n;
    kl_connection_t   *c;
    kl_ssl_ocsp_ctx_t *ctx;

    c = ev->data;
    ctx = c->data;

    if (ev->timedout) {
        kl_log_error(KL_LOG_ERR, &ctx->log, ETIMEDOUT,
                     "OCSP responder timed out");
        kl_ssl_ocsp_done(ctx, 0);
        return;
    }

    while (ctx->sent < ctx->request_len) {
        n = c->io->send(c, ctx->request + ctx->sent,
                        ctx->request_len - ctx->sent);

        if (n == KL_AGAIN) {
            return;
        }

        if (n == KL_ERROR || n <= 0) {
            kl_log_error(KL_LOG_ERR, &ctx->log, errno,
                         ctx->sent ? "send() failed" : "connect() failed");
            kl_ssl_ocsp_done(ctx, 0);
            return;
        }

        ctx->sent += n;
    }

    if (c->write->timer_set) {
        kl_event_del_timer(c->write);
    }
}


static void
kl_ssl_ocsp_read_handler(kl_event_t *ev)
{
    ssize_t            n;
    kl_connection_t   *c;
    kl_ssl_ocsp_ctx_t *ctx;

    c = ev->data;
    ctx = c->data;

    if (ev->timedout) {
        kl_log_error(KL_LOG_ERR, &ctx->log, ETIMEDOUT,
                     "OCSP responder timed out");
        kl_ssl_ocsp_done(ctx, 0);
        return;
    }

    if (ctx->response == NULL) {
        ctx->response = kl_pnalloc(ctx->pool, KL_SSL_OCSP_RESPONSE_MAX);
        if (ctx->response == NULL) {
            kl_ssl_ocsp_done(ctx, 0);
            return;
        }
    }

    for (;;) {
        if (ctx->response_len == KL_SSL_OCSP_RESPONSE_MAX) {
            kl_log_error(KL_LOG_ERR, &ctx->log, 0,
                         "OCSP responder sent too long response");
            kl_ssl_ocsp_done(ctx, 0);
            return;
        }

        n = c->io->recv(c, ctx->response + ctx->response_len,
                        KL_SSL_OCSP_RESPONSE_MAX - ctx->response_len);

        if (n == KL_AGAIN) {
            return;
        }

        if (n == KL_ERROR || n < 0) {
            /* a connect that failed shows here too, as in nginx */
            kl_log_error(KL_LOG_ERR, &ctx->log, errno, "recv() failed");
            kl_ssl_ocsp_done(ctx, 0);
            return;
        }

        if (n == 0) {
            kl_ssl_ocsp_done(ctx, kl_ssl_ocsp_process(ctx) == KL_OK);
            return;
        }

        ctx->response_len += n;
    }
}


/* The whole answer is read (HTTP/1.0: the responder closed). */
static kl_int_t
kl_ssl_ocsp_process(kl_ssl_ocsp_ctx_t *ctx)
{
    u_char            *p;
    time_t             valid, now;
    kl_int_t           rc;
    kl_ssl_staple_t   *st;
    kl_ssl_ocsp_head_t h;

    rc = kl_ssl_ocsp_parse_head(ctx->response, ctx->response_len, &h);

    if (rc == KL_AGAIN) {
        kl_log_error(KL_LOG_ERR, &ctx->log, 0,
                     "OCSP responder prematurely closed connection");
        return KL_ERROR;
    }

    if (rc == KL_ERROR || h.status != 200) {
        kl_log_error(KL_LOG_ERR, &ctx->log, 0,
                     "OCSP responder sent invalid response");
        return KL_ERROR;
    }

    if (h.content_type.len
        && (h.content_type.len != sizeof("application/ocsp-response") - 1
            || kl_strncasecmp(h.content_type.data,
                              (u_char *) "application/ocsp-response",
                              h.content_type.len)
                   != 0))
    {
        kl_log_error(KL_LOG_ERR, &ctx->log, 0,
                     "OCSP responder sent invalid \"Content-Type\" header: "
                     "\"%V\"",
                     &h.content_type);
        return KL_ERROR;
    }

    if (kl_ssl_ocsp_verify(ctx, ctx->response + h.body,
                           ctx->response_len - h.body, &valid)
        != KL_OK)
    {
        return KL_ERROR;
    }

    p = kl_alloc(ctx->response_len - h.body, &ctx->log);
    if (p == NULL) {
        return KL_ERROR;
    }

    st = ctx->st;
    kl_memcpy(p, ctx->response + h.body, ctx->response_len - h.body);
    free(st->staple);
    st->staple = p;
    st->staple_len = ctx->response_len - h.body;
    st->valid = valid;

    /* before it expires, not sooner than in 5 minutes, within an hour */
    now = kl_loop.clock.sec;
    st->refresh = kl_max(kl_min(valid - 300, now + 3600), now + 300);

    return KL_OK;
}


/* nginx's checks, in its words; *valid: the next update (or forever). */
static kl_int_t
kl_ssl_ocsp_verify(kl_ssl_ocsp_ctx_t *ctx, u_char *body, size_t len,
                   time_t *valid)
{
    int                   n, day, sec;
    kl_int_t              rc;
    const u_char         *p;
    kl_ssl_staple_t      *st;
    OCSP_RESPONSE        *resp;
    OCSP_BASICRESP       *basic;
    ASN1_GENERALIZEDTIME *thisupdate, *nextupdate;

    st = ctx->st;
    rc = KL_ERROR;
    basic = NULL;
    p = body;

    resp = d2i_OCSP_RESPONSE(NULL, &p, (long) len);
    if (resp == NULL) {
        kl_ssl_error(KL_LOG_ERR, &ctx->log, 0, "d2i_OCSP_RESPONSE() failed");
        return KL_ERROR;
    }

    n = OCSP_response_status(resp);
    if (n != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
        kl_log_error(KL_LOG_ERR, &ctx->log, 0,
                     "OCSP response not successful (%d: %s)", n,
                     OCSP_response_status_str(n));
        goto done;
    }

    basic = OCSP_response_get1_basic(resp);
    if (basic == NULL) {
        kl_ssl_error(KL_LOG_ERR, &ctx->log, 0,
                     "OCSP_response_get1_basic() failed");
        goto done;
    }

    if (OCSP_basic_verify(basic, st->chain, SSL_CTX_get_cert_store(st->ssl_ctx),
                          st->verify ? OCSP_TRUSTOTHER : OCSP_NOVERIFY)
        != 1)
    {
        kl_ssl_error(KL_LOG_ERR, &ctx->log, 0, "OCSP_basic_verify() failed");
        goto done;
    }

    if (OCSP_resp_find_status(basic, st->id, &n, NULL, NULL, &thisupdate,
                              &nextupdate)
        != 1)
    {
        kl_log_error(KL_LOG_ERR, &ctx->log, 0,
                     "certificate status not found in the OCSP response");
        goto done;
    }

    if (n != V_OCSP_CERTSTATUS_GOOD) {
        kl_log_error(KL_LOG_ERR, &ctx->log, 0,
                     "certificate status \"%s\" in the OCSP response",
                     OCSP_cert_status_str(n));
        goto done;
    }

    if (OCSP_check_validity(thisupdate, nextupdate, 300, -1) != 1) {
        kl_ssl_error(KL_LOG_ERR, &ctx->log, 0, "OCSP_check_validity() failed");
        goto done;
    }

    *valid = KL_MAX_TIME_T_VALUE;

    if (nextupdate && ASN1_TIME_diff(&day, &sec, NULL, nextupdate) == 1) {
        *valid = kl_loop.clock.sec + (time_t) day * 86400 + sec;
    }

    rc = KL_OK;

done:

    ERR_clear_error();
    OCSP_BASICRESP_free(basic);
    OCSP_RESPONSE_free(resp);

    return rc;
}


static void
kl_ssl_ocsp_done(kl_ssl_ocsp_ctx_t *ctx, kl_uint_t ok)
{
    kl_ssl_staple_t *st;

    st = ctx->st;

    if (ctx->resolve) {
        kl_resolve_name_done(ctx->resolve);
    }

    if (ctx->pc.connection) {
        kl_close_connection(ctx->pc.connection);
    }

    st->loading = 0;

    if (!ok) {
        st->refresh = kl_loop.clock.sec + 300;
    }

    kl_pool_free(ctx->pool);
}
