/* Unit tests: src/engine/acme_attempt.c, the network half of the issuance
 * path, against the scripted CA (scripted_ca.h): a registration when the
 * account is new, the account registered again when the CA forgot it,
 * "replaces" dropped when the CA refuses it, the fallback to the next
 * challenge type (and none without fallback), a profile the CA does not
 * offer. */
#include "acme_test.h"
#include "scripted_ca.h"
#include "acme_attempt.h"
#include "acme_csr.h"

typedef struct {
    const char *fail_type;    /* setup fails for this type */
    const char *log;
} solver_rec_t;

static apr_status_t rec_setup(acme_solver_t *s, apr_pool_t *p,
                              const acme_authz_t *authz,
                              const acme_challenge_t *ch, int remaining,
                              const char *all_domains, acme_err_t *err)
{
    solver_rec_t *r = s->baton;

    r->log = apr_psprintf(p, "%s%s,", r->log, ch->type);
    if (r->fail_type && !strcmp(r->fail_type, ch->type)) {
        return acme_err_set(err, p, ACME_EHOOK, "cannot answer %s",
                            ch->type);
    }
    return APR_SUCCESS;
}

static void rec_cleanup(acme_solver_t *s, apr_pool_t *p,
                        const acme_authz_t *authz, const acme_challenge_t *ch)
{
}

typedef struct {
    sca_t *ca;
    acme_client_t *c;
    acme_key_t *key;
    acme_issue_req_t req;
    acme_solver_t solver;
    solver_rec_t rec;
    acme_account_req_t areq;
    acme_attempt_res_t res;
} fixture_t;

static fixture_t *fixture(apr_pool_t *p, int with_account)
{
    fixture_t *f = apr_pcalloc(p, sizeof(*f));
    apr_array_header_t *types = apr_array_make(p, 2, sizeof(const char *));
    apr_array_header_t *names = apr_array_make(p, 1, sizeof(const char *));

    f->ca = sca_create(p, NULL);
    f->c = sca_client(f->ca, p, 1);
    ACME_CHECK_RV(acme_client_load_directory(f->c, NULL));
    if (!with_account) {
        acme_client_set_account(f->c, f->ca->account_key, NULL);
    }
    else {
        f->ca->account_exists = 1;
    }
    ACME_CHECK_RV(acme_key_generate(&f->key, p, ACME_KEY_EC256, NULL));
    APR_ARRAY_PUSH(names, const char *) = "a.test";
    f->req.names = names;
    ACME_CHECK_RV(acme_csr_make(&f->req.csr_der, &f->req.csr_len, p, f->key,
                                names, 0, NULL));
    APR_ARRAY_PUSH(types, const char *) = "http-01";
    APR_ARRAY_PUSH(types, const char *) = "dns-01";
    f->solver.types = types;
    f->solver.setup = rec_setup;
    f->solver.cleanup = rec_cleanup;
    f->solver.baton = &f->rec;
    f->rec.log = "";
    f->areq.agree_tos = 1;
    return f;
}

static int contains(const char *s, const char *part)
{
    return s && strstr(s, part) != NULL;
}

static void test_attempt_ok(apr_pool_t *p)
{
    fixture_t *f = fixture(p, 1);

    acme_attempt_run(&f->res, f->c, &f->req, &f->solver, &f->areq, 1, p);
    ACME_CHECK(f->res.ok, "%s", f->res.error);
    ACME_CHECK(contains(f->res.chain_pem, "BEGIN CERTIFICATE"), "a chain");
    ACME_CHECK_STR(f->res.challenge_types, "http-01");
    ACME_CHECK_STR(f->res.account_url, SCA_ACCT);
    ACME_CHECK(!f->res.registration && !f->res.forgotten_account,
               "no registration");
    ACME_CHECK(sca_count(f->ca, "/new-account") == 0, "no newAccount");
    SCA_CHECK_CLEAN(f->ca);
}

static void test_attempt_registers_first(apr_pool_t *p)
{
    fixture_t *f = fixture(p, 0);

    acme_attempt_run(&f->res, f->c, &f->req, &f->solver, &f->areq, 1, p);
    ACME_CHECK(f->res.ok, "%s", f->res.error);
    ACME_CHECK_STR(f->res.account_url, SCA_ACCT);
    ACME_CHECK(f->res.registration != NULL, "the registration comes back");
    ACME_CHECK(!f->res.forgotten_account, "not a forgotten account");
    SCA_CHECK_CLEAN(f->ca);
}

static void test_attempt_forgotten_account(apr_pool_t *p)
{
    fixture_t *f = fixture(p, 1);

    f->ca->account_exists = 0;
    sca_push_problem(f->ca, "/new-order", 400, "accountDoesNotExist",
                     "no such account");
    acme_attempt_run(&f->res, f->c, &f->req, &f->solver, &f->areq, 1, p);
    ACME_CHECK(f->res.ok, "%s", f->res.error);
    ACME_CHECK_STR(f->res.forgotten_account, SCA_ACCT);
    ACME_CHECK(f->res.registration != NULL, "registered again");
    ACME_CHECK(sca_count(f->ca, "/new-account") == 1, "one newAccount");
    ACME_CHECK(sca_count(f->ca, "/new-order") == 2, "the order again");

    /* forgotten twice: given up after one registration */
    f = fixture(p, 1);
    f->ca->account_exists = 0;
    sca_push_problem(f->ca, "/new-order", 400, "accountDoesNotExist", "no");
    sca_push_problem(f->ca, "/new-order", 400, "accountDoesNotExist", "no");
    acme_attempt_run(&f->res, f->c, &f->req, &f->solver, &f->areq, 1, p);
    ACME_CHECK(!f->res.ok, "fails");
    ACME_CHECK_STR(f->res.problem_type,
                   "urn:ietf:params:acme:error:accountDoesNotExist");

    /* the registration itself fails */
    f = fixture(p, 1);
    sca_push_problem(f->ca, "/new-order", 400, "accountDoesNotExist", "no");
    sca_push_problem(f->ca, "/new-account", 403, "unauthorized", "go away");
    acme_attempt_run(&f->res, f->c, &f->req, &f->solver, &f->areq, 1, p);
    ACME_CHECK(!f->res.ok, "fails");
    ACME_CHECK(contains(f->res.error, "registering a new one failed")
               && contains(f->res.error, "go away"), "%s", f->res.error);
}

static void test_attempt_replaces_refused(apr_pool_t *p)
{
    fixture_t *f = fixture(p, 1);

    f->req.replaces = "aaa.bbb";
    sca_push_problem(f->ca, "/new-order", 409, "alreadyReplaced",
                     "already replaced");
    acme_attempt_run(&f->res, f->c, &f->req, &f->solver, &f->areq, 1, p);
    ACME_CHECK(f->res.ok, "%s", f->res.error);
    ACME_CHECK(contains(f->res.replaces_refused, "already replaced"), "%s",
               f->res.replaces_refused);
    ACME_CHECK(sca_count(f->ca, "/new-order") == 2, "two orders");
    ACME_CHECK(!json_object_get(sca_last(f->ca, "/new-order")->payload,
                                "replaces"), "the second without replaces");
    ACME_CHECK_STR(f->req.replaces, "aaa.bbb");     /* the caller's stays */
    SCA_CHECK_CLEAN(f->ca);
}

static void test_attempt_fallback(apr_pool_t *p)
{
    fixture_t *f = fixture(p, 1);

    f->rec.fail_type = "http-01";
    acme_attempt_run(&f->res, f->c, &f->req, &f->solver, &f->areq, 1, p);
    ACME_CHECK(f->res.ok, "%s", f->res.error);
    ACME_CHECK_STR(f->res.challenge_types, "dns-01");
    ACME_CHECK_STR(f->rec.log, "http-01,dns-01,");
    ACME_CHECK(f->solver.types->nelts == 2, "the caller's solver is kept");

    /* without fallback: the first failure is the answer */
    f = fixture(p, 1);
    f->rec.fail_type = "http-01";
    acme_attempt_run(&f->res, f->c, &f->req, &f->solver, &f->areq, 0, p);
    ACME_CHECK(!f->res.ok, "fails");
    ACME_CHECK_STR(f->res.failed_name, "a.test");
    ACME_CHECK(contains(f->res.error, "cannot answer http-01"), "%s",
               f->res.error);
    ACME_CHECK_STR(f->rec.log, "http-01,");

    /* every type fails: the error says what each did */
    f = fixture(p, 1);
    sca_name_fails(f->ca, "a.test", "connection refused");
    acme_attempt_run(&f->res, f->c, &f->req, &f->solver, &f->areq, 1, p);
    ACME_CHECK(!f->res.ok, "fails");
    ACME_CHECK(contains(f->res.error, "http-01: ")
               && contains(f->res.error, "connection refused"), "%s",
               f->res.error);
}

static void test_attempt_profile(apr_pool_t *p)
{
    fixture_t *f = fixture(p, 1);

    f->req.profile = "shortlived";
    acme_attempt_run(&f->res, f->c, &f->req, &f->solver, &f->areq, 1, p);
    ACME_CHECK(!f->res.ok, "fails");
    ACME_CHECK(contains(f->res.error, "no profile 'shortlived'")
               && contains(f->res.error, "offered: classic"), "%s",
               f->res.error);
    ACME_CHECK(sca_count(f->ca, "/new-order") == 0, "nothing ordered");
}

static void test_attempt_err(apr_pool_t *p)
{
    acme_attempt_res_t res;
    acme_err_t err;

    memset(&res, 0, sizeof(res));
    res.error = "nope";
    res.failed_name = "a.test";
    res.problem_type = "urn:ietf:params:acme:error:rateLimited";
    res.retry_after = apr_time_from_sec(60);
    acme_attempt_err(&err, &res, p);
    ACME_CHECK(err.rv == ACME_ECHALLENGE, "a name failed");
    ACME_CHECK_STR(err.msg, "nope");
    ACME_CHECK(err.retry_after == apr_time_from_sec(60), "Retry-After");
    res.failed_name = NULL;
    acme_attempt_err(&err, &res, p);
    ACME_CHECK(err.rv == ACME_EGENERAL, "no name");
}

int main(void)
{
    ACME_TEST_RUN(test_attempt_ok);
    ACME_TEST_RUN(test_attempt_registers_first);
    ACME_TEST_RUN(test_attempt_forgotten_account);
    ACME_TEST_RUN(test_attempt_replaces_refused);
    ACME_TEST_RUN(test_attempt_fallback);
    ACME_TEST_RUN(test_attempt_profile);
    ACME_TEST_RUN(test_attempt_err);
    return ACME_TEST_DONE();
}
