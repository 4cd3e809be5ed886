/* fuzz_http_upstream_authority.c: libFuzzer target for kl_http_upstream_parse_authority (proxy_pass with variables). */

/*
 * The input is the authority of an evaluated proxy_pass URL: it may
 * come from the client ($arg_x, $http_x). KL_OK and an error phrase are
 * exclusive; a host accepted is a non-empty view of the input and the
 * port a 1..65535 number; an address literal prints back to a name that
 * parses again to the same address and port, and that name is a fixed
 * point. No lookup is ever made (the function has no resolver).
 */

#include "kl_http.h"
#include "upstream.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char                     *copy;
    kl_str_t                    s, name;
    kl_int_t                    rc;
    const char                 *err;
    kl_http_upstream_resolved_t ur, again;

    copy = malloc(size ? size : 1);
    if (copy == NULL) {
        return 0;
    }

    memcpy(copy, data, size);
    s.data = copy;
    s.len = size;
    err = NULL;

    rc = kl_http_upstream_parse_authority(&s, &ur, &err);

    if (rc != KL_OK) {
        if (rc != KL_ERROR || err == NULL) {
            abort();
        }

        free(copy);
        return 0;
    }

    if (ur.host.len == 0 || ur.host.data < copy
        || ur.host.data + ur.host.len > copy + size || ur.port == 0
        || (ur.no_port && ur.port != 80))
    {
        abort();
    }

    if (ur.socklen) {
        name = ur.name;

        if (kl_http_upstream_parse_authority(&name, &again, &err) != KL_OK
            || again.socklen != ur.socklen
            || memcmp(&again.sockaddr, &ur.sockaddr, ur.socklen) != 0
            || again.name.len != name.len
            || memcmp(again.name.data, name.data, name.len) != 0)
        {
            abort();
        }
    }

    free(copy);
    return 0;
}
