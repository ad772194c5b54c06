/* acmectl import: reading Certbot's lineages (renewal/NAME.conf, the
 * live/NAME links, the archive versions), each checked before anything is
 * written. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <apr_file_info.h>
#include <apr_strings.h>

#include "acmectl_import.h"
#include "acme_cert.h"
#include "acme_util.h"

const char *const acmectl_import_kinds[IMPORT_NKINDS] = {
    "cert", "chain", "fullchain", "privkey" };

/* the kinds of file, by index */
static const char *const *const kinds = acmectl_import_kinds;

int acmectl_import_version_of(const char *fname, int *pkind)
{
    int k;

    for (k = IMPORT_NKINDS - 1; k >= 0; k--) {
        apr_size_t kl = strlen(kinds[k]);
        char *end;
        long n;
        if (strncmp(fname, kinds[k], kl) != 0 || fname[kl] < '0'
            || fname[kl] > '9') {
            continue;
        }
        n = strtol(fname + kl, &end, 10);
        if (strcmp(end, ".pem") != 0 || n < 1 || n > 1000000) {
            continue;
        }
        if (pkind) {
            *pkind = k;
        }
        return (int)n;
    }
    return 0;
}

/* The archive version a Certbot live link points at, and the directory of
 * its target (resolved against the live directory). 0 when the entry is
 * not a link to <kind>N.pem. */
static int live_version(const char **pdir, const char *live_dir, int kind,
                        apr_pool_t *p)
{
    char buf[PATH_MAX];
    ssize_t n;
    const char *target, *base;
    int k = -1, v;

    n = readlink(apr_pstrcat(p, live_dir, "/", kinds[kind], ".pem", NULL),
                 buf, sizeof(buf) - 1);
    if (n <= 0) {
        return 0;
    }
    buf[n] = '\0';
    if (buf[0] == '/') {
        target = apr_pstrdup(p, buf);
    }
    else if (!strncmp(buf, "../../", 6)) {
        /* Certbot's relative link: from <dir>/live/<name>/ up to <dir> */
        char *top = apr_pstrdup(p, live_dir), *slash;
        int up;
        for (up = 0; up < 2 && (slash = strrchr(top, '/')); up++) {
            *slash = '\0';
        }
        target = apr_pstrcat(p, top, "/", buf + 6, NULL);
    }
    else {
        target = apr_pstrcat(p, live_dir, "/", buf, NULL);
    }
    base = strrchr(target, '/');
    v = acmectl_import_version_of(base + 1, &k);
    if (v == 0 || k != kind) {
        return 0;
    }
    *pdir = apr_pstrndup(p, target, base - target);
    return v;
}

/* l's renewal conf, parsed. */
static int conf_read(import_t *im, import_lineage_t *l, const char **pwhy,
                     apr_pool_t *p)
{
    const char *path;
    char *text;
    apr_size_t len;
    acme_err_t err;

    acme_err_clear(&err);
    path = apr_pstrcat(p, im->src, "/renewal/", l->name, ".conf", NULL);
    if (acme_file_read(&text, &len, p, path, IMPORT_PEM_MAX) != APR_SUCCESS) {
        *pwhy = apr_psprintf(p, "cannot read %s", path);
        return 0;
    }
    if (acme_renewal_conf_parse(&l->conf, p, text, &err) != APR_SUCCESS) {
        *pwhy = apr_psprintf(p, "%s: %s", path, err.msg);
        return 0;
    }
    return 1;
}

/* The version l's live links agree on (l->current) and the archive
 * directory they point into (l->src_archive). */
static int live_read(import_t *im, import_lineage_t *l, const char **pwhy,
                     apr_pool_t *p)
{
    const char *live_dir, *dirs[IMPORT_NKINDS];
    int k, v[IMPORT_NKINDS];

    live_dir = apr_pstrcat(p, im->src, "/live/", l->name, NULL);
    for (k = 0; k < IMPORT_NKINDS; k++) {
        dirs[k] = NULL;
        v[k] = live_version(&dirs[k], live_dir, k, p);
        if (!v[k]) {
            *pwhy = apr_psprintf(p, "%s/%s.pem is not a link to an archive "
                                 "file %sN.pem", live_dir, kinds[k],
                                 kinds[k]);
            return 0;
        }
        if (v[k] != v[0] || strcmp(dirs[k], dirs[0])) {
            *pwhy = apr_psprintf(p, "the links in %s point at different "
                                 "versions (cert %d, %s %d)", live_dir, v[0],
                                 kinds[k], v[k]);
            return 0;
        }
    }
    l->current = v[0];
    l->src_archive = dirs[0];
    return 1;
}

/* Checks that a complete version's key is its certificate's and notes the
 * serial; 0 with *pwhy when not. */
static int version_check(import_version_t *ver, const char *dir,
                         const char **pwhy, apr_pool_t *p)
{
    apr_array_header_t *certs;
    acme_key_t *key;
    acme_err_t err;
    int n = ver->n;

    acme_err_clear(&err);
    if (acme_chain_parse(&certs, p, ver->data[0], ver->len[0], &err)
        != APR_SUCCESS) {
        *pwhy = apr_psprintf(p, "%s/cert%d.pem: %s", dir, n, err.msg);
        return 0;
    }
    if (acme_key_from_pem(&key, p, ver->data[IMPORT_PRIVKEY],
                          ver->len[IMPORT_PRIVKEY], &err) != APR_SUCCESS) {
        *pwhy = apr_psprintf(p, "%s/privkey%d.pem: %s", dir, n, err.msg);
        return 0;
    }
    if (!acme_cert_matches_key(APR_ARRAY_IDX(certs, 0, acme_cert_t *), key)) {
        *pwhy = apr_psprintf(p, "%s/privkey%d.pem is not the key of "
                             "cert%d.pem", dir, n, n);
        return 0;
    }
    ver->serial = acme_cert_serial_hex(p, APR_ARRAY_IDX(certs, 0,
                                                        acme_cert_t *));
    return 1;
}

/* Reads archive version n of l: 1 and *pver when it is complete and
 * checked, 0 when it is missing or (not the current one) incomplete, -1
 * with *pwhy when the lineage cannot be imported. */
static int version_read(import_version_t **pver, import_t *im,
                        const import_lineage_t *l, int n, const char **pwhy,
                        apr_pool_t *p)
{
    import_version_t *ver = apr_pcalloc(p, sizeof(*ver));
    const char *dir = l->src_archive;
    int k, present = 0;

    ver->n = n;
    for (k = 0; k < IMPORT_NKINDS; k++) {
        char *data;
        const char *path = apr_psprintf(p, "%s/%s%d.pem", dir, kinds[k], n);
        if (acme_file_read(&data, &ver->len[k], p, path, IMPORT_PEM_MAX)
            == APR_SUCCESS) {
            ver->data[k] = data;
            present++;
        }
    }
    if (present == 0) {
        return 0;                       /* a gap in the numbering */
    }
    if (present < IMPORT_NKINDS) {
        if (n == l->current) {
            *pwhy = apr_psprintf(p, "version %d (the current one) is "
                                 "incomplete in %s", n, dir);
            return -1;
        }
        acmectl_say(im->ctl, "Note: %s: version %d is incomplete in %s, "
                    "not imported\n", l->name, n, dir);
        return 0;
    }
    if (!version_check(ver, dir, pwhy, p)) {
        return -1;
    }
    *pver = ver;
    return 1;
}

import_lineage_t *acmectl_import_lineage_read(import_t *im, const char *name,
                                              const char **pwhy,
                                              apr_pool_t *p)
{
    import_lineage_t *l = apr_pcalloc(p, sizeof(*l));
    apr_array_header_t *files;
    import_version_t *ver;
    int n, max = 0, i, got;

    l->name = name;
    if (!conf_read(im, l, pwhy, p) || !live_read(im, l, pwhy, p)) {
        return NULL;
    }
    if (acme_store_list_dir(&files, l->src_archive, 0, p) != APR_SUCCESS) {
        *pwhy = apr_psprintf(p, "cannot list %s", l->src_archive);
        return NULL;
    }
    for (i = 0; i < files->nelts; i++) {
        n = acmectl_import_version_of(APR_ARRAY_IDX(files, i, const char *),
                                      NULL);
        if (n > max) {
            max = n;
        }
    }
    l->versions = apr_array_make(p, max ? max : 1, sizeof(import_version_t *));
    for (n = 1; n <= max; n++) {
        got = version_read(&ver, im, l, n, pwhy, p);
        if (got < 0) {
            return NULL;
        }
        if (got > 0) {
            APR_ARRAY_PUSH(l->versions, import_version_t *) = ver;
        }
    }
    if (!l->versions->nelts) {
        *pwhy = apr_psprintf(p, "no certificate in %s", l->src_archive);
        return NULL;
    }
    return l;
}
