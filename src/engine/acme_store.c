/* mod_acme: the store: opening and layout, paths, state files, locking.
 * Lineages are in acme_lineage.c, accounts in acme_account_store.c, the
 * renewal conf format in acme_renewal_conf.c. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <apr_file_info.h>
#include <apr_file_io.h>

#include "acme_store.h"
#include "acme_store_int.h"
#include "acme_util.h"

/* The store's directories and their modes, created by acme_store_open.
 * Modes are APR permission bits (APR_FPROT_UREAD is 0x0400): 0x0755 is
 * rwxr-xr-x, as are all modes in the store's files. */
static const struct {
    const char *path;
    apr_fileperms_t perms;
} store_dirs[] = {
    { "accounts",             0x0700 },
    { "archive",              0x0700 },
    { "live",                 0x0700 },
    { "renewal",              0x0755 },
    { "renewal-hooks",        0x0755 },
    { "renewal-hooks/pre",    0x0755 },
    { "renewal-hooks/deploy", 0x0755 },
    { "renewal-hooks/post",   0x0755 },
    { "challenges",           0x0755 },
    { "staging",              0x0700 },
    { "state",                0x0755 },
};

#define STORE_TOP_PERMS 0x0755

/* See acme_store_int.h: makes a directory unless it exists. */
apr_status_t acme_store_ensure_dir(const char *path, apr_fileperms_t perms,
                                   apr_pool_t *p)
{
    apr_finfo_t fi;
    apr_status_t rv;

    rv = apr_stat(&fi, path, APR_FINFO_TYPE, p);
    if (rv == APR_SUCCESS) {
        return fi.filetype == APR_DIR ? APR_SUCCESS : APR_ENOTDIR;
    }
    return acme_mkdir(path, perms, p);
}

/* See acme_store_int.h: acme_store_ensure_dir or acme_mkdir, and the
 * message. */
apr_status_t acme_store_mkdir(const char *path, apr_fileperms_t perms,
                              int chmod_existing, apr_pool_t *p,
                              acme_err_t *err)
{
    apr_status_t rv;

    rv = chmod_existing ? acme_mkdir(path, perms, p)
                        : acme_store_ensure_dir(path, perms, p);
    if (rv != APR_SUCCESS) {
        acme_err_set(err, p, rv, "cannot create %s: %s", path,
                     acme_store_strerror(p, rv));
    }
    return rv;
}

apr_status_t acme_store_open(acme_store_t **pstore, apr_pool_t *p,
                             const char *dir, int create, acme_err_t *err)
{
    apr_status_t rv;
    acme_store_t *s = NULL;
    char *abs = NULL;
    apr_finfo_t fi;
    apr_size_t i;

    *pstore = NULL;
    if (!dir || !*dir) {
        rv = acme_err_set(err, p, ACME_EINVAL, "no store directory given");
        goto cleanup;
    }
    rv = apr_filepath_merge(&abs, NULL, dir, APR_FILEPATH_NATIVE, p);
    if (rv != APR_SUCCESS) {
        acme_err_set(err, p, rv, "store directory %s: %s", dir,
                     acme_store_strerror(p, rv));
        goto cleanup;
    }
    /* no trailing slash, so that joined paths read well */
    for (i = strlen(abs); i > 1 && abs[i - 1] == '/'; i--) {
        abs[i - 1] = '\0';
    }
    if (create) {
        rv = acme_store_mkdir(abs, STORE_TOP_PERMS, 0, p, err);
        if (rv != APR_SUCCESS) {
            goto cleanup;
        }
        for (i = 0; i < sizeof(store_dirs) / sizeof(store_dirs[0]); i++) {
            const char *sub = apr_pstrcat(p, abs, "/", store_dirs[i].path,
                                          NULL);
            rv = acme_store_mkdir(sub, store_dirs[i].perms, 0, p, err);
            if (rv != APR_SUCCESS) {
                goto cleanup;
            }
        }
    }
    else {
        rv = apr_stat(&fi, abs, APR_FINFO_TYPE, p);
        if (rv != APR_SUCCESS || fi.filetype != APR_DIR) {
            rv = (rv == APR_SUCCESS) ? APR_ENOTDIR : rv;
            acme_err_set(err, p, APR_STATUS_IS_ENOENT(rv) ? APR_ENOENT : rv,
                         "store directory %s: %s", abs,
                         acme_store_strerror(p, rv));
            rv = APR_STATUS_IS_ENOENT(rv) ? APR_ENOENT : rv;
            goto cleanup;
        }
    }
    s = apr_pcalloc(p, sizeof(*s));
    s->pool = p;
    s->base = abs;
    *pstore = s;
cleanup:
    return rv;
}

const char *acme_store_path(const acme_store_t *s, apr_pool_t *p, ...)
{
    va_list ap;
    const char *part;
    const char *out = s->base;

    va_start(ap, p);
    while ((part = va_arg(ap, const char *)) != NULL) {
        out = apr_pstrcat(p, out, "/", part, NULL);
    }
    va_end(ap);
    return out;
}

/* --- helpers of the store's files (acme_store_int.h) and of acmectl import
 * (acme_store.h) --- */

const char *acme_store_strerror(apr_pool_t *p, apr_status_t rv)
{
    char buf[256];

    if (rv == ACME_EINVAL) {
        return "invalid content";
    }
    return apr_pstrdup(p, apr_strerror(rv, buf, sizeof(buf)));
}

int acme_store_name_ok(const char *name)
{
    return name && *name && name[0] != '.' && !strchr(name, '/')
           && strlen(name) <= 255;
}

int acme_store_exists(const char *path, apr_pool_t *p)
{
    apr_finfo_t fi;

    return apr_stat(&fi, path, APR_FINFO_TYPE | APR_FINFO_LINK, p)
           == APR_SUCCESS;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void acme_store_sort_names(apr_array_header_t *names)
{
    if (names->nelts > 1) {
        qsort(names->elts, (size_t)names->nelts, sizeof(const char *),
              cmp_str);
    }
}

apr_status_t acme_store_list_dir(apr_array_header_t **pentries,
                                 const char *dir, int want_dirs,
                                 apr_pool_t *p)
{
    apr_status_t rv;
    apr_dir_t *d = NULL;
    apr_finfo_t fi;
    apr_array_header_t *out = apr_array_make(p, 8, sizeof(const char *));

    rv = apr_dir_open(&d, dir, p);
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    while (apr_dir_read(&fi, APR_FINFO_NAME | APR_FINFO_TYPE, d)
           == APR_SUCCESS) {
        if (!fi.name || fi.name[0] == '.') {
            continue;
        }
        if (want_dirs == 1 && fi.filetype != APR_DIR) {
            continue;
        }
        if (want_dirs == 0 && fi.filetype == APR_DIR) {
            continue;
        }
        APR_ARRAY_PUSH(out, const char *) = apr_pstrdup(p, fi.name);
    }
    acme_store_sort_names(out);
cleanup:
    if (d) {
        apr_dir_close(d);
    }
    *pentries = (rv == APR_SUCCESS) ? out : NULL;
    return rv;
}

apr_status_t acme_store_remove_tree(const char *path, apr_pool_t *p)
{
    apr_status_t rv;
    apr_finfo_t fi;
    apr_dir_t *d = NULL;

    rv = apr_stat(&fi, path, APR_FINFO_TYPE | APR_FINFO_LINK, p);
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    if (fi.filetype != APR_DIR) {
        rv = apr_file_remove(path, p);
        goto cleanup;
    }
    rv = apr_dir_open(&d, path, p);
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    while (apr_dir_read(&fi, APR_FINFO_NAME, d) == APR_SUCCESS) {
        if (!strcmp(fi.name, ".") || !strcmp(fi.name, "..")) {
            continue;
        }
        rv = acme_store_remove_tree(apr_pstrcat(p, path, "/", fi.name, NULL),
                                    p);
        if (rv != APR_SUCCESS && !APR_STATUS_IS_ENOENT(rv)) {
            goto cleanup;
        }
    }
    apr_dir_close(d);
    d = NULL;
    rv = apr_dir_remove(path, p);
cleanup:
    if (d) {
        apr_dir_close(d);
    }
    return rv;
}

/* --- state --- */

apr_status_t acme_store_state_load(json_t **pjson, const acme_store_t *s,
                                   const char *name, apr_pool_t *p)
{
    apr_status_t rv = APR_SUCCESS;
    const char *path;
    json_error_t jerr;
    json_t *json = NULL;

    *pjson = NULL;
    if (!acme_store_name_ok(name)) {
        rv = ACME_EINVAL;
        goto cleanup;
    }
    path = acme_store_path(s, p, "state", apr_pstrcat(p, name, ".json", NULL),
                           NULL);
    if (!acme_store_exists(path, p)) {
        json = json_object();
        goto cleanup;
    }
    json = json_load_file(path, 0, &jerr);
    if (!json) {
        acme_log(ACME_LOG_WARN, "state file %s unreadable: %s (line %d)",
                 path, jerr.text, jerr.line);
        rv = ACME_EINVAL;
        goto cleanup;
    }
    if (!json_is_object(json)) {
        acme_log(ACME_LOG_WARN, "state file %s: not a JSON object", path);
        json_decref(json);
        json = NULL;
        rv = ACME_EINVAL;
        goto cleanup;
    }
cleanup:
    *pjson = json;
    return rv;
}

static apr_status_t state_write(acme_store_t *s, const char *name,
                                json_t *json, int durable, apr_pool_t *p)
{
    apr_status_t rv;
    const char *dir, *path;
    char *text = NULL;

    if (!acme_store_name_ok(name) || !json) {
        rv = ACME_EINVAL;
        goto cleanup;
    }
    dir = acme_store_path(s, p, "state", NULL);
    rv = acme_store_ensure_dir(dir, 0x0755, p);
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    text = json_dumps(json, JSON_INDENT(2));
    if (!text) {
        rv = ACME_EINVAL;
        goto cleanup;
    }
    path = apr_pstrcat(p, dir, "/", name, ".json", NULL);
    rv = durable ? acme_file_write_atomic(path, text, strlen(text), 0x0644, p)
                 : acme_file_write_volatile(path, text, strlen(text), 0x0644,
                                            p);
    acme_store_note_change(s, p);
    if (rv != APR_SUCCESS) {
        acme_log(ACME_LOG_ERR, "cannot write %s: %s", path,
                 acme_store_strerror(p, rv));
    }
cleanup:
    free(text);
    return rv;
}

apr_status_t acme_store_state_save(acme_store_t *s, const char *name,
                                   json_t *json, apr_pool_t *p)
{
    return state_write(s, name, json, 1, p);
}

apr_status_t acme_store_state_save_unsynced(acme_store_t *s, const char *name,
                                            json_t *json, apr_pool_t *p)
{
    return state_write(s, name, json, 0, p);
}

/* --- change mark --- */

void acme_store_note_change(const acme_store_t *s, apr_pool_t *p)
{
    static unsigned long seq;
    const char *path = acme_store_path(s, p, ".changes", NULL);
    const char *text = apr_psprintf(p, "%ld %" APR_TIME_T_FMT " %lu\n",
                                    (long)getpid(), apr_time_now(), ++seq);
    apr_file_t *f;

    /* not fsync'ed: after a crash, a restarted supervisor reads everything
     * anyway */
    if (apr_file_open(&f, path, APR_FOPEN_WRITE | APR_FOPEN_CREATE
                      | APR_FOPEN_TRUNCATE, 0x0644, p) == APR_SUCCESS) {
        apr_file_write_full(f, text, strlen(text), NULL);
        apr_file_close(f);
    }
}

const char *acme_store_change_mark(const acme_store_t *s, apr_pool_t *p)
{
    char *data = NULL;
    apr_size_t len = 0;

    if (acme_file_read(&data, &len, p, acme_store_path(s, p, ".changes",
                                                       NULL), 256)
        != APR_SUCCESS || !data) {
        return "";
    }
    return data;
}

/* --- locking --- */

apr_status_t acme_store_lock(apr_file_t **plock, acme_store_t *s,
                             int nonblock, apr_pool_t *p)
{
    apr_status_t rv;
    apr_file_t *f = NULL;
    const char *path = acme_store_path(s, p, ".lock", NULL);

    *plock = NULL;
    rv = apr_file_open(&f, path, APR_FOPEN_CREATE | APR_FOPEN_WRITE,
                       APR_FPROT_UREAD | APR_FPROT_UWRITE, p);
    if (rv != APR_SUCCESS) {
        f = NULL;
        goto cleanup;
    }
    rv = apr_file_lock(f, APR_FLOCK_EXCLUSIVE
                          | (nonblock ? APR_FLOCK_NONBLOCK : 0));
    if (rv != APR_SUCCESS) {
        if (APR_STATUS_IS_EAGAIN(rv) || rv == APR_FROM_OS_ERROR(EACCES)) {
            rv = APR_EAGAIN;
        }
        goto cleanup;
    }
    *plock = f;
    f = NULL;
cleanup:
    if (f) {
        apr_file_close(f);
    }
    return rv;
}

const char *acme_store_lock_holder(const acme_store_t *s, apr_pool_t *p)
{
    char *data = NULL;
    apr_size_t len;

    if (acme_file_read(&data, &len, p, acme_store_path(s, p, ".lock", NULL),
                       1024) != APR_SUCCESS || !len) {
        return NULL;
    }
    while (len && (data[len - 1] == '\n' || data[len - 1] == '\r')) {
        data[--len] = '\0';
    }
    return data;
}

apr_status_t acme_store_lock_as(apr_file_t **plock, acme_store_t *s,
                                const char *who, int nonblock,
                                const char **pholder, apr_pool_t *p)
{
    apr_status_t rv;
    apr_size_t n;
    apr_off_t zero = 0;

    if (pholder) {
        *pholder = NULL;
    }
    rv = acme_store_lock(plock, s, 1, p);
    if (rv == APR_EAGAIN) {
        if (pholder) {
            *pholder = acme_store_lock_holder(s, p);
        }
        if (nonblock) {
            return rv;
        }
        rv = acme_store_lock(plock, s, 0, p);
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    /* who holds it, for the one that has to wait */
    apr_file_trunc(*plock, 0);
    apr_file_seek(*plock, APR_SET, &zero);
    n = strlen(who);
    apr_file_write_full(*plock, who, n, NULL);
    apr_file_write_full(*plock, "\n", 1, NULL);
    apr_file_flush(*plock);
    return APR_SUCCESS;
}
