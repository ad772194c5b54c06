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

apr_status_t acme_dup_guard_check(const acme_store_t *store,
                                  const apr_array_header_t *names,
                                  apr_time_t now, apr_pool_t *p,
                                  acme_err_t *err)
{
    json_t *all = NULL, *times;
    apr_status_t rv = APR_SUCCESS;
    const char *key = set_key(p, names);

    if (acme_store_state_load(&all, store, ISSUED_STATE, p) != APR_SUCCESS) {
        return APR_SUCCESS;     /* unreadable state never blocks issuance */
    }
    times = recent(all, key, now);
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
    json_decref(all);
    return rv;
}

apr_status_t acme_dup_guard_record(acme_store_t *store,
                                   const apr_array_header_t *names,
                                   apr_time_t now, apr_pool_t *p)
{
    json_t *all = NULL, *times, *pruned;
    const char *key = set_key(p, names), *k;
    apr_status_t rv;
    void *tmp;

    if (acme_store_state_load(&all, store, ISSUED_STATE, p) != APR_SUCCESS) {
        all = json_object();
    }
    /* drop whole sets with nothing inside the window */
    json_object_foreach_safe(all, tmp, k, times) {
        pruned = recent(all, k, now);
        if (!json_array_size(pruned)) {
            json_object_del(all, k);
        }
        else {
            json_object_set(all, k, pruned);
        }
        json_decref(pruned);
    }
    times = recent(all, key, now);
    json_array_append_new(times, json_integer(apr_time_sec(now)));
    json_object_set_new(all, key, times);
    rv = acme_store_state_save(store, ISSUED_STATE, all, p);
    json_decref(all);
    return rv;
}
