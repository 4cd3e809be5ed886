/* t/bench/idle.c: a load client the tools lack: many idle keep-alive
 * connections, or a fixed count of keep-alive requests.
 *
 *   idle -p PORT [-n CONNS] [-j PROCS] [-s SOURCES] [-b FIRST] [-r REQS]
 *        [-u PATH] [-e STATUS] [-q]
 *
 * Forks PROCS processes (a process has at most 20000 fds here) that
 * share CONNS connections to 127.0.0.1:PORT. Connection i leaves from
 * 127.0.0.(FIRST + i % SOURCES) (FIRST 2 by default) with
 * IP_BIND_ADDRESS_NO_PORT, so the port is picked at connect time by the
 * whole 4-tuple: each source address has its own range of ephemeral
 * ports. The harness gives each run fresh addresses, and connections
 * end with a reset (SO_LINGER 0): no TIME_WAIT of a run holds the
 * 4-tuples of the next. Each connection sends REQS requests
 * for PATH one at a time (the connections of a process in step) and
 * checks every response has status STATUS and the body its
 * Content-Length says. Connections are opened 128 at a time, each batch
 * answered before the next, so the listen backlog never overflows.
 *
 * Then each process reports on stdout "held K" (or "error: WHY" and
 * exits 1) and, without -q, keeps its connections open until stdin
 * reaches end of file (the harness closes the pipe). The first process
 * prints "held TOTAL" once every process has reported, then "segs S
 * acks A": the data segments its connections received and the segments
 * they sent (TCP_INFO), which say how the server cut its bytes. */

#define _GNU_SOURCE

#include <arpa/inet.h>
#include <errno.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#define IDLE_BATCH 128

typedef struct {
    int         port;
    int         conns;
    int         procs;
    int         sources;
    int         first;
    int         reqs;
    const char *path;
    int         status;
    int         quit;
} idle_conf_t;

static void
idle_fail(const char *fmt, ...)
{
    va_list ap;

    printf("error: ");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
    _exit(1);
}

static int
idle_connect(const idle_conf_t *cf, int i)
{
    struct sockaddr_in src, dst;
    struct timeval     tv = { 10, 0 };
    struct linger      rst = { 1, 0 };
    int                fd, one = 1;

    fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        idle_fail("socket: %s", strerror(errno));
    }

    /* A hung server must fail the run, not hang the harness. */
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));

    /* Closed with a reset, so no TIME_WAIT holds 100000 4-tuples that
     * the next run, maybe to the same port, needs. */
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &rst, sizeof(rst));

    memset(&src, 0, sizeof(src));
    src.sin_family = AF_INET;
    src.sin_addr.s_addr =
        htonl(0x7f000000 + (uint32_t) (cf->first + i % cf->sources));

    if (bind(fd, (struct sockaddr *) &src, sizeof(src)) < 0) {
        idle_fail("bind: %s", strerror(errno));
    }

    memset(&dst, 0, sizeof(dst));
    dst.sin_family = AF_INET;
    dst.sin_port = htons((uint16_t) cf->port);
    dst.sin_addr.s_addr = htonl(0x7f000001);

    if (connect(fd, (struct sockaddr *) &dst, sizeof(dst)) < 0) {
        idle_fail("connect (connection %d): %s", i, strerror(errno));
    }

    return fd;
}

static void
idle_send(const idle_conf_t *cf, int fd)
{
    char req[512];
    int  n;

    n = snprintf(req, sizeof(req),
                 "GET %s HTTP/1.1\r\n"
                 "Host: localhost\r\n\r\n",
                 cf->path);

    if (write(fd, req, (size_t) n) != n) {
        idle_fail("write: %s", strerror(errno));
    }
}

/* One whole response: the status line, the header and exactly the body
 * its Content-Length announces (no pipelining: nothing may follow). */
static void
idle_read(const idle_conf_t *cf, int fd)
{
    char    buf[65536], *end, *cl;
    size_t  have = 0;
    long    body, want;
    ssize_t n;
    int     status;

    for (;;) {
        n = read(fd, buf + have, sizeof(buf) - 1 - have);
        if (n <= 0) {
            idle_fail("read header: %s", n == 0 ? "closed" : strerror(errno));
        }

        have += (size_t) n;
        buf[have] = '\0';
        end = strstr(buf, "\r\n\r\n");

        if (end != NULL) {
            break;
        }

        if (have == sizeof(buf) - 1) {
            idle_fail("header too long");
        }
    }

    if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1 || status != cf->status) {
        idle_fail("status %.12s, not %d", buf, cf->status);
    }

    *end = '\0';
    cl = strcasestr(buf, "\r\nContent-Length:");
    if (cl == NULL) {
        idle_fail("no Content-Length");
    }

    want = strtol(cl + 17, NULL, 10);
    body = (long) (have - (size_t) (end + 4 - buf));

    while (body < want) {
        n = read(fd, buf, sizeof(buf));
        if (n <= 0) {
            idle_fail("read body: %s", n == 0 ? "closed" : strerror(errno));
        }
        body += n;
    }

    if (body != want) {
        idle_fail("body of %ld bytes, Content-Length %ld", body, want);
    }
}

static void
idle_child(const idle_conf_t *cf, int first, int count)
{
    int          *fds, i, j, k;
    int           r;
    unsigned long segs = 0, acks = 0;

    fds = malloc(sizeof(int) * (size_t) (count > 0 ? count : 1));
    if (fds == NULL) {
        idle_fail("out of memory");
    }

    for (i = 0; i < count; i += IDLE_BATCH) {
        k = count - i < IDLE_BATCH ? count - i : IDLE_BATCH;

        for (j = i; j < i + k; j++) {
            fds[j] = idle_connect(cf, first + j);
            idle_send(cf, fds[j]);
        }

        for (j = i; j < i + k; j++) {
            idle_read(cf, fds[j]);
        }
    }

    for (r = 1; r < cf->reqs; r++) {
        for (j = 0; j < count; j++) {
            idle_send(cf, fds[j]);
        }

        for (j = 0; j < count; j++) {
            idle_read(cf, fds[j]);
        }
    }

    for (j = 0; j < count; j++) {
        struct tcp_info ti;
        socklen_t       len = sizeof(ti);

        memset(&ti, 0, sizeof(ti));
        if (getsockopt(fds[j], IPPROTO_TCP, TCP_INFO, &ti, &len) == 0) {
            segs += ti.tcpi_data_segs_in;
            acks += ti.tcpi_segs_out;
        }
    }

    printf("held %d segs %lu acks %lu\n", count, segs, acks);
    fflush(stdout);

    if (cf->quit) {
        _exit(0);
    }

    /* Hold: stdin is the harness pipe, shared by every process. */
    while (read(STDIN_FILENO, &i, sizeof(i)) > 0) {
        /* the harness writes nothing: only its end of file matters */
    }

    _exit(0);
}

int
main(int argc, char **argv)
{
    idle_conf_t   cf = { 0, 1, 1, 1, 2, 1, "/", 200, 0 };
    int           c, p, fds[2], total = 0, held, failed = 0, status;
    unsigned long segs = 0, acks = 0, s, a;
    char          line[256];
    FILE         *in;
    pid_t         pid;
    /* The options that take a number, by letter. */
    int *opt[128] = {
        ['p'] = &cf.port,    ['n'] = &cf.conns, ['j'] = &cf.procs,
        ['s'] = &cf.sources, ['b'] = &cf.first, ['r'] = &cf.reqs,
        ['e'] = &cf.status,
    };

    while ((c = getopt(argc, argv, "p:n:j:s:b:r:u:e:q")) != -1) {
        if (c == 'u') {
            cf.path = optarg;
        } else if (c == 'q') {
            cf.quit = 1;
        } else if (c > 0 && c < 128 && opt[c] != NULL) {
            *opt[c] = atoi(optarg);
        } else {
            return 2;
        }
    }

    if (cf.port <= 0 || cf.conns < 1 || cf.procs < 1 || cf.sources < 1
        || cf.first < 1 || cf.first + cf.sources > 255 || cf.reqs < 1)
    {
        fprintf(stderr, "usage: idle -p PORT [-n CONNS] [-j PROCS] "
                        "[-s SOURCES] [-b FIRST] [-r REQS] [-u PATH] "
                        "[-e STATUS] [-q]\n");
        return 2;
    }

    if (pipe(fds) < 0) {
        perror("pipe");
        return 1;
    }

    setvbuf(stdout, NULL, _IOLBF, 0);

    for (p = 0; p < cf.procs; p++) {
        int first = (int) ((long) cf.conns * p / cf.procs);
        int last = (int) ((long) cf.conns * (p + 1) / cf.procs);

        pid = fork();
        if (pid < 0) {
            perror("fork");
            return 1;
        }

        if (pid == 0) {
            close(fds[0]);
            dup2(fds[1], STDOUT_FILENO);
            close(fds[1]);
            idle_child(&cf, first, last - first);
        }
    }

    close(fds[1]);
    in = fdopen(fds[0], "r");

    for (p = 0; p < cf.procs && fgets(line, sizeof(line), in) != NULL; p++) {
        if (sscanf(line, "held %d segs %lu acks %lu", &held, &s, &a) == 3) {
            total += held;
            segs += s;
            acks += a;
        } else {
            fputs(line, stdout);
            failed = 1;
        }
    }

    if (!failed && p == cf.procs) {
        printf("held %d\nsegs %lu acks %lu\n", total, segs, acks);
    } else if (!failed) {
        printf("error: a process died\n");
        failed = 1;
    }

    fflush(stdout);

    while (wait(&status) > 0) {
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            failed = 1;
        }
    }

    return failed;
}
