/* fuzz_http_chunked.c: libFuzzer target for the chunked body decoder. */

/*
 * The input is decoded as a chunked body the way a caller consumes it
 * (min(size, available) bytes on each KL_OK), once whole, then in pieces
 * of pseudo-random sizes, then one byte at a time: the result, the end
 * position and the decoded data must not change. A decoded body is then
 * re-encoded with extensions and trailers and must decode back the same.
 */

#include "kl_config.h"
#include "parse.h"


typedef struct {
    kl_int_t rc;
    size_t   pos;
    u_char  *body;
    size_t   len;
} fuzz_result_t;


/* Piece sizes: 0 whole, 1 one byte at a time, else pseudo-random from seed. */
static void
fuzz_decode(u_char *base, size_t size, int how, uint64_t seed,
            fuzz_result_t *res)
{
    size_t            piece, take;
    kl_int_t          rc;
    kl_buf_t          b;
    kl_http_chunked_t ctx;

    memset(&ctx, 0, sizeof(ctx));
    memset(&b, 0, sizeof(b));
    res->len = 0;
    b.pos = base;
    b.last = base;

    for (;;) {
        if (how == 0) {
            piece = size;

        } else if (how == 1) {
            piece = 1;

        } else {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            piece = 1 + seed % 24;
        }

        b.last =
            (size - (b.last - base) < piece) ? base + size : b.last + piece;

        for (;;) {
            rc = kl_http_parse_chunked(&ctx, &b);

            if (b.pos < base || b.pos > b.last || ctx.size < 0
                || ctx.length < 0) {
                abort();
            }

            if (rc != KL_OK) {
                break;
            }

            if (ctx.size == 0 || b.pos == b.last || ctx.length < ctx.size) {
                abort();
            }

            take = b.last - b.pos;
            if ((off_t) take > ctx.size) {
                take = ctx.size;
            }

            memcpy(res->body + res->len, b.pos, take);
            res->len += take;
            b.pos += take;
            ctx.size -= take;
        }

        if (rc != KL_AGAIN || b.last == base + size) {
            break;
        }

        if (b.pos != b.last || ctx.length <= 0) {
            abort();
        }
    }

    res->rc = rc;
    res->pos = b.pos - base;

    if (rc == KL_AGAIN && (b.pos != b.last || ctx.length <= 0)) {
        abort();
    }

    if (rc != KL_AGAIN && rc != KL_DONE && rc != KL_HTTP_PARSE_INVALID_CHUNK
        && rc != KL_HTTP_PARSE_CHUNK_TOO_LARGE)
    {
        abort();
    }
}


static void
fuzz_same(fuzz_result_t *a, fuzz_result_t *b)
{
    if (a->rc != b->rc || a->pos != b->pos || a->len != b->len
        || memcmp(a->body, b->body, a->len) != 0)
    {
        abort();
    }
}


/* Encode body in chunks of varying sizes, with extensions and a trailer. */
static size_t
fuzz_encode(u_char *body, size_t len, u_char *out)
{
    size_t n, o, chunk;

    o = 0;
    chunk = 1;

    for (n = 0; n < len; n += chunk) {
        chunk = (chunk * 3) % 17 + 1;
        if (chunk > len - n) {
            chunk = len - n;
        }

        o += sprintf((char *) out + o, "%0*zx%s\r\n", (int) (n % 4) + 1, chunk,
                     (n & 1) ? " ; a = \"x\\\"y\" ;b" : "");
        memcpy(out + o, body + n, chunk);
        o += chunk;
        out[o++] = '\r';
        out[o++] = '\n';
    }

    o += sprintf((char *) out + o, "0;last\r\nX-T: v\r\n\r\n");

    return o;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char       *base, *enc;
    size_t        i, n;
    uint64_t      seed;
    fuzz_result_t whole, part;

    base = malloc(size ? size : 1);
    whole.body = malloc(size + 1);
    part.body = malloc(size + 1);
    enc = malloc(size * 64 + 64);

    if (base == NULL || whole.body == NULL || part.body == NULL || enc == NULL)
    {
        abort();
    }

    memcpy(base, data, size);

    seed = 0x9e3779b97f4a7c15ULL;
    for (i = 0; i < size; i++) {
        seed = (seed ^ data[i]) * 0x100000001b3ULL;
    }

    fuzz_decode(base, size, 0, 0, &whole);

    if (whole.len > size || whole.pos > size) {
        abort();
    }

    fuzz_decode(base, size, 2, seed | 1, &part);
    fuzz_same(&whole, &part);

    fuzz_decode(base, size, 1, 0, &part);
    fuzz_same(&whole, &part);

    if (whole.rc == KL_DONE) {
        n = fuzz_encode(whole.body, whole.len, enc);
        free(base);
        base = enc;
        enc = NULL;

        fuzz_decode(base, n, 2, seed | 1, &part);

        if (part.rc != KL_DONE || part.pos != n || part.len != whole.len
            || memcmp(part.body, whole.body, whole.len) != 0)
        {
            abort();
        }
    }

    free(enc);
    free(base);
    free(part.body);
    free(whole.body);

    return 0;
}
