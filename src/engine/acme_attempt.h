/* mod_acme: one attempt at the CA, the network half of the issuance path.
 *
 * The root side (acme_obtain.h) decides what is ordered and makes the key
 * and the CSR; an attempt takes only what the CA must see (the names, the
 * CSR, the order's profile, chain preference and "replaces") and nothing
 * secret but the account key the client already holds: an acme_issue_req_t
 * (acme_issue.h) without its solver. The module runs it in its unprivileged
 * worker, acmectl in its own process; both call acme_attempt_run. */
#ifndef ACME_ATTEMPT_H
#define ACME_ATTEMPT_H

#include "acme_account.h"
#include "acme_issue.h"

/* What came of it. */
typedef struct acme_attempt_res_t {
    int ok;
    const char *chain_pem;                /* leaf first */
    const char *chain_issuer;             /* issuer CN of its topmost cert */
    const char *challenge_types;          /* types that validated, "a,b" */
    const char *error;                    /* one line, when !ok */
    const char *problem_type;             /* the CA's problem type, or NULL */
    const char *failed_name;              /* the name whose authorization
                                             failed, if one did */
    apr_interval_time_t retry_after;      /* the CA's Retry-After, or 0 */
    const char *account_url;              /* the account used */
    const char *registration;             /* JSON of a registration made in
                                             this attempt, or NULL */
    const char *forgotten_account;        /* the URL the CA no longer knew
                                             (registered again), or NULL */
    const char *replaces_refused;         /* the CA's reason when it refused
                                             "replaces" (ordered without),
                                             or NULL */
} acme_attempt_res_t;

/* The attempt's failure as an error (rv ACME_ECHALLENGE when a name's
 * validation failed, else ACME_EGENERAL; msg, problem type and
 * Retry-After from res). */
void acme_attempt_err(acme_err_t *err, const acme_attempt_res_t *res,
                      apr_pool_t *p);

/* Registers (or finds) c's account key with areq: res gets the account
 * URL and the registration (JSON text). */
apr_status_t acme_attempt_register(acme_attempt_res_t *res, acme_client_t *c,
                                   const acme_account_req_t *areq,
                                   apr_pool_t *p, acme_err_t *err);

/*
 * Runs one attempt with client c (directory loaded, account key set; the
 * account URL may be NULL: then areq registers it first). The solver's
 * preferred challenge type is tried first; with fallback, when it fails
 * for a name, a new order with the next type. When the CA refuses "replaces"
 * (alreadyReplaced, 409) the order is made without it; when it no longer
 * knows the account (accountDoesNotExist), the key is registered again
 * once with areq and the order made again. Fills *res; never fails
 * otherwise.
 */
void acme_attempt_run(acme_attempt_res_t *res, acme_client_t *c,
                      const acme_issue_req_t *req, acme_solver_t *solver,
                      const acme_account_req_t *areq, int fallback,
                      apr_pool_t *p);

#endif
