/* mod_acme: the challenge directory (STORE/challenges/, or a webroot's
 * .well-known/acme-challenge/): where the answers of http-01, tls-alpn-01
 * and tls-sni-01 live, how they are written (world-readable: the web
 * server's children read them), read, removed and cleaned up. Every file
 * name in it is made here, from a checked token or name only:
 *
 *   TOKEN                   http-01: the key authorization
 *   NAME.tls-alpn-01.pem    tls-alpn-01: the challenge certificate, then
 *   SNINAME.tls-sni-01.pem  tls-sni-01:  its throwaway key (both PEM) */
#ifndef ACME_CHALLENGES_H
#define ACME_CHALLENGES_H

#include "acme_common.h"
#include "acme_cert.h"
#include "acme_key.h"
#include "acme_order.h"
#include "acme_store.h"

#define ACME_CHALLENGES_TOKEN_MAX   256          /* an http-01 token */
#define ACME_CHALLENGES_ANSWER_MAX  1024         /* an http-01 answer */
#define ACME_CHALLENGES_TLS_MAX     (16 * 1024)  /* a TLS answer file */

/* The challenge directory of a store: STORE/challenges. */
const char *acme_challenges_dir(const acme_store_t *s, apr_pool_t *p);

/* The http-01 answer's path for token: dir/TOKEN. NULL unless token is
 * base64url of at most ACME_CHALLENGES_TOKEN_MAX characters, so that no
 * token can name a file outside dir. */
const char *acme_challenges_http01_path(apr_pool_t *p, const char *dir,
                                        const char *token);

/* A TLS answer's path: dir/NAME.TYPE.pem. NULL unless type is tls-alpn-01
 * or tls-sni-01 and name a plain DNS name (letters, digits, '-', '.', no
 * empty label, at most 253 characters). */
const char *acme_challenges_tls_path(apr_pool_t *p, const char *dir,
                                     const char *type, const char *name);

/* The same into buf of size bytes, for callers without a pool (OpenSSL's
 * callbacks). Returns 0, or -1 (buf is then "") when the path would be
 * NULL or longer than buf. */
int acme_challenges_tls_path_buf(char *buf, apr_size_t size, const char *dir,
                                 const char *type, const char *name);

/* Writes the http-01 answer keyauthz for token into dir (mode 0644,
 * atomically, not flushed). */
apr_status_t acme_challenges_write_http01(apr_pool_t *p, const char *dir,
                                          const char *token,
                                          const char *keyauthz,
                                          acme_err_t *err);

/* Writes a TLS answer for name into dir: cert's PEM, then key's (mode
 * 0644: the key is a throwaway that proves nothing but this challenge). */
apr_status_t acme_challenges_write_tls(apr_pool_t *p, const char *dir,
                                       const char *type, const char *name,
                                       acme_cert_t *cert, acme_key_t *key,
                                       acme_err_t *err);

/* Makes and writes the answer to ch (http-01, tls-alpn-01 or tls-sni-01,
 * ch->keyauthz set) for the identifier name; name is the caller's to
 * check (that it was requested). ACME_EINVAL for another type. */
apr_status_t acme_challenges_answer(apr_pool_t *p, const char *dir,
                                    const acme_challenge_t *ch,
                                    const char *name, acme_err_t *err);

/* Removes the answer acme_challenges_answer wrote for ch and name, if
 * any. */
void acme_challenges_remove(apr_pool_t *p, const char *dir,
                            const acme_challenge_t *ch, const char *name);

/* Reads the http-01 answer for token (at most ACME_CHALLENGES_ANSWER_MAX
 * bytes). ACME_EINVAL for a token acme_challenges_http01_path refuses. */
apr_status_t acme_challenges_read_http01(char **pdata, apr_size_t *plen,
                                         apr_pool_t *p, const char *dir,
                                         const char *token);

/* Reads the TLS answer of type for name: the certificate's PEM and the
 * key's PEM. The file's error when it is missing or too large,
 * ACME_EINVAL for a type or name the path refuses, ACME_EPROTO when the
 * file is not a certificate followed by a key. */
apr_status_t acme_challenges_read_tls(const char **pcert_pem,
                                      const char **pkey_pem, apr_pool_t *p,
                                      const char *dir, const char *type,
                                      const char *name);

/* Removes every answer left in dir (every regular file whose name does
 * not start with '.'), logging each at INFO. Only while no worker runs:
 * the supervisor calls it between passes. APR_SUCCESS when dir is
 * missing. */
apr_status_t acme_challenges_clean(const char *dir, apr_pool_t *p);

#endif
