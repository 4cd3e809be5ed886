/* fuzz_proxy_cookie.c: libFuzzer target for the Set-Cookie split and join of proxy_cookie.c (proxy_cookie_*). */

/*
 * The input is a Set-Cookie value from a peer. The first byte picks the
 * flags applied. A split value has at most one attribute per ';' plus
 * one, each a view of the input without spaces at its ends; joined
 * again it is exactly kl_http_proxy_cookie_len() bytes, and splitting
 * the joined bytes gives the same number of attributes.
 */

#include "kl_http.h"
#include "proxy_cookie.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char                      *copy, *out, *end;
    size_t                       i, semis, len;
    kl_int_t                     n, again;
    kl_uint_t                    un, flags;
    kl_http_proxy_cookie_attr_t *attrs;

    if (size == 0) {
        return 0;
    }

    flags = data[0];
    data++;
    size--;

    copy = malloc(size ? size : 1);
    attrs = malloc((size + 4) * sizeof(kl_http_proxy_cookie_attr_t));
    if (copy == NULL || attrs == NULL) {
        free(copy);
        free(attrs);
        return 0;
    }

    memcpy(copy, data, size);

    for (semis = 0, i = 0; i < size; i++) {
        semis += copy[i] == ';';
    }

    n = kl_http_proxy_cookie_split(copy, copy + size, attrs);

    if (n != KL_ERROR) {
        if (n < 1 || (size_t) n > semis + 1) {
            abort();
        }

        for (i = 0; i < (size_t) n; i++) {
            if (attrs[i].key.len
                && (attrs[i].key.data < copy
                    || attrs[i].key.data + attrs[i].key.len > copy + size))
            {
                abort();
            }
        }

        un = (kl_uint_t) n;
        kl_http_proxy_cookie_set_flags(attrs, &un, flags);
        len = kl_http_proxy_cookie_len(attrs, un);

        out = malloc(len ? len : 1);
        if (out != NULL) {
            end = kl_http_proxy_cookie_join(out, attrs, un);

            if ((size_t) (end - out) != len) {
                abort();
            }

            again = kl_http_proxy_cookie_split(out, end, attrs);

            if (again != (kl_int_t) un) {
                abort();
            }

            free(out);
        }
    }

    free(attrs);
    free(copy);
    return 0;
}
