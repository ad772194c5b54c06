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

apr_status_t acme_issue(acme_issue_result_t **pres, acme_client_t *c,
                        apr_pool_t *p, acme_issue_req_t *req,
                        acme_err_t *err)
{
    acme_issue_result_t *res;
    acme_order_t *order = NULL;
    apr_array_header_t *todo, *done, *used;
    const char *all_domains;
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

    /* Which authorizations need an answer, and with what. */
    for (i = 0; i < order->authz_urls->nelts; i++) {
        acme_authz_t *a;
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
            const char *offered = "";
            int j;
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

    all_domains = "";
    for (i = 0; i < todo->nelts; i++) {
        acme_authz_t *a = APR_ARRAY_IDX(todo, i, acme_authz_t *);
        all_domains = apr_pstrcat(p, all_domains, i ? "," : "", a->id_value,
                                  NULL);
    }

    /* Set up every answer, then tell the CA. */
    for (i = 0; i < todo->nelts; i++) {
        acme_authz_t *a = APR_ARRAY_IDX(todo, i, acme_authz_t *);
        rv = req->solver->setup(req->solver, p, a, a->chosen,
                                todo->nelts - i - 1, all_domains, err);
        if (rv != APR_SUCCESS) {
            acme_err_wrap(err, p, "%s for %s%s", a->chosen->type,
                          a->wildcard ? "*." : "", a->id_value);
            req->failed_type = a->chosen->type;
            req->failed_name = apr_pstrcat(p, a->wildcard ? "*." : "",
                                           a->id_value, NULL);
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
            goto cleanup;
        }
    }
    for (i = 0; i < todo->nelts; i++) {
        acme_authz_t *a = APR_ARRAY_IDX(todo, i, acme_authz_t *);
        rv = acme_challenge_respond(c, p, a->chosen, err);
        if (rv != APR_SUCCESS) {
            acme_err_wrap(err, p, "%s%s", a->wildcard ? "*." : "",
                          a->id_value);
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
                req->failed_name = apr_pstrcat(p, a->wildcard ? "*." : "",
                                               a->id_value, NULL);
            }
            goto cleanup;
        }
        acme_log(ACME_LOG_INFO, "%s%s: validated with %s",
                 a->wildcard ? "*." : "", a->id_value, a->chosen->type);
    }

    /* Every authorization is valid, so the order is ready: it is finalized
     * straight away, as other clients do, without fetching it first
     * (acme_order_finalize fetches it when the CA says it is not ready). */
    if (strcmp(order->status, "valid")) {
        rv = acme_order_finalize(order, c, p, req->csr_der, req->csr_len,
                                 err);
        if (rv != APR_SUCCESS) {
            goto cleanup;
        }
    }
    res->cert_url = order->certificate_url;
    rv = acme_cert_download(&res->chain_pem, &res->alternates, c, p,
                            order->certificate_url, err);
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    res->chain_issuer = top_issuer(p, res->chain_pem);
    if (req->preferred_chain && strcasecmp(res->chain_issuer,
                                           req->preferred_chain)) {
        /* Certbot's rule: the chain whose topmost certificate was issued by
         * that CN; the default chain when none matches */
        for (i = 0; res->alternates && i < res->alternates->nelts; i++) {
            const char *alt_pem, *cn;
            acme_err_t lerr;
            if (acme_cert_download(&alt_pem, NULL, c, p,
                                   APR_ARRAY_IDX(res->alternates, i,
                                                 const char *), &lerr)
                != APR_SUCCESS) {
                acme_log(ACME_LOG_WARN, "alternate chain %s: %s",
                         APR_ARRAY_IDX(res->alternates, i, const char *),
                         lerr.msg);
                continue;
            }
            cn = top_issuer(p, alt_pem);
            if (!strcasecmp(cn, req->preferred_chain)) {
                res->chain_pem = alt_pem;
                res->chain_issuer = cn;
                break;
            }
        }
        if (strcasecmp(res->chain_issuer, req->preferred_chain)) {
            acme_log(ACME_LOG_NOTICE, "no chain issued by \"%s\" is offered; "
                     "keeping the default chain (topmost issuer \"%s\")",
                     req->preferred_chain, res->chain_issuer);
        }
    }
    res->challenge_types = acme_array_join(p, used, ",");
    *pres = res;
cleanup:
    for (i = 0; i < done->nelts; i++) {
        acme_authz_t *a = APR_ARRAY_IDX(done, i, acme_authz_t *);
        req->solver->cleanup(req->solver, p, a, a->chosen);
    }
    return rv;
}
