/* acmectl import: Certbot's accounts, each imported once per run (or found
 * already in the store) so that renewals reuse the account a lineage was
 * obtained with. */
#include <string.h>

#include <apr_strings.h>
#include <jansson.h>

#include "acmectl_import.h"
#include "acme_util.h"

/* The id of a store account of server with this URL and key, or NULL. */
static const char *account_find(import_t *im, const char *server,
                                const char *url, acme_key_t *key,
                                apr_pool_t *p)
{
    apr_array_header_t *ids;
    const char *found = NULL;
    int i;

    if (acme_store_list_dir(&ids, acme_store_account_dir(im->store, p,
                                                         server), 1, p)
        != APR_SUCCESS) {
        return NULL;
    }
    for (i = 0; i < ids->nelts && !found; i++) {
        const char *id = APR_ARRAY_IDX(ids, i, const char *);
        acme_key_t *k2;
        const char *u2;
        const unsigned char *d1, *d2;
        apr_size_t l1, l2;
        if (acme_store_account_load(&k2, &u2, im->store, server, id, p,
                                    NULL) == APR_SUCCESS
            && !strcmp(u2, url)
            && acme_key_public_der(&d1, &l1, p, key) == APR_SUCCESS
            && acme_key_public_der(&d2, &l2, p, k2) == APR_SUCCESS
            && l1 == l2 && !memcmp(d1, d2, l1)) {
            found = id;
        }
    }
    return found;
}

/* Keeps Certbot's meta.json (creation date and host) of the account in
 * dir with the stored account id of server. */
static void account_meta_copy(import_t *im, const char *dir,
                              const char *server, const char *id,
                              apr_pool_t *p)
{
    char *meta;
    apr_size_t mlen;
    json_t *m;

    if (acme_file_read(&meta, &mlen, p, apr_pstrcat(p, dir, "/meta.json",
                                                    NULL), 65536)
        != APR_SUCCESS) {
        return;
    }
    m = json_loadb(meta, mlen, 0, NULL);
    if (json_is_object(m)) {
        acme_file_write_atomic(apr_pstrcat(p, acme_store_account_dir(
                                   im->store, p, server), "/", id,
                                   "/meta.json", NULL),
                               meta, mlen, 0x0644, p);
    }
    if (m) {
        json_decref(m);
    }
}

/* Stores Certbot's account in dir (key, url, body) unless the store has
 * it; a->id gets our id, or a->why the reason it could not be stored. */
static void account_store(import_t *im, import_account_t *a, const char *dir,
                          const char *server, acme_key_t *key,
                          const char *url, json_t *body, apr_pool_t *p)
{
    const char *ours = acme_store_account_dir(im->store, p, server);
    acme_err_t err;

    acme_err_clear(&err);
    a->id = account_find(im, server, url, key, p);
    if (a->id) {
        acmectl_say(im->ctl, "Account %s is already in the store (%s/%s)\n",
                    url, ours, a->id);
    }
    else if (acme_store_account_save(&a->id, im->store, server, key, url,
                                     body, p, &err) != APR_SUCCESS) {
        a->id = NULL;
        a->why = err.msg;
    }
    else {
        account_meta_copy(im, dir, server, a->id, p);
        acmectl_say(im->ctl, "Imported account %s (Certbot's %s) into "
                    "%s/%s\n", url, dir, ours, a->id);
    }
}

import_account_t *acmectl_import_account(import_t *im, const char *server,
                                         const char *cb_id)
{
    apr_pool_t *p = im->ctl->pool;
    import_account_t *a;
    const char *dir, *url = NULL, *first = NULL;
    acme_key_t *key = NULL;
    json_t *body = NULL;
    acme_err_t err;

    dir = acme_certbot_account_dir(p, im->src, server);
    if (!dir || !acme_store_name_ok(cb_id)) {
        a = apr_pcalloc(p, sizeof(*a));
        a->why = apr_psprintf(p, "the renewal conf names no usable account "
                              "(server %s, account %s)", server ? server
                              : "(none)", cb_id ? cb_id : "(none)");
        return a;
    }
    dir = apr_pstrcat(p, dir, "/", cb_id, NULL);
    if ((a = apr_hash_get(im->accounts, dir, APR_HASH_KEY_STRING))) {
        return a;
    }
    a = apr_pcalloc(p, sizeof(*a));
    apr_hash_set(im->accounts, dir, APR_HASH_KEY_STRING, a);
    acme_err_clear(&err);
    if (acme_certbot_account_load(&key, &url, &body, p, dir, &err)
        != APR_SUCCESS) {
        a->why = err.msg;
        return a;
    }
    account_store(im, a, dir, server, key, url, body, p);
    if (body) {
        json_decref(body);
    }
    if (a->id && acme_store_account_find(&first, im->store, server, p)
        == APR_SUCCESS && first && strcmp(first, a->id)) {
        acmectl_say(im->ctl, "Warning: the store already had account %s for "
                    "%s; the module and acmectl use that one, not the "
                    "imported %s (remove %s/%s to renew with Certbot's "
                    "account)\n", first, server, a->id,
                    acme_store_account_dir(im->store, p, server), first);
    }
    return a;
}
