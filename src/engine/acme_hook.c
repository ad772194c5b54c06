/* mod_acme: running user hooks with environment, timeout and output. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "acme_hook.h"

extern char **environ;

#define HOOK_OUTPUT_MAX (64 * 1024)

typedef struct {
    apr_pool_t *p;
    apr_array_header_t *env;
} env_ctx_t;

static int add_env(void *baton, const char *key, const char *value)
{
    env_ctx_t *ctx = baton;

    APR_ARRAY_PUSH(ctx->env, const char *) =
        apr_pstrcat(ctx->p, key, "=", value, NULL);
    return 1;
}

static const char **build_env(apr_pool_t *p, apr_table_t *extra)
{
    env_ctx_t ctx;
    char **e;

    ctx.p = p;
    ctx.env = apr_array_make(p, 64, sizeof(const char *));
    for (e = environ; e && *e; e++) {
        const char *eq = strchr(*e, '=');
        if (eq && extra
            && apr_table_get(extra, apr_pstrmemdup(p, *e,
                                                   (apr_size_t)(eq - *e)))) {
            continue;           /* overridden below */
        }
        APR_ARRAY_PUSH(ctx.env, const char *) = *e;
    }
    if (extra) {
        apr_table_do(add_env, &ctx, extra, NULL);
    }
    APR_ARRAY_PUSH(ctx.env, const char *) = NULL;
    return (const char **)ctx.env->elts;
}

static const char *read_capture(apr_pool_t *p, int fd)
{
    char *buf = apr_palloc(p, HOOK_OUTPUT_MAX + 1);
    ssize_t n, total = 0;

    lseek(fd, 0, SEEK_SET);
    while (total < HOOK_OUTPUT_MAX
           && (n = read(fd, buf + total, HOOK_OUTPUT_MAX - total)) > 0) {
        total += n;
    }
    while (total > 0 && (buf[total - 1] == '\n' || buf[total - 1] == '\r')) {
        total--;
    }
    buf[total] = '\0';
    return buf;
}

static int capture_fd(void)
{
    char path[] = "/tmp/acme-hook-XXXXXX";
    int fd = mkstemp(path);

    if (fd >= 0) {
        unlink(path);
    }
    return fd;
}

static const char *first_line(apr_pool_t *p, const char *s)
{
    const char *nl = strchr(s, '\n');

    return nl ? apr_pstrmemdup(p, s, (apr_size_t)(nl - s)) : s;
}

/* sh -c CMD, with args as "$@" when given. */
static apr_array_header_t *hook_argv(apr_pool_t *p, const char *cmd,
                                     const char *const *args)
{
    apr_array_header_t *argv = apr_array_make(p, 8, sizeof(const char *));

    APR_ARRAY_PUSH(argv, const char *) = "/bin/sh";
    APR_ARRAY_PUSH(argv, const char *) = "-c";
    APR_ARRAY_PUSH(argv, const char *) =
        args ? apr_pstrcat(p, cmd, " \"$@\"", NULL) : cmd;
    if (args) {
        APR_ARRAY_PUSH(argv, const char *) = "acme-hook";
        for (; *args; args++) {
            APR_ARRAY_PUSH(argv, const char *) = *args;
        }
    }
    APR_ARRAY_PUSH(argv, const char *) = NULL;
    return argv;
}

/* Waits for pid (its own process group) to end; past the timeout kills the
 * group. 1: it was killed for taking too long. */
static int hook_wait(pid_t pid, int *pstatus, apr_interval_time_t timeout)
{
    apr_time_t deadline = apr_time_now() + (timeout > 0 ? timeout
                                            : ACME_HOOK_TIMEOUT_DEFAULT);
    pid_t w;

    for (;;) {
        w = waitpid(pid, pstatus, WNOHANG);
        if (w == pid || (w < 0 && errno != EINTR)) {
            return 0;
        }
        if (apr_time_now() > deadline) {
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
            waitpid(pid, pstatus, 0);
            return 1;
        }
        apr_sleep(apr_time_from_msec(20));
    }
}

apr_status_t acme_hook_run(acme_hook_result_t **pres, apr_pool_t *p,
                           const char *what, const char *cmd,
                           const char *const *args, apr_table_t *env,
                           apr_interval_time_t timeout, acme_err_t *err)
{
    acme_hook_result_t *res;
    apr_array_header_t *argv;
    const char **envp;
    int out_fd = -1, err_fd = -1, status = 0;
    apr_status_t rv = APR_SUCCESS;
    pid_t pid;

    res = apr_pcalloc(p, sizeof(*res));
    res->out = res->errout = "";
    argv = hook_argv(p, cmd, args);
    envp = build_env(p, env);

    out_fd = capture_fd();
    err_fd = capture_fd();
    if (out_fd < 0 || err_fd < 0) {
        rv = acme_err_set(err, p, APR_FROM_OS_ERROR(errno),
                          "cannot run %s: no temporary file: %s", what,
                          strerror(errno));
        goto cleanup;
    }
    pid = fork();
    if (pid < 0) {
        rv = acme_err_set(err, p, APR_FROM_OS_ERROR(errno),
                          "cannot run %s: fork: %s", what, strerror(errno));
        goto cleanup;
    }
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDONLY);
        setpgid(0, 0);
        if (devnull >= 0) dup2(devnull, 0);
        dup2(out_fd, 1);
        dup2(err_fd, 2);
        execve("/bin/sh", (char *const *)argv->elts, (char *const *)envp);
        _exit(127);
    }
    setpgid(pid, pid);
    res->timed_out = hook_wait(pid, &status, timeout);
    res->out = read_capture(p, out_fd);
    res->errout = read_capture(p, err_fd);
    res->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (res->timed_out) {
        rv = acme_err_set(err, p, ACME_EHOOK,
                          "%s '%s' did not finish within %d seconds and was "
                          "killed", what, cmd,
                          (int)apr_time_sec(timeout > 0 ? timeout
                                            : ACME_HOOK_TIMEOUT_DEFAULT));
    }
    else if (res->exit_code != 0) {
        const char *why = *res->errout ? res->errout : res->out;
        rv = acme_err_set(err, p, ACME_EHOOK, "%s '%s' %s %d%s%s", what, cmd,
                          res->exit_code < 0 ? "was killed by signal"
                          : "exited with status",
                          res->exit_code < 0 ? WTERMSIG(status)
                          : res->exit_code,
                          *why ? ": " : "", first_line(p, why));
    }
cleanup:
    if (out_fd >= 0) close(out_fd);
    if (err_fd >= 0) close(err_fd);
    if (pres) {
        *pres = res;
    }
    return rv;
}
