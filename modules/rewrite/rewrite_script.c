/*
 * rewrite_script.c: running the rewrite module's scripts, as nginx's
 * ngx_http_rewrite_handler runs its code array: rewrite (an internal
 * rewrite of r->uri and r->args, or a redirect), return, set, break, and
 * if with its conditions. rewrite.c compiles the scripts.
 *
 * A rewritten URI is not unescaped: nginx takes the replacement's bytes,
 * with the captures of the (decoded) URI, as the new r->uri. A capture is
 * percent-encoded where nginx encodes it: in the arguments part of an
 * internal rewrite and anywhere in a redirect, when the request's URI had
 * a '%' or a '+'; a redirect is then unescaped up to its '?'
 * (kl_http_rewrite_unescape_redirect), so the Location carries only the
 * escapes a URL needs.
 */

#include "kl_http.h"
#include "rewrite.h"
#include "core_symlinks.h"


static kl_int_t kl_http_rewrite_exec(kl_http_request_t      *r,
                                     kl_http_rewrite_code_t *code,
                                     kl_uint_t               log);
static kl_int_t kl_http_rewrite_internal(kl_http_request_t      *r,
                                         kl_http_rewrite_code_t *code,
                                         kl_uint_t               log);
static kl_int_t kl_http_rewrite_redirect(kl_http_request_t      *r,
                                         kl_http_rewrite_code_t *code,
                                         kl_uint_t               log);
static kl_int_t kl_http_rewrite_value(kl_http_request_t       *r,
                                      kl_http_complex_value_t *cv,
                                      kl_uint_t escape, size_t reserve,
                                      kl_str_t *value);
static kl_int_t kl_http_rewrite_test(kl_http_request_t      *r,
                                     kl_http_rewrite_code_t *code,
                                     kl_uint_t               log);
static kl_int_t kl_http_rewrite_file(kl_http_request_t      *r,
                                     kl_http_rewrite_code_t *code);
static kl_int_t kl_http_rewrite_set(kl_http_request_t      *r,
                                    kl_http_rewrite_code_t *code);


kl_int_t
kl_http_rewrite_run(kl_http_request_t *r, kl_array_t *codes, kl_uint_t log)
{
    kl_int_t                rc;
    kl_uint_t               ip;
    kl_http_rewrite_code_t *code;

    code = codes->elts;
    ip = 0;

    while (ip < codes->nelts) {

        switch (code[ip].op) {

        case KL_HTTP_RW_REWRITE:
            rc = kl_http_rewrite_exec(r, &code[ip], log);

            if (rc == KL_OK && code[ip].last) {
                return KL_DECLINED;
            }

            if (rc != KL_OK && rc != KL_DECLINED) {
                return rc;
            }

            ip++;
            break;

        case KL_HTTP_RW_RETURN:
            return kl_http_send_response(r, code[ip].status, NULL,
                                         code[ip].value);

        case KL_HTTP_RW_SET:
            if (kl_http_rewrite_set(r, &code[ip]) != KL_OK) {
                return KL_HTTP_INTERNAL_SERVER_ERROR;
            }

            ip++;
            break;

        case KL_HTTP_RW_BREAK:
            r->uri_changed = 0;
            return KL_DECLINED;

        default: /* KL_HTTP_RW_IF */
            rc = kl_http_rewrite_test(r, &code[ip], log);

            if (rc == KL_ERROR) {
                return KL_HTTP_INTERNAL_SERVER_ERROR;
            }

            if (!rc) {
                ip = code[ip].next;
                break;
            }

            /* The block's confs apply from here on, as nginx's do. */
            if (code[ip].loc_conf) {
                r->loc_conf = code[ip].loc_conf;
                kl_http_update_location_config(r);
            }

            ip++;
        }
    }

    return KL_DECLINED;
}


/* KL_DECLINED: no match; KL_OK: rewritten; else the status to answer. */
static kl_int_t
kl_http_rewrite_exec(kl_http_request_t *r, kl_http_rewrite_code_t *code,
                     kl_uint_t log)
{
    kl_int_t rc;
    kl_str_t line;

    line = r->uri;

    rc = kl_http_regex_exec(r, code->regex, &line);

    if (rc == KL_DECLINED) {
        if (log) {
            kl_log_error(KL_LOG_NOTICE, r->connection->log, 0,
                         "\"%V\" does not match \"%V\"", &code->name, &line);
        }

        /* $1.. of an earlier match do not outlive a failed one. */
        r->ncaptures = 0;
        return KL_DECLINED;
    }

    if (rc != KL_OK) {
        return KL_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (log) {
        kl_log_error(KL_LOG_NOTICE, r->connection->log, 0,
                     "\"%V\" matches \"%V\"", &code->name, &line);
    }

    r->internal = 1;
    r->valid_unparsed_uri = 0;

    if (code->break_cycle) {
        /* An alias no longer maps the new URI (map_uri_to_path says so). */
        r->valid_location = 0;
        r->uri_changed = 0;

    } else {
        r->uri_changed = 1;
    }

    if (code->redirect) {
        return kl_http_rewrite_redirect(r, code, log);
    }

    return kl_http_rewrite_internal(r, code, log);
}


static kl_int_t
kl_http_rewrite_internal(kl_http_request_t *r, kl_http_rewrite_code_t *code,
                         kl_uint_t log)
{
    size_t    reserve;
    kl_str_t  uri, args;
    kl_uint_t escape;

    escape = r->parse.quoted_uri || r->parse.plus_in_uri;

    if (kl_http_rewrite_value(r, code->value, 0, 0, &uri) != KL_OK) {
        return KL_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (code->args) {
        reserve = (code->add_args && r->args.len) ? r->args.len + 1 : 0;

        if (kl_http_rewrite_value(r, code->args, escape, reserve, &args)
            != KL_OK) {
            return KL_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (reserve) {
            args.data[args.len++] = '&';
            kl_memcpy(args.data + args.len, r->args.data, r->args.len);
            args.len += r->args.len;
        }

        r->args = args;

    } else if (!code->add_args) {
        r->args.len = 0;
    }

    if (log) {
        kl_log_error(KL_LOG_NOTICE, r->connection->log, 0,
                     "rewritten data: \"%V\", args: \"%V\"", &uri, &r->args);
    }

    if (uri.len == 0) {
        kl_log_error(KL_LOG_ERR, r->connection->log, 0,
                     "the rewritten URI has a zero length");
        return KL_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->uri = uri;
    kl_http_set_exten(r);

    return KL_OK;
}


static kl_int_t
kl_http_rewrite_redirect(kl_http_request_t *r, kl_http_rewrite_code_t *code,
                         kl_uint_t log)
{
    size_t    reserve;
    kl_str_t  location;
    kl_uint_t escape;

    escape = r->parse.quoted_uri || r->parse.plus_in_uri;
    reserve = (code->add_args && r->args.len) ? r->args.len + 1 : 0;

    if (kl_http_rewrite_value(r, code->value, escape, reserve, &location)
        != KL_OK) {
        return KL_HTTP_INTERNAL_SERVER_ERROR;
    }

    location.len =
        kl_http_rewrite_unescape_redirect(location.data, location.len);

    if (reserve) {
        location.data[location.len++] = code->literal_args ? '&' : '?';
        kl_memcpy(location.data + location.len, r->args.data, r->args.len);
        location.len += r->args.len;
    }

    if (log) {
        kl_log_error(KL_LOG_NOTICE, r->connection->log, 0,
                     "rewritten redirect: \"%V\"", &location);
    }

    /* One Location: an earlier one (add_header runs later) is dropped. */
    if (r->headers_out.location) {
        r->headers_out.location->hash = 0;
        r->headers_out.location = NULL;
    }

    return kl_http_send_redirect(r, code->status, &location);
}


/* The bytes of capture n of the last match, or 0 when it did not take part. */
static size_t
kl_http_rewrite_capture(kl_http_request_t *r, kl_uint_t n, u_char **data)
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


/*
 * cv for r, in a fresh pool buffer with reserve bytes spare at its end;
 * captures are percent-encoded (as arguments) when escape is set.
 */
static kl_int_t
kl_http_rewrite_value(kl_http_request_t *r, kl_http_complex_value_t *cv,
                      kl_uint_t escape, size_t reserve, kl_str_t *value)
{
    u_char                   *p, *data;
    size_t                    len, n;
    kl_uint_t                 i;
    kl_http_script_part_t    *part;
    kl_http_variable_value_t *vv;

    len = cv->parts ? cv->literal : cv->value.len;

    for (i = 0; i < cv->nparts; i++) {
        part = &cv->parts[i];

        if (part->type == KL_HTTP_SCRIPT_VAR) {
            vv = kl_http_get_flushed_variable(r, part->n);
            len += (vv && !vv->not_found) ? vv->len : 0;

        } else if (part->type == KL_HTTP_SCRIPT_CAPTURE) {
            n = kl_http_rewrite_capture(r, part->n, &data);
            len += n;

            if (escape && n) {
                len += kl_escape_uri(NULL, data, n, KL_ESCAPE_ARGS);
            }
        }
    }

    value->data = kl_pnalloc(r->pool, len + reserve);
    if (value->data == NULL) {
        return KL_ERROR;
    }

    if (cv->parts == NULL) {
        kl_memcpy(value->data, cv->value.data, cv->value.len);
        value->len = cv->value.len;
        return KL_OK;
    }

    p = value->data;

    for (i = 0; i < cv->nparts; i++) {
        part = &cv->parts[i];

        if (part->type == KL_HTTP_SCRIPT_TEXT) {
            p = kl_cpymem(p, part->text.data, part->text.len);

        } else if (part->type == KL_HTTP_SCRIPT_VAR) {
            /* Computed above: this returns the same value. */
            vv = kl_http_get_indexed_variable(r, part->n);

            if (vv && !vv->not_found) {
                p = kl_cpymem(p, vv->data, vv->len);
            }

        } else {
            n = kl_http_rewrite_capture(r, part->n, &data);

            if (escape && n) {
                p += n + kl_escape_uri(p, data, n, KL_ESCAPE_ARGS);
            } else if (n) {
                p = kl_cpymem(p, data, n);
            }
        }
    }

    value->len = p - value->data;

    return KL_OK;
}


/* A variable's value for a condition: "" when it has none. */
static void
kl_http_rewrite_variable(kl_http_request_t *r, kl_int_t index, kl_str_t *s)
{
    kl_http_variable_value_t *vv;

    vv = kl_http_get_flushed_variable(r, (kl_uint_t) index);

    if (vv == NULL || vv->not_found) {
        kl_str_set(s, "");
        return;
    }

    s->len = vv->len;
    s->data = vv->data;
}


/* 1 or 0 for an if's condition, or KL_ERROR. */
static kl_int_t
kl_http_rewrite_test(kl_http_request_t *r, kl_http_rewrite_code_t *code,
                     kl_uint_t log)
{
    kl_int_t rc;
    kl_str_t left, right;

    if (code->cond == KL_HTTP_RW_COND_FILE) {
        return kl_http_rewrite_file(r, code);
    }

    kl_http_rewrite_variable(r, code->index, &left);

    switch (code->cond) {

    case KL_HTTP_RW_COND_VAR:
        return left.len && (left.len != 1 || left.data[0] != '0');

    case KL_HTTP_RW_COND_EQ:
    case KL_HTTP_RW_COND_NE:
        if (kl_http_complex_value(r, code->value, &right) != KL_OK) {
            return KL_ERROR;
        }

        rc = left.len == right.len
             && memcmp(left.data, right.data, left.len) == 0;

        return rc ^ (code->cond == KL_HTTP_RW_COND_NE);
    }

    rc = kl_http_regex_exec(r, code->regex, &left);

    if (rc == KL_ERROR) {
        return KL_ERROR;
    }

    if (log) {
        kl_log_error(KL_LOG_NOTICE, r->connection->log, 0,
                     rc == KL_OK ? "\"%V\" matches \"%V\""
                                 : "\"%V\" does not match \"%V\"",
                     &code->name, &left);
    }

    if (rc == KL_DECLINED) {
        r->ncaptures = 0;
        return code->negative;
    }

    return !code->negative;
}


/*
 * Under disable_symlinks, whether path opens without a link it refuses:
 * KL_OK, KL_DECLINED (with *err) when it does not, KL_ERROR.
 */
static kl_int_t
kl_http_rewrite_symlinks(kl_http_request_t *r, kl_str_t *path, kl_err_t *err)
{
    kl_open_file_info_t      of;
    kl_http_core_loc_conf_t *clcf;

    clcf = kl_http_get_module_loc_conf(r, kl_http_core_module);

    if (clcf->disable_symlinks == KL_DISABLE_SYMLINKS_OFF) {
        return KL_OK;
    }

    kl_memzero(&of, sizeof(kl_open_file_info_t));

    if (kl_http_set_disable_symlinks(r, path, &of) != KL_OK) {
        return KL_ERROR;
    }

    if (kl_open_cached_file(NULL, path, &of, r->pool, kl_loop.clock.sec)
        == KL_OK) {
        return KL_OK;
    }

    if (of.err == 0 || of.err == ENOMEM) {
        return KL_ERROR;
    }

    *err = of.err;

    return KL_DECLINED;
}


/*
 * -f, -d, -e, -x as nginx tests them: stat(2), following links unless
 * disable_symlinks refuses one (then the path is missing, as in nginx); a
 * path that does not exist (or cannot, ENOTDIR, ENAMETOOLONG) is false,
 * and its "!" form true; another failure is logged and counts as missing.
 */
static kl_int_t
kl_http_rewrite_file(kl_http_request_t *r, kl_http_rewrite_code_t *code)
{
    kl_err_t    err;
    kl_int_t    rc;
    kl_str_t    path;
    kl_uint_t   yes;
    struct stat sb;

    /* Compiled with zero: a NUL ends the path. */
    if (kl_http_complex_value(r, code->value, &path) != KL_OK) {
        return KL_ERROR;
    }

    err = 0;
    rc = kl_http_rewrite_symlinks(r, &path, &err);

    if (rc == KL_ERROR) {
        return KL_ERROR;
    }

    if (rc == KL_DECLINED || kl_file_info(path.data, &sb) == -1) {
        err = err ? err : kl_errno;

        if (err != ENOENT && err != ENOTDIR && err != ENAMETOOLONG) {
            kl_log_error(KL_LOG_CRIT, r->connection->log, err,
                         "stat() \"%s\" failed", path.data);
        }

        return code->negative;
    }

    switch (code->file_op) {

    case 'f':
        yes = S_ISREG(sb.st_mode);
        break;

    case 'd':
        yes = S_ISDIR(sb.st_mode);
        break;

    case 'e':
        yes = S_ISREG(sb.st_mode) || S_ISDIR(sb.st_mode) || S_ISLNK(sb.st_mode);
        break;

    default: /* 'x' */
        yes = (sb.st_mode & S_IXUSR) == S_IXUSR;
    }

    return (kl_int_t) (yes ^ code->negative);
}


static kl_int_t
kl_http_rewrite_set(kl_http_request_t *r, kl_http_rewrite_code_t *code)
{
    kl_str_t                 value;
    kl_http_variable_value_t vv;

    if (kl_http_complex_value(r, code->value, &value) != KL_OK) {
        return KL_ERROR;
    }

    if (code->set_handler == NULL) {
        return kl_http_set_indexed_variable(r, (kl_uint_t) code->index, &value);
    }

    kl_memzero(&vv, sizeof(kl_http_variable_value_t));
    vv.len = value.len;
    vv.data = value.data;
    vv.valid = 1;

    code->set_handler(r, &vv, code->data);

    return KL_OK;
}


static kl_int_t
kl_http_rewrite_hex(u_char ch)
{
    u_char c;

    if (ch >= '0' && ch <= '9') {
        return ch - '0';
    }

    c = (u_char) (ch | 0x20);

    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }

    return -1;
}


size_t
kl_http_rewrite_unescape_redirect(u_char *p, size_t len)
{
    u_char  *d, *s, *end, ch;
    kl_int_t hi, lo;

    enum {
        sw_usual = 0,
        sw_quoted,
        sw_quoted_second
    } state;

    d = p;
    s = p;
    end = p + len;
    hi = 0;
    state = sw_usual;

    while (s < end) {
        ch = *s++;

        switch (state) {

        case sw_usual:
            if (ch == '?') {
                *d++ = ch;
                goto done;
            }

            if (ch == '%') {
                state = sw_quoted;
                break;
            }

            *d++ = ch;
            break;

        case sw_quoted:
            hi = kl_http_rewrite_hex(ch);

            if (hi >= 0) {
                state = sw_quoted_second;
                break;
            }

            /* nginx drops the '%' of an invalid escape. */
            state = sw_usual;
            *d++ = ch;
            break;

        case sw_quoted_second:
            state = sw_usual;
            lo = kl_http_rewrite_hex(ch);

            if (lo < 0) {
                /* ... and all of "%X?" when the second digit is bad. */
                break;
            }

            ch = (u_char) ((hi << 4) + lo);

            if (ch == '?') {
                *d++ = ch;
                goto done;
            }

            if (ch > '%' && ch < 0x7f) {
                *d++ = ch;
                break;
            }

            /* d is at least 3 behind s: the escape is copied back as is. */
            *d++ = '%';
            *d++ = s[-2];
            *d++ = s[-1];
            break;
        }
    }

    return (size_t) (d - p);

done:

    if (s < end) {
        memmove(d, s, (size_t) (end - s));
        d += end - s;
    }

    return (size_t) (d - p);
}
