/* mod_acme: errors, logging and library initialisation. */
#include <stdarg.h>
#include <stdio.h>

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/ssl.h>

#include "acme_common.h"

static acme_log_fn *log_fn;
static void *log_baton;
static acme_log_level_e log_max = ACME_LOG_NOTICE;

apr_status_t acme_err_set(acme_err_t *err, apr_pool_t *p, apr_status_t rv,
                          const char *fmt, ...)
{
    va_list ap;

    if (err) {
        va_start(ap, fmt);
        err->rv = rv;
        err->msg = apr_pvsprintf(p, fmt, ap);
        err->problem_type = NULL;
        err->retry_after = 0;
        va_end(ap);
    }
    return rv;
}

void acme_err_wrap(acme_err_t *err, apr_pool_t *p, const char *fmt, ...)
{
    va_list ap;
    const char *prefix;

    if (!err) {
        return;
    }
    va_start(ap, fmt);
    prefix = apr_pvsprintf(p, fmt, ap);
    va_end(ap);
    err->msg = err->msg ? apr_pstrcat(p, prefix, ": ", err->msg, NULL) : prefix;
}

void acme_err_clear(acme_err_t *err)
{
    if (err) {
        err->rv = APR_SUCCESS;
        err->msg = NULL;
        err->problem_type = NULL;
        err->retry_after = 0;
    }
}

void acme_log_set(acme_log_fn *fn, void *baton, acme_log_level_e max_level)
{
    log_fn = fn;
    log_baton = baton;
    log_max = max_level;
}

int acme_log_enabled(acme_log_level_e level)
{
    return log_fn != NULL && level <= log_max;
}

void acme_log(acme_log_level_e level, const char *fmt, ...)
{
    char buf[4096];
    va_list ap;

    if (!acme_log_enabled(level)) {
        return;
    }
    va_start(ap, fmt);
    apr_vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    log_fn(log_baton, level, buf);
}

apr_status_t acme_init(apr_pool_t *p)
{
    static int done;

    (void)p;
    if (!done) {
        OPENSSL_init_ssl(0, NULL);
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
            return ACME_EGENERAL;
        }
        done = 1;
    }
    return APR_SUCCESS;
}
