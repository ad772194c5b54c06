/* Unit tests: how a client paces its polls (acme_client_poll_wait and
 * acme_client_poll_learn): the first wait starts at poll_first, follows
 * what the CA took, shrinks when the first poll already found the work
 * done, grows at most to twice the last value (plus poll_first) so that
 * one slow answer does not slow every later order, ignores a clock that
 * went back, and never exceeds 10 s. */
#include "acme_test.h"
#include "acme_client.h"

#define MS(n) apr_time_from_msec(n)

static acme_client_t *client(apr_pool_t *p)
{
    acme_client_t *c = NULL;

    ACME_CHECK_RV(acme_client_create(&c, p, "https://localhost:1/dir",
                                     NULL, NULL));
    return c;
}

static void test_unknown(apr_pool_t *p)
{
    acme_client_t *c = client(p);

    ACME_CHECK(c->took_authz == 0 && c->took_order == 0,
               "a new client knows nothing of the CA's pace");
    ACME_CHECK(acme_client_poll_wait(c, 0) == c->poll_first,
               "first wait %" APR_TIME_T_FMT " us, want poll_first",
               acme_client_poll_wait(c, 0));
    ACME_CHECK(acme_client_poll_wait(c, MS(1)) == c->poll_first,
               "never shorter than poll_first");
    ACME_CHECK(acme_client_poll_wait(c, apr_time_from_sec(60))
               == apr_time_from_sec(10), "at most 10 s");
}

static void test_slow_start_is_not_learned(apr_pool_t *p)
{
    acme_client_t *c = client(p);
    apr_interval_time_t l = 0;

    /* the first order took 400 ms and 6 polls (httpd was starting) */
    l = acme_client_poll_learn(c, l, MS(400), 6);
    ACME_CHECK(l == c->poll_first, "learned %" APR_TIME_T_FMT " us after "
               "one slow answer, want poll_first", l);
    /* a CA that really takes 40 ms is reached in a few orders */
    l = acme_client_poll_learn(c, l, MS(40), 2);
    ACME_CHECK(l == 3 * c->poll_first, "then %" APR_TIME_T_FMT " us", l);
    l = acme_client_poll_learn(c, l, MS(40), 2);
    ACME_CHECK(l == 7 * c->poll_first, "then %" APR_TIME_T_FMT " us", l);
    l = acme_client_poll_learn(c, l, MS(40), 2);
    ACME_CHECK(l == MS(40), "then %" APR_TIME_T_FMT " us, want 40 ms", l);
    ACME_CHECK(acme_client_poll_wait(c, l) == MS(40), "first wait 40 ms");
}

static void test_shrinks_when_first_poll_finds_it_done(apr_pool_t *p)
{
    acme_client_t *c = client(p);
    apr_interval_time_t l = MS(40);
    int i;

    l = acme_client_poll_learn(c, l, MS(40), 1);
    ACME_CHECK(l == MS(30), "learned %" APR_TIME_T_FMT " us, want 30 ms", l);
    /* a CA that became fast: the wait comes down to poll_first */
    for (i = 0; i < 30; i++) {
        l = acme_client_poll_learn(c, l, acme_client_poll_wait(c, l), 1);
    }
    ACME_CHECK(acme_client_poll_wait(c, l) == c->poll_first,
               "first wait %" APR_TIME_T_FMT " us after 30 quick answers",
               acme_client_poll_wait(c, l));
}

/* a second authorization, answered long before it is polled, finds it
 * done at its first poll: its inflated time is capped too; a clock that
 * went back teaches nothing */
static void test_first_poll_capped(apr_pool_t *p)
{
    acme_client_t *c = client(p);
    apr_interval_time_t l = 0;

    l = acme_client_poll_learn(c, l, MS(400), 1);
    ACME_CHECK(l == c->poll_first, "learned %" APR_TIME_T_FMT " us after "
               "a 400 ms first poll, want poll_first", l);
    l = acme_client_poll_learn(c, MS(20), -MS(1000), 2);
    ACME_CHECK(l == MS(20), "clock back: learned %" APR_TIME_T_FMT " us", l);
}

int main(void)
{
    ACME_TEST_RUN(test_unknown);
    ACME_TEST_RUN(test_slow_start_is_not_learned);
    ACME_TEST_RUN(test_shrinks_when_first_poll_finds_it_done);
    ACME_TEST_RUN(test_first_poll_capped);
    return ACME_TEST_DONE();
}
