/* mod_acme: Certbot's renewal/<name>.conf (the configobj subset Certbot
 * writes): top-level `key = value`, a [renewalparams] section and a
 * [[webroot_map]] subsection in it, `#` comments. */
#include <string.h>

#include "acme_store.h"

acme_renewal_conf_t *acme_renewal_conf_make(apr_pool_t *p)
{
    acme_renewal_conf_t *conf = apr_pcalloc(p, sizeof(*conf));

    conf->top = apr_table_make(p, 8);
    conf->params = apr_table_make(p, 16);
    conf->webroot_map = apr_table_make(p, 4);
    return conf;
}

static char *trim(char *s)
{
    char *e;

    while (*s == ' ' || *s == '\t') {
        s++;
    }
    e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r')) {
        *--e = '\0';
    }
    return s;
}

/* Parses a value: quoted ('...' or "...", configobj has no escapes) or
 * unquoted up to an inline '#' comment. NULL when a quote is unbalanced. */
static const char *parse_value(apr_pool_t *p, char *v)
{
    char *hash, *end;

    if (v[0] == '"' || v[0] == '\'') {
        end = strchr(v + 1, v[0]);
        if (!end) {
            return NULL;
        }
        return apr_pstrndup(p, v + 1, (apr_size_t)(end - v - 1));
    }
    hash = strchr(v, '#');
    if (hash) {
        *hash = '\0';
    }
    return trim(v);
}

typedef enum {
    SECT_TOP = 0,
    SECT_PARAMS,
    SECT_WEBROOT_MAP,
    SECT_OTHER          /* a section we do not know: its keys are skipped */
} conf_section_e;

/* A "[name]" or "[[name]]" line: *psect becomes the section it opens. */
static apr_status_t section_header(conf_section_e *psect, char *line,
                                   int lineno, apr_pool_t *p,
                                   acme_err_t *err)
{
    int depth = (line[1] == '[') ? 2 : 1;
    char *name = line + depth;
    char *close = strchr(name, ']');

    if (!close || (depth == 2 && close[1] != ']')) {
        return acme_err_set(err, p, ACME_EINVAL,
                            "line %d: unterminated section header '%s'",
                            lineno, line);
    }
    *close = '\0';
    name = trim(name);
    if (depth == 1) {
        *psect = !strcmp(name, "renewalparams") ? SECT_PARAMS : SECT_OTHER;
    }
    else {
        *psect = (*psect == SECT_PARAMS || *psect == SECT_WEBROOT_MAP)
                 && !strcmp(name, "webroot_map")
                 ? SECT_WEBROOT_MAP : SECT_OTHER;
    }
    return APR_SUCCESS;
}

/* Records key = value in the table of section sect (none: skipped). */
static void conf_set(acme_renewal_conf_t *conf, conf_section_e sect,
                     const char *key, const char *value)
{
    switch (sect) {
    case SECT_TOP:
        apr_table_set(conf->top, key, value);
        break;
    case SECT_PARAMS:
        apr_table_set(conf->params, key, value);
        break;
    case SECT_WEBROOT_MAP:
        apr_table_set(conf->webroot_map, key, value);
        break;
    default:
        break;
    }
}

apr_status_t acme_renewal_conf_parse(acme_renewal_conf_t **pconf,
                                     apr_pool_t *p, const char *text,
                                     acme_err_t *err)
{
    apr_status_t rv = APR_SUCCESS;
    acme_renewal_conf_t *conf = acme_renewal_conf_make(p);
    conf_section_e sect = SECT_TOP;
    char *buf, *line, *next, *eq, *key;
    const char *value;
    int lineno = 0;

    *pconf = NULL;
    buf = apr_pstrdup(p, text ? text : "");
    for (line = buf; line; line = next) {
        next = strchr(line, '\n');
        if (next) {
            *next++ = '\0';
        }
        lineno++;
        line = trim(line);
        if (!*line || *line == '#') {
            continue;
        }
        if (line[0] == '[') {
            rv = section_header(&sect, line, lineno, p, err);
            if (rv != APR_SUCCESS) {
                goto cleanup;
            }
            continue;
        }
        eq = strchr(line, '=');
        if (!eq) {
            rv = acme_err_set(err, p, ACME_EINVAL,
                              "line %d: expected 'key = value', got '%s'",
                              lineno, line);
            goto cleanup;
        }
        *eq = '\0';
        key = trim(line);
        if (!*key) {
            rv = acme_err_set(err, p, ACME_EINVAL,
                              "line %d: empty key", lineno);
            goto cleanup;
        }
        if ((key[0] == '"' || key[0] == '\'') && strlen(key) >= 2
            && key[strlen(key) - 1] == key[0]) {
            key[strlen(key) - 1] = '\0';
            key++;
        }
        value = parse_value(p, trim(eq + 1));
        if (!value) {
            rv = acme_err_set(err, p, ACME_EINVAL,
                              "line %d: unbalanced quote in value of '%s'",
                              lineno, key);
            goto cleanup;
        }
        conf_set(conf, sect, key, value);
    }
    *pconf = conf;
cleanup:
    return rv;
}

/* A value as configobj reads it back: quoted when empty, when it has a
 * '#', or when it begins or ends with blanks or a quote. */
static const char *format_value(apr_pool_t *p, const char *v)
{
    apr_size_t n = strlen(v);

    if (n == 0 || strchr(v, '#') || v[0] == ' ' || v[0] == '\t'
        || v[n - 1] == ' ' || v[n - 1] == '\t' || v[0] == '"'
        || v[0] == '\'') {
        return apr_pstrcat(p, strchr(v, '"') ? "'" : "\"", v,
                           strchr(v, '"') ? "'" : "\"", NULL);
    }
    return v;
}

typedef struct {
    apr_pool_t *p;
    const char *out;
} format_ctx_t;

static int format_entry(void *baton, const char *key, const char *value)
{
    format_ctx_t *ctx = baton;

    ctx->out = apr_pstrcat(ctx->p, ctx->out, key, " = ",
                           format_value(ctx->p, value), "\n", NULL);
    return 1;
}

const char *acme_renewal_conf_format(apr_pool_t *p,
                                     const acme_renewal_conf_t *conf)
{
    format_ctx_t ctx;

    ctx.p = p;
    ctx.out = "# Generated by mod_acme " ACME_VERSION "\n";
    if (conf->top) {
        apr_table_do(format_entry, &ctx, conf->top, NULL);
    }
    ctx.out = apr_pstrcat(p, ctx.out, "\n# Options used in the renewal "
                          "process\n[renewalparams]\n", NULL);
    if (conf->params) {
        apr_table_do(format_entry, &ctx, conf->params, NULL);
    }
    if (conf->webroot_map && !apr_is_empty_table(conf->webroot_map)) {
        ctx.out = apr_pstrcat(p, ctx.out, "[[webroot_map]]\n", NULL);
        apr_table_do(format_entry, &ctx, conf->webroot_map, NULL);
    }
    return ctx.out;
}
