/* connection.h: listening sockets and the per-worker connection array with its free list. */

#ifndef KL_CONNECTION_H
#define KL_CONNECTION_H

#include "kl_config.h"
#include "kl_types.h"
#include "string.h"
#include "queue.h"
#include "socket.h"
#include "log.h"

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
    unsigned sendfile:1;    /* else files are read+written */
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

/* recv: bytes (>0), 0 at EOF, KL_AGAIN, or KL_ERROR (c->error set). */
ssize_t kl_connection_recv(kl_connection_t *c, u_char *buf, size_t size);

/*
 * Send as much of in as the socket takes, at most limit bytes (0: no
 * limit): memory buffers through writev, file buffers through sendfile.
 * Returns the first unsent link (NULL when all was sent) or
 * KL_CHAIN_ERROR; c->sent grows by what went out.
 */
kl_chain_t *kl_connection_send_chain(kl_connection_t *c, kl_chain_t *in,
                                     off_t limit);

#endif /* KL_CONNECTION_H */
