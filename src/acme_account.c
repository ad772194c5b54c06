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

apr_status_t acme_account_find(acme_client_t *c, apr_pool_t *p,
                               acme_key_t *key, acme_err_t *err)
{
    acme_http_resp_t *resp;
    const char *location;
    apr_status_t rv;

    rv = acme_client_post(&resp, c, p, c->url_new_account,
                          "{\"onlyReturnExisting\":true}", 1, key, err);
    if (rv != APR_SUCCESS) {
        if (acme_problem_is(err, "accountDoesNotExist")) {
            rv = acme_err_set(err, p, ACME_ENOTFOUND,
                              "the CA knows no account for this key");
        }
        return rv;
    }
    location = acme_http_header(resp, "location");
    if (!location) {
        return acme_err_set(err, p, ACME_EPROTO,
                            "the CA answered an account lookup without a "
                            "Location");
    }
    acme_client_set_account(c, key, location);
    return APR_SUCCESS;
}

apr_status_t acme_account_deactivate(acme_client_t *c, apr_pool_t *p,
                                     acme_err_t *err)
{
    acme_http_resp_t *resp;

    return acme_client_post(&resp, c, p, c->account_url,
                            "{\"status\":\"deactivated\"}", 0, NULL, err);
}
