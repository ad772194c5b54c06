/* mod_acme: ACME accounts in the store, laid out like Certbot's:
 * accounts/<ca-host[:port]>/<ca-path>/<id>/{private_key.pem,regr.json,
 * meta.json}. */
#include <stdlib.h>
#include <string.h>

#include <apr_file_io.h>
#include <apr_network_io.h>
#include <apr_uri.h>
#include <openssl/sha.h>

#include "acme_store.h"
#include "acme_store_int.h"
#include "acme_util.h"

#define ACCOUNT_ID_HEX 32
#define ACCOUNT_JSON_MAX (256 * 1024)

const char *acme_store_account_dir_in(apr_pool_t *p, const char *base,
                                      const char *server_url, int fold_case)
{
    apr_uri_t uri;
    const char *out, *host;
    char *path, *part, *last;

    memset(&uri, 0, sizeof(uri));
    if (!server_url || apr_uri_parse(p, server_url, &uri) != APR_SUCCESS
        || !uri.hostname || !*uri.hostname || strchr(uri.hostname, '/')
        || uri.hostname[0] == '.') {
        return NULL;
    }
    host = fold_case ? acme_str_tolower(apr_pstrdup(p, uri.hostname))
                     : uri.hostname;
    out = apr_pstrcat(p, base, "/", host,
                      uri.port_str && *uri.port_str ? ":" : "",
                      uri.port_str ? uri.port_str : "", NULL);
    path = apr_pstrdup(p, uri.path ? uri.path : "");
    for (part = apr_strtok(path, "/", &last); part;
         part = apr_strtok(NULL, "/", &last)) {
        /* no way out of the accounts directory */
        if (!strcmp(part, ".") || !strcmp(part, "..")) {
            continue;
        }
        out = apr_pstrcat(p, out, "/", part, NULL);
    }
    return out;
}

const char *acme_store_account_dir(const acme_store_t *s, apr_pool_t *p,
                                   const char *server_url)
{
    const char *base = acme_store_path(s, p, "accounts", NULL);
    const char *dir = acme_store_account_dir_in(p, base, server_url, 1);

    return dir ? dir : apr_pstrcat(p, base, "/unknown-ca", NULL);
}

/* The id of an account key: the first 32 hex characters of the SHA-256 of
 * its public key (SubjectPublicKeyInfo DER). */
static apr_status_t account_id(const char **pid, apr_pool_t *p,
                               const acme_key_t *key)
{
    apr_status_t rv;
    const unsigned char *der = NULL;
    apr_size_t len = 0;
    unsigned char md[SHA256_DIGEST_LENGTH];

    *pid = NULL;
    rv = acme_key_public_der(&der, &len, p, key);
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    SHA256(der, len, md);
    *pid = apr_pstrndup(p, acme_hex_encode(p, md, sizeof(md)),
                        ACCOUNT_ID_HEX);
cleanup:
    return rv;
}

apr_status_t acme_store_account_find(const char **pid, const acme_store_t *s,
                                     const char *server_url, apr_pool_t *p)
{
    apr_status_t rv;
    apr_array_header_t *ids = NULL;
    const char *dir = acme_store_account_dir(s, p, server_url);
    int i;

    *pid = NULL;
    rv = acme_store_list_dir(&ids, dir, 1, p);
    if (rv != APR_SUCCESS) {
        /* no account directory for this CA yet: no account */
        rv = APR_STATUS_IS_ENOENT(rv) || APR_STATUS_IS_ENOTDIR(rv)
             ? APR_SUCCESS : rv;
        goto cleanup;
    }
    for (i = 0; i < ids->nelts; i++) {
        const char *id = APR_ARRAY_IDX(ids, i, const char *);
        if (acme_store_exists(apr_pstrcat(p, dir, "/", id,
                                          "/private_key.pem", NULL), p)
            && acme_store_exists(apr_pstrcat(p, dir, "/", id, "/regr.json",
                                             NULL), p)) {
            *pid = id;
            break;
        }
    }
cleanup:
    return rv;
}

apr_status_t acme_store_account_load(acme_key_t **pkey, const char **purl,
                                     const acme_store_t *s,
                                     const char *server_url, const char *id,
                                     apr_pool_t *p, acme_err_t *err)
{
    apr_status_t rv;
    const char *dir, *path;
    char *text = NULL;
    json_t *regr = NULL;
    json_error_t jerr;
    const char *uri;
    acme_key_t *key = NULL;

    *pkey = NULL;
    if (purl) {
        *purl = NULL;
    }
    if (!acme_store_name_ok(id)) {
        rv = acme_err_set(err, p, ACME_EINVAL, "invalid account id '%s'",
                          id ? id : "");
        goto cleanup;
    }
    dir = apr_pstrcat(p, acme_store_account_dir(s, p, server_url), "/", id,
                      NULL);
    path = apr_pstrcat(p, dir, "/regr.json", NULL);
    rv = acme_file_read(&text, NULL, p, path, ACCOUNT_JSON_MAX);
    if (rv != APR_SUCCESS) {
        if (APR_STATUS_IS_ENOENT(rv)) {
            rv = acme_err_set(err, p, ACME_ENOTFOUND, "no account %s for %s "
                              "(%s is missing)", id, server_url, path);
        }
        else {
            acme_err_set(err, p, rv, "cannot read %s: %s", path,
                         acme_store_strerror(p, rv));
        }
        goto cleanup;
    }
    regr = json_loads(text, 0, &jerr);
    if (!regr || !json_is_object(regr)) {
        rv = acme_err_set(err, p, ACME_EINVAL, "%s: not a JSON object%s%s",
                          path, regr ? "" : ": ", regr ? "" : jerr.text);
        goto cleanup;
    }
    uri = json_string_value(json_object_get(regr, "uri"));
    if (!uri || !*uri) {
        rv = acme_err_set(err, p, ACME_EINVAL, "%s: no account URL (\"uri\")",
                          path);
        goto cleanup;
    }
    path = apr_pstrcat(p, dir, "/private_key.pem", NULL);
    rv = acme_key_load(&key, p, path, err);
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    *pkey = key;
    if (purl) {
        *purl = apr_pstrdup(p, uri);
    }
cleanup:
    if (regr) {
        json_decref(regr);
    }
    return rv;
}

/* Writes data atomically with the given mode; err names the file. */
static apr_status_t write_file(const char *path, const char *data,
                               apr_size_t len, apr_fileperms_t perms,
                               apr_pool_t *p, acme_err_t *err)
{
    apr_status_t rv = acme_file_write_atomic(path, data, len, perms, p);

    if (rv != APR_SUCCESS) {
        acme_err_set(err, p, rv, "cannot write %s: %s", path,
                     acme_store_strerror(p, rv));
    }
    return rv;
}

/* Writes a JSON document atomically with the given mode. */
static apr_status_t write_json(const char *path, json_t *json,
                               apr_fileperms_t perms, apr_pool_t *p,
                               acme_err_t *err)
{
    apr_status_t rv;
    char *text = json_dumps(json, JSON_COMPACT);

    if (!text) {
        rv = acme_err_set(err, p, ACME_EINVAL, "cannot serialise %s", path);
        goto cleanup;
    }
    rv = write_file(path, text, strlen(text), perms, p, err);
cleanup:
    free(text);
    return rv;
}

/* dir/private_key.pem, 0600. */
static apr_status_t write_key(const char *dir, const acme_key_t *key,
                              apr_pool_t *p, acme_err_t *err)
{
    const char *pem = NULL;
    apr_size_t pemlen = 0;
    apr_status_t rv;

    rv = acme_key_to_pem(&pem, &pemlen, p, key);
    if (rv != APR_SUCCESS) {
        return acme_err_set(err, p, rv, "cannot serialise the account key");
    }
    return write_file(apr_pstrcat(p, dir, "/private_key.pem", NULL), pem,
                      pemlen, 0x0600, p, err);
}

/* dir/regr.json: the registration and the account URL, as Certbot's. */
static apr_status_t write_regr(const char *dir, const char *url,
                               json_t *registration, apr_pool_t *p,
                               acme_err_t *err)
{
    json_t *regr = json_object();
    apr_status_t rv;

    json_object_set_new(regr, "body", registration
                        ? json_incref(registration) : json_object());
    json_object_set_new(regr, "uri", json_string(url));
    rv = write_json(apr_pstrcat(p, dir, "/regr.json", NULL), regr, 0x0644, p,
                    err);
    json_decref(regr);
    return rv;
}

/* dir/meta.json records the account's creation: kept when it exists. */
static apr_status_t write_meta(const char *dir, apr_pool_t *p,
                               acme_err_t *err)
{
    const char *path = apr_pstrcat(p, dir, "/meta.json", NULL);
    char host[256], date[APR_RFC822_DATE_LEN + 8];
    apr_time_exp_t tm;
    apr_size_t dlen;
    json_t *meta;
    apr_status_t rv;

    if (acme_store_exists(path, p)) {
        return APR_SUCCESS;
    }
    if (apr_gethostname(host, sizeof(host), p) != APR_SUCCESS) {
        apr_cpystrn(host, "localhost", sizeof(host));
    }
    apr_time_exp_gmt(&tm, apr_time_now());
    apr_strftime(date, &dlen, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", &tm);
    meta = json_object();
    json_object_set_new(meta, "creation_dt", json_string(date));
    json_object_set_new(meta, "creation_host", json_string(host));
    rv = write_json(path, meta, 0x0644, p, err);
    json_decref(meta);
    return rv;
}

apr_status_t acme_store_account_save(const char **pid, acme_store_t *s,
                                     const char *server_url,
                                     const acme_key_t *key, const char *url,
                                     json_t *registration, apr_pool_t *p,
                                     acme_err_t *err)
{
    apr_status_t rv;
    const char *id = NULL, *dir;

    if (pid) {
        *pid = NULL;
    }
    if (!key || !url || !*url) {
        rv = acme_err_set(err, p, ACME_EINVAL, "no account key or URL to "
                          "save");
        goto cleanup;
    }
    rv = account_id(&id, p, key);
    if (rv != APR_SUCCESS) {
        acme_err_set(err, p, rv, "cannot derive the account id from its key");
        goto cleanup;
    }
    dir = apr_pstrcat(p, acme_store_account_dir(s, p, server_url), "/", id,
                      NULL);
    rv = acme_store_mkdir(dir, 0x0700, 1, p, err);
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }

    rv = write_key(dir, key, p, err);
    if (rv == APR_SUCCESS) {
        rv = write_regr(dir, url, registration, p, err);
    }
    if (rv == APR_SUCCESS) {
        rv = write_meta(dir, p, err);
    }
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    if (pid) {
        *pid = id;
    }
cleanup:
    return rv;
}

apr_status_t acme_store_account_delete(acme_store_t *s, const char *server_url,
                                       const char *id, apr_pool_t *p)
{
    apr_status_t rv;

    if (!acme_store_name_ok(id)) {
        rv = ACME_EINVAL;
        goto cleanup;
    }
    rv = acme_store_remove_tree(apr_pstrcat(p, acme_store_account_dir(s, p,
                                            server_url), "/", id, NULL), p);
cleanup:
    return rv;
}
