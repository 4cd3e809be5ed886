/* range_parse.h: the Range request field's byte ranges (RFC 9110 14.2). */

#ifndef KL_HTTP_RANGE_PARSE_H
#define KL_HTTP_RANGE_PARSE_H

#include "kl_config.h"
#include "kl_types.h"
#include "array.h"

/* One satisfiable range of a representation: bytes [start, end). */
typedef struct {
    off_t start;
    off_t end;
} kl_http_range_t;

/*
 * Parse a Range field value [p, end) against a representation of length
 * bytes, as nginx 1.22 does: pushes each satisfiable range onto ranges
 * (an array of kl_http_range_t) in the order given, without merging.
 * Returns KL_OK with at least one range; KL_DECLINED when the field is to
 * be ignored (not "bytes=", more than max_ranges ranges, their sum over
 * length, or a range from 0 of an empty representation), so the whole
 * representation is sent; KL_HTTP_RANGE_NOT_SATISFIABLE (416) for a
 * syntax error or no satisfiable range; KL_ERROR when out of memory.
 */
kl_int_t kl_http_range_parse(u_char *p, u_char *end, off_t length,
                             kl_uint_t max_ranges, kl_array_t *ranges);

#endif /* KL_HTTP_RANGE_PARSE_H */
