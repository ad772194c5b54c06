/* Unit tests: src/acme_csr.c. The DER is parsed back with OpenSSL. */
#include <arpa/inet.h>

#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "acme_test.h"
#include "acme_csr.h"
#include "acme_key.h"

static apr_array_header_t *t_names(apr_pool_t *p, const char *const *list)
{
    apr_array_header_t *a = apr_array_make(p, 4, sizeof(const char *));

    for (; *list; list++) {
        APR_ARRAY_PUSH(a, const char *) = *list;
    }
    return a;
}

static X509_REQ *t_parse(const unsigned char *der, apr_size_t len)
{
    const unsigned char *q = der;
    X509_REQ *req = d2i_X509_REQ(NULL, &q, (long)len);

    ACME_CHECK(req && q == der + len, "CSR DER does not parse completely");
    return req;
}

/* The subject CN or NULL. */
static const char *t_cn(apr_pool_t *p, X509_REQ *req)
{
    X509_NAME *n = X509_REQ_get_subject_name(req);
    char buf[256];
    int len = X509_NAME_get_text_by_NID(n, NID_commonName, buf, sizeof(buf));

    return len < 0 ? NULL : apr_pstrmemdup(p, buf, (apr_size_t)len);
}

/* Text forms of the SAN entries ("DNS:x", "IP:1.2.3.4") in order. */
static apr_array_header_t *t_san(apr_pool_t *p, X509_REQ *req, int *pcount)
{
    apr_array_header_t *out = apr_array_make(p, 4, sizeof(const char *));
    STACK_OF(X509_EXTENSION) *exts = X509_REQ_get_extensions(req);
    GENERAL_NAMES *gens = NULL;
    int i, idx, found = 0;

    idx = X509v3_get_ext_by_NID(exts, NID_subject_alt_name, -1);
    if (idx >= 0) {
        found++;
        gens = X509V3_EXT_d2i(X509v3_get_ext(exts, idx));
        if (X509v3_get_ext_by_NID(exts, NID_subject_alt_name, idx) >= 0) {
            found++;
        }
    }
    for (i = 0; gens && i < sk_GENERAL_NAME_num(gens); i++) {
        GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        const unsigned char *d;
        int len;
        char buf[64];

        if (g->type == GEN_DNS) {
            d = ASN1_STRING_get0_data(g->d.dNSName);
            len = ASN1_STRING_length(g->d.dNSName);
            APR_ARRAY_PUSH(out, const char *) = apr_pstrcat(p, "DNS:",
                apr_pstrmemdup(p, (const char *)d, (apr_size_t)len), NULL);
        }
        else if (g->type == GEN_IPADD) {
            d = ASN1_STRING_get0_data(g->d.iPAddress);
            len = ASN1_STRING_length(g->d.iPAddress);
            inet_ntop(len == 4 ? AF_INET : AF_INET6, d, buf, sizeof(buf));
            APR_ARRAY_PUSH(out, const char *) = apr_pstrcat(p, "IP:", buf,
                                                            NULL);
        }
        else {
            APR_ARRAY_PUSH(out, const char *) = "OTHER";
        }
    }
    GENERAL_NAMES_free(gens);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    *pcount = found;
    return out;
}

/* 1 if must-staple present and correct, 0 if absent, -1 if malformed. */
static int t_must_staple(X509_REQ *req)
{
    STACK_OF(X509_EXTENSION) *exts = X509_REQ_get_extensions(req);
    ASN1_OBJECT *oid = OBJ_txt2obj("1.3.6.1.5.5.7.1.24", 1);
    static const unsigned char expect[] = { 0x30, 0x03, 0x02, 0x01, 0x05 };
    int idx, rc = 0;

    idx = X509v3_get_ext_by_OBJ(exts, oid, -1);
    if (idx >= 0) {
        ASN1_OCTET_STRING *v = X509_EXTENSION_get_data(X509v3_get_ext(exts,
                                                                      idx));
        rc = ASN1_STRING_length(v) == (int)sizeof(expect)
             && !memcmp(ASN1_STRING_get0_data(v), expect, sizeof(expect))
             ? 1 : -1;
    }
    ASN1_OBJECT_free(oid);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    return rc;
}

static void check_csr(apr_pool_t *p, acme_key_type_e type,
                      const char *const *names, int must_staple,
                      const char *expect_cn, const char *const *expect_san)
{
    acme_key_t *key = NULL, *other = NULL;
    const unsigned char *der = NULL;
    apr_size_t len = 0;
    acme_err_t err;
    X509_REQ *req;
    EVP_PKEY *pub;
    apr_array_header_t *san;
    const char *cn;
    int i, count = 0, n;

    ACME_CHECK_RV(acme_key_generate(&key, p, type, NULL));
    ACME_CHECK_RV(acme_key_generate(&other, p, ACME_KEY_EC256, NULL));
    acme_err_clear(&err);
    ACME_CHECK(acme_csr_make(&der, &len, p, key, t_names(p, names),
                             must_staple, &err) == APR_SUCCESS,
               "csr_make: %s", err.msg ? err.msg : "");
    if (!der) {
        return;
    }
    req = t_parse(der, len);
    if (!req) {
        return;
    }
    ACME_CHECK(X509_REQ_get_version(req) == 0, "version %ld",
               X509_REQ_get_version(req));
    pub = X509_REQ_get0_pubkey(req);
    ACME_CHECK(pub && EVP_PKEY_eq(pub, acme_key_evp(key)) == 1,
               "CSR key is not the key");
    ACME_CHECK(pub && EVP_PKEY_eq(pub, acme_key_evp(other)) != 1,
               "CSR key equals another key");
    ACME_CHECK(X509_REQ_verify(req, acme_key_evp(key)) == 1,
               "CSR signature does not verify with its key");
    ACME_CHECK(X509_REQ_verify(req, acme_key_evp(other)) != 1,
               "CSR signature verifies with another key");
    ACME_CHECK(X509_REQ_get_signature_nid(req)
               == (EVP_PKEY_get_base_id(acme_key_evp(key)) == EVP_PKEY_EC
                   ? NID_ecdsa_with_SHA256 : NID_sha256WithRSAEncryption),
               "signature algorithm %s",
               OBJ_nid2sn(X509_REQ_get_signature_nid(req)));
    cn = t_cn(p, req);
    if (expect_cn) {
        ACME_CHECK_STR(cn, expect_cn);
        ACME_CHECK(X509_NAME_entry_count(X509_REQ_get_subject_name(req)) == 1,
                   "subject has more than the CN");
    }
    else {
        ACME_CHECK(cn == NULL && X509_NAME_entry_count(
                   X509_REQ_get_subject_name(req)) == 0,
                   "subject not empty (CN %s)", cn ? cn : "");
    }
    san = t_san(p, req, &count);
    ACME_CHECK(count == 1, "%d subjectAltName extensions", count);
    for (n = 0; expect_san[n]; n++) {
    }
    ACME_CHECK(san->nelts == n, "%d SAN entries, expected %d", san->nelts, n);
    for (i = 0; i < n && i < san->nelts; i++) {
        ACME_CHECK_STR(APR_ARRAY_IDX(san, i, const char *), expect_san[i]);
    }
    ACME_CHECK(t_must_staple(req) == (must_staple ? 1 : 0),
               "must-staple %d (wanted %d)", t_must_staple(req), must_staple);
    X509_REQ_free(req);
}

static void test_csr_ec(apr_pool_t *p)
{
    static const char *const names[] = { "example.org", "www.example.org",
                                         "*.example.org", NULL };
    static const char *const san[] = { "DNS:example.org",
                                       "DNS:www.example.org",
                                       "DNS:*.example.org", NULL };

    check_csr(p, ACME_KEY_EC256, names, 0, "example.org", san);
    check_csr(p, ACME_KEY_EC384, names, 1, "example.org", san);
}

static void test_csr_rsa(apr_pool_t *p)
{
    static const char *const names[] = { "a.example", NULL };
    static const char *const san[] = { "DNS:a.example", NULL };

    check_csr(p, ACME_KEY_RSA2048, names, 1, "a.example", san);
    check_csr(p, ACME_KEY_RSA2048, names, 0, "a.example", san);
}

static void test_csr_ip(apr_pool_t *p)
{
    static const char *const names[] = { "192.0.2.1", "example.net",
                                         "2001:db8::1", NULL };
    static const char *const san[] = { "IP:192.0.2.1", "DNS:example.net",
                                       "IP:2001:db8::1", NULL };
    static const char *const names2[] = { "example.net", "198.51.100.7",
                                          NULL };
    static const char *const san2[] = { "DNS:example.net", "IP:198.51.100.7",
                                        NULL };

    /* an IP literal first: no CN */
    check_csr(p, ACME_KEY_EC256, names, 0, NULL, san);
    check_csr(p, ACME_KEY_EC256, names2, 0, "example.net", san2);
    ACME_CHECK(acme_csr_name_is_ip("10.0.0.1"), "IPv4");
    ACME_CHECK(acme_csr_name_is_ip("::1"), "IPv6");
    ACME_CHECK(!acme_csr_name_is_ip("example.org"), "DNS name as IP");
    ACME_CHECK(!acme_csr_name_is_ip("1.2.3"), "1.2.3 as IP");
    ACME_CHECK(!acme_csr_name_is_ip(""), "empty as IP");
}

static void test_csr_long_cn(apr_pool_t *p)
{
    /* 64 characters: still the CN; 65: no CN, but in the SAN */
    char label[53];
    const char *n64, *n65, *names[3], *san[3];

    memset(label, 'a', 52);
    label[52] = '\0';
    n64 = apr_pstrcat(p, label, ".example.org", NULL);        /* 52 + 12 */
    n65 = apr_pstrcat(p, "b", label, ".example.org", NULL);

    ACME_CHECK(strlen(n64) == 64 && strlen(n65) == 65, "test setup");
    names[0] = n64; names[1] = NULL;
    san[0] = apr_pstrcat(p, "DNS:", n64, NULL); san[1] = NULL;
    check_csr(p, ACME_KEY_EC256, names, 0, n64, san);
    names[0] = n65; names[1] = "short.example"; names[2] = NULL;
    san[0] = apr_pstrcat(p, "DNS:", n65, NULL); san[1] = "DNS:short.example";
    san[2] = NULL;
    check_csr(p, ACME_KEY_EC256, names, 0, NULL, san);
}

static void test_csr_errors(apr_pool_t *p)
{
    static const char *const none[] = { NULL };
    static const char *const empty[] = { "a.example", "", NULL };
    acme_key_t *key = NULL;
    const unsigned char *der = NULL;
    apr_size_t len = 0;
    acme_err_t err;

    ACME_CHECK_RV(acme_key_generate(&key, p, ACME_KEY_EC256, NULL));
    acme_err_clear(&err);
    ACME_CHECK(acme_csr_make(&der, &len, p, key, t_names(p, none), 0, &err)
               == ACME_EINVAL && !der && err.msg, "no names accepted");
    acme_err_clear(&err);
    ACME_CHECK(acme_csr_make(&der, &len, p, key, t_names(p, empty), 0, &err)
               == ACME_EINVAL && !der && err.msg, "empty name accepted");
    acme_err_clear(&err);
    ACME_CHECK(acme_csr_make(&der, &len, p, NULL, t_names(p, empty), 0, &err)
               == ACME_EINVAL && !der, "NULL key accepted");
}

static void test_csr_pem(apr_pool_t *p)
{
    static const char *const names[] = { "pem.example", NULL };
    acme_key_t *key = NULL;
    const unsigned char *der = NULL, *q;
    apr_size_t len = 0;
    const char *pem = NULL;
    BIO *bio;
    X509_REQ *req;
    unsigned char *der2 = NULL;
    int n;

    ACME_CHECK_RV(acme_key_generate(&key, p, ACME_KEY_EC256, NULL));
    ACME_CHECK_RV(acme_csr_make(&der, &len, p, key, t_names(p, names), 0,
                                NULL));
    if (!der) {
        return;
    }
    ACME_CHECK_RV(acme_csr_der_to_pem(&pem, p, der, len));
    ACME_CHECK(pem && !strncmp(pem, "-----BEGIN CERTIFICATE REQUEST-----\n",
                               36), "PEM header: %.40s", pem ? pem : "");
    if (!pem) {
        return;
    }
    bio = BIO_new_mem_buf(pem, -1);
    req = PEM_read_bio_X509_REQ(bio, NULL, NULL, NULL);
    ACME_CHECK(req != NULL, "PEM does not parse");
    n = req ? i2d_X509_REQ(req, &der2) : -1;
    ACME_CHECK(n == (int)len && !memcmp(der2, der, len),
               "PEM holds another DER");
    OPENSSL_free(der2);
    X509_REQ_free(req);
    BIO_free(bio);
    q = (const unsigned char *)"garbage";
    ACME_CHECK(acme_csr_der_to_pem(&pem, p, q, 7) == ACME_EINVAL,
               "garbage DER accepted");
    /* trailing bytes after the DER */
    {
        unsigned char *longer = apr_palloc(p, len + 1);

        memcpy(longer, der, len);
        longer[len] = 0;
        ACME_CHECK(acme_csr_der_to_pem(&pem, p, longer, len + 1)
                   == ACME_EINVAL, "trailing garbage accepted");
    }
}

int main(void)
{
    ACME_TEST_RUN(test_csr_ec);
    ACME_TEST_RUN(test_csr_rsa);
    ACME_TEST_RUN(test_csr_ip);
    ACME_TEST_RUN(test_csr_long_cn);
    ACME_TEST_RUN(test_csr_errors);
    ACME_TEST_RUN(test_csr_pem);
    return ACME_TEST_DONE();
}
