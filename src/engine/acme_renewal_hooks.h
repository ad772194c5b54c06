/* mod_acme: Certbot's renewal hooks: pre (once before a run that attempts
 * anything), deploy (once per renewed lineage) and post (once after), from
 * a command line option or directive and from STORE/renewal-hooks/<phase>/.
 * They run as root, never in the worker, each with a timeout. */
#ifndef ACME_RENEWAL_HOOKS_H
#define ACME_RENEWAL_HOOKS_H

#include "acme_common.h"
#include "acme_store.h"

/*
 * Runs one phase ("pre", "deploy" or "post"): first the executables in
 * STORE/renewal-hooks/<phase>/ in name order (unless no_dirs), then `cmd`
 * when not NULL, as Certbot orders them. env (may be NULL) is added to the
 * environment (RENEWED_LINEAGE, RENEWED_DOMAINS, FAILED_DOMAINS). A failing
 * hook is logged with its output and counted; it undoes nothing.
 * Returns the number of hooks that failed; *pmsg (may be NULL) gets the
 * first failure's message.
 */
int acme_renewal_hooks_run(const acme_store_t *store, const char *phase,
                           const char *cmd, int no_dirs, apr_table_t *env,
                           apr_interval_time_t timeout, const char **pmsg,
                           apr_pool_t *p);

/* A hook command of a renewal conf (pre_hook, post_hook, renew_hook,
 * deploy_hook), or NULL when it is unset, empty or Certbot's "None". */
const char *acme_renewal_conf_hook(const acme_renewal_conf_t *conf,
                                   const char *key);

#endif
