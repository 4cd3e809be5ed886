/*
 * body_module.c: the request body directives (client_body_buffer_size,
 * client_body_temp_path, client_body_in_file_only,
 * client_body_in_single_buffer) and the temp directories they name,
 * which the master creates when a configuration is loaded. body.c does
 * the reading; client_max_body_size and client_body_timeout stay with the
 * core module.
 */

#include "kl_http.h"


static void    *kl_http_body_create_main_conf(kl_conf_t *cf);
static void    *kl_http_body_create_loc_conf(kl_conf_t *cf);
static char    *kl_http_body_merge_loc_conf(kl_conf_t *cf, void *parent,
                                            void *child);
static char    *kl_http_body_temp_path(kl_conf_t *cf, kl_command_t *cmd,
                                       void *conf);
static kl_int_t kl_http_body_init_module(kl_cycle_t *cycle);


static kl_conf_enum_t kl_http_body_in_file_only[] = {
    { kl_string("off"), KL_HTTP_BODY_FILE_OFF },
    { kl_string("on"), KL_HTTP_BODY_FILE_ON },
    { kl_string("clean"), KL_HTTP_BODY_FILE_CLEAN },
    { kl_null_string, 0 }
};


#define KL_HTTP_BODY_ANY_LOC                                                   \
    (KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF)

/* Directive tables keep one field a line, as nginx's do. */
/* clang-format off */
static kl_command_t  kl_http_body_commands[] = {

    { kl_string("client_body_buffer_size"),
      KL_HTTP_BODY_ANY_LOC | KL_CONF_TAKE1,
      kl_conf_set_size_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_body_loc_conf_t, client_body_buffer_size),
      NULL },

    { kl_string("client_body_temp_path"),
      KL_HTTP_BODY_ANY_LOC | KL_CONF_TAKE1234,
      kl_http_body_temp_path,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_body_loc_conf_t, client_body_temp_path),
      NULL },

    { kl_string("client_body_in_file_only"),
      KL_HTTP_BODY_ANY_LOC | KL_CONF_TAKE1,
      kl_conf_set_enum_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_body_loc_conf_t, client_body_in_file_only),
      kl_http_body_in_file_only },

    { kl_string("client_body_in_single_buffer"),
      KL_HTTP_BODY_ANY_LOC | KL_CONF_FLAG,
      kl_conf_set_flag_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_body_loc_conf_t, client_body_in_single_buffer),
      NULL },

    kl_null_command
};
/* clang-format on */


static kl_http_module_t kl_http_body_module_ctx = {
    .create_main_conf = kl_http_body_create_main_conf,
    .create_loc_conf = kl_http_body_create_loc_conf,
    .merge_loc_conf = kl_http_body_merge_loc_conf,
};


kl_module_t kl_http_body_module = {
    .name = "kl_http_body_module",
    .type = KL_HTTP_MODULE,
    .ctx = &kl_http_body_module_ctx,
    .commands = kl_http_body_commands,
    .init_module = kl_http_body_init_module,
};


static void *
kl_http_body_create_main_conf(kl_conf_t *cf)
{
    kl_http_body_main_conf_t *bmcf;

    bmcf = kl_pcalloc(cf->pool, sizeof(kl_http_body_main_conf_t));
    if (bmcf == NULL) {
        return NULL;
    }

    if (kl_array_init(&bmcf->paths, cf->pool, 2, sizeof(kl_http_temp_path_t *))
        != KL_OK)
    {
        return NULL;
    }

    return bmcf;
}


static void *
kl_http_body_create_loc_conf(kl_conf_t *cf)
{
    kl_http_body_loc_conf_t *blcf;

    blcf = kl_pcalloc(cf->pool, sizeof(kl_http_body_loc_conf_t));
    if (blcf == NULL) {
        return NULL;
    }

    blcf->client_body_buffer_size = KL_CONF_UNSET_SIZE;
    blcf->client_body_temp_path = KL_CONF_UNSET_PTR;
    blcf->client_body_in_file_only = KL_CONF_UNSET_UINT;
    blcf->client_body_in_single_buffer = KL_CONF_UNSET;

    return blcf;
}


/*
 * One object per directory: a second directive naming the same
 * directory shares the first one's, and must not give it other levels
 * (the file names of one directory would then disagree). Logged here, in
 * nginx's words, because the message names two places.
 */
static char *
kl_http_body_add_path(kl_conf_t *cf, kl_http_temp_path_t **pathp)
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


/* client_body_temp_path PATH [LEVEL1 [LEVEL2 [LEVEL3]]] */
static char *
kl_http_body_temp_path(kl_conf_t *cf, kl_command_t *cmd, void *conf)
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

    return kl_http_body_add_path(cf, field);
}


static char *
kl_http_body_merge_loc_conf(kl_conf_t *cf, void *parent, void *child)
{
    kl_http_body_loc_conf_t  *prev = parent;
    kl_http_body_loc_conf_t  *conf = child;
    kl_http_body_main_conf_t *bmcf;
    kl_http_temp_path_t      *path;
    char                     *rv;

    /* nginx's: two pages on 64-bit systems. */
    kl_conf_merge_size_value(conf->client_body_buffer_size,
                             prev->client_body_buffer_size, 16 * 1024);
    kl_conf_merge_uint_value(conf->client_body_in_file_only,
                             prev->client_body_in_file_only,
                             KL_HTTP_BODY_FILE_OFF);
    kl_conf_merge_value(conf->client_body_in_single_buffer,
                        prev->client_body_in_single_buffer, 0);

    if (conf->client_body_temp_path != KL_CONF_UNSET_PTR) {
        return KL_CONF_OK;
    }

    if (prev->client_body_temp_path != KL_CONF_UNSET_PTR) {
        conf->client_body_temp_path = prev->client_body_temp_path;
        return KL_CONF_OK;
    }

    bmcf = kl_http_conf_get_module_main_conf(cf, kl_http_body_module);

    if (bmcf->default_path == NULL) {
        path = kl_pcalloc(cf->pool, sizeof(kl_http_temp_path_t));
        if (path == NULL) {
            return KL_CONF_ERROR;
        }

        kl_str_set(&path->name, "client_body_temp");

        if (kl_conf_full_name(cf->cycle, &path->name, 0) != KL_OK) {
            return KL_CONF_ERROR;
        }

        kl_str_set(&path->conf_file, "the default");

        rv = kl_http_body_add_path(cf, &path);
        if (rv != KL_CONF_OK) {
            return rv;
        }

        bmcf->default_path = path;
    }

    conf->client_body_temp_path = bmcf->default_path;

    return KL_CONF_OK;
}


/*
 * As nginx's ngx_create_paths: the master makes each missing temp
 * directory (0700) and gives it to the workers' user, since the workers
 * may no longer create anything in the prefix.
 */
static kl_int_t
kl_http_body_init_module(kl_cycle_t *cycle)
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
