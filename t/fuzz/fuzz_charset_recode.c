/* fuzz_charset_recode.c: libFuzzer target for the charset module's UTF-8 recoding (charset_recode.c). */

/*
 * The input, cut in two at a point its first byte chooses, is recoded
 * from UTF-8 as two buffers; the result must equal the recoding of the
 * whole, the count must equal the bytes written, and at most 3 bytes may
 * wait between the buffers. Every byte recoded to UTF-8 and back must
 * come back itself when the map has it.
 */

#include "kl_core.h"
#include "charset/charset_recode.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static u_char             kl_fuzz_page[256];
static kl_charset_pages_t kl_fuzz_pages;
static u_char             kl_fuzz_to_utf8[256 * KL_CHARSET_UTF_LEN];


static void
kl_fuzz_init(void)
{
    kl_uint_t i;
    u_char   *e;

    if (kl_fuzz_pages[0]) {
        return;
    }

    kl_fuzz_pages[0] = kl_fuzz_page;

    /* Latin-1 as the single-byte charset: each byte is U+00XX */
    for (i = 0; i < 256; i++) {
        kl_fuzz_page[i] = (u_char) i;
        e = &kl_fuzz_to_utf8[i * KL_CHARSET_UTF_LEN];

        if (i < 0x80) {
            e[0] = 1;
            e[1] = (u_char) i;
        } else {
            e[0] = 2;
            e[1] = (u_char) (0xc0 | (i >> 6));
            e[2] = (u_char) (0x80 | (i & 0x3f));
        }
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t                  cut, n, m, need;
    u_char                 *whole, *parts, *utf, *back, *in;
    kl_charset_utf8_state_t st;

    kl_fuzz_init();

    if (size == 0) {
        return 0;
    }

    cut = data[0] % size;
    in = malloc(size);
    whole = malloc(size * 10 + 16);
    parts = malloc(size * 10 + 16);
    if (in == NULL || whole == NULL || parts == NULL) {
        abort();
    }

    memcpy(in, data, size);

    memset(&st, 0, sizeof(st));
    need = kl_charset_from_utf8(kl_fuzz_pages, &st, in, size, 1, NULL);
    n = kl_charset_from_utf8(kl_fuzz_pages, &st, in, size, 1, whole);
    if (n != need || st.nsaved != 0) {
        abort();
    }

    memset(&st, 0, sizeof(st));
    m = kl_charset_from_utf8(kl_fuzz_pages, &st, in, cut, 0, parts);
    if (st.nsaved > 3) {
        abort();
    }

    m += kl_charset_from_utf8(kl_fuzz_pages, &st, in + cut, size - cut, 1,
                              parts + m);
    if (m != n || memcmp(whole, parts, n) != 0) {
        abort();
    }

    /* Latin-1 to UTF-8 and back is the identity */
    n = kl_charset_to_utf8(kl_fuzz_to_utf8, in, size, NULL);
    utf = malloc(n + 1);
    back = malloc(size + 1);
    if (utf == NULL || back == NULL) {
        abort();
    }

    if (kl_charset_to_utf8(kl_fuzz_to_utf8, in, size, utf) != n) {
        abort();
    }

    memset(&st, 0, sizeof(st));
    m = kl_charset_from_utf8(kl_fuzz_pages, &st, utf, n, 1, back);
    if (m != size || memcmp(back, in, size) != 0) {
        abort();
    }

    free(in);
    free(whole);
    free(parts);
    free(utf);
    free(back);

    return 0;
}
