/* split_clients.c: "split_clients STRING $variable { N% value; * value; }". */

/*
 * As nginx's split_clients: the variable's value is the part whose share
 * of the 32-bit MurmurHash2 space holds the hash of STRING (variables
 * allowed), the parts taking their shares in the order written, "*" the
 * rest; the values are plain strings, as in nginx. The hash is nginx's, so a key falls in the same part on both. A
 * percentage has up to two decimals (more are ignored, as nginx does);
 * the total may not pass 100%; with no "*" and a total under 100% the
 * keys past the last share get the empty string.
 */

#include "kl_http.h"
#include "murmurhash.h"


typedef struct {
    uint32_t percent; /* end of its share; 0: the rest */
    kl_str_t value;   /* literal: nginx does not read variables here */
} kl_http_split_clients_part_t;


typedef struct {
    kl_http_complex_value_t *source;
    kl_array_t               parts; /* kl_http_split_clients_part_t */
} kl_http_split_clients_ctx_t;


static char    *kl_http_split_clients(kl_conf_t *cf, kl_command_t *cmd,
                                      void *conf);
static char    *kl_http_split_clients_line(kl_conf_t *cf, kl_command_t *dummy,
                                           void *conf);
static kl_int_t kl_http_split_clients_variable(kl_http_request_t        *r,
                                               kl_http_variable_value_t *v,
                                               uintptr_t                 data);


/* clang-format off */
static kl_command_t  kl_http_split_clients_commands[] = {

    { kl_string("split_clients"),
      KL_HTTP_MAIN_CONF | KL_CONF_BLOCK | KL_CONF_TAKE2,
      kl_http_split_clients,
      0,
      0,
      NULL },

    kl_null_command
};
/* clang-format on */


static kl_http_module_t kl_http_split_clients_module_ctx = { 0 };


kl_module_t kl_http_split_clients_module = {
    .name = "kl_http_split_clients_module",
    .type = KL_HTTP_MODULE,
    .ctx = &kl_http_split_clients_module_ctx,
    .commands = kl_http_split_clients_commands,
};


/*
 * nginx's ngx_atofp with two decimals: "12.5" is 1250; digits past the
 * second decimal are ignored; KL_ERROR for anything but digits and one
 * dot, or an empty string.
 */
static kl_int_t
kl_http_split_clients_percent(u_char *p, size_t n)
{
    kl_int_t  value;
    kl_uint_t dot, point;

    if (n == 0) {
        return KL_ERROR;
    }

    value = 0;
    dot = 0;
    point = 2;

    for (; n--; p++) {
        if (*p == '.') {
            if (dot) {
                return KL_ERROR;
            }

            dot = 1;
            continue;
        }

        if (*p < '0' || *p > '9') {
            return KL_ERROR;
        }

        if (point == 0) {
            continue;
        }

        if (value > 1000000000) {
            return KL_ERROR;
        }

        value = value * 10 + (*p - '0');
        point -= dot;
    }

    while (point--) {
        value *= 10;
    }

    return value;
}


static char *
kl_http_split_clients(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    char                         *rv;
    uint32_t                      sum, last;
    kl_str_t                     *value, name;
    kl_uint_t                     i;
    kl_conf_t                     save;
    kl_http_variable_t           *var;
    kl_http_split_clients_ctx_t  *ctx;
    kl_http_split_clients_part_t *part;

    (void) cmd;
    (void) conf;

    value = cf->args->elts;

    ctx = kl_pcalloc(cf->pool, sizeof(kl_http_split_clients_ctx_t));
    if (ctx == NULL) {
        return KL_CONF_ERROR;
    }

    ctx->source = kl_http_compile_value(cf, &value[1]);
    if (ctx->source == NULL) {
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

    var = kl_http_add_variable(cf, &name, KL_HTTP_VAR_CHANGEABLE);
    if (var == NULL) {
        return KL_CONF_ERROR;
    }

    var->get_handler = kl_http_split_clients_variable;
    var->data = (uintptr_t) ctx;

    if (kl_array_init(&ctx->parts, cf->pool, 2,
                      sizeof(kl_http_split_clients_part_t))
        != KL_OK)
    {
        return KL_CONF_ERROR;
    }

    save = *cf;
    cf->handler = kl_http_split_clients_line;
    cf->handler_conf = ctx;

    rv = kl_conf_parse(cf, NULL);

    *cf = save;

    if (rv != KL_CONF_OK) {
        return rv;
    }

    sum = 0;
    last = 0;
    part = ctx->parts.elts;

    for (i = 0; i < ctx->parts.nelts; i++) {
        sum = part[i].percent ? sum + part[i].percent : 10000;

        if (sum > 10000) {
            kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                              "percent total is greater than 100%%");
            return KL_CONF_ERROR;
        }

        if (part[i].percent) {
            last +=
                (uint32_t) (part[i].percent * (uint64_t) 0xffffffff / 10000);
            part[i].percent = last;
        }
    }

    return KL_CONF_OK;
}


/* One line of the block: "N% value;" or "* value;". */
static char *
kl_http_split_clients_line(kl_conf_t *cf, kl_command_t *dummy, void *conf)
{
    kl_int_t                      n;
    kl_str_t                     *value;
    kl_http_split_clients_ctx_t  *ctx = conf;
    kl_http_split_clients_part_t *part;

    (void) dummy;

    value = cf->args->elts;

    if (cf->args->nelts != 2) {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                          "invalid number of the split_clients parameters");
        return KL_CONF_ERROR;
    }

    part = kl_array_push(&ctx->parts);
    if (part == NULL) {
        return KL_CONF_ERROR;
    }

    if (value[0].len == 1 && value[0].data[0] == '*') {
        part->percent = 0;

    } else {
        n = KL_ERROR;

        if (value[0].len > 1 && value[0].data[value[0].len - 1] == '%') {
            n = kl_http_split_clients_percent(value[0].data, value[0].len - 1);
        }

        if (n == KL_ERROR || n == 0) {
            kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                              "invalid percent value \"%V\"", &value[0]);
            return KL_CONF_ERROR;
        }

        part->percent = (uint32_t) n;
    }

    part->value = value[1];

    return KL_CONF_OK;
}


static kl_int_t
kl_http_split_clients_variable(kl_http_request_t        *r,
                               kl_http_variable_value_t *v, uintptr_t data)
{
    uint32_t                      hash;
    kl_str_t                      key, *val;
    kl_uint_t                     i;
    kl_http_split_clients_ctx_t  *ctx = (kl_http_split_clients_ctx_t *) data;
    kl_http_split_clients_part_t *part;

    if (kl_http_complex_value(r, ctx->source, &key) != KL_OK) {
        return KL_ERROR;
    }

    hash = kl_murmur_hash2(key.data, key.len);

    val = NULL;
    part = ctx->parts.elts;

    for (i = 0; i < ctx->parts.nelts; i++) {
        if (hash < part[i].percent || part[i].percent == 0) {
            val = &part[i].value;
            break;
        }
    }

    if (val == NULL) {
        kl_http_variable_set(v, (u_char *) "", 0);

    } else {
        kl_http_variable_set(v, val->data, val->len);
    }

    return KL_OK;
}
