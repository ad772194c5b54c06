/* mod_acme: which certificates a supervisor pass orders: for each lineage
 * the decision of acme_due_decide, made from its state, its certificate
 * and the pass's round; then the duplicate-certificate guard. */
#include <string.h>

#include "acme_sup_int.h"
#include "acme_util.h"

#define DAY ACME_SUP_DAY

/* Loads md's state (into sp) and decides what the pass does with it. */
static void pass_decide(acme_due_decision_t *d, acme_state_t **pstate,
                        acme_sup_pass_t *ps, acme_md_t *md, int i, int round,
                        apr_pool_t *sp)
{
    acme_due_input_t in;

    memset(&in, 0, sizeof(in));
    in.now = ps->now;
    in.due = acme_sup_due(&in.when, ps->store, md, ps->now, ps->ip);
    acme_state_load(pstate, ps->store, md->name, sp, NULL);
    in.state = *pstate;
    in.cert_id = acme_sup_ari_cert_id(ps->store, md, *pstate, ps->ids_cache,
                                      ps->p);
    in.ari_until = ps->ari_until;
    in.allow_subset = md->allow_subset;
    in.round = round;
    in.soon = ps->soon[i];
    acme_due_decide(d, &in);
    if ((*pstate)->ari.cert_id) {
        ps->res->next_wakeup = acme_sup_min_time(ps->res->next_wakeup,
                                                 (*pstate)->ari.next_fetch);
    }
}

/* The duplicate-certificate guard: never burn the CA's allowance; when
 * md's names were issued too often this week, records why and returns 1
 * (nothing to do for a day). */
static int pass_guarded(acme_sup_pass_t *ps, int i, acme_md_t *md,
                        acme_state_t *state, apr_time_t ari_next,
                        const struct stat *seen)
{
    acme_err_t err;

    if (!ps->guard) {
        ps->guard = acme_dup_guard_open(ps->store, ps->p);
    }
    if (acme_dup_guard_test(ps->guard, md->names, ps->now, ps->p, &err)
        == APR_SUCCESS) {
        return 0;
    }
    /* wait until the oldest of the five leaves the week */
    acme_log(ACME_LOG_ERR, "%s: not ordering: %s", md->name, err.msg);
    state->status = "error";
    state->last_error = err.msg;
    state->next_try = ps->now + DAY;
    acme_state_save(ps->store, state, 1, ps->p, NULL);
    acme_sup_quiet(ps->conf, ps->res, i, ps->now + DAY, ari_next, seen);
    return 1;
}

/* Decides conf->mds[i] in round `round`: nothing to do before a time, or
 * a job for it. Fails only when the pass's account is unusable. */
static apr_status_t pass_lineage(acme_sup_pass_t *ps, int i, int round)
{
    acme_sup_conf_t *conf = ps->conf;
    acme_md_t *md = APR_ARRAY_IDX(conf->mds, i, acme_md_t *);
    acme_due_decision_t d;
    acme_state_t *state;
    struct stat seen;
    apr_pool_t *sp;                  /* the state's: kept by its job */
    apr_status_t rv = APR_SUCCESS;

    md->ca_url = conf->ca_url;
    apr_pool_clear(ps->ip);
    apr_pool_create(&sp, ps->p);
    acme_sup_state_stat(&seen, ps->store, md, ps->ip);
    pass_decide(&d, &state, ps, md, i, round, sp);
    if (!d.renew) {
        ps->soon[i] = ps->soon[i] || d.soon;
        acme_sup_quiet(conf, ps->res, i, d.not_before, d.ari_next, &seen);
        goto drop;
    }
    /* `acmectl renew --cert-name` asked the server to renew now; the
     * attempt answers every request made so far (its outcome is saved
     * with the state, which acmectl waits for) */
    if (d.answers_request) {
        state->renew_requests_done = state->renew_requests;
    }
    rv = acme_sup_pass_account_load(ps);
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    acme_log(ACME_LOG_NOTICE, "%s: obtaining a certificate for %s (%s)",
             md->name, acme_array_join(ps->p, md->names, ", "),
             acme_due_name(d.due));
    if (pass_guarded(ps, i, md, state, d.ari_next, &seen)) {
        goto drop;
    }
    acme_sup_pass_order(ps, md, d.due, state, d.replaces);
    conf->index->quiet[i] = 0;       /* its outcome is read next pass */
    goto cleanup;
drop:
    apr_pool_destroy(sp);
cleanup:
    return rv;
}

/* Round 0 starts what is due; round 1 adds what would be due within
 * ACME_DUE_BATCH_SLACK anyway (their backoff jitter differs), so that they
 * are activated by the same single restart. */
apr_status_t acme_sup_pass_decide(acme_sup_pass_t *ps)
{
    acme_sup_conf_t *conf = ps->conf;
    apr_status_t rv = APR_SUCCESS;
    int round, i;

    for (round = 0; round < 2 && rv == APR_SUCCESS; round++) {
        for (i = 0; i < conf->mds->nelts && rv == APR_SUCCESS; i++) {
            if (round == 1 && (!ps->soon[i] || !ps->jobs->nelts)) {
                continue;
            }
            if (round == 0 && conf->index->skip[i]) {
                /* nothing to do before then, the store has not changed */
                ps->res->next_wakeup = acme_sup_min_time(
                    ps->res->next_wakeup, conf->index->quiet[i]);
                continue;
            }
            rv = pass_lineage(ps, i, round);
        }
    }
    return rv;
}
