/*
 * event_connect.c: opening a connection to a peer, as nginx's
 * ngx_event_connect_peer: ask the balancer for a peer, make a
 * non-blocking socket, start connect() and register the connection.
 *
 * The peer connection type and its get/free callbacks are declared in
 * event_connect.h; the balancers (modules/http/upstream_peer.h) fill them.
 */

#include "kl_core.h"
#include "event_connect.h"


/* SO_KEEPALIVE, IP_TRANSPARENT and bind() as the peer asks; logged. */
static kl_int_t
kl_event_connect_options(kl_peer_connection_t *pc, kl_fd_t s)
{
    int on, rc;

    on = 1;

    if (pc->so_keepalive
        && setsockopt(s, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(int)) == -1)
    {
        kl_log_error(KL_LOG_ALERT, pc->log, errno,
                     "setsockopt(SO_KEEPALIVE) failed, ignored");
    }

    if (pc->local == NULL) {
        return KL_OK;
    }

    if (pc->transparent) {
        rc = (pc->local->sa_family == AF_INET6)
                 ? setsockopt(s, IPPROTO_IPV6, IPV6_TRANSPARENT, &on,
                              sizeof(int))
                 : setsockopt(s, IPPROTO_IP, IP_TRANSPARENT, &on, sizeof(int));

        if (rc == -1) {
            kl_log_error(KL_LOG_ALERT, pc->log, errno,
                         "setsockopt(IP_TRANSPARENT) failed");
            return KL_ERROR;
        }
    }

    if (bind(s, pc->local, pc->local_socklen) == -1) {
        kl_log_error(KL_LOG_CRIT, pc->log, errno, "bind() failed");
        return KL_ERROR;
    }

    return KL_OK;
}


kl_int_t
kl_event_connect_peer(kl_peer_connection_t *pc)
{
    int              rc, type;
    kl_err_t         err;
    kl_fd_t          s;
    kl_uint_t        level;
    kl_connection_t *c;

    rc = pc->get(pc, pc->data);
    if (rc != KL_OK) {
        /* KL_DONE: a cached live connection; KL_BUSY: none left. */
        return rc;
    }

    type = SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC;

    s = socket(pc->sockaddr->sa_family, type, 0);
    if (s == -1) {
        kl_log_error(KL_LOG_ALERT, pc->log, errno, "socket() failed");
        return KL_ERROR;
    }

    if (kl_event_connect_options(pc, s) != KL_OK) {
        if (close(s) == -1) {
            kl_log_error(KL_LOG_ALERT, pc->log, errno, "close() failed");
        }

        return KL_ERROR;
    }

    c = kl_get_connection(s, pc->log);
    if (c == NULL) {
        if (close(s) == -1) {
            kl_log_error(KL_LOG_ALERT, pc->log, errno, "close() failed");
        }

        return KL_ERROR;
    }

    c->number = ++kl_loop.connection_counter;
    c->start_time = kl_now();
    c->io = &kl_os_io;
    c->sendfile = 1;
    c->sockaddr = pc->sockaddr;
    c->socklen = pc->socklen;
    c->addr_text = *pc->name;
    pc->connection = c;

    if (kl_loop.actions->add_conn(c) != KL_OK) {
        goto failed;
    }

    rc = connect(s, pc->sockaddr, pc->socklen);

    if (rc == -1) {
        err = errno;

        if (err == EINPROGRESS) {
            return KL_AGAIN;
        }

        /* Refusals are the peer's state, other errors the host's. */
        if (err == ECONNREFUSED || err == EAGAIN || err == ECONNRESET
            || err == ENETDOWN || err == ENETUNREACH || err == EHOSTDOWN
            || err == EHOSTUNREACH)
        {
            level = KL_LOG_ERR;

        } else {
            level = KL_LOG_CRIT;
        }

        kl_log_error(level, c->log, err, "connect() to %V failed", pc->name);

        kl_close_connection(c);
        pc->connection = NULL;

        return KL_DECLINED;
    }

    /* Connected at once (a loopback peer can): writable now. */
    c->write->ready = 1;

    return KL_OK;

failed:

    kl_close_connection(c);
    pc->connection = NULL;

    return KL_ERROR;
}
