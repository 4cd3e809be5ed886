/* test_proxy_protocol.c: PROXY protocol v1 and v2 headers read whole and a byte at a time, broken ones, and TLVs by name. */

#include <criterion/criterion.h>

#include "kl_core.h"
#include "proxy_protocol.h"


static kl_int_t
parse(const char *s, size_t len, kl_proxy_protocol_t *pp)
{
    return kl_proxy_protocol_parse((const u_char *) s, len, 1024, pp);
}


static void
expect_str(kl_str_t *s, const char *want)
{
    cr_expect_eq(s->len, strlen(want), "len %zu, want \"%s\"", s->len, want);
    cr_expect(s->len == strlen(want) && memcmp(s->data, want, s->len) == 0,
              "\"%.*s\", want \"%s\"", (int) s->len, s->data, want);
}


/* Every proper prefix of a good header asks for more. */
static void
expect_prefixes_again(const char *s, size_t len)
{
    size_t              i;
    kl_proxy_protocol_t pp;

    for (i = 0; i < len; i++) {
        cr_expect_eq(kl_proxy_protocol_parse((const u_char *) s, i, 1024, &pp),
                     KL_AGAIN, "prefix of %zu bytes", i);
    }
}


Test(proxy_protocol, v1_tcp4)
{
    kl_proxy_protocol_t pp;
    const char         *h = "PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\n"
                            "GET / HTTP/1.0\r\n";

    cr_assert_eq(parse(h, strlen(h), &pp), KL_OK);
    cr_expect_eq(pp.len, strlen("PROXY TCP4 192.0.2.1 198.51.100.2 56324 "
                                "443\r\n"));
    cr_expect_eq(pp.version, 1);
    cr_expect(pp.addrs);
    expect_str(&pp.src_addr, "192.0.2.1");
    expect_str(&pp.dst_addr, "198.51.100.2");
    cr_expect_eq(pp.src_port, 56324);
    cr_expect_eq(pp.dst_port, 443);

    expect_prefixes_again(h, pp.len);
}


Test(proxy_protocol, v1_tcp6_and_unknown)
{
    kl_proxy_protocol_t pp;
    const char         *h6 = "PROXY TCP6 2001:db8::1 ::1 65535 0\r\n";
    const char         *hu = "PROXY UNKNOWN whatever 1 2\r\nrest";

    cr_assert_eq(parse(h6, strlen(h6), &pp), KL_OK);
    expect_str(&pp.src_addr, "2001:db8::1");
    expect_str(&pp.dst_addr, "::1");
    cr_expect_eq(pp.src_port, 65535);
    cr_expect_eq(pp.dst_port, 0);
    expect_prefixes_again(h6, strlen(h6));

    cr_assert_eq(parse(hu, strlen(hu), &pp), KL_OK);
    cr_expect_eq(pp.len, strlen(hu) - 4);
    cr_expect(!pp.addrs);
    expect_prefixes_again(hu, pp.len);

    cr_expect_eq(parse("PROXY UNKNOWN\r\n", 15, &pp), KL_OK);
    cr_expect_eq(pp.len, 15);
}


Test(proxy_protocol, v1_broken)
{
    size_t              i;
    kl_proxy_protocol_t pp;
    char                longl[200];
    static const char  *bad[] = {
         "GET / HTTP/1.0\r\n",
         "PROXY TCP5 1.2.3.4 1.2.3.4 1 2\r\n",
         "PROXY UDP4 1.2.3.4 1.2.3.4 1 2\r\n",
         "PROXY TCP4 1.2.3.x 1.2.3.4 1 2\r\n",
         "PROXY TCP4  1.2.3.4 1 2\r\n",
         "PROXY TCP4 1.2.3.4 1.2.3.4 65536 2\r\n",
         "PROXY TCP4 1.2.3.4 1.2.3.4 1 2x\r\n",
         "PROXY TCP4 1.2.3.4 1.2.3.4 1 2\rX",
         "PROXY TCP4 1.2.3.4 1.2.3.4 -1 2\r\n",
         "proxy TCP4 1.2.3.4 1.2.3.4 1 2\r\n",
         "\r\nGET",
    };

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cr_expect_eq(parse(bad[i], strlen(bad[i]), &pp), KL_ERROR, "%s",
                     bad[i]);
        cr_expect_eq(pp.error, KL_PROXY_PROTOCOL_BROKEN, "%s", bad[i]);
    }

    /* No CRLF within the protocol's 107 bytes. */
    memset(longl, 'a', sizeof(longl));
    memcpy(longl, "PROXY UNKNOWN ", 14);
    cr_expect_eq(parse(longl, 106, &pp), KL_AGAIN);
    cr_expect_eq(parse(longl, 107, &pp), KL_ERROR);
    cr_expect_eq(parse(longl, sizeof(longl), &pp), KL_ERROR);
}


/* A v2 header: the 16 bytes, the addresses, then tlvs. */
static size_t
v2(u_char *b, u_char ver_cmd, u_char fam, const u_char *addrs, size_t alen,
   const u_char *tlvs, size_t tlen)
{
    size_t n;

    memcpy(b, "\r\n\r\n\0\r\nQUIT\n", 12);
    b[12] = ver_cmd;
    b[13] = fam;
    n = alen + tlen;
    b[14] = (u_char) (n >> 8);
    b[15] = (u_char) n;
    if (alen) {
        memcpy(b + 16, addrs, alen);
    }

    if (tlen) {
        memcpy(b + 16 + alen, tlvs, tlen);
    }

    return 16 + n;
}


Test(proxy_protocol, v2_inet_tlvs)
{
    size_t              n, i;
    u_char              b[256];
    kl_str_t            v, name;
    kl_uint_t           verify;
    kl_proxy_protocol_t pp;
    static const u_char a4[] = { 192, 0, 2, 1, 10, 0, 0, 1, 0xdc, 0x04, 0, 80 };
    static const u_char tl[] = {
        0x01, 0, 2,  'h',  '2',                 /* alpn */
        0x02, 0, 3,  'a',  '.', 'b',            /* authority */
        0xe0, 0, 1,  'x',                       /* custom */
        0x20, 0, 13, 0x07, 0,   0,   0,   0x05, /* ssl: client, verify 5 */
        0x21, 0, 5,  'T',  'L', 'S', 'v', '1',  /* ssl_version */
    };

    n = v2(b, 0x21, 0x11, a4, sizeof(a4), tl, sizeof(tl));

    cr_assert_eq(kl_proxy_protocol_parse(b, n + 3, 1024, &pp), KL_OK);
    cr_expect_eq(pp.len, n);
    cr_expect_eq(pp.version, 2);
    cr_expect(pp.addrs);
    expect_str(&pp.src_addr, "192.0.2.1");
    expect_str(&pp.dst_addr, "10.0.0.1");
    cr_expect_eq(pp.src_port, 56324);
    cr_expect_eq(pp.dst_port, 80);
    cr_expect_eq(pp.tlvs.len, sizeof(tl));

    for (i = 0; i < n; i++) {
        cr_expect_eq(kl_proxy_protocol_parse(b, i, 1024, &pp), KL_AGAIN,
                     "prefix %zu", i);
    }

    kl_proxy_protocol_parse(b, n, 1024, &pp);

    kl_str_set(&name, "alpn");
    cr_assert_eq(kl_proxy_protocol_tlv(&pp.tlvs, &name, &v, &verify), KL_OK);
    expect_str(&v, "h2");
    kl_str_set(&name, "authority");
    cr_assert_eq(kl_proxy_protocol_tlv(&pp.tlvs, &name, &v, &verify), KL_OK);
    expect_str(&v, "a.b");
    kl_str_set(&name, "0xE0");
    cr_assert_eq(kl_proxy_protocol_tlv(&pp.tlvs, &name, &v, &verify), KL_OK);
    expect_str(&v, "x");
    kl_str_set(&name, "0x01");
    cr_assert_eq(kl_proxy_protocol_tlv(&pp.tlvs, &name, &v, &verify), KL_OK);
    expect_str(&v, "h2");
    kl_str_set(&name, "ssl_version");
    cr_assert_eq(kl_proxy_protocol_tlv(&pp.tlvs, &name, &v, &verify), KL_OK);
    expect_str(&v, "TLSv1");
    kl_str_set(&name, "ssl_0x21");
    cr_assert_eq(kl_proxy_protocol_tlv(&pp.tlvs, &name, &v, &verify), KL_OK);
    expect_str(&v, "TLSv1");
    kl_str_set(&name, "ssl_verify");
    cr_assert_eq(kl_proxy_protocol_tlv(&pp.tlvs, &name, &v, &verify), KL_OK);
    cr_expect_eq(verify, 1);
    cr_expect(v.len == 4 && v.data[3] == 5);
    kl_str_set(&name, "ssl_cn");
    cr_expect_eq(kl_proxy_protocol_tlv(&pp.tlvs, &name, &v, &verify),
                 KL_DECLINED);
    kl_str_set(&name, "unique_id");
    cr_expect_eq(kl_proxy_protocol_tlv(&pp.tlvs, &name, &v, &verify),
                 KL_DECLINED);
    kl_str_set(&name, "bogus");
    cr_expect_eq(kl_proxy_protocol_tlv(&pp.tlvs, &name, &v, &verify), KL_ABORT);
    kl_str_set(&name, "0x100");
    cr_expect_eq(kl_proxy_protocol_tlv(&pp.tlvs, &name, &v, &verify), KL_ABORT);

    /* A TLV that claims more than there is. */
    b[16 + sizeof(a4) + 12] = 0xff;
    kl_proxy_protocol_parse(b, n, 1024, &pp);
    kl_str_set(&name, "0x30");
    cr_expect_eq(kl_proxy_protocol_tlv(&pp.tlvs, &name, &v, &verify), KL_ERROR);
}


Test(proxy_protocol, v2_inet6_local_and_errors)
{
    size_t              n;
    u_char              b[256], a6[36];
    kl_proxy_protocol_t pp;

    memset(a6, 0, sizeof(a6));
    a6[0] = 0x20;
    a6[1] = 0x01;
    a6[15] = 1;
    a6[31] = 1;
    a6[32] = 0x30;
    a6[33] = 0x39;
    a6[35] = 8;

    n = v2(b, 0x21, 0x21, a6, sizeof(a6), NULL, 0);
    cr_assert_eq(kl_proxy_protocol_parse(b, n, 1024, &pp), KL_OK);
    expect_str(&pp.src_addr, "2001::1");
    expect_str(&pp.dst_addr, "::1");
    cr_expect_eq(pp.src_port, 12345);
    cr_expect_eq(pp.dst_port, 8);
    cr_expect_eq(pp.tlvs.len, 0);

    /* LOCAL: skipped, no addresses. */
    n = v2(b, 0x20, 0x00, NULL, 0, NULL, 0);
    cr_assert_eq(kl_proxy_protocol_parse(b, n, 1024, &pp), KL_OK);
    cr_expect_eq(pp.len, 16);
    cr_expect(!pp.addrs);

    /* UDP and AF_UNIX: skipped too. */
    n = v2(b, 0x21, 0x12, a6, 12, NULL, 0);
    cr_assert_eq(kl_proxy_protocol_parse(b, n, 1024, &pp), KL_OK);
    cr_expect(!pp.addrs);
    n = v2(b, 0x21, 0x31, a6, 36, NULL, 0);
    cr_assert_eq(kl_proxy_protocol_parse(b, n, 1024, &pp), KL_OK);
    cr_expect(!pp.addrs);

    /* Too short for its addresses. */
    n = v2(b, 0x21, 0x11, a6, 11, NULL, 0);
    cr_expect_eq(kl_proxy_protocol_parse(b, n, 1024, &pp), KL_ERROR);
    cr_expect_eq(pp.error, KL_PROXY_PROTOCOL_BROKEN);

    /* Version 1 in a binary header. */
    n = v2(b, 0x11, 0x11, a6, 12, NULL, 0);
    cr_expect_eq(kl_proxy_protocol_parse(b, 13, 1024, &pp), KL_ERROR);
    cr_expect_eq(pp.error, KL_PROXY_PROTOCOL_VERSION);
    cr_expect_eq(pp.version, 1);

    /* Longer than the room there is. */
    n = v2(b, 0x21, 0x11, a6, 12, NULL, 0);
    cr_expect_eq(kl_proxy_protocol_parse(b, 16, 27, &pp), KL_ERROR);
    cr_expect_eq(pp.error, KL_PROXY_PROTOCOL_TOO_LARGE);
    cr_expect_eq(kl_proxy_protocol_parse(b, 16, 28, &pp), KL_AGAIN);

    /* A wrong signature byte. */
    b[7] = 'q';
    cr_expect_eq(kl_proxy_protocol_parse(b, 8, 1024, &pp), KL_ERROR);
    cr_expect_eq(pp.error, KL_PROXY_PROTOCOL_BROKEN);
}
