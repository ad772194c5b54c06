/* mod_acme: common definitions for the engine (no httpd headers here). */
#ifndef ACME_COMMON_H
#define ACME_COMMON_H

#include <apr.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <apr_tables.h>
#include <apr_errno.h>
#include <apr_time.h>

#define ACME_VERSION "0.1.0"

/* Engine error codes, in APR's user range. */
#define ACME_EGENERAL    (APR_OS_START_USERERR + 1)  /* see the message */
#define ACME_EPROTO      (APR_OS_START_USERERR + 2)  /* CA answered something unexpected */
#define ACME_EPROBLEM    (APR_OS_START_USERERR + 3)  /* CA answered an ACME problem */
#define ACME_ETLS        (APR_OS_START_USERERR + 4)  /* TLS / certificate trust failure */
#define ACME_ECONNECT    (APR_OS_START_USERERR + 5)  /* CA not reachable */
#define ACME_EINVAL      (APR_OS_START_USERERR + 6)  /* bad input from the user */
#define ACME_ECRYPTO     (APR_OS_START_USERERR + 7)  /* OpenSSL failure */
#define ACME_ECHALLENGE  (APR_OS_START_USERERR + 8)  /* challenge/authorization invalid */
#define ACME_EHOOK       (APR_OS_START_USERERR + 9)  /* a user hook failed */
#define ACME_ETIMEOUT    (APR_OS_START_USERERR + 10) /* gave up waiting */
#define ACME_ENOTFOUND   (APR_OS_START_USERERR + 11) /* no such object */

/*
 * A failure with a message for people. Engine functions that can fail for a
 * reason the user must see take `acme_err_t *err` (may be NULL) and fill it.
 * The message is allocated from the pool given to acme_err_set().
 */
typedef struct acme_err_t {
    apr_status_t rv;       /* the status that was returned */
    const char *msg;       /* one line, no trailing newline */
    const char *problem_type; /* ACME problem type URN when the CA sent one */
    apr_interval_time_t retry_after; /* >0 when the CA asked to wait */
} acme_err_t;

/* Sets *err (if err is not NULL) to rv and a formatted message; returns rv. */
apr_status_t acme_err_set(acme_err_t *err, apr_pool_t *p, apr_status_t rv,
                          const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Prefixes the message already in err with a formatted context string. */
void acme_err_wrap(acme_err_t *err, apr_pool_t *p, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Clears *err. */
void acme_err_clear(acme_err_t *err);

/* Log levels of the engine's callback, ordered by importance. */
typedef enum {
    ACME_LOG_ERR = 0,
    ACME_LOG_WARN,
    ACME_LOG_NOTICE,
    ACME_LOG_INFO,
    ACME_LOG_DEBUG,
    ACME_LOG_TRACE
} acme_log_level_e;

/* The callback through which the engine logs; the front end installs it. */
typedef void acme_log_fn(void *baton, acme_log_level_e level, const char *msg);

/* Installs the engine's log callback; NULL silences the engine. */
void acme_log_set(acme_log_fn *fn, void *baton, acme_log_level_e max_level);

/* Returns non-zero when a message at this level would be passed on. */
int acme_log_enabled(acme_log_level_e level);

/* Logs a formatted message through the installed callback. Never pass
 * private key material. */
void acme_log(acme_log_level_e level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* One-time initialisation of the libraries the engine uses (libcurl,
 * OpenSSL). Safe to call more than once. */
apr_status_t acme_init(apr_pool_t *p);

#endif
