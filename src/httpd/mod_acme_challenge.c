/* mod_acme: the request side: http-01 answers from STORE/challenges/ and
 * the 503 served over https while a vhost only has its fallback
 * certificate. Runs in the children, as httpd's User. */
#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "http_ssl.h"
#include "apr_strings.h"
#include "apr_lib.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include "mod_acme.h"
#include "mod_acme_runtime.h"

APLOG_USE_MODULE(acme);
#include "acme_challenges.h"
#include "acme_names.h"
#include "acme_util.h"

/* Answers an http-01 request: 200 with the file's content, or an error
 * status. Only ever reads STORE/challenges/<token> with a base64url token. */
static int answer_http01(request_rec *r, const char *token)
{
    char *data = NULL;
    apr_size_t len = 0;
    apr_status_t rv;

    if (r->method_number != M_GET) {      /* HEAD is M_GET with header_only */
        ap_allow_methods(r, REPLACE_ALLOW, "GET", "HEAD", NULL);
        return HTTP_METHOD_NOT_ALLOWED;
    }
    if (!acme_rt || !acme_rt->challenge_dir
        || !acme_is_b64url(token, ACME_TOKEN_MAX)) {
        return HTTP_NOT_FOUND;
    }
    rv = acme_challenges_read_http01(&data, &len, r->pool,
                                     acme_rt->challenge_dir, token);
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APR_STATUS_IS_ENOENT(rv) ? APLOG_DEBUG
                      : APLOG_WARNING, rv, r,
                      "mod_acme: http-01 token %s: no answer in %s", token,
                      acme_rt->challenge_dir);
        return HTTP_NOT_FOUND;
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                  "mod_acme: answering http-01 for %s (token %s)",
                  r->hostname ? r->hostname : "?", token);
    ap_set_content_type(r, "text/plain");
    ap_set_content_length(r, len);
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    if (!r->header_only) {
        ap_rwrite(data, (int)len, r);
    }
    return DONE;                          /* ap_die() finishes the response */
}

/* post_read_request hook: http-01 first (on any vhost, http or https),
 * then the fallback 503 on TLS connections. */
int acme_post_read_request(request_rec *r)
{
    const char *path = r->parsed_uri.path;
    acme_srv_conf_t *sc;
    acme_domain_t *d;

    if (!acme_rt) {
        return DECLINED;
    }
    if (path && !strncmp(path, ACME_CHALLENGE_PREFIX,
                         sizeof(ACME_CHALLENGE_PREFIX) - 1)) {
        /* the raw path: a %-encoded token is not a base64url token */
        return answer_http01(r, path + sizeof(ACME_CHALLENGE_PREFIX) - 1);
    }
    sc = acme_srv_conf(r->server);
    d = sc ? sc->serving : NULL;
    if (d && !d->live && ap_ssl_conn_is_ssl(r->connection)) {
        ap_custom_response(r, HTTP_SERVICE_UNAVAILABLE, apr_psprintf(r->pool,
            "mod_acme: the certificate for %s has not been obtained yet; "
            "this server presents a temporary self-signed certificate until "
            "it is. See the server's error log for the reason.", d->name));
        apr_table_setn(r->err_headers_out, "Retry-After", "60");
        return HTTP_SERVICE_UNAVAILABLE;
    }
    return DECLINED;
}

/* ---------------------------------------------------------------------- */
/* tls-alpn-01 and tls-sni-01                                               */

#define ACME_TLS_PROTOCOL "acme-tls/1"

/* The connection note set when ALPN switched to acme-tls/1. */
static const char acme_tls_marker[] = "acme-tls/1";

/* protocol_propose hook: offer acme-tls/1 on the TLS handshake when the
 * client (the CA's validator) asks for it. */
int acme_protocol_propose(conn_rec *c, request_rec *r, server_rec *s,
                          const apr_array_header_t *offers,
                          apr_array_header_t *proposals)
{
    int i;

    if (!acme_rt || r || !offers) {
        return DECLINED;
    }
    for (i = 0; i < offers->nelts; i++) {
        if (!strcmp(APR_ARRAY_IDX(offers, i, const char *),
                    ACME_TLS_PROTOCOL)) {
            APR_ARRAY_PUSH(proposals, const char *) = ACME_TLS_PROTOCOL;
            break;
        }
    }
    return DECLINED;
}

/* protocol_switch hook: accept acme-tls/1; the connection only carries the
 * handshake, no requests. */
int acme_protocol_switch(conn_rec *c, request_rec *r, server_rec *s,
                         const char *protocol)
{
    if (!acme_rt || r || !protocol || strcmp(protocol, ACME_TLS_PROTOCOL)) {
        return DECLINED;
    }
    ap_set_module_config(c->conn_config, &acme_module,
                         (void *)acme_tls_marker);
    ap_log_cerror(APLOG_MARK, APLOG_DEBUG, 0, c,
                  "mod_acme: connection switched to acme-tls/1");
    return DONE;
}

/* protocol_get hook: acme-tls/1 once switched. */
const char *acme_protocol_get(const conn_rec *c)
{
    return ap_get_module_config(c->conn_config, &acme_module)
        ? ACME_TLS_PROTOCOL : NULL;
}

/* ssl_answer_challenge hook (mod_ssl asks during the handshake): the
 * tls-alpn-01 certificate for server_name on an acme-tls/1 connection, or
 * the tls-sni-01 certificate for a "....acme.invalid" name, while the
 * worker's answer file exists (only while the challenge is pending). */
int acme_answer_tls_challenge(conn_rec *c, const char *server_name,
                              const char **pcert_pem, const char **pkey_pem)
{
    const char *name, *type;
    apr_status_t rv;
    apr_size_t len;

    if (!acme_rt || !acme_rt->challenge_dir || !server_name) {
        return DECLINED;
    }
    /* never a file name from an unchecked string */
    if (acme_name_check(&name, c->pool, server_name, NULL) != APR_SUCCESS
        || acme_name_is_wildcard(name)) {
        return DECLINED;
    }
    len = strlen(name);
    if (len > 13 && !strcmp(name + len - 13, ".acme.invalid")) {
        type = "tls-sni-01";
    }
    else if (ap_get_module_config(c->conn_config, &acme_module)) {
        type = "tls-alpn-01";
    }
    else {
        return DECLINED;
    }
    rv = acme_challenges_read_tls(pcert_pem, pkey_pem, c->pool,
                                  acme_rt->challenge_dir, type, name);
    if (rv == ACME_EPROTO) {
        ap_log_cerror(APLOG_MARK, APLOG_WARNING, 0, c, "mod_acme: malformed "
                      "%s answer %s", type, acme_challenges_tls_path(c->pool,
                      acme_rt->challenge_dir, type, name));
        return DECLINED;
    }
    if (rv != APR_SUCCESS) {
        ap_log_cerror(APLOG_MARK, APLOG_DEBUG, rv, c, "mod_acme: no %s answer "
                      "for %s", type, name);
        return DECLINED;
    }
    ap_log_cerror(APLOG_MARK, APLOG_INFO, 0, c, "mod_acme: answering %s for "
                  "%s", type, name);
    return OK;
}

/* ---------------------------------------------------------------------- */
/* tls-sni-01 without ALPN                                                 */
/*                                                                         */
/* mod_ssl asks ssl_answer_challenge only after ALPN chose acme-tls/1; a   */
/* tls-sni-01 validator sends just an SNI name that matches no vhost. So   */
/* the module installs a certificate callback on every server SSL_CTX      */
/* (mod_ssl's optional "init_server" hook; mod_ssl itself sets none) that  */
/* swaps in the answer for "....acme.invalid" names.                       */

/* Returns non-zero if sni is a plausible "x.y.acme.invalid" name. */
static int is_sni_challenge(const char *sni, apr_size_t len)
{
    apr_size_t i;

    if (len <= 13 || len > 253 || strcasecmp(sni + len - 13, ".acme.invalid")) {
        return 0;
    }
    for (i = 0; i < len; i++) {
        if (!apr_isalnum(sni[i]) && sni[i] != '.' && sni[i] != '-') {
            return 0;
        }
    }
    return 1;
}

/* OpenSSL's certificate callback: the tls-sni-01 answer, when there is
 * one for the SNI name; otherwise mod_ssl's choice stands. */
static int acme_sni_cert_cb(SSL *ssl, void *arg)
{
    const char *sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    conn_rec *c = SSL_get_app_data(ssl);
    char name[256], path[1024];
    X509 *x = NULL;
    EVP_PKEY *k = NULL;
    BIO *bio = NULL;
    apr_size_t len, i;

    (void)arg;
    if (!sni || !acme_rt || !acme_rt->challenge_dir) {
        return 1;
    }
    len = strlen(sni);
    if (!is_sni_challenge(sni, len)) {
        return 1;
    }
    for (i = 0; i <= len; i++) {
        name[i] = (char)apr_tolower(sni[i]);
    }
    if (acme_challenges_tls_path_buf(path, sizeof(path),
                                     acme_rt->challenge_dir, "tls-sni-01",
                                     name) != 0) {
        return 1;
    }
    bio = BIO_new_file(path, "r");
    if (!bio) {
        ERR_clear_error();
        return 1;              /* no answer: the default certificate */
    }
    x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    k = x ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
    if (x && k && SSL_use_certificate(ssl, x) == 1
        && SSL_use_PrivateKey(ssl, k) == 1) {
        if (c) {
            ap_log_cerror(APLOG_MARK, APLOG_INFO, 0, c, "mod_acme: answering "
                          "tls-sni-01 for %s", name);
        }
    }
    ERR_clear_error();
    X509_free(x);
    EVP_PKEY_free(k);
    BIO_free(bio);
    return 1;
}

/* mod_ssl's optional init_server hook: every server SSL_CTX gets the
 * callback above. */
int acme_ssl_init_server(server_rec *s, apr_pool_t *p, int is_proxy,
                         SSL_CTX *ctx)
{
    if (!is_proxy && ctx) {
        SSL_CTX_set_cert_cb(ctx, acme_sni_cert_cb, NULL);
    }
    return DECLINED;
}
