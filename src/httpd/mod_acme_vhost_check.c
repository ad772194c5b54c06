/* mod_acme: the check_config hook: every ACMEDomain resolved and checked
 * against the vhosts (names, duplicates, SSLCertificateFile, what the
 * challenge types need, Listen, the worker binary and user), then which
 * certificate each server presents. */
#include <unistd.h>

#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "ap_listen.h"
#include "unixd.h"
#include "apr_hash.h"
#include "apr_strings.h"

#include "mod_acme.h"
#include "mod_acme_name_index.h"

APLOG_USE_MODULE(acme);
#include "acme_names.h"
#include "acme_util.h"

/* The challenge types that need a Listen on the port the CA connects to. */
static const struct {
    const char *type;
    int ca_port;
} listen_needs[] = {
    { "http-01", 80 },
    { "tls-alpn-01", 443 },
};
#define N_LISTEN_NEEDS (sizeof(listen_needs) / sizeof(listen_needs[0]))

/* Returns the first directive named `name` under node (recursively into
 * <IfModule>, <IfDefine> and the like), or NULL. */
static ap_directive_t *find_child(ap_directive_t *node, const char *name)
{
    ap_directive_t *c;

    for (c = node ? node->first_child : NULL; c; c = c->next) {
        ap_directive_t *found;
        if (!strcasecmp(c->directive, name)) {
            return c;
        }
        if (c->first_child && (found = find_child(c, name))) {
            return found;
        }
    }
    return NULL;
}

/* The names as written on the directive, shortened when there are many. */
static const char *domain_label(apr_pool_t *p, acme_domain_t *d)
{
    apr_array_header_t *first;
    int i;

    if (d->given->nelts == 0) {
        return "(ServerName and ServerAlias)";
    }
    if (d->given->nelts <= 5) {
        return acme_array_join(p, d->given, " ");
    }
    first = apr_array_make(p, 3, sizeof(const char *));
    for (i = 0; i < 3; i++) {
        APR_ARRAY_PUSH(first, const char *) =
            APR_ARRAY_IDX(d->given, i, const char *);
    }
    return apr_psprintf(p, "%s ... (%d names)", acme_array_join(p, first, " "),
                        d->given->nelts);
}

/* Logs one configuration problem of an ACMEDomain at EMERG. */
static void domain_error(server_rec *base, acme_domain_t *d, const char *fmt,
                         ...) __attribute__((format(printf, 3, 4)));
static void domain_error(server_rec *base, acme_domain_t *d, const char *fmt,
                         ...)
{
    char buf[2048];
    va_list ap;

    va_start(ap, fmt);
    apr_vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    ap_log_error(APLOG_MARK, APLOG_EMERG, 0, base, "%s:%d: ACMEDomain %s: %s",
                 d->file, d->line, domain_label(base->process->pconf, d),
                 buf);
}

/* Returns non-zero if server s's Protocols allow "acme-tls/1". */
static int allows_acme_tls(server_rec *s)
{
    core_server_config *core = ap_get_core_module_config(s->module_config);

    return core && core->protocols
        && acme_array_contains(core->protocols, "acme-tls/1");
}

/* Checks what the TLS and DNS challenge types need; returns 0 on a fatal
 * problem (no allowed type can work), logging it with file:line. */
static int check_challenge_needs(acme_domain_t *d, server_rec *s,
                                 server_rec *base, apr_pool_t *p)
{
    acme_srv_conf_t *sc = acme_srv_conf(s);
    apr_array_header_t *chall = acme_conf_challenges(p, sc);
    int usable = chall->nelts;

    if (acme_array_contains(chall, "tls-alpn-01") && !allows_acme_tls(s)) {
        usable--;
        ap_log_error(APLOG_MARK, usable ? APLOG_WARNING : APLOG_EMERG, 0, base,
                     "%s:%d: ACMEDomain %s: tls-alpn-01 is allowed but this "
                     "server's Protocols do not include acme-tls/1, so the "
                     "CA's validation handshake cannot be answered; add "
                     "\"Protocols h2 http/1.1 acme-tls/1\"%s", d->file,
                     d->line, d->name, usable ? " (other challenge types "
                     "will be used meanwhile)" : "");
    }
    if (acme_array_contains(chall, "dns-01") && !sc->dns_hook) {
        usable--;
        ap_log_error(APLOG_MARK, usable ? APLOG_WARNING : APLOG_EMERG, 0, base,
                     "%s:%d: ACMEDomain %s: dns-01 is allowed but no "
                     "ACMEDNSHook is set, so dns-01 cannot be answered",
                     d->file, d->line, d->name);
    }
    return usable > 0;
}

/* Resolves the names of one ACMEDomain; returns 0 on a fatal problem. */
static int resolve_domain(acme_domain_t *d, server_rec *s, server_rec *base,
                          apr_pool_t *p)
{
    acme_srv_conf_t *sc = acme_srv_conf(s);
    apr_array_header_t *raw, *chall;
    acme_err_t err;
    const char *n;
    int i;

    d->s = s;
    if (d->given->nelts) {
        raw = d->given;
    }
    else if (!s->is_virtual) {
        domain_error(base, d, "in the main server ACMEDomain needs the names "
                     "of the certificate");
        return 0;
    }
    else {
        if (!s->server_hostname || s->server_hostname == base->server_hostname
            || !find_child(d->vhost_node, "ServerName")) {
            domain_error(base, d, "the <VirtualHost> has no ServerName: add "
                         "ServerName (and ServerAlias) or list the names "
                         "after ACMEDomain");
            return 0;
        }
        raw = apr_array_make(p, 4, sizeof(const char *));
        APR_ARRAY_PUSH(raw, const char *) = s->server_hostname;
        for (i = 0; s->names && i < s->names->nelts; i++) {
            APR_ARRAY_PUSH(raw, const char *) =
                APR_ARRAY_IDX(s->names, i, const char *);
        }
    }
    acme_err_clear(&err);
    if (acme_names_check(&d->names, p, raw, &err) != APR_SUCCESS) {
        domain_error(base, d, "%s", err.msg ? err.msg : "invalid names");
        return 0;
    }
    if (d->names->nelts == 0) {
        domain_error(base, d, "no names");
        return 0;
    }
    n = APR_ARRAY_IDX(d->names, 0, const char *);
    d->name = acme_name_is_wildcard(n) ? n + 2 : n;

    chall = acme_conf_challenges(p, sc);
    for (i = 0; i < d->names->nelts; i++) {
        n = APR_ARRAY_IDX(d->names, i, const char *);
        if (acme_name_is_wildcard(n)
            && !acme_array_contains(chall, "dns-01")) {
            domain_error(base, d, "the wildcard name %s can only be validated "
                         "with dns-01, but ACMEChallenges allows only %s; add "
                         "dns-01 to ACMEChallenges (with a dns-01 hook) or "
                         "remove the wildcard", n,
                         acme_array_join(p, chall, " "));
            return 0;
        }
        if (acme_name_is_wildcard(n) && !sc->dns_hook) {
            domain_error(base, d, "the wildcard name %s needs dns-01, and "
                         "dns-01 needs ACMEDNSHook (the command that sets the "
                         "TXT record at your DNS provider)", n);
            return 0;
        }
    }
    if (d->vhost_node) {
        ap_directive_t *cf = find_child(d->vhost_node, "SSLCertificateFile");
        if (cf) {
            domain_error(base, d, "the same <VirtualHost> also has "
                         "SSLCertificateFile (%s:%d); remove it: ACMEDomain "
                         "provides the certificate", cf->filename,
                         cf->line_num);
            return 0;
        }
    }
    d->md = NULL;
    return 1;
}

/* Every name some server answers for (ServerName, ServerAlias, wildcard
 * aliases). */
static acme_name_index_t *served_index(server_rec *base, apr_pool_t *p)
{
    acme_name_index_t *x = acme_name_index_make(p);
    server_rec *t;
    int i;

    for (t = base; t; t = t->next) {
        acme_name_index_add(x, p, t->server_hostname, t);
        for (i = 0; t->names && i < t->names->nelts; i++) {
            acme_name_index_add(x, p, APR_ARRAY_IDX(t->names, i, const char *), t);
        }
        for (i = 0; t->wild_names && i < t->wild_names->nelts; i++) {
            acme_name_index_add_pattern(x, APR_ARRAY_IDX(t->wild_names, i,
                                                         const char *), t);
        }
    }
    return x;
}

/* Every ACMEDomain name -> its domain. */
static acme_name_index_t *domain_index(apr_array_header_t *all, apr_pool_t *p)
{
    acme_name_index_t *x = acme_name_index_make(p);
    int i, k;

    for (i = 0; i < all->nelts; i++) {
        acme_domain_t *d = APR_ARRAY_IDX(all, i, acme_domain_t *);
        for (k = 0; d->names && k < d->names->nelts; k++) {
            acme_name_index_add(x, p, APR_ARRAY_IDX(d->names, k, const char *), d);
        }
    }
    return x;
}

/* Warns when type (http-01, tls-alpn-01) is allowed and nothing listens on
 * the port the CA's port ca_port arrives at. */
static void check_listen(server_rec *base, const char *type, int ca_port,
                         int port, apr_pool_t *p)
{
    ap_listen_rec *lr;

    for (lr = ap_listeners; lr; lr = lr->next) {
        if (lr->bind_addr && lr->bind_addr->port == port) {
            return;
        }
    }
    ap_log_error(APLOG_MARK, APLOG_WARNING, 0, base,
                 "mod_acme: %s is allowed but no Listen is on port %d, "
                 "where the CA's validation connections to port %d arrive%s; "
                 "add \"Listen %d\" or allow another challenge type", type,
                 port, ca_port, port == ca_port ? "" : " (ACMEPortMap)",
                 port);
}

/* Resolves and checks every ACMEDomain, main server first, into all;
 * need[j]: some domain allows listen_needs[j].type. Returns 0 when one is
 * fatally wrong. */
static int collect_domains(apr_array_header_t *all, int *need,
                           server_rec *base, apr_pool_t *pconf,
                           apr_pool_t *ptemp)
{
    int ok = 1, i;
    apr_size_t j;
    server_rec *s;

    for (s = base; s; s = s->next) {
        acme_srv_conf_t *sc = acme_srv_conf(s);
        sc->serving = NULL;
        for (i = 0; i < sc->domains->nelts; i++) {
            acme_domain_t *d = APR_ARRAY_IDX(sc->domains, i, acme_domain_t *);
            if (!resolve_domain(d, s, base, pconf)
                || !check_challenge_needs(d, s, base, ptemp)) {
                ok = 0;
                continue;
            }
            APR_ARRAY_PUSH(all, acme_domain_t *) = d;
            for (j = 0; j < N_LISTEN_NEEDS; j++) {
                if (acme_array_contains(acme_conf_challenges(ptemp, sc),
                                        listen_needs[j].type)) {
                    need[j] = 1;
                }
            }
        }
    }
    return ok;
}

/* Checks that no name is in two ACMEDomains and that a vhost serves each
 * name of an ACMEDomain in a <VirtualHost>. Returns 0 on a problem. */
static int check_names(apr_array_header_t *all, server_rec *base,
                       apr_pool_t *ptemp)
{
    apr_hash_t *seen = apr_hash_make(ptemp);
    acme_name_index_t *served = served_index(base, ptemp);
    int ok = 1, i, k;

    for (i = 0; i < all->nelts; i++) {
        acme_domain_t *d = APR_ARRAY_IDX(all, i, acme_domain_t *);
        for (k = 0; k < d->names->nelts; k++) {
            const char *n = APR_ARRAY_IDX(d->names, k, const char *);
            acme_domain_t *other = apr_hash_get(seen, n, APR_HASH_KEY_STRING);
            if (other && other != d) {
                domain_error(base, d, "the name %s is also in the ACMEDomain "
                             "at %s:%d; a name may be in one ACMEDomain only",
                             n, other->file, other->line);
                ok = 0;
            }
            else {
                apr_hash_set(seen, n, APR_HASH_KEY_STRING, d);
            }
            if (d->vhost_node && !acme_name_index_find(served, ptemp, n)) {
                domain_error(base, d, "no <VirtualHost> serves %s: add it to "
                             "a ServerName or ServerAlias, or remove it from "
                             "ACMEDomain", n);
                ok = 0;
            }
        }
    }
    return ok;
}

/* Checks the worker (its binary, not root) and warns about missing
 * Listens. Returns 0 on a fatal problem. */
static int check_worker_and_listen(server_rec *base, const int *need,
                                   apr_pool_t *ptemp)
{
    acme_srv_conf_t *mc = acme_srv_conf(base);
    const char *worker = mc->worker_path ? mc->worker_path
                                         : ACME_DEFAULT_WORKER;
    apr_finfo_t fi;
    apr_size_t j;
    int ok = 1;

    if (apr_stat(&fi, worker, APR_FINFO_TYPE, ptemp) != APR_SUCCESS
        || fi.filetype != APR_REG || access(worker, X_OK) != 0) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, base,
                     "%sACMEWorkerBinary %s%s is not an executable file; "
                     "install acmectl there or set ACMEWorkerBinary to "
                     "its path", mc->worker_where ? mc->worker_where
                     : "mod_acme: ", worker,
                     mc->worker_path ? "" : " (the default)");
        ok = 0;
    }
    if (!mc->user && (ap_unixd_config.user_id == 0
                      || ap_unixd_config.user_id == (uid_t)-1)) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, base,
                     "mod_acme: the worker would run as root; set User "
                     "or ACMEUser to an unprivileged user");
        ok = 0;
    }
    for (j = 0; j < N_LISTEN_NEEDS; j++) {
        int mapped = listen_needs[j].ca_port == 80 ? mc->port_http
                                                   : mc->port_https;
        if (need[j]) {
            check_listen(base, listen_needs[j].type, listen_needs[j].ca_port,
                         mapped ? mapped : listen_needs[j].ca_port, ptemp);
        }
    }
    return ok;
}

/* Which certificate each server presents: its own ACMEDomain, else one
 * whose names cover its ServerName. */
static void assign_serving(apr_array_header_t *all, server_rec *base,
                           apr_pool_t *ptemp)
{
    acme_name_index_t *by_name = domain_index(all, ptemp);
    server_rec *s;

    for (s = base; s; s = s->next) {
        acme_srv_conf_t *sc = acme_srv_conf(s);
        if (s->is_virtual && sc->domains->nelts) {
            sc->serving = APR_ARRAY_IDX(sc->domains, 0, acme_domain_t *);
        }
        else {
            sc->serving = acme_name_index_find(by_name, ptemp,
                                               s->server_hostname);
        }
    }
}

/* check_config hook. */
int acme_check_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                      server_rec *base)
{
    apr_array_header_t *all = apr_array_make(pconf, 8,
                                             sizeof(acme_domain_t *));
    int need[N_LISTEN_NEEDS] = { 0 };
    int ok;

    ok = collect_domains(all, need, base, pconf, ptemp);
    ok = check_names(all, base, ptemp) && ok;
    if (all->nelts) {
        ok = check_worker_and_listen(base, need, ptemp) && ok;
    }
    if (!ok) {
        return !OK;
    }
    assign_serving(all, base, ptemp);
    return OK;
}
