/* acmectl import: adopts Certbot's lineages (renewal/NAME.conf, live/NAME
 * links, archive/NAME versions) and the accounts they were obtained with,
 * so that the module serves the same certificates without a new order and
 * renews them with the same account.
 *
 * Certbot's directory is only read. For each lineage, everything is read
 * and checked first (every archive version complete, its key matching its
 * certificate, the live links agreeing on one version); only then is
 * anything written to the store: the archive versions with the same
 * numbers, the live links, renewal/NAME.conf last. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <apr_file_info.h>
#include <apr_file_io.h>
#include <apr_hash.h>

#include "acmectl_cmds.h"
#include "acme_cert.h"
#include "acme_certbot.h"
#include "acme_util.h"

#define CERTBOT_DEFAULT_DIR "/etc/letsencrypt"
#define PEM_MAX (1024 * 1024)
#define HOOK_MAX (64 * 1024 * 1024)
#define HOOK_PERMS (APR_UREAD | APR_UWRITE | APR_UEXECUTE | APR_GREAD \
                    | APR_GWRITE | APR_GEXECUTE | APR_WREAD | APR_WWRITE \
                    | APR_WEXECUTE)
#define NKINDS 4
#define KIND_PRIVKEY 3

static const char *const kinds[NKINDS] = { "cert", "chain", "fullchain",
                                           "privkey" };

/* One archive version of a Certbot lineage, read and checked. */
typedef struct version_t {
    int n;
    const char *data[NKINDS];
    apr_size_t len[NKINDS];
    const char *serial;
} version_t;

/* An account of Certbot's as imported (or not) in this run. */
typedef struct account_t {
    const char *id;        /* ours; NULL when it could not be imported */
    const char *why;       /* the reason when not */
} account_t;

typedef struct import_t {
    acmectl_t *ctl;
    const char *src;       /* Certbot's config dir */
    acme_store_t *store;
    apr_hash_t *accounts;  /* Certbot account dir -> account_t* */
    int imported, updated, unchanged, skipped, failed;
    int hooks;             /* hook scripts copied */
} import_t;

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int name_ok(const char *name)
{
    return name && *name && name[0] != '.' && !strchr(name, '/')
           && strlen(name) <= 255;
}

static int exists(const char *path, apr_pool_t *p)
{
    apr_finfo_t fi;

    return apr_stat(&fi, path, APR_FINFO_LINK | APR_FINFO_TYPE, p)
           == APR_SUCCESS;
}

/* "cert12.pem" -> 12 with *pkind the kind; 0 for other names. */
static int archive_version(const char *fname, int *pkind)
{
    int k;

    for (k = NKINDS - 1; k >= 0; k--) {
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

/* Lists a directory's entry names (not starting with '.'), sorted:
 * want_dirs 1 directories only, 0 anything else. */
static apr_status_t list_dir(apr_array_header_t **pout, const char *dir,
                             int want_dirs, apr_pool_t *p)
{
    apr_dir_t *d;
    apr_finfo_t fi;
    apr_status_t rv;
    apr_array_header_t *out = apr_array_make(p, 8, sizeof(const char *));

    *pout = out;
    rv = apr_dir_open(&d, dir, p);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    while (apr_dir_read(&fi, APR_FINFO_NAME | APR_FINFO_TYPE, d)
           == APR_SUCCESS) {
        if (fi.name[0] == '.' || want_dirs != (fi.filetype == APR_DIR)) {
            continue;
        }
        APR_ARRAY_PUSH(out, const char *) = apr_pstrdup(p, fi.name);
    }
    apr_dir_close(d);
    qsort(out->elts, out->nelts, sizeof(const char *), cmp_str);
    return APR_SUCCESS;
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
    v = archive_version(base + 1, &k);
    if (v == 0 || k != kind) {
        return 0;
    }
    *pdir = apr_pstrndup(p, target, base - target);
    return v;
}

/* Everything about one Certbot lineage, read and checked. */
typedef struct lineage_t {
    const char *name;
    acme_renewal_conf_t *conf;
    apr_array_header_t *versions;  /* version_t*, ascending */
    int current;                   /* the version live/ points at */
    const char *src_archive;
} lineage_t;

/* Reads a Certbot lineage; returns NULL with the reason in *pwhy when it
 * cannot be imported. Notes about skipped versions go to stdout. */
static lineage_t *lineage_read(import_t *im, const char *name,
                               const char **pwhy, apr_pool_t *p)
{
    lineage_t *l = apr_pcalloc(p, sizeof(*l));
    const char *path, *live_dir, *dir = NULL, *dirs[NKINDS];
    char *text;
    apr_size_t len;
    apr_array_header_t *files;
    acme_err_t err;
    int k, v[NKINDS], n, max = 0, i;

    l->name = name;
    acme_err_clear(&err);
    path = apr_pstrcat(p, im->src, "/renewal/", name, ".conf", NULL);
    if (acme_file_read(&text, &len, p, path, PEM_MAX) != APR_SUCCESS) {
        *pwhy = apr_psprintf(p, "cannot read %s", path);
        return NULL;
    }
    if (acme_renewal_conf_parse(&l->conf, p, text, &err) != APR_SUCCESS) {
        *pwhy = apr_psprintf(p, "%s: %s", path, err.msg);
        return NULL;
    }
    live_dir = apr_pstrcat(p, im->src, "/live/", name, NULL);
    for (k = 0; k < NKINDS; k++) {
        dirs[k] = NULL;
        v[k] = live_version(&dirs[k], live_dir, k, p);
        if (!v[k]) {
            *pwhy = apr_psprintf(p, "%s/%s.pem is not a link to an archive "
                                 "file %sN.pem", live_dir, kinds[k],
                                 kinds[k]);
            return NULL;
        }
        if (v[k] != v[0] || strcmp(dirs[k], dirs[0])) {
            *pwhy = apr_psprintf(p, "the links in %s point at different "
                                 "versions (cert %d, %s %d)", live_dir, v[0],
                                 kinds[k], v[k]);
            return NULL;
        }
    }
    l->current = v[0];
    l->src_archive = dir = dirs[0];
    if (list_dir(&files, dir, 0, p) != APR_SUCCESS) {
        *pwhy = apr_psprintf(p, "cannot list %s", dir);
        return NULL;
    }
    for (i = 0; i < files->nelts; i++) {
        n = archive_version(APR_ARRAY_IDX(files, i, const char *), NULL);
        if (n > max) {
            max = n;
        }
    }
    l->versions = apr_array_make(p, max ? max : 1, sizeof(version_t *));
    for (n = 1; n <= max; n++) {
        version_t *ver = apr_pcalloc(p, sizeof(*ver));
        apr_array_header_t *certs;
        acme_key_t *key;
        int present = 0;

        ver->n = n;
        for (k = 0; k < NKINDS; k++) {
            char *data;
            path = apr_psprintf(p, "%s/%s%d.pem", dir, kinds[k], n);
            if (acme_file_read(&data, &ver->len[k], p, path, PEM_MAX)
                == APR_SUCCESS) {
                ver->data[k] = data;
                present++;
            }
        }
        if (present == 0) {
            continue;                   /* a gap in the numbering */
        }
        if (present < NKINDS) {
            if (n == l->current) {
                *pwhy = apr_psprintf(p, "version %d (the current one) is "
                                     "incomplete in %s", n, dir);
                return NULL;
            }
            acmectl_say(im->ctl, "Note: %s: version %d is incomplete in %s, "
                        "not imported\n", name, n, dir);
            continue;
        }
        if (acme_chain_parse(&certs, p, ver->data[0], ver->len[0], &err)
            != APR_SUCCESS) {
            *pwhy = apr_psprintf(p, "%s/cert%d.pem: %s", dir, n, err.msg);
            return NULL;
        }
        if (acme_key_from_pem(&key, p, ver->data[KIND_PRIVKEY],
                              ver->len[KIND_PRIVKEY], &err) != APR_SUCCESS) {
            *pwhy = apr_psprintf(p, "%s/privkey%d.pem: %s", dir, n,
                                 err.msg);
            return NULL;
        }
        if (!acme_cert_matches_key(APR_ARRAY_IDX(certs, 0, acme_cert_t *),
                                   key)) {
            *pwhy = apr_psprintf(p, "%s/privkey%d.pem is not the key of "
                                 "cert%d.pem", dir, n, n);
            return NULL;
        }
        ver->serial = acme_cert_serial_hex(p, APR_ARRAY_IDX(certs, 0,
                                                            acme_cert_t *));
        APR_ARRAY_PUSH(l->versions, version_t *) = ver;
    }
    if (!l->versions->nelts) {
        *pwhy = apr_psprintf(p, "no certificate in %s", dir);
        return NULL;
    }
    return l;
}

/* Is our file at path exactly data? */
static int same_content(const char *path, const char *data, apr_size_t len,
                        apr_pool_t *p)
{
    char *ours;
    apr_size_t olen;

    return acme_file_read(&ours, &olen, p, path, PEM_MAX) == APR_SUCCESS
           && olen == len && memcmp(ours, data, len) == 0;
}

static const char *our_archive_file(import_t *im, apr_pool_t *p,
                                    const char *name, int kind, int n)
{
    return acme_store_path(im->store, p, "archive", name,
                           apr_psprintf(p, "%s%d.pem", kinds[kind], n), NULL);
}

/* Writes version v into our archive/<name>/; never overwrites a file. */
static apr_status_t version_write(import_t *im, const char *name,
                                  const version_t *v, const char **pwhy,
                                  apr_pool_t *p)
{
    apr_status_t rv;
    int k;

    for (k = 0; k < NKINDS; k++) {
        const char *path = our_archive_file(im, p, name, k, v->n);
        if (exists(path, p)) {
            *pwhy = apr_psprintf(p, "%s already exists", path);
            return APR_EEXIST;
        }
        rv = acme_file_write_atomic(path, v->data[k], v->len[k],
                                    k == KIND_PRIVKEY ? 0x0600 : 0x0644, p);
        if (rv != APR_SUCCESS) {
            char buf[120];
            *pwhy = apr_psprintf(p, "cannot write %s: %s", path,
                                 apr_strerror(rv, buf, sizeof(buf)));
            return rv;
        }
    }
    return APR_SUCCESS;
}

/* Points our live/<name>/ links at version n (relative links, each made
 * beside the old one and renamed over it; the private key last). */
static apr_status_t links_write(import_t *im, const char *name, int n,
                                const char **pwhy, apr_pool_t *p)
{
    const char *live = acme_store_path(im->store, p, "live", name, NULL);
    apr_status_t rv;
    int k;

    rv = acme_mkdir(live, 0x0700, p);
    if (rv != APR_SUCCESS) {
        *pwhy = apr_psprintf(p, "cannot create %s", live);
        return rv;
    }
    for (k = 0; k < NKINDS; k++) {
        const char *target = apr_psprintf(p, "../../archive/%s/%s%d.pem",
                                          name, kinds[k], n);
        const char *tmp = apr_pstrcat(p, live, "/.", kinds[k], ".pem.new",
                                      NULL);
        const char *path = apr_pstrcat(p, live, "/", kinds[k], ".pem", NULL);
        unlink(tmp);
        if (symlink(target, tmp) != 0 || rename(tmp, path) != 0) {
            rv = APR_FROM_OS_ERROR(errno);
            unlink(tmp);
            *pwhy = apr_psprintf(p, "cannot link %s: %s", path,
                                 strerror(errno));
            return rv;
        }
    }
    return APR_SUCCESS;
}


/* Writes renewal/<name>.conf: Certbot's, with our paths and account id.
 * Certbot's own directories (config_dir, work_dir, logs_dir) are left
 * out: they name the directory imported from. */
static apr_status_t conf_write(import_t *im, const lineage_t *l,
                               const char *account_id, const char **pwhy,
                               apr_pool_t *p)
{
    acme_renewal_conf_t *c = acme_renewal_conf_make(p);
    const char *live = acme_store_path(im->store, p, "live", l->name, NULL);
    const char *path, *text;
    apr_status_t rv;

    c->top = apr_table_copy(p, l->conf->top);
    c->params = apr_table_copy(p, l->conf->params);
    c->webroot_map = apr_table_copy(p, l->conf->webroot_map);
    if (!apr_table_get(c->top, "version")) {
        apr_table_set(c->top, "version", "2.0.0");
    }
    apr_table_set(c->top, "archive_dir", acme_store_path(im->store, p,
                  "archive", l->name, NULL));
    apr_table_set(c->top, "cert", apr_pstrcat(p, live, "/cert.pem", NULL));
    apr_table_set(c->top, "privkey", apr_pstrcat(p, live, "/privkey.pem",
                                                 NULL));
    apr_table_set(c->top, "chain", apr_pstrcat(p, live, "/chain.pem", NULL));
    apr_table_set(c->top, "fullchain", apr_pstrcat(p, live, "/fullchain.pem",
                                                   NULL));
    apr_table_unset(c->params, "config_dir");
    apr_table_unset(c->params, "work_dir");
    apr_table_unset(c->params, "logs_dir");
    if (account_id) {
        apr_table_set(c->params, "account", account_id);
    }
    path = acme_store_path(im->store, p, "renewal",
                           apr_pstrcat(p, l->name, ".conf", NULL), NULL);
    text = acme_renewal_conf_format(p, c);
    rv = acme_file_write_atomic(path, text, strlen(text), 0x0644, p);
    if (rv != APR_SUCCESS) {
        *pwhy = apr_psprintf(p, "cannot write %s", path);
    }
    return rv;
}

/* Imports (once per run) the Certbot account `id` at `server` and returns
 * what became of it. */
static account_t *account_import(import_t *im, const char *server,
                                 const char *cb_id)
{
    apr_pool_t *p = im->ctl->pool;
    account_t *a;
    const char *dir, *url = NULL, *ours, *first = NULL;
    acme_key_t *key = NULL;
    json_t *body = NULL;
    apr_array_header_t *ids;
    acme_err_t err;
    int i;

    dir = acme_certbot_account_dir(p, im->src, server);
    if (!dir || !name_ok(cb_id)) {
        a = apr_pcalloc(p, sizeof(*a));
        a->why = apr_psprintf(p, "the renewal conf names no usable account "
                              "(server %s, account %s)", server ? server
                              : "(none)", cb_id ? cb_id : "(none)");
        return a;
    }
    dir = apr_pstrcat(p, dir, "/", cb_id, NULL);
    if ((a = apr_hash_get(im->accounts, dir, APR_HASH_KEY_STRING))) {
        return a;
    }
    a = apr_pcalloc(p, sizeof(*a));
    apr_hash_set(im->accounts, dir, APR_HASH_KEY_STRING, a);
    acme_err_clear(&err);
    if (acme_certbot_account_load(&key, &url, &body, p, dir, &err)
        != APR_SUCCESS) {
        a->why = err.msg;
        return a;
    }
    /* already in the store (the same URL and key)? */
    ours = acme_store_account_dir(im->store, p, server);
    if (list_dir(&ids, ours, 1, p) == APR_SUCCESS) {
        for (i = 0; i < ids->nelts && !a->id; i++) {
            const char *id = APR_ARRAY_IDX(ids, i, const char *);
            acme_key_t *k2;
            const char *u2;
            const unsigned char *d1, *d2;
            apr_size_t l1, l2;
            if (acme_store_account_load(&k2, &u2, im->store, server, id, p,
                                        NULL) == APR_SUCCESS
                && !strcmp(u2, url)
                && acme_key_public_der(&d1, &l1, p, key) == APR_SUCCESS
                && acme_key_public_der(&d2, &l2, p, k2) == APR_SUCCESS
                && l1 == l2 && !memcmp(d1, d2, l1)) {
                a->id = id;
            }
        }
    }
    if (a->id) {
        acmectl_say(im->ctl, "Account %s is already in the store (%s/%s)\n",
                    url, ours, a->id);
    }
    else if (acme_store_account_save(&a->id, im->store, server, key, url,
                                     body, p, &err) != APR_SUCCESS) {
        a->id = NULL;
        a->why = err.msg;
    }
    else {
        char *meta;
        apr_size_t mlen;
        /* keep Certbot's creation date and host */
        if (acme_file_read(&meta, &mlen, p, apr_pstrcat(p, dir, "/meta.json",
                                                        NULL), 65536)
            == APR_SUCCESS) {
            json_t *m = json_loadb(meta, mlen, 0, NULL);
            if (json_is_object(m)) {
                acme_file_write_atomic(apr_pstrcat(p, ours, "/", a->id,
                                                   "/meta.json", NULL),
                                       meta, mlen, 0x0644, p);
            }
            if (m) {
                json_decref(m);
            }
        }
        acmectl_say(im->ctl, "Imported account %s (Certbot's %s) into "
                    "%s/%s\n", url, dir, ours, a->id);
    }
    if (body) {
        json_decref(body);
    }
    if (a->id && acme_store_account_find(&first, im->store, server, p)
        == APR_SUCCESS && first && strcmp(first, a->id)) {
        acmectl_say(im->ctl, "Warning: the store already had account %s for "
                    "%s; the module and acmectl use that one, not the "
                    "imported %s (remove %s/%s to renew with Certbot's "
                    "account)\n", first, server, a->id, ours, first);
    }
    return a;
}

/* Reports a lineage that cannot be imported, on stderr. */
static void refuse(import_t *im, const char *name, const char *why)
{
    acmectl_fail(im->ctl, "%s: not imported: %s", name, why);
    im->failed++;
}

/* Says which per-lineage hooks (Certbot's pre_hook, post_hook, renew_hook
 * in renewal/NAME.conf) came along, and who runs them. */
static void lineage_hooks_note(import_t *im, const lineage_t *l,
                               apr_pool_t *p)
{
    static const char *const keys[] = { "pre_hook", "post_hook",
                                        "renew_hook", "deploy_hook" };
    const char *found = "";
    int i;

    for (i = 0; i < 4; i++) {
        const char *v = apr_table_get(l->conf->params, keys[i]);
        if (v && *v && strcmp(v, "None")) {
            found = apr_pstrcat(p, found, *found ? ", " : "", keys[i], " = ",
                                v, NULL);
        }
    }
    if (*found) {
        acmectl_say(im->ctl, "Note: %s keeps its hooks (%s): acmectl renew "
                    "runs them; if the module takes %s over (ACMEDomain), "
                    "use ACMEPreHook/ACMEDeployHook/ACMEPostHook or "
                    "renewal-hooks/ instead\n", l->name, found, l->name);
    }
}

static void lineage_import(import_t *im, const char *name, apr_pool_t *p)
{
    acmectl_t *ctl = im->ctl;
    lineage_t *l;
    const char *why = NULL, *server, *account_id = NULL;
    const char *our_live, *our_archive, *our_conf;
    account_t *acc;
    version_t *cur = NULL;
    int i, k, ours_max = 0, fresh, newer = 0, flip;
    apr_array_header_t *files;

    if (!name_ok(name)) {
        refuse(im, name, "not a usable lineage name");
        return;
    }
    l = lineage_read(im, name, &why, p);
    if (!l) {
        refuse(im, name, why);
        return;
    }
    for (i = 0; i < l->versions->nelts; i++) {
        version_t *v = APR_ARRAY_IDX(l->versions, i, version_t *);
        if (v->n == l->current) {
            cur = v;
        }
    }
    our_live = acme_store_path(im->store, p, "live", name, NULL);
    our_archive = acme_store_path(im->store, p, "archive", name, NULL);
    our_conf = acme_store_path(im->store, p, "renewal",
                               apr_pstrcat(p, name, ".conf", NULL), NULL);
    fresh = !exists(our_live, p) && !exists(our_archive, p)
            && !exists(our_conf, p);

    if (!fresh && !ctl->force_renewal) {
        /* imported before? Then every version we have of Certbot's is the
         * same, and only versions Certbot made since are new. */
        int same = 1;
        if (list_dir(&files, our_archive, 0, p) == APR_SUCCESS) {
            for (i = 0; i < files->nelts; i++) {
                int n = archive_version(APR_ARRAY_IDX(files, i,
                                                      const char *), NULL);
                if (n > ours_max) {
                    ours_max = n;
                }
            }
        }
        for (i = 0; i < l->versions->nelts && same; i++) {
            version_t *v = APR_ARRAY_IDX(l->versions, i, version_t *);
            if (v->n > ours_max) {
                newer++;
                continue;
            }
            for (k = 0; k < NKINDS; k++) {
                if (!same_content(our_archive_file(im, p, name, k, v->n),
                                  v->data[k], v->len[k], p)) {
                    same = 0;
                }
            }
        }
        if (!same || ours_max == 0 || !exists(our_conf, p)) {
            acmectl_say(ctl, "Skipping %s: the store already has a lineage "
                        "of that name (%s) that is not this Certbot "
                        "lineage; --force replaces it\n", name, our_live);
            im->skipped++;
            return;
        }
        if (!newer) {
            acmectl_say(ctl, "%s: already imported, nothing to do\n", name);
            im->unchanged++;
            return;
        }
    }
    else if (!fresh) {
        acme_err_t err;
        acmectl_say(ctl, "Replacing %s in the store (--force)\n", name);
        if (acme_store_lineage_delete(im->store, name, p, &err)
            != APR_SUCCESS) {
            refuse(im, name, err.msg);
            return;
        }
        fresh = 1;
    }

    /* the account it was obtained with */
    server = apr_table_get(l->conf->params, "server");
    acc = account_import(im, server, apr_table_get(l->conf->params,
                                                   "account"));
    if (acc->id) {
        account_id = acc->id;
    }
    else {
        acmectl_fail(ctl, "%s: Certbot's account was not imported (%s); a "
                     "renewal will register a new account", name, acc->why);
        im->failed++;
    }

    /* write: archive versions, live links, README, renewal conf last */
    if (acme_mkdir(our_archive, 0x0700, p) != APR_SUCCESS) {
        why = apr_psprintf(p, "cannot create %s", our_archive);
        goto failed;
    }
    for (i = 0; i < l->versions->nelts; i++) {
        version_t *v = APR_ARRAY_IDX(l->versions, i, version_t *);
        if (!fresh && v->n <= ours_max) {
            continue;
        }
        if (version_write(im, name, v, &why, p) != APR_SUCCESS) {
            goto failed;
        }
    }
    flip = fresh || l->current > ours_max;
    if (flip && links_write(im, name, l->current, &why, p) != APR_SUCCESS) {
        goto failed;
    }
    acme_store_live_readme(im->store, name, p, NULL);
    if (conf_write(im, l, account_id, &why, p) != APR_SUCCESS) {
        goto failed;
    }
    lineage_hooks_note(im, l, p);
    if (fresh) {
        acmectl_say(ctl, "Imported %s: %d version%s, live/ at version %d "
                    "(serial %s)\n", name, l->versions->nelts,
                    l->versions->nelts == 1 ? "" : "s", l->current,
                    cur ? cur->serial : "?");
        im->imported++;
    }
    else {
        acmectl_say(ctl, "Updated %s: %d new version%s from Certbot%s\n",
                    name, newer, newer == 1 ? "" : "s", flip
                    ? apr_psprintf(p, ", live/ at version %d", l->current)
                    : "");
        im->updated++;
    }
    return;

failed:
    if (fresh) {
        acme_store_lineage_delete(im->store, name, p, NULL);
    }
    refuse(im, name, why ? why : "cannot write to the store");
}

/* Copies one entry of Certbot's renewal-hooks/<phase>/ into the store's,
 * unless the store has one of that name. */
static void hook_import(import_t *im, const char *phase, const char *name,
                        apr_pool_t *p)
{
    const char *src = apr_pstrcat(p, im->src, "/renewal-hooks/", phase, "/",
                                  name, NULL);
    const char *dst = acme_store_path(im->store, p, "renewal-hooks", phase,
                                      name, NULL);
    apr_fileperms_t perms;
    apr_size_t len, nlen = strlen(name);
    apr_status_t rv;
    acme_err_t err;
    char *data;

    if (name[0] == '.' || name[nlen - 1] == '~') {
        acmectl_say(im->ctl, "Note: hook %s not copied: %s\n", src,
                    name[0] == '.' ? "a dot file (the store's hooks never "
                    "run those)" : "a backup file (Certbot does not run it)");
        return;
    }
    acme_err_clear(&err);
    if (acme_certbot_hook_read(&data, &len, &perms, p, im->src, src,
                               HOOK_MAX, &err) != APR_SUCCESS) {
        acmectl_say(im->ctl, "Warning: hook %s not copied: %s; copy it "
                    "yourself if it should run\n", src, err.msg);
        return;
    }
    if (!(perms & (APR_UEXECUTE | APR_GEXECUTE | APR_WEXECUTE))) {
        acmectl_say(im->ctl, "Note: hook %s not copied: not executable "
                    "(Certbot does not run it)\n", src);
        return;
    }
    if (exists(dst, p)) {
        apr_finfo_t fi;
        char *ours;
        apr_size_t olen;
        if (apr_stat(&fi, dst, APR_FINFO_PROT | APR_FINFO_TYPE
                     | APR_FINFO_LINK, p) == APR_SUCCESS
            && fi.filetype == APR_REG && (fi.protection & HOOK_PERMS) == perms
            && acme_file_read(&ours, &olen, p, dst, HOOK_MAX) == APR_SUCCESS
            && olen == len && !memcmp(ours, data, len)) {
            acmectl_say(im->ctl, "Hook %s is already in the store (%s)\n",
                        src, dst);
        }
        else {
            acmectl_say(im->ctl, "Skipping hook %s: the store already has a "
                        "different %s (not replaced)\n", src, dst);
        }
        return;
    }
    rv = acme_file_write_atomic(dst, data, len, perms, p);
    if (rv != APR_SUCCESS) {
        char buf[120];
        acmectl_fail(im->ctl, "cannot copy hook %s to %s: %s", src, dst,
                     apr_strerror(rv, buf, sizeof(buf)));
        im->failed++;
        return;
    }
    acmectl_say(im->ctl, "Copied hook %s to %s\n", src, dst);
    im->hooks++;
}

/* Copies Certbot's renewal-hooks/{pre,deploy,post}/ executables into the
 * store's, where acmectl renew and the module run them: the contents of
 * regular files (modes kept); links out of Certbot's directory and other
 * kinds of files are reported, not followed. */
static void hooks_import(import_t *im, apr_pool_t *p)
{
    static const char *const phases[] = { "pre", "deploy", "post" };
    apr_array_header_t *names;
    apr_dir_t *d;
    apr_finfo_t fi;
    int i, j;

    for (i = 0; i < 3; i++) {
        const char *dir = apr_pstrcat(p, im->src, "/renewal-hooks/",
                                      phases[i], NULL);
        names = apr_array_make(p, 4, sizeof(const char *));
        if (apr_dir_open(&d, dir, p) != APR_SUCCESS) {
            continue;
        }
        while (apr_dir_read(&fi, APR_FINFO_NAME, d) == APR_SUCCESS) {
            if (strcmp(fi.name, ".") && strcmp(fi.name, "..")) {
                APR_ARRAY_PUSH(names, const char *) = apr_pstrdup(p,
                                                                  fi.name);
            }
        }
        apr_dir_close(d);
        qsort(names->elts, names->nelts, sizeof(const char *), cmp_str);
        for (j = 0; j < names->nelts; j++) {
            hook_import(im, phases[i], APR_ARRAY_IDX(names, j, const char *),
                        p);
        }
    }
}

int acmectl_cmd_import(acmectl_t *ctl)
{
    apr_pool_t *p = ctl->pool, *sub;
    import_t im;
    apr_array_header_t *confs, *names;
    apr_file_t *lock = NULL;
    acme_err_t err;
    const char *store_dir;
    char rs[PATH_MAX], rd[PATH_MAX];
    int i;

    memset(&im, 0, sizeof(im));
    im.ctl = ctl;
    im.accounts = apr_hash_make(p);
    /* Which directory is which: --certbot-dir names Certbot's, and then
     * --config-dir is the store as for every command. Without it,
     * --config-dir is read as Certbot reads it (its config dir), and the
     * store is the default one. */
    if (ctl->certbot_dir) {
        im.src = ctl->certbot_dir;
        store_dir = ctl->config_dir;
    }
    else {
        im.src = ctl->config_dir_set ? ctl->config_dir : CERTBOT_DEFAULT_DIR;
        store_dir = ACMECTL_DEFAULT_STORE;
    }
    if (ctl->names->nelts || ctl->dry_run) {
        return acmectl_fail(ctl, "import takes no -d or --dry-run (see "
                            "acmectl --help)");
    }
    if (list_dir(&confs, apr_pstrcat(p, im.src, "/renewal", NULL), 0, p)
        != APR_SUCCESS) {
        return acmectl_fail(ctl, "%s is not a Certbot config dir (no "
                            "renewal/ directory)", im.src);
    }
    if (realpath(im.src, rs) && realpath(store_dir, rd) && !strcmp(rs, rd)) {
        return acmectl_fail(ctl, "%s is both Certbot's dir and the store: "
                            "there is nothing to import (the module can use "
                            "it as ACMEStoreDir as it is, but cannot read "
                            "Certbot's accounts); give the store with "
                            "--config-dir and Certbot's dir with "
                            "--certbot-dir", im.src);
    }
    names = apr_array_make(p, 8, sizeof(const char *));
    for (i = 0; i < confs->nelts; i++) {
        const char *f = APR_ARRAY_IDX(confs, i, const char *);
        apr_size_t len = strlen(f);
        if (len > 5 && !strcmp(f + len - 5, ".conf")) {
            APR_ARRAY_PUSH(names, const char *) = apr_pstrndup(p, f,
                                                               len - 5);
        }
    }
    if (ctl->cert_names->nelts) {
        apr_array_header_t *want = apr_array_make(p, 4, sizeof(const char *));
        for (i = 0; i < ctl->cert_names->nelts; i++) {
            const char *n = APR_ARRAY_IDX(ctl->cert_names, i, const char *);
            if (!acme_array_contains(names, n) || !name_ok(n)) {
                acmectl_fail(ctl, "%s: no lineage of that name in %s/renewal",
                             n, im.src);
                im.failed++;
                continue;
            }
            APR_ARRAY_PUSH(want, const char *) = n;
        }
        names = want;
    }
    acme_err_clear(&err);
    if (acme_store_open(&im.store, p, store_dir, 1, &err) != APR_SUCCESS) {
        return acmectl_fail(ctl, "cannot open the store %s: %s", store_dir,
                            err.msg);
    }
    if (acme_store_lock(&lock, im.store, 0, p) != APR_SUCCESS) {
        return acmectl_fail(ctl, "cannot lock the store %s", store_dir);
    }
    acmectl_say(ctl, "Importing from %s into %s\n", im.src, im.store->base);
    apr_pool_create(&sub, p);
    for (i = 0; i < names->nelts; i++) {
        apr_pool_clear(sub);
        lineage_import(&im, APR_ARRAY_IDX(names, i, const char *), sub);
    }
    apr_pool_destroy(sub);
    hooks_import(&im, p);
    acmectl_say(ctl, "%d imported, %d updated, %d unchanged, %d skipped, %d "
                "failed; %d hook%s copied\n", im.imported, im.updated,
                im.unchanged, im.skipped, im.failed, im.hooks,
                im.hooks == 1 ? "" : "s");
    apr_file_close(lock);
    return im.failed ? 1 : 0;
}
