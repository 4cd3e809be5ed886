/* connection.h: listening sockets, the connection free list, and the transport table (c->io). */

#ifndef KL_CONNECTION_H
#define KL_CONNECTION_H

#include "kl_config.h"
#include "kl_types.h"
#include "string.h"
#include "queue.h"
#include "socket.h"
#include "log.h"

typedef struct kl_conn_io_s kl_conn_io_t;

/*
 * A connection's transport: how its bytes go in and out. Everything
 * above core/ reads and writes a connection only through c->io, never
 * with a system call on c->fd, so that a transport that is not a plain
 * socket (TLS) can take its place. Accept and connect set c->io; a TLS
 * transport would install its table once its handshake is done.
 *
 * The common contract: KL_AGAIN means "not now": the call cleared the
 * ready flag of the event to wait for (c->read for recv, c->write for
 * the sends) and that event's handler runs when the transport can go
 * on. A transport that must first move bytes the other way (TLS: a read
 * that needs a write, a write that needs a read) says so in
 * c->io_want_write or c->io_want_read and makes the waiting event's
 * handler run when the other direction is ready; the plain socket never
 * sets them. KL_ERROR: the connection is broken (c->error and the
 * event's error flag are set, errno says why when the system said).
 */
struct kl_conn_io_s {
    /*
     * Read up to size bytes into buf: bytes read (> 0), 0 at end of
     * stream (c->read->eof set), KL_AGAIN or KL_ERROR. A read shorter
     * than size may clear c->read->ready (edge-triggered: the plain
     * socket is dry); a transport holding more bytes keeps it set.
     */
    ssize_t (*recv)(kl_connection_t *c, u_char *buf, size_t size);

    /*
     * Write up to size bytes from buf: bytes written (> 0; fewer than
     * size clears c->write->ready), KL_AGAIN or KL_ERROR.
     */
    ssize_t (*send)(kl_connection_t *c, u_char *buf, size_t size);

    /*
     * Send as much of in as the transport takes, at most limit bytes (0:
     * no limit). Returns the first unsent link (NULL when all was sent;
     * c->write->ready cleared when the transport stopped taking bytes) or
     * KL_CHAIN_ERROR; c->sent grows by what went out. File buffers go
     * with sendfile, and only when the table's sendfile flag and
     * c->sendfile allow: else the caller hands over memory (the HTTP
     * copy filter reads files for it).
     */
    kl_chain_t *(*send_chain)(kl_connection_t *c, kl_chain_t *in, off_t limit);

    /*
     * Look without taking (MSG_PEEK): KL_OK when bytes wait to be read,
     * KL_AGAIN when the connection is open and quiet, KL_DONE when the
     * peer closed it, KL_ERROR when it failed (errno says why). Never
     * changes what recv returns next.
     */
    kl_int_t (*peek)(kl_connection_t *c);

    /*
     * End the sending direction (the FIN; TLS would send close_notify
     * first) while reading goes on: lingering close. KL_OK or KL_ERROR
     * (errno says why).
     */
    kl_int_t (*shutdown)(kl_connection_t *c);

    /*
     * NULL when the transport needs no exchange before the protocol
     * starts (the plain socket). Otherwise it drives its handshake: KL_OK
     * when done, KL_AGAIN to be called again when c->read (or, with
     * c->io_want_write, c->write) is ready, KL_ERROR.
     */
    kl_int_t (*handshake)(kl_connection_t *c);

    const char *name; /* for logs: "plain" */

    /*
     * 1: send_chain can hand file buffers to the kernel (sendfile), so
     * they may stay in files; 0: the transport needs the bytes in memory
     * (TLS without kTLS), and file buffers cost a read and a copy.
     */
    unsigned sendfile:1;
};

/* Plain sockets: recv, writev and sendfile (core/os_io.c). */
extern const kl_conn_io_t kl_os_io;

struct kl_listening_s {
    kl_fd_t       fd;
    kl_sockaddr_t sockaddr;
    socklen_t     socklen;
    kl_str_t      addr_text; /* "127.0.0.1:8080" */
    int           backlog;
    int           rcvbuf;
    int           sndbuf;
    int           fastopen; /* TCP_FASTOPEN queue, -1 unset */
    int           keepidle; /* so_keepalive=idle:intvl:cnt, 0 unset */
    int           keepintvl;
    int           keepcnt;

    kl_connection_handler_pt handler; /* called for each accept */
    void                    *servers; /* the protocol's per-address data */

    kl_log_t  log;
    kl_log_t *logp;
    size_t    pool_size; /* a connection's, made while it is busy */

    kl_listening_t  *previous;   /* the old cycle's twin */
    kl_connection_t *connection; /* this worker's listener conn */
    kl_uint_t        worker;     /* reuseport: whose copy */

    unsigned open:1;
    unsigned remain:1;    /* kept by a reload */
    unsigned ignore:1;    /* not this worker's copy */
    unsigned inherited:1; /* from the environment */
    unsigned ipv6only:1;
    unsigned reuseport:1;
    unsigned deferred_accept:1;
    unsigned keepalive:2; /* so_keepalive: 0 unset, 1 on, 2 off */
};

struct kl_connection_s {
    void       *data;
    kl_event_t *read;
    kl_event_t *write;
    kl_fd_t     fd;

    const kl_conn_io_t *io; /* the transport; set at accept and connect */

    struct kl_ssl_connection_s *ssl; /* TLS state (core/ssl.h), or NULL */

    kl_listening_t *listening;
    kl_log_t       *log;
    kl_pool_t      *pool;

    struct sockaddr *sockaddr;
    socklen_t        socklen;
    kl_str_t         addr_text;
    struct sockaddr *local_sockaddr;
    socklen_t        local_socklen;

    kl_buf_t  *buffer;
    kl_queue_t queue;  /* reusable list */
    kl_uint_t  number; /* "*N" in the log */
    kl_uint_t  requests;
    off_t      sent;
    kl_msec_t  start_time; /* to a peer: connected (keepalive_time) */

    unsigned destroyed:1;
    unsigned own_log:1; /* accepted: c->log heads one block with the address */
    unsigned idle:1;    /* keep-alive, may be closed */
    unsigned reusable:1;
    unsigned close:1; /* graceful exit wants it gone */
    unsigned timedout:1;
    unsigned error:1;
    unsigned tcp_nodelay:1;
    unsigned tcp_nopush:2;
    unsigned need_last_buf:1;
    unsigned fin_follows:1; /* closes after this output: hold its tail */
    unsigned corked:1;      /* TCP_CORK on, until close */
    unsigned cork_file:1;   /* corked for a file's rounds, until sent */
    unsigned sendfile:1;    /* else files are read+written */

    /* What c->io's last KL_AGAIN waits for, when not its own direction. */
    unsigned io_want_write:1;
    unsigned io_want_read:1;
};

#define KL_TCP_NOPUSH_UNSET    0
#define KL_TCP_NOPUSH_SET      1
#define KL_TCP_NOPUSH_DISABLED 2

#define KL_CHAIN_ERROR (kl_chain_t *) KL_ERROR

/* Add a listening address to the cycle; NULL on allocation failure. */
kl_listening_t *kl_create_listening(kl_cycle_t *cycle, struct sockaddr *sa,
                                    socklen_t socklen);

/* Bind and listen every cycle listener not inherited or kept. */
kl_int_t kl_open_listening_sockets(kl_cycle_t *cycle);

/* Close listeners (all, or only those not kept by the next cycle). */
void kl_close_listening_sockets(kl_cycle_t *cycle);

/*
 * The master removes a unix listener's file when the socket goes for good:
 * at exit (not while a new binary holds it) or when a reload drops it.
 */
void kl_listening_unlink(kl_listening_t *ls, kl_log_t *log);

/* A connection from the free list, with its events reset; NULL if none. */
kl_connection_t *kl_get_connection(kl_fd_t s, kl_log_t *log);
void             kl_free_connection(kl_connection_t *c);

/*
 * Remove events and timers, close the fd, give c->pool back to the loop's
 * stash, free an accepted connection's log block, return c to the free
 * list.
 */
void kl_close_connection(kl_connection_t *c);

/* Mark c idle (may be closed when connections run out or on exit). */
void kl_reusable_connection(kl_connection_t *c, kl_uint_t reusable);

/* Close idle connections: all on exit, some when the free list is empty. */
void kl_close_idle_connections(kl_cycle_t *cycle);

#endif /* KL_CONNECTION_H */
