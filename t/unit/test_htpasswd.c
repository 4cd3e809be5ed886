/* test_htpasswd.c: modules/auth_basic/htpasswd.c: Basic credentials, user file lines, and every hash scheme (vectors from openssl passwd, Python's hashlib, libcrypt). */

#include <criterion/criterion.h>

#include "kl_core.h"
#include "htpasswd.h"


static kl_pool_t *kl_test_pool;


static void
kl_test_setup(void)
{
    kl_test_pool = kl_pool_create(4096, NULL);
    cr_assert_not_null(kl_test_pool);
}


static void
kl_test_teardown(void)
{
    kl_pool_free(kl_test_pool);
}


TestSuite(htpasswd, .init = kl_test_setup, .fini = kl_test_teardown);


static kl_int_t
kl_test_cred(const char *value, char *user, char *passwd)
{
    u_char   buf[256];
    kl_int_t rc;
    kl_str_t u, p;

    rc = kl_htpasswd_credentials((u_char *) value, strlen(value), buf, &u, &p);

    if (rc == KL_OK) {
        cr_assert_eq(p.data[p.len], '\0', "passwd NUL-terminated");
        sprintf(user, "%.*s", (int) u.len, u.data);
        sprintf(passwd, "%.*s", (int) p.len, p.data);
    }

    return rc;
}


Test(htpasswd, credentials)
{
    char u[256], p[256];

    cr_assert_eq(kl_test_cred("Basic dXNlcjpwYTpzcw==", u, p), KL_OK);
    cr_expect_str_eq(u, "user");
    cr_expect_str_eq(p, "pa:ss"); /* the first colon splits */

    cr_assert_eq(kl_test_cred("bAsIc    dTo=", u, p), KL_OK);
    cr_expect_str_eq(u, "u");
    cr_expect_str_eq(p, "");

    /* nginx stops at '=': what follows is not read */
    cr_expect_eq(kl_test_cred("Basic dTo=!!!!", u, p), KL_OK);
    cr_expect_eq(kl_test_cred("Basic dTo", u, p), KL_OK);

    cr_expect_eq(kl_test_cred("Basic OnB3", u, p), KL_DECLINED); /* ":pw" */
    cr_expect_eq(kl_test_cred("Basic bm9jb2xvbg==", u, p), KL_DECLINED);
    cr_expect_eq(kl_test_cred("Basic !!!!", u, p), KL_DECLINED);
    cr_expect_eq(kl_test_cred("Basic QQ", u, p), KL_DECLINED); /* "A" */
    cr_expect_eq(kl_test_cred("Basic Q", u, p), KL_DECLINED);  /* 4n+1 */
    cr_expect_eq(kl_test_cred("Basic ", u, p), KL_DECLINED);
    cr_expect_eq(kl_test_cred("Basic", u, p), KL_DECLINED);
    cr_expect_eq(kl_test_cred("Basicx dTo=", u, p), KL_DECLINED);
    cr_expect_eq(kl_test_cred("Bearer dTo=", u, p), KL_DECLINED);
    cr_expect_eq(kl_test_cred("", u, p), KL_DECLINED);
}


static kl_int_t
kl_test_line(const char *line, char *user, char *hash)
{
    kl_int_t rc;
    kl_str_t u, h;

    rc = kl_htpasswd_parse_line((u_char *) line, strlen(line), &u, &h);

    if (rc == KL_OK) {
        sprintf(user, "%.*s", (int) u.len, u.data);
        sprintf(hash, "%.*s", (int) h.len, h.data);
    }

    return rc;
}


Test(htpasswd, lines)
{
    char u[256], h[256];

    cr_assert_eq(kl_test_line("bob:{PLAIN}pw", u, h), KL_OK);
    cr_expect_str_eq(u, "bob");
    cr_expect_str_eq(h, "{PLAIN}pw");

    cr_assert_eq(kl_test_line("bob:$1$x$y:Bob Smith:x", u, h), KL_OK);
    cr_expect_str_eq(h, "$1$x$y");

    cr_assert_eq(kl_test_line("bob:abc\r", u, h), KL_OK);
    cr_expect_str_eq(h, "abc");

    cr_assert_eq(kl_test_line(" bob:abc", u, h), KL_OK);
    cr_expect_str_eq(u, " bob"); /* as nginx: spaces are part of it */

    cr_expect_eq(kl_test_line("", u, h), KL_DECLINED);
    cr_expect_eq(kl_test_line("\r", u, h), KL_DECLINED);
    cr_expect_eq(kl_test_line("# bob:abc", u, h), KL_DECLINED);
    cr_expect_eq(kl_test_line("#", u, h), KL_DECLINED);

    cr_expect_eq(kl_test_line("bob", u, h), KL_ERROR);
    cr_expect_eq(kl_test_line(":abc", u, h), KL_ERROR);
    cr_expect_eq(kl_test_line("bob:", u, h), KL_ERROR);
    cr_expect_eq(kl_test_line("bob::x", u, h), KL_ERROR);
    cr_expect_eq(kl_htpasswd_parse_line((u_char *) "bob:a\0b", 7,
                                        &(kl_str_t){ 0, NULL },
                                        &(kl_str_t){ 0, NULL }),
                 KL_ERROR);
}


static kl_int_t
kl_test_verify(const char *passwd, const char *hash)
{
    kl_str_t p, h;

    p.data = (u_char *) passwd;
    p.len = strlen(passwd);
    h.data = (u_char *) hash;
    h.len = strlen(hash);

    return kl_htpasswd_verify(kl_test_pool, &p, &h);
}


Test(htpasswd, schemes)
{
    cr_expect_eq(kl_test_verify("secret", "{PLAIN}secret"), KL_OK);
    cr_expect_eq(kl_test_verify("secre", "{PLAIN}secret"), KL_DECLINED);
    cr_expect_eq(kl_test_verify("", "{PLAIN}"), KL_OK);

    cr_expect_eq(kl_test_verify("secret", "{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ="),
                 KL_OK);
    cr_expect_eq(kl_test_verify("Secret", "{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ="),
                 KL_DECLINED);
    cr_expect_eq(kl_test_verify("secret", "{SHA}5en6G6Me"), KL_ERROR);
    cr_expect_eq(kl_test_verify("secret", "{SHA}!!!!"), KL_ERROR);

    cr_expect_eq(
        kl_test_verify("secret", "{SSHA}dj2lH1ocucmj5OQsjP6mQrVx6FhOYUNs"),
        KL_OK);
    cr_expect_eq(
        kl_test_verify("secreT", "{SSHA}dj2lH1ocucmj5OQsjP6mQrVx6FhOYUNs"),
        KL_DECLINED);
    cr_expect_eq(kl_test_verify("secret", "{SSHA}"), KL_ERROR);

    /* openssl passwd -apr1 -salt ... */
    cr_expect_eq(
        kl_test_verify("secret", "$apr1$salt1234$G61s9lpZAELkzUFCbj/53/"),
        KL_OK);
    cr_expect_eq(
        kl_test_verify("secreu", "$apr1$salt1234$G61s9lpZAELkzUFCbj/53/"),
        KL_DECLINED);
    cr_expect_eq(kl_test_verify("p:a ss", "$apr1$ab$vbf2RvWrLiXyAB5.gYXS40"),
                 KL_OK);
    cr_expect_eq(kl_test_verify("x", "$apr1$$jYtXyIcDHukcQfHjblNhq/"), KL_OK);
    cr_expect_eq(kl_test_verify("", "$apr1$12345678$sHuPAw7VA9xjRbJz7zKV7/"),
                 KL_OK);
    cr_expect_eq(kl_test_verify("secret", "$apr1$salt1234$G61s9lpZ"), KL_ERROR);
    cr_expect_eq(kl_test_verify("secret", "$apr1$"), KL_ERROR);

#if (KL_HAVE_LIBCRYPT)
    cr_expect_eq(kl_test_verify("secret", "abNANd1rDfiNc"), KL_OK);
    cr_expect_eq(kl_test_verify("secreT", "abNANd1rDfiNc"), KL_DECLINED);
    cr_expect_eq(kl_test_verify("secret",
                                "$5$saltsalt$0IyaXrmV7.sGNS6tirgqHLqX/"
                                "G.FBvgkYA.lpPdS5sA"),
                 KL_OK);
    cr_expect_eq(kl_test_verify("secret",
                                "$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHww"
                                "Tt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq."
                                "H91p5hVO1"),
                 KL_OK);
    cr_expect_eq(kl_test_verify("wrong",
                                "$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHww"
                                "Tt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq."
                                "H91p5hVO1"),
                 KL_DECLINED);
    cr_expect_eq(kl_htpasswd_verify(
                     kl_test_pool, &(kl_str_t){ 8, (u_char *) "secret\0x" },
                     &(kl_str_t){ 13, (u_char *) "abNANd1rDfiNc" }),
                 KL_DECLINED);
    cr_expect_eq(kl_test_verify("secret", "$9$nonsense"), KL_ERROR);
    cr_expect_eq(kl_test_verify("secret", "x"), KL_ERROR);
#else
    cr_expect_eq(kl_test_verify("secret", "abNANd1rDfiNc"), KL_ABORT);
#endif
}


Test(htpasswd, scheme_names)
{
    kl_str_t h;

    kl_str_set(&h, "{PLAIN}");
    cr_expect_eq(kl_htpasswd_scheme(&h), KL_HTPASSWD_PLAIN);
    kl_str_set(&h, "{SHA}x");
    cr_expect_eq(kl_htpasswd_scheme(&h), KL_HTPASSWD_SHA);
    kl_str_set(&h, "{SSHA}x");
    cr_expect_eq(kl_htpasswd_scheme(&h), KL_HTPASSWD_SSHA);
    kl_str_set(&h, "$apr1$x");
    cr_expect_eq(kl_htpasswd_scheme(&h), KL_HTPASSWD_APR1);
    kl_str_set(&h, "{sha}x"); /* case matters, as in nginx */
    cr_expect_eq(kl_htpasswd_scheme(&h), KL_HTPASSWD_CRYPT);
    kl_str_set(&h, "$apr");
    cr_expect_eq(kl_htpasswd_scheme(&h), KL_HTPASSWD_CRYPT);
}
