/* open_file_cache.h: a per-worker cache of open files and their stat, keyed by path. */

#ifndef KL_OPEN_FILE_CACHE_H
#define KL_OPEN_FILE_CACHE_H

#include "kl_config.h"
#include "kl_types.h"
#include "string.h"
#include "pool.h"

typedef struct kl_open_file_cache_s kl_open_file_cache_t;

/* disable_symlinks: where a symbolic link in the path is refused. */
#define KL_DISABLE_SYMLINKS_OFF      0
#define KL_DISABLE_SYMLINKS_ON       1 /* any link: ELOOP */
#define KL_DISABLE_SYMLINKS_NOTOWNER 2 /* a link owned apart from its target */

/*
 * One lookup: the caller sets valid, min_uses and errors (the
 * open_file_cache_* directives), read_small and disable_symlinks; the
 * lookup fills in the rest.
 */
typedef struct {
    time_t    valid;      /* seconds before an entry is checked again */
    kl_uint_t min_uses;   /* uses within inactive before the fd is kept */
    size_t    read_small; /* keep files up to this size in memory (0: no) */
    unsigned  errors:1;   /* cache failed lookups too */
    kl_uint_t disable_symlinks;
    size_t    disable_symlinks_from; /* bytes of the name left unchecked */

    int         fd;     /* -1 for a directory or a failure */
    kl_err_t    err;    /* why the lookup failed */
    const char *failed; /* the call that failed: "open()", "fstat()" */
    off_t       size;
    time_t      mtime;
    ino_t       inode;
    u_char     *data; /* the whole file, when cached and small enough */
    unsigned    is_dir:1;
    unsigned    is_file:1;
    unsigned    cached:1; /* fd belongs to the cache: callers never close it */
} kl_open_file_info_t;

/*
 * A cache of at most max entries, each dropped after inactive seconds
 * without a lookup; its fds are closed when pool is destroyed. NULL on
 * allocation failure.
 */
kl_open_file_cache_t *kl_open_file_cache_create(kl_pool_t *pool, kl_uint_t max,
                                                time_t inactive);

/*
 * Open name (NUL-terminated) for reading, through cache unless it is
 * NULL, at time now. The fd (if any) stays open until pool is destroyed:
 * a cached fd is shared and reference counted, an uncached one is closed
 * by a cleanup of pool. A cached regular file of at most of->read_small
 * bytes is also read once into memory: of->data, valid as long as the fd. KL_OK, or KL_ERROR with of->err and of->failed.
 */
kl_int_t kl_open_cached_file(kl_open_file_cache_t *cache, kl_str_t *name,
                             kl_open_file_info_t *of, kl_pool_t *pool,
                             time_t now);

/* Entries in the cache now (not counting removed ones still in use). */
kl_uint_t kl_open_file_cache_size(kl_open_file_cache_t *cache);

#endif /* KL_OPEN_FILE_CACHE_H */
