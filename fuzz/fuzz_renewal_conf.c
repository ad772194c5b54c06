/* acme_renewal_conf_parse (renewal/NAME.conf, Certbot's format); a parsed
 * conf is formatted and parsed again. */
#include "fuzz_common.h"
#include "acme_store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    acme_renewal_conf_t *c = NULL, *again = NULL;
    acme_err_t err;
    char *s = fuzz_str(p, data, size);
    memset(&err, 0, sizeof(err));
    if (acme_renewal_conf_parse(&c, p, s, &err) == APR_SUCCESS && c) {
        const char *t = acme_renewal_conf_format(p, c);
        if (t) acme_renewal_conf_parse(&again, p, t, &err);
    }
    apr_pool_destroy(p);
    return 0;
}
