/* mod_acme: ACME accounts (RFC 8555 §7.3). */
#include <stdlib.h>
#include <string.h>

#include "acme_account.h"
#include "acme_jws.h"
#include "acme_problem.h"

apr_status_t acme_account_register(json_t **preg, acme_client_t *c,
                                   apr_pool_t *p, acme_key_t *key,
                                   const acme_account_req_t *req,
                                   acme_err_t *err)
{
    json_t *payload = NULL, *contacts, *eab = NULL, *reg = NULL;
    acme_http_resp_t *resp;
    const char *location;
    char *text = NULL;
    apr_status_t rv;
    int i;

    if (c->terms_of_service && !req->agree_tos) {
        rv = acme_err_set(err, p, ACME_EINVAL,
                          "the CA requires agreement to its terms of service "
                          "(%s): pass --agree-tos (ACMEAgreeToS on)",
                          c->terms_of_service);
        goto cleanup;
    }
    if (c->eab_required && (!req->eab_kid || !req->eab_hmac)) {
        rv = acme_err_set(err, p, ACME_EINVAL,
                          "the CA requires External Account Binding: pass "
                          "--eab-kid and --eab-hmac-key "
                          "(ACMEExternalAccountBinding)");
        goto cleanup;
    }
    payload = json_object();
    contacts = json_array();
    for (i = 0; req->contacts && i < req->contacts->nelts; i++) {
        const char *ct = APR_ARRAY_IDX(req->contacts, i, const char *);
        if (!strchr(ct, ':')) {
            ct = apr_pstrcat(p, "mailto:", ct, NULL);
        }
        json_array_append_new(contacts, json_string(ct));
    }
    json_object_set_new(payload, "contact", contacts);
    if (req->agree_tos) {
        json_object_set_new(payload, "termsOfServiceAgreed", json_true());
    }
    if (req->eab_kid && req->eab_hmac) {
        rv = acme_jws_eab(&eab, p, key, req->eab_kid, req->eab_hmac,
                          c->url_new_account, err);
        if (rv != APR_SUCCESS) {
            goto cleanup;
        }
        json_object_set_new(payload, "externalAccountBinding", eab);
    }
    text = json_dumps(payload, JSON_COMPACT);
    c->account_key = key;
    rv = acme_client_post(&resp, c, p, c->url_new_account, text, 1, key, err);
    if (rv != APR_SUCCESS) {
        acme_err_wrap(err, p, "account registration at %s failed",
                      c->directory_url);
        goto cleanup;
    }
    location = acme_http_header(resp, "location");
    if (!location) {
        rv = acme_err_set(err, p, ACME_EPROTO,
                          "the CA created an account without a Location");
        goto cleanup;
    }
    rv = acme_json_parse(&reg, p, resp, err);
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    acme_client_set_account(c, key, location);
    acme_log(ACME_LOG_INFO, "account %s at %s (HTTP %d)", location,
             c->directory_url, resp->status);
    *preg = reg;
    reg = NULL;
cleanup:
    if (payload) json_decref(payload);
    if (reg) json_decref(reg);
    free(text);
    return rv;
}

apr_status_t acme_account_key_change(acme_client_t *c, apr_pool_t *p,
                                     acme_key_t *new_key, acme_err_t *err)
{
    acme_http_resp_t *resp;
    json_t *payload = NULL;
    const char *inner;
    char *text = NULL;
    apr_status_t rv;

    if (!c->url_key_change) {
        rv = acme_err_set(err, p, ACME_EPROTO, "the CA's directory has no "
                          "keyChange: it does not support key rollover");
        goto cleanup;
    }
    if (!c->account_url || !c->account_key) {
        rv = acme_err_set(err, p, ACME_EGENERAL, "no account to roll over");
        goto cleanup;
    }
    payload = json_pack("{s:s, s:o}", "account", c->account_url, "oldKey",
                        acme_jwk_public(c->account_key));
    text = json_dumps(payload, JSON_COMPACT);
    /* inner: signed by the new key, its jwk embedded, no nonce */
    rv = acme_jws_sign(&inner, p, text, new_key, NULL, NULL,
                       c->url_key_change, err);
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    rv = acme_client_post(&resp, c, p, c->url_key_change, inner, 0, NULL,
                          err);
    if (rv != APR_SUCCESS) {
        acme_err_wrap(err, p, "account key rollover refused");
        goto cleanup;
    }
    c->account_key = new_key;
    acme_log(ACME_LOG_NOTICE, "account %s now uses a new key",
             c->account_url);
cleanup:
    if (payload) json_decref(payload);
    free(text);
    return rv;
}
