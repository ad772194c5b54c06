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

#include "mod_acme.h"

APLOG_USE_MODULE(acme);
#include "acme_util.h"

/* Answers an http-01 request: 200 with the file's content, or an error
 * status. Only ever reads STORE/challenges/<token> with a base64url token. */
static int answer_http01(request_rec *r, const char *token)
{
    const char *path;
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
    path = apr_pstrcat(r->pool, acme_rt->challenge_dir, "/", token, NULL);
    rv = acme_file_read(&data, &len, r->pool, path, ACME_ANSWER_MAX);
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
