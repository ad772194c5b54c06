/* mod_acme: an ACME client session: directory, nonces, signed requests. */
#include <string.h>

#include "acme_client.h"
#include "acme_jws.h"
#include "acme_problem.h"

static apr_status_t json_release(void *data)
{
    json_decref((json_t *)data);
    return APR_SUCCESS;
}

const char *acme_client_ca_url(const char *name)
{
    if (!strcasecmp(name, "letsencrypt")) {
        return ACME_LE_PRODUCTION;
    }
    if (!strcasecmp(name, "letsencrypt-staging")) {
        return ACME_LE_STAGING;
    }
    return name;
}

apr_status_t acme_client_create(acme_client_t **pclient, apr_pool_t *p,
                                const char *url, const char *ca_bundle,
                                acme_err_t *err)
{
    acme_client_t *c;
    apr_status_t rv;

    c = apr_pcalloc(p, sizeof(*c));
    c->pool = p;
    c->directory_url = apr_pstrdup(p, acme_client_ca_url(url));
    c->max_nonce_retries = 15;
    c->poll_timeout = apr_time_from_sec(300);
    c->poll_first = apr_time_from_msec(5);
    rv = acme_http_create(&c->http, p, ca_bundle, err);
    if (rv == APR_SUCCESS) {
        *pclient = c;
    }
    return rv;
}

void acme_client_set_transport(acme_client_t *c, acme_http_transport_fn *fn,
                               void *baton)
{
    acme_http_set_transport(c->http, fn, baton);
}

const char *acme_json_str(apr_pool_t *p, json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));

    return s ? apr_pstrdup(p, s) : NULL;
}

apr_status_t acme_json_parse(json_t **pjson, apr_pool_t *p,
                             const acme_http_resp_t *resp, acme_err_t *err)
{
    json_error_t jerr;
    json_t *json;

    json = json_loadb(resp->body, resp->body_len, 0, &jerr);
    if (!json_is_object(json)) {
        if (json) {
            json_decref(json);
        }
        return acme_err_set(err, p, ACME_EPROTO,
                            "malformed JSON from the CA at %s: %s", resp->url,
                            json ? "not an object" : jerr.text);
    }
    *pjson = json;
    return APR_SUCCESS;
}

void acme_sleep_bounded(apr_interval_time_t d, apr_interval_time_t min,
                        apr_interval_time_t max)
{
    if (d < min) d = min;
    if (d > max) d = max;
    apr_sleep(d);
}

apr_interval_time_t acme_client_poll_wait(const acme_client_t *c,
                                          apr_interval_time_t took)
{
    apr_interval_time_t w = took > c->poll_first ? took : c->poll_first;

    return w < apr_time_from_sec(10) ? w : apr_time_from_sec(10);
}

void acme_client_poll_sleep_first(const acme_client_t *c,
                                  apr_interval_time_t took, apr_time_t start)
{
    apr_interval_time_t first = acme_client_poll_wait(c, took);

    /* never longer than the first wait itself, even if the clock moved */
    acme_sleep_bounded(first - (apr_time_now() - start), 0, first);
}

apr_interval_time_t acme_client_poll_learn(const acme_client_t *c,
                                           apr_interval_time_t learned,
                                           apr_interval_time_t took,
                                           int polls)
{
    apr_interval_time_t cap = 2 * learned + c->poll_first;
    apr_interval_time_t v = polls <= 1 ? took - took / 4 : took;

    if (took < 0) {
        return learned;                 /* the clock went back */
    }
    return v < cap ? v : cap;
}

apr_status_t acme_client_load_directory(acme_client_t *c, acme_err_t *err)
{
    acme_http_resp_t *resp;
    apr_status_t rv;
    json_t *dir = NULL, *meta;
    apr_pool_t *p = c->pool;

    rv = acme_http_get(&resp, c->http, p, c->directory_url, 0, err);
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    if (resp->status != 200) {
        rv = acme_problem_to_err(err, p, resp->status, resp->body,
                                 resp->body_len, 0);
        acme_err_wrap(err, p, "ACME directory %s", c->directory_url);
        goto cleanup;
    }
    rv = acme_json_parse(&dir, p, resp, err);
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    c->url_new_nonce = acme_json_str(p, dir, "newNonce");
    c->url_new_account = acme_json_str(p, dir, "newAccount");
    c->url_new_order = acme_json_str(p, dir, "newOrder");
    c->url_revoke_cert = acme_json_str(p, dir, "revokeCert");
    c->url_key_change = acme_json_str(p, dir, "keyChange");
    c->url_renewal_info = acme_json_str(p, dir, "renewalInfo");
    if (!c->url_new_nonce || !c->url_new_account || !c->url_new_order) {
        rv = acme_err_set(err, p, ACME_EPROTO,
                          "%s is not an ACME directory (newNonce, newAccount "
                          "or newOrder missing)", c->directory_url);
        goto cleanup;
    }
    meta = json_object_get(dir, "meta");
    c->terms_of_service = acme_json_str(p, meta, "termsOfService");
    c->eab_required = json_is_true(json_object_get(meta,
                                                   "externalAccountRequired"));
    c->profiles = json_object_get(meta, "profiles");
    c->directory = dir;
    apr_pool_cleanup_register(p, dir, json_release, apr_pool_cleanup_null);
    dir = NULL;
cleanup:
    if (dir) {
        json_decref(dir);
    }
    return rv;
}

void acme_client_set_account(acme_client_t *c, acme_key_t *key,
                             const char *account_url)
{
    c->account_key = key;
    c->account_url = account_url ? apr_pstrdup(c->pool, account_url) : NULL;
}

static void take_nonce(acme_client_t *c, const acme_http_resp_t *resp)
{
    const char *n = acme_http_header(resp, "replay-nonce");

    if (n && *n) {
        apr_size_t len = strlen(n);
        if (len < sizeof(c->nonce_buf)) {
            memcpy(c->nonce_buf, n, len + 1);
            c->nonce = c->nonce_buf;
        }
        else {
            c->nonce = apr_pstrdup(c->pool, n);
        }
    }
}

static apr_status_t new_nonce(acme_client_t *c, apr_pool_t *p,
                              acme_err_t *err)
{
    acme_http_resp_t *resp;
    apr_status_t rv;

    rv = acme_http_get(&resp, c->http, p, c->url_new_nonce, 1, err);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    take_nonce(c, resp);
    if (!c->nonce) {
        return acme_err_set(err, p, ACME_EPROTO,
                            "the CA's newNonce (%s) answered HTTP %d without "
                            "a Replay-Nonce", c->url_new_nonce, resp->status);
    }
    return APR_SUCCESS;
}

apr_status_t acme_client_post(acme_http_resp_t **presp, acme_client_t *c,
                              apr_pool_t *p, const char *url,
                              const char *payload, int use_jwk,
                              const acme_key_t *sign_key, acme_err_t *err)
{
    const acme_key_t *key = sign_key ? sign_key : c->account_key;
    acme_http_resp_t *resp = NULL;
    apr_status_t rv = APR_SUCCESS;
    const char *jws, *nonce;
    int attempt;

    if (!key) {
        return acme_err_set(err, p, ACME_EGENERAL, "no account key");
    }
    if (!use_jwk && !c->account_url) {
        return acme_err_set(err, p, ACME_EGENERAL, "no account URL (kid)");
    }
    for (attempt = 0; ; attempt++) {
        if (!c->nonce) {
            rv = new_nonce(c, p, err);
            if (rv != APR_SUCCESS) {
                goto cleanup;
            }
        }
        nonce = c->nonce;
        c->nonce = NULL;        /* a nonce is good for one request */
        rv = acme_jws_sign(&jws, p, payload, key,
                           use_jwk ? NULL : c->account_url, nonce, url, err);
        if (rv != APR_SUCCESS) {
            goto cleanup;
        }
        rv = acme_http_post(&resp, c->http, p, url, "application/jose+json",
                            jws, strlen(jws), err);
        if (rv != APR_SUCCESS) {
            goto cleanup;
        }
        take_nonce(c, resp);
        if (resp->status >= 200 && resp->status < 300) {
            break;
        }
        rv = acme_problem_to_err(err, p, resp->status, resp->body,
                                 resp->body_len, acme_http_retry_after(resp));
        if (acme_problem_is(err, "badNonce")
            && attempt < c->max_nonce_retries) {
            acme_log(ACME_LOG_DEBUG, "badNonce from %s, retrying (%d)", url,
                     attempt + 1);
            continue;
        }
        goto cleanup;
    }
    *presp = resp;
cleanup:
    return rv;
}

apr_status_t acme_client_post_json(json_t **pjson, acme_http_resp_t **presp,
                                   acme_client_t *c, apr_pool_t *p,
                                   const char *url, const char *payload,
                                   int use_jwk, acme_err_t *err)
{
    acme_http_resp_t *resp;
    apr_status_t rv;

    rv = acme_client_post(&resp, c, p, url, payload, use_jwk, NULL, err);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (presp) {
        *presp = resp;
    }
    return acme_json_parse(pjson, p, resp, err);
}
