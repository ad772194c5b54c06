/* acme_names_check: one name per input line. */
#include "fuzz_common.h"
#include "acme_names.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    apr_array_header_t *out = NULL;
    acme_err_t err;
    memset(&err, 0, sizeof(err));
    acme_names_check(&out, p, fuzz_lines(p, fuzz_str(p, data, size), size), &err);
    apr_pool_destroy(p);
    return 0;
}
