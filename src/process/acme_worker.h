/* mod_acme: the unprivileged worker and its messages.
 *
 * The supervisor (root) starts `acmectl worker` as the configured user and
 * writes a request (a JSON object on one line) to its standard input; the
 * worker talks to the CA, writes http-01, tls-alpn-01 and tls-sni-01
 * answers into the challenge directory, and ends the request with one
 * result (a JSON object on one line) on its standard output. Then it waits
 * for the next request on the same standard input; end of file ends it. For dns-01 it asks the
 * supervisor to run the hook: a line {"type":"dns","action":"setup"|
 * "cleanup","domain":...,"value":...,"remaining":N,"all":...} on stdout,
 * answered by {"ok":true} or {"ok":false,"error":...} on stdin. The worker
 * gets the account key and the CSR, never a certificate's private key.
 *
 * Answer files in the challenge directory (names never valid http-01
 * tokens, which are base64url without dots):
 *   <token>                      http-01 key authorization
 *   <name>.tls-alpn-01.pem       challenge certificate + throwaway key
 *   <sni-name>.tls-sni-01.pem    challenge certificate + throwaway key
 */
#ifndef ACME_WORKER_H
#define ACME_WORKER_H

#include "acme_common.h"
#include "acme_attempt.h"
#include <jansson.h>

#define ACME_WORKER_MAX_MSG (4 * 1024 * 1024)

typedef struct acme_worker_req_t {
    const char *type;                /* "order" (default), "ari" or
                                        "account" (register or find the
                                        account only) */
    const char *name;                /* lineage, for log lines */
    const char *directory;           /* the CA's directory URL */
    const char *ca_file;             /* CA bundle for the CA's TLS or NULL */
    const char *account_key_pem;
    const char *account_url;         /* NULL: register (or find) the account */
    apr_array_header_t *contacts;    /* const char* */
    int agree_tos;
    const char *eab_kid;
    const char *eab_hmac;
    apr_array_header_t *names;       /* const char* */
    const char *csr_b64url;          /* DER, base64url */
    apr_array_header_t *challenges;  /* allowed types, preference order */
    const char *challenge_dir;       /* where http-01 answers go */
    int dns_hook;                    /* the supervisor runs a dns-01 hook */
    const char *dns_resolver;        /* where to see the TXT records */
    long dns_timeout;                /* seconds to wait for them */
    const char *profile;             /* the CA profile to ask for */
    const char *preferred_chain;     /* issuer CN of the preferred chain */
    const char *replaces;            /* ARI CertID of the replaced cert */
    apr_array_header_t *cert_ids;    /* "ari": the CertIDs to look up */
} acme_worker_req_t;

typedef struct acme_worker_res_t {
    acme_attempt_res_t a;            /* an order's outcome (ok, chain,
                                        error, ...); for the other jobs ok,
                                        error and the account's URL and
                                        registration */
    int ari;                         /* "ari": the CA offers renewalInfo */
    const char *windows;             /* "ari": JSON {certid: {"start",
                                        "end","retry_after","explanation"}
                                        or {"error"}} */
} acme_worker_res_t;

/* Serialises a request / result as JSON text (pool memory). */
const char *acme_worker_req_format(apr_pool_t *p, const acme_worker_req_t *req);
const char *acme_worker_res_format(apr_pool_t *p, const acme_worker_res_t *res);

/* Parses a request / result; ACME_EPROTO with the reason when malformed or
 * when a required member is missing. */
apr_status_t acme_worker_req_parse(acme_worker_req_t **preq, apr_pool_t *p,
                                   const char *text, apr_size_t len,
                                   acme_err_t *err);
apr_status_t acme_worker_res_parse(acme_worker_res_t **pres, apr_pool_t *p,
                                   const char *text, apr_size_t len,
                                   acme_err_t *err);

/* What a worker keeps from one request to the next: the CA client (its
 * directory, its connection, the freshest nonce) and the parsed account
 * key. A worker serves every request of a supervisor pass, one after the
 * other, so these are fetched once per pass, not once per order. */
typedef struct acme_worker_session_t acme_worker_session_t;

/* Creates an empty session in p (the client is made by the first
 * request and remade when a request names another CA or CA bundle). */
acme_worker_session_t *acme_worker_session_make(apr_pool_t *p);

/* The worker's job: account (registering when req->account_url is NULL),
 * order, http-01 answers in req->challenge_dir, finalize, download; or,
 * for type "ari", the CA's renewal windows. Uses and updates sess; what
 * belongs to this request alone is allocated in p. Fills res (ok or
 * error) and never fails otherwise. */
void acme_worker_run(acme_worker_res_t *res, const acme_worker_req_t *req,
                     acme_worker_session_t *sess, apr_pool_t *p);

#endif
