/* mod_acme: helpers shared by the store's source files (acme_store.c,
 * acme_lineage.c, acme_account_store.c). Not part of the engine's API. */
#ifndef ACME_STORE_INT_H
#define ACME_STORE_INT_H

#include "acme_common.h"
#include <apr_tables.h>
#include <apr_file_info.h>

/* Readable text for a status, in pool memory. */
const char *acme_store_strerror(apr_pool_t *p, apr_status_t rv);

/* Makes directory path (and its parents) with perms unless it exists: an
 * existing directory keeps the mode the administrator gave it (e.g. live/
 * 0710 group ssl-cert, as in Certbot setups for Exim). APR_ENOTDIR when
 * path is something else. */
apr_status_t acme_store_ensure_dir(const char *path, apr_fileperms_t perms,
                                   apr_pool_t *p);

/* Makes directory path as acme_store_ensure_dir does, or with
 * chmod_existing as acme_mkdir does (an existing one gets perms too), and
 * says a failure in err: "cannot create PATH: REASON". */
apr_status_t acme_store_mkdir(const char *path, apr_fileperms_t perms,
                              int chmod_existing, apr_pool_t *p,
                              acme_err_t *err);

/* Removes path: a file or symlink, or a directory with everything in it
 * (symlinks are removed, never followed). */
apr_status_t acme_store_remove_tree(const char *path, apr_pool_t *p);

#endif
