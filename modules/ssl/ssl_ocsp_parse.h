/* ssl_ocsp_parse.h: pure parsers of the OCSP fetcher: the responder's URL and the HTTP head of its answer. */

#ifndef KL_SSL_OCSP_PARSE_H
#define KL_SSL_OCSP_PARSE_H

#include "kl_core.h"

/* What the fetcher needs of an HTTP/1.x response head. */
typedef struct {
    kl_uint_t status;       /* 200 */
    kl_str_t  content_type; /* trimmed; len 0: no such header */
    size_t    body;         /* offset of the body in the bytes parsed */
} kl_ssl_ocsp_head_t;

/*
 * Parse the status line and headers at p (len bytes read so far):
 * KL_OK with *h filled once the empty line was seen, KL_AGAIN when the
 * head is not complete yet, KL_ERROR when the bytes are not an HTTP/1.x
 * response head (lines end with CRLF or LF).
 */
kl_int_t kl_ssl_ocsp_parse_head(u_char *p, size_t len, kl_ssl_ocsp_head_t *h);

/*
 * "http://host[:port][/uri]" (nginx accepts nothing else): host (a
 * bracketed IPv6 address keeps its brackets), port (80) and uri ("/"),
 * pointing into url. KL_ERROR with *err: "invalid URL prefix", "invalid
 * host", "invalid port".
 */
kl_int_t kl_ssl_ocsp_parse_url(kl_str_t *url, kl_str_t *host, kl_uint_t *port,
                               kl_str_t *uri, const char **err);

#endif /* KL_SSL_OCSP_PARSE_H */
