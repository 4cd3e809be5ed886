/*
 * core_limits.c: the HTTP core module's per-connection limits: limit_rate
 * and limit_rate_after (sizes that may hold variables, and the writable
 * $limit_rate), and keepalive_disable with the User-Agent classes nginx
 * keeps (which msie_padding and msie_refresh also read).
 *
 * limit_rate throttles as nginx's write filter does: a response may have
 * sent rate * (seconds since the request began + 1) bytes past
 * limit_rate_after; beyond that the write event is "delayed" with a timer
 * for when the allowance covers what was sent, and each send delays the
 * next by the time its bytes take at the rate. Nothing spins and nothing
 * sleeps: the loop serves other connections until the timer fires, and
 * kl_http_request_handler clears the delay before the writer runs.
 */

#include "kl_http.h"
#include "core_limits.h"


/* A size directive's value: a literal read at configuration, or a script. */
typedef struct {
    kl_http_complex_value_t *cv; /* NULL for a literal */
    size_t                   size;
} kl_http_size_value_t;


static kl_int_t kl_http_variable_limit_rate(kl_http_request_t        *r,
                                            kl_http_variable_value_t *v,
                                            uintptr_t                 data);
static void     kl_http_variable_set_limit_rate(kl_http_request_t        *r,
                                                kl_http_variable_value_t *v,
                                                uintptr_t                 data);


#define kl_ua_has(p, last, s) (kl_strnstr(p, last, s, sizeof(s) - 1) != NULL)


kl_uint_t
kl_http_user_agent_parse(const u_char *value, size_t len)
{
    u_char   *p, *last, *msie;
    kl_uint_t ua;

    p = (u_char *) value;
    last = p + len;
    ua = 0;

    msie = kl_strnstr(p, last, "MSIE ", 5);

    /* "MSIE " D "." D: the version's bytes must be there to be read. */
    if (msie && msie + 7 < last) {
        ua |= KL_HTTP_UA_MSIE;

        if (msie[6] == '.') {
            if (msie[5] == '4' || msie[5] == '5') {
                ua |= KL_HTTP_UA_MSIE6;

            } else if (msie[5] == '6' && !kl_ua_has(msie + 8, last, "SV1")) {
                ua |= KL_HTTP_UA_MSIE6;
            }
        }
    }

    if (kl_ua_has(p, last, "Opera")) {
        ua = KL_HTTP_UA_OPERA;
    }

    if (ua & (KL_HTTP_UA_MSIE | KL_HTTP_UA_OPERA)) {
        return ua;
    }

    if (kl_ua_has(p, last, "Gecko/")) {
        ua |= KL_HTTP_UA_GECKO;

    } else if (kl_ua_has(p, last, "Chrome/")) {
        ua |= KL_HTTP_UA_CHROME;

    } else if (kl_ua_has(p, last, "Safari/") && kl_ua_has(p, last, "Mac OS X"))
    {
        ua |= KL_HTTP_UA_SAFARI;

    } else if (kl_ua_has(p, last, "Konqueror")) {
        ua |= KL_HTTP_UA_KONQUEROR;
    }

    return ua;
}


kl_uint_t
kl_http_keepalive_disabled(kl_http_request_t *r, kl_http_core_loc_conf_t *clcf)
{
    kl_uint_t       ua;
    kl_table_elt_t *h;

    h = r->headers_in.user_agent;

    /*
     * The User-Agent is read only when it can matter: for msie6 (the
     * default), only a POST's; a GET on the hot path reads none of it.
     */
    if (h == NULL
        || !((clcf->keepalive_disable & KL_HTTP_KEEPALIVE_DISABLE_SAFARI)
             || ((clcf->keepalive_disable & KL_HTTP_KEEPALIVE_DISABLE_MSIE6)
                 && r->method == KL_HTTP_POST)))
    {
        return 0;
    }

    ua = kl_http_user_agent_parse(h->value.data, h->value.len);

    /* MSIE may wait a while for the answer to a POST on a kept connection. */
    if ((ua & KL_HTTP_UA_MSIE6) && r->method == KL_HTTP_POST
        && (clcf->keepalive_disable & KL_HTTP_KEEPALIVE_DISABLE_MSIE6))
    {
        return 1;
    }

    /* Safari may send a POST on a kept connection the server has closed. */
    return (ua & KL_HTTP_UA_SAFARI)
           && (clcf->keepalive_disable & KL_HTTP_KEEPALIVE_DISABLE_SAFARI);
}


/* nginx's six comment lines, byte for byte: clients compare the length. */
#define KL_HTTP_MSIE_PADDING_LINE                                              \
    "<!-- a padding to disable MSIE and Chrome friendly error page "           \
    "-->" KL_CRLF

static const char kl_http_msie_padding_text[] =
    KL_HTTP_MSIE_PADDING_LINE KL_HTTP_MSIE_PADDING_LINE
        KL_HTTP_MSIE_PADDING_LINE KL_HTTP_MSIE_PADDING_LINE
            KL_HTTP_MSIE_PADDING_LINE KL_HTTP_MSIE_PADDING_LINE;

static const char kl_http_refresh_head[] =
    "<html><head><meta http-equiv=\"Refresh\" content=\"0; URL=";
static const char kl_http_refresh_tail[] =
    "\"></head><body></body></html>" KL_CRLF;


static kl_uint_t
kl_http_request_user_agent(kl_http_request_t *r)
{
    kl_table_elt_t *h;

    h = r->headers_in.user_agent;

    return h ? kl_http_user_agent_parse(h->value.data, h->value.len) : 0;
}


void
kl_http_msie_padding(kl_http_request_t *r, kl_uint_t status, kl_str_t *padding)
{
    kl_http_core_loc_conf_t *clcf;

    clcf = kl_http_get_module_loc_conf(r, kl_http_core_module);
    kl_str_null(padding);

    if (clcf->msie_padding && status >= KL_HTTP_BAD_REQUEST
        && r->http_version >= KL_HTTP_VERSION_10
        && (kl_http_request_user_agent(r)
            & (KL_HTTP_UA_MSIE | KL_HTTP_UA_CHROME)))
    {
        padding->data = (u_char *) kl_http_msie_padding_text;
        padding->len = sizeof(kl_http_msie_padding_text) - 1;
    }
}


/* nginx's refresh escaping: space, quotes, controls, DEL and 8-bit bytes. */
static kl_uint_t
kl_http_refresh_escaped(u_char c)
{
    return c <= ' ' || c == '"' || c == '\'' || c >= 0x7f;
}


kl_int_t
kl_http_msie_refresh(kl_http_request_t *r, kl_uint_t status)
{
    size_t                   len, n, i;
    u_char                  *p, *loc;
    kl_int_t                 rc;
    kl_buf_t                *b;
    kl_chain_t               out;
    kl_http_core_loc_conf_t *clcf;
    static const u_char      hex[] = "0123456789ABCDEF";

    clcf = kl_http_get_module_loc_conf(r, kl_http_core_module);

    if (!clcf->msie_refresh || r->headers_out.location == NULL
        || (status != KL_HTTP_MOVED_PERMANENTLY
            && status != KL_HTTP_MOVED_TEMPORARILY)
        || !(kl_http_request_user_agent(r) & KL_HTTP_UA_MSIE))
    {
        return KL_DECLINED;
    }

    loc = r->headers_out.location->value.data;
    n = r->headers_out.location->value.len;
    len = sizeof(kl_http_refresh_head) - 1 + sizeof(kl_http_refresh_tail) - 1;

    for (i = 0; i < n; i++) {
        len += kl_http_refresh_escaped(loc[i]) ? 3 : 1;
    }

    /* The page is the answer: 200, and no Location for the client. */
    r->err_status = KL_HTTP_OK;
    r->headers_out.status = KL_HTTP_OK;
    r->headers_out.location->hash = 0;
    r->headers_out.location = NULL;
    r->headers_out.content_length_n = (off_t) len;
    kl_str_set(&r->headers_out.content_type, "text/html");
    r->headers_out.content_type_len = sizeof("text/html") - 1;

    rc = kl_http_send_header(r);

    if (rc == KL_ERROR || r->header_only) {
        return rc;
    }

    b = kl_buf_create_temp(r->pool, len);
    if (b == NULL) {
        return KL_ERROR;
    }

    p = kl_cpymem(b->last, kl_http_refresh_head,
                  sizeof(kl_http_refresh_head) - 1);

    for (i = 0; i < n; i++) {
        if (kl_http_refresh_escaped(loc[i])) {
            *p++ = '%';
            *p++ = hex[loc[i] >> 4];
            *p++ = hex[loc[i] & 0x0f];

        } else {
            *p++ = loc[i];
        }
    }

    b->last =
        kl_cpymem(p, kl_http_refresh_tail, sizeof(kl_http_refresh_tail) - 1);
    b->last_buf = 1;

    out.buf = b;
    out.next = NULL;

    return kl_http_output_filter(r, &out);
}


char *
kl_http_set_complex_value_size_slot(kl_conf_t *cf, kl_command_t *cmd,
                                    void *conf)
{
    char                 *p;
    void                **field;
    kl_str_t             *value;
    ssize_t               size;
    kl_http_size_value_t *sv;

    p = conf;
    field = (void **) (p + cmd->offset);

    if (*field != KL_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    sv = kl_pcalloc(cf->pool, sizeof(kl_http_size_value_t));
    if (sv == NULL) {
        return KL_CONF_ERROR;
    }

    if (kl_http_script_variables_count(&value[1]) == 0) {
        size = kl_conf_parse_size(&value[1]);
        if (size == KL_ERROR) {
            return "invalid value";
        }

        sv->size = (size_t) size;

    } else {
        sv->cv = kl_http_compile_value(cf, &value[1]);
        if (sv->cv == NULL) {
            return KL_CONF_ERROR;
        }
    }

    *field = sv;

    return KL_CONF_OK;
}


char *
kl_http_core_send_lowat(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    char *rv;

    rv = kl_conf_set_size_slot(cf, cmd, conf);

    if (rv != KL_CONF_OK) {
        return rv;
    }

    if (((kl_http_core_loc_conf_t *) conf)->send_lowat != 0) {
        return "is not supported on Linux (SO_SNDLOWAT cannot be set): "
               "only 0 is accepted";
    }

    return KL_CONF_OK;
}


char *
kl_http_core_read_ahead(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    char *rv;

    rv = kl_conf_set_size_slot(cf, cmd, conf);

    if (rv != KL_CONF_OK) {
        return rv;
    }

    if (((kl_http_core_loc_conf_t *) conf)->read_ahead != 0) {
        return "is not supported: kiln gives no read-ahead hint, "
               "only 0 is accepted";
    }

    return KL_CONF_OK;
}


char *
kl_http_core_aio_write(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    char *rv;

    rv = kl_conf_set_flag_slot(cf, cmd, conf);

    if (rv != KL_CONF_OK) {
        return rv;
    }

    if (((kl_http_core_loc_conf_t *) conf)->aio_write) {
        return "is not supported: temporary files are written without "
               "aio, only \"off\" is accepted";
    }

    return KL_CONF_OK;
}


/* The size sv says for r; dflt when unset, or when a value is not a size. */
static size_t
kl_http_size_value(kl_http_request_t *r, kl_http_size_value_t *sv, size_t dflt)
{
    ssize_t  size;
    kl_str_t value;

    if (sv == NULL) {
        return dflt;
    }

    if (sv->cv == NULL) {
        return sv->size;
    }

    if (kl_http_complex_value(r, sv->cv, &value) != KL_OK) {
        return dflt;
    }

    size = kl_conf_parse_size(&value);

    if (size == KL_ERROR) {
        kl_log_error(KL_LOG_ERR, r->connection->log, 0, "invalid size \"%V\"",
                     &value);
        return dflt;
    }

    return (size_t) size;
}


kl_int_t
kl_http_core_limits_add_variables(kl_conf_t *cf)
{
    kl_str_t            name = kl_string("limit_rate");
    kl_http_variable_t *v;

    v = kl_http_add_variable(cf, &name,
                             KL_HTTP_VAR_CHANGEABLE | KL_HTTP_VAR_NOCACHEABLE);
    if (v == NULL) {
        return KL_ERROR;
    }

    v->get_handler = kl_http_variable_limit_rate;
    v->set_handler = kl_http_variable_set_limit_rate;

    return KL_OK;
}


/* As nginx: the rate the write filter took, or 0 before the first write. */
static kl_int_t
kl_http_variable_limit_rate(kl_http_request_t *r, kl_http_variable_value_t *v,
                            uintptr_t data)
{
    u_char *p;

    (void) data;

    p = kl_pnalloc(r->pool, KL_INT_T_LEN);
    if (p == NULL) {
        return KL_ERROR;
    }

    v->len = kl_sprint_uint(p, r->limit_rate) - p;
    v->data = p;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return KL_OK;
}


static void
kl_http_variable_set_limit_rate(kl_http_request_t        *r,
                                kl_http_variable_value_t *v, uintptr_t data)
{
    ssize_t  size;
    kl_str_t value;

    (void) data;

    value.len = v->len;
    value.data = v->data;

    size = kl_conf_parse_size(&value);

    if (size == KL_ERROR) {
        kl_log_error(KL_LOG_ERR, r->connection->log, 0,
                     "invalid $limit_rate \"%V\"", &value);
        return;
    }

    r->limit_rate = (size_t) size;
    r->limit_rate_set = 1;
}


off_t
kl_http_limit_rate_allowance(kl_http_request_t *r, off_t max)
{
    off_t                    limit, rate, elapsed;
    kl_msec_t                delay;
    kl_connection_t         *c;
    kl_http_core_loc_conf_t *clcf;

    clcf = kl_http_get_module_loc_conf(r, kl_http_core_module);
    c = r->connection;

    if (!r->limit_rate_set) {
        r->limit_rate = kl_http_size_value(r, clcf->limit_rate, 0);
        r->limit_rate_set = 1;
    }

    if (r->limit_rate == 0) {
        return max;
    }

    if (!r->limit_rate_after_set) {
        r->limit_rate_after = kl_http_size_value(r, clcf->limit_rate_after, 0);
        r->limit_rate_after_set = 1;
    }

    rate = (off_t) kl_min(r->limit_rate, (size_t) KL_MAX_OFF_T_VALUE / 2);

    /* One second's worth from the start, then rate a second (ms here). */
    elapsed = (off_t) (kl_msec_int_t) (kl_now() - r->start_msec) + 1000;

    if (elapsed > 0 && rate > KL_MAX_OFF_T_VALUE / 2 / elapsed) {
        return max;
    }

    limit = rate * kl_max(elapsed, 0) / 1000
            - (c->sent
               - (off_t) kl_min(r->limit_rate_after,
                                (size_t) KL_MAX_OFF_T_VALUE / 2));

    if (limit <= 0) {
        delay = (kl_msec_t) (-limit * 1000 / rate + 1);

        c->write->delayed = 1;
        kl_event_add_timer(c->write, delay);

        return 0;
    }

    return (max && max < limit) ? max : limit;
}


void
kl_http_limit_rate_sent(kl_http_request_t *r, off_t sent)
{
    off_t            after, nsent;
    kl_msec_t        delay;
    kl_connection_t *c;

    if (r->limit_rate == 0) {
        return;
    }

    c = r->connection;
    nsent = c->sent;
    after =
        (off_t) kl_min(r->limit_rate_after, (size_t) KL_MAX_OFF_T_VALUE / 2);

    /* Only bytes past limit_rate_after count against the rate. */
    sent = kl_max(sent - after, 0);
    nsent = kl_max(nsent - after, 0);

    delay = (kl_msec_t) ((nsent - sent) * 1000 / (off_t) r->limit_rate);

    if (delay > 0) {
        c->write->delayed = 1;
        kl_event_add_timer(c->write, delay);
    }
}
