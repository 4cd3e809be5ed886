/* fuzz_ssl_ocsp_parse.c: libFuzzer target for the OCSP fetcher's pure parsers: the HTTP head of a responder's answer and a responder URL. */

/*
 * The same input, in an exact-size buffer, goes to both parsers. A head
 * that parses must put its body and Content-Type inside the buffer; a
 * URL that parses must give a non-empty host, a port in range and a URI
 * starting with '/', all inside the buffer (or the literal "/").
 */

#include "kl_core.h"
#include "ssl_ocsp_parse.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char            *buf;
    kl_str_t           url, host, uri;
    kl_uint_t          port;
    const char        *err;
    kl_ssl_ocsp_head_t h;

    buf = malloc(size ? size : 1);
    if (buf == NULL) {
        abort();
    }

    memcpy(buf, data, size);

    if (kl_ssl_ocsp_parse_head(buf, size, &h) == KL_OK) {
        if (h.body > size || h.status < 100 || h.status > 599
            || (h.content_type.len
                && (h.content_type.data < buf
                    || h.content_type.data + h.content_type.len > buf + size)))
        {
            abort();
        }
    }

    url.data = buf;
    url.len = size;

    if (kl_ssl_ocsp_parse_url(&url, &host, &port, &uri, &err) == KL_OK) {
        if (host.len == 0 || host.data < buf
            || host.data + host.len > buf + size || port < 1 || port > 65535
            || uri.len == 0 || uri.data[0] != '/')
        {
            abort();
        }
    }

    free(buf);

    return 0;
}
