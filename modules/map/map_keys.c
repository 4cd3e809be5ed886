/* map_keys.c: the keys of a map block: their kinds and the tables that find them. */

/*
 * Wildcards are found by probing the exact-key table of their names
 * once per dot of the name looked up: the leftmost dot first for
 * leading wildcards (the longest suffix, hence the most specific
 * wildcard), the rightmost first for trailing ones. That gives nginx's
 * precedence without its per-label tree of hashes.
 */

#include "map_keys.h"


#define KL_HTTP_MAP_TABLE_MIN 16


kl_int_t
kl_http_map_key_parse(kl_str_t *key, kl_uint_t hostnames, kl_str_t *name)
{
    size_t    i, len;
    kl_uint_t stars;
    u_char   *p;

    *name = *key;

    if (!hostnames) {
        return KL_HTTP_MAP_EXACT;
    }

    p = key->data;
    len = key->len;
    stars = 0;

    for (i = 0; i < len; i++) {
        if (p[i] == '*' && ++stars > 1) {
            return KL_DECLINED;
        }

        if ((p[i] == '.' && i + 1 < len && p[i + 1] == '.') || p[i] == '\0') {
            return KL_DECLINED;
        }
    }

    if (len > 1 && p[0] == '.') {
        name->data = p + 1;
        name->len = len - 1;
        return KL_HTTP_MAP_DOT;
    }

    if (len > 2 && p[0] == '*' && p[1] == '.') {
        name->data = p + 2;
        name->len = len - 2;
        return KL_HTTP_MAP_HEAD;
    }

    if (len > 2 && p[len - 2] == '.' && p[len - 1] == '*') {
        name->len = len - 2;
        return KL_HTTP_MAP_TAIL;
    }

    return stars ? KL_DECLINED : KL_HTTP_MAP_EXACT;
}


static kl_uint_t
kl_http_map_hash(u_char *key, size_t len)
{
    size_t    i;
    kl_uint_t h;

    /* FNV-1a: every byte changes the low bits that pick the bucket. */
    h = 2166136261u;

    for (i = 0; i < len; i++) {
        h = (h ^ key[i]) * 16777619u;
    }

    return h;
}


void
kl_http_map_table_init(kl_http_map_table_t *t, kl_pool_t *pool)
{
    kl_memzero(t, sizeof(kl_http_map_table_t));
    t->pool = pool;
}


/* Twice the room, and the buckets rebuilt for it. */
static kl_int_t
kl_http_map_table_grow(kl_http_map_table_t *t)
{
    kl_uint_t            i, n, b;
    kl_http_map_entry_t *entries;

    n = t->nalloc ? 2 * t->nalloc : KL_HTTP_MAP_TABLE_MIN;

    entries = kl_palloc(t->pool, n * sizeof(kl_http_map_entry_t));
    if (entries == NULL) {
        return KL_ERROR;
    }

    t->buckets = kl_pcalloc(t->pool, n * sizeof(kl_uint_t));
    if (t->buckets == NULL) {
        return KL_ERROR;
    }

    if (t->nentries) {
        kl_memcpy(entries, t->entries,
                  t->nentries * sizeof(kl_http_map_entry_t));
    }

    t->entries = entries;
    t->nalloc = n;

    for (i = 0; i < t->nentries; i++) {
        b = entries[i].hash & (n - 1);
        entries[i].next = t->buckets[b];
        t->buckets[b] = i + 1;
    }

    return KL_OK;
}


static kl_http_map_entry_t *
kl_http_map_table_lookup(kl_http_map_table_t *t, u_char *key, size_t len,
                         kl_uint_t hash)
{
    kl_uint_t            i;
    kl_http_map_entry_t *e;

    if (t->nalloc == 0) {
        return NULL;
    }

    for (i = t->buckets[hash & (t->nalloc - 1)]; i; i = e->next) {
        e = &t->entries[i - 1];

        if (e->hash == hash && e->key.len == len
            && memcmp(e->key.data, key, len) == 0) {
            return e;
        }
    }

    return NULL;
}


kl_int_t
kl_http_map_table_add(kl_http_map_table_t *t, kl_str_t *key, void *value)
{
    kl_uint_t            hash, b;
    kl_http_map_entry_t *e;

    hash = kl_http_map_hash(key->data, key->len);

    if (kl_http_map_table_lookup(t, key->data, key->len, hash)) {
        return KL_BUSY;
    }

    if (t->nentries == t->nalloc && kl_http_map_table_grow(t) != KL_OK) {
        return KL_ERROR;
    }

    e = &t->entries[t->nentries];
    e->key = *key;
    e->value = value;
    e->hash = hash;

    b = hash & (t->nalloc - 1);
    e->next = t->buckets[b];
    t->buckets[b] = ++t->nentries;

    return KL_OK;
}


void *
kl_http_map_table_find(kl_http_map_table_t *t, u_char *key, size_t len)
{
    kl_http_map_entry_t *e;

    e = kl_http_map_table_lookup(t, key, len, kl_http_map_hash(key, len));

    return e ? e->value : NULL;
}


void *
kl_http_map_find_head(kl_http_map_table_t *head, u_char *name, size_t len)
{
    size_t i;
    void  *value;

    if (head->nentries == 0) {
        return NULL;
    }

    for (i = 0; i < len; i++) {
        if (name[i] != '.') {
            continue;
        }

        value = kl_http_map_table_find(head, name + i + 1, len - i - 1);

        if (value) {
            return value;
        }
    }

    return NULL;
}


void *
kl_http_map_find_tail(kl_http_map_table_t *tail, u_char *name, size_t len)
{
    size_t i;
    void  *value;

    if (tail->nentries == 0) {
        return NULL;
    }

    for (i = len; i > 0; i--) {
        if (name[i - 1] != '.') {
            continue;
        }

        value = kl_http_map_table_find(tail, name, i - 1);

        if (value) {
            return value;
        }
    }

    return NULL;
}
