/* geo_ranges.c: the ranges of "geo { ranges; }" and the X-Forwarded-For walk. */

/*
 * nginx keeps its ranges in one array per /16 block and judges overlaps
 * there; kiln builds them the same way, so the same configuration is
 * accepted, warned about or refused alike, then joins the blocks into
 * one sorted array that a lookup bisects: log2(ranges) steps.
 */

#include "geo_ranges.h"

#include <sys/socket.h>

#define KL_GEO_BLOCKS 65536


kl_int_t
kl_http_geo_ranges_init(kl_http_geo_ranges_build_t *b, kl_pool_t *pool)
{
    b->pool = pool;
    b->blocks = kl_pcalloc(pool, KL_GEO_BLOCKS * sizeof(kl_array_t *));

    return b->blocks ? KL_OK : KL_ERROR;
}


/* Room for one more range at index i of a; the new slot, or NULL. */
static kl_http_geo_range_t *
kl_http_geo_ranges_insert(kl_array_t *a, kl_uint_t i)
{
    kl_http_geo_range_t *range;

    if (kl_array_push(a) == NULL) {
        return NULL;
    }

    range = a->elts;
    memmove(&range[i + 1], &range[i],
            (a->nelts - 1 - i) * sizeof(kl_http_geo_range_t));

    return &range[i];
}


/* Cut range i of a around s-e, which lies inside it, for value. */
static kl_int_t
kl_http_geo_ranges_cut(kl_array_t *a, kl_uint_t i, uint32_t s, uint32_t e,
                       void *value)
{
    kl_uint_t           k, n;
    kl_http_geo_range_t old, *range;

    range = a->elts;
    old = range[i];
    n = (s > old.start) + 1 + (e < old.end);

    for (k = 1; k < n; k++) {
        if (kl_http_geo_ranges_insert(a, i + 1) == NULL) {
            return KL_ERROR;
        }
    }

    range = a->elts;
    k = i;

    if (s > old.start) {
        range[k].start = old.start;
        range[k].end = s - 1;
        range[k++].value = old.value;
    }

    range[k].start = s;
    range[k].end = e;
    range[k++].value = value;

    if (e < old.end) {
        range[k].start = e + 1;
        range[k].end = old.end;
        range[k].value = old.value;
    }

    return KL_OK;
}


/* One /16 block's piece s-e of a new range; see kl_http_geo_ranges_add. */
static kl_int_t
kl_http_geo_ranges_add_piece(kl_array_t *a, uint32_t s, uint32_t e, void *value,
                             kl_http_geo_ranges_report_t *report)
{
    kl_uint_t            i;
    kl_http_geo_range_t *range, *r;

    range = a->elts;

    for (i = a->nelts; i; /* void */) {
        i--;

        if (e < range[i].start) {
            continue;
        }

        if (s > range[i].end) {
            /* after it */
            r = kl_http_geo_ranges_insert(a, i + 1);
            if (r == NULL) {
                return KL_ERROR;
            }

            r->start = s;
            r->end = e;
            r->value = value;
            return KL_OK;
        }

        if (s == range[i].start && e == range[i].end) {
            report->old = range[i].value;
            range[i].value = value;
            return KL_BUSY;
        }

        if (s >= range[i].start && e <= range[i].end) {
            return kl_http_geo_ranges_cut(a, i, s, e, value);
        }

        report->overlap[0] = range[i].start;
        report->overlap[1] = range[i].end;
        return KL_DECLINED;
    }

    r = kl_http_geo_ranges_insert(a, 0);
    if (r == NULL) {
        return KL_ERROR;
    }

    r->start = s;
    r->end = e;
    r->value = value;

    return KL_OK;
}


kl_int_t
kl_http_geo_ranges_add(kl_http_geo_ranges_build_t *b, uint32_t start,
                       uint32_t end, void *value,
                       kl_http_geo_ranges_report_t *report)
{
    uint32_t    n, s, e, h;
    kl_int_t    rc, result;
    kl_array_t *a;

    result = KL_OK;
    n = start;

    for (;;) {
        h = n >> 16;
        s = n;
        e = (n | 0xffff) > end ? end : (n | 0xffff);

        a = b->blocks[h];

        if (a == NULL) {
            a = kl_array_create(b->pool, 4, sizeof(kl_http_geo_range_t));
            if (a == NULL) {
                return KL_ERROR;
            }

            b->blocks[h] = a;
        }

        rc = kl_http_geo_ranges_add_piece(a, s, e, value, report);

        if (rc == KL_ERROR || rc == KL_DECLINED) {
            return rc;
        }

        if (rc == KL_BUSY) {
            result = KL_BUSY;
        }

        if (e == end) {
            return result;
        }

        n = e + 1;
    }
}


kl_int_t
kl_http_geo_ranges_delete(kl_http_geo_ranges_build_t *b, uint32_t start,
                          uint32_t end)
{
    uint32_t             n, s, e;
    kl_int_t             rc;
    kl_uint_t            i, found;
    kl_array_t          *a;
    kl_http_geo_range_t *range;

    rc = KL_OK;
    n = start;

    for (;;) {
        s = n;
        e = (n | 0xffff) > end ? end : (n | 0xffff);
        a = b->blocks[n >> 16];
        range = a ? a->elts : NULL;

        found = 0;

        for (i = 0; a && i < a->nelts; i++) {
            if (range[i].start == s && range[i].end == e) {
                memmove(&range[i], &range[i + 1],
                        (a->nelts - 1 - i) * sizeof(kl_http_geo_range_t));
                a->nelts--;
                found = 1;
                break;
            }
        }

        if (!found) {
            rc = KL_DECLINED;
        }

        if (e == end) {
            return rc;
        }

        n = e + 1;
    }
}


kl_int_t
kl_http_geo_ranges_finish(kl_http_geo_ranges_build_t *b,
                          kl_http_geo_ranges_t *out, kl_pool_t *pool)
{
    kl_uint_t            h, n;
    kl_array_t          *a;
    kl_http_geo_range_t *r;

    n = 0;

    for (h = 0; h < KL_GEO_BLOCKS; h++) {
        n += b->blocks[h] ? b->blocks[h]->nelts : 0;
    }

    out->n = 0;
    out->ranges = n ? kl_palloc(pool, n * sizeof(kl_http_geo_range_t)) : NULL;

    if (n && out->ranges == NULL) {
        return KL_ERROR;
    }

    for (h = 0; h < KL_GEO_BLOCKS; h++) {
        a = b->blocks[h];

        if (a == NULL || a->nelts == 0) {
            continue;
        }

        r = &out->ranges[out->n];

        /* a range cut at a /16 boundary joins again when nothing parted it */
        if (out->n && r[-1].end + 1 == ((kl_http_geo_range_t *) a->elts)->start
            && r[-1].value == ((kl_http_geo_range_t *) a->elts)->value)
        {
            r[-1].end = ((kl_http_geo_range_t *) a->elts)->end;
            kl_memcpy(r, (kl_http_geo_range_t *) a->elts + 1,
                      (a->nelts - 1) * sizeof(kl_http_geo_range_t));
            out->n += a->nelts - 1;
            continue;
        }

        kl_memcpy(r, a->elts, a->nelts * sizeof(kl_http_geo_range_t));
        out->n += a->nelts;
    }

    return KL_OK;
}


void *
kl_http_geo_ranges_find(kl_http_geo_ranges_t *r, uint32_t addr)
{
    kl_uint_t lo, hi, mid;

    lo = 0;
    hi = r->n;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;

        if (addr < r->ranges[mid].start) {
            hi = mid;

        } else if (addr > r->ranges[mid].end) {
            lo = mid + 1;

        } else {
            return r->ranges[mid].value;
        }
    }

    return NULL;
}


/* An address of X-Forwarded-For: "a.b.c.d", "a.b.c.d:port", "v6", "[v6]:port". */
static kl_int_t
kl_http_geo_forwarded_addr(u_char *p, size_t len, int *family, u_char *addr)
{
    u_char *last, *colon;

    if (kl_cidr_parse_addr(p, len, family, addr) == KL_OK) {
        return KL_OK;
    }

    last = p + len;

    if (len > 2 && p[0] == '[') {
        colon = memchr(p, ']', len);

        if (colon == NULL || (colon + 1 != last && colon[1] != ':')) {
            return KL_ERROR;
        }

        if (kl_cidr_parse_addr(p + 1, colon - p - 1, family, addr) != KL_OK
            || *family != AF_INET6)
        {
            return KL_ERROR;
        }

        return KL_OK;
    }

    colon = memchr(p, ':', len);

    if (colon == NULL || memchr(colon + 1, ':', last - colon - 1)) {
        return KL_ERROR;
    }

    if (kl_cidr_parse_addr(p, colon - p, family, addr) != KL_OK) {
        return KL_ERROR;
    }

    return KL_OK;
}


kl_int_t
kl_http_geo_forwarded(u_char *xff, size_t len, kl_uint_t recursive,
                      kl_http_geo_trusted_pt trusted, void *data, int *family,
                      u_char *addr)
{
    int       fam;
    u_char   *p, *end, a[16];
    kl_uint_t found;

    found = 0;
    end = xff + len;

    do {
        if (!trusted(data, *family, addr)) {
            break;
        }

        while (end > xff && (end[-1] == ' ' || end[-1] == ',')) {
            end--;
        }

        p = end;

        while (p > xff && p[-1] != ' ' && p[-1] != ',') {
            p--;
        }

        if (p == end
            || kl_http_geo_forwarded_addr(p, end - p, &fam, a) != KL_OK) {
            break;
        }

        *family = fam;
        kl_memcpy(addr, a, 16);
        found = 1;
        end = p;

    } while (recursive && end > xff);

    return found ? KL_OK : KL_DECLINED;
}
