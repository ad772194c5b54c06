/* mod_acme: Certbot's account files: JWK private keys (private_key.json)
 * to OpenSSL keys, regr.json, and where Certbot keeps them; its
 * renewal-hooks/ scripts, read for copying. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <apr_file_info.h>
#include <apr_file_io.h>
#include <apr_portable.h>
#include <apr_uri.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "acme_certbot.h"
#include "acme_util.h"
#include "acme_store.h"

#define CERTBOT_JSON_MAX (256 * 1024)
#define JWK_MEMBER_MAX 2048      /* base64url characters: RSA 8192 fits */

/* Decodes the base64url member `name` of a JWK. Returns ACME_EINVAL (with
 * the reason) when it is missing, not a string, empty or not base64url. */
static apr_status_t jwk_bytes(unsigned char **pdata, apr_size_t *plen,
                              apr_pool_t *p, json_t *jwk, const char *name,
                              acme_err_t *err)
{
    const char *v = json_string_value(json_object_get(jwk, name));

    if (!v) {
        return acme_err_set(err, p, ACME_EINVAL, "JWK: member \"%s\" is "
                            "missing or not a string", name);
    }
    if (!acme_is_b64url(v, JWK_MEMBER_MAX)
        || acme_b64url_decode(pdata, plen, p, v) != APR_SUCCESS
        || *plen == 0) {
        return acme_err_set(err, p, ACME_EINVAL, "JWK: member \"%s\" is not "
                            "base64url", name);
    }
    return APR_SUCCESS;
}

/* Pushes a JWK member as an unsigned big number. */
static apr_status_t push_bn(OSSL_PARAM_BLD *bld, apr_array_header_t *bns,
                            const char *param, apr_pool_t *p, json_t *jwk,
                            const char *name, acme_err_t *err)
{
    unsigned char *data;
    apr_size_t len;
    BIGNUM *bn;
    apr_status_t rv;

    rv = jwk_bytes(&data, &len, p, jwk, name, err);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    bn = BN_bin2bn(data, (int)len, NULL);
    if (!bn) {
        return acme_err_set(err, p, ACME_ECRYPTO, "JWK: member \"%s\": %s",
                            name, acme_ssl_error(p));
    }
    APR_ARRAY_PUSH(bns, BIGNUM *) = bn;     /* freed after the build */
    if (BN_is_zero(bn)) {
        return acme_err_set(err, p, ACME_EINVAL, "JWK: member \"%s\" is "
                            "zero", name);
    }
    if (!OSSL_PARAM_BLD_push_BN(bld, param, bn)) {
        return acme_err_set(err, p, ACME_ECRYPTO, "JWK: member \"%s\": %s",
                            name, acme_ssl_error(p));
    }
    return APR_SUCCESS;
}

static apr_status_t ec_params(OSSL_PARAM_BLD *bld, apr_array_header_t *bns,
                              const char **palg, apr_pool_t *p, json_t *jwk,
                              int want_private, acme_err_t *err)
{
    const char *crv = json_string_value(json_object_get(jwk, "crv"));
    const char *group;
    unsigned char *x, *y, *d, *pub;
    apr_size_t xlen, ylen, dlen, size;
    apr_status_t rv;

    if (!crv) {
        return acme_err_set(err, p, ACME_EINVAL, "JWK: EC key without "
                            "\"crv\"");
    }
    if (!strcmp(crv, "P-256")) {
        group = "P-256";
        size = 32;
    }
    else if (!strcmp(crv, "P-384")) {
        group = "P-384";
        size = 48;
    }
    else {
        return acme_err_set(err, p, ACME_EINVAL, "JWK: curve \"%s\" is not "
                            "supported (P-256, P-384 or RSA keys only)", crv);
    }
    if ((rv = jwk_bytes(&x, &xlen, p, jwk, "x", err)) != APR_SUCCESS
        || (rv = jwk_bytes(&y, &ylen, p, jwk, "y", err)) != APR_SUCCESS) {
        return rv;
    }
    if (xlen != size || ylen != size) {
        return acme_err_set(err, p, ACME_EINVAL, "JWK: \"x\" and \"y\" of a "
                            "%s key must be %d bytes (got %d and %d)", crv,
                            (int)size, (int)xlen, (int)ylen);
    }
    /* the uncompressed point: 0x04 || x || y */
    pub = apr_palloc(p, 1 + 2 * size);
    pub[0] = 0x04;
    memcpy(pub + 1, x, size);
    memcpy(pub + 1 + size, y, size);
    if (!OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
                                         group, 0)
        || !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
                                             pub, 1 + 2 * size)) {
        return acme_err_set(err, p, ACME_ECRYPTO, "JWK: %s",
                            acme_ssl_error(p));
    }
    if (want_private) {
        rv = jwk_bytes(&d, &dlen, p, jwk, "d", err);
        if (rv != APR_SUCCESS) {
            return rv;
        }
        if (dlen > size) {
            return acme_err_set(err, p, ACME_EINVAL, "JWK: \"d\" of a %s key "
                                "is longer than %d bytes", crv, (int)size);
        }
        rv = push_bn(bld, bns, OSSL_PKEY_PARAM_PRIV_KEY, p, jwk, "d", err);
        if (rv != APR_SUCCESS) {
            return rv;
        }
    }
    *palg = "EC";
    return APR_SUCCESS;
}

static apr_status_t rsa_params(OSSL_PARAM_BLD *bld, apr_array_header_t *bns,
                               const char **palg, apr_pool_t *p, json_t *jwk,
                               int want_private, acme_err_t *err)
{
    static const struct { const char *member, *param; } pub[] = {
        { "n", OSSL_PKEY_PARAM_RSA_N }, { "e", OSSL_PKEY_PARAM_RSA_E },
    }, priv[] = {
        { "d", OSSL_PKEY_PARAM_RSA_D },
        { "p", OSSL_PKEY_PARAM_RSA_FACTOR1 },
        { "q", OSSL_PKEY_PARAM_RSA_FACTOR2 },
        { "dp", OSSL_PKEY_PARAM_RSA_EXPONENT1 },
        { "dq", OSSL_PKEY_PARAM_RSA_EXPONENT2 },
        { "qi", OSSL_PKEY_PARAM_RSA_COEFFICIENT1 },
    };
    apr_status_t rv;
    size_t i;

    for (i = 0; i < sizeof(pub) / sizeof(pub[0]); i++) {
        rv = push_bn(bld, bns, pub[i].param, p, jwk, pub[i].member, err);
        if (rv != APR_SUCCESS) {
            return rv;
        }
    }
    if (want_private) {
        if (json_object_get(jwk, "oth")) {
            return acme_err_set(err, p, ACME_EINVAL, "JWK: RSA keys with more "
                                "than two primes (\"oth\") are not "
                                "supported");
        }
        for (i = 0; i < sizeof(priv) / sizeof(priv[0]); i++) {
            rv = push_bn(bld, bns, priv[i].param, p, jwk, priv[i].member,
                         err);
            if (rv != APR_SUCCESS) {
                return rv;
            }
        }
    }
    *palg = "RSA";
    return APR_SUCCESS;
}

apr_status_t acme_jwk_to_key(acme_key_t **pkey, apr_pool_t *p, json_t *jwk,
                             int want_private, acme_err_t *err)
{
    apr_status_t rv;
    OSSL_PARAM_BLD *bld = NULL;
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL, *check = NULL;
    EVP_PKEY *pkey_ssl = NULL;
    apr_array_header_t *bns = apr_array_make(p, 8, sizeof(BIGNUM *));
    const char *kty, *alg = NULL;
    int i;

    *pkey = NULL;
    if (!json_is_object(jwk)) {
        rv = acme_err_set(err, p, ACME_EINVAL, "JWK: not a JSON object");
        goto cleanup;
    }
    kty = json_string_value(json_object_get(jwk, "kty"));
    bld = OSSL_PARAM_BLD_new();
    if (!bld) {
        rv = acme_err_set(err, p, ACME_ECRYPTO, "JWK: %s", acme_ssl_error(p));
        goto cleanup;
    }
    if (kty && !strcmp(kty, "EC")) {
        rv = ec_params(bld, bns, &alg, p, jwk, want_private, err);
    }
    else if (kty && !strcmp(kty, "RSA")) {
        rv = rsa_params(bld, bns, &alg, p, jwk, want_private, err);
    }
    else {
        rv = acme_err_set(err, p, ACME_EINVAL, "JWK: key type \"%s\" is not "
                          "supported (EC or RSA)", kty ? kty : "(none)");
    }
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    params = OSSL_PARAM_BLD_to_param(bld);
    ctx = EVP_PKEY_CTX_new_from_name(NULL, alg, NULL);
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx) <= 0
        || EVP_PKEY_fromdata(ctx, &pkey_ssl, want_private
                             ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY,
                             params) <= 0 || !pkey_ssl) {
        rv = acme_err_set(err, p, ACME_EINVAL, "JWK: not a usable %s key: %s",
                          alg, acme_ssl_error(p));
        goto cleanup;
    }
    /* the public part is valid (the point is on the curve, ...) and, for a
     * private key, belongs to the private part */
    check = EVP_PKEY_CTX_new_from_pkey(NULL, pkey_ssl, NULL);
    if (!check || EVP_PKEY_public_check(check) != 1
        || (want_private && EVP_PKEY_pairwise_check(check) != 1)) {
        rv = acme_err_set(err, p, ACME_EINVAL, "JWK: the %s key is not "
                          "consistent (%s)", alg, acme_ssl_error(p));
        goto cleanup;
    }
    *pkey = acme_key_wrap(p, pkey_ssl);
    pkey_ssl = NULL;
    rv = APR_SUCCESS;
cleanup:
    for (i = 0; i < bns->nelts; i++) {
        BN_clear_free(APR_ARRAY_IDX(bns, i, BIGNUM *));
    }
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_CTX_free(check);
    EVP_PKEY_free(pkey_ssl);
    return rv;
}

/* Reads and parses a JSON file of a Certbot account. */
static apr_status_t load_json(json_t **pjson, apr_pool_t *p, const char *dir,
                              const char *file, acme_err_t *err)
{
    const char *path = apr_pstrcat(p, dir, "/", file, NULL);
    char *text = NULL;
    apr_size_t len = 0;
    json_error_t jerr;
    apr_status_t rv;

    *pjson = NULL;
    rv = acme_file_read(&text, &len, p, path, CERTBOT_JSON_MAX);
    if (rv != APR_SUCCESS) {
        char buf[120];
        return acme_err_set(err, p, APR_STATUS_IS_ENOENT(rv)
                            ? ACME_ENOTFOUND : rv, "cannot read %s: %s",
                            path, apr_strerror(rv, buf, sizeof(buf)));
    }
    *pjson = json_loadb(text, len, 0, &jerr);
    if (!*pjson || !json_is_object(*pjson)) {
        rv = acme_err_set(err, p, ACME_EINVAL, "%s: not a JSON object%s%s",
                          path, *pjson ? "" : ": ", *pjson ? "" : jerr.text);
        if (*pjson) {
            json_decref(*pjson);
            *pjson = NULL;
        }
        return rv;
    }
    return APR_SUCCESS;
}

apr_status_t acme_certbot_account_load(acme_key_t **pkey, const char **purl,
                                       json_t **pbody, apr_pool_t *p,
                                       const char *dir, acme_err_t *err)
{
    apr_status_t rv;
    json_t *jwk = NULL, *regr = NULL, *body;
    const char *uri;

    *pkey = NULL;
    *purl = NULL;
    if (pbody) {
        *pbody = NULL;
    }
    rv = load_json(&regr, p, dir, "regr.json", err);
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    uri = json_string_value(json_object_get(regr, "uri"));
    if (!uri || strncmp(uri, "https://", 8) != 0) {
        rv = acme_err_set(err, p, ACME_EINVAL, "%s/regr.json: no account URL "
                          "(\"uri\")", dir);
        goto cleanup;
    }
    rv = load_json(&jwk, p, dir, "private_key.json", err);
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    rv = acme_jwk_to_key(pkey, p, jwk, 1, err);
    if (rv != APR_SUCCESS) {
        acme_err_wrap(err, p, "%s/private_key.json", dir);
        goto cleanup;
    }
    *purl = apr_pstrdup(p, uri);
    if (pbody) {
        body = json_object_get(regr, "body");
        *pbody = json_is_object(body) ? json_incref(body) : json_object();
    }
cleanup:
    if (jwk) {
        json_decref(jwk);
    }
    if (regr) {
        json_decref(regr);
    }
    return rv;
}

const char *acme_certbot_account_dir(apr_pool_t *p, const char *config_dir,
                                     const char *server_url)
{
    /* Certbot: urlparse(server).netloc + .path, '/' as directories; the
     * netloc as given, so no case folding */
    return acme_store_account_dir_in(p, apr_pstrcat(p, config_dir,
                                     "/accounts", NULL), server_url, 0);
}

/* Describes a file type for a message. */
static const char *type_name(mode_t mode)
{
    return S_ISDIR(mode) ? "a directory" : S_ISFIFO(mode) ? "a FIFO"
        : S_ISSOCK(mode) ? "a socket" : S_ISCHR(mode) || S_ISBLK(mode)
        ? "a device" : S_ISLNK(mode) ? "a symbolic link" : "not a regular "
        "file";
}

/* The real path of a hook file, in *preal: only a regular file whose real
 * path is inside config_dir (a link followed only when its target is
 * there too). ACME_EINVAL with the reason otherwise. */
static apr_status_t hook_real_path(const char **preal, apr_pool_t *p,
                                   const char *config_dir, const char *path,
                                   acme_err_t *err)
{
    char top[PATH_MAX], real[PATH_MAX], target[PATH_MAX];
    struct stat st;
    apr_size_t toplen;
    apr_status_t rv = APR_SUCCESS;
    ssize_t n;

    if (!realpath(config_dir, top)) {
        rv = acme_err_set(err, p, APR_FROM_OS_ERROR(errno), "cannot resolve "
                          "%s: %s", config_dir, strerror(errno));
        goto cleanup;
    }
    if (lstat(path, &st) != 0) {
        rv = acme_err_set(err, p, APR_FROM_OS_ERROR(errno), "%s",
                          strerror(errno));
        goto cleanup;
    }
    if (!realpath(path, real)) {
        if (!S_ISLNK(st.st_mode)) {
            rv = acme_err_set(err, p, APR_FROM_OS_ERROR(errno), "%s",
                              strerror(errno));
            goto cleanup;
        }
        n = readlink(path, target, sizeof(target) - 1);
        target[n > 0 ? n : 0] = '\0';
        rv = acme_err_set(err, p, ACME_EINVAL, "a symbolic link to %s, which "
                          "does not exist", target);
        goto cleanup;
    }
    toplen = strlen(top);
    if (strcmp(top, "/") && (strncmp(real, top, toplen) || real[toplen]
                             != '/')) {
        /* never read what a link points at outside Certbot's directory:
         * the user decides about that file */
        rv = acme_err_set(err, p, ACME_EINVAL, "%s %s, outside %s",
                          S_ISLNK(st.st_mode) ? "a symbolic link to"
                          : "its real path is", real, top);
        goto cleanup;
    }
    if (stat(real, &st) != 0 || !S_ISREG(st.st_mode)) {
        rv = acme_err_set(err, p, ACME_EINVAL, "%s", type_name(st.st_mode));
        goto cleanup;
    }
    *preal = apr_pstrdup(p, real);
cleanup:
    return rv;
}

/* Opens real for reading as an APR file, without following a link or
 * waiting on a FIFO swapped in since it was checked. */
static apr_status_t hook_open(apr_file_t **pf, apr_pool_t *p,
                              const char *real, acme_err_t *err)
{
    apr_os_file_t fd;
    apr_status_t rv;

    /* O_NOFOLLOW and O_NONBLOCK: a link or FIFO swapped in since is not
     * followed or waited on (APR has no way to say so) */
    fd = open(real, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        rv = acme_err_set(err, p, APR_FROM_OS_ERROR(errno), "cannot open "
                          "%s: %s", real, strerror(errno));
        goto cleanup;
    }
    rv = apr_os_file_put(pf, &fd, APR_FOPEN_READ, p);
    if (rv != APR_SUCCESS) {
        *pf = NULL;
        close(fd);
        acme_err_set(err, p, rv, "cannot open %s", real);
        goto cleanup;
    }
cleanup:
    return rv;
}

apr_status_t acme_certbot_hook_read(char **pdata, apr_size_t *plen,
                                    apr_fileperms_t *pperms, apr_pool_t *p,
                                    const char *config_dir, const char *path,
                                    apr_size_t maxlen, acme_err_t *err)
{
    const char *real = NULL;
    apr_file_t *f = NULL;
    apr_finfo_t fi;
    apr_size_t got = 0;
    apr_status_t rv;
    char *data;

    rv = hook_real_path(&real, p, config_dir, path, err);
    if (rv == APR_SUCCESS) {
        rv = hook_open(&f, p, real, err);
    }
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    rv = apr_file_info_get(&fi, APR_FINFO_TYPE | APR_FINFO_SIZE
                           | APR_FINFO_PROT, f);
    if (rv != APR_SUCCESS || fi.filetype != APR_REG) {
        rv = acme_err_set(err, p, ACME_EINVAL, "%s changed while it was "
                          "read", real);
        goto cleanup;
    }
    if ((apr_size_t)fi.size > maxlen) {
        rv = acme_err_set(err, p, ACME_EINVAL, "larger than %lu bytes",
                          (unsigned long)maxlen);
        goto cleanup;
    }
    data = apr_palloc(p, (apr_size_t)fi.size + 1);
    if (fi.size > 0) {
        rv = apr_file_read_full(f, data, (apr_size_t)fi.size, &got);
        if (rv != APR_SUCCESS) {
            acme_err_set(err, p, rv, "cannot read %s", real);
            goto cleanup;
        }
    }
    data[got] = '\0';
    *pdata = data;
    *plen = got;
    *pperms = fi.protection & (APR_UREAD | APR_UWRITE | APR_UEXECUTE
                               | APR_GREAD | APR_GWRITE | APR_GEXECUTE
                               | APR_WREAD | APR_WWRITE | APR_WEXECUTE);
cleanup:
    if (f) {
        apr_file_close(f);
    }
    return rv;
}
