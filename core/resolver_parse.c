/* resolver_parse.c: DNS messages (RFC 1035): a query built, an answer read and checked. */

/*
 * Pure functions over bytes: the resolver (resolver.c) sends what
 * kl_resolver_build_query writes and hands every datagram or TCP message
 * it gets to kl_resolver_parse_answer. An answer comes from the network,
 * so every offset is checked against its length, compression pointers
 * must point backwards (which also ends any loop) and are counted, and a
 * CNAME chain is followed at most KL_RESOLVER_CNAME_HOPS times.
 */

#include "kl_core.h"
#include "resolver_parse.h"


#define KL_RESOLVER_HEADER_LEN 12
#define KL_RESOLVER_POINTERS   64
#define KL_RESOLVER_CLASS_IN   1

typedef struct {
    u_char   *start; /* the message */
    size_t    len;
    kl_uint_t ancount;
    size_t    answers; /* offset of the first answer record */
} kl_resolver_msg_t;

static kl_int_t kl_resolver_read_name(kl_resolver_msg_t *m, size_t *off,
                                      u_char *out, size_t *out_len,
                                      const char **err);
static kl_int_t kl_resolver_follow_cnames(kl_resolver_msg_t    *m,
                                          kl_resolver_answer_t *ans,
                                          u_char *name, size_t *name_len,
                                          const char **err);
static kl_int_t kl_resolver_take_records(kl_resolver_msg_t    *m,
                                         kl_resolver_answer_t *ans,
                                         kl_uint_t type, u_char *name,
                                         size_t name_len, const char **err);
static kl_int_t kl_resolver_read_rdata(kl_resolver_msg_t *m, size_t off,
                                       size_t rdlen, kl_resolver_rr_t *rr,
                                       const char **err);


#define kl_resolver_u16(p) ((uint16_t) (((p)[0] << 8) | (p)[1]))
#define kl_resolver_u32(p)                                                     \
    (((uint32_t) (p)[0] << 24) | ((uint32_t) (p)[1] << 16)                     \
     | ((uint32_t) (p)[2] << 8) | (uint32_t) (p)[3])


kl_int_t
kl_resolver_build_query(u_char *buf, size_t *len, kl_str_t *name,
                        kl_uint_t type, uint16_t id)
{
    u_char *p, *label, *s, *last;
    size_t  n;

    last = name->data + name->len;

    if (name->len && last[-1] == '.') {
        last--;
    }

    if (last == name->data || last - name->data > KL_RESOLVER_NAME_LEN) {
        return KL_ERROR;
    }

    p = buf;
    *p++ = (u_char) (id >> 8);
    *p++ = (u_char) id;
    *p++ = 0x01; /* RD: the server recurses for us */
    *p++ = 0;
    *p++ = 0;
    *p++ = 1; /* one question */
    kl_memzero(p, 6);
    p += 6;

    for (s = name->data; s <= last; s++) {
        label = s;

        while (s < last && *s != '.') {
            s++;
        }

        n = (size_t) (s - label);

        if (n == 0 || n > 63) {
            return KL_ERROR;
        }

        *p++ = (u_char) n;
        p = kl_cpymem(p, label, n);
    }

    *p++ = 0;
    *p++ = (u_char) (type >> 8);
    *p++ = (u_char) type;
    *p++ = 0;
    *p++ = KL_RESOLVER_CLASS_IN;

    *len = (size_t) (p - buf);

    return KL_OK;
}


kl_int_t
kl_resolver_parse_answer(u_char *p, size_t len, kl_str_t *name, kl_uint_t type,
                         kl_resolver_answer_t *ans, const char **err)
{
    u_char            qname[KL_RESOLVER_NAME_LEN + 1];
    size_t            off, qlen, nlen;
    kl_uint_t         flags;
    kl_resolver_msg_t m;

    ans->nrrs = 0;
    ans->ttl = UINT32_MAX;
    ans->cname_len = 0;
    ans->truncated = 0;

    if (len < KL_RESOLVER_HEADER_LEN) {
        *err = "short header";
        return KL_ERROR;
    }

    ans->id = kl_resolver_u16(p);
    flags = kl_resolver_u16(p + 2);
    ans->rcode = flags & 0x0f;

    if (!(flags & 0x8000) || ((flags >> 11) & 0x0f) != 0) {
        *err = "not a response to a query";
        return KL_ERROR;
    }

    if (kl_resolver_u16(p + 4) != 1) {
        *err = "invalid number of questions";
        return KL_ERROR;
    }

    m.start = p;
    m.len = len;
    m.ancount = kl_resolver_u16(p + 6);
    off = KL_RESOLVER_HEADER_LEN;

    if (kl_resolver_read_name(&m, &off, qname, &qlen, err) != KL_OK) {
        return KL_ERROR;
    }

    nlen = name->len;

    if (nlen && name->data[nlen - 1] == '.') {
        nlen--;
    }

    if (off + 4 > len || qlen != nlen
        || kl_strncasecmp(qname, name->data, nlen) != 0
        || kl_resolver_u16(p + off) != type
        || kl_resolver_u16(p + off + 2) != KL_RESOLVER_CLASS_IN)
    {
        *err = "question mismatch";
        return KL_ERROR;
    }

    m.answers = off + 4;

    if (flags & 0x0200) {
        /* Truncated: what follows may be cut anywhere; TCP has it whole. */
        ans->truncated = 1;
        return KL_OK;
    }

    if (ans->rcode != 0) {
        return KL_OK;
    }

    kl_strlow(qname, qname, qlen);

    if (kl_resolver_follow_cnames(&m, ans, qname, &qlen, err) != KL_OK) {
        return KL_ERROR;
    }

    if (kl_resolver_take_records(&m, ans, type, qname, qlen, err) != KL_OK) {
        return KL_ERROR;
    }

    if (ans->nrrs == 0 && (qlen != nlen || memcmp(qname, name->data, qlen))) {
        /* The chain leads elsewhere and the answer stops there. */
        ans->cname_len = qlen;
        kl_memcpy(ans->cname, qname, qlen);
    }

    if (ans->nrrs == 0 && ans->cname_len == 0) {
        ans->ttl = 0;
    }

    return KL_OK;
}


/*
 * The name at *off, as lowercase dotted text in out (253 bytes at most),
 * *off moved past it. Pointers may only point before themselves.
 */
static kl_int_t
kl_resolver_read_name(kl_resolver_msg_t *m, size_t *off, u_char *out,
                      size_t *out_len, const char **err)
{
    size_t    pos, n, olen, limit;
    kl_uint_t jumps;

    pos = *off;
    limit = m->len; /* a pointer must land before this */
    olen = 0;
    jumps = 0;

    for (;;) {
        if (pos >= limit) {
            *err = "name out of the message";
            return KL_ERROR;
        }

        n = m->start[pos];

        if ((n & 0xc0) == 0xc0) {
            if (pos + 1 >= m->len) {
                *err = "name out of the message";
                return KL_ERROR;
            }

            if (jumps++ == 0) {
                *off = pos + 2;
            }

            limit = pos;
            pos = ((n & 0x3f) << 8) | m->start[pos + 1];

            if (pos >= limit || jumps > KL_RESOLVER_POINTERS) {
                *err = "compression pointer loop";
                return KL_ERROR;
            }

            continue;
        }

        if (n & 0xc0) {
            *err = "invalid label type";
            return KL_ERROR;
        }

        if (n == 0) {
            break;
        }

        if (pos + 1 + n > m->len || pos + 1 + n > limit) {
            *err = "name out of the message";
            return KL_ERROR;
        }

        if (olen + (olen ? 1 : 0) + n > KL_RESOLVER_NAME_LEN) {
            *err = "name too long";
            return KL_ERROR;
        }

        if (memchr(m->start + pos + 1, '.', n) != NULL) {
            *err = "dot in a label";
            return KL_ERROR;
        }

        if (olen) {
            out[olen++] = '.';
        }

        kl_strlow(out + olen, m->start + pos + 1, n);
        olen += n;
        pos += 1 + n;
    }

    if (jumps == 0) {
        *off = pos + 1;
    }

    *out_len = olen;

    return KL_OK;
}


/*
 * Walk the answer records: name/name_len becomes the end of the CNAME
 * chain that starts at it. Records may come in any order, so each hop
 * scans them all again.
 */
static kl_int_t
kl_resolver_follow_cnames(kl_resolver_msg_t *m, kl_resolver_answer_t *ans,
                          u_char *name, size_t *name_len, const char **err)
{
    u_char    owner[KL_RESOLVER_NAME_LEN + 1];
    size_t    off, olen, rdoff, tlen;
    uint32_t  ttl;
    kl_uint_t i, hops, moved;

    for (hops = 0;; hops++) {
        off = m->answers;
        moved = 0;

        for (i = 0; i < m->ancount; i++) {
            if (kl_resolver_read_name(m, &off, owner, &olen, err) != KL_OK) {
                return KL_ERROR;
            }

            if (off + 10 > m->len
                || off + 10 + kl_resolver_u16(m->start + off + 8) > m->len)
            {
                *err = "record out of the message";
                return KL_ERROR;
            }

            rdoff = off + 10;
            ttl = kl_resolver_u32(m->start + off + 4);

            if (kl_resolver_u16(m->start + off) == KL_RESOLVER_CNAME
                && kl_resolver_u16(m->start + off + 2) == KL_RESOLVER_CLASS_IN
                && olen == *name_len && memcmp(owner, name, olen) == 0)
            {
                if (kl_resolver_read_name(m, &rdoff, name, &tlen, err) != KL_OK)
                {
                    return KL_ERROR;
                }

                *name_len = tlen;
                /* RFC 2181 8: a TTL with the top bit set means zero. */
                ans->ttl = kl_min(ans->ttl, (ttl & 0x80000000) ? 0 : ttl);
                moved = 1;
                break;
            }

            off += 10 + kl_resolver_u16(m->start + off + 8);
        }

        if (!moved) {
            return KL_OK;
        }

        if (hops == KL_RESOLVER_CNAME_HOPS) {
            *err = "CNAME loop";
            return KL_ERROR;
        }
    }
}


/* Keep the records of type (class IN) owned by name, nalloc at most. */
static kl_int_t
kl_resolver_take_records(kl_resolver_msg_t *m, kl_resolver_answer_t *ans,
                         kl_uint_t type, u_char *name, size_t name_len,
                         const char **err)
{
    u_char            owner[KL_RESOLVER_NAME_LEN + 1];
    size_t            off, olen, rdlen;
    uint32_t          ttl;
    kl_uint_t         i;
    kl_resolver_rr_t *rr;

    off = m->answers;

    for (i = 0; i < m->ancount; i++) {
        if (kl_resolver_read_name(m, &off, owner, &olen, err) != KL_OK) {
            return KL_ERROR;
        }

        if (off + 10 > m->len) {
            *err = "record out of the message";
            return KL_ERROR;
        }

        rdlen = kl_resolver_u16(m->start + off + 8);

        if (off + 10 + rdlen > m->len) {
            *err = "record out of the message";
            return KL_ERROR;
        }

        if (kl_resolver_u16(m->start + off) == type
            && kl_resolver_u16(m->start + off + 2) == KL_RESOLVER_CLASS_IN
            && olen == name_len && memcmp(owner, name, olen) == 0
            && ans->nrrs < ans->nalloc)
        {
            rr = &ans->rrs[ans->nrrs];
            rr->type = (uint16_t) type;
            ttl = kl_resolver_u32(m->start + off + 4);
            rr->ttl = (ttl & 0x80000000) ? 0 : ttl;

            if (kl_resolver_read_rdata(m, off + 10, rdlen, rr, err) != KL_OK) {
                return KL_ERROR;
            }

            ans->ttl = kl_min(ans->ttl, rr->ttl);
            ans->nrrs++;
        }

        off += 10 + rdlen;
    }

    return KL_OK;
}


static kl_int_t
kl_resolver_read_rdata(kl_resolver_msg_t *m, size_t off, size_t rdlen,
                       kl_resolver_rr_t *rr, const char **err)
{
    size_t end;

    switch (rr->type) {

    case KL_RESOLVER_A:
        if (rdlen != 4) {
            *err = "invalid A record";
            return KL_ERROR;
        }

        kl_memcpy(rr->addr, m->start + off, 4);
        return KL_OK;

    case KL_RESOLVER_AAAA:
        if (rdlen != 16) {
            *err = "invalid AAAA record";
            return KL_ERROR;
        }

        kl_memcpy(rr->addr, m->start + off, 16);
        return KL_OK;

    default: /* SRV */
        if (rdlen < 7) {
            *err = "invalid SRV record";
            return KL_ERROR;
        }

        rr->priority = kl_resolver_u16(m->start + off);
        rr->weight = kl_resolver_u16(m->start + off + 2);
        rr->port = kl_resolver_u16(m->start + off + 4);
        end = off + 6;

        if (kl_resolver_read_name(m, &end, rr->target, &rr->target_len, err)
            != KL_OK) {
            return KL_ERROR;
        }

        if (end != off + rdlen) {
            *err = "invalid SRV record";
            return KL_ERROR;
        }

        return KL_OK;
    }
}


const char *
kl_resolver_strerror(kl_int_t rc)
{
    static const char *errors[] = {
        "Format error",  "Server failure",    "Host not found",
        "Unimplemented", "Operation refused",
    };

    if (rc > 0 && rc < 6) {
        return errors[rc - 1];
    }

    if (rc == ETIMEDOUT) {
        return "Operation timed out";
    }

    return "Unknown error";
}
