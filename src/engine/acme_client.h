/* mod_acme: an ACME client session: the CA's directory, nonces and signed
 * requests (RFC 8555 §6, §7.1.1, §7.2). */
#ifndef ACME_CLIENT_H
#define ACME_CLIENT_H

#include "acme_common.h"
#include "acme_http.h"
#include "acme_key.h"
#include <jansson.h>

/* Let's Encrypt's directories, for the "letsencrypt" shorthands. */
#define ACME_LE_PRODUCTION "https://acme-v02.api.letsencrypt.org/directory"
#define ACME_LE_STAGING    "https://acme-staging-v02.api.letsencrypt.org/directory"

typedef struct acme_client_t {
    apr_pool_t *pool;
    acme_http_t *http;
    const char *directory_url;
    json_t *directory;           /* owned; released with the pool */
    const char *url_new_nonce;
    const char *url_new_account;
    const char *url_new_order;
    const char *url_revoke_cert;
    const char *url_key_change;
    const char *url_renewal_info; /* ARI, NULL when the CA has none */
    const char *terms_of_service; /* meta.termsOfService or NULL */
    int eab_required;             /* meta.externalAccountRequired */
    json_t *profiles;             /* meta.profiles or NULL (borrowed) */
    const char *nonce;            /* the freshest unused nonce */
    char nonce_buf[256];          /* holds it (a long-lived client must
                                     not allocate per request) */
    acme_key_t *account_key;
    const char *account_url;      /* kid; NULL until the account is known */
    int max_nonce_retries;        /* badNonce retries per request */
    apr_interval_time_t poll_timeout; /* overall bound on polling */
    apr_interval_time_t poll_first;   /* shortest wait between polls; it
                                         doubles up to 2 s (a Retry-After
                                         from the CA wins) */
    apr_interval_time_t took_authz;   /* how long the CA took to validate
                                         last time (0: not known yet) */
    apr_interval_time_t took_order;   /* how long it took to issue */
} acme_client_t;

/* Resolves "letsencrypt" / "letsencrypt-staging" to URLs; other values are
 * returned unchanged. */
const char *acme_client_ca_url(const char *name);

/* Creates a client for the CA whose directory is at url. Fetches nothing. */
apr_status_t acme_client_create(acme_client_t **pclient, apr_pool_t *p,
                                const char *url, const char *ca_bundle,
                                acme_err_t *err);

/* Sends every request of this client (its acme_http_t, c->http) to fn
 * instead of the network; for tests, which answer as a CA would (see
 * acme_http_set_transport). fn NULL restores the network. */
void acme_client_set_transport(acme_client_t *c, acme_http_transport_fn *fn,
                               void *baton);

/* The first wait of a poll (validation, issuance): took, what the CA took
 * the last time on this client (a long-lived worker learns it over its
 * first orders), or poll_first while that is not known; at most 10 s. */
apr_interval_time_t acme_client_poll_wait(const acme_client_t *c,
                                          apr_interval_time_t took);

/* Sleeps until that first wait has passed since start (the request that
 * started the CA's work); not at all when it has already passed. */
void acme_client_poll_sleep_first(const acme_client_t *c,
                                  apr_interval_time_t took, apr_time_t start);

/* What to learn from a poll that ended: took is the time from the request
 * that started the CA's work to the sending of the poll that saw it done,
 * polls how many polls that needed. When the first poll already saw it
 * done, the wait may have been longer than needed: a quarter less than
 * took. When it took more polls: took. Either way at most twice learned
 * plus poll_first, so that one slow answer (the first orders while httpd
 * is still starting, or a second authorization answered long before it is
 * polled) is not taken as the CA's pace. A negative took (the clock went
 * back) keeps learned. */
apr_interval_time_t acme_client_poll_learn(const acme_client_t *c,
                                           apr_interval_time_t learned,
                                           apr_interval_time_t took,
                                           int polls);

/* Fetches and checks the directory (newNonce, newAccount, newOrder are
 * required). */
apr_status_t acme_client_load_directory(acme_client_t *c, acme_err_t *err);

/* Sets the account key and URL used for "kid" requests. */
void acme_client_set_account(acme_client_t *c, acme_key_t *key,
                             const char *account_url);

/*
 * Sends a signed POST to url: payload is JSON text, or NULL for
 * POST-as-GET. use_jwk embeds the account key (newAccount, revocation by
 * certificate key) instead of the kid; sign_key overrides the key used
 * (NULL: the account key). Takes a nonce (newNonce when none is cached),
 * keeps the Replay-Nonce of every answer, retries badNonce up to
 * max_nonce_retries times, and turns error statuses into err (problem text,
 * retry_after). Returns the response on any 2xx.
 */
apr_status_t acme_client_post(acme_http_resp_t **presp, acme_client_t *c,
                              apr_pool_t *p, const char *url,
                              const char *payload, int use_jwk,
                              const acme_key_t *sign_key, acme_err_t *err);

/* Like acme_client_post, and parses the 2xx answer as a JSON object
 * (caller owns *pjson). */
apr_status_t acme_client_post_json(json_t **pjson, acme_http_resp_t **presp,
                                   acme_client_t *c, apr_pool_t *p,
                                   const char *url, const char *payload,
                                   int use_jwk, acme_err_t *err);

/* Parses a response body as a JSON object (caller owns *pjson); fails with
 * ACME_EPROTO "malformed JSON from the CA ..." otherwise. */
apr_status_t acme_json_parse(json_t **pjson, apr_pool_t *p,
                             const acme_http_resp_t *resp, acme_err_t *err);

/* Returns a JSON string member, duplicated into p, or NULL. */
const char *acme_json_str(apr_pool_t *p, json_t *obj, const char *key);

/* Sleeps for d, but at least min and at most max. */
void acme_sleep_bounded(apr_interval_time_t d, apr_interval_time_t min,
                        apr_interval_time_t max);

#endif
