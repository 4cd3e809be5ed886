/* conf.h: the nginx configuration language: tokenizer, directive dispatch, setters. */

#ifndef KL_CONF_H
#define KL_CONF_H

#include "kl_config.h"
#include "kl_types.h"
#include "string.h"
#include "files.h"

/* Argument counts: a directive's type carries one or more of these bits. */
#define KL_CONF_NOARGS   0x00000001
#define KL_CONF_TAKE1    0x00000002
#define KL_CONF_TAKE2    0x00000004
#define KL_CONF_TAKE3    0x00000008
#define KL_CONF_TAKE4    0x00000010
#define KL_CONF_TAKE5    0x00000020
#define KL_CONF_TAKE6    0x00000040
#define KL_CONF_TAKE7    0x00000080
#define KL_CONF_MAX_ARGS 8

#define KL_CONF_TAKE12  (KL_CONF_TAKE1 | KL_CONF_TAKE2)
#define KL_CONF_TAKE13  (KL_CONF_TAKE1 | KL_CONF_TAKE3)
#define KL_CONF_TAKE23  (KL_CONF_TAKE2 | KL_CONF_TAKE3)
#define KL_CONF_TAKE123 (KL_CONF_TAKE1 | KL_CONF_TAKE2 | KL_CONF_TAKE3)
#define KL_CONF_TAKE1234                                                       \
    (KL_CONF_TAKE1 | KL_CONF_TAKE2 | KL_CONF_TAKE3 | KL_CONF_TAKE4)
#define KL_CONF_ARGS_NUMBER 0x000000ff
#define KL_CONF_BLOCK       0x00000100 /* takes a { } block */
#define KL_CONF_FLAG        0x00000200 /* exactly one of on|off */
#define KL_CONF_ANY         0x00000400 /* any number of arguments */
#define KL_CONF_1MORE       0x00000800
#define KL_CONF_2MORE       0x00001000

/* Where the directive may appear: one bit per context. */
#define KL_DIRECT_CONF    0x00010000 /* core: conf is the module's struct */
#define KL_MAIN_CONF      0x01000000
#define KL_EVENT_CONF     0x02000000
#define KL_HTTP_MAIN_CONF 0x04000000
#define KL_HTTP_SRV_CONF  0x08000000
#define KL_HTTP_LOC_CONF  0x10000000
#define KL_HTTP_UPS_CONF  0x20000000
#define KL_HTTP_SIF_CONF  0x40000000 /* "if" in server */
#define KL_HTTP_LIF_CONF  0x80000000 /* "if" in location */
#define KL_HTTP_LMT_CONF  0x00020000 /* "limit_except" in location */
#define KL_ANY_CONF       0xff000000

#define KL_CONF_UNSET      -1
#define KL_CONF_UNSET_UINT (kl_uint_t) - 1
#define KL_CONF_UNSET_PTR  (void *) -1
#define KL_CONF_UNSET_SIZE (size_t) - 1
#define KL_CONF_UNSET_MSEC (kl_msec_t) - 1

#define KL_CONF_OK    NULL
#define KL_CONF_ERROR (void *) -1

#define KL_CONF_BLOCK_START 1
#define KL_CONF_BLOCK_DONE  2
#define KL_CONF_FILE_DONE   3

#define KL_MAX_CONF_ERRSTR 1024

typedef char *(*kl_conf_set_pt)(kl_conf_t *cf, kl_command_t *cmd, void *conf);

/*
 * A directive: name, context and argument bits, a setter, which of the
 * block's conf arrays it writes (an offset into the context struct, e.g.
 * offsetof(kl_http_conf_ctx_t, loc_conf); 0 for core modules), the offset
 * of its field inside the module's conf struct, and setter-specific data.
 */
struct kl_command_s {
    kl_str_t       name;
    kl_uint_t      type;
    kl_conf_set_pt set;
    kl_uint_t      conf;
    kl_uint_t      offset;
    void          *post;
};

#define kl_null_command                                                        \
    {                                                                          \
        kl_null_string, 0, NULL, 0, 0, NULL                                    \
    }

typedef struct {
    kl_file_t file;
    kl_buf_t *buffer;
    kl_buf_t *dump; /* the file's bytes, kept for -T */
    kl_uint_t line;
} kl_conf_file_t;

typedef struct {
    kl_str_t  name;
    kl_buf_t *buffer;
} kl_conf_dump_t;

/*
 * A custom per-line handler for blocks whose lines are not directives
 * (types { text/html html; }, map, ...). It sees cf->args.
 */
typedef char *(*kl_conf_handler_pt)(kl_conf_t *cf, kl_command_t *dummy,
                                    void *conf);

struct kl_conf_s {
    char       *name;
    kl_array_t *args; /* kl_str_t, NUL-terminated each */

    kl_cycle_t     *cycle;
    kl_pool_t      *pool;
    kl_pool_t      *temp_pool;
    kl_conf_file_t *conf_file;
    kl_log_t       *log;

    void     *ctx;         /* the current block's context */
    kl_uint_t module_type; /* KL_CORE_MODULE, KL_HTTP_MODULE */
    kl_uint_t cmd_type;    /* the context bit, e.g. KL_HTTP_LOC_CONF */

    kl_conf_handler_pt handler;
    void              *handler_conf;

    kl_uint_t depth; /* nested blocks and includes */
};

/*
 * Parse a file (filename set) or the rest of the current block (NULL),
 * dispatching each directive to its module's setter. Errors are logged
 * at emerg with " in FILE:LINE" and return KL_CONF_ERROR.
 */
char *kl_conf_parse(kl_conf_t *cf, kl_str_t *filename);

/* Parse directives from a string (the -g parameter) as if in main context. */
char *kl_conf_param(kl_conf_t *cf, kl_str_t *param);

/* The include directive's setter: globs, relative to the conf prefix. */
char *kl_conf_include(kl_conf_t *cf, kl_command_t *cmd, void *conf);

/* Resolve name to an absolute path: against the conf prefix or the prefix. */
kl_int_t kl_conf_full_name(kl_cycle_t *cycle, kl_str_t *name,
                           kl_uint_t conf_prefix);

/* Log at level with " in FILE:LINE" appended (the one place that adds it). */
/*
 * Why an unknown directive is absent from this build (a feature kiln lacks
 * or a module configured out), or NULL for a name nginx does not know
 * either (conf_absent.c).
 */
const char *kl_conf_absent_reason(kl_str_t *name);

void kl_conf_log_error(kl_uint_t level, kl_conf_t *cf, kl_err_t err,
                       const char *fmt, ...);

/*
 * Generic setters. Each returns KL_CONF_OK or a phrase that the parser turns
 * into '"<name>" directive <phrase> in FILE:LINE', and "is duplicate" when
 * the field was already set.
 */
char *kl_conf_set_flag_slot(kl_conf_t *cf, kl_command_t *cmd, void *conf);
char *kl_conf_set_str_slot(kl_conf_t *cf, kl_command_t *cmd, void *conf);
char *kl_conf_set_str_array_slot(kl_conf_t *cf, kl_command_t *cmd, void *conf);
char *kl_conf_set_num_slot(kl_conf_t *cf, kl_command_t *cmd, void *conf);
char *kl_conf_set_size_slot(kl_conf_t *cf, kl_command_t *cmd, void *conf);
char *kl_conf_set_off_slot(kl_conf_t *cf, kl_command_t *cmd, void *conf);
char *kl_conf_set_msec_slot(kl_conf_t *cf, kl_command_t *cmd, void *conf);
char *kl_conf_set_sec_slot(kl_conf_t *cf, kl_command_t *cmd, void *conf);
char *kl_conf_set_enum_slot(kl_conf_t *cf, kl_command_t *cmd, void *conf);

/* Each argument one of cmd->post's kl_conf_enum_t names: their values or'ed. */
char *kl_conf_set_bitmask_slot(kl_conf_t *cf, kl_command_t *cmd, void *conf);

typedef struct {
    kl_str_t  name;
    kl_uint_t value;
} kl_conf_enum_t;

/* Value parsers shared with setters written by modules; KL_ERROR if invalid. */
ssize_t  kl_conf_parse_size(kl_str_t *line);   /* 10, 10k, 10K, 1m, 1M */
off_t    kl_conf_parse_offset(kl_str_t *line); /* also g/G */
kl_int_t kl_conf_parse_time(kl_str_t *line, kl_uint_t is_sec);
/* "1h 30m", 500ms, 10s, 1d ...: ms or s */

#define kl_conf_init_value(conf, default)                                      \
    if (conf == KL_CONF_UNSET) {                                               \
        conf = default;                                                        \
    }
#define kl_conf_init_uint_value(conf, default)                                 \
    if (conf == KL_CONF_UNSET_UINT) {                                          \
        conf = default;                                                        \
    }
#define kl_conf_init_ptr_value(conf, default)                                  \
    if (conf == KL_CONF_UNSET_PTR) {                                           \
        conf = default;                                                        \
    }
#define kl_conf_init_size_value(conf, default)                                 \
    if (conf == KL_CONF_UNSET_SIZE) {                                          \
        conf = default;                                                        \
    }
#define kl_conf_init_msec_value(conf, default)                                 \
    if (conf == KL_CONF_UNSET_MSEC) {                                          \
        conf = default;                                                        \
    }

#define kl_conf_merge_value(conf, prev, default)                               \
    if (conf == KL_CONF_UNSET) {                                               \
        conf = (prev == KL_CONF_UNSET) ? default : prev;                       \
    }
#define kl_conf_merge_ptr_value(conf, prev, default)                           \
    if (conf == KL_CONF_UNSET_PTR) {                                           \
        conf = (prev == KL_CONF_UNSET_PTR) ? default : prev;                   \
    }
#define kl_conf_merge_uint_value(conf, prev, default)                          \
    if (conf == KL_CONF_UNSET_UINT) {                                          \
        conf = (prev == KL_CONF_UNSET_UINT) ? default : prev;                  \
    }
#define kl_conf_merge_msec_value(conf, prev, default)                          \
    if (conf == KL_CONF_UNSET_MSEC) {                                          \
        conf = (prev == KL_CONF_UNSET_MSEC) ? default : prev;                  \
    }
#define kl_conf_merge_sec_value(conf, prev, default)                           \
    if (conf == KL_CONF_UNSET) {                                               \
        conf = (prev == KL_CONF_UNSET) ? default : prev;                       \
    }
#define kl_conf_merge_size_value(conf, prev, default)                          \
    if (conf == KL_CONF_UNSET_SIZE) {                                          \
        conf = (prev == KL_CONF_UNSET_SIZE) ? default : prev;                  \
    }
#define kl_conf_merge_off_value(conf, prev, default)                           \
    if (conf == KL_CONF_UNSET) {                                               \
        conf = (prev == KL_CONF_UNSET) ? default : prev;                       \
    }
#define kl_conf_merge_str_value(conf, prev, default)                           \
    if (conf.data == NULL) {                                                   \
        if (prev.data) {                                                       \
            conf.len = prev.len;                                               \
            conf.data = prev.data;                                             \
        } else {                                                               \
            conf.len = sizeof(default) - 1;                                    \
            conf.data = (u_char *) default;                                    \
        }                                                                      \
    }

#endif /* KL_CONF_H */
