/* core_limits.h: limit_rate, keepalive_disable and the User-Agent classes. */

#ifndef KL_HTTP_CORE_LIMITS_H
#define KL_HTTP_CORE_LIMITS_H

#include "kl_http.h"

/* What kl_http_user_agent_parse finds, as nginx classifies browsers. */
#define KL_HTTP_UA_MSIE      0x01
#define KL_HTTP_UA_MSIE6     0x02 /* MSIE 4, 5, and 6 without SV1 */
#define KL_HTTP_UA_OPERA     0x04
#define KL_HTTP_UA_GECKO     0x08
#define KL_HTTP_UA_CHROME    0x10
#define KL_HTTP_UA_SAFARI    0x20 /* on Mac OS X */
#define KL_HTTP_UA_KONQUEROR 0x40

/* keepalive_disable's bits; "none" sets a bit that disables nothing. */
#define KL_HTTP_KEEPALIVE_DISABLE_NONE   0x0002
#define KL_HTTP_KEEPALIVE_DISABLE_MSIE6  0x0004
#define KL_HTTP_KEEPALIVE_DISABLE_SAFARI 0x0008

/*
 * The KL_HTTP_UA_* bits of a User-Agent value [p, p + len): "MSIE " with
 * two more bytes after its version digit, Opera (which clears the MSIE
 * bits), then for neither of those the first of Gecko/, Chrome/,
 * Safari/ with Mac OS X, Konqueror. Pure: reads only the value.
 */
kl_uint_t kl_http_user_agent_parse(const u_char *p, size_t len);

/*
 * msie_padding: the comment lines nginx adds after an error page (4xx,
 * 5xx) for MSIE and Chrome, so that they show it and not their own; an
 * empty padding when it does not apply.
 */
void kl_http_msie_padding(kl_http_request_t *r, kl_uint_t status,
                          kl_str_t *padding);

/*
 * msie_refresh: answer a 301 or 302 to MSIE with a page that refreshes to
 * the Location (200, as nginx): KL_DECLINED when it does not apply.
 */
kl_int_t kl_http_msie_refresh(kl_http_request_t *r, kl_uint_t status);

/* Whether keepalive_disable closes the connection after r. */
kl_uint_t kl_http_keepalive_disabled(kl_http_request_t       *r,
                                     kl_http_core_loc_conf_t *clcf);

/*
 * Setter for a size that may hold variables (limit_rate): the field is a
 * void * to a compiled value; a literal is checked here, as nginx does.
 */
char *kl_http_set_complex_value_size_slot(kl_conf_t *cf, kl_command_t *cmd,
                                          void *conf);

/*
 * send_lowat: Linux has no settable SO_SNDLOWAT, so only 0 (the default)
 * is accepted; nginx warns and ignores any other value.
 */
char *kl_http_core_send_lowat(kl_conf_t *cf, kl_command_t *cmd, void *conf);

/* read_ahead: only 0 (kiln gives the kernel no read-ahead hint). */
char *kl_http_core_read_ahead(kl_conf_t *cf, kl_command_t *cmd, void *conf);

/* aio_write: only off (temporary files are written synchronously). */
char *kl_http_core_aio_write(kl_conf_t *cf, kl_command_t *cmd, void *conf);

/* Register $limit_rate (the core module's preconfiguration). */
kl_int_t kl_http_core_limits_add_variables(kl_conf_t *cf);

/*
 * For the write filter: how many bytes r may send now, at most max (0:
 * no bound), or 0 when limit_rate says wait: the write event is then
 * delayed with a timer for when it may send again.
 */
off_t kl_http_limit_rate_allowance(kl_http_request_t *r, off_t max);

/* After a send that moved c->sent on from sent: delay the next one. */
void kl_http_limit_rate_sent(kl_http_request_t *r, off_t sent);

#endif /* KL_HTTP_CORE_LIMITS_H */
