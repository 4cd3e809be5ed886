/* resolver_parse.h: DNS messages (RFC 1035): building a query, reading an answer; pure, no I/O. */

#ifndef KL_RESOLVER_PARSE_H
#define KL_RESOLVER_PARSE_H

#include "kl_config.h"
#include "string.h"

/* Record types kiln asks for or follows. */
#define KL_RESOLVER_A     1
#define KL_RESOLVER_CNAME 5
#define KL_RESOLVER_AAAA  28
#define KL_RESOLVER_SRV   33

/* Response codes (RFC 1035 4.1.1), as nginx reports them. */
#define KL_RESOLVER_FORMERR  1
#define KL_RESOLVER_SERVFAIL 2
#define KL_RESOLVER_NXDOMAIN 3
#define KL_RESOLVER_NOTIMP   4
#define KL_RESOLVER_REFUSED  5

/* A name as text, without the root's dot: at most 253 bytes (RFC 1035). */
#define KL_RESOLVER_NAME_LEN 253

/* A query: header, the name (at most 255 bytes encoded), type, class. */
#define KL_RESOLVER_QUERY_LEN (12 + 255 + 4)

/* CNAMEs followed inside one answer before it is called a loop. */
#define KL_RESOLVER_CNAME_HOPS 16

/* One A, AAAA or SRV record of the answer. */
typedef struct {
    uint16_t type;
    uint32_t ttl;
    u_char   addr[16]; /* A: the first 4 bytes */
    uint16_t priority; /* SRV */
    uint16_t weight;
    uint16_t port;
    size_t   target_len;
    u_char   target[KL_RESOLVER_NAME_LEN + 1]; /* SRV, lowercase */
} kl_resolver_rr_t;

/*
 * What an answer says. rrs (nalloc of them) is the caller's: records
 * beyond nalloc are dropped. With rcode 0 and no record, cname (when
 * cname_len) is where the chain of CNAMEs led: the name to ask next.
 */
typedef struct {
    uint16_t          id;
    kl_uint_t         rcode;
    kl_resolver_rr_t *rrs;
    kl_uint_t         nalloc;
    kl_uint_t         nrrs;
    uint32_t          ttl; /* the least of the records used, CNAMEs too */
    size_t            cname_len;
    u_char            cname[KL_RESOLVER_NAME_LEN + 1];
    unsigned          truncated:1; /* TC: the rest is not read; ask over TCP */
} kl_resolver_answer_t;

/*
 * Write a query for name (a dotted name; one trailing dot allowed) and
 * type with id and recursion desired into buf (KL_RESOLVER_QUERY_LEN
 * bytes); *len is its length. KL_ERROR for an empty label, a label over
 * 63 bytes or a name over 255 encoded bytes.
 */
kl_int_t kl_resolver_build_query(u_char *buf, size_t *len, kl_str_t *name,
                                 kl_uint_t type, uint16_t id);

/*
 * Read the answer of len bytes at p to the query for name and type: the
 * one question must be that query (case aside), records of class IN for
 * the name or the end of its CNAME chain are kept. KL_OK (see ans->rcode
 * and ans->truncated), or KL_ERROR with *err naming what is malformed
 * ("short header", "compression pointer loop", "question mismatch"...).
 */
kl_int_t kl_resolver_parse_answer(u_char *p, size_t len, kl_str_t *name,
                                  kl_uint_t type, kl_resolver_answer_t *ans,
                                  const char **err);

/* nginx's words for a response code or a timeout: "Host not found"... */
const char *kl_resolver_strerror(kl_int_t rc);

#endif /* KL_RESOLVER_PARSE_H */
