/* mod_acme: validation and normalisation of certificate names. */
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>

#include "acme_names.h"
#include "acme_util.h"

#define ACME_MAX_LABEL_LEN 63

/* Returns non-zero if s is an IPv4 dotted quad or an IPv6 literal. */
static int is_ip_literal(const char *s)
{
    unsigned char buf[16];

    return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* Printable form of one character for an error message. */
static const char *char_repr(apr_pool_t *p, char c)
{
    unsigned char u = (unsigned char)c;

    if (u >= 0x20 && u < 0x7f) {
        return apr_psprintf(p, "'%c'", c);
    }
    return apr_psprintf(p, "'\\x%02x'", u);
}

/* Printable form of a name for an error message (control bytes escaped,
 * long names cut). */
static const char *name_repr(apr_pool_t *p, const char *name)
{
    const char *s;
    char *out, *o;
    apr_size_t n = 0;

    out = apr_palloc(p, 64 * 4 + 4);
    o = out;
    for (s = name; *s && n < 64; s++, n++) {
        unsigned char u = (unsigned char)*s;
        if (u >= 0x20 && u < 0x7f && u != '\'') {
            *o++ = (char)u;
        }
        else {
            o += apr_snprintf(o, 5, "\\x%02x", u);
        }
    }
    if (*s) {
        memcpy(o, "...", 3);
        o += 3;
    }
    *o = '\0';
    return out;
}

static apr_status_t wildcard_error(apr_pool_t *p, const char *name,
                                   acme_err_t *err)
{
    return acme_err_set(err, p, ACME_EINVAL, "invalid name '%s': a wildcard "
                        "'*' is only allowed as the whole leftmost label",
                        name_repr(p, name));
}

/* The error for a name, or what (a label: "label of "), of len characters
 * where max is the most allowed. */
static apr_status_t too_long_error(apr_pool_t *p, const char *name,
                                   const char *what, apr_size_t len, int max,
                                   acme_err_t *err)
{
    return acme_err_set(err, p, ACME_EINVAL, "invalid name '%s': %s%"
                        APR_SIZE_T_FMT " characters (at most %d)",
                        name_repr(p, name), what, len, max);
}

/* rest (name without its wildcard label) has only letters, digits, '-'
 * and '.'. */
static apr_status_t check_chars(apr_pool_t *p, const char *name,
                                const char *rest, acme_err_t *err)
{
    const char *s;

    for (s = rest; *s; s++) {
        char c = *s;
        if (c == '*') {
            return wildcard_error(p, name, err);
        }
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
              || c == '-' || c == '.')) {
            return acme_err_set(err, p, ACME_EINVAL,
                                "invalid name '%s': invalid character %s",
                                name_repr(p, name), char_repr(p, c));
        }
    }
    return APR_SUCCESS;
}

/* rest's labels are non-empty, short enough and without a '-' at either
 * end; *plabels: how many. */
static apr_status_t check_labels(int *plabels, apr_pool_t *p,
                                 const char *name, const char *rest,
                                 acme_err_t *err)
{
    apr_status_t rv = APR_SUCCESS;
    const char *label = rest;
    apr_size_t llen;
    int labels = 0;

    for (;;) {
        const char *dot = strchr(label, '.');
        llen = dot ? (apr_size_t)(dot - label) : strlen(label);
        if (llen == 0) {
            rv = acme_err_set(err, p, ACME_EINVAL,
                              "invalid name '%s': empty label%s",
                              name_repr(p, name),
                              (!dot && labels > 0)
                              ? " (trailing dot)" : "");
            goto cleanup;
        }
        if (llen > ACME_MAX_LABEL_LEN) {
            rv = too_long_error(p, name, "label of ", llen,
                                ACME_MAX_LABEL_LEN, err);
            goto cleanup;
        }
        if (label[0] == '-' || label[llen - 1] == '-') {
            rv = acme_err_set(err, p, ACME_EINVAL,
                              "invalid name '%s': label '%s' starts or ends "
                              "with '-'", name_repr(p, name),
                              apr_pstrndup(p, label, llen));
            goto cleanup;
        }
        labels++;
        if (!dot) {
            break;
        }
        label = dot + 1;
    }
cleanup:
    *plabels = labels;
    return rv;
}

apr_status_t acme_name_check(const char **pnorm, apr_pool_t *p,
                             const char *name, acme_err_t *err)
{
    apr_status_t rv = APR_SUCCESS;
    const char *rest;
    char *norm;
    apr_size_t len;
    int labels = 0;

    *pnorm = NULL;
    if (!name || !*name) {
        rv = acme_err_set(err, p, ACME_EINVAL, "invalid name '': empty name");
        goto cleanup;
    }
    len = strlen(name);
    if (len > ACME_MAX_NAME_LEN) {
        rv = too_long_error(p, name, "", len, ACME_MAX_NAME_LEN, err);
        goto cleanup;
    }
    if (strchr(name, ':') || (name[0] >= '0' && name[0] <= '9')) {
        if (is_ip_literal(name)) {
            *pnorm = apr_pstrdup(p, name);
            goto cleanup;
        }
    }

    norm = acme_str_tolower(apr_pstrdup(p, name));
    rest = norm;
    if (rest[0] == '*') {
        if (rest[1] != '.') {
            rv = wildcard_error(p, name, err);
            goto cleanup;
        }
        rest += 2;
    }
    rv = check_chars(p, name, rest, err);
    if (rv == APR_SUCCESS) {
        rv = check_labels(&labels, p, name, rest, err);
    }
    if (rv != APR_SUCCESS) {
        goto cleanup;
    }
    if (labels < 2) {
        rv = acme_err_set(err, p, ACME_EINVAL,
                          "invalid name '%s': %s at least two labels "
                          "(like example.org)", name_repr(p, name),
                          rest == norm ? "a certificate name needs"
                          : "a wildcard must cover");
        goto cleanup;
    }
    *pnorm = norm;
cleanup:
    return rv;
}

apr_status_t acme_names_check(apr_array_header_t **pout, apr_pool_t *p,
                              const apr_array_header_t *names,
                              acme_err_t *err)
{
    apr_status_t rv = APR_SUCCESS;
    apr_array_header_t *out;
    int i;

    *pout = NULL;
    if (!names || names->nelts == 0) {
        rv = acme_err_set(err, p, ACME_EINVAL, "no names given");
        goto cleanup;
    }
    out = apr_array_make(p, names->nelts, sizeof(const char *));
    for (i = 0; i < names->nelts; i++) {
        const char *norm;
        rv = acme_name_check(&norm, p, APR_ARRAY_IDX(names, i, const char *),
                             err);
        if (rv != APR_SUCCESS) {
            goto cleanup;
        }
        if (!acme_array_contains(out, norm)) {
            APR_ARRAY_PUSH(out, const char *) = norm;
        }
    }
    if (out->nelts > ACME_MAX_NAMES) {
        rv = acme_err_set(err, p, ACME_EINVAL,
                          "too many names: %d (at most %d per certificate)",
                          out->nelts, ACME_MAX_NAMES);
        goto cleanup;
    }
    *pout = out;
cleanup:
    return rv;
}

int acme_name_is_wildcard(const char *name)
{
    return name && name[0] == '*' && name[1] == '.';
}

int acme_names_equal(const apr_array_header_t *a, const apr_array_header_t *b)
{
    int i;

    if (!a || !b) {
        return (!a || a->nelts == 0) && (!b || b->nelts == 0);
    }
    for (i = 0; i < a->nelts; i++) {
        if (!acme_array_contains(b, APR_ARRAY_IDX(a, i, const char *))) {
            return 0;
        }
    }
    for (i = 0; i < b->nelts; i++) {
        if (!acme_array_contains(a, APR_ARRAY_IDX(b, i, const char *))) {
            return 0;
        }
    }
    return 1;
}

int acme_name_matches(const char *pattern, const char *name)
{
    const char *base, *dot;

    if (!pattern || !name) {
        return 0;
    }
    if (!strcasecmp(pattern, name)) {
        return 1;
    }
    if (!acme_name_is_wildcard(pattern)) {
        return 0;
    }
    base = pattern + 1;              /* ".example.org" */
    dot = strchr(name, '.');
    if (!dot || dot == name || name[0] == '*') {
        return 0;
    }
    return !strcasecmp(dot, base);
}
