/*
 * core_access.c: satisfy, limit_except and auth_delay, directives of the
 * core module that the access phase checker (phases.c) reads.
 */

#include "kl_http.h"
#include "core_access.h"
#include "core_module.h"
#include "parse.h"


kl_conf_enum_t kl_http_core_satisfy[] = {
    { kl_string("all"), KL_HTTP_SATISFY_ALL },
    { kl_string("any"), KL_HTTP_SATISFY_ANY },
    { kl_null_string, 0 },
};


/* One method of limit_except, as nginx names them (any case). */
static kl_uint_t
kl_http_core_limit_except_method(kl_str_t *name)
{
    u_char    buf[sizeof("PROPPATCH")];
    size_t    i;
    kl_uint_t bit;

    if (name->len >= sizeof(buf)) {
        return 0;
    }

    for (i = 0; i < name->len; i++) {
        buf[i] = kl_toupper(name->data[i]);
    }

    bit = kl_http_method_bit(buf, buf + name->len);

    /* nginx's list stops at PATCH: no TRACE, no CONNECT. */
    if (bit & (KL_HTTP_UNKNOWN | KL_HTTP_TRACE | KL_HTTP_CONNECT)) {
        return 0;
    }

    return bit;
}


char *
kl_http_core_limit_except(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    char                    *rv;
    kl_uint_t                i, bit;
    kl_str_t                *value;
    kl_conf_t                save;
    kl_http_conf_ctx_t      *ctx;
    kl_http_core_loc_conf_t *pclcf = conf, *clcf, **clcfp;

    (void) cmd;

    if (pclcf->limit_except) {
        return "is duplicate";
    }

    pclcf->limit_except = 0xffffffff;

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        bit = kl_http_core_limit_except_method(&value[i]);

        if (bit == 0) {
            kl_conf_log_error(KL_LOG_EMERG, cf, 0, "invalid method \"%V\"",
                              &value[i]);
            return KL_CONF_ERROR;
        }

        pclcf->limit_except &= ~bit;
    }

    if (!(pclcf->limit_except & KL_HTTP_GET)) {
        pclcf->limit_except &= ~(kl_uint_t) KL_HTTP_HEAD;
    }

    ctx = kl_http_core_new_ctx(cf, 0);
    if (ctx == NULL) {
        return KL_CONF_ERROR;
    }

    pclcf->limit_except_loc_conf = ctx->loc_conf;

    clcf = ctx->loc_conf[kl_http_core_module.ctx_index];
    clcf->loc_conf = ctx->loc_conf;
    clcf->name = pclcf->name;
    clcf->lmt_excpt = 1;

    /* Merged with the location's confs, as an "if" block is. */
    if (pclcf->if_locations == NULL) {
        pclcf->if_locations = kl_array_create(cf->pool, 2, sizeof(void *));
        if (pclcf->if_locations == NULL) {
            return KL_CONF_ERROR;
        }
    }

    clcfp = kl_array_push(pclcf->if_locations);
    if (clcfp == NULL) {
        return KL_CONF_ERROR;
    }

    *clcfp = clcf;

    save = *cf;
    cf->ctx = ctx;
    cf->cmd_type = KL_HTTP_LMT_CONF;

    rv = kl_conf_parse(cf, NULL);

    *cf = save;

    return rv;
}


/*
 * The write event's handler meanwhile. The connection's handler clears
 * "delayed" (and "timedout") when the timer fires, as for limit_rate;
 * a write event before that finds it still set.
 */
static void
kl_http_core_auth_delay_handler(kl_http_request_t *r)
{
    kl_event_t *wev;

    wev = r->connection->write;

    if (wev->delayed) {
        return;
    }

    r->write_event_handler = kl_http_core_run_phases;

    kl_http_finalize_request(r, KL_HTTP_UNAUTHORIZED);
}


kl_int_t
kl_http_core_auth_delay(kl_http_request_t *r)
{
    kl_http_core_loc_conf_t *clcf;

    clcf = kl_http_get_module_loc_conf(r, kl_http_core_module);

    if (clcf->auth_delay == 0) {
        kl_http_finalize_request(r, KL_HTTP_UNAUTHORIZED);
        return KL_OK;
    }

    kl_log_error(KL_LOG_INFO, r->connection->log, 0,
                 "delaying unauthorized request");

    r->read_event_handler = kl_http_block_reading;
    r->write_event_handler = kl_http_core_auth_delay_handler;

    /* A timer, not a sleep: the worker serves others meanwhile. */
    r->connection->write->delayed = 1;
    kl_event_add_timer(r->connection->write, clcf->auth_delay);

    return KL_OK;
}
