/* ssl_ocsp.h: a worker's OCSP fetcher for stapling: one certificate's status asked of its responder over HTTP/1.0, kept until its next update. */

#ifndef KL_SSL_OCSP_H
#define KL_SSL_OCSP_H

#include "kl_core.h"
#include "resolver.h"

#include <openssl/ocsp.h>

/*
 * One certificate of a server, set up at config time; the worker's copy
 * (after fork) keeps the staple it fetched: DER bytes (malloc'ed), good
 * until valid, fetched again from refresh on (nginx's schedule: an hour
 * before next update at most, never sooner than 5 minutes; 5 minutes
 * after an error).
 */
typedef struct {
    X509        *cert;
    X509        *issuer;
    OCSP_CERTID *id;
    STACK_OF(X509) * chain; /* the server's chain, for OCSP_basic_verify */
    SSL_CTX *ssl_ctx;
    u_char  *name; /* the certificate's subject, for logs */

    kl_str_t  host;
    kl_str_t  uri;
    kl_uint_t port;

    kl_sockaddr_t *addrs; /* the host, resolved at config time */
    socklen_t     *socklens;
    kl_uint_t      naddrs;

    kl_resolver_t *resolver; /* NULL: none defined */
    kl_msec_t      resolver_timeout;
    kl_msec_t      timeout;
    kl_log_t      *log;

    u_char *staple;
    size_t  staple_len;
    time_t  valid;
    time_t  refresh;

    unsigned verify:1;
    unsigned numeric:1; /* host is an address: nothing to resolve */
    unsigned loading:1;
} kl_ssl_staple_t;

/* Start fetching st's response (st->loading until it ends); logs errors. */
void kl_ssl_ocsp_fetch(kl_ssl_staple_t *st);

#endif /* KL_SSL_OCSP_H */
