/* metrics_text.c: Prometheus text exposition format 0.0.4: HELP and TYPE lines, samples, label escaping. */

/*
 * Each writer has a _len twin that bounds what it writes, so the page
 * is written into buffers sized beforehand, never cut. In a label value
 * the format escapes backslash, double quote and newline, and nothing
 * else; HELP text escapes backslash and newline (ours has neither).
 */

#include "metrics.h"


size_t
kl_http_metrics_escape_len(u_char *src, size_t len)
{
    size_t i, n;

    n = len;

    for (i = 0; i < len; i++) {
        if (src[i] == '\\' || src[i] == '"' || src[i] == '\n') {
            n++;
        }
    }

    return n;
}


u_char *
kl_http_metrics_escape(u_char *dst, u_char *src, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        switch (src[i]) {
        case '\\':
            *dst++ = '\\';
            *dst++ = '\\';
            break;
        case '"':
            *dst++ = '\\';
            *dst++ = '"';
            break;
        case '\n':
            *dst++ = '\\';
            *dst++ = 'n';
            break;
        default:
            *dst++ = src[i];
            break;
        }
    }

    return dst;
}


size_t
kl_http_metrics_sample_len(const char *name, const char *suffix,
                           kl_http_metrics_label_t *labels, kl_uint_t nlabels)
{
    size_t    n;
    kl_uint_t i;

    n = kl_strlen(name) + (suffix ? kl_strlen(suffix) : 0);

    for (i = 0; i < nlabels; i++) {
        /* name="value", and the braces or the comma */
        n += kl_strlen(labels[i].name) + sizeof("=\"\",") - 1
             + kl_http_metrics_escape_len(labels[i].value.data,
                                          labels[i].value.len);
    }

    /* "{", " ", the value (20 digits, a dot: "1.500"), "\n" */
    return n + 1 + 1 + KL_INT_T_LEN + 1 + 1;
}


u_char *
kl_http_metrics_sample(u_char *p, const char *name, const char *suffix,
                       kl_http_metrics_label_t *labels, kl_uint_t nlabels,
                       uint64_t value, kl_uint_t ms)
{
    kl_uint_t i;

    p = kl_cpymem(p, name, kl_strlen(name));

    if (suffix) {
        p = kl_cpymem(p, suffix, kl_strlen(suffix));
    }

    for (i = 0; i < nlabels; i++) {
        *p++ = (i == 0) ? '{' : ',';
        p = kl_cpymem(p, labels[i].name, kl_strlen(labels[i].name));
        *p++ = '=';
        *p++ = '"';
        p = kl_http_metrics_escape(p, labels[i].value.data,
                                   labels[i].value.len);
        *p++ = '"';
    }

    if (nlabels) {
        *p++ = '}';
    }

    *p++ = ' ';

    if (ms) {
        p = kl_sprint_uint(p, value / 1000);
        *p++ = '.';
        *p++ = (u_char) ('0' + value % 1000 / 100);
        *p++ = (u_char) ('0' + value % 100 / 10);
        *p++ = (u_char) ('0' + value % 10);
    } else {
        p = kl_sprint_uint(p, value);
    }

    *p++ = '\n';

    return p;
}


size_t
kl_http_metrics_family_len(const char *name, const char *help, const char *type)
{
    return sizeof("# HELP  \n# TYPE  \n") - 1 + 2 * kl_strlen(name)
           + kl_strlen(help) + kl_strlen(type);
}


u_char *
kl_http_metrics_family(u_char *p, const char *name, const char *help,
                       const char *type)
{
    p = kl_cpymem(p, "# HELP ", sizeof("# HELP ") - 1);
    p = kl_cpymem(p, name, kl_strlen(name));
    *p++ = ' ';
    p = kl_cpymem(p, help, kl_strlen(help));
    p = kl_cpymem(p, "\n# TYPE ", sizeof("\n# TYPE ") - 1);
    p = kl_cpymem(p, name, kl_strlen(name));
    *p++ = ' ';
    p = kl_cpymem(p, type, kl_strlen(type));
    *p++ = '\n';

    return p;
}
