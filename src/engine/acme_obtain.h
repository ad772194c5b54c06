/* mod_acme: obtaining a certificate into a lineage, the one issuance path
 * of the module's supervisor and of acmectl certonly / renew.
 *
 * The root side of an issuance, in steps, so that the network half can run
 * elsewhere (the module's worker) or in-process (acmectl):
 *
 *   acme_batch_make             once per run: hooks, duplicate guard, lists
 *   acme_obtain_begin           per lineage: renewal conf merged, state
 *                               loaded, duplicate guard, the lineage's
 *                               pre hook
 *   acme_obtain_attempt         the key and the CSR for the names left
 *     ... acme_attempt_run (acme_attempt.h) at the CA ...
 *   acme_obtain_next            the account the CA gave; a name dropped
 *                               and another attempt (allow_subset)
 *   acme_obtain_finish          validate, write the lineage, update the
 *                               state, run the deploy hooks
 *   acme_batch_end              post hooks, the guard written
 *
 * The front ends differ only in acme_order_opts_t, the batch's hooks and
 * who answers the challenges (the solver of the attempt).
 */
#ifndef ACME_OBTAIN_H
#define ACME_OBTAIN_H

#include "acme_attempt.h"
#include "acme_due.h"
#include "acme_key.h"
#include "acme_ratelimit.h"
#include "acme_state.h"
#include "acme_store.h"

/* Everything a front end decides about one lineage's order. */
typedef struct acme_order_opts_t {
    const char *lineage;                  /* the lineage it goes to */
    apr_array_header_t *names;            /* the names asked for */
    apr_array_header_t *challenges;       /* allowed types, preferred first
                                             (for the renewal conf) */
    const char *profile;                  /* ACME profile, or NULL */
    const char *preferred_chain;          /* issuer CN, or NULL */
    const char *replaces;                 /* ARI CertID, or NULL */
    acme_key_type_e key_type;
    int reuse_key;                        /* keep the lineage's key when it
                                             is of key_type */
    int must_staple;
    int allow_subset;                     /* drop a name that fails */
    acme_due_e due;                       /* why it is ordered */
    int dry_run;                          /* obtain and check, keep nothing */
    int no_dup_guard;                     /* --duplicate-style override */
    int record_failures;                  /* a failure is written to the
                                             state, with the backoff */
    int sync_state;                       /* flush the state file on save */
    const char *ca_url;                   /* the CA (renewal conf "server") */
    const char *account_id;               /* its account in the store */
    apr_table_t *conf_params;             /* renewal conf parameters this
                                             front end sets */
    apr_table_t *webroot_map;             /* [[webroot_map]], or NULL */
    const char *const *conf_keep;         /* old parameters kept (NULL-
                                             terminated), or NULL: all */
} acme_order_opts_t;

/* The hooks of a run (Certbot's --pre-hook, --post-hook, --deploy-hook or
 * the ACME*Hook directives). */
typedef struct acme_batch_hooks_t {
    const char *pre, *post, *deploy;      /* or NULL */
    int replace;                          /* 1 (Certbot): a hook given here
                                             replaces the lineage's own of
                                             the same phase; 0 (module):
                                             both run, the lineage's only
                                             when it is another command */
    int no_dirs;                          /* skip STORE/renewal-hooks/ */
    int lineage_hooks;                    /* run the lineage's own hooks
                                             (its renewal conf's pre_hook,
                                             post_hook, renew_hook) */
    apr_interval_time_t timeout;          /* 0: 120 s */
} acme_batch_hooks_t;

/* Says something to the user (acmectl prints it; NULL: the log). */
typedef void acme_note_fn(void *baton, const char *msg);

/* One run over any number of lineages. */
typedef struct acme_batch_t {
    acme_store_t *store;
    apr_pool_t *p;
    acme_batch_hooks_t hooks;
    acme_note_fn *note;
    void *note_baton;
    acme_dup_guard_t *guard;               /* read once, written at the end */
    int started;                          /* the pre hooks ran */
    apr_array_header_t *pre_ran;          /* lineage pre hooks run */
    apr_array_header_t *post_cmds;        /* lineage post hooks to run */
    apr_array_header_t *renewed;          /* "a b" per lineage obtained */
    apr_array_header_t *failed;           /* "a b" per lineage that failed */
    int hook_failures;
    acme_key_t *account_key;              /* the run's account */
    const char *account_url;
    const char *account_id;               /* its id in the store, or NULL */
} acme_batch_t;

/* A run on store with these hooks (copied). */
acme_batch_t *acme_batch_make(acme_store_t *store,
                              const acme_batch_hooks_t *hooks,
                              apr_pool_t *p);

/* Sets the account the run's orders are made with: its key, URL (NULL
 * while unregistered) and id in the store (NULL while not stored); a new
 * URL the CA gives (acme_obtain_next) is stored with the key. */
void acme_batch_account(acme_batch_t *b, acme_key_t *key, const char *url,
                        const char *id);

/* Stores the account URL the CA gave in an attempt (a registration, or
 * the key registered again when the CA forgot the account) with the
 * run's key under ca_url, unless it is the run's already. */
void acme_batch_keep_account(acme_batch_t *b, const char *ca_url,
                             const acme_attempt_res_t *res);

/* Runs the pre hooks (the store's pre hooks and hooks.pre) unless they
 * ran: once, before the first attempt of a run. */
void acme_batch_start(acme_batch_t *b);

/* Ends a run: the post hooks when the pre hooks ran (RENEWED_DOMAINS,
 * FAILED_DOMAINS; hooks.post, then each lineage's own once), the
 * duplicate guard written. */
void acme_batch_end(acme_batch_t *b);

/* Says msg through b->note (or the log). */
void acme_batch_say(acme_batch_t *b, const char *msg);

/* Before a lineage's first attempt: its own pre hook (once per command
 * in the run, per hooks.replace) runs and its post hook is kept for
 * acme_batch_end. */
void acme_batch_lineage_hooks(acme_batch_t *b, const char *lineage,
                              const acme_renewal_conf_t *conf);

/* After a lineage was stored: hooks.deploy and the lineage's own
 * renew_hook (or deploy_hook) with env; *pmsg (may be NULL) gets the
 * first failure. */
void acme_batch_deploy(acme_batch_t *b, const acme_renewal_conf_t *conf,
                       apr_table_t *env, const char **pmsg);

/* One lineage's issuance in progress. */
typedef struct acme_obtain_t {
    acme_batch_t *batch;
    const acme_order_opts_t *opts;
    apr_pool_t *p;
    acme_lineage_t *lineage;              /* as it was, or NULL when new */
    acme_renewal_conf_t *conf;            /* the merged conf, written with
                                             the lineage */
    acme_state_t *state;
    apr_array_header_t *names;            /* this attempt's */
    apr_array_header_t *dropped;          /* names given up (allow_subset) */
    acme_key_t *key;                      /* stays on this side */
    acme_issue_req_t req;                 /* what the attempt orders */
    int attempts;                         /* acme_obtain_attempt calls */
    apr_time_t began;
    int version;                          /* out: the archive version */
    apr_time_t not_after;                 /* out: the new certificate's */
    const char *chain_issuer;             /* out */
} acme_obtain_t;

/*
 * Begins the issuance of opts->lineage: loads it (or takes `lineage`,
 * already loaded; `state` likewise, NULL to load), merges the renewal conf,
 * checks the duplicate guard (unless opts->no_dup_guard or a dry run) and
 * runs the batch's pre hooks and the lineage's own pre hook. A guard that
 * refuses is recorded in the state (with record_failures) and returned.
 */
apr_status_t acme_obtain_begin(acme_obtain_t **pob, acme_batch_t *b,
                               const acme_order_opts_t *opts,
                               acme_lineage_t *lineage, int loaded,
                               acme_state_t *state, apr_pool_t *p,
                               acme_err_t *err);

/* Makes the key (a new one, or the lineage's with reuse_key) and the CSR
 * for the names left; ob->req is then what the attempt orders. */
apr_status_t acme_obtain_attempt(acme_obtain_t *ob, acme_err_t *err);

/* What comes after an attempt. */
typedef enum {
    ACME_OBTAIN_DONE,                     /* acme_obtain_finish */
    ACME_OBTAIN_AGAIN                     /* acme_obtain_attempt again */
} acme_obtain_next_e;

/* Takes an attempt's outcome: stores a new account URL the CA gave, says
 * what the CA refused; with allow_subset, a failed name is dropped and
 * ACME_OBTAIN_AGAIN returned while names are left. */
acme_obtain_next_e acme_obtain_next(acme_obtain_t *ob,
                                    const acme_attempt_res_t *res);

/*
 * Ends the issuance with the last attempt's outcome: a chain is checked
 * (key, names, dates, order) and, unless a dry run, written as the next
 * version of the lineage with the merged renewal conf; the state records
 * the outcome (a failure only with record_failures); the deploy hooks run
 * for a stored certificate. Returns the failure (the CA's, the check's or
 * the store's) in err; the old certificate then stays.
 */
apr_status_t acme_obtain_finish(acme_obtain_t *ob,
                                const acme_attempt_res_t *res,
                                acme_err_t *err);

#endif
