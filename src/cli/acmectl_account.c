/* acmectl update_account: change the account's contact or roll its key over
 * (RFC 8555 keyChange, which Certbot and mod_md lack). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acmectl_cmds.h"
#include "acmectl_connect.h"
#include "acme_account.h"
#include "acme_util.h"

/* Sets the account's contact to -m's addresses. */
static apr_status_t post_contact(acmectl_t *ctl, acme_client_t *client,
                                 acme_store_t *store, acme_err_t *err)
{
    apr_pool_t *p = ctl->pool;
    json_t *payload = json_object(), *ct = json_array(), *account = NULL;
    acme_http_resp_t *resp;
    const char *id;
    acme_err_t serr;
    char *text;
    apr_status_t rv;
    int i;

    for (i = 0; i < ctl->contacts->nelts; i++) {
        const char *c = APR_ARRAY_IDX(ctl->contacts, i, const char *);
        json_array_append_new(ct, json_string(strchr(c, ':') ? c
            : apr_pstrcat(p, "mailto:", c, NULL)));
    }
    json_object_set_new(payload, "contact", ct);
    text = json_dumps(payload, JSON_COMPACT);
    json_decref(payload);
    rv = acme_client_post(&resp, client, p, client->account_url, text, 0,
                          NULL, err);
    free(text);
    /* the CA answers with the account as it is now: regr.json keeps it
     * (a later re-registration takes its contacts from there) */
    if (rv == APR_SUCCESS
        && acme_json_parse(&account, p, resp, &serr) == APR_SUCCESS) {
        if (acme_store_account_save(&id, store, ctl->server,
                                    client->account_key, client->account_url,
                                    account, p, &serr) != APR_SUCCESS) {
            acmectl_say(ctl, "The CA took the new contact, but it could not "
                        "be stored: %s\n", serr.msg);
        }
        json_decref(account);
    }
    return rv;
}

int acmectl_cmd_update_account(acmectl_t *ctl)
{
    apr_pool_t *p = ctl->pool;
    acme_client_t *client;
    acme_store_t *store;
    acme_key_t *new_key;
    const char *old_id, *new_id, *url;
    acme_err_t err;
    apr_status_t rv;
    json_t *reg = NULL;

    if (!ctl->rollover_key && !ctl->contacts->nelts) {
        return acmectl_fail(ctl, "update_account needs --rollover-key or "
                            "-m EMAIL");
    }
    if (acme_store_open(&store, p, ctl->config_dir, 0, &err) != APR_SUCCESS
        || acme_store_account_find(&old_id, store, ctl->server, p)
           != APR_SUCCESS || !old_id) {
        return acmectl_fail(ctl, "no account for %s in %s", ctl->server,
                            ctl->config_dir);
    }
    if (acmectl_connect(&client, &store, &old_id, ctl, &err) != APR_SUCCESS) {
        return acmectl_fail(ctl, "%s", err.msg);
    }
    if (ctl->contacts->nelts) {
        rv = post_contact(ctl, client, store, &err);
        if (rv != APR_SUCCESS && acmectl_account_gone(&err)) {
            /* registered again with -m's contact: nothing more to change */
            rv = acmectl_account_reregister(ctl, client, store, old_id, &err);
        }
        if (rv != APR_SUCCESS) {
            return acmectl_fail(ctl, "updating the contact failed: %s",
                                err.msg);
        }
        acmectl_say(ctl, "Contact of %s updated.\n", client->account_url);
    }
    if (ctl->rollover_key) {
        if (acme_key_generate(&new_key, p, ACME_KEY_EC256, &err)
            != APR_SUCCESS) {
            return acmectl_fail(ctl, "%s", err.msg);
        }
        rv = acme_account_key_change(client, p, new_key, &err);
        if (rv != APR_SUCCESS && acmectl_account_gone(&err)) {
            /* the CA forgot the account: register the old key again, then
             * roll it over as asked */
            rv = acmectl_account_reregister(ctl, client, store, old_id, &err);
            if (rv == APR_SUCCESS) {
                rv = acme_account_key_change(client, p, new_key, &err);
            }
        }
        if (rv != APR_SUCCESS) {
            return acmectl_fail(ctl, "%s", err.msg);
        }
        url = client->account_url;
        /* the CA now knows only the new key: store it (with the account's
         * registration, contacts included) before anything else, then drop
         * the old one */
        reg = acmectl_account_body(store, ctl->server, old_id, p);
        rv = acme_store_account_save(&new_id, store, ctl->server, new_key,
                                     url, reg, p, &err);
        if (reg) {
            json_decref(reg);
        }
        if (rv != APR_SUCCESS) {
            return acmectl_fail(ctl, "the CA accepted the new key but it "
                                "could not be stored (%s); the old key no "
                                "longer works", err.msg);
        }
        if (strcmp(new_id, old_id)) {
            acme_store_account_delete(store, ctl->server, old_id, p);
        }
        acmectl_say(ctl, "Account %s rolled over to a new key (account id "
                    "%s, was %s).\n", url, new_id, old_id);
    }
    return 0;
}
