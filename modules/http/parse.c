/* parse.c: HTTP/1.x parsers: request line, field lines, chunked coding, URI. */

/*
 * Each parser is a resumable switch over (state, byte). Whatever must
 * survive a KL_AGAIN lives in the caller's state struct, never in locals,
 * so a message may arrive split at any byte and parse the same. Positions
 * are pointers into the caller's buffer, which keeps the bytes of the line
 * in progress in place (or moves them and the pointers together); that is
 * what lets a check look back at a recorded range, such as the schema.
 *
 * Stricter than nginx, after RFC 9112 and RFC 9110: exactly one SP between
 * the parts of the request line, no HTTP/0.9, no obs-fold, no whitespace
 * before a field's colon, no control bytes. A bare LF ends the request
 * line and the field lines (RFC 9112 section 2.2 lets a recipient accept
 * it), but the chunked framing requires CRLF everywhere: lenient line
 * ends inside a body are a known request smuggling vector when a proxy in
 * front of us reads them differently.
 */

#include "kl_config.h"
#include "parse.h"


#define KL_HTTP_CHUNK_LINE_MAX 4096  /* a chunk-size line, extensions too */
#define KL_HTTP_TRAILER_MAX    16384 /* all trailer field lines */

#define KL_HTTP_TCHAR  0x01 /* token character, RFC 9110 section 5.6.2 */
#define KL_HTTP_FVCHAR 0x02 /* field-vchar: VCHAR or obs-text */
#define KL_HTTP_TARGET 0x04 /* a request-target byte */
#define KL_HTTP_HOST   0x08 /* reg-name: unreserved, sub-delims, '%' */
#define KL_HTTP_HEX    0x10
#define KL_HTTP_QDTEXT 0x20 /* quoted-string text, besides '\' escapes */
#define KL_HTTP_SCHEME 0x40

#define kl_http_is(c, cls) (kl_http_class[(u_char) (c)] & (cls))
#define kl_http_hexval(c)  ((c) <= '9' ? (c) - '0' : ((c) | 0x20) - 'a' + 10)


/* The chunked decoder's states, in an order its range checks rely on. */
typedef enum {
    sw_chunk_start = 0,
    sw_chunk_size,
    sw_ext_end,        /* after the size or a whole extension */
    sw_ext_bws,        /* whitespace there: only ';' may follow */
    sw_ext_name_start, /* after ';' */
    sw_ext_name,
    sw_ext_name_bws,    /* whitespace after a name: '=' or ';' */
    sw_ext_value_start, /* after '=' */
    sw_ext_value,
    sw_ext_quoted,
    sw_ext_quoted_pair,
    sw_chunk_size_lf, /* the CR of the chunk-size line was seen */
    sw_chunk_data,
    sw_after_data,
    sw_after_data_lf,
    sw_trailer_start,
    sw_trailer_name,
    sw_trailer_value,
    sw_trailer_lf,
    sw_trailer_end_lf
} kl_http_chunked_state_t;


static void      kl_http_request_line_reset(kl_http_parse_t *r);
static kl_uint_t kl_http_schema_ok(u_char *start, u_char *end);
static kl_uint_t kl_http_port_ok(u_char *start, u_char *end,
                                 kl_uint_t required);
static off_t     kl_http_chunked_need(kl_http_chunked_t      *ctx,
                                      kl_http_chunked_state_t state);
static kl_int_t  kl_http_dot_segment(u_char *dst, u_char *seg, u_char **d);


/*
 * Byte classes. The request-target set is every VCHAR but '#': RFC 3986
 * also excludes '"', '<', '>', '\', '^', '`', '{', '|' and '}', but real
 * clients send them unescaped (nginx accepts them too), and the URI is
 * decoded and normalised before it is used anyway.
 */
static const u_char kl_http_class[256] = {
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* 00 */
    0x00, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* 08 */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* 10 */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* 18 */
    0x20, 0x2f, 0x06, 0x23, 0x2f, 0x2f, 0x2f, 0x2f, /* 20 */
    0x2e, 0x2e, 0x2f, 0x6f, 0x2e, 0x6f, 0x6f, 0x26, /* 28 */
    0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, /* 30 */
    0x7f, 0x7f, 0x26, 0x2e, 0x26, 0x2e, 0x26, 0x26, /* 38 */
    0x26, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x6f, /* 40 */
    0x6f, 0x6f, 0x6f, 0x6f, 0x6f, 0x6f, 0x6f, 0x6f, /* 48 */
    0x6f, 0x6f, 0x6f, 0x6f, 0x6f, 0x6f, 0x6f, 0x6f, /* 50 */
    0x6f, 0x6f, 0x6f, 0x26, 0x06, 0x26, 0x27, 0x2f, /* 58 */
    0x27, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x6f, /* 60 */
    0x6f, 0x6f, 0x6f, 0x6f, 0x6f, 0x6f, 0x6f, 0x6f, /* 68 */
    0x6f, 0x6f, 0x6f, 0x6f, 0x6f, 0x6f, 0x6f, 0x6f, /* 70 */
    0x6f, 0x6f, 0x6f, 0x26, 0x27, 0x26, 0x2f, 0x00, /* 78 */
    0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, /* 80 */
    0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, /* 88 */
    0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, /* 90 */
    0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, /* 98 */
    0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, /* a0 */
    0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, /* a8 */
    0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, /* b0 */
    0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, /* b8 */
    0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, /* c0 */
    0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, /* c8 */
    0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, /* d0 */
    0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, /* d8 */
    0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, /* e0 */
    0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, /* e8 */
    0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, /* f0 */
    0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, /* f8 */
};


kl_int_t
kl_http_parse_request_line(kl_http_parse_t *r, kl_buf_t *b)
{
    u_char c, *p;
    enum {
        sw_start = 0,
        sw_start_lf, /* a CR before the request line */
        sw_method,
        sw_target, /* the first byte of the request-target */
        sw_schema,
        sw_schema_slash,
        sw_schema_slash_slash,
        sw_host_start,
        sw_host,
        sw_host_ip_literal,
        sw_host_ip_future, /* "[v" */
        sw_host_end,       /* after the ']' of an IP literal */
        sw_port,
        sw_after_slash,
        sw_path,
        sw_args,
        sw_asterisk,
        sw_version_H,
        sw_version_T1,
        sw_version_T2,
        sw_version_P,
        sw_version_slash,
        sw_major,
        sw_dot,
        sw_minor,
        sw_line_end,
        sw_line_lf
    } state;

    state = r->state;

    for (p = b->pos; p < b->last; p++) {
        c = *p;

        switch (state) {

        case sw_start:
            /* nothing of a previous request may show while we skip lines */
            kl_http_request_line_reset(r);

            if (c == KL_CR) {
                state = sw_start_lf;
                break;
            }

            if (c == KL_LF) {
                break;
            }

            if (!kl_http_is(c, KL_HTTP_TCHAR)) {
                goto invalid;
            }

            r->request_start = p;
            state = sw_method;
            break;

        case sw_start_lf:
            if (c != KL_LF) {
                goto invalid;
            }

            state = sw_start;
            break;

        case sw_method:
            if (kl_http_is(c, KL_HTTP_TCHAR)) {
                break;
            }

            if (c != ' ') {
                goto invalid;
            }

            r->method_end = p;
            r->method = kl_http_method_bit(r->request_start, p);
            state = sw_target;
            break;

        case sw_target:
            r->uri_start = p;

            if (r->method == KL_HTTP_CONNECT) {
                /* authority-form, and CONNECT takes no other form */
                r->host_start = p;

                if (c == '[') {
                    state = sw_host_ip_literal;
                    break;
                }

                if (kl_http_is(c, KL_HTTP_HOST)) {
                    state = sw_host;
                    break;
                }

                goto invalid;
            }

            if (c == '/') {
                r->path_start = p;
                state = sw_after_slash;
                break;
            }

            if (c == '*') {
                if (r->method != KL_HTTP_OPTIONS) {
                    goto invalid;
                }

                r->asterisk_form = 1;
                state = sw_asterisk;
                break;
            }

            c |= 0x20;
            if (c >= 'a' && c <= 'z') {
                r->schema_start = p;
                state = sw_schema;
                break;
            }

            goto invalid;

        case sw_schema:
            if (kl_http_is(c, KL_HTTP_SCHEME)) {
                /* longer than "https": it cannot be one we serve */
                if (p - r->schema_start >= 5) {
                    goto invalid;
                }

                break;
            }

            if (c != ':' || !kl_http_schema_ok(r->schema_start, p)) {
                goto invalid;
            }

            r->schema_end = p;
            state = sw_schema_slash;
            break;

        case sw_schema_slash:
            if (c != '/') {
                goto invalid;
            }

            state = sw_schema_slash_slash;
            break;

        case sw_schema_slash_slash:
            if (c != '/') {
                goto invalid;
            }

            state = sw_host_start;
            break;

        case sw_host_start:
            /* an empty host and userinfo ('@') are errors, RFC 9110 4.2 */
            r->host_start = p;

            if (c == '[') {
                state = sw_host_ip_literal;
                break;
            }

            if (kl_http_is(c, KL_HTTP_HOST)) {
                state = sw_host;
                break;
            }

            goto invalid;

        case sw_host_ip_literal:
            if (kl_http_is(c, KL_HTTP_HEX) || c == ':' || c == '.') {
                break;
            }

            /* "[v": IPvFuture, RFC 3986 3.2.2 (validate_host checks it) */
            if ((c == 'v' || c == 'V') && p - r->host_start == 1) {
                state = sw_host_ip_future;
                break;
            }

            if (c != ']' || p - r->host_start < 2) {
                goto invalid;
            }

            r->host_end = p + 1;
            state = sw_host_end;
            break;

        case sw_host_ip_future:
            if ((kl_http_is(c, KL_HTTP_HOST) && c != '%') || c == ':') {
                break;
            }

            if (c != ']') {
                goto invalid;
            }

            r->host_end = p + 1;
            state = sw_host_end;
            break;

        case sw_host:
            if (kl_http_is(c, KL_HTTP_HOST)) {
                break;
            }

            r->host_end = p;

            /* fall through */

        case sw_host_end:
            if (c == ':') {
                r->port_start = p + 1;
                state = sw_port;
                break;
            }

            goto authority_end;

        case sw_port:
            if (c >= '0' && c <= '9') {
                if (p - r->port_start >= 5) {
                    goto invalid;
                }

                break;
            }

            r->port_end = p;

            if (!kl_http_port_ok(r->port_start, p,
                                 r->method == KL_HTTP_CONNECT)) {
                goto invalid;
            }

authority_end:

            if (r->method == KL_HTTP_CONNECT) {
                if (c == ' ' && r->port_end != NULL) {
                    goto target_end;
                }

                goto invalid;
            }

            if (c == '/') {
                r->path_start = p;
                state = sw_after_slash;
                break;
            }

            /* no path: the '/' of "://" stands for it, RFC 9112 3.2.2 */
            r->path_start = r->schema_end + 1;
            r->path_end = r->schema_end + 2;

            if (c == '?') {
                r->args_start = p + 1;
                state = sw_args;
                break;
            }

            if (c == ' ') {
                goto target_end;
            }

            goto invalid;

        case sw_after_slash:
            if (c == '/') {
                r->complex_uri = 1;
                break;
            }

            if (c == '.') {
                /* a leading dot starts no extension, as in ".htaccess" */
                r->complex_uri = 1;
                state = sw_path;
                break;
            }

            state = sw_path;

            /* fall through */

        case sw_path:
            switch (c) {

            case '/':
                r->exten_start = NULL;
                state = sw_after_slash;
                break;

            case '.':
                r->exten_start = p + 1;
                break;

            case '%':
                r->quoted_uri = 1;
                break;

            case '+':
                r->plus_in_uri = 1;
                break;

            case '?':
                r->path_end = p;
                r->args_start = p + 1;
                state = sw_args;
                break;

            case ' ':
                goto target_end;

            default:
                if (!kl_http_is(c, KL_HTTP_TARGET)) {
                    goto invalid;
                }
            }

            break;

        case sw_args:
            if (c == ' ') {
                goto target_end;
            }

            if (!kl_http_is(c, KL_HTTP_TARGET)) {
                goto invalid;
            }

            break;

        case sw_asterisk:
            if (c != ' ') {
                goto invalid;
            }

target_end:

            r->uri_end = p;

            if (r->path_start != NULL && r->path_end == NULL) {
                r->path_end = p;
            }

            state = sw_version_H;
            break;

        case sw_version_H:
            /* HTTP-name is case-sensitive, RFC 9112 section 2.3 */
            if (c != 'H') {
                goto invalid;
            }

            state = sw_version_T1;
            break;

        case sw_version_T1:
            if (c != 'T') {
                goto invalid;
            }

            state = sw_version_T2;
            break;

        case sw_version_T2:
            if (c != 'T') {
                goto invalid;
            }

            state = sw_version_P;
            break;

        case sw_version_P:
            if (c != 'P') {
                goto invalid;
            }

            state = sw_version_slash;
            break;

        case sw_version_slash:
            if (c != '/') {
                goto invalid;
            }

            state = sw_major;
            break;

        case sw_major:
            if (c < '0' || c > '9') {
                goto invalid;
            }

            r->http_major = c - '0';
            state = sw_dot;
            break;

        case sw_dot:
            if (c != '.') {
                goto invalid;
            }

            state = sw_minor;
            break;

        case sw_minor:
            if (c < '0' || c > '9') {
                goto invalid;
            }

            r->http_minor = c - '0';
            state = sw_line_end;
            break;

        case sw_line_end:
            r->request_end = p;

            if (c == KL_CR) {
                state = sw_line_lf;
                break;
            }

            if (c == KL_LF) {
                goto done;
            }

            goto invalid;

        case sw_line_lf:
            if (c != KL_LF) {
                goto invalid;
            }

            goto done;
        }
    }

    b->pos = p;
    r->state = state;

    return KL_AGAIN;

done:

    b->pos = p + 1;
    r->state = sw_start;
    r->http_version = r->http_major * 1000 + r->http_minor;

    /* checked only now so that "HTTP/12.0" is malformed, not a version */
    if (r->http_major != 1) {
        return KL_HTTP_PARSE_INVALID_VERSION;
    }

    return KL_OK;

invalid:

    b->pos = p;
    r->state = state;

    return KL_HTTP_PARSE_INVALID_REQUEST;
}


static void
kl_http_request_line_reset(kl_http_parse_t *r)
{
    r->request_start = NULL;
    r->request_end = NULL;
    r->method_end = NULL;
    r->uri_start = NULL;
    r->uri_end = NULL;
    r->schema_start = NULL;
    r->schema_end = NULL;
    r->host_start = NULL;
    r->host_end = NULL;
    r->port_start = NULL;
    r->port_end = NULL;
    r->path_start = NULL;
    r->path_end = NULL;
    r->args_start = NULL;
    r->exten_start = NULL;
    r->method = KL_HTTP_UNKNOWN;
    r->http_major = 0;
    r->http_minor = 0;
    r->http_version = 0;
    r->complex_uri = 0;
    r->quoted_uri = 0;
    r->plus_in_uri = 0;
    r->asterisk_form = 0;
}


/* Only the schemes we serve; schemes are case-insensitive, RFC 3986 3.1. */
static kl_uint_t
kl_http_schema_ok(u_char *start, u_char *end)
{
    size_t len;

    len = end - start;

    if (len != 4 && len != 5) {
        return 0;
    }

    if ((start[0] | 0x20) != 'h' || (start[1] | 0x20) != 't'
        || (start[2] | 0x20) != 't' || (start[3] | 0x20) != 'p')
    {
        return 0;
    }

    return len == 4 || (start[4] | 0x20) == 's';
}


/* Up to five digits, at most 65535; empty only where the form allows it. */
static kl_uint_t
kl_http_port_ok(u_char *start, u_char *end, kl_uint_t required)
{
    kl_uint_t port;

    if (start == end) {
        return !required;
    }

    for (port = 0; start < end; start++) {
        port = port * 10 + (*start - '0');
    }

    return port <= 65535;
}


kl_int_t
kl_http_parse_header_line(kl_http_parse_t *r, kl_buf_t *b)
{
    u_char    c, *p;
    kl_uint_t hash;
    enum {
        sw_start = 0,
        sw_name,
        sw_space_before_value,
        sw_value,
        sw_line_lf,
        sw_head_end_lf
    } state;

    state = r->state;

    for (p = b->pos; p < b->last; p++) {
        c = *p;

        switch (state) {

        case sw_start:
            r->header_name_start = p;
            r->header_name_end = NULL;
            r->header_start = NULL;
            r->header_end = NULL;
            r->header_hash = 0;
            r->underscore = 0;

            if (c == KL_CR) {
                state = sw_head_end_lf;
                break;
            }

            if (c == KL_LF) {
                goto head_done;
            }

            /* SP or HTAB here is obs-fold, ':' an empty name */
            if (!kl_http_is(c, KL_HTTP_TCHAR)) {
                goto invalid;
            }

            r->header_hash = kl_tolower(c);
            r->underscore = (c == '_');
            state = sw_name;
            break;

        case sw_name:
            if (kl_http_is(c, KL_HTTP_TCHAR)) {
                /* The rest of the name in a tight loop, not byte by byte
                 * through the switch. */
                hash = r->header_hash;

                do {
                    hash = hash * 31 + kl_tolower(c);

                    if (c == '_') {
                        r->underscore = 1;
                    }

                    if (++p == b->last) {
                        r->header_hash = hash;
                        goto again;
                    }

                    c = *p;
                } while (kl_http_is(c, KL_HTTP_TCHAR));

                r->header_hash = hash;
            }

            /* whitespace before the colon, RFC 9112 section 5.1 */
            if (c != ':') {
                goto invalid;
            }

            r->header_name_end = p;
            state = sw_space_before_value;
            break;

        case sw_space_before_value:
            if (c == ' ' || c == '\t') {
                break;
            }

            r->header_start = p;
            r->header_end = p;
            state = sw_value;

            /* fall through */

        case sw_value:
            if (kl_http_is(c, KL_HTTP_FVCHAR)) {
                do {
                    if (++p == b->last) {
                        r->header_end = p;
                        goto again;
                    }

                    c = *p;
                } while (kl_http_is(c, KL_HTTP_FVCHAR));

                r->header_end = p;
            }

            if (c == ' ' || c == '\t') {
                break;
            }

            if (c == KL_CR) {
                state = sw_line_lf;
                break;
            }

            if (c == KL_LF) {
                goto done;
            }

            goto invalid;

        case sw_line_lf:
            if (c != KL_LF) {
                goto invalid;
            }

            goto done;

        case sw_head_end_lf:
            if (c != KL_LF) {
                goto invalid;
            }

            goto head_done;
        }
    }

again:

    b->pos = p;
    r->state = state;

    return KL_AGAIN;

done:

    b->pos = p + 1;
    r->state = sw_start;

    return KL_OK;

head_done:

    b->pos = p + 1;
    r->state = sw_start;

    return KL_HTTP_PARSE_HEADER_DONE;

invalid:

    b->pos = p;
    r->state = state;

    return KL_HTTP_PARSE_INVALID_HEADER;
}


kl_int_t
kl_http_parse_chunked(kl_http_chunked_t *ctx, kl_buf_t *b)
{
    u_char                  c, *p;
    off_t                   d;
    kl_int_t                rc;
    kl_http_chunked_state_t state;

    state = ctx->state;
    rc = KL_AGAIN;

    if (state == sw_chunk_data && ctx->size == 0) {
        state = sw_after_data;
    }

    for (p = b->pos; p < b->last; p++) {
        c = *p;

        /* the enum orders the chunk-size line's states together */
        if (state >= sw_chunk_size && state <= sw_chunk_size_lf
            && ++ctx->ext_len > KL_HTTP_CHUNK_LINE_MAX)
        {
            goto invalid;
        }

        if (state >= sw_trailer_start
            && ++ctx->trailer_len > KL_HTTP_TRAILER_MAX) {
            goto invalid;
        }

        switch (state) {

        case sw_chunk_start:
            if (!kl_http_is(c, KL_HTTP_HEX)) {
                goto invalid;
            }

            ctx->size = kl_http_hexval(c);
            ctx->ext_len = 1;
            state = sw_chunk_size;
            break;

        case sw_chunk_size:
            if (kl_http_is(c, KL_HTTP_HEX)) {
                d = kl_http_hexval(c);

                if (ctx->size > (KL_MAX_OFF_T_VALUE - d) / 16) {
                    goto too_large;
                }

                ctx->size = ctx->size * 16 + d;
                break;
            }

            /* fall through */

        case sw_ext_end:
ext_end:

            /* chunk-ext = *( BWS ";" BWS name [ BWS "=" BWS value ] ) */
            if (c == ';') {
                state = sw_ext_name_start;
                break;
            }

            if (c == ' ' || c == '\t') {
                state = sw_ext_bws;
                break;
            }

            if (c == KL_CR) {
                state = sw_chunk_size_lf;
                break;
            }

            goto invalid;

        case sw_ext_bws:
            if (c == ' ' || c == '\t') {
                break;
            }

            if (c == ';') {
                state = sw_ext_name_start;
                break;
            }

            goto invalid;

        case sw_ext_name_start:
            if (c == ' ' || c == '\t') {
                break;
            }

            if (!kl_http_is(c, KL_HTTP_TCHAR)) {
                goto invalid;
            }

            state = sw_ext_name;
            break;

        case sw_ext_name:
            if (kl_http_is(c, KL_HTTP_TCHAR)) {
                break;
            }

            if (c == KL_CR) {
                state = sw_chunk_size_lf;
                break;
            }

            /* fall through */

        case sw_ext_name_bws:
            if (c == ' ' || c == '\t') {
                state = sw_ext_name_bws;
                break;
            }

            if (c == '=') {
                state = sw_ext_value_start;
                break;
            }

            if (c == ';') {
                state = sw_ext_name_start;
                break;
            }

            goto invalid;

        case sw_ext_value_start:
            if (c == ' ' || c == '\t') {
                break;
            }

            if (c == '"') {
                state = sw_ext_quoted;
                break;
            }

            if (!kl_http_is(c, KL_HTTP_TCHAR)) {
                goto invalid;
            }

            state = sw_ext_value;
            break;

        case sw_ext_value:
            if (kl_http_is(c, KL_HTTP_TCHAR)) {
                break;
            }

            goto ext_end;

        case sw_ext_quoted:
            if (c == '"') {
                state = sw_ext_end;
                break;
            }

            if (c == '\\') {
                state = sw_ext_quoted_pair;
                break;
            }

            if (!kl_http_is(c, KL_HTTP_QDTEXT)) {
                goto invalid;
            }

            break;

        case sw_ext_quoted_pair:
            if (c != ' ' && c != '\t' && !kl_http_is(c, KL_HTTP_FVCHAR)) {
                goto invalid;
            }

            state = sw_ext_quoted;
            break;

        case sw_chunk_size_lf:
            if (c != KL_LF) {
                goto invalid;
            }

            if (ctx->size == 0) {
                ctx->trailer_len = 0;
                state = sw_trailer_start;
                break;
            }

            state = sw_chunk_data;
            break;

        case sw_chunk_data:
            rc = KL_OK;
            goto data;

        case sw_after_data:
            if (c != KL_CR) {
                goto invalid;
            }

            state = sw_after_data_lf;
            break;

        case sw_after_data_lf:
            if (c != KL_LF) {
                goto invalid;
            }

            state = sw_chunk_start;
            break;

        case sw_trailer_start:
            if (c == KL_CR) {
                state = sw_trailer_end_lf;
                break;
            }

            /* obs-fold, an empty name and a bare LF are all errors here */
            if (!kl_http_is(c, KL_HTTP_TCHAR)) {
                goto invalid;
            }

            state = sw_trailer_name;
            break;

        case sw_trailer_name:
            if (kl_http_is(c, KL_HTTP_TCHAR)) {
                break;
            }

            if (c != ':') {
                goto invalid;
            }

            state = sw_trailer_value;
            break;

        case sw_trailer_value:
            if (kl_http_is(c, KL_HTTP_FVCHAR) || c == ' ' || c == '\t') {
                break;
            }

            if (c != KL_CR) {
                goto invalid;
            }

            state = sw_trailer_lf;
            break;

        case sw_trailer_lf:
            if (c != KL_LF) {
                goto invalid;
            }

            state = sw_trailer_start;
            break;

        case sw_trailer_end_lf:
            if (c != KL_LF) {
                goto invalid;
            }

            goto done;
        }
    }

data:

    ctx->state = state;
    ctx->length = kl_http_chunked_need(ctx, state);
    b->pos = p;

    return rc;

done:

    ctx->state = sw_chunk_start;
    ctx->size = 0;
    ctx->length = 0;
    b->pos = p + 1;

    return KL_DONE;

invalid:

    ctx->state = state;
    b->pos = p;

    return KL_HTTP_PARSE_INVALID_CHUNK;

too_large:

    ctx->state = state;
    b->pos = p;

    return KL_HTTP_PARSE_CHUNK_TOO_LARGE;
}


/*
 * The fewest bytes that can still complete the body from this state, so
 * a caller can size its buffer; a chunk of size N ends in CRLF and is
 * followed at least by "0" CRLF CRLF.
 */
static off_t
kl_http_chunked_need(kl_http_chunked_t *ctx, kl_http_chunked_state_t state)
{
    off_t tail;

    switch (state) {

    case sw_chunk_start:
        return 5;

    case sw_chunk_data:
        tail = 7;
        break;

    case sw_after_data:
        return 7;

    case sw_after_data_lf:
        return 6;

    case sw_trailer_start:
        return 2;

    case sw_trailer_name:
        return 5;

    case sw_trailer_value:
        return 4;

    case sw_trailer_lf:
        return 3;

    case sw_trailer_end_lf:
        return 1;

    case sw_chunk_size_lf:
        if (ctx->size == 0) {
            return 3;
        }

        tail = 1 + 7;
        break;

    default:
        /* the rest of the chunk-size line */
        if (ctx->size == 0) {
            return 4;
        }

        tail = 2 + 7;
        break;
    }

    if (ctx->size > KL_MAX_OFF_T_VALUE - tail) {
        return KL_MAX_OFF_T_VALUE;
    }

    return ctx->size + tail;
}


/*
 * One pass: decode a byte, then treat it exactly as if it had been sent
 * raw, so "%2e%2e" is ".." and "%2F" a separator. That is what keeps
 * encoded traversal from slipping past the dot-segment rules. Each output
 * byte comes from at least one input byte, so dst may be src.
 */
ssize_t
kl_http_normalize_uri(u_char *src, size_t len, u_char *dst,
                      kl_uint_t merge_slashes)
{
    u_char   c, *s, *end, *d, *seg;
    kl_int_t rc;

    if (len == 0 || src[0] != '/') {
        return KL_ERROR;
    }

    s = src + 1;
    end = src + len;
    d = dst;
    *d++ = '/';
    seg = d;

    while (s < end) {
        c = *s++;

        if (c == '%') {
            if (end - s < 2 || !kl_http_is(s[0], KL_HTTP_HEX)
                || !kl_http_is(s[1], KL_HTTP_HEX))
            {
                return KL_ERROR;
            }

            c = (u_char) (kl_http_hexval(s[0]) << 4 | kl_http_hexval(s[1]));
            s += 2;
        }

        /* a NUL would cut the path short in the file system calls */
        if (c == '\0') {
            return KL_ERROR;
        }

        if (c != '/') {
            *d++ = c;
            continue;
        }

        rc = kl_http_dot_segment(dst, seg, &d);

        if (rc == KL_ERROR) {
            return KL_ERROR;
        }

        /* a removed dot segment leaves its leading '/' to stand for this */
        if (rc == KL_OK || (merge_slashes && d[-1] == '/')) {
            seg = d;
            continue;
        }

        *d++ = '/';
        seg = d;
    }

    if (kl_http_dot_segment(dst, seg, &d) == KL_ERROR) {
        return KL_ERROR;
    }

    return d - dst;
}


/*
 * The segment [seg, *d) has just ended. "." is dropped, ".." drops itself
 * and the segment before it, KL_OK either way and *d moved back to just
 * after a '/'. KL_DECLINED for any other segment, KL_ERROR for ".." at
 * the root.
 */
static kl_int_t
kl_http_dot_segment(u_char *dst, u_char *seg, u_char **d)
{
    u_char *q;

    if (*d - seg == 1 && seg[0] == '.') {
        *d = seg;
        return KL_OK;
    }

    if (*d - seg != 2 || seg[0] != '.' || seg[1] != '.') {
        return KL_DECLINED;
    }

    if (seg - 1 == dst) {
        return KL_ERROR;
    }

    /* dst[0] is '/', so the scan stops */
    for (q = seg - 2; *q != '/'; q--) {
        /* void */
    }

    *d = q + 1;

    return KL_OK;
}


kl_uint_t
kl_http_method_bit(u_char *start, u_char *end)
{
    size_t len, i;
    static const struct {
        char      name[10];
        size_t    len;
        kl_uint_t bit;
    } methods[] = {
        { "GET", 3, KL_HTTP_GET },
        { "HEAD", 4, KL_HTTP_HEAD },
        { "POST", 4, KL_HTTP_POST },
        { "PUT", 3, KL_HTTP_PUT },
        { "DELETE", 6, KL_HTTP_DELETE },
        { "MKCOL", 5, KL_HTTP_MKCOL },
        { "COPY", 4, KL_HTTP_COPY },
        { "MOVE", 4, KL_HTTP_MOVE },
        { "OPTIONS", 7, KL_HTTP_OPTIONS },
        { "PROPFIND", 8, KL_HTTP_PROPFIND },
        { "PROPPATCH", 9, KL_HTTP_PROPPATCH },
        { "LOCK", 4, KL_HTTP_LOCK },
        { "UNLOCK", 6, KL_HTTP_UNLOCK },
        { "PATCH", 5, KL_HTTP_PATCH },
        { "TRACE", 5, KL_HTTP_TRACE },
        { "CONNECT", 7, KL_HTTP_CONNECT },
    };

    len = end - start;

    /* method names are case-sensitive, RFC 9110 section 9.1 */
    for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        if (methods[i].len == len && memcmp(methods[i].name, start, len) == 0) {
            return methods[i].bit;
        }
    }

    return KL_HTTP_UNKNOWN;
}


/*
 * A comma inside a quoted-string does not split (an entity-tag may hold
 * one), and a '\' there escapes the next byte.
 */
kl_int_t
kl_http_list_next(u_char **pos, u_char *end, kl_str_t *item)
{
    u_char    c, *p, *start, *last;
    kl_uint_t quoted;

    for (p = *pos; p < end; p++) {
        if (*p != ' ' && *p != '\t' && *p != ',') {
            break;
        }
    }

    if (p == end) {
        *pos = p;
        return KL_DONE;
    }

    start = p;
    last = p;
    quoted = 0;

    for (/* void */; p < end; p++) {
        c = *p;

        if (quoted) {
            if (c == '\\' && p + 1 < end) {
                p++;

            } else if (c == '"') {
                quoted = 0;
            }

            last = p + 1;
            continue;
        }

        if (c == ',') {
            break;
        }

        if (c == '"') {
            quoted = 1;
        }

        if (c != ' ' && c != '\t') {
            last = p + 1;
        }
    }

    item->data = start;
    item->len = last - start;
    *pos = (p < end) ? p + 1 : p;

    return KL_OK;
}
