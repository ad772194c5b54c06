/* mod_acme: the supervisor process. mod_watchdog refuses parent-process
 * watchdogs on forking MPMs, so (as mod_cgid does with its daemon) the
 * httpd parent forks a process of its own in post_config. It stays root,
 * runs acme_sup_pass() (which starts `acmectl worker` as ACMEUser for each
 * order), and after a pass that activated certificates asks the parent for
 * ONE graceful restart. The parent replaces it on every restart and kills
 * it on stop; it exits by itself when the parent goes away. */
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "ap_listen.h"
#include "ap_mpm.h"
#include "mpm_common.h"
#include "apr_thread_proc.h"
#include "apr_portable.h"
#include "apr_strings.h"

#include "mod_acme.h"
#include "mod_acme_runtime.h"
#include "acme_util.h"

APLOG_USE_MODULE(acme);

#define STOP_GRACE       apr_time_from_sec(3)
#define MIN_LIFE_RESPAWN apr_time_from_sec(60)

/* The parent's record of the supervisor of one generation (pconf). */
typedef struct sup_proc_t {
    apr_proc_t proc;
    pid_t parent;              /* the httpd parent that forked it */
    int alive;                 /* not reaped yet */
    int registered;            /* registered as an APR "other child" */
    apr_time_t started;
    apr_pool_t *pool;          /* pconf */
    server_rec *base;
    acme_sup_conf_t *conf;
    int restart;               /* ACMERestart graceful */
} sup_proc_t;

static apr_status_t sup_spawn(sup_proc_t *sp);

/* ---------------------------------------------------------------------- */
/* engine logging                                                           */

/* Forwards an engine log line to the main server's error log. */
static void log_cb(void *baton, acme_log_level_e level, const char *msg)
{
    server_rec *s = baton;
    int l;

    switch (level) {
    case ACME_LOG_ERR:    l = APLOG_ERR; break;
    case ACME_LOG_WARN:   l = APLOG_WARNING; break;
    case ACME_LOG_NOTICE: l = APLOG_NOTICE; break;
    case ACME_LOG_INFO:   l = APLOG_INFO; break;
    case ACME_LOG_DEBUG:  l = APLOG_DEBUG; break;
    default:              l = APLOG_TRACE1; break;
    }
    ap_log_error(APLOG_MARK, l, 0, s, "mod_acme: %s", msg);
}

/* Installs the engine's log callback on the main server; the engine's level
 * follows the main server's LogLevel (at least notice). */
void acme_log_install(server_rec *base)
{
    acme_log_level_e max = ACME_LOG_NOTICE;
    int lvl = base->log.level;

    if (lvl >= APLOG_TRACE1) {
        max = ACME_LOG_TRACE;
    }
    else if (lvl >= APLOG_DEBUG) {
        max = ACME_LOG_DEBUG;
    }
    else if (lvl >= APLOG_INFO) {
        max = ACME_LOG_INFO;
    }
    acme_log_set(log_cb, base, max);
}

/* ---------------------------------------------------------------------- */
/* the supervisor process                                                   */

/* SIGTERM in the supervisor: take the workers of the process group down
 * and leave. Async-signal-safe calls only. */
static void sup_on_term(int sig)
{
    (void)sig;
    signal(SIGTERM, SIG_IGN);
    kill(0, SIGTERM);
    _exit(0);
}

/* Closes the inherited listening sockets: the supervisor serves nothing. */
static void close_listeners(void)
{
    ap_listen_rec *lr;

    for (lr = ap_listeners; lr; lr = lr->next) {
        apr_os_sock_t fd;
        if (lr->sd && apr_os_sock_get(&fd, lr->sd) == APR_SUCCESS && fd >= 0) {
            close(fd);
        }
    }
}

/* Set by SIGUSR2: `acmectl renew` asks for a pass now. */
static volatile sig_atomic_t sup_poked;

static void sup_on_poke(int sig)
{
    (void)sig;
    sup_poked = 1;
}

/* Sleeps until `until` in 1 s slices (or until poked); returns non-zero
 * when the parent is gone. */
static int sup_sleep(apr_time_t until, pid_t parent)
{
    while (apr_time_now() < until && !sup_poked) {
        if (getppid() != parent) {
            return 1;
        }
        sleep(1);
    }
    sup_poked = 0;
    return getppid() != parent;
}

/* STORE/.supervisor.pid: where `acmectl renew` sends its SIGUSR2. */
static void write_pid_file(const acme_sup_conf_t *conf, apr_pool_t *p)
{
    const char *path = apr_pstrcat(p, conf->store_dir, "/.supervisor.pid",
                                   NULL);
    const char *text = apr_psprintf(p, "%d\n", (int)getpid());

    acme_file_write_atomic(path, text, strlen(text),
                           APR_FPROT_UREAD | APR_FPROT_UWRITE
                           | APR_FPROT_GREAD | APR_FPROT_WREAD, p);
}

/* The parent's command line for its configuration test: the binary from
 * /proc/PID/exe into exe, the arguments from /proc/PID/cmdline without
 * "-k ACTION", plus "-t", into argv (at most 64 slots, NULL-terminated).
 * Returns 0, or -1 when either cannot be read. */
static int parent_cmdline(char *exe, apr_size_t exe_size, const char **argv,
                          pid_t parent, apr_pool_t *p)
{
    char *args = NULL;
    apr_size_t len = 0, i;
    ssize_t n;
    int argc = 0, fd;

    n = readlink(apr_psprintf(p, "/proc/%d/exe", (int)parent), exe,
                 exe_size - 1);
    /* /proc files have no size: read until EOF */
    fd = open(apr_psprintf(p, "/proc/%d/cmdline", (int)parent), O_RDONLY);
    if (fd >= 0) {
        ssize_t r;
        args = apr_palloc(p, 16385);
        while (len < 16384 && (r = read(fd, args + len, 16384 - len)) > 0) {
            len += (apr_size_t)r;
        }
        args[len] = '\0';
        close(fd);
    }
    if (n <= 0 || !len) {
        return -1;
    }
    exe[n] = '\0';
    argv[argc++] = exe;
    /* skip argv[0]; drop "-k ACTION" */
    for (i = strlen(args) + 1; i < len && argc < 60; i += strlen(args + i) + 1) {
        if (!strcmp(args + i, "-k")) {
            i += strlen(args + i) + 1;
            continue;
        }
        argv[argc++] = args + i;
    }
    argv[argc++] = "-t";
    argv[argc] = NULL;
    return 0;
}

/* Runs exe argv with stdout and stderr on fd and waits for it, at most
 * 60 s (then it is killed). Returns 0 with its wait status in *pstatus, or
 * -1 when it cannot be forked. */
static int run_to_file(const char *exe, const char *const *argv, int fd,
                       int *pstatus)
{
    apr_time_t deadline;
    apr_interval_time_t step;
    pid_t pid;

    *pstatus = 0;
    pid = fork();
    if (pid < 0) {
        return -1;
    }
    if (pid == 0) {
        dup2(fd, 1);
        dup2(fd, 2);
        execv(exe, (char *const *)argv);
        _exit(127);
    }
    deadline = apr_time_now() + apr_time_from_sec(60);
    /* a test takes tens of milliseconds: look after 1 ms, then twice as
     * long each time up to 50 ms, so the restart waits little past it */
    step = apr_time_from_msec(1);
    while (waitpid(pid, pstatus, WNOHANG) == 0) {
        if (apr_time_now() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, pstatus, 0);
            break;
        }
        apr_sleep(step);
        if (step < apr_time_from_msec(50)) {
            step *= 2;
        }
    }
    return 0;
}

/* What the configuration test wrote on fd, on one line. */
static const char *read_output(int fd, apr_pool_t *p)
{
    char buf[1024];
    ssize_t r;
    apr_size_t i;

    lseek(fd, 0, SEEK_SET);
    r = read(fd, buf, sizeof(buf) - 1);
    buf[r > 0 ? r : 0] = '\0';
    for (i = 0; buf[i]; i++) {
        if (buf[i] == '\n') buf[i] = ' ';
    }
    return apr_pstrdup(p, buf);
}

/* Runs httpd's configuration test with the parent's own command line
 * (binary from /proc/PID/exe, arguments from /proc/PID/cmdline without
 * "-k ACTION", plus "-t"). Returns 1 when the test passes, 0 with *pwhy
 * set when it fails, -1 when it cannot be run (then the restart goes on,
 * as before this check existed). */
static int parent_configtest(pid_t parent, const char **pwhy, apr_pool_t *p)
{
    char exe[1024], tmpl[] = "/tmp/acme-configtest-XXXXXX";
    const char *argv[64];
    int fd = -1, status = 0, result = -1;

    if (parent_cmdline(exe, sizeof(exe), argv, parent, p) != 0) {
        goto cleanup;
    }
    fd = mkstemp(tmpl);
    if (fd < 0) {
        goto cleanup;
    }
    unlink(tmpl);
    if (run_to_file(exe, argv, fd, &status) != 0) {
        goto cleanup;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        result = 1;
    }
    else if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
        result = -1;
    }
    else {
        *pwhy = read_output(fd, p);
        result = 0;
    }
cleanup:
    if (fd >= 0) {
        close(fd);
    }
    return result;
}

/* The supervisor's process setup: its own process group, the signals it
 * takes and ignores, no listening sockets. */
static void sup_setup_process(void)
{
    sigset_t none;

    setpgid(0, 0);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGTERM, sup_on_term);
    signal(SIGHUP, SIG_IGN);
    signal(AP_SIG_GRACEFUL, SIG_IGN);
    signal(AP_SIG_GRACEFUL_STOP, SIG_IGN);
    signal(SIGINT, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGCHLD, SIG_DFL);
    signal(SIGUSR2, sup_on_poke);
    close_listeners();
}

/* Whether the configuration test forbids the restart that would activate
 * `activated` certificates (a failed test; one that cannot run does
 * not). */
static int restart_blocked(sup_proc_t *sp, int activated, apr_pool_t *root)
{
    const char *why = NULL;
    apr_pool_t *tp;
    int ct;

    apr_pool_create(&tp, root);
    ct = parent_configtest(sp->parent, &why, tp);
    ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, sp->base,
                 "mod_acme: configuration test before the restart: "
                 "%s", ct > 0 ? "passed" : ct == 0 ? "failed"
                 : "could not be run");
    if (ct == 0) {
        /* a graceful restart with a broken configuration would stop
         * the server: keep serving the old certificates instead */
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, sp->base,
                     "mod_acme: %d certificate(s) renewed, but the "
                     "configuration test fails (%s); not restarting: "
                     "fix the configuration, then restart httpd to "
                     "activate them", activated, why);
    }
    apr_pool_destroy(tp);
    return ct == 0;
}

/* After a pass that activated certificates: the graceful restart (unless
 * ACMERestart off or the configuration test fails). Returns non-zero when
 * the restart was asked for (the supervisor then exits). */
static int sup_activate(sup_proc_t *sp, int activated, apr_pool_t *root)
{
    if (activated <= 0 || (sp->restart
                           && restart_blocked(sp, activated, root))) {
        return 0;
    }
    if (sp->restart) {
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, sp->base,
                     "mod_acme: %d certificate(s) activated, "
                     "graceful restart", activated);
        kill(sp->parent, AP_SIG_GRACEFUL);
        return 1;                     /* the restart starts a new one */
    }
    ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, sp->base,
                 "mod_acme: %d certificate(s) renewed; restart httpd "
                 "to activate", activated);
    return 0;
}

/* When the next pass runs: after ACMECheckInterval or at the pass's
 * next wakeup, whichever is first, but not within a second. */
static apr_time_t sup_next_wake(const acme_sup_conf_t *conf,
                                const acme_sup_result_t *res,
                                apr_time_t now)
{
    apr_time_t wake = now + conf->check_interval;

    if (res->next_wakeup && res->next_wakeup < wake) {
        wake = res->next_wakeup;
    }
    if (wake < now + apr_time_from_sec(1)) {
        wake = now + apr_time_from_sec(1);
    }
    return wake;
}

/* The supervisor's main loop; never returns. */
static void sup_main(sup_proc_t *sp)
{
    acme_sup_conf_t *conf = sp->conf;
    server_rec *base = sp->base;
    apr_pool_t *root, *scratch;

    sup_setup_process();
    apr_pool_create(&root, NULL);
    apr_pool_tag(root, "mod_acme_supervisor");
    acme_init(root);
    acme_log_install(base);
    write_pid_file(conf, root);
    ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, base,
                 "mod_acme: supervisor started (pid %" APR_PID_T_FMT
                 ", %d certificate(s), check every %" APR_TIME_T_FMT "s)",
                 getpid(), conf->mds->nelts,
                 apr_time_sec(conf->check_interval));

    for (;;) {
        acme_sup_result_t res;
        apr_time_t now, wake;
        apr_status_t rv;

        apr_pool_create(&scratch, root);
        memset(&res, 0, sizeof(res));
        rv = acme_sup_pass(&res, conf, scratch);
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_ERR, rv, base,
                         "mod_acme: supervisor pass failed; retrying in %"
                         APR_TIME_T_FMT "s",
                         apr_time_sec(conf->check_interval));
        }
        apr_pool_destroy(scratch);
        if (getppid() != sp->parent
            || sup_activate(sp, res.activated, root)) {
            break;
        }
        now = apr_time_now();
        wake = sup_next_wake(conf, &res, now);
        ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, base,
                     "mod_acme: supervisor sleeps %" APR_TIME_T_FMT "s",
                     apr_time_sec(wake - now));
        if (sup_sleep(wake, sp->parent)) {
            break;
        }
    }
    ap_log_error(APLOG_MARK, APLOG_INFO, 0, base,
                 "mod_acme: supervisor (pid %" APR_PID_T_FMT ") exits",
                 getpid());
    _exit(0);
}

/* ---------------------------------------------------------------------- */
/* the parent's side                                                        */

/* Stops the supervisor and its workers: SIGTERM to the process group, up
 * to STOP_GRACE for it to exit, then SIGKILL; always reaped. */
static void sup_stop(sup_proc_t *sp)
{
    pid_t pid = sp->proc.pid;
    apr_time_t deadline;
    int status;

    if (!sp->alive || pid <= 0 || getpid() != sp->parent) {
        return;
    }
    sp->alive = 0;
    if (kill(-pid, SIGTERM) < 0) {
        kill(pid, SIGTERM);
    }
    deadline = apr_time_now() + STOP_GRACE;
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid || (r < 0 && errno != EINTR)) {
            break;                  /* reaped, or not ours any more */
        }
        if (apr_time_now() >= deadline) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, sp->base,
                         "mod_acme: supervisor (pid %" APR_PID_T_FMT ") did "
                         "not stop in time, killing it", pid);
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
            }
            break;
        }
        apr_sleep(apr_time_from_msec(20));
    }
    ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, sp->base,
                 "mod_acme: supervisor (pid %" APR_PID_T_FMT ") stopped", pid);
}

/* Describes how the supervisor ended. The MPM passes the exit code or the
 * signal number (apr_proc_wait's exitcode), not a raw wait status. */
static const char *describe_status(apr_pool_t *p, int status)
{
    return apr_psprintf(p, "ended (exit code or signal %d)", status);
}

/* APR "other child" maintenance: the MPM reaps every child of the parent
 * and tells us when it was ours (DEATH); pconf's cleanup (restart, stop)
 * arrives as UNREGISTER. */
static void sup_maint(int reason, void *data, apr_wait_t status)
{
    sup_proc_t *sp = data;
    int mpm_state = AP_MPMQ_STOPPING;
    int abnormal;

    switch (reason) {
    case APR_OC_REASON_DEATH:
    case APR_OC_REASON_LOST:
        sp->alive = 0;
        if (sp->registered) {
            sp->registered = 0;
            apr_proc_other_child_unregister(sp);
        }
        if (reason == APR_OC_REASON_LOST) {
            break;
        }
        abnormal = status != 0;
        if (!abnormal) {
            break;              /* it asked for a restart, or parent change */
        }
        if (ap_mpm_query(AP_MPMQ_MPM_STATE, &mpm_state) != APR_SUCCESS) {
            mpm_state = AP_MPMQ_STOPPING;
        }
        if (mpm_state == AP_MPMQ_STOPPING) {
            break;
        }
        if (apr_time_now() - sp->started < MIN_LIFE_RESPAWN) {
            ap_log_error(APLOG_MARK, APLOG_ERR, 0, sp->base,
                         "mod_acme: supervisor (pid %" APR_PID_T_FMT ") %s "
                         "soon after it started; not restarting it: "
                         "certificates are not renewed until httpd is "
                         "restarted", sp->proc.pid,
                         describe_status(sp->pool, status));
            break;
        }
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, sp->base,
                     "mod_acme: supervisor (pid %" APR_PID_T_FMT ") %s, "
                     "restarting it", sp->proc.pid,
                     describe_status(sp->pool, status));
        sup_spawn(sp);
        break;
    case APR_OC_REASON_RESTART:
        if (sp->registered) {
            sp->registered = 0;
            apr_proc_other_child_unregister(sp);   /* -> UNREGISTER */
        }
        break;
    case APR_OC_REASON_UNREGISTER:
        sp->registered = 0;
        sup_stop(sp);
        break;
    default:
        break;
    }
}

/* Forks the supervisor and registers it with the parent. */
static apr_status_t sup_spawn(sup_proc_t *sp)
{
    apr_status_t rv;

    sp->parent = getpid();
    sp->started = apr_time_now();
    rv = apr_proc_fork(&sp->proc, sp->pool);
    if (rv == APR_INCHILD) {
        sup_main(sp);           /* does not return */
        _exit(0);
    }
    if (rv != APR_INPARENT) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, sp->base,
                     "mod_acme: cannot fork the supervisor process; "
                     "certificates will not be obtained or renewed");
        return rv;
    }
    setpgid(sp->proc.pid, sp->proc.pid);   /* no race with the child's own */
    sp->alive = 1;
    sp->registered = 1;
    apr_proc_other_child_register(&sp->proc, sup_maint, sp, NULL, sp->pool);
    return APR_SUCCESS;
}

/* Starts the supervisor process of this generation. */
apr_status_t acme_supervisor_start(apr_pool_t *pconf, server_rec *base)
{
    sup_proc_t *sp;

    if (!acme_rt || !acme_rt->sup || acme_rt->sup->mds->nelts == 0) {
        return APR_SUCCESS;
    }
    sp = apr_pcalloc(pconf, sizeof(*sp));
    sp->pool = pconf;
    sp->base = base;
    sp->conf = acme_rt->sup;
    sp->restart = acme_rt->restart;
    return sup_spawn(sp);
}
