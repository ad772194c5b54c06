/* Unit tests: src/engine/acme_issue.c, one issuance start to finish
 * against the scripted CA (scripted_ca.h) with a recording solver: the
 * chain validates for the CSR's key and names; authorizations already
 * valid need no answer; every failure (an authorization that is not
 * pending, no usable challenge, the solver's setup or ready, the answer,
 * validation, finalize, the download) names the name and the CA's reason,
 * and every answer set up is cleaned up; preferred chains. */
#include "acme_test.h"
#include "scripted_ca.h"
#include "acme_csr.h"
#include "acme_issue.h"
#include "acme_problem.h"

typedef struct {
    int setups, cleanups, readies;
    int fail_setup_at;        /* 1-based setup call that fails, 0: none */
    int fail_ready;
    const char *log;          /* "setup:name/type/remaining/all," ... */
} solver_rec_t;

static apr_status_t rec_setup(acme_solver_t *s, apr_pool_t *p,
                              const acme_authz_t *authz,
                              const acme_challenge_t *ch, int remaining,
                              const char *all_domains, acme_err_t *err)
{
    solver_rec_t *r = s->baton;

    if (++r->setups == r->fail_setup_at) {
        return acme_err_set(err, p, ACME_EHOOK, "the hook said no");
    }
    if (!ch->keyauthz || strncmp(ch->keyauthz, ch->token,
                                 strlen(ch->token))) {
        return acme_err_set(err, p, ACME_EGENERAL, "no key authorization");
    }
    r->log = apr_psprintf(p, "%ssetup:%s/%s/%d/%s,", r->log, authz->id_value,
                          ch->type, remaining, all_domains);
    return APR_SUCCESS;
}

static apr_status_t rec_ready(acme_solver_t *s, apr_pool_t *p,
                              acme_err_t *err)
{
    solver_rec_t *r = s->baton;

    r->readies++;
    return r->fail_ready ? acme_err_set(err, p, ACME_EHOOK, "not ready")
                         : APR_SUCCESS;
}

static void rec_cleanup(acme_solver_t *s, apr_pool_t *p,
                        const acme_authz_t *authz, const acme_challenge_t *ch)
{
    ((solver_rec_t *)s->baton)->cleanups++;
}

static apr_array_header_t *list_of(apr_pool_t *p, const char *csv)
{
    apr_array_header_t *a = apr_array_make(p, 2, sizeof(const char *));
    char *last = NULL, *s = apr_pstrdup(p, csv), *t;

    for (t = apr_strtok(s, ",", &last); t; t = apr_strtok(NULL, ",", &last)) {
        APR_ARRAY_PUSH(a, const char *) = t;
    }
    return a;
}

typedef struct {
    sca_t *ca;
    acme_client_t *c;
    acme_key_t *key;          /* the certificate's key */
    acme_issue_req_t req;
    acme_solver_t solver;
    solver_rec_t rec;
    acme_issue_result_t *res;
    acme_err_t err;
} fixture_t;

static fixture_t *fixture(apr_pool_t *p, const char *names,
                          const char *types)
{
    fixture_t *f = apr_pcalloc(p, sizeof(*f));

    f->ca = sca_create(p, NULL);
    f->c = sca_client(f->ca, p, 1);
    ACME_CHECK_RV(acme_client_load_directory(f->c, NULL));
    ACME_CHECK_RV(acme_key_generate(&f->key, p, ACME_KEY_EC256, NULL));
    f->req.names = list_of(p, names);
    ACME_CHECK_RV(acme_csr_make(&f->req.csr_der, &f->req.csr_len, p, f->key,
                                f->req.names, 0, NULL));
    f->solver.types = list_of(p, types);
    f->solver.setup = rec_setup;
    f->solver.ready = rec_ready;
    f->solver.cleanup = rec_cleanup;
    f->solver.baton = &f->rec;
    f->rec.log = "";
    f->req.solver = &f->solver;
    return f;
}

static apr_status_t run(fixture_t *f, apr_pool_t *p)
{
    acme_err_clear(&f->err);
    f->res = NULL;
    return acme_issue(&f->res, f->c, p, &f->req, &f->err);
}

static int contains(const char *s, const char *part)
{
    return s && strstr(s, part) != NULL;
}

static void test_issue_one(apr_pool_t *p)
{
    fixture_t *f = fixture(p, "a.test", "http-01,dns-01");
    apr_array_header_t *certs;

    f->req.profile = "classic";
    f->req.replaces = "aaa.bbb";
    ACME_CHECK_RV(run(f, p));
    ACME_CHECK(f->res != NULL, "%s", f->err.msg);
    if (!f->res) return;
    ACME_CHECK_RV(acme_chain_parse(&certs, p, f->res->chain_pem,
                                   strlen(f->res->chain_pem), NULL));
    ACME_CHECK(acme_chain_validate(certs, f->key, f->req.names,
                                   apr_time_now(), p, &f->err)
               == APR_SUCCESS, "chain: %s", f->err.msg);
    ACME_CHECK_STR(f->res->chain_issuer, SCA_ROOT_CN);
    ACME_CHECK_STR(f->res->order_url, SCA_BASE "/order/1");
    ACME_CHECK_STR(f->res->cert_url, SCA_BASE "/cert/1");
    ACME_CHECK_STR(f->res->challenge_types, "http-01");
    ACME_CHECK_STR(f->rec.log, "setup:a.test/http-01/0/a.test,");
    ACME_CHECK(f->rec.readies == 1 && f->rec.cleanups == 1, "ready %d "
               "cleanup %d", f->rec.readies, f->rec.cleanups);
    ACME_CHECK_STR(json_string_value(json_object_get(
        sca_last(f->ca, "/new-order")->payload, "replaces")), "aaa.bbb");
    ACME_CHECK_STR(json_string_value(json_object_get(
        sca_last(f->ca, "/new-order")->payload, "profile")), "classic");
    SCA_CHECK_CLEAN(f->ca);
}

static void test_issue_several(apr_pool_t *p)
{
    fixture_t *f = fixture(p, "b.test,*.b.test,done.test", "dns-01");

    sca_name_status(f->ca, "done.test", "valid");
    f->ca->pending_polls = 1;
    ACME_CHECK_RV(run(f, p));
    ACME_CHECK_STR(f->rec.log, "setup:b.test/dns-01/1/b.test,b.test,"
                   "setup:b.test/dns-01/0/b.test,b.test,");
    ACME_CHECK(f->rec.cleanups == 2, "%d cleanups", f->rec.cleanups);
    ACME_CHECK(f->res && !strcmp(f->res->challenge_types, "dns-01"),
               "types");
    ACME_CHECK(sca_count(f->ca, "/chal/3/dns-01") == 0, "the valid one is "
               "not answered");
    SCA_CHECK_CLEAN(f->ca);

    /* every authorization valid already: no solver at all */
    f = fixture(p, "v.test", "http-01");
    sca_name_status(f->ca, "v.test", "valid");
    ACME_CHECK_RV(run(f, p));
    ACME_CHECK(f->rec.setups == 0 && f->rec.readies == 0, "solver unused");
    ACME_CHECK(f->res && !strcmp(f->res->challenge_types, ""), "no types");
    SCA_CHECK_CLEAN(f->ca);
}

static void test_issue_authz_problems(apr_pool_t *p)
{
    fixture_t *f = fixture(p, "a.test,gone.test", "http-01");

    sca_name_status(f->ca, "gone.test", "deactivated");
    ACME_CHECK(run(f, p) == ACME_ECHALLENGE
               && contains(f->err.msg, "authorization for gone.test is "
                           "deactivated"), "%s", f->err.msg);
    ACME_CHECK(f->rec.setups == 0, "nothing set up");

    f = fixture(p, "*.w.test", "http-01,tls-alpn-01");
    ACME_CHECK(run(f, p) == ACME_ECHALLENGE
               && contains(f->err.msg, "no usable challenge for *.w.test: "
                           "the CA offers dns-01, allowed here: http-01, "
                           "tls-alpn-01"), "%s", f->err.msg);

    f = fixture(p, "a.test", "http-01");
    sca_push_problem(f->ca, "/authz/1", 500, "serverInternal", "no authz");
    ACME_CHECK(run(f, p) == ACME_EPROBLEM
               && contains(f->err.msg, "no authz"), "%s", f->err.msg);

    f = fixture(p, "a.test", "http-01");
    sca_push_problem(f->ca, "/new-order", 400, "rejectedIdentifier",
                     "a.test is forbidden");
    ACME_CHECK(run(f, p) == ACME_EPROBLEM
               && contains(f->err.msg, "new order for a.test")
               && contains(f->err.msg, "a.test is forbidden"), "%s",
               f->err.msg);
    SCA_CHECK_CLEAN(f->ca);
}

static void test_issue_solver_fails(apr_pool_t *p)
{
    fixture_t *f = fixture(p, "a.test,b.test", "http-01");

    f->rec.fail_setup_at = 2;
    ACME_CHECK(run(f, p) == ACME_EHOOK
               && contains(f->err.msg, "http-01 for b.test: the hook said no"),
               "%s", f->err.msg);
    ACME_CHECK_STR(f->req.failed_type, "http-01");
    ACME_CHECK_STR(f->req.failed_name, "b.test");
    ACME_CHECK(f->rec.cleanups == 1, "the one set up is cleaned up: %d",
               f->rec.cleanups);

    f = fixture(p, "a.test,b.test", "http-01");
    f->rec.fail_ready = 1;
    ACME_CHECK(run(f, p) == ACME_EHOOK && contains(f->err.msg, "not ready"),
               "%s", f->err.msg);
    ACME_CHECK_STR(f->req.failed_type, "http-01");
    ACME_CHECK(f->rec.cleanups == 2, "%d cleanups", f->rec.cleanups);
    ACME_CHECK(sca_count(f->ca, "/chal/1/http-01") == 0, "CA not told");

    f = fixture(p, "a.test,b.test", "http-01");
    sca_push_problem(f->ca, "/chal/2/http-01", 400, "malformed", "nope");
    ACME_CHECK(run(f, p) == ACME_EPROBLEM
               && contains(f->err.msg, "b.test: responding to the http-01 "
                           "challenge") && contains(f->err.msg, "nope"),
               "%s", f->err.msg);
    ACME_CHECK(f->rec.cleanups == 2, "%d cleanups", f->rec.cleanups);
    SCA_CHECK_CLEAN(f->ca);
}

static void test_issue_validation_fails(apr_pool_t *p)
{
    fixture_t *f = fixture(p, "a.test,*.bad.test", "dns-01");

    sca_name_fails(f->ca, "*.bad.test", "No TXT record found at "
                   "_acme-challenge.bad.test");
    ACME_CHECK(run(f, p) == ACME_ECHALLENGE
               && contains(f->err.msg, "authorization for *.bad.test is "
                           "invalid: dns-01 challenge: unauthorized: No TXT "
                           "record found at _acme-challenge.bad.test"),
               "%s", f->err.msg);
    ACME_CHECK_STR(f->req.failed_type, "dns-01");
    ACME_CHECK_STR(f->req.failed_name, "*.bad.test");
    ACME_CHECK(f->rec.cleanups == 2, "%d cleanups", f->rec.cleanups);

    /* a poll that times out is not the challenge's failure */
    f = fixture(p, "slow.test", "http-01");
    f->ca->pending_polls = 100000;
    f->c->poll_timeout = apr_time_from_msec(20);
    ACME_CHECK(run(f, p) == ACME_ETIMEOUT, "%s", f->err.msg);
    ACME_CHECK(f->req.failed_type == NULL, "no failed type on a timeout");
    SCA_CHECK_CLEAN(f->ca);
}

static void test_issue_finalize_and_download(apr_pool_t *p)
{
    fixture_t *f = fixture(p, "a.test", "http-01");

    sca_push_problem(f->ca, "/finalize/1", 400, "badCSR", "RSA 1024");
    ACME_CHECK(run(f, p) == ACME_EPROBLEM
               && contains(f->err.msg, "finalizing the order")
               && contains(f->err.msg, "RSA 1024"), "%s", f->err.msg);
    ACME_CHECK(f->rec.cleanups == 1, "cleaned up");

    f = fixture(p, "a.test", "http-01");
    sca_push(f->ca, "/cert/1", 0, NULL);
    ACME_CHECK(run(f, p) == ACME_ECONNECT
               && contains(f->err.msg, "downloading the certificate"),
               "%s", f->err.msg);

    /* an order valid from the start (the CA hands back one it has
     * issued) is not finalized again */
    f = fixture(p, "a.test", "http-01");
    sca_name_status(f->ca, "a.test", "valid");
    {
        acme_order_t *o = NULL;
        sca_answer_t *a;
        ACME_CHECK_RV(acme_order_new(&o, f->c, p, f->req.names, NULL, NULL,
                                     NULL));
        ACME_CHECK_RV(acme_order_finalize(o, f->c, p, f->req.csr_der,
                                          f->req.csr_len, NULL));
        a = sca_push(f->ca, "/new-order", 200, sca_order_body(
            f->ca, 1, "valid", NULL, NULL, NULL));
        sca_answer_header(f->ca, a, "Location", SCA_BASE "/order/1");
    }
    ACME_CHECK_RV(run(f, p));
    ACME_CHECK(sca_count(f->ca, "/finalize/1") == 1, "finalized once only");
    ACME_CHECK(f->res && !strcmp(f->res->cert_url, SCA_BASE "/cert/1"),
               "the order's certificate");
    SCA_CHECK_CLEAN(f->ca);
}

static void test_issue_preferred_chain(apr_pool_t *p)
{
    fixture_t *f = fixture(p, "a.test", "http-01");

    f->ca->alternates = 1;
    f->req.preferred_chain = SCA_ALT_ROOT_CN;
    ACME_CHECK_RV(run(f, p));
    ACME_CHECK(f->res && !strcmp(f->res->chain_issuer, SCA_ALT_ROOT_CN),
               "alternate chosen: %s", f->res ? f->res->chain_issuer : "-");
    ACME_CHECK(f->res && f->res->alternates->nelts == 1, "one alternate");

    f = fixture(p, "a.test", "http-01");
    f->ca->alternates = 1;
    f->req.preferred_chain = "Nobody Root";
    ACME_CHECK_RV(run(f, p));
    ACME_CHECK(f->res && !strcmp(f->res->chain_issuer, SCA_ROOT_CN),
               "default kept");
    ACME_CHECK(sca_count(f->ca, "/cert/1/alt") == 1, "alternate looked at");

    f = fixture(p, "a.test", "http-01");
    f->ca->alternates = 1;
    f->req.preferred_chain = SCA_ALT_ROOT_CN;
    sca_push_problem(f->ca, "/cert/1/alt", 500, "serverInternal", "lost");
    ACME_CHECK_RV(run(f, p));
    ACME_CHECK(f->res && !strcmp(f->res->chain_issuer, SCA_ROOT_CN),
               "default kept when the alternate fails");
    SCA_CHECK_CLEAN(f->ca);
}

int main(void)
{
    ACME_TEST_RUN(test_issue_one);
    ACME_TEST_RUN(test_issue_several);
    ACME_TEST_RUN(test_issue_authz_problems);
    ACME_TEST_RUN(test_issue_solver_fails);
    ACME_TEST_RUN(test_issue_validation_fails);
    ACME_TEST_RUN(test_issue_finalize_and_download);
    ACME_TEST_RUN(test_issue_preferred_chain);
    return ACME_TEST_DONE();
}
