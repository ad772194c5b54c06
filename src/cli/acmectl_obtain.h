/* acmectl: obtaining a certificate into a lineage, the step certonly and
 * renew share (implemented in acmectl_certonly.c). */
#ifndef ACMECTL_OBTAIN_H
#define ACMECTL_OBTAIN_H

#include "acmectl_ctx.h"
#include "acme_client.h"
#include "acme_obtain.h"

/* The run's batch (acme_obtain.h): the command line's hooks, Certbot's
 * way (renew: with the store's hook directories and the lineages' own
 * hooks; certonly: without), and messages on stdout. */
acme_batch_t *acmectl_batch(acmectl_t *ctl, acme_store_t *store, int renew);

/* Obtains a certificate for names into lineage through the orchestrator
 * (acme_obtain.h), with the solver of ctl's authenticator, in this
 * process; says what came of it. *pob gets the issuance once it was
 * finished (its outcome is then in the batch's lists), else NULL. */
apr_status_t acmectl_obtain(acme_obtain_t **pob, acmectl_t *ctl,
                            acme_batch_t *b, acme_client_t *client,
                            const char *account,
                            const apr_array_header_t *names,
                            const char *lineage, acme_err_t *err);

#endif
