/* test_http_body.c: reading and discarding request bodies (body.c, and HTTP/1 framing in v1/body.c) and the body directives (body_module.c), over a socketpair. */

#include "kl_test_http.h"
#include "kl_test_io.h"

#include <regex.h>


#define KL_TEST_CONF(http, location)                                           \
    "error_log logs/error.log info;\n"                                         \
    "events { }\n"                                                             \
    "http {\n" http "\n"                                                       \
    "    server {\n"                                                           \
    "        listen 127.0.0.1:1;\n"                                            \
    "        location / {\n" location "\n"                                     \
    "        }\n"                                                              \
    "    }\n"                                                                  \
    "}\n"


/* What post_handler saw; the request may be gone when the test looks. */
static struct {
    int       called;
    kl_uint_t count;
    char      body[65536];
    size_t    len;
    int       in_file;
    int       bufs_null;
    char      file[512];
    off_t     content_length_n;
    char      rest[256]; /* header_in after the body */
} kl_rec;


static void
kl_test_post_handler(kl_http_request_t *r)
{
    size_t                  n;
    kl_buf_t               *b;
    kl_http_request_body_t *rb;

    rb = r->request_body;
    cr_assert_not_null(rb);

    kl_rec.called++;
    kl_rec.count = r->count;
    kl_rec.len = 0;
    kl_rec.in_file = 0;
    kl_rec.bufs_null = (rb->bufs == NULL);
    kl_rec.file[0] = '\0';
    kl_rec.content_length_n = r->headers_in.content_length_n;

    if (rb->temp_file) {
        snprintf(kl_rec.file, sizeof(kl_rec.file), "%s",
                 (char *) rb->temp_file->name.data);
    }

    if (rb->bufs) {
        cr_assert_null(rb->bufs->next, "the body is one buffer");
        b = rb->bufs->buf;

        if (b->in_file) {
            kl_rec.in_file = 1;
            n = (size_t) (b->file_last - b->file_pos);
            cr_assert_lt(n, sizeof(kl_rec.body));
            cr_assert_eq(pread(b->file->fd, kl_rec.body, n, b->file_pos),
                         (ssize_t) n);

        } else {
            n = (size_t) (b->last - b->pos);
            cr_assert_lt(n, sizeof(kl_rec.body));
            memcpy(kl_rec.body, b->pos, n);
        }

        kl_rec.len = n;
    }

    n = (size_t) (r->header_in->last - r->header_in->pos);
    n = kl_min(n, sizeof(kl_rec.rest) - 1);
    memcpy(kl_rec.rest, r->header_in->pos, n);
    kl_rec.rest[n] = '\0';
}


/* As the content phase runs a handler that reads the body. */
static kl_int_t
kl_test_read(kl_test_http_t *t)
{
    kl_int_t rc;

    rc = kl_http_read_client_request_body(t->r, kl_test_post_handler);

    if (rc < KL_HTTP_SPECIAL_RESPONSE) {
        /* The handler's KL_DONE: it gives back the reference. */
        kl_http_finalize_request(t->r, KL_DONE);
    }

    return rc;
}


static kl_http_request_t *
kl_test_length(kl_test_http_t *t, const char *conf, off_t length,
               const char *preread)
{
    kl_http_request_t *r;

    cr_assert_not_null(kl_test_http_cycle(t, "body", conf),
                       "the configuration parses");

    /* What the master does at start: make the temp directories. */
    cr_assert_eq(kl_http_body_module.init_module(t->cycle), KL_OK);

    r = kl_test_http_request(t, "/", preread, strlen(preread));
    r->headers_in.content_length_n = length;
    r->has_body = (length > 0);

    return r;
}


static kl_http_request_t *
kl_test_chunked(kl_test_http_t *t, const char *conf, const char *preread)
{
    kl_http_request_t *r;

    cr_assert_not_null(kl_test_http_cycle(t, "body", conf),
                       "the configuration parses");

    /* What the master does at start: make the temp directories. */
    cr_assert_eq(kl_http_body_module.init_module(t->cycle), KL_OK);

    r = kl_test_http_request(t, "/", preread, strlen(preread));
    r->headers_in.chunked = 1;
    r->has_body = 1;

    return r;
}


/* What is still unread in the server's end of the socket. */
static size_t
kl_test_socket_rest(kl_test_http_t *t, char *buf, size_t size)
{
    ssize_t n;

    n = recv(t->c->fd, buf, size - 1, MSG_DONTWAIT);
    buf[n > 0 ? n : 0] = '\0';

    return n > 0 ? (size_t) n : 0;
}


static void
kl_test_fill(char *buf, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        buf[i] = (char) ('a' + i % 26);
    }

    buf[n] = '\0';
}


static void
kl_test_init(void)
{
    memset(&kl_rec, 0, sizeof(kl_rec));
}


TestSuite(http_body, .init = kl_test_init);


Test(http_body, content_length_preread_keeps_pipelined)
{
    kl_int_t       rc;
    kl_test_http_t t = { 0 };

    kl_test_length(&t, KL_TEST_CONF("", ""), 5, "helloGET /next HTTP/1.1\r\n");

    rc = kl_test_read(&t);

    cr_assert_eq(rc, KL_OK);
    cr_assert_eq(kl_rec.called, 1);
    cr_assert_eq(kl_rec.count, 2, "reading holds a reference");
    cr_assert_eq(kl_rec.len, 5);
    cr_assert_eq(memcmp(kl_rec.body, "hello", 5), 0);
    cr_assert_str_eq(kl_rec.rest, "GET /next HTTP/1.1\r\n",
                     "the pipelined request stays in header_in");
    cr_assert_not(t.r->has_body);
    cr_assert_eq(t.r->count, 1);

    kl_test_http_clean(&t);
}


Test(http_body, content_length_from_socket)
{
    char           rest[64];
    kl_int_t       rc;
    kl_test_http_t t = { 0 };

    kl_test_length(&t, KL_TEST_CONF("client_body_timeout 7s;", ""), 12, "hel");

    rc = kl_test_read(&t);

    cr_assert_eq(rc, KL_AGAIN);
    cr_assert_eq(kl_rec.called, 0);
    cr_assert(t.c->read->timer_set, "client_body_timeout is armed");
    cr_assert_eq(t.c->read->timer.key - kl_now(), 7000);

    kl_test_http_send(&t, "lo, ", 4);
    t.r->read_event_handler(t.r);
    cr_assert_eq(kl_rec.called, 0);

    /* The rest of the body with the next request behind it. */
    kl_test_http_send(&t, "worldGET /", 10);
    t.r->read_event_handler(t.r);

    cr_assert_eq(kl_rec.called, 1);
    cr_assert_eq(kl_rec.len, 12);
    cr_assert_eq(memcmp(kl_rec.body, "hello, world", 12), 0);
    cr_assert_not(t.c->read->timer_set, "the timer goes with the body");
    cr_assert_eq(t.r->read_event_handler, kl_http_block_reading);

    cr_assert_eq(kl_test_socket_rest(&t, rest, sizeof(rest)), 5);
    cr_assert_str_eq(rest, "GET /", "nothing past the body was read");

    kl_test_http_clean(&t);
}


Test(http_body, chunked_byte_by_byte_stops_at_the_end)
{
    char           rest[64];
    size_t         i, n;
    kl_test_http_t t = { 0 };

    static const char body[] = "4;a=b\r\nWiki\r\n5\r\npedia\r\n"
                               "E\r\n in\r\n\r\nchunks.\r\n"
                               "0\r\nX-Trailer: 1\r\n\r\n";

    kl_test_chunked(&t, KL_TEST_CONF("", ""), "");

    cr_assert_eq(kl_test_read(&t), KL_AGAIN);

    n = sizeof(body) - 1;

    for (i = 0; i < n - 6; i++) {
        kl_test_http_send(&t, body + i, 1);
        t.r->read_event_handler(t.r);
        cr_assert_eq(kl_rec.called, 0, "done early, at byte %zu", i);
    }

    /* The last bytes and a pipelined request in one segment. */
    kl_test_http_send(&t, body + i, 6);
    kl_test_http_send(&t, "GET /next", 9);
    t.r->read_event_handler(t.r);

    cr_assert_eq(kl_rec.called, 1);
    cr_assert_eq(kl_rec.len, 23);
    cr_assert_eq(memcmp(kl_rec.body, "Wikipedia in\r\n\r\nchunks.", 23), 0);
    cr_assert_eq(kl_rec.content_length_n, 23,
                 "the decoded length, as nginx sets it");

    kl_test_socket_rest(&t, rest, sizeof(rest));
    cr_assert_str_eq(rest, "GET /next");

    kl_test_http_clean(&t);
}


Test(http_body, chunked_preread_whole)
{
    kl_test_http_t t = { 0 };

    kl_test_chunked(&t, KL_TEST_CONF("", ""),
                    "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\nGET / HTTP/1.1\r\n");

    cr_assert_eq(kl_test_read(&t), KL_OK);
    cr_assert_eq(kl_rec.called, 1);
    cr_assert_eq(kl_rec.len, 5);
    cr_assert_eq(memcmp(kl_rec.body, "abcde", 5), 0);
    cr_assert_str_eq(kl_rec.rest, "GET / HTTP/1.1\r\n");

    kl_test_http_clean(&t);
}


Test(http_body, empty_chunked_body)
{
    kl_test_http_t t = { 0 };

    kl_test_chunked(&t, KL_TEST_CONF("", ""), "0\r\n\r\n");

    cr_assert_eq(kl_test_read(&t), KL_OK);
    cr_assert_eq(kl_rec.called, 1);
    cr_assert(kl_rec.bufs_null, "an empty body has no buffers");
    cr_assert_eq(kl_rec.content_length_n, 0);

    kl_test_http_clean(&t);
}


Test(http_body, spills_to_an_unlinked_temp_file)
{
    size_t         i;
    struct stat    st;
    kl_test_http_t t = { 0 };
    char           body[1001];

    kl_test_fill(body, 1000);

    kl_test_length(&t, KL_TEST_CONF("client_body_buffer_size 64;", ""), 1000,
                   "");

    cr_assert_eq(kl_test_read(&t), KL_AGAIN);

    for (i = 0; i < 1000; i += 100) {
        kl_test_http_send(&t, body + i, 100);
        t.r->read_event_handler(t.r);
    }

    cr_assert_eq(kl_rec.called, 1);
    cr_assert(kl_rec.in_file, "a body over the buffer is in a file");
    cr_assert_eq(kl_rec.len, 1000);
    cr_assert_eq(memcmp(kl_rec.body, body, 1000), 0);
    cr_assert_neq(kl_rec.file[0], '\0');
    cr_assert_eq(stat(kl_rec.file, &st), -1,
                 "the file is unlinked once open, as nginx does");
    cr_assert_not_null(strstr(kl_test_http_errors(&t), "[warn]"),
                       "the spill is logged at warn");
    cr_assert_not_null(
        strstr(kl_test_http_errors(&t),
               "a client request body is buffered to a temporary file"));

    kl_test_http_clean(&t);
}


Test(http_body, chunked_spills_to_temp_file)
{
    char           wire[2000], head[16], *p;
    size_t         i, n;
    kl_test_http_t t = { 0 };
    char           body[1001];

    kl_test_fill(body, 1000);

    p = wire;

    for (i = 0; i < 1000; i += 100) {
        p += sprintf(p, "64\r\n%.100s\r\n", body + i);
    }

    p += sprintf(p, "0\r\n\r\n");
    n = (size_t) (p - wire);

    /* Part of it came with the head, the rest in uneven pieces. */
    memcpy(head, wire, 8);
    head[8] = '\0';

    kl_test_chunked(&t, KL_TEST_CONF("client_body_buffer_size 64;", ""), head);

    cr_assert_eq(kl_test_read(&t), KL_AGAIN);

    for (i = 8; i < n; i += 77) {
        kl_test_http_send(&t, wire + i, kl_min(77, n - i));
        t.r->read_event_handler(t.r);
    }

    cr_assert_eq(kl_rec.called, 1);
    cr_assert(kl_rec.in_file);
    cr_assert_eq(kl_rec.len, 1000);
    cr_assert_eq(memcmp(kl_rec.body, body, 1000), 0);

    kl_test_http_clean(&t);
}


Test(http_body, a_quarter_over_the_buffer_stays_in_memory)
{
    kl_test_http_t t = { 0 };
    kl_test_http_t u = { 0 };
    char           body[82];

    kl_test_fill(body, 81);

    kl_test_length(&t, KL_TEST_CONF("client_body_buffer_size 64;", ""), 80, "");
    kl_test_http_send(&t, body, 80);
    t.c->read->ready = 1;

    cr_assert_eq(kl_test_read(&t), KL_OK);
    cr_assert_eq(kl_rec.len, 80);
    cr_assert_not(kl_rec.in_file, "80 bytes: 64 and a quarter, in memory");
    kl_test_http_clean(&t);

    kl_test_length(&u, KL_TEST_CONF("client_body_buffer_size 64;", ""), 81, "");
    kl_test_http_send(&u, body, 81);

    cr_assert_eq(kl_test_read(&u), KL_OK);
    cr_assert_eq(kl_rec.len, 81);
    cr_assert(kl_rec.in_file, "81 bytes: over, in a file");
    cr_assert_eq(memcmp(kl_rec.body, body, 81), 0);
    kl_test_http_clean(&u);
}


Test(http_body, in_file_only_keeps_the_file_named_with_levels)
{
    int            fd;
    char           buf[16], pattern[512];
    regex_t        re;
    struct stat    st;
    kl_test_http_t t = { 0 };

    kl_test_length(&t,
                   KL_TEST_CONF("client_body_temp_path tmp 1 2;",
                                "client_body_in_file_only on;"),
                   5, "small");

    cr_assert_eq(kl_test_read(&t), KL_OK);
    cr_assert(kl_rec.in_file, "in_file_only puts even 5 bytes in a file");
    cr_assert_eq(memcmp(kl_rec.body, "small", 5), 0);

    /* prefix/tmp/D/DD/DDDDDDDDDD, the levels cut from the name's end */
    snprintf(pattern, sizeof(pattern),
             "^%s/tmp/([0-9])/([0-9]{2})/[0-9]{7}\\2\\1$", t.dir);
    cr_assert_eq(regcomp(&re, pattern, REG_EXTENDED), 0);
    cr_assert_eq(regexec(&re, kl_rec.file, 0, NULL, 0), 0, "name %s",
                 kl_rec.file);
    regfree(&re);

    kl_pool_free(t.r->pool);
    t.r = NULL;

    cr_assert_eq(stat(kl_rec.file, &st), 0, "on: the file outlives it");
    cr_assert_eq(st.st_mode & 0777, 0600);

    fd = open(kl_rec.file, O_RDONLY);
    cr_assert_eq(read(fd, buf, sizeof(buf)), 5);
    close(fd);

    cr_assert_not_null(strstr(kl_test_http_errors(&t), "[notice]"),
                       "in_file_only logs at notice");

    kl_test_http_clean(&t);
}


Test(http_body, in_file_only_clean_removes_it_with_the_request)
{
    struct stat    st;
    kl_test_http_t t = { 0 };

    kl_test_length(&t, KL_TEST_CONF("", "client_body_in_file_only clean;"), 5,
                   "small");

    cr_assert_eq(kl_test_read(&t), KL_OK);
    cr_assert(kl_rec.in_file);
    cr_assert_eq(stat(kl_rec.file, &st), 0, "there while the request is");

    kl_pool_free(t.r->pool);
    t.r = NULL;

    cr_assert_eq(stat(kl_rec.file, &st), -1, "clean: gone after it");

    kl_test_http_clean(&t);
}


Test(http_body, in_file_only_makes_a_file_for_an_empty_body)
{
    struct stat    st;
    kl_test_http_t t = { 0 };

    kl_test_length(&t, KL_TEST_CONF("", "client_body_in_file_only on;"), 0, "");

    cr_assert_eq(kl_test_read(&t), KL_OK);
    cr_assert(kl_rec.bufs_null);
    cr_assert_neq(kl_rec.file[0], '\0', "nginx makes the file all the same");
    cr_assert_eq(stat(kl_rec.file, &st), 0);
    cr_assert_eq(st.st_size, 0);

    kl_test_http_clean(&t);
}


Test(http_body, no_body_calls_the_handler_at_once)
{
    kl_test_http_t t = { 0 };

    kl_test_length(&t, KL_TEST_CONF("", ""), -1, "GET / HTTP/1.1\r\n");

    cr_assert_eq(kl_test_read(&t), KL_OK);
    cr_assert_eq(kl_rec.called, 1);
    cr_assert(kl_rec.bufs_null);
    cr_assert_str_eq(kl_rec.rest, "GET / HTTP/1.1\r\n");

    /* A second call finds the body read: the handler runs again. */
    cr_assert_eq(kl_test_read(&t), KL_OK);
    cr_assert_eq(kl_rec.called, 2);

    kl_test_http_clean(&t);
}


Test(http_body, chunked_over_client_max_body_size)
{
    kl_test_http_t t = { 0 };
    kl_test_http_t u = { 0 };

    kl_test_chunked(&t, KL_TEST_CONF("client_max_body_size 100;", ""),
                    "c8\r\nabc");

    cr_assert_eq(kl_test_read(&t), KL_HTTP_REQUEST_ENTITY_TOO_LARGE);
    cr_assert_eq(kl_rec.called, 0);
    cr_assert_eq(t.r->count, 1, "an error gives the reference back");
    cr_assert_not_null(strstr(kl_test_http_errors(&t),
                              "client intended to send too large chunked "
                              "body: 0+200 bytes"));
    kl_test_http_clean(&t);

    /* The running total counts: 60 and then 60 more. */
    kl_test_chunked(&u, KL_TEST_CONF("client_max_body_size 100;", ""),
                    "3c\r\n");
    cr_assert_eq(kl_test_read(&u), KL_AGAIN);

    /* Checked when the chunk's data begins, as nginx checks it. */
    kl_test_http_send(&u,
                      "0123456789012345678901234567890123456789"
                      "01234567890123456789\r\n3c\r\nx",
                      67);
    u.r->read_event_handler(u.r);

    cr_assert_not_null(
        strstr(kl_test_http_errors(&u), "too large chunked body: 60+60 bytes"));
    cr_assert_eq(kl_rec.called, 0);
    kl_test_http_clean(&u);
}


Test(http_body, too_large_from_the_socket_is_answered_413)
{
    char           buf[4096];
    kl_test_http_t t = { 0 };

    kl_test_chunked(&t, KL_TEST_CONF("client_max_body_size 10;", ""), "");

    cr_assert_eq(kl_test_read(&t), KL_AGAIN);

    kl_test_http_send(&t, "5\r\nhello\r\n6\r\nx", 14);
    t.r->read_event_handler(t.r);

    kl_test_http_recv(&t, buf, sizeof(buf));
    cr_assert_eq(strncmp(buf, "HTTP/1.1 413 ", 13), 0, "got: %s (log: %s)", buf,
                 kl_test_http_errors(&t));
    cr_assert_not_null(strstr(buf, "Connection: close\r\n"),
                       "the rest of the body is not read: no keep-alive");

    kl_test_http_clean(&t);
}


Test(http_body, content_length_over_client_max_body_size)
{
    kl_test_http_t t = { 0 };

    kl_test_length(&t, KL_TEST_CONF("client_max_body_size 4;", ""), 5, "hello");

    cr_assert_eq(kl_test_read(&t), KL_HTTP_REQUEST_ENTITY_TOO_LARGE);
    cr_assert_eq(kl_rec.called, 0);
    cr_assert_eq(t.r->count, 1);

    kl_test_http_clean(&t);
}


Test(http_body, bad_chunked_framing_is_400)
{
    kl_test_http_t t = { 0 };
    kl_test_http_t u = { 0 };

    kl_test_chunked(&t, KL_TEST_CONF("", ""), "zz\r\n");
    cr_assert_eq(kl_test_read(&t), KL_HTTP_BAD_REQUEST);
    cr_assert_not_null(
        strstr(kl_test_http_errors(&t), "client sent invalid chunked body"));
    kl_test_http_clean(&t);

    /* Data longer than its chunk size said. */
    kl_test_chunked(&u, KL_TEST_CONF("", ""), "2\r\nabc\r\n0\r\n\r\n");
    cr_assert_eq(kl_test_read(&u), KL_HTTP_BAD_REQUEST);
    kl_test_http_clean(&u);
}


Test(http_body, expect_100_continue)
{
    char           buf[256];
    kl_test_http_t t = { 0 };

    kl_test_length(&t, KL_TEST_CONF("", ""), 5, "");
    t.r->headers_in.expect = kl_test_http_header(t.r, "Expect", "100-Continue");

    cr_assert_eq(kl_test_read(&t), KL_AGAIN);

    kl_test_http_recv(&t, buf, sizeof(buf));
    cr_assert_str_eq(buf, "HTTP/1.1 100 Continue\r\n\r\n");

    kl_test_http_send(&t, "hello", 5);
    t.r->read_event_handler(t.r);

    cr_assert_eq(kl_rec.called, 1);
    kl_test_http_recv(&t, buf, sizeof(buf));
    cr_assert_str_eq(buf, "", "100 Continue is sent once");

    kl_test_http_clean(&t);
}


Test(http_body, expect_without_100_continue)
{
    char           buf[256];
    kl_test_http_t t = { 0 };
    kl_test_http_t u = { 0 };
    kl_test_http_t v = { 0 };

    /* HTTP/1.0 clients do not wait for it. */
    kl_test_length(&t, KL_TEST_CONF("", ""), 5, "");
    t.r->http_version = KL_HTTP_VERSION_10;
    t.r->headers_in.expect = kl_test_http_header(t.r, "Expect", "100-continue");
    cr_assert_eq(kl_test_read(&t), KL_AGAIN);
    kl_test_http_recv(&t, buf, sizeof(buf));
    cr_assert_str_eq(buf, "");
    kl_test_http_clean(&t);

    /* Other expectations are ignored, as nginx ignores them. */
    kl_test_length(&u, KL_TEST_CONF("", ""), 5, "");
    u.r->headers_in.expect = kl_test_http_header(u.r, "Expect", "fly");
    cr_assert_eq(kl_test_read(&u), KL_AGAIN);
    kl_test_http_recv(&u, buf, sizeof(buf));
    cr_assert_str_eq(buf, "");
    kl_test_http_clean(&u);

    /* No body to wait for: nothing to say. */
    kl_test_length(&v, KL_TEST_CONF("", ""), 0, "");
    v.r->headers_in.expect = kl_test_http_header(v.r, "Expect", "100-continue");
    cr_assert_eq(kl_test_read(&v), KL_OK);
    kl_test_http_recv(&v, buf, sizeof(buf));
    cr_assert_str_eq(buf, "");
    kl_test_http_clean(&v);
}


Test(http_body, timeout_closes_without_a_response)
{
    kl_test_http_t t = { 0 };

    kl_test_length(&t, KL_TEST_CONF("", ""), 5, "he");

    cr_assert_eq(kl_test_read(&t), KL_AGAIN);
    cr_assert(t.c->read->timer_set);

    /* The timer fires. */
    t.c->read->timedout = 1;
    t.r->read_event_handler(t.r);

    cr_assert(kl_test_http_closed(&t), "closed, and nothing was sent");
    cr_assert_eq(kl_rec.called, 0);
    cr_assert_not_null(
        strstr(kl_test_http_errors(&t), "client timed out (110: "));

    kl_test_http_clean(&t);
}


Test(http_body, client_gone_mid_body)
{
    kl_test_http_t t = { 0 };

    kl_test_length(&t, KL_TEST_CONF("", ""), 5, "he");

    cr_assert_eq(kl_test_read(&t), KL_AGAIN);

    shutdown(t.peer, SHUT_WR);
    t.c->read->ready = 1;
    t.r->read_event_handler(t.r);

    cr_assert(kl_test_http_closed(&t), "closed, and nothing was sent");
    cr_assert_not_null(strstr(kl_test_http_errors(&t),
                              "client prematurely closed connection"));

    kl_test_http_clean(&t);
}


Test(http_body, discard_stops_at_the_chunked_end)
{
    char           rest[64];
    kl_test_http_t t = { 0 };

    /* A chunk cut in the middle of its data, the rest later. */
    kl_test_chunked(&t, KL_TEST_CONF("", ""), "5\r\nhel");
    t.r->count++; /* the content handler's */

    cr_assert_eq(kl_http_discard_request_body(t.r), KL_OK);
    cr_assert(t.r->discarding);

    kl_test_http_send(&t, "lo\r\n0\r\n\r\nGET /next", 18);
    t.r->read_event_handler(t.r);

    cr_assert_not(t.r->discarding);
    cr_assert_not(t.r->has_body);

    kl_test_socket_rest(&t, rest, sizeof(rest));
    cr_assert_str_eq(rest, "GET /next",
                     "the next request was not read as body");

    kl_test_http_clean(&t);
}


Test(http_body, discard_content_length_in_pieces)
{
    char           rest[64];
    kl_test_http_t t = { 0 };

    kl_test_length(&t, KL_TEST_CONF("", ""), 10, "01");
    t.r->count++;

    cr_assert_eq(kl_http_discard_request_body(t.r), KL_OK);
    cr_assert(t.r->discarding);

    kl_test_http_send(&t, "2345", 4);
    t.r->read_event_handler(t.r);
    cr_assert(t.r->discarding);

    kl_test_http_send(&t, "6789GET", 7);
    t.r->read_event_handler(t.r);
    cr_assert_not(t.r->discarding);

    kl_test_socket_rest(&t, rest, sizeof(rest));
    cr_assert_str_eq(rest, "GET");

    kl_test_http_clean(&t);
}


Test(http_body, discard_continues_only_for_a_wanted_answer)
{
    char           buf[256];
    kl_test_http_t t = { 0 };
    kl_test_http_t u = { 0 };

    /* A 200 that discards the body: the client is told to send it. */
    kl_test_length(&t, KL_TEST_CONF("", ""), 5, "");
    t.r->headers_in.expect = kl_test_http_header(t.r, "Expect", "100-continue");
    t.r->count++;

    cr_assert_eq(kl_http_discard_request_body(t.r), KL_OK);
    kl_test_http_recv(&t, buf, sizeof(buf));
    cr_assert_str_eq(buf, "HTTP/1.1 100 Continue\r\n\r\n");
    kl_test_http_clean(&t);

    /* An error page: no 100, as nginx's special responses. */
    kl_test_length(&u, KL_TEST_CONF("", ""), 5, "");
    u.r->headers_in.expect = kl_test_http_header(u.r, "Expect", "100-continue");
    u.r->err_status = KL_HTTP_NOT_FOUND;
    u.r->count++;

    cr_assert_eq(kl_http_discard_request_body(u.r), KL_OK);
    kl_test_http_recv(&u, buf, sizeof(buf));
    cr_assert_str_eq(buf, "");
    kl_test_http_clean(&u);
}


Test(http_body, reading_a_discarded_body_finds_none)
{
    kl_test_http_t t = { 0 };

    kl_test_length(&t, KL_TEST_CONF("", ""), 5, "helloGET");

    cr_assert_eq(kl_http_discard_request_body(t.r), KL_OK);
    cr_assert_not(t.r->has_body);

    cr_assert_eq(kl_test_read(&t), KL_OK);
    cr_assert_eq(kl_rec.called, 1);
    cr_assert(kl_rec.bufs_null);
    cr_assert_str_eq(kl_rec.rest, "GET");

    kl_test_http_clean(&t);
}


Test(http_body, directive_defaults)
{
    char                     path[512];
    kl_test_http_t           t = { 0 };
    kl_http_body_loc_conf_t *blcf;

    kl_test_length(&t, KL_TEST_CONF("", ""), 5, "");

    blcf = kl_http_get_module_loc_conf(t.r, kl_http_body_module);

    cr_assert_eq(blcf->client_body_buffer_size, 16384);
    cr_assert_eq(blcf->client_body_in_file_only, KL_HTTP_BODY_FILE_OFF);
    cr_assert_eq(blcf->client_body_in_single_buffer, 0);

    snprintf(path, sizeof(path), "%s/client_body_temp", t.dir);
    cr_assert_str_eq((char *) blcf->client_body_temp_path->name.data, path);
    cr_assert_eq(blcf->client_body_temp_path->level[0], 0);

    kl_test_http_clean(&t);
}


Test(http_body, the_master_creates_temp_paths)
{
    char           path[512];
    struct stat    st;
    kl_test_http_t t = { 0 };

    cr_assert_not_null(
        kl_test_http_cycle(&t, "body",
                           KL_TEST_CONF("client_body_temp_path spool/ 1 2;",
                                        "client_body_temp_path other;")));

    cr_assert_eq(kl_http_body_module.init_module(t.cycle), KL_OK);

    snprintf(path, sizeof(path), "%s/spool", t.dir);
    cr_assert_eq(stat(path, &st), 0, "made at start");
    cr_assert(S_ISDIR(st.st_mode));
    cr_assert_eq(st.st_mode & 0777, 0700);

    snprintf(path, sizeof(path), "%s/other", t.dir);
    cr_assert_eq(stat(path, &st), 0, "every path used");

    /* Again (a reload): the directories are there already. */
    cr_assert_eq(kl_http_body_module.init_module(t.cycle), KL_OK);

    kl_test_http_clean(&t);
}


Test(http_body, temp_path_errors)
{
    kl_test_http_t t = { 0 };

    cr_assert_null(
        kl_test_http_cycle(&t, "body",
                           KL_TEST_CONF("client_body_temp_path spool 1;",
                                        "client_body_temp_path spool/ 2;")));
    cr_assert_not_null(strstr(kl_test_http_errors(&t), "has the different "
                                                       "levels than in"));
    kl_test_http_clean(&t);

    cr_assert_null(kl_test_http_cycle(
        &t, "body", KL_TEST_CONF("client_body_temp_path spool 0;", "")));
    cr_assert_not_null(strstr(kl_test_http_errors(&t),
                              "\"client_body_temp_path\" directive invalid "
                              "value"));
    kl_test_http_clean(&t);

    /* The levels are cut from ten digits. */
    cr_assert_null(kl_test_http_cycle(
        &t, "body", KL_TEST_CONF("client_body_temp_path spool 9 2;", "")));
    kl_test_http_clean(&t);

    cr_assert_null(kl_test_http_cycle(
        &t, "body", KL_TEST_CONF("client_body_in_file_only maybe;", "")));
    kl_test_http_clean(&t);

    /* The same path with the same levels twice is fine. */
    cr_assert_not_null(
        kl_test_http_cycle(&t, "body",
                           KL_TEST_CONF("client_body_temp_path spool 1;",
                                        "client_body_temp_path spool 1;")));
    kl_test_http_clean(&t);
}


/*
 * Through the fake transport (kl_test_io.h): the body arrives up to each
 * cut in turn, the reader runs after each; what it read must be the body
 * whatever the cuts, and not one byte of what follows it.
 */
static void
kl_test_io_body(const char *conf, off_t length, const char *wire,
                const size_t *cuts, size_t ncuts, size_t max, const char *what)
{
    size_t         i;
    kl_test_http_t t = { 0 };

    kl_test_init();

    if (length >= 0) {
        kl_test_length(&t, conf, length, "");
    } else {
        kl_test_chunked(&t, conf, "");
    }

    t.c->io = &kl_test_io_table;
    kl_test_io_reset(wire, strlen(wire), max, max == 0);

    cr_assert_eq(kl_test_read(&t), KL_AGAIN);

    for (i = 0; i < ncuts; i++) {
        kl_test_io.arrived = cuts[i];
        t.c->read->ready = 1;
        t.r->read_event_handler(t.r);
    }

    cr_assert_eq(kl_rec.called, 1, "%s: the body ended once", what);

    kl_test_http_clean(&t);
}


/* Every cut in two, then byte by byte, then one byte per recv. */
static void
kl_test_io_body_cuts(const char *conf, off_t length, const char *wire,
                     const char *body, size_t body_end)
{
    size_t k, len, cuts[2];
    size_t bytes[2048];

    len = strlen(wire);
    cr_assert_lt(len, sizeof(bytes) / sizeof(bytes[0]));

    for (k = 1; k <= len; k++) {
        cuts[0] = k;
        cuts[1] = len;
        kl_test_io_body(conf, length, wire, cuts, 2, 0, "cut");

        cr_assert_eq(kl_rec.len, strlen(body), "cut at %zu", k);
        cr_assert_eq(memcmp(kl_rec.body, body, kl_rec.len), 0, "cut at %zu", k);
        cr_assert_eq(kl_test_io.pos, body_end,
                     "cut at %zu: read up to the body's end only", k);

        bytes[k - 1] = k;
    }

    kl_test_io_body(conf, length, wire, bytes, len, 0, "byte by byte");
    cr_assert_eq(kl_rec.len, strlen(body), "byte by byte");
    cr_assert_eq(memcmp(kl_rec.body, body, kl_rec.len), 0, "byte by byte");
    cr_assert_eq(kl_test_io.pos, body_end, "byte by byte");

    kl_test_io_body(conf, length, wire, &len, 1, 1, "one-byte reads");
    cr_assert_eq(kl_rec.len, strlen(body), "one byte per recv");
    cr_assert_eq(memcmp(kl_rec.body, body, kl_rec.len), 0, "one-byte reads");
    cr_assert_eq(kl_test_io.pos, body_end, "one-byte reads");
}


Test(http_body, content_length_through_a_fake_transport_at_every_cut)
{
    kl_test_io_body_cuts(KL_TEST_CONF("", ""), 12,
                         "hello, worldGET /next HTTP/1.1\r\n", "hello, world",
                         12);
}


Test(http_body, content_length_spilled_to_a_file_at_every_cut)
{
    char body[201], wire[256];

    kl_test_fill(body, 200);
    snprintf(wire, sizeof(wire), "%sGET /", body);

    kl_test_io_body_cuts(KL_TEST_CONF("client_body_buffer_size 32;", ""), 200,
                         wire, body, 200);
    cr_assert(kl_rec.in_file, "200 bytes over a 32-byte buffer: a file");
}


Test(http_body, chunked_through_a_fake_transport_at_every_cut)
{
    static const char wire[] = "4;a=b\r\nWiki\r\n5\r\npedia\r\n"
                               "E\r\n in\r\n\r\nchunks.\r\n"
                               "0\r\nX-Trailer: 1\r\n\r\n"
                               "GET /next HTTP/1.1\r\n";

    kl_test_io_body_cuts(KL_TEST_CONF("", ""), -1, wire,
                         "Wikipedia in\r\n\r\nchunks.",
                         strstr(wire, "GET /next") - wire);
}


Test(http_body, chunked_spilled_to_a_file_at_every_cut)
{
    char   body[121], wire[512], *p;
    size_t i, end;

    kl_test_fill(body, 120);
    p = wire;

    for (i = 0; i < 120; i += 40) {
        p += sprintf(p, "28\r\n%.40s\r\n", body + i);
    }

    p += sprintf(p, "0\r\n\r\n");
    end = (size_t) (p - wire);
    sprintf(p, "GET /");

    kl_test_io_body_cuts(KL_TEST_CONF("client_body_buffer_size 32;", ""), -1,
                         wire, body, end);
    cr_assert(kl_rec.in_file, "120 bytes over a 32-byte buffer: a file");
}
