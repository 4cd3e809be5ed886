/* fuzz_map_keys.c: libFuzzer target for modules/map/map_keys.c (map keys and their tables). */

/*
 * The input is lines: the first is a name to look up, the others are
 * keys of a "hostnames" map, added as map.c adds them (lowercased; a
 * ".name" key into the exact and the leading tables). Each key's kind
 * must equal a reference written from nginx's ngx_hash_add_key rules,
 * and the value found for the name must equal a slow reference: an
 * exact key, else the longest leading wildcard whose name ends the
 * looked-up name after a dot, else the longest trailing wildcard whose
 * name starts it before a dot. A key added twice to a table is KL_BUSY.
 */

#include "kl_core.h"
#include "map_keys.h"

#include <ctype.h>


#define FUZZ_MAX_KEYS 64

typedef struct {
    kl_int_t  kind;
    kl_str_t  name;
    uintptr_t value;
} fuzz_key_t;


static kl_int_t
fuzz_kind(const u_char *p, size_t len, kl_str_t *name)
{
    size_t i, stars;

    stars = 0;

    for (i = 0; i < len; i++) {
        stars += p[i] == '*';

        if (p[i] == '\0' || (i + 1 < len && p[i] == '.' && p[i + 1] == '.')) {
            return KL_DECLINED;
        }
    }

    if (stars > 1) {
        return KL_DECLINED;
    }

    name->data = (u_char *) p;
    name->len = len;

    if (len > 1 && p[0] == '.') {
        name->data++;
        name->len--;
        return KL_HTTP_MAP_DOT;
    }

    if (len > 2 && p[0] == '*' && p[1] == '.') {
        name->data += 2;
        name->len -= 2;
        return KL_HTTP_MAP_HEAD;
    }

    if (len > 2 && p[len - 2] == '.' && p[len - 1] == '*') {
        name->len -= 2;
        return KL_HTTP_MAP_TAIL;
    }

    return stars ? KL_DECLINED : KL_HTTP_MAP_EXACT;
}


static int
fuzz_eq(kl_str_t *a, const u_char *b, size_t len)
{
    return a->len == len && memcmp(a->data, b, len) == 0;
}


/* The first key of kind (DOT counts as EXACT too) whose name is s. */
static fuzz_key_t *
fuzz_find(fuzz_key_t *keys, size_t n, kl_int_t kind, const u_char *s,
          size_t len)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if ((keys[i].kind == kind
             || (keys[i].kind == KL_HTTP_MAP_DOT
                 && (kind == KL_HTTP_MAP_EXACT || kind == KL_HTTP_MAP_HEAD)))
            && fuzz_eq(&keys[i].name, s, len))
        {
            return &keys[i];
        }
    }

    return NULL;
}


static uintptr_t
fuzz_reference(fuzz_key_t *keys, size_t n, const u_char *s, size_t len)
{
    size_t      i, best;
    fuzz_key_t *k, *found;

    k = fuzz_find(keys, n, KL_HTTP_MAP_EXACT, s, len);
    if (k) {
        return k->value;
    }

    found = NULL;
    best = 0;

    for (i = 0; i < n; i++) {
        k = &keys[i];

        if ((k->kind == KL_HTTP_MAP_HEAD || k->kind == KL_HTTP_MAP_DOT)
            && k->name.len < len && s[len - k->name.len - 1] == '.'
            && memcmp(s + len - k->name.len, k->name.data, k->name.len) == 0
            && (found == NULL || k->name.len > best))
        {
            found = k;
            best = k->name.len;
        }
    }

    if (found) {
        return found->value;
    }

    for (i = 0; i < n; i++) {
        k = &keys[i];

        if (k->kind == KL_HTTP_MAP_TAIL && k->name.len < len
            && s[k->name.len] == '.'
            && memcmp(s, k->name.data, k->name.len) == 0
            && (found == NULL || k->name.len > best))
        {
            found = k;
            best = k->name.len;
        }
    }

    return found ? found->value : 0;
}


/*
 * Add one key as map.c does; the reference keeps it if the tables did.
 * 1 on a conflict, which fails the configuration: no more keys then.
 */
static int
fuzz_add(kl_http_map_table_t *t, fuzz_key_t *keys, size_t *n, u_char *p,
         size_t len)
{
    kl_int_t    kind, rc, expect;
    kl_str_t    key, name, ref;
    uintptr_t   value;
    fuzz_key_t *dup;

    key.data = p;
    key.len = len;

    kind = kl_http_map_key_parse(&key, 1, &name);

    if (kind != fuzz_kind(p, len, &ref)) {
        abort();
    }

    if (kind == KL_DECLINED) {
        return 0;
    }

    if (name.data != ref.data || name.len != ref.len) {
        abort();
    }

    value = *n + 1;

    dup =
        fuzz_find(keys, *n, kind == KL_HTTP_MAP_DOT ? KL_HTTP_MAP_EXACT : kind,
                  name.data, name.len);
    if (dup == NULL && kind == KL_HTTP_MAP_DOT) {
        dup = fuzz_find(keys, *n, KL_HTTP_MAP_HEAD, name.data, name.len);
    }

    expect = dup ? KL_BUSY : KL_OK;

    switch (kind) {
    case KL_HTTP_MAP_EXACT:
        rc = kl_http_map_table_add(&t[0], &name, (void *) value);
        break;
    case KL_HTTP_MAP_DOT:
        rc = kl_http_map_table_add(&t[0], &name, (void *) value);
        if (rc == KL_OK) {
            rc = kl_http_map_table_add(&t[1], &name, (void *) value);
        }
        break;
    case KL_HTTP_MAP_HEAD:
        rc = kl_http_map_table_add(&t[1], &name, (void *) value);
        break;
    default:
        rc = kl_http_map_table_add(&t[2], &name, (void *) value);
        break;
    }

    if (rc != expect) {
        abort();
    }

    if (rc == KL_BUSY) {
        return 1;
    }

    keys[*n].kind = kind;
    keys[*n].name = name;
    keys[*n].value = value;
    (*n)++;

    return 0;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char             *copy, *p, *end, *nl, *look;
    int                 conflict;
    size_t              n, look_len;
    uintptr_t           got;
    kl_log_t            log;
    kl_pool_t          *pool;
    fuzz_key_t          keys[FUZZ_MAX_KEYS];
    kl_http_map_table_t t[3];

    memset(&log, 0, sizeof(log));

    pool = kl_pool_create(1024, &log);
    copy = malloc(size ? size : 1);

    if (pool == NULL || copy == NULL) {
        abort();
    }

    /* exact size, so that AddressSanitizer sees a read past the end */
    for (n = 0; n < size; n++) {
        copy[n] = (u_char) tolower(data[n]);
    }

    kl_http_map_table_init(&t[0], pool);
    kl_http_map_table_init(&t[1], pool);
    kl_http_map_table_init(&t[2], pool);

    end = copy + size;
    nl = memchr(copy, '\n', size);
    look = copy;
    look_len = nl ? (size_t) (nl - copy) : size;
    p = nl ? nl + 1 : end;
    n = 0;

    conflict = 0;

    while (!conflict && p < end && n < FUZZ_MAX_KEYS) {
        nl = memchr(p, '\n', end - p);
        conflict = fuzz_add(t, keys, &n, p,
                            nl ? (size_t) (nl - p) : (size_t) (end - p));
        p = nl ? nl + 1 : end;
    }

    if (conflict) {
        goto done;
    }

    got = (uintptr_t) kl_http_map_table_find(&t[0], look, look_len);

    if (got == 0) {
        got = (uintptr_t) kl_http_map_find_head(&t[1], look, look_len);
    }

    if (got == 0) {
        got = (uintptr_t) kl_http_map_find_tail(&t[2], look, look_len);
    }

    if (got != fuzz_reference(keys, n, look, look_len)) {
        abort();
    }

done:

    free(copy);
    kl_pool_free(pool);

    return 0;
}
