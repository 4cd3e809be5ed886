/*
 * fuzz_conf.c: libFuzzer target for the configuration language: the
 * tokenizer, the dispatcher, the generic setters and the value parsers.
 *
 * Each input is parsed as a config file (written to a memfd, as
 * kl_conf_parse() reads files) and as a -g string, against a fake module
 * set named like nginx's directives so that real configs make good seeds.
 * include is left out (kl_conf_module is not in the list): it would let
 * inputs read any file on the machine, and it is covered by the unit tests.
 *
 * make fuzz builds it against objs/fuzz/libkiln.a; KL_FUZZ_LOG=1 in the
 * environment shows the parser's messages when replaying one input.
 */

#include "kl_core.h"

#include <sys/mman.h>


#define F_BLOCK_MODULE 0x4b4c4246 /* "FBLK" */
#define F_BLOCK_CONF   KL_HTTP_MAIN_CONF

typedef struct {
    kl_int_t    flag;
    kl_str_t    str;
    kl_array_t *strs;
    kl_int_t    num;
    size_t      size;
    off_t       off;
    kl_msec_t   msec;
    time_t      sec;
    kl_uint_t   mode;
    kl_uint_t   calls;
} f_conf_t;

typedef struct {
    void **conf;
} f_block_ctx_t;


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *f_count(kl_conf_t *cf, kl_command_t *cmd, void *conf);
static char *f_block(kl_conf_t *cf, kl_command_t *cmd, void *conf);
static char *f_nested(kl_conf_t *cf, kl_command_t *cmd, void *conf);
static char *f_types(kl_conf_t *cf, kl_command_t *cmd, void *conf);


static kl_conf_enum_t f_methods[] = { { kl_string("epoll"), 1 },
                                      { kl_string("poll"), 2 },
                                      { kl_null_string, 0 } };

#define F_MAIN (KL_MAIN_CONF | KL_DIRECT_CONF)
#define F_CMD(nm, tp, fn, field)                                               \
    {                                                                          \
        .name = kl_string(nm), .type = F_MAIN | (tp), .set = (fn), .conf = 0,  \
        .offset = offsetof(f_conf_t, field), .post = NULL                      \
    }
#define F_BCMD(nm, tp, fn, field, pst)                                         \
    {                                                                          \
        .name = kl_string(nm), .type = F_BLOCK_CONF | (tp), .set = (fn),       \
        .conf = offsetof(f_block_ctx_t, conf),                                 \
        .offset = offsetof(f_conf_t, field), .post = (pst)                     \
    }

static kl_command_t f_core_commands[] = {
    F_CMD("daemon", KL_CONF_FLAG, kl_conf_set_flag_slot, flag),
    F_CMD("pid", KL_CONF_TAKE1, kl_conf_set_str_slot, str),
    F_CMD("env", KL_CONF_TAKE1, kl_conf_set_str_array_slot, strs),
    F_CMD("worker_processes", KL_CONF_TAKE1, kl_conf_set_num_slot, num),
    F_CMD("worker_rlimit_nofile", KL_CONF_TAKE1, kl_conf_set_size_slot, size),
    F_CMD("worker_shutdown_timeout", KL_CONF_TAKE1, kl_conf_set_msec_slot,
          msec),
    F_CMD("timer_resolution", KL_CONF_TAKE1, kl_conf_set_sec_slot, sec),
    F_CMD("error_log", KL_CONF_1MORE, f_count, calls),
    F_CMD("user", KL_CONF_TAKE12, f_count, calls),
    F_CMD("load_module", KL_CONF_NOARGS | KL_CONF_TAKE2, f_count, calls),
    F_CMD("thread_pool", KL_CONF_2MORE, f_count, calls),
    F_CMD("pcre_jit", KL_CONF_ANY, f_count, calls),
    kl_null_command
};

static kl_command_t f_blockcore_commands[] = {
    { .name = kl_string("http"),
      .type = KL_MAIN_CONF | KL_CONF_BLOCK | KL_CONF_NOARGS,
      .set = f_block,
      .conf = 0,
      .offset = 0,
      .post = NULL },
    { .name = kl_string("events"),
      .type = KL_MAIN_CONF | KL_CONF_BLOCK | KL_CONF_NOARGS,
      .set = f_block,
      .conf = 0,
      .offset = 0,
      .post = NULL },
    kl_null_command
};

static kl_command_t f_block_commands[] = {
    F_BCMD("server", KL_CONF_BLOCK | KL_CONF_NOARGS, f_nested, calls, NULL),
    F_BCMD("location", KL_CONF_BLOCK | KL_CONF_TAKE12, f_nested, calls, NULL),
    F_BCMD("if", KL_CONF_BLOCK | KL_CONF_1MORE, f_nested, calls, NULL),
    F_BCMD("upstream", KL_CONF_BLOCK | KL_CONF_TAKE1, f_nested, calls, NULL),
    F_BCMD("types", KL_CONF_BLOCK | KL_CONF_NOARGS, f_types, calls, NULL),
    F_BCMD("sendfile", KL_CONF_FLAG, kl_conf_set_flag_slot, flag, NULL),
    F_BCMD("root", KL_CONF_TAKE1, kl_conf_set_str_slot, str, NULL),
    F_BCMD("index", KL_CONF_TAKE1, kl_conf_set_str_array_slot, strs, NULL),
    F_BCMD("worker_connections", KL_CONF_TAKE1, kl_conf_set_num_slot, num,
           NULL),
    F_BCMD("client_body_buffer_size", KL_CONF_TAKE1, kl_conf_set_size_slot,
           size, NULL),
    F_BCMD("client_max_body_size", KL_CONF_TAKE1, kl_conf_set_off_slot, off,
           NULL),
    F_BCMD("keepalive_timeout", KL_CONF_TAKE1, kl_conf_set_msec_slot, msec,
           NULL),
    F_BCMD("expires", KL_CONF_TAKE1, kl_conf_set_sec_slot, sec, NULL),
    F_BCMD("use", KL_CONF_TAKE1, kl_conf_set_enum_slot, mode, f_methods),
    F_BCMD("listen", KL_CONF_1MORE, f_count, calls, NULL),
    F_BCMD("server_name", KL_CONF_1MORE, f_count, calls, NULL),
    F_BCMD("return", KL_CONF_TAKE12, f_count, calls, NULL),
    F_BCMD("add_header", KL_CONF_TAKE23, f_count, calls, NULL),
    F_BCMD("rewrite", KL_CONF_TAKE23, f_count, calls, NULL),
    F_BCMD("proxy_pass", KL_CONF_TAKE1, f_count, calls, NULL),
    F_BCMD("log_format", KL_CONF_2MORE, f_count, calls, NULL),
    F_BCMD("set", KL_CONF_TAKE2, f_count, calls, NULL),
    kl_null_command
};

static kl_command_t f_block2_commands[] = {
    F_BCMD("gzip", KL_CONF_FLAG, kl_conf_set_flag_slot, flag, NULL),
    F_BCMD("access_log", KL_CONF_1MORE, f_count, calls, NULL), kl_null_command
};

static kl_module_t f_core_module = {
    .name = "f_core_module",
    .type = KL_CORE_MODULE,
    .commands = f_core_commands,
};

static kl_module_t f_blockcore_module = {
    .name = "f_blockcore_module",
    .type = KL_CORE_MODULE,
    .commands = f_blockcore_commands,
};

static kl_module_t f_block_module = {
    .name = "f_block_module",
    .type = F_BLOCK_MODULE,
    .commands = f_block_commands,
};

static kl_module_t f_block2_module = {
    .name = "f_block2_module",
    .type = F_BLOCK_MODULE,
    .commands = f_block2_commands,
};

kl_module_t *kl_modules[] = { &f_core_module, &f_blockcore_module,
                              &f_block_module, &f_block2_module, NULL };

const char *kl_module_names[] = { "f_core_module", "f_blockcore_module",
                                  "f_block_module", "f_block2_module", NULL };


static int            f_fd = -1;
static char           f_path[32];
static kl_open_file_t f_log_file;
static kl_log_t       f_log;


static f_conf_t *
f_conf_create(kl_pool_t *pool)
{
    f_conf_t *c;

    c = kl_pcalloc(pool, sizeof(f_conf_t));
    if (c == NULL) {
        return NULL;
    }

    c->flag = KL_CONF_UNSET;
    c->strs = KL_CONF_UNSET_PTR;
    c->num = KL_CONF_UNSET;
    c->size = KL_CONF_UNSET_SIZE;
    c->off = KL_CONF_UNSET;
    c->msec = KL_CONF_UNSET_MSEC;
    c->sec = KL_CONF_UNSET;
    c->mode = KL_CONF_UNSET_UINT;

    return c;
}


static char *
f_count(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    (void) cf;
    (void) cmd;

    ((f_conf_t *) conf)->calls++;

    return KL_CONF_OK;
}


static char *
f_block(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    char          *rv;
    kl_uint_t      i, n;
    kl_conf_t      save;
    f_block_ctx_t *ctx;

    (void) cmd;

    n = kl_modules_count(F_BLOCK_MODULE);

    ctx = kl_pcalloc(cf->pool, sizeof(f_block_ctx_t));
    if (ctx == NULL) {
        return KL_CONF_ERROR;
    }

    ctx->conf = kl_pcalloc(cf->pool, n * sizeof(void *));
    if (ctx->conf == NULL) {
        return KL_CONF_ERROR;
    }

    for (i = 0; i < n; i++) {
        ctx->conf[i] = f_conf_create(cf->pool);
        if (ctx->conf[i] == NULL) {
            return KL_CONF_ERROR;
        }
    }

    *(f_block_ctx_t **) conf = ctx;

    save = *cf;
    cf->ctx = ctx;
    cf->module_type = F_BLOCK_MODULE;
    cf->cmd_type = F_BLOCK_CONF;

    rv = kl_conf_parse(cf, NULL);

    *cf = save;

    return rv;
}


static char *
f_nested(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    (void) cmd;

    ((f_conf_t *) conf)->calls++;

    return kl_conf_parse(cf, NULL);
}


static char *
f_types_line(kl_conf_t *cf, kl_command_t *dummy, void *conf)
{
    kl_str_t *value;

    (void) dummy;

    value = cf->args->elts;

    if (cf->args->nelts == 1) {
        return "is not a type line";
    }

    if (value[1].len == 0) {
        return KL_CONF_ERROR;
    }

    ((f_conf_t *) conf)->calls++;

    return KL_CONF_OK;
}


static char *
f_types(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    char     *rv;
    kl_conf_t save;

    (void) cmd;

    save = *cf;
    cf->handler = f_types_line;
    cf->handler_conf = conf;

    rv = kl_conf_parse(cf, NULL);

    *cf = save;

    return rv;
}


/*
 * The input goes to a memfd, which kl_conf_parse() opens by its /proc
 * name: a disk file would be flushed on every truncate, at 10x the cost.
 */
static int
f_init(void)
{
    f_fd = memfd_create("kl_fuzz_conf", 0);
    if (f_fd == -1) {
        return -1;
    }

    (void) snprintf(f_path, sizeof(f_path), "/proc/self/fd/%d", f_fd);

    if (getenv("KL_FUZZ_LOG")) {
        f_log_file.fd = STDERR_FILENO;
        kl_str_set(&f_log_file.name, "stderr");

    } else {
        f_log_file.fd = open("/dev/null", O_WRONLY);
        kl_str_set(&f_log_file.name, "/dev/null");
    }

    f_log.file = &f_log_file;
    f_log.log_level = KL_LOG_DEBUG;

    kl_modules_init();

    return 0;
}


static void
f_values(const uint8_t *data, size_t size)
{
    kl_str_t line;

    line.data = (u_char *) data;
    line.len = size;

    (void) kl_conf_parse_size(&line);
    (void) kl_conf_parse_offset(&line);
    (void) kl_conf_parse_time(&line, 0);
    (void) kl_conf_parse_time(&line, 1);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    kl_str_t    name, param;
    kl_conf_t   cf;
    kl_pool_t  *pool;
    kl_cycle_t *cycle;

    if (f_fd == -1 && f_init() != 0) {
        return 0;
    }

    if (size <= 64) {
        f_values(data, size);
    }

    if ((size && pwrite(f_fd, data, size, 0) != (ssize_t) size)
        || ftruncate(f_fd, (off_t) size) != 0)
    {
        return 0;
    }

    pool = kl_pool_create(KL_DEFAULT_POOL_SIZE, &f_log);
    if (pool == NULL) {
        return 0;
    }

    cycle = kl_pcalloc(pool, sizeof(kl_cycle_t));
    if (cycle == NULL) {
        goto done;
    }

    cycle->pool = pool;
    cycle->log = &f_log;
    cycle->conf_ctx = kl_pcalloc(pool, 4 * sizeof(void *));
    if (cycle->conf_ctx == NULL) {
        goto done;
    }

    cycle->conf_ctx[f_core_module.index] = f_conf_create(pool);
    if (cycle->conf_ctx[f_core_module.index] == NULL
        || kl_array_init(&cycle->config_dump, pool, 1, sizeof(kl_conf_dump_t))
               != KL_OK)
    {
        goto done;
    }

    kl_str_set(&cycle->conf_prefix, "/nonexistent/");
    kl_str_set(&cycle->prefix, "/nonexistent/");

    kl_memzero(&cf, sizeof(kl_conf_t));
    cf.args = kl_array_create(pool, 10, sizeof(kl_str_t));
    if (cf.args == NULL) {
        goto done;
    }

    cf.pool = pool;
    cf.cycle = cycle;
    cf.log = &f_log;
    cf.ctx = cycle->conf_ctx;
    cf.module_type = KL_CORE_MODULE;
    cf.cmd_type = KL_MAIN_CONF;

    /* as -g: the same bytes, from memory, into the same confs */
    param.data = (u_char *) data;
    param.len = size;
    (void) kl_conf_param(&cf, &param);

    /* fresh confs, so that the file's directives are not all duplicates */
    cycle->conf_ctx[f_core_module.index] = f_conf_create(pool);
    cycle->conf_ctx[f_blockcore_module.index] = NULL;
    if (cycle->conf_ctx[f_core_module.index] == NULL) {
        goto done;
    }

    name.data = (u_char *) f_path;
    name.len = strlen(f_path);
    (void) kl_conf_parse(&cf, &name);

    if (cf.conf_file != NULL || cf.depth != 0) {
        abort();
    }

done:

    kl_pool_free(pool);

    return 0;
}
