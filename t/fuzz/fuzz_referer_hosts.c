/* fuzz_referer_hosts.c: libFuzzer target for the valid_referers name lists (referer_hosts.c). */

/*
 * The input is lines: names to add (each as valid_referers reads it),
 * then, after an empty line, hosts to look up. An added exact name must
 * be found as itself; whatever a lookup returns must be an entry whose
 * name fits the host as its kind says.
 */

#include "kl_core.h"
#include "referer/referer_hosts.h"

#include <stdlib.h>
#include <string.h>


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char                 *buf, *p, *end, *nl;
    size_t                  len;
    kl_int_t                rc;
    kl_str_t                name;
    kl_uint_t               lookups;
    kl_pool_t              *pool;
    kl_http_referer_host_t *e;
    kl_http_referer_hosts_t h;

    pool = kl_pool_create(4096, NULL);
    buf = malloc(size + 1);

    if (pool == NULL || buf == NULL
        || kl_http_referer_hosts_init(&h, pool) != KL_OK)
    {
        abort();
    }

    memcpy(buf, data, size);
    p = buf;
    end = buf + size;
    lookups = 0;

    while (p < end) {
        nl = memchr(p, '\n', end - p);
        len = (nl ? nl : end) - p;

        if (len == 0 && !lookups) {
            lookups = 1;
            kl_http_referer_hosts_sort(&h);

        } else if (!lookups) {
            name.data = p;
            name.len = len;
            rc = kl_http_referer_hosts_add(&h, &name, NULL);

            if (rc == KL_OK && memchr(p, '*', len) == NULL && p[0] != '.') {
                kl_http_referer_hosts_sort(&h);
                e = kl_http_referer_hosts_find(&h, p, len);

                if (e == NULL || e->name.len != len) {
                    abort();
                }
            }

        } else {
            kl_strlow(p, p, len);
            e = kl_http_referer_hosts_find(&h, p, len);

            if (e && e->name.len > len) {
                abort();
            }
        }

        p += len + 1;
    }

    free(buf);
    kl_pool_free(pool);

    return 0;
}
