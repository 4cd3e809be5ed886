/* test_files.c: reads and writes, full names, dirname and include globs. */

#include <criterion/criterion.h>

#include "kl_config.h"
#include "kl_types.h"
#include "string.h"
#include "pool.h"
#include "files.h"

static char       dir[64];
static kl_pool_t *pool;


static void
touch(const char *name)
{
    char path[256];
    int  fd;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    cr_assert_geq(fd, 0);
    close(fd);
}


static void
setup(void)
{
    /* each test runs in its own process, so the pid makes the name unique */
    snprintf(dir, sizeof(dir), "/tmp/kl_test_files_%d", (int) getpid());
    cr_assert_eq(mkdir(dir, 0700), 0, "mkdir %s failed", dir);
    pool = kl_pool_create(1024, NULL);
    cr_assert_not_null(pool);
}


static void
teardown(void)
{
    char cmd[300];

    kl_pool_free(pool);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}


TestSuite(files, .init = setup, .fini = teardown);


Test(files, write_all_then_read)
{
    char      path[256];
    u_char    data[100000], back[100000];
    kl_file_t file;
    ssize_t   n;
    size_t    i;

    for (i = 0; i < sizeof(data); i++) {
        data[i] = (u_char) (i * 7);
    }

    snprintf(path, sizeof(path), "%s/data", dir);

    memset(&file, 0, sizeof(file));
    file.fd = kl_open_file(path, KL_FILE_RDWR, KL_FILE_TRUNCATE,
                           KL_FILE_DEFAULT_ACCESS);
    cr_assert_geq(file.fd, 0);

    cr_assert_eq(kl_write_fd_all(file.fd, data, sizeof(data)),
                 (ssize_t) sizeof(data));

    n = kl_read_file(&file, back, 1000, 5000);
    cr_assert_eq(n, 1000);
    cr_assert(memcmp(back, data + 5000, 1000) == 0);
    cr_assert_eq(file.offset, 6000);

    n = kl_read_file(&file, back, sizeof(back), 0);
    cr_assert_eq(n, (ssize_t) sizeof(data));
    cr_assert(memcmp(back, data, sizeof(data)) == 0);

    n = kl_read_file(&file, back, 10, sizeof(data));
    cr_assert_eq(n, 0, "read at the end of the file");

    kl_close_file(file.fd);

    n = kl_read_file(&file, back, 10, 0);
    cr_assert_eq(n, -1);
    cr_assert_eq(errno, EBADF);

    cr_assert_eq(kl_write_fd_all(-1, data, 1), -1);
    cr_assert_eq(errno, EBADF);
}


Test(files, full_name)
{
    kl_str_t prefix = kl_string("/etc/kiln/");
    kl_str_t bare = kl_string("/etc/kiln");
    kl_str_t none = kl_null_string;
    kl_str_t name;
    u_char  *orig;

    kl_str_set(&name, "mime.types");
    cr_assert_eq(kl_file_full_name(pool, &prefix, &name), KL_OK);
    cr_assert_eq(name.len, strlen("/etc/kiln/mime.types"));
    cr_assert_str_eq((char *) name.data, "/etc/kiln/mime.types");

    kl_str_set(&name, "conf/a.conf");
    cr_assert_eq(kl_file_full_name(pool, &bare, &name), KL_OK);
    cr_assert_str_eq((char *) name.data, "/etc/kiln/conf/a.conf");

    kl_str_set(&name, "/abs/path");
    orig = name.data;
    cr_assert_eq(kl_file_full_name(pool, &prefix, &name), KL_OK);
    cr_assert_str_eq((char *) name.data, "/abs/path");
    cr_assert_eq(name.len, 9);
    cr_assert_neq(name.data, orig, "copied into the pool");

    kl_str_set(&name, "rel");
    cr_assert_eq(kl_file_full_name(pool, &none, &name), KL_OK);
    cr_assert_str_eq((char *) name.data, "rel");
}


Test(files, dirname)
{
    kl_str_t path, d;

    kl_str_set(&path, "conf/a");
    kl_file_dirname(&path, &d);
    cr_assert_eq(d.len, 5);
    cr_assert(memcmp(d.data, "conf/", 5) == 0);

    kl_str_set(&path, "/etc/kiln/kiln.conf");
    kl_file_dirname(&path, &d);
    cr_assert_eq(d.len, 10);

    kl_str_set(&path, "/a");
    kl_file_dirname(&path, &d);
    cr_assert_eq(d.len, 1);

    kl_str_set(&path, "kiln.conf");
    kl_file_dirname(&path, &d);
    cr_assert_eq(d.len, 0);
}


Test(files, glob_sorted_matches)
{
    kl_glob_t gl;
    kl_str_t  name;
    char      pattern[256];
    char      expect[256];

    touch("b.conf");
    touch("a.conf");
    touch("c.conf");
    touch("skip.txt");

    snprintf(pattern, sizeof(pattern), "%s/*.conf", dir);

    memset(&gl, 0, sizeof(gl));
    gl.pattern.data = (u_char *) pattern;
    gl.pattern.len = strlen(pattern);

    cr_assert(kl_glob_is_pattern(&gl.pattern));
    cr_assert_eq(kl_glob_open(&gl), KL_OK);

    cr_assert_eq(kl_glob_next(&gl, &name), KL_OK);
    snprintf(expect, sizeof(expect), "%s/a.conf", dir);
    cr_assert_str_eq((char *) name.data, expect);
    cr_assert_eq(name.len, strlen(expect));

    cr_assert_eq(kl_glob_next(&gl, &name), KL_OK);
    snprintf(expect, sizeof(expect), "%s/b.conf", dir);
    cr_assert_str_eq((char *) name.data, expect);

    cr_assert_eq(kl_glob_next(&gl, &name), KL_OK);
    snprintf(expect, sizeof(expect), "%s/c.conf", dir);
    cr_assert_str_eq((char *) name.data, expect);

    cr_assert_eq(kl_glob_next(&gl, &name), KL_DONE);
    cr_assert_eq(kl_glob_next(&gl, &name), KL_DONE);

    kl_glob_close(&gl);
    kl_glob_close(&gl);
}


Test(files, glob_missing_names)
{
    kl_glob_t gl;
    kl_str_t  name;
    char      pattern[256];

    touch("exists.conf");

    /* a plain name that exists comes back as itself */
    snprintf(pattern, sizeof(pattern), "%s/exists.conf", dir);
    memset(&gl, 0, sizeof(gl));
    gl.pattern.data = (u_char *) pattern;
    gl.pattern.len = strlen(pattern);
    cr_assert_not(kl_glob_is_pattern(&gl.pattern));
    cr_assert_eq(kl_glob_open(&gl), KL_OK);
    cr_assert_eq(kl_glob_next(&gl, &name), KL_OK);
    cr_assert_str_eq((char *) name.data, pattern);
    cr_assert_eq(kl_glob_next(&gl, &name), KL_DONE);
    kl_glob_close(&gl);

    /* a plain name that does not exist is an error */
    snprintf(pattern, sizeof(pattern), "%s/missing.conf", dir);
    memset(&gl, 0, sizeof(gl));
    gl.pattern.data = (u_char *) pattern;
    gl.pattern.len = strlen(pattern);
    errno = 0;
    cr_assert_eq(kl_glob_open(&gl), KL_ERROR);
    cr_assert_eq(errno, ENOENT);
    kl_glob_close(&gl);

    /* ... unless only testing: then it is an empty match */
    gl.test = 1;
    cr_assert_eq(kl_glob_open(&gl), KL_OK);
    cr_assert_eq(kl_glob_next(&gl, &name), KL_DONE);
    kl_glob_close(&gl);

    snprintf(pattern, sizeof(pattern), "%s/*.none", dir);
    memset(&gl, 0, sizeof(gl));
    gl.pattern.data = (u_char *) pattern;
    gl.pattern.len = strlen(pattern);
    gl.test = 1;
    cr_assert_eq(kl_glob_open(&gl), KL_OK);
    cr_assert_eq(kl_glob_next(&gl, &name), KL_DONE);
    kl_glob_close(&gl);
}


Test(files, glob_is_pattern)
{
    kl_str_t s;

    kl_str_set(&s, "conf.d/*.conf");
    cr_assert(kl_glob_is_pattern(&s));
    kl_str_set(&s, "file?.conf");
    cr_assert(kl_glob_is_pattern(&s));
    kl_str_set(&s, "[ab].conf");
    cr_assert(kl_glob_is_pattern(&s));
    kl_str_set(&s, "plain.conf");
    cr_assert_not(kl_glob_is_pattern(&s));
}
