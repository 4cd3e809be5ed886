/* test_string.c: kl_vslprintf, strict parsers, HTTP dates, escapes. */

#include <criterion/criterion.h>

#include "kl_config.h"
#include "kl_types.h"
#include "string.h"
#include "pool.h"
#include "time.h"

#define BUFSZ 256

static u_char out[BUFSZ];

#define fmt_is(expect, ...)                                                    \
    do {                                                                       \
        u_char *e_ = kl_slprintf(out, out + BUFSZ, __VA_ARGS__);               \
        cr_assert_eq((size_t) (e_ - out), sizeof(expect) - 1,                  \
                     "length %zu for \"%.*s\", want \"%s\"",                   \
                     (size_t) (e_ - out), (int) (e_ - out), out, expect);      \
        cr_assert(memcmp(out, expect, sizeof(expect) - 1) == 0,                \
                  "got \"%.*s\", want \"%s\"", (int) (e_ - out), out, expect); \
    } while (0)

#define S(lit) (u_char *) (lit), sizeof(lit) - 1


Test(string, printf_integers)
{
    fmt_is("42", "%d", 42);
    fmt_is("-42", "%d", -42);
    fmt_is("4294967295", "%ud", 4294967295U);
    fmt_is("-2147483648", "%d", INT_MIN);
    fmt_is("9223372036854775807", "%i", (kl_int_t) INTPTR_MAX);
    fmt_is("-9223372036854775808", "%i", (kl_int_t) INTPTR_MIN);
    fmt_is("18446744073709551615", "%ui", (kl_uint_t) UINTPTR_MAX);
    fmt_is("-7", "%l", -7L);
    fmt_is("123456789012", "%ul", 123456789012UL);
    fmt_is("-9223372036854775808", "%O", (off_t) INT64_MIN);
    fmt_is("1234567890123", "%O", (off_t) 1234567890123LL);
    fmt_is("1700000000", "%T", (time_t) 1700000000);
    fmt_is("-5", "%T", (time_t) -5);
    fmt_is("60000", "%M", (kl_msec_t) 60000);
    fmt_is("-1", "%M", (kl_msec_t) -1);
    fmt_is("-3", "%z", (ssize_t) -3);
    fmt_is("18446744073709551615", "%uz", (size_t) SIZE_MAX);
    fmt_is("0", "%d", 0);
}


Test(string, printf_hex_width_and_misc)
{
    fmt_is("ff", "%xd", 255);
    fmt_is("FF", "%Xd", 255);
    fmt_is("0000beef", "%08xd", 0xbeef);
    fmt_is("ffffffff", "%xd", -1);
    fmt_is("07", "%02d", 7);
    fmt_is("123", "%02d", 123);
    fmt_is("  42", "%4uz", (size_t) 42);
    fmt_is("  -5", "%4d", -5);
    fmt_is("-005", "%04d", -5);
    fmt_is("0000000000001000", "%p", (void *) 0x1000);
    fmt_is("x", "%c", 'x');
    fmt_is("100%", "%d%%", 100);
    fmt_is("a-q-b", "a-%q-b");
    fmt_is("end", "end%");
}


Test(string, printf_strings)
{
    kl_str_t v = kl_string("counted");
    kl_str_t empty = kl_null_string;

    fmt_is("[counted]", "[%V]", &v);
    fmt_is("[]", "[%V]", &empty);
    fmt_is("[abc]", "[%*s]", (size_t) 3, (u_char *) "abcdef");
    fmt_is("[]", "[%*s]", (size_t) 0, (u_char *) NULL);
    fmt_is("[hello world]", "[%s %s]", "hello", "world");
    fmt_is("/a/b:12 x", "%V:%d %s", &(kl_str_t) kl_string("/a/b"), 12, "x");
}


Test(string, printf_never_writes_past_last)
{
    u_char   buf[32], *e;
    kl_str_t v = kl_string("0123456789");
    size_t   i;

    for (i = 0; i <= 12; i++) {
        memset(buf, '#', sizeof(buf));
        e = kl_slprintf(buf, buf + i, "%V%d%s%V", &v, -123456, "tail", &v);
        cr_assert_eq((size_t) (e - buf), i);
        cr_assert_eq(buf[i], '#', "byte %zu overwritten", i);
        cr_assert(memcmp(buf, "0123456789-1234567", i) == 0);
    }

    memset(buf, '#', sizeof(buf));
    e = kl_slprintf(buf, buf + 5, "%020d", 7);
    cr_assert_eq(e, buf + 5);
    cr_assert(memcmp(buf, "00000#", 6) == 0);

    memset(buf, '#', sizeof(buf));
    e = kl_snprintf(buf, 4, "%s", "abcdef");
    cr_assert_eq(e, buf + 4);
    cr_assert(memcmp(buf, "abcd#", 5) == 0);

    e = kl_snprintf(buf, 0, "%d", 1);
    cr_assert_eq(e, buf);
}


Test(string, atoi_valid)
{
    cr_assert_eq(kl_atoi(S("0")), 0);
    cr_assert_eq(kl_atoi(S("8080")), 8080);
    cr_assert_eq(kl_atoi(S("007")), 7);
    cr_assert_eq(kl_atoi(S("9223372036854775807")), INTPTR_MAX);
    cr_assert_eq(kl_atoof(S("9223372036854775807")), INT64_MAX);
    cr_assert_eq(kl_atosz(S("1048576")), 1048576);
    cr_assert_eq(kl_atotm(S("1700000000")), 1700000000);
    cr_assert_eq(kl_hextoi(S("ff")), 255);
    cr_assert_eq(kl_hextoi(S("DeadBeef")), 0xdeadbeef);
    cr_assert_eq(kl_hextoi(S("7fffffffffffffff")), INTPTR_MAX);
}


Test(string, atoi_rejects_invalid_and_overflow)
{
    static const char *bad[] = { "",
                                 "-1",
                                 "+1",
                                 " 1",
                                 "1 ",
                                 "12a",
                                 "0x10",
                                 "1.5",
                                 "9223372036854775808",
                                 "99999999999999999999",
                                 "18446744073709551616" };
    size_t             i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        u_char *p = (u_char *) bad[i];
        size_t  n = strlen(bad[i]);

        cr_assert_eq(kl_atoi(p, n), KL_ERROR, "atoi \"%s\"", bad[i]);
        cr_assert_eq(kl_atoof(p, n), KL_ERROR, "atoof \"%s\"", bad[i]);
        cr_assert_eq(kl_atosz(p, n), KL_ERROR, "atosz \"%s\"", bad[i]);
        cr_assert_eq(kl_atotm(p, n), KL_ERROR, "atotm \"%s\"", bad[i]);
    }

    cr_assert_eq(kl_atoi(NULL, 0), KL_ERROR);
    cr_assert_eq(kl_hextoi(S("")), KL_ERROR);
    cr_assert_eq(kl_hextoi(S("fg")), KL_ERROR);
    cr_assert_eq(kl_hextoi(S("-1")), KL_ERROR);
    cr_assert_eq(kl_hextoi(S("8000000000000000")), KL_ERROR);
    cr_assert_eq(kl_hextoi(S("10000000000000000")), KL_ERROR);
    /* only the first n bytes count */
    cr_assert_eq(kl_atoi((u_char *) "12x", 2), 12);
}


Test(string, byte_helpers)
{
    u_char   buf[16], *e;
    kl_str_t a = kl_string("Content-Length");
    kl_str_t b = kl_string("content-length");
    kl_str_t c = kl_string("content-lengths");
    u_char   hay[] = "GET /a HTTP/1.1\r\n\r\nbody";

    kl_strlow(buf, (u_char *) "MiXeD-09", 9);
    cr_assert_str_eq((char *) buf, "mixed-09");

    e = kl_cpystrn(buf, (u_char *) "abcdef", 4);
    cr_assert_str_eq((char *) buf, "abc");
    cr_assert_eq(e, buf + 3);
    e = kl_cpystrn(buf, (u_char *) "ab", 10);
    cr_assert_eq(e, buf + 2);
    cr_assert_str_eq((char *) buf, "ab");

    cr_assert_eq(kl_strcasecmp((u_char *) "HoSt", (u_char *) "host"), 0);
    cr_assert_lt(kl_strcasecmp((u_char *) "abc", (u_char *) "abd"), 0);
    cr_assert_gt(kl_strcasecmp((u_char *) "abcd", (u_char *) "ABC"), 0);
    cr_assert_eq(kl_strncasecmp((u_char *) "HOSTx", (u_char *) "hosty", 4), 0);
    cr_assert_neq(kl_strncasecmp((u_char *) "HOSTx", (u_char *) "hosty", 5), 0);

    cr_assert(kl_str_eq_nocase(&a, &b));
    cr_assert_not(kl_str_eq_nocase(&a, &c));

    cr_assert_eq(kl_strnstr(hay, hay + sizeof(hay) - 1, "\r\n\r\n", 4),
                 hay + 15);
    cr_assert_null(kl_strnstr(hay, hay + 17, "\r\n\r\n", 4));
    cr_assert_eq(kl_strnstr(hay, hay + 19, "\r\n\r\n", 4), hay + 15);
    cr_assert_null(kl_strnstr(hay, hay + 18, "\r\n\r\n", 4));
    cr_assert_null(kl_strnstr(hay, hay + 2, "GET", 3));
}


Test(string, pstrdup)
{
    kl_pool_t *pool;
    kl_str_t   s = kl_string("dup me");
    u_char    *d;

    pool = kl_pool_create(1024, NULL);
    cr_assert_not_null(pool);

    d = kl_pstrdup(pool, &s);
    cr_assert_not_null(d);
    cr_assert_str_eq((char *) d, "dup me");
    cr_assert_neq(d, s.data);

    kl_pool_free(pool);
}


Test(string, http_time_format)
{
    u_char buf[64], *e;

    e = kl_http_time(buf, 784111777);
    cr_assert_eq(e - buf, 29);
    cr_assert(memcmp(buf, "Sun, 06 Nov 1994 08:49:37 GMT", 29) == 0);

    e = kl_http_time(buf, 0);
    cr_assert(memcmp(buf, "Thu, 01 Jan 1970 00:00:00 GMT", 29) == 0);

    e = kl_http_time(buf, 951782400);
    cr_assert(memcmp(buf, "Tue, 29 Feb 2000 00:00:00 GMT", 29) == 0);

    e = kl_http_time(buf, 4102444799);
    cr_assert(memcmp(buf, "Thu, 31 Dec 2099 23:59:59 GMT", 29) == 0);
    cr_assert_eq(e - buf, 29);
}


Test(string, strlow_every_byte)
{
    u_char    src[256], dst[256];
    kl_uint_t i;

    for (i = 0; i < 256; i++) {
        src[i] = (u_char) i;
    }

    kl_strlow(dst, src, 256);

    for (i = 0; i < 256; i++) {
        cr_assert_eq(dst[i], (i >= 'A' && i <= 'Z') ? i + 32 : i, "byte %u",
                     (unsigned) i);
    }
}


Test(string, sprint_uint_hex)
{
    u_char buf[32], *e;

    e = kl_sprint_uint(buf, 0);
    cr_assert_eq(e - buf, 1);
    cr_assert(memcmp(buf, "0", 1) == 0);

    e = kl_sprint_uint(buf, 1024);
    cr_assert_eq(e - buf, 4);
    cr_assert(memcmp(buf, "1024", 4) == 0);

    e = kl_sprint_uint(buf, UINT64_MAX);
    cr_assert_eq(e - buf, 20);
    cr_assert(memcmp(buf, "18446744073709551615", 20) == 0);

    e = kl_sprint_hex(buf, 0);
    cr_assert_eq(e - buf, 1);
    cr_assert(memcmp(buf, "0", 1) == 0);

    e = kl_sprint_hex(buf, 0x5f3a9c01);
    cr_assert_eq(e - buf, 8);
    cr_assert(memcmp(buf, "5f3a9c01", 8) == 0);

    e = kl_sprint_hex(buf, UINT64_MAX);
    cr_assert_eq(e - buf, 16);
    cr_assert(memcmp(buf, "ffffffffffffffff", 16) == 0);
}


Test(string, http_time_matches_slprintf)
{
    u_char             a[64], b[64], *ea, *eb;
    time_t             t;
    struct tm          tm;
    kl_uint_t          i;
    static const char *wd[] = {
        "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"
    };
    static const char *mo[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

    /* Every field width: single-digit days, hours, minutes, seconds. */
    for (i = 0, t = 0; i < 2000; i++, t += 86400 * 17 + 3661 * 7 + 1) {
        kl_gmtime(t, &tm);
        ea = kl_http_time(a, t);
        eb = kl_slprintf(b, b + 29, "%s, %02d %s %4d %02d:%02d:%02d GMT",
                         wd[tm.tm_wday], tm.tm_mday, mo[tm.tm_mon],
                         tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
        cr_assert_eq(ea - a, eb - b);
        cr_assert(memcmp(a, b, (size_t) (ea - a)) == 0, "t=%ld", (long) t);
    }
}


Test(string, http_time_round_trip)
{
    u_char   buf[64], *e;
    time_t   t, got;
    unsigned seed, i;

    seed = 12345;

    for (i = 0; i < 20000; i++) {
        seed = seed * 1103515245 + 12345;
        t = (time_t) (((uint64_t) seed << 7) % 253402300800ULL);
        if (i < 3) {
            t = (i == 0) ? 0 : (i == 1) ? 253402300799 : 2147483648;
        }

        e = kl_http_time(buf, t);
        got = kl_parse_http_time(buf, (size_t) (e - buf));
        cr_assert_eq(got, t, "%.*s: %lld != %lld", (int) (e - buf), buf,
                     (long long) got, (long long) t);
    }
}


Test(string, http_time_three_forms)
{
    cr_assert_eq(kl_parse_http_time(S("Sun, 06 Nov 1994 08:49:37 GMT")),
                 784111777);
    cr_assert_eq(kl_parse_http_time(S("Sunday, 06-Nov-94 08:49:37 GMT")),
                 784111777);
    cr_assert_eq(kl_parse_http_time(S("Sun Nov  6 08:49:37 1994")), 784111777);
    cr_assert_eq(kl_parse_http_time(S("Wed Nov 16 08:49:37 1994")),
                 784111777 + 10 * 86400);
    cr_assert_eq(kl_parse_http_time(S("Wednesday, 01-Jan-25 00:00:00 GMT")),
                 1735689600);
    cr_assert_eq(kl_parse_http_time(S("Thu, 29 Feb 2024 12:00:00 GMT")),
                 1709208000);
}


Test(string, http_time_rejects_garbage)
{
    static const char *bad[] = {
        "",
        "Sun",
        "garbage",
        "Sun, 06 Nov 1994 08:49:37 GMT ",
        " Sun, 06 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 08:49:37 UTC",
        "sun, 06 Nov 1994 08:49:37 GMT",
        "Sun, 06 nov 1994 08:49:37 GMT",
        "Sun, 6 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 94 08:49:37 GMT",
        "Sun, 06 Foo 1994 08:49:37 GMT",
        "Sun, 31 Nov 1994 08:49:37 GMT",
        "Sun, 29 Feb 1900 08:49:37 GMT",
        "Sun, 29 Feb 2023 08:49:37 GMT",
        "Sun, 00 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 24:00:00 GMT",
        "Sun, 06 Nov 1994 08:60:37 GMT",
        "Sun, 06 Nov 1994 08:49:60 GMT",
        "Sun, 06 Nov 1994 08-49-37 GMT",
        "Sun, 06 Nov 1969 08:49:37 GMT",
        "Sun, 06 Nov 19a4 08:49:37 GMT",
        "Xyz, 06 Nov 1994 08:49:37 GMT",
        "Sunday, 06-Nov-1994 08:49:37 GMT",
        "Sundae, 06-Nov-94 08:49:37 GMT",
        "Sun, 06-Nov-94 08:49:37 GMT",
        "Sunday 06-Nov-94 08:49:37 GMT",
        "Sunday, 06 Nov 94 08:49:37 GMT",
        "Sun Nov 6 08:49:37 1994",
        "Sun Nov 06 08:49:37 1994",
        "Sun Nov  6 08:49:37 94",
        "Sun Nov  6 08:49:37 1994 ",
        "Sun Nov  0 08:49:37 1994",
        "1994-11-06T08:49:37Z",
    };
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cr_assert_eq(kl_parse_http_time((u_char *) bad[i], strlen(bad[i])),
                     (time_t) KL_ERROR, "accepted \"%s\"", bad[i]);
    }

    cr_assert_eq(kl_parse_http_time(NULL, 0), (time_t) KL_ERROR);
}


Test(string, escape_uri)
{
    u_char    dst[64];
    uintptr_t n;
    u_char    src[] = "/a b/%c?d#e\"<>\x01\xff~&+;'";

    n = kl_escape_uri(NULL, src, sizeof(src) - 1, KL_ESCAPE_URI);
    cr_assert_eq(n, 2 * 9);

    memset(dst, 0, sizeof(dst));
    n = kl_escape_uri(dst, src, sizeof(src) - 1, KL_ESCAPE_URI);
    cr_assert_eq(n, 2 * 9);
    cr_assert_str_eq((char *) dst, "/a%20b/%25c%3Fd%23e%22%3C%3E%01%FF~&+;'");

    memset(dst, 0, sizeof(dst));
    n = kl_escape_uri(dst, (u_char *) "k=v&x+y;z/?", 11, KL_ESCAPE_ARGS);
    cr_assert_str_eq((char *) dst, "k=v%26x%2By%3Bz/%3F");
    cr_assert_eq(n, 8);

    memset(dst, 0, sizeof(dst));
    n = kl_escape_uri(dst, (u_char *) "it's a&b.txt", 12, KL_ESCAPE_HTML);
    cr_assert_str_eq((char *) dst, "it%27s%20a%26b.txt");
    cr_assert_eq(n, 6);

    cr_assert_eq(
        kl_escape_uri(NULL, (u_char *) "plain-Path_1.2/~x", 17, KL_ESCAPE_URI),
        0);
}


Test(string, escape_html)
{
    u_char dst[64];
    size_t len;
    u_char src[] = "<a href=\"x\">&</a>";

    len = kl_escape_html(NULL, src, sizeof(src) - 1);
    cr_assert_eq(len, strlen("&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;"));

    memset(dst, 0, sizeof(dst));
    cr_assert_eq(kl_escape_html(dst, src, sizeof(src) - 1), len);
    cr_assert_str_eq((char *) dst,
                     "&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;");

    cr_assert_eq(kl_escape_html(NULL, (u_char *) "plain", 5), 5);
}


Test(string, escape_json)
{
    u_char src[] = "a\"b\\c\n\r\t\b\f\x01\x1f\x7f";
    u_char dst[64], *end;
    size_t n;
    char   want[] = "a\\\"b\\\\c\\n\\r\\t\\b\\f\\u0001\\u001f\x7f";

    n = sizeof(src) - 1;
    end = kl_escape_json(dst, src, n);

    cr_assert_eq((size_t) (end - dst), strlen(want));
    cr_assert_eq(memcmp(dst, want, strlen(want)), 0);
    cr_assert_eq(n + kl_escape_json_len(src, n), strlen(want));
    cr_assert_eq(kl_escape_json_len((u_char *) "plain", 5), 0);
}
