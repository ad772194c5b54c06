/* Unit tests: ACME problem documents and HTTP answer parsing. */
#include "acme_test.h"
#include "acme_problem.h"
#include "acme_http.h"
#include <apr_date.h>
#include <apr_time.h>

static void test_problem_with_subproblems(apr_pool_t *p)
{
    const char *body =
        "{\"type\":\"urn:ietf:params:acme:error:malformed\","
        "\"detail\":\"Some of the identifiers requested were rejected\","
        "\"subproblems\":[{\"type\":\"urn:ietf:params:acme:error:malformed\","
        "\"detail\":\"Invalid underscore in DNS name\",\"identifier\":"
        "{\"type\":\"dns\",\"value\":\"_example.org\"}},"
        "{\"type\":\"urn:ietf:params:acme:error:rejectedIdentifier\","
        "\"detail\":\"This CA will not issue for this name\","
        "\"identifier\":{\"type\":\"dns\",\"value\":\"example.net\"}}]}";
    acme_err_t err;
    apr_status_t rv;

    rv = acme_problem_to_err(&err, p, 400, body, strlen(body), 0);
    ACME_CHECK(rv == ACME_EPROBLEM, "rv %d", rv);
    ACME_CHECK(strstr(err.msg, "malformed: Some of the identifiers") != NULL,
               "%s", err.msg);
    ACME_CHECK(strstr(err.msg, "_example.org: malformed: Invalid underscore")
               != NULL, "%s", err.msg);
    ACME_CHECK(strstr(err.msg, "example.net: rejectedIdentifier") != NULL,
               "%s", err.msg);
    ACME_CHECK(strchr(err.msg, '\n') == NULL, "one line: %s", err.msg);
    ACME_CHECK(acme_problem_is(&err, "malformed"), "type");
    ACME_CHECK(!acme_problem_is(&err, "badNonce"), "not badNonce");
}

static void test_problem_retry_after_and_types(apr_pool_t *p)
{
    const char *body = "{\"type\":\"urn:ietf:params:acme:error:rateLimited\","
                       "\"detail\":\"too many certificates\"}";
    acme_err_t err;

    acme_problem_to_err(&err, p, 429, body, strlen(body),
                        apr_time_from_sec(3600));
    ACME_CHECK(acme_problem_is(&err, "rateLimited"), "rateLimited");
    ACME_CHECK(err.retry_after == apr_time_from_sec(3600), "retry-after");
    ACME_CHECK_STR(err.msg, "rateLimited: too many certificates");
}

static void test_problem_not_json(apr_pool_t *p)
{
    const char *body = "<html>\n<body>Bad Gateway</body></html>";
    acme_err_t err;
    apr_status_t rv;

    rv = acme_problem_to_err(&err, p, 502, body, strlen(body), 0);
    ACME_CHECK(rv == ACME_EPROTO, "rv %d", rv);
    ACME_CHECK(strstr(err.msg, "HTTP 502") != NULL, "%s", err.msg);
    ACME_CHECK(strchr(err.msg, '\n') == NULL, "newlines folded: %s", err.msg);
    ACME_CHECK(err.problem_type == NULL, "no type");

    rv = acme_problem_to_err(&err, p, 500, "", 0, 0);
    ACME_CHECK_STR(err.msg, "HTTP 500");
    /* JSON that is no problem document */
    rv = acme_problem_to_err(&err, p, 500, "[1,2]", 5, 0);
    ACME_CHECK(rv == ACME_EPROTO, "array is no problem");
}

static acme_http_resp_t *resp_with(apr_pool_t *p, const char *url)
{
    acme_http_resp_t *r = apr_pcalloc(p, sizeof(*r));
    r->headers = apr_table_make(p, 4);
    r->url = url;
    r->body = "";
    return r;
}

static void test_links(apr_pool_t *p)
{
    acme_http_resp_t *r = resp_with(p, "https://ca.test/cert/abc");
    apr_array_header_t *alt;

    apr_table_add(r->headers, "link",
                  "<https://ca.test/dir>;rel=\"index\"");
    apr_table_add(r->headers, "link",
                  "<https://ca.test/cert/abc/1>;rel=\"alternate\", "
                  "</cert/abc/2>; rel=alternate");
    apr_table_add(r->headers, "link",
                  "<https://ca.test/x,y>;rel=\"up alternate\"");
    alt = acme_http_links(p, r, "alternate");
    ACME_CHECK(alt->nelts == 3, "%d links", alt->nelts);
    if (alt->nelts == 3) {
        ACME_CHECK_STR(APR_ARRAY_IDX(alt, 0, const char *),
                       "https://ca.test/cert/abc/1");
        ACME_CHECK_STR(APR_ARRAY_IDX(alt, 1, const char *),
                       "https://ca.test/cert/abc/2");
        ACME_CHECK_STR(APR_ARRAY_IDX(alt, 2, const char *),
                       "https://ca.test/x,y");
    }
    alt = acme_http_links(p, r, "index");
    ACME_CHECK(alt->nelts == 1, "index");
    alt = acme_http_links(p, r, "next");
    ACME_CHECK(alt->nelts == 0, "none");
}

static void test_retry_after(apr_pool_t *p)
{
    acme_http_resp_t *r = resp_with(p, "https://ca.test/");
    apr_interval_time_t d;
    char date[APR_RFC822_DATE_LEN];

    ACME_CHECK(acme_http_retry_after(r) == 0, "absent");
    apr_table_set(r->headers, "retry-after", "120");
    ACME_CHECK(acme_http_retry_after(r) == apr_time_from_sec(120), "secs");
    apr_table_set(r->headers, "retry-after", "soon");
    ACME_CHECK(acme_http_retry_after(r) == 0, "garbage");
    apr_rfc822_date(date, apr_time_now() + apr_time_from_sec(300));
    apr_table_set(r->headers, "retry-after", date);
    d = acme_http_retry_after(r);
    ACME_CHECK(d > apr_time_from_sec(290) && d <= apr_time_from_sec(300),
               "date: %ld", (long)apr_time_sec(d));
}

int main(void)
{
    ACME_TEST_RUN(test_problem_with_subproblems);
    ACME_TEST_RUN(test_problem_retry_after_and_types);
    ACME_TEST_RUN(test_problem_not_json);
    ACME_TEST_RUN(test_links);
    ACME_TEST_RUN(test_retry_after);
    return ACME_TEST_DONE();
}
