/* Unit tests: tls-alpn-01 and tls-sni-01 answers, and the choice of a
 * challenge from what a CA offers (including tls-sni-01, which pebble never
 * had: the CA answer is given here as JSON). */
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "acme_test.h"
#include "acme_challenge_cert.h"
#include "acme_order.h"
#include "acme_util.h"

static const char *KEYAUTHZ =
    "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA."
    "9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI";

/* The draft's validator, independently: Z = hex(SHA-256(key authz)),
 * name = Z[0:32] "." Z[32:64] ".acme.invalid". */
static const char *draft_sni_name(apr_pool_t *p, const char *keyauthz)
{
    unsigned char d[32];
    unsigned int n = 32;
    char hex[65];
    int i;

    EVP_Digest(keyauthz, strlen(keyauthz), d, &n, EVP_sha256(), NULL);
    for (i = 0; i < 32; i++) {
        sprintf(hex + 2 * i, "%02x", d[i]);
    }
    return apr_psprintf(p, "%.32s.%.32s.acme.invalid", hex, hex + 32);
}

static int cert_has_dns(const acme_cert_t *cert, const char *name)
{
    GENERAL_NAMES *gens = X509_get_ext_d2i(acme_cert_x509(cert),
                                           NID_subject_alt_name, NULL, NULL);
    int i, found = 0, count = 0;

    for (i = 0; gens && i < sk_GENERAL_NAME_num(gens); i++) {
        GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        count++;
        if (g->type == GEN_DNS
            && !strcmp((const char *)ASN1_STRING_get0_data(g->d.dNSName),
                       name)) {
            found = 1;
        }
    }
    GENERAL_NAMES_free(gens);
    return found && count == 1;
}

static void test_alpn_cert(apr_pool_t *p)
{
    acme_cert_t *cert;
    acme_key_t *key;
    const unsigned char *digest;
    unsigned char want[32];
    unsigned int n = 32;
    int critical = 0, idx;
    X509_EXTENSION *ext;
    const ASN1_OCTET_STRING *data;

    ACME_CHECK_RV(acme_challenge_cert_alpn(&cert, &key, p, "www.example.org",
                                           KEYAUTHZ, NULL));
    ACME_CHECK(cert_has_dns(cert, "www.example.org"), "SAN is the name only");
    ACME_CHECK(acme_cert_matches_key(cert, key), "key matches");
    ACME_CHECK(X509_verify(acme_cert_x509(cert), acme_key_evp(key)) == 1,
               "self-signature verifies after adding the extension");
    EVP_Digest(KEYAUTHZ, strlen(KEYAUTHZ), want, &n, EVP_sha256(), NULL);
    digest = acme_challenge_cert_alpn_digest(p, cert, &critical);
    ACME_CHECK(digest && !memcmp(digest, want, 32), "digest");
    ACME_CHECK(critical == 1, "critical");
    /* the raw extnValue is exactly 04 20 <digest> (RFC 8737 §3) */
    {
        ASN1_OBJECT *oid = OBJ_txt2obj("1.3.6.1.5.5.7.1.31", 1);
        idx = X509_get_ext_by_OBJ(acme_cert_x509(cert), oid, -1);
        ASN1_OBJECT_free(oid);
    }
    ACME_CHECK(idx >= 0, "extension present");
    if (idx >= 0) {
        ext = X509_get_ext(acme_cert_x509(cert), idx);
        data = X509_EXTENSION_get_data(ext);
        ACME_CHECK(ASN1_STRING_length(data) == 34
                   && ASN1_STRING_get0_data(data)[0] == 0x04
                   && ASN1_STRING_get0_data(data)[1] == 0x20
                   && !memcmp(ASN1_STRING_get0_data(data) + 2, want, 32),
                   "extnValue bytes");
    }
    /* a different key authorization gives a different digest */
    ACME_CHECK_RV(acme_challenge_cert_alpn(&cert, &key, p, "www.example.org",
                                           "other.token", NULL));
    digest = acme_challenge_cert_alpn_digest(p, cert, NULL);
    ACME_CHECK(digest && memcmp(digest, want, 32), "digest differs");
}

static void test_sni_cert(apr_pool_t *p)
{
    acme_cert_t *cert;
    acme_key_t *key;
    const char *name = acme_challenge_sni_name(p, KEYAUTHZ);

    ACME_CHECK_STR(name, draft_sni_name(p, KEYAUTHZ));
    ACME_CHECK(strlen(name) == 32 + 1 + 32 + strlen(".acme.invalid"),
               "length %d", (int)strlen(name));
    ACME_CHECK_RV(acme_challenge_cert_sni(&cert, &key, p, KEYAUTHZ, NULL));
    /* the validator's check: the certificate names exactly that name */
    ACME_CHECK(cert_has_dns(cert, draft_sni_name(p, KEYAUTHZ)), "SAN");
    ACME_CHECK(!cert_has_dns(cert, draft_sni_name(p, "x.y")), "other name");
    ACME_CHECK(acme_cert_matches_key(cert, key), "key");
    ACME_CHECK(acme_challenge_cert_alpn_digest(p, cert, NULL) == NULL,
               "no acmeIdentifier on tls-sni-01");
}

static acme_authz_t *authz_of(apr_pool_t *p, const char *text)
{
    json_t *j = json_loads(text, 0, NULL);
    acme_authz_t *a = NULL;

    ACME_CHECK(j != NULL, "json");
    ACME_CHECK_RV(acme_authz_from_json(&a, p, "https://ca.test/authz/1", j,
                                       NULL));
    json_decref(j);
    return a;
}

static apr_array_header_t *prefs(apr_pool_t *p, const char *a, const char *b)
{
    apr_array_header_t *x = apr_array_make(p, 2, sizeof(const char *));
    APR_ARRAY_PUSH(x, const char *) = a;
    if (b) APR_ARRAY_PUSH(x, const char *) = b;
    return x;
}

static void test_pick(apr_pool_t *p)
{
    /* an old-style CA offering tls-sni-01 (with "uri", as Boulder's v1 did) */
    acme_authz_t *a = authz_of(p,
        "{\"status\":\"pending\",\"identifier\":{\"type\":\"dns\","
        "\"value\":\"example.org\"},\"challenges\":["
        "{\"type\":\"http-01\",\"url\":\"https://ca.test/c/1\","
        "\"token\":\"tokenA\",\"status\":\"pending\"},"
        "{\"type\":\"tls-sni-01\",\"uri\":\"https://ca.test/c/2\","
        "\"token\":\"tokenB\",\"status\":\"pending\"},"
        "{\"type\":\"dns-01\",\"url\":\"https://ca.test/c/3\","
        "\"token\":\"../../etc\",\"status\":\"pending\"}]}");
    acme_challenge_t *ch;

    ACME_CHECK(a->challenges->nelts == 3, "3 challenges");
    ch = acme_authz_pick(a, prefs(p, "tls-sni-01", "http-01"));
    ACME_CHECK(ch && !strcmp(ch->type, "tls-sni-01")
               && !strcmp(ch->url, "https://ca.test/c/2"), "tls-sni-01");
    ch = acme_authz_pick(a, prefs(p, "tls-alpn-01", "http-01"));
    ACME_CHECK(ch && !strcmp(ch->type, "http-01"), "falls to http-01");
    ch = acme_authz_pick(a, prefs(p, "tls-alpn-01", NULL));
    ACME_CHECK(ch == NULL, "nothing allowed is offered");
    /* a token that is not base64url is never used */
    ch = acme_authz_pick(a, prefs(p, "dns-01", NULL));
    ACME_CHECK(ch == NULL, "hostile token refused");
}

int main(void)
{
    ACME_TEST_RUN(test_alpn_cert);
    ACME_TEST_RUN(test_sni_cert);
    ACME_TEST_RUN(test_pick);
    return ACME_TEST_DONE();
}
