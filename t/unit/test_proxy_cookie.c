/* test_proxy_cookie.c: the Set-Cookie attribute split, the flags and the join of proxy_cookie.c. */

#include <criterion/criterion.h>

#include "kl_http.h"
#include "proxy_cookie.h"


/* The value split, flags applied, joined again. */
static kl_int_t
kl_test_cookie(const char *in, kl_uint_t flags, char *out, size_t size)
{
    u_char                      buf[256], *end;
    kl_int_t                    n;
    kl_uint_t                   un;
    kl_http_proxy_cookie_attr_t attrs[64];

    n = kl_http_proxy_cookie_split((u_char *) in, (u_char *) in + strlen(in),
                                   attrs);
    if (n == KL_ERROR) {
        return KL_ERROR;
    }

    un = (kl_uint_t) n;
    kl_http_proxy_cookie_set_flags(attrs, &un, flags);
    cr_assert(kl_http_proxy_cookie_len(attrs, un) < sizeof(buf));

    end = kl_http_proxy_cookie_join(buf, attrs, un);
    cr_assert_eq((size_t) (end - buf), kl_http_proxy_cookie_len(attrs, un));
    cr_assert(size > (size_t) (end - buf));
    memcpy(out, buf, end - buf);
    out[end - buf] = '\0';

    return (kl_int_t) un;
}


Test(proxy_cookie, split_trims_and_keeps_empty_attributes)
{
    char                        out[256];
    const char                 *in = " a = 1 ;; Path=/x ; Secure ;";
    kl_int_t                    n;
    kl_http_proxy_cookie_attr_t attrs[16];

    n = kl_http_proxy_cookie_split((u_char *) in, (u_char *) in + strlen(in),
                                   attrs);
    cr_assert_eq(n, 5);
    cr_assert_eq(attrs[0].key.len, 1);
    cr_assert_eq(attrs[0].value.len, 1);
    cr_assert_eq(attrs[1].key.len, 0);
    cr_assert_eq(attrs[1].has_value, 0);
    cr_assert_eq(attrs[2].value.len, 2);
    cr_assert_eq(attrs[3].has_value, 0);
    cr_assert_eq(attrs[4].key.len, 0);

    cr_assert_eq(kl_test_cookie(in, 0, out, sizeof(out)), 5);
    cr_assert_str_eq(out, "a=1; ; Path=/x; Secure; ");
}


Test(proxy_cookie, not_a_cookie)
{
    char out[64];

    cr_assert_eq(kl_test_cookie("abc; Path=/", 0, out, sizeof(out)), KL_ERROR);
    cr_assert_eq(kl_test_cookie("", 0, out, sizeof(out)), KL_ERROR);
    cr_assert_eq(kl_test_cookie("=", 0, out, sizeof(out)), 1);
    cr_assert_str_eq(out, "=");
}


Test(proxy_cookie, flags)
{
    char out[256];

    kl_test_cookie("a=1",
                   KL_HTTP_PROXY_COOKIE_SECURE | KL_HTTP_PROXY_COOKIE_HTTPONLY
                       | KL_HTTP_PROXY_COOKIE_SAMESITE_NONE,
                   out, sizeof(out));
    cr_assert_str_eq(out, "a=1; Secure; HttpOnly; SameSite=None");

    kl_test_cookie("a=1;SameSite=strict;secure=yes",
                   KL_HTTP_PROXY_COOKIE_SECURE | KL_HTTP_PROXY_COOKIE_HTTPONLY
                       | KL_HTTP_PROXY_COOKIE_SAMESITE_LAX,
                   out, sizeof(out));
    cr_assert_str_eq(out, "a=1; SameSite=Lax; secure=yes; HttpOnly");

    kl_test_cookie("d=1;secure;HTTPONLY;samesite=lax;path=/p;Secure",
                   KL_HTTP_PROXY_COOKIE_NOSECURE
                       | KL_HTTP_PROXY_COOKIE_NOHTTPONLY
                       | KL_HTTP_PROXY_COOKIE_NOSAMESITE,
                   out, sizeof(out));
    cr_assert_str_eq(out, "d=1; path=/p");

    kl_test_cookie("secure=1", KL_HTTP_PROXY_COOKIE_SECURE, out, sizeof(out));
    cr_assert_str_eq(out, "secure=1; Secure", "the cookie is no attribute");
}


Test(proxy_cookie, flag_names)
{
    kl_str_t s;

    kl_str_set(&s, "SameSite=Strict");
    cr_assert_eq(kl_http_proxy_cookie_flag(&s),
                 KL_HTTP_PROXY_COOKIE_SAMESITE_STRICT);
    kl_str_set(&s, "nohttponly");
    cr_assert_eq(kl_http_proxy_cookie_flag(&s),
                 KL_HTTP_PROXY_COOKIE_NOHTTPONLY);
    kl_str_set(&s, "samesite");
    cr_assert_eq(kl_http_proxy_cookie_flag(&s), 0);
    kl_str_set(&s, "secur");
    cr_assert_eq(kl_http_proxy_cookie_flag(&s), 0);
}
