/* fuzz_htpasswd.c: libFuzzer target for auth_basic's pure parsers: Basic credentials and user file lines. */

/*
 * The same input, in an exact-size buffer, goes to the credentials
 * parser (as an Authorization value), to the line parser, and, for a
 * line that parses, to the password check with a non-crypt hash (the
 * crypt(3) schemes are libcrypt's). Found fields must lie inside their
 * buffers and the user must hold no colon.
 */

#include "kl_core.h"
#include "htpasswd.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char    *text, *buf;
    kl_str_t   user, passwd, hash;
    kl_pool_t *pool;

    text = malloc(size ? size : 1);
    buf = malloc(size + 1);
    if (text == NULL || buf == NULL) {
        abort();
    }

    memcpy(text, data, size);

    if (kl_htpasswd_credentials(text, size, buf, &user, &passwd) == KL_OK) {
        if (user.len == 0 || memchr(user.data, ':', user.len)
            || passwd.data + passwd.len > buf + size
            || passwd.data[passwd.len] != '\0')
        {
            abort();
        }
    }

    if (kl_htpasswd_parse_line(text, size, &user, &hash) == KL_OK) {
        if (user.len == 0 || hash.len == 0 || memchr(user.data, ':', user.len)
            || memchr(hash.data, ':', hash.len)
            || hash.data + hash.len > text + size)
        {
            abort();
        }

        if (kl_htpasswd_scheme(&hash) != KL_HTPASSWD_CRYPT) {
            pool = kl_pool_create(4096, NULL);
            if (pool == NULL) {
                abort();
            }

            kl_str_set(&passwd, "secret");
            (void) kl_htpasswd_verify(pool, &passwd, &hash);
            kl_pool_free(pool);
        }
    }

    free(buf);
    free(text);

    return 0;
}
