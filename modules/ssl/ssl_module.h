/* ssl_module.h: what the files of the ssl module share: its server conf. */

#ifndef KL_HTTP_SSL_MODULE_H
#define KL_HTTP_SSL_MODULE_H

#include "kl_http.h"

/* builtin_session_cache: off, none, or builtin's size (-1: OpenSSL's). */
#define KL_HTTP_SSL_NO_SCACHE    -2 /* off */
#define KL_HTTP_SSL_NONE_SCACHE  -3 /* none (nginx's default) */
#define KL_HTTP_SSL_NO_BUILTIN   -4 /* shared only */
#define KL_HTTP_SSL_DFLT_BUILTIN -5 /* builtin, OpenSSL's size */

typedef struct {
    kl_ssl_t ssl; /* ctx NULL: no TLS context for this server */

    kl_uint_t protocols;
    kl_int_t  enable; /* ssl on|off (deprecated) */
    kl_int_t  prefer_server_ciphers;
    kl_int_t  session_tickets;
    kl_int_t  early_data;
    kl_int_t  reject_handshake;
    kl_int_t  certificate_compression;
    kl_int_t  certificate_cache; /* max=, 0 off */
    time_t    cache_inactive;    /* inactive=, seconds */
    time_t    cache_valid;       /* valid=, seconds */
    void     *cache;             /* ssl_certificate.c's, per worker */
    kl_int_t  builtin_session_cache;
    kl_int_t  session_timeout; /* seconds */
    size_t    buffer_size;

    kl_shm_zone_t *shm_zone; /* ssl_session_cache shared:NAME:SIZE */

    kl_array_t *certificates;        /* kl_str_t */
    kl_array_t *certificate_keys;    /* kl_str_t */
    kl_array_t *passwords;           /* kl_str_t, from ssl_password_file */
    kl_array_t *conf_commands;       /* kl_keyval_t */
    kl_array_t *session_ticket_keys; /* kl_str_t, file names */
    kl_array_t *ticket_keys;         /* their contents (ssl_session.c) */

    /* certificates named with variables: complex values, per pair */
    kl_http_complex_value_t **certificate_values;
    kl_http_complex_value_t **certificate_key_values;

    kl_str_t ciphers;
    kl_str_t ecdh_curve;
    kl_str_t dhparam;

    u_char   *file; /* where the first ssl_certificate was */
    kl_uint_t line;

    u_char   *enable_file; /* where "ssl" was */
    kl_uint_t enable_line;
} kl_http_ssl_srv_conf_t;

extern kl_module_t kl_http_ssl_module;

/* ssl_module.c: the SNI callback every server's context gets. */
struct ssl_st;
int kl_http_ssl_servername(struct ssl_st *ssl_conn, int *ad, void *arg);

/* ssl_certificate.c: names with variables compiled (KL_DECLINED when
 * none has any) and the context's callback that loads them per
 * handshake. */
kl_int_t kl_http_ssl_variable_certificates(kl_conf_t              *cf,
                                           kl_http_ssl_srv_conf_t *sscf);

/* ssl_session.c: ssl_session_cache's setter; the session cache, ticket
 * keys and tickets on a context; the variables that need raw OpenSSL. */
char *kl_http_ssl_session_cache(kl_conf_t *cf, kl_command_t *cmd, void *conf);
kl_int_t kl_http_ssl_session_setup(kl_conf_t *cf, kl_http_ssl_srv_conf_t *sscf,
                                   kl_log_t *log);
kl_int_t kl_http_ssl_get_ciphers(kl_connection_t *c, kl_pool_t *pool,
                                 kl_str_t *s);
kl_int_t kl_http_ssl_get_curve(kl_connection_t *c, kl_pool_t *pool,
                               kl_str_t *s);
kl_int_t kl_http_ssl_get_curves(kl_connection_t *c, kl_pool_t *pool,
                                kl_str_t *s);
kl_int_t kl_http_ssl_get_early_data(kl_connection_t *c, kl_pool_t *pool,
                                    kl_str_t *s);

#endif /* KL_HTTP_SSL_MODULE_H */
