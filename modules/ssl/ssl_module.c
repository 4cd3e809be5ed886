/*
 * ssl_module.c: the server side of TLS for HTTP: the ssl_* directives
 * (http and server level), one SSL_CTX per server that has a certificate
 * (or rejects handshakes), made when the server's settings are merged
 * and handed to the engine in cscf->ssl; SNI (the name picks the server
 * as Host does, and switches the SSL_CTX), ALPN, and the $ssl_*
 * variables. The session cache and ticket keys are in ssl_session.c.
 */

#include "kl_http.h"
#include "ssl_module.h"

#if !(KL_HAVE_OPENSSL)
#error "the ssl module needs OpenSSL 3: install libssl-dev, or ./configure \
--without-http_ssl_module"
#endif

#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/evp.h>


static void    *kl_http_ssl_create_srv_conf(kl_conf_t *cf);
static char    *kl_http_ssl_merge_srv_conf(kl_conf_t *cf, void *parent,
                                           void *child);
static kl_int_t kl_http_ssl_check_enable(kl_conf_t              *cf,
                                         kl_http_ssl_srv_conf_t *conf);
static kl_int_t kl_http_ssl_add_variables(kl_conf_t *cf);
static kl_int_t kl_http_ssl_init_module(kl_cycle_t *cycle);
static char *kl_http_ssl_enable(kl_conf_t *cf, kl_command_t *cmd, void *conf);
static char *kl_http_ssl_password_file(kl_conf_t *cf, kl_command_t *cmd,
                                       void *conf);
static char *kl_http_ssl_conf_command(kl_conf_t *cf, kl_command_t *cmd,
                                      void *conf);
static char *kl_http_ssl_certificate_cache(kl_conf_t *cf, kl_command_t *cmd,
                                           void *conf);
static char *kl_http_ssl_early_data(kl_conf_t *cf, kl_command_t *cmd,
                                    void *conf);
static char *kl_http_ssl_certificate_slot(kl_conf_t *cf, kl_command_t *cmd,
                                          void *conf);


/* nginx's protocol names, old ones included (refused by OpenSSL 3's
 * default security level, as in nginx). */
static kl_conf_enum_t kl_http_ssl_protocols[] = {
    { kl_string("SSLv2"), KL_SSL_SSLv2 },
    { kl_string("SSLv3"), KL_SSL_SSLv3 },
    { kl_string("TLSv1"), KL_SSL_TLSv1 },
    { kl_string("TLSv1.1"), KL_SSL_TLSv1_1 },
    { kl_string("TLSv1.2"), KL_SSL_TLSv1_2 },
    { kl_string("TLSv1.3"), KL_SSL_TLSv1_3 },
    { kl_null_string, 0 }
};


/* Directive tables keep one field a line, as nginx's do. */
/* clang-format off */
#define KL_HTTP_SSL_CONF (KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF)

static kl_command_t  kl_http_ssl_commands[] = {

    { kl_string("ssl"),
      KL_HTTP_SSL_CONF | KL_CONF_FLAG,
      kl_http_ssl_enable,
      KL_HTTP_SRV_CONF_OFFSET,
      offsetof(kl_http_ssl_srv_conf_t, enable),
      NULL },

    { kl_string("ssl_certificate"),
      KL_HTTP_SSL_CONF | KL_CONF_TAKE1,
      kl_http_ssl_certificate_slot,
      KL_HTTP_SRV_CONF_OFFSET,
      offsetof(kl_http_ssl_srv_conf_t, certificates),
      NULL },

    { kl_string("ssl_certificate_key"),
      KL_HTTP_SSL_CONF | KL_CONF_TAKE1,
      kl_http_ssl_certificate_slot,
      KL_HTTP_SRV_CONF_OFFSET,
      offsetof(kl_http_ssl_srv_conf_t, certificate_keys),
      NULL },

    { kl_string("ssl_certificate_cache"),
      KL_HTTP_SSL_CONF | KL_CONF_TAKE123,
      kl_http_ssl_certificate_cache,
      KL_HTTP_SRV_CONF_OFFSET,
      0,
      NULL },

    { kl_string("ssl_password_file"),
      KL_HTTP_SSL_CONF | KL_CONF_TAKE1,
      kl_http_ssl_password_file,
      KL_HTTP_SRV_CONF_OFFSET,
      0,
      NULL },

    { kl_string("ssl_protocols"),
      KL_HTTP_SSL_CONF | KL_CONF_1MORE,
      kl_conf_set_bitmask_slot,
      KL_HTTP_SRV_CONF_OFFSET,
      offsetof(kl_http_ssl_srv_conf_t, protocols),
      kl_http_ssl_protocols },

    { kl_string("ssl_ciphers"),
      KL_HTTP_SSL_CONF | KL_CONF_TAKE1,
      kl_conf_set_str_slot,
      KL_HTTP_SRV_CONF_OFFSET,
      offsetof(kl_http_ssl_srv_conf_t, ciphers),
      NULL },

    { kl_string("ssl_prefer_server_ciphers"),
      KL_HTTP_SSL_CONF | KL_CONF_FLAG,
      kl_conf_set_flag_slot,
      KL_HTTP_SRV_CONF_OFFSET,
      offsetof(kl_http_ssl_srv_conf_t, prefer_server_ciphers),
      NULL },

    { kl_string("ssl_ecdh_curve"),
      KL_HTTP_SSL_CONF | KL_CONF_TAKE1,
      kl_conf_set_str_slot,
      KL_HTTP_SRV_CONF_OFFSET,
      offsetof(kl_http_ssl_srv_conf_t, ecdh_curve),
      NULL },

    { kl_string("ssl_dhparam"),
      KL_HTTP_SSL_CONF | KL_CONF_TAKE1,
      kl_conf_set_str_slot,
      KL_HTTP_SRV_CONF_OFFSET,
      offsetof(kl_http_ssl_srv_conf_t, dhparam),
      NULL },

    { kl_string("ssl_conf_command"),
      KL_HTTP_SSL_CONF | KL_CONF_TAKE2,
      kl_http_ssl_conf_command,
      KL_HTTP_SRV_CONF_OFFSET,
      0,
      NULL },

    { kl_string("ssl_session_cache"),
      KL_HTTP_SSL_CONF | KL_CONF_TAKE12,
      kl_http_ssl_session_cache,
      KL_HTTP_SRV_CONF_OFFSET,
      0,
      NULL },

    { kl_string("ssl_session_timeout"),
      KL_HTTP_SSL_CONF | KL_CONF_TAKE1,
      kl_conf_set_sec_slot,
      KL_HTTP_SRV_CONF_OFFSET,
      offsetof(kl_http_ssl_srv_conf_t, session_timeout),
      NULL },

    { kl_string("ssl_session_tickets"),
      KL_HTTP_SSL_CONF | KL_CONF_FLAG,
      kl_conf_set_flag_slot,
      KL_HTTP_SRV_CONF_OFFSET,
      offsetof(kl_http_ssl_srv_conf_t, session_tickets),
      NULL },

    { kl_string("ssl_session_ticket_key"),
      KL_HTTP_SSL_CONF | KL_CONF_TAKE1,
      kl_conf_set_str_array_slot,
      KL_HTTP_SRV_CONF_OFFSET,
      offsetof(kl_http_ssl_srv_conf_t, session_ticket_keys),
      NULL },

    { kl_string("ssl_buffer_size"),
      KL_HTTP_SSL_CONF | KL_CONF_TAKE1,
      kl_conf_set_size_slot,
      KL_HTTP_SRV_CONF_OFFSET,
      offsetof(kl_http_ssl_srv_conf_t, buffer_size),
      NULL },

    { kl_string("ssl_early_data"),
      KL_HTTP_SSL_CONF | KL_CONF_FLAG,
      kl_http_ssl_early_data,
      KL_HTTP_SRV_CONF_OFFSET,
      offsetof(kl_http_ssl_srv_conf_t, early_data),
      NULL },

    { kl_string("ssl_reject_handshake"),
      KL_HTTP_SSL_CONF | KL_CONF_FLAG,
      kl_conf_set_flag_slot,
      KL_HTTP_SRV_CONF_OFFSET,
      offsetof(kl_http_ssl_srv_conf_t, reject_handshake),
      NULL },

    { kl_string("ssl_certificate_compression"),
      KL_HTTP_SSL_CONF | KL_CONF_FLAG,
      kl_conf_set_flag_slot,
      KL_HTTP_SRV_CONF_OFFSET,
      offsetof(kl_http_ssl_srv_conf_t, certificate_compression),
      NULL },

    kl_null_command
};
/* clang-format on */


static kl_http_module_t kl_http_ssl_module_ctx = {
    .preconfiguration = kl_http_ssl_add_variables,

    .create_srv_conf = kl_http_ssl_create_srv_conf,
    .merge_srv_conf = kl_http_ssl_merge_srv_conf,
};


kl_module_t kl_http_ssl_module = {
    .name = "kl_http_ssl_module",
    .type = KL_HTTP_MODULE,
    .ctx = &kl_http_ssl_module_ctx,
    .commands = kl_http_ssl_commands,
    .init_module = kl_http_ssl_init_module,
};


/* ALPN: what HTTP/1 speaks; "h2" goes first here once HTTP/2 lands. */
static const u_char kl_http_ssl_alpn[] = "\x08http/1.1\x08http/1.0";


/*
 * ssl on|off: nginx 1.22's deprecated switch (removed in 1.25.1), kept
 * because real configs still use it: warned about, and an address whose
 * default server has it on speaks TLS as with listen ... ssl.
 */
static char *
kl_http_ssl_enable(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    char                   *rv;
    kl_http_ssl_srv_conf_t *sscf;

    sscf = conf;

    rv = kl_conf_set_flag_slot(cf, cmd, conf);
    if (rv != KL_CONF_OK) {
        return rv;
    }

    sscf->enable_file = cf->conf_file->file.name.data;
    sscf->enable_line = cf->conf_file->line;

    kl_conf_log_error(KL_LOG_WARN, cf, 0,
                      "the \"ssl\" directive is deprecated, "
                      "use the \"listen ... ssl\" directive instead");

    return KL_CONF_OK;
}


/*
 * ssl_early_data: kiln does not read TLS 1.3 0-RTT data yet, so "on" is
 * warned about and the context offers no early data: clients send their
 * request after the handshake, as with "off" (nginx warns and goes on so
 * where its OpenSSL lacks early data).
 */
static char *
kl_http_ssl_early_data(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    char                   *rv;
    kl_http_ssl_srv_conf_t *sscf;

    sscf = conf;

    rv = kl_conf_set_flag_slot(cf, cmd, conf);

    if (rv == KL_CONF_OK && sscf->early_data) {
        kl_conf_log_error(KL_LOG_WARN, cf, 0,
                          "\"ssl_early_data\" is not supported by kiln yet, "
                          "ignored: clients send requests after the "
                          "handshake");
    }

    return rv;
}


/* ssl_certificate and ssl_certificate_key: a list, and where it was set. */
static char *
kl_http_ssl_certificate_slot(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    char                   *rv;
    kl_http_ssl_srv_conf_t *sscf;

    sscf = conf;

    rv = kl_conf_set_str_array_slot(cf, cmd, conf);

    if (rv == KL_CONF_OK && sscf->file == NULL) {
        sscf->file = cf->conf_file->file.name.data;
        sscf->line = cf->conf_file->line;
    }

    return rv;
}


static char *
kl_http_ssl_password_file(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_str_t               *value, name;
    kl_http_ssl_srv_conf_t *sscf;

    (void) cmd;

    sscf = conf;

    if (sscf->passwords != KL_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;
    name = value[1];

    if (kl_conf_full_name(cf->cycle, &name, 1) != KL_OK) {
        return KL_CONF_ERROR;
    }

    sscf->passwords = kl_ssl_read_password_file(cf->pool, &name, cf->log);
    if (sscf->passwords == NULL) {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                          "cannot read passwords from \"%V\"", &name);
        return KL_CONF_ERROR;
    }

    return KL_CONF_OK;
}


static char *
kl_http_ssl_conf_command(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_str_t               *value;
    kl_keyval_t            *kv;
    kl_http_ssl_srv_conf_t *sscf;

    (void) cmd;

    sscf = conf;
    value = cf->args->elts;

    if (sscf->conf_commands == KL_CONF_UNSET_PTR) {
        sscf->conf_commands = kl_array_create(cf->pool, 4, sizeof(kl_keyval_t));
        if (sscf->conf_commands == NULL) {
            return KL_CONF_ERROR;
        }
    }

    kv = kl_array_push(sscf->conf_commands);
    if (kv == NULL) {
        return KL_CONF_ERROR;
    }

    kv->key = value[1];
    kv->value = value[2];

    return KL_CONF_OK;
}


/*
 * ssl_certificate_cache off | max=N [inactive=time] [valid=time]: the
 * cache of certificates named with variables (ssl_certificate.c);
 * inactive 10s and valid 60s by default, as nginx.
 */
static char *
kl_http_ssl_certificate_cache(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_int_t                n;
    kl_str_t               *value, s;
    kl_uint_t               i;
    kl_http_ssl_srv_conf_t *sscf;

    (void) cmd;

    sscf = conf;
    value = cf->args->elts;

    if (sscf->certificate_cache != KL_CONF_UNSET) {
        return "is duplicate";
    }

    if (cf->args->nelts == 2 && kl_strcmp(value[1].data, "off") == 0) {
        sscf->certificate_cache = 0;
        return KL_CONF_OK;
    }

    sscf->certificate_cache = 0;
    sscf->cache_inactive = 10;
    sscf->cache_valid = 60;

    for (i = 1; i < cf->args->nelts; i++) {
        if (kl_strncmp(value[i].data, "max=", 4) == 0) {
            n = kl_atoi(value[i].data + 4, value[i].len - 4);
            if (n == KL_ERROR || n == 0) {
                goto invalid;
            }
            sscf->certificate_cache = n;
            continue;
        }

        if (kl_strncmp(value[i].data, "inactive=", 9) == 0
            || kl_strncmp(value[i].data, "valid=", 6) == 0)
        {
            s.data = (u_char *) memchr(value[i].data, '=', value[i].len) + 1;
            s.len = value[i].data + value[i].len - s.data;

            n = kl_conf_parse_time(&s, 1);
            if (n == KL_ERROR) {
                goto invalid;
            }

            if (value[i].data[0] == 'i') {
                sscf->cache_inactive = (time_t) n;
            } else {
                sscf->cache_valid = (time_t) n;
            }
            continue;
        }

        goto invalid;
    }

    if (sscf->certificate_cache == 0) {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                          "\"ssl_certificate_cache\" must have \"max\" "
                          "parameter");
        return KL_CONF_ERROR;
    }

    return KL_CONF_OK;

invalid:

    kl_conf_log_error(KL_LOG_EMERG, cf, 0, "invalid parameter \"%V\"",
                      &value[i]);
    return KL_CONF_ERROR;
}


static void *
kl_http_ssl_create_srv_conf(kl_conf_t *cf)
{
    kl_http_ssl_srv_conf_t *sscf;

    sscf = kl_pcalloc(cf->pool, sizeof(kl_http_ssl_srv_conf_t));
    if (sscf == NULL) {
        return NULL;
    }

    /*
     * pcalloc: ssl (no context), file NULL, ciphers, ecdh_curve, dhparam
     * and the session cache's zone unset.
     */
    sscf->protocols = KL_CONF_UNSET_UINT;
    sscf->certificates = KL_CONF_UNSET_PTR;
    sscf->certificate_keys = KL_CONF_UNSET_PTR;
    sscf->passwords = KL_CONF_UNSET_PTR;
    sscf->conf_commands = KL_CONF_UNSET_PTR;
    sscf->session_ticket_keys = KL_CONF_UNSET_PTR;
    sscf->prefer_server_ciphers = KL_CONF_UNSET;
    sscf->session_tickets = KL_CONF_UNSET;
    sscf->enable = KL_CONF_UNSET;
    sscf->early_data = KL_CONF_UNSET;
    sscf->reject_handshake = KL_CONF_UNSET;
    sscf->certificate_compression = KL_CONF_UNSET;
    sscf->certificate_cache = KL_CONF_UNSET;
    sscf->builtin_session_cache = KL_CONF_UNSET;
    sscf->session_timeout = KL_CONF_UNSET;
    sscf->buffer_size = KL_CONF_UNSET_SIZE;

    return sscf;
}


/*
 * A log that adds " in FILE:LINE" (where the server's certificates were
 * named), so that a key that does not load says where it was asked for.
 */
typedef struct {
    u_char   *file;
    kl_uint_t line;
} kl_http_ssl_where_t;


static u_char *
kl_http_ssl_log_where(kl_log_t *log, u_char *buf, size_t len)
{
    kl_http_ssl_where_t *w;

    w = log->data;

    if (w->file == NULL) {
        return buf;
    }

    return kl_slprintf(buf, buf + len, " in %s:%ui", w->file, w->line);
}


static kl_int_t
kl_http_ssl_certificates(kl_conf_t *cf, kl_http_ssl_srv_conf_t *sscf,
                         kl_log_t *log)
{
    kl_str_t   *cert, *key, c, k;
    kl_uint_t   i;
    kl_array_t *passwords;

    cert = sscf->certificates->elts;
    key = sscf->certificate_keys->elts;
    passwords = sscf->passwords == KL_CONF_UNSET_PTR ? NULL : sscf->passwords;

    for (i = 0; i < sscf->certificates->nelts; i++) {
        c = cert[i];
        k = key[i];

        if (kl_strncmp(c.data, "data:", 5) != 0
            && kl_conf_full_name(cf->cycle, &c, 1) != KL_OK)
        {
            return KL_ERROR;
        }

        if (kl_strncmp(k.data, "data:", 5) != 0
            && kl_conf_full_name(cf->cycle, &k, 1) != KL_OK)
        {
            return KL_ERROR;
        }

        if (kl_ssl_certificate(&sscf->ssl, &c, &k, passwords, log) != KL_OK) {
            return KL_ERROR;
        }
    }

    return KL_OK;
}


/* Settings that apply to the context once it has its certificates. */
static kl_int_t
kl_http_ssl_configure(kl_conf_t *cf, kl_http_ssl_srv_conf_t *sscf,
                      kl_log_t *log)
{
    kl_str_t name;

    if (kl_ssl_ciphers(&sscf->ssl, &sscf->ciphers, sscf->prefer_server_ciphers,
                       log)
        != KL_OK)
    {
        return KL_ERROR;
    }

    if (kl_ssl_ecdh_curve(&sscf->ssl, &sscf->ecdh_curve, log) != KL_OK) {
        return KL_ERROR;
    }

    if (sscf->dhparam.len) {
        name = sscf->dhparam;
        if (kl_conf_full_name(cf->cycle, &name, 1) != KL_OK
            || kl_ssl_dhparam(&sscf->ssl, &name, log) != KL_OK)
        {
            return KL_ERROR;
        }
    }

    if (kl_ssl_alpn(&sscf->ssl, kl_http_ssl_alpn, sizeof(kl_http_ssl_alpn) - 1)
        != KL_OK)
    {
        return KL_ERROR;
    }

#ifdef SSL_OP_NO_TX_CERTIFICATE_COMPRESSION
    if (!sscf->certificate_compression) {
        SSL_CTX_set_options(sscf->ssl.ctx,
                            SSL_OP_NO_TX_CERTIFICATE_COMPRESSION);
    }
#else
    if (sscf->certificate_compression) {
        kl_log_error(KL_LOG_WARN, log, 0,
                     "\"ssl_certificate_compression\" is not supported "
                     "by this OpenSSL (3.2 or later needed), ignored");
    }
#endif

    if (kl_http_ssl_session_setup(cf, sscf, log) != KL_OK) {
        return KL_ERROR;
    }

    return KL_OK;
}


/*
 * ssl on needs what listen ... ssl needs, said as nginx 1.22 says it:
 * a certificate with its key (or ssl_reject_handshake), checked for
 * every server where it is on, default or not.
 */
static kl_int_t
kl_http_ssl_check_enable(kl_conf_t *cf, kl_http_ssl_srv_conf_t *conf)
{
    kl_str_t *cert;

    if (!conf->enable) {
        return KL_OK;
    }

    if (conf->certificates == NULL) {
        if (conf->reject_handshake) {
            return KL_OK;
        }

        kl_log_error(KL_LOG_EMERG, cf->log, 0,
                     "no \"ssl_certificate\" is defined for "
                     "the \"ssl\" directive in %s:%ui",
                     conf->enable_file, conf->enable_line);
        return KL_ERROR;
    }

    if (conf->certificate_keys == NULL) {
        kl_log_error(KL_LOG_EMERG, cf->log, 0,
                     "no \"ssl_certificate_key\" is defined for "
                     "the \"ssl\" directive in %s:%ui",
                     conf->enable_file, conf->enable_line);
        return KL_ERROR;
    }

    if (conf->certificate_keys->nelts < conf->certificates->nelts) {
        cert = conf->certificates->elts;
        kl_log_error(KL_LOG_EMERG, cf->log, 0,
                     "no \"ssl_certificate_key\" is defined for "
                     "certificate \"%V\" and the \"ssl\" directive in %s:%ui",
                     &cert[conf->certificates->nelts - 1], conf->enable_file,
                     conf->enable_line);
        return KL_ERROR;
    }

    return KL_OK;
}


static char *
kl_http_ssl_merge_srv_conf(kl_conf_t *cf, void *parent, void *child)
{
    kl_log_t                 log;
    kl_http_ssl_where_t      where;
    kl_http_ssl_srv_conf_t  *prev, *conf;
    kl_http_core_srv_conf_t *cscf;

    prev = parent;
    conf = child;

    kl_conf_merge_uint_value(conf->protocols, prev->protocols,
                             KL_SSL_DEFAULT_PROTOCOLS);
    kl_conf_merge_ptr_value(conf->certificates, prev->certificates, NULL);
    kl_conf_merge_ptr_value(conf->certificate_keys, prev->certificate_keys,
                            NULL);
    kl_conf_merge_ptr_value(conf->passwords, prev->passwords, NULL);
    kl_conf_merge_ptr_value(conf->conf_commands, prev->conf_commands, NULL);
    kl_conf_merge_ptr_value(conf->session_ticket_keys,
                            prev->session_ticket_keys, NULL);
    kl_conf_merge_value(conf->prefer_server_ciphers,
                        prev->prefer_server_ciphers, 0);
    kl_conf_merge_value(conf->session_tickets, prev->session_tickets, 1);
    kl_conf_merge_value(conf->early_data, prev->early_data, 0);
    kl_conf_merge_value(conf->reject_handshake, prev->reject_handshake, 0);
    kl_conf_merge_value(conf->certificate_compression,
                        prev->certificate_compression, 0);
    if (conf->certificate_cache == KL_CONF_UNSET) {
        conf->certificate_cache = prev->certificate_cache;
        conf->cache_inactive = prev->cache_inactive;
        conf->cache_valid = prev->cache_valid;
    }

    if (conf->certificate_cache == KL_CONF_UNSET) {
        conf->certificate_cache = 0;
    }
    kl_conf_merge_value(conf->session_timeout, prev->session_timeout, 300);
    kl_conf_merge_size_value(conf->buffer_size, prev->buffer_size,
                             KL_SSL_BUFSIZE);
    kl_conf_merge_str_value(conf->ciphers, prev->ciphers, "HIGH:!aNULL:!MD5");
    kl_conf_merge_str_value(conf->ecdh_curve, prev->ecdh_curve, "auto");
    kl_conf_merge_str_value(conf->dhparam, prev->dhparam, "");

    if (conf->builtin_session_cache == KL_CONF_UNSET) {
        conf->builtin_session_cache = prev->builtin_session_cache;
        conf->shm_zone = prev->shm_zone;
    }

    if (conf->builtin_session_cache == KL_CONF_UNSET) {
        conf->builtin_session_cache = KL_HTTP_SSL_NONE_SCACHE;
    }

    if (conf->file == NULL) {
        conf->file = prev->file;
        conf->line = prev->line;
    }

    if (conf->enable == KL_CONF_UNSET) {
        conf->enable = prev->enable;
        conf->enable_file = prev->enable_file;
        conf->enable_line = prev->enable_line;
    }

    if (conf->enable == KL_CONF_UNSET) {
        conf->enable = 0;
    }

    if (kl_http_ssl_check_enable(cf, conf) != KL_OK) {
        return KL_CONF_ERROR;
    }

    if (conf->certificates == NULL && !conf->reject_handshake) {
        return KL_CONF_OK;
    }

    if (conf->certificates) {
        if (conf->certificate_keys == NULL
            || conf->certificate_keys->nelts < conf->certificates->nelts)
        {
            kl_str_t *c = conf->certificates->elts;

            kl_log_error(
                KL_LOG_EMERG, cf->log, 0,
                "no \"ssl_certificate_key\" is defined for "
                "certificate \"%V\" in %s:%ui",
                &c[conf->certificate_keys ? conf->certificate_keys->nelts : 0],
                conf->file, conf->line);
            return KL_CONF_ERROR;
        }
    }

    where.file = conf->file;
    where.line = conf->line;
    log = *cf->log;
    log.handler = kl_http_ssl_log_where;
    log.data = &where;
    log.action = NULL;

    if (kl_ssl_create(&conf->ssl, conf->protocols, cf->pool, &log) != KL_OK) {
        return KL_CONF_ERROR;
    }

    conf->ssl.buffer_size = conf->buffer_size;
    conf->ssl.data = conf;

    SSL_CTX_set_tlsext_servername_callback(conf->ssl.ctx,
                                           kl_http_ssl_servername);

    if (conf->certificates) {
        switch (kl_http_ssl_variable_certificates(cf, conf)) {
        case KL_OK:
            /* Named with variables: loaded per handshake (cert_cb). */
            conf->ssl.certificates = conf->certificates->nelts;
            break;

        case KL_DECLINED:
            if (kl_http_ssl_certificates(cf, conf, &log) != KL_OK) {
                return KL_CONF_ERROR;
            }
            break;

        default:
            return KL_CONF_ERROR;
        }
    }

    if (kl_http_ssl_configure(cf, conf, &log) != KL_OK) {
        return KL_CONF_ERROR;
    }

    /* Last, as nginx: a command may override any of the above. */
    if (kl_ssl_conf_commands(&conf->ssl, conf->conf_commands, &log) != KL_OK) {
        return KL_CONF_ERROR;
    }

    cscf = kl_http_conf_get_module_srv_conf(cf, kl_http_core_module);
    cscf->ssl = &conf->ssl;
    cscf->ssl_enable = conf->enable ? 1 : 0;

    return KL_CONF_OK;
}


/*
 * The new cycle in force, its error log open: kTLS asked for where the
 * kernel lacks it is said once (at info), not per server, per worker nor
 * per connection.
 */
static kl_int_t
kl_http_ssl_init_module(kl_cycle_t *cycle)
{
    kl_uint_t                 i;
    kl_http_conf_ctx_t       *ctx;
    kl_http_core_srv_conf_t **cscfp;
    kl_http_core_main_conf_t *cmcf;

    ctx = (kl_http_conf_ctx_t *) cycle->conf_ctx[kl_http_module.index];
    if (ctx == NULL) {
        return KL_OK;
    }

    cmcf = ctx->main_conf[kl_http_core_module.ctx_index];
    cscfp = cmcf->servers.elts;

    for (i = 0; i < cmcf->servers.nelts; i++) {
        if (cscfp[i]->ssl
            && (SSL_CTX_get_options(cscfp[i]->ssl->ctx) & SSL_OP_ENABLE_KTLS))
        {
            (void) kl_ssl_ktls_check(cscfp[i]->ssl, cycle->log);
            break;
        }
    }

    return KL_OK;
}


/*
 * SNI: the name picks the server as Host would (exact, wildcards,
 * regexes) among the servers of the address, becomes the connection's
 * default server, and its SSL_CTX (certificates, ciphers, tickets) takes
 * over; a server with ssl_reject_handshake refuses with
 * unrecognized_name, as nginx.
 */
int
kl_http_ssl_servername(SSL *ssl_conn, int *ad, void *arg)
{
    size_t                   i, len;
    u_char                   buf[256];
    kl_int_t                 rc;
    kl_str_t                 host;
    SSL_CTX                 *ctx;
    const char              *name;
    kl_connection_t         *c;
    kl_http_connection_t    *hc;
    kl_http_ssl_srv_conf_t  *sscf;
    kl_http_core_srv_conf_t *cscf;

    (void) arg;

    c = SSL_get_app_data(ssl_conn);
    if (c == NULL || c->ssl == NULL) {
        return SSL_TLSEXT_ERR_OK;
    }

    hc = c->data;
    cscf = NULL;

    name = SSL_get_servername(ssl_conn, TLSEXT_NAMETYPE_host_name);

    if (name != NULL) {
        len = kl_strlen(name);

        /* A trailing dot names the same host. */
        if (len && name[len - 1] == '.') {
            len--;
        }

        if (len == 0 || len >= sizeof(buf)) {
            *ad = SSL_AD_UNRECOGNIZED_NAME;
            return SSL_TLSEXT_ERR_ALERT_FATAL;
        }

        for (i = 0; i < len; i++) {
            if (name[i] == '/' || name[i] == '\0' || name[i] == ' ') {
                *ad = SSL_AD_UNRECOGNIZED_NAME;
                return SSL_TLSEXT_ERR_ALERT_FATAL;
            }
            buf[i] = kl_tolower((u_char) name[i]);
        }

        host.data = buf;
        host.len = len;

        cscf = kl_http_find_virtual_server(hc->addr_conf, &host, NULL, c->log,
                                           &rc);
        if (rc == KL_ERROR) {
            *ad = SSL_AD_INTERNAL_ERROR;
            return SSL_TLSEXT_ERR_ALERT_FATAL;
        }
    }

    if (cscf == NULL) {
        cscf = hc->addr_conf->default_server;

    } else {
        hc->conf_ctx = cscf->ctx;
    }

    sscf = cscf->ctx->srv_conf[kl_http_ssl_module.ctx_index];

    if (sscf->reject_handshake) {
        *ad = SSL_AD_UNRECOGNIZED_NAME;
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    }

    if (cscf->ssl == NULL || cscf->ssl->ctx == SSL_get_SSL_CTX(ssl_conn)) {
        return SSL_TLSEXT_ERR_OK;
    }

    ctx = cscf->ssl->ctx;

    if (SSL_set_SSL_CTX(ssl_conn, ctx) == NULL) {
        *ad = SSL_AD_INTERNAL_ERROR;
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    }

    /* The new context's options: SSL_set_SSL_CTX copies only some. */
    SSL_set_verify(ssl_conn, SSL_CTX_get_verify_mode(ctx),
                   SSL_CTX_get_verify_callback(ctx));
    SSL_set_verify_depth(ssl_conn, SSL_CTX_get_verify_depth(ctx));
    SSL_clear_options(ssl_conn,
                      SSL_get_options(ssl_conn) & ~SSL_CTX_get_options(ctx));
    SSL_set_options(ssl_conn, SSL_CTX_get_options(ctx));

    /*
     * c->ssl->ssl stays the context the connection was made from: OpenSSL
     * keeps using its session cache and ticket keys (its session_ctx).
     */
    c->ssl->buffer_size = cscf->ssl->buffer_size;

    return SSL_TLSEXT_ERR_OK;
}


/* The $ssl_* variables: a getter of core/ssl.h each (data). */
typedef kl_int_t (*kl_http_ssl_get_pt)(kl_connection_t *c, kl_pool_t *pool,
                                       kl_str_t *s);


static kl_int_t
kl_http_ssl_variable(kl_http_request_t *r, kl_http_variable_value_t *v,
                     uintptr_t data)
{
    kl_str_t           s;
    kl_http_ssl_get_pt get;

    get = (kl_http_ssl_get_pt) data;

    if (r->connection->ssl == NULL) {
        v->not_found = 1;
        return KL_OK;
    }

    if (get(r->connection, r->pool, &s) != KL_OK) {
        return KL_ERROR;
    }

    if (s.len == 0) {
        v->not_found = 1;
        return KL_OK;
    }

    kl_http_variable_set(v, s.data, s.len);
    return KL_OK;
}


typedef struct {
    kl_str_t           name;
    kl_http_ssl_get_pt get;
    kl_uint_t          flags;
} kl_http_ssl_var_t;


static kl_http_ssl_var_t kl_http_ssl_vars[] = {
    { kl_string("ssl_protocol"), kl_ssl_get_protocol, 0 },
    { kl_string("ssl_cipher"), kl_ssl_get_cipher_name, 0 },
    { kl_string("ssl_ciphers"), kl_http_ssl_get_ciphers, 0 },
    { kl_string("ssl_curve"), kl_http_ssl_get_curve, 0 },
    { kl_string("ssl_curves"), kl_http_ssl_get_curves, 0 },
    { kl_string("ssl_session_id"), kl_ssl_get_session_id, 0 },
    { kl_string("ssl_session_reused"), kl_ssl_get_session_reused, 0 },
    { kl_string("ssl_server_name"), kl_ssl_get_server_name, 0 },
    { kl_string("ssl_alpn_protocol"), kl_ssl_get_alpn_protocol, 0 },
    { kl_string("ssl_early_data"), kl_http_ssl_get_early_data,
      KL_HTTP_VAR_NOCACHEABLE },
    /* $ssl_client_*: engineer tlsup registers them from its own file. */
    { kl_null_string, NULL, 0 }
};


static kl_int_t
kl_http_ssl_add_variables(kl_conf_t *cf)
{
    kl_http_ssl_var_t  *sv;
    kl_http_variable_t *v;

    for (sv = kl_http_ssl_vars; sv->name.len; sv++) {
        v = kl_http_add_variable(cf, &sv->name, sv->flags);
        if (v == NULL) {
            return KL_ERROR;
        }

        v->get_handler = kl_http_ssl_variable;
        v->data = (uintptr_t) sv->get;
    }

    return KL_OK;
}
