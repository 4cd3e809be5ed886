/* resolver_module.h: the resolver and resolver_timeout directives' conf, read by upstreams that resolve names. */

#ifndef KL_HTTP_RESOLVER_MODULE_H
#define KL_HTTP_RESOLVER_MODULE_H

#include "kl_http.h"
#include "resolver.h"

/*
 * kl_http_resolver_module's conf: a location's (http, server, location
 * inherit), or an upstream block's (its srv conf, not merged: a group
 * without its own uses the http block's).
 */
typedef struct {
    kl_resolver_t *resolver; /* NULL: none defined */
    kl_msec_t      timeout;  /* 30s */
} kl_http_resolver_conf_t;

#endif /* KL_HTTP_RESOLVER_MODULE_H */
