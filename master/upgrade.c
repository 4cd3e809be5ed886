/*
 * upgrade.c: binary upgrade (USR2): saving argv and the binary's path,
 * exec'ing it with the listening sockets passed in $KILN ("fd;fd;...;",
 * nginx's $NGINX form), and adopting those sockets in the new master.
 *
 * The new master is a child of the old one and shares its sockets, so a
 * connection queued on them is accepted by whichever workers poll first:
 * none is dropped. Rolling back is the old master's business (master.c).
 */

#include "kl_core.h"
#include "master.h"

#include <sys/stat.h>


#define KL_UPGRADE_ENV "KILN"


static char *
kl_upgrade_strdup(const char *s, kl_log_t *log)
{
    size_t n;
    char  *p;

    n = strlen(s) + 1;

    p = kl_alloc(n, log);
    if (p) {
        kl_memcpy(p, s, n);
    }

    return p;
}


/*
 * argv[0] as the shell found it: a path (made absolute against the
 * current directory, which a later chdir must not change) or a name
 * looked up in $PATH. /proc/self/exe would name the old binary's inode,
 * which is not the point of an upgrade.
 */
static char *
kl_upgrade_find_binary(const char *argv0, kl_log_t *log)
{
    size_t      n;
    char       *p, *path, *dir, *save;
    char        buf[PATH_MAX];
    struct stat st;

    if (argv0[0] == '/') {
        return kl_upgrade_strdup(argv0, log);
    }

    if (strchr(argv0, '/')) {
        if (getcwd(buf, sizeof(buf) - 1) == NULL) {
            return NULL;
        }

        n = strlen(buf);
        if (n + 1 + strlen(argv0) + 1 > sizeof(buf)) {
            return NULL;
        }

        buf[n] = '/';
        strcpy(buf + n + 1, argv0);

        return kl_upgrade_strdup(buf, log);
    }

    p = getenv("PATH");
    if (p == NULL) {
        return NULL;
    }

    path = kl_upgrade_strdup(p, log);
    if (path == NULL) {
        return NULL;
    }

    for (dir = strtok_r(path, ":", &save); dir;
         dir = strtok_r(NULL, ":", &save)) {
        if ((size_t) snprintf(buf, sizeof(buf), "%s/%s", dir, argv0)
            >= sizeof(buf)) {
            continue;
        }

        if (stat(buf, &st) == 0 && S_ISREG(st.st_mode)
            && access(buf, X_OK) == 0) {
            kl_free(path);
            return kl_upgrade_strdup(buf, log);
        }
    }

    kl_free(path);

    return NULL;
}


kl_int_t
kl_argv_save(int argc, char *const *argv, kl_log_t *log)
{
    int i;

    kl_loop.argv = kl_alloc((argc + 1) * sizeof(char *), log);
    if (kl_loop.argv == NULL) {
        return KL_ERROR;
    }

    for (i = 0; i < argc; i++) {
        kl_loop.argv[i] = kl_upgrade_strdup(argv[i], log);
        if (kl_loop.argv[i] == NULL) {
            return KL_ERROR;
        }
    }

    kl_loop.argv[argc] = NULL;

    /* Not fatal: only USR2 needs it, and says so when it is missing. */
    kl_loop.binary = kl_upgrade_find_binary(argv[0], log);

    return KL_OK;
}


kl_int_t
kl_upgrade_inherit(kl_cycle_t *init)
{
    int             fd, on, flags;
    char           *p, *end;
    long            n;
    socklen_t       len;
    kl_uint_t       i, workers;
    kl_sockaddr_t   sa;
    kl_listening_t *ls, *prev;

    p = getenv(KL_UPGRADE_ENV);
    if (p == NULL) {
        return KL_OK;
    }

    kl_log_error(KL_LOG_NOTICE, init->log, 0,
                 "using inherited sockets from \"%s\"", p);

    if (kl_array_init(&init->listening, init->pool, 10, sizeof(kl_listening_t))
        != KL_OK)
    {
        return KL_ERROR;
    }

    while (*p) {
        errno = 0;
        n = strtol(p, &end, 10);

        if (end == p || *end != ';' || errno || n < 0 || n > INT_MAX) {
            kl_log_error(KL_LOG_EMERG, init->log, 0,
                         "invalid socket number \"%s\" in " KL_UPGRADE_ENV
                         " environment variable, ignoring the rest",
                         p);
            break;
        }

        fd = (int) n;
        p = end + 1;

        len = sizeof(kl_sockaddr_t);

        if (getsockname(fd, &sa.sockaddr, &len) == -1) {
            kl_log_error(KL_LOG_EMERG, init->log, errno,
                         "getsockname() of the inherited socket #%d failed",
                         fd);
            continue;
        }

        ls = kl_create_listening(init, &sa.sockaddr, len);
        if (ls == NULL) {
            return KL_ERROR;
        }

        ls->fd = fd;
        ls->inherited = 1;

        on = 0;
        len = sizeof(int);

        if (getsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, &len) == 0 && on) {
            /* Copies of one address come in worker order: count them. */
            ls->reuseport = 1;
            prev = init->listening.elts;
            workers = 0;

            for (i = 0; i + 1 < init->listening.nelts; i++) {
                if (prev[i].reuseport
                    && kl_sock_cmp(&prev[i].sockaddr.sockaddr, prev[i].socklen,
                                   &sa.sockaddr, ls->socklen))
                {
                    workers++;
                }
            }

            ls->worker = workers;
        }

        flags = fcntl(fd, F_GETFD);
        if (flags != -1) {
            (void) fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
        }

        /* Whoever passed it may have left it blocking: accept must not be. */
        if (kl_socket_nonblocking(fd) == -1) {
            kl_log_error(KL_LOG_EMERG, init->log, errno,
                         "fcntl(O_NONBLOCK) of the inherited socket #%d "
                         "failed",
                         fd);
            return KL_ERROR;
        }
    }

    kl_loop.inherited = 1;

    /* The next upgrade builds its own list. */
    unsetenv(KL_UPGRADE_ENV);

    return KL_OK;
}


void
kl_upgrade_close_unused(kl_cycle_t *init)
{
    kl_uint_t       i;
    kl_listening_t *ls;

    ls = init->listening.elts;

    for (i = 0; ls && i < init->listening.nelts; i++) {
        if (ls[i].fd != -1 && !ls[i].remain) {
            kl_log_error(KL_LOG_NOTICE, init->log, 0,
                         "closing inherited socket %V: not in the "
                         "configuration",
                         &ls[i].addr_text);
            close(ls[i].fd);
            ls[i].fd = -1;
        }
    }
}


pid_t
kl_upgrade_exec(kl_cycle_t *cycle)
{
    int             flags;
    pid_t           pid;
    size_t          len;
    u_char         *p, *env;
    sigset_t        set;
    kl_uint_t       i;
    kl_listening_t *ls;
    kl_core_conf_t *ccf;

    if (kl_loop.binary == NULL || kl_loop.argv == NULL) {
        kl_log_error(KL_LOG_ALERT, cycle->log, 0,
                     "cannot find the binary to execute: start kiln with "
                     "a path, or with its folder in $PATH");
        return -1;
    }

    ccf = (kl_core_conf_t *) kl_get_conf(cycle->conf_ctx, kl_core_module);
    ls = cycle->listening.elts;

    len = 1;

    for (i = 0; i < cycle->listening.nelts; i++) {
        len += KL_INT_T_LEN + 1;
    }

    env = kl_pnalloc(cycle->pool, len);
    if (env == NULL) {
        return -1;
    }

    p = env;

    for (i = 0; i < cycle->listening.nelts; i++) {
        if (ls[i].fd != -1) {
            p = kl_slprintf(p, env + len, "%d;", ls[i].fd);
        }
    }

    *p = '\0';

    if (rename((char *) ccf->pid.data, (char *) ccf->oldpid.data) == -1) {
        kl_log_error(KL_LOG_ALERT, cycle->log, errno,
                     "rename() %s to %s failed, cannot execute a new binary",
                     ccf->pid.data, ccf->oldpid.data);
        return -1;
    }

    pid = fork();

    if (pid == -1) {
        kl_log_error(KL_LOG_ALERT, cycle->log, errno,
                     "fork() failed while executing new binary process");
        (void) rename((char *) ccf->oldpid.data, (char *) ccf->pid.data);
        return -1;
    }

    if (pid == 0) {
        for (i = 0; i < cycle->listening.nelts; i++) {
            if (ls[i].fd == -1) {
                continue;
            }

            flags = fcntl(ls[i].fd, F_GETFD);
            if (flags != -1) {
                (void) fcntl(ls[i].fd, F_SETFD, flags & ~FD_CLOEXEC);
            }
        }

        if (setenv(KL_UPGRADE_ENV, (char *) env, 1) == -1) {
            _exit(2);
        }

        sigemptyset(&set);
        (void) sigprocmask(SIG_SETMASK, &set, NULL);

        execv(kl_loop.binary, kl_loop.argv);

        kl_log_error(KL_LOG_ALERT, cycle->log, errno,
                     "execv() failed while executing new binary "
                     "process \"%s\"",
                     kl_loop.binary);
        _exit(2);
    }

    kl_log_error(KL_LOG_NOTICE, cycle->log, 0, "start new binary process %d",
                 (int) pid);

    return pid;
}
