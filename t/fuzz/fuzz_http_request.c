/* fuzz_http_request.c: libFuzzer target for the request head parsers. */

/*
 * The input is parsed as a request head (line, then fields until the empty
 * line), once whole, then in pieces of pseudo-random sizes derived from
 * the data, then one byte at a time: the parsers are resumable, so every
 * result and every recorded offset must be the same each time. Offsets
 * are checked to stay inside the bytes parsed and in order, and each
 * field value is run through kl_http_list_next.
 */

#include "kl_config.h"
#include "parse.h"


#define FUZZ_FIELDS_MAX 100000


typedef struct {
    uint64_t hash;
    size_t   events;
} fuzz_transcript_t;


static void
fuzz_mix(fuzz_transcript_t *t, uint64_t v)
{
    t->hash = (t->hash ^ v) * 0x100000001b3ULL;
}


static uint64_t
fuzz_off(u_char *p, u_char *base)
{
    return p != NULL ? (uint64_t) (p - base) : UINT64_MAX;
}


static void
fuzz_span(u_char *start, u_char *end, u_char *lo, u_char *hi)
{
    if (start == NULL) {
        return;
    }

    if (end == NULL || start < lo || end < start || end > hi) {
        abort();
    }
}


static void
fuzz_check_line(kl_http_parse_t *r, u_char *base, u_char *pos, kl_int_t rc)
{
    u_char *p;

    if (rc != KL_OK && rc != KL_HTTP_PARSE_INVALID_VERSION) {
        return;
    }

    fuzz_span(r->request_start, r->request_end, base, pos);
    fuzz_span(r->request_start, r->method_end, base, r->request_end);
    fuzz_span(r->uri_start, r->uri_end, r->method_end + 1, r->request_end);
    fuzz_span(r->schema_start, r->schema_end, r->uri_start, r->uri_end);
    fuzz_span(r->host_start, r->host_end, r->uri_start, r->uri_end);
    fuzz_span(r->port_start, r->port_end, r->uri_start, r->uri_end);

    if (r->method_end + 1 != r->uri_start || *r->method_end != ' '
        || *r->uri_end != ' ' || r->request_end - r->uri_end != 9
        || r->http_version != r->http_major * 1000 + r->http_minor)
    {
        abort();
    }

    if (r->path_start != NULL) {
        fuzz_span(r->path_start, r->path_end, base, r->uri_end);

        if (*r->path_start != '/' || r->asterisk_form) {
            abort();
        }

    } else if (!r->asterisk_form && r->method != KL_HTTP_CONNECT) {
        abort();
    }

    fuzz_span(r->args_start, r->uri_end, r->uri_start, r->uri_end);
    fuzz_span(r->exten_start, r->path_end, r->path_start, r->path_end);

    for (p = r->uri_start; p < r->uri_end; p++) {
        if (*p <= ' ' || *p >= 0x7f || *p == '#') {
            abort();
        }
    }

    if (rc == KL_OK && r->http_major != 1) {
        abort();
    }
}


/* Every value is also split as a list: items are non-empty, trimmed, inside. */
static void
fuzz_check_list(u_char *start, u_char *end)
{
    u_char  *pos, *prev;
    kl_str_t item;

    pos = start;

    for (;;) {
        prev = pos;

        if (kl_http_list_next(&pos, end, &item) == KL_DONE) {
            if (pos != end) {
                abort();
            }

            return;
        }

        if (pos <= prev || pos > end || item.len == 0 || item.data < prev
            || item.data + item.len > pos || item.data[0] == ' '
            || item.data[0] == '\t' || item.data[0] == ',')
        {
            abort();
        }
    }
}


static void
fuzz_check_header(kl_http_parse_t *r, u_char *base, u_char *pos)
{
    u_char *p;

    fuzz_span(r->header_name_start, r->header_name_end, base, pos);
    fuzz_span(r->header_start, r->header_end, r->header_name_end, pos);

    if (r->header_name_end == r->header_name_start
        || *r->header_name_end != ':') {
        abort();
    }

    for (p = r->header_name_start; p < r->header_name_end; p++) {
        if (*p <= ' ' || *p == ':' || *p >= 0x7f) {
            abort();
        }
    }

    for (p = r->header_start; p < r->header_end; p++) {
        if ((*p < ' ' && *p != '\t') || *p == 0x7f) {
            abort();
        }
    }

    fuzz_check_list(r->header_start, r->header_end);

    if (r->header_end > r->header_start
        && (r->header_start[0] == ' ' || r->header_start[0] == '\t'
            || r->header_end[-1] == ' ' || r->header_end[-1] == '\t'))
    {
        abort();
    }
}


static void
fuzz_record(fuzz_transcript_t *t, kl_http_parse_t *r, u_char *base, u_char *pos,
            kl_int_t rc, int header)
{
    t->events++;
    fuzz_mix(t, (uint64_t) rc);
    fuzz_mix(t, fuzz_off(pos, base));
    fuzz_mix(t, r->state);

    if (header) {
        fuzz_mix(t, fuzz_off(r->header_name_start, base));
        fuzz_mix(t, fuzz_off(r->header_name_end, base));
        fuzz_mix(t, fuzz_off(r->header_start, base));
        fuzz_mix(t, fuzz_off(r->header_end, base));
        fuzz_mix(t, r->header_hash);
        fuzz_mix(t, r->underscore);
        return;
    }

    fuzz_mix(t, fuzz_off(r->request_start, base));
    fuzz_mix(t, fuzz_off(r->request_end, base));
    fuzz_mix(t, fuzz_off(r->method_end, base));
    fuzz_mix(t, fuzz_off(r->uri_start, base));
    fuzz_mix(t, fuzz_off(r->uri_end, base));
    fuzz_mix(t, fuzz_off(r->schema_start, base));
    fuzz_mix(t, fuzz_off(r->schema_end, base));
    fuzz_mix(t, fuzz_off(r->host_start, base));
    fuzz_mix(t, fuzz_off(r->host_end, base));
    fuzz_mix(t, fuzz_off(r->port_start, base));
    fuzz_mix(t, fuzz_off(r->port_end, base));
    fuzz_mix(t, fuzz_off(r->path_start, base));
    fuzz_mix(t, fuzz_off(r->path_end, base));
    fuzz_mix(t, fuzz_off(r->args_start, base));
    fuzz_mix(t, fuzz_off(r->exten_start, base));
    fuzz_mix(t, r->method);
    fuzz_mix(t, r->http_version);
    fuzz_mix(t, r->complex_uri | r->quoted_uri << 1 | r->plus_in_uri << 2
                    | r->asterisk_form << 3);
}


/* Piece sizes: 0 whole, 1 one byte at a time, else pseudo-random from seed. */
static void
fuzz_run(u_char *base, size_t size, int how, uint64_t seed,
         fuzz_transcript_t *t)
{
    size_t          piece;
    kl_int_t        rc;
    kl_buf_t        b;
    kl_http_parse_t r;
    int             header;

    memset(&r, 0, sizeof(r));
    memset(&b, 0, sizeof(b));
    t->hash = 0xcbf29ce484222325ULL;
    t->events = 0;

    header = 0;
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
            rc = header ? kl_http_parse_header_line(&r, &b)
                        : kl_http_parse_request_line(&r, &b);

            if (b.pos < base || b.pos > b.last) {
                abort();
            }

            if (rc == KL_AGAIN) {
                if (b.pos != b.last) {
                    abort();
                }

                break;
            }

            fuzz_record(t, &r, base, b.pos, rc, header);

            if (!header) {
                fuzz_check_line(&r, base, b.pos, rc);

                if (rc != KL_OK) {
                    return;
                }

                header = 1;
                continue;
            }

            if (rc != KL_OK || t->events > FUZZ_FIELDS_MAX) {
                return;
            }

            fuzz_check_header(&r, base, b.pos);
        }

        if (b.last == base + size) {
            fuzz_mix(t, r.state);
            return;
        }
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char           *base;
    size_t            i;
    uint64_t          seed;
    fuzz_transcript_t whole, part;

    /* an exact-size copy, so that AddressSanitizer sees any overread */
    base = malloc(size ? size : 1);
    if (base == NULL) {
        return 0;
    }

    memcpy(base, data, size);

    seed = 0x9e3779b97f4a7c15ULL;
    for (i = 0; i < size; i++) {
        seed = (seed ^ data[i]) * 0x100000001b3ULL;
    }

    fuzz_run(base, size, 0, 0, &whole);

    fuzz_run(base, size, 2, seed | 1, &part);
    if (part.hash != whole.hash || part.events != whole.events) {
        abort();
    }

    fuzz_run(base, size, 1, 0, &part);
    if (part.hash != whole.hash || part.events != whole.events) {
        abort();
    }

    free(base);

    return 0;
}
