/* resolver_io.c: the resolver's sockets: a UDP socket per name server, a TCP exchange per truncated answer. */

/*
 * All of the resolver's system calls on sockets are here, so that they
 * move together to the connection I/O table (c->io) when it comes. A UDP
 * socket is connect()ed to its server, so the kernel drops datagrams from
 * anyone else, and each source is checked again. Resolver connections
 * are marked reusable: a worker that exits, or runs short of
 * connections, closes them (a query in flight is then sent again by its
 * node's resend timer).
 */

#include "kl_core.h"
#include "resolver.h"


#define KL_RESOLVER_UDP_SIZE 4096
#define KL_RESOLVER_TCP_SIZE (2 + 65535)

static kl_connection_t *kl_resolver_connect(kl_resolver_server_t *s, int type,
                                            void *data);
static void             kl_resolver_udp_read(kl_event_t *rev);
static void             kl_resolver_udp_close(kl_resolver_server_t *s);
static void             kl_resolver_tcp_write(kl_event_t *wev);
static void             kl_resolver_tcp_read(kl_event_t *rev);
static void             kl_resolver_empty_handler(kl_event_t *ev);


kl_int_t
kl_resolver_udp_send(kl_resolver_server_t *s, u_char *q, size_t len)
{
    ssize_t n;

    if (s->udp == NULL) {
        s->udp = kl_resolver_connect(s, SOCK_DGRAM, s);

        if (s->udp == NULL) {
            return KL_ERROR;
        }

        s->udp->read->handler = kl_resolver_udp_read;
    }

    n = send(s->udp->fd, q, len, 0);

    if (n == -1 && errno == ECONNREFUSED) {
        /* An ICMP error about an earlier datagram, reported (and cleared)
         * now: this one was not sent. */
        n = send(s->udp->fd, q, len, 0);
    }

    if (n == -1) {
        kl_log_error(KL_LOG_ERR, s->resolver->log, errno,
                     "send() to resolver %V failed", &s->name);
        return KL_ERROR;
    }

    return KL_OK;
}


/* A non-blocking socket of type connect()ed to s, in the event loop. */
static kl_connection_t *
kl_resolver_connect(kl_resolver_server_t *s, int type, void *data)
{
    int              rc;
    kl_fd_t          fd;
    kl_log_t        *log;
    kl_connection_t *c;

    log = s->resolver->log;

    fd = socket(s->sockaddr.sockaddr.sa_family,
                type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd == -1) {
        kl_log_error(KL_LOG_ALERT, log, errno, "socket() failed");
        return NULL;
    }

    c = kl_get_connection(fd, log);
    if (c == NULL) {
        (void) close(fd);
        return NULL;
    }

    c->number = ++kl_loop.connection_counter;
    c->data = data;
    c->sockaddr = &s->sockaddr.sockaddr;
    c->socklen = s->socklen;
    c->addr_text = s->name;
    c->read->handler = kl_resolver_empty_handler;
    c->write->handler = kl_resolver_empty_handler;
    c->read->log = log;
    c->write->log = log;

    if (kl_loop.actions->add_conn(c) != KL_OK) {
        kl_close_connection(c);
        return NULL;
    }

    rc = connect(fd, &s->sockaddr.sockaddr, s->socklen);

    if (rc == -1 && errno != EINPROGRESS) {
        kl_log_error(KL_LOG_ERR, log, errno, "connect() to resolver %V failed",
                     &s->name);
        kl_close_connection(c);
        return NULL;
    }

    if (rc == 0) {
        c->write->ready = 1;
    }

    kl_reusable_connection(c, 1);

    return c;
}


static void
kl_resolver_udp_read(kl_event_t *rev)
{
    u_char                buf[KL_RESOLVER_UDP_SIZE];
    ssize_t               n;
    socklen_t             len;
    kl_sockaddr_t         sa;
    kl_connection_t      *c;
    kl_resolver_server_t *s;

    c = rev->data;
    s = c->data;

    if (c->close) {
        kl_resolver_udp_close(s);
        return;
    }

    if (rev->timedout) {
        /* A quitting worker's grace for idle connections ran out: close
         * unless a query in flight still has someone waiting. */
        rev->timedout = 0;
        kl_resolver_close_idle(s->resolver);
    }

    while (s->udp == c) {
        len = sizeof(kl_sockaddr_t);
        n = recvfrom(c->fd, buf, sizeof(buf), 0, &sa.sockaddr, &len);

        if (n == -1) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                return;
            }

            if (errno != EINTR) {
                /* ECONNREFUSED: an ICMP about an earlier datagram. */
                kl_log_error(KL_LOG_ERR, s->resolver->log, errno,
                             "recv() from resolver %V failed", &s->name);
            }

            continue;
        }

        if (!kl_sock_cmp(&sa.sockaddr, len, &s->sockaddr.sockaddr, s->socklen))
        {
            kl_log_error(KL_LOG_ERR, s->resolver->log, 0,
                         "DNS response from an unexpected address");
            continue;
        }

        kl_resolver_process_answer(s, buf, (size_t) n, NULL, 0);
    }
}


static void
kl_resolver_udp_close(kl_resolver_server_t *s)
{
    if (s->udp) {
        kl_close_connection(s->udp);
        s->udp = NULL;
    }
}


kl_int_t
kl_resolver_tcp_send(kl_resolver_server_t *s, kl_resolver_node_t *rn,
                     kl_uint_t qi)
{
    kl_resolver_query_t *q;

    q = &rn->q[qi];
    kl_resolver_tcp_close(rn, qi);

    q->tcp_buf = kl_alloc(KL_RESOLVER_TCP_SIZE, s->resolver->log);
    if (q->tcp_buf == NULL) {
        return KL_ERROR;
    }

    q->node = rn;
    q->index = qi;
    q->server = s;
    q->tcp_buf[0] = (u_char) (q->qlen >> 8);
    q->tcp_buf[1] = (u_char) q->qlen;
    kl_memcpy(q->tcp_buf + 2, q->query, q->qlen);
    q->tcp_sent = 0;
    q->tcp_len = 0;

    q->tcp = kl_resolver_connect(s, SOCK_STREAM, q);

    if (q->tcp == NULL) {
        kl_free(q->tcp_buf);
        q->tcp_buf = NULL;
        return KL_ERROR;
    }

    q->tcp->read->handler = kl_resolver_tcp_read;
    q->tcp->write->handler = kl_resolver_tcp_write;

    if (q->tcp->write->ready) {
        kl_resolver_tcp_write(q->tcp->write);
    }

    return KL_OK;
}


void
kl_resolver_tcp_close(kl_resolver_node_t *rn, kl_uint_t qi)
{
    kl_resolver_query_t *q;

    q = &rn->q[qi];

    if (q->tcp) {
        kl_close_connection(q->tcp);
        q->tcp = NULL;
    }

    kl_free(q->tcp_buf);
    q->tcp_buf = NULL;
}


static void
kl_resolver_tcp_write(kl_event_t *wev)
{
    size_t               total;
    ssize_t              n;
    kl_connection_t     *c;
    kl_resolver_query_t *q;

    c = wev->data;
    q = c->data;

    if (c->close) {
        kl_resolver_tcp_close(q->node, q->index);
        return;
    }

    total = 2 + q->qlen;

    while (q->tcp_sent < total) {
        n = send(c->fd, q->tcp_buf + q->tcp_sent, total - q->tcp_sent, 0);

        if (n == -1) {
            if (errno == EAGAIN || errno == EINTR) {
                return;
            }

            kl_log_error(KL_LOG_ERR, q->server->resolver->log, errno,
                         "send() to resolver %V failed", &q->server->name);
            kl_resolver_tcp_close(q->node, q->index);
            return;
        }

        q->tcp_sent += (size_t) n;
    }
}


static void
kl_resolver_tcp_read(kl_event_t *rev)
{
    size_t               need;
    ssize_t              n;
    kl_connection_t     *c;
    kl_resolver_query_t *q;

    c = rev->data;
    q = c->data;

    if (c->close) {
        kl_resolver_tcp_close(q->node, q->index);
        return;
    }

    for (;;) {
        n = recv(c->fd, q->tcp_buf + q->tcp_len,
                 KL_RESOLVER_TCP_SIZE - q->tcp_len, 0);

        if (n == -1 && (errno == EAGAIN || errno == EINTR)) {
            return;
        }

        if (n <= 0) {
            kl_log_error(KL_LOG_ERR, q->server->resolver->log, n ? errno : 0,
                         "resolver %V closed the TCP answer %s",
                         &q->server->name, n ? "with an error" : "early");
            kl_resolver_tcp_close(q->node, q->index);
            return;
        }

        q->tcp_len += (size_t) n;

        if (q->tcp_len < 2) {
            continue;
        }

        need = 2 + (size_t) ((q->tcp_buf[0] << 8) | q->tcp_buf[1]);

        if (q->tcp_len >= need) {
            /*
             * It closes this exchange when it takes the answer, and may
             * end the node (which stays allocated: it is locked or
             * cached meanwhile); an answer it refused closes it here.
             */
            kl_resolver_process_answer(q->server, q->tcp_buf + 2, need - 2,
                                       q->node, q->index);

            if (q->tcp == c) {
                kl_resolver_tcp_close(q->node, q->index);
            }

            return;
        }
    }
}


void
kl_resolver_close_idle(kl_resolver_t *r)
{
    kl_uint_t           i;
    kl_queue_t         *q, *next, *w;
    kl_resolver_ctx_t  *ctx;
    kl_resolver_node_t *rn;

    if (!kl_loop.exiting) {
        return;
    }

    for (q = kl_queue_head(&r->nodes); q != kl_queue_sentinel(&r->nodes);
         q = next) {
        next = kl_queue_next(q);
        rn = kl_queue_data(q, kl_resolver_node_t, queue);

        if (!rn->in_flight || rn->locked) {
            continue;
        }

        for (w = kl_queue_head(&rn->waiters);
             w != kl_queue_sentinel(&rn->waiters); w = kl_queue_next(w))
        {
            ctx = kl_queue_data(w, kl_resolver_ctx_t, queue);

            if (!ctx->background) {
                return; /* a request waits: the sockets stay */
            }
        }

        while (!kl_queue_empty(&rn->waiters)) {
            w = kl_queue_head(&rn->waiters);
            ctx = kl_queue_data(w, kl_resolver_ctx_t, queue);
            kl_queue_remove(w);
            ctx->node = NULL;

            if (ctx->timer.timer_set) {
                kl_event_del_timer(&ctx->timer);
            }
        }

        kl_resolver_node_free(rn); /* and its TCP exchanges */
    }

    for (i = 0; i < r->nservers; i++) {
        kl_resolver_udp_close(&r->servers[i]);
    }
}


static void
kl_resolver_empty_handler(kl_event_t *ev)
{
    kl_connection_t *c;

    c = ev->data;

    if (c->close) {
        kl_close_connection(c);
    }
}
