/*
 * upstream_ssl.c: TLS to upstream peers: the X_ssl_* settings proxy and
 * uwsgi share (one set in kl_http_upstream_conf_t, one merge), the
 * client SSL_CTX made from them, and per connection the handshake, the
 * name (SNI and the certificate's host check), the verify result and
 * the session kept for the next connection to the same peer.
 */

#include "kl_http.h"
#include "upstream.h"


static kl_int_t kl_http_upstream_ssl_create_ctx(kl_conf_t              *cf,
                                                kl_http_upstream_ssl_t *conf,
                                                kl_http_upstream_ssl_t *prev);
static char *kl_http_upstream_ssl_password(kl_conf_t *cf, kl_str_t *file,
                                           kl_array_t **passwords);


kl_conf_enum_t kl_http_upstream_ssl_protocols[] = {
    { kl_string("SSLv2"), KL_HTTP_UPSTREAM_SSL_SSLv2 },
    { kl_string("SSLv3"), KL_HTTP_UPSTREAM_SSL_SSLv3 },
    { kl_string("TLSv1"), KL_HTTP_UPSTREAM_SSL_TLSv1 },
    { kl_string("TLSv1.1"), KL_HTTP_UPSTREAM_SSL_TLSv1_1 },
    { kl_string("TLSv1.2"), KL_HTTP_UPSTREAM_SSL_TLSv1_2 },
    { kl_string("TLSv1.3"), KL_HTTP_UPSTREAM_SSL_TLSv1_3 },
    { kl_null_string, 0 }
};


void
kl_http_upstream_ssl_init(kl_http_upstream_ssl_t *ssl)
{
    ssl->enable = KL_CONF_UNSET;
    ssl->passwords = KL_CONF_UNSET_PTR;
    ssl->protocols = KL_CONF_UNSET_UINT;
    ssl->conf_commands = KL_CONF_UNSET_PTR;
    ssl->name = KL_CONF_UNSET_PTR;
    ssl->server_name = KL_CONF_UNSET;
    ssl->session_reuse = KL_CONF_UNSET;
    ssl->verify = KL_CONF_UNSET;
    ssl->verify_depth = KL_CONF_UNSET_UINT;
    ssl->cache_max = KL_CONF_UNSET_UINT;
}


char *
kl_http_upstream_ssl_file_slot(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_str_t *field, *value;

    field = (kl_str_t *) ((char *) conf + cmd->offset);

    if (field->data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (kl_http_script_variables_count(&value[1])) {
        /* nginx loads such a name per connection; kiln cannot yet */
        return "is refused: variables in certificate names of upstream TLS "
               "are not supported by kiln yet";
    }

    *field = value[1];

    return KL_CONF_OK;
}


char *
kl_http_upstream_ssl_password_slot(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_str_t    *value;
    kl_array_t **passwords;

    passwords = (kl_array_t **) ((char *) conf + cmd->offset);

    if (*passwords != KL_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    return kl_http_upstream_ssl_password(cf, &value[1], passwords);
}


/* nginx's ngx_ssl_read_password_file: one password a line, each tried in
 * turn on the key; the file is read while the conf is. */
static char *
kl_http_upstream_ssl_password(kl_conf_t *cf, kl_str_t *file,
                              kl_array_t **passwords)
{
    int       fd;
    u_char   *p, *last, *end, buf[4096];
    ssize_t   n;
    kl_str_t *pwd, name;

    name = *file;

    if (kl_conf_full_name(cf->cycle, &name, 1) != KL_OK) {
        return KL_CONF_ERROR;
    }

    *passwords = kl_array_create(cf->pool, 4, sizeof(kl_str_t));
    if (*passwords == NULL) {
        return KL_CONF_ERROR;
    }

    fd = open((char *) name.data, O_RDONLY | O_CLOEXEC);
    if (fd == -1) {
        kl_conf_log_error(KL_LOG_EMERG, cf, errno, "open() \"%s\" failed",
                          name.data);
        return KL_CONF_ERROR;
    }

    n = read(fd, buf, sizeof(buf));
    close(fd);

    if (n < 0) {
        kl_conf_log_error(KL_LOG_EMERG, cf, errno, "read() \"%s\" failed",
                          name.data);
        return KL_CONF_ERROR;
    }

    if (n == sizeof(buf)) {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0, "too long line in \"%s\"",
                          name.data);
        return KL_CONF_ERROR;
    }

    p = buf;
    last = buf + n;

    while (p < last) {
        end = memchr(p, '\n', last - p);
        if (end == NULL) {
            end = last;
        }

        n = end - p;

        while (n && (p[n - 1] == '\r' || p[n - 1] == ' ' || p[n - 1] == '\t')) {
            n--;
        }

        if (n) {
            pwd = kl_array_push(*passwords);
            if (pwd == NULL) {
                return KL_CONF_ERROR;
            }

            pwd->len = n;
            pwd->data = kl_pnalloc(cf->pool, n + 1);
            if (pwd->data == NULL) {
                return KL_CONF_ERROR;
            }

            kl_memcpy(pwd->data, p, n);
            pwd->data[n] = '\0';
        }

        p = end + 1;
    }

    if ((*passwords)->nelts == 0) {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0, "no passwords in \"%s\"",
                          name.data);
        return KL_CONF_ERROR;
    }

    /* the bytes of the file are not left on the stack */
    explicit_bzero(buf, sizeof(buf));

    return KL_CONF_OK;
}


char *
kl_http_upstream_ssl_command_slot(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_str_t    *value;
    kl_array_t **a;
    kl_keyval_t *kv;

    a = (kl_array_t **) ((char *) conf + cmd->offset);

    if (*a == KL_CONF_UNSET_PTR) {
        *a = kl_array_create(cf->pool, 2, sizeof(kl_keyval_t));
        if (*a == NULL) {
            return KL_CONF_ERROR;
        }
    }

    kv = kl_array_push(*a);
    if (kv == NULL) {
        return KL_CONF_ERROR;
    }

    value = cf->args->elts;
    kv->key = value[1];
    kv->value = value[2];

    return KL_CONF_OK;
}


char *
kl_http_upstream_ssl_name_slot(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_str_t                 *value;
    kl_http_complex_value_t **cv;

    cv = (kl_http_complex_value_t **) ((char *) conf + cmd->offset);

    if (*cv != KL_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    *cv = kl_http_compile_value(cf, &value[1]);

    return *cv ? KL_CONF_OK : KL_CONF_ERROR;
}


/* X_ssl_certificate_cache off | max=N [inactive=time] [valid=time]:
 * cmd->offset is that of the kl_http_upstream_ssl_t. */
char *
kl_http_upstream_ssl_cache_slot(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_int_t                n;
    kl_str_t               *value, s;
    kl_uint_t               i;
    kl_http_upstream_ssl_t *ssl;

    ssl = (kl_http_upstream_ssl_t *) ((char *) conf + cmd->offset);

    if (ssl->cache_max != KL_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (cf->args->nelts == 2 && kl_strcmp(value[1].data, "off") == 0) {
        ssl->cache_max = 0;
        return KL_CONF_OK;
    }

    ssl->cache_max = KL_CONF_UNSET_UINT;
    ssl->cache_inactive = 10;
    ssl->cache_valid = 60;

    for (i = 1; i < cf->args->nelts; i++) {
        if (kl_strncmp(value[i].data, "max=", 4) == 0) {
            n = kl_atoi(value[i].data + 4, value[i].len - 4);
            if (n <= 0) {
                goto invalid;
            }

            ssl->cache_max = n;
            continue;
        }

        if (kl_strncmp(value[i].data, "inactive=", 9) == 0) {
            s.data = value[i].data + 9;
            s.len = value[i].len - 9;
            n = kl_conf_parse_time(&s, 1);
            if (n == KL_ERROR) {
                goto invalid;
            }

            ssl->cache_inactive = n;
            continue;
        }

        if (kl_strncmp(value[i].data, "valid=", 6) == 0) {
            s.data = value[i].data + 6;
            s.len = value[i].len - 6;
            n = kl_conf_parse_time(&s, 1);
            if (n == KL_ERROR) {
                goto invalid;
            }

            ssl->cache_valid = n;
            continue;
        }

        goto invalid;
    }

    if (ssl->cache_max == KL_CONF_UNSET_UINT) {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                          "\"%V\" must have \"max\" parameter", &cmd->name);
        return KL_CONF_ERROR;
    }

    return KL_CONF_OK;

invalid:

    kl_conf_log_error(KL_LOG_EMERG, cf, 0, "invalid parameter \"%V\"",
                      &value[i]);
    return KL_CONF_ERROR;
}


kl_int_t
kl_http_upstream_ssl_merge(kl_conf_t *cf, kl_http_upstream_ssl_t *conf,
                           kl_http_upstream_ssl_t *prev, const char *prefix)
{
    kl_conf_merge_value(conf->enable, prev->enable, 0);
    kl_conf_merge_str_value(conf->certificate, prev->certificate, "");
    kl_conf_merge_str_value(conf->certificate_key, prev->certificate_key, "");
    kl_conf_merge_ptr_value(conf->passwords, prev->passwords, NULL);
    kl_conf_merge_str_value(conf->ciphers, prev->ciphers, "DEFAULT");
    kl_conf_merge_uint_value(conf->protocols, prev->protocols,
                             KL_HTTP_UPSTREAM_SSL_TLSv1_2
                                 | KL_HTTP_UPSTREAM_SSL_TLSv1_3);
    kl_conf_merge_ptr_value(conf->conf_commands, prev->conf_commands, NULL);
    kl_conf_merge_str_value(conf->crl, prev->crl, "");
    kl_conf_merge_str_value(conf->trusted_certificate,
                            prev->trusted_certificate, "");
    kl_conf_merge_ptr_value(conf->name, prev->name, NULL);
    kl_conf_merge_value(conf->server_name, prev->server_name, 0);
    kl_conf_merge_value(conf->session_reuse, prev->session_reuse, 1);
    kl_conf_merge_value(conf->verify, prev->verify, 0);
    kl_conf_merge_uint_value(conf->verify_depth, prev->verify_depth, 1);

    if (conf->cache_max == KL_CONF_UNSET_UINT) {
        conf->cache_max =
            prev->cache_max == KL_CONF_UNSET_UINT ? 0 : prev->cache_max;
        conf->cache_inactive = prev->cache_inactive;
        conf->cache_valid = prev->cache_valid;
    }

    if (!conf->enable) {
        return KL_OK;
    }

    if (conf->certificate.len && conf->certificate_key.len == 0) {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                          "no \"%s_ssl_certificate_key\" is defined "
                          "for certificate \"%V\"",
                          prefix, &conf->certificate);
        return KL_ERROR;
    }

    if (conf->verify && conf->trusted_certificate.len == 0) {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                          "no %s_ssl_trusted_certificate for %s_ssl_verify",
                          prefix, prefix);
        return KL_ERROR;
    }

    return kl_http_upstream_ssl_create_ctx(cf, conf, prev);
}


#if !(KL_HTTP_UPSTREAM_SSL)

/* Without TLS no X_pass asks for it (refused there); nothing to make. */
static kl_int_t
kl_http_upstream_ssl_create_ctx(kl_conf_t *cf, kl_http_upstream_ssl_t *conf,
                                kl_http_upstream_ssl_t *prev)
{
    (void) conf;
    (void) prev;

    kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                      "TLS is not supported by this build of kiln");
    return KL_ERROR;
}


void
kl_http_upstream_ssl_connect(kl_http_request_t *r, kl_http_upstream_t *u,
                             kl_http_upstream_ssl_done_pt done)
{
    done(r, u, KL_HTTP_UPSTREAM_FT_ERROR);
}

#endif
