/* acmectl: the context every subcommand works in (what the command line
 * said) and the helpers they share to speak and to take the store's lock.
 * Below the subcommands: it depends on none of them, nor on main. */
#ifndef ACMECTL_CTX_H
#define ACMECTL_CTX_H

#include "acme_common.h"
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

/* A context with every default (the store, Let's Encrypt's production CA,
 * port 80, ec256, the hook and DNS timeouts) and empty lists, in pool. */
acmectl_t *acmectl_ctx_make(apr_pool_t *pool);

/* Prints "acmectl: <message>" on stderr (the one line a failure prints)
 * and returns the exit status 1. */
int acmectl_fail(acmectl_t *ctl, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prints progress on stdout unless --quiet. */
void acmectl_say(acmectl_t *ctl, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Formats a time as ISO 8601 UTC ("2026-01-02T03:04:05Z"). */
const char *acmectl_iso_time(apr_pool_t *p, apr_time_t t);

/* Takes the store's lock for the rest of the process (one writer at a
 * time: the server's supervisor takes the same lock); says so and waits
 * when another process holds it. */
apr_status_t acmectl_lock_store(acmectl_t *ctl, acme_store_t *store,
                                acme_err_t *err);

#endif
