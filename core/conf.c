/*
 * conf.c: the nginx configuration language: tokenizer, dispatch, include,
 * error reporting and the generic setters.
 *
 * A file is read whole into memory (for -T it stays in the cycle's pool as
 * its dump), so the tokenizer walks one contiguous buffer and needs no
 * refill logic; tokens are copied into cf->pool with escapes resolved,
 * because setters keep pointers to them for the life of the cycle. The
 * tokenizer and the dispatcher follow nginx's ngx_conf_file.c closely,
 * quirks included (a quoted token must be followed by a space, ';', '{' or
 * ')'; an unknown backslash escape is kept as is), since configs written
 * for nginx must parse the same way.
 */

#include "kl_core.h"


/* Blocks and includes deeper than this are a loop or an attack. */
#define KL_CONF_MAX_DEPTH 64

/* What ends a kl_conf_parse() call: EOF of a file, '}', or end of -g. */
#define KL_CONF_PARSE_FILE  0
#define KL_CONF_PARSE_BLOCK 1
#define KL_CONF_PARSE_PARAM 2


/* The tokenizer's state within one directive. */
typedef struct {
    u_char  *start;        /* the current word's first byte */
    u_char  *brace;        /* just after an unclosed "${" */
    unsigned last_space:1; /* between words */
    unsigned need_space:1; /* a quote just closed */
    unsigned sharp_comment:1;
    unsigned variable:1; /* the previous byte was '$' */
    unsigned quoted:1;   /* the previous byte was '\' */
    unsigned s_quoted:1;
    unsigned d_quoted:1;
} kl_conf_token_t;


static kl_int_t  kl_conf_open(kl_conf_t *cf, kl_str_t *name,
                              kl_conf_file_t *file, kl_buf_t *b);
static kl_int_t  kl_conf_read(kl_conf_t *cf, kl_file_t *file, u_char *buf,
                              size_t size);
static kl_uint_t kl_conf_dumped(kl_cycle_t *cycle, kl_str_t *name);
static kl_int_t  kl_conf_loop(kl_conf_t *cf, kl_uint_t type);
static kl_int_t  kl_conf_read_token(kl_conf_t *cf);
static kl_int_t  kl_conf_token_start(kl_conf_t *cf, kl_conf_token_t *t,
                                     u_char ch);
static kl_uint_t kl_conf_token_end(kl_conf_token_t *t, u_char ch, u_char *pos);
static kl_int_t  kl_conf_token_eof(kl_conf_t *cf, kl_uint_t last_space);
static kl_int_t  kl_conf_push_word(kl_conf_t *cf, u_char *src, u_char *end,
                                   u_char *brace);
static kl_int_t  kl_conf_handler(kl_conf_t *cf, kl_int_t last);
static kl_uint_t kl_conf_args_valid(kl_uint_t type, kl_uint_t nelts);
static void     *kl_conf_slot(kl_conf_t *cf, kl_module_t *module,
                              kl_command_t *cmd);
static off_t kl_conf_parse_scaled(kl_str_t *line, off_t max, kl_uint_t giga);


/* The argument-count bit for a directive of n words, name included. */
static kl_uint_t kl_conf_argument_number[] = {
    KL_CONF_NOARGS, KL_CONF_TAKE1, KL_CONF_TAKE2, KL_CONF_TAKE3,
    KL_CONF_TAKE4,  KL_CONF_TAKE5, KL_CONF_TAKE6, KL_CONF_TAKE7,
};


/* Directive tables keep one field a line, as nginx's do. */
/* clang-format off */
static kl_command_t kl_conf_commands[] = {

    { .name = kl_string("include"),
      .type = KL_ANY_CONF | KL_HTTP_LMT_CONF | KL_CONF_TAKE1,
      .set = kl_conf_include,
      .conf = 0,
      .offset = 0,
      .post = NULL },

    kl_null_command
};
/* clang-format on */


static kl_core_module_t kl_conf_module_ctx = {
    .create_conf = NULL,
    .init_conf = NULL,
};


/*
 * Its directives are valid in every module type's blocks (the dispatcher
 * knows this module by address), like nginx's NGX_CONF_MODULE.
 */
kl_module_t kl_conf_module = {
    .name = "kl_conf_module",
    .index = KL_MODULE_UNSET_INDEX,
    .ctx_index = KL_MODULE_UNSET_INDEX,
    .type = KL_CORE_MODULE,
    .ctx = &kl_conf_module_ctx,
    .commands = kl_conf_commands,
};


char *
kl_conf_param(kl_conf_t *cf, kl_str_t *param)
{
    char          *rv;
    kl_buf_t       b;
    kl_conf_file_t conf_file, *prev;

    if (param == NULL || param->len == 0) {
        return KL_CONF_OK;
    }

    kl_memzero(&conf_file, sizeof(kl_conf_file_t));
    kl_memzero(&b, sizeof(kl_buf_t));

    b.start = param->data;
    b.pos = param->data;
    b.last = param->data + param->len;
    b.end = b.last;
    b.memory = 1;

    /* no file name: errors say "in command line" */
    conf_file.file.fd = KL_INVALID_FILE;
    conf_file.buffer = &b;

    prev = cf->conf_file;
    cf->conf_file = &conf_file;

    rv = kl_conf_parse(cf, NULL);

    cf->conf_file = prev;

    return rv;
}


char *
kl_conf_parse(kl_conf_t *cf, kl_str_t *filename)
{
    kl_int_t       rc;
    kl_buf_t       b;
    kl_uint_t      type;
    kl_conf_file_t conf_file, *prev;

    if (cf->args == NULL) {
        cf->args = kl_array_create(cf->pool, 10, sizeof(kl_str_t));
        if (cf->args == NULL) {
            return KL_CONF_ERROR;
        }
    }

    if (filename == NULL && cf->conf_file == NULL) {
        kl_log_error(KL_LOG_ALERT, cf->log, 0,
                     "kl_conf_parse() called without a file");
        return KL_CONF_ERROR;
    }

    if (cf->depth >= KL_CONF_MAX_DEPTH) {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                          "blocks and includes are nested more than %d "
                          "levels deep",
                          KL_CONF_MAX_DEPTH);
        return KL_CONF_ERROR;
    }

    prev = cf->conf_file;

    if (filename) {
        if (kl_conf_open(cf, filename, &conf_file, &b) != KL_OK) {
            return KL_CONF_ERROR;
        }

        cf->conf_file = &conf_file;
        type = KL_CONF_PARSE_FILE;

    } else if (cf->conf_file->file.name.data) {
        type = KL_CONF_PARSE_BLOCK;

    } else {
        type = KL_CONF_PARSE_PARAM;
    }

    cf->depth++;
    rc = kl_conf_loop(cf, type);
    cf->depth--;

    if (filename) {
        /* a dumped file's bytes belong to the cycle; others were ours */
        if (conf_file.dump == NULL && b.start) {
            kl_free(b.start);
        }

        cf->conf_file = prev;
    }

    return (rc == KL_OK) ? KL_CONF_OK : KL_CONF_ERROR;
}


/*
 * Open name and read it whole into b: into the cycle's pool when it is the
 * first time this file is seen (that copy is its -T dump), into the heap
 * otherwise. Errors are logged against the including file.
 */
static kl_int_t
kl_conf_open(kl_conf_t *cf, kl_str_t *name, kl_conf_file_t *file, kl_buf_t *b)
{
    size_t          size;
    u_char         *data;
    kl_int_t        rc;
    kl_buf_t       *dump;
    kl_conf_dump_t *cd;

    kl_memzero(file, sizeof(kl_conf_file_t));
    kl_memzero(b, sizeof(kl_buf_t));

    file->file.name.len = name->len;
    file->file.name.data = kl_pstrdup(cf->pool, name);
    if (file->file.name.data == NULL) {
        return KL_ERROR;
    }

    file->file.fd =
        kl_open_file(file->file.name.data, KL_FILE_RDONLY, KL_FILE_OPEN, 0);
    if (file->file.fd == KL_INVALID_FILE) {
        kl_conf_log_error(KL_LOG_EMERG, cf, kl_errno, "open() \"%V\" failed",
                          &file->file.name);
        return KL_ERROR;
    }

    file->file.log = cf->log;
    file->line = 1;

    if (kl_fd_info(file->file.fd, &file->file.info) == -1) {
        kl_conf_log_error(KL_LOG_EMERG, cf, kl_errno, "fstat() \"%V\" failed",
                          &file->file.name);
        kl_close_file(file->file.fd);
        return KL_ERROR;
    }

    size = (size_t) file->file.info.st_size;
    dump = NULL;

    if (kl_conf_dumped(cf->cycle, &file->file.name)) {
        data = kl_alloc(size + 1, cf->log);

    } else {
        dump = kl_buf_create_temp(cf->cycle->pool, size + 1);
        data = dump ? dump->start : NULL;
    }

    if (data == NULL) {
        kl_close_file(file->file.fd);
        return KL_ERROR;
    }

    rc = kl_conf_read(cf, &file->file, data, size);

    kl_close_file(file->file.fd);
    file->file.fd = KL_INVALID_FILE;

    if (rc != KL_OK) {
        if (dump == NULL) {
            kl_free(data);
        }

        return KL_ERROR;
    }

    if (dump) {
        cd = kl_array_push(&cf->cycle->config_dump);
        if (cd == NULL) {
            return KL_ERROR;
        }

        dump->pos = dump->start;
        dump->last = dump->start + size;
        cd->name = file->file.name;
        cd->buffer = dump;
        file->dump = dump;
    }

    b->start = data;
    b->pos = data;
    b->last = data + size;
    b->end = b->last;
    b->memory = 1;
    file->buffer = b;

    return KL_OK;
}


static kl_int_t
kl_conf_read(kl_conf_t *cf, kl_file_t *file, u_char *buf, size_t size)
{
    size_t  done;
    ssize_t n;

    for (done = 0; done < size; done += n) {
        n = kl_read_file(file, buf + done, size - done, (off_t) done);

        if (n == -1) {
            kl_conf_log_error(KL_LOG_EMERG, cf, kl_errno,
                              "pread() \"%V\" failed", &file->name);
            return KL_ERROR;
        }

        if (n == 0) {
            kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                              "pread() \"%V\" returned only %uz bytes "
                              "instead of %uz",
                              &file->name, done, size);
            return KL_ERROR;
        }
    }

    return KL_OK;
}


/* Whether name is already in config_dump (an include seen twice). */
static kl_uint_t
kl_conf_dumped(kl_cycle_t *cycle, kl_str_t *name)
{
    kl_uint_t       i;
    kl_conf_dump_t *cd;

    if (cycle->config_dump.elts == NULL) {
        if (kl_array_init(&cycle->config_dump, cycle->pool, 1,
                          sizeof(kl_conf_dump_t))
            != KL_OK)
        {
            return 1;
        }
    }

    cd = cycle->config_dump.elts;

    for (i = 0; i < cycle->config_dump.nelts; i++) {
        if (cd[i].name.len == name->len
            && kl_strncmp(cd[i].name.data, name->data, name->len) == 0)
        {
            return 1;
        }
    }

    return 0;
}


static kl_int_t
kl_conf_loop(kl_conf_t *cf, kl_uint_t type)
{
    char    *rv;
    kl_int_t rc;

    for (;;) {
        rc = kl_conf_read_token(cf);

        if (rc == KL_ERROR) {
            return KL_ERROR;
        }

        if (rc == KL_CONF_BLOCK_DONE) {
            if (type != KL_CONF_PARSE_BLOCK) {
                kl_conf_log_error(KL_LOG_EMERG, cf, 0, "unexpected \"}\"");
                return KL_ERROR;
            }

            return KL_OK;
        }

        if (rc == KL_CONF_FILE_DONE) {
            if (type == KL_CONF_PARSE_BLOCK) {
                kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                                  "unexpected end of file, expecting \"}\"");
                return KL_ERROR;
            }

            return KL_OK;
        }

        if (rc == KL_CONF_BLOCK_START && type == KL_CONF_PARSE_PARAM) {
            kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                              "block directives are not supported "
                              "in -g option");
            return KL_ERROR;
        }

        if (cf->handler) {
            /* lines of types { }, map { }: not directives */
            if (rc == KL_CONF_BLOCK_START) {
                kl_conf_log_error(KL_LOG_EMERG, cf, 0, "unexpected \"{\"");
                return KL_ERROR;
            }

            rv = cf->handler(cf, NULL, cf->handler_conf);

            if (rv == KL_CONF_OK) {
                continue;
            }

            if (rv != KL_CONF_ERROR) {
                kl_conf_log_error(KL_LOG_EMERG, cf, 0, "%s", rv);
            }

            return KL_ERROR;
        }

        if (kl_conf_handler(cf, rc) != KL_OK) {
            return KL_ERROR;
        }
    }
}


#define kl_conf_is_space(ch)                                                   \
    ((ch) == ' ' || (ch) == '\t' || (ch) == KL_CR || (ch) == KL_LF)

/*
 * Read one directive's words into cf->args. Returns KL_OK (ended by ';'),
 * KL_CONF_BLOCK_START ('{'), KL_CONF_BLOCK_DONE ('}'), KL_CONF_FILE_DONE
 * or KL_ERROR (logged). The flags are nginx's: a word starts after a
 * space (last_space); a closed quote needs a separator (need_space).
 */
static kl_int_t
kl_conf_read_token(kl_conf_t *cf)
{
    u_char          ch;
    kl_int_t        rc;
    kl_buf_t       *b;
    kl_conf_token_t t;

    kl_memzero(&t, sizeof(kl_conf_token_t));
    t.last_space = 1;

    cf->args->nelts = 0;
    b = cf->conf_file->buffer;
    t.start = b->pos;

    for (;;) {

        if (b->pos >= b->last) {
            return kl_conf_token_eof(cf, t.last_space);
        }

        ch = *b->pos++;

        if (ch == KL_LF) {
            cf->conf_file->line++;
            t.sharp_comment = 0;
        }

        if (t.sharp_comment) {
            continue;
        }

        if (t.quoted) {
            t.quoted = 0;
            continue;
        }

        if (t.need_space) {
            if (kl_conf_is_space(ch)) {
                t.last_space = 1;
                t.need_space = 0;
                continue;
            }

            if (ch == ';') {
                return KL_OK;
            }

            if (ch == '{') {
                return KL_CONF_BLOCK_START;
            }

            if (ch != ')') {
                kl_conf_log_error(KL_LOG_EMERG, cf, 0, "unexpected \"%c\"", ch);
                return KL_ERROR;
            }

            /* "if ($a = "b")": the ')' starts a word of its own */
            t.last_space = 1;
            t.need_space = 0;
        }

        if (t.last_space) {
            t.start = b->pos - 1;
            rc = kl_conf_token_start(cf, &t, ch);

            if (rc != KL_AGAIN) {
                return rc;
            }

            continue;
        }

        if (!kl_conf_token_end(&t, ch, b->pos)) {
            continue;
        }

        if (kl_conf_push_word(cf, t.start, b->pos - 1, t.brace) != KL_OK) {
            return KL_ERROR;
        }

        if (ch == ';') {
            return KL_OK;
        }

        if (ch == '{') {
            return KL_CONF_BLOCK_START;
        }

        t.brace = NULL;
    }
}


/*
 * ch is the first byte after a separator: a word begins, or a directive
 * ends. KL_AGAIN to read on, else read_token's result.
 */
static kl_int_t
kl_conf_token_start(kl_conf_t *cf, kl_conf_token_t *t, u_char ch)
{
    if (kl_conf_is_space(ch)) {
        return KL_AGAIN;
    }

    switch (ch) {

    case ';':
    case '{':
        if (cf->args->nelts == 0) {
            kl_conf_log_error(KL_LOG_EMERG, cf, 0, "unexpected \"%c\"", ch);
            return KL_ERROR;
        }

        return (ch == '{') ? KL_CONF_BLOCK_START : KL_OK;

    case '}':
        if (cf->args->nelts != 0) {
            kl_conf_log_error(KL_LOG_EMERG, cf, 0, "unexpected \"}\"");
            return KL_ERROR;
        }

        return KL_CONF_BLOCK_DONE;

    case '#':
        t->sharp_comment = 1;
        return KL_AGAIN;

    case '\\':
        t->quoted = 1;
        break;

    case '"':
        t->start++;
        t->d_quoted = 1;
        break;

    case '\'':
        t->start++;
        t->s_quoted = 1;
        break;

    case '$':
        t->variable = 1;
        break;
    }

    t->last_space = 0;

    return KL_AGAIN;
}


/*
 * ch is a byte inside a word (pos is just past it): returns 1 when it ends
 * the word. "${" keeps its '{', which otherwise ends the word and opens a
 * block; brace remembers an unclosed one.
 */
static kl_uint_t
kl_conf_token_end(kl_conf_token_t *t, u_char ch, u_char *pos)
{
    if (ch == '{' && t->variable) {
        if (t->brace == NULL) {
            t->brace = pos;
        }

        return 0;
    }

    t->variable = 0;

    switch (ch) {

    case '}':
        t->brace = NULL;
        break;

    case '\\':
        t->quoted = 1;
        return 0;

    case '$':
        t->variable = 1;
        return 0;
    }

    if (t->d_quoted) {
        if (ch == '"') {
            t->d_quoted = 0;
            t->need_space = 1;
            return 1;
        }

        return 0;
    }

    if (t->s_quoted) {
        if (ch == '\'') {
            t->s_quoted = 0;
            t->need_space = 1;
            return 1;
        }

        return 0;
    }

    if (kl_conf_is_space(ch) || ch == ';' || ch == '{') {
        t->last_space = 1;
        return 1;
    }

    return 0;
}


static kl_int_t
kl_conf_token_eof(kl_conf_t *cf, kl_uint_t last_space)
{
    if (cf->args->nelts == 0 && last_space) {
        return KL_CONF_FILE_DONE;
    }

    if (cf->conf_file->file.name.data == NULL) {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                          "unexpected end of parameter, expecting \";\"");
        return KL_ERROR;
    }

    kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                      "unexpected end of file, expecting \";\" or \"}\"");
    return KL_ERROR;
}


/*
 * Append the word [src, end) to cf->args with \" \' \\ \t \r \n resolved;
 * any other backslash stays. brace, when set, points after an unclosed
 * "${", which no later stage could make sense of.
 */
static kl_int_t
kl_conf_push_word(kl_conf_t *cf, u_char *src, u_char *end, u_char *brace)
{
    u_char   *dst, *p;
    size_t    len;
    kl_str_t *word;

    if (brace) {
        for (p = brace; p < end; p++) {
            if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
                  || (*p >= '0' && *p <= '9') || *p == '_'))
            {
                break;
            }
        }

        kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                          "the closing bracket in \"%*s\" variable "
                          "is missing",
                          (size_t) (p - brace), brace);
        return KL_ERROR;
    }

    word = kl_array_push(cf->args);
    if (word == NULL) {
        return KL_ERROR;
    }

    word->data = kl_pnalloc(cf->pool, end - src + 1);
    if (word->data == NULL) {
        return KL_ERROR;
    }

    for (dst = word->data, len = 0; src < end; len++) {

        if (*src == '\\' && src + 1 < end) {
            switch (src[1]) {

            case '"':
            case '\'':
            case '\\':
                src++;
                break;

            case 't':
                *dst++ = '\t';
                src += 2;
                continue;

            case 'r':
                *dst++ = '\r';
                src += 2;
                continue;

            case 'n':
                *dst++ = '\n';
                src += 2;
                continue;
            }
        }

        *dst++ = *src++;
    }

    *dst = '\0';
    word->len = len;

    return KL_OK;
}


/*
 * Find the directive cf->args names among the modules of the current type
 * and run its setter. A name known elsewhere is "not allowed here"; one
 * known nowhere is "unknown".
 */
static kl_int_t
kl_conf_handler(kl_conf_t *cf, kl_int_t last)
{
    char         *rv;
    void         *conf;
    kl_str_t     *name;
    kl_uint_t     i, found;
    const char   *reason;
    kl_module_t  *module;
    kl_command_t *cmd;

    name = cf->args->elts;
    found = 0;

    for (i = 0; kl_modules[i]; i++) {
        module = kl_modules[i];
        cmd = module->commands;

        if (cmd == NULL) {
            continue;
        }

        for (/* void */; cmd->name.len; cmd++) {

            if (name->len != cmd->name.len
                || kl_strncmp(name->data, cmd->name.data, name->len) != 0)
            {
                continue;
            }

            found = 1;

            if (module != &kl_conf_module && module->type != cf->module_type) {
                continue;
            }

            if (!(cmd->type & cf->cmd_type)) {
                continue;
            }

            if (!(cmd->type & KL_CONF_BLOCK) && last != KL_OK) {
                kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                                  "directive \"%V\" is not terminated by "
                                  "\";\"",
                                  &cmd->name);
                return KL_ERROR;
            }

            if ((cmd->type & KL_CONF_BLOCK) && last != KL_CONF_BLOCK_START) {
                kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                                  "directive \"%V\" has no opening \"{\"",
                                  &cmd->name);
                return KL_ERROR;
            }

            if (!kl_conf_args_valid(cmd->type, cf->args->nelts)) {
                kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                                  "invalid number of arguments in \"%V\" "
                                  "directive",
                                  &cmd->name);
                return KL_ERROR;
            }

            conf = kl_conf_slot(cf, module, cmd);

            rv = cmd->set(cf, cmd, conf);

            if (rv == KL_CONF_OK) {
                return KL_OK;
            }

            /* cmd->name, not cf->args: a block's setter reused the args */
            if (rv != KL_CONF_ERROR) {
                kl_conf_log_error(KL_LOG_EMERG, cf, 0, "\"%V\" directive %s",
                                  &cmd->name, rv);
            }

            return KL_ERROR;
        }
    }

    if (found) {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                          "\"%V\" directive is not allowed here", name);
        return KL_ERROR;
    }

    reason = kl_conf_absent_reason(name);

    kl_conf_log_error(KL_LOG_EMERG, cf, 0, "unknown directive \"%V\"%s%s", name,
                      reason ? ": " : "", reason ? reason : "");
    return KL_ERROR;
}


/* nelts counts the directive's name too. */
static kl_uint_t
kl_conf_args_valid(kl_uint_t type, kl_uint_t nelts)
{
    if (type & KL_CONF_ANY) {
        return 1;
    }

    if (type & KL_CONF_FLAG) {
        return nelts == 2;
    }

    if (type & KL_CONF_1MORE) {
        return nelts >= 2;
    }

    if (type & KL_CONF_2MORE) {
        return nelts >= 3;
    }

    if (nelts == 0 || nelts > KL_CONF_MAX_ARGS) {
        return 0;
    }

    return (type & kl_conf_argument_number[nelts - 1]) != 0;
}


/*
 * The conf a setter receives. Core modules: their struct in the cycle's
 * conf_ctx (KL_DIRECT_CONF) or the address of its slot, for block
 * directives that create their own context. Other types: cmd->conf is the
 * offset of a conf array in the block's context struct.
 */
static void *
kl_conf_slot(kl_conf_t *cf, kl_module_t *module, kl_command_t *cmd)
{
    void **confp;

    if (module == &kl_conf_module || cf->ctx == NULL) {
        return NULL;
    }

    if (module->type == KL_CORE_MODULE) {
        if (cmd->type & KL_DIRECT_CONF) {
            return ((void **) cf->ctx)[module->index];
        }

        return &((void **) cf->ctx)[module->index];
    }

    confp = *(void ***) ((char *) cf->ctx + cmd->conf);

    return confp ? confp[module->ctx_index] : NULL;
}


char *
kl_conf_include(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    char     *rv;
    kl_int_t  n;
    kl_str_t *value, file, name;
    kl_glob_t gl;

    (void) cmd;
    (void) conf;

    value = cf->args->elts;
    file = value[1];

    if (kl_conf_full_name(cf->cycle, &file, 1) != KL_OK) {
        return KL_CONF_ERROR;
    }

    if (!kl_glob_is_pattern(&file)) {
        return kl_conf_parse(cf, &file);
    }

    kl_memzero(&gl, sizeof(kl_glob_t));

    gl.pattern = file;
    gl.log = cf->log;
    gl.test = 1;

    if (kl_glob_open(&gl) != KL_OK) {
        kl_conf_log_error(KL_LOG_EMERG, cf, kl_errno, "glob() \"%V\" failed",
                          &file);
        return KL_CONF_ERROR;
    }

    rv = KL_CONF_OK;

    for (;;) {
        n = kl_glob_next(&gl, &name);

        if (n != KL_OK) {
            break;
        }

        /* kl_conf_parse() copies the borrowed name */
        rv = kl_conf_parse(cf, &name);

        if (rv != KL_CONF_OK) {
            break;
        }
    }

    kl_glob_close(&gl);

    return rv;
}


kl_int_t
kl_conf_full_name(kl_cycle_t *cycle, kl_str_t *name, kl_uint_t conf_prefix)
{
    kl_str_t *prefix;

    prefix = conf_prefix ? &cycle->conf_prefix : &cycle->prefix;

    return kl_file_full_name(cycle->pool, prefix, name);
}


void
kl_conf_log_error(kl_uint_t level, kl_conf_t *cf, kl_err_t err, const char *fmt,
                  ...)
{
    u_char  errstr[KL_MAX_CONF_ERRSTR], *p, *last;
    size_t  len;
    va_list args;

    last = errstr + KL_MAX_CONF_ERRSTR;

    va_start(args, fmt);
    p = kl_vslprintf(errstr, last, fmt, args);
    va_end(args);

    if (err) {
        p = kl_log_errno(p, last, err);
    }

    len = p - errstr;

    if (cf->conf_file == NULL) {
        kl_log_error(level, cf->log, 0, "%*s", len, errstr);
        return;
    }

    if (cf->conf_file->file.name.data == NULL) {
        kl_log_error(level, cf->log, 0, "%*s in command line", len, errstr);
        return;
    }

    kl_log_error(level, cf->log, 0, "%*s in %V:%ui", len, errstr,
                 &cf->conf_file->file.name, cf->conf_file->line);
}


char *
kl_conf_set_flag_slot(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    char     *p;
    kl_int_t *fp;
    kl_str_t *value;

    p = conf;
    fp = (kl_int_t *) (p + cmd->offset);

    if (*fp != KL_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (kl_strcasecmp(value[1].data, (u_char *) "on") == 0) {
        *fp = 1;

    } else if (kl_strcasecmp(value[1].data, (u_char *) "off") == 0) {
        *fp = 0;

    } else {
        kl_conf_log_error(KL_LOG_EMERG, cf, 0,
                          "invalid value \"%V\" in \"%V\" directive, "
                          "it must be \"on\" or \"off\"",
                          &value[1], &cmd->name);
        return KL_CONF_ERROR;
    }

    return KL_CONF_OK;
}


char *
kl_conf_set_str_slot(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    char     *p;
    kl_str_t *field, *value;

    p = conf;
    field = (kl_str_t *) (p + cmd->offset);

    if (field->data) {
        return "is duplicate";
    }

    value = cf->args->elts;
    *field = value[1];

    return KL_CONF_OK;
}


char *
kl_conf_set_str_array_slot(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    char        *p;
    kl_str_t    *value, *s;
    kl_array_t **a;

    p = conf;
    a = (kl_array_t **) (p + cmd->offset);

    if (*a == KL_CONF_UNSET_PTR || *a == NULL) {
        *a = kl_array_create(cf->pool, 4, sizeof(kl_str_t));
        if (*a == NULL) {
            return KL_CONF_ERROR;
        }
    }

    s = kl_array_push(*a);
    if (s == NULL) {
        return KL_CONF_ERROR;
    }

    value = cf->args->elts;
    *s = value[1];

    return KL_CONF_OK;
}


char *
kl_conf_set_num_slot(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    char     *p;
    kl_int_t *np;
    kl_str_t *value;

    p = conf;
    np = (kl_int_t *) (p + cmd->offset);

    if (*np != KL_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;
    *np = kl_atoi(value[1].data, value[1].len);

    if (*np == KL_ERROR) {
        return "invalid number";
    }

    return KL_CONF_OK;
}


char *
kl_conf_set_size_slot(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    char     *p;
    size_t   *sp;
    kl_str_t *value;

    p = conf;
    sp = (size_t *) (p + cmd->offset);

    if (*sp != KL_CONF_UNSET_SIZE) {
        return "is duplicate";
    }

    value = cf->args->elts;
    *sp = kl_conf_parse_size(&value[1]);

    if (*sp == (size_t) KL_ERROR) {
        return "invalid value";
    }

    return KL_CONF_OK;
}


char *
kl_conf_set_off_slot(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    char     *p;
    off_t    *op;
    kl_str_t *value;

    p = conf;
    op = (off_t *) (p + cmd->offset);

    if (*op != KL_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;
    *op = kl_conf_parse_offset(&value[1]);

    if (*op == (off_t) KL_ERROR) {
        return "invalid value";
    }

    return KL_CONF_OK;
}


char *
kl_conf_set_msec_slot(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    char      *p;
    kl_str_t  *value;
    kl_msec_t *msp;

    p = conf;
    msp = (kl_msec_t *) (p + cmd->offset);

    if (*msp != KL_CONF_UNSET_MSEC) {
        return "is duplicate";
    }

    value = cf->args->elts;
    *msp = kl_conf_parse_time(&value[1], 0);

    if (*msp == (kl_msec_t) KL_ERROR) {
        return "invalid value";
    }

    return KL_CONF_OK;
}


char *
kl_conf_set_sec_slot(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    char     *p;
    time_t   *sp;
    kl_str_t *value;

    p = conf;
    sp = (time_t *) (p + cmd->offset);

    if (*sp != KL_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;
    *sp = kl_conf_parse_time(&value[1], 1);

    if (*sp == (time_t) KL_ERROR) {
        return "invalid value";
    }

    return KL_CONF_OK;
}


char *
kl_conf_set_enum_slot(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    char           *p;
    kl_uint_t      *np, i;
    kl_str_t       *value;
    kl_conf_enum_t *e;

    p = conf;
    np = (kl_uint_t *) (p + cmd->offset);

    if (*np != KL_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;
    e = cmd->post;

    for (i = 0; e[i].name.len != 0; i++) {
        if (e[i].name.len != value[1].len
            || kl_strncasecmp(e[i].name.data, value[1].data, value[1].len) != 0)
        {
            continue;
        }

        *np = e[i].value;

        return KL_CONF_OK;
    }

    kl_conf_log_error(KL_LOG_EMERG, cf, 0, "invalid value \"%V\"", &value[1]);

    return KL_CONF_ERROR;
}


char *
kl_conf_set_bitmask_slot(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    char           *p;
    kl_uint_t      *np, i, mask;
    kl_str_t       *value;
    kl_conf_enum_t *e;

    p = conf;
    np = (kl_uint_t *) (p + cmd->offset);

    if (*np != KL_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;
    mask = 0;

    for (i = 1; i < cf->args->nelts; i++) {
        for (e = cmd->post; e->name.len; e++) {
            if (e->name.len == value[i].len
                && kl_strncasecmp(e->name.data, value[i].data, e->name.len)
                       == 0)
            {
                mask |= e->value;
                break;
            }
        }

        if (e->name.len == 0) {
            kl_conf_log_error(KL_LOG_EMERG, cf, 0, "invalid value \"%V\"",
                              &value[i]);
            return KL_CONF_ERROR;
        }
    }

    *np = mask;

    return KL_CONF_OK;
}

ssize_t
kl_conf_parse_size(kl_str_t *line)
{
    return (ssize_t) kl_conf_parse_scaled(line, SSIZE_MAX, 0);
}


off_t
kl_conf_parse_offset(kl_str_t *line)
{
    return kl_conf_parse_scaled(line, KL_MAX_OFF_T_VALUE, 1);
}


/* Digits with an optional k/K or m/M suffix, and g/G when giga is set. */
static off_t
kl_conf_parse_scaled(kl_str_t *line, off_t max, kl_uint_t giga)
{
    off_t  value, scale;
    size_t len;

    len = line->len;

    if (len == 0) {
        return KL_ERROR;
    }

    switch (line->data[len - 1]) {

    case 'K':
    case 'k':
        scale = 1024;
        break;

    case 'M':
    case 'm':
        scale = 1024 * 1024;
        break;

    case 'G':
    case 'g':
        scale = giga ? 1024 * 1024 * 1024 : 1;
        break;

    default:
        scale = 1;
    }

    if (scale > 1) {
        len--;
    }

    value = kl_atoof(line->data, len);

    if (value == KL_ERROR || value > max / scale) {
        return KL_ERROR;
    }

    return value * scale;
}


/*
 * nginx's time syntax: units y M w d h m s ms, largest first, each at most
 * once, optionally space-separated ("1h 30m"); a bare number is seconds.
 * The msec form refuses y and M, whose milliseconds were too big once.
 * Steps are ordered: a unit is refused unless it is below the last one.
 */
kl_int_t
kl_conf_parse_time(kl_str_t *line, kl_uint_t is_sec)
{
    u_char   *p, *last;
    kl_int_t  value, total, scale;
    kl_uint_t valid, step, next;

    enum {
        st_start = 0,
        st_year,
        st_month,
        st_week,
        st_day,
        st_hour,
        st_min,
        st_sec,
        st_msec,
        st_last
    };

    /* each step's unit in seconds; ms is scaled apart */
    static const kl_int_t seconds[] = {
        0,                  /* st_start */
        60 * 60 * 24 * 365, /* y */
        60 * 60 * 24 * 30,  /* M */
        60 * 60 * 24 * 7,   /* w */
        60 * 60 * 24,       /* d */
        60 * 60,            /* h */
        60,                 /* m */
        1,                  /* s */
        0,                  /* ms */
        1,                  /* a bare number before a space */
    };

    valid = 0;
    value = 0;
    total = 0;
    step = is_sec ? st_start : st_month;

    p = line->data;
    last = p + line->len;

    while (p < last) {

        if (*p >= '0' && *p <= '9') {
            if (value > (KL_MAX_INT_T_VALUE - (*p - '0')) / 10) {
                return KL_ERROR;
            }

            value = value * 10 + (*p++ - '0');
            valid = 1;
            continue;
        }

        switch (*p++) {
        case 'y':
            next = st_year;
            break;
        case 'M':
            next = st_month;
            break;
        case 'w':
            next = st_week;
            break;
        case 'd':
            next = st_day;
            break;
        case 'h':
            next = st_hour;
            break;
        case 's':
            next = st_sec;
            break;
        case ' ':
            next = st_last;
            break;

        case 'm':
            next = st_min;

            if (p < last && *p == 's') {
                if (is_sec) {
                    return KL_ERROR;
                }

                p++;
                next = st_msec;
            }

            break;

        default:
            return KL_ERROR;
        }

        /* a bare number then a space counts as seconds */
        if (step >= ((next == st_last) ? st_sec : next)) {
            return KL_ERROR;
        }

        step = next;

        if (step == st_msec) {
            scale = 1;

        } else {
            scale = is_sec ? seconds[step] : seconds[step] * 1000;
        }

        if (value > KL_MAX_INT_T_VALUE / scale) {
            return KL_ERROR;
        }

        value *= scale;

        if (total > KL_MAX_INT_T_VALUE - value) {
            return KL_ERROR;
        }

        total += value;
        value = 0;

        while (p < last && *p == ' ') {
            p++;
        }
    }

    if (!valid) {
        return KL_ERROR;
    }

    if (!is_sec) {
        if (value > KL_MAX_INT_T_VALUE / 1000) {
            return KL_ERROR;
        }

        value *= 1000;
    }

    if (total > KL_MAX_INT_T_VALUE - value) {
        return KL_ERROR;
    }

    return total + value;
}
