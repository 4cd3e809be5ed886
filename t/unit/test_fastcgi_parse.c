/* test_fastcgi_parse.c: the FastCGI record parser (fastcgi_parse.c), table-driven, whole, split at every byte and fed in pieces of every size. */

#include <criterion/criterion.h>

#include "kl_core.h"
#include "fastcgi_parse.h"


/*
 * Each case is the bytes a responder sent and the transcript the parser
 * must give: per record "TYPE:ID:CONTENT;" (the content pieces joined),
 * "3:ID:APP/PROTO;" for END_REQUEST, "!" for invalid input, and a final
 * "+" if the input ended inside a record.
 */
typedef struct {
    const char *in;
    size_t      len;
    const char *transcript;
} kl_test_fcgi_t;


#define KL_T(s, t)                                                             \
    {                                                                          \
        s, sizeof(s) - 1, t                                                    \
    }


static const kl_test_fcgi_t kl_test_fcgi[] = {
    KL_T("\x01\x06\x00\x01\x00\x03\x00\x00"
         "abc",
         "6:1:abc;"),
    /* padding is skipped */
    KL_T("\x01\x06\x00\x01\x00\x03\x05\x00"
         "abc\0\0\0\0\0",
         "6:1:abc;"),
    /* an empty record ends a stream */
    KL_T("\x01\x06\x00\x01\x00\x00\x00\x00", "6:1:;"),
    /* stderr, stdout, empty stdout, end request */
    KL_T("\x01\x07\x00\x01\x00\x02\x06\x00"
         "e!\0\0\0\0\0\0"
         "\x01\x06\x00\x01\x00\x05\x03\x00"
         "hello\0\0\0"
         "\x01\x06\x00\x01\x00\x00\x00\x00"
         "\x01\x03\x00\x01\x00\x08\x00\x00"
         "\x00\x00\x01\x02\x00\x00\x00\x00",
         "7:1:e!;6:1:hello;6:1:;3:1:258/0;"),
    /* END_REQUEST with padding and a protocol status */
    KL_T("\x01\x03\x12\x34\x00\x08\x03\x00"
         "\xff\xff\xff\xff\x03\x00\x00\x00"
         "\0\0\0",
         "3:4660:4294967295/3;"),
    /* END_REQUEST longer than 8 bytes: the rest is skipped */
    KL_T("\x01\x03\x00\x01\x00\x0a\x00\x00"
         "\x00\x00\x00\x07\x00\x00\x00\x00zz",
         "3:1:7/0;"),
    /* END_REQUEST shorter than 8 bytes */
    KL_T("\x01\x03\x00\x01\x00\x07\x00\x00"
         "\x00\x00\x00\x07\x00\x00\x00",
         "!"),
    /* a big length (two bytes), cut short */
    KL_T("\x01\x06\x00\x01\x01\x00\x00\x00"
         "abcd",
         "+"),
    /* cut in a header */
    KL_T("\x01\x06\x00", "+"),
    /* cut in padding */
    KL_T("\x01\x06\x00\x01\x00\x01\x04\x00"
         "x\0\0",
         "+"),
    /* a record of another type is returned as any */
    KL_T("\x01\x0b\x00\x00\x00\x08\x00\x00"
         "\x09\0\0\0\0\0\0\0",
         "11:0:\x09\x30\x30\x30\x30\x30\x30\x30;"),
    /* version 2 */
    KL_T("\x02\x06\x00\x01\x00\x00\x00\x00", "!"),
    /* an HTTP answer instead */
    KL_T("HTTP/1.1 200 OK\r\n", "!"),
    /* valid, then garbage */
    KL_T("\x01\x06\x00\x01\x00\x01\x00\x00"
         "x\x00",
         "6:1:x;!"),
    KL_T("", ""),
};


/* Feed t in pieces of at most step bytes (0: whole) and return the transcript. */
static void
kl_test_fcgi_run(const kl_test_fcgi_t *t, size_t step, size_t first)
{
    u_char            *copy, *c;
    char               out[512], *o;
    size_t             fed, i;
    kl_int_t           rc;
    kl_buf_t           b;
    kl_str_t           content;
    kl_fastcgi_parse_t p;
    u_char             acc[256];
    size_t             nacc;

    copy = malloc(t->len ? t->len : 1);
    cr_assert_not_null(copy);
    memcpy(copy, t->in, t->len);

    kl_memzero(&p, sizeof(p));
    kl_memzero(&b, sizeof(b));
    o = out;
    *o = '\0';
    nacc = 0;

    b.pos = copy;
    fed =
        first ? kl_min(first, t->len) : (step ? kl_min(step, t->len) : t->len);
    b.last = copy + fed;

    for (;;) {
        rc = kl_fastcgi_parse_record(&p, &b, &content);

        if (rc == KL_OK) {
            cr_assert(content.len > 0, "OK with content");
            cr_assert(content.data >= copy
                          && content.data + content.len <= b.last,
                      "content inside the input");
            cr_assert_eq(b.pos, content.data + content.len,
                         "pos after content");
            cr_assert(nacc + content.len <= sizeof(acc));
            memcpy(acc + nacc, content.data, content.len);
            nacc += content.len;
            continue;
        }

        if (rc == KL_FASTCGI_RECORD_DONE) {
            if (p.type == KL_FASTCGI_END_REQUEST) {
                o += sprintf(o, "3:%lu:%lu/%lu;", (unsigned long) p.request_id,
                             (unsigned long) p.app_status,
                             (unsigned long) p.protocol_status);

            } else {
                o += sprintf(o, "%lu:%lu:", (unsigned long) p.type,
                             (unsigned long) p.request_id);

                for (i = 0, c = acc; i < nacc; i++, c++) {
                    /* NULs shown as '0': the expected strings are C strings */
                    *o++ = *c ? (char) *c : '0';
                }

                *o++ = ';';
                *o = '\0';
            }

            nacc = 0;
            continue;
        }

        if (rc == KL_FASTCGI_PARSE_INVALID) {
            o += sprintf(o, "!");
            break;
        }

        cr_assert_eq(rc, KL_AGAIN, "rc %ld", (long) rc);
        cr_assert_eq(b.pos, b.last, "AGAIN consumes all");

        if (fed == t->len) {
            if (p.state != 0) {
                o += sprintf(o, "+");
            }

            break;
        }

        fed = step ? kl_min(fed + step, t->len) : t->len;
        b.last = copy + fed;
    }

    cr_assert_str_eq(out, t->transcript, "case %zu bytes, step %zu, first %zu",
                     t->len, step, first);

    free(copy);
}


#define KL_NCASES (sizeof(kl_test_fcgi) / sizeof(kl_test_fcgi[0]))


Test(fastcgi_parse, whole)
{
    size_t i;

    for (i = 0; i < KL_NCASES; i++) {
        kl_test_fcgi_run(&kl_test_fcgi[i], 0, 0);
    }
}


Test(fastcgi_parse, split_at_every_byte)
{
    size_t i, at;

    for (i = 0; i < KL_NCASES; i++) {
        for (at = 1; at < kl_test_fcgi[i].len; at++) {
            kl_test_fcgi_run(&kl_test_fcgi[i], 0, at);
        }
    }
}


Test(fastcgi_parse, pieces_of_every_size)
{
    size_t i, step;

    for (i = 0; i < KL_NCASES; i++) {
        for (step = 1; step <= kl_test_fcgi[i].len; step++) {
            kl_test_fcgi_run(&kl_test_fcgi[i], step, 0);
        }
    }
}


/* A 65535-byte record, the largest, fed in 4096-byte reads. */
Test(fastcgi_parse, largest_record)
{
    u_char            *in;
    size_t             len, got, fed;
    kl_int_t           rc;
    kl_buf_t           b;
    kl_str_t           content;
    kl_fastcgi_parse_t p;

    len = 8 + 65535 + 255;
    in = calloc(1, len);
    cr_assert_not_null(in);
    memcpy(in, "\x01\x06\x00\x01\xff\xff\xff\x00", 8);
    memset(in + 8, 'a', 65535);

    kl_memzero(&p, sizeof(p));
    kl_memzero(&b, sizeof(b));
    b.pos = in;
    fed = 4096;
    b.last = in + fed;
    got = 0;

    for (;;) {
        rc = kl_fastcgi_parse_record(&p, &b, &content);

        if (rc == KL_OK) {
            got += content.len;
            continue;
        }

        if (rc != KL_AGAIN) {
            break;
        }

        fed = kl_min(fed + 4096, len);
        b.last = in + fed;
    }

    cr_assert_eq(rc, KL_FASTCGI_RECORD_DONE);
    cr_assert_eq(got, 65535);
    cr_assert_eq(b.pos, in + len);

    free(in);
}
