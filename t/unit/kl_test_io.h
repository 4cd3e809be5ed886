/*
 * kl_test_io.h: a fake transport (kl_conn_io_t) for unit tests: recv
 * hands out a scripted client stream only as far as the test has let it
 * arrive, in reads as short as the test asks, and says KL_AGAIN at the
 * end of what arrived; the sends keep what the server wrote. With it a
 * test cuts the client's bytes at every boundary and checks that the
 * readers above c->io (request.c, body.c) parse the same thing.
 *
 * One fake per test process (criterion runs each test in its own): the
 * table's functions find it in kl_test_io, not through the connection.
 */

#ifndef KL_TEST_IO_H
#define KL_TEST_IO_H

#include <criterion/criterion.h>

#include "kl_core.h"


#define KL_TEST_IO_OUT 65536


typedef struct {
    const u_char *in; /* everything the client will send */
    size_t        len;
    size_t        pos;     /* taken by recv so far */
    size_t        arrived; /* recv may take up to here */
    size_t        max;     /* at most this much per recv (0: what fits) */
    unsigned      eof:1;   /* past len: end of stream, not KL_AGAIN */
    unsigned      dry:1;   /* a short read clears ready, as a socket */
    unsigned      shut:1;  /* shutdown was called */

    kl_uint_t recvs;  /* calls of recv */
    kl_uint_t agains; /* ... that said KL_AGAIN */

    u_char out[KL_TEST_IO_OUT]; /* what the server sent */
    size_t out_len;
} kl_test_io_t;


static kl_test_io_t kl_test_io;


static inline ssize_t
kl_test_io_recv(kl_connection_t *c, u_char *buf, size_t size)
{
    size_t        n;
    kl_test_io_t *io;

    io = &kl_test_io;
    io->recvs++;

    if (io->pos == io->arrived) {
        c->read->ready = 0;

        if (io->eof && io->pos == io->len) {
            c->read->eof = 1;
            return 0;
        }

        io->agains++;
        return KL_AGAIN;
    }

    n = kl_min(size, io->arrived - io->pos);

    if (io->max) {
        n = kl_min(n, io->max);
    }

    kl_memcpy(buf, io->in + io->pos, n);
    io->pos += n;

    if (io->dry && n < size) {
        c->read->ready = 0;
    }

    return (ssize_t) n;
}


static inline void
kl_test_io_keep(const u_char *p, size_t n)
{
    /* One byte stays free for the NUL a test may add. */
    cr_assert_lt(kl_test_io.out_len + n, sizeof(kl_test_io.out),
                 "the fake keeps less than %d bytes of output", KL_TEST_IO_OUT);

    kl_memcpy(kl_test_io.out + kl_test_io.out_len, p, n);
    kl_test_io.out_len += n;
}


static inline ssize_t
kl_test_io_send(kl_connection_t *c, u_char *buf, size_t size)
{
    kl_test_io_keep(buf, size);
    c->sent += (off_t) size;

    return (ssize_t) size;
}


/* Takes everything, files read with pread, as a socket with room would. */
static inline kl_chain_t *
kl_test_io_send_chain(kl_connection_t *c, kl_chain_t *in, off_t limit)
{
    off_t       sent, pos;
    size_t      n;
    ssize_t     got;
    kl_buf_t   *b;
    kl_chain_t *cl;
    u_char      chunk[4096];

    (void) limit;

    sent = 0;

    for (cl = in; cl; cl = cl->next) {
        b = cl->buf;

        if (kl_buf_special(b)) {
            continue;
        }

        if (kl_buf_in_memory(b)) {
            kl_test_io_keep(b->pos, (size_t) (b->last - b->pos));
            sent += b->last - b->pos;
            continue;
        }

        for (pos = b->file_pos; pos < b->file_last; pos += got) {
            n = (size_t) kl_min((off_t) sizeof(chunk), b->file_last - pos);
            got = pread(b->file->fd, chunk, n, pos);
            cr_assert_gt(got, 0, "the file is there to read");
            kl_test_io_keep(chunk, (size_t) got);
        }

        sent += b->file_last - b->file_pos;
    }

    c->sent += sent;

    return kl_chain_update_sent(in, sent);
}


static inline kl_int_t
kl_test_io_peek(kl_connection_t *c)
{
    (void) c;

    if (kl_test_io.pos < kl_test_io.arrived) {
        return KL_OK;
    }

    return (kl_test_io.eof && kl_test_io.pos == kl_test_io.len) ? KL_DONE
                                                                : KL_AGAIN;
}


static inline kl_int_t
kl_test_io_shutdown(kl_connection_t *c)
{
    (void) c;

    kl_test_io.shut = 1;

    return KL_OK;
}


static const kl_conn_io_t kl_test_io_table = {
    .recv = kl_test_io_recv,
    .send = kl_test_io_send,
    .send_chain = kl_test_io_send_chain,
    .peek = kl_test_io_peek,
    .shutdown = kl_test_io_shutdown,
    .name = "test",
    .sendfile = 0,
};


/* A new client stream: nothing arrived, nothing sent yet. */
static inline void
kl_test_io_reset(const void *in, size_t len, size_t max, unsigned dry)
{
    kl_memzero(&kl_test_io, sizeof(kl_test_io));

    kl_test_io.in = in;
    kl_test_io.len = len;
    kl_test_io.max = max;
    kl_test_io.dry = dry;
}


/*
 * The stream up to upto has arrived: as the event loop would, the read
 * handler runs (when c is still open), then the posted events.
 */
static inline void
kl_test_io_arrive(kl_connection_t *c, size_t upto)
{
    cr_assert_leq(upto, kl_test_io.len);
    kl_test_io.arrived = upto;

    if (!c->destroyed) {
        c->read->ready = 1;
        c->read->handler(c->read);
    }

    kl_event_process_posted(&kl_loop.posted);
}

#endif /* KL_TEST_IO_H */
