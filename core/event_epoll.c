/*
 * event_epoll.c: the epoll backend, the only file that calls epoll_*.
 *
 * Connections are registered once, for read and write, edge-triggered:
 * handlers read or write until EAGAIN and remember readiness in
 * ev->ready, so no epoll_ctl is made per request. Listening sockets are
 * level-triggered, so a connection not taken is reported again. A shared
 * listener gets EPOLLEXCLUSIVE where the kernel has it, so a connection
 * wakes one worker, not all; not under accept_mutex, where only the
 * lock holder polls it, nor on a reuseport socket, which one worker
 * alone polls.
 */

#include "kl_core.h"

#include <sys/epoll.h>


static kl_int_t kl_epoll_init(kl_cycle_t *cycle);
static void     kl_epoll_done(kl_cycle_t *cycle);
static kl_int_t kl_epoll_add(kl_event_t *ev);
static kl_int_t kl_epoll_del(kl_event_t *ev, kl_uint_t closing);
static kl_int_t kl_epoll_add_conn(kl_connection_t *c);
static kl_int_t kl_epoll_del_conn(kl_connection_t *c, kl_uint_t closing);
static kl_int_t kl_epoll_process(kl_cycle_t *cycle, kl_msec_t timer,
                                 kl_uint_t flags);


const kl_event_actions_t kl_epoll_actions = {
    .add = kl_epoll_add,
    .del = kl_epoll_del,
    .add_conn = kl_epoll_add_conn,
    .del_conn = kl_epoll_del_conn,
    .process = kl_epoll_process,
    .init = kl_epoll_init,
    .done = kl_epoll_done,
};


#define KL_EPOLL_NEVENTS 512


static kl_int_t
kl_epoll_init(kl_cycle_t *cycle)
{
    if (kl_loop.backend_fd == -1) {
        kl_loop.backend_fd = epoll_create1(EPOLL_CLOEXEC);

        if (kl_loop.backend_fd == -1) {
            kl_log_error(KL_LOG_EMERG, cycle->log, errno,
                         "epoll_create1() failed");
            return KL_ERROR;
        }
    }

    if (kl_loop.backend_events == NULL) {
        kl_loop.backend_events =
            kl_alloc(sizeof(struct epoll_event) * KL_EPOLL_NEVENTS, cycle->log);
        if (kl_loop.backend_events == NULL) {
            return KL_ERROR;
        }

        kl_loop.backend_nevents = KL_EPOLL_NEVENTS;
    }

    return KL_OK;
}


static void
kl_epoll_done(kl_cycle_t *cycle)
{
    (void) cycle;

    if (kl_loop.backend_fd != -1) {
        close(kl_loop.backend_fd);
        kl_loop.backend_fd = -1;
    }

    kl_free(kl_loop.backend_events);
    kl_loop.backend_events = NULL;
    kl_loop.backend_nevents = 0;
}


static kl_int_t
kl_epoll_add(kl_event_t *ev)
{
    kl_connection_t   *c;
    struct epoll_event ee;

    c = ev->data;

    ee.events = EPOLLIN;
#if (KL_HAVE_EPOLLEXCLUSIVE)
    if (kl_loop.accept_strategy == KL_ACCEPT_EXCLUSIVE && ev->accept
        && !c->listening->reuseport)
    {
        ee.events |= EPOLLEXCLUSIVE;
    }
#endif
    ee.data.ptr = (void *) ((uintptr_t) c | ev->instance);

    if (epoll_ctl(kl_loop.backend_fd, EPOLL_CTL_ADD, c->fd, &ee) == -1) {
        kl_log_error(KL_LOG_ALERT, ev->log, errno, "epoll_ctl(ADD, %d) failed",
                     c->fd);
        return KL_ERROR;
    }

    ev->active = 1;

    return KL_OK;
}


static kl_int_t
kl_epoll_del(kl_event_t *ev, kl_uint_t closing)
{
    kl_connection_t   *c;
    struct epoll_event ee;

    /*
     * close(2) removes the fd from the epoll set, but only once every fd
     * on that socket is closed. A listener's is shared with the master
     * and the other workers: left registered, a closed listener would
     * still be reported here, and under EPOLLEXCLUSIVE could take the
     * one wake-up meant for a worker that would accept.
     */
    if (closing && !ev->accept) {
        ev->active = 0;
        return KL_OK;
    }

    c = ev->data;
    ee.events = 0;
    ee.data.ptr = NULL;

    if (epoll_ctl(kl_loop.backend_fd, EPOLL_CTL_DEL, c->fd, &ee) == -1) {
        kl_log_error(KL_LOG_ALERT, ev->log, errno, "epoll_ctl(DEL, %d) failed",
                     c->fd);
        return KL_ERROR;
    }

    ev->active = 0;

    return KL_OK;
}


static kl_int_t
kl_epoll_add_conn(kl_connection_t *c)
{
    struct epoll_event ee;

    ee.events = EPOLLIN | EPOLLOUT | EPOLLET | EPOLLRDHUP;
    ee.data.ptr = (void *) ((uintptr_t) c | c->read->instance);

    if (epoll_ctl(kl_loop.backend_fd, EPOLL_CTL_ADD, c->fd, &ee) == -1) {
        kl_log_error(KL_LOG_ALERT, c->log, errno, "epoll_ctl(ADD, %d) failed",
                     c->fd);
        return KL_ERROR;
    }

    c->read->active = 1;
    c->write->active = 1;

    return KL_OK;
}


static kl_int_t
kl_epoll_del_conn(kl_connection_t *c, kl_uint_t closing)
{
    struct epoll_event ee;

    if (!closing) {
        ee.events = 0;
        ee.data.ptr = NULL;

        if (epoll_ctl(kl_loop.backend_fd, EPOLL_CTL_DEL, c->fd, &ee) == -1) {
            kl_log_error(KL_LOG_ALERT, c->log, errno,
                         "epoll_ctl(DEL, %d) failed", c->fd);
            return KL_ERROR;
        }
    }

    c->read->active = 0;
    c->write->active = 0;

    return KL_OK;
}


static kl_int_t
kl_epoll_process(kl_cycle_t *cycle, kl_msec_t timer, kl_uint_t flags)
{
    int                 i, n, wait;
    uint32_t            revents;
    kl_err_t            err;
    kl_event_t         *rev, *wev;
    kl_connection_t    *c;
    kl_uint_t           instance;
    sigset_t            mask;
    struct epoll_event *events;

    events = kl_loop.backend_events;
    wait = (timer == KL_TIMER_INFINITE) ? -1 : (int) kl_min(timer, INT_MAX);

    /* Signals are blocked outside this call: none can slip in unseen. */
    sigemptyset(&mask);

    n = epoll_pwait(kl_loop.backend_fd, events, (int) kl_loop.backend_nevents,
                    wait, &mask);

    err = (n == -1) ? errno : 0;

    if (flags & KL_UPDATE_TIME) {
        kl_time_update(&kl_loop.clock);
    }

    if (err) {
        if (err == EINTR) {
            return KL_OK;
        }

        kl_log_error(KL_LOG_ALERT, cycle->log, err, "epoll_pwait() failed");
        return KL_ERROR;
    }

    for (i = 0; i < n; i++) {
        c = events[i].data.ptr;

        instance = (uintptr_t) c & 1;
        c = (kl_connection_t *) ((uintptr_t) c & (uintptr_t) ~1);

        rev = c->read;

        /* The connection was closed (and maybe reused) earlier this round. */
        if (c->fd == -1 || rev->instance != instance) {
            continue;
        }

        revents = events[i].events;

        if (revents & (EPOLLERR | EPOLLHUP)) {
            revents |= EPOLLIN | EPOLLOUT;
        }

        if ((revents & EPOLLIN) && rev->active) {
            if (revents & EPOLLRDHUP) {
                rev->pending_eof = 1;
            }

            rev->ready = 1;
            rev->available = -1;

            if (flags & KL_POST_EVENTS) {
                kl_post_event(rev, rev->accept ? &kl_loop.posted_accept
                                               : &kl_loop.posted);
            } else {
                rev->handler(rev);
            }
        }

        wev = c->write;

        if ((revents & EPOLLOUT) && wev->active) {
            if (c->fd == -1 || wev->instance != instance) {
                continue;
            }

            wev->ready = 1;

            if (flags & KL_POST_EVENTS) {
                kl_post_event(wev, &kl_loop.posted);
            } else {
                wev->handler(wev);
            }
        }
    }

    return KL_OK;
}
