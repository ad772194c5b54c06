/* Unit tests: the duplicate-certificate guard, in memory (a supervisor
 * pass) and through the store (acmectl). */
#include <stdlib.h>
#include <string.h>

#include "acme_test.h"
#include "acme_ratelimit.h"
#include "acme_util.h"

static apr_array_header_t *set(apr_pool_t *p, const char *a, const char *b)
{
    apr_array_header_t *n = apr_array_make(p, 2, sizeof(const char *));
    APR_ARRAY_PUSH(n, const char *) = a;
    if (b) APR_ARRAY_PUSH(n, const char *) = b;
    return n;
}

static void test_guard(apr_pool_t *p)
{
    char dir[] = "/tmp/acme-unit-rl-XXXXXX";
    apr_time_t now = apr_time_now();
    acme_store_t *s;
    acme_dup_guard_t *g;
    acme_err_t err;
    int i;

    ACME_CHECK(mkdtemp(dir) != NULL, "temp dir");
    ACME_CHECK_RV(acme_store_open(&s, p, dir, 1, NULL));
    g = acme_dup_guard_open(s, p);
    /* one old issuance, outside the window: does not count */
    acme_dup_guard_note(g, set(p, "a.example", "b.example"),
                        now - ACME_DUP_WINDOW - apr_time_from_sec(60), p);
    for (i = 0; i < ACME_DUP_MAX; i++) {
        ACME_CHECK(acme_dup_guard_test(g, set(p, "a.example", "b.example"),
                                       now, p, &err) == APR_SUCCESS,
                   "issuance %d allowed", i + 1);
        acme_dup_guard_note(g, set(p, "a.example", "b.example"), now, p);
    }
    ACME_CHECK(acme_dup_guard_test(g, set(p, "B.example", "a.example"), now,
                                   p, &err) != APR_SUCCESS
               && strstr(err.msg, "5 certificates"),
               "the sixth for the same set (any order, any case) is refused");
    ACME_CHECK(acme_dup_guard_test(g, set(p, "a.example", NULL), now, p,
                                   &err) == APR_SUCCESS,
               "another set is not");
    /* nothing is written before save; then the store says the same */
    ACME_CHECK(acme_dup_guard_check(s, set(p, "a.example", "b.example"), now,
                                    p, &err) == APR_SUCCESS,
               "not written before save");
    ACME_CHECK_RV(acme_dup_guard_save(g, now, p));
    ACME_CHECK(acme_dup_guard_check(s, set(p, "a.example", "b.example"), now,
                                    p, &err) != APR_SUCCESS,
               "written by save");
    /* a week later the set is free again */
    ACME_CHECK(acme_dup_guard_check(s, set(p, "a.example", "b.example"),
                                    now + ACME_DUP_WINDOW
                                    + apr_time_from_sec(60), p, &err)
               == APR_SUCCESS, "free after the window");
}

int main(void)
{
    ACME_TEST_RUN(test_guard);
    return ACME_TEST_DONE();
}
