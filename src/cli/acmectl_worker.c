/* acmectl worker: the unprivileged half of the module's renewals. Reads a
 * request (JSON, one line) on stdin, talks to the CA, writes one result
 * (JSON, one line) on stdout; with --serve, one request after the other
 * until end of file. Started by the supervisor, never by hand. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acmectl_cmds.h"
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
    apr_pool_t *p = ctl->pool, *rp;
    acme_worker_session_t *sess;
    acme_worker_req_t *req;
    acme_worker_res_t res;
    acme_err_t err;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int served = 0, ok = 0;

    memset(&res, 0, sizeof(res));
    if (geteuid() == 0) {
        res.a.error = "the worker refuses to run as root (set ACMEUser to an "
                    "unprivileged user)";
        goto out;
    }
    sess = acme_worker_session_make(p);
    apr_pool_create(&rp, p);
    /* One request per line, one result line for each, until end of file.
     * stdin stays open between them for the supervisor's answers to dns-01
     * hook requests. */
    while ((n = getline(&line, &cap, stdin)) >= 0) {
        if (cap > ACME_WORKER_MAX_MSG) {
            res.a.error = "the request is too large";
            goto out;
        }
        if (n <= 1) {
            continue;
        }
        apr_pool_clear(rp);
        served++;
        memset(&res, 0, sizeof(res));
        if (acme_worker_req_parse(&req, rp, line, (apr_size_t)n, &err)
            != APR_SUCCESS) {
            res.a.error = err.msg;
        }
        else {
            acme_log_set(log_worker, (void *)(req->name ? req->name : "?"),
                         ctl->verbose ? ACME_LOG_DEBUG : ACME_LOG_NOTICE);
            acme_worker_run(&res, req, sess, rp);
        }
        fputs(acme_worker_res_format(rp, &res), stdout);
        fputc('\n', stdout);
        fflush(stdout);
        ok = res.a.ok;
        if (!ctl->serve) {
            break;               /* one request (a supervisor of before
                                    --serve waits for end of file) */
        }
    }
    if (served) {
        free(line);
        return ok ? 0 : 1;
    }
    res.a.error = "no request on standard input";
out:
    free(line);
    fputs(acme_worker_res_format(p, &res), stdout);
    fputc('\n', stdout);
    fflush(stdout);
    return 1;
}
