/*
 * range_parse.c: the byte ranges of a Range field, as nginx 1.22 reads
 * them, except that a position too large for off_t is read as "past the
 * end" (RFC 9110 14.1.2: a last-pos at or past the end means the end; a
 * suffix longer than the representation means all of it), where nginx
 * answers 416.
 */

#include "kl_http.h"
#include "range_parse.h"


/* The byte at p, or NUL past the end: the value ends like a C string. */
#define kl_range_ch(p, end) ((p) < (end) ? *(p) : '\0')


static u_char *
kl_http_range_skip_spaces(u_char *p, u_char *end)
{
    while (p < end && *p == ' ') {
        p++;
    }

    return p;
}


/*
 * Digits into *n; KL_ERROR when there are none. A number past off_t's
 * range is read as its largest value: every such position lies past the
 * end of any representation, which is what it says.
 */
static kl_int_t
kl_http_range_number(u_char **pp, u_char *end, off_t *n)
{
    u_char *p;
    off_t   v, cutoff, cutlim;

    cutoff = KL_MAX_OFF_T_VALUE / 10;
    cutlim = KL_MAX_OFF_T_VALUE % 10;

    p = *pp;
    v = 0;

    if (kl_range_ch(p, end) < '0' || kl_range_ch(p, end) > '9') {
        return KL_ERROR;
    }

    while (p < end && *p >= '0' && *p <= '9') {
        if (v >= cutoff && (v > cutoff || *p - '0' > cutlim)) {
            v = KL_MAX_OFF_T_VALUE;

        } else {
            v = v * 10 + (*p - '0');
        }

        p++;
    }

    *pp = p;
    *n = v;

    return KL_OK;
}


/*
 * One "a-b", "a-" or "-n" spec into [*start, *end), its end clamped to
 * length; *p is left on the ',' or the end that follows it.
 */
static kl_int_t
kl_http_range_spec(u_char **pp, u_char *last, off_t length, off_t *start,
                   off_t *end)
{
    u_char   *p;
    kl_uint_t suffix;

    p = kl_http_range_skip_spaces(*pp, last);
    *start = 0;
    *end = 0;
    suffix = 0;

    if (kl_range_ch(p, last) != '-') {
        if (kl_http_range_number(&p, last, start) != KL_OK) {
            return KL_ERROR;
        }

        p = kl_http_range_skip_spaces(p, last);

        if (kl_range_ch(p, last) != '-') {
            return KL_ERROR;
        }

        p = kl_http_range_skip_spaces(p + 1, last);

        if (kl_range_ch(p, last) == ',' || p == last) {
            *end = length;
            *pp = p;
            return KL_OK;
        }

    } else {
        suffix = 1;
        p++;
    }

    if (kl_http_range_number(&p, last, end) != KL_OK) {
        return KL_ERROR;
    }

    p = kl_http_range_skip_spaces(p, last);

    if (p < last && *p != ',') {
        return KL_ERROR;
    }

    if (suffix) {
        *start = (*end < length) ? length - *end : 0;
        *end = length - 1;
    }

    /* inclusive last byte to exclusive end, clamped */
    *end = (*end >= length) ? length : *end + 1;
    *pp = p;

    return KL_OK;
}


kl_int_t
kl_http_range_parse(u_char *p, u_char *last, off_t length, kl_uint_t max_ranges,
                    kl_array_t *ranges)
{
    off_t            start, end, size;
    kl_http_range_t *range;

    if (last - p < 7 || kl_strncasecmp(p, (u_char *) "bytes=", 6) != 0) {
        return KL_DECLINED;
    }

    p += 6;
    size = 0;

    for (;;) {
        if (kl_http_range_spec(&p, last, length, &start, &end) != KL_OK) {
            return KL_HTTP_RANGE_NOT_SATISFIABLE;
        }

        if (start < end) {
            range = kl_array_push(ranges);
            if (range == NULL) {
                return KL_ERROR;
            }

            range->start = start;
            range->end = end;

            if (size > KL_MAX_OFF_T_VALUE - (end - start)) {
                return KL_HTTP_RANGE_NOT_SATISFIABLE;
            }

            size += end - start;

            if (max_ranges-- == 0) {
                return KL_DECLINED;
            }

        } else if (start == 0) {
            /* "0-" of an empty representation: all of it, which is none */
            return KL_DECLINED;
        }

        if (p == last) {
            break;
        }

        p++; /* the ',' */
    }

    if (ranges->nelts == 0) {
        return KL_HTTP_RANGE_NOT_SATISFIABLE;
    }

    /* Overlapping ranges that ask for more than the whole: nginx's guard. */
    if (size > length) {
        return KL_DECLINED;
    }

    return KL_OK;
}
