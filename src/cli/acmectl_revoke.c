/* acmectl revoke, delete: the end of a lineage. */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/x509.h>

#include "acmectl_cmds.h"
#include "acmectl_connect.h"
#include "acme_cert.h"
#include "acme_order.h"
#include "acme_state.h"

/* Opens the store read-only and loads lineage name from it, in *pstore and
 * *pl. */
static apr_status_t lineage_find(acme_store_t **pstore, acme_lineage_t **pl,
                                 acmectl_t *ctl, const char *name)
{
    acme_err_t err;
    apr_status_t rv;

    rv = acme_store_open(pstore, ctl->pool, ctl->config_dir, 0, &err);
    if (rv == APR_SUCCESS) {
        rv = acme_store_lineage_load(pl, *pstore, name, ctl->pool, &err);
    }
    return rv;
}

/* The certificate --cert-name or --cert-path names: *ppath, the lineage
 * (*pl, NULL with --cert-path) and the context to revoke with (*pc: the
 * lineage's CA and CA bundle unless --server was given). Returns 0 or an
 * exit status. */
static int revoke_target(const char **ppath, acme_lineage_t **pl,
                         acmectl_t **pc, acmectl_t *ctl)
{
    apr_pool_t *p = ctl->pool;
    const char *name = ctl->cert_name;
    acme_store_t *store = NULL;
    acme_lineage_t *l = NULL;
    acmectl_t *c = ctl;

    if (!ctl->cert_name == !ctl->cert_path) {
        return acmectl_fail(ctl, "revoke needs --cert-name NAME or "
                            "--cert-path FILE");
    }
    *ppath = ctl->cert_path;
    if (name) {
        if (lineage_find(&store, &l, ctl, name) != APR_SUCCESS) {
            return acmectl_fail(ctl, "no certificate named '%s' in %s", name,
                                ctl->config_dir);
        }
        *ppath = l->cert_path;
        if (l->conf && !ctl->server_set
            && apr_table_get(l->conf->params, "server")) {
            c = apr_pmemdup(p, ctl, sizeof(*ctl));
            c->server = apr_table_get(l->conf->params, "server");
            if (!ctl->ca_bundle && apr_table_get(l->conf->params,
                                                 "ca_bundle")) {
                c->ca_bundle = apr_table_get(l->conf->params, "ca_bundle");
            }
        }
    }
    *pl = l;
    *pc = c;
    return 0;
}

/* The DER of the first certificate in path (OPENSSL_free it), in *pder and
 * *plen. Returns 0 or an exit status. */
static int revoke_der(unsigned char **pder, int *plen, acmectl_t *ctl,
                      const char *path)
{
    apr_array_header_t *certs;
    acme_err_t err;

    *pder = NULL;
    if (acme_chain_load(&certs, ctl->pool, path, &err) != APR_SUCCESS) {
        return acmectl_fail(ctl, "%s: %s", path, err.msg);
    }
    *plen = i2d_X509(acme_cert_x509(APR_ARRAY_IDX(certs, 0, acme_cert_t *)),
                     pder);
    if (*plen <= 0) {
        return acmectl_fail(ctl, "%s: cannot encode the certificate", path);
    }
    return 0;
}

/* Asks c's CA to revoke der with ctl's reason; *pstore gets the store.
 * When the CA forgot the account, registers again and asks once more. */
static apr_status_t revoke_at_ca(acme_store_t **pstore, acmectl_t *c,
                                 acmectl_t *ctl, const unsigned char *der,
                                 int len, acme_err_t *err)
{
    acme_client_t *client;
    const char *account;
    apr_status_t rv;

    rv = acmectl_connect(&client, pstore, &account, c, err);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = acme_cert_revoke(client, ctl->pool, der, (apr_size_t)len,
                          ctl->reason, NULL, err);
    if (rv != APR_SUCCESS && acmectl_account_gone(err)) {
        /* the CA was reset or forgot the account: register again, then
         * ask once more */
        rv = acmectl_account_reregister(c, client, *pstore, account, err);
        if (rv == APR_SUCCESS) {
            rv = acme_cert_revoke(client, ctl->pool, der, (apr_size_t)len,
                                  ctl->reason, NULL, err);
        }
    }
    return rv;
}

/* Records the revocation of lineage l in its state, then deletes the
 * lineage unless --no-delete-after-revoke. Returns the exit status. */
static int revoke_record(acmectl_t *ctl, acme_store_t *store,
                         const acme_lineage_t *l)
{
    apr_pool_t *p = ctl->pool;
    acme_state_t *st;
    acme_err_t err;

    /* an unreadable state file is rewritten with only what is known */
    acme_state_load(&st, store, ctl->cert_name, p, &err);
    st->revoked = apr_time_now();
    st->revocation_reason = ctl->reason;
    st->revoked_serial = l->serial;
    acme_state_save(store, st, 1, p, &err);
    if (ctl->delete_after_revoke != 0) {
        if (acme_store_lineage_delete(store, ctl->cert_name, p, &err)
            != APR_SUCCESS) {
            return acmectl_fail(ctl, "revoked, but deleting %s failed: "
                                "%s", ctl->cert_name, err.msg);
        }
        acmectl_say(ctl, "Deleted all files relating to certificate "
                    "%s.\n", ctl->cert_name);
    }
    return 0;
}

/* Revokes a certificate with the account of its CA; records it in
 * STORE/state/<name>.json; deletes the lineage unless told not to. */
int acmectl_cmd_revoke(acmectl_t *ctl)
{
    const char *path = NULL;
    acme_store_t *store = NULL;
    acme_lineage_t *l = NULL;
    unsigned char *der = NULL;
    acmectl_t *c = ctl;
    acme_err_t err;
    apr_status_t rv;
    int len = 0, rc;

    rc = revoke_target(&path, &l, &c, ctl);
    if (rc == 0) {
        rc = revoke_der(&der, &len, ctl, path);
    }
    if (rc != 0) {
        goto cleanup;
    }
    rv = revoke_at_ca(&store, c, ctl, der, len, &err);
    if (rv != APR_SUCCESS) {
        rc = acmectl_fail(ctl, "revoking %s failed: %s", path, err.msg);
        goto cleanup;
    }
    acmectl_say(ctl, "Congratulations! You have successfully revoked the "
                "certificate that was located at %s.\n", path);
    if (l) {
        rc = revoke_record(ctl, store, l);
    }
cleanup:
    OPENSSL_free(der);
    return rc;
}

/* Deletes a lineage: live/, archive/, renewal/ and state/ for it. */
int acmectl_cmd_delete(acmectl_t *ctl)
{
    apr_pool_t *p = ctl->pool;
    acme_store_t *store;
    acme_lineage_t *l;
    acme_err_t err;

    if (!ctl->cert_name) {
        return acmectl_fail(ctl, "delete needs --cert-name NAME");
    }
    if (lineage_find(&store, &l, ctl, ctl->cert_name) != APR_SUCCESS) {
        return acmectl_fail(ctl, "no certificate named '%s' in %s",
                            ctl->cert_name, ctl->config_dir);
    }
    /* not while the server's supervisor (or another acmectl) writes */
    if (acmectl_lock_store(ctl, store, &err) != APR_SUCCESS
        || acme_store_lineage_delete(store, ctl->cert_name, p, &err)
           != APR_SUCCESS) {
        return acmectl_fail(ctl, "%s", err.msg);
    }
    acmectl_say(ctl, "Deleted all files relating to certificate %s.\n",
                ctl->cert_name);
    return 0;
}
