/*
 * charset.c: the charset filter's configuration and header filter:
 * "charset NAME" adds "; charset=NAME" to the Content-Type of the
 * charset_types, for every response that has one, error pages included,
 * but not for 301 and 302 (nginx's rule, for old browsers that kept a
 * redirect's charset); and where source_charset (or the charset the
 * response already names, with override_charset) differs, the body is
 * recoded through the charset_map linking the two.
 *
 * charset_map builds nginx's tables: between single-byte charsets, a byte
 * for a byte both ways; with UTF-8 as the second charset, the UTF-8
 * sequence of each byte one way and a code point index the other. The
 * recoding itself is charset_recode.c; charset_body.c is the body filter,
 * a module of its own because it must run after the file reader (listed
 * before static) while this header filter must run before the range one
 * (listed after it), as nginx's charset and range filters do.
 *
 * A location whose two charsets have no map between them is refused at
 * start with nginx's message; when a name comes from a variable, the
 * missing map is found per request and, as in nginx, logged and the
 * response left as it was.
 */

#include "charset.h"


#define KL_HTTP_CHARSET_OFF   -2
#define KL_HTTP_CHARSET_UNSET -1

/* A charset: off, a name, or a variable's value ("charset $name"). */
typedef struct {
    kl_int_t set; /* KL_HTTP_CHARSET_OFF, _UNSET or 1 */
    kl_str_t name;
    kl_int_t index; /* the variable's, or KL_CONF_UNSET */
} kl_http_charset_name_t;

typedef struct {
    kl_http_charset_name_t charset;
    kl_http_charset_name_t source_charset;
    kl_int_t               override_charset;

    kl_array_t *types; /* kl_str_t, lowercase; NULL: the defaults */
    kl_uint_t   any;   /* charset_types * */
} kl_http_charset_loc_conf_t;

/* A charset a config names; UTF-8 is the one multi-byte charset. */
typedef struct {
    kl_str_t  name;
    kl_uint_t utf8;
} kl_http_charset_t;

/*
 * One charset_map: src2dst is 256 bytes, or 256 UTF-8 entries when dst is
 * UTF-8; dst2src is 256 bytes, or 256 pages of code points to bytes.
 */
typedef struct {
    kl_uint_t src;
    kl_uint_t dst;
    u_char   *src2dst;
    u_char   *dst2src;
} kl_http_charset_tables_t;

typedef struct {
    kl_http_output_header_filter_pt next_header_filter;
    kl_array_t                      charsets; /* kl_http_charset_t */
    kl_array_t                      tables;   /* kl_http_charset_tables_t */
} kl_http_charset_main_conf_t;


static char    *kl_http_charset_set_name(kl_conf_t *cf, kl_command_t *cmd,
                                         void *conf);
static char    *kl_http_charset_types(kl_conf_t *cf, kl_command_t *cmd,
                                      void *conf);
static char    *kl_http_charset_map_block(kl_conf_t *cf, kl_command_t *cmd,
                                          void *conf);
static void    *kl_http_charset_create_main_conf(kl_conf_t *cf);
static void    *kl_http_charset_create_loc_conf(kl_conf_t *cf);
static char    *kl_http_charset_merge_loc_conf(kl_conf_t *cf, void *parent,
                                               void *child);
static kl_int_t kl_http_charset_filter_init(kl_conf_t *cf);


/* clang-format off */
static kl_command_t  kl_http_charset_filter_commands[] = {

    { kl_string("charset"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF
      | KL_HTTP_LIF_CONF | KL_CONF_TAKE1,
      kl_http_charset_set_name,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_charset_loc_conf_t, charset),
      NULL },

    { kl_string("source_charset"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF
      | KL_HTTP_LIF_CONF | KL_CONF_TAKE1,
      kl_http_charset_set_name,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_charset_loc_conf_t, source_charset),
      NULL },

    { kl_string("override_charset"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF
      | KL_HTTP_LIF_CONF | KL_CONF_FLAG,
      kl_conf_set_flag_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_charset_loc_conf_t, override_charset),
      NULL },

    { kl_string("charset_map"),
      KL_HTTP_MAIN_CONF | KL_CONF_BLOCK | KL_CONF_TAKE2,
      kl_http_charset_map_block,
      KL_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { kl_string("charset_types"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF
      | KL_CONF_1MORE,
      kl_http_charset_types,
      KL_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    kl_null_command
};
/* clang-format on */


static kl_http_module_t kl_http_charset_filter_module_ctx = {
    .postconfiguration = kl_http_charset_filter_init,
    .create_main_conf = kl_http_charset_create_main_conf,
    .create_loc_conf = kl_http_charset_create_loc_conf,
    .merge_loc_conf = kl_http_charset_merge_loc_conf,
};


kl_module_t kl_http_charset_filter_module = {
    .name = "kl_http_charset_filter_module",
    .type = KL_HTTP_MODULE,
    .ctx = &kl_http_charset_filter_module_ctx,
    .commands = kl_http_charset_filter_commands,
};


/* nginx's default charset_types; text/html is in every list. */
static kl_str_t kl_http_charset_default_types[] = {
    kl_string("text/html"),
    kl_string("text/xml"),
    kl_string("text/plain"),
    kl_string("text/vnd.wap.wml"),
    kl_string("application/javascript"),
    kl_string("application/rss+xml"),
    kl_null_string,
};


/* Is the response's type, without its parameters, one of the list? */
static kl_uint_t
kl_http_charset_test_type(kl_http_request_t *r, kl_http_charset_loc_conf_t *lcf)
{
    size_t    len;
    kl_str_t *t;
    kl_uint_t i, n;
    u_char   *ct;

    if (lcf->any) {
        return 1;
    }

    ct = r->headers_out.content_type.data;
    len = r->headers_out.content_type_len;

    if (lcf->types) {
        t = lcf->types->elts;
        n = lcf->types->nelts;

    } else {
        t = kl_http_charset_default_types;
        n = sizeof(kl_http_charset_default_types) / sizeof(kl_str_t) - 1;
    }

    for (i = 0; i < n; i++) {
        if (t[i].len == len && kl_strncasecmp(ct, t[i].data, len) == 0) {
            return 1;
        }
    }

    return 0;
}


/*
 * The name a charset setting gives for r: KL_OK, KL_DECLINED (off), or
 * KL_ERROR when its variable has no value, which fails the response as
 * in nginx.
 */
static kl_int_t
kl_http_charset_value(kl_http_request_t *r, kl_http_charset_name_t *cn,
                      kl_str_t *name)
{
    kl_http_variable_value_t *vv;

    if (cn->set != 1) {
        return KL_DECLINED;
    }

    if (cn->index == KL_CONF_UNSET) {
        *name = cn->name;
        return KL_OK;
    }

    vv = kl_http_get_indexed_variable(r, (kl_uint_t) cn->index);

    if (vv == NULL || vv->not_found) {
        return KL_ERROR;
    }

    name->len = vv->len;
    name->data = vv->data;

    return KL_OK;
}


/* A charset's index by name (any case), or -1: nginx matches them so. */
static kl_int_t
kl_http_charset_find(kl_http_charset_main_conf_t *mcf, kl_str_t *name)
{
    kl_uint_t          i;
    kl_http_charset_t *cs;

    cs = mcf->charsets.elts;

    for (i = 0; i < mcf->charsets.nelts; i++) {
        if (cs[i].name.len == name->len
            && kl_strncasecmp(cs[i].name.data, name->data, name->len) == 0)
        {
            return (kl_int_t) i;
        }
    }

    return -1;
}


/*
 * The recoding from src to dst into ctx: KL_OK, or KL_DECLINED when no
 * charset_map links them (either way round).
 */
static kl_int_t
kl_http_charset_tables(kl_http_charset_main_conf_t *mcf, kl_str_t *src,
                       kl_str_t *dst, kl_http_charset_ctx_t *ctx)
{
    kl_int_t                  s, d;
    kl_uint_t                 i;
    kl_http_charset_t        *cs;
    kl_http_charset_tables_t *t;

    s = kl_http_charset_find(mcf, src);
    d = kl_http_charset_find(mcf, dst);

    if (s == -1 || d == -1) {
        return KL_DECLINED;
    }

    cs = mcf->charsets.elts;
    t = mcf->tables.elts;

    for (i = 0; i < mcf->tables.nelts; i++) {
        if (t[i].src == (kl_uint_t) s && t[i].dst == (kl_uint_t) d) {
            if (cs[d].utf8) {
                ctx->to_utf8 = t[i].src2dst;
            } else {
                ctx->bytes = t[i].src2dst;
            }

            return KL_OK;
        }

        if (t[i].src == (kl_uint_t) d && t[i].dst == (kl_uint_t) s) {
            if (cs[s].utf8) {
                ctx->pages = (u_char **) t[i].dst2src;
            } else {
                ctx->bytes = t[i].dst2src;
            }

            return KL_OK;
        }
    }

    return KL_DECLINED;
}


/* The response is recoded: its length changes unless byte for byte. */
static kl_int_t
kl_http_charset_recode(kl_http_request_t *r, kl_http_charset_ctx_t *ctx)
{
    kl_http_charset_ctx_t *c;

    c = kl_pcalloc(r->pool, sizeof(kl_http_charset_ctx_t));
    if (c == NULL) {
        return KL_ERROR;
    }

    *c = *ctx;
    kl_http_set_ctx(r, c, kl_http_charset_filter_module);

    r->filter_need_in_memory = 1;

    if (c->bytes == NULL) {
        r->headers_out.content_length_n = -1;

        if (r->headers_out.content_length) {
            r->headers_out.content_length->hash = 0;
            r->headers_out.content_length = NULL;
        }
    }

    return KL_OK;
}


/*
 * The charset r goes out in: an application's X-Accel-Charset (a
 * proxied response's override, whatever the location says), else the
 * charset directive's, for the listed types, and for a response that
 * names its own charset only with override_charset on. KL_DECLINED:
 * none, the response is left alone.
 */
static kl_int_t
kl_http_charset_destination(kl_http_request_t          *r,
                            kl_http_charset_loc_conf_t *lcf, kl_str_t *dst)
{
    if (r->headers_out.override_charset.len) {
        *dst = r->headers_out.override_charset;
        return KL_OK;
    }

    /* charset off (the default) decides before any type is compared. */
    if (lcf->charset.set != 1) {
        return KL_DECLINED;
    }

    if (r->headers_out.charset.len) {
        if (!lcf->override_charset) {
            return KL_DECLINED;
        }

    } else if (!kl_http_charset_test_type(r, lcf)) {
        return KL_DECLINED;
    }

    return kl_http_charset_value(r, &lcf->charset, dst);
}


static kl_int_t
kl_http_charset_header_filter(kl_http_request_t *r)
{
    kl_int_t                     rc;
    kl_str_t                     dst, src;
    kl_http_charset_ctx_t        ctx;
    kl_http_charset_loc_conf_t  *lcf;
    kl_http_charset_main_conf_t *cmcf;

    cmcf = kl_http_get_module_main_conf(r, kl_http_charset_filter_module);
    lcf = kl_http_get_module_loc_conf(r, kl_http_charset_filter_module);

    if (r != r->main || r->headers_out.content_type.len == 0) {
        return cmcf->next_header_filter(r);
    }

    rc = kl_http_charset_destination(r, lcf, &dst);

    if (rc == KL_ERROR) {
        return KL_ERROR;
    }

    if (rc == KL_DECLINED) {
        return cmcf->next_header_filter(r);
    }

    /* The source: what the response says, or source_charset. */
    if (r->headers_out.charset.len) {
        src = r->headers_out.charset;
        rc = KL_OK;

    } else {
        rc = kl_http_charset_value(r, &lcf->source_charset, &src);

        if (rc == KL_ERROR) {
            return KL_ERROR;
        }
    }

    if (rc == KL_OK
        && (src.len != dst.len || kl_strncasecmp(src.data, dst.data, dst.len)))
    {
        kl_memzero(&ctx, sizeof(kl_http_charset_ctx_t));

        if (kl_http_charset_tables(cmcf, &src, &dst, &ctx) != KL_OK) {
            kl_log_error(KL_LOG_ERR, r->connection->log, 0,
                         "no \"charset_map\" between the charsets \"%V\" and "
                         "\"%V\"",
                         &src, &dst);

            return cmcf->next_header_filter(r);
        }

        /* as nginx: an encoded body (gzip from a peer) is left alone */
        if (r->headers_out.content_encoding
            && r->headers_out.content_encoding->value.len)
        {
            return cmcf->next_header_filter(r);
        }

        if (kl_http_charset_recode(r, &ctx) != KL_OK) {
            return KL_ERROR;
        }
    }

    if (rc == KL_OK) {
        r->headers_out.content_type.len = r->headers_out.content_type_len;
    }

    if (r->headers_out.status == KL_HTTP_MOVED_PERMANENTLY
        || r->headers_out.status == KL_HTTP_MOVED_TEMPORARILY)
    {
        kl_str_null(&r->headers_out.charset);

    } else {
        r->headers_out.charset = dst;
    }

    return cmcf->next_header_filter(r);
}


/* The index of a charset a config names, added on first sight. */
static kl_int_t
kl_http_charset_add(kl_http_charset_main_conf_t *mcf, kl_str_t *name)
{
    kl_int_t           i;
    kl_http_charset_t *cs;

    i = kl_http_charset_find(mcf, name);
    if (i != -1) {
        return i;
    }

    cs = kl_array_push(&mcf->charsets);
    if (cs == NULL) {
        return KL_ERROR;
    }

    cs->name = *name;
    cs->utf8 = (name->len == 5
                && kl_strncasecmp(name->data, (u_char *) "utf-8", 5) == 0);

    return (kl_int_t) mcf->charsets.nelts - 1;
}


/*
 * "XX YY;" in a charset_map block: a byte and the byte it becomes, or,
 * to UTF-8, the byte and its UTF-8 sequence in hex ("C0 D0B0;").
 */
static char *
kl_http_charset_map_line(kl_conf_t *cf, kl_command_t *dummy, void *conf)
{
    kl_http_charset_tables_t *t = conf;

    u_char                      *e, **pages, seq[4];
    size_t                       len;
    kl_str_t                    *value;
    kl_int_t                     src, b;
    kl_uint_t                    i, n;
    uint32_t                     cp;
    kl_http_charset_main_conf_t *mcf;

    (void) dummy;

    value = cf->args->elts;

    if (cf->args->nelts != 2) {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0, "invalid parameters number");
        return KL_CONF_ERROR;
    }

    src = kl_hextoi(value[0].data, value[0].len);
    if (src == KL_ERROR || src > 255) {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0, "invalid value \"%V\"",
                          &value[0]);
        return KL_CONF_ERROR;
    }

    mcf = kl_http_conf_get_module_main_conf(cf, kl_http_charset_filter_module);

    if (!((kl_http_charset_t *) mcf->charsets.elts)[t->dst].utf8) {
        b = kl_hextoi(value[1].data, value[1].len);
        if (b == KL_ERROR || b > 255) {
            kl_conf_log_error(KL_LOG_EMERG, cf, 0, "invalid value \"%V\"",
                              &value[1]);
            return KL_CONF_ERROR;
        }

        t->src2dst[src] = (u_char) b;
        t->dst2src[b] = (u_char) src;

        return KL_CONF_OK;
    }

    /* a BMP character's UTF-8 sequence: 1 to 3 bytes, whole */
    n = value[1].len / 2;

    if (value[1].len % 2 || n == 0 || n > KL_CHARSET_UTF_LEN - 1) {
        goto invalid;
    }

    for (i = 0; i < n; i++) {
        b = kl_hextoi(value[1].data + 2 * i, 2);
        if (b == KL_ERROR) {
            goto invalid;
        }

        seq[i] = (u_char) b;
    }

    cp = kl_charset_utf8_decode(seq, n, &len);

    if (cp == KL_CHARSET_BAD || cp == KL_CHARSET_CUT || len != n || cp > 0xffff)
    {
        goto invalid;
    }

    e = &t->src2dst[src * KL_CHARSET_UTF_LEN];
    e[0] = (u_char) n;
    kl_memcpy(e + 1, seq, n);

    pages = (u_char **) t->dst2src;

    if (pages[cp >> 8] == NULL) {
        pages[cp >> 8] = kl_pcalloc(cf->pool, 256);
        if (pages[cp >> 8] == NULL) {
            return KL_CONF_ERROR;
        }
    }

    pages[cp >> 8][cp & 0xff] = (u_char) src;

    return KL_CONF_OK;

invalid:

    kl_conf_log_error(KL_LOG_EMERG, cf, 0, "invalid value \"%V\"", &value[1]);
    return KL_CONF_ERROR;
}


static kl_int_t
kl_http_charset_map_alloc(kl_conf_t *cf, kl_http_charset_tables_t *t,
                          kl_uint_t utf8)
{
    kl_uint_t i;
    u_char  **pages, *e;

    if (!utf8) {
        t->src2dst = kl_pnalloc(cf->pool, 256);
        t->dst2src = kl_pnalloc(cf->pool, 256);
        if (t->src2dst == NULL || t->dst2src == NULL) {
            return KL_ERROR;
        }

        for (i = 0; i < 256; i++) {
            t->src2dst[i] = (u_char) i;
            t->dst2src[i] = (u_char) i;
        }

        return KL_OK;
    }

    /* ASCII is itself in UTF-8; the upper half has only what is mapped */
    t->src2dst = kl_pcalloc(cf->pool, 256 * KL_CHARSET_UTF_LEN);
    pages = kl_pcalloc(cf->pool, 256 * sizeof(u_char *));
    if (t->src2dst == NULL || pages == NULL) {
        return KL_ERROR;
    }

    pages[0] = kl_pcalloc(cf->pool, 256);
    if (pages[0] == NULL) {
        return KL_ERROR;
    }

    for (i = 0; i < 128; i++) {
        e = &t->src2dst[i * KL_CHARSET_UTF_LEN];
        e[0] = 1;
        e[1] = (u_char) i;
        pages[0][i] = (u_char) i;
    }

    t->dst2src = (u_char *) pages;

    return KL_OK;
}


static char *
kl_http_charset_map_block(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_http_charset_main_conf_t *mcf = conf;

    char                     *rv;
    kl_int_t                  src, dst;
    kl_str_t                 *value;
    kl_uint_t                 i;
    kl_conf_t                 save;
    kl_http_charset_t        *cs;
    kl_http_charset_tables_t *t;

    (void) cmd;

    value = cf->args->elts;

    src = kl_http_charset_add(mcf, &value[1]);
    dst = kl_http_charset_add(mcf, &value[2]);
    if (src == KL_ERROR || dst == KL_ERROR) {
        return KL_CONF_ERROR;
    }

    cs = mcf->charsets.elts;

    if (src == dst) {
        return "between the same charsets";
    }

    if (cs[src].utf8) {
        return "with UTF-8 as the first charset is not supported: "
               "name it second";
    }

    t = mcf->tables.elts;

    for (i = 0; i < mcf->tables.nelts; i++) {
        if ((t[i].src == (kl_uint_t) src && t[i].dst == (kl_uint_t) dst)
            || (t[i].src == (kl_uint_t) dst && t[i].dst == (kl_uint_t) src))
        {
            kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                              "duplicate \"charset_map\" between "
                              "\"%V\" and \"%V\"",
                              &value[1], &value[2]);
            return KL_CONF_ERROR;
        }
    }

    t = kl_array_push(&mcf->tables);
    if (t == NULL) {
        return KL_CONF_ERROR;
    }

    t->src = (kl_uint_t) src;
    t->dst = (kl_uint_t) dst;

    if (kl_http_charset_map_alloc(cf, t, cs[dst].utf8) != KL_OK) {
        return KL_CONF_ERROR;
    }

    save = *cf;
    cf->handler = kl_http_charset_map_line;
    cf->handler_conf = t;

    rv = kl_conf_parse(cf, NULL);

    *cf = save;

    return rv;
}


static char *
kl_http_charset_set_name(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_str_t               *value, var;
    kl_http_charset_name_t *cn;

    cn = (kl_http_charset_name_t *) ((char *) conf + cmd->offset);

    if (cn->set != KL_HTTP_CHARSET_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (cmd->offset == offsetof(kl_http_charset_loc_conf_t, charset)
        && kl_strcmp(value[1].data, "off") == 0)
    {
        cn->set = KL_HTTP_CHARSET_OFF;
        return KL_CONF_OK;
    }

    cn->set = 1;
    cn->name = value[1];

    /* As nginx: a leading '$' makes the rest a variable's name. */
    if (value[1].data[0] != '$') {
        return KL_CONF_OK;
    }

    var.data = value[1].data + 1;
    var.len = value[1].len - 1;

    cn->index = kl_http_get_variable_index(cf, &var);
    if (cn->index == KL_ERROR) {
        return KL_CONF_ERROR;
    }

    return KL_CONF_OK;
}


/* As nginx's types slot: lists add up, and "*" stands for every type. */
static char *
kl_http_charset_types(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_http_charset_loc_conf_t *lcf = conf;

    kl_str_t *value, *t;
    kl_uint_t i, n;

    (void) cmd;

    if (lcf->any) {
        return KL_CONF_OK;
    }

    if (lcf->types == NULL) {
        lcf->types = kl_array_create(cf->pool, 4, sizeof(kl_str_t));
        if (lcf->types == NULL) {
            return KL_CONF_ERROR;
        }

        t = kl_array_push(lcf->types);
        if (t == NULL) {
            return KL_CONF_ERROR;
        }

        *t = kl_http_charset_default_types[0];
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        if (value[i].len == 1 && value[i].data[0] == '*') {
            lcf->any = 1;
            return KL_CONF_OK;
        }

        kl_strlow(value[i].data, value[i].data, value[i].len);

        t = lcf->types->elts;

        for (n = 0; n < lcf->types->nelts; n++) {
            if (t[n].len == value[i].len
                && kl_strncmp(t[n].data, value[i].data, value[i].len) == 0)
            {
                kl_conf_log_error(KL_LOG_WARN, cf, 0,
                                  "duplicate MIME type \"%V\"", &value[i]);
                break;
            }
        }

        if (n < lcf->types->nelts) {
            continue;
        }

        t = kl_array_push(lcf->types);
        if (t == NULL) {
            return KL_CONF_ERROR;
        }

        *t = value[i];
    }

    return KL_CONF_OK;
}


static void *
kl_http_charset_create_main_conf(kl_conf_t *cf)
{
    kl_http_charset_main_conf_t *mcf;

    mcf = kl_pcalloc(cf->pool, sizeof(kl_http_charset_main_conf_t));
    if (mcf == NULL) {
        return NULL;
    }

    if (kl_array_init(&mcf->charsets, cf->pool, 4, sizeof(kl_http_charset_t))
            != KL_OK
        || kl_array_init(&mcf->tables, cf->pool, 2,
                         sizeof(kl_http_charset_tables_t))
               != KL_OK)
    {
        return NULL;
    }

    return mcf;
}


static void *
kl_http_charset_create_loc_conf(kl_conf_t *cf)
{
    kl_http_charset_loc_conf_t *lcf;

    lcf = kl_pcalloc(cf->pool, sizeof(kl_http_charset_loc_conf_t));
    if (lcf == NULL) {
        return NULL;
    }

    lcf->charset.set = KL_HTTP_CHARSET_UNSET;
    lcf->charset.index = KL_CONF_UNSET;
    lcf->source_charset.set = KL_HTTP_CHARSET_UNSET;
    lcf->source_charset.index = KL_CONF_UNSET;
    lcf->override_charset = KL_CONF_UNSET;

    return lcf;
}


static char *
kl_http_charset_merge_loc_conf(kl_conf_t *cf, void *parent, void *child)
{
    kl_http_charset_loc_conf_t *prev = parent;
    kl_http_charset_loc_conf_t *conf = child;

    kl_http_charset_ctx_t        ctx;
    kl_http_charset_main_conf_t *mcf;

    kl_conf_merge_value(conf->override_charset, prev->override_charset, 0);

    if (conf->charset.set == KL_HTTP_CHARSET_UNSET) {
        conf->charset = prev->charset;
    }

    if (conf->source_charset.set == KL_HTTP_CHARSET_UNSET) {
        conf->source_charset = prev->source_charset;
    }

    if (conf->types == NULL && !conf->any) {
        conf->types = prev->types;
        conf->any = prev->any;
    }

    if (conf->charset.set != 1 || conf->source_charset.set != 1
        || conf->charset.index != KL_CONF_UNSET
        || conf->source_charset.index != KL_CONF_UNSET)
    {
        return KL_CONF_OK;
    }

    if (conf->charset.name.len == conf->source_charset.name.len
        && kl_strncasecmp(conf->charset.name.data,
                          conf->source_charset.name.data,
                          conf->charset.name.len)
               == 0)
    {
        return KL_CONF_OK;
    }

    /* every charset_map of http { } has been read when locations merge */
    mcf = kl_http_conf_get_module_main_conf(cf, kl_http_charset_filter_module);
    kl_memzero(&ctx, sizeof(kl_http_charset_ctx_t));

    if (kl_http_charset_tables(mcf, &conf->source_charset.name,
                               &conf->charset.name, &ctx)
        == KL_OK)
    {
        return KL_CONF_OK;
    }

    kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                      "no \"charset_map\" between the charsets \"%V\" and "
                      "\"%V\"",
                      &conf->source_charset.name, &conf->charset.name);

    return KL_CONF_ERROR;
}


kl_uint_t
kl_http_charset_maps(kl_conf_t *cf)
{
    kl_http_charset_main_conf_t *mcf;

    mcf = kl_http_conf_get_module_main_conf(cf, kl_http_charset_filter_module);

    return mcf->tables.nelts != 0;
}


static kl_int_t
kl_http_charset_filter_init(kl_conf_t *cf)
{
    kl_http_core_main_conf_t    *cmcf;
    kl_http_charset_main_conf_t *chmcf;

    cmcf = kl_http_conf_get_module_main_conf(cf, kl_http_core_module);
    chmcf =
        kl_http_conf_get_module_main_conf(cf, kl_http_charset_filter_module);

    chmcf->next_header_filter = cmcf->top_header_filter;
    cmcf->top_header_filter = kl_http_charset_header_filter;

    return KL_OK;
}
