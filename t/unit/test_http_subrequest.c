/* test_http_subrequest.c: subrequests (subrequest.c) and their output through the real filter chains (postpone_filter.c): order, in memory, limits. */

#include "kl_test_http.h"


#define KL_TEST_CONF                                                           \
    "error_log logs/error.log info;\n"                                         \
    "events { }\n"                                                             \
    "http {\n"                                                                 \
    "    subrequest_output_buffer_size 8;\n"                                   \
    "    server {\n"                                                           \
    "        listen 127.0.0.1:1;\n"                                            \
    "        location / { }\n"                                                 \
    "    }\n"                                                                  \
    "}\n"


static kl_uint_t kl_test_posted_runs;


static kl_http_request_t *
kl_test_main(kl_test_http_t *t)
{
    kl_http_request_t *r;

    kl_queue_init(&kl_loop.posted);

    cr_assert_not_null(kl_test_http_cycle(t, "subrequest", KL_TEST_CONF));

    r = kl_test_http_request(t, "/", "", 0);
    r->method = KL_HTTP_GET;
    kl_str_set(&r->method_name, "GET");
    r->http_version = KL_HTTP_VERSION_10;
    r->headers_out.status = KL_HTTP_OK;

    return r;
}


/*
 * The end of a test: requests posted and not run go with the pool, which
 * the harness frees when the main request is the active one.
 */
static void
kl_test_done(kl_test_http_t *t, kl_http_request_t *r)
{
    r->connection->data = r;

    if (r->posted_event && r->posted_event->posted) {
        kl_delete_posted_event(r->posted_event);
    }

    kl_test_http_clean(t);
}


static kl_chain_t *
kl_test_buf(kl_http_request_t *r, const char *text, kl_uint_t last)
{
    kl_buf_t   *b;
    kl_chain_t *cl;

    b = kl_buf_calloc(r->pool);
    cl = kl_chain_alloc(r->pool);
    cr_assert(b && cl);

    b->pos = (u_char *) text;
    b->last = (u_char *) text + strlen(text);
    b->memory = (strlen(text) > 0);
    b->last_buf = last;

    cl->buf = b;
    cl->next = NULL;

    return cl;
}


/* A parent posted back: it sends what it held (the postpone filter). */
static void
kl_test_parent_resumed(kl_http_request_t *r)
{
    kl_test_posted_runs++;
    (void) kl_http_output_filter(r, NULL);
}


static void
kl_test_child_noop(kl_http_request_t *r)
{
    (void) r;
    kl_test_posted_runs++;
}


Test(http_subrequest, output_is_spliced_where_the_child_was_issued)
{
    char               buf[4096], *body;
    kl_str_t           uri;
    kl_test_http_t     t = { 0 };
    kl_http_request_t *r, *sr;

    r = kl_test_main(&t);

    cr_assert_eq(kl_http_send_header(r), KL_OK);
    cr_assert_eq(kl_http_output_filter(r, kl_test_buf(r, "A", 0)), KL_OK);

    kl_str_set(&uri, "/child");
    cr_assert_eq(kl_http_subrequest(r, &uri, NULL, &sr, NULL, 0), KL_OK);
    cr_assert_eq(sr->main, r);
    cr_assert_eq(sr->parent, r);
    cr_assert_eq(r->connection->data, sr, "the child is the active one");
    cr_assert_eq(r->count, 2, "the child holds the main request");
    cr_assert_str_eq((char *) sr->unparsed_uri.data, "/");

    /* Output of the parent issued after the child waits for it. */
    cr_assert_eq(kl_http_output_filter(r, kl_test_buf(r, "C", 1)), KL_OK);

    sr->write_event_handler = kl_test_child_noop;
    kl_test_posted_runs = 0;
    kl_event_process_posted(&kl_loop.posted);
    cr_assert_eq(kl_test_posted_runs, 1, "the child was posted to run");

    sr->headers_out.status = KL_HTTP_OK;
    cr_assert_eq(kl_http_send_header(sr), KL_OK);
    cr_assert_eq(kl_http_output_filter(sr, kl_test_buf(sr, "B", 1)), KL_OK);

    r->write_event_handler = kl_test_parent_resumed;
    kl_http_finalize_request(sr, KL_OK);
    cr_assert(sr->done);
    cr_assert_eq(r->connection->data, r, "the parent is active again");
    cr_assert_eq(r->count, 1);
    cr_assert(r->postponed && r->postponed->request == NULL,
              "the parent's held output is left");

    kl_test_posted_runs = 0;
    kl_event_process_posted(&kl_loop.posted);
    cr_assert_eq(kl_test_posted_runs, 1, "the parent was posted back");
    cr_assert_null(r->postponed, "the held output went out");

    cr_assert_gt(kl_test_http_recv(&t, buf, sizeof(buf)), 0);
    body = strstr(buf, "\r\n\r\n");
    cr_assert_not_null(body, "a head: %s", buf);
    cr_assert_str_eq(body + 4, "ABC", "in issue order: %s", body + 4);

    kl_test_done(&t, r);
}


Test(http_subrequest, in_memory_body_and_its_limit)
{
    kl_str_t           uri;
    kl_test_http_t     t = { 0 };
    kl_http_request_t *r, *sr, *sr2;

    r = kl_test_main(&t);

    kl_str_set(&uri, "/mem");
    cr_assert_eq(kl_http_subrequest(r, &uri, NULL, &sr, NULL,
                                    KL_HTTP_SUBREQUEST_IN_MEMORY),
                 KL_OK);
    cr_assert(sr->filter_need_in_memory);

    cr_assert_eq(kl_http_output_filter(sr, kl_test_buf(sr, "1234", 0)), KL_OK);
    cr_assert_eq(kl_http_output_filter(sr, kl_test_buf(sr, "5678", 1)), KL_OK);
    cr_assert_not_null(sr->out);
    cr_assert_eq(sr->out->buf->last - sr->out->buf->pos, 8);
    cr_assert_eq(memcmp(sr->out->buf->pos, "12345678", 8), 0);

    /* A file buffer (a peer's body spilled to a temp file) is read in. */
    {
        char       path[sizeof(t.dir) + 16];
        kl_buf_t  *fb;
        kl_file_t  file = { 0 };
        kl_chain_t cl;

        snprintf(path, sizeof(path), "%s/spilled", t.dir);
        file.fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
        cr_assert_geq(file.fd, 0, "open(%s): %s", path, strerror(errno));
        (void) unlink(path);
        cr_assert_eq(write(file.fd, "--ab--", 6), 6);

        sr->out->buf->last = sr->out->buf->pos + 6;

        fb = kl_buf_calloc(sr->pool);
        cr_assert_not_null(fb);
        fb->in_file = 1;
        fb->file = &file;
        fb->file_pos = 2;
        fb->file_last = 4;
        cl.buf = fb;
        cl.next = NULL;

        cr_assert_eq(kl_http_output_filter(sr, &cl), KL_OK);
        cr_assert_eq(memcmp(sr->out->buf->pos, "123456ab", 8), 0);
        cr_assert_eq(fb->file_pos, 4, "the file range is taken");

        close(file.fd);
    }

    /* subrequest_output_buffer_size 8: a ninth byte fails it. */
    cr_assert_eq(kl_http_output_filter(sr, kl_test_buf(sr, "9", 1)), KL_ERROR);
    cr_assert_not_null(
        strstr(kl_test_http_errors(&t), "too big subrequest response"));

    r->connection->error = 0;

    cr_assert_eq(kl_http_subrequest(sr, &uri, NULL, &sr2, NULL, 0), KL_ERROR);
    cr_assert_not_null(strstr(kl_test_http_errors(&t),
                              "nested in-memory subrequest \"/mem\""));

    kl_test_done(&t, r);
}


Test(http_subrequest, nesting_is_limited_as_nginx)
{
    kl_str_t           uri;
    kl_uint_t          depth;
    kl_test_http_t     t = { 0 };
    kl_http_request_t *r, *sr, *p;

    r = kl_test_main(&t);
    kl_str_set(&uri, "/loop");

    /* nginx: 51 levels of subrequests, the 52nd is a cycle. */
    p = r;

    for (depth = 1; depth <= KL_HTTP_MAX_SUBREQUESTS + 1; depth++) {
        cr_assert_eq(kl_http_subrequest(p, &uri, NULL, &sr, NULL, 0), KL_OK,
                     "level %u", (unsigned) depth);
        p = sr;
    }

    cr_assert_eq(kl_http_subrequest(p, &uri, NULL, &sr, NULL, 0), KL_ERROR);
    cr_assert_not_null(strstr(kl_test_http_errors(&t),
                              "subrequests cycle while processing \"/loop\""));

    /* The reference counter keeps its reserve. */
    r->count = 65535 - 1000;
    cr_assert_eq(kl_http_subrequest(r, &uri, NULL, &sr, NULL, 0), KL_ERROR);
    cr_assert_not_null(
        strstr(kl_test_http_errors(&t), "request reference counter overflow"));
    r->count = 1;

    kl_test_done(&t, r);
}


Test(http_subrequest, background_child_does_not_hold_the_output)
{
    char               buf[4096], *body;
    kl_str_t           uri;
    kl_test_http_t     t = { 0 };
    kl_http_request_t *r, *sr;

    r = kl_test_main(&t);

    kl_str_set(&uri, "/bg");
    cr_assert_eq(kl_http_subrequest(r, &uri, NULL, &sr, NULL,
                                    KL_HTTP_SUBREQUEST_BACKGROUND),
                 KL_OK);
    cr_assert_eq(r->connection->data, r, "the parent stays active");
    cr_assert_null(r->postponed);
    cr_assert_eq(r->count, 2);

    cr_assert_eq(kl_http_send_header(r), KL_OK);
    cr_assert_eq(kl_http_output_filter(r, kl_test_buf(r, "main", 1)), KL_OK);
    cr_assert_eq(kl_http_output_filter(sr, kl_test_buf(sr, "bg", 1)), KL_OK);

    sr->write_event_handler = kl_test_child_noop;
    kl_event_process_posted(&kl_loop.posted);

    kl_http_finalize_request(sr, KL_OK);
    cr_assert(sr->done);
    cr_assert_eq(r->count, 1, "the finished child let go of the request");

    cr_assert_gt(kl_test_http_recv(&t, buf, sizeof(buf)), 0);
    body = strstr(buf, "\r\n\r\n");
    cr_assert_not_null(body);
    cr_assert_str_eq(body + 4, "main", "the child's output is dropped");

    kl_test_done(&t, r);
}
