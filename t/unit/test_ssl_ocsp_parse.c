/* test_ssl_ocsp_parse.c: the OCSP fetcher's pure parsers: responder URLs and the HTTP head of answers, whole, cut short and malformed. */

#include <criterion/criterion.h>

#include "kl_core.h"

#if (KL_HAVE_OPENSSL)

#include "ssl_ocsp_parse.h"


static kl_int_t
head(const char *text, kl_ssl_ocsp_head_t *h)
{
    return kl_ssl_ocsp_parse_head((u_char *) text, strlen(text), h);
}


static int
streq(kl_str_t *s, const char *text)
{
    return s->len == strlen(text) && memcmp(s->data, text, s->len) == 0;
}


Test(ocsp_head, ok_with_content_type)
{
    kl_ssl_ocsp_head_t h;
    const char        *r = "HTTP/1.0 200 OK\r\n"
                           "Server: x\r\n"
                           "content-type:  application/ocsp-response \r\n"
                           "Content-Length: 3\r\n\r\nDER";

    cr_assert_eq(head(r, &h), KL_OK);
    cr_assert_eq(h.status, 200);
    cr_assert(streq(&h.content_type, "application/ocsp-response"));
    cr_assert_eq(h.body, strlen(r) - 3);
}


Test(ocsp_head, bare_lf_and_no_reason)
{
    kl_ssl_ocsp_head_t h;

    cr_assert_eq(head("HTTP/1.1 404\n\n", &h), KL_OK);
    cr_assert_eq(h.status, 404);
    cr_assert_eq(h.content_type.len, 0);
    cr_assert_eq(h.body, 14);
}


Test(ocsp_head, incomplete)
{
    kl_ssl_ocsp_head_t h;

    cr_assert_eq(head("", &h), KL_AGAIN);
    cr_assert_eq(head("HTTP/1.", &h), KL_AGAIN);
    cr_assert_eq(head("HTTP/1.0 200 OK\r\n", &h), KL_AGAIN);
    cr_assert_eq(head("HTTP/1.0 200 OK\r\nContent-Type: a", &h), KL_AGAIN);
    cr_assert_eq(head("HTTP/1.0 200 OK\r\nA: b\r\n\r", &h), KL_AGAIN);
}


Test(ocsp_head, malformed)
{
    kl_ssl_ocsp_head_t h;

    cr_assert_eq(head("0\x30\x82", &h), KL_AGAIN);
    cr_assert_eq(head("garbage that is long\r\n", &h), KL_ERROR);
    cr_assert_eq(head("garbage that is long", &h), KL_ERROR);
    cr_assert_eq(head("HTTP/2.0 200 OK\r\n\r\n", &h), KL_ERROR);
    cr_assert_eq(head("HTTP/1.0 20 OK\r\n\r\n", &h), KL_ERROR);
    cr_assert_eq(head("HTTP/1.0 2000\r\n\r\n", &h), KL_ERROR);
    cr_assert_eq(head("HTTP/1.0 600 x\r\n\r\n", &h), KL_ERROR);
    cr_assert_eq(head("HTTP/1.0 200 OK\r\nno colon\r\n\r\n", &h), KL_ERROR);
    cr_assert_eq(head("HTTP/1.0 200 OK\r\n: v\r\n\r\n", &h), KL_ERROR);
}


static kl_int_t
url(const char *text, kl_str_t *host, kl_uint_t *port, kl_str_t *uri,
    const char **err)
{
    kl_str_t u;

    u.data = (u_char *) text;
    u.len = strlen(text);
    *err = NULL;

    return kl_ssl_ocsp_parse_url(&u, host, port, uri, err);
}


Test(ocsp_url, forms)
{
    kl_str_t    host, uri;
    kl_uint_t   port;
    const char *err;

    cr_assert_eq(url("http://ocsp.example.com", &host, &port, &uri, &err),
                 KL_OK);
    cr_assert(streq(&host, "ocsp.example.com"));
    cr_assert_eq(port, 80);
    cr_assert(streq(&uri, "/"));

    cr_assert_eq(url("HTTP://127.0.0.1:8888/a/b?c", &host, &port, &uri, &err),
                 KL_OK);
    cr_assert(streq(&host, "127.0.0.1"));
    cr_assert_eq(port, 8888);
    cr_assert(streq(&uri, "/a/b?c"));

    cr_assert_eq(url("http://[::1]:81/", &host, &port, &uri, &err), KL_OK);
    cr_assert(streq(&host, "[::1]"));
    cr_assert_eq(port, 81);
    cr_assert(streq(&uri, "/"));
}


Test(ocsp_url, errors)
{
    kl_str_t    host, uri;
    kl_uint_t   port;
    const char *err;

    cr_assert_eq(url("https://a/", &host, &port, &uri, &err), KL_ERROR);
    cr_assert_str_eq(err, "invalid URL prefix");
    cr_assert_eq(url("http://", &host, &port, &uri, &err), KL_ERROR);
    cr_assert_str_eq(err, "invalid host");
    cr_assert_eq(url("http://:80/", &host, &port, &uri, &err), KL_ERROR);
    cr_assert_str_eq(err, "invalid host");
    cr_assert_eq(url("http://[]/", &host, &port, &uri, &err), KL_ERROR);
    cr_assert_eq(url("http://a:/", &host, &port, &uri, &err), KL_ERROR);
    cr_assert_str_eq(err, "invalid port");
    cr_assert_eq(url("http://a:0/", &host, &port, &uri, &err), KL_ERROR);
    cr_assert_eq(url("http://a:65536", &host, &port, &uri, &err), KL_ERROR);
    cr_assert_eq(url("http://a:8x/", &host, &port, &uri, &err), KL_ERROR);
    cr_assert_eq(url("http://[::1]x/", &host, &port, &uri, &err), KL_ERROR);
}

#endif
