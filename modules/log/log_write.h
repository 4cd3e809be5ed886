/* log_write.h: how access log lines reach files: buffered, gzipped, or by a path with variables. */

#ifndef KL_LOG_WRITE_H
#define KL_LOG_WRITE_H

#include "kl_http.h"

/* A file's buffer, shared by every access_log that writes the file. */
typedef struct {
    kl_open_file_t *file;
    u_char         *start;
    u_char         *pos;
    u_char         *last;
    kl_msec_t       flush; /* 0: only when full and at exit */
    kl_int_t        gzip;  /* 0, or the level: each write one gzip member */
    kl_event_t     *event;
    time_t          error_time; /* write errors are logged once a minute */
} kl_http_log_buf_t;

/* A file open_log_file_cache knows of, by its evaluated path. */
typedef struct {
    u_char   *name; /* malloc()ed, NUL-terminated */
    size_t    len;
    uint32_t  hash;
    kl_fd_t   fd; /* -1: not kept (used fewer than min_uses times) */
    kl_uint_t uses;
    time_t    created; /* opened or last checked against the path */
    time_t    accessed;
    dev_t     dev;
    ino_t     ino;
} kl_http_log_cached_t;

typedef struct {
    kl_http_log_cached_t *entries; /* max of them, allocated in the worker */
    kl_uint_t             n;
    kl_uint_t             max;
    kl_uint_t             min_uses;
    time_t                inactive;
    time_t                valid;
} kl_http_log_cache_t;

/*
 * Write len bytes at buf to fd with one write(2), as one gzip member of
 * that level when gzip is 1..9. A failure is logged (naming the file)
 * unless one was in the last minute (*error_time).
 */
void kl_http_log_write(kl_fd_t fd, u_char *name, u_char *buf, size_t len,
                       kl_int_t gzip, time_t *error_time, kl_log_t *log);

/* Write what buffer holds and empty it; its flush timer stops. */
void kl_http_log_flush(kl_http_log_buf_t *buffer, kl_log_t *log);

/*
 * Whether an evaluated path may be opened: not empty, not a directory,
 * no NUL byte, no ".." segment. Pure.
 */
kl_uint_t kl_http_log_path_valid(kl_str_t *path);

/* Open name for appending (creating it), and fstat() it into sb if given. */
kl_fd_t kl_http_log_open_path(u_char *name, struct stat *sb, kl_log_t *log);

/* The cache's entry for path with its descriptor open, or NULL (logged). */
kl_http_log_cached_t *kl_http_log_cache_open(kl_http_log_cache_t *cache,
                                             kl_str_t *path, kl_log_t *log);

/* Close every descriptor the cache holds and free its entries. */
void kl_http_log_cache_close(kl_http_log_cache_t *cache);

#endif /* KL_LOG_WRITE_H */
