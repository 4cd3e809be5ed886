/* test_http_v1_head.c: HTTP/1's response heads (v1/head.c) byte for byte: r->headers_out through the real header filter chain to the socket, "100 Continue" and the 101 head of an upgrade. */

#include "kl_test_http.h"


#define KL_TEST_CONF(location)                                                 \
    "error_log logs/error.log info;\n"                                         \
    "events { }\n"                                                             \
    "http {\n"                                                                 \
    "    server {\n"                                                           \
    "        listen 127.0.0.1:1;\n"                                            \
    "        location / { " location " }\n"                                    \
    "    }\n"                                                                  \
    "}\n"


static kl_http_request_t *
kl_test_head_request(kl_test_http_t *t, const char *conf, kl_uint_t version)
{
    kl_http_request_t *r;

    cr_assert_not_null(kl_test_http_cycle(t, "v1_head", conf));

    r = kl_test_http_request(t, "/", "", 0);
    r->method = KL_HTTP_GET;
    kl_str_set(&r->method_name, "GET");
    r->http_version = version;
    r->keepalive = (version >= KL_HTTP_VERSION_11);
    r->headers_out.status = KL_HTTP_OK;

    return r;
}


/* The head, then an empty last buffer: what postpone_output held goes. */
static void
kl_test_send_head(kl_http_request_t *r)
{
    kl_buf_t   *b;
    kl_chain_t *cl;

    cr_assert_eq(kl_http_send_header(r), KL_OK);

    b = kl_buf_calloc(r->pool);
    cl = kl_chain_alloc(r->pool);
    cr_assert(b && cl);

    b->last_buf = 1;
    cl->buf = b;
    cl->next = NULL;

    cr_assert_eq(kl_http_output_filter(r, cl), KL_OK);
}


/* "Server: kiln/VERSION CRLF Date: (now) CRLF", as every head has them. */
static const char *
kl_test_server_date(void)
{
    static char text[256];

    snprintf(text, sizeof(text), "Server: %s\r\nDate: %.*s\r\n", KL_VER,
             (int) kl_loop.clock.http_time_len, kl_loop.clock.http_time);

    return text;
}


static void
kl_test_expect_head(kl_test_http_t *t, const char *status, const char *fields)
{
    char buf[4096], want[4096];

    snprintf(want, sizeof(want), "HTTP/1.1 %s\r\n%s%s\r\n", status,
             kl_test_server_date(), fields);

    kl_test_http_recv(t, buf, sizeof(buf));
    cr_assert_str_eq(buf, want);
}


Test(http_v1_head, fields_in_order_and_keep_alive)
{
    kl_test_http_t     t = { 0 };
    kl_http_request_t *r;

    r = kl_test_head_request(&t, KL_TEST_CONF(""), KL_HTTP_VERSION_11);
    r->headers_out.content_length_n = 5;
    kl_str_set(&r->headers_out.content_type, "text/plain");
    r->headers_out.content_type_len = sizeof("text/plain") - 1;
    kl_str_set(&r->headers_out.charset, "utf-8");
    cr_assert_not_null(kl_http_push_header(r, "X-One", "1"));

    kl_test_send_head(r);

    kl_test_expect_head(&t, "200 OK",
                        "Content-Type: text/plain; charset=utf-8\r\n"
                        "Content-Length: 5\r\n"
                        "Connection: keep-alive\r\n"
                        "X-One: 1\r\n");

    kl_test_http_clean(&t);
}


Test(http_v1_head, keepalive_header_and_server_tokens_off)
{
    kl_test_http_t     t = { 0 };
    kl_http_request_t *r;
    char               buf[4096];

    r = kl_test_head_request(
        &t, KL_TEST_CONF("keepalive_timeout 75s 20s; server_tokens off;"),
        KL_HTTP_VERSION_11);
    r->headers_out.content_length_n = 0;

    kl_test_send_head(r);

    kl_test_http_recv(&t, buf, sizeof(buf));
    cr_assert_not_null(strstr(buf, "\r\nServer: kiln\r\n"), "%s", buf);
    cr_assert_not_null(strstr(buf, "\r\nConnection: keep-alive\r\n"
                                   "Keep-Alive: timeout=20\r\n\r\n"),
                       "%s", buf);

    kl_test_http_clean(&t);
}


Test(http_v1_head, unnamed_status_is_its_number)
{
    kl_test_http_t     t = { 0 };
    kl_http_request_t *r;

    r = kl_test_head_request(&t, KL_TEST_CONF(""), KL_HTTP_VERSION_11);
    r->headers_out.status = 599;
    r->headers_out.content_length_n = 0;

    kl_test_send_head(r);

    kl_test_expect_head(&t, "599 ",
                        "Content-Length: 0\r\n"
                        "Connection: keep-alive\r\n");

    kl_test_http_clean(&t);
}


Test(http_v1_head, relative_location_made_absolute)
{
    kl_test_http_t     t = { 0 };
    kl_http_request_t *r;

    r = kl_test_head_request(&t, KL_TEST_CONF(""), KL_HTTP_VERSION_11);
    kl_str_set(&r->headers_in.server, "example.com");
    r->headers_out.status = KL_HTTP_MOVED_PERMANENTLY;
    r->headers_out.content_length_n = 0;
    r->headers_out.location = kl_http_push_header(r, "Location", "/new");
    cr_assert_not_null(r->headers_out.location);
    cr_assert_not_null(kl_http_push_header(r, "X-After", "a"));

    kl_test_send_head(r);

    /* Written with the head's own fields, as nginx places it. */
    kl_test_expect_head(&t, "301 Moved Permanently",
                        "Content-Length: 0\r\n"
                        "Location: http://example.com/new\r\n"
                        "Connection: keep-alive\r\n"
                        "X-After: a\r\n");

    /* $sent_http_location sees the absolute URL. */
    cr_assert_eq(r->headers_out.location->value.len,
                 sizeof("http://example.com/new") - 1);
    cr_assert_eq(memcmp(r->headers_out.location->value.data,
                        "http://example.com/new",
                        r->headers_out.location->value.len),
                 0);

    kl_test_http_clean(&t);
}


Test(http_v1_head, http10_unknown_length_closes)
{
    kl_test_http_t     t = { 0 };
    kl_http_request_t *r;

    r = kl_test_head_request(&t, KL_TEST_CONF(""), KL_HTTP_VERSION_10);
    r->keepalive = 1; /* "Connection: keep-alive" from a 1.0 client */
    r->headers_out.content_length_n = -1;

    kl_test_send_head(r);
    cr_assert_not(r->chunked);
    cr_assert_not(r->keepalive);

    kl_test_expect_head(&t, "200 OK", "Connection: close\r\n");

    kl_test_http_clean(&t);
}


Test(http_v1_head, no_content_has_no_length_nor_type)
{
    kl_test_http_t     t = { 0 };
    kl_http_request_t *r;

    r = kl_test_head_request(&t, KL_TEST_CONF(""), KL_HTTP_VERSION_11);
    r->headers_out.status = KL_HTTP_NO_CONTENT;
    r->headers_out.content_length_n = 10;
    kl_str_set(&r->headers_out.content_type, "text/plain");

    kl_test_send_head(r);
    cr_assert(r->header_only);

    kl_test_expect_head(&t, "204 No Content", "Connection: keep-alive\r\n");

    kl_test_http_clean(&t);
}


Test(http_v1_head, continue_only_to_http11)
{
    char               buf[256];
    kl_test_http_t     t = { 0 };
    kl_http_request_t *r;

    r = kl_test_head_request(&t, KL_TEST_CONF(""), KL_HTTP_VERSION_11);

    cr_assert_eq(r->proto->send_continue(r), KL_OK);
    kl_test_http_recv(&t, buf, sizeof(buf));
    cr_assert_str_eq(buf, "HTTP/1.1 100 Continue\r\n\r\n");

    r->http_version = KL_HTTP_VERSION_10;

    cr_assert_eq(r->proto->send_continue(r), KL_OK);
    cr_assert_eq(kl_test_http_recv(&t, buf, sizeof(buf)), 0);

    kl_test_http_clean(&t);
}


Test(http_v1_head, switch_protocols_head_is_queued)
{
    char               want[512];
    kl_buf_t          *b, *preread;
    kl_str_t           status_line = kl_string("101 Switching Protocols");
    kl_list_t          fields;
    kl_table_elt_t    *h;
    kl_test_http_t     t = { 0 };
    kl_http_request_t *r;

    r = kl_test_head_request(&t, KL_TEST_CONF(""), KL_HTTP_VERSION_11);

    cr_assert_eq(kl_list_init(&fields, r->pool, 2, sizeof(kl_table_elt_t)),
                 KL_OK);

    h = kl_list_push(&fields);
    cr_assert_not_null(h);
    h->hash = 1;
    kl_str_set(&h->key, "Upgrade");
    kl_str_set(&h->value, "websocket");

    h = kl_list_push(&fields);
    cr_assert_not_null(h);
    h->hash = 0; /* left out */
    kl_str_set(&h->key, "X-Hidden");
    kl_str_set(&h->value, "1");

    /* A frame the client sent with its request moves to the relay's
     * buffer, as much as fits (4 of its 6 bytes here); the rest stays. */
    cr_assert_not_null(r->header_in);
    r->header_in->pos = r->header_in->last;
    r->header_in->last = kl_cpymem(r->header_in->last, "frame!", 6);
    preread = kl_buf_create_temp(r->pool, 4);
    cr_assert_not_null(preread);

    cr_assert_eq(r->proto->switch_protocols(r, &status_line, &fields, preread),
                 KL_OK);
    cr_assert_not_null(r->out);
    cr_assert_eq(preread->last - preread->pos, 4);
    cr_assert_eq(memcmp(preread->pos, "fram", 4), 0);
    cr_assert_eq(r->header_in->last - r->header_in->pos, 2);

    b = r->out->buf;
    snprintf(want, sizeof(want),
             "HTTP/1.1 101 Switching Protocols\r\n%s"
             "Upgrade: websocket\r\nConnection: upgrade\r\n\r\n",
             kl_test_server_date());

    cr_assert_eq((size_t) (b->last - b->pos), strlen(want));
    cr_assert_eq(memcmp(b->pos, want, strlen(want)), 0, "%.*s",
                 (int) (b->last - b->pos), b->pos);

    kl_test_http_clean(&t);
}
