/*
 * userid.c: the userid filter, as nginx's ngx_http_userid_filter_module:
 * a client identifier read from a cookie ($uid_got) and, when it has
 * none (or $uid_reset asks for a new one, or the cookie lacks the mark),
 * made and sent in Set-Cookie ($uid_set), in nginx's format to the byte,
 * so a cookie either server set is read by the other.
 *
 * The identifier is the server's address (or userid_service), the time,
 * a per-worker start value (microseconds and pid) and a per-worker
 * sequence, as nginx makes it. The worker's start value and sequences
 * live in the module's main conf, which each worker has its own copy of
 * after the fork. The cookie's format is userid_cookie.c's.
 */

#include "kl_http.h"
#include "userid_cookie.h"

#include <sys/time.h>


#define KL_HTTP_USERID_OFF 0
#define KL_HTTP_USERID_LOG 1
#define KL_HTTP_USERID_V1  2
#define KL_HTTP_USERID_ON  3

#define KL_HTTP_USERID_COOKIE_OFF      0x0002
#define KL_HTTP_USERID_COOKIE_SECURE   0x0004
#define KL_HTTP_USERID_COOKIE_HTTPONLY 0x0008
#define KL_HTTP_USERID_COOKIE_STRICT   0x0010
#define KL_HTTP_USERID_COOKIE_LAX      0x0020
#define KL_HTTP_USERID_COOKIE_NONE     0x0040

/* 31 Dec 2037 23:55:55 GMT, "userid_expires max" */
#define KL_HTTP_USERID_MAX_EXPIRES 2145916555

/* userid_mark not set yet (merge tells it from "off", '\0') */
#define KL_HTTP_USERID_MARK_UNSET 0xff

typedef struct {
    kl_uint_t enable;
    kl_uint_t flags;
    kl_int_t  service; /* KL_CONF_UNSET: the server's address */
    kl_str_t  name;
    kl_str_t  domain; /* "; domain=x", or empty */
    kl_str_t  path;   /* "; path=/" */
    kl_str_t  p3p;    /* empty: none */
    time_t    expires;
    u_char    mark;
} kl_http_userid_conf_t;

typedef struct {
    kl_http_output_header_filter_pt next_header_filter;
    kl_int_t                        reset_index;  /* $uid_reset */
    kl_int_t                        server_index; /* $server_addr */

    /* the worker's own, set at its start (each has a copy of this conf) */
    uint32_t start_value;
    uint32_t sequencer_v1;
    uint32_t sequencer_v2;
} kl_http_userid_main_conf_t;

typedef struct {
    uint32_t uid_got[4];
    uint32_t uid_set[4];
    kl_str_t cookie;
    unsigned reset:1;
} kl_http_userid_ctx_t;


static kl_int_t kl_http_userid_filter(kl_http_request_t *r);
static kl_http_userid_ctx_t *
kl_http_userid_get_uid(kl_http_request_t *r, kl_http_userid_conf_t *conf);
static kl_int_t kl_http_userid_set_uid(kl_http_request_t     *r,
                                       kl_http_userid_ctx_t  *ctx,
                                       kl_http_userid_conf_t *conf);
static kl_int_t kl_http_userid_create_uid(kl_http_request_t     *r,
                                          kl_http_userid_ctx_t  *ctx,
                                          kl_http_userid_conf_t *conf);
static kl_int_t kl_http_userid_keep_or_reset(kl_http_request_t     *r,
                                             kl_http_userid_ctx_t  *ctx,
                                             kl_http_userid_conf_t *conf);
static kl_int_t kl_http_userid_server_word(kl_http_request_t *r,
                                           uint32_t          *word);
static kl_int_t kl_http_userid_variable(kl_http_request_t        *r,
                                        kl_http_variable_value_t *v,
                                        kl_str_t *name, uint32_t *uid);
static kl_int_t kl_http_userid_got_variable(kl_http_request_t        *r,
                                            kl_http_variable_value_t *v,
                                            uintptr_t                 data);
static kl_int_t kl_http_userid_set_variable(kl_http_request_t        *r,
                                            kl_http_variable_value_t *v,
                                            uintptr_t                 data);
static kl_int_t kl_http_userid_reset_variable(kl_http_request_t        *r,
                                              kl_http_variable_value_t *v,
                                              uintptr_t                 data);
static kl_int_t kl_http_userid_add_variables(kl_conf_t *cf);
static kl_int_t kl_http_userid_init(kl_conf_t *cf);
static kl_int_t kl_http_userid_init_process(kl_cycle_t *cycle);
static void    *kl_http_userid_create_main_conf(kl_conf_t *cf);
static void    *kl_http_userid_create_conf(kl_conf_t *cf);
static char    *kl_http_userid_merge_conf(kl_conf_t *cf, void *parent,
                                          void *child);
static char    *kl_http_userid_domain(kl_conf_t *cf, kl_command_t *cmd,
                                      void *conf);
static char *kl_http_userid_path(kl_conf_t *cf, kl_command_t *cmd, void *conf);
static char *kl_http_userid_p3p(kl_conf_t *cf, kl_command_t *cmd, void *conf);
static char *kl_http_userid_expires(kl_conf_t *cf, kl_command_t *cmd,
                                    void *conf);
static char *kl_http_userid_mark(kl_conf_t *cf, kl_command_t *cmd, void *conf);


static kl_conf_enum_t kl_http_userid_state[] = {
    { kl_string("off"), KL_HTTP_USERID_OFF },
    { kl_string("log"), KL_HTTP_USERID_LOG },
    { kl_string("v1"), KL_HTTP_USERID_V1 },
    { kl_string("on"), KL_HTTP_USERID_ON },
    { kl_null_string, 0 },
};

static kl_conf_enum_t kl_http_userid_flags[] = {
    { kl_string("off"), KL_HTTP_USERID_COOKIE_OFF },
    { kl_string("secure"), KL_HTTP_USERID_COOKIE_SECURE },
    { kl_string("httponly"), KL_HTTP_USERID_COOKIE_HTTPONLY },
    { kl_string("samesite=strict"), KL_HTTP_USERID_COOKIE_STRICT },
    { kl_string("samesite=lax"), KL_HTTP_USERID_COOKIE_LAX },
    { kl_string("samesite=none"), KL_HTTP_USERID_COOKIE_NONE },
    { kl_null_string, 0 },
};


#define KL_HTTP_USERID_CONF                                                    \
    (KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF)

/* Directive tables keep one field a line, as nginx's do. */
/* clang-format off */
static kl_command_t  kl_http_userid_commands[] = {

    { kl_string("userid"),
      KL_HTTP_USERID_CONF | KL_CONF_TAKE1,
      kl_conf_set_enum_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_userid_conf_t, enable),
      kl_http_userid_state },

    { kl_string("userid_service"),
      KL_HTTP_USERID_CONF | KL_CONF_TAKE1,
      kl_conf_set_num_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_userid_conf_t, service),
      NULL },

    { kl_string("userid_name"),
      KL_HTTP_USERID_CONF | KL_CONF_TAKE1,
      kl_conf_set_str_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_userid_conf_t, name),
      NULL },

    { kl_string("userid_domain"),
      KL_HTTP_USERID_CONF | KL_CONF_TAKE1,
      kl_http_userid_domain,
      KL_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { kl_string("userid_path"),
      KL_HTTP_USERID_CONF | KL_CONF_TAKE1,
      kl_http_userid_path,
      KL_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { kl_string("userid_expires"),
      KL_HTTP_USERID_CONF | KL_CONF_TAKE1,
      kl_http_userid_expires,
      KL_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { kl_string("userid_flags"),
      KL_HTTP_USERID_CONF | KL_CONF_1MORE,
      kl_conf_set_bitmask_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_userid_conf_t, flags),
      kl_http_userid_flags },

    { kl_string("userid_p3p"),
      KL_HTTP_USERID_CONF | KL_CONF_TAKE1,
      kl_http_userid_p3p,
      KL_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { kl_string("userid_mark"),
      KL_HTTP_USERID_CONF | KL_CONF_TAKE1,
      kl_http_userid_mark,
      KL_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    kl_null_command
};
/* clang-format on */


static kl_http_module_t kl_http_userid_filter_module_ctx = {
    .preconfiguration = kl_http_userid_add_variables,
    .postconfiguration = kl_http_userid_init,
    .create_main_conf = kl_http_userid_create_main_conf,
    .create_loc_conf = kl_http_userid_create_conf,
    .merge_loc_conf = kl_http_userid_merge_conf,
};


kl_module_t kl_http_userid_filter_module = {
    .name = "kl_http_userid_filter_module",
    .type = KL_HTTP_MODULE,
    .ctx = &kl_http_userid_filter_module_ctx,
    .commands = kl_http_userid_commands,
    .init_process = kl_http_userid_init_process,
};


static kl_str_t kl_http_userid_got = kl_string("uid_got");
static kl_str_t kl_http_userid_set = kl_string("uid_set");
static kl_str_t kl_http_userid_reset = kl_string("uid_reset");

static const char kl_http_userid_max_expires[] =
    "; expires=Thu, 31-Dec-37 23:55:55 GMT";


static kl_int_t
kl_http_userid_filter(kl_http_request_t *r)
{
    kl_http_userid_ctx_t       *ctx;
    kl_http_userid_conf_t      *conf;
    kl_http_userid_main_conf_t *umcf;

    umcf = kl_http_get_module_main_conf(r, kl_http_userid_filter_module);

    if (r != r->main) {
        return umcf->next_header_filter(r);
    }

    conf = kl_http_get_module_loc_conf(r, kl_http_userid_filter_module);

    if (conf->enable < KL_HTTP_USERID_V1) {
        return umcf->next_header_filter(r);
    }

    ctx = kl_http_userid_get_uid(r, conf);
    if (ctx == NULL) {
        return KL_ERROR;
    }

    if (kl_http_userid_set_uid(r, ctx, conf) != KL_OK) {
        return KL_ERROR;
    }

    return umcf->next_header_filter(r);
}


/* The request's uid state, the cookie read and decoded on first use. */
static kl_http_userid_ctx_t *
kl_http_userid_get_uid(kl_http_request_t *r, kl_http_userid_conf_t *conf)
{
    kl_int_t              rc;
    kl_table_elt_t       *h;
    kl_http_userid_ctx_t *ctx;

    ctx = kl_http_get_module_ctx(r, kl_http_userid_filter_module);
    if (ctx) {
        return ctx;
    }

    ctx = kl_pcalloc(r->pool, sizeof(kl_http_userid_ctx_t));
    if (ctx == NULL) {
        return NULL;
    }

    kl_http_set_ctx(r, ctx, kl_http_userid_filter_module);

    for (h = r->headers_in.cookie; h; h = h->next) {
        if (kl_http_userid_cookie_find(h->value.data, h->value.len, &conf->name,
                                       &ctx->cookie)
            == KL_OK)
        {
            break;
        }
    }

    if (h == NULL) {
        return ctx;
    }

    rc = kl_http_userid_decode(&ctx->cookie, ctx->uid_got);

    if (rc == KL_DECLINED) {
        kl_log_error(KL_LOG_ERR, r->connection->log, 0,
                     "client sent too short userid cookie \"%V\"", &h->value);

    } else if (rc == KL_ERROR) {
        kl_log_error(KL_LOG_ERR, r->connection->log, 0,
                     "client sent invalid userid cookie \"%V\"", &h->value);
    }

    return ctx;
}


static kl_int_t
kl_http_userid_set_uid(kl_http_request_t *r, kl_http_userid_ctx_t *ctx,
                       kl_http_userid_conf_t *conf)
{
    u_char         *cookie, *p;
    size_t          len;
    kl_table_elt_t *set_cookie, *p3p;

    if (kl_http_userid_create_uid(r, ctx, conf) != KL_OK) {
        return KL_ERROR;
    }

    if (ctx->uid_set[3] == 0) {
        return KL_OK;
    }

    len = conf->name.len + 1 + KL_HTTP_USERID_ENCODED_LEN + conf->path.len
          + conf->domain.len + sizeof(kl_http_userid_max_expires) + 2
          + sizeof("; secure; httponly; samesite=strict; samesite=lax"
                   "; samesite=none")
          - 1;

    cookie = kl_pnalloc(r->pool, len);
    if (cookie == NULL) {
        return KL_ERROR;
    }

    p = kl_cpymem(cookie, conf->name.data, conf->name.len);
    *p++ = '=';

    if (ctx->uid_got[3] == 0 || ctx->reset) {
        p = kl_http_userid_encode(p, ctx->uid_set, conf->mark);

    } else {
        /* the client's own 22 characters, marked */
        p = kl_cpymem(p, ctx->cookie.data, 22);
        *p++ = conf->mark;
        *p++ = '=';
    }

    if (conf->expires == KL_HTTP_USERID_MAX_EXPIRES) {
        p = kl_cpymem(p, kl_http_userid_max_expires,
                      sizeof(kl_http_userid_max_expires) - 1);

    } else if (conf->expires) {
        p = kl_cpymem(p, "; expires=", sizeof("; expires=") - 1);
        p = kl_http_userid_cookie_time(p, kl_loop.clock.sec + conf->expires);
    }

    p = kl_cpymem(p, conf->domain.data, conf->domain.len);
    p = kl_cpymem(p, conf->path.data, conf->path.len);

    if (conf->flags & KL_HTTP_USERID_COOKIE_SECURE) {
        p = kl_cpymem(p, "; secure", sizeof("; secure") - 1);
    }

    if (conf->flags & KL_HTTP_USERID_COOKIE_HTTPONLY) {
        p = kl_cpymem(p, "; httponly", sizeof("; httponly") - 1);
    }

    if (conf->flags & KL_HTTP_USERID_COOKIE_STRICT) {
        p = kl_cpymem(p, "; samesite=strict", sizeof("; samesite=strict") - 1);
    }

    if (conf->flags & KL_HTTP_USERID_COOKIE_LAX) {
        p = kl_cpymem(p, "; samesite=lax", sizeof("; samesite=lax") - 1);
    }

    if (conf->flags & KL_HTTP_USERID_COOKIE_NONE) {
        p = kl_cpymem(p, "; samesite=none", sizeof("; samesite=none") - 1);
    }

    set_cookie = kl_list_push(&r->headers_out.headers);
    if (set_cookie == NULL) {
        return KL_ERROR;
    }

    kl_memzero(set_cookie, sizeof(kl_table_elt_t));
    set_cookie->hash = 1;
    kl_str_set(&set_cookie->key, "Set-Cookie");
    set_cookie->value.len = p - cookie;
    set_cookie->value.data = cookie;

    if (conf->p3p.len == 0) {
        return KL_OK;
    }

    p3p = kl_list_push(&r->headers_out.headers);
    if (p3p == NULL) {
        return KL_ERROR;
    }

    kl_memzero(p3p, sizeof(kl_table_elt_t));
    p3p->hash = 1;
    kl_str_set(&p3p->key, "P3P");
    p3p->value = conf->p3p;

    return KL_OK;
}


/*
 * ctx->uid_set: left 0 when the client's cookie stands as it is, the
 * client's uid when only its mark is missing, else a new uid.
 */
static kl_int_t
kl_http_userid_create_uid(kl_http_request_t *r, kl_http_userid_ctx_t *ctx,
                          kl_http_userid_conf_t *conf)
{
    kl_int_t                    rc;
    kl_http_userid_main_conf_t *umcf;

    if (ctx->uid_set[3] != 0) {
        return KL_OK;
    }

    if (ctx->uid_got[3] != 0) {
        rc = kl_http_userid_keep_or_reset(r, ctx, conf);
        if (rc != KL_DECLINED) {
            return rc;
        }
    }

    umcf = kl_http_get_module_main_conf(r, kl_http_userid_filter_module);

    if (conf->enable == KL_HTTP_USERID_V1) {
        /* v1: the words in the machine's order */
        ctx->uid_set[0] =
            (conf->service == KL_CONF_UNSET) ? 0 : (uint32_t) conf->service;
        ctx->uid_set[1] = (uint32_t) kl_loop.clock.sec;
        ctx->uid_set[2] = umcf->start_value;
        ctx->uid_set[3] = umcf->sequencer_v1;
        umcf->sequencer_v1 += 0x100;

        return KL_OK;
    }

    if (conf->service == KL_CONF_UNSET) {
        if (kl_http_userid_server_word(r, &ctx->uid_set[0]) != KL_OK) {
            return KL_ERROR;
        }

    } else {
        ctx->uid_set[0] = htonl((uint32_t) conf->service);
    }

    ctx->uid_set[1] = htonl((uint32_t) kl_loop.clock.sec);
    ctx->uid_set[2] = htonl(umcf->start_value);
    ctx->uid_set[3] = htonl(umcf->sequencer_v2);

    /* nginx's sequence: never a byte below 0x03 in the low word */
    umcf->sequencer_v2 += 0x100;
    if (umcf->sequencer_v2 < 0x03030302) {
        umcf->sequencer_v2 = 0x03030302;
    }

    return KL_OK;
}


/*
 * The client has a uid: KL_OK when it stands (uid_set 0, or the same uid
 * to mark it), KL_DECLINED when $uid_reset asks for a new one.
 */
static kl_int_t
kl_http_userid_keep_or_reset(kl_http_request_t *r, kl_http_userid_ctx_t *ctx,
                             kl_http_userid_conf_t *conf)
{
    u_char                      hex[KL_HTTP_USERID_PRINTED_LEN];
    kl_str_t                    printed;
    kl_http_variable_value_t   *vv;
    kl_http_userid_main_conf_t *umcf;

    umcf = kl_http_get_module_main_conf(r, kl_http_userid_filter_module);

    vv = kl_http_get_indexed_variable(r, (kl_uint_t) umcf->reset_index);
    if (vv == NULL || vv->not_found) {
        return KL_ERROR;
    }

    if (vv->len == 0 || (vv->len == 1 && vv->data[0] == '0')) {
        if (conf->mark == '\0'
            || (ctx->cookie.len > 23 && ctx->cookie.data[22] == conf->mark
                && ctx->cookie.data[23] == '='))
        {
            return KL_OK;
        }

        kl_memcpy(ctx->uid_set, ctx->uid_got, 16);

        return KL_OK;
    }

    ctx->reset = 1;

    if (vv->len == 3 && kl_strncmp(vv->data, "log", 3) == 0) {
        printed.data = hex;
        printed.len = kl_http_userid_print(hex, ctx->uid_got) - hex;
        kl_log_error(KL_LOG_NOTICE, r->connection->log, 0,
                     "userid cookie \"%V=%V\" was reset", &conf->name,
                     &printed);
    }

    return KL_DECLINED;
}


/*
 * The first word of "userid on": the server's IPv4 address as it is in
 * memory, the last four bytes of an IPv6 one, 0 on a unix socket.
 * $server_addr makes the connection learn its local address.
 */
static kl_int_t
kl_http_userid_server_word(kl_http_request_t *r, uint32_t *word)
{
    struct sockaddr            *sa;
    kl_http_variable_value_t   *vv;
    kl_http_userid_main_conf_t *umcf;

    umcf = kl_http_get_module_main_conf(r, kl_http_userid_filter_module);

    vv = kl_http_get_indexed_variable(r, (kl_uint_t) umcf->server_index);
    if (vv == NULL) {
        return KL_ERROR;
    }

    sa = r->connection->local_sockaddr;
    *word = 0;

    if (sa == NULL) {
        return KL_OK;
    }

    switch (sa->sa_family) {

    case AF_INET6:
        kl_memcpy(word, &((struct sockaddr_in6 *) sa)->sin6_addr.s6_addr[12],
                  4);
        break;

    case AF_INET:
        *word = ((struct sockaddr_in *) sa)->sin_addr.s_addr;
        break;

    default:
        break;
    }

    return KL_OK;
}


/* "NAME=" and the 32 hex digits, nginx's form of both variables. */
static kl_int_t
kl_http_userid_variable(kl_http_request_t *r, kl_http_variable_value_t *v,
                        kl_str_t *name, uint32_t *uid)
{
    u_char *p, *start;

    start = kl_pnalloc(r->pool, name->len + 1 + KL_HTTP_USERID_PRINTED_LEN);
    if (start == NULL) {
        return KL_ERROR;
    }

    p = kl_cpymem(start, name->data, name->len);
    *p++ = '=';
    p = kl_http_userid_print(p, uid);

    kl_http_variable_set(v, start, p - start);

    return KL_OK;
}


static kl_int_t
kl_http_userid_got_variable(kl_http_request_t *r, kl_http_variable_value_t *v,
                            uintptr_t data)
{
    kl_http_userid_ctx_t  *ctx;
    kl_http_userid_conf_t *conf;

    (void) data;

    conf = kl_http_get_module_loc_conf(r->main, kl_http_userid_filter_module);

    if (conf->enable == KL_HTTP_USERID_OFF) {
        v->not_found = 1;
        return KL_OK;
    }

    ctx = kl_http_userid_get_uid(r->main, conf);
    if (ctx == NULL) {
        return KL_ERROR;
    }

    if (ctx->uid_got[3] != 0) {
        return kl_http_userid_variable(r->main, v, &conf->name, ctx->uid_got);
    }

    v->not_found = 1;

    return KL_OK;
}


static kl_int_t
kl_http_userid_set_variable(kl_http_request_t *r, kl_http_variable_value_t *v,
                            uintptr_t data)
{
    kl_http_userid_ctx_t  *ctx;
    kl_http_userid_conf_t *conf;

    (void) data;

    conf = kl_http_get_module_loc_conf(r->main, kl_http_userid_filter_module);

    if (conf->enable < KL_HTTP_USERID_V1) {
        v->not_found = 1;
        return KL_OK;
    }

    ctx = kl_http_userid_get_uid(r->main, conf);
    if (ctx == NULL) {
        return KL_ERROR;
    }

    if (kl_http_userid_create_uid(r->main, ctx, conf) != KL_OK) {
        return KL_ERROR;
    }

    if (ctx->uid_set[3] == 0) {
        v->not_found = 1;
        return KL_OK;
    }

    return kl_http_userid_variable(r->main, v, &conf->name, ctx->uid_set);
}


/* $uid_reset is empty until "set $uid_reset ..." says otherwise. */
static kl_int_t
kl_http_userid_reset_variable(kl_http_request_t *r, kl_http_variable_value_t *v,
                              uintptr_t data)
{
    (void) r;
    (void) data;

    kl_http_variable_set(v, (u_char *) "", 0);

    return KL_OK;
}


static kl_int_t
kl_http_userid_add_variables(kl_conf_t *cf)
{
    kl_str_t                    name;
    kl_http_variable_t         *var;
    kl_http_userid_main_conf_t *umcf;

    var = kl_http_add_variable(cf, &kl_http_userid_got, 0);
    if (var == NULL) {
        return KL_ERROR;
    }

    var->get_handler = kl_http_userid_got_variable;

    var = kl_http_add_variable(cf, &kl_http_userid_set, 0);
    if (var == NULL) {
        return KL_ERROR;
    }

    var->get_handler = kl_http_userid_set_variable;

    var =
        kl_http_add_variable(cf, &kl_http_userid_reset, KL_HTTP_VAR_CHANGEABLE);
    if (var == NULL) {
        return KL_ERROR;
    }

    var->get_handler = kl_http_userid_reset_variable;

    umcf = kl_http_conf_get_module_main_conf(cf, kl_http_userid_filter_module);

    umcf->reset_index = kl_http_get_variable_index(cf, &kl_http_userid_reset);
    if (umcf->reset_index == KL_ERROR) {
        return KL_ERROR;
    }

    kl_str_set(&name, "server_addr");
    umcf->server_index = kl_http_get_variable_index(cf, &name);
    if (umcf->server_index == KL_ERROR) {
        return KL_ERROR;
    }

    return KL_OK;
}


static kl_int_t
kl_http_userid_init(kl_conf_t *cf)
{
    kl_http_core_main_conf_t   *cmcf;
    kl_http_userid_main_conf_t *umcf;

    cmcf = kl_http_conf_get_module_main_conf(cf, kl_http_core_module);
    umcf = kl_http_conf_get_module_main_conf(cf, kl_http_userid_filter_module);

    umcf->next_header_filter = cmcf->top_header_filter;
    cmcf->top_header_filter = kl_http_userid_filter;

    return KL_OK;
}


/* nginx's start value: the microseconds / 20 above, the pid below. */
static kl_int_t
kl_http_userid_init_process(kl_cycle_t *cycle)
{
    struct timeval              tv;
    kl_http_conf_ctx_t         *ctx;
    kl_http_userid_main_conf_t *umcf;

    ctx = (kl_http_conf_ctx_t *) cycle->conf_ctx[kl_http_module.index];
    if (ctx == NULL) {
        return KL_OK;
    }

    umcf = ctx->main_conf[kl_http_userid_filter_module.ctx_index];

    gettimeofday(&tv, NULL);

    umcf->start_value =
        ((uint32_t) (tv.tv_usec / 20) << 16) | (uint32_t) kl_loop.pid;

    return KL_OK;
}


static void *
kl_http_userid_create_main_conf(kl_conf_t *cf)
{
    kl_http_userid_main_conf_t *umcf;

    umcf = kl_pcalloc(cf->pool, sizeof(kl_http_userid_main_conf_t));
    if (umcf == NULL) {
        return NULL;
    }

    umcf->sequencer_v1 = 1;
    umcf->sequencer_v2 = 0x03030302;

    return umcf;
}


static void *
kl_http_userid_create_conf(kl_conf_t *cf)
{
    kl_http_userid_conf_t *conf;

    conf = kl_pcalloc(cf->pool, sizeof(kl_http_userid_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    conf->enable = KL_CONF_UNSET_UINT;
    conf->flags = KL_CONF_UNSET_UINT;
    conf->service = KL_CONF_UNSET;
    conf->expires = KL_CONF_UNSET;
    conf->mark = KL_HTTP_USERID_MARK_UNSET;

    return conf;
}


static char *
kl_http_userid_merge_conf(kl_conf_t *cf, void *parent, void *child)
{
    kl_http_userid_conf_t *prev = parent;
    kl_http_userid_conf_t *conf = child;

    (void) cf;

    kl_conf_merge_uint_value(conf->enable, prev->enable, KL_HTTP_USERID_OFF);

    kl_conf_merge_uint_value(conf->flags, prev->flags,
                             KL_HTTP_USERID_COOKIE_OFF);

    kl_conf_merge_str_value(conf->name, prev->name, "uid");
    kl_conf_merge_str_value(conf->domain, prev->domain, "");
    kl_conf_merge_str_value(conf->path, prev->path, "; path=/");
    kl_conf_merge_str_value(conf->p3p, prev->p3p, "");

    kl_conf_merge_value(conf->service, prev->service, KL_CONF_UNSET);
    kl_conf_merge_value(conf->expires, prev->expires, 0);

    if (conf->mark == KL_HTTP_USERID_MARK_UNSET) {
        conf->mark =
            (prev->mark == KL_HTTP_USERID_MARK_UNSET) ? '\0' : prev->mark;
    }

    return KL_CONF_OK;
}


/* A directive's value prefixed (a Set-Cookie attribute), once. */
static char *
kl_http_userid_attribute(kl_conf_t *cf, kl_str_t *field, const char *prefix)
{
    u_char   *p;
    size_t    plen;
    kl_str_t *value;

    if (field->data) {
        return "is duplicate";
    }

    value = cf->args->elts;
    plen = kl_strlen(prefix);

    p = kl_pnalloc(cf->pool, plen + value[1].len);
    if (p == NULL) {
        return KL_CONF_ERROR;
    }

    field->data = p;
    p = kl_cpymem(p, prefix, plen);
    kl_memcpy(p, value[1].data, value[1].len);
    field->len = plen + value[1].len;

    return KL_CONF_OK;
}


/* "userid_domain none" (the default) or a name for "; domain=". */
static char *
kl_http_userid_domain(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_str_t              *value;
    kl_http_userid_conf_t *ucf = conf;

    (void) cmd;

    value = cf->args->elts;

    if (value[1].len == 4 && kl_strncmp(value[1].data, "none", 4) == 0) {
        if (ucf->domain.data) {
            return "is duplicate";
        }

        kl_str_set(&ucf->domain, "");
        return KL_CONF_OK;
    }

    return kl_http_userid_attribute(cf, &ucf->domain, "; domain=");
}


static char *
kl_http_userid_path(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_http_userid_conf_t *ucf = conf;

    (void) cmd;

    return kl_http_userid_attribute(cf, &ucf->path, "; path=");
}


/* "userid_p3p none" (the default) or the P3P field's value. */
static char *
kl_http_userid_p3p(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_str_t              *value;
    kl_http_userid_conf_t *ucf = conf;

    (void) cmd;

    if (ucf->p3p.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 4 && kl_strncmp(value[1].data, "none", 4) == 0) {
        kl_str_set(&ucf->p3p, "");
        return KL_CONF_OK;
    }

    ucf->p3p = value[1];

    return KL_CONF_OK;
}


static char *
kl_http_userid_expires(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_int_t               n;
    kl_str_t              *value;
    kl_http_userid_conf_t *ucf = conf;

    (void) cmd;

    if (ucf->expires != KL_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 3 && kl_strncmp(value[1].data, "max", 3) == 0) {
        ucf->expires = KL_HTTP_USERID_MAX_EXPIRES;
        return KL_CONF_OK;
    }

    if (value[1].len == 3 && kl_strncmp(value[1].data, "off", 3) == 0) {
        ucf->expires = 0;
        return KL_CONF_OK;
    }

    n = kl_conf_parse_time(&value[1], 1);
    if (n == KL_ERROR) {
        return "invalid value";
    }

    ucf->expires = (time_t) n;

    return KL_CONF_OK;
}


/* "off", or one letter, digit or "=": the 23rd character of the cookie. */
static char *
kl_http_userid_mark(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    u_char                 c;
    kl_str_t              *value;
    kl_http_userid_conf_t *ucf = conf;

    (void) cmd;

    if (ucf->mark != KL_HTTP_USERID_MARK_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 3 && kl_strncmp(value[1].data, "off", 3) == 0) {
        ucf->mark = '\0';
        return KL_CONF_OK;
    }

    c = value[1].data[0];

    if (value[1].len != 1
        || !((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z')
             || (c >= 'a' && c <= 'z') || c == '='))
    {
        return "value must be \"off\" or a single letter, digit or \"=\"";
    }

    ucf->mark = c;

    return KL_CONF_OK;
}
