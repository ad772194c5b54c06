/* mod_acme: the worker processes of a supervisor pass. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "acme_workpool.h"
#include "acme_worker.h"

/* One `acmectl worker` process. */
typedef struct worker_t {
    pid_t pid;                       /* 0: no process in this slot */
    int in_fd;                       /* its stdin: requests, hook answers */
    int out_fd;                      /* its stdout: messages, results */
    char *buf;
    apr_size_t len;
    apr_size_t cap;
    acme_task_t *task;               /* the task it runs, NULL when idle */
    apr_time_t deadline;             /* of that task */
    const char *failure;             /* set when it misbehaved */
} worker_t;

struct acme_workpool_t {
    apr_pool_t *p;
    const char *path;
    uid_t uid;
    gid_t gid;
    int max;
    apr_interval_time_t timeout;
    acme_workpool_cb_t cb;
    worker_t *w;
    int started;
    apr_array_header_t *ended;       /* tasks whose caller is not told yet */
};

acme_workpool_t *acme_workpool_make(apr_pool_t *p, const char *path,
                                    uid_t uid, gid_t gid, int max,
                                    apr_interval_time_t timeout,
                                    const acme_workpool_cb_t *cb)
{
    int i;
    acme_workpool_t *wp = apr_pcalloc(p, sizeof(*wp));

    wp->p = p;
    wp->path = path;
    wp->uid = uid;
    wp->gid = gid;
    wp->max = max > 0 ? max : 1;
    wp->timeout = timeout;
    wp->cb = *cb;
    wp->w = apr_pcalloc(p, sizeof(worker_t) * (apr_size_t)wp->max);
    for (i = 0; i < wp->max; i++) {
        wp->w[i].in_fd = wp->w[i].out_fd = -1;     /* empty slots */
    }
    wp->ended = apr_array_make(p, 8, sizeof(acme_task_t *));
    return wp;
}

int acme_workpool_started(const acme_workpool_t *wp)
{
    return wp->started;
}

static void close_from(int lowfd)
{
    long max = sysconf(_SC_OPEN_MAX);
    int fd;

    if (max < 0 || max > 65536) {
        max = 65536;
    }
    for (fd = lowfd; fd < max; fd++) {
        close(fd);
    }
}

/* Writes all of buf; gives up quietly when the reader is gone (its exit
 * status then says why). */
static void write_all(int fd, const char *buf, apr_size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return;
        }
        buf += n;
        len -= (apr_size_t)n;
    }
}

/* Starts a worker process in slot w, as wp->uid/gid. */
static apr_status_t worker_spawn(acme_workpool_t *wp, worker_t *w,
                                 acme_err_t *err)
{
    int in[2] = { -1, -1 }, out[2] = { -1, -1 };
    apr_status_t rv = APR_SUCCESS;
    pid_t pid;

    signal(SIGPIPE, SIG_IGN);    /* a dead worker must not kill us */
    if (pipe(in) < 0 || pipe(out) < 0) {
        rv = acme_err_set(err, wp->p, APR_FROM_OS_ERROR(errno),
                          "pipe: %s", strerror(errno));
        goto cleanup;
    }
    pid = fork();
    if (pid < 0) {
        rv = acme_err_set(err, wp->p, APR_FROM_OS_ERROR(errno),
                          "fork: %s", strerror(errno));
        goto cleanup;
    }
    if (pid == 0) {
        /* The child: only async-signal-safe calls until exec. */
        dup2(in[0], 0);
        dup2(out[1], 1);
        close_from(3);
        signal(SIGPIPE, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        if (getuid() == 0 && wp->uid != 0) {
            if (setgroups(1, &wp->gid) < 0 || setgid(wp->gid) < 0
                || setuid(wp->uid) < 0 || setuid(0) == 0) {
                _exit(126);      /* never run the worker as root by accident */
            }
        }
        execl(wp->path, "acmectl", "worker", "--serve", (char *)NULL);
        _exit(127);
    }
    memset(w, 0, sizeof(*w));
    w->pid = pid;
    w->in_fd = in[1];
    in[1] = -1;
    w->out_fd = out[0];
    out[0] = -1;
    fcntl(w->out_fd, F_SETFL, fcntl(w->out_fd, F_GETFL) | O_NONBLOCK);
    /* hooks and later workers must not hold this worker's pipes: its end
     * of file would never come */
    fcntl(w->in_fd, F_SETFD, FD_CLOEXEC);
    fcntl(w->out_fd, F_SETFD, FD_CLOEXEC);
    wp->started++;
cleanup:
    if (in[0] >= 0) close(in[0]);
    if (in[1] >= 0) close(in[1]);
    if (out[0] >= 0) close(out[0]);
    if (out[1] >= 0) close(out[1]);
    return rv;
}

/* Ends a task: marks it; the caller is told by tell_ended, once the idle
 * workers have their next task (what the caller does with a result, such
 * as storing a certificate, then overlaps the workers' next orders). */
static void task_end(acme_workpool_t *wp, acme_task_t *t)
{
    if (!t->done) {
        t->done = 1;
        APR_ARRAY_PUSH(wp->ended, acme_task_t *) = t;
    }
}

static void tell_ended(acme_workpool_t *wp)
{
    int i;

    /* the callback may append tasks, never end one */
    for (i = 0; i < wp->ended->nelts; i++) {
        if (wp->cb.done) {
            wp->cb.done(APR_ARRAY_IDX(wp->ended, i, acme_task_t *),
                        wp->cb.baton);
        }
    }
    apr_array_clear(wp->ended);
}

/* Closes a slot's pipes and frees its buffer; the slot is then empty. */
static void slot_clear(worker_t *w)
{
    if (w->out_fd >= 0) close(w->out_fd);
    if (w->in_fd >= 0) close(w->in_fd);
    free(w->buf);
    memset(w, 0, sizeof(*w));
    w->in_fd = w->out_fd = -1;
}

/* Why a worker that ended with `status` gave no answer. */
static const char *exit_reason(apr_pool_t *p, int status)
{
    if (WIFSIGNALED(status)) {
        return apr_psprintf(p, "the worker was killed by signal %d",
                            WTERMSIG(status));
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 126) {
        return "the worker could not switch to its user";
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
        return "the worker binary could not be executed";
    }
    return apr_psprintf(p, "the worker exited with status %d without an "
                        "answer", WIFEXITED(status) ? WEXITSTATUS(status)
                                                    : -1);
}

/* Waits for a worker's exit, frees its slot, and fails its task (if any)
 * with the reason. */
static void worker_reap(acme_workpool_t *wp, worker_t *w)
{
    acme_task_t *t = w->task;
    const char *why = w->failure;
    pid_t pid = w->pid;
    int status = 0;

    slot_clear(w);               /* end of file for it, if still running */
    while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!t) {
        return;
    }
    /* the pool's own reason (timeout, answer too large) comes first */
    t->failure = why ? why : exit_reason(t->p, status);
    task_end(wp, t);
}

/* Handles the complete lines in w's buffer: hook requests are answered,
 * any other line is the running task's result. */
static void worker_lines(acme_workpool_t *wp, worker_t *w)
{
    apr_size_t off = 0;

    for (;;) {
        char *start = w->buf + off;
        char *nl = memchr(start, '\n', w->len - off);
        acme_task_t *t = w->task;
        json_t *msg;

        if (!nl) {
            break;
        }
        *nl = '\0';
        off = (apr_size_t)(nl - w->buf) + 1;
        if (!*start) {
            continue;
        }
        if (!t) {
            continue;            /* nothing asked; ignored */
        }
        msg = json_loads(start, 0, NULL);
        if (msg && json_is_string(json_object_get(msg, "type"))) {
            const char *reply = wp->cb.ask ? wp->cb.ask(t, msg, wp->cb.baton)
                                           : NULL;
            /* a question is always answered: the worker waits for it */
            if (!reply) {
                reply = "{\"ok\":false,\"error\":\"unsupported request\"}";
            }
            write_all(w->in_fd, reply, strlen(reply));
            write_all(w->in_fd, "\n", 1);
        }
        else {
            t->result = apr_pstrdup(t->p, start);
            w->task = NULL;
            task_end(wp, t);
        }
        if (msg) json_decref(msg);
    }
    if (off) {
        memmove(w->buf, w->buf + off, w->len - off);
        w->len -= off;
    }
}

/* Reads what w wrote; reaps it at end of file. */
static void worker_read(acme_workpool_t *wp, worker_t *w)
{
    for (;;) {
        ssize_t n;

        if (w->len + 4096 > w->cap) {
            apr_size_t cap = w->cap ? w->cap * 2 : 16384;
            char *nb;
            if (w->len >= ACME_WORKER_MAX_MSG) {
                w->failure = "the worker's answer is too large";
                kill(w->pid, SIGKILL);
                worker_reap(wp, w);
                return;
            }
            nb = malloc(cap + 1);
            if (!nb) {
                w->failure = "out of memory reading the worker's answer";
                kill(w->pid, SIGKILL);
                worker_reap(wp, w);
                return;
            }
            if (w->len) memcpy(nb, w->buf, w->len);
            free(w->buf);
            w->buf = nb;
            w->cap = cap;
        }
        n = read(w->out_fd, w->buf + w->len, w->cap - w->len);
        if (n > 0) {
            w->len += (apr_size_t)n;
            worker_lines(wp, w);
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            return;
        }
        if (w->len) {            /* a last line without newline */
            w->buf[w->len++] = '\n';
            worker_lines(wp, w);
        }
        worker_reap(wp, w);      /* end of file */
        return;
    }
}

/* Gives task t to the worker in slot w (started first when the slot is
 * empty). */
static void worker_give(acme_workpool_t *wp, worker_t *w, acme_task_t *t)
{
    acme_err_t err;

    acme_err_clear(&err);
    if (wp->cb.start
        && wp->cb.start(t, wp->cb.baton, &err) != APR_SUCCESS) {
        t->failure = err.msg ? err.msg : "the task could not be prepared";
        task_end(wp, t);
        return;
    }
    if (!w->pid && worker_spawn(wp, w, &err) != APR_SUCCESS) {
        t->failure = err.msg;
        task_end(wp, t);
        return;
    }
    w->task = t;
    w->deadline = apr_time_now() + wp->timeout;
    write_all(w->in_fd, t->request, strlen(t->request));
    write_all(w->in_fd, "\n", 1);
}

void acme_workpool_run(acme_workpool_t *wp, apr_array_header_t *tasks,
                       int from)
{
    struct pollfd *fds = apr_pcalloc(wp->p, sizeof(*fds)
                                     * (apr_size_t)wp->max);
    int next = from, i;

    for (;;) {
        int busy = 0;
        apr_time_t now = apr_time_now();

        for (i = 0; i < wp->max && next < tasks->nelts; i++) {
            if (!wp->w[i].task) {
                worker_give(wp, &wp->w[i],
                            APR_ARRAY_IDX(tasks, next++, acme_task_t *));
            }
        }
        tell_ended(wp);
        for (i = 0; i < wp->max; i++) {
            worker_t *w = &wp->w[i];
            fds[i].fd = -1;
            fds[i].events = POLLIN;
            fds[i].revents = 0;
            if (w->pid && w->task && now > w->deadline) {
                w->failure = apr_psprintf(w->task->p, "the worker did not "
                                          "finish within %d seconds and was "
                                          "killed",
                                          (int)apr_time_sec(wp->timeout));
                kill(w->pid, SIGKILL);
                worker_reap(wp, w);
            }
            if (w->pid) {
                /* idle workers too: their end of file frees the slot */
                fds[i].fd = w->out_fd;
                busy += w->task != NULL;
            }
        }
        if (!busy) {
            if (next >= tasks->nelts && !wp->ended->nelts) {
                break;
            }
            continue;
        }
        if (poll(fds, (nfds_t)wp->max, 500) <= 0) {
            continue;
        }
        for (i = 0; i < wp->max; i++) {
            if (wp->w[i].pid && fds[i].fd >= 0 && fds[i].revents) {
                worker_read(wp, &wp->w[i]);
            }
        }
    }
}

void acme_workpool_close(acme_workpool_t *wp)
{
    apr_time_t until = apr_time_now() + apr_time_from_sec(5);
    int i, left;

    for (i = 0; i < wp->max; i++) {
        if (wp->w[i].pid && wp->w[i].in_fd >= 0) {
            close(wp->w[i].in_fd);
            wp->w[i].in_fd = -1;
        }
    }
    do {
        left = 0;
        for (i = 0; i < wp->max; i++) {
            worker_t *w = &wp->w[i];
            int status;
            pid_t r;
            if (!w->pid) {
                continue;
            }
            r = waitpid(w->pid, &status, WNOHANG);
            if (r == w->pid || (r < 0 && errno != EINTR)) {
                slot_clear(w);          /* ended, or no longer ours */
            }
            else if (apr_time_now() > until) {
                kill(w->pid, SIGKILL);
                waitpid(w->pid, &status, 0);
                slot_clear(w);
            }
            else {
                left++;
            }
        }
        if (left) {
            apr_sleep(apr_time_from_msec(2));
        }
    } while (left);
}
