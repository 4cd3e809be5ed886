/* fuzz_http_time.c: libFuzzer target for kl_parse_http_time, kl_http_time. */

/*
 * The input is an HTTP-date field value (If-Modified-Since,
 * If-Unmodified-Since, If-Range). The answer must equal a slow reference
 * (the three fixed-width forms of RFC 9110 5.6.7 matched against
 * templates, the date checked and converted with timegm()), and a valid
 * time must print back with kl_http_time() as strftime() prints it and
 * reparse to the same time; an IMF-fixdate whose day name is the right
 * one prints back byte for byte. The first 8 bytes, read as a time in
 * 1970..9999, must round-trip through kl_http_time() as well.
 */

#include "kl_core.h"


static const char *fuzz_wkday[] = { "Sun", "Mon", "Tue", "Wed",
                                    "Thu", "Fri", "Sat" };
static const char *fuzz_weekday[] = { "Sunday",    "Monday",   "Tuesday",
                                      "Wednesday", "Thursday", "Friday",
                                      "Saturday" };
static const char *fuzz_month[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };


/*
 * Match s against a template: 'd' a digit, 'w' a short day name, 'W' a
 * long one (then the rest must follow at once), 'm' a month name, any
 * other byte itself. Fills the numbers in order into num[].
 */
static int
fuzz_match(const u_char *s, size_t len, const char *tpl, int *num, int *mon)
{
    size_t i, k, n;
    int    d, in_num;

    for (i = 0, n = 0, in_num = 0; *tpl; tpl++) {
        if (*tpl == 'd') {
            if (i >= len || s[i] < '0' || s[i] > '9') {
                return 0;
            }

            if (!in_num) {
                num[n++] = 0;
                in_num = 1;
            }

            num[n - 1] = num[n - 1] * 10 + (s[i++] - '0');
            continue;
        }

        in_num = 0;

        if (*tpl == 'w' || *tpl == 'W') {
            for (d = 0; d < 7; d++) {
                k = strlen(*tpl == 'w' ? fuzz_wkday[d] : fuzz_weekday[d]);

                if (i + k <= len
                    && memcmp(s + i,
                              *tpl == 'w' ? fuzz_wkday[d] : fuzz_weekday[d], k)
                           == 0)
                {
                    break;
                }
            }

            if (d == 7) {
                return 0;
            }

            i += k;
            continue;
        }

        if (*tpl == 'm') {
            for (d = 0; d < 12; d++) {
                if (i + 3 <= len && memcmp(s + i, fuzz_month[d], 3) == 0) {
                    break;
                }
            }

            if (d == 12) {
                return 0;
            }

            *mon = d;
            i += 3;
            continue;
        }

        if (i >= len || s[i] != (u_char) *tpl) {
            return 0;
        }

        i++;
    }

    return i == len;
}


static time_t
fuzz_reference(const u_char *s, size_t len)
{
    int       num[8], mon, day, year, hour, min, sec;
    time_t    t;
    struct tm tm, back;

    mon = -1;

    if (fuzz_match(s, len, "w, dd m dddd dd:dd:dd GMT", num, &mon)) {
        day = num[0];
        year = num[1];

    } else if (fuzz_match(s, len, "W, dd-m-dd dd:dd:dd GMT", num, &mon)) {
        day = num[0];
        year = num[1] + (num[1] < 70 ? 2000 : 1900);

    } else if (fuzz_match(s, len, "w m dd dd:dd:dd dddd", num, &mon)
               && num[0] >= 10)
    {
        day = num[0];
        year = num[4];

    } else if (fuzz_match(s, len, "w m  d dd:dd:dd dddd", num, &mon)) {
        day = num[0];
        year = num[4];

    } else {
        return KL_ERROR;
    }

    /* the clock follows the day, and the year except in asctime */
    if (len == 24) {
        hour = num[1];
        min = num[2];
        sec = num[3];

    } else {
        hour = num[2];
        min = num[3];
        sec = num[4];
    }

    if (year < 1970 || hour > 23 || min > 59 || sec > 59 || day < 1) {
        return KL_ERROR;
    }

    memset(&tm, 0, sizeof(tm));
    tm.tm_year = year - 1900;
    tm.tm_mon = mon;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = min;
    tm.tm_sec = sec;

    t = timegm(&tm);

    /* timegm() normalises Feb 30 into March: such a day does not exist */
    if (gmtime_r(&t, &back) == NULL || back.tm_mday != day
        || back.tm_mon != mon) {
        return KL_ERROR;
    }

    return t;
}


static void
fuzz_round_trip(time_t t)
{
    u_char    buf[64], *end;
    char      ref[64];
    struct tm tm;

    end = kl_http_time(buf, t);

    if (end - buf != 29 || gmtime_r(&t, &tm) == NULL) {
        abort();
    }

    /* strftime's %a and %b are the C locale's English names */
    if (strftime(ref, sizeof(ref), "%a, %d %b %Y %H:%M:%S GMT", &tm) != 29
        || memcmp(buf, ref, 29) != 0)
    {
        abort();
    }

    if (kl_parse_http_time(buf, 29) != t) {
        abort();
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char  *copy, buf[64];
    uint64_t raw;
    time_t   t, ref;

    /* exact size, so that AddressSanitizer sees a read past the end */
    copy = malloc(size ? size : 1);
    if (copy == NULL) {
        abort();
    }

    memcpy(copy, data, size);

    t = kl_parse_http_time(copy, size);
    ref = fuzz_reference(copy, size);

    if (t != ref) {
        abort();
    }

    if (t != KL_ERROR) {
        fuzz_round_trip(t);

        if (size == 29 && copy[3] == ',') {
            kl_http_time(buf, t);

            if (memcmp(buf, copy, 3) == 0 && memcmp(buf, copy, 29) != 0) {
                abort();
            }
        }
    }

    free(copy);

    if (size >= 8) {
        memcpy(&raw, data, 8);
        /* 1970-01-01 .. 9999-12-31 23:59:59, the years printed in 4 digits */
        fuzz_round_trip((time_t) (raw % 253402300800ULL));
    }

    return 0;
}
