/* mod_acme: the status handler (SetHandler acme-status) and a section in
 * mod_status' server-status page.
 *
 * Both run in the httpd children (User, e.g. www-data), which cannot read
 * live/ and archive/ (root, 0700). The parent (root) therefore writes a
 * public summary of each managed certificate into STORE/status/<name>.json
 * at every start and restart (acme_status_prepare, post_config): the
 * certificate's dates, serial, issuer, names, key type and paths, never key
 * material. The attempt, error and backoff fields come from
 * STORE/state/<name>.json (0644), read at each request. docs/status.md has
 * the schema. */
#include <stdlib.h>
#include <string.h>

#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "apr_optional_hooks.h"
#include "apr_strings.h"
#include "mod_status.h"

#include "mod_acme.h"
#include "mod_acme_runtime.h"
#include "acme_status.h"
#include "acme_store.h"
#include "acme_util.h"

APLOG_USE_MODULE(acme);

#define ACME_STATUS_HANDLER "acme-status"

void acme_status_prepare(apr_pool_t *ptemp, server_rec *base)
{
    acme_store_t *store;
    acme_err_t err;
    apr_status_t rv;

    if (!acme_rt || !acme_rt->sup) {
        return;
    }
    acme_err_clear(&err);
    rv = acme_store_open(&store, ptemp, acme_rt->sup->store_dir, 0, &err);
    if (rv == APR_SUCCESS) {
        rv = acme_status_snapshot_write(store, acme_rt->sup->mds,
                                        apr_time_now(), acme_rt->lineages,
                                        ptemp);
    }
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, base,
                     "mod_acme: cannot write the certificate summaries for "
                     "the status handler in %s/status",
                     acme_rt->sup->store_dir);
    }
}

/* The status of every managed lineage, from the summaries; NULL when the
 * store cannot be opened. */
static json_t *status_all(apr_pool_t *p, acme_store_t **pstore)
{
    acme_status_opts_t opts;
    acme_store_t *store;

    if (!acme_rt || !acme_rt->store_dir
        || acme_store_open(&store, p, acme_rt->store_dir, 0, NULL)
           != APR_SUCCESS) {
        return NULL;
    }
    memset(&opts, 0, sizeof(opts));
    opts.source = ACME_STATUS_FROM_SNAPSHOT;
    opts.mds = acme_rt->sup->mds;
    if (pstore) {
        *pstore = store;
    }
    return acme_status_all(store, &opts, p);
}

/* The lineage name in the request: the path segment after the <Location>
 * the handler is configured in; "" for the list, NULL when the path has
 * more than one segment. */
static const char *request_name(request_rec *r)
{
    core_dir_config *cd = ap_get_core_module_config(r->per_dir_config);
    const char *rest = NULL;
    apr_size_t n;

    if (cd && cd->d && !cd->r && (n = strlen(cd->d)) > 0
        && !strncmp(r->uri, cd->d, n)) {
        rest = r->uri + n;
    }
    else {
        /* a regex section: the last segment, when the path has one more
         * segment than the section's own path would have */
        const char *slash = strrchr(r->uri, '/');
        rest = slash ? slash : "";
        if (cd && cd->d && strstr(r->uri, ACME_STATUS_HANDLER)
            && !strcmp(rest + 1, ACME_STATUS_HANDLER)) {
            rest = "";
        }
    }
    while (*rest == '/') {
        rest++;
    }
    n = strlen(rest);
    while (n > 0 && rest[n - 1] == '/') {
        n--;
    }
    rest = apr_pstrndup(r->pool, rest, n);
    return strchr(rest, '/') ? NULL : rest;
}

/* The value of a query argument, or NULL. */
static const char *query_arg(request_rec *r, const char *key)
{
    apr_size_t klen = strlen(key);
    char *args, *tok, *last;

    if (!r->args) {
        return NULL;
    }
    args = apr_pstrdup(r->pool, r->args);
    for (tok = apr_strtok(args, "&;", &last); tok;
         tok = apr_strtok(NULL, "&;", &last)) {
        if (!strncmp(tok, key, klen) && tok[klen] == '=') {
            char *v = tok + klen + 1;
            ap_unescape_url(v);
            return v;
        }
        if (!strcmp(tok, key)) {
            return "";
        }
    }
    return NULL;
}

static int send_json(request_rec *r, int status, json_t *j)
{
    char *text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

    r->status = status;
    ap_set_content_type(r, "application/json");
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    if (text) {
        if (!r->header_only) {
            ap_rputs(text, r);
            ap_rputs("\n", r);
        }
        free(text);
    }
    return OK;
}

int acme_status_handler(request_rec *r)
{
    const char *name, *format;
    json_t *all, *out;

    if (!r->handler || strcmp(r->handler, ACME_STATUS_HANDLER)) {
        return DECLINED;
    }
    r->allowed |= (AP_METHOD_BIT << M_GET);
    if (r->method_number != M_GET) {
        return HTTP_METHOD_NOT_ALLOWED;
    }
    name = request_name(r);
    format = query_arg(r, "format");
    if (!name) {
        return HTTP_NOT_FOUND;
    }
    all = status_all(r->pool, NULL);
    if (!all) {
        all = json_pack("{s:[], s:s}", "certificates", "generated",
                        acme_iso_time(r->pool, apr_time_now()));
    }
    if (*name) {
        json_t *list = json_object_get(all, "certificates"), *one = NULL;
        size_t i;
        for (i = 0; i < json_array_size(list); i++) {
            json_t *c = json_array_get(list, i);
            if (!strcmp(json_string_value(json_object_get(c, "name")),
                        name)) {
                one = c;
                break;
            }
        }
        if (!one) {
            json_t *e = json_pack("{s:s, s:s}", "error",
                                  "no such certificate", "name", name);
            json_decref(all);
            if (format && !strcmp(format, "prometheus")) {
                return HTTP_NOT_FOUND;
            }
            send_json(r, HTTP_NOT_FOUND, e);
            json_decref(e);
            return OK;
        }
        if (format && !strcmp(format, "prometheus")) {
            json_t *sub = json_object();
            json_object_set_new(sub, "certificates", json_pack("[O]", one));
            json_decref(all);
            all = sub;
        }
        else {
            out = json_incref(one);
            json_decref(all);
            send_json(r, HTTP_OK, out);
            json_decref(out);
            return OK;
        }
    }
    if (format && !strcmp(format, "prometheus")) {
        ap_set_content_type(r, "text/plain; version=0.0.4; charset=utf-8");
        apr_table_setn(r->headers_out, "Cache-Control", "no-store");
        if (!r->header_only) {
            ap_rputs(acme_status_prometheus(all, r->pool), r);
        }
        json_decref(all);
        return OK;
    }
    if (format && *format && strcmp(format, "json")) {
        json_decref(all);
        return HTTP_BAD_REQUEST;
    }
    send_json(r, HTTP_OK, all);
    json_decref(all);
    return OK;
}

/* --- mod_status --- */

static const char *jstr(json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));
    return v ? v : "";
}

static int status_hook(request_rec *r, int flags)
{
    json_t *all, *list;
    size_t i, valid = 0;

    if (!acme_rt) {
        return OK;
    }
    all = status_all(r->pool, NULL);
    if (!all) {
        return OK;
    }
    list = json_object_get(all, "certificates");
    for (i = 0; i < json_array_size(list); i++) {
        const char *st = jstr(json_array_get(list, i), "state");
        valid += !strcmp(st, "valid") || !strcmp(st, "renewing")
                 || !strcmp(st, "error");
    }
    if (flags & AP_STATUS_SHORT) {
        ap_rprintf(r, "ACMECertificatesTotal: %" APR_SIZE_T_FMT "\n",
                   json_array_size(list));
        ap_rprintf(r, "ACMECertificatesValid: %" APR_SIZE_T_FMT "\n", valid);
        for (i = 0; i < json_array_size(list); i++) {
            json_t *c = json_array_get(list, i);
            ap_rprintf(r, "ACMECertificate_%s: state=%s not_after=%s "
                       "next_renewal=%s failures=%d\n", jstr(c, "name"),
                       jstr(c, "state"), *jstr(c, "not_after")
                       ? jstr(c, "not_after") : "-",
                       *jstr(c, "next_renewal") ? jstr(c, "next_renewal")
                       : "-", (int)json_integer_value(
                           json_object_get(c, "failures")));
        }
    }
    else {
        ap_rputs("<hr />\n<h2>ACME certificates (mod_acme)</h2>\n", r);
        ap_rprintf(r, "<p>%" APR_SIZE_T_FMT " managed, %" APR_SIZE_T_FMT
                   " with a valid certificate</p>\n", json_array_size(list),
                   valid);
        if (json_array_size(list)) {
            ap_rputs("<table border=\"1\"><tr><th>Name</th><th>Domains</th>"
                     "<th>State</th><th>Valid until</th>"
                     "<th>Next renewal</th><th>Failures</th>"
                     "<th>Last error</th></tr>\n", r);
        }
        for (i = 0; i < json_array_size(list); i++) {
            json_t *c = json_array_get(list, i), *doms;
            const char *d = "";
            size_t j;
            doms = json_object_get(c, "domains");
            for (j = 0; j < json_array_size(doms); j++) {
                d = apr_pstrcat(r->pool, d, j ? " " : "", json_string_value(
                                json_array_get(doms, j)), NULL);
            }
            ap_rprintf(r, "<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td>"
                       "<td>%s (%s)</td><td>%d</td><td>%s</td></tr>\n",
                       ap_escape_html(r->pool, jstr(c, "name")),
                       ap_escape_html(r->pool, d),
                       ap_escape_html(r->pool, jstr(c, "state")),
                       ap_escape_html(r->pool, jstr(c, "not_after")),
                       ap_escape_html(r->pool, jstr(c, "next_renewal")),
                       ap_escape_html(r->pool, jstr(c, "next_renewal_reason")),
                       (int)json_integer_value(json_object_get(c,
                                                               "failures")),
                       ap_escape_html(r->pool, jstr(c, "last_error")));
        }
        if (json_array_size(list)) {
            ap_rputs("</table>\n", r);
        }
    }
    json_decref(all);
    return OK;
}

void acme_status_register_hooks(apr_pool_t *p)
{
    APR_OPTIONAL_HOOK(ap, status_hook, status_hook, NULL, NULL,
                      APR_HOOK_MIDDLE);
}
