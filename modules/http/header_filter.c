/*
 * header_filter.c: the last header filter: what every protocol's head
 * shares (HEAD, bodiless statuses, an absolute Location), then the
 * request's protocol serialises r->headers_out (r->proto->send_header).
 */

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


/* location (a relative URL) made absolute, as nginx's absolute_redirect. */
static kl_int_t
kl_http_absolute_location(kl_http_request_t *r, kl_str_t *location)
{
    size_t                   len;
    u_char                  *p;
    kl_str_t                 host, rel;
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

        /* the scheme's own port goes without saying, as nginx */
        if (port == (c->ssl ? 443 : 80)) {
            port = 0;
        }
    }

    rel = *location;
    len = sizeof("https://") - 1 + host.len + sizeof(":65535") - 1 + rel.len;

    p = kl_pnalloc(r->pool, len);
    if (p == NULL) {
        return KL_ERROR;
    }

    location->data = p;
    p = kl_slprintf(p, location->data + len,
                    c->ssl ? "https://%V" : "http://%V", &host);

    if (port) {
        p = kl_slprintf(p, location->data + len, ":%d", (int) port);
    }

    p = kl_cpymem(p, rel.data, rel.len);
    location->len = p - location->data;

    return KL_OK;
}


static kl_int_t
kl_http_header_filter(kl_http_request_t *r)
{
    kl_uint_t                status;
    kl_http_core_loc_conf_t *clcf;

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

    /*
     * The absolute URL is the value from now on ($sent_http_location);
     * the protocol writes it with the head's own fields, as nginx does.
     */
    if (r->headers_out.location && r->headers_out.location->hash
        && r->headers_out.location->value.len
        && r->headers_out.location->value.data[0] == '/'
        && clcf->absolute_redirect)
    {
        if (kl_http_absolute_location(r, &r->headers_out.location->value)
            != KL_OK) {
            return KL_ERROR;
        }

        r->headers_out.location->hash = 0;
        r->location_absolute = 1;
    }

    /* The structured head becomes bytes (or frames) only here. */
    return r->proto->send_header(r);
}
