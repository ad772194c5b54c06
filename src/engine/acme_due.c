/* mod_acme: the renewal policy: when a managed certificate is due. */
#include <stdlib.h>
#include <string.h>

#include "acme_due.h"
#include "acme_state.h"
#include "acme_names.h"
#include "acme_util.h"

#define DAY apr_time_from_sec(86400)

const char *acme_due_name(acme_due_e due)
{
    switch (due) {
    case ACME_DUE_NO: return "not due";
    case ACME_DUE_MISSING: return "missing";
    case ACME_DUE_NAMES: return "names changed";
    case ACME_DUE_WINDOW: return "renew window";
    case ACME_DUE_EXPIRED: return "expired";
    case ACME_DUE_KEYTYPE: return "key type changed";
    case ACME_DUE_CA: return "CA changed";
    case ACME_DUE_REVOKED: return "revoked";
    case ACME_DUE_ARI: return "ari";
    case ACME_DUE_REQUESTED: return "requested";
    }
    return "?";
}

apr_interval_time_t acme_sup_backoff(int failures)
{
    apr_interval_time_t base;

    if (failures <= 0) {
        return 0;
    }
    switch (failures) {
    case 1: base = apr_time_from_sec(60); break;
    case 2: base = apr_time_from_sec(600); break;
    case 3: base = apr_time_from_sec(6000); break;
    default: base = DAY; break;
    }
    return base + (apr_interval_time_t)acme_random_uniform(
        (apr_uint32_t)(apr_time_sec(base) / 10 + 1)) * APR_USEC_PER_SEC;
}

acme_due_e acme_sup_due(apr_time_t *pwhen, const acme_store_t *store,
                        const acme_md_t *md, apr_time_t now, apr_pool_t *p)
{
    acme_lineage_t *l;

    if (acme_store_lineage_load(&l, store, md->name, p, NULL) != APR_SUCCESS) {
        l = NULL;
    }
    return acme_sup_due_lineage(pwhen, store, md, l, NULL, now, p);
}

acme_due_e acme_sup_due_lineage(apr_time_t *pwhen, const acme_store_t *store,
                                const acme_md_t *md, const acme_lineage_t *l,
                                const acme_state_t *st, apr_time_t now,
                                apr_pool_t *p)
{
    apr_interval_time_t life, before;

    *pwhen = now;
    if (!l) {
        return ACME_DUE_MISSING;
    }
    if (!acme_names_equal(l->names, md->names)) {
        return ACME_DUE_NAMES;
    }
    if (l->key_type >= 0 && (acme_key_type_e)l->key_type != md->key_type) {
        return ACME_DUE_KEYTYPE;
    }
    if (md->ca_url && l->conf && apr_table_get(l->conf->params, "server")
        && strcmp(apr_table_get(l->conf->params, "server"), md->ca_url)) {
        return ACME_DUE_CA;
    }
    if (!st) {
        acme_state_t *loaded;
        acme_state_load(&loaded, store, md->name, p, NULL);
        st = loaded;
    }
    if (acme_state_revoked(st, l->serial)) {
        return ACME_DUE_REVOKED;
    }
    if (l->not_after <= now) {
        return ACME_DUE_EXPIRED;
    }
    life = l->not_after - l->not_before;
    if (md->renew_abs > 0) {
        before = md->renew_abs;
    }
    else if (md->renew_pct > 0) {
        before = life / 100 * md->renew_pct;
    }
    else {
        before = life < 10 * DAY ? life / 2 : life / 3;
    }
    *pwhen = l->not_after - before;
    return *pwhen <= now ? ACME_DUE_WINDOW : ACME_DUE_NO;
}

void acme_sup_key_params(apr_table_t *params, acme_key_type_e type)
{
    switch (type) {
    case ACME_KEY_EC256:
    case ACME_KEY_EC384:
        apr_table_set(params, "key_type", "ecdsa");
        apr_table_set(params, "elliptic_curve", type == ACME_KEY_EC256
                      ? "secp256r1" : "secp384r1");
        break;
    default:
        apr_table_set(params, "key_type", "rsa");
        apr_table_set(params, "rsa_key_size", type == ACME_KEY_RSA2048
                      ? "2048" : type == ACME_KEY_RSA3072 ? "3072" : "4096");
        break;
    }
}

const char *acme_due_why_name(acme_due_why_e why)
{
    switch (why) {
    case ACME_DUE_WHY_POLICY: return "policy";
    case ACME_DUE_WHY_ARI: return "ari";
    case ACME_DUE_WHY_REQUESTED: return "requested";
    case ACME_DUE_WHY_BACKOFF: return "backoff";
    case ACME_DUE_WHY_BATCH: return "batch";
    case ACME_DUE_WHY_SUBSET: return "subset retry";
    case ACME_DUE_WHY_HOLDBACK: return "hold-back";
    }
    return "?";
}

/* Whether the last success was a renewal for the window or ARI (the only
 * ones the hold-back is for; a first issuance is not). */
static int renewed_for_window(const acme_state_t *st)
{
    const char *r = st->due_reason;

    return r && (!strcmp(r, acme_due_name(ACME_DUE_WINDOW))
                 || !strcmp(r, acme_due_name(ACME_DUE_ARI)));
}

/* Not now: nothing to do before until. */
static void due_hold(acme_due_decision_t *d, acme_due_why_e why,
                     apr_time_t until)
{
    d->renew = 0;
    d->why = why;
    d->not_before = until;
}

/* The recorded ARI window, when it is the current certificate's: it
 * replaces a "not due" / "window" decision (missing names, expiry, ...
 * come first). */
static void due_ari(acme_due_decision_t *d, apr_time_t *pwhen,
                    const acme_due_input_t *in)
{
    const acme_state_t *st = in->state;

    d->ari_next = in->ari_until;
    if (!acme_state_ari_for(st, in->cert_id)) {
        return;                  /* none, or for an older certificate */
    }
    d->replaces = in->cert_id;
    d->ari_next = st->ari.next_fetch;
    if (d->due == ACME_DUE_NO || d->due == ACME_DUE_WINDOW) {
        *pwhen = st->ari.chosen;
        d->due = st->ari.chosen <= in->now ? ACME_DUE_ARI : ACME_DUE_NO;
        d->why = ACME_DUE_WHY_ARI;
    }
}

void acme_due_decide(acme_due_decision_t *d, const acme_due_input_t *in)
{
    const acme_state_t *st = in->state;
    apr_time_t when = in->when, next_try = st->next_try;
    apr_time_t last_ok = st->last_success, now = in->now;

    memset(d, 0, sizeof(*d));
    d->due = in->due;
    d->why = ACME_DUE_WHY_POLICY;
    due_ari(d, &when, in);
    /* `acmectl renew --cert-name` asked for a renewal now, backoff or not */
    if (acme_state_renewal_requested(st)) {
        d->due = ACME_DUE_REQUESTED;
        d->why = ACME_DUE_WHY_REQUESTED;
        d->answers_request = 1;
        next_try = 0;
    }
    if (d->due == ACME_DUE_NO) {
        due_hold(d, d->why, when);
        return;
    }
    if (next_try > now && !(in->round == 1 && in->soon)) {
        d->soon = in->round == 0 && next_try - now <= ACME_DUE_BATCH_SLACK;
        due_hold(d, ACME_DUE_WHY_BACKOFF, next_try);
        return;
    }
    /* a subset issued for want of some names is retried for the full set
     * daily, not in every pass (each success restarts httpd) */
    if (d->due == ACME_DUE_NAMES && in->allow_subset && st->dropped_names
        && *st->dropped_names && last_ok + DAY > now) {
        due_hold(d, ACME_DUE_WHY_SUBSET, last_ok + DAY);
        return;
    }
    if (d->due == ACME_DUE_WINDOW && last_ok + ACME_DUE_MIN_RENEW_INTERVAL
        > now && renewed_for_window(st)) {
        due_hold(d, ACME_DUE_WHY_HOLDBACK,
                 last_ok + ACME_DUE_MIN_RENEW_INTERVAL);
        return;
    }
    if (next_try > now) {
        d->why = ACME_DUE_WHY_BATCH;    /* round 1: with the others */
    }
    d->renew = 1;
    d->not_before = now;
}

/* The unit a word names: seconds it stands for, or months (*pmonths). */
static int interval_unit(const char *w, apr_size_t len, apr_int64_t *psec,
                         int *pmonths)
{
    static const struct { const char *name; apr_int64_t sec; int months; }
    units[] = {
        { "second", 1, 0 }, { "sec", 1, 0 }, { "s", 1, 0 },
        { "minute", 60, 0 }, { "min", 60, 0 }, { "m", 60, 0 },
        { "hour", 3600, 0 }, { "h", 3600, 0 },
        { "day", 86400, 0 }, { "d", 86400, 0 },
        { "week", 7 * 86400, 0 }, { "w", 7 * 86400, 0 },
        { "month", 0, 1 }, { "year", 0, 12 }, { "y", 0, 12 },
    };
    apr_size_t i, n;

    if (len > 1 && w[len - 1] == 's' && len > 3) {
        len--;                       /* "days", "weeks", "months" */
    }
    for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        n = strlen(units[i].name);
        if (n == len && !strncasecmp(w, units[i].name, len)) {
            *psec = units[i].sec;
            *pmonths = units[i].months;
            return 1;
        }
    }
    return 0;
}

apr_status_t acme_due_interval(apr_interval_time_t *pint, const char *text,
                               apr_time_t base)
{
    const char *c = text;
    apr_int64_t secs = 0, usec, n;
    int months = 0, terms = 0, um;
    apr_time_exp_t tm;
    apr_time_t t;
    char *end;

    while (c && *c) {
        while (*c == ' ' || *c == '\t' || *c == ',') c++;
        if (!*c) break;
        n = (apr_int64_t)strtoll(c, &end, 10);
        if (end == c || n < 0 || n > 100000) {
            return ACME_EINVAL;
        }
        for (c = end; *c == ' ' || *c == '\t'; c++);
        end = (char *)c;
        while (*end && *end != ' ' && *end != '\t' && *end != ',') end++;
        if (end == c) {
            usec = 86400;            /* a bare number: days (Certbot) */
            um = 0;
        }
        else if (!interval_unit(c, (apr_size_t)(end - c), &usec, &um)) {
            return ACME_EINVAL;
        }
        secs += n * usec;
        months += (int)n * um;
        terms++;
        c = end;
    }
    if (!terms || apr_time_exp_gmt(&tm, base) != APR_SUCCESS) {
        return ACME_EINVAL;
    }
    tm.tm_year += (months + tm.tm_mon) / 12;
    tm.tm_mon = (months + tm.tm_mon) % 12;
    if (apr_time_exp_gmt_get(&t, &tm) != APR_SUCCESS) {
        return ACME_EINVAL;
    }
    *pint = t - base + apr_time_from_sec(secs);
    return APR_SUCCESS;
}

apr_interval_time_t acme_due_renew_before(const acme_renewal_conf_t *conf,
                                          apr_time_t now)
{
    const char *v = conf ? apr_table_get(conf->top, "renew_before_expiry")
                         : NULL;
    apr_interval_time_t before = 0;

    if (v && acme_due_interval(&before, v, now) != APR_SUCCESS) {
        acme_log(ACME_LOG_WARN, "renew_before_expiry = %s is not an interval "
                 "(e.g. \"30 days\"); the default applies", v);
        before = 0;
    }
    return before;
}
