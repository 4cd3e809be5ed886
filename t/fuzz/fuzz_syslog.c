/* fuzz_syslog.c: libFuzzer target for the "syslog:" parameters and header. */

/*
 * The input is what follows "syslog:" in an error_log or access_log. An
 * error and a success are exclusive. On success the server text lies in
 * the input after "server=", the facility is 0..23 or unset, the severity
 * 0..7 or unset, and a tag has at most 32 letters, digits and '_'. The
 * parameter an error names lies in the input. Then, with the input as
 * the host name (cut at 255 bytes), the header fits KL_SYSLOG_MAX_HEADER
 * exactly as it reads "<PRI>" and ends ": ".
 */

#include "kl_core.h"

#include <ctype.h>


static void
fuzz_within(kl_str_t *s, const uint8_t *data, size_t size)
{
    if (s->data < data || s->data + s->len > data + size) {
        abort();
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char          *copy, *p, *end;
    size_t           i;
    kl_str_t         bad, host;
    const char      *err;
    kl_syslog_peer_t peer;
    u_char           buf[KL_SYSLOG_MAX_HEADER + 1];

    /* exact size, so that AddressSanitizer sees a read past it */
    copy = malloc(size ? size : 1);
    if (copy == NULL) {
        abort();
    }

    memcpy(copy, data, size);

    err = kl_syslog_parse(copy, size, &peer, &bad);

    if (err) {
        if (bad.data) {
            fuzz_within(&bad, copy, size);
        }

    } else {
        if (peer.server.data == NULL) {
            abort();
        }

        fuzz_within(&peer.server, copy, size);

        if (peer.server.data - copy < 7
            || memcmp(peer.server.data - 7, "server=", 7) != 0)
        {
            abort();
        }

        if ((peer.facility > 23 && peer.facility != KL_CONF_UNSET_UINT)
            || (peer.severity > 7 && peer.severity != KL_CONF_UNSET_UINT)
            || peer.tag.len > KL_SYSLOG_MAX_TAG)
        {
            abort();
        }

        for (i = 0; i < peer.tag.len; i++) {
            if (!isalnum(peer.tag.data[i]) && peer.tag.data[i] != '_') {
                abort();
            }
        }
    }

    memset(&peer, 0, sizeof(peer));
    peer.facility = size ? copy[0] % 24 : 23;
    kl_str_set(&peer.tag, "kiln");
    peer.nohostname = size > 1 && (copy[1] & 1);
    host.data = copy;
    host.len = size > 255 ? 255 : size;
    peer.hostname = &host;
    peer.time_sec = -1;

    buf[KL_SYSLOG_MAX_HEADER] = 0xa5;
    end = kl_syslog_header(&peer, size % 8, (time_t) size * 86399, buf);

    if (end - buf > (ssize_t) KL_SYSLOG_MAX_HEADER || end - buf < 4
        || buf[KL_SYSLOG_MAX_HEADER] != 0xa5 || buf[0] != '<'
        || memcmp(end - 2, ": ", 2) != 0)
    {
        abort();
    }

    p = memchr(buf, '>', (size_t) (end - buf));
    if (p == NULL || p - buf > 4) {
        abort();
    }

    free(copy);

    return 0;
}
