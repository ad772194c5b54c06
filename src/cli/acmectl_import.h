/* acmectl import: what its parts share (acmectl_import.c writes the store,
 * acmectl_import_certbot.c reads Certbot's lineages, _account.c its
 * accounts, _hooks.c its hooks). Not used by the other subcommands.
 *
 * Certbot's directory is only read. For each lineage, everything is read
 * and checked first (every archive version complete, its key matching its
 * certificate, the live links agreeing on one version); only then is
 * anything written to the store: the archive versions with the same
 * numbers, the live links, renewal/NAME.conf last. */
#ifndef ACMECTL_IMPORT_H
#define ACMECTL_IMPORT_H

#include <apr_hash.h>

#include "acmectl_ctx.h"
#include "acme_certbot.h"

#define IMPORT_PEM_MAX (1024 * 1024)

/* The files of an archive version, in this order (privkey last). */
#define IMPORT_NKINDS 4
#define IMPORT_PRIVKEY 3
extern const char *const acmectl_import_kinds[IMPORT_NKINDS];

/* One archive version of a Certbot lineage, read and checked. */
typedef struct import_version_t {
    int n;
    const char *data[IMPORT_NKINDS];
    apr_size_t len[IMPORT_NKINDS];
    const char *serial;
} import_version_t;

/* An account of Certbot's as imported (or not) in this run. */
typedef struct import_account_t {
    const char *id;        /* ours; NULL when it could not be imported */
    const char *why;       /* the reason when not */
} import_account_t;

/* One run of the import. */
typedef struct import_t {
    acmectl_t *ctl;
    const char *src;       /* Certbot's config dir */
    acme_store_t *store;
    apr_hash_t *accounts;  /* Certbot account dir -> import_account_t* */
    int imported, updated, unchanged, skipped, failed;
    int hooks;             /* hook scripts copied */
} import_t;

/* Everything about one Certbot lineage, read and checked. */
typedef struct import_lineage_t {
    const char *name;
    acme_renewal_conf_t *conf;
    apr_array_header_t *versions;  /* import_version_t*, ascending */
    int current;                   /* the version live/ points at */
    const char *src_archive;
} import_lineage_t;

/* "cert12.pem" -> 12 with *pkind (may be NULL) the kind; 0 for other
 * names. */
int acmectl_import_version_of(const char *fname, int *pkind);

/* Reads Certbot's lineage name; returns NULL with the reason in *pwhy when
 * it cannot be imported. Notes about skipped versions go to stdout. */
import_lineage_t *acmectl_import_lineage_read(import_t *im, const char *name,
                                              const char **pwhy,
                                              apr_pool_t *p);

/* Imports (once per run) the Certbot account cb_id at server and returns
 * what became of it. */
import_account_t *acmectl_import_account(import_t *im, const char *server,
                                         const char *cb_id);

/* Says which per-lineage hooks (Certbot's pre_hook, post_hook, renew_hook
 * in renewal/NAME.conf) came along, and who runs them. */
void acmectl_import_hooks_note(import_t *im, const import_lineage_t *l,
                               apr_pool_t *p);

/* Copies Certbot's renewal-hooks/{pre,deploy,post}/ executables into the
 * store's, where acmectl renew and the module run them: the contents of
 * regular files (modes kept); links out of Certbot's directory and other
 * kinds of files are reported, not followed. */
void acmectl_import_hooks(import_t *im, apr_pool_t *p);

#endif
