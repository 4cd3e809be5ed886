/*
 * not_modified.c: conditional requests (RFC 9110 section 13) on whole
 * 200 responses, evaluated in the order of section 13.2.2: If-Match,
 * else If-Unmodified-Since (412 when false); If-None-Match (304 for GET
 * and HEAD, 412 otherwise), else If-Modified-Since for GET and HEAD (304),
 * the last as the if_modified_since directive says (nginx's off, exact,
 * before). The validators are those of r->headers_out: the ETag field
 * and last_modified_time.
 *
 * Where nginx departs from RFC 9110, the RFC is followed: "*" matches
 * any current representation even without an ETag, a weak entity-tag
 * never matches strongly, an invalid or unusable If-Unmodified-Since is
 * ignored, and If-Modified-Since is not evaluated when If-None-Match is
 * present.
 */

#include "kl_http.h"


#define KL_HTTP_IMS_OFF    0
#define KL_HTTP_IMS_EXACT  1
#define KL_HTTP_IMS_BEFORE 2

typedef struct {
    kl_http_output_header_filter_pt next_header_filter;
} kl_http_not_modified_main_conf_t;

typedef struct {
    kl_uint_t if_modified_since;
} kl_http_not_modified_loc_conf_t;


static void    *kl_http_not_modified_create_main_conf(kl_conf_t *cf);
static void    *kl_http_not_modified_create_loc_conf(kl_conf_t *cf);
static char    *kl_http_not_modified_merge_loc_conf(kl_conf_t *cf, void *parent,
                                                    void *child);
static kl_int_t kl_http_not_modified_filter_init(kl_conf_t *cf);


/* clang-format off */
static kl_conf_enum_t  kl_http_not_modified_ims[] = {
    { kl_string("off"), KL_HTTP_IMS_OFF },
    { kl_string("exact"), KL_HTTP_IMS_EXACT },
    { kl_string("before"), KL_HTTP_IMS_BEFORE },
    { kl_null_string, 0 }
};


/* Directive tables keep one field a line, as nginx's do. */
static kl_command_t  kl_http_not_modified_commands[] = {

    { kl_string("if_modified_since"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_TAKE1,
      kl_conf_set_enum_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_not_modified_loc_conf_t, if_modified_since),
      kl_http_not_modified_ims },

    kl_null_command
};
/* clang-format on */


static kl_http_module_t kl_http_not_modified_filter_module_ctx = {
    .postconfiguration = kl_http_not_modified_filter_init,
    .create_main_conf = kl_http_not_modified_create_main_conf,
    .create_loc_conf = kl_http_not_modified_create_loc_conf,
    .merge_loc_conf = kl_http_not_modified_merge_loc_conf,
};


kl_module_t kl_http_not_modified_filter_module = {
    .name = "kl_http_not_modified_filter_module",
    .type = KL_HTTP_MODULE,
    .ctx = &kl_http_not_modified_filter_module_ctx,
    .commands = kl_http_not_modified_commands,
};


/* Entity-tags compared strongly (both strong, same) or weakly (W/ aside). */
static kl_uint_t
kl_http_etag_equal(kl_str_t *tag, kl_str_t *etag, kl_uint_t weak)
{
    u_char *a, *b;
    size_t  alen, blen;

    a = tag->data;
    alen = tag->len;
    b = etag->data;
    blen = etag->len;

    if (alen >= 2 && a[0] == 'W' && a[1] == '/') {
        if (!weak) {
            return 0;
        }

        a += 2;
        alen -= 2;
    }

    if (blen >= 2 && b[0] == 'W' && b[1] == '/') {
        if (!weak) {
            return 0;
        }

        b += 2;
        blen -= 2;
    }

    /* Every byte: an entity-tag is opaque, NUL or not. */
    return alen >= 2 && a[0] == '"' && alen == blen && memcmp(a, b, alen) == 0;
}


/* Whether the field's list ("*" or entity-tags) matches the response. */
static kl_uint_t
kl_http_etag_match(kl_http_request_t *r, kl_table_elt_t *h, kl_uint_t weak)
{
    u_char  *p, *end;
    kl_str_t item;

    p = h->value.data;
    end = p + h->value.len;

    while (kl_http_list_next(&p, end, &item) == KL_OK) {
        if (item.len == 1 && item.data[0] == '*') {
            /* a 200 response is a current representation */
            return 1;
        }

        if (r->headers_out.etag
            && kl_http_etag_equal(&item, &r->headers_out.etag->value, weak))
        {
            return 1;
        }
    }

    return 0;
}


/* If-Unmodified-Since is false: modified after the date (13.1.4). */
static kl_uint_t
kl_http_unmodified_failed(kl_http_request_t *r)
{
    time_t t;

    if (r->headers_out.last_modified_time == -1) {
        return 0;
    }

    t = kl_parse_http_time(r->headers_in.if_unmodified_since->value.data,
                           r->headers_in.if_unmodified_since->value.len);

    return t != KL_ERROR && r->headers_out.last_modified_time > t;
}


/* If-Modified-Since is false (not modified), as nginx's modes decide. */
static kl_uint_t
kl_http_not_modified_since(kl_http_request_t *r)
{
    time_t                           t;
    kl_http_not_modified_loc_conf_t *nlcf;

    nlcf = kl_http_get_module_loc_conf(r, kl_http_not_modified_filter_module);

    if (r->headers_out.last_modified_time == -1
        || nlcf->if_modified_since == KL_HTTP_IMS_OFF)
    {
        return 0;
    }

    t = kl_parse_http_time(r->headers_in.if_modified_since->value.data,
                           r->headers_in.if_modified_since->value.len);

    if (t == KL_ERROR) {
        return 0;
    }

    if (t == r->headers_out.last_modified_time) {
        return 1;
    }

    return nlcf->if_modified_since == KL_HTTP_IMS_BEFORE
           && t > r->headers_out.last_modified_time;
}


/* 304: the validators and Date stay; no body, length, type or ranges. */
static kl_int_t
kl_http_not_modified(kl_http_request_t *r)
{
    kl_http_not_modified_main_conf_t *nmcf;

    nmcf = kl_http_get_module_main_conf(r, kl_http_not_modified_filter_module);

    r->headers_out.status = KL_HTTP_NOT_MODIFIED;
    kl_str_null(&r->headers_out.status_line);
    kl_str_null(&r->headers_out.content_type);
    r->headers_out.content_type_len = 0;
    r->headers_out.content_length_n = -1;

    if (r->headers_out.content_length) {
        r->headers_out.content_length->hash = 0;
        r->headers_out.content_length = NULL;
    }

    if (r->headers_out.accept_ranges) {
        r->headers_out.accept_ranges->hash = 0;
        r->headers_out.accept_ranges = NULL;
    }

    if (r->headers_out.content_encoding) {
        r->headers_out.content_encoding->hash = 0;
        r->headers_out.content_encoding = NULL;
    }

    return nmcf->next_header_filter(r);
}


static kl_int_t
kl_http_not_modified_header_filter(kl_http_request_t *r)
{
    kl_uint_t                         safe;
    kl_http_headers_in_t             *in;
    kl_http_not_modified_main_conf_t *nmcf;

    nmcf = kl_http_get_module_main_conf(r, kl_http_not_modified_filter_module);
    in = &r->headers_in;

    if (r->headers_out.status != KL_HTTP_OK || r != r->main) {
        return nmcf->next_header_filter(r);
    }

    if (in->if_match) {
        if (!kl_http_etag_match(r, in->if_match, 0)) {
            return KL_HTTP_PRECONDITION_FAILED;
        }

    } else if (in->if_unmodified_since && kl_http_unmodified_failed(r)) {
        return KL_HTTP_PRECONDITION_FAILED;
    }

    safe = (r->method == KL_HTTP_GET || r->method == KL_HTTP_HEAD);

    if (in->if_none_match) {
        if (kl_http_etag_match(r, in->if_none_match, 1)) {
            return safe ? kl_http_not_modified(r) : KL_HTTP_PRECONDITION_FAILED;
        }

    } else if (safe && in->if_modified_since && kl_http_not_modified_since(r)) {
        return kl_http_not_modified(r);
    }

    return nmcf->next_header_filter(r);
}


static void *
kl_http_not_modified_create_main_conf(kl_conf_t *cf)
{
    return kl_pcalloc(cf->pool, sizeof(kl_http_not_modified_main_conf_t));
}


static void *
kl_http_not_modified_create_loc_conf(kl_conf_t *cf)
{
    kl_http_not_modified_loc_conf_t *nlcf;

    nlcf = kl_palloc(cf->pool, sizeof(kl_http_not_modified_loc_conf_t));
    if (nlcf == NULL) {
        return NULL;
    }

    nlcf->if_modified_since = KL_CONF_UNSET_UINT;

    return nlcf;
}


static char *
kl_http_not_modified_merge_loc_conf(kl_conf_t *cf, void *parent, void *child)
{
    kl_http_not_modified_loc_conf_t *prev = parent;
    kl_http_not_modified_loc_conf_t *conf = child;

    (void) cf;

    kl_conf_merge_uint_value(conf->if_modified_since, prev->if_modified_since,
                             KL_HTTP_IMS_EXACT);

    return KL_CONF_OK;
}


/* Put the filter at the top of the header chain, the old top after it. */
static kl_int_t
kl_http_not_modified_filter_init(kl_conf_t *cf)
{
    kl_http_core_main_conf_t         *cmcf;
    kl_http_not_modified_main_conf_t *nmcf;

    cmcf = kl_http_conf_get_module_main_conf(cf, kl_http_core_module);
    nmcf = kl_http_conf_get_module_main_conf(
        cf, kl_http_not_modified_filter_module);

    nmcf->next_header_filter = cmcf->top_header_filter;
    cmcf->top_header_filter = kl_http_not_modified_header_filter;

    return KL_OK;
}
