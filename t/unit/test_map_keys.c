/* test_map_keys.c: modules/map/map_keys.c: map key kinds (nginx's rules) and the key tables. */

#include <criterion/criterion.h>

#include "kl_core.h"
#include "map_keys.h"


typedef struct {
    const char *key;
    kl_uint_t   hostnames;
    kl_int_t    kind;
    const char *name; /* what the table keeps */
} t_key_t;


/* Expected kinds from nginx 1.22's ngx_hash_add_key, checked with nginx -t. */
static const t_key_t t_keys[] = {
    { "example.com", 0, KL_HTTP_MAP_EXACT, "example.com" },
    { "*.example.com", 0, KL_HTTP_MAP_EXACT, "*.example.com" },
    { "a*b", 0, KL_HTTP_MAP_EXACT, "a*b" },
    { "a..b", 0, KL_HTTP_MAP_EXACT, "a..b" },
    { "", 0, KL_HTTP_MAP_EXACT, "" },

    { "example.com", 1, KL_HTTP_MAP_EXACT, "example.com" },
    { ".example.com", 1, KL_HTTP_MAP_DOT, "example.com" },
    { "*.example.com", 1, KL_HTTP_MAP_HEAD, "example.com" },
    { "www.example.*", 1, KL_HTTP_MAP_TAIL, "www.example" },
    { "*.com", 1, KL_HTTP_MAP_HEAD, "com" },
    { "a.*", 1, KL_HTTP_MAP_TAIL, "a" },
    { ".", 1, KL_HTTP_MAP_EXACT, "." },
    { ".a", 1, KL_HTTP_MAP_DOT, "a" },
    { "", 1, KL_HTTP_MAP_EXACT, "" },

    { "*", 1, KL_DECLINED, NULL },
    { "*.", 1, KL_DECLINED, NULL },
    { ".*", 1, KL_HTTP_MAP_DOT, "*" },
    { "*.a.*", 1, KL_DECLINED, NULL },
    { "a*.com", 1, KL_DECLINED, NULL },
    { "www.*.com", 1, KL_DECLINED, NULL },
    { "a..com", 1, KL_DECLINED, NULL },
    { "*..com", 1, KL_DECLINED, NULL },
    { "a.com..", 1, KL_DECLINED, NULL },
};


Test(map_keys, parse)
{
    size_t   i;
    kl_int_t kind;
    kl_str_t key, name;

    for (i = 0; i < sizeof(t_keys) / sizeof(t_keys[0]); i++) {
        key.data = (u_char *) t_keys[i].key;
        key.len = strlen(t_keys[i].key);

        kind = kl_http_map_key_parse(&key, t_keys[i].hostnames, &name);

        cr_assert_eq(kind, t_keys[i].kind, "\"%s\" (hostnames %lu): %ld",
                     t_keys[i].key, (unsigned long) t_keys[i].hostnames,
                     (long) kind);

        if (t_keys[i].name) {
            cr_assert(name.len == strlen(t_keys[i].name)
                          && memcmp(name.data, t_keys[i].name, name.len) == 0,
                      "\"%s\": name \"%.*s\"", t_keys[i].key, (int) name.len,
                      name.data);
        }
    }
}


Test(map_keys, parse_nul_byte)
{
    kl_str_t key, name;

    key.data = (u_char *) "a\0b";
    key.len = 3;

    cr_assert_eq(kl_http_map_key_parse(&key, 1, &name), KL_DECLINED);
    cr_assert_eq(kl_http_map_key_parse(&key, 0, &name), KL_HTTP_MAP_EXACT);
}


static kl_str_t
t_str(kl_pool_t *pool, const char *s)
{
    kl_str_t str;

    str.len = strlen(s);
    str.data = kl_pnalloc(pool, str.len + 1);
    cr_assert_not_null(str.data);
    memcpy(str.data, s, str.len + 1);

    return str;
}


static void *
t_find(kl_http_map_table_t *t, const char *s)
{
    return kl_http_map_table_find(t, (u_char *) s, strlen(s));
}


Test(map_keys, table_many_keys)
{
    int                 i;
    char                buf[32];
    kl_str_t            key;
    kl_pool_t          *pool;
    kl_http_map_table_t t;

    pool = kl_pool_create(4096, NULL);
    cr_assert_not_null(pool);

    kl_http_map_table_init(&t, pool);

    cr_assert_null(t_find(&t, "absent"), "an empty table finds nothing");
    cr_assert_null(t_find(&t, ""), "nor the empty key");

    /* Enough keys to grow the table many times. */
    for (i = 0; i < 5000; i++) {
        snprintf(buf, sizeof(buf), "/k%d", i);
        key = t_str(pool, buf);
        cr_assert_eq(
            kl_http_map_table_add(&t, &key, (void *) (intptr_t) (i + 1)), KL_OK,
            "add %s", buf);
    }

    for (i = 0; i < 5000; i++) {
        snprintf(buf, sizeof(buf), "/k%d", i);
        cr_assert_eq((intptr_t) t_find(&t, buf), i + 1, "find %s", buf);
    }

    cr_assert_null(t_find(&t, "/k5000"));
    cr_assert_null(t_find(&t, "/k"));
    cr_assert_null(t_find(&t, "/k10 "));

    key = t_str(pool, "/k4999");
    cr_assert_eq(kl_http_map_table_add(&t, &key, (void *) 1), KL_BUSY,
                 "a key twice is KL_BUSY");
    cr_assert_eq((intptr_t) t_find(&t, "/k4999"), 5000, "the first stays");

    key = t_str(pool, "");
    cr_assert_eq(kl_http_map_table_add(&t, &key, (void *) 7), KL_OK);
    cr_assert_eq((intptr_t) t_find(&t, ""), 7, "the empty key is a key");

    kl_pool_free(pool);
}


Test(map_keys, wildcards)
{
    kl_pool_t          *pool;
    kl_str_t            key;
    kl_http_map_table_t head, tail;

    pool = kl_pool_create(4096, NULL);
    cr_assert_not_null(pool);

    kl_http_map_table_init(&head, pool);
    kl_http_map_table_init(&tail, pool);

#define T_NAME(s) (u_char *) (s), strlen(s)
#define T_HEAD(s) (intptr_t) kl_http_map_find_head(&head, T_NAME(s))
#define T_TAIL(s) (intptr_t) kl_http_map_find_tail(&tail, T_NAME(s))

    cr_assert_eq(T_HEAD("a.example.com"), 0, "empty head table");
    cr_assert_eq(T_TAIL("www.example.com"), 0, "empty tail table");

    key = t_str(pool, "example.com"); /* "*.example.com" */
    cr_assert_eq(kl_http_map_table_add(&head, &key, (void *) 1), KL_OK);
    key = t_str(pool, "b.example.com"); /* "*.b.example.com" */
    cr_assert_eq(kl_http_map_table_add(&head, &key, (void *) 2), KL_OK);
    key = t_str(pool, "org"); /* "*.org" */
    cr_assert_eq(kl_http_map_table_add(&head, &key, (void *) 3), KL_OK);

    cr_assert_eq(T_HEAD("a.example.com"), 1);
    cr_assert_eq(T_HEAD("x.a.example.com"), 1, "any depth");
    cr_assert_eq(T_HEAD("a.b.example.com"), 2, "the longest wins");
    cr_assert_eq(T_HEAD("b.example.com"), 1);
    cr_assert_eq(T_HEAD("example.com"), 0, "not the name itself");
    cr_assert_eq(T_HEAD("aexample.com"), 0, "labels, not bytes");
    cr_assert_eq(T_HEAD("example.org"), 3);
    cr_assert_eq(T_HEAD("org"), 0);
    cr_assert_eq(T_HEAD(""), 0);

    key = t_str(pool, "www.example"); /* "www.example.*" */
    cr_assert_eq(kl_http_map_table_add(&tail, &key, (void *) 4), KL_OK);
    key = t_str(pool, "www"); /* "www.*" */
    cr_assert_eq(kl_http_map_table_add(&tail, &key, (void *) 5), KL_OK);

    cr_assert_eq(T_TAIL("www.example.com"), 4);
    cr_assert_eq(T_TAIL("www.example.co.uk"), 4, "any depth");
    cr_assert_eq(T_TAIL("www.examples.com"), 5, "labels, not bytes");
    cr_assert_eq(T_TAIL("www.example"), 5, "www.* takes it");
    cr_assert_eq(T_TAIL("www"), 0, "not the name itself");
    cr_assert_eq(T_TAIL("wwww.example.com"), 0);
    cr_assert_eq(T_TAIL(""), 0);

    kl_pool_free(pool);
}
