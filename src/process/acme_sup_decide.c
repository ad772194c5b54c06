/* mod_acme: which certificates a supervisor pass orders: for each lineage
 * the decision of acme_due_decide, made from its state, its certificate
 * and the pass's round; the issuance then begins (acme_sup_pass_order). */
#include <string.h>

#include "acme_sup_int.h"
#include "acme_util.h"

#define DAY ACME_SUP_DAY

/* Loads md's state and lineage (into sp: read once, the issuance uses
 * them too) and decides what the pass does with them. */
static void pass_decide(acme_due_decision_t *d, acme_state_t **pstate,
                        acme_lineage_t **plineage, acme_sup_pass_t *ps,
                        acme_md_t *md, int i, int round, apr_pool_t *sp)
{
    acme_due_input_t in;

    memset(&in, 0, sizeof(in));
    in.now = ps->now;
    *pstate = ps->states[i];        /* read by the ARI refresh, or now */
    if (!*pstate) {
        acme_state_load(pstate, ps->store, md->name, sp, NULL);
    }
    if (acme_store_lineage_load(plineage, ps->store, md->name, sp, NULL)
        != APR_SUCCESS) {
        *plineage = NULL;
    }
    in.due = acme_sup_due_lineage(&in.when, ps->store, md, *plineage,
                                  *pstate, ps->now, ps->ip);
    in.state = *pstate;
    in.cert_id = (*pstate)->ari.cert_id && *plineage
        ? (*plineage)->ari_cert_id : NULL;
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

/* Decides conf->mds[i] in round `round`: nothing to do before a time, or
 * a job for it. Fails only when the pass's account is unusable. */
static apr_status_t pass_lineage(acme_sup_pass_t *ps, int i, int round)
{
    acme_sup_conf_t *conf = ps->conf;
    acme_md_t *md = APR_ARRAY_IDX(conf->mds, i, acme_md_t *);
    acme_due_decision_t d;
    acme_state_t *state;
    acme_lineage_t *lineage;
    struct stat seen;
    apr_pool_t *sp;                  /* the state's: kept by its job */
    apr_status_t rv = APR_SUCCESS;

    md->ca_url = conf->ca_url;
    apr_pool_clear(ps->ip);
    apr_pool_create(&sp, ps->p);
    acme_sup_state_stat(&seen, ps->store, md, ps->ip);
    pass_decide(&d, &state, &lineage, ps, md, i, round, sp);
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
    if (acme_sup_pass_order(ps, md, d.due, state, lineage, d.replaces, sp)
        != APR_SUCCESS) {
        /* never burn the CA's duplicate-certificate allowance: nothing
         * to do for a day (the oldest of the five leaves the week) */
        acme_sup_quiet(conf, ps->res, i, ps->now + DAY, d.ari_next, &seen);
        goto drop;
    }
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
