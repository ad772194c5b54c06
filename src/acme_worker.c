/* mod_acme: the unprivileged worker and its messages. */
#include <stdlib.h>
#include <string.h>

#include <apr_file_io.h>

#include "acme_worker.h"
#include "acme_account.h"
#include "acme_issue.h"
#include "acme_util.h"

static json_t *str_array(const apr_array_header_t *a)
{
    json_t *arr = json_array();
    int i;

    for (i = 0; a && i < a->nelts; i++) {
        json_array_append_new(arr, json_string(APR_ARRAY_IDX(a, i,
                                                             const char *)));
    }
    return arr;
}

static apr_array_header_t *from_str_array(apr_pool_t *p, json_t *arr)
{
    apr_array_header_t *a = apr_array_make(p, 4, sizeof(const char *));
    json_t *v;
    size_t i;

    json_array_foreach(arr, i, v) {
        if (json_is_string(v)) {
            APR_ARRAY_PUSH(a, const char *) =
                apr_pstrdup(p, json_string_value(v));
        }
    }
    return a;
}

static void set_opt_str(json_t *o, const char *key, const char *v)
{
    if (v) {
        json_object_set_new(o, key, json_string(v));
    }
}

static const char *dump(apr_pool_t *p, json_t *o)
{
    char *s = json_dumps(o, JSON_COMPACT);
    const char *out = apr_pstrdup(p, s ? s : "{}");

    free(s);
    json_decref(o);
    return out;
}

const char *acme_worker_req_format(apr_pool_t *p, const acme_worker_req_t *req)
{
    json_t *o = json_object();

    set_opt_str(o, "name", req->name);
    set_opt_str(o, "directory", req->directory);
    set_opt_str(o, "ca_file", req->ca_file);
    set_opt_str(o, "account_key", req->account_key_pem);
    set_opt_str(o, "account_url", req->account_url);
    json_object_set_new(o, "contacts", str_array(req->contacts));
    json_object_set_new(o, "agree_tos", json_boolean(req->agree_tos));
    set_opt_str(o, "eab_kid", req->eab_kid);
    set_opt_str(o, "eab_hmac", req->eab_hmac);
    json_object_set_new(o, "names", str_array(req->names));
    set_opt_str(o, "csr", req->csr_b64url);
    json_object_set_new(o, "challenges", str_array(req->challenges));
    set_opt_str(o, "challenge_dir", req->challenge_dir);
    return dump(p, o);
}

const char *acme_worker_res_format(apr_pool_t *p, const acme_worker_res_t *res)
{
    json_t *o = json_object();

    json_object_set_new(o, "ok", json_boolean(res->ok));
    set_opt_str(o, "chain", res->chain_pem);
    set_opt_str(o, "account_url", res->account_url);
    set_opt_str(o, "registration", res->registration);
    set_opt_str(o, "challenge_types", res->challenge_types);
    set_opt_str(o, "error", res->error);
    set_opt_str(o, "problem_type", res->problem_type);
    if (res->retry_after > 0) {
        json_object_set_new(o, "retry_after", json_integer(res->retry_after));
    }
    return dump(p, o);
}

static apr_status_t load_obj(json_t **pjson, apr_pool_t *p, const char *what,
                             const char *text, apr_size_t len, acme_err_t *err)
{
    json_error_t jerr;
    json_t *o = json_loadb(text, len, 0, &jerr);

    if (!json_is_object(o)) {
        if (o) json_decref(o);
        return acme_err_set(err, p, ACME_EPROTO, "malformed worker %s: %s",
                            what, len ? jerr.text : "empty");
    }
    *pjson = o;
    return APR_SUCCESS;
}

apr_status_t acme_worker_req_parse(acme_worker_req_t **preq, apr_pool_t *p,
                                   const char *text, apr_size_t len,
                                   acme_err_t *err)
{
    acme_worker_req_t *req;
    json_t *o = NULL;
    apr_status_t rv;

    rv = load_obj(&o, p, "request", text, len, err);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    req = apr_pcalloc(p, sizeof(*req));
    req->name = acme_json_str(p, o, "name");
    req->directory = acme_json_str(p, o, "directory");
    req->ca_file = acme_json_str(p, o, "ca_file");
    req->account_key_pem = acme_json_str(p, o, "account_key");
    req->account_url = acme_json_str(p, o, "account_url");
    req->contacts = from_str_array(p, json_object_get(o, "contacts"));
    req->agree_tos = json_is_true(json_object_get(o, "agree_tos"));
    req->eab_kid = acme_json_str(p, o, "eab_kid");
    req->eab_hmac = acme_json_str(p, o, "eab_hmac");
    req->names = from_str_array(p, json_object_get(o, "names"));
    req->csr_b64url = acme_json_str(p, o, "csr");
    req->challenges = from_str_array(p, json_object_get(o, "challenges"));
    req->challenge_dir = acme_json_str(p, o, "challenge_dir");
    json_decref(o);
    if (!req->directory || !req->account_key_pem || !req->names->nelts
        || !req->csr_b64url || !req->challenges->nelts
        || !req->challenge_dir) {
        return acme_err_set(err, p, ACME_EPROTO, "worker request lacks "
                            "directory, account_key, names, csr, challenges "
                            "or challenge_dir");
    }
    *preq = req;
    return APR_SUCCESS;
}

apr_status_t acme_worker_res_parse(acme_worker_res_t **pres, apr_pool_t *p,
                                   const char *text, apr_size_t len,
                                   acme_err_t *err)
{
    acme_worker_res_t *res;
    json_t *o = NULL;
    apr_status_t rv;

    rv = load_obj(&o, p, "result", text, len, err);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    res = apr_pcalloc(p, sizeof(*res));
    res->ok = json_is_true(json_object_get(o, "ok"));
    res->chain_pem = acme_json_str(p, o, "chain");
    res->account_url = acme_json_str(p, o, "account_url");
    res->registration = acme_json_str(p, o, "registration");
    res->challenge_types = acme_json_str(p, o, "challenge_types");
    res->error = acme_json_str(p, o, "error");
    res->problem_type = acme_json_str(p, o, "problem_type");
    res->retry_after = (long)json_integer_value(json_object_get(o,
                                                                "retry_after"));
    json_decref(o);
    if (res->ok && !res->chain_pem) {
        return acme_err_set(err, p, ACME_EPROTO, "worker result is ok but "
                            "has no chain");
    }
    if (!res->ok && !res->error) {
        res->error = "the worker failed without saying why";
    }
    *pres = res;
    return APR_SUCCESS;
}

/* --- the worker's solver: answers in the challenge directory --- */

static apr_status_t dir_setup(acme_solver_t *s, apr_pool_t *p,
                              const acme_authz_t *a,
                              const acme_challenge_t *ch, int remaining,
                              const char *all, acme_err_t *err)
{
    const char *dir = s->baton;
    const char *path;
    apr_status_t rv;
    char buf[256];

    if (strcmp(ch->type, "http-01")) {
        return acme_err_set(err, p, ACME_EINVAL, "the worker cannot answer "
                            "%s", ch->type);
    }
    path = apr_pstrcat(p, dir, "/", ch->token, NULL);
    rv = acme_file_write_atomic(path, ch->keyauthz, strlen(ch->keyauthz),
                                APR_FPROT_UREAD | APR_FPROT_UWRITE
                                | APR_FPROT_GREAD | APR_FPROT_WREAD, p);
    if (rv != APR_SUCCESS) {
        return acme_err_set(err, p, rv, "cannot write the http-01 answer %s: "
                            "%s", path, apr_strerror(rv, buf, sizeof(buf)));
    }
    return APR_SUCCESS;
}

static void dir_cleanup(acme_solver_t *s, apr_pool_t *p,
                        const acme_authz_t *a, const acme_challenge_t *ch)
{
    const char *dir = s->baton;

    apr_file_remove(apr_pstrcat(p, dir, "/", ch->token, NULL), p);
}

/* The allowed types the worker can answer, in the configured order. */
static apr_array_header_t *supported_types(apr_pool_t *p,
                                           const apr_array_header_t *allowed)
{
    apr_array_header_t *out = apr_array_make(p, 2, sizeof(const char *));
    int i;

    for (i = 0; i < allowed->nelts; i++) {
        const char *t = APR_ARRAY_IDX(allowed, i, const char *);
        if (!strcmp(t, "http-01")) {
            APR_ARRAY_PUSH(out, const char *) = t;
        }
    }
    return out;
}

static void fail(acme_worker_res_t *res, apr_pool_t *p, const acme_err_t *err)
{
    res->ok = 0;
    res->error = err->msg ? err->msg : "unknown error";
    res->problem_type = err->problem_type;
    res->retry_after = (long)apr_time_sec(err->retry_after);
}

void acme_worker_run(acme_worker_res_t *res, const acme_worker_req_t *req,
                     apr_pool_t *p)
{
    acme_client_t *c;
    acme_key_t *key;
    acme_issue_req_t ireq;
    acme_issue_result_t *ires;
    acme_solver_t solver;
    unsigned char *csr;
    apr_size_t csr_len;
    acme_err_t err;
    json_t *reg = NULL;

    memset(res, 0, sizeof(*res));
    acme_err_clear(&err);
    if (acme_key_from_pem(&key, p, req->account_key_pem,
                          strlen(req->account_key_pem), &err) != APR_SUCCESS
        || acme_client_create(&c, p, req->directory, req->ca_file, &err)
           != APR_SUCCESS
        || acme_client_load_directory(c, &err) != APR_SUCCESS) {
        fail(res, p, &err);
        goto cleanup;
    }
    if (req->account_url) {
        acme_client_set_account(c, key, req->account_url);
    }
    else {
        acme_account_req_t areq;
        char *text;

        memset(&areq, 0, sizeof(areq));
        areq.contacts = req->contacts;
        areq.agree_tos = req->agree_tos;
        areq.eab_kid = req->eab_kid;
        areq.eab_hmac = req->eab_hmac;
        if (acme_account_register(&reg, c, p, key, &areq, &err)
            != APR_SUCCESS) {
            fail(res, p, &err);
            goto cleanup;
        }
        text = json_dumps(reg, JSON_COMPACT);
        res->registration = apr_pstrdup(p, text ? text : "{}");
        free(text);
    }
    res->account_url = c->account_url;
    if (acme_b64url_decode(&csr, &csr_len, p, req->csr_b64url)
        != APR_SUCCESS) {
        res->error = "the CSR in the request is not base64url";
        goto cleanup;
    }
    memset(&solver, 0, sizeof(solver));
    solver.types = supported_types(p, req->challenges);
    if (!solver.types->nelts) {
        res->error = apr_psprintf(p, "none of the allowed challenge types "
                                  "(%s) can be answered by the worker "
                                  "(http-01)", acme_array_join(p,
                                  req->challenges, ", "));
        goto cleanup;
    }
    solver.setup = dir_setup;
    solver.cleanup = dir_cleanup;
    solver.baton = (void *)req->challenge_dir;
    memset(&ireq, 0, sizeof(ireq));
    ireq.names = req->names;
    ireq.csr_der = csr;
    ireq.csr_len = csr_len;
    ireq.solver = &solver;
    if (acme_issue(&ires, c, p, &ireq, &err) != APR_SUCCESS) {
        fail(res, p, &err);
        goto cleanup;
    }
    res->ok = 1;
    res->chain_pem = ires->chain_pem;
    res->challenge_types = ires->challenge_types;
cleanup:
    if (reg) {
        json_decref(reg);
    }
}
