/* test_http_range.c: the Range field parser (range_parse.c), table-driven, against nginx 1.22's answers. */

#include <criterion/criterion.h>

#include "kl_core.h"
#include "kl_http.h"
#include "range_parse.h"


typedef struct {
    const char *value;
    off_t       length;
    kl_uint_t   max;
    kl_int_t    rc;
    const char *ranges; /* "start-end" pairs, end exclusive, space-separated */
} kl_test_range_t;


static const kl_test_range_t kl_test_ranges[] = {
    /* one range */
    { "bytes=0-9", 100, 10, KL_OK, "0-10" },
    { "bytes=90-", 100, 10, KL_OK, "90-100" },
    { "bytes=-5", 100, 10, KL_OK, "95-100" },
    { "bytes=95-500", 100, 10, KL_OK, "95-100" },
    { "bytes=-500", 100, 10, KL_OK, "0-100" },
    { "bytes=99-99", 100, 10, KL_OK, "99-100" },
    { "bytes=0-0", 1, 10, KL_OK, "0-1" },
    { "bytes= 10 - 19 ", 100, 10, KL_OK, "10-20" },
    { "bytes=10- ", 100, 10, KL_OK, "10-100" },
    { "BYTES=1-1", 100, 10, KL_OK, "1-2" },
    { "Bytes=0-", 100, 10, KL_OK, "0-100" },

    /* several, kept in order, not merged */
    { "bytes=0-1,10-12,-3", 100, 10, KL_OK, "0-2 10-13 97-100" },
    { "bytes=10-12,0-1", 100, 10, KL_OK, "10-13 0-2" },
    { "bytes=0-9,5-14", 100, 10, KL_OK, "0-10 5-15" },
    { "bytes=200-300,5-6", 100, 10, KL_OK, "5-7" },
    { "bytes=0-1, 3-4", 100, 10, KL_OK, "0-2 3-5" },
    { "bytes=0-1,,3-4", 100, 10, KL_HTTP_RANGE_NOT_SATISFIABLE, "" },

    /* ignored: the whole representation */
    { "items=0-1", 100, 10, KL_DECLINED, "" },
    { "bytes=", 100, 10, KL_DECLINED, "" },
    { "bytes", 100, 10, KL_DECLINED, "" },
    { "", 100, 10, KL_DECLINED, "" },
    { "bytes=0-99,0-99", 100, 10, KL_DECLINED, "" },
    { "bytes=0-60,40-99", 100, 10, KL_DECLINED, "" },
    { "bytes=0-0,2-2,4-4", 100, 2, KL_DECLINED, "" },
    { "bytes=0-", 0, 10, KL_DECLINED, "" },
    { "bytes=-1", 0, 10, KL_DECLINED, "" },

    /* unsatisfiable or invalid: 416 */
    { "bytes=100-", 100, 10, KL_HTTP_RANGE_NOT_SATISFIABLE, "" },
    { "bytes=100-200", 100, 10, KL_HTTP_RANGE_NOT_SATISFIABLE, "" },
    { "bytes=-0", 100, 10, KL_HTTP_RANGE_NOT_SATISFIABLE, "" },
    { "bytes=5-3", 100, 10, KL_HTTP_RANGE_NOT_SATISFIABLE, "" },
    { "bytes=abc", 100, 10, KL_HTTP_RANGE_NOT_SATISFIABLE, "" },
    { "bytes=1-2;", 100, 10, KL_HTTP_RANGE_NOT_SATISFIABLE, "" },
    { "bytes=--1", 100, 10, KL_HTTP_RANGE_NOT_SATISFIABLE, "" },
    { "bytes=1", 100, 10, KL_HTTP_RANGE_NOT_SATISFIABLE, "" },
    { "bytes=-", 100, 10, KL_HTTP_RANGE_NOT_SATISFIABLE, "" },
    { "bytes=1-2,", 100, 10, KL_HTTP_RANGE_NOT_SATISFIABLE, "" },
    { "bytes=\t1-2", 100, 10, KL_HTTP_RANGE_NOT_SATISFIABLE, "" },
    { "bytes=9223372036854775807-", 100, 10, KL_HTTP_RANGE_NOT_SATISFIABLE,
      "" },
    { "bytes=9223372036854775808-", 100, 10, KL_HTTP_RANGE_NOT_SATISFIABLE,
      "" },
    { "bytes=99999999999999999999-", 100, 10, KL_HTTP_RANGE_NOT_SATISFIABLE,
      "" },
    { "bytes=99999999999999999999-99999999999999999999", 100, 10,
      KL_HTTP_RANGE_NOT_SATISFIABLE, "" },
    { "bytes=1-1,1-1", 0, 10, KL_HTTP_RANGE_NOT_SATISFIABLE, "" },

    /*
     * Past off_t: read as past the end (RFC 9110 14.1.2), so the end or
     * the whole; nginx 1.22 answers 416.
     */
    { "bytes=0-99999999999999999999", 100, 10, KL_OK, "0-100" },
    { "bytes=0-18446744073709551621", 100, 10, KL_OK, "0-100" },
    { "bytes=0-9223372036854775807", 100, 10, KL_OK, "0-100" },
    { "bytes=0-9223372036854775808", 100, 10, KL_OK, "0-100" },
    { "bytes=-18446744073709551621", 100, 10, KL_OK, "0-100" },
    { "bytes=-9223372036854775808", 100, 10, KL_OK, "0-100" },
    { "bytes=50-18446744073709551621,-18446744073709551621", 100, 10,
      KL_DECLINED, "" },
    { "bytes=1-18446744073709551621", 1, 10, KL_HTTP_RANGE_NOT_SATISFIABLE,
      "" },
    { "bytes=-184467440737095516210000000000000000000", 0, 10, KL_DECLINED,
      "" },

    /* max_ranges bounds the count exactly */
    { "bytes=0-0,2-2", 100, 2, KL_OK, "0-1 2-3" },
    { "bytes=0-0,2-2", 100, 1, KL_DECLINED, "" },
};


static void
kl_test_one(const kl_test_range_t *t)
{
    char             got[512], *p;
    kl_int_t         rc;
    kl_uint_t        i;
    kl_pool_t       *pool;
    kl_array_t       ranges;
    kl_http_range_t *r;

    pool = kl_pool_create(4096, NULL);
    cr_assert_not_null(pool);
    cr_assert_eq(kl_array_init(&ranges, pool, 1, sizeof(kl_http_range_t)),
                 KL_OK);

    rc = kl_http_range_parse((u_char *) t->value,
                             (u_char *) t->value + strlen(t->value), t->length,
                             t->max, &ranges);

    cr_assert_eq(rc, t->rc, "\"%s\" (length %lld): rc %ld, expected %ld",
                 t->value, (long long) t->length, (long) rc, (long) t->rc);

    if (rc == KL_OK) {
        p = got;
        *p = '\0';
        r = ranges.elts;

        for (i = 0; i < ranges.nelts; i++) {
            p += sprintf(p, "%s%lld-%lld", i ? " " : "", (long long) r[i].start,
                         (long long) r[i].end);
        }

        cr_assert_str_eq(got, t->ranges, "\"%s\"", t->value);
    }

    kl_pool_free(pool);
}


Test(http_range, table)
{
    size_t i;

    for (i = 0; i < sizeof(kl_test_ranges) / sizeof(kl_test_ranges[0]); i++) {
        kl_test_one(&kl_test_ranges[i]);
    }
}


/* The value ends at its length: what follows it is never read. */
Test(http_range, stops_at_the_length)
{
    kl_test_range_t  t = { "bytes=0-1,junk", 100, 10, KL_OK, "0-2" };
    kl_pool_t       *pool;
    kl_array_t       ranges;
    kl_http_range_t *r;

    pool = kl_pool_create(4096, NULL);
    cr_assert_not_null(pool);
    cr_assert_eq(kl_array_init(&ranges, pool, 1, sizeof(kl_http_range_t)),
                 KL_OK);

    cr_assert_eq(kl_http_range_parse((u_char *) t.value, (u_char *) t.value + 9,
                                     t.length, t.max, &ranges),
                 KL_OK);

    r = ranges.elts;
    cr_assert_eq(ranges.nelts, 1);
    cr_assert_eq(r[0].start, 0);
    cr_assert_eq(r[0].end, 2);

    kl_pool_free(pool);
}
