/* parse.h: pure, resumable HTTP/1.x parsers: request line, headers, chunked, URI. */

#ifndef KL_HTTP_PARSE_H
#define KL_HTTP_PARSE_H

#include "kl_config.h"
#include "kl_types.h"
#include "string.h"
#include "buf.h"

/* Methods as bits, so a location's allowed set is one mask. */
#define KL_HTTP_UNKNOWN   0x00000001
#define KL_HTTP_GET       0x00000002
#define KL_HTTP_HEAD      0x00000004
#define KL_HTTP_POST      0x00000008
#define KL_HTTP_PUT       0x00000010
#define KL_HTTP_DELETE    0x00000020
#define KL_HTTP_MKCOL     0x00000040
#define KL_HTTP_COPY      0x00000080
#define KL_HTTP_MOVE      0x00000100
#define KL_HTTP_OPTIONS   0x00000200
#define KL_HTTP_PROPFIND  0x00000400
#define KL_HTTP_PROPPATCH 0x00000800
#define KL_HTTP_LOCK      0x00001000
#define KL_HTTP_UNLOCK    0x00002000
#define KL_HTTP_PATCH     0x00004000
#define KL_HTTP_TRACE     0x00008000
#define KL_HTTP_CONNECT   0x00010000

#define KL_HTTP_VERSION_10 1000
#define KL_HTTP_VERSION_11 1001

/* Parser results beyond KL_OK / KL_AGAIN. */
#define KL_HTTP_PARSE_HEADER_DONE     1  /* the empty line ending the fields */
#define KL_HTTP_PARSE_INVALID_REQUEST 10 /* 400 */
#define KL_HTTP_PARSE_INVALID_VERSION 11 /* 505 */
#define KL_HTTP_PARSE_INVALID_HEADER  12 /* 400 */
#define KL_HTTP_PARSE_INVALID_CHUNK   13 /* 400, framing lost */
#define KL_HTTP_PARSE_CHUNK_TOO_LARGE 14 /* 413/400: size overflows off_t */

/*
 * State of one request head. The parser records where things are as
 * pointers into the caller's buffer; a caller that moves the bytes to a
 * larger buffer must move these pointers by the same distance. The path
 * [path_start, path_end) is NULL for the asterisk and authority forms; an
 * absolute-form target without a path gets the '/' of its "://". The
 * flags complex_uri, quoted_uri and plus_in_uri describe the path only.
 */
typedef struct {
    kl_uint_t state;

    /* request line */
    u_char   *request_start; /* NULL while empty lines are skipped */
    u_char   *request_end;   /* before the CRLF */
    u_char   *method_end;    /* one past the method */
    u_char   *uri_start;     /* the request-target */
    u_char   *uri_end;
    u_char   *schema_start; /* absolute-form only */
    u_char   *schema_end;
    u_char   *host_start; /* absolute-form authority */
    u_char   *host_end;
    u_char   *port_start;
    u_char   *port_end;
    u_char   *path_start;  /* absolute path of the target */
    u_char   *path_end;    /* one past it: the '?' or the SP */
    u_char   *args_start;  /* after '?', or NULL */
    u_char   *exten_start; /* after the last '.' of the last segment */
    kl_uint_t method;
    kl_uint_t http_major;
    kl_uint_t http_minor;
    kl_uint_t http_version; /* major * 1000 + minor */

    unsigned complex_uri:1; /* has "." or "//" segments: normalise */
    unsigned quoted_uri:1;  /* has '%': decode */
    unsigned plus_in_uri:1;
    unsigned asterisk_form:1; /* "OPTIONS *" */

    /* the header line just parsed */
    u_char   *header_name_start;
    u_char   *header_name_end;
    u_char   *header_start; /* value, OWS trimmed both sides */
    u_char   *header_end;
    kl_uint_t header_hash;  /* of the lowercased name */
    unsigned  underscore:1; /* the name has '_' */
} kl_http_parse_t;

/*
 * Request line from [b->pos, b->last). Returns KL_OK when the line is
 * complete (b->pos after its LF), KL_AGAIN when more bytes are needed
 * (b->pos at b->last, state saved), or KL_HTTP_PARSE_INVALID_*.
 * Leading empty lines are skipped, as RFC 9112 section 2.2 allows.
 * Accepts origin-form, absolute-form (http/https), asterisk-form (only
 * with OPTIONS) and authority-form (only with CONNECT). HTTP/0.9 is not
 * supported (400). Major version 1 with any minor is accepted; other
 * majors give INVALID_VERSION. A bare LF ends the line; a bare CR, a
 * control byte or a second space inside the target is INVALID_REQUEST.
 */
kl_int_t kl_http_parse_request_line(kl_http_parse_t *p, kl_buf_t *b);

/*
 * One header field line. KL_OK with header_* set, HEADER_DONE at the
 * empty line, KL_AGAIN, or INVALID_HEADER for: a name that is not a
 * token, whitespace before the colon, obs-fold (a line starting with SP
 * or HTAB), bare CR, NUL or other control bytes (HTAB allowed) in the
 * value. Call with p->state reset to 0 before each new line is begun;
 * the parser does that itself after KL_OK.
 */
kl_int_t kl_http_parse_header_line(kl_http_parse_t *p, kl_buf_t *b);

/* Chunked transfer coding decoder state (RFC 9112 section 7.1). */
typedef struct {
    kl_uint_t state;
    off_t     size;    /* bytes of chunk data still to come */
    off_t     length;  /* a lower bound of what remains, for buffers */
    kl_uint_t ext_len; /* bytes of this chunk-size line, extensions too */
    kl_uint_t trailer_len;
} kl_http_chunked_t;

/*
 * Advance through [b->pos, b->last). Returns KL_OK when chunk data is
 * ready: ctx->size bytes (possibly more than are buffered) start at
 * b->pos and the caller consumes min(size, available), decrementing
 * ctx->size and advancing b->pos; KL_DONE after the last chunk and its
 * trailers (b->pos after the final CRLF); KL_AGAIN for more bytes; or
 * KL_HTTP_PARSE_INVALID_CHUNK / CHUNK_TOO_LARGE. Extensions are
 * validated (token[=token|quoted-string]) and skipped, bounded to 4 KiB a
 * line; trailers are validated as fields and skipped, bounded to 16 KiB.
 */
kl_int_t kl_http_parse_chunked(kl_http_chunked_t *ctx, kl_buf_t *b);

/*
 * Decode and normalise an absolute path [src, src + len) into dst (room
 * for len bytes): percent-decoding, "." and ".." segments resolved,
 * "//" merged when merge_slashes. The query must not be included.
 * Returns the length written, or KL_ERROR for: not starting with '/',
 * a bad %-escape, a NUL byte (raw or %00), or ".." above the root.
 * Decoded '/' (%2F) splits segments just like '/', so "/a/%2e%2e%2f.."
 * cannot climb above root. dst may be src.
 */
ssize_t kl_http_normalize_uri(u_char *src, size_t len, u_char *dst,
                              kl_uint_t merge_slashes);

/* The method bit for [start, end), or KL_HTTP_UNKNOWN. */
kl_uint_t kl_http_method_bit(u_char *start, u_char *end);

/* Split "a, b ;q=1, c" lists: KL_OK with *item set, KL_DONE at the end. */
kl_int_t kl_http_list_next(u_char **pos, u_char *end, kl_str_t *item);

#endif /* KL_HTTP_PARSE_H */
