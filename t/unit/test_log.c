/* test_log.c: the error line format, level filtering, destinations, stderr. */

#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <regex.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "kl_config.h"
#include "kl_types.h"
#include "string.h"
#include "log.h"

static char           path[64];
static kl_open_file_t file;
static kl_log_t       log;


static void
setup(void)
{
    /* each test runs in its own process, so the pid makes the name unique */
    snprintf(path, sizeof(path), "/tmp/kl_test_log_%d", (int) getpid());
    unlink(path);

    file.fd = kl_log_open_file((u_char *) path);
    cr_assert_geq(file.fd, 0);
    file.name.data = (u_char *) path;
    file.name.len = strlen(path);

    memset(&log, 0, sizeof(log));
    log.file = &file;
    log.log_level = KL_LOG_WARN;
}


static void
teardown(void)
{
    close(file.fd);
    unlink(path);
}


/* The whole file as a NUL-terminated string (static storage). */
static char *
slurp(const char *name)
{
    static char text[16384];
    ssize_t     n;
    int         fd;

    fd = open(name, O_RDONLY);
    cr_assert_geq(fd, 0);
    n = read(fd, text, sizeof(text) - 1);
    cr_assert_geq(n, 0);
    text[n] = '\0';
    close(fd);

    return text;
}


static void
assert_matches(const char *text, const char *re)
{
    regex_t r;

    cr_assert_eq(regcomp(&r, re, REG_EXTENDED | REG_NEWLINE), 0);
    cr_assert_eq(regexec(&r, text, 0, NULL, 0), 0, "\"%s\" does not match /%s/",
                 text, re);
    regfree(&r);
}


static u_char *
client_handler(kl_log_t *l, u_char *buf, size_t len)
{
    (void) l;

    return kl_snprintf(buf, len, ", client: %s", "127.0.0.1");
}


TestSuite(log, .init = setup, .fini = teardown);


Test(log, line_format)
{
    char *text, expect[64];

    kl_log_error(KL_LOG_ERR, &log, 0, "open() \"%s\" failed", "/x");

    text = slurp(path);
    snprintf(expect, sizeof(expect), " [error] %d#0: open", (int) getpid());
    cr_assert_not_null(strstr(text, expect), "%s", text);
    assert_matches(text, "^[0-9]{4}/[0-9]{2}/[0-9]{2} [0-9]{2}:[0-9]{2}:"
                         "[0-9]{2} \\[error\\] [0-9]+#0: open\\(\\) \"/x\" "
                         "failed\n$");
}


Test(log, errno_connection_action_handler)
{
    char *text;

    log.connection = 42;
    log.action = "reading client request line";
    log.handler = client_handler;

    kl_log_error(KL_LOG_CRIT, &log, ENOENT, "recv() failed");

    text = slurp(path);
    assert_matches(text,
                   "\\[crit\\] [0-9]+#0: \\*42 recv\\(\\) failed "
                   "\\(2: No such file or directory\\) while reading client "
                   "request line, client: 127\\.0\\.0\\.1\n$");
}


Test(log, level_filtering)
{
    char *text;

    kl_log_error(KL_LOG_EMERG, &log, 0, "one");
    kl_log_error(KL_LOG_WARN, &log, 0, "two");
    kl_log_error(KL_LOG_NOTICE, &log, 0, "three");
    kl_log_error(KL_LOG_INFO, &log, 0, "four");
    kl_log_debug(&log, "five");

    /* the core function filters too, for callers that skip the macro */
    kl_log_error_core(KL_LOG_INFO, &log, 0, "six");

    text = slurp(path);
    cr_assert_not_null(strstr(text, "[emerg] "));
    cr_assert_not_null(strstr(text, ": one\n"));
    cr_assert_not_null(strstr(text, "[warn] "));
    cr_assert_not_null(strstr(text, ": two\n"));
    cr_assert_null(strstr(text, "three"));
    cr_assert_null(strstr(text, "four"));
    cr_assert_null(strstr(text, "five"));
    cr_assert_null(strstr(text, "six"));
}


Test(log, each_destination_by_its_own_level)
{
    char           path2[64];
    char          *text;
    kl_open_file_t file2;
    kl_log_t       log2;

    snprintf(path2, sizeof(path2), "/tmp/kl_test_log2_%d", (int) getpid());
    unlink(path2);

    file2.fd = kl_log_open_file((u_char *) path2);
    cr_assert_geq(file2.fd, 0);
    memset(&log2, 0, sizeof(log2));
    log2.file = &file2;
    log2.log_level = KL_LOG_ERR;

    log.log_level = KL_LOG_INFO;
    log.next = &log2;

    kl_log_error(KL_LOG_INFO, &log, 0, "chatty");
    kl_log_error(KL_LOG_ALERT, &log, 0, "serious");

    text = slurp(path);
    cr_assert_not_null(strstr(text, "chatty"));
    cr_assert_not_null(strstr(text, "serious"));

    text = slurp(path2);
    cr_assert_null(strstr(text, "chatty"));
    cr_assert_not_null(strstr(text, "[alert] "));
    cr_assert_not_null(strstr(text, "serious"));

    close(file2.fd);
    unlink(path2);
}


Test(log, long_message_truncated_with_newline)
{
    char  *text, big[5000];
    size_t len;

    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';

    log.handler = client_handler;
    kl_log_error(KL_LOG_ERR, &log, EACCES, "%s", big);
    kl_log_error(KL_LOG_ERR, &log, 0, "next");

    text = slurp(path);
    len = strchr(text, '\n') - text + 1;
    cr_assert_eq(len, KL_MAX_ERROR_STR, "line of %zu bytes", len);
    cr_assert_not_null(strstr(text + len, "next, client: 127.0.0.1\n"));
}


Test(log, appends_across_opens)
{
    kl_fd_t fd2;
    char   *text, *first;

    kl_log_error(KL_LOG_ERR, &log, 0, "before");

    /* a second writer (another worker) on the same file appends too */
    fd2 = kl_log_open_file((u_char *) path);
    cr_assert_geq(fd2, 0);
    file.fd = fd2;
    kl_log_error(KL_LOG_ERR, &log, 0, "after");
    close(fd2);
    file.fd = -1;
    kl_log_error(KL_LOG_ERR, &log, 0, "nowhere");

    text = slurp(path);
    first = strstr(text, "before\n");
    cr_assert_not_null(first);
    cr_assert_not_null(strstr(first, "after\n"));
    cr_assert_null(strstr(text, "nowhere"));

    file.fd = kl_log_open_file((u_char *) path);
}


Test(log, levels)
{
    kl_str_t s;

    cr_assert_str_eq(kl_log_level_name(KL_LOG_STDERR), "stderr");
    cr_assert_str_eq(kl_log_level_name(KL_LOG_EMERG), "emerg");
    cr_assert_str_eq(kl_log_level_name(KL_LOG_ERR), "error");
    cr_assert_str_eq(kl_log_level_name(KL_LOG_DEBUG), "debug");
    cr_assert_null(kl_log_level_name(KL_LOG_DEBUG + 1));

    kl_str_set(&s, "warn");
    cr_assert_eq(kl_log_level_parse(&s), KL_LOG_WARN);
    kl_str_set(&s, "crit");
    cr_assert_eq(kl_log_level_parse(&s), KL_LOG_CRIT);
    kl_str_set(&s, "debug");
    cr_assert_eq(kl_log_level_parse(&s), KL_LOG_DEBUG);
    kl_str_set(&s, "err");
    cr_assert_eq(kl_log_level_parse(&s), -1);
    kl_str_set(&s, "errors");
    cr_assert_eq(kl_log_level_parse(&s), -1);
    kl_str_set(&s, "stderr");
    cr_assert_eq(kl_log_level_parse(&s), -1);
    kl_str_set(&s, "WARN");
    cr_assert_eq(kl_log_level_parse(&s), -1);
}


Test(log, errno_text)
{
    u_char buf[128], *e;

    e = kl_log_errno(buf, buf + sizeof(buf), EACCES);
    *e = '\0';
    cr_assert_str_eq((char *) buf, " (13: Permission denied)");

    e = kl_log_errno(buf, buf + 5, EACCES);
    cr_assert_eq(e, buf + 5);
}


Test(log, open_stderr_name)
{
    cr_assert_eq(kl_log_open_file((u_char *) "stderr"), STDERR_FILENO);
    cr_assert_eq(kl_log_open_file((u_char *) "/nonexistent/dir/x.log"), -1);
    cr_assert_eq(errno, ENOENT);
}


Test(log_stderr, format, .init = cr_redirect_stderr)
{
    kl_log_stderr(0, "invalid option: \"%s\"", "-x");
    kl_log_stderr(ENOENT, "open() \"%s\" failed", "/etc/kiln/kiln.conf");
    fflush(stderr);

    cr_assert_stderr_eq_str("kiln: invalid option: \"-x\"\n"
                            "kiln: open() \"/etc/kiln/kiln.conf\" failed "
                            "(2: No such file or directory)\n");
}


Test(log_stderr, destination_named_stderr, .init = cr_redirect_stderr)
{
    kl_open_file_t f;
    kl_log_t       l;
    FILE          *out;
    size_t         n;
    char           expect[64], text[256];

    f.fd = kl_log_open_file((u_char *) "stderr");
    kl_str_set(&f.name, "stderr");
    memset(&l, 0, sizeof(l));
    l.file = &f;
    l.log_level = KL_LOG_ERR;

    kl_log_error(KL_LOG_ERR, &l, 0, "to fd 2");

    snprintf(expect, sizeof(expect), " [error] %d#0: to fd 2\n",
             (int) getpid());

    fflush(stderr);
    out = cr_get_redirected_stderr();
    n = fread(text, 1, sizeof(text) - 1, out);
    text[n] = '\0';

    cr_assert_eq(n, 19 + strlen(expect), "%s", text);
    cr_assert_str_eq(text + 19, expect);
}


/* A unix datagram receiver at a per-process path, bound to sa. */
static int
syslog_server(struct sockaddr_un *sa)
{
    int s;

    memset(sa, 0, sizeof(*sa));
    sa->sun_family = AF_UNIX;
    snprintf(sa->sun_path, sizeof(sa->sun_path), "/tmp/kl_test_log_sl_%d",
             (int) getpid());
    unlink(sa->sun_path);

    s = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    cr_assert_geq(s, 0);
    cr_assert_eq(bind(s, (struct sockaddr *) sa, sizeof(*sa)), 0);

    return s;
}


Test(log, syslog_destination)
{
    kl_syslog_peer_t   peer;
    kl_log_t           sl;
    kl_str_t           host = kl_string("h");
    struct sockaddr_un sa;
    int                s;
    ssize_t            n;
    char               got[512], *msg;

    s = syslog_server(&sa);

    memset(&peer, 0, sizeof(peer));
    memcpy(&peer.sockaddr.sockaddr_un, &sa, sizeof(sa));
    peer.socklen = sizeof(sa);
    peer.fd = -1;
    peer.facility = 23;
    kl_str_set(&peer.tag, "kiln");
    peer.hostname = &host;
    peer.time_sec = -1;

    /* most verbose first: syslog at info, then the file at warn */
    memset(&sl, 0, sizeof(sl));
    sl.syslog = &peer;
    sl.log_level = KL_LOG_INFO;
    sl.next = &log;

    kl_log_error(KL_LOG_ERR, &sl, 0, "both %d", 1);
    kl_log_error(KL_LOG_INFO, &sl, 0, "syslog only");

    /* error is severity 3: <187>; the whole line, no newline */
    n = recv(s, got, sizeof(got) - 1, 0);
    cr_assert_gt(n, 0);
    got[n] = '\0';
    cr_assert(strncmp(got, "<187>", 5) == 0, "%s", got);
    msg = strstr(got, " h kiln: ");
    cr_assert_not_null(msg, "%s", got);
    cr_assert_eq(msg - got, 20, "%s", got);
    cr_assert_not_null(strstr(msg, " [error] "), "%s", got);
    cr_assert(strcmp(got + n - 6, "both 1") == 0, "%s", got);

    n = recv(s, got, sizeof(got) - 1, 0);
    cr_assert_gt(n, 0);
    got[n] = '\0';
    cr_assert(strncmp(got, "<190>", 5) == 0, "%s", got);
    cr_assert(strcmp(got + n - 11, "syslog only") == 0, "%s", got);

    cr_assert_eq(recv(s, got, sizeof(got), 0), -1);

    /* the file got the error only */
    cr_assert_not_null(strstr(slurp(path), "both 1\n"));
    cr_assert_null(strstr(slurp(path), "syslog only"));

    close(s);
    unlink(sa.sun_path);
    close(peer.fd);
}


Test(log, syslog_failure_reported_once)
{
    kl_syslog_peer_t   peer;
    kl_log_t           sl;
    struct sockaddr_un sa;
    char              *text, *p;
    int                s, count;

    /* a server that is gone: every send fails */
    s = syslog_server(&sa);
    close(s);
    unlink(sa.sun_path);

    memset(&peer, 0, sizeof(peer));
    memcpy(&peer.sockaddr.sockaddr_un, &sa, sizeof(sa));
    peer.socklen = sizeof(sa);
    peer.fd = -1;
    peer.facility = 23;
    kl_str_set(&peer.tag, "kiln");
    kl_str_set(&peer.server, "unix:gone");
    peer.time_sec = -1;

    memset(&sl, 0, sizeof(sl));
    sl.syslog = &peer;
    sl.log_level = KL_LOG_ERR;
    sl.next = &log;

    kl_log_error(KL_LOG_ERR, &sl, 0, "one");
    kl_log_error(KL_LOG_ERR, &sl, 0, "two");
    kl_log_error(KL_LOG_ERR, &sl, 0, "three");

    cr_assert_eq(peer.fd, -1);
    cr_assert_eq(peer.busy, 0);

    /* the lines, and one alert about the failure (not one per line) */
    text = slurp(path);
    cr_assert_not_null(strstr(text, "one\n"));
    cr_assert_not_null(strstr(text, "three\n"));

    for (count = 0, p = text; (p = strstr(p, "[alert]")) != NULL; p++) {
        count++;
    }

    cr_assert_eq(count, 1, "%s", text);
    cr_assert_not_null(
        strstr(text, "send() to syslog server \"unix:gone\" failed ("), "%s",
        text);
}
