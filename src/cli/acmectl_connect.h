/* acmectl: the connection to the CA and the account it is made with. */
#ifndef ACMECTL_CONNECT_H
#define ACMECTL_CONNECT_H

#include <jansson.h>

#include "acmectl_ctx.h"
#include "acme_account.h"
#include "acme_client.h"

/* Creates the client for --server, loads its directory, opens (creating)
 * the store and makes sure an account exists (stored or newly registered).
 * *paccount_id receives the account's id in the store. */
apr_status_t acmectl_connect(acme_client_t **pclient, acme_store_t **pstore,
                             const char **paccount_id, acmectl_t *ctl,
                             acme_err_t *err);

/* What the account of account_id is registered again with when the CA
 * forgot it: -m's contacts, else those stored with it; --agree-tos and
 * the EAB options. */
void acmectl_account_req(acme_account_req_t *areq, acmectl_t *ctl,
                         acme_store_t *store, const char *account_id);

/* Returns non-zero when err is the CA's accountDoesNotExist: it no longer
 * knows the stored account (it was reset, or forgot it). */
int acmectl_account_gone(const acme_err_t *err);

/* After acmectl_account_gone(): registers the client's account key again
 * (contacts of -m, else those stored with the account; --agree-tos and the
 * EAB options), stores the new account URL under account_id's directory and
 * says so on stdout. On success the client uses the new account; the
 * caller retries what failed, once. */
apr_status_t acmectl_account_reregister(acmectl_t *ctl, acme_client_t *client,
                                        acme_store_t *store,
                                        const char *account_id,
                                        acme_err_t *err);

/* The registration stored with account id of server (regr.json's body),
 * or NULL; the caller releases it. */
json_t *acmectl_account_body(acme_store_t *store, const char *server,
                             const char *id, apr_pool_t *p);

#endif
