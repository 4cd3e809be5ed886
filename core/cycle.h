/* cycle.h: one configuration generation: its confs, logs, listeners and connections. */

#ifndef KL_CYCLE_H
#define KL_CYCLE_H

#include "kl_config.h"
#include "string.h"
#include "array.h"
#include "list.h"
#include "log.h"

#define KL_CYCLE_POOL_SIZE KL_DEFAULT_POOL_SIZE

struct kl_cycle_s {
    void     **conf_ctx; /* per-module confs, by module index */
    kl_pool_t *pool;
    kl_log_t  *log; /* error_log, once opened */
    kl_log_t   new_log;

    kl_connection_t *connections;
    kl_connection_t *free_connections;
    kl_uint_t        free_connection_n;
    kl_uint_t        connection_n;
    kl_event_t      *read_events;
    kl_event_t      *write_events;

    kl_array_t listening;   /* kl_listening_t */
    kl_list_t  open_files;  /* kl_open_file_t */
    kl_array_t config_dump; /* kl_conf_dump_t, for -T */
    kl_array_t paths;       /* kl_str_t, directories to create */
    kl_list_t  shm_zones;   /* kl_shm_zone_t, mapped before the fork */

    kl_stat_t *stat; /* every worker's counters (a zone), or NULL */

    kl_cycle_t *old_cycle;

    kl_str_t conf_file;   /* absolute path of the main file */
    kl_str_t conf_param;  /* -g directives */
    kl_str_t conf_prefix; /* the main file's directory, with '/' */
    kl_str_t prefix;      /* -p, with '/' */
    kl_str_t error_log;   /* -e, or the compiled-in default */
    kl_str_t hostname;
};

/* The core module's conf: the main-context process directives. */
typedef struct {
    kl_int_t    daemon;
    kl_int_t    master;
    kl_int_t    worker_processes;
    kl_msec_t   shutdown_timeout;
    kl_int_t    rlimit_nofile;
    kl_str_t    pid;
    kl_str_t    oldpid;
    kl_str_t    user_name;
    uid_t       user;
    gid_t       group;
    kl_str_t    working_directory;
    kl_int_t    priority; /* worker_priority, a nice value */
    kl_int_t    priority_set;
    kl_array_t *env; /* kl_str_t: "NAME" or "NAME=VALUE" */
    kl_uint_t   cpu_affinity_auto;
    kl_array_t *cpu_affinity; /* cpu_set_t, one per worker (the last repeats) */
    off_t       rlimit_core;  /* worker_rlimit_core */
    kl_str_t    lock_file;    /* accepted as nginx on Linux: never opened */
} kl_core_conf_t;

extern kl_module_t kl_core_module;

/*
 * The error_log directive's work, for any context: add the destination in
 * cf->args to the list at head (an empty head has file == NULL).
 */
char *kl_conf_set_error_log(kl_conf_t *cf, kl_log_t *head);

/*
 * Build a new cycle from old's command-line settings: parse the config,
 * open logs and listening sockets (reusing old's for equal addresses),
 * run init_module hooks. NULL on any error, which has been logged.
 */
kl_cycle_t *kl_cycle_init(kl_cycle_t *old_cycle, kl_uint_t test_only);

/* Free a cycle that is no longer used: close what it alone owns. */
void kl_cycle_free(kl_cycle_t *cycle, kl_uint_t close_listeners);

/* Register a file to open (and reopen on USR1); NULL on failure. */
kl_open_file_t *kl_cycle_open_file(kl_cycle_t *cycle, kl_str_t *name);

/*
 * Reopen every open file; failures are logged, the old fd kept. user,
 * unless KL_CONF_UNSET_UINT, becomes the owner of each reopened file.
 */
void kl_cycle_reopen_files(kl_cycle_t *cycle, kl_uint_t user);

kl_int_t kl_cycle_create_pidfile(kl_str_t *name, kl_log_t *log);
void     kl_cycle_delete_pidfile(kl_cycle_t *cycle);

/* -s: read the pid file and send the signal; exit status for main(). */
kl_int_t kl_cycle_signal_process(kl_cycle_t *cycle, char *sig);

#endif /* KL_CYCLE_H */
