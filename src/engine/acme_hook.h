/* mod_acme: running user hooks (Certbot's manual, pre, post and deploy
 * hooks; dns-01 hooks) with an environment, a timeout and captured output. */
#ifndef ACME_HOOK_H
#define ACME_HOOK_H

#include "acme_common.h"

#define ACME_HOOK_TIMEOUT_DEFAULT apr_time_from_sec(300)

typedef struct acme_hook_result_t {
    int exit_code;       /* -1 when killed by a signal */
    int timed_out;       /* killed at the timeout */
    const char *out;     /* standard output, trailing newlines removed */
    const char *errout;  /* standard error, trailing newlines removed */
} acme_hook_result_t;

/*
 * Runs `cmd` through /bin/sh -c, in its own process group, with the
 * current environment plus `env` (may be NULL) and, when args is non-NULL,
 * the NULL-terminated args as "$1 $2 ..." after the command. Standard input
 * is /dev/null; output is captured (at most 64 KiB each). At the timeout the
 * whole process group is killed. Returns APR_SUCCESS when the hook exited 0,
 * else ACME_EHOOK with a message naming the hook, its exit status and the
 * first line of its error output. *pres (may be NULL) gets the details.
 */
apr_status_t acme_hook_run(acme_hook_result_t **pres, apr_pool_t *p,
                           const char *what, const char *cmd,
                           const char *const *args, apr_table_t *env,
                           apr_interval_time_t timeout, acme_err_t *err);

#endif
