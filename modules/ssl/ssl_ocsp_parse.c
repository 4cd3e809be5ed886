/* ssl_ocsp_parse.c: pure parsers of the OCSP fetcher: the responder's URL and the HTTP head of its answer. */

#include "kl_core.h"
#include "ssl_ocsp_parse.h"


/* The end of the line starting at p (the LF), or NULL: not complete. */
static u_char *
kl_ssl_ocsp_line(u_char *p, u_char *last, u_char **next)
{
    u_char *lf;

    lf = memchr(p, '\n', last - p);
    if (lf == NULL) {
        return NULL;
    }

    *next = lf + 1;

    return (lf > p && lf[-1] == '\r') ? lf - 1 : lf;
}


/* "HTTP/d.d ddd[ reason]" */
static kl_int_t
kl_ssl_ocsp_status_line(u_char *p, u_char *end, kl_uint_t *status)
{
    if (end - p < 12 || kl_strncmp(p, "HTTP/1.", 7) != 0 || p[7] < '0'
        || p[7] > '9' || p[8] != ' ')
    {
        return KL_ERROR;
    }

    p += 9;

    if (p[0] < '1' || p[0] > '5' || p[1] < '0' || p[1] > '9' || p[2] < '0'
        || p[2] > '9' || (end - p > 3 && p[3] != ' '))
    {
        return KL_ERROR;
    }

    *status = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');

    return KL_OK;
}


kl_int_t
kl_ssl_ocsp_parse_head(u_char *p, size_t len, kl_ssl_ocsp_head_t *h)
{
    u_char *start, *last, *end, *next, *colon, *v, *ve;

    kl_memzero(h, sizeof(kl_ssl_ocsp_head_t));

    start = p;
    last = p + len;

    end = kl_ssl_ocsp_line(p, last, &next);
    if (end == NULL) {
        /* an incomplete line that cannot become a status line is an error */
        return (len >= 7 && kl_strncmp(p, "HTTP/1.", 7) != 0) ? KL_ERROR
                                                              : KL_AGAIN;
    }

    if (kl_ssl_ocsp_status_line(p, end, &h->status) != KL_OK) {
        return KL_ERROR;
    }

    for (p = next; /* void */; p = next) {
        end = kl_ssl_ocsp_line(p, last, &next);
        if (end == NULL) {
            return KL_AGAIN;
        }

        if (end == p) {
            h->body = next - start;
            return KL_OK;
        }

        colon = memchr(p, ':', end - p);
        if (colon == NULL || colon == p) {
            return KL_ERROR;
        }

        if (colon - p != sizeof("Content-Type") - 1
            || kl_strncasecmp(p, (u_char *) "Content-Type", colon - p) != 0)
        {
            continue;
        }

        for (v = colon + 1; v < end && (*v == ' ' || *v == '\t'); v++) {
            /* void */
        }

        for (ve = end; ve > v && (ve[-1] == ' ' || ve[-1] == '\t'); ve--) {
            /* void */
        }

        h->content_type.data = v;
        h->content_type.len = ve - v;
    }
}


kl_int_t
kl_ssl_ocsp_parse_url(kl_str_t *url, kl_str_t *host, kl_uint_t *port,
                      kl_str_t *uri, const char **err)
{
    u_char  *p, *last, *host_end, *slash;
    kl_int_t n;

    p = url->data;
    last = p + url->len;

    if (url->len < 7 || kl_strncasecmp(p, (u_char *) "http://", 7) != 0) {
        *err = "invalid URL prefix";
        return KL_ERROR;
    }

    p += 7;

    slash = memchr(p, '/', last - p);
    if (slash == NULL) {
        slash = last;
    }

    if (p < slash && *p == '[') {
        host_end = memchr(p, ']', slash - p);
        if (host_end == NULL || host_end == p + 1) {
            *err = "invalid host";
            return KL_ERROR;
        }

        host_end++;

    } else {
        host_end = memchr(p, ':', slash - p);
        if (host_end == NULL) {
            host_end = slash;
        }
    }

    if (host_end == p) {
        *err = "invalid host";
        return KL_ERROR;
    }

    host->data = p;
    host->len = host_end - p;
    *port = 80;

    if (host_end < slash) {
        if (*host_end != ':' || slash - host_end < 2) {
            *err = "invalid port";
            return KL_ERROR;
        }

        n = kl_atoi(host_end + 1, slash - host_end - 1);
        if (n < 1 || n > 65535) {
            *err = "invalid port";
            return KL_ERROR;
        }

        *port = (kl_uint_t) n;
    }

    if (slash == last) {
        kl_str_set(uri, "/");

    } else {
        uri->data = slash;
        uri->len = last - slash;
    }

    return KL_OK;
}
