/* fuzz_http_cgi_head.c: libFuzzer target for the CGI head parser (uwsgi, SCGI responses). */

/*
 * The first byte is the size of the pieces the input is fed in (0: at
 * once), the rest the bytes a peer sent, in an exact-size buffer so that
 * AddressSanitizer sees a read past its end. The head is read field by
 * field to its end or an error: AGAIN must consume all it was given, a
 * field must lie inside the input, before the new b->pos, and once past
 * the status line, a code set must be 100..999 and the line start at the
 * first byte.
 * The Status value parser gets each field's value too.
 */

#include "kl_core.h"
#include "cgi_parse.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static void
kl_fuzz_check(kl_http_cgi_head_t *h, kl_buf_t *b, u_char *copy, size_t len)
{
    kl_int_t status;
    kl_str_t v;

    if (h->parse.header_name_start < copy
        || h->parse.header_name_end < h->parse.header_name_start
        || h->parse.header_start > h->parse.header_end
        || h->parse.header_end > b->pos || b->pos > copy + len)
    {
        abort();
    }

    v.data = h->parse.header_start;
    v.len = h->parse.header_end - h->parse.header_start;
    status = kl_http_cgi_parse_status(&v);

    if (status != KL_ERROR && (status < 100 || status > 999)) {
        abort();
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char            *copy;
    size_t             len, step, fed;
    kl_int_t           rc;
    kl_buf_t           b;
    kl_http_cgi_head_t h;

    if (size < 1) {
        return 0;
    }

    step = data[0];
    len = size - 1;

    copy = malloc(len ? len : 1);
    if (copy == NULL) {
        abort();
    }

    memcpy(copy, data + 1, len);

    memset(&h, 0, sizeof(h));
    memset(&b, 0, sizeof(b));
    b.pos = copy;
    fed = step ? (step < len ? step : len) : len;
    b.last = copy + fed;

    for (;;) {
        rc = kl_http_cgi_parse_head(&h, &b);

        if (rc == KL_OK) {
            kl_fuzz_check(&h, &b, copy, len);
            continue;
        }

        if (rc != KL_AGAIN) {
            break;
        }

        if (b.pos != b.last) {
            abort();
        }

        if (fed == len) {
            break;
        }

        fed = (fed + step < len) ? fed + step : len;
        b.last = copy + fed;
    }

    /* Past the status line (state 1) the code is a whole one, or 0. */
    if (h.state == 1 && h.status.code
        && (h.status.code < 100 || h.status.code > 999
            || h.status.start != copy))
    {
        abort();
    }

    if (rc == KL_HTTP_PARSE_HEADER_DONE && b.pos > copy + len) {
        abort();
    }

    free(copy);

    return 0;
}
