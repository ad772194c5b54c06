/* mod_acme: the renewal supervisor (root side). */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <apr_file_info.h>
#include <apr_hash.h>

#include "acme_supervisor.h"
#include "acme_sup_int.h"
#include "acme_cert.h"
#include "acme_csr.h"
#include "acme_http.h"
#include "acme_ratelimit.h"
#include "acme_state.h"
#include "acme_renewal_hooks.h"
#include "acme_util.h"
#include "acme_worker.h"
#include "acme_workpool.h"


acme_sup_conf_t *acme_sup_conf_make(apr_pool_t *p)
{
    acme_sup_conf_t *conf = apr_pcalloc(p, sizeof(*conf));

    conf->contacts = apr_array_make(p, 1, sizeof(const char *));
    conf->mds = apr_array_make(p, 4, sizeof(acme_md_t *));
    conf->max_workers = 4;
    conf->check_interval = apr_time_from_sec(12 * 3600);
    conf->worker_timeout = apr_time_from_sec(600);
    conf->uid = getuid();
    conf->gid = getgid();
    conf->index = apr_pcalloc(p, sizeof(*conf->index));
    conf->index->pool = p;
    return conf;
}




/* --- jobs (orders run by the workers of acme_workpool.c) --- */

typedef struct job_t {
    acme_task_t task;                /* first: the pool's view of the job */
    acme_md_t *md;
    const apr_array_header_t *names;  /* md->names, or a subset of them */
    acme_due_e due;
    apr_pool_t *p;
    acme_key_t *key;
    const char *key_pem;
    acme_worker_req_t req;           /* formatted when the worker starts */
    acme_state_t *state;
    apr_table_t *hook_output;        /* dns hook stdout by domain+value */
    const char *pre_hook;            /* the lineage's own hooks (Certbot's */
    const char *post_hook;           /* renewal conf: pre_hook, post_hook, */
    const char *renew_hook;          /* renew_hook), kept and run */
} job_t;

/* A job of type `type` ("order", "ari", "account") asking the pass's CA:
 * the request's CA and account members are filled, the rest is the
 * caller's. The worker's answer ends up in job->task (result or
 * failure). */
static job_t *job_new(apr_pool_t *p, const char *type,
                      const acme_sup_conf_t *conf,
                      const char *account_key_pem, const char *account_url)
{
    job_t *job = apr_pcalloc(p, sizeof(*job));

    job->task.p = job->p = p;
    job->req.type = strcmp(type, "order") ? type : NULL;
    job->req.directory = conf->ca_url;
    job->req.ca_file = conf->ca_file;
    job->req.account_key_pem = account_key_pem;
    job->req.account_url = account_url;
    job->req.contacts = conf->contacts;
    job->req.agree_tos = conf->agree_tos;
    job->req.eab_kid = conf->eab_kid;
    job->req.eab_hmac = conf->eab_hmac;
    return job;
}

/* The pool asks: a message from the worker during a job. */
static const char *job_ask(acme_task_t *task, json_t *msg, void *baton)
{
    const char *type = json_string_value(json_object_get(msg, "type"));
    job_t *job = (job_t *)task;

    if (!type || strcmp(type, "dns")) {
        return NULL;
    }
    if (!job->md) {              /* no hook belongs to this request */
        return "{\"ok\":false,\"error\":\"no dns-01 hook for this "
               "request\"}";
    }
    return acme_sup_dns_answer(job->md, job->hook_output, msg, job->p);
}

/* Runs one job alone (on the pass's workers) and waits for it. */
static void run_one(acme_workpool_t *wp, job_t *job)
{
    apr_array_header_t *one = apr_array_make(job->p, 1,
                                              sizeof(acme_task_t *));

    APR_ARRAY_PUSH(one, acme_task_t *) = &job->task;
    acme_workpool_run(wp, one, 0);
}

/* A pool for the jobs of one pass. */
static acme_workpool_t *job_pool(acme_sup_conf_t *conf, apr_pool_t *p,
                                 acme_workpool_cb_t *cb)
{
    cb->ask = job_ask;
    return acme_workpool_make(p, conf->worker_path, conf->uid, conf->gid,
                              conf->max_workers, conf->worker_timeout, cb);
}

acme_task_t *acme_sup_ari_run(acme_workpool_t *wp, const acme_sup_conf_t *conf,
                              apr_array_header_t *ids, apr_pool_t *p)
{
    /* no account involved: unauthenticated GETs */
    job_t *job = job_new(p, "ari", conf, NULL, NULL);

    job->req.name = "renewal info";
    job->req.cert_ids = ids;
    run_one(wp, job);
    return &job->task;
}

/* --- the pass --- */

/* The lineage's own hooks, from its renewal conf: Certbot keeps a
 * lineage's --pre-hook, --post-hook and --deploy-hook there (pre_hook,
 * post_hook, renew_hook), and imported lineages bring them along. The
 * module keeps them in the renewal conf it writes and runs them as Certbot
 * would. */
static void job_lineage_hooks(job_t *job, const acme_store_t *store)
{
    const char *path = acme_store_path(store, job->p, "renewal",
                                       apr_pstrcat(job->p, job->md->name,
                                                   ".conf", NULL), NULL);
    acme_renewal_conf_t *rc;
    const char *v;
    char *text;
    apr_size_t len;

    if (acme_file_read(&text, &len, job->p, path, 1 << 20) != APR_SUCCESS
        || acme_renewal_conf_parse(&rc, job->p, text, NULL) != APR_SUCCESS) {
        return;
    }
    v = apr_table_get(rc->params, "pre_hook");
    job->pre_hook = v && *v ? v : NULL;
    v = apr_table_get(rc->params, "post_hook");
    job->post_hook = v && *v ? v : NULL;
    v = apr_table_get(rc->params, "renew_hook");
    job->renew_hook = v && *v ? v : NULL;
}

/* A job for md (names: a subset, or NULL for all); its key and CSR are
 * made by job_keys when a worker is about to take it. */
static job_t *job_make(acme_store_t *store, acme_sup_conf_t *conf,
                       acme_md_t *md, const apr_array_header_t *names,
                       acme_due_e due, acme_state_t *state,
                       const char *account_key_pem, const char *account_url,
                       apr_pool_t *p)
{
    job_t *job = job_new(p, "order", conf, account_key_pem, account_url);

    job->md = md;
    job->names = names ? names : md->names;
    job->due = due;
    job->state = state;
    job->hook_output = apr_table_make(p, 2);
    job->req.name = md->name;
    job->req.names = (apr_array_header_t *)job->names;
    job->req.challenges = md->challenges;
    job->req.challenge_dir = acme_store_path(store, p, "challenges", NULL);
    job->req.dns_hook = md->dns_hook != NULL;
    job->req.dns_resolver = md->dns_resolver;
    job->req.dns_timeout = md->dns_timeout > 0
        ? (long)apr_time_sec(md->dns_timeout) : 120;
    job->req.profile = md->profile;
    job->req.preferred_chain = md->preferred_chain;
    job_lineage_hooks(job, store);
    return job;
}

/* Makes the job's key and CSR; the key of the order in flight stays on the
 * root side, 0600 in a 0700 directory (remade when lost: not fsync'ed). */
static apr_status_t job_keys(job_t *job, const acme_store_t *store,
                             acme_err_t *err)
{
    apr_pool_t *p = job->p;
    acme_md_t *md = job->md;
    const unsigned char *csr;
    apr_size_t csr_len, key_len;
    const char *dir;
    apr_status_t rv;

    rv = acme_key_generate(&job->key, p, md->key_type, err);
    if (rv == APR_SUCCESS) {
        rv = acme_key_to_pem(&job->key_pem, &key_len, p, job->key);
    }
    if (rv == APR_SUCCESS) {
        rv = acme_csr_make(&csr, &csr_len, p, job->key, job->names,
                           md->must_staple, err);
    }
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    dir = acme_store_path(store, p, "staging", md->name, NULL);
    rv = acme_mkdir(dir, APR_FPROT_UREAD | APR_FPROT_UWRITE
                    | APR_FPROT_UEXECUTE, p);
    if (rv == APR_SUCCESS) {
        rv = acme_file_write_volatile(apr_pstrcat(p, dir, "/privkey.pem",
                                                  NULL),
                                      job->key_pem, strlen(job->key_pem),
                                      APR_FPROT_UREAD | APR_FPROT_UWRITE, p);
    }
    if (rv != APR_SUCCESS) {
        char buf[128];
        rv = acme_err_set(err, p, rv, "cannot write %s/privkey.pem: %s", dir,
                          apr_strerror(rv, buf, sizeof(buf)));
        goto cleanup;
    }
    job->req.csr_b64url = acme_b64url_encode(p, csr, csr_len);
cleanup:
    return rv;
}

/* Validates and activates a worker's chain; returns the reason it was not
 * activated, or NULL on success. */
static const char *job_activate(job_t *job, acme_store_t *store,
                                acme_sup_conf_t *conf,
                                const acme_worker_res_t *wres,
                                const char *account_id, int *pversion)
{
    apr_pool_t *p = job->p;
    apr_array_header_t *certs;
    acme_renewal_conf_t *rc;
    acme_err_t err;

    if (acme_chain_parse(&certs, p, wres->chain_pem, strlen(wres->chain_pem),
                         &err) != APR_SUCCESS
        || acme_chain_validate(certs, job->key, job->names,
                               apr_time_now(), p, &err) != APR_SUCCESS) {
        return apr_psprintf(p, "the CA's certificate was rejected: %s",
                            err.msg);
    }
    rc = acme_renewal_conf_make(p);
    if (account_id) {
        apr_table_set(rc->params, "account", account_id);
    }
    apr_table_set(rc->params, "authenticator", "mod_acme");
    apr_table_set(rc->params, "server", conf->ca_url);
    acme_sup_key_params(rc->params, job->md->key_type);
    apr_table_set(rc->params, "pref_challs", apr_pstrcat(p,
                  acme_array_join(p, job->md->challenges, ","), ",", NULL));
    if (job->pre_hook) {
        apr_table_set(rc->params, "pre_hook", job->pre_hook);
    }
    if (job->post_hook) {
        apr_table_set(rc->params, "post_hook", job->post_hook);
    }
    if (job->renew_hook) {
        apr_table_set(rc->params, "renew_hook", job->renew_hook);
    }
    if (acme_store_lineage_save(store, job->md->name,
                                acme_chain_to_pem(p, certs, 0, 1),
                                acme_chain_to_pem(p, certs, 1, certs->nelts),
                                job->key_pem, rc, pversion, p, &err)
        != APR_SUCCESS) {
        return apr_psprintf(p, "activation failed, the previous certificate "
                            "stays: %s", err.msg);
    }
    return NULL;
}

/* The names of a that are not in b. */
static apr_array_header_t *subtract(apr_pool_t *p,
                                   const apr_array_header_t *a,
                                   const apr_array_header_t *b)
{
    apr_array_header_t *out = apr_array_make(p, 2, sizeof(const char *));
    int i;

    for (i = 0; i < a->nelts; i++) {
        const char *n = APR_ARRAY_IDX(a, i, const char *);
        if (!acme_array_contains(b, n)) {
            APR_ARRAY_PUSH(out, const char *) = n;
        }
    }
    return out;
}

static apr_interval_time_t hook_timeout(const acme_sup_conf_t *conf)
{
    return conf->hook_timeout > 0 ? conf->hook_timeout
                                  : apr_time_from_sec(120);
}

/* Removes every answer file from STORE/challenges/ (only called while no
 * worker runs). */
static void clean_challenges(const acme_store_t *store, apr_pool_t *p)
{
    const char *dir = acme_store_path(store, p, "challenges", NULL);
    apr_dir_t *d;
    apr_finfo_t fi;

    if (apr_dir_open(&d, dir, p) != APR_SUCCESS) {
        return;
    }
    while (apr_dir_read(&fi, APR_FINFO_NAME | APR_FINFO_TYPE, d)
           == APR_SUCCESS) {
        if (fi.filetype == APR_REG && fi.name[0] != '.') {
            acme_log(ACME_LOG_INFO, "removing the orphaned challenge answer "
                     "%s", fi.name);
            apr_file_remove(apr_pstrcat(p, dir, "/", fi.name, NULL), p);
        }
    }
    apr_dir_close(d);
}

/* Stores the account a worker registered (or found again after the CA
 * forgot it), unless it is the one the pass already uses. */
static void pass_account(acme_sup_pass_t *ps, job_t *job)
{
    acme_worker_res_t *wres = NULL;
    acme_err_t err;
    json_t *reg;

    if (job->task.failure || !job->task.result
        || acme_worker_res_parse(&wres, job->p, job->task.result,
                                 strlen(job->task.result), &err)
           != APR_SUCCESS) {
        if (!job->md) {
            acme_log(ACME_LOG_ERR, "registering the account at %s: %s",
                     ps->conf->ca_url, job->task.failure ? job->task.failure
                     : !job->task.result ? "no answer" : err.msg);
        }
        return;
    }
    if (!wres->ok && !job->md) {
        acme_log(ACME_LOG_ERR, "registering the account at %s: %s",
                 ps->conf->ca_url, wres->error ? wres->error : "?");
    }
    if (!wres->account_url || (ps->account_url
                               && !strcmp(ps->account_url,
                                          wres->account_url))) {
        return;
    }
    reg = wres->registration ? json_loads(wres->registration, 0, NULL) : NULL;
    if (acme_store_account_save(&ps->account_id, ps->store, ps->conf->ca_url,
                                ps->account_key, wres->account_url, reg,
                                ps->p, &err) == APR_SUCCESS) {
        ps->account_url = apr_pstrdup(ps->p, wres->account_url);
        acme_log(ACME_LOG_NOTICE, "account %s registered at %s",
                 ps->account_url, ps->conf->ca_url);
    }
    else {
        acme_log(ACME_LOG_ERR, "cannot save the account: %s", err.msg);
    }
    if (reg) json_decref(reg);
}

/* The pool is about to give a job to a worker: key, CSR, request. */
static apr_status_t pass_start(acme_task_t *task, void *baton,
                               acme_err_t *err)
{
    acme_sup_pass_t *ps = baton;
    job_t *job = (job_t *)task;
    apr_status_t rv = APR_SUCCESS;

    if (job->md && job->pre_hook
        && !acme_array_contains(ps->pre_ran, job->pre_hook)
        && (!ps->conf->pre_hook || strcmp(ps->conf->pre_hook,
                                          job->pre_hook))) {
        /* as Certbot: before the lineage's renewal, once per command */
        APR_ARRAY_PUSH(ps->pre_ran, const char *) = job->pre_hook;
        acme_renewal_hooks_run(ps->store, "pre", job->pre_hook, 1, NULL,
                               hook_timeout(ps->conf), NULL, ps->p);
    }
    if (job->md) {
        rv = job_keys(job, ps->store, err);
        if (rv != APR_SUCCESS) {
            goto cleanup;
        }
    }
    if (job->md && ps->account_url) {
        job->req.account_url = ps->account_url;   /* the newest one */
    }
    task->request = acme_worker_req_format(job->p, &job->req);
cleanup:
    return rv;
}

/* ACMEAllowSubsetOfNames: when the worker says which name failed, that
 * name is dropped and the rest ordered at once, with a new key and CSR.
 * Returns 1 when it queued that job (the state is saved when it ends). */
static int job_retry_subset(acme_sup_pass_t *ps, job_t *job,
                            const acme_worker_res_t *wres, const char *why)
{
    apr_pool_t *p = ps->p;
    apr_array_header_t *rest;
    job_t *again;
    int j;

    if (!wres || wres->ok || !job->md->allow_subset || !wres->failed_name
        || job->names->nelts <= 1
        || !acme_array_contains(job->names, wres->failed_name)) {
        return 0;
    }
    rest = apr_array_make(p, job->names->nelts, sizeof(const char *));
    for (j = 0; j < job->names->nelts; j++) {
        const char *n = APR_ARRAY_IDX(job->names, j, const char *);
        if (strcasecmp(n, wres->failed_name)) {
            APR_ARRAY_PUSH(rest, const char *) = n;
        }
    }
    acme_log(ACME_LOG_WARN, "%s: %s failed (%s); ordering without it "
             "(ACMEAllowSubsetOfNames)", job->md->name, wres->failed_name,
             why);
    again = job_make(ps->store, ps->conf, job->md, rest, job->due, job->state,
                     ps->account_pem, ps->account_url, p);
    again->req.replaces = job->req.replaces;
    APR_ARRAY_PUSH(ps->jobs, job_t *) = again;
    return 1;
}

/* A certificate stored and live: recorded in the state, then the deploy
 * hooks, once per renewed lineage (a failure is reported and undoes
 * nothing). */
static void job_succeeded(acme_sup_pass_t *ps, job_t *job,
                          const acme_worker_res_t *wres, int version)
{
    acme_sup_conf_t *conf = ps->conf;
    acme_store_t *store = ps->store;
    acme_state_t *st = job->state;
    apr_pool_t *p = ps->p;
    apr_table_t *env = apr_table_make(p, 2);
    const char *msg = NULL;

    ps->res->activated++;
    st->status = "valid";
    st->failures = 0;
    st->last_success = ps->now;
    st->next_try = 0;
    st->last_error = NULL;
    st->last_problem = NULL;
    if (job->names == job->md->names) {
        st->dropped_names = NULL;
    }
    st->challenge = wres->challenge_types;
    st->cert_version = version;
    st->renewals++;
    acme_log(ACME_LOG_NOTICE, "%s: certificate obtained and stored "
             "(version %d, %s)", job->md->name, version,
             acme_due_name(job->due));
    APR_ARRAY_PUSH(ps->renewed, const char *) =
        acme_array_join(p, job->names, " ");
    acme_dup_guard_note(ps->guard, job->names, ps->now, p);
    apr_table_set(env, "RENEWED_LINEAGE", acme_store_path(store, p, "live",
                  job->md->name, NULL));
    apr_table_set(env, "RENEWED_DOMAINS",
                  acme_array_join(p, job->md->names, " "));
    if (acme_renewal_hooks_run(store, "deploy", conf->deploy_hook, 0, env,
                               hook_timeout(conf), &msg, p)) {
        st->last_hook_error = msg;
    }
    /* then the lineage's own (Certbot's renew_hook), unless it is
     * ACMEDeployHook itself */
    if (job->renew_hook && (!conf->deploy_hook
                            || strcmp(conf->deploy_hook, job->renew_hook))
        && acme_renewal_hooks_run(store, "deploy", job->renew_hook, 1, env,
                                  hook_timeout(conf), &msg, p)) {
        st->last_hook_error = msg;
    }
}

/* An attempt failed: recorded with its backoff (the CA's Retry-After
 * honoured, but never more than a week). */
static void job_failed(acme_sup_pass_t *ps, job_t *job, const acme_worker_res_t *wres,
                       const char *why)
{
    acme_state_t *st = job->state;
    int failures = st->failures + 1;
    apr_interval_time_t wait = acme_sup_backoff(failures);

    if (wres && wres->retry_after > 0
        && apr_time_from_sec(wres->retry_after) > wait) {
        wait = apr_time_from_sec(wres->retry_after > ACME_HTTP_RETRY_AFTER_MAX
                                 ? ACME_HTTP_RETRY_AFTER_MAX
                                 : wres->retry_after);
    }
    ps->res->failed++;
    APR_ARRAY_PUSH(ps->failed, const char *) =
        acme_array_join(ps->p, job->md->names, " ");
    st->status = "error";
    st->failures = failures;
    /* the backoff counts from the end of the attempt, which may have taken
     * long (a slow CA) */
    st->next_try = apr_time_now() + wait;
    st->last_error = why;
    st->last_problem = wres ? wres->problem_type : NULL;
    ps->res->next_wakeup = acme_sup_min_time(ps->res->next_wakeup,
                                             apr_time_now() + wait);
    acme_log(ACME_LOG_ERR, "%s: obtaining the certificate failed: %s; "
             "next attempt in %d s", job->md->name, why,
             (int)apr_time_sec(wait));
}

/* A job ended: a certificate to validate and store, a failure to record,
 * or (ACMEAllowSubsetOfNames) a new job without the name that failed. */
static void job_finish(acme_sup_pass_t *ps, job_t *job)
{
    apr_pool_t *p = ps->p;
    acme_worker_res_t *wres = NULL;
    const char *why = job->task.failure;
    acme_err_t err;
    int version = 0;

    if (!why && acme_worker_res_parse(&wres, job->p, job->task.result,
                                      strlen(job->task.result), &err)
                                      != APR_SUCCESS) {
        why = err.msg;
    }
    if (!why) {
        pass_account(ps, job);
    }
    if (!why && !wres->ok) {
        why = wres->error;
    }
    if (!why && !wres->chain_pem) {
        why = "worker result is ok but has no chain";
    }
    if (why && job_retry_subset(ps, job, wres, why)) {
        return;                  /* the state is saved when it ends */
    }
    if (!why && job->names != job->md->names) {
        job->state->dropped_names = acme_array_join(p,
            subtract(p, job->md->names, job->names), " ");
    }
    if (!why) {
        why = job_activate(job, ps->store, ps->conf, wres, ps->account_id,
                           &version);
    }
    job->state->last_attempt = ps->now;
    job->state->attempts++;
    job->state->name = job->md->name;
    job->state->names = apr_array_copy(p, job->md->names);
    if (!why) {
        job_succeeded(ps, job, wres, version);
    }
    else {
        job_failed(ps, job, wres, why);
    }
    job->state->due_reason = acme_due_name(job->due);
    /* flushed by the next certificate's flush or at the end of the pass */
    acme_state_save(ps->store, job->state, 0, p, NULL);
    apr_file_remove(acme_store_path(ps->store, p, "staging", job->md->name,
                                    "privkey.pem", NULL), p);
}

/* The pool says a task ended. */
static void pass_done(acme_task_t *task, void *baton)
{
    job_t *job = (job_t *)task;

    if (job->md) {
        job_finish(baton, job);
    }
}


apr_status_t acme_sup_pass_account_load(acme_sup_pass_t *ps)
{
    const char *ca_url = ps->conf->ca_url;
    apr_size_t len;
    acme_err_t err;
    apr_status_t rv;

    if (ps->account_pem) {
        return APR_SUCCESS;
    }
    memset(&err, 0, sizeof(err));
    rv = acme_store_account_find(&ps->account_id, ps->store, ca_url, ps->p);
    if (rv == APR_SUCCESS && ps->account_id) {
        rv = acme_store_account_load(&ps->account_key, &ps->account_url,
                                     ps->store, ca_url, ps->account_id,
                                     ps->p, &err);
    }
    else {
        ps->account_id = NULL;
        rv = acme_key_generate(&ps->account_key, ps->p, ACME_KEY_EC256, &err);
    }
    if (rv == APR_SUCCESS) {
        rv = acme_key_to_pem(&ps->account_pem, &len, ps->p, ps->account_key);
    }
    if (rv != APR_SUCCESS) {
        ps->account_pem = NULL;
        acme_log(ACME_LOG_ERR, "account for %s unusable: %s", ca_url,
                 err.msg ? err.msg : "key error");
    }
    return rv;
}

void acme_sup_pass_order(acme_sup_pass_t *ps, acme_md_t *md, acme_due_e due,
                         acme_state_t *state, const char *replaces)
{
    job_t *job = job_make(ps->store, ps->conf, md, NULL, due, state,
                          ps->account_pem, ps->account_url, ps->p);

    /* RFC 9773: say which certificate this order replaces */
    job->req.replaces = replaces;
    APR_ARRAY_PUSH(ps->jobs, job_t *) = job;
}

/* Sets the pass up: its workers, the index, the ARI windows refreshed. */
static void pass_init(acme_sup_pass_t *ps, acme_workpool_cb_t *cb,
                      acme_sup_conf_t *conf, acme_store_t *store,
                      acme_sup_result_t *res, apr_pool_t *p)
{
    memset(cb, 0, sizeof(*cb));
    cb->start = pass_start;
    cb->done = pass_done;
    cb->baton = ps;
    ps->conf = conf;
    ps->store = store;
    ps->res = res;
    ps->p = p;
    ps->now = apr_time_now();        /* the lock's wait may have been long */
    /* No worker runs between passes: an answer still in challenges/ was
     * left by one that was killed. It must not be served forever. */
    clean_challenges(store, p);
    acme_sup_index_begin(conf, store, ps->now, p);
    ps->ids_cache = apr_hash_make(p);
    ps->wp = job_pool(conf, p, cb);
    acme_sup_ari_refresh(store, conf, ps->wp, ps->now, ps->ids_cache,
                         &ps->ari_until, p);
    apr_pool_create(&ps->ip, p);
    ps->jobs = apr_array_make(p, 4, sizeof(job_t *));
    ps->soon = apr_pcalloc(p, sizeof(int)
                               * (apr_size_t)(conf->mds->nelts + 1));
    ps->renewed = apr_array_make(p, 4, sizeof(const char *));
    ps->pre_ran = apr_array_make(p, 2, sizeof(const char *));
    ps->failed = apr_array_make(p, 4, sizeof(const char *));
}

/* Post hooks: ACMEPostHook once after the pass, then the lineages' own
 * post_hooks, each command once. */
static void pass_post_hooks(acme_sup_pass_t *ps)
{
    apr_pool_t *p = ps->p;
    apr_table_t *env = apr_table_make(p, 2);
    apr_array_header_t *post_ran = apr_array_make(p, 2, sizeof(const char *));
    const char *global = ps->conf->post_hook;
    int i;

    apr_table_set(env, "RENEWED_DOMAINS", acme_array_join(p, ps->renewed,
                                                          " "));
    apr_table_set(env, "FAILED_DOMAINS", acme_array_join(p, ps->failed, " "));
    acme_renewal_hooks_run(ps->store, "post", global, 0, env,
                           hook_timeout(ps->conf), NULL, p);
    for (i = 0; i < ps->jobs->nelts; i++) {
        const char *cmd = APR_ARRAY_IDX(ps->jobs, i, job_t *)->post_hook;
        if (cmd && !acme_array_contains(post_ran, cmd)
            && (!global || strcmp(global, cmd))) {
            APR_ARRAY_PUSH(post_ran, const char *) = cmd;
            acme_renewal_hooks_run(ps->store, "post", cmd, 1, env,
                                   hook_timeout(ps->conf), NULL, p);
        }
    }
}

/* Runs the pass's orders: pre hooks (once, only when something is
 * attempted), a new account registered before them, the orders, then the
 * post hooks. */
static void pass_orders(acme_sup_pass_t *ps)
{
    acme_store_t *store = ps->store;

    acme_renewal_hooks_run(store, "pre", ps->conf->pre_hook, 0, NULL,
                           hook_timeout(ps->conf), NULL, ps->p);
    if (!ps->account_url) {
        job_t *acct = job_new(ps->p, "account", ps->conf, ps->account_pem,
                              NULL);
        acct->req.name = "account";
        run_one(ps->wp, acct);
        pass_account(ps, acct);
    }
    /* every job is finished (stored, state saved) as soon as its worker
     * answers, while the others are still at the CA */
    acme_workpool_run(ps->wp, ps->jobs, 0);
    acme_dup_guard_save(ps->guard, apr_time_now(), ps->p);
    /* the jobs' state files, written without a flush each */
    if (acme_fs_sync(store->base, ps->p) != APR_SUCCESS) {
        acme_log(ACME_LOG_WARN, "cannot flush the store %s to disk",
                 store->base);
    }
    pass_post_hooks(ps);
}

apr_status_t acme_sup_pass(acme_sup_result_t *res, acme_sup_conf_t *conf,
                           apr_pool_t *p)
{
    acme_store_t *store = NULL;
    apr_file_t *lock = NULL;
    acme_workpool_cb_t cb;
    acme_sup_pass_t ps;
    acme_err_t err;
    apr_status_t rv;

    memset(res, 0, sizeof(*res));
    memset(&ps, 0, sizeof(ps));
    res->next_wakeup = apr_time_now() + conf->check_interval;
    rv = acme_store_open(&store, p, conf->store_dir, 1, &err);
    if (rv != APR_SUCCESS) {
        acme_log(ACME_LOG_ERR, "store %s unusable: %s", conf->store_dir,
                 err.msg);
        goto cleanup;
    }
    /* one writer at a time: acmectl takes the same lock */
    if (acme_store_lock_as(&lock, store, apr_psprintf(p, "pid %d (mod_acme "
                           "supervisor)", (int)getpid()), 0, NULL, p)
        != APR_SUCCESS) {
        lock = NULL;
        acme_log(ACME_LOG_WARN, "cannot lock the store %s; going on",
                 conf->store_dir);
    }
    pass_init(&ps, &cb, conf, store, res, p);
    rv = acme_sup_pass_decide(&ps);
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    res->attempted = ps.jobs->nelts;
    if (ps.jobs->nelts) {
        pass_orders(&ps);
    }
cleanup:
    if (ps.wp) {
        acme_workpool_close(ps.wp);
        acme_sup_index_end(conf, store, p);
    }
    if (lock) {
        apr_file_close(lock);
    }
    return rv;
}
