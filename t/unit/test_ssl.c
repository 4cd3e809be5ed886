/* test_ssl.c: the TLS layer (core/ssl.c) between two connections over a socketpair: the non-blocking handshake, records coalesced by send_chain, a full socket and the write retried, reads, close_notify, client sessions. */

#include <criterion/criterion.h>
#include <fcntl.h>
#include <sys/socket.h>

#include "kl_core.h"

#if (KL_HAVE_OPENSSL)

#include <openssl/ssl.h>
#include <openssl/evp.h>
#include <openssl/x509.h>


typedef struct {
    kl_connection_t c;
    kl_event_t      rev;
    kl_event_t      wev;
    kl_log_t        log; /* level 0: alerts go nowhere */
} kl_test_end_t;


typedef struct {
    kl_pool_t    *pool;
    kl_ssl_t      server;
    kl_ssl_t      client;
    kl_test_end_t s; /* the server's end */
    kl_test_end_t k; /* the client's */
} kl_test_pair_t;


static void
kl_test_end(kl_test_end_t *e, int fd)
{
    memset(e, 0, sizeof(*e));
    cr_assert_neq(fcntl(fd, F_SETFL, O_NONBLOCK), -1);

    e->c.fd = fd;
    e->c.io = &kl_os_io;
    e->c.read = &e->rev;
    e->c.write = &e->wev;
    e->c.log = &e->log;
    e->rev.data = &e->c;
    e->wev.data = &e->c;
    e->rev.log = &e->log;
    e->wev.log = &e->log;
    e->wev.write = 1;
    e->rev.ready = 1;
    e->wev.ready = 1;
}


/* A self-signed P-256 certificate for the server's context. */
static void
kl_test_certificate(SSL_CTX *ctx)
{
    X509     *x;
    EVP_PKEY *pkey;

    pkey = EVP_EC_gen("P-256");
    cr_assert_not_null(pkey);

    x = X509_new();
    cr_assert_not_null(x);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, pkey);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                               (const u_char *) "test", -1, -1, 0);
    X509_set_issuer_name(x, X509_get_subject_name(x));
    cr_assert(X509_sign(x, pkey, EVP_sha256()) > 0);

    cr_assert_eq(SSL_CTX_use_certificate(ctx, x), 1);
    cr_assert_eq(SSL_CTX_use_PrivateKey(ctx, pkey), 1);

    X509_free(x);
    EVP_PKEY_free(pkey);
}


static void
kl_test_done(kl_connection_t *c)
{
    (void) c;
}


static void
kl_test_pair(kl_test_pair_t *p, kl_uint_t flags)
{
    int       sv[2];
    kl_int_t  rs, rk;
    kl_uint_t i;

    memset(p, 0, sizeof(*p));
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    kl_test_end(&p->s, sv[0]);
    kl_test_end(&p->k, sv[1]);

    p->pool = kl_pool_create(4096, &p->s.log);
    cr_assert_not_null(p->pool);

    cr_assert_eq(
        kl_ssl_create(&p->server, KL_SSL_DEFAULT_PROTOCOLS, p->pool, &p->s.log),
        KL_OK);
    cr_assert_eq(
        kl_ssl_create(&p->client, KL_SSL_DEFAULT_PROTOCOLS, p->pool, &p->k.log),
        KL_OK);
    kl_test_certificate(p->server.ctx);

    cr_assert_eq(kl_ssl_create_connection(&p->server, &p->s.c, flags), KL_OK);
    cr_assert_eq(kl_ssl_create_connection(&p->client, &p->k.c, KL_SSL_CLIENT),
                 KL_OK);
    cr_assert_str_eq(p->s.c.io->name, "ssl");
    p->s.c.ssl->handler = kl_test_done;
    p->k.c.ssl->handler = kl_test_done;

    /* Each side in turn until both are done: neither ever blocks. */
    rs = rk = KL_AGAIN;

    for (i = 0; i < 20 && (rs != KL_OK || rk != KL_OK); i++) {
        if (rk != KL_OK) {
            rk = kl_ssl_handshake(&p->k.c);
            cr_assert_neq(rk, KL_ERROR, "client handshake failed");
        }

        if (rs != KL_OK) {
            rs = kl_ssl_handshake(&p->s.c);
            cr_assert_neq(rs, KL_ERROR, "server handshake failed");
        }
    }

    cr_assert_eq(rs, KL_OK, "the server's handshake ends");
    cr_assert_eq(rk, KL_OK, "the client's handshake ends");
    cr_assert(p->s.c.ssl->handshaked && p->k.c.ssl->handshaked);
}


static void
kl_test_pair_free(kl_test_pair_t *p)
{
    kl_ssl_free_connection(&p->s.c);
    kl_ssl_free_connection(&p->k.c);
    close(p->s.c.fd);
    close(p->k.c.fd);
    kl_pool_free(p->pool);
}


/* All the client can read now. */
static size_t
kl_test_read_all(kl_test_end_t *e, u_char *buf, size_t size)
{
    ssize_t n;
    size_t  got;

    got = 0;

    for (;;) {
        n = e->c.io->recv(&e->c, buf + got, size - got);
        if (n <= 0) {
            return got;
        }
        got += (size_t) n;
        if (got == size) {
            return got;
        }
    }
}


Test(ssl, handshake_both_sides)
{
    kl_str_t       s;
    kl_test_pair_t p;

    kl_test_pair(&p, 0);

    cr_assert_eq(kl_ssl_get_protocol(&p.s.c, p.pool, &s), KL_OK);
    cr_assert(s.len == 7 && memcmp(s.data, "TLSv1.3", 7) == 0);
    cr_assert_eq(p.s.c.io->sendfile, 0, "no kTLS on a socketpair");

    kl_test_pair_free(&p);
}


Test(ssl, send_and_recv)
{
    u_char         buf[64];
    ssize_t        n;
    kl_test_pair_t p;

    kl_test_pair(&p, 0);

    n = p.s.c.io->send(&p.s.c, (u_char *) "hello", 5);
    cr_assert_eq(n, 5);
    cr_assert_eq(p.s.c.sent, 5);

    n = p.k.c.io->recv(&p.k.c, buf, sizeof(buf));
    cr_assert_eq(n, 5);
    cr_assert(memcmp(buf, "hello", 5) == 0);

    /* Nothing more: KL_AGAIN, and the ready flag cleared. */
    n = p.k.c.io->recv(&p.k.c, buf, sizeof(buf));
    cr_assert_eq(n, KL_AGAIN);
    cr_assert_eq(p.k.rev.ready, 0);

    kl_test_pair_free(&p);
}


/* 100 buffers of 10 bytes go out as one record, not 100. */
Test(ssl, send_chain_coalesces_small_buffers)
{
    u_char         raw[8192], data[1000];
    ssize_t        n;
    kl_buf_t       bufs[100];
    kl_uint_t      i;
    kl_chain_t     cl[100], *rest;
    kl_test_pair_t p;

    kl_test_pair(&p, KL_SSL_BUFFER);

    /* The client's session ticket(s), so the wire then holds data only. */
    (void) kl_test_read_all(&p.k, raw, sizeof(raw));

    for (i = 0; i < 1000; i++) {
        data[i] = (u_char) ('a' + i % 26);
    }

    for (i = 0; i < 100; i++) {
        memset(&bufs[i], 0, sizeof(kl_buf_t));
        bufs[i].pos = data + 10 * i;
        bufs[i].last = data + 10 * i + 10;
        bufs[i].temporary = 1;
        cl[i].buf = &bufs[i];
        cl[i].next = (i < 99) ? &cl[i + 1] : NULL;
    }

    rest = p.s.c.io->send_chain(&p.s.c, cl, 0);
    cr_assert_null(rest, "all sent");
    cr_assert_eq(p.s.c.sent, 1000);

    /* One TLS 1.3 record: 5 header + 1000 + 1 type + 16 tag bytes. */
    n = recv(p.k.c.fd, raw, sizeof(raw), MSG_PEEK);
    cr_assert_eq(n, 1022, "one record of 1000 bytes (got %zd bytes)", n);

    cr_assert_eq(kl_test_read_all(&p.k, raw, sizeof(raw)), 1000);
    cr_assert(memcmp(raw, data, 1000) == 0);

    kl_test_pair_free(&p);
}


/*
 * 4 MiB through a socket that takes far less: send_chain stops with
 * ready cleared, the rest goes after the client read some, and every
 * byte arrives in order (the write OpenSSL left pending is retried with
 * the same bytes).
 */
Test(ssl, full_socket_then_the_rest)
{
    int            sz;
    u_char        *data, *got;
    size_t         total, len;
    kl_buf_t       b;
    kl_uint_t      i, rounds;
    kl_chain_t     cl, *rest;
    kl_test_pair_t p;

    kl_test_pair(&p, KL_SSL_BUFFER);

    sz = 16384;
    (void) setsockopt(p.s.c.fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));

    len = 4 * 1024 * 1024;
    data = malloc(len);
    got = malloc(len + 65536);
    cr_assert(data && got);

    for (i = 0; i < len; i++) {
        data[i] = (u_char) (i * 7 + i / 4096);
    }

    memset(&b, 0, sizeof(b));
    b.pos = data;
    b.last = data + len;
    b.temporary = 1;
    cl.buf = &b;
    cl.next = NULL;

    rest = &cl;
    total = 0;
    rounds = 0;

    while (rest && rounds < 100000) {
        rounds++;
        p.s.wev.ready = 1;
        rest = p.s.c.io->send_chain(&p.s.c, rest, 0);
        cr_assert_neq(rest, KL_CHAIN_ERROR);

        if (rest) {
            cr_assert_eq(p.s.wev.ready, 0, "stopped: ready cleared");
        }

        total += kl_test_read_all(&p.k, got + total, len + 65536 - total);
    }

    cr_assert_null(rest, "all of it went out");
    cr_assert_gt(rounds, 1, "the socket filled at least once");

    while (total < len) {
        size_t n = kl_test_read_all(&p.k, got + total, len + 65536 - total);
        cr_assert_gt(n, 0);
        total += n;
    }

    cr_assert_eq(total, len);
    cr_assert(memcmp(got, data, len) == 0, "every byte, in order");
    cr_assert_eq(p.s.c.sent, (off_t) len);

    free(data);
    free(got);
    kl_test_pair_free(&p);
}


Test(ssl, close_notify_is_the_end_of_stream)
{
    u_char         buf[16];
    ssize_t        n;
    kl_test_pair_t p;

    kl_test_pair(&p, 0);

    p.s.c.ssl->no_wait_shutdown = 1;
    cr_assert_eq(kl_ssl_shutdown(&p.s.c), KL_OK);
    cr_assert_null(p.s.c.ssl, "the SSL is freed");
    cr_assert_eq(p.s.c.io, &kl_os_io);

    do {
        n = p.k.c.io->recv(&p.k.c, buf, sizeof(buf));
    } while (n > 0);

    cr_assert_eq(n, 0, "close_notify reads as the end");
    cr_assert(p.k.rev.eof);

    kl_ssl_free_connection(&p.k.c);
    close(p.s.c.fd);
    close(p.k.c.fd);
    kl_pool_free(p.pool);
}


/* The client keeps a resumable session once it has read the ticket. */
Test(ssl, client_session)
{
    u_char                 buf[16];
    struct ssl_session_st *sess;
    kl_test_pair_t         p;

    kl_test_pair(&p, 0);

    (void) p.s.c.io->send(&p.s.c, (u_char *) "x", 1);
    (void) kl_test_read_all(&p.k, buf, sizeof(buf));

    sess = kl_ssl_get_session(&p.k.c);
    cr_assert_not_null(sess, "a session to reuse");
    kl_ssl_free_session(sess);

    kl_test_pair_free(&p);
}

#else

Test(ssl, built_without_openssl)
{
    cr_assert_eq(kl_ssl_available(), 0);
}

#endif
