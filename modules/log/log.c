/*
 * log.c: the access log: log_format and access_log, as nginx's.
 *
 * A format is compiled once into literal and variable parts. At the end
 * of a request (the log phase) each access_log of its location builds
 * one line and writes it (log_write.c), or sends it to syslog. A log
 * with buffer=SIZE collects lines in worker memory instead and writes
 * them together when the next line would not fit, when flush=TIME has
 * passed since the first line went in, at USR1 and when the worker
 * exits; gzip[=LEVEL] compresses each such write. Every access_log
 * naming the same file shares that file's buffer.
 *
 * Files are the cycle's open files, so USR1 reopens them in place.
 */

#include "kl_http.h"
#include "log_write.h"


#define KL_HTTP_LOG_ESCAPE_DEFAULT 0
#define KL_HTTP_LOG_ESCAPE_JSON    1
#define KL_HTTP_LOG_ESCAPE_NONE    2

/* A format's part: literal text, or a variable (index >= 0). */
typedef struct {
    kl_str_t text;
    kl_int_t index;
} kl_http_log_op_t;

typedef struct {
    kl_str_t   name;
    kl_uint_t  escape;
    kl_array_t ops; /* kl_http_log_op_t */
} kl_http_log_fmt_t;

typedef struct {
    kl_open_file_t          *file;   /* NULL: variables in the path, syslog */
    kl_http_complex_value_t *script; /* the path, evaluated per request */
    kl_http_log_fmt_t       *format;
    kl_http_complex_value_t *filter; /* if=: skip the line when "" or "0" */
    kl_syslog_peer_t        *syslog; /* access_log syslog:... */
    time_t                   error_time;
} kl_http_log_t;

typedef struct {
    kl_array_t formats; /* kl_http_log_fmt_t; "combined" first */
    kl_array_t buffers; /* kl_http_log_buf_t * */
    kl_array_t caches;  /* kl_http_log_cache_t *, closed at worker exit */
} kl_http_log_main_conf_t;

typedef struct {
    kl_array_t          *logs; /* kl_http_log_t; NULL: inherit */
    kl_uint_t            off;
    kl_http_log_cache_t *cache; /* NULL: off; KL_CONF_UNSET_PTR: inherit */
} kl_http_log_loc_conf_t;


static void    *kl_http_log_create_main_conf(kl_conf_t *cf);
static void    *kl_http_log_create_loc_conf(kl_conf_t *cf);
static char    *kl_http_log_merge_loc_conf(kl_conf_t *cf, void *parent,
                                           void *child);
static kl_int_t kl_http_log_preconfiguration(kl_conf_t *cf);
static kl_int_t kl_http_log_init(kl_conf_t *cf);
static void     kl_http_log_exit_process(kl_cycle_t *cycle);
static char    *kl_http_log_set_format(kl_conf_t *cf, kl_command_t *cmd,
                                       void *conf);
static char *kl_http_log_set_log(kl_conf_t *cf, kl_command_t *cmd, void *conf);
static char *kl_http_log_set_params(kl_conf_t *cf, kl_http_log_t *log);
static char *kl_http_log_open_file_cache(kl_conf_t *cf, kl_command_t *cmd,
                                         void *conf);
static kl_int_t kl_http_log_compile_format(kl_conf_t         *cf,
                                           kl_http_log_fmt_t *fmt,
                                           kl_str_t *args, kl_uint_t n);
static kl_int_t kl_http_log_handler(kl_http_request_t *r);
static kl_int_t kl_http_log_lines(kl_http_request_t *r);
static kl_int_t kl_http_log_syslog(kl_http_request_t *r, kl_http_log_t *log,
                                   size_t len);
static void     kl_http_log_flush_handler(kl_event_t *ev);
static void     kl_http_log_flush_file(kl_open_file_t *file, kl_log_t *log);


/* Directive tables keep one field a line, as nginx's do. */
/* clang-format off */
static kl_command_t  kl_http_log_commands[] = {

    { kl_string("log_format"),
      KL_HTTP_MAIN_CONF | KL_CONF_2MORE,
      kl_http_log_set_format,
      KL_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { kl_string("access_log"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF
      | KL_HTTP_LIF_CONF | KL_HTTP_LMT_CONF | KL_CONF_1MORE,
      kl_http_log_set_log,
      KL_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { kl_string("open_log_file_cache"),
      KL_HTTP_MAIN_CONF | KL_HTTP_SRV_CONF | KL_HTTP_LOC_CONF
      | KL_CONF_TAKE1234,
      kl_http_log_open_file_cache,
      KL_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    kl_null_command
};
/* clang-format on */


static kl_http_module_t kl_http_log_module_ctx = {
    .preconfiguration = kl_http_log_preconfiguration,
    .postconfiguration = kl_http_log_init,
    .create_main_conf = kl_http_log_create_main_conf,
    .create_loc_conf = kl_http_log_create_loc_conf,
    .merge_loc_conf = kl_http_log_merge_loc_conf,
};


kl_module_t kl_http_log_module = {
    .name = "kl_http_log_module",
    .type = KL_HTTP_MODULE,
    .ctx = &kl_http_log_module_ctx,
    .commands = kl_http_log_commands,
    .exit_process = kl_http_log_exit_process,
};


static kl_str_t kl_http_log_default_path = kl_string(KL_HTTP_LOG_PATH);

static kl_str_t kl_http_log_combined =
    kl_string("$remote_addr - $remote_user [$time_local] "
              "\"$request\" $status $body_bytes_sent "
              "\"$http_referer\" \"$http_user_agent\"");


static void *
kl_http_log_create_main_conf(kl_conf_t *cf)
{
    kl_http_log_main_conf_t *lmcf;

    lmcf = kl_pcalloc(cf->pool, sizeof(kl_http_log_main_conf_t));
    if (lmcf == NULL) {
        return NULL;
    }

    if (kl_array_init(&lmcf->formats, cf->pool, 4, sizeof(kl_http_log_fmt_t))
            != KL_OK
        || kl_array_init(&lmcf->buffers, cf->pool, 2,
                         sizeof(kl_http_log_buf_t *))
               != KL_OK
        || kl_array_init(&lmcf->caches, cf->pool, 2,
                         sizeof(kl_http_log_cache_t *))
               != KL_OK)
    {
        return NULL;
    }

    return lmcf;
}


/* "combined" exists before any directive is read. */
static kl_int_t
kl_http_log_preconfiguration(kl_conf_t *cf)
{
    kl_http_log_fmt_t       *fmt;
    kl_http_log_main_conf_t *lmcf;

    lmcf = kl_http_conf_get_module_main_conf(cf, kl_http_log_module);

    fmt = kl_array_push(&lmcf->formats);
    if (fmt == NULL) {
        return KL_ERROR;
    }

    kl_str_set(&fmt->name, "combined");
    fmt->escape = KL_HTTP_LOG_ESCAPE_DEFAULT;

    if (kl_array_init(&fmt->ops, cf->pool, 16, sizeof(kl_http_log_op_t))
        != KL_OK) {
        return KL_ERROR;
    }

    return kl_http_log_compile_format(cf, fmt, &kl_http_log_combined, 1);
}


static kl_int_t
kl_http_log_init(kl_conf_t *cf)
{
    return kl_http_add_phase_handler(cf, KL_HTTP_LOG_PHASE,
                                     kl_http_log_handler);
}


static void *
kl_http_log_create_loc_conf(kl_conf_t *cf)
{
    kl_http_log_loc_conf_t *llcf;

    llcf = kl_pcalloc(cf->pool, sizeof(kl_http_log_loc_conf_t));
    if (llcf == NULL) {
        return NULL;
    }

    /* logs NULL and off 0: not set here, inherited in merge. */
    llcf->cache = KL_CONF_UNSET_PTR;

    return llcf;
}


static char *
kl_http_log_merge_loc_conf(kl_conf_t *cf, void *parent, void *child)
{
    kl_http_log_loc_conf_t  *prev = parent;
    kl_http_log_loc_conf_t  *conf = child;
    kl_http_log_t           *log;
    kl_http_log_fmt_t       *fmt;
    kl_http_log_main_conf_t *lmcf;

    if (conf->cache == KL_CONF_UNSET_PTR) {
        conf->cache = prev->cache;
    }

    if (conf->cache == KL_CONF_UNSET_PTR) {
        conf->cache = NULL;
    }

    if (conf->logs || conf->off) {
        return KL_CONF_OK;
    }

    conf->logs = prev->logs;
    conf->off = prev->off;

    if (conf->logs || conf->off) {
        return KL_CONF_OK;
    }

    /* Nothing anywhere above: logs/access.log in "combined", as nginx. */
    conf->logs = kl_array_create(cf->pool, 1, sizeof(kl_http_log_t));
    if (conf->logs == NULL) {
        return KL_CONF_ERROR;
    }

    log = kl_array_push(conf->logs);
    if (log == NULL) {
        return KL_CONF_ERROR;
    }

    kl_memzero(log, sizeof(kl_http_log_t));

    log->file = kl_cycle_open_file(cf->cycle, &kl_http_log_default_path);
    if (log->file == NULL) {
        return KL_CONF_ERROR;
    }

    lmcf = kl_http_conf_get_module_main_conf(cf, kl_http_log_module);
    fmt = lmcf->formats.elts;
    log->format = &fmt[0];

    return KL_CONF_OK;
}


static char *
kl_http_log_set_format(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_http_log_main_conf_t *lmcf = conf;
    kl_str_t                *value;
    kl_uint_t                i, first;
    kl_http_log_fmt_t       *fmt;

    (void) cmd;

    value = cf->args->elts;
    fmt = lmcf->formats.elts;

    for (i = 0; i < lmcf->formats.nelts; i++) {
        if (fmt[i].name.len == value[1].len
            && kl_strcmp(fmt[i].name.data, value[1].data) == 0)
        {
            kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                              "duplicate \"log_format\" name \"%V\"",
                              &value[1]);
            return KL_CONF_ERROR;
        }
    }

    fmt = kl_array_push(&lmcf->formats);
    if (fmt == NULL) {
        return KL_CONF_ERROR;
    }

    fmt->name = value[1];
    fmt->escape = KL_HTTP_LOG_ESCAPE_DEFAULT;
    first = 2;

    if (kl_strncmp(value[2].data, "escape=", 7) == 0) {
        if (kl_strcmp(value[2].data + 7, "json") == 0) {
            fmt->escape = KL_HTTP_LOG_ESCAPE_JSON;

        } else if (kl_strcmp(value[2].data + 7, "none") == 0) {
            fmt->escape = KL_HTTP_LOG_ESCAPE_NONE;

        } else if (kl_strcmp(value[2].data + 7, "default") != 0) {
            kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                              "unknown log format escaping \"%s\"",
                              value[2].data + 7);
            return KL_CONF_ERROR;
        }

        first = 3;
    }

    if (kl_array_init(&fmt->ops, cf->pool, 16, sizeof(kl_http_log_op_t))
        != KL_OK) {
        return KL_CONF_ERROR;
    }

    if (kl_http_log_compile_format(cf, fmt, &value[first],
                                   cf->args->nelts - first)
        != KL_OK)
    {
        return KL_CONF_ERROR;
    }

    return KL_CONF_OK;
}


/*
 * The arguments are joined as they stand. Errors are nginx's: a '$'
 * naming nothing is an "invalid parameter" quoted from that '$' on.
 */
static kl_int_t
kl_http_log_compile_format(kl_conf_t *cf, kl_http_log_fmt_t *fmt,
                           kl_str_t *args, kl_uint_t n)
{
    kl_int_t               count, index;
    kl_uint_t              i, j;
    kl_http_log_op_t      *op;
    kl_http_script_part_t *parts;
    kl_http_script_error_t err;

    for (i = 0; i < n; i++) {
        count =
            kl_http_script_parse(args[i].data, args[i].len, 0, NULL, 0, &err);

        if (count == KL_ERROR) {
            if (err.code == KL_HTTP_SCRIPT_ERR_BRACKET) {
                kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                                  "the closing bracket in \"%V\" "
                                  "variable is missing",
                                  &err.name);
            } else {
                kl_conf_log_error(
                    KL_LOG_EMERG, cf, 0, "invalid parameter \"%*s\"",
                    args[i].len - err.pos, args[i].data + err.pos);
            }

            return KL_ERROR;
        }

        parts = kl_palloc(cf->temp_pool,
                          (count + 1) * sizeof(kl_http_script_part_t));
        if (parts == NULL) {
            return KL_ERROR;
        }

        (void) kl_http_script_parse(args[i].data, args[i].len, 0, parts, count,
                                    &err);

        for (j = 0; j < (kl_uint_t) count; j++) {
            op = kl_array_push(&fmt->ops);
            if (op == NULL) {
                return KL_ERROR;
            }

            op->text = parts[j].text;
            op->index = -1;

            if (parts[j].type == KL_HTTP_SCRIPT_VAR) {
                index = kl_http_get_variable_index(cf, &parts[j].text);
                if (index == KL_ERROR) {
                    return KL_ERROR;
                }

                op->index = index;
            }
        }
    }

    return KL_OK;
}


static kl_http_log_buf_t *
kl_http_log_find_buffer(kl_http_log_main_conf_t *lmcf, kl_open_file_t *file)
{
    kl_uint_t           i;
    kl_http_log_buf_t **buffer;

    buffer = lmcf->buffers.elts;

    for (i = 0; i < lmcf->buffers.nelts; i++) {
        if (buffer[i]->file == file) {
            return buffer[i];
        }
    }

    return NULL;
}


static char *
kl_http_log_add_buffer(kl_conf_t *cf, kl_open_file_t *file, ssize_t size,
                       kl_msec_t flush, kl_int_t gzip, kl_str_t *name)
{
    kl_http_log_buf_t       *buffer, **bp;
    kl_http_log_main_conf_t *lmcf;

    lmcf = kl_http_conf_get_module_main_conf(cf, kl_http_log_module);

    buffer = kl_http_log_find_buffer(lmcf, file);

    if (buffer) {
        if (buffer->last - buffer->start != size || buffer->flush != flush
            || buffer->gzip != gzip)
        {
            kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                              "access_log \"%V\" already defined "
                              "with conflicting parameters",
                              name);
            return KL_CONF_ERROR;
        }

        return KL_CONF_OK;
    }

    buffer = kl_pcalloc(cf->pool, sizeof(kl_http_log_buf_t));
    bp = kl_array_push(&lmcf->buffers);
    if (buffer == NULL || bp == NULL) {
        return KL_CONF_ERROR;
    }

    *bp = buffer;

    buffer->start = kl_pnalloc(cf->pool, size);
    if (buffer->start == NULL) {
        return KL_CONF_ERROR;
    }

    buffer->file = file;
    buffer->pos = buffer->start;

    /* USR1: what is buffered goes to the file being rotated, first. */
    file->flush = kl_http_log_flush_file;
    file->data = buffer;
    buffer->last = buffer->start + size;
    buffer->flush = flush;
    buffer->gzip = gzip;

    if (flush) {
        buffer->event = kl_pcalloc(cf->pool, sizeof(kl_event_t));
        if (buffer->event == NULL) {
            return KL_CONF_ERROR;
        }

        buffer->event->data = buffer;
        buffer->event->handler = kl_http_log_flush_handler;
        buffer->event->log = &cf->cycle->new_log;
        buffer->event->cancelable = 1;
    }

    return KL_CONF_OK;
}


/* access_log's parameters after the format: buffer=, flush=, if=. */
static char *
kl_http_log_set_params(kl_conf_t *cf, kl_http_log_t *log)
{
    ssize_t   size;
    kl_int_t  flush, gzip;
    kl_str_t *value, s;
    kl_uint_t i;

    value = cf->args->elts;

    size = 0;
    flush = 0;
    gzip = 0;

    for (i = 3; i < cf->args->nelts; i++) {

        if (kl_strncmp(value[i].data, "buffer=", 7) == 0) {
            s.len = value[i].len - 7;
            s.data = value[i].data + 7;

            size = kl_conf_parse_size(&s);

            if (size == KL_ERROR || size == 0) {
                kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                                  "invalid buffer size \"%V\"", &s);
                return KL_CONF_ERROR;
            }

            continue;
        }

        if (kl_strncmp(value[i].data, "flush=", 6) == 0) {
            s.len = value[i].len - 6;
            s.data = value[i].data + 6;

            flush = kl_conf_parse_time(&s, 0);

            if (flush == KL_ERROR || flush == 0) {
                kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                                  "invalid flush time \"%V\"", &s);
                return KL_CONF_ERROR;
            }

            continue;
        }

        if (kl_strncmp(value[i].data, "gzip", 4) == 0
            && (value[i].len == 4 || value[i].data[4] == '='))
        {
#if (KL_HAVE_ZLIB)
            /* as nginx: gzip alone means a 64k buffer, unless one is set */
            if (size == 0) {
                size = 64 * 1024;
            }

            if (value[i].len == 4) {
                gzip = 1;
                continue;
            }

            gzip = kl_atoi(value[i].data + 5, value[i].len - 5);

            if (gzip < 1 || gzip > 9) {
                kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                                  "invalid compression level \"%*s\"",
                                  value[i].len - 5, value[i].data + 5);
                return KL_CONF_ERROR;
            }

            continue;
#else
            kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                              "kiln was built without zlib support");
            return KL_CONF_ERROR;
#endif
        }

        if (kl_strncmp(value[i].data, "if=", 3) == 0) {
            s.len = value[i].len - 3;
            s.data = value[i].data + 3;

            log->filter = kl_http_compile_value(cf, &s);
            if (log->filter == NULL) {
                return KL_CONF_ERROR;
            }

            continue;
        }

        kl_conf_log_error(KL_LOG_EMERG, cf, 0, "invalid parameter \"%V\"",
                          &value[i]);
        return KL_CONF_ERROR;
    }

    if (flush && size == 0) {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                          "no buffer is defined for access_log \"%V\"",
                          &value[1]);
        return KL_CONF_ERROR;
    }

    if (size && log->script) {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                          "buffered logs cannot have variables in name");
        return KL_CONF_ERROR;
    }

    if (size && log->syslog) {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                          "logs to syslog cannot be buffered");
        return KL_CONF_ERROR;
    }

    if (size) {
        return kl_http_log_add_buffer(cf, log->file, size, (kl_msec_t) flush,
                                      gzip, &value[1]);
    }

    return KL_CONF_OK;
}


/*
 * As nginx: the prefix is put before the text, not before the result, so
 * "logs/$host.log" and "$host.log" both stay under the prefix whatever
 * the variables hold (kl_http_log_path_valid refuses "..").
 */
static kl_int_t
kl_http_log_compile_path(kl_conf_t *cf, kl_http_log_t *log, kl_str_t *path)
{
    kl_str_t                        full;
    kl_http_compile_complex_value_t ccv;

    full = *path;

    if (kl_conf_full_name(cf->cycle, &full, 0) != KL_OK) {
        return KL_ERROR;
    }

    log->script = kl_palloc(cf->pool, sizeof(kl_http_complex_value_t));
    if (log->script == NULL) {
        return KL_ERROR;
    }

    kl_memzero(&ccv, sizeof(kl_http_compile_complex_value_t));
    ccv.cf = cf;
    ccv.value = &full;
    ccv.complex_value = log->script;
    ccv.zero = 1;

    return kl_http_compile_complex_value(&ccv);
}


static char *
kl_http_log_set_log(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_http_log_loc_conf_t  *llcf = conf;
    kl_str_t                *value, name;
    kl_uint_t                i;
    kl_http_log_t           *log;
    kl_http_log_fmt_t       *fmt;
    kl_http_log_main_conf_t *lmcf;

    (void) cmd;

    value = cf->args->elts;

    if (kl_strcmp(value[1].data, "off") == 0) {
        llcf->off = 1;

        if (cf->args->nelts == 2) {
            return KL_CONF_OK;
        }

        kl_conf_log_error(KL_LOG_EMERG, cf, 0, "invalid parameter \"%V\"",
                          &value[2]);
        return KL_CONF_ERROR;
    }

    if (llcf->logs == NULL) {
        llcf->logs = kl_array_create(cf->pool, 2, sizeof(kl_http_log_t));
        if (llcf->logs == NULL) {
            return KL_CONF_ERROR;
        }
    }

    log = kl_array_push(llcf->logs);
    if (log == NULL) {
        return KL_CONF_ERROR;
    }

    kl_memzero(log, sizeof(kl_http_log_t));

    if (kl_strncmp(value[1].data, "syslog:", 7) == 0) {
        log->syslog = kl_syslog_conf(cf, &value[1]);
        if (log->syslog == NULL) {
            return KL_CONF_ERROR;
        }

    } else if (kl_http_script_variables_count(&value[1]) == 0) {
        log->file = kl_cycle_open_file(cf->cycle, &value[1]);
        if (log->file == NULL) {
            return KL_CONF_ERROR;
        }

    } else if (kl_http_log_compile_path(cf, log, &value[1]) != KL_OK) {
        return KL_CONF_ERROR;
    }

    if (cf->args->nelts >= 3) {
        name = value[2];
    } else {
        kl_str_set(&name, "combined");
    }

    lmcf = kl_http_conf_get_module_main_conf(cf, kl_http_log_module);
    fmt = lmcf->formats.elts;

    for (i = 0; i < lmcf->formats.nelts; i++) {
        if (fmt[i].name.len == name.len
            && kl_strncasecmp(fmt[i].name.data, name.data, name.len) == 0)
        {
            log->format = &fmt[i];
            break;
        }
    }

    if (log->format == NULL) {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0, "unknown log format \"%V\"",
                          &name);
        return KL_CONF_ERROR;
    }

    return kl_http_log_set_params(cf, log);
}


/* open_log_file_cache max=N [inactive=T] [min_uses=N] [valid=T] | off */
static char *
kl_http_log_open_file_cache(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    kl_http_log_loc_conf_t  *llcf = conf;
    time_t                   inactive, valid;
    kl_str_t                *value, s;
    kl_int_t                 max, min_uses;
    kl_uint_t                i, off;
    kl_http_log_cache_t     *cache, **cp;
    kl_http_log_main_conf_t *lmcf;

    (void) cmd;

    if (llcf->cache != KL_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    max = 0;
    inactive = 10;
    valid = 60;
    min_uses = 1;
    off = 0;

    for (i = 1; i < cf->args->nelts; i++) {

        if (kl_strncmp(value[i].data, "max=", 4) == 0) {
            max = kl_atoi(value[i].data + 4, value[i].len - 4);
            if (max == KL_ERROR) {
                goto failed;
            }

            continue;
        }

        if (kl_strncmp(value[i].data, "inactive=", 9) == 0) {
            s.len = value[i].len - 9;
            s.data = value[i].data + 9;

            inactive = (time_t) kl_conf_parse_time(&s, 1);
            if (inactive == (time_t) KL_ERROR) {
                goto failed;
            }

            continue;
        }

        if (kl_strncmp(value[i].data, "min_uses=", 9) == 0) {
            min_uses = kl_atoi(value[i].data + 9, value[i].len - 9);
            if (min_uses == KL_ERROR) {
                goto failed;
            }

            continue;
        }

        if (kl_strncmp(value[i].data, "valid=", 6) == 0) {
            s.len = value[i].len - 6;
            s.data = value[i].data + 6;

            valid = (time_t) kl_conf_parse_time(&s, 1);
            if (valid == (time_t) KL_ERROR) {
                goto failed;
            }

            continue;
        }

        if (kl_strcmp(value[i].data, "off") == 0) {
            off = 1;
            continue;
        }

failed:

        kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                          "invalid \"open_log_file_cache\" parameter \"%V\"",
                          &value[i]);
        return KL_CONF_ERROR;
    }

    if (off) {
        llcf->cache = NULL;
        return KL_CONF_OK;
    }

    if (max == 0) {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                          "\"open_log_file_cache\" must have \"max\" "
                          "parameter");
        return KL_CONF_ERROR;
    }

    cache = kl_pcalloc(cf->pool, sizeof(kl_http_log_cache_t));
    lmcf = kl_http_conf_get_module_main_conf(cf, kl_http_log_module);
    cp = kl_array_push(&lmcf->caches);
    if (cache == NULL || cp == NULL) {
        return KL_CONF_ERROR;
    }

    /* The entries are the worker's: allocated at first use. */
    cache->max = (kl_uint_t) max;
    cache->inactive = inactive;
    cache->valid = valid;
    cache->min_uses = (kl_uint_t) min_uses;

    *cp = cache;
    llcf->cache = cache;

    return KL_CONF_OK;
}


/* nginx's default escaping: " \ and bytes outside 0x20..0x7e as \xHH. */
static kl_uint_t
kl_http_log_must_escape(u_char ch)
{
    return ch < 0x20 || ch >= 0x7f || ch == '"' || ch == '\\';
}


static size_t
kl_http_log_value_len(kl_http_variable_value_t *v, kl_uint_t escape)
{
    size_t i, n;

    if (v == NULL || v->not_found) {
        return escape == KL_HTTP_LOG_ESCAPE_DEFAULT ? 1 : 0;
    }

    if (escape == KL_HTTP_LOG_ESCAPE_NONE) {
        return v->len;
    }

    if (escape == KL_HTTP_LOG_ESCAPE_JSON) {
        n = kl_escape_json_len(v->data, v->len);

    } else {
        for (n = 0, i = 0; i < v->len; i++) {
            if (kl_http_log_must_escape(v->data[i])) {
                n += 3;
            }
        }
    }

    v->escape = n ? 1 : 0;

    return v->len + n;
}


static u_char *
kl_http_log_copy_value(u_char *p, kl_http_variable_value_t *v, kl_uint_t escape)
{
    u_char              ch;
    size_t              i;
    static const u_char hex[] = "0123456789ABCDEF";

    if (v == NULL || v->not_found) {
        if (escape == KL_HTTP_LOG_ESCAPE_DEFAULT) {
            *p++ = '-';
        }

        return p;
    }

    if (escape == KL_HTTP_LOG_ESCAPE_NONE || !v->escape) {
        return kl_cpymem(p, v->data, v->len);
    }

    if (escape == KL_HTTP_LOG_ESCAPE_JSON) {
        return kl_escape_json(p, v->data, v->len);
    }

    for (i = 0; i < v->len; i++) {
        ch = v->data[i];

        if (kl_http_log_must_escape(ch)) {
            *p++ = '\\';
            *p++ = 'x';
            *p++ = hex[ch >> 4];
            *p++ = hex[ch & 0xf];
        } else {
            *p++ = ch;
        }
    }

    return p;
}


/*
 * The line's length with its '\n'. Values that change ($status, $uri...)
 * are computed afresh, not taken from an earlier use in the request;
 * kl_http_log_line then finds them all kept.
 */
static size_t
kl_http_log_line_len(kl_http_request_t *r, kl_http_log_fmt_t *fmt)
{
    size_t            len;
    kl_uint_t         i;
    kl_http_log_op_t *op;

    op = fmt->ops.elts;
    len = 1;

    for (i = 0; i < fmt->ops.nelts; i++) {
        if (op[i].index < 0) {
            len += op[i].text.len;
        } else {
            len += kl_http_log_value_len(
                kl_http_get_flushed_variable(r, op[i].index), fmt->escape);
        }
    }

    return len;
}


static u_char *
kl_http_log_line(kl_http_request_t *r, kl_http_log_fmt_t *fmt, u_char *p)
{
    kl_uint_t         i;
    kl_http_log_op_t *op;

    op = fmt->ops.elts;

    for (i = 0; i < fmt->ops.nelts; i++) {
        if (op[i].index < 0) {
            p = kl_cpymem(p, op[i].text.data, op[i].text.len);
        } else {
            p = kl_http_log_copy_value(
                p, kl_http_get_indexed_variable(r, op[i].index), fmt->escape);
        }
    }

    *p++ = '\n';

    return p;
}


/* A line for a log whose path has variables (nginx's script write). */
static void
kl_http_log_script_write(kl_http_request_t *r, kl_http_log_t *log, u_char *buf,
                         size_t len)
{
    kl_fd_t                 fd;
    kl_str_t                path;
    kl_http_log_cached_t   *e;
    kl_http_log_loc_conf_t *llcf;

    if (kl_http_complex_value(r, log->script, &path) != KL_OK) {
        return;
    }

    if (!kl_http_log_path_valid(&path)) {
        kl_log_error(KL_LOG_ERR, r->connection->log, 0,
                     "invalid access_log path \"%s\"", path.data);
        return;
    }

    llcf = kl_http_get_module_loc_conf(r, kl_http_log_module);

    if (llcf->cache) {
        e = kl_http_log_cache_open(llcf->cache, &path, r->connection->log);
        if (e == NULL) {
            return;
        }

        kl_http_log_write(e->fd, e->name, buf, len, 0, &log->error_time,
                          r->connection->log);

        /* Used fewer than min_uses times: not worth a descriptor yet. */
        if (e->uses < llcf->cache->min_uses) {
            close(e->fd);
            e->fd = -1;
        }

        return;
    }

    fd = kl_http_log_open_path(path.data, NULL, r->connection->log);
    if (fd == -1) {
        return;
    }

    kl_http_log_write(fd, path.data, buf, len, 0, &log->error_time,
                      r->connection->log);
    close(fd);
}


/*
 * The line after the syslog header, without its newline, in one datagram.
 * A failed send is not retried; it is logged once a minute per log.
 */
static kl_int_t
kl_http_log_syslog(kl_http_request_t *r, kl_http_log_t *log, size_t len)
{
    u_char           *line, *p;
    ssize_t           n;
    kl_syslog_peer_t *peer;

    peer = log->syslog;

    line = kl_pnalloc(r->pool, KL_SYSLOG_MAX_HEADER + len);
    if (line == NULL) {
        return KL_ERROR;
    }

    p = kl_syslog_header(peer, peer->severity, kl_loop.clock.sec, line);
    p = kl_http_log_line(r, log->format, p) - 1;

    n = kl_syslog_send(peer, line, (size_t) (p - line));

    if (n == p - line || kl_loop.clock.sec - log->error_time < 60) {
        return KL_OK;
    }

    log->error_time = kl_loop.clock.sec;

    if (n == -1) {
        kl_log_error(KL_LOG_WARN, r->connection->log, errno,
                     "send() to syslog server \"%V\" failed", &peer->server);
    } else {
        kl_log_error(KL_LOG_WARN, r->connection->log, 0,
                     "send() to syslog has written only %z of %z", n, p - line);
    }

    return KL_OK;
}


/* Errors while writing say so ("while logging request"), as in nginx. */
static kl_int_t
kl_http_log_handler(kl_http_request_t *r)
{
    kl_int_t    rc;
    const char *action;

    action = r->connection->log->action;
    r->connection->log->action = "logging request";

    rc = kl_http_log_lines(r);

    r->connection->log->action = action;

    return rc;
}


static kl_int_t
kl_http_log_lines(kl_http_request_t *r)
{
    u_char                  *line, *p;
    size_t                   len;
    kl_str_t                 val;
    kl_uint_t                l;
    kl_http_log_t           *log;
    kl_http_log_buf_t       *buffer;
    kl_http_log_loc_conf_t  *llcf;
    kl_http_log_main_conf_t *lmcf;

    llcf = kl_http_get_module_loc_conf(r, kl_http_log_module);

    if (llcf->off || llcf->logs == NULL) {
        return KL_OK;
    }

    lmcf = kl_http_get_module_main_conf(r, kl_http_log_module);
    log = llcf->logs->elts;

    for (l = 0; l < llcf->logs->nelts; l++) {

        if (log[l].filter) {
            if (kl_http_complex_value(r, log[l].filter, &val) != KL_OK) {
                return KL_ERROR;
            }

            if (val.len == 0 || (val.len == 1 && val.data[0] == '0')) {
                continue;
            }
        }

        len = kl_http_log_line_len(r, log[l].format);

        if (log[l].syslog) {
            if (kl_http_log_syslog(r, &log[l], len) != KL_OK) {
                return KL_ERROR;
            }

            continue;
        }

        if (log[l].script) {
            line = kl_pnalloc(r->pool, len);
            if (line == NULL) {
                return KL_ERROR;
            }

            p = kl_http_log_line(r, log[l].format, line);
            kl_http_log_script_write(r, &log[l], line, p - line);
            continue;
        }

        buffer = kl_http_log_find_buffer(lmcf, log[l].file);

        if (buffer) {
            if (len > (size_t) (buffer->last - buffer->pos)) {
                kl_http_log_flush(buffer, r->connection->log);
            }

            if (len <= (size_t) (buffer->last - buffer->pos)) {
                if (buffer->event && buffer->pos == buffer->start) {
                    kl_event_add_timer(buffer->event, buffer->flush);
                }

                buffer->pos = kl_http_log_line(r, log[l].format, buffer->pos);
                continue;
            }

            /* Longer than the whole buffer: written on its own. */
        }

        line = kl_pnalloc(r->pool, len);
        if (line == NULL) {
            return KL_ERROR;
        }

        p = kl_http_log_line(r, log[l].format, line);

        /* with gzip, a line longer than the buffer is a member of its own */
        kl_http_log_write(log[l].file->fd, log[l].file->name.data, line,
                          p - line, buffer ? buffer->gzip : 0,
                          &log[l].error_time, r->connection->log);
    }

    return KL_OK;
}


static void
kl_http_log_flush_handler(kl_event_t *ev)
{
    kl_http_log_flush(ev->data, ev->log);
}


static void
kl_http_log_exit_process(kl_cycle_t *cycle)
{
    kl_uint_t                i;
    kl_http_conf_ctx_t      *ctx;
    kl_http_log_buf_t      **buffer;
    kl_http_log_cache_t    **cache;
    kl_http_log_main_conf_t *lmcf;

    ctx = (kl_http_conf_ctx_t *) cycle->conf_ctx[kl_http_module.index];

    if (ctx == NULL) {
        return;
    }

    lmcf = ctx->main_conf[kl_http_log_module.ctx_index];
    buffer = lmcf->buffers.elts;

    for (i = 0; i < lmcf->buffers.nelts; i++) {
        kl_http_log_flush(buffer[i], cycle->log);
    }

    cache = lmcf->caches.elts;

    for (i = 0; i < lmcf->caches.nelts; i++) {
        kl_http_log_cache_close(cache[i]);
    }
}


static void
kl_http_log_flush_file(kl_open_file_t *file, kl_log_t *log)
{
    kl_http_log_flush(file->data, log);
}
