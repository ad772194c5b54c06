/* acmectl: the connection to the CA and the account it is made with:
 * Certbot's rule for a new account's contact, registration, and
 * registering again when the CA forgot the account. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "acmectl_connect.h"
#include "acme_account.h"
#include "acme_problem.h"
#include "acme_util.h"

/* Is s usable as an email address: local@domain.tld, no blanks, commas
 * or control characters? */
static int email_ok(const char *s)
{
    const char *at = strchr(s, '@'), *c;

    if (!at || at == s || strchr(at + 1, '@') || !strchr(at + 1, '.')
        || at[1] == '.' || s[strlen(s) - 1] == '.') {
        return 0;
    }
    for (c = s; *c; c++) {
        if ((unsigned char)*c <= ' ' || *c == ',' || *c == 0x7f) {
            return 0;
        }
    }
    return 1;
}

/* Certbot's rule for registering a new account: with an email address
 * (-m), or with --register-unsafely-without-email. Otherwise the address
 * is asked for on a terminal, and refused without one (-n, cron). */
static apr_status_t registration_contact(acmectl_t *ctl, acme_err_t *err)
{
    apr_pool_t *p = ctl->pool;
    char line[512], *s, *e;
    int invalid = 0;

    if (ctl->contacts->nelts || ctl->unsafe_no_email) {
        return APR_SUCCESS;
    }
    if (ctl->non_interactive || !isatty(STDIN_FILENO)) {
        return acme_err_set(err, p, ACME_EINVAL, "no account for %s in %s "
                            "yet. You should register before running "
                            "non-interactively, or provide --agree-tos and "
                            "--email <email_address> flags (or "
                            "--register-unsafely-without-email to register "
                            "with no contact address)", ctl->server,
                            ctl->config_dir);
    }
    for (;;) {
        printf("%sEnter email address (used for urgent renewal and security "
               "notices)\n (Enter 'c' to cancel): ", invalid
               ? "There seem to be problems with that address. " : "");
        fflush(stdout);
        if (!fgets(line, sizeof(line), stdin)) {
            putchar('\n');
            break;
        }
        for (s = line; *s == ' ' || *s == '\t'; s++);
        for (e = s + strlen(s); e > s && (e[-1] == '\n' || e[-1] == '\r'
                                          || e[-1] == ' '); e--);
        *e = '\0';
        if (!*s || !strcmp(s, "c") || !strcmp(s, "C")) {
            break;
        }
        if (email_ok(s)) {
            APR_ARRAY_PUSH(ctl->contacts, const char *) = apr_pstrdup(p, s);
            return APR_SUCCESS;
        }
        invalid = 1;
    }
    return acme_err_set(err, p, ACME_EINVAL, "An e-mail address or "
                        "--register-unsafely-without-email must be "
                        "provided.");
}


/* The stored account id: its key and URL become the client's. */
static apr_status_t account_use(acme_client_t *c, acme_store_t *store,
                                const char *id, acmectl_t *ctl,
                                acme_err_t *err)
{
    acme_key_t *key = NULL;
    const char *url = NULL;
    apr_status_t rv;

    rv = acme_store_account_load(&key, &url, store, ctl->server, id,
                                 ctl->pool, err);
    if (rv == APR_SUCCESS) {
        acme_client_set_account(c, key, url);
        acme_log(ACME_LOG_INFO, "using account %s", url);
    }
    return rv;
}

/* Registers a new account (a new key, -m's contacts, --agree-tos, EAB) and
 * only then creates the store to keep it in; *pid gets its id. */
static apr_status_t account_new(const char **pid, acme_store_t **pstore,
                                acme_client_t *c, acmectl_t *ctl,
                                acme_err_t *err)
{
    apr_pool_t *p = ctl->pool;
    acme_account_req_t req;
    acme_key_t *key = NULL;
    json_t *reg = NULL;
    apr_status_t rv;

    memset(&req, 0, sizeof(req));
    req.contacts = ctl->contacts;
    req.agree_tos = ctl->agree_tos;
    req.eab_kid = ctl->eab_kid;
    req.eab_hmac = ctl->eab_hmac;
    rv = acme_key_generate(&key, p, ACME_KEY_EC256, err);
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    rv = acme_account_register(&reg, c, p, key, &req, err);
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    rv = acme_store_open(pstore, p, ctl->config_dir, 1, err);
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    rv = acme_store_account_save(pid, *pstore, ctl->server, key,
                                 c->account_url, reg, p, err);
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    acmectl_say(ctl, "Account registered%s: %s\n", ctl->contacts->nelts
                ? "" : " without a contact address (the CA cannot warn "
                "you about problems with it)", c->account_url);
cleanup:
    if (reg) {
        json_decref(reg);
    }
    return rv;
}

apr_status_t acmectl_connect(acme_client_t **pclient, acme_store_t **pstore,
                             const char **paccount_id, acmectl_t *ctl,
                             acme_err_t *err)
{
    apr_pool_t *p = ctl->pool;
    acme_client_t *c = NULL;
    acme_store_t *store = NULL;
    const char *id = NULL;
    apr_status_t rv;

    /* Nothing is created in the store until the CA has accepted us: a
     * failed registration leaves the store as it was. */
    if (acme_store_open(&store, p, ctl->config_dir, 0, NULL) == APR_SUCCESS) {
        acme_store_account_find(&id, store, ctl->server, p);
    }
    if (!store || !id) {
        /* a new account: settle its contact before talking to the CA */
        rv = registration_contact(ctl, err);
        if (rv != APR_SUCCESS) {
            goto cleanup;
        }
    }
    rv = acme_client_create(&c, p, ctl->server, ctl->ca_bundle, err);
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    rv = acme_client_load_directory(c, err);
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    rv = (store && id) ? account_use(c, store, id, ctl, err)
                       : account_new(&id, &store, c, ctl, err);
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    /* Make sure every directory of the layout exists (an existing store is
     * left as it is). */
    rv = acme_store_open(&store, p, ctl->config_dir, 1, err);
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    rv = acmectl_lock_store(ctl, store, err);
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    *pclient = c;
    *pstore = store;
    *paccount_id = id;
cleanup:
    return rv;
}

json_t *acmectl_account_body(acme_store_t *store, const char *server,
                             const char *id, apr_pool_t *p)
{
    char *text = NULL;
    json_t *regr = NULL, *body = NULL;

    if (!id || acme_file_read(&text, NULL, p, apr_pstrcat(p,
            acme_store_account_dir(store, p, server), "/", id, "/regr.json",
            NULL), 256 * 1024) != APR_SUCCESS) {
        goto cleanup;
    }
    regr = json_loads(text, 0, NULL);
    body = json_object_get(regr, "body");
    if (json_is_object(body)) {
        json_incref(body);
    }
    else {
        body = NULL;
    }
cleanup:
    if (regr) {
        json_decref(regr);
    }
    return body;
}

/* The contacts stored with an account (regr.json's body.contact), or an
 * empty array. */
static apr_array_header_t *stored_contacts(acme_store_t *store,
                                           const char *server,
                                           const char *id, apr_pool_t *p)
{
    apr_array_header_t *out = apr_array_make(p, 1, sizeof(const char *));
    json_t *body = acmectl_account_body(store, server, id, p), *v;
    size_t i;

    json_array_foreach(json_object_get(body, "contact"), i, v) {
        if (json_string_value(v) && *json_string_value(v)) {
            APR_ARRAY_PUSH(out, const char *) = apr_pstrdup(p,
                json_string_value(v));
        }
    }
    if (body) {
        json_decref(body);
    }
    return out;
}

void acmectl_account_req(acme_account_req_t *areq, acmectl_t *ctl,
                         acme_store_t *store, const char *account_id)
{
    memset(areq, 0, sizeof(*areq));
    areq->contacts = ctl->contacts->nelts ? ctl->contacts
        : stored_contacts(store, ctl->server, account_id, ctl->pool);
    areq->agree_tos = ctl->agree_tos;
    areq->eab_kid = ctl->eab_kid;
    areq->eab_hmac = ctl->eab_hmac;
}

int acmectl_account_gone(const acme_err_t *err)
{
    return acme_problem_is(err, "accountDoesNotExist");
}

apr_status_t acmectl_account_reregister(acmectl_t *ctl, acme_client_t *client,
                                        acme_store_t *store,
                                        const char *account_id,
                                        acme_err_t *err)
{
    apr_pool_t *p = ctl->pool;
    const char *old_url = client->account_url ? client->account_url : "?";
    const char *id = NULL;
    acme_account_req_t req;
    json_t *reg = NULL;
    apr_status_t rv;

    acmectl_account_req(&req, ctl, store, account_id);
    acme_log(ACME_LOG_WARN, "the CA does not know the account %s any more; "
             "registering its key again", old_url);
    /* the same key: the account id (and every renewal conf naming it) stays
     * valid, and a CA that still knows the key under another URL just
     * returns that account */
    rv = acme_account_register(&reg, client, p, client->account_key, &req,
                               err);
    if (rv != APR_SUCCESS) {
        acme_err_wrap(err, p, "the CA no longer knows account %s (was the "
                      "CA reset?) and registering a new one failed", old_url);
        goto cleanup;
    }
    rv = acme_store_account_save(&id, store, ctl->server,
                                 client->account_key, client->account_url,
                                 reg, p, err);
    if (rv != APR_SUCCESS) {
        acme_err_wrap(err, p, "the CA no longer knows account %s; a new one "
                      "(%s) was registered but could not be stored", old_url,
                      client->account_url);
        goto cleanup;
    }
    acmectl_say(ctl, "The CA no longer knows account %s; registered a new "
                "one: %s\n", old_url, client->account_url);
cleanup:
    if (reg) {
        json_decref(reg);
    }
    return rv;
}
