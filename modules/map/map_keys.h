/* map_keys.h: the keys of a map block: their kinds and the tables that find them. */

/*
 * A map's exact keys, and with "hostnames" its wildcard keys, go into
 * hash tables built while the block is read, so a map of thousands of
 * keys is looked up in constant time (exact) or in one probe per label
 * of the name (wildcards). Keys are lowercase: nginx lowercases every
 * map key and the string looked up, with or without "hostnames".
 */

#ifndef KL_MAP_KEYS_H
#define KL_MAP_KEYS_H

#include "kl_core.h"

/* What kl_http_map_key_parse finds a key to be. */
#define KL_HTTP_MAP_EXACT 0 /* "example.com": that string only */
#define KL_HTTP_MAP_DOT   1 /* ".example.com": it and its subdomains */
#define KL_HTTP_MAP_HEAD  2 /* "*.example.com": its subdomains */
#define KL_HTTP_MAP_TAIL  3 /* "www.example.*": any last labels */

/*
 * The kind of key, as nginx's ngx_hash_add_key reads it: without
 * hostnames every key is exact; with it, one '*' is allowed, as
 * "*.name" or "name.*", and ".name" is a wildcard too. *name is the part
 * a table keeps (the key without "*.", "." or ".*"), a view into key.
 * KL_DECLINED for an invalid wildcard: two '*', a '*' elsewhere, "..",
 * or a NUL byte. Pure.
 */
kl_int_t kl_http_map_key_parse(kl_str_t *key, kl_uint_t hostnames,
                               kl_str_t *name);

/* One key of a table and what it maps to. */
typedef struct {
    kl_str_t  key; /* lowercase */
    void     *value;
    kl_uint_t hash;
    kl_uint_t next; /* 1 + the index of the next entry of the bucket */
} kl_http_map_entry_t;

/* A chained hash table that doubles as keys are added. */
typedef struct {
    kl_pool_t           *pool;
    kl_http_map_entry_t *entries;
    kl_uint_t            nentries;
    kl_uint_t            nalloc;  /* entries and buckets: a power of two */
    kl_uint_t           *buckets; /* 1 + the index of the first entry */
} kl_http_map_table_t;

/* An empty table whose memory comes from pool. */
void kl_http_map_table_init(kl_http_map_table_t *t, kl_pool_t *pool);

/*
 * Add key (lowercase; the table keeps the pointer) with value: KL_OK,
 * KL_BUSY when the key is already there, KL_ERROR if out of memory.
 */
kl_int_t kl_http_map_table_add(kl_http_map_table_t *t, kl_str_t *key,
                               void *value);

/* The value of key (lowercase bytes), or NULL. */
void *kl_http_map_table_find(kl_http_map_table_t *t, u_char *key, size_t len);

/*
 * The value of the longest leading wildcard of head (a table of the
 * names of ".name" and "*.name" keys) that name (lowercase) is a
 * subdomain of, or NULL.
 */
void *kl_http_map_find_head(kl_http_map_table_t *head, u_char *name,
                            size_t len);

/*
 * The value of the longest trailing wildcard of tail (a table of the
 * names of "name.*" keys) that name starts with, followed by a dot, or
 * NULL.
 */
void *kl_http_map_find_tail(kl_http_map_table_t *tail, u_char *name,
                            size_t len);

#endif /* KL_MAP_KEYS_H */
