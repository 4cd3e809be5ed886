/* test_socket.c: address parsing (good and bad), ntop round trips, options. */

#include <criterion/criterion.h>
#include <netinet/tcp.h>

#include "kl_config.h"
#include "kl_types.h"
#include "string.h"
#include "socket.h"

typedef struct {
    const char *text;
    int         family;
    const char *addr; /* kl_sock_ntop() without the port */
    unsigned    port;
} good_t;

typedef struct {
    const char *text;
    const char *err;
} bad_t;


static kl_int_t
parse(const char *text, kl_uint_t default_port, kl_sockaddr_t *sa,
      socklen_t *len, const char **err)
{
    kl_str_t s;

    s.data = (u_char *) text;
    s.len = strlen(text);

    return kl_sock_parse(&s, default_port, sa, len, err);
}


Test(socket, parse_good_addresses)
{
    static const good_t good[] = {
        { "127.0.0.1:8080", AF_INET, "127.0.0.1", 8080 },
        { "8080", AF_INET, "0.0.0.0", 8080 },
        { "*:8080", AF_INET, "0.0.0.0", 8080 },
        { "*", AF_INET, "0.0.0.0", 80 },
        { "10.1.2.3", AF_INET, "10.1.2.3", 80 },
        { "192.168.0.1:65535", AF_INET, "192.168.0.1", 65535 },
        { "0.0.0.0:1", AF_INET, "0.0.0.0", 1 },
        { "[::1]:8080", AF_INET6, "::1", 8080 },
        { "[::]:80", AF_INET6, "::", 80 },
        { "[::1]", AF_INET6, "::1", 80 },
        { "[2001:db8::5]:443", AF_INET6, "2001:db8::5", 443 },
        { "localhost:8080", AF_INET, "127.0.0.1", 8080 },
        { "localhost", AF_INET, "127.0.0.1", 80 },
    };
    kl_sockaddr_t sa;
    socklen_t     len;
    const char   *err;
    u_char        text[KL_SOCKADDR_STRLEN];
    size_t        i, n;
    in_port_t     port;

    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        err = "unset";
        cr_assert_eq(parse(good[i].text, 80, &sa, &len, &err), KL_OK,
                     "\"%s\": %s", good[i].text, err ? err : "(null)");
        cr_assert_null(err);
        cr_assert_eq(sa.sockaddr.sa_family, good[i].family, "%s", good[i].text);

        if (good[i].family == AF_INET) {
            cr_assert_eq(len, sizeof(struct sockaddr_in));
            port = ntohs(sa.sockaddr_in.sin_port);

        } else {
            cr_assert_eq(len, sizeof(struct sockaddr_in6));
            port = ntohs(sa.sockaddr_in6.sin6_port);
        }

        cr_assert_eq(port, good[i].port, "%s", good[i].text);

        n = kl_sock_ntop(&sa.sockaddr, len, text, sizeof(text), 0);
        cr_assert_eq(n, strlen(good[i].addr), "%s", good[i].text);
        cr_assert(memcmp(text, good[i].addr, n) == 0, "%s: %.*s", good[i].text,
                  (int) n, text);
    }
}


Test(socket, parse_unix)
{
    kl_sockaddr_t sa;
    socklen_t     len;
    const char   *err;
    u_char        text[200];
    size_t        n;

    cr_assert_eq(parse("unix:/run/kiln.sock", 80, &sa, &len, &err), KL_OK);
    cr_assert_eq(sa.sockaddr.sa_family, AF_UNIX);
    cr_assert_str_eq(sa.sockaddr_un.sun_path, "/run/kiln.sock");

    n = kl_sock_ntop(&sa.sockaddr, len, text, sizeof(text), 1);
    cr_assert_eq(n, strlen("unix:/run/kiln.sock"));
    cr_assert(memcmp(text, "unix:/run/kiln.sock", n) == 0);
}


Test(socket, parse_bad_addresses)
{
    static const bad_t bad[] = {
        { "127.0.0.1:0", "invalid port" },
        { "127.0.0.1:65536", "invalid port" },
        { "127.0.0.1:99999999999999999999999", "invalid port" },
        { "127.0.0.1:", "invalid port" },
        { "127.0.0.1:80a", "invalid port" },
        { "127.0.0.1:-1", "invalid port" },
        { "0", "invalid port" },
        { "65536", "invalid port" },
        { "[::1]:0", "invalid port" },
        { "[::1]:", "invalid port" },
        { ":8080", "no host" },
        { "", "no host" },
        { "::1", "invalid host" },
        { "1.2.3.4:5:6", "invalid host" },
        { "[::1", "invalid host" },
        { "[::1]80", "invalid host" },
        { "[]:80", "invalid IPv6 address" },
        { "[1.2.3.4]:80", "invalid IPv6 address" },
        { "[::g]:80", "invalid IPv6 address" },
        { "127.1:80", "invalid host" },
        { "256.1.1.1:80", "invalid host" },
        { "bad host:80", "invalid host" },
        { "bad/host", "invalid host" },
        { "no-such-host.invalid:80", "host not found" },
        { "unix:", "no path in the unix domain socket" },
    };
    kl_sockaddr_t sa;
    socklen_t     len;
    const char   *err;
    size_t        i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err = NULL;
        cr_assert_eq(parse(bad[i].text, 80, &sa, &len, &err), KL_ERROR,
                     "accepted \"%s\"", bad[i].text);
        cr_assert_not_null(err, "%s", bad[i].text);
        cr_assert_str_eq(err, bad[i].err, "\"%s\"", bad[i].text);
    }

    /* with no default, a missing port is an error */
    cr_assert_eq(parse("127.0.0.1", 0, &sa, &len, &err), KL_ERROR);
    cr_assert_str_eq(err, "invalid port");
}


Test(socket, parse_long_unix_path)
{
    char          text[300];
    kl_sockaddr_t sa;
    socklen_t     len;
    const char   *err;

    memcpy(text, "unix:", 5);
    memset(text + 5, 'x', sizeof(text) - 6);
    text[sizeof(text) - 1] = '\0';

    cr_assert_eq(parse(text, 80, &sa, &len, &err), KL_ERROR);
    cr_assert_str_eq(err, "too long path in the unix domain socket");
}


Test(socket, ntop_with_port_round_trips)
{
    static const char *texts[] = {
        "127.0.0.1:8080",     "255.255.255.255:65535",
        "0.0.0.0:1",          "[::1]:80",
        "[2001:db8::1]:8443", "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535",
    };
    kl_sockaddr_t sa, sa2;
    socklen_t     len, len2;
    const char   *err;
    u_char        text[KL_SOCKADDR_STRLEN];
    kl_str_t      s;
    size_t        i, n;

    for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        cr_assert_eq(parse(texts[i], 80, &sa, &len, &err), KL_OK, "%s",
                     texts[i]);

        n = kl_sock_ntop(&sa.sockaddr, len, text, sizeof(text), 1);
        cr_assert_eq(n, strlen(texts[i]));
        cr_assert(memcmp(text, texts[i], n) == 0, "%.*s", (int) n, text);

        s.data = text;
        s.len = n;
        cr_assert_eq(kl_sock_parse(&s, 80, &sa2, &len2, &err), KL_OK);
        cr_assert_eq(len2, len);
        cr_assert(kl_sock_cmp(&sa.sockaddr, len, &sa2.sockaddr, len2));
    }
}


/* The direct-digit IPv4 path against snprintf, octet and port edges. */
Test(socket, ntop_ipv4_matches_printf)
{
    static const unsigned octets[] = { 0, 1, 9, 10, 99, 100, 199, 255 };
    static const unsigned ports[] = { 0, 1, 9, 10, 80, 8080, 65535 };
    struct sockaddr_in    sin;
    u_char                text[KL_SOCKADDR_STRLEN];
    char                  want[64];
    size_t                i, j, n;
    unsigned              o;

    for (i = 0; i < sizeof(octets) / sizeof(octets[0]); i++) {
        for (j = 0; j < sizeof(ports) / sizeof(ports[0]); j++) {
            o = octets[i];
            memset(&sin, 0, sizeof(sin));
            sin.sin_family = AF_INET;
            sin.sin_port = htons((uint16_t) ports[j]);
            sin.sin_addr.s_addr = htonl((o << 24) | ((255 - o) << 16) | (o << 8)
                                        | ((o * 7) & 0xff));

            snprintf(want, sizeof(want), "%u.%u.%u.%u:%u", o, 255 - o, o,
                     (o * 7) & 0xff, ports[j]);

            n = kl_sock_ntop((struct sockaddr *) &sin, sizeof(sin), text,
                             sizeof(text), 1);
            cr_assert_eq(n, strlen(want));
            cr_assert(memcmp(text, want, n) == 0, "%s", want);

            *strchr(want, ':') = '\0';
            n = kl_sock_ntop((struct sockaddr *) &sin, sizeof(sin), text,
                             sizeof(text), 0);
            cr_assert_eq(n, strlen(want));
            cr_assert(memcmp(text, want, n) == 0, "%s", want);
        }
    }
}


Test(socket, ntop_truncates)
{
    kl_sockaddr_t sa;
    socklen_t     len;
    const char   *err;
    u_char        text[32];

    cr_assert_eq(parse("[2001:db8::1]:8443", 80, &sa, &len, &err), KL_OK);

    memset(text, '#', sizeof(text));
    cr_assert_eq(kl_sock_ntop(&sa.sockaddr, len, text, 6, 1), 6);
    cr_assert(memcmp(text, "[2001:#", 7) == 0);
}


Test(socket, cmp)
{
    kl_sockaddr_t a, b;
    socklen_t     alen, blen;
    const char   *err;

    parse("127.0.0.1:80", 80, &a, &alen, &err);
    parse("127.0.0.1:81", 80, &b, &blen, &err);
    cr_assert_not(kl_sock_cmp(&a.sockaddr, alen, &b.sockaddr, blen));

    parse("127.0.0.2:80", 80, &b, &blen, &err);
    cr_assert_not(kl_sock_cmp(&a.sockaddr, alen, &b.sockaddr, blen));

    parse("[::1]:80", 80, &b, &blen, &err);
    cr_assert_not(kl_sock_cmp(&a.sockaddr, alen, &b.sockaddr, blen));

    parse("127.0.0.1", 80, &b, &blen, &err);
    cr_assert(kl_sock_cmp(&a.sockaddr, alen, &b.sockaddr, blen));

    parse("unix:/a", 80, &a, &alen, &err);
    parse("unix:/a", 80, &b, &blen, &err);
    cr_assert(kl_sock_cmp(&a.sockaddr, alen, &b.sockaddr, blen));
    parse("unix:/b", 80, &b, &blen, &err);
    cr_assert_not(kl_sock_cmp(&a.sockaddr, alen, &b.sockaddr, blen));
}


Test(socket, options)
{
    int       s, flags, v;
    socklen_t len;

    s = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(s, 0);

    cr_assert_eq(kl_socket_nonblocking(s), 0);
    flags = fcntl(s, F_GETFL);
    cr_assert(flags & O_NONBLOCK);

    cr_assert_eq(kl_socket_blocking(s), 0);
    flags = fcntl(s, F_GETFL);
    cr_assert_not(flags & O_NONBLOCK);

    cr_assert_eq(kl_socket_tcp_nodelay(s, 1), 0);
    len = sizeof(v);
    getsockopt(s, IPPROTO_TCP, TCP_NODELAY, &v, &len);
    cr_assert(v);

    cr_assert_eq(kl_socket_tcp_nopush(s, 1), 0);
    len = sizeof(v);
    getsockopt(s, IPPROTO_TCP, TCP_CORK, &v, &len);
    cr_assert(v);
    cr_assert_eq(kl_socket_tcp_nopush(s, 0), 0);
    getsockopt(s, IPPROTO_TCP, TCP_CORK, &v, &len);
    cr_assert_not(v);

    close(s);

    cr_assert_eq(kl_socket_nonblocking(s), -1);
    cr_assert_eq(errno, EBADF);
}
