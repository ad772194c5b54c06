/* mod_acme: X.509 certificates and PEM chains. */
#ifndef ACME_CERT_H
#define ACME_CERT_H

#include "acme_common.h"
#include "acme_key.h"
#include <openssl/x509.h>

/* A certificate; its X509 is freed when the pool is cleared. */
typedef struct acme_cert_t acme_cert_t;

/* Splits a PEM chain into certificates (acme_cert_t*), leaf first, in the
 * order given. Text between PEM blocks is ignored; a malformed block or a
 * chain with no certificate fails with ACME_EPROTO. */
apr_status_t acme_chain_parse(apr_array_header_t **pcerts, apr_pool_t *p,
                              const char *pem, apr_size_t len,
                              acme_err_t *err);

/* Loads a PEM chain file (see acme_chain_parse). */
apr_status_t acme_chain_load(apr_array_header_t **pcerts, apr_pool_t *p,
                             const char *path, acme_err_t *err);

/* Serialises one certificate as PEM. */
const char *acme_cert_to_pem(apr_pool_t *p, const acme_cert_t *cert);

/* Serialises certificates [from, to) of a chain as concatenated PEM. */
const char *acme_chain_to_pem(apr_pool_t *p, const apr_array_header_t *certs,
                              int from, int to);

/* The DNS and IP names of the subjectAltName (const char*, lowercased; IPs
 * in text form). */
apr_array_header_t *acme_cert_names(apr_pool_t *p, const acme_cert_t *cert);

/* notBefore / notAfter as apr_time_t. */
apr_time_t acme_cert_not_before(const acme_cert_t *cert);
apr_time_t acme_cert_not_after(const acme_cert_t *cert);

/* Serial number as uppercase-free lowercase hex without separators
 * (as `openssl x509 -serial` prints it, lowercased). */
const char *acme_cert_serial_hex(apr_pool_t *p, const acme_cert_t *cert);

/* The issuer's and the subject's commonName, or "" when absent. */
const char *acme_cert_issuer_cn(apr_pool_t *p, const acme_cert_t *cert);
const char *acme_cert_subject_cn(apr_pool_t *p, const acme_cert_t *cert);

/* Returns non-zero if the certificate's public key is the key's. */
int acme_cert_matches_key(const acme_cert_t *cert, const acme_key_t *key);

/* Returns non-zero if `issuer` issued `cert` (names and signature). */
int acme_cert_issued_by(const acme_cert_t *cert, const acme_cert_t *issuer);

/*
 * Validates a chain the CA returned before it is stored: at least one
 * certificate; the leaf's key is `key`; the leaf's names are exactly
 * `names` (any order); notBefore is not in the future by more than a day and
 * notAfter is after now; each certificate is issued by the next.
 * Returns APR_SUCCESS or ACME_EPROTO with the reason.
 */
apr_status_t acme_chain_validate(const apr_array_header_t *certs,
                                 const acme_key_t *key,
                                 const apr_array_header_t *names,
                                 apr_time_t now, apr_pool_t *p,
                                 acme_err_t *err);

/* Returns the OpenSSL certificate (still owned by the acme_cert_t). */
X509 *acme_cert_x509(const acme_cert_t *cert);

/* Wraps an X509 (takes ownership) in an acme_cert_t freed with pool p. */
acme_cert_t *acme_cert_wrap(apr_pool_t *p, X509 *x);

/*
 * Makes a self-signed certificate for names with key, valid from now for
 * `valid` (used for fallback certificates). Returns it in *pcert.
 */
apr_status_t acme_cert_self_signed(acme_cert_t **pcert, apr_pool_t *p,
                                   const acme_key_t *key,
                                   const apr_array_header_t *names,
                                   apr_interval_time_t valid,
                                   acme_err_t *err);

#endif
