/* syslog.c: "syslog:" destinations: their parameters, RFC 3164 headers, and sending. */

/*
 * As nginx (nginx.org/en/docs/syslog.html): one datagram per message, to
 * a UDP address or a unix datagram socket, "<PRI>TIMESTAMP HOSTNAME TAG: "
 * then the message, with no newline. The parameters' errors are nginx's
 * words. Only the default tag differs: "kiln", the program sending.
 */

#include "kl_config.h"
#include "kl_types.h"
#include "string.h"
#include "pool.h"
#include "log.h"
#include "time.h"
#include "conf.h"
#include "cycle.h"
#include "syslog.h"

static void kl_syslog_cleanup(void *data);

/* RFC 3164 4.1.1 numbers them in this order; "intern" is syslogd's own. */
static const char *kl_syslog_facilities[] = {
    "kern",   "user",   "mail",   "daemon",   "auth",   "intern", "lpr",
    "news",   "uucp",   "clock",  "authpriv", "ftp",    "ntp",    "audit",
    "alert",  "cron",   "local0", "local1",   "local2", "local3", "local4",
    "local5", "local6", "local7", NULL
};

/* error_log's level names, less "stderr": severity = level - 1. */
static const char *kl_syslog_severities[] = { "emerg", "alert", "crit",
                                              "error", "warn",  "notice",
                                              "info",  "debug", NULL };

static const char *kl_syslog_months[] = { "Jan", "Feb", "Mar", "Apr",
                                          "May", "Jun", "Jul", "Aug",
                                          "Sep", "Oct", "Nov", "Dec" };


static kl_int_t
kl_syslog_lookup(const char **names, u_char *p, size_t len)
{
    kl_uint_t i;

    for (i = 0; names[i]; i++) {
        if (kl_strlen(names[i]) == len && kl_strncmp(names[i], p, len) == 0) {
            return (kl_int_t) i;
        }
    }

    return -1;
}


static const char *
kl_syslog_parse_tag(u_char *p, size_t len, kl_syslog_peer_t *peer)
{
    size_t i;
    u_char c;

    if (len > KL_SYSLOG_MAX_TAG) {
        return "syslog tag length exceeds 32";
    }

    for (i = 0; i < len; i++) {
        c = kl_tolower(p[i]);

        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c == '_')) {
            return "syslog \"tag\" only allows alphanumeric characters and "
                   "underscore";
        }
    }

    peer->tag.data = p;
    peer->tag.len = len;

    return NULL;
}


/* One "name=value" (or "nohostname") of the list, len bytes at p. */
static const char *
kl_syslog_parse_one(u_char *p, size_t len, kl_syslog_peer_t *peer)
{
    kl_int_t n;

    if (len >= 7 && kl_strncmp(p, "server=", 7) == 0) {
        if (peer->server.data) {
            return "duplicate syslog";
        }

        peer->server.data = p + 7;
        peer->server.len = len - 7;

        return NULL;
    }

    if (len >= 9 && kl_strncmp(p, "facility=", 9) == 0) {
        if (peer->facility != KL_CONF_UNSET_UINT) {
            return "duplicate syslog";
        }

        n = kl_syslog_lookup(kl_syslog_facilities, p + 9, len - 9);
        if (n == -1) {
            return "unknown syslog facility";
        }

        peer->facility = (kl_uint_t) n;
        return NULL;
    }

    if (len >= 9 && kl_strncmp(p, "severity=", 9) == 0) {
        if (peer->severity != KL_CONF_UNSET_UINT) {
            return "duplicate syslog";
        }

        n = kl_syslog_lookup(kl_syslog_severities, p + 9, len - 9);
        if (n == -1) {
            return "unknown syslog severity";
        }

        peer->severity = (kl_uint_t) n;
        return NULL;
    }

    if (len >= 4 && kl_strncmp(p, "tag=", 4) == 0) {
        if (peer->tag.data) {
            return "duplicate syslog";
        }

        return kl_syslog_parse_tag(p + 4, len - 4, peer);
    }

    if (len == 10 && kl_strncmp(p, "nohostname", 10) == 0) {
        peer->nohostname = 1;
        return NULL;
    }

    return "unknown syslog parameter";
}


const char *
kl_syslog_parse(u_char *text, size_t len, kl_syslog_peer_t *peer, kl_str_t *bad)
{
    u_char     *p, *comma, *last;
    const char *err;

    peer->server.data = NULL;
    peer->server.len = 0;
    peer->facility = KL_CONF_UNSET_UINT;
    peer->severity = KL_CONF_UNSET_UINT;
    peer->tag.data = NULL;
    peer->tag.len = 0;
    peer->nohostname = 0;

    bad->data = NULL;
    bad->len = 0;

    p = text;
    last = text + len;

    for (;;) {
        comma = memchr(p, ',', (size_t) (last - p));
        if (comma == NULL) {
            comma = last;
        }

        err = kl_syslog_parse_one(p, (size_t) (comma - p), peer);

        if (err) {
            /* as nginx: a facility or severity by its value; no tag */
            if (kl_strncmp(err, "unknown syslog f", 16) == 0
                || kl_strncmp(err, "unknown syslog s", 16) == 0)
            {
                bad->data = p + 9;
                bad->len = (size_t) (comma - p) - 9;

            } else if (err[0] == 'd') {
                /* "duplicate syslog": the parameter's name */
                bad->data = p;
                bad->len =
                    (size_t) ((u_char *) memchr(p, '=', (size_t) (comma - p))
                              - p);

            } else if (kl_strncmp(err, "syslog", 6) != 0) {
                bad->data = p;
                bad->len = (size_t) (comma - p);
            }

            return err;
        }

        if (comma == last) {
            break;
        }

        p = comma + 1;
    }

    if (peer->server.data == NULL) {
        return "no syslog server specified";
    }

    return NULL;
}


kl_syslog_peer_t *
kl_syslog_conf(kl_conf_t *cf, kl_str_t *value)
{
    const char        *err;
    kl_str_t           bad;
    kl_syslog_peer_t  *peer;
    kl_pool_cleanup_t *cln;

    peer = kl_pcalloc(cf->pool, sizeof(kl_syslog_peer_t));
    cln = kl_pool_cleanup_add(cf->pool, 0);
    if (peer == NULL || cln == NULL) {
        return NULL;
    }

    peer->fd = -1;
    cln->handler = kl_syslog_cleanup;
    cln->data = peer;

    err = kl_syslog_parse(value->data + 7, value->len - 7, peer, &bad);

    if (err) {
        if (bad.data) {
            kl_conf_log_error(KL_LOG_EMERG, cf, 0, "%s \"%V\"", err, &bad);
        } else {
            kl_conf_log_error(KL_LOG_EMERG, cf, 0, "%s", err);
        }

        return NULL;
    }

    if (kl_sock_parse(&peer->server, 514, &peer->sockaddr, &peer->socklen, &err)
        != KL_OK)
    {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0, "%s in syslog server \"%V\"",
                          err, &peer->server);
        return NULL;
    }

    if (peer->facility == KL_CONF_UNSET_UINT) {
        peer->facility = 23; /* local7 */
    }

    peer->severity_given = (peer->severity != KL_CONF_UNSET_UINT);

    if (peer->severity == KL_CONF_UNSET_UINT) {
        peer->severity = 6; /* info */
    }

    if (peer->tag.data == NULL) {
        kl_str_set(&peer->tag, "kiln");
    }

    peer->hostname = &cf->cycle->hostname;
    peer->time_sec = -1;

    return peer;
}


u_char *
kl_syslog_header(kl_syslog_peer_t *peer, kl_uint_t severity, time_t now,
                 u_char *buf)
{
    u_char   *last;
    struct tm tm;

    /* RFC 3164's TIMESTAMP, local time, the day padded with a space */
    if (now != peer->time_sec) {
        kl_localtime(now, &tm);

        (void) kl_slprintf(peer->time_text,
                           peer->time_text + sizeof(peer->time_text) - 1,
                           "%s %2d %02d:%02d:%02d", kl_syslog_months[tm.tm_mon],
                           tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
        peer->time_sec = now;
    }

    last = buf + KL_SYSLOG_MAX_HEADER;

    if (peer->nohostname || peer->hostname == NULL) {
        return kl_slprintf(
            buf, last, "<%ui>%*s %V: ", peer->facility * 8 + (severity & 7),
            sizeof(peer->time_text) - 1, peer->time_text, &peer->tag);
    }

    return kl_slprintf(buf, last,
                       "<%ui>%*s %V %V: ", peer->facility * 8 + (severity & 7),
                       sizeof(peer->time_text) - 1, peer->time_text,
                       peer->hostname, &peer->tag);
}


ssize_t
kl_syslog_send(kl_syslog_peer_t *peer, u_char *buf, size_t len)
{
    ssize_t n;
    int     err;

    if (peer->fd == -1) {
        peer->fd = socket(peer->sockaddr.sockaddr.sa_family,
                          SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (peer->fd == -1) {
            return -1;
        }

        /* connected: a refused datagram is reported by the next send */
        if (connect(peer->fd, &peer->sockaddr.sockaddr, peer->socklen) == -1) {
            goto failed;
        }
    }

    do {
        n = send(peer->fd, buf, len, MSG_NOSIGNAL);
    } while (n == -1 && errno == EINTR);

    if (n != -1) {
        return n;
    }

failed:

    err = errno;
    close(peer->fd);
    peer->fd = -1;
    errno = err;

    return -1;
}


static void
kl_syslog_cleanup(void *data)
{
    kl_syslog_peer_t *peer = data;

    if (peer->fd != -1) {
        close(peer->fd);
        peer->fd = -1;
    }
}
