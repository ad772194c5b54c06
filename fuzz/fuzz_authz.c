/* acme_authz_from_json: an authorization object from the CA. */
#include <jansson.h>
#include "fuzz_common.h"
#include "acme_order.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    json_t *j = json_loadb((const char *)data, size, 0, NULL);
    acme_authz_t *a = NULL;
    acme_err_t err;
    if (j) {
        memset(&err, 0, sizeof(err));
        acme_authz_from_json(&a, p, "https://ca.test/authz/1", j, &err);
        json_decref(j);
    }
    apr_pool_destroy(p);
    return 0;
}
