/* acmectl: answering challenges (--standalone, --webroot, --manual). */
#ifndef ACMECTL_SOLVERS_H
#define ACMECTL_SOLVERS_H

#include "acmectl_ctx.h"
#include "acme_issue.h"

/* Builds the solver for the chosen authenticator. */
apr_status_t acmectl_solver_make(acme_solver_t **psolver, acmectl_t *ctl,
                                 acme_err_t *err);

#endif
