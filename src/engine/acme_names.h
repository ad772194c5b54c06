/* mod_acme: validation and normalisation of certificate names. */
#ifndef ACME_NAMES_H
#define ACME_NAMES_H

#include "acme_common.h"

#define ACME_MAX_NAMES      100   /* names per certificate (Let's Encrypt) */
#define ACME_MAX_NAME_LEN   253   /* characters in a DNS name */

/* Checks one DNS name for use in a certificate: LDH labels of 1..63
 * characters, no empty label, at most 253 characters, at least two labels,
 * a wildcard only as the whole leftmost label (and over at least two more
 * labels: "*.org" is refused). A trailing dot ("example.org.") counts as an
 * empty label and is refused, not stripped: certificates never carry it.
 * IPv4 (dotted quad) and IPv6 literals are accepted and returned as given.
 * Returns APR_SUCCESS with the lowercased name in *pnorm, or ACME_EINVAL
 * with the reason (naming the name) in err. */
apr_status_t acme_name_check(const char **pnorm, apr_pool_t *p,
                             const char *name, acme_err_t *err);

/* Checks and normalises a list of names (const char*): each name as above,
 * duplicates removed keeping the first, at most ACME_MAX_NAMES. Returns the
 * new array in *pout, or ACME_EINVAL with the reason. */
apr_status_t acme_names_check(apr_array_header_t **pout, apr_pool_t *p,
                              const apr_array_header_t *names,
                              acme_err_t *err);

/* Returns non-zero if the name is a wildcard ("*.example.org"). */
int acme_name_is_wildcard(const char *name);

/* Returns non-zero if both arrays hold the same names in any order. */
int acme_names_equal(const apr_array_header_t *a, const apr_array_header_t *b);

/* Returns non-zero if `name` is covered by `pattern` (equal, or pattern is
 * a wildcard matching exactly one leftmost label). */
int acme_name_matches(const char *pattern, const char *name);

#endif
