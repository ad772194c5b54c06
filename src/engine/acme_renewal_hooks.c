/* mod_acme: Certbot's renewal hooks (pre, deploy, post). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <apr_file_info.h>

#include "acme_renewal_hooks.h"
#include "acme_hook.h"

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The executables of a hook directory, sorted by name. */
static apr_array_header_t *dir_hooks(const char *dir, apr_pool_t *p)
{
    apr_array_header_t *out = apr_array_make(p, 4, sizeof(const char *));
    apr_dir_t *d;
    apr_finfo_t fi;

    if (apr_dir_open(&d, dir, p) != APR_SUCCESS) {
        return out;
    }
    while (apr_dir_read(&fi, APR_FINFO_NAME | APR_FINFO_TYPE, d)
           == APR_SUCCESS) {
        const char *path;
        if (fi.name[0] == '.' || fi.filetype != APR_REG) {
            continue;
        }
        path = apr_pstrcat(p, dir, "/", fi.name, NULL);
        if (access(path, X_OK) == 0) {
            APR_ARRAY_PUSH(out, const char *) = path;
        }
    }
    apr_dir_close(d);
    qsort(out->elts, (size_t)out->nelts, sizeof(const char *), cmp_str);
    return out;
}

int acme_renewal_hooks_run(const acme_store_t *store, const char *phase,
                           const char *cmd, int no_dirs, apr_table_t *env,
                           apr_interval_time_t timeout, const char **pmsg,
                           apr_pool_t *p)
{
    apr_array_header_t *hooks = apr_array_make(p, 4, sizeof(const char *));
    const char *what = apr_pstrcat(p, phase, " hook", NULL);
    int i, failed = 0;

    if (!no_dirs && store) {
        apr_array_header_t *d = dir_hooks(acme_store_path(store, p,
                                          "renewal-hooks", phase, NULL), p);
        apr_array_cat(hooks, d);
    }
    if (cmd && *cmd) {
        APR_ARRAY_PUSH(hooks, const char *) = cmd;
    }
    for (i = 0; i < hooks->nelts; i++) {
        const char *h = APR_ARRAY_IDX(hooks, i, const char *);
        acme_hook_result_t *res;
        acme_err_t err;

        acme_log(ACME_LOG_INFO, "running %s %s", what, h);
        if (acme_hook_run(&res, p, what, h, NULL, env, timeout, &err)
            != APR_SUCCESS) {
            failed++;
            acme_log(ACME_LOG_ERR, "%s", err.msg);
            if (pmsg && !*pmsg) {
                *pmsg = err.msg;
            }
        }
        else if (res->out && *res->out) {
            acme_log(ACME_LOG_INFO, "%s %s said: %s", what, h, res->out);
        }
    }
    return failed;
}

const char *acme_renewal_conf_hook(const acme_renewal_conf_t *conf,
                                   const char *key)
{
    const char *v = conf ? apr_table_get(conf->params, key) : NULL;

    return v && *v && strcmp(v, "None") ? v : NULL;
}
