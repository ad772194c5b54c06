/* mod_acme: one attempt at the CA: the order with its challenge fallback,
 * a refused "replaces", a forgotten account. */
#include <stdlib.h>
#include <string.h>

#include "acme_attempt.h"
#include "acme_problem.h"
#include "acme_util.h"

void acme_attempt_err(acme_err_t *err, const acme_attempt_res_t *res,
                      apr_pool_t *p)
{
    acme_err_set(err, p, res->failed_name ? ACME_ECHALLENGE : ACME_EGENERAL,
                 "%s", res->error ? res->error : "the attempt failed");
    err->problem_type = res->problem_type;
    err->retry_after = res->retry_after;
}

apr_status_t acme_attempt_register(acme_attempt_res_t *res, acme_client_t *c,
                                   const acme_account_req_t *areq,
                                   apr_pool_t *p, acme_err_t *err)
{
    json_t *reg = NULL;
    char *text;
    apr_status_t rv;

    rv = acme_account_register(&reg, c, p, c->account_key, areq, err);
    if (rv == APR_SUCCESS) {
        text = json_dumps(reg, JSON_COMPACT);
        res->registration = apr_pstrdup(p, text ? text : "{}");
        free(text);
    }
    if (reg) {
        json_decref(reg);
    }
    res->account_url = c->account_url;
    return rv;
}

/* The profile asked for is one the CA announces. */
static apr_status_t check_profile(acme_client_t *c, const char *profile,
                                  apr_pool_t *p, acme_err_t *err)
{
    const char *offered = "", *k;
    json_t *v;

    if (!profile || json_object_get(c->profiles, profile)) {
        return APR_SUCCESS;
    }
    json_object_foreach(c->profiles, k, v) {
        offered = apr_pstrcat(p, offered, *offered ? ", " : "", k, NULL);
    }
    return acme_err_set(err, p, ACME_EINVAL, "the CA offers no profile '%s' "
                        "(%s)", profile, *offered
                        ? apr_pstrcat(p, "offered: ", offered, NULL)
                        : "it announces no profiles");
}

/* The types of `types` but `drop`. */
static apr_array_header_t *without(apr_pool_t *p,
                                   const apr_array_header_t *types,
                                   const char *drop)
{
    apr_array_header_t *rest = apr_array_make(p, 2, sizeof(const char *));
    int i;

    for (i = 0; i < types->nelts; i++) {
        const char *t = APR_ARRAY_IDX(types, i, const char *);
        if (strcmp(t, drop)) {
            APR_ARRAY_PUSH(rest, const char *) = t;
        }
    }
    return rest;
}

/* What to do after a failed order. */
typedef enum { RETRY, GIVE_UP } next_e;

/* Decides, after the order in ireq failed with err, whether another order
 * is worth making: with the account registered again, without "replaces",
 * or with the next challenge type (solver->types shrinks; *ptried
 * collects what failed). */
static next_e after_failure(acme_attempt_res_t *res, acme_client_t *c,
                            acme_issue_req_t *ireq, acme_solver_t *solver,
                            const acme_account_req_t *areq, int fallback,
                            int *pregistered,
                            const char **ptried, acme_err_t *err,
                            apr_pool_t *p)
{
    acme_err_t rerr;
    apr_array_header_t *rest;

    if (!*pregistered && acme_problem_is(err, "accountDoesNotExist")) {
        /* the CA forgot the account (reset, deactivated): the same key
         * again, so the account id in the store stays valid */
        const char *old = c->account_url ? c->account_url : "?";
        *pregistered = 1;
        acme_log(ACME_LOG_WARN, "the CA does not know the account %s any "
                 "more; registering its key again", old);
        acme_err_clear(&rerr);
        if (acme_attempt_register(res, c, areq, p, &rerr) == APR_SUCCESS) {
            res->forgotten_account = old;
            return RETRY;
        }
        acme_err_set(err, p, err->rv, "the CA no longer knows account %s "
                     "(was the CA reset?) and registering a new one failed: "
                     "%s", old, rerr.msg ? rerr.msg : "?");
        return GIVE_UP;
    }
    if (ireq->replaces && (acme_problem_is(err, "alreadyReplaced")
                           || (err->msg && strstr(err->msg, "HTTP 409")))) {
        /* RFC 9773: the CA will not take this replacement */
        acme_log(ACME_LOG_WARN, "the CA refused replaces=%s (%s); ordering "
                 "without it", ireq->replaces, err->msg);
        res->replaces_refused = err->msg ? err->msg : "refused";
        ireq->replaces = NULL;
        return RETRY;
    }
    if (!fallback || !ireq->failed_type || solver->types->nelts < 2) {
        return GIVE_UP;
    }
    rest = without(p, solver->types, ireq->failed_type);
    if (rest->nelts == solver->types->nelts) {
        return GIVE_UP;
    }
    acme_log(ACME_LOG_WARN, "%s failed (%s); trying %s", ireq->failed_type,
             err->msg, acme_array_join(p, rest, ", "));
    *ptried = apr_pstrcat(p, *ptried, ireq->failed_type, ": ", err->msg,
                          "; ", NULL);
    solver->types = rest;
    return RETRY;
}

/* Records a failure in res. */
static void attempt_fail(acme_attempt_res_t *res, const acme_err_t *err)
{
    res->ok = 0;
    res->error = err->msg ? err->msg : "unknown error";
    res->problem_type = err->problem_type;
    res->retry_after = err->retry_after;
}

void acme_attempt_run(acme_attempt_res_t *res, acme_client_t *c,
                      const acme_issue_req_t *req, acme_solver_t *solver,
                      const acme_account_req_t *areq, int fallback,
                      apr_pool_t *p)
{
    acme_issue_req_t ireq = *req;
    acme_issue_result_t *ires;
    acme_solver_t s = *solver;      /* its types shrink on a fallback */
    const char *tried = "";
    int registered = 0;
    acme_err_t err;

    memset(res, 0, sizeof(*res));
    acme_err_clear(&err);
    res->account_url = c->account_url;
    if (!c->account_url) {
        registered = 1;
        if (acme_attempt_register(res, c, areq, p, &err) != APR_SUCCESS) {
            goto failed;
        }
    }
    if (check_profile(c, req->profile, p, &err) != APR_SUCCESS) {
        goto failed;
    }
    for (;;) {
        ireq.solver = &s;
        ireq.failed_type = ireq.failed_name = NULL;
        acme_err_clear(&err);
        if (acme_issue(&ires, c, p, &ireq, &err) == APR_SUCCESS) {
            break;
        }
        if (after_failure(res, c, &ireq, &s, areq, fallback, &registered,
                          &tried, &err, p) == GIVE_UP) {
            res->failed_name = ireq.failed_name;
            if (*tried) {
                acme_err_wrap(&err, p, "%s", apr_pstrndup(p, tried,
                                                          strlen(tried) - 2));
            }
            goto failed;
        }
    }
    res->ok = 1;
    res->chain_pem = ires->chain_pem;
    res->chain_issuer = ires->chain_issuer;
    res->challenge_types = ires->challenge_types;
    res->account_url = c->account_url;
    return;
failed:
    attempt_fail(res, &err);
}
