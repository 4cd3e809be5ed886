/* fuzz_sock.c: libFuzzer target for kl_sock_parse (listen addresses). */

/*
 * The first two bytes are the default port (0..65535, and beyond when the
 * high bit is set), the rest is the address text. KL_OK and an error
 * phrase are exclusive; an address parsed must print back (with its port)
 * to a text that parses to the same address, and that text must be a
 * fixed point. Names never reach DNS: getaddrinfo() is replaced here by
 * a table ("localhost", and names ending in ".six" that resolve to ::1),
 * which also makes the answers reproducible.
 */

#include "kl_core.h"

#include <netdb.h>


static struct sockaddr_in  fuzz_sin;
static struct sockaddr_in6 fuzz_sin6;
static struct addrinfo     fuzz_ai4, fuzz_ai6;


int
getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
            struct addrinfo **res)
{
    size_t n;

    (void) service;
    (void) hints;

    fuzz_sin.sin_family = AF_INET;
    fuzz_sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    fuzz_sin6.sin6_family = AF_INET6;
    fuzz_sin6.sin6_addr = in6addr_loopback;

    fuzz_ai4.ai_family = AF_INET;
    fuzz_ai4.ai_addr = (struct sockaddr *) &fuzz_sin;
    fuzz_ai4.ai_addrlen = sizeof(fuzz_sin);
    fuzz_ai4.ai_next = NULL;

    fuzz_ai6.ai_family = AF_INET6;
    fuzz_ai6.ai_addr = (struct sockaddr *) &fuzz_sin6;
    fuzz_ai6.ai_addrlen = sizeof(fuzz_sin6);
    fuzz_ai6.ai_next = NULL;

    n = strlen(node);

    if (strcasecmp(node, "localhost") == 0) {
        /* IPv6 first: kiln must prefer the IPv4 answer */
        fuzz_ai6.ai_next = &fuzz_ai4;
        *res = &fuzz_ai6;
        return 0;
    }

    if (n > 4 && strcasecmp(node + n - 4, ".six") == 0) {
        *res = &fuzz_ai6;
        return 0;
    }

    return EAI_NONAME;
}


void
freeaddrinfo(struct addrinfo *res)
{
    (void) res;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char        text[256], *copy, *again;
    size_t        n, n2;
    kl_str_t      s;
    kl_uint_t     default_port;
    kl_int_t      rc;
    socklen_t     len, len2;
    const char   *err;
    kl_sockaddr_t sa, sa2;

    if (size < 2) {
        return 0;
    }

    default_port = (kl_uint_t) data[0] << 8 | data[1];
    if (default_port & 0x8000) {
        default_port <<= 4;
    }

    /* exact size, so that AddressSanitizer sees a read past the end */
    s.len = size - 2;
    copy = malloc(s.len ? s.len : 1);
    if (copy == NULL) {
        abort();
    }

    memcpy(copy, data + 2, s.len);
    s.data = copy;

    err = NULL;
    rc = kl_sock_parse(&s, default_port, &sa, &len, &err);

    if ((rc == KL_OK) != (err == NULL) || (rc != KL_OK && rc != KL_ERROR)) {
        abort();
    }

    if (rc == KL_OK) {
        if (len > sizeof(kl_sockaddr_t)) {
            abort();
        }

        n = kl_sock_ntop(&sa.sockaddr, len, text, sizeof(text), 1);
        if (n == 0 || n >= sizeof(text)) {
            abort();
        }

        again = malloc(n);
        if (again == NULL) {
            abort();
        }

        s.len = n;
        s.data = memcpy(again, text, n);

        if (kl_sock_parse(&s, 0, &sa2, &len2, &err) != KL_OK || len2 != len
            || !kl_sock_cmp(&sa.sockaddr, len, &sa2.sockaddr, len2))
        {
            abort();
        }

        n2 = kl_sock_ntop(&sa2.sockaddr, len2, text, sizeof(text), 1);
        if (n2 != n || memcmp(text, again, n) != 0) {
            abort();
        }

        free(again);
    }

    free(copy);

    return 0;
}
