/* geo_ranges.h: the address ranges of "geo { ranges; ... }", built and looked up. */

#ifndef KL_HTTP_GEO_RANGES_H
#define KL_HTTP_GEO_RANGES_H

#include "kl_core.h"

/* A range of IPv4 addresses (host order, both ends in) and its value. */
typedef struct {
    uint32_t start;
    uint32_t end;
    void    *value;
} kl_http_geo_range_t;

/*
 * The ranges while the block is read, as nginx keeps them: cut at /16
 * boundaries, each /16 block a sorted array of disjoint ranges, so that
 * overlaps are judged as nginx judges them (per /16 block).
 */
typedef struct {
    kl_pool_t   *pool;
    kl_array_t **blocks; /* 65536, NULL where no range is */
} kl_http_geo_ranges_build_t;

/* What an add or delete met, for the caller's warnings and errors. */
typedef struct {
    void    *old;        /* a replaced value (duplicate range) */
    uint32_t overlap[2]; /* the range that a new one overlaps */
} kl_http_geo_ranges_report_t;

/* The sorted, disjoint ranges a lookup searches. */
typedef struct {
    kl_http_geo_range_t *ranges;
    kl_uint_t            n;
} kl_http_geo_ranges_t;

/* Ready b to take ranges (pool memory); KL_OK or KL_ERROR. */
kl_int_t kl_http_geo_ranges_init(kl_http_geo_ranges_build_t *b,
                                 kl_pool_t                  *pool);

/*
 * Add start-end with value, as nginx: within each /16 block a range equal
 * to an old one replaces its value (KL_BUSY, report->old set: nginx warns
 * "duplicate range"), one inside an old one cuts it, and any other
 * overlap is KL_DECLINED (report->overlap: "range ... overlaps ...").
 * KL_OK, or KL_ERROR without memory.
 */
kl_int_t kl_http_geo_ranges_add(kl_http_geo_ranges_build_t *b, uint32_t start,
                                uint32_t end, void *value,
                                kl_http_geo_ranges_report_t *report);

/*
 * Remove the ranges equal, per /16 block, to the pieces of start-end:
 * KL_OK, or KL_DECLINED when a piece had none ("no address range ... to
 * delete", a warning in nginx).
 */
kl_int_t kl_http_geo_ranges_delete(kl_http_geo_ranges_build_t *b,
                                   uint32_t start, uint32_t end);

/* Join the blocks into one sorted array in pool; KL_OK or KL_ERROR. */
kl_int_t kl_http_geo_ranges_finish(kl_http_geo_ranges_build_t *b,
                                   kl_http_geo_ranges_t *out, kl_pool_t *pool);

/* The value of the range holding addr (host order), or NULL. Pure. */
void *kl_http_geo_ranges_find(kl_http_geo_ranges_t *r, uint32_t addr);

/*
 * The client address X-Forwarded-For names, as nginx's
 * ngx_http_get_forwarded_addr: while the current address is trusted
 * (trusted(data, family, addr) is true), take the rightmost address left
 * in xff ("a, b, c"; an address may carry a port, "[v6]:port"); once
 * without recursive. *family and addr (16 bytes) hold the current address
 * and get the result. KL_OK when an address was taken, else KL_DECLINED.
 * Pure but for trusted.
 */
typedef kl_uint_t (*kl_http_geo_trusted_pt)(void *data, int family,
                                            const u_char *addr);

kl_int_t kl_http_geo_forwarded(u_char *xff, size_t len, kl_uint_t recursive,
                               kl_http_geo_trusted_pt trusted, void *data,
                               int *family, u_char *addr);

#endif /* KL_HTTP_GEO_RANGES_H */
