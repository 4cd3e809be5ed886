/*
 * htpasswd.c: Basic credentials and htpasswd lines (pure parsers), and the
 * password check: {PLAIN}, {SHA}, {SSHA}, $apr1$ here, crypt(3) through
 * libcrypt's crypt_rn (thread-safe, no static buffer).
 */

#include "kl_core.h"
#include "htpasswd.h"
#include "sha1.h"
#include "md5.h"

#if (KL_HAVE_LIBCRYPT)
#include <crypt.h>
#endif


kl_int_t
kl_htpasswd_credentials(const u_char *value, size_t len, u_char *buf,
                        kl_str_t *user, kl_str_t *passwd)
{
    size_t        dlen, i;
    const u_char *p, *end;

    if (len < sizeof("Basic ") - 1
        || kl_strncasecmp((u_char *) value, (u_char *) "Basic ",
                          sizeof("Basic ") - 1)
               != 0)
    {
        return KL_DECLINED;
    }

    p = value + sizeof("Basic ") - 1;
    end = value + len;

    while (p < end && *p == ' ') {
        p++;
    }

    if (p == end) {
        return KL_DECLINED;
    }

    if (kl_base64_decode(buf, &dlen, p, (size_t) (end - p)) != KL_OK) {
        return KL_DECLINED;
    }

    for (i = 0; i < dlen && buf[i] != ':'; i++) {
        /* void */
    }

    if (i == 0 || i == dlen) {
        return KL_DECLINED;
    }

    user->data = buf;
    user->len = i;
    passwd->data = buf + i + 1;
    passwd->len = dlen - i - 1;

    /* base64 shrinks: the byte after the password is inside buf */
    buf[dlen] = '\0';

    return KL_OK;
}


kl_int_t
kl_htpasswd_parse_line(const u_char *line, size_t len, kl_str_t *user,
                       kl_str_t *hash)
{
    const u_char *colon, *end;

    if (len && line[len - 1] == '\r') {
        len--;
    }

    if (len == 0 || line[0] == '#') {
        return KL_DECLINED;
    }

    if (memchr(line, '\0', len) != NULL) {
        return KL_ERROR;
    }

    colon = memchr(line, ':', len);

    if (colon == NULL || colon == line) {
        return KL_ERROR;
    }

    user->data = (u_char *) line;
    user->len = (size_t) (colon - line);

    colon++;
    end = memchr(colon, ':', len - user->len - 1);

    if (end == NULL) {
        end = line + len;
    }

    if (end == colon) {
        return KL_ERROR;
    }

    hash->data = (u_char *) colon;
    hash->len = (size_t) (end - colon);

    return KL_OK;
}


kl_uint_t
kl_htpasswd_scheme(const kl_str_t *hash)
{
    if (hash->len >= 7 && kl_strncmp(hash->data, "{PLAIN}", 7) == 0) {
        return KL_HTPASSWD_PLAIN;
    }

    if (hash->len >= 5 && kl_strncmp(hash->data, "{SHA}", 5) == 0) {
        return KL_HTPASSWD_SHA;
    }

    if (hash->len >= 6 && kl_strncmp(hash->data, "{SSHA}", 6) == 0) {
        return KL_HTPASSWD_SSHA;
    }

    if (hash->len >= 6 && kl_strncmp(hash->data, "$apr1$", 6) == 0) {
        return KL_HTPASSWD_APR1;
    }

    return KL_HTPASSWD_CRYPT;
}


/* Equal lengths compared without an early exit. */
static kl_int_t
kl_htpasswd_equal(const u_char *a, const u_char *b, size_t len)
{
    size_t          i;
    volatile u_char diff;

    diff = 0;

    for (i = 0; i < len; i++) {
        diff |= a[i] ^ b[i];
    }

    return diff == 0 ? KL_OK : KL_DECLINED;
}


static u_char *
kl_htpasswd_to64(u_char *p, uint32_t v, kl_uint_t n)
{
    static const u_char itoa64[] =
        "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    while (n--) {
        *p++ = itoa64[v & 0x3f];
        v >>= 6;
    }

    return p;
}


size_t
kl_htpasswd_apr1(const u_char *pw, size_t pwlen, const kl_str_t *setting,
                 u_char *out)
{
    u_char        fin[KL_MD5_DIGEST_LEN], *p;
    size_t        saltlen, n;
    kl_md5_t      ctx, ctx1;
    kl_uint_t     i;
    const u_char *salt;

    if (setting->len < 6 || kl_strncmp(setting->data, "$apr1$", 6) != 0) {
        return 0;
    }

    salt = setting->data + 6;

    for (saltlen = 0; saltlen < 8 && 6 + saltlen < setting->len; saltlen++) {
        if (salt[saltlen] == '$') {
            break;
        }
    }

    kl_md5_init(&ctx);
    kl_md5_update(&ctx, pw, pwlen);
    kl_md5_update(&ctx, "$apr1$", 6);
    kl_md5_update(&ctx, salt, saltlen);

    kl_md5_init(&ctx1);
    kl_md5_update(&ctx1, pw, pwlen);
    kl_md5_update(&ctx1, salt, saltlen);
    kl_md5_update(&ctx1, pw, pwlen);
    kl_md5_final(fin, &ctx1);

    for (n = pwlen; n > 0; n -= kl_min(n, 16)) {
        kl_md5_update(&ctx, fin, kl_min(n, 16));
    }

    kl_memzero(fin, sizeof(fin));

    for (n = pwlen; n; n >>= 1) {
        kl_md5_update(&ctx, (n & 1) ? fin : pw, 1);
    }

    kl_md5_final(fin, &ctx);

    /* 1000 rounds, to make brute force slower (Kamp's md5crypt). */
    for (i = 0; i < 1000; i++) {
        kl_md5_init(&ctx1);

        if (i & 1) {
            kl_md5_update(&ctx1, pw, pwlen);
        } else {
            kl_md5_update(&ctx1, fin, 16);
        }

        if (i % 3) {
            kl_md5_update(&ctx1, salt, saltlen);
        }

        if (i % 7) {
            kl_md5_update(&ctx1, pw, pwlen);
        }

        if (i & 1) {
            kl_md5_update(&ctx1, fin, 16);
        } else {
            kl_md5_update(&ctx1, pw, pwlen);
        }

        kl_md5_final(fin, &ctx1);
    }

    p = kl_cpymem(out, "$apr1$", 6);
    p = kl_cpymem(p, salt, saltlen);
    *p++ = '$';

    p = kl_htpasswd_to64(p, (uint32_t) fin[0] << 16 | fin[6] << 8 | fin[12], 4);
    p = kl_htpasswd_to64(p, (uint32_t) fin[1] << 16 | fin[7] << 8 | fin[13], 4);
    p = kl_htpasswd_to64(p, (uint32_t) fin[2] << 16 | fin[8] << 8 | fin[14], 4);
    p = kl_htpasswd_to64(p, (uint32_t) fin[3] << 16 | fin[9] << 8 | fin[15], 4);
    p = kl_htpasswd_to64(p, (uint32_t) fin[4] << 16 | fin[10] << 8 | fin[5], 4);
    p = kl_htpasswd_to64(p, fin[11], 2);

    return (size_t) (p - out);
}


/* {SHA} and {SSHA}: the digest (with the salt after it) base64-encoded. */
static kl_int_t
kl_htpasswd_sha(const kl_str_t *passwd, const kl_str_t *hash, size_t skip,
                kl_uint_t salted)
{
    u_char    decoded[256], digest[KL_SHA1_DIGEST_LEN];
    size_t    dlen;
    kl_sha1_t sha;

    if (hash->len - skip > sizeof(decoded) * 4 / 3
        || kl_base64_decode(decoded, &dlen, hash->data + skip, hash->len - skip)
               != KL_OK
        || dlen < KL_SHA1_DIGEST_LEN || (!salted && dlen != KL_SHA1_DIGEST_LEN))
    {
        return KL_ERROR;
    }

    kl_sha1_init(&sha);
    kl_sha1_update(&sha, passwd->data, passwd->len);
    kl_sha1_update(&sha, decoded + KL_SHA1_DIGEST_LEN,
                   dlen - KL_SHA1_DIGEST_LEN);
    kl_sha1_final(digest, &sha);

    return kl_htpasswd_equal(digest, decoded, KL_SHA1_DIGEST_LEN);
}


/* {PLAIN}: digests compared, so the time does not tell the length. */
static kl_int_t
kl_htpasswd_plain(const kl_str_t *passwd, const kl_str_t *hash)
{
    u_char    a[KL_SHA1_DIGEST_LEN], b[KL_SHA1_DIGEST_LEN];
    kl_sha1_t sha;

    kl_sha1_init(&sha);
    kl_sha1_update(&sha, passwd->data, passwd->len);
    kl_sha1_final(a, &sha);

    kl_sha1_init(&sha);
    kl_sha1_update(&sha, hash->data + 7, hash->len - 7);
    kl_sha1_final(b, &sha);

    return kl_htpasswd_equal(a, b, KL_SHA1_DIGEST_LEN);
}


static kl_int_t
kl_htpasswd_crypt(kl_pool_t *pool, const kl_str_t *passwd, const kl_str_t *hash)
{
#if (KL_HAVE_LIBCRYPT)
    char              *setting, *out;
    kl_int_t           rc;
    struct crypt_data *data;

    setting = kl_pnalloc(pool, hash->len + 1);
    data = kl_palloc(pool, sizeof(struct crypt_data));
    if (setting == NULL || data == NULL) {
        return KL_ERROR;
    }

    kl_memcpy(setting, hash->data, hash->len);
    setting[hash->len] = '\0';
    data->initialized = 0;

    /* crypt(3) would stop at a NUL: "pw\0anything" must not match "pw" */
    if (memchr(passwd->data, '\0', passwd->len) != NULL) {
        return KL_DECLINED;
    }

    out = crypt_rn((char *) passwd->data, setting, data, (int) sizeof(*data));

    if (out == NULL || out[0] == '*' || strlen(out) != hash->len) {
        rc = KL_ERROR;

    } else {
        rc = kl_htpasswd_equal((u_char *) out, hash->data, hash->len);
    }

    /* the pool keeps it until the request ends: no hash left behind */
    explicit_bzero(data, sizeof(*data));

    return rc;
#else
    (void) pool;
    (void) passwd;
    (void) hash;

    return KL_ABORT;
#endif
}


kl_int_t
kl_htpasswd_verify(kl_pool_t *pool, const kl_str_t *passwd,
                   const kl_str_t *hash)
{
    u_char out[40];
    size_t n;

    switch (kl_htpasswd_scheme(hash)) {

    case KL_HTPASSWD_PLAIN:
        return kl_htpasswd_plain(passwd, hash);

    case KL_HTPASSWD_SHA:
        return kl_htpasswd_sha(passwd, hash, 5, 0);

    case KL_HTPASSWD_SSHA:
        return kl_htpasswd_sha(passwd, hash, 6, 1);

    case KL_HTPASSWD_APR1:
        n = kl_htpasswd_apr1(passwd->data, passwd->len, hash, out);

        if (n != hash->len) {
            return KL_ERROR;
        }

        return kl_htpasswd_equal(out, hash->data, n);

    default:
        return kl_htpasswd_crypt(pool, passwd, hash);
    }
}
