/* process.c: the definitions of the only process-wide mutable state (STYLE rule 14). */

#include "kl_core.h"


kl_cycle_t *kl_cycle;
kl_loop_t   kl_loop = { .worker = -1,
                        .backend_fd = -1,
                        .last_modified_time = -1 };

kl_signals_t kl_sig;
