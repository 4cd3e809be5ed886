/* test_os_io.c: the plain-socket transport (core/os_io.c) over a socketpair: what each member returns and which ready flags it leaves. */

#include <criterion/criterion.h>
#include <fcntl.h>
#include <sys/socket.h>

#include "kl_core.h"


typedef struct {
    kl_connection_t c;
    kl_event_t      rev;
    kl_event_t      wev;
    kl_log_t        log; /* level 0: an alert goes nowhere */
    int             peer;
} kl_test_conn_t;


static void
kl_test_conn(kl_test_conn_t *t)
{
    int sv[2];

    memset(t, 0, sizeof(*t));
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    cr_assert_neq(fcntl(sv[0], F_SETFL, O_NONBLOCK), -1);

    t->c.fd = sv[0];
    t->c.io = &kl_os_io;
    t->c.read = &t->rev;
    t->c.write = &t->wev;
    t->c.sendfile = 1;
    t->c.log = &t->log;
    t->rev.data = &t->c;
    t->wev.data = &t->c;
    t->wev.write = 1;
    t->rev.ready = 1;
    t->wev.ready = 1;
    t->peer = sv[1];
}


static void
kl_test_conn_close(kl_test_conn_t *t)
{
    close(t->c.fd);
    close(t->peer);
}


Test(os_io, the_plain_table)
{
    cr_assert_str_eq(kl_os_io.name, "plain");
    cr_assert(kl_os_io.sendfile, "a socket takes file pages");
    cr_assert_null(kl_os_io.handshake, "nothing before the protocol");
    cr_assert(kl_os_io.recv && kl_os_io.send && kl_os_io.send_chain
              && kl_os_io.peek && kl_os_io.shutdown);
}


Test(os_io, recv_short_read_means_dry_then_again_then_eof)
{
    u_char         buf[16];
    kl_test_conn_t t;

    kl_test_conn(&t);

    cr_assert_eq(write(t.peer, "abc", 3), 3);

    cr_assert_eq(kl_os_io.recv(&t.c, buf, 2), 2, "what fits");
    cr_assert(t.rev.ready, "a full read: maybe more");

    cr_assert_eq(kl_os_io.recv(&t.c, buf, sizeof(buf)), 1);
    cr_assert_eq(buf[0], 'c');
    cr_assert_not(t.rev.ready, "a short read: the socket is dry");

    t.rev.ready = 1;
    cr_assert_eq(kl_os_io.recv(&t.c, buf, sizeof(buf)), KL_AGAIN);
    cr_assert_not(t.rev.ready);

    shutdown(t.peer, SHUT_WR);
    t.rev.ready = 1;
    cr_assert_eq(kl_os_io.recv(&t.c, buf, sizeof(buf)), 0);
    cr_assert(t.rev.eof);
    cr_assert_not(t.c.error, "EOF is no error");

    kl_test_conn_close(&t);
}


Test(os_io, peek_leaves_the_bytes_for_recv)
{
    u_char         buf[4];
    kl_test_conn_t t;

    kl_test_conn(&t);

    cr_assert_eq(kl_os_io.peek(&t.c), KL_AGAIN, "open and quiet");

    cr_assert_eq(write(t.peer, "x", 1), 1);
    cr_assert_eq(kl_os_io.peek(&t.c), KL_OK, "a byte waits");
    cr_assert_eq(kl_os_io.peek(&t.c), KL_OK, "and still waits");
    cr_assert_eq(kl_os_io.recv(&t.c, buf, sizeof(buf)), 1);

    close(t.peer);
    cr_assert_eq(kl_os_io.peek(&t.c), KL_DONE, "the peer closed");

    close(t.c.fd);
}


Test(os_io, send_until_full_then_again)
{
    u_char         buf[4096];
    ssize_t        n;
    kl_uint_t      i;
    kl_test_conn_t t;

    kl_test_conn(&t);
    memset(buf, 'z', sizeof(buf));

    cr_assert_eq(kl_os_io.send(&t.c, buf, 10), 10);
    cr_assert(t.wev.ready);

    /* Nobody reads the peer: the socket buffer fills up. */
    for (i = 0; i < 100000; i++) {
        n = kl_os_io.send(&t.c, buf, sizeof(buf));

        if (n == KL_AGAIN || (n > 0 && n < (ssize_t) sizeof(buf))) {
            break;
        }

        cr_assert_eq(n, (ssize_t) sizeof(buf));
    }

    cr_assert_not(t.wev.ready, "full: ready cleared");
    cr_assert_not(t.c.error);

    kl_test_conn_close(&t);
}


Test(os_io, send_to_a_closed_peer_is_an_error_not_a_signal)
{
    kl_test_conn_t t;

    kl_test_conn(&t);
    close(t.peer);

    cr_assert_eq(kl_os_io.send(&t.c, (u_char *) "x", 1), KL_ERROR);
    cr_assert(t.c.error);
    cr_assert(t.wev.error);
    cr_assert_eq(errno, EPIPE);

    close(t.c.fd);
}


Test(os_io, shutdown_ends_our_side_only)
{
    u_char         buf[4];
    kl_test_conn_t t;

    kl_test_conn(&t);

    cr_assert_eq(kl_os_io.shutdown(&t.c), KL_OK);
    cr_assert_eq(read(t.peer, buf, sizeof(buf)), 0, "the peer sees EOF");

    cr_assert_eq(write(t.peer, "ok", 2), 2);
    cr_assert_eq(kl_os_io.recv(&t.c, buf, sizeof(buf)), 2, "we still read");

    kl_test_conn_close(&t);
}


static void
kl_test_chain(int sendfile_on)
{
    int            fd;
    char           path[64];
    char           got[64];
    ssize_t        n;
    kl_buf_t       head, file, tail;
    kl_file_t      f;
    kl_chain_t     c1, c2, c3, *rest;
    kl_test_conn_t t;

    kl_test_conn(&t);
    t.c.sendfile = sendfile_on;

    snprintf(path, sizeof(path), "/tmp/kl_test_os_io_%d", (int) getpid());
    fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    cr_assert_neq(fd, -1);
    cr_assert_eq(write(fd, "0123456789", 10), 10);
    unlink(path);

    memset(&head, 0, sizeof(head));
    memset(&file, 0, sizeof(file));
    memset(&tail, 0, sizeof(tail));
    memset(&f, 0, sizeof(f));

    f.fd = fd;
    head.pos = (u_char *) "head:";
    head.last = head.pos + 5;
    head.memory = 1;
    file.in_file = 1;
    file.file = &f;
    file.file_pos = 2;
    file.file_last = 8;
    tail.pos = (u_char *) ":tail";
    tail.last = tail.pos + 5;
    tail.memory = 1;
    tail.last_buf = 1;

    c1.buf = &head;
    c1.next = &c2;
    c2.buf = &file;
    c2.next = &c3;
    c3.buf = &tail;
    c3.next = NULL;

    rest = kl_os_io.send_chain(&t.c, &c1, 0);

    if (!sendfile_on) {
        /* The copy filter reads files first: a file buffer is a bug. */
        cr_assert_eq(rest, KL_CHAIN_ERROR, "a file with sendfile off fails");
        cr_assert(t.c.error);
        cr_assert_eq(t.c.sent, 5, "what precedes the file went out");

        n = read(t.peer, got, sizeof(got) - 1);
        cr_assert_eq(n, 5);

        close(fd);
        kl_test_conn_close(&t);
        return;
    }

    cr_assert_null(rest, "all sent");
    cr_assert_eq(t.c.sent, 16);

    n = read(t.peer, got, sizeof(got) - 1);
    cr_assert_eq(n, 16);
    got[n] = '\0';
    cr_assert_str_eq(got, "head:234567:tail");

    close(fd);
    kl_test_conn_close(&t);
}


Test(os_io, send_chain_memory_file_memory)
{
    kl_test_chain(1);
}


Test(os_io, send_chain_with_sendfile_off_refuses_files)
{
    kl_test_chain(0);
}
