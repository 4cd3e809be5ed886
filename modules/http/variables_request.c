/*
 * variables_request.c: core variables nginx added after the first set:
 * $request_id, $request_body, $request_body_file, $request_completion,
 * $request_port, $is_request_port, $connection_time and $tcpinfo_rtt,
 * _rttvar, _snd_cwnd, _rcv_space; and the $proxy_protocol_ ones, from
 * the header of a "listen ... proxy_protocol" connection (not found
 * without one, as nginx's).
 */

#include "kl_http.h"
#include "variables.h"
#include "proxy_protocol.h"

#include <netinet/tcp.h>
#include <sys/random.h>


enum {
    KL_HTTP_VAR_TCPINFO_RTT = 0,
    KL_HTTP_VAR_TCPINFO_RTTVAR,
    KL_HTTP_VAR_TCPINFO_SND_CWND,
    KL_HTTP_VAR_TCPINFO_RCV_SPACE
};

enum {
    KL_HTTP_VAR_PP_ADDR = 0,
    KL_HTTP_VAR_PP_PORT,
    KL_HTTP_VAR_PP_SERVER_ADDR,
    KL_HTTP_VAR_PP_SERVER_PORT
};


static kl_int_t kl_http_variable_request_id(kl_http_request_t        *r,
                                            kl_http_variable_value_t *v,
                                            uintptr_t                 data);
static kl_int_t kl_http_variable_request_body(kl_http_request_t        *r,
                                              kl_http_variable_value_t *v,
                                              uintptr_t                 data);
static kl_int_t kl_http_variable_request_body_file(kl_http_request_t        *r,
                                                   kl_http_variable_value_t *v,
                                                   uintptr_t data);
static kl_int_t kl_http_variable_request_completion(kl_http_request_t        *r,
                                                    kl_http_variable_value_t *v,
                                                    uintptr_t data);
static kl_int_t kl_http_variable_request_port(kl_http_request_t        *r,
                                              kl_http_variable_value_t *v,
                                              uintptr_t                 data);
static kl_int_t kl_http_variable_connection_time(kl_http_request_t        *r,
                                                 kl_http_variable_value_t *v,
                                                 uintptr_t data);
static kl_int_t kl_http_variable_proxy_protocol(kl_http_request_t        *r,
                                                kl_http_variable_value_t *v,
                                                uintptr_t                 data);
static kl_int_t kl_http_variable_proxy_protocol_tlv(kl_http_request_t        *r,
                                                    kl_http_variable_value_t *v,
                                                    uintptr_t data);
static kl_int_t kl_http_variable_tcpinfo(kl_http_request_t        *r,
                                         kl_http_variable_value_t *v,
                                         uintptr_t                 data);


#define kl_http_request_var(nm, get, data, flags)                              \
    {                                                                          \
        kl_string(nm), NULL, get, data, flags, 0                               \
    }

static kl_http_variable_t kl_http_request_variables[] = {
    /* Cached as nginx caches them: the value of their first use stays. */
    kl_http_request_var("request_id", kl_http_variable_request_id, 0, 0),
    kl_http_request_var("request_body", kl_http_variable_request_body, 0, 0),
    kl_http_request_var("request_body_file", kl_http_variable_request_body_file,
                        0, 0),
    kl_http_request_var("request_completion",
                        kl_http_variable_request_completion, 0, 0),
    /* nginx 1.29.3; data 1: $is_request_port, ":" when there is a port */
    kl_http_request_var("request_port", kl_http_variable_request_port, 0, 0),
    kl_http_request_var("is_request_port", kl_http_variable_request_port, 1, 0),
    kl_http_request_var("connection_time", kl_http_variable_connection_time, 0,
                        KL_HTTP_VAR_NOCACHEABLE),
    kl_http_request_var("tcpinfo_rtt", kl_http_variable_tcpinfo,
                        KL_HTTP_VAR_TCPINFO_RTT, KL_HTTP_VAR_NOCACHEABLE),
    kl_http_request_var("tcpinfo_rttvar", kl_http_variable_tcpinfo,
                        KL_HTTP_VAR_TCPINFO_RTTVAR, KL_HTTP_VAR_NOCACHEABLE),
    kl_http_request_var("tcpinfo_snd_cwnd", kl_http_variable_tcpinfo,
                        KL_HTTP_VAR_TCPINFO_SND_CWND, KL_HTTP_VAR_NOCACHEABLE),
    kl_http_request_var("tcpinfo_rcv_space", kl_http_variable_tcpinfo,
                        KL_HTTP_VAR_TCPINFO_RCV_SPACE, KL_HTTP_VAR_NOCACHEABLE),
    kl_http_request_var("proxy_protocol_addr", kl_http_variable_proxy_protocol,
                        KL_HTTP_VAR_PP_ADDR, 0),
    kl_http_request_var("proxy_protocol_port", kl_http_variable_proxy_protocol,
                        KL_HTTP_VAR_PP_PORT, 0),
    kl_http_request_var("proxy_protocol_server_addr",
                        kl_http_variable_proxy_protocol,
                        KL_HTTP_VAR_PP_SERVER_ADDR, 0),
    kl_http_request_var("proxy_protocol_server_port",
                        kl_http_variable_proxy_protocol,
                        KL_HTTP_VAR_PP_SERVER_PORT, 0),
    kl_http_request_var("proxy_protocol_tlv_",
                        kl_http_variable_proxy_protocol_tlv, 0,
                        KL_HTTP_VAR_PREFIX),
    kl_http_null_variable
};


kl_int_t
kl_http_variables_request_add(kl_conf_t *cf)
{
    kl_http_variable_t *rv, *v;

    for (rv = kl_http_request_variables; rv->name.len; rv++) {
        v = kl_http_add_variable(cf, &rv->name, rv->flags);
        if (v == NULL) {
            return KL_ERROR;
        }

        v->get_handler = rv->get_handler;
        v->data = rv->data;
    }

    return KL_OK;
}


/* 16 bytes from the kernel's generator as 32 lowercase hex digits. */
static kl_int_t
kl_http_variable_request_id(kl_http_request_t *r, kl_http_variable_value_t *v,
                            uintptr_t data)
{
    u_char           *p;
    size_t            i;
    ssize_t           n;
    u_char            bytes[16];
    static const char hex[] = "0123456789abcdef";

    (void) data;

    n = getrandom(bytes, sizeof(bytes), GRND_NONBLOCK);

    if (n != (ssize_t) sizeof(bytes)) {
        kl_log_error(KL_LOG_ERR, r->connection->log, n == -1 ? errno : 0,
                     "getrandom() failed");
        return KL_ERROR;
    }

    p = kl_pnalloc(r->pool, 2 * sizeof(bytes));
    if (p == NULL) {
        return KL_ERROR;
    }

    for (i = 0; i < sizeof(bytes); i++) {
        p[2 * i] = hex[bytes[i] >> 4];
        p[2 * i + 1] = hex[bytes[i] & 0xf];
    }

    kl_http_variable_set(v, p, 2 * sizeof(bytes));

    return KL_OK;
}


/* The body, when it was read into memory (proxy_pass, fastcgi_pass). */
static kl_int_t
kl_http_variable_request_body(kl_http_request_t *r, kl_http_variable_value_t *v,
                              uintptr_t data)
{
    u_char     *p;
    size_t      len;
    kl_buf_t   *b;
    kl_chain_t *cl;

    (void) data;

    /* A body passed on as it came (proxy_request_buffering off) is gone. */
    if (r->request_body == NULL || r->request_body->bufs == NULL
        || r->request_body->temp_file || r->request_body_no_buffering)
    {
        v->not_found = 1;
        return KL_OK;
    }

    cl = r->request_body->bufs;
    b = cl->buf;

    if (cl->next == NULL) {
        if (b->in_file) {
            v->not_found = 1;
            return KL_OK;
        }

        kl_http_variable_set(v, b->pos, b->last - b->pos);
        return KL_OK;
    }

    len = 0;

    for (; cl; cl = cl->next) {
        if (cl->buf->in_file) {
            v->not_found = 1;
            return KL_OK;
        }

        len += cl->buf->last - cl->buf->pos;
    }

    p = kl_pnalloc(r->pool, len);
    if (p == NULL) {
        return KL_ERROR;
    }

    kl_http_variable_set(v, p, len);

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        p = kl_cpymem(p, cl->buf->pos, cl->buf->last - cl->buf->pos);
    }

    return KL_OK;
}


static kl_int_t
kl_http_variable_request_body_file(kl_http_request_t        *r,
                                   kl_http_variable_value_t *v, uintptr_t data)
{
    kl_file_t *file;

    (void) data;

    if (r->request_body == NULL || r->request_body->temp_file == NULL) {
        v->not_found = 1;
        return KL_OK;
    }

    file = r->request_body->temp_file;
    kl_http_variable_set(v, file->name.data, file->name.len);

    return KL_OK;
}


/* "OK" once the whole response went out, as nginx's request_complete. */
static kl_int_t
kl_http_variable_request_completion(kl_http_request_t        *r,
                                    kl_http_variable_value_t *v, uintptr_t data)
{
    (void) data;

    if (r->done) {
        kl_http_variable_set(v, (u_char *) "OK", 2);

    } else {
        kl_http_variable_set(v, (u_char *) "", 0);
    }

    return KL_OK;
}


kl_uint_t
kl_http_parse_authority_port(u_char *p, size_t len)
{
    u_char   *last, *colon;
    kl_uint_t port;

    last = p + len;

    if (len && p[0] == '[') {
        /* An IPv6 literal: the port, if any, follows its ']'. */
        p = memchr(p, ']', len);
        if (p == NULL || ++p == last || *p != ':') {
            return 0;
        }

        colon = p;

    } else {
        for (colon = last; colon > p && colon[-1] != ':'; colon--) {
            /* void */
        }

        if (colon == p) {
            return 0;
        }

        colon--;
    }

    p = colon + 1;

    if (p == last || last - p > 5) {
        return 0;
    }

    for (port = 0; p < last; p++) {
        if (*p < '0' || *p > '9') {
            return 0;
        }

        port = port * 10 + (*p - '0');
    }

    return port <= 65535 ? port : 0;
}


/*
 * The port the client named: the request line's authority when it had
 * one (absolute-form; RFC 9112 3.2.2: Host is then ignored, the port
 * too), else the Host field's. As nginx, a number; none is empty.
 */
static kl_int_t
kl_http_variable_request_port(kl_http_request_t *r, kl_http_variable_value_t *v,
                              uintptr_t data)
{
    u_char   *p, *last, *start;
    kl_uint_t port;

    port = 0;
    p = NULL;
    last = NULL;

    /* The target is the second word of the line the parser accepted. */
    if (r->request_line.data) {
        last = r->request_line.data + r->request_line.len;
        p = memchr(r->request_line.data, ' ', r->request_line.len);
    }

    if (p && ++p < last && *p != '/' && *p != '*') {
        /* absolute-form "scheme://authority/...", or authority-form */
        for (start = p; p + 3 <= last && *p != ' '; p++) {
            if (p[0] == ':' && p[1] == '/' && p[2] == '/') {
                start = p + 3;
                break;
            }
        }

        for (p = start; p < last; p++) {
            if (*p == '/' || *p == '?' || *p == ' ') {
                break;
            }
        }

        port = kl_http_parse_authority_port(start, p - start);

    } else if (r->headers_in.host) {
        port = kl_http_parse_authority_port(r->headers_in.host->value.data,
                                            r->headers_in.host->value.len);
    }

    if (data) {
        kl_http_variable_set(v, (u_char *) ":", port ? 1 : 0);
        return KL_OK;
    }

    if (port == 0) {
        kl_http_variable_set(v, (u_char *) "", 0);
        return KL_OK;
    }

    p = kl_pnalloc(r->pool, sizeof("65535") - 1);
    if (p == NULL) {
        return KL_ERROR;
    }

    kl_http_variable_set(
        v, p, kl_slprintf(p, p + sizeof("65535") - 1, "%ui", port) - p);

    return KL_OK;
}


/* Since the connection was accepted: seconds with milliseconds. */
static kl_int_t
kl_http_variable_connection_time(kl_http_request_t        *r,
                                 kl_http_variable_value_t *v, uintptr_t data)
{
    u_char       *p;
    kl_msec_int_t ms;

    (void) data;

    p = kl_pnalloc(r->pool, KL_INT_T_LEN + sizeof(".000") - 1);
    if (p == NULL) {
        return KL_ERROR;
    }

    ms = (kl_msec_int_t) (kl_now() - r->http_connection->start_msec);
    ms = kl_max(ms, 0);

    kl_http_variable_set(v, p,
                         kl_slprintf(p, p + KL_INT_T_LEN + sizeof(".000") - 1,
                                     "%T.%03M", (time_t) (ms / 1000),
                                     (kl_msec_t) (ms % 1000))
                             - p);

    return KL_OK;
}


/* The client socket's TCP_INFO, as the kernel has it now. */
static kl_int_t
kl_http_variable_tcpinfo(kl_http_request_t *r, kl_http_variable_value_t *v,
                         uintptr_t data)
{
    u_char         *p;
    uint32_t        value;
    socklen_t       len;
    struct tcp_info ti;

    len = sizeof(struct tcp_info);

    if (getsockopt(r->connection->fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == -1) {
        v->not_found = 1;
        return KL_OK;
    }

    switch (data) {

    case KL_HTTP_VAR_TCPINFO_RTT:
        value = ti.tcpi_rtt;
        break;

    case KL_HTTP_VAR_TCPINFO_RTTVAR:
        value = ti.tcpi_rttvar;
        break;

    case KL_HTTP_VAR_TCPINFO_SND_CWND:
        value = ti.tcpi_snd_cwnd;
        break;

    default: /* KL_HTTP_VAR_TCPINFO_RCV_SPACE */
        value = ti.tcpi_rcv_space;
        break;
    }

    p = kl_pnalloc(r->pool, KL_INT_T_LEN);
    if (p == NULL) {
        return KL_ERROR;
    }

    kl_http_variable_set(
        v, p, kl_slprintf(p, p + KL_INT_T_LEN, "%ud", (unsigned) value) - p);

    return KL_OK;
}


static kl_int_t
kl_http_variable_proxy_protocol(kl_http_request_t        *r,
                                kl_http_variable_value_t *v, uintptr_t data)
{
    u_char                   *p;
    in_port_t                 port;
    kl_http_proxy_protocol_t *pp;

    pp = r->http_connection->proxy_protocol;

    if (pp == NULL) {
        v->not_found = 1;
        return KL_OK;
    }

    if (data == KL_HTTP_VAR_PP_ADDR) {
        kl_http_variable_set(v, pp->src_addr.data, pp->src_addr.len);
        return KL_OK;
    }

    if (data == KL_HTTP_VAR_PP_SERVER_ADDR) {
        kl_http_variable_set(v, pp->dst_addr.data, pp->dst_addr.len);
        return KL_OK;
    }

    port = data == KL_HTTP_VAR_PP_PORT ? pp->src_port : pp->dst_port;

    p = kl_pnalloc(r->pool, sizeof("65535") - 1);
    if (p == NULL) {
        return KL_ERROR;
    }

    /* Port 0 is an empty value, as nginx's. */
    kl_http_variable_set(
        v, p, port ? kl_slprintf(p, p + 5, "%ui", (kl_uint_t) port) - p : 0);

    return KL_OK;
}


/* $proxy_protocol_tlv_NAME: nginx's names, 0xNN, ssl_NAME, ssl_0xNN. */
static kl_int_t
kl_http_variable_proxy_protocol_tlv(kl_http_request_t        *r,
                                    kl_http_variable_value_t *v, uintptr_t data)
{
    u_char                    *p;
    kl_int_t                   rc;
    kl_str_t                   name, value;
    kl_uint_t                  verify;
    kl_http_proxy_protocol_t  *pp;
    kl_http_variable_prefix_t *pd;

    pp = r->http_connection->proxy_protocol;
    pd = (kl_http_variable_prefix_t *) data;

    if (pp == NULL) {
        v->not_found = 1;
        return KL_OK;
    }

    name.data = pd->name.data + pd->prefix;
    name.len = pd->name.len - pd->prefix;

    rc = kl_proxy_protocol_tlv(&pp->tlvs, &name, &value, &verify);

    if (rc == KL_DECLINED) {
        v->not_found = 1;
        return KL_OK;
    }

    if (rc != KL_OK) {
        kl_log_error(KL_LOG_ERR, r->connection->log, 0,
                     rc == KL_ABORT ? "unknown PROXY protocol TLV \"%V\""
                                    : "broken PROXY protocol TLV",
                     &name);
        return KL_ERROR;
    }

    if (verify) {
        p = kl_pnalloc(r->pool, KL_INT_T_LEN);
        if (p == NULL) {
            return KL_ERROR;
        }

        value.len = kl_slprintf(p, p + KL_INT_T_LEN, "%ui",
                                (kl_uint_t) ((uint32_t) value.data[0] << 24
                                             | (uint32_t) value.data[1] << 16
                                             | (uint32_t) value.data[2] << 8
                                             | value.data[3]))
                    - p;
        value.data = p;
    }

    kl_http_variable_set(v, value.data, value.len);

    return KL_OK;
}
