/* Unit tests: acme_due_decide, the supervisor's decision for one lineage
 * (renew now, or not before a time, and why), from plain values. */
#include <string.h>

#include "acme_test.h"
#include "acme_due.h"

#define SEC(n) apr_time_from_sec(n)
#define NOW SEC(2000000000)
#define DAY SEC(86400)

/* An input at NOW with acme_sup_due's decision (due, when) and st. */
static acme_due_input_t input(acme_due_e due, apr_time_t when,
                              const acme_state_t *st)
{
    acme_due_input_t in;

    memset(&in, 0, sizeof(in));
    in.now = NOW;
    in.due = due;
    in.when = when;
    in.state = st;
    return in;
}

/* A state with an ARI window for CertID "id" whose chosen time is chosen. */
static acme_state_t *ari_state(apr_pool_t *p, apr_time_t chosen)
{
    acme_state_t *st = acme_state_make(p, "d.example.test");

    st->ari.cert_id = "id";
    st->ari.start = chosen - DAY;
    st->ari.end = chosen + DAY;
    st->ari.chosen = chosen;
    st->ari.next_fetch = NOW + SEC(3600);
    return st;
}

static void test_policy(apr_pool_t *p)
{
    acme_state_t *st = acme_state_make(p, "d.example.test");
    acme_due_input_t in = input(ACME_DUE_NO, NOW + 30 * DAY, st);
    acme_due_decision_t d;

    in.ari_until = NOW + DAY;
    acme_due_decide(&d, &in);
    ACME_CHECK(!d.renew && d.due == ACME_DUE_NO, "not due: %d", d.renew);
    ACME_CHECK(d.why == ACME_DUE_WHY_POLICY, "why %s",
               acme_due_why_name(d.why));
    ACME_CHECK(d.not_before == NOW + 30 * DAY, "not before the window");
    ACME_CHECK(d.ari_next == NOW + DAY && !d.replaces, "no ARI record");
    ACME_CHECK(!d.answers_request && !d.soon, "nothing else");

    in = input(ACME_DUE_WINDOW, NOW, st);
    acme_due_decide(&d, &in);
    ACME_CHECK(d.renew && d.due == ACME_DUE_WINDOW
               && d.why == ACME_DUE_WHY_POLICY, "window: renew");
    in = input(ACME_DUE_MISSING, NOW, st);
    acme_due_decide(&d, &in);
    ACME_CHECK(d.renew && d.due == ACME_DUE_MISSING, "missing: renew");
}

static void test_ari(apr_pool_t *p)
{
    acme_state_t *st = ari_state(p, NOW + 5 * DAY);
    acme_due_input_t in = input(ACME_DUE_NO, NOW + 30 * DAY, st);
    acme_due_decision_t d;

    /* the CA's later time wins over "not due" */
    in.cert_id = "id";
    acme_due_decide(&d, &in);
    ACME_CHECK(!d.renew && d.why == ACME_DUE_WHY_ARI, "ari: not yet (%s)",
               acme_due_why_name(d.why));
    ACME_CHECK(d.not_before == NOW + 5 * DAY, "not before chosen");
    ACME_CHECK(d.replaces && !strcmp(d.replaces, "id"), "replaces");
    ACME_CHECK(d.ari_next == NOW + SEC(3600), "ari_next is next_fetch");
    /* ... and over "window": a later chosen time holds it */
    in.due = ACME_DUE_WINDOW;
    acme_due_decide(&d, &in);
    ACME_CHECK(!d.renew && d.due == ACME_DUE_NO, "window: ARI holds it");
    /* chosen time passed: renew for ARI */
    st->ari.chosen = NOW - SEC(1);
    in.due = ACME_DUE_NO;
    acme_due_decide(&d, &in);
    ACME_CHECK(d.renew && d.due == ACME_DUE_ARI && d.why == ACME_DUE_WHY_ARI,
               "ari: renew (due %d)", d.due);
    /* the window decides nothing for names changed, but replaces stays */
    st->ari.chosen = NOW + 5 * DAY;
    in.due = ACME_DUE_NAMES;
    acme_due_decide(&d, &in);
    ACME_CHECK(d.renew && d.due == ACME_DUE_NAMES, "names come first");
    ACME_CHECK(d.replaces != NULL, "names: replaces");
    /* a record for another certificate is ignored */
    in.due = ACME_DUE_NO;
    in.cert_id = "other";
    in.ari_until = NOW + DAY;
    acme_due_decide(&d, &in);
    ACME_CHECK(!d.renew && d.why == ACME_DUE_WHY_POLICY && !d.replaces
               && d.ari_next == NOW + DAY && d.not_before == NOW + 30 * DAY,
               "older record ignored");
}

static void test_requested(apr_pool_t *p)
{
    acme_state_t *st = acme_state_make(p, "d.example.test");
    acme_due_input_t in = input(ACME_DUE_NO, NOW + 30 * DAY, st);
    acme_due_decision_t d;

    st->renew_requests = 2;
    st->renew_requests_done = 1;
    st->next_try = NOW + DAY;          /* backing off: asked anyway */
    acme_due_decide(&d, &in);
    ACME_CHECK(d.renew && d.due == ACME_DUE_REQUESTED
               && d.why == ACME_DUE_WHY_REQUESTED && d.answers_request,
               "requested: renew (%d, %s)", d.renew,
               acme_due_why_name(d.why));
    in.due = ACME_DUE_WINDOW;
    acme_due_decide(&d, &in);
    ACME_CHECK(d.renew && d.due == ACME_DUE_REQUESTED, "window too");
    st->renew_requests_done = 2;       /* answered */
    in.due = ACME_DUE_NO;
    acme_due_decide(&d, &in);
    ACME_CHECK(!d.renew && !d.answers_request, "answered: not due");
}

static void test_backoff_soon(apr_pool_t *p)
{
    acme_state_t *st = acme_state_make(p, "d.example.test");
    acme_due_input_t in = input(ACME_DUE_WINDOW, NOW, st);
    acme_due_decision_t d;

    st->next_try = NOW + SEC(600);
    acme_due_decide(&d, &in);
    ACME_CHECK(!d.renew && d.why == ACME_DUE_WHY_BACKOFF
               && d.not_before == NOW + SEC(600) && !d.soon,
               "backoff (%s)", acme_due_why_name(d.why));
    ACME_CHECK(d.due == ACME_DUE_WINDOW, "still due for the window");
    /* ends within the slack: soon in round 0, renewed in round 1 */
    st->next_try = NOW + ACME_DUE_BATCH_SLACK;
    acme_due_decide(&d, &in);
    ACME_CHECK(!d.renew && d.soon, "soon in round 0");
    in.round = 1;
    in.soon = 1;
    acme_due_decide(&d, &in);
    ACME_CHECK(d.renew && d.why == ACME_DUE_WHY_BATCH
               && d.due == ACME_DUE_WINDOW, "batched in round 1 (%s)",
               acme_due_why_name(d.why));
    /* round 1 without round 0's soon: still backing off, not soon */
    in.soon = 0;
    acme_due_decide(&d, &in);
    ACME_CHECK(!d.renew && !d.soon && d.why == ACME_DUE_WHY_BACKOFF,
               "round 1, not soon");
    /* the backoff is over */
    in.round = 0;
    st->next_try = NOW - SEC(1);
    acme_due_decide(&d, &in);
    ACME_CHECK(d.renew && d.why == ACME_DUE_WHY_POLICY, "backoff over");
}

static void test_subset(apr_pool_t *p)
{
    acme_state_t *st = acme_state_make(p, "d.example.test");
    acme_due_input_t in = input(ACME_DUE_NAMES, NOW, st);
    acme_due_decision_t d;

    st->dropped_names = "b.example.test";
    st->last_success = NOW - SEC(3600);
    in.allow_subset = 1;
    acme_due_decide(&d, &in);
    ACME_CHECK(!d.renew && d.why == ACME_DUE_WHY_SUBSET
               && d.not_before == st->last_success + DAY,
               "subset: daily (%s)", acme_due_why_name(d.why));
    st->last_success = NOW - DAY;
    acme_due_decide(&d, &in);
    ACME_CHECK(d.renew && d.due == ACME_DUE_NAMES, "subset: a day later");
    st->last_success = NOW - SEC(3600);
    in.allow_subset = 0;
    acme_due_decide(&d, &in);
    ACME_CHECK(d.renew, "no ACMEAllowSubsetOfNames: at once");
    in.allow_subset = 1;
    st->dropped_names = "";
    acme_due_decide(&d, &in);
    ACME_CHECK(d.renew, "nothing dropped: at once");
}

static void test_holdback(apr_pool_t *p)
{
    acme_state_t *st = acme_state_make(p, "d.example.test");
    acme_due_input_t in = input(ACME_DUE_WINDOW, NOW, st);
    acme_due_decision_t d;

    st->last_success = NOW - SEC(60);
    st->due_reason = acme_due_name(ACME_DUE_WINDOW);
    acme_due_decide(&d, &in);
    ACME_CHECK(!d.renew && d.why == ACME_DUE_WHY_HOLDBACK
               && d.not_before == st->last_success
                                  + ACME_DUE_MIN_RENEW_INTERVAL,
               "hold-back after a window renewal (%s)",
               acme_due_why_name(d.why));
    st->due_reason = acme_due_name(ACME_DUE_ARI);
    acme_due_decide(&d, &in);
    ACME_CHECK(!d.renew && d.why == ACME_DUE_WHY_HOLDBACK, "after ARI");
    st->due_reason = acme_due_name(ACME_DUE_MISSING);
    acme_due_decide(&d, &in);
    ACME_CHECK(d.renew, "a first issuance holds nothing back");
    st->due_reason = acme_due_name(ACME_DUE_WINDOW);
    st->last_success = NOW - ACME_DUE_MIN_RENEW_INTERVAL;
    acme_due_decide(&d, &in);
    ACME_CHECK(d.renew, "an hour later: renew");
}

/* Certbot's intervals: every unit, sums, bare days, calendar months. */
static void test_interval(apr_pool_t *p)
{
    apr_interval_time_t d = 0;
    apr_time_t jan31, base;
    acme_renewal_conf_t *conf;
    const long day = 86400;

    base = apr_time_from_sec(1767225600);     /* 2026-01-01T00:00:00Z */
    ACME_CHECK_RV(acme_due_interval(&d, "30 days", base));
    ACME_CHECK(d == apr_time_from_sec(30 * day), "30 days");
    ACME_CHECK_RV(acme_due_interval(&d, "2 weeks", base));
    ACME_CHECK(d == apr_time_from_sec(14 * day), "2 weeks");
    ACME_CHECK_RV(acme_due_interval(&d, "12 hours", base));
    ACME_CHECK(d == apr_time_from_sec(12 * 3600), "12 hours");
    ACME_CHECK_RV(acme_due_interval(&d, "90 minutes", base));
    ACME_CHECK(d == apr_time_from_sec(90 * 60), "90 minutes");
    ACME_CHECK_RV(acme_due_interval(&d, "3600 seconds", base));
    ACME_CHECK(d == apr_time_from_sec(3600), "3600 seconds");
    ACME_CHECK_RV(acme_due_interval(&d, "10", base));
    ACME_CHECK(d == apr_time_from_sec(10 * day), "a bare number is days");
    ACME_CHECK_RV(acme_due_interval(&d, "1 week 2 days", base));
    ACME_CHECK(d == apr_time_from_sec(9 * day), "a sum");
    ACME_CHECK_RV(acme_due_interval(&d, "1 month", base));
    ACME_CHECK(d == apr_time_from_sec(31 * day), "January has 31 days");
    ACME_CHECK_RV(acme_due_interval(&d, "1 year", base));
    ACME_CHECK(d == apr_time_from_sec(365 * day), "2026 has 365 days");
    ACME_CHECK_RV(acme_due_interval(&d, "100 years", base));
    ACME_CHECK(d > apr_time_from_sec(36500 * day), "100 years");
    ACME_CHECK(acme_due_interval(&d, "2 fortnights", base) == ACME_EINVAL,
               "unknown unit");
    ACME_CHECK(acme_due_interval(&d, "days", base) == ACME_EINVAL,
               "no number");
    ACME_CHECK(acme_due_interval(&d, "", base) == ACME_EINVAL, "empty");
    jan31 = base + apr_time_from_sec(30 * day);
    ACME_CHECK_RV(acme_due_interval(&d, "1 month", jan31));
    ACME_CHECK(d >= apr_time_from_sec(28 * day)
               && d <= apr_time_from_sec(31 * day), "from January 31");
    conf = acme_renewal_conf_make(p);
    ACME_CHECK(acme_due_renew_before(conf, base) == 0, "absent");
    apr_table_set(conf->top, "renew_before_expiry", "2 weeks");
    ACME_CHECK(acme_due_renew_before(conf, base)
               == apr_time_from_sec(14 * day), "from the conf");
    apr_table_set(conf->top, "renew_before_expiry", "soon");
    ACME_CHECK(acme_due_renew_before(conf, base) == 0, "unreadable");
}

int main(void)
{
    ACME_TEST_RUN(test_interval);
    ACME_TEST_RUN(test_policy);
    ACME_TEST_RUN(test_ari);
    ACME_TEST_RUN(test_requested);
    ACME_TEST_RUN(test_backoff_soon);
    ACME_TEST_RUN(test_subset);
    ACME_TEST_RUN(test_holdback);
    return ACME_TEST_DONE();
}
