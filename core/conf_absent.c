/*
 * conf_absent.c: directives nginx has and this build of kiln does not, with
 * the reason, so that a config written for nginx is refused with a message
 * that says what is missing instead of a bare "unknown directive".
 *
 * The dispatcher asks only after no module claimed the name, so a module
 * that is built in always wins over its row here: a row for a module that
 * ./configure can leave out (gzip, proxy...) answers only in a build
 * without it. A row ending in '*' covers every name with that prefix,
 * which keeps whole families (ssl_*, proxy_cache*) one row each and
 * covers the directives nginx adds to them later. Rows are grouped by what
 * brings the feature to kiln; the first matching row wins, so an exact
 * name goes before a prefix that would also match it.
 */

#include "kl_core.h"


typedef struct {
    const char *name;
    const char *reason;
} kl_conf_absent_t;


#define KL_TLS    "TLS is not supported by this build of kiln"
#define KL_H2     "HTTP/2 is not supported by this build of kiln"
#define KL_H3     "HTTP/3 and QUIC are not supported by kiln"
#define KL_CACHE  "response caching is not supported by kiln yet"
#define KL_STORE  "storing responses to files is not supported by kiln"
#define KL_ACCESS "access control is not supported by this build of kiln"
#define KL_AUTH   "authentication is not supported by this build of kiln"
#define KL_LIMITS                                                              \
    "request and connection limits are not supported by "                      \
    "this build of kiln"
#define KL_REALIP "the realip module is not supported by this build of kiln"
#define KL_STREAM "TCP/UDP proxying (stream) is not supported by kiln"
#define KL_MAIL   "the mail proxy is not supported by kiln"
#define KL_PLUS   "this is an nginx Plus directive, not part of kiln"
#define KL_NJS    "njs scripting is not supported by kiln"
#define KL_PERL   "embedded Perl is not supported by kiln"
#define KL_THIRD  "this is a third-party nginx module, not part of kiln"
#define KL_DYNMOD                                                              \
    "dynamic modules are not supported: kiln's modules are "                   \
    "compiled in (./configure --add-module=DIR)"
#define KL_MODULE "this module is not part of this build of kiln"


static const kl_conf_absent_t kl_conf_absent[] = {
    /* core and events */
    { "load_module", KL_DYNMOD },
    { "ssl_engine", "OpenSSL engines are not supported by kiln (OpenSSL 3 "
                    "deprecated them)" },
    { "timer_resolution",
      "timer_resolution is not supported: kiln reads the clock once per "
      "event-loop iteration, without a system call" },
    { "worker_aio_requests",
      "native Linux AIO is not supported: use \"aio threads\"" },
    { "debug_connection",
      "the debug log is not supported by this build of kiln" },
    { "debug_points", "debug points are not supported by kiln" },
    { "early_hints", "103 Early Hints are not supported by kiln yet" },
    { "keepalive_min_timeout",
      "keepalive_min_timeout is not supported by kiln yet" },
    { "worker_rlimit_sigpending",
      "it was for nginx's rtsig events, which nginx removed" },

    /* TLS, HTTP/2, HTTP/3 (the ssl module claims its own names first) */
    { "ssl_ocsp*", "OCSP is not supported by kiln yet" },
    { "ssl_stapling*", "OCSP stapling is not supported by this build of kiln" },
    { "ssl", KL_TLS },
    { "ssl_*", KL_TLS },
    { "proxy_ssl*", KL_TLS },
    { "uwsgi_ssl*", KL_TLS },
    { "grpc_ssl*", KL_TLS },
    { "http2", KL_H2 },
    { "http2_*", KL_H2 },
    { "spdy_*", KL_H2 },
    { "http3", KL_H3 },
    { "http3_*", KL_H3 },
    { "quic_*", KL_H3 },

    /* caching and storing */
    { "proxy_cache*", KL_CACHE },
    { "proxy_no_cache", KL_CACHE },
    { "fastcgi_cache*", KL_CACHE },
    { "fastcgi_no_cache", KL_CACHE },
    { "uwsgi_cache*", KL_CACHE },
    { "uwsgi_no_cache", KL_CACHE },
    { "scgi_cache*", KL_CACHE },
    { "scgi_no_cache", KL_CACHE },
    { "proxy_store*", KL_STORE },
    { "fastcgi_store*", KL_STORE },
    { "uwsgi_store*", KL_STORE },
    { "scgi_store*", KL_STORE },

    /* access, authentication, limits, client addresses */
    { "auth_request*", KL_AUTH },
    { "auth_jwt*", KL_PLUS },

    /* http modules nginx builds by default or on request */
    { "geoip_*", KL_MODULE },
    { "stub_status", KL_MODULE },
    { "sub_filter*", KL_MODULE },
    { "ssi*", KL_MODULE },
    { "add_before_body", KL_MODULE },
    { "add_after_body", KL_MODULE },
    { "addition_types", KL_MODULE },
    { "dav_*", KL_MODULE },
    { "create_full_put_path", KL_MODULE },
    { "min_delete_depth", KL_MODULE },
    { "flv", KL_MODULE },
    { "mp4*", KL_MODULE },
    { "image_filter*", KL_MODULE },
    { "xslt_*", KL_MODULE },
    { "xml_entities", KL_MODULE },
    { "gunzip*", KL_MODULE },
    { "grpc_*", KL_MODULE },
    { "memcached_*", KL_MODULE },
    { "mirror*", KL_MODULE },
    { "slice", KL_MODULE },
    { "ancient_browser*", KL_MODULE },
    { "modern_browser*", KL_MODULE },
    { "google_perftools_profiles", KL_MODULE },
    { "stream", KL_STREAM },
    { "mail", KL_MAIL },

    /* nginx Plus, njs, Perl, popular third-party modules */
    { "api", KL_PLUS },
    { "status_zone", KL_PLUS },
    { "health_check*", KL_PLUS },
    { "sticky*", KL_PLUS },
    { "keyval*", KL_PLUS },
    { "js_*", KL_NJS },
    { "perl*", KL_PERL },
    { "more_set_headers", KL_THIRD },
    { "more_clear_headers", KL_THIRD },
    { "more_set_input_headers", KL_THIRD },
    { "more_clear_input_headers", KL_THIRD },
    { "brotli*", KL_THIRD },
    { "lua_*", KL_THIRD },
    { "content_by_lua*", KL_THIRD },
    { "access_by_lua*", KL_THIRD },
    { "pagespeed", KL_THIRD },
    { "passenger_*", KL_THIRD },
    { "vhost_traffic_status*", KL_THIRD },
    { "modsecurity*", KL_THIRD },
    { "headers_more*", KL_THIRD },
    { "upload_progress*", KL_THIRD },
    { "track_uploads", KL_THIRD },
    { "report_uploads", KL_THIRD },
};


const char *
kl_conf_absent_reason(kl_str_t *name)
{
    size_t      n;
    kl_uint_t   i;
    const char *row;

    for (i = 0; i < sizeof(kl_conf_absent) / sizeof(kl_conf_absent[0]); i++) {
        row = kl_conf_absent[i].name;
        n = kl_strlen(row);

        if (row[n - 1] == '*') {
            n--;
            if (name->len >= n && kl_strncmp(name->data, row, n) == 0) {
                return kl_conf_absent[i].reason;
            }

            continue;
        }

        if (name->len == n && kl_strncmp(name->data, row, n) == 0) {
            return kl_conf_absent[i].reason;
        }
    }

    return NULL;
}
