/* Unit tests: src/acme_key.c */
#include <stdlib.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "acme_test.h"
#include "acme_key.h"
#include "acme_util.h"

static const acme_key_type_e all_types[] = {
    ACME_KEY_EC256, ACME_KEY_EC384, ACME_KEY_RSA2048, ACME_KEY_RSA3072,
    ACME_KEY_RSA4096
};

static void test_type_parse(apr_pool_t *p)
{
    static const struct { const char *s; acme_key_type_e t; } ok[] = {
        { "ec256", ACME_KEY_EC256 }, { "ec384", ACME_KEY_EC384 },
        { "rsa2048", ACME_KEY_RSA2048 }, { "rsa3072", ACME_KEY_RSA3072 },
        { "rsa4096", ACME_KEY_RSA4096 }, { "ecdsa", ACME_KEY_EC256 },
        { "rsa", ACME_KEY_RSA2048 }, { "p256", ACME_KEY_EC256 },
        { "p384", ACME_KEY_EC384 }, { "secp256r1", ACME_KEY_EC256 },
        { "secp384r1", ACME_KEY_EC384 }, { "EC256", ACME_KEY_EC256 },
        { "RSA4096", ACME_KEY_RSA4096 },
    };
    static const char *const bad[] = { "dsa", "ec521", "", "rsa1024",
                                       "ed25519", "ec256 " };
    acme_key_type_e t;
    acme_err_t err;
    size_t i;

    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        t = (acme_key_type_e)-1;
        acme_err_clear(&err);
        ACME_CHECK(acme_key_type_parse(&t, ok[i].s, p, &err) == APR_SUCCESS
                   && t == ok[i].t, "'%s' -> %d", ok[i].s, (int)t);
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        acme_err_clear(&err);
        ACME_CHECK(acme_key_type_parse(&t, bad[i], p, &err) == ACME_EINVAL,
                   "'%s' accepted", bad[i]);
        ACME_CHECK(err.rv == ACME_EINVAL && err.msg, "no error for '%s'",
                   bad[i]);
        ACME_CHECK(err.msg && strstr(err.msg, bad[i])
                   && strstr(err.msg, "ec256") && strstr(err.msg, "ec384")
                   && strstr(err.msg, "rsa2048") && strstr(err.msg, "rsa3072")
                   && strstr(err.msg, "rsa4096"),
                   "message does not list the allowed types: %s",
                   err.msg ? err.msg : "(null)");
    }
    /* the canonical names parse back to their type */
    for (i = 0; i < sizeof(all_types) / sizeof(all_types[0]); i++) {
        ACME_CHECK(acme_key_type_parse(&t, acme_key_type_name(all_types[i]),
                                       p, NULL) == APR_SUCCESS
                   && t == all_types[i], "name of type %d", (int)i);
    }
    ACME_CHECK_STR(acme_key_type_name(ACME_KEY_EC256), "ec256");
    ACME_CHECK_STR(acme_key_type_name(ACME_KEY_RSA3072), "rsa3072");
}

/* Properties of a generated key checked with OpenSSL directly. */
static void check_key_shape(const acme_key_t *key, acme_key_type_e type)
{
    EVP_PKEY *pk = acme_key_evp(key);
    char group[64] = "";
    size_t glen = 0;

    ACME_CHECK(pk != NULL, "no EVP_PKEY");
    if (!pk) {
        return;
    }
    switch (type) {
    case ACME_KEY_EC256:
    case ACME_KEY_EC384:
        ACME_CHECK(EVP_PKEY_get_base_id(pk) == EVP_PKEY_EC, "not EC");
        ACME_CHECK(EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME,
                                                  group, sizeof(group), &glen),
                   "no group");
        ACME_CHECK_STR(group, type == ACME_KEY_EC256 ? "prime256v1"
                                                     : "secp384r1");
        break;
    default:
        ACME_CHECK(EVP_PKEY_get_base_id(pk) == EVP_PKEY_RSA, "not RSA");
        ACME_CHECK(EVP_PKEY_get_bits(pk) == (type == ACME_KEY_RSA2048 ? 2048
                   : type == ACME_KEY_RSA3072 ? 3072 : 4096),
                   "bits %d", EVP_PKEY_get_bits(pk));
        break;
    }
}

static void test_generate_roundtrip(apr_pool_t *p)
{
    acme_key_t *key, *key2;
    acme_key_type_e t;
    acme_err_t err;
    const char *pem, *pem2;
    const unsigned char *der, *der2;
    apr_size_t len, len2, dlen, dlen2;
    size_t i;

    for (i = 0; i < sizeof(all_types) / sizeof(all_types[0]); i++) {
        const char *name = acme_key_type_name(all_types[i]);

        key = key2 = NULL;
        acme_err_clear(&err);
        ACME_CHECK(acme_key_generate(&key, p, all_types[i], &err)
                   == APR_SUCCESS && key, "generate %s: %s", name,
                   err.msg ? err.msg : "");
        if (!key) {
            continue;
        }
        check_key_shape(key, all_types[i]);
        ACME_CHECK(acme_key_get_type(&t, key) == APR_SUCCESS
                   && t == all_types[i], "get_type %s -> %d", name, (int)t);

        pem = NULL;
        ACME_CHECK_RV(acme_key_to_pem(&pem, &len, p, key));
        ACME_CHECK(pem && len == strlen(pem), "pem length");
        ACME_CHECK(pem && !strncmp(pem, "-----BEGIN PRIVATE KEY-----\n", 28),
                   "not PKCS#8 PEM: %.40s", pem ? pem : "");
        if (!pem) {
            continue;
        }
        ACME_CHECK(acme_key_from_pem(&key2, p, pem, len, &err) == APR_SUCCESS
                   && key2, "from_pem %s: %s", name, err.msg ? err.msg : "");
        if (!key2) {
            continue;
        }
        ACME_CHECK(EVP_PKEY_eq(acme_key_evp(key), acme_key_evp(key2)) == 1,
                   "%s: reloaded key differs", name);
        ACME_CHECK(acme_key_get_type(&t, key2) == APR_SUCCESS
                   && t == all_types[i], "get_type after reload %s", name);
        pem2 = NULL;
        ACME_CHECK_RV(acme_key_to_pem(&pem2, &len2, p, key2));
        ACME_CHECK(pem2 && len2 == len && !memcmp(pem, pem2, len),
                   "%s: PEM not stable across a round trip", name);

        /* public DER is a SubjectPublicKeyInfo of the same key */
        der = NULL;
        ACME_CHECK_RV(acme_key_public_der(&der, &dlen, p, key));
        if (der) {
            const unsigned char *q = der;
            EVP_PKEY *pub = d2i_PUBKEY(NULL, &q, (long)dlen);

            ACME_CHECK(pub && q == der + dlen, "%s: SPKI does not parse",
                       name);
            ACME_CHECK(pub && EVP_PKEY_eq(pub, acme_key_evp(key)) == 1,
                       "%s: SPKI is another key", name);
            EVP_PKEY_free(pub);
        }
        der2 = NULL;
        ACME_CHECK_RV(acme_key_public_der(&der2, &dlen2, p, key2));
        ACME_CHECK(der && der2 && dlen == dlen2 && !memcmp(der, der2, dlen),
                   "%s: SPKI differs after reload", name);
    }
}

static void test_two_keys_differ(apr_pool_t *p)
{
    acme_key_t *a = NULL, *b = NULL;

    ACME_CHECK_RV(acme_key_generate(&a, p, ACME_KEY_EC256, NULL));
    ACME_CHECK_RV(acme_key_generate(&b, p, ACME_KEY_EC256, NULL));
    ACME_CHECK(a && b && EVP_PKEY_eq(acme_key_evp(a), acme_key_evp(b)) != 1,
               "two generated keys are equal");
}

/* Traditional ("BEGIN EC PRIVATE KEY" / "BEGIN RSA PRIVATE KEY") PEM is
 * accepted as well as PKCS#8. */
static void test_traditional_pem(apr_pool_t *p)
{
    acme_key_t *key = NULL, *key2 = NULL;
    acme_key_type_e t;
    BIO *bio;
    char *data = NULL;
    long n;
    int i;
    static const acme_key_type_e types[] = { ACME_KEY_EC384,
                                             ACME_KEY_RSA2048 };

    for (i = 0; i < 2; i++) {
        key = key2 = NULL;
        ACME_CHECK_RV(acme_key_generate(&key, p, types[i], NULL));
        if (!key) {
            continue;
        }
        bio = BIO_new(BIO_s_mem());
        ACME_CHECK(PEM_write_bio_PrivateKey_traditional(bio, acme_key_evp(key),
                                                        NULL, NULL, 0, NULL,
                                                        NULL) == 1,
                   "write traditional");
        n = BIO_get_mem_data(bio, &data);
        data = apr_pstrmemdup(p, data, (apr_size_t)(n > 0 ? n : 0));
        ACME_CHECK(n > 0 && (strstr(data, "BEGIN EC PRIVATE KEY")
                             || strstr(data, "BEGIN RSA PRIVATE KEY")),
                   "not traditional PEM");
        ACME_CHECK_RV(acme_key_from_pem(&key2, p, data, (apr_size_t)n, NULL));
        ACME_CHECK(key2 && EVP_PKEY_eq(acme_key_evp(key), acme_key_evp(key2))
                   == 1, "traditional PEM reload differs");
        ACME_CHECK(key2 && acme_key_get_type(&t, key2) == APR_SUCCESS
                   && t == types[i], "type after traditional reload");
        BIO_free(bio);
    }
}

static void test_bad_pem(apr_pool_t *p)
{
    acme_key_t *key = NULL;
    acme_err_t err;
    static const char garbage[] = "-----BEGIN PRIVATE KEY-----\nnot base64!\n"
                                  "-----END PRIVATE KEY-----\n";
    static const char nothing[] = "hello world\n";

    acme_err_clear(&err);
    ACME_CHECK(acme_key_from_pem(&key, p, garbage, strlen(garbage), &err)
               == ACME_EINVAL && !key, "garbage PEM accepted");
    ACME_CHECK(err.msg != NULL, "no message for garbage PEM");
    acme_err_clear(&err);
    ACME_CHECK(acme_key_from_pem(&key, p, nothing, strlen(nothing), &err)
               == ACME_EINVAL && !key, "non-PEM accepted");
    acme_err_clear(&err);
    ACME_CHECK(acme_key_from_pem(&key, p, "", 0, &err) == ACME_EINVAL,
               "empty PEM accepted");
}

/* An encrypted key must fail without prompting for a pass phrase. */
static void test_encrypted_pem(apr_pool_t *p)
{
    acme_key_t *key = NULL, *key2 = NULL;
    acme_err_t err;
    BIO *bio;
    char *data = NULL;
    long n;

    ACME_CHECK_RV(acme_key_generate(&key, p, ACME_KEY_EC256, NULL));
    if (!key) {
        return;
    }
    bio = BIO_new(BIO_s_mem());
    ACME_CHECK(PEM_write_bio_PKCS8PrivateKey(bio, acme_key_evp(key),
                                             EVP_aes_128_cbc(), "secret", 6,
                                             NULL, NULL) == 1, "encrypt");
    n = BIO_get_mem_data(bio, &data);
    acme_err_clear(&err);
    ACME_CHECK(acme_key_from_pem(&key2, p, data, (apr_size_t)n, &err)
               == ACME_EINVAL && !key2, "encrypted key loaded");
    BIO_free(bio);
}

static void test_load_file(apr_pool_t *p)
{
    acme_key_t *key = NULL, *key2 = NULL;
    const char *pem = NULL, *dir, *path;
    apr_size_t len = 0;
    acme_err_t err;
    char tmpl[] = "/tmp/acme_test_key.XXXXXX";

    dir = mkdtemp(tmpl);
    ACME_CHECK(dir != NULL, "mkdtemp");
    if (!dir) {
        return;
    }
    path = apr_pstrcat(p, dir, "/privkey.pem", NULL);
    ACME_CHECK_RV(acme_key_generate(&key, p, ACME_KEY_EC256, NULL));
    ACME_CHECK_RV(acme_key_to_pem(&pem, &len, p, key));
    ACME_CHECK_RV(acme_file_write_atomic(path, pem, len, 0600, p));
    acme_err_clear(&err);
    ACME_CHECK(acme_key_load(&key2, p, path, &err) == APR_SUCCESS,
               "load: %s", err.msg ? err.msg : "");
    ACME_CHECK(key2 && EVP_PKEY_eq(acme_key_evp(key), acme_key_evp(key2)) == 1,
               "loaded key differs");
    acme_err_clear(&err);
    key2 = NULL;
    ACME_CHECK(acme_key_load(&key2, p, apr_pstrcat(p, dir, "/missing.pem",
                                                   NULL), &err) != APR_SUCCESS
               && !key2, "missing file loaded");
    ACME_CHECK(err.msg && strstr(err.msg, "missing.pem"),
               "message does not name the file: %s", err.msg ? err.msg : "");
    unlink(path);
    rmdir(dir);
}

/* Keys of unsupported types are loaded but get_type rejects them. */
static void test_unsupported_type(apr_pool_t *p)
{
    EVP_PKEY *pk;
    acme_key_t *key;
    acme_key_type_e t;

    pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-521");
    ACME_CHECK(pk != NULL, "P-521 keygen");
    key = acme_key_wrap(p, pk);
    ACME_CHECK(acme_key_get_type(&t, key) == ACME_EINVAL, "P-521 accepted");
    pk = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    key = acme_key_wrap(p, pk);
    ACME_CHECK(acme_key_get_type(&t, key) == ACME_EINVAL, "Ed25519 accepted");
    pk = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
    key = acme_key_wrap(p, pk);
    ACME_CHECK(acme_key_get_type(&t, key) == ACME_EINVAL, "RSA1024 accepted");
}

int main(void)
{
    ACME_TEST_RUN(test_type_parse);
    ACME_TEST_RUN(test_generate_roundtrip);
    ACME_TEST_RUN(test_two_keys_differ);
    ACME_TEST_RUN(test_traditional_pem);
    ACME_TEST_RUN(test_bad_pem);
    ACME_TEST_RUN(test_encrypted_pem);
    ACME_TEST_RUN(test_load_file);
    ACME_TEST_RUN(test_unsupported_type);
    return ACME_TEST_DONE();
}
