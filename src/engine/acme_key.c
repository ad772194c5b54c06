/* mod_acme: private keys (generation, PEM load/save). */
#include <string.h>
#include <strings.h>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "acme_key.h"
#include "acme_util.h"

/* Largest key file we are willing to read. */
#define ACME_KEY_FILE_MAX (64 * 1024)

struct acme_key_t {
    EVP_PKEY *pkey;
};

static const struct {
    const char *name;
    acme_key_type_e type;
} key_type_names[] = {
    { "ec256",     ACME_KEY_EC256 },
    { "ec384",     ACME_KEY_EC384 },
    { "rsa2048",   ACME_KEY_RSA2048 },
    { "rsa3072",   ACME_KEY_RSA3072 },
    { "rsa4096",   ACME_KEY_RSA4096 },
    /* aliases */
    { "ecdsa",     ACME_KEY_EC256 },
    { "rsa",       ACME_KEY_RSA2048 },
    { "p256",      ACME_KEY_EC256 },
    { "p384",      ACME_KEY_EC384 },
    { "secp256r1", ACME_KEY_EC256 },
    { "secp384r1", ACME_KEY_EC384 },
};

#define KEY_TYPE_COUNT (sizeof(key_type_names) / sizeof(key_type_names[0]))

const char *acme_ssl_error(apr_pool_t *p)
{
    const char *out = NULL;
    unsigned long e;
    char buf[256];
    int n = 0;

    while ((e = ERR_get_error()) != 0) {
        if (n++ >= 4) {
            continue;   /* drain the rest, keep the line short */
        }
        ERR_error_string_n(e, buf, sizeof(buf));
        out = out ? apr_pstrcat(p, out, "; ", buf, NULL) : apr_pstrdup(p, buf);
    }
    return out ? out : "no detail from OpenSSL";
}

apr_status_t acme_bio_mem(BIO **pbio, const void *data, apr_size_t len,
                          apr_pool_t *p, acme_err_t *err)
{
    apr_status_t rv = APR_SUCCESS;

    *pbio = BIO_new_mem_buf(data, (int)len);
    if (!*pbio) {
        rv = acme_err_set(err, p, ACME_ECRYPTO, "out of memory: %s",
                          acme_ssl_error(p));
    }
    return rv;
}

static void pkey_free(void *pkey)
{
    EVP_PKEY_free(pkey);
}

acme_key_t *acme_key_wrap(apr_pool_t *p, EVP_PKEY *pkey)
{
    acme_key_t *key = apr_pcalloc(p, sizeof(*key));

    key->pkey = pkey;
    acme_pool_owns(p, pkey, pkey_free);
    return key;
}

EVP_PKEY *acme_key_evp(const acme_key_t *key)
{
    return key ? key->pkey : NULL;
}

apr_status_t acme_key_type_parse(acme_key_type_e *ptype, const char *s,
                                 apr_pool_t *p, acme_err_t *err)
{
    apr_status_t rv = ACME_EINVAL;
    apr_size_t i;

    for (i = 0; s && i < KEY_TYPE_COUNT; i++) {
        if (!strcasecmp(s, key_type_names[i].name)) {
            *ptype = key_type_names[i].type;
            rv = APR_SUCCESS;
            goto cleanup;
        }
    }
    acme_err_set(err, p, rv, "unknown key type '%s': use one of ec256, ec384, "
                 "rsa2048, rsa3072, rsa4096 (aliases: ecdsa = ec256, "
                 "rsa = rsa2048, p256, p384, secp256r1, secp384r1)",
                 s ? s : "");
cleanup:
    return rv;
}

const char *acme_key_type_name(acme_key_type_e type)
{
    switch (type) {
    case ACME_KEY_EC256:   return "ec256";
    case ACME_KEY_EC384:   return "ec384";
    case ACME_KEY_RSA2048: return "rsa2048";
    case ACME_KEY_RSA3072: return "rsa3072";
    case ACME_KEY_RSA4096: return "rsa4096";
    }
    return "unknown";
}

apr_status_t acme_key_generate(acme_key_t **pkey, apr_pool_t *p,
                               acme_key_type_e type, acme_err_t *err)
{
    apr_status_t rv = APR_SUCCESS;
    EVP_PKEY *pk = NULL;

    ERR_clear_error();
    switch (type) {
    case ACME_KEY_EC256:
        pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        break;
    case ACME_KEY_EC384:
        pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
        break;
    case ACME_KEY_RSA2048:
        pk = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
        break;
    case ACME_KEY_RSA3072:
        pk = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)3072);
        break;
    case ACME_KEY_RSA4096:
        pk = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)4096);
        break;
    default:
        rv = acme_err_set(err, p, ACME_EINVAL, "unknown key type %d",
                          (int)type);
        goto cleanup;
    }
    if (!pk) {
        rv = acme_err_set(err, p, ACME_ECRYPTO, "generating a %s key failed: %s",
                          acme_key_type_name(type), acme_ssl_error(p));
        goto cleanup;
    }
    *pkey = acme_key_wrap(p, pk);
cleanup:
    return rv;
}

/* Never prompt for a pass phrase: an encrypted key is an error here. */
static int no_passphrase_cb(char *buf, int size, int rwflag, void *u)
{
    (void)buf; (void)size; (void)rwflag; (void)u;
    return -1;
}

apr_status_t acme_key_from_pem(acme_key_t **pkey, apr_pool_t *p,
                               const char *pem, apr_size_t len,
                               acme_err_t *err)
{
    apr_status_t rv = APR_SUCCESS;
    BIO *bio = NULL;
    EVP_PKEY *pk = NULL;

    ERR_clear_error();
    if (!pem || len == 0 || len > ACME_KEY_FILE_MAX) {
        rv = acme_err_set(err, p, ACME_EINVAL, "no PEM private key given%s",
                          len > ACME_KEY_FILE_MAX ? " (input too large)" : "");
        goto cleanup;
    }
    rv = acme_bio_mem(&bio, pem, len, p, err);
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    pk = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase_cb, NULL);
    if (!pk) {
        rv = acme_err_set(err, p, ACME_EINVAL,
                          "not a readable unencrypted PEM private key: %s",
                          acme_ssl_error(p));
        goto cleanup;
    }
    *pkey = acme_key_wrap(p, pk);
cleanup:
    if (bio) {
        BIO_free(bio);
    }
    return rv;
}

apr_status_t acme_key_load(acme_key_t **pkey, apr_pool_t *p, const char *path,
                           acme_err_t *err)
{
    apr_status_t rv;
    char *data = NULL;
    apr_size_t len = 0;

    rv = acme_file_read_err(&data, &len, p, path, ACME_KEY_FILE_MAX, "key",
                            err);
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    rv = acme_key_from_pem(pkey, p, data, len, err);
    if (rv != APR_SUCCESS) {
        acme_err_wrap(err, p, "key file %s", path);
    }
cleanup:
    if (data) {
        /* the file held private key material: do not leave it in the pool */
        OPENSSL_cleanse(data, len);
    }
    return rv;
}

/* Copies a memory BIO's contents into the pool (NUL-terminated). */
static apr_status_t bio_to_pool(const char **pout, apr_size_t *plen,
                                apr_pool_t *p, BIO *bio)
{
    char *data = NULL, *out;
    long n;

    n = BIO_get_mem_data(bio, &data);
    if (n < 0 || !data) {
        return ACME_ECRYPTO;
    }
    out = apr_palloc(p, (apr_size_t)n + 1);
    memcpy(out, data, (apr_size_t)n);
    out[n] = '\0';
    *pout = out;
    if (plen) {
        *plen = (apr_size_t)n;
    }
    return APR_SUCCESS;
}

apr_status_t acme_key_to_pem(const char **ppem, apr_size_t *plen,
                             apr_pool_t *p, const acme_key_t *key)
{
    apr_status_t rv = APR_SUCCESS;
    BIO *bio = NULL;

    if (!key || !key->pkey) {
        rv = APR_EINVAL;
        goto cleanup;
    }
    /* secure memory BIO: its buffer is cleansed when freed */
    bio = BIO_new(BIO_s_secmem());
    if (!bio) {
        rv = ACME_ECRYPTO;
        goto cleanup;
    }
    /* unencrypted PKCS#8 ("-----BEGIN PRIVATE KEY-----") */
    if (!PEM_write_bio_PKCS8PrivateKey(bio, key->pkey, NULL, NULL, 0,
                                       NULL, NULL)) {
        rv = ACME_ECRYPTO;
        goto cleanup;
    }
    rv = bio_to_pool(ppem, plen, p, bio);
cleanup:
    if (bio) {
        BIO_free(bio);
    }
    return rv;
}

apr_status_t acme_key_public_der(const unsigned char **pder, apr_size_t *plen,
                                 apr_pool_t *p, const acme_key_t *key)
{
    apr_status_t rv = APR_SUCCESS;
    unsigned char *out, *q;
    int n;

    if (!key || !key->pkey) {
        rv = APR_EINVAL;
        goto cleanup;
    }
    n = i2d_PUBKEY(key->pkey, NULL);
    if (n <= 0) {
        rv = ACME_ECRYPTO;
        goto cleanup;
    }
    out = apr_palloc(p, (apr_size_t)n);
    q = out;
    if (i2d_PUBKEY(key->pkey, &q) != n) {
        rv = ACME_ECRYPTO;
        goto cleanup;
    }
    *pder = out;
    *plen = (apr_size_t)n;
cleanup:
    return rv;
}

apr_status_t acme_key_get_type(acme_key_type_e *ptype, const acme_key_t *key)
{
    apr_status_t rv = ACME_EINVAL;
    char group[64];
    size_t glen = 0;
    int nid;

    if (!key || !key->pkey) {
        goto cleanup;
    }
    switch (EVP_PKEY_get_base_id(key->pkey)) {
    case EVP_PKEY_EC:
        if (!EVP_PKEY_get_utf8_string_param(key->pkey,
                                            OSSL_PKEY_PARAM_GROUP_NAME,
                                            group, sizeof(group), &glen)) {
            ERR_clear_error();
            goto cleanup;
        }
        nid = OBJ_sn2nid(group);
        if (nid == NID_undef) {
            nid = EC_curve_nist2nid(group);
        }
        if (nid == NID_X9_62_prime256v1) {
            *ptype = ACME_KEY_EC256;
            rv = APR_SUCCESS;
        }
        else if (nid == NID_secp384r1) {
            *ptype = ACME_KEY_EC384;
            rv = APR_SUCCESS;
        }
        break;
    case EVP_PKEY_RSA:
        switch (EVP_PKEY_get_bits(key->pkey)) {
        case 2048: *ptype = ACME_KEY_RSA2048; rv = APR_SUCCESS; break;
        case 3072: *ptype = ACME_KEY_RSA3072; rv = APR_SUCCESS; break;
        case 4096: *ptype = ACME_KEY_RSA4096; rv = APR_SUCCESS; break;
        default: break;
        }
        break;
    default:
        break;
    }
cleanup:
    return rv;
}
