/*
 * stub_status.c: "stub_status", the connection and request counts of all
 * workers as nginx prints them, and the $connections_* variables.
 *
 * The counts are kept by the events module in its "kiln_stat" zone
 * (core/event.h, kl_stat_t): accept and close in core, request start
 * and the end of its head in the HTTP engine. This module only reads
 * them, so a worker's cost is the handful of relaxed atomic adds, whether
 * or not a location shows them. Reads are not one snapshot: a count may
 * move between two loads, so "waiting", derived, is held at 0 or above.
 */

#include "kl_http.h"


typedef struct {
    kl_uint_t active;
    kl_uint_t accepted;
    kl_uint_t handled;
    kl_uint_t requests;
    kl_uint_t reading;
    kl_uint_t writing;
    kl_uint_t waiting;
} kl_http_stub_status_counts_t;


static kl_int_t kl_http_stub_status_handler(kl_http_request_t *r);
static void     kl_http_stub_status_read(kl_http_stub_status_counts_t *n);
static kl_int_t kl_http_stub_status_variable(kl_http_request_t        *r,
                                             kl_http_variable_value_t *v,
                                             uintptr_t                 data);
static kl_int_t kl_http_stub_status_add_variables(kl_conf_t *cf);
static char    *kl_http_set_stub_status(kl_conf_t *cf, kl_command_t *cmd,
                                        void *conf);


/* Directive tables keep one field a line, as nginx's do. */
/* clang-format off */
static kl_command_t  kl_http_stub_status_commands[] = {

    { kl_string("stub_status"),
      KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_NOARGS | KL_CONF_TAKE1,
      kl_http_set_stub_status,
      0,
      0,
      NULL },

    kl_null_command
};
/* clang-format on */


static kl_http_module_t kl_http_stub_status_module_ctx = {
    .preconfiguration = kl_http_stub_status_add_variables,
};


kl_module_t kl_http_stub_status_module = {
    .name = "kl_http_stub_status_module",
    .type = KL_HTTP_MODULE,
    .ctx = &kl_http_stub_status_module_ctx,
    .commands = kl_http_stub_status_commands,
};


/* The variables' data: which count. */
#define KL_HTTP_STUB_ACTIVE  0
#define KL_HTTP_STUB_READING 1
#define KL_HTTP_STUB_WRITING 2
#define KL_HTTP_STUB_WAITING 3

static kl_str_t kl_http_stub_status_var_names[] = {
    kl_string("connections_active"),
    kl_string("connections_reading"),
    kl_string("connections_writing"),
    kl_string("connections_waiting"),
};


static kl_int_t
kl_http_stub_status_handler(kl_http_request_t *r)
{
    size_t                       size;
    kl_int_t                     rc;
    kl_buf_t                    *b;
    kl_chain_t                   out;
    kl_http_stub_status_counts_t n;

    if (!(r->method & (KL_HTTP_GET | KL_HTTP_HEAD))) {
        return KL_HTTP_NOT_ALLOWED;
    }

    rc = kl_http_discard_request_body(r);
    if (rc != KL_OK) {
        return rc;
    }

    kl_str_set(&r->headers_out.content_type, "text/plain");
    r->headers_out.content_type_len = r->headers_out.content_type.len;

    size = sizeof("Active connections:  \n") + KL_INT_T_LEN
           + sizeof("server accepts handled requests\n") - 1 + 6
           + 3 * KL_INT_T_LEN + sizeof("Reading:  Writing:  Waiting:  \n")
           + 3 * KL_INT_T_LEN;

    b = kl_buf_create_temp(r->pool, size);
    if (b == NULL) {
        return KL_HTTP_INTERNAL_SERVER_ERROR;
    }

    kl_http_stub_status_read(&n);

    /* nginx's text, to the byte: the spaces before each newline too. */
    b->last =
        kl_slprintf(b->last, b->end, "Active connections: %ui \n", n.active);
    b->last = kl_slprintf(b->last, b->end,
                          "server accepts handled requests\n"
                          " %ui %ui %ui \n",
                          n.accepted, n.handled, n.requests);
    b->last = kl_slprintf(b->last, b->end,
                          "Reading: %ui Writing: %ui Waiting: %ui \n",
                          n.reading, n.writing, n.waiting);

    r->headers_out.status = KL_HTTP_OK;
    r->headers_out.content_length_n = b->last - b->pos;

    b->last_buf = (r == r->main);
    b->last_in_chain = 1;

    rc = kl_http_send_header(r);

    if (rc == KL_ERROR || rc > KL_OK || r->header_only) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;

    return kl_http_output_filter(r, &out);
}


static void
kl_http_stub_status_read(kl_http_stub_status_counts_t *n)
{
    kl_stat_t *st;

    kl_memzero(n, sizeof(kl_http_stub_status_counts_t));

    st = kl_cycle->stat;
    if (st == NULL) {
        return;
    }

    n->accepted = __atomic_load_n(&st->accepted, __ATOMIC_RELAXED);
    n->handled = __atomic_load_n(&st->handled, __ATOMIC_RELAXED);
    n->active = __atomic_load_n(&st->active, __ATOMIC_RELAXED);
    n->requests = __atomic_load_n(&st->requests, __ATOMIC_RELAXED);
    n->reading = __atomic_load_n(&st->reading, __ATOMIC_RELAXED);
    n->writing = __atomic_load_n(&st->writing, __ATOMIC_RELAXED);

    if (n->active > n->reading + n->writing) {
        n->waiting = n->active - (n->reading + n->writing);
    }
}


static kl_int_t
kl_http_stub_status_variable(kl_http_request_t *r, kl_http_variable_value_t *v,
                             uintptr_t data)
{
    u_char                      *p;
    kl_uint_t                    value;
    kl_http_stub_status_counts_t n;

    p = kl_pnalloc(r->pool, KL_INT_T_LEN);
    if (p == NULL) {
        return KL_ERROR;
    }

    kl_http_stub_status_read(&n);

    switch (data) {
    case KL_HTTP_STUB_ACTIVE:
        value = n.active;
        break;
    case KL_HTTP_STUB_READING:
        value = n.reading;
        break;
    case KL_HTTP_STUB_WRITING:
        value = n.writing;
        break;
    default:
        value = n.waiting;
        break;
    }

    v->len = kl_sprint_uint(p, value) - p;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;
    v->data = p;

    return KL_OK;
}


static kl_int_t
kl_http_stub_status_add_variables(kl_conf_t *cf)
{
    kl_uint_t           i;
    kl_http_variable_t *v;

    for (i = 0; i < 4; i++) {
        v = kl_http_add_variable(cf, &kl_http_stub_status_var_names[i],
                                 KL_HTTP_VAR_NOCACHEABLE);
        if (v == NULL) {
            return KL_ERROR;
        }

        v->get_handler = kl_http_stub_status_variable;
        v->data = i;
    }

    return KL_OK;
}


/*
 * "stub_status;" or, as before nginx 1.7.5, "stub_status on;". nginx
 * takes any word there, "off" included, and turns the page on all the
 * same: kiln refuses what it would not honour.
 */
static char *
kl_http_set_stub_status(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_str_t                *value;
    kl_http_core_loc_conf_t *clcf;

    (void) cmd;
    (void) conf;

    value = cf->args->elts;

    if (cf->args->nelts == 2
        && !(value[1].len == 2 && kl_strncmp(value[1].data, "on", 2) == 0))
    {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                          "invalid parameter \"%V\": \"stub_status\" "
                          "takes no parameter, or \"on\"",
                          &value[1]);
        return KL_CONF_ERROR;
    }

    clcf = kl_http_conf_get_module_loc_conf(cf, kl_http_core_module);
    clcf->handler = kl_http_stub_status_handler;

    return KL_CONF_OK;
}
