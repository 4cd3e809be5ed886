/* nojit.c: preloaded by memcheck.t so that PCRE2 never JIT-compiles. */

/*
 * PCRE2's JIT code scans subjects in aligned 16-byte loads that may run
 * past the subject's end, within the same allocation: harmless, but
 * valgrind sees conditional jumps on the uninitialised bytes there
 * (PCRE2 silences it only when built with --enable-valgrind, which
 * Debian's is not). kiln takes a failed JIT compile as "interpret":
 * the same answers, and nothing for memcheck to misread.
 */

#include <stdint.h>

/* PCRE2_ERROR_JIT_BADOPTION */
#define NOJIT_DECLINED -45

int pcre2_jit_compile_8(void *code, uint32_t options);


int
pcre2_jit_compile_8(void *code, uint32_t options)
{
    (void) code;
    (void) options;

    return NOJIT_DECLINED;
}
