/* mod_acme unit tests: a scripted ACME CA (RFC 8555) that answers in
 * process, through a client's replacement transport
 * (acme_client_set_transport). Header-only: each test is one .c file.
 *
 * By default it behaves as a well-mannered CA: directory, newNonce,
 * newAccount, newOrder (one authorization per identifier, challenges
 * http-01, dns-01 and tls-alpn-01; dns-01 alone for wildcards), a
 * challenge answer makes its authorization valid, finalize issues a real
 * certificate for the CSR's key and names (root -> intermediate -> leaf,
 * made here with OpenSSL), the order poll, the certificate download and
 * an alternate chain (Link rel="alternate") under another root.
 *
 * Tests steer it with knobs in sca_t (pending_polls, processing_polls,
 * sca_name_status, sca_name_fails, alternates, account_exists) and with a
 * queue of scripted answers per path (sca_push, sca_push_problem): the
 * next request to that path gets the scripted answer instead; with
 * run_default set the normal handler runs first (its change of state
 * happens) and the scripted status, body and headers replace its answer.
 *
 * Every request is checked as a CA would: a POST must be a flattened JWS
 * (application/jose+json) whose protected header has the request's url, a
 * nonce this CA issued and nobody used, a kid equal to the account URL
 * (jwk with the account key for newAccount), and a signature that verifies
 * with the account key; POST-as-GET has an empty payload. What fails is
 * recorded in violations; SCA_CHECK_CLEAN(ca) fails the test then.
 */
#ifndef SCRIPTED_CA_H
#define SCRIPTED_CA_H

#include <stdlib.h>
#include <string.h>

#include <apr_hash.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "acme_cert.h"
#include "acme_client.h"
#include "acme_jws.h"
#include "acme_key.h"
#include "acme_util.h"

/* every helper is static; a test uses only some of them */
#define SCA_FN static __attribute__((unused))

#define SCA_BASE "https://ca.test/acme"
#define SCA_DIR SCA_BASE "/directory"
#define SCA_ACCT SCA_BASE "/acct/1"
#define SCA_ROOT_CN "SCA Root X1"
#define SCA_ALT_ROOT_CN "SCA Alt Root X2"

typedef struct sca_answer_t sca_answer_t;
struct sca_answer_t {
    int status;             /* 0: a transport failure; -1: keep default's */
    const char *body;       /* NULL: the default's (or empty) */
    apr_table_t *headers;   /* added to the answer */
    const char *drop_header; /* removed from the default's answer */
    int no_nonce;           /* no fresh Replay-Nonce on this answer */
    int run_default;        /* run the normal handler first */
    sca_answer_t *next;
};

typedef struct {
    int id;
    const char *name;       /* without "*." */
    int wildcard;
    const char *status;
    const char *fail;       /* detail of the challenge error, or NULL */
    const char *chal_error; /* problem JSON text once it failed */
    const char *chal_type;  /* the challenge that failed */
    int pending_left;       /* polls still pending after the answer */
} sca_authz_t;

typedef struct {
    int id;
    const char *status;
    json_t *identifiers;    /* as the client sent them (owned) */
    apr_array_header_t *authzs;   /* sca_authz_t* */
    int processing_left;
    const char *chain, *alt_chain;
} sca_order_t;

typedef struct {
    const char *method, *url, *path;
    json_t *protected;      /* decoded protected header, or NULL */
    json_t *payload;        /* decoded payload object, or NULL */
    int empty_payload;      /* POST-as-GET */
} sca_req_t;

typedef struct {
    apr_pool_t *p;
    apr_hash_t *queue;      /* path -> sca_answer_t* */
    apr_hash_t *nonces;     /* nonce -> "issued" or "used" */
    int nonce_seq;
    apr_array_header_t *violations;  /* const char* */
    apr_array_header_t *requests;    /* sca_req_t* */
    apr_array_header_t *orders;      /* sca_order_t* */
    apr_array_header_t *authzs;      /* sca_authz_t* */
    apr_table_t *name_status;        /* initial authorization status */
    apr_table_t *name_fails;         /* name -> challenge error detail */
    acme_key_t *account_key;
    const char *account_url;
    int account_exists;     /* newAccount finds an existing account */
    int pending_polls;      /* authz polls still pending after an answer */
    int processing_polls;   /* order polls still processing */
    int alternates;         /* offer an alternate chain */
    acme_key_t *root_key, *alt_root_key, *int_key;
    X509 *root, *alt_root, *int_cert, *int_alt;
} sca_t;

SCA_FN void sca_violation(sca_t *ca, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
SCA_FN void sca_violation(sca_t *ca, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    APR_ARRAY_PUSH(ca->violations, const char *) =
        apr_pvsprintf(ca->p, fmt, ap);
    va_end(ap);
}

/* All violations, "; "-separated ("" when none). */
SCA_FN const char *sca_violations(sca_t *ca)
{
    return acme_array_join(ca->p, ca->violations, "; ");
}

#define SCA_CHECK_CLEAN(ca) \
    ACME_CHECK((ca)->violations->nelts == 0, "scripted CA saw: %s", \
               sca_violations(ca))

SCA_FN apr_status_t sca_json_release(void *data)
{
    json_decref((json_t *)data);
    return APR_SUCCESS;
}

SCA_FN apr_status_t sca_x509_release(void *data)
{
    X509_free((X509 *)data);
    return APR_SUCCESS;
}

/* Keeps a JSON reference until the CA's pool goes. */
SCA_FN json_t *sca_keep(sca_t *ca, json_t *j)
{
    if (j) {
        apr_pool_cleanup_register(ca->p, j, sca_json_release,
                                  apr_pool_cleanup_null);
    }
    return j;
}

SCA_FN const char *sca_dump(apr_pool_t *p, json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT);
    const char *out = apr_pstrdup(p, s ? s : "null");

    free(s);
    json_decref(j);
    return out;
}

/* An RFC 8555 problem document ("urn:ietf:params:acme:error:" + type). */
SCA_FN const char *sca_problem(apr_pool_t *p, const char *type,
                               const char *detail)
{
    return sca_dump(p, json_pack("{s:s, s:s}", "type",
                                 apr_pstrcat(p, "urn:ietf:params:acme:error:",
                                             type, NULL),
                                 "detail", detail));
}

/* ---- the issuing hierarchy ---- */

SCA_FN void sca_ext(sca_t *ca, X509 *x, X509V3_CTX *ctx, int nid,
                    const char *value)
{
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, ctx, nid, value);

    if (!e || !X509_add_ext(x, e, -1)) {
        sca_violation(ca, "cannot add extension %s", value);
    }
    X509_EXTENSION_free(e);
}

/* A certificate for pub named cn, issued by issuer (self-signed when NULL)
 * with ikey; san an OpenSSL SAN string (leaf) or NULL (CA). */
SCA_FN X509 *sca_x509(sca_t *ca, const char *cn, const char *san,
                      EVP_PKEY *pub, X509 *issuer, EVP_PKEY *ikey)
{
    static long serial = 1000;
    X509 *x = X509_new();
    X509_NAME *name = X509_NAME_new();
    X509V3_CTX ctx;

    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
    X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
                               (const unsigned char *)cn, -1, -1, 0);
    X509_set_subject_name(x, name);
    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 90L * 86400);
    X509_set_pubkey(x, pub);
    X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
    sca_ext(ca, x, &ctx, NID_basic_constraints,
            san ? "critical,CA:FALSE" : "critical,CA:TRUE");
    sca_ext(ca, x, &ctx, NID_key_usage, san ? "critical,digitalSignature"
                                            : "critical,keyCertSign,cRLSign");
    if (san) {
        sca_ext(ca, x, &ctx, NID_subject_alt_name, san);
    }
    if (X509_sign(x, ikey, EVP_sha256()) <= 0) {
        sca_violation(ca, "cannot sign the certificate for %s", cn);
    }
    X509_NAME_free(name);
    apr_pool_cleanup_register(ca->p, x, sca_x509_release,
                              apr_pool_cleanup_null);
    return x;
}

SCA_FN const char *sca_pem(sca_t *ca, X509 *x)
{
    return acme_cert_to_pem(ca->p, acme_cert_wrap(ca->p, X509_dup(x)));
}

SCA_FN void sca_make_hierarchy(sca_t *ca)
{
    if (acme_key_generate(&ca->root_key, ca->p, ACME_KEY_EC256, NULL)
        || acme_key_generate(&ca->alt_root_key, ca->p, ACME_KEY_EC256, NULL)
        || acme_key_generate(&ca->int_key, ca->p, ACME_KEY_EC256, NULL)) {
        sca_violation(ca, "cannot generate the CA's keys");
        return;
    }
    ca->root = sca_x509(ca, SCA_ROOT_CN, NULL, acme_key_evp(ca->root_key),
                        NULL, acme_key_evp(ca->root_key));
    ca->alt_root = sca_x509(ca, SCA_ALT_ROOT_CN, NULL,
                            acme_key_evp(ca->alt_root_key), NULL,
                            acme_key_evp(ca->alt_root_key));
    /* one intermediate (one key, one name) under either root */
    ca->int_cert = sca_x509(ca, "SCA Intermediate", NULL,
                            acme_key_evp(ca->int_key), ca->root,
                            acme_key_evp(ca->root_key));
    ca->int_alt = sca_x509(ca, "SCA Intermediate", NULL,
                           acme_key_evp(ca->int_key), ca->alt_root,
                           acme_key_evp(ca->alt_root_key));
}

/* ---- set-up and scripting ---- */

/* A scripted CA whose account key is account_key (made when NULL). */
SCA_FN sca_t *sca_create(apr_pool_t *p, acme_key_t *account_key)
{
    sca_t *ca = apr_pcalloc(p, sizeof(*ca));

    ca->p = p;
    ca->queue = apr_hash_make(p);
    ca->nonces = apr_hash_make(p);
    ca->violations = apr_array_make(p, 4, sizeof(const char *));
    ca->requests = apr_array_make(p, 16, sizeof(sca_req_t *));
    ca->orders = apr_array_make(p, 2, sizeof(sca_order_t *));
    ca->authzs = apr_array_make(p, 4, sizeof(sca_authz_t *));
    ca->name_status = apr_table_make(p, 2);
    ca->name_fails = apr_table_make(p, 2);
    ca->account_url = SCA_ACCT;
    ca->account_exists = 1;
    ca->account_key = account_key;
    if (!ca->account_key
        && acme_key_generate(&ca->account_key, p, ACME_KEY_EC256, NULL)) {
        sca_violation(ca, "cannot generate the account key");
    }
    sca_make_hierarchy(ca);
    return ca;
}

SCA_FN apr_status_t sca_transport(acme_http_resp_t **presp, void *baton,
                                  apr_pool_t *p, const char *method,
                                  const char *url, const char *ctype,
                                  const char *body, apr_size_t len,
                                  acme_err_t *err);

/* A client for the CA (directory not loaded yet), fast polls; with_account:
 * the account key and URL set (else none). */
SCA_FN acme_client_t *sca_client(sca_t *ca, apr_pool_t *p, int with_account)
{
    acme_client_t *c = NULL;
    acme_err_t err;

    acme_err_clear(&err);
    if (acme_client_create(&c, p, SCA_DIR, NULL, &err) != APR_SUCCESS) {
        sca_violation(ca, "client: %s", err.msg);
        return NULL;
    }
    acme_client_set_transport(c, sca_transport, ca);
    c->poll_first = apr_time_from_msec(1);
    c->poll_timeout = apr_time_from_sec(5);
    if (with_account) {
        acme_client_set_account(c, ca->account_key, ca->account_url);
    }
    return c;
}

/* Queues a scripted answer for the next request to path (after SCA_BASE). */
SCA_FN sca_answer_t *sca_push(sca_t *ca, const char *path, int status,
                              const char *body)
{
    sca_answer_t *a = apr_pcalloc(ca->p, sizeof(*a)), **tail;

    a->status = status;
    a->body = body ? apr_pstrdup(ca->p, body) : NULL;
    a->headers = apr_table_make(ca->p, 2);
    tail = apr_hash_get(ca->queue, path, APR_HASH_KEY_STRING);
    if (!tail) {
        tail = apr_pcalloc(ca->p, sizeof(*tail));
        apr_hash_set(ca->queue, apr_pstrdup(ca->p, path),
                     APR_HASH_KEY_STRING, tail);
    }
    while (*tail) {
        tail = &(*tail)->next;
    }
    *tail = a;
    return a;
}

/* Queues a problem document answer (type short: "badNonce"...). */
SCA_FN sca_answer_t *sca_push_problem(sca_t *ca, const char *path,
                                      int status, const char *type,
                                      const char *detail)
{
    return sca_push(ca, path, status, sca_problem(ca->p, type, detail));
}

/* Adds a header to a scripted answer; a Replay-Nonce is one the CA
 * accepts afterwards. */
SCA_FN void sca_answer_header(sca_t *ca, sca_answer_t *a, const char *name,
                              const char *value)
{
    apr_table_add(a->headers, apr_pstrdup(ca->p, name),
                  apr_pstrdup(ca->p, value));
    if (!strcasecmp(name, "replay-nonce")) {
        apr_hash_set(ca->nonces, apr_pstrdup(ca->p, value),
                     APR_HASH_KEY_STRING, "issued");
        a->no_nonce = 1;
    }
}

SCA_FN sca_answer_t *sca_pop(sca_t *ca, const char *path)
{
    sca_answer_t **head = apr_hash_get(ca->queue, path, APR_HASH_KEY_STRING);
    sca_answer_t *a = head ? *head : NULL;

    if (a) {
        *head = a->next;
    }
    return a;
}

/* The initial status of the authorization for name ("valid"...). */
SCA_FN void sca_name_status(sca_t *ca, const char *name, const char *status)
{
    apr_table_set(ca->name_status, name, status);
}

/* Answering name's challenge makes its authorization invalid with a
 * challenge error (urn:...:unauthorized) carrying detail. */
SCA_FN void sca_name_fails(sca_t *ca, const char *name, const char *detail)
{
    apr_table_set(ca->name_fails, name, detail);
}

/* How many requests went to path. */
SCA_FN int sca_count(sca_t *ca, const char *path)
{
    int i, n = 0;

    for (i = 0; i < ca->requests->nelts; i++) {
        if (!strcmp(APR_ARRAY_IDX(ca->requests, i, sca_req_t *)->path,
                    path)) {
            n++;
        }
    }
    return n;
}

/* The last request to path, or NULL. */
SCA_FN sca_req_t *sca_last(sca_t *ca, const char *path)
{
    int i;

    for (i = ca->requests->nelts - 1; i >= 0; i--) {
        sca_req_t *r = APR_ARRAY_IDX(ca->requests, i, sca_req_t *);
        if (!strcmp(r->path, path)) {
            return r;
        }
    }
    return NULL;
}

/* ---- checking what the client sends ---- */

/* Verifies a JWS signature (ES256/ES384 raw r||s, or RS256) with key. */
SCA_FN int sca_verify(const acme_key_t *key, const char *alg,
                      const char *input, const unsigned char *sig,
                      apr_size_t siglen)
{
    EVP_PKEY *pk = acme_key_evp(key);
    const EVP_MD *md = strcmp(alg, "ES384") ? EVP_sha256() : EVP_sha384();
    unsigned char *der = NULL;
    EVP_MD_CTX *mctx = EVP_MD_CTX_new();
    int ok = 0, derlen = (int)siglen;

    if (!strncmp(alg, "ES", 2)) {
        ECDSA_SIG *es = ECDSA_SIG_new();
        apr_size_t half = siglen / 2;
        ECDSA_SIG_set0(es, BN_bin2bn(sig, (int)half, NULL),
                       BN_bin2bn(sig + half, (int)half, NULL));
        derlen = i2d_ECDSA_SIG(es, &der);
        ECDSA_SIG_free(es);
    }
    if (EVP_DigestVerifyInit(mctx, NULL, md, NULL, pk) == 1
        && EVP_DigestVerify(mctx, der ? der : sig, (size_t)derlen,
                            (const unsigned char *)input,
                            strlen(input)) == 1) {
        ok = 1;
    }
    EVP_MD_CTX_free(mctx);
    OPENSSL_free(der);
    return ok;
}

/* Decodes a base64url member of a JWS into NUL-terminated bytes. */
SCA_FN const char *sca_b64(sca_t *ca, apr_pool_t *p, json_t *jws,
                           const char *member, apr_size_t *plen)
{
    const char *s = json_string_value(json_object_get(jws, member));
    unsigned char *data = NULL;
    apr_size_t len = 0;

    if (!s || acme_b64url_decode(&data, &len, p, s) != APR_SUCCESS) {
        sca_violation(ca, "JWS %s is missing or not base64url", member);
        return NULL;
    }
    if (plen) *plen = len;
    return (const char *)data;
}

/* The key (kid or jwk) and nonce of a protected header. */
SCA_FN void sca_check_protected(sca_t *ca, sca_req_t *r, json_t *prot)
{
    const char *nonce = json_string_value(json_object_get(prot, "nonce"));
    const char *kid = json_string_value(json_object_get(prot, "kid"));
    const char *purl = json_string_value(json_object_get(prot, "url"));
    json_t *jwk = json_object_get(prot, "jwk");
    const char *seen = nonce ? apr_hash_get(ca->nonces, nonce,
                                            APR_HASH_KEY_STRING) : NULL;

    if (!purl || strcmp(purl, r->url)) {
        sca_violation(ca, "JWS url %s for a request to %s",
                      purl ? purl : "(none)", r->url);
    }
    if (!seen || strcmp(seen, "issued")) {
        sca_violation(ca, "nonce %s %s (request to %s)",
                      nonce ? nonce : "(none)",
                      seen ? "used twice" : "never issued", r->path);
    }
    else {
        apr_hash_set(ca->nonces, nonce, APR_HASH_KEY_STRING, "used");
    }
    if (!strcmp(r->path, "/new-account")) {
        json_t *want = acme_jwk_public(ca->account_key);
        if (kid || !jwk || !json_equal(jwk, want)) {
            sca_violation(ca, "newAccount without the account key's jwk");
        }
        json_decref(want);
    }
    else if (!strcmp(r->path, "/revoke") && jwk) {
        if (kid) sca_violation(ca, "revocation with both jwk and kid");
    }
    else if (jwk || !kid || strcmp(kid, ca->account_url)) {
        sca_violation(ca, "request to %s with kid %s, want %s", r->path,
                      kid ? kid : "(none)", ca->account_url);
    }
}

/* Checks a POST: a flattened JWS for this URL, signed by the account. */
SCA_FN void sca_check_jws(sca_t *ca, apr_pool_t *p, sca_req_t *r,
                          const char *ctype, const char *body,
                          apr_size_t len)
{
    json_t *jws = json_loadb(body, len, 0, NULL);
    const char *prot, *payload, *sig, *alg;
    apr_size_t siglen = 0, plen = 0;

    if (!ctype || strcmp(ctype, "application/jose+json")) {
        sca_violation(ca, "POST to %s as %s", r->path, ctype ? ctype : "?");
    }
    if (!json_is_object(jws)) {
        sca_violation(ca, "POST to %s is not JSON", r->path);
        json_decref(jws);
        return;
    }
    sca_keep(ca, jws);
    prot = sca_b64(ca, p, jws, "protected", NULL);
    payload = sca_b64(ca, p, jws, "payload", &plen);
    sig = sca_b64(ca, p, jws, "signature", &siglen);
    if (!prot || !payload || !sig) {
        return;
    }
    r->protected = sca_keep(ca, json_loads(prot, 0, NULL));
    r->empty_payload = plen == 0;
    if (plen) {
        r->payload = sca_keep(ca, json_loadb(payload, plen, 0, NULL));
        if (!json_is_object(r->payload)) {
            sca_violation(ca, "payload to %s is not a JSON object", r->path);
        }
    }
    if (!json_is_object(r->protected)) {
        sca_violation(ca, "protected header to %s is not JSON", r->path);
        return;
    }
    sca_check_protected(ca, r, r->protected);
    alg = json_string_value(json_object_get(r->protected, "alg"));
    if (!(!strcmp(r->path, "/revoke")
          && json_object_get(r->protected, "jwk"))
        && (!alg || !sca_verify(ca->account_key, alg,
                                apr_pstrcat(p, json_string_value(
                                    json_object_get(jws, "protected")), ".",
                                    json_string_value(json_object_get(
                                        jws, "payload")), NULL),
                                (const unsigned char *)sig, siglen))) {
        sca_violation(ca, "bad signature on the request to %s", r->path);
    }
}

#include "scripted_ca_handlers.h"

#endif
