/* mod_acme: the status of the store's lineages, as JSON for control panels
 * and as Prometheus' text exposition format (docs/status.md is the schema).
 * No httpd headers: the status handler (src/mod_acme_status.c) and
 * `acmectl status` use the same functions and so print the same fields.
 *
 * Two sources for the certificate's facts:
 *  - the store itself (live/, root only: live/ and archive/ are 0700);
 *  - the public summaries in STORE/status/<name>.json (0644, in a 0755
 *    directory), which the root side writes with acme_status_snapshot_write()
 *    (the module's post_config, at every start and restart). They hold the
 *    certificate's public facts and paths, never key material, so that the
 *    httpd children (User www-data) can answer the status handler.
 * The attempt/error/backoff fields come from STORE/state/<name>.json
 * (0644) at the time of the call in both cases.
 */
#ifndef ACME_STATUS_H
#define ACME_STATUS_H

#include <jansson.h>

#include "acme_common.h"
#include "acme_store.h"
#include "acme_due.h"

/* The values of the "state" field. */
#define ACME_STATUS_VALID     "valid"     /* a certificate, nothing pending */
#define ACME_STATUS_RENEWING  "renewing"  /* due now, an attempt is on */
#define ACME_STATUS_ERROR     "error"     /* the last attempt failed; the
                                             certificate is still valid */
#define ACME_STATUS_FALLBACK  "fallback"  /* no certificate (for these
                                             names) yet */
#define ACME_STATUS_EXPIRED   "expired"
#define ACME_STATUS_REVOKED   "revoked"

/* Where the certificate facts come from. */
typedef enum {
    ACME_STATUS_FROM_STORE = 0,     /* live/ (needs root) */
    ACME_STATUS_FROM_SNAPSHOT       /* STORE/status/<name>.json */
} acme_status_source_e;

typedef struct acme_status_opts_t {
    acme_status_source_e source;
    /* acme_md_t* the server manages, or NULL. With it, the list is exactly
     * these lineages (one without a certificate is "fallback"), and due
     * times follow their configuration; without it, the list is every
     * lineage of the store (renewal/, live/, state/) and due times follow
     * the renewal conf (renew_before_expiry, key type). */
    const apr_array_header_t *mds;
    apr_time_t now;                 /* 0: apr_time_now() */
} acme_status_opts_t;

/* The directory of the public summaries: STORE/status. */
const char *acme_status_dir(const acme_store_t *store, apr_pool_t *p);

/*
 * The public facts of a lineage's current certificate, from live/ (root):
 * {"name", "domains", "not_before", "not_after", "serial", "issuer",
 *  "key_type", "version", "paths": {cert, chain, fullchain, privkey},
 *  "due": reason word or "not due", "due_at": ISO time it is (became) due,
 *  "written": ISO time}. md (may be NULL) decides the due time; without it
 * the renewal conf does. A certificate whose names are not md's is not the
 * one the server presents: then ACME_ENOTFOUND, as when there is none.
 * Caller owns the reference.
 */
apr_status_t acme_status_cert_facts(json_t **pfacts, const acme_store_t *store,
                                    const char *name, const acme_md_t *md,
                                    apr_time_t now, apr_pool_t *p);

/*
 * Root side: writes STORE/status/<name>.json (0644; the directory 0755) with
 * acme_status_cert_facts() for every md, removes it for an md without a
 * certificate, and removes the summaries of lineages that are not in mds.
 * A summary that would only change its "written" time is left as it is.
 * Lineages are read through cache (may be NULL).
 * Returns the first error; the others are still attempted.
 */
apr_status_t acme_status_snapshot_write(acme_store_t *store,
                                        const apr_array_header_t *mds,
                                        apr_time_t now,
                                        acme_lineage_cache_t *cache,
                                        apr_pool_t *p);

/*
 * The status object of one lineage (schema in docs/status.md): the
 * certificate's facts (from opts->source) with the state file on top.
 * md may be NULL (found in opts->mds by name when that is given). *pobj is
 * NULL and ACME_ENOTFOUND returned when the lineage is unknown: neither a
 * certificate nor a state file nor a renewal conf, nor in opts->mds (with
 * opts->mds, a name not in it is unknown). Caller owns the reference.
 */
apr_status_t acme_status_lineage(json_t **pobj, const acme_store_t *store,
                                 const char *name,
                                 const acme_status_opts_t *opts,
                                 apr_pool_t *p);

/*
 * The status of every lineage (see opts->mds):
 * {"certificates": [status objects, sorted by name], "generated": ISO}.
 * Caller owns the reference; never NULL.
 */
json_t *acme_status_all(const acme_store_t *store,
                        const acme_status_opts_t *opts, apr_pool_t *p);

/*
 * Prometheus' text exposition format (version 0.0.4) of an
 * acme_status_all() object: HELP and TYPE lines, then one sample per
 * lineage (labelled name="...") of acme_certificate_not_after_seconds,
 * acme_certificate_not_before_seconds, acme_certificate_failures,
 * acme_certificate_renewals_total, acme_certificate_last_success_seconds,
 * acme_certificate_valid and acme_certificate_next_renewal_seconds
 * (lineages without the value are left out of that metric).
 */
const char *acme_status_prometheus(const json_t *all, apr_pool_t *p);

/* Escapes a label value for the exposition format: \ " and newline. */
const char *acme_status_prom_escape(apr_pool_t *p, const char *s);

/* Parses an ISO 8601 UTC time as this file writes it
 * ("2026-01-02T03:04:05Z"); 0 when s is NULL or malformed. */
apr_time_t acme_status_parse_time(const char *s);

#endif
