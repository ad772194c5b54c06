/* acme_problem_to_err: an error answer (status from the first byte, the
 * rest the body), as the client sees it. */
#include "fuzz_common.h"
#include "acme_problem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    acme_err_t err;
    int status = size ? 400 + data[0] % 200 : 400;
    const char *body = size ? fuzz_str(p, data + 1, size - 1) : "";
    memset(&err, 0, sizeof(err));
    acme_problem_to_err(&err, p, status, body, size ? size - 1 : 0,
                        size > 1 ? apr_time_from_sec(data[1]) : 0);
    if (err.msg) (void)strlen(err.msg);
    apr_pool_destroy(p);
    return 0;
}
