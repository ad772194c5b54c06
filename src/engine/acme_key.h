/* mod_acme: private keys (generation, PEM load/save). */
#ifndef ACME_KEY_H
#define ACME_KEY_H

#include "acme_common.h"
#include <openssl/evp.h>

typedef enum {
    ACME_KEY_EC256 = 0,   /* default */
    ACME_KEY_EC384,
    ACME_KEY_RSA2048,
    ACME_KEY_RSA3072,
    ACME_KEY_RSA4096
} acme_key_type_e;

/* A private key. Its EVP_PKEY is freed when the pool it was made in is
 * cleared. */
typedef struct acme_key_t acme_key_t;

/* Parses a key type name: ec256, ec384, rsa2048, rsa3072, rsa4096 (also
 * Certbot's "ecdsa" = ec256 and "rsa" = rsa2048, and p256/p384, secp256r1,
 * secp384r1). Returns APR_SUCCESS or ACME_EINVAL with the allowed values in
 * err. */
apr_status_t acme_key_type_parse(acme_key_type_e *ptype, const char *s,
                                 apr_pool_t *p, acme_err_t *err);

/* Returns the canonical name of a key type ("ec256", ...). */
const char *acme_key_type_name(acme_key_type_e type);

/* Generates a new key of the given type. */
apr_status_t acme_key_generate(acme_key_t **pkey, apr_pool_t *p,
                               acme_key_type_e type, acme_err_t *err);

/* Parses a PEM private key (PKCS#8 or traditional). */
apr_status_t acme_key_from_pem(acme_key_t **pkey, apr_pool_t *p,
                               const char *pem, apr_size_t len,
                               acme_err_t *err);

/* Loads a PEM private key from a file. */
apr_status_t acme_key_load(acme_key_t **pkey, apr_pool_t *p, const char *path,
                           acme_err_t *err);

/* Serialises the private key as unencrypted PKCS#8 PEM into pool memory. */
apr_status_t acme_key_to_pem(const char **ppem, apr_size_t *plen,
                             apr_pool_t *p, const acme_key_t *key);

/* Serialises the public key as SubjectPublicKeyInfo DER. */
apr_status_t acme_key_public_der(const unsigned char **pder, apr_size_t *plen,
                                 apr_pool_t *p, const acme_key_t *key);

/* Returns the key's type as detected from the key itself; APR_SUCCESS or
 * ACME_EINVAL for an unsupported algorithm or size. */
apr_status_t acme_key_get_type(acme_key_type_e *ptype, const acme_key_t *key);

/* Returns the OpenSSL key (still owned by the acme_key_t). */
EVP_PKEY *acme_key_evp(const acme_key_t *key);

/* Wraps an EVP_PKEY (takes ownership) in an acme_key_t freed with pool p. */
acme_key_t *acme_key_wrap(apr_pool_t *p, EVP_PKEY *pkey);

/* Added for the crypto layer: returns OpenSSL's queued errors as one line
 * ("; "-separated, ERR_error_string_n text) or "no detail from OpenSSL" when
 * the queue is empty, and clears the queue. Used in acme_err_t messages. */
const char *acme_ssl_error(apr_pool_t *p);

/* A read-only memory BIO over data[0..len) in *pbio (BIO_free it), or
 * ACME_ECRYPTO "out of memory: ..." in err. len must fit an int. */
apr_status_t acme_bio_mem(BIO **pbio, const void *data, apr_size_t len,
                          apr_pool_t *p, acme_err_t *err);

#endif
