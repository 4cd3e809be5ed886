/* secure_link.c: $secure_link and $secure_link_expires, links signed with MD5. */

/*
 * As nginx's secure_link. With secure_link and secure_link_md5, the
 * first gives "HASH[,EXPIRES]": HASH the base64url MD5 of what the second
 * gives, EXPIRES a Unix time. $secure_link is then "1", "0" once the link
 * has expired, or empty when the hash does not match (the location
 * decides what to do: return 403 ...). With secure_link_secret WORD (the
 * older form), a URI "/prefix/HASH/link" has $secure_link = "link" when
 * HASH is the hex MD5 of "link" followed by WORD, empty otherwise. MD5
 * is core/md5.c: no OpenSSL.
 */

#include "kl_http.h"


typedef struct {
    kl_http_complex_value_t *variable;
    kl_http_complex_value_t *md5;
    kl_str_t                 secret;
} kl_http_secure_link_conf_t;


/* Per request: where $secure_link found the expiry time. */
typedef struct {
    kl_str_t expires;
} kl_http_secure_link_ctx_t;


static void    *kl_http_secure_link_create_conf(kl_conf_t *cf);
static char    *kl_http_secure_link_merge_conf(kl_conf_t *cf, void *parent,
                                               void *child);
static kl_int_t kl_http_secure_link_add_variables(kl_conf_t *cf);


/* clang-format off */
static kl_command_t  kl_http_secure_link_commands[] = {

    { kl_string("secure_link"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE1,
      kl_http_set_complex_value_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_secure_link_conf_t, variable),
      NULL },

    { kl_string("secure_link_md5"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE1,
      kl_http_set_complex_value_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_secure_link_conf_t, md5),
      NULL },

    { kl_string("secure_link_secret"),
      KL_HTTP_LOC_CONF | KL_CONF_TAKE1,
      kl_conf_set_str_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_secure_link_conf_t, secret),
      NULL },

    kl_null_command
};
/* clang-format on */


static kl_http_module_t kl_http_secure_link_module_ctx = {
    .preconfiguration = kl_http_secure_link_add_variables,
    .create_loc_conf = kl_http_secure_link_create_conf,
    .merge_loc_conf = kl_http_secure_link_merge_conf,
};


kl_module_t kl_http_secure_link_module = {
    .name = "kl_http_secure_link_module",
    .type = KL_HTTP_MODULE,
    .ctx = &kl_http_secure_link_module_ctx,
    .commands = kl_http_secure_link_commands,
};


static void
kl_http_secure_link_not_found(kl_http_variable_value_t *v)
{
    v->len = 0;
    v->data = (u_char *) "";
    v->valid = 0;
    v->no_cacheable = 0;
    v->not_found = 1;
}


/*
 * secure_link_secret: "/prefix/HASH/link", HASH 32 hex digits of the MD5
 * of "link" (the rest of the URI as sent, arguments included) and WORD.
 */
static kl_int_t
kl_http_secure_link_old_variable(kl_http_request_t          *r,
                                 kl_http_secure_link_conf_t *conf,
                                 kl_http_variable_value_t   *v)
{
    u_char   *p, *start, *end, *last, hash[16];
    size_t    len;
    kl_int_t  n;
    kl_uint_t i;
    kl_md5_t  md5;

    if (r->unparsed_uri.len < 2) {
        kl_http_secure_link_not_found(v);
        return KL_OK;
    }

    p = r->unparsed_uri.data + 1;
    last = r->unparsed_uri.data + r->unparsed_uri.len;

    start = memchr(p, '/', last - p);
    end = start ? memchr(start + 1, '/', last - start - 1) : NULL;

    if (end == NULL) {
        kl_http_secure_link_not_found(v);
        return KL_OK;
    }

    start++;
    p = end + 1;
    len = last - p;

    if (end - start != 32 || len == 0) {
        kl_http_secure_link_not_found(v);
        return KL_OK;
    }

    kl_md5_init(&md5);
    kl_md5_update(&md5, p, len);
    kl_md5_update(&md5, conf->secret.data, conf->secret.len);
    kl_md5_final(hash, &md5);

    for (i = 0; i < 16; i++) {
        n = kl_hextoi(&start[2 * i], 2);

        if (n == KL_ERROR || n != hash[i]) {
            kl_http_secure_link_not_found(v);
            return KL_OK;
        }
    }

    kl_http_variable_set(v, p, len);

    return KL_OK;
}


static kl_int_t
kl_http_secure_link_variable(kl_http_request_t *r, kl_http_variable_value_t *v,
                             uintptr_t data)
{
    u_char                     *p, *last, hash[18], digest[16];
    size_t                      n;
    time_t                      expires;
    kl_str_t                    val;
    kl_md5_t                    md5;
    kl_http_secure_link_ctx_t  *ctx;
    kl_http_secure_link_conf_t *conf;

    (void) data;

    conf = kl_http_get_module_loc_conf(r, kl_http_secure_link_module);

    if (conf->secret.data) {
        return kl_http_secure_link_old_variable(r, conf, v);
    }

    if (conf->variable == NULL || conf->md5 == NULL) {
        goto not_found;
    }

    if (kl_http_complex_value(r, conf->variable, &val) != KL_OK) {
        return KL_ERROR;
    }

    last = val.data + val.len;
    p = memchr(val.data, ',', val.len);
    expires = 0;

    if (p) {
        val.len = p++ - val.data;

        expires = kl_atotm(p, last - p);
        if (expires <= 0) {
            goto not_found;
        }

        ctx = kl_pcalloc(r->pool, sizeof(kl_http_secure_link_ctx_t));
        if (ctx == NULL) {
            return KL_ERROR;
        }

        kl_http_set_ctx(r, ctx, kl_http_secure_link_module);

        ctx->expires.len = last - p;
        ctx->expires.data = p;
    }

    /* 24 base64 characters hold 18 bytes: an MD5 is 16 */
    if (val.len > 24
        || kl_base64url_decode(hash, &n, val.data, val.len) != KL_OK || n != 16)
    {
        goto not_found;
    }

    if (kl_http_complex_value(r, conf->md5, &val) != KL_OK) {
        return KL_ERROR;
    }

    kl_md5_init(&md5);
    kl_md5_update(&md5, val.data, val.len);
    kl_md5_final(digest, &md5);

    if (memcmp(hash, digest, 16) != 0) {
        goto not_found;
    }

    p = (u_char *) ((expires && expires < kl_loop.clock.sec) ? "0" : "1");
    kl_http_variable_set(v, p, 1);

    return KL_OK;

not_found:

    kl_http_secure_link_not_found(v);

    return KL_OK;
}


/* The EXPIRES part $secure_link read, if it read one. */
static kl_int_t
kl_http_secure_link_expires_variable(kl_http_request_t        *r,
                                     kl_http_variable_value_t *v,
                                     uintptr_t                 data)
{
    kl_http_secure_link_ctx_t *ctx;

    (void) data;

    ctx = kl_http_get_module_ctx(r, kl_http_secure_link_module);

    if (ctx == NULL) {
        kl_http_secure_link_not_found(v);
        return KL_OK;
    }

    kl_http_variable_set(v, ctx->expires.data, ctx->expires.len);

    return KL_OK;
}


static void *
kl_http_secure_link_create_conf(kl_conf_t *cf)
{
    kl_http_secure_link_conf_t *conf;

    conf = kl_pcalloc(cf->pool, sizeof(kl_http_secure_link_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /* secret: zeroed, i.e. none */
    conf->variable = KL_CONF_UNSET_PTR;
    conf->md5 = KL_CONF_UNSET_PTR;

    return conf;
}


static char *
kl_http_secure_link_merge_conf(kl_conf_t *cf, void *parent, void *child)
{
    kl_http_secure_link_conf_t *prev = parent;
    kl_http_secure_link_conf_t *conf = child;

    if (conf->secret.data) {
        kl_conf_init_ptr_value(conf->variable, NULL);
        kl_conf_init_ptr_value(conf->md5, NULL);

        if (conf->variable || conf->md5) {
            kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                              "\"secure_link_secret\" cannot be mixed with "
                              "\"secure_link\" and \"secure_link_md5\"");
            return KL_CONF_ERROR;
        }

        return KL_CONF_OK;
    }

    kl_conf_merge_ptr_value(conf->variable, prev->variable, NULL);
    kl_conf_merge_ptr_value(conf->md5, prev->md5, NULL);

    if (conf->variable == NULL && conf->md5 == NULL) {
        conf->secret = prev->secret;
    }

    return KL_CONF_OK;
}


static kl_int_t
kl_http_secure_link_add_variables(kl_conf_t *cf)
{
    kl_str_t            name;
    kl_http_variable_t *var;

    kl_str_set(&name, "secure_link");

    var = kl_http_add_variable(cf, &name, 0);
    if (var == NULL) {
        return KL_ERROR;
    }

    var->get_handler = kl_http_secure_link_variable;

    kl_str_set(&name, "secure_link_expires");

    var = kl_http_add_variable(cf, &name, 0);
    if (var == NULL) {
        return KL_ERROR;
    }

    var->get_handler = kl_http_secure_link_expires_variable;

    return KL_OK;
}
