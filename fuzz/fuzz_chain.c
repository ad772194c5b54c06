/* acme_chain_parse: the PEM chain splitter (the CA's certificate answer);
 * a parsed chain is also run through acme_chain_to_pem. */
#include "fuzz_common.h"
#include "acme_cert.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    apr_array_header_t *certs = NULL;
    acme_err_t err;
    char *s = fuzz_str(p, data, size);
    memset(&err, 0, sizeof(err));
    if (acme_chain_parse(&certs, p, s, size, &err) == APR_SUCCESS && certs) {
        acme_chain_to_pem(p, certs, 0, certs->nelts);
        acme_chain_to_pem(p, certs, 1, certs->nelts);
    }
    apr_pool_destroy(p);
    return 0;
}
