/* regex.h: PCRE2 regexes compiled once (with JIT) and matched with per-process match data. */

#ifndef KL_REGEX_H
#define KL_REGEX_H

#include "kl_config.h"
#include "kl_types.h"
#include "string.h"

#define KL_REGEX_CASELESS 0x00000001

/* kl_regex_exec's answer when the subject does not match. */
#define KL_REGEX_NO_MATCHED -1000

typedef struct {
    void     *code;     /* pcre2_code *, freed by a pool cleanup */
    kl_uint_t captures; /* number of capture groups */
    kl_uint_t named_captures;
    kl_uint_t name_size; /* bytes per entry of the name table */
    u_char   *names;     /* PCRE2's table: 2-byte group number, name */
} kl_regex_t;

typedef struct {
    kl_str_t    pattern;
    kl_pool_t  *pool;
    kl_uint_t   options;
    kl_regex_t *regex; /* the result */
    kl_str_t    err;   /* the reason, when KL_ERROR; caller's buffer */
} kl_regex_compile_t;

/*
 * Compile rc->pattern (JIT-compiled when PCRE2 has JIT). On error rc->err
 * holds nginx's wording: 'pcre2_compile() failed: <why> in "<re>" at
 * "<rest>"'. The code lives as long as rc->pool.
 */
kl_int_t kl_regex_compile(kl_regex_compile_t *rc);

/*
 * Match s. On a match, returns the number of pairs set in captures (an
 * array of size ints; pairs of start/end offsets, like PCRE's ovector);
 * KL_REGEX_NO_MATCHED if no match; another negative value on error.
 * size may be 0 when the offsets are not wanted.
 */
kl_int_t kl_regex_exec(kl_regex_t *re, kl_str_t *s, int *captures,
                       kl_uint_t size);

/* Release the per-process match data (worker exit). */
void kl_regex_release(void);

#endif /* KL_REGEX_H */
