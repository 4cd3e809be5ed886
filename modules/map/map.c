/* map.c: the map module: "map $source $variable { key value; ... }" in http. */

/*
 * As nginx's map: the block defines a variable whose value is looked up
 * from the source (a string with variables) on first use in a request,
 * then kept for the request unless the block says "volatile". Exact keys
 * are found in a hash table (map_keys.c) without regard to case; with
 * "hostnames", ".name", "*.name" and "name.*" keys are wildcards, tried
 * after the exact keys, the most specific leading one first, then the
 * most specific trailing one; "~re" and "~*re" keys are tried last, in
 * the order written, their captures ($1, named) usable in the value. A
 * value may itself hold variables and captures.
 */

#include "kl_http.h"
#include "map_keys.h"


typedef struct {
    kl_http_regex_t         *regex;
    kl_http_complex_value_t *value;
} kl_http_map_regex_t;


/* One map block: what its variable's handler reads. */
typedef struct {
    kl_http_complex_value_t *source;
    kl_http_complex_value_t *default_value; /* NULL: the empty string */

    kl_http_map_table_t exact;
    kl_http_map_table_t head; /* ".name" and "*.name", without those */
    kl_http_map_table_t tail; /* "name.*", without ".*" */

    kl_http_map_regex_t *regex;
    kl_uint_t            nregex;

    unsigned hostnames:1;
} kl_http_map_t;


/* What the lines of a block build, while it is read. */
typedef struct {
    kl_http_map_t *map;
    kl_array_t     regexes; /* kl_http_map_regex_t */
    unsigned       volatile_:1;
} kl_http_map_conf_ctx_t;


typedef struct {
    kl_uint_t hash_max_size;
    kl_uint_t hash_bucket_size;
} kl_http_map_main_conf_t;


static void *kl_http_map_create_main_conf(kl_conf_t *cf);
static char *kl_http_map_init_main_conf(kl_conf_t *cf, void *conf);
static char *kl_http_map_block(kl_conf_t *cf, kl_command_t *cmd, void *conf);
static char *kl_http_map_line(kl_conf_t *cf, kl_command_t *dummy, void *conf);
static char *kl_http_map_register(kl_conf_t *cf, kl_str_t *name,
                                  kl_http_map_t *map, kl_uint_t no_cacheable);
static kl_int_t kl_http_map_variable(kl_http_request_t        *r,
                                     kl_http_variable_value_t *v,
                                     uintptr_t                 data);


/* clang-format off */
static kl_command_t  kl_http_map_commands[] = {

    { kl_string("map"),
      KL_HTTP_MAIN_CONF | KL_CONF_BLOCK | KL_CONF_TAKE2,
      kl_http_map_block,
      KL_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { kl_string("map_hash_max_size"),
      KL_HTTP_MAIN_CONF | KL_CONF_TAKE1,
      kl_conf_set_num_slot,
      KL_HTTP_MAIN_CONF_OFFSET,
      offsetof(kl_http_map_main_conf_t, hash_max_size),
      NULL },

    { kl_string("map_hash_bucket_size"),
      KL_HTTP_MAIN_CONF | KL_CONF_TAKE1,
      kl_conf_set_num_slot,
      KL_HTTP_MAIN_CONF_OFFSET,
      offsetof(kl_http_map_main_conf_t, hash_bucket_size),
      NULL },

    kl_null_command
};
/* clang-format on */


static kl_http_module_t kl_http_map_module_ctx = {
    .create_main_conf = kl_http_map_create_main_conf,
    .init_main_conf = kl_http_map_init_main_conf,
};


kl_module_t kl_http_map_module = {
    .name = "kl_http_map_module",
    .type = KL_HTTP_MODULE,
    .ctx = &kl_http_map_module_ctx,
    .commands = kl_http_map_commands,
};


static void *
kl_http_map_create_main_conf(kl_conf_t *cf)
{
    kl_http_map_main_conf_t *mcf;

    mcf = kl_palloc(cf->pool, sizeof(kl_http_map_main_conf_t));
    if (mcf == NULL) {
        return NULL;
    }

    mcf->hash_max_size = KL_CONF_UNSET_UINT;
    mcf->hash_bucket_size = KL_CONF_UNSET_UINT;

    return mcf;
}


/*
 * nginx's defaults, kept for compatibility only: kiln's tables size
 * themselves to the keys, so the two sizes change nothing.
 */
static char *
kl_http_map_init_main_conf(kl_conf_t *cf, void *conf)
{
    kl_http_map_main_conf_t *mcf = conf;

    (void) cf;

    kl_conf_init_uint_value(mcf->hash_max_size, 2048);
    kl_conf_init_uint_value(mcf->hash_bucket_size, 64);

    return KL_CONF_OK;
}


static char *
kl_http_map_block(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    char                  *rv;
    kl_str_t              *value, name;
    kl_conf_t              save;
    kl_http_map_t         *map;
    kl_http_map_conf_ctx_t ctx;

    (void) cmd;
    (void) conf;

    value = cf->args->elts;

    map = kl_pcalloc(cf->pool, sizeof(kl_http_map_t));
    if (map == NULL) {
        return KL_CONF_ERROR;
    }

    map->source = kl_http_compile_value(cf, &value[1]);
    if (map->source == NULL) {
        return KL_CONF_ERROR;
    }

    name = value[2];

    if (name.data[0] != '$') {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0, "invalid variable name \"%V\"",
                          &name);
        return KL_CONF_ERROR;
    }

    name.len--;
    name.data++;

    kl_http_map_table_init(&map->exact, cf->pool);
    kl_http_map_table_init(&map->head, cf->pool);
    kl_http_map_table_init(&map->tail, cf->pool);

    kl_memzero(&ctx, sizeof(kl_http_map_conf_ctx_t));
    ctx.map = map;

    if (kl_array_init(&ctx.regexes, cf->pool, 4, sizeof(kl_http_map_regex_t))
        != KL_OK)
    {
        return KL_CONF_ERROR;
    }

    /* cf->ctx stays the http block's: lines compile values and regexes. */
    save = *cf;
    cf->handler = kl_http_map_line;
    cf->handler_conf = &ctx;

    rv = kl_conf_parse(cf, NULL);

    *cf = save;

    if (rv != KL_CONF_OK) {
        return rv;
    }

    map->nregex = ctx.regexes.nelts;

    if (map->nregex) {
        map->regex =
            kl_palloc(cf->pool, map->nregex * sizeof(kl_http_map_regex_t));
        if (map->regex == NULL) {
            return KL_CONF_ERROR;
        }

        kl_memcpy(map->regex, ctx.regexes.elts,
                  map->nregex * sizeof(kl_http_map_regex_t));
    }

    return kl_http_map_register(cf, &name, map, ctx.volatile_);
}


/*
 * Called after the block: a named capture of its regexes adds variables,
 * which may move the registry that the variable returned points into. A
 * later map of the same variable replaces this one, as in nginx.
 */
static char *
kl_http_map_register(kl_conf_t *cf, kl_str_t *name, kl_http_map_t *map,
                     kl_uint_t no_cacheable)
{
    kl_http_variable_t *var;

    var = kl_http_add_variable(cf, name, KL_HTTP_VAR_CHANGEABLE);
    if (var == NULL) {
        return KL_CONF_ERROR;
    }

    var->get_handler = kl_http_map_variable;
    var->data = (uintptr_t) map;

    if (no_cacheable) {
        var->flags |= KL_HTTP_VAR_NOCACHEABLE;
    }

    return KL_CONF_OK;
}


static char *
kl_http_map_regex(kl_conf_t *cf, kl_http_map_conf_ctx_t *ctx, kl_str_t *key,
                  kl_http_complex_value_t *value)
{
    kl_regex_compile_t   rc;
    kl_http_map_regex_t *re;

    kl_memzero(&rc, sizeof(kl_regex_compile_t));

    rc.pattern.data = key->data + 1;
    rc.pattern.len = key->len - 1;
    rc.pool = cf->pool;

    if (rc.pattern.len && rc.pattern.data[0] == '*') {
        rc.pattern.data++;
        rc.pattern.len--;
        rc.options = KL_REGEX_CASELESS;
    }

    re = kl_array_push(&ctx->regexes);
    if (re == NULL) {
        return KL_CONF_ERROR;
    }

    re->value = value;
    re->regex = kl_http_regex_compile(cf, &rc);

    return re->regex ? KL_CONF_OK : KL_CONF_ERROR;
}


/* An exact or wildcard key into its tables; an error phrase, or OK. */
static char *
kl_http_map_key(kl_conf_t *cf, kl_http_map_conf_ctx_t *ctx, kl_str_t *key,
                kl_http_complex_value_t *value)
{
    kl_int_t       kind, rc;
    kl_str_t       low, name;
    kl_http_map_t *map;

    map = ctx->map;

    low.len = key->len;
    low.data = kl_pnalloc(cf->pool, key->len + 1);
    if (low.data == NULL) {
        return KL_CONF_ERROR;
    }

    kl_strlow(low.data, key->data, key->len);
    low.data[low.len] = '\0';

    kind = kl_http_map_key_parse(&low, map->hostnames, &name);

    switch (kind) {

    case KL_HTTP_MAP_EXACT:
        rc = kl_http_map_table_add(&map->exact, &name, value);
        break;

    case KL_HTTP_MAP_DOT:
        /* ".name" is also the name itself, which an exact key would be */
        rc = kl_http_map_table_add(&map->exact, &name, value);
        if (rc == KL_OK) {
            rc = kl_http_map_table_add(&map->head, &name, value);
        }
        break;

    case KL_HTTP_MAP_HEAD:
        rc = kl_http_map_table_add(&map->head, &name, value);
        break;

    case KL_HTTP_MAP_TAIL:
        rc = kl_http_map_table_add(&map->tail, &name, value);
        break;

    default:
        kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                          "invalid hostname or wildcard \"%V\"", key);
        return KL_CONF_ERROR;
    }

    if (rc == KL_BUSY) {
        /* nginx names the key as its table keeps it: lowercase */
        kl_conf_log_error(KL_LOG_EMERG, cf, 0, "conflicting parameter \"%V\"",
                          &low);
        return KL_CONF_ERROR;
    }

    return rc == KL_OK ? KL_CONF_OK : KL_CONF_ERROR;
}


/* One line of the block: "hostnames;", "volatile;", "include F;", a key. */
static char *
kl_http_map_line(kl_conf_t *cf, kl_command_t *dummy, void *conf)
{
    kl_str_t                *value, key;
    kl_http_map_conf_ctx_t  *ctx = conf;
    kl_http_complex_value_t *cv;

    value = cf->args->elts;

    if (cf->args->nelts == 1 && kl_strcmp(value[0].data, "hostnames") == 0) {
        ctx->map->hostnames = 1;
        return KL_CONF_OK;
    }

    if (cf->args->nelts == 1 && kl_strcmp(value[0].data, "volatile") == 0) {
        ctx->volatile_ = 1;
        return KL_CONF_OK;
    }

    if (cf->args->nelts != 2) {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                          "invalid number of the map parameters");
        return KL_CONF_ERROR;
    }

    if (kl_strcmp(value[0].data, "include") == 0) {
        /* its lines come back here: cf->handler stays set */
        return kl_conf_include(cf, dummy, conf);
    }

    key = value[0];

    cv = kl_http_compile_value(cf, &value[1]);
    if (cv == NULL) {
        return KL_CONF_ERROR;
    }

    if (kl_strcmp(key.data, "default") == 0) {
        if (ctx->map->default_value) {
            kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                              "duplicate default map parameter");
            return KL_CONF_ERROR;
        }

        ctx->map->default_value = cv;
        return KL_CONF_OK;
    }

    if (key.len && key.data[0] == '~') {
        return kl_http_map_regex(cf, ctx, &key, cv);
    }

    /* "\~x", "\default": a key that would otherwise be read as syntax */
    if (key.len && key.data[0] == '\\') {
        key.len--;
        key.data++;
    }

    return kl_http_map_key(cf, ctx, &key, cv);
}


/* The value the source maps to: NULL for none (the default applies). */
static kl_int_t
kl_http_map_find(kl_http_request_t *r, kl_http_map_t *map, kl_str_t *s,
                 kl_http_complex_value_t **cv)
{
    u_char   *low;
    kl_int_t  rc;
    kl_uint_t i;

    low = s->len ? kl_pnalloc(r->pool, s->len) : (u_char *) "";
    if (low == NULL) {
        return KL_ERROR;
    }

    kl_strlow(low, s->data, s->len);

    *cv = kl_http_map_table_find(&map->exact, low, s->len);

    if (*cv == NULL && map->hostnames) {
        *cv = kl_http_map_find_head(&map->head, low, s->len);

        if (*cv == NULL) {
            *cv = kl_http_map_find_tail(&map->tail, low, s->len);
        }
    }

    /* As nginx: an empty source is not matched against the regexes. */
    for (i = 0; *cv == NULL && s->len && i < map->nregex; i++) {
        rc = kl_http_regex_exec(r, map->regex[i].regex, s);

        if (rc == KL_OK) {
            *cv = map->regex[i].value;

        } else if (rc != KL_DECLINED) {
            return KL_ERROR;
        }
    }

    return KL_OK;
}


static kl_int_t
kl_http_map_variable(kl_http_request_t *r, kl_http_variable_value_t *v,
                     uintptr_t data)
{
    kl_http_map_t           *map = (kl_http_map_t *) data;
    kl_str_t                 source, result;
    kl_http_complex_value_t *cv;

    if (kl_http_complex_value(r, map->source, &source) != KL_OK) {
        return KL_ERROR;
    }

    /* "example.com." is the host "example.com" */
    if (map->hostnames && source.len && source.data[source.len - 1] == '.') {
        source.len--;
    }

    if (kl_http_map_find(r, map, &source, &cv) != KL_OK) {
        return KL_ERROR;
    }

    if (cv == NULL) {
        cv = map->default_value;
    }

    if (cv == NULL) {
        kl_str_set(&result, "");

    } else if (kl_http_complex_value(r, cv, &result) != KL_OK) {
        return KL_ERROR;
    }

    v->len = result.len;
    v->data = result.data;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return KL_OK;
}
