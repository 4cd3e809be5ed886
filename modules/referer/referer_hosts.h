/* referer_hosts.h: the host names of valid_referers, exact and wildcard, and their lookup. */

#ifndef KL_HTTP_REFERER_HOSTS_H
#define KL_HTTP_REFERER_HOSTS_H

#include "kl_core.h"

/* A host name of valid_referers, and the URI prefix it requires. */
typedef struct {
    kl_str_t  name; /* exact: the name; head: ".suffix"; tail: "prefix." */
    kl_str_t *uri;  /* NULL: any URI */
} kl_http_referer_host_t;

/* The names of one location: exact ones sorted, then the wildcards. */
typedef struct {
    kl_array_t exact; /* kl_http_referer_host_t */
    kl_array_t head;  /* "*.x" and ".x", kept as ".x" */
    kl_array_t tail;  /* "x.*", kept as "x." */
} kl_http_referer_hosts_t;

/* Empty lists in pool; KL_OK or KL_ERROR. */
kl_int_t kl_http_referer_hosts_init(kl_http_referer_hosts_t *h,
                                    kl_pool_t               *pool);

/*
 * Add name (lowercased here, in place) with uri (NULL or empty: any), as
 * nginx's wildcard hash keys: "name", "*.name" (subdomains), ".name"
 * (the name and its subdomains), "name.*". KL_OK; KL_DECLINED for any
 * other '*' ("invalid hostname or wildcard"); KL_BUSY when the name is
 * there already ("conflicting parameter"); KL_ERROR without memory.
 */
kl_int_t kl_http_referer_hosts_add(kl_http_referer_hosts_t *h, kl_str_t *name,
                                   kl_str_t *uri);

/* Sort the exact names for lookup, once all are added. */
void kl_http_referer_hosts_sort(kl_http_referer_hosts_t *h);

/*
 * The entry for host (len lowercase bytes): the exact name, else the
 * longest matching ".suffix", else the longest "prefix."; NULL if none.
 * Pure.
 */
kl_http_referer_host_t *kl_http_referer_hosts_find(kl_http_referer_hosts_t *h,
                                                   u_char *host, size_t len);

/* Whether a location has any name at all. */
#define kl_http_referer_hosts_empty(h)                                         \
    ((h)->exact.nelts == 0 && (h)->head.nelts == 0 && (h)->tail.nelts == 0)

#endif /* KL_HTTP_REFERER_HOSTS_H */
