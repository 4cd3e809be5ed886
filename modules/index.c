/* index.c: the index directive: a URI ending in "/" is redirected internally to its index file. */

#include "kl_http.h"
#include "core_symlinks.h"


typedef struct {
    kl_str_t                 name;
    kl_http_complex_value_t *value; /* names with variables; else NULL */
} kl_http_index_t;

typedef struct {
    kl_array_t *indices; /* kl_http_index_t */
} kl_http_index_loc_conf_t;


static kl_int_t  kl_http_index_handler(kl_http_request_t *r);
static kl_int_t  kl_http_index_init(kl_conf_t *cf);
static void     *kl_http_index_create_loc_conf(kl_conf_t *cf);
static char     *kl_http_index_merge_loc_conf(kl_conf_t *cf, void *parent,
                                              void *child);
static char     *kl_http_index_set_index(kl_conf_t *cf, kl_command_t *cmd,
                                         void *conf);
static kl_str_t *kl_http_index_names(kl_http_request_t        *r,
                                     kl_http_index_loc_conf_t *ilcf);


/* Directive tables keep one field a line, as nginx's do. */
/* clang-format off */
static kl_command_t  kl_http_index_commands[] = {

    { kl_string("index"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF
      | KL_CONF_1MORE,
      kl_http_index_set_index,
      KL_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    kl_null_command
};
/* clang-format on */


static kl_http_module_t kl_http_index_module_ctx = {
    .postconfiguration = kl_http_index_init,
    .create_loc_conf = kl_http_index_create_loc_conf,
    .merge_loc_conf = kl_http_index_merge_loc_conf,
};


kl_module_t kl_http_index_module = {
    .name = "kl_http_index_module",
    .type = KL_HTTP_MODULE,
    .ctx = &kl_http_index_module_ctx,
    .commands = kl_http_index_commands,
};


/*
 * stat(2) of path, but under disable_symlinks a path through a link it
 * refuses fails first, with the open's errno (ELOOP, ENOTDIR), as nginx.
 */
static int
kl_http_index_stat(kl_http_request_t *r, kl_str_t *path, struct stat *st)
{
    kl_open_file_info_t      of;
    kl_http_core_loc_conf_t *clcf;

    clcf = kl_http_get_module_loc_conf(r, kl_http_core_module);

    if (clcf->disable_symlinks != KL_DISABLE_SYMLINKS_OFF) {
        kl_memzero(&of, sizeof(kl_open_file_info_t));
        path->len = kl_strlen(path->data);

        if (kl_http_set_disable_symlinks(r, path, &of) != KL_OK) {
            errno = ENOMEM;
            return -1;
        }

        if (kl_open_cached_file(NULL, path, &of, r->pool, kl_loop.clock.sec)
            != KL_OK) {
            errno = of.err ? of.err : ENOMEM;
            return -1;
        }
    }

    return stat((char *) path->data, st);
}


static kl_int_t
kl_http_index_handler(kl_http_request_t *r)
{
    size_t                    root, reserve;
    u_char                   *last;
    kl_err_t                  err;
    kl_str_t                  path, uri, *index;
    kl_uint_t                 i, dir_tested;
    struct stat               st;
    kl_http_index_loc_conf_t *ilcf;

    if (r->uri.len == 0 || r->uri.data[r->uri.len - 1] != '/') {
        return KL_DECLINED;
    }

    if (!(r->method & (KL_HTTP_GET | KL_HTTP_HEAD | KL_HTTP_POST))) {
        return KL_DECLINED;
    }

    ilcf = kl_http_get_module_loc_conf(r, kl_http_index_module);

    index = kl_http_index_names(r, ilcf);
    if (index == NULL) {
        return KL_HTTP_INTERNAL_SERVER_ERROR;
    }

    reserve = 0;

    for (i = 0; i < ilcf->indices->nelts; i++) {
        reserve = kl_max(reserve, index[i].len);
    }

    last = kl_http_map_uri_to_path(r, &path, &root, reserve);
    if (last == NULL) {
        return KL_HTTP_INTERNAL_SERVER_ERROR;
    }

    dir_tested = 0;

    for (i = 0; i < ilcf->indices->nelts; i++) {

        if (index[i].len == 0) {
            /* A variable name that came out empty or unsafe: skipped. */
            continue;
        }

        if (index[i].data[0] == '/') {
            /* An absolute index is the last resort, taken unchecked. */
            return kl_http_internal_redirect(r, &index[i], &r->args);
        }

        *kl_cpymem(last, index[i].data, index[i].len) = '\0';

        if (kl_http_index_stat(r, &path, &st) == -1) {
            err = errno;

            if (err == ENOENT && !dir_tested) {
                /* nginx: a missing directory is 404 before any fallback. */
                *last = '\0';

                if (kl_http_index_stat(r, &path, &st) == -1) {
                    *kl_cpymem(last, index[i].data, index[i].len) = '\0';
                    kl_log_error(KL_LOG_ERR, r->connection->log, errno,
                                 "\"%s\" is not found", path.data);
                    return KL_HTTP_NOT_FOUND;
                }

                dir_tested = 1;
            }

            if (err == ENOENT || err == ENOTDIR || err == ENAMETOOLONG) {
                continue;
            }

            /* An index file disable_symlinks refuses: 403, as nginx. */
            if (err == ELOOP || err == EMLINK) {
                return KL_HTTP_FORBIDDEN;
            }

            kl_log_error(KL_LOG_ERR, r->connection->log, err,
                         "stat() \"%s\" failed", path.data);

            return (err == EACCES) ? KL_HTTP_FORBIDDEN
                                   : KL_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (S_ISDIR(st.st_mode)) {
            continue;
        }

        uri.len = r->uri.len + index[i].len;
        uri.data = kl_pnalloc(r->pool, uri.len);
        if (uri.data == NULL) {
            return KL_HTTP_INTERNAL_SERVER_ERROR;
        }

        kl_memcpy(kl_cpymem(uri.data, r->uri.data, r->uri.len), index[i].data,
                  index[i].len);

        return kl_http_internal_redirect(r, &uri, &r->args);
    }

    /* No index file: a missing directory is 404, an existing one 403. */
    *last = '\0';

    if (kl_http_index_stat(r, &path, &st) == -1) {
        err = errno;

        if (err == ENOENT || err == ENOTDIR) {
            /* nginx names the first index it looked for. */
            *kl_cpymem(last, index[0].data, index[0].len) = '\0';

            kl_log_error(KL_LOG_ERR, r->connection->log, err,
                         "\"%s\" is not found", path.data);
            return KL_HTTP_NOT_FOUND;
        }

        kl_log_error(KL_LOG_ERR, r->connection->log, err,
                     "stat() \"%s\" failed", path.data);

        return (err == EACCES) ? KL_HTTP_FORBIDDEN
                               : KL_HTTP_INTERNAL_SERVER_ERROR;
    }

    return KL_DECLINED;
}


static void *
kl_http_index_create_loc_conf(kl_conf_t *cf)
{
    kl_http_index_loc_conf_t *conf;

    conf = kl_pcalloc(cf->pool, sizeof(kl_http_index_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    conf->indices = NULL;

    return conf;
}


static char *
kl_http_index_merge_loc_conf(kl_conf_t *cf, void *parent, void *child)
{
    kl_http_index_loc_conf_t *prev = parent;
    kl_http_index_loc_conf_t *conf = child;
    kl_http_index_t          *index;

    if (conf->indices == NULL) {
        conf->indices = prev->indices;
    }

    if (conf->indices == NULL) {
        conf->indices = kl_array_create(cf->pool, 1, sizeof(kl_http_index_t));
        if (conf->indices == NULL) {
            return KL_CONF_ERROR;
        }

        index = kl_array_push(conf->indices);
        if (index == NULL) {
            return KL_CONF_ERROR;
        }

        kl_str_set(&index->name, "index.html");
        index->value = NULL;
    }

    return KL_CONF_OK;
}


static char *
kl_http_index_set_index(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_http_index_loc_conf_t *ilcf = conf;
    kl_str_t                 *value;
    kl_uint_t                 i;
    kl_http_index_t          *index;

    (void) cmd;

    if (ilcf->indices == NULL) {
        ilcf->indices = kl_array_create(cf->pool, 2, sizeof(kl_http_index_t));
        if (ilcf->indices == NULL) {
            return KL_CONF_ERROR;
        }
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {

        if (value[i].len == 0) {
            kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                              "index \"%V\" in \"index\" directive is "
                              "invalid",
                              &value[i]);
            return KL_CONF_ERROR;
        }

        if (value[i].data[0] == '/' && i != cf->args->nelts - 1) {
            kl_conf_log_error(KL_LOG_WARN, cf, 0,
                              "only the last index in \"index\" directive "
                              "should be absolute");
        }

        index = kl_array_push(ilcf->indices);
        if (index == NULL) {
            return KL_CONF_ERROR;
        }

        index->name = value[i];
        index->value = NULL;

        if (kl_http_script_variables_count(&value[i]) == 0) {
            continue;
        }

        index->value = kl_http_compile_value(cf, &value[i]);
        if (index->value == NULL) {
            return KL_CONF_ERROR;
        }
    }

    return KL_CONF_OK;
}


/*
 * The names for this request. A name from variables must stay a name: a
 * value with "/" (other than a leading one: an absolute index) or a ".."
 * segment would leave the directory, so it is logged and skipped.
 */
static kl_str_t *
kl_http_index_names(kl_http_request_t *r, kl_http_index_loc_conf_t *ilcf)
{
    u_char          *p, *end;
    kl_str_t        *names;
    kl_uint_t        i;
    kl_http_index_t *index;

    names = kl_palloc(r->pool, ilcf->indices->nelts * sizeof(kl_str_t));
    if (names == NULL) {
        return NULL;
    }

    index = ilcf->indices->elts;

    for (i = 0; i < ilcf->indices->nelts; i++) {
        names[i] = index[i].name;

        if (index[i].value == NULL) {
            continue;
        }

        if (kl_http_complex_value(r, index[i].value, &names[i]) != KL_OK) {
            return NULL;
        }

        end = names[i].data + names[i].len;

        for (p = names[i].data; p < end; p++) {
            if (*p == '\0' || (*p == '/' && p != names[i].data)
                || (*p == '.' && p + 1 < end && p[1] == '.'
                    && (p == names[i].data || p[-1] == '/')
                    && (p + 2 == end || p[2] == '/')))
            {
                kl_log_error(KL_LOG_ERR, r->connection->log, 0,
                             "index \"%V\" from variables is not a file "
                             "name, skipped",
                             &names[i]);
                names[i].len = 0;
                break;
            }
        }
    }

    return names;
}


static kl_int_t
kl_http_index_init(kl_conf_t *cf)
{
    return kl_http_add_phase_handler(cf, KL_HTTP_CONTENT_PHASE,
                                     kl_http_index_handler);
}
