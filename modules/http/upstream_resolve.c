/*
 * upstream_resolve.c: the peer of a proxy_pass with variables, chosen per
 * request (nginx's u->resolved): the URL's host[:port] split, an address
 * literal used as the one peer, else an upstream group of that name.
 * kiln has no resolver: any other name is a 502, as nginx without one.
 */

#include "upstream.h"


extern kl_module_t kl_http_upstream_module;

static kl_int_t kl_http_upstream_resolved_get(kl_peer_connection_t *pc,
                                              void                 *data);
static void kl_http_upstream_resolved_free(kl_peer_connection_t *pc, void *data,
                                           kl_uint_t state);


/*
 * nginx's order: an address literal is used as is; else a group of that
 * name whose port matches (a block has none); else nginx would need a
 * resolver, and kiln has none: 502 with nginx's line.
 */
kl_int_t
kl_http_upstream_find_resolved(kl_http_request_t *r, kl_http_upstream_t *u,
                               kl_http_upstream_srv_conf_t **usp)
{
    kl_uint_t                     i;
    kl_http_upstream_resolved_t  *ur;
    kl_http_upstream_srv_conf_t  *uscf, **uscfp;
    kl_http_upstream_main_conf_t *umcf;

    ur = u->resolved;
    *usp = NULL;

    if (ur->socklen) {
        u->peer.get = kl_http_upstream_resolved_get;
        u->peer.free = kl_http_upstream_resolved_free;
        u->peer.data = ur;
        u->peer.tries = 1;
        return KL_OK;
    }

    umcf = kl_http_get_module_main_conf(r, kl_http_upstream_module);
    uscfp = umcf->upstreams.elts;

    for (i = 0; i < umcf->upstreams.nelts; i++) {
        uscf = uscfp[i];

        if (uscf->host.len == ur->host.len
            && ((uscf->port == 0 && ur->no_port) || uscf->port == ur->port)
            && kl_strncasecmp(uscf->host.data, ur->host.data, ur->host.len)
                   == 0)
        {
            *usp = uscf;
            return KL_OK;
        }
    }

    kl_log_error(KL_LOG_ERR, r->connection->log, 0,
                 "no resolver defined to resolve %V", &ur->host);

    return KL_HTTP_BAD_GATEWAY;
}


static kl_int_t
kl_http_upstream_resolved_get(kl_peer_connection_t *pc, void *data)
{
    kl_http_upstream_resolved_t *ur = data;

    pc->sockaddr = &ur->sockaddr.sockaddr;
    pc->socklen = ur->socklen;
    pc->name = &ur->name;

    return KL_OK;
}


static void
kl_http_upstream_resolved_free(kl_peer_connection_t *pc, void *data,
                               kl_uint_t state)
{
    (void) data;
    (void) state;

    /* One address: nothing to go on to. */
    pc->tries = 0;
}


kl_int_t
kl_http_upstream_parse_authority(kl_str_t                    *text,
                                 kl_http_upstream_resolved_t *ur,
                                 const char                 **err)
{
    u_char  *p, *last, *colon, *rb;
    u_char   addr[INET6_ADDRSTRLEN + 2];
    size_t   n;
    kl_int_t port;

    p = text->data;
    last = p + text->len;

    kl_memzero(ur, sizeof(kl_http_upstream_resolved_t));
    ur->port = 80;
    ur->no_port = 1;

    if (p < last && p[0] == '[') {
        rb = memchr(p, ']', text->len);

        if (rb == NULL || (rb + 1 < last && rb[1] != ':')) {
            *err = "invalid host";
            return KL_ERROR;
        }

        ur->host.data = p;
        ur->host.len = rb + 1 - p;
        colon = (rb + 1 < last) ? rb + 1 : NULL;

    } else {
        colon = memchr(p, ':', text->len);
        ur->host.data = p;
        ur->host.len = (colon ? colon : last) - p;
    }

    if (colon) {
        port = kl_atoi(colon + 1, last - colon - 1);

        if (port < 1 || port > 65535) {
            *err = "invalid port";
            return KL_ERROR;
        }

        ur->port = (in_port_t) port;
        ur->no_port = 0;
    }

    if (ur->host.len == 0) {
        *err = "no host";
        return KL_ERROR;
    }

    n = ur->host.len;

    if (n >= sizeof(addr)) {
        return KL_OK;
    }

    if (ur->host.data[0] == '[') {
        kl_memcpy(addr, ur->host.data + 1, n - 2);
        addr[n - 2] = '\0';

        if (inet_pton(AF_INET6, (char *) addr,
                      &ur->sockaddr.sockaddr_in6.sin6_addr)
            != 1)
        {
            *err = "invalid host";
            return KL_ERROR;
        }

        ur->sockaddr.sockaddr_in6.sin6_family = AF_INET6;
        ur->sockaddr.sockaddr_in6.sin6_port = htons(ur->port);
        ur->socklen = sizeof(struct sockaddr_in6);

    } else {
        kl_memcpy(addr, ur->host.data, n);
        addr[n] = '\0';

        if (inet_pton(AF_INET, (char *) addr,
                      &ur->sockaddr.sockaddr_in.sin_addr)
            != 1) {
            return KL_OK;
        }

        ur->sockaddr.sockaddr_in.sin_family = AF_INET;
        ur->sockaddr.sockaddr_in.sin_port = htons(ur->port);
        ur->socklen = sizeof(struct sockaddr_in);
    }

    ur->name.data = ur->name_data;
    ur->name.len = kl_sock_ntop(&ur->sockaddr.sockaddr, ur->socklen,
                                ur->name_data, sizeof(ur->name_data), 1);

    return KL_OK;
}
