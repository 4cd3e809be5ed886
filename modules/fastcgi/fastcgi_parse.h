/* fastcgi_parse.h: the pure parser of the FastCGI records a responder sends. */

#ifndef KL_FASTCGI_PARSE_H
#define KL_FASTCGI_PARSE_H

#include "kl_config.h"
#include "kl_types.h"
#include "string.h"
#include "buf.h"

/* Record types (FastCGI 1.0, section 8). */
#define KL_FASTCGI_BEGIN_REQUEST 1
#define KL_FASTCGI_ABORT_REQUEST 2
#define KL_FASTCGI_END_REQUEST   3
#define KL_FASTCGI_PARAMS        4
#define KL_FASTCGI_STDIN         5
#define KL_FASTCGI_STDOUT        6
#define KL_FASTCGI_STDERR        7

#define KL_FASTCGI_HEADER_LEN 8

/* Results beyond KL_OK and KL_AGAIN. */
#define KL_FASTCGI_RECORD_DONE   30 /* a record ended, padding included */
#define KL_FASTCGI_PARSE_INVALID 31 /* not FastCGI version 1 */

typedef struct {
    kl_uint_t state;
    kl_uint_t type;
    kl_uint_t request_id;
    size_t    length;  /* content bytes of the record still to come */
    size_t    padding; /* padding bytes still to come */
    size_t    content_length;

    /* END_REQUEST's body, gathered here because it can arrive split. */
    u_char    end[8];
    kl_uint_t end_n;
    uint32_t  app_status;
    kl_uint_t protocol_status;
} kl_fastcgi_parse_t;

/*
 * The records in [b->pos, b->last), resumable over any split (a header,
 * content or padding cut anywhere). Returns:
 *   KL_OK       content of the current record at [content->data,
 *               +content->len), len > 0, inside the input; b->pos after it
 *   KL_FASTCGI_RECORD_DONE  the current record (p->type) ended, its
 *               padding consumed; for END_REQUEST app_status and
 *               protocol_status are set (its content is not returned)
 *   KL_AGAIN    every byte consumed; more are needed
 *   KL_FASTCGI_PARSE_INVALID  a version other than 1, or an END_REQUEST
 *               shorter than 8 bytes
 * A zero-length record (the end of a stream) gives RECORD_DONE alone.
 */
kl_int_t kl_fastcgi_parse_record(kl_fastcgi_parse_t *p, kl_buf_t *b,
                                 kl_str_t *content);

#endif /* KL_FASTCGI_PARSE_H */
