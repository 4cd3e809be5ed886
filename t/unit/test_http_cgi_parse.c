/* test_http_cgi_parse.c: the CGI head parser (cgi_parse.c), table-driven, whole and split at every byte; the Status value. */

#include <criterion/criterion.h>

#include "kl_core.h"
#include "cgi_parse.h"


typedef struct {
    const char *head;
    kl_int_t    rc;     /* HEADER_DONE, or the error */
    kl_uint_t   code;   /* of the status line; 0: none */
    const char *fields; /* "name=value;" each, as read */
    size_t      rest;   /* bytes left after the head */
} kl_test_head_t;


static const kl_test_head_t kl_test_heads[] = {
    { "HTTP/1.1 201 Made\r\nX-A: 1\r\n\r\nbody", KL_HTTP_PARSE_HEADER_DONE, 201,
      "X-A=1;", 4 },
    { "HTTP/1.0 200 OK\r\n\r\n", KL_HTTP_PARSE_HEADER_DONE, 200, "", 0 },
    { "HTTP/1.1 204\nX: y\n\n", KL_HTTP_PARSE_HEADER_DONE, 204, "X=y;", 0 },
    { "Status: 404 Nope\r\nContent-Type: t/p\r\n\r\nx",
      KL_HTTP_PARSE_HEADER_DONE, 0, "Status=404 Nope;Content-Type=t/p;", 1 },
    /* starts as a status line would, then is a field */
    { "HTTP_X: 1\r\n\r\n", KL_HTTP_PARSE_HEADER_DONE, 0, "HTTP_X=1;", 0 },
    { "HTTPS: on\r\n\r\n", KL_HTTP_PARSE_HEADER_DONE, 0, "HTTPS=on;", 0 },
    { "H: v\r\n\r\n", KL_HTTP_PARSE_HEADER_DONE, 0, "H=v;", 0 },
    { "\r\n", KL_HTTP_PARSE_HEADER_DONE, 0, "", 0 },
    { "\r\nrest", KL_HTTP_PARSE_HEADER_DONE, 0, "", 4 },
    { "Location: /x\r\n\r\n", KL_HTTP_PARSE_HEADER_DONE, 0, "Location=/x;", 0 },

    /* not a status line, and no field either */
    { "HTTP/2.0 200 OK\r\n\r\n", KL_HTTP_PARSE_INVALID_HEADER, 0, "", 0 },
    { "HTTP/1.1 200 OK\r\nno colon\r\n\r\n", KL_HTTP_PARSE_INVALID_HEADER, 200,
      "", 0 },
    { "no colon here\r\n\r\n", KL_HTTP_PARSE_INVALID_HEADER, 0, "", 0 },
    { "X : 1\r\n\r\n", KL_HTTP_PARSE_INVALID_HEADER, 0, "", 0 },
    { "X: 1\r\n y\r\n\r\n", KL_HTTP_PARSE_INVALID_HEADER, 0, "X=1;", 0 },
    { "<html>\r\n", KL_HTTP_PARSE_INVALID_HEADER, 0, "", 0 },
};


/* Feed head in pieces of at most step bytes (0: whole); check the result. */
static void
kl_test_head_run(const kl_test_head_t *t, size_t step)
{
    char               fields[256], *f;
    u_char            *copy;
    size_t             len, fed;
    kl_int_t           rc;
    kl_buf_t           b;
    kl_http_cgi_head_t h;

    len = strlen(t->head);
    copy = malloc(len);
    cr_assert_not_null(copy);
    memcpy(copy, t->head, len);

    kl_memzero(&h, sizeof(h));
    kl_memzero(&b, sizeof(b));
    f = fields;
    *f = '\0';

    b.pos = copy;
    fed = step ? kl_min(step, len) : len;
    b.last = copy + fed;

    for (;;) {
        rc = kl_http_cgi_parse_head(&h, &b);

        if (rc == KL_OK) {
            f += snprintf(
                f, fields + sizeof(fields) - f, "%.*s=%.*s;",
                (int) (h.parse.header_name_end - h.parse.header_name_start),
                h.parse.header_name_start,
                (int) (h.parse.header_end - h.parse.header_start),
                h.parse.header_start);
            continue;
        }

        if (rc != KL_AGAIN) {
            break;
        }

        cr_assert_eq(b.pos, b.last, "%s: AGAIN consumes all", t->head);

        if (fed == len) {
            break;
        }

        fed = kl_min(fed + step, len);
        b.last = copy + fed;
    }

    cr_assert_eq(rc, t->rc, "\"%s\" step %zu: rc %ld", t->head, step,
                 (long) rc);
    cr_assert_eq(h.status.code, t->code, "\"%s\" step %zu: code %lu", t->head,
                 step, (unsigned long) h.status.code);
    cr_assert_str_eq(fields, t->fields, "\"%s\" step %zu: fields", t->head,
                     step);

    if (rc == KL_HTTP_PARSE_HEADER_DONE) {
        cr_assert_eq((size_t) (copy + len - b.pos), t->rest, "%s: rest",
                     t->head);
    }

    free(copy);
}


Test(http_cgi_parse, table_whole)
{
    size_t i;

    for (i = 0; i < sizeof(kl_test_heads) / sizeof(kl_test_heads[0]); i++) {
        kl_test_head_run(&kl_test_heads[i], 0);
    }
}


Test(http_cgi_parse, table_split_at_every_byte)
{
    size_t i, step;

    for (i = 0; i < sizeof(kl_test_heads) / sizeof(kl_test_heads[0]); i++) {
        for (step = 1; step <= strlen(kl_test_heads[i].head); step++) {
            kl_test_head_run(&kl_test_heads[i], step);
        }
    }
}


Test(http_cgi_parse, status_value)
{
    static const struct {
        const char *value;
        kl_int_t    status;
    } cases[] = {
        { "200", 200 },        { "404 Not Found", 404 }, { "999 x", 999 },
        { "100 ", 100 },       { "20", KL_ERROR },       { "2000", KL_ERROR },
        { "099 x", KL_ERROR }, { "abc", KL_ERROR },      { "200x", KL_ERROR },
        { "", KL_ERROR },      { " 200", KL_ERROR },     { "-20 x", KL_ERROR },
    };

    size_t   i;
    kl_str_t v;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        v.data = (u_char *) cases[i].value;
        v.len = strlen(cases[i].value);
        cr_assert_eq(kl_http_cgi_parse_status(&v), cases[i].status, "\"%s\"",
                     cases[i].value);
    }
}
