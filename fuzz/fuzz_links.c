/* acme_http_links and acme_http_retry_after on a fake response: every
 * input line is one Link header value; the first is also Retry-After. */
#include "fuzz_common.h"
#include "acme_http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    acme_http_resp_t resp;
    apr_array_header_t *lines = fuzz_lines(p, fuzz_str(p, data, size), size);
    int i;
    memset(&resp, 0, sizeof(resp));
    resp.status = 200;
    resp.headers = apr_table_make(p, 4);
    resp.body = "";
    resp.url = "https://ca.test:14000/acme/cert/1?x=1";
    for (i = 0; i < lines->nelts; i++) {
        apr_table_add(resp.headers, "link", APR_ARRAY_IDX(lines, i, const char *));
    }
    if (lines->nelts) {
        apr_table_set(resp.headers, "retry-after", APR_ARRAY_IDX(lines, 0, const char *));
    }
    acme_http_links(p, &resp, "up");
    acme_http_links(p, &resp, "alternate");
    acme_http_links(p, &resp, "index");
    acme_http_retry_after(&resp);
    acme_http_header(&resp, "Link");
    apr_pool_destroy(p);
    return 0;
}
