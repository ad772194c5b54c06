/* mod_acme: a minimal http-01 responder for `acmectl --standalone`, which
 * answers only GET /.well-known/acme-challenge/<token> and 404 otherwise. */
#ifndef ACME_STANDALONE_H
#define ACME_STANDALONE_H

#include "acme_common.h"

typedef struct acme_standalone_t acme_standalone_t;

/* Binds to port on all addresses (IPv6 dual stack when available, else
 * IPv4) and serves from a thread until stopped. Fails with a clear message
 * when the port is in use. Stopped with the pool at the latest. */
apr_status_t acme_standalone_start(acme_standalone_t **psrv, apr_pool_t *p,
                                   int port, acme_err_t *err);

/* Adds or removes the answer for a token. */
void acme_standalone_set(acme_standalone_t *srv, const char *token,
                         const char *keyauthz);
void acme_standalone_unset(acme_standalone_t *srv, const char *token);

/* Stops serving and closes the socket. */
void acme_standalone_stop(acme_standalone_t *srv);

#endif
