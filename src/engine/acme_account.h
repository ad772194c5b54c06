/* mod_acme: ACME accounts (RFC 8555 §7.3). */
#ifndef ACME_ACCOUNT_H
#define ACME_ACCOUNT_H

#include "acme_client.h"

/* What a new account is registered with. */
typedef struct acme_account_req_t {
    const apr_array_header_t *contacts; /* "mailto:..." or bare addresses */
    int agree_tos;                      /* termsOfServiceAgreed */
    const char *eab_kid;                /* External Account Binding, or NULL */
    const char *eab_hmac;               /* base64url HMAC key */
} acme_account_req_t;

/*
 * Registers the key as an account (newAccount). Checks first what the
 * directory requires: terms of service agreement, EAB. On success sets the
 * client's account (key and URL from Location) and returns the account
 * object in *preg (caller owns it).
 */
apr_status_t acme_account_register(json_t **preg, acme_client_t *c,
                                   apr_pool_t *p, acme_key_t *key,
                                   const acme_account_req_t *req,
                                   acme_err_t *err);

/* Rolls the client's account over to new_key (RFC 8555 §7.3.5): an inner
 * JWS signed by the new key ({"account", "oldKey"}) inside an outer one
 * signed by the current key. On success the client uses new_key. */
apr_status_t acme_account_key_change(acme_client_t *c, apr_pool_t *p,
                                     acme_key_t *new_key, acme_err_t *err);

#endif
