/*
 * copy_filter.c: the body filter that turns file buffers into memory
 * (directio, aio threads, sendfile off, a filter that needs bytes) and
 * its directives: output_buffers, directio, directio_alignment, aio
 * (read_ahead is core's, modules/http/core_limits.c).
 *
 * Content handlers (static, gzip_static) and upstream temp files emit
 * plain file buffers. This filter runs after the range body filter, so
 * a range reads only its bytes, and before every filter that needs
 * bytes (charset's body filter, gzip), as nginx's copy filter does.
 * A file buffer is read here when r->filter_need_in_memory is set, when
 * the connection does not send files (sendfile off, or a transport
 * without sendfile), or when its file is at least "directio" long; any
 * other buffer passes as it is, and a response with none of those pays
 * for one walk of its chain.
 */

#include "kl_http.h"
#include "thread_pool.h"


/*
 * Output held back while file data is still to be read: a bit of
 * r->buffered next to KL_HTTP_WRITE_BUFFERED, so the request is not
 * finalized before the file is all out.
 */
#define KL_HTTP_COPY_BUFFERED 0x20

/* The most read in one call when sendfile_max_chunk is 0 (no limit). */
#define KL_HTTP_COPY_EVENT_MAX (2 * 1024 * 1024)

#define KL_HTTP_COPY_ERROR_BUF (kl_buf_t *) KL_ERROR


typedef struct {
    kl_http_output_body_filter_pt next_body_filter;
} kl_http_copy_main_conf_t;


typedef struct {
    off_t             directio; /* KL_MAX_OFF_T_VALUE: off */
    size_t            directio_alignment;
    kl_int_t          bufs_num; /* output_buffers */
    size_t            bufs_size;
    kl_thread_pool_t *aio_pool; /* NULL: aio off */
} kl_http_copy_loc_conf_t;


typedef struct kl_http_copy_aio_s kl_http_copy_aio_t;


/*
 * A response with file data to read: pieces of it go, in order, into at
 * most bufs_num memory buffers; one is refilled only once the filters
 * after this one (and the client) have taken all of it.
 */
typedef struct {
    kl_chain_t *in;        /* what is left to read or pass on */
    kl_buf_t  **bufs;      /* bufs_num of them, NULL until first used */
    size_t      alignment; /* of the buffers: directio_alignment or 1 */
    size_t      size;
    kl_int_t    nbufs;
    kl_file_t  *direct; /* the last file given O_DIRECT */

    kl_thread_pool_t   *pool; /* aio threads */
    kl_http_copy_aio_t *aio;
} kl_http_copy_ctx_t;


/*
 * A read for "aio threads": it lives outside the request's pool, so a
 * request freed while a thread still reads into its buffers only marks
 * it orphaned, and the done handler frees it.
 */
struct kl_http_copy_aio_s {
    kl_thread_task_t   task;
    kl_http_request_t *r;
    u_char            *mem; /* the output buffers' memory */
    kl_fd_t            fd;
    u_char            *dst;
    size_t             len;
    off_t              offset;
    ssize_t            n;
    kl_err_t           err;
    kl_buf_t          *b; /* the file buffer being read */
    kl_buf_t          *nb;

    unsigned busy:1;  /* a thread has it */
    unsigned ready:1; /* read, not yet passed on */
    unsigned orphan:1;
};


static void    *kl_http_copy_create_main_conf(kl_conf_t *cf);
static void    *kl_http_copy_create_loc_conf(kl_conf_t *cf);
static char    *kl_http_copy_merge_loc_conf(kl_conf_t *cf, void *parent,
                                            void *child);
static char    *kl_http_copy_directio(kl_conf_t *cf, kl_command_t *cmd,
                                      void *conf);
static char    *kl_http_copy_output_buffers(kl_conf_t *cf, kl_command_t *cmd,
                                            void *conf);
static char    *kl_http_copy_aio(kl_conf_t *cf, kl_command_t *cmd, void *conf);
static kl_int_t kl_http_copy_init(kl_conf_t *cf);


/* Directive tables keep one field a line, as nginx's do. */
/* clang-format off */
static kl_command_t  kl_http_copy_commands[] = {

    { kl_string("directio"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF
      | KL_CONF_TAKE1,
      kl_http_copy_directio,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_copy_loc_conf_t, directio),
      NULL },

    { kl_string("directio_alignment"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF
      | KL_CONF_TAKE1,
      kl_conf_set_size_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_copy_loc_conf_t, directio_alignment),
      NULL },

    { kl_string("output_buffers"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF
      | KL_CONF_TAKE2,
      kl_http_copy_output_buffers,
      KL_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { kl_string("aio"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF
      | KL_CONF_TAKE1,
      kl_http_copy_aio,
      KL_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    kl_null_command
};
/* clang-format on */


static kl_http_module_t kl_http_copy_filter_module_ctx = {
    .postconfiguration = kl_http_copy_init,
    .create_main_conf = kl_http_copy_create_main_conf,
    .create_loc_conf = kl_http_copy_create_loc_conf,
    .merge_loc_conf = kl_http_copy_merge_loc_conf,
};


kl_module_t kl_http_copy_filter_module = {
    .name = "kl_http_copy_filter_module",
    .type = KL_HTTP_MODULE,
    .ctx = &kl_http_copy_filter_module_ctx,
    .commands = kl_http_copy_commands,
};


static void *
kl_http_copy_create_main_conf(kl_conf_t *cf)
{
    return kl_pcalloc(cf->pool, sizeof(kl_http_copy_main_conf_t));
}


static void *
kl_http_copy_create_loc_conf(kl_conf_t *cf)
{
    kl_http_copy_loc_conf_t *conf;

    conf = kl_pcalloc(cf->pool, sizeof(kl_http_copy_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    conf->directio = KL_CONF_UNSET;
    conf->directio_alignment = KL_CONF_UNSET_SIZE;
    conf->bufs_num = KL_CONF_UNSET;
    conf->aio_pool = KL_CONF_UNSET_PTR;

    return conf;
}


static char *
kl_http_copy_merge_loc_conf(kl_conf_t *cf, void *parent, void *child)
{
    kl_http_copy_loc_conf_t *prev = parent;
    kl_http_copy_loc_conf_t *conf = child;

    kl_conf_merge_off_value(conf->directio, prev->directio, KL_MAX_OFF_T_VALUE);
    kl_conf_merge_ptr_value(conf->aio_pool, prev->aio_pool, NULL);
    kl_conf_merge_size_value(conf->directio_alignment, prev->directio_alignment,
                             512);

    if (conf->bufs_num == KL_CONF_UNSET) {
        if (prev->bufs_num == KL_CONF_UNSET) {
            conf->bufs_num = 2;
            conf->bufs_size = 32768;

        } else {
            conf->bufs_num = prev->bufs_num;
            conf->bufs_size = prev->bufs_size;
        }
    }

    if (conf->directio_alignment == 0
        || (conf->directio_alignment & (conf->directio_alignment - 1)))
    {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                          "\"directio_alignment\" must be a power of two");
        return KL_CONF_ERROR;
    }

    return KL_CONF_OK;
}


/* directio SIZE | off */
static char *
kl_http_copy_directio(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_str_t                *value;
    kl_http_copy_loc_conf_t *lcf = conf;

    (void) cmd;

    if (lcf->directio != KL_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (kl_strcmp(value[1].data, "off") == 0) {
        lcf->directio = KL_MAX_OFF_T_VALUE;
        return KL_CONF_OK;
    }

    lcf->directio = kl_conf_parse_offset(&value[1]);
    if (lcf->directio == (off_t) KL_ERROR) {
        return "invalid value";
    }

    return KL_CONF_OK;
}


/* aio off | threads[=POOL]: file reads run in a thread pool. */
static char *
kl_http_copy_aio(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_str_t                *value, name;
    kl_http_copy_loc_conf_t *lcf = conf;

    (void) cmd;

    if (lcf->aio_pool != KL_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (kl_strcmp(value[1].data, "off") == 0) {
        lcf->aio_pool = NULL;
        return KL_CONF_OK;
    }

    if (kl_strcmp(value[1].data, "threads") == 0) {
        kl_str_set(&name, "default");

    } else if (kl_strncmp(value[1].data, "threads=", 8) == 0
               && value[1].len > 8) {
        name.data = value[1].data + 8;
        name.len = value[1].len - 8;

    } else {
        /* Linux native AIO ("aio on") is not built: say so, do not pretend. */
        kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                          "\"aio %V\" is not supported: only \"aio threads\", "
                          "\"aio threads=POOL\" and \"aio off\"",
                          &value[1]);
        return KL_CONF_ERROR;
    }

    lcf->aio_pool = kl_thread_pool_add(cf, &name);

    return lcf->aio_pool ? KL_CONF_OK : KL_CONF_ERROR;
}


/* output_buffers NUMBER SIZE */
static char *
kl_http_copy_output_buffers(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    ssize_t                  size;
    kl_int_t                 num;
    kl_str_t                *value;
    kl_http_copy_loc_conf_t *lcf = conf;

    (void) cmd;

    if (lcf->bufs_num != KL_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    num = kl_atoi(value[1].data, value[1].len);
    size = kl_conf_parse_size(&value[2]);

    /* nginx's wording (ngx_conf_set_bufs_slot). */
    if (num == KL_ERROR || num == 0 || size == KL_ERROR || size == 0) {
        return "invalid value";
    }

    lcf->bufs_num = num;
    lcf->bufs_size = (size_t) size;

    return KL_CONF_OK;
}


/*
 * A file read with O_DIRECT: a regular file (static's, gzip_static's;
 * never a temp file, whose writes are not aligned) of at least
 * "directio" bytes.
 */
static kl_uint_t
kl_http_copy_direct(kl_http_copy_loc_conf_t *lcf, kl_file_t *file)
{
    return S_ISREG(file->info.st_mode) && file->info.st_size >= lcf->directio;
}


/* Whether b is file data this filter reads into memory. */
static kl_uint_t
kl_http_copy_must_read(kl_http_request_t *r, kl_http_copy_loc_conf_t *lcf,
                       kl_buf_t *b)
{
    kl_connection_t *c;

    if (!b->in_file || kl_buf_in_memory(b)) {
        return 0;
    }

    c = r->connection;

    return r->filter_need_in_memory || !c->sendfile || !c->io->sendfile
           || kl_http_copy_direct(lcf, b->file);
}


static void
kl_http_copy_aio_cleanup(void *data)
{
    kl_http_copy_aio_t *aio = data;

    if (aio->busy) {
        aio->orphan = 1;
        return;
    }

    kl_free(aio->mem);
    kl_free(aio);
}


static kl_http_copy_ctx_t *
kl_http_copy_create_ctx(kl_http_request_t *r, kl_http_copy_loc_conf_t *lcf)
{
    kl_pool_cleanup_t  *cln;
    kl_http_copy_ctx_t *ctx;

    ctx = kl_pcalloc(r->pool, sizeof(kl_http_copy_ctx_t));
    if (ctx == NULL) {
        return NULL;
    }

    ctx->bufs = kl_pcalloc(r->pool, lcf->bufs_num * sizeof(kl_buf_t *));
    if (ctx->bufs == NULL) {
        return NULL;
    }

    ctx->alignment =
        (lcf->directio != KL_MAX_OFF_T_VALUE) ? lcf->directio_alignment : 1;
    ctx->nbufs = lcf->bufs_num;

    /* Each read is whole aligned blocks, at least one. */
    ctx->size = (lcf->bufs_size + ctx->alignment - 1) & ~(ctx->alignment - 1);

    if (lcf->aio_pool) {
        cln = kl_pool_cleanup_add(r->pool, 0);
        if (cln == NULL) {
            return NULL;
        }

        ctx->aio = kl_calloc(sizeof(kl_http_copy_aio_t), r->connection->log);
        if (ctx->aio == NULL) {
            return NULL;
        }

        cln->handler = kl_http_copy_aio_cleanup;
        cln->data = ctx->aio;

        ctx->aio->mem = kl_memalign(ctx->alignment, ctx->size * ctx->nbufs,
                                    r->connection->log);
        if (ctx->aio->mem == NULL) {
            return NULL;
        }

        ctx->aio->r = r;
        ctx->pool = lcf->aio_pool;
    }

    kl_http_set_ctx(r, ctx, kl_http_copy_filter_module);

    return ctx;
}


/*
 * The first read of a directio file sets O_DIRECT on its fd (shared with
 * the open file cache, as nginx). A filesystem that refuses it costs an
 * alert, as in nginx, and the reads stay aligned anyway.
 */
static void
kl_http_copy_directio_on(kl_http_request_t *r, kl_http_copy_ctx_t *ctx,
                         kl_file_t *file)
{
    int flags;

    if (ctx->direct == file) {
        return;
    }

    ctx->direct = file;
    flags = fcntl(file->fd, F_GETFL);

    if (flags == -1
        || (!(flags & O_DIRECT)
            && fcntl(file->fd, F_SETFL, flags | O_DIRECT) == -1))
    {
        kl_log_error(KL_LOG_ALERT, r->connection->log, errno,
                     "fcntl(O_DIRECT) \"%s\" failed", file->name.data);
    }
}


/*
 * The next piece of b's range: whole aligned blocks from the aligned
 * offset below file_pos (alignment 1 unless its file is directio), of
 * which nb keeps only the bytes asked for.
 */
static void
kl_http_copy_piece(kl_http_copy_loc_conf_t *lcf, kl_http_copy_ctx_t *ctx,
                   kl_buf_t *b, off_t *start, size_t *skip, off_t *want,
                   size_t *len)
{
    size_t align;

    align = kl_http_copy_direct(lcf, b->file) ? ctx->alignment : 1;

    *start = b->file_pos & ~((off_t) align - 1);
    *skip = (size_t) (b->file_pos - *start);
    *want = b->file_last - b->file_pos;

    if ((off_t) (ctx->size - *skip) < *want) {
        *want = (off_t) (ctx->size - *skip);
    }

    *len = (*skip + (size_t) *want + align - 1) & ~(align - 1);
}


/* Check a read of n bytes into nb and move b past what nb now holds. */
static kl_int_t
kl_http_copy_got(kl_http_request_t *r, kl_http_copy_loc_conf_t *lcf,
                 kl_http_copy_ctx_t *ctx, kl_buf_t *b, kl_buf_t *nb, ssize_t n,
                 kl_err_t err)
{
    off_t  start, want;
    size_t skip, len;

    kl_http_copy_piece(lcf, ctx, b, &start, &skip, &want, &len);

    if (n == -1) {
        kl_log_error(KL_LOG_CRIT, r->connection->log, err,
                     "pread() \"%s\" failed", b->file->name.data);
        return KL_ERROR;
    }

    if ((size_t) n < skip + (size_t) want) {
        /* The file shrank under us: the promised length cannot be met. */
        kl_log_error(KL_LOG_CRIT, r->connection->log, 0,
                     "pread() read only %z of %O from \"%s\"", n,
                     (off_t) (skip + want), b->file->name.data);
        return KL_ERROR;
    }

    nb->pos = nb->start + skip;
    nb->last = nb->pos + want;
    nb->temporary = 1;
    nb->last_buf = 0;
    nb->flush = 0;

    b->file_pos += want;

    if (b->file_pos == b->file_last) {
        /* The end of the range carries the file buffer's flags. */
        nb->last_buf = b->last_buf;
        nb->flush = b->flush;
    }

    return KL_OK;
}


/* Without aio: read the piece now. */
static kl_int_t
kl_http_copy_read(kl_http_request_t *r, kl_http_copy_loc_conf_t *lcf,
                  kl_http_copy_ctx_t *ctx, kl_buf_t *b, kl_buf_t *nb)
{
    off_t   start, want;
    size_t  skip, len;
    ssize_t n;

    kl_http_copy_piece(lcf, ctx, b, &start, &skip, &want, &len);

    n = pread(b->file->fd, nb->start, len, start);

    return kl_http_copy_got(r, lcf, ctx, b, nb, n, errno);
}


/* In a pool thread. */
static void
kl_http_copy_aio_handler(kl_thread_task_t *task)
{
    kl_http_copy_aio_t *aio = task->data;

    aio->n = pread(aio->fd, aio->dst, aio->len, aio->offset);
    aio->err = (aio->n == -1) ? errno : 0;
}


/* In the loop: have the writer pass the piece on. */
static void
kl_http_copy_aio_done(kl_thread_task_t *task)
{
    kl_http_copy_aio_t *aio = task->data;

    aio->busy = 0;

    if (aio->orphan) {
        kl_free(aio->mem);
        kl_free(aio);
        return;
    }

    aio->ready = 1;

    kl_post_event(aio->r->connection->write, &kl_loop.posted);
}


/* With aio: hand the read to the pool; the piece comes back later. */
static kl_int_t
kl_http_copy_aio_read(kl_http_copy_loc_conf_t *lcf, kl_http_copy_ctx_t *ctx,
                      kl_buf_t *b, kl_buf_t *nb)
{
    off_t               start, want;
    size_t              skip, len;
    kl_http_copy_aio_t *aio = ctx->aio;

    kl_http_copy_piece(lcf, ctx, b, &start, &skip, &want, &len);

    aio->task.handler = kl_http_copy_aio_handler;
    aio->task.done = kl_http_copy_aio_done;
    aio->task.data = aio;
    aio->fd = b->file->fd;
    aio->dst = nb->start;
    aio->len = len;
    aio->offset = start;
    aio->b = b;
    aio->nb = nb;

    if (kl_thread_task_post(ctx->pool, &aio->task) != KL_OK) {
        return KL_ERROR;
    }

    aio->busy = 1;

    return KL_OK;
}


/* A buffer taken in full by the filters after this one, or a new one. */
static kl_buf_t *
kl_http_copy_free_buf(kl_http_request_t *r, kl_http_copy_ctx_t *ctx)
{
    kl_int_t  i;
    kl_buf_t *b;

    for (i = 0; i < ctx->nbufs; i++) {
        b = ctx->bufs[i];

        if (b == NULL) {
            b = kl_buf_calloc(r->pool);
            if (b == NULL) {
                return KL_HTTP_COPY_ERROR_BUF;
            }

            if (ctx->aio) {
                b->start = ctx->aio->mem + i * ctx->size;

            } else {
                b->start = kl_pmemalign(r->pool, ctx->size, ctx->alignment);
                if (b->start == NULL) {
                    return KL_HTTP_COPY_ERROR_BUF;
                }
            }

            b->end = b->start + ctx->size;
            b->pos = b->start;
            b->last = b->start;
            ctx->bufs[i] = b;

            return b;
        }

        if (b->pos == b->last && !(ctx->aio && ctx->aio->nb == b)) {
            return b;
        }
    }

    return NULL;
}


/* Append a link naming b to *ll. */
static kl_int_t
kl_http_copy_link(kl_http_request_t *r, kl_chain_t ***ll, kl_buf_t *b)
{
    kl_chain_t *cl;

    cl = kl_chain_alloc(r->pool);
    if (cl == NULL) {
        return KL_ERROR;
    }

    cl->buf = b;
    **ll = cl;
    *ll = &cl->next;

    return KL_OK;
}


/*
 * An empty file range (nothing to read) still ends the response or
 * flushes it: a special buffer says so instead.
 */
static kl_buf_t *
kl_http_copy_flags(kl_http_request_t *r, kl_buf_t *b)
{
    kl_buf_t *nb;

    nb = kl_buf_calloc(r->pool);
    if (nb == NULL) {
        return NULL;
    }

    nb->last_buf = b->last_buf;
    nb->flush = b->flush;

    return nb;
}


/*
 * Fill the free buffers from ctx->in into *ll, up to *budget bytes:
 * buffers that need no reading go as they are, file data is read (or
 * handed to a pool thread). KL_OK when it stopped, KL_ERROR.
 */
static kl_int_t
kl_http_copy_fill(kl_http_request_t *r, kl_http_copy_loc_conf_t *lcf,
                  kl_http_copy_ctx_t *ctx, kl_chain_t ***ll, off_t *budget)
{
    kl_buf_t           *b, *nb;
    kl_http_copy_aio_t *aio = ctx->aio;

    while (ctx->in) {
        b = ctx->in->buf;

        if (!kl_http_copy_must_read(r, lcf, b)) {
            if (kl_http_copy_link(r, ll, b) != KL_OK) {
                return KL_ERROR;
            }

            ctx->in = ctx->in->next;
            continue;
        }

        if (b->file_pos == b->file_last) {
            if ((b->last_buf || b->flush)
                && ((nb = kl_http_copy_flags(r, b)) == NULL
                    || kl_http_copy_link(r, ll, nb) != KL_OK))
            {
                return KL_ERROR;
            }

            ctx->in = ctx->in->next;
            continue;
        }

        if (aio && aio->busy) {
            return KL_OK;
        }

        if (aio && aio->ready) {
            aio->ready = 0;
            nb = aio->nb;
            aio->nb = NULL;

            if (kl_http_copy_got(r, lcf, ctx, aio->b, nb, aio->n, aio->err)
                != KL_OK) {
                return KL_ERROR;
            }

        } else {
            if (*budget <= 0) {
                return KL_OK;
            }

            nb = kl_http_copy_free_buf(r, ctx);

            if (nb == KL_HTTP_COPY_ERROR_BUF) {
                return KL_ERROR;
            }

            if (nb == NULL) {
                return KL_OK;
            }

            if (kl_http_copy_direct(lcf, b->file)) {
                kl_http_copy_directio_on(r, ctx, b->file);
            }

            if (aio) {
                return kl_http_copy_aio_read(lcf, ctx, b, nb);
            }

            if (kl_http_copy_read(r, lcf, ctx, b, nb) != KL_OK) {
                return KL_ERROR;
            }

            *budget -= nb->last - nb->pos;
        }

        if (kl_http_copy_link(r, ll, nb) != KL_OK) {
            return KL_ERROR;
        }

        if (b->file_pos == b->file_last) {
            ctx->in = ctx->in->next;
        }
    }

    return KL_OK;
}


/*
 * Pass on what is queued, file data read into the free output buffers.
 * While data waits for a buffer or for a pool thread's read, the request
 * stays buffered, and the writer calls here again when the client has
 * taken some or the read is done. At most sendfile_max_chunk bytes are
 * read in one call: then the write event, posted for the next round of
 * the loop, goes on, so one fast client never holds the loop.
 */
static kl_int_t
kl_http_copy_output(kl_http_request_t *r, kl_http_copy_loc_conf_t *lcf,
                    kl_http_copy_ctx_t *ctx, kl_http_output_body_filter_pt next)
{
    off_t                    budget;
    kl_int_t                 rc;
    kl_uint_t                idle;
    kl_chain_t              *out, **ll;
    kl_http_core_loc_conf_t *clcf;

    clcf = kl_http_get_module_loc_conf(r, kl_http_core_module);
    budget = clcf->sendfile_max_chunk ? (off_t) clcf->sendfile_max_chunk
                                      : KL_HTTP_COPY_EVENT_MAX;
    idle = 0;

    for (;;) {
        out = NULL;
        ll = &out;

        if (kl_http_copy_fill(r, lcf, ctx, &ll, &budget) != KL_OK) {
            return KL_ERROR;
        }

        *ll = NULL;

        if (ctx->in) {
            r->buffered |= KL_HTTP_COPY_BUFFERED;
        } else {
            r->buffered &= ~KL_HTTP_COPY_BUFFERED;
        }

        /*
         * With nothing new, this still sends what is queued: KL_OK then
         * means the socket took it all and the buffers are free again,
         * as no write event would come for a socket that stays writable.
         */
        rc = next(r, out);

        if (rc == KL_ERROR || rc == KL_AGAIN || ctx->in == NULL) {
            return rc;
        }

        if (ctx->aio && ctx->aio->busy) {
            /* The read's done handler posts the write event. */
            return KL_AGAIN;
        }

        if (budget <= 0) {
            kl_post_event(r->connection->write, &kl_loop.posted_next);
            return KL_AGAIN;
        }

        /*
         * Twice nothing to pass although the filters after this one said
         * they were done: one of them still holds our buffers, and tells
         * the writer when it lets go; looping on would spin the worker.
         */
        idle = out ? 0 : idle + 1;

        if (idle == 2) {
            return KL_AGAIN;
        }
    }
}


/*
 * A response with file data to read, or one already being read: kept
 * out of the filter itself, so that the common case (memory, or files
 * the socket sends itself) costs a walk of the chain and a tail call.
 */
__attribute__((noinline)) static kl_int_t
kl_http_copy_start(kl_http_request_t *r, kl_chain_t *in, kl_chain_t *cl,
                   kl_http_copy_ctx_t *ctx)
{
    kl_http_copy_loc_conf_t  *lcf;
    kl_http_copy_main_conf_t *mcf;

    mcf = kl_http_get_module_main_conf(r, kl_http_copy_filter_module);
    lcf = kl_http_get_module_loc_conf(r, kl_http_copy_filter_module);

    if (ctx == NULL) {
        for (/* void */; cl; cl = cl->next) {
            if (kl_http_copy_must_read(r, lcf, cl->buf)) {
                break;
            }
        }

        if (cl == NULL) {
            return mcf->next_body_filter(r, in);
        }

        ctx = kl_http_copy_create_ctx(r, lcf);
        if (ctx == NULL) {
            return KL_ERROR;
        }
    }

    if (in && kl_chain_add_copy(r->pool, &ctx->in, in) != KL_OK) {
        return KL_ERROR;
    }

    return kl_http_copy_output(r, lcf, ctx, mcf->next_body_filter);
}


static kl_int_t
kl_http_copy_body_filter(kl_http_request_t *r, kl_chain_t *in)
{
    kl_chain_t               *cl;
    kl_http_copy_ctx_t       *ctx;
    kl_http_copy_main_conf_t *mcf;

    ctx = kl_http_get_module_ctx(r, kl_http_copy_filter_module);

    if (ctx) {
        return kl_http_copy_start(r, in, in, ctx);
    }

    /* Only a buffer with file data not in memory may need reading. */
    for (cl = in; cl; cl = cl->next) {
        if (cl->buf->in_file && !kl_buf_in_memory(cl->buf)) {
            return kl_http_copy_start(r, in, cl, NULL);
        }
    }

    mcf = kl_http_get_module_main_conf(r, kl_http_copy_filter_module);

    return mcf->next_body_filter(r, in);
}


/*
 * The filter sits at the top of the body chain when this runs: the
 * filters listed after it in auto/modules (range among them) run before
 * it and see file buffers; those listed before (gzip, charset's body
 * filter) get memory whenever they ask for it.
 */
static kl_int_t
kl_http_copy_init(kl_conf_t *cf)
{
    kl_http_core_main_conf_t *cmcf;
    kl_http_copy_main_conf_t *mcf;

    cmcf = kl_http_conf_get_module_main_conf(cf, kl_http_core_module);
    mcf = kl_http_conf_get_module_main_conf(cf, kl_http_copy_filter_module);

    mcf->next_body_filter = cmcf->top_body_filter;
    cmcf->top_body_filter = kl_http_copy_body_filter;

    return KL_OK;
}
