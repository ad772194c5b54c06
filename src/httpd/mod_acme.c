/* mod_acme: TLS certificates over ACME (RFC 8555) from inside httpd.
 *
 * Glue only: the module record, the directive table (mod_acme_config.c)
 * and the hooks. The logic lives in src/httpd/mod_acme_*.c (the runtime
 * the hooks share in mod_acme_runtime.c); nothing includes or calls this
 * file. The ACME engine in src/engine/ has no httpd headers. */
#include "httpd.h"
#include "http_config.h"
#include "http_main.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "http_ssl.h"
#include "ap_mpm.h"
#include "http_core.h"
#include "apr_optional_hooks.h"

#include "mod_acme.h"
#include "mod_acme_runtime.h"

/* post_config: effective configuration, store, fallback certificates
 * (before mod_ssl reads them), then the supervisor process. The store and
 * fallback work is done in the pre-config pass too, because mod_ssl
 * already loads certificates then; the supervisor only in the real pass. */
static int acme_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                            apr_pool_t *ptemp, server_rec *base)
{
    int rc;

    if (!acme_runtime_start(pconf, base)) {
        return OK;              /* no ACMEDomain: nothing to do */
    }
    acme_log_install(base);
    if ((rc = acme_ssl_prepare(pconf, ptemp, base)) != OK) {
        return rc;
    }
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG) {
        return OK;
    }
    acme_status_prepare(ptemp, base);
    acme_supervisor_start(pconf, base);
    return OK;
}

/* Registers the hooks. */
static void acme_register_hooks(apr_pool_t *p)
{
    static const char *const before_ssl[] = { "mod_ssl.c", NULL };

    ap_hook_check_config(acme_check_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(acme_post_config, NULL, before_ssl, APR_HOOK_MIDDLE);
    ap_hook_ssl_add_cert_files(acme_ssl_add_cert_files, NULL, NULL,
                               APR_HOOK_MIDDLE);
    ap_hook_ssl_add_fallback_cert_files(acme_ssl_add_fallback_cert_files,
                                        NULL, NULL, APR_HOOK_MIDDLE);
    /* before mod_ssl's own post_read_request, which answers 503 on a
     * fallback connection without our explanation */
    ap_hook_post_read_request(acme_post_read_request, NULL, before_ssl,
                              APR_HOOK_MIDDLE);
    /* tls-alpn-01 (acme-tls/1 via ALPN) and tls-sni-01 */
    ap_hook_protocol_propose(acme_protocol_propose, NULL, NULL,
                             APR_HOOK_MIDDLE);
    ap_hook_protocol_switch(acme_protocol_switch, NULL, NULL,
                            APR_HOOK_MIDDLE);
    ap_hook_protocol_get(acme_protocol_get, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_ssl_answer_challenge(acme_answer_tls_challenge, NULL, NULL,
                                 APR_HOOK_MIDDLE);
    /* status: SetHandler acme-status, and a section in server-status */
    ap_hook_handler(acme_status_handler, NULL, NULL, APR_HOOK_MIDDLE);
    acme_status_register_hooks(p);
    /* tls-sni-01 without ALPN: mod_ssl's optional hook, by name */
    apr_optional_hook_add("init_server",
                          (void (*)(void))acme_ssl_init_server, NULL, NULL,
                          APR_HOOK_MIDDLE);
}

AP_DECLARE_MODULE(acme) = {
    STANDARD20_MODULE_STUFF,
    NULL,                       /* per-directory config creator */
    NULL,                       /* dir config merger */
    acme_create_srv_conf,       /* server config creator */
    acme_merge_srv_conf,        /* server config merger */
    acme_cmds,                  /* command table */
    acme_register_hooks,        /* set up other request processing hooks */
#if defined(AP_MODULE_FLAG_ALWAYS_MERGE)
    AP_MODULE_FLAG_ALWAYS_MERGE   /* every vhost its own record: a shared
                                     * one would repeat the main server's
                                     * ACMEDomains */
#endif
};
