/*
 * test_http_variables_request.c: modules/http/variables_request.c's pure
 * part: the port of an authority ($request_port).
 */

#include <criterion/criterion.h>

#include "kl_http.h"


static kl_uint_t
t_port(const char *authority)
{
    return kl_http_parse_authority_port((u_char *) authority,
                                        strlen(authority));
}


Test(http_variables_request, authority_ports)
{
    cr_assert_eq(t_port("example.com:8080"), 8080);
    cr_assert_eq(t_port("example.com:080"), 80);
    cr_assert_eq(t_port("127.0.0.1:1"), 1);
    cr_assert_eq(t_port("[::1]:65535"), 65535);
    cr_assert_eq(t_port("[2001:db8::1]:443"), 443);
}


Test(http_variables_request, no_port)
{
    cr_assert_eq(t_port("example.com"), 0);
    cr_assert_eq(t_port("example.com:"), 0);
    cr_assert_eq(t_port("[::1]"), 0);
    cr_assert_eq(t_port("[::1]:"), 0);
    cr_assert_eq(t_port("[::1"), 0);
    cr_assert_eq(t_port(""), 0);
    cr_assert_eq(t_port(":"), 0);
    cr_assert_eq(t_port("h:65536"), 0);
    cr_assert_eq(t_port("h:123456"), 0);
    cr_assert_eq(t_port("h:12a"), 0);
    cr_assert_eq(t_port("h:0"), 0);
    cr_assert_eq(t_port("h:-1"), 0);
}
