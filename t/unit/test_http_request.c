/* test_http_request.c: v1/connection.c's reader (request line, headers, keep-alive, pipelining, discarded bodies) through a fake transport, with the client's bytes cut at every boundary. */

#include "kl_test_http.h"
#include "kl_test_io.h"


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

/* Each response says what the reader parsed. */
#define KL_TEST_ECHO(http)                                                     \
    KL_TEST_CONF(http, "return 200 \"$request_method $request_uri $host "      \
                       "[$http_x_a] $content_length\\n\";")


/*
 * Four requests on one connection: a GET, a body by Content-Length and
 * one chunked (both discarded by return, so the next request must start
 * exactly after them), and a last one that closes.
 */
#define KL_TEST_STREAM(last)                                                   \
    "GET /a?x=1 HTTP/1.1\r\nHost: one\r\nX-A: first\r\n\r\n"                   \
    "POST /b HTTP/1.1\r\nHost: two\r\nContent-Length: 5\r\n"                   \
    "X-A: second\r\n\r\nhello"                                                 \
    "POST /c%20d HTTP/1.1\r\nHost: three\r\nTransfer-Encoding: chunked\r\n"    \
    "\r\n3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\nT: 1\r\n\r\n"                       \
    "GET /e HTTP/1.1\r\nHost: four\r\n" last "Connection: close\r\n\r\n"

static const char kl_test_stream[] = KL_TEST_STREAM("");


/*
 * A connection as accept makes it, on the fake transport, handed to
 * HTTP: kl_http_init_connection reads at once (nothing has arrived).
 * Its fd is one end of a socketpair, for close and socket options.
 */
static kl_connection_t *
kl_test_connect(kl_test_http_t *t)
{
    int              sv[2];
    kl_event_t      *rev, *wev;
    kl_listening_t  *ls;
    kl_connection_t *c;

    cr_assert_gt(t->cycle->listening.nelts, 0);
    ls = t->cycle->listening.elts;

    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);

    c = calloc(1, sizeof(kl_connection_t));
    rev = calloc(1, sizeof(kl_event_t));
    wev = calloc(1, sizeof(kl_event_t));
    cr_assert(c && rev && wev);

    c->fd = sv[0];
    c->io = &kl_test_io_table;
    c->log = t->log;
    c->read = rev;
    c->write = wev;
    c->listening = ls;
    c->local_sockaddr = &ls->sockaddr.sockaddr;
    c->local_socklen = ls->socklen;
    c->tcp_nodelay = 1; /* a unix socket has no such option */
    kl_str_set(&c->addr_text, "unix:");

    rev->data = c;
    rev->log = t->log;
    wev->data = c;
    wev->log = t->log;
    wev->write = 1;
    wev->ready = 1;

    t->c = c;
    t->r = NULL;
    t->peer = sv[1];

    kl_http_init_connection(c);

    return c;
}


/*
 * The client closes: whatever state the connection is in (idle, or
 * lingering after the last response), the server closes it too.
 */
static void
kl_test_disconnect(kl_test_http_t *t)
{
    kl_connection_t *c;

    c = t->c;

    kl_test_io.eof = 1;
    kl_test_io_arrive(c, kl_test_io.len);
    cr_assert(c->destroyed, "the server closed the connection at EOF");

    free(c->read);
    free(c->write);
    free(c);
    free(t->log->data);
    t->log->data = NULL;
    close(t->peer);
    t->c = NULL;
}


/*
 * Cut points: the stream arrives up to each, in order, then EOF; the
 * fake takes at most wmax bytes of output per call (0: all).
 */
static void
kl_test_run_out(kl_test_http_t *t, const char *in, size_t len,
                const size_t *cuts, size_t ncuts, size_t max, unsigned dry,
                size_t wmax)
{
    size_t i;

    kl_test_io_reset(in, len, max, dry);
    kl_test_io.wmax = wmax;
    kl_test_connect(t);

    for (i = 0; i < ncuts; i++) {
        kl_test_io_arrive(t->c, cuts[i]);
    }

    cr_assert_eq(kl_test_io.pos, len, "the server read all %zu bytes", len);
    kl_test_disconnect(t);
}


static void
kl_test_run(kl_test_http_t *t, const char *in, size_t len, const size_t *cuts,
            size_t ncuts, size_t max, unsigned dry)
{
    kl_test_run_out(t, in, len, cuts, ncuts, max, dry, 0);
}


/* The output of one whole read, the reference for the cut ones. */
static void
kl_test_whole(kl_test_http_t *t, const char *in, char *out, size_t size)
{
    size_t len;

    len = strlen(in);
    kl_test_run(t, in, len, &len, 1, 0, 1);

    cr_assert_lt(kl_test_io.out_len, size);
    memcpy(out, kl_test_io.out, kl_test_io.out_len);
    out[kl_test_io.out_len] = '\0';
}


static void
kl_test_same(const char *whole, const char *what, size_t at)
{
    kl_test_io.out[kl_test_io.out_len] = '\0';

    cr_assert_str_eq((char *) kl_test_io.out, whole,
                     "%s at %zu: the same responses as one read", what, at);
}


static void
kl_test_setup(kl_test_http_t *t, const char *conf)
{
    cr_assert_not_null(kl_test_http_cycle(t, "request", conf),
                       "the configuration parses");

    /* What the master does at start: make the temp directories. */
    cr_assert_eq(kl_http_body_module.init_module(t->cycle), KL_OK);
}


static kl_uint_t
kl_test_count(const char *s, const char *what)
{
    kl_uint_t n;

    for (n = 0; (s = strstr(s, what)) != NULL; s++) {
        n++;
    }

    return n;
}


Test(http_request, whole_stream_parses_four_requests)
{
    kl_test_http_t t = { 0 };
    static char    out[KL_TEST_IO_OUT];

    kl_test_setup(&t, KL_TEST_ECHO(""));
    kl_test_whole(&t, kl_test_stream, out, sizeof(out));

    cr_assert_eq(kl_test_count(out, "HTTP/1.1 200 OK\r\n"), 4, "%s", out);
    cr_assert_not_null(strstr(out, "\r\n\r\nGET /a?x=1 one [first] \n"));
    cr_assert_not_null(strstr(out, "\r\n\r\nPOST /b two [second] 5\n"));
    cr_assert_not_null(strstr(out, "\r\n\r\nPOST /c%20d three [] \n"));
    cr_assert_not_null(strstr(out, "\r\n\r\nGET /e four [] \n"));
    cr_assert_eq(kl_test_count(out, "Connection: keep-alive"), 3);
    cr_assert_eq(kl_test_count(out, "Connection: close"), 1);

    kl_test_http_clean(&t);
}


/* The fake gives the reader's errors the same path as its successes. */
Test(http_request, folded_header_is_refused_after_three_good_requests)
{
    kl_test_http_t t = { 0 };
    static char    out[KL_TEST_IO_OUT];

    kl_test_setup(&t, KL_TEST_ECHO(""));
    kl_test_whole(&t, KL_TEST_STREAM("X-A: a,\r\n b\r\n"), out, sizeof(out));

    cr_assert_eq(kl_test_count(out, "HTTP/1.1 200 OK\r\n"), 3, "%s", out);
    cr_assert_eq(kl_test_count(out, "HTTP/1.1 400 Bad Request\r\n"), 1);

    kl_test_http_clean(&t);
}


Test(http_request, every_cut_in_two_reads_parses_the_same)
{
    size_t         k, len, cuts[2];
    kl_test_http_t t = { 0 };
    static char    whole[KL_TEST_IO_OUT];

    kl_test_setup(&t, KL_TEST_ECHO(""));
    kl_test_whole(&t, kl_test_stream, whole, sizeof(whole));

    len = sizeof(kl_test_stream) - 1;

    for (k = 1; k < len; k++) {
        cuts[0] = k;
        cuts[1] = len;

        kl_test_run(&t, kl_test_stream, len, cuts, 2, 0, 1);
        kl_test_same(whole, "cut", k);
    }

    kl_test_http_clean(&t);
}


Test(http_request, byte_by_byte_arrival_parses_the_same)
{
    size_t         i, len;
    kl_test_http_t t = { 0 };
    static size_t  cuts[sizeof(kl_test_stream)];
    static char    whole[KL_TEST_IO_OUT];

    kl_test_setup(&t, KL_TEST_ECHO(""));
    kl_test_whole(&t, kl_test_stream, whole, sizeof(whole));

    len = sizeof(kl_test_stream) - 1;

    for (i = 0; i < len; i++) {
        cuts[i] = i + 1;
    }

    /* A socket's way (a short read means dry) and a buffering one's. */
    kl_test_run(&t, kl_test_stream, len, cuts, len, 0, 1);
    kl_test_same(whole, "byte by byte", 0);
    cr_assert_geq(kl_test_io.recvs, len, "a recv per byte (%lu)",
                  (unsigned long) kl_test_io.recvs);

    kl_test_run(&t, kl_test_stream, len, cuts, len, 0, 0);
    kl_test_same(whole, "byte by byte, ready kept", 0);
    cr_assert_geq(kl_test_io.agains, len - 1, "KL_AGAIN after each byte (%lu)",
                  (unsigned long) kl_test_io.agains);

    kl_test_http_clean(&t);
}


Test(http_request, one_byte_reads_of_a_whole_arrival_parse_the_same)
{
    size_t         len;
    kl_test_http_t t = { 0 };
    static char    whole[KL_TEST_IO_OUT];

    kl_test_setup(&t, KL_TEST_ECHO(""));
    kl_test_whole(&t, kl_test_stream, whole, sizeof(whole));

    len = sizeof(kl_test_stream) - 1;

    /* All arrived at once, but each recv gives one byte and ready stays. */
    kl_test_run(&t, kl_test_stream, len, &len, 1, 1, 0);
    kl_test_same(whole, "one-byte reads", 0);
    cr_assert_geq(kl_test_io.recvs, len, "one recv per byte at least");

    kl_test_http_clean(&t);
}


Test(http_request, long_line_moves_to_a_large_buffer_at_every_cut)
{
    size_t         k, len, cuts[2];
    kl_test_http_t t = { 0 };
    static char    in[1024], whole[KL_TEST_IO_OUT];

    /* The first line outgrows client_header_buffer_size (64 bytes). */
    kl_test_setup(&t,
                  KL_TEST_CONF("client_header_buffer_size 64;",
                               "return 200 \"$request_uri [$http_x_a]\\n\";"));
    snprintf(in, sizeof(in),
             "GET /%s HTTP/1.1\r\nHost: h\r\n\r\n"
             "GET /b HTTP/1.1\r\nHost: h\r\nX-A: %s\r\n"
             "Connection: close\r\n\r\n",
             "0123456789012345678901234567890123456789012345678901234567890",
             "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijk");

    kl_test_whole(&t, in, whole, sizeof(whole));
    cr_assert_eq(kl_test_count(whole, "HTTP/1.1 200 OK\r\n"), 2, "%s", whole);
    cr_assert_not_null(strstr(whole, "\r\n\r\n/b [abcdefghijklmnopqrstuvwxyz"));

    len = strlen(in);

    for (k = 1; k < len; k++) {
        cuts[0] = k;
        cuts[1] = len;

        kl_test_run(&t, in, len, cuts, 2, 0, 1);
        kl_test_same(whole, "cut", k);
    }

    kl_test_http_clean(&t);
}


/*
 * Bytes after a request that closes: lingering close ends our side
 * through c->io->shutdown and drains the rest until the client's EOF.
 */
Test(http_request, lingering_close_shuts_down_through_the_transport)
{
    size_t         len;
    kl_test_http_t t = { 0 };

    static const char in[] = "GET /x HTTP/1.1\r\nHost: h\r\n"
                             "Connection: close\r\n\r\nextra bytes";

    kl_test_setup(&t, KL_TEST_ECHO(""));

    len = sizeof(in) - 1;
    kl_test_io_reset(in, len, 0, 1);
    kl_test_connect(&t);
    kl_test_io_arrive(t.c, len);

    kl_test_io.out[kl_test_io.out_len] = '\0';
    cr_assert_not_null(
        strstr((char *) kl_test_io.out, "\r\n\r\nGET /x h [] \n"));
    cr_assert(kl_test_io.shut, "the sending side was shut down");
    cr_assert_not(t.c->destroyed, "still draining the client");
    cr_assert_eq(kl_test_io.pos, len, "the extra bytes were read and dropped");

    kl_test_disconnect(&t);
    kl_test_http_clean(&t);
}


/*
 * A slow client: the fake takes a few bytes of output per call, the
 * writer resumes on each write event, and pipelined requests wait for
 * the response before them. The bytes are those of a fast client.
 */
Test(http_request, output_cut_at_every_size_is_the_same)
{
    size_t         len, wmax;
    kl_test_http_t t = { 0 };
    static char    whole[KL_TEST_IO_OUT];

    kl_test_setup(&t, KL_TEST_ECHO(""));
    kl_test_whole(&t, kl_test_stream, whole, sizeof(whole));

    len = sizeof(kl_test_stream) - 1;

    for (wmax = 1; wmax < 200; wmax++) {
        kl_test_run_out(&t, kl_test_stream, len, &len, 1, 0, 1, wmax);
        kl_test_same(whole, "output per call", wmax);
    }

    kl_test_http_clean(&t);
}


static void
kl_test_static(const char *conf, size_t size)
{
    int            fd;
    char           path[512], *body;
    size_t         len, i, wmax;
    kl_test_http_t t = { 0 };
    static char    whole[KL_TEST_IO_OUT];

    static const char in[] = "GET /f.txt HTTP/1.1\r\nHost: a\r\n\r\n"
                             "HEAD /f.txt HTTP/1.1\r\nHost: a\r\n\r\n"
                             "GET /f.txt HTTP/1.1\r\nHost: a\r\n"
                             "Connection: close\r\n\r\n";

    kl_test_setup(&t, conf);

    snprintf(path, sizeof(path), "%s/html", t.dir);
    cr_assert_eq(mkdir(path, 0755), 0);
    snprintf(path, sizeof(path), "%s/html/f.txt", t.dir);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    cr_assert_neq(fd, -1);

    body = malloc(size + 1);
    cr_assert_not_null(body);

    for (i = 0; i < size; i++) {
        body[i] = (char) ('a' + i % 26);
    }

    body[size] = '\0';
    cr_assert_eq(write(fd, body, size), (ssize_t) size);
    close(fd);

    kl_test_whole(&t, in, whole, sizeof(whole));

    cr_assert_eq(kl_test_count(whole, "HTTP/1.1 200 OK\r\n"), 3);
    cr_assert_eq(kl_test_count(whole, body), 2, "two GETs, whole bodies");

    len = sizeof(in) - 1;

    for (wmax = 1; wmax < 2 * size; wmax = wmax * 3 + 1) {
        kl_test_run_out(&t, in, len, &len, 1, 0, 1, wmax);
        kl_test_same(whole, "file output per call", wmax);
    }

    free(body);
    kl_test_http_clean(&t);
}


Test(http_request, static_file_output_cut_is_the_same_sendfile_on)
{
    kl_test_static(KL_TEST_CONF("root html; sendfile on;"
                                "sendfile_max_chunk 4k;",
                                ""),
                   20000);
}


Test(http_request, static_file_output_cut_is_the_same_sendfile_off)
{
    kl_test_static(KL_TEST_CONF("root html; sendfile off;", ""), 20000);
}


/*
 * The copy filter reads at most sendfile_max_chunk per call, then goes on
 * from the next round of the loop (posted_next): one 4k buffer refilled
 * five times a call, and the bytes are still those of a fast client.
 */
Test(http_request, static_file_copy_filter_bounded_per_event)
{
    kl_test_static(KL_TEST_CONF("root html; sendfile off;"
                                "output_buffers 1 4k;"
                                "sendfile_max_chunk 5k;",
                                ""),
                   20000);
}
