/* mod_acme: JSON Web Keys and Signatures as ACME uses them (RFC 7515,
 * RFC 7517, RFC 7638, RFC 8555 §6.2 and §7.3.4). */
#ifndef ACME_JWS_H
#define ACME_JWS_H

#include "acme_common.h"
#include "acme_key.h"
#include <jansson.h>

/* Returns the JWS "alg" for a key: "ES256" (P-256), "ES384" (P-384) or
 * "RS256" (RSA); NULL for anything else. */
const char *acme_jws_alg(const acme_key_t *key);

/* Builds the public JWK of a key: {"crv","kty","x","y"} for EC,
 * {"e","kty","n"} for RSA. Caller owns the returned reference. */
json_t *acme_jwk_public(const acme_key_t *key);

/* Computes the RFC 7638 thumbprint (SHA-256, base64url) of the key's public
 * JWK. */
apr_status_t acme_jwk_thumbprint(const char **pthumb, apr_pool_t *p,
                                 const acme_key_t *key);

/* Same, for a JWK given as JSON (used by the unit test vector). */
apr_status_t acme_jwk_thumbprint_json(const char **pthumb, apr_pool_t *p,
                                      json_t *jwk);

/*
 * Signs an ACME request in flattened JSON serialisation:
 * {"protected":..., "payload":..., "signature":...}.
 * payload: the JSON text to sign, or NULL for POST-as-GET (empty payload).
 * kid: the account URL, or NULL to embed the "jwk" instead.
 * nonce may be NULL (EAB inner JWS has none). url is required.
 * Returns the serialised JWS text in *pjws.
 */
apr_status_t acme_jws_sign(const char **pjws, apr_pool_t *p,
                           const char *payload, const acme_key_t *key,
                           const char *kid, const char *nonce,
                           const char *url, acme_err_t *err);

/*
 * Builds the externalAccountBinding object of RFC 8555 §7.3.4: a JWS over
 * the account key's public JWK, protected {"alg":"HS256","kid":eab_kid,
 * "url":url}, MAC'ed with the base64url-decoded HMAC key. Caller owns the
 * returned reference.
 */
apr_status_t acme_jws_eab(json_t **peab, apr_pool_t *p,
                          const acme_key_t *account_key, const char *eab_kid,
                          const char *eab_hmac_b64url, const char *url,
                          acme_err_t *err);

/* The key authorization of RFC 8555 §8.1: token "." thumbprint. A token
 * that is not base64url (at most 512 characters) fails with ACME_EPROTO, so
 * that nothing else from a CA reaches file names or TXT records. */
apr_status_t acme_key_authorization(const char **pkeyauthz, apr_pool_t *p,
                                    const char *token,
                                    const acme_key_t *account_key);

/* base64url(SHA-256(key authorization)): the dns-01 TXT value. */
const char *acme_dns01_value(apr_pool_t *p, const char *keyauthz);

#endif
