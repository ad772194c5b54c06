/* acmectl: the command-line front end of mod_acme's engine. */
#ifndef ACMECTL_H
#define ACMECTL_H

#include "acme_common.h"
#include "acme_client.h"
#include "acme_issue.h"
#include "acme_key.h"
#include "acme_store.h"

#define ACMECTL_DEFAULT_STORE "/var/lib/apache2/acme"

/* Everything the command line said. */
typedef struct acmectl_t {
    apr_pool_t *pool;
    const char *command;
    const char *config_dir;
    const char *server;
    const char *ca_bundle;
    apr_array_header_t *contacts;      /* --email, comma separated allowed */
    int agree_tos;
    int unsafe_no_email;
    const char *eab_kid;
    const char *eab_hmac;
    acme_key_type_e key_type;
    int key_type_set;
    apr_array_header_t *names;         /* -d, in order */
    const char *cert_name;
    int duplicate;
    const char *authenticator;         /* standalone, webroot, manual */
    int http01_port;
    apr_array_header_t *webroots;      /* -w, in order */
    apr_table_t *webroot_map;          /* name -> dir */
    apr_array_header_t *unmapped;      /* -d given before any -w */
    const char *manual_auth_hook;
    const char *manual_cleanup_hook;
    apr_array_header_t *pref_challs;   /* normalised types */
    apr_interval_time_t hook_timeout;
    const char *dns_resolver;          /* --dns-resolver: wait for dns-01 */
    apr_interval_time_t dns_timeout;   /* --dns-propagation-timeout */
    int non_interactive;
    int quiet;
    int verbose;
    int json;
    int dry_run;                       /* --dry-run: obtain, save nothing */
    int force_renewal;                 /* --force-renewal */
    const char *pre_hook;              /* --pre-hook */
    const char *post_hook;             /* --post-hook */
    const char *deploy_hook;           /* --deploy-hook */
    int no_directory_hooks;            /* --no-directory-hooks */
    const char *cert_path;             /* --cert-path (revoke) */
    int reason;                        /* --reason, RFC 5280 code */
    int delete_after_revoke;           /* 1 yes, 0 no, -1 default (yes) */
    int server_set;                    /* --server given */
    const char *replaces;              /* ARI CertID of the certificate a
                                          renewal replaces, or NULL */
    const char *preferred_chain;       /* --preferred-chain issuer CN */
    const char *profile;               /* --preferred-profile */
    int expand;                        /* --expand (default on) */
    int allow_subset;                  /* --allow-subset-of-names */
    int reuse_key;                     /* --reuse-key */
    int must_staple;                   /* --must-staple */
    int ignore_dup_limit;              /* --ignore-duplicate-limit */
    int rollover_key;                  /* update_account --rollover-key */
    int serve;                         /* worker --serve: many requests */
    int keep_until_expiring;           /* --keep-until-expiring */
    const char *certbot_dir;           /* import: --certbot-dir (--from) */
    int config_dir_set;                /* --config-dir was given */
    apr_array_header_t *cert_names;    /* every --cert-name, in order */
} acmectl_t;

/* Prints "acmectl: <message>" on stderr (the one line a failure prints)
 * and returns the exit status 1. */
int acmectl_fail(acmectl_t *ctl, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prints progress on stdout unless --quiet. */
void acmectl_say(acmectl_t *ctl, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Creates the client for --server, loads its directory, opens (creating)
 * the store and makes sure an account exists (stored or newly registered).
 * *paccount_id receives the account's id in the store. */
apr_status_t acmectl_connect(acme_client_t **pclient, acme_store_t **pstore,
                             const char **paccount_id, acmectl_t *ctl,
                             acme_err_t *err);

/* Returns non-zero when err is the CA's accountDoesNotExist: it no longer
 * knows the stored account (it was reset, or forgot it). */
int acmectl_account_gone(const acme_err_t *err);

/* After acmectl_account_gone(): registers the client's account key again
 * (contacts of -m, else those stored with the account; --agree-tos and the
 * EAB options), stores the new account URL under account_id's directory and
 * says so on stdout. On success the client uses the new account; the
 * caller retries what failed, once. */
apr_status_t acmectl_account_reregister(acmectl_t *ctl, acme_client_t *client,
                                        acme_store_t *store,
                                        const char *account_id,
                                        acme_err_t *err);

/* Obtains a certificate for names with the solver of ctl's authenticator,
 * validates it and (save) stores it as the next version of lineage, with
 * ctl's renewal parameters. *pversion gets the archive version. */
apr_status_t acmectl_obtain(int *pversion, acmectl_t *ctl,
                            acme_client_t *client, acme_store_t *store,
                            const char *account,
                            const apr_array_header_t *names,
                            const char *lineage, int save, acme_err_t *err);

/* Builds the solver for the chosen authenticator. */
apr_status_t acmectl_solver_make(acme_solver_t **psolver, acmectl_t *ctl,
                                 acme_err_t *err);

/* Commands; each returns the process exit status. */
int acmectl_cmd_certonly(acmectl_t *ctl);
int acmectl_cmd_certificates(acmectl_t *ctl);
int acmectl_cmd_status(acmectl_t *ctl);
int acmectl_cmd_worker(acmectl_t *ctl);
int acmectl_cmd_renew(acmectl_t *ctl);
int acmectl_cmd_revoke(acmectl_t *ctl);
int acmectl_cmd_delete(acmectl_t *ctl);
int acmectl_cmd_update_account(acmectl_t *ctl);
int acmectl_cmd_import(acmectl_t *ctl);

/* Formats a time as ISO 8601 UTC ("2026-01-02T03:04:05Z"). */
const char *acmectl_iso_time(apr_pool_t *p, apr_time_t t);

/* Takes the store's lock for the rest of the process (one writer at a
 * time: the server's supervisor takes the same lock); says so and waits
 * when another process holds it. */
apr_status_t acmectl_lock_store(acmectl_t *ctl, acme_store_t *store,
                                acme_err_t *err);

#endif
