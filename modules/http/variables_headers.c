/*
 * variables_headers.c: the core variables read from header fields,
 * cookies and arguments: $http_host, $http_user_agent, ..., $remote_user,
 * the $sent_http_ fields the engine makes itself (Content-Type,
 * Connection...), and the prefixes that name a whole family: $http_,
 * $sent_http_, $sent_trailer_, $cookie_, $arg_.
 *
 * Repeated fields join as nginx >= 1.23 joins them: ", " between the
 * values, "; " between Cookie fields.
 */

#include "kl_http.h"


static kl_int_t kl_http_variable_header(kl_http_request_t        *r,
                                        kl_http_variable_value_t *v,
                                        uintptr_t                 data);
static kl_int_t kl_http_variable_headers(kl_http_request_t        *r,
                                         kl_http_variable_value_t *v,
                                         uintptr_t                 data);
static kl_int_t kl_http_variable_unknown_in(kl_http_request_t        *r,
                                            kl_http_variable_value_t *v,
                                            uintptr_t                 data);
static kl_int_t kl_http_variable_unknown_out(kl_http_request_t        *r,
                                             kl_http_variable_value_t *v,
                                             uintptr_t                 data);
static kl_int_t kl_http_variable_sent_trailer(kl_http_request_t        *r,
                                              kl_http_variable_value_t *v,
                                              uintptr_t                 data);
static kl_int_t kl_http_variable_cookie(kl_http_request_t        *r,
                                        kl_http_variable_value_t *v,
                                        uintptr_t                 data);
static kl_int_t kl_http_variable_argument(kl_http_request_t        *r,
                                          kl_http_variable_value_t *v,
                                          uintptr_t                 data);
static kl_int_t kl_http_variable_sent(kl_http_request_t        *r,
                                      kl_http_variable_value_t *v,
                                      uintptr_t                 data);
static kl_int_t kl_http_variable_remote_user(kl_http_request_t        *r,
                                             kl_http_variable_value_t *v,
                                             uintptr_t                 data);


/* What kl_http_variable_sent computes. */
enum {
    KL_HTTP_VAR_SENT_CONTENT_TYPE = 0,
    KL_HTTP_VAR_SENT_CONTENT_LENGTH,
    KL_HTTP_VAR_SENT_LOCATION,
    KL_HTTP_VAR_SENT_LAST_MODIFIED,
    KL_HTTP_VAR_SENT_CONNECTION,
    KL_HTTP_VAR_SENT_KEEP_ALIVE,
    KL_HTTP_VAR_SENT_TRANSFER_ENCODING
};


#define kl_http_var(nm, get, data, flags)                                      \
    {                                                                          \
        kl_string(nm), NULL, get, data, flags, 0                               \
    }

#define kl_http_var_h(nm, field)                                               \
    kl_http_var(nm, kl_http_variable_header,                                   \
                offsetof(kl_http_request_t, headers_in.field), 0)

#define kl_http_var_hs(nm, field)                                              \
    kl_http_var(nm, kl_http_variable_headers,                                  \
                offsetof(kl_http_request_t, headers_in.field), 0)

#define kl_http_var_sent(nm, what)                                             \
    kl_http_var(nm, kl_http_variable_sent, what, 0)

static kl_http_variable_t kl_http_header_variables[] = {
    /* Host and Content-Type come once (a repeat is a 400). */
    kl_http_var_h("http_host", host),
    kl_http_var_h("content_type", content_type),
    /* Repeats joined, as nginx >= 1.23 (1.22 joined only the last two). */
    kl_http_var_hs("http_user_agent", user_agent),
    kl_http_var_hs("http_referer", referer),
    kl_http_var_hs("http_x_forwarded_for", x_forwarded_for),
    kl_http_var_hs("http_cookie", cookie),

    kl_http_var("remote_user", kl_http_variable_remote_user, 0, 0),

    kl_http_var_sent("sent_http_content_type", KL_HTTP_VAR_SENT_CONTENT_TYPE),
    kl_http_var_sent("sent_http_content_length",
                     KL_HTTP_VAR_SENT_CONTENT_LENGTH),
    kl_http_var_sent("sent_http_location", KL_HTTP_VAR_SENT_LOCATION),
    kl_http_var_sent("sent_http_last_modified", KL_HTTP_VAR_SENT_LAST_MODIFIED),
    kl_http_var_sent("sent_http_connection", KL_HTTP_VAR_SENT_CONNECTION),
    kl_http_var_sent("sent_http_keep_alive", KL_HTTP_VAR_SENT_KEEP_ALIVE),
    kl_http_var_sent("sent_http_transfer_encoding",
                     KL_HTTP_VAR_SENT_TRANSFER_ENCODING),

    /* The prefixes: each handler gets a kl_http_variable_prefix_t. */
    kl_http_var("http_", kl_http_variable_unknown_in, 0, KL_HTTP_VAR_PREFIX),
    kl_http_var("sent_http_", kl_http_variable_unknown_out, 0,
                KL_HTTP_VAR_PREFIX),
    kl_http_var("sent_trailer_", kl_http_variable_sent_trailer, 0,
                KL_HTTP_VAR_PREFIX),
    kl_http_var("cookie_", kl_http_variable_cookie, 0, KL_HTTP_VAR_PREFIX),
    kl_http_var("arg_", kl_http_variable_argument, 0,
                KL_HTTP_VAR_PREFIX | KL_HTTP_VAR_NOCACHEABLE),

    kl_http_null_variable
};


kl_int_t
kl_http_variables_headers_add(kl_conf_t *cf)
{
    kl_http_variable_t *hv, *v;

    for (hv = kl_http_header_variables; hv->name.len; hv++) {
        v = kl_http_add_variable(cf, &hv->name, hv->flags);
        if (v == NULL) {
            return KL_ERROR;
        }

        v->get_handler = hv->get_handler;
        v->data = hv->data;
    }

    return KL_OK;
}


static kl_int_t
kl_http_variable_header(kl_http_request_t *r, kl_http_variable_value_t *v,
                        uintptr_t data)
{
    kl_table_elt_t *h;

    h = *(kl_table_elt_t **) ((char *) r + data);

    if (h == NULL) {
        v->not_found = 1;
        return KL_OK;
    }

    kl_http_variable_set(v, h->value.data, h->value.len);

    return KL_OK;
}


/* Every field of a name, joined: "a, b" (X-Forwarded-For), "a; b" (Cookie). */
static kl_int_t
kl_http_variable_headers(kl_http_request_t *r, kl_http_variable_value_t *v,
                         uintptr_t data)
{
    size_t          len;
    u_char         *p, sep;
    kl_table_elt_t *h, *th;

    h = *(kl_table_elt_t **) ((char *) r + data);
    sep = (data == offsetof(kl_http_request_t, headers_in.cookie)) ? ';' : ',';

    if (h == NULL) {
        v->not_found = 1;
        return KL_OK;
    }

    if (h->next == NULL) {
        kl_http_variable_set(v, h->value.data, h->value.len);
        return KL_OK;
    }

    len = 0;

    for (th = h; th; th = th->next) {
        len += th->value.len + 2;
    }

    p = kl_pnalloc(r->pool, len);
    if (p == NULL) {
        return KL_ERROR;
    }

    kl_http_variable_set(v, p, len - 2);

    for (th = h; th; th = th->next) {
        p = kl_cpymem(p, th->value.data, th->value.len);

        if (th->next) {
            *p++ = sep;
            *p++ = ' ';
        }
    }

    return KL_OK;
}


/* Does the field name key match name ('_' for '-', without case)? */
static kl_uint_t
kl_http_variable_header_match(kl_str_t *key, kl_str_t *name)
{
    u_char ch;
    size_t n;

    if (key->len != name->len) {
        return 0;
    }

    for (n = 0; n < name->len; n++) {
        ch = key->data[n];

        if (ch >= 'A' && ch <= 'Z') {
            ch |= 0x20;

        } else if (ch == '-') {
            ch = '_';
        }

        if (name->data[n] != ch) {
            return 0;
        }
    }

    return 1;
}


kl_int_t
kl_http_variable_unknown_header(kl_http_request_t        *r,
                                kl_http_variable_value_t *v, kl_str_t *name,
                                kl_list_t *headers)
{
    u_char         *p, sep;
    size_t          len;
    kl_uint_t       i, pass, found;
    kl_list_part_t *part;
    kl_table_elt_t *h;

    sep = (name->len == sizeof("cookie") - 1
           && kl_strncmp(name->data, "cookie", sizeof("cookie") - 1) == 0)
              ? ';'
              : ',';
    len = 0;
    p = NULL;

    /* Pass 0 measures; pass 1, when more than one field matched, joins. */
    for (pass = 0; pass < 2; pass++) {
        found = 0;
        part = &headers->part;
        h = part->elts;

        for (i = 0; /* void */; i++) {

            if (i >= part->nelts) {
                if (part->next == NULL) {
                    break;
                }

                part = part->next;
                h = part->elts;
                i = 0;
            }

            if (h[i].hash == 0
                || !kl_http_variable_header_match(&h[i].key, name)) {
                continue;
            }

            if (pass == 0) {
                if (found++ == 0) {
                    kl_http_variable_set(v, h[i].value.data, h[i].value.len);
                }

                len += h[i].value.len + 2;
                continue;
            }

            if (found++) {
                *p++ = sep;
                *p++ = ' ';
            }

            p = kl_cpymem(p, h[i].value.data, h[i].value.len);
        }

        if (pass == 1) {
            break;
        }

        if (found == 0) {
            v->not_found = 1;
            return KL_OK;
        }

        if (found == 1) {
            return KL_OK;
        }

        p = kl_pnalloc(r->pool, len - 2);
        if (p == NULL) {
            return KL_ERROR;
        }

        kl_http_variable_set(v, p, len - 2);
    }

    return KL_OK;
}


static kl_int_t
kl_http_variable_prefixed_header(kl_http_request_t        *r,
                                 kl_http_variable_value_t *v, uintptr_t data,
                                 kl_list_t *headers)
{
    kl_str_t                   name;
    kl_http_variable_prefix_t *pd;

    pd = (kl_http_variable_prefix_t *) data;
    name.data = pd->name.data + pd->prefix;
    name.len = pd->name.len - pd->prefix;

    return kl_http_variable_unknown_header(r, v, &name, headers);
}


static kl_int_t
kl_http_variable_unknown_in(kl_http_request_t *r, kl_http_variable_value_t *v,
                            uintptr_t data)
{
    return kl_http_variable_prefixed_header(r, v, data, &r->headers_in.headers);
}


static kl_int_t
kl_http_variable_unknown_out(kl_http_request_t *r, kl_http_variable_value_t *v,
                             uintptr_t data)
{
    return kl_http_variable_prefixed_header(r, v, data,
                                            &r->headers_out.headers);
}


static kl_int_t
kl_http_variable_sent_trailer(kl_http_request_t *r, kl_http_variable_value_t *v,
                              uintptr_t data)
{
    return kl_http_variable_prefixed_header(r, v, data,
                                            &r->headers_out.trailers);
}


/* nginx's cookie lookup: "name=value" pairs split at ';' or ','. */
static kl_int_t
kl_http_variable_cookie(kl_http_request_t *r, kl_http_variable_value_t *v,
                        uintptr_t data)
{
    u_char                    *start, *end, *last, ch;
    size_t                     len;
    kl_table_elt_t            *h;
    kl_http_variable_prefix_t *pd;

    pd = (kl_http_variable_prefix_t *) data;
    len = pd->name.len - pd->prefix;

    for (h = r->headers_in.cookie; h; h = h->next) {
        start = h->value.data;
        end = h->value.data + h->value.len;

        while (start < end) {

            if ((size_t) (end - start) >= len
                && kl_strncasecmp(start, pd->name.data + pd->prefix, len) == 0)
            {
                for (start += len; start < end && *start == ' '; start++) {
                    /* void */
                }

                if (start < end && *start++ == '=') {
                    while (start < end && *start == ' ') {
                        start++;
                    }

                    for (last = start; last < end && *last != ';'; last++) {
                        /* void */
                    }

                    kl_http_variable_set(v, start, last - start);
                    return KL_OK;
                }
            }

            while (start < end) {
                ch = *start++;

                if (ch == ';' || ch == ',') {
                    break;
                }
            }

            while (start < end && *start == ' ') {
                start++;
            }
        }
    }

    v->not_found = 1;

    return KL_OK;
}


kl_int_t
kl_http_arg(kl_http_request_t *r, u_char *name, size_t len, kl_str_t *value)
{
    u_char *p, *last;

    if (len == 0 || r->args.len == 0) {
        return KL_DECLINED;
    }

    p = r->args.data;
    last = p + r->args.len;

    /* At each argument's start: the name, then '='. */
    while (p < last) {
        if ((size_t) (last - p) > len && p[len] == '='
            && kl_strncasecmp(p, name, len) == 0)
        {
            value->data = p + len + 1;

            for (p = value->data; p < last && *p != '&'; p++) {
                /* void */
            }

            value->len = p - value->data;
            return KL_OK;
        }

        while (p < last && *p++ != '&') {
            /* void */
        }
    }

    return KL_DECLINED;
}


static kl_int_t
kl_http_variable_argument(kl_http_request_t *r, kl_http_variable_value_t *v,
                          uintptr_t data)
{
    kl_str_t                   value;
    kl_http_variable_prefix_t *pd;

    pd = (kl_http_variable_prefix_t *) data;

    if (kl_http_arg(r, pd->name.data + pd->prefix, pd->name.len - pd->prefix,
                    &value)
        != KL_OK)
    {
        v->not_found = 1;
        return KL_OK;
    }

    kl_http_variable_set(v, value.data, value.len);

    return KL_OK;
}


static kl_int_t
kl_http_variable_sent(kl_http_request_t *r, kl_http_variable_value_t *v,
                      uintptr_t data)
{
    u_char                  *p;
    size_t                   len;
    kl_str_t                 s;
    kl_table_elt_t          *h;
    kl_http_core_loc_conf_t *clcf;

    kl_str_null(&s);
    h = NULL;

    switch (data) {

    case KL_HTTP_VAR_SENT_CONTENT_TYPE:
        if (r->headers_out.content_type.len == 0) {
            break;
        }

        if (r->headers_out.charset.len == 0) {
            s = r->headers_out.content_type;
            break;
        }

        len = r->headers_out.content_type.len + sizeof("; charset=") - 1
              + r->headers_out.charset.len;

        p = kl_pnalloc(r->pool, len);
        if (p == NULL) {
            return KL_ERROR;
        }

        s.data = p;
        s.len = len;
        p = kl_cpymem(p, r->headers_out.content_type.data,
                      r->headers_out.content_type.len);
        p = kl_cpymem(p, "; charset=", sizeof("; charset=") - 1);
        kl_memcpy(p, r->headers_out.charset.data, r->headers_out.charset.len);
        break;

    case KL_HTTP_VAR_SENT_CONTENT_LENGTH:
        h = r->headers_out.content_length;

        if (h == NULL && r->headers_out.content_length_n >= 0) {
            p = kl_pnalloc(r->pool, KL_INT_T_LEN);
            if (p == NULL) {
                return KL_ERROR;
            }

            s.data = p;
            s.len = kl_slprintf(p, p + KL_INT_T_LEN, "%O",
                                r->headers_out.content_length_n)
                    - p;
        }
        break;

    case KL_HTTP_VAR_SENT_LOCATION:
        h = r->headers_out.location;

        /* A proxied relative Location is only in the list (nginx too). */
        if (h == NULL) {
            kl_str_set(&s, "location");
            return kl_http_variable_unknown_header(r, v, &s,
                                                   &r->headers_out.headers);
        }
        break;

    case KL_HTTP_VAR_SENT_LAST_MODIFIED:
        h = r->headers_out.last_modified;

        if (h == NULL && r->headers_out.last_modified_time >= 0) {
            p = kl_pnalloc(r->pool, sizeof("Mon, 28 Sep 1970 06:00:00 GMT"));
            if (p == NULL) {
                return KL_ERROR;
            }

            s.data = p;
            s.len = kl_http_time(p, r->headers_out.last_modified_time) - p;
        }
        break;

    case KL_HTTP_VAR_SENT_CONNECTION:
        if (r->keepalive) {
            kl_str_set(&s, "keep-alive");
        } else {
            kl_str_set(&s, "close");
        }
        break;

    case KL_HTTP_VAR_SENT_KEEP_ALIVE:
        clcf = kl_http_get_module_loc_conf(r, kl_http_core_module);

        if (r->keepalive && clcf->keepalive_header) {
            p = kl_pnalloc(r->pool, sizeof("timeout=") + KL_INT_T_LEN);
            if (p == NULL) {
                return KL_ERROR;
            }

            s.data = p;
            s.len = kl_slprintf(p, p + sizeof("timeout=") + KL_INT_T_LEN,
                                "timeout=%T", clcf->keepalive_header)
                    - p;
        }
        break;

    default: /* KL_HTTP_VAR_SENT_TRANSFER_ENCODING */
        if (r->chunked) {
            kl_str_set(&s, "chunked");
        }
        break;
    }

    if (h) {
        s = h->value;
    }

    if (s.data == NULL) {
        v->not_found = 1;
        return KL_OK;
    }

    kl_http_variable_set(v, s.data, s.len);

    return KL_OK;
}


/* The user of "Authorization: Basic ...", whether or not auth is on. */
static kl_int_t
kl_http_variable_remote_user(kl_http_request_t *r, kl_http_variable_value_t *v,
                             uintptr_t data)
{
    u_char  *p, *colon;
    size_t   len;
    kl_str_t encoded;

    (void) data;

    v->not_found = 1;

    if (r->headers_in.authorization == NULL) {
        return KL_OK;
    }

    encoded = r->headers_in.authorization->value;

    if (encoded.len < sizeof("Basic ") - 1
        || kl_strncasecmp(encoded.data, (u_char *) "Basic ",
                          sizeof("Basic ") - 1)
               != 0)
    {
        return KL_OK;
    }

    encoded.data += sizeof("Basic ") - 1;
    encoded.len -= sizeof("Basic ") - 1;

    while (encoded.len && encoded.data[0] == ' ') {
        encoded.data++;
        encoded.len--;
    }

    if (encoded.len == 0) {
        return KL_OK;
    }

    p = kl_pnalloc(r->pool, (encoded.len + 3) / 4 * 3 + 1);
    if (p == NULL) {
        return KL_ERROR;
    }

    /* strict as nginx's: KL_ERROR on any byte outside the alphabet */
    if (kl_base64_decode(p, &len, encoded.data, encoded.len) != KL_OK) {
        return KL_OK;
    }

    colon = memchr(p, ':', len);

    if (colon == NULL || colon == p) {
        return KL_OK;
    }

    kl_http_variable_set(v, p, colon - p);

    return KL_OK;
}
