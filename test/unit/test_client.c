/* Unit tests: src/engine/acme_client.c against the scripted CA
 * (scripted_ca.h): the directory, nonces (newNonce, Replay-Nonce, badNonce
 * retries), kid and jwk requests, error answers, and that the scripted CA
 * itself catches a client that sends the wrong kid or reuses a nonce. */
#include "acme_test.h"
#include "scripted_ca.h"
#include "acme_problem.h"
#include "acme_account.h"

static int contains(const char *s, const char *part)
{
    return s && strstr(s, part) != NULL;
}

static void test_directory(apr_pool_t *p)
{
    sca_t *ca = sca_create(p, NULL);
    acme_client_t *c = sca_client(ca, p, 1);
    acme_err_t err;

    ACME_CHECK_RV(acme_client_load_directory(c, &err));
    ACME_CHECK_STR(c->url_new_nonce, SCA_BASE "/new-nonce");
    ACME_CHECK_STR(c->url_new_order, SCA_BASE "/new-order");
    ACME_CHECK_STR(c->url_revoke_cert, SCA_BASE "/revoke");
    ACME_CHECK_STR(c->url_renewal_info, SCA_BASE "/renewal-info");
    ACME_CHECK_STR(c->terms_of_service, SCA_BASE "/terms");
    ACME_CHECK(!c->eab_required, "no EAB");
    ACME_CHECK(json_is_object(c->profiles), "profiles read");
    ACME_CHECK_STR(acme_client_ca_url("letsencrypt"), ACME_LE_PRODUCTION);
    ACME_CHECK_STR(acme_client_ca_url("LetsEncrypt-Staging"),
                   ACME_LE_STAGING);
    ACME_CHECK_STR(acme_client_ca_url(SCA_DIR), SCA_DIR);
    SCA_CHECK_CLEAN(ca);
}

static void test_directory_errors(apr_pool_t *p)
{
    sca_t *ca = sca_create(p, NULL);
    acme_client_t *c = sca_client(ca, p, 1);
    acme_err_t err;
    json_t *d;

    sca_push_problem(ca, "/directory", 503, "serverInternal",
                     "down for maintenance");
    ACME_CHECK(acme_client_load_directory(c, &err) == ACME_EPROBLEM,
               "503: %s", err.msg);
    ACME_CHECK(contains(err.msg, "ACME directory " SCA_DIR)
               && contains(err.msg, "down for maintenance"), "%s", err.msg);
    sca_push(ca, "/directory", 200, "{\"newNonce\": ");
    ACME_CHECK(acme_client_load_directory(c, &err) == ACME_EPROTO
               && contains(err.msg, "malformed JSON from the CA at "
                           SCA_DIR), "%s", err.msg);
    sca_push(ca, "/directory", 200, "[1, 2]");
    ACME_CHECK(acme_client_load_directory(c, &err) == ACME_EPROTO
               && contains(err.msg, "not an object"), "%s", err.msg);
    d = sca_directory_json();
    json_object_del(d, "newOrder");
    sca_push(ca, "/directory", 200, sca_dump(p, d));
    ACME_CHECK(acme_client_load_directory(c, &err) == ACME_EPROTO
               && contains(err.msg, "is not an ACME directory"), "%s",
               err.msg);
    sca_push(ca, "/directory", 0, NULL);
    ACME_CHECK(acme_client_load_directory(c, &err) == ACME_ECONNECT
               && contains(err.msg, "cannot reach " SCA_DIR), "%s", err.msg);
    ACME_CHECK_RV(acme_client_load_directory(c, &err));
    SCA_CHECK_CLEAN(ca);
}

static acme_client_t *loaded(sca_t *ca, apr_pool_t *p)
{
    acme_client_t *c = sca_client(ca, p, 1);

    ACME_CHECK_RV(acme_client_load_directory(c, NULL));
    return c;
}

static void test_post_reuses_nonces(apr_pool_t *p)
{
    sca_t *ca = sca_create(p, NULL);
    acme_client_t *c = loaded(ca, p);
    acme_http_resp_t *resp = NULL;
    json_t *j = NULL;
    acme_err_t err;
    int i;

    for (i = 0; i < 3; i++) {
        ACME_CHECK_RV(acme_client_post_json(&j, &resp, c, p, SCA_ACCT, NULL,
                                            0, &err));
        ACME_CHECK_STR(json_string_value(json_object_get(j, "status")),
                       "valid");
        json_decref(j);
    }
    ACME_CHECK(sca_count(ca, "/new-nonce") == 1, "one newNonce for three "
               "requests, got %d", sca_count(ca, "/new-nonce"));
    ACME_CHECK(!strcmp(sca_last(ca, "/new-nonce")->method, "HEAD"),
               "newNonce is asked with HEAD");
    ACME_CHECK(sca_last(ca, "/acct/1")->empty_payload, "POST-as-GET");
    ACME_CHECK_STR(acme_http_header(resp, "Content-Type"),
                   "application/json");
    SCA_CHECK_CLEAN(ca);
}

static void test_bad_nonce_retried(apr_pool_t *p)
{
    sca_t *ca = sca_create(p, NULL);
    acme_client_t *c = loaded(ca, p);
    acme_http_resp_t *resp = NULL;
    acme_err_t err;

    sca_push_problem(ca, "/acct/1", 400, "badNonce", "stale nonce");
    sca_push_problem(ca, "/acct/1", 400, "badNonce", "stale again");
    ACME_CHECK_RV(acme_client_post(&resp, c, p, SCA_ACCT, NULL, 0, NULL,
                                   &err));
    ACME_CHECK(resp && resp->status == 200, "answered after retries");
    ACME_CHECK(sca_count(ca, "/acct/1") == 3, "%d requests",
               sca_count(ca, "/acct/1"));
    /* a badNonce without a fresh nonce: the client asks newNonce */
    sca_push_problem(ca, "/acct/1", 400, "badNonce", "no nonce")
        ->no_nonce = 1;
    ACME_CHECK_RV(acme_client_post(&resp, c, p, SCA_ACCT, NULL, 0, NULL,
                                   &err));
    ACME_CHECK(sca_count(ca, "/new-nonce") == 2, "newNonce asked again");
    SCA_CHECK_CLEAN(ca);

    c->max_nonce_retries = 2;
    sca_push_problem(ca, "/acct/1", 400, "badNonce", "one");
    sca_push_problem(ca, "/acct/1", 400, "badNonce", "two");
    sca_push_problem(ca, "/acct/1", 400, "badNonce", "three");
    ACME_CHECK(acme_client_post(&resp, c, p, SCA_ACCT, NULL, 0, NULL, &err)
               == ACME_EPROBLEM && acme_problem_is(&err, "badNonce")
               && contains(err.msg, "three"), "gives up: %s", err.msg);
    SCA_CHECK_CLEAN(ca);
}

static void test_nonce_problems(apr_pool_t *p)
{
    sca_t *ca = sca_create(p, NULL);
    acme_client_t *c = loaded(ca, p);
    acme_http_resp_t *resp = NULL;
    acme_err_t err;
    sca_answer_t *a;
    char longn[300];

    sca_push(ca, "/new-nonce", 200, NULL)->no_nonce = 1;
    ACME_CHECK(acme_client_post(&resp, c, p, SCA_ACCT, NULL, 0, NULL, &err)
               == ACME_EPROTO && contains(err.msg, "without a Replay-Nonce")
               && contains(err.msg, SCA_BASE "/new-nonce"), "%s", err.msg);
    sca_push(ca, "/new-nonce", 0, NULL);
    ACME_CHECK(acme_client_post(&resp, c, p, SCA_ACCT, NULL, 0, NULL, &err)
               == ACME_ECONNECT, "%s", err.msg);
    /* a nonce longer than the client's buffer still works */
    memset(longn, 'n', sizeof(longn) - 1);
    longn[sizeof(longn) - 1] = '\0';
    a = sca_push(ca, "/new-nonce", 200, NULL);
    sca_answer_header(ca, a, "Replay-Nonce", longn);
    ACME_CHECK_RV(acme_client_post(&resp, c, p, SCA_ACCT, NULL, 0, NULL,
                                   &err));
    ACME_CHECK_STR(json_string_value(json_object_get(
        sca_last(ca, "/acct/1")->protected, "nonce")), longn);
    SCA_CHECK_CLEAN(ca);
}

static void test_keys_and_kid(apr_pool_t *p)
{
    sca_t *ca = sca_create(p, NULL);
    acme_client_t *c = sca_client(ca, p, 0);
    acme_http_resp_t *resp = NULL;
    acme_err_t err;
    json_t *j = NULL;

    ACME_CHECK_RV(acme_client_load_directory(c, NULL));
    ACME_CHECK(acme_client_post(&resp, c, p, SCA_ACCT, NULL, 0, NULL, &err)
               == ACME_EGENERAL && contains(err.msg, "no account key"),
               "%s", err.msg);
    acme_client_set_account(c, ca->account_key, NULL);
    ACME_CHECK(acme_client_post(&resp, c, p, SCA_ACCT, NULL, 0, NULL, &err)
               == ACME_EGENERAL && contains(err.msg, "no account URL"),
               "%s", err.msg);
    /* newAccount is signed with the jwk */
    ACME_CHECK_RV(acme_client_post_json(&j, &resp, c, p,
                                        c->url_new_account,
                                        "{\"termsOfServiceAgreed\":true}", 1,
                                        &err));
    json_decref(j);
    ACME_CHECK_STR(acme_http_header(resp, "location"), SCA_ACCT);
    ACME_CHECK(json_object_get(sca_last(ca, "/new-account")->protected,
                               "jwk") != NULL, "jwk sent");
    SCA_CHECK_CLEAN(ca);
}

static void test_account_does_not_exist(apr_pool_t *p)
{
    sca_t *ca = sca_create(p, NULL);
    acme_client_t *c = sca_client(ca, p, 0);
    acme_http_resp_t *resp = NULL;
    acme_err_t err;
    json_t *j = NULL;

    ACME_CHECK_RV(acme_client_load_directory(c, NULL));
    acme_client_set_account(c, ca->account_key, NULL);
    ca->account_exists = 0;
    ACME_CHECK(acme_client_post_json(&j, &resp, c, p, c->url_new_account,
                                     "{\"onlyReturnExisting\":true}", 1,
                                     &err) == ACME_EPROBLEM
               && acme_problem_is(&err, "accountDoesNotExist")
               && contains(err.msg, "no account for this key"), "%s",
               err.msg);
    ACME_CHECK_RV(acme_client_post_json(&j, &resp, c, p, c->url_new_account,
                                        "{\"termsOfServiceAgreed\":true}", 1,
                                        &err));
    ACME_CHECK(resp->status == 201, "created: %d", resp->status);
    json_decref(j);
    SCA_CHECK_CLEAN(ca);
}

static void test_account_register(apr_pool_t *p)
{
    sca_t *ca = sca_create(p, NULL);
    acme_client_t *c = sca_client(ca, p, 0);
    acme_account_req_t req;
    json_t *reg = NULL, *contact;
    acme_err_t err;

    ACME_CHECK_RV(acme_client_load_directory(c, NULL));
    memset(&req, 0, sizeof(req));
    req.contacts = apr_array_make(p, 1, sizeof(const char *));
    APR_ARRAY_PUSH((apr_array_header_t *)req.contacts, const char *) =
        "admin@a.test";
    ACME_CHECK(acme_account_register(&reg, c, p, ca->account_key, &req,
                                     &err) == ACME_EINVAL
               && contains(err.msg, SCA_BASE "/terms"),
               "terms not agreed: %s", err.msg);
    req.agree_tos = 1;
    ca->account_exists = 0;
    ACME_CHECK_RV(acme_account_register(&reg, c, p, ca->account_key, &req,
                                        &err));
    json_decref(reg);
    ACME_CHECK_STR(c->account_url, SCA_ACCT);
    contact = json_object_get(sca_last(ca, "/new-account")->payload,
                              "contact");
    ACME_CHECK_STR(json_string_value(json_array_get(contact, 0)),
                   "mailto:admin@a.test");
    SCA_CHECK_CLEAN(ca);
}

static void test_error_answers(apr_pool_t *p)
{
    sca_t *ca = sca_create(p, NULL);
    acme_client_t *c = loaded(ca, p);
    acme_http_resp_t *resp = NULL;
    acme_err_t err;
    json_t *j = NULL;
    sca_answer_t *a;

    a = sca_push_problem(ca, "/acct/1", 503, "rateLimited", "slow down");
    sca_answer_header(ca, a, "Retry-After", "30");
    ACME_CHECK(acme_client_post(&resp, c, p, SCA_ACCT, NULL, 0, NULL, &err)
               == ACME_EPROBLEM && acme_problem_is(&err, "rateLimited")
               && err.retry_after == apr_time_from_sec(30),
               "retry_after %" APR_TIME_T_FMT ": %s", err.retry_after,
               err.msg);
    sca_push(ca, "/acct/1", 500, "<html>Internal Server Error</html>");
    ACME_CHECK(acme_client_post(&resp, c, p, SCA_ACCT, NULL, 0, NULL, &err)
               == ACME_EPROTO && contains(err.msg, "500"), "%s", err.msg);
    sca_push(ca, "/acct/1", 200, "{\"status\": ");
    ACME_CHECK(acme_client_post_json(&j, &resp, c, p, SCA_ACCT, NULL, 0,
                                     &err) == ACME_EPROTO
               && contains(err.msg, "malformed JSON"), "%s", err.msg);
    sca_push(ca, "/acct/1", 0, NULL);
    ACME_CHECK(acme_client_post_json(&j, &resp, c, p, SCA_ACCT, NULL, 0,
                                     &err) == ACME_ECONNECT, "%s", err.msg);
    SCA_CHECK_CLEAN(ca);
}

static void test_ca_catches_a_bad_client(apr_pool_t *p)
{
    sca_t *ca = sca_create(p, NULL);
    acme_client_t *c = loaded(ca, p);
    acme_http_resp_t *resp = NULL;
    acme_key_t *other = NULL;
    const char *used;

    acme_client_set_account(c, ca->account_key, SCA_BASE "/acct/2");
    acme_client_post(&resp, c, p, SCA_ACCT, NULL, 0, NULL, NULL);
    ACME_CHECK(ca->violations->nelts == 1
               && contains(sca_violations(ca), "kid " SCA_BASE "/acct/2"),
               "wrong kid seen: %s", sca_violations(ca));
    apr_array_clear(ca->violations);
    acme_client_set_account(c, ca->account_key, SCA_ACCT);
    used = json_string_value(json_object_get(
        sca_last(ca, "/acct/1")->protected, "nonce"));
    c->nonce = used;
    acme_client_post(&resp, c, p, SCA_ACCT, NULL, 0, NULL, NULL);
    ACME_CHECK(ca->violations->nelts == 1
               && contains(sca_violations(ca), "used twice"),
               "reused nonce seen: %s", sca_violations(ca));
    apr_array_clear(ca->violations);
    ACME_CHECK_RV(acme_key_generate(&other, p, ACME_KEY_EC256, NULL));
    acme_client_post(&resp, c, p, SCA_ACCT, NULL, 0, other, NULL);
    ACME_CHECK(ca->violations->nelts == 1
               && contains(sca_violations(ca), "bad signature"),
               "foreign signature seen: %s", sca_violations(ca));
    apr_array_clear(ca->violations);
}

static apr_status_t no_answer(acme_http_resp_t **presp, void *baton,
                              apr_pool_t *p, const char *method,
                              const char *url, const char *ctype,
                              const char *body, apr_size_t len,
                              acme_err_t *err)
{
    return APR_SUCCESS;
}

static void test_transport_edges(apr_pool_t *p)
{
    sca_t *ca = sca_create(p, NULL);
    acme_client_t *c = loaded(ca, p);
    acme_http_resp_t *resp = NULL;
    apr_array_header_t *links;
    acme_err_t err;
    apr_time_t t0;

    resp = acme_http_resp_make(p, SCA_BASE "/x", 200, NULL, 0);
    acme_http_resp_add_header(resp, p, "LINK", "</acme/up>;rel=\"up\"");
    acme_http_resp_add_header(resp, p, "Link", "<https://o.test/a>; "
                              "rel=\"alternate index\"");
    links = acme_http_links(p, resp, "up");
    ACME_CHECK(links->nelts == 1, "%d up links", links->nelts);
    ACME_CHECK_STR(APR_ARRAY_IDX(links, 0, const char *), SCA_BASE "/up");
    links = acme_http_links(p, resp, "alternate");
    ACME_CHECK(links->nelts == 1, "%d alternate links", links->nelts);
    ACME_CHECK(resp->body_len == 0 && !strcmp(resp->body, ""), "empty body");
    acme_client_set_transport(c, no_answer, NULL);
    ACME_CHECK(acme_client_post(&resp, c, p, SCA_ACCT, NULL, 0, NULL, &err)
               == ACME_EGENERAL && contains(err.msg, "no answer"), "%s",
               err.msg);
    /* the poll pacing helpers */
    t0 = apr_time_now();
    acme_client_poll_sleep_first(c, apr_time_from_msec(3), t0);
    acme_sleep_bounded(apr_time_from_sec(5), 0, apr_time_from_msec(2));
    ACME_CHECK(apr_time_now() - t0 < apr_time_from_sec(1), "bounded sleeps");
    SCA_CHECK_CLEAN(ca);
}

int main(void)
{
    ACME_TEST_RUN(test_directory);
    ACME_TEST_RUN(test_directory_errors);
    ACME_TEST_RUN(test_post_reuses_nonces);
    ACME_TEST_RUN(test_bad_nonce_retried);
    ACME_TEST_RUN(test_nonce_problems);
    ACME_TEST_RUN(test_keys_and_kid);
    ACME_TEST_RUN(test_account_does_not_exist);
    ACME_TEST_RUN(test_account_register);
    ACME_TEST_RUN(test_error_answers);
    ACME_TEST_RUN(test_ca_catches_a_bad_client);
    ACME_TEST_RUN(test_transport_edges);
    return ACME_TEST_DONE();
}
