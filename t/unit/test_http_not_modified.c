/* test_http_not_modified.c: conditional requests through the real header filter chain (not_modified.c), for the methods a static file never answers with 200. */

#include "kl_test_http.h"


#define KL_TEST_CONF                                                           \
    "error_log logs/error.log info;\n"                                         \
    "events { }\n"                                                             \
    "http {\n"                                                                 \
    "    server {\n"                                                           \
    "        listen 127.0.0.1:1;\n"                                            \
    "        location / { }\n"                                                 \
    "    }\n"                                                                  \
    "}\n"

#define KL_TEST_MTIME 1700000000


/* A 200 response with ETag "abc" and a Last-Modified, to method. */
static kl_http_request_t *
kl_test_response(kl_test_http_t *t, kl_uint_t method, const char *name)
{
    kl_table_elt_t    *etag;
    kl_http_request_t *r;

    cr_assert_not_null(kl_test_http_cycle(t, "not_modified", KL_TEST_CONF));

    r = kl_test_http_request(t, "/", "", 0);
    r->method = method;
    r->method_name.data = (u_char *) name;
    r->method_name.len = strlen(name);
    r->http_version = KL_HTTP_VERSION_11;
    r->headers_out.status = KL_HTTP_OK;
    r->headers_out.content_length_n = 5;
    r->headers_out.last_modified_time = KL_TEST_MTIME;

    etag = kl_list_push(&r->headers_out.headers);
    cr_assert_not_null(etag);
    etag->hash = 1;
    etag->next = NULL;
    kl_str_set(&etag->key, "ETag");
    kl_str_set(&etag->value, "\"abc\"");
    r->headers_out.etag = etag;

    return r;
}


Test(http_not_modified, if_none_match_on_unsafe_methods_is_412)
{
    kl_test_http_t     t = { 0 };
    kl_http_request_t *r;

    r = kl_test_response(&t, KL_HTTP_POST, "POST");
    r->headers_in.if_none_match =
        kl_test_http_header(r, "If-None-Match", "\"x\", W/\"abc\"");

    cr_assert_eq(kl_http_send_header(r), KL_HTTP_PRECONDITION_FAILED);

    kl_test_http_clean(&t);
}


Test(http_not_modified, if_none_match_star_on_put_is_412)
{
    kl_test_http_t     t = { 0 };
    kl_http_request_t *r;

    r = kl_test_response(&t, KL_HTTP_PUT, "PUT");
    r->headers_in.if_none_match = kl_test_http_header(r, "If-None-Match", "*");

    cr_assert_eq(kl_http_send_header(r), KL_HTTP_PRECONDITION_FAILED);

    kl_test_http_clean(&t);
}


Test(http_not_modified, if_none_match_on_get_is_304)
{
    kl_test_http_t     t = { 0 };
    kl_http_request_t *r;

    r = kl_test_response(&t, KL_HTTP_GET, "GET");
    r->headers_in.if_none_match =
        kl_test_http_header(r, "If-None-Match", "\"abc\"");

    cr_assert_eq(kl_http_send_header(r), KL_OK);
    cr_assert_eq(r->headers_out.status, KL_HTTP_NOT_MODIFIED);
    cr_assert_eq(r->headers_out.content_length_n, -1);
    cr_assert(r->header_only);

    kl_test_http_clean(&t);
}


/* If-Modified-Since applies to GET and HEAD only (RFC 9110 13.1.3). */
Test(http_not_modified, if_modified_since_ignored_on_post)
{
    kl_test_http_t     t = { 0 };
    kl_http_request_t *r;

    r = kl_test_response(&t, KL_HTTP_POST, "POST");
    r->headers_in.if_modified_since = kl_test_http_header(
        r, "If-Modified-Since", "Tue, 14 Nov 2023 22:13:20 GMT");

    cr_assert_eq(kl_http_send_header(r), KL_OK);
    cr_assert_eq(r->headers_out.status, KL_HTTP_OK);

    kl_test_http_clean(&t);
}


Test(http_not_modified, if_match_mismatch_on_delete_is_412)
{
    kl_test_http_t     t = { 0 };
    kl_http_request_t *r;

    r = kl_test_response(&t, KL_HTTP_DELETE, "DELETE");
    r->headers_in.if_match = kl_test_http_header(r, "If-Match", "\"abd\"");

    cr_assert_eq(kl_http_send_header(r), KL_HTTP_PRECONDITION_FAILED);

    kl_test_http_clean(&t);
}


/* Only a 200 is conditional: a 404 goes out as it is. */
Test(http_not_modified, other_statuses_pass)
{
    kl_test_http_t     t = { 0 };
    kl_http_request_t *r;

    r = kl_test_response(&t, KL_HTTP_GET, "GET");
    r->headers_out.status = KL_HTTP_NOT_FOUND;
    r->headers_in.if_match = kl_test_http_header(r, "If-Match", "\"abd\"");

    cr_assert_eq(kl_http_send_header(r), KL_OK);
    cr_assert_eq(r->headers_out.status, KL_HTTP_NOT_FOUND);

    kl_test_http_clean(&t);
}
