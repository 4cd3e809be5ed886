/* test_resolver_parse.c: DNS queries built and answers read, from hand-built packets, malformed ones too. */

#include <criterion/criterion.h>

#include "kl_core.h"
#include "resolver_parse.h"


/* A packet being written by a test. */
typedef struct {
    u_char buf[1024];
    size_t len;
} pkt_t;


static void
put(pkt_t *p, const void *data, size_t n)
{
    memcpy(p->buf + p->len, data, n);
    p->len += n;
}


static void
put16(pkt_t *p, unsigned v)
{
    p->buf[p->len++] = (u_char) (v >> 8);
    p->buf[p->len++] = (u_char) v;
}


static void
put32(pkt_t *p, uint32_t v)
{
    put16(p, v >> 16);
    put16(p, v & 0xffff);
}


/* "a.example" as labels; NULL name: the root. */
static void
put_name(pkt_t *p, const char *name)
{
    const char *dot;
    size_t      n;

    while (name && *name) {
        dot = strchr(name, '.');
        n = dot ? (size_t) (dot - name) : strlen(name);
        p->buf[p->len++] = (u_char) n;
        put(p, name, n);
        name += n + (dot ? 1 : 0);
    }

    p->buf[p->len++] = 0;
}


static void
header(pkt_t *p, unsigned id, unsigned flags, unsigned an)
{
    p->len = 0;
    put16(p, id);
    put16(p, flags);
    put16(p, 1);
    put16(p, an);
    put16(p, 0);
    put16(p, 0);
}


static void
question(pkt_t *p, const char *name, unsigned type)
{
    put_name(p, name);
    put16(p, type);
    put16(p, 1);
}


/* A record whose owner is a pointer to offset 12 (the question's name). */
static void
rr_head(pkt_t *p, unsigned type, uint32_t ttl, unsigned rdlen)
{
    put16(p, 0xc00c);
    put16(p, type);
    put16(p, 1);
    put32(p, ttl);
    put16(p, rdlen);
}


static kl_int_t
parse(pkt_t *p, const char *name, unsigned type, kl_resolver_answer_t *ans,
      const char **err)
{
    kl_str_t                s;
    static kl_resolver_rr_t rrs[8];

    s.data = (u_char *) name;
    s.len = strlen(name);
    ans->rrs = rrs;
    ans->nalloc = 8;
    *err = NULL;

    return kl_resolver_parse_answer(p->buf, p->len, &s, type, ans, err);
}


Test(resolver_parse, query)
{
    u_char   buf[KL_RESOLVER_QUERY_LEN];
    size_t   len;
    kl_str_t name = kl_string("www.Example.com.");
    u_char   want[] = { 0x12, 0x34, 1,   0,   0,   1,   0,   0,   0,   0,   0,
                        0,    3,    'w', 'w', 'w', 7,   'E', 'x', 'a', 'm', 'p',
                        'l',  'e',  3,   'c', 'o', 'm', 0,   0,   28,  0,   1 };

    cr_assert_eq(
        kl_resolver_build_query(buf, &len, &name, KL_RESOLVER_AAAA, 0x1234),
        KL_OK);
    cr_assert_eq(len, sizeof(want));
    cr_assert_arr_eq(buf, want, len);
}


Test(resolver_parse, query_bad_names)
{
    u_char      buf[KL_RESOLVER_QUERY_LEN];
    char        big[300];
    size_t      len;
    kl_uint_t   i;
    kl_str_t    s;
    const char *bad[] = { "",
                          ".",
                          "a..b",
                          ".a",
                          "a.b..",
                          "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                          "aaaaaaaaaaaa.com" };

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        s.data = (u_char *) bad[i];
        s.len = strlen(bad[i]);
        cr_assert_eq(kl_resolver_build_query(buf, &len, &s, 1, 1), KL_ERROR,
                     "%s", bad[i]);
    }

    /* 254 bytes of name: over 255 encoded. */
    for (i = 0; i < 254; i++) {
        big[i] = (i % 50 == 49) ? '.' : 'a';
    }

    s.data = (u_char *) big;
    s.len = 254;
    cr_assert_eq(kl_resolver_build_query(buf, &len, &s, 1, 1), KL_ERROR);

    s.len = 253;
    cr_assert_eq(kl_resolver_build_query(buf, &len, &s, 1, 1), KL_OK);
    cr_assert_eq(len, 12 + 255 + 4);
}


Test(resolver_parse, a_records)
{
    pkt_t                p;
    const char          *err;
    kl_resolver_answer_t ans;

    header(&p, 7, 0x8180, 2);
    question(&p, "backend.test", KL_RESOLVER_A);
    rr_head(&p, KL_RESOLVER_A, 300, 4);
    put(&p, "\x7f\x00\x00\x01", 4);
    rr_head(&p, KL_RESOLVER_A, 60, 4);
    put(&p, "\x7f\x00\x00\x02", 4);

    cr_assert_eq(parse(&p, "Backend.Test", KL_RESOLVER_A, &ans, &err), KL_OK);
    cr_assert_eq(ans.id, 7);
    cr_assert_eq(ans.rcode, 0);
    cr_assert_eq(ans.nrrs, 2);
    cr_assert_eq(ans.ttl, 60);
    cr_assert_eq(ans.rrs[0].ttl, 300);
    cr_assert_arr_eq(ans.rrs[1].addr, "\x7f\x00\x00\x02", 4);
    cr_assert_eq(ans.cname_len, 0);
}


Test(resolver_parse, aaaa_and_other_types_skipped)
{
    pkt_t                p;
    const char          *err;
    kl_resolver_answer_t ans;

    header(&p, 1, 0x8180, 2);
    question(&p, "v6.test", KL_RESOLVER_AAAA);
    rr_head(&p, KL_RESOLVER_A, 10, 4); /* not asked for */
    put(&p, "\x01\x02\x03\x04", 4);
    rr_head(&p, KL_RESOLVER_AAAA, 0x80000000, 16); /* top bit: 0 */
    put(&p, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\1", 16);

    cr_assert_eq(parse(&p, "v6.test", KL_RESOLVER_AAAA, &ans, &err), KL_OK);
    cr_assert_eq(ans.nrrs, 1);
    cr_assert_eq(ans.rrs[0].type, KL_RESOLVER_AAAA);
    cr_assert_eq(ans.rrs[0].addr[15], 1);
    cr_assert_eq(ans.ttl, 0);
}


/* alias.test -> mid.test -> real.test, given out of order. */
Test(resolver_parse, cname_chain)
{
    pkt_t                p;
    size_t               mid;
    const char          *err;
    kl_resolver_answer_t ans;

    header(&p, 2, 0x8180, 3);
    question(&p, "alias.test", KL_RESOLVER_A);
    rr_head(&p, KL_RESOLVER_CNAME, 100, 10);
    mid = p.len;
    put_name(&p, "mid.test"); /* 3 mid 4 test 0: 10 bytes */

    /* real.test A, its owner written out */
    put_name(&p, "real.test");
    put16(&p, KL_RESOLVER_A);
    put16(&p, 1);
    put32(&p, 50);
    put16(&p, 4);
    put(&p, "\x0a\x00\x00\x09", 4);

    /* mid.test CNAME real.test: owner a pointer to mid, target too */
    put16(&p, 0xc000 | mid);
    put16(&p, KL_RESOLVER_CNAME);
    put16(&p, 1);
    put32(&p, 20);
    put16(&p, 2);
    put16(&p, 0xc000 | (mid + 10));

    cr_assert_eq(parse(&p, "alias.test", KL_RESOLVER_A, &ans, &err), KL_OK,
                 "%s", err);
    cr_assert_eq(ans.nrrs, 1);
    cr_assert_arr_eq(ans.rrs[0].addr, "\x0a\x00\x00\x09", 4);
    cr_assert_eq(ans.ttl, 20);
    cr_assert_eq(ans.cname_len, 0);
}


Test(resolver_parse, cname_without_records)
{
    pkt_t                p;
    const char          *err;
    kl_resolver_answer_t ans;

    header(&p, 2, 0x8180, 1);
    question(&p, "alias.test", KL_RESOLVER_A);
    rr_head(&p, KL_RESOLVER_CNAME, 100, 11);
    put_name(&p, "other.test");

    cr_assert_eq(parse(&p, "alias.test", KL_RESOLVER_A, &ans, &err), KL_OK);
    cr_assert_eq(ans.nrrs, 0);
    cr_assert_eq(ans.cname_len, 10);
    cr_assert_arr_eq(ans.cname, "other.test", 10);
    cr_assert_eq(ans.ttl, 100);
}


Test(resolver_parse, cname_loop)
{
    pkt_t                p;
    const char          *err;
    kl_resolver_answer_t ans;

    /* loop.test CNAME loop.test */
    header(&p, 2, 0x8180, 1);
    question(&p, "loop.test", KL_RESOLVER_A);
    rr_head(&p, KL_RESOLVER_CNAME, 100, 2);
    put16(&p, 0xc00c);

    cr_assert_eq(parse(&p, "loop.test", KL_RESOLVER_A, &ans, &err), KL_ERROR);
    cr_assert_str_eq(err, "CNAME loop");
}


Test(resolver_parse, srv)
{
    pkt_t                p;
    const char          *err;
    kl_resolver_answer_t ans;

    header(&p, 3, 0x8180, 2);
    question(&p, "_http._tcp.svc.test", KL_RESOLVER_SRV);
    rr_head(&p, KL_RESOLVER_SRV, 30, 6 + 10);
    put16(&p, 10);
    put16(&p, 5);
    put16(&p, 8081);
    put_name(&p, "one.test");
    rr_head(&p, KL_RESOLVER_SRV, 40, 6 + 10);
    put16(&p, 20);
    put16(&p, 0);
    put16(&p, 8082);
    put_name(&p, "Two.Test");

    cr_assert_eq(parse(&p, "_http._tcp.svc.test", KL_RESOLVER_SRV, &ans, &err),
                 KL_OK, "%s", err);
    cr_assert_eq(ans.nrrs, 2);
    cr_assert_eq(ans.rrs[0].priority, 10);
    cr_assert_eq(ans.rrs[0].weight, 5);
    cr_assert_eq(ans.rrs[0].port, 8081);
    cr_assert_eq(ans.rrs[0].target_len, 8);
    cr_assert_arr_eq(ans.rrs[0].target, "one.test", 8);
    cr_assert_arr_eq(ans.rrs[1].target, "two.test", 8);
    cr_assert_eq(ans.ttl, 30);
}


Test(resolver_parse, rcodes_and_truncation)
{
    pkt_t                p;
    const char          *err;
    kl_resolver_answer_t ans;

    header(&p, 4, 0x8183, 0);
    question(&p, "none.test", KL_RESOLVER_A);
    cr_assert_eq(parse(&p, "none.test", KL_RESOLVER_A, &ans, &err), KL_OK);
    cr_assert_eq(ans.rcode, KL_RESOLVER_NXDOMAIN);
    cr_assert_str_eq(kl_resolver_strerror(ans.rcode), "Host not found");

    header(&p, 4, 0x8182, 0);
    question(&p, "none.test", KL_RESOLVER_A);
    cr_assert_eq(parse(&p, "none.test", KL_RESOLVER_A, &ans, &err), KL_OK);
    cr_assert_eq(ans.rcode, KL_RESOLVER_SERVFAIL);
    cr_assert_str_eq(kl_resolver_strerror(ans.rcode), "Server failure");
    cr_assert_str_eq(kl_resolver_strerror(ETIMEDOUT), "Operation timed out");

    /* TC with a record cut short: truncated, the records not read */
    header(&p, 4, 0x8380, 2);
    question(&p, "big.test", KL_RESOLVER_A);
    rr_head(&p, KL_RESOLVER_A, 10, 4);
    put(&p, "\x01\x02", 2);
    cr_assert_eq(parse(&p, "big.test", KL_RESOLVER_A, &ans, &err), KL_OK);
    cr_assert(ans.truncated);
    cr_assert_eq(ans.nrrs, 0);

    /* NOERROR, no data */
    header(&p, 4, 0x8180, 0);
    question(&p, "empty.test", KL_RESOLVER_A);
    cr_assert_eq(parse(&p, "empty.test", KL_RESOLVER_A, &ans, &err), KL_OK);
    cr_assert_eq(ans.rcode, 0);
    cr_assert_eq(ans.nrrs, 0);
    cr_assert_eq(ans.cname_len, 0);
}


Test(resolver_parse, malformed)
{
    pkt_t                p;
    const char          *err;
    kl_resolver_answer_t ans;

    header(&p, 5, 0x8180, 0);
    p.len = 11;
    cr_assert_eq(parse(&p, "x.test", KL_RESOLVER_A, &ans, &err), KL_ERROR);
    cr_assert_str_eq(err, "short header");

    header(&p, 5, 0x0100, 0); /* a query, not a response */
    question(&p, "x.test", KL_RESOLVER_A);
    cr_assert_eq(parse(&p, "x.test", KL_RESOLVER_A, &ans, &err), KL_ERROR);
    cr_assert_str_eq(err, "not a response to a query");

    header(&p, 5, 0x8180, 0);
    question(&p, "y.test", KL_RESOLVER_A);
    cr_assert_eq(parse(&p, "x.test", KL_RESOLVER_A, &ans, &err), KL_ERROR);
    cr_assert_str_eq(err, "question mismatch");
    cr_assert_eq(parse(&p, "y.test", KL_RESOLVER_AAAA, &ans, &err), KL_ERROR);
    cr_assert_str_eq(err, "question mismatch");

    /* a pointer to itself, and one pointing forward */
    header(&p, 5, 0x8180, 0);
    put16(&p, 0xc00c);
    put16(&p, 1);
    put16(&p, 1);
    cr_assert_eq(parse(&p, "x.test", KL_RESOLVER_A, &ans, &err), KL_ERROR);
    cr_assert_str_eq(err, "compression pointer loop");

    header(&p, 5, 0x8180, 0);
    put16(&p, 0xc010);
    put16(&p, 1);
    put16(&p, 1);
    cr_assert_eq(parse(&p, "x.test", KL_RESOLVER_A, &ans, &err), KL_ERROR);
    cr_assert_str_eq(err, "compression pointer loop");

    /* a label running past the end */
    header(&p, 5, 0x8180, 0);
    p.buf[p.len++] = 40;
    put(&p, "abc", 3);
    cr_assert_eq(parse(&p, "x.test", KL_RESOLVER_A, &ans, &err), KL_ERROR);
    cr_assert_str_eq(err, "name out of the message");

    /* an rdlength past the end */
    header(&p, 5, 0x8180, 1);
    question(&p, "x.test", KL_RESOLVER_A);
    rr_head(&p, KL_RESOLVER_A, 10, 40);
    put(&p, "\x01\x02\x03\x04", 4);
    cr_assert_eq(parse(&p, "x.test", KL_RESOLVER_A, &ans, &err), KL_ERROR);
    cr_assert_str_eq(err, "record out of the message");

    /* an A record of 5 bytes */
    header(&p, 5, 0x8180, 1);
    question(&p, "x.test", KL_RESOLVER_A);
    rr_head(&p, KL_RESOLVER_A, 10, 5);
    put(&p, "\x01\x02\x03\x04\x05", 5);
    cr_assert_eq(parse(&p, "x.test", KL_RESOLVER_A, &ans, &err), KL_ERROR);
    cr_assert_str_eq(err, "invalid A record");

    /* label types 01 and 10 are not DNS's */
    header(&p, 5, 0x8180, 0);
    p.buf[p.len++] = 0x41;
    cr_assert_eq(parse(&p, "x.test", KL_RESOLVER_A, &ans, &err), KL_ERROR);
    cr_assert_str_eq(err, "invalid label type");

    /* two questions */
    header(&p, 5, 0x8180, 0);
    p.buf[5] = 2;
    question(&p, "x.test", KL_RESOLVER_A);
    cr_assert_eq(parse(&p, "x.test", KL_RESOLVER_A, &ans, &err), KL_ERROR);
    cr_assert_str_eq(err, "invalid number of questions");
}


/* More records than the caller has room for: the rest are dropped. */
Test(resolver_parse, records_capped)
{
    pkt_t                p;
    kl_uint_t            i;
    const char          *err;
    kl_resolver_answer_t ans;

    header(&p, 6, 0x8180, 20);
    question(&p, "many.test", KL_RESOLVER_A);

    for (i = 0; i < 20; i++) {
        rr_head(&p, KL_RESOLVER_A, 10, 4);
        put32(&p, 0x7f000001 + i);
    }

    cr_assert_eq(parse(&p, "many.test", KL_RESOLVER_A, &ans, &err), KL_OK);
    cr_assert_eq(ans.nrrs, 8);
}
