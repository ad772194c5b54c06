/* acmectl: obtaining a certificate into a lineage, the step certonly and
 * renew share (implemented in acmectl_certonly.c). */
#ifndef ACMECTL_OBTAIN_H
#define ACMECTL_OBTAIN_H

#include "acmectl_ctx.h"
#include "acme_client.h"

/* Obtains a certificate for names with the solver of ctl's authenticator,
 * validates it and (save) stores it as the next version of lineage, with
 * ctl's renewal parameters. *pversion gets the archive version. */
apr_status_t acmectl_obtain(int *pversion, acmectl_t *ctl,
                            acme_client_t *client, acme_store_t *store,
                            const char *account,
                            const apr_array_header_t *names,
                            const char *lineage, int save, acme_err_t *err);

#endif
