/* test_time.c: pure gmtime against libc, the cached clock and its strings. */

#include <criterion/criterion.h>

#include "kl_config.h"
#include "kl_types.h"
#include "string.h"
#include "time.h"


static void
use_tz(const char *tz)
{
    cr_assert_eq(setenv("TZ", tz, 1), 0);
    tzset();
}


Test(time, gmtime_matches_libc)
{
    struct tm           a, b;
    time_t              t;
    uint64_t            seed;
    int                 i;
    static const time_t fixed[] = {
        0,          -1,           86399,       86400,
        951782399,  951782400,    951868800,   4102444799,
        4102444800, 253402300799, -2208988800, -62135596800
    };

    seed = 0x9e3779b97f4a7c15ULL;

    for (i = 0; i < 200000; i++) {
        if (i < (int) (sizeof(fixed) / sizeof(fixed[0]))) {
            t = fixed[i];

        } else {
            seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
            t = (time_t) (seed >> 26) - (time_t) 137438953472LL;
        }

        kl_gmtime(t, &a);
        cr_assert_not_null(gmtime_r(&t, &b));

        cr_assert(a.tm_year == b.tm_year && a.tm_mon == b.tm_mon
                      && a.tm_mday == b.tm_mday && a.tm_hour == b.tm_hour
                      && a.tm_min == b.tm_min && a.tm_sec == b.tm_sec
                      && a.tm_wday == b.tm_wday && a.tm_yday == b.tm_yday,
                  "t=%lld: %d-%d-%d %d:%d:%d w%d y%d vs "
                  "%d-%d-%d %d:%d:%d w%d y%d",
                  (long long) t, a.tm_year, a.tm_mon, a.tm_mday, a.tm_hour,
                  a.tm_min, a.tm_sec, a.tm_wday, a.tm_yday, b.tm_year, b.tm_mon,
                  b.tm_mday, b.tm_hour, b.tm_min, b.tm_sec, b.tm_wday,
                  b.tm_yday);
    }
}


Test(time, localtime_follows_tz)
{
    struct tm tm;

    use_tz("XYZ-6");

    kl_localtime(0, &tm);
    cr_assert_eq(tm.tm_year, 70);
    cr_assert_eq(tm.tm_mday, 1);
    cr_assert_eq(tm.tm_hour, 6);
    cr_assert_eq(tm.tm_gmtoff, 6 * 3600);
}


Test(time, update_builds_strings_utc)
{
    kl_clock_t clock;
    struct tm  tm;
    char       expect[64];
    time_t     now;

    use_tz("UTC0");

    memset(&clock, 0, sizeof(clock));
    now = time(NULL);
    kl_time_update(&clock);

    cr_assert_geq(clock.sec, now);
    cr_assert_leq(clock.sec, now + 2);
    cr_assert_lt(clock.msec_part, 1000);
    cr_assert_gt(clock.msec, 0);
    cr_assert_eq(clock.strings_sec, clock.sec);

    cr_assert_eq(clock.http_time_len, 29);
    cr_assert_eq(strlen((char *) clock.http_time), 29);
    cr_assert_eq(kl_parse_http_time(clock.http_time, clock.http_time_len),
                 clock.sec);

    gmtime_r(&clock.sec, &tm);

    strftime(expect, sizeof(expect), "%Y/%m/%d %H:%M:%S", &tm);
    cr_assert_eq(clock.log_time_len, 19);
    cr_assert_str_eq((char *) clock.log_time, expect);

    strftime(expect, sizeof(expect), "%Y-%m-%dT%H:%M:%S+00:00", &tm);
    cr_assert_str_eq((char *) clock.iso8601, expect);

    strftime(expect, sizeof(expect), "%d/%b/%Y:%H:%M:%S +0000", &tm);
    cr_assert_str_eq((char *) clock.http_log_time, expect);
}


Test(time, update_offsets_east_and_west)
{
    kl_clock_t clock;
    size_t     n;

    use_tz("XYZ-6");
    memset(&clock, 0, sizeof(clock));
    kl_time_update(&clock);

    n = strlen((char *) clock.iso8601);
    cr_assert_eq(n, sizeof("1970-09-28T12:00:00+06:00") - 1);
    cr_assert_str_eq((char *) clock.iso8601 + n - 6, "+06:00");
    n = strlen((char *) clock.http_log_time);
    cr_assert_eq(n, sizeof("28/Sep/1970:12:00:00 +0600") - 1);
    cr_assert_str_eq((char *) clock.http_log_time + n - 5, "+0600");

    use_tz("ABC+3:30");
    memset(&clock, 0, sizeof(clock));
    kl_time_update(&clock);

    n = strlen((char *) clock.iso8601);
    cr_assert_str_eq((char *) clock.iso8601 + n - 6, "-03:30");
    n = strlen((char *) clock.http_log_time);
    cr_assert_str_eq((char *) clock.http_log_time + n - 5, "-0330");
}


Test(time, strings_rebuilt_only_when_second_changes)
{
    kl_clock_t clock;
    kl_msec_t  before;
    time_t     sec;
    int        i;

    use_tz("UTC0");
    memset(&clock, 0, sizeof(clock));
    kl_time_update(&clock);

    for (i = 0; i < 50; i++) {
        sec = clock.sec;
        before = clock.msec;
        clock.http_time[0] = 'X';

        kl_time_update(&clock);
        cr_assert_geq(clock.msec, before, "the monotonic clock went back");

        if (clock.sec == sec) {
            cr_assert_eq(clock.http_time[0], 'X',
                         "strings rebuilt within one second");

        } else {
            cr_assert_neq(clock.http_time[0], 'X',
                          "strings kept across a second");
            cr_assert_eq(clock.strings_sec, clock.sec);
        }

        usleep(30000);
    }
}


Test(time, log_string)
{
    u_char    buf[32], *e;
    struct tm tm;
    char      expect[32], expect2[32];
    time_t    t;

    use_tz("UTC0");

    t = time(NULL);
    memset(buf, '#', sizeof(buf));
    e = kl_time_log_string(buf);
    cr_assert_eq(e - buf, 19);
    cr_assert_eq(buf[19], '#');

    gmtime_r(&t, &tm);
    strftime(expect, sizeof(expect), "%Y/%m/%d %H:%M:%S", &tm);
    t++;
    gmtime_r(&t, &tm);
    strftime(expect2, sizeof(expect2), "%Y/%m/%d %H:%M:%S", &tm);

    cr_assert(memcmp(buf, expect, 19) == 0 || memcmp(buf, expect2, 19) == 0,
              "%.19s", buf);
}
