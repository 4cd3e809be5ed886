/* geo.c: "geo [$address] $variable { ... }": a variable from the client's address. */

/*
 * As nginx's geo: the value is looked up from the client address (or
 * the address a variable holds: 255.255.255.255 when it holds none),
 * taken from X-Forwarded-For when the address is one of the "proxy"
 * networks. Networks (IPv4 and IPv6 CIDR) go into radix trees
 * (core/radix_tree.c), the longest prefix winning; with "ranges",
 * IPv4 ranges go into one sorted array (geo_ranges.c), bisected. Values
 * are plain strings, computed once per request unless "volatile".
 */

#include "kl_http.h"
#include "geo_ranges.h"

#include <netinet/in.h>


typedef struct {
    kl_cidr_t *elts;
    kl_uint_t  n;
} kl_http_geo_proxies_t;


/* One geo block: what its variable's handler reads. */
typedef struct {
    kl_http_complex_value_t *source; /* NULL: the client's address */
    kl_http_geo_proxies_t    proxies;
    unsigned                 proxy_recursive:1;
    unsigned                 ranges:1;

    kl_radix_tree_t     *tree;  /* CIDR mode */
    kl_radix_tree_t     *tree6; /* CIDR mode */
    kl_http_geo_ranges_t range; /* ranges mode */
    kl_str_t            *dflt;  /* ranges mode: outside every range */
} kl_http_geo_t;


/* What the lines of a block build, while it is read. */
typedef struct {
    kl_http_geo_t             *geo;
    kl_array_t                 proxies; /* kl_cidr_t */
    kl_http_geo_ranges_build_t build;
    unsigned                   volatile_:1;
    unsigned                   entries:1; /* a network or range was read */
} kl_http_geo_conf_ctx_t;


static char *kl_http_geo_block(kl_conf_t *cf, kl_command_t *cmd, void *conf);
static char *kl_http_geo_line(kl_conf_t *cf, kl_command_t *dummy, void *conf);
static kl_int_t kl_http_geo_variable(kl_http_request_t        *r,
                                     kl_http_variable_value_t *v,
                                     uintptr_t                 data);


/* clang-format off */
static kl_command_t  kl_http_geo_commands[] = {

    { kl_string("geo"),
      KL_HTTP_MAIN_CONF | KL_CONF_BLOCK | KL_CONF_TAKE12,
      kl_http_geo_block,
      0,
      0,
      NULL },

    kl_null_command
};
/* clang-format on */


static kl_http_module_t kl_http_geo_module_ctx = { 0 };


kl_module_t kl_http_geo_module = {
    .name = "kl_http_geo_module",
    .type = KL_HTTP_MODULE,
    .ctx = &kl_http_geo_module_ctx,
    .commands = kl_http_geo_commands,
};


static kl_str_t kl_http_geo_empty = kl_string("");


static char *
kl_http_geo_block(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    char                  *rv;
    kl_str_t              *value, name;
    kl_conf_t              save;
    kl_http_geo_t         *geo;
    kl_http_variable_t    *var;
    kl_http_geo_conf_ctx_t ctx;
    u_char                 zero[16];

    (void) cmd;
    (void) conf;

    value = cf->args->elts;

    geo = kl_pcalloc(cf->pool, sizeof(kl_http_geo_t));
    if (geo == NULL) {
        return KL_CONF_ERROR;
    }

    name = value[1];

    if (cf->args->nelts == 3) {
        if (name.data[0] != '$') {
            kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                              "invalid variable name \"%V\"", &name);
            return KL_CONF_ERROR;
        }

        geo->source = kl_http_compile_value(cf, &name);
        if (geo->source == NULL) {
            return KL_CONF_ERROR;
        }

        name = value[2];
    }

    if (name.data[0] != '$') {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0, "invalid variable name \"%V\"",
                          &name);
        return KL_CONF_ERROR;
    }

    name.len--;
    name.data++;

    var = kl_http_add_variable(cf, &name, KL_HTTP_VAR_CHANGEABLE);
    if (var == NULL) {
        return KL_CONF_ERROR;
    }

    kl_memzero(&ctx, sizeof(kl_http_geo_conf_ctx_t));
    ctx.geo = geo;

    geo->tree = kl_radix_tree_create(cf->pool, 32);
    geo->tree6 = kl_radix_tree_create(cf->pool, 128);

    if (geo->tree == NULL || geo->tree6 == NULL
        || kl_array_init(&ctx.proxies, cf->pool, 2, sizeof(kl_cidr_t)) != KL_OK)
    {
        return KL_CONF_ERROR;
    }

    save = *cf;
    cf->handler = kl_http_geo_line;
    cf->handler_conf = &ctx;

    rv = kl_conf_parse(cf, NULL);

    *cf = save;

    if (rv != KL_CONF_OK) {
        return rv;
    }

    geo->proxies.elts = ctx.proxies.elts;
    geo->proxies.n = ctx.proxies.nelts;

    if (geo->ranges) {
        if (kl_http_geo_ranges_finish(&ctx.build, &geo->range, cf->pool)
            != KL_OK) {
            return KL_CONF_ERROR;
        }

        if (geo->dflt == NULL) {
            geo->dflt = &kl_http_geo_empty;
        }

    } else {
        /* no "default": the empty string (KL_BUSY: there is one) */
        kl_memzero(zero, sizeof(zero));

        if (kl_radix_tree_insert(geo->tree, zero, 0,
                                 (uintptr_t) &kl_http_geo_empty)
                == KL_ERROR
            || kl_radix_tree_insert(geo->tree6, zero, 0,
                                    (uintptr_t) &kl_http_geo_empty)
                   == KL_ERROR)
        {
            return KL_CONF_ERROR;
        }
    }

    var->get_handler = kl_http_geo_variable;
    var->data = (uintptr_t) geo;

    if (ctx.volatile_) {
        var->flags |= KL_HTTP_VAR_NOCACHEABLE;
    }

    return KL_CONF_OK;
}


/* The value of a line, kept in the configuration's pool. */
static kl_str_t *
kl_http_geo_value(kl_conf_t *cf, kl_str_t *text)
{
    kl_str_t *v;

    v = kl_palloc(cf->pool, sizeof(kl_str_t));
    if (v != NULL) {
        *v = *text;
    }

    return v;
}


/* "NET VALUE", "delete NET" in CIDR mode, into one tree. */
static char *
kl_http_geo_cidr_add(kl_conf_t *cf, kl_http_geo_t *geo, kl_cidr_t *cidr,
                     kl_str_t *net, kl_str_t *text, kl_uint_t del)
{
    kl_int_t         rc;
    kl_str_t        *val, *old;
    const u_char    *key;
    kl_radix_tree_t *tree;

    tree = cidr->family == AF_INET ? geo->tree : geo->tree6;
    key = kl_cidr_addr(cidr);

    if (del) {
        if (kl_radix_tree_delete(tree, key, cidr->prefix) != KL_OK) {
            kl_conf_log_error(KL_LOG_WARN, cf, 0, "no network \"%V\" to delete",
                              net);
        }

        return KL_CONF_OK;
    }

    val = kl_http_geo_value(cf, text);
    if (val == NULL) {
        return KL_CONF_ERROR;
    }

    rc = kl_radix_tree_insert(tree, key, cidr->prefix, (uintptr_t) val);

    if (rc == KL_BUSY) {
        old = (kl_str_t *) kl_radix_tree_get(tree, key, cidr->prefix);

        kl_conf_log_error(KL_LOG_WARN, cf, 0,
                          "duplicate network \"%V\", value: \"%V\", "
                          "old value: \"%V\"",
                          net, val, old);

        (void) kl_radix_tree_delete(tree, key, cidr->prefix);
        rc = kl_radix_tree_insert(tree, key, cidr->prefix, (uintptr_t) val);
    }

    return rc == KL_OK ? KL_CONF_OK : KL_CONF_ERROR;
}


/*
 * A network of a line, as nginx reads it: 255.255.255.255 is written
 * alone (nginx's address parser takes it for "no address" otherwise, so
 * "255.255.255.255/32" and a range ending there are refused as by nginx).
 */
static kl_int_t
kl_http_geo_cidr_value(kl_conf_t *cf, kl_str_t *net, kl_cidr_t *cidr)
{
    kl_int_t rc;

    if (net->len == 15 && kl_strcmp(net->data, "255.255.255.255") == 0) {
        kl_memzero(cidr, sizeof(kl_cidr_t));
        cidr->family = AF_INET;
        cidr->prefix = 32;
        cidr->u.in.addr = 0xffffffff;
        cidr->u.in.mask = 0xffffffff;
        return KL_OK;
    }

    rc = kl_cidr_parse(net->data, net->len, cidr);

    if (rc == KL_ERROR
        || (cidr->family == AF_INET && cidr->u.in.addr == 0xffffffff))
    {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0, "invalid network \"%V\"", net);
        return KL_ERROR;
    }

    if (rc == KL_DONE) {
        kl_conf_log_error(KL_LOG_WARN, cf, 0,
                          "low address bits of %V are meaningless", net);
    }

    return KL_OK;
}


/* A line of a CIDR block: "default V", "delete NET", "NET V". */
static char *
kl_http_geo_cidr(kl_conf_t *cf, kl_http_geo_conf_ctx_t *ctx, kl_str_t *value)
{
    char     *rv;
    kl_str_t *net;
    kl_uint_t del;
    kl_cidr_t cidr;

    del = kl_strcmp(value[0].data, "delete") == 0;
    net = del ? &value[1] : &value[0];

    if (kl_strcmp(net->data, "default") == 0) {
        kl_memzero(&cidr, sizeof(kl_cidr_t));
        cidr.family = AF_INET;

        rv = kl_http_geo_cidr_add(cf, ctx->geo, &cidr, net, &value[1], del);
        if (rv != KL_CONF_OK) {
            return rv;
        }

        cidr.family = AF_INET6;

        return kl_http_geo_cidr_add(cf, ctx->geo, &cidr, net, &value[1], del);
    }

    if (kl_http_geo_cidr_value(cf, net, &cidr) != KL_OK) {
        return KL_CONF_ERROR;
    }

    return kl_http_geo_cidr_add(cf, ctx->geo, &cidr, net, &value[1], del);
}


/* An IPv4 address of len bytes at p, in host order. */
static kl_int_t
kl_http_geo_parse_v4(size_t len, u_char *p, uint32_t *addr)
{
    int    family;
    u_char a[16];

    if (kl_cidr_parse_addr(p, len, &family, a) != KL_OK || family != AF_INET
        || memcmp(a, "\xff\xff\xff\xff", 4) == 0)
    {
        return KL_ERROR;
    }

    *addr = (uint32_t) a[0] << 24 | (uint32_t) a[1] << 16 | (uint32_t) a[2] << 8
            | a[3];

    return KL_OK;
}


/* A line of a ranges block: "default V", "delete A-B", "A-B V". */
static char *
kl_http_geo_range(kl_conf_t *cf, kl_http_geo_conf_ctx_t *ctx, kl_str_t *value)
{
    u_char                     *dash;
    uint32_t                    start, end;
    kl_int_t                    rc;
    kl_str_t                   *net, *val;
    kl_uint_t                   del;
    kl_http_geo_ranges_report_t report;

    del = kl_strcmp(value[0].data, "delete") == 0;
    net = del ? &value[1] : &value[0];

    if (kl_strcmp(net->data, "default") == 0) {
        if (!del) {
            ctx->geo->dflt = kl_http_geo_value(cf, &value[1]);
            return ctx->geo->dflt ? KL_CONF_OK : KL_CONF_ERROR;
        }

        ctx->geo->dflt = NULL;
        return KL_CONF_OK;
    }

    dash = memchr(net->data, '-', net->len);

    if (dash == NULL
        || kl_http_geo_parse_v4(dash - net->data, net->data, &start) != KL_OK
        || kl_http_geo_parse_v4(net->data + net->len - dash - 1, dash + 1, &end)
               != KL_OK
        || start > end)
    {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0, "invalid range \"%V\"", net);
        return KL_CONF_ERROR;
    }

    if (del) {
        if (kl_http_geo_ranges_delete(&ctx->build, start, end) != KL_OK) {
            kl_conf_log_error(KL_LOG_WARN, cf, 0,
                              "no address range \"%V\" to delete", net);
        }

        return KL_CONF_OK;
    }

    val = kl_http_geo_value(cf, &value[1]);
    if (val == NULL) {
        return KL_CONF_ERROR;
    }

    rc = kl_http_geo_ranges_add(&ctx->build, start, end, val, &report);

    if (rc == KL_BUSY) {
        kl_conf_log_error(KL_LOG_WARN, cf, 0,
                          "duplicate range \"%V\", value: \"%V\", "
                          "old value: \"%V\"",
                          net, val, (kl_str_t *) report.old);
        return KL_CONF_OK;
    }

    if (rc == KL_DECLINED) {
        kl_conf_log_error(
            KL_LOG_EMERG, cf, 0,
            "range \"%V\" overlaps \"%ud.%ud.%ud.%ud-"
            "%ud.%ud.%ud.%ud\"",
            net, report.overlap[0] >> 24, (report.overlap[0] >> 16) & 0xff,
            (report.overlap[0] >> 8) & 0xff, report.overlap[0] & 0xff,
            report.overlap[1] >> 24, (report.overlap[1] >> 16) & 0xff,
            (report.overlap[1] >> 8) & 0xff, report.overlap[1] & 0xff);
        return KL_CONF_ERROR;
    }

    return rc == KL_OK ? KL_CONF_OK : KL_CONF_ERROR;
}


/* "ranges;", "proxy_recursive;", "volatile;": the one-word lines. */
static char *
kl_http_geo_flag(kl_conf_t *cf, kl_http_geo_conf_ctx_t *ctx, kl_str_t *word)
{
    if (kl_strcmp(word->data, "ranges") == 0) {
        if (ctx->entries && !ctx->geo->ranges) {
            kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                              "the \"ranges\" directive must be the first "
                              "directive inside \"geo\" block");
            return KL_CONF_ERROR;
        }

        if (!ctx->geo->ranges
            && kl_http_geo_ranges_init(&ctx->build, cf->temp_pool) != KL_OK)
        {
            return KL_CONF_ERROR;
        }

        ctx->geo->ranges = 1;
        return KL_CONF_OK;
    }

    if (kl_strcmp(word->data, "proxy_recursive") == 0) {
        ctx->geo->proxy_recursive = 1;
        return KL_CONF_OK;
    }

    if (kl_strcmp(word->data, "volatile") == 0) {
        ctx->volatile_ = 1;
        return KL_CONF_OK;
    }

    kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                      "invalid number of the geo parameters");
    return KL_CONF_ERROR;
}


/* One line of the block. */
static char *
kl_http_geo_line(kl_conf_t *cf, kl_command_t *dummy, void *conf)
{
    kl_str_t               *value;
    kl_cidr_t              *proxy;
    kl_http_geo_conf_ctx_t *ctx = conf;

    value = cf->args->elts;

    if (cf->args->nelts == 1) {
        return kl_http_geo_flag(cf, ctx, &value[0]);
    }

    if (cf->args->nelts != 2) {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                          "invalid number of the geo parameters");
        return KL_CONF_ERROR;
    }

    if (kl_strcmp(value[0].data, "include") == 0) {
        /* its lines come back here: cf->handler stays set */
        return kl_conf_include(cf, dummy, conf);
    }

    if (kl_strcmp(value[0].data, "proxy") == 0) {
        proxy = kl_array_push(&ctx->proxies);
        if (proxy == NULL) {
            return KL_CONF_ERROR;
        }

        return kl_http_geo_cidr_value(cf, &value[1], proxy) == KL_OK
                   ? KL_CONF_OK
                   : KL_CONF_ERROR;
    }

    ctx->entries = 1;

    if (ctx->geo->ranges) {
        return kl_http_geo_range(cf, ctx, value);
    }

    return kl_http_geo_cidr(cf, ctx, value);
}


/* Is the address one of the "proxy" networks? */
static kl_uint_t
kl_http_geo_trusted(void *data, int family, const u_char *addr)
{
    kl_uint_t              i;
    kl_http_geo_proxies_t *proxies = data;

    for (i = 0; i < proxies->n; i++) {
        if (kl_cidr_match(&proxies->elts[i], family, addr)) {
            return 1;
        }
    }

    return 0;
}


/*
 * The address to look up: family AF_INET, AF_INET6, or 0 for none
 * (a variable that holds no address, a unix socket's client).
 */
static kl_int_t
kl_http_geo_addr(kl_http_request_t *r, kl_http_geo_t *geo, int *family,
                 u_char *addr)
{
    u_char              *p;
    size_t               len;
    kl_str_t             s;
    kl_table_elt_t      *h;
    struct sockaddr     *sa;
    struct sockaddr_in6 *sin6;

    *family = 0;

    if (geo->source) {
        if (kl_http_complex_value(r, geo->source, &s) != KL_OK) {
            return KL_ERROR;
        }

        if (kl_cidr_parse_addr(s.data, s.len, family, addr) != KL_OK) {
            *family = 0;
            return KL_OK;
        }

    } else {
        sa = r->connection->sockaddr;

        if (sa->sa_family == AF_INET) {
            *family = AF_INET;
            kl_memcpy(addr, &((struct sockaddr_in *) sa)->sin_addr, 4);

        } else if (sa->sa_family == AF_INET6) {
            sin6 = (struct sockaddr_in6 *) sa;
            *family = AF_INET6;
            kl_memcpy(addr, &sin6->sin6_addr, 16);

        } else {
            return KL_OK;
        }
    }

    h = r->headers_in.x_forwarded_for;

    if (h == NULL || geo->proxies.n == 0) {
        return KL_OK;
    }

    /* several fields are one list, as nginx >= 1.23 reads them */
    if (h->next == NULL) {
        p = h->value.data;
        len = h->value.len;

    } else {
        len = 0;

        for (; h; h = h->next) {
            len += h->value.len + 2;
        }

        p = kl_pnalloc(r->pool, len);
        if (p == NULL) {
            return KL_ERROR;
        }

        len = 0;

        for (h = r->headers_in.x_forwarded_for; h; h = h->next) {
            kl_memcpy(p + len, h->value.data, h->value.len);
            len += h->value.len;
            p[len++] = ',';
            p[len++] = ' ';
        }
    }

    (void) kl_http_geo_forwarded(p, len, geo->proxy_recursive,
                                 kl_http_geo_trusted, &geo->proxies, family,
                                 addr);

    return KL_OK;
}


static kl_int_t
kl_http_geo_variable(kl_http_request_t *r, kl_http_variable_value_t *v,
                     uintptr_t data)
{
    int            family;
    u_char         addr[16];
    uint32_t       a4;
    kl_str_t      *val;
    kl_http_geo_t *geo = (kl_http_geo_t *) data;

    if (kl_http_geo_addr(r, geo, &family, addr) != KL_OK) {
        return KL_ERROR;
    }

    if (family == AF_INET6 && IN6_IS_ADDR_V4MAPPED((struct in6_addr *) addr)) {
        memmove(addr, addr + 12, 4);
        family = AF_INET;
    }

    if (family == AF_INET6 && !geo->ranges) {
        val = (kl_str_t *) kl_radix_tree_find(geo->tree6, addr);

    } else {
        if (family != AF_INET) {
            addr[0] = addr[1] = addr[2] = addr[3] = 0xff;
        }

        if (geo->ranges) {
            a4 = (uint32_t) addr[0] << 24 | (uint32_t) addr[1] << 16
                 | (uint32_t) addr[2] << 8 | addr[3];
            val = kl_http_geo_ranges_find(&geo->range, a4);

            if (val == NULL) {
                val = geo->dflt;
            }

        } else {
            val = (kl_str_t *) kl_radix_tree_find(geo->tree, addr);
        }
    }

    if ((uintptr_t) val == KL_RADIX_NO_VALUE || val == NULL) {
        val = &kl_http_geo_empty;
    }

    kl_http_variable_set(v, val->data, val->len);

    return KL_OK;
}
