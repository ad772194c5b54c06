/* acmectl import: adopts Certbot's lineages (renewal/NAME.conf, live/NAME
 * links, archive/NAME versions) and the accounts they were obtained with,
 * so that the module serves the same certificates without a new order and
 * renews them with the same account (acmectl_import.h says how). This
 * file is the command and what it writes into the store. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <apr_file_info.h>
#include <apr_file_io.h>
#include <apr_strings.h>

#include "acmectl_cmds.h"
#include "acmectl_import.h"
#include "acme_util.h"

#define CERTBOT_DEFAULT_DIR "/etc/letsencrypt"

/* the kinds of file, by index */
static const char *const *const kinds = acmectl_import_kinds;

/* Is our file at path exactly data? */
static int same_content(const char *path, const char *data, apr_size_t len,
                        apr_pool_t *p)
{
    char *ours;
    apr_size_t olen;

    return acme_file_read(&ours, &olen, p, path, IMPORT_PEM_MAX) == APR_SUCCESS
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
                                  const import_version_t *v, const char **pwhy,
                                  apr_pool_t *p)
{
    apr_status_t rv;
    int k;

    for (k = 0; k < IMPORT_NKINDS; k++) {
        const char *path = our_archive_file(im, p, name, k, v->n);
        if (acme_store_exists(path, p)) {
            *pwhy = apr_psprintf(p, "%s already exists", path);
            return APR_EEXIST;
        }
        rv = acme_file_write_atomic(path, v->data[k], v->len[k],
                                    k == IMPORT_PRIVKEY ? 0x0600 : 0x0644, p);
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
    for (k = 0; k < IMPORT_NKINDS; k++) {
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
static apr_status_t conf_write(import_t *im, const import_lineage_t *l,
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

/* Reports a lineage that cannot be imported, on stderr. */
static void refuse(import_t *im, const char *name, const char *why)
{
    acmectl_fail(im->ctl, "%s: not imported: %s", name, why);
    im->failed++;
}

/* Whether the store has nothing of lineage name yet. */
static int lineage_fresh(import_t *im, const char *name, apr_pool_t *p)
{
    return !acme_store_exists(acme_store_path(im->store, p, "live", name,
                                              NULL), p)
           && !acme_store_exists(acme_store_path(im->store, p, "archive",
                                                 name, NULL), p)
           && !acme_store_exists(acme_store_path(im->store, p, "renewal",
                                 apr_pstrcat(p, name, ".conf", NULL),
                                 NULL), p);
}

/* The store has a lineage of l's name: imported before? Then every version
 * we have of Certbot's is the same, and only versions Certbot made since
 * are new. Returns 1 with *pours_max our last version and *pnewer how many
 * Certbot has above it; 0 when there is nothing to write (skipped or
 * unchanged, counted and said). */
static int lineage_known(import_t *im, const import_lineage_t *l,
                         int *pours_max, int *pnewer, apr_pool_t *p)
{
    const char *name = l->name;
    const char *our_archive = acme_store_path(im->store, p, "archive", name,
                                              NULL);
    apr_array_header_t *files;
    int i, k, same = 1, ours_max = 0, newer = 0;

    if (acme_store_list_dir(&files, our_archive, 0, p) == APR_SUCCESS) {
        for (i = 0; i < files->nelts; i++) {
            int n = acmectl_import_version_of(APR_ARRAY_IDX(files, i,
                                                            const char *),
                                              NULL);
            if (n > ours_max) {
                ours_max = n;
            }
        }
    }
    for (i = 0; i < l->versions->nelts && same; i++) {
        import_version_t *v = APR_ARRAY_IDX(l->versions, i,
                                            import_version_t *);
        if (v->n > ours_max) {
            newer++;
            continue;
        }
        for (k = 0; k < IMPORT_NKINDS; k++) {
            if (!same_content(our_archive_file(im, p, name, k, v->n),
                              v->data[k], v->len[k], p)) {
                same = 0;
            }
        }
    }
    if (!same || ours_max == 0
        || !acme_store_exists(acme_store_path(im->store, p, "renewal",
                              apr_pstrcat(p, name, ".conf", NULL), NULL), p)) {
        acmectl_say(im->ctl, "Skipping %s: the store already has a lineage "
                    "of that name (%s) that is not this Certbot "
                    "lineage; --force replaces it\n", name,
                    acme_store_path(im->store, p, "live", name, NULL));
        im->skipped++;
        return 0;
    }
    if (!newer) {
        acmectl_say(im->ctl, "%s: already imported, nothing to do\n", name);
        im->unchanged++;
        return 0;
    }
    *pours_max = ours_max;
    *pnewer = newer;
    return 1;
}

/* --force: removes the store's lineage name; 0 when that failed
 * (refused). */
static int lineage_replace(import_t *im, const char *name, apr_pool_t *p)
{
    acme_err_t err;

    acmectl_say(im->ctl, "Replacing %s in the store (--force)\n", name);
    if (acme_store_lineage_delete(im->store, name, p, &err) != APR_SUCCESS) {
        refuse(im, name, err.msg);
        return 0;
    }
    return 1;
}

/* Our id of the account l was obtained with, or NULL (said, counted). */
static const char *lineage_account(import_t *im, const import_lineage_t *l)
{
    import_account_t *acc;

    acc = acmectl_import_account(im, apr_table_get(l->conf->params,
                                                   "server"),
                                 apr_table_get(l->conf->params, "account"));
    if (!acc->id) {
        acmectl_fail(im->ctl, "%s: Certbot's account was not imported (%s); "
                     "a renewal will register a new account", l->name,
                     acc->why);
        im->failed++;
    }
    return acc->id;
}

/* Writes l into the store: the archive versions above ours_max (all when
 * fresh), the live links when they move, the README, the renewal conf
 * last. *pwhy says what failed (or stays NULL). */
static apr_status_t lineage_write(import_t *im, const import_lineage_t *l,
                                  int fresh, int ours_max,
                                  const char *account_id, const char **pwhy,
                                  apr_pool_t *p)
{
    const char *our_archive = acme_store_path(im->store, p, "archive",
                                              l->name, NULL);
    apr_status_t rv;
    int i;

    rv = acme_mkdir(our_archive, 0x0700, p);
    if (rv != APR_SUCCESS) {
        *pwhy = apr_psprintf(p, "cannot create %s", our_archive);
        return rv;
    }
    for (i = 0; i < l->versions->nelts; i++) {
        import_version_t *v = APR_ARRAY_IDX(l->versions, i,
                                            import_version_t *);
        if (!fresh && v->n <= ours_max) {
            continue;
        }
        rv = version_write(im, l->name, v, pwhy, p);
        if (rv != APR_SUCCESS) {
            return rv;
        }
    }
    if (fresh || l->current > ours_max) {
        rv = links_write(im, l->name, l->current, pwhy, p);
        if (rv != APR_SUCCESS) {
            return rv;
        }
    }
    acme_store_live_readme(im->store, l->name, p, NULL);
    return conf_write(im, l, account_id, pwhy, p);
}

/* Says what became of l, and counts it. */
static void lineage_report(import_t *im, const import_lineage_t *l,
                           int fresh, int ours_max, int newer, apr_pool_t *p)
{
    const import_version_t *cur = NULL;
    int i;

    for (i = 0; i < l->versions->nelts; i++) {
        import_version_t *v = APR_ARRAY_IDX(l->versions, i,
                                            import_version_t *);
        if (v->n == l->current) {
            cur = v;
        }
    }
    if (fresh) {
        acmectl_say(im->ctl, "Imported %s: %d version%s, live/ at version %d "
                    "(serial %s)\n", l->name, l->versions->nelts,
                    l->versions->nelts == 1 ? "" : "s", l->current,
                    cur ? cur->serial : "?");
        im->imported++;
    }
    else {
        acmectl_say(im->ctl, "Updated %s: %d new version%s from Certbot%s\n",
                    l->name, newer, newer == 1 ? "" : "s",
                    l->current > ours_max
                    ? apr_psprintf(p, ", live/ at version %d", l->current)
                    : "");
        im->updated++;
    }
}

static void lineage_import(import_t *im, const char *name, apr_pool_t *p)
{
    import_lineage_t *l;
    const char *why = NULL, *account_id;
    int fresh, ours_max = 0, newer = 0;

    if (!acme_store_name_ok(name)) {
        refuse(im, name, "not a usable lineage name");
        return;
    }
    l = acmectl_import_lineage_read(im, name, &why, p);
    if (!l) {
        refuse(im, name, why);
        return;
    }
    fresh = lineage_fresh(im, name, p);
    if (!fresh && !im->ctl->force_renewal) {
        if (!lineage_known(im, l, &ours_max, &newer, p)) {
            return;
        }
    }
    else if (!fresh) {
        if (!lineage_replace(im, name, p)) {
            return;
        }
        fresh = 1;
    }
    account_id = lineage_account(im, l);
    if (lineage_write(im, l, fresh, ours_max, account_id, &why, p)
        != APR_SUCCESS) {
        if (fresh) {
            acme_store_lineage_delete(im->store, name, p, NULL);
        }
        refuse(im, name, why ? why : "cannot write to the store");
        return;
    }
    acmectl_import_hooks_note(im, l, p);
    lineage_report(im, l, fresh, ours_max, newer, p);
}

/* Which directory is which: --certbot-dir names Certbot's, and then
 * --config-dir is the store as for every command. Without it,
 * --config-dir is read as Certbot reads it (its config dir), and the
 * store is the default one. Returns the store's directory. */
static const char *import_dirs(import_t *im, acmectl_t *ctl)
{
    if (ctl->certbot_dir) {
        im->src = ctl->certbot_dir;
        return ctl->config_dir;
    }
    im->src = ctl->config_dir_set ? ctl->config_dir : CERTBOT_DEFAULT_DIR;
    return ACMECTL_DEFAULT_STORE;
}

/* The lineages to import: those of the renewal confs, or of them the ones
 * --cert-name names (each other --cert-name is said and counted). */
static apr_array_header_t *import_names(import_t *im,
                                        const apr_array_header_t *confs,
                                        apr_pool_t *p)
{
    acmectl_t *ctl = im->ctl;
    apr_array_header_t *names, *want;
    int i;

    names = apr_array_make(p, 8, sizeof(const char *));
    for (i = 0; i < confs->nelts; i++) {
        const char *f = APR_ARRAY_IDX(confs, i, const char *);
        apr_size_t len = strlen(f);
        if (len > 5 && !strcmp(f + len - 5, ".conf")) {
            APR_ARRAY_PUSH(names, const char *) = apr_pstrndup(p, f,
                                                               len - 5);
        }
    }
    if (!ctl->cert_names->nelts) {
        return names;
    }
    want = apr_array_make(p, 4, sizeof(const char *));
    for (i = 0; i < ctl->cert_names->nelts; i++) {
        const char *n = APR_ARRAY_IDX(ctl->cert_names, i, const char *);
        if (!acme_array_contains(names, n) || !acme_store_name_ok(n)) {
            acmectl_fail(ctl, "%s: no lineage of that name in %s/renewal",
                         n, im->src);
            im->failed++;
            continue;
        }
        APR_ARRAY_PUSH(want, const char *) = n;
    }
    return want;
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
    store_dir = import_dirs(&im, ctl);
    if (ctl->names->nelts || ctl->dry_run) {
        return acmectl_fail(ctl, "import takes no -d or --dry-run (see "
                            "acmectl --help)");
    }
    if (acme_store_list_dir(&confs, apr_pstrcat(p, im.src, "/renewal", NULL),
                            0, p) != APR_SUCCESS) {
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
    names = import_names(&im, confs, p);
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
    acmectl_import_hooks(&im, p);
    acmectl_say(ctl, "%d imported, %d updated, %d unchanged, %d skipped, %d "
                "failed; %d hook%s copied\n", im.imported, im.updated,
                im.unchanged, im.skipped, im.failed, im.hooks,
                im.hooks == 1 ? "" : "s");
    apr_file_close(lock);
    return im.failed ? 1 : 0;
}
