/* mod_acme: the worker processes of a supervisor pass.
 *
 * The supervisor (root) hands tasks (one request line each, see
 * acme_worker.h) to at most `max` `acmectl worker` processes, started as
 * an unprivileged user. A worker serves one task at a time and then the
 * next one over the same pipes, so that its CA connection, directory,
 * nonce and account key serve every order of the pass; a worker that dies
 * or runs past its time fails its task alone and is replaced for the next
 * one. Each task ends exactly once, with a result line or a failure text,
 * and the caller hears of it at once (the `done` callback), while the
 * others are still running.
 */
#ifndef ACME_WORKPOOL_H
#define ACME_WORKPOOL_H

#include <sys/types.h>

#include "acme_common.h"
#include <jansson.h>

typedef struct acme_task_t {
    const char *request;     /* the request line (no newline); set before
                                the task runs or by the start callback */
    const char *result;      /* the worker's result line */
    const char *failure;     /* why there is no usable result */
    int done;
    apr_pool_t *p;           /* the task's memory (result, failure) */
} acme_task_t;               /* callers embed it first in their own job
                                struct and cast back in the callbacks */

typedef struct acme_workpool_cb_t {
    /* Called just before a task goes to a worker (may fill
     * task->request); an error fails the task with err->msg. NULL: none. */
    apr_status_t (*start)(acme_task_t *task, void *baton, acme_err_t *err);
    /* Answers a message the worker sends during a task that is not its
     * result (a dns-01 hook request): returns the reply line, without
     * newline, in task->p. NULL (or no callback): the worker is answered
     * {"ok":false,"error":"unsupported request"}. */
    const char *(*ask)(acme_task_t *task, json_t *msg, void *baton);
    /* Called once per task when it has ended (result or failure). It may
     * append tasks to the array being run. */
    void (*done)(acme_task_t *task, void *baton);
    void *baton;
} acme_workpool_cb_t;

typedef struct acme_workpool_t acme_workpool_t;

/* Creates a pool of at most max workers (`path worker`, run as uid/gid
 * when the caller is root); a task that takes longer than timeout is
 * failed and its worker killed. Starts nothing yet. */
acme_workpool_t *acme_workpool_make(apr_pool_t *p, const char *path,
                                    uid_t uid, gid_t gid, int max,
                                    apr_interval_time_t timeout,
                                    const acme_workpool_cb_t *cb);

/* Runs the tasks (acme_task_t *) from index `from` to the end of the
 * array (which the done callback may extend) and returns when every one
 * has ended. Workers stay for the next call. */
void acme_workpool_run(acme_workpool_t *wp, apr_array_header_t *tasks,
                       int from);

/* Ends the workers (end of file on their input) and reaps them. */
void acme_workpool_close(acme_workpool_t *wp);

/* How many worker processes the pool has started so far. */
int acme_workpool_started(const acme_workpool_t *wp);

#endif
