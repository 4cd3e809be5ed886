/* core_module.h: what the HTTP core module's files share: block and listen setters. */

#ifndef KL_HTTP_CORE_MODULE_H
#define KL_HTTP_CORE_MODULE_H

#include "kl_http.h"

/* A conf context for a server (srv set) or location block. */
kl_http_conf_ctx_t *kl_http_core_new_ctx(kl_conf_t *cf, kl_uint_t srv);

/* Record a listen of cscf for kl_http_optimize_servers. */
kl_int_t kl_http_core_add_listen(kl_conf_t *cf, kl_http_core_srv_conf_t *cscf,
                                 kl_http_listen_opt_t *lsopt);

/* Setters of server, location, listen and server_name. */
char *kl_http_core_server(kl_conf_t *cf, kl_command_t *cmd, void *dummy);
char *kl_http_core_location(kl_conf_t *cf, kl_command_t *cmd, void *dummy);
char *kl_http_core_listen(kl_conf_t *cf, kl_command_t *cmd, void *conf);
char *kl_http_core_server_name(kl_conf_t *cf, kl_command_t *cmd, void *conf);

#endif /* KL_HTTP_CORE_MODULE_H */
