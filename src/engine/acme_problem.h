/* mod_acme: ACME problem documents (RFC 8555 §6.7, RFC 7807). */
#ifndef ACME_PROBLEM_H
#define ACME_PROBLEM_H

#include "acme_common.h"
#include <jansson.h>

#define ACME_PROBLEM_NS "urn:ietf:params:acme:error:"

/* Formats a problem object as one line: "<short type>: <detail>" followed by
 * each subproblem "(<identifier>: <short type>: <detail>)". The short type
 * drops the "urn:ietf:params:acme:error:" prefix. */
const char *acme_problem_format(apr_pool_t *p, json_t *problem);

/*
 * Turns an error answer from the CA into err: the problem document when the
 * body is one (any JSON object with "type" or "detail"), else the HTTP status
 * and the start of the body. Sets err->problem_type and err->retry_after.
 * Returns ACME_EPROBLEM (or ACME_EPROTO for a non-problem error answer).
 */
apr_status_t acme_problem_to_err(acme_err_t *err, apr_pool_t *p, int status,
                                 const char *body, apr_size_t len,
                                 apr_interval_time_t retry_after);

/* Returns non-zero if err carries the ACME problem type `short_type`
 * (e.g. "badNonce"). */
int acme_problem_is(const acme_err_t *err, const char *short_type);

#endif
