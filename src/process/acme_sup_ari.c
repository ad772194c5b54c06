/* mod_acme: the supervisor's ARI refresh (RFC 9773): the CA's renewal
 * windows for the lineages' current certificates, asked for through a
 * worker and recorded in their state. */
#include <string.h>

#include "acme_sup_int.h"
#include "acme_ari.h"
#include "acme_util.h"
#include "acme_worker.h"

/* A lineage's CertID and serial, computed once per pass. */
typedef struct {
    const char *id;
    const char *serial;
} cert_id_t;

/* The lineages to ask for, in step: their CertIDs, mds and serials. */
typedef struct {
    apr_array_header_t *ids;          /* const char * */
    apr_array_header_t *mds;          /* acme_md_t * */
    apr_array_header_t *serials;      /* const char * */
    apr_array_header_t *states;       /* acme_state_t *, the pass's */
} ari_ask_t;

/* The CertID of a lineage's current certificate, or NULL (no AKI, no
 * certificate); cached in `cache` (name -> cert_id_t) for the pass. */
static const char *lineage_cert_id(const acme_store_t *store,
                                   const char *name, const char **pserial,
                                   apr_hash_t *cache, apr_pool_t *p)
{
    cert_id_t *c = apr_hash_get(cache, name, APR_HASH_KEY_STRING);
    acme_lineage_t *l;
    apr_pool_t *tp;

    if (!c) {
        /* the parsed lineage is dropped at once: only two strings stay */
        c = apr_pcalloc(p, sizeof(*c));
        apr_pool_create(&tp, p);
        if (acme_store_lineage_load(&l, store, name, tp, NULL) == APR_SUCCESS
            && l->ari_cert_id) {
            c->id = apr_pstrdup(p, l->ari_cert_id);
            c->serial = apr_pstrdup(p, l->serial);
        }
        apr_pool_destroy(tp);
        apr_hash_set(cache, apr_pstrdup(p, name), APR_HASH_KEY_STRING, c);
    }
    *pserial = c->serial;
    return c->id;
}

/* Which lineages need asking: those with a certificate whose recorded
 * window is missing, for an older certificate, or past its next_fetch. */
static void ari_wanted(ari_ask_t *ask, acme_store_t *store,
                       acme_sup_conf_t *conf, apr_time_t now,
                       apr_hash_t *ids_cache, acme_state_t **states,
                       apr_pool_t *p)
{
    int i;

    ask->ids = apr_array_make(p, 4, sizeof(const char *));
    ask->mds = apr_array_make(p, 4, sizeof(acme_md_t *));
    ask->serials = apr_array_make(p, 4, sizeof(const char *));
    ask->states = apr_array_make(p, 4, sizeof(acme_state_t *));
    for (i = 0; i < conf->mds->nelts; i++) {
        acme_md_t *md = APR_ARRAY_IDX(conf->mds, i, acme_md_t *);
        const char *serial = NULL, *id;
        acme_state_t *st;

        if (conf->index->skip[i]) {
            continue;                /* its window was fresh last pass */
        }
        id = lineage_cert_id(store, md->name, &serial, ids_cache, p);
        if (!id) {
            continue;
        }
        /* read once a pass: the decision takes it from states[i] */
        acme_state_load(&st, store, md->name, p, NULL);
        states[i] = st;
        if (!acme_state_ari_for(st, id)
            || apr_time_sec(st->ari.next_fetch) <= apr_time_sec(now)) {
            APR_ARRAY_PUSH(ask->ids, const char *) = id;
            APR_ARRAY_PUSH(ask->mds, acme_md_t *) = md;
            APR_ARRAY_PUSH(ask->serials, const char *) = serial;
            APR_ARRAY_PUSH(ask->states, acme_state_t *) = st;
        }
    }
}

/* The worker call: the CA's answer for ask->ids (no account involved:
 * unauthenticated GETs), or NULL when there is none (logged). */
static acme_worker_res_t *ari_ask(acme_workpool_t *wp,
                                  const acme_sup_conf_t *conf,
                                  const ari_ask_t *ask, apr_pool_t *p)
{
    acme_task_t *task = acme_sup_ari_run(wp, conf, ask->ids, p);
    acme_worker_res_t *wres = NULL;
    acme_err_t err;

    if (task->failure || !task->result
        || acme_worker_res_parse(&wres, p, task->result,
                                 strlen(task->result), &err) != APR_SUCCESS
        || !wres->a.ok) {
        acme_log(ACME_LOG_WARN, "renewal information (ARI) unavailable: %s",
                 task->failure ? task->failure
                 : !task->result ? "no answer"
                 : wres && wres->a.error ? wres->a.error : "malformed answer");
        wres = NULL;
    }
    return wres;
}

/* Reads one window of the CA's answer (w); 0 when it has none (logged). */
static int ari_window(acme_ari_window_t *win, const acme_md_t *md, json_t *w)
{
    const char *error = json_string_value(json_object_get(w, "error"));

    memset(win, 0, sizeof(*win));
    if (!json_is_object(w) || json_object_get(w, "error")
        || acme_ari_parse_time(&win->start, json_string_value(
               json_object_get(w, "start"))) != APR_SUCCESS
        || acme_ari_parse_time(&win->end, json_string_value(
               json_object_get(w, "end"))) != APR_SUCCESS) {
        acme_log(ACME_LOG_WARN, "%s: no renewal window from the CA: %s",
                 md->name, error ? error : "missing");
        return 0;
    }
    win->explanation_url = json_string_value(json_object_get(w,
                                              "explanation"));
    win->retry_after = apr_time_from_sec(json_integer_value(
                           json_object_get(w, "retry_after")));
    return 1;
}

/* Records one window (the CA's answer w for CertID id) in md's state: the
 * same window keeps its chosen time, a new one gets one picked in it. */
static void ari_record(acme_store_t *store, const acme_md_t *md,
                       acme_state_t *st, const char *id, const char *serial,
                       json_t *w, apr_time_t now, apr_pool_t *p)
{
    acme_ari_window_t win;
    apr_time_t chosen;

    if (!ari_window(&win, md, w)) {
        return;
    }
    if (acme_state_ari_for(st, id)
        && apr_time_sec(st->ari.start) == apr_time_sec(win.start)
        && apr_time_sec(st->ari.end) == apr_time_sec(win.end)) {
        chosen = st->ari.chosen;
    }
    else if (acme_ari_choose(&chosen, &win, now, p, NULL) != APR_SUCCESS) {
        return;
    }
    memset(&st->ari, 0, sizeof(st->ari));
    st->ari.cert_id = id;
    st->ari.serial = serial;
    st->ari.start = win.start;
    st->ari.end = win.end;
    st->ari.chosen = chosen;
    st->ari.next_fetch = now + (win.retry_after > 0 ? win.retry_after
                                : ACME_ARI_RETRY_DEFAULT);
    st->ari.explanation = win.explanation_url ? apr_pstrdup(p,
        win.explanation_url) : NULL;
    acme_state_save(store, st, 1, p, NULL);
    acme_log(ACME_LOG_INFO, "%s: the CA suggests renewing between %s and "
             "%s; chosen %s", md->name, acme_iso_time(p, win.start),
             acme_iso_time(p, win.end), acme_iso_time(p, chosen));
}

void acme_sup_ari_refresh(acme_store_t *store, acme_sup_conf_t *conf,
                          acme_workpool_t *wp, apr_time_t now,
                          apr_hash_t *ids_cache, acme_state_t **states,
                          apr_time_t *pari_until, apr_pool_t *p)
{
    acme_worker_res_t *wres;
    acme_state_ca_t *global;
    json_t *windows = NULL;
    ari_ask_t ask;
    int i;

    /* a CA without renewalInfo is asked again daily, not every pass */
    *pari_until = 0;
    acme_state_ca_load(&global, store, p);
    if (global->ca && !strcmp(global->ca, conf->ca_url)
        && apr_time_sec(global->unsupported_until) > apr_time_sec(now)) {
        *pari_until = global->unsupported_until;
        goto cleanup;
    }
    ari_wanted(&ask, store, conf, now, ids_cache, states, p);
    if (!ask.ids->nelts || !(wres = ari_ask(wp, conf, &ask, p))) {
        goto cleanup;
    }
    if (!wres->ari) {
        global->ca = conf->ca_url;
        global->unsupported_until = now + ACME_SUP_DAY;
        acme_state_ca_save(store, global, p);
        *pari_until = now + ACME_SUP_DAY;
        goto cleanup;
    }
    windows = json_loads(wres->windows ? wres->windows : "{}", 0, NULL);
    for (i = 0; i < ask.ids->nelts; i++) {
        const char *id = APR_ARRAY_IDX(ask.ids, i, const char *);
        ari_record(store, APR_ARRAY_IDX(ask.mds, i, acme_md_t *),
                   APR_ARRAY_IDX(ask.states, i, acme_state_t *), id,
                   APR_ARRAY_IDX(ask.serials, i, const char *),
                   json_object_get(windows, id), now, p);
    }
cleanup:
    if (windows) json_decref(windows);
}
