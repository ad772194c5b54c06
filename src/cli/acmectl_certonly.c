/* acmectl certonly: obtain a certificate into the store. */
#include <stdio.h>
#include <string.h>

#include "acmectl_cmds.h"
#include "acmectl_connect.h"
#include "acmectl_obtain.h"
#include "acmectl_solvers.h"
#include "acme_cert.h"
#include "acme_csr.h"
#include "acme_names.h"
#include "acme_ratelimit.h"
#include "acme_supervisor.h"
#include "acme_util.h"

static acme_renewal_conf_t *renewal_conf(acmectl_t *ctl, const char *account,
                                         acme_store_t *store,
                                         const char *lineage)
{
    apr_pool_t *p = ctl->pool;
    acme_renewal_conf_t *conf = acme_renewal_conf_make(p);
    acme_lineage_t *old;
    int i;

    /* keep what an earlier conf said that we do not set (Certbot's
     * renew_before_expiry, http01_address, ...) */
    if (acme_store_lineage_load(&old, store, lineage, p, NULL) == APR_SUCCESS
        && old->conf) {
        conf->top = apr_table_copy(p, old->conf->top);
        conf->params = apr_table_copy(p, old->conf->params);
        apr_table_unset(conf->params, "webroot_path");
    }

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
    if (ctl->reuse_key) {
        apr_table_set(conf->params, "reuse_key", "True");
    }
    if (ctl->must_staple) {
        apr_table_set(conf->params, "must_staple", "True");
    }
    if (ctl->preferred_chain) {
        apr_table_set(conf->params, "preferred_chain", ctl->preferred_chain);
    }
    if (ctl->profile) {
        apr_table_set(conf->params, "preferred_profile", ctl->profile);
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
    if (!name && !ctl->duplicate) {
        /* Certbot's --expand: a lineage whose names are all requested (and
         * more are) grows to the new set */
        apr_array_header_t *all;
        int i, j;
        acme_store_lineage_list(&all, store, ctl->pool);
        for (i = 0; i < all->nelts && !name; i++) {
            const char *n = APR_ARRAY_IDX(all, i, const char *);
            acme_lineage_t *l;
            int subset = 1;
            if (acme_store_lineage_load(&l, store, n, ctl->pool, NULL)
                != APR_SUCCESS || l->names->nelts >= names->nelts) {
                continue;
            }
            for (j = 0; j < l->names->nelts && subset; j++) {
                subset = acme_array_contains(names, APR_ARRAY_IDX(l->names, j,
                                                              const char *));
            }
            if (subset) {
                name = n;
                acmectl_say(ctl, "Expanding %s (%s) to %s\n", n,
                            acme_array_join(ctl->pool, l->names, ", "),
                            acme_array_join(ctl->pool, names, ", "));
            }
        }
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

/* Without --reuse-key a new key; with it, the lineage's key when there is
 * one of the requested type. */
static apr_status_t lineage_key(acme_key_t **pkey, acmectl_t *ctl,
                                acme_store_t *store, const char *lineage,
                                acme_err_t *err)
{
    acme_lineage_t *l;
    acme_key_type_e type;

    if (ctl->reuse_key
        && acme_store_lineage_load(&l, store, lineage, ctl->pool, NULL)
           == APR_SUCCESS
        && acme_key_load(pkey, ctl->pool, l->privkey_path, NULL)
           == APR_SUCCESS
        && acme_key_get_type(&type, *pkey) == APR_SUCCESS) {
        if (type == ctl->key_type) {
            acmectl_say(ctl, "Reusing the private key of %s\n", lineage);
            return APR_SUCCESS;
        }
        acmectl_say(ctl, "The key of %s is %s, not %s: making a new one\n",
                    lineage, acme_key_type_name(type),
                    acme_key_type_name(ctl->key_type));
    }
    return acme_key_generate(pkey, ctl->pool, ctl->key_type, err);
}

apr_status_t acmectl_obtain(int *pversion, acmectl_t *ctl,
                            acme_client_t *client, acme_store_t *store,
                            const char *account,
                            const apr_array_header_t *req_names,
                            const char *lineage, int save, acme_err_t *err)
{
    apr_pool_t *p = ctl->pool;
    apr_array_header_t *certs, *names, *dropped;
    acme_solver_t *solver;
    acme_key_t *key;
    acme_issue_req_t req;
    acme_issue_result_t *res;
    const char *key_pem;
    const unsigned char *csr;
    apr_size_t csr_len, key_len;
    apr_status_t rv;
    int i, reregistered = 0;

    names = apr_array_copy(p, req_names);
    dropped = apr_array_make(p, 1, sizeof(const char *));
    rv = acmectl_solver_make(&solver, ctl, err);
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    if (ctl->profile && !json_object_get(client->profiles, ctl->profile)) {
        const char *offered = "";
        const char *k;
        json_t *v;
        json_object_foreach(client->profiles, k, v) {
            offered = apr_pstrcat(p, offered, *offered ? ", " : "", k, NULL);
        }
        rv = acme_err_set(err, p, ACME_EINVAL, "the CA offers no profile "
                          "'%s' (%s)", ctl->profile, *offered
                          ? apr_pstrcat(p, "offered: ", offered, NULL)
                          : "it announces no profiles");
        goto cleanup;
    }
    if (!ctl->ignore_dup_limit && !ctl->dry_run) {
        rv = acme_dup_guard_check(store, names, apr_time_now(), p, err);
        if (rv != APR_SUCCESS) {
            goto cleanup;
        }
    }
    if (ctl->must_staple) {
        acmectl_say(ctl, "Note: Let's Encrypt no longer issues certificates "
                    "with OCSP must-staple (it ended OCSP in 2025); other CAs "
                    "may still.\n");
    }
    rv = lineage_key(&key, ctl, store, lineage, err);
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    for (;;) {
        acmectl_say(ctl, "Requesting a certificate for %s\n",
                    acme_array_join(p, names, " and "));
        rv = acme_csr_make(&csr, &csr_len, p, key, names, ctl->must_staple,
                           err);
        if (rv != APR_SUCCESS) {
            goto cleanup;
        }
        memset(&req, 0, sizeof(req));
        req.names = names;
        req.csr_der = csr;
        req.csr_len = csr_len;
        req.solver = solver;
        req.replaces = ctl->replaces;
        req.profile = ctl->profile;
        req.preferred_chain = ctl->preferred_chain;
        rv = acme_issue(&res, client, p, &req, err);
        if (rv == APR_SUCCESS) {
            break;
        }
        if (!reregistered && acmectl_account_gone(err)) {
            /* the CA was reset or forgot the account: register again and
             * go on with the order */
            reregistered = 1;
            rv = acmectl_account_reregister(ctl, client, store, account, err);
            if (rv != APR_SUCCESS) {
                goto cleanup;
            }
            continue;
        }
        /* --allow-subset-of-names: drop the name that failed, go on with
         * the rest in a new order */
        if (!ctl->allow_subset || rv != ACME_ECHALLENGE || !req.failed_name
            || names->nelts < 2 || !acme_array_contains(names,
                                                         req.failed_name)) {
            goto cleanup;
        }
        acmectl_say(ctl, "Dropping %s: %s\n", req.failed_name, err->msg);
        APR_ARRAY_PUSH(dropped, const char *) = req.failed_name;
        {
            apr_array_header_t *rest = apr_array_make(p, names->nelts,
                                                      sizeof(const char *));
            for (i = 0; i < names->nelts; i++) {
                const char *n = APR_ARRAY_IDX(names, i, const char *);
                if (strcasecmp(n, req.failed_name)) {
                    APR_ARRAY_PUSH(rest, const char *) = n;
                }
            }
            names = rest;
        }
    }
    if (dropped->nelts) {
        acmectl_say(ctl, "Issued without %s (--allow-subset-of-names)\n",
                    acme_array_join(p, dropped, ", "));
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
                                 key_pem, renewal_conf(ctl, account, store,
                                                       lineage),
                                 pversion, p, err);
    if (rv == APR_SUCCESS) {
        acme_cert_t *leaf = APR_ARRAY_IDX(certs, 0, acme_cert_t *);
        const char *live = acme_store_path(store, p, "live", lineage, NULL);
        acme_dup_guard_record(store, names, apr_time_now(), p);
        acmectl_say(ctl, "Successfully received certificate.\n"
                    "Certificate is saved at: %s/fullchain.pem\n"
                    "Key is saved at:         %s/privkey.pem\n"
                    "This certificate expires on %.10s.\n"
                    "Lineage %s, version %d%s%s.\n", live, live,
                    acmectl_iso_time(p, acme_cert_not_after(leaf)), lineage,
                    *pversion, *res->chain_issuer ? ", chain issued by "
                    : "", res->chain_issuer);
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
    if (ctl->keep_until_expiring) {
        acme_lineage_t *l;
        apr_time_t when;
        acme_md_t md;
        memset(&md, 0, sizeof(md));
        md.name = lineage;
        md.names = names;
        md.key_type = ctl->key_type;
        if (acme_store_lineage_load(&l, store, lineage, p, NULL)
            == APR_SUCCESS
            && acme_sup_due(&when, store, &md, apr_time_now(), p)
               == ACME_DUE_NO) {
            acmectl_say(ctl, "Certificate not yet due for renewal (%s, "
                        "due %.10s); no action taken.\n", lineage,
                        acmectl_iso_time(p, when));
            return 0;
        }
    }
    if (acmectl_obtain(&version, ctl, client, store, account, names, lineage,
                       !ctl->dry_run, &err) != APR_SUCCESS) {
        return acmectl_fail(ctl, "%s", err.msg);
    }
    return 0;
}
