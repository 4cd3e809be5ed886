/*
 * temp_file.c: temp directories and the temp files made in them, for
 * request bodies and buffered upstream responses. The directories named
 * by every *_temp_path (and the defaults) are registered in the body
 * module's main conf, one object per directory, and made by the master
 * when the configuration is loaded; the workers only make level subdirs.
 */

#include "kl_http.h"


typedef struct {
    kl_fd_t   fd;
    u_char   *name;
    kl_log_t *log;
    kl_uint_t clean; /* unlink when the request ends */
} kl_http_temp_cleanup_t;


static char *kl_http_temp_path_add(kl_conf_t *cf, kl_http_temp_path_t **pathp);
static void  kl_http_temp_name(kl_http_temp_path_t *path, u_char *name,
                               uint32_t n);
static kl_int_t kl_http_temp_make_levels(kl_log_t            *log,
                                         kl_http_temp_path_t *path,
                                         u_char              *name);
static void     kl_http_temp_cleanup(void *data);


/* The next temp file's name in this process, as nginx's ngx_temp_number. */
static uint32_t kl_http_temp_number;


/*
 * One object per directory: a second directive naming the same
 * directory shares the first one's, and must not give it other levels
 * (the file names of one directory would then disagree). Logged here, in
 * nginx's words, because the message names two places.
 */
static char *
kl_http_temp_path_add(kl_conf_t *cf, kl_http_temp_path_t **pathp)
{
    kl_uint_t                 i, n;
    kl_http_temp_path_t     **paths, *path;
    kl_http_body_main_conf_t *bmcf;

    path = *pathp;
    bmcf = kl_http_conf_get_module_main_conf(cf, kl_http_body_module);
    paths = bmcf->paths.elts;

    for (i = 0; i < bmcf->paths.nelts; i++) {
        if (paths[i]->name.len != path->name.len
            || kl_strcmp(paths[i]->name.data, path->name.data) != 0)
        {
            continue;
        }

        for (n = 0; n < KL_HTTP_MAX_PATH_LEVEL; n++) {
            if (paths[i]->level[n] != path->level[n]) {
                kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                                  "the same path name \"%V\" in %V:%ui "
                                  "has the different levels than in %V:%ui",
                                  &path->name, &path->conf_file, path->line,
                                  &paths[i]->conf_file, paths[i]->line);
                return KL_CONF_ERROR;
            }
        }

        *pathp = paths[i];

        return KL_CONF_OK;
    }

    paths = kl_array_push(&bmcf->paths);
    if (paths == NULL) {
        return KL_CONF_ERROR;
    }

    *paths = path;

    return KL_CONF_OK;
}


char *
kl_http_temp_path_slot(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_int_t             level;
    kl_uint_t            i;
    kl_str_t            *value;
    kl_http_temp_path_t *path, **field;
    kl_conf_file_t      *file;

    field = (kl_http_temp_path_t **) ((char *) conf + cmd->offset);

    if (*field != KL_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    path = kl_pcalloc(cf->pool, sizeof(kl_http_temp_path_t));
    if (path == NULL) {
        return KL_CONF_ERROR;
    }

    value = cf->args->elts;
    path->name = value[1];

    while (path->name.len > 1 && path->name.data[path->name.len - 1] == '/') {
        path->name.len--;
    }

    if (kl_conf_full_name(cf->cycle, &path->name, 0) != KL_OK) {
        return KL_CONF_ERROR;
    }

    for (i = 2; i < cf->args->nelts; i++) {
        level = kl_atoi(value[i].data, value[i].len);

        if (level == KL_ERROR || level == 0) {
            return "invalid value";
        }

        path->level[i - 2] = (size_t) level;
        path->len += (size_t) level + 1;
    }

    /* The levels are cut from the ten digits of a temp file's name. */
    if (path->len > 10 + i - 2) {
        return "invalid value";
    }

    file = cf->conf_file;

    if (file && file->file.name.data) {
        path->conf_file = file->file.name;
        path->line = file->line;

    } else {
        kl_str_set(&path->conf_file, "command line");
    }

    *field = path;

    return kl_http_temp_path_add(cf, field);
}


char *
kl_http_temp_path_merge(kl_conf_t *cf, kl_http_temp_path_t **conf,
                        kl_http_temp_path_t *prev, const char *name, size_t l1,
                        size_t l2)
{
    kl_http_temp_path_t *path;

    if (*conf != KL_CONF_UNSET_PTR) {
        return KL_CONF_OK;
    }

    if (prev != KL_CONF_UNSET_PTR) {
        *conf = prev;
        return KL_CONF_OK;
    }

    path = kl_pcalloc(cf->pool, sizeof(kl_http_temp_path_t));
    if (path == NULL) {
        return KL_CONF_ERROR;
    }

    path->name.data = (u_char *) name;
    path->name.len = kl_strlen(name);

    if (kl_conf_full_name(cf->cycle, &path->name, 0) != KL_OK) {
        return KL_CONF_ERROR;
    }

    path->level[0] = l1;
    path->level[1] = l1 ? l2 : 0;
    path->len = l1 ? l1 + 1 + (l2 ? l2 + 1 : 0) : 0;
    kl_str_set(&path->conf_file, "the default");

    /* The registry hands back the first default made of this name. */
    *conf = path;

    return kl_http_temp_path_add(cf, conf);
}


kl_int_t
kl_http_temp_paths_create(kl_cycle_t *cycle)
{
    kl_uint_t                 i;
    struct stat               st;
    kl_core_conf_t           *ccf;
    kl_http_conf_ctx_t       *ctx;
    kl_http_temp_path_t     **paths;
    kl_http_body_main_conf_t *bmcf;

    ctx = (kl_http_conf_ctx_t *) cycle->conf_ctx[kl_http_module.index];

    if (ctx == NULL) {
        return KL_OK;
    }

    bmcf = ctx->main_conf[kl_http_body_module.ctx_index];
    ccf = (kl_core_conf_t *) kl_get_conf(cycle->conf_ctx, kl_core_module);
    paths = bmcf->paths.elts;

    for (i = 0; i < bmcf->paths.nelts; i++) {
        if (mkdir((char *) paths[i]->name.data, 0700) == -1 && errno != EEXIST)
        {
            kl_log_error(KL_LOG_EMERG, cycle->log, errno,
                         "mkdir() \"%s\" failed", paths[i]->name.data);
            return KL_ERROR;
        }

        if (ccf->user == (uid_t) KL_CONF_UNSET_UINT || geteuid() != 0) {
            continue;
        }

        if (stat((char *) paths[i]->name.data, &st) == -1) {
            kl_log_error(KL_LOG_EMERG, cycle->log, errno,
                         "stat() \"%s\" failed", paths[i]->name.data);
            return KL_ERROR;
        }

        if (st.st_uid != ccf->user
            && chown((char *) paths[i]->name.data, ccf->user, (gid_t) -1) == -1)
        {
            kl_log_error(KL_LOG_EMERG, cycle->log, errno,
                         "chown(\"%s\", %d) failed", paths[i]->name.data,
                         (int) ccf->user);
            return KL_ERROR;
        }

        if ((st.st_mode & S_IRWXU) != S_IRWXU
            && chmod((char *) paths[i]->name.data, st.st_mode | S_IRWXU) == -1)
        {
            kl_log_error(KL_LOG_EMERG, cycle->log, errno,
                         "chmod() \"%s\" failed", paths[i]->name.data);
            return KL_ERROR;
        }
    }

    return KL_OK;
}


/* name: the path, then "/" level "/" level ... "/" and n in ten digits. */
static void
kl_http_temp_name(kl_http_temp_path_t *path, u_char *name, uint32_t n)
{
    size_t    i, k;
    u_char   *digits;
    kl_uint_t level;

    digits = name + path->name.len + 1 + path->len;
    *kl_slprintf(digits, digits + 10, "%010ud", (unsigned int) n) = '\0';

    name[path->name.len] = '/';
    i = path->name.len + 1;
    k = 10;

    /* The first level is the name's last digits, the next the ones before. */
    for (level = 0; level < KL_HTTP_MAX_PATH_LEVEL && path->level[level];
         level++) {
        k -= path->level[level];
        kl_memcpy(name + i, digits + k, path->level[level]);
        i += path->level[level];
        name[i++] = '/';
    }
}


/* The level directories of name, each one down (the path itself exists). */
static kl_int_t
kl_http_temp_make_levels(kl_log_t *log, kl_http_temp_path_t *path, u_char *name)
{
    size_t    dir;
    u_char    saved;
    kl_uint_t level;

    dir = path->name.len + 1;

    for (level = 0; level < KL_HTTP_MAX_PATH_LEVEL && path->level[level];
         level++) {
        dir += path->level[level];
        saved = name[dir];
        name[dir] = '\0';

        if (mkdir((char *) name, 0700) == -1 && errno != EEXIST) {
            kl_log_error(KL_LOG_CRIT, log, errno, "mkdir() \"%s\" failed",
                         name);
            return KL_ERROR;
        }

        name[dir++] = saved;
    }

    return KL_OK;
}


/*
 * A file named as nginx names them: ten digits, the levels cut from
 * their end ("client_body_temp/7/45/0000000457"). The counter starts per
 * worker from its pid and the clock, and jumps on a name taken by another
 * worker (O_EXCL tells).
 */
kl_file_t *
kl_http_temp_file_create(kl_http_request_t *r, kl_http_temp_path_t *path,
                         kl_uint_t mode, const char *message)
{
    int                     fd;
    u_char                 *name;
    kl_err_t                err;
    kl_log_t               *log;
    kl_file_t              *file;
    kl_pool_cleanup_t      *cln;
    kl_http_temp_cleanup_t *tc;

    log = r->connection->log;
    file = kl_pcalloc(r->pool, sizeof(kl_file_t));
    cln = kl_pool_cleanup_add(r->pool, sizeof(kl_http_temp_cleanup_t));
    name = kl_pnalloc(r->pool, path->name.len + 1 + path->len + 10 + 1);

    if (file == NULL || cln == NULL || name == NULL) {
        return NULL;
    }

    kl_memcpy(name, path->name.data, path->name.len);

    if (kl_http_temp_number == 0) {
        kl_http_temp_number =
            ((uint32_t) kl_loop.pid << 16) ^ (uint32_t) (kl_now() & 0xffff);
    }

    for (;;) {
        kl_http_temp_name(path, name, kl_http_temp_number++);

        fd = open((char *) name, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);

        if (fd != -1) {
            break;
        }

        err = errno;

        if (err == EEXIST) {
            kl_http_temp_number += ((uint32_t) kl_loop.pid * 2654435761u) | 1;
            continue;
        }

        if (path->level[0] == 0 || err != ENOENT) {
            kl_log_error(KL_LOG_CRIT, log, err, "open() \"%s\" failed", name);
            return NULL;
        }

        if (kl_http_temp_make_levels(log, path, name) != KL_OK) {
            return NULL;
        }
    }

    file->fd = fd;
    file->name.data = name;
    file->name.len = kl_strlen(name);
    file->log = log;

    tc = cln->data;
    tc->fd = fd;
    tc->name = name;
    tc->log = r->pool->log;
    tc->clean = (mode == KL_HTTP_TEMP_FILE_CLEAN);
    cln->handler = kl_http_temp_cleanup;

    if (mode == KL_HTTP_TEMP_FILE_UNLINK && unlink((char *) name) == -1) {
        kl_log_error(KL_LOG_CRIT, log, errno, "unlink() \"%s\" failed", name);
    }

    kl_log_error(mode == KL_HTTP_TEMP_FILE_UNLINK ? KL_LOG_WARN : KL_LOG_NOTICE,
                 log, 0, "%s %s", message, name);

    return file;
}


static void
kl_http_temp_cleanup(void *data)
{
    kl_http_temp_cleanup_t *tc = data;

    if (tc->clean && unlink((char *) tc->name) == -1 && errno != ENOENT) {
        kl_log_error(KL_LOG_CRIT, tc->log, errno, "unlink() \"%s\" failed",
                     tc->name);
    }

    if (close(tc->fd) == -1) {
        kl_log_error(KL_LOG_ALERT, tc->log, errno, "close() \"%s\" failed",
                     tc->name);
    }
}
