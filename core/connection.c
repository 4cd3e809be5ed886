/*
 * connection.c: listening sockets, the connection free list, recv and send_chain.
 *
 * Listening sockets are opened here rather than in master/ because a new
 * cycle must compare its addresses with the old cycle's to keep their
 * fds across a reload; the master only decides when.
 */

#include "kl_core.h"

#include <netinet/tcp.h>
#include <sys/sendfile.h>


#define KL_IOVS_MAX 64


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


ssize_t
kl_connection_recv(kl_connection_t *c, u_char *buf, size_t size)
{
    ssize_t     n;
    kl_event_t *rev;

    rev = c->read;

    for (;;) {
        n = recv(c->fd, buf, size, 0);

        if (n == 0) {
            rev->ready = 0;
            rev->eof = 1;
            return 0;
        }

        if (n > 0) {
            /* A short read under edge triggering means the socket is dry. */
            if ((size_t) n < size && !rev->pending_eof) {
                rev->ready = 0;
            }

            return n;
        }

        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            rev->ready = 0;
            return KL_AGAIN;
        }

        if (errno != EINTR) {
            rev->ready = 0;
            rev->error = 1;
            c->error = 1;
            return KL_ERROR;
        }
    }
}


/* Page-cache page: where a file cut by the send limit is rounded to. */
#define KL_SENDFILE_ALIGN 4096


/* sendfile off: one bounded chunk through a buffer on the stack. */
static ssize_t
kl_send_file_copy(kl_connection_t *c, kl_buf_t *b, size_t size)
{
    ssize_t n, w;
    u_char  buf[32768];

    n = pread(b->file->fd, buf, kl_min(size, sizeof(buf)), b->file_pos);

    if (n == -1) {
        return KL_ERROR;
    }

    if (n == 0) {
        /* The file shrank under us: the promised length cannot be met. */
        errno = EIO;
        return KL_ERROR;
    }

    for (;;) {
        w = write(c->fd, buf, (size_t) n);

        if (w >= 0) {
            return w;
        }

        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return 0;
        }

        if (errno != EINTR) {
            return KL_ERROR;
        }
    }
}


static ssize_t
kl_send_file_buf(kl_connection_t *c, kl_buf_t *b, size_t size)
{
    ssize_t n;
    off_t   offset;

    if (!c->sendfile) {
        return kl_send_file_copy(c, b, size);
    }

    offset = b->file_pos;

    for (;;) {
        n = sendfile(c->fd, b->file->fd, &offset, size);

        if (n >= 0) {
            return n;
        }

        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return 0;
        }

        if (errno != EINTR) {
            return KL_ERROR;
        }
    }
}


/*
 * more: a file follows under tcp_nopush, or the connection closes right
 * after these bytes (c->fin_follows). MSG_MORE holds them for the next
 * segment, as TCP_CORK would without two setsockopt calls: the file's
 * first, or the FIN, which close() or shutdown() then sends with them
 * (one segment instead of two, and one ACK less from the client).
 */
static ssize_t
kl_send_iovs(kl_connection_t *c, struct iovec *iov, int niov, int more)
{
    ssize_t       n;
    struct msghdr msg;

    kl_memzero(&msg, sizeof(msg));
    msg.msg_iov = iov;
    msg.msg_iovlen = (size_t) niov;

    for (;;) {
        n = more ? sendmsg(c->fd, &msg, MSG_MORE) : writev(c->fd, iov, niov);

        if (n >= 0) {
            return n;
        }

        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return 0;
        }

        if (errno != EINTR) {
            return KL_ERROR;
        }
    }
}


/* Nothing but empty or special buffers from cl on. */
static kl_uint_t
kl_connection_chain_ends(kl_chain_t *cl)
{
    for (/* void */; cl; cl = cl->next) {
        if (!kl_buf_special(cl->buf) && kl_buf_size(cl->buf)) {
            return 0;
        }
    }

    return 1;
}


/*
 * The file's last bytes before a close, under tcp_nopush: cork, as nginx
 * does, so that the FIN close() adds rides in their last segment (close
 * uncorks). One setsockopt per such connection; a failure only costs
 * that segment.
 */
static void
kl_connection_cork(kl_connection_t *c)
{
    c->corked = 1;

    if (kl_socket_tcp_nopush(c->fd, 1) == -1) {
        kl_log_error(KL_LOG_INFO, c->log, errno, "setsockopt(TCP_CORK) failed");
    }
}


kl_chain_t *
kl_connection_send_chain(kl_connection_t *c, kl_chain_t *in, off_t limit)
{
    int          niov;
    off_t        send, size, want;
    ssize_t      n;
    kl_buf_t    *b;
    kl_chain_t  *cl;
    struct iovec iovs[KL_IOVS_MAX];

    if (limit == 0 || limit > (off_t) (SSIZE_MAX - 4096)) {
        limit = (off_t) (SSIZE_MAX - 4096);
    }

    send = 0;

    for (;;) {
        niov = 0;
        want = 0;

        for (cl = in; cl && niov < KL_IOVS_MAX && send + want < limit;
             cl = cl->next) {
            b = cl->buf;

            if (kl_buf_special(b)) {
                continue;
            }

            if (!kl_buf_in_memory_only(b)) {
                break;
            }

            size = b->last - b->pos;
            if (size == 0) {
                continue;
            }

            if (send + want + size > limit) {
                size = limit - send - want;
            }

            iovs[niov].iov_base = b->pos;
            iovs[niov].iov_len = (size_t) size;
            niov++;
            want += size;
        }

        if (niov) {
            n = kl_send_iovs(c, iovs, niov,
                             cl ? cl->buf->in_file && send + want < limit
                                      && c->tcp_nopush == KL_TCP_NOPUSH_SET
                                : c->fin_follows && send + want < limit);

        } else if (cl && cl->buf->in_file && send < limit) {
            want = cl->buf->file_last - cl->buf->file_pos;
            if (send + want > limit) {
                /*
                 * Cut at a page boundary (past the limit by less than a
                 * page), as nginx does: the next round starts on a whole
                 * page of the page cache.
                 */
                want = kl_align(cl->buf->file_pos + (limit - send),
                                (off_t) KL_SENDFILE_ALIGN)
                       - cl->buf->file_pos;
                if (cl->buf->file_pos + want > cl->buf->file_last) {
                    want = limit - send;
                }
            }

            if (!c->sendfile && want > 32768) {
                want = 32768;
            }

            if (c->fin_follows && !c->corked
                && c->tcp_nopush == KL_TCP_NOPUSH_SET
                && cl->buf->file_pos + want == cl->buf->file_last
                && kl_connection_chain_ends(cl->next))
            {
                kl_connection_cork(c);
            }

            n = kl_send_file_buf(c, cl->buf, (size_t) want);

        } else {
            /* Only empty or special buffers remain. */
            return kl_chain_update_sent(in, 0);
        }

        if (n == KL_ERROR) {
            c->error = 1;
            c->write->error = 1;
            return KL_CHAIN_ERROR;
        }

        c->sent += n;
        send += n;

        in = kl_chain_update_sent(in, n);

        if (n < want) {
            c->write->ready = 0;
            return in;
        }

        if (send >= limit || in == NULL) {
            return in;
        }
    }
}
