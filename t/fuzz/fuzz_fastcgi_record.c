/* fuzz_fastcgi_record.c: libFuzzer target for the FastCGI record parser. */

/*
 * The first byte is the size of the pieces the input is fed in (0: at
 * once), the rest the bytes a responder sent, in an exact-size buffer so
 * that AddressSanitizer sees a read past its end. Content must lie inside
 * what was fed, right before the new b->pos, never longer than the record
 * said; AGAIN must consume all it was given; every byte is consumed once.
 */

#include "kl_core.h"
#include "fastcgi_parse.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char            *copy, *prev;
    size_t             len, step, fed, in_record;
    kl_int_t           rc;
    kl_buf_t           b;
    kl_str_t           content;
    kl_fastcgi_parse_t p;

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

    memset(&p, 0, sizeof(p));
    memset(&b, 0, sizeof(b));
    b.pos = copy;
    fed = step ? (step < len ? step : len) : len;
    b.last = copy + fed;
    in_record = 0;

    for (;;) {
        prev = b.pos;
        rc = kl_fastcgi_parse_record(&p, &b, &content);

        if (b.pos < prev || b.pos > b.last) {
            abort();
        }

        if (rc == KL_OK) {
            in_record += content.len;

            if (content.len == 0 || content.data < prev
                || content.data + content.len != b.pos
                || in_record > p.content_length
                || p.type == KL_FASTCGI_END_REQUEST)
            {
                abort();
            }

            continue;
        }

        if (rc == KL_FASTCGI_RECORD_DONE) {
            if (p.type != KL_FASTCGI_END_REQUEST
                && in_record != p.content_length) {
                abort();
            }

            in_record = 0;
            continue;
        }

        if (rc == KL_FASTCGI_PARSE_INVALID) {
            break;
        }

        if (rc != KL_AGAIN || b.pos != b.last) {
            abort();
        }

        if (fed == len) {
            break;
        }

        fed = (fed + step < len) ? fed + step : len;
        b.last = copy + fed;
    }

    free(copy);

    return 0;
}
