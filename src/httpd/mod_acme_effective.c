/* mod_acme: the effective configuration: the directives with their
 * defaults applied, and the supervisor's configuration built from the
 * resolved ACMEDomains. */
#include "httpd.h"
#include "http_config.h"
#include "unixd.h"
#include "apr_strings.h"

#include "mod_acme.h"

#include "acme_client.h"

#define DEFAULT_CHECK_INTERVAL apr_time_from_sec(12 * 3600)

/* The effective global record (the main server's). */
static acme_srv_conf_t *main_conf(server_rec *base)
{
    return acme_srv_conf(base);
}

/* Effective ACMEStoreDir. */
const char *acme_conf_store_dir(server_rec *base)
{
    acme_srv_conf_t *sc = main_conf(base);

    return sc->store_dir ? sc->store_dir : ACME_DEFAULT_STORE;
}

/* Effective ACMERestart (1 graceful). */
int acme_conf_restart(server_rec *base)
{
    acme_srv_conf_t *sc = main_conf(base);

    return sc->restart == ACME_UNSET ? 1 : sc->restart;
}

/* Effective ACMEChallenges of a server (http-01 when unset). */
apr_array_header_t *acme_conf_challenges(apr_pool_t *p, acme_srv_conf_t *sc)
{
    apr_array_header_t *a;

    if (sc->challenges) {
        return sc->challenges;
    }
    a = apr_array_make(p, 1, sizeof(const char *));
    APR_ARRAY_PUSH(a, const char *) = "http-01";
    return a;
}


/* Builds the supervisor's configuration from the resolved directives. */
acme_sup_conf_t *acme_build_sup_conf(apr_pool_t *p, server_rec *base)
{
    acme_srv_conf_t *mc = main_conf(base);
    acme_sup_conf_t *conf = acme_sup_conf_make(p);
    server_rec *s;
    int i;

    conf->store_dir = acme_conf_store_dir(base);
    conf->ca_url = mc->ca_url ? mc->ca_url : acme_client_ca_url("letsencrypt");
    conf->ca_file = mc->ca_file;
    if (mc->contacts) {
        conf->contacts = mc->contacts;
    }
    else if (base->server_admin && ap_strchr_c(base->server_admin, '@')) {
        const char *a = base->server_admin;
        if (!strncasecmp(a, "mailto:", 7)) {
            a += 7;
        }
        APR_ARRAY_PUSH(conf->contacts, const char *) = a;
    }
    conf->agree_tos = mc->agree_tos == ACME_UNSET ? 0 : mc->agree_tos;
    conf->eab_kid = mc->eab_kid;
    conf->eab_hmac = mc->eab_hmac;
    conf->worker_path = mc->worker_path ? mc->worker_path
                                        : ACME_DEFAULT_WORKER;
    if (mc->user) {
        conf->user = mc->user;
        conf->uid = mc->uid;
        conf->gid = mc->gid;
    }
    else {
        conf->user = ap_unixd_config.user_name;
        conf->uid = ap_unixd_config.user_id;
        conf->gid = ap_unixd_config.group_id;
    }
    if (mc->max_workers != ACME_UNSET) {
        conf->max_workers = mc->max_workers;
    }
    conf->check_interval = mc->check_interval ? mc->check_interval
                                              : DEFAULT_CHECK_INTERVAL;
    conf->pre_hook = mc->pre_hook;
    conf->deploy_hook = mc->deploy_hook;
    conf->post_hook = mc->post_hook;
    conf->hook_timeout = mc->hook_timeout;
    for (s = base; s; s = s->next) {
        acme_srv_conf_t *sc = acme_srv_conf(s);
        for (i = 0; i < sc->domains->nelts; i++) {
            acme_domain_t *d = APR_ARRAY_IDX(sc->domains, i, acme_domain_t *);
            acme_md_t *md = apr_pcalloc(p, sizeof(*md));

            md->name = d->name;
            md->names = d->names;
            md->key_type = sc->key_type == ACME_UNSET
                ? ACME_KEY_EC256 : (acme_key_type_e)sc->key_type;
            md->challenges = acme_conf_challenges(p, sc);
            md->renew_pct = sc->renew_pct == ACME_UNSET ? 0 : sc->renew_pct;
            md->renew_abs = sc->renew_pct == ACME_UNSET ? 0 : sc->renew_abs;
            md->source = apr_psprintf(p, "%s:%d", d->file, d->line);
            md->dns_hook = sc->dns_hook;
            md->profile = sc->profile;
            md->preferred_chain = sc->preferred_chain;
            md->must_staple = sc->must_staple == 1;
            md->allow_subset = sc->allow_subset == 1;
            md->dns_resolver = sc->dns_resolver;
            md->dns_timeout = sc->dns_timeout;
            md->hook_timeout = mc->hook_timeout;
            d->md = md;
            APR_ARRAY_PUSH(conf->mds, acme_md_t *) = md;
        }
    }
    return conf;
}
