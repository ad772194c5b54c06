/* acmectl: the context the subcommands share, and their helpers to speak
 * (one line on failure, progress unless --quiet) and to take the store's
 * lock. */
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "acmectl_ctx.h"
#include "acme_client.h"
#include "acme_util.h"

acmectl_t *acmectl_ctx_make(apr_pool_t *pool)
{
    acmectl_t *ctl = apr_pcalloc(pool, sizeof(*ctl));

    ctl->pool = pool;
    ctl->config_dir = ACMECTL_DEFAULT_STORE;
    ctl->server = ACME_LE_PRODUCTION;
    ctl->http01_port = 80;
    ctl->key_type = ACME_KEY_EC256;
    ctl->hook_timeout = apr_time_from_sec(300);
    ctl->dns_timeout = apr_time_from_sec(120);
    ctl->delete_after_revoke = -1;
    ctl->names = apr_array_make(pool, 4, sizeof(const char *));
    ctl->contacts = apr_array_make(pool, 1, sizeof(const char *));
    ctl->webroots = apr_array_make(pool, 1, sizeof(const char *));
    ctl->unmapped = apr_array_make(pool, 1, sizeof(const char *));
    ctl->webroot_map = apr_table_make(pool, 4);
    ctl->pref_challs = apr_array_make(pool, 2, sizeof(const char *));
    ctl->cert_names = apr_array_make(pool, 1, sizeof(const char *));
    return ctl;
}

int acmectl_fail(acmectl_t *ctl, const char *fmt, ...)
{
    va_list ap;
    char *msg, *c;

    va_start(ap, fmt);
    msg = apr_pvsprintf(ctl->pool, fmt, ap);
    va_end(ap);
    for (c = msg; *c; c++) {
        if (*c == '\n' || *c == '\r') {
            *c = ' ';          /* one line, whatever the CA or a hook said */
        }
    }
    fprintf(stderr, "acmectl: %s\n", msg);
    return 1;
}

void acmectl_say(acmectl_t *ctl, const char *fmt, ...)
{
    va_list ap;

    if (ctl->quiet) {
        return;
    }
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    fflush(stdout);
}

const char *acmectl_iso_time(apr_pool_t *p, apr_time_t t)
{
    return acme_iso_time(p, t);
}

/* The store lock this process holds (taken once, kept until exit). */
static apr_file_t *store_lock;

apr_status_t acmectl_lock_store(acmectl_t *ctl, acme_store_t *store,
                                acme_err_t *err)
{
    apr_file_t *lock;
    const char *holder = NULL, *who;
    apr_status_t rv = APR_SUCCESS;

    if (store_lock) {
        goto cleanup;            /* flock() locks belong to the open file:
                                    one per process (ctl may be a
                                    per-lineage copy), kept until exit */
    }
    who = apr_psprintf(ctl->pool, "pid %d (acmectl %s)", (int)getpid(),
                       ctl->command);
    rv = acme_store_lock_as(&lock, store, who, 1, &holder, ctl->pool);
    if (rv == APR_EAGAIN) {
        acmectl_say(ctl, "Waiting for the store lock (held by %s)\n",
                    holder ? holder : "another process");
        rv = acme_store_lock_as(&lock, store, who, 0, NULL, ctl->pool);
    }
    if (rv != APR_SUCCESS) {
        rv = acme_err_set(err, ctl->pool, rv, "cannot lock the store %s",
                          store->base);
        goto cleanup;
    }
    store_lock = lock;
cleanup:
    return rv;
}
