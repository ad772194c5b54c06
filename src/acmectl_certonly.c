/* acmectl certonly: obtain a certificate into the store. */
#include <stdio.h>
#include <string.h>

#include "acmectl.h"
#include "acme_cert.h"
#include "acme_csr.h"
#include "acme_names.h"
#include "acme_supervisor.h"
#include "acme_util.h"

static acme_renewal_conf_t *renewal_conf(acmectl_t *ctl, const char *account)
{
    apr_pool_t *p = ctl->pool;
    acme_renewal_conf_t *conf = acme_renewal_conf_make(p);
    int i;

    apr_table_set(conf->params, "account", account);
    apr_table_set(conf->params, "authenticator", ctl->authenticator);
    apr_table_set(conf->params, "server", ctl->server);
    acme_sup_key_params(conf->params, ctl->key_type);
    if (ctl->ca_bundle) {
        apr_table_set(conf->params, "ca_bundle", ctl->ca_bundle);
    }
    if (ctl->pref_challs->nelts) {
        apr_table_set(conf->params, "pref_challs", apr_pstrcat(p,
                      acme_array_join(p, ctl->pref_challs, ","), ",", NULL));
    }
    if (!strcmp(ctl->authenticator, "standalone") && ctl->http01_port != 80) {
        apr_table_set(conf->params, "http01_port",
                      apr_itoa(p, ctl->http01_port));
    }
    if (!strcmp(ctl->authenticator, "webroot")) {
        apr_table_set(conf->params, "webroot_path", apr_pstrcat(p,
                      acme_array_join(p, ctl->webroots, ","), ",", NULL));
        for (i = 0; i < ctl->names->nelts; i++) {
            const char *n = APR_ARRAY_IDX(ctl->names, i, const char *);
            const char *dir = apr_table_get(ctl->webroot_map, n);
            if (dir) {
                apr_table_set(conf->webroot_map, n, dir);
            }
        }
    }
    if (ctl->manual_auth_hook) {
        apr_table_set(conf->params, "manual_auth_hook", ctl->manual_auth_hook);
    }
    if (ctl->manual_cleanup_hook) {
        apr_table_set(conf->params, "manual_cleanup_hook",
                      ctl->manual_cleanup_hook);
    }
    return conf;
}

/* Which lineage the certificate goes to, as Certbot decides it. */
static const char *pick_lineage(acmectl_t *ctl, acme_store_t *store,
                                const apr_array_header_t *names)
{
    const char *name = NULL;

    if (ctl->cert_name) {
        return ctl->cert_name;
    }
    if (!ctl->duplicate) {
        acme_store_lineage_find(&name, store, names, ctl->pool);
    }
    if (!name) {
        const char *first = APR_ARRAY_IDX(names, 0, const char *);
        if (acme_name_is_wildcard(first)) {
            first += 2;            /* Certbot names "*.x" lineages "x" */
        }
        name = acme_store_lineage_free_name(store, first, ctl->pool);
    }
    return name;
}

apr_status_t acmectl_obtain(int *pversion, acmectl_t *ctl,
                            acme_client_t *client, acme_store_t *store,
                            const char *account,
                            const apr_array_header_t *names,
                            const char *lineage, int save, acme_err_t *err)
{
    apr_pool_t *p = ctl->pool;
    apr_array_header_t *certs;
    acme_solver_t *solver;
    acme_key_t *key;
    acme_issue_req_t req;
    acme_issue_result_t *res;
    const char *key_pem;
    const unsigned char *csr;
    apr_size_t csr_len, key_len;
    apr_status_t rv;

    rv = acmectl_solver_make(&solver, ctl, err);
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    acmectl_say(ctl, "Requesting a certificate for %s\n",
                acme_array_join(p, names, " and "));
    rv = acme_key_generate(&key, p, ctl->key_type, err);
    if (rv == APR_SUCCESS) {
        rv = acme_csr_make(&csr, &csr_len, p, key, names, 0, err);
    }
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    memset(&req, 0, sizeof(req));
    req.names = names;
    req.csr_der = csr;
    req.csr_len = csr_len;
    req.solver = solver;
    req.replaces = ctl->replaces;
    rv = acme_issue(&res, client, p, &req, err);
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    /* Check what came back before it goes anywhere near live/. */
    rv = acme_chain_parse(&certs, p, res->chain_pem, strlen(res->chain_pem),
                          err);
    if (rv == APR_SUCCESS) {
        rv = acme_chain_validate(certs, key, names, apr_time_now(), p, err);
    }
    if (rv != APR_SUCCESS) {
        acme_err_wrap(err, p, "the CA's certificate was rejected");
        goto cleanup;
    }
    if (!save) {
        acmectl_say(ctl, "The dry run obtained a certificate for %s; nothing "
                    "was saved.\n", acme_array_join(p, names, ", "));
        *pversion = 0;
        goto cleanup;
    }
    rv = acme_key_to_pem(&key_pem, &key_len, p, key);
    if (rv != APR_SUCCESS) {
        rv = acme_err_set(err, p, rv, "cannot serialise the private key");
        goto cleanup;
    }
    rv = acme_store_lineage_save(store, lineage,
                                 acme_chain_to_pem(p, certs, 0, 1),
                                 acme_chain_to_pem(p, certs, 1, certs->nelts),
                                 key_pem, renewal_conf(ctl, account),
                                 pversion, p, err);
    if (rv == APR_SUCCESS) {
        acme_cert_t *leaf = APR_ARRAY_IDX(certs, 0, acme_cert_t *);
        const char *live = acme_store_path(store, p, "live", lineage, NULL);
        acmectl_say(ctl, "Successfully received certificate.\n"
                    "Certificate is saved at: %s/fullchain.pem\n"
                    "Key is saved at:         %s/privkey.pem\n"
                    "This certificate expires on %.10s.\n"
                    "Lineage %s, version %d.\n", live, live,
                    acmectl_iso_time(p, acme_cert_not_after(leaf)), lineage,
                    *pversion);
    }
cleanup:
    return rv;
}

int acmectl_cmd_certonly(acmectl_t *ctl)
{
    apr_pool_t *p = ctl->pool;
    acme_err_t err;
    apr_array_header_t *names;
    acme_client_t *client;
    acme_store_t *store;
    acme_solver_t *solver;
    const char *account, *lineage;
    int i, version;

    acme_err_clear(&err);
    if (!ctl->names->nelts) {
        return acmectl_fail(ctl, "certonly needs at least one -d NAME");
    }
    if (acme_names_check(&names, p, ctl->names, &err) != APR_SUCCESS) {
        return acmectl_fail(ctl, "%s", err.msg);
    }
    if (ctl->cert_name && (strchr(ctl->cert_name, '/')
                           || ctl->cert_name[0] == '.' || !*ctl->cert_name)) {
        return acmectl_fail(ctl, "--cert-name '%s' is not a usable lineage "
                            "name", ctl->cert_name);
    }
    if (acmectl_solver_make(&solver, ctl, &err) != APR_SUCCESS) {
        return acmectl_fail(ctl, "%s", err.msg);
    }
    for (i = 0; i < names->nelts; i++) {
        const char *n = APR_ARRAY_IDX(names, i, const char *);
        if (acme_name_is_wildcard(n)
            && !acme_array_contains(solver->types, "dns-01")) {
            return acmectl_fail(ctl, "%s: a wildcard name can only be "
                                "validated with dns-01: use --manual "
                                "--preferred-challenges dns-01 with a "
                                "--manual-auth-hook", n);
        }
    }
    if (acmectl_connect(&client, &store, &account, ctl, &err)
        != APR_SUCCESS) {
        return acmectl_fail(ctl, "%s", err.msg);
    }
    lineage = pick_lineage(ctl, store, names);
    if (acmectl_obtain(&version, ctl, client, store, account, names, lineage,
                       !ctl->dry_run, &err) != APR_SUCCESS) {
        return acmectl_fail(ctl, "%s", err.msg);
    }
    return 0;
}
