/* cgi_parse.h: the pure parser of CGI output's head, as uwsgi and SCGI peers send it. */

#ifndef KL_HTTP_CGI_PARSE_H
#define KL_HTTP_CGI_PARSE_H

#include "kl_config.h"
#include "kl_types.h"
#include "string.h"
#include "buf.h"
#include "parse.h"
#include "upstream_parse.h"

/* Where the head is: the status line, if one came, and the field just
 * read. Zeroed before the head's first byte. */
typedef struct {
    kl_uint_t             state;  /* 0: a status line may come; 1: fields */
    u_char               *start;  /* the head's first byte */
    kl_http_status_line_t status; /* status.code 0: no status line */
    kl_http_parse_t       parse;  /* header_* of the field just read */
} kl_http_cgi_head_t;

/*
 * The head in [b->pos, b->last), resumable: bytes read since the first
 * call stay where they are and more come after them. If the output
 * begins with an HTTP/1.x status line (uWSGI's apps send one) it is read
 * into h->status; else, from the first byte that cannot begin one, the
 * bytes are read again from h->start as fields (nginx's rule). Then one
 * field a call: KL_OK (h->parse's header_* set, b->pos after it),
 * KL_HTTP_PARSE_HEADER_DONE at the empty line, KL_AGAIN (b->pos at
 * b->last), or kl_http_parse_header_line's error.
 */
kl_int_t kl_http_cgi_parse_head(kl_http_cgi_head_t *h, kl_buf_t *b);

/*
 * A Status field's value, "NNN" or "NNN reason" (RFC 3875 6.3.3): NNN
 * (100..999), or KL_ERROR.
 */
kl_int_t kl_http_cgi_parse_status(kl_str_t *value);

#endif /* KL_HTTP_CGI_PARSE_H */
