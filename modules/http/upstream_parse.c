/* upstream_parse.c: the pure parser of an upstream's HTTP/1.x status line. */

#include "upstream_parse.h"


kl_int_t
kl_http_parse_status_line(kl_http_status_line_t *st, kl_buf_t *b)
{
    u_char ch, *p;
    enum {
        sw_start = 0,
        sw_H,
        sw_HT,
        sw_HTT,
        sw_HTTP,
        sw_major,
        sw_minor_first,
        sw_minor,
        sw_status,
        sw_space_after_status,
        sw_reason,
        sw_almost_done
    } state;

    state = st->state;

    for (p = b->pos; p < b->last; p++) {
        ch = *p;

        switch (state) {

        case sw_start:
            if (ch != 'H') {
                return KL_HTTP_UPSTREAM_PARSE_INVALID;
            }

            st->start = p;
            st->reason_start = NULL;
            st->code = 0;
            st->http_version = 0;
            st->count = 0;
            state = sw_H;
            break;

        case sw_H:
            if (ch != 'T') {
                return KL_HTTP_UPSTREAM_PARSE_INVALID;
            }

            state = sw_HT;
            break;

        case sw_HT:
            if (ch != 'T') {
                return KL_HTTP_UPSTREAM_PARSE_INVALID;
            }

            state = sw_HTT;
            break;

        case sw_HTT:
            if (ch != 'P') {
                return KL_HTTP_UPSTREAM_PARSE_INVALID;
            }

            state = sw_HTTP;
            break;

        case sw_HTTP:
            if (ch != '/') {
                return KL_HTTP_UPSTREAM_PARSE_INVALID;
            }

            state = sw_major;
            break;

        case sw_major:
            if (ch == '.' && st->count > 0) {
                if (st->http_version != 1) {
                    return KL_HTTP_UPSTREAM_PARSE_INVALID;
                }

                st->http_version *= 1000;
                st->count = 0;
                state = sw_minor_first;
                break;
            }

            if (ch < '0' || ch > '9' || st->count == 3) {
                return KL_HTTP_UPSTREAM_PARSE_INVALID;
            }

            st->http_version = st->http_version * 10 + (ch - '0');
            st->count++;
            break;

        case sw_minor_first:
        case sw_minor:
            if (ch == ' ' && state == sw_minor) {
                st->count = 0;
                state = sw_status;
                break;
            }

            if (ch < '0' || ch > '9' || st->count == 3) {
                return KL_HTTP_UPSTREAM_PARSE_INVALID;
            }

            /* The minor is kept below 1000 by the digit count. */
            st->http_version = (st->http_version / 1000) * 1000
                               + (st->http_version % 1000) * 10 + (ch - '0');
            st->count++;
            state = sw_minor;
            break;

        case sw_status:
            if (ch < '0' || ch > '9') {
                return KL_HTTP_UPSTREAM_PARSE_INVALID;
            }

            st->code = st->code * 10 + (ch - '0');

            if (++st->count == 3) {
                if (st->code < 100) {
                    return KL_HTTP_UPSTREAM_PARSE_INVALID;
                }

                state = sw_space_after_status;
            }

            break;

        case sw_space_after_status:
            switch (ch) {
            case ' ':
                state = sw_reason;
                break;
            case '\r':
                st->end = p;
                state = sw_almost_done;
                break;
            case '\n':
                st->end = p;
                goto done;
            default:
                return KL_HTTP_UPSTREAM_PARSE_INVALID;
            }

            break;

        case sw_reason:
            if (ch == '\r' || ch == '\n') {
                st->end = p;

                if (ch == '\n') {
                    goto done;
                }

                state = sw_almost_done;
                break;
            }

            if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
                return KL_HTTP_UPSTREAM_PARSE_INVALID;
            }

            if (st->reason_start == NULL) {
                st->reason_start = p;
            }

            break;

        case sw_almost_done:
            if (ch != '\n') {
                return KL_HTTP_UPSTREAM_PARSE_INVALID;
            }

            goto done;
        }
    }

    b->pos = p;
    st->state = state;

    return KL_AGAIN;

done:

    b->pos = p + 1;
    st->state = sw_start;

    return KL_OK;
}


size_t
kl_http_upstream_content_type(kl_str_t *value, kl_str_t *charset)
{
    u_char *p, *semi, *last;

    last = value->data + value->len;

    for (p = value->data; p < last; p++) {
        if (*p != ';') {
            continue;
        }

        semi = p;

        while (++p < last && *p == ' ') { /* void */
        }

        if (last - p < 8 || kl_strncasecmp(p, (u_char *) "charset=", 8) != 0) {
            p--;
            continue;
        }

        p += 8;

        if (p < last && *p == '"') {
            p++;
        }

        if (last > p && last[-1] == '"') {
            last--;
        }

        charset->len = (size_t) (last - p);
        charset->data = p;

        return (size_t) (semi - value->data);
    }

    return value->len;
}
