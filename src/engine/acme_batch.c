/* mod_acme: one run of issuances: its account, its pre and post hooks and
 * the duplicate guard they share (acme_obtain.h). */
#include <string.h>

#include "acme_obtain.h"
#include "acme_renewal_hooks.h"
#include "acme_util.h"

acme_batch_t *acme_batch_make(acme_store_t *store,
                              const acme_batch_hooks_t *hooks,
                              apr_pool_t *p)
{
    acme_batch_t *b = apr_pcalloc(p, sizeof(*b));

    b->store = store;
    b->p = p;
    if (hooks) {
        b->hooks = *hooks;
    }
    if (b->hooks.timeout <= 0) {
        b->hooks.timeout = apr_time_from_sec(120);
    }
    b->pre_ran = apr_array_make(p, 2, sizeof(const char *));
    b->post_cmds = apr_array_make(p, 2, sizeof(const char *));
    b->renewed = apr_array_make(p, 4, sizeof(const char *));
    b->failed = apr_array_make(p, 4, sizeof(const char *));
    return b;
}

void acme_batch_account(acme_batch_t *b, acme_key_t *key, const char *url,
                        const char *id)
{
    b->account_key = key;
    b->account_url = url;
    b->account_id = id;
}

void acme_batch_keep_account(acme_batch_t *b, const char *ca_url,
                             const acme_attempt_res_t *res)
{
    json_t *reg = NULL;
    const char *id = NULL;
    acme_err_t err;

    if (!res->account_url || !b->account_key || (b->account_url
        && !strcmp(b->account_url, res->account_url))) {
        return;
    }
    reg = res->registration ? json_loads(res->registration, 0, NULL) : NULL;
    if (acme_store_account_save(&id, b->store, ca_url, b->account_key,
                                res->account_url, reg, b->p, &err)
        != APR_SUCCESS) {
        acme_log(ACME_LOG_ERR, "cannot save the account %s: %s",
                 res->account_url, err.msg);
    }
    else if (res->forgotten_account) {
        acme_batch_say(b, apr_psprintf(b->p, "The CA no longer knows account "
                                       "%s; registered a new one: %s",
                                       res->forgotten_account,
                                       res->account_url));
    }
    else {
        acme_log(ACME_LOG_NOTICE, "account %s registered at %s",
                 res->account_url, ca_url);
    }
    b->account_url = apr_pstrdup(b->p, res->account_url);
    b->account_id = id ? id : b->account_id;
    if (reg) {
        json_decref(reg);
    }
}

/* Runs one phase's hooks; a failure is counted and said with `what`. */
static void batch_hook(acme_batch_t *b, const char *phase, const char *cmd,
                       int no_dirs, apr_table_t *env, const char *what,
                       const char **pmsg)
{
    const char *msg = NULL;

    b->hook_failures += acme_renewal_hooks_run(b->store, phase, cmd, no_dirs,
                                               env, b->hooks.timeout, &msg,
                                               b->p);
    if (msg) {
        acme_batch_say(b, apr_psprintf(b->p, "%s failed%s: %s", what,
                                       strcmp(phase, "deploy") ? ""
                                       : " (the renewal stands)", msg));
        if (pmsg && !*pmsg) {
            *pmsg = msg;
        }
    }
}

void acme_batch_say(acme_batch_t *b, const char *msg)
{
    if (b->note) {
        b->note(b->note_baton, msg);
    }
    else {
        acme_log(ACME_LOG_NOTICE, "%s", msg);
    }
}

void acme_batch_start(acme_batch_t *b)
{
    if (b->started) {
        return;
    }
    b->started = 1;
    batch_hook(b, "pre", b->hooks.pre, b->hooks.no_dirs, NULL, "Pre-hook",
               NULL);
}

/* Whether the lineage's own hook `cmd` runs beside the run's `mine`. */
static int lineage_hook_runs(const acme_batch_t *b, const char *mine,
                             const char *cmd)
{
    if (!cmd || !b->hooks.lineage_hooks || (mine && b->hooks.replace)) {
        return 0;
    }
    return !mine || strcmp(mine, cmd);
}

void acme_batch_lineage_hooks(acme_batch_t *b, const char *lineage,
                              const acme_renewal_conf_t *conf)
{
    const char *pre = acme_renewal_conf_hook(conf, "pre_hook");
    const char *post = acme_renewal_conf_hook(conf, "post_hook");

    if (lineage_hook_runs(b, b->hooks.pre, pre)
        && !acme_array_contains(b->pre_ran, pre)) {
        /* as Certbot: before the lineage's renewal, once per command */
        APR_ARRAY_PUSH(b->pre_ran, const char *) = pre;
        batch_hook(b, "pre", pre, 1, NULL, apr_pstrcat(b->p, "Pre-hook of ",
                                                       lineage, NULL), NULL);
    }
    if (lineage_hook_runs(b, b->hooks.post, post)
        && !acme_array_contains(b->post_cmds, post)) {
        APR_ARRAY_PUSH(b->post_cmds, const char *) = post;
    }
}

void acme_batch_deploy(acme_batch_t *b, const acme_renewal_conf_t *conf,
                       apr_table_t *env, const char **pmsg)
{
    const char *mine = b->hooks.deploy;
    const char *cmd = acme_renewal_conf_hook(conf, "renew_hook");

    if (!cmd) {
        cmd = acme_renewal_conf_hook(conf, "deploy_hook");
    }
    if (mine || !cmd) {
        batch_hook(b, "deploy", mine, b->hooks.no_dirs, env, "Deploy hook",
                   pmsg);
    }
    if (lineage_hook_runs(b, mine, cmd)) {
        /* the store's hooks ran with `mine` already, if there was one */
        batch_hook(b, "deploy", cmd, mine ? 1 : b->hooks.no_dirs, env,
                   "Deploy hook", pmsg);
    }
}

void acme_batch_end(acme_batch_t *b)
{
    apr_table_t *env;
    apr_array_header_t *cmds;
    int i;

    if (b->guard && acme_dup_guard_save(b->guard, apr_time_now(), b->p)
        != APR_SUCCESS) {
        acme_log(ACME_LOG_WARN, "cannot record the issuances in the store's "
                 "state/_issued.json");
    }
    if (!b->started) {
        return;
    }
    env = apr_table_make(b->p, 2);
    apr_table_set(env, "RENEWED_DOMAINS", acme_array_join(b->p, b->renewed,
                                                          " "));
    apr_table_set(env, "FAILED_DOMAINS", acme_array_join(b->p, b->failed,
                                                         " "));
    cmds = apr_array_make(b->p, 2, sizeof(const char *));
    if (b->hooks.post) {
        APR_ARRAY_PUSH(cmds, const char *) = b->hooks.post;
    }
    apr_array_cat(cmds, b->post_cmds);
    /* the store's hooks with the first, then each distinct command once */
    for (i = 0; i < (cmds->nelts ? cmds->nelts : 1); i++) {
        batch_hook(b, "post", cmds->nelts ? APR_ARRAY_IDX(cmds, i,
                                                          const char *)
                   : NULL, b->hooks.no_dirs || i > 0, env, "Post-hook", NULL);
    }
}
