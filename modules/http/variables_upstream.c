/*
 * variables_upstream.c: the upstream module's variables, as nginx's:
 * $upstream_addr, _status, _connect_time, _header_time, _response_time,
 * _response_length, _bytes_received, _bytes_sent (a list, one entry per
 * peer tried, ", " between them and " : " where an internal redirect
 * started another exchange), $upstream_last_server_name,
 * $upstream_cache_status, and the prefixes
 * $upstream_http_, $upstream_cookie_, $upstream_trailer_ (the last
 * response's head).
 *
 * upstream.c keeps the figures in the request's list of attempts
 * (kl_http_upstream_state_t); here they are only printed.
 */

#include "upstream.h"


/* What kl_http_upstream_list_variable prints of each attempt. */
enum {
    KL_HTTP_UPSTREAM_VAR_ADDR = 0,
    KL_HTTP_UPSTREAM_VAR_STATUS,
    KL_HTTP_UPSTREAM_VAR_CONNECT_TIME,
    KL_HTTP_UPSTREAM_VAR_HEADER_TIME,
    KL_HTTP_UPSTREAM_VAR_RESPONSE_TIME,
    KL_HTTP_UPSTREAM_VAR_RESPONSE_LENGTH,
    KL_HTTP_UPSTREAM_VAR_BYTES_RECEIVED,
    KL_HTTP_UPSTREAM_VAR_BYTES_SENT
};


static kl_int_t kl_http_upstream_list_variable(kl_http_request_t        *r,
                                               kl_http_variable_value_t *v,
                                               uintptr_t                 data);
static kl_int_t kl_http_upstream_none_variable(kl_http_request_t        *r,
                                               kl_http_variable_value_t *v,
                                               uintptr_t                 data);
static kl_int_t kl_http_upstream_last_server_variable(
    kl_http_request_t *r, kl_http_variable_value_t *v, uintptr_t data);
static kl_int_t kl_http_upstream_header_variable(kl_http_request_t        *r,
                                                 kl_http_variable_value_t *v,
                                                 uintptr_t data);
static kl_int_t kl_http_upstream_cookie_variable(kl_http_request_t        *r,
                                                 kl_http_variable_value_t *v,
                                                 uintptr_t data);


#define kl_http_upstream_var(nm, get, data, flags)                             \
    {                                                                          \
        kl_string(nm), NULL, get, data, KL_HTTP_VAR_NOCACHEABLE | (flags), 0   \
    }

#define kl_http_upstream_list(nm, what)                                        \
    kl_http_upstream_var(nm, kl_http_upstream_list_variable, what, 0)

static kl_http_variable_t kl_http_upstream_variables[] = {
    kl_http_upstream_list("upstream_addr", KL_HTTP_UPSTREAM_VAR_ADDR),
    kl_http_upstream_list("upstream_status", KL_HTTP_UPSTREAM_VAR_STATUS),
    kl_http_upstream_list("upstream_connect_time",
                          KL_HTTP_UPSTREAM_VAR_CONNECT_TIME),
    kl_http_upstream_list("upstream_header_time",
                          KL_HTTP_UPSTREAM_VAR_HEADER_TIME),
    kl_http_upstream_list("upstream_response_time",
                          KL_HTTP_UPSTREAM_VAR_RESPONSE_TIME),
    kl_http_upstream_list("upstream_response_length",
                          KL_HTTP_UPSTREAM_VAR_RESPONSE_LENGTH),
    kl_http_upstream_list("upstream_bytes_received",
                          KL_HTTP_UPSTREAM_VAR_BYTES_RECEIVED),
    kl_http_upstream_list("upstream_bytes_sent",
                          KL_HTTP_UPSTREAM_VAR_BYTES_SENT),
    kl_http_upstream_var("upstream_last_server_name",
                         kl_http_upstream_last_server_variable, 0,
                         KL_HTTP_VAR_NOCACHEABLE),
    /* No cache yet: never a status, as nginx's without one. */
    kl_http_upstream_var("upstream_cache_status",
                         kl_http_upstream_none_variable, 0, 0),

    kl_http_upstream_var("upstream_http_", kl_http_upstream_header_variable, 0,
                         KL_HTTP_VAR_PREFIX),
    kl_http_upstream_var("upstream_cookie_", kl_http_upstream_cookie_variable,
                         0, KL_HTTP_VAR_PREFIX),
    /* Proxy and FastCGI drop a peer's trailers, as nginx's do: none kept. */
    kl_http_upstream_var("upstream_trailer_", kl_http_upstream_none_variable, 0,
                         KL_HTTP_VAR_PREFIX),

    kl_http_null_variable
};


kl_int_t
kl_http_upstream_add_variables(kl_conf_t *cf)
{
    kl_http_variable_t *uv, *v;

    for (uv = kl_http_upstream_variables; uv->name.len; uv++) {
        v = kl_http_add_variable(cf, &uv->name, uv->flags);
        if (v == NULL) {
            return KL_ERROR;
        }

        v->get_handler = uv->get_handler;
        v->data = uv->data;
    }

    return KL_OK;
}


/* Seconds with milliseconds, or "-" for a time not reached. */
static u_char *
kl_http_upstream_print_time(u_char *p, u_char *last, kl_msec_t ms)
{
    if (ms == KL_HTTP_UPSTREAM_NO_TIME) {
        return kl_slprintf(p, last, "-");
    }

    return kl_slprintf(p, last, "%T.%03M", (time_t) (ms / 1000),
                       (kl_msec_t) (ms % 1000));
}


static u_char *
kl_http_upstream_print_state(u_char *p, u_char *last,
                             kl_http_upstream_state_t *st, uintptr_t what)
{
    off_t length;

    switch (what) {

    case KL_HTTP_UPSTREAM_VAR_ADDR:
        return st->peer ? kl_slprintf(p, last, "%V", st->peer)
                        : kl_slprintf(p, last, "-");

    case KL_HTTP_UPSTREAM_VAR_STATUS:
        return st->status ? kl_slprintf(p, last, "%ui", st->status)
                          : kl_slprintf(p, last, "-");

    case KL_HTTP_UPSTREAM_VAR_CONNECT_TIME:
        return kl_http_upstream_print_time(p, last, st->connect_time);

    case KL_HTTP_UPSTREAM_VAR_HEADER_TIME:
        return kl_http_upstream_print_time(p, last, st->header_time);

    case KL_HTTP_UPSTREAM_VAR_RESPONSE_TIME:
        /* Known once the attempt ended (in a log, always). */
        return kl_http_upstream_print_time(
            p, last, st->ended ? st->response_time : KL_HTTP_UPSTREAM_NO_TIME);

    case KL_HTTP_UPSTREAM_VAR_RESPONSE_LENGTH:
        /* The body's bytes as they came from the peer, framing included;
         * counted, as nginx counts them, once the attempt ended. */
        length = (st->header_time == KL_HTTP_UPSTREAM_NO_TIME || !st->ended)
                     ? 0
                     : st->bytes_received - st->header_length;
        return kl_slprintf(p, last, "%O", length);

    case KL_HTTP_UPSTREAM_VAR_BYTES_RECEIVED:
        return kl_slprintf(p, last, "%O", st->bytes_received);

    default: /* KL_HTTP_UPSTREAM_VAR_BYTES_SENT */
        return kl_slprintf(p, last, "%O", st->bytes_sent);
    }
}


static kl_int_t
kl_http_upstream_list_variable(kl_http_request_t        *r,
                               kl_http_variable_value_t *v, uintptr_t data)
{
    u_char                   *p, *last;
    size_t                    len;
    kl_uint_t                 i, printed;
    kl_http_upstream_state_t *st;

    if (r->upstream == NULL || r->upstream->state->nelts == 0) {
        v->not_found = 1;
        return KL_OK;
    }

    st = r->upstream->state->elts;
    len = 0;

    for (i = 0; i < r->upstream->state->nelts; i++) {
        len += (st[i].peer ? st[i].peer->len : 0) + KL_INT_T_LEN + 8;
    }

    p = kl_pnalloc(r->pool, len);
    if (p == NULL) {
        return KL_ERROR;
    }

    v->data = p;
    last = p + len;
    printed = 0;

    for (i = 0; i < r->upstream->state->nelts; i++) {
        if (st[i].redirect) {
            if (printed) {
                p = kl_slprintf(p, last, " : ");
                printed = 0;
            }

            continue;
        }

        if (printed) {
            p = kl_slprintf(p, last, ", ");
        }

        p = kl_http_upstream_print_state(p, last, &st[i], data);
        printed = 1;
    }

    /* Only redirect marks: no exchange got as far as an attempt. */
    if (p == v->data) {
        v->not_found = 1;
        return KL_OK;
    }

    v->len = p - v->data;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return KL_OK;
}


static kl_int_t
kl_http_upstream_none_variable(kl_http_request_t        *r,
                               kl_http_variable_value_t *v, uintptr_t data)
{
    (void) r;
    (void) data;

    v->not_found = 1;

    return KL_OK;
}


/*
 * The name of the server the last attempt went to, as its server line
 * (or proxy_pass) wrote it, without the port: what SNI would name
 * (nginx 1.25.3). A unix: path is given whole.
 */
static kl_int_t
kl_http_upstream_last_server_variable(kl_http_request_t        *r,
                                      kl_http_variable_value_t *v,
                                      uintptr_t                 data)
{
    u_char   *p, *last;
    kl_str_t *s;

    (void) data;

    if (r->upstream == NULL || r->upstream->peer.server == NULL
        || r->upstream->peer.server->len == 0)
    {
        v->not_found = 1;
        return KL_OK;
    }

    s = r->upstream->peer.server;
    p = s->data;
    last = p + s->len;

    if (s->len < 5 || kl_strncmp(p, "unix:", 5) != 0) {
        if (*p == '[') {
            while (last > p && last[-1] != ']') {
                last--;
            }

        } else {
            for (p = last; p > s->data && p[-1] >= '0' && p[-1] <= '9'; p--) {
                /* void */
            }

            if (p > s->data && p[-1] == ':' && p < last) {
                last = p - 1;
            }
        }
    }

    kl_http_variable_set(v, s->data, (size_t) (last - s->data));

    return KL_OK;
}


/* A field of the last response's head; repeats joined as $http_ joins. */
static kl_int_t
kl_http_upstream_header_variable(kl_http_request_t        *r,
                                 kl_http_variable_value_t *v, uintptr_t data)
{
    kl_str_t                   name;
    kl_http_variable_prefix_t *pd;

    pd = (kl_http_variable_prefix_t *) data;

    if (r->upstream == NULL) {
        v->not_found = 1;
        return KL_OK;
    }

    name.data = pd->name.data + pd->prefix;
    name.len = pd->name.len - pd->prefix;

    return kl_http_variable_unknown_header(r, v, &name,
                                           &r->upstream->headers_in.headers);
}


kl_int_t
kl_http_parse_set_cookie(u_char *p, size_t len, u_char *name, size_t nlen,
                         kl_str_t *value)
{
    size_t  i;
    u_char *end, *eq, *last;

    end = p + len;

    /* RFC 6265 5.2: the pair ends at the first ';'; attributes follow. */
    for (last = p; last < end && *last != ';'; last++) {
        /* void */
    }

    eq = memchr(p, '=', last - p);
    if (eq == NULL) {
        return KL_DECLINED;
    }

    value->data = eq + 1;

    while (p < eq && (*p == ' ' || *p == '\t')) {
        p++;
    }

    while (eq > p && (eq[-1] == ' ' || eq[-1] == '\t')) {
        eq--;
    }

    if ((size_t) (eq - p) != nlen) {
        return KL_DECLINED;
    }

    /* Byte by byte: a NUL ends nothing here. */
    for (i = 0; i < nlen; i++) {
        if (kl_tolower(p[i]) != kl_tolower(name[i])) {
            return KL_DECLINED;
        }
    }

    p = value->data;

    while (p < last && (*p == ' ' || *p == '\t')) {
        p++;
    }

    while (last > p && (last[-1] == ' ' || last[-1] == '\t')) {
        last--;
    }

    value->data = p;
    value->len = last - p;

    return KL_OK;
}


/* The first Set-Cookie of the last response that sets this cookie. */
static kl_int_t
kl_http_upstream_cookie_variable(kl_http_request_t        *r,
                                 kl_http_variable_value_t *v, uintptr_t data)
{
    kl_uint_t                  i;
    kl_str_t                   value;
    kl_list_part_t            *part;
    kl_table_elt_t            *h;
    kl_http_variable_prefix_t *pd;

    pd = (kl_http_variable_prefix_t *) data;
    v->not_found = 1;

    if (r->upstream == NULL) {
        return KL_OK;
    }

    part = &r->upstream->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].hash == 0 || h[i].key.len != sizeof("set-cookie") - 1
            || kl_strncasecmp(h[i].key.data, (u_char *) "set-cookie",
                              sizeof("set-cookie") - 1)
                   != 0)
        {
            continue;
        }

        if (kl_http_parse_set_cookie(h[i].value.data, h[i].value.len,
                                     pd->name.data + pd->prefix,
                                     pd->name.len - pd->prefix, &value)
            == KL_OK)
        {
            v->data = value.data;
            v->len = value.len;
            v->valid = 1;
            v->no_cacheable = 0;
            v->not_found = 0;
            return KL_OK;
        }
    }

    return KL_OK;
}
