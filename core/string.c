/* string.c: byte helpers, strict number parsers, kl_vslprintf, HTTP dates. */

#include "kl_config.h"
#include "kl_types.h"
#include "string.h"
#include "pool.h"
#include "time.h"

/* One "%..." directive's flags, as kl_sprintf_spec() read them. */
typedef struct {
    u_char    zero;
    kl_uint_t width;
    kl_uint_t sign;
    kl_uint_t hex;
    size_t    slen;
} kl_sprintf_spec_t;

/* Longest decimal form of a 64-bit value, without the sign. */
#define KL_INT64_LEN (sizeof("18446744073709551615") - 1)

static const char *kl_sprintf_spec(const char *fmt, kl_sprintf_spec_t *spec,
                                   va_list *ap);
static u_char     *kl_sprintf_int(u_char *buf, u_char *last, char conv,
                                  kl_sprintf_spec_t *spec, va_list *ap);
static u_char     *kl_sprintf_num(u_char *buf, u_char *last, uint64_t ui64,
                                  u_char zero, kl_uint_t hex, kl_uint_t width,
                                  kl_uint_t negative);
static kl_int_t    kl_parse_digits(u_char *p, size_t n);
static kl_int_t    kl_parse_month(u_char *p);
static kl_int_t    kl_parse_clock(u_char *p, kl_int_t *hour, kl_int_t *min,
                                  kl_int_t *sec);
static kl_int_t    kl_parse_wkday(u_char *p, size_t n);
static time_t      kl_make_time(kl_int_t year, kl_int_t month, kl_int_t day,
                                kl_int_t hour, kl_int_t min, kl_int_t sec);

static const char *kl_week_names[] = { "Sun", "Mon", "Tue", "Wed",
                                       "Thu", "Fri", "Sat" };

static const char *kl_week_long_names[] = { "Sunday",    "Monday",   "Tuesday",
                                            "Wednesday", "Thursday", "Friday",
                                            "Saturday" };

static const char *kl_month_names[] = { "Jan", "Feb", "Mar", "Apr",
                                        "May", "Jun", "Jul", "Aug",
                                        "Sep", "Oct", "Nov", "Dec" };


/* A table, not kl_tolower's two compares: every request field name. */
static const u_char kl_lowcase[256] = {
#define L4(c)  (c), (c) + 1, (c) + 2, (c) + 3
#define L16(c) L4(c), L4((c) + 4), L4((c) + 8), L4((c) + 12)
    L16(0x00), L16(0x10), L16(0x20), L16(0x30), 0x40,      L4('a'),   L4('e'),
    L4('i'),   L4('m'),   L4('q'),   L4('u'),   'y',       'z',       0x5b,
    0x5c,      0x5d,      0x5e,      0x5f,      L16(0x60), L16(0x70), L16(0x80),
    L16(0x90), L16(0xa0), L16(0xb0), L16(0xc0), L16(0xd0), L16(0xe0), L16(0xf0)
#undef L16
#undef L4
};


void
kl_strlow(u_char *dst, u_char *src, size_t n)
{
    while (n) {
        *dst++ = kl_lowcase[*src++];
        n--;
    }
}


u_char *
kl_cpystrn(u_char *dst, u_char *src, size_t n)
{
    if (n == 0) {
        return dst;
    }

    while (--n) {
        *dst = *src;

        if (*dst == '\0') {
            return dst;
        }

        dst++;
        src++;
    }

    *dst = '\0';

    return dst;
}


u_char *
kl_pstrdup(kl_pool_t *pool, kl_str_t *src)
{
    u_char *dst;

    dst = kl_pnalloc(pool, src->len + 1);
    if (dst == NULL) {
        return NULL;
    }

    if (src->len) {
        kl_memcpy(dst, src->data, src->len);
    }

    dst[src->len] = '\0';

    return dst;
}


kl_int_t
kl_strcasecmp(u_char *s1, u_char *s2)
{
    kl_uint_t c1, c2;

    for (;;) {
        c1 = kl_tolower(*s1);
        c2 = kl_tolower(*s2);
        s1++;
        s2++;

        if (c1 == c2) {
            if (c1) {
                continue;
            }

            return 0;
        }

        return (kl_int_t) c1 - (kl_int_t) c2;
    }
}


kl_int_t
kl_strncasecmp(u_char *s1, u_char *s2, size_t n)
{
    kl_uint_t c1, c2;

    while (n) {
        c1 = kl_tolower(*s1);
        c2 = kl_tolower(*s2);
        s1++;
        s2++;

        if (c1 == c2) {
            if (c1) {
                n--;
                continue;
            }

            return 0;
        }

        return (kl_int_t) c1 - (kl_int_t) c2;
    }

    return 0;
}


kl_int_t
kl_str_eq_nocase(kl_str_t *a, kl_str_t *b)
{
    size_t i;

    if (a->len != b->len) {
        return 0;
    }

    for (i = 0; i < a->len; i++) {
        if (kl_tolower(a->data[i]) != kl_tolower(b->data[i])) {
            return 0;
        }
    }

    return 1;
}


u_char *
kl_strnstr(u_char *s, u_char *last, char *needle, size_t n)
{
    u_char c;

    if (n == 0) {
        return s;
    }

    if (last - s < (ptrdiff_t) n) {
        return NULL;
    }

    c = (u_char) needle[0];
    last -= n - 1;

    for (/* void */; s < last; s++) {
        if (*s == c && memcmp(s + 1, needle + 1, n - 1) == 0) {
            return s;
        }
    }

    return NULL;
}


/*
 * The parsers share one shape: reject before the multiplication that
 * would overflow, comparing against max / 10 and max % 10.
 */
kl_int_t
kl_atoi(u_char *line, size_t n)
{
    kl_int_t value, cutoff, cutlim;

    if (n == 0) {
        return KL_ERROR;
    }

    cutoff = KL_MAX_INT_T_VALUE / 10;
    cutlim = KL_MAX_INT_T_VALUE % 10;

    for (value = 0; n--; line++) {
        if (*line < '0' || *line > '9') {
            return KL_ERROR;
        }

        if (value >= cutoff && (value > cutoff || *line - '0' > cutlim)) {
            return KL_ERROR;
        }

        value = value * 10 + (*line - '0');
    }

    return value;
}


off_t
kl_atoof(u_char *line, size_t n)
{
    off_t value, cutoff, cutlim;

    if (n == 0) {
        return KL_ERROR;
    }

    cutoff = KL_MAX_OFF_T_VALUE / 10;
    cutlim = KL_MAX_OFF_T_VALUE % 10;

    for (value = 0; n--; line++) {
        if (*line < '0' || *line > '9') {
            return KL_ERROR;
        }

        if (value >= cutoff && (value > cutoff || *line - '0' > cutlim)) {
            return KL_ERROR;
        }

        value = value * 10 + (*line - '0');
    }

    return value;
}


ssize_t
kl_atosz(u_char *line, size_t n)
{
    ssize_t value, cutoff, cutlim;

    if (n == 0) {
        return KL_ERROR;
    }

    cutoff = SSIZE_MAX / 10;
    cutlim = SSIZE_MAX % 10;

    for (value = 0; n--; line++) {
        if (*line < '0' || *line > '9') {
            return KL_ERROR;
        }

        if (value >= cutoff && (value > cutoff || *line - '0' > cutlim)) {
            return KL_ERROR;
        }

        value = value * 10 + (*line - '0');
    }

    return value;
}


time_t
kl_atotm(u_char *line, size_t n)
{
    time_t value, cutoff, cutlim;

    if (n == 0) {
        return KL_ERROR;
    }

    cutoff = KL_MAX_TIME_T_VALUE / 10;
    cutlim = KL_MAX_TIME_T_VALUE % 10;

    for (value = 0; n--; line++) {
        if (*line < '0' || *line > '9') {
            return KL_ERROR;
        }

        if (value >= cutoff && (value > cutoff || *line - '0' > cutlim)) {
            return KL_ERROR;
        }

        value = value * 10 + (*line - '0');
    }

    return value;
}


kl_int_t
kl_hextoi(u_char *line, size_t n)
{
    u_char   c, ch;
    kl_int_t value, cutoff;

    if (n == 0) {
        return KL_ERROR;
    }

    cutoff = KL_MAX_INT_T_VALUE / 16;

    for (value = 0; n--; line++) {
        if (value > cutoff) {
            return KL_ERROR;
        }

        ch = *line;

        if (ch >= '0' && ch <= '9') {
            value = value * 16 + (ch - '0');
            continue;
        }

        c = (u_char) (ch | 0x20);

        if (c >= 'a' && c <= 'f') {
            value = value * 16 + (c - 'a' + 10);
            continue;
        }

        return KL_ERROR;
    }

    return value;
}


u_char *
kl_slprintf(u_char *buf, u_char *last, const char *fmt, ...)
{
    u_char *p;
    va_list args;

    va_start(args, fmt);
    p = kl_vslprintf(buf, last, fmt, args);
    va_end(args);

    return p;
}


u_char *
kl_snprintf(u_char *buf, size_t max, const char *fmt, ...)
{
    u_char *p;
    va_list args;

    va_start(args, fmt);
    p = kl_vslprintf(buf, buf + max, fmt, args);
    va_end(args);

    return p;
}


/*
 * A directive is '%', an optional '0', a decimal width, then any of the
 * modifiers 'u' (unsigned), 'x'/'X' (hex, unsigned) and '*' (a size_t
 * length for %s), then the conversion letter.  An unknown letter is
 * copied as is, as nginx does, so a stray "%" never swallows arguments.
 * The va_list is copied so that helpers can share it through a pointer.
 */
u_char *
kl_vslprintf(u_char *buf, u_char *last, const char *fmt, va_list args)
{
    u_char           *p;
    size_t            len;
    va_list           ap;
    kl_str_t         *v;
    kl_sprintf_spec_t spec;

    va_copy(ap, args);

    while (*fmt && buf < last) {

        if (*fmt != '%') {
            *buf++ = (u_char) *fmt++;
            continue;
        }

        fmt = kl_sprintf_spec(fmt + 1, &spec, &ap);

        switch (*fmt) {

        case 'V':
            v = va_arg(ap, kl_str_t *);
            len = kl_min((size_t) (last - buf), v->len);
            if (len) {
                buf = kl_cpymem(buf, v->data, len);
            }
            break;

        case 's':
            p = va_arg(ap, u_char *);

            if (spec.slen == (size_t) -1) {
                while (*p && buf < last) {
                    *buf++ = *p++;
                }

            } else {
                len = kl_min((size_t) (last - buf), spec.slen);
                if (len) {
                    buf = kl_cpymem(buf, p, len);
                }
            }

            break;

        case 'O':
        case 'T':
        case 'M':
        case 'z':
        case 'i':
        case 'd':
        case 'l':
        case 'p':
            buf = kl_sprintf_int(buf, last, *fmt, &spec, &ap);
            break;

        case 'c':
            *buf++ = (u_char) (va_arg(ap, int) & 0xff);
            break;

        case '\0':
            /* a trailing '%': stop rather than read past the format */
            continue;

        default:
            /* "%%" and unknown letters print themselves */
            *buf++ = (u_char) *fmt;
            break;
        }

        fmt++;
    }

    va_end(ap);

    return buf;
}


/* Flags and width after the '%'; returns the conversion letter. */
static const char *
kl_sprintf_spec(const char *fmt, kl_sprintf_spec_t *spec, va_list *ap)
{
    spec->zero = (u_char) ((*fmt == '0') ? '0' : ' ');
    spec->width = 0;
    spec->sign = 1;
    spec->hex = 0;
    spec->slen = (size_t) -1;

    while (*fmt >= '0' && *fmt <= '9') {
        spec->width = spec->width * 10 + (kl_uint_t) (*fmt++ - '0');
    }

    for (;;) {
        switch (*fmt) {

        case 'u':
            spec->sign = 0;
            break;

        case 'X':
            spec->hex = 2;
            spec->sign = 0;
            break;

        case 'x':
            spec->hex = 1;
            spec->sign = 0;
            break;

        case '*':
            spec->slen = va_arg(*ap, size_t);
            break;

        default:
            return fmt;
        }

        fmt++;
    }
}


/* One integer conversion: fetch the argument its letter names, print it. */
static u_char *
kl_sprintf_int(u_char *buf, u_char *last, char conv, kl_sprintf_spec_t *spec,
               va_list *ap)
{
    int64_t   i64;
    uint64_t  ui64;
    kl_msec_t ms;
    kl_uint_t sign, hex, width, negative;
    u_char    zero;

    i64 = 0;
    ui64 = 0;
    sign = spec->sign;
    hex = spec->hex;
    width = spec->width;
    zero = spec->zero;

    switch (conv) {

    case 'O':
        i64 = (int64_t) va_arg(*ap, off_t);
        sign = 1;
        break;

    case 'T':
        i64 = (int64_t) va_arg(*ap, time_t);
        sign = 1;
        break;

    case 'M':
        /* (kl_msec_t) -1 is "no timer" and reads better as -1 */
        ms = va_arg(*ap, kl_msec_t);
        sign = ((kl_msec_int_t) ms == -1);
        i64 = -1;
        ui64 = (uint64_t) ms;
        break;

    case 'z':
        if (sign) {
            i64 = (int64_t) va_arg(*ap, ssize_t);
        } else {
            ui64 = (uint64_t) va_arg(*ap, size_t);
        }
        break;

    case 'i':
        if (sign) {
            i64 = (int64_t) va_arg(*ap, kl_int_t);
        } else {
            ui64 = (uint64_t) va_arg(*ap, kl_uint_t);
        }
        break;

    case 'd':
        if (sign) {
            i64 = (int64_t) va_arg(*ap, int);
        } else {
            ui64 = (uint64_t) va_arg(*ap, unsigned int);
        }
        break;

    case 'l':
        if (sign) {
            i64 = (int64_t) va_arg(*ap, long);
        } else {
            ui64 = (uint64_t) va_arg(*ap, unsigned long);
        }
        break;

    default: /* 'p' */
        ui64 = (uintptr_t) va_arg(*ap, void *);
        hex = 2;
        sign = 0;
        zero = '0';
        width = 2 * sizeof(void *);
        break;
    }

    negative = 0;

    if (sign) {
        if (i64 < 0) {
            negative = 1;
            ui64 = (uint64_t) 0 - (uint64_t) i64;

        } else {
            ui64 = (uint64_t) i64;
        }
    }

    return kl_sprintf_num(buf, last, ui64, zero, hex, width, negative);
}


/* printf's layout: spaces before the sign, zeros after it. */
static u_char *
kl_sprintf_num(u_char *buf, u_char *last, uint64_t ui64, u_char zero,
               kl_uint_t hex, kl_uint_t width, kl_uint_t negative)
{
    u_char       *p, temp[KL_INT64_LEN + 1];
    size_t        len, pad;
    static u_char hexdigits[] = "0123456789abcdef";
    static u_char HEXdigits[] = "0123456789ABCDEF";

    p = temp + KL_INT64_LEN;

    if (hex == 0) {
        do {
            *--p = (u_char) (ui64 % 10 + '0');
        } while (ui64 /= 10);

    } else if (hex == 1) {
        do {
            *--p = hexdigits[(uint32_t) (ui64 & 0xf)];
        } while (ui64 >>= 4);

    } else {
        do {
            *--p = HEXdigits[(uint32_t) (ui64 & 0xf)];
        } while (ui64 >>= 4);
    }

    len = (size_t) ((temp + KL_INT64_LEN) - p);
    pad = (width > len + negative) ? width - len - negative : 0;

    if (zero == ' ') {
        while (pad && buf < last) {
            *buf++ = ' ';
            pad--;
        }
    }

    if (negative && buf < last) {
        *buf++ = '-';
    }

    while (pad && buf < last) {
        *buf++ = '0';
        pad--;
    }

    len = kl_min((size_t) (last - buf), len);

    return kl_cpymem(buf, p, len);
}


/* Digits written directly: this runs for every Last-Modified sent. */
u_char *
kl_http_time(u_char *buf, time_t t)
{
    struct tm tm;
    kl_uint_t year;

    kl_gmtime(t, &tm);

    year = (kl_uint_t) tm.tm_year + 1900;

    if (year > 9999) {
        return kl_slprintf(
            buf, buf + sizeof("Mon, 28 Sep 1970 06:00:00 GMT") - 1,
            "%s, %02d %s %4d %02d:%02d:%02d GMT", kl_week_names[tm.tm_wday],
            tm.tm_mday, kl_month_names[tm.tm_mon], tm.tm_year + 1900,
            tm.tm_hour, tm.tm_min, tm.tm_sec);
    }

    buf = kl_cpymem(buf, kl_week_names[tm.tm_wday], 3);
    *buf++ = ',';
    *buf++ = ' ';
    *buf++ = (u_char) ('0' + tm.tm_mday / 10);
    *buf++ = (u_char) ('0' + tm.tm_mday % 10);
    *buf++ = ' ';
    buf = kl_cpymem(buf, kl_month_names[tm.tm_mon], 3);
    *buf++ = ' ';
    *buf++ = (u_char) ('0' + year / 1000);
    *buf++ = (u_char) ('0' + year / 100 % 10);
    *buf++ = (u_char) ('0' + year / 10 % 10);
    *buf++ = (u_char) ('0' + year % 10);
    *buf++ = ' ';
    *buf++ = (u_char) ('0' + tm.tm_hour / 10);
    *buf++ = (u_char) ('0' + tm.tm_hour % 10);
    *buf++ = ':';
    *buf++ = (u_char) ('0' + tm.tm_min / 10);
    *buf++ = (u_char) ('0' + tm.tm_min % 10);
    *buf++ = ':';
    *buf++ = (u_char) ('0' + tm.tm_sec / 10);
    *buf++ = (u_char) ('0' + tm.tm_sec % 10);
    buf = kl_cpymem(buf, " GMT", 4);

    return buf;
}


/*
 * Decimal and lower-case hex without a format string: kl_vslprintf costs
 * hundreds of instructions per call, and these run on every response
 * (Content-Length, ETag). The caller has room for KL_INT64_LEN bytes.
 */
u_char *
kl_sprint_uint(u_char *buf, uint64_t n)
{
    u_char temp[KL_INT64_LEN], *p;

    p = temp + KL_INT64_LEN;

    do {
        *--p = (u_char) ('0' + n % 10);
    } while (n /= 10);

    return kl_cpymem(buf, p, (size_t) (temp + KL_INT64_LEN - p));
}


u_char *
kl_sprint_hex(u_char *buf, uint64_t n)
{
    u_char temp[KL_INT64_LEN], *p;

    p = temp + KL_INT64_LEN;

    do {
        *--p = (u_char) "0123456789abcdef"[n & 0xf];
    } while (n >>= 4);

    return kl_cpymem(buf, p, (size_t) (temp + KL_INT64_LEN - p));
}


/*
 * RFC 9110 5.6.7: the three forms are case-sensitive and fixed-width
 * apart from RFC 850's day name, so each is checked byte by byte:
 *
 *   IMF-fixdate  "Sun, 06 Nov 1994 08:49:37 GMT"
 *   RFC 850      "Sunday, 06-Nov-94 08:49:37 GMT"
 *   asctime      "Sun Nov  6 08:49:37 1994"
 *
 * The day name must be a real one but is not checked against the date.
 * RFC 850's two-digit years below 70 are 20xx, the rest 19xx; years
 * before 1970 are refused, so -1 can never be a valid result.
 */
time_t
kl_parse_http_time(u_char *value, size_t len)
{
    u_char  *p;
    kl_int_t n, day, month, year, hour, min, sec;

    if (value == NULL || len < 4) {
        return KL_ERROR;
    }

    p = value;

    if (p[3] == ',') {
        if (len != sizeof("Sun, 06 Nov 1994 08:49:37 GMT") - 1
            || kl_parse_wkday(p, 3) == KL_ERROR || p[4] != ' ' || p[7] != ' '
            || p[11] != ' ' || p[16] != ' ' || memcmp(p + 25, " GMT", 4) != 0)
        {
            return KL_ERROR;
        }

        day = kl_parse_digits(p + 5, 2);
        month = kl_parse_month(p + 8);
        year = kl_parse_digits(p + 12, 4);
        p += 17;

    } else if (p[3] == ' ') {
        if (len != sizeof("Sun Nov  6 08:49:37 1994") - 1
            || kl_parse_wkday(p, 3) == KL_ERROR || p[7] != ' ' || p[10] != ' '
            || p[19] != ' ')
        {
            return KL_ERROR;
        }

        month = kl_parse_month(p + 4);

        if (p[8] == ' ') {
            day = kl_parse_digits(p + 9, 1);

        } else {
            day = kl_parse_digits(p + 8, 2);
            if (day < 10) {
                day = KL_ERROR;
            }
        }

        year = kl_parse_digits(p + 20, 4);
        p += 11;

    } else {
        p = memchr(value, ',', len);
        if (p == NULL) {
            return KL_ERROR;
        }

        n = p - value;

        if (kl_parse_wkday(value, (size_t) n) == KL_ERROR
            || len - (size_t) n != sizeof(", 06-Nov-94 08:49:37 GMT") - 1
            || p[1] != ' ' || p[4] != '-' || p[8] != '-' || p[11] != ' '
            || memcmp(p + 20, " GMT", 4) != 0)
        {
            return KL_ERROR;
        }

        day = kl_parse_digits(p + 2, 2);
        month = kl_parse_month(p + 5);
        year = kl_parse_digits(p + 9, 2);

        if (year != KL_ERROR) {
            year += (year < 70) ? 2000 : 1900;
        }

        p += 12;
    }

    if (day == KL_ERROR || month == KL_ERROR || year == KL_ERROR
        || kl_parse_clock(p, &hour, &min, &sec) != KL_OK)
    {
        return KL_ERROR;
    }

    return kl_make_time(year, month, day, hour, min, sec);
}


static kl_int_t
kl_parse_digits(u_char *p, size_t n)
{
    kl_int_t value;

    for (value = 0; n; n--, p++) {
        if (*p < '0' || *p > '9') {
            return KL_ERROR;
        }

        value = value * 10 + (*p - '0');
    }

    return value;
}


static kl_int_t
kl_parse_month(u_char *p)
{
    kl_int_t m;

    for (m = 0; m < 12; m++) {
        if (memcmp(p, kl_month_names[m], 3) == 0) {
            return m;
        }
    }

    return KL_ERROR;
}


/* A short (n == 3) or a long day name of exactly n bytes. */
static kl_int_t
kl_parse_wkday(u_char *p, size_t n)
{
    kl_int_t d;

    for (d = 0; d < 7; d++) {
        if (n == 3) {
            if (memcmp(p, kl_week_names[d], 3) == 0) {
                return d;
            }

        } else if (n == strlen(kl_week_long_names[d])
                   && memcmp(p, kl_week_long_names[d], n) == 0)
        {
            return d;
        }
    }

    return KL_ERROR;
}


/* "HH:MM:SS" */
static kl_int_t
kl_parse_clock(u_char *p, kl_int_t *hour, kl_int_t *min, kl_int_t *sec)
{
    if (p[2] != ':' || p[5] != ':') {
        return KL_ERROR;
    }

    *hour = kl_parse_digits(p, 2);
    *min = kl_parse_digits(p + 3, 2);
    *sec = kl_parse_digits(p + 6, 2);

    if (*hour == KL_ERROR || *min == KL_ERROR || *sec == KL_ERROR || *hour > 23
        || *min > 59 || *sec > 59)
    {
        return KL_ERROR;
    }

    return KL_OK;
}


/* month is 0-based; days_from_civil() after Howard Hinnant. */
static time_t
kl_make_time(kl_int_t year, kl_int_t month, kl_int_t day, kl_int_t hour,
             kl_int_t min, kl_int_t sec)
{
    kl_int_t      mdays, leap, y, m, era, yoe, doy, doe;
    static u_char month_days[] = { 31, 28, 31, 30, 31, 30,
                                   31, 31, 30, 31, 30, 31 };

    if (year < 1970) {
        return KL_ERROR;
    }

    leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    mdays = month_days[month] + (month == 1 && leap);

    if (day < 1 || day > mdays) {
        return KL_ERROR;
    }

    m = month + 1;
    y = year - (m <= 2);
    era = y / 400;
    yoe = y - era * 400;
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + day - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

    return (time_t) (era * 146097 + doe - 719468) * 86400 + hour * 3600
           + min * 60 + sec;
}


/*
 * Which bytes kl_escape_uri() percent-encodes, one bit per byte value.
 * All three sets escape the controls, space, DEL, every byte >= 0x80 and
 *
 *   URI    " # % < > ? [ \ ] ^ ` { | }   (not valid raw in a path)
 *   ARGS   the URI set plus & + ;          (a value inside a query)
 *   HTML   the URI set plus ' &            (a path inside an attribute)
 *
 * Bit columns of words 1-3, high bit first:
 *   word 1  ?>=< ;:98 7654 3210  /.-, +*)( '&%$ #"!
 *   word 2  _^]\ [ZYX WVUT SRQP  ONML KJIH GFED CBA@
 *   word 3   ~}| {zyx wvut srqp  onml kjih gfed cba`
 */
static uint32_t kl_escape_uri_table[] = {
    0xffffffff, /* controls */
    0xd000002d, /* 1101 0000 0000 0000  0000 0000 0010 1101 */
    0x78000000, /* 0111 1000 0000 0000  0000 0000 0000 0000 */
    0xb8000001, /* 1011 1000 0000 0000  0000 0000 0000 0001 */
    0xffffffff, /* 0x80 and above */
    0xffffffff, 0xffffffff, 0xffffffff,
};

static uint32_t kl_escape_args_table[] = {
    0xffffffff, /* controls */
    0xd800086d, /* 1101 1000 0000 0000  0000 1000 0110 1101 */
    0x78000000, /* 0111 1000 0000 0000  0000 0000 0000 0000 */
    0xb8000001, /* 1011 1000 0000 0000  0000 0000 0000 0001 */
    0xffffffff, /* 0x80 and above */
    0xffffffff, 0xffffffff, 0xffffffff,
};

static uint32_t kl_escape_html_table[] = {
    0xffffffff, /* controls */
    0xd00000ed, /* 1101 0000 0000 0000  0000 0000 1110 1101 */
    0x78000000, /* 0111 1000 0000 0000  0000 0000 0000 0000 */
    0xb8000001, /* 1011 1000 0000 0000  0000 0000 0000 0001 */
    0xffffffff, /* 0x80 and above */
    0xffffffff, 0xffffffff, 0xffffffff,
};


uintptr_t
kl_escape_uri(u_char *dst, u_char *src, size_t size, kl_uint_t type)
{
    u_char           c;
    uint32_t        *escape;
    uintptr_t        n;
    static u_char    hex[] = "0123456789ABCDEF";
    static uint32_t *map[] = { kl_escape_uri_table, kl_escape_args_table,
                               kl_escape_html_table };

    escape = map[type <= KL_ESCAPE_HTML ? type : KL_ESCAPE_URI];
    n = 0;

    while (size) {
        c = *src++;
        size--;

        if (escape[c >> 5] & (1U << (c & 0x1f))) {
            n += 2;

            if (dst) {
                *dst++ = '%';
                *dst++ = hex[c >> 4];
                *dst++ = hex[c & 0xf];
            }

            continue;
        }

        if (dst) {
            *dst++ = c;
        }
    }

    return n;
}


/* Returns the escaped length in both modes, so callers size and fill alike. */
size_t
kl_escape_html(u_char *dst, u_char *src, size_t size)
{
    u_char c;
    size_t len;

    len = 0;

    while (size) {
        c = *src++;
        size--;

        switch (c) {

        case '<':
            len += sizeof("&lt;") - 1;
            if (dst) {
                dst = kl_cpymem(dst, "&lt;", sizeof("&lt;") - 1);
            }
            break;

        case '>':
            len += sizeof("&gt;") - 1;
            if (dst) {
                dst = kl_cpymem(dst, "&gt;", sizeof("&gt;") - 1);
            }
            break;

        case '&':
            len += sizeof("&amp;") - 1;
            if (dst) {
                dst = kl_cpymem(dst, "&amp;", sizeof("&amp;") - 1);
            }
            break;

        case '"':
            len += sizeof("&quot;") - 1;
            if (dst) {
                dst = kl_cpymem(dst, "&quot;", sizeof("&quot;") - 1);
            }
            break;

        default:
            len++;
            if (dst) {
                *dst++ = c;
            }
            break;
        }
    }

    return len;
}


size_t
kl_escape_json_len(u_char *src, size_t size)
{
    size_t n;

    for (n = 0; size--; src++) {
        if (*src == '"' || *src == '\\') {
            n++;

        } else if (*src <= 0x1f) {
            n += (*src == '\n' || *src == '\r' || *src == '\t' || *src == '\b'
                  || *src == '\f')
                     ? 1
                     : 5;
        }
    }

    return n;
}


u_char *
kl_escape_json(u_char *dst, u_char *src, size_t size)
{
    u_char              ch;
    static const u_char hex[] = "0123456789abcdef";

    while (size--) {
        ch = *src++;

        if (ch > 0x1f) {
            if (ch == '\\' || ch == '"') {
                *dst++ = '\\';
            }

            *dst++ = ch;
            continue;
        }

        *dst++ = '\\';

        switch (ch) {
        case '\n':
            *dst++ = 'n';
            break;
        case '\r':
            *dst++ = 'r';
            break;
        case '\t':
            *dst++ = 't';
            break;
        case '\b':
            *dst++ = 'b';
            break;
        case '\f':
            *dst++ = 'f';
            break;
        default:
            dst = kl_cpymem(dst, "u00", 3);
            *dst++ = hex[ch >> 4];
            *dst++ = hex[ch & 0xf];
        }
    }

    return dst;
}
