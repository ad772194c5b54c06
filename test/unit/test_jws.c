/* Unit tests: src/acme_jws.c. Signatures are verified with OpenSSL
 * directly; base64url for the independent computations is done here with
 * EVP_EncodeBlock / EVP_DecodeBlock, not with the code under test. */
#include <stdlib.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "acme_test.h"
#include "acme_jws.h"
#include "acme_key.h"
#include "acme_util.h"

/* RFC 7638 §3.1 */
#define RFC7638_N "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAA" \
    "tVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4" \
    "Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZg" \
    "nYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM" \
    "4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
#define RFC7638_E "AQAB"
#define RFC7638_THUMB "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"

/* bytes 0..31 */
#define EAB_KEY_B64URL "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"

/* ---- independent helpers ---- */

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

static const char *t_sha256_b64url(apr_pool_t *p, const char *s)
{
    unsigned char md[32];
    unsigned int n = 0;

    EVP_Digest(s, strlen(s), md, &n, EVP_sha256(), NULL);
    return t_b64url(p, md, n);
}

/* The uncompressed EC point 04||X||Y of a key, and the coordinate size. */
static int t_ec_point(EVP_PKEY *pk, unsigned char *buf, size_t max,
                      size_t *plen)
{
    return EVP_PKEY_get_octet_string_param(pk, OSSL_PKEY_PARAM_PUB_KEY, buf,
                                           max, plen);
}

/* The thumbprint, from the raw public key and a formatted canonical JSON
 * string (RFC 7638 §3.2 by hand: this is the test's own computation). */
static const char *t_thumbprint(apr_pool_t *p, EVP_PKEY *pk)
{
    if (EVP_PKEY_get_base_id(pk) == EVP_PKEY_EC) {
        unsigned char pt[200];
        size_t len = 0, w;

        if (!t_ec_point(pk, pt, sizeof(pt), &len) || pt[0] != 4) {
            return NULL;
        }
        w = (len - 1) / 2;
        return t_sha256_b64url(p, apr_psprintf(p,
            "{\"crv\":\"%s\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}",
            w == 32 ? "P-256" : "P-384", t_b64url(p, pt + 1, w),
            t_b64url(p, pt + 1 + w, w)));
    }
    else {
        BIGNUM *n = NULL, *e = NULL;
        unsigned char nb[1024], eb[16];
        int nl, el;
        const char *out;

        EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_N, &n);
        EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_E, &e);
        nl = BN_bn2bin(n, nb);
        el = BN_bn2bin(e, eb);
        out = t_sha256_b64url(p, apr_psprintf(p,
            "{\"e\":\"%s\",\"kty\":\"RSA\",\"n\":\"%s\"}",
            t_b64url(p, eb, (size_t)el), t_b64url(p, nb, (size_t)nl)));
        BN_free(n);
        BN_free(e);
        return out;
    }
}

/* Builds a public RSA key from base64url n and e. */
static EVP_PKEY *t_rsa_from_ne(apr_pool_t *p, const char *n64,
                               const char *e64)
{
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    EVP_PKEY *pk = NULL;
    BIGNUM *n, *e;
    unsigned char *nb, *eb;
    int nl, el;

    nl = t_unb64url(p, n64, &nb);
    el = t_unb64url(p, e64, &eb);
    n = BN_bin2bn(nb, nl, NULL);
    e = BN_bin2bn(eb, el, NULL);
    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n);
    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e);
    params = OSSL_PARAM_BLD_to_param(bld);
    ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    if (!ctx || EVP_PKEY_fromdata_init(ctx) != 1
        || EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params) != 1) {
        pk = NULL;
    }
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(n);
    BN_free(e);
    return pk;
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

/* ---- tests ---- */

static void test_rfc7638_vector(apr_pool_t *p)
{
    json_t *jwk;
    const char *thumb = NULL;
    EVP_PKEY *pk;
    acme_key_t *key;

    /* with the extra members of the RFC's example, which must be ignored */
    jwk = json_pack("{s:s, s:s, s:s, s:s, s:s}", "kty", "RSA",
                    "n", RFC7638_N, "e", RFC7638_E,
                    "alg", "RS256", "kid", "2011-04-29");
    ACME_CHECK_RV(acme_jwk_thumbprint_json(&thumb, p, jwk));
    ACME_CHECK_STR(thumb, RFC7638_THUMB);
    json_decref(jwk);

    /* the same key as an OpenSSL key: acme_jwk_public must encode n and e
     * exactly as the RFC does */
    pk = t_rsa_from_ne(p, RFC7638_N, RFC7638_E);
    ACME_CHECK(pk != NULL, "cannot build the RFC 7638 key");
    if (!pk) {
        return;
    }
    key = acme_key_wrap(p, pk);
    jwk = acme_jwk_public(key);
    ACME_CHECK(jwk && json_object_size(jwk) == 3, "RSA JWK members");
    ACME_CHECK_STR(json_string_value(json_object_get(jwk, "n")), RFC7638_N);
    ACME_CHECK_STR(json_string_value(json_object_get(jwk, "e")), RFC7638_E);
    ACME_CHECK_STR(json_string_value(json_object_get(jwk, "kty")), "RSA");
    json_decref(jwk);
    thumb = NULL;
    ACME_CHECK_RV(acme_jwk_thumbprint(&thumb, p, key));
    ACME_CHECK_STR(thumb, RFC7638_THUMB);
    ACME_CHECK_STR(acme_jws_alg(key), "RS256");

    /* missing member / unknown kty */
    jwk = json_pack("{s:s, s:s}", "kty", "RSA", "n", RFC7638_N);
    ACME_CHECK(acme_jwk_thumbprint_json(&thumb, p, jwk) != APR_SUCCESS,
               "JWK without e accepted");
    json_decref(jwk);
    jwk = json_pack("{s:s, s:s}", "kty", "oct", "k", "AAAA");
    ACME_CHECK(acme_jwk_thumbprint_json(&thumb, p, jwk) != APR_SUCCESS,
               "oct JWK accepted");
    json_decref(jwk);
}

static void check_ec_jwk(apr_pool_t *p, acme_key_t *key, int w)
{
    json_t *jwk = acme_jwk_public(key);
    unsigned char pt[200], *x = NULL, *y = NULL;
    size_t len = 0;
    const char *thumb = NULL;

    ACME_CHECK(jwk && json_object_size(jwk) == 4, "EC JWK members");
    if (!jwk) {
        return;
    }
    ACME_CHECK_STR(json_string_value(json_object_get(jwk, "kty")), "EC");
    ACME_CHECK_STR(json_string_value(json_object_get(jwk, "crv")),
                   w == 32 ? "P-256" : "P-384");
    ACME_CHECK(t_unb64url(p, json_string_value(json_object_get(jwk, "x")), &x)
               == w, "x is not %d bytes", w);
    ACME_CHECK(t_unb64url(p, json_string_value(json_object_get(jwk, "y")), &y)
               == w, "y is not %d bytes", w);
    ACME_CHECK(t_ec_point(acme_key_evp(key), pt, sizeof(pt), &len)
               && len == (size_t)(1 + 2 * w), "point");
    ACME_CHECK(x && y && !memcmp(pt + 1, x, (size_t)w)
               && !memcmp(pt + 1 + w, y, (size_t)w), "x/y differ from the key");
    ACME_CHECK_RV(acme_jwk_thumbprint(&thumb, p, key));
    ACME_CHECK_STR(thumb, t_thumbprint(p, acme_key_evp(key)));
    json_decref(jwk);
}

static void test_ec_jwk(apr_pool_t *p)
{
    acme_key_t *key = NULL;
    unsigned char pt[200];
    size_t len;
    int i, found = 0;

    ACME_CHECK_RV(acme_key_generate(&key, p, ACME_KEY_EC256, NULL));
    ACME_CHECK_STR(acme_jws_alg(key), "ES256");
    check_ec_jwk(p, key, 32);
    ACME_CHECK_RV(acme_key_generate(&key, p, ACME_KEY_EC384, NULL));
    ACME_CHECK_STR(acme_jws_alg(key), "ES384");
    check_ec_jwk(p, key, 48);

    /* a P-256 key whose x or y starts with a zero byte: still 32 bytes */
    for (i = 0; i < 5000 && !found; i++) {
        if (acme_key_generate(&key, p, ACME_KEY_EC256, NULL) != APR_SUCCESS) {
            break;
        }
        len = 0;
        t_ec_point(acme_key_evp(key), pt, sizeof(pt), &len);
        found = len == 65 && (pt[1] == 0 || pt[33] == 0);
    }
    ACME_CHECK(found, "no key with a leading zero coordinate in %d tries", i);
    if (found) {
        check_ec_jwk(p, key, 32);
    }
}

static void test_rsa_jwk(apr_pool_t *p)
{
    acme_key_t *key = NULL;
    const char *thumb = NULL;

    ACME_CHECK_RV(acme_key_generate(&key, p, ACME_KEY_RSA2048, NULL));
    ACME_CHECK_STR(acme_jws_alg(key), "RS256");
    ACME_CHECK_RV(acme_jwk_thumbprint(&thumb, p, key));
    ACME_CHECK_STR(thumb, t_thumbprint(p, acme_key_evp(key)));
}

static void check_sign(apr_pool_t *p, acme_key_type_e type, const char *alg)
{
    acme_key_t *key = NULL;
    acme_err_t err;
    const char *jws = NULL, *payload64 = NULL;
    json_t *prot, *jwk;
    unsigned char *raw = NULL;
    int siglen = 0;
    static const char payload[] = "{\"termsOfServiceAgreed\":true,"
                                  "\"contact\":[\"mailto:a@example.org\"]}";

    ACME_CHECK_RV(acme_key_generate(&key, p, type, NULL));
    if (!key) {
        return;
    }
    /* with jwk and nonce */
    acme_err_clear(&err);
    ACME_CHECK(acme_jws_sign(&jws, p, payload, key, NULL, "nonce-1",
                             "https://ca.example/acme/new-account", &err)
               == APR_SUCCESS, "sign: %s", err.msg ? err.msg : "");
    if (!jws) {
        return;
    }
    prot = t_verify_jws(p, jws, acme_key_evp(key), &payload64, &siglen);
    ACME_CHECK(prot != NULL, "%s JWS with jwk does not verify", alg);
    if (prot) {
        ACME_CHECK(json_object_size(prot) == 4, "protected has %d members",
                   (int)json_object_size(prot));
        ACME_CHECK_STR(json_string_value(json_object_get(prot, "alg")), alg);
        ACME_CHECK_STR(json_string_value(json_object_get(prot, "nonce")),
                       "nonce-1");
        ACME_CHECK_STR(json_string_value(json_object_get(prot, "url")),
                       "https://ca.example/acme/new-account");
        ACME_CHECK(json_object_get(prot, "kid") == NULL, "kid with jwk");
        jwk = acme_jwk_public(key);
        ACME_CHECK(json_equal(json_object_get(prot, "jwk"), jwk),
                   "embedded jwk differs from the key's");
        json_decref(jwk);
        ACME_CHECK(t_unb64url(p, payload64, &raw) == (int)strlen(payload)
                   && !strcmp((char *)raw, payload), "payload differs");
        json_decref(prot);
    }

    /* with kid, POST-as-GET */
    jws = NULL;
    ACME_CHECK_RV(acme_jws_sign(&jws, p, NULL, key,
                                "https://ca.example/acme/acct/17", "nonce-2",
                                "https://ca.example/acme/order/1", &err));
    prot = jws ? t_verify_jws(p, jws, acme_key_evp(key), &payload64, &siglen)
               : NULL;
    ACME_CHECK(prot != NULL, "%s POST-as-GET JWS does not verify", alg);
    if (prot) {
        ACME_CHECK(json_object_size(prot) == 4, "protected members");
        ACME_CHECK_STR(json_string_value(json_object_get(prot, "kid")),
                       "https://ca.example/acme/acct/17");
        ACME_CHECK(json_object_get(prot, "jwk") == NULL, "jwk with kid");
        ACME_CHECK_STR(json_string_value(json_object_get(prot, "nonce")),
                       "nonce-2");
        ACME_CHECK_STR(json_string_value(json_object_get(prot, "url")),
                       "https://ca.example/acme/order/1");
        ACME_CHECK_STR(payload64, "");
        json_decref(prot);
    }

    /* empty object payload is not POST-as-GET */
    jws = NULL;
    ACME_CHECK_RV(acme_jws_sign(&jws, p, "{}", key, "k", "n", "u", &err));
    prot = jws ? t_verify_jws(p, jws, acme_key_evp(key), &payload64, &siglen)
               : NULL;
    ACME_CHECK(prot && payload64 && !strcmp(payload64, "e30"),
               "payload {} encoded as '%s'", payload64 ? payload64 : "");
    json_decref(prot);

    /* without nonce: no "nonce" member */
    jws = NULL;
    ACME_CHECK_RV(acme_jws_sign(&jws, p, "{}", key, NULL, NULL, "u", &err));
    prot = jws ? t_verify_jws(p, jws, acme_key_evp(key), &payload64, &siglen)
               : NULL;
    ACME_CHECK(prot && json_object_get(prot, "nonce") == NULL
               && json_object_size(prot) == 3, "nonce present though NULL");
    json_decref(prot);

    /* a tampered payload fails verification (the verifier can fail) */
    if (jws) {
        json_t *j = json_loads(jws, 0, NULL);
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        const char *input = apr_pstrcat(p,
            json_string_value(json_object_get(j, "protected")), ".e31", NULL);
        unsigned char *sig = NULL;
        int sl = t_unb64url(p, json_string_value(json_object_get(j,
                                                  "signature")), &sig);

        ACME_CHECK(sl > 0, "signature decode");
        if (type == ACME_KEY_RSA2048) {
            ACME_CHECK(EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL,
                                            acme_key_evp(key)) == 1
                       && EVP_DigestVerify(ctx, sig, (size_t)sl,
                                           (const unsigned char *)input,
                                           strlen(input)) != 1,
                       "tampered input verified");
        }
        EVP_MD_CTX_free(ctx);
        json_decref(j);
    }

    /* no URL */
    acme_err_clear(&err);
    ACME_CHECK(acme_jws_sign(&jws, p, "{}", key, NULL, "n", NULL, &err)
               == ACME_EINVAL && err.msg, "NULL url accepted");
}

static void test_sign_es256(apr_pool_t *p) { check_sign(p, ACME_KEY_EC256, "ES256"); }
static void test_sign_es384(apr_pool_t *p) { check_sign(p, ACME_KEY_EC384, "ES384"); }
static void test_sign_rs256(apr_pool_t *p) { check_sign(p, ACME_KEY_RSA2048, "RS256"); }

/* Many ECDSA signatures: some have r or s with a leading zero byte, and
 * every one must still be exactly 64 bytes and verify. */
static void test_ecdsa_fixed_length(apr_pool_t *p)
{
    acme_key_t *key = NULL;
    const char *jws, *payload64;
    json_t *prot;
    int i, siglen, bad = 0;
    apr_pool_t *sub;

    ACME_CHECK_RV(acme_key_generate(&key, p, ACME_KEY_EC256, NULL));
    apr_pool_create(&sub, p);
    for (i = 0; i < 600 && key; i++) {
        apr_pool_clear(sub);
        jws = NULL;
        siglen = 0;
        if (acme_jws_sign(&jws, sub, "{}", key, "k", "n", "u", NULL)
            != APR_SUCCESS) {
            bad++;
            continue;
        }
        prot = t_verify_jws(sub, jws, acme_key_evp(key), &payload64, &siglen);
        if (!prot || siglen != 64) {
            bad++;
        }
        json_decref(prot);
    }
    ACME_CHECK(bad == 0, "%d of 600 ES256 signatures bad", bad);
}

static void test_eab(apr_pool_t *p)
{
    acme_key_t *key = NULL;
    json_t *eab = NULL, *prot = NULL, *payload = NULL, *jwk;
    acme_err_t err;
    const char *prot64, *payload64, *sig64, *input;
    unsigned char *raw = NULL, mac[32];
    size_t maclen = 0;
    unsigned char hkey[32];
    int n, i;
    EVP_MAC *m;
    EVP_MAC_CTX *mctx;
    OSSL_PARAM params[2];

    for (i = 0; i < 32; i++) {
        hkey[i] = (unsigned char)i;
    }
    ACME_CHECK_RV(acme_key_generate(&key, p, ACME_KEY_EC256, NULL));
    acme_err_clear(&err);
    ACME_CHECK(acme_jws_eab(&eab, p, key, "kid-1", EAB_KEY_B64URL,
                            "https://ca.example/acme/new-account", &err)
               == APR_SUCCESS && eab, "eab: %s", err.msg ? err.msg : "");
    if (!eab) {
        return;
    }
    ACME_CHECK(json_object_size(eab) == 3, "EAB members");
    prot64 = json_string_value(json_object_get(eab, "protected"));
    payload64 = json_string_value(json_object_get(eab, "payload"));
    sig64 = json_string_value(json_object_get(eab, "signature"));
    ACME_CHECK(prot64 && payload64 && sig64, "EAB members missing");
    if (!prot64 || !payload64 || !sig64) {
        json_decref(eab);
        return;
    }
    n = t_unb64url(p, prot64, &raw);
    prot = n > 0 ? json_loads((char *)raw, 0, NULL) : NULL;
    ACME_CHECK(prot && json_object_size(prot) == 3, "EAB protected");
    ACME_CHECK_STR(json_string_value(json_object_get(prot, "alg")), "HS256");
    ACME_CHECK_STR(json_string_value(json_object_get(prot, "kid")), "kid-1");
    ACME_CHECK_STR(json_string_value(json_object_get(prot, "url")),
                   "https://ca.example/acme/new-account");
    ACME_CHECK(json_object_get(prot, "nonce") == NULL, "EAB has a nonce");
    n = t_unb64url(p, payload64, &raw);
    payload = n > 0 ? json_loads((char *)raw, 0, NULL) : NULL;
    jwk = acme_jwk_public(key);
    ACME_CHECK(payload && json_equal(payload, jwk),
               "EAB payload is not the account JWK");
    json_decref(jwk);

    /* recompute the MAC with EVP_MAC */
    input = apr_pstrcat(p, prot64, ".", payload64, NULL);
    m = EVP_MAC_fetch(NULL, "HMAC", NULL);
    mctx = EVP_MAC_CTX_new(m);
    params[0] = OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0);
    params[1] = OSSL_PARAM_construct_end();
    ACME_CHECK(EVP_MAC_init(mctx, hkey, sizeof(hkey), params) == 1
               && EVP_MAC_update(mctx, (const unsigned char *)input,
                                 strlen(input)) == 1
               && EVP_MAC_final(mctx, mac, &maclen, sizeof(mac)) == 1,
               "EVP_MAC");
    ACME_CHECK_STR(sig64, t_b64url(p, mac, maclen));
    EVP_MAC_CTX_free(mctx);
    EVP_MAC_free(m);

    /* another key gives another MAC */
    {
        json_t *eab2 = NULL;

        ACME_CHECK_RV(acme_jws_eab(&eab2, p, key, "kid-1",
                                   "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh4",
                                   "https://ca.example/acme/new-account",
                                   NULL));
        ACME_CHECK(eab2 && strcmp(json_string_value(json_object_get(eab2,
                   "signature")), sig64) != 0, "MAC ignores the key");
        json_decref(eab2);
    }
    json_decref(payload);
    json_decref(prot);
    json_decref(eab);
}

static void test_eab_bad_key(apr_pool_t *p)
{
    static const char *const bad[] = { "not base64!", "a", "", "ab+/",
                                       "abc$def" };
    acme_key_t *key = NULL;
    json_t *eab;
    acme_err_t err;
    size_t i;

    ACME_CHECK_RV(acme_key_generate(&key, p, ACME_KEY_EC256, NULL));
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        eab = NULL;
        acme_err_clear(&err);
        ACME_CHECK(acme_jws_eab(&eab, p, key, "kid", bad[i],
                                "https://ca.example/new-acct", &err)
                   == ACME_EINVAL && !eab, "EAB key '%s' accepted", bad[i]);
        ACME_CHECK(err.msg && strstr(err.msg,
                                     "EAB HMAC key is not valid base64url"),
                   "message for '%s': %s", bad[i], err.msg ? err.msg : "");
        json_decref(eab);
    }
    acme_err_clear(&err);
    eab = NULL;
    ACME_CHECK(acme_jws_eab(&eab, p, key, NULL, EAB_KEY_B64URL, "u", &err)
               == ACME_EINVAL && !eab, "EAB without kid accepted");
}

static void test_key_authorization(apr_pool_t *p)
{
    static const char token[] = "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA";
    acme_key_t *key = NULL;
    const char *ka = NULL, *expect;
    EVP_PKEY *pk;

    /* known vector: RFC 7638 key, fixed token */
    pk = t_rsa_from_ne(p, RFC7638_N, RFC7638_E);
    key = acme_key_wrap(p, pk);
    ACME_CHECK_RV(acme_key_authorization(&ka, p, token, key));
    ACME_CHECK_STR(ka, apr_pstrcat(p, token, ".", RFC7638_THUMB, NULL));
    ACME_CHECK_STR(acme_dns01_value(p, ka),
                   "ZTRx1Ckl1-tM05o5zaizTTA0yUy5AGereMgSNWC6Ll8");

    /* a fresh EC key against the independent computation */
    ACME_CHECK_RV(acme_key_generate(&key, p, ACME_KEY_EC256, NULL));
    ka = NULL;
    ACME_CHECK_RV(acme_key_authorization(&ka, p, "tok_en-1", key));
    expect = apr_pstrcat(p, "tok_en-1.",
                         t_thumbprint(p, acme_key_evp(key)), NULL);
    ACME_CHECK_STR(ka, expect);
    ACME_CHECK_STR(acme_dns01_value(p, ka), t_sha256_b64url(p, expect));
    ACME_CHECK(strlen(acme_dns01_value(p, ka)) == 43, "dns01 length");

    /* tokens that are not base64url never become key authorizations */
    ka = NULL;
    ACME_CHECK(acme_key_authorization(&ka, p, "../../etc/passwd", key)
               != APR_SUCCESS && !ka, "path token accepted");
    ACME_CHECK(acme_key_authorization(&ka, p, "", key) != APR_SUCCESS,
               "empty token accepted");
}

int main(void)
{
    ACME_TEST_RUN(test_rfc7638_vector);
    ACME_TEST_RUN(test_ec_jwk);
    ACME_TEST_RUN(test_rsa_jwk);
    ACME_TEST_RUN(test_sign_es256);
    ACME_TEST_RUN(test_sign_es384);
    ACME_TEST_RUN(test_sign_rs256);
    ACME_TEST_RUN(test_ecdsa_fixed_length);
    ACME_TEST_RUN(test_eab);
    ACME_TEST_RUN(test_eab_bad_key);
    ACME_TEST_RUN(test_key_authorization);
    return ACME_TEST_DONE();
}
