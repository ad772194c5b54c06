/* mod_acme: the store, laid out like Certbot's /etc/letsencrypt.
 *
 *   accounts/<ca-host[:port]>/<ca-path>/<id>/  private_key.pem (0600),
 *                                              regr.json, meta.json
 *   archive/<name>/certN.pem chainN.pem fullchainN.pem privkeyN.pem (0600)
 *   live/<name>/{cert,chain,fullchain,privkey}.pem -> ../../archive/<name>/..
 *   live/<name>/README
 *   renewal/<name>.conf                        Certbot's renewal format
 *   renewal-hooks/{pre,deploy,post}/
 *   challenges/                                challenge answers (0755,
 *                                              acme_challenges.h)
 *   staging/<name>/                            in-flight material (0700)
 *   state/<name>.json                          attempts, errors, backoff
 *
 * Directories that hold private keys are 0700, private keys 0600. Every file
 * write is atomic (acme_file_write_atomic); live/ links are replaced by
 * rename, and acme_store_lineage_load() repairs a set of live links left
 * half-flipped by a crash.
 */
#ifndef ACME_STORE_H
#define ACME_STORE_H

#include "acme_common.h"
#include "acme_key.h"
#include <apr_file_io.h>
#include <apr_tables.h>
#include <jansson.h>

/* Store paths and names, also for acmectl import's reading of another
 * Certbot directory. */

/* Returns non-zero if name can be used as one path component of the store
 * (a lineage name or an account id): non-empty, no '/', not starting with
 * '.', at most 255 bytes. */
int acme_store_name_ok(const char *name);

/* Returns non-zero if path exists (a dangling symlink counts). */
int acme_store_exists(const char *path, apr_pool_t *p);

/* Sorts an array of const char* in strcmp order. */
void acme_store_sort_names(apr_array_header_t *names);

/* Lists the entries of dir whose names do not start with '.', sorted:
 * want_dirs 1 = directories only, 0 = everything but directories, -1 = all.
 * Returns the open/read status (APR_ENOENT when dir is missing). */
apr_status_t acme_store_list_dir(apr_array_header_t **pentries,
                                 const char *dir, int want_dirs,
                                 apr_pool_t *p);

typedef struct acme_store_t {
    apr_pool_t *pool;
    const char *base;      /* absolute path of the store's top directory */
} acme_store_t;

/* The lineage's settings: Certbot's renewal/<name>.conf. */
typedef struct acme_renewal_conf_t {
    apr_table_t *top;          /* version, archive_dir, cert, privkey, ... */
    apr_table_t *params;       /* [renewalparams] key = value, in order */
    apr_table_t *webroot_map;  /* [[webroot_map]] name = dir */
} acme_renewal_conf_t;

/* What is known of one lineage from the store. */
typedef struct acme_lineage_t {
    const char *name;
    int version;               /* N of the archive set live/ points at */
    const char *live_dir;
    const char *cert_path;     /* live/<name>/cert.pem */
    const char *chain_path;
    const char *fullchain_path;
    const char *privkey_path;
    apr_array_header_t *names; /* const char*, from the certificate's SAN */
    apr_time_t not_before;
    apr_time_t not_after;
    const char *serial;        /* lowercase hex */
    const char *issuer_cn;
    int key_type;              /* acme_key_type_e of the certificate's key,
                                  -1 when unsupported */
    const char *ari_cert_id;   /* its ARI CertID (RFC 9773), NULL when it
                                  has no Authority Key Identifier */
    acme_renewal_conf_t *conf; /* NULL when renewal/<name>.conf is missing */
} acme_lineage_t;

/* Opens the store at dir (made absolute). With create, makes the store and
 * its top-level directories that are missing, with their modes (top 0755;
 * accounts, archive, live, staging 0700; renewal, renewal-hooks/{pre,deploy,
 * post}, challenges, state 0755); an existing directory keeps its mode, so
 * that an administrator's live/ 0710 group ssl-cert survives. Without
 * create, fails with APR_ENOENT when the directory is missing. */
apr_status_t acme_store_open(acme_store_t **pstore, apr_pool_t *p,
                             const char *dir, int create, acme_err_t *err);

/* Joins the store's base with the relative path parts (NULL-terminated). */
const char *acme_store_path(const acme_store_t *s, apr_pool_t *p, ...);

/* --- lineages --- */

/* Lists lineage names (const char*, sorted): every renewal/<name>.conf and
 * every live/<name>/ directory. */
apr_status_t acme_store_lineage_list(apr_array_header_t **pnames,
                                     const acme_store_t *s, apr_pool_t *p);

/* Loads a lineage: resolves live/ links (repairing a half-flipped set to the
 * newest complete archive version: all four files present and the key
 * matching the certificate; logged at WARN), parses the certificate and
 * reads the renewal conf. ACME_ENOTFOUND when live/<name>/ does not exist,
 * ACME_EGENERAL when the links are broken and nothing can repair them. */
apr_status_t acme_store_lineage_load(acme_lineage_t **plineage,
                                     const acme_store_t *s, const char *name,
                                     apr_pool_t *p, acme_err_t *err);

/* Lineages kept across loads (a server's configuration passes and
 * restarts): a lineage whose cert.pem, live/ directory and renewal conf
 * are unchanged (device, inode, size, mtime) is not parsed again. */
typedef struct acme_lineage_cache_t acme_lineage_cache_t;

/* A new, empty cache living in p. */
acme_lineage_cache_t *acme_lineage_cache_make(apr_pool_t *p);

/* acme_store_lineage_load through the cache (c may be NULL: a plain load).
 * The lineage returned from the cache is shared: callers must not change
 * it, and it stays valid until the same name is loaded again after a
 * change. */
apr_status_t acme_store_lineage_load_cached(acme_lineage_t **plineage,
                                            const acme_store_t *s,
                                            const char *name,
                                            acme_lineage_cache_t *c,
                                            apr_pool_t *p, acme_err_t *err);

/* Finds the lineage whose current certificate has exactly these names (any
 * order). *pname is NULL when there is none. */
apr_status_t acme_store_lineage_find(const char **pname, const acme_store_t *s,
                                     const apr_array_header_t *names,
                                     apr_pool_t *p);

/* Returns a lineage name that is not in use: base itself when free, else
 * base-0001, base-0002, ... (Certbot's convention). */
const char *acme_store_lineage_free_name(const acme_store_t *s,
                                         const char *base, apr_pool_t *p);

/*
 * Stores a new version of a lineage (creating it when new): writes
 * archive/<name>/{cert,chain,fullchain,privkey}N.pem with N one above the
 * highest number any of those four file kinds has in archive/<name>/ (so
 * leftovers of a crashed run are skipped; an archive file is never
 * overwritten), fullchain being cert followed by chain (chain_pem may be
 * NULL or ""). Then flips the live/ links to them (relative, cert, chain,
 * fullchain, privkey last; each a new link renamed over the old), writes
 * live/<name>/README if missing and renewal/<name>.conf from conf (may be
 * NULL; its top-level version, archive_dir and live paths are filled in
 * here). Returns N in *pversion (0 on failure).
 * On failure before the flip, nothing visible changes and the files of the
 * new version that were written are removed again.
 */
apr_status_t acme_store_lineage_save(acme_store_t *s, const char *name,
                                     const char *cert_pem,
                                     const char *chain_pem,
                                     const char *privkey_pem,
                                     acme_renewal_conf_t *conf,
                                     int *pversion, apr_pool_t *p,
                                     acme_err_t *err);

/* Writes live/<name>/README (what the four files are) when it is
 * missing. */
apr_status_t acme_store_live_readme(const acme_store_t *s, const char *name,
                                    apr_pool_t *p, acme_err_t *err);

/* Removes live/<name>, archive/<name>, renewal/<name>.conf and
 * state/<name>.json; pieces already missing are not an error. */
apr_status_t acme_store_lineage_delete(acme_store_t *s, const char *name,
                                       apr_pool_t *p, acme_err_t *err);

/* --- renewal conf --- */

/* A new, empty conf. */
acme_renewal_conf_t *acme_renewal_conf_make(apr_pool_t *p);

/* Parses Certbot's renewal conf format (configobj subset: key = value,
 * [renewalparams], [[webroot_map]], comments; values may be quoted with ' or
 * ", an unquoted value ends at '#'; unknown sections are skipped). Returns
 * ACME_EINVAL with the line number in err on a malformed line. */
apr_status_t acme_renewal_conf_parse(acme_renewal_conf_t **pconf,
                                     apr_pool_t *p, const char *text,
                                     acme_err_t *err);

/* Serialises a conf in Certbot's format: a comment line, the top keys, a
 * blank line, "# Options used in the renewal process", [renewalparams] and
 * its keys, then [[webroot_map]] when it has entries. Values that configobj
 * would misread (empty, with '#', edge blanks) are quoted. */
const char *acme_renewal_conf_format(apr_pool_t *p,
                                     const acme_renewal_conf_t *conf);

/* --- accounts --- */

/* The accounts directory of a CA below base, as Certbot names it:
 * base/<host[:port]>/<path> from the directory URL ("/" in the path kept
 * as subdirectories, "." and ".." dropped). With fold_case the host is
 * lowercased (the store's own directories); without, it is kept as
 * written (Certbot's netloc, to find a Certbot store's accounts). NULL for
 * a URL without a usable host. */
const char *acme_store_account_dir_in(apr_pool_t *p, const char *base,
                                      const char *server_url, int fold_case);

/* The directory for accounts at a CA: accounts/<host[:port]>/<path>, the
 * directory URL's host (lowercased) and path ("/" in the path kept as
 * subdirectories); accounts/unknown-ca for a URL without a host. */
const char *acme_store_account_dir(const acme_store_t *s, apr_pool_t *p,
                                   const char *server_url);

/* Finds the first account id stored for the CA; *pid is NULL when none. */
apr_status_t acme_store_account_find(const char **pid, const acme_store_t *s,
                                     const char *server_url, apr_pool_t *p);

/* Loads an account's key and URL. */
apr_status_t acme_store_account_load(acme_key_t **pkey, const char **purl,
                                     const acme_store_t *s,
                                     const char *server_url, const char *id,
                                     apr_pool_t *p, acme_err_t *err);

/* Saves an account: private_key.pem (0600) in a 0700 directory, regr.json
 * {"uri": url, "body": registration or {}}, meta.json {"creation_dt",
 * "creation_host"} (kept when it exists). The id is derived from the key
 * (the first 32 hex characters of the SHA-256 of its public key DER) and
 * returned in *pid. */
apr_status_t acme_store_account_save(const char **pid, acme_store_t *s,
                                     const char *server_url,
                                     const acme_key_t *key, const char *url,
                                     json_t *registration, apr_pool_t *p,
                                     acme_err_t *err);

/* Removes an account directory. */
apr_status_t acme_store_account_delete(acme_store_t *s, const char *server_url,
                                       const char *id, apr_pool_t *p);

/* --- state (state/<name>.json) --- */

/* Loads state/<name>.json; *pjson is an empty object when missing.
 * Caller owns the reference. ACME_EINVAL (and *pjson NULL) when the file is
 * not a JSON object. */
apr_status_t acme_store_state_load(json_t **pjson, const acme_store_t *s,
                                   const char *name, apr_pool_t *p);

/* Saves state/<name>.json atomically. */
apr_status_t acme_store_state_save(acme_store_t *s, const char *name,
                                   json_t *json, apr_pool_t *p);

/* The same, but not flushed to disk: the caller flushes the file system
 * soon after (acme_fs_sync), as the supervisor does at the end of a pass
 * instead of two fsyncs per certificate. */
apr_status_t acme_store_state_save_unsynced(acme_store_t *s, const char *name,
                                            json_t *json, apr_pool_t *p);

/* --- change mark --- */

/* Records that the store changed (STORE/.changes gets new content). Every
 * state, lineage and deletion write calls it, whoever writes: a reader that
 * keeps decisions across passes (the supervisor's index) compares marks
 * instead of re-reading every lineage. */
void acme_store_note_change(const acme_store_t *s, apr_pool_t *p);

/* The current change mark (the content of STORE/.changes), or "" when no
 * write was ever noted. */
const char *acme_store_change_mark(const acme_store_t *s, apr_pool_t *p);

/* --- locking --- */

/* Takes the store's exclusive lock (STORE/.lock, apr_file_lock). With
 * nonblock, fails with APR_EAGAIN when another process holds it. The lock is
 * released when the file is closed or the pool cleared. */
apr_status_t acme_store_lock(apr_file_t **plock, acme_store_t *s,
                             int nonblock, apr_pool_t *p);

/* Takes the store lock like acme_store_lock and records `who` (e.g.
 * "pid 123 (mod_acme supervisor)") in it. When the lock is busy and
 * nonblock is 0, *pholder (may be NULL) first receives the current
 * holder's description and the call then waits. */
apr_status_t acme_store_lock_as(apr_file_t **plock, acme_store_t *s,
                                const char *who, int nonblock,
                                const char **pholder, apr_pool_t *p);

/* The description the current lock holder recorded, or NULL. */
const char *acme_store_lock_holder(const acme_store_t *s, apr_pool_t *p);

#endif
