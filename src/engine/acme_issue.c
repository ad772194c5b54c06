/* mod_acme: one certificate issuance, start to finish. */
#include <string.h>

#include "acme_issue.h"
#include "acme_cert.h"
#include "acme_util.h"

/* The issuer CN of the last certificate of a PEM chain ("" if none). */
static const char *top_issuer(apr_pool_t *p, const char *pem)
{
    apr_array_header_t *certs;

    if (!pem || acme_chain_parse(&certs, p, pem, strlen(pem), NULL)
        != APR_SUCCESS || !certs->nelts) {
        return "";
    }
    return acme_cert_issuer_cn(p, APR_ARRAY_IDX(certs, certs->nelts - 1,
                                                acme_cert_t *));
}

/* The authorizations of order that need an answer (acme_authz_t*, each
 * with its chosen challenge prepared) go to todo. */
static apr_status_t pending_authzs(apr_array_header_t *todo, acme_client_t *c,
                                   apr_pool_t *p, const acme_order_t *order,
                                   const acme_issue_req_t *req,
                                   acme_err_t *err)
{
    apr_status_t rv = APR_SUCCESS;
    int i, j;

    for (i = 0; i < order->authz_urls->nelts; i++) {
        acme_authz_t *a;
        const char *offered = "";
        rv = acme_authz_fetch(&a, c, p, APR_ARRAY_IDX(order->authz_urls, i,
                                                      const char *), err);
        if (rv != APR_SUCCESS) {
            goto cleanup;
        }
        if (!strcmp(a->status, "valid")) {
            acme_log(ACME_LOG_INFO, "%s: authorization already valid",
                     a->id_value);
            continue;
        }
        if (strcmp(a->status, "pending")) {
            rv = acme_err_set(err, p, ACME_ECHALLENGE,
                              "authorization for %s is %s", a->id_value,
                              a->status);
            goto cleanup;
        }
        if (!acme_authz_pick(a, req->solver->types)) {
            for (j = 0; j < a->challenges->nelts; j++) {
                offered = apr_pstrcat(p, offered, j ? ", " : "",
                                      APR_ARRAY_IDX(a->challenges, j,
                                                    acme_challenge_t *)->type,
                                      NULL);
            }
            rv = acme_err_set(err, p, ACME_ECHALLENGE,
                              "no usable challenge for %s%s: the CA offers "
                              "%s, allowed here: %s",
                              a->wildcard ? "*." : "", a->id_value, offered,
                              acme_array_join(p, req->solver->types, ", "));
            goto cleanup;
        }
        rv = acme_challenge_prepare(a->chosen, c, p);
        if (rv != APR_SUCCESS) {
            rv = acme_err_set(err, p, rv, "cannot compute the key "
                              "authorization for %s", a->id_value);
            goto cleanup;
        }
        APR_ARRAY_PUSH(todo, acme_authz_t *) = a;
    }
cleanup:
    return rv;
}

/* The "*.name" or "name" an authorization is for. */
static const char *authz_name(apr_pool_t *p, const acme_authz_t *a)
{
    return apr_pstrcat(p, a->wildcard ? "*." : "", a->id_value, NULL);
}

/* Sets up every answer (those set up go to done, the types used to used),
 * then the solver's ready step. */
static apr_status_t setup_answers(apr_array_header_t *done,
                                  apr_array_header_t *used, apr_pool_t *p,
                                  const apr_array_header_t *todo,
                                  acme_issue_req_t *req, acme_err_t *err)
{
    const char *all_domains = "";
    apr_status_t rv = APR_SUCCESS;
    int i;

    for (i = 0; i < todo->nelts; i++) {
        all_domains = apr_pstrcat(p, all_domains, i ? "," : "",
                                  APR_ARRAY_IDX(todo, i, acme_authz_t *)
                                  ->id_value, NULL);
    }
    for (i = 0; i < todo->nelts; i++) {
        acme_authz_t *a = APR_ARRAY_IDX(todo, i, acme_authz_t *);
        rv = req->solver->setup(req->solver, p, a, a->chosen,
                                todo->nelts - i - 1, all_domains, err);
        if (rv != APR_SUCCESS) {
            acme_err_wrap(err, p, "%s for %s", a->chosen->type,
                          authz_name(p, a));
            req->failed_type = a->chosen->type;
            req->failed_name = authz_name(p, a);
            goto cleanup;
        }
        APR_ARRAY_PUSH(done, acme_authz_t *) = a;
        if (!acme_array_contains(used, a->chosen->type)) {
            APR_ARRAY_PUSH(used, const char *) = a->chosen->type;
        }
    }
    if (todo->nelts && req->solver->ready) {
        rv = req->solver->ready(req->solver, p, err);
        if (rv != APR_SUCCESS) {
            req->failed_type = APR_ARRAY_IDX(todo, 0, acme_authz_t *)
                ->chosen->type;
        }
    }
cleanup:
    return rv;
}

/* Tells the CA every answer is ready, then polls each authorization. */
static apr_status_t validate(acme_client_t *c, apr_pool_t *p,
                             const apr_array_header_t *todo,
                             acme_issue_req_t *req, acme_err_t *err)
{
    apr_status_t rv = APR_SUCCESS;
    int i;

    for (i = 0; i < todo->nelts; i++) {
        acme_authz_t *a = APR_ARRAY_IDX(todo, i, acme_authz_t *);
        rv = acme_challenge_respond(c, p, a->chosen, err);
        if (rv != APR_SUCCESS) {
            acme_err_wrap(err, p, "%s", authz_name(p, a));
            goto cleanup;
        }
        a->responded = apr_time_now();
    }
    for (i = 0; i < todo->nelts; i++) {
        acme_authz_t *a = APR_ARRAY_IDX(todo, i, acme_authz_t *);
        rv = acme_authz_poll(a, c, p, err);
        if (rv != APR_SUCCESS) {
            if (rv == ACME_ECHALLENGE) {
                req->failed_type = a->chosen->type;
                req->failed_name = authz_name(p, a);
            }
            goto cleanup;
        }
        acme_log(ACME_LOG_INFO, "%s: validated with %s", authz_name(p, a),
                 a->chosen->type);
    }
cleanup:
    return rv;
}

/* Certbot's rule for --preferred-chain: the chain whose topmost
 * certificate was issued by that CN; the default chain when none is. */
static void prefer_chain(acme_issue_result_t *res, acme_client_t *c,
                         apr_pool_t *p, const char *preferred)
{
    int i;

    if (!preferred || !strcasecmp(res->chain_issuer, preferred)) {
        return;
    }
    for (i = 0; res->alternates && i < res->alternates->nelts; i++) {
        const char *url = APR_ARRAY_IDX(res->alternates, i, const char *);
        const char *alt_pem, *cn;
        acme_err_t lerr;
        if (acme_cert_download(&alt_pem, NULL, c, p, url, &lerr)
            != APR_SUCCESS) {
            acme_log(ACME_LOG_WARN, "alternate chain %s: %s", url, lerr.msg);
            continue;
        }
        cn = top_issuer(p, alt_pem);
        if (!strcasecmp(cn, preferred)) {
            res->chain_pem = alt_pem;
            res->chain_issuer = cn;
            return;
        }
    }
    acme_log(ACME_LOG_NOTICE, "no chain issued by \"%s\" is offered; keeping "
             "the default chain (topmost issuer \"%s\")", preferred,
             res->chain_issuer);
}

apr_status_t acme_issue(acme_issue_result_t **pres, acme_client_t *c,
                        apr_pool_t *p, acme_issue_req_t *req,
                        acme_err_t *err)
{
    acme_issue_result_t *res;
    acme_order_t *order = NULL;
    apr_array_header_t *todo, *done, *used;
    apr_status_t rv;
    int i;

    res = apr_pcalloc(p, sizeof(*res));
    todo = apr_array_make(p, 4, sizeof(acme_authz_t *));
    done = apr_array_make(p, 4, sizeof(acme_authz_t *));
    used = apr_array_make(p, 2, sizeof(const char *));

    rv = acme_order_new(&order, c, p, req->names, req->profile, req->replaces,
                        err);
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    res->order_url = order->url;
    rv = pending_authzs(todo, c, p, order, req, err);
    if (rv == APR_SUCCESS) {
        rv = setup_answers(done, used, p, todo, req, err);
    }
    if (rv == APR_SUCCESS) {
        rv = validate(c, p, todo, req, err);
    }
    /* Every authorization is valid, so the order is ready: it is finalized
     * straight away, as other clients do, without fetching it first
     * (acme_order_finalize fetches it when the CA says it is not ready). */
    if (rv == APR_SUCCESS && strcmp(order->status, "valid")) {
        rv = acme_order_finalize(order, c, p, req->csr_der, req->csr_len,
                                 err);
    }
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    res->cert_url = order->certificate_url;
    rv = acme_cert_download(&res->chain_pem, &res->alternates, c, p,
                            order->certificate_url, err);
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    res->chain_issuer = top_issuer(p, res->chain_pem);
    prefer_chain(res, c, p, req->preferred_chain);
    res->challenge_types = acme_array_join(p, used, ",");
    *pres = res;
cleanup:
    for (i = 0; i < done->nelts; i++) {
        acme_authz_t *a = APR_ARRAY_IDX(done, i, acme_authz_t *);
        req->solver->cleanup(req->solver, p, a, a->chosen);
    }
    return rv;
}
