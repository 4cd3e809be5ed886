/* time.h: the cached clock, updated once per event-loop iteration. */

#ifndef KL_TIME_H
#define KL_TIME_H

#include "kl_config.h"
#include "kl_types.h"

typedef struct {
    time_t    sec;         /* wall clock, seconds since the epoch */
    kl_uint_t msec_part;   /* the wall clock's milliseconds */
    kl_msec_t msec;        /* monotonic milliseconds (timers) */
    time_t    strings_sec; /* which second the strings below describe */
    size_t    http_time_len;
    size_t    log_time_len;
    u_char    http_time[sizeof("Mon, 28 Sep 1970 06:00:00 GMT")];
    u_char    log_time[sizeof("1970/09/28 12:00:00")];
    u_char    iso8601[sizeof("1970-09-28T12:00:00+06:00")];
    u_char    http_log_time[sizeof("28/Sep/1970:12:00:00 +0600")];
} kl_clock_t;

/* Read the clocks; rebuild the strings only when the second changed. */
void kl_time_update(kl_clock_t *clock);

/* Broken-down GMT and local time that never call the locking libc paths twice. */
void kl_gmtime(time_t t, struct tm *tp);
void kl_localtime(time_t t, struct tm *tp);

/* The local time now as "1970/09/28 12:00:00" (19 bytes); returns the end. */
u_char *kl_time_log_string(u_char *buf);

#endif /* KL_TIME_H */
