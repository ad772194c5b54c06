/* mod_acme: reading what Certbot leaves in /etc/letsencrypt that the store
 * does not share as is: account keys as JSON Web Keys (private_key.json),
 * the account directory a server URL maps to, and the scripts of
 * renewal-hooks/ without following links out of the tree. Used by acmectl
 * import. */
#ifndef ACME_CERTBOT_H
#define ACME_CERTBOT_H

#include <apr_file_info.h>

#include "acme_common.h"
#include "acme_key.h"
#include <jansson.h>

/*
 * Builds a key from a JSON Web Key (RFC 7517, RFC 7518 §6) with OpenSSL's
 * EVP_PKEY_fromdata: "kty":"EC" with "crv" P-256 or P-384, "x", "y" (each
 * exactly the curve's size) and, for a private key, "d"; or "kty":"RSA"
 * with "n", "e" and, for a private key, all of "d", "p", "q", "dp", "dq",
 * "qi" (as Certbot writes them). With want_private the private members are
 * required and the key is checked to be consistent (the public part
 * belongs to the private part); without it only the public members are
 * read. Returns APR_SUCCESS, or ACME_EINVAL with the reason in err for a
 * malformed or unsupported JWK (other curves, missing or non-base64url
 * members, a private part that does not match the public one).
 */
apr_status_t acme_jwk_to_key(acme_key_t **pkey, apr_pool_t *p, json_t *jwk,
                             int want_private, acme_err_t *err);

/*
 * Loads a Certbot account directory (accounts/<server>/<id>/):
 * private_key.json (a private JWK, see acme_jwk_to_key) into *pkey, the
 * account URL ("uri" of regr.json) into *purl, and regr.json's "body" (a
 * new reference, the caller owns it; an empty object when absent) into
 * *pbody when pbody is not NULL. Returns ACME_ENOTFOUND when a file is
 * missing, ACME_EINVAL with the file named in err when one is unusable.
 */
apr_status_t acme_certbot_account_load(acme_key_t **pkey, const char **purl,
                                       json_t **pbody, apr_pool_t *p,
                                       const char *dir, acme_err_t *err);

/* The directory Certbot keeps the accounts of a server in below its
 * config_dir: accounts/ + the URL's netloc (host[:port], as given) + its
 * path. NULL for a URL without a host. */
const char *acme_certbot_account_dir(apr_pool_t *p, const char *config_dir,
                                     const char *server_url);

/*
 * Reads a file of Certbot's renewal-hooks/<phase>/ (path) for copying: its
 * content and permissions (apr_fileperms_t, setuid/setgid/sticky bits
 * dropped). Only a regular file whose real path is inside config_dir is
 * read: a symbolic link is followed only when its target is inside
 * config_dir too, and the file is opened without following a link swapped
 * in meanwhile. Returns ACME_EINVAL with the reason in err (a link out of
 * the tree and where to, a dangling link, not a regular file, larger than
 * maxlen), or the error of reading it.
 */
apr_status_t acme_certbot_hook_read(char **pdata, apr_size_t *plen,
                                    apr_fileperms_t *pperms, apr_pool_t *p,
                                    const char *config_dir, const char *path,
                                    apr_size_t maxlen, acme_err_t *err);

#endif
