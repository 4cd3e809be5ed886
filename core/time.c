/* time.c: the per-loop cached clock, its date strings, and gmtime/localtime. */

#include "kl_config.h"
#include "kl_types.h"
#include "string.h"
#include "time.h"

static void kl_time_strings(kl_clock_t *clock);

static const char *kl_time_months[] = { "Jan", "Feb", "Mar", "Apr",
                                        "May", "Jun", "Jul", "Aug",
                                        "Sep", "Oct", "Nov", "Dec" };


/*
 * Timers run on CLOCK_MONOTONIC so a wall-clock step cannot fire or
 * stall them; only the strings follow the wall clock.
 */
void
kl_time_update(kl_clock_t *clock)
{
    struct timespec ts, mono;

    (void) clock_gettime(CLOCK_REALTIME, &ts);
    (void) clock_gettime(CLOCK_MONOTONIC, &mono);

    clock->sec = ts.tv_sec;
    clock->msec_part = (kl_uint_t) (ts.tv_nsec / 1000000);
    clock->msec =
        (kl_msec_t) mono.tv_sec * 1000 + (kl_msec_t) (mono.tv_nsec / 1000000);

    if (clock->http_time_len != 0 && clock->strings_sec == clock->sec) {
        return;
    }

    kl_time_strings(clock);
}


static void
kl_time_strings(kl_clock_t *clock)
{
    u_char   *p;
    long      off;
    u_char    sign;
    struct tm tm;

    p = kl_http_time(clock->http_time, clock->sec);
    *p = '\0';
    clock->http_time_len = (size_t) (p - clock->http_time);

    kl_localtime(clock->sec, &tm);

    p = kl_slprintf(
        clock->log_time, clock->log_time + sizeof(clock->log_time) - 1,
        "%4d/%02d/%02d %02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
        tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    *p = '\0';
    clock->log_time_len = (size_t) (p - clock->log_time);

    off = tm.tm_gmtoff / 60;
    sign = (u_char) (off < 0 ? '-' : '+');
    off = kl_abs(off);

    p = kl_slprintf(clock->iso8601, clock->iso8601 + sizeof(clock->iso8601) - 1,
                    "%4d-%02d-%02dT%02d:%02d:%02d%c%02l:%02l",
                    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                    tm.tm_min, tm.tm_sec, sign, off / 60, off % 60);
    *p = '\0';

    p = kl_slprintf(clock->http_log_time,
                    clock->http_log_time + sizeof(clock->http_log_time) - 1,
                    "%02d/%s/%d:%02d:%02d:%02d %c%02l%02l", tm.tm_mday,
                    kl_time_months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour,
                    tm.tm_min, tm.tm_sec, sign, off / 60, off % 60);
    *p = '\0';

    clock->strings_sec = clock->sec;
}


/*
 * Pure arithmetic (civil_from_days() after Howard Hinnant): no locks, no
 * TZ, safe in a signal handler, valid for any time_t, negative included.
 */
void
kl_gmtime(time_t t, struct tm *tp)
{
    int64_t          days, secs, z, era, doe, yoe, y, doy, mp, d, m, leap;
    static const int yday_before[] = { 0,   31,  59,  90,  120, 151,
                                       181, 212, 243, 273, 304, 334 };

    days = (int64_t) t / 86400;
    secs = (int64_t) t % 86400;

    if (secs < 0) {
        secs += 86400;
        days--;
    }

    z = days + 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    y = yoe + era * 400;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    d = doy - (153 * mp + 2) / 5 + 1;
    m = mp < 10 ? mp + 3 : mp - 9;
    y += (m <= 2);

    leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

    kl_memzero(tp, sizeof(struct tm));

    tp->tm_sec = (int) (secs % 60);
    tp->tm_min = (int) (secs / 60 % 60);
    tp->tm_hour = (int) (secs / 3600);
    tp->tm_mday = (int) d;
    tp->tm_mon = (int) (m - 1);
    tp->tm_year = (int) (y - 1900);
    tp->tm_wday = (int) (((days % 7) + 11) % 7);
    tp->tm_yday = (int) (yday_before[m - 1] + d - 1 + (m > 2 && leap));
    tp->tm_isdst = 0;
}


void
kl_localtime(time_t t, struct tm *tp)
{
    if (localtime_r(&t, tp) == NULL) {
        kl_gmtime(t, tp);
    }
}


/* An error line is not a hot path: read the clock afresh for each one. */
u_char *
kl_time_log_string(u_char *buf)
{
    struct tm tm;

    kl_localtime(time(NULL), &tm);

    return kl_slprintf(buf, buf + sizeof("1970/09/28 12:00:00") - 1,
                       "%4d/%02d/%02d %02d:%02d:%02d", tm.tm_year + 1900,
                       tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                       tm.tm_sec);
}
