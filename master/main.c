/* main.c: kiln's entry point: options, the first cycle, -t/-T/-s, then master or single mode. */

#include "kl_core.h"
#include "master.h"


static kl_int_t kl_main_init_cycle(kl_cycle_t *init, kl_options_t *opts);
static void     kl_main_dump_config(kl_cycle_t *cycle);
static kl_int_t kl_main_redirect_stderr(kl_cycle_t *cycle);
static void kl_main_open_startup_log(kl_cycle_t *init, kl_open_file_t *file);


int
main(int argc, char **argv)
{
    kl_log_t        log;
    kl_cycle_t      init, *cycle;
    kl_options_t    opts;
    kl_open_file_t  stderr_file;
    kl_core_conf_t *ccf;
    int             rc;

    if (kl_options_parse(&opts, argc, argv) != KL_OK) {
        return 1;
    }

    if (opts.show_version) {
        kl_options_show(&opts);

        if (!opts.test_config) {
            return 0;
        }
    }

    kl_time_update(&kl_loop.clock);
    kl_loop.pid = getpid();
    kl_loop.parent = getppid();
    kl_loop.use_stderr = 1;

    kl_memzero(&log, sizeof(kl_log_t));
    stderr_file.fd = STDERR_FILENO;
    kl_str_set(&stderr_file.name, "stderr");
    log.file = &stderr_file;
    log.log_level = KL_LOG_NOTICE;

    if (opts.test_config && opts.quiet) {
        log.log_level = KL_LOG_WARN;
    }

    (void) kl_modules_init();

    kl_memzero(&init, sizeof(kl_cycle_t));
    init.log = &log;

    init.pool = kl_pool_create(1024, &log);
    if (init.pool == NULL) {
        return 1;
    }

    if (kl_main_init_cycle(&init, &opts) != KL_OK) {
        return 1;
    }

    kl_cycle = &init;

    kl_main_open_startup_log(&init, &stderr_file);

    if (kl_argv_save(argc, argv, &log) != KL_OK
        || kl_upgrade_inherit(&init) != KL_OK)
    {
        return 1;
    }

    if (kl_proctitle_init(argc, argv, &log) != KL_OK) {
        return 1;
    }

    cycle = kl_cycle_init(&init, opts.test_config || opts.signal);

    if (cycle && !opts.test_config && !opts.signal) {
        kl_upgrade_close_unused(&init);
    }

    if (cycle && stderr_file.fd > STDERR_FILENO) {
        /* The cycle opened its own logs; this one served the start-up. */
        close(stderr_file.fd);
        stderr_file.fd = STDERR_FILENO;
    }

    if (cycle == NULL) {
        if (opts.test_config) {
            kl_log_stderr(0, "configuration file %V test failed",
                          &init.conf_file);
        }

        kl_pool_free(init.pool);
        return 1;
    }

    if (opts.test_config || opts.signal) {
        rc = 0;

        if (opts.signal) {
            rc = (int) kl_cycle_signal_process(cycle, opts.signal);

        } else {
            if (!opts.quiet) {
                kl_log_stderr(0, "the configuration file %V syntax is ok",
                              &cycle->conf_file);
                kl_log_stderr(0, "configuration file %V test is successful",
                              &cycle->conf_file);
            }

            if (opts.dump_config) {
                kl_main_dump_config(cycle);
            }
        }

        /* Freed so that a leak checker sees only real leaks. */
        kl_cycle_free(cycle, 0);
        kl_pool_free(init.pool);

        return rc;
    }

    kl_cycle = cycle;
    ccf = (kl_core_conf_t *) kl_get_conf(cycle->conf_ctx, kl_core_module);

    kl_loop.role = ccf->master ? KL_PROCESS_MASTER : KL_PROCESS_SINGLE;

    if (kl_signals_init(cycle->log) != KL_OK) {
        return 1;
    }

    /* A new binary's master is the old master's child: already detached. */
    if (ccf->daemon && !kl_loop.inherited) {
        if (kl_daemonize(cycle->log) != KL_OK) {
            return 1;
        }

        kl_loop.daemonized = 1;
    }

    if (kl_cycle_create_pidfile(&ccf->pid, cycle->log) != KL_OK) {
        return 1;
    }

    if (kl_main_redirect_stderr(cycle) != KL_OK) {
        return 1;
    }

    kl_loop.use_stderr = 0;

    if (kl_loop.role == KL_PROCESS_MASTER) {
        kl_master_process_cycle(cycle);
    } else {
        kl_single_process_cycle(cycle);
    }

    return 0;
}


static kl_int_t
kl_main_init_cycle(kl_cycle_t *init, kl_options_t *opts)
{
    size_t   len;
    u_char  *p;
    kl_str_t file;
    char     cwd[PATH_MAX];

    if (opts->prefix) {
        len = strlen(opts->prefix);
        p = kl_pnalloc(init->pool, len + 2);
        if (p == NULL) {
            return KL_ERROR;
        }

        kl_memcpy(p, opts->prefix, len);

        if (len == 0 || p[len - 1] != '/') {
            p[len++] = '/';
        }

        p[len] = '\0';

        init->prefix.len = len;
        init->prefix.data = p;

        if (p[0] != '/') {
            /* A relative prefix is relative to where kiln was started. */
            if (getcwd(cwd, sizeof(cwd)) == NULL) {
                kl_log_error(KL_LOG_EMERG, init->log, errno, "getcwd() failed");
                return KL_ERROR;
            }

            file.len = strlen(cwd);
            file.data = kl_pnalloc(init->pool, file.len + 1 + len + 1);
            if (file.data == NULL) {
                return KL_ERROR;
            }

            p = kl_cpymem(file.data, cwd, file.len);
            *p++ = '/';
            p = kl_cpymem(p, init->prefix.data, len);
            *p = '\0';

            init->prefix.len = p - file.data;
            init->prefix.data = file.data;
        }

    } else {
        kl_str_set(&init->prefix, KL_PREFIX);
    }

    if (opts->conf_file) {
        init->conf_file.len = strlen(opts->conf_file);
        init->conf_file.data = (u_char *) opts->conf_file;
    } else {
        kl_str_set(&init->conf_file, KL_CONF_PATH);
    }

    if (kl_conf_full_name(init, &init->conf_file, 0) != KL_OK) {
        return KL_ERROR;
    }

    /* The conf prefix is the main file's directory, with its slash. */
    kl_file_dirname(&init->conf_file, &init->conf_prefix);

    if (opts->conf_params) {
        init->conf_param.len = strlen(opts->conf_params);
        init->conf_param.data = (u_char *) opts->conf_params;
    }

    if (opts->error_log) {
        init->error_log.len = strlen(opts->error_log);
        init->error_log.data = (u_char *) opts->error_log;
    } else {
        kl_str_set(&init->error_log, KL_ERROR_LOG_PATH);
    }

    return KL_OK;
}


static void
kl_main_dump_config(kl_cycle_t *cycle)
{
    kl_uint_t       i;
    kl_conf_dump_t *cd;
    u_char          line[PATH_MAX + 32], *p;

    cd = cycle->config_dump.elts;

    for (i = 0; i < cycle->config_dump.nelts; i++) {
        p = kl_slprintf(line, line + sizeof(line), "# configuration file %V:\n",
                        &cd[i].name);

        (void) kl_write_fd_all(STDOUT_FILENO, line, p - line);
        (void) kl_write_fd_all(STDOUT_FILENO, cd[i].buffer->pos,
                               cd[i].buffer->last - cd[i].buffer->pos);
        (void) kl_write_fd_all(STDOUT_FILENO, "\n", 1);
    }
}

static kl_int_t
kl_main_redirect_stderr(kl_cycle_t *cycle)
{
    kl_fd_t fd;

    fd = kl_log_file(cycle->log)->fd;

    if (fd == STDERR_FILENO) {
        return KL_OK;
    }

    /* Whatever a library prints on stderr belongs in the error log. */
    if (dup2(fd, STDERR_FILENO) == -1) {
        kl_log_error(KL_LOG_EMERG, cycle->log, errno, "dup2(STDERR) failed");
        return KL_ERROR;
    }

    return KL_OK;
}


/*
 * Until the configuration names its logs, messages go to the default
 * error log (or -e), as nginx's do, and are echoed to the terminal.
 */
static void
kl_main_open_startup_log(kl_cycle_t *init, kl_open_file_t *file)
{
    kl_fd_t  fd;
    kl_str_t name;

    name = init->error_log;

    if (name.len == 6 && kl_strncmp(name.data, "stderr", 6) == 0) {
        return;
    }

    if (kl_conf_full_name(init, &name, 0) != KL_OK) {
        return;
    }

    fd = kl_log_open_file(name.data);

    if (fd == -1) {
        kl_log_error(KL_LOG_ALERT, init->log, errno,
                     "could not open error log file: open() \"%s\" failed",
                     name.data);
        return;
    }

    file->fd = fd;
    file->name = name;
}
