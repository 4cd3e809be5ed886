/* test_http_chunked_filter.c: responses of unknown length through the real filter chains (v1/chunked.c, head.c), read back from a socketpair. */

#include "kl_test_http.h"


#define KL_TEST_CONF(http)                                                     \
    "error_log logs/error.log info;\n"                                         \
    "events { }\n"                                                             \
    "http {\n" http "\n"                                                       \
    "    server {\n"                                                           \
    "        listen 127.0.0.1:1;\n"                                            \
    "        location / { }\n"                                                 \
    "        location /off/ { chunked_transfer_encoding off; }\n"              \
    "    }\n"                                                                  \
    "}\n"


static kl_http_request_t *
kl_test_response(kl_test_http_t *t, const char *uri, kl_uint_t version,
                 kl_uint_t status, off_t length)
{
    kl_http_request_t *r;

    cr_assert_not_null(kl_test_http_cycle(t, "chunked", KL_TEST_CONF("")));

    r = kl_test_http_request(t, uri, "", 0);
    r->method = KL_HTTP_GET;
    kl_str_set(&r->method_name, "GET");
    r->http_version = version;
    r->keepalive = (version >= KL_HTTP_VERSION_11);
    r->headers_out.status = status;
    r->headers_out.content_length_n = length;

    return r;
}


/* One chain link over text (memory, not copied). */
static kl_chain_t *
kl_test_buf(kl_http_request_t *r, const char *text, kl_uint_t flags)
{
    kl_buf_t   *b;
    kl_chain_t *cl;

    b = kl_buf_calloc(r->pool);
    cl = kl_chain_alloc(r->pool);
    cr_assert(b && cl);

    b->pos = (u_char *) text;
    b->last = (u_char *) text + strlen(text);
    b->memory = (strlen(text) > 0);
    b->flush = (flags & 1) != 0;
    b->last_buf = (flags & 2) != 0;

    cl->buf = b;
    cl->next = NULL;

    return cl;
}

#define KL_TEST_FLUSH 1
#define KL_TEST_LAST  2


/* The response read back: head (with its CRLF CRLF) and body apart. */
static void
kl_test_wire(kl_test_http_t *t, char *head, char *body, size_t size)
{
    char   buf[65536], *end;
    size_t n;

    n = kl_test_http_recv(t, buf, sizeof(buf));
    cr_assert_gt(n, 0, "something was sent");

    end = strstr(buf, "\r\n\r\n");
    cr_assert_not_null(end, "a whole head: %s", buf);
    end += 4;

    cr_assert_lt((size_t) (end - buf), size);
    memcpy(head, buf, end - buf);
    head[end - buf] = '\0';

    cr_assert_lt(strlen(end), size);
    strcpy(body, end);
}


Test(http_chunked_filter, unknown_length_goes_out_in_chunks)
{
    char               head[4096], body[4096];
    kl_chain_t        *cl;
    kl_test_http_t     t = { 0 };
    kl_http_request_t *r;

    r = kl_test_response(&t, "/", KL_HTTP_VERSION_11, 200, -1);

    cr_assert_eq(kl_http_send_header(r), KL_OK);
    cr_assert(r->chunked);

    cr_assert_eq(
        kl_http_output_filter(r, kl_test_buf(r, "hello", KL_TEST_FLUSH)),
        KL_OK);

    /* Two buffers in one call make one chunk; the last one ends it all. */
    cl = kl_test_buf(r, " wor", 0);
    cl->next = kl_test_buf(r, "ld", KL_TEST_LAST);
    cr_assert_eq(kl_http_output_filter(r, cl), KL_OK);

    kl_test_wire(&t, head, body, sizeof(head));

    cr_assert_not_null(strstr(head, "\r\nTransfer-Encoding: chunked\r\n"));
    cr_assert_not_null(strstr(head, "\r\nConnection: keep-alive\r\n"),
                       "chunked keeps the connection: %s", head);
    cr_assert_null(strstr(head, "Content-Length"));
    cr_assert_str_eq(body, "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");

    kl_test_http_clean(&t);
}


Test(http_chunked_filter, a_last_buffer_alone_ends_the_chunks)
{
    char               head[4096], body[4096];
    kl_test_http_t     t = { 0 };
    kl_http_request_t *r;

    r = kl_test_response(&t, "/", KL_HTTP_VERSION_11, 200, -1);

    cr_assert_eq(kl_http_send_header(r), KL_OK);
    cr_assert_eq(kl_http_output_filter(
                     r, kl_test_buf(r, "0123456789abcdefg", KL_TEST_FLUSH)),
                 KL_OK);
    cr_assert_eq(kl_http_output_filter(r, kl_test_buf(r, "", KL_TEST_LAST)),
                 KL_OK);

    kl_test_wire(&t, head, body, sizeof(head));

    /* 17 bytes: hexadecimal, lowercase */
    cr_assert_str_eq(body, "11\r\n0123456789abcdefg\r\n0\r\n\r\n");

    kl_test_http_clean(&t);
}


Test(http_chunked_filter, an_empty_body_is_the_last_chunk)
{
    char               head[4096], body[4096];
    kl_test_http_t     t = { 0 };
    kl_http_request_t *r;

    r = kl_test_response(&t, "/", KL_HTTP_VERSION_11, 200, -1);

    cr_assert_eq(kl_http_send_header(r), KL_OK);
    cr_assert_eq(kl_http_output_filter(r, kl_test_buf(r, "", KL_TEST_LAST)),
                 KL_OK);

    kl_test_wire(&t, head, body, sizeof(head));
    cr_assert_str_eq(body, "0\r\n\r\n");

    kl_test_http_clean(&t);
}


Test(http_chunked_filter, trailers_follow_the_last_chunk)
{
    char               head[4096], body[4096];
    kl_table_elt_t    *h;
    kl_test_http_t     t = { 0 };
    kl_http_request_t *r;

    r = kl_test_response(&t, "/", KL_HTTP_VERSION_11, 200, -1);

    h = kl_list_push(&r->headers_out.trailers);
    cr_assert_not_null(h);
    h->hash = 1;
    kl_str_set(&h->key, "X-Checksum");
    kl_str_set(&h->value, "abc");

    /* A deleted one is not sent. */
    h = kl_list_push(&r->headers_out.trailers);
    cr_assert_not_null(h);
    h->hash = 0;
    kl_str_set(&h->key, "X-Gone");
    kl_str_set(&h->value, "1");

    cr_assert_eq(kl_http_send_header(r), KL_OK);
    cr_assert_eq(kl_http_output_filter(r, kl_test_buf(r, "data", KL_TEST_LAST)),
                 KL_OK);

    kl_test_wire(&t, head, body, sizeof(head));
    cr_assert_str_eq(body, "4\r\ndata\r\n0\r\nX-Checksum: abc\r\n\r\n");

    kl_test_http_clean(&t);
}


Test(http_chunked_filter, held_back_output_keeps_its_order)
{
    char               head[4096], body[8192], want[8192], *p;
    int                i;
    kl_test_http_t     t = { 0 };
    kl_http_request_t *r;

    static const char *words[] = { "a", "bb", "ccc", "dddd" };

    r = kl_test_response(&t, "/", KL_HTTP_VERSION_11, 200, -1);
    cr_assert_eq(kl_http_send_header(r), KL_OK);

    /*
     * Small and unflushed, these wait in the write filter
     * (postpone_output), with their framing, until the last one.
     * Then many flushed ones, whose framing buffers are reused.
     */
    p = want;

    for (i = 0; i < 4; i++) {
        cr_assert_eq(kl_http_output_filter(r, kl_test_buf(r, words[i], 0)),
                     KL_OK);
        p += sprintf(p, "%zx\r\n%s\r\n", strlen(words[i]), words[i]);
    }

    for (i = 0; i < 200; i++) {
        cr_assert_eq(kl_http_output_filter(
                         r, kl_test_buf(r, words[i % 4], KL_TEST_FLUSH)),
                     KL_OK);
        p += sprintf(p, "%zx\r\n%s\r\n", strlen(words[i % 4]), words[i % 4]);
    }

    cr_assert_eq(kl_http_output_filter(r, kl_test_buf(r, "", KL_TEST_LAST)),
                 KL_OK);
    sprintf(p, "0\r\n\r\n");

    kl_test_wire(&t, head, body, sizeof(body));
    cr_assert_str_eq(body, want);

    kl_test_http_clean(&t);
}


Test(http_chunked_filter, a_file_buffer_is_a_chunk)
{
    int                fd;
    char               head[4096], body[4096], path[512];
    kl_buf_t          *b;
    kl_file_t         *file;
    kl_chain_t        *cl;
    kl_test_http_t     t = { 0 };
    kl_http_request_t *r;

    r = kl_test_response(&t, "/", KL_HTTP_VERSION_11, 200, -1);

    snprintf(path, sizeof(path), "%s/f", t.dir);
    fd = open(path, O_RDWR | O_CREAT, 0600);
    cr_assert_eq(write(fd, "from a file", 11), 11);

    file = kl_pcalloc(r->pool, sizeof(kl_file_t));
    b = kl_buf_calloc(r->pool);
    cl = kl_chain_alloc(r->pool);
    cr_assert(file && b && cl);

    file->fd = fd;
    file->name.data = (u_char *) path;
    file->name.len = strlen(path);
    file->log = t.log;
    b->file = file;
    b->in_file = 1;
    b->file_pos = 5;
    b->file_last = 11;
    b->last_buf = 1;
    cl->buf = b;
    cl->next = NULL;

    cr_assert_eq(kl_http_send_header(r), KL_OK);
    cr_assert_eq(kl_http_output_filter(r, cl), KL_OK);

    kl_test_wire(&t, head, body, sizeof(head));
    cr_assert_str_eq(body, "6\r\na file\r\n0\r\n\r\n");

    close(fd);
    kl_test_http_clean(&t);
}


Test(http_chunked_filter, known_length_is_not_chunked)
{
    char               head[4096], body[4096];
    kl_test_http_t     t = { 0 };
    kl_http_request_t *r;

    r = kl_test_response(&t, "/", KL_HTTP_VERSION_11, 200, 5);

    cr_assert_eq(kl_http_send_header(r), KL_OK);
    cr_assert_not(r->chunked);
    cr_assert_eq(
        kl_http_output_filter(r, kl_test_buf(r, "hello", KL_TEST_LAST)), KL_OK);

    kl_test_wire(&t, head, body, sizeof(head));
    cr_assert_null(strstr(head, "Transfer-Encoding"));
    cr_assert_not_null(strstr(head, "\r\nContent-Length: 5\r\n"));
    cr_assert_str_eq(body, "hello");

    kl_test_http_clean(&t);
}


Test(http_chunked_filter, http10_is_ended_by_closing)
{
    char               head[4096], body[4096];
    kl_test_http_t     t = { 0 };
    kl_http_request_t *r;

    r = kl_test_response(&t, "/", KL_HTTP_VERSION_10, 200, -1);
    r->keepalive = 1; /* it asked for keep-alive */

    cr_assert_eq(kl_http_send_header(r), KL_OK);
    cr_assert_not(r->chunked);
    cr_assert_not(r->keepalive);
    cr_assert_eq(
        kl_http_output_filter(r, kl_test_buf(r, "hello", KL_TEST_LAST)), KL_OK);

    kl_test_wire(&t, head, body, sizeof(head));
    cr_assert_null(strstr(head, "Transfer-Encoding"));
    cr_assert_not_null(strstr(head, "\r\nConnection: close\r\n"));
    cr_assert_str_eq(body, "hello");

    kl_test_http_clean(&t);
}


Test(http_chunked_filter, chunked_transfer_encoding_off)
{
    char               head[4096], body[4096];
    kl_test_http_t     t = { 0 };
    kl_http_request_t *r;

    r = kl_test_response(&t, "/off/x", KL_HTTP_VERSION_11, 200, -1);

    cr_assert_eq(kl_http_send_header(r), KL_OK);
    cr_assert_not(r->chunked);
    cr_assert_eq(
        kl_http_output_filter(r, kl_test_buf(r, "hello", KL_TEST_LAST)), KL_OK);

    kl_test_wire(&t, head, body, sizeof(head));
    cr_assert_null(strstr(head, "Transfer-Encoding"));
    cr_assert_not_null(strstr(head, "\r\nConnection: close\r\n"));
    cr_assert_str_eq(body, "hello");

    kl_test_http_clean(&t);
}


Test(http_chunked_filter, no_chunks_without_a_body)
{
    kl_uint_t          i;
    char               head[4096], body[4096];
    kl_test_http_t     t = { 0 };
    kl_http_request_t *r;

    static const kl_uint_t statuses[] = { 204, 304, 200 };

    for (i = 0; i < 3; i++) {
        r = kl_test_response(&t, "/", KL_HTTP_VERSION_11, statuses[i], -1);

        if (statuses[i] == 200) {
            r->method = KL_HTTP_HEAD;
        }

        cr_assert_eq(kl_http_send_header(r), KL_OK);
        cr_assert_not(r->chunked, "status %lu", (unsigned long) statuses[i]);

        kl_test_wire(&t, head, body, sizeof(head));
        cr_assert_null(strstr(head, "Transfer-Encoding"));
        cr_assert_str_eq(body, "");

        kl_test_http_clean(&t);
    }
}


Test(http_chunked_filter, directive_is_a_flag)
{
    kl_test_http_t t = { 0 };

    cr_assert_null(kl_test_http_cycle(
        &t, "chunked", KL_TEST_CONF("chunked_transfer_encoding maybe;")));
    kl_test_http_clean(&t);

    cr_assert_not_null(kl_test_http_cycle(
        &t, "chunked", KL_TEST_CONF("chunked_transfer_encoding off;")));
    kl_test_http_clean(&t);
}
