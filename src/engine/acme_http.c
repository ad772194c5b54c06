/* mod_acme: the HTTP transport to the CA (libcurl). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <apr_lib.h>
#include <apr_date.h>
#include <apr_uri.h>
#include <curl/curl.h>

#include "acme_http.h"
#include "acme_util.h"

struct acme_http_t {
    CURL *curl;
    const char *ca_bundle;
    long connect_secs;
    long total_secs;
    apr_size_t max_body;
    acme_http_transport_fn *transport;  /* replaces libcurl when set */
    void *transport_baton;
};

typedef struct {
    apr_pool_t *p;
    char *buf;
    apr_size_t len;
    apr_size_t cap;
    apr_size_t max;
    int overflow;
    apr_table_t *headers;
} xfer_t;

static apr_status_t http_cleanup(void *data)
{
    acme_http_t *http = data;

    if (http->curl) {
        curl_easy_cleanup(http->curl);
        http->curl = NULL;
    }
    return APR_SUCCESS;
}

apr_status_t acme_http_create(acme_http_t **phttp, apr_pool_t *p,
                              const char *ca_bundle, acme_err_t *err)
{
    acme_http_t *http;

    http = apr_pcalloc(p, sizeof(*http));
    http->curl = curl_easy_init();
    if (!http->curl) {
        return acme_err_set(err, p, ACME_EGENERAL, "cannot initialise libcurl");
    }
    http->ca_bundle = ca_bundle ? apr_pstrdup(p, ca_bundle) : NULL;
    http->connect_secs = 10;
    http->total_secs = 60;
    http->max_body = ACME_HTTP_MAX_BODY;
    apr_pool_cleanup_register(p, http, http_cleanup, apr_pool_cleanup_null);
    *phttp = http;
    return APR_SUCCESS;
}

void acme_http_set_transport(acme_http_t *http, acme_http_transport_fn *fn,
                             void *baton)
{
    http->transport = fn;
    http->transport_baton = baton;
}

acme_http_resp_t *acme_http_resp_make(apr_pool_t *p, const char *url,
                                      int status, const char *body,
                                      apr_size_t len)
{
    acme_http_resp_t *resp = apr_pcalloc(p, sizeof(*resp));

    resp->status = status;
    resp->headers = apr_table_make(p, 10);
    resp->body = body ? apr_pstrmemdup(p, body, len) : "";
    resp->body_len = body ? len : 0;
    resp->url = apr_pstrdup(p, url);
    return resp;
}

void acme_http_resp_add_header(acme_http_resp_t *resp, apr_pool_t *p,
                               const char *name, const char *value)
{
    apr_table_add(resp->headers, acme_str_tolower(apr_pstrdup(p, name)),
                  apr_pstrdup(p, value));
}

/* Hands a request to the replacement transport; the answer gets the
 * request's URL and a body when the replacement left them out. */
static apr_status_t hooked(acme_http_resp_t **presp, acme_http_t *http,
                           apr_pool_t *p, const char *method, const char *url,
                           const char *content_type, const char *body,
                           apr_size_t len, acme_err_t *err)
{
    acme_http_resp_t *resp = NULL;
    apr_status_t rv;

    rv = http->transport(&resp, http->transport_baton, p, method, url,
                         content_type, body, len, err);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (!resp) {
        return acme_err_set(err, p, ACME_EGENERAL,
                            "the replacement transport gave no answer for %s",
                            url);
    }
    if (!resp->url) resp->url = apr_pstrdup(p, url);
    if (!resp->body) resp->body = "";
    if (!resp->headers) resp->headers = apr_table_make(p, 2);
    *presp = resp;
    return APR_SUCCESS;
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    xfer_t *x = userdata;
    apr_size_t n = size * nmemb;

    if (x->len + n > x->max) {
        x->overflow = 1;
        return 0;            /* aborts the transfer */
    }
    if (x->len + n + 1 > x->cap) {
        apr_size_t cap = x->cap ? x->cap * 2 : 8192;
        char *nb;
        while (cap < x->len + n + 1) {
            cap *= 2;
        }
        nb = apr_palloc(x->p, cap);
        if (x->len) {
            memcpy(nb, x->buf, x->len);
        }
        x->buf = nb;
        x->cap = cap;
    }
    memcpy(x->buf + x->len, ptr, n);
    x->len += n;
    x->buf[x->len] = '\0';
    return n;
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    xfer_t *x = userdata;
    apr_size_t n = size * nmemb;
    char *line, *colon, *v, *e;

    line = apr_pstrmemdup(x->p, ptr, n);
    if (!strncmp(line, "HTTP/", 5)) {
        apr_table_clear(x->headers);   /* a new response (after 100/redirect) */
        return n;
    }
    colon = strchr(line, ':');
    if (!colon) {
        return n;
    }
    *colon = '\0';
    v = colon + 1;
    while (*v == ' ' || *v == '\t') {
        v++;
    }
    e = v + strlen(v);
    while (e > v && (e[-1] == '\r' || e[-1] == '\n' || e[-1] == ' ')) {
        *--e = '\0';
    }
    apr_table_add(x->headers, acme_str_tolower(line), v);
    return n;
}

static apr_status_t perform(acme_http_resp_t **presp, acme_http_t *http,
                            apr_pool_t *p, const char *url, acme_err_t *err)
{
    char errbuf[CURL_ERROR_SIZE];
    xfer_t x;
    CURLcode cc;
    long status = 0;
    apr_status_t rv = APR_SUCCESS;
    acme_http_resp_t *resp;

    memset(&x, 0, sizeof(x));
    x.p = p;
    x.max = http->max_body;
    x.headers = apr_table_make(p, 10);
    errbuf[0] = '\0';

    curl_easy_setopt(http->curl, CURLOPT_URL, url);
    curl_easy_setopt(http->curl, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(http->curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(http->curl, CURLOPT_WRITEDATA, &x);
    curl_easy_setopt(http->curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(http->curl, CURLOPT_HEADERDATA, &x);
    curl_easy_setopt(http->curl, CURLOPT_USERAGENT,
                     "mod_acme/" ACME_VERSION " " "libcurl");
    curl_easy_setopt(http->curl, CURLOPT_CONNECTTIMEOUT, http->connect_secs);
    curl_easy_setopt(http->curl, CURLOPT_TIMEOUT, http->total_secs);
    curl_easy_setopt(http->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(http->curl, CURLOPT_PROTOCOLS_STR, "https,http");
    curl_easy_setopt(http->curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(http->curl, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(http->curl, CURLOPT_SSL_VERIFYHOST, 2L);
    if (http->ca_bundle) {
        curl_easy_setopt(http->curl, CURLOPT_CAINFO, http->ca_bundle);
    }

    cc = curl_easy_perform(http->curl);
    if (cc != CURLE_OK) {
        const char *why = errbuf[0] ? errbuf : curl_easy_strerror(cc);
        if (x.overflow) {
            rv = acme_err_set(err, p, ACME_EPROTO,
                              "answer from %s is larger than %lu bytes",
                              url, (unsigned long)x.max);
        }
        else if (cc == CURLE_PEER_FAILED_VERIFICATION
                 || cc == CURLE_SSL_CACERT_BADFILE
                 || cc == CURLE_SSL_CONNECT_ERROR) {
            rv = acme_err_set(err, p, ACME_ETLS,
                              "TLS connection to %s failed: %s (is the CA's "
                              "certificate trusted? see --ca-bundle / "
                              "ACMECACertificateFile)", url, why);
        }
        else if (cc == CURLE_OPERATION_TIMEDOUT) {
            rv = acme_err_set(err, p, ACME_ETIMEOUT,
                              "request to %s timed out: %s", url, why);
        }
        else {
            rv = acme_err_set(err, p, ACME_ECONNECT,
                              "cannot reach %s: %s", url, why);
        }
        goto cleanup;
    }
    curl_easy_getinfo(http->curl, CURLINFO_RESPONSE_CODE, &status);
    resp = apr_pcalloc(p, sizeof(*resp));
    resp->status = (int)status;
    resp->headers = x.headers;
    resp->body = x.buf ? x.buf : "";
    resp->body_len = x.len;
    resp->url = apr_pstrdup(p, url);
    *presp = resp;
    acme_log(ACME_LOG_DEBUG, "%s -> HTTP %d, %lu bytes", url, resp->status,
             (unsigned long)resp->body_len);
cleanup:
    /* Do not keep pointers to this call's stack in the reused handle. */
    curl_easy_setopt(http->curl, CURLOPT_ERRORBUFFER, NULL);
    curl_easy_setopt(http->curl, CURLOPT_HTTPHEADER, NULL);
    return rv;
}

apr_status_t acme_http_get(acme_http_resp_t **presp, acme_http_t *http,
                           apr_pool_t *p, const char *url, int head_only,
                           acme_err_t *err)
{
    if (http->transport) {
        return hooked(presp, http, p, head_only ? "HEAD" : "GET", url, NULL,
                      NULL, 0, err);
    }
    curl_easy_setopt(http->curl, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(http->curl, CURLOPT_NOBODY, head_only ? 1L : 0L);
    return perform(presp, http, p, url, err);
}

apr_status_t acme_http_post(acme_http_resp_t **presp, acme_http_t *http,
                            apr_pool_t *p, const char *url,
                            const char *content_type, const char *body,
                            apr_size_t len, acme_err_t *err)
{
    struct curl_slist *hdrs = NULL;
    apr_status_t rv;

    if (http->transport) {
        return hooked(presp, http, p, "POST", url, content_type, body, len,
                      err);
    }
    hdrs = curl_slist_append(hdrs, apr_pstrcat(p, "Content-Type: ",
                                               content_type, NULL));
    hdrs = curl_slist_append(hdrs, "Expect:");
    curl_easy_setopt(http->curl, CURLOPT_NOBODY, 0L);
    curl_easy_setopt(http->curl, CURLOPT_POST, 1L);
    curl_easy_setopt(http->curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(http->curl, CURLOPT_POSTFIELDSIZE, (long)len);
    curl_easy_setopt(http->curl, CURLOPT_HTTPHEADER, hdrs);
    rv = perform(presp, http, p, url, err);
    curl_easy_setopt(http->curl, CURLOPT_POSTFIELDS, NULL);
    curl_slist_free_all(hdrs);
    return rv;
}

const char *acme_http_header(const acme_http_resp_t *resp, const char *name)
{
    return apr_table_get(resp->headers, name);
}

typedef struct {
    apr_pool_t *p;
    const char *rel;
    const char *base;
    apr_array_header_t *out;
} link_ctx_t;

/* Parses one Link header value: <uri>; param=value, <uri2>; ... */
static int collect_links(void *baton, const char *key, const char *value)
{
    link_ctx_t *ctx = baton;
    const char *s = value;

    (void)key;
    while (*s) {
        const char *lt, *gt, *end, *r;
        char *target, *params;
        int match = 0;

        lt = strchr(s, '<');
        if (!lt) break;
        gt = strchr(lt, '>');
        if (!gt) break;
        target = apr_pstrmemdup(ctx->p, lt + 1, (apr_size_t)(gt - lt - 1));
        end = strchr(gt, ',');
        /* a comma may sit inside the next <...>; the next '<' bounds us */
        r = strchr(gt, '<');
        if (end && r && r < end) end = NULL;
        if (!end) end = r ? r : gt + strlen(gt);
        params = apr_pstrmemdup(ctx->p, gt + 1, (apr_size_t)(end - gt - 1));
        {
            char *tok, *last = NULL;
            for (tok = apr_strtok(params, ";", &last); tok;
                 tok = apr_strtok(NULL, ";", &last)) {
                char *v;
                while (*tok == ' ' || *tok == '\t') tok++;
                if (strncasecmp(tok, "rel", 3)) continue;
                v = tok + 3;
                while (*v == ' ') v++;
                if (*v != '=') continue;
                v++;
                while (*v == ' ') v++;
                if (*v == '"') {
                    char *q;
                    v++;
                    q = strchr(v, '"');
                    if (q) *q = '\0';
                }
                else {
                    char *q = v + strcspn(v, " \t,");
                    *q = '\0';
                }
                /* rel may list several space-separated relation types */
                {
                    char *rt, *l2 = NULL;
                    for (rt = apr_strtok(v, " ", &l2); rt;
                         rt = apr_strtok(NULL, " ", &l2)) {
                        if (!strcasecmp(rt, ctx->rel)) match = 1;
                    }
                }
            }
        }
        if (match) {
            apr_uri_t base, rel;
            const char *abs = target;
            if (apr_uri_parse(ctx->p, target, &rel) == APR_SUCCESS
                && !rel.scheme
                && apr_uri_parse(ctx->p, ctx->base, &base) == APR_SUCCESS) {
                if (target[0] == '/') {
                    base.path = rel.path;
                    base.query = rel.query;
                    base.fragment = NULL;
                    abs = apr_uri_unparse(ctx->p, &base, 0);
                }
            }
            APR_ARRAY_PUSH(ctx->out, const char *) = abs;
        }
        s = (*end == ',') ? end + 1 : end;
    }
    return 1;
}

apr_array_header_t *acme_http_links(apr_pool_t *p,
                                    const acme_http_resp_t *resp,
                                    const char *rel)
{
    link_ctx_t ctx;

    ctx.p = p;
    ctx.rel = rel;
    ctx.base = resp->url;
    ctx.out = apr_array_make(p, 2, sizeof(const char *));
    apr_table_do(collect_links, &ctx, resp->headers, "link", NULL);
    return ctx.out;
}

apr_interval_time_t acme_http_retry_after(const acme_http_resp_t *resp)
{
    const char *v = acme_http_header(resp, "retry-after");
    apr_time_t when;
    char *end;
    long secs;

    if (!v || !*v) {
        return 0;
    }
    secs = strtol(v, &end, 10);
    if (end != v && *end == '\0') {
        if (secs <= 0) {
            return 0;
        }
        /* a CA may not park us for years (nor overflow apr_time_t) */
        return apr_time_from_sec(secs > ACME_HTTP_RETRY_AFTER_MAX
                                 ? ACME_HTTP_RETRY_AFTER_MAX : secs);
    }
    when = apr_date_parse_rfc(v);
    if (when == APR_DATE_BAD) {
        return 0;
    }
    when -= apr_time_now();
    if (when > apr_time_from_sec(ACME_HTTP_RETRY_AFTER_MAX)) {
        when = apr_time_from_sec(ACME_HTTP_RETRY_AFTER_MAX);
    }
    return when > 0 ? when : 0;
}
