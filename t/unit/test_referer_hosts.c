/* test_referer_hosts.c: valid_referers names: kinds, conflicts, and the lookup order. */

#include <criterion/criterion.h>

#include <string.h>

#include "kl_core.h"
#include "referer/referer_hosts.h"

static kl_pool_t              *pool;
static kl_http_referer_hosts_t h;


static void
setup(void)
{
    pool = kl_pool_create(4096, NULL);
    cr_assert_not_null(pool);
    cr_assert_eq(kl_http_referer_hosts_init(&h, pool), KL_OK);
}


static void
teardown(void)
{
    kl_pool_free(pool);
}


static kl_int_t
add(const char *name, const char *uri)
{
    kl_str_t n, *u;

    n.len = strlen(name);
    n.data = kl_pnalloc(pool, n.len + 1);
    memcpy(n.data, name, n.len + 1);

    u = NULL;

    if (uri) {
        u = kl_palloc(pool, sizeof(kl_str_t));
        u->data = (u_char *) uri;
        u->len = strlen(uri);
    }

    return kl_http_referer_hosts_add(&h, &n, u);
}


static const char *
find(const char *host)
{
    kl_http_referer_host_t *e;

    e = kl_http_referer_hosts_find(&h, (u_char *) host, strlen(host));
    if (e == NULL) {
        return NULL;
    }

    return e->uri ? (const char *) e->uri->data : "any";
}


Test(referer_hosts, kinds_and_order, .init = setup, .fini = teardown)
{
    cr_assert_eq(add("Exact.Test", NULL), KL_OK);
    cr_assert_eq(add("*.a.test", "/head"), KL_OK);
    cr_assert_eq(add("*.b.a.test", "/longer"), KL_OK);
    cr_assert_eq(add(".dot.test", NULL), KL_OK);
    cr_assert_eq(add("www.a.*", "/tail"), KL_OK);
    cr_assert_eq(add("www.*", "/short"), KL_OK);
    cr_assert_eq(add("x.a.test", "/exact"), KL_OK);
    kl_http_referer_hosts_sort(&h);

    cr_assert_str_eq(find("exact.test"), "any");
    cr_assert_null(find("Exact.Test")); /* the caller lowercases */
    cr_assert_str_eq(find("x.a.test"), "/exact");
    cr_assert_str_eq(find("y.a.test"), "/head");
    cr_assert_str_eq(find("z.b.a.test"), "/longer");
    cr_assert_null(find("a.test"));
    cr_assert_str_eq(find("dot.test"), "any");
    cr_assert_str_eq(find("q.dot.test"), "any");
    cr_assert_null(find("qdot.test"));
    cr_assert_str_eq(find("www.a.org"), "/tail");
    cr_assert_str_eq(find("www.b.org"), "/short");
    cr_assert_str_eq(find("www.a.test"), "/head"); /* leading before trailing */
    cr_assert_null(find("www."));
    cr_assert_null(find(""));
}


Test(referer_hosts, invalid_and_conflicts, .init = setup, .fini = teardown)
{
    cr_assert_eq(add("a*b.com", NULL), KL_DECLINED);
    cr_assert_eq(add("*", NULL), KL_DECLINED);
    cr_assert_eq(add("*.", NULL), KL_DECLINED);
    cr_assert_eq(add(".", NULL), KL_DECLINED);
    cr_assert_eq(add("*.a.*", NULL), KL_DECLINED);
    cr_assert_eq(add("a.b*", NULL), KL_DECLINED);

    cr_assert_eq(add("a.com", NULL), KL_OK);
    cr_assert_eq(add("A.COM", NULL), KL_BUSY);
    cr_assert_eq(add(".a.com", NULL), KL_BUSY); /* a.com is there */
    cr_assert_eq(add("*.b.com", NULL), KL_OK);
    cr_assert_eq(add(".b.com", NULL), KL_BUSY);
    cr_assert_eq(add("c.*", NULL), KL_OK);
    cr_assert_eq(add("C.*", NULL), KL_BUSY);
}


Test(referer_hosts, many_exact, .init = setup, .fini = teardown)
{
    char      name[32];
    kl_uint_t i;

    for (i = 0; i < 2000; i++) {
        snprintf(name, sizeof(name), "host%u.test",
                 (unsigned) (i * 7919 % 2000));
        cr_assert_eq(add(name, NULL), KL_OK);
    }

    kl_http_referer_hosts_sort(&h);

    for (i = 0; i < 2000; i++) {
        snprintf(name, sizeof(name), "host%u.test", (unsigned) i);
        cr_assert_not_null(find(name), "%s", name);
    }

    cr_assert_null(find("host2000.test"));
}
