/* syslog.h: "syslog:" log destinations: RFC 3164 messages over UDP or a unix socket. */

#ifndef KL_SYSLOG_H
#define KL_SYSLOG_H

#include "kl_config.h"
#include "kl_types.h"
#include "string.h"
#include "socket.h"

/* RFC 3164 4.1.3: a TAG has at most 32 alphanumeric characters. */
#define KL_SYSLOG_MAX_TAG 32

/* "<191>Jan 01 00:00:00 " HOSTNAME " " TAG ": " at most. */
#define KL_SYSLOG_MAX_HEADER                                                   \
    (sizeof("<191>Jan 01 00:00:00 ") - 1 + 255 + 1 + KL_SYSLOG_MAX_TAG + 2)

/*
 * One "syslog:" destination of an error_log or access_log. The socket is
 * opened at the first message (in whichever process sends it) and closed
 * after a failed send, so the next message tries a fresh one.
 */
typedef struct {
    kl_str_t      server; /* the text after "server=" */
    kl_uint_t     facility;
    kl_uint_t     severity; /* access_log's; error_log's follow the level */
    kl_uint_t     severity_given;
    kl_str_t      tag;
    kl_uint_t     nohostname;
    kl_str_t     *hostname; /* the cycle's, lowercased */
    kl_sockaddr_t sockaddr;
    socklen_t     socklen;
    kl_fd_t       fd;
    kl_uint_t     busy;       /* sending (atomic): see kl_log_syslog */
    time_t        error_time; /* a failed send is reported once a minute */
    time_t        time_sec;   /* the second time_text describes */
    u_char        time_text[sizeof("Jan 01 00:00:00")];
} kl_syslog_peer_t;

/*
 * Parse what follows "syslog:" ("server=ADDR[:PORT],facility=local7,
 * severity=info,tag=kiln,nohostname", in any order) into peer: server
 * (its text only), facility, severity, tag and nohostname; facility and
 * severity are KL_CONF_UNSET_UINT and tag empty where not given. Pure.
 * Returns NULL, or nginx's phrase for the error, with *bad set to the
 * parameter it is about (empty when the phrase names it already).
 */
const char *kl_syslog_parse(u_char *text, size_t len, kl_syslog_peer_t *peer,
                            kl_str_t *bad);

/*
 * The peer for the directive's "syslog:..." argument value (with its
 * prefix): parsed, defaults set (local7, info, tag "kiln"), the server
 * resolved (port 514). NULL after logging the error for the parser.
 */
kl_syslog_peer_t *kl_syslog_conf(kl_conf_t *cf, kl_str_t *value);

/*
 * "<PRI>Mmm dd hh:mm:ss HOSTNAME TAG: " (no HOSTNAME with nohostname)
 * for a message of severity 0..7 sent at now (local time), into buf of
 * at least KL_SYSLOG_MAX_HEADER bytes; returns the end.
 */
u_char *kl_syslog_header(kl_syslog_peer_t *peer, kl_uint_t severity, time_t now,
                         u_char *buf);

/*
 * Send one message (header included); the byte count, or -1 with errno
 * set (the socket is closed then). Never blocks and never logs.
 */
ssize_t kl_syslog_send(kl_syslog_peer_t *peer, u_char *buf, size_t len);

#endif /* KL_SYSLOG_H */
