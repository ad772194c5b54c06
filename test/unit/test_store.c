/* Unit tests: the store (src/acme_store.c, acme_lineage.c,
 * acme_renewal_conf.c, acme_account_store.c). */
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <apr_file_info.h>
#include <apr_file_io.h>

#include "acme_test.h"
#include "acme_cert.h"
#include "acme_key.h"
#include "acme_names.h"
#include "acme_store.h"
#include "acme_store_int.h"
#include "acme_util.h"

/* A fresh, not yet existing directory under the system's temp dir. */
static const char *temp_store_dir(apr_pool_t *p)
{
    const char *tmp = NULL;
    static int seq;

    apr_temp_dir_get(&tmp, p);
    return apr_psprintf(p, "%s/acme-test-store-%ld-%d-%u", tmp ? tmp : "/tmp",
                        (long)getpid(), ++seq,
                        (unsigned)acme_random_uniform(1000000));
}

static acme_store_t *make_store(apr_pool_t *p)
{
    acme_store_t *s = NULL;
    acme_err_t err = { 0 };
    apr_status_t rv = acme_store_open(&s, p, temp_store_dir(p), 1, &err);

    ACME_CHECK(rv == APR_SUCCESS && s, "open(create): %s",
               err.msg ? err.msg : "");
    return s;
}

static void drop_store(acme_store_t *s, apr_pool_t *p)
{
    if (s && strstr(s->base, "acme-test-store-")) {
        acme_store_remove_tree(s->base, p);
    }
}

/* The permission bits of path as a Unix mode (lstat), or -1: checked with
 * POSIX rather than APR so that a mistake in APR's hex-coded permission
 * bits (0x0755, not 0755) shows. */
static int mode_of(const char *path, apr_pool_t *p)
{
    struct stat st;

    if (lstat(path, &st) != 0) {
        return -1;
    }
    return (int)(st.st_mode & 07777);
}

static const char *link_of(const char *path, apr_pool_t *p)
{
    char buf[1024];
    ssize_t n = readlink(path, buf, sizeof(buf) - 1);

    if (n < 0) {
        return NULL;
    }
    buf[n] = '\0';
    return apr_pstrdup(p, buf);
}

static apr_array_header_t *names2(apr_pool_t *p, const char *a, const char *b)
{
    apr_array_header_t *n = apr_array_make(p, 2, sizeof(const char *));

    APR_ARRAY_PUSH(n, const char *) = a;
    if (b) {
        APR_ARRAY_PUSH(n, const char *) = b;
    }
    return n;
}

/* A key and a self-signed certificate for names, as PEM. */
typedef struct {
    const char *cert_pem;
    const char *key_pem;
    const char *serial;
} material_t;

static int make_material(material_t *m, apr_pool_t *p,
                         apr_array_header_t *names)
{
    acme_key_t *key = NULL;
    acme_cert_t *cert = NULL;
    acme_err_t err = { 0 };
    apr_size_t len;

    memset(m, 0, sizeof(*m));
    if (acme_key_generate(&key, p, ACME_KEY_EC256, &err) != APR_SUCCESS
        || acme_cert_self_signed(&cert, p, key, names,
                                 apr_time_from_sec(86400 * 90), &err)
           != APR_SUCCESS
        || acme_key_to_pem(&m->key_pem, &len, p, key) != APR_SUCCESS) {
        ACME_CHECK(0, "cannot make test material: %s",
                   err.msg ? err.msg : "");
        return 0;
    }
    m->cert_pem = acme_cert_to_pem(p, cert);
    m->serial = acme_cert_serial_hex(p, cert);
    return m->cert_pem != NULL;
}

static acme_renewal_conf_t *sample_conf(apr_pool_t *p)
{
    acme_renewal_conf_t *conf = acme_renewal_conf_make(p);

    apr_table_set(conf->params, "account", "0123456789abcdef0123456789abcdef");
    apr_table_set(conf->params, "authenticator", "webroot");
    apr_table_set(conf->params, "server",
                  "https://localhost:14000/dir");
    apr_table_set(conf->params, "key_type", "ecdsa");
    apr_table_set(conf->params, "pre_hook", "echo 'before' # not a comment");
    apr_table_set(conf->webroot_map, "example.org", "/var/www/html");
    apr_table_set(conf->webroot_map, "www.example.org", "/var/www/www");
    return conf;
}

typedef struct {
    apr_table_t *other;
    int same;
} cmp_ctx_t;

static int cmp_entry(void *baton, const char *key, const char *value)
{
    cmp_ctx_t *c = baton;
    const char *v = apr_table_get(c->other, key);

    if (!v || strcmp(v, value) != 0) {
        printf("# %s: '%s' != '%s'\n", key, value, v ? v : "(missing)");
        c->same = 0;
    }
    return 1;
}

static int tables_equal(apr_table_t *a, apr_table_t *b)
{
    cmp_ctx_t c;

    if (apr_table_elts(a)->nelts != apr_table_elts(b)->nelts) {
        printf("# %d entries != %d entries\n", apr_table_elts(a)->nelts,
               apr_table_elts(b)->nelts);
        return 0;
    }
    c.other = b;
    c.same = 1;
    apr_table_do(cmp_entry, &c, a, NULL);
    return c.same;
}

/* Points live/<name>/<kind>.pem at target, as a crash half-way would. */
static void relink(acme_store_t *s, apr_pool_t *p, const char *name,
                   const char *kind, const char *target)
{
    const char *path = acme_store_path(s, p, "live", name,
                                       apr_pstrcat(p, kind, ".pem", NULL),
                                       NULL);

    unlink(path);
    ACME_CHECK(symlink(target, path) == 0, "symlink %s: %s", path,
               strerror(errno));
}

/* --- tests --- */

static void test_open_modes(apr_pool_t *p)
{
    static const struct { const char *dir; int mode; } want[] = {
        { "accounts", 0700 }, { "archive", 0700 }, { "live", 0700 },
        { "renewal", 0755 }, { "renewal-hooks", 0755 },
        { "renewal-hooks/pre", 0755 }, { "renewal-hooks/deploy", 0755 },
        { "renewal-hooks/post", 0755 }, { "challenges", 0755 },
        { "staging", 0700 }, { "state", 0755 },
    };
    const char *dir = temp_store_dir(p);
    acme_store_t *s = NULL;
    acme_err_t err = { 0 };
    apr_status_t rv;
    apr_size_t i;

    rv = acme_store_open(&s, p, dir, 0, &err);
    ACME_CHECK(rv == APR_ENOENT && s == NULL, "open missing: %d", rv);
    ACME_CHECK(err.msg && strstr(err.msg, dir), "message: %s",
               err.msg ? err.msg : "");

    rv = acme_store_open(&s, p, dir, 1, &err);
    ACME_CHECK_RV(rv);
    if (!s) {
        return;
    }
    ACME_CHECK_STR(s->base, dir);
    ACME_CHECK(mode_of(s->base, p) == 0755, "top %o", mode_of(s->base, p));
    for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        int m = mode_of(acme_store_path(s, p, want[i].dir, NULL), p);
        ACME_CHECK(m == want[i].mode, "%s: mode %o, want %o", want[i].dir, m,
                   want[i].mode);
    }
    ACME_CHECK_STR(acme_store_path(s, p, "live", "x", "cert.pem", NULL),
                   apr_pstrcat(p, dir, "/live/x/cert.pem", NULL));

    /* an administrator's mode on an existing directory is kept */
    apr_file_perms_set(acme_store_path(s, p, "live", NULL),
                       APR_FPROT_UREAD | APR_FPROT_UWRITE | APR_FPROT_UEXECUTE
                       | APR_FPROT_GEXECUTE);
    rv = acme_store_open(&s, p, apr_pstrcat(p, dir, "/", NULL), 1, &err);
    ACME_CHECK_RV(rv);
    ACME_CHECK_STR(s ? s->base : NULL, dir);
    ACME_CHECK(mode_of(acme_store_path(s, p, "live", NULL), p) == 0710,
               "live %o", mode_of(acme_store_path(s, p, "live", NULL), p));
    rv = acme_store_open(&s, p, dir, 0, &err);
    ACME_CHECK_RV(rv);
    drop_store(s, p);
}

static void test_lineage_save_load(apr_pool_t *p)
{
    static const char *const kinds[] = { "cert", "chain", "fullchain",
                                         "privkey" };
    acme_store_t *s = make_store(p);
    apr_array_header_t *names = names2(p, "example.org", "www.example.org");
    material_t m1, m2, ca;
    acme_renewal_conf_t *conf, *back = NULL;
    acme_lineage_t *l = NULL;
    acme_err_t err = { 0 };
    apr_array_header_t *list = NULL;
    const char *found = NULL, *path;
    char *text = NULL;
    apr_status_t rv;
    int v = 0, i, k;

    if (!s || !make_material(&m1, p, names) || !make_material(&m2, p, names)
        || !make_material(&ca, p, names2(p, "ca.example.net", NULL))) {
        goto cleanup;
    }
    conf = sample_conf(p);
    rv = acme_store_lineage_save(s, "example.org", m1.cert_pem, ca.cert_pem,
                                 m1.key_pem, conf, &v, p, &err);
    ACME_CHECK(rv == APR_SUCCESS, "save 1: %s", err.msg ? err.msg : "");
    ACME_CHECK(v == 1, "version %d", v);
    rv = acme_store_lineage_save(s, "example.org", m2.cert_pem, ca.cert_pem,
                                 m2.key_pem, sample_conf(p), &v, p, &err);
    ACME_CHECK(rv == APR_SUCCESS, "save 2: %s", err.msg ? err.msg : "");
    ACME_CHECK(v == 2, "version %d", v);

    for (i = 1; i <= 2; i++) {
        for (k = 0; k < 4; k++) {
            path = acme_store_path(s, p, "archive", "example.org",
                                   apr_psprintf(p, "%s%d.pem", kinds[k], i),
                                   NULL);
            ACME_CHECK(mode_of(path, p) == (k == 3 ? 0600 : 0644),
                       "%s mode %o", path, mode_of(path, p));
        }
    }
    for (k = 0; k < 4; k++) {
        path = acme_store_path(s, p, "live", "example.org",
                               apr_pstrcat(p, kinds[k], ".pem", NULL), NULL);
        ACME_CHECK_STR(link_of(path, p),
                       apr_psprintf(p, "../../archive/example.org/%s2.pem",
                                    kinds[k]));
    }
    ACME_CHECK(mode_of(acme_store_path(s, p, "archive", "example.org", NULL),
                       p) == 0700, "archive/example.org not 0700");
    ACME_CHECK(mode_of(acme_store_path(s, p, "live", "example.org", NULL),
                       p) == 0700, "live/example.org not 0700");
    path = acme_store_path(s, p, "live", "example.org", "README", NULL);
    ACME_CHECK(acme_file_read(&text, NULL, p, path, 65536) == APR_SUCCESS
               && strstr(text, "fullchain.pem") && strstr(text, "privkey.pem"),
               "README");

    /* the content behind the links is version 2's */
    path = acme_store_path(s, p, "live", "example.org", "privkey.pem", NULL);
    ACME_CHECK(acme_file_read(&text, NULL, p, path, 65536) == APR_SUCCESS
               && !strcmp(text, m2.key_pem), "live privkey is not key 2");
    path = acme_store_path(s, p, "live", "example.org", "fullchain.pem", NULL);
    ACME_CHECK(acme_file_read(&text, NULL, p, path, 65536) == APR_SUCCESS
               && !strcmp(text, apr_pstrcat(p, m2.cert_pem, ca.cert_pem,
                                            NULL)), "fullchain = cert+chain");

    /* renewal conf */
    path = acme_store_path(s, p, "renewal", "example.org.conf", NULL);
    ACME_CHECK(mode_of(path, p) == 0644, "conf mode %o", mode_of(path, p));
    rv = acme_file_read(&text, NULL, p, path, 65536);
    ACME_CHECK_RV(rv);
    if (rv == APR_SUCCESS) {
        rv = acme_renewal_conf_parse(&back, p, text, &err);
        ACME_CHECK(rv == APR_SUCCESS && back, "parse: %s",
                   err.msg ? err.msg : "");
    }
    if (back) {
        ACME_CHECK(tables_equal(back->params, sample_conf(p)->params),
                   "params differ");
        ACME_CHECK(tables_equal(back->webroot_map,
                                sample_conf(p)->webroot_map),
                   "webroot_map differs");
        ACME_CHECK_STR(apr_table_get(back->top, "version"), "2.0.0");
        ACME_CHECK_STR(apr_table_get(back->top, "archive_dir"),
                       acme_store_path(s, p, "archive", "example.org", NULL));
        for (k = 0; k < 4; k++) {
            ACME_CHECK_STR(apr_table_get(back->top, kinds[k]),
                           acme_store_path(s, p, "live", "example.org",
                                           apr_pstrcat(p, kinds[k], ".pem",
                                                       NULL), NULL));
        }
    }

    /* load */
    rv = acme_store_lineage_load(&l, s, "example.org", p, &err);
    ACME_CHECK(rv == APR_SUCCESS && l, "load: %s", err.msg ? err.msg : "");
    if (l) {
        ACME_CHECK(l->version == 2, "loaded version %d", l->version);
        ACME_CHECK_STR(l->serial, m2.serial);
        ACME_CHECK(acme_names_equal(l->names, names), "names %s",
                   acme_array_join(p, l->names, ","));
        ACME_CHECK(l->not_after > apr_time_now() + apr_time_from_sec(86400
                                                                     * 89),
                   "not_after");
        ACME_CHECK(l->not_before <= apr_time_now() + apr_time_from_sec(5),
                   "not_before");
        ACME_CHECK_STR(l->issuer_cn, "example.org");
        ACME_CHECK_STR(l->fullchain_path,
                       acme_store_path(s, p, "live", "example.org",
                                       "fullchain.pem", NULL));
        ACME_CHECK(l->conf && tables_equal(l->conf->webroot_map,
                                           sample_conf(p)->webroot_map),
                   "lineage conf");
    }

    /* list and find */
    rv = acme_store_lineage_list(&list, s, p);
    ACME_CHECK(rv == APR_SUCCESS && list && list->nelts == 1
               && !strcmp(APR_ARRAY_IDX(list, 0, const char *),
                          "example.org"), "list");
    rv = acme_store_lineage_find(&found, s,
                                 names2(p, "WWW.example.org", "example.org"),
                                 p);
    ACME_CHECK(rv == APR_SUCCESS, "find: %d", rv);
    ACME_CHECK_STR(found, "example.org");
    rv = acme_store_lineage_find(&found, s, names2(p, "example.org", NULL), p);
    ACME_CHECK(rv == APR_SUCCESS && found == NULL, "find subset: %s",
               found ? found : "");

    rv = acme_store_lineage_load(&l, s, "nothere.org", p, &err);
    ACME_CHECK(rv == ACME_ENOTFOUND, "load missing: %d", rv);
    rv = acme_store_lineage_load(&l, s, "../live", p, &err);
    ACME_CHECK(rv == ACME_EINVAL, "load ../live: %d", rv);
cleanup:
    drop_store(s, p);
}

/* The lineage cache parses a lineage again only when it changed. */
static void test_lineage_cache(apr_pool_t *p)
{
    acme_store_t *s = make_store(p);
    apr_array_header_t *names = names2(p, "c.example.org", NULL);
    acme_lineage_cache_t *c = acme_lineage_cache_make(p);
    acme_lineage_t *a = NULL, *b = NULL;
    material_t m1, m2;
    int v = 0;

    if (!s || !make_material(&m1, p, names) || !make_material(&m2, p, names)) {
        return;
    }
    ACME_CHECK(acme_store_lineage_load_cached(&a, s, "c.example.org", c, p,
                                              NULL) == ACME_ENOTFOUND,
               "missing: not found");
    ACME_CHECK_RV(acme_store_lineage_save(s, "c.example.org", m1.cert_pem, "",
                                          m1.key_pem, sample_conf(p), &v, p,
                                          NULL));
    ACME_CHECK_RV(acme_store_lineage_load_cached(&a, s, "c.example.org", c,
                                                 p, NULL));
    ACME_CHECK_RV(acme_store_lineage_load_cached(&b, s, "c.example.org", c,
                                                 p, NULL));
    ACME_CHECK(a && a == b && a->version == 1, "unchanged: the same lineage");
    ACME_CHECK_RV(acme_store_lineage_save(s, "c.example.org", m2.cert_pem, "",
                                          m2.key_pem, sample_conf(p), &v, p,
                                          NULL));
    ACME_CHECK_RV(acme_store_lineage_load_cached(&b, s, "c.example.org", c,
                                                 p, NULL));
    ACME_CHECK(b && b->version == 2, "a new version is read");
}

static void test_lineage_skips_partial(apr_pool_t *p)
{
    acme_store_t *s = make_store(p);
    material_t m;
    acme_err_t err = { 0 };
    const char *stray, *path;
    char *text = NULL;
    apr_status_t rv;
    int v = 0;

    if (!s || !make_material(&m, p, names2(p, "partial.example", NULL))) {
        goto cleanup;
    }
    rv = acme_store_lineage_save(s, "partial.example", m.cert_pem, "",
                                 m.key_pem, NULL, &v, p, &err);
    ACME_CHECK(rv == APR_SUCCESS && v == 1, "save: %d %s", v,
               err.msg ? err.msg : "");
    /* an earlier run died after writing part of versions 2 and 3 */
    stray = acme_store_path(s, p, "archive", "partial.example", "cert3.pem",
                            NULL);
    acme_file_write_atomic(stray, "stray", 5, 0x0644, p);
    acme_file_write_atomic(acme_store_path(s, p, "archive", "partial.example",
                                           "privkey2.pem", NULL),
                           "stray key", 9, 0x0644, p);
    rv = acme_store_lineage_save(s, "partial.example", m.cert_pem, "",
                                 m.key_pem, NULL, &v, p, &err);
    ACME_CHECK(rv == APR_SUCCESS && v == 4, "save after partial: v %d %s", v,
               err.msg ? err.msg : "");
    ACME_CHECK(acme_file_read(&text, NULL, p, stray, 100) == APR_SUCCESS
               && !strcmp(text, "stray"), "stray file overwritten");
    path = acme_store_path(s, p, "live", "partial.example", "cert.pem", NULL);
    ACME_CHECK_STR(link_of(path, p), "../../archive/partial.example/cert4.pem");
    /* fullchain without a chain is the certificate */
    path = acme_store_path(s, p, "live", "partial.example", "fullchain.pem",
                           NULL);
    ACME_CHECK(acme_file_read(&text, NULL, p, path, 65536) == APR_SUCCESS
               && !strcmp(text, m.cert_pem), "fullchain without chain");

    /* a bad name is refused before anything is written */
    rv = acme_store_lineage_save(s, "../evil", m.cert_pem, "", m.key_pem,
                                 NULL, &v, p, &err);
    ACME_CHECK(rv == ACME_EINVAL, "bad name: %d", rv);
cleanup:
    drop_store(s, p);
}

/* A failure before the link flip changes nothing visible and leaves no
 * half-written version behind. */
static void test_lineage_save_failure(apr_pool_t *p)
{
    acme_store_t *s = make_store(p);
    apr_array_header_t *names = names2(p, "fail.example", NULL);
    material_t m1, m2;
    acme_err_t err = { 0 };
    acme_lineage_t *l = NULL;
    const char *blocker;
    apr_status_t rv;
    int v = 0;

    if (!s || !make_material(&m1, p, names) || !make_material(&m2, p, names)) {
        goto cleanup;
    }
    rv = acme_store_lineage_save(s, "fail.example", m1.cert_pem, "",
                                 m1.key_pem, NULL, &v, p, &err);
    ACME_CHECK(rv == APR_SUCCESS && v == 1, "save 1");
    /* something that is not a file where privkey2.pem would go */
    blocker = acme_store_path(s, p, "archive", "fail.example", "privkey2.pem",
                              NULL);
    acme_mkdir(blocker, 0x0700, p);
    acme_err_clear(&err);
    rv = acme_store_lineage_save(s, "fail.example", m2.cert_pem, "",
                                 m2.key_pem, NULL, &v, p, &err);
    ACME_CHECK(rv != APR_SUCCESS, "save over a blocker succeeded");
    ACME_CHECK(v == 0, "version %d reported", v);
    ACME_CHECK(err.msg && strstr(err.msg, blocker), "message: %s",
               err.msg ? err.msg : "");
    ACME_CHECK(!acme_store_exists(acme_store_path(s, p, "archive",
                                                  "fail.example", "cert2.pem",
                                                  NULL), p),
               "cert2.pem left behind");
    ACME_CHECK_STR(link_of(acme_store_path(s, p, "live", "fail.example",
                                           "cert.pem", NULL), p),
                   "../../archive/fail.example/cert1.pem");
    rv = acme_store_lineage_load(&l, s, "fail.example", p, &err);
    ACME_CHECK(rv == APR_SUCCESS && l && l->version == 1
               && !strcmp(l->serial, m1.serial), "still version 1");

    /* a new lineage whose archive directory cannot be made: no live/ dir */
    acme_file_write_atomic(acme_store_path(s, p, "archive", "new.example",
                                           NULL), "x", 1, 0x0644, p);
    acme_err_clear(&err);
    rv = acme_store_lineage_save(s, "new.example", m2.cert_pem, "",
                                 m2.key_pem, NULL, &v, p, &err);
    ACME_CHECK(rv != APR_SUCCESS, "save with a blocked archive dir");
    ACME_CHECK(err.msg && strstr(err.msg, "cannot create")
               && strstr(err.msg, "archive/new.example"), "message: %s",
               err.msg ? err.msg : "");
    ACME_CHECK(!acme_store_exists(acme_store_path(s, p, "live", "new.example",
                                                  NULL), p), "live dir made");
    ACME_CHECK(!acme_store_exists(acme_store_path(s, p, "renewal",
                                                  "new.example.conf", NULL),
                                  p), "conf written");

    /* the renewal conf cannot be written (a directory in its place): the
     * links have not moved, so the previous version is still live, as the
     * error says */
    apr_dir_remove(acme_store_path(s, p, "archive", "fail.example",
                                   "privkey2.pem", NULL), p);
    apr_file_remove(acme_store_path(s, p, "renewal", "fail.example.conf",
                                    NULL), p);
    acme_mkdir(acme_store_path(s, p, "renewal", "fail.example.conf", NULL),
               0x0700, p);
    acme_err_clear(&err);
    rv = acme_store_lineage_save(s, "fail.example", m2.cert_pem, "",
                                 m2.key_pem, NULL, &v, p, &err);
    ACME_CHECK(rv != APR_SUCCESS && err.msg
               && strstr(err.msg, "fail.example.conf"),
               "a blocked renewal conf is an error: %s",
               err.msg ? err.msg : "(none)");
    ACME_CHECK_STR(link_of(acme_store_path(s, p, "live", "fail.example",
                                           "cert.pem", NULL), p),
                   "../../archive/fail.example/cert1.pem");
    ACME_CHECK_STR(link_of(acme_store_path(s, p, "live", "fail.example",
                                           "privkey.pem", NULL), p),
                   "../../archive/fail.example/privkey1.pem");
cleanup:
    drop_store(s, p);
}

static void test_lineage_repair(apr_pool_t *p)
{
    acme_store_t *s = make_store(p);
    apr_array_header_t *names = names2(p, "repair.example", NULL);
    material_t m1, m2;
    acme_lineage_t *l = NULL;
    acme_err_t err = { 0 };
    const char *live;
    apr_status_t rv;
    int v = 0;

    if (!s || !make_material(&m1, p, names) || !make_material(&m2, p, names)) {
        goto cleanup;
    }
    acme_store_lineage_save(s, "repair.example", m1.cert_pem, "", m1.key_pem,
                            NULL, &v, p, &err);
    rv = acme_store_lineage_save(s, "repair.example", m2.cert_pem, "",
                                 m2.key_pem, NULL, &v, p, &err);
    ACME_CHECK(rv == APR_SUCCESS && v == 2, "saves: %s",
               err.msg ? err.msg : "");

    /* half-flipped: cert.pem at 1, the others at 2 */
    relink(s, p, "repair.example", "cert",
           "../../archive/repair.example/cert1.pem");
    rv = acme_store_lineage_load(&l, s, "repair.example", p, &err);
    ACME_CHECK(rv == APR_SUCCESS && l, "load: %s", err.msg ? err.msg : "");
    ACME_CHECK(l && l->version == 2, "repaired to %d", l ? l->version : -1);
    ACME_CHECK_STR(l ? l->serial : NULL, m2.serial);
    live = acme_store_path(s, p, "live", "repair.example", "cert.pem", NULL);
    ACME_CHECK_STR(link_of(live, p), "../../archive/repair.example/cert2.pem");

    /* version 2 lost its key: the links go back to the complete version 1 */
    apr_file_remove(acme_store_path(s, p, "archive", "repair.example",
                                    "privkey2.pem", NULL), p);
    relink(s, p, "repair.example", "chain",
           "../../archive/repair.example/chain1.pem");
    rv = acme_store_lineage_load(&l, s, "repair.example", p, &err);
    ACME_CHECK(rv == APR_SUCCESS && l && l->version == 1, "repair to 1: %s",
               err.msg ? err.msg : "");
    ACME_CHECK_STR(l ? l->serial : NULL, m1.serial);
    ACME_CHECK_STR(link_of(acme_store_path(s, p, "live", "repair.example",
                                           "privkey.pem", NULL), p),
                   "../../archive/repair.example/privkey1.pem");

    /* version 3 whose key does not match its certificate is not chosen */
    acme_file_write_atomic(acme_store_path(s, p, "archive", "repair.example",
                                           "cert3.pem", NULL),
                           m1.cert_pem, strlen(m1.cert_pem), 0x0644, p);
    acme_file_write_atomic(acme_store_path(s, p, "archive", "repair.example",
                                           "chain3.pem", NULL), "", 0, 0x0644,
                           p);
    acme_file_write_atomic(acme_store_path(s, p, "archive", "repair.example",
                                           "fullchain3.pem", NULL),
                           m1.cert_pem, strlen(m1.cert_pem), 0x0644, p);
    acme_file_write_atomic(acme_store_path(s, p, "archive", "repair.example",
                                           "privkey3.pem", NULL),
                           m2.key_pem, strlen(m2.key_pem), 0x0644, p);
    relink(s, p, "repair.example", "cert",
           "../../archive/repair.example/cert3.pem");
    rv = acme_store_lineage_load(&l, s, "repair.example", p, &err);
    ACME_CHECK(rv == APR_SUCCESS && l && l->version == 1, "mismatch: %d",
               l ? l->version : -1);

    /* nothing complete left: a clear error */
    apr_file_remove(acme_store_path(s, p, "archive", "repair.example",
                                    "privkey1.pem", NULL), p);
    relink(s, p, "repair.example", "cert",
           "../../archive/repair.example/cert2.pem");
    acme_err_clear(&err);
    rv = acme_store_lineage_load(&l, s, "repair.example", p, &err);
    ACME_CHECK(rv != APR_SUCCESS, "broken lineage loaded");
    ACME_CHECK(err.msg && strstr(err.msg, "repair.example")
               && strstr(err.msg, "no complete version"), "message: %s",
               err.msg ? err.msg : "");
cleanup:
    drop_store(s, p);
}

static void test_free_name_and_delete(apr_pool_t *p)
{
    acme_store_t *s = make_store(p);
    material_t m;
    acme_err_t err = { 0 };
    acme_lineage_t *l = NULL;
    json_t *st;
    apr_array_header_t *list = NULL;
    apr_status_t rv;
    int v;

    if (!s || !make_material(&m, p, names2(p, "example.org", NULL))) {
        goto cleanup;
    }
    ACME_CHECK_STR(acme_store_lineage_free_name(s, "example.org", p),
                   "example.org");
    rv = acme_store_lineage_save(s, "example.org", m.cert_pem, "", m.key_pem,
                                 NULL, &v, p, &err);
    ACME_CHECK_RV(rv);
    ACME_CHECK_STR(acme_store_lineage_free_name(s, "example.org", p),
                   "example.org-0001");
    acme_file_write_atomic(acme_store_path(s, p, "renewal",
                                           "example.org-0001.conf", NULL),
                           "", 0, 0x0644, p);
    ACME_CHECK_STR(acme_store_lineage_free_name(s, "example.org", p),
                   "example.org-0002");
    acme_mkdir(acme_store_path(s, p, "archive", "example.org-0002", NULL),
               0x0755, p);
    ACME_CHECK_STR(acme_store_lineage_free_name(s, "example.org", p),
                   "example.org-0003");

    st = json_pack("{s:i}", "failures", 3);
    ACME_CHECK_RV(acme_store_state_save(s, "example.org", st, p));
    json_decref(st);

    rv = acme_store_lineage_delete(s, "example.org", p, &err);
    ACME_CHECK(rv == APR_SUCCESS, "delete: %s", err.msg ? err.msg : "");
    ACME_CHECK(!acme_store_exists(acme_store_path(s, p, "live", "example.org",
                                                  NULL), p), "live left");
    ACME_CHECK(!acme_store_exists(acme_store_path(s, p, "archive",
                                                  "example.org", NULL), p),
               "archive left");
    ACME_CHECK(!acme_store_exists(acme_store_path(s, p, "renewal",
                                                  "example.org.conf", NULL),
                                  p), "conf left");
    ACME_CHECK(!acme_store_exists(acme_store_path(s, p, "state",
                                                  "example.org.json", NULL),
                                  p), "state left");
    rv = acme_store_lineage_load(&l, s, "example.org", p, &err);
    ACME_CHECK(rv == ACME_ENOTFOUND, "load after delete: %d", rv);
    /* the other lineages' files are untouched */
    ACME_CHECK(acme_store_exists(acme_store_path(s, p, "renewal",
                                                 "example.org-0001.conf",
                                                 NULL), p), "other conf");
    rv = acme_store_lineage_list(&list, s, p);
    ACME_CHECK(rv == APR_SUCCESS && list->nelts == 1
               && !strcmp(APR_ARRAY_IDX(list, 0, const char *),
                          "example.org-0001"), "list after delete");
    rv = acme_store_lineage_delete(s, "example.org", p, &err);
    ACME_CHECK(rv == APR_SUCCESS, "second delete: %s",
               err.msg ? err.msg : "");
    ACME_CHECK_STR(acme_store_lineage_free_name(s, "example.org", p),
                   "example.org");
cleanup:
    drop_store(s, p);
}

static void test_account_dir(apr_pool_t *p)
{
    acme_store_t s;

    s.pool = p;
    s.base = "/store";
    ACME_CHECK_STR(acme_store_account_dir(&s, p, "https://localhost:14000/dir"),
                   "/store/accounts/localhost:14000/dir");
    ACME_CHECK_STR(acme_store_account_dir(&s, p,
                   "https://acme-v02.api.letsencrypt.org/directory"),
                   "/store/accounts/acme-v02.api.letsencrypt.org/directory");
    ACME_CHECK_STR(acme_store_account_dir(&s, p,
                   "https://CA.Example/acme/v2/../dir/"),
                   "/store/accounts/ca.example/acme/v2/dir");
}

static void test_account_roundtrip(apr_pool_t *p)
{
    static const char *const url = "https://localhost:14000/dir";
    acme_store_t *s = make_store(p);
    acme_key_t *key = NULL, *key2 = NULL, *back = NULL;
    acme_err_t err = { 0 };
    const char *id = NULL, *id2 = NULL, *found = NULL, *acct_url = NULL;
    const unsigned char *d1, *d2;
    apr_size_t l1, l2;
    const char *dir;
    char *text = NULL;
    json_t *reg, *j;
    apr_status_t rv;

    if (!s || acme_key_generate(&key, p, ACME_KEY_EC256, &err) != APR_SUCCESS
        || acme_key_generate(&key2, p, ACME_KEY_EC256, &err)
           != APR_SUCCESS) {
        ACME_CHECK(0, "setup: %s", err.msg ? err.msg : "");
        goto cleanup;
    }
    rv = acme_store_account_find(&found, s, url, p);
    ACME_CHECK(rv == APR_SUCCESS && found == NULL, "find in empty store");

    reg = json_pack("{s:s,s:[s]}", "status", "valid", "contact",
                    "mailto:admin@example.org");
    rv = acme_store_account_save(&id, s, url, key,
                                 "https://localhost:14000/my-account/1", reg,
                                 p, &err);
    json_decref(reg);
    ACME_CHECK(rv == APR_SUCCESS && id, "save: %s", err.msg ? err.msg : "");
    ACME_CHECK(id && strlen(id) == 32 && strspn(id, "0123456789abcdef") == 32,
               "id '%s'", id ? id : "");
    if (!id) {
        goto cleanup;
    }
    dir = apr_pstrcat(p, acme_store_account_dir(s, p, url), "/", id, NULL);
    ACME_CHECK(mode_of(dir, p) == 0700, "account dir %o", mode_of(dir, p));
    ACME_CHECK(mode_of(apr_pstrcat(p, dir, "/private_key.pem", NULL), p)
               == 0600, "key mode");
    ACME_CHECK(acme_file_read(&text, NULL, p,
                              apr_pstrcat(p, dir, "/regr.json", NULL), 65536)
               == APR_SUCCESS, "regr.json");
    j = text ? json_loads(text, 0, NULL) : NULL;
    ACME_CHECK(j && json_is_string(json_object_get(j, "uri"))
               && !strcmp(json_string_value(json_object_get(j, "uri")),
                          "https://localhost:14000/my-account/1")
               && json_is_object(json_object_get(j, "body"))
               && json_object_get(json_object_get(j, "body"), "contact"),
               "regr.json content: %s", text ? text : "");
    json_decref(j);
    text = NULL;
    acme_file_read(&text, NULL, p, apr_pstrcat(p, dir, "/meta.json", NULL),
                   65536);
    j = text ? json_loads(text, 0, NULL) : NULL;
    ACME_CHECK(j && json_string_value(json_object_get(j, "creation_dt"))
               && strlen(json_string_value(json_object_get(j, "creation_dt")))
                  == 20
               && json_string_value(json_object_get(j, "creation_host")),
               "meta.json: %s", text ? text : "");
    json_decref(j);

    rv = acme_store_account_find(&found, s, url, p);
    ACME_CHECK(rv == APR_SUCCESS, "find: %d", rv);
    ACME_CHECK_STR(found, id);
    /* another CA has no account */
    rv = acme_store_account_find(&found, s,
                                 "https://acme-v02.api.letsencrypt.org/"
                                 "directory", p);
    ACME_CHECK(rv == APR_SUCCESS && found == NULL, "other CA");

    rv = acme_store_account_load(&back, &acct_url, s, url, id, p, &err);
    ACME_CHECK(rv == APR_SUCCESS && back, "load: %s", err.msg ? err.msg : "");
    ACME_CHECK_STR(acct_url, "https://localhost:14000/my-account/1");
    if (back) {
        ACME_CHECK(acme_key_public_der(&d1, &l1, p, key) == APR_SUCCESS
                   && acme_key_public_der(&d2, &l2, p, back) == APR_SUCCESS
                   && l1 == l2 && !memcmp(d1, d2, l1), "key differs");
    }
    rv = acme_store_account_load(&back, &acct_url, s, url, "0000", p, &err);
    ACME_CHECK(rv == ACME_ENOTFOUND, "load missing: %d", rv);

    /* a second account; find returns the first in sorted order, and the
     * other one once that is deleted */
    rv = acme_store_account_save(&id2, s, url, key2,
                                 "https://localhost:14000/my-account/2", NULL,
                                 p, &err);
    ACME_CHECK(rv == APR_SUCCESS && id2 && strcmp(id, id2) != 0, "save 2");
    if (!id2) {
        goto cleanup;
    }
    acme_store_account_find(&found, s, url, p);
    ACME_CHECK_STR(found, strcmp(id, id2) < 0 ? id : id2);
    ACME_CHECK_RV(acme_store_account_delete(s, url,
                                            strcmp(id, id2) < 0 ? id : id2,
                                            p));
    acme_store_account_find(&found, s, url, p);
    ACME_CHECK_STR(found, strcmp(id, id2) < 0 ? id2 : id);
cleanup:
    drop_store(s, p);
}

/* renewal/example.com.conf as Certbot 2.x writes it for a webroot lineage */
static const char certbot_conf[] =
    "# renew_before_expiry = 30 days\n"
    "version = 2.11.0\n"
    "archive_dir = /etc/letsencrypt/archive/herzbube.ch\n"
    "cert = /etc/letsencrypt/live/herzbube.ch/cert.pem\n"
    "privkey = /etc/letsencrypt/live/herzbube.ch/privkey.pem\n"
    "chain = /etc/letsencrypt/live/herzbube.ch/chain.pem\n"
    "fullchain = /etc/letsencrypt/live/herzbube.ch/fullchain.pem\n"
    "\n"
    "# Options used in the renewal process\n"
    "[renewalparams]\n"
    "account = 3c9fe4bdd5e1b1d5a8b0bf4aa3a5cd2a\n"
    "authenticator = webroot\n"
    "webroot_path = /var/www/html,\n"
    "server = https://acme-v02.api.letsencrypt.org/directory\n"
    "key_type = ecdsa\n"
    "deploy_hook = \"systemctl reload dovecot # and exim\"\n"
    "  post_hook = echo done   # inline comment\r\n"
    "[[webroot_map]]\n"
    "herzbube.ch = /var/www/html\n"
    "\"*.herzbube.ch\" = /var/www/html\n";

static void test_renewal_conf(apr_pool_t *p)
{
    acme_renewal_conf_t *conf = NULL, *again = NULL;
    acme_err_t err = { 0 };
    const char *text, *opt, *rp, *wm, *lastparam;
    apr_status_t rv;

    rv = acme_renewal_conf_parse(&conf, p, certbot_conf, &err);
    ACME_CHECK(rv == APR_SUCCESS && conf, "parse: %s", err.msg ? err.msg : "");
    if (!conf) {
        return;
    }
    ACME_CHECK(apr_table_elts(conf->top)->nelts == 6, "top %d",
               apr_table_elts(conf->top)->nelts);
    ACME_CHECK_STR(apr_table_get(conf->top, "version"), "2.11.0");
    ACME_CHECK_STR(apr_table_get(conf->top, "fullchain"),
                   "/etc/letsencrypt/live/herzbube.ch/fullchain.pem");
    ACME_CHECK(apr_table_elts(conf->params)->nelts == 7, "params %d",
               apr_table_elts(conf->params)->nelts);
    ACME_CHECK_STR(apr_table_get(conf->params, "authenticator"), "webroot");
    ACME_CHECK_STR(apr_table_get(conf->params, "webroot_path"),
                   "/var/www/html,");
    ACME_CHECK_STR(apr_table_get(conf->params, "account"),
                   "3c9fe4bdd5e1b1d5a8b0bf4aa3a5cd2a");
    ACME_CHECK_STR(apr_table_get(conf->params, "deploy_hook"),
                   "systemctl reload dovecot # and exim");
    ACME_CHECK_STR(apr_table_get(conf->params, "post_hook"), "echo done");
    ACME_CHECK(apr_table_get(conf->params, "herzbube.ch") == NULL,
               "webroot_map entry leaked into params");
    ACME_CHECK(apr_table_elts(conf->webroot_map)->nelts == 2, "map %d",
               apr_table_elts(conf->webroot_map)->nelts);
    ACME_CHECK_STR(apr_table_get(conf->webroot_map, "*.herzbube.ch"),
                   "/var/www/html");
    /* order is kept */
    ACME_CHECK_STR(apr_table_elts(conf->params)->nelts > 0
                   ? ((apr_table_entry_t *)apr_table_elts(conf->params)
                      ->elts)[0].key : NULL, "account");

    text = acme_renewal_conf_format(p, conf);
    opt = strstr(text, "\n\n# Options used in the renewal process\n"
                 "[renewalparams]\n");
    ACME_CHECK(opt != NULL, "layout: %s", text);
    ACME_CHECK(!strncmp(text, "# ", 2), "starts with a comment: %s", text);
    ACME_CHECK(strstr(text, "\nversion = 2.11.0\narchive_dir = ") != NULL,
               "top keys in order");
    rp = strstr(text, "[renewalparams]");
    wm = strstr(text, "[[webroot_map]]\n");
    lastparam = strstr(text, "post_hook = echo done\n");
    ACME_CHECK(rp && wm && lastparam && rp < lastparam && lastparam < wm,
               "params, then webroot_map: %s", text);
    ACME_CHECK(strstr(text, "deploy_hook = \"systemctl reload dovecot # and "
                      "exim\"\n") != NULL, "value with # quoted");
    ACME_CHECK(strstr(text, "\n*.herzbube.ch = /var/www/html\n") != NULL,
               "wildcard key: %s", text);
    rv = acme_renewal_conf_parse(&again, p, text, &err);
    ACME_CHECK(rv == APR_SUCCESS && again, "reparse");
    if (again) {
        ACME_CHECK(tables_equal(again->top, conf->top), "top round trip");
        ACME_CHECK(tables_equal(again->params, conf->params),
                   "params round trip");
        ACME_CHECK(tables_equal(again->webroot_map, conf->webroot_map),
                   "map round trip");
    }

    /* an empty conf still has the section */
    text = acme_renewal_conf_format(p, acme_renewal_conf_make(p));
    ACME_CHECK(strstr(text, "[renewalparams]\n") && !strstr(text, "webroot"),
               "empty: %s", text);

    acme_err_clear(&err);
    rv = acme_renewal_conf_parse(&again, p, "version = 1\nthis is junk\n",
                                 &err);
    ACME_CHECK(rv == ACME_EINVAL, "junk accepted");
    ACME_CHECK(err.msg && strstr(err.msg, "line 2"), "%s",
               err.msg ? err.msg : "");
    rv = acme_renewal_conf_parse(&again, p, "[renewalparams\n", &err);
    ACME_CHECK(rv == ACME_EINVAL, "bad section accepted");
    rv = acme_renewal_conf_parse(&again, p, "a = \"open\n", &err);
    ACME_CHECK(rv == ACME_EINVAL, "bad quote accepted");
}

static void test_state(apr_pool_t *p)
{
    acme_store_t *s = make_store(p);
    json_t *j = NULL, *back = NULL;
    apr_status_t rv;

    if (!s) {
        return;
    }
    rv = acme_store_state_load(&j, s, "example.org", p);
    ACME_CHECK(rv == APR_SUCCESS && json_is_object(j) && json_object_size(j)
               == 0, "missing state is {}");
    json_object_set_new(j, "failures", json_integer(2));
    json_object_set_new(j, "last_error", json_string("rate limited"));
    ACME_CHECK_RV(acme_store_state_save(s, "example.org", j, p));
    rv = acme_store_state_load(&back, s, "example.org", p);
    ACME_CHECK(rv == APR_SUCCESS && back && json_equal(j, back),
               "state round trip");
    json_decref(j);
    json_decref(back);
    back = NULL;

    acme_file_write_atomic(acme_store_path(s, p, "state", "bad.json", NULL),
                           "{not json", 9, 0x0644, p);
    rv = acme_store_state_load(&back, s, "bad", p);
    ACME_CHECK(rv != APR_SUCCESS && back == NULL, "corrupt state loaded");
    rv = acme_store_state_load(&back, s, "../x", p);
    ACME_CHECK(rv != APR_SUCCESS, "bad name accepted");
    drop_store(s, p);
}

static void test_lock(apr_pool_t *p)
{
    acme_store_t *s = make_store(p);
    apr_file_t *lock = NULL;
    pid_t pid;
    int status = -1;

    if (!s) {
        return;
    }
    ACME_CHECK_RV(acme_store_lock(&lock, s, 1, p));
    ACME_CHECK(lock != NULL, "no lock file");
    /* another process cannot take it */
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        apr_pool_t *cp;
        apr_file_t *l2 = NULL;
        apr_status_t rv;
        apr_pool_create(&cp, NULL);
        rv = acme_store_lock(&l2, s, 1, cp);
        _exit(rv == APR_EAGAIN ? 0 : rv == APR_SUCCESS ? 1 : 2);
    }
    waitpid(pid, &status, 0);
    ACME_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
               "second process: exit %d", WEXITSTATUS(status));
    /* once released it can */
    apr_file_close(lock);
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        apr_pool_t *cp;
        apr_file_t *l2 = NULL;
        apr_pool_create(&cp, NULL);
        _exit(acme_store_lock(&l2, s, 1, cp) == APR_SUCCESS ? 0 : 1);
    }
    waitpid(pid, &status, 0);
    ACME_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
               "after release: exit %d", WEXITSTATUS(status));
    drop_store(s, p);
}

int main(void)
{
    ACME_TEST_RUN(test_open_modes);
    ACME_TEST_RUN(test_lineage_save_load);
    ACME_TEST_RUN(test_lineage_cache);
    ACME_TEST_RUN(test_lineage_skips_partial);
    ACME_TEST_RUN(test_lineage_save_failure);
    ACME_TEST_RUN(test_lineage_repair);
    ACME_TEST_RUN(test_free_name_and_delete);
    ACME_TEST_RUN(test_account_dir);
    ACME_TEST_RUN(test_account_roundtrip);
    ACME_TEST_RUN(test_renewal_conf);
    ACME_TEST_RUN(test_state);
    ACME_TEST_RUN(test_lock);
    return ACME_TEST_DONE();
}
