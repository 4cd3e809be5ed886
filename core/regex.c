/*
 * regex.c: the PCRE2 seam. Patterns are compiled once, at configuration
 * time, and JIT-compiled when PCRE2 can; the compiled code is read-only
 * after fork, so every worker shares the master's pages. Matching needs
 * a pcre2_match_data block: one per process, grown to the largest
 * pattern and reused, so a match allocates nothing.
 */

#include "kl_core.h"

#if (KL_HAVE_PCRE2)

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>


static void
kl_regex_cleanup(void *data)
{
    pcre2_code_free(data);
}


kl_int_t
kl_regex_compile(kl_regex_compile_t *rc)
{
    int                errcode;
    size_t             erroff;
    u_char            *p;
    uint32_t           n, options;
    kl_regex_t        *re;
    pcre2_code        *code;
    kl_pool_cleanup_t *cln;
    PCRE2_UCHAR        text[256];

    options = (rc->options & KL_REGEX_CASELESS) ? PCRE2_CASELESS : 0;

    code = pcre2_compile((PCRE2_SPTR) rc->pattern.data, rc->pattern.len,
                         options, &errcode, &erroff, NULL);

    if (code == NULL) {
        pcre2_get_error_message(errcode, text, sizeof(text));

        if (rc->err.data) {
            p = kl_slprintf(rc->err.data, rc->err.data + rc->err.len,
                            "pcre2_compile() failed: %s in \"%V\"", text,
                            &rc->pattern);

            if (erroff < rc->pattern.len) {
                p = kl_slprintf(p, rc->err.data + rc->err.len, " at \"%*s\"",
                                rc->pattern.len - erroff,
                                rc->pattern.data + erroff);
            }

            rc->err.len = p - rc->err.data;
        }

        return KL_ERROR;
    }

    cln = kl_pool_cleanup_add(rc->pool, 0);
    re = kl_pcalloc(rc->pool, sizeof(kl_regex_t));

    if (cln == NULL || re == NULL) {
        pcre2_code_free(code);
        return KL_ERROR;
    }

    cln->handler = kl_regex_cleanup;
    cln->data = code;

#if (KL_HAVE_PCRE2_JIT)
    /* Not fatal: the interpreter gives the same answers, more slowly. */
    (void) pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
#endif

    re->code = code;

    (void) pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &n);
    re->captures = n;

    (void) pcre2_pattern_info(code, PCRE2_INFO_NAMECOUNT, &n);
    re->named_captures = n;

    if (n) {
        (void) pcre2_pattern_info(code, PCRE2_INFO_NAMEENTRYSIZE, &n);
        re->name_size = n;
        (void) pcre2_pattern_info(code, PCRE2_INFO_NAMETABLE, &re->names);
    }

    rc->regex = re;

    return KL_OK;
}


kl_int_t
kl_regex_exec(kl_regex_t *re, kl_str_t *s, int *captures, kl_uint_t size)
{
    int         rc;
    kl_uint_t   i, n;
    PCRE2_SIZE *ov;

    n = re->captures + 1;

    if (kl_loop.regex_match_data == NULL || kl_loop.regex_match_size < n) {
        if (kl_loop.regex_match_data) {
            pcre2_match_data_free(kl_loop.regex_match_data);
        }

        /* Grown with some room, so a few larger patterns do not churn it. */
        kl_loop.regex_match_size = kl_max(n, 16);
        kl_loop.regex_match_data =
            pcre2_match_data_create((uint32_t) kl_loop.regex_match_size, NULL);

        if (kl_loop.regex_match_data == NULL) {
            kl_loop.regex_match_size = 0;
            return KL_ERROR;
        }
    }

    rc = pcre2_match(re->code, (PCRE2_SPTR) s->data, s->len, 0, 0,
                     kl_loop.regex_match_data, NULL);

    if (rc == PCRE2_ERROR_NOMATCH) {
        return KL_REGEX_NO_MATCHED;
    }

    if (rc < 0) {
        return rc < KL_REGEX_NO_MATCHED ? KL_ERROR : rc;
    }

    ov = pcre2_get_ovector_pointer(kl_loop.regex_match_data);

    if ((kl_uint_t) rc > size / 2) {
        rc = (int) (size / 2);
    }

    for (i = 0; i < (kl_uint_t) rc * 2; i++) {
        captures[i] = (int) ov[i];
    }

    return rc;
}


void
kl_regex_release(void)
{
    if (kl_loop.regex_match_data) {
        pcre2_match_data_free(kl_loop.regex_match_data);
        kl_loop.regex_match_data = NULL;
        kl_loop.regex_match_size = 0;
    }
}

#else


kl_int_t
kl_regex_compile(kl_regex_compile_t *rc)
{
    if (rc->err.data) {
        rc->err.len =
            kl_slprintf(rc->err.data, rc->err.data + rc->err.len,
                        "using regex \"%V\" requires PCRE2", &rc->pattern)
            - rc->err.data;
    }

    return KL_ERROR;
}


kl_int_t
kl_regex_exec(kl_regex_t *re, kl_str_t *s, int *captures, kl_uint_t size)
{
    (void) re;
    (void) s;
    (void) captures;
    (void) size;

    return KL_ERROR;
}


void
kl_regex_release(void)
{
}

#endif
