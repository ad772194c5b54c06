/* mod_acme: ACME problem documents (RFC 8555 §6.7, RFC 7807). */
#include <string.h>

#include "acme_problem.h"

static const char *short_type(const char *type)
{
    apr_size_t n = strlen(ACME_PROBLEM_NS);

    if (!type) {
        return "error";
    }
    return strncmp(type, ACME_PROBLEM_NS, n) ? type : type + n;
}

const char *acme_problem_format(apr_pool_t *p, json_t *problem)
{
    const char *type, *detail, *out;
    json_t *subs, *sub;
    size_t i;

    type = json_string_value(json_object_get(problem, "type"));
    detail = json_string_value(json_object_get(problem, "detail"));
    out = apr_psprintf(p, "%s: %s", short_type(type),
                       detail && *detail ? detail : "(no detail given)");
    subs = json_object_get(problem, "subproblems");
    if (json_is_array(subs)) {
        json_array_foreach(subs, i, sub) {
            const char *ident = json_string_value(json_object_get(
                json_object_get(sub, "identifier"), "value"));
            const char *st = json_string_value(json_object_get(sub, "type"));
            const char *sd = json_string_value(json_object_get(sub, "detail"));
            out = apr_psprintf(p, "%s (%s%s%s: %s)", out,
                               ident ? ident : "", ident ? ": " : "",
                               short_type(st), sd ? sd : "");
        }
    }
    return out;
}

apr_status_t acme_problem_to_err(acme_err_t *err, apr_pool_t *p, int status,
                                 const char *body, apr_size_t len,
                                 apr_interval_time_t retry_after)
{
    json_t *json = NULL;
    json_error_t jerr;
    apr_status_t rv;

    if (body && len) {
        json = json_loadb(body, len, 0, &jerr);
    }
    if (json_is_object(json) && (json_object_get(json, "type")
                                 || json_object_get(json, "detail"))) {
        rv = acme_err_set(err, p, ACME_EPROBLEM, "%s",
                          acme_problem_format(p, json));
        if (err) {
            const char *type = json_string_value(json_object_get(json, "type"));
            err->problem_type = type ? apr_pstrdup(p, type) : NULL;
        }
    }
    else {
        apr_size_t show = len > 200 ? 200 : len;
        char *snippet = apr_pstrmemdup(p, body ? body : "", show);
        char *c;
        for (c = snippet; *c; c++) {
            if (*c == '\n' || *c == '\r' || *c == '\t') *c = ' ';
        }
        rv = acme_err_set(err, p, ACME_EPROTO, "HTTP %d%s%s", status,
                          show ? ": " : "", snippet);
    }
    if (err) {
        err->retry_after = retry_after;
    }
    if (json) {
        json_decref(json);
    }
    return rv;
}

int acme_problem_is(const acme_err_t *err, const char *short_t)
{
    return err && err->problem_type
        && !strcmp(short_type(err->problem_type), short_t);
}
