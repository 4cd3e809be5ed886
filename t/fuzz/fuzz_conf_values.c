/* fuzz_conf_values.c: libFuzzer target for kl_conf_parse_size/offset/time. */

/*
 * fuzz_conf reaches these through directives and checks only that they
 * do not crash; here their answers are checked. Byte 0 picks the mode.
 *
 * Built (bit 0 clear): the next bytes choose, for each time unit from y
 * to ms, whether it is present, its number (a shifted 64-bit value) and
 * whether a space follows, then a trailing bare number; the text built
 * from them must parse to the sum of the terms, in seconds or in
 * milliseconds, or to KL_ERROR exactly when that sum (or a number)
 * passes KL_MAX_INT_T_VALUE, or when the form forbids a unit (ms in
 * seconds, y and M in milliseconds). A number and a size suffix must
 * give the scaled value or KL_ERROR past SSIZE_MAX / the off_t maximum
 * (g only for offsets).
 *
 * Raw (bit 0 set): the rest is any text. Results are KL_ERROR or not
 * negative, a size is the offset when both parse, and a time that parses
 * in seconds parses in milliseconds to 1000 times it (or overflows),
 * unless it uses y or M.
 */

#include "kl_core.h"


typedef __int128 fuzz_wide_t;

static const char *fuzz_units[] = { "y", "M", "w", "d", "h", "m", "s", "ms" };

static const fuzz_wide_t fuzz_unit_sec[] = { 60 * 60 * 24 * 365,
                                             60 * 60 * 24 * 30,
                                             60 * 60 * 24 * 7,
                                             60 * 60 * 24,
                                             60 * 60,
                                             60,
                                             1,
                                             0 };


/* Consumes 9 bytes (or what is left) into a number of varied magnitude. */
static uint64_t
fuzz_number(const uint8_t **p, const uint8_t *end)
{
    uint64_t raw;
    uint8_t  shift;
    size_t   n;

    if (*p >= end) {
        return 0;
    }

    shift = **p % 64;
    (*p)++;

    raw = 0;
    n = (size_t) (end - *p) < 8 ? (size_t) (end - *p) : 8;
    memcpy(&raw, *p, n);
    *p += n;

    return raw >> shift;
}


static void
fuzz_time_built(const uint8_t *p, const uint8_t *end)
{
    u_char      text[256], *t;
    uint8_t     flags;
    uint64_t    num;
    kl_int_t    got;
    kl_uint_t   is_sec, i, any;
    kl_str_t    line;
    fuzz_wide_t total, term;
    int         forbidden;

    is_sec = (*p++ >> 1) & 1;

    t = text;
    total = 0;
    any = 0;
    forbidden = 0;

    for (i = 0; i < 8 && p < end; i++) {
        flags = *p++;

        if (!(flags & 1)) {
            continue;
        }

        num = fuzz_number(&p, end);
        t += sprintf((char *) t, "%llu%s%s", (unsigned long long) num,
                     fuzz_units[i], (flags & 2) ? " " : "");
        any = 1;

        if ((is_sec && i == 7) || (!is_sec && i < 2)) {
            forbidden = 1;
        }

        if (i == 7) {
            term = num;
        } else {
            term = (fuzz_wide_t) num * fuzz_unit_sec[i] * (is_sec ? 1 : 1000);
        }

        total += term;
    }

    if (p < end && (*p++ & 1)) {
        num = fuzz_number(&p, end);
        t += sprintf((char *) t, "%llu", (unsigned long long) num);
        total += (fuzz_wide_t) num * (is_sec ? 1 : 1000);
        any = 1;
    }

    line.data = text;
    line.len = (size_t) (t - text);

    got = kl_conf_parse_time(&line, is_sec);

    if (!any || forbidden || total > KL_MAX_INT_T_VALUE) {
        if (got != KL_ERROR) {
            abort();
        }

    } else if ((fuzz_wide_t) got != total) {
        abort();
    }
}


static void
fuzz_size_built(const uint8_t *p, const uint8_t *end)
{
    u_char            text[64];
    uint64_t          num;
    kl_str_t          line;
    fuzz_wide_t       scale;
    ssize_t           size;
    off_t             off;
    char              suffix;
    static const char suffixes[] = "\0kKmMgG";

    suffix = suffixes[(*p++ >> 1) % 7];
    num = fuzz_number(&p, end);

    line.data = text;
    line.len = (size_t) sprintf((char *) text, "%llu%c",
                                (unsigned long long) num, suffix);
    if (suffix == '\0') {
        line.len--;
    }

    switch (suffix) {
    case 'k':
    case 'K':
        scale = 1024;
        break;
    case 'm':
    case 'M':
        scale = 1024 * 1024;
        break;
    case 'g':
    case 'G':
        scale = 1024 * 1024 * 1024;
        break;
    default:
        scale = 1;
    }

    size = kl_conf_parse_size(&line);
    off = kl_conf_parse_offset(&line);

    if (scale == 1024 * 1024 * 1024 || (fuzz_wide_t) num * scale > SSIZE_MAX) {
        if (size != KL_ERROR) {
            abort();
        }

    } else if ((fuzz_wide_t) size != (fuzz_wide_t) num * scale) {
        abort();
    }

    if ((fuzz_wide_t) num * scale > KL_MAX_OFF_T_VALUE) {
        if (off != KL_ERROR) {
            abort();
        }

    } else if ((fuzz_wide_t) off != (fuzz_wide_t) num * scale) {
        abort();
    }
}


static void
fuzz_raw(const uint8_t *data, size_t size)
{
    u_char  *copy;
    kl_str_t line;
    ssize_t  sz;
    off_t    off;
    kl_int_t sec, msec;

    /* exact size, so that AddressSanitizer sees a read past the end */
    copy = malloc(size ? size : 1);
    if (copy == NULL) {
        abort();
    }

    memcpy(copy, data, size);
    line.data = copy;
    line.len = size;

    sz = kl_conf_parse_size(&line);
    off = kl_conf_parse_offset(&line);
    sec = kl_conf_parse_time(&line, 1);
    msec = kl_conf_parse_time(&line, 0);

    if ((sz < 0 && sz != KL_ERROR) || (off < 0 && off != KL_ERROR)
        || (sec < 0 && sec != KL_ERROR) || (msec < 0 && msec != KL_ERROR))
    {
        abort();
    }

    if (sz != KL_ERROR && off != KL_ERROR && sz != off) {
        abort();
    }

    if (sec != KL_ERROR && memchr(copy, 'y', size) == NULL
        && memchr(copy, 'M', size) == NULL)
    {
        if ((fuzz_wide_t) sec * 1000 > KL_MAX_INT_T_VALUE) {
            if (msec != KL_ERROR) {
                abort();
            }

        } else if ((fuzz_wide_t) msec != (fuzz_wide_t) sec * 1000) {
            abort();
        }
    }

    free(copy);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) {
        return 0;
    }

    if (data[0] & 1) {
        fuzz_raw(data + 1, size - 1);

    } else if (data[0] & 4) {
        fuzz_size_built(data, data + size);

    } else {
        fuzz_time_built(data, data + size);
    }

    return 0;
}
