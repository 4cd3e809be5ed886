/*
 * connection.c: listening sockets and the connection free list.
 *
 * Listening sockets are opened here rather than in master/ because a new
 * cycle must compare its addresses with the old cycle's to keep their
 * fds across a reload; the master only decides when.
 */

#include "kl_core.h"

#include <netinet/tcp.h>


kl_listening_t *
kl_create_listening(kl_cycle_t *cycle, struct sockaddr *sa, socklen_t socklen)
{
    kl_listening_t *ls;
    u_char          text[KL_SOCKADDR_STRLEN];

    ls = kl_array_push(&cycle->listening);
    if (ls == NULL) {
        return NULL;
    }

    kl_memzero(ls, sizeof(kl_listening_t));

    kl_memcpy(&ls->sockaddr, sa, socklen);
    ls->socklen = socklen;
    ls->fd = -1;
    ls->backlog = 511;
    ls->rcvbuf = -1;
    ls->sndbuf = -1;
    ls->fastopen = -1;
    ls->pool_size = 512;

    ls->addr_text.len = kl_sock_ntop(sa, socklen, text, sizeof(text), 1);
    ls->addr_text.data = kl_pnalloc(cycle->pool, ls->addr_text.len + 1);
    if (ls->addr_text.data == NULL) {
        return NULL;
    }

    *kl_cpymem(ls->addr_text.data, text, ls->addr_text.len) = '\0';

    ls->log = *cycle->log;
    ls->logp = cycle->log;
    ls->log.action = "accepting connection";

    return ls;
}


static kl_int_t
kl_listening_configure(kl_listening_t *ls, kl_fd_t s, kl_log_t *log)
{
    int on = 1;

    if (setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(int)) == -1) {
        kl_log_error(KL_LOG_EMERG, log, errno,
                     "setsockopt(SO_REUSEADDR) %V failed", &ls->addr_text);
        return KL_ERROR;
    }

#if (KL_HAVE_REUSEPORT)
    if (ls->reuseport
        && setsockopt(s, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(int)) == -1)
    {
        kl_log_error(KL_LOG_EMERG, log, errno,
                     "setsockopt(SO_REUSEPORT) %V failed", &ls->addr_text);
        return KL_ERROR;
    }
#endif

    if (ls->sockaddr.sockaddr.sa_family == AF_INET6) {
        on = ls->ipv6only;

        if (setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(int)) == -1) {
            kl_log_error(KL_LOG_EMERG, log, errno,
                         "setsockopt(IPV6_V6ONLY) %V failed, ignored",
                         &ls->addr_text);
        }
    }

    if (ls->rcvbuf != -1) {
        (void) setsockopt(s, SOL_SOCKET, SO_RCVBUF, &ls->rcvbuf, sizeof(int));
    }

    if (ls->sndbuf != -1) {
        (void) setsockopt(s, SOL_SOCKET, SO_SNDBUF, &ls->sndbuf, sizeof(int));
    }

    if (kl_socket_nonblocking(s) == -1) {
        kl_log_error(KL_LOG_EMERG, log, errno, "fcntl(O_NONBLOCK) %V failed",
                     &ls->addr_text);
        return KL_ERROR;
    }

    return KL_OK;
}


static void
kl_listening_defer(kl_listening_t *ls, kl_log_t *log)
{
#if (KL_HAVE_DEFERRED_ACCEPT)
    int timeout;

    /* The kernel holds the connection until data arrives, up to 1s. */
    timeout = ls->deferred_accept ? 1 : 0;

    if (setsockopt(ls->fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &timeout, sizeof(int))
        == -1)
    {
        kl_log_error(KL_LOG_ALERT, log, errno,
                     "setsockopt(TCP_DEFER_ACCEPT, %d) for %V failed, ignored",
                     timeout, &ls->addr_text);
    }
#else
    (void) ls;
    (void) log;
#endif
}


/*
 * so_keepalive= and fastopen=, set on the listener: Linux hands both to
 * every accepted socket, so no call is made per connection. A failure is
 * logged and the socket kept, as nginx does.
 */
static void
kl_listening_tcp_options(kl_listening_t *ls, kl_log_t *log)
{
    int on;

    if (ls->keepalive) {
        on = (ls->keepalive == 1);

        if (setsockopt(ls->fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(int))
            == -1) {
            kl_log_error(KL_LOG_ALERT, log, errno,
                         "setsockopt(SO_KEEPALIVE, %d) %V failed, ignored", on,
                         &ls->addr_text);
        }
    }

#if (KL_HAVE_KEEPALIVE_TUNABLE)
    if (ls->keepidle
        && setsockopt(ls->fd, IPPROTO_TCP, TCP_KEEPIDLE, &ls->keepidle,
                      sizeof(int))
               == -1)
    {
        kl_log_error(KL_LOG_ALERT, log, errno,
                     "setsockopt(TCP_KEEPIDLE, %d) %V failed, ignored",
                     ls->keepidle, &ls->addr_text);
    }

    if (ls->keepintvl
        && setsockopt(ls->fd, IPPROTO_TCP, TCP_KEEPINTVL, &ls->keepintvl,
                      sizeof(int))
               == -1)
    {
        kl_log_error(KL_LOG_ALERT, log, errno,
                     "setsockopt(TCP_KEEPINTVL, %d) %V failed, ignored",
                     ls->keepintvl, &ls->addr_text);
    }

    if (ls->keepcnt
        && setsockopt(ls->fd, IPPROTO_TCP, TCP_KEEPCNT, &ls->keepcnt,
                      sizeof(int))
               == -1)
    {
        kl_log_error(KL_LOG_ALERT, log, errno,
                     "setsockopt(TCP_KEEPCNT, %d) %V failed, ignored",
                     ls->keepcnt, &ls->addr_text);
    }
#endif

#if (KL_HAVE_TCP_FASTOPEN)
    if (ls->fastopen != -1
        && setsockopt(ls->fd, IPPROTO_TCP, TCP_FASTOPEN, &ls->fastopen,
                      sizeof(int))
               == -1)
    {
        kl_log_error(KL_LOG_ALERT, log, errno,
                     "setsockopt(TCP_FASTOPEN, %d) %V failed, ignored",
                     ls->fastopen, &ls->addr_text);
    }
#endif
}


/*
 * As nginx: a unix listener is for every local user (the folder it is in
 * says who may reach it), whatever umask the master was started with.
 */
static void
kl_listening_chmod(kl_listening_t *ls, kl_log_t *log)
{
    const char *path;

    path = ls->sockaddr.sockaddr_un.sun_path;

    if (chmod(path, S_IRUSR | S_IWUSR | S_IRGRP | S_IWGRP | S_IROTH | S_IWOTH)
        == -1)
    {
        kl_log_error(KL_LOG_EMERG, log, errno, "chmod() \"%s\" failed", path);
    }
}


void
kl_listening_unlink(kl_listening_t *ls, kl_log_t *log)
{
    const char *path;

    if (ls->sockaddr.sockaddr.sa_family != AF_UNIX || ls->remain
        || ls->worker != 0) {
        return;
    }

    path = ls->sockaddr.sockaddr_un.sun_path;

    if (path[0] != '\0' && unlink(path) == -1 && errno != ENOENT) {
        kl_log_error(KL_LOG_CRIT, log, errno, "unlink() \"%s\" failed", path);
    }
}


kl_int_t
kl_open_listening_sockets(kl_cycle_t *cycle)
{
    int             s;
    kl_uint_t       i, tries;
    kl_err_t        err;
    kl_listening_t *ls;

    ls = cycle->listening.elts;

    for (i = 0; i < cycle->listening.nelts; i++) {

        if (ls[i].fd != -1) {
            /* Kept from the old cycle or inherited: only options change. */
            if (ls[i].deferred_accept
                || (ls[i].previous && ls[i].previous->deferred_accept))
            {
                kl_listening_defer(&ls[i], cycle->log);
            }

            kl_listening_tcp_options(&ls[i], cycle->log);
            continue;
        }

        for (tries = 5; tries; tries--) {
            s = socket(ls[i].sockaddr.sockaddr.sa_family,
                       SOCK_STREAM | SOCK_CLOEXEC, 0);

            if (s == -1) {
                kl_log_error(KL_LOG_EMERG, cycle->log, errno,
                             "socket() %V failed", &ls[i].addr_text);
                return KL_ERROR;
            }

            if (kl_listening_configure(&ls[i], s, cycle->log) != KL_OK) {
                close(s);
                return KL_ERROR;
            }

            if (bind(s, &ls[i].sockaddr.sockaddr, ls[i].socklen) == -1) {
                err = errno;

                kl_log_error(KL_LOG_EMERG, cycle->log, err,
                             "bind() to %V failed", &ls[i].addr_text);
                close(s);

                if (err != EADDRINUSE) {
                    return KL_ERROR;
                }

                /* A previous master may still be leaving: wait a little. */
                usleep(500000);
                continue;
            }

            if (ls[i].sockaddr.sockaddr.sa_family == AF_UNIX) {
                kl_listening_chmod(&ls[i], cycle->log);
            }

            if (listen(s, ls[i].backlog) == -1) {
                kl_log_error(KL_LOG_EMERG, cycle->log, errno,
                             "listen() to %V, backlog %d failed",
                             &ls[i].addr_text, ls[i].backlog);
                close(s);
                return KL_ERROR;
            }

            ls[i].fd = s;
            ls[i].open = 1;

            if (ls[i].deferred_accept) {
                kl_listening_defer(&ls[i], cycle->log);
            }

            kl_listening_tcp_options(&ls[i], cycle->log);
            break;
        }

        if (ls[i].fd == -1) {
            kl_log_error(KL_LOG_EMERG, cycle->log, 0, "still could not bind()");
            return KL_ERROR;
        }
    }

    return KL_OK;
}


void
kl_close_listening_sockets(kl_cycle_t *cycle)
{
    kl_uint_t        i;
    kl_listening_t  *ls;
    kl_connection_t *c;

    ls = cycle->listening.elts;

    for (i = 0; i < cycle->listening.nelts; i++) {

        c = ls[i].connection;

        if (c) {
            if (c->read->timer_set) {
                kl_event_del_timer(c->read);
            }

            if (c->read->active) {
                (void) kl_loop.actions->del(c->read, KL_CLOSE_EVENT);
            }

            kl_free_connection(c);
            c->fd = -1;
            ls[i].connection = NULL;
        }

        if (ls[i].fd != -1 && !ls[i].remain) {
            close(ls[i].fd);
        }

        ls[i].fd = -1;
    }
}


kl_connection_t *
kl_get_connection(kl_fd_t s, kl_log_t *log)
{
    kl_uint_t        instance;
    kl_event_t      *rev, *wev;
    kl_connection_t *c;

    c = kl_cycle->free_connections;

    if (c == NULL) {
        kl_log_error(KL_LOG_ALERT, log, 0,
                     "%ui worker_connections are not enough",
                     kl_cycle->connection_n);
        return NULL;
    }

    kl_cycle->free_connections = c->data;
    kl_cycle->free_connection_n--;

    rev = c->read;
    wev = c->write;

    kl_memzero(c, sizeof(kl_connection_t));

    c->read = rev;
    c->write = wev;
    c->fd = s;
    c->log = log;

    instance = rev->instance;

    kl_memzero(rev, sizeof(kl_event_t));
    kl_memzero(wev, sizeof(kl_event_t));

    rev->instance = !instance;
    wev->instance = !instance;

    rev->data = c;
    wev->data = c;
    wev->write = 1;
    rev->log = log;
    wev->log = log;

    return c;
}


void
kl_free_connection(kl_connection_t *c)
{
    c->data = kl_cycle->free_connections;
    kl_cycle->free_connections = c;
    kl_cycle->free_connection_n++;
}


void
kl_close_connection(kl_connection_t *c)
{
    kl_fd_t fd;

    if (c->fd == -1) {
        kl_log_error(KL_LOG_ALERT, c->log, 0, "connection already closed");
        return;
    }

    if (c->read->timer_set) {
        kl_event_del_timer(c->read);
    }

    if (c->write->timer_set) {
        kl_event_del_timer(c->write);
    }

    if (c->read->active || c->write->active) {
        (void) kl_loop.actions->del_conn(c, KL_CLOSE_EVENT);
    }

    if (c->read->posted) {
        kl_delete_posted_event(c->read);
    }

    if (c->write->posted) {
        kl_delete_posted_event(c->write);
    }

    c->read->closed = 1;
    c->write->closed = 1;

    if (c->ssl) {
        kl_ssl_free_connection(c);
    }

    kl_reusable_connection(c, 0);

    fd = c->fd;
    c->fd = -1;
    c->destroyed = 1;

    if (c->pool) {
        kl_pool_release(&kl_loop.pool_stash, c->pool);
        c->pool = NULL;
    }

    if (c->own_log) {
        c->own_log = 0;
        kl_free(c->log);
        kl_stat_add(active, -1);
    }

    kl_free_connection(c);

    if (close(fd) == -1) {
        kl_log_error(KL_LOG_ALERT, kl_cycle->log, errno,
                     "close() socket %d failed", fd);
    }
}


void
kl_reusable_connection(kl_connection_t *c, kl_uint_t reusable)
{
    if (c->reusable) {
        kl_queue_remove(&c->queue);
        kl_loop.reusable_n--;
    }

    c->reusable = reusable;

    if (reusable) {
        kl_queue_insert_head(&kl_loop.reusable, &c->queue);
        kl_loop.reusable_n++;
    }
}


void
kl_close_idle_connections(kl_cycle_t *cycle)
{
    kl_uint_t        i, n;
    kl_queue_t      *q;
    kl_connection_t *c;

    (void) cycle;

    /* Exiting: close them all; short of fds: the oldest eighth. */
    n = kl_loop.exiting ? kl_loop.reusable_n
                        : kl_max(kl_min(32, kl_loop.reusable_n / 8), 1);

    for (i = 0; i < n; i++) {
        if (kl_queue_empty(&kl_loop.reusable)) {
            break;
        }

        q = kl_queue_last(&kl_loop.reusable);
        c = kl_queue_data(q, kl_connection_t, queue);

        kl_reusable_connection(c, 0);
        c->close = 1;
        c->read->handler(c->read);
    }
}
