/* mod_acme: configuration: per-server records, their merge, and the
 * directive handlers. The checks against the vhosts are in
 * mod_acme_vhost_check.c, the effective values in mod_acme_effective.c. */
#include <errno.h>
#include <pwd.h>
#include <grp.h>
#include <unistd.h>

#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "ap_listen.h"
#include "unixd.h"
#include "apr_hash.h"
#include "apr_strings.h"
#include "apr_lib.h"

#include <arpa/inet.h>

#include "mod_acme.h"

APLOG_USE_MODULE(acme);
#include "acme_client.h"
#include "acme_names.h"
#include "acme_util.h"

static const char *const known_challenges[] = {
    "http-01", "tls-alpn-01", "dns-01", "tls-sni-01", NULL
};

/* Returns the module's config of server s. */
acme_srv_conf_t *acme_srv_conf(server_rec *s)
{
    return ap_get_module_config(s->module_config, &acme_module);
}

/* Creates the config record of a server (main or vhost), all unset. */
void *acme_create_srv_conf(apr_pool_t *p, server_rec *s)
{
    acme_srv_conf_t *sc = apr_pcalloc(p, sizeof(*sc));

    sc->domains = apr_array_make(p, 2, sizeof(acme_domain_t *));
    sc->key_type = ACME_UNSET;
    sc->renew_pct = ACME_UNSET;
    sc->agree_tos = ACME_UNSET;
    sc->restart = ACME_UNSET;
    sc->max_workers = ACME_UNSET;
    sc->must_staple = ACME_UNSET;
    sc->allow_subset = ACME_UNSET;
    return sc;
}

/* Merges a vhost's record over the main server's: the per-vhost settings
 * are inherited, the ACMEDomains are not (each belongs to its own vhost). */
void *acme_merge_srv_conf(apr_pool_t *p, void *basev, void *addv)
{
    acme_srv_conf_t *base = basev, *add = addv;
    acme_srv_conf_t *sc = apr_pcalloc(p, sizeof(*sc));

    /* global-only values live in the main server's record; copy them so a
     * lookup on any server sees the same */
    *sc = *base;
    sc->domains = add->domains;
    sc->serving = NULL;
    sc->key_type = add->key_type != ACME_UNSET ? add->key_type
                                               : base->key_type;
    sc->challenges = add->challenges ? add->challenges : base->challenges;
    if (add->renew_pct != ACME_UNSET) {
        sc->renew_pct = add->renew_pct;
        sc->renew_abs = add->renew_abs;
    }
    sc->dns_hook = add->dns_hook ? add->dns_hook : base->dns_hook;
    sc->dns_resolver = add->dns_resolver ? add->dns_resolver
                                         : base->dns_resolver;
    sc->dns_timeout = add->dns_timeout ? add->dns_timeout : base->dns_timeout;
    sc->profile = add->profile ? add->profile : base->profile;
    sc->preferred_chain = add->preferred_chain ? add->preferred_chain
                                               : base->preferred_chain;
    sc->must_staple = add->must_staple != ACME_UNSET ? add->must_staple
                                                     : base->must_staple;
    sc->allow_subset = add->allow_subset != ACME_UNSET ? add->allow_subset
                                                       : base->allow_subset;
    return sc;
}

/* Parses "30d", "12h", "10m", "45s" or plain seconds into *pt. Returns
 * NULL or the reason the value is not a duration. */
static const char *parse_duration(apr_interval_time_t *pt, apr_pool_t *p,
                                  const char *arg)
{
    char *end = NULL;
    apr_int64_t n, mult = 1;

    if (!arg || !apr_isdigit(*arg)) {
        return apr_psprintf(p, "'%s' is not a duration: use a number followed "
                            "by d, h, m or s (\"30d\", \"12h\", \"10m\", "
                            "\"45s\") or plain seconds", arg ? arg : "");
    }
    errno = 0;
    n = apr_strtoi64(arg, &end, 10);
    if (errno || n < 0) {
        return apr_psprintf(p, "'%s' is out of range", arg);
    }
    if (*end) {
        switch (*end) {
        case 'd': mult = 86400; break;
        case 'h': mult = 3600; break;
        case 'm': mult = 60; break;
        case 's': mult = 1; break;
        default: mult = 0; break;
        }
        if (!mult || end[1]) {
            return apr_psprintf(p, "'%s' is not a duration: the unit must be "
                                "one of d, h, m, s (\"30d\", \"12h\", "
                                "\"10m\", \"45s\") or none for seconds", arg);
        }
    }
    if (n > APR_INT64_C(100) * 365 * 86400 / mult) {
        return apr_psprintf(p, "'%s' is too long (at most 100 years)", arg);
    }
    *pt = apr_time_from_sec(n * mult);
    return NULL;
}

/* Sets *pt from the directive's duration argument; the error names the
 * directive, too_short is the error for less than a second. */
static const char *set_duration(apr_interval_time_t *pt, cmd_parms *cmd,
                                const char *arg, const char *too_short)
{
    const char *err = parse_duration(pt, cmd->pool, arg);

    if (err) {
        return apr_pstrcat(cmd->pool, cmd->cmd->name, ": ", err, NULL);
    }
    if (*pt < apr_time_from_sec(1)) {
        return too_short;
    }
    return NULL;
}

/* Returns the main server's record when the directive is global-only and
 * outside any <VirtualHost>, else sets *perr. */
static acme_srv_conf_t *global_conf(cmd_parms *cmd, const char **perr)
{
    *perr = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    if (*perr) {
        *perr = apr_pstrcat(cmd->pool, *perr, " (", cmd->cmd->name,
                            " is a global setting: put it in the main server "
                            "configuration, outside <VirtualHost>)", NULL);
        return NULL;
    }
    return acme_srv_conf(cmd->server);
}

#define GLOBAL_OR_RETURN(sc, cmd)                   \
    do {                                            \
        const char *gerr_;                          \
        sc = global_conf(cmd, &gerr_);              \
        if (!sc) return gerr_;                      \
    } while (0)

/* ACMEDomain [name ...] (RAW_ARGS: TAKE_ARGV stops at 64 arguments and a
 * certificate may have 100 names) */
static const char *cmd_domain(cmd_parms *cmd, void *dc, const char *args)
{
    acme_srv_conf_t *sc = acme_srv_conf(cmd->server);
    acme_domain_t *d;
    ap_directive_t *node;
    const char *err;
    int argc;

    if ((err = ap_check_cmd_context(cmd, NOT_IN_DIR_CONTEXT))) {
        return err;
    }
    d = apr_pcalloc(cmd->pool, sizeof(*d));
    d->given = apr_array_make(cmd->pool, 4, sizeof(char *));
    while (*args) {
        char *w = ap_getword_conf(cmd->pool, &args);
        if (!*w) {
            break;
        }
        APR_ARRAY_PUSH(d->given, const char *) = w;
    }
    argc = d->given->nelts;
    d->file = cmd->directive->filename;
    d->line = cmd->directive->line_num;
    for (node = cmd->directive->parent; node; node = node->parent) {
        if (!strcasecmp(node->directive, "<VirtualHost")) {
            d->vhost_node = node;
            break;
        }
    }
    if (!cmd->server->is_virtual && argc == 0) {
        return "ACMEDomain in the main server needs the names of the "
               "certificate (ACMEDomain example.org www.example.org); only "
               "inside a <VirtualHost> may the names be left out (then the "
               "vhost's ServerName and ServerAlias are used)";
    }
    APR_ARRAY_PUSH(sc->domains, acme_domain_t *) = d;
    return NULL;
}

/* ACMECertificateAuthority URL|letsencrypt|letsencrypt-staging */
static const char *cmd_ca(cmd_parms *cmd, void *dc, const char *arg)
{
    acme_srv_conf_t *sc;
    const char *url;

    GLOBAL_OR_RETURN(sc, cmd);
    url = acme_client_ca_url(arg);
    if (strncasecmp(url, "https://", 8) && strncasecmp(url, "http://", 7)) {
        return apr_psprintf(cmd->pool, "ACMECertificateAuthority '%s': give "
                            "the CA's directory URL (https://...) or one of "
                            "letsencrypt, letsencrypt-staging", arg);
    }
    sc->ca_url = url;
    return NULL;
}

/* ACMECACertificateFile path */
static const char *cmd_ca_file(cmd_parms *cmd, void *dc, const char *arg)
{
    acme_srv_conf_t *sc;
    const char *path;
    apr_finfo_t fi;

    GLOBAL_OR_RETURN(sc, cmd);
    path = ap_server_root_relative(cmd->pool, arg);
    if (!path) {
        return apr_psprintf(cmd->pool, "ACMECACertificateFile '%s': invalid "
                            "path", arg);
    }
    if (apr_stat(&fi, path, APR_FINFO_TYPE, cmd->pool) != APR_SUCCESS
        || fi.filetype != APR_REG || access(path, R_OK) != 0) {
        return apr_psprintf(cmd->pool, "ACMECACertificateFile '%s': not a "
                            "readable file (give a PEM bundle of the CAs that "
                            "sign the ACME server's TLS certificate)", path);
    }
    sc->ca_file = path;
    return NULL;
}

/* ACMEContact email ... */
static const char *cmd_contact(cmd_parms *cmd, void *dc, const char *arg)
{
    acme_srv_conf_t *sc;

    GLOBAL_OR_RETURN(sc, cmd);
    if (!strncasecmp(arg, "mailto:", 7)) {
        arg += 7;
    }
    if (!ap_strchr_c(arg, '@') || *arg == '@' || ap_strchr_c(arg, ' ')) {
        return apr_psprintf(cmd->pool, "ACMEContact '%s': give an email "
                            "address (admin@example.org)", arg);
    }
    if (!sc->contacts) {
        sc->contacts = apr_array_make(cmd->pool, 1, sizeof(const char *));
    }
    APR_ARRAY_PUSH(sc->contacts, const char *) = arg;
    return NULL;
}

/* ACMEAgreeToS on|off|URL */
static const char *cmd_agree(cmd_parms *cmd, void *dc, const char *arg)
{
    acme_srv_conf_t *sc;

    GLOBAL_OR_RETURN(sc, cmd);
    if (!strcasecmp(arg, "on")) {
        sc->agree_tos = 1;
    }
    else if (!strcasecmp(arg, "off")) {
        sc->agree_tos = 0;
    }
    else if (!strncasecmp(arg, "https://", 8)
             || !strncasecmp(arg, "http://", 7)) {
        sc->agree_tos = 1;
        sc->tos_url = arg;
    }
    else {
        return apr_psprintf(cmd->pool, "ACMEAgreeToS '%s': use on, off or "
                            "the URL of the terms of service you agree to",
                            arg);
    }
    return NULL;
}

/* ACMEExternalAccountBinding KID HMAC | off */
static const char *cmd_eab(cmd_parms *cmd, void *dc, const char *kid,
                           const char *hmac)
{
    acme_srv_conf_t *sc;

    GLOBAL_OR_RETURN(sc, cmd);
    sc->eab_set = 1;
    if (!hmac) {
        if (strcasecmp(kid, "off")) {
            return "ACMEExternalAccountBinding: give the key id and the HMAC "
                   "key your CA issued (ACMEExternalAccountBinding KID HMAC), "
                   "or off";
        }
        sc->eab_kid = sc->eab_hmac = NULL;
        return NULL;
    }
    if (!acme_is_b64url(hmac, 1024)) {
        return "ACMEExternalAccountBinding: the HMAC key must be base64url "
               "(letters, digits, '-' and '_', no padding), as the CA gave it";
    }
    sc->eab_kid = kid;
    sc->eab_hmac = hmac;
    return NULL;
}

/* ACMEStoreDir path */
static const char *cmd_store(cmd_parms *cmd, void *dc, const char *arg)
{
    acme_srv_conf_t *sc;

    GLOBAL_OR_RETURN(sc, cmd);
    sc->store_dir = ap_server_root_relative(cmd->pool, arg);
    if (!sc->store_dir) {
        return apr_psprintf(cmd->pool, "ACMEStoreDir '%s': invalid path", arg);
    }
    return NULL;
}

/* ACMEKeyType ec256|ec384|rsa2048|rsa3072|rsa4096 */
static const char *cmd_key_type(cmd_parms *cmd, void *dc, const char *arg)
{
    acme_srv_conf_t *sc = acme_srv_conf(cmd->server);
    acme_key_type_e type;
    acme_err_t err;

    acme_err_clear(&err);
    if (acme_key_type_parse(&type, arg, cmd->pool, &err) != APR_SUCCESS) {
        return apr_psprintf(cmd->pool, "ACMEKeyType '%s': %s", arg,
                            err.msg ? err.msg : "use ec256, ec384, rsa2048, "
                            "rsa3072 or rsa4096");
    }
    sc->key_type = type;
    return NULL;
}

/* ACMEChallenges type ... */
static const char *cmd_challenges(cmd_parms *cmd, void *dc, int argc,
                                  char *const argv[])
{
    acme_srv_conf_t *sc = acme_srv_conf(cmd->server);
    int i, k;

    if (argc == 0) {
        return "ACMEChallenges: give one or more of http-01, tls-alpn-01, "
               "dns-01, tls-sni-01 (in order of preference)";
    }
    sc->challenges = apr_array_make(cmd->pool, argc, sizeof(const char *));
    for (i = 0; i < argc; i++) {
        for (k = 0; known_challenges[k]; k++) {
            if (!strcasecmp(argv[i], known_challenges[k])) {
                break;
            }
        }
        if (!known_challenges[k]) {
            return apr_psprintf(cmd->pool, "ACMEChallenges: unknown challenge "
                                "type '%s'; known are http-01, tls-alpn-01, "
                                "dns-01, tls-sni-01", argv[i]);
        }
        if (!acme_array_contains(sc->challenges, known_challenges[k])) {
            APR_ARRAY_PUSH(sc->challenges, const char *) = known_challenges[k];
        }
    }
    return NULL;
}

/* ACMERenewWindow 33% | 30d */
static const char *cmd_renew_window(cmd_parms *cmd, void *dc, const char *arg)
{
    acme_srv_conf_t *sc = acme_srv_conf(cmd->server);
    apr_size_t len = strlen(arg);
    apr_interval_time_t t;
    const char *err;

    if (len > 1 && arg[len - 1] == '%') {
        char *end;
        long pct = strtol(arg, &end, 10);
        if (!apr_isdigit(*arg) || end != arg + len - 1 || pct < 1
            || pct > 99) {
            return apr_psprintf(cmd->pool, "ACMERenewWindow '%s': a "
                                "percentage must be between 1%% and 99%% of "
                                "the certificate's lifetime", arg);
        }
        sc->renew_pct = (int)pct;
        sc->renew_abs = 0;
        return NULL;
    }
    if ((err = parse_duration(&t, cmd->pool, arg))) {
        return apr_psprintf(cmd->pool, "ACMERenewWindow: %s; or give a "
                            "percentage of the lifetime (33%%)", err);
    }
    if (t <= 0) {
        return "ACMERenewWindow: the window must not be zero";
    }
    sc->renew_pct = 0;
    sc->renew_abs = t;
    return NULL;
}

/* ACMECheckInterval DURATION */
static const char *cmd_check_interval(cmd_parms *cmd, void *dc,
                                      const char *arg)
{
    acme_srv_conf_t *sc;

    GLOBAL_OR_RETURN(sc, cmd);
    return set_duration(&sc->check_interval, cmd, arg,
                        "ACMECheckInterval: must be at least 1s");
}

/* ACMERestart graceful|off */
static const char *cmd_restart(cmd_parms *cmd, void *dc, const char *arg)
{
    acme_srv_conf_t *sc;

    GLOBAL_OR_RETURN(sc, cmd);
    if (!strcasecmp(arg, "graceful")) {
        sc->restart = 1;
    }
    else if (!strcasecmp(arg, "off")) {
        sc->restart = 0;
    }
    else {
        return apr_psprintf(cmd->pool, "ACMERestart '%s': use graceful (a "
                            "graceful restart activates new certificates) or "
                            "off (you restart httpd yourself)", arg);
    }
    return NULL;
}

/* ACMEUser NAME */
static const char *cmd_user(cmd_parms *cmd, void *dc, const char *arg)
{
    acme_srv_conf_t *sc;
    struct passwd *pw;

    GLOBAL_OR_RETURN(sc, cmd);
    pw = getpwnam(arg);
    if (!pw) {
        return apr_psprintf(cmd->pool, "ACMEUser '%s': no such user (the "
                            "worker that talks to the CA runs as this "
                            "unprivileged user; default: httpd's User)", arg);
    }
    if (pw->pw_uid == 0) {
        return apr_psprintf(cmd->pool, "ACMEUser '%s': must not be root: the "
                            "worker talks to the network and runs "
                            "unprivileged", arg);
    }
    sc->user = arg;
    sc->uid = pw->pw_uid;
    sc->gid = pw->pw_gid;
    return NULL;
}

/* ACMEMaxWorkers N */
static const char *cmd_max_workers(cmd_parms *cmd, void *dc, const char *arg)
{
    acme_srv_conf_t *sc;
    char *end;
    long n;

    GLOBAL_OR_RETURN(sc, cmd);
    n = strtol(arg, &end, 10);
    if (!apr_isdigit(*arg) || *end || n < 1 || n > 64) {
        return apr_psprintf(cmd->pool, "ACMEMaxWorkers '%s': give a number "
                            "from 1 to 64", arg);
    }
    sc->max_workers = (int)n;
    return NULL;
}

/* Parses a port number 1..65535; returns 0 when invalid. */
static int parse_port(const char *s)
{
    char *end;
    long n = strtol(s, &end, 10);

    if (!apr_isdigit(*s) || *end || n < 1 || n > 65535) {
        return 0;
    }
    return (int)n;
}

/* ACMEPortMap 80:N [443:M] */
static const char *cmd_port_map(cmd_parms *cmd, void *dc, const char *a1,
                                const char *a2)
{
    acme_srv_conf_t *sc;
    const char *args[2];
    int i;

    GLOBAL_OR_RETURN(sc, cmd);
    args[0] = a1;
    args[1] = a2;
    for (i = 0; i < 2 && args[i]; i++) {
        const char *colon = ap_strchr_c(args[i], ':');
        int from, to;

        from = colon ? parse_port(apr_pstrmemdup(cmd->pool, args[i],
                                                 colon - args[i])) : 0;
        to = colon ? parse_port(colon + 1) : 0;
        if ((from != 80 && from != 443) || !to) {
            return apr_psprintf(cmd->pool, "ACMEPortMap '%s': give "
                                "80:LOCALPORT and/or 443:LOCALPORT (the CA "
                                "validates on ports 80 and 443; LOCALPORT is "
                                "where this server listens for them)",
                                args[i]);
        }
        if (from == 80) {
            sc->port_http = to;
        }
        else {
            sc->port_https = to;
        }
    }
    return NULL;
}

/* ACMEWorkerBinary PATH (checked in check_config) */
static const char *cmd_worker(cmd_parms *cmd, void *dc, const char *arg)
{
    acme_srv_conf_t *sc;

    GLOBAL_OR_RETURN(sc, cmd);
    sc->worker_path = ap_server_root_relative(cmd->pool, arg);
    if (!sc->worker_path) {
        return apr_psprintf(cmd->pool, "ACMEWorkerBinary '%s': invalid path",
                            arg);
    }
    sc->worker_where = apr_psprintf(cmd->pool, "%s:%d: ",
                                    cmd->directive->filename,
                                    cmd->directive->line_num);
    return NULL;
}

/* ACMEDNSHook CMD */
static const char *cmd_dns_hook(cmd_parms *cmd, void *dc, const char *arg)
{
    acme_srv_conf_t *sc = acme_srv_conf(cmd->server);

    if (!*arg) {
        return "ACMEDNSHook: give the command that sets up and removes "
               "_acme-challenge TXT records (it is run as "
               "CMD setup|cleanup NAME VALUE)";
    }
    sc->dns_hook = arg;
    return NULL;
}

/* ACMEDNSResolver IP[:PORT] */
static const char *cmd_dns_resolver(cmd_parms *cmd, void *dc, const char *arg)
{
    acme_srv_conf_t *sc = acme_srv_conf(cmd->server);
    char *host = apr_pstrdup(cmd->pool, arg), *colon = strrchr(host, ':');
    struct in_addr a;

    if (colon) {
        char *end;
        long port = strtol(colon + 1, &end, 10);
        *colon = '\0';
        if (*end || port < 1 || port > 65535) {
            return apr_psprintf(cmd->pool, "ACMEDNSResolver '%s': the port "
                                "must be 1..65535", arg);
        }
    }
    if (inet_pton(AF_INET, host, &a) != 1) {
        return apr_psprintf(cmd->pool, "ACMEDNSResolver '%s': give the IPv4 "
                            "address of a DNS server, optionally :PORT", arg);
    }
    sc->dns_resolver = arg;
    return NULL;
}

/* ACMEDNSPropagationTimeout DURATION */
static const char *cmd_dns_timeout(cmd_parms *cmd, void *dc, const char *arg)
{
    acme_srv_conf_t *sc = acme_srv_conf(cmd->server);

    return set_duration(&sc->dns_timeout, cmd, arg,
                        "ACMEDNSPropagationTimeout: at least 1s");
}

/* ACMEHookTimeout DURATION */
static const char *cmd_hook_timeout(cmd_parms *cmd, void *dc, const char *arg)
{
    acme_srv_conf_t *sc = acme_srv_conf(cmd->server);
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);

    if (err) {
        return err;
    }
    return set_duration(&sc->hook_timeout, cmd, arg,
                        "ACMEHookTimeout: at least 1s");
}

/* ACMEProfile NAME */
static const char *cmd_profile(cmd_parms *cmd, void *dc, const char *arg)
{
    acme_srv_conf_t *sc = acme_srv_conf(cmd->server);
    const char *c;

    for (c = arg; *c; c++) {
        if (!apr_isalnum(*c) && *c != '-' && *c != '_' && *c != '.') {
            return apr_psprintf(cmd->pool, "ACMEProfile '%s': a profile name "
                                "has letters, digits, '-', '_' and '.' only "
                                "(e.g. tlsserver, shortlived)", arg);
        }
    }
    sc->profile = *arg ? arg : NULL;
    return NULL;
}

/* ACMEPreferredChain CN */
static const char *cmd_preferred_chain(cmd_parms *cmd, void *dc,
                                       const char *arg)
{
    acme_srv_conf_t *sc = acme_srv_conf(cmd->server);

    if (!*arg) {
        return "ACMEPreferredChain: give the common name of the issuer of "
               "the chain's topmost certificate (e.g. \"ISRG Root X1\")";
    }
    sc->preferred_chain = arg;
    return NULL;
}

/* ACMEMustStaple on|off, ACMEAllowSubsetOfNames on|off */
static const char *cmd_flag(cmd_parms *cmd, void *dc, int on)
{
    acme_srv_conf_t *sc = acme_srv_conf(cmd->server);

    if (!strcmp(cmd->info, "staple")) {
        sc->must_staple = on;
        if (on) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, cmd->server,
                         "%s:%d: ACMEMustStaple on: Let's Encrypt no longer "
                         "issues certificates with OCSP must-staple (it ended "
                         "OCSP in 2025); orders to it will fail",
                         cmd->directive->filename, cmd->directive->line_num);
        }
    }
    else {
        sc->allow_subset = on;
    }
    return NULL;
}

/* ACMEPreHook / ACMEDeployHook / ACMEPostHook CMD (global) */
static const char *cmd_lifecycle_hook(cmd_parms *cmd, void *dc,
                                      const char *arg)
{
    acme_srv_conf_t *sc = acme_srv_conf(cmd->server);
    const char *which = cmd->info;
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);

    if (err) {
        return err;
    }
    if (!*arg) {
        return apr_psprintf(cmd->pool, "%s: give a command",
                            cmd->directive->directive);
    }
    if (!strcmp(which, "pre")) sc->pre_hook = arg;
    else if (!strcmp(which, "deploy")) sc->deploy_hook = arg;
    else sc->post_hook = arg;
    return NULL;
}

const command_rec acme_cmds[] = {
    AP_INIT_RAW_ARGS("ACMEDomain", cmd_domain, NULL, RSRC_CONF,
        "Names of a certificate to obtain (none in a <VirtualHost>: its "
        "ServerName and ServerAlias)"),
    AP_INIT_TAKE1("ACMECertificateAuthority", cmd_ca, NULL, RSRC_CONF,
        "The ACME CA's directory URL, or letsencrypt, letsencrypt-staging"),
    AP_INIT_TAKE1("ACMECACertificateFile", cmd_ca_file, NULL, RSRC_CONF,
        "PEM bundle to verify the ACME CA's TLS certificate"),
    AP_INIT_ITERATE("ACMEContact", cmd_contact, NULL, RSRC_CONF,
        "Email address(es) for the ACME account"),
    AP_INIT_TAKE1("ACMEAgreeToS", cmd_agree, NULL, RSRC_CONF,
        "on, off, or the URL of the CA's terms of service you agree to"),
    AP_INIT_TAKE12("ACMEExternalAccountBinding", cmd_eab, NULL, RSRC_CONF,
        "KID HMAC (base64url) for CAs that require EAB, or off"),
    AP_INIT_TAKE1("ACMEStoreDir", cmd_store, NULL, RSRC_CONF,
        "Directory of the certificate store (default "
        ACME_DEFAULT_STORE ")"),
    AP_INIT_TAKE1("ACMEKeyType", cmd_key_type, NULL, RSRC_CONF,
        "ec256, ec384, rsa2048, rsa3072 or rsa4096"),
    AP_INIT_TAKE_ARGV("ACMEChallenges", cmd_challenges, NULL, RSRC_CONF,
        "Allowed challenge types in order of preference: http-01, "
        "tls-alpn-01, dns-01, tls-sni-01"),
    AP_INIT_TAKE1("ACMERenewWindow", cmd_renew_window, NULL, RSRC_CONF,
        "Renew when this much of the lifetime is left: N% or a duration"),
    AP_INIT_TAKE1("ACMECheckInterval", cmd_check_interval, NULL, RSRC_CONF,
        "How often the supervisor checks the certificates (default 12h)"),
    AP_INIT_TAKE1("ACMERestart", cmd_restart, NULL, RSRC_CONF,
        "graceful (default) or off: restart httpd after a renewal"),
    AP_INIT_TAKE1("ACMEUser", cmd_user, NULL, RSRC_CONF,
        "The unprivileged user of the worker (default: httpd's User)"),
    AP_INIT_TAKE1("ACMEMaxWorkers", cmd_max_workers, NULL, RSRC_CONF,
        "Orders in flight at once, 1..64 (default 4)"),
    AP_INIT_TAKE12("ACMEPortMap", cmd_port_map, NULL, RSRC_CONF,
        "80:N [443:M]: the local ports the CA's 80 and 443 arrive on"),
    AP_INIT_TAKE1("ACMEWorkerBinary", cmd_worker, NULL, RSRC_CONF,
        "Path of the acmectl binary run as the worker (default "
        ACME_DEFAULT_WORKER ")"),
    AP_INIT_TAKE1("ACMEDNSHook", cmd_dns_hook, NULL, RSRC_CONF,
        "Command that sets up / removes dns-01 TXT records, run as root: "
        "CMD setup|cleanup NAME VALUE, with Certbot's CERTBOT_* environment"),
    AP_INIT_TAKE1("ACMEDNSResolver", cmd_dns_resolver, NULL, RSRC_CONF,
        "IPv4[:port] of the DNS server asked whether a dns-01 record is "
        "visible (default: the system's resolvers)"),
    AP_INIT_TAKE1("ACMEDNSPropagationTimeout", cmd_dns_timeout, NULL,
        RSRC_CONF, "How long to wait for a dns-01 record to become visible "
        "(default 120s)"),
    AP_INIT_TAKE1("ACMEProfile", cmd_profile, NULL, RSRC_CONF,
        "Certificate profile to ask the CA for (from its directory's "
        "meta.profiles, e.g. tlsserver, shortlived)"),
    AP_INIT_TAKE1("ACMEPreferredChain", cmd_preferred_chain, NULL, RSRC_CONF,
        "Prefer the alternate chain whose topmost certificate this CN "
        "issued"),
    AP_INIT_FLAG("ACMEMustStaple", cmd_flag, "staple", RSRC_CONF,
        "on: ask for OCSP must-staple (Let's Encrypt no longer issues it)"),
    AP_INIT_FLAG("ACMEAllowSubsetOfNames", cmd_flag, "subset", RSRC_CONF,
        "on: drop names whose validation fails and issue for the rest"),
    AP_INIT_TAKE1("ACMEPreHook", cmd_lifecycle_hook, "pre", RSRC_CONF,
        "Command run once before a pass that attempts a renewal"),
    AP_INIT_TAKE1("ACMEDeployHook", cmd_lifecycle_hook, "deploy", RSRC_CONF,
        "Command run once per renewed certificate (RENEWED_LINEAGE, "
        "RENEWED_DOMAINS)"),
    AP_INIT_TAKE1("ACMEPostHook", cmd_lifecycle_hook, "post", RSRC_CONF,
        "Command run once after a pass that attempted a renewal "
        "(RENEWED_DOMAINS, FAILED_DOMAINS)"),
    AP_INIT_TAKE1("ACMEHookTimeout", cmd_hook_timeout, NULL, RSRC_CONF,
        "A hook still running after this is killed (default 120s)"),
    { NULL }
};
