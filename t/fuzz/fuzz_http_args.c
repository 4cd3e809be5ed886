/* fuzz_http_args.c: libFuzzer target for kl_http_arg ($arg_NAME lookup). */

/*
 * Byte 0 is the length of the argument name, taken from the next bytes
 * and made into variable-name bytes (as $arg_NAME can only be); the rest
 * is the query string, untrusted. The answer must equal a reference that
 * splits the query at '&' and takes the first "name=value" whose name
 * equals NAME ignoring case; the value must lie inside the query and
 * hold no '&'.
 */

#include "kl_http.h"

#include <ctype.h>


static u_char
fuzz_name_byte(u_char c)
{
    static const char set[] = "abcdefghijklmnopqrstuvwxyz"
                              "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_";

    return (u_char) set[c % (sizeof(set) - 1)];
}


static int
fuzz_reference(const u_char *q, size_t len, const u_char *name, size_t nlen,
               size_t *vstart, size_t *vlen)
{
    size_t i, start, end;

    if (nlen == 0) {
        return 0;
    }

    for (start = 0; start < len; start = end + 1) {
        for (end = start; end < len && q[end] != '&'; end++) {
            /* void */
        }

        if (end - start > nlen && q[start + nlen] == '='
            && strncasecmp((const char *) q + start, (const char *) name, nlen)
                   == 0)
        {
            /* strncasecmp stops at a NUL: only a real match counts */
            for (i = 0; i < nlen; i++) {
                if (tolower(q[start + i]) != tolower(name[i])) {
                    break;
                }
            }

            if (i == nlen) {
                *vstart = start + nlen + 1;
                *vlen = end - *vstart;
                return 1;
            }
        }
    }

    return 0;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char            *name, *query;
    size_t             nlen, qlen, i, vstart, vlen;
    int                found;
    kl_int_t           rc;
    kl_str_t           value;
    kl_http_request_t *r;

    if (size < 1) {
        return 0;
    }

    nlen = data[0] % 32;
    if (nlen > size - 1) {
        nlen = size - 1;
    }

    qlen = size - 1 - nlen;

    /* exact sizes, so that AddressSanitizer sees a read past the end */
    name = malloc(nlen ? nlen : 1);
    query = malloc(qlen ? qlen : 1);
    r = calloc(1, sizeof(kl_http_request_t));

    if (name == NULL || query == NULL || r == NULL) {
        abort();
    }

    for (i = 0; i < nlen; i++) {
        name[i] = fuzz_name_byte(data[1 + i]);
    }

    memcpy(query, data + 1 + nlen, qlen);

    r->args.data = query;
    r->args.len = qlen;

    rc = kl_http_arg(r, name, nlen, &value);
    found = fuzz_reference(query, qlen, name, nlen, &vstart, &vlen);

    if ((rc == KL_OK) != found || (rc != KL_OK && rc != KL_DECLINED)) {
        abort();
    }

    if (found
        && (value.data != query + vstart || value.len != vlen
            || memchr(value.data, '&', value.len) != NULL))
    {
        abort();
    }

    free(r);
    free(query);
    free(name);

    return 0;
}
