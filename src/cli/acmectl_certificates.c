/* acmectl certificates: list the store's lineages, as Certbot does, or as
 * JSON for control panels. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "acmectl_cmds.h"
#include "acme_state.h"
#include "acme_util.h"

/* The key type, as the lineage read it from the certificate's public key
 * (no private key is parsed to list certificates). */
static const char *key_type_of(apr_pool_t *p, const acme_lineage_t *l)
{
    (void)p;
    return l->key_type >= 0 ? acme_key_type_name((acme_key_type_e)l->key_type)
                            : "unknown";
}

/* Whether the state of lineage name records the revocation of l. */
static int cert_revoked(acme_store_t *store, const char *name,
                        const acme_lineage_t *l, apr_pool_t *p)
{
    acme_state_t *st;

    /* an unreadable state records nothing */
    acme_state_load(&st, store, name, p, NULL);
    return acme_state_revoked(st, l->serial);
}

/* One lineage as the JSON listing shows it. */
static json_t *cert_json(apr_pool_t *p, const char *name,
                         const acme_lineage_t *l, int valid, int revoked,
                         long days)
{
    json_t *o = json_object(), *doms = json_array();
    int j;

    for (j = 0; j < l->names->nelts; j++) {
        json_array_append_new(doms, json_string(
            APR_ARRAY_IDX(l->names, j, const char *)));
    }
    json_object_set_new(o, "name", json_string(name));
    json_object_set_new(o, "domains", doms);
    json_object_set_new(o, "not_before", json_string(
        acmectl_iso_time(p, l->not_before)));
    json_object_set_new(o, "not_after", json_string(
        acmectl_iso_time(p, l->not_after)));
    json_object_set_new(o, "days_left", json_integer(days));
    json_object_set_new(o, "valid", json_boolean(valid));
    json_object_set_new(o, "revoked", json_boolean(revoked));
    json_object_set_new(o, "serial", json_string(l->serial));
    json_object_set_new(o, "issuer", json_string(l->issuer_cn));
    json_object_set_new(o, "key_type", json_string(key_type_of(p, l)));
    json_object_set_new(o, "version", json_integer(l->version));
    json_object_set_new(o, "cert_path", json_string(l->cert_path));
    json_object_set_new(o, "chain_path", json_string(l->chain_path));
    json_object_set_new(o, "fullchain_path",
                        json_string(l->fullchain_path));
    json_object_set_new(o, "privkey_path",
                        json_string(l->privkey_path));
    return o;
}

/* One lineage as Certbot lists it. */
static void cert_print(apr_pool_t *p, const char *name,
                       const acme_lineage_t *l, int valid, int revoked,
                       long days)
{
    apr_time_exp_t tm;

    apr_time_exp_gmt(&tm, l->not_after);
    printf("  Certificate Name: %s\n"
           "    Serial Number: %s\n"
           "    Key Type: %s\n"
           "    Domains: %s\n"
           "    Expiry Date: %04d-%02d-%02d %02d:%02d:%02d+00:00 "
           "(%s: %ld days)\n"
           "    Certificate Path: %s\n"
           "    Private Key Path: %s\n",
           name, l->serial,
           !strncmp(key_type_of(p, l), "ec", 2) ? "ECDSA"
           : !strncmp(key_type_of(p, l), "rsa", 3) ? "RSA" : "unknown",
           acme_array_join(p, l->names, " "), tm.tm_year + 1900,
           tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
           tm.tm_sec, valid ? "VALID" : revoked ? "INVALID: REVOKED"
           : "INVALID: EXPIRED",
           days, l->fullchain_path, l->privkey_path);
}

/* Lists lineage name: on stdout, or appended to the JSON list. */
static void cert_show(acmectl_t *ctl, acme_store_t *store, const char *name,
                      json_t *list, apr_time_t now)
{
    apr_pool_t *p = ctl->pool;
    acme_lineage_t *l;
    acme_err_t err;
    int valid, revoked;
    long days;

    if (acme_store_lineage_load(&l, store, name, p, &err) != APR_SUCCESS) {
        if (!ctl->json) {
            printf("  Certificate Name: %s\n    (unusable: %s)\n", name,
                   err.msg);
        }
        else {
            json_array_append_new(list, json_pack("{s:s, s:b, s:s}",
                "name", name, "valid", 0, "error",
                err.msg ? err.msg : "unusable"));
        }
        return;
    }
    valid = l->not_after > now && l->not_before <= now + apr_time_from_sec(86400);
    revoked = cert_revoked(store, name, l, p);
    if (revoked) {
        valid = 0;
    }
    days = (long)((l->not_after - now) / apr_time_from_sec(86400));
    if (ctl->json) {
        json_array_append_new(list, cert_json(p, name, l, valid, revoked,
                                              days));
    }
    else {
        cert_print(p, name, l, valid, revoked, days);
    }
}

int acmectl_cmd_certificates(acmectl_t *ctl)
{
    apr_pool_t *p = ctl->pool;
    acme_store_t *store;
    apr_array_header_t *names;
    json_t *out = NULL, *list;
    acme_err_t err;
    apr_time_t now = apr_time_now();
    int i, shown = 0;

    if (acme_store_open(&store, p, ctl->config_dir, 0, &err) != APR_SUCCESS) {
        if (ctl->json) {
            printf("{\"certificates\": []}\n");
            return 0;
        }
        printf("No certificates found.\n");
        return 0;
    }
    acme_store_lineage_list(&names, store, p);
    out = json_object();
    list = json_array();
    json_object_set_new(out, "certificates", list);
    if (!ctl->json) {
        printf("Found the following certs:\n");
    }
    for (i = 0; i < names->nelts; i++) {
        const char *name = APR_ARRAY_IDX(names, i, const char *);
        if (ctl->cert_name && strcmp(ctl->cert_name, name)) {
            continue;
        }
        cert_show(ctl, store, name, list, now);
        shown++;
    }
    if (ctl->json) {
        char *text = json_dumps(out, JSON_INDENT(2));
        printf("%s\n", text);
        free(text);
    }
    else if (!shown) {
        printf("No certificates found.\n");
    }
    json_decref(out);
    if (ctl->cert_name && !shown) {
        return acmectl_fail(ctl, "no certificate named '%s'", ctl->cert_name);
    }
    return 0;
}
