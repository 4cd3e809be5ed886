/* header_filter.c: the last header filter: the status line and fields, serialised once. */

#include "kl_http.h"


static kl_int_t kl_http_header_filter_init(kl_conf_t *cf);
static kl_int_t kl_http_header_filter(kl_http_request_t *r);


static kl_http_module_t kl_http_header_filter_module_ctx = {
    .postconfiguration = kl_http_header_filter_init,
};


kl_module_t kl_http_header_filter_module = {
    .name = "kl_http_header_filter_module",
    .type = KL_HTTP_MODULE,
    .ctx = &kl_http_header_filter_module_ctx,
};


static kl_int_t
kl_http_header_filter_init(kl_conf_t *cf)
{
    kl_http_core_main_conf_t *cmcf;

    cmcf = kl_http_conf_get_module_main_conf(cf, kl_http_core_module);
    cmcf->top_header_filter = kl_http_header_filter;

    return KL_OK;
}


/* The absolute form of a relative Location, as nginx's absolute_redirect. */
static kl_int_t
kl_http_absolute_location(kl_http_request_t *r, kl_str_t *location)
{
    size_t                   len;
    u_char                  *p;
    kl_str_t                 host;
    in_port_t                port;
    kl_connection_t         *c;
    kl_http_core_loc_conf_t *clcf;
    kl_http_core_srv_conf_t *cscf;
    u_char                   addr[KL_SOCKADDR_STRLEN];

    c = r->connection;
    clcf = kl_http_get_module_loc_conf(r, kl_http_core_module);
    cscf = kl_http_get_module_srv_conf(r, kl_http_core_module);

    if (clcf->server_name_in_redirect && cscf->server_name.len) {
        host = cscf->server_name;

    } else if (r->headers_in.server.len) {
        host = r->headers_in.server;

    } else {
        /* No Host (HTTP/1.0): the address the client connected to. */
        host.len = kl_sock_ntop(c->local_sockaddr, c->local_socklen, addr,
                                sizeof(addr), 0);
        host.data = addr;
    }

    port = 0;

    if (clcf->port_in_redirect && c->local_sockaddr) {
        /* 0 for a unix socket: a path has no port to name */
        port = kl_sock_get_port(c->local_sockaddr);

        if (port == 80) {
            port = 0;
        }
    }

    len =
        sizeof("http://") - 1 + host.len + sizeof(":65535") - 1 + location->len;

    p = kl_pnalloc(r->pool, len);
    if (p == NULL) {
        return KL_ERROR;
    }

    location->data = p;
    location->len = kl_slprintf(p, p + len, "http://%V", &host) - p;

    if (port) {
        location->len =
            kl_slprintf(p + location->len, p + len, ":%d", (int) port) - p;
    }

    return KL_OK;
}


static kl_int_t
kl_http_header_filter(kl_http_request_t *r)
{
    size_t                   len;
    u_char                  *p;
    kl_str_t                *status_line, loc, rel;
    kl_buf_t                *b;
    kl_uint_t                status;
    kl_chain_t               out;
    kl_http_core_loc_conf_t *clcf;
    u_char                   code[sizeof("999 ")];
    kl_str_t                 unnamed;

    if (r->header_sent) {
        return KL_OK;
    }

    r->header_sent = 1;

    if (r != r->main) {
        return KL_OK;
    }

    if (r->method == KL_HTTP_HEAD) {
        r->header_only = 1;
    }

    clcf = kl_http_get_module_loc_conf(r, kl_http_core_module);
    status = r->headers_out.status;

    if (r->headers_out.last_modified_time != -1 && status != KL_HTTP_OK
        && status != KL_HTTP_PARTIAL_CONTENT && status != KL_HTTP_NOT_MODIFIED)
    {
        r->headers_out.last_modified_time = -1;
    }

    if (status == KL_HTTP_NO_CONTENT || status == KL_HTTP_NOT_MODIFIED
        || status < KL_HTTP_OK)
    {
        r->header_only = 1;

        if (status == KL_HTTP_NO_CONTENT) {
            kl_str_null(&r->headers_out.content_type);
            r->headers_out.content_length_n = -1;
            r->headers_out.last_modified_time = -1;
        }
    }

    if (r->headers_out.status_line.len) {
        status_line = &r->headers_out.status_line;

    } else {
        status_line = kl_http_status_text(status);

        if (status_line == NULL) {
            unnamed.data = code;
            unnamed.len =
                kl_snprintf(code, sizeof(code), "%03ui ", status) - code;
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

    kl_str_null(&loc);

    if (r->headers_out.location && r->headers_out.location->hash
        && r->headers_out.location->value.len
        && r->headers_out.location->value.data[0] == '/'
        && clcf->absolute_redirect)
    {
        rel = r->headers_out.location->value;

        if (kl_http_absolute_location(r, &loc) != KL_OK) {
            return KL_ERROR;
        }

        r->headers_out.location->hash = 0;

    } else {
        kl_str_null(&rel);
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

    if (loc.len) {
        len += sizeof("Location: \r\n") - 1 + loc.len + rel.len;
    }

    len += kl_http_fields_length(&r->headers_out.headers);

    b = kl_buf_create_temp(r->pool, len);
    if (b == NULL) {
        return KL_ERROR;
    }

    p = b->last;

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

    if (loc.len) {
        p = kl_cpymem(p, "Location: ", sizeof("Location: ") - 1);

        /* The absolute URL is the value from now on ($sent_http_location). */
        r->headers_out.location->value.data = p;
        p = kl_cpymem(p, loc.data, loc.len);
        p = kl_cpymem(p, rel.data, rel.len);
        r->headers_out.location->value.len =
            p - r->headers_out.location->value.data;

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
            p = kl_slprintf(p, b->end, "Keep-Alive: timeout=%T\r\n",
                            clcf->keepalive_header);
        }

    } else {
        p = kl_cpymem(p, "Connection: close\r\n",
                      sizeof("Connection: close\r\n") - 1);
    }

    p = kl_http_fields_write(p, &r->headers_out.headers);

    *p++ = '\r';
    *p++ = '\n';

    b->last = p;
    b->last_buf = r->header_only;

    out.buf = b;
    out.next = NULL;

    return kl_http_write_filter(r, &out);
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
