/* upstream_cgi_head.c: the fields of a CGI response head (FastCGI, uwsgi, SCGI) that set the upstream's status and length. */

/*
 * A CGI application (RFC 3875 6.3) answers with fields only: its status
 * comes in a Status field, or is 302 for a Location, or 200. FastCGI,
 * uwsgi and SCGI peers all send such heads, so their modules read the
 * fields with one set of rules here.
 */

#include "kl_http.h"
#include "upstream.h"
#include "cgi_parse.h"


kl_int_t
kl_http_upstream_cgi_field(kl_http_request_t *r, kl_http_upstream_t *u,
                           kl_table_elt_t *h, kl_table_elt_t **status)
{
    off_t n;

    if (h->key.len == 14
        && kl_strncmp(h->lowcase_key, "content-length", 14) == 0) {
        n = kl_atoof(h->value.data, h->value.len);

        if (n == KL_ERROR
            || (u->headers_in.content_length_n != -1
                && u->headers_in.content_length_n != n))
        {
            kl_log_error(KL_LOG_ERR, r->connection->log, 0,
                         "upstream sent invalid \"Content-Length\" "
                         "header: \"%V: %V\"",
                         &h->key, &h->value);
            return KL_HTTP_UPSTREAM_INVALID_HEADER;
        }

        u->headers_in.content_length_n = n;

    } else if (h->key.len == 8
               && kl_strncmp(h->lowcase_key, "location", 8) == 0) {
        u->headers_in.location = h;

    } else if (h->key.len == 7 && kl_strncmp(h->lowcase_key, "refresh", 7) == 0)
    {
        u->headers_in.refresh = h;

    } else if (h->key.len == 6 && kl_strncmp(h->lowcase_key, "status", 6) == 0)
    {
        *status = h;
    }

    return KL_OK;
}


kl_int_t
kl_http_upstream_cgi_status(kl_http_request_t *r, kl_http_upstream_t *u,
                            kl_table_elt_t *status)
{
    kl_int_t code;

    if (status) {
        code = kl_http_cgi_parse_status(&status->value);

        if (code == KL_ERROR) {
            kl_log_error(KL_LOG_ERR, r->connection->log, 0,
                         "upstream sent invalid status \"%V\"", &status->value);
            return KL_HTTP_UPSTREAM_INVALID_HEADER;
        }

        u->headers_in.status_n = code;

        if (status->value.len > 4) {
            u->headers_in.status_line = status->value;
        }

    } else if (u->headers_in.location) {
        u->headers_in.status_n = KL_HTTP_MOVED_TEMPORARILY;
        kl_str_set(&u->headers_in.status_line, "302 Moved Temporarily");

    } else {
        u->headers_in.status_n = KL_HTTP_OK;
        kl_str_set(&u->headers_in.status_line, "200 OK");
    }

    return KL_OK;
}
