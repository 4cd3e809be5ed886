/* core_module.c: the main-context process directives (daemon, workers, pid, error_log, user). */

#include "kl_core.h"

#include <grp.h>
#include <pwd.h>
#include <sched.h>


static void *kl_core_create_conf(kl_cycle_t *cycle);
static char *kl_core_init_conf(kl_cycle_t *cycle, void *conf);
static char *kl_set_worker_processes(kl_conf_t *cf, kl_command_t *cmd,
                                     void *conf);
static char *kl_set_error_log(kl_conf_t *cf, kl_command_t *cmd, void *conf);
static void  kl_core_log_insert(kl_log_t *head, kl_log_t *log);
static char *kl_set_user(kl_conf_t *cf, kl_command_t *cmd, void *conf);
static char *kl_set_pcre_jit(kl_conf_t *cf, kl_command_t *cmd, void *conf);
static char *kl_set_env(kl_conf_t *cf, kl_command_t *cmd, void *conf);
static char *kl_set_priority(kl_conf_t *cf, kl_command_t *cmd, void *conf);
static char *kl_set_cpu_affinity(kl_conf_t *cf, kl_command_t *cmd, void *conf);


/* Directive tables keep one field a line, as nginx's do. */
/* clang-format off */
static kl_command_t  kl_core_commands[] = {

    { kl_string("daemon"),
      KL_MAIN_CONF | KL_DIRECT_CONF | KL_CONF_FLAG,
      kl_conf_set_flag_slot,
      0,
      offsetof(kl_core_conf_t, daemon),
      NULL },

    { kl_string("master_process"),
      KL_MAIN_CONF | KL_DIRECT_CONF | KL_CONF_FLAG,
      kl_conf_set_flag_slot,
      0,
      offsetof(kl_core_conf_t, master),
      NULL },

    { kl_string("worker_processes"),
      KL_MAIN_CONF | KL_DIRECT_CONF | KL_CONF_TAKE1,
      kl_set_worker_processes,
      0,
      0,
      NULL },

    { kl_string("worker_shutdown_timeout"),
      KL_MAIN_CONF | KL_DIRECT_CONF | KL_CONF_TAKE1,
      kl_conf_set_msec_slot,
      0,
      offsetof(kl_core_conf_t, shutdown_timeout),
      NULL },

    { kl_string("worker_rlimit_nofile"),
      KL_MAIN_CONF | KL_DIRECT_CONF | KL_CONF_TAKE1,
      kl_conf_set_num_slot,
      0,
      offsetof(kl_core_conf_t, rlimit_nofile),
      NULL },

    { kl_string("worker_rlimit_core"),
      KL_MAIN_CONF | KL_DIRECT_CONF | KL_CONF_TAKE1,
      kl_conf_set_off_slot,
      0,
      offsetof(kl_core_conf_t, rlimit_core),
      NULL },

    /*
     * nginx uses the file only where it has no atomic operations for the
     * accept mutex; on Linux it never opens it, and neither does kiln,
     * whose mutex is an atomic in shared memory. The path is kept for -T.
     */
    { kl_string("lock_file"),
      KL_MAIN_CONF | KL_DIRECT_CONF | KL_CONF_TAKE1,
      kl_conf_set_str_slot,
      0,
      offsetof(kl_core_conf_t, lock_file),
      NULL },

    { kl_string("pid"),
      KL_MAIN_CONF | KL_DIRECT_CONF | KL_CONF_TAKE1,
      kl_conf_set_str_slot,
      0,
      offsetof(kl_core_conf_t, pid),
      NULL },

    { kl_string("error_log"),
      KL_MAIN_CONF | KL_DIRECT_CONF | KL_CONF_1MORE,
      kl_set_error_log,
      0,
      0,
      NULL },

    { kl_string("user"),
      KL_MAIN_CONF | KL_DIRECT_CONF | KL_CONF_TAKE12,
      kl_set_user,
      0,
      0,
      NULL },

    { kl_string("working_directory"),
      KL_MAIN_CONF | KL_DIRECT_CONF | KL_CONF_TAKE1,
      kl_conf_set_str_slot,
      0,
      offsetof(kl_core_conf_t, working_directory),
      NULL },

    { kl_string("env"),
      KL_MAIN_CONF | KL_DIRECT_CONF | KL_CONF_TAKE1,
      kl_set_env,
      0,
      0,
      NULL },

    { kl_string("worker_priority"),
      KL_MAIN_CONF | KL_DIRECT_CONF | KL_CONF_TAKE1,
      kl_set_priority,
      0,
      0,
      NULL },

    { kl_string("worker_cpu_affinity"),
      KL_MAIN_CONF | KL_DIRECT_CONF | KL_CONF_1MORE,
      kl_set_cpu_affinity,
      0,
      0,
      NULL },

    { kl_string("pcre_jit"),
      KL_MAIN_CONF | KL_DIRECT_CONF | KL_CONF_FLAG,
      kl_set_pcre_jit,
      0,
      0,
      NULL },

    kl_null_command
};
/* clang-format on */


static kl_core_module_t kl_core_module_ctx = {
    .create_conf = kl_core_create_conf,
    .init_conf = kl_core_init_conf,
};


kl_module_t kl_core_module = {
    .name = "kl_core_module",
    .type = KL_CORE_MODULE,
    .ctx = &kl_core_module_ctx,
    .commands = kl_core_commands,
};


static void *
kl_core_create_conf(kl_cycle_t *cycle)
{
    kl_core_conf_t *ccf;

    ccf = kl_pcalloc(cycle->pool, sizeof(kl_core_conf_t));
    if (ccf == NULL) {
        return NULL;
    }

    ccf->daemon = KL_CONF_UNSET;
    ccf->master = KL_CONF_UNSET;
    ccf->worker_processes = KL_CONF_UNSET;
    ccf->shutdown_timeout = KL_CONF_UNSET_MSEC;
    ccf->rlimit_nofile = KL_CONF_UNSET;
    ccf->rlimit_core = KL_CONF_UNSET;
    ccf->user = (uid_t) KL_CONF_UNSET_UINT;
    ccf->group = (gid_t) KL_CONF_UNSET_UINT;

    return ccf;
}


static char *
kl_core_init_conf(kl_cycle_t *cycle, void *conf)
{
    kl_core_conf_t *ccf = conf;
    kl_str_t        name;
    kl_log_t       *log;
    struct passwd  *pwd;
    struct group   *grp;

    kl_conf_init_value(ccf->daemon, 1);
    kl_conf_init_value(ccf->master, 1);
    kl_conf_init_value(ccf->worker_processes, 1);
    kl_conf_init_msec_value(ccf->shutdown_timeout, 0);

    if (ccf->pid.data == NULL) {
        kl_str_set(&ccf->pid, KL_PID_PATH);
    }

    if (kl_conf_full_name(cycle, &ccf->pid, 0) != KL_OK) {
        return KL_CONF_ERROR;
    }

    ccf->oldpid.len = ccf->pid.len + sizeof(".oldbin") - 1;
    ccf->oldpid.data = kl_pnalloc(cycle->pool, ccf->oldpid.len + 1);
    if (ccf->oldpid.data == NULL) {
        return KL_CONF_ERROR;
    }

    kl_memcpy(kl_cpymem(ccf->oldpid.data, ccf->pid.data, ccf->pid.len),
              ".oldbin", sizeof(".oldbin"));

    /*
     * As nginx, a file log always exists: stderr goes to it, and it has
     * what syslog loses. With error_log syslog: only, it is the default
     * file at "error".
     */
    if (kl_log_file(&cycle->new_log) == NULL) {
        log = kl_pcalloc(cycle->pool, sizeof(kl_log_t));
        if (log == NULL) {
            return KL_CONF_ERROR;
        }

        name = cycle->error_log;
        log->file = kl_cycle_open_file(cycle, &name);
        if (log->file == NULL) {
            return KL_CONF_ERROR;
        }

        log->log_level = KL_LOG_ERR;
        kl_core_log_insert(&cycle->new_log, log);
    }

    if (ccf->user == (uid_t) KL_CONF_UNSET_UINT && geteuid() == 0) {
        /* As root, workers run as the compiled-in user, as nginx's do. */
        pwd = getpwnam(KL_USER);
        grp = getgrnam(KL_GROUP);

        if (pwd == NULL || grp == NULL) {
            kl_log_error(KL_LOG_EMERG, cycle->log, errno,
                         "getpwnam(\"" KL_USER "\") or getgrnam(\"" KL_GROUP
                         "\") failed");
            return KL_CONF_ERROR;
        }

        ccf->user_name.data = (u_char *) KL_USER;
        ccf->user_name.len = sizeof(KL_USER) - 1;
        ccf->user = pwd->pw_uid;
        ccf->group = grp->gr_gid;
    }

    return KL_CONF_OK;
}


static char *
kl_set_worker_processes(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_core_conf_t *ccf = conf;
    kl_str_t       *value;
    long            n;

    (void) cmd;

    if (ccf->worker_processes != KL_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 4 && kl_strncmp(value[1].data, "auto", 4) == 0) {
        n = sysconf(_SC_NPROCESSORS_ONLN);
        ccf->worker_processes = (n > 0) ? n : 1;
        return KL_CONF_OK;
    }

    ccf->worker_processes = kl_atoi(value[1].data, value[1].len);

    if (ccf->worker_processes == KL_ERROR || ccf->worker_processes == 0) {
        return "invalid value";
    }

    return KL_CONF_OK;
}


static char *
kl_set_error_log(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    (void) cmd;
    (void) conf;

    return kl_conf_set_error_log(cf, &cf->cycle->new_log);
}


char *
kl_conf_set_error_log(kl_conf_t *cf, kl_log_t *head)
{
    kl_log_t *log;
    kl_int_t  level;
    kl_str_t *value, name;

    value = cf->args->elts;

    if (cf->args->nelts > 3) {
        return "has too many arguments";
    }

    log = kl_pcalloc(cf->pool, sizeof(kl_log_t));
    if (log == NULL) {
        return KL_CONF_ERROR;
    }

    name = value[1];

    if (name.len >= 7 && kl_strncmp(name.data, "syslog:", 7) == 0) {
        log->syslog = kl_syslog_conf(cf, &name);
        if (log->syslog == NULL) {
            return KL_CONF_ERROR;
        }

        /* nginx ignores it too, but says nothing */
        if (log->syslog->severity_given) {
            kl_conf_log_error(KL_LOG_WARN, cf, 0,
                              "syslog \"severity\" is ignored by error_log: "
                              "each message's level sets it");
        }

    } else {
        log->file = kl_cycle_open_file(cf->cycle, &name);
        if (log->file == NULL) {
            return KL_CONF_ERROR;
        }
    }

    log->log_level = KL_LOG_ERR;

    if (cf->args->nelts == 3) {
        level = kl_log_level_parse(&value[2]);

        if (level == -1 || level == KL_LOG_STDERR) {
            kl_conf_log_error(KL_LOG_EMERG, cf, 0, "invalid log level \"%V\"",
                              &value[2]);
            return KL_CONF_ERROR;
        }

        log->log_level = (kl_uint_t) level;
    }

    kl_core_log_insert(head, log);

    return KL_CONF_OK;
}


/*
 * kl_log_error tests the first destination's level only, so the list is
 * kept most verbose first (as nginx keeps it); head is the list's own.
 */
static void
kl_core_log_insert(kl_log_t *head, kl_log_t *log)
{
    kl_log_t *last, tmp;

    if (head->file == NULL && head->syslog == NULL) {
        *head = *log;
        return;
    }

    if (log->log_level > head->log_level) {
        tmp = *head;
        *head = *log;
        *log = tmp;
        head->next = log;
        return;
    }

    for (last = head; last->next; last = last->next) {
        if (log->log_level > last->next->log_level) {
            break;
        }
    }

    log->next = last->next;
    last->next = log;
}


static char *
kl_set_user(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_core_conf_t *ccf = conf;
    kl_str_t       *value;
    struct passwd  *pwd;
    struct group   *grp;
    const char     *group;

    (void) cmd;

    if (ccf->user != (uid_t) KL_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    if (geteuid() != 0) {
        kl_conf_log_error(KL_LOG_WARN, cf, 0,
                          "the \"user\" directive makes sense only "
                          "if the master process runs "
                          "with super-user privileges, ignored");
        return KL_CONF_OK;
    }

    value = cf->args->elts;

    ccf->user_name = value[1];

    pwd = getpwnam((const char *) value[1].data);
    if (pwd == NULL) {
        kl_conf_log_error(KL_LOG_EMERG, cf, errno, "getpwnam(\"%s\") failed",
                          value[1].data);
        return KL_CONF_ERROR;
    }

    ccf->user = pwd->pw_uid;

    group = (cf->args->nelts == 2) ? (const char *) value[1].data
                                   : (const char *) value[2].data;

    grp = getgrnam(group);
    if (grp == NULL && cf->args->nelts == 2) {
        grp = getgrgid(pwd->pw_gid);
    }

    if (grp == NULL) {
        kl_conf_log_error(KL_LOG_EMERG, cf, errno, "getgrnam(\"%s\") failed",
                          group);
        return KL_CONF_ERROR;
    }

    ccf->group = grp->gr_gid;

    return KL_CONF_OK;
}


static char *
kl_set_pcre_jit(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_str_t *value;

    (void) cmd;
    (void) conf;

    /* kiln always JIT-compiles regexes when PCRE2 has JIT: accept both. */
    value = cf->args->elts;

    if (kl_strcasecmp(value[1].data, (u_char *) "on") != 0
        && kl_strcasecmp(value[1].data, (u_char *) "off") != 0)
    {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                          "invalid value \"%V\" in \"pcre_jit\" directive, "
                          "it must be \"on\" or \"off\"",
                          &value[1]);
        return KL_CONF_ERROR;
    }

    return KL_CONF_OK;
}


static char *
kl_set_env(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_core_conf_t *ccf = conf;
    kl_str_t       *value, *var;

    (void) cmd;

    if (ccf->env == NULL) {
        ccf->env = kl_array_create(cf->pool, 4, sizeof(kl_str_t));
        if (ccf->env == NULL) {
            return KL_CONF_ERROR;
        }
    }

    value = cf->args->elts;

    if (value[1].len == 0 || value[1].data[0] == '=') {
        return "has an empty variable name";
    }

    var = kl_array_push(ccf->env);
    if (var == NULL) {
        return KL_CONF_ERROR;
    }

    /* Arguments are NUL-terminated: putenv-ready as they are. */
    *var = value[1];

    return KL_CONF_OK;
}


static char *
kl_set_priority(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_core_conf_t *ccf = conf;
    kl_str_t       *value;
    kl_int_t        n, minus;

    (void) cmd;

    if (ccf->priority_set) {
        return "is duplicate";
    }

    value = cf->args->elts;
    minus = (value[1].len > 1 && value[1].data[0] == '-');

    n = kl_atoi(value[1].data + minus, value[1].len - minus);

    if (n == KL_ERROR || n > 20) {
        return "invalid number";
    }

    ccf->priority = minus ? -n : n;
    ccf->priority_set = 1;

    return KL_CONF_OK;
}


/* "auto [MASK]" or one mask per worker: '1' bits, the rightmost is CPU 0. */
static char *
kl_set_cpu_affinity(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_core_conf_t *ccf = conf;
    size_t          j;
    kl_str_t       *value;
    kl_uint_t       i, first;
    cpu_set_t      *mask;

    (void) cmd;

    if (ccf->cpu_affinity || ccf->cpu_affinity_auto) {
        return "is duplicate";
    }

    value = cf->args->elts;
    first = 1;

    if (value[1].len == 4 && kl_strncmp(value[1].data, "auto", 4) == 0) {
        if (cf->args->nelts > 3) {
            return "has too many arguments";
        }

        ccf->cpu_affinity_auto = 1;
        first = 2;
    }

    ccf->cpu_affinity = kl_array_create(cf->pool, 4, sizeof(cpu_set_t));
    if (ccf->cpu_affinity == NULL) {
        return KL_CONF_ERROR;
    }

    for (i = first; i < cf->args->nelts; i++) {

        if (value[i].len > CPU_SETSIZE) {
            kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                              "\"worker_cpu_affinity\" supports up to %d "
                              "CPUs only",
                              CPU_SETSIZE);
            return KL_CONF_ERROR;
        }

        mask = kl_array_push(ccf->cpu_affinity);
        if (mask == NULL) {
            return KL_CONF_ERROR;
        }

        CPU_ZERO(mask);

        for (j = 0; j < value[i].len; j++) {
            switch (value[i].data[value[i].len - 1 - j]) {
            case '1':
                CPU_SET(j, mask);
                break;
            case '0':
                break;
            default:
                kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                                  "invalid character \"%c\" in "
                                  "\"worker_cpu_affinity\"",
                                  value[i].data[value[i].len - 1 - j]);
                return KL_CONF_ERROR;
            }
        }

        if (CPU_COUNT(mask) == 0) {
            return "has a mask with no CPU";
        }
    }

    return KL_CONF_OK;
}
