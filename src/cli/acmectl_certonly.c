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

/* The renewal conf parameters acmectl sets, as Certbot writes them; what an
 * earlier conf of the lineage says beside them stays (acme_obtain). */
static apr_table_t *conf_params(acmectl_t *ctl, const char *account)
{
    apr_pool_t *p = ctl->pool;
    apr_table_t *t = apr_table_make(p, 16);

    apr_table_set(t, "account", account);
    apr_table_set(t, "authenticator", ctl->authenticator);
    apr_table_set(t, "server", ctl->server);
    acme_sup_key_params(t, ctl->key_type);
    if (ctl->ca_bundle) {
        apr_table_set(t, "ca_bundle", ctl->ca_bundle);
    }
    if (ctl->pref_challs->nelts) {
        apr_table_set(t, "pref_challs", apr_pstrcat(p,
                      acme_array_join(p, ctl->pref_challs, ","), ",", NULL));
    }
    if (!strcmp(ctl->authenticator, "standalone") && ctl->http01_port != 80) {
        apr_table_set(t, "http01_port", apr_itoa(p, ctl->http01_port));
    }
    if (!strcmp(ctl->authenticator, "webroot")) {
        apr_table_set(t, "webroot_path", apr_pstrcat(p,
                      acme_array_join(p, ctl->webroots, ","), ",", NULL));
    }
    if (ctl->manual_auth_hook) {
        apr_table_set(t, "manual_auth_hook", ctl->manual_auth_hook);
    }
    if (ctl->manual_cleanup_hook) {
        apr_table_set(t, "manual_cleanup_hook", ctl->manual_cleanup_hook);
    }
    if (ctl->reuse_key) {
        apr_table_set(t, "reuse_key", "True");
    }
    if (ctl->must_staple) {
        apr_table_set(t, "must_staple", "True");
    }
    if (ctl->preferred_chain) {
        apr_table_set(t, "preferred_chain", ctl->preferred_chain);
    }
    if (ctl->profile) {
        apr_table_set(t, "preferred_profile", ctl->profile);
    }
    /* Certbot keeps the hooks of the command line for later renewals */
    if (ctl->pre_hook) {
        apr_table_set(t, "pre_hook", ctl->pre_hook);
    }
    if (ctl->post_hook) {
        apr_table_set(t, "post_hook", ctl->post_hook);
    }
    if (ctl->deploy_hook) {
        apr_table_set(t, "renew_hook", ctl->deploy_hook);
    }
    return t;
}

/* The [[webroot_map]] of the names (webroot only), or NULL. */
static apr_table_t *webroot_map(acmectl_t *ctl,
                                const apr_array_header_t *names)
{
    apr_table_t *map;
    int i;

    if (strcmp(ctl->authenticator, "webroot")) {
        return NULL;
    }
    map = apr_table_make(ctl->pool, 4);
    for (i = 0; i < names->nelts; i++) {
        const char *n = APR_ARRAY_IDX(names, i, const char *);
        const char *dir = apr_table_get(ctl->webroot_map, n);
        if (dir) {
            apr_table_set(map, n, dir);
        }
    }
    return map;
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

static void say_line(void *baton, const char *msg)
{
    acmectl_say(baton, "%s\n", msg);
}

acme_batch_t *acmectl_batch(acmectl_t *ctl, acme_store_t *store, int renew)
{
    acme_batch_hooks_t hooks;
    acme_batch_t *b;

    memset(&hooks, 0, sizeof(hooks));
    hooks.pre = ctl->pre_hook;
    hooks.post = ctl->post_hook;
    hooks.deploy = ctl->deploy_hook;
    hooks.replace = 1;
    /* as Certbot: the store's hook directories and the lineage's own hooks
     * belong to renew */
    hooks.no_dirs = !renew || ctl->no_directory_hooks;
    hooks.lineage_hooks = renew;
    hooks.timeout = ctl->hook_timeout;
    b = acme_batch_make(store, &hooks, ctl->pool);
    b->note = say_line;
    b->note_baton = ctl;
    return b;
}

/* The order's options from the command line (and, for renew, what
 * lineage_ctl took from the renewal conf). */
static acme_order_opts_t *order_opts(acmectl_t *ctl, const char *account,
                                     const apr_array_header_t *names,
                                     const char *lineage)
{
    acme_order_opts_t *o = apr_pcalloc(ctl->pool, sizeof(*o));

    o->lineage = lineage;
    o->names = apr_array_copy(ctl->pool, names);
    o->challenges = ctl->pref_challs;
    o->profile = ctl->profile;
    o->preferred_chain = ctl->preferred_chain;
    o->replaces = ctl->replaces;
    o->key_type = ctl->key_type;
    o->reuse_key = ctl->reuse_key;
    o->must_staple = ctl->must_staple;
    o->allow_subset = ctl->allow_subset;
    o->due = ACME_DUE_REQUESTED;
    o->dry_run = ctl->dry_run;
    o->no_dup_guard = ctl->ignore_dup_limit;
    o->sync_state = 1;
    o->ca_url = ctl->server;
    o->account_id = account;
    o->conf_params = conf_params(ctl, account);
    o->webroot_map = webroot_map(ctl, names);
    return o;
}

/* Says what came of a successful issuance. */
static void say_obtained(acmectl_t *ctl, acme_obtain_t *ob)
{
    apr_pool_t *p = ctl->pool;
    const char *live = acme_store_path(ob->batch->store, p, "live",
                                       ob->opts->lineage, NULL);

    if (ob->dropped->nelts) {
        acmectl_say(ctl, "Issued without %s (--allow-subset-of-names)\n",
                    acme_array_join(p, ob->dropped, ", "));
    }
    if (ob->opts->dry_run) {
        acmectl_say(ctl, "The dry run obtained a certificate for %s; nothing "
                    "was saved.\n", acme_array_join(p, ob->names, ", "));
        return;
    }
    acmectl_say(ctl, "Successfully received certificate.\n"
                "Certificate is saved at: %s/fullchain.pem\n"
                "Key is saved at:         %s/privkey.pem\n"
                "This certificate expires on %.10s.\n"
                "Lineage %s, version %d%s%s.\n", live, live,
                acmectl_iso_time(p, ob->not_after), ob->opts->lineage,
                ob->version, *ob->chain_issuer ? ", chain issued by " : "",
                ob->chain_issuer);
}

apr_status_t acmectl_obtain(acme_obtain_t **pob, acmectl_t *ctl,
                            acme_batch_t *b, acme_client_t *client,
                            const char *account,
                            const apr_array_header_t *names,
                            const char *lineage, acme_err_t *err)
{
    apr_pool_t *p = ctl->pool;
    acme_account_req_t areq;
    acme_attempt_res_t res;
    acme_solver_t *solver;
    acme_obtain_t *ob = NULL;
    apr_status_t rv;

    *pob = NULL;
    rv = acmectl_solver_make(&solver, ctl, err);
    if (rv == APR_SUCCESS) {
        rv = acme_obtain_begin(&ob, b, order_opts(ctl, account, names,
                                                  lineage), NULL, 0, NULL, p,
                               err);
    }
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    if (ctl->must_staple) {
        acmectl_say(ctl, "Note: Let's Encrypt no longer issues certificates "
                    "with OCSP must-staple (it ended OCSP in 2025); other CAs "
                    "may still.\n");
    }
    acmectl_account_req(&areq, ctl, b->store, account);
    acme_batch_account(b, client->account_key, client->account_url, account);
    do {
        rv = acme_obtain_attempt(ob, err);
        if (rv != APR_SUCCESS) {
            goto cleanup;
        }
        /* Certbot tries the one challenge type it picked: no fallback */
        acme_attempt_run(&res, client, &ob->req, solver, &areq, 0, p);
    } while (acme_obtain_next(ob, &res) == ACME_OBTAIN_AGAIN);
    rv = acme_obtain_finish(ob, &res, err);
    *pob = ob;
    if (rv == APR_SUCCESS) {
        say_obtained(ctl, ob);
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
    acme_batch_t *batch;
    acme_obtain_t *ob;
    apr_status_t rv;
    int i;

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
    batch = acmectl_batch(ctl, store, 0);
    rv = acmectl_obtain(&ob, ctl, batch, client, account, names, lineage,
                        &err);
    acme_batch_end(batch);
    return rv == APR_SUCCESS ? 0 : acmectl_fail(ctl, "%s", err.msg);
}
