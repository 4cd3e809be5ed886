/* log.h: leveled error logs to files (reopenable), stderr and syslog, nginx's line format. */

#ifndef KL_LOG_H
#define KL_LOG_H

#include "kl_config.h"
#include "kl_types.h"
#include "string.h"
#include "syslog.h"

#define KL_LOG_STDERR 0
#define KL_LOG_EMERG  1
#define KL_LOG_ALERT  2
#define KL_LOG_CRIT   3
#define KL_LOG_ERR    4
#define KL_LOG_WARN   5
#define KL_LOG_NOTICE 6
#define KL_LOG_INFO   7
#define KL_LOG_DEBUG  8

#define KL_MAX_ERROR_STR 2048

/* An open log file; cycle->open_files holds them so USR1 can reopen all. */
struct kl_open_file_s {
    kl_fd_t  fd;
    kl_str_t name; /* NUL-terminated; "stderr" means fd 2 */

    /* Writes what a user buffers for the file (access_log buffer=), so
     * a reopen leaves those lines in the file being rotated, as nginx. */
    void (*flush)(kl_open_file_t *file, kl_log_t *log);
    void *data;
};

/* Adds context (client, server, request) to a message; returns the end. */
typedef u_char *(*kl_log_handler_pt)(kl_log_t *log, u_char *buf, size_t len);

struct kl_log_s {
    kl_uint_t         log_level;
    kl_open_file_t   *file;
    kl_uint_t         connection; /* "*N" in messages when non-zero */
    const char       *action;     /* "while <action>" in messages */
    kl_log_handler_pt handler;
    void             *data;
    kl_syslog_peer_t *syslog; /* error_log syslog:...; file is NULL then */
    kl_log_t         *next;   /* further error_log destinations */
};

#define kl_log_error(level, log, ...)                                          \
    do {                                                                       \
        if ((log)->log_level >= (kl_uint_t) (level)) {                         \
            kl_log_error_core(level, log, __VA_ARGS__);                        \
        }                                                                      \
    } while (0)

#if (KL_DEBUG)
#define kl_log_debug(log, ...)                                                 \
    do {                                                                       \
        if ((log)->log_level >= KL_LOG_DEBUG) {                                \
            kl_log_error_core(KL_LOG_DEBUG, log, 0, __VA_ARGS__);              \
        }                                                                      \
    } while (0)
#else
#define kl_log_debug(log, ...)
#endif

/*
 * "2026/11/22 08:34:00 [error] 1234#0: *5 <fmt>[ (err: strerror)][, ctx]\n"
 * written to every destination in the log->next list whose level admits it.
 */
void kl_log_error_core(kl_uint_t level, kl_log_t *log, kl_err_t err,
                       const char *fmt, ...);

/* "kiln: <fmt>[ (err: strerror)]\n" on stderr, for the command line. */
void kl_log_stderr(kl_err_t err, const char *fmt, ...);

/* Append " (err: strerror)" to buf; returns the end. */
u_char *kl_log_errno(u_char *buf, u_char *last, kl_err_t err);

/* The level's name ("error") or NULL; and its number for a name, or -1. */
const char *kl_log_level_name(kl_uint_t level);
kl_int_t    kl_log_level_parse(kl_str_t *name);

/*
 * The first destination in the list that is a file (error_log keeps one
 * whatever else it has, as nginx), or NULL.
 */
kl_open_file_t *kl_log_file(kl_log_t *log);

/* Open name for appending (creating it 0644); fd or -1 with errno. */
kl_fd_t kl_log_open_file(u_char *name);

#endif /* KL_LOG_H */
