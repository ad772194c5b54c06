/* mod_acme: which certificates the server manages and when one is due
 * (the renewal policy), as pure decisions over a lineage; the backoff after
 * failures. Used by the supervisor, acmectl and the status. */
#ifndef ACME_DUE_H
#define ACME_DUE_H

#include "acme_common.h"
#include "acme_key.h"
#include "acme_store.h"
#include "acme_state.h"

/* One managed certificate (one ACMEDomain). */
typedef struct acme_md_t {
    const char *name;                 /* lineage name */
    apr_array_header_t *names;        /* validated names, first names it */
    acme_key_type_e key_type;
    apr_array_header_t *challenges;   /* allowed types, preference order */
    int renew_pct;                    /* renew when this % of the lifetime is
                                         left (0: use renew_abs) */
    apr_interval_time_t renew_abs;    /* renew when this much is left */
    const char *source;               /* "file:line" of the directive */
    const char *dns_hook;             /* dns-01 hook command (root side) */
    const char *dns_resolver;         /* "IP[:port]" to check TXT at, or NULL */
    apr_interval_time_t dns_timeout;  /* propagation wait (default 120 s) */
    apr_interval_time_t hook_timeout; /* a hook is killed after this
                                         (default 120 s) */
    const char *profile;              /* ACMEProfile, or NULL */
    const char *preferred_chain;      /* ACMEPreferredChain issuer CN */
    int must_staple;                  /* ACMEMustStaple */
    int allow_subset;                 /* ACMEAllowSubsetOfNames */
    const char *ca_url;               /* the CA it must come from (set by
                                         the supervisor; NULL: any) */
} acme_md_t;

/* Why a certificate is due, or ACME_DUE_NO. */
typedef enum {
    ACME_DUE_NO = 0,
    ACME_DUE_MISSING,                 /* no certificate yet */
    ACME_DUE_NAMES,                   /* the name set changed */
    ACME_DUE_WINDOW,                  /* inside the renew window */
    ACME_DUE_EXPIRED,                 /* already expired */
    ACME_DUE_KEYTYPE,                 /* the configured key type changed */
    ACME_DUE_CA,                      /* issued by another CA (server) */
    ACME_DUE_REVOKED,                 /* revoked (acmectl revoke) */
    ACME_DUE_ARI,                     /* the CA's renewal window (RFC 9773) */
    ACME_DUE_REQUESTED                /* acmectl renew asked for it */
} acme_due_e;

/* Returns a short word for a due reason ("missing", "window", ...). */
const char *acme_due_name(acme_due_e due);

/*
 * Decides whether md is due now: missing lineage, changed names, inside the
 * renew window (md->renew_pct of the lifetime, or renew_abs; the default
 * when both are 0 is a third of the lifetime, half for lifetimes under 10
 * days). *pwhen receives the time it becomes due (now when due).
 */
acme_due_e acme_sup_due(apr_time_t *pwhen, const acme_store_t *store,
                        const acme_md_t *md, apr_time_t now, apr_pool_t *p);

/* acme_sup_due for a lineage already loaded (l; NULL when it is missing)
 * with its state (st; NULL: loaded here, for the revocation record). */
acme_due_e acme_sup_due_lineage(apr_time_t *pwhen, const acme_store_t *store,
                                const acme_md_t *md, const acme_lineage_t *l,
                                const acme_state_t *st, apr_time_t now,
                                apr_pool_t *p);

/* The lineage's backoff delay after `failures` consecutive failures:
 * about 1 min, 10 min, 100 min, then daily, with up to 10% jitter. */
apr_interval_time_t acme_sup_backoff(int failures);

/*
 * Reads a Certbot interval (renew_before_expiry: "30 days", "2 weeks",
 * "1 month", "1 year 2 months", "12 hours", "90 minutes", "3600 seconds";
 * a bare number is days, as in Certbot) into *pint: how far `base` is from
 * base plus the interval, with months and years on the calendar.
 * ACME_EINVAL when the text is not such an interval.
 */
apr_status_t acme_due_interval(apr_interval_time_t *pint, const char *text,
                               apr_time_t base);

/* A renewal conf's renew_before_expiry as an md's renew_abs (0 when it
 * is absent or unreadable, which leaves the default policy). */
apr_interval_time_t acme_due_renew_before(const acme_renewal_conf_t *conf,
                                          apr_time_t now);

/* Sets Certbot's renewal parameters for a key type (key_type and
 * elliptic_curve or rsa_key_size). */
void acme_sup_key_params(apr_table_t *params, acme_key_type_e type);

/* A certificate renewed because of its window (or ARI) is not renewed again
 * sooner: a window larger than the lifetime must not become an issuance
 * loop. */
#define ACME_DUE_MIN_RENEW_INTERVAL apr_time_from_sec(3600)
/* Certificates whose backoff ends this close to a pass that starts others
 * go with them: one restart instead of several. */
#define ACME_DUE_BATCH_SLACK apr_time_from_sec(60)

/* What decided a lineage's renewal, or its not being renewed now. */
typedef enum {
    ACME_DUE_WHY_POLICY = 0,          /* acme_sup_due: lifetime, names, key */
    ACME_DUE_WHY_ARI,                 /* the CA's chosen time (RFC 9773) */
    ACME_DUE_WHY_REQUESTED,           /* acmectl renew --cert-name */
    ACME_DUE_WHY_BACKOFF,             /* failed lately: not before next_try */
    ACME_DUE_WHY_BATCH,               /* its backoff ends within the slack:
                                         it goes with the others */
    ACME_DUE_WHY_SUBSET,              /* a subset is retried daily */
    ACME_DUE_WHY_HOLDBACK             /* renewed for its window lately */
} acme_due_why_e;

/* Everything a decision is made from: plain values, no file is read. */
typedef struct acme_due_input_t {
    apr_time_t now;
    acme_due_e due;                   /* acme_sup_due's decision */
    apr_time_t when;                  /* ... and when it becomes due */
    const acme_state_t *state;        /* the lineage's state (never NULL) */
    const char *cert_id;              /* the current certificate's ARI
                                         CertID, or NULL */
    apr_time_t ari_until;             /* the CA's renewalInfo is not asked
                                         for before this (0: every pass) */
    int allow_subset;                 /* ACMEAllowSubsetOfNames */
    int round;                        /* the pass's round: 0 what is due,
                                         1 what is soon, with the others */
    int soon;                         /* round 1: round 0 found it soon */
} acme_due_input_t;

/* Renew now, or not before a time, and why. */
typedef struct acme_due_decision_t {
    int renew;                        /* 1: order now */
    acme_due_e due;                   /* the order's reason (its state's
                                         due_reason); ACME_DUE_NO: none */
    acme_due_why_e why;               /* what decided */
    apr_time_t not_before;            /* !renew: nothing to do before this */
    int soon;                         /* round 0, backing off: it ends
                                         within ACME_DUE_BATCH_SLACK */
    int answers_request;              /* the order answers the renewal
                                         requests made so far */
    const char *replaces;             /* ARI CertID the order replaces */
    apr_time_t ari_next;              /* when the window must be asked for
                                         again (0: every pass) */
} acme_due_decision_t;

/*
 * Decides what a supervisor pass does with one lineage: acme_sup_due's
 * decision, overridden for "not due" / "window" by the recorded ARI window
 * of the current certificate; a renewal request of acmectl first; then the
 * backoff after failures (in round 1 a lineage found soon goes anyway), the
 * daily retry of a subset issued without some names, and the hold-back
 * after a renewal for the window.
 */
void acme_due_decide(acme_due_decision_t *d, const acme_due_input_t *in);

/* Returns a short word for a decision's reason ("backoff", ...). */
const char *acme_due_why_name(acme_due_why_e why);

#endif
