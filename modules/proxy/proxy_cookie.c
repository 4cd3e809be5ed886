/*
 * proxy_cookie.c: proxy_cookie_domain, proxy_cookie_path and
 * proxy_cookie_flags, as nginx applies them to each Set-Cookie field
 * of a proxied response.
 *
 * A value is split at ';' into trimmed attributes; one that a rule
 * changes makes the value rebuilt with "; " between the attributes (an
 * untouched value goes out byte for byte). A Domain's leading dot is
 * kept aside: the rule sees the name after it, compared without case,
 * and the dot stays in front of the replacement. A Path rule replaces
 * a matching prefix (a regex: the whole value). A flags rule names the
 * cookie without case (a "~" regex too) and always rebuilds the value,
 * as nginx does, even when its flags were all there already.
 */

#include "kl_http.h"
#include "proxy_cookie.h"


static kl_http_regex_t *
kl_http_proxy_cookie_regex(kl_conf_t *cf, kl_str_t *text, kl_uint_t caseless);
static kl_int_t  kl_http_proxy_cookie_domain(kl_http_request_t *r,
                                             kl_array_t *rules, kl_str_t *value);
static kl_int_t  kl_http_proxy_cookie_path(kl_http_request_t *r,
                                           kl_array_t *rules, kl_str_t *value);
static kl_int_t  kl_http_proxy_cookie_flags(kl_http_request_t           *r,
                                            kl_array_t                  *rules,
                                            kl_http_proxy_cookie_attr_t *name,
                                            kl_uint_t                   *flags);
static kl_uint_t kl_http_proxy_cookie_is(kl_str_t *key, const char *name,
                                         size_t len);


#define kl_http_proxy_cookie_ws(c) ((c) == ' ' || (c) == '\t')


kl_int_t
kl_http_proxy_cookie_split(u_char *p, u_char *last,
                           kl_http_proxy_cookie_attr_t *attrs)
{
    u_char                      *end, *eq, *s, *e;
    kl_uint_t                    n;
    kl_http_proxy_cookie_attr_t *a;

    n = 0;

    for (;;) {
        end = memchr(p, ';', last - p);
        if (end == NULL) {
            end = last;
        }

        for (s = p; s < end && kl_http_proxy_cookie_ws(*s); s++) {
            /* leading spaces */
        }

        for (e = end; e > s && kl_http_proxy_cookie_ws(e[-1]); e--) {
            /* trailing spaces */
        }

        a = &attrs[n++];
        eq = memchr(s, '=', e - s);

        if (eq == NULL) {
            a->key.data = s;
            a->key.len = e - s;
            kl_str_null(&a->value);
            a->has_value = 0;

            if (n == 1) {
                return KL_ERROR;
            }

        } else {
            a->key.data = s;
            a->key.len = eq - s;
            a->value.data = eq + 1;
            a->value.len = e - eq - 1;
            a->has_value = 1;

            while (a->key.len && kl_http_proxy_cookie_ws(s[a->key.len - 1])) {
                a->key.len--;
            }

            while (a->value.len && kl_http_proxy_cookie_ws(*a->value.data)) {
                a->value.data++;
                a->value.len--;
            }
        }

        if (end == last) {
            return (kl_int_t) n;
        }

        p = end + 1;
    }
}


kl_uint_t
kl_http_proxy_cookie_flag(kl_str_t *text)
{
    static const struct {
        const char *name;
        kl_uint_t   flag;
    } flags[] = {
        { "secure", KL_HTTP_PROXY_COOKIE_SECURE },
        { "nosecure", KL_HTTP_PROXY_COOKIE_NOSECURE },
        { "httponly", KL_HTTP_PROXY_COOKIE_HTTPONLY },
        { "nohttponly", KL_HTTP_PROXY_COOKIE_NOHTTPONLY },
        { "samesite=strict", KL_HTTP_PROXY_COOKIE_SAMESITE_STRICT },
        { "samesite=lax", KL_HTTP_PROXY_COOKIE_SAMESITE_LAX },
        { "samesite=none", KL_HTTP_PROXY_COOKIE_SAMESITE_NONE },
        { "nosamesite", KL_HTTP_PROXY_COOKIE_NOSAMESITE },
    };

    kl_uint_t i;

    for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
        if (strlen(flags[i].name) == text->len
            && kl_strncasecmp(text->data, (u_char *) flags[i].name, text->len)
                   == 0)
        {
            return flags[i].flag;
        }
    }

    return 0;
}


static kl_uint_t
kl_http_proxy_cookie_is(kl_str_t *key, const char *name, size_t len)
{
    return key->len == len
           && kl_strncasecmp(key->data, (u_char *) name, len) == 0;
}


/* Remove every attribute named name (the cookie itself stays). */
static void
kl_http_proxy_cookie_remove(kl_http_proxy_cookie_attr_t *attrs, kl_uint_t *n,
                            const char *name, size_t len)
{
    kl_uint_t i, w;

    for (i = 1, w = 1; i < *n; i++) {
        if (!kl_http_proxy_cookie_is(&attrs[i].key, name, len)) {
            attrs[w++] = attrs[i];
        }
    }

    *n = w;
}


/* The attribute named name, added as name when missing. */
static kl_http_proxy_cookie_attr_t *
kl_http_proxy_cookie_find(kl_http_proxy_cookie_attr_t *attrs, kl_uint_t *n,
                          const char *name, size_t len, kl_uint_t add)
{
    kl_uint_t i;

    for (i = 1; i < *n; i++) {
        if (kl_http_proxy_cookie_is(&attrs[i].key, name, len)) {
            return &attrs[i];
        }
    }

    if (!add) {
        return NULL;
    }

    attrs[*n].key.data = (u_char *) name;
    attrs[*n].key.len = len;
    kl_str_null(&attrs[*n].value);
    attrs[*n].has_value = 0;

    return &attrs[(*n)++];
}


void
kl_http_proxy_cookie_set_flags(kl_http_proxy_cookie_attr_t *attrs, kl_uint_t *n,
                               kl_uint_t flags)
{
    kl_http_proxy_cookie_attr_t *a;

    if (flags & KL_HTTP_PROXY_COOKIE_NOSECURE) {
        kl_http_proxy_cookie_remove(attrs, n, "secure", 6);

    } else if (flags & KL_HTTP_PROXY_COOKIE_SECURE) {
        if (kl_http_proxy_cookie_find(attrs, n, "secure", 6, 0) == NULL) {
            kl_http_proxy_cookie_find(attrs, n, "Secure", 6, 1);
        }
    }

    if (flags & KL_HTTP_PROXY_COOKIE_NOHTTPONLY) {
        kl_http_proxy_cookie_remove(attrs, n, "httponly", 8);

    } else if (flags & KL_HTTP_PROXY_COOKIE_HTTPONLY) {
        if (kl_http_proxy_cookie_find(attrs, n, "httponly", 8, 0) == NULL) {
            kl_http_proxy_cookie_find(attrs, n, "HttpOnly", 8, 1);
        }
    }

    if (flags & KL_HTTP_PROXY_COOKIE_NOSAMESITE) {
        kl_http_proxy_cookie_remove(attrs, n, "samesite", 8);
        return;
    }

    if (!(flags & KL_HTTP_PROXY_COOKIE_SAMESITE)) {
        return;
    }

    a = kl_http_proxy_cookie_find(attrs, n, "samesite", 8, 0);
    if (a == NULL) {
        a = kl_http_proxy_cookie_find(attrs, n, "SameSite", 8, 1);
    }

    a->has_value = 1;

    if (flags & KL_HTTP_PROXY_COOKIE_SAMESITE_STRICT) {
        kl_str_set(&a->value, "Strict");

    } else if (flags & KL_HTTP_PROXY_COOKIE_SAMESITE_LAX) {
        kl_str_set(&a->value, "Lax");

    } else {
        kl_str_set(&a->value, "None");
    }
}


size_t
kl_http_proxy_cookie_len(kl_http_proxy_cookie_attr_t *attrs, kl_uint_t n)
{
    size_t    len;
    kl_uint_t i;

    len = 0;

    for (i = 0; i < n; i++) {
        len += (i ? 2 : 0) + attrs[i].key.len
               + (attrs[i].has_value ? 1 + attrs[i].value.len : 0);
    }

    return len;
}


u_char *
kl_http_proxy_cookie_join(u_char *buf, kl_http_proxy_cookie_attr_t *attrs,
                          kl_uint_t n)
{
    kl_uint_t i;

    for (i = 0; i < n; i++) {
        if (i) {
            *buf++ = ';';
            *buf++ = ' ';
        }

        buf = kl_cpymem(buf, attrs[i].key.data, attrs[i].key.len);

        if (attrs[i].has_value) {
            *buf++ = '=';
            buf = kl_cpymem(buf, attrs[i].value.data, attrs[i].value.len);
        }
    }

    return buf;
}


kl_int_t
kl_http_proxy_cookie_rewrite(kl_http_request_t *r, kl_table_elt_t *h,
                             kl_array_t *domains, kl_array_t *paths,
                             kl_array_t *flags)
{
    u_char                      *p;
    kl_int_t                     rc, n;
    kl_uint_t                    i, nattrs, changed, bits;
    kl_http_proxy_cookie_attr_t *attrs;

    /* One attribute per ';' and one more, and room for three flags. */
    for (nattrs = 1, i = 0; i < h->value.len; i++) {
        nattrs += h->value.data[i] == ';';
    }

    attrs =
        kl_palloc(r->pool, (nattrs + 3) * sizeof(kl_http_proxy_cookie_attr_t));
    if (attrs == NULL) {
        return KL_ERROR;
    }

    n = kl_http_proxy_cookie_split(h->value.data, h->value.data + h->value.len,
                                   attrs);
    if (n == KL_ERROR) {
        return KL_OK;
    }

    nattrs = (kl_uint_t) n;
    changed = 0;

    for (i = 1; i < nattrs; i++) {
        rc = KL_DECLINED;

        if (domains && kl_http_proxy_cookie_is(&attrs[i].key, "domain", 6)) {
            rc = kl_http_proxy_cookie_domain(r, domains, &attrs[i].value);

        } else if (paths && kl_http_proxy_cookie_is(&attrs[i].key, "path", 4)) {
            rc = kl_http_proxy_cookie_path(r, paths, &attrs[i].value);
        }

        if (rc == KL_ERROR) {
            return KL_ERROR;
        }

        if (rc == KL_OK) {
            changed = 1;
        }
    }

    if (flags) {
        rc = kl_http_proxy_cookie_flags(r, flags, &attrs[0], &bits);

        if (rc == KL_ERROR) {
            return KL_ERROR;
        }

        if (rc == KL_OK) {
            kl_http_proxy_cookie_set_flags(attrs, &nattrs, bits);
            changed = 1;
        }
    }

    if (!changed) {
        return KL_OK;
    }

    p = kl_pnalloc(r->pool, kl_http_proxy_cookie_len(attrs, nattrs));
    if (p == NULL) {
        return KL_ERROR;
    }

    h->value.len = kl_http_proxy_cookie_join(p, attrs, nattrs) - p;
    h->value.data = p;

    return KL_OK;
}


/* A leading dot of a domain, as nginx: kept aside, never compared. */
static void
kl_http_proxy_cookie_undot(kl_str_t *s)
{
    if (s->len && s->data[0] == '.') {
        s->data++;
        s->len--;
    }
}


static kl_int_t
kl_http_proxy_cookie_domain(kl_http_request_t *r, kl_array_t *rules,
                            kl_str_t *value)
{
    u_char                         *p;
    kl_int_t                        rc;
    kl_str_t                        v, pattern, to;
    kl_uint_t                       i, dot;
    kl_http_proxy_cookie_rewrite_t *rule;

    v = *value;
    dot = v.len && v.data[0] == '.';
    kl_http_proxy_cookie_undot(&v);
    rule = rules->elts;

    for (i = 0; i < rules->nelts; i++) {
        if (rule[i].regex) {
            rc = kl_http_regex_exec(r, rule[i].regex, &v);

            if (rc == KL_ERROR) {
                return KL_ERROR;
            }

            if (rc == KL_DECLINED) {
                continue;
            }

        } else {
            if (kl_http_complex_value(r, rule[i].pattern, &pattern) != KL_OK) {
                return KL_ERROR;
            }

            kl_http_proxy_cookie_undot(&pattern);

            if (pattern.len != v.len
                || kl_strncasecmp(pattern.data, v.data, v.len) != 0) {
                continue;
            }
        }

        if (kl_http_complex_value(r, rule[i].replacement, &to) != KL_OK) {
            return KL_ERROR;
        }

        kl_http_proxy_cookie_undot(&to);

        p = kl_pnalloc(r->pool, to.len + 1);
        if (p == NULL) {
            return KL_ERROR;
        }

        p[0] = '.';
        kl_memcpy(p + 1, to.data, to.len);
        value->data = dot ? p : p + 1;
        value->len = to.len + dot;

        return KL_OK;
    }

    return KL_DECLINED;
}


static kl_int_t
kl_http_proxy_cookie_path(kl_http_request_t *r, kl_array_t *rules,
                          kl_str_t *value)
{
    u_char                         *p;
    size_t                          cut;
    kl_int_t                        rc;
    kl_str_t                        pattern, to;
    kl_uint_t                       i;
    kl_http_proxy_cookie_rewrite_t *rule;

    rule = rules->elts;

    for (i = 0; i < rules->nelts; i++) {
        if (rule[i].regex) {
            rc = kl_http_regex_exec(r, rule[i].regex, value);

            if (rc == KL_ERROR) {
                return KL_ERROR;
            }

            if (rc == KL_DECLINED) {
                continue;
            }

            cut = value->len;

        } else {
            if (kl_http_complex_value(r, rule[i].pattern, &pattern) != KL_OK) {
                return KL_ERROR;
            }

            if (pattern.len > value->len
                || kl_strncmp(value->data, pattern.data, pattern.len) != 0)
            {
                continue;
            }

            cut = pattern.len;
        }

        if (kl_http_complex_value(r, rule[i].replacement, &to) != KL_OK) {
            return KL_ERROR;
        }

        p = kl_pnalloc(r->pool, to.len + value->len - cut);
        if (p == NULL) {
            return KL_ERROR;
        }

        kl_memcpy(p, to.data, to.len);
        kl_memcpy(p + to.len, value->data + cut, value->len - cut);
        value->data = p;
        value->len = to.len + value->len - cut;

        return KL_OK;
    }

    return KL_DECLINED;
}


/* The flags of the first rule naming the cookie: KL_OK, KL_DECLINED. */
static kl_int_t
kl_http_proxy_cookie_flags(kl_http_request_t *r, kl_array_t *rules,
                           kl_http_proxy_cookie_attr_t *name, kl_uint_t *flags)
{
    kl_int_t                      rc;
    kl_str_t                      s;
    kl_uint_t                     i, j, bit;
    kl_http_complex_value_t      *cv;
    kl_http_proxy_cookie_flags_t *rule;

    rule = rules->elts;

    for (i = 0; i < rules->nelts; i++) {
        if (rule[i].regex) {
            rc = kl_http_regex_exec(r, rule[i].regex, &name->key);

            if (rc == KL_ERROR) {
                return KL_ERROR;
            }

            if (rc == KL_DECLINED) {
                continue;
            }

        } else {
            if (kl_http_complex_value(r, rule[i].name, &s) != KL_OK) {
                return KL_ERROR;
            }

            if (s.len != name->key.len
                || kl_strncasecmp(s.data, name->key.data, s.len) != 0)
            {
                continue;
            }
        }

        *flags = 0;
        cv = rule[i].flags->elts;

        for (j = 0; j < rule[i].flags->nelts; j++) {
            if (kl_http_complex_value(r, &cv[j], &s) != KL_OK) {
                return KL_ERROR;
            }

            bit = kl_http_proxy_cookie_flag(&s);

            if (bit == 0 && s.len) {
                kl_log_error(KL_LOG_ERR, r->connection->log, 0,
                             "invalid proxy_cookie_flags flag \"%V\"", &s);
            }

            *flags |= bit;
        }

        return KL_OK;
    }

    return KL_DECLINED;
}


static kl_http_regex_t *
kl_http_proxy_cookie_regex(kl_conf_t *cf, kl_str_t *text, kl_uint_t caseless)
{
    u_char             errstr[KL_MAX_CONF_ERRSTR];
    kl_regex_compile_t rc;

    kl_memzero(&rc, sizeof(kl_regex_compile_t));
    rc.pattern.data = text->data + 1;
    rc.pattern.len = text->len - 1;

    if (rc.pattern.len && rc.pattern.data[0] == '*') {
        rc.pattern.data++;
        rc.pattern.len--;
        caseless = 1;
    }

    rc.options = caseless ? KL_REGEX_CASELESS : 0;
    rc.pool = cf->pool;
    rc.err.data = errstr;
    rc.err.len = sizeof(errstr);

    return kl_http_regex_compile(cf, &rc);
}


char *
kl_http_proxy_cookie_rewrite_slot(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_str_t                       *value, from, to;
    kl_uint_t                       domain;
    kl_array_t                    **a;
    kl_http_proxy_cookie_rewrite_t *rule;

    a = (kl_array_t **) ((char *) conf + cmd->offset);
    value = cf->args->elts;
    domain = cmd->name.len == sizeof("proxy_cookie_domain") - 1;

    if (cf->args->nelts == 2) {
        if (value[1].len != 3 || kl_strncmp(value[1].data, "off", 3) != 0) {
            return "invalid parameter";
        }

        if (*a != KL_CONF_UNSET_PTR) {
            return "is duplicate";
        }

        *a = NULL;
        return KL_CONF_OK;
    }

    if (*a == NULL) {
        return "is duplicate";
    }

    if (*a == KL_CONF_UNSET_PTR) {
        *a = kl_array_create(cf->pool, 2,
                             sizeof(kl_http_proxy_cookie_rewrite_t));
        if (*a == NULL) {
            return KL_CONF_ERROR;
        }
    }

    rule = kl_array_push(*a);
    if (rule == NULL) {
        return KL_CONF_ERROR;
    }

    kl_memzero(rule, sizeof(kl_http_proxy_cookie_rewrite_t));
    from = value[1];
    to = value[2];

    if (domain && to.len && to.data[0] == '.') {
        to.data++;
        to.len--;
    }

    rule->replacement = kl_http_compile_value(cf, &to);
    if (rule->replacement == NULL) {
        return KL_CONF_ERROR;
    }

    /* A domain's regex is without case, a path's with ("~*": without). */
    if (from.len && from.data[0] == '~') {
        rule->regex = kl_http_proxy_cookie_regex(cf, &from, domain);
        return rule->regex ? KL_CONF_OK : KL_CONF_ERROR;
    }

    if (domain && from.len && from.data[0] == '.') {
        from.data++;
        from.len--;
    }

    rule->pattern = kl_http_compile_value(cf, &from);

    return rule->pattern ? KL_CONF_OK : KL_CONF_ERROR;
}


char *
kl_http_proxy_cookie_flags_slot(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_str_t                     *value;
    kl_uint_t                     i;
    kl_array_t                  **a;
    kl_http_complex_value_t      *cv, *f;
    kl_http_proxy_cookie_flags_t *rule;

    a = (kl_array_t **) ((char *) conf + cmd->offset);
    value = cf->args->elts;

    if (cf->args->nelts == 2 && value[1].len == 3
        && kl_strncmp(value[1].data, "off", 3) == 0)
    {
        if (*a != KL_CONF_UNSET_PTR) {
            return "is duplicate";
        }

        *a = NULL;
        return KL_CONF_OK;
    }

    if (*a == NULL) {
        return "is duplicate";
    }

    if (*a == KL_CONF_UNSET_PTR) {
        *a = kl_array_create(cf->pool, 2, sizeof(kl_http_proxy_cookie_flags_t));
        if (*a == NULL) {
            return KL_CONF_ERROR;
        }
    }

    rule = kl_array_push(*a);
    if (rule == NULL) {
        return KL_CONF_ERROR;
    }

    kl_memzero(rule, sizeof(kl_http_proxy_cookie_flags_t));

    rule->flags = kl_array_create(cf->pool, cf->args->nelts,
                                  sizeof(kl_http_complex_value_t));
    if (rule->flags == NULL) {
        return KL_CONF_ERROR;
    }

    for (i = 2; i < cf->args->nelts; i++) {
        /* A flag without variables is known now; one with, per request. */
        if (kl_http_script_variables_count(&value[i]) == 0
            && kl_http_proxy_cookie_flag(&value[i]) == 0)
        {
            kl_conf_log_error(KL_LOG_EMERG, cf, 0, "invalid parameter \"%V\"",
                              &value[i]);
            return KL_CONF_ERROR;
        }

        cv = kl_http_compile_value(cf, &value[i]);
        f = kl_array_push(rule->flags);
        if (cv == NULL || f == NULL) {
            return KL_CONF_ERROR;
        }

        *f = *cv;
    }

    /* The name's regex is without case, as nginx's. */
    if (value[1].len && value[1].data[0] == '~') {
        rule->regex = kl_http_proxy_cookie_regex(cf, &value[1], 1);
        return rule->regex ? KL_CONF_OK : KL_CONF_ERROR;
    }

    rule->name = kl_http_compile_value(cf, &value[1]);

    return rule->name ? KL_CONF_OK : KL_CONF_ERROR;
}
