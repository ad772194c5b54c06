/* Unit tests: src/acme_ari.c (RFC 9773: CertID, renewalInfo parsing,
 * RFC 3339 times, the choice of a renewal time). */
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "acme_test.h"
#include "acme_ari.h"
#include "acme_cert.h"

/* RFC 9773 Appendix A: the example certificate, whose CertID is given in
 * §4.1 as "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE" (AKI keyIdentifier
 * 69:88:5B:...:C8:D4, serial 0x00 87 65 43 21). Its validity dates are in
 * the year 1; nothing here looks at them. */
static const char rfc9773_cert[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBQzCB66ADAgECAgUAh2VDITAKBggqhkjOPQQDAjAVMRMwEQYDVQQDEwpFeGFt\n"
    "cGxlIENBMCIYDzAwMDEwMTAxMDAwMDAwWhgPMDAwMTAxMDEwMDAwMDBaMBYxFDAS\n"
    "BgNVBAMTC2V4YW1wbGUuY29tMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEeBZu\n"
    "7cbpAYNXZLbbh8rNIzuOoqOOtmxA1v7cRm//AwyMwWxyHz4zfwmBhcSrf47NUAFf\n"
    "qzLQ2PPQxdTXREYEnKMjMCEwHwYDVR0jBBgwFoAUaYhba4dGQEHhs3uEe6CuLN4B\n"
    "yNQwCgYIKoZIzj0EAwIDRwAwRAIge09+S5TZAlw5tgtiVvuERV6cT4mfutXIlwTb\n"
    "+FYN/8oCIClDsqBklhB9KAelFiYt9+6FDj3z4KGVelYM5MdsO3pK\n"
    "-----END CERTIFICATE-----\n";

#define HOUR apr_time_from_sec(3600)
#define DAY  apr_time_from_sec(86400)

static apr_time_t T(const char *s)
{
    apr_time_t t = 0;

    ACME_CHECK(acme_ari_parse_time(&t, s) == APR_SUCCESS, "parse %s", s);
    return t;
}

static void test_cert_id_rfc_example(apr_pool_t *p)
{
    apr_array_header_t *certs;
    const char *id = NULL;
    acme_err_t err;

    acme_err_clear(&err);
    ACME_CHECK_RV(acme_chain_parse(&certs, p, rfc9773_cert,
                                   sizeof(rfc9773_cert) - 1, &err));
    if (!certs || !certs->nelts) {
        return;
    }
    ACME_CHECK_RV(acme_ari_cert_id(&id, p, APR_ARRAY_IDX(certs, 0,
                                                         acme_cert_t *),
                                   &err));
    ACME_CHECK_STR(id, "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE");
}

/* A signed certificate with the given serial (big-endian bytes) and, when
 * kid is not NULL, an Authority Key Identifier with that keyIdentifier. */
static acme_cert_t *make_cert(apr_pool_t *p, const unsigned char *serial,
                              int slen, const unsigned char *kid, int klen)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    BIGNUM *bn = BN_bin2bn(serial, slen, NULL);
    ASN1_INTEGER *sn = BN_to_ASN1_INTEGER(bn, NULL);
    X509_NAME *name = X509_NAME_new();

    X509_set_version(x, 2);
    X509_set_serialNumber(x, sn);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               (const unsigned char *)"ari.test", -1, -1, 0);
    X509_set_subject_name(x, name);
    X509_set_issuer_name(x, name);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    X509_set_pubkey(x, key);
    if (kid) {
        AUTHORITY_KEYID *akid = AUTHORITY_KEYID_new();
        akid->keyid = ASN1_OCTET_STRING_new();
        ASN1_OCTET_STRING_set(akid->keyid, kid, klen);
        X509_add1_ext_i2d(x, NID_authority_key_identifier, akid, 0, 0);
        AUTHORITY_KEYID_free(akid);
    }
    ACME_CHECK(X509_sign(x, key, EVP_sha256()) > 0, "sign");
    X509_NAME_free(name);
    ASN1_INTEGER_free(sn);
    BN_free(bn);
    EVP_PKEY_free(key);
    return acme_cert_wrap(p, x);
}

static void test_cert_id_serials(apr_pool_t *p)
{
    static const unsigned char kid[] = { 0x01, 0x02, 0x03, 0xfe, 0xff };
    static const unsigned char high[] = { 0x80, 0x01, 0x02 };
    static const unsigned char low[] = { 0x01 };
    static const unsigned char low2[] = { 0x7f, 0xff };
    const char *id = NULL;

    /* high bit set: the DER content starts with 0x00 */
    ACME_CHECK_RV(acme_ari_cert_id(&id, p, make_cert(p, high, 3, kid, 5),
                                   NULL));
    ACME_CHECK_STR(id, "AQID_v8.AIABAg");
    ACME_CHECK_RV(acme_ari_cert_id(&id, p, make_cert(p, low, 1, kid, 5),
                                   NULL));
    ACME_CHECK_STR(id, "AQID_v8.AQ");
    ACME_CHECK_RV(acme_ari_cert_id(&id, p, make_cert(p, low2, 2, kid, 5),
                                   NULL));
    ACME_CHECK_STR(id, "AQID_v8.f_8");
}

static void test_cert_id_no_aki(apr_pool_t *p)
{
    static const unsigned char sn[] = { 0x42 };
    const char *id = "unset";
    acme_err_t err;

    acme_err_clear(&err);
    ACME_CHECK(acme_ari_cert_id(&id, p, make_cert(p, sn, 1, NULL, 0), &err)
               == ACME_EINVAL, "no AKI must fail");
    ACME_CHECK(id == NULL, "no id");
    ACME_CHECK(err.msg && strstr(err.msg, "Authority Key Identifier"),
               "message: %s", err.msg ? err.msg : "(null)");
}

static void test_time_parse(apr_pool_t *p)
{
    apr_time_t base = T("2025-01-02T04:00:00Z"), t;

    ACME_CHECK(base == apr_time_from_sec(1735790400), "epoch %"
               APR_TIME_T_FMT, apr_time_sec(base));
    ACME_CHECK(T("2025-01-02t04:00:00z") == base, "lowercase t/z");
    ACME_CHECK(T("2025-01-02 04:00:00Z") == base, "space separator");
    ACME_CHECK(T("2025-01-02T06:30:00+02:30") == base, "positive offset");
    ACME_CHECK(T("2025-01-01T23:00:00-05:00") == base, "negative offset");
    ACME_CHECK(T("2025-01-02T04:00:00+00:00") == base, "+00:00");
    ACME_CHECK(T("2025-01-02T04:00:00.5Z") == base + 500000, "fraction .5");
    ACME_CHECK(T("2025-01-02T04:00:00.123456Z") == base + 123456,
               "fraction 6 digits");
    ACME_CHECK(T("2025-01-02T04:00:00.1234567891Z") == base + 123456,
               "fraction 10 digits truncated");
    ACME_CHECK(T("2024-02-29T00:00:00Z") == apr_time_from_sec(1709164800),
               "leap day");
    ACME_CHECK(T("2025-01-02T04:00:00.000-01:00") == base + HOUR,
               "fraction with offset");

    ACME_CHECK(acme_ari_parse_time(&t, "2025-01-02T04:00:00") == ACME_EINVAL,
               "no zone");
    ACME_CHECK(acme_ari_parse_time(&t, "2025-01-02") == ACME_EINVAL, "date");
    ACME_CHECK(acme_ari_parse_time(&t, "2025-13-02T04:00:00Z") == ACME_EINVAL,
               "month 13");
    ACME_CHECK(acme_ari_parse_time(&t, "2025-02-29T04:00:00Z") == ACME_EINVAL,
               "not a leap year");
    ACME_CHECK(acme_ari_parse_time(&t, "2025-01-02T24:00:00Z") == ACME_EINVAL,
               "hour 24");
    ACME_CHECK(acme_ari_parse_time(&t, "2025-01-02T04:00:00.Z") == ACME_EINVAL,
               "empty fraction");
    ACME_CHECK(acme_ari_parse_time(&t, "2025-01-02T04:00:00Zx") == ACME_EINVAL,
               "trailing text");
    ACME_CHECK(acme_ari_parse_time(&t, "2025-01-02T04:00:00+0200")
               == ACME_EINVAL, "offset without colon");
    ACME_CHECK(acme_ari_parse_time(&t, "+025-01-02T04:00:00Z") == ACME_EINVAL,
               "sign in year");
    ACME_CHECK(acme_ari_parse_time(&t, "") == ACME_EINVAL, "empty");
    ACME_CHECK(acme_ari_parse_time(&t, NULL) == ACME_EINVAL, "NULL");
    ACME_CHECK_STR(acme_ari_format_time(p, base), "2025-01-02T04:00:00Z");
}

static apr_status_t parse(acme_ari_window_t *w, apr_pool_t *p,
                          const char *body, acme_err_t *err)
{
    acme_err_clear(err);
    memset(w, 0, sizeof(*w));
    return acme_ari_parse(w, p, body, strlen(body), err);
}

static void test_parse_window(apr_pool_t *p)
{
    acme_ari_window_t w;
    acme_err_t err;

    ACME_CHECK_RV(parse(&w, p, "{\"suggestedWindow\":{\"start\":"
                        "\"2025-01-02T04:00:00Z\",\"end\":"
                        "\"2025-01-03T04:00:00Z\"},\"explanationURL\":"
                        "\"https://acme.example.com/docs/ari\"}", &err));
    ACME_CHECK(w.start == T("2025-01-02T04:00:00Z"), "start");
    ACME_CHECK(w.end == T("2025-01-03T04:00:00Z"), "end");
    ACME_CHECK_STR(w.explanation_url, "https://acme.example.com/docs/ari");

    ACME_CHECK_RV(parse(&w, p, "{\"suggestedWindow\":{\"start\":"
                        "\"2025-01-02T04:00:00.25+01:00\",\"end\":"
                        "\"2025-01-02T04:00:01Z\"}}", &err));
    ACME_CHECK(w.explanation_url == NULL, "no explanation");
    ACME_CHECK(w.end - w.start == HOUR + apr_time_from_sec(1) - 250000,
               "offset window");
}

static void test_parse_rejects(apr_pool_t *p)
{
    static const struct {
        const char *body, *want;
    } bad[] = {
        { "", "not a JSON object" },
        { "{\"suggestedWindow\":", "not a JSON object" },
        { "[1,2]", "not a JSON object" },
        { "{}", "no suggestedWindow" },
        { "{\"suggestedWindow\":\"soon\"}", "no suggestedWindow" },
        { "{\"suggestedWindow\":{\"end\":\"2025-01-03T04:00:00Z\"}}",
          "lacks a start" },
        { "{\"suggestedWindow\":{\"start\":\"2025-01-03T04:00:00Z\"}}",
          "lacks an end" },
        { "{\"suggestedWindow\":{\"start\":1,\"end\":2}}", "lacks a start" },
        { "{\"suggestedWindow\":{\"start\":\"tomorrow\","
          "\"end\":\"2025-01-03T04:00:00Z\"}}", "start 'tomorrow'" },
        { "{\"suggestedWindow\":{\"start\":\"2025-01-03T04:00:00Z\","
          "\"end\":\"2025-01-03\"}}", "end '2025-01-03'" },
        { "{\"suggestedWindow\":{\"start\":\"2025-01-03T04:00:00Z\","
          "\"end\":\"2025-01-03T04:00:00Z\"}}", "before it starts" },
        { "{\"suggestedWindow\":{\"start\":\"2025-01-03T04:00:00Z\","
          "\"end\":\"2025-01-02T04:00:00Z\"}}", "before it starts" },
    };
    acme_ari_window_t w;
    acme_err_t err;
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ACME_CHECK(parse(&w, p, bad[i].body, &err) == ACME_EPROTO,
                   "accepted: %s", bad[i].body);
        ACME_CHECK(err.msg && strstr(err.msg, bad[i].want),
                   "%s: message '%s' lacks '%s'", bad[i].body,
                   err.msg ? err.msg : "(null)", bad[i].want);
    }
}

static void test_choose_bounds(apr_pool_t *p)
{
    acme_ari_window_t w;
    apr_time_t now = apr_time_now(), t, min, max;
    int i, n = 20000, buckets[10] = { 0 }, bad = 0, empty = 0;

    w.start = now + DAY;
    w.end = w.start + 10 * HOUR;
    min = w.end;
    max = w.start;
    for (i = 0; i < n; i++) {
        if (acme_ari_choose(&t, &w, now, p, NULL) != APR_SUCCESS
            || t < w.start || t >= w.end) {
            bad++;
            continue;
        }
        if (t < min) min = t;
        if (t > max) max = t;
        buckets[(t - w.start) / HOUR]++;
    }
    ACME_CHECK(bad == 0, "%d draws outside [start, end)", bad);
    for (i = 0; i < 10; i++) {
        /* expected 2000 per hour; 1600..2400 is > 8 sigma */
        if (buckets[i] < 1600 || buckets[i] > 2400) {
            empty++;
        }
    }
    ACME_CHECK(empty == 0, "uneven spread over the window's hours");
    ACME_CHECK(min - w.start < apr_time_from_sec(60)
               && w.end - max < apr_time_from_sec(60),
               "draws do not reach both ends");

    /* a one-microsecond window has a single possible time */
    w.end = w.start + 1;
    for (bad = 0, i = 0; i < 100; i++) {
        if (acme_ari_choose(&t, &w, now, p, NULL) != APR_SUCCESS
            || t != w.start) {
            bad++;
        }
    }
    ACME_CHECK(bad == 0, "tiny window: %d draws not at start", bad);
}

static void test_choose_past(apr_pool_t *p)
{
    acme_ari_window_t w;
    apr_time_t now = apr_time_now(), t;
    int i, bad = 0, at_now = 0;

    /* wholly in the past: renew now */
    w.start = now - 3 * DAY;
    w.end = now - DAY;
    for (i = 0; i < 100; i++) {
        if (acme_ari_choose(&t, &w, now, p, NULL) != APR_SUCCESS
            || t != now) {
            bad++;
        }
    }
    ACME_CHECK(bad == 0, "past window: %d draws not now", bad);
    /* straddling now: never before now, never at/after end; about half
     * of the draws fall in the past half and become now */
    w.start = now - DAY;
    w.end = now + DAY;
    for (i = 0; i < 1000; i++) {
        if (acme_ari_choose(&t, &w, now, p, NULL) != APR_SUCCESS
            || t < now || t >= w.end) {
            bad++;
        }
        at_now += t == now;
    }
    ACME_CHECK(bad == 0, "straddling window: %d bad draws", bad);
    ACME_CHECK(at_now > 350 && at_now < 650, "%d of 1000 at now", at_now);
}

static void test_choose_rejects(apr_pool_t *p)
{
    acme_ari_window_t w;
    apr_time_t t;
    acme_err_t err;

    acme_err_clear(&err);
    w.start = w.end = apr_time_now();
    ACME_CHECK(acme_ari_choose(&t, &w, w.start, p, &err) == ACME_EINVAL,
               "empty window");
    w.end = w.start - 1;
    ACME_CHECK(acme_ari_choose(&t, &w, w.start, p, &err) == ACME_EINVAL,
               "inverted window");
    ACME_CHECK(err.msg != NULL, "message");
}

static void test_retry_clamp(apr_pool_t *p)
{
    ACME_CHECK(acme_ari_clamp_retry(0, 0) == apr_time_from_sec(21600),
               "absent: 6 h");
    ACME_CHECK(acme_ari_clamp_retry(apr_time_from_sec(5), 0)
               == apr_time_from_sec(21600), "not present: 6 h");
    ACME_CHECK(acme_ari_clamp_retry(0, 1) == apr_time_from_sec(60),
               "0 s: 1 min");
    ACME_CHECK(acme_ari_clamp_retry(apr_time_from_sec(5), 1)
               == apr_time_from_sec(60), "5 s: 1 min");
    ACME_CHECK(acme_ari_clamp_retry(apr_time_from_sec(3600), 1)
               == apr_time_from_sec(3600), "1 h kept");
    ACME_CHECK(acme_ari_clamp_retry(apr_time_from_sec(7 * 86400), 1)
               == apr_time_from_sec(86400), "a week: 1 day");
}

int main(void)
{
    ACME_TEST_RUN(test_cert_id_rfc_example);
    ACME_TEST_RUN(test_cert_id_serials);
    ACME_TEST_RUN(test_cert_id_no_aki);
    ACME_TEST_RUN(test_time_parse);
    ACME_TEST_RUN(test_parse_window);
    ACME_TEST_RUN(test_parse_rejects);
    ACME_TEST_RUN(test_choose_bounds);
    ACME_TEST_RUN(test_choose_past);
    ACME_TEST_RUN(test_choose_rejects);
    ACME_TEST_RUN(test_retry_clamp);
    return ACME_TEST_DONE();
}
