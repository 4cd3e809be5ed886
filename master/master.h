/* master.h: the command line, the master's signal loop and worker spawning. */

#ifndef KL_MASTER_H
#define KL_MASTER_H

#include "kl_core.h"

typedef struct {
    kl_uint_t show_help;
    kl_uint_t show_version;
    kl_uint_t show_configure;
    kl_uint_t test_config;
    kl_uint_t dump_config;
    kl_uint_t quiet;
    char     *signal;
    char     *prefix;
    char     *conf_file;
    char     *conf_params;
    char     *error_log;
} kl_options_t;

/* Parse argv as nginx does; on error print why and return KL_ERROR. */
kl_int_t kl_options_parse(kl_options_t *opts, int argc, char *const *argv);

/* -h, -v, -V texts on stderr. */
void kl_options_show(kl_options_t *opts);

/* Copy argv (the title overwrites it) and find the binary for USR2. */
kl_int_t kl_argv_save(int argc, char *const *argv, kl_log_t *log);

/* A new master: adopt the listening sockets named in $KILN. */
kl_int_t kl_upgrade_inherit(kl_cycle_t *init);

/* Close inherited sockets the configuration did not claim. */
void kl_upgrade_close_unused(kl_cycle_t *init);

/* USR2: rename the pid file and exec the binary with the listeners. */
pid_t kl_upgrade_exec(kl_cycle_t *cycle);

/* Install the handlers; the master and workers keep them blocked. */
kl_int_t kl_signals_init(kl_log_t *log);

/* Fork into the background: setsid, stdin/stdout to /dev/null. */
kl_int_t kl_daemonize(kl_log_t *log);

/* The master: spawn workers, then act on signals until it exits. */
void kl_master_process_cycle(kl_cycle_t *cycle);

/* master_process off: serve in this process. */
void kl_single_process_cycle(kl_cycle_t *cycle);

#endif /* KL_MASTER_H */
