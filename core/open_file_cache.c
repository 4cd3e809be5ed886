/*
 * open_file_cache.c: open fds and stat results kept per worker, found by
 * path (rbtree on a hash of the name), aged by an LRU queue, checked
 * again after `valid`, and reference counted so an fd in use by a request
 * outlives its entry.
 */

#include "kl_core.h"
#include "open_file_cache.h"


typedef struct kl_open_file_entry_s kl_open_file_entry_t;

struct kl_open_file_entry_s {
    kl_rbtree_node_t node; /* first: the tree hands back this pointer */
    kl_queue_t       queue;
    u_char          *name; /* NUL-terminated, allocated with the entry */
    size_t           len;
    time_t           created; /* when last opened or checked */
    time_t           accessed;
    kl_uint_t        uses;
    kl_uint_t        count; /* requests holding fd */
    int              fd;
    kl_err_t         err;
    const char      *failed;
    off_t            size;
    time_t           mtime;
    ino_t            inode;
    u_char          *data;                  /* the contents, for small files */
    kl_uint_t        disable_symlinks;      /* what the lookup that opened it */
    size_t           disable_symlinks_from; /* asked: others reopen */
    unsigned         is_dir:1;
    unsigned         is_file:1;
    unsigned         close:1; /* out of the cache: close at last release */
};

struct kl_open_file_cache_s {
    kl_rbtree_t      rbtree;
    kl_rbtree_node_t sentinel;
    kl_queue_t       expire_queue; /* most recently used first */
    kl_uint_t        current;
    kl_uint_t        max;
    time_t           inactive;
};

typedef struct {
    kl_open_file_entry_t *entry;
} kl_open_file_release_t;


static void     kl_open_file_cache_cleanup(void *data);
static void     kl_open_file_release(void *data);
static kl_int_t kl_open_file_plain(u_char *name, kl_open_file_info_t *of);
static void     kl_open_file_remove(kl_open_file_cache_t *cache,
                                    kl_open_file_entry_t *e);
static void     kl_open_file_expire(kl_open_file_cache_t *cache, time_t now,
                                    kl_uint_t n);
static kl_open_file_entry_t *kl_open_file_lookup(kl_open_file_cache_t *cache,
                                                 kl_str_t             *name,
                                                 kl_uint_t             hash);
static void                  kl_open_file_rbtree_insert(kl_rbtree_node_t *temp,
                                                        kl_rbtree_node_t *node,
                                                        kl_rbtree_node_t *s);


static kl_uint_t
kl_open_file_hash(u_char *p, size_t len)
{
    uint32_t h;

    /* FNV-1a: paths are short, and the tree breaks ties by name. */
    h = 2166136261u;

    while (len--) {
        h ^= *p++;
        h *= 16777619u;
    }

    return h;
}


static kl_int_t
kl_open_file_cmp(u_char *a, u_char *b, size_t alen, size_t blen)
{
    int rc;

    rc = memcmp(a, b, alen < blen ? alen : blen);

    if (rc != 0) {
        return rc;
    }

    return (alen > blen) - (alen < blen);
}


kl_open_file_cache_t *
kl_open_file_cache_create(kl_pool_t *pool, kl_uint_t max, time_t inactive)
{
    kl_pool_cleanup_t    *cln;
    kl_open_file_cache_t *cache;

    cache = kl_pcalloc(pool, sizeof(kl_open_file_cache_t));
    if (cache == NULL) {
        return NULL;
    }

    kl_rbtree_init(&cache->rbtree, &cache->sentinel,
                   kl_open_file_rbtree_insert);
    kl_queue_init(&cache->expire_queue);

    cache->max = max;
    cache->inactive = inactive;

    cln = kl_pool_cleanup_add(pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    cln->handler = kl_open_file_cache_cleanup;
    cln->data = cache;

    return cache;
}


kl_uint_t
kl_open_file_cache_size(kl_open_file_cache_t *cache)
{
    return cache->current;
}


static void
kl_open_file_cache_cleanup(void *data)
{
    kl_queue_t           *q;
    kl_open_file_cache_t *cache;
    kl_open_file_entry_t *e;

    cache = data;

    while (!kl_queue_empty(&cache->expire_queue)) {
        q = kl_queue_last(&cache->expire_queue);
        e = kl_queue_data(q, kl_open_file_entry_t, queue);
        kl_open_file_remove(cache, e);
    }
}


static void
kl_open_file_free(kl_open_file_entry_t *e)
{
    if (e->fd != -1) {
        close(e->fd);
    }

    if (e->data) {
        kl_free(e->data);
    }

    kl_free(e);
}


/* Out of the tree and queue; the fd waits for its last user. */
static void
kl_open_file_remove(kl_open_file_cache_t *cache, kl_open_file_entry_t *e)
{
    kl_queue_remove(&e->queue);
    kl_rbtree_delete(&cache->rbtree, &e->node);
    cache->current--;

    if (e->count) {
        e->close = 1;
        return;
    }

    kl_open_file_free(e);
}


static void
kl_open_file_release(void *data)
{
    kl_open_file_release_t *rel;
    kl_open_file_entry_t   *e;

    rel = data;
    e = rel->entry;

    if (--e->count || !e->close) {
        return;
    }

    kl_open_file_free(e);
}


/* Drop up to n entries unused for longer than inactive (oldest first). */
static void
kl_open_file_expire(kl_open_file_cache_t *cache, time_t now, kl_uint_t n)
{
    kl_queue_t           *q;
    kl_open_file_entry_t *e;

    while (n-- && !kl_queue_empty(&cache->expire_queue)) {
        q = kl_queue_last(&cache->expire_queue);
        e = kl_queue_data(q, kl_open_file_entry_t, queue);

        if (now - e->accessed <= cache->inactive) {
            return;
        }

        kl_open_file_remove(cache, e);
    }
}


/* openat() name in at, refusing a link owned apart from its target. */
static int
kl_openat_owner(int at, char *name, int flags)
{
    int         fd;
    kl_err_t    err;
    struct stat fi, atfi;

    fd = openat(at, name, flags);

    if (fd == -1) {
        return -1;
    }

    if (fstatat(at, name, &atfi, AT_SYMLINK_NOFOLLOW) == -1
        || fstat(fd, &fi) == -1) {
        err = errno;
        goto failed;
    }

    if (fi.st_uid != atfi.st_uid) {
        err = ELOOP;
        goto failed;
    }

    return fd;

failed:

    close(fd);
    errno = err;

    return -1;
}


/*
 * As nginx: each component past disable_symlinks_from is opened with
 * openat() relative to the one before, with O_NOFOLLOW (on) or an owner
 * check (if_not_owner), so no link anywhere in the path is followed.
 */
static int
kl_open_file_nofollow(u_char *name, kl_open_file_info_t *of)
{
    int      fd, at, flags, dflags;
    u_char  *p, *cp, *end;
    kl_err_t err;

    flags = O_RDONLY | O_NONBLOCK | O_CLOEXEC;
    dflags = O_PATH | O_DIRECTORY | O_CLOEXEC;
    p = name;
    end = name + strlen((char *) name);
    at = AT_FDCWD;

    if (of->disable_symlinks_from) {
        cp = p + of->disable_symlinks_from;
        *cp = '\0';
        at = open((char *) p, dflags);
        *cp = '/';

        if (at == -1) {
            return -1;
        }

        p = cp + 1;

    } else if (*p == '/') {
        at = open("/", dflags);

        if (at == -1) {
            return -1;
        }

        p++;
    }

    for (;;) {
        cp = (u_char *) strchr((char *) p, '/');

        if (cp == NULL) {
            break;
        }

        if (cp == p) {
            p++;
            continue;
        }

        *cp = '\0';

        if (of->disable_symlinks == KL_DISABLE_SYMLINKS_NOTOWNER) {
            fd = kl_openat_owner(at, (char *) p, dflags);

        } else {
            fd = openat(at, (char *) p, dflags | O_NOFOLLOW);
        }

        err = errno;
        *cp = '/';

        if (fd == -1) {
            goto failed;
        }

        if (at != AT_FDCWD) {
            close(at);
        }

        at = fd;
        p = cp + 1;
    }

    if (p == end) {
        /* A trailing slash: the last component is a directory. */
        fd = openat(at, ".", flags);

    } else if (of->disable_symlinks == KL_DISABLE_SYMLINKS_NOTOWNER) {
        fd = kl_openat_owner(at, (char *) p, flags);

    } else {
        fd = openat(at, (char *) p, flags | O_NOFOLLOW);
    }

    err = errno;

failed:

    if (at != AT_FDCWD) {
        close(at);
    }

    errno = err;

    return fd;
}


static kl_int_t
kl_open_file_plain(u_char *name, kl_open_file_info_t *of)
{
    int         fd;
    struct stat st;

    if (of->disable_symlinks) {
        fd = kl_open_file_nofollow(name, of);

    } else {
        fd = open((char *) name, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    }

    if (fd == -1) {
        of->err = errno;
        of->failed = "open()";
        return KL_ERROR;
    }

    if (fstat(fd, &st) == -1) {
        of->err = errno;
        of->failed = "fstat()";
        close(fd);
        return KL_ERROR;
    }

    of->size = st.st_size;
    of->mtime = st.st_mtime;
    of->inode = st.st_ino;
    of->is_dir = S_ISDIR(st.st_mode) ? 1 : 0;
    of->is_file = S_ISREG(st.st_mode) ? 1 : 0;

    if (!of->is_file) {
        /* Only regular files are sent: others need no fd kept. */
        close(fd);
        fd = -1;
    }

    of->fd = fd;

    return KL_OK;
}


static kl_int_t
kl_open_file_own(kl_pool_t *pool, int fd, u_char *name)
{
    kl_pool_cleanup_t      *cln;
    kl_pool_cleanup_file_t *clnf;

    cln = kl_pool_cleanup_add(pool, sizeof(kl_pool_cleanup_file_t));
    if (cln == NULL) {
        close(fd);
        return KL_ERROR;
    }

    clnf = cln->data;
    clnf->fd = fd;
    clnf->name = name;
    clnf->log = pool->log;
    cln->handler = kl_pool_cleanup_file;

    return KL_OK;
}


static kl_int_t
kl_open_file_hold(kl_pool_t *pool, kl_open_file_entry_t *e)
{
    kl_pool_cleanup_t      *cln;
    kl_open_file_release_t *rel;

    cln = kl_pool_cleanup_add(pool, sizeof(kl_open_file_release_t));
    if (cln == NULL) {
        return KL_ERROR;
    }

    rel = cln->data;
    rel->entry = e;
    cln->handler = kl_open_file_release;
    e->count++;

    return KL_OK;
}


static void
kl_open_file_to_info(kl_open_file_entry_t *e, kl_open_file_info_t *of)
{
    of->fd = e->fd;
    of->err = e->err;
    of->failed = e->failed;
    of->size = e->size;
    of->mtime = e->mtime;
    of->inode = e->inode;
    of->data = e->data;
    of->is_dir = e->is_dir;
    of->is_file = e->is_file;
}


static void
kl_open_file_from_info(kl_open_file_entry_t *e, kl_open_file_info_t *of)
{
    e->fd = of->fd;
    e->err = of->err;
    e->failed = of->failed;
    e->size = of->size;
    e->mtime = of->mtime;
    e->inode = of->inode;
    e->is_dir = of->is_dir;
    e->is_file = of->is_file;
    e->disable_symlinks = of->disable_symlinks;
    e->disable_symlinks_from = of->disable_symlinks_from;
}


/* A regular file met fewer than min_uses times: no fd kept yet. */
static kl_uint_t
kl_open_file_counting(kl_open_file_entry_t *e)
{
    return e->fd == -1 && e->err == 0 && !e->is_dir && e->is_file;
}


/* The entry still names the file on disk: same inode, size and mtime. */
static kl_uint_t
kl_open_file_same(kl_open_file_entry_t *e, kl_open_file_info_t *of)
{
    return e->err == 0 && of->inode == e->inode && of->size == e->size
           && of->mtime == e->mtime && of->is_dir == e->is_dir
           && of->disable_symlinks == e->disable_symlinks
           && of->disable_symlinks_from == e->disable_symlinks_from;
}


/* Small files are read once: later requests send them from memory. */
static void
kl_open_file_read_small(kl_open_file_entry_t *e, kl_open_file_info_t *of,
                        kl_pool_t *pool)
{
    ssize_t n;

    if (e->data || e->size == 0 || e->size > (off_t) of->read_small) {
        return;
    }

    e->data = kl_alloc((size_t) e->size, pool->log);
    if (e->data == NULL) {
        return;
    }

    n = pread(e->fd, e->data, (size_t) e->size, 0);

    if (n != (ssize_t) e->size) {
        /* Short or failed: the fd path reports it when sending. */
        kl_free(e->data);
        e->data = NULL;
    }
}


static kl_int_t
kl_open_file_share(kl_open_file_entry_t *e, kl_open_file_info_t *of,
                   kl_pool_t *pool)
{
    if (e->fd != -1) {
        kl_open_file_read_small(e, of, pool);
    }

    kl_open_file_to_info(e, of);

    if (e->fd == -1) {
        return KL_OK;
    }

    if (kl_open_file_hold(pool, e) != KL_OK) {
        of->fd = -1;
        of->err = ENOMEM;
        of->failed = "malloc()";
        return KL_ERROR;
    }

    of->cached = 1;

    return KL_OK;
}


/* A fresh open's fd: the request's own, closed with its pool. */
static kl_int_t
kl_open_file_private(kl_open_file_info_t *of, u_char *name, kl_pool_t *pool)
{
    if (of->fd == -1 || kl_open_file_own(pool, of->fd, name) == KL_OK) {
        return KL_OK;
    }

    of->fd = -1;
    of->err = ENOMEM;
    of->failed = "malloc()";

    return KL_ERROR;
}


kl_int_t
kl_open_cached_file(kl_open_file_cache_t *cache, kl_str_t *name,
                    kl_open_file_info_t *of, kl_pool_t *pool, time_t now)
{
    kl_int_t              rc;
    kl_uint_t             hash;
    kl_open_file_entry_t *e;

    of->fd = -1;
    of->err = 0;
    of->failed = NULL;
    of->data = NULL;
    of->cached = 0;

    if (cache == NULL) {
        rc = kl_open_file_plain(name->data, of);

        if (rc != KL_OK) {
            return rc;
        }

        return kl_open_file_private(of, name->data, pool);
    }

    kl_open_file_expire(cache, now, 2);

    hash = kl_open_file_hash(name->data, name->len);
    e = kl_open_file_lookup(cache, name, hash);

    if (e) {
        e->accessed = now;
        e->uses++;
        kl_queue_remove(&e->queue);
        kl_queue_insert_head(&cache->expire_queue, &e->queue);

        if (e->disable_symlinks != of->disable_symlinks
            || e->disable_symlinks_from != of->disable_symlinks_from)
        {
            /* Opened under other rules (another location): open again. */
            e->created = now - of->valid;
        }

        if (now - e->created < of->valid) {
            if (e->err) {
                kl_open_file_to_info(e, of);
                return KL_ERROR;
            }

            if (e->fd != -1 || !kl_open_file_counting(e)) {
                return kl_open_file_share(e, of, pool);
            }
        }

        rc = kl_open_file_plain(name->data, of);

        if (rc == KL_OK && kl_open_file_same(e, of)) {
            e->created = now;

            if (e->fd != -1) {
                /* Unchanged on disk: the cached fd serves on. */
                if (of->fd != -1) {
                    close(of->fd);
                }

                return kl_open_file_share(e, of, pool);
            }

            if (of->fd != -1 && e->uses >= of->min_uses) {
                /* Used often enough now: the cache keeps this fd. */
                e->fd = of->fd;
                return kl_open_file_share(e, of, pool);
            }

            return kl_open_file_private(of, name->data, pool);
        }

        /* Changed, gone or failing: forget it and start over. */
        kl_open_file_remove(cache, e);

    } else {
        rc = kl_open_file_plain(name->data, of);
    }

    if (rc != KL_OK && !of->errors) {
        return rc;
    }

    if (cache->current >= cache->max && cache->current) {
        kl_open_file_remove(cache,
                            kl_queue_data(kl_queue_last(&cache->expire_queue),
                                          kl_open_file_entry_t, queue));
    }

    e = kl_alloc(sizeof(kl_open_file_entry_t) + name->len + 1, pool->log);

    if (e == NULL) {
        /* No room to remember it: serve the file uncached. */
        return rc == KL_OK ? kl_open_file_private(of, name->data, pool) : rc;
    }

    e->name = (u_char *) (e + 1);
    e->len = name->len;
    kl_memcpy(e->name, name->data, name->len);
    e->name[name->len] = '\0';

    kl_open_file_from_info(e, of);
    e->fd = -1;
    e->data = NULL;
    e->node.key = hash;
    e->created = now;
    e->accessed = now;
    e->uses = 1;
    e->count = 0;
    e->close = 0;

    kl_rbtree_insert(&cache->rbtree, &e->node);
    kl_queue_insert_head(&cache->expire_queue, &e->queue);
    cache->current++;

    if (rc != KL_OK) {
        return rc;
    }

    if (of->fd != -1 && e->uses >= of->min_uses) {
        e->fd = of->fd;
        return kl_open_file_share(e, of, pool);
    }

    return kl_open_file_private(of, name->data, pool);
}


static kl_open_file_entry_t *
kl_open_file_lookup(kl_open_file_cache_t *cache, kl_str_t *name, kl_uint_t hash)
{
    kl_int_t              rc;
    kl_rbtree_node_t     *node, *sentinel;
    kl_open_file_entry_t *e;

    node = cache->rbtree.root;
    sentinel = cache->rbtree.sentinel;

    while (node != sentinel) {
        if (hash != node->key) {
            node = (hash < node->key) ? node->left : node->right;
            continue;
        }

        e = (kl_open_file_entry_t *) node;

        rc = kl_open_file_cmp(name->data, e->name, name->len, e->len);

        if (rc == 0) {
            return e;
        }

        node = (rc < 0) ? node->left : node->right;
    }

    return NULL;
}


static void
kl_open_file_rbtree_insert(kl_rbtree_node_t *temp, kl_rbtree_node_t *node,
                           kl_rbtree_node_t *sentinel)
{
    kl_rbtree_node_t    **p;
    kl_open_file_entry_t *e, *t;

    e = (kl_open_file_entry_t *) node;

    for (;;) {
        t = (kl_open_file_entry_t *) temp;

        if (node->key != temp->key) {
            p = (node->key < temp->key) ? &temp->left : &temp->right;

        } else {
            p = (kl_open_file_cmp(e->name, t->name, e->len, t->len) < 0)
                    ? &temp->left
                    : &temp->right;
        }

        if (*p == sentinel) {
            break;
        }

        temp = *p;
    }

    *p = node;
    node->parent = temp;
    node->left = sentinel;
    node->right = sentinel;
    kl_rbt_red(node);
}
