/* mod_acme: the worker's questions to the supervisor.
 *
 * While it serves a request, the worker asks the root side for what it
 * must not do itself (run a dns-01 hook; later: sign, publish an answer):
 * one JSON object on one line on its stdout, with a "type" member,
 * answered by one JSON object on one line on its stdin, {"ok":true,...}
 * or {"ok":false,"error":TEXT}. The supervisor answers every question,
 * unknown types with an error, so the worker never waits in vain. */
#ifndef ACME_WORKER_ASK_H
#define ACME_WORKER_ASK_H

#include "acme_common.h"
#include <jansson.h>

/* Sends msg (a JSON object with "type"; not consumed) and waits for the
 * answer. On {"ok":true} returns APR_SUCCESS with the answer in *preply
 * (the caller's reference to release; preply may be NULL). Otherwise
 * ACME_EHOOK with the supervisor's error text, or a text naming `what`
 * that says no answer came. */
apr_status_t acme_worker_ask(json_t **preply, apr_pool_t *p, const char *what,
                             json_t *msg, acme_err_t *err);

#endif
