/*
 * kl_test_io.h: a fake transport (kl_conn_io_t) for unit tests: recv
 * hands out a scripted client stream only as far as the test has let it
 * arrive, in reads as short as the test asks, and says KL_AGAIN at the
 * end of what arrived; the sends keep what the server wrote, as much of
 * it per call as the test lets them. With it a test cuts the client's
 * bytes (or the server's) at every boundary and checks that the code
 * above c->io (v1/connection.c, v1/body.c, the write filter) does the same.
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
    size_t        wmax;    /* at most this much per send (0: all) */

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
    if (!c->write->ready) {
        return KL_AGAIN;
    }

    if (kl_test_io.wmax && size > kl_test_io.wmax) {
        size = kl_test_io.wmax;
        c->write->ready = 0;
    }

    kl_test_io_keep(buf, size);
    c->sent += (off_t) size;

    return (ssize_t) size;
}


/* Keeps n bytes of in from its start, files read with pread. */
static inline void
kl_test_io_keep_chain(kl_chain_t *in, off_t n)
{
    off_t     pos, size;
    ssize_t   got;
    kl_buf_t *b;
    u_char    chunk[4096];

    for (/* void */; in && n > 0; in = in->next) {
        b = in->buf;

        if (kl_buf_special(b)) {
            continue;
        }

        size = kl_min(n, kl_buf_size(b));
        n -= size;

        if (kl_buf_in_memory(b)) {
            kl_test_io_keep(b->pos, (size_t) size);
            continue;
        }

        for (pos = b->file_pos; pos < b->file_pos + size; pos += got) {
            got = pread(b->file->fd, chunk,
                        (size_t) kl_min((off_t) sizeof(chunk),
                                        b->file_pos + size - pos),
                        pos);
            cr_assert_gt(got, 0, "the file is there to read");
            kl_test_io_keep(chunk, (size_t) got);
        }
    }
}


/*
 * Takes what the chain holds, at most limit bytes (sendfile_max_chunk:
 * ready stays set), and at most wmax (a full socket: ready cleared);
 * nothing while ready is clear, as a socket that said EAGAIN.
 */
static inline kl_chain_t *
kl_test_io_send_chain(kl_connection_t *c, kl_chain_t *in, off_t limit)
{
    off_t       want, n;
    kl_chain_t *cl;

    if (!c->write->ready) {
        return in;
    }

    want = 0;

    for (cl = in; cl; cl = cl->next) {
        if (!kl_buf_special(cl->buf)) {
            want += kl_buf_size(cl->buf);
        }
    }

    n = want;

    if (kl_test_io.wmax && n > (off_t) kl_test_io.wmax) {
        n = (off_t) kl_test_io.wmax;
        c->write->ready = 0;
    }

    if (limit > 0 && n > limit) {
        n = limit;
    }

    kl_test_io_keep_chain(in, n);
    c->sent += n;

    return kl_chain_update_sent(in, n);
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
 * As the event loop would: the posted events, those of the next round
 * (sendfile_max_chunk), and a write event each time the fake stopped
 * taking output, until the output is all out or c is closed.
 */
static inline void
kl_test_io_drain(kl_connection_t *c)
{
    kl_uint_t i;

    for (i = 0; i < 1000000; i++) {
        kl_event_process_posted(&kl_loop.posted);

        if (!kl_queue_empty(&kl_loop.posted_next)) {
            kl_event_process_posted(&kl_loop.posted_next);
            continue;
        }

        if (c->destroyed || c->write->ready) {
            return;
        }

        c->write->ready = 1;
        c->write->handler(c->write);
    }

    cr_assert_fail("the output never drained");
}


/*
 * The stream up to upto has arrived: the read handler runs (when c is
 * still open), then whatever the loop would run next.
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

    kl_test_io_drain(c);
}

#endif /* KL_TEST_IO_H */
