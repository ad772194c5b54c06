/* Unit tests: src/acme_cert.c. A throwaway CA hierarchy is built here with
 * OpenSSL directly (root -> intermediate -> leaf). */
#include <stdlib.h>
#include <unistd.h>

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "acme_test.h"
#include "acme_cert.h"
#include "acme_key.h"
#include "acme_util.h"

#define DAY (24L * 3600L)

/* ---- a throwaway CA, built without the code under test ---- */

static void t_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, ctx, nid, value);

    ACME_CHECK(e && X509_add_ext(x, e, -1), "extension %s", value);
    X509_EXTENSION_free(e);
}

/*
 * A certificate for `pub`, subject CN `cn` (none if NULL), SAN `san` (an
 * OpenSSL config string, none if NULL), issued by issuer/ikey (self-signed
 * if issuer is NULL; ikey is then the subject's own key), valid from
 * now+nb to now+na seconds, serial `serial`.
 */
static X509 *t_cert(const char *cn, const char *san, EVP_PKEY *pub,
                    X509 *issuer, EVP_PKEY *ikey, long nb, long na,
                    int ca, long serial)
{
    X509 *x = X509_new();
    X509_NAME *name = X509_NAME_new();
    X509V3_CTX ctx;

    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
    if (cn) {
        X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
                                   (const unsigned char *)cn, -1, -1, 0);
    }
    X509_set_subject_name(x, name);
    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
    X509_gmtime_adj(X509_getm_notBefore(x), nb);
    X509_gmtime_adj(X509_getm_notAfter(x), na);
    X509_set_pubkey(x, pub);
    X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
    t_ext(x, &ctx, NID_basic_constraints, ca ? "critical,CA:TRUE"
                                             : "critical,CA:FALSE");
    t_ext(x, &ctx, NID_key_usage, ca ? "critical,keyCertSign,cRLSign"
                                     : "critical,digitalSignature");
    t_ext(x, &ctx, NID_subject_key_identifier, "hash");
    if (issuer) {
        t_ext(x, &ctx, NID_authority_key_identifier, "keyid:always");
    }
    if (san) {
        t_ext(x, &ctx, NID_subject_alt_name, san);
    }
    ACME_CHECK(X509_sign(x, ikey, EVP_sha256()) > 0, "X509_sign");
    X509_NAME_free(name);
    return x;
}

static const char *t_pem(apr_pool_t *p, X509 *x)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *data = NULL;
    long n;
    const char *out;

    PEM_write_bio_X509(bio, x);
    n = BIO_get_mem_data(bio, &data);
    out = apr_pstrmemdup(p, data, (apr_size_t)n);
    BIO_free(bio);
    return out;
}

static EVP_PKEY *t_key(void)
{
    return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
}

static apr_array_header_t *t_names(apr_pool_t *p, const char *const *list)
{
    apr_array_header_t *a = apr_array_make(p, 4, sizeof(const char *));

    for (; *list; list++) {
        APR_ARRAY_PUSH(a, const char *) = *list;
    }
    return a;
}

/* The fixture: root, intermediate, leaf (for leaf_key, which is an
 * acme_key_t), and their PEM. X509s are owned by the pool via
 * acme_cert_wrap. */
typedef struct {
    EVP_PKEY *root_key, *inter_key;
    X509 *root, *inter, *leaf;
    acme_key_t *leaf_key;
    const char *root_pem, *inter_pem, *leaf_pem;
} fixture_t;

static apr_status_t fixture_cleanup(void *data)
{
    fixture_t *f = data;

    EVP_PKEY_free(f->root_key);
    EVP_PKEY_free(f->inter_key);
    X509_free(f->root);
    X509_free(f->inter);
    X509_free(f->leaf);
    return APR_SUCCESS;
}

#define LEAF_SAN "DNS:example.org, DNS:WWW.Example.org, IP:192.0.2.5, " \
                 "IP:2001:db8:0:0::1"

static fixture_t *t_fixture(apr_pool_t *p, long leaf_nb, long leaf_na)
{
    fixture_t *f = apr_pcalloc(p, sizeof(*f));

    apr_pool_cleanup_register(p, f, fixture_cleanup, apr_pool_cleanup_null);
    f->root_key = t_key();
    f->inter_key = t_key();
    ACME_CHECK_RV(acme_key_generate(&f->leaf_key, p, ACME_KEY_EC256, NULL));
    f->root = t_cert("Test Root X1", NULL, f->root_key, NULL, f->root_key,
                     -10 * DAY, 3650 * DAY, 1, 1);
    f->inter = t_cert("Test Intermediate R9", NULL, f->inter_key, f->root,
                      f->root_key, -10 * DAY, 1000 * DAY, 1, 2);
    f->leaf = t_cert("example.org", LEAF_SAN, acme_key_evp(f->leaf_key),
                     f->inter, f->inter_key, leaf_nb, leaf_na, 0, 0x0102ab);
    f->root_pem = t_pem(p, f->root);
    f->inter_pem = t_pem(p, f->inter);
    f->leaf_pem = t_pem(p, f->leaf);
    return f;
}

static const char *cn_of(apr_pool_t *p, const apr_array_header_t *certs,
                         int i)
{
    return acme_cert_subject_cn(p, APR_ARRAY_IDX(certs, i, acme_cert_t *));
}

/* ---- tests ---- */

static void test_parse(apr_pool_t *p)
{
    fixture_t *f = t_fixture(p, -DAY, 90 * DAY);
    apr_array_header_t *certs = NULL;
    acme_err_t err;
    const char *pem;
    static const char keyblock[] =
        "-----BEGIN PUBLIC KEY-----\n"
        "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"
        "-----END PUBLIC KEY-----\n";

    pem = apr_pstrcat(p, f->leaf_pem, f->inter_pem, f->root_pem, NULL);
    acme_err_clear(&err);
    ACME_CHECK(acme_chain_parse(&certs, p, pem, strlen(pem), &err)
               == APR_SUCCESS, "parse: %s", err.msg ? err.msg : "");
    ACME_CHECK(certs && certs->nelts == 3, "count %d",
               certs ? certs->nelts : -1);
    if (certs && certs->nelts == 3) {
        ACME_CHECK_STR(cn_of(p, certs, 0), "example.org");
        ACME_CHECK_STR(cn_of(p, certs, 1), "Test Intermediate R9");
        ACME_CHECK_STR(cn_of(p, certs, 2), "Test Root X1");
        ACME_CHECK(X509_cmp(acme_cert_x509(APR_ARRAY_IDX(certs, 0,
                   acme_cert_t *)), f->leaf) == 0, "leaf differs");
    }

    /* order is kept as given */
    pem = apr_pstrcat(p, f->root_pem, f->leaf_pem, NULL);
    certs = NULL;
    ACME_CHECK_RV(acme_chain_parse(&certs, p, pem, strlen(pem), NULL));
    ACME_CHECK(certs && certs->nelts == 2
               && !strcmp(cn_of(p, certs, 0), "Test Root X1")
               && !strcmp(cn_of(p, certs, 1), "example.org"), "order");

    /* text and other PEM blocks between certificates are ignored */
    pem = apr_pstrcat(p, "Subject: leaf\nissuer=whatever\n\n", f->leaf_pem,
                      "\nsome text\r\n", keyblock, "more\n", f->inter_pem,
                      "trailing garbage", NULL);
    certs = NULL;
    acme_err_clear(&err);
    ACME_CHECK(acme_chain_parse(&certs, p, pem, strlen(pem), &err)
               == APR_SUCCESS, "with garbage: %s", err.msg ? err.msg : "");
    ACME_CHECK(certs && certs->nelts == 2, "count with garbage %d",
               certs ? certs->nelts : -1);

    /* the length is honoured (not NUL-terminated input) */
    pem = apr_pstrcat(p, f->leaf_pem, f->inter_pem, NULL);
    certs = NULL;
    ACME_CHECK_RV(acme_chain_parse(&certs, p, pem, strlen(f->leaf_pem), NULL));
    ACME_CHECK(certs && certs->nelts == 1, "length not honoured");

    /* CRLF line endings */
    {
        const char *s;
        char *crlf = apr_palloc(p, 2 * strlen(f->leaf_pem) + 1), *d = crlf;

        for (s = f->leaf_pem; *s; s++) {
            if (*s == '\n') *d++ = '\r';
            *d++ = *s;
        }
        *d = '\0';
        certs = NULL;
        ACME_CHECK_RV(acme_chain_parse(&certs, p, crlf, strlen(crlf), NULL));
        ACME_CHECK(certs && certs->nelts == 1, "CRLF chain");
    }
}

static void check_parse_fails(apr_pool_t *p, const char *what,
                              const char *pem, const char *msg)
{
    apr_array_header_t *certs = NULL;
    acme_err_t err;

    acme_err_clear(&err);
    ACME_CHECK(acme_chain_parse(&certs, p, pem, strlen(pem), &err)
               == ACME_EPROTO, "%s accepted", what);
    ACME_CHECK(certs == NULL, "%s: certs set", what);
    ACME_CHECK(err.rv == ACME_EPROTO && err.msg
               && (!msg || strstr(err.msg, msg)),
               "%s: message '%s'", what, err.msg ? err.msg : "(null)");
}

static void test_parse_bad(apr_pool_t *p)
{
    fixture_t *f = t_fixture(p, -DAY, 90 * DAY);
    char *broken, *cut;

    check_parse_fails(p, "empty", "", "no certificate in the CA's answer");
    check_parse_fails(p, "text", "<html>Service Unavailable</html>\n",
                      "no certificate in the CA's answer");
    check_parse_fails(p, "bad base64",
                      "-----BEGIN CERTIFICATE-----\n!!!!not base64!!!!\n"
                      "-----END CERTIFICATE-----\n", NULL);
    check_parse_fails(p, "not a certificate",
                      "-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQ=\n"
                      "-----END CERTIFICATE-----\n", NULL);
    /* a good leaf followed by a broken one */
    check_parse_fails(p, "good then bad",
                      apr_pstrcat(p, f->leaf_pem,
                                  "-----BEGIN CERTIFICATE-----\nAAAA\n"
                                  "-----END CERTIFICATE-----\n", NULL), NULL);
    /* a chain whose second certificate is cut off (no END line) */
    broken = apr_pstrcat(p, f->leaf_pem, f->inter_pem, NULL);
    cut = broken + strlen(f->leaf_pem) + strlen(f->inter_pem) / 2;
    *cut = '\0';
    check_parse_fails(p, "truncated", broken, NULL);
    /* a corrupted byte inside a certificate's base64 */
    broken = apr_pstrdup(p, f->leaf_pem);
    broken[100] = broken[100] == 'A' ? 'B' : 'A';
    broken[101] = '*';
    check_parse_fails(p, "corrupted", broken, NULL);
}

static void test_fields(apr_pool_t *p)
{
    fixture_t *f = t_fixture(p, -DAY, 90 * DAY);
    acme_cert_t *leaf, *root;
    apr_array_header_t *names;
    BIO *bio;
    char *data = NULL, *expect;
    long n;
    X509 *x;

    leaf = acme_cert_wrap(p, X509_dup(f->leaf));
    root = acme_cert_wrap(p, X509_dup(f->root));
    names = acme_cert_names(p, leaf);
    ACME_CHECK(names->nelts == 4, "names %d", names->nelts);
    if (names->nelts == 4) {
        ACME_CHECK_STR(APR_ARRAY_IDX(names, 0, const char *), "example.org");
        ACME_CHECK_STR(APR_ARRAY_IDX(names, 1, const char *),
                       "www.example.org");
        ACME_CHECK_STR(APR_ARRAY_IDX(names, 2, const char *), "192.0.2.5");
        ACME_CHECK_STR(APR_ARRAY_IDX(names, 3, const char *), "2001:db8::1");
    }
    ACME_CHECK(acme_cert_names(p, root)->nelts == 0, "root has names");

    /* serial: as `openssl x509 -serial` prints it (i2a_ASN1_INTEGER),
     * lowercased */
    ACME_CHECK_STR(acme_cert_serial_hex(p, leaf), "0102ab");
    bio = BIO_new(BIO_s_mem());
    i2a_ASN1_INTEGER(bio, X509_get0_serialNumber(f->leaf));
    n = BIO_get_mem_data(bio, &data);
    expect = acme_str_tolower(apr_pstrmemdup(p, data, (apr_size_t)n));
    ACME_CHECK_STR(acme_cert_serial_hex(p, leaf), expect);
    BIO_free(bio);
    {
        /* a large serial with the top bit set */
        BIGNUM *bn = NULL;
        acme_cert_t *c;

        x = X509_dup(f->leaf);
        BN_hex2bn(&bn, "80FF00000000000000000000000000000000EE");
        BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
        c = acme_cert_wrap(p, x);
        ACME_CHECK_STR(acme_cert_serial_hex(p, c),
                       "80ff00000000000000000000000000000000ee");
        BN_free(bn);
    }

    /* dates: exact */
    x = X509_dup(f->leaf);
    ASN1_TIME_set(X509_getm_notBefore(x), 1700000000);
    ASN1_TIME_set(X509_getm_notAfter(x), 1707776000);
    {
        acme_cert_t *c = acme_cert_wrap(p, x);

        ACME_CHECK(acme_cert_not_before(c) == apr_time_from_sec(1700000000),
                   "notBefore %" APR_TIME_T_FMT, acme_cert_not_before(c));
        ACME_CHECK(acme_cert_not_after(c) == apr_time_from_sec(1707776000),
                   "notAfter %" APR_TIME_T_FMT, acme_cert_not_after(c));
    }
    /* a GeneralizedTime after 2049 */
    x = X509_dup(f->leaf);
    ASN1_TIME_set(X509_getm_notAfter(x), 2556144000L);  /* 2051-01-01 */
    ACME_CHECK(acme_cert_not_after(acme_cert_wrap(p, x))
               == apr_time_from_sec(2556144000L), "GeneralizedTime");

    ACME_CHECK_STR(acme_cert_subject_cn(p, leaf), "example.org");
    ACME_CHECK_STR(acme_cert_issuer_cn(p, leaf), "Test Intermediate R9");
    ACME_CHECK_STR(acme_cert_issuer_cn(p, root), "Test Root X1");
    {
        EVP_PKEY *k = t_key();
        X509 *nocn = t_cert(NULL, "DNS:x.example", k, NULL, k, 0, DAY, 0, 5);
        acme_cert_t *c = acme_cert_wrap(p, nocn);

        ACME_CHECK_STR(acme_cert_subject_cn(p, c), "");
        ACME_CHECK_STR(acme_cert_issuer_cn(p, c), "");
        EVP_PKEY_free(k);
    }

    /* matches_key */
    ACME_CHECK(acme_cert_matches_key(leaf, f->leaf_key), "leaf key");
    {
        acme_key_t *other = NULL;

        ACME_CHECK_RV(acme_key_generate(&other, p, ACME_KEY_EC256, NULL));
        ACME_CHECK(!acme_cert_matches_key(leaf, other), "other key matches");
        ACME_CHECK_RV(acme_key_generate(&other, p, ACME_KEY_RSA2048, NULL));
        ACME_CHECK(!acme_cert_matches_key(leaf, other), "RSA key matches");
    }
}

static void test_pem_roundtrip(apr_pool_t *p)
{
    fixture_t *f = t_fixture(p, -DAY, 90 * DAY);
    apr_array_header_t *certs = NULL, *again = NULL;
    const char *pem, *out;
    int i;

    pem = apr_pstrcat(p, f->leaf_pem, f->inter_pem, f->root_pem, NULL);
    ACME_CHECK_RV(acme_chain_parse(&certs, p, pem, strlen(pem), NULL));
    if (!certs) {
        return;
    }
    ACME_CHECK_STR(acme_cert_to_pem(p, APR_ARRAY_IDX(certs, 0,
                                                     acme_cert_t *)),
                   f->leaf_pem);
    ACME_CHECK_STR(acme_chain_to_pem(p, certs, 0, 3), pem);
    ACME_CHECK_STR(acme_chain_to_pem(p, certs, 1, 3),
                   apr_pstrcat(p, f->inter_pem, f->root_pem, NULL));
    ACME_CHECK_STR(acme_chain_to_pem(p, certs, 0, 1), f->leaf_pem);
    ACME_CHECK_STR(acme_chain_to_pem(p, certs, 1, 99),
                   apr_pstrcat(p, f->inter_pem, f->root_pem, NULL));
    ACME_CHECK_STR(acme_chain_to_pem(p, certs, 2, 2), "");
    out = acme_chain_to_pem(p, certs, 0, certs->nelts);
    ACME_CHECK_RV(acme_chain_parse(&again, p, out, strlen(out), NULL));
    for (i = 0; again && i < 3; i++) {
        ACME_CHECK(X509_cmp(acme_cert_x509(APR_ARRAY_IDX(certs, i,
                                                         acme_cert_t *)),
                            acme_cert_x509(APR_ARRAY_IDX(again, i,
                                                         acme_cert_t *)))
                   == 0, "certificate %d differs after a round trip", i);
    }
}

static void test_load(apr_pool_t *p)
{
    fixture_t *f = t_fixture(p, -DAY, 90 * DAY);
    apr_array_header_t *certs = NULL;
    const char *pem, *path, *dir;
    acme_err_t err;
    char tmpl[] = "/tmp/acme_test_cert.XXXXXX";

    dir = mkdtemp(tmpl);
    ACME_CHECK(dir != NULL, "mkdtemp");
    if (!dir) {
        return;
    }
    path = apr_pstrcat(p, dir, "/fullchain.pem", NULL);
    pem = apr_pstrcat(p, f->leaf_pem, f->inter_pem, NULL);
    ACME_CHECK_RV(acme_file_write_atomic(path, pem, strlen(pem), 0644, p));
    ACME_CHECK_RV(acme_chain_load(&certs, p, path, NULL));
    ACME_CHECK(certs && certs->nelts == 2, "loaded count");
    certs = NULL;
    acme_err_clear(&err);
    ACME_CHECK(acme_chain_load(&certs, p, apr_pstrcat(p, dir, "/nope.pem",
                                                      NULL), &err)
               != APR_SUCCESS && !certs && err.msg
               && strstr(err.msg, "nope.pem"), "missing file: %s",
               err.msg ? err.msg : "");
    ACME_CHECK_RV(acme_file_write_atomic(path, "junk\n", 5, 0644, p));
    acme_err_clear(&err);
    ACME_CHECK(acme_chain_load(&certs, p, path, &err) == ACME_EPROTO
               && err.msg && strstr(err.msg, "fullchain.pem"),
               "junk file: %s", err.msg ? err.msg : "");
    unlink(path);
    rmdir(dir);
}

static apr_array_header_t *t_chain(apr_pool_t *p, X509 *a, X509 *b, X509 *c)
{
    apr_array_header_t *certs = apr_array_make(p, 3, sizeof(acme_cert_t *));

    APR_ARRAY_PUSH(certs, acme_cert_t *) = acme_cert_wrap(p, X509_dup(a));
    if (b) {
        APR_ARRAY_PUSH(certs, acme_cert_t *) = acme_cert_wrap(p, X509_dup(b));
    }
    if (c) {
        APR_ARRAY_PUSH(certs, acme_cert_t *) = acme_cert_wrap(p, X509_dup(c));
    }
    return certs;
}

static void check_invalid(apr_pool_t *p, const char *what,
                          const apr_array_header_t *certs,
                          const acme_key_t *key,
                          const apr_array_header_t *names,
                          const char *msg)
{
    acme_err_t err;

    acme_err_clear(&err);
    ACME_CHECK(acme_chain_validate(certs, key, names, apr_time_now(), p, &err)
               == ACME_EPROTO, "%s: validated", what);
    ACME_CHECK(err.msg && strstr(err.msg, msg), "%s: message '%s', wanted "
               "'%s'", what, err.msg ? err.msg : "(null)", msg);
}

static void test_validate(apr_pool_t *p)
{
    static const char *const good[] = { "example.org", "www.example.org",
                                        "192.0.2.5", "2001:db8::1", NULL };
    static const char *const shuffled[] = { "2001:DB8:0::1", "WWW.EXAMPLE.ORG",
                                            "192.0.2.5", "Example.Org",
                                            NULL };
    static const char *const fewer[] = { "example.org", "www.example.org",
                                         "192.0.2.5", NULL };
    static const char *const more[] = { "example.org", "www.example.org",
                                        "192.0.2.5", "2001:db8::1",
                                        "mail.example.org", NULL };
    static const char *const other[] = { "example.org", "www.example.org",
                                         "192.0.2.5", "2001:db8::2", NULL };
    fixture_t *f = t_fixture(p, -DAY, 90 * DAY);
    apr_array_header_t *chain;
    acme_key_t *other_key = NULL;
    acme_err_t err;

    chain = t_chain(p, f->leaf, f->inter, f->root);
    acme_err_clear(&err);
    ACME_CHECK(acme_chain_validate(chain, f->leaf_key, t_names(p, good),
                                   apr_time_now(), p, &err) == APR_SUCCESS,
               "valid chain: %s", err.msg ? err.msg : "");
    ACME_CHECK(acme_chain_validate(chain, f->leaf_key, t_names(p, shuffled),
                                   apr_time_now(), p, &err) == APR_SUCCESS,
               "names in other order/case: %s", err.msg ? err.msg : "");
    /* leaf alone, leaf + intermediate */
    ACME_CHECK_RV(acme_chain_validate(t_chain(p, f->leaf, NULL, NULL),
                                      f->leaf_key, t_names(p, good),
                                      apr_time_now(), p, NULL));
    ACME_CHECK_RV(acme_chain_validate(t_chain(p, f->leaf, f->inter, NULL),
                                      f->leaf_key, t_names(p, good),
                                      apr_time_now(), p, NULL));

    /* wrong key */
    ACME_CHECK_RV(acme_key_generate(&other_key, p, ACME_KEY_EC256, NULL));
    check_invalid(p, "wrong key", chain, other_key, t_names(p, good),
                  "certificate's public key does not match the requested "
                  "key");
    /* wrong names */
    check_invalid(p, "fewer names", chain, f->leaf_key, t_names(p, fewer),
                  "certificate names (example.org, www.example.org, "
                  "192.0.2.5, 2001:db8::1) differ from the requested names "
                  "(example.org, www.example.org, 192.0.2.5)");
    check_invalid(p, "more names", chain, f->leaf_key, t_names(p, more),
                  "differ from the requested names");
    check_invalid(p, "other names", chain, f->leaf_key, t_names(p, other),
                  "differ from the requested names");
    /* no certificate */
    check_invalid(p, "empty", apr_array_make(p, 1, sizeof(acme_cert_t *)),
                  f->leaf_key, t_names(p, good), "no certificate");

    /* broken issuance order: leaf, intermediate, leaf */
    check_invalid(p, "order", t_chain(p, f->leaf, f->inter, f->leaf),
                  f->leaf_key, t_names(p, good),
                  "chain: certificate 2 was not issued by certificate 3");
    /* another CA's root at the end: same name, other key */
    {
        fixture_t *g = t_fixture(p, -DAY, 90 * DAY);

        check_invalid(p, "foreign root", t_chain(p, f->leaf, f->inter,
                                                 g->root),
                      f->leaf_key, t_names(p, good),
                      "chain: certificate 2 was not issued by certificate "
                      "3");
    }
    check_invalid(p, "leaf then root", t_chain(p, f->leaf, f->root, NULL),
                  f->leaf_key, t_names(p, good),
                  "chain: certificate 1 was not issued by certificate 2");
    /* an impostor intermediate: same name, other key */
    {
        EVP_PKEY *k = t_key();
        X509 *fake = t_cert("Test Intermediate R9", NULL, k, f->root,
                            f->root_key, -DAY, 100 * DAY, 1, 3);

        ACME_CHECK(!acme_cert_issued_by(acme_cert_wrap(p, X509_dup(f->leaf)),
                                        acme_cert_wrap(p, X509_dup(fake))),
                   "impostor issued the leaf");
        check_invalid(p, "impostor", t_chain(p, f->leaf, fake, f->root),
                      f->leaf_key, t_names(p, good),
                      "chain: certificate 1 was not issued by certificate 2");
        X509_free(fake);
        EVP_PKEY_free(k);
    }
    ACME_CHECK(acme_cert_issued_by(acme_cert_wrap(p, X509_dup(f->inter)),
                                   acme_cert_wrap(p, X509_dup(f->root))),
               "root did not issue the intermediate");
}

static void test_validate_dates(apr_pool_t *p)
{
    static const char *const good[] = { "example.org", "www.example.org",
                                        "192.0.2.5", "2001:db8::1", NULL };
    fixture_t *expired = t_fixture(p, -90 * DAY, -DAY);
    fixture_t *future = t_fixture(p, 3 * DAY, 90 * DAY);
    fixture_t *soon = t_fixture(p, 3600, 90 * DAY);
    acme_err_t err;

    check_invalid(p, "expired", t_chain(p, expired->leaf, expired->inter,
                                        NULL),
                  expired->leaf_key, t_names(p, good),
                  "certificate expired on ");
    check_invalid(p, "future", t_chain(p, future->leaf, future->inter, NULL),
                  future->leaf_key, t_names(p, good),
                  "is not valid before");
    /* an hour of clock skew is fine */
    acme_err_clear(&err);
    ACME_CHECK(acme_chain_validate(t_chain(p, soon->leaf, soon->inter, NULL),
                                   soon->leaf_key, t_names(p, good),
                                   apr_time_now(), p, &err) == APR_SUCCESS,
               "small skew: %s", err.msg ? err.msg : "");
    /* `now` is the caller's: the expired chain was valid 30 days ago */
    ACME_CHECK_RV(acme_chain_validate(t_chain(p, expired->leaf,
                                              expired->inter, NULL),
                                      expired->leaf_key, t_names(p, good),
                                      apr_time_now()
                                      - apr_time_from_sec(30 * DAY), p,
                                      NULL));
}

static void test_self_signed(apr_pool_t *p)
{
    static const char *const names[] = { "fallback.example", "www.fallback.example",
                                         "203.0.113.9", NULL };
    static const acme_key_type_e types[] = { ACME_KEY_EC256, ACME_KEY_RSA2048 };
    acme_key_t *key = NULL;
    acme_cert_t *cert = NULL, *cert2 = NULL;
    acme_err_t err;
    X509 *x;
    apr_time_t now;
    BASIC_CONSTRAINTS *bc;
    const ASN1_INTEGER *serial;
    int i, crit = -1;

    for (i = 0; i < 2; i++) {
        cert = NULL;
        ACME_CHECK_RV(acme_key_generate(&key, p, types[i], NULL));
        now = apr_time_now();
        acme_err_clear(&err);
        ACME_CHECK(acme_cert_self_signed(&cert, p, key, t_names(p, names),
                                         apr_time_from_sec(7 * DAY), &err)
                   == APR_SUCCESS && cert, "self_signed: %s",
                   err.msg ? err.msg : "");
        if (!cert) {
            continue;
        }
        x = acme_cert_x509(cert);
        ACME_CHECK(X509_get_version(x) == 2, "not X509v3");
        ACME_CHECK(X509_verify(x, acme_key_evp(key)) == 1,
                   "signature does not verify with the key");
        ACME_CHECK(X509_get_signature_nid(x)
                   == (i == 0 ? NID_ecdsa_with_SHA256
                              : NID_sha256WithRSAEncryption),
                   "signature algorithm %s",
                   OBJ_nid2sn(X509_get_signature_nid(x)));
        ACME_CHECK(acme_cert_matches_key(cert, key), "key");
        ACME_CHECK(acme_cert_issued_by(cert, cert), "not self-issued");
        ACME_CHECK_STR(acme_cert_subject_cn(p, cert), "fallback.example");
        ACME_CHECK_STR(acme_cert_issuer_cn(p, cert), "fallback.example");
        ACME_CHECK_RV(acme_chain_validate(t_chain(p, x, NULL, NULL), key,
                                          t_names(p, names), apr_time_now(),
                                          p, NULL));
        ACME_CHECK(acme_cert_not_before(cert) <= now + apr_time_from_sec(1)
                   && acme_cert_not_before(cert) >= now
                      - apr_time_from_sec(120), "notBefore is not now");
        ACME_CHECK(acme_cert_not_after(cert) - acme_cert_not_before(cert)
                   >= apr_time_from_sec(7 * DAY - 2)
                   && acme_cert_not_after(cert) - acme_cert_not_before(cert)
                   <= apr_time_from_sec(7 * DAY + 2), "validity length");
        bc = X509_get_ext_d2i(x, NID_basic_constraints, &crit, NULL);
        ACME_CHECK(bc && !bc->ca, "basicConstraints CA:FALSE missing");
        BASIC_CONSTRAINTS_free(bc);
        serial = X509_get0_serialNumber(x);
        ACME_CHECK(ASN1_STRING_length(serial) == 16
                   && ASN1_STRING_type(serial) == V_ASN1_INTEGER,
                   "serial is %d bytes", ASN1_STRING_length(serial));
        ACME_CHECK(strlen(acme_cert_serial_hex(p, cert)) == 32, "serial hex");
        ACME_CHECK(X509_check_host(x, "www.fallback.example", 0, 0, NULL) == 1,
                   "SAN host");
        ACME_CHECK(X509_check_ip_asc(x, "203.0.113.9", 0) == 1, "SAN IP");
        ACME_CHECK(X509_check_purpose(x, X509_PURPOSE_SSL_SERVER, 0) == 1,
                   "not usable as a TLS server certificate");
    }
    /* serials are positive and exactly 16 bytes every time (the top bit
     * of a random serial is set half the time) */
    {
        int bad = 0;

        for (i = 0; i < 40; i++) {
            cert2 = NULL;
            if (acme_cert_self_signed(&cert2, p, key, t_names(p, names),
                                      apr_time_from_sec(DAY), NULL)
                != APR_SUCCESS
                || ASN1_STRING_length(X509_get0_serialNumber(
                       acme_cert_x509(cert2))) != 16
                || ASN1_STRING_type(X509_get0_serialNumber(
                       acme_cert_x509(cert2))) != V_ASN1_INTEGER
                /* DER: tag, length, 16 octets (no sign padding byte) */
                || i2d_ASN1_INTEGER(X509_get0_serialNumber(
                       acme_cert_x509(cert2)), NULL) != 18) {
                bad++;
            }
        }
        ACME_CHECK(bad == 0, "%d of 40 serials not 16 positive bytes", bad);
    }
    /* two certificates have different serials */
    ACME_CHECK_RV(acme_cert_self_signed(&cert2, p, key, t_names(p, names),
                                        apr_time_from_sec(DAY), NULL));
    ACME_CHECK(cert && cert2 && strcmp(acme_cert_serial_hex(p, cert),
                                       acme_cert_serial_hex(p, cert2)),
               "same serial twice");
    /* errors */
    {
        static const char *const none[] = { NULL };

        cert = NULL;
        acme_err_clear(&err);
        ACME_CHECK(acme_cert_self_signed(&cert, p, key, t_names(p, none),
                                         apr_time_from_sec(DAY), &err)
                   == ACME_EINVAL && !cert && err.msg, "no names accepted");
        ACME_CHECK(acme_cert_self_signed(&cert, p, key, t_names(p, names), 0,
                                         &err) == ACME_EINVAL && !cert,
                   "zero validity accepted");
    }
}

int main(void)
{
    ACME_TEST_RUN(test_parse);
    ACME_TEST_RUN(test_parse_bad);
    ACME_TEST_RUN(test_fields);
    ACME_TEST_RUN(test_pem_roundtrip);
    ACME_TEST_RUN(test_load);
    ACME_TEST_RUN(test_validate);
    ACME_TEST_RUN(test_validate_dates);
    ACME_TEST_RUN(test_self_signed);
    return ACME_TEST_DONE();
}
