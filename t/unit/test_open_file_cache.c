/* test_open_file_cache.c: cached fds, revalidation, errors, LRU bounds, reference counts. */

#include <criterion/criterion.h>

#include "kl_config.h"
#include "kl_types.h"
#include "string.h"
#include "pool.h"
#include "open_file_cache.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

static char       dir[64];
static char       path[256];
static kl_pool_t *cpool; /* the cache's (a cycle's) */
static kl_pool_t *rpool; /* a request's */


static void
put(const char *name, const char *content)
{
    char tmp[256];
    int  fd;

    /* Written aside and renamed over: a new inode, as deployments do. */
    snprintf(tmp, sizeof(tmp), "%s/.tmp", dir);
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, content, strlen(content)),
                 (ssize_t) strlen(content));
    close(fd);
    cr_assert_eq(rename(tmp, path), 0);
}


static kl_str_t *
name_of(const char *name)
{
    static kl_str_t s;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    s.data = (u_char *) path;
    s.len = strlen(path);

    return &s;
}


static kl_int_t
lookup(kl_open_file_cache_t *cache, const char *name, kl_open_file_info_t *of,
       kl_pool_t *pool, time_t now)
{
    kl_memzero(of, sizeof(kl_open_file_info_t));
    of->valid = 10;
    of->min_uses = 1;
    of->errors = 1;

    return kl_open_cached_file(cache, name_of(name), of, pool, now);
}


static int
fd_open(int fd)
{
    return fcntl(fd, F_GETFD) != -1;
}


/* fd is still open on the file name: numbers are reused, inodes are not. */
static int
fd_is(int fd, const char *name)
{
    struct stat a, b;

    return fstat(fd, &a) == 0 && stat((char *) name_of(name)->data, &b) == 0
           && a.st_ino == b.st_ino;
}


static void
setup(void)
{
    snprintf(dir, sizeof(dir), "/tmp/kl_test_ofc_%d", (int) getpid());
    cr_assert_eq(mkdir(dir, 0700), 0, "mkdir %s failed", dir);
    cpool = kl_pool_create(1024, NULL);
    rpool = kl_pool_create(1024, NULL);
    cr_assert(cpool && rpool);
}


static void
teardown(void)
{
    char cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
}


TestSuite(open_file_cache, .init = setup, .fini = teardown);


Test(open_file_cache, uncached_fd_closed_with_the_pool)
{
    kl_open_file_info_t of;

    put("a", "hello");
    cr_assert_eq(lookup(NULL, "a", &of, rpool, 100), KL_OK);
    cr_assert_eq(of.size, 5);
    cr_assert(of.is_file && !of.is_dir && !of.cached);
    cr_assert(fd_open(of.fd));

    kl_pool_free(rpool);
    cr_assert(!fd_open(of.fd));
    kl_pool_free(cpool);
}


Test(open_file_cache, second_lookup_shares_the_fd)
{
    kl_open_file_cache_t *cache;
    kl_open_file_info_t   of1, of2;
    kl_pool_t            *r2;

    cache = kl_open_file_cache_create(cpool, 10, 60);
    cr_assert_not_null(cache);
    put("a", "hello");
    r2 = kl_pool_create(1024, NULL);

    cr_assert_eq(lookup(cache, "a", &of1, rpool, 100), KL_OK);
    cr_assert_eq(lookup(cache, "a", &of2, r2, 101), KL_OK);
    cr_assert(of1.cached && of2.cached);
    cr_assert_eq(of1.fd, of2.fd);
    cr_assert_eq(kl_open_file_cache_size(cache), 1);

    /* Requests ending leave the cached fd open for the next. */
    kl_pool_free(rpool);
    kl_pool_free(r2);
    cr_assert(fd_open(of1.fd));

    /* The cycle's pool going closes it. */
    kl_pool_free(cpool);
    cr_assert(!fd_open(of1.fd));
}


Test(open_file_cache, replaced_file_seen_after_valid)
{
    kl_open_file_cache_t *cache;
    kl_open_file_info_t   of;

    cache = kl_open_file_cache_create(cpool, 10, 60);
    put("a", "old");
    cr_assert_eq(lookup(cache, "a", &of, rpool, 100), KL_OK);
    cr_assert_eq(of.size, 3);

    put("a", "brand new");

    /* Within valid (10 s): the cached answer. */
    cr_assert_eq(lookup(cache, "a", &of, rpool, 105), KL_OK);
    cr_assert_eq(of.size, 3);

    /* After valid: the new file. */
    cr_assert_eq(lookup(cache, "a", &of, rpool, 111), KL_OK);
    cr_assert_eq(of.size, 9);
    cr_assert(of.cached);
    cr_assert_eq(kl_open_file_cache_size(cache), 1);
    kl_pool_free(rpool);
    kl_pool_free(cpool);
}


Test(open_file_cache, deleted_file_fails_after_valid)
{
    kl_open_file_cache_t *cache;
    kl_open_file_info_t   of;

    cache = kl_open_file_cache_create(cpool, 10, 60);
    put("a", "here");
    cr_assert_eq(lookup(cache, "a", &of, rpool, 100), KL_OK);
    cr_assert_eq(unlink((char *) name_of("a")->data), 0);

    cr_assert_eq(lookup(cache, "a", &of, rpool, 109), KL_OK);
    cr_assert_eq(lookup(cache, "a", &of, rpool, 110), KL_ERROR);
    cr_assert_eq(of.err, ENOENT);
    cr_assert_str_eq(of.failed, "open()");
    kl_pool_free(rpool);
    kl_pool_free(cpool);
}


Test(open_file_cache, errors_cached_only_when_asked)
{
    kl_open_file_cache_t *cache;
    kl_open_file_info_t   of;

    cache = kl_open_file_cache_create(cpool, 10, 60);

    cr_assert_eq(lookup(cache, "missing", &of, rpool, 100), KL_ERROR);
    cr_assert_eq(of.err, ENOENT);
    cr_assert_eq(kl_open_file_cache_size(cache), 1);

    /* Created since, but the cached error stands until valid passes. */
    put("missing", "now here");
    cr_assert_eq(lookup(cache, "missing", &of, rpool, 105), KL_ERROR);
    cr_assert_eq(lookup(cache, "missing", &of, rpool, 110), KL_OK);
    cr_assert_eq(of.size, 8);

    /* open_file_cache_errors off: a failure leaves no entry. */
    kl_memzero(&of, sizeof(kl_open_file_info_t));
    of.valid = 10;
    of.min_uses = 1;
    cr_assert_eq(kl_open_cached_file(cache, name_of("nope"), &of, rpool, 111),
                 KL_ERROR);
    cr_assert_eq(of.err, ENOENT);
    cr_assert_eq(kl_open_file_cache_size(cache), 1);
    kl_pool_free(rpool);
    kl_pool_free(cpool);
}


Test(open_file_cache, max_evicts_least_recently_used)
{
    kl_open_file_cache_t *cache;
    kl_open_file_info_t   of;
    int                   fds[5];
    kl_pool_t            *p;
    char                  name[16];
    int                   i;

    cache = kl_open_file_cache_create(cpool, 3, 60);

    for (i = 0; i < 5; i++) {
        snprintf(name, sizeof(name), "f%d", i);
        put(name, "x");
        p = kl_pool_create(1024, NULL);
        cr_assert_eq(lookup(cache, name, &of, p, 100 + i), KL_OK);
        fds[i] = of.fd;
        kl_pool_free(p);
    }

    cr_assert_eq(kl_open_file_cache_size(cache), 3);

    /* The two oldest were dropped and, unused, closed. */
    cr_assert(!fd_is(fds[0], "f0") && !fd_is(fds[1], "f1"));
    cr_assert(fd_is(fds[2], "f2") && fd_is(fds[3], "f3")
              && fd_is(fds[4], "f4"));
    kl_pool_free(rpool);
    kl_pool_free(cpool);
}


Test(open_file_cache, evicted_fd_in_use_stays_open)
{
    kl_open_file_cache_t *cache;
    kl_open_file_info_t   of;
    int                   fd;

    cache = kl_open_file_cache_create(cpool, 1, 60);
    put("a", "a");
    put("b", "b");

    cr_assert_eq(lookup(cache, "a", &of, rpool, 100), KL_OK);
    fd = of.fd;

    /* b takes a's place while a request still reads a. */
    cr_assert_eq(lookup(cache, "b", &of, cpool, 101), KL_OK);
    cr_assert_eq(kl_open_file_cache_size(cache), 1);
    cr_assert(fd_open(fd));

    kl_pool_free(rpool);
    cr_assert(!fd_open(fd));
    kl_pool_free(cpool);
}


Test(open_file_cache, inactive_entries_expire)
{
    kl_open_file_cache_t *cache;
    kl_open_file_info_t   of;
    kl_pool_t            *p;
    int                   fd;

    cache = kl_open_file_cache_create(cpool, 10, 20);
    put("a", "a");
    put("b", "b");

    p = kl_pool_create(1024, NULL);
    cr_assert_eq(lookup(cache, "a", &of, p, 100), KL_OK);
    fd = of.fd;
    kl_pool_free(p);

    /* Used at 119: still there; then unused past 20 s: gone. */
    cr_assert_eq(lookup(cache, "b", &of, rpool, 119), KL_OK);
    cr_assert_eq(kl_open_file_cache_size(cache), 2);
    cr_assert(fd_open(fd));

    cr_assert_eq(lookup(cache, "b", &of, rpool, 130), KL_OK);
    cr_assert_eq(kl_open_file_cache_size(cache), 1);
    cr_assert(!fd_open(fd));
    kl_pool_free(rpool);
    kl_pool_free(cpool);
}


Test(open_file_cache, min_uses_delays_keeping_the_fd)
{
    kl_open_file_cache_t *cache;
    kl_open_file_info_t   of;

    cache = kl_open_file_cache_create(cpool, 10, 60);
    put("a", "abc");

    kl_memzero(&of, sizeof(kl_open_file_info_t));
    of.valid = 10;
    of.min_uses = 3;

    cr_assert_eq(kl_open_cached_file(cache, name_of("a"), &of, rpool, 100),
                 KL_OK);
    cr_assert(!of.cached);
    cr_assert_eq(kl_open_cached_file(cache, name_of("a"), &of, rpool, 101),
                 KL_OK);
    cr_assert(!of.cached);
    cr_assert_eq(kl_open_cached_file(cache, name_of("a"), &of, rpool, 102),
                 KL_OK);
    cr_assert(of.cached);
    cr_assert_eq(of.size, 3);
    kl_pool_free(rpool);
    kl_pool_free(cpool);
}


Test(open_file_cache, directory_cached_without_fd)
{
    kl_open_file_cache_t *cache;
    kl_open_file_info_t   of;

    cache = kl_open_file_cache_create(cpool, 10, 60);
    cr_assert_eq(mkdir((char *) name_of("d")->data, 0755), 0);

    cr_assert_eq(lookup(cache, "d", &of, rpool, 100), KL_OK);
    cr_assert(of.is_dir && !of.is_file);
    cr_assert_eq(of.fd, -1);
    cr_assert_eq(lookup(cache, "d", &of, rpool, 101), KL_OK);
    cr_assert(of.is_dir);
    cr_assert_eq(kl_open_file_cache_size(cache), 1);
    kl_pool_free(rpool);
    kl_pool_free(cpool);
}


Test(open_file_cache, small_files_kept_in_memory)
{
    kl_open_file_cache_t *cache;
    kl_open_file_info_t   of;

    cache = kl_open_file_cache_create(cpool, 10, 60);
    put("small", "tiny body");
    put("big", "0123456789abcdef0123");

    kl_memzero(&of, sizeof(kl_open_file_info_t));
    of.valid = 10;
    of.min_uses = 1;
    of.read_small = 16;

    cr_assert_eq(kl_open_cached_file(cache, name_of("small"), &of, rpool, 100),
                 KL_OK);
    cr_assert_not_null(of.data);
    cr_assert_eq(memcmp(of.data, "tiny body", 9), 0);

    cr_assert_eq(kl_open_cached_file(cache, name_of("big"), &of, rpool, 100),
                 KL_OK);
    cr_assert_null(of.data, "20 bytes is over read_small");

    /* Replaced: the old copy until valid, then the new contents. */
    put("small", "other body");
    cr_assert_eq(kl_open_cached_file(cache, name_of("small"), &of, rpool, 105),
                 KL_OK);
    cr_assert_eq(memcmp(of.data, "tiny body", 9), 0);
    cr_assert_eq(kl_open_cached_file(cache, name_of("small"), &of, rpool, 110),
                 KL_OK);
    cr_assert_eq(of.size, 10);
    cr_assert_eq(memcmp(of.data, "other body", 10), 0);

    /* Without a cache nothing is kept in memory. */
    cr_assert_eq(kl_open_cached_file(NULL, name_of("small"), &of, rpool, 110),
                 KL_OK);
    cr_assert_null(of.data);
    kl_pool_free(rpool);
    kl_pool_free(cpool);
}


Test(open_file_cache, disable_symlinks)
{
    kl_open_file_info_t of;
    char                target[256];

    put("real", "data");
    snprintf(target, sizeof(target), "%s/sub", dir);
    cr_assert_eq(mkdir(target, 0755), 0);
    put("sub/f", "in sub");
    snprintf(target, sizeof(target), "%s/link", dir);
    cr_assert_eq(symlink("real", target), 0);
    snprintf(target, sizeof(target), "%s/sublink", dir);
    cr_assert_eq(symlink("sub", target), 0);

    kl_memzero(&of, sizeof(kl_open_file_info_t));
    of.disable_symlinks = KL_DISABLE_SYMLINKS_ON;

    cr_assert_eq(kl_open_cached_file(NULL, name_of("real"), &of, rpool, 1),
                 KL_OK);
    cr_assert_eq(kl_open_cached_file(NULL, name_of("sub/f"), &of, rpool, 1),
                 KL_OK);
    cr_assert_eq(of.size, 6);
    cr_assert_eq(kl_open_cached_file(NULL, name_of("link"), &of, rpool, 1),
                 KL_ERROR);
    cr_assert_eq(of.err, ELOOP);
    cr_assert_eq(kl_open_cached_file(NULL, name_of("sublink/f"), &of, rpool, 1),
                 KL_ERROR);

    /* The name is restored after the walk. */
    cr_assert_eq(strlen(path), strlen(dir) + sizeof("/sublink/f") - 1);

    /* Links before from= are not checked; after it they are. */
    of.disable_symlinks_from = strlen(dir) + sizeof("/sublink") - 1;
    cr_assert_eq(kl_open_cached_file(NULL, name_of("sublink/f"), &of, rpool, 1),
                 KL_OK);

    /* Same owner (the test made both): if_not_owner follows the link. */
    of.disable_symlinks = KL_DISABLE_SYMLINKS_NOTOWNER;
    of.disable_symlinks_from = 0;
    cr_assert_eq(kl_open_cached_file(NULL, name_of("link"), &of, rpool, 1),
                 KL_OK);
    cr_assert_eq(of.size, 4);

    of.disable_symlinks = KL_DISABLE_SYMLINKS_OFF;
    cr_assert_eq(kl_open_cached_file(NULL, name_of("link"), &of, rpool, 1),
                 KL_OK);
    kl_pool_free(rpool);
    kl_pool_free(cpool);
}
