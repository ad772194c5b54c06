/* mod_acme: obtaining a certificate into a lineage, root side: the
 * renewal conf, the key and CSR, the subset retry, the duplicate guard,
 * the lineage written, the state, the hooks (acme_obtain.h). */
#include <string.h>

#include "acme_obtain.h"
#include "acme_cert.h"
#include "acme_csr.h"
#include "acme_http.h"
#include "acme_util.h"

#define DAY apr_time_from_sec(86400)

static int set_param(void *params, const char *key, const char *value)
{
    apr_table_set(params, key, value);
    return 1;
}

/* The renewal conf the lineage is written with: the old one's parameters
 * (all, or those of opts->conf_keep), under the front end's. */
static acme_renewal_conf_t *merge_conf(const acme_order_opts_t *opts,
                                       const acme_lineage_t *l, apr_pool_t *p)
{
    acme_renewal_conf_t *conf = acme_renewal_conf_make(p);
    const char *const *k;

    if (l && l->conf && !opts->conf_keep) {
        /* what an earlier conf said that is not set here (Certbot's
         * renew_before_expiry, http01_address, ...) stays */
        conf->top = apr_table_copy(p, l->conf->top);
        conf->params = apr_table_copy(p, l->conf->params);
        apr_table_unset(conf->params, "webroot_path");
    }
    for (k = opts->conf_keep; l && l->conf && k && *k; k++) {
        const char *v = apr_table_get(l->conf->params, *k);
        if (v && *v) {
            apr_table_set(conf->params, *k, v);
        }
    }
    if (opts->conf_params) {
        apr_table_do(set_param, conf->params, opts->conf_params, NULL);
    }
    if (opts->webroot_map) {
        conf->webroot_map = apr_table_copy(p, opts->webroot_map);
    }
    return conf;
}

/* Writes the state, saying so when it cannot. */
static void state_save(acme_obtain_t *ob)
{
    acme_err_t err;

    if (acme_state_save(ob->batch->store, ob->state, ob->opts->sync_state,
                        ob->p, &err) != APR_SUCCESS) {
        acme_log(ACME_LOG_WARN, "%s: cannot write its state: %s",
                 ob->opts->lineage, err.msg);
    }
}

apr_status_t acme_obtain_begin(acme_obtain_t **pob, acme_batch_t *b,
                               const acme_order_opts_t *opts,
                               acme_lineage_t *lineage, int loaded,
                               acme_state_t *state, apr_pool_t *p,
                               acme_err_t *err)
{
    acme_obtain_t *ob = apr_pcalloc(p, sizeof(*ob));
    apr_status_t rv = APR_SUCCESS;

    ob->batch = b;
    ob->opts = opts;
    ob->p = p;
    ob->began = apr_time_now();
    ob->names = apr_array_copy(p, opts->names);
    ob->dropped = apr_array_make(p, 1, sizeof(const char *));
    if (!loaded && acme_store_lineage_load(&lineage, b->store, opts->lineage,
                                           p, NULL) != APR_SUCCESS) {
        lineage = NULL;
    }
    ob->lineage = lineage;
    ob->conf = merge_conf(opts, lineage, p);
    if (!state) {
        acme_state_load(&state, b->store, opts->lineage, p, NULL);
    }
    ob->state = state;
    *pob = ob;
    if (opts->dry_run || opts->no_dup_guard) {
        goto cleanup;
    }
    if (!b->guard) {
        b->guard = acme_dup_guard_open(b->store, b->p);
    }
    rv = acme_dup_guard_test(b->guard, opts->names, ob->began, p, err);
    if (rv != APR_SUCCESS && opts->record_failures) {
        /* never burn the CA's duplicate-certificate allowance: wait until
         * the oldest of the five leaves the week */
        state->status = "error";
        state->last_error = err->msg;
        state->next_try = ob->began + DAY;
        state_save(ob);
    }
cleanup:
    return rv;
}

/* The lineage's key when reuse_key asks for it and it is of the type. */
static acme_key_t *reused_key(acme_obtain_t *ob)
{
    const acme_lineage_t *l = ob->lineage;
    acme_key_type_e type;
    acme_key_t *key;

    if (!ob->opts->reuse_key || !l
        || acme_key_load(&key, ob->p, l->privkey_path, NULL) != APR_SUCCESS
        || acme_key_get_type(&type, key) != APR_SUCCESS) {
        return NULL;
    }
    if (type == ob->opts->key_type) {
        acme_batch_say(ob->batch, apr_psprintf(ob->p, "Reusing the private "
                                               "key of %s", l->name));
        return key;
    }
    acme_batch_say(ob->batch, apr_psprintf(ob->p, "The key of %s is %s, not "
                                           "%s: making a new one", l->name,
                                           acme_key_type_name(type),
                                           acme_key_type_name(
                                               ob->opts->key_type)));
    return NULL;
}

apr_status_t acme_obtain_attempt(acme_obtain_t *ob, acme_err_t *err)
{
    const acme_order_opts_t *opts = ob->opts;
    const unsigned char *csr;
    apr_size_t csr_len;
    apr_status_t rv = APR_SUCCESS;

    if (!ob->attempts++) {
        acme_batch_start(ob->batch);
        acme_batch_lineage_hooks(ob->batch, opts->lineage, ob->conf);
    }
    acme_batch_say(ob->batch, apr_psprintf(ob->p, "Requesting a certificate "
                                           "for %s", acme_array_join(ob->p,
                                           ob->names, " and ")));
    if (!ob->key && !(ob->key = reused_key(ob))) {
        rv = acme_key_generate(&ob->key, ob->p, opts->key_type, err);
        if (rv != APR_SUCCESS) {
            goto cleanup;
        }
    }
    rv = acme_csr_make(&csr, &csr_len, ob->p, ob->key, ob->names,
                       opts->must_staple, err);
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    memset(&ob->req, 0, sizeof(ob->req));
    ob->req.names = ob->names;
    ob->req.csr_der = csr;
    ob->req.csr_len = csr_len;
    ob->req.profile = opts->profile;
    ob->req.preferred_chain = opts->preferred_chain;
    ob->req.replaces = opts->replaces;
cleanup:
    return rv;
}

acme_obtain_next_e acme_obtain_next(acme_obtain_t *ob,
                                    const acme_attempt_res_t *res)
{
    apr_array_header_t *rest;
    int i;

    acme_batch_keep_account(ob->batch, ob->opts->ca_url, res);
    if (res->replaces_refused) {
        acme_batch_say(ob->batch, apr_psprintf(ob->p, "The CA says %s was "
                                               "already replaced (%s); "
                                               "ordered again without "
                                               "\"replaces\"",
                                               ob->opts->lineage,
                                               res->replaces_refused));
    }
    if (res->ok || !ob->opts->allow_subset || !res->failed_name
        || ob->names->nelts < 2
        || !acme_array_contains(ob->names, res->failed_name)) {
        return ACME_OBTAIN_DONE;
    }
    acme_batch_say(ob->batch, apr_psprintf(ob->p, "Dropping %s from %s: %s",
                                           res->failed_name,
                                           ob->opts->lineage, res->error));
    APR_ARRAY_PUSH(ob->dropped, const char *) = res->failed_name;
    rest = apr_array_make(ob->p, ob->names->nelts, sizeof(const char *));
    for (i = 0; i < ob->names->nelts; i++) {
        const char *n = APR_ARRAY_IDX(ob->names, i, const char *);
        if (strcasecmp(n, res->failed_name)) {
            APR_ARRAY_PUSH(rest, const char *) = n;
        }
    }
    ob->names = rest;
    return ACME_OBTAIN_AGAIN;
}

/* Checks the chain and writes it as the lineage's next version. */
static apr_status_t store_chain(acme_obtain_t *ob, const char *chain_pem,
                                acme_err_t *err)
{
    apr_pool_t *p = ob->p;
    apr_array_header_t *certs;
    const char *key_pem;
    apr_size_t key_len;
    apr_status_t rv;

    rv = acme_chain_parse(&certs, p, chain_pem, strlen(chain_pem), err);
    if (rv == APR_SUCCESS) {
        rv = acme_chain_validate(certs, ob->key, ob->names, apr_time_now(), p,
                                 err);
    }
    if (rv != APR_SUCCESS) {
        acme_err_wrap(err, p, "the CA's certificate was rejected");
        goto cleanup;
    }
    ob->not_after = acme_cert_not_after(APR_ARRAY_IDX(certs, 0,
                                                      acme_cert_t *));
    if (ob->opts->dry_run) {
        goto cleanup;
    }
    rv = acme_key_to_pem(&key_pem, &key_len, p, ob->key);
    if (rv != APR_SUCCESS) {
        rv = acme_err_set(err, p, rv, "cannot serialise the private key");
        goto cleanup;
    }
    if (ob->batch->account_id) {
        apr_table_set(ob->conf->params, "account", ob->batch->account_id);
    }
    rv = acme_store_lineage_save(ob->batch->store, ob->opts->lineage,
                                 acme_chain_to_pem(p, certs, 0, 1),
                                 acme_chain_to_pem(p, certs, 1, certs->nelts),
                                 key_pem, ob->conf, &ob->version, p, err);
    if (rv != APR_SUCCESS) {
        acme_err_wrap(err, p, "storing the certificate failed, the previous "
                      "one stays");
    }
cleanup:
    return rv;
}

/* Records an attempt's outcome in the state (err: the failure, or NULL). */
static void record(acme_obtain_t *ob, const acme_attempt_res_t *res,
                   const acme_err_t *err)
{
    acme_state_t *st = ob->state;
    apr_interval_time_t wait;

    st->last_attempt = ob->began;
    st->attempts++;
    st->names = ob->opts->names;
    st->due_reason = acme_due_name(ob->opts->due);
    st->ca = ob->opts->ca_url;
    if (!err) {
        st->status = "valid";
        st->failures = 0;
        st->last_success = apr_time_now();
        st->next_try = 0;
        st->last_error = st->last_problem = NULL;
        st->retry_after = 0;
        st->dropped_names = ob->dropped->nelts
            ? acme_array_join(ob->p, ob->dropped, " ") : NULL;
        st->challenge = res->challenge_types;
        st->cert_version = ob->version;
        st->replaces = res->replaces_refused ? NULL : ob->opts->replaces;
        st->renewals++;
        return;
    }
    st->failures++;
    wait = acme_sup_backoff(st->failures);
    if (err->retry_after > wait) {
        /* honoured, but never more than a week */
        wait = err->retry_after > apr_time_from_sec(ACME_HTTP_RETRY_AFTER_MAX)
            ? apr_time_from_sec(ACME_HTTP_RETRY_AFTER_MAX) : err->retry_after;
    }
    st->status = "error";
    /* the backoff counts from the end of the attempt (a slow CA) */
    st->next_try = apr_time_now() + wait;
    st->last_error = err->msg;
    st->last_problem = err->problem_type;
    st->retry_after = err->retry_after;
}

/* After a stored certificate: the deploy hooks. */
static void deploy(acme_obtain_t *ob)
{
    apr_table_t *env = apr_table_make(ob->p, 2);
    const char *msg = NULL;

    apr_table_set(env, "RENEWED_LINEAGE", acme_store_path(ob->batch->store,
                  ob->p, "live", ob->opts->lineage, NULL));
    apr_table_set(env, "RENEWED_DOMAINS", acme_array_join(ob->p,
                  ob->opts->names, " "));
    acme_batch_deploy(ob->batch, ob->conf, env, &msg);
    if (msg) {
        ob->state->last_hook_error = msg;
    }
}

apr_status_t acme_obtain_finish(acme_obtain_t *ob,
                                const acme_attempt_res_t *res,
                                acme_err_t *err)
{
    acme_batch_t *b = ob->batch;
    apr_status_t rv;

    if (!res->ok) {
        acme_attempt_err(err, res, ob->p);
        rv = err->rv;
    }
    else {
        ob->chain_issuer = res->chain_issuer ? res->chain_issuer : "";
        rv = store_chain(ob, res->chain_pem, err);
    }
    APR_ARRAY_PUSH(rv == APR_SUCCESS ? b->renewed : b->failed,
                   const char *) = acme_array_join(b->p, rv == APR_SUCCESS
                                                   ? ob->names
                                                   : ob->opts->names, " ");
    if (ob->opts->dry_run) {
        goto cleanup;
    }
    if (rv == APR_SUCCESS) {
        if (!b->guard) {
            b->guard = acme_dup_guard_open(b->store, b->p);
        }
        acme_dup_guard_note(b->guard, ob->names, apr_time_now(), b->p);
        record(ob, res, NULL);
        deploy(ob);
        state_save(ob);
    }
    else if (ob->opts->record_failures) {
        record(ob, res, err);
        state_save(ob);
    }
cleanup:
    return rv;
}
