/* fuzz_http_host.c: libFuzzer target for kl_http_validate_host (Host). */

/*
 * The input is a Host field value. The answer must equal a reference
 * written from RFC 3986 3.2.2-3.2.3: the host is either a bracketed
 * IP-literal (an IPv6 address, as inet_pton() reads it, or IPvFuture:
 * "v", hex digits, ".", then unreserved, sub-delims or ':') and nothing
 * else, or a reg-name of letters, digits, '-', '_', '~' and
 * dot-separated non-empty labels (one trailing dot allowed, and
 * dropped); then an optional ':' and digits. A valid host comes back
 * lowercased, without port and trailing dot, and validating it again
 * gives it back unchanged.
 */

#include "kl_http.h"

#include <ctype.h>


static int
fuzz_reg_char(u_char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
           || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '~';
}


static int
fuzz_v6_char(u_char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')
           || (c >= 'A' && c <= 'F') || c == ':' || c == '.';
}


/* IPvFuture between the brackets: [s, s + len). */
static int
fuzz_future(const u_char *s, size_t len)
{
    size_t i;

    if (len < 4 || tolower(s[0]) != 'v' || !isxdigit(s[1])) {
        return 0;
    }

    for (i = 1; i < len && isxdigit(s[i]); i++) { /* hex digits */
    }

    if (i + 1 >= len || s[i] != '.') {
        return 0;
    }

    for (i++; i < len; i++) {
        if (s[i] == '\0'
            || (!isalnum(s[i]) && !strchr("-._~!$&'()*+,;=:", s[i]))) {
            return 0;
        }
    }

    return 1;
}


/* The host's length without port and trailing dot, or -1. */
static ssize_t
fuzz_reference(const u_char *s, size_t len)
{
    char            text[INET6_ADDRSTRLEN];
    size_t          i, end;
    struct in6_addr addr;

    if (len && s[0] == '[') {
        for (i = 1; i < len && s[i] != ']'; i++) { /* to the ']' */
        }

        if (i < len && fuzz_future(s + 1, i - 1)) {
            end = i + 1;
            goto port;
        }

        for (i = 1; i < len && s[i] != ']'; i++) {
            if (!fuzz_v6_char(s[i])) {
                return -1;
            }
        }

        if (i == len || i == 1 || i - 1 >= sizeof(text)) {
            return -1;
        }

        memcpy(text, s + 1, i - 1);
        text[i - 1] = '\0';

        if (inet_pton(AF_INET6, text, &addr) != 1) {
            return -1;
        }

        end = i + 1;

    } else {
        for (i = 0; i < len && s[i] != ':'; i++) {
            if (s[i] == '.') {
                if (i == 0 || s[i - 1] == '.') {
                    return -1;
                }

                continue;
            }

            if (!fuzz_reg_char(s[i])) {
                return -1;
            }
        }

        end = i;
    }

port:

    if (end < len) {
        if (s[end] != ':') {
            return -1;
        }

        for (i = end + 1; i < len; i++) {
            if (s[i] < '0' || s[i] > '9') {
                return -1;
            }
        }
    }

    if (end && s[end - 1] == '.') {
        end--;
    }

    return end ? (ssize_t) end : -1;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char    *copy;
    size_t     i;
    ssize_t    ref;
    kl_int_t   rc;
    kl_str_t   host, again;
    kl_log_t   log;
    kl_pool_t *pool;

    memset(&log, 0, sizeof(log));

    pool = kl_pool_create(1024, &log);
    copy = malloc(size ? size : 1);

    if (pool == NULL || copy == NULL) {
        abort();
    }

    /* exact size, so that AddressSanitizer sees a read past the end */
    memcpy(copy, data, size);

    host.data = copy;
    host.len = size;

    rc = kl_http_validate_host(&host, pool);
    ref = fuzz_reference(copy, size);

    if ((rc == KL_OK) != (ref >= 0)) {
        abort();
    }

    if (rc == KL_OK) {
        if (host.len != (size_t) ref) {
            abort();
        }

        for (i = 0; i < host.len; i++) {
            if (host.data[i] != (u_char) tolower(copy[i])) {
                abort();
            }
        }

        again = host;

        if (kl_http_validate_host(&again, pool) != KL_OK
            || again.len != host.len
            || memcmp(again.data, host.data, host.len) != 0)
        {
            abort();
        }
    }

    free(copy);
    kl_pool_free(pool);

    return 0;
}
