/* log.c: nginx-format error lines, written whole to each admitting file or syslog. */

/*
 * A line is built once in a stack buffer and written with a single
 * write(2) to each O_APPEND destination, so lines from concurrent workers
 * never interleave.  It is cut at KL_MAX_ERROR_STR, keeping the newline.
 */

#include "kl_config.h"
#include "kl_types.h"
#include "string.h"
#include "time.h"
#include "files.h"
#include "log.h"
#include "process.h"
#include "syslog.h"

static void kl_log_syslog(kl_log_t *head, kl_log_t *l, kl_uint_t level,
                          u_char *line, size_t len);

static const char *kl_log_levels[] = { "stderr", "emerg", "alert",
                                       "crit",   "error", "warn",
                                       "notice", "info",  "debug" };


void
kl_log_error_core(kl_uint_t level, kl_log_t *log, kl_err_t err, const char *fmt,
                  ...)
{
    u_char     *p, *last, *msg;
    ssize_t     n;
    va_list     args;
    kl_log_t   *l;
    kl_uint_t   wrote_stderr;
    const char *name;
    u_char      errstr[KL_MAX_ERROR_STR];

    /* one byte is kept back for the newline */
    last = errstr + KL_MAX_ERROR_STR - 1;

    p = kl_time_log_string(errstr);

    name = kl_log_level_name(level);

    p = kl_slprintf(p, last, " [%s] %d#0: ", name ? name : "unknown",
                    (int) getpid());

    if (log->connection) {
        p = kl_slprintf(p, last, "*%ui ", log->connection);
    }

    msg = p;

    va_start(args, fmt);
    p = kl_vslprintf(p, last, fmt, args);
    va_end(args);

    if (err) {
        p = kl_log_errno(p, last, err);
    }

    if (log->action) {
        p = kl_slprintf(p, last, " while %s", log->action);
    }

    if (level != KL_LOG_DEBUG && log->handler) {
        p = log->handler(log, p, (size_t) (last - p));
    }

    *p++ = '\n';

    wrote_stderr = 0;

    for (l = log; l; l = l->next) {
        if (l->log_level < level) {
            continue;
        }

        if (l->syslog) {
            kl_log_syslog(log, l, level, errstr, (size_t) (p - errstr) - 1);
            continue;
        }

        if (l->file == NULL || l->file->fd == -1) {
            continue;
        }

        /* nowhere to report a failed log write; the next line may succeed */
        do {
            n = write(l->file->fd, errstr, (size_t) (p - errstr));
        } while (n == -1 && errno == EINTR);

        if (l->file->fd == STDERR_FILENO) {
            wrote_stderr = 1;
        }
    }

    /*
     * Until the master is up, whoever ran the command sees what went
     * wrong on the terminal too, in nginx's short form.
     */
    if (!kl_loop.use_stderr || level > KL_LOG_WARN || wrote_stderr) {
        return;
    }

    msg -= sizeof("kiln: [] ") - 1 + strlen(name ? name : "unknown");
    (void) kl_slprintf(msg, last, "kiln: [%s] ", name ? name : "unknown");

    do {
        n = write(STDERR_FILENO, msg, (size_t) (p - msg));
    } while (n == -1 && errno == EINTR);
}


/*
 * The whole line but its newline after the syslog header, as nginx sends
 * it; the severity follows the level. A failed send is reported to the
 * other destinations once a minute.
 */
static void
kl_log_syslog(kl_log_t *head, kl_log_t *l, kl_uint_t level, u_char *line,
              size_t len)
{
    u_char           *p;
    time_t            now;
    kl_syslog_peer_t *peer;
    u_char            msg[KL_SYSLOG_MAX_HEADER + KL_MAX_ERROR_STR];

    peer = l->syslog;

    /*
     * Atomic, because a thread pool's thread logs too: whoever holds busy
     * alone writes the peer's cached time text and error_time. A line
     * logged meanwhile, by this thread (the failure report below) or by
     * another, skips this destination.
     */
    if (__atomic_exchange_n(&peer->busy, 1, __ATOMIC_ACQUIRE)) {
        return;
    }

    now = time(NULL);
    p = kl_syslog_header(peer, level ? level - 1 : 0, now, msg);
    p = kl_cpymem(p, line, len);

    if (kl_syslog_send(peer, msg, (size_t) (p - msg)) == -1
        && now - peer->error_time >= 60)
    {
        peer->error_time = now;
        kl_log_error_core(KL_LOG_ALERT, head, errno,
                          "send() to syslog server \"%V\" failed",
                          &peer->server);
    }

    __atomic_store_n(&peer->busy, 0, __ATOMIC_RELEASE);
}


void
kl_log_stderr(kl_err_t err, const char *fmt, ...)
{
    u_char *p, *last;
    ssize_t n;
    va_list args;
    u_char  errstr[KL_MAX_ERROR_STR];

    last = errstr + KL_MAX_ERROR_STR - 1;

    p = kl_cpymem(errstr, "kiln: ", sizeof("kiln: ") - 1);

    va_start(args, fmt);
    p = kl_vslprintf(p, last, fmt, args);
    va_end(args);

    if (err) {
        p = kl_log_errno(p, last, err);
    }

    *p++ = '\n';

    do {
        n = write(STDERR_FILENO, errstr, (size_t) (p - errstr));
    } while (n == -1 && errno == EINTR);
}


/* " (2: No such file or directory)", as nginx prints it. */
u_char *
kl_log_errno(u_char *buf, u_char *last, kl_err_t err)
{
    char *msg;
    char  text[256];

    msg = strerror_r(err, text, sizeof(text));

    return kl_slprintf(buf, last, " (%d: %s)", err, msg);
}


const char *
kl_log_level_name(kl_uint_t level)
{
    if (level > KL_LOG_DEBUG) {
        return NULL;
    }

    return kl_log_levels[level];
}


/* Only the levels error_log accepts: "stderr" names a file, not a level. */
kl_int_t
kl_log_level_parse(kl_str_t *name)
{
    kl_uint_t n;

    for (n = KL_LOG_EMERG; n <= KL_LOG_DEBUG; n++) {
        if (name->len == kl_strlen(kl_log_levels[n])
            && kl_strncmp(name->data, kl_log_levels[n], name->len) == 0)
        {
            return (kl_int_t) n;
        }
    }

    return -1;
}


kl_open_file_t *
kl_log_file(kl_log_t *log)
{
    for (/* void */; log; log = log->next) {
        if (log->file) {
            return log->file;
        }
    }

    return NULL;
}


kl_fd_t
kl_log_open_file(u_char *name)
{
    if (kl_strcmp(name, "stderr") == 0) {
        return STDERR_FILENO;
    }

    return kl_open_file(name, KL_FILE_APPEND, KL_FILE_CREATE_OR_OPEN,
                        KL_FILE_DEFAULT_ACCESS);
}
