/* Unit tests: the worker processes of a pass (acme_workpool.c), with
 * shell scripts standing in for `acmectl worker --serve`: one process
 * serves several tasks, a dying worker fails its task alone, hook
 * questions are answered, tasks added from the done callback run, a slow
 * task times out. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <apr_hash.h>

#include "acme_test.h"
#include "acme_workpool.h"

typedef struct {
    apr_array_header_t *tasks;
    int done_calls;
    const char *append_after;    /* a task with this request adds one */
} ctx_t;

static const char *script(apr_pool_t *p, const char *body)
{
    char *path = apr_pstrdup(p, "/tmp/acme-unit-wp-XXXXXX");
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "w");

    fprintf(f, "#!/bin/sh\n%s\n", body);
    fclose(f);
    chmod(path, 0755);
    return path;
}

static acme_task_t *task(apr_pool_t *p, const char *request)
{
    acme_task_t *t = apr_pcalloc(p, sizeof(*t));
    t->p = p;
    t->request = request;
    return t;
}

static void on_done(acme_task_t *t, void *baton)
{
    ctx_t *c = baton;

    c->done_calls++;
    if (c->append_after && !strcmp(t->request, c->append_after)) {
        APR_ARRAY_PUSH(c->tasks, acme_task_t *) = task(t->p, "added");
    }
}

static const char *on_ask(acme_task_t *t, json_t *msg, void *baton)
{
    const char *type = json_string_value(json_object_get(msg, "type"));

    return !strcmp(type, "dns") ? "{\"ok\":true}" : NULL;
}

/* Runs the requests (NULL-terminated) through at most max workers running
 * body; returns the pool (for its count) and fills *pc. */
static acme_workpool_t *run(apr_pool_t *p, const char *body, int max,
                            apr_interval_time_t timeout,
                            const char *const *requests, ctx_t *c)
{
    acme_workpool_cb_t cb;
    acme_workpool_t *wp;
    const char *path = script(p, body);
    int i;

    memset(&cb, 0, sizeof(cb));
    cb.done = on_done;
    cb.ask = on_ask;
    cb.baton = c;
    c->tasks = apr_array_make(p, 4, sizeof(acme_task_t *));
    for (i = 0; requests[i]; i++) {
        APR_ARRAY_PUSH(c->tasks, acme_task_t *) = task(p, requests[i]);
    }
    wp = acme_workpool_make(p, path, getuid(), getgid(), max, timeout, &cb);
    acme_workpool_run(wp, c->tasks, 0);
    acme_workpool_close(wp);
    unlink(path);
    return wp;
}

static acme_task_t *nth(ctx_t *c, int i)
{
    return APR_ARRAY_IDX(c->tasks, i, acme_task_t *);
}

static const char *SERVE =
    "while read -r req; do\n"
    "  case \"$req\" in\n"
    "    die) kill -9 $$ ;;\n"
    "    ask) echo '{\"type\":\"dns\"}'; read -r ans; echo \"answered $ans\";;\n"
    "    odd) echo '{\"type\":\"odd\"}'; read -r ans; echo \"answered $ans\";;\n"
    "    *) echo \"done $req by $$\";;\n"
    "  esac\n"
    "done\n";

static void test_serves_many(apr_pool_t *p)
{
    const char *req[] = { "t1", "t2", "t3", "t4", "t5", "t6", NULL };
    apr_hash_t *pids = apr_hash_make(p);
    ctx_t c;
    acme_workpool_t *wp;
    int i;

    memset(&c, 0, sizeof(c));
    wp = run(p, SERVE, 2, apr_time_from_sec(10), req, &c);
    ACME_CHECK(c.done_calls == 6, "done called %d times", c.done_calls);
    for (i = 0; i < 6; i++) {
        acme_task_t *t = nth(&c, i);
        const char *by;
        ACME_CHECK(t->done && !t->failure && t->result
                   && !strncmp(t->result, apr_psprintf(p, "done %s by ",
                                                        t->request),
                               strlen(t->request) + 9),
                   "task %s: %s / %s", t->request,
                   t->result ? t->result : "-",
                   t->failure ? t->failure : "-");
        by = t->result ? strstr(t->result, " by ") : NULL;
        if (by) {
            apr_hash_set(pids, by + 4, APR_HASH_KEY_STRING, "");
        }
    }
    ACME_CHECK(acme_workpool_started(wp) == 2, "started %d workers for 6 "
               "tasks", acme_workpool_started(wp));
    ACME_CHECK(apr_hash_count(pids) == 2, "%u processes answered",
               apr_hash_count(pids));
}

static void test_dying_worker(apr_pool_t *p)
{
    const char *req[] = { "t1", "die", "t3", NULL };
    ctx_t c;
    acme_workpool_t *wp;

    memset(&c, 0, sizeof(c));
    wp = run(p, SERVE, 1, apr_time_from_sec(10), req, &c);
    ACME_CHECK(nth(&c, 0)->result && !nth(&c, 0)->failure, "t1 answered");
    ACME_CHECK(nth(&c, 1)->failure
               && strstr(nth(&c, 1)->failure, "killed by signal 9"),
               "the killed worker's task failed: %s",
               nth(&c, 1)->failure ? nth(&c, 1)->failure : "(no failure)");
    ACME_CHECK(nth(&c, 2)->result && !nth(&c, 2)->failure,
               "the next task went to a new worker: %s",
               nth(&c, 2)->failure ? nth(&c, 2)->failure : "ok");
    ACME_CHECK(acme_workpool_started(wp) == 2, "started %d",
               acme_workpool_started(wp));
    ACME_CHECK(c.done_calls == 3, "done called %d times", c.done_calls);
}

static void test_ask_and_append(apr_pool_t *p)
{
    const char *req[] = { "ask", "t2", NULL };
    ctx_t c;

    memset(&c, 0, sizeof(c));
    c.append_after = "t2";
    run(p, SERVE, 2, apr_time_from_sec(10), req, &c);
    ACME_CHECK(nth(&c, 0)->result
               && !strcmp(nth(&c, 0)->result, "answered {\"ok\":true}"),
               "the question was answered: %s",
               nth(&c, 0)->result ? nth(&c, 0)->result : "-");
    ACME_CHECK(c.tasks->nelts == 3 && nth(&c, 2)->done
               && nth(&c, 2)->result
               && !strncmp(nth(&c, 2)->result, "done added", 10),
               "the task added by the callback ran");
    ACME_CHECK(c.done_calls == 3, "done called %d times", c.done_calls);
}

/* a question the supervisor has no answer for still gets one, so the
 * worker does not wait until its timeout */
static void test_ask_unknown(apr_pool_t *p)
{
    const char *req[] = { "odd", NULL };
    ctx_t c;

    memset(&c, 0, sizeof(c));
    run(p, SERVE, 1, apr_time_from_sec(5), req, &c);
    ACME_CHECK(nth(&c, 0)->result
               && strstr(nth(&c, 0)->result, "unsupported request"),
               "the worker was told: %s",
               nth(&c, 0)->result ? nth(&c, 0)->result
                                  : nth(&c, 0)->failure);
}

static void test_timeout(apr_pool_t *p)
{
    const char *req[] = { "t1", NULL };
    ctx_t c;
    apr_time_t t0 = apr_time_now();

    memset(&c, 0, sizeof(c));
    run(p, "exec sleep 30", 1, apr_time_from_sec(1), req, &c);
    ACME_CHECK(nth(&c, 0)->failure
               && strstr(nth(&c, 0)->failure, "did not finish within 1"),
               "timed out: %s", nth(&c, 0)->failure
               ? nth(&c, 0)->failure : "-");
    ACME_CHECK(apr_time_now() - t0 < apr_time_from_sec(5),
               "killed in time");
}

int main(void)
{
    ACME_TEST_RUN(test_serves_many);
    ACME_TEST_RUN(test_dying_worker);
    ACME_TEST_RUN(test_ask_and_append);
    ACME_TEST_RUN(test_ask_unknown);
    ACME_TEST_RUN(test_timeout);
    return ACME_TEST_DONE();
}
