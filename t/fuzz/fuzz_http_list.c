/* fuzz_http_list.c: libFuzzer target for kl_http_list_next (field lists). */

/*
 * The input is a field value. The items must equal a slow reference that
 * splits at each comma outside a quoted-string (a '\' in one escapes the
 * next byte) and trims SP and HTAB: no item is empty, none holds an
 * unquoted comma, none starts or ends with blank space unless a quote is
 * left open, the items come in order without overlapping, the cursor
 * always moves and ends at the end, and KL_DONE stays KL_DONE.
 */

#include "kl_http.h"


typedef struct {
    size_t start;
    size_t len;
} fuzz_item_t;


static size_t
fuzz_reference(const u_char *s, size_t len, fuzz_item_t *items)
{
    size_t i, start, end, n;
    int    quoted;

    n = 0;
    i = 0;

    while (i < len) {
        while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == ',')) {
            i++;
        }

        if (i == len) {
            break;
        }

        start = i;
        quoted = 0;

        for (; i < len; i++) {
            if (quoted) {
                if (s[i] == '\\' && i + 1 < len) {
                    i++;
                } else if (s[i] == '"') {
                    quoted = 0;
                }

                continue;
            }

            if (s[i] == ',') {
                break;
            }

            if (s[i] == '"') {
                quoted = 1;
            }
        }

        end = i;

        /* an open quote keeps everything up to the end */
        if (!quoted) {
            while (end > start && (s[end - 1] == ' ' || s[end - 1] == '\t')) {
                end--;
            }
        }

        items[n].start = start;
        items[n].len = end - start;
        n++;

        if (i < len) {
            i++;
        }
    }

    return n;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char      *copy, *p, *end, *prev;
    size_t       n, k;
    kl_str_t     item;
    fuzz_item_t *items;

    /* exact size, so that AddressSanitizer sees a read past the end */
    copy = malloc(size ? size : 1);
    items = malloc((size / 2 + 1) * sizeof(fuzz_item_t));
    if (copy == NULL || items == NULL) {
        abort();
    }

    memcpy(copy, data, size);

    n = fuzz_reference(copy, size, items);

    p = copy;
    end = copy + size;
    prev = copy;

    for (k = 0; k <= size; k++) {
        prev = p;

        if (kl_http_list_next(&p, end, &item) != KL_OK) {
            break;
        }

        if (p <= prev || p > end || item.len == 0 || item.data < prev
            || item.data + item.len > p || k >= n
            || item.data != copy + items[k].start || item.len != items[k].len)
        {
            abort();
        }
    }

    if (k != n || p != end || kl_http_list_next(&p, end, &item) != KL_DONE
        || p != end)
    {
        abort();
    }

    free(items);
    free(copy);

    return 0;
}
