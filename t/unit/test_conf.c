/*
 * test_conf.c: the configuration language (core/conf.h) against a fake
 * module set defined here: tokens, dispatch, every error with its
 * FILE:LINE as written to a real error log, include, -g, the setters.
 *
 * conf.c reads each file whole, so there are no buffer edges to split
 * tokens across; the large-file case checks a token far past any
 * plausible read size instead.
 */

#include "kl_core.h"

#include <criterion/criterion.h>
#include <sys/stat.h>


#define T_BLOCK_MODULE 0x4b4c4254 /* "TBLK" */
#define T_OTHER_MODULE 0x5254484f /* "OTHR" */
#define T_BLOCK_CONF   KL_HTTP_SRV_CONF

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
    kl_array_t *words; /* every argument the recording setters saw */
    kl_uint_t   calls;
} t_conf_t;

typedef struct {
    void **conf; /* one per T_BLOCK_MODULE, by ctx_index */
} t_block_ctx_t;


static char *t_words(kl_conf_t *cf, kl_command_t *cmd, void *conf);
static char *t_phrase(kl_conf_t *cf, kl_command_t *cmd, void *conf);
static char *t_fail(kl_conf_t *cf, kl_command_t *cmd, void *conf);
static char *t_block(kl_conf_t *cf, kl_command_t *cmd, void *conf);
static char *t_nested(kl_conf_t *cf, kl_command_t *cmd, void *conf);
static char *t_types(kl_conf_t *cf, kl_command_t *cmd, void *conf);
static char *t_types_line(kl_conf_t *cf, kl_command_t *dummy, void *conf);


static kl_conf_enum_t t_modes[] = { { kl_string("fast"), 1 },
                                    { kl_string("slow"), 2 },
                                    { kl_null_string, 0 } };

#define T_MAIN (KL_MAIN_CONF | KL_DIRECT_CONF)
#define T_CMD(nm, tp, fn, field)                                               \
    {                                                                          \
        .name = kl_string(nm), .type = (tp), .set = (fn), .conf = 0,           \
        .offset = offsetof(t_conf_t, field), .post = NULL                      \
    }
#define T_BCMD(nm, tp, fn, field)                                              \
    {                                                                          \
        .name = kl_string(nm), .type = T_BLOCK_CONF | (tp), .set = (fn),       \
        .conf = offsetof(t_block_ctx_t, conf),                                 \
        .offset = offsetof(t_conf_t, field), .post = NULL                      \
    }

static kl_command_t t_core_commands[] = {
    T_CMD("t_flag", T_MAIN | KL_CONF_FLAG, kl_conf_set_flag_slot, flag),
    T_CMD("t_str", T_MAIN | KL_CONF_TAKE1, kl_conf_set_str_slot, str),
    T_CMD("t_strs", T_MAIN | KL_CONF_TAKE1, kl_conf_set_str_array_slot, strs),
    T_CMD("t_num", T_MAIN | KL_CONF_TAKE1, kl_conf_set_num_slot, num),
    T_CMD("t_size", T_MAIN | KL_CONF_TAKE1, kl_conf_set_size_slot, size),
    T_CMD("t_off", T_MAIN | KL_CONF_TAKE1, kl_conf_set_off_slot, off),
    T_CMD("t_msec", T_MAIN | KL_CONF_TAKE1, kl_conf_set_msec_slot, msec),
    T_CMD("t_sec", T_MAIN | KL_CONF_TAKE1, kl_conf_set_sec_slot, sec),
    { .name = kl_string("t_enum"),
      .type = T_MAIN | KL_CONF_TAKE1,
      .set = kl_conf_set_enum_slot,
      .conf = 0,
      .offset = offsetof(t_conf_t, mode),
      .post = t_modes },
    T_CMD("t_words", T_MAIN | KL_CONF_ANY, t_words, words),
    T_CMD("t_noargs", T_MAIN | KL_CONF_NOARGS, t_words, words),
    T_CMD("t_take2", T_MAIN | KL_CONF_TAKE2, t_words, words),
    T_CMD("t_take13", T_MAIN | KL_CONF_TAKE13, t_words, words),
    T_CMD("t_take7", T_MAIN | KL_CONF_TAKE7, t_words, words),
    T_CMD("t_1more", T_MAIN | KL_CONF_1MORE, t_words, words),
    T_CMD("t_2more", T_MAIN | KL_CONF_2MORE, t_words, words),
    T_CMD("t_phrase", T_MAIN | KL_CONF_NOARGS, t_phrase, words),
    T_CMD("t_fail", T_MAIN | KL_CONF_NOARGS, t_fail, words),
    T_CMD("t_types", T_MAIN | KL_CONF_BLOCK | KL_CONF_NOARGS, t_types, words),
    kl_null_command
};

static kl_command_t t_blockcore_commands[] = {
    { .name = kl_string("t_block"),
      .type = KL_MAIN_CONF | KL_CONF_BLOCK | KL_CONF_NOARGS,
      .set = t_block,
      .conf = 0,
      .offset = 0,
      .post = NULL },
    kl_null_command
};

static kl_command_t t_block_commands[] = {
    T_BCMD("b_num", KL_CONF_TAKE1, kl_conf_set_num_slot, num),
    T_BCMD("b_words", KL_CONF_ANY, t_words, words),
    T_BCMD("b_nested", KL_CONF_BLOCK | KL_CONF_NOARGS, t_nested, words),
    T_BCMD("t_inner", KL_CONF_NOARGS, t_words, words), kl_null_command
};

static kl_command_t t_block2_commands[] = {
    T_BCMD("b2_num", KL_CONF_TAKE1, kl_conf_set_num_slot, num), kl_null_command
};

static kl_command_t t_other_commands[] = {
    T_CMD("t_other", KL_ANY_CONF | KL_CONF_NOARGS, t_words, words),
    kl_null_command
};

static kl_module_t t_core_module = {
    .name = "t_core_module",
    .type = KL_CORE_MODULE,
    .commands = t_core_commands,
};

static kl_module_t t_blockcore_module = {
    .name = "t_blockcore_module",
    .type = KL_CORE_MODULE,
    .commands = t_blockcore_commands,
};

static kl_module_t t_block_module = {
    .name = "t_block_module",
    .type = T_BLOCK_MODULE,
    .commands = t_block_commands,
};

static kl_module_t t_block2_module = {
    .name = "t_block2_module",
    .type = T_BLOCK_MODULE,
    .commands = t_block2_commands,
};

static kl_module_t t_other_module = {
    .name = "t_other_module",
    .type = T_OTHER_MODULE,
    .commands = t_other_commands,
};

extern kl_module_t kl_conf_module;

kl_module_t *kl_modules[] = { &kl_conf_module,
                              &t_core_module,
                              &t_blockcore_module,
                              &t_block_module,
                              &t_block2_module,
                              &t_other_module,
                              NULL };

const char *kl_module_names[] = { "kl_conf_module",
                                  "t_core_module",
                                  "t_blockcore_module",
                                  "t_block_module",
                                  "t_block2_module",
                                  "t_other_module",
                                  NULL };


static char           dir[64];
static char           log_path[128];
static kl_log_t       tlog;
static kl_open_file_t tlog_file;
static kl_cycle_t    *cycle;
static kl_conf_t      cf;


static t_conf_t *
t_conf_create(kl_pool_t *pool)
{
    t_conf_t *c;

    c = kl_pcalloc(pool, sizeof(t_conf_t));
    cr_assert_not_null(c);

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


static t_conf_t *
main_conf(void)
{
    return cycle->conf_ctx[t_core_module.index];
}


static void
setup(void)
{
    kl_pool_t *pool;

    kl_modules_init();

    /* mkdtemp's template: six 'X's after the prefix */
    snprintf(dir, sizeof(dir), "/tmp/kl_conf_%6s", "");
    memset(dir + sizeof("/tmp/kl_conf_") - 1, 'X', 6);
    cr_assert_not_null(mkdtemp(dir));

    snprintf(log_path, sizeof(log_path), "%s/error.log", dir);
    tlog_file.name.data = (u_char *) log_path;
    tlog_file.name.len = strlen(log_path);
    tlog_file.fd = open(log_path, O_CREAT | O_WRONLY | O_APPEND, 0644);
    cr_assert(tlog_file.fd >= 0);
    tlog.file = &tlog_file;
    tlog.log_level = KL_LOG_DEBUG;

    pool = kl_pool_create(KL_DEFAULT_POOL_SIZE, &tlog);
    cr_assert_not_null(pool);

    cycle = kl_pcalloc(pool, sizeof(kl_cycle_t));
    cr_assert_not_null(cycle);

    cycle->pool = pool;
    cycle->log = &tlog;
    cycle->conf_ctx = kl_pcalloc(pool, 6 * sizeof(void *));
    cycle->conf_ctx[t_core_module.index] = t_conf_create(pool);
    cr_assert_eq(
        kl_array_init(&cycle->config_dump, pool, 1, sizeof(kl_conf_dump_t)),
        KL_OK);

    cycle->conf_prefix.len = strlen(dir) + 1;
    cycle->conf_prefix.data = kl_pnalloc(pool, cycle->conf_prefix.len + 1);
    snprintf((char *) cycle->conf_prefix.data, cycle->conf_prefix.len + 1,
             "%s/", dir);
    kl_str_set(&cycle->prefix, "/srv/prefix/");

    kl_memzero(&cf, sizeof(kl_conf_t));
    cf.args = kl_array_create(pool, 10, sizeof(kl_str_t));
    cf.pool = pool;
    cf.cycle = cycle;
    cf.log = &tlog;
    cf.ctx = cycle->conf_ctx;
    cf.module_type = KL_CORE_MODULE;
    cf.cmd_type = KL_MAIN_CONF;
}


static void
teardown(void)
{
    char cmd[128];

    (void) close(tlog_file.fd);
    kl_pool_free(cycle->pool);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    (void) system(cmd);
}


TestSuite(conf, .init = setup, .fini = teardown);


/* dir/name, in the cycle's pool */
static kl_str_t
path(const char *name)
{
    kl_str_t s;

    s.len = strlen(dir) + 1 + strlen(name);
    s.data = kl_pnalloc(cycle->pool, s.len + 1);
    snprintf((char *) s.data, s.len + 1, "%s/%s", dir, name);

    return s;
}


static void
put_n(const char *name, const char *text, size_t len)
{
    int      fd;
    kl_str_t p;

    p = path(name);
    fd = open((char *) p.data, O_CREAT | O_WRONLY | O_TRUNC, 0644);
    cr_assert(fd >= 0, "open %s", p.data);
    cr_assert_eq(write(fd, text, len), (ssize_t) len);
    (void) close(fd);
}


static void
put(const char *name, const char *text)
{
    put_n(name, text, strlen(text));
}


static void
subdir(const char *name)
{
    kl_str_t p;

    p = path(name);
    cr_assert_eq(mkdir((char *) p.data, 0755), 0);
}


static char *
parse(const char *text)
{
    kl_str_t name;

    put("main.conf", text);
    name = path("main.conf");

    return kl_conf_parse(&cf, &name);
}


static char *
param(const char *text)
{
    kl_str_t p;

    p.data = (u_char *) text;
    p.len = strlen(text);

    return kl_conf_param(&cf, &p);
}


static char *
read_log(void)
{
    static char buf[65536];
    int         fd;
    ssize_t     n;
    kl_str_t    p;

    p = path("error.log");
    fd = open((char *) p.data, O_RDONLY);
    cr_assert(fd >= 0);
    n = read(fd, buf, sizeof(buf) - 1);
    (void) close(fd);
    buf[n > 0 ? n : 0] = '\0';

    return buf;
}


/* The log holds fmt, where each %s is the test's directory. */
static void
expect_log(const char *fmt)
{
    char  expected[1024];
    char *log;

    snprintf(expected, sizeof(expected), fmt, dir, dir, dir);
    log = read_log();

    cr_assert_not_null(strstr(log, expected), "expected \"%s\" in the log:\n%s",
                       expected, log);
}


static void
expect_error(const char *text, const char *fmt)
{
    cr_assert_eq(parse(text), KL_CONF_ERROR, "config: %s", text);
    expect_log(fmt);
}


/* words holds exactly the NULL-terminated list that follows */
static void
expect_words(kl_array_t *words, ...)
{
    va_list     args;
    kl_str_t   *w;
    kl_uint_t   i;
    const char *s;

    cr_assert_not_null(words);
    w = words->elts;

    va_start(args, words);

    for (i = 0; (s = va_arg(args, const char *)) != NULL; i++) {
        cr_assert_lt(i, words->nelts, "only %lu words",
                     (unsigned long) words->nelts);
        cr_assert_eq(w[i].len, strlen(s), "word %lu: \"%.*s\" vs \"%s\"",
                     (unsigned long) i, (int) w[i].len, w[i].data, s);
        cr_assert_eq(memcmp(w[i].data, s, w[i].len), 0,
                     "word %lu: \"%.*s\" vs \"%s\"", (unsigned long) i,
                     (int) w[i].len, w[i].data, s);
        cr_assert_eq(w[i].data[w[i].len], '\0');
    }

    va_end(args);

    cr_assert_eq(i, words->nelts, "%lu words, expected %lu",
                 (unsigned long) words->nelts, (unsigned long) i);
}


static char *
t_words(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    t_conf_t *c;
    kl_str_t *value, *w;
    kl_uint_t i;

    (void) cmd;

    c = conf;
    value = cf->args->elts;
    c->calls++;

    if (c->words == NULL) {
        c->words = kl_array_create(cf->pool, 4, sizeof(kl_str_t));
    }

    for (i = 1; i < cf->args->nelts; i++) {
        w = kl_array_push(c->words);
        *w = value[i];
    }

    return KL_CONF_OK;
}


static char *
t_phrase(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    (void) cf;
    (void) cmd;
    (void) conf;

    return "is weird";
}


static char *
t_fail(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    (void) cmd;
    (void) conf;

    kl_conf_log_error(KL_LOG_EMERG, cf, 0, "custom failure");

    return KL_CONF_ERROR;
}


/* Like http { }: a context with one conf per T_BLOCK_MODULE module. */
static char *
t_block(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    char          *rv;
    kl_uint_t      i, n;
    kl_conf_t      save;
    t_block_ctx_t *ctx;

    (void) cmd;

    n = kl_modules_count(T_BLOCK_MODULE);
    ctx = kl_pcalloc(cf->pool, sizeof(t_block_ctx_t));
    ctx->conf = kl_pcalloc(cf->pool, n * sizeof(void *));

    for (i = 0; i < n; i++) {
        ctx->conf[i] = t_conf_create(cf->pool);
    }

    *(t_block_ctx_t **) conf = ctx;

    save = *cf;
    cf->ctx = ctx;
    cf->module_type = T_BLOCK_MODULE;
    cf->cmd_type = T_BLOCK_CONF;

    rv = kl_conf_parse(cf, NULL);

    *cf = save;

    if (rv == KL_CONF_OK
        && ((t_conf_t *) ctx->conf[t_block_module.ctx_index])->num == 13)
    {
        return "has an unlucky number";
    }

    return rv;
}


static char *
t_nested(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    t_conf_t *c;

    (void) cmd;

    c = conf;
    c->calls++;

    return kl_conf_parse(cf, NULL);
}


static char *
t_types(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    char     *rv;
    kl_conf_t save;

    (void) cmd;

    save = *cf;
    cf->handler = t_types_line;
    cf->handler_conf = conf;

    rv = kl_conf_parse(cf, NULL);

    *cf = save;

    return rv;
}


static char *
t_types_line(kl_conf_t *cf, kl_command_t *dummy, void *conf)
{
    kl_str_t *value;

    value = cf->args->elts;

    if (value[0].len == 3 && memcmp(value[0].data, "bad", 3) == 0) {
        return "bad type line";
    }

    return t_words(cf, dummy, conf);
}


/* tokens */

Test(conf, words_split_on_any_space)
{
    cr_assert_eq(parse("t_words a b\tc\r\nd  \n\n e;"), KL_CONF_OK);
    expect_words(main_conf()->words, "a", "b", "c", "d", "e", NULL);
}


Test(conf, quotes_keep_spaces_and_separators)
{
    cr_assert_eq(parse("t_words \"a b\" 'c d' \"\" '' \"x;y{z}\" 'p#q';"),
                 KL_CONF_OK);
    expect_words(main_conf()->words, "a b", "c d", "", "", "x;y{z}", "p#q",
                 NULL);
}


Test(conf, escapes_as_nginx)
{
    cr_assert_eq(parse("t_words \"a\\\"b\" 'c\\'d' \"e\\\\f\" "
                       "\"1\\t2\\r3\\n4\" \"x\\y\" \\z a\\;b '\\\"' "
                       "p\\ q;"),
                 KL_CONF_OK);
    expect_words(main_conf()->words, "a\"b", "c'd", "e\\f", "1\t2\r3\n4",
                 "x\\y", "\\z", "a\\;b", "\"", "p\\ q", NULL);
}


Test(conf, comments_only_at_token_start)
{
    cr_assert_eq(parse("# leading comment ; { }\n"
                       "t_words a#b c; # trailing\n"
                       "#t_words no;\n"
                       "t_words x # in the middle; \n y;\n"
                       "t_words \"#q\";"),
                 KL_CONF_OK);
    expect_words(main_conf()->words, "a#b", "c", "x", "y", "#q", NULL);
}


Test(conf, variables_are_part_of_words)
{
    cr_assert_eq(parse("t_words $a ${b}c \"${d}\" x${e}y $ a$;"), KL_CONF_OK);
    expect_words(main_conf()->words, "$a", "${b}c", "${d}", "x${e}y", "$", "a$",
                 NULL);
}


Test(conf, unclosed_variable_brace)
{
    expect_error("t_words ${abc;",
                 "the closing bracket in \"abc\" variable is missing "
                 "in %s/main.conf:1\n");
}


Test(conf, unclosed_variable_brace_at_space)
{
    expect_error("t_words\n \"x${ab c}\" ${ab c};",
                 "the closing bracket in \"ab\" variable is missing "
                 "in %s/main.conf:2\n");
}


Test(conf, brace_in_word_is_plain)
{
    cr_assert_eq(parse("t_words a}b;"), KL_CONF_OK);
    expect_words(main_conf()->words, "a}b", NULL);
}


Test(conf, quote_needs_a_separator)
{
    expect_error("t_words\n\"a\"b;", "unexpected \"b\" in %s/main.conf:2\n");
}


Test(conf, quote_then_paren_starts_a_word)
{
    cr_assert_eq(parse("t_words (\"a\" \"b\");"), KL_CONF_OK);
    expect_words(main_conf()->words, "(\"a\"", "b", ")", NULL);
}


Test(conf, quote_then_semicolon_or_brace)
{
    cr_assert_eq(parse("t_words \"a\";t_words 'b'\n;"), KL_CONF_OK);
    expect_words(main_conf()->words, "a", "b", NULL);
    cr_assert_eq(main_conf()->calls, 2);
}


Test(conf, quoted_newlines_count_lines)
{
    expect_error("t_words \"a\nb\";\nfoo;",
                 "unknown directive \"foo\" in %s/main.conf:3\n");
}


Test(conf, crlf_lines)
{
    expect_error("t_words a;\r\n\r\nfoo;\r\n",
                 "unknown directive \"foo\" in %s/main.conf:3\n");
}


Test(conf, empty_and_comment_only_files)
{
    cr_assert_eq(parse(""), KL_CONF_OK);
    cr_assert_eq(parse("# nothing\n   \n\t# here"), KL_CONF_OK);
    cr_assert_eq(main_conf()->calls, 0);
}


Test(conf, large_file_and_long_token)
{
    size_t i, n, len;
    char  *text;

    /* 20000 directives, then a 200000-byte quoted word */
    len = 20000 * 12 + 200000 + 64;
    text = malloc(len);
    cr_assert_not_null(text);

    n = 0;
    for (i = 0; i < 20000; i++) {
        n += sprintf(text + n, "t_words %03u;", (unsigned) (i % 1000));
    }

    n += sprintf(text + n, "\nt_words \"");
    memset(text + n, 'x', 200000);
    n += 200000;
    n += sprintf(text + n, "\";");

    put_n("main.conf", text, n);
    free(text);

    {
        kl_str_t  name = path("main.conf");
        kl_str_t *w;

        cr_assert_eq(kl_conf_parse(&cf, &name), KL_CONF_OK);
        cr_assert_eq(main_conf()->calls, 20001);
        w = main_conf()->words->elts;
        cr_assert_eq(w[999].len, 3);
        cr_assert_eq(memcmp(w[999].data, "999", 3), 0);
        cr_assert_eq(w[20000].len, 200000);
        cr_assert_eq(w[20000].data[199999], 'x');
    }
}


/* errors of the grammar */

Test(conf, unknown_directive)
{
    expect_error("t_words a;\n\n  foo bar\n  baz;", "[emerg] ");
    expect_log("unknown directive \"foo\" in %s/main.conf:4\n");
}


Test(conf, unexpected_braces_and_semicolons)
{
    expect_error("t_words a;\n}", "unexpected \"}\" in %s/main.conf:2\n");

    expect_error("t_words a }", "unexpected \"}\" in %s/main.conf:1\n");

    expect_error("\n{", "unexpected \"{\" in %s/main.conf:2\n");
    expect_error(";", "unexpected \";\" in %s/main.conf:1\n");
}


Test(conf, eof_inside_directive_or_quote)
{
    expect_error("t_words a\n",
                 "unexpected end of file, expecting \";\" or \"}\" "
                 "in %s/main.conf:2\n");

    expect_error("t_words \"abc",
                 "unexpected end of file, expecting \";\" or \"}\" "
                 "in %s/main.conf:1\n");
}


Test(conf, eof_inside_block)
{
    expect_error("t_block {\n b_num 1;\n",
                 "unexpected end of file, expecting \"}\" "
                 "in %s/main.conf:3\n");
}


Test(conf, block_and_simple_directives)
{
    expect_error("t_block;", "directive \"t_block\" has no opening \"{\" "
                             "in %s/main.conf:1\n");

    expect_error("t_str a\n{ }", "directive \"t_str\" is not terminated "
                                 "by \";\" in %s/main.conf:2\n");

    expect_error("t_words a{", "directive \"t_words\" is not terminated "
                               "by \";\" in %s/main.conf:1\n");
}


Test(conf, not_allowed_here)
{
    expect_error("t_inner;", "\"t_inner\" directive is not allowed here "
                             "in %s/main.conf:1\n");

    expect_error("t_other;", "\"t_other\" directive is not allowed here "
                             "in %s/main.conf:1\n");

    expect_error("t_block {\n t_num 1;\n}",
                 "\"t_num\" directive is not allowed here "
                 "in %s/main.conf:2\n");
}


Test(conf, setter_phrase)
{
    expect_error("t_phrase;", "\"t_phrase\" directive is weird "
                              "in %s/main.conf:1\n");
}


Test(conf, setter_error_is_logged_once)
{
    char *log;

    expect_error("t_fail;", "custom failure in %s/main.conf:1\n");
    log = read_log();
    cr_assert_null(strstr(log, "directive"), "%s", log);
}


Test(conf, phrase_names_the_block_not_the_last_inner_directive)
{
    /* the block's setter reused cf->args for the inner lines */
    expect_error("t_block {\n b_words x;\n b_num 13;\n}\n",
                 "\"t_block\" directive has an unlucky number "
                 "in %s/main.conf:4\n");
}


/* argument counts */

static void
expect_args(const char *text, kl_uint_t ok)
{
    char buf[256];

    snprintf(buf, sizeof(buf), "%s;", text);

    if (ok) {
        cr_assert_eq(parse(buf), KL_CONF_OK, "%s", buf);
        return;
    }

    cr_assert_eq(parse(buf), KL_CONF_ERROR, "%s", buf);
    cr_assert_not_null(strstr(read_log(), "invalid number of arguments in \""),
                       "%s", buf);
}


Test(conf, argument_counts)
{
    expect_args("t_noargs", 1);
    expect_args("t_noargs a", 0);
    expect_args("t_str", 0);
    expect_args("t_str a b", 0);
    expect_args("t_take2 a", 0);
    expect_args("t_take2 a b", 1);
    expect_args("t_take2 a b c", 0);
    expect_args("t_take13 a", 1);
    expect_args("t_take13 a b", 0);
    expect_args("t_take13 a b c", 1);
    expect_args("t_take13 a b c d", 0);
    expect_args("t_take7 a b c d e f g", 1);
    expect_args("t_take7 a b c d e f g h", 0);
    expect_args("t_1more", 0);
    expect_args("t_1more a", 1);
    expect_args("t_1more a b c d e f g h i j", 1);
    expect_args("t_2more a", 0);
    expect_args("t_2more a b", 1);
    expect_args("t_words", 1);
    expect_args("t_words a b c d e f g h i j k l m", 1);
    expect_args("t_flag", 0);
    expect_args("t_flag on off", 0);
}


Test(conf, argument_count_message)
{
    expect_error("\nt_take2 a;", "invalid number of arguments in \"t_take2\" "
                                 "directive in %s/main.conf:2\n");
}


/* dispatch */

Test(conf, block_confs_by_ctx_index)
{
    t_block_ctx_t *ctx;
    t_conf_t      *b1, *b2;

    cr_assert_eq(parse("t_block {\n b_num 5; b2_num 7;\n"
                       "    b_words \"in block\";\n}\nt_num 9;"),
                 KL_CONF_OK);

    ctx = cycle->conf_ctx[t_blockcore_module.index];
    cr_assert_not_null(ctx);
    b1 = ctx->conf[t_block_module.ctx_index];
    b2 = ctx->conf[t_block2_module.ctx_index];
    cr_assert_eq(b1->num, 5);
    cr_assert_eq(b2->num, 7);
    expect_words(b1->words, "in block", NULL);
    cr_assert_eq(main_conf()->num, 9);
    cr_assert_null(main_conf()->words);
}


static void *t_seen_conf;


static char *
t_record_conf(kl_conf_t *cf, kl_command_t *cmd, void *conf)
{
    (void) cf;
    (void) cmd;

    t_seen_conf = conf;

    return KL_CONF_OK;
}


Test(conf, null_conf_array_gives_null_conf)
{
    t_block_ctx_t ctx;
    kl_str_t      name;

    put("inner.conf", "b_num 1;");
    name = path("inner.conf");

    ctx.conf = NULL;
    cf.ctx = &ctx;
    cf.module_type = T_BLOCK_MODULE;
    cf.cmd_type = T_BLOCK_CONF;

    t_seen_conf = &ctx;
    t_block_commands[0].set = t_record_conf;
    cr_assert_eq(kl_conf_parse(&cf, &name), KL_CONF_OK);
    cr_assert_null(t_seen_conf);
}


Test(conf, include_gets_null_conf_in_any_context)
{
    t_block_ctx_t ctx;
    kl_str_t      name;
    void         *confs[2];

    put("inner.conf", "include x.conf;");
    put("x.conf", "");
    name = path("inner.conf");

    confs[0] = confs[1] = &ctx;
    ctx.conf = confs;
    cf.ctx = &ctx;
    cf.module_type = T_BLOCK_MODULE;
    cf.cmd_type = T_BLOCK_CONF;

    t_seen_conf = &ctx;
    kl_conf_module.commands[0].set = t_record_conf;
    cr_assert_eq(kl_conf_parse(&cf, &name), KL_CONF_OK);
    cr_assert_null(t_seen_conf);
}


Test(conf, core_conf_direct_or_slot_address)
{
    t_seen_conf = NULL;
    t_core_commands[3].set = t_record_conf;
    cr_assert_eq(parse("t_num 1;"), KL_CONF_OK);
    cr_assert_eq(t_seen_conf, main_conf());

    /* t_block stores the context it creates through the slot's address */
    cr_assert_null(cycle->conf_ctx[t_blockcore_module.index]);
    cr_assert_eq(parse("t_block { }"), KL_CONF_OK);
    cr_assert_not_null(cycle->conf_ctx[t_blockcore_module.index]);
}


Test(conf, custom_handler_sees_every_line)
{
    t_conf_t *c;

    cr_assert_eq(parse("t_types {\n text/html html htm;\n"
                       " image/png png;\n include x;\n}\nt_words after;"),
                 KL_CONF_OK);
    c = main_conf();
    cr_assert_eq(c->calls, 4);
    expect_words(c->words, "html", "htm", "png", "x", "after", NULL);
}


Test(conf, custom_handler_phrase)
{
    expect_error("t_types {\n ok a;\n bad b;\n}",
                 "bad type line in %s/main.conf:3\n");
}


Test(conf, custom_handler_refuses_blocks)
{
    expect_error("t_types {\n a {\n}", "unexpected \"{\" in %s/main.conf:2\n");
}


Test(conf, nesting_limit)
{
    char   text[1024];
    size_t i, n;

    n = sprintf(text, "t_block {\n");

    for (i = 0; i < 70; i++) {
        n += sprintf(text + n, "b_nested {\n");
    }

    expect_error(text, "blocks and includes are nested more than 64 levels "
                       "deep in %s/main.conf:64\n");
}


Test(conf, nesting_below_limit)
{
    char   text[1024];
    size_t i, n;

    n = sprintf(text, "t_block {\n");

    for (i = 0; i < 60; i++) {
        n += sprintf(text + n, "b_nested {");
    }

    for (i = 0; i < 61; i++) {
        n += sprintf(text + n, "}\n");
    }

    cr_assert_eq(parse(text), KL_CONF_OK);
    cr_assert_eq(cf.depth, 0);
}


/* include */

Test(conf, include_glob_in_sorted_order)
{
    subdir("sub");
    put("sub/b.conf", "t_words b;");
    put("sub/a.conf", "t_words a1;\nt_words a2;");
    put("sub/c.txt", "t_words not_me;");

    cr_assert_eq(parse("include sub/*.conf;\nt_words main;"), KL_CONF_OK);
    expect_words(main_conf()->words, "a1", "a2", "b", "main", NULL);
}


Test(conf, include_glob_without_match_is_fine)
{
    cr_assert_eq(parse("include none/*.conf;\nt_words x;"), KL_CONF_OK);
    expect_words(main_conf()->words, "x", NULL);
}


Test(conf, include_absolute_path)
{
    char text[256];

    put("abs.conf", "t_num 42;");
    snprintf(text, sizeof(text), "include %s/abs.conf;", dir);
    cr_assert_eq(parse(text), KL_CONF_OK);
    cr_assert_eq(main_conf()->num, 42);
}


Test(conf, include_missing_file)
{
    expect_error("t_words a;\ninclude nosuch.conf;",
                 "open() \"%s/nosuch.conf\" failed "
                 "(2: No such file or directory) in %s/main.conf:2\n");
}


Test(conf, main_file_missing_has_no_location)
{
    kl_str_t name;

    name = path("nosuch.conf");
    cr_assert_eq(kl_conf_parse(&cf, &name), KL_CONF_ERROR);
    expect_log("open() \"%s/nosuch.conf\" failed "
               "(2: No such file or directory)\n");
}


Test(conf, errors_name_the_included_file)
{
    put("inc.conf", "t_words a;\nzz;\n");
    expect_error("include inc.conf;",
                 "unknown directive \"zz\" in %s/inc.conf:2\n");
}


Test(conf, location_restored_after_include)
{
    put("inc.conf", "t_words a;\n\n\n\n");
    expect_error("include inc.conf;\nt_words b;\nzz;",
                 "unknown directive \"zz\" in %s/main.conf:3\n");
    cr_assert_eq(cf.conf_file, NULL);
}


Test(conf, include_inside_block)
{
    t_block_ctx_t *ctx;
    t_conf_t      *b1;

    put("inner.conf", "b_num 3;\nb_words i;");
    cr_assert_eq(parse("t_block {\n include inner.conf;\n b_words o;\n}"),
                 KL_CONF_OK);

    ctx = cycle->conf_ctx[t_blockcore_module.index];
    b1 = ctx->conf[t_block_module.ctx_index];
    cr_assert_eq(b1->num, 3);
    expect_words(b1->words, "i", "o", NULL);
}


Test(conf, included_file_cannot_close_block)
{
    put("inner.conf", "b_num 3;\n}");
    expect_error("t_block {\n include inner.conf;\n}",
                 "unexpected \"}\" in %s/inner.conf:2\n");
}


Test(conf, include_recursion_stops)
{
    put("self.conf", "include self.conf;");
    expect_error("include self.conf;",
                 "blocks and includes are nested more than 64 levels deep "
                 "in %s/self.conf:1\n");
}


Test(conf, include_arguments)
{
    expect_error("include;", "invalid number of arguments in \"include\" "
                             "directive in %s/main.conf:1\n");
}


Test(conf, config_dump_records_each_file_once)
{
    kl_conf_dump_t *cd;

    put("a.conf", "t_words a;\n");
    cr_assert_eq(parse("include a.conf;\ninclude a.conf;\n"), KL_CONF_OK);
    expect_words(main_conf()->words, "a", "a", NULL);

    cr_assert_eq(cycle->config_dump.nelts, 2);
    cd = cycle->config_dump.elts;

    cr_assert_eq(cd[0].name.len, strlen(dir) + sizeof("/main.conf") - 1);
    cr_assert_eq(memcmp(cd[0].name.data + strlen(dir), "/main.conf", 10), 0);
    cr_assert_eq(cd[0].buffer->last - cd[0].buffer->pos, 32);
    cr_assert_eq(
        memcmp(cd[0].buffer->pos, "include a.conf;\ninclude a.conf;\n", 32), 0);

    cr_assert_eq(memcmp(cd[1].name.data + strlen(dir), "/a.conf", 7), 0);
    cr_assert_eq(cd[1].buffer->last - cd[1].buffer->pos, 11);
    cr_assert_eq(memcmp(cd[1].buffer->pos, "t_words a;\n", 11), 0);
}


/* -g */

Test(conf, param_sets_directives)
{
    cr_assert_eq(param("t_num 5; t_str 'a b';"), KL_CONF_OK);
    cr_assert_eq(main_conf()->num, 5);
    cr_assert_eq(main_conf()->str.len, 3);
    cr_assert_eq(memcmp(main_conf()->str.data, "a b", 3), 0);
    cr_assert_eq(cf.conf_file, NULL);
}


Test(conf, param_empty)
{
    cr_assert_eq(param(""), KL_CONF_OK);
    cr_assert_eq(kl_conf_param(&cf, NULL), KL_CONF_OK);
}


Test(conf, param_error_says_command_line)
{
    cr_assert_eq(param("t_num x;"), KL_CONF_ERROR);
    expect_log("\"t_num\" directive invalid number in command line\n");
}


Test(conf, param_without_semicolon)
{
    cr_assert_eq(param("t_num 5"), KL_CONF_ERROR);
    expect_log("unexpected end of parameter, expecting \";\" "
               "in command line\n");
}


Test(conf, param_refuses_blocks)
{
    cr_assert_eq(param("t_block { }"), KL_CONF_ERROR);
    expect_log("block directives are not supported in -g option "
               "in command line\n");
}


Test(conf, param_then_file_is_duplicate)
{
    cr_assert_eq(param("t_num 5;"), KL_CONF_OK);
    expect_error("t_num 6;", "\"t_num\" directive is duplicate "
                             "in %s/main.conf:1\n");
}


/* setters */

Test(conf, flag_values)
{
    cr_assert_eq(parse("t_flag ON;"), KL_CONF_OK);
    cr_assert_eq(main_conf()->flag, 1);
    main_conf()->flag = KL_CONF_UNSET;
    cr_assert_eq(parse("t_flag oFf;"), KL_CONF_OK);
    cr_assert_eq(main_conf()->flag, 0);
}


Test(conf, flag_invalid)
{
    expect_error("t_flag yes;", "invalid value \"yes\" in \"t_flag\" "
                                "directive, it must be \"on\" or \"off\" "
                                "in %s/main.conf:1\n");
}


Test(conf, str_and_duplicate)
{
    expect_error("t_str \"x y\";\nt_str z;", "\"t_str\" directive is "
                                             "duplicate in %s/main.conf:2\n");
    cr_assert_eq(main_conf()->str.len, 3);
    cr_assert_eq(memcmp(main_conf()->str.data, "x y", 3), 0);
}


Test(conf, str_array_appends)
{
    cr_assert_eq(parse("t_strs a;\nt_strs 'b c';"), KL_CONF_OK);
    expect_words(main_conf()->strs, "a", "b c", NULL);
}


Test(conf, str_array_from_null)
{
    main_conf()->strs = NULL;
    cr_assert_eq(parse("t_strs a;"), KL_CONF_OK);
    expect_words(main_conf()->strs, "a", NULL);
}


Test(conf, num_values)
{
    cr_assert_eq(parse("t_num 0;"), KL_CONF_OK);
    cr_assert_eq(main_conf()->num, 0);
    main_conf()->num = KL_CONF_UNSET;
    cr_assert_eq(parse("t_num 9223372036854775807;"), KL_CONF_OK);
    cr_assert_eq(main_conf()->num, INTPTR_MAX);
}


Test(conf, num_invalid)
{
    expect_error("t_num -1;", "\"t_num\" directive invalid number "
                              "in %s/main.conf:1\n");
    main_conf()->num = KL_CONF_UNSET;
    expect_error("t_num 9223372036854775808;", "\"t_num\" directive invalid "
                                               "number in %s/main.conf:1\n");
    main_conf()->num = KL_CONF_UNSET;
    expect_error("t_num 1k;", "\"t_num\" directive invalid number "
                              "in %s/main.conf:1\n");
}


Test(conf, size_values)
{
    cr_assert_eq(parse("t_size 10k;"), KL_CONF_OK);
    cr_assert_eq(main_conf()->size, 10240);
    main_conf()->size = KL_CONF_UNSET_SIZE;
    cr_assert_eq(parse("t_size 1M;"), KL_CONF_OK);
    cr_assert_eq(main_conf()->size, 1048576);
}


Test(conf, size_invalid)
{
    expect_error("t_size 1g;", "\"t_size\" directive invalid value "
                               "in %s/main.conf:1\n");
    main_conf()->size = KL_CONF_UNSET_SIZE;
    expect_error("t_size 1 k;", "invalid number of arguments in \"t_size\" "
                                "directive in %s/main.conf:1\n");
}


Test(conf, off_values)
{
    cr_assert_eq(parse("t_off 1g;"), KL_CONF_OK);
    cr_assert_eq(main_conf()->off, 1073741824);
    main_conf()->off = KL_CONF_UNSET;
    expect_error("t_off 1t;", "\"t_off\" directive invalid value "
                              "in %s/main.conf:1\n");
}


Test(conf, msec_values)
{
    cr_assert_eq(parse("t_msec \"1h 30m\";"), KL_CONF_OK);
    cr_assert_eq(main_conf()->msec, 5400000);
    main_conf()->msec = KL_CONF_UNSET_MSEC;
    cr_assert_eq(parse("t_msec 500ms;"), KL_CONF_OK);
    cr_assert_eq(main_conf()->msec, 500);
    main_conf()->msec = KL_CONF_UNSET_MSEC;
    cr_assert_eq(parse("t_msec 75;"), KL_CONF_OK);
    cr_assert_eq(main_conf()->msec, 75000);
}


Test(conf, msec_invalid)
{
    expect_error("t_msec 1y;", "\"t_msec\" directive invalid value "
                               "in %s/main.conf:1\n");
}


Test(conf, sec_values)
{
    cr_assert_eq(parse("t_sec 1d;"), KL_CONF_OK);
    cr_assert_eq(main_conf()->sec, 86400);
    main_conf()->sec = KL_CONF_UNSET;
    expect_error("t_sec 500ms;", "\"t_sec\" directive invalid value "
                                 "in %s/main.conf:1\n");
}


Test(conf, enum_values)
{
    cr_assert_eq(parse("t_enum SLOW;"), KL_CONF_OK);
    cr_assert_eq(main_conf()->mode, 2);
    main_conf()->mode = KL_CONF_UNSET_UINT;
    cr_assert_eq(parse("t_enum fast;"), KL_CONF_OK);
    cr_assert_eq(main_conf()->mode, 1);
}


Test(conf, enum_invalid)
{
    expect_error("t_enum fas;", "invalid value \"fas\" in %s/main.conf:1\n");
}


Test(conf, setters_report_duplicates)
{
    static const char *dups[] = {
        "t_flag on;\nt_flag on;",    "t_num 1;\nt_num 1;",
        "t_size 1;\nt_size 2;",      "t_off 1;\nt_off 1;",
        "t_msec 1s;\nt_msec 1s;",    "t_sec 1;\nt_sec 1;",
        "t_enum fast;\nt_enum slow;"
    };
    char      msg[128];
    kl_uint_t i;

    for (i = 0; i < sizeof(dups) / sizeof(dups[0]); i++) {
        cr_assert_eq(parse(dups[i]), KL_CONF_ERROR, "%s", dups[i]);
        snprintf(msg, sizeof(msg),
                 "\"%.*s\" directive is duplicate "
                 "in %%s/main.conf:2\n",
                 (int) strcspn(dups[i], " "), dups[i]);
        expect_log(msg);
        cycle->conf_ctx[t_core_module.index] = t_conf_create(cycle->pool);
    }
}


/* value parsers */

/* a kl_str_t of a string literal */
#define T_STR(lit)         (&(kl_str_t){ sizeof(lit) - 1, (u_char *) (lit) })
#define size_of(lit)       kl_conf_parse_size(T_STR(lit))
#define offset_of(lit)     kl_conf_parse_offset(T_STR(lit))
#define time_of(lit, secs) kl_conf_parse_time(T_STR(lit), secs)


Test(conf, parse_size)
{
    cr_assert_eq(size_of("0"), 0);
    cr_assert_eq(size_of("10"), 10);
    cr_assert_eq(size_of("10k"), 10240);
    cr_assert_eq(size_of("10K"), 10240);
    cr_assert_eq(size_of("1m"), 1048576);
    cr_assert_eq(size_of("1M"), 1048576);
    cr_assert_eq(size_of("1g"), KL_ERROR);
    cr_assert_eq(size_of(""), KL_ERROR);
    cr_assert_eq(size_of("k"), KL_ERROR);
    cr_assert_eq(size_of("-1"), KL_ERROR);
    cr_assert_eq(size_of("1.5k"), KL_ERROR);
    cr_assert_eq(size_of("9223372036854775807"), INT64_MAX);
    cr_assert_eq(size_of("9223372036854775807k"), KL_ERROR);
    cr_assert_eq(size_of("9007199254740992k"), KL_ERROR);
    cr_assert_eq(size_of("9007199254740991k"), 9007199254740991LL * 1024);
}


Test(conf, parse_offset)
{
    cr_assert_eq(offset_of("1g"), 1073741824LL);
    cr_assert_eq(offset_of("2G"), 2147483648LL);
    cr_assert_eq(offset_of("10k"), 10240);
    cr_assert_eq(offset_of("3m"), 3145728);
    cr_assert_eq(offset_of("7"), 7);
    cr_assert_eq(offset_of("g"), KL_ERROR);
    cr_assert_eq(offset_of("1t"), KL_ERROR);
    cr_assert_eq(offset_of("8589934592g"), KL_ERROR);
}


Test(conf, parse_time_msec)
{
    cr_assert_eq(time_of("500ms", 0), 500);
    cr_assert_eq(time_of("10s", 0), 10000);
    cr_assert_eq(time_of("10", 0), 10000);
    cr_assert_eq(time_of("1m", 0), 60000);
    cr_assert_eq(time_of("1h 30m", 0), 5400000);
    cr_assert_eq(time_of("1h30m", 0), 5400000);
    cr_assert_eq(time_of("1d", 0), 86400000);
    cr_assert_eq(time_of("1w", 0), 604800000);
    cr_assert_eq(time_of("1s 500ms", 0), 1500);
    cr_assert_eq(time_of("1m 5", 0), 65000);
    cr_assert_eq(time_of("1y", 0), KL_ERROR);
    cr_assert_eq(time_of("1M", 0), KL_ERROR);
    cr_assert_eq(time_of("1s 1h", 0), KL_ERROR);
    cr_assert_eq(time_of("1h 1h", 0), KL_ERROR);
    cr_assert_eq(time_of("ms", 0), KL_ERROR);
    cr_assert_eq(time_of("", 0), KL_ERROR);
    cr_assert_eq(time_of("1x", 0), KL_ERROR);
    cr_assert_eq(time_of("-1", 0), KL_ERROR);
    cr_assert_eq(time_of("99999999999999999999", 0), KL_ERROR);
    cr_assert_eq(time_of("9223372036854775807", 0), KL_ERROR);
    cr_assert_eq(time_of("9223372036854775807ms", 0), INT64_MAX);
}


Test(conf, parse_time_sec)
{
    cr_assert_eq(time_of("10", 1), 10);
    cr_assert_eq(time_of("1h 30m", 1), 5400);
    cr_assert_eq(time_of("1d", 1), 86400);
    cr_assert_eq(time_of("1y", 1), 31536000);
    cr_assert_eq(time_of("1M", 1), 2592000);
    cr_assert_eq(time_of("1y 1M 1w 1d 1h 1m 1s", 1),
                 31536000 + 2592000 + 604800 + 86400 + 3600 + 60 + 1);
    cr_assert_eq(time_of("500ms", 1), KL_ERROR);
    cr_assert_eq(time_of("1M 1y", 1), KL_ERROR);
}


/* names and messages */

Test(conf, full_name)
{
    kl_str_t name;
    char     expected[128];

    kl_str_set(&name, "a.conf");
    cr_assert_eq(kl_conf_full_name(cycle, &name, 1), KL_OK);
    snprintf(expected, sizeof(expected), "%s/a.conf", dir);
    cr_assert_eq(name.len, strlen(expected));
    cr_assert_str_eq((char *) name.data, expected);

    kl_str_set(&name, "logs/x.log");
    cr_assert_eq(kl_conf_full_name(cycle, &name, 0), KL_OK);
    cr_assert_str_eq((char *) name.data, "/srv/prefix/logs/x.log");

    kl_str_set(&name, "/etc/x.conf");
    cr_assert_eq(kl_conf_full_name(cycle, &name, 1), KL_OK);
    cr_assert_str_eq((char *) name.data, "/etc/x.conf");
}


Test(conf, log_error_forms)
{
    kl_conf_file_t file;

    kl_conf_log_error(KL_LOG_EMERG, &cf, 0, "plain %d", 7);
    expect_log("[emerg] ");
    expect_log("plain 7\n");

    kl_conf_log_error(KL_LOG_WARN, &cf, ENOENT, "with errno");
    expect_log("[warn] ");
    expect_log("with errno (2: No such file or directory)\n");

    kl_memzero(&file, sizeof(file));
    kl_str_set(&file.file.name, "/x/y.conf");
    file.line = 12;
    cf.conf_file = &file;
    kl_conf_log_error(KL_LOG_EMERG, &cf, 0, "at %s", "place");
    expect_log("at place in /x/y.conf:12\n");
    cf.conf_file = NULL;
}


Test(conf, log_error_respects_level)
{
    tlog.log_level = KL_LOG_ERR;
    kl_conf_log_error(KL_LOG_INFO, &cf, 0, "quiet");
    cr_assert_null(strstr(read_log(), "quiet"));
}
