/*
 * log_write.c: access log lines to files: written whole, buffered,
 * gzipped, and by paths with variables through open_log_file_cache.
 *
 * A line, or a buffer of them, goes out with one write(2) on a file
 * opened O_APPEND, so lines from several workers never interleave. With
 * gzip, each write is one whole gzip member (RFC 1952 2.2: a file of
 * several members is read as their concatenation), so the file stays
 * readable by zcat whenever a worker stops.
 *
 * A path with variables is evaluated per request, as nginx's: the worker
 * opens the file (so it is the worker user's), writes the line and
 * closes it, unless open_log_file_cache keeps the descriptor. The cache
 * is a worker's array of at most max entries, searched linearly: an entry
 * holds its descriptor once it has been used min_uses times, is dropped
 * after inactive seconds unused, and every valid seconds its path is
 * stat()ed again so a rotated (renamed or removed) file is reopened. As
 * in nginx, USR1 does not touch these descriptors: valid bounds how long
 * a rotated file keeps getting lines.
 */

#include "kl_http.h"
#include "log_write.h"

#if (KL_HAVE_ZLIB)
#include <zlib.h>

static ssize_t kl_http_log_gzip(kl_fd_t fd, u_char *buf, size_t len,
                                kl_int_t level, kl_log_t *log);
#endif


void
kl_http_log_write(kl_fd_t fd, u_char *name, u_char *buf, size_t len,
                  kl_int_t gzip, time_t *error_time, kl_log_t *log)
{
    ssize_t n;

#if (KL_HAVE_ZLIB)
    if (gzip) {
        n = kl_http_log_gzip(fd, buf, len, gzip, log);
    } else {
        n = write(fd, buf, len);
    }
#else
    (void) gzip;
    n = write(fd, buf, len);
#endif

    if (n == (ssize_t) len) {
        return;
    }

    /* A full disk would flood the error log: once a minute is enough. */
    if (kl_loop.clock.sec - *error_time < 60) {
        return;
    }

    *error_time = kl_loop.clock.sec;

    if (n == -1) {
        kl_log_error(KL_LOG_ALERT, log, errno, "write() to \"%s\" failed",
                     name);
        return;
    }

    kl_log_error(KL_LOG_ALERT, log, 0,
                 "write() to \"%s\" was incomplete: %z of %uz", name, n, len);
}


/*
 * An evaluated path must name a file under what the text allows: not
 * empty, not a directory ("logs/" with an empty variable), no NUL byte
 * (open() would stop there) and no ".." segment, so a variable cannot
 * climb out of the prefix. nginx checks none of these; kiln refuses.
 */
kl_uint_t
kl_http_log_path_valid(kl_str_t *path)
{
    size_t i;

    if (path->len == 0 || path->data[path->len - 1] == '/') {
        return 0;
    }

    if (memchr(path->data, '\0', path->len) != NULL) {
        return 0;
    }

    for (i = 0; i + 1 < path->len; i++) {
        if (path->data[i] == '.' && path->data[i + 1] == '.'
            && (i == 0 || path->data[i - 1] == '/')
            && (i + 2 == path->len || path->data[i + 2] == '/'))
        {
            return 0;
        }
    }

    return 1;
}


kl_fd_t
kl_http_log_open_path(u_char *name, struct stat *sb, kl_log_t *log)
{
    kl_fd_t fd;

    fd = kl_open_file(name, KL_FILE_APPEND, KL_FILE_CREATE_OR_OPEN,
                      KL_FILE_DEFAULT_ACCESS);

    if (fd == -1) {
        kl_log_error(KL_LOG_CRIT, log, errno, "open() \"%s\" failed", name);
        return -1;
    }

    if (sb && kl_fd_info(fd, sb) == -1) {
        kl_log_error(KL_LOG_CRIT, log, errno, "fstat() \"%s\" failed", name);
        close(fd);
        return -1;
    }

    return fd;
}


static void
kl_http_log_cache_drop(kl_http_log_cache_t *cache, kl_uint_t i)
{
    if (cache->entries[i].fd != -1) {
        close(cache->entries[i].fd);
    }

    kl_free(cache->entries[i].name);

    cache->entries[i] = cache->entries[--cache->n];
}


static uint32_t
kl_http_log_hash(u_char *p, size_t len)
{
    uint32_t h;

    /* FNV-1a: only to skip most names without comparing them. */
    for (h = 2166136261u; len; len--) {
        h = (h ^ *p++) * 16777619u;
    }

    return h;
}


/*
 * The entry for path, with its descriptor open, or NULL (logged). Entries
 * unused for inactive go first; a full cache drops its least recently
 * used one. Past valid, a path naming another file, or none, is reopened.
 */
kl_http_log_cached_t *
kl_http_log_cache_open(kl_http_log_cache_t *cache, kl_str_t *path,
                       kl_log_t *log)
{
    time_t                now;
    uint32_t              hash;
    kl_uint_t             i, lru;
    struct stat           sb;
    kl_http_log_cached_t *e;

    if (cache->entries == NULL) {
        cache->entries =
            kl_calloc(cache->max * sizeof(kl_http_log_cached_t), log);
        if (cache->entries == NULL) {
            return NULL;
        }
    }

    now = kl_loop.clock.sec;
    hash = kl_http_log_hash(path->data, path->len);
    e = NULL;

    for (i = 0; i < cache->n; /* void */) {
        if (now - cache->entries[i].accessed > cache->inactive) {
            kl_http_log_cache_drop(cache, i);
            continue;
        }

        if (cache->entries[i].hash == hash && cache->entries[i].len == path->len
            && memcmp(cache->entries[i].name, path->data, path->len) == 0)
        {
            e = &cache->entries[i];
        }

        i++;
    }

    if (e == NULL) {
        if (cache->n == cache->max) {
            for (lru = 0, i = 1; i < cache->n; i++) {
                if (cache->entries[i].accessed < cache->entries[lru].accessed) {
                    lru = i;
                }
            }

            kl_http_log_cache_drop(cache, lru);
        }

        e = &cache->entries[cache->n];
        kl_memzero(e, sizeof(kl_http_log_cached_t));
        e->fd = -1;

        e->name = kl_alloc(path->len + 1, log);
        if (e->name == NULL) {
            return NULL;
        }

        *kl_cpymem(e->name, path->data, path->len) = '\0';
        e->len = path->len;
        e->hash = hash;
        cache->n++;

    } else if (e->fd != -1 && now - e->created >= cache->valid) {
        /* Rotated: the path names another file, or nothing. */
        if (kl_file_info(e->name, &sb) == -1 || sb.st_ino != e->ino
            || sb.st_dev != e->dev)
        {
            close(e->fd);
            e->fd = -1;

        } else {
            e->created = now;
        }
    }

    e->uses++;
    e->accessed = now;

    if (e->fd == -1) {
        e->fd = kl_http_log_open_path(e->name, &sb, log);
        if (e->fd == -1) {
            kl_http_log_cache_drop(cache, (kl_uint_t) (e - cache->entries));
            return NULL;
        }

        e->created = now;
        e->dev = sb.st_dev;
        e->ino = sb.st_ino;
    }

    return e;
}


void
kl_http_log_cache_close(kl_http_log_cache_t *cache)
{
    while (cache->n) {
        kl_http_log_cache_drop(cache, cache->n - 1);
    }

    kl_free(cache->entries);
    cache->entries = NULL;
}


void
kl_http_log_flush(kl_http_log_buf_t *buffer, kl_log_t *log)
{
    if (buffer->pos > buffer->start) {
        kl_http_log_write(buffer->file->fd, buffer->file->name.data,
                          buffer->start, buffer->pos - buffer->start,
                          buffer->gzip, &buffer->error_time, log);
        buffer->pos = buffer->start;
    }

    if (buffer->event && buffer->event->timer_set) {
        kl_event_del_timer(buffer->event);
    }
}


#if (KL_HAVE_ZLIB)

static void *
kl_http_log_gzip_alloc(void *opaque, u_int items, u_int size)
{
    return kl_palloc(opaque, (size_t) items * size);
}


static void
kl_http_log_gzip_free(void *opaque, void *address)
{
    (void) opaque;
    (void) address;
}


/*
 * buf as one gzip member, written with one write(2); len when all of it
 * went, as write() would say. zlib's memory and the output come from a
 * pool freed at once: the window shrinks to what len needs (as nginx
 * sizes it), so a 4 KiB buffer does not cost deflate's 256 KiB.
 */
static ssize_t
kl_http_log_gzip(kl_fd_t fd, u_char *buf, size_t len, kl_int_t level,
                 kl_log_t *log)
{
    int        rc, wbits, memlevel;
    u_char    *out;
    size_t     bound;
    ssize_t    n;
    z_stream   zs;
    kl_pool_t *pool;

    wbits = MAX_WBITS;
    memlevel = MAX_MEM_LEVEL - 1;

    while ((size_t) 1 << (wbits - 1) >= len + 262 && wbits > 9) {
        wbits--;
        memlevel--;
    }

    if (memlevel < 1) {
        memlevel = 1;
    }

    pool = kl_pool_create(((size_t) 1 << (wbits + 2))
                              + ((size_t) 1 << (memlevel + 9)) + 8192 + len
                              + len / 1000 + 64,
                          log);
    if (pool == NULL) {
        return -1;
    }

    kl_memzero(&zs, sizeof(z_stream));
    zs.zalloc = kl_http_log_gzip_alloc;
    zs.zfree = kl_http_log_gzip_free;
    zs.opaque = pool;

    /* windowBits + 16: zlib writes the gzip header and trailer */
    rc = deflateInit2(&zs, (int) level, Z_DEFLATED, wbits + 16, memlevel,
                      Z_DEFAULT_STRATEGY);

    if (rc != Z_OK) {
        kl_log_error(KL_LOG_ALERT, log, 0, "deflateInit2() failed: %d", rc);
        kl_pool_free(pool);
        return -1;
    }

    bound = deflateBound(&zs, (uLong) len);

    out = kl_pnalloc(pool, bound);
    if (out == NULL) {
        (void) deflateEnd(&zs);
        kl_pool_free(pool);
        return -1;
    }

    zs.next_in = buf;
    zs.avail_in = (uInt) len;
    zs.next_out = out;
    zs.avail_out = (uInt) bound;

    rc = deflate(&zs, Z_FINISH);

    (void) deflateEnd(&zs);

    if (rc != Z_STREAM_END) {
        kl_log_error(KL_LOG_ALERT, log, 0, "deflate(Z_FINISH) failed: %d", rc);
        kl_pool_free(pool);
        return -1;
    }

    n = write(fd, out, (size_t) (zs.next_out - out));

    if (n == zs.next_out - out) {
        n = (ssize_t) len;

    } else if (n != -1) {
        /* nothing of the member would make sense without the rest */
        n = 0;
    }

    kl_pool_free(pool);

    return n;
}

#endif
