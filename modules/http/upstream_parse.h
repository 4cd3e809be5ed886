/* upstream_parse.h: the pure parser of an upstream's HTTP/1.x status line. */

#ifndef KL_HTTP_UPSTREAM_PARSE_H
#define KL_HTTP_UPSTREAM_PARSE_H

#include "kl_config.h"
#include "kl_types.h"
#include "string.h"
#include "buf.h"

/* Results beyond KL_OK and KL_AGAIN. */
#define KL_HTTP_UPSTREAM_PARSE_INVALID 20 /* not an HTTP/1.x status line */

/* Where the status line is, and what it says. */
typedef struct {
    kl_uint_t state;
    kl_uint_t code;         /* 100..999 */
    kl_uint_t http_version; /* major * 1000 + minor */
    u_char   *start;        /* of "HTTP/" */
    u_char   *end;          /* before the CRLF */
    u_char   *reason_start; /* NULL: no reason phrase */
    kl_uint_t count;        /* digits read of the current number */
} kl_http_status_line_t;

/*
 * The status line in [b->pos, b->last), resumable byte by byte: KL_OK
 * when complete (b->pos after its LF; start, end and code set), KL_AGAIN
 * for more bytes (b->pos at b->last, state kept), or
 * KL_HTTP_UPSTREAM_PARSE_INVALID. The form is RFC 9112 section 4's:
 * "HTTP/" DIGIT "." DIGIT SP 3DIGIT [SP reason] CRLF, with leniencies
 * nginx has too: a bare LF ends the line, the reason and its space may
 * be missing, versions are 1*3 DIGIT "." 1*3 DIGIT with major 1. A
 * reason with a control byte other than HTAB is invalid.
 */
kl_int_t kl_http_parse_status_line(kl_http_status_line_t *st, kl_buf_t *b);

/*
 * A Content-Type value as nginx reads a peer's: the length of the type
 * before a "; charset=" parameter (the whole length when there is none),
 * with *charset set to the parameter's value, quotes dropped; *charset is
 * left alone without one.
 */
size_t kl_http_upstream_content_type(kl_str_t *value, kl_str_t *charset);

#endif /* KL_HTTP_UPSTREAM_PARSE_H */
