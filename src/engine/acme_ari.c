/* mod_acme: ACME Renewal Information (RFC 9773). */
#include <string.h>

#include <jansson.h>
#include <openssl/asn1.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "acme_ari.h"
#include "acme_problem.h"
#include "acme_util.h"

#define ARI_MAX_EXPLANATION 2048   /* longer explanation URLs are dropped */

apr_status_t acme_ari_cert_id(const char **pid, apr_pool_t *p,
                              const acme_cert_t *cert, acme_err_t *err)
{
    X509 *x = acme_cert_x509(cert);
    const ASN1_OCTET_STRING *kid;
    const ASN1_INTEGER *serial;
    unsigned char *der = NULL;
    const unsigned char *content;
    long clen = 0;
    int len, tag = 0, xclass = 0, r;
    apr_status_t rv = APR_SUCCESS;

    *pid = NULL;
    kid = x ? X509_get0_authority_key_id(x) : NULL;
    if (!kid || ASN1_STRING_length(kid) <= 0) {
        return acme_err_set(err, p, ACME_EINVAL, "the certificate (serial "
                            "%s) has no Authority Key Identifier with a key "
                            "identifier, so ARI (RFC 9773) cannot name it",
                            x ? acme_cert_serial_hex(p, cert) : "?");
    }
    serial = X509_get0_serialNumber(x);
    len = serial ? i2d_ASN1_INTEGER(serial, &der) : -1;
    if (len <= 0) {
        rv = acme_err_set(err, p, ACME_ECRYPTO, "cannot encode the "
                          "certificate's serial number");
        goto cleanup;
    }
    /* OpenSSL's DER reader skips the INTEGER's tag and length: what is
     * left are the content octets, a leading 0x00 included. */
    content = der;
    r = ASN1_get_object(&content, &clen, &tag, &xclass, len);
    if ((r & 0x80) || tag != V_ASN1_INTEGER || clen <= 0
        || content + clen != der + len) {
        rv = acme_err_set(err, p, ACME_ECRYPTO, "cannot read back the DER "
                          "encoding of the certificate's serial number");
        goto cleanup;
    }
    *pid = apr_pstrcat(p,
                       acme_b64url_encode(p, ASN1_STRING_get0_data(kid),
                                          (apr_size_t)ASN1_STRING_length(kid)),
                       ".",
                       acme_b64url_encode(p, content, (apr_size_t)clen),
                       NULL);
cleanup:
    OPENSSL_free(der);
    return rv;
}

/* Reads n decimal digits at s into *v; 0 if any is not a digit. */
static int digits(const char *s, int n, int *v)
{
    int i;

    *v = 0;
    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return 0;
        }
        *v = *v * 10 + (s[i] - '0');
    }
    return 1;
}

static int days_in_month(int year, int month)
{
    static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30,
                                31 };
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

    return month == 2 && leap ? 29 : days[month - 1];
}

apr_status_t acme_ari_parse_time(apr_time_t *pt, const char *s)
{
    apr_time_exp_t tm;
    apr_time_t t;
    int Y, M, D, h, m, sec, usec = 0, scale = 100000, off = 0;
    const char *c;

    if (!s || strlen(s) < 20
        || !digits(s, 4, &Y) || s[4] != '-' || !digits(s + 5, 2, &M)
        || s[7] != '-' || !digits(s + 8, 2, &D)
        || (s[10] != 'T' && s[10] != 't' && s[10] != ' ')
        || !digits(s + 11, 2, &h) || s[13] != ':' || !digits(s + 14, 2, &m)
        || s[16] != ':' || !digits(s + 17, 2, &sec)) {
        return ACME_EINVAL;
    }
    if (Y < 1970 || M < 1 || M > 12 || D < 1 || D > days_in_month(Y, M)
        || h > 23 || m > 59 || sec > 60) {
        return ACME_EINVAL;
    }
    c = s + 19;
    if (*c == '.') {
        c++;
        if (*c < '0' || *c > '9') {
            return ACME_EINVAL;
        }
        for (; *c >= '0' && *c <= '9'; c++) {
            usec += (*c - '0') * scale;    /* digits past the 6th dropped */
            scale /= 10;
        }
    }
    if (*c == 'Z' || *c == 'z') {
        c++;
    }
    else if (*c == '+' || *c == '-') {
        int oh, om;
        if (!digits(c + 1, 2, &oh) || c[3] != ':' || !digits(c + 4, 2, &om)
            || oh > 23 || om > 59) {
            return ACME_EINVAL;
        }
        off = (oh * 60 + om) * 60 * (*c == '-' ? -1 : 1);
        c += 6;
    }
    else {
        return ACME_EINVAL;
    }
    if (*c) {
        return ACME_EINVAL;
    }
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = Y - 1900;
    tm.tm_mon = M - 1;
    tm.tm_mday = D;
    tm.tm_hour = h;
    tm.tm_min = m;
    tm.tm_sec = sec;
    tm.tm_usec = usec;
    if (apr_time_exp_gmt_get(&t, &tm) != APR_SUCCESS) {
        return ACME_EINVAL;
    }
    /* local time = UTC + offset */
    *pt = t - apr_time_from_sec(off);
    return APR_SUCCESS;
}

const char *acme_ari_format_time(apr_pool_t *p, apr_time_t t)
{
    apr_time_exp_t tm;

    apr_time_exp_gmt(&tm, t);
    return apr_psprintf(p, "%04d-%02d-%02dT%02d:%02d:%02dZ",
                        tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                        tm.tm_hour, tm.tm_min, tm.tm_sec);
}

apr_interval_time_t acme_ari_clamp_retry(apr_interval_time_t retry_after,
                                         int present)
{
    if (!present) {
        return ACME_ARI_RETRY_DEFAULT;
    }
    if (retry_after < ACME_ARI_RETRY_MIN) {
        return ACME_ARI_RETRY_MIN;
    }
    if (retry_after > ACME_ARI_RETRY_MAX) {
        return ACME_ARI_RETRY_MAX;
    }
    return retry_after;
}

apr_status_t acme_ari_parse(acme_ari_window_t *w, apr_pool_t *p,
                            const char *body, apr_size_t len,
                            acme_err_t *err)
{
    json_t *json = NULL, *win, *expl;
    json_error_t jerr;
    const char *start, *end;
    apr_time_t ts, te;
    apr_status_t rv = APR_SUCCESS;

    if (body && len) {
        json = json_loadb(body, len, 0, &jerr);
    }
    if (!json_is_object(json)) {
        rv = acme_err_set(err, p, ACME_EPROTO, "the renewal information is "
                          "not a JSON object%s%s", json ? "" : ": ",
                          json ? "" : (body && len ? jerr.text : "empty"));
        goto cleanup;
    }
    win = json_object_get(json, "suggestedWindow");
    if (!json_is_object(win)) {
        rv = acme_err_set(err, p, ACME_EPROTO, "the renewal information has "
                          "no suggestedWindow object");
        goto cleanup;
    }
    start = json_string_value(json_object_get(win, "start"));
    end = json_string_value(json_object_get(win, "end"));
    if (!start || !end) {
        rv = acme_err_set(err, p, ACME_EPROTO, "the renewal information's "
                          "suggestedWindow lacks a%s string",
                          !start ? " start" : "n end");
        goto cleanup;
    }
    if (acme_ari_parse_time(&ts, start) != APR_SUCCESS
        || acme_ari_parse_time(&te, end) != APR_SUCCESS) {
        rv = acme_err_set(err, p, ACME_EPROTO, "the renewal information's "
                          "suggestedWindow %s '%.64s' is not an RFC 3339 "
                          "date-time",
                          acme_ari_parse_time(&ts, start) ? "start" : "end",
                          acme_ari_parse_time(&ts, start) ? start : end);
        goto cleanup;
    }
    if (te <= ts) {
        rv = acme_err_set(err, p, ACME_EPROTO, "the renewal information's "
                          "suggestedWindow ends (%s) before it starts (%s)",
                          end, start);
        goto cleanup;
    }
    w->start = ts;
    w->end = te;
    w->explanation_url = NULL;
    expl = json_object_get(json, "explanationURL");
    if (json_is_string(expl) && json_string_length(expl) > 0
        && json_string_length(expl) <= ARI_MAX_EXPLANATION) {
        w->explanation_url = apr_pstrdup(p, json_string_value(expl));
    }
cleanup:
    if (json) {
        json_decref(json);
    }
    return rv;
}

/* Is the Retry-After value usable: a positive interval, or delta-seconds
 * (which may be 0)? */
static int retry_after_present(const char *v, apr_interval_time_t parsed)
{
    if (!v) {
        return 0;
    }
    if (parsed > 0) {
        return 1;
    }
    while (*v == ' ') {
        v++;
    }
    return *v && strspn(v, "0123456789 ") == strlen(v);
}

apr_status_t acme_ari_fetch(acme_ari_window_t *w, acme_client_t *c,
                            apr_pool_t *p, const char *cert_id,
                            acme_err_t *err)
{
    acme_http_resp_t *resp = NULL;
    apr_interval_time_t ra;
    const char *base, *url, *dot;
    apr_size_t n;
    apr_status_t rv;

    if (!c->url_renewal_info) {
        return acme_err_set(err, p, ACME_ENOTFOUND, "the CA at %s offers no "
                            "renewal information (no renewalInfo in its "
                            "directory)", c->directory_url);
    }
    dot = cert_id ? strchr(cert_id, '.') : NULL;
    if (!dot || !acme_is_b64url(dot + 1, 1024)
        || !acme_is_b64url(apr_pstrmemdup(p, cert_id, dot - cert_id), 1024)) {
        return acme_err_set(err, p, ACME_EINVAL, "'%s' is not an ARI "
                            "certificate identifier",
                            cert_id ? cert_id : "(null)");
    }
    base = c->url_renewal_info;
    n = strlen(base);
    while (n > 0 && base[n - 1] == '/') {
        n--;
    }
    url = apr_pstrcat(p, apr_pstrmemdup(p, base, n), "/", cert_id, NULL);
    rv = acme_http_get(&resp, c->http, p, url, 0, err);
    if (rv != APR_SUCCESS) {
        acme_err_wrap(err, p, "renewal information from %s", url);
        return rv;
    }
    ra = acme_http_retry_after(resp);
    ra = acme_ari_clamp_retry(ra, retry_after_present(
                                  acme_http_header(resp, "retry-after"), ra));
    if (resp->status != 200) {
        rv = acme_problem_to_err(err, p, resp->status, resp->body,
                                 resp->body_len, ra);
        acme_err_wrap(err, p, "renewal information from %s", url);
        return rv;
    }
    rv = acme_ari_parse(w, p, resp->body, resp->body_len, err);
    if (rv != APR_SUCCESS) {
        acme_err_wrap(err, p, "%s", url);
        if (err) {
            err->retry_after = ra;
        }
        return rv;
    }
    w->retry_after = ra;
    return APR_SUCCESS;
}

apr_status_t acme_ari_choose(apr_time_t *pchosen, const acme_ari_window_t *w,
                             apr_time_t now, apr_pool_t *p, acme_err_t *err)
{
    apr_uint64_t span, limit, r = 0;
    apr_time_t t;

    if (w->end <= w->start) {
        return acme_err_set(err, p, ACME_EINVAL, "the renewal window ends "
                            "(%s) before it starts (%s)",
                            acme_ari_format_time(p, w->end),
                            acme_ari_format_time(p, w->start));
    }
    span = (apr_uint64_t)(w->end - w->start);
    /* uniform in [0, span): reject the top values that would bias r % span */
    limit = APR_UINT64_MAX - (APR_UINT64_MAX % span);
    do {
        if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1) {
            return acme_err_set(err, p, ACME_ECRYPTO, "OpenSSL's random "
                                "generator failed");
        }
    } while (r >= limit);
    t = w->start + (apr_time_t)(r % span);
    *pchosen = t <= now ? now : t;
    return APR_SUCCESS;
}
