/*
 * gzip_static.c: "gzip_static on|off|always": for FILE, FILE.gz when it
 * exists and the client accepts gzip (always: whatever it accepts), as
 * nginx 1.22's gzip_static module: Content-Encoding: gzip, the type of
 * FILE, the length, Last-Modified and ETag of FILE.gz. With "on", a found
 * FILE.gz makes the answer depend on Accept-Encoding, so gzip_vary adds
 * Vary even when FILE is what is sent.
 *
 * It reads gzip_vary, gzip_http_version, gzip_proxied and gzip_disable
 * from the gzip filter's conf (they are nginx's core directives), so it
 * needs that module built in. FILE.gz is opened without open_file_cache:
 * static keeps that cache to itself.
 */

#include "kl_http.h"
#include "gzip_accept.h"
#include "open_file_cache.h"


#define KL_HTTP_GZIP_STATIC_OFF    0
#define KL_HTTP_GZIP_STATIC_ON     1
#define KL_HTTP_GZIP_STATIC_ALWAYS 2


typedef struct {
    kl_uint_t enable;
} kl_http_gzip_static_conf_t;


static kl_int_t kl_http_gzip_static_handler(kl_http_request_t *r);
static void    *kl_http_gzip_static_create_conf(kl_conf_t *cf);
static char    *kl_http_gzip_static_merge_conf(kl_conf_t *cf, void *parent,
                                               void *child);
static kl_int_t kl_http_gzip_static_init(kl_conf_t *cf);


static kl_conf_enum_t kl_http_gzip_static[] = {
    { kl_string("off"), KL_HTTP_GZIP_STATIC_OFF },
    { kl_string("on"), KL_HTTP_GZIP_STATIC_ON },
    { kl_string("always"), KL_HTTP_GZIP_STATIC_ALWAYS },
    { kl_null_string, 0 },
};


/* Directive tables keep one field a line, as nginx's do. */
/* clang-format off */
static kl_command_t  kl_http_gzip_static_commands[] = {

    { kl_string("gzip_static"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF
      | KL_CONF_TAKE1,
      kl_conf_set_enum_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_gzip_static_conf_t, enable),
      kl_http_gzip_static },

    kl_null_command
};
/* clang-format on */


static kl_http_module_t kl_http_gzip_static_module_ctx = {
    .postconfiguration = kl_http_gzip_static_init,
    .create_loc_conf = kl_http_gzip_static_create_conf,
    .merge_loc_conf = kl_http_gzip_static_merge_conf,
};


kl_module_t kl_http_gzip_static_module = {
    .name = "kl_http_gzip_static_module",
    .type = KL_HTTP_MODULE,
    .ctx = &kl_http_gzip_static_module_ctx,
    .commands = kl_http_gzip_static_commands,
};


/* FILE.gz: KL_OK with of filled in, KL_DECLINED (absent), or a status. */
static kl_int_t
kl_http_gzip_static_open(kl_http_request_t *r, kl_str_t *path,
                         kl_open_file_info_t *of)
{
    u_char   *p;
    size_t    root;
    kl_uint_t level;

    p = kl_http_map_uri_to_path(r, path, &root, sizeof(".gz") - 1);
    if (p == NULL) {
        return KL_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* p is at the NUL; ".gz" has its room reserved */
    *p++ = '.';
    *p++ = 'g';
    *p++ = 'z';
    *p = '\0';
    path->len = p - path->data;

    kl_memzero(of, sizeof(kl_open_file_info_t));
    of->valid = 60;
    of->min_uses = 1;

    if (kl_open_cached_file(NULL, path, of, r->pool, kl_loop.clock.sec)
        == KL_OK) {
        return KL_OK;
    }

    switch (of->err) {
    case 0:
        return KL_HTTP_INTERNAL_SERVER_ERROR;
    case ENOENT:
    case ENOTDIR:
    case ENAMETOOLONG:
        return KL_DECLINED;
    case EACCES:
    case EMLINK:
    case ELOOP:
        level = KL_LOG_ERR;
        break;
    default:
        level = KL_LOG_CRIT;
        break;
    }

    kl_log_error(level, r->connection->log, of->err, "%s \"%s\" failed",
                 of->failed ? of->failed : "open()", path->data);

    return KL_DECLINED;
}


/* Status, type of FILE, validators of FILE.gz, then the file. */
static kl_int_t
kl_http_gzip_static_send(kl_http_request_t *r, kl_str_t *path,
                         kl_open_file_info_t *of)
{
    kl_int_t        rc;
    kl_buf_t       *b;
    kl_file_t      *file;
    kl_chain_t      out;
    kl_table_elt_t *h;

    rc = kl_http_discard_request_body(r);

    if (rc != KL_OK) {
        return rc;
    }

    r->headers_out.status = KL_HTTP_OK;
    r->headers_out.content_length_n = of->size;
    r->headers_out.last_modified_time = of->mtime;

    if (kl_http_set_etag(r) != KL_OK || kl_http_set_content_type(r) != KL_OK) {
        return KL_HTTP_INTERNAL_SERVER_ERROR;
    }

    h = kl_http_push_header(r, "Content-Encoding", "gzip");
    if (h == NULL) {
        return KL_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->headers_out.content_encoding = h;

    b = kl_buf_calloc(r->pool);
    file = kl_pcalloc(r->pool, sizeof(kl_file_t));
    if (b == NULL || file == NULL) {
        return KL_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* No r->allow_ranges: nginx answers a Range with the whole FILE.gz. */

    rc = kl_http_send_header(r);

    if (rc == KL_ERROR || rc > KL_OK || r->header_only) {
        return rc;
    }

    file->fd = of->fd;
    file->name = *path;
    file->log = r->connection->log;
    file->info.st_size = of->size;
    file->info.st_mtime = of->mtime;
    file->info.st_ino = of->inode;
    file->info.st_mode = S_IFREG;

    b->last_buf = 1;
    b->file = file;
    b->file_pos = 0;
    b->file_last = of->size;
    b->in_file = of->size ? 1 : 0;

    out.buf = b;
    out.next = NULL;

    return kl_http_output_filter(r, &out);
}


static kl_int_t
kl_http_gzip_static_handler(kl_http_request_t *r)
{
    kl_int_t                    rc, ok;
    kl_str_t                    path;
    kl_open_file_info_t         of;
    kl_http_gzip_common_conf_t *gcf;
    kl_http_gzip_static_conf_t *conf;

    if (!(r->method & (KL_HTTP_GET | KL_HTTP_HEAD)) || r->uri.len == 0
        || r->uri.data[r->uri.len - 1] == '/' || r->uri.data[0] != '/')
    {
        return KL_DECLINED;
    }

    conf = kl_http_get_module_loc_conf(r, kl_http_gzip_static_module);

    if (conf->enable == KL_HTTP_GZIP_STATIC_OFF) {
        return KL_DECLINED;
    }

    gcf = kl_http_get_module_loc_conf(r, kl_http_gzip_common_module);

    ok = (conf->enable == KL_HTTP_GZIP_STATIC_ON) ? kl_http_gzip_ok(r, gcf)
                                                  : KL_OK;

    if (!gcf->vary && ok != KL_OK) {
        return KL_DECLINED;
    }

    rc = kl_http_gzip_static_open(r, &path, &of);

    if (rc != KL_OK) {
        return rc;
    }

    if (conf->enable == KL_HTTP_GZIP_STATIC_ON && gcf->vary
        && kl_http_gzip_vary(r) != KL_OK)
    {
        return KL_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ok != KL_OK || of.is_dir) {
        return KL_DECLINED;
    }

    if (!of.is_file) {
        kl_log_error(KL_LOG_CRIT, r->connection->log, 0,
                     "\"%s\" is not a regular file", path.data);
        return KL_HTTP_NOT_FOUND;
    }

    return kl_http_gzip_static_send(r, &path, &of);
}


static void *
kl_http_gzip_static_create_conf(kl_conf_t *cf)
{
    kl_http_gzip_static_conf_t *conf;

    conf = kl_palloc(cf->pool, sizeof(kl_http_gzip_static_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    conf->enable = KL_CONF_UNSET_UINT;

    return conf;
}


static char *
kl_http_gzip_static_merge_conf(kl_conf_t *cf, void *parent, void *child)
{
    kl_http_gzip_static_conf_t *prev = parent;
    kl_http_gzip_static_conf_t *conf = child;

    (void) cf;

    kl_conf_merge_uint_value(conf->enable, prev->enable,
                             KL_HTTP_GZIP_STATIC_OFF);

    return KL_CONF_OK;
}


static kl_int_t
kl_http_gzip_static_init(kl_conf_t *cf)
{
    return kl_http_add_phase_handler(cf, KL_HTTP_CONTENT_PHASE,
                                     kl_http_gzip_static_handler);
}
