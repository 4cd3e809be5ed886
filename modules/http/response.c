/*
 * response.c: sending headers and bodies through the filter chains,
 * nginx's built-in error pages, and finishing and freeing requests; what
 * becomes of the connection then is the protocol's (r->proto->finalize,
 * r->proto->close).
 *
 * A request ends through kl_http_finalize_request(r, rc): rc is an HTTP
 * status (an error page is sent), KL_OK (the response is complete once
 * the output drains), KL_AGAIN (output is still queued), KL_DONE (some
 * other path owns the request now), or KL_ERROR (close it). As in nginx,
 * r->count counts the paths that still hold the request.
 */

#include "kl_http.h"
#include "try_files.h"
#include "core_limits.h"


static void     kl_http_writer(kl_http_request_t *r);
static void     kl_http_set_write_handler(kl_http_request_t *r);
static void     kl_http_clean_header(kl_http_request_t *r);
static kl_int_t kl_http_send_error_page(kl_http_request_t  *r,
                                        kl_http_err_page_t *err_page);
static kl_int_t kl_http_send_error_page(kl_http_request_t  *r,
                                        kl_http_err_page_t *err_page);


#define kl_http_status(code, text)                                             \
    {                                                                          \
        sizeof(#code " " text) - 1, (u_char *) #code " " text                  \
    }

static kl_str_t kl_http_status_2xx[] = {
    kl_http_status(200, "OK"),
    kl_http_status(201, "Created"),
    kl_http_status(202, "Accepted"),
    kl_null_string,
    kl_http_status(204, "No Content"),
    kl_null_string,
    kl_http_status(206, "Partial Content"),
};

static kl_str_t kl_http_status_3xx[] = {
    kl_null_string,
    kl_http_status(301, "Moved Permanently"),
    kl_http_status(302, "Moved Temporarily"),
    kl_http_status(303, "See Other"),
    kl_http_status(304, "Not Modified"),
    kl_null_string,
    kl_null_string,
    kl_http_status(307, "Temporary Redirect"),
    kl_http_status(308, "Permanent Redirect"),
};

static kl_str_t kl_http_status_4xx[] = {
    kl_http_status(400, "Bad Request"),
    kl_http_status(401, "Unauthorized"),
    kl_http_status(402, "Payment Required"),
    kl_http_status(403, "Forbidden"),
    kl_http_status(404, "Not Found"),
    kl_http_status(405, "Not Allowed"),
    kl_http_status(406, "Not Acceptable"),
    kl_null_string,
    kl_http_status(408, "Request Time-out"),
    kl_http_status(409, "Conflict"),
    kl_http_status(410, "Gone"),
    kl_http_status(411, "Length Required"),
    kl_http_status(412, "Precondition Failed"),
    kl_http_status(413, "Request Entity Too Large"),
    kl_http_status(414, "Request-URI Too Large"),
    kl_http_status(415, "Unsupported Media Type"),
    kl_http_status(416, "Requested Range Not Satisfiable"),
    kl_null_string,
    kl_null_string,
    kl_null_string,
    kl_null_string,
    kl_http_status(421, "Misdirected Request"),
    kl_null_string,
    kl_null_string,
    kl_null_string,
    kl_null_string,
    kl_null_string,
    kl_null_string,
    kl_null_string,
    kl_http_status(429, "Too Many Requests"),
    kl_null_string,
    kl_http_status(431, "Request Header Fields Too Large"),
};

static kl_str_t kl_http_status_5xx[] = {
    kl_http_status(500, "Internal Server Error"),
    kl_http_status(501, "Not Implemented"),
    kl_http_status(502, "Bad Gateway"),
    kl_http_status(503, "Service Temporarily Unavailable"),
    kl_http_status(504, "Gateway Time-out"),
    kl_http_status(505, "HTTP Version Not Supported"),
    kl_null_string,
    kl_http_status(507, "Insufficient Storage"),
};


kl_str_t *
kl_http_status_text(kl_uint_t status)
{
    kl_str_t *table;
    kl_uint_t n;

    switch (status / 100) {
    case 2:
        table = kl_http_status_2xx;
        n = sizeof(kl_http_status_2xx) / sizeof(kl_str_t);
        break;
    case 3:
        table = kl_http_status_3xx;
        n = sizeof(kl_http_status_3xx) / sizeof(kl_str_t);
        break;
    case 4:
        table = kl_http_status_4xx;
        n = sizeof(kl_http_status_4xx) / sizeof(kl_str_t);
        break;
    case 5:
        table = kl_http_status_5xx;
        n = sizeof(kl_http_status_5xx) / sizeof(kl_str_t);
        break;
    default:
        return NULL;
    }

    status %= 100;

    if (status >= n || table[status].len == 0) {
        return NULL;
    }

    return &table[status];
}


kl_int_t
kl_http_send_header(kl_http_request_t *r)
{
    kl_http_core_main_conf_t *cmcf;

    if (r->header_sent) {
        kl_log_error(KL_LOG_ALERT, r->connection->log, 0,
                     "header already sent");
        return KL_ERROR;
    }

    if (r->err_status) {
        r->headers_out.status = r->err_status;
        kl_str_null(&r->headers_out.status_line);
    }

    cmcf = kl_http_get_module_main_conf(r, kl_http_core_module);

    return cmcf->top_header_filter(r);
}


kl_int_t
kl_http_output_filter(kl_http_request_t *r, kl_chain_t *in)
{
    kl_int_t                  rc;
    kl_http_core_main_conf_t *cmcf;

    cmcf = kl_http_get_module_main_conf(r, kl_http_core_module);

    rc = cmcf->top_body_filter(r, in);

    if (rc == KL_ERROR) {
        r->connection->error = 1;
    }

    return rc;
}


static const char kl_http_error_tail_build[] =
    "<hr><center>" KL_VER "</center>" KL_CRLF "</body>" KL_CRLF
    "</html>" KL_CRLF;

static const char kl_http_error_tail[] =
    "<hr><center>kiln</center>" KL_CRLF "</body>" KL_CRLF "</html>" KL_CRLF;


/*
 * nginx's own codes 494-497 go out as 400 with a page that says why:
 * its title names the reason, a line under the heading repeats it.
 */
static const char *
kl_http_status_detail(kl_uint_t status)
{
    switch (status) {
    case KL_HTTP_REQUEST_HEADER_OR_COOKIE_TOO_LARGE:
        return "Request Header Or Cookie Too Large";
    case KL_HTTPS_CERT_ERROR:
        return "The SSL certificate error";
    case KL_HTTPS_NO_CERT:
        return "No required SSL certificate was sent";
    case KL_HTTP_TO_HTTPS:
        return "The plain HTTP request was sent to HTTPS port";
    default:
        return NULL;
    }
}


static kl_int_t
kl_http_send_page(kl_http_request_t *r, kl_uint_t status)
{
    kl_str_t                 found;
    kl_int_t                 rc;
    size_t                   len;
    u_char                  *p;
    kl_str_t                *text;
    kl_buf_t                *b, *tb;
    kl_chain_t              *out;
    kl_http_core_loc_conf_t *clcf;
    const char              *tail;
    size_t                   tail_len;
    kl_str_t                 padding, title, detail;
    u_char                   tbuf[128];

    kl_str_null(&detail);
    detail.data = (u_char *) kl_http_status_detail(status);

    if (detail.data) {
        detail.len = kl_strlen(detail.data);
        status = KL_HTTP_BAD_REQUEST;
    }

    text = kl_http_status_text(status);

    /* nginx's 302 page says "Found" under a "Moved Temporarily" status. */
    if (status == KL_HTTP_MOVED_TEMPORARILY) {
        kl_str_set(&found, "302 Found");
        text = &found;
    }

    if (text == NULL) {
        /* A status nginx has no page for: an empty body, no type. */
        r->headers_out.content_length_n = 0;

        rc = kl_http_send_header(r);

        if (rc == KL_ERROR || r->header_only) {
            return rc;
        }

        b = kl_buf_calloc(r->pool);
        out = kl_palloc(r->pool, sizeof(kl_chain_t));
        if (b == NULL || out == NULL) {
            return KL_ERROR;
        }

        b->last_buf = 1;
        out->buf = b;
        out->next = NULL;

        return kl_http_output_filter(r, out);
    }

    clcf = kl_http_get_module_loc_conf(r, kl_http_core_module);

    if (clcf->server_tokens) {
        tail = kl_http_error_tail_build;
        tail_len = sizeof(kl_http_error_tail_build) - 1;
    } else {
        tail = kl_http_error_tail;
        tail_len = sizeof(kl_http_error_tail) - 1;
    }

    title = *text;

    if (detail.len) {
        title.data = tbuf;
        title.len =
            kl_slprintf(tbuf, tbuf + sizeof(tbuf), "400 %V", &detail) - tbuf;
    }

    len = sizeof("<html>" KL_CRLF "<head><title></title></head>" KL_CRLF
                 "<body>" KL_CRLF "<center><h1></h1></center>" KL_CRLF)
          - 1 + title.len + text->len
          + (detail.len ? sizeof("<center></center>" KL_CRLF) - 1 + detail.len
                        : 0);

    kl_http_msie_padding(r, status, &padding);

    b = kl_buf_create_temp(r->pool, len + (padding.len ? tail_len : 0));
    tb = kl_buf_calloc(r->pool);
    out = kl_palloc(r->pool, 2 * sizeof(kl_chain_t));

    if (b == NULL || tb == NULL || out == NULL) {
        return KL_ERROR;
    }

    p = b->last;
    p = kl_cpymem(p, "<html>" KL_CRLF "<head><title>",
                  sizeof("<html>" KL_CRLF "<head><title>") - 1);
    p = kl_cpymem(p, title.data, title.len);
    p = kl_cpymem(
        p, "</title></head>" KL_CRLF "<body>" KL_CRLF "<center><h1>",
        sizeof("</title></head>" KL_CRLF "<body>" KL_CRLF "<center><h1>") - 1);
    p = kl_cpymem(p, text->data, text->len);
    p = kl_cpymem(p, "</h1></center>" KL_CRLF,
                  sizeof("</h1></center>" KL_CRLF) - 1);

    if (detail.len) {
        p = kl_cpymem(p, "<center>", sizeof("<center>") - 1);
        p = kl_cpymem(p, detail.data, detail.len);
        p = kl_cpymem(p, "</center>" KL_CRLF, sizeof("</center>" KL_CRLF) - 1);
    }

    b->last = p;

    tb->pos = (u_char *) tail;
    tb->last = (u_char *) tail + tail_len;
    tb->memory = 1;
    tb->last_buf = 1;

    /* The padding follows the page, as in nginx. */
    if (padding.len) {
        b->last = kl_cpymem(b->last, tail, tail_len);
        tb->pos = padding.data;
        tb->last = padding.data + padding.len;
        tail_len = padding.len;
    }

    r->headers_out.content_length_n = (off_t) ((b->last - b->pos) + tail_len);
    kl_str_set(&r->headers_out.content_type, "text/html");
    r->headers_out.content_type_len = sizeof("text/html") - 1;

    rc = kl_http_send_header(r);

    if (rc == KL_ERROR || r->header_only) {
        return rc;
    }

    out[0].buf = b;
    out[0].next = &out[1];
    out[1].buf = tb;
    out[1].next = NULL;

    return kl_http_output_filter(r, out);
}


/* An error_page directive applies: redirect internally, or to a URL. */
static kl_int_t
kl_http_send_error_page(kl_http_request_t *r, kl_http_err_page_t *err_page)
{
    size_t          len;
    u_char         *p, *q;
    kl_str_t        uri, args, location;
    kl_table_elt_t *h;

    if (err_page->overwrite >= 0) {
        r->err_status = (kl_uint_t) err_page->overwrite;
    }

    uri = err_page->uri;
    args = err_page->args;

    if (err_page->value) {
        if (kl_http_complex_value(r, err_page->value, &uri) != KL_OK) {
            return KL_ERROR;
        }

        /* As nginx: an internal URI's query is split off once built. */
        q = uri.len && uri.data[0] == '/' ? memchr(uri.data, '?', uri.len)
                                          : NULL;
        if (q) {
            args.data = q + 1;
            args.len = uri.data + uri.len - args.data;
            uri.len = q - uri.data;
        }
    }

    if (uri.len && uri.data[0] == '/') {
        /* The error page is fetched, whatever the request's method was. */
        if (r->method != KL_HTTP_HEAD) {
            r->method = KL_HTTP_GET;
            kl_str_set(&r->method_name, "GET");
        }

        return kl_http_internal_redirect(r, &uri, args.len ? &args : NULL);
    }

    if (uri.len && uri.data[0] == '@') {
        return kl_http_named_location(r, &uri);
    }

    if (r->keepalive && kl_http_discard_request_body(r) != KL_OK) {
        r->keepalive = 0;
    }

    len = uri.len + (args.len ? 1 + args.len : 0);

    location.data = kl_pnalloc(r->pool, len);
    if (location.data == NULL) {
        return KL_ERROR;
    }

    p = kl_cpymem(location.data, uri.data, uri.len);

    if (args.len) {
        *p++ = '?';
        p = kl_cpymem(p, args.data, args.len);
    }

    location.len = p - location.data;

    switch (err_page->overwrite) {
    case KL_HTTP_MOVED_PERMANENTLY:
    case KL_HTTP_MOVED_TEMPORARILY:
    case KL_HTTP_SEE_OTHER:
    case KL_HTTP_TEMPORARY_REDIRECT:
    case KL_HTTP_PERMANENT_REDIRECT:
        r->err_status = (kl_uint_t) err_page->overwrite;
        break;
    default:
        r->err_status = KL_HTTP_MOVED_TEMPORARILY;
    }

    kl_http_clean_header(r);

    if (r->headers_out.location) {
        r->headers_out.location->hash = 0;
    }

    h = kl_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return KL_ERROR;
    }

    h->hash = 1;
    h->next = NULL;
    kl_str_set(&h->key, "Location");
    h->value = location;
    r->headers_out.location = h;
    r->headers_out.status = r->err_status;

    if (r->method == KL_HTTP_HEAD) {
        r->header_only = 1;
    }

    return kl_http_send_page(r, r->err_status);
}


kl_int_t
kl_http_special_response_handler(kl_http_request_t *r, kl_int_t error)
{
    kl_int_t                 rc;
    kl_buf_t                *b;
    kl_uint_t                i;
    kl_chain_t               out;
    kl_http_err_page_t      *err_page;
    kl_http_core_loc_conf_t *clcf;

    if (r->header_sent) {
        kl_log_error(KL_LOG_ERR, r->connection->log, 0,
                     "cannot send %i after the header was sent", error);
        return KL_ERROR;
    }

    r->err_status = (kl_uint_t) error;

    if (r->keepalive) {
        switch (error) {
        case KL_HTTP_BAD_REQUEST:
        case KL_HTTP_REQUEST_ENTITY_TOO_LARGE:
        case KL_HTTP_REQUEST_URI_TOO_LARGE:
        case KL_HTTP_REQUEST_HEADER_TOO_LARGE:
        case KL_HTTP_INTERNAL_SERVER_ERROR:
        case KL_HTTP_NOT_IMPLEMENTED:
        case KL_HTTP_VERSION_NOT_SUPPORTED:
        case KL_HTTP_TO_HTTPS:
        case KL_HTTPS_CERT_ERROR:
        case KL_HTTPS_NO_CERT:
        case KL_HTTP_REQUEST_HEADER_OR_COOKIE_TOO_LARGE:
            /* The stream may be out of step with our framing: close it. */
            r->keepalive = 0;
        }
    }

    clcf = kl_http_get_module_loc_conf(r, kl_http_core_module);

    if (!r->error_page && clcf->error_pages && r->uri_changes != 0) {
        if (!clcf->recursive_error_pages) {
            r->error_page = 1;
        }

        err_page = clcf->error_pages->elts;

        for (i = 0; i < clcf->error_pages->nelts; i++) {
            if (err_page[i].status == error) {
                return kl_http_send_error_page(r, &err_page[i]);
            }
        }
    }

    /* An error page never asks for the body: no 100 Continue for it. */
    r->expect_tested = 1;

    /* nginx's 494-497 leave as 400 once no error_page took them. */
    if (kl_http_status_detail((kl_uint_t) error)) {
        r->err_status = KL_HTTP_BAD_REQUEST;
    }

    if (r->keepalive && kl_http_discard_request_body(r) != KL_OK) {
        r->keepalive = 0;
    }

    kl_http_clean_header(r);

    r->headers_out.status = (kl_uint_t) error;

    if (r->method == KL_HTTP_HEAD) {
        r->header_only = 1;
    }

    rc = kl_http_msie_refresh(r, (kl_uint_t) error);

    if (rc != KL_DECLINED) {
        return rc;
    }

    if (error == KL_HTTP_NO_CONTENT || error == KL_HTTP_NOT_MODIFIED
        || error < KL_HTTP_SPECIAL_RESPONSE)
    {
        r->header_only = 1;
        return kl_http_send_header(r);
    }

    if (error >= KL_HTTP_SPECIAL_RESPONSE) {
        return kl_http_send_page(r, (kl_uint_t) error);
    }

    b = kl_buf_calloc(r->pool);
    if (b == NULL) {
        return KL_ERROR;
    }

    b->last_buf = 1;
    out.buf = b;
    out.next = NULL;

    return kl_http_output_filter(r, &out);
}


static void
kl_http_clean_header(kl_http_request_t *r)
{
    if (r->headers_out.etag) {
        r->headers_out.etag->hash = 0;
    }

    kl_str_null(&r->headers_out.content_type);
    kl_str_null(&r->headers_out.charset);
    r->headers_out.content_type_len = 0;
    r->headers_out.content_length_n = -1;
    r->headers_out.last_modified_time = -1;
    r->headers_out.content_length = NULL;
    r->headers_out.content_encoding = NULL;
    r->headers_out.last_modified = NULL;
    r->headers_out.accept_ranges = NULL;
    r->headers_out.etag = NULL;
    kl_str_null(&r->headers_out.status_line);
}


void
kl_http_finalize_request(kl_http_request_t *r, kl_int_t rc)
{
    kl_connection_t *c;

    c = r->connection;

    if (rc == KL_DONE) {
        kl_http_finalize_connection(r);
        return;
    }

    if (rc == KL_DECLINED) {
        r->content_handler = NULL;
        r->write_event_handler = kl_http_core_run_phases;
        kl_http_core_run_phases(r);
        return;
    }

    if (r != r->main && r->post_subrequest) {
        rc = r->post_subrequest->handler(r, r->post_subrequest->data, rc);
    }

    if (rc == KL_ERROR || rc == KL_HTTP_REQUEST_TIME_OUT
        || rc == KL_HTTP_CLIENT_CLOSED_REQUEST || rc == KL_HTTP_CLOSE
        || c->error)
    {
        kl_http_terminate_request(r, rc);
        return;
    }

    if (rc >= KL_HTTP_SPECIAL_RESPONSE || rc == KL_HTTP_CREATED
        || rc == KL_HTTP_NO_CONTENT)
    {
        if (r == r->main && c->read->timer_set) {
            kl_event_del_timer(c->read);
        }

        kl_http_finalize_request(r, kl_http_special_response_handler(r, rc));
        return;
    }

    if (r != r->main) {
        kl_http_finalize_subrequest(r);
        return;
    }

    if (r->out || r->buffered || r->postponed) {
        kl_http_set_write_handler(r);
        return;
    }

    if (rc == KL_AGAIN) {
        return;
    }

    r->done = 1;
    r->read_event_handler = kl_http_block_reading;
    r->write_event_handler = kl_http_request_empty_handler;

    if (c->read->timer_set) {
        kl_event_del_timer(c->read);
    }

    if (c->write->timer_set) {
        c->write->delayed = 0;
        kl_event_del_timer(c->write);
    }

    kl_http_finalize_connection(r);
}


/* The protocol keeps or closes the connection (v1) or ends the stream. */
void
kl_http_finalize_connection(kl_http_request_t *r)
{
    r->proto->finalize(r);
}


void
kl_http_terminate_request(kl_http_request_t *r, kl_int_t rc)
{
    r = r->main;
    r->terminated = 1;

    if (rc > 0 && (r->headers_out.status == 0 || r->connection->sent == 0)) {
        r->headers_out.status = (kl_uint_t) rc;
    }

    /* Every holder lets go at once. */
    r->count = 1;

    kl_http_close_request(r, rc);
}


static void
kl_http_set_write_handler(kl_http_request_t *r)
{
    kl_event_t              *wev;
    kl_http_core_loc_conf_t *clcf;

    /* A body still being discarded keeps being read meanwhile. */
    if (!r->discarding) {
        r->read_event_handler = kl_http_block_reading;
    }

    r->write_event_handler = kl_http_writer;

    r->connection->log->action = "sending response to client";

    wev = r->connection->write;

    if (wev->ready && wev->delayed) {
        return;
    }

    clcf = kl_http_get_module_loc_conf(r, kl_http_core_module);

    if (!wev->delayed) {
        kl_event_add_timer(wev, clcf->send_timeout);
    }
}


static void
kl_http_writer(kl_http_request_t *r)
{
    kl_int_t                 rc;
    kl_event_t              *wev;
    kl_connection_t         *c;
    kl_http_core_loc_conf_t *clcf;

    c = r->connection;
    wev = c->write;

    clcf = kl_http_get_module_loc_conf(r, kl_http_core_module);

    if (wev->timedout) {
        kl_log_error(KL_LOG_INFO, c->log, ETIMEDOUT, "client timed out");
        c->timedout = 1;

        kl_http_finalize_request(r, KL_HTTP_REQUEST_TIME_OUT);
        return;
    }

    if (!wev->ready) {
        if (!wev->timer_set) {
            kl_event_add_timer(wev, clcf->send_timeout);
        }

        return;
    }

    rc = kl_http_output_filter(r, NULL);

    if (rc == KL_ERROR) {
        kl_http_finalize_request(r, rc);
        return;
    }

    if (r->out || r->buffered || r->postponed) {
        if (!wev->delayed) {
            kl_event_add_timer(wev, clcf->send_timeout);
        }

        return;
    }

    /* The timer may be limit_rate's delay for what was just sent. */
    if (wev->timer_set) {
        wev->delayed = 0;
        kl_event_del_timer(wev);
    }

    r->write_event_handler = kl_http_request_empty_handler;

    kl_http_finalize_request(r, rc);
}


void
kl_http_request_empty_handler(kl_http_request_t *r)
{
    (void) r;
}


/* Whether path has a ".." segment (a normalised URI never has one). */
static kl_uint_t
kl_http_has_dot_dot(u_char *p, size_t len)
{
    size_t i;

    for (i = 0; i + 1 < len; i++) {
        if (p[i] == '.' && p[i + 1] == '.' && (i == 0 || p[i - 1] == '/')
            && (i + 2 == len || p[i + 2] == '/'))
        {
            return 1;
        }
    }

    return 0;
}


u_char *
kl_http_map_uri_to_path(kl_http_request_t *r, kl_str_t *path,
                        size_t *root_length, size_t reserved)
{
    u_char                  *last;
    size_t                   alias;
    kl_str_t                 root;
    kl_http_core_loc_conf_t *clcf;
    kl_http_complex_value_t *cv;
    kl_http_try_files_ctx_t *tfctx;

    clcf = kl_http_get_module_loc_conf(r, kl_http_core_module);

    alias = clcf->alias;

    if (alias && !r->valid_location) {
        kl_log_error(KL_LOG_ALERT, r->connection->log, 0,
                     "\"alias\" cannot be used in location \"%V\" "
                     "where URI was rewritten",
                     &clcf->name);
        return NULL;
    }

    if (alias != KL_HTTP_ALIAS_REGEX && alias > r->uri.len) {
        /* An inherited alias, or a redirected URI: nothing to replace. */
        alias = r->uri.len;
    }

    if (clcf->root_cv == NULL) {
        root = clcf->root;

    } else {
        cv = clcf->root_cv;

        if (kl_http_complex_value(r, cv, &root) != KL_OK) {
            return NULL;
        }

        /* Captures and variables must not make an alias climb out. */
        if (alias && kl_http_has_dot_dot(root.data, root.len)
            && !kl_http_has_dot_dot(cv->value.data, cv->value.len))
        {
            kl_log_error(KL_LOG_ERR, r->connection->log, 0,
                         "alias \"%V\" of location \"%V\" has \"..\"", &root,
                         &clcf->name);
            return NULL;
        }
    }

    if (alias == KL_HTTP_ALIAS_REGEX) {
        tfctx = kl_http_get_module_ctx(r, kl_http_try_files_module);

        if (tfctx == NULL || !tfctx->add_uri_to_alias) {
            *root_length = root.len;

            path->len = root.len + reserved + 1;
            path->data = kl_pnalloc(r->pool, path->len);
            if (path->data == NULL) {
                return NULL;
            }

            last = kl_cpymem(path->data, root.data, root.len);
            *last = '\0';
            path->len = last - path->data;

            return last;
        }

        alias = 0;

    } else if (alias && root.len && root.data[root.len - 1] == '/'
               && r->uri.len - alias >= 2 && r->uri.data[alias] == '.'
               && r->uri.data[alias + 1] == '.'
               && (r->uri.len - alias == 2 || r->uri.data[alias + 2] == '/'))
    {
        /*
         * "location /i { alias /data/images/; }" and "/i../x": nginx
         * opens "/data/images/../x", outside the alias. Without its '/'
         * the alias stays a prefix of the path: "/data/images../x".
         */
        root.len--;
    }

    *root_length = root.len;

    path->len = root.len + reserved + r->uri.len - alias + 1;
    path->data = kl_pnalloc(r->pool, path->len);
    if (path->data == NULL) {
        return NULL;
    }

    last = kl_cpymem(path->data, root.data, root.len);
    last = kl_cpymem(last, r->uri.data + alias, r->uri.len - alias);
    *last = '\0';

    path->len = last - path->data;

    return last;
}


static int
kl_http_cmp_exten(const void *key, const void *elt)
{
    const kl_str_t       *k = key;
    const kl_http_type_t *t = elt;
    size_t                n;
    int                   rc;

    n = kl_min(k->len, t->exten.len);
    rc = memcmp(k->data, t->exten.data, n);

    if (rc) {
        return rc;
    }

    return (k->len > t->exten.len) - (k->len < t->exten.len);
}


kl_int_t
kl_http_set_content_type(kl_http_request_t *r)
{
    kl_str_t                 exten;
    kl_http_type_t          *t;
    kl_http_core_loc_conf_t *clcf;
    u_char                   low[32];

    if (r->headers_out.content_type.len) {
        return KL_OK;
    }

    clcf = kl_http_get_module_loc_conf(r, kl_http_core_module);

    if (r->exten.len && r->exten.len <= sizeof(low) && clcf->types) {
        kl_strlow(low, r->exten.data, r->exten.len);
        exten.data = low;
        exten.len = r->exten.len;

        t = bsearch(&exten, clcf->types->elts, clcf->types->nelts,
                    sizeof(kl_http_type_t), kl_http_cmp_exten);

        if (t) {
            r->headers_out.content_type = t->type;
            r->headers_out.content_type_len = t->type.len;
            return KL_OK;
        }
    }

    r->headers_out.content_type = clcf->default_type;
    r->headers_out.content_type_len = clcf->default_type.len;

    return KL_OK;
}


kl_int_t
kl_http_set_etag(kl_http_request_t *r)
{
    u_char                  *p;
    kl_table_elt_t          *etag;
    kl_http_core_loc_conf_t *clcf;

    clcf = kl_http_get_module_loc_conf(r, kl_http_core_module);

    if (!clcf->etag) {
        return KL_OK;
    }

    etag = kl_list_push(&r->headers_out.headers);
    if (etag == NULL) {
        return KL_ERROR;
    }

    etag->hash = 1;
    etag->next = NULL;
    kl_str_set(&etag->key, "ETag");

    etag->value.data = kl_pnalloc(r->pool, 2 * KL_INT_T_LEN + 3 + 1);
    if (etag->value.data == NULL) {
        etag->hash = 0;
        return KL_ERROR;
    }

    /* nginx's form: "<mtime hex>-<length hex>". */
    if (r->headers_out.last_modified_time >= 0
        && r->headers_out.content_length_n >= 0)
    {
        p = etag->value.data;
        *p++ = '"';
        p = kl_sprint_hex(p, (uint64_t) r->headers_out.last_modified_time);
        *p++ = '-';
        p = kl_sprint_hex(p, (uint64_t) r->headers_out.content_length_n);
        *p++ = '"';
        etag->value.len = p - etag->value.data;

    } else {
        etag->value.len =
            kl_slprintf(etag->value.data,
                        etag->value.data + 2 * KL_INT_T_LEN + 3, "\"%xT-%xO\"",
                        r->headers_out.last_modified_time,
                        r->headers_out.content_length_n)
            - etag->value.data;
    }

    r->headers_out.etag = etag;

    return KL_OK;
}


kl_int_t
kl_http_send_redirect(kl_http_request_t *r, kl_uint_t status,
                      kl_str_t *location)
{
    kl_table_elt_t *h;

    h = kl_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return KL_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->hash = 1;
    h->next = NULL;
    kl_str_set(&h->key, "Location");
    h->value = *location;

    r->headers_out.location = h;

    return (kl_int_t) status;
}


kl_int_t
kl_http_send_response(kl_http_request_t *r, kl_uint_t status, kl_str_t *ct,
                      kl_http_complex_value_t *cv)
{
    kl_int_t   rc;
    kl_str_t   val;
    kl_buf_t  *b;
    kl_chain_t out;

    if (status == KL_HTTP_CLOSE) {
        return KL_HTTP_CLOSE;
    }

    if (kl_http_discard_request_body(r) != KL_OK) {
        r->keepalive = 0;
    }

    if (cv == NULL) {
        return (kl_int_t) status;
    }

    if (kl_http_complex_value(r, cv, &val) != KL_OK) {
        return KL_HTTP_INTERNAL_SERVER_ERROR;
    }

    switch (status) {
    case KL_HTTP_MOVED_PERMANENTLY:
    case KL_HTTP_MOVED_TEMPORARILY:
    case KL_HTTP_SEE_OTHER:
    case KL_HTTP_TEMPORARY_REDIRECT:
    case KL_HTTP_PERMANENT_REDIRECT:
        /* The text is where to go; the page says the status. */
        return kl_http_send_redirect(r, status, &val);
    }

    r->headers_out.status = status;
    r->headers_out.content_length_n = (off_t) val.len;

    if (ct) {
        r->headers_out.content_type = *ct;
        r->headers_out.content_type_len = ct->len;

    } else if (kl_http_set_content_type(r) != KL_OK) {
        return KL_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (r->method == KL_HTTP_HEAD || val.len == 0) {
        r->header_only = 1;
    }

    rc = kl_http_send_header(r);

    if (rc == KL_ERROR || rc > KL_OK || r->header_only) {
        return rc;
    }

    b = kl_buf_calloc(r->pool);
    if (b == NULL) {
        return KL_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->pos = val.data;
    b->last = val.data + val.len;
    b->memory = 1;
    b->last_buf = 1;

    out.buf = b;
    out.next = NULL;

    return kl_http_output_filter(r, &out);
}


kl_table_elt_t *
kl_http_push_header(kl_http_request_t *r, const char *key, const char *value)
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
    h->key.len = kl_strlen(key);
    h->value.data = (u_char *) value;
    h->value.len = kl_strlen(value);

    return h;
}


void
kl_http_free_request(kl_http_request_t *r, kl_int_t rc)
{
    kl_uint_t                 i;
    kl_pool_t                *pool;
    kl_http_log_ctx_t        *ctx;
    struct linger             linger;
    kl_http_handler_pt       *log_handler;
    kl_http_core_loc_conf_t  *clcf;
    kl_http_core_main_conf_t *cmcf;

    if (rc > 0 && (r->headers_out.status == 0 || r->connection->sent == 0)) {
        r->headers_out.status = (kl_uint_t) rc;
    }

    if (!r->logged) {
        r->logged = 1;

        cmcf = kl_http_get_module_main_conf(r, kl_http_core_module);
        log_handler = cmcf->phases[KL_HTTP_LOG_PHASE].elts;

        for (i = 0; i < cmcf->phases[KL_HTTP_LOG_PHASE].nelts; i++) {
            (void) log_handler[i](r);
        }
    }

    if (r->connection->timedout) {
        clcf = kl_http_get_module_loc_conf(r, kl_http_core_module);

        if (clcf->reset_timedout_connection) {
            /* An RST frees the socket and its unsent data at once. */
            linger.l_onoff = 1;
            linger.l_linger = 0;

            if (setsockopt(r->connection->fd, SOL_SOCKET, SO_LINGER, &linger,
                           sizeof(struct linger))
                == -1)
            {
                kl_log_error(KL_LOG_ALERT, r->connection->log, errno,
                             "setsockopt(SO_LINGER) failed");
            }
        }
    }

    if (r->posted_event) {
        /* Requests posted to run are gone with the pool. */
        if (r->posted_event->posted) {
            kl_delete_posted_event(r->posted_event);
        }

        if (r->posted_gone) {
            *r->posted_gone = 1;
        }
    }

    ctx = r->connection->log->data;
    ctx->request = NULL;

    /* One of the two, and no locked add of 0 on a shared line. */
    if (r->stat_writing) {
        kl_stat_add(writing, -1);
    } else if (r->stat_reading) {
        kl_stat_add(reading, -1);
    }

    r->connection->log->action = "closing request";

    pool = r->pool;
    r->pool = NULL;

    kl_pool_release(&kl_loop.pool_stash, pool);
}


void
kl_http_close_request(kl_http_request_t *r, kl_int_t rc)
{
    r = r->main;

    if (r->count == 0) {
        kl_log_error(KL_LOG_ALERT, r->connection->log, 0,
                     "http request count is zero");
    }

    r->count--;

    if (r->count) {
        return;
    }

    /* Freed (kl_http_free_request) with what carried it (v1: the
     * connection; HTTP/2: the stream). */
    r->proto->close(r, rc);
}


void
kl_http_block_reading(kl_http_request_t *r)
{
    (void) r;
}
