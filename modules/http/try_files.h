/* try_files.h: the try_files module, and the request state alias reads. */

#ifndef KL_HTTP_TRY_FILES_H
#define KL_HTTP_TRY_FILES_H

#include "kl_http.h"

/* Set when try_files chose a file under a regex location's alias. */
typedef struct {
    unsigned add_uri_to_alias:1;
} kl_http_try_files_ctx_t;

extern kl_module_t kl_http_try_files_module;

#endif /* KL_HTTP_TRY_FILES_H */
