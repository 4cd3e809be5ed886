/* static.c: serving files under root: open (cached), type, validators, the body as a file buffer. */

#include "kl_http.h"
#include "core_symlinks.h"
#include "open_file_cache.h"


/*
 * Cached files up to this size are kept in memory, so header and body
 * leave in one writev: no sendfile, no read per request.
 */
#define KL_HTTP_STATIC_SMALL 8192

typedef struct {
    kl_open_file_cache_t *cache; /* NULL: open_file_cache off */
    time_t                valid;
    kl_int_t              min_uses;
    kl_int_t              errors;
} kl_http_static_loc_conf_t;


static kl_int_t kl_http_static_handler(kl_http_request_t *r);
static void    *kl_http_static_create_loc_conf(kl_conf_t *cf);
static char    *kl_http_static_merge_loc_conf(kl_conf_t *cf, void *parent,
                                              void *child);
static char    *kl_http_static_open_file_cache(kl_conf_t *cf, kl_command_t *cmd,
                                               void *conf);
static kl_int_t kl_http_static_init(kl_conf_t *cf);
static kl_int_t kl_http_static_redirect_dir(kl_http_request_t *r);
static kl_int_t kl_http_static_not_allowed(kl_http_request_t *r);


/* Directive tables keep one field a line, as nginx's do. */
/* clang-format off */
static kl_command_t  kl_http_static_commands[] = {

    { kl_string("open_file_cache"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF
      | KL_CONF_TAKE12,
      kl_http_static_open_file_cache,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_static_loc_conf_t, cache),
      NULL },

    { kl_string("open_file_cache_valid"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF
      | KL_CONF_TAKE1,
      kl_conf_set_sec_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_static_loc_conf_t, valid),
      NULL },

    { kl_string("open_file_cache_min_uses"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF
      | KL_CONF_TAKE1,
      kl_conf_set_num_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_static_loc_conf_t, min_uses),
      NULL },

    { kl_string("open_file_cache_errors"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF
      | KL_CONF_FLAG,
      kl_conf_set_flag_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_static_loc_conf_t, errors),
      NULL },

    kl_null_command
};
/* clang-format on */


static kl_http_module_t kl_http_static_module_ctx = {
    .postconfiguration = kl_http_static_init,
    .create_loc_conf = kl_http_static_create_loc_conf,
    .merge_loc_conf = kl_http_static_merge_loc_conf,
};


kl_module_t kl_http_static_module = {
    .name = "kl_http_static_module",
    .type = KL_HTTP_MODULE,
    .ctx = &kl_http_static_module_ctx,
    .commands = kl_http_static_commands,
};


static void *
kl_http_static_create_loc_conf(kl_conf_t *cf)
{
    kl_http_static_loc_conf_t *slcf;

    slcf = kl_pcalloc(cf->pool, sizeof(kl_http_static_loc_conf_t));
    if (slcf == NULL) {
        return NULL;
    }

    slcf->cache = KL_CONF_UNSET_PTR;
    slcf->valid = KL_CONF_UNSET;
    slcf->min_uses = KL_CONF_UNSET;
    slcf->errors = KL_CONF_UNSET;

    return slcf;
}


static char *
kl_http_static_merge_loc_conf(kl_conf_t *cf, void *parent, void *child)
{
    kl_http_static_loc_conf_t *prev = parent;
    kl_http_static_loc_conf_t *conf = child;

    (void) cf;

    /* A location without the directive shares its parent's cache. */
    kl_conf_merge_ptr_value(conf->cache, prev->cache, NULL);
    kl_conf_merge_sec_value(conf->valid, prev->valid, 60);
    kl_conf_merge_value(conf->min_uses, prev->min_uses, 1);
    kl_conf_merge_value(conf->errors, prev->errors, 0);

    return KL_CONF_OK;
}


/* open_file_cache max=N [inactive=T] | off */
static char *
kl_http_static_open_file_cache(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    time_t                     inactive;
    kl_int_t                   max, n;
    kl_str_t                  *value, s;
    kl_uint_t                  i;
    kl_http_static_loc_conf_t *slcf = conf;

    (void) cmd;

    if (slcf->cache != KL_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;
    max = 0;
    inactive = 60;

    for (i = 1; i < cf->args->nelts; i++) {

        if (value[i].len > 4 && kl_strncmp(value[i].data, "max=", 4) == 0) {
            s.data = value[i].data + 4;
            s.len = value[i].len - 4;
            max = kl_atoi(s.data, s.len);

            if (max <= 0) {
                goto failed;
            }

            continue;
        }

        if (value[i].len > 9 && kl_strncmp(value[i].data, "inactive=", 9) == 0)
        {
            s.data = value[i].data + 9;
            s.len = value[i].len - 9;
            n = kl_conf_parse_time(&s, 1);

            if (n == KL_ERROR) {
                goto failed;
            }

            inactive = (time_t) n;
            continue;
        }

        if (value[i].len == 3 && kl_strncmp(value[i].data, "off", 3) == 0) {
            slcf->cache = NULL;
            continue;
        }

failed:
        kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                          "invalid \"open_file_cache\" parameter \"%V\"",
                          &value[i]);
        return KL_CONF_ERROR;
    }

    if (slcf->cache == NULL) {
        /* nginx: "off" wins over any other parameter given with it. */
        return KL_CONF_OK;
    }

    if (max == 0) {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                          "\"open_file_cache\" must have the \"max\" "
                          "parameter");
        return KL_CONF_ERROR;
    }

    slcf->cache = kl_open_file_cache_create(cf->pool, max, inactive);
    if (slcf->cache == NULL) {
        return KL_CONF_ERROR;
    }

    return KL_CONF_OK;
}


static kl_int_t
kl_http_static_init(kl_conf_t *cf)
{
    return kl_http_add_phase_handler(cf, KL_HTTP_CONTENT_PHASE,
                                     kl_http_static_handler);
}


static kl_int_t
kl_http_static_open_error(kl_http_request_t *r, kl_err_t err, kl_str_t *path)
{
    kl_uint_t                level;
    kl_int_t                 rc;
    kl_http_core_loc_conf_t *clcf;

    switch (err) {

    case ENOENT:
    case ENOTDIR:
    case ENAMETOOLONG:
        level = KL_LOG_ERR;
        rc = KL_HTTP_NOT_FOUND;
        break;

    case EACCES:
    case ELOOP:
        level = KL_LOG_ERR;
        rc = KL_HTTP_FORBIDDEN;
        break;

    default:
        level = KL_LOG_CRIT;
        rc = KL_HTTP_INTERNAL_SERVER_ERROR;
        break;
    }

    clcf = kl_http_get_module_loc_conf(r, kl_http_core_module);

    if (rc != KL_HTTP_NOT_FOUND || clcf->log_not_found) {
        kl_log_error(level, r->connection->log, err, "open() \"%s\" failed",
                     path->data);
    }

    return rc;
}


static kl_int_t
kl_http_static_handler(kl_http_request_t *r)
{
    size_t                     root;
    kl_int_t                   rc;
    kl_str_t                   path;
    kl_buf_t                  *b;
    kl_file_t                 *file;
    kl_chain_t                 out;
    kl_open_file_info_t        of;
    kl_http_static_loc_conf_t *slcf;

    if (!(r->method & (KL_HTTP_GET | KL_HTTP_HEAD | KL_HTTP_POST))) {
        return kl_http_static_not_allowed(r);
    }

    if (r->uri.len == 0 || r->uri.data[r->uri.len - 1] == '/') {
        return KL_DECLINED;
    }

    if (r->uri.data[0] != '/') {
        /* "OPTIONS *" and the like name no file. */
        return KL_HTTP_NOT_FOUND;
    }

    if (kl_http_map_uri_to_path(r, &path, &root, 0) == NULL) {
        return KL_HTTP_INTERNAL_SERVER_ERROR;
    }

    slcf = kl_http_get_module_loc_conf(r, kl_http_static_module);

    kl_memzero(&of, sizeof(kl_open_file_info_t));
    of.valid = slcf->valid;
    of.min_uses = slcf->min_uses;
    of.errors = slcf->errors ? 1 : 0;
    of.read_small = KL_HTTP_STATIC_SMALL;

    if (kl_http_set_disable_symlinks(r, &path, &of) != KL_OK) {
        return KL_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (kl_open_cached_file(slcf->cache, &path, &of, r->pool, kl_loop.clock.sec)
        != KL_OK)
    {
        if (of.err == ENOMEM || of.failed == NULL
            || kl_strcmp(of.failed, "open()") != 0)
        {
            kl_log_error(KL_LOG_CRIT, r->connection->log, of.err,
                         "%s \"%s\" failed", of.failed ? of.failed : "open()",
                         path.data);
            return KL_HTTP_INTERNAL_SERVER_ERROR;
        }

        return kl_http_static_open_error(r, of.err, &path);
    }

    if (of.is_dir) {
        return kl_http_static_redirect_dir(r);
    }

    if (!of.is_file) {
        kl_log_error(KL_LOG_CRIT, r->connection->log, 0,
                     "\"%s\" is not a regular file", path.data);
        return KL_HTTP_NOT_FOUND;
    }

    /* nginx: POST to a static file exists, but is not allowed. */
    if (r->method == KL_HTTP_POST) {
        return kl_http_static_not_allowed(r);
    }

    rc = kl_http_discard_request_body(r);

    if (rc != KL_OK) {
        return rc;
    }

    r->headers_out.status = KL_HTTP_OK;
    r->headers_out.content_length_n = of.size;
    r->headers_out.last_modified_time = of.mtime;

    if (kl_http_set_etag(r) != KL_OK || kl_http_set_content_type(r) != KL_OK) {
        return KL_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->allow_ranges = 1;

    /* A 304 or 412 from the filters, or HEAD, ends with the head. */
    rc = kl_http_send_header(r);

    if (rc == KL_ERROR || rc > KL_OK || r->header_only) {
        return rc;
    }

    b = kl_buf_calloc(r->pool);
    if (b == NULL) {
        return KL_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->last_buf = 1;

    if (of.data) {
        /* The cache's copy outlives the request: it holds the entry. */
        b->pos = of.data;
        b->last = of.data + of.size;
        b->memory = 1;

    } else if (of.size) {
        file = kl_pcalloc(r->pool, sizeof(kl_file_t));
        if (file == NULL) {
            return KL_HTTP_INTERNAL_SERVER_ERROR;
        }

        file->fd = of.fd;
        file->name = path;
        file->log = r->connection->log;
        file->info.st_size = of.size;
        file->info.st_mtime = of.mtime;
        file->info.st_ino = of.inode;
        file->info.st_mode = S_IFREG;

        b->file = file;
        b->file_pos = 0;
        b->file_last = of.size;
        b->in_file = 1;
    }

    out.buf = b;
    out.next = NULL;

    return kl_http_output_filter(r, &out);
}


static kl_int_t
kl_http_static_redirect_dir(kl_http_request_t *r)
{
    size_t    len;
    u_char   *p;
    kl_str_t  location;
    uintptr_t escape;

    /*
     * "/dir" is a directory: send the client to "/dir/", the decoded path
     * escaped again (a space or an 8-bit byte cannot go in a field raw),
     * and the args as they came, as nginx does.
     */
    escape = kl_escape_uri(NULL, r->uri.data, r->uri.len, KL_ESCAPE_URI);
    len = r->uri.len + escape + 1;

    if (r->args.len) {
        len += 1 + r->args.len;
    }

    location.data = kl_pnalloc(r->pool, len);
    if (location.data == NULL) {
        return KL_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (escape) {
        p = location.data + r->uri.len + escape;
        (void) kl_escape_uri(location.data, r->uri.data, r->uri.len,
                             KL_ESCAPE_URI);
    } else {
        p = kl_cpymem(location.data, r->uri.data, r->uri.len);
    }

    *p++ = '/';

    if (r->args.len) {
        *p++ = '?';
        p = kl_cpymem(p, r->args.data, r->args.len);
    }

    location.len = p - location.data;

    return kl_http_send_redirect(r, KL_HTTP_MOVED_PERMANENTLY, &location);
}


/* RFC 9110 15.5.6: a 405 names the methods that are allowed. */
static kl_int_t
kl_http_static_not_allowed(kl_http_request_t *r)
{
    kl_table_elt_t *h;

    h = kl_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return KL_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->hash = 1;
    h->next = NULL;
    kl_str_set(&h->key, "Allow");
    kl_str_set(&h->value, "GET, HEAD");

    return KL_HTTP_NOT_ALLOWED;
}
