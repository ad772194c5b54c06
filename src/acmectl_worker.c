/* acmectl worker: the unprivileged half of the module's renewals. Reads one
 * request (JSON) on stdin, talks to the CA, writes one result (JSON) on
 * stdout. Started by the supervisor, never by hand. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acmectl.h"
#include "acme_worker.h"

static void log_worker(void *baton, acme_log_level_e level, const char *msg)
{
    static const char *names[] = { "error", "warn", "notice", "info",
                                   "debug", "trace" };
    fprintf(stderr, "mod_acme worker [%s] %s: %s\n", names[level],
            (const char *)baton, msg);
}

int acmectl_cmd_worker(acmectl_t *ctl)
{
    apr_pool_t *p = ctl->pool;
    acme_worker_req_t *req = NULL;
    acme_worker_res_t res;
    acme_err_t err;
    char *buf, *line = NULL;
    apr_size_t len = 0;
    size_t cap = 0;

    memset(&res, 0, sizeof(res));
    if (geteuid() == 0) {
        res.error = "the worker refuses to run as root (set ACMEUser to an "
                    "unprivileged user)";
        goto out;
    }
    /* One line: the request. stdin stays open for the supervisor's answers
     * to dns-01 hook requests. */
    if (getline(&line, &cap, stdin) < 0 || cap > ACME_WORKER_MAX_MSG) {
        res.error = "no request on standard input";
        goto out;
    }
    buf = apr_pstrdup(p, line);
    len = strlen(buf);
    free(line);
    if (acme_worker_req_parse(&req, p, buf, len, &err) != APR_SUCCESS) {
        res.error = err.msg;
        goto out;
    }
    acme_log_set(log_worker, (void *)(req->name ? req->name : "?"),
                 ctl->verbose ? ACME_LOG_DEBUG : ACME_LOG_NOTICE);
    acme_worker_run(&res, req, p);
out:
    fputs(acme_worker_res_format(p, &res), stdout);
    fputc('\n', stdout);
    fflush(stdout);
    return res.ok ? 0 : 1;
}
