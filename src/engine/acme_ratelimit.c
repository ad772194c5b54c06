/* mod_acme: the duplicate-certificate guard. */
#include <stdlib.h>
#include <string.h>

#include "acme_ratelimit.h"
#include "acme_util.h"

#define ISSUED_STATE "_issued"

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The name set as one key: lowercased, sorted, comma separated. */
static const char *set_key(apr_pool_t *p, const apr_array_header_t *names)
{
    apr_array_header_t *sorted = apr_array_make(p, names->nelts,
                                                sizeof(const char *));
    int i;

    for (i = 0; i < names->nelts; i++) {
        APR_ARRAY_PUSH(sorted, const char *) = acme_str_tolower(
            apr_pstrdup(p, APR_ARRAY_IDX(names, i, const char *)));
    }
    qsort(sorted->elts, (size_t)sorted->nelts, sizeof(const char *), cmp_str);
    return acme_array_join(p, sorted, ",");
}

/* The issuance times (seconds) of a name set still inside the window. */
static json_t *recent(json_t *all, const char *key, apr_time_t now)
{
    json_t *times = json_object_get(all, key), *out = json_array(), *v;
    apr_int64_t cutoff = apr_time_sec(now - ACME_DUP_WINDOW);
    size_t i;

    json_array_foreach(times, i, v) {
        if (json_integer_value(v) > cutoff) {
            json_array_append(out, v);
        }
    }
    return out;
}

struct acme_dup_guard_t {
    acme_store_t *store;
    json_t *all;                     /* name set -> [issuance times] */
    int dirty;
};

static void json_free(void *json)
{
    json_decref(json);
}

acme_dup_guard_t *acme_dup_guard_open(acme_store_t *store, apr_pool_t *p)
{
    acme_dup_guard_t *g = apr_pcalloc(p, sizeof(*g));

    g->store = store;
    /* an unreadable record never blocks issuance: it starts empty */
    if (acme_store_state_load(&g->all, store, ISSUED_STATE, p)
        != APR_SUCCESS || !json_is_object(g->all)) {
        if (g->all) json_decref(g->all);
        g->all = json_object();
    }
    acme_pool_owns(p, g->all, json_free);
    return g;
}

apr_status_t acme_dup_guard_test(acme_dup_guard_t *g,
                                 const apr_array_header_t *names,
                                 apr_time_t now, apr_pool_t *p,
                                 acme_err_t *err)
{
    apr_status_t rv = APR_SUCCESS;
    const char *key = set_key(p, names);
    json_t *times = recent(g->all, key, now);

    if (json_array_size(times) >= ACME_DUP_MAX) {
        apr_int64_t oldest = json_integer_value(json_array_get(times, 0));
        size_t i;
        for (i = 1; i < json_array_size(times); i++) {
            apr_int64_t t = json_integer_value(json_array_get(times, i));
            if (t < oldest) oldest = t;
        }
        rv = acme_err_set(err, p, ACME_EINVAL, "%d certificates for exactly "
                          "%s were issued in the last 7 days; another would "
                          "use up the CA's duplicate-certificate limit "
                          "(Let's Encrypt: 5 per week) and lock you out. The "
                          "next is allowed after %s%s",
                          (int)json_array_size(times),
                          acme_array_join(p, names, ", "),
                          acme_iso_time(p, apr_time_from_sec(oldest)
                                        + ACME_DUP_WINDOW),
                          "; to order anyway, use --ignore-duplicate-limit");
    }
    json_decref(times);
    return rv;
}

void acme_dup_guard_note(acme_dup_guard_t *g, const apr_array_header_t *names,
                         apr_time_t now, apr_pool_t *p)
{
    const char *key = set_key(p, names);
    json_t *times = recent(g->all, key, now);

    json_array_append_new(times, json_integer(apr_time_sec(now)));
    json_object_set_new(g->all, key, times);
    g->dirty = 1;
}

apr_status_t acme_dup_guard_save(acme_dup_guard_t *g, apr_time_t now,
                                 apr_pool_t *p)
{
    json_t *times, *pruned;
    const char *k;
    void *tmp;

    if (!g->dirty) {
        return APR_SUCCESS;
    }
    /* drop whole sets with nothing inside the window */
    json_object_foreach_safe(g->all, tmp, k, times) {
        pruned = recent(g->all, k, now);
        if (!json_array_size(pruned)) {
            json_object_del(g->all, k);
        }
        else {
            json_object_set(g->all, k, pruned);
        }
        json_decref(pruned);
    }
    g->dirty = 0;
    return acme_store_state_save(g->store, ISSUED_STATE, g->all, p);
}

apr_status_t acme_dup_guard_check(const acme_store_t *store,
                                  const apr_array_header_t *names,
                                  apr_time_t now, apr_pool_t *p,
                                  acme_err_t *err)
{
    apr_pool_t *tp;
    apr_status_t rv;

    apr_pool_create(&tp, p);
    rv = acme_dup_guard_test(acme_dup_guard_open((acme_store_t *)store, tp),
                             names, now, p, err);
    apr_pool_destroy(tp);
    return rv;
}

apr_status_t acme_dup_guard_record(acme_store_t *store,
                                   const apr_array_header_t *names,
                                   apr_time_t now, apr_pool_t *p)
{
    apr_pool_t *tp;
    acme_dup_guard_t *g;
    apr_status_t rv;

    apr_pool_create(&tp, p);
    g = acme_dup_guard_open(store, tp);
    acme_dup_guard_note(g, names, now, tp);
    rv = acme_dup_guard_save(g, now, tp);
    apr_pool_destroy(tp);
    return rv;
}
