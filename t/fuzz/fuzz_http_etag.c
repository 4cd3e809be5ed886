/* fuzz_http_etag.c: libFuzzer target for If-Match and If-None-Match lists. */

/*
 * The first byte builds the response's ETag: bit 0 makes it weak, the
 * rest is the length of its opaque part, taken from the next bytes and
 * made into etagc (RFC 9110 8.8.3) as kiln's own ETags are. The rest is
 * the field value (no NUL: the request parser refuses it). The answer of
 * kl_http_etag_match, strong (If-Match) and weak (If-None-Match), must
 * equal a reference: "*" matches; otherwise an item matches when the
 * opaque-tags are the same bytes and, for the strong comparison, neither
 * is weak (13.1.1, 13.1.2). A match with no ETag is "*" alone.
 *
 * modules/not_modified.c is included for its static matchers; the
 * archive's copy of it is then never linked in.
 */

#include "not_modified.c"


static int
fuzz_equal(const u_char *item, size_t ilen, const u_char *etag, size_t elen,
           int weak)
{
    int iw, ew;

    iw = ilen >= 2 && item[0] == 'W' && item[1] == '/';
    ew = elen >= 2 && etag[0] == 'W' && etag[1] == '/';

    if (!weak && (iw || ew)) {
        return 0;
    }

    if (iw) {
        item += 2;
        ilen -= 2;
    }

    if (ew) {
        etag += 2;
        elen -= 2;
    }

    return ilen >= 2 && item[0] == '"' && ilen == elen
           && memcmp(item, etag, ilen) == 0;
}


static int
fuzz_reference(u_char *value, size_t len, kl_str_t *etag, int weak)
{
    u_char  *p, *end;
    kl_str_t item;

    p = value;
    end = value + len;

    /* the list splitting itself is fuzz_http_list's subject */
    while (kl_http_list_next(&p, end, &item) == KL_OK) {
        if (item.len == 1 && item.data[0] == '*') {
            return 1;
        }

        if (etag
            && fuzz_equal(item.data, item.len, etag->data, etag->len, weak)) {
            return 1;
        }
    }

    return 0;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char            *etag_bytes, *value, c;
    size_t             olen, i, k, vlen;
    int                weak;
    kl_table_elt_t     h, etag;
    kl_http_request_t *r;

    if (size < 1 || memchr(data, '\0', size) != NULL) {
        return 0;
    }

    weak = data[0] & 1;
    olen = data[0] >> 1;

    if (olen > size - 1) {
        olen = size - 1;
    }

    etag_bytes = malloc(olen + 4);
    vlen = size - 1 - olen;
    value = malloc(vlen ? vlen : 1);
    r = calloc(1, sizeof(kl_http_request_t));

    if (etag_bytes == NULL || value == NULL || r == NULL) {
        abort();
    }

    i = 0;
    if (weak) {
        etag_bytes[i++] = 'W';
        etag_bytes[i++] = '/';
    }

    etag_bytes[i++] = '"';

    for (k = 0; k < olen; k++) {
        c = data[1 + k];
        etag_bytes[i++] = (c == 0x21 || (c >= 0x23 && c != 0x7f)) ? c : 'x';
    }

    etag_bytes[i++] = '"';

    memcpy(value, data + 1 + olen, vlen);

    memset(&h, 0, sizeof(h));
    h.value.data = value;
    h.value.len = vlen;

    memset(&etag, 0, sizeof(etag));
    etag.value.data = etag_bytes;
    etag.value.len = i;

    /* no ETag: only "*" can match */
    if (kl_http_etag_match(r, &h, 0)
            != (kl_uint_t) fuzz_reference(value, vlen, NULL, 0)
        || kl_http_etag_match(r, &h, 1)
               != (kl_uint_t) fuzz_reference(value, vlen, NULL, 1))
    {
        abort();
    }

    r->headers_out.etag = &etag;

    if (kl_http_etag_match(r, &h, 0)
            != (kl_uint_t) fuzz_reference(value, vlen, &etag.value, 0)
        || kl_http_etag_match(r, &h, 1)
               != (kl_uint_t) fuzz_reference(value, vlen, &etag.value, 1))
    {
        abort();
    }

    /* a strong match is a weak one too */
    if (kl_http_etag_match(r, &h, 0) && !kl_http_etag_match(r, &h, 1)) {
        abort();
    }

    free(r);
    free(value);
    free(etag_bytes);

    return 0;
}
