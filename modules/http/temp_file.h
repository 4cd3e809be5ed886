/*
 * temp_file.h: temp directories ("X_temp_path PATH [L1 [L2 [L3]]]") and
 * the temp files made in them, shared by request bodies
 * (client_body_temp_path) and buffered upstream responses
 * (proxy_temp_path, fastcgi_temp_path), as nginx's ngx_path_t and
 * ngx_create_temp_file.
 */

#ifndef KL_HTTP_TEMP_FILE_H
#define KL_HTTP_TEMP_FILE_H

/* The types first: kl_http.h includes body.h, which needs them. */
#include "kl_core.h"

#define KL_HTTP_MAX_PATH_LEVEL 3

/* A directory for temp files, hashed into up to three levels of subdirs. */
typedef struct {
    kl_str_t  name; /* absolute, NUL-terminated, no trailing '/' */
    size_t    len;  /* of the level part of a file name: "/1/22" is 5 */
    size_t    level[KL_HTTP_MAX_PATH_LEVEL];
    kl_str_t  conf_file; /* where it was given, for errors */
    kl_uint_t line;
} kl_http_temp_path_t;

/* What happens to a temp file's name (client_body_in_file_only's values). */
#define KL_HTTP_TEMP_FILE_UNLINK 0 /* unlinked at once: only the fd holds it */
#define KL_HTTP_TEMP_FILE_KEEP   1 /* kept after the request */
#define KL_HTTP_TEMP_FILE_CLEAN  2 /* removed when the request ends */

#include "kl_http.h"

/*
 * A conf setter: "X_temp_path PATH [L1 [L2 [L3]]]" into the
 * kl_http_temp_path_t * at cmd->offset (KL_CONF_UNSET_PTR until set).
 * Every directory named is registered, so the master creates it at load.
 */
char *kl_http_temp_path_slot(kl_conf_t *cf, kl_command_t *cmd, void *conf);

/*
 * Merge a temp path: *conf stays if set, else prev's, else the default
 * directory name (relative to the prefix) with levels l1, l2 (0: none).
 * KL_CONF_OK or KL_CONF_ERROR.
 */
char *kl_http_temp_path_merge(kl_conf_t *cf, kl_http_temp_path_t **conf,
                              kl_http_temp_path_t *prev, const char *name,
                              size_t l1, size_t l2);

/*
 * Make the registered directories of cycle's http confs (0700, owned by
 * the workers' user when the master runs as root), as nginx's
 * ngx_create_paths: the master does it when a configuration is loaded.
 */
kl_int_t kl_http_temp_paths_create(kl_cycle_t *cycle);

/*
 * A new temp file in path, open for reading and writing, closed (and
 * with KL_HTTP_TEMP_FILE_CLEAN removed) when r's pool goes. Logged at
 * warn (notice when kept) as "<message> <file name>". NULL on failure
 * (logged).
 */
kl_file_t *kl_http_temp_file_create(kl_http_request_t   *r,
                                    kl_http_temp_path_t *path, kl_uint_t mode,
                                    const char *message);

#endif /* KL_HTTP_TEMP_FILE_H */
