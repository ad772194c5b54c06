/* mod_acme: an index of host names looked up many times at start-up
 * (10,000 vhosts): exact names in a hash, patterns (wildcard names,
 * ServerAlias with * and ?) in a short list. Used by the vhost checks. */
#ifndef MOD_ACME_NAME_INDEX_H
#define MOD_ACME_NAME_INDEX_H

#include "apr_pools.h"

typedef struct acme_name_index_t acme_name_index_t;

/* Makes an empty index. */
acme_name_index_t *acme_name_index_make(apr_pool_t *p);

/* Adds name -> value (the first value added for a name stays); a name
 * with * or ? is a pattern. A NULL name is ignored. */
void acme_name_index_add(acme_name_index_t *x, apr_pool_t *p,
                         const char *name, void *value);

/* Adds pattern -> value as a pattern, whatever it contains. */
void acme_name_index_add_pattern(acme_name_index_t *x, const char *pattern,
                                 void *value);

/* The value for name: an exact name first, then the first pattern that
 * matches (a wildcard name, or a ServerAlias with * and ?); NULL when
 * none does or name is NULL. */
void *acme_name_index_find(const acme_name_index_t *x, apr_pool_t *p,
                           const char *name);

#endif
