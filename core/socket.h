/* socket.h: socket helpers that return errors instead of logging them. */

#ifndef KL_SOCKET_H
#define KL_SOCKET_H

#include "kl_config.h"
#include "kl_types.h"
#include "string.h"

#include <sys/un.h>

#define KL_SOCKADDR_STRLEN                                                     \
    (sizeof("[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]:65535") - 1)

typedef union {
    struct sockaddr         sockaddr;
    struct sockaddr_in      sockaddr_in;
    struct sockaddr_in6     sockaddr_in6;
    struct sockaddr_un      sockaddr_un;
    struct sockaddr_storage storage;
} kl_sockaddr_t;

/* 0 or -1 with errno set. */
int kl_socket_nonblocking(kl_fd_t s);
int kl_socket_blocking(kl_fd_t s);
int kl_socket_tcp_nodelay(kl_fd_t s, int on);
int kl_socket_tcp_nopush(kl_fd_t s, int on);

/*
 * Text of an address: "1.2.3.4:80", "[::1]:80" (with port) or without it.
 * Returns the length written (no NUL), at most len.
 */
size_t kl_sock_ntop(struct sockaddr *sa, socklen_t socklen, u_char *text,
                    size_t len, kl_uint_t port);

/* The port of an AF_INET or AF_INET6 address (host order); 0 for others. */
kl_uint_t kl_sock_get_port(struct sockaddr *sa);
void      kl_sock_set_port(struct sockaddr *sa, kl_uint_t port);

/* Same address and port? */
kl_uint_t kl_sock_cmp(struct sockaddr *a, socklen_t alen, struct sockaddr *b,
                      socklen_t blen);

/*
 * Parse "addr:port", "port", "*:port", "[v6]:port", "[v6]", "unix:path",
 * "localhost:port" (resolved) into sa; KL_OK, or KL_ERROR with *err set to a
 * phrase such as "invalid port" or "host not found".
 */
kl_int_t kl_sock_parse(kl_str_t *text, kl_uint_t default_port,
                       kl_sockaddr_t *sa, socklen_t *socklen, const char **err);

/*
 * As kl_sock_parse, but a host name gives every address it resolves to
 * (IPv4 ones first, as nginx orders them), in *addrs and *socklens (pool
 * arrays of *naddrs). A bare port ("8080") is refused: "invalid host".
 */
kl_int_t kl_sock_parse_all(kl_pool_t *pool, kl_str_t *text,
                           kl_uint_t default_port, kl_sockaddr_t **addrs,
                           socklen_t **socklens, kl_uint_t *naddrs,
                           const char **err);

#endif /* KL_SOCKET_H */
