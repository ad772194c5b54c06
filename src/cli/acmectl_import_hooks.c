/* acmectl import: Certbot's hooks, those of renewal-hooks/ (copied into
 * the store's) and those a renewal conf names (kept, and said so). */
#include <string.h>

#include <apr_file_info.h>
#include <apr_file_io.h>
#include <apr_strings.h>

#include "acmectl_import.h"
#include "acme_util.h"

#define HOOK_MAX (64 * 1024 * 1024)
#define HOOK_PERMS (APR_UREAD | APR_UWRITE | APR_UEXECUTE | APR_GREAD \
                    | APR_GWRITE | APR_GEXECUTE | APR_WREAD | APR_WWRITE \
                    | APR_WEXECUTE)

void acmectl_import_hooks_note(import_t *im, const import_lineage_t *l,
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
    if (acme_store_exists(dst, p)) {
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

void acmectl_import_hooks(import_t *im, apr_pool_t *p)
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
        acme_store_sort_names(names);
        for (j = 0; j < names->nelts; j++) {
            hook_import(im, phases[i], APR_ARRAY_IDX(names, j, const char *),
                        p);
        }
    }
}
