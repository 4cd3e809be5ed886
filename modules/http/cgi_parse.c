/*
 * cgi_parse.c: the pure parser of CGI output's head (uwsgi, SCGI): an
 * optional status line, then fields, composed of the status line and
 * header line parsers; no allocation, no I/O.
 */

#include "cgi_parse.h"


kl_int_t
kl_http_cgi_parse_head(kl_http_cgi_head_t *h, kl_buf_t *b)
{
    kl_int_t rc;

    if (h->state == 0) {
        if (h->start == NULL) {
            h->start = b->pos;
        }

        rc = kl_http_parse_status_line(&h->status, b);

        if (rc == KL_AGAIN) {
            return KL_AGAIN;
        }

        if (rc != KL_OK) {
            /* Not a status line: the same bytes are the first field. */
            kl_memzero(&h->status, sizeof(kl_http_status_line_t));
            b->pos = h->start;
        }

        h->state = 1;
    }

    return kl_http_parse_header_line(&h->parse, b);
}


kl_int_t
kl_http_cgi_parse_status(kl_str_t *value)
{
    kl_int_t status;

    if (value->len < 3 || (value->len > 3 && value->data[3] != ' ')) {
        return KL_ERROR;
    }

    status = kl_atoi(value->data, 3);

    if (status < 100 || status > 999) {
        return KL_ERROR;
    }

    return status;
}
