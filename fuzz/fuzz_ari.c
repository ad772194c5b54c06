/* acme_ari_parse (a renewalInfo body) and acme_ari_parse_time. */
#include "fuzz_common.h"
#include "acme_ari.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    acme_ari_window_t w;
    acme_err_t err;
    apr_time_t t;
    char *s = fuzz_str(p, data, size);
    memset(&w, 0, sizeof(w));
    memset(&err, 0, sizeof(err));
    acme_ari_parse(&w, p, s, size, &err);
    acme_ari_parse_time(&t, s);
    apr_pool_destroy(p);
    return 0;
}
