/* rewrite.h: rewrite scripts: compiled by rewrite.c, run by rewrite_script.c. */

#ifndef KL_REWRITE_H
#define KL_REWRITE_H

#include "kl_http.h"

/*
 * A server's or a location's rewrite directives compile, in order, into
 * one array of instructions, as nginx's into one code array. An "if"
 * block's directives follow its KL_HTTP_RW_IF instruction in the same
 * array; the IF jumps past them (next) when its condition is false.
 */
#define KL_HTTP_RW_REWRITE 1
#define KL_HTTP_RW_RETURN  2
#define KL_HTTP_RW_SET     3
#define KL_HTTP_RW_BREAK   4
#define KL_HTTP_RW_IF      5

/* What an if tests (code->cond). */
#define KL_HTTP_RW_COND_VAR   1 /* $v: true unless empty or "0" */
#define KL_HTTP_RW_COND_EQ    2 /* $v = value */
#define KL_HTTP_RW_COND_NE    3 /* $v != value */
#define KL_HTTP_RW_COND_REGEX 4 /* $v ~ re, ~*, !~, !~* */
#define KL_HTTP_RW_COND_FILE  5 /* -f -d -e -x path, and the !- forms */

typedef struct {
    kl_uint_t op;   /* KL_HTTP_RW_* */
    kl_uint_t next; /* IF: the first instruction after its block */

    kl_http_regex_t *regex; /* rewrite; if ~ */
    kl_str_t         name;  /* the regex as written, for rewrite_log */

    /*
     * rewrite: the replacement (its part before a '?' when it is not a
     * redirect); return: the text; set: the value; if: the right side
     * of = and !=, or the path of a file test.
     */
    kl_http_complex_value_t *value;
    kl_http_complex_value_t *args; /* rewrite: the part after the '?' */

    kl_int_t                index;       /* if: the variable tested; set */
    kl_http_set_variable_pt set_handler; /* set: a variable's own setter */
    uintptr_t               data;

    kl_uint_t status;   /* return; a redirecting rewrite */
    void    **loc_conf; /* if in a location: its block's confs */

    unsigned cond:4;         /* if: KL_HTTP_RW_COND_* */
    unsigned file_op:8;      /* if: 'f', 'd', 'e' or 'x' */
    unsigned negative:1;     /* if: !~, !~*, !-f ... */
    unsigned redirect:1;     /* rewrite: answers with a Location */
    unsigned break_cycle:1;  /* rewrite ... break */
    unsigned last:1;         /* rewrite: the script stops after it */
    unsigned add_args:1;     /* rewrite: the request's args are kept */
    unsigned literal_args:1; /* rewrite: a '?' in the replacement */
} kl_http_rewrite_code_t;

typedef struct {
    kl_array_t *codes; /* kl_http_rewrite_code_t; NULL: no script */
    kl_int_t    log;   /* rewrite_log */
    kl_int_t    uninitialized_variable_warn;
} kl_http_rewrite_loc_conf_t;

/*
 * Run a script for r (log: rewrite_log's notices). KL_DECLINED to go on
 * with the request; otherwise what the rewrite phase finalizes with (a
 * status, or a return's result).
 */
kl_int_t kl_http_rewrite_run(kl_http_request_t *r, kl_array_t *codes,
                             kl_uint_t log);

/*
 * nginx's unescaping of a redirecting rewrite's result, in place: a %XX
 * becomes its byte when that byte is printable ASCII above '%', else it
 * stays as written. A '%' not followed by a hex digit is dropped; one
 * followed by a hex digit and then a non-hex byte is dropped with both
 * bytes; a '%' at the end is dropped with its one digit. After the first
 * '?', raw or decoded, the rest is left as it is. Returns the new length
 * (never more than len).
 */
size_t kl_http_rewrite_unescape_redirect(u_char *p, size_t len);

#endif /* KL_REWRITE_H */
