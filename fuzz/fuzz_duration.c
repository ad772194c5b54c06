/* parse_duration of src/mod_acme_config.c (ACMERenewWindow,
 * ACMECheckInterval, ACMEDNSPropagationTimeout, ACMEHookTimeout). The
 * function is static in a file that needs httpd; build.sh copies its text
 * out of the source into build/parse_duration.inc (it uses APR only), so
 * this fuzzes the code as it is in src/. The other directive parsers need
 * cmd_parms and server records: not reachable without httpd. */
#include <errno.h>
#include <apr_lib.h>
#include <apr_strings.h>
#include "fuzz_common.h"
#include "parse_duration.inc"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    apr_interval_time_t t = 0;
    parse_duration(&t, p, fuzz_str(p, data, size));
    apr_pool_destroy(p);
    return 0;
}
