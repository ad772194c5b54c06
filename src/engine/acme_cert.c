/* mod_acme: X.509 certificates and PEM chains. */
#include <arpa/inet.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "acme_cert.h"
#include "acme_csr.h"
#include "acme_util.h"

/* Largest chain file we read; real chains are a few KB. */
#define ACME_CHAIN_MAX (1024 * 1024)

/* How far in the future notBefore may be (clock skew between us and the
 * CA). */
#define ACME_NOTBEFORE_SKEW apr_time_from_sec(24 * 3600)

#define PEM_CERT_BEGIN "-----BEGIN CERTIFICATE-----"

struct acme_cert_t {
    X509 *x;
};

static void x509_free(void *x)
{
    X509_free(x);
}

acme_cert_t *acme_cert_wrap(apr_pool_t *p, X509 *x)
{
    acme_cert_t *cert = apr_pcalloc(p, sizeof(*cert));

    cert->x = x;
    acme_pool_owns(p, x, x509_free);
    return cert;
}

X509 *acme_cert_x509(const acme_cert_t *cert)
{
    return cert ? cert->x : NULL;
}

/* Counts the "-----BEGIN CERTIFICATE-----" lines in pem[0..len). */
static int count_cert_blocks(const char *pem, apr_size_t len)
{
    const char *s = pem, *end = pem + len, *hit;
    int n = 0;

    while (s < end
           && (hit = memmem(s, (size_t)(end - s), PEM_CERT_BEGIN,
                            sizeof(PEM_CERT_BEGIN) - 1)) != NULL) {
        n++;
        s = hit + sizeof(PEM_CERT_BEGIN) - 1;
    }
    return n;
}

apr_status_t acme_chain_parse(apr_array_header_t **pcerts, apr_pool_t *p,
                              const char *pem, apr_size_t len,
                              acme_err_t *err)
{
    apr_status_t rv = APR_SUCCESS;
    apr_array_header_t *certs;
    BIO *bio = NULL;
    X509 *x;
    unsigned long e;
    int blocks;

    ERR_clear_error();
    certs = apr_array_make(p, 3, sizeof(acme_cert_t *));
    if (!pem || len == 0) {
        rv = acme_err_set(err, p, ACME_EPROTO,
                          "no certificate in the CA's answer (it is empty)");
        goto cleanup;
    }
    if (len > ACME_CHAIN_MAX) {
        rv = acme_err_set(err, p, ACME_EPROTO, "the CA's certificate chain "
                          "is too large (%" APR_SIZE_T_FMT " bytes)", len);
        goto cleanup;
    }
    rv = acme_bio_mem(&bio, pem, len, p, err);
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
        APR_ARRAY_PUSH(certs, acme_cert_t *) = acme_cert_wrap(p, x);
    }
    /* the loop ends with "no start line" at the end of the input; anything
     * else is a block that did not parse */
    e = ERR_peek_last_error();
    if (ERR_GET_LIB(e) == ERR_LIB_PEM
        && ERR_GET_REASON(e) == PEM_R_NO_START_LINE) {
        ERR_clear_error();
    }
    else if (e) {
        rv = acme_err_set(err, p, ACME_EPROTO, "certificate %d in the CA's "
                          "answer does not parse: %s", certs->nelts + 1,
                          acme_ssl_error(p));
        goto cleanup;
    }
    if (certs->nelts == 0) {
        rv = acme_err_set(err, p, ACME_EPROTO,
                          "no certificate in the CA's answer");
        goto cleanup;
    }
    /* belt and braces: every BEGIN CERTIFICATE block must have become a
     * certificate */
    blocks = count_cert_blocks(pem, len);
    if (blocks != certs->nelts) {
        rv = acme_err_set(err, p, ACME_EPROTO, "the CA's answer has %d "
                          "certificate blocks but only %d parse", blocks,
                          certs->nelts);
        goto cleanup;
    }
    *pcerts = certs;
cleanup:
    BIO_free(bio);
    return rv;
}

apr_status_t acme_chain_load(apr_array_header_t **pcerts, apr_pool_t *p,
                             const char *path, acme_err_t *err)
{
    apr_status_t rv;
    char *data = NULL;
    apr_size_t len = 0;

    rv = acme_file_read_err(&data, &len, p, path, ACME_CHAIN_MAX,
                            "certificate", err);
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    rv = acme_chain_parse(pcerts, p, data, len, err);
    if (rv != APR_SUCCESS && err && err->msg) {
        /* the parse messages speak of "the CA's answer"; say which file */
        acme_err_set(err, p, rv, "%s: %s", path, err->msg);
    }
cleanup:
    return rv;
}

const char *acme_cert_to_pem(apr_pool_t *p, const acme_cert_t *cert)
{
    const char *out = NULL;
    BIO *bio = NULL;
    char *data = NULL;
    long n;

    if (!cert || !cert->x) {
        goto cleanup;
    }
    bio = BIO_new(BIO_s_mem());
    if (!bio || !PEM_write_bio_X509(bio, cert->x)) {
        ERR_clear_error();
        goto cleanup;
    }
    n = BIO_get_mem_data(bio, &data);
    if (n > 0 && data) {
        out = apr_pstrmemdup(p, data, (apr_size_t)n);
    }
cleanup:
    BIO_free(bio);
    return out;
}

const char *acme_chain_to_pem(apr_pool_t *p, const apr_array_header_t *certs,
                              int from, int to)
{
    const char *out = "", *pem;
    int i;

    if (from < 0) {
        from = 0;
    }
    if (!certs || to > certs->nelts) {
        to = certs ? certs->nelts : 0;
    }
    for (i = from; i < to; i++) {
        pem = acme_cert_to_pem(p, APR_ARRAY_IDX(certs, i, const acme_cert_t *));
        if (!pem) {
            out = NULL;
            goto cleanup;
        }
        out = apr_pstrcat(p, out, pem, NULL);
    }
cleanup:
    return out;
}

/* The text form of an iPAddress (4 or 16 bytes), or NULL. */
static const char *ip_text(apr_pool_t *p, const unsigned char *d, int len)
{
    char buf[INET6_ADDRSTRLEN];

    if (len == 4 && inet_ntop(AF_INET, d, buf, sizeof(buf))) {
        return apr_pstrdup(p, buf);
    }
    if (len == 16 && inet_ntop(AF_INET6, d, buf, sizeof(buf))) {
        return apr_pstrdup(p, buf);
    }
    return NULL;
}

apr_array_header_t *acme_cert_names(apr_pool_t *p, const acme_cert_t *cert)
{
    apr_array_header_t *names = apr_array_make(p, 5, sizeof(const char *));
    GENERAL_NAMES *gens = NULL;
    const GENERAL_NAME *gen;
    const unsigned char *d;
    const char *name;
    int i, len;

    if (!cert || !cert->x) {
        goto cleanup;
    }
    gens = X509_get_ext_d2i(cert->x, NID_subject_alt_name, NULL, NULL);
    for (i = 0; gens && i < sk_GENERAL_NAME_num(gens); i++) {
        gen = sk_GENERAL_NAME_value(gens, i);
        name = NULL;
        if (gen->type == GEN_DNS) {
            d = ASN1_STRING_get0_data(gen->d.dNSName);
            len = ASN1_STRING_length(gen->d.dNSName);
            /* skip names with embedded NULs: they cannot be compared */
            if (d && len > 0 && !memchr(d, '\0', (size_t)len)) {
                name = acme_str_tolower(apr_pstrmemdup(p, (const char *)d,
                                                       (apr_size_t)len));
            }
        }
        else if (gen->type == GEN_IPADD) {
            name = ip_text(p, ASN1_STRING_get0_data(gen->d.iPAddress),
                           ASN1_STRING_length(gen->d.iPAddress));
        }
        if (name) {
            APR_ARRAY_PUSH(names, const char *) = name;
        }
    }
cleanup:
    ERR_clear_error();
    GENERAL_NAMES_free(gens);
    return names;
}

/* An ASN1_TIME as apr_time_t; 0 if it does not convert. */
static apr_time_t asn1_to_apr(const ASN1_TIME *t)
{
    struct tm tm;
    time_t secs;

    memset(&tm, 0, sizeof(tm));
    if (!t || !ASN1_TIME_to_tm(t, &tm)) {
        ERR_clear_error();
        return 0;
    }
    secs = timegm(&tm);
    return secs == (time_t)-1 ? 0 : apr_time_from_sec(secs);
}

apr_time_t acme_cert_not_before(const acme_cert_t *cert)
{
    return cert ? asn1_to_apr(X509_get0_notBefore(cert->x)) : 0;
}

apr_time_t acme_cert_not_after(const acme_cert_t *cert)
{
    return cert ? asn1_to_apr(X509_get0_notAfter(cert->x)) : 0;
}

const char *acme_cert_serial_hex(apr_pool_t *p, const acme_cert_t *cert)
{
    const char *out = NULL;
    BIGNUM *bn = NULL;
    char *hex = NULL;

    if (!cert || !cert->x) {
        goto cleanup;
    }
    bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert->x), NULL);
    hex = bn ? BN_bn2hex(bn) : NULL;
    if (!hex) {
        ERR_clear_error();
        goto cleanup;
    }
    out = acme_str_tolower(apr_pstrdup(p, hex));
cleanup:
    OPENSSL_free(hex);
    BN_free(bn);
    return out;
}

/* The first commonName of a name as UTF-8, or "". */
static const char *name_cn(apr_pool_t *p, const X509_NAME *name)
{
    const char *out = "";
    unsigned char *utf8 = NULL;
    X509_NAME_ENTRY *entry;
    int idx, n;

    idx = name ? X509_NAME_get_index_by_NID(name, NID_commonName, -1) : -1;
    if (idx < 0) {
        goto cleanup;
    }
    entry = X509_NAME_get_entry(name, idx);
    n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(entry));
    if (n < 0) {
        ERR_clear_error();
        goto cleanup;
    }
    out = apr_pstrmemdup(p, (const char *)utf8, (apr_size_t)n);
cleanup:
    OPENSSL_free(utf8);
    return out;
}

const char *acme_cert_issuer_cn(apr_pool_t *p, const acme_cert_t *cert)
{
    return cert ? name_cn(p, X509_get_issuer_name(cert->x)) : "";
}

const char *acme_cert_subject_cn(apr_pool_t *p, const acme_cert_t *cert)
{
    return cert ? name_cn(p, X509_get_subject_name(cert->x)) : "";
}

int acme_cert_matches_key(const acme_cert_t *cert, const acme_key_t *key)
{
    EVP_PKEY *cpk, *pk = acme_key_evp(key);
    int rc;

    if (!cert || !cert->x || !pk) {
        return 0;
    }
    cpk = X509_get0_pubkey(cert->x);
    rc = cpk && EVP_PKEY_eq(cpk, pk) == 1;
    ERR_clear_error();
    return rc;
}

int acme_cert_issued_by(const acme_cert_t *cert, const acme_cert_t *issuer)
{
    EVP_PKEY *ipk;
    int rc = 0;

    if (!cert || !cert->x || !issuer || !issuer->x) {
        goto cleanup;
    }
    /* the names (X509_check_issued would also apply the issuer's key
     * usage, which a self-signed end-entity certificate lacks) ... */
    if (X509_NAME_cmp(X509_get_issuer_name(cert->x),
                      X509_get_subject_name(issuer->x)) != 0) {
        goto cleanup;
    }
    /* ... and the signature itself */
    ipk = X509_get0_pubkey(issuer->x);
    rc = ipk && X509_verify(cert->x, ipk) == 1;
cleanup:
    ERR_clear_error();
    return rc;
}

/* A time for messages: "2025-01-31 12:00:00 UTC". */
static const char *time_text(apr_pool_t *p, apr_time_t t)
{
    apr_time_exp_t exp;
    char buf[64];
    apr_size_t n = 0;

    if (apr_time_exp_gmt(&exp, t) != APR_SUCCESS
        || apr_strftime(buf, &n, sizeof(buf), "%Y-%m-%d %H:%M:%S UTC", &exp)
           != APR_SUCCESS) {
        return "(unknown time)";
    }
    return apr_pstrmemdup(p, buf, n);
}

/* A name for comparing: lowercased; an IP literal in inet_ntop form (so
 * that "2001:DB8:0::1" equals the certificate's "2001:db8::1"). */
static const char *name_canon(apr_pool_t *p, const char *name)
{
    ASN1_OCTET_STRING *ip = a2i_IPADDRESS(name);
    const char *out = NULL;

    if (ip) {
        out = ip_text(p, ASN1_STRING_get0_data(ip), ASN1_STRING_length(ip));
        ASN1_OCTET_STRING_free(ip);
    }
    else {
        ERR_clear_error();
    }
    return out ? out : acme_str_tolower(apr_pstrdup(p, name));
}

/* Non-zero if every name of a (canonicalised) is in b. */
static int names_subset(const apr_array_header_t *a,
                        const apr_array_header_t *b)
{
    int i;

    for (i = 0; i < a->nelts; i++) {
        if (!acme_array_contains(b, APR_ARRAY_IDX(a, i, const char *))) {
            return 0;
        }
    }
    return 1;
}

apr_status_t acme_chain_validate(const apr_array_header_t *certs,
                                 const acme_key_t *key,
                                 const apr_array_header_t *names,
                                 apr_time_t now, apr_pool_t *p,
                                 acme_err_t *err)
{
    apr_status_t rv = APR_SUCCESS;
    apr_array_header_t *have, *want;
    const acme_cert_t *leaf, *c, *next;
    apr_time_t nb, na;
    int i;

    if (!certs || certs->nelts == 0) {
        rv = acme_err_set(err, p, ACME_EPROTO, "the CA returned no "
                          "certificate");
        goto cleanup;
    }
    leaf = APR_ARRAY_IDX(certs, 0, const acme_cert_t *);
    if (!acme_cert_matches_key(leaf, key)) {
        rv = acme_err_set(err, p, ACME_EPROTO, "certificate's public key "
                          "does not match the requested key");
        goto cleanup;
    }
    have = acme_cert_names(p, leaf);
    want = apr_array_make(p, names ? names->nelts : 1, sizeof(const char *));
    for (i = 0; names && i < names->nelts; i++) {
        APR_ARRAY_PUSH(want, const char *)
            = name_canon(p, APR_ARRAY_IDX(names, i, const char *));
    }
    if (want->nelts == 0 || !names_subset(have, want)
        || !names_subset(want, have)) {
        rv = acme_err_set(err, p, ACME_EPROTO, "certificate names (%s) differ "
                          "from the requested names (%s)",
                          acme_array_join(p, have, ", "),
                          acme_array_join(p, want, ", "));
        goto cleanup;
    }
    nb = acme_cert_not_before(leaf);
    na = acme_cert_not_after(leaf);
    if (!nb || !na) {
        rv = acme_err_set(err, p, ACME_EPROTO, "certificate validity dates "
                          "are unreadable");
        goto cleanup;
    }
    if (nb > now + ACME_NOTBEFORE_SKEW) {
        rv = acme_err_set(err, p, ACME_EPROTO, "certificate is not valid "
                          "before %s, more than a day from now (%s)",
                          time_text(p, nb), time_text(p, now));
        goto cleanup;
    }
    if (na <= now) {
        rv = acme_err_set(err, p, ACME_EPROTO, "certificate expired on %s",
                          time_text(p, na));
        goto cleanup;
    }
    if (na <= nb) {
        rv = acme_err_set(err, p, ACME_EPROTO, "certificate expires (%s) "
                          "before it becomes valid (%s)", time_text(p, na),
                          time_text(p, nb));
        goto cleanup;
    }
    for (i = 0; i + 1 < certs->nelts; i++) {
        c = APR_ARRAY_IDX(certs, i, const acme_cert_t *);
        next = APR_ARRAY_IDX(certs, i + 1, const acme_cert_t *);
        if (!acme_cert_issued_by(c, next)) {
            rv = acme_err_set(err, p, ACME_EPROTO, "chain: certificate %d "
                              "was not issued by certificate %d (issuer "
                              "'%s', next subject '%s')", i + 1, i + 2,
                              acme_cert_issuer_cn(p, c),
                              acme_cert_subject_cn(p, next));
            goto cleanup;
        }
    }
cleanup:
    return rv;
}

/* Adds an extension given in OpenSSL's config syntax (our own constant
 * strings only, never user input). */
static int add_conf_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
    int ok = ext && X509_add_ext(x, ext, -1);

    X509_EXTENSION_free(ext);
    return ok;
}

/* A random serial for a self-signed certificate: 16 random bytes,
 * positive and exactly 16 octets in DER. */
static apr_status_t random_serial(ASN1_INTEGER **pserial, apr_pool_t *p,
                                  acme_err_t *err)
{
    apr_status_t rv = APR_SUCCESS;
    unsigned char rnd[16];
    BIGNUM *bn = NULL;

    *pserial = NULL;
    if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
        rv = acme_err_set(err, p, ACME_ECRYPTO, "self-signed certificate: "
                          "no random serial: %s", acme_ssl_error(p));
        goto cleanup;
    }
    rnd[0] = (unsigned char)((rnd[0] & 0x7f) | 0x40);
    bn = BN_bin2bn(rnd, sizeof(rnd), NULL);
    *pserial = bn ? BN_to_ASN1_INTEGER(bn, NULL) : NULL;
    if (!*pserial) {
        rv = acme_err_set(err, p, ACME_ECRYPTO, "self-signed certificate: "
                          "out of memory: %s", acme_ssl_error(p));
        goto cleanup;
    }
cleanup:
    BN_free(bn);
    return rv;
}

/* The subject (and issuer) of a self-signed certificate: CN = the first
 * name when it fits (64 characters) and is not an IP address, else empty. */
static apr_status_t self_signed_subject(X509_NAME **pname, apr_pool_t *p,
                                        const apr_array_header_t *names,
                                        acme_err_t *err)
{
    apr_status_t rv = APR_SUCCESS;
    X509_NAME *name = X509_NAME_new();
    const char *first = APR_ARRAY_IDX(names, 0, const char *);

    if (!name) {
        rv = acme_err_set(err, p, ACME_ECRYPTO, "self-signed certificate: "
                          "out of memory: %s", acme_ssl_error(p));
        goto cleanup;
    }
    if (strlen(first) <= 64 && !acme_csr_name_is_ip(first)
        && !X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
                                       (const unsigned char *)first, -1, -1,
                                       0)) {
        rv = acme_err_set(err, p, ACME_ECRYPTO, "self-signed certificate: "
                          "cannot set the subject: %s", acme_ssl_error(p));
        goto cleanup;
    }
    *pname = name;
    name = NULL;
cleanup:
    X509_NAME_free(name);
    return rv;
}

/* The extensions of a self-signed server certificate besides the SAN: not a
 * CA, signing (and key encipherment for RSA), serverAuth, a key id. */
static apr_status_t self_signed_extensions(X509 *x, EVP_PKEY *pk,
                                           apr_pool_t *p, acme_err_t *err)
{
    apr_status_t rv = APR_SUCCESS;
    X509V3_CTX ctx;

    X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
    if (!add_conf_ext(x, &ctx, NID_basic_constraints, "critical,CA:FALSE")
        || !add_conf_ext(x, &ctx, NID_key_usage,
                         EVP_PKEY_get_base_id(pk) == EVP_PKEY_RSA
                         ? "critical,digitalSignature,keyEncipherment"
                         : "critical,digitalSignature")
        || !add_conf_ext(x, &ctx, NID_ext_key_usage, "serverAuth")
        || !add_conf_ext(x, &ctx, NID_subject_key_identifier, "hash")) {
        rv = acme_err_set(err, p, ACME_ECRYPTO, "self-signed certificate: "
                          "cannot add extensions: %s", acme_ssl_error(p));
    }
    return rv;
}

/* Fills in and signs x: version 3, serial, subject = issuer = name, valid
 * from now for valid, key pk, the SAN san and the other extensions. */
static apr_status_t self_signed_fill(X509 *x, EVP_PKEY *pk,
                                     ASN1_INTEGER *serial, X509_NAME *name,
                                     X509_EXTENSION *san,
                                     apr_interval_time_t valid, apr_pool_t *p,
                                     acme_err_t *err)
{
    apr_status_t rv;

    if (!X509_set_version(x, 2)   /* X509v3 */
        || !X509_set_serialNumber(x, serial)
        || !X509_set_subject_name(x, name)
        || !X509_set_issuer_name(x, name)
        || !X509_gmtime_adj(X509_getm_notBefore(x), 0)
        || !X509_gmtime_adj(X509_getm_notAfter(x), (long)apr_time_sec(valid))
        || !X509_set_pubkey(x, pk)
        || !X509_add_ext(x, san, -1)) {
        rv = acme_err_set(err, p, ACME_ECRYPTO, "self-signed certificate: "
                          "cannot fill in the fields: %s", acme_ssl_error(p));
        goto cleanup;
    }
    rv = self_signed_extensions(x, pk, p, err);
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    if (X509_sign(x, pk, EVP_sha256()) <= 0) {
        rv = acme_err_set(err, p, ACME_ECRYPTO, "self-signed certificate: "
                          "signing failed: %s", acme_ssl_error(p));
        goto cleanup;
    }
cleanup:
    return rv;
}

apr_status_t acme_cert_self_signed(acme_cert_t **pcert, apr_pool_t *p,
                                   const acme_key_t *key,
                                   const apr_array_header_t *names,
                                   apr_interval_time_t valid,
                                   acme_err_t *err)
{
    apr_status_t rv = APR_SUCCESS;
    EVP_PKEY *pk = acme_key_evp(key);
    X509 *x = NULL;
    X509_NAME *name = NULL;
    X509_EXTENSION *san = NULL;
    ASN1_INTEGER *serial = NULL;
    acme_err_t lerr;

    ERR_clear_error();
    if (!pk) {
        rv = acme_err_set(err, p, ACME_EINVAL, "self-signed certificate: "
                          "no key");
        goto cleanup;
    }
    if (valid <= 0) {
        rv = acme_err_set(err, p, ACME_EINVAL, "self-signed certificate: "
                          "the validity must be positive");
        goto cleanup;
    }
    acme_err_clear(&lerr);
    san = acme_san_extension(p, names, &lerr);
    if (!san) {
        rv = acme_err_set(err, p, lerr.rv, "self-signed certificate: %s",
                          lerr.msg);
        goto cleanup;
    }
    rv = random_serial(&serial, p, err);
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    x = X509_new();
    if (!x) {
        rv = acme_err_set(err, p, ACME_ECRYPTO, "self-signed certificate: "
                          "out of memory: %s", acme_ssl_error(p));
        goto cleanup;
    }
    rv = self_signed_subject(&name, p, names, err);
    if (rv == APR_SUCCESS) {
        rv = self_signed_fill(x, pk, serial, name, san, valid, p, err);
    }
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    *pcert = acme_cert_wrap(p, x);
    x = NULL;
cleanup:
    X509_free(x);
    X509_NAME_free(name);
    X509_EXTENSION_free(san);
    ASN1_INTEGER_free(serial);
    return rv;
}
