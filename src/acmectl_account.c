/* acmectl update_account: change the account's contact or roll its key over
 * (RFC 8555 keyChange, which Certbot and mod_md lack). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acmectl.h"
#include "acme_account.h"
#include "acme_util.h"

int acmectl_cmd_update_account(acmectl_t *ctl)
{
    apr_pool_t *p = ctl->pool;
    acme_client_t *client;
    acme_store_t *store;
    acme_key_t *new_key, *old_key;
    const char *old_id, *new_id, *url;
    acme_err_t err;
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
    old_key = client->account_key;
    url = client->account_url;
    if (ctl->contacts->nelts) {
        json_t *payload = json_object(), *ct = json_array();
        acme_http_resp_t *resp;
        char *text;
        int i;
        for (i = 0; i < ctl->contacts->nelts; i++) {
            const char *c = APR_ARRAY_IDX(ctl->contacts, i, const char *);
            json_array_append_new(ct, json_string(strchr(c, ':') ? c
                : apr_pstrcat(p, "mailto:", c, NULL)));
        }
        json_object_set_new(payload, "contact", ct);
        text = json_dumps(payload, JSON_COMPACT);
        json_decref(payload);
        if (acme_client_post(&resp, client, p, url, text, 0, NULL, &err)
            != APR_SUCCESS) {
            free(text);
            return acmectl_fail(ctl, "updating the contact failed: %s",
                                err.msg);
        }
        free(text);
        acmectl_say(ctl, "Contact of %s updated.\n", url);
    }
    if (ctl->rollover_key) {
        if (acme_key_generate(&new_key, p, ACME_KEY_EC256, &err)
            != APR_SUCCESS
            || acme_account_key_change(client, p, new_key, &err)
               != APR_SUCCESS) {
            return acmectl_fail(ctl, "%s", err.msg);
        }
        /* the CA now knows only the new key: store it before anything else,
         * then drop the old one */
        if (acme_store_account_save(&new_id, store, ctl->server, new_key, url,
                                    reg, p, &err) != APR_SUCCESS) {
            return acmectl_fail(ctl, "the CA accepted the new key but it "
                                "could not be stored (%s); the old key no "
                                "longer works", err.msg);
        }
        if (strcmp(new_id, old_id)) {
            acme_store_account_delete(store, ctl->server, old_id, p);
        }
        (void)old_key;
        acmectl_say(ctl, "Account %s rolled over to a new key (account id "
                    "%s, was %s).\n", url, new_id, old_id);
    }
    return 0;
}
