/*
 * head.c: HTTP/1's response heads as bytes: the status line and fields
 * of r->headers_out (with the framing fields: Content-Length,
 * Transfer-Encoding, Connection, Keep-Alive), "100 Continue", and the
 * 101 head of an upgrade. They go down the write filter, so limit_rate
 * and a slow client are seen to as for the body.
 */

#include "kl_http.h"


static u_char *kl_http_v1_write_head(kl_http_request_t *r, u_char *p,
                                     u_char *end, kl_str_t *status_line);


kl_int_t
kl_http_v1_send_header(kl_http_request_t *r)
{
    size_t     len;
    kl_str_t  *status_line, unnamed;
    kl_buf_t  *b;
    kl_chain_t out;
    u_char     code[sizeof("999 ")];

    if (kl_http_v1_chunked_start(r) != KL_OK) {
        return KL_ERROR;
    }

    if (r->headers_out.status_line.len) {
        status_line = &r->headers_out.status_line;

    } else {
        status_line = kl_http_status_text(r->headers_out.status);

        if (status_line == NULL) {
            unnamed.data = code;
            unnamed.len =
                kl_snprintf(code, sizeof(code), "%03ui ", r->headers_out.status)
                - code;
            status_line = &unnamed;
        }
    }

    if (kl_loop.exiting) {
        r->keepalive = 0;
    }

    /* Without a length, only closing the connection ends the body. */
    if (r->keepalive && r->headers_out.content_length_n < 0 && !r->header_only
        && !r->chunked)
    {
        r->keepalive = 0;
    }

    len = sizeof("HTTP/1.x ") - 1 + status_line->len + 2
          + sizeof("Server: " KL_VER "\r\n") - 1
          + sizeof("Date: Mon, 28 Sep 1970 06:00:00 GMT\r\n") - 1
          + sizeof("Last-Modified: Mon, 28 Sep 1970 06:00:00 GMT\r\n") - 1
          + sizeof("Content-Length: \r\n") - 1 + KL_INT_T_LEN
          + sizeof("Connection: keep-alive\r\n") - 1
          + sizeof("Keep-Alive: timeout=\r\n") - 1 + KL_INT_T_LEN
          + sizeof("Transfer-Encoding: chunked\r\n") - 1 + 2;

    if (r->headers_out.content_type.len) {
        len += sizeof("Content-Type: ; charset=\r\n") - 1
               + r->headers_out.content_type.len + r->headers_out.charset.len;
    }

    if (r->location_absolute) {
        len +=
            sizeof("Location: \r\n") - 1 + r->headers_out.location->value.len;
    }

    len += kl_http_fields_length(&r->headers_out.headers);

    b = kl_buf_create_temp(r->pool, len);
    if (b == NULL) {
        return KL_ERROR;
    }

    b->last = kl_http_v1_write_head(r, b->last, b->end, status_line);
    b->last_buf = r->header_only;

    out.buf = b;
    out.next = NULL;

    return kl_http_write_filter(r, &out);
}


/* The head into p (room enough, up to end): status line, fields, CRLF. */
static u_char *
kl_http_v1_write_head(kl_http_request_t *r, u_char *p, u_char *end,
                      kl_str_t *status_line)
{
    kl_http_core_loc_conf_t *clcf;

    clcf = kl_http_get_module_loc_conf(r, kl_http_core_module);

    /* nginx answers 1.0 clients with 1.1 status lines too. */
    p = kl_cpymem(p, "HTTP/1.1 ", sizeof("HTTP/1.1 ") - 1);
    p = kl_cpymem(p, status_line->data, status_line->len);
    *p++ = '\r';
    *p++ = '\n';

    /* A field a module set (proxy_pass_header) is written with the rest. */
    if (r->headers_out.server == NULL) {
        if (clcf->server_tokens) {
            p = kl_cpymem(p, "Server: " KL_VER "\r\n",
                          sizeof("Server: " KL_VER "\r\n") - 1);
        } else {
            p = kl_cpymem(p, "Server: kiln\r\n",
                          sizeof("Server: kiln\r\n") - 1);
        }
    }

    if (r->headers_out.date == NULL) {
        p = kl_cpymem(p, "Date: ", sizeof("Date: ") - 1);
        p = kl_cpymem(p, kl_loop.clock.http_time, kl_loop.clock.http_time_len);
        *p++ = '\r';
        *p++ = '\n';
    }

    if (r->headers_out.content_type.len) {
        p = kl_cpymem(p, "Content-Type: ", sizeof("Content-Type: ") - 1);
        p = kl_cpymem(p, r->headers_out.content_type.data,
                      r->headers_out.content_type.len);

        /* a peer's type keeps its own charset unless the filter took it */
        if (r->headers_out.charset.len
            && r->headers_out.content_type_len
                   == r->headers_out.content_type.len)
        {
            p = kl_cpymem(p, "; charset=", sizeof("; charset=") - 1);
            p = kl_cpymem(p, r->headers_out.charset.data,
                          r->headers_out.charset.len);
        }

        *p++ = '\r';
        *p++ = '\n';
    }

    if (r->headers_out.content_length_n >= 0) {
        p = kl_cpymem(p, "Content-Length: ", sizeof("Content-Length: ") - 1);
        p = kl_sprint_uint(p, (uint64_t) r->headers_out.content_length_n);
        *p++ = '\r';
        *p++ = '\n';
    }

    /* An explicit Last-Modified field (add_header) is printed with the rest. */
    if (r->headers_out.last_modified_time != -1
        && r->headers_out.last_modified == NULL)
    {
        p = kl_cpymem(p, "Last-Modified: ", sizeof("Last-Modified: ") - 1);

        /* Mostly the same few files, again and again: format once. */
        if (kl_loop.last_modified_time != r->headers_out.last_modified_time) {
            kl_http_time(kl_loop.last_modified,
                         r->headers_out.last_modified_time);
            kl_loop.last_modified_time = r->headers_out.last_modified_time;
        }

        p = kl_cpymem(p, kl_loop.last_modified, sizeof(kl_loop.last_modified));
        *p++ = '\r';
        *p++ = '\n';
    }

    if (r->location_absolute) {
        p = kl_cpymem(p, "Location: ", sizeof("Location: ") - 1);
        p = kl_cpymem(p, r->headers_out.location->value.data,
                      r->headers_out.location->value.len);
        *p++ = '\r';
        *p++ = '\n';
    }

    if (r->chunked) {
        p = kl_cpymem(p, "Transfer-Encoding: chunked\r\n",
                      sizeof("Transfer-Encoding: chunked\r\n") - 1);
    }

    if (r->keepalive) {
        p = kl_cpymem(p, "Connection: keep-alive\r\n",
                      sizeof("Connection: keep-alive\r\n") - 1);

        if (clcf->keepalive_header) {
            p = kl_slprintf(p, end, "Keep-Alive: timeout=%T\r\n",
                            clcf->keepalive_header);
        }

    } else {
        p = kl_cpymem(p, "Connection: close\r\n",
                      sizeof("Connection: close\r\n") - 1);
    }

    p = kl_http_fields_write(p, &r->headers_out.headers);

    *p++ = '\r';
    *p++ = '\n';

    return p;
}


/*
 * RFC 9110 section 10.1.1: the interim answer to "Expect: 100-continue".
 * So small a packet on an idle connection goes out whole, or never: it
 * is sent at once, not queued behind a response that has not begun.
 */
kl_int_t
kl_http_v1_send_continue(kl_http_request_t *r)
{
    kl_buf_t         b;
    kl_chain_t       out, *cl;
    kl_connection_t *c;

    static u_char continue_line[] = "HTTP/1.1 100 Continue\r\n\r\n";

    /* An HTTP/1.0 client knows no interim answers. */
    if (r->http_version < KL_HTTP_VERSION_11) {
        return KL_OK;
    }

    c = r->connection;

    kl_memzero(&b, sizeof(kl_buf_t));
    b.pos = continue_line;
    b.last = continue_line + sizeof(continue_line) - 1;
    b.memory = 1;

    out.buf = &b;
    out.next = NULL;

    cl = c->io->send_chain(c, &out, 0);

    if (cl == NULL) {
        return KL_OK;
    }

    c->error = 1;

    return KL_ERROR;
}


/* The 101 head: our Server and Date, the fields given, "Connection: upgrade". */
kl_int_t
kl_http_v1_switch_protocols(kl_http_request_t *r, kl_str_t *status_line,
                            kl_list_t *fields, kl_buf_t *preread)
{
    size_t    len, n;
    u_char   *p;
    kl_buf_t *b;

    /* Frames the client sent right after its request are already read. */
    n = kl_min((size_t) (r->header_in->last - r->header_in->pos),
               (size_t) (preread->end - preread->last));

    if (n) {
        preread->last = kl_cpymem(preread->last, r->header_in->pos, n);
        r->header_in->pos += n;
    }

    len = sizeof("HTTP/1.1 \r\n") - 1 + status_line->len
          + sizeof("Server: " KL_VER "\r\n") - 1
          + sizeof("Date: Mon, 28 Sep 1970 06:00:00 GMT\r\n") - 1
          + kl_http_fields_length(fields)
          + sizeof("Connection: upgrade\r\n\r\n") - 1;

    b = kl_buf_create_temp(r->pool, len);
    if (b == NULL) {
        return KL_ERROR;
    }

    p = kl_slprintf(b->last, b->end,
                    "HTTP/1.1 %V\r\nServer: " KL_VER "\r\nDate: ", status_line);
    p = kl_cpymem(p, kl_loop.clock.http_time, kl_loop.clock.http_time_len);
    *p++ = '\r';
    *p++ = '\n';

    p = kl_http_fields_write(p, fields);

    b->last = kl_cpymem(p, "Connection: upgrade\r\n\r\n",
                        sizeof("Connection: upgrade\r\n\r\n") - 1);

    /* Sent through the engine's writer, so a slow client is waited for. */
    r->out = kl_chain_alloc(r->pool);
    if (r->out == NULL) {
        return KL_ERROR;
    }

    r->out->buf = b;

    return KL_OK;
}


size_t
kl_http_fields_length(kl_list_t *fields)
{
    size_t          len;
    kl_uint_t       i;
    kl_table_elt_t *h;
    kl_list_part_t *part;

    len = 0;
    part = &fields->part;
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

        if (h[i].hash) {
            len += h[i].key.len + sizeof(": ") - 1 + h[i].value.len
                   + sizeof("\r\n") - 1;
        }
    }

    return len;
}


u_char *
kl_http_fields_write(u_char *p, kl_list_t *fields)
{
    kl_uint_t       i;
    kl_table_elt_t *h;
    kl_list_part_t *part;

    part = &fields->part;
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

        if (h[i].hash == 0) {
            continue;
        }

        p = kl_cpymem(p, h[i].key.data, h[i].key.len);
        *p++ = ':';
        *p++ = ' ';
        p = kl_cpymem(p, h[i].value.data, h[i].value.len);
        *p++ = '\r';
        *p++ = '\n';
    }

    return p;
}
