/* mod_acme: declarations shared by the httpd glue files (mod_acme.c and
 * src/mod_acme_*.c). The engine (src/acme_*.c) never includes this file:
 * it is the only place where httpd and engine types meet. */
#ifndef MOD_ACME_H
#define MOD_ACME_H

#include "httpd.h"
#include "http_config.h"
#include "http_log.h"

#include "acme_common.h"
#include "acme_key.h"
#include "acme_supervisor.h"

#if defined(__has_include)
#if __has_include("acme_config.h")
#include "acme_config.h"      /* written by ./configure */
#endif
#endif
#ifndef ACME_DEFAULT_WORKER
#define ACME_DEFAULT_WORKER "/usr/bin/acmectl"
#endif

#define ACME_DEFAULT_STORE      "/var/lib/apache2/acme"
#define ACME_CHALLENGE_PREFIX   "/.well-known/acme-challenge/"
#define ACME_TOKEN_MAX          128     /* characters in a token served
                                           (acme_challenges.h checks the
                                           rest) */
#define ACME_UNSET              -1

extern module AP_MODULE_DECLARE_DATA acme_module;

/* One ACMEDomain directive: one certificate (lineage). */
typedef struct acme_domain_t {
    apr_array_header_t *given;    /* names written on the line (const char*) */
    const char *file;             /* where the directive is */
    int line;
    ap_directive_t *vhost_node;   /* the enclosing <VirtualHost>, or NULL */
    server_rec *s;                /* the server it is declared in (check) */

    /* resolved in check_config */
    const char *name;             /* lineage name */
    apr_array_header_t *names;    /* validated names, first names it */
    acme_md_t *md;                /* what the supervisor gets */

    /* decided in post_config */
    int live;                     /* 1: live/<name> serves, 0: fallback */
    const char *cert_file;        /* what mod_ssl is given */
    const char *key_file;
} acme_domain_t;

/* Per-server configuration. Global directives are only accepted in the
 * main server, so their values are read from the main server's record. */
typedef struct acme_srv_conf_t {
    /* declared here; never inherited by a vhost */
    apr_array_header_t *domains;  /* acme_domain_t* */
    /* the domain whose certificate this server presents (check_config) */
    acme_domain_t *serving;

    /* global or vhost (inherited from the main server) */
    int key_type;                 /* acme_key_type_e or ACME_UNSET */
    apr_array_header_t *challenges; /* const char*, NULL when unset */
    int renew_pct;                /* ACME_UNSET when unset */
    apr_interval_time_t renew_abs;
    const char *dns_hook;         /* ACMEDNSHook, NULL when unset */
    const char *dns_resolver;     /* ACMEDNSResolver */
    apr_interval_time_t dns_timeout; /* ACMEDNSPropagationTimeout, 0 unset */
    const char *profile;          /* ACMEProfile */
    const char *preferred_chain;  /* ACMEPreferredChain */
    int must_staple;              /* ACMEMustStaple, ACME_UNSET when unset */
    int allow_subset;             /* ACMEAllowSubsetOfNames */

    /* global only */
    const char *ca_url;
    const char *ca_file;
    apr_array_header_t *contacts; /* NULL when unset */
    int agree_tos;                /* ACME_UNSET when unset */
    const char *tos_url;
    int eab_set;
    const char *eab_kid;
    const char *eab_hmac;
    const char *store_dir;
    apr_interval_time_t check_interval; /* 0 when unset */
    int restart;                  /* 1 graceful, 0 off, ACME_UNSET */
    const char *user;
    uid_t uid;
    gid_t gid;
    int max_workers;              /* ACME_UNSET when unset */
    int port_http;                /* local port for the CA's 80, 0 unset */
    int port_https;               /* local port for the CA's 443 */
    const char *worker_path;
    const char *worker_where;     /* "file:line" of ACMEWorkerBinary */
    apr_interval_time_t hook_timeout; /* ACMEHookTimeout, 0 unset */
    const char *pre_hook;         /* ACMEPreHook */
    const char *deploy_hook;      /* ACMEDeployHook */
    const char *post_hook;        /* ACMEPostHook */
} acme_srv_conf_t;

/* --- mod_acme_config.c --- */

extern const command_rec acme_cmds[];

/* create/merge server config callbacks. */
void *acme_create_srv_conf(apr_pool_t *p, server_rec *s);
void *acme_merge_srv_conf(apr_pool_t *p, void *basev, void *addv);

/* Returns the module's config of server s. */
acme_srv_conf_t *acme_srv_conf(server_rec *s);

/* --- mod_acme_vhost_check.c --- */

/* check_config hook: resolves and validates every ACMEDomain (see
 * docs/directives.md); logs each problem at EMERG with file:line and
 * returns !OK when any is fatal. */
int acme_check_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                      server_rec *s);

/* --- mod_acme_effective.c --- */

/* Builds the supervisor's configuration from the resolved directives. */
acme_sup_conf_t *acme_build_sup_conf(apr_pool_t *p, server_rec *base);

/* Effective global values (defaults applied). */
const char *acme_conf_store_dir(server_rec *base);
int acme_conf_restart(server_rec *base);

/* Effective ACMEChallenges of a server: its list, or http-01 alone. */
apr_array_header_t *acme_conf_challenges(apr_pool_t *p, acme_srv_conf_t *sc);

/* --- mod_acme_ssl.c --- */

/* post_config part: opens the store, prepares the challenge directory and
 * the fallback certificates, and records per ACMEDomain whether its lineage
 * is live. Returns OK or HTTP_INTERNAL_SERVER_ERROR (logged). */
int acme_ssl_prepare(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *base);

/* mod_ssl hooks (http_ssl.h). */
int acme_ssl_add_cert_files(server_rec *s, apr_pool_t *p,
                            apr_array_header_t *cert_files,
                            apr_array_header_t *key_files);
int acme_ssl_add_fallback_cert_files(server_rec *s, apr_pool_t *p,
                                     apr_array_header_t *cert_files,
                                     apr_array_header_t *key_files);

/* --- mod_acme_challenge.c --- */

/* post_read_request hook: http-01 answers and the fallback 503. */
int acme_post_read_request(request_rec *r);

/* mod_ssl's challenge hook: tls-alpn-01 on acme-tls/1 connections and
 * tls-sni-01 for "*.acme.invalid" names, from STORE/challenges/. */
int acme_answer_tls_challenge(conn_rec *c, const char *server_name,
                              const char **pcert_pem, const char **pkey_pem);

/* mod_ssl's optional init_server hook: installs the tls-sni-01 certificate
 * callback on a server's SSL_CTX (the type is OpenSSL's SSL_CTX). */
struct ssl_ctx_st;
int acme_ssl_init_server(server_rec *s, apr_pool_t *p, int is_proxy,
                         struct ssl_ctx_st *ctx);

/* Protocol hooks: propose and accept "acme-tls/1" during ALPN. */
int acme_protocol_propose(conn_rec *c, request_rec *r, server_rec *s,
                          const apr_array_header_t *offers,
                          apr_array_header_t *proposals);
int acme_protocol_switch(conn_rec *c, request_rec *r, server_rec *s,
                         const char *protocol);
const char *acme_protocol_get(const conn_rec *c);

/* --- mod_acme_status.c --- */

/* post_config part (root): writes the public certificate summaries the
 * status handler reads as the children's user (STORE/status/, see
 * docs/status.md). Failures are logged, never fatal. */
void acme_status_prepare(apr_pool_t *ptemp, server_rec *base);

/* handler hook: "acme-status" (SetHandler acme-status). */
int acme_status_handler(request_rec *r);

/* Registers the optional mod_status section (status_hook). */
void acme_status_register_hooks(apr_pool_t *p);

/* --- mod_acme_supervisor.c --- */

/* Starts the supervisor process for this generation (post_config of the
 * real pass). Its lifetime is bound to pconf. */
apr_status_t acme_supervisor_start(apr_pool_t *pconf, server_rec *base);

/* Installs the engine's log callback forwarding to the error log. */
void acme_log_install(server_rec *base);

#endif
