/* process.c: the definitions of the only process-wide mutable state (STYLE rule 14). */

#include "kl_core.h"


kl_cycle_t *kl_cycle;
kl_loop_t   kl_loop = { .worker = -1, .backend_fd = -1 };

volatile sig_atomic_t kl_sig_reconfigure;
volatile sig_atomic_t kl_sig_reopen;
volatile sig_atomic_t kl_sig_quit;
volatile sig_atomic_t kl_sig_terminate;
volatile sig_atomic_t kl_sig_child;
volatile sig_atomic_t kl_sig_noaccept;
volatile sig_atomic_t kl_sig_change_binary;
volatile sig_atomic_t kl_sig_alarm;
