/*
 * cycle.c: building a configuration generation and retiring the old one.
 *
 * A cycle is everything one configuration implies: module confs, open
 * log files, listening sockets. A reload builds a complete new cycle
 * next to the running one and only then switches; any error leaves the
 * old cycle untouched. Listening sockets with an address the old cycle
 * already had are taken over by fd, so their accept queues survive.
 */

#include "kl_core.h"

#include <sys/file.h>


static kl_int_t kl_cycle_create_confs(kl_cycle_t *cycle);
static kl_int_t kl_cycle_init_confs(kl_cycle_t *cycle);
static kl_int_t kl_cycle_open_files(kl_cycle_t *cycle, kl_cycle_t *old);
static void     kl_cycle_take_listeners(kl_cycle_t *cycle, kl_cycle_t *old);
static kl_int_t kl_cycle_copy_str(kl_pool_t *pool, kl_str_t *dst,
                                  kl_str_t *src);


kl_cycle_t *
kl_cycle_init(kl_cycle_t *old, kl_uint_t test_only)
{
    kl_listening_t *ls;
    char            hostname[256];
    kl_uint_t       i;
    kl_pool_t      *pool;
    kl_conf_t       conf;
    kl_cycle_t     *cycle;

    kl_time_update(&kl_loop.clock);

    pool = kl_pool_create(KL_CYCLE_POOL_SIZE, old->log);
    if (pool == NULL) {
        return NULL;
    }

    pool->log = old->log;

    cycle = kl_pcalloc(pool, sizeof(kl_cycle_t));
    if (cycle == NULL) {
        kl_pool_free(pool);
        return NULL;
    }

    cycle->pool = pool;
    cycle->log = old->log;
    cycle->old_cycle = old;

    if (kl_cycle_copy_str(pool, &cycle->conf_file, &old->conf_file) != KL_OK
        || kl_cycle_copy_str(pool, &cycle->conf_param, &old->conf_param)
               != KL_OK
        || kl_cycle_copy_str(pool, &cycle->conf_prefix, &old->conf_prefix)
               != KL_OK
        || kl_cycle_copy_str(pool, &cycle->prefix, &old->prefix) != KL_OK
        || kl_cycle_copy_str(pool, &cycle->error_log, &old->error_log) != KL_OK
        || kl_array_init(&cycle->listening, pool, 10, sizeof(kl_listening_t))
               != KL_OK
        || kl_list_init(&cycle->open_files, pool, 10, sizeof(kl_open_file_t))
               != KL_OK
        || kl_array_init(&cycle->config_dump, pool, 1, sizeof(kl_conf_dump_t))
               != KL_OK
        || kl_array_init(&cycle->paths, pool, 4, sizeof(kl_str_t)) != KL_OK
        || kl_list_init(&cycle->shm_zones, pool, 4, sizeof(kl_shm_zone_t))
               != KL_OK)
    {
        kl_pool_free(pool);
        return NULL;
    }

    if (gethostname(hostname, sizeof(hostname)) == -1) {
        kl_log_error(KL_LOG_EMERG, old->log, errno, "gethostname() failed");
        kl_pool_free(pool);
        return NULL;
    }

    hostname[sizeof(hostname) - 1] = '\0';
    cycle->hostname.len = kl_strlen(hostname);
    cycle->hostname.data = kl_pnalloc(pool, cycle->hostname.len);
    if (cycle->hostname.data == NULL) {
        kl_pool_free(pool);
        return NULL;
    }

    kl_strlow(cycle->hostname.data, (u_char *) hostname, cycle->hostname.len);

    if (kl_cycle_create_confs(cycle) != KL_OK) {
        kl_pool_free(pool);
        return NULL;
    }

    kl_memzero(&conf, sizeof(kl_conf_t));

    conf.args = kl_array_create(pool, 10, sizeof(kl_str_t));
    conf.temp_pool = kl_pool_create(KL_CYCLE_POOL_SIZE, old->log);

    if (conf.args == NULL || conf.temp_pool == NULL) {
        if (conf.temp_pool) {
            kl_pool_free(conf.temp_pool);
        }
        kl_pool_free(pool);
        return NULL;
    }

    conf.ctx = cycle->conf_ctx;
    conf.cycle = cycle;
    conf.pool = pool;
    conf.log = old->log;
    conf.module_type = KL_CORE_MODULE;
    conf.cmd_type = KL_MAIN_CONF;

    if (kl_conf_param(&conf, &cycle->conf_param) != KL_CONF_OK
        || kl_conf_parse(&conf, &cycle->conf_file) != KL_CONF_OK)
    {
        kl_pool_free(conf.temp_pool);
        kl_cycle_free(cycle, 0);
        return NULL;
    }

    kl_pool_free(conf.temp_pool);

    if (kl_cycle_init_confs(cycle) != KL_OK) {
        kl_cycle_free(cycle, 0);
        return NULL;
    }

    if (kl_cycle_open_files(cycle, old) != KL_OK) {
        kl_cycle_free(cycle, 0);
        return NULL;
    }

    cycle->log = &cycle->new_log;
    pool->log = &cycle->new_log;

    /* Listeners were made while the old log was in force. */
    ls = cycle->listening.elts;

    for (i = 0; i < cycle->listening.nelts; i++) {
        ls[i].log = cycle->new_log;
        ls[i].log.action = "accepting connection";
        ls[i].logp = cycle->log;
    }

    if (test_only) {
        return cycle;
    }

    if (kl_shm_zones_map(cycle, old) != KL_OK) {
        kl_cycle_free(cycle, 0);
        return NULL;
    }

    kl_cycle_take_listeners(cycle, old);

    if (kl_open_listening_sockets(cycle) != KL_OK) {
        kl_cycle_free(cycle, 0);
        return NULL;
    }

    for (i = 0; kl_modules[i]; i++) {
        if (kl_modules[i]->init_module
            && kl_modules[i]->init_module(cycle) != KL_OK) {
            kl_cycle_free(cycle, 0);
            return NULL;
        }
    }

    kl_shm_zones_keep(cycle);

    return cycle;
}


static kl_int_t
kl_cycle_copy_str(kl_pool_t *pool, kl_str_t *dst, kl_str_t *src)
{
    dst->len = src->len;

    if (src->data == NULL) {
        dst->data = NULL;
        return KL_OK;
    }

    /* Keep a NUL after the bytes: these are passed to open(2). */
    dst->data = kl_pnalloc(pool, src->len + 1);
    if (dst->data == NULL) {
        return KL_ERROR;
    }

    *kl_cpymem(dst->data, src->data, src->len) = '\0';

    return KL_OK;
}


static kl_int_t
kl_cycle_create_confs(kl_cycle_t *cycle)
{
    void             *rv;
    kl_uint_t         i, n;
    kl_core_module_t *module;

    for (n = 0; kl_modules[n]; n++) { /* count */
    }

    cycle->conf_ctx = kl_pcalloc(cycle->pool, n * sizeof(void *));
    if (cycle->conf_ctx == NULL) {
        return KL_ERROR;
    }

    for (i = 0; kl_modules[i]; i++) {
        if (kl_modules[i]->type != KL_CORE_MODULE) {
            continue;
        }

        module = kl_modules[i]->ctx;

        if (module && module->create_conf) {
            rv = module->create_conf(cycle);
            if (rv == NULL) {
                return KL_ERROR;
            }

            cycle->conf_ctx[kl_modules[i]->index] = rv;
        }
    }

    return KL_OK;
}


static kl_int_t
kl_cycle_init_confs(kl_cycle_t *cycle)
{
    char             *rv;
    kl_uint_t         i;
    kl_core_module_t *module;

    for (i = 0; kl_modules[i]; i++) {
        if (kl_modules[i]->type != KL_CORE_MODULE) {
            continue;
        }

        module = kl_modules[i]->ctx;

        if (module && module->init_conf) {
            rv =
                module->init_conf(cycle, cycle->conf_ctx[kl_modules[i]->index]);
            if (rv != KL_CONF_OK) {
                if (rv != KL_CONF_ERROR) {
                    kl_log_error(KL_LOG_EMERG, cycle->log, 0, "%s", rv);
                }
                return KL_ERROR;
            }
        }
    }

    return KL_OK;
}


kl_open_file_t *
kl_cycle_open_file(kl_cycle_t *cycle, kl_str_t *name)
{
    kl_str_t        full;
    kl_uint_t       i;
    kl_list_part_t *part;
    kl_open_file_t *file;

    full = *name;

    if (!(name->len == 6 && kl_strncmp(name->data, "stderr", 6) == 0)
        && kl_conf_full_name(cycle, &full, 0) != KL_OK)
    {
        return NULL;
    }

    part = &cycle->open_files.part;
    file = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }
            part = part->next;
            file = part->elts;
            i = 0;
        }

        if (file[i].name.len == full.len
            && kl_strncmp(file[i].name.data, full.data, full.len) == 0)
        {
            return &file[i];
        }
    }

    file = kl_list_push(&cycle->open_files);
    if (file == NULL) {
        return NULL;
    }

    file->fd = -1;
    file->flush = NULL;
    file->data = NULL;
    file->name.len = full.len;
    file->name.data = kl_pnalloc(cycle->pool, full.len + 1);
    if (file->name.data == NULL) {
        return NULL;
    }

    *kl_cpymem(file->name.data, full.data, full.len) = '\0';

    return file;
}


static kl_int_t
kl_cycle_open_files(kl_cycle_t *cycle, kl_cycle_t *old)
{
    kl_uint_t       i;
    kl_list_part_t *part;
    kl_open_file_t *file;

    (void) old;

    part = &cycle->open_files.part;
    file = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }
            part = part->next;
            file = part->elts;
            i = 0;
        }

        if (file[i].name.len == 6
            && kl_strncmp(file[i].name.data, "stderr", 6) == 0) {
            file[i].fd = STDERR_FILENO;
            continue;
        }

        file[i].fd = kl_log_open_file(file[i].name.data);

        if (file[i].fd == -1) {
            kl_log_error(KL_LOG_EMERG, cycle->log, errno,
                         "open() \"%s\" failed", file[i].name.data);
            return KL_ERROR;
        }
    }

    return KL_OK;
}


static void
kl_cycle_take_listeners(kl_cycle_t *cycle, kl_cycle_t *old)
{
    kl_uint_t       i, j;
    kl_listening_t *ls, *ols;

    if (old->listening.elts == NULL) {
        return;
    }

    ls = cycle->listening.elts;
    ols = old->listening.elts;

    for (i = 0; i < cycle->listening.nelts; i++) {
        for (j = 0; j < old->listening.nelts; j++) {

            if (ols[j].fd == -1 || ols[j].remain
                || ls[i].reuseport != ols[j].reuseport
                || ls[i].worker != ols[j].worker)
            {
                continue;
            }

            if (!kl_sock_cmp(&ls[i].sockaddr.sockaddr, ls[i].socklen,
                             &ols[j].sockaddr.sockaddr, ols[j].socklen))
            {
                continue;
            }

            ls[i].fd = ols[j].fd;
            ls[i].previous = &ols[j];
            ls[i].inherited = ols[j].inherited;
            ols[j].remain = 1;
            break;
        }
    }
}


void
kl_cycle_free(kl_cycle_t *cycle, kl_uint_t close_listeners)
{
    kl_uint_t       i;
    kl_list_part_t *part;
    kl_open_file_t *file;
    kl_listening_t *ls;

    if (close_listeners) {
        ls = cycle->listening.elts;

        for (i = 0; i < cycle->listening.nelts; i++) {
            if (ls[i].fd != -1 && !ls[i].remain) {
                kl_listening_unlink(&ls[i], cycle->log);
                close(ls[i].fd);
            }
            ls[i].fd = -1;
        }
    }

    part = &cycle->open_files.part;
    file = part->elts;

    for (i = 0; part && /* void */ 1; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }
            part = part->next;
            file = part->elts;
            i = 0;
        }

        if (file[i].fd > STDERR_FILENO) {
            close(file[i].fd);
            file[i].fd = -1;
        }
    }

    kl_shm_zones_free(cycle);

    kl_pool_free(cycle->pool);
}


void
kl_cycle_reopen_files(kl_cycle_t *cycle, kl_uint_t user)
{
    kl_fd_t         fd;
    kl_uint_t       i;
    kl_list_part_t *part;
    kl_open_file_t *file;

    part = &cycle->open_files.part;
    file = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }
            part = part->next;
            file = part->elts;
            i = 0;
        }

        if (file[i].fd <= STDERR_FILENO) {
            continue;
        }

        if (file[i].flush) {
            file[i].flush(&file[i], cycle->log);
        }

        fd = kl_log_open_file(file[i].name.data);

        if (fd == -1) {
            kl_log_error(KL_LOG_EMERG, cycle->log, errno,
                         "open() \"%s\" failed", file[i].name.data);
            continue;
        }

        /*
         * The master reopens first, as root: a file it creates must be
         * the workers' to open after it (they cannot create one in a
         * root-owned folder), as nginx does.
         */
        if (user != KL_CONF_UNSET_UINT
            && (fchown(fd, (uid_t) user, (gid_t) -1) == -1
                || fchmod(fd, 0644) == -1))
        {
            kl_log_error(KL_LOG_EMERG, cycle->log, errno,
                         "chown()/chmod() \"%s\" failed", file[i].name.data);
        }

        /* dup2 keeps the fd number, so nothing holding it goes stale. */
        if (dup2(fd, file[i].fd) == -1) {
            kl_log_error(KL_LOG_EMERG, cycle->log, errno,
                         "dup2() \"%s\" failed", file[i].name.data);
        }

        close(fd);
    }

    /* stderr was the error log's: it follows the reopened file. */
    file = kl_log_file(cycle->log);

    if (file && file->fd > STDERR_FILENO && dup2(file->fd, STDERR_FILENO) == -1)
    {
        kl_log_error(KL_LOG_ALERT, cycle->log, errno, "dup2(STDERR) failed");
    }
}


kl_int_t
kl_cycle_create_pidfile(kl_str_t *name, kl_log_t *log)
{
    int    fd;
    size_t len;
    u_char pid[KL_INT_T_LEN + 2];

    fd = open((char *) name->data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
              0644);

    if (fd == -1) {
        kl_log_error(KL_LOG_EMERG, log, errno, "open() \"%s\" failed",
                     name->data);
        return KL_ERROR;
    }

    len = kl_snprintf(pid, sizeof(pid), "%d\n", (int) getpid()) - pid;

    if (kl_write_fd_all(fd, pid, len) == -1) {
        kl_log_error(KL_LOG_EMERG, log, errno, "write() \"%s\" failed",
                     name->data);
        close(fd);
        return KL_ERROR;
    }

    close(fd);

    return KL_OK;
}


void
kl_cycle_delete_pidfile(kl_cycle_t *cycle)
{
    kl_core_conf_t *ccf;

    ccf = (kl_core_conf_t *) kl_get_conf(cycle->conf_ctx, kl_core_module);

    if (unlink((char *) ccf->pid.data) == -1) {
        kl_log_error(KL_LOG_ALERT, cycle->log, errno, "unlink() \"%s\" failed",
                     ccf->pid.data);
    }
}


kl_int_t
kl_cycle_signal_process(kl_cycle_t *cycle, char *sig)
{
    int             fd, signo;
    ssize_t         n;
    kl_int_t        pid;
    kl_core_conf_t *ccf;
    u_char          buf[KL_INT_T_LEN + 2];

    ccf = (kl_core_conf_t *) kl_get_conf(cycle->conf_ctx, kl_core_module);

    fd = open((char *) ccf->pid.data, O_RDONLY | O_CLOEXEC);
    if (fd == -1) {
        kl_log_error(KL_LOG_ERR, cycle->log, errno, "open() \"%s\" failed",
                     ccf->pid.data);
        return 1;
    }

    n = read(fd, buf, sizeof(buf));
    close(fd);

    if (n == -1) {
        kl_log_error(KL_LOG_ERR, cycle->log, errno, "read() \"%s\" failed",
                     ccf->pid.data);
        return 1;
    }

    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) {
        n--;
    }

    pid = kl_atoi(buf, (size_t) n);

    if (pid == KL_ERROR || pid <= 0) {
        kl_log_error(KL_LOG_ERR, cycle->log, 0,
                     "invalid PID number \"%*s\" in \"%s\"", (size_t) n, buf,
                     ccf->pid.data);
        return 1;
    }

    if (strcmp(sig, "stop") == 0) {
        signo = SIGTERM;
    } else if (strcmp(sig, "quit") == 0) {
        signo = SIGQUIT;
    } else if (strcmp(sig, "reopen") == 0) {
        signo = SIGUSR1;
    } else if (strcmp(sig, "reload") == 0) {
        signo = SIGHUP;
    } else {
        return 1;
    }

    if (kill((pid_t) pid, signo) == -1) {
        kl_log_error(KL_LOG_ALERT, cycle->log, errno, "kill(%i, %d) failed",
                     pid, signo);
        return 1;
    }

    return 0;
}
