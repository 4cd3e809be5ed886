/*
 * random_index.c: "random_index on;" answers a URI ending in '/' with a
 * file of its directory picked at random (an internal redirect to it,
 * the arguments kept), as nginx's random_index module: names starting
 * with '.' are skipped, and so is anything that is not a regular file
 * once links are followed. A directory without such a file is left to
 * the next content handler (index, autoindex).
 */

#include "kl_http.h"

#include <dirent.h>
#include <sys/random.h>


typedef struct {
    kl_int_t enable;
} kl_http_random_index_loc_conf_t;


static kl_int_t kl_http_random_index_handler(kl_http_request_t *r);
static void    *kl_http_random_index_create_loc_conf(kl_conf_t *cf);
static char    *kl_http_random_index_merge_loc_conf(kl_conf_t *cf, void *parent,
                                                    void *child);
static kl_int_t kl_http_random_index_init(kl_conf_t *cf);


/* clang-format off */
static kl_command_t  kl_http_random_index_commands[] = {

    { kl_string("random_index"),
      KL_HTTP_LOC_CONF | KL_CONF_FLAG,
      kl_conf_set_flag_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_random_index_loc_conf_t, enable),
      NULL },

    kl_null_command
};
/* clang-format on */


static kl_http_module_t kl_http_random_index_module_ctx = {
    .postconfiguration = kl_http_random_index_init,
    .create_loc_conf = kl_http_random_index_create_loc_conf,
    .merge_loc_conf = kl_http_random_index_merge_loc_conf,
};


kl_module_t kl_http_random_index_module = {
    .name = "kl_http_random_index_module",
    .type = KL_HTTP_MODULE,
    .ctx = &kl_http_random_index_module_ctx,
    .commands = kl_http_random_index_commands,
};


/* A directory that cannot be opened: its status, logged as nginx does. */
static kl_int_t
kl_http_random_index_open_error(kl_http_request_t *r, kl_str_t *path)
{
    kl_int_t  rc;
    kl_uint_t level;

    if (errno == ENOENT || errno == ENOTDIR || errno == ENAMETOOLONG) {
        level = KL_LOG_ERR;
        rc = KL_HTTP_NOT_FOUND;

    } else if (errno == EACCES) {
        level = KL_LOG_ERR;
        rc = KL_HTTP_FORBIDDEN;

    } else {
        level = KL_LOG_CRIT;
        rc = KL_HTTP_INTERNAL_SERVER_ERROR;
    }

    kl_log_error(level, r->connection->log, errno, "opendir() \"%V\" failed",
                 path);

    return rc;
}


/*
 * The regular files of dir (path is its name, with room after it), in
 * names; KL_OK, or KL_ERROR (logged).
 */
static kl_int_t
kl_http_random_index_read(kl_http_request_t *r, DIR *dir, kl_str_t *path,
                          kl_array_t *names)
{
    size_t         len;
    u_char        *file;
    kl_str_t      *name;
    struct stat    st;
    struct dirent *de;

    for (;;) {
        errno = 0;
        de = readdir(dir);

        if (de == NULL) {
            if (errno) {
                kl_log_error(KL_LOG_CRIT, r->connection->log, errno,
                             "readdir() \"%V\" failed", path);
                return KL_ERROR;
            }

            return KL_OK;
        }

        if (de->d_name[0] == '.') {
            continue;
        }

        len = kl_strlen(de->d_name);

        if (de->d_type == DT_UNKNOWN || de->d_type == DT_LNK) {
            file = kl_pnalloc(r->pool, path->len + 1 + len + 1);
            if (file == NULL) {
                return KL_ERROR;
            }

            kl_memcpy(file, path->data, path->len);
            file[path->len] = '/';
            kl_memcpy(file + path->len + 1, de->d_name, len + 1);

            /* A dangling link is no file: skipped, as by nginx. */
            if (stat((char *) file, &st) == -1) {
                if (errno != ENOENT && errno != ELOOP) {
                    kl_log_error(KL_LOG_CRIT, r->connection->log, errno,
                                 "stat() \"%s\" failed", file);
                    return KL_ERROR;
                }

                continue;
            }

            if (!S_ISREG(st.st_mode)) {
                continue;
            }

        } else if (de->d_type != DT_REG) {
            continue;
        }

        name = kl_array_push(names);
        if (name == NULL) {
            return KL_ERROR;
        }

        name->len = len;
        name->data = kl_pnalloc(r->pool, len);
        if (name->data == NULL) {
            return KL_ERROR;
        }

        kl_memcpy(name->data, de->d_name, len);
    }
}


/* 0 <= n < count, uniform enough for a choice among files. */
static kl_uint_t
kl_http_random_index_pick(kl_uint_t count)
{
    uint32_t rnd;

    if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != sizeof(rnd)) {
        rnd = (uint32_t) random() << 1 ^ (uint32_t) random();
    }

    return (kl_uint_t) (((uint64_t) rnd * count) >> 32);
}


static kl_int_t
kl_http_random_index_handler(kl_http_request_t *r)
{
    DIR                             *dir;
    u_char                          *last;
    size_t                           root;
    kl_int_t                         rc;
    kl_str_t                         path, uri, *name;
    kl_uint_t                        n;
    kl_array_t                       names;
    kl_http_random_index_loc_conf_t *rlcf;

    if (r->uri.len == 0 || r->uri.data[r->uri.len - 1] != '/') {
        return KL_DECLINED;
    }

    if (!(r->method & (KL_HTTP_GET | KL_HTTP_HEAD | KL_HTTP_POST))) {
        return KL_DECLINED;
    }

    rlcf = kl_http_get_module_loc_conf(r, kl_http_random_index_module);

    if (!rlcf->enable) {
        return KL_DECLINED;
    }

    last = kl_http_map_uri_to_path(r, &path, &root, 0);
    if (last == NULL) {
        return KL_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* The path without its '/' and with a NUL, as autoindex has it. */
    if (path.len > 1) {
        path.len--;
    }

    path.data[path.len] = '\0';

    dir = opendir((char *) path.data);
    if (dir == NULL) {
        return kl_http_random_index_open_error(r, &path);
    }

    if (kl_array_init(&names, r->pool, 32, sizeof(kl_str_t)) != KL_OK) {
        closedir(dir);
        return KL_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = kl_http_random_index_read(r, dir, &path, &names);

    if (closedir(dir) == -1) {
        kl_log_error(KL_LOG_ALERT, r->connection->log, errno,
                     "closedir() \"%V\" failed", &path);
    }

    if (rc != KL_OK) {
        return KL_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (names.nelts == 0) {
        return KL_DECLINED;
    }

    name = names.elts;
    n = kl_http_random_index_pick(names.nelts);

    uri.len = r->uri.len + name[n].len;
    uri.data = kl_pnalloc(r->pool, uri.len);
    if (uri.data == NULL) {
        return KL_HTTP_INTERNAL_SERVER_ERROR;
    }

    last = kl_cpymem(uri.data, r->uri.data, r->uri.len);
    kl_memcpy(last, name[n].data, name[n].len);

    return kl_http_internal_redirect(r, &uri, &r->args);
}


static void *
kl_http_random_index_create_loc_conf(kl_conf_t *cf)
{
    kl_http_random_index_loc_conf_t *conf;

    conf = kl_pcalloc(cf->pool, sizeof(kl_http_random_index_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    conf->enable = KL_CONF_UNSET;

    return conf;
}


static char *
kl_http_random_index_merge_loc_conf(kl_conf_t *cf, void *parent, void *child)
{
    kl_http_random_index_loc_conf_t *prev = parent, *conf = child;

    (void) cf;

    kl_conf_merge_value(conf->enable, prev->enable, 0);

    return KL_CONF_OK;
}


static kl_int_t
kl_http_random_index_init(kl_conf_t *cf)
{
    return kl_http_add_phase_handler(cf, KL_HTTP_CONTENT_PHASE,
                                     kl_http_random_index_handler);
}
