/* event_connect.h: opening a non-blocking connection to a peer chosen by its balancer. */

#ifndef KL_EVENT_CONNECT_H
#define KL_EVENT_CONNECT_H

#include "kl_core.h"

typedef struct kl_peer_connection_s kl_peer_connection_t;

/*
 * Ask pc->get for a peer, then socket (non-blocking, close-on-exec),
 * connect and register the connection with the event loop, as pc's
 * pc->connection (its log is pc->log). Returns KL_OK when connected at
 * once, KL_AGAIN while the connect is in progress (the write event says
 * when it ends), KL_DONE for a cached connection handed back by get (a
 * keepalive balancer), KL_BUSY when get found no peer, KL_DECLINED when
 * this peer failed at once (connect() refused: try the next one, after
 * pc->free), or KL_ERROR (no connection left, a system call failed).
 * A failure of connect() is logged at error level as nginx logs it.
 */
kl_int_t kl_event_connect_peer(kl_peer_connection_t *pc);

#endif /* KL_EVENT_CONNECT_H */
