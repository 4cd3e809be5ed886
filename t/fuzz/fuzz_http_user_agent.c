/* fuzz_http_user_agent.c: libFuzzer target for the User-Agent classes. */

/*
 * The input is a User-Agent value, copied to an exact-size buffer so that
 * AddressSanitizer sees a read past its end (the MSIE version bytes are
 * read at fixed offsets). The answer must hold only KL_HTTP_UA_* bits,
 * MSIE6 only with MSIE, Opera alone when set, and at most one of the
 * engine classes (Gecko, Chrome, Safari, Konqueror), never with MSIE.
 */

#include "kl_core.h"
#include "kl_http.h"
#include "core_limits.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char   *value;
    kl_uint_t ua, engines;

    value = malloc(size ? size : 1);
    if (value == NULL) {
        abort();
    }

    memcpy(value, data, size);

    ua = kl_http_user_agent_parse(value, size);

    engines = ua
              & (KL_HTTP_UA_GECKO | KL_HTTP_UA_CHROME | KL_HTTP_UA_SAFARI
                 | KL_HTTP_UA_KONQUEROR);

    if ((ua & ~0x7fu) || ((ua & KL_HTTP_UA_MSIE6) && !(ua & KL_HTTP_UA_MSIE))
        || ((ua & KL_HTTP_UA_OPERA) && ua != KL_HTTP_UA_OPERA)
        || (engines & (engines - 1)) || (engines && (ua & KL_HTTP_UA_MSIE)))
    {
        abort();
    }

    free(value);

    return 0;
}
