/*
 * realip.c: the client's address from a header a trusted proxy set, as
 * nginx's realip module: set_real_ip_from (ADDR, ADDR/BITS, IPv6,
 * unix:, a host name resolved when the configuration is read),
 * real_ip_header (X-Real-IP, X-Forwarded-For, any field, or the PROXY
 * protocol header's address), real_ip_recursive; $realip_remote_addr and
 * $realip_remote_port keep the socket's.
 *
 * It runs at post-read (server level: the address is known before
 * rewrites, access, limits and logs) and again at preaccess (for a
 * location's own settings), at most once a request. The connection's
 * address is replaced for the request and put back by a cleanup of the
 * request's pool, so the next request of a keep-alive connection starts
 * from the socket's address again.
 */

#include "kl_http.h"
#include "cidr.h"

#include <arpa/inet.h>


#define KL_HTTP_REALIP_XREALIP 0
#define KL_HTTP_REALIP_XFWD    1
#define KL_HTTP_REALIP_HEADER  2
#define KL_HTTP_REALIP_PROXY   3

typedef struct {
    kl_array_t *from; /* kl_cidr_t; AF_UNIX for "unix:" */
    kl_uint_t   type;
    kl_str_t    header; /* compared without case */
    kl_int_t    recursive;
} kl_http_realip_loc_conf_t;

/* The socket's address while the request uses another. */
typedef struct {
    kl_connection_t *connection;
    struct sockaddr *sockaddr;
    socklen_t        socklen;
    kl_str_t         addr_text;
} kl_http_realip_ctx_t;

/* A candidate address: where it is and its length. */
typedef struct {
    struct sockaddr *sockaddr;
    socklen_t        socklen;
} kl_http_realip_addr_t;


static kl_int_t kl_http_realip_handler(kl_http_request_t *r);
static void    *kl_http_realip_create_loc_conf(kl_conf_t *cf);
static char    *kl_http_realip_merge_loc_conf(kl_conf_t *cf, void *parent,
                                              void *child);
static kl_int_t kl_http_realip_add_variables(kl_conf_t *cf);
static kl_int_t kl_http_realip_init(kl_conf_t *cf);
static char *kl_http_realip_from(kl_conf_t *cf, kl_command_t *cmd, void *conf);
static char *kl_http_realip_header(kl_conf_t *cf, kl_command_t *cmd,
                                   void *conf);
static kl_int_t kl_http_realip_variable(kl_http_request_t        *r,
                                        kl_http_variable_value_t *v,
                                        uintptr_t                 data);


/* clang-format off */
static kl_command_t  kl_http_realip_commands[] = {

    { kl_string("set_real_ip_from"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE1,
      kl_http_realip_from,
      KL_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { kl_string("real_ip_header"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE1,
      kl_http_realip_header,
      KL_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { kl_string("real_ip_recursive"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_FLAG,
      kl_conf_set_flag_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_realip_loc_conf_t, recursive),
      NULL },

    kl_null_command
};
/* clang-format on */


static kl_http_module_t kl_http_realip_module_ctx = {
    .preconfiguration = kl_http_realip_add_variables,
    .postconfiguration = kl_http_realip_init,
    .create_loc_conf = kl_http_realip_create_loc_conf,
    .merge_loc_conf = kl_http_realip_merge_loc_conf,
};


kl_module_t kl_http_realip_module = {
    .name = "kl_http_realip_module",
    .type = KL_HTTP_MODULE,
    .ctx = &kl_http_realip_module_ctx,
    .commands = kl_http_realip_commands,
};


/*
 * "ADDR", "ADDR:PORT", "[ADDR6]", "[ADDR6]:PORT" or a bare IPv6 address,
 * as nginx's ngx_parse_addr_port reads a forwarded address: KL_OK with
 * *sa and *socklen set (port 0 when none), KL_DECLINED otherwise.
 */
static kl_int_t
kl_http_realip_parse(const u_char *p, size_t len, kl_sockaddr_t *sa,
                     socklen_t *socklen)
{
    char          text[INET6_ADDRSTRLEN + 1];
    size_t        alen, i;
    kl_int_t      port;
    kl_uint_t     ipv6, colons;
    const u_char *a, *colon;

    a = p;
    alen = len;
    colon = NULL;
    ipv6 = 0;

    if (len && p[0] == '[') {
        for (i = 1; i < len && p[i] != ']'; i++) { /* void */
        }

        if (i == len || (i + 1 < len && p[i + 1] != ':')) {
            return KL_DECLINED;
        }

        a = p + 1;
        alen = i - 1;
        colon = i + 1 < len ? p + i + 1 : NULL;
        ipv6 = 1;

    } else {
        for (colons = 0, i = 0; i < len; i++) {
            if (p[i] == ':') {
                colons++;
                colon = p + i;
            }
        }

        if (colons > 1) {
            ipv6 = 1;
            colon = NULL;

        } else if (colon) {
            alen = colon - p;
        }
    }

    port = 0;

    if (colon) {
        port = kl_atoi((u_char *) colon + 1, p + len - colon - 1);
        if (port < 1 || port > 65535) {
            return KL_DECLINED;
        }
    }

    if (alen == 0 || alen >= sizeof(text) || memchr(a, '\0', alen)) {
        return KL_DECLINED;
    }

    kl_memcpy(text, a, alen);
    text[alen] = '\0';

    kl_memzero(sa, sizeof(kl_sockaddr_t));

    if (ipv6) {
        if (inet_pton(AF_INET6, text, &sa->sockaddr_in6.sin6_addr) != 1) {
            return KL_DECLINED;
        }

        sa->sockaddr_in6.sin6_family = AF_INET6;
        sa->sockaddr_in6.sin6_port = htons((in_port_t) port);
        *socklen = sizeof(struct sockaddr_in6);
        return KL_OK;
    }

    if (inet_pton(AF_INET, text, &sa->sockaddr_in.sin_addr) != 1) {
        return KL_DECLINED;
    }

    sa->sockaddr_in.sin_family = AF_INET;
    sa->sockaddr_in.sin_port = htons((in_port_t) port);
    *socklen = sizeof(struct sockaddr_in);

    return KL_OK;
}


/* Is sa one of the trusted addresses? An IPv4-mapped one counts as IPv4. */
static kl_uint_t
kl_http_realip_trusted(struct sockaddr *sa, kl_array_t *from)
{
    int                  family;
    uint32_t             in;
    kl_uint_t            i;
    kl_cidr_t           *cidr;
    const u_char        *a6;
    struct sockaddr_in6 *sin6;

    family = sa->sa_family;
    in = 0;
    a6 = NULL;

    if (family == AF_INET) {
        in = ((struct sockaddr_in *) sa)->sin_addr.s_addr;

    } else if (family == AF_INET6) {
        sin6 = (struct sockaddr_in6 *) sa;
        a6 = sin6->sin6_addr.s6_addr;

        if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
            family = AF_INET;
            kl_memcpy(&in, a6 + 12, sizeof(uint32_t));
        }
    }

    cidr = from->elts;

    for (i = 0; i < from->nelts; i++) {
        if (cidr[i].family != family) {
            continue;
        }

        if (family == AF_UNIX
            || (family == AF_INET
                && (in & cidr[i].u.in.mask) == cidr[i].u.in.addr)
            || (family == AF_INET6 && kl_cidr_match6(&cidr[i], a6)))
        {
            return 1;
        }
    }

    return 0;
}


/*
 * One field value, from its right end, as nginx walks X-Forwarded-For:
 * while the address at hand is trusted, the last address of the list
 * replaces it (and, recursively, the one before). KL_OK: replaced, the
 * list is used up; KL_DONE: replaced, stopped at an untrusted address or
 * an unreadable item; KL_DECLINED: not replaced.
 */
static kl_int_t
kl_http_realip_walk(kl_pool_t *pool, kl_http_realip_addr_t *addr,
                    const u_char *xff, size_t len, kl_array_t *from,
                    kl_uint_t recursive)
{
    socklen_t      socklen;
    kl_uint_t      found;
    const u_char  *p, *end;
    kl_sockaddr_t  sa;
    kl_sockaddr_t *copy;

    found = 0;
    end = xff + len;

    for (;;) {
        if (!kl_http_realip_trusted(addr->sockaddr, from)) {
            return found ? KL_DONE : KL_DECLINED;
        }

        while (end > xff && (end[-1] == ' ' || end[-1] == ',')) {
            end--;
        }

        for (p = end; p > xff && p[-1] != ' ' && p[-1] != ','; p--) {
            /* void */
        }

        if (kl_http_realip_parse(p, end - p, &sa, &socklen) != KL_OK) {
            return found ? KL_DONE : KL_DECLINED;
        }

        copy = kl_palloc(pool, sizeof(kl_sockaddr_t));
        if (copy == NULL) {
            return KL_ERROR;
        }

        *copy = sa;
        addr->sockaddr = &copy->sockaddr;
        addr->socklen = socklen;
        found = 1;

        if (!recursive || p == xff) {
            return KL_OK;
        }

        end = p - 1;
    }
}


/*
 * Several fields of one name (X-Forwarded-For), the last first: with
 * real_ip_recursive, the walk goes on into the field before while each
 * is used up; otherwise only the last field counts.
 */
static kl_int_t
kl_http_realip_forwarded(kl_http_request_t *r, kl_http_realip_addr_t *addr,
                         kl_table_elt_t *headers, kl_str_t *value,
                         kl_http_realip_loc_conf_t *rlcf)
{
    kl_int_t        rc;
    kl_uint_t       n, i, found;
    kl_table_elt_t *h, **all;

    if (headers == NULL) {
        return kl_http_realip_walk(r->pool, addr, value->data, value->len,
                                   rlcf->from, rlcf->recursive);
    }

    for (n = 0, h = headers; h; h = h->next) {
        n++;
    }

    all = kl_palloc(r->pool, n * sizeof(kl_table_elt_t *));
    if (all == NULL) {
        return KL_ERROR;
    }

    for (i = 0, h = headers; h; h = h->next) {
        all[i++] = h;
    }

    rc = KL_DECLINED;
    found = 0;

    while (n--) {
        rc =
            kl_http_realip_walk(r->pool, addr, all[n]->value.data,
                                all[n]->value.len, rlcf->from, rlcf->recursive);

        if (!rlcf->recursive) {
            break;
        }

        if (rc == KL_DECLINED && found) {
            rc = KL_DONE;
            break;
        }

        if (rc != KL_OK) {
            break;
        }

        found = 1;
    }

    return rc;
}


/* Put the socket's address back when the request's pool goes. */
static void
kl_http_realip_cleanup(void *data)
{
    kl_http_realip_ctx_t *ctx = data;
    kl_connection_t      *c;

    c = ctx->connection;

    c->sockaddr = ctx->sockaddr;
    c->socklen = ctx->socklen;
    c->addr_text = ctx->addr_text;
}


/*
 * The request's saved address, if realip changed it. A subrequest or an
 * internal redirect has no module context of its own (or lost it), so
 * the cleanup in the pool they share tells, as in nginx.
 */
static kl_http_realip_ctx_t *
kl_http_realip_get_ctx(kl_http_request_t *r)
{
    kl_pool_cleanup_t    *cln;
    kl_http_realip_ctx_t *ctx;

    ctx = kl_http_get_module_ctx(r, kl_http_realip_module);

    if (ctx == NULL && (r->internal || r != r->main)) {
        for (cln = r->pool->cleanup; cln; cln = cln->next) {
            if (cln->handler == kl_http_realip_cleanup) {
                ctx = cln->data;
                break;
            }
        }
    }

    return ctx;
}


static kl_int_t
kl_http_realip_set_addr(kl_http_request_t *r, kl_http_realip_addr_t *addr)
{
    size_t                len;
    u_char               *p;
    kl_connection_t      *c;
    kl_pool_cleanup_t    *cln;
    kl_http_realip_ctx_t *ctx;
    u_char                text[KL_SOCKADDR_STRLEN];

    c = r->connection;

    len = kl_sock_ntop(addr->sockaddr, addr->socklen, text, sizeof(text), 0);
    if (len == 0) {
        return KL_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = kl_pnalloc(r->pool, len);
    cln = kl_pool_cleanup_add(r->pool, sizeof(kl_http_realip_ctx_t));
    if (p == NULL || cln == NULL) {
        return KL_HTTP_INTERNAL_SERVER_ERROR;
    }

    kl_memcpy(p, text, len);

    ctx = cln->data;
    ctx->connection = c;
    ctx->sockaddr = c->sockaddr;
    ctx->socklen = c->socklen;
    ctx->addr_text = c->addr_text;

    cln->handler = kl_http_realip_cleanup;
    kl_http_set_ctx(r, ctx, kl_http_realip_module);

    c->sockaddr = addr->sockaddr;
    c->socklen = addr->socklen;
    c->addr_text.data = p;
    c->addr_text.len = len;

    return KL_DECLINED;
}


/* The field real_ip_header names: the first one. */
static kl_table_elt_t *
kl_http_realip_find(kl_http_request_t *r, kl_str_t *name)
{
    kl_uint_t       i;
    kl_list_part_t *part;
    kl_table_elt_t *h;

    part = &r->headers_in.headers.part;
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

        if (h[i].hash != 0 && h[i].key.len == name->len
            && kl_strncasecmp(h[i].key.data, name->data, name->len) == 0)
        {
            return &h[i];
        }
    }
}


static kl_int_t
kl_http_realip_handler(kl_http_request_t *r)
{
    kl_int_t                   rc;
    kl_str_t                  *value;
    kl_table_elt_t            *h, *xfwd;
    kl_connection_t           *c;
    kl_http_realip_addr_t      addr;
    kl_http_proxy_protocol_t  *pp;
    kl_http_realip_loc_conf_t *rlcf;

    if (kl_http_realip_get_ctx(r) != NULL) {
        return KL_DECLINED;
    }

    rlcf = kl_http_get_module_loc_conf(r, kl_http_realip_module);

    if (rlcf->from == NULL) {
        return KL_DECLINED;
    }

    c = r->connection;
    pp = r->http_connection->proxy_protocol;
    xfwd = NULL;
    value = NULL;

    switch (rlcf->type) {

    case KL_HTTP_REALIP_XFWD:
        xfwd = r->headers_in.x_forwarded_for;
        if (xfwd == NULL) {
            return KL_DECLINED;
        }
        break;

    case KL_HTTP_REALIP_PROXY:
        if (pp == NULL) {
            return KL_DECLINED;
        }

        value = &pp->src_addr;
        break;

    default: /* X-Real-IP or any field */
        h = kl_http_realip_find(r, &rlcf->header);
        if (h == NULL) {
            return KL_DECLINED;
        }

        value = &h->value;
    }

    addr.sockaddr = c->sockaddr;
    addr.socklen = c->socklen;

    rc = kl_http_realip_forwarded(r, &addr, xfwd, value, rlcf);

    if (rc == KL_ERROR) {
        return KL_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc == KL_DECLINED) {
        return KL_DECLINED;
    }

    if (rlcf->type == KL_HTTP_REALIP_PROXY) {
        kl_sock_set_port(addr.sockaddr, pp->src_port);
    }

    return kl_http_realip_set_addr(r, &addr);
}


/*
 * "set_real_ip_from ADDR[/BITS] | unix: | NAME": a name gives each of
 * its addresses, resolved now, as nginx does.
 */
static char *
kl_http_realip_from(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_int_t                   rc;
    kl_str_t                  *value;
    kl_uint_t                  i, naddrs;
    kl_cidr_t                 *cidr;
    socklen_t                 *socklens;
    const char                *err;
    kl_sockaddr_t             *addrs;
    kl_http_realip_loc_conf_t *rlcf = conf;

    (void) cmd;

    value = cf->args->elts;

    if (rlcf->from == NULL) {
        rlcf->from = kl_array_create(cf->pool, 2, sizeof(kl_cidr_t));
        if (rlcf->from == NULL) {
            return KL_CONF_ERROR;
        }
    }

    cidr = kl_array_push(rlcf->from);
    if (cidr == NULL) {
        return KL_CONF_ERROR;
    }

    kl_memzero(cidr, sizeof(kl_cidr_t));

    if (value[1].len == 5 && kl_strcmp(value[1].data, "unix:") == 0) {
        cidr->family = AF_UNIX;
        return KL_CONF_OK;
    }

    rc = kl_cidr_parse(value[1].data, value[1].len, cidr);

    if (rc == KL_DONE) {
        kl_conf_log_error(KL_LOG_WARN, cf, 0,
                          "low address bits of %V are meaningless", &value[1]);
    }

    if (rc != KL_ERROR) {
        return KL_CONF_OK;
    }

    rlcf->from->nelts--;

    err = NULL;

    if (kl_sock_parse_all(cf->pool, &value[1], 80, &addrs, &socklens, &naddrs,
                          &err)
            != KL_OK
        || naddrs == 0)
    {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0, "%s in set_real_ip_from \"%V\"",
                          err ? err : "host not found", &value[1]);
        return KL_CONF_ERROR;
    }

    for (i = 0; i < naddrs; i++) {
        u_char text[KL_SOCKADDR_STRLEN];
        size_t len;

        cidr = kl_array_push(rlcf->from);
        if (cidr == NULL) {
            return KL_CONF_ERROR;
        }

        len = kl_sock_ntop(&addrs[i].sockaddr, socklens[i], text, sizeof(text),
                           0);

        if (addrs[i].sockaddr.sa_family == AF_UNIX
            || kl_cidr_parse(text, len, cidr) != KL_OK)
        {
            kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                              "invalid address in set_real_ip_from \"%V\"",
                              &value[1]);
            return KL_CONF_ERROR;
        }
    }

    return KL_CONF_OK;
}


/* "real_ip_header X-Real-IP | X-Forwarded-For | proxy_protocol | NAME". */
static char *
kl_http_realip_header(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_str_t                  *value;
    kl_http_realip_loc_conf_t *rlcf = conf;

    (void) cmd;

    if (rlcf->type != KL_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (kl_strcmp(value[1].data, "X-Real-IP") == 0) {
        rlcf->type = KL_HTTP_REALIP_XREALIP;
        kl_str_set(&rlcf->header, "x-real-ip");
        return KL_CONF_OK;
    }

    if (kl_strcmp(value[1].data, "X-Forwarded-For") == 0) {
        rlcf->type = KL_HTTP_REALIP_XFWD;
        return KL_CONF_OK;
    }

    if (kl_strcmp(value[1].data, "proxy_protocol") == 0) {
        rlcf->type = KL_HTTP_REALIP_PROXY;
        return KL_CONF_OK;
    }

    rlcf->type = KL_HTTP_REALIP_HEADER;
    rlcf->header = value[1];

    return KL_CONF_OK;
}


static void *
kl_http_realip_create_loc_conf(kl_conf_t *cf)
{
    kl_http_realip_loc_conf_t *conf;

    conf = kl_pcalloc(cf->pool, sizeof(kl_http_realip_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /* from: NULL until set_real_ip_from; header: set with the type. */
    conf->type = KL_CONF_UNSET_UINT;
    conf->recursive = KL_CONF_UNSET;

    return conf;
}


static char *
kl_http_realip_merge_loc_conf(kl_conf_t *cf, void *parent, void *child)
{
    kl_http_realip_loc_conf_t *prev = parent, *conf = child;

    (void) cf;

    if (conf->from == NULL) {
        conf->from = prev->from;
    }

    if (conf->type == KL_CONF_UNSET_UINT) {
        conf->type = prev->type;
        conf->header = prev->header;
    }

    if (conf->type == KL_CONF_UNSET_UINT) {
        conf->type = KL_HTTP_REALIP_XREALIP;
        kl_str_set(&conf->header, "x-real-ip");
    }

    kl_conf_merge_value(conf->recursive, prev->recursive, 0);

    return KL_CONF_OK;
}


static kl_str_t kl_http_realip_var_names[] = {
    kl_string("realip_remote_addr"),
    kl_string("realip_remote_port"),
};


static kl_int_t
kl_http_realip_add_variables(kl_conf_t *cf)
{
    kl_uint_t           i;
    kl_http_variable_t *v;

    for (i = 0; i < 2; i++) {
        v = kl_http_add_variable(cf, &kl_http_realip_var_names[i], 0);
        if (v == NULL) {
            return KL_ERROR;
        }

        v->get_handler = kl_http_realip_variable;
        v->data = i;
    }

    return KL_OK;
}


/* The socket's address and port, whatever realip made of the request's. */
static kl_int_t
kl_http_realip_variable(kl_http_request_t *r, kl_http_variable_value_t *v,
                        uintptr_t data)
{
    u_char               *p;
    kl_uint_t             port;
    struct sockaddr      *sa;
    kl_http_realip_ctx_t *ctx;

    ctx = kl_http_realip_get_ctx(r);

    if (data == 0) {
        if (ctx) {
            kl_http_variable_set(v, ctx->addr_text.data, ctx->addr_text.len);
        } else {
            kl_http_variable_set(v, r->connection->addr_text.data,
                                 r->connection->addr_text.len);
        }

        return KL_OK;
    }

    sa = ctx ? ctx->sockaddr : r->connection->sockaddr;
    port = kl_sock_get_port(sa);

    p = kl_pnalloc(r->pool, sizeof("65535") - 1);
    if (p == NULL) {
        return KL_ERROR;
    }

    kl_http_variable_set(v, p,
                         (port > 0 && port < 65536)
                             ? kl_slprintf(p, p + 5, "%ui", port) - p
                             : 0);

    return KL_OK;
}


static kl_int_t
kl_http_realip_init(kl_conf_t *cf)
{
    if (kl_http_add_phase_handler(cf, KL_HTTP_POST_READ_PHASE,
                                  kl_http_realip_handler)
        != KL_OK)
    {
        return KL_ERROR;
    }

    return kl_http_add_phase_handler(cf, KL_HTTP_PREACCESS_PHASE,
                                     kl_http_realip_handler);
}
