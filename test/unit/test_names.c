/* Unit tests: src/acme_names.c */
#include "acme_test.h"
#include "acme_names.h"

/* Checks that name is rejected with ACME_EINVAL, a message naming it, and
 * containing `why`. */
static void check_rejected(apr_pool_t *p, const char *name, const char *why,
                           int line)
{
    acme_err_t err = { 0 };
    const char *norm = "unset";
    apr_status_t rv = acme_name_check(&norm, p, name, &err);

    ACME_CHECK(rv == ACME_EINVAL, "line %d: '%s' not rejected (rv %d)", line,
               name, rv);
    ACME_CHECK(norm == NULL, "line %d: '%s' left a result", line, name);
    ACME_CHECK(err.msg && strstr(err.msg, why), "line %d: '%s': message '%s' "
               "lacks '%s'", line, name, err.msg ? err.msg : "(null)", why);
    if (*name && strlen(name) < 60 && !strpbrk(name, "\xc3\xa4")) {
        ACME_CHECK(err.msg && strstr(err.msg, name), "line %d: message '%s' "
                   "does not name '%s'", line, err.msg ? err.msg : "", name);
    }
}
#define REJECT(n, why) check_rejected(p, (n), (why), __LINE__)

static const char *accepted(apr_pool_t *p, const char *name)
{
    acme_err_t err = { 0 };
    const char *norm = NULL;
    apr_status_t rv = acme_name_check(&norm, p, name, &err);

    ACME_CHECK(rv == APR_SUCCESS, "'%s' rejected: %s", name,
               err.msg ? err.msg : "(no message)");
    return norm;
}

static void test_name_rejections(apr_pool_t *p)
{
    char label64[65], longname[300];
    int i;

    REJECT("exa mple.org", "invalid character ' '");
    REJECT("exa_mple.org", "invalid character '_'");
    REJECT("exämple.org", "invalid character");
    REJECT("a/b.org", "invalid character '/'");
    REJECT("*.*.org", "wildcard");
    REJECT("a.*.org", "wildcard");
    REJECT("*a.example.org", "wildcard");
    REJECT("a*.example.org", "wildcard");
    REJECT("*.org", "two labels");
    REJECT("a..org", "empty label");
    REJECT(".a.org", "empty label");
    REJECT("a.org.", "empty label");
    REJECT("localhost", "two labels");
    REJECT("-a.example.org", "'-'");
    REJECT("a-.example.org", "'-'");
    REJECT("a.example.-org", "'-'");
    REJECT("", "empty");

    memset(label64, 'a', 64);
    label64[64] = '\0';
    REJECT(apr_pstrcat(p, label64, ".org", NULL), "at most 63");
    /* 63 is fine */
    accepted(p, apr_pstrcat(p, label64 + 1, ".org", NULL));

    /* 254 characters: labels of 49 + dots */
    longname[0] = '\0';
    for (i = 0; i < 5; i++) {
        strcat(longname, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.");
    }
    strcat(longname, "org");           /* 5 * 50 + 3 = 253 */
    ACME_CHECK(strlen(longname) == 253, "len %d", (int)strlen(longname));
    accepted(p, longname);
    REJECT(apr_pstrcat(p, "a", longname, NULL), "at most 253");
}

static void test_name_acceptance(apr_pool_t *p)
{
    ACME_CHECK_STR(accepted(p, "Example.ORG"), "example.org");
    ACME_CHECK_STR(accepted(p, "www.example.org"), "www.example.org");
    ACME_CHECK_STR(accepted(p, "*.Example.org"), "*.example.org");
    ACME_CHECK_STR(accepted(p, "xn--bcher-kva.example"), "xn--bcher-kva.example");
    ACME_CHECK_STR(accepted(p, "a-b.c-d.org"), "a-b.c-d.org");
    ACME_CHECK_STR(accepted(p, "1.example.org"), "1.example.org");
    ACME_CHECK_STR(accepted(p, "192.0.2.1"), "192.0.2.1");
    ACME_CHECK_STR(accepted(p, "2001:db8::1"), "2001:db8::1");
    ACME_CHECK_STR(accepted(p, "::1"), "::1");
    /* a colon that is not an IPv6 literal is refused */
    REJECT("example.org:443", "invalid character ':'");
}

static void test_wildcard(apr_pool_t *p)
{
    ACME_CHECK(acme_name_is_wildcard("*.example.org"), "wildcard");
    ACME_CHECK(!acme_name_is_wildcard("example.org"), "not wildcard");
    ACME_CHECK(!acme_name_is_wildcard("*example.org"), "not wildcard");
    ACME_CHECK(!acme_name_is_wildcard(""), "empty");

    ACME_CHECK(acme_name_matches("*.example.org", "a.example.org"), "a.");
    ACME_CHECK(acme_name_matches("*.example.org", "A.Example.org"), "case");
    ACME_CHECK(!acme_name_matches("*.example.org", "example.org"), "apex");
    ACME_CHECK(!acme_name_matches("*.example.org", "a.b.example.org"), "2");
    ACME_CHECK(!acme_name_matches("*.example.org", "aexample.org"), "glued");
    ACME_CHECK(!acme_name_matches("*.example.org", "a.example.com"), "com");
    ACME_CHECK(acme_name_matches("*.example.org", "*.example.org"), "same");
    ACME_CHECK(acme_name_matches("example.org", "EXAMPLE.org"), "equal");
    ACME_CHECK(!acme_name_matches("example.org", "a.example.org"), "no wc");
    ACME_CHECK(!acme_name_matches("a.example.org", "*.example.org"), "rev");
}

static apr_array_header_t *list(apr_pool_t *p, const char *const *names)
{
    apr_array_header_t *a = apr_array_make(p, 4, sizeof(const char *));

    for (; *names; names++) {
        APR_ARRAY_PUSH(a, const char *) = *names;
    }
    return a;
}

static void test_names_equal(apr_pool_t *p)
{
    static const char *const a[] = { "a.org", "b.org", "*.c.org", NULL };
    static const char *const b[] = { "*.c.org", "A.org", "b.org", NULL };
    static const char *const c[] = { "a.org", "b.org", NULL };
    static const char *const d[] = { "a.org", "b.org", "d.org", NULL };

    ACME_CHECK(acme_names_equal(list(p, a), list(p, b)), "a == b");
    ACME_CHECK(acme_names_equal(list(p, b), list(p, a)), "b == a");
    ACME_CHECK(!acme_names_equal(list(p, a), list(p, c)), "a != c (subset)");
    ACME_CHECK(!acme_names_equal(list(p, c), list(p, a)), "c != a");
    ACME_CHECK(!acme_names_equal(list(p, a), list(p, d)), "a != d");
}

static void test_names_check(apr_pool_t *p)
{
    static const char *const dup[] = { "Www.example.org", "example.org",
                                       "www.example.org", "EXAMPLE.ORG",
                                       NULL };
    static const char *const bad[] = { "example.org", "bad name.org", NULL };
    apr_array_header_t *in, *out = NULL;
    acme_err_t err = { 0 };
    apr_status_t rv;
    int i;

    rv = acme_names_check(&out, p, list(p, dup), &err);
    ACME_CHECK_RV(rv);
    ACME_CHECK(out && out->nelts == 2, "%d names", out ? out->nelts : -1);
    if (out && out->nelts == 2) {
        ACME_CHECK_STR(APR_ARRAY_IDX(out, 0, const char *), "www.example.org");
        ACME_CHECK_STR(APR_ARRAY_IDX(out, 1, const char *), "example.org");
    }

    rv = acme_names_check(&out, p, list(p, bad), &err);
    ACME_CHECK(rv == ACME_EINVAL, "bad list accepted");
    ACME_CHECK(err.msg && strstr(err.msg, "bad name.org"), "%s", err.msg);

    in = apr_array_make(p, 0, sizeof(const char *));
    acme_err_clear(&err);
    rv = acme_names_check(&out, p, in, &err);
    ACME_CHECK(rv == ACME_EINVAL, "empty list accepted");
    ACME_CHECK(err.msg != NULL, "no message for empty list");

    for (i = 0; i < 100; i++) {
        APR_ARRAY_PUSH(in, const char *) = apr_psprintf(p, "n%d.example.org",
                                                        i);
    }
    rv = acme_names_check(&out, p, in, &err);
    ACME_CHECK(rv == APR_SUCCESS && out && out->nelts == 100, "100 names");

    /* a duplicate does not count */
    APR_ARRAY_PUSH(in, const char *) = "N5.example.org";
    rv = acme_names_check(&out, p, in, &err);
    ACME_CHECK(rv == APR_SUCCESS && out && out->nelts == 100, "100 + dup");

    APR_ARRAY_PUSH(in, const char *) = "n100.example.org";
    acme_err_clear(&err);
    rv = acme_names_check(&out, p, in, &err);
    ACME_CHECK(rv == ACME_EINVAL, "101 names accepted");
    ACME_CHECK(err.msg && strstr(err.msg, "too many names: 101")
               && strstr(err.msg, "at most 100"), "%s", err.msg);
}

int main(void)
{
    ACME_TEST_RUN(test_name_rejections);
    ACME_TEST_RUN(test_name_acceptance);
    ACME_TEST_RUN(test_wildcard);
    ACME_TEST_RUN(test_names_equal);
    ACME_TEST_RUN(test_names_check);
    return ACME_TEST_DONE();
}
