/* core_symlinks.h: disable_symlinks, set by the core module, read by static and try_files. */

#ifndef KL_HTTP_CORE_SYMLINKS_H
#define KL_HTTP_CORE_SYMLINKS_H

#include "kl_http.h"
#include "open_file_cache.h"

/* disable_symlinks off | on | if_not_owner [from=PART] */
char *kl_http_core_disable_symlinks(kl_conf_t *cf, kl_command_t *cmd,
                                    void *conf);

/*
 * Fill of's disable_symlinks and disable_symlinks_from for opening path
 * in r's location: KL_OK, or KL_ERROR when from= could not be evaluated.
 */
kl_int_t kl_http_set_disable_symlinks(kl_http_request_t *r, kl_str_t *path,
                                      kl_open_file_info_t *of);

#endif /* KL_HTTP_CORE_SYMLINKS_H */
