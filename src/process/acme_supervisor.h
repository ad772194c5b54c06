/* mod_acme: the renewal supervisor (root side). Decides which certificates
 * are due, runs the unprivileged worker for each (fork + exec of
 * `acmectl worker`, switched to the configured user), validates what comes
 * back and activates it in the store. No httpd headers: the module drives it
 * from its supervisor process, and `acmectl` can drive it too. */
#ifndef ACME_SUPERVISOR_H
#define ACME_SUPERVISOR_H

#include <sys/types.h>

#include "acme_common.h"
#include "acme_key.h"
#include "acme_store.h"

#include "acme_due.h"


/* Everything the supervisor needs from the configuration. */
typedef struct acme_sup_conf_t {
    const char *store_dir;
    const char *ca_url;               /* ACME directory */
    const char *ca_file;              /* CA bundle for the CA's TLS, or NULL */
    apr_array_header_t *contacts;     /* const char* */
    int agree_tos;
    const char *eab_kid;
    const char *eab_hmac;
    const char *worker_path;          /* the acmectl binary */
    const char *user;                 /* the worker's user name */
    uid_t uid;                        /* the worker's identity */
    gid_t gid;
    int max_workers;                  /* orders in flight at once */
    apr_interval_time_t check_interval;
    apr_interval_time_t worker_timeout; /* a worker is killed after this */
    apr_array_header_t *mds;          /* acme_md_t* */
    const char *pre_hook;             /* Certbot-style hooks (root side) */
    const char *deploy_hook;
    const char *post_hook;
    apr_interval_time_t hook_timeout; /* default 120 s */
    struct acme_sup_index_t *index;   /* decisions kept across passes
                                         (private to the supervisor) */
} acme_sup_conf_t;


/* A fresh configuration with defaults (4 workers, 12 h checks, 10 min
 * worker timeout). */
acme_sup_conf_t *acme_sup_conf_make(apr_pool_t *p);

/* What one pass did. */
typedef struct acme_sup_result_t {
    int attempted;                    /* orders started */
    int activated;                    /* certificates stored and made live */
    int failed;
    apr_time_t next_wakeup;           /* when the next pass is useful */
} acme_sup_result_t;

/*
 * One supervisor pass: for every md that is due and not backing off, make a
 * key and CSR (root side, key kept in STORE/staging/<name>/), run a worker
 * (at most conf->max_workers at once), validate the returned chain (key,
 * names, dates, issuer order) and activate it with acme_store_lineage_save;
 * record attempts, errors and backoff in STORE/state/<name>.json.
 * Failures never touch live/. Returns APR_SUCCESS unless the store itself is
 * unusable; per-certificate failures are in the state files and the log.
 * Passes on the same conf share an index: a certificate found with nothing
 * to do is not read again before the time that could change, unless the
 * store's change mark moved (someone else wrote to it) or conf->mds did.
 */
apr_status_t acme_sup_pass(acme_sup_result_t *res, acme_sup_conf_t *conf,
                           apr_pool_t *p);

#endif
