/*
 * rewrite.c: the rewrite module: rewrite, return, set, break and if,
 * compiled in order into one script per server and per location, run at
 * the server rewrite phase (the server's) and the rewrite phase (the
 * location's) as nginx runs its code arrays; and rewrite_log and
 * uninitialized_variable_warn. rewrite_script.c runs the scripts.
 *
 * An "if" block is a location of its own, as nginx's: its directives go
 * into the enclosing script, after the IF instruction that skips them,
 * and its confs (root, error_page...) are merged from the enclosing
 * location's, then used from the moment its condition holds. It is kept
 * in the enclosing location's if_locations, which are merged but never
 * searched. An "if" in a server holds only rewrite directives, and
 * switches no confs.
 */

#include "kl_http.h"
#include "core_module.h"
#include "rewrite.h"


static kl_int_t kl_http_rewrite_init(kl_conf_t *cf);
static void    *kl_http_rewrite_create_loc_conf(kl_conf_t *cf);
static char    *kl_http_rewrite_merge_loc_conf(kl_conf_t *cf, void *parent,
                                               void *child);
static kl_int_t kl_http_rewrite_handler(kl_http_request_t *r);
static kl_int_t kl_http_rewrite_var(kl_http_request_t        *r,
                                    kl_http_variable_value_t *v,
                                    uintptr_t                 data);
static char    *kl_http_rewrite(kl_conf_t *cf, kl_command_t *cmd, void *conf);
static char    *kl_http_rewrite_return(kl_conf_t *cf, kl_command_t *cmd,
                                       void *conf);
static char    *kl_http_rewrite_break(kl_conf_t *cf, kl_command_t *cmd,
                                      void *conf);
static char *kl_http_rewrite_if(kl_conf_t *cf, kl_command_t *cmd, void *conf);
static char *kl_http_rewrite_set(kl_conf_t *cf, kl_command_t *cmd, void *conf);


#define KL_HTTP_RW_CONF                                                        \
    (KL_HTTP_SRV_CONF | KL_HTTP_SIF_CONF | KL_HTTP_LOC_CONF | KL_HTTP_LIF_CONF)

/* clang-format off */
static kl_command_t  kl_http_rewrite_commands[] = {

    { kl_string("rewrite"),
      KL_HTTP_RW_CONF | KL_CONF_TAKE23,
      kl_http_rewrite,
      KL_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { kl_string("return"),
      KL_HTTP_RW_CONF | KL_CONF_TAKE12,
      kl_http_rewrite_return,
      KL_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { kl_string("break"),
      KL_HTTP_RW_CONF | KL_CONF_NOARGS,
      kl_http_rewrite_break,
      KL_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { kl_string("if"),
      KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_BLOCK | KL_CONF_1MORE,
      kl_http_rewrite_if,
      KL_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { kl_string("set"),
      KL_HTTP_RW_CONF | KL_CONF_TAKE2,
      kl_http_rewrite_set,
      KL_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { kl_string("rewrite_log"),
      KL_HTTP_MAIN_CONF | KL_HTTP_RW_CONF | KL_CONF_FLAG,
      kl_conf_set_flag_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_rewrite_loc_conf_t, log),
      NULL },

    { kl_string("uninitialized_variable_warn"),
      KL_HTTP_MAIN_CONF | KL_HTTP_RW_CONF | KL_CONF_FLAG,
      kl_conf_set_flag_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_rewrite_loc_conf_t, uninitialized_variable_warn),
      NULL },

    kl_null_command
};
/* clang-format on */


static kl_http_module_t kl_http_rewrite_module_ctx = {
    .postconfiguration = kl_http_rewrite_init,
    .create_loc_conf = kl_http_rewrite_create_loc_conf,
    .merge_loc_conf = kl_http_rewrite_merge_loc_conf,
};


kl_module_t kl_http_rewrite_module = {
    .name = "kl_http_rewrite_module",
    .type = KL_HTTP_MODULE,
    .ctx = &kl_http_rewrite_module_ctx,
    .commands = kl_http_rewrite_commands,
};


static kl_int_t
kl_http_rewrite_init(kl_conf_t *cf)
{
    if (kl_http_add_phase_handler(cf, KL_HTTP_SERVER_REWRITE_PHASE,
                                  kl_http_rewrite_handler)
        != KL_OK)
    {
        return KL_ERROR;
    }

    return kl_http_add_phase_handler(cf, KL_HTTP_REWRITE_PHASE,
                                     kl_http_rewrite_handler);
}


static void *
kl_http_rewrite_create_loc_conf(kl_conf_t *cf)
{
    kl_http_rewrite_loc_conf_t *rlcf;

    rlcf = kl_pcalloc(cf->pool, sizeof(kl_http_rewrite_loc_conf_t));
    if (rlcf == NULL) {
        return NULL;
    }

    rlcf->log = KL_CONF_UNSET;
    rlcf->uninitialized_variable_warn = KL_CONF_UNSET;

    return rlcf;
}


/*
 * Scripts are not inherited: a server's runs once, at the server rewrite
 * phase, and a location's only for that location, as nginx's.
 */
static char *
kl_http_rewrite_merge_loc_conf(kl_conf_t *cf, void *parent, void *child)
{
    kl_http_rewrite_loc_conf_t *prev = parent;
    kl_http_rewrite_loc_conf_t *conf = child;

    (void) cf;

    kl_conf_merge_value(conf->log, prev->log, 0);
    kl_conf_merge_value(conf->uninitialized_variable_warn,
                        prev->uninitialized_variable_warn, 1);

    return KL_CONF_OK;
}


static kl_int_t
kl_http_rewrite_handler(kl_http_request_t *r)
{
    kl_http_core_srv_conf_t    *cscf;
    kl_http_core_main_conf_t   *cmcf;
    kl_http_rewrite_loc_conf_t *rlcf;

    cscf = kl_http_get_module_srv_conf(r, kl_http_core_module);
    cmcf = kl_http_get_module_main_conf(r, kl_http_core_module);

    /* No location matched: the server's script ran already. */
    if (r->phase_handler >= (kl_int_t) cmcf->phase_engine.location_rewrite_index
        && r->loc_conf == cscf->ctx->loc_conf)
    {
        return KL_DECLINED;
    }

    rlcf = kl_http_get_module_loc_conf(r, kl_http_rewrite_module);

    if (rlcf->codes == NULL) {
        return KL_DECLINED;
    }

    return kl_http_rewrite_run(r, rlcf->codes, (kl_uint_t) rlcf->log);
}


/* A "set" variable read before any set gave it a value: empty. */
static kl_int_t
kl_http_rewrite_var(kl_http_request_t *r, kl_http_variable_value_t *v,
                    uintptr_t data)
{
    kl_http_rewrite_loc_conf_t *rlcf;

    rlcf = kl_http_get_module_loc_conf(r, kl_http_rewrite_module);

    if (rlcf->uninitialized_variable_warn) {
        kl_log_error(KL_LOG_WARN, r->connection->log, 0,
                     "using uninitialized \"%V\" variable", (kl_str_t *) data);
    }

    v->len = 0;
    v->data = (u_char *) "";
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return KL_OK;
}


/* A new instruction at the end of the script (made on first use). */
static kl_http_rewrite_code_t *
kl_http_rewrite_push(kl_conf_t *cf, kl_http_rewrite_loc_conf_t *rlcf,
                     kl_uint_t op)
{
    kl_http_rewrite_code_t *code;

    if (rlcf->codes == NULL) {
        rlcf->codes =
            kl_array_create(cf->pool, 4, sizeof(kl_http_rewrite_code_t));
        if (rlcf->codes == NULL) {
            return NULL;
        }
    }

    code = kl_array_push(rlcf->codes);
    if (code == NULL) {
        return NULL;
    }

    kl_memzero(code, sizeof(kl_http_rewrite_code_t));
    code->op = op;
    code->index = KL_ERROR;

    return code;
}


/* nginx's test for a URL: a redirect, not a URI. */
static kl_uint_t
kl_http_rewrite_is_url(kl_str_t *s)
{
    return (s->len >= 7 && kl_strncmp(s->data, "http://", 7) == 0)
           || (s->len >= 8 && kl_strncmp(s->data, "https://", 8) == 0)
           || (s->len >= 7 && kl_strncmp(s->data, "$scheme", 7) == 0);
}


static kl_http_regex_t *
kl_http_rewrite_regex(kl_conf_t *cf, kl_str_t *pattern, kl_uint_t caseless)
{
    kl_regex_compile_t rc;

    kl_memzero(&rc, sizeof(kl_regex_compile_t));

    rc.pattern = *pattern;
    rc.pool = cf->pool;
    rc.options = caseless ? KL_REGEX_CASELESS : 0;

    return kl_http_regex_compile(cf, &rc);
}


/* rewrite's last parameter: the flag's effects on code. */
static kl_int_t
kl_http_rewrite_flag(kl_conf_t *cf, kl_http_rewrite_code_t *code,
                     kl_str_t *flag)
{
    if (kl_strcmp(flag->data, "last") == 0) {
        code->last = 1;

    } else if (kl_strcmp(flag->data, "break") == 0) {
        code->break_cycle = 1;
        code->last = 1;

    } else if (kl_strcmp(flag->data, "redirect") == 0) {
        code->status = KL_HTTP_MOVED_TEMPORARILY;
        code->redirect = 1;
        code->last = 1;

    } else if (kl_strcmp(flag->data, "permanent") == 0) {
        code->status = KL_HTTP_MOVED_PERMANENTLY;
        code->redirect = 1;
        code->last = 1;

    } else {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0, "invalid parameter \"%V\"",
                          flag);
        return KL_ERROR;
    }

    return KL_OK;
}


static char *
kl_http_rewrite(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    u_char                 *q;
    kl_str_t               *value, repl, args;
    kl_http_rewrite_code_t *code;

    (void) cmd;

    value = cf->args->elts;

    code = kl_http_rewrite_push(cf, conf, KL_HTTP_RW_REWRITE);
    if (code == NULL) {
        return KL_CONF_ERROR;
    }

    if (value[2].len == 0) {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0, "empty replacement");
        return KL_CONF_ERROR;
    }

    code->regex = kl_http_rewrite_regex(cf, &value[1], 0);
    if (code->regex == NULL) {
        return KL_CONF_ERROR;
    }

    code->name = value[1];
    repl = value[2];

    /* A last "?" drops the request's arguments. */
    if (repl.data[repl.len - 1] == '?') {
        repl.len--;
    } else {
        code->add_args = 1;
    }

    if (kl_http_rewrite_is_url(&repl)) {
        code->status = KL_HTTP_MOVED_TEMPORARILY;
        code->redirect = 1;
        code->last = 1;
    }

    if (cf->args->nelts == 4
        && kl_http_rewrite_flag(cf, code, &value[3]) != KL_OK) {
        return KL_CONF_ERROR;
    }

    /*
     * No variable name holds a '?' (the compile rejects "${a?}"), so the
     * first one is the literal that starts the arguments, as nginx reads
     * it; a redirect keeps it in its URL.
     */
    q = repl.len ? memchr(repl.data, '?', repl.len) : NULL;
    code->literal_args = (q != NULL);

    if (q && !code->redirect) {
        args.data = q + 1;
        args.len = repl.data + repl.len - args.data;
        repl.len = q - repl.data;

        code->args = kl_http_compile_value(cf, &args);
        if (code->args == NULL) {
            return KL_CONF_ERROR;
        }
    }

    code->value = kl_http_compile_value(cf, &repl);
    if (code->value == NULL) {
        return KL_CONF_ERROR;
    }

    return KL_CONF_OK;
}


static char *
kl_http_rewrite_return(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_int_t                status;
    kl_str_t               *value, *text;
    kl_http_rewrite_code_t *code;
    static kl_str_t         empty = kl_string("");

    (void) cmd;

    value = cf->args->elts;
    text = NULL;

    status = kl_atoi(value[1].data, value[1].len);

    if (status == KL_ERROR) {
        if (cf->args->nelts == 2 && kl_http_rewrite_is_url(&value[1])) {
            /* "return URL": a 302 to it. */
            status = KL_HTTP_MOVED_TEMPORARILY;
            text = &value[1];

        } else {
            kl_conf_log_error(KL_LOG_EMERG, cf, 0, "invalid return code \"%V\"",
                              &value[1]);
            return KL_CONF_ERROR;
        }

    } else {
        if (status > 999) {
            kl_conf_log_error(KL_LOG_EMERG, cf, 0, "invalid return code \"%V\"",
                              &value[1]);
            return KL_CONF_ERROR;
        }

        if (cf->args->nelts == 3) {
            text = &value[2];
        }
    }

    code = kl_http_rewrite_push(cf, conf, KL_HTTP_RW_RETURN);
    if (code == NULL) {
        return KL_CONF_ERROR;
    }

    code->status = (kl_uint_t) status;

    /*
     * As nginx: below 400 the text, even empty, is the response ("return
     * 200;" sends an empty 200); from 400 on, no text or an empty literal
     * leaves the answer to the error page.
     */
    if (text == NULL || (text->len == 0 && status >= KL_HTTP_BAD_REQUEST)) {
        if (status >= KL_HTTP_BAD_REQUEST) {
            return KL_CONF_OK;
        }

        text = &empty;
    }

    code->value = kl_http_compile_value(cf, text);
    if (code->value == NULL) {
        return KL_CONF_ERROR;
    }

    return KL_CONF_OK;
}


static char *
kl_http_rewrite_break(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    (void) cmd;

    if (kl_http_rewrite_push(cf, conf, KL_HTTP_RW_BREAK) == NULL) {
        return KL_CONF_ERROR;
    }

    return KL_CONF_OK;
}


static char *
kl_http_rewrite_set(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_str_t               *value, *name;
    kl_int_t                index;
    kl_http_variable_t     *v;
    kl_http_rewrite_code_t *code;

    (void) cmd;

    value = cf->args->elts;

    if (value[1].data[0] != '$') {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0, "invalid variable name \"%V\"",
                          &value[1]);
        return KL_CONF_ERROR;
    }

    value[1].len--;
    value[1].data++;

    /* Fails on a core variable set cannot change ($uri...), as nginx. */
    v = kl_http_add_variable(cf, &value[1],
                             KL_HTTP_VAR_CHANGEABLE | KL_HTTP_VAR_WEAK);
    if (v == NULL) {
        return KL_CONF_ERROR;
    }

    index = kl_http_get_variable_index(cf, &value[1]);
    if (index == KL_ERROR) {
        return KL_CONF_ERROR;
    }

    if (v->get_handler == NULL) {
        /* The name, for the warning: v itself may move as the table grows. */
        name = kl_palloc(cf->pool, sizeof(kl_str_t));
        if (name == NULL) {
            return KL_CONF_ERROR;
        }

        *name = v->name;
        v->get_handler = kl_http_rewrite_var;
        v->data = (uintptr_t) name;
    }

    code = kl_http_rewrite_push(cf, conf, KL_HTTP_RW_SET);
    if (code == NULL) {
        return KL_CONF_ERROR;
    }

    code->index = index;
    code->set_handler = v->set_handler;
    code->data = v->data;

    code->value = kl_http_compile_value(cf, &value[2]);
    if (code->value == NULL) {
        return KL_CONF_ERROR;
    }

    return KL_CONF_OK;
}


/* "$v", then "= x", "!= x", "~ re", "~* re", "!~ re" or "!~* re". */
static char *
kl_http_rewrite_cond_var(kl_conf_t *cf, kl_http_rewrite_code_t *code,
                         kl_str_t *value, kl_uint_t cur, kl_uint_t last)
{
    u_char  *p;
    size_t   len;
    kl_str_t name;

    if (cur != last && cur + 2 != last) {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0, "invalid condition \"%V\"",
                          &value[cur]);
        return KL_CONF_ERROR;
    }

    name.data = value[cur].data + 1;
    name.len = value[cur].len - 1;

    code->index = kl_http_get_variable_index(cf, &name);
    if (code->index == KL_ERROR) {
        return KL_CONF_ERROR;
    }

    code->cond = KL_HTTP_RW_COND_VAR;

    if (cur == last) {
        return KL_CONF_OK;
    }

    p = value[cur + 1].data;
    len = value[cur + 1].len;

    if ((len == 1 && p[0] == '=') || (len == 2 && p[0] == '!' && p[1] == '=')) {
        code->cond = (len == 1) ? KL_HTTP_RW_COND_EQ : KL_HTTP_RW_COND_NE;
        code->value = kl_http_compile_value(cf, &value[last]);
        return code->value ? KL_CONF_OK : KL_CONF_ERROR;
    }

    if ((len == 1 && p[0] == '~') || (len == 2 && p[0] == '~' && p[1] == '*')
        || (len == 2 && p[0] == '!' && p[1] == '~')
        || (len == 3 && p[0] == '!' && p[1] == '~' && p[2] == '*'))
    {
        code->cond = KL_HTTP_RW_COND_REGEX;
        code->negative = (p[0] == '!');
        code->name = value[last];
        code->regex =
            kl_http_rewrite_regex(cf, &value[last], p[len - 1] == '*');
        return code->regex ? KL_CONF_OK : KL_CONF_ERROR;
    }

    kl_conf_log_error(KL_LOG_EMERG, cf, 0, "unexpected \"%V\" in condition",
                      &value[cur + 1]);

    return KL_CONF_ERROR;
}


/* "-f path" and the other file tests; the path is a complex value. */
static char *
kl_http_rewrite_cond_file(kl_conf_t *cf, kl_http_rewrite_code_t *code,
                          kl_str_t *value, kl_uint_t cur, kl_uint_t last)
{
    u_char                          op;
    kl_http_compile_complex_value_t ccv;

    op = value[cur].data[value[cur].len - 1];

    if (cur + 1 != last || (op != 'f' && op != 'd' && op != 'e' && op != 'x')) {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0, "invalid condition \"%V\"",
                          &value[cur]);
        return KL_CONF_ERROR;
    }

    code->cond = KL_HTTP_RW_COND_FILE;
    code->file_op = op;
    code->negative = (value[cur].data[0] == '!');

    code->value = kl_palloc(cf->pool, sizeof(kl_http_complex_value_t));
    if (code->value == NULL) {
        return KL_CONF_ERROR;
    }

    /* stat(2) wants a NUL after the path; conf words have one. */
    kl_memzero(&ccv, sizeof(kl_http_compile_complex_value_t));
    ccv.cf = cf;
    ccv.value = &value[last];
    ccv.complex_value = code->value;
    ccv.zero = 1;

    if (kl_http_compile_complex_value(&ccv) != KL_OK) {
        return KL_CONF_ERROR;
    }

    return KL_CONF_OK;
}


/* The words between "if" and "{", parenthesised as nginx reads them. */
static char *
kl_http_rewrite_condition(kl_conf_t *cf, kl_http_rewrite_code_t *code)
{
    u_char   *p;
    size_t    len;
    kl_str_t *value;
    kl_uint_t cur, last;

    value = cf->args->elts;
    last = cf->args->nelts - 1;

    if (value[1].len < 1 || value[1].data[0] != '(') {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0, "invalid condition \"%V\"",
                          &value[1]);
        return KL_CONF_ERROR;
    }

    if (value[1].len == 1) {
        cur = 2;

    } else {
        cur = 1;
        value[1].len--;
        value[1].data++;
    }

    if (value[last].len < 1 || value[last].data[value[last].len - 1] != ')') {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0, "invalid condition \"%V\"",
                          &value[last]);
        return KL_CONF_ERROR;
    }

    if (value[last].len == 1) {
        last--;

    } else {
        value[last].len--;
        value[last].data[value[last].len] = '\0';
    }

    len = value[cur].len;
    p = value[cur].data;

    if (cur <= last && len > 1 && p[0] == '$') {
        return kl_http_rewrite_cond_var(cf, code, value, cur, last);
    }

    if (cur <= last
        && ((len == 2 && p[0] == '-')
            || (len == 3 && p[0] == '!' && p[1] == '-')))
    {
        return kl_http_rewrite_cond_file(cf, code, value, cur, last);
    }

    kl_conf_log_error(KL_LOG_EMERG, cf, 0, "invalid condition \"%V\"",
                      &value[cur]);

    return KL_CONF_ERROR;
}


/* The pseudo-location of an if block, kept for the merge of its confs. */
static kl_http_conf_ctx_t *
kl_http_rewrite_if_ctx(kl_conf_t *cf)
{
    kl_http_conf_ctx_t      *ctx, *pctx;
    kl_http_core_loc_conf_t *clcf, *pclcf, **clcfp;

    ctx = kl_http_core_new_ctx(cf, 0);
    if (ctx == NULL) {
        return NULL;
    }

    pctx = cf->ctx;
    pclcf = pctx->loc_conf[kl_http_core_module.ctx_index];

    clcf = ctx->loc_conf[kl_http_core_module.ctx_index];
    clcf->loc_conf = ctx->loc_conf;
    clcf->name = pclcf->name;

    if (pclcf->if_locations == NULL) {
        pclcf->if_locations = kl_array_create(cf->pool, 2, sizeof(void *));
        if (pclcf->if_locations == NULL) {
            return NULL;
        }
    }

    clcfp = kl_array_push(pclcf->if_locations);
    if (clcfp == NULL) {
        return NULL;
    }

    *clcfp = clcf;

    return ctx;
}


static char *
kl_http_rewrite_if(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_http_rewrite_loc_conf_t *lcf = conf;

    char                       *rv;
    kl_uint_t                   ip;
    kl_conf_t                   save;
    kl_http_conf_ctx_t         *ctx;
    kl_http_rewrite_code_t     *code;
    kl_http_rewrite_loc_conf_t *nlcf;

    (void) cmd;

    ctx = kl_http_rewrite_if_ctx(cf);
    if (ctx == NULL) {
        return KL_CONF_ERROR;
    }

    code = kl_http_rewrite_push(cf, lcf, KL_HTTP_RW_IF);
    if (code == NULL) {
        return KL_CONF_ERROR;
    }

    if (kl_http_rewrite_condition(cf, code) != KL_CONF_OK) {
        return KL_CONF_ERROR;
    }

    /* The block's directives go into this script, after the IF. */
    ip = lcf->codes->nelts - 1;
    nlcf = ctx->loc_conf[kl_http_rewrite_module.ctx_index];
    nlcf->codes = lcf->codes;

    save = *cf;
    cf->ctx = ctx;

    if (cf->cmd_type == KL_HTTP_SRV_CONF) {
        cf->cmd_type = KL_HTTP_SIF_CONF;

    } else {
        code->loc_conf = ctx->loc_conf;
        cf->cmd_type = KL_HTTP_LIF_CONF;
    }

    rv = kl_conf_parse(cf, NULL);

    *cf = save;

    if (rv != KL_CONF_OK) {
        return rv;
    }

    /* The array may have moved: code is found again by its index. */
    code = lcf->codes->elts;
    code[ip].next = lcf->codes->nelts;

    /* The block runs as part of the enclosing script, never on its own. */
    nlcf->codes = NULL;

    return KL_CONF_OK;
}
