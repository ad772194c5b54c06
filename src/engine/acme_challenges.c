/* mod_acme: the challenge directory: the answer files' names, writing,
 * reading, removing and cleaning them up. */
#include <string.h>

#include <apr_file_info.h>
#include <apr_file_io.h>
#include <apr_lib.h>
#include <apr_strings.h>

#include "acme_challenges.h"
#include "acme_challenge_cert.h"
#include "acme_util.h"

#define ANSWER_PERMS (APR_FPROT_UREAD | APR_FPROT_UWRITE | APR_FPROT_GREAD \
                      | APR_FPROT_WREAD)
#define NAME_MAX_LEN 253

const char *acme_challenges_dir(const acme_store_t *s, apr_pool_t *p)
{
    return acme_store_path(s, p, "challenges", NULL);
}

const char *acme_challenges_http01_path(apr_pool_t *p, const char *dir,
                                        const char *token)
{
    if (!dir || !acme_is_b64url(token, ACME_CHALLENGES_TOKEN_MAX)) {
        return NULL;
    }
    return apr_pstrcat(p, dir, "/", token, NULL);
}

/* Whether type is one of the TLS challenge types with an answer file. */
static int tls_type_ok(const char *type)
{
    return type && (!strcmp(type, "tls-alpn-01")
                    || !strcmp(type, "tls-sni-01"));
}

/* Whether name is a plain DNS name, safe as a file name: labels of
 * letters, digits and '-', separated by single dots. */
static int tls_name_ok(const char *name)
{
    apr_size_t i, len;

    if (!name || !*name || (len = strlen(name)) > NAME_MAX_LEN
        || name[0] == '.' || name[len - 1] == '.') {
        return 0;
    }
    for (i = 0; i < len; i++) {
        if (name[i] == '.' ? name[i + 1] == '.'
            : !(apr_isalnum(name[i]) || name[i] == '-')) {
            return 0;
        }
    }
    return 1;
}

const char *acme_challenges_tls_path(apr_pool_t *p, const char *dir,
                                     const char *type, const char *name)
{
    if (!dir || !tls_type_ok(type) || !tls_name_ok(name)) {
        return NULL;
    }
    return apr_pstrcat(p, dir, "/", name, ".", type, ".pem", NULL);
}

int acme_challenges_tls_path_buf(char *buf, apr_size_t size, const char *dir,
                                 const char *type, const char *name)
{
    apr_size_t n;

    if (!size) {
        return -1;
    }
    buf[0] = '\0';
    if (!dir || !tls_type_ok(type) || !tls_name_ok(name)) {
        return -1;
    }
    n = apr_snprintf(buf, size, "%s/%s.%s.pem", dir, name, type);
    if (n + 1 >= size) {
        buf[0] = '\0';
        return -1;
    }
    return 0;
}

/* Writes text to path with the answers' mode; the error names what. */
static apr_status_t write_answer(apr_pool_t *p, const char *path,
                                 const char *what, const char *text,
                                 acme_err_t *err)
{
    apr_status_t rv;
    char buf[256];

    rv = acme_file_write_volatile(path, text, strlen(text), ANSWER_PERMS, p);
    if (rv != APR_SUCCESS) {
        return acme_err_set(err, p, rv, "cannot write %s%s: %s", what, path,
                            apr_strerror(rv, buf, sizeof(buf)));
    }
    return APR_SUCCESS;
}

apr_status_t acme_challenges_write_http01(apr_pool_t *p, const char *dir,
                                          const char *token,
                                          const char *keyauthz,
                                          acme_err_t *err)
{
    const char *path = acme_challenges_http01_path(p, dir, token);

    if (!path) {
        return acme_err_set(err, p, ACME_EINVAL, "the http-01 token '%s' is "
                            "not base64url", token ? token : "");
    }
    return write_answer(p, path, "the http-01 answer ", keyauthz, err);
}

apr_status_t acme_challenges_write_tls(apr_pool_t *p, const char *dir,
                                       const char *type, const char *name,
                                       acme_cert_t *cert, acme_key_t *key,
                                       acme_err_t *err)
{
    const char *path = acme_challenges_tls_path(p, dir, type, name);
    const char *kpem;
    apr_size_t klen;
    apr_status_t rv;

    if (!path) {
        return acme_err_set(err, p, ACME_EINVAL, "no %s answer file for the "
                            "name '%s'", type ? type : "?", name ? name : "");
    }
    rv = acme_key_to_pem(&kpem, &klen, p, key);
    if (rv != APR_SUCCESS) {
        return acme_err_set(err, p, rv, "cannot serialise the challenge key");
    }
    return write_answer(p, path, "", apr_pstrcat(p, acme_cert_to_pem(p, cert),
                                                 kpem, NULL), err);
}

apr_status_t acme_challenges_answer(apr_pool_t *p, const char *dir,
                                    const acme_challenge_t *ch,
                                    const char *name, acme_err_t *err)
{
    acme_cert_t *cert;
    acme_key_t *key;
    apr_status_t rv;

    if (!strcmp(ch->type, "http-01")) {
        return acme_challenges_write_http01(p, dir, ch->token, ch->keyauthz,
                                            err);
    }
    if (!strcmp(ch->type, "tls-alpn-01")) {
        rv = acme_challenge_cert_alpn(&cert, &key, p, name, ch->keyauthz,
                                      err);
        return rv != APR_SUCCESS ? rv : acme_challenges_write_tls(p, dir,
            ch->type, name, cert, key, err);
    }
    if (!strcmp(ch->type, "tls-sni-01")) {
        rv = acme_challenge_cert_sni(&cert, &key, p, ch->keyauthz, err);
        return rv != APR_SUCCESS ? rv : acme_challenges_write_tls(p, dir,
            ch->type, acme_challenge_sni_name(p, ch->keyauthz), cert, key,
            err);
    }
    return acme_err_set(err, p, ACME_EINVAL, "no answer file for %s",
                        ch->type);
}

void acme_challenges_remove(apr_pool_t *p, const char *dir,
                            const acme_challenge_t *ch, const char *name)
{
    const char *path = NULL;

    if (!strcmp(ch->type, "http-01")) {
        path = acme_challenges_http01_path(p, dir, ch->token);
    }
    else if (!strcmp(ch->type, "tls-alpn-01")) {
        path = acme_challenges_tls_path(p, dir, ch->type, name);
    }
    else if (!strcmp(ch->type, "tls-sni-01") && ch->keyauthz) {
        path = acme_challenges_tls_path(p, dir, ch->type,
            acme_challenge_sni_name(p, ch->keyauthz));
    }
    if (path) {
        apr_file_remove(path, p);
    }
}

apr_status_t acme_challenges_read_http01(char **pdata, apr_size_t *plen,
                                         apr_pool_t *p, const char *dir,
                                         const char *token)
{
    const char *path = acme_challenges_http01_path(p, dir, token);

    if (!path) {
        return ACME_EINVAL;
    }
    return acme_file_read(pdata, plen, p, path, ACME_CHALLENGES_ANSWER_MAX);
}

apr_status_t acme_challenges_read_tls(const char **pcert_pem,
                                      const char **pkey_pem, apr_pool_t *p,
                                      const char *dir, const char *type,
                                      const char *name)
{
    const char *path = acme_challenges_tls_path(p, dir, type, name);
    const char *end, *key;
    char *data = NULL;
    apr_size_t len;
    apr_status_t rv;

    if (!path) {
        return ACME_EINVAL;
    }
    rv = acme_file_read(&data, &len, p, path, ACME_CHALLENGES_TLS_MAX);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    end = strstr(data, "-----END CERTIFICATE-----");
    key = end ? strstr(end, "-----BEGIN") : NULL;
    if (!key) {
        return ACME_EPROTO;
    }
    *pcert_pem = apr_pstrmemdup(p, data, (apr_size_t)(key - data));
    *pkey_pem = key;
    return APR_SUCCESS;
}

apr_status_t acme_challenges_clean(const char *dir, apr_pool_t *p)
{
    apr_dir_t *d;
    apr_finfo_t fi;
    apr_status_t rv;

    rv = apr_dir_open(&d, dir, p);
    if (rv != APR_SUCCESS) {
        return APR_STATUS_IS_ENOENT(rv) ? APR_SUCCESS : rv;
    }
    while (apr_dir_read(&fi, APR_FINFO_NAME | APR_FINFO_TYPE, d)
           == APR_SUCCESS) {
        if (fi.filetype == APR_REG && fi.name[0] != '.') {
            acme_log(ACME_LOG_INFO, "removing the orphaned challenge answer "
                     "%s", fi.name);
            apr_file_remove(apr_pstrcat(p, dir, "/", fi.name, NULL), p);
        }
    }
    apr_dir_close(d);
    return APR_SUCCESS;
}
