/* mod_acme: staying inside the CA's rate limits. Let's Encrypt allows 5
 * certificates for the same exact set of names per 7 days; a client that
 * burns them locks its user out for days. Issuances are recorded in
 * STORE/state/_issued.json by name set. */
#ifndef ACME_RATELIMIT_H
#define ACME_RATELIMIT_H

#include "acme_common.h"
#include "acme_store.h"

#define ACME_DUP_MAX     5
#define ACME_DUP_WINDOW  apr_time_from_sec(7 * 86400)

/*
 * Checks whether one more certificate for exactly these names (any order,
 * case-insensitive) would be the (ACME_DUP_MAX+1)th within ACME_DUP_WINDOW.
 * Returns APR_SUCCESS when an order is fine, ACME_EINVAL with a message
 * saying how many were issued and when the next one is allowed otherwise.
 */
apr_status_t acme_dup_guard_check(const acme_store_t *store,
                                  const apr_array_header_t *names,
                                  apr_time_t now, apr_pool_t *p,
                                  acme_err_t *err);

/* Records one issuance for these names at `now` (entries older than the
 * window are dropped). */
apr_status_t acme_dup_guard_record(acme_store_t *store,
                                   const apr_array_header_t *names,
                                   apr_time_t now, apr_pool_t *p);

/* The record held in memory, for a supervisor pass that checks and records
 * thousands of name sets: read once, written once (acme_dup_guard_save),
 * instead of once per certificate. Released with p. */
typedef struct acme_dup_guard_t acme_dup_guard_t;

acme_dup_guard_t *acme_dup_guard_open(acme_store_t *store, apr_pool_t *p);

/* As acme_dup_guard_check / acme_dup_guard_record, in memory. */
apr_status_t acme_dup_guard_test(acme_dup_guard_t *g,
                                 const apr_array_header_t *names,
                                 apr_time_t now, apr_pool_t *p,
                                 acme_err_t *err);
void acme_dup_guard_note(acme_dup_guard_t *g, const apr_array_header_t *names,
                         apr_time_t now, apr_pool_t *p);

/* Writes what was noted (entries older than the window dropped); nothing
 * when nothing was. */
apr_status_t acme_dup_guard_save(acme_dup_guard_t *g, apr_time_t now,
                                 apr_pool_t *p);

#endif
