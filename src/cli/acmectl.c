/* acmectl: the command-line front end of mod_acme's engine, in Certbot's
 * words where Certbot has them. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <apr_general.h>

#include "acmectl.h"
#include "acme_account.h"
#include "acme_names.h"
#include "acme_util.h"

static const char usage[] =
"usage: acmectl COMMAND [options]\n"
"\n"
"commands:\n"
"  certonly        obtain a certificate into the store (Certbot's certonly)\n"
"  certificates    list the certificates in the store\n"
"  status          state, expiry, next renewal and last error of every\n"
"                  lineage (--cert-name, --json)\n"
"  renew           renew every certificate that is due (or --cert-name)\n"
"  revoke          revoke a certificate (--cert-name or --cert-path)\n"
"  delete          delete a lineage from the store (--cert-name)\n"
"  update_account  --rollover-key: replace the account key (RFC 8555\n"
"                  keyChange); -m: change the contact\n"
"  import          adopt Certbot's lineages and accounts (--certbot-dir)\n"
"  version         print the version\n"
"\n"
"certonly options:\n"
"  -d, --domains NAME[,NAME]    a name for the certificate (repeatable)\n"
"  --cert-name NAME             the lineage to create or update\n"
"  --duplicate                  a new lineage even if one has these names\n"
"  --keep-until-expiring        do nothing when the lineage is not due\n"
"  --dry-run                    obtain (from the staging CA when the server\n"
"                               is Let's Encrypt), save nothing\n"
"  --standalone                 answer http-01 with a built-in server\n"
"  --http-01-port PORT          its port (default 80)\n"
"  --webroot -w DIR             write http-01 answers below DIR (-w/-d pairs)\n"
"  --manual                     answer through hooks:\n"
"  --manual-auth-hook CMD       sets up a challenge (Certbot's environment)\n"
"  --manual-cleanup-hook CMD    removes it\n"
"  --preferred-challenges LIST  http-01, dns-01 (or http, dns)\n"
"  --hook-timeout SECS          kill a hook running longer (default 300)\n"
"  --dns-resolver IP[:PORT]     before validation, wait until the dns-01\n"
"                               TXT records are visible at this server\n"
"  --dns-propagation-timeout SECS  how long to wait for them (default 120)\n"
"  --key-type TYPE              ec256 (default), ec384, rsa2048, rsa3072,\n"
"                               rsa4096\n"
"  --reuse-key                  keep the lineage's private key\n"
"  --expand                     add names to the lineage they extend\n"
"                               (the default; --duplicate to avoid it)\n"
"  --allow-subset-of-names      drop names whose validation fails\n"
"  --preferred-chain CN         the chain whose top certificate this CN\n"
"                               issued, when the CA offers alternates\n"
"  --preferred-profile NAME     a profile from the CA's directory\n"
"  --must-staple                OCSP must-staple (Let's Encrypt no longer\n"
"                               issues it)\n"
"  --ignore-duplicate-limit     order a 6th certificate for the same\n"
"                               names within 7 days anyway\n"
"\n"
"renew options:\n"
"  --force-renewal              renew even if not due\n"
"  --dry-run                    obtain against the staging CA, save nothing\n"
"  --pre-hook CMD               once before the first renewal attempt\n"
"  --deploy-hook CMD            once per renewed lineage (RENEWED_LINEAGE,\n"
"                               RENEWED_DOMAINS)\n"
"  --post-hook CMD              once after the run (FAILED_DOMAINS)\n"
"  --no-directory-hooks         skip STORE/renewal-hooks/{pre,deploy,post}\n"
"\n"
"import options (Certbot's directory into the store; renewals reuse its\n"
"account, the certificates are served as they are):\n"
"  --certbot-dir DIR, --from DIR  Certbot's config dir to import from;\n"
"                               then --config-dir is the store. Without it,\n"
"                               --config-dir DIR names Certbot's dir (as in\n"
"                               Certbot) and the store is the default\n"
"                               (default source /etc/letsencrypt)\n"
"  --cert-name NAME             only this lineage (repeatable)\n"
"  --force                      replace lineages already in the store\n"
"\n"
"revoke options:\n"
"  --cert-path FILE             the certificate to revoke\n"
"  --reason REASON              unspecified, keycompromise,\n"
"                               affiliationchanged, superseded,\n"
"                               cessationofoperation\n"
"  --no-delete-after-revoke     keep the lineage (default: delete it)\n"
"\n"
"account and CA options:\n"
"  --server URL                 ACME directory (default: Let's Encrypt);\n"
"                               also 'letsencrypt', 'letsencrypt-staging'\n"
"  --ca-bundle FILE             CA certificates to trust for the ACME server\n"
"  -m, --email ADDR             contact for the account\n"
"  --register-unsafely-without-email  register an account with no\n"
"                               contact (otherwise -m is needed)\n"
"  --agree-tos                  agree to the CA's terms of service\n"
"  --eab-kid KID --eab-hmac-key KEY   External Account Binding\n"
"  --config-dir DIR             the store (default " ACMECTL_DEFAULT_STORE ")\n"
"\n"
"general options:\n"
"  -n, --non-interactive        never prompt\n"
"  -q, --quiet                  print nothing but errors\n"
"  -v, --verbose                log the protocol on stderr\n"
"  --json                       machine-readable output (certificates,\n"
"                               status)\n";

int acmectl_fail(acmectl_t *ctl, const char *fmt, ...)
{
    va_list ap;
    char *msg, *c;

    va_start(ap, fmt);
    msg = apr_pvsprintf(ctl->pool, fmt, ap);
    va_end(ap);
    for (c = msg; *c; c++) {
        if (*c == '\n' || *c == '\r') {
            *c = ' ';          /* one line, whatever the CA or a hook said */
        }
    }
    fprintf(stderr, "acmectl: %s\n", msg);
    return 1;
}

void acmectl_say(acmectl_t *ctl, const char *fmt, ...)
{
    va_list ap;

    if (ctl->quiet) {
        return;
    }
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    fflush(stdout);
}

const char *acmectl_iso_time(apr_pool_t *p, apr_time_t t)
{
    return acme_iso_time(p, t);
}

static void log_to_stderr(void *baton, acme_log_level_e level,
                          const char *msg)
{
    static const char *names[] = { "error", "warning", "notice", "info",
                                   "debug", "trace" };
    (void)baton;
    fprintf(stderr, "acmectl [%s] %s\n", names[level], msg);
}

static const char *norm_challenge(apr_pool_t *p, const char *s)
{
    if (!strcasecmp(s, "http") || !strcasecmp(s, "http-01")) return "http-01";
    if (!strcasecmp(s, "dns") || !strcasecmp(s, "dns-01")) return "dns-01";
    if (!strcasecmp(s, "tls-alpn") || !strcasecmp(s, "tls-alpn-01"))
        return "tls-alpn-01";
    if (!strcasecmp(s, "tls-sni") || !strcasecmp(s, "tls-sni-01"))
        return "tls-sni-01";
    return NULL;
}

enum {
    OPT_CERT_NAME = 256, OPT_DUPLICATE, OPT_STANDALONE, OPT_HTTP01_PORT,
    OPT_WEBROOT, OPT_MANUAL, OPT_AUTH_HOOK, OPT_CLEANUP_HOOK, OPT_PREF_CHALLS,
    OPT_KEY_TYPE, OPT_SERVER, OPT_CA_BUNDLE, OPT_NO_EMAIL, OPT_AGREE_TOS,
    OPT_EAB_KID, OPT_EAB_HMAC, OPT_CONFIG_DIR, OPT_JSON, OPT_HOOK_TIMEOUT,
    OPT_IGNORED_ARG, OPT_IGNORED, OPT_DNS_RESOLVER, OPT_DNS_TIMEOUT,
    OPT_DRY_RUN, OPT_FORCE, OPT_PRE_HOOK, OPT_POST_HOOK, OPT_DEPLOY_HOOK,
    OPT_NO_DIR_HOOKS, OPT_CERT_PATH, OPT_REASON, OPT_DELETE_AFTER,
    OPT_NO_DELETE_AFTER, OPT_PREF_CHAIN, OPT_PROFILE, OPT_SUBSET,
    OPT_REUSE_KEY, OPT_MUST_STAPLE, OPT_IGNORE_DUP, OPT_EXPAND,
    OPT_ROLLOVER, OPT_KEEP, OPT_CERTBOT_DIR, OPT_SERVE
};

static const struct option long_opts[] = {
    { "domains", required_argument, NULL, 'd' },
    { "domain", required_argument, NULL, 'd' },
    { "cert-name", required_argument, NULL, OPT_CERT_NAME },
    { "duplicate", no_argument, NULL, OPT_DUPLICATE },
    { "standalone", no_argument, NULL, OPT_STANDALONE },
    { "http-01-port", required_argument, NULL, OPT_HTTP01_PORT },
    { "webroot", no_argument, NULL, OPT_WEBROOT },
    { "webroot-path", required_argument, NULL, 'w' },
    { "manual", no_argument, NULL, OPT_MANUAL },
    { "manual-auth-hook", required_argument, NULL, OPT_AUTH_HOOK },
    { "manual-cleanup-hook", required_argument, NULL, OPT_CLEANUP_HOOK },
    { "preferred-challenges", required_argument, NULL, OPT_PREF_CHALLS },
    { "key-type", required_argument, NULL, OPT_KEY_TYPE },
    { "server", required_argument, NULL, OPT_SERVER },
    { "ca-bundle", required_argument, NULL, OPT_CA_BUNDLE },
    { "email", required_argument, NULL, 'm' },
    { "register-unsafely-without-email", no_argument, NULL, OPT_NO_EMAIL },
    { "agree-tos", no_argument, NULL, OPT_AGREE_TOS },
    { "eab-kid", required_argument, NULL, OPT_EAB_KID },
    { "eab-hmac-key", required_argument, NULL, OPT_EAB_HMAC },
    { "config-dir", required_argument, NULL, OPT_CONFIG_DIR },
    { "json", no_argument, NULL, OPT_JSON },
    { "hook-timeout", required_argument, NULL, OPT_HOOK_TIMEOUT },
    { "dns-resolver", required_argument, NULL, OPT_DNS_RESOLVER },
    { "dry-run", no_argument, NULL, OPT_DRY_RUN },
    { "force-renewal", no_argument, NULL, OPT_FORCE },
    { "force", no_argument, NULL, OPT_FORCE },
    { "certbot-dir", required_argument, NULL, OPT_CERTBOT_DIR },
    { "from", required_argument, NULL, OPT_CERTBOT_DIR },
    { "renew-by-default", no_argument, NULL, OPT_FORCE },
    { "pre-hook", required_argument, NULL, OPT_PRE_HOOK },
    { "post-hook", required_argument, NULL, OPT_POST_HOOK },
    { "deploy-hook", required_argument, NULL, OPT_DEPLOY_HOOK },
    { "renew-hook", required_argument, NULL, OPT_DEPLOY_HOOK },
    { "no-directory-hooks", no_argument, NULL, OPT_NO_DIR_HOOKS },
    { "cert-path", required_argument, NULL, OPT_CERT_PATH },
    { "reason", required_argument, NULL, OPT_REASON },
    { "delete-after-revoke", no_argument, NULL, OPT_DELETE_AFTER },
    { "no-delete-after-revoke", no_argument, NULL, OPT_NO_DELETE_AFTER },
    { "dns-propagation-timeout", required_argument, NULL, OPT_DNS_TIMEOUT },
    { "non-interactive", no_argument, NULL, 'n' },
    { "noninteractive", no_argument, NULL, 'n' },
    { "quiet", no_argument, NULL, 'q' },
    { "verbose", no_argument, NULL, 'v' },
    { "help", no_argument, NULL, 'h' },
    /* accepted for Certbot compatibility, no effect here */
    { "work-dir", required_argument, NULL, OPT_IGNORED_ARG },
    { "logs-dir", required_argument, NULL, OPT_IGNORED_ARG },
    { "keep-until-expiring", no_argument, NULL, OPT_KEEP },
    { "keep", no_argument, NULL, OPT_KEEP },
    { "expand", no_argument, NULL, OPT_EXPAND },
    { "preferred-chain", required_argument, NULL, OPT_PREF_CHAIN },
    { "preferred-profile", required_argument, NULL, OPT_PROFILE },
    { "allow-subset-of-names", no_argument, NULL, OPT_SUBSET },
    { "reuse-key", no_argument, NULL, OPT_REUSE_KEY },
    { "must-staple", no_argument, NULL, OPT_MUST_STAPLE },
    { "ignore-duplicate-limit", no_argument, NULL, OPT_IGNORE_DUP },
    { "rollover-key", no_argument, NULL, OPT_ROLLOVER },
    { "serve", no_argument, NULL, OPT_SERVE },
    { NULL, 0, NULL, 0 }
};

/* Parses the options after the command; returns 0 or an exit status. */
static int parse_options(acmectl_t *ctl, int argc, char **argv)
{
    apr_pool_t *p = ctl->pool;
    acme_err_t err;
    int c;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":d:w:m:nqvh", long_opts, NULL))
           != -1) {
        switch (c) {
        case 'd': {
            char *list = apr_pstrdup(p, optarg), *tok, *last = NULL;
            for (tok = apr_strtok(list, ",", &last); tok;
                 tok = apr_strtok(NULL, ",", &last)) {
                while (*tok == ' ') tok++;
                APR_ARRAY_PUSH(ctl->names, const char *) = tok;
                if (ctl->webroots->nelts) {
                    apr_table_set(ctl->webroot_map, tok,
                                  APR_ARRAY_IDX(ctl->webroots,
                                                ctl->webroots->nelts - 1,
                                                const char *));
                }
                else {
                    APR_ARRAY_PUSH(ctl->unmapped, const char *) = tok;
                }
            }
            if (!*optarg) {
                APR_ARRAY_PUSH(ctl->names, const char *) = "";
            }
            break;
        }
        case 'w':
            APR_ARRAY_PUSH(ctl->webroots, const char *) = optarg;
            if (!ctl->authenticator) ctl->authenticator = "webroot";
            break;
        case 'm': {
            char *list = apr_pstrdup(p, optarg), *tok, *last = NULL;
            for (tok = apr_strtok(list, ",", &last); tok;
                 tok = apr_strtok(NULL, ",", &last)) {
                APR_ARRAY_PUSH(ctl->contacts, const char *) = tok;
            }
            break;
        }
        case 'n': ctl->non_interactive = 1; break;
        case 'q': ctl->quiet = 1; break;
        case 'v': ctl->verbose++; break;
        case 'h': fputs(usage, stdout); exit(0);
        case OPT_CERT_NAME:
            ctl->cert_name = optarg;
            APR_ARRAY_PUSH(ctl->cert_names, const char *) = optarg;
            break;
        case OPT_CERTBOT_DIR: ctl->certbot_dir = optarg; break;
        case OPT_DUPLICATE: ctl->duplicate = 1; break;
        case OPT_STANDALONE: ctl->authenticator = "standalone"; break;
        case OPT_WEBROOT: ctl->authenticator = "webroot"; break;
        case OPT_MANUAL: ctl->authenticator = "manual"; break;
        case OPT_HTTP01_PORT:
            ctl->http01_port = atoi(optarg);
            if (ctl->http01_port <= 0 || ctl->http01_port > 65535) {
                return acmectl_fail(ctl, "--http-01-port: '%s' is not a port "
                                    "number", optarg);
            }
            break;
        case OPT_AUTH_HOOK: ctl->manual_auth_hook = optarg; break;
        case OPT_CLEANUP_HOOK: ctl->manual_cleanup_hook = optarg; break;
        case OPT_PREF_CHALLS: {
            char *list = apr_pstrdup(p, optarg), *tok, *last = NULL;
            for (tok = apr_strtok(list, ", ", &last); tok;
                 tok = apr_strtok(NULL, ", ", &last)) {
                const char *t = norm_challenge(p, tok);
                if (!t) {
                    return acmectl_fail(ctl, "--preferred-challenges: unknown "
                                        "challenge type '%s' (known: http-01, "
                                        "dns-01, tls-alpn-01)", tok);
                }
                APR_ARRAY_PUSH(ctl->pref_challs, const char *) = t;
            }
            break;
        }
        case OPT_KEY_TYPE:
            if (acme_key_type_parse(&ctl->key_type, optarg, p, &err)
                != APR_SUCCESS) {
                return acmectl_fail(ctl, "--key-type: %s", err.msg);
            }
            ctl->key_type_set = 1;
            break;
        case OPT_SERVER:
            ctl->server = acme_client_ca_url(optarg);
            ctl->server_set = 1;
            break;
        case OPT_CA_BUNDLE: ctl->ca_bundle = optarg; break;
        case OPT_NO_EMAIL: ctl->unsafe_no_email = 1; break;
        case OPT_AGREE_TOS: ctl->agree_tos = 1; break;
        case OPT_EAB_KID: ctl->eab_kid = optarg; break;
        case OPT_EAB_HMAC: ctl->eab_hmac = optarg; break;
        case OPT_CONFIG_DIR:
            ctl->config_dir = optarg;
            ctl->config_dir_set = 1;
            break;
        case OPT_JSON: ctl->json = 1; break;
        case OPT_HOOK_TIMEOUT:
            ctl->hook_timeout = apr_time_from_sec(atoi(optarg));
            break;
        case OPT_DNS_RESOLVER: ctl->dns_resolver = optarg; break;
        case OPT_DRY_RUN: ctl->dry_run = 1; break;
        case OPT_FORCE: ctl->force_renewal = 1; break;
        case OPT_PRE_HOOK: ctl->pre_hook = optarg; break;
        case OPT_POST_HOOK: ctl->post_hook = optarg; break;
        case OPT_DEPLOY_HOOK: ctl->deploy_hook = optarg; break;
        case OPT_NO_DIR_HOOKS: ctl->no_directory_hooks = 1; break;
        case OPT_CERT_PATH: ctl->cert_path = optarg; break;
        case OPT_REASON: {
            static const char *const reasons[] = {
                "unspecified", "keycompromise", "cacompromise",
                "affiliationchanged", "superseded", "cessationofoperation",
                NULL };
            int r;
            for (r = 0; reasons[r]; r++) {
                if (!strcasecmp(optarg, reasons[r])) break;
            }
            if (!reasons[r] || r == 2) {
                return acmectl_fail(ctl, "--reason: '%s' is not one of "
                                    "unspecified, keycompromise, "
                                    "affiliationchanged, superseded, "
                                    "cessationofoperation", optarg);
            }
            ctl->reason = r;
            break;
        }
        case OPT_DELETE_AFTER: ctl->delete_after_revoke = 1; break;
        case OPT_PREF_CHAIN: ctl->preferred_chain = optarg; break;
        case OPT_PROFILE: ctl->profile = optarg; break;
        case OPT_SUBSET: ctl->allow_subset = 1; break;
        case OPT_REUSE_KEY: ctl->reuse_key = 1; break;
        case OPT_MUST_STAPLE: ctl->must_staple = 1; break;
        case OPT_IGNORE_DUP: ctl->ignore_dup_limit = 1; break;
        case OPT_EXPAND: ctl->expand = 1; break;
        case OPT_ROLLOVER: ctl->rollover_key = 1; break;
        case OPT_SERVE: ctl->serve = 1; break;
        case OPT_KEEP: ctl->keep_until_expiring = 1; break;
        case OPT_NO_DELETE_AFTER: ctl->delete_after_revoke = 0; break;
        case OPT_DNS_TIMEOUT:
            ctl->dns_timeout = apr_time_from_sec(atoi(optarg));
            if (ctl->dns_timeout <= 0) {
                return acmectl_fail(ctl, "--dns-propagation-timeout: '%s' is "
                                    "not a number of seconds", optarg);
            }
            break;
        case OPT_IGNORED_ARG: case OPT_IGNORED: break;
        case ':':
            return acmectl_fail(ctl, "option %s needs a value",
                                argv[optind - 1]);
        default:
            return acmectl_fail(ctl, "unknown option %s (see acmectl --help)",
                                argv[optind - 1]);
        }
    }
    if (optind < argc) {
        return acmectl_fail(ctl, "unexpected argument '%s'", argv[optind]);
    }
    /* Names given before the first -w use the first -w (as Certbot). */
    if (ctl->webroots->nelts) {
        int i;
        for (i = 0; i < ctl->unmapped->nelts; i++) {
            apr_table_set(ctl->webroot_map,
                          APR_ARRAY_IDX(ctl->unmapped, i, const char *),
                          APR_ARRAY_IDX(ctl->webroots, 0, const char *));
        }
    }
    return 0;
}

/* Is s usable as an email address: local@domain.tld, no blanks, commas
 * or control characters? */
static int email_ok(const char *s)
{
    const char *at = strchr(s, '@'), *c;

    if (!at || at == s || strchr(at + 1, '@') || !strchr(at + 1, '.')
        || at[1] == '.' || s[strlen(s) - 1] == '.') {
        return 0;
    }
    for (c = s; *c; c++) {
        if ((unsigned char)*c <= ' ' || *c == ',' || *c == 0x7f) {
            return 0;
        }
    }
    return 1;
}

/* Certbot's rule for registering a new account: with an email address
 * (-m), or with --register-unsafely-without-email. Otherwise the address
 * is asked for on a terminal, and refused without one (-n, cron). */
static apr_status_t registration_contact(acmectl_t *ctl, acme_err_t *err)
{
    apr_pool_t *p = ctl->pool;
    char line[512], *s, *e;
    int invalid = 0;

    if (ctl->contacts->nelts || ctl->unsafe_no_email) {
        return APR_SUCCESS;
    }
    if (ctl->non_interactive || !isatty(STDIN_FILENO)) {
        return acme_err_set(err, p, ACME_EINVAL, "no account for %s in %s "
                            "yet. You should register before running "
                            "non-interactively, or provide --agree-tos and "
                            "--email <email_address> flags (or "
                            "--register-unsafely-without-email to register "
                            "with no contact address)", ctl->server,
                            ctl->config_dir);
    }
    for (;;) {
        printf("%sEnter email address (used for urgent renewal and security "
               "notices)\n (Enter 'c' to cancel): ", invalid
               ? "There seem to be problems with that address. " : "");
        fflush(stdout);
        if (!fgets(line, sizeof(line), stdin)) {
            putchar('\n');
            break;
        }
        for (s = line; *s == ' ' || *s == '\t'; s++);
        for (e = s + strlen(s); e > s && (e[-1] == '\n' || e[-1] == '\r'
                                          || e[-1] == ' '); e--);
        *e = '\0';
        if (!*s || !strcmp(s, "c") || !strcmp(s, "C")) {
            break;
        }
        if (email_ok(s)) {
            APR_ARRAY_PUSH(ctl->contacts, const char *) = apr_pstrdup(p, s);
            return APR_SUCCESS;
        }
        invalid = 1;
    }
    return acme_err_set(err, p, ACME_EINVAL, "An e-mail address or "
                        "--register-unsafely-without-email must be "
                        "provided.");
}

/* The store lock this process holds (taken once, kept until exit). */
static apr_file_t *store_lock;

apr_status_t acmectl_lock_store(acmectl_t *ctl, acme_store_t *store,
                                acme_err_t *err)
{
    apr_file_t *lock;
    const char *holder = NULL, *who;
    apr_status_t rv = APR_SUCCESS;

    if (store_lock) {
        goto cleanup;            /* flock() locks belong to the open file:
                                    one per process (ctl may be a
                                    per-lineage copy), kept until exit */
    }
    who = apr_psprintf(ctl->pool, "pid %d (acmectl %s)", (int)getpid(),
                       ctl->command);
    rv = acme_store_lock_as(&lock, store, who, 1, &holder, ctl->pool);
    if (rv == APR_EAGAIN) {
        acmectl_say(ctl, "Waiting for the store lock (held by %s)\n",
                    holder ? holder : "another process");
        rv = acme_store_lock_as(&lock, store, who, 0, NULL, ctl->pool);
    }
    if (rv != APR_SUCCESS) {
        rv = acme_err_set(err, ctl->pool, rv, "cannot lock the store %s",
                          store->base);
        goto cleanup;
    }
    store_lock = lock;
cleanup:
    return rv;
}

apr_status_t acmectl_connect(acme_client_t **pclient, acme_store_t **pstore,
                             const char **paccount_id, acmectl_t *ctl,
                             acme_err_t *err)
{
    apr_pool_t *p = ctl->pool;
    acme_client_t *c = NULL;
    acme_store_t *store = NULL;
    acme_key_t *key = NULL;
    const char *id = NULL, *url = NULL;
    json_t *reg = NULL;
    apr_status_t rv;

    /* Nothing is created in the store until the CA has accepted us: a
     * failed registration leaves the store as it was. */
    if (acme_store_open(&store, p, ctl->config_dir, 0, NULL) == APR_SUCCESS) {
        acme_store_account_find(&id, store, ctl->server, p);
    }
    if (!store || !id) {
        /* a new account: settle its contact before talking to the CA */
        rv = registration_contact(ctl, err);
        if (rv != APR_SUCCESS) {
            goto cleanup;
        }
    }
    rv = acme_client_create(&c, p, ctl->server, ctl->ca_bundle, err);
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    rv = acme_client_load_directory(c, err);
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    if (store && id) {
        rv = acme_store_account_load(&key, &url, store, ctl->server, id, p,
                                     err);
        if (rv != APR_SUCCESS) {
            goto cleanup;
        }
        acme_client_set_account(c, key, url);
        acme_log(ACME_LOG_INFO, "using account %s", url);
    }
    else {
        acme_account_req_t req;

        memset(&req, 0, sizeof(req));
        req.contacts = ctl->contacts;
        req.agree_tos = ctl->agree_tos;
        req.eab_kid = ctl->eab_kid;
        req.eab_hmac = ctl->eab_hmac;
        rv = acme_key_generate(&key, p, ACME_KEY_EC256, err);
        if (rv != APR_SUCCESS) {
            goto cleanup;
        }
        rv = acme_account_register(&reg, c, p, key, &req, err);
        if (rv != APR_SUCCESS) {
            goto cleanup;
        }
        rv = acme_store_open(&store, p, ctl->config_dir, 1, err);
        if (rv != APR_SUCCESS) {
            goto cleanup;
        }
        rv = acme_store_account_save(&id, store, ctl->server, key,
                                     c->account_url, reg, p, err);
        if (rv != APR_SUCCESS) {
            goto cleanup;
        }
        acmectl_say(ctl, "Account registered%s: %s\n", ctl->contacts->nelts
                    ? "" : " without a contact address (the CA cannot warn "
                    "you about problems with it)", c->account_url);
    }
    /* Make sure every directory of the layout exists (an existing store is
     * left as it is). */
    rv = acme_store_open(&store, p, ctl->config_dir, 1, err);
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    rv = acmectl_lock_store(ctl, store, err);
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    *pclient = c;
    *pstore = store;
    *paccount_id = id;
cleanup:
    if (reg) {
        json_decref(reg);
    }
    return rv;
}

int main(int argc, const char *const *argv)
{
    apr_pool_t *pool;
    acmectl_t *ctl;
    int rc;

    apr_app_initialize(&argc, &argv, NULL);
    atexit(apr_terminate);
    apr_pool_create(&pool, NULL);
    umask(022);

    ctl = apr_pcalloc(pool, sizeof(*ctl));
    ctl->pool = pool;
    ctl->config_dir = ACMECTL_DEFAULT_STORE;
    ctl->server = ACME_LE_PRODUCTION;
    ctl->http01_port = 80;
    ctl->key_type = ACME_KEY_EC256;
    ctl->hook_timeout = apr_time_from_sec(300);
    ctl->dns_timeout = apr_time_from_sec(120);
    ctl->delete_after_revoke = -1;
    ctl->names = apr_array_make(pool, 4, sizeof(const char *));
    ctl->contacts = apr_array_make(pool, 1, sizeof(const char *));
    ctl->webroots = apr_array_make(pool, 1, sizeof(const char *));
    ctl->unmapped = apr_array_make(pool, 1, sizeof(const char *));
    ctl->webroot_map = apr_table_make(pool, 4);
    ctl->pref_challs = apr_array_make(pool, 2, sizeof(const char *));
    ctl->cert_names = apr_array_make(pool, 1, sizeof(const char *));

    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")
        || !strcmp(argv[1], "help")) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    ctl->command = argv[1];
    if (!strcmp(ctl->command, "version") || !strcmp(ctl->command,
                                                    "--version")) {
        printf("acmectl (mod_acme) %s\n", ACME_VERSION);
        return 0;
    }
    rc = parse_options(ctl, argc - 1, (char **)argv + 1);
    if (rc) {
        return rc;
    }
    if (ctl->dry_run && !strcmp(ctl->server, ACME_LE_PRODUCTION)) {
        /* a dry run never spends the production CA's limits */
        ctl->server = ACME_LE_STAGING;
    }
    if (acme_init(pool) != APR_SUCCESS) {
        return acmectl_fail(ctl, "cannot initialise libcurl/OpenSSL");
    }
    if (ctl->verbose) {
        acme_log_set(log_to_stderr, NULL,
                     ctl->verbose > 1 ? ACME_LOG_DEBUG : ACME_LOG_INFO);
    }
    if (!strcmp(ctl->command, "certonly")) {
        return acmectl_cmd_certonly(ctl);
    }
    if (!strcmp(ctl->command, "renew")) {
        return acmectl_cmd_renew(ctl);
    }
    if (!strcmp(ctl->command, "revoke")) {
        return acmectl_cmd_revoke(ctl);
    }
    if (!strcmp(ctl->command, "update_account")
        || !strcmp(ctl->command, "update-account")) {
        return acmectl_cmd_update_account(ctl);
    }
    if (!strcmp(ctl->command, "delete")) {
        return acmectl_cmd_delete(ctl);
    }
    if (!strcmp(ctl->command, "worker")) {
        return acmectl_cmd_worker(ctl);
    }
    if (!strcmp(ctl->command, "import")) {
        return acmectl_cmd_import(ctl);
    }
    if (!strcmp(ctl->command, "certificates")) {
        return acmectl_cmd_certificates(ctl);
    }
    if (!strcmp(ctl->command, "status")) {
        return acmectl_cmd_status(ctl);
    }
    return acmectl_fail(ctl, "unknown command '%s' (see acmectl --help)",
                        ctl->command);
}
