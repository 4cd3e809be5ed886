/* socket.c: socket options, address text and address parsing; never logs. */

/*
 * Like redis's anet, these helpers report failure to their caller (errno
 * or an error phrase) and leave the wording of the log line to it.
 */

#include "kl_config.h"
#include "kl_types.h"
#include "string.h"
#include "socket.h"
#include "pool.h"

#include <netdb.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>

static kl_int_t kl_sock_parse_unix(u_char *p, u_char *last, kl_sockaddr_t *sa,
                                   socklen_t *socklen, const char **err);
static kl_int_t kl_sock_parse_inet6(u_char *p, u_char *last,
                                    kl_uint_t default_port, kl_sockaddr_t *sa,
                                    socklen_t *socklen, const char **err);
static kl_int_t kl_sock_parse_port(u_char *p, u_char *last,
                                   kl_uint_t default_port, const char **err);
static kl_int_t kl_sock_parse_host(u_char *p, size_t hlen, uint16_t port,
                                   kl_sockaddr_t *sa, socklen_t *socklen,
                                   const char **err);
static kl_int_t kl_sock_resolve(char *host, kl_sockaddr_t *sa,
                                socklen_t *socklen);
static kl_int_t kl_sock_resolve_all(kl_pool_t *pool, char *host,
                                    kl_sockaddr_t *first, kl_sockaddr_t **addrs,
                                    socklen_t **socklens, kl_uint_t *naddrs);


int
kl_socket_nonblocking(kl_fd_t s)
{
    int nb;

    nb = 1;

    return ioctl(s, FIONBIO, &nb);
}


int
kl_socket_blocking(kl_fd_t s)
{
    int nb;

    nb = 0;

    return ioctl(s, FIONBIO, &nb);
}


int
kl_socket_tcp_nodelay(kl_fd_t s, int on)
{
    return setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(int));
}


int
kl_socket_tcp_nopush(kl_fd_t s, int on)
{
    return setsockopt(s, IPPROTO_TCP, TCP_CORK, &on, sizeof(int));
}


/* IPv6 gets brackets only with a port, as nginx prints it: "[::1]:80". */
size_t
kl_sock_ntop(struct sockaddr *sa, socklen_t socklen, u_char *text, size_t len,
             kl_uint_t port)
{
    u_char              *p, *a;
    size_t               n;
    struct sockaddr_in  *sin;
    struct sockaddr_in6 *sin6;
    struct sockaddr_un  *saun;
    char                 addr[INET6_ADDRSTRLEN];

    switch (sa->sa_family) {

    case AF_INET:
        sin = (struct sockaddr_in *) sa;
        a = (u_char *) &sin->sin_addr;

        /* Every accept prints one: digits directly, not through printf. */
        if (len >= sizeof("255.255.255.255:65535") - 1) {
            p = kl_sprint_uint(text, a[0]);
            *p++ = '.';
            p = kl_sprint_uint(p, a[1]);
            *p++ = '.';
            p = kl_sprint_uint(p, a[2]);
            *p++ = '.';
            p = kl_sprint_uint(p, a[3]);

            if (port) {
                *p++ = ':';
                p = kl_sprint_uint(p, ntohs(sin->sin_port));
            }

            return (size_t) (p - text);
        }

        p = kl_slprintf(text, text + len, "%ud.%ud.%ud.%ud", (unsigned) a[0],
                        (unsigned) a[1], (unsigned) a[2], (unsigned) a[3]);

        if (port) {
            p = kl_slprintf(p, text + len, ":%ud",
                            (unsigned) ntohs(sin->sin_port));
        }

        return (size_t) (p - text);

    case AF_INET6:
        sin6 = (struct sockaddr_in6 *) sa;

        if (inet_ntop(AF_INET6, &sin6->sin6_addr, addr, sizeof(addr)) == NULL) {
            return 0;
        }

        if (port) {
            p = kl_slprintf(text, text + len, "[%s]:%ud", addr,
                            (unsigned) ntohs(sin6->sin6_port));

        } else {
            p = kl_slprintf(text, text + len, "%s", addr);
        }

        return (size_t) (p - text);

    case AF_UNIX:
        saun = (struct sockaddr_un *) sa;

        n = 0;

        if (socklen > offsetof(struct sockaddr_un, sun_path)) {
            n = socklen - offsetof(struct sockaddr_un, sun_path);
            n = strnlen(saun->sun_path, kl_min(n, sizeof(saun->sun_path)));
        }

        p = kl_slprintf(text, text + len, "unix:%*s", n,
                        (u_char *) saun->sun_path);

        return (size_t) (p - text);

    default:
        return 0;
    }
}


kl_uint_t
kl_sock_get_port(struct sockaddr *sa)
{
    switch (sa->sa_family) {
    case AF_INET:
        return ntohs(((struct sockaddr_in *) sa)->sin_port);
    case AF_INET6:
        return ntohs(((struct sockaddr_in6 *) sa)->sin6_port);
    default:
        return 0;
    }
}


void
kl_sock_set_port(struct sockaddr *sa, kl_uint_t port)
{
    switch (sa->sa_family) {
    case AF_INET:
        ((struct sockaddr_in *) sa)->sin_port = htons((uint16_t) port);
        break;
    case AF_INET6:
        ((struct sockaddr_in6 *) sa)->sin6_port = htons((uint16_t) port);
        break;
    default:
        break;
    }
}


kl_uint_t
kl_sock_cmp(struct sockaddr *a, socklen_t alen, struct sockaddr *b,
            socklen_t blen)
{
    size_t               na, nb;
    struct sockaddr_in  *sin1, *sin2;
    struct sockaddr_in6 *sin61, *sin62;
    struct sockaddr_un  *saun1, *saun2;

    if (a->sa_family != b->sa_family) {
        return 0;
    }

    switch (a->sa_family) {

    case AF_INET:
        sin1 = (struct sockaddr_in *) a;
        sin2 = (struct sockaddr_in *) b;

        return sin1->sin_port == sin2->sin_port
               && sin1->sin_addr.s_addr == sin2->sin_addr.s_addr;

    case AF_INET6:
        sin61 = (struct sockaddr_in6 *) a;
        sin62 = (struct sockaddr_in6 *) b;

        return sin61->sin6_port == sin62->sin6_port
               && memcmp(&sin61->sin6_addr, &sin62->sin6_addr, 16) == 0;

    case AF_UNIX:
        saun1 = (struct sockaddr_un *) a;
        saun2 = (struct sockaddr_un *) b;

        na = (alen > offsetof(struct sockaddr_un, sun_path))
                 ? alen - offsetof(struct sockaddr_un, sun_path)
                 : 0;
        nb = (blen > offsetof(struct sockaddr_un, sun_path))
                 ? blen - offsetof(struct sockaddr_un, sun_path)
                 : 0;

        na = strnlen(saun1->sun_path, kl_min(na, sizeof(saun1->sun_path)));
        nb = strnlen(saun2->sun_path, kl_min(nb, sizeof(saun2->sun_path)));

        return na == nb && memcmp(saun1->sun_path, saun2->sun_path, na) == 0;

    default:
        return 0;
    }
}


/*
 * IPv4 forms: "addr:port", "addr", "port", "*:port", "name:port", "name".
 * A bare IPv6 address must be bracketed, since its colons would be taken
 * for the port separator.  Names are resolved with getaddrinfo(), the
 * first IPv4 answer preferred; only letters, digits, '-', '_' and '.' are
 * let through to the resolver, and an all-numeric name that is not a
 * dotted quad ("127.1") is refused rather than read the inet_aton() way.
 */
kl_int_t
kl_sock_parse(kl_str_t *text, kl_uint_t default_port, kl_sockaddr_t *sa,
              socklen_t *socklen, const char **err)
{
    u_char   *p, *last, *colon, *host_end;
    size_t    i, hlen;
    kl_int_t  port;
    kl_uint_t digits;

    *err = NULL;
    kl_memzero(sa, sizeof(kl_sockaddr_t));

    p = text->data;
    last = p + text->len;

    if (text->len >= 5 && kl_strncmp(p, "unix:", 5) == 0) {
        return kl_sock_parse_unix(p + 5, last, sa, socklen, err);
    }

    if (text->len && p[0] == '[') {
        return kl_sock_parse_inet6(p, last, default_port, sa, socklen, err);
    }

    colon = NULL;
    digits = (text->len != 0);

    for (i = 0; i < text->len; i++) {
        if (p[i] == ':') {
            if (colon) {
                *err = "invalid host";
                return KL_ERROR;
            }

            colon = p + i;
        }

        if (p[i] < '0' || p[i] > '9') {
            digits = 0;
        }
    }

    if (colon) {
        host_end = colon;
        port = kl_sock_parse_port(colon + 1, last, 0, err);

    } else if (digits) {
        host_end = p;
        port = kl_sock_parse_port(p, last, 0, err);

    } else {
        host_end = last;
        port = kl_sock_parse_port(last, last, default_port, err);
    }

    if (port == KL_ERROR) {
        return KL_ERROR;
    }

    hlen = (size_t) (host_end - p);

    sa->sockaddr_in.sin_family = AF_INET;
    sa->sockaddr_in.sin_port = htons((uint16_t) port);
    *socklen = sizeof(struct sockaddr_in);

    if (!colon && digits) {
        sa->sockaddr_in.sin_addr.s_addr = htonl(INADDR_ANY);
        return KL_OK;
    }

    if (hlen == 0) {
        *err = "no host";
        return KL_ERROR;
    }

    if (hlen == 1 && p[0] == '*') {
        sa->sockaddr_in.sin_addr.s_addr = htonl(INADDR_ANY);
        return KL_OK;
    }

    return kl_sock_parse_host(p, hlen, (uint16_t) port, sa, socklen, err);
}


/* A dotted quad or a name to resolve; sa holds AF_INET and the port. */
static kl_int_t
kl_sock_parse_host(u_char *p, size_t hlen, uint16_t port, kl_sockaddr_t *sa,
                   socklen_t *socklen, const char **err)
{
    size_t    i;
    kl_uint_t numeric;
    char      host[NI_MAXHOST];

    if (hlen >= sizeof(host)) {
        *err = "invalid host";
        return KL_ERROR;
    }

    numeric = 1;

    for (i = 0; i < hlen; i++) {
        if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z')
              || (p[i] >= '0' && p[i] <= '9') || p[i] == '-' || p[i] == '_'
              || p[i] == '.'))
        {
            *err = "invalid host";
            return KL_ERROR;
        }

        if (!((p[i] >= '0' && p[i] <= '9') || p[i] == '.')) {
            numeric = 0;
        }
    }

    kl_memcpy(host, p, hlen);
    host[hlen] = '\0';

    if (inet_pton(AF_INET, host, &sa->sockaddr_in.sin_addr) == 1) {
        return KL_OK;
    }

    if (numeric) {
        *err = "invalid host";
        return KL_ERROR;
    }

    if (kl_sock_resolve(host, sa, socklen) != KL_OK) {
        *err = "host not found";
        return KL_ERROR;
    }

    if (sa->sockaddr.sa_family == AF_INET6) {
        sa->sockaddr_in6.sin6_port = htons(port);

    } else {
        sa->sockaddr_in.sin_port = htons(port);
    }

    return KL_OK;
}


static kl_int_t
kl_sock_parse_unix(u_char *p, u_char *last, kl_sockaddr_t *sa,
                   socklen_t *socklen, const char **err)
{
    size_t len;

    len = (size_t) (last - p);

    if (len == 0) {
        *err = "no path in the unix domain socket";
        return KL_ERROR;
    }

    if (len >= sizeof(sa->sockaddr_un.sun_path)) {
        *err = "too long path in the unix domain socket";
        return KL_ERROR;
    }

    if (memchr(p, '\0', len) != NULL) {
        *err = "invalid path in the unix domain socket";
        return KL_ERROR;
    }

    sa->sockaddr_un.sun_family = AF_UNIX;
    kl_memcpy(sa->sockaddr_un.sun_path, p, len);
    sa->sockaddr_un.sun_path[len] = '\0';

    *socklen = sizeof(struct sockaddr_un);

    return KL_OK;
}


/* "[addr]" or "[addr]:port" */
static kl_int_t
kl_sock_parse_inet6(u_char *p, u_char *last, kl_uint_t default_port,
                    kl_sockaddr_t *sa, socklen_t *socklen, const char **err)
{
    u_char  *rb;
    size_t   len;
    kl_int_t port;
    char     addr[INET6_ADDRSTRLEN];

    rb = memchr(p, ']', (size_t) (last - p));

    if (rb == NULL) {
        *err = "invalid host";
        return KL_ERROR;
    }

    len = (size_t) (rb - p - 1);

    if (len == 0 || len >= sizeof(addr)) {
        *err = "invalid IPv6 address";
        return KL_ERROR;
    }

    kl_memcpy(addr, p + 1, len);
    addr[len] = '\0';

    if (inet_pton(AF_INET6, addr, &sa->sockaddr_in6.sin6_addr) != 1) {
        *err = "invalid IPv6 address";
        return KL_ERROR;
    }

    rb++;

    if (rb == last) {
        port = kl_sock_parse_port(last, last, default_port, err);

    } else if (*rb == ':') {
        port = kl_sock_parse_port(rb + 1, last, 0, err);

    } else {
        *err = "invalid host";
        return KL_ERROR;
    }

    if (port == KL_ERROR) {
        return KL_ERROR;
    }

    sa->sockaddr_in6.sin6_family = AF_INET6;
    sa->sockaddr_in6.sin6_port = htons((uint16_t) port);
    *socklen = sizeof(struct sockaddr_in6);

    return KL_OK;
}


/* The port in [p, last), or default_port when that is empty; 1..65535. */
static kl_int_t
kl_sock_parse_port(u_char *p, u_char *last, kl_uint_t default_port,
                   const char **err)
{
    kl_int_t port;

    if (p == last) {
        port = (default_port <= 65535) ? (kl_int_t) default_port : 0;

    } else {
        port = kl_atoi(p, (size_t) (last - p));
    }

    if (port < 1 || port > 65535) {
        *err = "invalid port";
        return KL_ERROR;
    }

    return port;
}


static kl_int_t
kl_sock_resolve(char *host, kl_sockaddr_t *sa, socklen_t *socklen)
{
    struct addrinfo hints, *res, *rp, *found;

    kl_memzero(&hints, sizeof(struct addrinfo));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;

    if (getaddrinfo(host, NULL, &hints, &res) != 0) {
        return KL_ERROR;
    }

    found = NULL;

    for (rp = res; rp; rp = rp->ai_next) {
        if (rp->ai_family == AF_INET) {
            found = rp;
            break;
        }

        if (rp->ai_family == AF_INET6 && found == NULL) {
            found = rp;
        }
    }

    if (found == NULL || found->ai_addrlen > sizeof(kl_sockaddr_t)) {
        freeaddrinfo(res);
        return KL_ERROR;
    }

    kl_memzero(sa, sizeof(kl_sockaddr_t));
    kl_memcpy(sa, found->ai_addr, found->ai_addrlen);
    *socklen = found->ai_addrlen;

    freeaddrinfo(res);

    return KL_OK;
}


/*
 * kl_sock_parse checks the text and gives the port; a name is then
 * resolved again for all of its addresses (configuration time only).
 */
kl_int_t
kl_sock_parse_all(kl_pool_t *pool, kl_str_t *text, kl_uint_t default_port,
                  kl_sockaddr_t **addrs, socklen_t **socklens,
                  kl_uint_t *naddrs, const char **err)
{
    u_char        *p, *colon;
    size_t         i, hlen;
    kl_uint_t      digits;
    kl_sockaddr_t  sa;
    socklen_t      socklen;
    struct in_addr in;
    char           host[NI_MAXHOST];

    p = text->data;
    digits = (text->len != 0);

    for (i = 0; i < text->len; i++) {
        if (p[i] < '0' || p[i] > '9') {
            digits = 0;
        }
    }

    if (digits) {
        *err = "invalid host";
        return KL_ERROR;
    }

    if (kl_sock_parse(text, default_port, &sa, &socklen, err) != KL_OK) {
        return KL_ERROR;
    }

    colon = memchr(p, ':', text->len);
    hlen = colon ? (size_t) (colon - p) : text->len;

    if (sa.sockaddr.sa_family == AF_UNIX || (text->len && p[0] == '[')
        || hlen >= sizeof(host))
    {
        goto one;
    }

    kl_memcpy(host, p, hlen);
    host[hlen] = '\0';

    if (inet_pton(AF_INET, host, &in) == 1 || (hlen == 1 && p[0] == '*')) {
        goto one;
    }

    if (kl_sock_resolve_all(pool, host, &sa, addrs, socklens, naddrs) != KL_OK)
    {
        *err = "host not found";
        return KL_ERROR;
    }

    return KL_OK;

one:

    *addrs = kl_palloc(pool, sizeof(kl_sockaddr_t));
    *socklens = kl_palloc(pool, sizeof(socklen_t));

    if (*addrs == NULL || *socklens == NULL) {
        *err = "out of memory";
        return KL_ERROR;
    }

    **addrs = sa;
    **socklens = socklen;
    *naddrs = 1;

    return KL_OK;
}


/* first: what kl_sock_parse made of the text, for its port. */
static kl_int_t
kl_sock_resolve_all(kl_pool_t *pool, char *host, kl_sockaddr_t *first,
                    kl_sockaddr_t **addrs, socklen_t **socklens,
                    kl_uint_t *naddrs)
{
    int             pass, family;
    uint16_t        port;
    kl_uint_t       n;
    struct addrinfo hints, *res, *rp;

    port = (first->sockaddr.sa_family == AF_INET6)
               ? first->sockaddr_in6.sin6_port
               : first->sockaddr_in.sin_port;

    kl_memzero(&hints, sizeof(struct addrinfo));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;

    if (getaddrinfo(host, NULL, &hints, &res) != 0) {
        return KL_ERROR;
    }

    n = 0;

    for (rp = res; rp; rp = rp->ai_next) {
        if ((rp->ai_family == AF_INET || rp->ai_family == AF_INET6)
            && rp->ai_addrlen <= sizeof(kl_sockaddr_t))
        {
            n++;
        }
    }

    *addrs = (n == 0) ? NULL : kl_pcalloc(pool, n * sizeof(kl_sockaddr_t));
    *socklens = (n == 0) ? NULL : kl_palloc(pool, n * sizeof(socklen_t));

    if (*addrs == NULL || *socklens == NULL) {
        freeaddrinfo(res);
        return KL_ERROR;
    }

    n = 0;

    for (pass = 0; pass < 2; pass++) {
        family = (pass == 0) ? AF_INET : AF_INET6;

        for (rp = res; rp; rp = rp->ai_next) {
            if (rp->ai_family != family
                || rp->ai_addrlen > sizeof(kl_sockaddr_t)) {
                continue;
            }

            kl_memcpy(&(*addrs)[n], rp->ai_addr, rp->ai_addrlen);
            (*socklens)[n] = rp->ai_addrlen;

            if (family == AF_INET) {
                (*addrs)[n].sockaddr_in.sin_port = port;

            } else {
                (*addrs)[n].sockaddr_in6.sin6_port = port;
            }

            n++;
        }
    }

    freeaddrinfo(res);
    *naddrs = n;

    return KL_OK;
}
