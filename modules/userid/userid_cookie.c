/* userid_cookie.c: the userid cookie's value: found, decoded, encoded and printed, as nginx's userid filter does. */

#include "userid_cookie.h"

#include <time.h>


static const u_char kl_http_userid_b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";


kl_int_t
kl_http_userid_cookie_find(u_char *p, size_t len, kl_str_t *name,
                           kl_str_t *value)
{
    u_char *start, *end, *last, ch;

    start = p;
    end = p + len;

    while (start < end) {

        if ((size_t) (end - start) >= name->len
            && kl_strncasecmp(start, name->data, name->len) == 0)
        {
            for (start += name->len; start < end && *start == ' '; start++) {
                /* void */
            }

            if (start < end && *start++ == '=') {
                while (start < end && *start == ' ') {
                    start++;
                }

                for (last = start; last < end && *last != ';'; last++) {
                    /* void */
                }

                value->data = start;
                value->len = last - start;
                return KL_OK;
            }
        }

        while (start < end) {
            ch = *start++;

            if (ch == ';' || ch == ',') {
                break;
            }
        }

        while (start < end && *start == ' ') {
            start++;
        }
    }

    return KL_DECLINED;
}


/* The 6 bits of base64 character c, or -1. */
static int
kl_http_userid_b64_value(u_char c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }

    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }

    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }

    if (c == '+') {
        return 62;
    }

    if (c == '/') {
        return 63;
    }

    return -1;
}


kl_int_t
kl_http_userid_decode(kl_str_t *value, uint32_t uid[4])
{
    u_char   out[18], *d;
    size_t   i, n;
    uint32_t acc;
    int      v, bits;

    kl_memzero(uid, 16);

    if (value->len < 22) {
        return KL_DECLINED;
    }

    /* nginx's base64 decoding: up to the first '=', every byte checked */
    for (n = 0; n < 22 && value->data[n] != '='; n++) {
        if (kl_http_userid_b64_value(value->data[n]) < 0) {
            return KL_ERROR;
        }
    }

    if (n % 4 == 1) {
        return KL_ERROR;
    }

    d = out;
    acc = 0;
    bits = 0;

    for (i = 0; i < n; i++) {
        v = kl_http_userid_b64_value(value->data[i]);
        acc = (acc << 6) | (uint32_t) v;
        bits += 6;

        if (bits >= 8) {
            bits -= 8;
            *d++ = (u_char) (acc >> bits);
        }
    }

    kl_memcpy(uid, out, kl_min((size_t) (d - out), (size_t) 16));

    return KL_OK;
}


u_char *
kl_http_userid_encode(u_char *dst, uint32_t uid[4], u_char mark)
{
    u_char  src[16], *s;
    size_t  i;
    u_char *start;

    kl_memcpy(src, uid, 16);
    start = dst;
    s = src;

    for (i = 0; i < 5; i++, s += 3) {
        *dst++ = kl_http_userid_b64[s[0] >> 2];
        *dst++ = kl_http_userid_b64[((s[0] & 0x03) << 4) | (s[1] >> 4)];
        *dst++ = kl_http_userid_b64[((s[1] & 0x0f) << 2) | (s[2] >> 6)];
        *dst++ = kl_http_userid_b64[s[2] & 0x3f];
    }

    /* the 16th byte: two characters and "==" */
    *dst++ = kl_http_userid_b64[s[0] >> 2];
    *dst++ = kl_http_userid_b64[(s[0] & 0x03) << 4];
    *dst++ = '=';
    *dst++ = '=';

    if (mark) {
        start[22] = mark;
    }

    return dst;
}


u_char *
kl_http_userid_print(u_char *dst, uint32_t uid[4])
{
    static const u_char hex[] = "0123456789ABCDEF";

    kl_uint_t i;
    int       shift;

    for (i = 0; i < 4; i++) {
        for (shift = 28; shift >= 0; shift -= 4) {
            *dst++ = hex[(uid[i] >> shift) & 0xf];
        }
    }

    return dst;
}


u_char *
kl_http_userid_cookie_time(u_char *dst, time_t t)
{
    int       year;
    struct tm tm;

    static const char *week[] = { "Sun", "Mon", "Tue", "Wed",
                                  "Thu", "Fri", "Sat" };
    static const char *months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

    kl_gmtime(t, &tm);
    year = tm.tm_year + 1900;

    /* old browsers read no 4-digit year, nor a 2-digit one above 37 */
    return kl_slprintf(dst, dst + 32, "%s, %02d-%s-%02d %02d:%02d:%02d GMT",
                       week[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
                       year > 2037 ? year : year % 100, tm.tm_hour, tm.tm_min,
                       tm.tm_sec);
}
