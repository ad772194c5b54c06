/* mod_acme: lineages in the store: archive/<name>/<kind>N.pem, the
 * live/<name>/ links that pick the current version, renewal/<name>.conf. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <apr_file_info.h>
#include <apr_file_io.h>
#include <apr_hash.h>

#include "acme_ari.h"
#include "acme_cert.h"
#include "acme_names.h"
#include "acme_store.h"
#include "acme_store_int.h"
#include "acme_util.h"

/* The four files of a version, in the order live/ links are flipped:
 * the private key last. */
static const char *const kinds[] = { "cert", "chain", "fullchain", "privkey" };
#define NKINDS 4
#define KIND_PRIVKEY 3

#define CONF_VERSION "2.0.0"
#define PEM_MAX_BYTES (1024 * 1024)

static const char readme_text[] =
    "This directory contains your keys and certificates.\n"
    "\n"
    "`privkey.pem`  : the private key for your certificate.\n"
    "`fullchain.pem`: the certificate file used in most server software.\n"
    "`chain.pem`    : used for OCSP stapling in Nginx >=1.3.7.\n"
    "`cert.pem`     : will break many server configurations, and should not "
    "be used\n"
    "                 without reading further documentation (see link "
    "below).\n"
    "\n"
    "WARNING: DO NOT MOVE OR RENAME THESE FILES!\n"
    "         mod_acme expects these files to remain in this location in "
    "order\n"
    "         to function properly!\n"
    "\n"
    "The files are symbolic links into ../../archive/<name>/; a renewal adds\n"
    "a new numbered set there and moves these links to it (the private key\n"
    "last). They are laid out as Certbot lays out /etc/letsencrypt/live, so\n"
    "services configured for Certbot's paths (Dovecot, Exim, Postfix) keep\n"
    "working.\n";

static const char *archive_file(const acme_store_t *s, apr_pool_t *p,
                                const char *name, int kind, int version)
{
    return acme_store_path(s, p, "archive", name,
                           apr_psprintf(p, "%s%d.pem", kinds[kind], version),
                           NULL);
}

static const char *live_file(const acme_store_t *s, apr_pool_t *p,
                             const char *name, int kind)
{
    return acme_store_path(s, p, "live", name,
                           apr_pstrcat(p, kinds[kind], ".pem", NULL), NULL);
}

/* If fname is "<kind><N>.pem" with kind one of the four, returns N (>= 1)
 * and the kind index in *pkind; else 0. */
static int parse_archive_name(const char *fname, int *pkind)
{
    int k;

    for (k = NKINDS - 1; k >= 0; k--) {
        apr_size_t kl = strlen(kinds[k]);
        const char *d;
        char *end;
        long n;
        if (strncmp(fname, kinds[k], kl) != 0) {
            continue;
        }
        d = fname + kl;
        if (*d < '0' || *d > '9') {
            continue;
        }
        n = strtol(d, &end, 10);
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

/* The highest N of any archive/<name>/<kind>N.pem (0 when none). */
static int archive_highest(const acme_store_t *s, const char *name,
                           apr_pool_t *p)
{
    apr_array_header_t *files;
    int i, max = 0;

    if (acme_store_list_dir(&files, acme_store_path(s, p, "archive", name,
                                                    NULL), 0, p)
        != APR_SUCCESS) {
        return 0;
    }
    for (i = 0; i < files->nelts; i++) {
        int n = parse_archive_name(APR_ARRAY_IDX(files, i, const char *),
                                   NULL);
        if (n > max) {
            max = n;
        }
    }
    return max;
}

/* Points live/<name>/<kind>.pem at archive version N: a new relative
 * symlink beside it, renamed over it. */
static apr_status_t link_flip(const acme_store_t *s, const char *name,
                              int kind, int version, apr_pool_t *p,
                              acme_err_t *err)
{
    apr_status_t rv = APR_SUCCESS;
    const char *target, *tmp, *path;

    target = apr_psprintf(p, "../../archive/%s/%s%d.pem", name, kinds[kind],
                          version);
    path = live_file(s, p, name, kind);
    tmp = acme_store_path(s, p, "live", name,
                          apr_pstrcat(p, ".", kinds[kind], ".pem.new", NULL),
                          NULL);
    if (unlink(tmp) != 0 && errno != ENOENT) {
        rv = APR_FROM_OS_ERROR(errno);
        acme_err_set(err, p, rv, "cannot remove %s: %s", tmp,
                     acme_store_strerror(p, rv));
        goto cleanup;
    }
    if (symlink(target, tmp) != 0) {
        rv = APR_FROM_OS_ERROR(errno);
        acme_err_set(err, p, rv, "cannot create link %s: %s", tmp,
                     acme_store_strerror(p, rv));
        goto cleanup;
    }
    if (rename(tmp, path) != 0) {
        rv = APR_FROM_OS_ERROR(errno);
        acme_err_set(err, p, rv, "cannot rename %s to %s: %s", tmp, path,
                     acme_store_strerror(p, rv));
        unlink(tmp);
        goto cleanup;
    }
cleanup:
    return rv;
}

/* Flips all four live links to version N (cert, chain, fullchain, privkey)
 * and syncs the directory. */
static apr_status_t links_flip(const acme_store_t *s, const char *name,
                               int version, int durable, apr_pool_t *p,
                               acme_err_t *err)
{
    apr_status_t rv = APR_SUCCESS;
    apr_file_t *dir = NULL;
    int k;

    for (k = 0; k < NKINDS; k++) {
        rv = link_flip(s, name, k, version, p, err);
        if (rv != APR_SUCCESS) {
            goto cleanup;
        }
    }
    /* make the renames durable (unless the caller flushes it all) */
    if (durable && apr_file_open(&dir, acme_store_path(s, p, "live", name, NULL),
                      APR_FOPEN_READ, APR_OS_DEFAULT, p) == APR_SUCCESS) {
        apr_file_sync(dir);
        apr_file_close(dir);
    }
cleanup:
    return rv;
}

/* The version a live link points at (the N of its target's file name), or
 * 0 when it is missing, not a link, or points elsewhere. */
static int link_version(const acme_store_t *s, const char *name, int kind,
                        apr_pool_t *p)
{
    char buf[4096];
    ssize_t n;
    const char *base;
    int k = -1, v;

    n = readlink(live_file(s, p, name, kind), buf, sizeof(buf) - 1);
    if (n <= 0) {
        return 0;
    }
    buf[n] = '\0';
    base = strrchr(buf, '/');
    base = base ? base + 1 : buf;
    v = parse_archive_name(base, &k);
    return (v > 0 && k == kind) ? v : 0;
}

/* Returns non-zero if all four archive files of version N exist and (when
 * they can be read) the key is the certificate's. */
static int version_complete(const acme_store_t *s, const char *name,
                            int version, apr_pool_t *p)
{
    apr_array_header_t *certs = NULL;
    acme_key_t *key = NULL;
    int k;

    for (k = 0; k < NKINDS; k++) {
        if (!acme_store_exists(archive_file(s, p, name, k, version), p)) {
            return 0;
        }
    }
    if (acme_chain_load(&certs, p, archive_file(s, p, name, 0, version), NULL)
        != APR_SUCCESS || !certs || certs->nelts < 1) {
        return 0;
    }
    if (acme_key_load(&key, p, archive_file(s, p, name, KIND_PRIVKEY,
                                            version), NULL) != APR_SUCCESS) {
        return 0;
    }
    return acme_cert_matches_key(APR_ARRAY_IDX(certs, 0, acme_cert_t *), key);
}

/* Resolves the live links to one version, repairing a set that does not
 * agree (or points at missing files) to the newest complete version. */
static apr_status_t links_resolve(int *pversion, const acme_store_t *s,
                                  const char *name, apr_pool_t *p,
                                  acme_err_t *err)
{
    apr_status_t rv = APR_SUCCESS;
    int v[NKINDS], k, n, same = 1;

    for (k = 0; k < NKINDS; k++) {
        v[k] = link_version(s, name, k, p);
        if (v[k] != v[0] || v[k] == 0) {
            same = 0;
        }
    }
    if (same) {
        for (k = 0; k < NKINDS; k++) {
            if (!acme_store_exists(archive_file(s, p, name, k, v[0]), p)) {
                same = 0;
            }
        }
    }
    if (same) {
        *pversion = v[0];
        goto cleanup;
    }
    for (n = archive_highest(s, name, p); n > 0; n--) {
        if (version_complete(s, name, n, p)) {
            break;
        }
    }
    if (n == 0) {
        rv = acme_err_set(err, p, ACME_EGENERAL,
                          "lineage %s: live links are broken (cert %d, chain "
                          "%d, fullchain %d, privkey %d) and archive/%s has "
                          "no complete version to repair them with",
                          name, v[0], v[1], v[2], v[3], name);
        goto cleanup;
    }
    acme_log(ACME_LOG_WARN, "lineage %s: live links disagree (cert %d, chain "
             "%d, fullchain %d, privkey %d): pointing them all at version %d",
             name, v[0], v[1], v[2], v[3], n);
    rv = links_flip(s, name, n, 1, p, err);
    if (rv != APR_SUCCESS) {
        acme_err_wrap(err, p, "lineage %s: repairing live links", name);
        goto cleanup;
    }
    *pversion = n;
cleanup:
    return rv;
}

apr_status_t acme_store_lineage_list(apr_array_header_t **pnames,
                                     const acme_store_t *s, apr_pool_t *p)
{
    apr_status_t rv = APR_SUCCESS;
    apr_array_header_t *names, *confs = NULL, *lives = NULL;
    int i;

    names = apr_array_make(p, 8, sizeof(const char *));
    acme_store_list_dir(&confs, acme_store_path(s, p, "renewal", NULL), 0, p);
    acme_store_list_dir(&lives, acme_store_path(s, p, "live", NULL), 1, p);
    for (i = 0; confs && i < confs->nelts; i++) {
        const char *f = APR_ARRAY_IDX(confs, i, const char *);
        apr_size_t n = strlen(f);
        if (n > 5 && !strcmp(f + n - 5, ".conf")) {
            APR_ARRAY_PUSH(names, const char *) = apr_pstrndup(p, f, n - 5);
        }
    }
    for (i = 0; lives && i < lives->nelts; i++) {
        const char *d = APR_ARRAY_IDX(lives, i, const char *);
        int j, dup = 0;
        for (j = 0; j < names->nelts && !dup; j++) {
            dup = !strcmp(APR_ARRAY_IDX(names, j, const char *), d);
        }
        if (!dup) {
            APR_ARRAY_PUSH(names, const char *) = d;
        }
    }
    acme_store_sort_names(names);
    *pnames = names;
    return rv;
}

/* The lineage's facts from its leaf certificate. */
static void lineage_facts(acme_lineage_t *l, acme_cert_t *leaf, apr_pool_t *p)
{
    /* the key type from the certificate's public key: no private key
     * parse (costly with OpenSSL 3's decoders) just to know its type */
    EVP_PKEY *pub = X509_get_pubkey(acme_cert_x509(leaf));
    acme_key_type_e kt;

    l->names = acme_cert_names(p, leaf);
    l->not_before = acme_cert_not_before(leaf);
    l->not_after = acme_cert_not_after(leaf);
    l->serial = acme_cert_serial_hex(p, leaf);
    l->issuer_cn = acme_cert_issuer_cn(p, leaf);
    if (acme_ari_cert_id(&l->ari_cert_id, p, leaf, NULL) != APR_SUCCESS) {
        l->ari_cert_id = NULL;
    }
    l->key_type = -1;
    if (pub && acme_key_get_type(&kt, acme_key_wrap(p, pub))
               == APR_SUCCESS) {
        l->key_type = (int)kt;
    }
}

/* Parses renewal/<name>.conf into l->conf; a missing file is no error. */
static apr_status_t lineage_conf(acme_lineage_t *l, const acme_store_t *s,
                                 const char *name, apr_pool_t *p,
                                 acme_err_t *err)
{
    const char *conf_path;
    char *text;
    apr_status_t rv;

    conf_path = acme_store_path(s, p, "renewal",
                                apr_pstrcat(p, name, ".conf", NULL), NULL);
    rv = acme_file_read(&text, NULL, p, conf_path, PEM_MAX_BYTES);
    if (APR_STATUS_IS_ENOENT(rv)) {
        rv = APR_SUCCESS;
    }
    else if (rv != APR_SUCCESS) {
        acme_err_set(err, p, rv, "cannot read %s: %s", conf_path,
                     acme_store_strerror(p, rv));
    }
    else {
        rv = acme_renewal_conf_parse(&l->conf, p, text, err);
        if (rv != APR_SUCCESS) {
            acme_err_wrap(err, p, "%s", conf_path);
        }
    }
    return rv;
}

apr_status_t acme_store_lineage_load(acme_lineage_t **plineage,
                                     const acme_store_t *s, const char *name,
                                     apr_pool_t *p, acme_err_t *err)
{
    apr_status_t rv;
    acme_lineage_t *l = NULL;
    apr_array_header_t *certs = NULL;
    apr_finfo_t fi;

    *plineage = NULL;
    if (!acme_store_name_ok(name)) {
        rv = acme_err_set(err, p, ACME_EINVAL, "invalid lineage name '%s'",
                          name ? name : "");
        goto cleanup;
    }
    l = apr_pcalloc(p, sizeof(*l));
    l->name = apr_pstrdup(p, name);
    l->live_dir = acme_store_path(s, p, "live", name, NULL);
    rv = apr_stat(&fi, l->live_dir, APR_FINFO_TYPE, p);
    if (rv != APR_SUCCESS || fi.filetype != APR_DIR) {
        rv = acme_err_set(err, p, ACME_ENOTFOUND,
                          "no certificate lineage '%s' (%s is missing)",
                          name, l->live_dir);
        goto cleanup;
    }
    l->cert_path = live_file(s, p, name, 0);
    l->chain_path = live_file(s, p, name, 1);
    l->fullchain_path = live_file(s, p, name, 2);
    l->privkey_path = live_file(s, p, name, KIND_PRIVKEY);

    rv = links_resolve(&l->version, s, name, p, err);
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    rv = acme_chain_load(&certs, p, l->cert_path, err);
    if (rv != APR_SUCCESS || !certs || certs->nelts < 1) {
        rv = (rv == APR_SUCCESS) ? ACME_EPROTO : rv;
        acme_err_wrap(err, p, "lineage %s: %s", name, l->cert_path);
        goto cleanup;
    }
    lineage_facts(l, APR_ARRAY_IDX(certs, 0, acme_cert_t *), p);

    rv = lineage_conf(l, s, name, p, err);
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    *plineage = l;
cleanup:
    return rv;
}

/* --- lineage cache --- */

struct acme_lineage_cache_t {
    apr_pool_t *pool;
    apr_hash_t *entries;              /* name -> cache_entry_t */
};

typedef struct {
    apr_pool_t *pool;                 /* the entry's own (freed on reload) */
    struct stat cert, live, conf;
    acme_lineage_t *lineage;
} cache_entry_t;

acme_lineage_cache_t *acme_lineage_cache_make(apr_pool_t *p)
{
    acme_lineage_cache_t *c = apr_pcalloc(p, sizeof(*c));

    c->pool = p;
    c->entries = apr_hash_make(p);
    return c;
}

/* The identities a cached lineage depends on; non-zero when cert.pem or
 * the live directory is missing. */
static int lineage_stats(struct stat *cert, struct stat *live,
                         struct stat *conf, const acme_store_t *s,
                         const char *name, apr_pool_t *p)
{
    if (stat(acme_store_path(s, p, "live", name, "cert.pem", NULL), cert)
        || stat(acme_store_path(s, p, "live", name, NULL), live)) {
        return 1;
    }
    if (stat(acme_store_path(s, p, "renewal", apr_pstrcat(p, name, ".conf",
                                                          NULL), NULL),
             conf)) {
        memset(conf, 0, sizeof(*conf));
    }
    return 0;
}

apr_status_t acme_store_lineage_load_cached(acme_lineage_t **plineage,
                                            const acme_store_t *s,
                                            const char *name,
                                            acme_lineage_cache_t *c,
                                            apr_pool_t *p, acme_err_t *err)
{
    struct stat cert, live, conf;
    cache_entry_t *e;
    apr_pool_t *ep;
    apr_status_t rv;

    if (!c || !acme_store_name_ok(name)
        || lineage_stats(&cert, &live, &conf, s, name, p)) {
        return acme_store_lineage_load(plineage, s, name, p, err);
    }
    e = apr_hash_get(c->entries, name, APR_HASH_KEY_STRING);
    if (e && acme_file_same(&e->cert, &cert) && acme_file_same(&e->live, &live)
        && acme_file_same(&e->conf, &conf)) {
        *plineage = e->lineage;
        return APR_SUCCESS;
    }
    apr_pool_create(&ep, c->pool);
    rv = acme_store_lineage_load(plineage, s, name, ep, err);
    if (rv != APR_SUCCESS) {
        /* the error's text lives in p, the caller's */
        if (err && err->msg) {
            err->msg = apr_pstrdup(p, err->msg);
        }
        apr_pool_destroy(ep);
        return rv;
    }
    if (e) {
        apr_pool_destroy(e->pool);
    }
    e = apr_pcalloc(ep, sizeof(*e));
    e->pool = ep;
    e->cert = cert;
    e->live = live;
    e->conf = conf;
    e->lineage = *plineage;
    apr_hash_set(c->entries, e->lineage->name, APR_HASH_KEY_STRING, e);
    return APR_SUCCESS;
}

apr_status_t acme_store_lineage_find(const char **pname, const acme_store_t *s,
                                     const apr_array_header_t *names,
                                     apr_pool_t *p)
{
    apr_status_t rv;
    apr_array_header_t *all = NULL;
    int i;

    *pname = NULL;
    rv = acme_store_lineage_list(&all, s, p);
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    for (i = 0; i < all->nelts; i++) {
        const char *n = APR_ARRAY_IDX(all, i, const char *);
        acme_lineage_t *l = NULL;
        if (acme_store_lineage_load(&l, s, n, p, NULL) != APR_SUCCESS) {
            continue;
        }
        if (acme_names_equal(l->names, names)) {
            *pname = l->name;
            break;
        }
    }
cleanup:
    return rv;
}

/* A lineage name is in use when any of its three places exists. */
static int name_in_use(const acme_store_t *s, const char *name, apr_pool_t *p)
{
    return acme_store_exists(acme_store_path(s, p, "renewal",
                             apr_pstrcat(p, name, ".conf", NULL), NULL), p)
        || acme_store_exists(acme_store_path(s, p, "live", name, NULL), p)
        || acme_store_exists(acme_store_path(s, p, "archive", name, NULL), p);
}

const char *acme_store_lineage_free_name(const acme_store_t *s,
                                         const char *base, apr_pool_t *p)
{
    const char *name = base;
    int i;

    for (i = 1; name_in_use(s, name, p) && i < 10000; i++) {
        name = apr_psprintf(p, "%s-%04d", base, i);
    }
    return name;
}

/* Writes the archive files of version N; never overwrites one. On failure
 * removes what it wrote. */
static apr_status_t archive_write(const acme_store_t *s, const char *name,
                                  int version, const char *const data[NKINDS],
                                  apr_pool_t *p, acme_err_t *err)
{
    apr_status_t rv = APR_SUCCESS;
    int k, written = 0;

    for (k = 0; k < NKINDS; k++) {
        const char *path = archive_file(s, p, name, k, version);
        if (acme_store_exists(path, p)) {
            rv = acme_err_set(err, p, APR_EEXIST, "%s already exists, not "
                              "overwriting it", path);
            goto cleanup;
        }
        rv = acme_file_write_volatile(path, data[k], strlen(data[k]),
                                      k == KIND_PRIVKEY ? 0x0600 : 0x0644,
                                      p);
        if (rv != APR_SUCCESS) {
            acme_err_set(err, p, rv, "cannot write %s: %s", path,
                         acme_store_strerror(p, rv));
            goto cleanup;
        }
        written++;
    }
    /* one flush for the four files and their names (not one per file):
     * they are on disk before the live links point at them */
    rv = acme_fs_sync(archive_file(s, p, name, 0, version), p);
    if (rv != APR_SUCCESS) {
        acme_err_set(err, p, rv, "cannot flush the archive of %s: %s", name,
                     acme_store_strerror(p, rv));
    }
cleanup:
    if (rv != APR_SUCCESS) {
        for (k = 0; k < written; k++) {
            apr_file_remove(archive_file(s, p, name, k, version), p);
        }
    }
    return rv;
}

/* Writes renewal/<name>.conf: conf (or an empty one) with the lineage's
 * paths; *ppath: its path. */
static apr_status_t renewal_conf_write(const char **ppath, acme_store_t *s,
                                       const char *name,
                                       acme_renewal_conf_t *conf,
                                       const char *archive_dir,
                                       apr_pool_t *p, acme_err_t *err)
{
    const char *path;
    apr_status_t rv;

    if (!conf) {
        conf = acme_renewal_conf_make(p);
    }
    if (!apr_table_get(conf->top, "version")) {
        apr_table_set(conf->top, "version", CONF_VERSION);
    }
    apr_table_set(conf->top, "archive_dir", archive_dir);
    apr_table_set(conf->top, "cert", live_file(s, p, name, 0));
    apr_table_set(conf->top, "privkey", live_file(s, p, name, KIND_PRIVKEY));
    apr_table_set(conf->top, "chain", live_file(s, p, name, 1));
    apr_table_set(conf->top, "fullchain", live_file(s, p, name, 2));
    path = acme_store_path(s, p, "renewal",
                           apr_pstrcat(p, name, ".conf", NULL), NULL);
    *ppath = path;
    rv = acme_store_ensure_dir(acme_store_path(s, p, "renewal", NULL), 0x0755,
                               p);
    if (rv == APR_SUCCESS) {
        const char *text = acme_renewal_conf_format(p, conf);
        rv = acme_file_write_volatile(path, text, strlen(text), 0x0644, p);
    }
    if (rv != APR_SUCCESS) {
        acme_err_set(err, p, rv, "cannot write %s: %s", path,
                     acme_store_strerror(p, rv));
    }
    return rv;
}

/* The four files of a version: cert, chain, fullchain, privkey. */
static void lineage_data(const char **data, const char *cert_pem,
                         const char *chain_pem, const char *privkey_pem,
                         apr_pool_t *p)
{
    if (!chain_pem) {
        chain_pem = "";
    }
    data[0] = cert_pem;
    data[1] = chain_pem;
    data[2] = apr_pstrcat(p, cert_pem,
                          cert_pem[strlen(cert_pem) - 1] == '\n' ? "" : "\n",
                          chain_pem, NULL);
    data[3] = privkey_pem;
}

apr_status_t acme_store_lineage_save(acme_store_t *s, const char *name,
                                     const char *cert_pem,
                                     const char *chain_pem,
                                     const char *privkey_pem,
                                     acme_renewal_conf_t *conf,
                                     int *pversion, apr_pool_t *p,
                                     acme_err_t *err)
{
    apr_status_t rv;
    const char *data[NKINDS];
    const char *archive_dir, *live_dir, *path;
    int version;

    if (pversion) {
        *pversion = 0;
    }
    if (!acme_store_name_ok(name)) {
        rv = acme_err_set(err, p, ACME_EINVAL, "invalid lineage name '%s'",
                          name ? name : "");
        goto cleanup;
    }
    if (!cert_pem || !*cert_pem || !privkey_pem || !*privkey_pem) {
        rv = acme_err_set(err, p, ACME_EINVAL, "lineage %s: no certificate "
                          "or no private key to store", name);
        goto cleanup;
    }
    lineage_data(data, cert_pem, chain_pem, privkey_pem, p);

    archive_dir = acme_store_path(s, p, "archive", name, NULL);
    live_dir = acme_store_path(s, p, "live", name, NULL);
    rv = acme_store_mkdir(archive_dir, 0x0700, 0, p, err);
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    version = archive_highest(s, name, p) + 1;
    rv = archive_write(s, name, version, data, p, err);
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    rv = acme_store_mkdir(live_dir, 0x0700, 0, p, err);
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    /* the README and the renewal conf before the links move: a failure
     * to write them leaves the previous version live, as it says */
    rv = acme_store_live_readme(s, name, p, err);
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    rv = renewal_conf_write(&path, s, name, conf, archive_dir, p, err);
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    rv = links_flip(s, name, version, 0, p, err);
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    if (pversion) {
        *pversion = version;
    }
    acme_log(ACME_LOG_INFO, "lineage %s: stored version %d", name, version);
    /* one flush for the links, the README and the renewal conf; the
     * version is in place and readable already, so a failure here is
     * reported, not undone */
    {
        apr_status_t frv = acme_fs_sync(path, p);
        if (frv != APR_SUCCESS) {
            acme_log(ACME_LOG_WARN, "lineage %s: cannot flush the store to "
                     "disk: %s", name, acme_store_strerror(p, frv));
        }
    }
cleanup:
    acme_store_note_change(s, p);
    return rv;
}

apr_status_t acme_store_lineage_delete(acme_store_t *s, const char *name,
                                       apr_pool_t *p, acme_err_t *err)
{
    apr_status_t rv = APR_SUCCESS;
    const char *paths[4];
    int i;

    if (!acme_store_name_ok(name)) {
        rv = acme_err_set(err, p, ACME_EINVAL, "invalid lineage name '%s'",
                          name ? name : "");
        goto cleanup;
    }
    /* live first: once it is gone the lineage is no longer served */
    paths[0] = acme_store_path(s, p, "live", name, NULL);
    paths[1] = acme_store_path(s, p, "archive", name, NULL);
    paths[2] = acme_store_path(s, p, "renewal",
                               apr_pstrcat(p, name, ".conf", NULL), NULL);
    paths[3] = acme_store_path(s, p, "state",
                               apr_pstrcat(p, name, ".json", NULL), NULL);
    for (i = 0; i < 4; i++) {
        rv = acme_store_remove_tree(paths[i], p);
        if (APR_STATUS_IS_ENOENT(rv)) {
            rv = APR_SUCCESS;
        }
        if (rv != APR_SUCCESS) {
            acme_err_set(err, p, rv, "cannot remove %s: %s", paths[i],
                         acme_store_strerror(p, rv));
            goto cleanup;
        }
    }
cleanup:
    acme_store_note_change(s, p);
    return rv;
}

apr_status_t acme_store_live_readme(const acme_store_t *s, const char *name,
                                    apr_pool_t *p, acme_err_t *err)
{
    const char *path = acme_store_path(s, p, "live", name, "README", NULL);
    apr_status_t rv = APR_SUCCESS;

    if (!acme_store_exists(path, p)) {
        rv = acme_file_write_volatile(path, readme_text, strlen(readme_text),
                                      0x0644, p);
        if (rv != APR_SUCCESS) {
            acme_err_set(err, p, rv, "cannot write %s: %s", path,
                         acme_store_strerror(p, rv));
        }
    }
    return rv;
}
