/* acme_worker_res_parse (what the supervisor reads from the worker); a
 * parsed result
 * is formatted and parsed again. */
#include "fuzz_common.h"
#include "acme_worker.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    acme_worker_res_t *res = NULL, *again = NULL;
    acme_err_t err;
    char *s = fuzz_str(p, data, size);
    memset(&err, 0, sizeof(err));
    if (acme_worker_res_parse(&res, p, s, size, &err) == APR_SUCCESS && res) {
        const char *t = acme_worker_res_format(p, res);
        if (t) acme_worker_res_parse(&again, p, t, strlen(t), &err);
    }
    apr_pool_destroy(p);
    return 0;
}
