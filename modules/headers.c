/*
 * headers.c: the headers filter, as nginx's: "expires" (Expires and
 * Cache-Control), "add_header" and "add_trailer".
 *
 * It runs after the not_modified filter, so it sees the status that goes
 * out (a 304 gets its Expires too), and above the chunked filter, which
 * sends the trailers it adds. Without "always", headers and trailers are
 * added only to the statuses nginx calls safe (2xx, 3xx but 300 and 305).
 *
 * As in nginx, a level with any add_header of its own drops every
 * add_header it would inherit (add_trailer likewise, apart), and
 * "expires" inherits as a whole.
 */

#include "kl_http.h"


typedef enum {
    KL_HTTP_EXPIRES_OFF,
    KL_HTTP_EXPIRES_EPOCH,
    KL_HTTP_EXPIRES_MAX,
    KL_HTTP_EXPIRES_ACCESS,
    KL_HTTP_EXPIRES_MODIFIED,
    KL_HTTP_EXPIRES_DAILY,
    KL_HTTP_EXPIRES_UNSET
} kl_http_expires_e;


typedef struct kl_http_header_val_s kl_http_header_val_t;

typedef kl_int_t (*kl_http_set_header_pt)(kl_http_request_t    *r,
                                          kl_http_header_val_t *hv,
                                          kl_str_t             *value);

/* One add_header or add_trailer. */
struct kl_http_header_val_s {
    kl_str_t                key;
    kl_http_complex_value_t value;
    kl_http_set_header_pt   handler;
    kl_uint_t               always;
};

typedef struct {
    kl_http_expires_e        expires;
    time_t                   expires_time;
    kl_http_complex_value_t *expires_value; /* "expires $var" */

    kl_array_t *headers;  /* kl_http_header_val_t */
    kl_array_t *trailers; /* kl_http_header_val_t */
} kl_http_headers_conf_t;

typedef struct {
    kl_http_output_header_filter_pt next_header_filter;
    kl_http_output_body_filter_pt   next_body_filter;
} kl_http_headers_main_conf_t;

/* Set on a request whose response is to end with trailers. */
typedef struct {
    kl_uint_t safe_status;
} kl_http_headers_ctx_t;


static kl_int_t kl_http_add_header(kl_http_request_t    *r,
                                   kl_http_header_val_t *hv, kl_str_t *value);
static kl_int_t kl_http_set_last_modified(kl_http_request_t    *r,
                                          kl_http_header_val_t *hv,
                                          kl_str_t             *value);
static kl_int_t kl_http_set_etag_header(kl_http_request_t    *r,
                                        kl_http_header_val_t *hv,
                                        kl_str_t             *value);
static char    *kl_http_headers_expires(kl_conf_t *cf, kl_command_t *cmd,
                                        void *conf);
static char *kl_http_headers_add(kl_conf_t *cf, kl_command_t *cmd, void *conf);
static void *kl_http_headers_create_main_conf(kl_conf_t *cf);
static void *kl_http_headers_create_conf(kl_conf_t *cf);
static char *kl_http_headers_merge_conf(kl_conf_t *cf, void *parent,
                                        void *child);
static kl_int_t kl_http_headers_filter_init(kl_conf_t *cf);


/* clang-format off */
static kl_command_t  kl_http_headers_filter_commands[] = {

    { kl_string("expires"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF
      | KL_HTTP_LIF_CONF | KL_CONF_TAKE12,
      kl_http_headers_expires,
      KL_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { kl_string("add_header"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF
      | KL_HTTP_LIF_CONF | KL_CONF_TAKE23,
      kl_http_headers_add,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_headers_conf_t, headers),
      NULL },

    { kl_string("add_trailer"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF
      | KL_HTTP_LIF_CONF | KL_CONF_TAKE23,
      kl_http_headers_add,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_headers_conf_t, trailers),
      NULL },

    kl_null_command
};
/* clang-format on */


static kl_http_module_t kl_http_headers_filter_module_ctx = {
    .postconfiguration = kl_http_headers_filter_init,
    .create_main_conf = kl_http_headers_create_main_conf,
    .create_loc_conf = kl_http_headers_create_conf,
    .merge_loc_conf = kl_http_headers_merge_conf,
};


kl_module_t kl_http_headers_filter_module = {
    .name = "kl_http_headers_filter_module",
    .type = KL_HTTP_MODULE,
    .ctx = &kl_http_headers_filter_module_ctx,
    .commands = kl_http_headers_filter_commands,
};


/* Names add_header treats apart, as nginx's ngx_http_set_headers. */
static struct {
    kl_str_t              name;
    kl_http_set_header_pt handler;
} kl_http_set_headers[] = {
    { kl_string("Last-Modified"), kl_http_set_last_modified },
    { kl_string("ETag"), kl_http_set_etag_header },
    { kl_null_string, NULL },
};


/* The statuses headers go with unless "always" says otherwise. */
static kl_uint_t
kl_http_headers_safe_status(kl_uint_t status)
{
    switch (status) {
    case KL_HTTP_OK:
    case KL_HTTP_CREATED:
    case KL_HTTP_NO_CONTENT:
    case KL_HTTP_PARTIAL_CONTENT:
    case KL_HTTP_MOVED_PERMANENTLY:
    case KL_HTTP_MOVED_TEMPORARILY:
    case KL_HTTP_SEE_OTHER:
    case KL_HTTP_NOT_MODIFIED:
    case KL_HTTP_TEMPORARY_REDIRECT:
    case KL_HTTP_PERMANENT_REDIRECT:
        return 1;
    }

    return 0;
}


/*
 * The next moment the local clock shows "when" seconds past midnight, as
 * nginx's ngx_next_time: today if still ahead, tomorrow otherwise.
 */
static time_t
kl_http_next_time(time_t when)
{
    time_t    now, next;
    struct tm tm;

    now = kl_loop.clock.sec;
    kl_localtime(now, &tm);

    tm.tm_hour = (int) (when / 3600);
    when %= 3600;
    tm.tm_min = (int) (when / 60);
    tm.tm_sec = (int) (when % 60);
    tm.tm_isdst = -1;

    next = mktime(&tm);

    if (next == -1) {
        return -1;
    }

    if (next - now > 0) {
        return next;
    }

    tm.tm_mday++;
    tm.tm_isdst = -1;

    /* mktime() normalises the 32nd of a month */
    return mktime(&tm);
}


/* Read an expires value into *expires and *expires_time; NULL or why not. */
static char *
kl_http_parse_expires(kl_str_t *value, kl_http_expires_e *expires,
                      time_t *expires_time)
{
    kl_int_t  t;
    kl_uint_t minus;
    kl_str_t  v;

    v = *value;

    if (*expires != KL_HTTP_EXPIRES_MODIFIED) {
        if (v.len == 5 && kl_strncmp(v.data, "epoch", 5) == 0) {
            *expires = KL_HTTP_EXPIRES_EPOCH;
            return NULL;
        }

        if (v.len == 3 && kl_strncmp(v.data, "max", 3) == 0) {
            *expires = KL_HTTP_EXPIRES_MAX;
            return NULL;
        }

        if (v.len == 3 && kl_strncmp(v.data, "off", 3) == 0) {
            *expires = KL_HTTP_EXPIRES_OFF;
            return NULL;
        }
    }

    minus = 0;

    if (v.len && v.data[0] == '@') {
        v.data++;
        v.len--;

        if (*expires == KL_HTTP_EXPIRES_MODIFIED) {
            return "daily time cannot be used with \"modified\" parameter";
        }

        *expires = KL_HTTP_EXPIRES_DAILY;

    } else if (v.len && v.data[0] == '+') {
        v.data++;
        v.len--;

    } else if (v.len && v.data[0] == '-') {
        v.data++;
        v.len--;
        minus = 1;
    }

    t = kl_conf_parse_time(&v, 1);

    if (t == KL_ERROR) {
        return "invalid value";
    }

    if (*expires == KL_HTTP_EXPIRES_DAILY && t > 24 * 60 * 60) {
        return "daily time value must be less than 24 hours";
    }

    *expires_time = minus ? -(time_t) t : (time_t) t;

    return NULL;
}


/* Push a header; NULL on allocation failure. */
static kl_table_elt_t *
kl_http_headers_push(kl_http_request_t *r, const char *key, size_t len)
{
    kl_table_elt_t *h;

    h = kl_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NULL;
    }

    h->hash = 1;
    h->next = NULL;
    h->lowcase_key = NULL;
    h->key.data = (u_char *) key;
    h->key.len = len;
    kl_str_null(&h->value);

    return h;
}


static kl_int_t
kl_http_set_expires(kl_http_request_t *r, kl_http_headers_conf_t *conf)
{
    time_t            expires_time, max_age, now;
    kl_str_t          value;
    kl_table_elt_t   *e, *cc;
    kl_http_expires_e expires;

    static const char epoch[] = "Thu, 01 Jan 1970 00:00:01 GMT";
    static const char max[] = "Thu, 31 Dec 2037 23:55:55 GMT";

    expires = conf->expires;
    expires_time = conf->expires_time;

    if (conf->expires_value) {
        if (kl_http_complex_value(r, conf->expires_value, &value) != KL_OK) {
            return KL_ERROR;
        }

        /* A value that does not read adds nothing, as in nginx. */
        if (kl_http_parse_expires(&value, &expires, &expires_time) != NULL) {
            return KL_OK;
        }

        if (expires == KL_HTTP_EXPIRES_OFF) {
            return KL_OK;
        }
    }

    e = kl_http_headers_push(r, "Expires", sizeof("Expires") - 1);
    cc = kl_http_headers_push(r, "Cache-Control", sizeof("Cache-Control") - 1);

    if (e == NULL || cc == NULL) {
        return KL_ERROR;
    }

    if (expires == KL_HTTP_EXPIRES_EPOCH) {
        e->value.data = (u_char *) epoch;
        e->value.len = sizeof(epoch) - 1;
        kl_str_set(&cc->value, "no-cache");
        return KL_OK;
    }

    if (expires == KL_HTTP_EXPIRES_MAX) {
        e->value.data = (u_char *) max;
        e->value.len = sizeof(max) - 1;
        /* ten years */
        kl_str_set(&cc->value, "max-age=315360000");
        return KL_OK;
    }

    e->value.data = kl_pnalloc(r->pool, sizeof(epoch));
    if (e->value.data == NULL) {
        return KL_ERROR;
    }

    e->value.len = sizeof(epoch) - 1;

    if (expires_time == 0 && expires != KL_HTTP_EXPIRES_DAILY) {
        kl_memcpy(e->value.data, kl_loop.clock.http_time, e->value.len);
        kl_str_set(&cc->value, "max-age=0");
        return KL_OK;
    }

    now = kl_loop.clock.sec;

    if (expires == KL_HTTP_EXPIRES_DAILY) {
        expires_time = kl_http_next_time(expires_time);

        if (expires_time == -1) {
            return KL_ERROR;
        }

        max_age = expires_time - now;

    } else if (expires == KL_HTTP_EXPIRES_ACCESS
               || r->headers_out.last_modified_time == -1)
    {
        max_age = expires_time;
        expires_time += now;

    } else {
        expires_time += r->headers_out.last_modified_time;
        max_age = expires_time - now;
    }

    kl_http_time(e->value.data, expires_time);

    if (conf->expires_time < 0 || max_age < 0) {
        kl_str_set(&cc->value, "no-cache");
        return KL_OK;
    }

    cc->value.data = kl_pnalloc(r->pool, sizeof("max-age=") + KL_INT_T_LEN);
    if (cc->value.data == NULL) {
        return KL_ERROR;
    }

    cc->value.len =
        kl_slprintf(cc->value.data,
                    cc->value.data + sizeof("max-age=") + KL_INT_T_LEN,
                    "max-age=%T", max_age)
        - cc->value.data;

    return KL_OK;
}


static kl_int_t
kl_http_add_header(kl_http_request_t *r, kl_http_header_val_t *hv,
                   kl_str_t *value)
{
    kl_table_elt_t *h;

    if (value->len == 0) {
        return KL_OK;
    }

    h = kl_http_headers_push(r, (char *) hv->key.data, hv->key.len);
    if (h == NULL) {
        return KL_ERROR;
    }

    h->value = *value;

    return KL_OK;
}


/*
 * The field replaces the one the response had: it goes out as written,
 * in its place among the added fields, as in nginx, so the header filter
 * is told there is no time of its own to print.
 */
static kl_int_t
kl_http_set_last_modified(kl_http_request_t *r, kl_http_header_val_t *hv,
                          kl_str_t *value)
{
    kl_table_elt_t *h;

    if (value->len == 0) {
        r->headers_out.last_modified_time = -1;

        if (r->headers_out.last_modified) {
            r->headers_out.last_modified->hash = 0;
            r->headers_out.last_modified = NULL;
        }

        return KL_OK;
    }

    h = r->headers_out.last_modified;

    if (h == NULL) {
        h = kl_http_headers_push(r, (char *) hv->key.data, hv->key.len);
        if (h == NULL) {
            return KL_ERROR;
        }

        r->headers_out.last_modified = h;
    }

    h->hash = 1;
    h->key = hv->key;
    h->value = *value;

    /* The header filter prints the field; If-Range compares the time. */
    r->headers_out.last_modified_time =
        kl_parse_http_time(value->data, value->len);

    return KL_OK;
}


/* The ETag the response had is replaced, or removed by an empty value. */
static kl_int_t
kl_http_set_etag_header(kl_http_request_t *r, kl_http_header_val_t *hv,
                        kl_str_t *value)
{
    kl_table_elt_t *h;

    if (value->len == 0) {
        if (r->headers_out.etag) {
            r->headers_out.etag->hash = 0;
            r->headers_out.etag = NULL;
        }

        return KL_OK;
    }

    h = r->headers_out.etag;

    if (h == NULL) {
        h = kl_http_headers_push(r, (char *) hv->key.data, hv->key.len);
        if (h == NULL) {
            return KL_ERROR;
        }

        r->headers_out.etag = h;
    }

    h->hash = 1;
    h->key = hv->key;
    h->value = *value;

    return KL_OK;
}


/* Trailers need a chunked body: the chunked filter drops the length. */
static void
kl_http_headers_expect_trailers(kl_http_request_t *r)
{
    r->expect_trailers = 1;
}


static kl_int_t
kl_http_headers_filter(kl_http_request_t *r)
{
    kl_str_t                     value;
    kl_uint_t                    i, safe_status;
    kl_http_header_val_t        *h;
    kl_http_headers_ctx_t       *ctx;
    kl_http_headers_conf_t      *conf;
    kl_http_headers_main_conf_t *hmcf;

    hmcf = kl_http_get_module_main_conf(r, kl_http_headers_filter_module);

    if (r != r->main) {
        return hmcf->next_header_filter(r);
    }

    conf = kl_http_get_module_loc_conf(r, kl_http_headers_filter_module);

    if (conf->expires == KL_HTTP_EXPIRES_OFF && conf->headers == NULL
        && conf->trailers == NULL)
    {
        return hmcf->next_header_filter(r);
    }

    safe_status = kl_http_headers_safe_status(r->headers_out.status);

    if (conf->expires != KL_HTTP_EXPIRES_OFF && safe_status) {
        if (kl_http_set_expires(r, conf) != KL_OK) {
            return KL_ERROR;
        }
    }

    if (conf->headers) {
        h = conf->headers->elts;

        for (i = 0; i < conf->headers->nelts; i++) {
            if (!safe_status && !h[i].always) {
                continue;
            }

            if (kl_http_complex_value(r, &h[i].value, &value) != KL_OK) {
                return KL_ERROR;
            }

            if (h[i].handler(r, &h[i], &value) != KL_OK) {
                return KL_ERROR;
            }
        }
    }

    if (conf->trailers && r->header_only == 0) {
        h = conf->trailers->elts;

        for (i = 0; i < conf->trailers->nelts; i++) {
            if (!safe_status && !h[i].always) {
                continue;
            }

            ctx = kl_pcalloc(r->pool, sizeof(kl_http_headers_ctx_t));
            if (ctx == NULL) {
                return KL_ERROR;
            }

            ctx->safe_status = safe_status;
            kl_http_set_ctx(r, ctx, kl_http_headers_filter_module);

            kl_http_headers_expect_trailers(r);
            break;
        }
    }

    return hmcf->next_header_filter(r);
}


/* With the last buffer, the trailers are evaluated for the chunked filter. */
static kl_int_t
kl_http_trailers_filter(kl_http_request_t *r, kl_chain_t *in)
{
    kl_str_t                     value;
    kl_uint_t                    i;
    kl_chain_t                  *cl;
    kl_table_elt_t              *t;
    kl_http_header_val_t        *h;
    kl_http_headers_ctx_t       *ctx;
    kl_http_headers_conf_t      *conf;
    kl_http_headers_main_conf_t *hmcf;

    hmcf = kl_http_get_module_main_conf(r, kl_http_headers_filter_module);
    ctx = kl_http_get_module_ctx(r, kl_http_headers_filter_module);

    if (in == NULL || ctx == NULL || r->header_only || r != r->main) {
        return hmcf->next_body_filter(r, in);
    }

    for (cl = in; cl; cl = cl->next) {
        if (cl->buf->last_buf) {
            break;
        }
    }

    if (cl == NULL) {
        return hmcf->next_body_filter(r, in);
    }

    conf = kl_http_get_module_loc_conf(r, kl_http_headers_filter_module);
    h = conf->trailers->elts;

    for (i = 0; i < conf->trailers->nelts; i++) {
        if (!ctx->safe_status && !h[i].always) {
            continue;
        }

        if (kl_http_complex_value(r, &h[i].value, &value) != KL_OK) {
            return KL_ERROR;
        }

        if (value.len == 0) {
            continue;
        }

        t = kl_list_push(&r->headers_out.trailers);
        if (t == NULL) {
            return KL_ERROR;
        }

        t->hash = 1;
        t->next = NULL;
        t->lowcase_key = NULL;
        t->key = h[i].key;
        t->value = value;
    }

    /* Once only, should the last buffer pass here again. */
    kl_http_set_ctx(r, NULL, kl_http_headers_filter_module);

    return hmcf->next_body_filter(r, in);
}


static char *
kl_http_headers_expires(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_http_headers_conf_t *hcf = conf;

    char                           *err;
    kl_str_t                       *value;
    kl_uint_t                       n;
    kl_http_complex_value_t         cv;
    kl_http_compile_complex_value_t ccv;

    (void) cmd;

    if (hcf->expires != KL_HTTP_EXPIRES_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    hcf->expires = KL_HTTP_EXPIRES_ACCESS;
    n = 1;

    if (cf->args->nelts == 3) {
        hcf->expires = KL_HTTP_EXPIRES_MODIFIED;
        n = 2;

        if (kl_strcmp(value[1].data, "modified") != 0) {
            return "invalid value";
        }
    }

    kl_memzero(&ccv, sizeof(kl_http_compile_complex_value_t));
    kl_memzero(&cv, sizeof(kl_http_complex_value_t));
    ccv.cf = cf;
    ccv.value = &value[n];
    ccv.complex_value = &cv;

    if (kl_http_compile_complex_value(&ccv) != KL_OK) {
        return KL_CONF_ERROR;
    }

    if (cv.parts) {
        hcf->expires_value =
            kl_palloc(cf->pool, sizeof(kl_http_complex_value_t));
        if (hcf->expires_value == NULL) {
            return KL_CONF_ERROR;
        }

        *hcf->expires_value = cv;
        return KL_CONF_OK;
    }

    err = kl_http_parse_expires(&value[n], &hcf->expires, &hcf->expires_time);

    return err ? err : KL_CONF_OK;
}


static char *
kl_http_headers_add(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_http_headers_conf_t *hcf = conf;

    kl_str_t                       *value;
    kl_uint_t                       i;
    kl_array_t                    **headers;
    kl_http_header_val_t           *hv;
    kl_http_compile_complex_value_t ccv;

    value = cf->args->elts;

    headers = (kl_array_t **) ((char *) hcf + cmd->offset);

    if (*headers == NULL) {
        *headers = kl_array_create(cf->pool, 1, sizeof(kl_http_header_val_t));
        if (*headers == NULL) {
            return KL_CONF_ERROR;
        }
    }

    hv = kl_array_push(*headers);
    if (hv == NULL) {
        return KL_CONF_ERROR;
    }

    kl_memzero(hv, sizeof(kl_http_header_val_t));
    hv->key = value[1];
    hv->handler = kl_http_add_header;

    if (headers == &hcf->headers) {
        for (i = 0; kl_http_set_headers[i].name.len; i++) {
            if (kl_strcasecmp(value[1].data, kl_http_set_headers[i].name.data)
                == 0) {
                hv->handler = kl_http_set_headers[i].handler;
                break;
            }
        }
    }

    if (value[2].len) {
        kl_memzero(&ccv, sizeof(kl_http_compile_complex_value_t));
        ccv.cf = cf;
        ccv.value = &value[2];
        ccv.complex_value = &hv->value;

        if (kl_http_compile_complex_value(&ccv) != KL_OK) {
            return KL_CONF_ERROR;
        }
    }

    if (cf->args->nelts == 3) {
        return KL_CONF_OK;
    }

    if (kl_strcmp(value[3].data, "always") != 0) {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0, "invalid parameter \"%V\"",
                          &value[3]);
        return KL_CONF_ERROR;
    }

    hv->always = 1;

    return KL_CONF_OK;
}


static void *
kl_http_headers_create_main_conf(kl_conf_t *cf)
{
    return kl_pcalloc(cf->pool, sizeof(kl_http_headers_main_conf_t));
}


static void *
kl_http_headers_create_conf(kl_conf_t *cf)
{
    kl_http_headers_conf_t *conf;

    conf = kl_pcalloc(cf->pool, sizeof(kl_http_headers_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    conf->expires = KL_HTTP_EXPIRES_UNSET;

    return conf;
}


static char *
kl_http_headers_merge_conf(kl_conf_t *cf, void *parent, void *child)
{
    kl_http_headers_conf_t *prev = parent;
    kl_http_headers_conf_t *conf = child;

    (void) cf;

    if (conf->expires == KL_HTTP_EXPIRES_UNSET) {
        conf->expires = prev->expires;
        conf->expires_time = prev->expires_time;
        conf->expires_value = prev->expires_value;

        if (conf->expires == KL_HTTP_EXPIRES_UNSET) {
            conf->expires = KL_HTTP_EXPIRES_OFF;
        }
    }

    if (conf->headers == NULL) {
        conf->headers = prev->headers;
    }

    if (conf->trailers == NULL) {
        conf->trailers = prev->trailers;
    }

    return KL_CONF_OK;
}


static kl_int_t
kl_http_headers_filter_init(kl_conf_t *cf)
{
    kl_http_core_main_conf_t    *cmcf;
    kl_http_headers_main_conf_t *hmcf;

    cmcf = kl_http_conf_get_module_main_conf(cf, kl_http_core_module);
    hmcf = kl_http_conf_get_module_main_conf(cf, kl_http_headers_filter_module);

    hmcf->next_header_filter = cmcf->top_header_filter;
    cmcf->top_header_filter = kl_http_headers_filter;

    hmcf->next_body_filter = cmcf->top_body_filter;
    cmcf->top_body_filter = kl_http_trailers_filter;

    return KL_OK;
}
