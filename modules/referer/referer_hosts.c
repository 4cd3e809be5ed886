/* referer_hosts.c: exact and wildcard host names, as nginx's combined hash finds them. */

#include "referer_hosts.h"

#include <stdlib.h>


kl_int_t
kl_http_referer_hosts_init(kl_http_referer_hosts_t *h, kl_pool_t *pool)
{
    if (kl_array_init(&h->exact, pool, 4, sizeof(kl_http_referer_host_t))
            != KL_OK
        || kl_array_init(&h->head, pool, 2, sizeof(kl_http_referer_host_t))
               != KL_OK
        || kl_array_init(&h->tail, pool, 2, sizeof(kl_http_referer_host_t))
               != KL_OK)
    {
        return KL_ERROR;
    }

    return KL_OK;
}


static kl_int_t
kl_http_referer_hosts_push(kl_array_t *a, u_char *name, size_t len,
                           kl_str_t *uri)
{
    kl_uint_t               i;
    kl_http_referer_host_t *e;

    e = a->elts;

    for (i = 0; i < a->nelts; i++) {
        if (e[i].name.len == len && memcmp(e[i].name.data, name, len) == 0) {
            return KL_BUSY;
        }
    }

    e = kl_array_push(a);
    if (e == NULL) {
        return KL_ERROR;
    }

    e->name.data = name;
    e->name.len = len;
    e->uri = (uri && uri->len) ? uri : NULL;

    return KL_OK;
}


kl_int_t
kl_http_referer_hosts_add(kl_http_referer_hosts_t *h, kl_str_t *name,
                          kl_str_t *uri)
{
    u_char  *p, *star;
    size_t   len;
    kl_int_t rc;

    p = name->data;
    len = name->len;

    kl_strlow(p, p, len);

    star = memchr(p, '*', len);

    if (len > 2 && p[0] == '*' && p[1] == '.' && star == p
        && memchr(p + 1, '*', len - 1) == NULL)
    {
        return kl_http_referer_hosts_push(&h->head, p + 1, len - 1, uri);
    }

    if (len > 2 && p[len - 1] == '*' && p[len - 2] == '.' && star == p + len - 1
        && p[0] != '.')
    {
        return kl_http_referer_hosts_push(&h->tail, p, len - 1, uri);
    }

    if (star != NULL || len == 0 || (len == 1 && p[0] == '.')) {
        return KL_DECLINED;
    }

    if (p[0] == '.') {
        /* ".name" is the name itself too */
        rc = kl_http_referer_hosts_push(&h->exact, p + 1, len - 1, uri);
        if (rc != KL_OK) {
            return rc;
        }

        return kl_http_referer_hosts_push(&h->head, p, len, uri);
    }

    return kl_http_referer_hosts_push(&h->exact, p, len, uri);
}


static int
kl_http_referer_hosts_cmp(const void *one, const void *two)
{
    const kl_http_referer_host_t *a = one, *b = two;

    if (a->name.len != b->name.len) {
        return a->name.len < b->name.len ? -1 : 1;
    }

    return memcmp(a->name.data, b->name.data, a->name.len);
}


void
kl_http_referer_hosts_sort(kl_http_referer_hosts_t *h)
{
    if (h->exact.nelts > 1) {
        qsort(h->exact.elts, h->exact.nelts, sizeof(kl_http_referer_host_t),
              kl_http_referer_hosts_cmp);
    }
}


kl_http_referer_host_t *
kl_http_referer_hosts_find(kl_http_referer_hosts_t *h, u_char *host, size_t len)
{
    kl_uint_t              i;
    kl_http_referer_host_t key, *e, *best;

    key.name.data = host;
    key.name.len = len;

    e = h->exact.nelts
            ? bsearch(&key, h->exact.elts, h->exact.nelts,
                      sizeof(kl_http_referer_host_t), kl_http_referer_hosts_cmp)
            : NULL;
    if (e) {
        return e;
    }

    best = NULL;
    e = h->head.elts;

    /* ".example.com" matches "a.example.com", not "aexample.com" */
    for (i = 0; i < h->head.nelts; i++) {
        if (e[i].name.len < len
            && memcmp(host + len - e[i].name.len, e[i].name.data, e[i].name.len)
                   == 0
            && (best == NULL || e[i].name.len > best->name.len))
        {
            best = &e[i];
        }
    }

    if (best) {
        return best;
    }

    e = h->tail.elts;

    for (i = 0; i < h->tail.nelts; i++) {
        if (e[i].name.len < len
            && memcmp(host, e[i].name.data, e[i].name.len) == 0
            && (best == NULL || e[i].name.len > best->name.len))
        {
            best = &e[i];
        }
    }

    return best;
}
