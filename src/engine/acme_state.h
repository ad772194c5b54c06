/* mod_acme: a lineage's state (STORE/state/<name>.json), typed.
 *
 * One struct, one loader, one saver: the supervisor, acmectl and the status
 * read and write the file only through these, so there is one schema. The
 * file carries "schema": ACME_STATE_SCHEMA; times are integer seconds
 * since the epoch, except the ARI window's, which are RFC 3339 strings as
 * the CA sends them. The loader also reads the unversioned files of
 * earlier releases, whose ARI window had integers (the module) or strings
 * (acmectl); either is read, and the next save rewrites it.
 * Nothing in it is secret: the file is 0644.
 */
#ifndef ACME_STATE_H
#define ACME_STATE_H

#include "acme_common.h"
#include "acme_store.h"

#define ACME_STATE_SCHEMA 1

/* The CA's renewal window for one certificate (RFC 9773). */
typedef struct acme_state_ari_t {
    const char *cert_id;              /* the CertID it is for; NULL: none */
    const char *serial;               /* that certificate's serial (hex) */
    apr_time_t start;                 /* the suggested window */
    apr_time_t end;
    apr_time_t chosen;                /* the renewal time picked in it */
    apr_time_t next_fetch;            /* when to ask the CA again */
    const char *explanation;          /* the CA's explanation URL, or NULL */
    const char *ca;                   /* the directory URL it came from */
} acme_state_ari_t;

/* Everything recorded about one lineage's attempts. Zero / NULL: unset. */
typedef struct acme_state_t {
    const char *name;                 /* the lineage */
    apr_array_header_t *names;        /* the names last attempted for */
    const char *status;               /* "valid", "error" or NULL */
    int failures;                     /* consecutive failed attempts */
    int attempts;                     /* attempts in all */
    int renewals;                     /* successful attempts in all */
    apr_time_t last_attempt;
    apr_time_t last_success;
    apr_time_t next_try;              /* backoff: no attempt before this */
    const char *last_error;           /* one line, never a hook's command */
    const char *last_problem;         /* the ACME problem type, or NULL */
    apr_interval_time_t retry_after;  /* the CA's last Retry-After */
    const char *last_hook_error;      /* the last failing deploy hook */
    const char *due_reason;           /* acme_due_name() of the attempt */
    const char *challenge;            /* types that validated, "a,b" */
    const char *dropped_names;        /* names a subset left out, "a b" */
    int cert_version;                 /* archive version last stored */
    const char *replaces;             /* ARI CertID the last order replaced */
    const char *ca;                   /* directory URL of the last order */
    apr_int64_t renew_requests;       /* `acmectl renew` asked the server */
    apr_int64_t renew_requests_done;  /* ... and the requests answered */
    apr_time_t renew_requested;       /* when it last asked */
    apr_time_t revoked;               /* when `acmectl revoke` revoked it */
    int revocation_reason;
    const char *revoked_serial;
    acme_state_ari_t ari;
} acme_state_t;

/* An empty state for lineage name. */
acme_state_t *acme_state_make(apr_pool_t *p, const char *name);

/* Loads name's state into *pst (an empty state when the file is missing).
 * Reads the current schema and the unversioned files of earlier releases.
 * ACME_EINVAL with err set when the file is not a JSON object; *pst is
 * then an empty state all the same, so a caller may go on. */
apr_status_t acme_state_load(acme_state_t **pst, const acme_store_t *store,
                             const char *name, apr_pool_t *p,
                             acme_err_t *err);

/* Writes st (st->name's file) atomically with the current schema. With
 * sync 0 the file is not flushed: the caller flushes the file system soon
 * after (acme_fs_sync), as the supervisor does once per pass. */
apr_status_t acme_state_save(acme_store_t *store, const acme_state_t *st,
                             int sync, apr_pool_t *p, acme_err_t *err);

/* Whether `acmectl renew --cert-name` asked for a renewal that no attempt
 * has answered yet. */
int acme_state_renewal_requested(const acme_state_t *st);

/* Whether the state records a revocation of the certificate with this
 * serial (a record without a serial counts for any). */
int acme_state_revoked(const acme_state_t *st, const char *serial);

/* Whether st->ari is a window for the certificate with CertID cert_id. */
int acme_state_ari_for(const acme_state_t *st, const char *cert_id);

/* What the server knows of a CA's renewalInfo (STORE/state/_ari.json): a
 * CA without it is asked again daily, not every pass. */
typedef struct acme_state_ca_t {
    const char *ca;                   /* directory URL */
    apr_time_t unsupported_until;     /* no renewalInfo before this */
} acme_state_ca_t;

/* Loads / saves the CA record (an empty one when missing). */
apr_status_t acme_state_ca_load(acme_state_ca_t **pst,
                                const acme_store_t *store, apr_pool_t *p);
apr_status_t acme_state_ca_save(acme_store_t *store,
                                const acme_state_ca_t *st, apr_pool_t *p);

#endif
