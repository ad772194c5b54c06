/* mod_acme: ACME orders, authorizations and challenges. */
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include "acme_order.h"
#include "acme_jws.h"
#include "acme_problem.h"
#include "acme_util.h"

static int is_ip_literal(const char *name)
{
    unsigned char buf[16];

    return inet_pton(AF_INET, name, buf) == 1
        || inet_pton(AF_INET6, name, buf) == 1;
}

static apr_status_t order_from_json(acme_order_t *o, apr_pool_t *p,
                                    json_t *json, acme_err_t *err)
{
    json_t *authzs, *v;
    size_t i;

    o->status = acme_json_str(p, json, "status");
    o->finalize_url = acme_json_str(p, json, "finalize");
    o->certificate_url = acme_json_str(p, json, "certificate");
    o->error = json_is_object(json_object_get(json, "error"))
        ? acme_problem_format(p, json_object_get(json, "error")) : NULL;
    authzs = json_object_get(json, "authorizations");
    o->authz_urls = apr_array_make(p, 4, sizeof(const char *));
    json_array_foreach(authzs, i, v) {
        if (json_is_string(v)) {
            APR_ARRAY_PUSH(o->authz_urls, const char *) =
                apr_pstrdup(p, json_string_value(v));
        }
    }
    if (!o->status || !o->finalize_url) {
        return acme_err_set(err, p, ACME_EPROTO,
                            "the CA's order at %s has no status or finalize "
                            "URL", o->url ? o->url : "?");
    }
    return APR_SUCCESS;
}

apr_status_t acme_order_new(acme_order_t **porder, acme_client_t *c,
                            apr_pool_t *p, const apr_array_header_t *names,
                            const char *profile, const char *replaces,
                            acme_err_t *err)
{
    json_t *payload, *ids, *json = NULL;
    acme_http_resp_t *resp;
    acme_order_t *o;
    char *text = NULL;
    apr_status_t rv;
    int i;

    payload = json_object();
    ids = json_array();
    for (i = 0; i < names->nelts; i++) {
        const char *n = APR_ARRAY_IDX(names, i, const char *);
        json_array_append_new(ids, json_pack("{s:s, s:s}", "type",
                                             is_ip_literal(n) ? "ip" : "dns",
                                             "value", n));
    }
    json_object_set_new(payload, "identifiers", ids);
    if (profile) {
        json_object_set_new(payload, "profile", json_string(profile));
    }
    if (replaces) {
        json_object_set_new(payload, "replaces", json_string(replaces));
    }
    text = json_dumps(payload, JSON_COMPACT);
    rv = acme_client_post_json(&json, &resp, c, p, c->url_new_order, text, 0,
                               err);
    if (rv != APR_SUCCESS) {
        acme_err_wrap(err, p, "new order for %s",
                      acme_array_join(p, names, ", "));
        goto cleanup;
    }
    o = apr_pcalloc(p, sizeof(*o));
    o->url = apr_pstrdup(p, acme_http_header(resp, "location")
                         ? acme_http_header(resp, "location") : "");
    if (!*o->url) {
        rv = acme_err_set(err, p, ACME_EPROTO,
                          "the CA created an order without a Location");
        goto cleanup;
    }
    rv = order_from_json(o, p, json, err);
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    acme_log(ACME_LOG_INFO, "order %s for %s: %s", o->url,
             acme_array_join(p, names, ", "), o->status);
    *porder = o;
cleanup:
    json_decref(payload);
    if (json) json_decref(json);
    free(text);
    return rv;
}

apr_status_t acme_order_refresh(acme_order_t *order, acme_client_t *c,
                                apr_pool_t *p, acme_err_t *err)
{
    json_t *json = NULL;
    acme_http_resp_t *resp;
    apr_status_t rv;

    rv = acme_client_post_json(&json, &resp, c, p, order->url, NULL, 0, err);
    if (rv == APR_SUCCESS) {
        order->retry_after = acme_http_retry_after(resp);
        rv = order_from_json(order, p, json, err);
    }
    if (json) json_decref(json);
    return rv;
}

apr_status_t acme_authz_from_json(acme_authz_t **pauthz, apr_pool_t *p,
                                  const char *url, json_t *json,
                                  acme_err_t *err)
{
    json_t *chs, *v;
    acme_authz_t *a;
    size_t i;

    a = apr_pcalloc(p, sizeof(*a));
    a->url = apr_pstrdup(p, url);
    a->status = acme_json_str(p, json, "status");
    a->id_type = acme_json_str(p, json_object_get(json, "identifier"), "type");
    a->id_value = acme_json_str(p, json_object_get(json, "identifier"),
                                "value");
    a->wildcard = json_is_true(json_object_get(json, "wildcard"));
    a->challenges = apr_array_make(p, 4, sizeof(acme_challenge_t *));
    if (!a->status || !a->id_value) {
        return acme_err_set(err, p, ACME_EPROTO,
                            "the CA's authorization %s has no status or "
                            "identifier", url);
    }
    chs = json_object_get(json, "challenges");
    json_array_foreach(chs, i, v) {
        acme_challenge_t *ch = apr_pcalloc(p, sizeof(*ch));
        ch->type = acme_json_str(p, v, "type");
        ch->url = acme_json_str(p, v, "url");
        if (!ch->url) {
            ch->url = acme_json_str(p, v, "uri");   /* pre-RFC CAs */
        }
        ch->token = acme_json_str(p, v, "token");
        ch->status = acme_json_str(p, v, "status");
        if (json_is_object(json_object_get(v, "error"))) {
            ch->error = acme_problem_format(p, json_object_get(v, "error"));
        }
        if (ch->type && ch->url) {
            APR_ARRAY_PUSH(a->challenges, acme_challenge_t *) = ch;
        }
    }
    *pauthz = a;
    return APR_SUCCESS;
}

static apr_status_t authz_fetch(acme_authz_t **pauthz,
                                acme_http_resp_t **presp, acme_client_t *c,
                                apr_pool_t *p, const char *url,
                                acme_err_t *err)
{
    json_t *json = NULL;
    acme_http_resp_t *resp;
    apr_status_t rv;

    rv = acme_client_post_json(&json, &resp, c, p, url, NULL, 0, err);
    if (rv == APR_SUCCESS) {
        rv = acme_authz_from_json(pauthz, p, url, json, err);
    }
    if (rv == APR_SUCCESS && presp) {
        *presp = resp;
    }
    if (json) json_decref(json);
    return rv;
}

apr_status_t acme_authz_fetch(acme_authz_t **pauthz, acme_client_t *c,
                              apr_pool_t *p, const char *url,
                              acme_err_t *err)
{
    return authz_fetch(pauthz, NULL, c, p, url, err);
}

acme_challenge_t *acme_authz_pick(acme_authz_t *authz,
                                  const apr_array_header_t *prefs)
{
    int i, j;

    authz->chosen = NULL;
    for (i = 0; i < prefs->nelts && !authz->chosen; i++) {
        const char *want = APR_ARRAY_IDX(prefs, i, const char *);
        for (j = 0; j < authz->challenges->nelts; j++) {
            acme_challenge_t *ch = APR_ARRAY_IDX(authz->challenges, j,
                                                 acme_challenge_t *);
            if (!strcmp(ch->type, want) && ch->token
                && acme_is_b64url(ch->token, 256)) {
                authz->chosen = ch;
                break;
            }
        }
    }
    return authz->chosen;
}

apr_status_t acme_challenge_prepare(acme_challenge_t *ch, acme_client_t *c,
                                    apr_pool_t *p)
{
    apr_status_t rv;

    rv = acme_key_authorization(&ch->keyauthz, p, ch->token, c->account_key);
    if (rv == APR_SUCCESS) {
        ch->dns_value = acme_dns01_value(p, ch->keyauthz);
    }
    return rv;
}

apr_status_t acme_challenge_respond(acme_client_t *c, apr_pool_t *p,
                                    const acme_challenge_t *ch,
                                    acme_err_t *err)
{
    acme_http_resp_t *resp;
    apr_status_t rv;

    rv = acme_client_post(&resp, c, p, ch->url, "{}", 0, NULL, err);
    if (rv != APR_SUCCESS) {
        acme_err_wrap(err, p, "responding to the %s challenge", ch->type);
    }
    return rv;
}

apr_status_t acme_authz_poll(acme_authz_t *authz, acme_client_t *c,
                             apr_pool_t *p, acme_err_t *err)
{
    apr_time_t deadline = apr_time_now() + c->poll_timeout;
    apr_time_t start = authz->responded ? authz->responded : apr_time_now();
    apr_time_t asked;
    apr_interval_time_t wait = c->poll_first;
    apr_status_t rv = APR_SUCCESS;
    apr_pool_t *scratch;
    int i, polls = 0;

    apr_pool_create(&scratch, p);
    /* the CA has only just been told: asking at once would find it
     * pending; wait what it took last time first */
    acme_client_poll_sleep_first(c, c->took_authz, start);
    for (;;) {
        acme_authz_t *now;
        acme_http_resp_t *resp;

        apr_pool_clear(scratch);
        asked = apr_time_now();
        rv = authz_fetch(&now, &resp, c, scratch, authz->url, err);
        if (rv != APR_SUCCESS) {
            goto cleanup;
        }
        polls++;
        authz->status = apr_pstrdup(p, now->status);
        if (!strcmp(now->status, "valid")) {
            c->took_authz = acme_client_poll_learn(c, c->took_authz,
                                                   asked - start, polls);
            goto cleanup;
        }
        if (strcmp(now->status, "pending")) {
            const char *why = NULL;
            for (i = 0; i < now->challenges->nelts; i++) {
                acme_challenge_t *ch = APR_ARRAY_IDX(now->challenges, i,
                                                     acme_challenge_t *);
                if (ch->error) {
                    why = apr_psprintf(p, "%s challenge: %s", ch->type,
                                       ch->error);
                }
            }
            rv = acme_err_set(err, p, ACME_ECHALLENGE,
                              "authorization for %s%s is %s%s%s",
                              authz->wildcard ? "*." : "", authz->id_value,
                              now->status, why ? ": " : "",
                              why ? why : "");
            goto cleanup;
        }
        if (apr_time_now() > deadline) {
            rv = acme_err_set(err, p, ACME_ETIMEOUT,
                              "authorization for %s still pending after %d "
                              "seconds", authz->id_value,
                              (int)apr_time_sec(c->poll_timeout));
            goto cleanup;
        }
        {
            apr_interval_time_t ra = acme_http_retry_after(resp);
            acme_sleep_bounded(ra ? ra : wait, c->poll_first,
                               apr_time_from_sec(10));
        }
        if (wait < apr_time_from_sec(2)) {
            wait *= 2;
        }
    }
cleanup:
    apr_pool_destroy(scratch);
    return rv;
}

/* POSTs the CSR to the order's finalize URL and reads the answer into
 * order. */
static apr_status_t finalize_post(acme_order_t *order, acme_client_t *c,
                                  apr_pool_t *p, const char *payload,
                                  acme_err_t *err)
{
    json_t *json = NULL;
    acme_http_resp_t *resp;
    apr_status_t rv;

    rv = acme_client_post_json(&json, &resp, c, p, order->finalize_url,
                               payload, 0, err);
    if (rv != APR_SUCCESS) {
        acme_err_wrap(err, p, "finalizing the order");
        goto cleanup;
    }
    order->retry_after = acme_http_retry_after(resp);
    rv = order_from_json(order, p, json, err);
cleanup:
    if (json) json_decref(json);
    return rv;
}

/* After the CA answered orderNotReady to the finalize request: the order
 * is fetched to see why. Ready after all (a CA whose parts lag behind each
 * other) is finalized once more, processing or valid is polled by the
 * caller, anything else is reported. rv is finalize's failure, returned
 * unchanged when the order cannot be fetched. */
static apr_status_t finalize_not_ready(acme_order_t *order, acme_client_t *c,
                                       apr_pool_t *p, const char *payload,
                                       apr_status_t rv, acme_err_t *err)
{
    acme_err_t why;

    acme_err_clear(&why);
    if (acme_order_refresh(order, c, p, &why) != APR_SUCCESS) {
        return rv;
    }
    if (!strcmp(order->status, "ready")) {
        acme_log(ACME_LOG_INFO, "the CA said the order was not "
                 "ready, and now says it is; finalizing again");
        acme_err_clear(err);
        return finalize_post(order, c, p, payload, err);
    }
    if (!strcmp(order->status, "processing")
        || !strcmp(order->status, "valid")) {
        acme_err_clear(err);
        return APR_SUCCESS;
    }
    return acme_err_set(err, p, ACME_EPROBLEM,
                        "the order is %s after validation%s%s",
                        order->status, order->error ? ": " : "",
                        order->error ? order->error : "");
}

/* Polls a finalized order until it is valid (or invalid, or deadline has
 * passed); start is when finalize was sent, for the first wait and for
 * learning what issuing takes. */
static apr_status_t finalize_poll(acme_order_t *order, acme_client_t *c,
                                  apr_pool_t *p, apr_time_t start,
                                  apr_time_t deadline, acme_err_t *err)
{
    apr_interval_time_t wait = c->poll_first;
    apr_time_t asked;
    apr_status_t rv = APR_SUCCESS;
    int polls = 0;

    while (strcmp(order->status, "valid")) {
        if (!strcmp(order->status, "invalid")) {
            return acme_err_set(err, p, ACME_EPROBLEM,
                                "the CA marked the order invalid%s%s",
                                order->error ? ": " : "",
                                order->error ? order->error : "");
        }
        if (apr_time_now() > deadline) {
            return acme_err_set(err, p, ACME_ETIMEOUT,
                                "the order is still %s after %d seconds",
                                order->status,
                                (int)apr_time_sec(c->poll_timeout));
        }
        if (order->retry_after) {
            acme_sleep_bounded(order->retry_after, c->poll_first,
                               apr_time_from_sec(10));
        }
        else if (polls == 0) {
            /* first wait: what issuing took last time on this client */
            acme_client_poll_sleep_first(c, c->took_order, start);
        }
        else {
            acme_sleep_bounded(wait, c->poll_first, apr_time_from_sec(10));
            if (wait < apr_time_from_sec(2)) {
                wait *= 2;
            }
        }
        asked = apr_time_now();
        rv = acme_order_refresh(order, c, p, err);
        if (rv != APR_SUCCESS) {
            return rv;
        }
        polls++;
        if (!strcmp(order->status, "valid")) {
            c->took_order = acme_client_poll_learn(c, c->took_order,
                                                   asked - start, polls);
        }
    }
    return rv;
}

apr_status_t acme_order_finalize(acme_order_t *order, acme_client_t *c,
                                 apr_pool_t *p, const unsigned char *csr_der,
                                 apr_size_t csr_len, acme_err_t *err)
{
    apr_time_t deadline = apr_time_now() + c->poll_timeout;
    apr_time_t start = apr_time_now();
    apr_status_t rv;
    const char *payload;

    payload = apr_psprintf(p, "{\"csr\":\"%s\"}",
                           acme_b64url_encode(p, csr_der, csr_len));
    rv = finalize_post(order, c, p, payload, err);
    if (rv != APR_SUCCESS && acme_problem_is(err, "orderNotReady")) {
        rv = finalize_not_ready(order, c, p, payload, rv, err);
    }
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    rv = finalize_poll(order, c, p, start, deadline, err);
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    if (!order->certificate_url) {
        rv = acme_err_set(err, p, ACME_EPROTO,
                          "the order is valid but has no certificate URL");
    }
cleanup:
    return rv;
}

apr_status_t acme_cert_download(const char **ppem,
                                apr_array_header_t **palternates,
                                acme_client_t *c, apr_pool_t *p,
                                const char *url, acme_err_t *err)
{
    acme_http_resp_t *resp;
    apr_status_t rv;

    rv = acme_client_post(&resp, c, p, url, NULL, 0, NULL, err);
    if (rv != APR_SUCCESS) {
        acme_err_wrap(err, p, "downloading the certificate");
        return rv;
    }
    *ppem = resp->body;
    if (palternates) {
        *palternates = acme_http_links(p, resp, "alternate");
    }
    return APR_SUCCESS;
}

apr_status_t acme_cert_revoke(acme_client_t *c, apr_pool_t *p,
                              const unsigned char *der, apr_size_t len,
                              int reason, const acme_key_t *cert_key,
                              acme_err_t *err)
{
    acme_http_resp_t *resp;
    const char *payload;

    if (!c->url_revoke_cert) {
        return acme_err_set(err, p, ACME_EPROTO,
                            "the CA's directory has no revokeCert");
    }
    payload = apr_psprintf(p, "{\"certificate\":\"%s\",\"reason\":%d}",
                           acme_b64url_encode(p, der, len), reason);
    return acme_client_post(&resp, c, p, c->url_revoke_cert, payload,
                            cert_key != NULL, cert_key, err);
}
