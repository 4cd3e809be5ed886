/* test_http_modules.c: the module order of auto/modules and the chains the HTTP engine builds from it. */

#include <criterion/criterion.h>

#include "kl_http.h"


/* The order auto/modules documents; filters and phases depend on it. */
static const char *kl_test_order[] = { "kl_core_module",
                                       "kl_conf_module",
                                       "kl_events_module",
                                       "kl_thread_pool_module",
                                       "kl_http_module",
                                       "kl_http_core_module",
                                       "kl_http_body_module",
                                       "kl_http_write_filter_module",
                                       "kl_http_header_filter_module",
                                       "kl_http_chunked_filter_module",
                                       "kl_http_postpone_filter_module",
                                       "kl_http_variables_module",
                                       "kl_http_try_files_module",
                                       "?kl_http_map_module",
                                       "?kl_http_rewrite_module",
                                       "?kl_http_auth_request_module",
                                       "?kl_http_gzip_filter_module",
                                       "?kl_http_static_module",
                                       "?kl_http_gzip_static_module",
                                       "?kl_http_autoindex_module",
                                       "?kl_http_index_module",
                                       "?kl_http_log_module",
                                       "kl_http_copy_filter_module",
                                       "?kl_http_range_filter_module",
                                       "?kl_http_charset_filter_module",
                                       "?kl_http_headers_filter_module",
                                       "?kl_http_not_modified_filter_module",
                                       NULL };


static kl_int_t
kl_test_position(const char *name)
{
    kl_int_t i;

    for (i = 0; kl_module_names[i]; i++) {
        if (strcmp(kl_module_names[i], name) == 0) {
            return i;
        }
    }

    return -1;
}


Test(http_modules, listed_in_documented_order)
{
    kl_int_t    i, pos, prev, optional;
    const char *name;

    prev = -1;

    for (i = 0; kl_test_order[i]; i++) {
        /* "?" marks an optional module, which may be configured out. */
        optional = (kl_test_order[i][0] == '?');
        name = kl_test_order[i] + optional;
        pos = kl_test_position(name);

        if (pos == -1 && !optional) {
            cr_assert_fail("%s is missing from kl_modules[]", name);
        }

        if (pos == -1) {
            continue;
        }

        cr_assert_gt(pos, prev, "%s is out of order", name);
        prev = pos;
    }
}


Test(http_modules, core_before_http_and_indexes_follow_order)
{
    kl_uint_t i, n, seen_http;

    n = kl_modules_init();
    seen_http = 0;

    for (i = 0; i < n; i++) {
        cr_assert_eq(kl_modules[i]->index, i);

        if (kl_modules[i]->type == KL_HTTP_MODULE) {
            seen_http = 1;
        } else {
            cr_assert_not(seen_http, "%s (core) after an http module",
                          kl_modules[i]->name);
        }
    }
}


static kl_cycle_t *
kl_test_cycle(const char *conf_text, char *dir, size_t size)
{
    FILE           *f;
    char            path[512];
    kl_cycle_t     *init;
    kl_log_t       *log;
    kl_open_file_t *file;
    static char     prefix[512];

    snprintf(dir, size, "/tmp/kl_test_modules_%d", (int) getpid());
    mkdir(dir, 0755);

    /* access_log's default, logs/access.log, is opened as nginx does. */
    snprintf(path, sizeof(path), "%s/logs", dir);
    mkdir(path, 0755);

    snprintf(path, sizeof(path), "%s/kiln.conf", dir);

    f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(conf_text, f);
    fclose(f);

    (void) kl_modules_init();
    kl_time_update(&kl_loop.clock);

    init = calloc(1, sizeof(kl_cycle_t));
    log = calloc(1, sizeof(kl_log_t));
    file = calloc(1, sizeof(kl_open_file_t));
    cr_assert(init && log && file);

    file->fd = STDERR_FILENO;
    log->file = file;
    log->log_level = KL_LOG_ERR;
    init->log = log;

    snprintf(prefix, sizeof(prefix), "%s/", dir);
    init->prefix.data = (u_char *) prefix;
    init->prefix.len = strlen(prefix);
    init->conf_prefix = init->prefix;
    init->conf_file.data = (u_char *) strdup(path);
    init->conf_file.len = strlen(path);
    kl_str_set(&init->error_log, "stderr");

    kl_cycle = init;

    return kl_cycle_init(init, 1);
}


Test(http_modules, chains_end_in_the_header_and_write_filters)
{
    char                      dir[256];
    kl_uint_t                 i, last;
    kl_cycle_t               *cycle;
    kl_http_conf_ctx_t       *ctx;
    kl_http_phase_handler_t  *ph;
    kl_http_core_main_conf_t *cmcf;

    cycle = kl_test_cycle("error_log stderr;\n"
                          "events { }\n"
                          "http { server { listen 127.0.0.1:1; } }\n",
                          dir, sizeof(dir));
    cr_assert_not_null(cycle, "the test configuration must parse");

    ctx = cycle->conf_ctx[kl_http_module.index];
    cr_assert_not_null(ctx);

    cmcf = ctx->main_conf[kl_http_core_module.ctx_index];

    /* The write filter is the body chain's last link: the chunked filter,
     * always built and listed after it, registers above it. (That the
     * chunked filter hands on to the write filter, test_http_chunked_filter
     * shows on the wire.) */
    cr_assert_not_null((void *) cmcf->top_body_filter);
    cr_assert_neq((void *) cmcf->top_body_filter,
                  (void *) kl_http_write_filter);
    cr_assert_not_null(cmcf->top_header_filter);

    /* Content handlers: one per content module, then the final slot
     * with no handler that answers 403/404. */
    ph = cmcf->phase_engine.handlers;
    last = 0;

    for (i = 0; ph[i].checker; i++) {
        last = i;
    }

    cr_assert_null((void *) ph[last].handler);

    cr_assert_eq(
        cmcf->phases[KL_HTTP_CONTENT_PHASE].nelts,
        (kl_uint_t) ((kl_test_position("kl_http_static_module") != -1)
                     + (kl_test_position("kl_http_gzip_static_module") != -1)
                     + (kl_test_position("kl_http_autoindex_module") != -1)
                     + (kl_test_position("kl_http_index_module") != -1)
                     + (kl_test_position("kl_http_random_index_module")
                        != -1)));

    kl_cycle_free(cycle, 0);
}
