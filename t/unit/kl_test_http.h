/*
 * kl_test_http.h: for HTTP unit tests: a cycle built from a config text
 * (as kiln -t builds one), and a request in the state the request line
 * and headers leave it, on one end of a socketpair whose other end plays
 * the client. The handlers run when the test calls them: no event loop.
 */

#ifndef KL_TEST_HTTP_H
#define KL_TEST_HTTP_H

#include <criterion/criterion.h>
#include <fcntl.h>
#include <dirent.h>
#include <sys/socket.h>

#include "kl_http.h"


typedef struct {
    char        dir[256]; /* the prefix: the config, logs/, temp dirs */
    char        errlog[300];
    kl_cycle_t *cycle;
    kl_log_t   *log;

    kl_connection_t   *c;
    kl_http_request_t *r;
    int                peer; /* the client's end */
} kl_test_http_t;


static inline void
kl_test_http_rm(const char *path)
{
    DIR           *d;
    char           sub[1024];
    struct stat    st;
    struct dirent *e;

    if (lstat(path, &st) == -1) {
        return;
    }

    if (S_ISDIR(st.st_mode)) {
        d = opendir(path);

        while (d && (e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0
                && snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name)
                       < (int) sizeof(sub))
            {
                kl_test_http_rm(sub);
            }
        }

        if (d) {
            closedir(d);
        }

        (void) rmdir(path);
        return;
    }

    (void) unlink(path);
}


/*
 * The end of a test: what it left running is freed (a request still on
 * its connection, the connection, the cycle) and the prefix removed, so
 * a sanitizer build reports only what kiln itself lost.
 */
static inline void
kl_test_http_clean(kl_test_http_t *t)
{
    kl_connection_t *c;

    c = t->c;

    if (c && !c->destroyed) {
        if (t->r && c->data == t->r) {
            kl_pool_free(t->r->pool);
        }

        if (c->read->timer_set) {
            kl_event_del_timer(c->read);
        }

        if (c->write->timer_set) {
            kl_event_del_timer(c->write);
        }

        if (c->read->posted) {
            kl_delete_posted_event(c->read);
        }

        if (c->write->posted) {
            kl_delete_posted_event(c->write);
        }

        kl_reusable_connection(c, 0);
        kl_pool_free(c->pool);
        close(c->fd);
    }

    if (c) {
        free(c->read);
        free(c->write);
        free(c);
        free(t->log->data);
        close(t->peer);
    }

    if (t->cycle) {
        kl_cycle_free(t->cycle, 0);
    }

    if (t->log) {
        free(t->log);
    }

    t->c = NULL;
    t->r = NULL;
    t->cycle = NULL;
    t->log = NULL;

    if (t->dir[0]) {
        kl_test_http_rm(t->dir);
    }
}


/* Parse conf_text as kiln -t would; NULL if it does not parse. */
static inline kl_cycle_t *
kl_test_http_cycle(kl_test_http_t *t, const char *name, const char *conf_text)
{
    FILE             *f;
    char              path[512];
    kl_cycle_t       *init;
    kl_open_file_t   *file;
    static char       prefix[512], conf_path[512];
    static kl_cycle_t init_cycle;
    static kl_log_t   init_log;

    static kl_open_file_t init_file, log_file;

    snprintf(t->dir, sizeof(t->dir), "/tmp/kl_test_%s_%d", name,
             (int) getpid());
    kl_test_http_clean(t);
    mkdir(t->dir, 0755);
    snprintf(path, sizeof(path), "%s/logs", t->dir);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/kiln.conf", t->dir);
    snprintf(t->errlog, sizeof(t->errlog), "%s/logs/error.log", t->dir);

    f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(conf_text, f);
    fclose(f);

    (void) kl_modules_init();
    kl_time_update(&kl_loop.clock);

    kl_loop.pid = getpid();
    kl_event_timer_init(&kl_loop.timers, &kl_loop.timer_sentinel);
    kl_queue_init(&kl_loop.posted);
    kl_queue_init(&kl_loop.posted_next);
    kl_queue_init(&kl_loop.reusable);

    /* Static: kl_cycle points at it, and the next test's replaces it. */
    init = &init_cycle;
    kl_memzero(init, sizeof(kl_cycle_t));
    t->log = calloc(1, sizeof(kl_log_t));
    cr_assert_not_null(t->log);

    /* Static: the location's error_log replaces it in the connection. */
    file = &log_file;

    file->fd = open(t->errlog, O_WRONLY | O_CREAT | O_APPEND, 0644);
    cr_assert_neq(file->fd, -1);
    t->log->file = file;
    t->log->log_level = KL_LOG_INFO;

    /* The cycle takes its starting log over (error_log): a copy of ours. */
    kl_memzero(&init_log, sizeof(kl_log_t));
    kl_memzero(&init_file, sizeof(kl_open_file_t));
    init_file.fd = file->fd;
    init_log.file = &init_file;
    init_log.log_level = KL_LOG_INFO;
    init->log = &init_log;

    snprintf(prefix, sizeof(prefix), "%s/", t->dir);
    init->prefix.data = (u_char *) prefix;
    init->prefix.len = strlen(prefix);
    init->conf_prefix = init->prefix;
    snprintf(conf_path, sizeof(conf_path), "%s", path);
    init->conf_file.data = (u_char *) conf_path;
    init->conf_file.len = strlen(path);
    kl_str_set(&init->error_log, "stderr");

    kl_cycle = init;
    t->cycle = kl_cycle_init(init, 1);

    return t->cycle;
}


/* The error log so far, NUL-terminated (static storage). */
static inline const char *
kl_test_http_errors(kl_test_http_t *t)
{
    int         fd;
    ssize_t     n;
    static char text[65536];

    text[0] = '\0';
    fd = open(t->errlog, O_RDONLY);

    if (fd != -1) {
        n = read(fd, text, sizeof(text) - 1);
        text[n > 0 ? n : 0] = '\0';
        close(fd);
    }

    return text;
}


/* A table element for a request header, as the header parser makes them. */
static inline kl_table_elt_t *
kl_test_http_header(kl_http_request_t *r, const char *key, const char *value)
{
    kl_table_elt_t *h;

    h = kl_list_push(&r->headers_in.headers);
    cr_assert_not_null(h);

    h->hash = 1;
    h->next = NULL;
    h->key.data = (u_char *) key;
    h->key.len = strlen(key);
    h->value.data = (u_char *) value;
    h->value.len = strlen(value);
    h->lowcase_key = h->key.data;

    return h;
}


/*
 * A request for uri on the first server, its head read: preread (len
 * bytes, may be 0) is what came after the head in the same read, the
 * start of a body and perhaps a pipelined request. The fields a framing
 * needs (content_length_n, chunked, has_body) are the caller's to set.
 */
static inline kl_http_request_t *
kl_test_http_request(kl_test_http_t *t, const char *uri, const char *preread,
                     size_t len)
{
    int                       sv[2];
    void                    **logctx;
    kl_pool_t                *pool;
    kl_event_t               *rev, *wev;
    kl_connection_t          *c;
    kl_http_request_t        *r;
    kl_http_conf_ctx_t       *ctx;
    kl_http_connection_t     *hc;
    kl_http_core_srv_conf_t **cscfp;
    kl_http_core_main_conf_t *cmcf;

    cr_assert_not_null(t->cycle);

    ctx = t->cycle->conf_ctx[kl_http_module.index];
    cmcf = ctx->main_conf[kl_http_core_module.ctx_index];
    cscfp = cmcf->servers.elts;

    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);

    c = calloc(1, sizeof(kl_connection_t));
    cr_assert_neq(fcntl(sv[0], F_SETFL, O_NONBLOCK), -1);

    rev = calloc(1, sizeof(kl_event_t));
    wev = calloc(1, sizeof(kl_event_t));
    cr_assert(c && rev && wev);

    /* kl_http_log_ctx_t, whose request kl_http_free_request clears */
    logctx = calloc(1, 2 * sizeof(void *));
    cr_assert_not_null(logctx);
    logctx[0] = c;
    t->log->data = logctx;

    c->fd = sv[0];
    c->io = &kl_os_io;
    c->log = t->log;
    c->read = rev;
    c->write = wev;
    c->tcp_nodelay = 1; /* a unix socket has no such option */
    c->pool = kl_pool_create(1024, t->log);
    cr_assert_not_null(c->pool);
    kl_str_set(&c->addr_text, "unix:");

    rev->data = c;
    rev->log = t->log;
    wev->data = c;
    wev->log = t->log;
    wev->write = 1;
    wev->ready = 1;

    /* The head's read left the socket with nothing more, for now. */
    rev->ready = 0;

    hc = kl_pcalloc(c->pool, sizeof(kl_http_connection_t));
    cr_assert_not_null(hc);
    hc->conf_ctx = cscfp[0]->ctx;
    hc->start_msec = kl_now();

    c->buffer = kl_buf_create_temp(c->pool, 1024 + len);
    cr_assert_not_null(c->buffer);
    memcpy(c->buffer->last, preread, len);
    c->buffer->last += len;

    pool = kl_pool_create(4096, t->log);
    r = kl_pcalloc(pool, sizeof(kl_http_request_t));
    cr_assert(pool && r);

    r->pool = pool;
    r->connection = c;
    r->proto = &kl_http_v1_proto;
    r->http_connection = hc;
    r->main_conf = hc->conf_ctx->main_conf;
    r->srv_conf = hc->conf_ctx->srv_conf;
    r->loc_conf = hc->conf_ctx->loc_conf;
    r->read_event_handler = kl_http_block_reading;
    r->write_event_handler = kl_http_request_empty_handler;
    r->header_in = c->buffer;
    r->ctx =
        kl_pcalloc(pool, sizeof(void *) * kl_modules_count(KL_HTTP_MODULE));
    cr_assert_not_null(r->ctx);

    cr_assert_eq(
        kl_list_init(&r->headers_in.headers, pool, 8, sizeof(kl_table_elt_t)),
        KL_OK);
    cr_assert_eq(
        kl_list_init(&r->headers_out.headers, pool, 8, sizeof(kl_table_elt_t)),
        KL_OK);
    cr_assert_eq(
        kl_list_init(&r->headers_out.trailers, pool, 2, sizeof(kl_table_elt_t)),
        KL_OK);

    r->main = r;
    r->count = 1;
    r->start_sec = kl_loop.clock.sec;
    r->start_msec = kl_now();
    r->method = KL_HTTP_POST;
    kl_str_set(&r->method_name, "POST");
    r->http_version = KL_HTTP_VERSION_11;
    kl_str_set(&r->http_protocol, "HTTP/1.1");
    r->keepalive = 1;
    r->uri.data = (u_char *) uri;
    r->uri.len = strlen(uri);
    r->unparsed_uri = r->uri;
    r->request_line = r->uri;
    r->uri_changes = KL_HTTP_MAX_URI_CHANGES + 1;
    r->headers_in.content_length_n = -1;
    r->headers_out.content_length_n = -1;
    r->headers_out.last_modified_time = -1;

    cr_assert_eq(kl_http_find_location(r), KL_OK);
    kl_http_update_location_config(r);

    c->data = r;
    c->requests = 1;

    t->c = c;
    t->r = r;
    t->peer = sv[1];

    return r;
}


/* The client sends bytes; the server's read event becomes ready. */
static inline void
kl_test_http_send(kl_test_http_t *t, const void *data, size_t len)
{
    cr_assert_eq(write(t->peer, data, len), (ssize_t) len);
    t->c->read->ready = 1;
}


/* What the server sent so far (up to size - 1 bytes, NUL-terminated). */
static inline size_t
kl_test_http_recv(kl_test_http_t *t, char *buf, size_t size)
{
    ssize_t n;
    size_t  got;

    got = 0;

    for (;;) {
        n = recv(t->peer, buf + got, size - 1 - got, MSG_DONTWAIT);

        if (n <= 0) {
            break;
        }

        got += (size_t) n;
    }

    buf[got] = '\0';

    return got;
}


/* True when the server has closed its end (after what it sent). */
static inline int
kl_test_http_closed(kl_test_http_t *t)
{
    char    buf[4096];
    ssize_t n;

    for (;;) {
        n = recv(t->peer, buf, sizeof(buf), MSG_DONTWAIT);

        if (n > 0) {
            continue;
        }

        return n == 0;
    }
}

#endif /* KL_TEST_HTTP_H */
