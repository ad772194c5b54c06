/* mod_acme: the name index of the vhost checks (mod_acme_name_index.h). */
#include "httpd.h"
#include "apr_hash.h"
#include "apr_strings.h"

#include "mod_acme_name_index.h"
#include "acme_names.h"
#include "acme_util.h"

struct acme_name_index_t {
    apr_hash_t *exact;            /* lowercased name -> value */
    apr_array_header_t *patterns; /* name_pat_t */
};

typedef struct {
    const char *pattern;
    void *value;
} name_pat_t;

static int is_pattern(const char *n)
{
    return strchr(n, '*') || strchr(n, '?');
}

/* Makes an empty index. */
acme_name_index_t *acme_name_index_make(apr_pool_t *p)
{
    acme_name_index_t *x = apr_pcalloc(p, sizeof(*x));

    x->exact = apr_hash_make(p);
    x->patterns = apr_array_make(p, 4, sizeof(name_pat_t));
    return x;
}

/* Adds pattern -> value as a pattern. */
void acme_name_index_add_pattern(acme_name_index_t *x, const char *pattern,
                                 void *value)
{
    name_pat_t *pt = apr_array_push(x->patterns);

    pt->pattern = pattern;
    pt->value = value;
}

/* Adds name -> value; the first value for a name stays. */
void acme_name_index_add(acme_name_index_t *x, apr_pool_t *p,
                         const char *name, void *value)
{
    if (!name) {
        return;
    }
    if (is_pattern(name)) {
        acme_name_index_add_pattern(x, name, value);
        return;
    }
    name = acme_str_tolower(apr_pstrdup(p, name));
    if (!apr_hash_get(x->exact, name, APR_HASH_KEY_STRING)) {
        apr_hash_set(x->exact, name, APR_HASH_KEY_STRING, value);
    }
}

/* The value for name: exact names first, then the patterns. */
void *acme_name_index_find(const acme_name_index_t *x, apr_pool_t *p,
                           const char *name)
{
    void *v;
    int i;

    if (!name) {
        return NULL;
    }
    v = apr_hash_get(x->exact, acme_str_tolower(apr_pstrdup(p, name)),
                     APR_HASH_KEY_STRING);
    if (v) {
        return v;
    }
    for (i = 0; i < x->patterns->nelts; i++) {
        name_pat_t *pt = &APR_ARRAY_IDX(x->patterns, i, name_pat_t);
        if (!strcasecmp(pt->pattern, name)
            || acme_name_matches(pt->pattern, name)
            || (!acme_name_is_wildcard(name)
                && !ap_strcasecmp_match(name, pt->pattern))) {
            return pt->value;
        }
    }
    return NULL;
}
