/* mod_acme: a lineage's state file, typed (one schema for every reader and
 * writer). */
#include <stdlib.h>
#include <string.h>

#include "acme_state.h"
#include "acme_ari.h"

#define CA_STATE "_ari"

acme_state_t *acme_state_make(apr_pool_t *p, const char *name)
{
    acme_state_t *st = apr_pcalloc(p, sizeof(*st));

    st->name = name ? apr_pstrdup(p, name) : NULL;
    st->names = apr_array_make(p, 2, sizeof(const char *));
    return st;
}

/* A string member copied into p, or NULL. */
static const char *get_str(apr_pool_t *p, json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));

    return v ? apr_pstrdup(p, v) : NULL;
}

static apr_int64_t get_int(json_t *o, const char *key)
{
    return (apr_int64_t)json_integer_value(json_object_get(o, key));
}

/* A time member: an RFC 3339 string (this schema, and acmectl's ARI
 * record before it) or integer seconds (the module's files before it). */
static apr_time_t get_time(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    apr_time_t t = 0;

    if (json_is_integer(v)) {
        return json_integer_value(v) > 0
            ? apr_time_from_sec(json_integer_value(v)) : 0;
    }
    if (json_is_string(v)
        && acme_ari_parse_time(&t, json_string_value(v)) != APR_SUCCESS) {
        t = 0;
    }
    return t;
}

static void set_str(json_t *o, const char *key, const char *v)
{
    if (v) {
        json_object_set_new(o, key, json_string(v));
    }
}

static void set_int(json_t *o, const char *key, apr_int64_t v)
{
    if (v) {
        json_object_set_new(o, key, json_integer((json_int_t)v));
    }
}

/* Top-level times: integer seconds. */
static void set_time(apr_pool_t *p, json_t *o, const char *key, apr_time_t t)
{
    if (t > 0) {
        json_object_set_new(o, key, json_integer((json_int_t)apr_time_sec(t)));
    }
}

/* The ARI window's times: RFC 3339, as the CA sends them. */
static void set_rfc3339(apr_pool_t *p, json_t *o, const char *key,
                        apr_time_t t)
{
    if (t > 0) {
        json_object_set_new(o, key, json_string(acme_ari_format_time(p, t)));
    }
}

static void ari_from_json(acme_state_ari_t *a, json_t *o, apr_pool_t *p)
{
    memset(a, 0, sizeof(*a));
    if (!json_is_object(o) || !json_is_string(json_object_get(o,
                                                              "cert_id"))) {
        return;
    }
    a->cert_id = get_str(p, o, "cert_id");
    a->serial = get_str(p, o, "serial");
    a->start = get_time(o, "start");
    a->end = get_time(o, "end");
    a->chosen = get_time(o, "chosen");
    a->next_fetch = get_time(o, "next_fetch");
    a->explanation = get_str(p, o, "explanation");
    a->ca = get_str(p, o, "ca");
}

static json_t *ari_to_json(const acme_state_ari_t *a, apr_pool_t *p)
{
    json_t *o = json_object();

    set_str(o, "cert_id", a->cert_id);
    set_str(o, "serial", a->serial);
    set_rfc3339(p, o, "start", a->start);
    set_rfc3339(p, o, "end", a->end);
    set_rfc3339(p, o, "chosen", a->chosen);
    set_rfc3339(p, o, "next_fetch", a->next_fetch);
    set_str(o, "explanation", a->explanation);
    set_str(o, "ca", a->ca);
    return o;
}

static void state_from_json(acme_state_t *st, json_t *o, apr_pool_t *p)
{
    json_t *names = json_object_get(o, "names");
    size_t i;

    for (i = 0; json_is_array(names) && i < json_array_size(names); i++) {
        const char *n = json_string_value(json_array_get(names, i));
        if (n) {
            APR_ARRAY_PUSH(st->names, const char *) = apr_pstrdup(p, n);
        }
    }
    st->status = get_str(p, o, "status");
    st->failures = (int)get_int(o, "failures");
    st->attempts = (int)get_int(o, "attempts");
    st->renewals = (int)get_int(o, "renewals");
    st->last_attempt = get_time(o, "last_attempt");
    st->last_success = get_time(o, "last_success");
    st->next_try = get_time(o, "next_try");
    st->last_error = get_str(p, o, "last_error");
    st->last_problem = get_str(p, o, "last_problem");
    st->retry_after = apr_time_from_sec(get_int(o, "retry_after"));
    st->last_hook_error = get_str(p, o, "last_hook_error");
    st->due_reason = get_str(p, o, "due_reason");
    st->challenge = get_str(p, o, "challenge");
    st->dropped_names = get_str(p, o, "dropped_names");
    st->cert_version = (int)get_int(o, "version");
    st->replaces = get_str(p, o, "replaces");
    st->ca = get_str(p, o, "ca");
    st->renew_requests = get_int(o, "renew_requests");
    st->renew_requests_done = get_int(o, "renew_requests_done");
    st->renew_requested = get_time(o, "renew_requested");
    st->revoked = get_time(o, "revoked");
    st->revocation_reason = (int)get_int(o, "revocation_reason");
    st->revoked_serial = get_str(p, o, "revoked_serial");
    ari_from_json(&st->ari, json_object_get(o, "ari"), p);
}

static json_t *state_to_json(const acme_state_t *st, apr_pool_t *p)
{
    json_t *o = json_object(), *names = json_array();
    int i;

    json_object_set_new(o, "schema", json_integer(ACME_STATE_SCHEMA));
    set_str(o, "name", st->name);
    for (i = 0; st->names && i < st->names->nelts; i++) {
        json_array_append_new(names, json_string(APR_ARRAY_IDX(st->names, i,
                                                               const char *)));
    }
    json_object_set_new(o, "names", names);
    set_str(o, "status", st->status);
    set_int(o, "failures", st->failures);
    set_int(o, "attempts", st->attempts);
    set_int(o, "renewals", st->renewals);
    set_time(p, o, "last_attempt", st->last_attempt);
    set_time(p, o, "last_success", st->last_success);
    set_time(p, o, "next_try", st->next_try);
    set_str(o, "last_error", st->last_error);
    set_str(o, "last_problem", st->last_problem);
    set_int(o, "retry_after", apr_time_sec(st->retry_after));
    set_str(o, "last_hook_error", st->last_hook_error);
    set_str(o, "due_reason", st->due_reason);
    set_str(o, "challenge", st->challenge);
    set_str(o, "dropped_names", st->dropped_names);
    set_int(o, "version", st->cert_version);
    set_str(o, "replaces", st->replaces);
    set_str(o, "ca", st->ca);
    set_int(o, "renew_requests", st->renew_requests);
    set_int(o, "renew_requests_done", st->renew_requests_done);
    set_time(p, o, "renew_requested", st->renew_requested);
    set_time(p, o, "revoked", st->revoked);
    set_int(o, "revocation_reason", st->revocation_reason);
    set_str(o, "revoked_serial", st->revoked_serial);
    if (st->ari.cert_id) {
        json_object_set_new(o, "ari", ari_to_json(&st->ari, p));
    }
    return o;
}

apr_status_t acme_state_load(acme_state_t **pst, const acme_store_t *store,
                             const char *name, apr_pool_t *p,
                             acme_err_t *err)
{
    acme_state_t *st = acme_state_make(p, name);
    json_t *o = NULL;
    apr_status_t rv;

    rv = acme_store_state_load(&o, store, name, p);
    if (rv != APR_SUCCESS) {
        rv = acme_err_set(err, p, rv, "the state file of %s is unreadable "
                          "(it is rewritten at the next attempt)", name);
        goto cleanup;
    }
    state_from_json(st, o, p);
cleanup:
    if (o) json_decref(o);
    *pst = st;
    return rv;
}

apr_status_t acme_state_save(acme_store_t *store, const acme_state_t *st,
                             int sync, apr_pool_t *p, acme_err_t *err)
{
    json_t *o = state_to_json(st, p);
    apr_status_t rv;

    rv = sync ? acme_store_state_save(store, st->name, o, p)
              : acme_store_state_save_unsynced(store, st->name, o, p);
    json_decref(o);
    if (rv != APR_SUCCESS) {
        rv = acme_err_set(err, p, rv, "cannot write the state of %s",
                          st->name);
    }
    return rv;
}

int acme_state_renewal_requested(const acme_state_t *st)
{
    return st->renew_requests > st->renew_requests_done;
}

int acme_state_revoked(const acme_state_t *st, const char *serial)
{
    return st->revoked > 0 && (!st->revoked_serial
                               || (serial && !strcmp(st->revoked_serial,
                                                     serial)));
}

int acme_state_ari_for(const acme_state_t *st, const char *cert_id)
{
    return cert_id && st->ari.cert_id && !strcmp(st->ari.cert_id, cert_id);
}

apr_status_t acme_state_ca_load(acme_state_ca_t **pst,
                                const acme_store_t *store, apr_pool_t *p)
{
    acme_state_ca_t *st = apr_pcalloc(p, sizeof(*st));
    json_t *o = NULL;
    apr_status_t rv;

    rv = acme_store_state_load(&o, store, CA_STATE, p);
    if (rv == APR_SUCCESS) {
        st->ca = get_str(p, o, "ca");
        st->unsupported_until = get_time(o, "unsupported_until");
    }
    if (o) json_decref(o);
    *pst = st;
    return rv;
}

apr_status_t acme_state_ca_save(acme_store_t *store,
                                const acme_state_ca_t *st, apr_pool_t *p)
{
    json_t *o = json_object();
    apr_status_t rv;

    json_object_set_new(o, "schema", json_integer(ACME_STATE_SCHEMA));
    set_str(o, "ca", st->ca);
    set_time(p, o, "unsupported_until", st->unsupported_until);
    rv = acme_store_state_save(store, CA_STATE, o, p);
    json_decref(o);
    return rv;
}
