/* mod_acme: the unprivileged worker and its messages. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_file_io.h>

#include "acme_worker.h"
#include "acme_account.h"
#include "acme_ari.h"
#include "acme_problem.h"
#include "acme_challenges.h"
#include "acme_worker_ask.h"
#include "acme_dns.h"
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

/* The string members of a message, by JSON key: one table per message
 * type serves both its format and its parse. */
typedef struct {
    const char *key;
    size_t off;
} str_member_t;

#define REQ_STR(k, m) { k, offsetof(acme_worker_req_t, m) }
static const str_member_t req_strs[] = {
    REQ_STR("type", type), REQ_STR("name", name),
    REQ_STR("directory", directory), REQ_STR("ca_file", ca_file),
    REQ_STR("account_key", account_key_pem),
    REQ_STR("account_url", account_url), REQ_STR("eab_kid", eab_kid),
    REQ_STR("eab_hmac", eab_hmac), REQ_STR("csr", csr_b64url),
    REQ_STR("challenge_dir", challenge_dir),
    REQ_STR("dns_resolver", dns_resolver), REQ_STR("profile", profile),
    REQ_STR("preferred_chain", preferred_chain),
    REQ_STR("replaces", replaces), { NULL, 0 }
};

#define RES_STR(k, m) { k, offsetof(acme_worker_res_t, a.m) }
static const str_member_t res_strs[] = {
    RES_STR("chain", chain_pem), RES_STR("account_url", account_url),
    RES_STR("registration", registration),
    RES_STR("challenge_types", challenge_types), RES_STR("error", error),
    RES_STR("problem_type", problem_type),
    RES_STR("failed_name", failed_name),
    RES_STR("chain_issuer", chain_issuer),
    RES_STR("forgotten_account", forgotten_account),
    RES_STR("replaces_refused", replaces_refused), { NULL, 0 }
};

/* Sets o's keys from the members of msg that are not NULL. */
static void put_strs(json_t *o, const void *msg, const str_member_t *m)
{
    for (; m->key; m++) {
        const char *v = *(const char *const *)((const char *)msg + m->off);
        if (v) {
            json_object_set_new(o, m->key, json_string(v));
        }
    }
}

/* Sets the members of msg from o's keys (NULL when absent). */
static void get_strs(apr_pool_t *p, json_t *o, void *msg,
                     const str_member_t *m)
{
    for (; m->key; m++) {
        *(const char **)((char *)msg + m->off) = acme_json_str(p, o, m->key);
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

    put_strs(o, req, req_strs);
    json_object_set_new(o, "contacts", str_array(req->contacts));
    json_object_set_new(o, "agree_tos", json_boolean(req->agree_tos));
    json_object_set_new(o, "names", str_array(req->names));
    json_object_set_new(o, "challenges", str_array(req->challenges));
    json_object_set_new(o, "dns_hook", json_boolean(req->dns_hook));
    json_object_set_new(o, "dns_timeout", json_integer(req->dns_timeout));
    if (req->cert_ids) {
        json_object_set_new(o, "cert_ids", str_array(req->cert_ids));
    }
    return dump(p, o);
}

const char *acme_worker_res_format(apr_pool_t *p, const acme_worker_res_t *res)
{
    json_t *o = json_object();

    json_object_set_new(o, "ok", json_boolean(res->a.ok));
    put_strs(o, res, res_strs);
    if (res->windows) {
        json_t *w = json_loads(res->windows, 0, NULL);
        json_object_set_new(o, "ari", json_boolean(res->ari));
        if (w) {
            json_object_set_new(o, "windows", w);
        }
    }
    if (res->a.retry_after > 0) {
        /* seconds */
        json_object_set_new(o, "retry_after", json_integer(
                                apr_time_sec(res->a.retry_after)));
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

/* What a request of its type must carry, or NULL when it does. */
static const char *req_lacks(const acme_worker_req_t *req)
{
    if (req->type && !strcmp(req->type, "ari")) {
        return req->directory ? NULL : "worker ARI request lacks the "
                                       "directory";
    }
    if (req->type && !strcmp(req->type, "account")) {
        return req->directory && req->account_key_pem ? NULL
            : "worker account request lacks directory or account_key";
    }
    if (!req->directory || !req->account_key_pem || !req->names->nelts
        || !req->csr_b64url || !req->challenges->nelts
        || !req->challenge_dir) {
        return "worker request lacks directory, account_key, names, csr, "
               "challenges or challenge_dir";
    }
    return NULL;
}

apr_status_t acme_worker_req_parse(acme_worker_req_t **preq, apr_pool_t *p,
                                   const char *text, apr_size_t len,
                                   acme_err_t *err)
{
    acme_worker_req_t *req;
    const char *lacks;
    json_t *o = NULL;
    apr_status_t rv;

    rv = load_obj(&o, p, "request", text, len, err);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    req = apr_pcalloc(p, sizeof(*req));
    get_strs(p, o, req, req_strs);
    req->contacts = from_str_array(p, json_object_get(o, "contacts"));
    req->agree_tos = json_is_true(json_object_get(o, "agree_tos"));
    req->names = from_str_array(p, json_object_get(o, "names"));
    req->challenges = from_str_array(p, json_object_get(o, "challenges"));
    req->dns_hook = json_is_true(json_object_get(o, "dns_hook"));
    req->dns_timeout = (long)json_integer_value(json_object_get(o,
                                                                "dns_timeout"));
    req->cert_ids = from_str_array(p, json_object_get(o, "cert_ids"));
    json_decref(o);
    if ((lacks = req_lacks(req))) {
        return acme_err_set(err, p, ACME_EPROTO, "%s", lacks);
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
    res->a.ok = json_is_true(json_object_get(o, "ok"));
    get_strs(p, o, res, res_strs);
    res->ari = json_is_true(json_object_get(o, "ari"));
    if (json_is_object(json_object_get(o, "windows"))) {
        char *w = json_dumps(json_object_get(o, "windows"), JSON_COMPACT);
        res->windows = apr_pstrdup(p, w ? w : "{}");
        free(w);
    }
    res->a.retry_after = apr_time_from_sec(json_integer_value(
                             json_object_get(o, "retry_after")));
    json_decref(o);
    if (res->a.ok && !res->a.chain_pem && !res->windows
        && !res->a.account_url) {
        return acme_err_set(err, p, ACME_EPROTO, "worker result is ok but "
                            "has no chain");
    }
    if (!res->a.ok && !res->a.error) {
        res->a.error = "the worker failed without saying why";
    }
    *pres = res;
    return APR_SUCCESS;
}

/* --- the worker's solver: answers in the challenge directory --- */

typedef struct {
    const acme_worker_req_t *req;
    apr_array_header_t *dns_names;   /* dns-01 set up: names, values */
    apr_array_header_t *dns_values;
} solver_ctx_t;

/* Asks the supervisor to run the dns-01 hook; waits for its answer. */
static apr_status_t ask_supervisor(apr_pool_t *p, const char *action,
                                   const acme_authz_t *a,
                                   const acme_challenge_t *ch, int remaining,
                                   const char *all, acme_err_t *err)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:i, s:s}", "type", "dns",
                          "action", action, "domain", a->id_value,
                          "value", ch->dns_value, "remaining", remaining,
                          "all", all ? all : a->id_value);
    apr_status_t rv = acme_worker_ask(NULL, p, "the dns-01 hook", o, err);

    json_decref(o);
    return rv;
}

/* The CA chooses the identifier we answer for; it must be one we asked for
 * before it goes near a file name. */
static int requested(const acme_worker_req_t *req, const acme_authz_t *a)
{
    const char *n = a->wildcard ? apr_pstrcat(req->names->pool, "*.",
                                              a->id_value, NULL) : a->id_value;

    return acme_array_contains(req->names, n)
        && !strchr(a->id_value, '/') && a->id_value[0] != '.';
}

static apr_status_t dir_setup(acme_solver_t *s, apr_pool_t *p,
                              const acme_authz_t *a,
                              const acme_challenge_t *ch, int remaining,
                              const char *all, acme_err_t *err)
{
    solver_ctx_t *ctx = s->baton;
    apr_status_t rv;

    if (!requested(ctx->req, a)) {
        return acme_err_set(err, p, ACME_EPROTO, "the CA asks to validate %s, "
                            "which was not requested", a->id_value);
    }
    if (!strcmp(ch->type, "dns-01")) {
        rv = ask_supervisor(p, "setup", a, ch, remaining, all, err);
        if (rv == APR_SUCCESS) {
            APR_ARRAY_PUSH(ctx->dns_names, const char *) =
                apr_pstrdup(ctx->dns_names->pool, a->id_value);
            APR_ARRAY_PUSH(ctx->dns_values, const char *) =
                apr_pstrdup(ctx->dns_values->pool, ch->dns_value);
        }
        return rv;
    }
    if (!strcmp(ch->type, "http-01") || !strcmp(ch->type, "tls-alpn-01")
        || !strcmp(ch->type, "tls-sni-01")) {
        return acme_challenges_answer(p, ctx->req->challenge_dir, ch,
                                      a->id_value, err);
    }
    return acme_err_set(err, p, ACME_EINVAL, "the worker cannot answer %s",
                        ch->type);
}

static apr_status_t dir_ready(acme_solver_t *s, apr_pool_t *p,
                              acme_err_t *err)
{
    solver_ctx_t *ctx = s->baton;

    if (!ctx->dns_names->nelts) {
        return APR_SUCCESS;
    }
    return acme_dns_wait(ctx->dns_names, ctx->dns_values,
                         ctx->req->dns_resolver,
                         apr_time_from_sec(ctx->req->dns_timeout > 0
                                           ? ctx->req->dns_timeout : 120),
                         p, err);
}

static void dir_cleanup(acme_solver_t *s, apr_pool_t *p,
                        const acme_authz_t *a, const acme_challenge_t *ch)
{
    solver_ctx_t *ctx = s->baton;
    acme_err_t err;

    if (!strcmp(ch->type, "dns-01")) {
        if (ask_supervisor(p, "cleanup", a, ch, 0, NULL, &err)
            != APR_SUCCESS) {
            acme_log(ACME_LOG_WARN, "dns-01 cleanup for %s: %s", a->id_value,
                     err.msg);
        }
        return;
    }
    acme_challenges_remove(p, ctx->req->challenge_dir, ch, a->id_value);
}

/* The allowed types the worker can answer, in the configured order. */
static apr_array_header_t *supported_types(apr_pool_t *p,
                                           const acme_worker_req_t *req)
{
    apr_array_header_t *out = apr_array_make(p, 2, sizeof(const char *));
    int i;

    for (i = 0; i < req->challenges->nelts; i++) {
        const char *t = APR_ARRAY_IDX(req->challenges, i, const char *);
        if (!strcmp(t, "http-01") || !strcmp(t, "tls-alpn-01")
            || !strcmp(t, "tls-sni-01")
            || (!strcmp(t, "dns-01") && req->dns_hook)) {
            APR_ARRAY_PUSH(out, const char *) = t;
        }
    }
    return out;
}

static void fail(acme_worker_res_t *res, apr_pool_t *p, const acme_err_t *err)
{
    res->a.ok = 0;
    res->a.error = err->msg ? err->msg : "unknown error";
    res->a.problem_type = err->problem_type;
    res->a.retry_after = err->retry_after;
}

struct acme_worker_session_t {
    apr_pool_t *cpool;               /* the client's; cleared to remake it */
    acme_client_t *client;
    const char *directory;
    const char *ca_file;
    const char *key_pem;             /* the account key client->account_key
                                        was parsed from */
};

acme_worker_session_t *acme_worker_session_make(apr_pool_t *p)
{
    acme_worker_session_t *s = apr_pcalloc(p, sizeof(*s));

    apr_pool_create(&s->cpool, p);
    return s;
}

static int same_str(const char *a, const char *b)
{
    return a == b || (a && b && !strcmp(a, b));
}

/* The session's client for req's CA, made (directory fetched) when there
 * is none yet or req names another CA. An error's text may live in the
 * session's pool: it is written out before the next request clears it. */
static apr_status_t session_client(acme_client_t **pc,
                                   acme_worker_session_t *s,
                                   const acme_worker_req_t *req,
                                   apr_pool_t *p, acme_err_t *err)
{
    acme_client_t *c = NULL;
    apr_status_t rv = APR_SUCCESS;

    if (s->client && same_str(s->directory, req->directory)
        && same_str(s->ca_file, req->ca_file)) {
        *pc = s->client;
        goto cleanup;
    }
    s->client = NULL;
    s->key_pem = NULL;
    apr_pool_clear(s->cpool);    /* closes the old connection */
    rv = acme_client_create(&c, s->cpool, req->directory, req->ca_file, err);
    if (rv == APR_SUCCESS) {
        rv = acme_client_load_directory(c, err);
    }
    if (rv != APR_SUCCESS) {
        goto cleanup;            /* err lives in cpool until next request */
    }
    s->client = c;
    s->directory = apr_pstrdup(s->cpool, req->directory);
    s->ca_file = req->ca_file ? apr_pstrdup(s->cpool, req->ca_file) : NULL;
    *pc = c;
cleanup:
    return rv;
}

/* Sets the request's account key (parsed once per key) and URL. */
static apr_status_t session_account(acme_worker_session_t *s,
                                    acme_client_t *c,
                                    const acme_worker_req_t *req,
                                    apr_pool_t *p, acme_err_t *err)
{
    acme_key_t *key = c->account_key;
    apr_status_t rv = APR_SUCCESS;

    if (!key || !same_str(s->key_pem, req->account_key_pem)) {
        rv = acme_key_from_pem(&key, s->cpool, req->account_key_pem,
                               strlen(req->account_key_pem), err);
        if (rv != APR_SUCCESS) {
            goto cleanup;
        }
        s->key_pem = apr_pstrdup(s->cpool, req->account_key_pem);
    }
    if (key != c->account_key
        || !same_str(c->account_url, req->account_url)) {
        /* only on a change: a long-lived client must not grow per order */
        acme_client_set_account(c, key, req->account_url);
    }
cleanup:
    return rv;
}

/* The worker's ARI job: renewalInfo for each CertID (unauthenticated
 * GETs; no account involved). */
static void worker_ari(acme_worker_res_t *res, const acme_worker_req_t *req,
                       acme_worker_session_t *sess, apr_pool_t *p)
{
    acme_client_t *c;
    acme_err_t err;
    json_t *out;
    char *text;
    int i;

    if (session_client(&c, sess, req, p, &err) != APR_SUCCESS) {
        fail(res, p, &err);
        return;
    }
    out = json_object();
    res->ari = c->url_renewal_info != NULL;
    for (i = 0; res->ari && i < req->cert_ids->nelts; i++) {
        const char *id = APR_ARRAY_IDX(req->cert_ids, i, const char *);
        acme_ari_window_t w;
        if (!acme_is_b64url(apr_pstrndup(p, id, strcspn(id, ".")), 512)) {
            continue;
        }
        if (acme_ari_fetch(&w, c, p, id, &err) != APR_SUCCESS) {
            json_object_set_new(out, id, json_pack("{s:s}", "error",
                                                   err.msg ? err.msg : "?"));
            continue;
        }
        json_object_set_new(out, id, json_pack("{s:s, s:s, s:I, s:s?}",
            "start", acme_ari_format_time(p, w.start),
            "end", acme_ari_format_time(p, w.end),
            "retry_after", (json_int_t)apr_time_sec(w.retry_after),
            "explanation", w.explanation_url));
    }
    text = json_dumps(out, JSON_COMPACT);
    res->windows = apr_pstrdup(p, text ? text : "{}");
    free(text);
    json_decref(out);
    res->a.ok = 1;
}

/* Registers (or finds) the request's account: the "account" job. */
static void worker_account(acme_worker_res_t *res, acme_client_t *c,
                           const acme_account_req_t *areq, apr_pool_t *p)
{
    acme_err_t err;

    if (acme_attempt_register(&res->a, c, areq, p, &err) != APR_SUCCESS) {
        fail(res, p, &err);
        return;
    }
    res->a.ok = 1;
}

/* The worker's order job: one attempt (acme_attempt_run) through the
 * challenge directory's solver. */
static void worker_order(acme_worker_res_t *res, acme_client_t *c,
                         const acme_worker_req_t *req,
                         const acme_account_req_t *areq, apr_pool_t *p)
{
    acme_issue_req_t ireq;
    acme_solver_t solver;
    solver_ctx_t ctx;
    unsigned char *csr;
    apr_size_t csr_len;

    if (acme_b64url_decode(&csr, &csr_len, p, req->csr_b64url)
        != APR_SUCCESS) {
        res->a.error = "the CSR in the request is not base64url";
        return;
    }
    memset(&ctx, 0, sizeof(ctx));
    ctx.req = req;
    ctx.dns_names = apr_array_make(p, 2, sizeof(const char *));
    ctx.dns_values = apr_array_make(p, 2, sizeof(const char *));
    memset(&solver, 0, sizeof(solver));
    solver.types = supported_types(p, req);
    solver.setup = dir_setup;
    solver.ready = dir_ready;
    solver.cleanup = dir_cleanup;
    solver.baton = &ctx;
    if (!solver.types->nelts) {
        res->a.error = apr_psprintf(p, "none of the allowed challenge types "
                                  "(%s) can be answered here%s",
                                  acme_array_join(p, req->challenges, ", "),
                                  acme_array_contains(req->challenges,
                                                      "dns-01")
                                  ? " (dns-01 needs ACMEDNSHook)" : "");
        return;
    }
    memset(&ireq, 0, sizeof(ireq));
    ireq.names = req->names;
    ireq.csr_der = csr;
    ireq.csr_len = csr_len;
    ireq.profile = req->profile;
    ireq.preferred_chain = req->preferred_chain;
    ireq.replaces = req->replaces;
    /* the preferred type first; when it fails for a name, a new order
     * with the next allowed type, in the same pass */
    acme_attempt_run(&res->a, c, &ireq, &solver, areq, 1, p);
}

void acme_worker_run(acme_worker_res_t *res, const acme_worker_req_t *req,
                     acme_worker_session_t *sess, apr_pool_t *p)
{
    acme_account_req_t areq;
    acme_client_t *c;
    acme_err_t err;

    memset(res, 0, sizeof(*res));
    acme_err_clear(&err);
    if (req->type && !strcmp(req->type, "ari")) {
        worker_ari(res, req, sess, p);
        return;
    }
    if (session_client(&c, sess, req, p, &err) != APR_SUCCESS
        || session_account(sess, c, req, p, &err) != APR_SUCCESS) {
        fail(res, p, &err);
        return;
    }
    memset(&areq, 0, sizeof(areq));
    areq.contacts = req->contacts;
    areq.agree_tos = req->agree_tos;
    areq.eab_kid = req->eab_kid;
    areq.eab_hmac = req->eab_hmac;
    if (req->type && !strcmp(req->type, "account")) {
        worker_account(res, c, &areq, p);
    }
    else {
        worker_order(res, c, req, &areq, p);
    }
}
