/* static.c: serving files under root: open, type, validators, and a sendfile body. */

#include "kl_http.h"


static kl_int_t kl_http_static_handler(kl_http_request_t *r);
static kl_int_t kl_http_static_init(kl_conf_t *cf);
static kl_int_t kl_http_static_redirect_dir(kl_http_request_t *r);
static kl_int_t kl_http_static_not_allowed(kl_http_request_t *r);


static kl_http_module_t kl_http_static_module_ctx = {
    .postconfiguration = kl_http_static_init,
};


kl_module_t kl_http_static_module = {
    .name = "kl_http_static_module",
    .type = KL_HTTP_MODULE,
    .ctx = &kl_http_static_module_ctx,
};


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
    int                     fd;
    size_t                  root;
    kl_int_t                rc;
    kl_str_t                path;
    kl_buf_t               *b;
    kl_file_t              *file;
    kl_chain_t              out;
    struct stat             st;
    kl_pool_cleanup_t      *cln;
    kl_pool_cleanup_file_t *clnf;

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

    cln = kl_pool_cleanup_add(r->pool, sizeof(kl_pool_cleanup_file_t));
    if (cln == NULL) {
        return KL_HTTP_INTERNAL_SERVER_ERROR;
    }

    fd = open((char *) path.data, O_RDONLY | O_NONBLOCK | O_CLOEXEC);

    if (fd == -1) {
        return kl_http_static_open_error(r, errno, &path);
    }

    clnf = cln->data;
    clnf->fd = fd;
    clnf->name = path.data;
    clnf->log = r->pool->log;
    cln->handler = kl_pool_cleanup_file;

    if (fstat(fd, &st) == -1) {
        kl_log_error(KL_LOG_CRIT, r->connection->log, errno,
                     "fstat() \"%s\" failed", path.data);
        return KL_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (S_ISDIR(st.st_mode)) {
        return kl_http_static_redirect_dir(r);
    }

    if (!S_ISREG(st.st_mode)) {
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
    r->headers_out.content_length_n = st.st_size;
    r->headers_out.last_modified_time = st.st_mtime;

    if (kl_http_set_etag(r) != KL_OK || kl_http_set_content_type(r) != KL_OK) {
        return KL_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (r->method == KL_HTTP_HEAD || st.st_size == 0) {
        r->header_only = (r->method == KL_HTTP_HEAD);

        rc = kl_http_send_header(r);

        if (rc == KL_ERROR || rc > KL_OK || r->header_only) {
            return rc;
        }
    }

    b = kl_buf_calloc(r->pool);
    file = kl_pcalloc(r->pool, sizeof(kl_file_t));

    if (b == NULL || file == NULL) {
        return KL_HTTP_INTERNAL_SERVER_ERROR;
    }

    file->fd = fd;
    file->name = path;
    file->log = r->connection->log;
    file->info = st;

    b->file = file;
    b->file_pos = 0;
    b->file_last = st.st_size;
    b->in_file = st.st_size ? 1 : 0;
    b->last_buf = 1;

    if (st.st_size == 0) {
        out.buf = b;
        out.next = NULL;
        return kl_http_output_filter(r, &out);
    }

    rc = kl_http_send_header(r);

    if (rc == KL_ERROR || rc > KL_OK) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;

    return kl_http_output_filter(r, &out);
}


static kl_int_t
kl_http_static_redirect_dir(kl_http_request_t *r)
{
    size_t   len;
    u_char  *p;
    kl_str_t location;

    /* "/dir" is a directory: send the client to "/dir/" (with the args). */
    len = r->uri.len + 1;

    if (r->args.len) {
        len += 1 + r->args.len;
    }

    location.data = kl_pnalloc(r->pool, len);
    if (location.data == NULL) {
        return KL_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = kl_cpymem(location.data, r->uri.data, r->uri.len);
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
