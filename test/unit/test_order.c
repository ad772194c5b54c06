/* Unit tests: src/engine/acme_order.c against the scripted CA
 * (scripted_ca.h): newOrder (identifiers, profile, replaces, a missing
 * Location, alreadyReplaced), authorizations and their polls (valid,
 * invalid with the challenge's error, Retry-After, timeout), finalize
 * (processing, orderNotReady in its three outcomes, invalid, timeout),
 * the certificate download with alternates, and revocation. */
#include "acme_test.h"
#include "scripted_ca.h"
#include "acme_csr.h"
#include "acme_order.h"
#include "acme_problem.h"

static int contains(const char *s, const char *part)
{
    return s && strstr(s, part) != NULL;
}

static apr_array_header_t *names_of(apr_pool_t *p, const char *csv)
{
    apr_array_header_t *a = apr_array_make(p, 2, sizeof(const char *));
    char *last = NULL, *s = apr_pstrdup(p, csv), *t;

    for (t = apr_strtok(s, ",", &last); t; t = apr_strtok(NULL, ",", &last)) {
        APR_ARRAY_PUSH(a, const char *) = t;
    }
    return a;
}

static acme_client_t *loaded(sca_t *ca, apr_pool_t *p)
{
    acme_client_t *c = sca_client(ca, p, 1);

    ACME_CHECK_RV(acme_client_load_directory(c, NULL));
    return c;
}

/* An order for names whose authorizations are all answered and valid. */
static acme_order_t *ready_order(sca_t *ca, acme_client_t *c, apr_pool_t *p,
                                 const char *names)
{
    apr_array_header_t *n = names_of(p, names);
    acme_order_t *o = NULL;
    int i;

    for (i = 0; i < n->nelts; i++) {
        sca_name_status(ca, APR_ARRAY_IDX(n, i, const char *), "valid");
    }
    ACME_CHECK_RV(acme_order_new(&o, c, p, n, NULL, NULL, NULL));
    return o;
}

/* The CSR for names with a fresh key. */
static const unsigned char *csr_for(apr_pool_t *p, const char *names,
                                    apr_size_t *plen)
{
    acme_key_t *key = NULL;
    const unsigned char *der = NULL;

    ACME_CHECK_RV(acme_key_generate(&key, p, ACME_KEY_EC256, NULL));
    ACME_CHECK_RV(acme_csr_make(&der, plen, p, key, names_of(p, names), 0,
                                NULL));
    return der;
}

static void test_new_order(apr_pool_t *p)
{
    sca_t *ca = sca_create(p, NULL);
    acme_client_t *c = loaded(ca, p);
    acme_order_t *o = NULL;
    json_t *pl, *ids;
    acme_err_t err;

    ACME_CHECK_RV(acme_order_new(&o, c, p, names_of(p, "a.test,192.0.2.7"),
                                 "classic", "aYhba4dGQEHhs3uEe6CuLN4ByNQ."
                                 "AIdlQyE", &err));
    ACME_CHECK_STR(o->url, SCA_BASE "/order/1");
    ACME_CHECK_STR(o->status, "pending");
    ACME_CHECK_STR(o->finalize_url, SCA_BASE "/finalize/1");
    ACME_CHECK(o->authz_urls->nelts == 2, "%d authorizations",
               o->authz_urls->nelts);
    pl = sca_last(ca, "/new-order")->payload;
    ids = json_object_get(pl, "identifiers");
    ACME_CHECK_STR(json_string_value(json_object_get(json_array_get(ids, 0),
                                                     "type")), "dns");
    ACME_CHECK_STR(json_string_value(json_object_get(json_array_get(ids, 1),
                                                     "type")), "ip");
    ACME_CHECK_STR(json_string_value(json_object_get(json_array_get(ids, 1),
                                                     "value")), "192.0.2.7");
    ACME_CHECK_STR(json_string_value(json_object_get(pl, "profile")),
                   "classic");
    ACME_CHECK_STR(json_string_value(json_object_get(pl, "replaces")),
                   "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE");
    ACME_CHECK_RV(acme_order_new(&o, c, p, names_of(p, "b.test"), NULL, NULL,
                                 &err));
    pl = sca_last(ca, "/new-order")->payload;
    ACME_CHECK(!json_object_get(pl, "profile")
               && !json_object_get(pl, "replaces"), "none sent unasked");
    SCA_CHECK_CLEAN(ca);
}

static void test_new_order_errors(apr_pool_t *p)
{
    sca_t *ca = sca_create(p, NULL);
    acme_client_t *c = loaded(ca, p);
    acme_order_t *o = NULL;
    acme_err_t err;
    sca_answer_t *a;

    sca_push_problem(ca, "/new-order", 409, "alreadyReplaced",
                     "certificate already replaced");
    ACME_CHECK(acme_order_new(&o, c, p, names_of(p, "a.test,b.test"), NULL,
                              "xyz.abc", &err) == ACME_EPROBLEM
               && acme_problem_is(&err, "alreadyReplaced")
               && contains(err.msg, "new order for a.test, b.test")
               && contains(err.msg, "certificate already replaced"),
               "%s", err.msg);
    a = sca_push(ca, "/new-order", -1, NULL);
    a->run_default = 1;
    a->drop_header = "location";
    ACME_CHECK(acme_order_new(&o, c, p, names_of(p, "a.test"), NULL, NULL,
                              &err) == ACME_EPROTO
               && contains(err.msg, "without a Location"), "%s", err.msg);
    a = sca_push(ca, "/new-order", -1, "{\"status\":\"pending\"}");
    a->run_default = 1;
    ACME_CHECK(acme_order_new(&o, c, p, names_of(p, "a.test"), NULL, NULL,
                              &err) == ACME_EPROTO
               && contains(err.msg, "no status or finalize URL"), "%s",
               err.msg);
    sca_push(ca, "/new-order", 201, "{oops");
    ACME_CHECK(acme_order_new(&o, c, p, names_of(p, "a.test"), NULL, NULL,
                              &err) == ACME_EPROTO
               && contains(err.msg, "malformed JSON"), "%s", err.msg);
    SCA_CHECK_CLEAN(ca);
}

static apr_array_header_t *prefs_of(apr_pool_t *p, const char *csv)
{
    return names_of(p, csv);
}

static void test_authz_valid(apr_pool_t *p)
{
    sca_t *ca = sca_create(p, NULL);
    acme_client_t *c = loaded(ca, p);
    acme_order_t *o = NULL;
    acme_authz_t *a = NULL;
    acme_challenge_t *ch;
    acme_err_t err;
    sca_answer_t *ans;

    ACME_CHECK_RV(acme_order_new(&o, c, p, names_of(p, "*.w.test"), NULL,
                                 NULL, &err));
    ACME_CHECK_RV(acme_authz_fetch(&a, c, p, APR_ARRAY_IDX(o->authz_urls, 0,
                                                           const char *),
                                   &err));
    ACME_CHECK(a->wildcard && !strcmp(a->id_value, "w.test"), "wildcard");
    ACME_CHECK(!acme_authz_pick(a, prefs_of(p, "http-01")), "no http-01");
    ch = acme_authz_pick(a, prefs_of(p, "http-01,dns-01"));
    ACME_CHECK(ch && !strcmp(ch->type, "dns-01"), "dns-01 picked");
    ACME_CHECK_RV(acme_challenge_prepare(ch, c, p));
    ACME_CHECK(contains(ch->keyauthz, "tok_1_dns-01.") && ch->dns_value,
               "key authorization %s", ch->keyauthz);
    ACME_CHECK_RV(acme_challenge_respond(c, p, ch, &err));
    a->responded = apr_time_now();
    ACME_CHECK_RV(acme_authz_poll(a, c, p, &err));
    ACME_CHECK_STR(a->status, "valid");
    ACME_CHECK(c->took_authz > 0, "validation time learned");

    /* pending twice, the second with Retry-After */
    ACME_CHECK_RV(acme_order_new(&o, c, p, names_of(p, "b.test"), NULL,
                                 NULL, &err));
    ACME_CHECK_RV(acme_authz_fetch(&a, c, p, SCA_BASE "/authz/2", &err));
    ch = acme_authz_pick(a, prefs_of(p, "http-01"));
    ca->pending_polls = 2;
    ACME_CHECK_RV(acme_challenge_respond(c, p, ch, &err));
    ans = sca_push(ca, "/authz/2", -1, NULL);
    ans->run_default = 1;
    sca_answer_header(ca, ans, "Retry-After", "1");
    ACME_CHECK_RV(acme_authz_poll(a, c, p, &err));
    ACME_CHECK(sca_count(ca, "/authz/2") == 4, "%d authz requests",
               sca_count(ca, "/authz/2"));
    SCA_CHECK_CLEAN(ca);
}

static void test_authz_invalid(apr_pool_t *p)
{
    sca_t *ca = sca_create(p, NULL);
    acme_client_t *c = loaded(ca, p);
    acme_order_t *o = NULL;
    acme_authz_t *a = NULL;
    acme_challenge_t *ch;
    acme_err_t err;

    sca_name_fails(ca, "bad.test", "Invalid response from "
                   "http://bad.test/.well-known/acme-challenge/x: 404");
    ACME_CHECK_RV(acme_order_new(&o, c, p, names_of(p, "bad.test"), NULL,
                                 NULL, &err));
    ACME_CHECK_RV(acme_authz_fetch(&a, c, p, APR_ARRAY_IDX(
        o->authz_urls, 0, const char *), &err));
    ch = acme_authz_pick(a, prefs_of(p, "http-01"));
    ACME_CHECK_RV(acme_challenge_respond(c, p, ch, &err));
    ACME_CHECK(acme_authz_poll(a, c, p, &err) == ACME_ECHALLENGE, "invalid");
    ACME_CHECK(contains(err.msg, "authorization for bad.test is invalid: "
                        "http-01 challenge: unauthorized: Invalid response "
                        "from http://bad.test/"), "%s", err.msg);
    ACME_CHECK_STR(a->status, "invalid");

    /* still pending at the deadline */
    ACME_CHECK_RV(acme_authz_fetch(&a, c, p, SCA_BASE "/authz/1", &err));
    APR_ARRAY_IDX(ca->authzs, 0, sca_authz_t *)->status = "pending";
    c->poll_timeout = apr_time_from_msec(20);
    ACME_CHECK(acme_authz_poll(a, c, p, &err) == ACME_ETIMEOUT
               && contains(err.msg, "bad.test still pending"), "%s",
               err.msg);
    /* the CA fails the poll */
    sca_push_problem(ca, "/authz/1", 500, "serverInternal", "oops");
    ACME_CHECK(acme_authz_poll(a, c, p, &err) == ACME_EPROBLEM, "%s",
               err.msg);
    /* and the answer */
    sca_push_problem(ca, "/chal/1/http-01", 400, "malformed", "no thanks");
    ACME_CHECK(acme_challenge_respond(c, p, ch, &err) == ACME_EPROBLEM
               && contains(err.msg, "responding to the http-01 challenge")
               && contains(err.msg, "no thanks"), "%s", err.msg);
    SCA_CHECK_CLEAN(ca);
}

static void test_authz_from_json(apr_pool_t *p)
{
    acme_authz_t *a = NULL;
    acme_err_t err;
    json_t *j;

    j = json_pack("{s:{s:s, s:s}}", "identifier", "type", "dns", "value",
                  "x.test");
    ACME_CHECK(acme_authz_from_json(&a, p, SCA_BASE "/authz/9", j, &err)
               == ACME_EPROTO && contains(err.msg, "no status"), "%s",
               err.msg);
    json_decref(j);
    /* a pre-RFC "uri", a challenge without a URL, a token that is not
     * base64url */
    j = json_pack("{s:s, s:{s:s, s:s}, s:[{s:s, s:s, s:s}, {s:s, s:s},"
                  " {s:s, s:s, s:s}]}", "status", "pending",
                  "identifier", "type", "dns", "value", "x.test",
                  "challenges", "type", "http-01", "uri", SCA_BASE "/c/1",
                  "token", "ab/../cd", "type", "dns-01", "token", "tok",
                  "type", "tls-alpn-01", "url", SCA_BASE "/c/3",
                  "token", "good_token");
    ACME_CHECK_RV(acme_authz_from_json(&a, p, SCA_BASE "/authz/9", j, &err));
    json_decref(j);
    ACME_CHECK(a->challenges->nelts == 2, "%d challenges",
               a->challenges->nelts);
    ACME_CHECK_STR(APR_ARRAY_IDX(a->challenges, 0, acme_challenge_t *)->url,
                   SCA_BASE "/c/1");
    ACME_CHECK(!acme_authz_pick(a, prefs_of(p, "http-01,dns-01")),
               "a token with a slash is refused");
    ACME_CHECK(acme_authz_pick(a, prefs_of(p, "http-01,tls-alpn-01")) != NULL,
               "tls-alpn-01");
}

static void test_finalize_simple(apr_pool_t *p)
{
    sca_t *ca = sca_create(p, NULL);
    acme_client_t *c = loaded(ca, p);
    acme_order_t *o = ready_order(ca, c, p, "a.test,www.a.test");
    const unsigned char *csr;
    apr_array_header_t *alts = NULL, *certs;
    const char *pem = NULL;
    apr_size_t len = 0;
    acme_err_t err;

    ACME_CHECK_STR(o->status, "ready");
    csr = csr_for(p, "a.test,www.a.test", &len);
    ca->processing_polls = 2;
    ca->alternates = 1;
    ACME_CHECK_RV(acme_order_finalize(o, c, p, csr, len, &err));
    ACME_CHECK_STR(o->status, "valid");
    ACME_CHECK_STR(o->certificate_url, SCA_BASE "/cert/1");
    ACME_CHECK(sca_count(ca, "/order/1") == 3, "%d order polls",
               sca_count(ca, "/order/1"));
    ACME_CHECK(c->took_order > 0, "issuing time learned");
    ACME_CHECK_RV(acme_cert_download(&pem, &alts, c, p, o->certificate_url,
                                     &err));
    ACME_CHECK(alts && alts->nelts == 1, "one alternate");
    ACME_CHECK_STR(APR_ARRAY_IDX(alts, 0, const char *),
                   SCA_BASE "/cert/1/alt");
    ACME_CHECK_RV(acme_chain_parse(&certs, p, pem, strlen(pem), &err));
    ACME_CHECK(certs->nelts == 2, "leaf and intermediate");
    ACME_CHECK_STR(acme_cert_issuer_cn(p, APR_ARRAY_IDX(certs, 1,
                                                        acme_cert_t *)),
                   SCA_ROOT_CN);
    sca_push_problem(ca, "/cert/1", 404, "malformed", "gone");
    ACME_CHECK(acme_cert_download(&pem, NULL, c, p, o->certificate_url, &err)
               != APR_SUCCESS && contains(err.msg, "downloading the "
                                          "certificate")
               && contains(err.msg, "gone"), "%s", err.msg);
    SCA_CHECK_CLEAN(ca);
}

static void test_finalize_retry_after(apr_pool_t *p)
{
    sca_t *ca = sca_create(p, NULL);
    acme_client_t *c = loaded(ca, p);
    acme_order_t *o = ready_order(ca, c, p, "a.test");
    const unsigned char *csr;
    apr_size_t len = 0;
    acme_err_t err;
    sca_answer_t *a;

    csr = csr_for(p, "a.test", &len);
    ca->processing_polls = 1;
    a = sca_push(ca, "/finalize/1", -1, NULL);
    a->run_default = 1;
    sca_answer_header(ca, a, "Retry-After", "1");
    ACME_CHECK_RV(acme_order_finalize(o, c, p, csr, len, &err));
    ACME_CHECK_STR(o->status, "valid");
    ACME_CHECK(contains(json_string_value(json_object_get(
        sca_last(ca, "/finalize/1")->payload, "csr")),
        acme_b64url_encode(p, csr, len)), "the CSR is sent as base64url");
    SCA_CHECK_CLEAN(ca);
}

static void test_finalize_not_ready(apr_pool_t *p)
{
    sca_t *ca = sca_create(p, NULL);
    acme_client_t *c = loaded(ca, p);
    acme_order_t *o = ready_order(ca, c, p, "a.test");
    const unsigned char *csr;
    apr_size_t len = 0;
    acme_err_t err;
    sca_answer_t *a;

    csr = csr_for(p, "a.test", &len);
    /* not ready, but ready when fetched: finalized once more */
    sca_push_problem(ca, "/finalize/1", 403, "orderNotReady", "lagging");
    ACME_CHECK_RV(acme_order_finalize(o, c, p, csr, len, &err));
    ACME_CHECK(sca_count(ca, "/finalize/1") == 2, "finalized twice");
    ACME_CHECK_STR(o->status, "valid");

    /* not ready, yet the CSR was taken: processing, polled */
    o = ready_order(ca, c, p, "a.test");
    ca->processing_polls = 1;
    a = sca_push_problem(ca, "/finalize/2", 403, "orderNotReady", "busy");
    a->run_default = 1;
    ACME_CHECK_RV(acme_order_finalize(o, c, p, csr, len, &err));
    ACME_CHECK(sca_count(ca, "/finalize/2") == 1, "finalized once");
    ACME_CHECK_STR(o->status, "valid");

    /* not ready and still pending: reported */
    ACME_CHECK_RV(acme_order_new(&o, c, p, names_of(p, "p.test"), NULL,
                                 NULL, &err));
    ACME_CHECK(acme_order_finalize(o, c, p, csr, len, &err) == ACME_EPROBLEM
               && contains(err.msg, "the order is pending after validation"),
               "%s", err.msg);
    /* not ready and the order cannot be read: finalize's error */
    sca_push_problem(ca, "/order/3", 500, "serverInternal", "db down");
    ACME_CHECK(acme_order_finalize(o, c, p, csr, len, &err) == ACME_EPROBLEM
               && acme_problem_is(&err, "orderNotReady")
               && contains(err.msg, "finalizing the order"), "%s", err.msg);
    SCA_CHECK_CLEAN(ca);
}

static void test_finalize_failures(apr_pool_t *p)
{
    sca_t *ca = sca_create(p, NULL);
    acme_client_t *c = loaded(ca, p);
    acme_order_t *o = ready_order(ca, c, p, "a.test");
    const unsigned char *csr;
    apr_size_t len = 0;
    acme_err_t err;

    csr = csr_for(p, "a.test", &len);
    sca_push_problem(ca, "/finalize/1", 503, "serverInternal", "overload");
    ACME_CHECK(acme_order_finalize(o, c, p, csr, len, &err) == ACME_EPROBLEM
               && contains(err.msg, "finalizing the order: ")
               && contains(err.msg, "overload"), "%s", err.msg);
    /* processing, then invalid with the CA's reason */
    ca->processing_polls = 5;
    sca_push(ca, "/order/1", 200, NULL)->run_default = 1;
    sca_push(ca, "/order/1", 200, sca_order_body(ca, 1, "invalid",
                                                 "badCSR", "key too weak",
                                                 NULL));
    ACME_CHECK(acme_order_finalize(o, c, p, csr, len, &err) == ACME_EPROBLEM
               && contains(err.msg, "the CA marked the order invalid: "
                           "badCSR: key too weak"), "%s", err.msg);
    /* processing for too long */
    o = ready_order(ca, c, p, "a.test");
    ca->processing_polls = 100000;
    c->poll_timeout = apr_time_from_msec(30);
    ACME_CHECK(acme_order_finalize(o, c, p, csr, len, &err) == ACME_ETIMEOUT
               && contains(err.msg, "still processing after"), "%s",
               err.msg);
    /* the poll fails */
    o = ready_order(ca, c, p, "a.test");
    c->poll_timeout = apr_time_from_sec(5);
    sca_push(ca, "/order/3", 200, "not json");
    ACME_CHECK(acme_order_finalize(o, c, p, csr, len, &err) == ACME_EPROTO
               && contains(err.msg, "malformed JSON"), "%s", err.msg);
    /* valid without a certificate URL */
    o = ready_order(ca, c, p, "a.test");
    ca->processing_polls = 0;
    sca_push(ca, "/finalize/4", -1, sca_order_body(ca, 4, "valid", NULL,
                                                   NULL, "certificate"))
        ->run_default = 1;
    ACME_CHECK(acme_order_finalize(o, c, p, csr, len, &err) == ACME_EPROTO
               && contains(err.msg, "valid but has no certificate URL"),
               "%s", err.msg);
    SCA_CHECK_CLEAN(ca);
}

static void test_revoke(apr_pool_t *p)
{
    sca_t *ca = sca_create(p, NULL);
    acme_client_t *c = loaded(ca, p);
    acme_key_t *ckey = NULL;
    acme_cert_t *cert = NULL;
    const unsigned char *der;
    unsigned char *buf = NULL;
    int len;
    acme_err_t err;

    ACME_CHECK_RV(acme_key_generate(&ckey, p, ACME_KEY_EC256, NULL));
    ACME_CHECK_RV(acme_cert_self_signed(&cert, p, ckey, names_of(p, "r.test"),
                                        apr_time_from_sec(3600), &err));
    len = i2d_X509(acme_cert_x509(cert), &buf);
    der = (const unsigned char *)apr_pmemdup(p, buf, (apr_size_t)len);
    OPENSSL_free(buf);
    ACME_CHECK_RV(acme_cert_revoke(c, p, der, (apr_size_t)len, 4, NULL,
                                   &err));
    ACME_CHECK(json_integer_value(json_object_get(
        sca_last(ca, "/revoke")->payload, "reason")) == 4, "reason sent");
    ACME_CHECK(json_object_get(sca_last(ca, "/revoke")->protected, "kid")
               != NULL, "by the account");
    ACME_CHECK_RV(acme_cert_revoke(c, p, der, (apr_size_t)len, 0, ckey,
                                   &err));
    ACME_CHECK(json_object_get(sca_last(ca, "/revoke")->protected, "jwk")
               != NULL, "by the certificate's key");
    c->url_revoke_cert = NULL;
    ACME_CHECK(acme_cert_revoke(c, p, der, (apr_size_t)len, 0, NULL, &err)
               == ACME_EPROTO && contains(err.msg, "no revokeCert"), "%s",
               err.msg);
    SCA_CHECK_CLEAN(ca);
}

int main(void)
{
    ACME_TEST_RUN(test_new_order);
    ACME_TEST_RUN(test_new_order_errors);
    ACME_TEST_RUN(test_authz_valid);
    ACME_TEST_RUN(test_authz_invalid);
    ACME_TEST_RUN(test_authz_from_json);
    ACME_TEST_RUN(test_finalize_simple);
    ACME_TEST_RUN(test_finalize_retry_after);
    ACME_TEST_RUN(test_finalize_not_ready);
    ACME_TEST_RUN(test_finalize_failures);
    ACME_TEST_RUN(test_revoke);
    return ACME_TEST_DONE();
}
