/*
 * os_io.c: the plain-socket transport (kl_os_io): recv, send, writev and
 * sendfile on c->fd.
 *
 * The plaintext tricks live here and nowhere else: MSG_MORE to hold a
 * header for the file that follows it or for the FIN, TCP_CORK for a
 * file's last bytes before a close and for a file sent in several
 * rounds, sendfile (with sendfile off, the
 * HTTP copy filter hands over memory only). A transport that encrypts
 * has none of them.
 */

#include "kl_core.h"

#include <sys/sendfile.h>


#define KL_IOVS_MAX 64


static ssize_t     kl_os_io_recv(kl_connection_t *c, u_char *buf, size_t size);
static ssize_t     kl_os_io_send(kl_connection_t *c, u_char *buf, size_t size);
static kl_chain_t *kl_os_io_send_chain(kl_connection_t *c, kl_chain_t *in,
                                       off_t limit);
static kl_int_t    kl_os_io_peek(kl_connection_t *c);
static kl_int_t    kl_os_io_shutdown(kl_connection_t *c);


const kl_conn_io_t kl_os_io = {
    .recv = kl_os_io_recv,
    .send = kl_os_io_send,
    .send_chain = kl_os_io_send_chain,
    .peek = kl_os_io_peek,
    .shutdown = kl_os_io_shutdown,
    .handshake = NULL,
    .name = "plain",
    .sendfile = 1,
};


/*
 * A PROXY protocol header in front of a TLS handshake: the header is
 * looked at without taking it, so that once its length is known exactly
 * that many bytes are read and the ClientHello stays in the socket for
 * OpenSSL. Only for the plain socket, before any transport replaced it.
 * Bytes (> 0), 0 at end of stream, KL_AGAIN (nothing new since the last
 * look: have bytes; ready cleared) or KL_ERROR.
 */
ssize_t
kl_os_recv_peek(kl_connection_t *c, u_char *buf, size_t size, size_t have)
{
    ssize_t n;

    for (;;) {
        n = recv(c->fd, buf, size, MSG_PEEK);

        if (n == 0) {
            c->read->ready = 0;
            c->read->eof = 1;
            return 0;
        }

        if (n > 0 && (size_t) n > have) {
            return n;
        }

        if (n > 0 || errno == EAGAIN || errno == EWOULDBLOCK) {
            /* The next edge comes with the next segment. */
            c->read->ready = 0;
            return KL_AGAIN;
        }

        if (errno != EINTR) {
            c->read->ready = 0;
            c->read->error = 1;
            c->error = 1;
            return KL_ERROR;
        }
    }
}


static ssize_t
kl_os_io_recv(kl_connection_t *c, u_char *buf, size_t size)
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


static ssize_t
kl_os_io_send(kl_connection_t *c, u_char *buf, size_t size)
{
    ssize_t     n;
    kl_event_t *wev;

    wev = c->write;

    for (;;) {
        n = send(c->fd, buf, size, MSG_NOSIGNAL);

        if (n >= 0) {
            if ((size_t) n < size) {
                wev->ready = 0;
            }

            return n;
        }

        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            wev->ready = 0;
            return KL_AGAIN;
        }

        if (errno != EINTR) {
            wev->ready = 0;
            wev->error = 1;
            c->error = 1;
            return KL_ERROR;
        }
    }
}


static kl_int_t
kl_os_io_peek(kl_connection_t *c)
{
    ssize_t n;
    u_char  buf[1];

    for (;;) {
        n = recv(c->fd, buf, 1, MSG_PEEK);

        if (n > 0) {
            return KL_OK;
        }

        if (n == 0) {
            return KL_DONE;
        }

        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return KL_AGAIN;
        }

        if (errno != EINTR) {
            return KL_ERROR;
        }
    }
}


static kl_int_t
kl_os_io_shutdown(kl_connection_t *c)
{
    return shutdown(c->fd, SHUT_WR) == -1 ? KL_ERROR : KL_OK;
}


/* Page-cache page: where a file cut by the send limit is rounded to. */
#define KL_SENDFILE_ALIGN 4096


static ssize_t
kl_os_io_file(kl_connection_t *c, kl_buf_t *b, size_t size)
{
    ssize_t n;
    off_t   offset;

    /*
     * With sendfile off, the HTTP copy filter reads files into memory
     * before the write filter, and peer connections always allow
     * sendfile: a file buffer here then is a caller's bug, refused
     * rather than copied on the loop.
     */
    if (!c->sendfile) {
        kl_log_error(KL_LOG_ALERT, c->log, 0,
                     "file buffer in send_chain with sendfile off");
        errno = EINVAL;
        return KL_ERROR;
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
kl_os_io_iovs(kl_connection_t *c, struct iovec *iov, int niov, int more)
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
kl_os_io_chain_ends(kl_chain_t *cl)
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
kl_os_io_cork(kl_connection_t *c)
{
    c->corked = 1;

    if (kl_socket_tcp_nopush(c->fd, 1) == -1) {
        kl_log_error(KL_LOG_INFO, c->log, errno, "setsockopt(TCP_CORK) failed");
    }
}


/*
 * A file that takes more than one round (sendfile_max_chunk, or a full
 * socket buffer) is corked until its response is out, as nginx's
 * tcp_nopush does: uncorked, the segment that ends each round, and each
 * one the client's ACKs release from the queue, leaves part-full (a
 * 100 MiB file over loopback: 42 % more data segments per GB, and as
 * many more ACKs; sendfile_cpu.segs in t/bench). Two setsockopt calls
 * for a response of several MiB.
 */
static void
kl_os_io_cork_file(kl_connection_t *c, kl_buf_t *b, off_t want)
{
    if (c->corked || c->tcp_nopush != KL_TCP_NOPUSH_SET
        || b->file_pos + want >= b->file_last)
    {
        return;
    }

    kl_os_io_cork(c);
    c->cork_file = 1;
}


/* All of it sent: a file's cork goes, unless close() is to take it. */
static kl_chain_t *
kl_os_io_sent(kl_connection_t *c, kl_chain_t *in)
{
    if (!c->cork_file || c->fin_follows || !kl_os_io_chain_ends(in)) {
        return in;
    }

    c->cork_file = 0;
    c->corked = 0;

    if (kl_socket_tcp_nopush(c->fd, 0) == -1) {
        kl_log_error(KL_LOG_INFO, c->log, errno,
                     "setsockopt(TCP_CORK, 0) failed");
    }

    return in;
}


static kl_chain_t *
kl_os_io_send_chain(kl_connection_t *c, kl_chain_t *in, off_t limit)
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
            n = kl_os_io_iovs(c, iovs, niov,
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

            if (c->fin_follows && !c->corked
                && c->tcp_nopush == KL_TCP_NOPUSH_SET
                && cl->buf->file_pos + want == cl->buf->file_last
                && kl_os_io_chain_ends(cl->next))
            {
                kl_os_io_cork(c);
            }

            kl_os_io_cork_file(c, cl->buf, want);

            n = kl_os_io_file(c, cl->buf, (size_t) want);

            /* A full socket buffer: the rest takes another round. */
            if (n >= 0 && n < want) {
                kl_os_io_cork_file(c, cl->buf, n);
            }

        } else {
            /* Only empty or special buffers remain. */
            return kl_os_io_sent(c, kl_chain_update_sent(in, 0));
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
            return kl_os_io_sent(c, in);
        }
    }
}
