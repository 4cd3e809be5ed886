/* test_http_upstream_parse.c: the upstream status line parser (upstream_parse.c), table-driven, whole and split at every byte. */

#include <criterion/criterion.h>

#include "kl_core.h"
#include "upstream_parse.h"


typedef struct {
    const char *line;
    kl_int_t    rc; /* KL_OK or KL_HTTP_UPSTREAM_PARSE_INVALID */
    kl_uint_t   code;
    kl_uint_t   version;
    const char *reason; /* NULL: none */
    size_t      rest;   /* bytes left after the line */
} kl_test_status_t;


static const kl_test_status_t kl_test_statuses[] = {
    { "HTTP/1.1 200 OK\r\n", KL_OK, 200, 1001, "OK", 0 },
    { "HTTP/1.0 404 Not Found\r\nX: y\r\n", KL_OK, 404, 1000, "Not Found", 6 },
    { "HTTP/1.1 204\r\n", KL_OK, 204, 1001, NULL, 0 },
    { "HTTP/1.1 302 \r\n", KL_OK, 302, 1001, NULL, 0 },
    { "HTTP/1.1 200 OK\n", KL_OK, 200, 1001, "OK", 0 },
    { "HTTP/1.1 200\n", KL_OK, 200, 1001, NULL, 0 },
    { "HTTP/1.1 999 Odd\r\n", KL_OK, 999, 1001, "Odd", 0 },
    { "HTTP/1.1 100 Continue\r\n", KL_OK, 100, 1001, "Continue", 0 },
    { "HTTP/1.12 200 OK\r\n", KL_OK, 200, 1012, "OK", 0 },
    { "HTTP/1.1 200 A\tB \r\n", KL_OK, 200, 1001, "A\tB ", 0 },
    { "HTTP/1.1 200 caf\xc3\xa9\r\n", KL_OK, 200, 1001, "caf\xc3\xa9", 0 },

    { "HTTP/2.0 200 OK\r\n", KL_HTTP_UPSTREAM_PARSE_INVALID, 0, 0, NULL, 0 },
    { "HTTP/0.9 200 OK\r\n", KL_HTTP_UPSTREAM_PARSE_INVALID, 0, 0, NULL, 0 },
    { "HTTP/1 200 OK\r\n", KL_HTTP_UPSTREAM_PARSE_INVALID, 0, 0, NULL, 0 },
    { "HTTP/1. 200 OK\r\n", KL_HTTP_UPSTREAM_PARSE_INVALID, 0, 0, NULL, 0 },
    { "HTTP/1.1234 200 OK\r\n", KL_HTTP_UPSTREAM_PARSE_INVALID, 0, 0, NULL, 0 },
    { "http/1.1 200 OK\r\n", KL_HTTP_UPSTREAM_PARSE_INVALID, 0, 0, NULL, 0 },
    { "HTTP/1.1 20 OK\r\n", KL_HTTP_UPSTREAM_PARSE_INVALID, 0, 0, NULL, 0 },
    { "HTTP/1.1 2000 OK\r\n", KL_HTTP_UPSTREAM_PARSE_INVALID, 0, 0, NULL, 0 },
    { "HTTP/1.1 099 OK\r\n", KL_HTTP_UPSTREAM_PARSE_INVALID, 0, 0, NULL, 0 },
    { "HTTP/1.1  200 OK\r\n", KL_HTTP_UPSTREAM_PARSE_INVALID, 0, 0, NULL, 0 },
    { "HTTP/1.1 200 O\rK\r\n", KL_HTTP_UPSTREAM_PARSE_INVALID, 0, 0, NULL, 0 },
    { "HTTP/1.1 200 O\x01K\r\n", KL_HTTP_UPSTREAM_PARSE_INVALID, 0, 0, NULL,
      0 },
    { "HTTP/1.1 200 OK\r\r\n", KL_HTTP_UPSTREAM_PARSE_INVALID, 0, 0, NULL, 0 },
    { "<html>", KL_HTTP_UPSTREAM_PARSE_INVALID, 0, 0, NULL, 0 },
    { " HTTP/1.1 200 OK\r\n", KL_HTTP_UPSTREAM_PARSE_INVALID, 0, 0, NULL, 0 },
};


/* Feed line in pieces of at most step bytes (0: whole); check the result. */
static void
kl_test_status_run(const kl_test_status_t *t, size_t step)
{
    u_char               *copy;
    size_t                len, fed;
    kl_int_t              rc;
    kl_buf_t              b;
    kl_http_status_line_t st;

    len = strlen(t->line);
    copy = malloc(len);
    cr_assert_not_null(copy);
    memcpy(copy, t->line, len);

    kl_memzero(&st, sizeof(st));
    kl_memzero(&b, sizeof(b));

    b.pos = copy;
    fed = step ? kl_min(step, len) : len;
    b.last = copy + fed;

    for (;;) {
        rc = kl_http_parse_status_line(&st, &b);

        if (rc != KL_AGAIN) {
            break;
        }

        cr_assert_eq(b.pos, b.last, "%s: AGAIN consumes all", t->line);

        if (fed == len) {
            break;
        }

        fed = kl_min(fed + step, len);
        b.last = copy + fed;
    }

    cr_assert_eq(rc, t->rc, "\"%s\" step %zu: rc %ld", t->line, step,
                 (long) rc);

    if (rc == KL_OK) {
        cr_assert_eq(st.code, t->code, "%s: code", t->line);
        cr_assert_eq(st.http_version, t->version, "%s: version", t->line);
        cr_assert_eq((size_t) (copy + len - b.pos), t->rest, "%s: rest",
                     t->line);
        cr_assert_eq(st.start, copy, "%s: start", t->line);

        if (t->reason) {
            cr_assert_not_null(st.reason_start, "%s: reason", t->line);
            cr_assert_eq((size_t) (st.end - st.reason_start), strlen(t->reason),
                         "%s: reason length", t->line);
            cr_assert(memcmp(st.reason_start, t->reason, strlen(t->reason))
                          == 0,
                      "%s: reason", t->line);

        } else {
            cr_assert_null(st.reason_start, "%s: no reason", t->line);
        }
    }

    free(copy);
}


Test(http_upstream_parse, table_whole)
{
    size_t i;

    for (i = 0; i < sizeof(kl_test_statuses) / sizeof(kl_test_statuses[0]); i++)
    {
        kl_test_status_run(&kl_test_statuses[i], 0);
    }
}


Test(http_upstream_parse, table_split_at_every_byte)
{
    size_t i, step;

    for (i = 0; i < sizeof(kl_test_statuses) / sizeof(kl_test_statuses[0]); i++)
    {
        for (step = 1; step <= strlen(kl_test_statuses[i].line); step++) {
            kl_test_status_run(&kl_test_statuses[i], step);
        }
    }
}


Test(http_upstream_parse, incomplete_is_again)
{
    u_char                line[] = "HTTP/1.1 200 O";
    kl_buf_t              b;
    kl_http_status_line_t st;

    kl_memzero(&st, sizeof(st));
    kl_memzero(&b, sizeof(b));
    b.pos = line;
    b.last = line + sizeof(line) - 1;

    cr_assert_eq(kl_http_parse_status_line(&st, &b), KL_AGAIN);
    cr_assert_eq(b.pos, b.last);
}


static void
kl_test_content_type(const char *v, const char *type, const char *charset)
{
    kl_str_t value, cs;
    size_t   len;

    value.data = (u_char *) v;
    value.len = strlen(v);
    kl_str_null(&cs);

    len = kl_http_upstream_content_type(&value, &cs);

    cr_assert_eq(len, strlen(type), "%s: type length %zu", v, len);
    cr_assert_eq(memcmp(v, type, len), 0, "%s", v);
    cr_assert_eq(cs.len, strlen(charset), "%s: charset length %zu", v, cs.len);
    cr_assert_eq(memcmp(cs.data ? cs.data : (u_char *) "", charset, cs.len), 0,
                 "%s", v);
}


Test(http_upstream_parse, content_type_charset)
{
    kl_test_content_type("text/html", "text/html", "");
    kl_test_content_type("text/html; charset=koi8-r", "text/html", "koi8-r");
    kl_test_content_type("text/html;charset=\"utf-8\"", "text/html", "utf-8");
    kl_test_content_type("text/html;  CHARSET=x", "text/html", "x");
    /* as nginx: the parameters before the charset stay with the type */
    kl_test_content_type("text/plain; format=flowed; charset=a",
                         "text/plain; format=flowed", "a");
    kl_test_content_type("text/plain; format=flowed",
                         "text/plain; format=flowed", "");
    kl_test_content_type("text/plain;", "text/plain;", "");
    kl_test_content_type("a; charset=", "a", "");
}
