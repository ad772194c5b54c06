/* mod_acme: one certificate issuance, start to finish: order,
 * authorizations answered through a solver, finalize, download. */
#ifndef ACME_ISSUE_H
#define ACME_ISSUE_H

#include "acme_order.h"

typedef struct acme_solver_t acme_solver_t;

/* Answers challenges. The front end (acmectl's standalone, webroot and
 * manual modes; the module's challenge directory) provides one. */
struct acme_solver_t {
    /* challenge types it can answer, in preference order (const char*) */
    const apr_array_header_t *types;
    /* Makes the answer to ch available. remaining: how many challenges
     * follow this one; all_domains: the names being validated, comma
     * separated. */
    apr_status_t (*setup)(acme_solver_t *s, apr_pool_t *p,
                          const acme_authz_t *authz,
                          const acme_challenge_t *ch, int remaining,
                          const char *all_domains, acme_err_t *err);
    /* Called once after every setup succeeded, before the CA is told to
     * validate (may be NULL): wait for DNS, start a listener... */
    apr_status_t (*ready)(acme_solver_t *s, apr_pool_t *p, acme_err_t *err);
    /* Removes the answer; called for every challenge whose setup ran. */
    void (*cleanup)(acme_solver_t *s, apr_pool_t *p,
                    const acme_authz_t *authz, const acme_challenge_t *ch);
    void *baton;
};

typedef struct acme_issue_req_t {
    const apr_array_header_t *names;    /* validated names */
    const unsigned char *csr_der;
    apr_size_t csr_len;
    const char *profile;                /* or NULL */
    const char *replaces;               /* ARI CertID or NULL */
    acme_solver_t *solver;
    const char *preferred_chain;        /* issuer CN of the chain's topmost
                                           certificate to prefer, or NULL */
    const char *failed_type;            /* out: the challenge type whose
                                           validation failed, if one did */
    const char *failed_name;            /* out: the name whose
                                           authorization failed */
} acme_issue_req_t;

typedef struct acme_issue_result_t {
    const char *chain_pem;              /* leaf first (the preferred chain
                                           when one was asked for and
                                           offered) */
    const char *chain_issuer;           /* issuer CN of its topmost cert */
    apr_array_header_t *alternates;     /* URLs of alternate chains */
    const char *order_url;
    const char *cert_url;
    const char *challenge_types;        /* types used, comma separated */
} acme_issue_result_t;

/*
 * Runs one issuance for req->names with client c (account already set):
 * newOrder; for each pending authorization, the solver's preferred
 * challenge is set up; then all are answered and polled; answers are
 * cleaned up whatever happened; finalize with the CSR; download.
 * Any failure returns with err naming the name and the CA's reason.
 */
apr_status_t acme_issue(acme_issue_result_t **pres, acme_client_t *c,
                        apr_pool_t *p, acme_issue_req_t *req,
                        acme_err_t *err);

#endif
