/*
 * upstream_accel.c: the X-Accel-* fields a proxied or FastCGI
 * application sends to steer the server, as nginx reads them (its
 * ngx_http_upstream_process_headers). They are hidden from the client
 * by default (upstream.c's list), and X_ignore_headers turns each off.
 *
 * X-Accel-Redirect: the exchange ends and the request continues at the
 * URI (with its args) or @named location; the method becomes GET, but
 * HEAD stays HEAD; Content-Type, Set-Cookie, Content-Disposition,
 * Cache-Control, Expires and Accept-Ranges go along with it (a file
 * served there keeps the application's Content-Type, as in nginx).
 * X-Accel-Buffering: yes|no switches buffering for this response.
 * X-Accel-Charset: the response's charset, when the Content-Type names
 * none. X-Accel-Limit-Rate: the client's rate for this response, as
 * limit_rate's (bytes a second). X-Accel-Expires is only hidden: it is
 * meaningful to a cache only (docs/directives.md says so).
 */

#include "kl_http.h"
#include "upstream.h"


static kl_table_elt_t *kl_http_upstream_accel_field(kl_http_upstream_t *u,
                                                    const char         *name,
                                                    size_t              len);
static kl_int_t        kl_http_upstream_accel_redirect(kl_http_request_t  *r,
                                                       kl_http_upstream_t *u,
                                                       kl_table_elt_t     *h);
static void            kl_http_upstream_accel_charset(kl_http_request_t  *r,
                                                      kl_http_upstream_t *u,
                                                      kl_table_elt_t     *h);


/* The fields that go along with an X-Accel-Redirect (nginx's). */
static kl_str_t kl_http_upstream_accel_kept[] = {
    kl_string("set-cookie"),    kl_string("content-disposition"),
    kl_string("cache-control"), kl_string("expires"),
    kl_string("accept-ranges"), kl_null_string,
};


kl_int_t
kl_http_upstream_process_accel(kl_http_request_t *r, kl_http_upstream_t *u)
{
    kl_int_t        n;
    kl_uint_t       ign;
    kl_table_elt_t *h;

    ign = u->conf->ignore_headers;

    h = kl_http_upstream_accel_field(u, "x-accel-redirect", 16);

    if (h && !(ign & KL_HTTP_UPSTREAM_IGN_XA_REDIRECT)) {
        return kl_http_upstream_accel_redirect(r, u, h);
    }

    h = kl_http_upstream_accel_field(u, "x-accel-buffering", 17);

    if (h && !(ign & KL_HTTP_UPSTREAM_IGN_XA_BUFFERING)) {
        if (h->value.len == 3
            && kl_strncasecmp(h->value.data, (u_char *) "yes", 3) == 0)
        {
            u->buffering = 1;

        } else if (h->value.len == 2
                   && kl_strncasecmp(h->value.data, (u_char *) "no", 2) == 0)
        {
            u->buffering = 0;
        }
    }

    h = kl_http_upstream_accel_field(u, "x-accel-limit-rate", 18);

    if (h && !(ign & KL_HTTP_UPSTREAM_IGN_XA_LIMIT_RATE)) {
        n = kl_atoi(h->value.data, h->value.len);

        /* The client's rate for this response (limit_rate's), as nginx */
        if (n != KL_ERROR) {
            r->limit_rate = (size_t) n;
            r->limit_rate_set = 1;
        }
    }

    h = kl_http_upstream_accel_field(u, "x-accel-charset", 15);

    if (h && !(ign & KL_HTTP_UPSTREAM_IGN_XA_CHARSET)) {
        kl_http_upstream_accel_charset(r, u, h);
    }

    return KL_OK;
}


kl_int_t
kl_http_upstream_accel_uri(kl_str_t *value, u_char *dst, kl_str_t *uri,
                           kl_str_t *args)
{
    u_char *p, *last, *w, c, hi, lo;

    p = value->data;
    last = p + value->len;
    w = dst;

    kl_str_null(args);

    for (; p < last && *p != '?'; p++) {
        c = *p;

        if (c == '%') {
            if (last - p < 3) {
                return KL_ERROR;
            }

            hi = (u_char) (p[1] | 0x20);
            lo = (u_char) (p[2] | 0x20);
            hi = (hi >= '0' && hi <= '9')   ? hi - '0'
                 : (hi >= 'a' && hi <= 'f') ? hi - 'a' + 10
                                            : 16;
            lo = (lo >= '0' && lo <= '9')   ? lo - '0'
                 : (lo >= 'a' && lo <= 'f') ? lo - 'a' + 10
                                            : 16;

            if (hi == 16 || lo == 16) {
                return KL_ERROR;
            }

            c = (u_char) (hi << 4 | lo);
            p += 2;
        }

        if (c == '\0') {
            return KL_ERROR;
        }

        *w++ = c;
    }

    if (p < last) {
        args->data = p + 1;
        args->len = last - p - 1;

        if (memchr(args->data, '\0', args->len) != NULL) {
            return KL_ERROR;
        }
    }

    uri->data = dst;
    uri->len = w - dst;

    if (uri->len == 0 || dst[0] != '/') {
        return KL_ERROR;
    }

    /* a "/.." segment, decoded, would climb out of the root */
    for (p = dst; p + 3 <= w; p++) {
        if (p[0] == '/' && p[1] == '.' && p[2] == '.'
            && (p + 3 == w || p[3] == '/')) {
            return KL_ERROR;
        }
    }

    return KL_OK;
}


static kl_int_t
kl_http_upstream_accel_redirect(kl_http_request_t *r, kl_http_upstream_t *u,
                                kl_table_elt_t *h)
{
    u_char         *p;
    kl_str_t        uri, args, *s;
    kl_uint_t       i;
    kl_list_part_t *part;
    kl_table_elt_t *f, *ho;

    uri = h->value;

    /* The peer's answer is not read further: its connection goes. */
    if (u->cur_state && !u->cur_state->ended) {
        u->cur_state->ended = 1;
        u->cur_state->response_time = kl_now() - u->cur_state->start;
    }

    if (u->peer.free && u->peer.sockaddr) {
        u->peer.free(&u->peer, u->peer.data, 0);
        u->peer.sockaddr = NULL;
    }

    if (u->peer.connection) {
        kl_close_connection(u->peer.connection);
        u->peer.connection = NULL;
    }

    part = &u->headers_in.headers.part;
    f = part->elts;

    for (i = 0;; i++) {
        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            f = part->elts;
            i = 0;
        }

        if (f[i].key.len == 12
            && kl_strncmp(f[i].lowcase_key, "content-type", 12) == 0) {
            r->headers_out.content_type = f[i].value;
            r->headers_out.content_type_len = f[i].value.len;
            continue;
        }

        for (s = kl_http_upstream_accel_kept; s->len; s++) {
            if (s->len == f[i].key.len
                && kl_strncmp(f[i].lowcase_key, s->data, s->len) == 0)
            {
                ho = kl_list_push(&r->headers_out.headers);
                if (ho == NULL) {
                    return KL_ERROR;
                }

                *ho = f[i];
                ho->next = NULL;
                break;
            }
        }
    }

    /* The exchange's watch on the client is over with it. */
    r->read_event_handler = kl_http_block_reading;

    if (uri.len && uri.data[0] == '@') {
        kl_http_named_location(r, &uri);
        kl_http_finalize_request(r, KL_DONE);
        return KL_DONE;
    }

    p = kl_pnalloc(r->pool, h->value.len + 1);
    if (p == NULL) {
        return KL_ERROR;
    }

    if (kl_http_upstream_accel_uri(&h->value, p, &uri, &args) != KL_OK) {
        kl_log_error(KL_LOG_ERR, r->connection->log, 0,
                     "unsafe URI \"%V\" was detected", &h->value);
        kl_http_finalize_request(r, KL_HTTP_NOT_FOUND);
        return KL_DONE;
    }

    if (r->method != KL_HTTP_HEAD) {
        r->method = KL_HTTP_GET;
        kl_str_set(&r->method_name, "GET");
    }

    kl_http_internal_redirect(r, &uri, args.len ? &args : NULL);
    kl_http_finalize_request(r, KL_DONE);

    return KL_DONE;
}


/*
 * The charset the application wants the client to get, as nginx: the
 * charset filter labels the response with it and, where a charset_map
 * links it to the charset the body is in, recodes the body to it.
 */
static void
kl_http_upstream_accel_charset(kl_http_request_t *r, kl_http_upstream_t *u,
                               kl_table_elt_t *h)
{
    (void) u;

    r->headers_out.override_charset = h->value;
}


static kl_table_elt_t *
kl_http_upstream_accel_field(kl_http_upstream_t *u, const char *name,
                             size_t len)
{
    kl_uint_t       i;
    kl_list_part_t *part;
    kl_table_elt_t *h;

    part = &u->headers_in.headers.part;
    h = part->elts;

    for (i = 0;; i++) {
        if (i >= part->nelts) {
            if (part->next == NULL) {
                return NULL;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].hash && h[i].key.len == len
            && kl_strncmp(h[i].lowcase_key, name, len) == 0)
        {
            return &h[i];
        }
    }
}


kl_int_t
kl_http_upstream_copy_named(kl_http_request_t *r, kl_http_upstream_t *u,
                            const char *name, size_t len)
{
    kl_uint_t       i;
    kl_list_part_t *part;
    kl_table_elt_t *h, *ho;

    part = &u->headers_in.headers.part;
    h = part->elts;

    for (i = 0;; i++) {
        if (i >= part->nelts) {
            if (part->next == NULL) {
                return KL_OK;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].hash && h[i].key.len == len
            && kl_strncmp(h[i].lowcase_key, name, len) == 0)
        {
            ho = kl_list_push(&r->headers_out.headers);
            if (ho == NULL) {
                return KL_ERROR;
            }

            *ho = h[i];
            ho->next = NULL;
        }
    }
}
