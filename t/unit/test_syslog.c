/* test_syslog.c: the "syslog:" parameter parser, the RFC 3164 header, sending. */

#include <criterion/criterion.h>
#include <sys/socket.h>

#include "kl_config.h"
#include "kl_types.h"
#include "string.h"
#include "conf.h"
#include "syslog.h"


static const char *
parse(const char *text, kl_syslog_peer_t *peer, kl_str_t *bad)
{
    return kl_syslog_parse((u_char *) text, strlen(text), peer, bad);
}


Test(syslog, parse_every_parameter)
{
    kl_syslog_peer_t peer;
    kl_str_t         bad;

    cr_assert_null(parse("server=127.0.0.1:5140,facility=daemon,"
                         "severity=notice,tag=web_1,nohostname",
                         &peer, &bad));
    cr_assert_eq(peer.server.len, strlen("127.0.0.1:5140"));
    cr_assert(memcmp(peer.server.data, "127.0.0.1:5140", 14) == 0);
    cr_assert_eq(peer.facility, 3);
    cr_assert_eq(peer.severity, 5);
    cr_assert_eq(peer.tag.len, 5);
    cr_assert(memcmp(peer.tag.data, "web_1", 5) == 0);
    cr_assert_eq(peer.nohostname, 1);

    /* only server=: the rest stays unset for kl_syslog_conf's defaults */
    cr_assert_null(parse("server=unix:/dev/log", &peer, &bad));
    cr_assert_eq(peer.facility, KL_CONF_UNSET_UINT);
    cr_assert_eq(peer.severity, KL_CONF_UNSET_UINT);
    cr_assert_null(peer.tag.data);
    cr_assert_eq(peer.nohostname, 0);

    /* any order */
    cr_assert_null(parse("tag=X,server=[::1]", &peer, &bad));
    cr_assert_eq(peer.server.len, 5);
}


Test(syslog, facilities_and_severities_by_number)
{
    static const char *fac[] = { "kern",   "user",   "mail",     "daemon",
                                 "auth",   "intern", "lpr",      "news",
                                 "uucp",   "clock",  "authpriv", "ftp",
                                 "ntp",    "audit",  "alert",    "cron",
                                 "local0", "local1", "local2",   "local3",
                                 "local4", "local5", "local6",   "local7" };
    static const char *sev[] = { "emerg", "alert",  "crit", "error",
                                 "warn",  "notice", "info", "debug" };
    kl_syslog_peer_t   peer;
    kl_str_t           bad;
    char               text[64];
    size_t             i;

    for (i = 0; i < sizeof(fac) / sizeof(fac[0]); i++) {
        snprintf(text, sizeof(text), "server=a,facility=%s", fac[i]);
        cr_assert_null(parse(text, &peer, &bad), "%s", text);
        cr_assert_eq(peer.facility, i, "%s", text);
    }

    for (i = 0; i < sizeof(sev) / sizeof(sev[0]); i++) {
        snprintf(text, sizeof(text), "server=a,severity=%s", sev[i]);
        cr_assert_null(parse(text, &peer, &bad), "%s", text);
        cr_assert_eq(peer.severity, i, "%s", text);
    }
}


Test(syslog, parse_errors_in_nginx_words)
{
    static const struct {
        const char *text;
        const char *err;
        const char *bad;
    } cases[] = {
        { "", "unknown syslog parameter", "" },
        { "facility=local7", "no syslog server specified", NULL },
        { "server=a,server=b", "duplicate syslog", "server" },
        { "server=a,facility=local8", "unknown syslog facility", "local8" },
        { "server=a,facility=Local7", "unknown syslog facility", "Local7" },
        { "server=a,facility=kern,facility=user", "duplicate syslog",
          "facility" },
        { "server=a,severity=warning", "unknown syslog severity", "warning" },
        { "server=a,severity=info,severity=info", "duplicate syslog",
          "severity" },
        { "server=a,tag=a-b",
          "syslog \"tag\" only allows alphanumeric "
          "characters and underscore",
          NULL },
        { "server=a,tag=0123456789012345678901234567890123",
          "syslog tag length exceeds 32", NULL },
        { "server=a,tag=x,tag=y", "duplicate syslog", "tag" },
        { "server=a,nohostnames", "unknown syslog parameter", "nohostnames" },
        { "server=a,", "unknown syslog parameter", "" },
        { "server=a,,tag=x", "unknown syslog parameter", "" },
        { "host=a", "unknown syslog parameter", "host=a" },
    };
    kl_syslog_peer_t peer;
    kl_str_t         bad;
    const char      *err;
    size_t           i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        err = parse(cases[i].text, &peer, &bad);
        cr_assert_not_null(err, "\"%s\"", cases[i].text);
        cr_assert_str_eq(err, cases[i].err, "\"%s\"", cases[i].text);

        if (cases[i].bad == NULL) {
            cr_assert_eq(bad.len, 0, "\"%s\"", cases[i].text);
            continue;
        }

        cr_assert_eq(bad.len, strlen(cases[i].bad), "\"%s\"", cases[i].text);
        cr_assert(memcmp(bad.data, cases[i].bad, bad.len) == 0, "\"%s\"",
                  cases[i].text);
    }

    /* 32 characters is the limit, not over it */
    cr_assert_null(
        parse("server=a,tag=01234567890123456789012345678901", &peer, &bad));
}


static void
utc(void)
{
    setenv("TZ", "UTC", 1);
    tzset();
}


Test(syslog, header_as_nginx_writes_it, .init = utc)
{
    kl_syslog_peer_t peer;
    kl_str_t         host = kl_string("web.example");
    u_char           buf[KL_SYSLOG_MAX_HEADER], *p;

    memset(&peer, 0, sizeof(peer));
    peer.facility = 23;
    kl_str_set(&peer.tag, "kiln");
    peer.hostname = &host;
    peer.time_sec = -1;

    /* 2026-03-05 09:07:03 UTC: the day is padded with a space */
    p = kl_syslog_header(&peer, 6, 1772701623, buf);
    cr_assert_eq((size_t) (p - buf),
                 strlen("<190>Mar  5 09:07:03 web.example kiln: "));
    cr_assert(memcmp(buf, "<190>Mar  5 09:07:03 web.example kiln: ",
                     (size_t) (p - buf))
              == 0);

    /* the same second: the cached text; severity 3, facility kern */
    peer.facility = 0;
    p = kl_syslog_header(&peer, 3, 1772701623, buf);
    cr_assert(
        memcmp(buf, "<3>Mar  5 09:07:03 web.example kiln: ", (size_t) (p - buf))
        == 0);

    /* nohostname; a two-digit day */
    peer.nohostname = 1;
    peer.facility = 1;
    p = kl_syslog_header(&peer, 7, 1797501600, buf);
    *p = '\0';
    cr_assert_str_eq((char *) buf, "<15>Dec 17 10:00:00 kiln: ");
}


Test(syslog, header_longest_fits)
{
    kl_syslog_peer_t peer;
    kl_str_t         host;
    u_char           name[255], buf[KL_SYSLOG_MAX_HEADER + 1], *p;

    memset(name, 'h', sizeof(name));
    host.data = name;
    host.len = sizeof(name);

    memset(&peer, 0, sizeof(peer));
    peer.facility = 23;
    peer.tag.data = (u_char *) "01234567890123456789012345678901";
    peer.tag.len = 32;
    peer.hostname = &host;
    peer.time_sec = -1;

    buf[KL_SYSLOG_MAX_HEADER] = 0xa5;
    p = kl_syslog_header(&peer, 7, 0, buf);

    cr_assert_eq((size_t) (p - buf), KL_SYSLOG_MAX_HEADER);
    cr_assert_eq(buf[KL_SYSLOG_MAX_HEADER], 0xa5);
    cr_assert(memcmp(p - 2, ": ", 2) == 0);
}


Test(syslog, send_to_a_unix_datagram_socket)
{
    kl_syslog_peer_t   peer;
    struct sockaddr_un sun;
    int                s;
    ssize_t            n;
    char               got[64];

    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    snprintf(sun.sun_path, sizeof(sun.sun_path), "/tmp/kl_test_syslog_%d",
             (int) getpid());
    unlink(sun.sun_path);

    s = socket(AF_UNIX, SOCK_DGRAM, 0);
    cr_assert_geq(s, 0);
    cr_assert_eq(bind(s, (struct sockaddr *) &sun, sizeof(sun)), 0);

    memset(&peer, 0, sizeof(peer));
    memcpy(&peer.sockaddr.sockaddr_un, &sun, sizeof(sun));
    peer.socklen = sizeof(sun);
    peer.fd = -1;

    cr_assert_eq(kl_syslog_send(&peer, (u_char *) "<190>one", 8), 8);
    cr_assert_geq(peer.fd, 0);
    n = recv(s, got, sizeof(got), 0);
    cr_assert_eq(n, 8);
    cr_assert(memcmp(got, "<190>one", 8) == 0);

    /* the server gone: -1, the socket closed, and no signal */
    close(s);
    unlink(sun.sun_path);
    cr_assert_eq(kl_syslog_send(&peer, (u_char *) "two", 3), -1);
    cr_assert_eq(peer.fd, -1);
    cr_assert_eq(kl_syslog_send(&peer, (u_char *) "three", 5), -1);
    cr_assert_eq(peer.fd, -1);
}
