/*
 * auth_basic.c: auth_basic off|REALM and auth_basic_user_file FILE, as
 * nginx's auth_basic module: HTTP Basic authentication (RFC 7617)
 * against an htpasswd file.
 *
 * The file is read again for each request that needs it, as nginx does,
 * so an edit is seen at once; it is read through a fixed buffer (no
 * size taken from fstat), so a file that grows, shrinks or is replaced
 * while it is read gives some set of lines and never an overrun. A line
 * that does not parse is logged with the file and line and never
 * matches; the first line naming the user decides.
 */

#include "kl_http.h"
#include "htpasswd.h"


/* A line longer than this is malformed (htpasswd lines are short). */
#define KL_HTTP_AUTH_BASIC_BUF 4096

typedef struct {
    kl_http_complex_value_t *realm;     /* NULL: unset */
    kl_http_complex_value_t *user_file; /* NULL: unset */
} kl_http_auth_basic_loc_conf_t;

/* What the user file says about one user. */
typedef struct {
    kl_str_t  hash;
    kl_uint_t line;
} kl_http_auth_basic_entry_t;


static void    *kl_http_auth_basic_create_loc_conf(kl_conf_t *cf);
static char    *kl_http_auth_basic_merge_loc_conf(kl_conf_t *cf, void *parent,
                                                  void *child);
static kl_int_t kl_http_auth_basic_init(kl_conf_t *cf);
static char    *kl_http_auth_basic_user_file(kl_conf_t *cf, kl_command_t *cmd,
                                             void *conf);


/* clang-format off */
static kl_command_t  kl_http_auth_basic_commands[] = {

    { kl_string("auth_basic"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF
      | KL_HTTP_LMT_CONF | KL_CONF_TAKE1,
      kl_http_set_complex_value_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_auth_basic_loc_conf_t, realm),
      NULL },

    { kl_string("auth_basic_user_file"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF
      | KL_HTTP_LMT_CONF | KL_CONF_TAKE1,
      kl_http_auth_basic_user_file,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_auth_basic_loc_conf_t, user_file),
      NULL },

    kl_null_command
};
/* clang-format on */


static kl_http_module_t kl_http_auth_basic_module_ctx = {
    .postconfiguration = kl_http_auth_basic_init,
    .create_loc_conf = kl_http_auth_basic_create_loc_conf,
    .merge_loc_conf = kl_http_auth_basic_merge_loc_conf,
};


kl_module_t kl_http_auth_basic_module = {
    .name = "kl_http_auth_basic_module",
    .type = KL_HTTP_MODULE,
    .ctx = &kl_http_auth_basic_module_ctx,
    .commands = kl_http_auth_basic_commands,
};


/* 401 with WWW-Authenticate: Basic realm="REALM", as nginx sends it. */
static kl_int_t
kl_http_auth_basic_set_realm(kl_http_request_t *r, kl_str_t *realm)
{
    u_char         *p;
    size_t          len;
    kl_table_elt_t *h;

    h = kl_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return KL_HTTP_INTERNAL_SERVER_ERROR;
    }

    len = sizeof("Basic realm=\"\"") - 1 + realm->len;

    p = kl_pnalloc(r->pool, len);
    if (p == NULL) {
        return KL_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->hash = 1;
    h->next = NULL;
    h->lowcase_key = NULL;
    kl_str_set(&h->key, "WWW-Authenticate");
    h->value.data = p;

    p = kl_cpymem(p, "Basic realm=\"", sizeof("Basic realm=\"") - 1);
    p = kl_cpymem(p, realm->data, realm->len);
    *p++ = '"';

    h->value.len = (size_t) (p - h->value.data);

    return KL_HTTP_UNAUTHORIZED;
}


/* One complete line: KL_OK when it names user (entry filled). */
static kl_int_t
kl_http_auth_basic_line(kl_http_request_t *r, const char *file, u_char *line,
                        size_t len, kl_uint_t n, kl_str_t *user,
                        kl_http_auth_basic_entry_t *entry)
{
    kl_int_t rc;
    kl_str_t name, hash;

    rc = kl_htpasswd_parse_line(line, len, &name, &hash);

    if (rc == KL_DECLINED) {
        return KL_DECLINED;
    }

    if (rc == KL_ERROR) {
        kl_log_error(KL_LOG_ERR, r->connection->log, 0,
                     "invalid line in user file \"%s\" at line %ui", file, n);
        return KL_DECLINED;
    }

    if (name.len != user->len || memcmp(name.data, user->data, name.len)) {
        return KL_DECLINED;
    }

    entry->hash.data = kl_pnalloc(r->pool, hash.len);
    if (entry->hash.data == NULL) {
        return KL_ERROR;
    }

    kl_memcpy(entry->hash.data, hash.data, hash.len);
    entry->hash.len = hash.len;
    entry->line = n;

    return KL_OK;
}


/*
 * Read fd line by line through buf: KL_OK (entry filled), KL_DECLINED
 * (no line for user), KL_ERROR (read failed or no memory).
 */
static kl_int_t
kl_http_auth_basic_scan(kl_http_request_t *r, kl_fd_t fd, const char *file,
                        kl_str_t *user, kl_http_auth_basic_entry_t *entry)
{
    u_char    buf[KL_HTTP_AUTH_BASIC_BUF], *p, *lf, *end;
    size_t    have;
    ssize_t   n;
    kl_int_t  rc;
    kl_uint_t line, skip, eof;

    have = 0;
    line = 0;
    skip = 0;
    eof = 0;

    while (!eof) {
        n = read(fd, buf + have, sizeof(buf) - have);

        if (n == -1) {
            if (errno == EINTR) {
                continue;
            }

            kl_log_error(KL_LOG_CRIT, r->connection->log, errno,
                         "read() \"%s\" failed", file);
            return KL_ERROR;
        }

        eof = (n == 0);
        have += (size_t) n;
        p = buf;
        end = buf + have;

        for (;;) {
            lf = memchr(p, '\n', (size_t) (end - p));

            if (lf == NULL) {
                if (!eof || p == end) {
                    break;
                }

                lf = end; /* the last line, without its LF */
            }

            line++;

            if (skip) {
                skip = 0;

            } else {
                rc = kl_http_auth_basic_line(r, file, p, (size_t) (lf - p),
                                             line, user, entry);
                if (rc != KL_DECLINED) {
                    return rc;
                }
            }

            p = lf + (lf < end);
        }

        have = (size_t) (end - p);

        if (have == sizeof(buf)) {
            /* A line that does not fit: logged once, dropped up to its LF. */
            if (!skip) {
                kl_log_error(KL_LOG_ERR, r->connection->log, 0,
                             "invalid line in user file \"%s\" at line %ui",
                             file, line + 1);
            }

            skip = 1;
            have = 0;
            continue;
        }

        memmove(buf, p, have);
    }

    return KL_DECLINED;
}


static kl_int_t
kl_http_auth_basic_find(kl_http_request_t *r, kl_str_t *user,
                        kl_http_auth_basic_entry_t *entry, char **file)
{
    char                          *path;
    kl_fd_t                        fd;
    kl_int_t                       rc;
    kl_err_t                       err;
    kl_str_t                       name;
    kl_http_auth_basic_loc_conf_t *alcf;

    alcf = kl_http_get_module_loc_conf(r, kl_http_auth_basic_module);

    if (kl_http_complex_value(r, alcf->user_file, &name) != KL_OK) {
        return KL_HTTP_INTERNAL_SERVER_ERROR;
    }

    path = kl_pnalloc(r->pool, name.len + 1);
    if (path == NULL) {
        return KL_HTTP_INTERNAL_SERVER_ERROR;
    }

    kl_memcpy(path, name.data, name.len);
    path[name.len] = '\0';
    *file = path;

    fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

    if (fd == -1) {
        err = errno;

        /* nginx's answers: a missing file is 403, any other failure 500 */
        kl_log_error(err == ENOENT ? KL_LOG_ERR : KL_LOG_CRIT,
                     r->connection->log, err, "open() \"%s\" failed", path);

        return err == ENOENT ? KL_HTTP_FORBIDDEN
                             : KL_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = kl_http_auth_basic_scan(r, fd, path, user, entry);

    close(fd);

    return rc == KL_ERROR ? KL_HTTP_INTERNAL_SERVER_ERROR : rc;
}


static kl_int_t
kl_http_auth_basic_check(kl_http_request_t *r, kl_str_t *realm, kl_str_t *user,
                         kl_str_t *passwd)
{
    char                      *file;
    kl_int_t                   rc;
    kl_http_auth_basic_entry_t entry;

    rc = kl_http_auth_basic_find(r, user, &entry, &file);

    if (rc == KL_DECLINED) {
        kl_log_error(KL_LOG_ERR, r->connection->log, 0,
                     "user \"%V\" was not found in \"%s\"", user, file);
        return kl_http_auth_basic_set_realm(r, realm);
    }

    if (rc != KL_OK) {
        return rc;
    }

    rc = kl_htpasswd_verify(r->pool, passwd, &entry.hash);

    switch (rc) {

    case KL_OK:
        return KL_OK;

    case KL_DECLINED:
        kl_log_error(KL_LOG_ERR, r->connection->log, 0,
                     "user \"%V\": password mismatch", user);
        break;

    case KL_ABORT:
        kl_log_error(KL_LOG_ERR, r->connection->log, 0,
                     "user \"%V\": crypt(3) hashes are not supported by "
                     "this build of kiln (no libcrypt), in \"%s\" at line %ui",
                     user, file, entry.line);
        break;

    default:
        kl_log_error(KL_LOG_ERR, r->connection->log, 0,
                     "user \"%V\": invalid password hash in \"%s\" at line %ui",
                     user, file, entry.line);
    }

    return kl_http_auth_basic_set_realm(r, realm);
}


static kl_int_t
kl_http_auth_basic_handler(kl_http_request_t *r)
{
    u_char                        *buf;
    kl_str_t                       realm, user, passwd, *v;
    kl_http_auth_basic_loc_conf_t *alcf;

    alcf = kl_http_get_module_loc_conf(r, kl_http_auth_basic_module);

    if (alcf->realm == NULL || alcf->user_file == NULL) {
        return KL_DECLINED;
    }

    if (kl_http_complex_value(r, alcf->realm, &realm) != KL_OK) {
        return KL_ERROR;
    }

    /* "off", also as the value of variables, as in nginx */
    if (realm.len == 3 && kl_strncmp(realm.data, "off", 3) == 0) {
        return KL_DECLINED;
    }

    if (r->headers_in.authorization == NULL) {
        goto none;
    }

    v = &r->headers_in.authorization->value;

    buf = kl_pnalloc(r->pool, v->len + 1);
    if (buf == NULL) {
        return KL_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (kl_htpasswd_credentials(v->data, v->len, buf, &user, &passwd) != KL_OK)
    {
        goto none;
    }

    return kl_http_auth_basic_check(r, &realm, &user, &passwd);

none:

    kl_log_error(KL_LOG_INFO, r->connection->log, 0,
                 "no user/password was provided for basic authentication");

    return kl_http_auth_basic_set_realm(r, &realm);
}


static void *
kl_http_auth_basic_create_loc_conf(kl_conf_t *cf)
{
    kl_http_auth_basic_loc_conf_t *conf;

    conf = kl_pcalloc(cf->pool, sizeof(kl_http_auth_basic_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    conf->realm = KL_CONF_UNSET_PTR;
    conf->user_file = KL_CONF_UNSET_PTR;

    return conf;
}


static char *
kl_http_auth_basic_merge_loc_conf(kl_conf_t *cf, void *parent, void *child)
{
    kl_http_auth_basic_loc_conf_t *prev = parent;
    kl_http_auth_basic_loc_conf_t *conf = child;

    (void) cf;

    kl_conf_merge_ptr_value(conf->realm, prev->realm, NULL);
    kl_conf_merge_ptr_value(conf->user_file, prev->user_file, NULL);

    return KL_CONF_OK;
}


static kl_int_t
kl_http_auth_basic_init(kl_conf_t *cf)
{
    return kl_http_add_phase_handler(cf, KL_HTTP_ACCESS_PHASE,
                                     kl_http_auth_basic_handler);
}


/* The file's path may hold variables; a relative one is under the conf dir. */
static char *
kl_http_auth_basic_user_file(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_str_t                       *value;
    kl_http_auth_basic_loc_conf_t  *alcf = conf;
    kl_http_compile_complex_value_t ccv;

    (void) cmd;

    if (alcf->user_file != KL_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    alcf->user_file = kl_palloc(cf->pool, sizeof(kl_http_complex_value_t));
    if (alcf->user_file == NULL) {
        return KL_CONF_ERROR;
    }

    value = cf->args->elts;

    kl_memzero(&ccv, sizeof(kl_http_compile_complex_value_t));
    ccv.cf = cf;
    ccv.value = &value[1];
    ccv.complex_value = alcf->user_file;
    ccv.conf_prefix = 1;

    if (kl_http_compile_complex_value(&ccv) != KL_OK) {
        return KL_CONF_ERROR;
    }

    return KL_CONF_OK;
}
