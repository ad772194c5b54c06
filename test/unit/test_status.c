/* Unit tests: acme_status (the status handler's and `acmectl status`'s
 * engine). A store made here with self-signed lineages of chosen dates and
 * hand-written state files gives every "state" value; the Prometheus text
 * is checked with a strict parser of the exposition format written here. */
#include <ctype.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/stat.h>

#include <apr_hash.h>
#include <openssl/x509v3.h>

#include "acme_test.h"
#include "acme_status.h"
#include "acme_ari.h"
#include "acme_cert.h"
#include "acme_util.h"

#define DAY apr_time_from_sec(86400)

static const char *tmpdir(apr_pool_t *p)
{
    char *d = apr_pstrdup(p, "/tmp/acme-unit-status-XXXXXX");
    return mkdtemp(d);
}

static apr_array_header_t *names1(apr_pool_t *p, const char *n)
{
    apr_array_header_t *a = apr_array_make(p, 1, sizeof(const char *));
    APR_ARRAY_PUSH(a, const char *) = n;
    return a;
}

static acme_md_t *md_make(apr_pool_t *p, const char *name)
{
    acme_md_t *md = apr_pcalloc(p, sizeof(*md));
    md->name = name;
    md->names = names1(p, name);
    md->key_type = ACME_KEY_EC256;
    md->challenges = names1(p, "http-01");
    return md;
}

/* Stores a self-signed EC P-256 lineage for name valid from now+from to
 * now+to (seconds may be negative), with an AKI (so it has an ARI
 * CertID). Returns its serial (lowercase hex). */
static const char *store_lineage(acme_store_t *s, apr_pool_t *p,
                                 const char *name, long from, long to)
{
    acme_key_t *key;
    acme_cert_t *cert;
    const char *kpem, *cpem;
    apr_size_t klen;
    X509 *x;
    int v = 0;

    if (acme_key_generate(&key, p, ACME_KEY_EC256, NULL) != APR_SUCCESS
        || acme_cert_self_signed(&cert, p, key, names1(p, name), DAY,
                                 NULL) != APR_SUCCESS) {
        ACME_CHECK(0, "cannot make a certificate for %s", name);
        return "";
    }
    x = acme_cert_x509(cert);
    X509_gmtime_adj(X509_getm_notBefore(x), from);
    X509_gmtime_adj(X509_getm_notAfter(x), to);
    {
        /* AKI = SHA-1 of the public key, as its SKI */
        AUTHORITY_KEYID *aki = AUTHORITY_KEYID_new();
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int mdlen = 0;
        X509_pubkey_digest(x, EVP_sha1(), md, &mdlen);
        aki->keyid = ASN1_OCTET_STRING_new();
        ASN1_OCTET_STRING_set(aki->keyid, md, (int)mdlen);
        X509_add1_ext_i2d(x, NID_authority_key_identifier, aki, 0, 0);
        AUTHORITY_KEYID_free(aki);
    }
    X509_sign(x, acme_key_evp(key), EVP_sha256());
    acme_key_to_pem(&kpem, &klen, p, key);
    cpem = acme_cert_to_pem(p, cert);
    ACME_CHECK_RV(acme_store_lineage_save(s, name, cpem, "", kpem, NULL, &v,
                                          p, NULL));
    return acme_cert_serial_hex(p, cert);
}

static void state_write(acme_store_t *s, apr_pool_t *p, const char *name,
                        const char *json)
{
    json_t *j = json_loads(json, 0, NULL);
    ACME_CHECK(j != NULL, "bad test JSON for %s", name);
    if (j) {
        ACME_CHECK_RV(acme_store_state_save(s, name, j, p));
        json_decref(j);
    }
}

static json_t *find(json_t *all, const char *name)
{
    json_t *list = json_object_get(all, "certificates");
    size_t i;

    for (i = 0; i < json_array_size(list); i++) {
        json_t *c = json_array_get(list, i);
        if (!strcmp(json_string_value(json_object_get(c, "name")), name)) {
            return c;
        }
    }
    return NULL;
}

static const char *jstr(json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));
    return v ? v : "(null)";
}

/* Every field of the schema is present in every object. */
static const char *const fields[] = {
    "name", "domains", "state", "not_before", "not_after", "serial",
    "issuer", "key_type", "version", "next_renewal", "next_renewal_reason",
    "last_attempt", "last_success", "last_error", "last_problem",
    "failures", "backoff_until", "challenge", "renewals", "paths", "ari",
    NULL
};

static void check_fields(json_t *c)
{
    int i;

    for (i = 0; fields[i]; i++) {
        ACME_CHECK(json_object_get(c, fields[i]) != NULL, "%s: no field %s",
                   jstr(c, "name"), fields[i]);
    }
    ACME_CHECK((int)json_object_size(c) == i, "%s: %d fields, want %d",
               jstr(c, "name"), (int)json_object_size(c), i);
}

/* --- a strict parser of Prometheus' text format 0.0.4 --- */

typedef struct prom_sample_t {
    char metric[128];
    char label_name[64];
    char label_value[256];
    double value;
} prom_sample_t;

static int metric_name_ok(const char *s, size_t n)
{
    size_t i;

    if (!n || !(isalpha((unsigned char)s[0]) || s[0] == '_' || s[0] == ':')) {
        return 0;
    }
    for (i = 1; i < n; i++) {
        if (!(isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == ':')) {
            return 0;
        }
    }
    return 1;
}

/* Parses the text; returns the number of samples (stored in out, at most
 * max) or -1 with the line in *pbad. Checks: only HELP/TYPE comments or
 * samples, newline at the end of every line, valid names, TYPE once per
 * metric and before its samples, a known type, one label name="value"
 * with only \\ \" \n escapes, a numeric value, no duplicate series. */
static int prom_parse(const char *text, prom_sample_t *out, int max,
                      const char **pbad, apr_pool_t *p)
{
    apr_hash_t *typed = apr_hash_make(p), *helped = apr_hash_make(p);
    apr_hash_t *series = apr_hash_make(p);
    const char *line = text;
    int n = 0;

    if (!*text || text[strlen(text) - 1] != '\n') {
        *pbad = "no final newline";
        return -1;
    }
    while (*line) {
        const char *eol = strchr(line, '\n');
        char *l = apr_pstrndup(p, line, eol - line);
        line = eol + 1;
        *pbad = l;
        if (!strncmp(l, "# HELP ", 7) || !strncmp(l, "# TYPE ", 7)) {
            char *name = l + 7, *sp = strchr(name, ' ');
            if (!sp || !metric_name_ok(name, sp - name)) {
                return -1;
            }
            *sp = '\0';
            if (l[2] == 'H') {
                if (apr_hash_get(helped, name, APR_HASH_KEY_STRING)) {
                    return -1;
                }
                apr_hash_set(helped, name, APR_HASH_KEY_STRING, "");
            }
            else {
                const char *t = sp + 1;
                if (apr_hash_get(typed, name, APR_HASH_KEY_STRING)
                    || (strcmp(t, "gauge") && strcmp(t, "counter")
                        && strcmp(t, "untyped") && strcmp(t, "summary")
                        && strcmp(t, "histogram"))) {
                    return -1;
                }
                apr_hash_set(typed, name, APR_HASH_KEY_STRING, t);
            }
            continue;
        }
        if (l[0] == '#' || !l[0]) {
            return -1;          /* we never write other comments or blanks */
        }
        {
            prom_sample_t *s = n < max ? &out[n] : NULL;
            const char *c = l, *b = strchr(l, '{');
            char *o, *end;
            size_t nl;
            if (!b || !metric_name_ok(l, b - l) || !s
                || (size_t)(b - l) >= sizeof(s->metric)) {
                return -1;
            }
            memcpy(s->metric, l, b - l);
            s->metric[b - l] = '\0';
            if (!apr_hash_get(typed, s->metric, APR_HASH_KEY_STRING)) {
                return -1;      /* TYPE must come before the samples */
            }
            c = b + 1;
            nl = strcspn(c, "=");
            if (!metric_name_ok(c, nl) || nl >= sizeof(s->label_name)
                || c[nl] != '=' || c[nl + 1] != '"') {
                return -1;
            }
            memcpy(s->label_name, c, nl);
            s->label_name[nl] = '\0';
            c += nl + 2;
            o = s->label_value;
            while (*c && *c != '"') {
                if (o - s->label_value >= (int)sizeof(s->label_value) - 1) {
                    return -1;
                }
                if (*c == '\\') {
                    c++;
                    if (*c == 'n') *o++ = '\n';
                    else if (*c == '\\' || *c == '"') *o++ = *c;
                    else return -1;
                    c++;
                }
                else if (*c == '\n') {
                    return -1;
                }
                else {
                    *o++ = *c++;
                }
            }
            *o = '\0';
            if (*c != '"' || c[1] != '}' || c[2] != ' ') {
                return -1;
            }
            c += 3;
            s->value = strtod(c, &end);
            if (end == c || *end) {
                return -1;
            }
            {
                const char *key = apr_pstrcat(p, s->metric, "\n",
                                              s->label_value, NULL);
                if (apr_hash_get(series, key, APR_HASH_KEY_STRING)) {
                    return -1;
                }
                apr_hash_set(series, key, APR_HASH_KEY_STRING, "");
            }
            n++;
        }
    }
    *pbad = NULL;
    return n;
}

static double sample(prom_sample_t *s, int n, const char *metric,
                     const char *name, int *found)
{
    int i;

    for (i = 0; i < n; i++) {
        if (!strcmp(s[i].metric, metric) && !strcmp(s[i].label_value, name)) {
            *found = 1;
            return s[i].value;
        }
    }
    *found = 0;
    return 0;
}

/* --- the tests --- */

static acme_store_t *g_store;
static apr_array_header_t *g_mds;
static const char *g_revoked_serial;

static void make_world(apr_pool_t *p)
{
    apr_time_t now = apr_time_now();
    const char *serial;
    apr_array_header_t *certs;
    const char *cert_id = NULL;

    ACME_CHECK_RV(acme_store_open(&g_store, p, tmpdir(p), 1, NULL));
    g_mds = apr_array_make(p, 8, sizeof(acme_md_t *));

    /* valid: 90 days, 1 day old */
    store_lineage(g_store, p, "valid.test", -86400, 89L * 86400);
    state_write(g_store, p, "valid.test", apr_psprintf(p,
        "{\"status\": \"valid\", \"failures\": 0, \"next_try\": 0,"
        " \"last_attempt\": %ld, \"last_success\": %ld, \"renewals\": 3,"
        " \"challenge\": \"http-01\", \"version\": 1, \"last_error\": null,"
        " \"last_problem\": null}", (long)apr_time_sec(now) - 86400,
        (long)apr_time_sec(now) - 86400));
    /* renewing: 90 days, 80 days old (inside the last third) */
    store_lineage(g_store, p, "renewing.test", -80L * 86400, 10L * 86400);
    /* error: valid but the last attempt failed; backing off */
    store_lineage(g_store, p, "error.test", -80L * 86400, 10L * 86400);
    state_write(g_store, p, "error.test", apr_psprintf(p,
        "{\"status\": \"error\", \"failures\": 2, \"next_try\": %ld,"
        " \"last_attempt\": %ld, \"last_error\": \"Error creating new order"
        " :: the CA said \\\"no\\\"\", \"last_problem\":"
        " \"urn:ietf:params:acme:error:rejectedIdentifier\","
        " \"renewals\": 1, \"last_success\": %ld}",
        (long)apr_time_sec(now) + 600, (long)apr_time_sec(now) - 60,
        (long)apr_time_sec(now) - 80L * 86400));
    /* expired */
    store_lineage(g_store, p, "expired.test", -100L * 86400, -86400);
    /* revoked */
    g_revoked_serial = store_lineage(g_store, p, "revoked.test", -86400,
                                     89L * 86400);
    state_write(g_store, p, "revoked.test", apr_psprintf(p,
        "{\"revoked\": 1, \"revocation_reason\": 1, \"revoked_serial\":"
        " \"%s\"}", g_revoked_serial));
    /* revoked before: a newer certificate is not revoked */
    store_lineage(g_store, p, "reissued.test", -86400, 89L * 86400);
    state_write(g_store, p, "reissued.test",
                "{\"revoked\": 1, \"revoked_serial\": \"00deadbeef\"}");
    /* fallback: managed, no certificate, the first attempt failed */
    state_write(g_store, p, "fallback.test", apr_psprintf(p,
        "{\"status\": \"error\", \"failures\": 1, \"next_try\": %ld,"
        " \"name\": \"fallback.test\", \"names\": [\"fallback.test\","
        " \"www.fallback.test\"], \"last_error\": \"cannot reach the CA\"}",
        (long)apr_time_sec(now) + 60));
    /* ari: the recorded window for this certificate decides */
    serial = store_lineage(g_store, p, "ari.test", -86400, 89L * 86400);
    (void)serial;
    ACME_CHECK_RV(acme_chain_load(&certs, p, acme_store_path(g_store, p,
                  "live", "ari.test", "cert.pem", NULL), NULL));
    ACME_CHECK_RV(acme_ari_cert_id(&cert_id, p, APR_ARRAY_IDX(certs, 0,
                                   acme_cert_t *), NULL));
    state_write(g_store, p, "ari.test", apr_psprintf(p,
        "{\"ari\": {\"cert_id\": \"%s\", \"start\": \"%s\", \"end\": \"%s\","
        " \"chosen\": \"2030-01-02T03:04:05Z\", \"next_fetch\": \"%s\"}}",
        cert_id ? cert_id : "", "2030-01-01T00:00:00Z",
        "2030-01-03T00:00:00Z", acme_iso_time(p, now + DAY)));

    {
        const char *managed[] = { "valid.test", "renewing.test", "error.test",
                                  "expired.test", "revoked.test",
                                  "fallback.test", "ari.test", NULL };
        int i;
        for (i = 0; managed[i]; i++) {
            acme_md_t *md = md_make(p, managed[i]);
            if (!strcmp(managed[i], "fallback.test")) {
                APR_ARRAY_PUSH(md->names, const char *) = "www.fallback.test";
            }
            APR_ARRAY_PUSH(g_mds, acme_md_t *) = md;
        }
    }
}

static void test_states_from_store(apr_pool_t *p)
{
    acme_status_opts_t o = { ACME_STATUS_FROM_STORE, NULL, 0 };
    json_t *all = acme_status_all(g_store, &o, p), *c;
    size_t i;

    for (i = 0; i < json_array_size(json_object_get(all, "certificates"));
         i++) {
        check_fields(json_array_get(json_object_get(all, "certificates"), i));
    }
    ACME_CHECK(acme_status_parse_time(jstr(all, "generated")) > 0,
               "generated %s", jstr(all, "generated"));

    c = find(all, "valid.test");
    ACME_CHECK(c != NULL, "valid.test listed");
    ACME_CHECK_STR(jstr(c, "state"), "valid");
    ACME_CHECK_STR(jstr(c, "next_renewal_reason"), "window");
    ACME_CHECK_STR(jstr(c, "key_type"), "ec256");
    ACME_CHECK_STR(jstr(c, "challenge"), "http-01");
    ACME_CHECK(json_integer_value(json_object_get(c, "renewals")) == 3, "3");
    ACME_CHECK(json_integer_value(json_object_get(c, "version")) == 1, "v1");
    ACME_CHECK(json_is_null(json_object_get(c, "backoff_until")), "no backoff");
    ACME_CHECK(json_is_null(json_object_get(c, "last_error")), "no error");
    ACME_CHECK(json_string_value(json_object_get(c, "serial"))
               && strlen(jstr(c, "serial")) > 4, "serial");
    {
        /* next renewal: a third of 90 days before expiry = 60 days after
         * notBefore */
        apr_time_t nb = acme_status_parse_time(jstr(c, "not_before"));
        apr_time_t nr = acme_status_parse_time(jstr(c, "next_renewal"));
        ACME_CHECK(nr - nb == 60 * DAY, "next renewal %s, not_before %s",
                   jstr(c, "next_renewal"), jstr(c, "not_before"));
    }
    {
        json_t *paths = json_object_get(c, "paths");
        ACME_CHECK(strstr(jstr(paths, "cert"), "/live/valid.test/cert.pem")
                   != NULL, "cert path %s", jstr(paths, "cert"));
        ACME_CHECK(strstr(jstr(paths, "privkey"),
                          "/live/valid.test/privkey.pem") != NULL, "key path");
        ACME_CHECK(json_is_string(json_object_get(paths, "chain"))
                   && json_is_string(json_object_get(paths, "fullchain")),
                   "chain, fullchain");
    }

    c = find(all, "renewing.test");
    ACME_CHECK_STR(jstr(c, "state"), "renewing");
    ACME_CHECK_STR(jstr(c, "next_renewal_reason"), "window");
    ACME_CHECK(json_integer_value(json_object_get(c, "failures")) == 0, "0");
    ACME_CHECK(json_is_null(json_object_get(c, "last_attempt")), "never");

    c = find(all, "error.test");
    ACME_CHECK_STR(jstr(c, "state"), "error");
    ACME_CHECK_STR(jstr(c, "last_error"),
                   "Error creating new order :: the CA said \"no\"");
    ACME_CHECK_STR(jstr(c, "last_problem"),
                   "urn:ietf:params:acme:error:rejectedIdentifier");
    ACME_CHECK(json_integer_value(json_object_get(c, "failures")) == 2, "2");
    ACME_CHECK(acme_status_parse_time(jstr(c, "backoff_until"))
               > apr_time_now(), "backoff_until %s in the future",
               jstr(c, "backoff_until"));
    ACME_CHECK_STR(jstr(c, "next_renewal"), jstr(c, "backoff_until"));

    c = find(all, "expired.test");
    ACME_CHECK_STR(jstr(c, "state"), "expired");
    ACME_CHECK_STR(jstr(c, "next_renewal_reason"), "expired");

    c = find(all, "revoked.test");
    ACME_CHECK_STR(jstr(c, "state"), "revoked");
    ACME_CHECK_STR(jstr(c, "serial"), g_revoked_serial);
    ACME_CHECK_STR(jstr(c, "next_renewal_reason"), "revoked");
    c = find(all, "reissued.test");
    ACME_CHECK_STR(jstr(c, "state"), "valid");

    /* without the server's list, a lineage known from its state file */
    c = find(all, "fallback.test");
    ACME_CHECK(c != NULL, "fallback.test from state/");
    ACME_CHECK_STR(jstr(c, "state"), "fallback");
    ACME_CHECK_STR(jstr(c, "next_renewal_reason"), "missing");
    ACME_CHECK(json_array_size(json_object_get(c, "domains")) == 2,
               "names from the state file");
    ACME_CHECK(json_is_null(json_object_get(c, "not_after"))
               && json_is_null(json_object_get(c, "paths")), "no certificate");
    ACME_CHECK_STR(jstr(c, "last_error"), "cannot reach the CA");

    c = find(all, "ari.test");
    ACME_CHECK_STR(jstr(c, "state"), "valid");
    ACME_CHECK_STR(jstr(c, "next_renewal_reason"), "ari");
    ACME_CHECK_STR(jstr(c, "next_renewal"), "2030-01-02T03:04:05Z");
    ACME_CHECK_STR(jstr(json_object_get(c, "ari"), "chosen"),
                   "2030-01-02T03:04:05Z");
    ACME_CHECK(json_is_null(json_object_get(find(all, "valid.test"), "ari")),
               "no ARI window: null");

    /* sorted by name */
    {
        json_t *list = json_object_get(all, "certificates");
        for (i = 1; i < json_array_size(list); i++) {
            ACME_CHECK(strcmp(jstr(json_array_get(list, i - 1), "name"),
                              jstr(json_array_get(list, i), "name")) < 0,
                       "order at %d", (int)i);
        }
    }
    json_decref(all);
}

/* ari.test's status with the ARI window in a state file written as json. */
static json_t *ari_status(apr_pool_t *p, const char *json)
{
    acme_status_opts_t o = { ACME_STATUS_FROM_STORE, g_mds, 0 };
    json_t *c = NULL;

    state_write(g_store, p, "ari.test", json);
    ACME_CHECK_RV(acme_status_lineage(&c, g_store, "ari.test", &o, p));
    return c;
}

/* The module wrote the ARI window's times as integer seconds, acmectl as
 * RFC 3339 strings: the status gives the same window for both. */
static void test_ari_forms(apr_pool_t *p)
{
    const char *cert_id = NULL;
    apr_array_header_t *certs = NULL;
    json_t *ints, *strs, *other, *a;
    const char *fmt;

    ACME_CHECK_RV(acme_chain_load(&certs, p, acme_store_path(g_store, p,
                  "live", "ari.test", "cert.pem", NULL), NULL));
    ACME_CHECK_RV(acme_ari_cert_id(&cert_id, p, APR_ARRAY_IDX(certs, 0,
                                   acme_cert_t *), NULL));
    fmt = "{\"ari\": {\"cert_id\": \"%s\", \"start\": %s, \"end\": %s,"
          " \"chosen\": %s, \"next_fetch\": %s,"
          " \"explanation\": \"https://ca.test/why\"}}";
    /* 2030-01-01T00:00:00Z and on */
    ints = ari_status(p, apr_psprintf(p, fmt, cert_id, "1893456000",
                                      "1893628800", "1893553445",
                                      "1893459600"));
    strs = ari_status(p, apr_psprintf(p, fmt, cert_id,
        "\"2030-01-01T00:00:00Z\"", "\"2030-01-03T00:00:00Z\"",
        "\"2030-01-02T03:04:05Z\"", "\"2030-01-01T01:00:00Z\""));
    other = ari_status(p, apr_psprintf(p, fmt, "not-this-cert",
        "\"2030-01-01T00:00:00Z\"", "\"2030-01-03T00:00:00Z\"",
        "\"2030-01-02T03:04:05Z\"", "\"2030-01-01T01:00:00Z\""));
    a = json_object_get(ints, "ari");
    ACME_CHECK(json_is_object(a), "integer times: an ari object");
    ACME_CHECK(json_equal(a, json_object_get(strs, "ari")),
               "integer and string times give the same ari object");
    ACME_CHECK_STR(jstr(a, "start"), "2030-01-01T00:00:00Z");
    ACME_CHECK_STR(jstr(a, "end"), "2030-01-03T00:00:00Z");
    ACME_CHECK_STR(jstr(a, "chosen"), "2030-01-02T03:04:05Z");
    ACME_CHECK_STR(jstr(a, "next_fetch"), "2030-01-01T01:00:00Z");
    ACME_CHECK_STR(jstr(a, "explanation"), "https://ca.test/why");
    ACME_CHECK_STR(jstr(ints, "next_renewal_reason"), "ari");
    ACME_CHECK_STR(jstr(ints, "next_renewal"), "2030-01-02T03:04:05Z");
    ACME_CHECK_STR(jstr(strs, "next_renewal"), "2030-01-02T03:04:05Z");
    ACME_CHECK(json_is_null(json_object_get(other, "ari")),
               "a window for another certificate: null");
    ACME_CHECK_STR(jstr(other, "next_renewal_reason"), "window");
    /* no explanation: null */
    json_decref(other);
    other = ari_status(p, apr_psprintf(p, "{\"ari\": {\"cert_id\": \"%s\","
                                       " \"chosen\": 1893553445}}", cert_id));
    ACME_CHECK(json_is_null(json_object_get(json_object_get(other, "ari"),
                                            "explanation")),
               "no explanation: null");
    ACME_CHECK(json_is_null(json_object_get(json_object_get(other, "ari"),
                                            "start")), "no start: null");
    if (ints) json_decref(ints);
    if (strs) json_decref(strs);
    if (other) json_decref(other);
}

static void test_managed_and_single(apr_pool_t *p)
{
    acme_status_opts_t o = { ACME_STATUS_FROM_STORE, g_mds, 0 };
    json_t *all = acme_status_all(g_store, &o, p), *one = NULL;
    acme_md_t *other;

    ACME_CHECK(json_array_size(json_object_get(all, "certificates")) == 7,
               "exactly the managed lineages: %d",
               (int)json_array_size(json_object_get(all, "certificates")));
    ACME_CHECK(find(all, "reissued.test") == NULL, "unmanaged left out");
    ACME_CHECK_STR(jstr(find(all, "fallback.test"), "state"), "fallback");
    json_decref(all);

    ACME_CHECK_RV(acme_status_lineage(&one, g_store, "error.test", &o, p));
    ACME_CHECK_STR(jstr(one, "state"), "error");
    if (one) json_decref(one);
    ACME_CHECK(acme_status_lineage(&one, g_store, "reissued.test", &o, p)
               == ACME_ENOTFOUND && !one, "not managed: not found");
    o.mds = NULL;
    ACME_CHECK(acme_status_lineage(&one, g_store, "nothing.test", &o, p)
               == ACME_ENOTFOUND && !one, "unknown: not found");
    ACME_CHECK(acme_status_lineage(&one, g_store, "../state/x", &o, p)
               == ACME_ENOTFOUND && !one, "path: not found");

    /* the server wants other names: it serves its fallback */
    other = md_make(p, "valid.test");
    APR_ARRAY_PUSH(other->names, const char *) = "www.valid.test";
    o.mds = apr_array_make(p, 1, sizeof(acme_md_t *));
    APR_ARRAY_PUSH((apr_array_header_t *)o.mds, acme_md_t *) = other;
    ACME_CHECK_RV(acme_status_lineage(&one, g_store, "valid.test", &o, p));
    ACME_CHECK_STR(jstr(one, "state"), "fallback");
    if (one) json_decref(one);
}

static void test_snapshot(apr_pool_t *p)
{
    acme_status_opts_t os = { ACME_STATUS_FROM_STORE, g_mds, 0 };
    acme_status_opts_t on = { ACME_STATUS_FROM_SNAPSHOT, g_mds, 0 };
    const char *dir = acme_status_dir(g_store, p);
    apr_finfo_t fi;
    json_t *a, *b;
    char *text, *data;
    apr_size_t len;
    int i;

    os.now = on.now = apr_time_now();
    /* a stale summary of a lineage no longer managed goes away */
    acme_mkdir(dir, 0x0755, p);
    acme_file_write_atomic(apr_pstrcat(p, dir, "/gone.test.json", NULL),
                           "{}", 2, 0x0644, p);
    ACME_CHECK_RV(acme_status_snapshot_write(g_store, g_mds, os.now, NULL, p));
    ACME_CHECK(apr_stat(&fi, apr_pstrcat(p, dir, "/gone.test.json", NULL),
                        APR_FINFO_TYPE, p) != APR_SUCCESS, "stale removed");
    ACME_CHECK(apr_stat(&fi, apr_pstrcat(p, dir, "/fallback.test.json",
                        NULL), APR_FINFO_TYPE, p) != APR_SUCCESS,
               "no summary without a certificate");
    ACME_CHECK_RV(apr_stat(&fi, dir, APR_FINFO_PROT, p));
    ACME_CHECK(fi.protection == 0x0755, "status/ mode %x", fi.protection);
    for (i = 0; i < g_mds->nelts; i++) {
        const char *n = APR_ARRAY_IDX(g_mds, i, acme_md_t *)->name;
        const char *f = apr_pstrcat(p, dir, "/", n, ".json", NULL);
        if (!strcmp(n, "fallback.test")) {
            continue;
        }
        ACME_CHECK_RV(apr_stat(&fi, f, APR_FINFO_PROT, p));
        ACME_CHECK(fi.protection == 0x0644, "%s mode %x", f, fi.protection);
        ACME_CHECK_RV(acme_file_read(&data, &len, p, f, 1 << 20));
        ACME_CHECK(!strstr(data, "PRIVATE KEY") && !strstr(data, "BEGIN"),
                   "%s holds no PEM", f);
    }
    /* the summaries give the same objects as the store itself */
    a = acme_status_all(g_store, &os, p);
    b = acme_status_all(g_store, &on, p);
    ACME_CHECK(json_equal(a, b), "snapshot == store");
    if (!json_equal(a, b)) {
        text = json_dumps(b, JSON_INDENT(1));
        printf("# snapshot: %s\n", text);
        free(text);
    }
    json_decref(a);
    json_decref(b);
}

/* acme_status_snapshot_write at the next start: a summary that would not
 * change is not written again (same file), a summary left for a lineage
 * that now has no certificate is removed. */
static void test_snapshot_rewrite(apr_pool_t *p)
{
    const char *dir = acme_status_dir(g_store, p), *f, *fb;
    apr_finfo_t f1, f2;
    apr_time_t now = apr_time_now();

    f = apr_pstrcat(p, dir, "/valid.test.json", NULL);
    fb = apr_pstrcat(p, dir, "/fallback.test.json", NULL);
    ACME_CHECK_RV(acme_status_snapshot_write(g_store, g_mds, now, NULL, p));
    ACME_CHECK_RV(apr_stat(&f1, f, APR_FINFO_PROT | APR_FINFO_INODE, p));
    ACME_CHECK(f1.protection == 0x0644, "mode %x", f1.protection);
    /* a stale summary where the lineage now serves its fallback */
    ACME_CHECK_RV(acme_file_write_atomic(fb, "{}", 2, 0x0644, p));
    ACME_CHECK_RV(acme_status_snapshot_write(g_store, g_mds,
                                             now + apr_time_from_sec(5),
                                             NULL, p));
    ACME_CHECK_RV(apr_stat(&f2, f, APR_FINFO_INODE, p));
    ACME_CHECK(f1.inode == f2.inode, "an unchanged summary is not rewritten");
    ACME_CHECK(apr_stat(&f1, fb, APR_FINFO_TYPE, p) != APR_SUCCESS,
               "the summary of a lineage without a certificate is removed");
}

static void test_prometheus(apr_pool_t *p)
{
    acme_status_opts_t o = { ACME_STATUS_FROM_STORE, g_mds, 0 };
    json_t *all = acme_status_all(g_store, &o, p);
    const char *text = acme_status_prometheus(all, p), *bad = NULL;
    prom_sample_t s[200];
    int n, found;
    double v;

    n = prom_parse(text, s, 200, &bad, p);
    ACME_CHECK(n > 0, "parse error at '%s'", bad ? bad : "");
    ACME_CHECK(strstr(text, "# TYPE acme_certificate_renewals_total counter\n")
               != NULL, "counter type");
    ACME_CHECK(strstr(text, "# TYPE acme_certificate_failures gauge\n")
               != NULL, "gauge type");
    ACME_CHECK(strstr(text, "# HELP acme_certificate_valid ") != NULL, "help");
    v = sample(s, n, "acme_certificate_valid", "valid.test", &found);
    ACME_CHECK(found && v == 1, "valid.test valid=%g", v);
    v = sample(s, n, "acme_certificate_valid", "error.test", &found);
    ACME_CHECK(found && v == 1, "error.test still valid=%g", v);
    v = sample(s, n, "acme_certificate_valid", "expired.test", &found);
    ACME_CHECK(found && v == 0, "expired.test valid=%g", v);
    v = sample(s, n, "acme_certificate_valid", "revoked.test", &found);
    ACME_CHECK(found && v == 0, "revoked.test valid=%g", v);
    v = sample(s, n, "acme_certificate_valid", "fallback.test", &found);
    ACME_CHECK(found && v == 0, "fallback.test valid=%g", v);
    v = sample(s, n, "acme_certificate_failures", "error.test", &found);
    ACME_CHECK(found && v == 2, "failures=%g", v);
    v = sample(s, n, "acme_certificate_renewals_total", "valid.test", &found);
    ACME_CHECK(found && v == 3, "renewals=%g", v);
    v = sample(s, n, "acme_certificate_not_after_seconds", "valid.test",
               &found);
    ACME_CHECK(found && (apr_time_t)v * APR_USEC_PER_SEC ==
               acme_status_parse_time(jstr(find(all, "valid.test"),
                                           "not_after")), "not_after=%g", v);
    sample(s, n, "acme_certificate_not_after_seconds", "fallback.test",
           &found);
    ACME_CHECK(!found, "no not_after without a certificate");
    v = sample(s, n, "acme_certificate_last_success_seconds", "valid.test",
               &found);
    ACME_CHECK(found && v > 1.7e9, "last_success=%g", v);
    ACME_CHECK(sample(s, n, "acme_certificate_not_before_seconds",
                      "valid.test", &found) > 0 && found, "not_before");
    json_decref(all);

    /* label escaping: backslash, double quote, newline */
    {
        json_t *odd = json_pack("{s:[{s:s, s:s, s:i, s:i}]}", "certificates",
                                "name", "we\"ird\\name\nx", "state", "valid",
                                "failures", 1, "renewals", 2);
        text = acme_status_prometheus(odd, p);
        ACME_CHECK(strstr(text, "acme_certificate_failures{name=\"we\\\"ird"
                          "\\\\name\\nx\"} 1\n") != NULL, "escaped: %s",
                   text);
        n = prom_parse(text, s, 200, &bad, p);
        ACME_CHECK(n > 0, "parse error at '%s'", bad ? bad : "");
        v = sample(s, n, "acme_certificate_renewals_total",
                   "we\"ird\\name\nx", &found);
        ACME_CHECK(found && v == 2, "label round trip");
        json_decref(odd);
        ACME_CHECK_STR(acme_status_prom_escape(p, "a\\b\"c\nd"),
                       "a\\\\b\\\"c\\nd");
    }
    /* the parser itself rejects what the format forbids */
    ACME_CHECK(prom_parse("x{name=\"a\"} 1\n", s, 200, &bad, p) < 0,
               "sample before TYPE");
    ACME_CHECK(prom_parse("# TYPE x gauge\nx{name=\"a\\q\"} 1\n", s, 200,
                          &bad, p) < 0, "bad escape");
    ACME_CHECK(prom_parse("# TYPE x gauge\nx{name=\"a\"} one\n", s, 200,
                          &bad, p) < 0, "bad value");
    ACME_CHECK(prom_parse("# TYPE x gauge\nx{name=\"a\"} 1", s, 200, &bad,
                          p) < 0, "no newline");
}

int main(void)
{
    apr_pool_t *world;

    acme_test_init();
    apr_pool_create(&world, NULL);
    make_world(world);
    ACME_TEST_RUN(test_states_from_store);
    ACME_TEST_RUN(test_managed_and_single);
    ACME_TEST_RUN(test_snapshot);
    ACME_TEST_RUN(test_snapshot_rewrite);
    ACME_TEST_RUN(test_prometheus);
    ACME_TEST_RUN(test_ari_forms);
    if (g_store && strstr(g_store->base, "acme-unit-status-")) {
        char *cmd = apr_psprintf(world, "rm -rf '%s'", g_store->base);
        if (getenv("ACME_TEST_KEEP") || system(cmd) != 0) {
            printf("# could not remove %s\n", g_store->base);
        }
    }
    return ACME_TEST_DONE();
}
