/* acmectl renew: a lineage's life after certonly, in Certbot's words and
 * with Certbot's hooks. */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include <apr_hash.h>

#include "acmectl_cmds.h"
#include "acmectl_connect.h"
#include "acmectl_obtain.h"
#include "acme_ari.h"
#include "acme_cert.h"
#include "acme_problem.h"
#include "acme_names.h"
#include "acme_order.h"
#include "acme_renewal_hooks.h"
#include "acme_state.h"
#include "acme_supervisor.h"
#include "acme_util.h"

/* The key type recorded in a renewal conf (Certbot's parameters). */
static acme_key_type_e conf_key_type(const apr_table_t *params)
{
    const char *kt = apr_table_get(params, "key_type");
    const char *curve = apr_table_get(params, "elliptic_curve");
    const char *size = apr_table_get(params, "rsa_key_size");

    if (kt && !strcmp(kt, "rsa")) {
        if (size && !strcmp(size, "4096")) return ACME_KEY_RSA4096;
        if (size && !strcmp(size, "3072")) return ACME_KEY_RSA3072;
        return ACME_KEY_RSA2048;
    }
    if (curve && !strcmp(curve, "secp384r1")) {
        return ACME_KEY_EC384;
    }
    return ACME_KEY_EC256;
}

/* Splits Certbot's "a, b," lists. */
static void split_list(apr_array_header_t *out, apr_pool_t *p, const char *v)
{
    char *copy, *tok, *last = NULL;

    if (!v) {
        return;
    }
    copy = apr_pstrdup(p, v);
    for (tok = apr_strtok(copy, ", ", &last); tok;
         tok = apr_strtok(NULL, ", ", &last)) {
        APR_ARRAY_PUSH(out, const char *) = tok;
    }
}

static int add_map(void *baton, const char *key, const char *value)
{
    acmectl_t *ctl = baton;

    apr_table_set(ctl->webroot_map, key, value);
    return 1;
}

/* A copy of the command line's settings for one lineage, completed from
 * its renewal conf (the command line wins where it says something). */
static apr_status_t lineage_ctl(acmectl_t **pout, acmectl_t *ctl,
                                const acme_lineage_t *l, acme_err_t *err)
{
    apr_pool_t *p = ctl->pool;
    acmectl_t *c = apr_pmemdup(p, ctl, sizeof(*ctl));
    const apr_table_t *params = l->conf->params;
    const char *v;

    c->names = apr_array_copy(p, l->names);
    c->webroots = apr_array_make(p, 1, sizeof(const char *));
    c->webroot_map = apr_table_make(p, 4);
    c->pref_challs = apr_array_make(p, 2, sizeof(const char *));
    c->cert_name = l->name;
    if (!ctl->server_set && (v = apr_table_get(params, "server"))) {
        c->server = v;
    }
    if (c->dry_run) {
        /* a dry run never touches the production CA */
        if (!strcmp(c->server, ACME_LE_PRODUCTION)) {
            c->server = ACME_LE_STAGING;
        }
    }
    if (!ctl->ca_bundle && (v = apr_table_get(params, "ca_bundle"))) {
        c->ca_bundle = v;
    }
    if (!ctl->key_type_set) {
        c->key_type = conf_key_type(params);
    }
    if (!ctl->authenticator) {
        c->authenticator = apr_table_get(params, "authenticator");
    }
    if (!c->authenticator || !strcmp(c->authenticator, "mod_acme")) {
        return acme_err_set(err, p, ACME_EINVAL, "%s is renewed by the "
                            "Apache module (authenticator %s), not by "
                            "acmectl renew", l->name,
                            c->authenticator ? c->authenticator : "unknown");
    }
    if ((v = apr_table_get(params, "http01_port"))) {
        c->http01_port = atoi(v);
    }
    if (!ctl->manual_auth_hook) {
        c->manual_auth_hook = apr_table_get(params, "manual_auth_hook");
    }
    if (!ctl->manual_cleanup_hook) {
        c->manual_cleanup_hook = apr_table_get(params, "manual_cleanup_hook");
    }
    if (!ctl->preferred_chain) {
        c->preferred_chain = apr_table_get(params, "preferred_chain");
    }
    if (!ctl->profile) {
        c->profile = apr_table_get(params, "preferred_profile");
    }
    if ((v = apr_table_get(params, "reuse_key")) && !strcasecmp(v, "True")) {
        c->reuse_key = 1;
    }
    if ((v = apr_table_get(params, "must_staple")) && !strcasecmp(v, "True")) {
        c->must_staple = 1;
    }
    split_list(c->pref_challs, p, apr_table_get(params, "pref_challs"));
    split_list(c->webroots, p, apr_table_get(params, "webroot_path"));
    apr_table_do(add_map, c, l->conf->webroot_map, NULL);
    *pout = c;
    return APR_SUCCESS;
}

/* When the lineage is due, as the renewal conf or the defaults say. */
static acme_due_e lineage_due(apr_time_t *pwhen, acme_store_t *store,
                              const acme_lineage_t *l, acme_key_type_e kt,
                              apr_pool_t *p)
{
    acme_md_t md;

    memset(&md, 0, sizeof(md));
    md.name = l->name;
    md.names = l->names;
    md.key_type = kt;
    md.renew_abs = acme_due_renew_before(l->conf, apr_time_now());
    return acme_sup_due(pwhen, store, &md, apr_time_now(), p);
}

/* ARI (RFC 9773) as one lineage's renewal decision sees it. */
typedef struct lineage_ari_t {
    const char *cert_id;       /* CertID of live/cert.pem, NULL without AKI */
    int known;                 /* a suggested window is known */
    int fresh;                 /* ...and it was fetched in this run */
    apr_time_t start, end;     /* the CA's suggested window */
    apr_time_t chosen;         /* when to renew (inside the window, or the
                                  time it was chosen when the window had
                                  passed) */
    apr_time_t next_fetch;     /* when to ask the CA again */
} lineage_ari_t;

/* A directory-only client per CA for the ARI checks of one run (no
 * account: renewalInfo is fetched with unauthenticated GETs). A CA that
 * could not be reached is remembered too, with the reason in *pwhy. */
typedef struct ari_ca_t {
    acme_client_t *client;     /* NULL when the directory was unusable */
    const char *why;
} ari_ca_t;

static acme_client_t *ari_client(apr_hash_t *clients, const acmectl_t *c,
                                 const char **pwhy, apr_pool_t *p)
{
    const char *key = apr_pstrcat(p, c->server, "\n",
                                  c->ca_bundle ? c->ca_bundle : "", NULL);
    ari_ca_t *ca = apr_hash_get(clients, key, APR_HASH_KEY_STRING);
    acme_err_t err;

    if (!ca) {
        acme_err_clear(&err);
        ca = apr_pcalloc(p, sizeof(*ca));
        if (acme_client_create(&ca->client, p, c->server, c->ca_bundle, &err)
            != APR_SUCCESS || acme_client_load_directory(ca->client, &err)
            != APR_SUCCESS) {
            ca->why = err.msg ? err.msg : "the CA's directory is unusable";
            ca->client = NULL;
        }
        apr_hash_set(clients, key, APR_HASH_KEY_STRING, ca);
    }
    *pwhy = ca->why;
    return ca->client;
}

/* The window recorded in st for a->cert_id's certificate, if any. */
static void ari_recorded(lineage_ari_t *a, const acme_state_t *st)
{
    if (!acme_state_ari_for(st, a->cert_id) || !st->ari.start
        || !st->ari.chosen) {
        return;                 /* another certificate's, or unusable */
    }
    a->start = st->ari.start;
    a->end = st->ari.end;
    a->chosen = st->ari.chosen;
    a->next_fetch = st->ari.next_fetch;
    a->known = 1;
}

/* Records a fresh window (a, with the CA's explanation) in l's state. */
static void ari_record(acmectl_t *ctl, acme_store_t *store,
                       acme_state_t *st, const acme_lineage_t *l,
                       const lineage_ari_t *a, const char *explanation,
                       const char *ca, apr_pool_t *p)
{
    memset(&st->ari, 0, sizeof(st->ari));
    st->ari.cert_id = a->cert_id;
    st->ari.serial = l->serial;
    st->ari.start = a->start;
    st->ari.end = a->end;
    st->ari.chosen = a->chosen;
    st->ari.next_fetch = a->next_fetch;
    st->ari.explanation = explanation;
    st->ari.ca = ca;
    if (acme_state_save(store, st, 1, p, NULL) != APR_SUCCESS) {
        acmectl_say(ctl, "Could not record the renewal information of %s in "
                    "the store's state/\n", l->name);
    }
}

/*
 * Finds the ARI window of a lineage: the one recorded in its state while
 * it is for the same certificate and its next_fetch has not come;
 * otherwise a fresh one from the CA, whose chosen renewal time is kept
 * when the window did not move, and which is recorded with its
 * Retry-After. When the CA cannot be asked, a recorded window for the
 * same certificate still serves. Leaves a->known 0 when ARI has nothing
 * to say (no AKI, no renewalInfo, nothing usable).
 */
static void lineage_ari(lineage_ari_t *a, acmectl_t *ctl, acmectl_t *c,
                        acme_store_t *store, const acme_lineage_t *l,
                        apr_hash_t *clients, apr_pool_t *p)
{
    acme_client_t *client;
    acme_ari_window_t w;
    acme_state_t *st;
    const char *why = NULL;
    apr_time_t now = apr_time_now(), chosen;
    acme_err_t err;

    memset(a, 0, sizeof(*a));
    acme_err_clear(&err);
    a->cert_id = l->ari_cert_id;      /* computed when the lineage loaded */
    if (!a->cert_id) {
        if (ctl->verbose) {
            acmectl_say(ctl, "No renewal information for %s: its certificate "
                        "has no Authority Key Identifier\n", l->name);
        }
        return;
    }
    acme_state_load(&st, store, l->name, p, NULL);
    ari_recorded(a, st);
    if (a->known && a->next_fetch > now) {
        return;                 /* the CA asked us not to ask before then */
    }
    client = ari_client(clients, c, &why, p);
    if (!client || !client->url_renewal_info) {
        if (client) {
            a->known = 0;       /* the CA no longer offers ARI */
        }
        else if (ctl->verbose || !a->known) {
            acmectl_say(ctl, "Could not check the renewal information of "
                        "%s: %s\n", l->name, why);
        }
        return;
    }
    if (acme_ari_fetch(&w, client, p, a->cert_id, &err) != APR_SUCCESS) {
        acmectl_say(ctl, "Could not fetch the renewal information of %s "
                    "(%s)%s\n", l->name, err.msg, a->known
                    ? "; using the window fetched before" : "");
        return;
    }
    if (a->known && w.start == a->start && w.end == a->end) {
        chosen = a->chosen;     /* same window: keep the time chosen */
    }
    else if (acme_ari_choose(&chosen, &w, now, p, &err) != APR_SUCCESS) {
        acmectl_say(ctl, "Unusable renewal information for %s: %s\n",
                    l->name, err.msg);
        return;
    }
    a->known = a->fresh = 1;
    a->start = w.start;
    a->end = w.end;
    a->chosen = chosen;
    a->next_fetch = now + w.retry_after;
    ari_record(ctl, store, st, l, a, w.explanation_url, c->server, p);
}

/* A module lineage: record the request in its state, wake the server's
 * supervisor (SIGUSR2 to STORE/.supervisor.pid) and wait for the outcome.
 * The server renews and restarts itself; acmectl never races it. */
/* Records one more request in l's state (under the store lock); *pseq
 * gets its number. */
static apr_status_t record_request(acmectl_t *ctl, acme_store_t *store,
                                   const acme_lineage_t *l,
                                   apr_int64_t *pseq)
{
    apr_pool_t *p = ctl->pool;
    apr_file_t *lock;
    const char *holder = NULL;
    acme_state_t *st;
    apr_status_t rv;

    rv = acme_store_lock_as(&lock, store, apr_psprintf(p, "pid %d (acmectl "
                            "renew)", (int)getpid()), 0, &holder, p);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    acme_state_load(&st, store, l->name, p, NULL);
    *pseq = ++st->renew_requests;
    st->renew_requested = apr_time_now();
    rv = acme_state_save(store, st, 1, p, NULL);
    apr_file_close(lock);
    return rv;
}

/* Waits up to 10 minutes for the server to answer request seq. */
static int await_server(acmectl_t *ctl, acme_store_t *store,
                        const acme_lineage_t *l, apr_int64_t seq,
                        apr_time_t asked)
{
    apr_time_t deadline = asked + apr_time_from_sec(600);
    acme_state_t *st;

    while (apr_time_now() < deadline) {
        apr_sleep(apr_time_from_msec(500));
        if (acme_state_load(&st, store, l->name, ctl->pool, NULL)
            != APR_SUCCESS || st->renew_requests_done < seq) {
            continue;
        }
        if (st->status && !strcmp(st->status, "valid")) {
            acmectl_say(ctl, "The server renewed %s (version %d); it "
                        "activates it with a graceful restart.\n", l->name,
                        st->cert_version);
            return 0;
        }
        return acmectl_fail(ctl, "the server's renewal of %s failed: %s",
                            l->name, st->last_error ? st->last_error
                            : "see its error log");
    }
    return acmectl_fail(ctl, "the server did not renew %s within 10 minutes; "
                        "see its error log", l->name);
}

/* A module lineage: record the request in its state, wake the server's
 * supervisor (SIGUSR2 to STORE/.supervisor.pid) and wait for the outcome.
 * The server renews and restarts itself; acmectl never races it. */
static int request_server_renewal(acmectl_t *ctl, acme_store_t *store,
                                  const acme_lineage_t *l)
{
    apr_pool_t *p = ctl->pool;
    apr_time_t asked = apr_time_now();
    const char *pidtext;
    char *data = NULL;
    apr_size_t len;
    apr_int64_t seq = 0;
    long pid = 0;

    if (ctl->dry_run) {
        return acmectl_fail(ctl, "%s is managed by the Apache module; "
                            "--dry-run cannot ask the server", l->name);
    }
    if (record_request(ctl, store, l, &seq) != APR_SUCCESS) {
        return acmectl_fail(ctl, "cannot record the request in %s's state "
                            "(store %s)", l->name, ctl->config_dir);
    }
    pidtext = acme_store_path(store, p, ".supervisor.pid", NULL);
    if (acme_file_read(&data, &len, p, pidtext, 64) == APR_SUCCESS) {
        pid = atol(data);
    }
    if (pid <= 1 || kill((pid_t)pid, SIGUSR2) != 0) {
        acmectl_say(ctl, "No running server answers for %s (%s); the request "
                    "is recorded and the server renews it at its next check "
                    "or start.\n", l->name, pid > 1 ? "its supervisor is "
                    "gone" : "no supervisor pid file");
        return 0;
    }
    acmectl_say(ctl, "Asked the server (supervisor pid %ld) to renew %s; "
                "waiting...\n", pid, l->name);
    return await_server(ctl, store, l, seq, asked);
}

/* One renew run: what was found due, and what not. */
typedef struct renew_run_t {
    acmectl_t *ctl;
    acme_store_t *store;
    apr_hash_t *clients;             /* ARI clients, per CA */
    apr_array_header_t *due;         /* acme_lineage_t * */
    apr_array_header_t *due_ids;     /* their ARI CertIDs (or NULL) */
    apr_array_header_t *skipped;     /* lines for the report */
} renew_run_t;

/* Whether l is due, with ARI overriding the lifetime rule; says why. */
static int renew_is_due(renew_run_t *run, const acme_lineage_t *l,
                        lineage_ari_t *ari)
{
    acmectl_t *ctl = run->ctl;
    apr_pool_t *p = ctl->pool;
    apr_time_t when;
    acme_due_e why = lineage_due(&when, run->store, l, ctl->key_type_set
                                 ? ctl->key_type
                                 : conf_key_type(l->conf->params), p);
    acmectl_t *c = NULL;
    int lifetime = why == ACME_DUE_NO || why == ACME_DUE_WINDOW;

    memset(ari, 0, sizeof(*ari));
    if (lineage_ctl(&c, ctl, l, NULL) == APR_SUCCESS) {
        if (ctl->force_renewal || ctl->dry_run) {
            /* no window needed; the CertID is for "replaces" */
            ari->cert_id = l->ari_cert_id;
        }
        else {
            lineage_ari(ari, ctl, c, run->store, l, run->clients, p);
        }
    }
    if (ctl->force_renewal || ctl->dry_run) {
        return 1;
    }
    if (!ari->known || !lifetime) {
        return why != ACME_DUE_NO;
    }
    /* ARI overrides the lifetime rule (not a changed name set, key type
     * or an expired certificate) */
    if (apr_time_now() < ari->chosen) {
        return 0;
    }
    acmectl_say(ctl, "%s is due: the CA's renewal window is %s to %s (ARI)\n",
                l->name, acme_ari_format_time(p, ari->start),
                acme_ari_format_time(p, ari->end));
    return 1;
}

/* Sorts one lineage: due, skipped, or the module's. Returns -1 to go on,
 * else the exit status of the command (a module lineage named with
 * --cert-name: the server was asked). */
static int renew_sort(renew_run_t *run, const char *name)
{
    acmectl_t *ctl = run->ctl;
    apr_pool_t *p = ctl->pool;
    const char *auth;
    acme_lineage_t *l = NULL;
    lineage_ari_t ari;
    acme_err_t err;

    if (acme_store_lineage_load(&l, run->store, name, p, &err)
        != APR_SUCCESS || !l->conf) {
        acmectl_say(ctl, "Skipping %s: %s\n", name, l && !l->conf
                    ? "no renewal configuration" : err.msg);
        return -1;
    }
    auth = apr_table_get(l->conf->params, "authenticator");
    if (!auth || !strcmp(auth, "mod_acme")) {
        /* the module's own lineages: its supervisor renews them; named
         * on the command line, the running server is asked to */
        if (ctl->cert_name) {
            return request_server_renewal(ctl, run->store, l);
        }
        acmectl_say(ctl, "%s is renewed by the Apache module (use "
                    "--cert-name %s to ask the server to renew it now)\n",
                    name, name);
        return -1;
    }
    if (renew_is_due(run, l, &ari)) {
        APR_ARRAY_PUSH(run->due, acme_lineage_t *) = l;
        APR_ARRAY_PUSH(run->due_ids, const char *) = ari.cert_id;
    }
    else if (ari.known) {
        APR_ARRAY_PUSH(run->skipped, const char *) = apr_psprintf(p,
            "%s (expires %.10s; renewal suggested by the CA from %s, "
            "planned for %s)", l->fullchain_path,
            acmectl_iso_time(p, l->not_after),
            acme_ari_format_time(p, ari.start),
            acme_ari_format_time(p, ari.chosen));
    }
    else {
        APR_ARRAY_PUSH(run->skipped, const char *) = apr_psprintf(p,
            "%s (expires %.10s)", l->fullchain_path,
            acmectl_iso_time(p, l->not_after));
    }
    return -1;
}

/* Renews one due lineage (the i-th) in the batch. */
static void renew_one(renew_run_t *run, acme_batch_t *b, int i)
{
    acmectl_t *ctl = run->ctl;
    acme_lineage_t *l = APR_ARRAY_IDX(run->due, i, acme_lineage_t *);
    acme_client_t *client;
    acme_store_t *st;
    acme_obtain_t *ob = NULL;
    const char *account;
    acmectl_t *c = NULL;
    acme_err_t err;

    acme_err_clear(&err);
    acmectl_say(ctl, "Renewing %s\n", l->name);
    if (lineage_ctl(&c, ctl, l, &err) == APR_SUCCESS
        && acmectl_connect(&client, &st, &account, c, &err) == APR_SUCCESS) {
        /* RFC 9773 §5: tell the CA which certificate this replaces (not
         * in a dry run: that goes to another CA, or is a test) */
        c->replaces = client->url_renewal_info && !ctl->dry_run
            ? APR_ARRAY_IDX(run->due_ids, i, const char *) : NULL;
        if (acmectl_obtain(&ob, c, b, client, account, l->names, l->name,
                           &err) == APR_SUCCESS) {
            return;
        }
    }
    if (!ob) {
        /* it failed before its issuance finished: the batch does not
         * know it */
        APR_ARRAY_PUSH(b->failed, const char *) =
            acme_array_join(ctl->pool, l->names, " ");
    }
    acmectl_say(ctl, "Failed to renew %s: %s\n", l->name, err.msg);
    fprintf(stderr, "acmectl: renewing %s failed: %s\n", l->name, err.msg);
}

/* The run's summary; returns the exit status. */
static int renew_report(renew_run_t *run, acme_batch_t *b)
{
    acmectl_t *ctl = run->ctl;
    apr_pool_t *p = ctl->pool;

    if (run->skipped->nelts) {
        acmectl_say(ctl, "The following certificates are not due for renewal "
                    "yet:\n  %s (skipped)\n",
                    acme_array_join(p, run->skipped, " (skipped)\n  "));
    }
    if (b->renewed->nelts) {
        acmectl_say(ctl, "%s:\n  %s\n", ctl->dry_run
                    ? "The dry run succeeded for" : "Renewed",
                    acme_array_join(p, b->renewed, "\n  "));
    }
    if (!run->due->nelts && !run->skipped->nelts) {
        acmectl_say(ctl, "No certificates to renew.\n");
    }
    if (b->failed->nelts) {
        acmectl_say(ctl, "%d renewal(s) failed:\n  %s\n", b->failed->nelts,
                    acme_array_join(p, b->failed, "\n  "));
        return 1;
    }
    return 0;                       /* failed hooks were reported; they
                                       undo nothing */
}

int acmectl_cmd_renew(acmectl_t *ctl)
{
    apr_pool_t *p = ctl->pool;
    apr_array_header_t *names;
    acme_batch_t *b;
    renew_run_t run;
    acme_err_t err;
    int i, rc;

    memset(&run, 0, sizeof(run));
    run.ctl = ctl;
    if (acme_store_open(&run.store, p, ctl->config_dir, 0, &err)
        != APR_SUCCESS) {
        return acmectl_fail(ctl, "no store at %s", ctl->config_dir);
    }
    run.clients = apr_hash_make(p);
    run.due = apr_array_make(p, 4, sizeof(acme_lineage_t *));
    run.due_ids = apr_array_make(p, 4, sizeof(const char *));
    run.skipped = apr_array_make(p, 4, sizeof(const char *));
    acme_store_lineage_list(&names, run.store, p);
    for (i = 0; i < names->nelts; i++) {
        const char *name = APR_ARRAY_IDX(names, i, const char *);
        if (ctl->cert_name && strcmp(ctl->cert_name, name)) {
            continue;
        }
        if ((rc = renew_sort(&run, name)) >= 0) {
            return rc;
        }
    }
    if (ctl->cert_name && !run.due->nelts && !run.skipped->nelts) {
        return acmectl_fail(ctl, "no certificate named '%s' that acmectl "
                            "renews", ctl->cert_name);
    }
    b = acmectl_batch(ctl, run.store, 1);
    if (run.due->nelts) {
        /* the pre hooks run once, before the first renewal */
        acme_batch_start(b);
    }
    for (i = 0; i < run.due->nelts; i++) {
        renew_one(&run, b, i);
    }
    acme_batch_end(b);
    return renew_report(&run, b);
}
