/* mod_acme: what mod_ssl is given: the live certificate of a lineage, or a
 * self-signed fallback (STORE/fallback/<name>/) until the first one
 * exists. Also prepares the store for the worker and the children. */
#include <errno.h>
#include <unistd.h>
#include <sys/stat.h>

#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_main.h"
#include "http_ssl.h"
#include "apr_strings.h"
#include "apr_date.h"
#include "apr_lib.h"
#include "apr_hash.h"

#include "mod_acme.h"
#include "mod_acme_runtime.h"

APLOG_USE_MODULE(acme);
#include "acme_cert.h"
#include "acme_challenges.h"
#include "acme_names.h"
#include "acme_store.h"
#include "acme_util.h"

#define FALLBACK_VALID   apr_time_from_sec(30 * 86400)
#define FALLBACK_MARGIN  apr_time_from_sec(86400)
#define DIR_PRIVATE      (APR_FPROT_UREAD | APR_FPROT_UWRITE | APR_FPROT_UEXECUTE)

/* Formats a time for the log (RFC 822). */
static const char *rfc822(apr_pool_t *p, apr_time_t t)
{
    char *buf = apr_palloc(p, APR_RFC822_DATE_LEN);

    apr_rfc822_date(buf, t);
    return buf;
}

/* What a fallback's two files were when they were last found usable or
 * written: the real pass that follows httpd's pre-configuration pass, and
 * every restart, then need two stat() calls instead of parsing them. Kept
 * in the process pool (the module itself is unloaded at each restart). A
 * file replaced since has another inode, so it is parsed again. */
typedef struct {
    struct stat cert, key;      /* the two files as they were */
    const char *names;          /* the names, joined */
    apr_time_t not_after;
} fallback_seen_t;

/* Makes the table of fallback_seen_t by certificate path. */
static void *fallback_table_make(apr_pool_t *p)
{
    return apr_hash_make(p);
}

/* The two files' identities now; non-zero when either is missing. */
static int fallback_stat(struct stat *cert, struct stat *key,
                         const char *cert_file, const char *key_file)
{
    return stat(cert_file, cert) != 0 || stat(key_file, key) != 0;
}

/* The notAfter recorded for the fallback at cert_file when its files (as
 * they are now: cert, key) and its names are those recorded; else 0. */
static apr_time_t fallback_lookup(const char *cert_file,
                                  const struct stat *cert,
                                  const struct stat *key, const char *names)
{
    fallback_seen_t *e = apr_hash_get(acme_process_data("mod_acme_fallbacks",
                                                        fallback_table_make),
                                      cert_file, APR_HASH_KEY_STRING);

    return e && acme_file_same(&e->cert, cert) && acme_file_same(&e->key, key)
           && !strcmp(e->names, names) ? e->not_after : 0;
}

/* Records that the fallback at cert_file (its files as they are now: cert,
 * key) is usable for names until not_after. */
static void fallback_remember(const char *cert_file, const struct stat *cert,
                              const struct stat *key, const char *names,
                              apr_time_t not_after)
{
    apr_hash_t *table = acme_process_data("mod_acme_fallbacks",
                                          fallback_table_make);
    apr_pool_t *tp = apr_hash_pool_get(table);
    fallback_seen_t *e = apr_hash_get(table, cert_file, APR_HASH_KEY_STRING);

    if (!e) {
        e = apr_pcalloc(tp, sizeof(*e));
        apr_hash_set(table, apr_pstrdup(tp, cert_file), APR_HASH_KEY_STRING,
                     e);
    }
    e->cert = *cert;
    e->key = *key;
    if (!e->names || strcmp(e->names, names)) {
        e->names = apr_pstrdup(tp, names);  /* only when the names change */
    }
    e->not_after = not_after;
}

/* Returns non-zero when dir/cert.pem and dir/privkey.pem form a usable
 * fallback for names: they parse, match, cover exactly the names and stay
 * valid for at least a day. */
static int fallback_usable(const char *cert_file, const char *key_file,
                           const apr_array_header_t *names, apr_pool_t *p)
{
    const char *joined = acme_array_join(p, names, " ");
    struct stat cst, kst;
    apr_time_t seen;
    apr_array_header_t *certs;
    acme_cert_t *cert;
    acme_key_t *key;

    if (fallback_stat(&cst, &kst, cert_file, key_file)) {
        return 0;
    }
    seen = fallback_lookup(cert_file, &cst, &kst, joined);
    if (seen) {
        return seen > apr_time_now() + FALLBACK_MARGIN;
    }
    if (acme_chain_load(&certs, p, cert_file, NULL) != APR_SUCCESS
        || acme_key_load(&key, p, key_file, NULL) != APR_SUCCESS) {
        return 0;
    }
    cert = APR_ARRAY_IDX(certs, 0, acme_cert_t *);
    if (acme_cert_matches_key(cert, key)
        && acme_names_equal(acme_cert_names(p, cert), names)
        && acme_cert_not_after(cert) > apr_time_now() + FALLBACK_MARGIN) {
        fallback_remember(cert_file, &cst, &kst, joined,
                          acme_cert_not_after(cert));
        return 1;
    }
    return 0;
}

/* Makes (or reuses) the self-signed fallback of a domain. */
static apr_status_t make_fallback(acme_domain_t *d, acme_store_t *store,
                                  acme_sup_conf_t *sup, apr_pool_t *pconf,
                                  apr_pool_t *ptemp, server_rec *base)
{
    const char *dir, *cert_file, *key_file, *key_pem, *cert_pem;
    acme_key_t *key;
    acme_cert_t *cert;
    apr_size_t key_len;
    acme_err_t err;
    apr_status_t rv;

    acme_err_clear(&err);
    dir = acme_store_path(store, pconf, "fallback", d->name, NULL);
    cert_file = apr_pstrcat(pconf, dir, "/cert.pem", NULL);
    key_file = apr_pstrcat(pconf, dir, "/privkey.pem", NULL);
    d->cert_file = cert_file;
    d->key_file = key_file;
    if (fallback_usable(cert_file, key_file, d->names, ptemp)) {
        return APR_SUCCESS;
    }
    if ((rv = acme_mkdir(acme_store_path(store, ptemp, "fallback", NULL),
                         DIR_PRIVATE, ptemp)) != APR_SUCCESS
        || (rv = acme_mkdir(dir, DIR_PRIVATE, ptemp)) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, rv, base,
                     "mod_acme: cannot create %s", dir);
        return rv;
    }
    rv = acme_key_generate(&key, ptemp, d->md->key_type, &err);
    if (rv == APR_SUCCESS) {
        rv = acme_cert_self_signed(&cert, ptemp, key, d->names,
                                   FALLBACK_VALID, &err);
    }
    if (rv == APR_SUCCESS) {
        rv = acme_key_to_pem(&key_pem, &key_len, ptemp, key);
    }
    if (rv == APR_SUCCESS) {
        cert_pem = acme_cert_to_pem(ptemp, cert);
        rv = acme_file_write_volatile(key_file, key_pem, key_len,
                                      APR_FPROT_UREAD | APR_FPROT_UWRITE,
                                      ptemp);
        if (rv == APR_SUCCESS) {
            rv = acme_file_write_volatile(cert_file, cert_pem,
                                          strlen(cert_pem),
                                          APR_FPROT_UREAD | APR_FPROT_UWRITE
                                          | APR_FPROT_GREAD | APR_FPROT_WREAD,
                                          ptemp);
        }
        if (rv != APR_SUCCESS) {
            err.msg = apr_psprintf(ptemp, "cannot write %s", dir);
        }
        else {
            struct stat cst, kst;
            if (!fallback_stat(&cst, &kst, cert_file, key_file)) {
                fallback_remember(cert_file, &cst, &kst,
                                  acme_array_join(ptemp, d->names, " "),
                                  acme_cert_not_after(cert));
            }
        }
    }
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, rv, base,
                     "mod_acme: %s: cannot make the fallback certificate: %s",
                     d->name, err.msg ? err.msg : "unknown error");
        return rv;
    }
    ap_log_error(APLOG_MARK, APLOG_INFO, 0, base,
                 "mod_acme: %s: made a self-signed fallback certificate for "
                 "%s", d->name, acme_array_join(ptemp, d->names, ", "));
    return APR_SUCCESS;
}

/* post_config part: store, challenge directory, live or fallback per
 * domain. */
int acme_ssl_prepare(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *base)
{
    acme_sup_conf_t *sup = acme_rt->sup;
    acme_store_t *store;
    const char *chdir_path;
    acme_err_t err;
    apr_status_t rv;
    server_rec *s;
    int i, pre_pass;

    pre_pass = ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG;
    acme_err_clear(&err);
    rv = acme_store_open(&store, pconf, sup->store_dir, 1, &err);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, rv, base,
                     "mod_acme: cannot open the store %s (ACMEStoreDir): %s",
                     sup->store_dir, err.msg ? err.msg : "error");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    acme_rt->store_dir = store->base;
    chdir_path = acme_challenges_dir(store, pconf);
    acme_rt->challenge_dir = chdir_path;
    if (geteuid() == 0) {
        if (chown(chdir_path, sup->uid, sup->gid) != 0
            || chmod(chdir_path, 0755) != 0) {
            ap_log_error(APLOG_MARK, APLOG_EMERG, APR_FROM_OS_ERROR(errno),
                         base, "mod_acme: cannot give %s to user %s",
                         chdir_path, sup->user ? sup->user : "?");
            return HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    for (s = base; s; s = s->next) {
        acme_srv_conf_t *sc = acme_srv_conf(s);
        for (i = 0; i < sc->domains->nelts; i++) {
            acme_domain_t *d = APR_ARRAY_IDX(sc->domains, i, acme_domain_t *);
            acme_lineage_t *lin = NULL;

            if (!d->md) {
                continue;
            }
            if (acme_store_lineage_load_cached(&lin, store, d->name,
                                               acme_rt->lineages, ptemp, NULL)
                == APR_SUCCESS && lin->names
                && acme_names_equal(lin->names, d->names)) {
                d->live = 1;
                d->cert_file = apr_pstrdup(pconf, lin->fullchain_path);
                d->key_file = apr_pstrdup(pconf, lin->privkey_path);
                ap_log_error(APLOG_MARK, pre_pass ? APLOG_DEBUG : APLOG_INFO,
                             0, base,
                             "mod_acme: %s: serving the certificate in %s "
                             "(valid until %s)", d->name, d->cert_file,
                             lin->not_after ? rfc822(ptemp, lin->not_after)
                                            : "?");
                continue;
            }
            d->live = 0;
            if (make_fallback(d, store, sup, pconf, ptemp, base)
                != APR_SUCCESS) {
                return HTTP_INTERNAL_SERVER_ERROR;
            }
            ap_log_error(APLOG_MARK, pre_pass ? APLOG_DEBUG : APLOG_NOTICE,
                         0, base, "mod_acme: %s: no certificate yet%s; serving a "
                         "temporary self-signed certificate (requests over "
                         "https get 503) until it is obtained", d->name,
                         lin ? " for these names" : "");
        }
    }
    return OK;
}

/* The domain whose certificate server s presents, or NULL. */
static acme_domain_t *serving(server_rec *s)
{
    acme_srv_conf_t *sc = acme_srv_conf(s);

    return sc ? sc->serving : NULL;
}

/* ssl_add_cert_files: the live certificate of s's domain. */
int acme_ssl_add_cert_files(server_rec *s, apr_pool_t *p,
                            apr_array_header_t *cert_files,
                            apr_array_header_t *key_files)
{
    acme_domain_t *d = serving(s);

    if (!acme_rt || !d || !d->live || !d->cert_file) {
        return DECLINED;
    }
    APR_ARRAY_PUSH(cert_files, const char *) = d->cert_file;
    APR_ARRAY_PUSH(key_files, const char *) = d->key_file;
    ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s,
                 "mod_acme: %s: giving mod_ssl %s", d->name, d->cert_file);
    return OK;
}

/* ssl_add_fallback_cert_files: the self-signed certificate of s's domain
 * while it has no live one. */
int acme_ssl_add_fallback_cert_files(server_rec *s, apr_pool_t *p,
                                     apr_array_header_t *cert_files,
                                     apr_array_header_t *key_files)
{
    acme_domain_t *d = serving(s);

    if (!acme_rt || !d || d->live || !d->cert_file) {
        return DECLINED;
    }
    APR_ARRAY_PUSH(cert_files, const char *) = d->cert_file;
    APR_ARRAY_PUSH(key_files, const char *) = d->key_file;
    return OK;
}
