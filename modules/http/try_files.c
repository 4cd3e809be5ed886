/*
 * try_files.c: try_files file ... uri|=code: the precontent phase picks
 * the first file that exists under root or alias, as nginx's module.
 */

#include "kl_http.h"
#include "try_files.h"
#include "core_symlinks.h"


typedef struct {
    kl_str_t                 name; /* without a test_dir '/' */
    kl_http_complex_value_t *cv;   /* NULL for a plain name */
    kl_int_t                 code; /* "=code" as the last parameter */
    unsigned                 test_dir:1;
} kl_http_try_file_t;


typedef struct {
    kl_http_try_file_t *try_files; /* NULL: none */
    kl_uint_t           ntry_files;
} kl_http_try_files_loc_conf_t;


static kl_int_t kl_http_try_files_handler(kl_http_request_t *r);
static kl_int_t kl_http_try_files_init(kl_conf_t *cf);
static void    *kl_http_try_files_create_loc_conf(kl_conf_t *cf);
static char    *kl_http_try_files(kl_conf_t *cf, kl_command_t *cmd, void *conf);


/* Directive tables keep one field a line, as nginx's do. */
/* clang-format off */
static kl_command_t  kl_http_try_files_commands[] = {

    { kl_string("try_files"),
      KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF | KL_CONF_2MORE,
      kl_http_try_files,
      KL_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    kl_null_command
};
/* clang-format on */


/* No merge, as nginx: a server's try_files serves no location. */
static kl_http_module_t kl_http_try_files_module_ctx = {
    .postconfiguration = kl_http_try_files_init,
    .create_loc_conf = kl_http_try_files_create_loc_conf,
};


kl_module_t kl_http_try_files_module = {
    .name = "kl_http_try_files_module",
    .type = KL_HTTP_MODULE,
    .ctx = &kl_http_try_files_module_ctx,
    .commands = kl_http_try_files_commands,
};


/* A name from a variable must not climb out of root: skipped. */
static kl_uint_t
kl_http_try_files_dot_dot(u_char *p, size_t len)
{
    size_t i;

    for (i = 0; i + 1 < len; i++) {
        if (p[i] == '.' && p[i + 1] == '.' && (i == 0 || p[i - 1] == '/')
            && (i + 2 == len || p[i + 2] == '/'))
        {
            return 1;
        }
    }

    return 0;
}


/* Continue with the last parameter: a URI (with args) or @name. */
static kl_int_t
kl_http_try_files_redirect(kl_http_request_t *r, kl_str_t *uri)
{
    u_char  *q;
    kl_str_t args;

    if (uri->len && uri->data[0] == '@') {
        (void) kl_http_named_location(r, uri);

    } else {
        q = memchr(uri->data, '?', uri->len);

        if (q) {
            args.data = q + 1;
            args.len = uri->data + uri->len - args.data;
            uri->len = q - uri->data;

        } else {
            kl_str_null(&args);
        }

        (void) kl_http_internal_redirect(r, uri, &args);
    }

    kl_http_finalize_request(r, KL_DONE);

    return KL_DONE;
}


/*
 * Whether path (NUL-terminated) is there, and a directory: KL_OK,
 * KL_DECLINED when it is not (a link disable_symlinks refuses is not
 * there, as in nginx), KL_ERROR. Without disable_symlinks, a stat(2).
 */
static kl_int_t
kl_http_try_files_test(kl_http_request_t *r, kl_http_core_loc_conf_t *clcf,
                       kl_str_t *path, kl_uint_t *is_dir)
{
    kl_err_t            err;
    const char         *failed;
    struct stat         st;
    kl_open_file_info_t of;

    if (clcf->disable_symlinks == KL_DISABLE_SYMLINKS_OFF) {
        if (stat((char *) path->data, &st) == 0) {
            *is_dir = S_ISDIR(st.st_mode) ? 1 : 0;
            return KL_OK;
        }

        err = errno;
        failed = "stat()";

    } else {
        kl_memzero(&of, sizeof(kl_open_file_info_t));

        if (kl_http_set_disable_symlinks(r, path, &of) != KL_OK) {
            return KL_ERROR;
        }

        if (kl_open_cached_file(NULL, path, &of, r->pool, kl_loop.clock.sec)
            == KL_OK) {
            *is_dir = of.is_dir;
            return KL_OK;
        }

        if (of.err == 0 || of.err == ENOMEM) {
            return KL_ERROR;
        }

        err = of.err;
        failed = of.failed ? of.failed : "open()";
    }

    if (err != ENOENT && err != ENOTDIR && err != ENAMETOOLONG) {
        kl_log_error(KL_LOG_CRIT, r->connection->log, err, "%s \"%s\" failed",
                     failed, path->data);
    }

    return KL_DECLINED;
}


static kl_int_t
kl_http_try_files_handler(kl_http_request_t *r)
{
    u_char                       *p, *name;
    size_t                        root, alias, reserve, len;
    kl_str_t                      path, value;
    kl_int_t                      rc;
    kl_uint_t                     i, last, is_dir;
    kl_http_try_file_t           *tf;
    kl_http_try_files_ctx_t      *ctx;
    kl_http_core_loc_conf_t      *clcf;
    kl_http_try_files_loc_conf_t *tlcf;

    tlcf = kl_http_get_module_loc_conf(r, kl_http_try_files_module);

    if (tlcf->try_files == NULL) {
        return KL_DECLINED;
    }

    clcf = kl_http_get_module_loc_conf(r, kl_http_core_module);
    alias = clcf->alias;

    for (i = 0; i < tlcf->ntry_files; i++) {
        tf = &tlcf->try_files[i];
        last = (i + 1 == tlcf->ntry_files);

        if (last && tf->code) {
            return tf->code;
        }

        if (tf->cv == NULL) {
            value = tf->name;

        } else if (kl_http_complex_value(r, tf->cv, &value) != KL_OK) {
            return KL_HTTP_INTERNAL_SERVER_ERROR;
        }

        len = value.len + 1;

        if (!alias) {
            reserve = len > r->uri.len ? len - r->uri.len : 0;

        } else if (alias == KL_HTTP_ALIAS_REGEX) {
            reserve = len;

        } else {
            reserve = len > r->uri.len - kl_min(alias, r->uri.len)
                          ? len - (r->uri.len - kl_min(alias, r->uri.len))
                          : 0;
        }

        if (kl_http_map_uri_to_path(r, &path, &root, reserve) == NULL) {
            return KL_HTTP_INTERNAL_SERVER_ERROR;
        }

        name = path.data + root;
        p = kl_cpymem(name, value.data, value.len);
        *p = '\0';
        path.len = p - path.data;

        /* nginx's: a variable name holding the location prefix loses it. */
        if (tf->cv && alias && alias != KL_HTTP_ALIAS_REGEX
            && value.len >= alias && kl_strncmp(name, r->uri.data, alias) == 0)
        {
            memmove(name, name + alias, value.len - alias + 1);
            path.len -= alias;
        }

        if (last) {
            path.len -= root;
            path.data += root;

            return kl_http_try_files_redirect(r, &path);
        }

        if (tf->cv && kl_http_try_files_dot_dot(name, path.len - root)) {
            continue;
        }

        rc = kl_http_try_files_test(r, clcf, &path, &is_dir);

        if (rc == KL_ERROR) {
            return KL_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (rc == KL_DECLINED || is_dir != tf->test_dir) {
            continue;
        }

        path.len -= root;
        path.data += root;

        if (!alias) {
            r->uri = path;

        } else if (alias == KL_HTTP_ALIAS_REGEX) {
            /*
             * nginx makes the URI "" when the name is "" (the alias is the
             * file); kiln keeps the URI then: the alias alone is the path.
             */
            if (!tf->test_dir && path.len) {
                r->uri = path;

                ctx = kl_pcalloc(r->pool, sizeof(kl_http_try_files_ctx_t));
                if (ctx == NULL) {
                    return KL_HTTP_INTERNAL_SERVER_ERROR;
                }

                ctx->add_uri_to_alias = 1;
                kl_http_set_ctx(r, ctx, kl_http_try_files_module);
            }

        } else {
            alias = kl_min(alias, r->uri.len);
            name = r->uri.data;

            r->uri.len = alias + path.len;
            r->uri.data = kl_pnalloc(r->pool, r->uri.len);
            if (r->uri.data == NULL) {
                r->uri.len = 0;
                return KL_HTTP_INTERNAL_SERVER_ERROR;
            }

            p = kl_cpymem(r->uri.data, name, alias);
            kl_memcpy(p, path.data, path.len);
        }

        kl_http_set_exten(r);

        return KL_DECLINED;
    }

    return KL_DECLINED;
}


static kl_int_t
kl_http_try_files_init(kl_conf_t *cf)
{
    return kl_http_add_phase_handler(cf, KL_HTTP_PRECONTENT_PHASE,
                                     kl_http_try_files_handler);
}


static void *
kl_http_try_files_create_loc_conf(kl_conf_t *cf)
{
    return kl_pcalloc(cf->pool, sizeof(kl_http_try_files_loc_conf_t));
}


static char *
kl_http_try_files(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_http_try_files_loc_conf_t *tlcf = conf;
    kl_str_t                     *value;
    kl_int_t                      code;
    kl_uint_t                     i, n;
    kl_http_try_file_t           *tf;

    (void) cmd;

    if (tlcf->try_files) {
        return "is duplicate";
    }

    n = cf->args->nelts - 1;

    tf = kl_pcalloc(cf->pool, n * sizeof(kl_http_try_file_t));
    if (tf == NULL) {
        return KL_CONF_ERROR;
    }

    tlcf->try_files = tf;
    tlcf->ntry_files = n;

    value = cf->args->elts;

    for (i = 0; i < n; i++) {
        tf[i].name = value[i + 1];

        /* "name/" must be a directory; the last parameter is a URI. */
        if (tf[i].name.len > 0 && tf[i].name.data[tf[i].name.len - 1] == '/'
            && i + 1 < n)
        {
            tf[i].test_dir = 1;
            tf[i].name.len--;
            tf[i].name.data[tf[i].name.len] = '\0';
        }

        if (kl_http_script_variables_count(&tf[i].name) == 0) {
            continue;
        }

        tf[i].cv = kl_http_compile_value(cf, &tf[i].name);
        if (tf[i].cv == NULL) {
            return KL_CONF_ERROR;
        }
    }

    if (tf[n - 1].name.len && tf[n - 1].name.data[0] == '=') {
        code = kl_atoi(tf[n - 1].name.data + 1, tf[n - 1].name.len - 1);

        if (code == KL_ERROR || code > 999) {
            kl_conf_log_error(KL_LOG_EMERG, cf, 0, "invalid code \"%V\"",
                              &tf[n - 1].name);
            return KL_CONF_ERROR;
        }

        tf[n - 1].code = code;
    }

    return KL_CONF_OK;
}
