/* mod_acme: small helpers: base64url, strings, files. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <apr_base64.h>
#include <apr_file_io.h>
#include <apr_file_info.h>
#include <openssl/rand.h>

#include "acme_util.h"

const char *acme_b64url_encode(apr_pool_t *p, const unsigned char *data,
                               apr_size_t len)
{
    char *out, *c;
    int n;

    out = apr_palloc(p, apr_base64_encode_len((int)len));
    n = apr_base64_encode_binary(out, data, (int)len);
    out[n > 0 ? n - 1 : 0] = '\0';   /* n counts the NUL */
    for (c = out; *c; c++) {
        if (*c == '+') *c = '-';
        else if (*c == '/') *c = '_';
        else if (*c == '=') { *c = '\0'; break; }
    }
    return out;
}

apr_status_t acme_b64url_decode(unsigned char **pdata, apr_size_t *plen,
                                apr_pool_t *p, const char *s)
{
    apr_size_t len, i;
    char *std;
    unsigned char *out;
    int n;

    len = strlen(s);
    if (len % 4 == 1) {
        return ACME_EINVAL;
    }
    std = apr_palloc(p, len + 4);
    for (i = 0; i < len; i++) {
        char c = s[i];
        if (c == '-') c = '+';
        else if (c == '_') c = '/';
        else if (c == '=') {
            /* padding only at the end */
            apr_size_t j;
            for (j = i; j < len; j++) {
                if (s[j] != '=') {
                    return ACME_EINVAL;
                }
            }
            break;
        }
        else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
                   || (c >= '0' && c <= '9'))) {
            return ACME_EINVAL;
        }
        std[i] = c;
    }
    len = i;
    while (len % 4) {
        std[len++] = '=';
    }
    std[len] = '\0';
    out = apr_palloc(p, apr_base64_decode_len(std) + 1);
    n = apr_base64_decode_binary(out, std);
    if (n < 0) {
        return ACME_EINVAL;
    }
    out[n] = '\0';
    *pdata = out;
    if (plen) {
        *plen = (apr_size_t)n;
    }
    return APR_SUCCESS;
}

int acme_is_b64url(const char *s, apr_size_t maxlen)
{
    apr_size_t i;

    if (!s || !*s) {
        return 0;
    }
    for (i = 0; s[i]; i++) {
        char c = s[i];
        if (i >= maxlen) {
            return 0;
        }
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
              || (c >= '0' && c <= '9') || c == '-' || c == '_')) {
            return 0;
        }
    }
    return 1;
}

apr_status_t acme_file_read(char **pdata, apr_size_t *plen, apr_pool_t *p,
                            const char *path, apr_size_t maxlen)
{
    apr_file_t *f = NULL;
    apr_finfo_t fi;
    apr_status_t rv;
    char *buf;
    apr_size_t n;

    rv = apr_file_open(&f, path, APR_FOPEN_READ | APR_FOPEN_BINARY,
                       APR_OS_DEFAULT, p);
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    rv = apr_file_info_get(&fi, APR_FINFO_SIZE, f);
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    if ((apr_size_t)fi.size > maxlen) {
        rv = ACME_EINVAL;
        goto cleanup;
    }
    buf = apr_palloc(p, (apr_size_t)fi.size + 1);
    n = (apr_size_t)fi.size;
    rv = apr_file_read_full(f, buf, n, &n);
    if (rv != APR_SUCCESS && rv != APR_EOF) {
        goto cleanup;
    }
    rv = APR_SUCCESS;
    buf[n] = '\0';
    *pdata = buf;
    if (plen) {
        *plen = n;
    }
cleanup:
    if (f) {
        apr_file_close(f);
    }
    return rv;
}

apr_status_t acme_file_read_err(char **pdata, apr_size_t *plen, apr_pool_t *p,
                                const char *path, apr_size_t maxlen,
                                const char *what, acme_err_t *err)
{
    apr_status_t rv;
    char ebuf[256];

    rv = acme_file_read(pdata, plen, p, path, maxlen);
    if (rv != APR_SUCCESS) {
        acme_err_set(err, p, rv, "cannot read %s file %s: %s", what, path,
                     rv == ACME_EINVAL ? "file too large"
                     : apr_strerror(rv, ebuf, sizeof(ebuf)));
    }
    return rv;
}

typedef struct {
    void *obj;
    acme_free_fn *free_fn;
} pool_owned_t;

static apr_status_t pool_owned_free(void *data)
{
    pool_owned_t *o = data;

    o->free_fn(o->obj);
    return APR_SUCCESS;
}

void acme_pool_owns(apr_pool_t *p, void *obj, acme_free_fn *free_fn)
{
    pool_owned_t *o;

    if (!obj) {
        return;
    }
    o = apr_palloc(p, sizeof(*o));
    o->obj = obj;
    o->free_fn = free_fn;
    apr_pool_cleanup_register(p, o, pool_owned_free, apr_pool_cleanup_null);
}

static apr_status_t fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY);

    if (fd < 0) {
        return APR_FROM_OS_ERROR(errno);
    }
    fsync(fd);
    close(fd);
    return APR_SUCCESS;
}

static apr_status_t write_replace(const char *path, const void *data,
                                  apr_size_t len, apr_fileperms_t perms,
                                  int durable, apr_pool_t *p)
{
    apr_file_t *f = NULL;
    apr_status_t rv;
    char *tmp, *dir, *slash;
    apr_size_t written;

    tmp = apr_pstrcat(p, path, ".tmpXXXXXX", NULL);
    rv = apr_file_mktemp(&f, tmp, APR_FOPEN_CREATE | APR_FOPEN_WRITE
                         | APR_FOPEN_EXCL | APR_FOPEN_BINARY, p);
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    /* mktemp creates 0600; widen only when asked. */
    rv = apr_file_perms_set(tmp, perms);
    if (rv != APR_SUCCESS && rv != APR_ENOTIMPL) {
        goto cleanup;
    }
    rv = apr_file_write_full(f, data, len, &written);
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    rv = durable ? apr_file_sync(f) : APR_SUCCESS;
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    rv = apr_file_close(f);
    f = NULL;
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    rv = apr_file_rename(tmp, path, p);
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    tmp = NULL;
    dir = apr_pstrdup(p, path);
    slash = strrchr(dir, '/');
    if (slash && durable) {
        *slash = '\0';
        fsync_dir(*dir ? dir : "/");
    }
cleanup:
    if (f) {
        apr_file_close(f);
    }
    if (tmp && rv != APR_SUCCESS) {
        apr_file_remove(tmp, p);
    }
    return rv;
}

apr_status_t acme_file_write_atomic(const char *path, const void *data,
                                    apr_size_t len, apr_fileperms_t perms,
                                    apr_pool_t *p)
{
    return write_replace(path, data, len, perms, 1, p);
}

apr_status_t acme_file_write_volatile(const char *path, const void *data,
                                      apr_size_t len, apr_fileperms_t perms,
                                      apr_pool_t *p)
{
    return write_replace(path, data, len, perms, 0, p);
}

int acme_file_same(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino
        && a->st_size == b->st_size
        && a->st_mtim.tv_sec == b->st_mtim.tv_sec
        && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

apr_status_t acme_fs_sync(const char *path, apr_pool_t *p)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    apr_status_t rv = APR_SUCCESS;

    if (fd < 0) {
        return APR_FROM_OS_ERROR(errno);
    }
    if (syncfs(fd) < 0) {
        rv = APR_FROM_OS_ERROR(errno);
    }
    close(fd);
    return rv;
}

apr_status_t acme_mkdir(const char *path, apr_fileperms_t perms,
                        apr_pool_t *p)
{
    apr_status_t rv;

    rv = apr_dir_make_recursive(path, perms, p);
    if (rv != APR_SUCCESS && !APR_STATUS_IS_EEXIST(rv)) {
        return rv;
    }
    rv = apr_file_perms_set(path, perms);
    return rv == APR_ENOTIMPL ? APR_SUCCESS : rv;
}

char *acme_str_tolower(char *s)
{
    char *c;

    for (c = s; c && *c; c++) {
        if (*c >= 'A' && *c <= 'Z') {
            *c = (char)(*c - 'A' + 'a');
        }
    }
    return s;
}

const char *acme_hex_encode(apr_pool_t *p, const unsigned char *data,
                            apr_size_t len)
{
    static const char digits[] = "0123456789abcdef";
    char *out = apr_palloc(p, len * 2 + 1);
    apr_size_t i;

    for (i = 0; i < len; i++) {
        out[2 * i] = digits[data[i] >> 4];
        out[2 * i + 1] = digits[data[i] & 0x0f];
    }
    out[2 * len] = '\0';
    return out;
}

const char *acme_array_join(apr_pool_t *p, const apr_array_header_t *a,
                            const char *sep)
{
    const char *out = "";
    int i;

    for (i = 0; a && i < a->nelts; i++) {
        const char *s = APR_ARRAY_IDX(a, i, const char *);
        out = i ? apr_pstrcat(p, out, sep, s, NULL) : apr_pstrdup(p, s);
    }
    return out;
}

int acme_array_contains(const apr_array_header_t *a, const char *s)
{
    int i;

    for (i = 0; a && i < a->nelts; i++) {
        if (!strcasecmp(APR_ARRAY_IDX(a, i, const char *), s)) {
            return 1;
        }
    }
    return 0;
}

const char *acme_iso_time(apr_pool_t *p, apr_time_t t)
{
    apr_time_exp_t tm;

    apr_time_exp_gmt(&tm, t);
    return apr_psprintf(p, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
                        tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                        tm.tm_sec);
}

apr_uint32_t acme_random_uniform(apr_uint32_t n)
{
    apr_uint32_t r = 0;

    if (n <= 1) {
        return 0;
    }
    if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1) {
        r = (apr_uint32_t)apr_time_now();
    }
    return r % n;
}
