/*
 * empty_gif.c: "empty_gif;" makes a location answer with a 1x1
 * transparent GIF, the 43 bytes nginx serves, image/gif, with nginx's
 * fixed Last-Modified (23349600: Mon, 28 Sep 1970 06:00:00 GMT), so
 * conditional requests get their 304 and HEAD its head alone; any method
 * but GET and HEAD is a 405.
 */

#include "kl_http.h"


/* The GIF's last modification, nginx's value, for If-Modified-Since. */
#define KL_HTTP_EMPTY_GIF_MTIME 23349600


static kl_int_t kl_http_empty_gif_handler(kl_http_request_t *r);
static char    *kl_http_empty_gif(kl_conf_t *cf, kl_command_t *cmd, void *conf);


/* clang-format off */
static kl_command_t  kl_http_empty_gif_commands[] = {

    { kl_string("empty_gif"),
      KL_HTTP_LOC_CONF | KL_CONF_NOARGS,
      kl_http_empty_gif,
      0,
      0,
      NULL },

    kl_null_command
};


/* GIF89a (https://www.w3.org/Graphics/GIF/spec-gif89a.txt), one pixel. */
static u_char  kl_http_empty_gif_bytes[] = {
    'G', 'I', 'F', '8', '9', 'a',   /* signature, version */
    0x01, 0x00, 0x01, 0x00,         /* logical screen: 1 x 1 */
    0x80, 0x01, 0x00,               /* a global table of 2 colours; bg 1 */
    0x00, 0x00, 0x00,               /* colour 0: black */
    0xff, 0xff, 0xff,               /* colour 1: white */
    0x21, 0xf9, 0x04,               /* graphic control extension, 4 bytes */
    0x01, 0x00, 0x00,               /* transparency given; no delay */
    0x01, 0x00,                     /* colour 1 is transparent; end */
    0x2c,                           /* image descriptor */
    0x00, 0x00, 0x00, 0x00,         /* at 0, 0 */
    0x01, 0x00, 0x01, 0x00,         /* 1 x 1 */
    0x00,                           /* no local table, not interlaced */
    0x02, 0x02, 0x4c, 0x01, 0x00,   /* LZW minimum code size 2; the data */
    0x3b                            /* trailer */
};
/* clang-format on */


static kl_http_module_t kl_http_empty_gif_module_ctx;


kl_module_t kl_http_empty_gif_module = {
    .name = "kl_http_empty_gif_module",
    .type = KL_HTTP_MODULE,
    .ctx = &kl_http_empty_gif_module_ctx,
    .commands = kl_http_empty_gif_commands,
};


static kl_int_t
kl_http_empty_gif_handler(kl_http_request_t *r)
{
    kl_http_complex_value_t cv;
    kl_str_t                type = kl_string("image/gif");

    if (!(r->method & (KL_HTTP_GET | KL_HTTP_HEAD))) {
        return KL_HTTP_NOT_ALLOWED;
    }

    kl_memzero(&cv, sizeof(kl_http_complex_value_t));
    cv.value.data = kl_http_empty_gif_bytes;
    cv.value.len = sizeof(kl_http_empty_gif_bytes);

    r->headers_out.last_modified_time = KL_HTTP_EMPTY_GIF_MTIME;

    return kl_http_send_response(r, KL_HTTP_OK, &type, &cv);
}


static char *
kl_http_empty_gif(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_http_core_loc_conf_t *clcf;

    (void) cmd;
    (void) conf;

    clcf = kl_http_conf_get_module_loc_conf(cf, kl_http_core_module);
    clcf->handler = kl_http_empty_gif_handler;

    return KL_CONF_OK;
}
