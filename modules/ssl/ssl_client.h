/* ssl_client.h: what the client certificate files of the ssl module share. */

#ifndef KL_HTTP_SSL_CLIENT_H
#define KL_HTTP_SSL_CLIENT_H

#include "kl_http.h"

/* ssl_client_vars.c: register $ssl_client_* and $ssl_client_verify. */
kl_int_t kl_http_ssl_client_add_variables(kl_conf_t *cf);

#endif /* KL_HTTP_SSL_CLIENT_H */
