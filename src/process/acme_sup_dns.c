/* mod_acme: the supervisor's side of dns-01: the worker asks, the
 * supervisor (root) runs the lineage's hook and answers. */
#include <stdlib.h>
#include <string.h>

#include "acme_sup_int.h"
#include "acme_hook.h"
#include "acme_names.h"
#include "acme_util.h"

const char *acme_sup_dns_answer(const acme_md_t *md, apr_table_t *hook_output,
                                json_t *msg, apr_pool_t *p)
{
    const char *action = json_string_value(json_object_get(msg, "action"));
    const char *domain = json_string_value(json_object_get(msg, "domain"));
    const char *value = json_string_value(json_object_get(msg, "value"));
    const char *all = json_string_value(json_object_get(msg, "all"));
    apr_table_t *env = apr_table_make(p, 6);
    acme_hook_result_t *hres = NULL;
    const char *args[4], *key, *reply;
    json_t *o;
    char *text;
    acme_err_t err;
    apr_status_t rv;

    if (!action || !domain || !value || !md->dns_hook
        || (strcmp(action, "setup") && strcmp(action, "cleanup"))
        || !acme_is_b64url(value, 128)
        || acme_name_check(&domain, p, domain, NULL) != APR_SUCCESS) {
        rv = acme_err_set(&err, p, ACME_EPROTO, "malformed dns-01 "
                          "request from the worker");
        goto reply;
    }
    key = apr_pstrcat(p, domain, " ", value, NULL);
    apr_table_set(env, "CERTBOT_DOMAIN", domain);
    apr_table_set(env, "CERTBOT_VALIDATION", value);
    apr_table_set(env, "CERTBOT_REMAINING_CHALLENGES", apr_itoa(p,
                  (int)json_integer_value(json_object_get(msg, "remaining"))));
    apr_table_set(env, "CERTBOT_ALL_DOMAINS", all ? all : domain);
    if (!strcmp(action, "cleanup")) {
        /* the setup's environment, plus what setup printed (Certbot's
         * manual hooks behave so) */
        const char *out = apr_table_get(hook_output, key);
        const char *senv = apr_table_get(hook_output,
                                         apr_pstrcat(p, key, " env",
                                                     NULL));
        if (senv) {
            char *copy = apr_pstrdup(p, senv), *sep = strchr(copy, '\n');
            if (sep) {
                *sep = '\0';
                apr_table_set(env, "CERTBOT_REMAINING_CHALLENGES", copy);
                apr_table_set(env, "CERTBOT_ALL_DOMAINS", sep + 1);
            }
        }
        apr_table_set(env, "CERTBOT_AUTH_OUTPUT", out ? out : "");
    }
    args[0] = action;
    args[1] = domain;
    args[2] = value;
    args[3] = NULL;
    rv = acme_hook_run(&hres, p, "dns-01 hook", md->dns_hook, args,
                       env, md->hook_timeout > 0 ? md->hook_timeout
                       : apr_time_from_sec(120), &err);
    if (rv == APR_SUCCESS && !strcmp(action, "setup")) {
        apr_table_set(hook_output, key, hres->out);
        apr_table_set(hook_output, apr_pstrcat(p, key, " env",
                                                    NULL),
                      apr_pstrcat(p, apr_table_get(env,
                                  "CERTBOT_REMAINING_CHALLENGES"), "\n",
                                  apr_table_get(env, "CERTBOT_ALL_DOMAINS"),
                                  NULL));
    }
    acme_log(rv == APR_SUCCESS ? ACME_LOG_INFO : ACME_LOG_ERR,
             "%s: dns-01 hook %s %s: %s", md->name, action, domain,
             rv == APR_SUCCESS ? "done" : err.msg);
reply:
    o = rv == APR_SUCCESS ? json_pack("{s:b}", "ok", 1)
        : json_pack("{s:b, s:s}", "ok", 0, "error", err.msg);
    text = json_dumps(o, JSON_COMPACT);
    reply = apr_pstrdup(p, text);
    free(text);
    json_decref(o);
    return reply;
}
