/* test_metrics_text.c: modules/metrics/metrics_text.c: label escaping, samples and HELP/TYPE lines of the text format 0.0.4. */

#include <criterion/criterion.h>
#include <string.h>

#include "kl_core.h"
#include "metrics.h"


static kl_str_t
t_str(const char *s)
{
    kl_str_t v;

    v.data = (u_char *) s;
    v.len = strlen(s);

    return v;
}


Test(metrics_text, escape)
{
    u_char   buf[64], *e;
    kl_str_t in;

    in = t_str("a\\b\"c\nd\te");
    cr_assert_eq(kl_http_metrics_escape_len(in.data, in.len), in.len + 3);

    e = kl_http_metrics_escape(buf, in.data, in.len);
    cr_assert_eq((size_t) (e - buf), in.len + 3);
    cr_assert(memcmp(buf, "a\\\\b\\\"c\\nd\te", e - buf) == 0);

    in = t_str("plain.example.com:80");
    cr_assert_eq(kl_http_metrics_escape_len(in.data, in.len), in.len);
    e = kl_http_metrics_escape(buf, in.data, in.len);
    cr_assert(memcmp(buf, in.data, in.len) == 0);
}


Test(metrics_text, sample_no_labels)
{
    u_char buf[128], *e;
    size_t n;

    n = kl_http_metrics_sample_len("x_total", NULL, NULL, 0);
    e = kl_http_metrics_sample(buf, "x_total", NULL, NULL, 0, 42, 0);
    cr_assert_leq((size_t) (e - buf), n);
    cr_assert(memcmp(buf, "x_total 42\n", e - buf) == 0);

    e = kl_http_metrics_sample(buf, "x_total", NULL, NULL, 0,
                               18446744073709551615ull, 0);
    cr_assert_leq((size_t) (e - buf), n);
    cr_assert(memcmp(buf, "x_total 18446744073709551615\n", e - buf) == 0);
}


Test(metrics_text, sample_labels_and_seconds)
{
    u_char                  buf[256], *e;
    size_t                  n;
    kl_http_metrics_label_t l[2];

    l[0].name = "server";
    l[0].value = t_str("a\"b");
    l[1].name = "le";
    l[1].value = t_str("+Inf");

    n = kl_http_metrics_sample_len("t", "_bucket", l, 2);
    e = kl_http_metrics_sample(buf, "t", "_bucket", l, 2, 7, 0);
    cr_assert_leq((size_t) (e - buf), n);
    cr_assert(
        memcmp(buf, "t_bucket{server=\"a\\\"b\",le=\"+Inf\"} 7\n", e - buf)
        == 0);

    e = kl_http_metrics_sample(buf, "t", "_sum", l, 1, 1500, 1);
    cr_assert(memcmp(buf, "t_sum{server=\"a\\\"b\"} 1.500\n", e - buf) == 0);

    e = kl_http_metrics_sample(buf, "t", NULL, l, 1, 7, 1);
    cr_assert(memcmp(buf, "t{server=\"a\\\"b\"} 0.007\n", e - buf) == 0);

    e = kl_http_metrics_sample(buf, "t", NULL, l, 1, 12345, 1);
    cr_assert(memcmp(buf, "t{server=\"a\\\"b\"} 12.345\n", e - buf) == 0);
}


/* The bound holds for a label of every escaped byte. */
Test(metrics_text, sample_len_bound)
{
    u_char                  buf[1024], *e;
    char                    v[200];
    kl_http_metrics_label_t l;

    memset(v, '"', sizeof(v) - 1);
    v[sizeof(v) - 1] = '\0';

    l.name = "peer";
    l.value = t_str(v);

    e = kl_http_metrics_sample(buf, "name", "_count", &l, 1,
                               18446744073709551615ull, 1);
    cr_assert_leq((size_t) (e - buf),
                  kl_http_metrics_sample_len("name", "_count", &l, 1));
}


Test(metrics_text, family)
{
    u_char buf[256], *e;

    e = kl_http_metrics_family(buf, "kiln_x_total", "Things.", "counter");
    cr_assert_eq((size_t) (e - buf), kl_http_metrics_family_len(
                                         "kiln_x_total", "Things.", "counter"));
    cr_assert(memcmp(buf,
                     "# HELP kiln_x_total Things.\n"
                     "# TYPE kiln_x_total counter\n",
                     e - buf)
              == 0);
}
