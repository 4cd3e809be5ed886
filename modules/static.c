/* static.c: serving files under root: open (cached), type, validators, the body, directio. */

#include "kl_http.h"
#include "core_symlinks.h"
#include "open_file_cache.h"
#include "thread_pool.h"


/*
 * Cached files up to this size are kept in memory, so header and body
 * leave in one writev: no sendfile, no read per request.
 */
#define KL_HTTP_STATIC_SMALL 8192

/*
 * Output held back while directio data is still to be read: a bit of
 * r->buffered next to KL_HTTP_WRITE_BUFFERED, so the request is not
 * finalized before the file is all out.
 */
#define KL_HTTP_STATIC_BUFFERED 0x20

#define KL_CHAIN_ERROR_BUF (kl_buf_t *) KL_ERROR


typedef struct {
    kl_http_output_body_filter_pt next_body_filter;
} kl_http_static_main_conf_t;


typedef struct {
    kl_open_file_cache_t *cache; /* NULL: open_file_cache off */
    time_t                valid;
    kl_int_t              min_uses;
    kl_int_t              errors;
    off_t                 directio; /* KL_MAX_OFF_T_VALUE: off */
    size_t                directio_alignment;
    kl_int_t              bufs_num; /* output_buffers */
    size_t                bufs_size;
    kl_thread_pool_t     *aio_pool; /* NULL: aio off */
} kl_http_static_loc_conf_t;


typedef struct kl_http_static_aio_s kl_http_static_aio_t;


/*
 * A directio response: file buffers are read, a piece at a time, into
 * at most bufs_num aligned memory buffers; one is refilled only once
 * the client has taken all of it.
 */
typedef struct {
    kl_file_t  *file;
    kl_chain_t *in;   /* what is left to read or pass on */
    kl_buf_t  **bufs; /* bufs_num of them, NULL until first used */
    size_t      alignment;
    size_t      size;
    kl_int_t    nbufs;

    kl_thread_pool_t     *pool; /* aio threads */
    kl_http_static_aio_t *aio;
} kl_http_static_ctx_t;


static kl_int_t kl_http_static_handler(kl_http_request_t *r);
static void    *kl_http_static_create_loc_conf(kl_conf_t *cf);
static char    *kl_http_static_merge_loc_conf(kl_conf_t *cf, void *parent,
                                              void *child);
static char    *kl_http_static_open_file_cache(kl_conf_t *cf, kl_command_t *cmd,
                                               void *conf);
static char    *kl_http_static_directio(kl_conf_t *cf, kl_command_t *cmd,
                                        void *conf);
static char    *kl_http_static_output_buffers(kl_conf_t *cf, kl_command_t *cmd,
                                              void *conf);
static char *kl_http_static_aio(kl_conf_t *cf, kl_command_t *cmd, void *conf);
static void *kl_http_static_create_main_conf(kl_conf_t *cf);
static kl_int_t kl_http_static_body_filter(kl_http_request_t *r,
                                           kl_chain_t        *in);
static kl_int_t kl_http_static_init(kl_conf_t *cf);
static kl_int_t kl_http_static_redirect_dir(kl_http_request_t *r);
static kl_int_t kl_http_static_not_allowed(kl_http_request_t *r);


/* Directive tables keep one field a line, as nginx's do. */
/* clang-format off */
static kl_command_t  kl_http_static_commands[] = {

    { kl_string("open_file_cache"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF
      | KL_CONF_TAKE12,
      kl_http_static_open_file_cache,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_static_loc_conf_t, cache),
      NULL },

    { kl_string("open_file_cache_valid"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF
      | KL_CONF_TAKE1,
      kl_conf_set_sec_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_static_loc_conf_t, valid),
      NULL },

    { kl_string("open_file_cache_min_uses"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF
      | KL_CONF_TAKE1,
      kl_conf_set_num_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_static_loc_conf_t, min_uses),
      NULL },

    { kl_string("open_file_cache_errors"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF
      | KL_CONF_FLAG,
      kl_conf_set_flag_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_static_loc_conf_t, errors),
      NULL },

    { kl_string("directio"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF
      | KL_CONF_TAKE1,
      kl_http_static_directio,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_static_loc_conf_t, directio),
      NULL },

    { kl_string("directio_alignment"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF
      | KL_CONF_TAKE1,
      kl_conf_set_size_slot,
      KL_HTTP_LOC_CONF_OFFSET,
      offsetof(kl_http_static_loc_conf_t, directio_alignment),
      NULL },

    { kl_string("output_buffers"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF
      | KL_CONF_TAKE2,
      kl_http_static_output_buffers,
      KL_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { kl_string("aio"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF
      | KL_CONF_TAKE1,
      kl_http_static_aio,
      KL_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    kl_null_command
};
/* clang-format on */


static kl_http_module_t kl_http_static_module_ctx = {
    .postconfiguration = kl_http_static_init,
    .create_main_conf = kl_http_static_create_main_conf,
    .create_loc_conf = kl_http_static_create_loc_conf,
    .merge_loc_conf = kl_http_static_merge_loc_conf,
};


kl_module_t kl_http_static_module = {
    .name = "kl_http_static_module",
    .type = KL_HTTP_MODULE,
    .ctx = &kl_http_static_module_ctx,
    .commands = kl_http_static_commands,
};


static void *
kl_http_static_create_loc_conf(kl_conf_t *cf)
{
    kl_http_static_loc_conf_t *slcf;

    slcf = kl_pcalloc(cf->pool, sizeof(kl_http_static_loc_conf_t));
    if (slcf == NULL) {
        return NULL;
    }

    slcf->cache = KL_CONF_UNSET_PTR;
    slcf->valid = KL_CONF_UNSET;
    slcf->min_uses = KL_CONF_UNSET;
    slcf->errors = KL_CONF_UNSET;
    slcf->directio = KL_CONF_UNSET;
    slcf->directio_alignment = KL_CONF_UNSET_SIZE;
    slcf->bufs_num = KL_CONF_UNSET;
    slcf->aio_pool = KL_CONF_UNSET_PTR;

    return slcf;
}


static char *
kl_http_static_merge_loc_conf(kl_conf_t *cf, void *parent, void *child)
{
    kl_http_static_loc_conf_t *prev = parent;
    kl_http_static_loc_conf_t *conf = child;

    (void) cf;

    /* A location without the directive shares its parent's cache. */
    kl_conf_merge_ptr_value(conf->cache, prev->cache, NULL);
    kl_conf_merge_sec_value(conf->valid, prev->valid, 60);
    kl_conf_merge_value(conf->min_uses, prev->min_uses, 1);
    kl_conf_merge_value(conf->errors, prev->errors, 0);

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
kl_http_static_directio(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_str_t                  *value;
    kl_http_static_loc_conf_t *slcf = conf;

    (void) cmd;

    if (slcf->directio != KL_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (kl_strcmp(value[1].data, "off") == 0) {
        slcf->directio = KL_MAX_OFF_T_VALUE;
        return KL_CONF_OK;
    }

    slcf->directio = kl_conf_parse_offset(&value[1]);
    if (slcf->directio == (off_t) KL_ERROR) {
        return "invalid value";
    }

    return KL_CONF_OK;
}


/* aio off | threads[=POOL]: directio reads run in a thread pool. */
static char *
kl_http_static_aio(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_str_t                  *value, name;
    kl_http_static_loc_conf_t *slcf = conf;

    (void) cmd;

    if (slcf->aio_pool != KL_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (kl_strcmp(value[1].data, "off") == 0) {
        slcf->aio_pool = NULL;
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

    slcf->aio_pool = kl_thread_pool_add(cf, &name);

    return slcf->aio_pool ? KL_CONF_OK : KL_CONF_ERROR;
}


/* output_buffers NUMBER SIZE */
static char *
kl_http_static_output_buffers(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    ssize_t                    size;
    kl_int_t                   num;
    kl_str_t                  *value;
    kl_http_static_loc_conf_t *slcf = conf;

    (void) cmd;

    if (slcf->bufs_num != KL_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    num = kl_atoi(value[1].data, value[1].len);
    if (num == KL_ERROR || num == 0) {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0, "invalid value \"%V %V\"",
                          &value[1], &value[2]);
        return KL_CONF_ERROR;
    }

    size = kl_conf_parse_size(&value[2]);
    if (size == KL_ERROR || size == 0) {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0, "invalid value \"%V %V\"",
                          &value[1], &value[2]);
        return KL_CONF_ERROR;
    }

    slcf->bufs_num = num;
    slcf->bufs_size = (size_t) size;

    return KL_CONF_OK;
}


/* open_file_cache max=N [inactive=T] | off */
static char *
kl_http_static_open_file_cache(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    time_t                     inactive;
    kl_int_t                   max, n;
    kl_str_t                  *value, s;
    kl_uint_t                  i;
    kl_http_static_loc_conf_t *slcf = conf;

    (void) cmd;

    if (slcf->cache != KL_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;
    max = 0;
    inactive = 60;

    for (i = 1; i < cf->args->nelts; i++) {

        if (value[i].len > 4 && kl_strncmp(value[i].data, "max=", 4) == 0) {
            s.data = value[i].data + 4;
            s.len = value[i].len - 4;
            max = kl_atoi(s.data, s.len);

            if (max <= 0) {
                goto failed;
            }

            continue;
        }

        if (value[i].len > 9 && kl_strncmp(value[i].data, "inactive=", 9) == 0)
        {
            s.data = value[i].data + 9;
            s.len = value[i].len - 9;
            n = kl_conf_parse_time(&s, 1);

            if (n == KL_ERROR) {
                goto failed;
            }

            inactive = (time_t) n;
            continue;
        }

        if (value[i].len == 3 && kl_strncmp(value[i].data, "off", 3) == 0) {
            slcf->cache = NULL;
            continue;
        }

failed:
        kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                          "invalid \"open_file_cache\" parameter \"%V\"",
                          &value[i]);
        return KL_CONF_ERROR;
    }

    if (slcf->cache == NULL) {
        /* nginx: "off" wins over any other parameter given with it. */
        return KL_CONF_OK;
    }

    if (max == 0) {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                          "\"open_file_cache\" must have the \"max\" "
                          "parameter");
        return KL_CONF_ERROR;
    }

    slcf->cache = kl_open_file_cache_create(cf->pool, max, inactive);
    if (slcf->cache == NULL) {
        return KL_CONF_ERROR;
    }

    return KL_CONF_OK;
}


static void *
kl_http_static_create_main_conf(kl_conf_t *cf)
{
    return kl_pcalloc(cf->pool, sizeof(kl_http_static_main_conf_t));
}


/*
 * The directio filter sits at the top of the body chain when static's
 * postconfiguration runs: the filters listed after static in auto/modules
 * (range among them) run before it and see the file buffer.
 */
static kl_int_t
kl_http_static_init(kl_conf_t *cf)
{
    kl_http_core_main_conf_t   *cmcf;
    kl_http_static_main_conf_t *smcf;

    cmcf = kl_http_conf_get_module_main_conf(cf, kl_http_core_module);
    smcf = kl_http_conf_get_module_main_conf(cf, kl_http_static_module);

    smcf->next_body_filter = cmcf->top_body_filter;
    cmcf->top_body_filter = kl_http_static_body_filter;

    return kl_http_add_phase_handler(cf, KL_HTTP_CONTENT_PHASE,
                                     kl_http_static_handler);
}


/*
 * A read for "aio threads": it lives outside the request's pool, so a
 * request freed while a thread still reads into its buffers only marks
 * it orphaned, and the done handler frees it.
 */
struct kl_http_static_aio_s {
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


static void
kl_http_static_aio_cleanup(void *data)
{
    kl_http_static_aio_t *aio = data;

    if (aio->busy) {
        aio->orphan = 1;
        return;
    }

    kl_free(aio->mem);
    kl_free(aio);
}


/*
 * Read the file into output_buffers instead of sendfile: with O_DIRECT and
 * aligned reads for a file at least "directio" bytes long (direct), or
 * plainly when sendfile is off, as nginx's output chain does.
 */
static kl_int_t
kl_http_static_set_reader(kl_http_request_t *r, kl_http_static_loc_conf_t *slcf,
                          kl_file_t *file, kl_uint_t direct)
{
    int                   flags;
    kl_pool_cleanup_t    *cln;
    kl_http_static_ctx_t *ctx;

    flags = direct ? fcntl(file->fd, F_GETFL) : 0;

    if (direct
        && (flags == -1
            || (!(flags & O_DIRECT)
                && fcntl(file->fd, F_SETFL, flags | O_DIRECT) == -1)))
    {
        /* nginx goes on without it: the reads stay aligned anyway. */
        kl_log_error(KL_LOG_ALERT, r->connection->log, errno,
                     "fcntl(O_DIRECT) \"%s\" failed", file->name.data);
    }

    ctx = kl_pcalloc(r->pool, sizeof(kl_http_static_ctx_t));
    if (ctx == NULL) {
        return KL_ERROR;
    }

    ctx->bufs = kl_pcalloc(r->pool, slcf->bufs_num * sizeof(kl_buf_t *));
    if (ctx->bufs == NULL) {
        return KL_ERROR;
    }

    ctx->file = file;
    ctx->alignment = direct ? slcf->directio_alignment : 1;
    ctx->nbufs = slcf->bufs_num;

    /* Each read is whole aligned blocks, at least one. */
    ctx->size = (slcf->bufs_size + ctx->alignment - 1) & ~(ctx->alignment - 1);

    if (slcf->aio_pool) {
        cln = kl_pool_cleanup_add(r->pool, 0);
        if (cln == NULL) {
            return KL_ERROR;
        }

        ctx->aio = kl_calloc(sizeof(kl_http_static_aio_t), r->connection->log);
        if (ctx->aio == NULL) {
            return KL_ERROR;
        }

        cln->handler = kl_http_static_aio_cleanup;
        cln->data = ctx->aio;

        ctx->aio->mem = kl_memalign(ctx->alignment, ctx->size * ctx->nbufs,
                                    r->connection->log);
        if (ctx->aio->mem == NULL) {
            return KL_ERROR;
        }

        ctx->aio->r = r;
        ctx->aio->fd = file->fd;
        ctx->pool = slcf->aio_pool;
    }

    kl_http_set_ctx(r, ctx, kl_http_static_module);

    return KL_OK;
}


/*
 * The next piece of b's range: whole aligned blocks from the aligned
 * offset below file_pos, of which nb keeps only the bytes asked for.
 */
static void
kl_http_static_piece(kl_http_static_ctx_t *ctx, kl_buf_t *b, off_t *start,
                     size_t *skip, off_t *want, size_t *len)
{
    *start = b->file_pos & ~((off_t) ctx->alignment - 1);
    *skip = (size_t) (b->file_pos - *start);
    *want = b->file_last - b->file_pos;

    if ((off_t) (ctx->size - *skip) < *want) {
        *want = (off_t) (ctx->size - *skip);
    }

    *len =
        (*skip + (size_t) *want + ctx->alignment - 1) & ~(ctx->alignment - 1);
}


/* Check a read of n bytes into nb and move b past what nb now holds. */
static kl_int_t
kl_http_static_got(kl_http_request_t *r, kl_http_static_ctx_t *ctx, kl_buf_t *b,
                   kl_buf_t *nb, ssize_t n, kl_err_t err)
{
    off_t  start, want;
    size_t skip, len;

    kl_http_static_piece(ctx, b, &start, &skip, &want, &len);

    if (n == -1) {
        kl_log_error(KL_LOG_CRIT, r->connection->log, err,
                     "pread() \"%s\" failed", ctx->file->name.data);
        return KL_ERROR;
    }

    if ((size_t) n < skip + (size_t) want) {
        kl_log_error(KL_LOG_CRIT, r->connection->log, 0,
                     "pread() read only %z of %O from \"%s\"", n,
                     (off_t) (skip + want), ctx->file->name.data);
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
kl_http_static_read(kl_http_request_t *r, kl_http_static_ctx_t *ctx,
                    kl_buf_t *b, kl_buf_t *nb)
{
    off_t   start, want;
    size_t  skip, len;
    ssize_t n;

    kl_http_static_piece(ctx, b, &start, &skip, &want, &len);

    n = pread(ctx->file->fd, nb->start, len, start);

    return kl_http_static_got(r, ctx, b, nb, n, errno);
}


/* In a pool thread. */
static void
kl_http_static_aio_handler(kl_thread_task_t *task)
{
    kl_http_static_aio_t *aio = task->data;

    aio->n = pread(aio->fd, aio->dst, aio->len, aio->offset);
    aio->err = (aio->n == -1) ? errno : 0;
}


/* In the loop: have the writer pass the piece on. */
static void
kl_http_static_aio_done(kl_thread_task_t *task)
{
    kl_connection_t      *c;
    kl_http_static_aio_t *aio = task->data;

    aio->busy = 0;

    if (aio->orphan) {
        kl_free(aio->mem);
        kl_free(aio);
        return;
    }

    aio->ready = 1;

    c = aio->r->connection;
    kl_post_event(c->write, &kl_loop.posted);
}


/* With aio: hand the read to the pool; the piece comes back later. */
static kl_int_t
kl_http_static_aio_read(kl_http_request_t *r, kl_http_static_ctx_t *ctx,
                        kl_buf_t *b, kl_buf_t *nb)
{
    off_t                 start, want;
    size_t                skip, len;
    kl_http_static_aio_t *aio = ctx->aio;

    (void) r;

    kl_http_static_piece(ctx, b, &start, &skip, &want, &len);

    aio->task.handler = kl_http_static_aio_handler;
    aio->task.done = kl_http_static_aio_done;
    aio->task.data = aio;
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


/* A buffer the client has taken in full, or a new one; NULL: none. */
static kl_buf_t *
kl_http_static_free_buf(kl_http_request_t *r, kl_http_static_ctx_t *ctx)
{
    kl_int_t  i;
    kl_buf_t *b;

    for (i = 0; i < ctx->nbufs; i++) {
        b = ctx->bufs[i];

        if (b == NULL) {
            b = kl_buf_calloc(r->pool);
            if (b == NULL) {
                return KL_CHAIN_ERROR_BUF;
            }

            if (ctx->aio) {
                b->start = ctx->aio->mem + i * ctx->size;

            } else {
                b->start = kl_pmemalign(r->pool, ctx->size, ctx->alignment);
                if (b->start == NULL) {
                    return KL_CHAIN_ERROR_BUF;
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


/*
 * Pass on what static's directio file left to send: memory and special
 * buffers as they are, file data read into the free output buffers.
 * While data waits for a buffer or for a pool thread's read, the request
 * stays buffered, and the writer calls here again when the client has
 * taken some or the read is done.
 */
static kl_int_t
kl_http_static_body_filter(kl_http_request_t *r, kl_chain_t *in)
{
    kl_int_t                    rc;
    kl_buf_t                   *b, *nb;
    kl_chain_t                 *cl, *out, **ll;
    kl_http_static_ctx_t       *ctx;
    kl_http_static_aio_t       *aio;
    kl_http_static_main_conf_t *smcf;

    smcf = kl_http_get_module_main_conf(r, kl_http_static_module);
    ctx = kl_http_get_module_ctx(r, kl_http_static_module);

    if (ctx == NULL) {
        return smcf->next_body_filter(r, in);
    }

    if (in && kl_chain_add_copy(r->pool, &ctx->in, in) != KL_OK) {
        return KL_ERROR;
    }

    aio = ctx->aio;

    for (;;) {
        out = NULL;
        ll = &out;

        while (ctx->in) {
            b = ctx->in->buf;

            if (!b->in_file || b->file != ctx->file) {
                cl = kl_chain_alloc(r->pool);
                if (cl == NULL) {
                    return KL_ERROR;
                }

                cl->buf = b;
                *ll = cl;
                ll = &cl->next;
                ctx->in = ctx->in->next;
                continue;
            }

            if (b->file_pos == b->file_last) {
                ctx->in = ctx->in->next;
                continue;
            }

            if (aio && aio->busy) {
                break;
            }

            if (aio && aio->ready) {
                aio->ready = 0;
                nb = aio->nb;
                aio->nb = NULL;

                if (kl_http_static_got(r, ctx, aio->b, nb, aio->n, aio->err)
                    != KL_OK) {
                    return KL_ERROR;
                }

            } else {
                nb = kl_http_static_free_buf(r, ctx);

                if (nb == KL_CHAIN_ERROR_BUF) {
                    return KL_ERROR;
                }

                if (nb == NULL) {
                    break;
                }

                if (aio) {
                    if (kl_http_static_aio_read(r, ctx, b, nb) != KL_OK) {
                        return KL_ERROR;
                    }

                    break;
                }

                if (kl_http_static_read(r, ctx, b, nb) != KL_OK) {
                    return KL_ERROR;
                }
            }

            cl = kl_chain_alloc(r->pool);
            if (cl == NULL) {
                return KL_ERROR;
            }

            cl->buf = nb;
            *ll = cl;
            ll = &cl->next;

            if (b->file_pos == b->file_last) {
                ctx->in = ctx->in->next;
            }
        }

        *ll = NULL;

        if (ctx->in) {
            r->buffered |= KL_HTTP_STATIC_BUFFERED;
        } else {
            r->buffered &= ~KL_HTTP_STATIC_BUFFERED;
        }

        /*
         * With nothing new, this still sends what is queued: KL_OK then
         * means the socket took it all and the buffers are free again,
         * as no write event would come for a socket that stays writable.
         */
        rc = smcf->next_body_filter(r, out);

        if (rc == KL_ERROR || rc == KL_AGAIN || ctx->in == NULL) {
            return rc;
        }

        if (aio && aio->busy) {
            /* The read's done handler posts the write event. */
            return KL_AGAIN;
        }
    }
}


static kl_int_t
kl_http_static_open_error(kl_http_request_t *r, kl_err_t err, kl_str_t *path)
{
    kl_uint_t                level;
    kl_int_t                 rc;
    kl_http_core_loc_conf_t *clcf;

    switch (err) {

    case ENOENT:
    case ENOTDIR:
    case ENAMETOOLONG:
        level = KL_LOG_ERR;
        rc = KL_HTTP_NOT_FOUND;
        break;

    case EACCES:
    case ELOOP:
        level = KL_LOG_ERR;
        rc = KL_HTTP_FORBIDDEN;
        break;

    default:
        level = KL_LOG_CRIT;
        rc = KL_HTTP_INTERNAL_SERVER_ERROR;
        break;
    }

    clcf = kl_http_get_module_loc_conf(r, kl_http_core_module);

    if (rc != KL_HTTP_NOT_FOUND || clcf->log_not_found) {
        kl_log_error(level, r->connection->log, err, "open() \"%s\" failed",
                     path->data);
    }

    return rc;
}


static kl_int_t
kl_http_static_handler(kl_http_request_t *r)
{
    size_t                     root;
    kl_int_t                   rc;
    kl_str_t                   path;
    kl_buf_t                  *b;
    kl_file_t                 *file;
    kl_chain_t                 out;
    kl_open_file_info_t        of;
    kl_http_static_loc_conf_t *slcf;

    if (!(r->method & (KL_HTTP_GET | KL_HTTP_HEAD | KL_HTTP_POST))) {
        return kl_http_static_not_allowed(r);
    }

    if (r->uri.len == 0 || r->uri.data[r->uri.len - 1] == '/') {
        return KL_DECLINED;
    }

    if (r->uri.data[0] != '/') {
        /* "OPTIONS *" and the like name no file. */
        return KL_HTTP_NOT_FOUND;
    }

    if (kl_http_map_uri_to_path(r, &path, &root, 0) == NULL) {
        return KL_HTTP_INTERNAL_SERVER_ERROR;
    }

    slcf = kl_http_get_module_loc_conf(r, kl_http_static_module);

    kl_memzero(&of, sizeof(kl_open_file_info_t));
    of.valid = slcf->valid;
    of.min_uses = slcf->min_uses;
    of.errors = slcf->errors ? 1 : 0;
    of.read_small = KL_HTTP_STATIC_SMALL;

    if (kl_http_set_disable_symlinks(r, &path, &of) != KL_OK) {
        return KL_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (kl_open_cached_file(slcf->cache, &path, &of, r->pool, kl_loop.clock.sec)
        != KL_OK)
    {
        if (of.err == ENOMEM || of.failed == NULL
            || kl_strcmp(of.failed, "open()") != 0)
        {
            kl_log_error(KL_LOG_CRIT, r->connection->log, of.err,
                         "%s \"%s\" failed", of.failed ? of.failed : "open()",
                         path.data);
            return KL_HTTP_INTERNAL_SERVER_ERROR;
        }

        return kl_http_static_open_error(r, of.err, &path);
    }

    if (of.is_dir) {
        return kl_http_static_redirect_dir(r);
    }

    if (!of.is_file) {
        kl_log_error(KL_LOG_CRIT, r->connection->log, 0,
                     "\"%s\" is not a regular file", path.data);
        return KL_HTTP_NOT_FOUND;
    }

    /* nginx: POST to a static file exists, but is not allowed. */
    if (r->method == KL_HTTP_POST) {
        return kl_http_static_not_allowed(r);
    }

    rc = kl_http_discard_request_body(r);

    if (rc != KL_OK) {
        return rc;
    }

    r->headers_out.status = KL_HTTP_OK;
    r->headers_out.content_length_n = of.size;
    r->headers_out.last_modified_time = of.mtime;

    if (kl_http_set_etag(r) != KL_OK || kl_http_set_content_type(r) != KL_OK) {
        return KL_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->allow_ranges = 1;

    /* A 304 or 412 from the filters, or HEAD, ends with the head. */
    rc = kl_http_send_header(r);

    if (rc == KL_ERROR || rc > KL_OK || r->header_only) {
        return rc;
    }

    b = kl_buf_calloc(r->pool);
    if (b == NULL) {
        return KL_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->last_buf = 1;

    if (of.data) {
        /* The cache's copy outlives the request: it holds the entry. */
        b->pos = of.data;
        b->last = of.data + of.size;
        b->memory = 1;

    } else if (of.size) {
        file = kl_pcalloc(r->pool, sizeof(kl_file_t));
        if (file == NULL) {
            return KL_HTTP_INTERNAL_SERVER_ERROR;
        }

        file->fd = of.fd;
        file->name = path;
        file->log = r->connection->log;
        file->info.st_size = of.size;
        file->info.st_mtime = of.mtime;
        file->info.st_ino = of.inode;
        file->info.st_mode = S_IFREG;

        b->file = file;
        b->file_pos = 0;
        b->file_last = of.size;
        b->in_file = 1;

        /* gzip, set in send_header above, compresses bytes, not files. */
        if (of.size >= slcf->directio || !r->connection->sendfile
            || r->filter_need_in_memory)
        {
            if (kl_http_static_set_reader(r, slcf, file,
                                          of.size >= slcf->directio)
                != KL_OK)
            {
                return KL_HTTP_INTERNAL_SERVER_ERROR;
            }
        }
    }

    out.buf = b;
    out.next = NULL;

    return kl_http_output_filter(r, &out);
}


static kl_int_t
kl_http_static_redirect_dir(kl_http_request_t *r)
{
    size_t    len;
    u_char   *p;
    kl_str_t  location;
    uintptr_t escape;

    /*
     * "/dir" is a directory: send the client to "/dir/", the decoded path
     * escaped again (a space or an 8-bit byte cannot go in a field raw),
     * and the args as they came, as nginx does.
     */
    escape = kl_escape_uri(NULL, r->uri.data, r->uri.len, KL_ESCAPE_URI);
    len = r->uri.len + escape + 1;

    if (r->args.len) {
        len += 1 + r->args.len;
    }

    location.data = kl_pnalloc(r->pool, len);
    if (location.data == NULL) {
        return KL_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (escape) {
        p = location.data + r->uri.len + escape;
        (void) kl_escape_uri(location.data, r->uri.data, r->uri.len,
                             KL_ESCAPE_URI);
    } else {
        p = kl_cpymem(location.data, r->uri.data, r->uri.len);
    }

    *p++ = '/';

    if (r->args.len) {
        *p++ = '?';
        p = kl_cpymem(p, r->args.data, r->args.len);
    }

    location.len = p - location.data;

    return kl_http_send_redirect(r, KL_HTTP_MOVED_PERMANENTLY, &location);
}


/* RFC 9110 15.5.6: a 405 names the methods that are allowed. */
static kl_int_t
kl_http_static_not_allowed(kl_http_request_t *r)
{
    kl_table_elt_t *h;

    h = kl_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return KL_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->hash = 1;
    h->next = NULL;
    kl_str_set(&h->key, "Allow");
    kl_str_set(&h->value, "GET, HEAD");

    return KL_HTTP_NOT_ALLOWED;
}
