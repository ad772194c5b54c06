/* acmectl: answering challenges: --standalone, --webroot, --manual. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <apr_file_io.h>
#include <apr_hash.h>

#include "acmectl_solvers.h"
#include "acme_challenges.h"
#include "acme_dns.h"
#include "acme_hook.h"
#include "acme_standalone.h"
#include "acme_util.h"

#define CHALLENGE_DIR ".well-known/acme-challenge"

typedef struct {
    acmectl_t *ctl;
    apr_array_header_t *dns_names;  /* dns-01 answers set up */
    apr_array_header_t *dns_values;
    acme_standalone_t *server;
    apr_table_t *auth_output;   /* token or name -> auth hook stdout */
    apr_hash_t *auth_env;       /* token -> the auth hook's environment */
} solver_ctx_t;

/* --- standalone --- */

static apr_status_t standalone_setup(acme_solver_t *s, apr_pool_t *p,
                                     const acme_authz_t *a,
                                     const acme_challenge_t *ch,
                                     int remaining, const char *all,
                                     acme_err_t *err)
{
    solver_ctx_t *ctx = s->baton;

    if (!ctx->server) {
        apr_status_t rv = acme_standalone_start(&ctx->server, ctx->ctl->pool,
                                                ctx->ctl->http01_port, err);
        if (rv != APR_SUCCESS) {
            return rv;
        }
    }
    acme_standalone_set(ctx->server, ch->token, ch->keyauthz);
    return APR_SUCCESS;
}

static void standalone_cleanup(acme_solver_t *s, apr_pool_t *p,
                               const acme_authz_t *a,
                               const acme_challenge_t *ch)
{
    solver_ctx_t *ctx = s->baton;

    if (ctx->server) {
        acme_standalone_unset(ctx->server, ch->token);
    }
}

/* --- webroot --- */

static const char *webroot_for(acmectl_t *ctl, const acme_authz_t *a)
{
    const char *dir = apr_table_get(ctl->webroot_map, a->id_value);

    if (!dir && a->wildcard) {
        dir = apr_table_get(ctl->webroot_map,
                            apr_pstrcat(ctl->pool, "*.", a->id_value, NULL));
    }
    return dir;
}

static apr_status_t webroot_setup(acme_solver_t *s, apr_pool_t *p,
                                  const acme_authz_t *a,
                                  const acme_challenge_t *ch, int remaining,
                                  const char *all, acme_err_t *err)
{
    solver_ctx_t *ctx = s->baton;
    const char *root, *dir;
    apr_finfo_t fi;
    apr_status_t rv;
    char buf[256];

    root = webroot_for(ctx->ctl, a);
    if (!root) {
        return acme_err_set(err, p, ACME_EINVAL, "no webroot for %s: give "
                            "-w DIR before its -d", a->id_value);
    }
    dir = apr_pstrcat(p, root, "/" CHALLENGE_DIR, NULL);
    if (apr_stat(&fi, dir, APR_FINFO_TYPE, p) != APR_SUCCESS) {
        /* 0755: the web server's user must be able to read the answers */
        rv = apr_dir_make_recursive(dir, 0x0755, p);
        if (rv != APR_SUCCESS) {
            return acme_err_set(err, p, rv, "cannot create %s: %s", dir,
                                apr_strerror(rv, buf, sizeof(buf)));
        }
    }
    return acme_challenges_write_http01(p, dir, ch->token, ch->keyauthz,
                                        err);
}

static void webroot_cleanup(acme_solver_t *s, apr_pool_t *p,
                            const acme_authz_t *a, const acme_challenge_t *ch)
{
    solver_ctx_t *ctx = s->baton;
    const char *root = webroot_for(ctx->ctl, a);

    if (root) {
        acme_challenges_remove(p, apr_pstrcat(p, root, "/" CHALLENGE_DIR,
                                              NULL), ch, a->id_value);
    }
}

/* --- manual --- */

static apr_table_t *manual_env(apr_pool_t *p, const acme_authz_t *a,
                               const acme_challenge_t *ch, int remaining,
                               const char *all)
{
    apr_table_t *env = apr_table_make(p, 6);

    apr_table_set(env, "CERTBOT_DOMAIN", a->id_value);
    apr_table_set(env, "CERTBOT_VALIDATION",
                  !strcmp(ch->type, "dns-01") ? ch->dns_value : ch->keyauthz);
    if (strcmp(ch->type, "dns-01")) {
        apr_table_set(env, "CERTBOT_TOKEN", ch->token);
    }
    apr_table_set(env, "CERTBOT_REMAINING_CHALLENGES",
                  apr_itoa(p, remaining));
    apr_table_set(env, "CERTBOT_ALL_DOMAINS", all);
    return env;
}

static apr_status_t manual_setup(acme_solver_t *s, apr_pool_t *p,
                                 const acme_authz_t *a,
                                 const acme_challenge_t *ch, int remaining,
                                 const char *all, acme_err_t *err)
{
    solver_ctx_t *ctx = s->baton;
    acmectl_t *ctl = ctx->ctl;
    acme_hook_result_t *res = NULL;
    apr_table_t *env;
    apr_status_t rv;

    if (!ctl->manual_auth_hook) {
        char line[16];
        if (!strcmp(ch->type, "dns-01")) {
            printf("Please deploy a DNS TXT record under the name:\n\n"
                   "_acme-challenge.%s.\n\nwith the following value:\n\n"
                   "%s\n\n", a->id_value, ch->dns_value);
        }
        else {
            printf("Create a file containing just this data:\n\n%s\n\n"
                   "And make it available on your web server at this URL:"
                   "\n\nhttp://%s/" CHALLENGE_DIR "/%s\n\n", ch->keyauthz,
                   a->id_value, ch->token);
        }
        printf("Press Enter to Continue");
        fflush(stdout);
        if (!fgets(line, sizeof(line), stdin)) {
            return acme_err_set(err, p, ACME_EINVAL, "no answer on standard "
                                "input");
        }
        return APR_SUCCESS;
    }
    env = manual_env(ctl->pool, a, ch, remaining, all);
    /* the cleanup hook gets the same environment, as with Certbot */
    apr_hash_set(ctx->auth_env, apr_pstrdup(ctl->pool, ch->token),
                 APR_HASH_KEY_STRING, env);
    rv = acme_hook_run(&res, p, "manual auth hook", ctl->manual_auth_hook,
                       NULL, env, ctl->hook_timeout, err);
    apr_table_set(ctx->auth_output, ch->token, res ? res->out : "");
    if (rv == APR_SUCCESS && !strcmp(ch->type, "dns-01")) {
        APR_ARRAY_PUSH(ctx->dns_names, const char *) =
            apr_pstrdup(ctl->pool, a->id_value);
        APR_ARRAY_PUSH(ctx->dns_values, const char *) =
            apr_pstrdup(ctl->pool, ch->dns_value);
    }
    return rv;
}

/* With --dns-resolver, waits until the dns-01 records are visible. */
static apr_status_t manual_ready(acme_solver_t *s, apr_pool_t *p,
                                 acme_err_t *err)
{
    solver_ctx_t *ctx = s->baton;

    if (!ctx->ctl->dns_resolver || !ctx->dns_names->nelts) {
        return APR_SUCCESS;
    }
    return acme_dns_wait(ctx->dns_names, ctx->dns_values,
                         ctx->ctl->dns_resolver, ctx->ctl->dns_timeout, p,
                         err);
}

static void manual_cleanup(acme_solver_t *s, apr_pool_t *p,
                           const acme_authz_t *a, const acme_challenge_t *ch)
{
    solver_ctx_t *ctx = s->baton;
    acmectl_t *ctl = ctx->ctl;
    apr_table_t *env;
    acme_err_t err;

    if (!ctl->manual_cleanup_hook) {
        return;
    }
    env = apr_hash_get(ctx->auth_env, ch->token, APR_HASH_KEY_STRING);
    env = env ? apr_table_copy(p, env) : manual_env(p, a, ch, 0, a->id_value);
    apr_table_set(env, "CERTBOT_AUTH_OUTPUT",
                  apr_table_get(ctx->auth_output, ch->token)
                  ? apr_table_get(ctx->auth_output, ch->token) : "");
    if (acme_hook_run(NULL, p, "manual cleanup hook",
                      ctl->manual_cleanup_hook, NULL, env, ctl->hook_timeout,
                      &err) != APR_SUCCESS) {
        /* A failed cleanup does not undo the order; say so and go on. */
        if (!ctl->quiet) {
            printf("Warning: %s\n", err.msg);
        }
    }
}

apr_status_t acmectl_solver_make(acme_solver_t **psolver, acmectl_t *ctl,
                                 acme_err_t *err)
{
    apr_pool_t *p = ctl->pool;
    acme_solver_t *s;
    solver_ctx_t *ctx;
    apr_array_header_t *types;
    int manual;
    int i;

    if (!ctl->authenticator) {
        return acme_err_set(err, p, ACME_EINVAL, "choose how to answer the "
                            "challenges: --standalone, --webroot -w DIR or "
                            "--manual");
    }
    manual = !strcmp(ctl->authenticator, "manual");
    types = apr_array_make(p, 2, sizeof(const char *));
    for (i = 0; i < ctl->pref_challs->nelts; i++) {
        const char *t = APR_ARRAY_IDX(ctl->pref_challs, i, const char *);
        if (!strcmp(t, "http-01") || (manual && !strcmp(t, "dns-01"))) {
            APR_ARRAY_PUSH(types, const char *) = t;
        }
    }
    if (!ctl->pref_challs->nelts) {
        APR_ARRAY_PUSH(types, const char *) = "http-01";
    }
    if (!types->nelts) {
        return acme_err_set(err, p, ACME_EINVAL, "--%s cannot answer %s; it "
                            "answers http-01%s", ctl->authenticator,
                            acme_array_join(p, ctl->pref_challs, ", "),
                            manual ? " and dns-01" : "");
    }
    if (manual && !ctl->manual_auth_hook
        && (ctl->non_interactive || !isatty(0))) {
        return acme_err_set(err, p, ACME_EINVAL, "--manual without a "
                            "terminal needs --manual-auth-hook");
    }
    if (!strcmp(ctl->authenticator, "webroot")) {
        if (!ctl->webroots->nelts) {
            return acme_err_set(err, p, ACME_EINVAL, "--webroot needs -w DIR");
        }
        for (i = 0; i < ctl->webroots->nelts; i++) {
            const char *w = APR_ARRAY_IDX(ctl->webroots, i, const char *);
            apr_finfo_t fi;
            if (apr_stat(&fi, w, APR_FINFO_TYPE, p) != APR_SUCCESS
                || fi.filetype != APR_DIR) {
                return acme_err_set(err, p, ACME_EINVAL, "webroot %s is not "
                                    "a directory", w);
            }
        }
    }
    ctx = apr_pcalloc(p, sizeof(*ctx));
    ctx->ctl = ctl;
    ctx->auth_output = apr_table_make(p, 4);
    ctx->auth_env = apr_hash_make(p);
    ctx->dns_names = apr_array_make(p, 2, sizeof(const char *));
    ctx->dns_values = apr_array_make(p, 2, sizeof(const char *));
    s = apr_pcalloc(p, sizeof(*s));
    s->types = types;
    s->baton = ctx;
    if (!strcmp(ctl->authenticator, "standalone")) {
        s->setup = standalone_setup;
        s->cleanup = standalone_cleanup;
    }
    else if (!strcmp(ctl->authenticator, "webroot")) {
        s->setup = webroot_setup;
        s->cleanup = webroot_cleanup;
    }
    else {
        s->setup = manual_setup;
        s->ready = manual_ready;
        s->cleanup = manual_cleanup;
    }
    *psolver = s;
    return APR_SUCCESS;
}
