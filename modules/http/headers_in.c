/*
 * headers_in.c: the request fields kiln acts on: the known-header table
 * and its handlers, Host validation, and choosing the virtual server.
 * The checks an HTTP/1 head gets once it is all in (framing, Host for
 * 1.1, methods) are v1/connection.c's.
 */

#include "kl_http.h"


typedef kl_int_t (*kl_http_header_handler_pt)(kl_http_request_t *r,
                                              kl_table_elt_t    *h,
                                              kl_uint_t          offset);

typedef struct {
    kl_str_t                  name;
    kl_uint_t                 offset;
    kl_http_header_handler_pt handler;
} kl_http_header_t;


static kl_int_t kl_http_process_header_line(kl_http_request_t *r,
                                            kl_table_elt_t    *h,
                                            kl_uint_t          offset);
static kl_int_t kl_http_process_unique_header_line(kl_http_request_t *r,
                                                   kl_table_elt_t    *h,
                                                   kl_uint_t          offset);
static kl_int_t kl_http_process_host(kl_http_request_t *r, kl_table_elt_t *h,
                                     kl_uint_t offset);
static kl_int_t kl_http_process_connection(kl_http_request_t *r,
                                           kl_table_elt_t *h, kl_uint_t offset);
static kl_int_t kl_http_process_content_length(kl_http_request_t *r,
                                               kl_table_elt_t    *h,
                                               kl_uint_t          offset);
static kl_int_t kl_http_valid_ipv6(u_char *p, size_t len);


#define kl_http_hdr(name, field, handler)                                      \
    {                                                                          \
        kl_string(name), offsetof(kl_http_headers_in_t, field), handler        \
    }

static kl_http_header_t kl_http_headers_in[] = {
    kl_http_hdr("host", host, kl_http_process_host),
    kl_http_hdr("connection", connection, kl_http_process_connection),
    kl_http_hdr("if-modified-since", if_modified_since,
                kl_http_process_unique_header_line),
    kl_http_hdr("if-unmodified-since", if_unmodified_since,
                kl_http_process_unique_header_line),
    kl_http_hdr("if-match", if_match, kl_http_process_header_line),
    kl_http_hdr("if-none-match", if_none_match, kl_http_process_header_line),
    kl_http_hdr("user-agent", user_agent, kl_http_process_header_line),
    kl_http_hdr("referer", referer, kl_http_process_header_line),
    kl_http_hdr("content-length", content_length,
                kl_http_process_content_length),
    kl_http_hdr("content-type", content_type,
                kl_http_process_unique_header_line),
    kl_http_hdr("range", range, kl_http_process_unique_header_line),
    kl_http_hdr("if-range", if_range, kl_http_process_unique_header_line),
    kl_http_hdr("transfer-encoding", transfer_encoding,
                kl_http_process_unique_header_line),
    kl_http_hdr("te", te, kl_http_process_header_line),
    kl_http_hdr("expect", expect, kl_http_process_unique_header_line),
    kl_http_hdr("upgrade", upgrade, kl_http_process_header_line),
    kl_http_hdr("accept-encoding", accept_encoding,
                kl_http_process_header_line),
    kl_http_hdr("authorization", authorization,
                kl_http_process_unique_header_line),
    kl_http_hdr("keep-alive", keep_alive, kl_http_process_header_line),
    kl_http_hdr("cookie", cookie, kl_http_process_header_line),
    kl_http_hdr("x-forwarded-for", x_forwarded_for,
                kl_http_process_header_line),
    { kl_null_string, 0, NULL }
};


/*
 * The table above by the parser's hash of the lowercased name (h->hash),
 * open addressing; slot values are entry index + 1, 0 for empty. Built on
 * first use: the table is constant.
 */
#define KL_HTTP_HEADERS_IN_SLOTS 64

static uint8_t   kl_http_headers_in_slot[KL_HTTP_HEADERS_IN_SLOTS];
static kl_uint_t kl_http_headers_in_hash[sizeof(kl_http_headers_in)
                                         / sizeof(kl_http_header_t)];
static kl_uint_t kl_http_headers_in_ready;


static void
kl_http_headers_in_index(void)
{
    size_t    j;
    kl_uint_t i, k;

    for (i = 0; kl_http_headers_in[i].name.len; i++) {
        k = 0;

        for (j = 0; j < kl_http_headers_in[i].name.len; j++) {
            k = k * 31 + kl_http_headers_in[i].name.data[j];
        }

        kl_http_headers_in_hash[i] = k;

        for (k %= KL_HTTP_HEADERS_IN_SLOTS; kl_http_headers_in_slot[k];
             k = (k + 1) % KL_HTTP_HEADERS_IN_SLOTS)
        {
            /* void */
        }

        kl_http_headers_in_slot[k] = (uint8_t) (i + 1);
    }

    kl_http_headers_in_ready = 1;
}


kl_int_t
kl_http_process_known_header(kl_http_request_t *r, kl_table_elt_t *h)
{
    kl_uint_t         i, k;
    kl_http_header_t *hh;

    if (!kl_http_headers_in_ready) {
        kl_http_headers_in_index();
    }

    for (k = h->hash % KL_HTTP_HEADERS_IN_SLOTS; kl_http_headers_in_slot[k];
         k = (k + 1) % KL_HTTP_HEADERS_IN_SLOTS)
    {
        i = kl_http_headers_in_slot[k] - 1;
        hh = &kl_http_headers_in[i];

        if (kl_http_headers_in_hash[i] == h->hash && hh->name.len == h->key.len
            && kl_strncmp(hh->name.data, h->lowcase_key, h->key.len) == 0)
        {
            return hh->handler(r, h, hh->offset);
        }
    }

    return KL_OK;
}


static kl_int_t
kl_http_process_header_line(kl_http_request_t *r, kl_table_elt_t *h,
                            kl_uint_t offset)
{
    kl_table_elt_t **ph;

    ph = (kl_table_elt_t **) ((char *) &r->headers_in + offset);

    while (*ph) {
        ph = &(*ph)->next;
    }

    *ph = h;

    return KL_OK;
}


static kl_int_t
kl_http_process_unique_header_line(kl_http_request_t *r, kl_table_elt_t *h,
                                   kl_uint_t offset)
{
    kl_table_elt_t **ph;

    ph = (kl_table_elt_t **) ((char *) &r->headers_in + offset);

    if (*ph == NULL) {
        *ph = h;
        return KL_OK;
    }

    kl_log_error(KL_LOG_INFO, r->connection->log, 0,
                 "client sent duplicate header line: \"%V: %V\", "
                 "previous value: \"%V: %V\"",
                 &h->key, &h->value, &(*ph)->key, &(*ph)->value);

    kl_http_finalize_request(r, KL_HTTP_BAD_REQUEST);

    return KL_ERROR;
}


static kl_int_t
kl_http_process_content_length(kl_http_request_t *r, kl_table_elt_t *h,
                               kl_uint_t offset)
{
    off_t n;

    (void) offset;

    n = kl_atoof(h->value.data, h->value.len);

    if (n == KL_ERROR) {
        kl_log_error(KL_LOG_INFO, r->connection->log, 0,
                     "client sent invalid \"Content-Length\" header");
        kl_http_finalize_request(r, KL_HTTP_BAD_REQUEST);
        return KL_ERROR;
    }

    /* RFC 9112 6.3: identical repeats are one value; differing ones lie. */
    if (r->headers_in.content_length) {
        if (n != r->headers_in.content_length_n) {
            kl_log_error(KL_LOG_INFO, r->connection->log, 0,
                         "client sent duplicate header line: \"%V: %V\", "
                         "previous value: \"%V: %V\"",
                         &h->key, &h->value, &r->headers_in.content_length->key,
                         &r->headers_in.content_length->value);
            kl_http_finalize_request(r, KL_HTTP_BAD_REQUEST);
            return KL_ERROR;
        }

        return KL_OK;
    }

    r->headers_in.content_length = h;
    r->headers_in.content_length_n = n;

    return KL_OK;
}


static kl_int_t
kl_http_process_connection(kl_http_request_t *r, kl_table_elt_t *h,
                           kl_uint_t offset)
{
    u_char  *pos;
    kl_str_t item;

    if (kl_http_process_header_line(r, h, offset) != KL_OK) {
        return KL_ERROR;
    }

    pos = h->value.data;

    while (kl_http_list_next(&pos, h->value.data + h->value.len, &item)
           == KL_OK) {
        if (item.len == 5
            && kl_strncasecmp(item.data, (u_char *) "close", 5) == 0) {
            r->headers_in.connection_type = KL_HTTP_CONNECTION_CLOSE;

        } else if (item.len == 10
                   && kl_strncasecmp(item.data, (u_char *) "keep-alive", 10)
                          == 0
                   && r->headers_in.connection_type != KL_HTTP_CONNECTION_CLOSE)
        {
            r->headers_in.connection_type = KL_HTTP_CONNECTION_KEEP_ALIVE;
        }
    }

    return KL_OK;
}


static kl_int_t
kl_http_process_host(kl_http_request_t *r, kl_table_elt_t *h, kl_uint_t offset)
{
    kl_str_t host;

    (void) offset;

    if (r->headers_in.host) {
        kl_log_error(KL_LOG_INFO, r->connection->log, 0,
                     "client sent duplicate host header: \"%V: %V\", "
                     "previous value: \"%V: %V\"",
                     &h->key, &h->value, &r->headers_in.host->key,
                     &r->headers_in.host->value);
        kl_http_finalize_request(r, KL_HTTP_BAD_REQUEST);
        return KL_ERROR;
    }

    r->headers_in.host = h;

    host = h->value;

    if (kl_http_validate_host(&host, r->pool) != KL_OK) {
        kl_log_error(KL_LOG_INFO, r->connection->log, 0,
                     "client sent invalid host header");
        kl_http_finalize_request(r, KL_HTTP_BAD_REQUEST);
        return KL_ERROR;
    }

    /* The request line's authority wins over Host (RFC 9112 3.2.2). */
    if (r->headers_in.server.len) {
        return KL_OK;
    }

    if (kl_http_set_virtual_server(r, &host) != KL_OK) {
        return KL_ERROR;
    }

    r->headers_in.server = host;

    return KL_OK;
}


static kl_int_t
kl_http_valid_ipv6(u_char *p, size_t len)
{
    char            text[INET6_ADDRSTRLEN];
    struct in6_addr addr;

    if (len == 0 || len >= sizeof(text)) {
        return KL_ERROR;
    }

    kl_memcpy(text, p, len);
    text[len] = '\0';

    return inet_pton(AF_INET6, text, &addr) == 1 ? KL_OK : KL_ERROR;
}


/*
 * What RFC 3986 allows in brackets: an IPv6 address, or IPvFuture:
 * "v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" ).
 */
static kl_int_t
kl_http_valid_ip_literal(u_char *p, size_t len)
{
    u_char c;
    size_t i, n;

    if (len && p[0] != 'v' && p[0] != 'V') {
        /* inet_pton() would stop at a NUL: only its own bytes go in. */
        for (i = 0; i < len; i++) {
            c = p[i];

            if (!(c >= '0' && c <= '9')
                && !((c | 0x20) >= 'a' && (c | 0x20) <= 'f') && c != ':'
                && c != '.')
            {
                return KL_ERROR;
            }
        }

        return kl_http_valid_ipv6(p, len);
    }

    if (len == 0) {
        return KL_ERROR;
    }

    i = 1;

    while (i < len
           && ((p[i] >= '0' && p[i] <= '9')
               || ((p[i] | 0x20) >= 'a' && (p[i] | 0x20) <= 'f')))
    {
        i++;
    }

    if (i == 1 || i == len || p[i] != '.') {
        return KL_ERROR;
    }

    for (n = 0, i++; i < len; i++, n++) {
        c = p[i];

        if (!(c >= '0' && c <= '9') && !((c | 0x20) >= 'a' && (c | 0x20) <= 'z')
            && memchr("-._~!$&'()*+,;=:", c, sizeof("-._~!$&'()*+,;=:") - 1)
                   == NULL)
        {
            return KL_ERROR;
        }
    }

    return n ? KL_OK : KL_ERROR;
}


/*
 * RFC 3986 host: an IP-literal in brackets (IPv6 or IPvFuture), or a reg-name of letters,
 * digits, '-', '.', '_' and '~', then an optional ":port" of digits.
 * The result is lowercased, without port and trailing dot. nginx is
 * laxer (it takes most bytes); kiln answers 400 as the RFC asks.
 */
kl_int_t
kl_http_validate_host(kl_str_t *host, kl_pool_t *pool)
{
    u_char    c, *h;
    size_t    i, host_len, dot_pos;
    kl_uint_t bracket;

    h = host->data;
    host_len = host->len;
    dot_pos = host->len;
    bracket = (host->len && h[0] == '[');

    for (i = 0; i < host->len; i++) {
        c = h[i];

        if (bracket) {
            /*
             * The brackets hold an IPv6 address or an IPvFuture literal,
             * checked whole at the ']', which ends the host: a port may
             * follow, nothing else.
             */
            if (c == ']') {
                if (kl_http_valid_ip_literal(h + 1, i - 1) != KL_OK
                    || (i + 1 < host->len && h[i + 1] != ':'))
                {
                    return KL_ERROR;
                }

                bracket = 0;
            }

            continue;
        }

        if (c == ':') {
            host_len = i;
            break;
        }

        if (c == '.') {
            if (dot_pos == i - 1 || i == 0) {
                return KL_ERROR;
            }

            dot_pos = i;
            continue;
        }

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
            || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '~')
        {
            continue;
        }

        return KL_ERROR;
    }

    if (bracket) {
        return KL_ERROR;
    }

    for (i = host_len + 1; i < host->len; i++) {
        if (h[i] < '0' || h[i] > '9') {
            return KL_ERROR;
        }
    }

    if (host_len && dot_pos == host_len - 1) {
        host_len--;
    }

    if (host_len == 0) {
        return KL_ERROR;
    }

    host->data = kl_pnalloc(pool, host_len);
    if (host->data == NULL) {
        return KL_ERROR;
    }

    kl_strlow(host->data, h, host_len);
    host->len = host_len;

    return KL_OK;
}


static kl_uint_t
kl_http_server_name_match(kl_str_t *pattern, kl_str_t *host)
{
    size_t n;

    /* "" (a request without Host) has no bytes to compare, maybe no data */
    if (pattern->len == host->len
        && (host->len == 0
            || kl_strncmp(pattern->data, host->data, host->len) == 0))
    {
        return 3;
    }

    /* "*.example.com" and ".example.com" (which also takes example.com) */
    if (pattern->len > 1
        && (pattern->data[0] == '*' || pattern->data[0] == '.')) {
        n = pattern->len - (pattern->data[0] == '*');

        if (host->len > n
            && kl_strncmp(host->data + host->len - n,
                          pattern->data + pattern->len - n, n)
                   == 0)
        {
            return 2;
        }

        if (pattern->data[0] == '.' && host->len == pattern->len - 1
            && kl_strncmp(host->data, pattern->data + 1, host->len) == 0)
        {
            return 2;
        }
    }

    /* "www.example.*" */
    if (pattern->len > 2 && pattern->data[pattern->len - 1] == '*'
        && pattern->data[pattern->len - 2] == '.')
    {
        n = pattern->len - 1;

        if (host->len > n && kl_strncmp(host->data, pattern->data, n) == 0) {
            return 1;
        }
    }

    return 0;
}


/*
 * Exact names first, then the longest leading wildcard, then trailing,
 * then regex names in the order written; NULL when none matches. With r,
 * a regex's captures go to r; without (SNI, before any request), the
 * match alone counts. KL_ERROR in *rc when matching failed.
 */
kl_http_core_srv_conf_t *
kl_http_find_virtual_server(kl_http_addr_conf_t *ac, kl_str_t *host,
                            kl_http_request_t *r, kl_log_t *log, kl_int_t *rc)
{
    kl_int_t                 n;
    kl_uint_t                i, m, best_m;
    size_t                   best_len;
    kl_http_server_name_t   *sn;
    kl_http_core_srv_conf_t *cscf;

    sn = ac->names.elts;
    cscf = NULL;
    best_m = 0;
    best_len = 0;
    *rc = KL_OK;

    for (i = 0; host && i < ac->names.nelts; i++) {
        if (sn[i].regex) {
            continue;
        }

        m = kl_http_server_name_match(&sn[i].name, host);

        if (m > best_m || (m && m == best_m && sn[i].name.len > best_len)) {
            best_m = m;
            best_len = sn[i].name.len;
            cscf = sn[i].server;

            if (m == 3) {
                break;
            }
        }
    }

    for (i = 0; cscf == NULL && host && i < ac->names.nelts; i++) {
        if (sn[i].regex == NULL) {
            continue;
        }

        if (r) {
            n = kl_http_regex_exec(r, sn[i].regex, host);

        } else {
            n = kl_regex_exec(sn[i].regex->regex, host, NULL, 0);
            if (n >= 0) {
                n = KL_OK;
            } else if (n == KL_REGEX_NO_MATCHED) {
                n = KL_DECLINED;
            } else {
                kl_log_error(KL_LOG_ALERT, log, 0,
                             "pcre2_match() failed: %i on \"%V\"", n, host);
                n = KL_ERROR;
            }
        }

        if (n == KL_OK) {
            cscf = sn[i].server;

        } else if (n == KL_ERROR) {
            *rc = KL_ERROR;
            return NULL;
        }
    }

    return cscf;
}


kl_int_t
kl_http_set_virtual_server(kl_http_request_t *r, kl_str_t *host)
{
    kl_int_t                 rc;
    kl_http_connection_t    *hc;
    kl_http_core_srv_conf_t *cscf;

    hc = r->http_connection;

    cscf = kl_http_find_virtual_server(hc->addr_conf, host, r,
                                       r->connection->log, &rc);

    if (rc == KL_ERROR) {
        kl_http_finalize_request(r, KL_HTTP_INTERNAL_SERVER_ERROR);
        return KL_ERROR;
    }

    /* No match: the address's default, even when SNI chose another. */
    if (cscf == NULL) {
        cscf = hc->addr_conf->default_server;
    }

    r->srv_conf = cscf->ctx->srv_conf;
    r->loc_conf = cscf->ctx->loc_conf;

    return KL_OK;
}
