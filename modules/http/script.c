/*
 * script.c: complex values: a value with variables in it ("$host:$1")
 * split once, at config time, into literal, variable and capture parts,
 * then put together per request. The split is a pure function over
 * bytes (kl_http_script_parse), unit-tested and fuzzed on its own.
 */

#include "kl_http.h"


static kl_uint_t
kl_http_script_name_char(u_char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z')
           || (ch >= '0' && ch <= '9') || ch == '_';
}


static void
kl_http_script_add(kl_http_script_part_t *parts, kl_uint_t max, kl_uint_t n,
                   kl_uint_t type, kl_uint_t num, u_char *data, size_t len)
{
    if (parts == NULL || n >= max) {
        return;
    }

    parts[n].type = type;
    parts[n].n = num;
    parts[n].text.data = data;
    parts[n].text.len = len;
}


kl_int_t
kl_http_script_parse(u_char *src, size_t len, kl_uint_t captures,
                     kl_http_script_part_t *parts, kl_uint_t max,
                     kl_http_script_error_t *err)
{
    size_t    i, start;
    kl_uint_t n, bracket;
    kl_str_t  name;

    n = 0;
    i = 0;

    while (i < len) {

        start = i;

        if (src[i] != '$') {
            while (i < len && src[i] != '$') {
                i++;
            }

            kl_http_script_add(parts, max, n++, KL_HTTP_SCRIPT_TEXT, 0,
                               src + start, i - start);
            continue;
        }

        if (++i == len) {
            goto invalid;
        }

        if (captures && src[i] >= '1' && src[i] <= '9') {
            kl_http_script_add(parts, max, n++, KL_HTTP_SCRIPT_CAPTURE,
                               src[i] - '0', src + start, 2);
            i++;
            continue;
        }

        bracket = (src[i] == '{');

        if (bracket && ++i == len) {
            goto invalid;
        }

        name.data = src + i;

        for (name.len = 0; i < len; i++, name.len++) {
            if (bracket && src[i] == '}') {
                i++;
                bracket = 0;
                break;
            }

            if (!kl_http_script_name_char(src[i])) {
                break;
            }
        }

        if (bracket) {
            if (err) {
                err->code = KL_HTTP_SCRIPT_ERR_BRACKET;
                err->pos = start;
                err->name = name;
            }

            return KL_ERROR;
        }

        if (name.len == 0) {
            goto invalid;
        }

        kl_http_script_add(parts, max, n++, KL_HTTP_SCRIPT_VAR, 0, name.data,
                           name.len);
    }

    return (kl_int_t) n;

invalid:

    if (err) {
        err->code = KL_HTTP_SCRIPT_ERR_NAME;
        err->pos = start;
        kl_str_null(&err->name);
    }

    return KL_ERROR;
}


kl_uint_t
kl_http_script_variables_count(kl_str_t *value)
{
    size_t    i;
    kl_uint_t n;

    for (n = 0, i = 0; i < value->len; i++) {
        if (value->data[i] == '$') {
            n++;
        }
    }

    return n;
}


kl_int_t
kl_http_compile_complex_value(kl_http_compile_complex_value_t *ccv)
{
    kl_int_t                 n, index;
    kl_uint_t                i;
    kl_str_t                *v;
    kl_conf_t               *cf;
    kl_http_script_error_t   err;
    kl_http_complex_value_t *cv;

    cf = ccv->cf;
    v = ccv->value;
    cv = ccv->complex_value;

    kl_memzero(cv, sizeof(kl_http_complex_value_t));

    cv->value = *v;
    cv->zero = ccv->zero;

    if (kl_http_script_variables_count(v) == 0) {
        /* A plain string: resolved now, and conf text ends with a NUL. */
        if ((ccv->conf_prefix || ccv->root_prefix)
            && kl_conf_full_name(cf->cycle, &cv->value, ccv->conf_prefix)
                   != KL_OK)
        {
            return KL_ERROR;
        }

        return KL_OK;
    }

    if (ccv->conf_prefix) {
        cv->prefix = cf->cycle->conf_prefix;

    } else if (ccv->root_prefix) {
        cv->prefix = cf->cycle->prefix;
    }

    n = kl_http_script_parse(v->data, v->len, 1, NULL, 0, &err);

    if (n == KL_ERROR) {
        if (err.code == KL_HTTP_SCRIPT_ERR_BRACKET) {
            kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                              "the closing bracket in \"%V\" "
                              "variable is missing",
                              &err.name);
        } else {
            kl_conf_log_error(KL_LOG_EMERG, cf, 0, "invalid variable name");
        }

        return KL_ERROR;
    }

    cv->parts = kl_palloc(cf->pool, n * sizeof(kl_http_script_part_t));
    if (cv->parts == NULL) {
        return KL_ERROR;
    }

    cv->nparts = (kl_uint_t) n;
    (void) kl_http_script_parse(v->data, v->len, 1, cv->parts, n, &err);

    for (i = 0; i < cv->nparts; i++) {
        if (cv->parts[i].type == KL_HTTP_SCRIPT_TEXT) {
            cv->literal += cv->parts[i].text.len;

        } else if (cv->parts[i].type == KL_HTTP_SCRIPT_VAR) {
            index = kl_http_get_variable_index(cf, &cv->parts[i].text);
            if (index == KL_ERROR) {
                return KL_ERROR;
            }

            cv->parts[i].n = (kl_uint_t) index;
        }
    }

    return KL_OK;
}


/* The bytes of capture n of the last regex match, or 0 (no match). */
static size_t
kl_http_script_capture(kl_http_request_t *r, kl_uint_t n, u_char **data)
{
    n *= 2;

    if (r->captures == NULL || n + 1 >= r->ncaptures || r->captures[n] < 0
        || r->captures[n + 1] < r->captures[n])
    {
        return 0;
    }

    *data = r->captures_data + r->captures[n];

    return (size_t) (r->captures[n + 1] - r->captures[n]);
}


kl_int_t
kl_http_complex_value_ref(kl_http_request_t *r, kl_http_complex_value_t *cv,
                          kl_str_t *value)
{
    kl_http_variable_value_t *vv;

    if (cv->parts == NULL || cv->nparts != 1 || cv->prefix.len != 0
        || cv->literal != 0 || cv->zero
        || cv->parts[0].type != KL_HTTP_SCRIPT_VAR)
    {
        return kl_http_complex_value(r, cv, value);
    }

    vv = kl_http_get_flushed_variable(r, cv->parts[0].n);

    if (vv == NULL || vv->not_found) {
        value->len = 0;
        value->data = NULL;
        return KL_OK;
    }

    value->len = vv->len;
    value->data = vv->data;

    return KL_OK;
}


kl_int_t
kl_http_complex_value(kl_http_request_t *r, kl_http_complex_value_t *cv,
                      kl_str_t *value)
{
    u_char                   *p, *data;
    size_t                    len;
    kl_uint_t                 i;
    kl_http_script_part_t    *part;
    kl_http_variable_value_t *vv;

    if (cv->parts == NULL) {
        *value = cv->value;
        return KL_OK;
    }

    len = cv->literal + cv->prefix.len + 1;

    for (i = 0; i < cv->nparts; i++) {
        part = &cv->parts[i];

        if (part->type == KL_HTTP_SCRIPT_VAR) {
            vv = kl_http_get_flushed_variable(r, part->n);

            if (vv && !vv->not_found) {
                len += vv->len;
            }

        } else if (part->type == KL_HTTP_SCRIPT_CAPTURE) {
            len += kl_http_script_capture(r, part->n, &data);
        }
    }

    value->data = kl_pnalloc(r->pool, len);
    if (value->data == NULL) {
        return KL_ERROR;
    }

    p = value->data + cv->prefix.len;

    for (i = 0; i < cv->nparts; i++) {
        part = &cv->parts[i];

        switch (part->type) {

        case KL_HTTP_SCRIPT_TEXT:
            p = kl_cpymem(p, part->text.data, part->text.len);
            break;

        case KL_HTTP_SCRIPT_VAR:
            /* Computed above: this returns the same value. */
            vv = kl_http_get_indexed_variable(r, part->n);

            /* An empty value may have no data at all: memcpy(NULL) is UB. */
            if (vv && !vv->not_found && vv->len) {
                p = kl_cpymem(p, vv->data, vv->len);
            }
            break;

        default:
            len = kl_http_script_capture(r, part->n, &data);

            if (len) {
                p = kl_cpymem(p, data, len);
            }
        }
    }

    value->len = p - value->data - cv->prefix.len;

    if (cv->prefix.len) {
        if (value->len && value->data[cv->prefix.len] == '/') {
            value->data += cv->prefix.len;
        } else {
            kl_memcpy(value->data, cv->prefix.data, cv->prefix.len);
            value->len += cv->prefix.len;
        }
    }

    if (cv->zero) {
        value->data[value->len] = '\0';
    }

    return KL_OK;
}


char *
kl_http_set_complex_value_slot(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    char                     *p;
    kl_str_t                 *value;
    kl_http_complex_value_t **cv;

    p = conf;
    cv = (kl_http_complex_value_t **) (p + cmd->offset);

    if (*cv != NULL && *cv != KL_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    *cv = kl_http_compile_value(cf, &value[1]);
    if (*cv == NULL) {
        return KL_CONF_ERROR;
    }

    return KL_CONF_OK;
}


kl_http_complex_value_t *
kl_http_compile_value(kl_conf_t *cf, kl_str_t *text)
{
    kl_http_complex_value_t        *cv;
    kl_http_compile_complex_value_t ccv;

    cv = kl_palloc(cf->pool, sizeof(kl_http_complex_value_t));
    if (cv == NULL) {
        return NULL;
    }

    kl_memzero(&ccv, sizeof(kl_http_compile_complex_value_t));

    ccv.cf = cf;
    ccv.value = text;
    ccv.complex_value = cv;

    if (kl_http_compile_complex_value(&ccv) != KL_OK) {
        return NULL;
    }

    return cv;
}
