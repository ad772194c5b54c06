/* mod_acme: certificates answering tls-alpn-01 and tls-sni-01. */
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include "acme_challenge_cert.h"
#include "acme_util.h"

/* Challenge certificates live for a week at most: long enough for any
 * validation, short enough to be useless if one leaks. */
#define CHALLENGE_CERT_LIFE apr_time_from_sec(7 * 86400)

static void sha256(unsigned char out[32], const char *s)
{
    unsigned int n = 32;

    EVP_Digest(s, strlen(s), out, &n, EVP_sha256(), NULL);
}

static apr_array_header_t *one_name(apr_pool_t *p, const char *name)
{
    apr_array_header_t *a = apr_array_make(p, 1, sizeof(const char *));

    APR_ARRAY_PUSH(a, const char *) = name;
    return a;
}

apr_status_t acme_challenge_cert_alpn(acme_cert_t **pcert,
                                      acme_key_t **pkey, apr_pool_t *p,
                                      const char *name, const char *keyauthz,
                                      acme_err_t *err)
{
    unsigned char digest[32];
    ASN1_OBJECT *oid = NULL;
    ASN1_OCTET_STRING *inner = NULL, *value = NULL;
    X509_EXTENSION *ext = NULL;
    unsigned char *der = NULL;
    int der_len;
    acme_cert_t *cert;
    acme_key_t *key;
    apr_status_t rv;
    X509 *x;

    rv = acme_key_generate(&key, p, ACME_KEY_EC256, err);
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    rv = acme_cert_self_signed(&cert, p, key, one_name(p, name),
                               CHALLENGE_CERT_LIFE, err);
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    /* extnValue = DER(OCTET STRING(SHA-256(key authorization))) */
    sha256(digest, keyauthz);
    inner = ASN1_OCTET_STRING_new();
    value = ASN1_OCTET_STRING_new();
    oid = OBJ_txt2obj(ACME_OID_ACME_IDENTIFIER, 1);
    if (!inner || !value || !oid
        || !ASN1_OCTET_STRING_set(inner, digest, sizeof(digest))
        || (der_len = i2d_ASN1_OCTET_STRING(inner, &der)) <= 0
        || !ASN1_OCTET_STRING_set(value, der, der_len)
        || !(ext = X509_EXTENSION_create_by_OBJ(NULL, oid, 1, value))) {
        rv = acme_err_set(err, p, ACME_ECRYPTO, "tls-alpn-01 certificate: "
                          "cannot build the acmeIdentifier extension: %s",
                          acme_ssl_error(p));
        goto cleanup;
    }
    x = acme_cert_x509(cert);
    if (!X509_add_ext(x, ext, -1)
        || !X509_sign(x, acme_key_evp(key), EVP_sha256())) {
        rv = acme_err_set(err, p, ACME_ECRYPTO, "tls-alpn-01 certificate: "
                          "cannot sign: %s", acme_ssl_error(p));
        goto cleanup;
    }
    *pcert = cert;
    *pkey = key;
cleanup:
    OPENSSL_free(der);
    ASN1_OCTET_STRING_free(inner);
    ASN1_OCTET_STRING_free(value);
    ASN1_OBJECT_free(oid);
    X509_EXTENSION_free(ext);
    return rv;
}

const char *acme_challenge_sni_name(apr_pool_t *p, const char *keyauthz)
{
    unsigned char digest[32];
    const char *z;

    sha256(digest, keyauthz);
    z = acme_hex_encode(p, digest, sizeof(digest));
    return apr_psprintf(p, "%.32s.%.32s.acme.invalid", z, z + 32);
}

apr_status_t acme_challenge_cert_sni(acme_cert_t **pcert, acme_key_t **pkey,
                                     apr_pool_t *p, const char *keyauthz,
                                     acme_err_t *err)
{
    acme_key_t *key;
    apr_status_t rv;

    rv = acme_key_generate(&key, p, ACME_KEY_EC256, err);
    if (rv == APR_SUCCESS) {
        rv = acme_cert_self_signed(pcert, p, key,
                                   one_name(p, acme_challenge_sni_name(
                                       p, keyauthz)),
                                   CHALLENGE_CERT_LIFE, err);
    }
    if (rv == APR_SUCCESS) {
        *pkey = key;
    }
    return rv;
}

const unsigned char *acme_challenge_cert_alpn_digest(apr_pool_t *p,
                                                     const acme_cert_t *cert,
                                                     int *pcritical)
{
    X509 *x = acme_cert_x509(cert);
    ASN1_OBJECT *oid = OBJ_txt2obj(ACME_OID_ACME_IDENTIFIER, 1);
    ASN1_OCTET_STRING *inner = NULL;
    const unsigned char *out = NULL, *q;
    X509_EXTENSION *ext;
    int idx;

    idx = oid ? X509_get_ext_by_OBJ(x, oid, -1) : -1;
    if (idx < 0) {
        goto cleanup;
    }
    ext = X509_get_ext(x, idx);
    if (pcritical) {
        *pcritical = X509_EXTENSION_get_critical(ext);
    }
    q = ASN1_STRING_get0_data(X509_EXTENSION_get_data(ext));
    inner = d2i_ASN1_OCTET_STRING(NULL, &q,
                                  ASN1_STRING_length(
                                      X509_EXTENSION_get_data(ext)));
    if (inner && ASN1_STRING_length(inner) == 32) {
        out = apr_pmemdup(p, ASN1_STRING_get0_data(inner), 32);
    }
cleanup:
    ASN1_OCTET_STRING_free(inner);
    ASN1_OBJECT_free(oid);
    return out;
}
