/* mod_acme: certificate signing requests. */
#ifndef ACME_CSR_H
#define ACME_CSR_H

#include "acme_common.h"
#include "acme_key.h"

/*
 * Builds a PKCS#10 CSR for the names (const char*), signed with key
 * (SHA-256): subject CN = first name when it is at most 64 characters and
 * not a wildcard-free requirement (else empty subject), subjectAltName with
 * every name as dNSName (an IPv4/IPv6 literal as iPAddress), and the TLS
 * Feature (status_request) extension when must_staple is set.
 * Returns the DER bytes in *pder/*plen.
 */
apr_status_t acme_csr_make(const unsigned char **pder, apr_size_t *plen,
                           apr_pool_t *p, const acme_key_t *key,
                           const apr_array_header_t *names, int must_staple,
                           acme_err_t *err);

/* Converts CSR DER to PEM ("CERTIFICATE REQUEST"). */
apr_status_t acme_csr_der_to_pem(const char **ppem, apr_pool_t *p,
                                 const unsigned char *der, apr_size_t len);

#endif
