/* process.c: the definitions of the only process-wide mutable state (STYLE rule 14), and the process title. */

#include "kl_core.h"

#include <sys/prctl.h>


kl_cycle_t *kl_cycle;
kl_loop_t   kl_loop = { .worker = -1,
                        .backend_fd = -1,
                        .last_modified_time = -1 };

kl_signals_t kl_sig;


/*
 * The process title overwrites argv's memory, extended over the
 * environment strings that follow it, which are first copied to the heap.
 */
kl_int_t
kl_proctitle_init(int argc, char **argv, kl_log_t *log)
{
    int           i;
    char         *end, *p;
    size_t        size;
    extern char **environ;

    end = argv[0];

    for (i = 0; i < argc; i++) {
        if (argv[i] == end) {
            end = argv[i] + strlen(argv[i]) + 1;
        }
    }

    for (i = 0; environ[i]; i++) {
        if (environ[i] == end) {
            size = strlen(environ[i]) + 1;
            p = kl_alloc(size, log);
            if (p == NULL) {
                return KL_ERROR;
            }

            end = environ[i] + size;
            kl_memcpy(p, environ[i], size);
            environ[i] = p;
        }
    }

    kl_loop.title_start = argv[0];
    kl_loop.title_size = end - argv[0];
    argv[1] = NULL;

    return KL_OK;
}


void
kl_proctitle_set(const char *title)
{
    size_t n;

    if (kl_loop.title_start == NULL || kl_loop.title_size < 2) {
        return;
    }

    n = kl_min(strlen(title), kl_loop.title_size - 1);

    kl_memcpy(kl_loop.title_start, title, n);
    kl_memzero(kl_loop.title_start + n, kl_loop.title_size - n);

    (void) prctl(PR_SET_NAME, (unsigned long) title, 0, 0, 0);
}
