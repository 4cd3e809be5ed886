/* test_http_upstream_authority.c: kl_http_upstream_parse_authority, the host[:port] of a proxy_pass URL evaluated per request. */

#include <criterion/criterion.h>

#include "kl_http.h"
#include "upstream.h"


typedef struct {
    const char *text;
    const char *err;  /* NULL: KL_OK */
    const char *host; /* as split */
    in_port_t   port;
    kl_uint_t   no_port;
    const char *name; /* NULL: not an address literal */
} kl_test_authority_t;


static const kl_test_authority_t kl_test_authorities[] = {
    { "127.0.0.1:8081", NULL, "127.0.0.1", 8081, 0, "127.0.0.1:8081" },
    { "127.0.0.1", NULL, "127.0.0.1", 80, 1, "127.0.0.1:80" },
    { "[::1]:8081", NULL, "[::1]", 8081, 0, "[::1]:8081" },
    { "[::1]", NULL, "[::1]", 80, 1, "[::1]:80" },
    { "backend", NULL, "backend", 80, 1, NULL },
    { "backend:8080", NULL, "backend", 8080, 0, NULL },
    { "Back.Example:80", NULL, "Back.Example", 80, 0, NULL },
    { "1.2.3", NULL, "1.2.3", 80, 1, NULL },
    { "1.2.3.256:80", NULL, "1.2.3.256", 80, 0, NULL },
    { "host:65535", NULL, "host", 65535, 0, NULL },

    { "", "no host", NULL, 0, 0, NULL },
    { ":80", "no host", NULL, 0, 0, NULL },
    { "host:", "invalid port", NULL, 0, 0, NULL },
    { "host:0", "invalid port", NULL, 0, 0, NULL },
    { "host:65536", "invalid port", NULL, 0, 0, NULL },
    { "host:8a", "invalid port", NULL, 0, 0, NULL },
    { "host:-1", "invalid port", NULL, 0, 0, NULL },
    { "unix:/tmp/s:", "invalid port", NULL, 0, 0, NULL },
    { "[::1", "invalid host", NULL, 0, 0, NULL },
    { "[::1]x", "invalid host", NULL, 0, 0, NULL },
    { "[]", "invalid host", NULL, 0, 0, NULL },
    { "[zz]:80", "invalid host", NULL, 0, 0, NULL },
};


Test(upstream_authority, table)
{
    size_t                      i;
    kl_str_t                    text;
    const char                 *err;
    kl_http_upstream_resolved_t ur;
    const kl_test_authority_t  *t;

    for (i = 0;
         i < sizeof(kl_test_authorities) / sizeof(kl_test_authorities[0]); i++)
    {
        t = &kl_test_authorities[i];
        text.data = (u_char *) t->text;
        text.len = strlen(t->text);
        err = NULL;

        if (t->err) {
            cr_expect_eq(kl_http_upstream_parse_authority(&text, &ur, &err),
                         KL_ERROR, "%s: refused", t->text);
            cr_expect(err && strcmp(err, t->err) == 0, "%s: %s, not %s",
                      t->text, t->err, err ? err : "(none)");
            continue;
        }

        cr_assert_eq(kl_http_upstream_parse_authority(&text, &ur, &err), KL_OK,
                     "%s: accepted", t->text);
        cr_expect(ur.host.len == strlen(t->host)
                      && memcmp(ur.host.data, t->host, ur.host.len) == 0,
                  "%s: host %.*s", t->text, (int) ur.host.len, ur.host.data);
        cr_expect_eq(ur.port, t->port, "%s: port", t->text);
        cr_expect_eq(ur.no_port, t->no_port, "%s: no_port", t->text);

        if (t->name == NULL) {
            cr_expect_eq(ur.socklen, 0, "%s: not a literal", t->text);
            continue;
        }

        cr_expect_neq(ur.socklen, 0, "%s: a literal", t->text);
        cr_expect(ur.name.len == strlen(t->name)
                      && memcmp(ur.name.data, t->name, ur.name.len) == 0,
                  "%s: name %.*s", t->text, (int) ur.name.len, ur.name.data);
    }
}


/* The host is a view of the text: the caller's buffer, not a copy. */
Test(upstream_authority, host_in_text)
{
    u_char                      buf[] = "10.0.0.1:9";
    kl_str_t                    text = { sizeof(buf) - 1, buf };
    const char                 *err;
    kl_http_upstream_resolved_t ur;

    cr_assert_eq(kl_http_upstream_parse_authority(&text, &ur, &err), KL_OK);
    cr_expect_eq(ur.host.data, buf);
    cr_expect_eq(ntohs(ur.sockaddr.sockaddr_in.sin_port), 9);
    cr_expect_eq(ur.sockaddr.sockaddr_in.sin_family, AF_INET);
}


/* https://: a missing port is 443, in the address and its name too; a
 * port given stays. */
Test(upstream_authority, default_port)
{
    size_t                      i;
    kl_str_t                    text;
    const char                 *err;
    kl_http_upstream_resolved_t ur;
    static const struct {
        const char *text;
        in_port_t   port;
        const char *name; /* NULL: not an address literal */
    } t[] = {
        { "127.0.0.1", 443, "127.0.0.1:443" },
        { "[::1]", 443, "[::1]:443" },
        { "127.0.0.1:8443", 8443, "127.0.0.1:8443" },
        { "backend", 443, NULL },
        { "backend:80", 80, NULL },
    };

    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        text.data = (u_char *) t[i].text;
        text.len = strlen(t[i].text);

        cr_assert_eq(kl_http_upstream_parse_authority(&text, &ur, &err), KL_OK,
                     "%s: accepted", t[i].text);

        kl_http_upstream_default_port(&ur, 443);

        cr_expect_eq(ur.port, t[i].port, "%s: port", t[i].text);

        if (t[i].name == NULL) {
            cr_expect_eq(ur.socklen, 0, "%s: not a literal", t[i].text);
            continue;
        }

        cr_expect(ur.name.len == strlen(t[i].name)
                      && memcmp(ur.name.data, t[i].name, ur.name.len) == 0,
                  "%s: name %.*s", t[i].text, (int) ur.name.len, ur.name.data);
        cr_expect_eq(ntohs(ur.sockaddr.sockaddr_in.sin_port), t[i].port,
                     "%s: the address's port", t[i].text);
    }
}
