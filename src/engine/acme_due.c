/* mod_acme: the renewal policy: when a managed certificate is due. */
#include <string.h>

#include "acme_due.h"
#include "acme_names.h"
#include "acme_util.h"

#define DAY apr_time_from_sec(86400)

const char *acme_due_name(acme_due_e due)
{
    switch (due) {
    case ACME_DUE_NO: return "not due";
    case ACME_DUE_MISSING: return "missing";
    case ACME_DUE_NAMES: return "names changed";
    case ACME_DUE_WINDOW: return "renew window";
    case ACME_DUE_EXPIRED: return "expired";
    case ACME_DUE_KEYTYPE: return "key type changed";
    case ACME_DUE_CA: return "CA changed";
    case ACME_DUE_REVOKED: return "revoked";
    case ACME_DUE_ARI: return "ari";
    case ACME_DUE_REQUESTED: return "requested";
    }
    return "?";
}

apr_interval_time_t acme_sup_backoff(int failures)
{
    apr_interval_time_t base;

    if (failures <= 0) {
        return 0;
    }
    switch (failures) {
    case 1: base = apr_time_from_sec(60); break;
    case 2: base = apr_time_from_sec(600); break;
    case 3: base = apr_time_from_sec(6000); break;
    default: base = DAY; break;
    }
    return base + (apr_interval_time_t)acme_random_uniform(
        (apr_uint32_t)(apr_time_sec(base) / 10 + 1)) * APR_USEC_PER_SEC;
}

acme_due_e acme_sup_due(apr_time_t *pwhen, const acme_store_t *store,
                        const acme_md_t *md, apr_time_t now, apr_pool_t *p)
{
    acme_lineage_t *l;

    if (acme_store_lineage_load(&l, store, md->name, p, NULL) != APR_SUCCESS) {
        l = NULL;
    }
    return acme_sup_due_lineage(pwhen, store, md, l, now, p);
}

acme_due_e acme_sup_due_lineage(apr_time_t *pwhen, const acme_store_t *store,
                                const acme_md_t *md, const acme_lineage_t *l,
                                apr_time_t now, apr_pool_t *p)
{
    apr_interval_time_t life, before;

    *pwhen = now;
    if (!l) {
        return ACME_DUE_MISSING;
    }
    if (!acme_names_equal(l->names, md->names)) {
        return ACME_DUE_NAMES;
    }
    if (l->key_type >= 0 && (acme_key_type_e)l->key_type != md->key_type) {
        return ACME_DUE_KEYTYPE;
    }
    if (md->ca_url && l->conf && apr_table_get(l->conf->params, "server")
        && strcmp(apr_table_get(l->conf->params, "server"), md->ca_url)) {
        return ACME_DUE_CA;
    }
    {
        json_t *st = NULL;
        int revoked = 0;
        if (acme_store_state_load(&st, store, md->name, p) == APR_SUCCESS
            && json_integer_value(json_object_get(st, "revoked")) > 0) {
            const char *rs = json_string_value(json_object_get(
                st, "revoked_serial"));
            revoked = !rs || !strcmp(rs, l->serial);
        }
        if (st) json_decref(st);
        if (revoked) {
            return ACME_DUE_REVOKED;
        }
    }
    if (l->not_after <= now) {
        return ACME_DUE_EXPIRED;
    }
    life = l->not_after - l->not_before;
    if (md->renew_abs > 0) {
        before = md->renew_abs;
    }
    else if (md->renew_pct > 0) {
        before = life / 100 * md->renew_pct;
    }
    else {
        before = life < 10 * DAY ? life / 2 : life / 3;
    }
    *pwhen = l->not_after - before;
    return *pwhen <= now ? ACME_DUE_WINDOW : ACME_DUE_NO;
}

void acme_sup_key_params(apr_table_t *params, acme_key_type_e type)
{
    switch (type) {
    case ACME_KEY_EC256:
    case ACME_KEY_EC384:
        apr_table_set(params, "key_type", "ecdsa");
        apr_table_set(params, "elliptic_curve", type == ACME_KEY_EC256
                      ? "secp256r1" : "secp384r1");
        break;
    default:
        apr_table_set(params, "key_type", "rsa");
        apr_table_set(params, "rsa_key_size", type == ACME_KEY_RSA2048
                      ? "2048" : type == ACME_KEY_RSA3072 ? "3072" : "4096");
        break;
    }
}
