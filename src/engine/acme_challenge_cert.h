/* mod_acme: the certificates that answer TLS-based challenges:
 * tls-alpn-01 (RFC 8737) and tls-sni-01 (ACME draft-01 §7.3, retired by
 * public CAs in 2019, kept for CAs that still offer it). */
#ifndef ACME_CHALLENGE_CERT_H
#define ACME_CHALLENGE_CERT_H

#include "acme_common.h"
#include "acme_cert.h"
#include "acme_key.h"

#define ACME_OID_ACME_IDENTIFIER "1.3.6.1.5.5.7.1.31"
#define ACME_ALPN_PROTOCOL "acme-tls/1"

/*
 * Makes the tls-alpn-01 answer for `name`: a new P-256 key and a self-signed
 * certificate whose only subjectAltName is `name` and which carries the
 * critical id-pe-acmeIdentifier extension holding SHA-256(keyauthz) as a DER
 * OCTET STRING. The key is throwaway: it proves nothing but the challenge.
 */
apr_status_t acme_challenge_cert_alpn(acme_cert_t **pcert,
                                      acme_key_t **pkey, apr_pool_t *p,
                                      const char *name, const char *keyauthz,
                                      acme_err_t *err);

/* The tls-sni-01 SNI name for a key authorization:
 * Z[0:32] "." Z[32:64] ".acme.invalid", Z the lowercase hex SHA-256. */
const char *acme_challenge_sni_name(apr_pool_t *p, const char *keyauthz);

/* Makes the tls-sni-01 answer: a throwaway key and a self-signed certificate
 * for acme_challenge_sni_name(keyauthz). */
apr_status_t acme_challenge_cert_sni(acme_cert_t **pcert, acme_key_t **pkey,
                                     apr_pool_t *p, const char *keyauthz,
                                     acme_err_t *err);

/* Returns the SHA-256 in a certificate's acmeIdentifier extension (32
 * bytes) and whether it is critical; NULL when absent or malformed. */
const unsigned char *acme_challenge_cert_alpn_digest(apr_pool_t *p,
                                                     const acme_cert_t *cert,
                                                     int *pcritical);

#endif
