/*
 * gzip_accept.c: whether a request may get gzip, as nginx 1.22 decides it
 * (ngx_http_gzip_ok, ngx_http_gzip_accept_encoding, ngx_http_gzip_quantity,
 * its MSIE parsing of User-Agent), for the gzip and gzip_static modules.
 * The field tests are pure functions over bounded byte ranges: no NUL is
 * needed after a value.
 *
 * nginx's test is narrower than RFC 9110 12.5.3 allows ("*" is not taken
 * to mean gzip), which is still conforming: identity may always be sent.
 * It never sends gzip a client refused with q=0, which is what the RFC
 * requires.
 */

#include "gzip_accept.h"


/* The first case-insensitive "gzip" in [p, last), or NULL. */
static const u_char *
kl_http_gzip_find(const u_char *p, const u_char *last)
{
    for (; last - p >= 4; p++) {
        if ((p[0] | 0x20) == 'g' && (p[1] | 0x20) == 'z' && (p[2] | 0x20) == 'i'
            && (p[3] | 0x20) == 'p')
        {
            return p;
        }
    }

    return NULL;
}


/* Bytes that are a match for "s" in [p, last), case-sensitively. */
static const u_char *
kl_http_gzip_strstr(const u_char *p, const u_char *last, const char *s,
                    size_t n)
{
    for (; (size_t) (last - p) >= n; p++) {
        if (memcmp(p, s, n) == 0) {
            return p;
        }
    }

    return NULL;
}


kl_uint_t
kl_http_gzip_quantity(const u_char *p, const u_char *last)
{
    u_char    c;
    kl_uint_t n, q;

    if (p == last) {
        return 0;
    }

    c = *p++;

    if (c != '0' && c != '1') {
        return 0;
    }

    q = (kl_uint_t) (c - '0') * 100;

    if (p == last) {
        return q;
    }

    c = *p++;

    if (c == ',' || c == ' ') {
        return q;
    }

    if (c != '.') {
        return 0;
    }

    n = 0;

    while (p < last) {
        c = *p++;

        if (c == ',' || c == ' ') {
            break;
        }

        if (c < '0' || c > '9') {
            return 0;
        }

        /* nginx adds the digits up, whatever their place */
        q += c - '0';
        n++;
    }

    if (q > 100 || n > 3) {
        return 0;
    }

    return q;
}


/* After "gzip": spaces up to ',' or the end, or ";" [spaces] "q=" VALUE. */
static kl_uint_t
kl_http_gzip_params(const u_char *p, const u_char *last)
{
    while (p < last) {
        switch (*p++) {
        case ',':
            return 1;
        case ';':
            goto quantity;
        case ' ':
            continue;
        default:
            return 0;
        }
    }

    return 1;

quantity:

    while (p < last) {
        switch (*p++) {
        case 'q':
        case 'Q':
            goto equal;
        case ' ':
            continue;
        default:
            return 0;
        }
    }

    return 1;

equal:

    if (last - p < 2 || *p++ != '=') {
        return 0;
    }

    return kl_http_gzip_quantity(p, last) != 0;
}


kl_uint_t
kl_http_gzip_accept(const u_char *p, size_t len)
{
    const u_char *start, *last, *g;

    if (len < sizeof("gzip") - 1) {
        return 0;
    }

    start = p;
    last = p + len;

    for (;;) {
        g = kl_http_gzip_find(start, last);
        if (g == NULL) {
            return 0;
        }

        if (g == p || g[-1] == ',' || g[-1] == ' ') {
            break;
        }

        start = g + 4;
    }

    return kl_http_gzip_params(g + 4, last);
}


kl_uint_t
kl_http_gzip_msie6(const u_char *p, size_t len)
{
    kl_uint_t     msie6;
    const u_char *last, *m;

    last = p + len;
    msie6 = 0;

    m = kl_http_gzip_strstr(p, last, "MSIE ", 5);

    /* nginx wants a byte after "MSIE N.x" */
    if (m && m + 7 < last && m[6] == '.') {
        switch (m[5]) {
        case '4':
        case '5':
            msie6 = 1;
            break;
        case '6':
            msie6 = kl_http_gzip_strstr(m + 8, last, "SV1", 3) == NULL;
            break;
        default:
            break;
        }
    }

    if (msie6 && kl_http_gzip_strstr(p, last, "Opera", 5)) {
        msie6 = 0;
    }

    return msie6;
}


kl_uint_t
kl_http_gzip_directive(const u_char *p, size_t len, const u_char *name,
                       size_t nlen)
{
    const u_char *start, *end;

    start = p;
    end = p + len;

    while (start < end) {
        if ((size_t) (end - start) >= nlen
            && kl_strncasecmp((u_char *) start, (u_char *) name, nlen) == 0)
        {
            for (start += nlen; start < end && *start == ' '; start++) {
                /* void */
            }

            if (start == end || *start == ',') {
                return 1;
            }
        }

        while (start < end && *start != ',') {
            start++;
        }

        while (start < end && (*start == ',' || *start == ' ')) {
            start++;
        }
    }

    return 0;
}


/* The first live field named name (caseless) in a header list, or NULL. */
static kl_table_elt_t *
kl_http_gzip_find_header(kl_list_t *list, const char *name, size_t len)
{
    kl_uint_t       i;
    kl_list_part_t *part;
    kl_table_elt_t *h;

    part = &list->part;
    h = part->elts;

    for (i = 0; /* void */; i++) {
        if (i >= part->nelts) {
            if (part->next == NULL) {
                return NULL;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].hash != 0 && h[i].key.len == len
            && kl_strncasecmp(h[i].key.data, (u_char *) name, len) == 0)
        {
            return &h[i];
        }
    }
}


/* Whether any Cache-Control field has the directive name, as nginx. */
static kl_uint_t
kl_http_gzip_cache_control(kl_http_request_t *r, const char *name)
{
    kl_uint_t       i;
    kl_list_part_t *part;
    kl_table_elt_t *h;

    part = &r->headers_out.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {
        if (i >= part->nelts) {
            if (part->next == NULL) {
                return 0;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].hash != 0 && h[i].key.len == sizeof("Cache-Control") - 1
            && kl_strncasecmp(h[i].key.data, (u_char *) "Cache-Control",
                              sizeof("Cache-Control") - 1)
                   == 0
            && kl_http_gzip_directive(h[i].value.data, h[i].value.len,
                                      (const u_char *) name, strlen(name)))
        {
            return 1;
        }
    }
}


/* An Expires in the past lets a proxied response be compressed. */
static kl_uint_t
kl_http_gzip_expired(kl_http_request_t *r, kl_table_elt_t *e)
{
    time_t          expires, date;
    kl_table_elt_t *d;

    expires = kl_parse_http_time(e->value.data, e->value.len);
    if (expires == KL_ERROR) {
        return 0;
    }

    d = r->headers_out.date;

    if (d) {
        date = kl_parse_http_time(d->value.data, d->value.len);
        if (date == KL_ERROR) {
            return 0;
        }

    } else {
        date = kl_loop.clock.sec;
    }

    return expires < date;
}


/* gzip_proxied, for a request with Via: KL_OK or KL_DECLINED. */
static kl_int_t
kl_http_gzip_proxied_ok(kl_http_request_t *r, kl_uint_t p)
{
    kl_table_elt_t *e;

    if (p & KL_HTTP_GZIP_PROXIED_OFF) {
        return KL_DECLINED;
    }

    if (p & KL_HTTP_GZIP_PROXIED_ANY) {
        return KL_OK;
    }

    if (r->headers_in.authorization && (p & KL_HTTP_GZIP_PROXIED_AUTH)) {
        return KL_OK;
    }

    e = kl_http_gzip_find_header(&r->headers_out.headers, "Expires",
                                 sizeof("Expires") - 1);

    if (e) {
        if (!(p & KL_HTTP_GZIP_PROXIED_EXPIRED)) {
            return KL_DECLINED;
        }

        return kl_http_gzip_expired(r, e) ? KL_OK : KL_DECLINED;
    }

    if (kl_http_gzip_find_header(&r->headers_out.headers, "Cache-Control",
                                 sizeof("Cache-Control") - 1))
    {
        if (((p & KL_HTTP_GZIP_PROXIED_NO_CACHE)
             && kl_http_gzip_cache_control(r, "no-cache"))
            || ((p & KL_HTTP_GZIP_PROXIED_NO_STORE)
                && kl_http_gzip_cache_control(r, "no-store"))
            || ((p & KL_HTTP_GZIP_PROXIED_PRIVATE)
                && kl_http_gzip_cache_control(r, "private")))
        {
            return KL_OK;
        }

        return KL_DECLINED;
    }

    /*
     * As nginx: only a Last-Modified field set as such counts; the one
     * the header filter makes from last_modified_time (static) does not.
     */
    if ((p & KL_HTTP_GZIP_PROXIED_NO_LM) && r->headers_out.last_modified) {
        return KL_DECLINED;
    }

    if ((p & KL_HTTP_GZIP_PROXIED_NO_ETAG) && r->headers_out.etag) {
        return KL_DECLINED;
    }

    return KL_OK;
}


kl_int_t
kl_http_gzip_ok(kl_http_request_t *r, kl_http_gzip_common_conf_t *conf)
{
    kl_uint_t       i;
    kl_str_t       *ua;
    kl_regex_t    **re;
    kl_table_elt_t *ae;

    ae = r->headers_in.accept_encoding;

    if (r != r->main || ae == NULL
        || !kl_http_gzip_accept(ae->value.data, ae->value.len))
    {
        return KL_DECLINED;
    }

    ua = r->headers_in.user_agent ? &r->headers_in.user_agent->value : NULL;

    if (conf->disable_msie6 && ua && kl_http_gzip_msie6(ua->data, ua->len)) {
        return KL_DECLINED;
    }

    if (r->http_version < conf->http_version) {
        return KL_DECLINED;
    }

    if (kl_http_gzip_find_header(&r->headers_in.headers, "Via",
                                 sizeof("Via") - 1)
        && kl_http_gzip_proxied_ok(r, conf->proxied) != KL_OK)
    {
        return KL_DECLINED;
    }

    if (conf->disable && ua) {
        re = conf->disable->elts;

        /* No captures: nginx's gzip_disable does not set $1. */
        for (i = 0; i < conf->disable->nelts; i++) {
            if (kl_regex_exec(re[i], ua, NULL, 0) >= 0) {
                return KL_DECLINED;
            }
        }
    }

    return KL_OK;
}


kl_int_t
kl_http_gzip_vary(kl_http_request_t *r)
{
    if (r->gzip_vary) {
        return KL_OK;
    }

    if (kl_http_push_header(r, "Vary", "Accept-Encoding") == NULL) {
        return KL_ERROR;
    }

    r->gzip_vary = 1;

    return KL_OK;
}
