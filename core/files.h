/* files.h: file descriptors with names, whole-file reads, globs and path joins. */

#ifndef KL_FILES_H
#define KL_FILES_H

#include "kl_config.h"
#include "kl_types.h"
#include "string.h"

struct kl_file_s {
    kl_fd_t     fd;
    kl_str_t    name;
    struct stat info;
    off_t       offset;
    kl_log_t   *log;
};

#define kl_open_file(name, mode, create, access)                               \
    open((const char *) name, mode | create | O_CLOEXEC, access)
#define KL_FILE_RDONLY         O_RDONLY
#define KL_FILE_WRONLY         O_WRONLY
#define KL_FILE_RDWR           O_RDWR
#define KL_FILE_APPEND         (O_WRONLY | O_APPEND)
#define KL_FILE_NONBLOCK       O_NONBLOCK
#define KL_FILE_OPEN           0
#define KL_FILE_CREATE_OR_OPEN O_CREAT
#define KL_FILE_TRUNCATE       (O_CREAT | O_TRUNC)
#define KL_FILE_DEFAULT_ACCESS 0644
#define kl_close_file          close
#define kl_fd_info(fd, sb)     fstat(fd, sb)
#define kl_file_info(name, sb) stat((const char *) name, sb)

/* pread that retries EINTR; returns bytes read or -1 with errno set. */
ssize_t kl_read_file(kl_file_t *file, u_char *buf, size_t size, off_t offset);

/* write of all of buf (looping over short writes); -1 with errno on failure. */
ssize_t kl_write_fd_all(kl_fd_t fd, const void *buf, size_t n);

/*
 * Resolve name against prefix unless it is absolute, into pool memory
 * (NUL-terminated, len excludes the NUL). KL_OK or KL_ERROR.
 */
kl_int_t kl_file_full_name(kl_pool_t *pool, kl_str_t *prefix, kl_str_t *name);

/* The directory part of path, with its trailing slash ("conf/" of "conf/a"). */
void kl_file_dirname(kl_str_t *path, kl_str_t *dir);

/* Glob expansion for include: sorted matches; a non-pattern must exist. */
typedef struct {
    size_t    n;
    kl_uint_t test;    /* set: no match is not an error */
    kl_str_t  pattern; /* NUL-terminated */
    kl_log_t *log;
    void     *pglob; /* glob_t, kept opaque */
    kl_uint_t next;
} kl_glob_t;

kl_int_t kl_glob_open(kl_glob_t *gl);
/* KL_OK with the next name (NUL-terminated, borrowed), KL_DONE at the end. */
kl_int_t kl_glob_next(kl_glob_t *gl, kl_str_t *name);
void     kl_glob_close(kl_glob_t *gl);

/* True when the name contains glob metacharacters. */
kl_uint_t kl_glob_is_pattern(kl_str_t *name);

#endif /* KL_FILES_H */
