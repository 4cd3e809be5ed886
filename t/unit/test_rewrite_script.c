/*
 * test_rewrite_script.c: modules/rewrite/rewrite_script.c's pure part,
 * kl_http_rewrite_unescape_redirect, nginx's NGX_UNESCAPE_REDIRECT. The
 * expected values follow ngx_unescape_uri; the first was checked against
 * nginx 1.22 (a "rewrite ... redirect" with that literal replacement).
 * The scripts themselves run in t/rewrite.t, t/if.t and t/set.t.
 */

#include <criterion/criterion.h>

#include "kl_http.h"
#include "rewrite.h"


static void
t_unescape(const char *in, const char *out)
{
    u_char buf[256];
    size_t len, n;

    len = strlen(in);
    cr_assert(len < sizeof(buf));
    memcpy(buf, in, len);

    n = kl_http_rewrite_unescape_redirect(buf, len);

    cr_assert_eq(n, strlen(out), "\"%s\": length %zu, not %zu (\"%.*s\")", in,
                 n, strlen(out), (int) n, buf);
    cr_assert(memcmp(buf, out, n) == 0, "\"%s\": \"%.*s\", not \"%s\"", in,
              (int) n, buf, out);
}


Test(rewrite_script, nginx_oracle)
{
    t_unescape("/t/%20%41%3f%zz%2z%", "/t/%20A?%zz%2z%");
}


Test(rewrite_script, plain)
{
    t_unescape("", "");
    t_unescape("/a/b", "/a/b");
    t_unescape("http://example.com/x", "http://example.com/x");
}


Test(rewrite_script, printable_above_percent_decoded)
{
    t_unescape("%41", "A");
    t_unescape("%2F", "/");
    t_unescape("%2f", "/");
    t_unescape("%26", "&");
    t_unescape("%7E", "~");
    t_unescape("%7e", "~");
}


Test(rewrite_script, others_kept)
{
    t_unescape("%20", "%20");
    t_unescape("%25", "%25");
    t_unescape("%22", "%22");
    t_unescape("%00", "%00");
    t_unescape("%7F", "%7F");
    t_unescape("%C3%A9", "%C3%A9");
    t_unescape("%c3", "%c3");
}


Test(rewrite_script, question_mark_stops)
{
    t_unescape("/a?%41", "/a?%41");
    t_unescape("/a?b?%41%zz", "/a?b?%41%zz");
    t_unescape("%3F%41", "?%41");
    t_unescape("%3f%2F", "?%2F");
    t_unescape("%41?%41", "A?%41");
}


Test(rewrite_script, malformed)
{
    /* The '%' goes; a bad second digit takes the first with it. */
    t_unescape("%zz", "zz");
    t_unescape("a%", "a");
    t_unescape("a%4", "a");
    t_unescape("%2z", "");
    t_unescape("%2zb", "b");
    t_unescape("%%41", "%41");
    t_unescape("%?a", "?a");
}
