/* core_access.h: satisfy, limit_except and auth_delay, core directives the access phase reads. */

#ifndef KL_HTTP_CORE_ACCESS_H
#define KL_HTTP_CORE_ACCESS_H

#include "kl_http.h"

/* satisfy's names, for kl_conf_set_enum_slot. */
extern kl_conf_enum_t kl_http_core_satisfy[];

/*
 * limit_except METHOD ... { }: a pseudo-location (merged as an "if" block
 * is) whose confs apply to every method not listed; GET implies HEAD.
 */
char *kl_http_core_limit_except(kl_conf_t *cf, kl_command_t *cmd, void *conf);

/*
 * The access phase's answer 401: at once, or after auth_delay with a timer
 * on the write event (the request is finalised when it fires). Returns
 * KL_OK for the phase checker.
 */
kl_int_t kl_http_core_auth_delay(kl_http_request_t *r);

#endif /* KL_HTTP_CORE_ACCESS_H */
