/* fastcgi_parse.c: the pure parser of the FastCGI records a responder sends. */

#include "fastcgi_parse.h"


enum {
    sw_version = 0,
    sw_type,
    sw_request_id_hi,
    sw_request_id_lo,
    sw_content_length_hi,
    sw_content_length_lo,
    sw_padding_length,
    sw_reserved,
    sw_content,
    sw_padding
};


kl_int_t
kl_fastcgi_parse_record(kl_fastcgi_parse_t *p, kl_buf_t *b, kl_str_t *content)
{
    u_char *pos;
    size_t  n;

    pos = b->pos;

    while (pos < b->last || p->state == sw_content || p->state == sw_padding) {
        switch (p->state) {
        case sw_version:
            if (*pos++ != 1) {
                b->pos = pos;
                return KL_FASTCGI_PARSE_INVALID;
            }

            p->state = sw_type;
            break;

        case sw_type:
            p->type = *pos++;
            p->state = sw_request_id_hi;
            break;

        case sw_request_id_hi:
            p->request_id = (kl_uint_t) *pos++ << 8;
            p->state = sw_request_id_lo;
            break;

        case sw_request_id_lo:
            p->request_id |= *pos++;
            p->state = sw_content_length_hi;
            break;

        case sw_content_length_hi:
            p->content_length = (size_t) *pos++ << 8;
            p->state = sw_content_length_lo;
            break;

        case sw_content_length_lo:
            p->content_length |= *pos++;
            p->length = p->content_length;
            p->state = sw_padding_length;
            break;

        case sw_padding_length:
            p->padding = *pos++;
            p->state = sw_reserved;
            break;

        case sw_reserved:
            pos++;
            p->end_n = 0;
            p->state = sw_content;

            if (p->type == KL_FASTCGI_END_REQUEST && p->length < 8) {
                b->pos = pos;
                return KL_FASTCGI_PARSE_INVALID;
            }

            break;

        case sw_content:
            if (p->length == 0) {
                p->state = sw_padding;
                break;
            }

            if (pos == b->last) {
                b->pos = pos;
                return KL_AGAIN;
            }

            n = kl_min(p->length, (size_t) (b->last - pos));
            p->length -= n;

            if (p->type != KL_FASTCGI_END_REQUEST) {
                content->data = pos;
                content->len = n;
                b->pos = pos + n;
                return KL_OK;
            }

            /* Only the first 8 bytes mean anything; more are skipped. */
            while (n && p->end_n < 8) {
                p->end[p->end_n++] = *pos++;
                n--;
            }

            pos += n;

            if (p->end_n == 8) {
                p->app_status = ((uint32_t) p->end[0] << 24)
                                | ((uint32_t) p->end[1] << 16)
                                | ((uint32_t) p->end[2] << 8) | p->end[3];
                p->protocol_status = p->end[4];
            }

            break;

        case sw_padding:
            n = kl_min(p->padding, (size_t) (b->last - pos));
            p->padding -= n;
            pos += n;

            if (p->padding) {
                b->pos = pos;
                return KL_AGAIN;
            }

            p->state = sw_version;
            b->pos = pos;
            return KL_FASTCGI_RECORD_DONE;
        }
    }

    b->pos = pos;
    return KL_AGAIN;
}
