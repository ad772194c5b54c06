/* mod_acme: JSON Web Keys and Signatures as ACME uses them (RFC 7515,
 * RFC 7517, RFC 7518, RFC 7638, RFC 8555 §6.2 and §7.3.4). */
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "acme_jws.h"
#include "acme_util.h"

/* Longest challenge token we accept from a CA (RFC 8555 tokens are ~43). */
#define ACME_TOKEN_MAX 512

/* Serialisation flags: compact, and sorted so the output is deterministic
 * (RFC 7638 requires lexicographic member order for thumbprints). */
#define ACME_JSON_FLAGS (JSON_COMPACT | JSON_SORT_KEYS)

/* The EC curve of a key: 256 or 384 (bits), 0 if not P-256/P-384. */
static int ec_bits(const acme_key_t *key)
{
    acme_key_type_e type;

    if (acme_key_get_type(&type, key) != APR_SUCCESS) {
        return 0;
    }
    return type == ACME_KEY_EC256 ? 256 : type == ACME_KEY_EC384 ? 384 : 0;
}

const char *acme_jws_alg(const acme_key_t *key)
{
    EVP_PKEY *pk = acme_key_evp(key);

    if (!pk) {
        return NULL;
    }
    switch (EVP_PKEY_get_base_id(pk)) {
    case EVP_PKEY_RSA:
        return "RS256";
    case EVP_PKEY_EC:
        switch (ec_bits(key)) {
        case 256: return "ES256";
        case 384: return "ES384";
        default:  return NULL;
        }
    default:
        return NULL;
    }
}

/* base64url of a BIGNUM: minimal length when width is 0, else left-padded
 * with zeros to exactly width bytes. Returns NULL if it does not fit. */
static const char *bn_b64url(apr_pool_t *p, const BIGNUM *bn, int width)
{
    unsigned char *buf;
    int n;

    n = width ? width : BN_num_bytes(bn);
    if (n <= 0) {
        /* zero: RFC 7518 still wants one octet */
        static const unsigned char zero = 0;
        return acme_b64url_encode(p, &zero, 1);
    }
    buf = apr_palloc(p, (apr_size_t)n);
    if (BN_bn2binpad(bn, buf, n) != n) {
        return NULL;
    }
    return acme_b64url_encode(p, buf, (apr_size_t)n);
}

json_t *acme_jwk_public(const acme_key_t *key)
{
    EVP_PKEY *pk = acme_key_evp(key);
    json_t *jwk = NULL;
    BIGNUM *a = NULL, *b = NULL;
    apr_pool_t *tmp = NULL;
    const char *s1, *s2;
    int bits;

    if (!pk || apr_pool_create(&tmp, NULL) != APR_SUCCESS) {
        goto cleanup;
    }
    switch (EVP_PKEY_get_base_id(pk)) {
    case EVP_PKEY_EC:
        bits = ec_bits(key);
        if (!bits
            || !EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_EC_PUB_X, &a)
            || !EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_EC_PUB_Y, &b)) {
            goto cleanup;
        }
        s1 = bn_b64url(tmp, a, bits / 8);
        s2 = bn_b64url(tmp, b, bits / 8);
        if (!s1 || !s2) {
            goto cleanup;
        }
        jwk = json_pack("{s:s, s:s, s:s, s:s}",
                        "crv", bits == 256 ? "P-256" : "P-384",
                        "kty", "EC", "x", s1, "y", s2);
        break;
    case EVP_PKEY_RSA:
        if (!EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_E, &a)
            || !EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_N, &b)) {
            goto cleanup;
        }
        s1 = bn_b64url(tmp, a, 0);
        s2 = bn_b64url(tmp, b, 0);
        if (!s1 || !s2) {
            goto cleanup;
        }
        jwk = json_pack("{s:s, s:s, s:s}", "e", s1, "kty", "RSA", "n", s2);
        break;
    default:
        break;
    }
cleanup:
    if (!jwk) {
        ERR_clear_error();
    }
    BN_free(a);
    BN_free(b);
    if (tmp) {
        apr_pool_destroy(tmp);
    }
    return jwk;
}

/* Copies a malloc'ed string from json_dumps into the pool and frees it. */
static const char *dump_to_pool(apr_pool_t *p, const json_t *json)
{
    char *s = json_dumps(json, ACME_JSON_FLAGS);
    const char *out = NULL;

    if (s) {
        out = apr_pstrdup(p, s);
        free(s);
    }
    return out;
}

/* base64url(SHA-256 or SHA-384 of data). */
static const char *digest_b64url(apr_pool_t *p, const EVP_MD *md,
                                 const void *data, apr_size_t len)
{
    unsigned char buf[EVP_MAX_MD_SIZE];
    unsigned int n = 0;

    if (!EVP_Digest(data, len, buf, &n, md, NULL)) {
        ERR_clear_error();
        return NULL;
    }
    return acme_b64url_encode(p, buf, n);
}

apr_status_t acme_jwk_thumbprint_json(const char **pthumb, apr_pool_t *p,
                                      json_t *jwk)
{
    apr_status_t rv = APR_SUCCESS;
    static const char *const ec_members[] = { "crv", "kty", "x", "y", NULL };
    static const char *const rsa_members[] = { "e", "kty", "n", NULL };
    const char *const *members;
    json_t *canon = NULL, *v;
    const char *kty, *text, *thumb;
    int i;

    kty = json_string_value(json_object_get(jwk, "kty"));
    if (!kty) {
        rv = ACME_EINVAL;
        goto cleanup;
    }
    if (!strcmp(kty, "EC")) {
        members = ec_members;
    }
    else if (!strcmp(kty, "RSA")) {
        members = rsa_members;
    }
    else {
        rv = ACME_EINVAL;
        goto cleanup;
    }
    /* RFC 7638 §3.2: only the required members, sorted, no whitespace */
    canon = json_object();
    for (i = 0; members[i]; i++) {
        v = json_object_get(jwk, members[i]);
        if (!json_is_string(v)
            || json_object_set(canon, members[i], v) != 0) {
            rv = ACME_EINVAL;
            goto cleanup;
        }
    }
    text = dump_to_pool(p, canon);
    thumb = text ? digest_b64url(p, EVP_sha256(), text, strlen(text)) : NULL;
    if (!thumb) {
        rv = ACME_ECRYPTO;
        goto cleanup;
    }
    *pthumb = thumb;
cleanup:
    json_decref(canon);
    return rv;
}

apr_status_t acme_jwk_thumbprint(const char **pthumb, apr_pool_t *p,
                                 const acme_key_t *key)
{
    apr_status_t rv;
    json_t *jwk = acme_jwk_public(key);

    if (!jwk) {
        rv = ACME_EINVAL;
        goto cleanup;
    }
    rv = acme_jwk_thumbprint_json(pthumb, p, jwk);
cleanup:
    json_decref(jwk);
    return rv;
}

/*
 * Signs `input` with the key as the JWS algorithm of the key requires and
 * returns the base64url signature: RSASSA-PKCS1-v1_5 for RS256; for ES256
 * and ES384 the DER ECDSA signature converted to R || S (RFC 7518 §3.4).
 */
static apr_status_t jws_signature(const char **psig, apr_pool_t *p,
                                  const acme_key_t *key, const char *input,
                                  acme_err_t *err)
{
    apr_status_t rv = APR_SUCCESS;
    EVP_PKEY *pk = acme_key_evp(key);
    EVP_MD_CTX *ctx = NULL;
    ECDSA_SIG *esig = NULL;
    const EVP_MD *md;
    const BIGNUM *r, *s;
    const unsigned char *q;
    unsigned char *der = NULL, *raw;
    size_t derlen = 0;
    int bits = 0, width;

    if (EVP_PKEY_get_base_id(pk) == EVP_PKEY_EC) {
        bits = ec_bits(key);
        if (!bits) {
            rv = acme_err_set(err, p, ACME_EINVAL, "JWS: unsupported EC "
                              "curve (use P-256 or P-384)");
            goto cleanup;
        }
    }
    else if (EVP_PKEY_get_base_id(pk) != EVP_PKEY_RSA) {
        rv = acme_err_set(err, p, ACME_EINVAL, "JWS: unsupported key "
                          "algorithm (use an EC or RSA key)");
        goto cleanup;
    }
    md = bits == 384 ? EVP_sha384() : EVP_sha256();
    ctx = EVP_MD_CTX_new();
    if (!ctx
        || EVP_DigestSignInit(ctx, NULL, md, NULL, pk) != 1
        || EVP_DigestSign(ctx, NULL, &derlen, (const unsigned char *)input,
                          strlen(input)) != 1) {
        rv = acme_err_set(err, p, ACME_ECRYPTO, "JWS: cannot sign: %s",
                          acme_ssl_error(p));
        goto cleanup;
    }
    der = apr_palloc(p, derlen);
    if (EVP_DigestSign(ctx, der, &derlen, (const unsigned char *)input,
                       strlen(input)) != 1) {
        rv = acme_err_set(err, p, ACME_ECRYPTO, "JWS: signing failed: %s",
                          acme_ssl_error(p));
        goto cleanup;
    }
    if (!bits) {
        *psig = acme_b64url_encode(p, der, derlen);
        goto cleanup;
    }
    q = der;
    esig = d2i_ECDSA_SIG(NULL, &q, (long)derlen);
    if (!esig) {
        rv = acme_err_set(err, p, ACME_ECRYPTO, "JWS: cannot decode the "
                          "ECDSA signature: %s", acme_ssl_error(p));
        goto cleanup;
    }
    ECDSA_SIG_get0(esig, &r, &s);
    width = bits / 8;
    raw = apr_palloc(p, (apr_size_t)width * 2);
    if (BN_bn2binpad(r, raw, width) != width
        || BN_bn2binpad(s, raw + width, width) != width) {
        rv = acme_err_set(err, p, ACME_ECRYPTO, "JWS: ECDSA signature "
                          "value does not fit %d bytes", width);
        goto cleanup;
    }
    *psig = acme_b64url_encode(p, raw, (apr_size_t)width * 2);
cleanup:
    ECDSA_SIG_free(esig);
    EVP_MD_CTX_free(ctx);
    return rv;
}

apr_status_t acme_jws_sign(const char **pjws, apr_pool_t *p,
                           const char *payload, const acme_key_t *key,
                           const char *kid, const char *nonce,
                           const char *url, acme_err_t *err)
{
    apr_status_t rv = APR_SUCCESS;
    json_t *prot = NULL, *jwk = NULL, *jws = NULL;
    const char *alg, *prot64, *payload64, *input, *sig = NULL, *text;

    alg = acme_jws_alg(key);
    if (!alg) {
        rv = acme_err_set(err, p, ACME_EINVAL, "JWS: the key is not an "
                          "ES256, ES384 or RS256 key");
        goto cleanup;
    }
    if (!url || !*url) {
        rv = acme_err_set(err, p, ACME_EINVAL, "JWS: no URL to sign for");
        goto cleanup;
    }
    prot = json_pack("{s:s, s:s}", "alg", alg, "url", url);
    if (!prot) {
        rv = acme_err_set(err, p, ACME_EGENERAL, "JWS: cannot build the "
                          "protected header (URL not valid UTF-8?)");
        goto cleanup;
    }
    if (nonce && json_object_set_new(prot, "nonce", json_string(nonce))) {
        rv = acme_err_set(err, p, ACME_EPROTO, "JWS: the nonce is not "
                          "valid UTF-8");
        goto cleanup;
    }
    if (kid) {
        if (json_object_set_new(prot, "kid", json_string(kid))) {
            rv = acme_err_set(err, p, ACME_EINVAL, "JWS: the account URL "
                              "is not valid UTF-8");
            goto cleanup;
        }
    }
    else {
        jwk = acme_jwk_public(key);
        if (!jwk || json_object_set(prot, "jwk", jwk)) {
            rv = acme_err_set(err, p, ACME_ECRYPTO, "JWS: cannot build the "
                              "public JWK of the key");
            goto cleanup;
        }
    }
    text = dump_to_pool(p, prot);
    if (!text) {
        rv = acme_err_set(err, p, ACME_EGENERAL, "JWS: cannot serialise "
                          "the protected header");
        goto cleanup;
    }
    prot64 = acme_b64url_encode(p, (const unsigned char *)text, strlen(text));
    payload64 = payload ? acme_b64url_encode(p, (const unsigned char *)payload,
                                             strlen(payload)) : "";
    input = apr_pstrcat(p, prot64, ".", payload64, NULL);
    rv = jws_signature(&sig, p, key, input, err);
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    jws = json_pack("{s:s, s:s, s:s}", "protected", prot64,
                    "payload", payload64, "signature", sig);
    text = jws ? dump_to_pool(p, jws) : NULL;
    if (!text) {
        rv = acme_err_set(err, p, ACME_EGENERAL, "JWS: cannot serialise "
                          "the request");
        goto cleanup;
    }
    *pjws = text;
cleanup:
    json_decref(prot);
    json_decref(jwk);
    json_decref(jws);
    return rv;
}

apr_status_t acme_jws_eab(json_t **peab, apr_pool_t *p,
                          const acme_key_t *account_key, const char *eab_kid,
                          const char *eab_hmac_b64url, const char *url,
                          acme_err_t *err)
{
    apr_status_t rv = APR_SUCCESS;
    json_t *prot = NULL, *jwk = NULL;
    unsigned char *hkey = NULL, mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    apr_size_t hkeylen = 0;
    const char *text, *prot64, *payload64, *input;

    if (!eab_kid || !*eab_kid) {
        rv = acme_err_set(err, p, ACME_EINVAL, "EAB key identifier is empty");
        goto cleanup;
    }
    if (!url || !*url) {
        rv = acme_err_set(err, p, ACME_EINVAL, "EAB: no newAccount URL");
        goto cleanup;
    }
    if (!eab_hmac_b64url || !*eab_hmac_b64url
        || acme_b64url_decode(&hkey, &hkeylen, p, eab_hmac_b64url)
           != APR_SUCCESS
        || hkeylen == 0) {
        rv = acme_err_set(err, p, ACME_EINVAL,
                          "EAB HMAC key is not valid base64url");
        goto cleanup;
    }
    jwk = acme_jwk_public(account_key);
    if (!jwk) {
        rv = acme_err_set(err, p, ACME_EINVAL, "EAB: cannot build the "
                          "public JWK of the account key");
        goto cleanup;
    }
    prot = json_pack("{s:s, s:s, s:s}", "alg", "HS256", "kid", eab_kid,
                     "url", url);
    text = prot ? dump_to_pool(p, prot) : NULL;
    if (!text) {
        rv = acme_err_set(err, p, ACME_EINVAL, "EAB: cannot build the "
                          "protected header (key identifier or URL not "
                          "valid UTF-8?)");
        goto cleanup;
    }
    prot64 = acme_b64url_encode(p, (const unsigned char *)text, strlen(text));
    text = dump_to_pool(p, jwk);
    if (!text) {
        rv = acme_err_set(err, p, ACME_EGENERAL, "EAB: cannot serialise "
                          "the JWK");
        goto cleanup;
    }
    payload64 = acme_b64url_encode(p, (const unsigned char *)text,
                                   strlen(text));
    input = apr_pstrcat(p, prot64, ".", payload64, NULL);
    if (!HMAC(EVP_sha256(), hkey, (int)hkeylen, (const unsigned char *)input,
              strlen(input), mac, &maclen)) {
        rv = acme_err_set(err, p, ACME_ECRYPTO, "EAB: HMAC failed: %s",
                          acme_ssl_error(p));
        goto cleanup;
    }
    *peab = json_pack("{s:s, s:s, s:s}", "protected", prot64,
                      "payload", payload64,
                      "signature", acme_b64url_encode(p, mac, maclen));
    if (!*peab) {
        rv = acme_err_set(err, p, ACME_EGENERAL, "EAB: out of memory");
        goto cleanup;
    }
cleanup:
    if (hkey) {
        OPENSSL_cleanse(hkey, hkeylen);
    }
    OPENSSL_cleanse(mac, sizeof(mac));
    json_decref(prot);
    json_decref(jwk);
    return rv;
}

apr_status_t acme_key_authorization(const char **pkeyauthz, apr_pool_t *p,
                                    const char *token,
                                    const acme_key_t *account_key)
{
    apr_status_t rv;
    const char *thumb = NULL;

    /* RFC 8555 §8.1: tokens are base64url; anything else from a CA must
     * not reach file names or TXT records */
    if (!acme_is_b64url(token, ACME_TOKEN_MAX)) {
        rv = ACME_EPROTO;
        goto cleanup;
    }
    rv = acme_jwk_thumbprint(&thumb, p, account_key);
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    *pkeyauthz = apr_pstrcat(p, token, ".", thumb, NULL);
cleanup:
    return rv;
}

const char *acme_dns01_value(apr_pool_t *p, const char *keyauthz)
{
    return digest_b64url(p, EVP_sha256(), keyauthz, strlen(keyauthz));
}
