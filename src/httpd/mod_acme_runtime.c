/* mod_acme: the runtime of a generation and the process-lifetime data
 * (mod_acme_runtime.h). */
#include "httpd.h"
#include "http_main.h"
#include "apr_strings.h"

#include "mod_acme.h"
#include "mod_acme_runtime.h"

acme_runtime_t *acme_rt;

/* Forgets the runtime when its generation's pconf goes away. */
static apr_status_t runtime_cleanup(void *data)
{
    if (acme_rt == data) {
        acme_rt = NULL;
    }
    return APR_SUCCESS;
}

/* The object stored under key in the process pool, made once. */
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

/* This generation's runtime, or NULL without an ACMEDomain. */
acme_runtime_t *acme_runtime_start(apr_pool_t *pconf, server_rec *base)
{
    acme_runtime_t *rt;

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
        return NULL;            /* no ACMEDomain: nothing to do */
    }
    acme_rt = rt;
    apr_pool_cleanup_register(pconf, rt, runtime_cleanup,
                              apr_pool_cleanup_null);
    return rt;
}
