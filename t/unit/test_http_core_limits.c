/* test_http_core_limits.c: the User-Agent classes (core_limits.c), table-driven, as nginx 1.22 sets its msie6/safari/... flags. */

#include <criterion/criterion.h>

#include "kl_core.h"
#include "kl_http.h"
#include "core_limits.h"


typedef struct {
    const char *ua;
    kl_uint_t   bits;
} kl_test_ua_t;


#define MSIE   KL_HTTP_UA_MSIE
#define MSIE6  (KL_HTTP_UA_MSIE | KL_HTTP_UA_MSIE6)
#define OPERA  KL_HTTP_UA_OPERA
#define GECKO  KL_HTTP_UA_GECKO
#define CHROME KL_HTTP_UA_CHROME
#define SAFARI KL_HTTP_UA_SAFARI
#define KONQ   KL_HTTP_UA_KONQUEROR

static const kl_test_ua_t kl_test_uas[] = {
    { "Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1)", MSIE6 },
    { "Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1; SV1)", MSIE },
    { "Mozilla/4.0 (compatible; MSIE 5.5; Windows 98)", MSIE6 },
    { "Mozilla/4.0 (compatible; MSIE 4.01; Windows 95)", MSIE6 },
    { "Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 6.0)", MSIE },
    { "Mozilla/5.0 (compatible; MSIE 10.0; Windows NT 6.1)", MSIE },
    /* "MSIE " and 3 bytes at least, as nginx reads msie[5], msie[6] */
    { "MSIE 6.", 0 },
    { "MSIE 6.0", MSIE6 },
    { "MSIE 6.0 SV1", MSIE },
    { "xMSIE ", 0 },
    { "MSIE", 0 },
    /* SV1 counts only after the version */
    { "SV1 MSIE 6.0;", MSIE6 },
    { "Opera/9.80 (Windows NT 6.1; U; en) Presto/2.10 Version/12.00", OPERA },
    { "Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1; en) Opera 8.50",
      OPERA },
    { "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120",
      GECKO },
    { "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like "
      "Gecko) Chrome/120.0 Safari/537.36",
      CHROME },
    { "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_6_8) AppleWebKit/534 "
      "(KHTML, like Gecko) Version/5.1.9 Safari/534.59",
      SAFARI },
    { "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0) Safari/604.1", 0 },
    { "Mozilla/5.0 (compatible; Konqueror/4.5; Linux)", KONQ },
    { "curl/7.88.1", 0 },
    { "", 0 },
    /* case matters, as in nginx */
    { "msie 6.0; x", 0 },
    { "mozilla gecko/2010", 0 },
};


Test(http_core_limits, user_agent_table)
{
    size_t    i;
    kl_uint_t got;

    for (i = 0; i < sizeof(kl_test_uas) / sizeof(kl_test_uas[0]); i++) {
        got = kl_http_user_agent_parse((u_char *) kl_test_uas[i].ua,
                                       strlen(kl_test_uas[i].ua));
        cr_assert_eq(got, kl_test_uas[i].bits, "\"%s\": %#lx, expected %#lx",
                     kl_test_uas[i].ua, (unsigned long) got,
                     (unsigned long) kl_test_uas[i].bits);
    }
}


/* The value ends at its length: "SV1" past it is not seen. */
Test(http_core_limits, user_agent_stops_at_the_length)
{
    const char *ua = "MSIE 6.0; SV1";

    cr_assert_eq(kl_http_user_agent_parse((u_char *) ua, 10), MSIE6);
    cr_assert_eq(kl_http_user_agent_parse((u_char *) ua, strlen(ua)), MSIE);
}
