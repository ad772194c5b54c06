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
#include "acme_challenges.h"
#include "acme_obtain.h"
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
    acme_md_t *md;                   /* NULL: an "account" or "ari" job */
    acme_obtain_t *ob;               /* the issuance it is an attempt of */
    acme_sup_pass_t *ps;             /* its pass (the account, the CA);
                                        NULL for an "ari" job */
    apr_pool_t *p;
    acme_worker_req_t req;           /* formatted when the worker starts */
    apr_table_t *hook_output;        /* dns hook stdout by domain+value */
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
/* The "dns" question: the lineage's dns-01 hook. */
static const char *ask_dns(job_t *job, json_t *msg)
{
    if (!job->md) {              /* no hook belongs to this request */
        return "{\"ok\":false,\"error\":\"no dns-01 hook for this "
               "request\"}";
    }
    return acme_sup_dns_answer(job->md, job->hook_output, msg, job->p);
}

/* What a worker may ask the supervisor during a job, by "type". */
static const struct {
    const char *type;
    const char *(*answer)(job_t *job, json_t *msg);
} ask_table[] = {
    { "dns", ask_dns },
    { NULL, NULL }
};

/* Answers a worker's question (the pool's ask callback); NULL for a type
 * nobody answers (the pool then says "unsupported request"). */
static const char *job_ask(acme_task_t *task, json_t *msg, void *baton)
{
    const char *type = json_string_value(json_object_get(msg, "type"));
    job_t *job = (job_t *)task;
    int i;

    (void)baton;
    for (i = 0; type && ask_table[i].type; i++) {
        if (!strcmp(type, ask_table[i].type)) {
            return ask_table[i].answer(job, msg);
        }
    }
    acme_log(ACME_LOG_WARN, "%s: the worker asked an unknown question (%s)",
             job->req.name ? job->req.name : "worker",
             type ? type : "no type");
    return NULL;
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

/* What the module keeps of an earlier renewal conf: the lineage's own
 * hooks (Certbot keeps a lineage's --pre-hook, --post-hook and
 * --deploy-hook there, and imported lineages bring them along); the rest
 * is the module's. */
static const char *const module_keeps[] = { "pre_hook", "post_hook",
                                            "renew_hook", NULL };

/* The order options of md: what ACMEDomain and its directives say. */
static acme_order_opts_t *md_opts(acme_sup_pass_t *ps, acme_md_t *md,
                                  acme_due_e due, const char *replaces)
{
    apr_pool_t *p = ps->p;
    acme_order_opts_t *o = apr_pcalloc(p, sizeof(*o));

    o->lineage = md->name;
    o->names = md->names;
    o->challenges = md->challenges;
    o->profile = md->profile;
    o->preferred_chain = md->preferred_chain;
    o->replaces = replaces;         /* RFC 9773: the certificate replaced */
    o->key_type = md->key_type;
    o->must_staple = md->must_staple;
    o->allow_subset = md->allow_subset;
    o->due = due;
    o->record_failures = 1;
    o->sync_state = 0;              /* flushed once at the end of the pass */
    o->ca_url = ps->conf->ca_url;
    o->conf_params = apr_table_make(p, 8);
    apr_table_set(o->conf_params, "authenticator", "mod_acme");
    apr_table_set(o->conf_params, "server", ps->conf->ca_url);
    acme_sup_key_params(o->conf_params, md->key_type);
    apr_table_set(o->conf_params, "pref_challs", apr_pstrcat(p,
                  acme_array_join(p, md->challenges, ","), ",", NULL));
    o->conf_keep = module_keeps;
    return o;
}

/* A job for an attempt of ob (md's issuance); its key and CSR are made by
 * acme_obtain_attempt when a worker is about to take it. */
static job_t *job_make(acme_sup_pass_t *ps, acme_md_t *md, acme_obtain_t *ob)
{
    apr_pool_t *p = ps->p;
    job_t *job = job_new(p, "order", ps->conf, ps->account_pem,
                         ps->batch->account_url);

    job->ps = ps;
    job->md = md;
    job->ob = ob;
    job->hook_output = apr_table_make(p, 2);
    job->req.name = md->name;
    job->req.challenges = md->challenges;
    job->req.challenge_dir = acme_challenges_dir(ps->store, p);
    job->req.dns_hook = md->dns_hook != NULL;
    job->req.dns_resolver = md->dns_resolver;
    job->req.dns_timeout = md->dns_timeout > 0
        ? (long)apr_time_sec(md->dns_timeout) : 120;
    return job;
}

/* A worker's answer as an attempt's outcome (a failure when there is
 * none, or it is unreadable). */
static void job_outcome(acme_attempt_res_t *a, job_t *job)
{
    acme_worker_res_t *wres = NULL;
    acme_err_t err;

    memset(a, 0, sizeof(*a));
    if (job->task.failure) {
        a->error = job->task.failure;
    }
    else if (!job->task.result
             || acme_worker_res_parse(&wres, job->p, job->task.result,
                                      strlen(job->task.result), &err)
                != APR_SUCCESS) {
        a->error = job->task.result ? err.msg : "no answer";
    }
    else {
        *a = wres->a;
    }
}

/* The account job ended: the account the worker registered is stored. */
static void pass_account(acme_sup_pass_t *ps, job_t *job)
{
    acme_attempt_res_t a;

    job_outcome(&a, job);
    if (!a.ok) {
        acme_log(ACME_LOG_ERR, "registering the account at %s: %s",
                 ps->conf->ca_url, a.error ? a.error : "?");
    }
    acme_batch_keep_account(ps->batch, ps->conf->ca_url, &a);
}

/* The pool is about to give a job to a worker: key, CSR, request. */
static apr_status_t pass_start(acme_task_t *task, void *baton,
                               acme_err_t *err)
{
    acme_sup_pass_t *ps = baton;
    job_t *job = (job_t *)task;
    const acme_issue_req_t *r;
    apr_status_t rv = APR_SUCCESS;

    if (job->md) {
        rv = acme_obtain_attempt(job->ob, err);
        if (rv != APR_SUCCESS) {
            goto cleanup;
        }
        r = &job->ob->req;
        job->req.names = (apr_array_header_t *)r->names;
        job->req.csr_b64url = acme_b64url_encode(job->p, r->csr_der,
                                                 r->csr_len);
        job->req.profile = r->profile;
        job->req.preferred_chain = r->preferred_chain;
        job->req.replaces = r->replaces;
        job->req.account_url = ps->batch->account_url;   /* the newest */
    }
    task->request = acme_worker_req_format(job->p, &job->req);
cleanup:
    return rv;
}

/* A job ended: another attempt with fewer names (ACMEAllowSubsetOfNames),
 * or the issuance finished (stored and live, or the failure recorded
 * with its backoff). */
static void job_finish(acme_sup_pass_t *ps, job_t *job)
{
    acme_obtain_t *ob = job->ob;
    acme_attempt_res_t a;
    acme_err_t err;

    job_outcome(&a, job);
    if (a.ok && !a.chain_pem) {
        a.ok = 0;
        a.error = "worker result is ok but has no chain";
    }
    if (acme_obtain_next(ob, &a) == ACME_OBTAIN_AGAIN) {
        APR_ARRAY_PUSH(ps->jobs, job_t *) = job_make(ps, job->md, ob);
        return;
    }
    if (acme_obtain_finish(ob, &a, &err) == APR_SUCCESS) {
        ps->res->activated++;
        acme_log(ACME_LOG_NOTICE, "%s: certificate obtained and stored "
                 "(version %d, %s)", job->md->name, ob->version,
                 acme_due_name(ob->opts->due));
        return;
    }
    ps->res->failed++;
    ps->res->next_wakeup = acme_sup_min_time(ps->res->next_wakeup,
                                             ob->state->next_try);
    acme_log(ACME_LOG_ERR, "%s: obtaining the certificate failed: %s; next "
             "attempt in %d s", job->md->name, err.msg,
             (int)apr_time_sec(ob->state->next_try - apr_time_now()));
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
    const char *id = NULL, *url = NULL;
    acme_key_t *key = NULL;
    apr_size_t len;
    acme_err_t err;
    apr_status_t rv;

    if (ps->account_pem) {
        return APR_SUCCESS;
    }
    memset(&err, 0, sizeof(err));
    rv = acme_store_account_find(&id, ps->store, ca_url, ps->p);
    if (rv == APR_SUCCESS && id) {
        rv = acme_store_account_load(&key, &url, ps->store, ca_url, id, ps->p,
                                     &err);
    }
    else {
        id = NULL;
        rv = acme_key_generate(&key, ps->p, ACME_KEY_EC256, &err);
    }
    if (rv == APR_SUCCESS) {
        rv = acme_key_to_pem(&ps->account_pem, &len, ps->p, key);
    }
    if (rv != APR_SUCCESS) {
        ps->account_pem = NULL;
        acme_log(ACME_LOG_ERR, "account for %s unusable: %s", ca_url,
                 err.msg ? err.msg : "key error");
    }
    else {
        /* the batch holds the account from now on (a new URL too) */
        acme_batch_account(ps->batch, key, url, id);
    }
    return rv;
}

apr_status_t acme_sup_pass_order(acme_sup_pass_t *ps, acme_md_t *md,
                                 acme_due_e due, acme_state_t *state,
                                 acme_lineage_t *lineage,
                                 const char *replaces, apr_pool_t *sp)
{
    acme_obtain_t *ob = NULL;
    acme_err_t err;
    apr_status_t rv;

    rv = acme_obtain_begin(&ob, ps->batch, md_opts(ps, md, due, replaces),
                           lineage, 1, state, sp, &err);
    if (rv != APR_SUCCESS) {
        /* the duplicate-certificate guard: recorded in the state */
        acme_log(ACME_LOG_ERR, "%s: not ordering: %s", md->name, err.msg);
        goto cleanup;
    }
    APR_ARRAY_PUSH(ps->jobs, job_t *) = job_make(ps, md, ob);
cleanup:
    return rv;
}

/* The pass's batch: the ACME*Hook directives beside the lineages' own
 * hooks (both run, a lineage's only when it is another command), with the
 * store's hook directories. */
static acme_batch_t *pass_batch(const acme_sup_conf_t *conf,
                                acme_store_t *store, apr_pool_t *p)
{
    acme_batch_hooks_t hooks;

    memset(&hooks, 0, sizeof(hooks));
    hooks.pre = conf->pre_hook;
    hooks.post = conf->post_hook;
    hooks.deploy = conf->deploy_hook;
    hooks.lineage_hooks = 1;
    hooks.timeout = conf->hook_timeout;
    return acme_batch_make(store, &hooks, p);
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
    acme_challenges_clean(acme_challenges_dir(store, p), p);
    acme_sup_index_begin(conf, store, ps->now, p);
    ps->ids_cache = apr_hash_make(p);
    ps->wp = job_pool(conf, p, cb);
    ps->states = apr_pcalloc(p, sizeof(acme_state_t *)
                                 * (apr_size_t)(conf->mds->nelts + 1));
    acme_sup_ari_refresh(store, conf, ps->wp, ps->now, ps->ids_cache,
                         ps->states,
                         &ps->ari_until, p);
    apr_pool_create(&ps->ip, p);
    ps->jobs = apr_array_make(p, 4, sizeof(job_t *));
    ps->soon = apr_pcalloc(p, sizeof(int)
                               * (apr_size_t)(conf->mds->nelts + 1));
    ps->batch = pass_batch(conf, store, p);
}

/* Runs the pass's orders: pre hooks (once, only when something is
 * attempted), a new account registered before them, the orders, then the
 * post hooks. */
static void pass_orders(acme_sup_pass_t *ps)
{
    acme_store_t *store = ps->store;

    acme_batch_start(ps->batch);
    if (!ps->batch->account_url) {
        job_t *acct = job_new(ps->p, "account", ps->conf, ps->account_pem,
                              NULL);
        acct->ps = ps;
        acct->req.name = "account";
        run_one(ps->wp, acct);
        pass_account(ps, acct);
    }
    /* every job is finished (stored, state saved) as soon as its worker
     * answers, while the others are still at the CA */
    acme_workpool_run(ps->wp, ps->jobs, 0);
    /* the jobs' state files, written without a flush each */
    if (acme_fs_sync(store->base, ps->p) != APR_SUCCESS) {
        acme_log(ACME_LOG_WARN, "cannot flush the store %s to disk",
                 store->base);
    }
    acme_batch_end(ps->batch);
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
