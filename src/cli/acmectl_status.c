/* acmectl status: the state of every lineage (or --cert-name) for people,
 * or as JSON with the status handler's fields (docs/status.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "acmectl_cmds.h"
#include "acme_status.h"
#include "acme_util.h"

static const char *sval(json_t *o, const char *k, const char *def)
{
    const char *v = json_string_value(json_object_get(o, k));
    return v ? v : def;
}

static void print_text(json_t *c, apr_time_t now)
{
    json_t *doms = json_object_get(c, "domains"), *paths;
    apr_time_t na = acme_status_parse_time(sval(c, "not_after", NULL));
    size_t i;

    printf("%s: %s\n", sval(c, "name", "?"), sval(c, "state", "?"));
    printf("  Domains: ");
    for (i = 0; i < json_array_size(doms); i++) {
        printf("%s%s", i ? " " : "", json_string_value(json_array_get(doms,
                                                                     i)));
    }
    printf("\n");
    if (na) {
        printf("  Valid: %s to %s (%ld days left)\n",
               sval(c, "not_before", "?"), sval(c, "not_after", "?"),
               (long)((na - now) / apr_time_from_sec(86400)));
        printf("  Serial: %s, issuer: %s, key: %s, version %d\n",
               sval(c, "serial", "?"), sval(c, "issuer", "?"),
               sval(c, "key_type", "?"),
               (int)json_integer_value(json_object_get(c, "version")));
    }
    else {
        printf("  Certificate: none yet\n");
    }
    printf("  Next renewal: %s (%s)\n", sval(c, "next_renewal", "-"),
           sval(c, "next_renewal_reason", "-"));
    printf("  Last attempt: %s, last success: %s, renewals: %d\n",
           sval(c, "last_attempt", "never"), sval(c, "last_success", "never"),
           (int)json_integer_value(json_object_get(c, "renewals")));
    if (json_integer_value(json_object_get(c, "failures")) > 0) {
        printf("  Failures: %d, next attempt not before %s\n",
               (int)json_integer_value(json_object_get(c, "failures")),
               sval(c, "backoff_until", "now"));
    }
    if (json_is_string(json_object_get(c, "last_error"))) {
        printf("  Last error: %s%s%s%s\n", sval(c, "last_error", ""),
               json_is_string(json_object_get(c, "last_problem")) ? " ("
               : "", sval(c, "last_problem", ""),
               json_is_string(json_object_get(c, "last_problem")) ? ")" : "");
    }
    if (json_is_string(json_object_get(c, "challenge"))) {
        printf("  Challenge: %s\n", sval(c, "challenge", ""));
    }
    paths = json_object_get(c, "paths");
    if (json_is_object(paths)) {
        printf("  Certificate Path: %s\n  Private Key Path: %s\n",
               sval(paths, "fullchain", "?"), sval(paths, "privkey", "?"));
    }
}

int acmectl_cmd_status(acmectl_t *ctl)
{
    apr_pool_t *p = ctl->pool;
    acme_status_opts_t opts;
    acme_store_t *store = NULL;
    json_t *out = NULL, *list;
    acme_err_t err;
    size_t i;
    int rc = 0;

    memset(&opts, 0, sizeof(opts));
    opts.source = ACME_STATUS_FROM_STORE;
    opts.now = apr_time_now();
    if (acme_store_open(&store, p, ctl->config_dir, 0, &err) != APR_SUCCESS) {
        store = NULL;
    }
    if (ctl->cert_name) {
        if (!store || acme_status_lineage(&out, store, ctl->cert_name, &opts,
                                          p) != APR_SUCCESS) {
            return acmectl_fail(ctl, "no certificate named '%s'",
                                ctl->cert_name);
        }
        if (ctl->json) {
            char *text = json_dumps(out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
            printf("%s\n", text);
            free(text);
        }
        else {
            print_text(out, opts.now);
        }
        json_decref(out);
        return 0;
    }
    if (store) {
        out = acme_status_all(store, &opts, p);
    }
    else {
        out = json_pack("{s:[], s:s}", "certificates", "generated",
                        acme_iso_time(p, opts.now));
    }
    list = json_object_get(out, "certificates");
    if (ctl->json) {
        char *text = json_dumps(out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        printf("%s\n", text);
        free(text);
    }
    else if (!json_array_size(list)) {
        printf("No certificates found.\n");
    }
    else {
        for (i = 0; i < json_array_size(list); i++) {
            if (i) {
                printf("\n");
            }
            print_text(json_array_get(list, i), opts.now);
        }
    }
    json_decref(out);
    return rc;
}
