/* fuzz_realip_xff.c: libFuzzer target for realip's reading of X-Forwarded-For lists (a client's header). */

/*
 * The first byte: bit 0 asks for real_ip_recursive. The rest is the field
 * value, walked from 127.0.0.1 with 127.0.0.0/8 and 10.0.0.0/8 trusted.
 * The walk returns one of its four codes; an address it gives is IPv4 or
 * IPv6 and, parsed back from its text, the same; KL_DECLINED leaves the
 * address alone.
 *
 * modules/realip.c is included for its static functions; the archive's
 * copy of it is then never linked in.
 */

#include "realip.c"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char                text[KL_SOCKADDR_STRLEN];
    size_t                n;
    kl_int_t              rc;
    kl_pool_t            *pool;
    kl_cidr_t            *c;
    kl_array_t           *from;
    socklen_t             len;
    kl_sockaddr_t         back;
    struct sockaddr_in    sin;
    kl_http_realip_addr_t addr;

    if (size < 1) {
        return 0;
    }

    pool = kl_pool_create(4096, NULL);
    if (pool == NULL) {
        return 0;
    }

    from = kl_array_create(pool, 2, sizeof(kl_cidr_t));
    c = kl_array_push(from);
    kl_cidr_parse((u_char *) "127.0.0.0/8", 11, c);
    c = kl_array_push(from);
    kl_cidr_parse((u_char *) "10.0.0.0/8", 10, c);

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(0x7f000001);
    addr.sockaddr = (struct sockaddr *) &sin;
    addr.socklen = sizeof(sin);

    rc =
        kl_http_realip_walk(pool, &addr, data + 1, size - 1, from, data[0] & 1);

    if (rc == KL_DECLINED && addr.sockaddr != (struct sockaddr *) &sin) {
        abort();
    }

    if (rc == KL_OK || rc == KL_DONE) {
        if (addr.sockaddr->sa_family != AF_INET
            && addr.sockaddr->sa_family != AF_INET6) {
            abort();
        }

        n = kl_sock_ntop(addr.sockaddr, addr.socklen, text, sizeof(text), 1);

        if (kl_http_realip_parse(text, n, &back, &len) == KL_OK
            && (len != addr.socklen
                || (kl_sock_get_port(addr.sockaddr) != 0
                    && !kl_sock_cmp(&back.sockaddr, len, addr.sockaddr,
                                    addr.socklen))))
        {
            abort();
        }

    } else if (rc != KL_DECLINED && rc != KL_ERROR) {
        abort();
    }

    kl_pool_free(pool);
    return 0;
}
