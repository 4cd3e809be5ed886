/* test_log_write.c: modules/log/log_write.c: gzip members, write errors, evaluated paths. */

#include <criterion/criterion.h>
#include <zlib.h>

#include "kl_http.h"
#include "log_write.h"

static char           path[64];
static kl_open_file_t file;
static kl_log_t       log;


static void
setup(void)
{
    snprintf(path, sizeof(path), "/tmp/kl_test_log_write_%d", (int) getpid());
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


TestSuite(log_write, .init = setup, .fini = teardown);


/* The whole file (static storage) and its length. */
static u_char *
slurp(const char *name, size_t *len)
{
    static u_char text[1 << 20];
    ssize_t       n;
    int           fd;

    fd = open(name, O_RDONLY);
    cr_assert_geq(fd, 0);
    n = read(fd, text, sizeof(text));
    cr_assert_geq(n, 0);
    close(fd);
    *len = (size_t) n;

    return text;
}


/*
 * Inflate every gzip member in [in, in + len) into out; the number of
 * members, or -1 if a member is broken or the data ends inside one.
 */
static int
gunzip_members(u_char *in, size_t len, u_char *out, size_t size, size_t *got)
{
    int      members, rc;
    z_stream zs;

    memset(&zs, 0, sizeof(zs));
    zs.next_in = in;
    zs.avail_in = (uInt) len;
    zs.next_out = out;
    zs.avail_out = (uInt) size;

    for (members = 0; zs.avail_in; members++) {
        cr_assert_eq(inflateInit2(&zs, 16 + MAX_WBITS), Z_OK);
        rc = inflate(&zs, Z_FINISH);
        inflateEnd(&zs);

        if (rc != Z_STREAM_END) {
            return -1;
        }
    }

    *got = (size_t) (zs.next_out - out);

    return members;
}


Test(log_write, plain_write)
{
    size_t len;
    time_t error_time = 0;

    kl_http_log_write(file.fd, file.name.data, (u_char *) "line\n", 5, 0,
                      &error_time, &log);

    cr_assert_eq(memcmp(slurp(path, &len), "line\n", 5), 0);
    cr_assert_eq(len, 5);
}


Test(log_write, gzip_members_read_as_one)
{
    static u_char big[100000], out[1 << 20];
    u_char       *text;
    size_t        i, len, got;
    time_t        error_time = 0;
    int           level;

    kl_http_log_write(file.fd, file.name.data, (u_char *) "a\nb\n", 4, 1,
                      &error_time, &log);
    text = slurp(path, &len);
    cr_assert_eq(gunzip_members(text, len, out, sizeof(out), &got), 1);
    cr_assert_eq(got, 4);
    cr_assert_eq(memcmp(out, "a\nb\n", 4), 0);

    /* larger than the smallest window, at every level: one member each */
    for (i = 0; i < sizeof(big); i++) {
        big[i] = (u_char) ("abcdefghij\n"[i % 11] + (i / 7919) % 3);
    }

    for (level = 2; level <= 9; level++) {
        kl_http_log_write(file.fd, file.name.data, big, sizeof(big), level,
                          &error_time, &log);
    }

    kl_http_log_write(file.fd, file.name.data, (u_char *) "end\n", 4, 9,
                      &error_time, &log);

    text = slurp(path, &len);
    cr_assert_eq(gunzip_members(text, len, out, sizeof(out), &got), 10);
    cr_assert_eq(got, 4 + 8 * sizeof(big) + 4);
    cr_assert_eq(memcmp(out, "a\nb\n", 4), 0);

    for (level = 2; level <= 9; level++) {
        cr_assert_eq(
            memcmp(out + 4 + (level - 2) * sizeof(big), big, sizeof(big)), 0,
            "level %d", level);
    }

    cr_assert_eq(memcmp(out + got - 4, "end\n", 4), 0);

    cr_assert_eq(error_time, 0, "no write error was logged");
}


Test(log_write, failed_write_logged_once_a_minute)
{
    size_t len;
    time_t error_time = 0;
    int    fd;

    /* a descriptor open for reading only: write() fails with EBADF */
    fd = open(path, O_RDONLY);
    cr_assert_geq(fd, 0);

    kl_loop.clock.sec = 1000000;
    kl_http_log_write(fd, (u_char *) "ro.log", (u_char *) "x\n", 2, 0,
                      &error_time, &log);
    cr_assert_eq(error_time, 1000000);
    kl_http_log_write(fd, (u_char *) "ro.log", (u_char *) "x\n", 2, 1,
                      &error_time, &log);
    kl_loop.clock.sec += 60;
    kl_http_log_write(fd, (u_char *) "ro.log", (u_char *) "x\n", 2, 0,
                      &error_time, &log);
    cr_assert_eq(error_time, 1000060);
    close(fd);

    (void) slurp(path, &len);
    cr_assert_gt(len, 0);
    cr_assert_not_null(strstr((char *) slurp(path, &len),
                              "write() to \"ro.log\" failed (9: "));
}


Test(log_write, evaluated_paths)
{
    static const struct {
        const char *path;
        kl_uint_t   valid;
    } cases[] = {
        { "/var/log/a.log", 1 },
        { "logs/a..b.log", 1 },
        { "logs/.a.log", 1 },
        { "logs/...", 1 },
        { "", 0 },
        { "logs/", 0 },
        { "..", 0 },
        { "../a.log", 0 },
        { "logs/../a.log", 0 },
        { "logs/..", 0 },
    };
    kl_str_t s;
    size_t   i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        s.data = (u_char *) cases[i].path;
        s.len = strlen(cases[i].path);
        cr_assert_eq(kl_http_log_path_valid(&s), cases[i].valid, "\"%s\"",
                     cases[i].path);
    }

    s.data = (u_char *) "logs/a\0b.log";
    s.len = 12;
    cr_assert_eq(kl_http_log_path_valid(&s), 0, "a NUL byte");
}
