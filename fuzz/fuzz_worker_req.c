/* acme_worker_req_parse (what the worker reads on stdin); a parsed request
 * is formatted and parsed again. */
#include "fuzz_common.h"
#include "acme_worker.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    acme_worker_req_t *req = NULL, *again = NULL;
    acme_err_t err;
    char *s = fuzz_str(p, data, size);
    memset(&err, 0, sizeof(err));
    if (acme_worker_req_parse(&req, p, s, size, &err) == APR_SUCCESS && req) {
        const char *t = acme_worker_req_format(p, req);
        if (t) acme_worker_req_parse(&again, p, t, strlen(t), &err);
    }
    apr_pool_destroy(p);
    return 0;
}
