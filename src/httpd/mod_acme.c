/* mod_acme: TLS certificates over ACME (RFC 8555) from inside httpd.
 *
 * Glue only: the module record, the directive table (src/mod_acme_config.c)
 * and the hooks. The logic lives in src/mod_acme_*.c; the ACME engine in
 * src/acme_*.c has no httpd headers. */
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

acme_runtime_t *acme_rt;

/* Forgets the runtime when its generation's pconf goes away. */
static apr_status_t runtime_cleanup(void *data)
{
    if (acme_rt == data) {
        acme_rt = NULL;
    }
    return APR_SUCCESS;
}

void *acme_process_data(const char *key, void *(*make)(apr_pool_t *))
{
    void *data = NULL;

    apr_pool_userdata_get(&data, key, ap_pglobal);
    if (!data) {
        apr_pool_t *cp;
        apr_pool_create(&cp, ap_pglobal);
        apr_pool_tag(cp, apr_pstrdup(cp, key)); /* key is the module's */
        data = make(cp);
        apr_pool_userdata_set(data, key, apr_pool_cleanup_null, ap_pglobal);
    }
    return data;
}

/* Makes the process's lineage cache (for acme_process_data). */
static void *lineage_cache_make(apr_pool_t *p)
{
    return acme_lineage_cache_make(p);
}

/* post_config: effective configuration, store, fallback certificates
 * (before mod_ssl reads them), then the supervisor process. The store and
 * fallback work is done in the pre-config pass too, because mod_ssl
 * already loads certificates then; the supervisor only in the real pass. */
static int acme_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                            apr_pool_t *ptemp, server_rec *base)
{
    acme_runtime_t *rt;
    int rc;

    rt = apr_pcalloc(pconf, sizeof(*rt));
    rt->pool = pconf;
    rt->base = base;
    rt->sup = acme_build_sup_conf(pconf, base);
    rt->restart = acme_conf_restart(base);
    /* one cache for the process: the real pass and every restart re-read
     * only the lineages that changed */
    rt->lineages = acme_process_data("mod_acme_lineages", lineage_cache_make);
    if (rt->sup->mds->nelts == 0) {
        acme_rt = NULL;
        return OK;              /* no ACMEDomain: nothing to do */
    }
    acme_rt = rt;
    apr_pool_cleanup_register(pconf, rt, runtime_cleanup,
                              apr_pool_cleanup_null);
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
