/* mod_acme: ACME (RFC 8555) certificates for Apache httpd 2.4.
 *
 * httpd glue only: the directive table and hook registration. The protocol,
 * crypto and store live in src/ (the engine), which has no httpd headers.
 */
#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <ap_release.h>

#include "acme_common.h"

static void acme_register_hooks(apr_pool_t *p)
{
    (void)p;
}

AP_DECLARE_MODULE(acme) = {
    STANDARD20_MODULE_STUFF,
    NULL,                  /* per-directory config creator */
    NULL,                  /* dir config merger */
    NULL,                  /* server config creator */
    NULL,                  /* server config merger */
    NULL,                  /* command table */
    acme_register_hooks,   /* hook registration */
#if defined(AP_MODULE_FLAG_ALWAYS_MERGE)
    AP_MODULE_FLAG_ALWAYS_MERGE
#endif
};
