/* mod_acme: lineage status as JSON and as Prometheus' text format. */
#include <stdlib.h>
#include <string.h>

#include <apr_file_info.h>
#include <apr_file_io.h>
#include <apr_strings.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "acme_status.h"
#include "acme_ari.h"
#include "acme_cert.h"
#include "acme_names.h"
#include "acme_state.h"
#include "acme_util.h"

#define SUMMARY_MAX  (64 * 1024)
#define PERM_PUBLIC  (APR_FPROT_UREAD | APR_FPROT_UWRITE | APR_FPROT_GREAD \
                      | APR_FPROT_WREAD)
#define DIR_PUBLIC   (PERM_PUBLIC | APR_FPROT_UEXECUTE | APR_FPROT_GEXECUTE \
                      | APR_FPROT_WEXECUTE)

const char *acme_status_dir(const acme_store_t *store, apr_pool_t *p)
{
    return acme_store_path(store, p, "status", NULL);
}

apr_time_t acme_status_parse_time(const char *s)
{
    apr_time_t t = 0;

    if (!s || acme_ari_parse_time(&t, s) != APR_SUCCESS) {
        return 0;
    }
    return t;
}

/* A lineage name that is safe as a file name component. */
static int name_ok(const char *name)
{
    return name && *name && *name != '.' && !strchr(name, '/')
        && strlen(name) < 256;
}

/* The key type a renewal conf asks for (Certbot's key_type, elliptic_curve,
 * rsa_key_size); def when it says nothing usable. */
static acme_key_type_e conf_key_type(const acme_renewal_conf_t *conf,
                                     acme_key_type_e def, apr_pool_t *p)
{
    const char *kt, *v;
    acme_key_type_e t;

    if (!conf || !(kt = apr_table_get(conf->params, "key_type"))) {
        return def;
    }
    if (!strcmp(kt, "ecdsa")) {
        v = apr_table_get(conf->params, "elliptic_curve");
        return acme_key_type_parse(&t, v ? v : "secp256r1", p, NULL)
               == APR_SUCCESS ? t : def;
    }
    if (!strcmp(kt, "rsa")) {
        v = apr_table_get(conf->params, "rsa_key_size");
        return acme_key_type_parse(&t, apr_pstrcat(p, "rsa", v ? v : "2048",
                                                   NULL), p, NULL)
               == APR_SUCCESS ? t : def;
    }
    return def;
}

/* An md for a lineage the server does not manage: its own names, the key
 * type and renew_before_expiry of its renewal conf. */
static acme_md_t *md_from_conf(const acme_lineage_t *l, acme_key_type_e kt,
                               apr_pool_t *p)
{
    acme_md_t *md = apr_pcalloc(p, sizeof(*md));

    md->name = l->name;
    md->names = l->names;
    md->key_type = conf_key_type(l->conf, kt, p);
    md->renew_abs = acme_due_renew_before(l->conf, apr_time_now());
    return md;
}

static const char *reason_word(acme_due_e due)
{
    return due == ACME_DUE_WINDOW ? "window" : acme_due_name(due);
}

/* acme_status_cert_facts, the lineage read through cache (may be NULL). */
static apr_status_t cert_facts(json_t **pfacts, const acme_store_t *store,
                               const char *name, const acme_md_t *md,
                               apr_time_t now, acme_lineage_cache_t *cache,
                               apr_pool_t *p)
{
    acme_lineage_t *l = NULL;
    const char *key_type, *cert_id = NULL;
    acme_md_t dmd;
    acme_due_e due;
    apr_time_t when;
    json_t *o, *doms, *paths;
    apr_status_t rv;
    int i;

    *pfacts = NULL;
    if (!name_ok(name)) {
        return ACME_EINVAL;
    }
    rv = acme_store_lineage_load_cached(&l, store, name, cache, p, NULL);
    if (rv != APR_SUCCESS) {
        return rv == ACME_ENOTFOUND ? ACME_ENOTFOUND : rv;
    }
    if (md && !acme_names_equal(l->names, md->names)) {
        return ACME_ENOTFOUND;    /* the server presents its fallback */
    }
    key_type = l->key_type >= 0
        ? acme_key_type_name((acme_key_type_e)l->key_type) : "unknown";
    cert_id = l->ari_cert_id;
    if (md) {
        dmd = *md;
    }
    else {
        acme_key_type_e kt = ACME_KEY_EC256;
        acme_key_type_parse(&kt, key_type, p, NULL);
        dmd = *md_from_conf(l, kt, p);
    }
    due = acme_sup_due_lineage(&when, store, &dmd, l, NULL, now, p);

    o = json_object();
    doms = json_array();
    for (i = 0; i < l->names->nelts; i++) {
        json_array_append_new(doms, json_string(
            APR_ARRAY_IDX(l->names, i, const char *)));
    }
    paths = json_pack("{s:s, s:s, s:s, s:s}", "cert", l->cert_path,
                      "chain", l->chain_path, "fullchain", l->fullchain_path,
                      "privkey", l->privkey_path);
    json_object_set_new(o, "name", json_string(name));
    json_object_set_new(o, "domains", doms);
    json_object_set_new(o, "not_before",
                        json_string(acme_iso_time(p, l->not_before)));
    json_object_set_new(o, "not_after",
                        json_string(acme_iso_time(p, l->not_after)));
    json_object_set_new(o, "serial", json_string(l->serial ? l->serial : ""));
    json_object_set_new(o, "issuer",
                        json_string(l->issuer_cn ? l->issuer_cn : ""));
    json_object_set_new(o, "key_type", json_string(key_type));
    json_object_set_new(o, "version", json_integer(l->version));
    json_object_set_new(o, "paths", paths);
    json_object_set_new(o, "cert_id", cert_id ? json_string(cert_id)
                                              : json_null());
    json_object_set_new(o, "due", json_string(reason_word(due)));
    json_object_set_new(o, "due_at", json_string(acme_iso_time(p, when)));
    json_object_set_new(o, "written", json_string(acme_iso_time(p, now)));
    *pfacts = o;
    return APR_SUCCESS;
}

apr_status_t acme_status_cert_facts(json_t **pfacts, const acme_store_t *store,
                                    const char *name, const acme_md_t *md,
                                    apr_time_t now, apr_pool_t *p)
{
    return cert_facts(pfacts, store, name, md, now, NULL, p);
}

/* Whether the summary at path already says what facts says (its "written"
 * time aside): then it is not written again. */
static int snapshot_same(const char *path, json_t *facts, apr_pool_t *p)
{
    json_t *old = json_load_file(path, 0, NULL), *a, *b;
    int same = 0;

    if (json_is_object(old)) {
        a = json_copy(old);
        b = json_copy(facts);
        json_object_del(a, "written");
        json_object_del(b, "written");
        same = json_equal(a, b);
        json_decref(a);
        json_decref(b);
    }
    if (old) json_decref(old);
    return same;
}

/* Loads STORE/status/<name>.json; ACME_ENOTFOUND when missing. */
static apr_status_t snapshot_load(json_t **pfacts, const acme_store_t *store,
                                  const char *name, apr_pool_t *p)
{
    char *data;
    apr_size_t len;
    json_t *j;

    *pfacts = NULL;
    if (!name_ok(name)) {
        return ACME_EINVAL;
    }
    if (acme_file_read(&data, &len, p, apr_pstrcat(p, acme_status_dir(store,
                       p), "/", name, ".json", NULL), SUMMARY_MAX)
        != APR_SUCCESS) {
        return ACME_ENOTFOUND;
    }
    j = json_loadb(data, len, 0, NULL);
    if (!json_is_object(j)) {
        if (j) json_decref(j);
        return ACME_EINVAL;
    }
    *pfacts = j;
    return APR_SUCCESS;
}

static int md_listed(const apr_array_header_t *mds, const char *name)
{
    int i;

    for (i = 0; mds && i < mds->nelts; i++) {
        if (!strcmp(APR_ARRAY_IDX(mds, i, acme_md_t *)->name, name)) {
            return 1;
        }
    }
    return 0;
}

/* Writes (or removes) the summary of one md at dir; see
 * acme_status_snapshot_write(). The summaries are derived from the store and
 * written again at every start, so they are not flushed to disk. */
static apr_status_t snapshot_one(acme_store_t *store, const char *dir,
                                 const acme_md_t *md, apr_time_t now,
                                 acme_lineage_cache_t *cache, apr_pool_t *p)
{
    const char *path;
    json_t *facts = NULL;
    acme_md_t m = *md;
    apr_status_t rv;

    if (!name_ok(md->name)) {
        return APR_SUCCESS;
    }
    path = apr_pstrcat(p, dir, "/", md->name, ".json", NULL);
    rv = cert_facts(&facts, store, md->name, &m, now, cache, p);
    if (rv == APR_SUCCESS && snapshot_same(path, facts, p)) {
        json_decref(facts);             /* unchanged since the last write */
    }
    else if (rv == APR_SUCCESS) {
        char *text = json_dumps(facts, JSON_INDENT(2) | JSON_SORT_KEYS);
        rv = text ? acme_file_write_volatile(path, text, strlen(text),
                                             PERM_PUBLIC, p) : APR_ENOMEM;
        free(text);
        json_decref(facts);
    }
    else {
        rv = apr_file_remove(path, p);
        if (APR_STATUS_IS_ENOENT(rv)) {
            rv = APR_SUCCESS;
        }
    }
    return rv;
}

apr_status_t acme_status_snapshot_write(acme_store_t *store,
                                        const apr_array_header_t *mds,
                                        apr_time_t now,
                                        acme_lineage_cache_t *cache,
                                        apr_pool_t *p)
{
    const char *dir = acme_status_dir(store, p);
    apr_status_t rv, first = APR_SUCCESS;
    apr_pool_t *ip;
    apr_dir_t *d;
    apr_finfo_t fi;
    int i;

    if ((rv = acme_mkdir(dir, DIR_PUBLIC, p)) != APR_SUCCESS) {
        return rv;
    }
    apr_pool_create(&ip, p);
    for (i = 0; mds && i < mds->nelts; i++) {
        apr_pool_clear(ip);             /* one certificate's worth at most */
        rv = snapshot_one(store, dir, APR_ARRAY_IDX(mds, i, acme_md_t *),
                          now, cache, ip);
        if (rv != APR_SUCCESS && first == APR_SUCCESS) {
            first = rv;
        }
    }
    /* summaries of lineages the server no longer manages */
    if (apr_dir_open(&d, dir, p) == APR_SUCCESS) {
        while (apr_dir_read(&fi, APR_FINFO_NAME | APR_FINFO_TYPE, d)
               == APR_SUCCESS) {
            apr_size_t n = strlen(fi.name);
            if (fi.filetype != APR_REG || n < 6
                || strcmp(fi.name + n - 5, ".json")) {
                continue;
            }
            if (!md_listed(mds, apr_pstrndup(p, fi.name, n - 5))) {
                apr_file_remove(apr_pstrcat(p, dir, "/", fi.name, NULL), p);
            }
        }
        apr_dir_close(d);
    }
    return first;
}

/* --- the status object --- */

static json_t *time_or_null(apr_pool_t *p, apr_time_t t)
{
    return t > 0 ? json_string(acme_iso_time(p, t)) : json_null();
}

static json_t *copy_or_null(json_t *v)
{
    return v ? json_deep_copy(v) : json_null();
}

static json_t *str_or_null(const char *v)
{
    return v ? json_string(v) : json_null();
}

static const acme_md_t *md_find(const apr_array_header_t *mds,
                                const char *name)
{
    int i;

    for (i = 0; mds && i < mds->nelts; i++) {
        const acme_md_t *md = APR_ARRAY_IDX(mds, i, acme_md_t *);
        if (!strcmp(md->name, name)) {
            return md;
        }
    }
    return NULL;
}

static int conf_exists(const acme_store_t *store, const char *name,
                       apr_pool_t *p)
{
    apr_finfo_t fi;

    return apr_stat(&fi, acme_store_path(store, p, "renewal",
                    apr_pstrcat(p, name, ".conf", NULL), NULL),
                    APR_FINFO_TYPE, p) == APR_SUCCESS;
}

/* The lineage's state; *phas 1 when a readable state file exists. */
static acme_state_t *state_read(const acme_store_t *store, const char *name,
                                int *phas, apr_pool_t *p)
{
    acme_state_t *st = NULL;
    apr_finfo_t fi;

    *phas = acme_state_load(&st, store, name, p, NULL) == APR_SUCCESS
        && apr_stat(&fi, acme_store_path(store, p, "state",
                    apr_pstrcat(p, name, ".json", NULL), NULL),
                    APR_FINFO_TYPE, p) == APR_SUCCESS;
    return st;
}

/* The names: the certificate's, else the configuration's, else the
 * names last attempted for. */
static json_t *domains_json(json_t *facts, const acme_md_t *md,
                            const acme_state_t *st)
{
    const apr_array_header_t *names = md ? md->names : st->names;
    json_t *doms;
    int i;

    if (facts) {
        return copy_or_null(json_object_get(facts, "domains"));
    }
    doms = json_array();
    for (i = 0; names && i < names->nelts; i++) {
        json_array_append_new(doms, json_string(
            APR_ARRAY_IDX(names, i, const char *)));
    }
    return doms;
}

/* The CertID of the certificate in place, or NULL. */
static const char *facts_cert_id(json_t *facts)
{
    return json_string_value(json_object_get(facts, "cert_id"));
}

/* When the next attempt is due (*pwhen) and why; *pnot_after: the
 * certificate's expiry (0 without one). */
static const char *next_renewal(apr_time_t *pwhen, apr_time_t *pnot_after,
                                json_t *facts, const acme_state_t *st,
                                apr_time_t now)
{
    const char *due, *reason;
    apr_time_t when;

    *pnot_after = 0;
    if (!facts) {
        when = now;
        reason = acme_due_name(ACME_DUE_MISSING);
        goto cleanup;
    }
    due = json_string_value(json_object_get(facts, "due"));
    when = acme_status_parse_time(json_string_value(
        json_object_get(facts, "due_at")));
    *pnot_after = acme_status_parse_time(json_string_value(
        json_object_get(facts, "not_after")));
    reason = (!due || !strcmp(due, "not due")) ? "window" : due;
    if (!strcmp(reason, "window") && *pnot_after && *pnot_after <= now) {
        reason = acme_due_name(ACME_DUE_EXPIRED);
    }
    if (!strcmp(reason, "window") && acme_state_ari_for(st,
                                                         facts_cert_id(facts))
        && st->ari.chosen) {
        when = st->ari.chosen;
        reason = "ari";
    }
cleanup:
    if (st->next_try > now && st->next_try > when) {
        when = st->next_try;
    }
    *pwhen = when;
    return reason;
}

/* The one-word state. */
static const char *state_word(json_t *facts, const acme_state_t *st,
                              apr_time_t when, apr_time_t not_after,
                              apr_time_t now)
{
    if (!facts) {
        return ACME_STATUS_FALLBACK;
    }
    if (acme_state_revoked(st, json_string_value(json_object_get(facts,
                                                                 "serial")))) {
        return ACME_STATUS_REVOKED;
    }
    if (not_after <= now) {
        return ACME_STATUS_EXPIRED;
    }
    if (st->failures > 0) {
        return ACME_STATUS_ERROR;
    }
    return when <= now ? ACME_STATUS_RENEWING : ACME_STATUS_VALID;
}

/* The CA's renewal window for the certificate in place, or null. */
static json_t *ari_json(json_t *facts, const acme_state_t *st, apr_pool_t *p)
{
    json_t *o;

    if (!facts || !acme_state_ari_for(st, facts_cert_id(facts))) {
        return json_null();
    }
    o = json_object();
    json_object_set_new(o, "start", time_or_null(p, st->ari.start));
    json_object_set_new(o, "end", time_or_null(p, st->ari.end));
    json_object_set_new(o, "chosen", time_or_null(p, st->ari.chosen));
    json_object_set_new(o, "explanation", str_or_null(st->ari.explanation));
    json_object_set_new(o, "next_fetch", time_or_null(p, st->ari.next_fetch));
    return o;
}

/* The attempt fields, from the state. */
static void set_attempts(json_t *o, const acme_state_t *st, apr_time_t now,
                         apr_pool_t *p)
{
    json_object_set_new(o, "last_attempt", time_or_null(p, st->last_attempt));
    json_object_set_new(o, "last_success", time_or_null(p, st->last_success));
    json_object_set_new(o, "last_error", str_or_null(st->last_error));
    json_object_set_new(o, "last_problem", str_or_null(st->last_problem));
    json_object_set_new(o, "failures", json_integer(st->failures));
    json_object_set_new(o, "backoff_until",
                        time_or_null(p, st->next_try > now ? st->next_try
                                                            : 0));
    json_object_set_new(o, "challenge", str_or_null(st->challenge));
    json_object_set_new(o, "renewals", json_integer(st->renewals));
}

apr_status_t acme_status_lineage(json_t **pobj, const acme_store_t *store,
                                 const char *name,
                                 const acme_status_opts_t *opts,
                                 apr_pool_t *p)
{
    apr_time_t now = opts->now ? opts->now : apr_time_now();
    const acme_md_t *md = md_find(opts->mds, name);
    json_t *facts = NULL, *o;
    acme_state_t *st;
    apr_time_t when, not_after;
    const char *reason;
    int has_state;

    *pobj = NULL;
    if (!name_ok(name) || (opts->mds && !md)) {
        return ACME_ENOTFOUND;
    }
    if (opts->source == ACME_STATUS_FROM_SNAPSHOT) {
        snapshot_load(&facts, store, name, p);
    }
    else {
        acme_status_cert_facts(&facts, store, name, md, now, p);
    }
    st = state_read(store, name, &has_state, p);
    if (!facts && !md && !has_state && !conf_exists(store, name, p)) {
        return ACME_ENOTFOUND;
    }

    o = json_object();
    json_object_set_new(o, "name", json_string(name));
    json_object_set_new(o, "domains", domains_json(facts, md, st));
    reason = next_renewal(&when, &not_after, facts, st, now);
    json_object_set_new(o, "state", json_string(state_word(facts, st, when,
                                                           not_after, now)));
#define FACT(k) json_object_set_new(o, k, facts \
        ? copy_or_null(json_object_get(facts, k)) : json_null())
    FACT("not_before");
    FACT("not_after");
    FACT("serial");
    FACT("issuer");
    FACT("key_type");
    FACT("version");
#undef FACT
    json_object_set_new(o, "next_renewal", time_or_null(p, when));
    json_object_set_new(o, "next_renewal_reason", json_string(reason));
    json_object_set_new(o, "ari", ari_json(facts, st, p));
    set_attempts(o, st, now, p);
    json_object_set_new(o, "paths", facts
                        ? copy_or_null(json_object_get(facts, "paths"))
                        : json_null());
    if (facts) json_decref(facts);
    *pobj = o;
    return APR_SUCCESS;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The names of state/<name>.json files. */
static void add_state_names(apr_array_header_t *names,
                            const acme_store_t *store, apr_pool_t *p)
{
    apr_dir_t *d;
    apr_finfo_t fi;

    if (apr_dir_open(&d, acme_store_path(store, p, "state", NULL), p)
        != APR_SUCCESS) {
        return;
    }
    while (apr_dir_read(&fi, APR_FINFO_NAME | APR_FINFO_TYPE, d)
           == APR_SUCCESS) {
        apr_size_t n = strlen(fi.name);
        if (fi.filetype == APR_REG && n > 5 && fi.name[0] != '.'
            && !strcmp(fi.name + n - 5, ".json")) {
            const char *name = apr_pstrndup(p, fi.name, n - 5);
            if (!acme_array_contains(names, name)) {
                APR_ARRAY_PUSH(names, const char *) = name;
            }
        }
    }
    apr_dir_close(d);
}

json_t *acme_status_all(const acme_store_t *store,
                        const acme_status_opts_t *opts, apr_pool_t *p)
{
    apr_time_t now = opts->now ? opts->now : apr_time_now();
    acme_status_opts_t o = *opts;
    apr_array_header_t *names;
    json_t *out = json_object(), *list = json_array();
    int i;

    o.now = now;
    if (opts->mds) {
        names = apr_array_make(p, opts->mds->nelts, sizeof(const char *));
        for (i = 0; i < opts->mds->nelts; i++) {
            const char *n = APR_ARRAY_IDX(opts->mds, i, acme_md_t *)->name;
            if (!acme_array_contains(names, n)) {
                APR_ARRAY_PUSH(names, const char *) = n;
            }
        }
    }
    else {
        if (acme_store_lineage_list(&names, store, p) != APR_SUCCESS
            || !names) {
            names = apr_array_make(p, 4, sizeof(const char *));
        }
        add_state_names(names, store, p);
    }
    qsort(names->elts, names->nelts, sizeof(const char *), cmp_str);
    for (i = 0; i < names->nelts; i++) {
        json_t *one = NULL;
        if (acme_status_lineage(&one, store, APR_ARRAY_IDX(names, i,
                                const char *), &o, p) == APR_SUCCESS) {
            json_array_append_new(list, one);
        }
    }
    json_object_set_new(out, "certificates", list);
    json_object_set_new(out, "generated", json_string(acme_iso_time(p, now)));
    return out;
}

/* --- Prometheus --- */

const char *acme_status_prom_escape(apr_pool_t *p, const char *s)
{
    apr_size_t n = 0;
    const char *c;
    char *out, *o;

    for (c = s; *c; c++) {
        n += (*c == '\\' || *c == '"' || *c == '\n') ? 2 : 1;
    }
    o = out = apr_palloc(p, n + 1);
    for (c = s; *c; c++) {
        if (*c == '\\' || *c == '"') {
            *o++ = '\\';
            *o++ = *c;
        }
        else if (*c == '\n') {
            *o++ = '\\';
            *o++ = 'n';
        }
        else {
            *o++ = *c;
        }
    }
    *o = '\0';
    return out;
}

typedef enum { M_TIME, M_INT, M_VALID } metric_kind_e;

typedef struct metric_t {
    const char *name;
    const char *type;
    const char *help;
    const char *field;
    metric_kind_e kind;
} metric_t;

static const metric_t metrics[] = {
    { "acme_certificate_not_after_seconds", "gauge",
      "Expiry of the certificate (notAfter), Unix time.", "not_after",
      M_TIME },
    { "acme_certificate_not_before_seconds", "gauge",
      "Start of the certificate's validity (notBefore), Unix time.",
      "not_before", M_TIME },
    { "acme_certificate_next_renewal_seconds", "gauge",
      "When the next attempt to obtain or renew is due, Unix time.",
      "next_renewal", M_TIME },
    { "acme_certificate_last_success_seconds", "gauge",
      "Last successful issuance, Unix time.", "last_success", M_TIME },
    { "acme_certificate_failures", "gauge",
      "Consecutive failed attempts (0 after a success).", "failures", M_INT },
    { "acme_certificate_renewals_total", "counter",
      "Certificates obtained for this lineage by mod_acme.", "renewals",
      M_INT },
    { "acme_certificate_valid", "gauge",
      "1 when a certificate is in place, not expired and not revoked.",
      "state", M_VALID },
};

const char *acme_status_prometheus(const json_t *all, apr_pool_t *p)
{
    json_t *list = json_object_get(all, "certificates");
    apr_array_header_t *lines = apr_array_make(p, 64, sizeof(const char *));
    size_t i, m;

    for (m = 0; m < sizeof(metrics) / sizeof(metrics[0]); m++) {
        const metric_t *mt = &metrics[m];
        APR_ARRAY_PUSH(lines, const char *) = apr_psprintf(p,
            "# HELP %s %s\n# TYPE %s %s\n", mt->name, mt->help, mt->name,
            mt->type);
        for (i = 0; i < json_array_size(list); i++) {
            json_t *c = json_array_get(list, i);
            json_t *v = json_object_get(c, mt->field);
            const char *name = json_string_value(json_object_get(c, "name"));
            apr_int64_t val;

            if (!name) {
                continue;
            }
            switch (mt->kind) {
            case M_TIME: {
                apr_time_t t = acme_status_parse_time(json_string_value(v));
                if (!t) {
                    continue;
                }
                val = apr_time_sec(t);
                break;
            }
            case M_INT:
                val = (apr_int64_t)json_integer_value(v);
                break;
            default: {
                const char *s = json_string_value(v);
                val = s && (!strcmp(s, ACME_STATUS_VALID)
                            || !strcmp(s, ACME_STATUS_RENEWING)
                            || !strcmp(s, ACME_STATUS_ERROR));
                break;
            }
            }
            APR_ARRAY_PUSH(lines, const char *) = apr_psprintf(p,
                "%s{name=\"%s\"} %" APR_INT64_T_FMT "\n", mt->name,
                acme_status_prom_escape(p, name), val);
        }
    }
    return apr_array_pstrcat(p, lines, '\0');
}
