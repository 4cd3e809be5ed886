/* test_charset_recode.c: the charset module's recoding functions (modules/charset/charset_recode.c): strict UTF-8 decoding, the three recodings, and input cut at every byte. */

#include <criterion/criterion.h>

#include "kl_core.h"
#include "charset/charset_recode.h"


/* A koi8-r-like map: 0xC1 is U+0430 (a), 0xC2 U+0431, 0x9A U+00A0. */
static u_char             kl_test_to_utf8[256 * KL_CHARSET_UTF_LEN];
static u_char             kl_test_page00[256], kl_test_page04[256];
static kl_charset_pages_t kl_test_pages;


static void
kl_test_map(u_char b, const char *utf8, uint32_t cp)
{
    u_char *e;

    e = &kl_test_to_utf8[b * KL_CHARSET_UTF_LEN];
    e[0] = (u_char) strlen(utf8);
    memcpy(e + 1, utf8, e[0]);

    kl_test_pages[cp >> 8][cp & 0xff] = b;
}


static void
kl_test_setup(void)
{
    kl_uint_t i;

    memset(kl_test_to_utf8, 0, sizeof(kl_test_to_utf8));
    memset(kl_test_pages, 0, sizeof(kl_test_pages));
    memset(kl_test_page00, 0, sizeof(kl_test_page00));
    memset(kl_test_page04, 0, sizeof(kl_test_page04));

    kl_test_pages[0x00] = kl_test_page00;
    kl_test_pages[0x04] = kl_test_page04;

    for (i = 0; i < 128; i++) {
        kl_test_to_utf8[i * KL_CHARSET_UTF_LEN] = 1;
        kl_test_to_utf8[i * KL_CHARSET_UTF_LEN + 1] = (u_char) i;
        kl_test_page00[i] = (u_char) i;
    }

    kl_test_map(0xc1, "\xd0\xb0", 0x0430);
    kl_test_map(0xc2, "\xd0\xb1", 0x0431);
    kl_test_map(0x9a, "\xc2\xa0", 0x00a0);
}


static uint32_t
kl_test_decode(const char *s, size_t n, size_t *len)
{
    return kl_charset_utf8_decode((const u_char *) s, n, len);
}


Test(charset_recode, decode_valid)
{
    size_t len;

    cr_assert_eq(kl_test_decode("A", 1, &len), 'A');
    cr_assert_eq(len, 1);
    cr_assert_eq(kl_test_decode("\xd0\xb0", 2, &len), 0x430);
    cr_assert_eq(len, 2);
    cr_assert_eq(kl_test_decode("\xe2\x9c\x93", 3, &len), 0x2713);
    cr_assert_eq(len, 3);
    cr_assert_eq(kl_test_decode("\xf0\x9f\x98\x80", 4, &len), 0x1f600);
    cr_assert_eq(len, 4);
    cr_assert_eq(kl_test_decode("\xf4\x8f\xbf\xbf", 4, &len), 0x10ffff);
}


Test(charset_recode, decode_invalid)
{
    size_t len;

    /* overlong forms, surrogates, past U+10FFFF, bare continuations */
    cr_assert_eq(kl_test_decode("\xc0\x80", 2, &len), KL_CHARSET_BAD);
    cr_assert_eq(len, 1);
    cr_assert_eq(kl_test_decode("\xe0\x80\x80", 3, &len), KL_CHARSET_BAD);
    cr_assert_eq(len, 1);
    cr_assert_eq(kl_test_decode("\xed\xa0\x80", 3, &len), KL_CHARSET_BAD);
    cr_assert_eq(len, 1);
    cr_assert_eq(kl_test_decode("\xf4\x90\x80\x80", 4, &len), KL_CHARSET_BAD);
    cr_assert_eq(kl_test_decode("\xf5\x80", 2, &len), KL_CHARSET_BAD);
    cr_assert_eq(kl_test_decode("\x80", 1, &len), KL_CHARSET_BAD);
    cr_assert_eq(kl_test_decode("\xff", 1, &len), KL_CHARSET_BAD);

    /* the maximal subpart: a valid start broken by the next byte */
    cr_assert_eq(kl_test_decode("\xe2\x82"
                                "A",
                                3, &len),
                 KL_CHARSET_BAD);
    cr_assert_eq(len, 2);
    cr_assert_eq(kl_test_decode("\xf0\x9f\x98"
                                "A",
                                4, &len),
                 KL_CHARSET_BAD);
    cr_assert_eq(len, 3);
}


Test(charset_recode, decode_cut)
{
    size_t len;

    cr_assert_eq(kl_test_decode("\xe2\x82", 2, &len), KL_CHARSET_CUT);
    cr_assert_eq(kl_test_decode("\xd0", 1, &len), KL_CHARSET_CUT);
    cr_assert_eq(kl_test_decode("\xf0\x9f\x98", 3, &len), KL_CHARSET_CUT);
    /* a start that can never be valid is not a cut */
    cr_assert_eq(kl_test_decode("\xe0\x80", 2, &len), KL_CHARSET_BAD);
}


Test(charset_recode, bytes)
{
    u_char table[256], out[4];
    int    i;

    for (i = 0; i < 256; i++) {
        table[i] = (u_char) (255 - i);
    }

    kl_charset_recode_bytes(table, out, (u_char *) "\x00\x01\xfe\xff", 4);
    cr_assert_eq(memcmp(out, "\xff\xfe\x01\x00", 4), 0);
}


Test(charset_recode, to_utf8, .init = kl_test_setup)
{
    const u_char *in = (const u_char *) "x\xc1\xc2\x80\x9ay";
    u_char        out[32];
    size_t        n;

    n = kl_charset_to_utf8(kl_test_to_utf8, in, 6, NULL);
    cr_assert_eq(n, 8, "counted %zu", n);

    /* 0x80 has no character in the map: dropped, as nginx does */
    n = kl_charset_to_utf8(kl_test_to_utf8, in, 6, out);
    cr_assert_eq(n, 8);
    cr_assert_eq(memcmp(out, "x\xd0\xb0\xd0\xb1\xc2\xa0y", 8), 0);
}


static size_t
kl_test_from(const char *s, size_t n, kl_uint_t last, u_char *out,
             kl_charset_utf8_state_t *st)
{
    size_t need, got;

    need = kl_charset_from_utf8(kl_test_pages, st, (const u_char *) s, n, last,
                                NULL);
    got = kl_charset_from_utf8(kl_test_pages, st, (const u_char *) s, n, last,
                               out);
    cr_assert_eq(need, got, "counted %zu, wrote %zu", need, got);

    return got;
}


Test(charset_recode, from_utf8, .init = kl_test_setup)
{
    kl_charset_utf8_state_t st;
    u_char                  out[64];
    size_t                  n;

    memset(&st, 0, sizeof(st));

    n = kl_test_from("x\xd0\xb0\xe2\x9c\x93\xc2\xa0y", 10, 1, out, &st);
    cr_assert_eq(n, 13);
    cr_assert_eq(memcmp(out, "x\xc1&#10003;\x9ay", 13), 0);

    /* beyond the BMP: no page, a reference */
    n = kl_test_from("\xf0\x9f\x98\x80", 4, 1, out, &st);
    cr_assert_eq(n, 9);
    cr_assert_eq(memcmp(out, "&#128512;", 9), 0);

    /* invalid bytes: one '?' per maximal subpart, the next byte kept */
    n = kl_test_from("a\xe2\x82 b\xff c", 8, 1, out, &st);
    cr_assert_eq(n, 7);
    cr_assert_eq(memcmp(out, "a? b? c", 7), 0);

    /* a body that ends inside a sequence */
    n = kl_test_from("z\xd0", 2, 1, out, &st);
    cr_assert_eq(n, 2);
    cr_assert_eq(memcmp(out, "z?", 2), 0);
    cr_assert_eq(st.nsaved, 0);
}


/* Cut in two at every byte: the same output as the whole. */
Test(charset_recode, from_utf8_cut_everywhere, .init = kl_test_setup)
{
    static const char       in[] = "a\xd0\xb0\xe2\x9c\x93\xf0\x9f\x98\x80"
                                   "\xd0\xb1\xe2\x82 z";
    kl_charset_utf8_state_t st;
    u_char                  whole[128], parts[128];
    size_t                  len, cut, n, m;

    len = sizeof(in) - 1;

    memset(&st, 0, sizeof(st));
    n = kl_test_from(in, len, 1, whole, &st);

    for (cut = 0; cut <= len; cut++) {
        memset(&st, 0, sizeof(st));

        m = kl_test_from(in, cut, 0, parts, &st);
        cr_assert_leq(st.nsaved, 3);
        m += kl_test_from(in + cut, len - cut, 1, parts + m, &st);

        cr_assert_eq(m, n, "cut at %zu: %zu bytes, not %zu", cut, m, n);
        cr_assert_eq(memcmp(parts, whole, n), 0, "cut at %zu", cut);
    }
}


/* A sequence spread over three buffers of one byte and more. */
Test(charset_recode, from_utf8_byte_by_byte, .init = kl_test_setup)
{
    static const char       in[] = "\xf0\x9f\x98\x80\xd0\xb0";
    kl_charset_utf8_state_t st;
    u_char                  out[64];
    size_t                  i, n;

    memset(&st, 0, sizeof(st));
    n = 0;

    for (i = 0; i < sizeof(in) - 1; i++) {
        n += kl_test_from(in + i, 1, i == sizeof(in) - 2, out + n, &st);
    }

    cr_assert_eq(n, 10);
    cr_assert_eq(memcmp(out, "&#128512;\xc1", 10), 0);
}
