/* charset.h: what the charset header filter hands the charset body filter: one response's recoding. */

#ifndef KL_HTTP_CHARSET_H
#define KL_HTTP_CHARSET_H

#include "kl_http.h"
#include "charset_recode.h"

/* An output buffer of the body filter and the input it was recoded from. */
typedef struct kl_http_charset_out_s kl_http_charset_out_t;

struct kl_http_charset_out_s {
    kl_buf_t              *buf;
    kl_buf_t              *src; /* consumed once buf is sent; NULL: none */
    kl_http_charset_out_t *next;
};

/*
 * Set by the header filter (under kl_http_charset_filter_module's index)
 * when a response is recoded: from a single-byte charset to another
 * (bytes), to UTF-8 (to_utf8), or from UTF-8 (pages).
 */
typedef struct {
    const u_char           *bytes;
    const u_char           *to_utf8;
    u_char                **pages;
    kl_charset_utf8_state_t utf8;
    kl_http_charset_out_t  *busy; /* passed on, maybe unsent */
    kl_http_charset_out_t  *free; /* sent: their buffers reusable */
} kl_http_charset_ctx_t;

/*
 * Whether the configuration has a charset_map: without one no response
 * is ever recoded, and the body filter is not set up at all.
 */
kl_uint_t kl_http_charset_maps(kl_conf_t *cf);

#endif /* KL_HTTP_CHARSET_H */
