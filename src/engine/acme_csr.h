/* mod_acme: certificate signing requests. */
#ifndef ACME_CSR_H
#define ACME_CSR_H

#include "acme_common.h"
#include "acme_key.h"
#include <openssl/x509.h>

/*
 * Builds a PKCS#10 CSR for the names (const char*), signed with key
 * (SHA-256): subject CN = first name when it is at most 64 characters and
 * not an IP literal (else empty subject), subjectAltName with every name as
 * dNSName (an IPv4/IPv6 literal as iPAddress), and the TLS Feature
 * (status_request) extension when must_staple is set.
 * Returns the DER bytes in *pder and *plen; ACME_EINVAL for no names or an
 * empty name, ACME_ECRYPTO if OpenSSL fails (message in err).
 */
apr_status_t acme_csr_make(const unsigned char **pder, apr_size_t *plen,
                           apr_pool_t *p, const acme_key_t *key,
                           const apr_array_header_t *names, int must_staple,
                           acme_err_t *err);

/* Added for the crypto layer (shared with acme_cert.c): builds the
 * subjectAltName extension for names (const char*): a name that parses as an
 * IPv4/IPv6 literal becomes an iPAddress, every other name a dNSName.
 * Returns a new X509_EXTENSION the caller frees, or NULL with err set
 * (ACME_EINVAL for an empty list or an empty name). */
X509_EXTENSION *acme_san_extension(apr_pool_t *p,
                                   const apr_array_header_t *names,
                                   acme_err_t *err);

/* Added for the crypto layer: returns non-zero if name is an IPv4 or IPv6
 * literal (as OpenSSL's a2i_IPADDRESS parses it). */
int acme_csr_name_is_ip(const char *name);

/* Converts CSR DER to PEM ("CERTIFICATE REQUEST"). */
apr_status_t acme_csr_der_to_pem(const char **ppem, apr_pool_t *p,
                                 const unsigned char *der, apr_size_t len);

#endif
