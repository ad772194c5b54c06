/* mod_acme: the runtime: what post_config decided for this generation,
 * read by the hooks that run after it (mod_ssl's certificate hooks, the
 * request and TLS hooks in the children, the status handler, the
 * supervisor), and the data kept for the whole httpd process. Defined in
 * mod_acme_runtime.c, so that no glue file needs mod_acme.c (which only
 * registers the hooks). */
#ifndef MOD_ACME_RUNTIME_H
#define MOD_ACME_RUNTIME_H

#include "httpd.h"

#include "acme_store.h"
#include "acme_supervisor.h"

/* What post_config decided, for the hooks that run after it (mod_ssl's
 * post_config, the request hooks in the children). */
typedef struct acme_runtime_t {
    apr_pool_t *pool;             /* pconf */
    server_rec *base;
    const char *store_dir;        /* absolute */
    const char *challenge_dir;    /* STORE/challenges */
    acme_sup_conf_t *sup;
    int restart;                  /* ACMERestart graceful */
    acme_lineage_cache_t *lineages; /* lineages read at start, kept for the
                                       next configuration pass or restart
                                       (process lifetime) */
} acme_runtime_t;

/* The runtime of the current generation (NULL before post_config, and
 * when there is no ACMEDomain). */
extern acme_runtime_t *acme_rt;

/* post_config's first step: makes this generation's runtime from the
 * resolved configuration (the supervisor's configuration, ACMERestart,
 * the process's lineage cache) and makes it acme_rt until pconf goes
 * away. Returns it, or NULL (acme_rt too) when there is no ACMEDomain. */
acme_runtime_t *acme_runtime_start(apr_pool_t *pconf, server_rec *base);

/* Data that lives as long as the httpd process (the module itself is
 * unloaded at each restart): the object stored under key in the process
 * pool, made by make in a pool of its own the first time. */
void *acme_process_data(const char *key, void *(*make)(apr_pool_t *));

#endif
