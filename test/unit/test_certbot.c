/* Unit tests: src/acme_certbot.c (Certbot's JWK account keys). Keys are
 * converted from JWKs built here with OpenSSL's getters; signatures made
 * with the converted key are verified with a public key built here from
 * the JWK's public members only (OpenSSL directly, not the code under
 * test). */
#include <stdlib.h>
#include <unistd.h>
#include <sys/stat.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "acme_test.h"
#include "acme_certbot.h"
#include "acme_jws.h"
#include "acme_key.h"
#include "acme_util.h"

/* ---- independent helpers (as in test_jws.c) ---- */

static const char *t_b64url(apr_pool_t *p, const unsigned char *d, size_t n)
{
    char *out = apr_palloc(p, 4 * ((n + 2) / 3) + 1), *c;

    EVP_EncodeBlock((unsigned char *)out, d, (int)n);
    for (c = out; *c; c++) {
        if (*c == '+') *c = '-';
        else if (*c == '/') *c = '_';
        else if (*c == '=') { *c = '\0'; break; }
    }
    return out;
}

/* Returns decoded length or -1. */
static int t_unb64url(apr_pool_t *p, const char *s, unsigned char **pout)
{
    size_t len = strlen(s), i, pad;
    char *std = apr_palloc(p, len + 4);
    unsigned char *out;
    int n;

    for (i = 0; i < len; i++) {
        std[i] = s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i];
        if (s[i] == '+' || s[i] == '/' || s[i] == '=') {
            return -1;
        }
    }
    pad = (4 - len % 4) % 4;
    if (pad == 3) {
        return -1;
    }
    for (i = 0; i < pad; i++) {
        std[len + i] = '=';
    }
    std[len + pad] = '\0';
    out = apr_palloc(p, len + 4);
    n = EVP_DecodeBlock(out, (unsigned char *)std, (int)(len + pad));
    if (n < 0) {
        return -1;
    }
    n -= (int)pad;
    out[n] = '\0';
    *pout = out;
    return n;
}

/* Verifies a flattened JWS with OpenSSL; returns the decoded protected
 * header (caller decrefs) or NULL if anything fails. *ppayload gets the
 * raw "payload" member. *psiglen the decoded signature length. */
static json_t *t_verify_jws(apr_pool_t *p, const char *text, EVP_PKEY *pub,
                            const char **ppayload, int *psiglen)
{
    json_t *jws = NULL, *prot = NULL;
    const char *prot64, *payload64, *sig64, *input, *alg;
    unsigned char *protraw = NULL, *sig = NULL, *der = NULL;
    const EVP_MD *md;
    EVP_MD_CTX *ctx = NULL;
    int protlen, siglen, ok = 0, derlen = 0;

    jws = json_loads(text, 0, NULL);
    ACME_CHECK(jws && json_object_size(jws) == 3, "JWS is not an object "
               "with 3 members: %s", text);
    prot64 = json_string_value(json_object_get(jws, "protected"));
    payload64 = json_string_value(json_object_get(jws, "payload"));
    sig64 = json_string_value(json_object_get(jws, "signature"));
    ACME_CHECK(prot64 && payload64 && sig64, "JWS members missing");
    if (!prot64 || !payload64 || !sig64) {
        goto cleanup;
    }
    protlen = t_unb64url(p, prot64, &protraw);
    ACME_CHECK(protlen > 0, "protected is not base64url");
    prot = protlen > 0 ? json_loadb((const char *)protraw, (size_t)protlen,
                                    0, NULL) : NULL;
    ACME_CHECK(json_is_object(prot), "protected is not JSON");
    alg = json_string_value(json_object_get(prot, "alg"));
    ACME_CHECK(alg != NULL, "no alg");
    if (!alg) {
        goto cleanup;
    }
    siglen = t_unb64url(p, sig64, &sig);
    *psiglen = siglen;
    input = apr_pstrcat(p, prot64, ".", payload64, NULL);
    md = !strcmp(alg, "ES384") ? EVP_sha384() : EVP_sha256();
    if (!strcmp(alg, "ES256") || !strcmp(alg, "ES384")) {
        /* R || S back to DER */
        int w = !strcmp(alg, "ES256") ? 32 : 48;
        ECDSA_SIG *es = ECDSA_SIG_new();
        BIGNUM *r, *s;

        ACME_CHECK(siglen == 2 * w, "%s signature is %d bytes, not %d",
                   alg, siglen, 2 * w);
        if (siglen != 2 * w) {
            ECDSA_SIG_free(es);
            goto cleanup;
        }
        r = BN_bin2bn(sig, w, NULL);
        s = BN_bin2bn(sig + w, w, NULL);
        ECDSA_SIG_set0(es, r, s);
        derlen = i2d_ECDSA_SIG(es, &der);
        ECDSA_SIG_free(es);
    }
    else {
        ACME_CHECK_STR(alg, "RS256");
        der = OPENSSL_memdup(sig, (size_t)siglen);
        derlen = siglen;
    }
    ctx = EVP_MD_CTX_new();
    ok = EVP_DigestVerifyInit(ctx, NULL, md, NULL, pub) == 1
        && EVP_DigestVerify(ctx, der, (size_t)derlen,
                            (const unsigned char *)input, strlen(input)) == 1;
    ACME_CHECK(ok, "%s signature does not verify", alg);
    *ppayload = apr_pstrdup(p, payload64);
cleanup:
    EVP_MD_CTX_free(ctx);
    OPENSSL_free(der);
    json_decref(jws);
    if (!ok) {
        json_decref(prot);
        prot = NULL;
    }
    return prot;
}

/* A JWK member from one of the key's big-number parameters, padded to
 * width bytes when width > 0. */
static void t_set_bn(apr_pool_t *p, json_t *jwk, const char *member,
                     EVP_PKEY *pk, const char *param, int width)
{
    BIGNUM *bn = NULL;
    unsigned char buf[1024];
    int n;

    ACME_CHECK(EVP_PKEY_get_bn_param(pk, param, &bn) == 1, "no %s", param);
    if (!bn) {
        return;
    }
    n = width > 0 ? BN_bn2binpad(bn, buf, width) : BN_bn2bin(bn, buf);
    json_object_set_new(jwk, member, json_string(t_b64url(p, buf, n)));
    BN_clear_free(bn);
}

/* The private JWK of a key, as Certbot writes private_key.json. */
static json_t *t_private_jwk(apr_pool_t *p, const acme_key_t *key)
{
    EVP_PKEY *pk = acme_key_evp(key);
    json_t *jwk = acme_jwk_public(key);

    if (EVP_PKEY_is_a(pk, "EC")) {
        const char *crv = json_string_value(json_object_get(jwk, "crv"));
        t_set_bn(p, jwk, "d", pk, OSSL_PKEY_PARAM_PRIV_KEY,
                 !strcmp(crv, "P-256") ? 32 : 48);
    }
    else {
        t_set_bn(p, jwk, "d", pk, OSSL_PKEY_PARAM_RSA_D, 0);
        t_set_bn(p, jwk, "p", pk, OSSL_PKEY_PARAM_RSA_FACTOR1, 0);
        t_set_bn(p, jwk, "q", pk, OSSL_PKEY_PARAM_RSA_FACTOR2, 0);
        t_set_bn(p, jwk, "dp", pk, OSSL_PKEY_PARAM_RSA_EXPONENT1, 0);
        t_set_bn(p, jwk, "dq", pk, OSSL_PKEY_PARAM_RSA_EXPONENT2, 0);
        t_set_bn(p, jwk, "qi", pk, OSSL_PKEY_PARAM_RSA_COEFFICIENT1, 0);
    }
    return jwk;
}

/* A public key from the JWK's public members only, built here. */
static EVP_PKEY *t_public_from_jwk(apr_pool_t *p, json_t *jwk)
{
    const char *kty = json_string_value(json_object_get(jwk, "kty"));
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    EVP_PKEY *pk = NULL;
    BIGNUM *n = NULL, *e = NULL;
    unsigned char *a, *b;
    int alen, blen;

    if (!strcmp(kty, "EC")) {
        const char *crv = json_string_value(json_object_get(jwk, "crv"));
        unsigned char pub[1 + 2 * 48];
        alen = t_unb64url(p, json_string_value(json_object_get(jwk, "x")), &a);
        blen = t_unb64url(p, json_string_value(json_object_get(jwk, "y")), &b);
        if (alen <= 0 || alen != blen || alen > 48) {
            goto cleanup;
        }
        pub[0] = 4;
        memcpy(pub + 1, a, alen);
        memcpy(pub + 1 + alen, b, blen);
        OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
                                        !strcmp(crv, "P-256") ? "prime256v1"
                                        : "secp384r1", 0);
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub,
                                         1 + 2 * alen);
    }
    else {
        alen = t_unb64url(p, json_string_value(json_object_get(jwk, "n")), &a);
        blen = t_unb64url(p, json_string_value(json_object_get(jwk, "e")), &b);
        if (alen <= 0 || blen <= 0) {
            goto cleanup;
        }
        n = BN_bin2bn(a, alen, NULL);
        e = BN_bin2bn(b, blen, NULL);
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n);
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e);
    }
    params = OSSL_PARAM_BLD_to_param(bld);
    ctx = EVP_PKEY_CTX_new_from_name(NULL, kty, NULL);
    if (!ctx || EVP_PKEY_fromdata_init(ctx) <= 0
        || EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
        pk = NULL;
    }
cleanup:
    BN_free(n);
    BN_free(e);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    EVP_PKEY_CTX_free(ctx);
    return pk;
}

static void t_round_trip(apr_pool_t *p, acme_key_type_e type,
                         const char *want_alg)
{
    acme_key_t *orig = NULL, *conv = NULL;
    json_t *jwk, *prot;
    const unsigned char *d1, *d2;
    apr_size_t l1, l2;
    const char *jws = NULL, *payload = NULL;
    EVP_PKEY *pub;
    acme_err_t err;
    int siglen = 0;

    ACME_CHECK_RV(acme_key_generate(&orig, p, type, NULL));
    if (!orig) {
        return;
    }
    jwk = t_private_jwk(p, orig);
    acme_err_clear(&err);
    ACME_CHECK(acme_jwk_to_key(&conv, p, jwk, 1, &err) == APR_SUCCESS
               && conv, "%s: %s", acme_key_type_name(type),
               err.msg ? err.msg : "");
    if (!conv) {
        json_decref(jwk);
        return;
    }
    /* the same key: public parts equal, and the converted one signs */
    ACME_CHECK_RV(acme_key_public_der(&d1, &l1, p, orig));
    ACME_CHECK_RV(acme_key_public_der(&d2, &l2, p, conv));
    ACME_CHECK(l1 == l2 && !memcmp(d1, d2, l1), "%s: public key differs",
               acme_key_type_name(type));
    ACME_CHECK_STR(acme_jws_alg(conv), want_alg);
    ACME_CHECK_RV(acme_jws_sign(&jws, p, "{\"termsOfServiceAgreed\":true}",
                                conv, "https://ca.test/acct/1", "nonce1",
                                "https://ca.test/new-order", NULL));
    pub = t_public_from_jwk(p, jwk);
    ACME_CHECK(pub != NULL, "%s: no public key from the JWK",
               acme_key_type_name(type));
    if (jws && pub) {
        prot = t_verify_jws(p, jws, pub, &payload, &siglen);
        ACME_CHECK(prot != NULL, "%s: signature of the converted key does "
                   "not verify with the JWK's public part",
                   acme_key_type_name(type));
        if (prot) {
            ACME_CHECK_STR(json_string_value(json_object_get(prot, "alg")),
                           want_alg);
            json_decref(prot);
        }
    }
    EVP_PKEY_free(pub);
    /* the PEM the store keeps loads back to the same key */
    {
        const char *pem;
        apr_size_t len;
        acme_key_t *back = NULL;
        ACME_CHECK_RV(acme_key_to_pem(&pem, &len, p, conv));
        ACME_CHECK_RV(acme_key_from_pem(&back, p, pem, len, NULL));
        if (back) {
            ACME_CHECK_RV(acme_key_public_der(&d2, &l2, p, back));
            ACME_CHECK(l1 == l2 && !memcmp(d1, d2, l1), "PEM round trip");
        }
    }
    /* public only: the members of the public JWK are enough */
    conv = NULL;
    ACME_CHECK_RV(acme_jwk_to_key(&conv, p, jwk, 0, NULL));
    json_decref(jwk);
}

static void test_round_trip(apr_pool_t *p)
{
    t_round_trip(p, ACME_KEY_EC256, "ES256");
    t_round_trip(p, ACME_KEY_EC384, "ES384");
    t_round_trip(p, ACME_KEY_RSA2048, "RS256");
}

/* RFC 7515 Appendix A.3: an EC P-256 private JWK from the standard. */
static void test_rfc7515_vector(apr_pool_t *p)
{
    json_t *jwk = json_pack("{s:s, s:s, s:s, s:s, s:s}", "kty", "EC",
        "crv", "P-256",
        "x", "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
        "y", "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
        "d", "jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI");
    acme_key_t *key = NULL;
    json_t *pub;
    acme_err_t err;

    acme_err_clear(&err);
    ACME_CHECK(acme_jwk_to_key(&key, p, jwk, 1, &err) == APR_SUCCESS,
               "%s", err.msg ? err.msg : "");
    if (key) {
        /* its public JWK is the vector's x and y */
        pub = acme_jwk_public(key);
        ACME_CHECK_STR(json_string_value(json_object_get(pub, "x")),
                       json_string_value(json_object_get(jwk, "x")));
        ACME_CHECK_STR(json_string_value(json_object_get(pub, "y")),
                       json_string_value(json_object_get(jwk, "y")));
        json_decref(pub);
    }
    json_decref(jwk);
}

/* Expects acme_jwk_to_key to refuse jwk with ACME_EINVAL and a message
 * containing want (when not NULL). */
static void t_reject(apr_pool_t *p, json_t *jwk, int want_private,
                     const char *what, const char *want)
{
    acme_key_t *key = (acme_key_t *)1;
    acme_err_t err;
    apr_status_t rv;

    acme_err_clear(&err);
    rv = acme_jwk_to_key(&key, p, jwk, want_private, &err);
    ACME_CHECK(rv == ACME_EINVAL, "%s: accepted (status %d)", what, rv);
    ACME_CHECK(key == NULL, "%s: a key was returned", what);
    ACME_CHECK(err.msg && (!want || strstr(err.msg, want)),
               "%s: message '%s' lacks '%s'", what,
               err.msg ? err.msg : "(null)", want ? want : "");
    json_decref(jwk);
}

static void test_malformed(apr_pool_t *p)
{
    acme_key_t *ec = NULL, *ec2 = NULL, *rsa = NULL, *rsa2 = NULL;
    json_t *good, *j;
    char *y;

    ACME_CHECK_RV(acme_key_generate(&ec, p, ACME_KEY_EC256, NULL));
    ACME_CHECK_RV(acme_key_generate(&ec2, p, ACME_KEY_EC256, NULL));
    ACME_CHECK_RV(acme_key_generate(&rsa, p, ACME_KEY_RSA2048, NULL));
    ACME_CHECK_RV(acme_key_generate(&rsa2, p, ACME_KEY_RSA2048, NULL));
    if (!ec || !ec2 || !rsa || !rsa2) {
        return;
    }
    t_reject(p, json_string("x"), 1, "not an object", "not a JSON object");
    t_reject(p, json_pack("{s:s}", "crv", "P-256"), 1, "no kty", "key type");
    t_reject(p, json_pack("{s:s, s:s}", "kty", "oct", "k", "AAAA"), 1,
             "symmetric key", "oct");

    good = t_private_jwk(p, ec);
    j = json_deep_copy(good);
    json_object_set_new(j, "crv", json_string("P-521"));
    t_reject(p, j, 1, "P-521", "P-521");
    j = json_deep_copy(good);
    json_object_del(j, "crv");
    t_reject(p, j, 1, "no crv", "crv");
    j = json_deep_copy(good);
    json_object_del(j, "d");
    t_reject(p, j, 1, "no d", "\"d\"");
    j = json_deep_copy(good);
    json_object_set_new(j, "x", json_string("AAAA"));
    t_reject(p, j, 1, "short x", "32 bytes");
    j = json_deep_copy(good);
    json_object_set_new(j, "x", json_string("f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8T"
                                            "us9uPHvRVE+"));
    t_reject(p, j, 1, "x not base64url", "base64url");
    j = json_deep_copy(good);
    json_object_set_new(j, "x", json_integer(3));
    t_reject(p, j, 1, "x a number", "\"x\"");
    /* a point that is not on the curve */
    j = json_deep_copy(good);
    y = apr_pstrdup(p, json_string_value(json_object_get(j, "y")));
    y[5] = y[5] == 'A' ? 'B' : 'A';
    json_object_set_new(j, "y", json_string(y));
    t_reject(p, j, 0, "point off the curve", NULL);
    /* another key's private part */
    j = json_deep_copy(good);
    {
        json_t *other = t_private_jwk(p, ec2);
        json_object_set(j, "d", json_object_get(other, "d"));
        json_decref(other);
    }
    t_reject(p, j, 1, "d of another EC key", "consistent");
    json_decref(good);

    good = t_private_jwk(p, rsa);
    j = json_deep_copy(good);
    json_object_del(j, "qi");
    t_reject(p, j, 1, "RSA without qi", "\"qi\"");
    j = json_deep_copy(good);
    json_object_del(j, "n");
    t_reject(p, j, 0, "RSA without n", "\"n\"");
    j = json_deep_copy(good);
    json_object_set_new(j, "e", json_string(""));
    t_reject(p, j, 1, "RSA with empty e", "\"e\"");
    j = json_deep_copy(good);
    {
        json_t *other = t_private_jwk(p, rsa2);
        json_object_set(j, "d", json_object_get(other, "d"));
        json_object_set(j, "p", json_object_get(other, "p"));
        json_decref(other);
    }
    t_reject(p, j, 1, "RSA with another key's d and p", NULL);
    j = json_deep_copy(good);
    json_object_set_new(j, "oth", json_array());
    t_reject(p, j, 1, "multi-prime RSA", "oth");
    json_decref(good);
}

static void t_write(apr_pool_t *p, const char *path, const char *text)
{
    ACME_CHECK_RV(acme_file_write_atomic(path, text, strlen(text), 0x0600,
                                         p));
}

static void test_account_load(apr_pool_t *p)
{
    char tmpl[] = "/tmp/acme-test-certbot-XXXXXX";
    const char *dir, *url = NULL, *text;
    acme_key_t *key = NULL, *orig = NULL;
    json_t *jwk, *body = NULL;
    acme_err_t err;

    ACME_CHECK_STR(acme_certbot_account_dir(p, "/etc/letsencrypt",
                   "https://acme-v02.api.letsencrypt.org/directory"),
                   "/etc/letsencrypt/accounts/acme-v02.api.letsencrypt.org/"
                   "directory");
    ACME_CHECK_STR(acme_certbot_account_dir(p, "/le",
                   "https://localhost:14000/dir"),
                   "/le/accounts/localhost:14000/dir");
    ACME_CHECK(acme_certbot_account_dir(p, "/le", "not a url") == NULL,
               "a URL without a host");

    dir = mkdtemp(tmpl);
    ACME_CHECK(dir != NULL, "mkdtemp");
    if (!dir) {
        return;
    }
    ACME_CHECK_RV(acme_key_generate(&orig, p, ACME_KEY_RSA2048, NULL));
    /* nothing there */
    acme_err_clear(&err);
    ACME_CHECK(acme_certbot_account_load(&key, &url, &body, p, dir, &err)
               == ACME_ENOTFOUND, "empty directory");
    /* Certbot 2.x: regr.json with an empty body, the key as a JWK */
    t_write(p, apr_pstrcat(p, dir, "/regr.json", NULL),
            "{\"body\": {}, \"uri\": \"https://ca.test/my-account/7\"}");
    jwk = t_private_jwk(p, orig);
    text = json_dumps(jwk, 0);
    t_write(p, apr_pstrcat(p, dir, "/private_key.json", NULL), text);
    free((void *)text);
    json_decref(jwk);
    acme_err_clear(&err);
    ACME_CHECK(acme_certbot_account_load(&key, &url, &body, p, dir, &err)
               == APR_SUCCESS, "%s", err.msg ? err.msg : "");
    ACME_CHECK_STR(url, "https://ca.test/my-account/7");
    ACME_CHECK(json_is_object(body), "body");
    if (body) {
        json_decref(body);
    }
    if (key && orig) {
        const unsigned char *d1, *d2;
        apr_size_t l1, l2;
        acme_key_public_der(&d1, &l1, p, orig);
        acme_key_public_der(&d2, &l2, p, key);
        ACME_CHECK(l1 == l2 && !memcmp(d1, d2, l1), "account key differs");
    }
    /* regr.json without the account URL */
    t_write(p, apr_pstrcat(p, dir, "/regr.json", NULL), "{\"body\": {}}");
    acme_err_clear(&err);
    ACME_CHECK(acme_certbot_account_load(&key, &url, NULL, p, dir, &err)
               == ACME_EINVAL && err.msg && strstr(err.msg, "uri"),
               "regr.json without uri: %s", err.msg ? err.msg : "");
    /* a private_key.json that is not JSON */
    t_write(p, apr_pstrcat(p, dir, "/regr.json", NULL),
            "{\"uri\": \"https://ca.test/my-account/7\"}");
    t_write(p, apr_pstrcat(p, dir, "/private_key.json", NULL), "{\"kty\":");
    acme_err_clear(&err);
    ACME_CHECK(acme_certbot_account_load(&key, &url, NULL, p, dir, &err)
               == ACME_EINVAL && err.msg
               && strstr(err.msg, "private_key.json"),
               "broken private_key.json: %s", err.msg ? err.msg : "");
    unlink(apr_pstrcat(p, dir, "/regr.json", NULL));
    unlink(apr_pstrcat(p, dir, "/private_key.json", NULL));
    rmdir(dir);
}

/* acme_certbot_hook_read on one path: the status, and for a success the
 * content and permissions; for a failure, a word of the reason. */
static void t_hook(apr_pool_t *p, const char *top, const char *path,
                   apr_status_t want, const char *content,
                   apr_fileperms_t perms, const char *why)
{
    char *data = NULL;
    apr_size_t len = 0;
    apr_fileperms_t got = 0;
    acme_err_t err;
    apr_status_t rv;

    acme_err_clear(&err);
    rv = acme_certbot_hook_read(&data, &len, &got, p, top, path, 1024, &err);
    ACME_CHECK(rv == want, "%s: status %d, want %d (%s)", path, rv, want,
               err.msg ? err.msg : "");
    if (rv == APR_SUCCESS && want == APR_SUCCESS) {
        ACME_CHECK(len == strlen(content) && !memcmp(data, content, len),
                   "%s: content", path);
        ACME_CHECK(got == perms, "%s: perms %04x, want %04x", path,
                   (unsigned)got, (unsigned)perms);
    }
    if (rv != APR_SUCCESS && why) {
        ACME_CHECK(err.msg && strstr(err.msg, why), "%s: reason '%s' lacks "
                   "'%s'", path, err.msg ? err.msg : "", why);
    }
}

static void test_hook_read(apr_pool_t *p)
{
    char tmpl[] = "/tmp/acme-test-hooks-XXXXXX";
    const char *base, *top, *out, *hooks, *big;
    char *blob;

    base = mkdtemp(tmpl);
    ACME_CHECK(base != NULL, "mkdtemp");
    if (!base) {
        return;
    }
    top = apr_pstrcat(p, base, "/le", NULL);
    hooks = apr_pstrcat(p, top, "/renewal-hooks/deploy", NULL);
    ACME_CHECK_RV(acme_mkdir(hooks, 0x0755, p));
    ACME_CHECK_RV(acme_mkdir(apr_pstrcat(p, top, "/scripts", NULL), 0x0755,
                             p));
    out = apr_pstrcat(p, base, "/outside.sh", NULL);
    ACME_CHECK_RV(acme_file_write_atomic(apr_pstrcat(p, hooks, "/plain",
                  NULL), "#!/bin/sh\n", 10, 0x0750, p));
    ACME_CHECK_RV(acme_file_write_atomic(apr_pstrcat(p, top,
                  "/scripts/in.sh", NULL), "in", 2, 0x0700, p));
    ACME_CHECK_RV(acme_file_write_atomic(out, "out", 3, 0x0755, p));
    ACME_CHECK_RV(acme_file_write_atomic(apr_pstrcat(p, hooks, "/suid",
                  NULL), "s", 1, 0x0755, p));
    ACME_CHECK(chmod(apr_pstrcat(p, hooks, "/suid", NULL), 04755) == 0,
               "chmod 4755");
    ACME_CHECK(symlink("../../scripts/in.sh", apr_pstrcat(p, hooks,
                       "/in-link", NULL)) == 0, "symlink in");
    ACME_CHECK(symlink(out, apr_pstrcat(p, hooks, "/out-link", NULL)) == 0,
               "symlink out");
    ACME_CHECK(symlink("../../../outside.sh", apr_pstrcat(p, hooks,
                       "/out-rel", NULL)) == 0, "symlink out, relative");
    ACME_CHECK(symlink("/nonexistent/x", apr_pstrcat(p, hooks, "/dangling",
                       NULL)) == 0, "symlink dangling");
    ACME_CHECK(mkfifo(apr_pstrcat(p, hooks, "/fifo", NULL), 0755) == 0,
               "mkfifo");
    ACME_CHECK_RV(acme_mkdir(apr_pstrcat(p, hooks, "/dir", NULL), 0x0755,
                             p));
    big = apr_pstrcat(p, hooks, "/big", NULL);
    blob = apr_pcalloc(p, 2048);
    memset(blob, 'x', 2047);
    ACME_CHECK_RV(acme_file_write_atomic(big, blob, 2047, 0x0755, p));

    t_hook(p, top, apr_pstrcat(p, hooks, "/plain", NULL), APR_SUCCESS,
           "#!/bin/sh\n", 0x0750, NULL);
    t_hook(p, top, apr_pstrcat(p, hooks, "/suid", NULL), APR_SUCCESS, "s",
           0x0755, NULL);
    t_hook(p, top, apr_pstrcat(p, hooks, "/in-link", NULL), APR_SUCCESS,
           "in", 0x0700, NULL);
    t_hook(p, top, apr_pstrcat(p, hooks, "/out-link", NULL), ACME_EINVAL,
           NULL, 0, "outside");
    t_hook(p, top, apr_pstrcat(p, hooks, "/out-rel", NULL), ACME_EINVAL,
           NULL, 0, "outside");
    t_hook(p, top, apr_pstrcat(p, hooks, "/dangling", NULL), ACME_EINVAL,
           NULL, 0, "does not exist");
    t_hook(p, top, apr_pstrcat(p, hooks, "/fifo", NULL), ACME_EINVAL, NULL,
           0, "FIFO");
    t_hook(p, top, apr_pstrcat(p, hooks, "/dir", NULL), ACME_EINVAL, NULL,
           0, "directory");
    t_hook(p, top, big, ACME_EINVAL, NULL, 0, "larger than");
    /* the whole phase directory linked out of Certbot's tree */
    ACME_CHECK(symlink(hooks, apr_pstrcat(p, base, "/elsewhere", NULL)) == 0,
               "symlink dir");
    t_hook(p, apr_pstrcat(p, base, "/le/scripts", NULL),
           apr_pstrcat(p, base, "/elsewhere/plain", NULL), ACME_EINVAL,
           NULL, 0, "outside");
    ACME_CHECK(system(apr_pstrcat(p, "rm -rf '", base, "'", NULL)) == 0,
               "cleanup");
}

int main(void)
{
    ACME_TEST_RUN(test_round_trip);
    ACME_TEST_RUN(test_rfc7515_vector);
    ACME_TEST_RUN(test_malformed);
    ACME_TEST_RUN(test_account_load);
    ACME_TEST_RUN(test_hook_read);
    return ACME_TEST_DONE();
}
