/* mod_acme unit tests: a minimal TAP-style harness.
 *
 * Each test_*.c is one executable: it defines test functions and a main()
 * that calls ACME_TEST_RUN(fn) for each, then returns ACME_TEST_DONE().
 * Every check prints "ok" or "not ok" with the file and line; the runner
 * (test/run-unit.sh) adds up the "# passed N failed M" trailers.
 */
#ifndef ACME_TEST_H
#define ACME_TEST_H

#include <stdio.h>
#include <string.h>
#include <apr_general.h>
#include <apr_pools.h>
#include "acme_common.h"

static int acme_test_passed, acme_test_failed;
static apr_pool_t *acme_test_pool;   /* cleared before each test */

#define ACME_CHECK(cond, ...) do {                                       \
    if (cond) { acme_test_passed++; }                                    \
    else {                                                               \
        acme_test_failed++;                                              \
        printf("not ok - %s:%d: %s: ", __FILE__, __LINE__, #cond);       \
        printf(__VA_ARGS__); printf("\n");                               \
    }                                                                    \
} while (0)

#define ACME_CHECK_STR(a, b) do {                                        \
    const char *a_ = (a), *b_ = (b);                                     \
    ACME_CHECK(a_ && b_ && strcmp(a_, b_) == 0, "'%s' != '%s'",          \
               a_ ? a_ : "(null)", b_ ? b_ : "(null)");                  \
} while (0)

#define ACME_CHECK_RV(rv) do {                                           \
    apr_status_t rv_ = (rv);                                             \
    ACME_CHECK(rv_ == APR_SUCCESS, "status %d", rv_);                    \
} while (0)

static void acme_test_init(void)
{
    apr_initialize();
    apr_pool_create(&acme_test_pool, NULL);
    acme_init(acme_test_pool);
}

#define ACME_TEST_RUN(fn) do {                                           \
    int f0_ = acme_test_failed;                                          \
    if (!acme_test_pool) acme_test_init();                               \
    apr_pool_clear(acme_test_pool);                                      \
    fn(acme_test_pool);                                                  \
    printf("%s - %s\n", acme_test_failed == f0_ ? "ok" : "not ok", #fn); \
} while (0)

#define ACME_TEST_DONE()                                                 \
    (printf("# passed %d failed %d\n", acme_test_passed, acme_test_failed), \
     acme_test_failed ? 1 : 0)

#endif
