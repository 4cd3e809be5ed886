/*
 * test_http_variables_upstream.c: modules/http/variables_upstream.c's
 * pure part: the cookie a Set-Cookie field sets ($upstream_cookie_NAME).
 */

#include <criterion/criterion.h>

#include "kl_http.h"


static const char *
t_cookie(const char *field, const char *name)
{
    kl_str_t    v;
    static char out[256];

    if (kl_http_parse_set_cookie((u_char *) field, strlen(field),
                                 (u_char *) name, strlen(name), &v)
        != KL_OK)
    {
        return "(none)";
    }

    cr_assert(v.data >= (u_char *) field
              && v.data + v.len <= (u_char *) field + strlen(field));

    snprintf(out, sizeof(out), "%.*s", (int) v.len, v.data);

    return out;
}


Test(http_variables_upstream, set_cookie_first_pair)
{
    cr_assert_str_eq(t_cookie("sid=abc", "sid"), "abc");
    cr_assert_str_eq(t_cookie("sid=abc; Path=/; HttpOnly", "sid"), "abc");
    cr_assert_str_eq(t_cookie("SID=abc; Path=/", "sid"), "abc");
    cr_assert_str_eq(t_cookie(" sid = a b ;Path=/", "sid"), "a b");
    cr_assert_str_eq(t_cookie("sid=", "sid"), "");
    cr_assert_str_eq(t_cookie("sid=a=b", "sid"), "a=b");
    cr_assert_str_eq(t_cookie("e=", ""), "(none)");
    cr_assert_str_eq(t_cookie("=v", ""), "v");
}


Test(http_variables_upstream, attributes_are_not_cookies)
{
    /* RFC 6265 5.2: after the first ';' come attributes */
    cr_assert_str_eq(t_cookie("sid=abc; Path=/p", "path"), "(none)");
    cr_assert_str_eq(t_cookie("sid=abc; other=1", "other"), "(none)");
    cr_assert_str_eq(t_cookie("sidx=1", "sid"), "(none)");
    cr_assert_str_eq(t_cookie("si=1", "sid"), "(none)");
    cr_assert_str_eq(t_cookie("sid", "sid"), "(none)");
    cr_assert_str_eq(t_cookie("sid;=1", "sid"), "(none)");
    cr_assert_str_eq(t_cookie("", "sid"), "(none)");
}
