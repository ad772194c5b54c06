/* acmectl: the command-line front end of mod_acme's engine, in Certbot's
 * words where Certbot has them: main, the options and the dispatch to the
 * subcommands (acmectl_cmds.h). */
#include <getopt.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "acmectl_cmds.h"
#include "acmectl_ctx.h"
#include "acme_client.h"
#include "acme_key.h"

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

/* --- options that need more than a field set --- */

/* -d NAME[,NAME]: names in order, each mapped to the last -w before it. */
static int opt_domains(acmectl_t *ctl, const char *arg)
{
    char *list = apr_pstrdup(ctl->pool, arg), *tok, *last = NULL;

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
    if (!*arg) {
        APR_ARRAY_PUSH(ctl->names, const char *) = "";
    }
    return 0;
}

static int opt_webroot_path(acmectl_t *ctl, const char *arg)
{
    APR_ARRAY_PUSH(ctl->webroots, const char *) = arg;
    if (!ctl->authenticator) ctl->authenticator = "webroot";
    return 0;
}

static int opt_email(acmectl_t *ctl, const char *arg)
{
    char *list = apr_pstrdup(ctl->pool, arg), *tok, *last = NULL;

    for (tok = apr_strtok(list, ",", &last); tok;
         tok = apr_strtok(NULL, ",", &last)) {
        APR_ARRAY_PUSH(ctl->contacts, const char *) = tok;
    }
    return 0;
}

static int opt_verbose(acmectl_t *ctl, const char *arg)
{
    ctl->verbose++;
    return 0;
}

static int opt_help(acmectl_t *ctl, const char *arg)
{
    fputs(usage, stdout);
    exit(0);
}

static int opt_cert_name(acmectl_t *ctl, const char *arg)
{
    ctl->cert_name = arg;
    APR_ARRAY_PUSH(ctl->cert_names, const char *) = arg;
    return 0;
}

static int opt_port(acmectl_t *ctl, const char *arg)
{
    ctl->http01_port = atoi(arg);
    if (ctl->http01_port <= 0 || ctl->http01_port > 65535) {
        return acmectl_fail(ctl, "--http-01-port: '%s' is not a port "
                            "number", arg);
    }
    return 0;
}

static int opt_challenges(acmectl_t *ctl, const char *arg)
{
    apr_pool_t *p = ctl->pool;
    char *list = apr_pstrdup(p, arg), *tok, *last = NULL;

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
    return 0;
}

static int opt_key_type(acmectl_t *ctl, const char *arg)
{
    acme_err_t err;

    if (acme_key_type_parse(&ctl->key_type, arg, ctl->pool, &err)
        != APR_SUCCESS) {
        return acmectl_fail(ctl, "--key-type: %s", err.msg);
    }
    ctl->key_type_set = 1;
    return 0;
}

static int opt_server(acmectl_t *ctl, const char *arg)
{
    ctl->server = acme_client_ca_url(arg);
    ctl->server_set = 1;
    return 0;
}

static int opt_config_dir(acmectl_t *ctl, const char *arg)
{
    ctl->config_dir = arg;
    ctl->config_dir_set = 1;
    return 0;
}

static int opt_hook_timeout(acmectl_t *ctl, const char *arg)
{
    ctl->hook_timeout = apr_time_from_sec(atoi(arg));
    return 0;
}

static int opt_reason(acmectl_t *ctl, const char *arg)
{
    static const char *const reasons[] = {
        "unspecified", "keycompromise", "cacompromise",
        "affiliationchanged", "superseded", "cessationofoperation",
        NULL };
    int r;

    for (r = 0; reasons[r]; r++) {
        if (!strcasecmp(arg, reasons[r])) break;
    }
    if (!reasons[r] || r == 2) {
        return acmectl_fail(ctl, "--reason: '%s' is not one of "
                            "unspecified, keycompromise, "
                            "affiliationchanged, superseded, "
                            "cessationofoperation", arg);
    }
    ctl->reason = r;
    return 0;
}

static int opt_dns_timeout(acmectl_t *ctl, const char *arg)
{
    ctl->dns_timeout = apr_time_from_sec(atoi(arg));
    if (ctl->dns_timeout <= 0) {
        return acmectl_fail(ctl, "--dns-propagation-timeout: '%s' is "
                            "not a number of seconds", arg);
    }
    return 0;
}

/* --- what each option does, by getopt_long's value for it --- */

typedef enum {
    SET_INT,        /* an int field gets value */
    SET_TEXT,       /* a string field gets text */
    SET_ARG,        /* a string field gets the option's argument */
    CALL,           /* fn does it; returns 0 or an exit status */
    IGNORE          /* accepted for Certbot compatibility, no effect */
} opt_how_e;

typedef struct opt_action_t {
    int code;
    opt_how_e how;
    size_t field;                       /* offsetof(acmectl_t, ...) */
    int value;
    const char *text;
    int (*fn)(acmectl_t *ctl, const char *arg);
} opt_action_t;

#define FLAG(c, f, v) { c, SET_INT, offsetof(acmectl_t, f), v, NULL, NULL }
#define TEXT(c, f, t) { c, SET_TEXT, offsetof(acmectl_t, f), 0, t, NULL }
#define ARG(c, f) { c, SET_ARG, offsetof(acmectl_t, f), 0, NULL, NULL }
#define FN(c, fn) { c, CALL, 0, 0, NULL, fn }
#define NONE(c) { c, IGNORE, 0, 0, NULL, NULL }

static const opt_action_t actions[] = {
    FN('d', opt_domains), FN('w', opt_webroot_path), FN('m', opt_email),
    FLAG('n', non_interactive, 1), FLAG('q', quiet, 1),
    FN('v', opt_verbose), FN('h', opt_help),
    FN(OPT_CERT_NAME, opt_cert_name), ARG(OPT_CERTBOT_DIR, certbot_dir),
    FLAG(OPT_DUPLICATE, duplicate, 1),
    TEXT(OPT_STANDALONE, authenticator, "standalone"),
    TEXT(OPT_WEBROOT, authenticator, "webroot"),
    TEXT(OPT_MANUAL, authenticator, "manual"),
    FN(OPT_HTTP01_PORT, opt_port), ARG(OPT_AUTH_HOOK, manual_auth_hook),
    ARG(OPT_CLEANUP_HOOK, manual_cleanup_hook),
    FN(OPT_PREF_CHALLS, opt_challenges), FN(OPT_KEY_TYPE, opt_key_type),
    FN(OPT_SERVER, opt_server), ARG(OPT_CA_BUNDLE, ca_bundle),
    FLAG(OPT_NO_EMAIL, unsafe_no_email, 1), FLAG(OPT_AGREE_TOS, agree_tos, 1),
    ARG(OPT_EAB_KID, eab_kid), ARG(OPT_EAB_HMAC, eab_hmac),
    FN(OPT_CONFIG_DIR, opt_config_dir), FLAG(OPT_JSON, json, 1),
    FN(OPT_HOOK_TIMEOUT, opt_hook_timeout),
    ARG(OPT_DNS_RESOLVER, dns_resolver), FLAG(OPT_DRY_RUN, dry_run, 1),
    FLAG(OPT_FORCE, force_renewal, 1), ARG(OPT_PRE_HOOK, pre_hook),
    ARG(OPT_POST_HOOK, post_hook), ARG(OPT_DEPLOY_HOOK, deploy_hook),
    FLAG(OPT_NO_DIR_HOOKS, no_directory_hooks, 1),
    ARG(OPT_CERT_PATH, cert_path), FN(OPT_REASON, opt_reason),
    FLAG(OPT_DELETE_AFTER, delete_after_revoke, 1),
    FLAG(OPT_NO_DELETE_AFTER, delete_after_revoke, 0),
    ARG(OPT_PREF_CHAIN, preferred_chain), ARG(OPT_PROFILE, profile),
    FLAG(OPT_SUBSET, allow_subset, 1), FLAG(OPT_REUSE_KEY, reuse_key, 1),
    FLAG(OPT_MUST_STAPLE, must_staple, 1),
    FLAG(OPT_IGNORE_DUP, ignore_dup_limit, 1), FLAG(OPT_EXPAND, expand, 1),
    FLAG(OPT_ROLLOVER, rollover_key, 1), FLAG(OPT_SERVE, serve, 1),
    FLAG(OPT_KEEP, keep_until_expiring, 1),
    FN(OPT_DNS_TIMEOUT, opt_dns_timeout),
    NONE(OPT_IGNORED_ARG), NONE(OPT_IGNORED),
};

/* The action for getopt_long's value c, or NULL (an unknown option). */
static const opt_action_t *opt_action(int c)
{
    size_t i;

    for (i = 0; i < sizeof(actions) / sizeof(actions[0]); i++) {
        if (actions[i].code == c) {
            return &actions[i];
        }
    }
    return NULL;
}

/* Does what a says with the option's argument; 0 or an exit status. */
static int opt_apply(acmectl_t *ctl, const opt_action_t *a, const char *arg)
{
    char *field = (char *)ctl + a->field;

    switch (a->how) {
    case SET_INT: *(int *)field = a->value; break;
    case SET_TEXT: *(const char **)field = a->text; break;
    case SET_ARG: *(const char **)field = arg; break;
    case CALL: return a->fn(ctl, arg);
    case IGNORE: break;
    }
    return 0;
}

/* Parses the options after the command; returns 0 or an exit status. */
static int parse_options(acmectl_t *ctl, int argc, char **argv)
{
    const opt_action_t *a;
    int c, rc, i;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":d:w:m:nqvh", long_opts, NULL))
           != -1) {
        if (c == ':') {
            return acmectl_fail(ctl, "option %s needs a value",
                                argv[optind - 1]);
        }
        if (!(a = opt_action(c))) {
            return acmectl_fail(ctl, "unknown option %s (see acmectl --help)",
                                argv[optind - 1]);
        }
        if ((rc = opt_apply(ctl, a, optarg))) {
            return rc;
        }
    }
    if (optind < argc) {
        return acmectl_fail(ctl, "unexpected argument '%s'", argv[optind]);
    }
    /* Names given before the first -w use the first -w (as Certbot). */
    for (i = 0; ctl->webroots->nelts && i < ctl->unmapped->nelts; i++) {
        apr_table_set(ctl->webroot_map,
                      APR_ARRAY_IDX(ctl->unmapped, i, const char *),
                      APR_ARRAY_IDX(ctl->webroots, 0, const char *));
    }
    return 0;
}

/* --- dispatch --- */

static const struct {
    const char *name;
    int (*run)(acmectl_t *ctl);
} commands[] = {
    { "certonly", acmectl_cmd_certonly },
    { "renew", acmectl_cmd_renew },
    { "revoke", acmectl_cmd_revoke },
    { "update_account", acmectl_cmd_update_account },
    { "update-account", acmectl_cmd_update_account },
    { "delete", acmectl_cmd_delete },
    { "worker", acmectl_cmd_worker },
    { "import", acmectl_cmd_import },
    { "certificates", acmectl_cmd_certificates },
    { "status", acmectl_cmd_status },
};

/* Runs ctl->command; its exit status. */
static int dispatch(acmectl_t *ctl)
{
    size_t i;

    for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (!strcmp(ctl->command, commands[i].name)) {
            return commands[i].run(ctl);
        }
    }
    return acmectl_fail(ctl, "unknown command '%s' (see acmectl --help)",
                        ctl->command);
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

    ctl = acmectl_ctx_make(pool);
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
    return dispatch(ctl);
}
