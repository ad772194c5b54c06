/* mod_acme: certificate signing requests. */
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "acme_csr.h"

/* Longest name that fits a commonName (RFC 5280 ub-common-name). */
#define ACME_CN_MAX 64

int acme_csr_name_is_ip(const char *name)
{
    ASN1_OCTET_STRING *ip;

    if (!name || !*name) {
        return 0;
    }
    ip = a2i_IPADDRESS(name);
    if (!ip) {
        ERR_clear_error();
        return 0;
    }
    ASN1_OCTET_STRING_free(ip);
    return 1;
}

X509_EXTENSION *acme_san_extension(apr_pool_t *p,
                                   const apr_array_header_t *names,
                                   acme_err_t *err)
{
    X509_EXTENSION *ext = NULL;
    GENERAL_NAMES *gens = NULL;
    GENERAL_NAME *gen = NULL;
    ASN1_IA5STRING *dns = NULL;
    ASN1_OCTET_STRING *ip = NULL;
    const char *name;
    int i;

    if (!names || names->nelts == 0) {
        acme_err_set(err, p, ACME_EINVAL, "no names for the certificate");
        goto cleanup;
    }
    gens = GENERAL_NAMES_new();
    if (!gens) {
        goto oom;
    }
    for (i = 0; i < names->nelts; i++) {
        name = APR_ARRAY_IDX(names, i, const char *);
        if (!name || !*name) {
            acme_err_set(err, p, ACME_EINVAL, "name %d of the certificate is "
                         "empty", i + 1);
            goto cleanup;
        }
        gen = GENERAL_NAME_new();
        if (!gen) {
            goto oom;
        }
        ip = a2i_IPADDRESS(name);
        if (ip) {
            GENERAL_NAME_set0_value(gen, GEN_IPADD, ip);
            ip = NULL;
        }
        else {
            ERR_clear_error();
            dns = ASN1_IA5STRING_new();
            if (!dns || !ASN1_STRING_set(dns, name, (int)strlen(name))) {
                goto oom;
            }
            GENERAL_NAME_set0_value(gen, GEN_DNS, dns);
            dns = NULL;
        }
        if (!sk_GENERAL_NAME_push(gens, gen)) {
            goto oom;
        }
        gen = NULL;
    }
    ext = X509V3_EXT_i2d(NID_subject_alt_name, 0, gens);
    if (!ext) {
        goto oom;
    }
    goto cleanup;
oom:
    acme_err_set(err, p, ACME_ECRYPTO, "cannot build the subjectAltName "
                 "extension: %s", acme_ssl_error(p));
cleanup:
    ASN1_IA5STRING_free(dns);
    GENERAL_NAME_free(gen);
    GENERAL_NAMES_free(gens);
    return ext;
}

/* The CSR's requested extensions: the subjectAltName for names and, with
 * must_staple, the TLS Feature status_request (RFC 7633). */
static apr_status_t csr_extensions(STACK_OF(X509_EXTENSION) **pexts,
                                   apr_pool_t *p,
                                   const apr_array_header_t *names,
                                   int must_staple, acme_err_t *err)
{
    apr_status_t rv = APR_SUCCESS;
    STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
    X509_EXTENSION *ext = NULL;
    acme_err_t lerr;

    if (!exts) {
        rv = acme_err_set(err, p, ACME_ECRYPTO, "CSR: out of memory");
        goto cleanup;
    }
    acme_err_clear(&lerr);
    ext = acme_san_extension(p, names, &lerr);
    if (!ext) {
        rv = acme_err_set(err, p, lerr.rv, "CSR: %s", lerr.msg);
        goto cleanup;
    }
    if (!sk_X509_EXTENSION_push(exts, ext)) {
        rv = acme_err_set(err, p, ACME_ECRYPTO, "CSR: out of memory");
        goto cleanup;
    }
    ext = NULL;
    if (must_staple) {
        /* TLS Feature (RFC 7633) status_request: SEQUENCE { INTEGER 5 } */
        ext = X509V3_EXT_conf_nid(NULL, NULL, NID_tlsfeature,
                                  "status_request");
        if (!ext || !sk_X509_EXTENSION_push(exts, ext)) {
            rv = acme_err_set(err, p, ACME_ECRYPTO, "CSR: cannot build the "
                              "OCSP must-staple extension: %s",
                              acme_ssl_error(p));
            goto cleanup;
        }
        ext = NULL;
    }
    *pexts = exts;
    exts = NULL;
cleanup:
    X509_EXTENSION_free(ext);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    return rv;
}

/* Sets CN = the first name in subject, when it fits and is a DNS name (IP
 * addresses belong in the subjectAltName only). */
static apr_status_t csr_subject(X509_NAME *subject, apr_pool_t *p,
                                const apr_array_header_t *names,
                                acme_err_t *err)
{
    apr_status_t rv = APR_SUCCESS;
    const char *first = APR_ARRAY_IDX(names, 0, const char *);

    if (strlen(first) <= ACME_CN_MAX && !acme_csr_name_is_ip(first)) {
        if (!X509_NAME_add_entry_by_NID(subject, NID_commonName, MBSTRING_UTF8,
                                        (const unsigned char *)first, -1,
                                        -1, 0)) {
            rv = acme_err_set(err, p, ACME_ECRYPTO, "CSR: cannot set the "
                              "subject: %s", acme_ssl_error(p));
        }
    }
    return rv;
}

/* The DER of req, in pool memory. */
static apr_status_t csr_encode(const unsigned char **pder, apr_size_t *plen,
                               apr_pool_t *p, X509_REQ *req, acme_err_t *err)
{
    apr_status_t rv = APR_SUCCESS;
    unsigned char *out, *q;
    int n;

    n = i2d_X509_REQ(req, NULL);
    if (n <= 0) {
        rv = acme_err_set(err, p, ACME_ECRYPTO, "CSR: cannot encode: %s",
                          acme_ssl_error(p));
        goto cleanup;
    }
    out = apr_palloc(p, (apr_size_t)n);
    q = out;
    if (i2d_X509_REQ(req, &q) != n) {
        rv = acme_err_set(err, p, ACME_ECRYPTO, "CSR: cannot encode: %s",
                          acme_ssl_error(p));
        goto cleanup;
    }
    *pder = out;
    *plen = (apr_size_t)n;
cleanup:
    return rv;
}

apr_status_t acme_csr_make(const unsigned char **pder, apr_size_t *plen,
                           apr_pool_t *p, const acme_key_t *key,
                           const apr_array_header_t *names, int must_staple,
                           acme_err_t *err)
{
    apr_status_t rv = APR_SUCCESS;
    EVP_PKEY *pk = acme_key_evp(key);
    X509_REQ *req = NULL;
    X509_NAME *subject = NULL;
    STACK_OF(X509_EXTENSION) *exts = NULL;

    ERR_clear_error();
    if (!pk) {
        rv = acme_err_set(err, p, ACME_EINVAL, "CSR: no key");
        goto cleanup;
    }
    req = X509_REQ_new();
    subject = X509_NAME_new();
    if (!req || !subject) {
        rv = acme_err_set(err, p, ACME_ECRYPTO, "CSR: out of memory");
        goto cleanup;
    }
    rv = csr_extensions(&exts, p, names, must_staple, err);
    if (rv == APR_SUCCESS) {
        rv = csr_subject(subject, p, names, err);
    }
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    if (!X509_REQ_set_version(req, 0)   /* PKCS#10 version 1 */
        || !X509_REQ_set_subject_name(req, subject)
        || !X509_REQ_set_pubkey(req, pk)
        || !X509_REQ_add_extensions(req, exts)) {
        rv = acme_err_set(err, p, ACME_ECRYPTO, "CSR: cannot build the "
                          "request: %s", acme_ssl_error(p));
        goto cleanup;
    }
    if (X509_REQ_sign(req, pk, EVP_sha256()) <= 0) {
        rv = acme_err_set(err, p, ACME_ECRYPTO, "CSR: signing failed: %s",
                          acme_ssl_error(p));
        goto cleanup;
    }
    rv = csr_encode(pder, plen, p, req, err);
cleanup:
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    X509_NAME_free(subject);
    X509_REQ_free(req);
    return rv;
}

apr_status_t acme_csr_der_to_pem(const char **ppem, apr_pool_t *p,
                                 const unsigned char *der, apr_size_t len)
{
    apr_status_t rv = APR_SUCCESS;
    const unsigned char *q = der;
    X509_REQ *req = NULL;
    BIO *bio = NULL;
    char *data = NULL;
    long n;

    if (!der || len == 0 || len > 1024 * 1024) {
        rv = ACME_EINVAL;
        goto cleanup;
    }
    req = d2i_X509_REQ(NULL, &q, (long)len);
    if (!req || q != der + len) {
        ERR_clear_error();
        rv = ACME_EINVAL;
        goto cleanup;
    }
    bio = BIO_new(BIO_s_mem());
    if (!bio || !PEM_write_bio_X509_REQ(bio, req)) {
        rv = ACME_ECRYPTO;
        goto cleanup;
    }
    n = BIO_get_mem_data(bio, &data);
    if (n <= 0 || !data) {
        rv = ACME_ECRYPTO;
        goto cleanup;
    }
    *ppem = apr_pstrmemdup(p, data, (apr_size_t)n);
cleanup:
    BIO_free(bio);
    X509_REQ_free(req);
    return rv;
}
