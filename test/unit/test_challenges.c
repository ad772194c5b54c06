/* Unit tests: the challenge directory (src/engine/acme_challenges.c). */
#include <sys/stat.h>
#include <unistd.h>

#include <apr_file_info.h>
#include <apr_file_io.h>
#include <apr_strings.h>

#include "acme_test.h"
#include "acme_challenge_cert.h"
#include "acme_challenges.h"
#include "acme_store.h"
#include "acme_store_int.h"
#include "acme_util.h"

#define TOKEN    "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA"
#define KEYAUTHZ TOKEN ".9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI"

/* A fresh store under the system's temp dir. */
static acme_store_t *make_store(apr_pool_t *p)
{
    const char *tmp = NULL, *dir;
    acme_store_t *s = NULL;
    acme_err_t err = { 0 };
    static int seq;

    apr_temp_dir_get(&tmp, p);
    dir = apr_psprintf(p, "%s/acme-test-store-%ld-%d-%u", tmp ? tmp : "/tmp",
                       (long)getpid(), ++seq,
                       (unsigned)acme_random_uniform(1000000));
    ACME_CHECK_RV(acme_store_open(&s, p, dir, 1, &err));
    return s;
}

static void drop_store(acme_store_t *s, apr_pool_t *p)
{
    if (s && strstr(s->base, "acme-test-store-")) {
        acme_store_remove_tree(s->base, p);
    }
}

static int exists(const char *path, apr_pool_t *p)
{
    apr_finfo_t fi;

    return path && apr_stat(&fi, path, APR_FINFO_TYPE, p) == APR_SUCCESS;
}

static int mode_of(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 ? (int)(st.st_mode & 07777) : -1;
}

static void test_paths(apr_pool_t *p)
{
    acme_store_t *s = make_store(p);
    const char *dir;
    char buf[512], small[16];

    if (!s) {
        return;
    }
    dir = acme_challenges_dir(s, p);
    ACME_CHECK_STR(dir, apr_pstrcat(p, s->base, "/challenges", NULL));
    ACME_CHECK_STR(acme_challenges_http01_path(p, dir, TOKEN),
                   apr_pstrcat(p, dir, "/" TOKEN, NULL));
    ACME_CHECK_STR(acme_challenges_tls_path(p, dir, "tls-alpn-01",
                                            "www.example.org"),
                   apr_pstrcat(p, dir, "/www.example.org.tls-alpn-01.pem",
                               NULL));
    ACME_CHECK_STR(acme_challenges_tls_path(p, dir, "tls-sni-01",
                                            "a.b.acme.invalid"),
                   apr_pstrcat(p, dir, "/a.b.acme.invalid.tls-sni-01.pem",
                               NULL));
    ACME_CHECK(acme_challenges_tls_path_buf(buf, sizeof(buf), dir,
                                            "tls-sni-01", "a.b.acme.invalid")
               == 0, "buf");
    ACME_CHECK_STR(buf, apr_pstrcat(p, dir, "/a.b.acme.invalid.tls-sni-01.pem",
                                    NULL));
    ACME_CHECK(acme_challenges_tls_path_buf(small, sizeof(small), dir,
                                            "tls-sni-01", "a.b.acme.invalid")
               == -1 && !small[0], "too small a buffer: '%s'", small);
    drop_store(s, p);
}

static void test_bad_tokens_and_names(apr_pool_t *p)
{
    static const char *const tokens[] = {
        "", "../x", "a/b", "..", ".hidden", "a b", "a%2fb", "tok\n", NULL
    };
    static const char *const names[] = {
        "", ".", "..", "../etc/passwd", "a/b.org", ".a.org", "a..org",
        "a.org.", "*.example.org", "a_b.org", "a b.org", "a\\b.org", NULL
    };
    char longtok[ACME_CHALLENGES_TOKEN_MAX + 2], buf[512];
    acme_err_t err = { 0 };
    int i;

    for (i = 0; tokens[i]; i++) {
        ACME_CHECK(!acme_challenges_http01_path(p, "/d", tokens[i]),
                   "token '%s' accepted", tokens[i]);
        ACME_CHECK(acme_challenges_write_http01(p, "/nonexistent", tokens[i],
                                                "x", &err) == ACME_EINVAL,
                   "token '%s' written", tokens[i]);
    }
    ACME_CHECK(!acme_challenges_http01_path(p, "/d", NULL), "NULL token");
    memset(longtok, 'a', sizeof(longtok) - 1);
    longtok[sizeof(longtok) - 1] = '\0';
    ACME_CHECK(!acme_challenges_http01_path(p, "/d", longtok), "long token");
    longtok[ACME_CHALLENGES_TOKEN_MAX] = '\0';
    ACME_CHECK(acme_challenges_http01_path(p, "/d", longtok) != NULL,
               "a token of the maximum length");
    for (i = 0; names[i]; i++) {
        ACME_CHECK(!acme_challenges_tls_path(p, "/d", "tls-alpn-01",
                                             names[i]),
                   "name '%s' accepted", names[i]);
        ACME_CHECK(acme_challenges_tls_path_buf(buf, sizeof(buf), "/d",
                                                "tls-sni-01", names[i]) == -1,
                   "name '%s' accepted (buf)", names[i]);
    }
    ACME_CHECK(!acme_challenges_tls_path(p, "/d", "http-01", "a.org"),
               "type http-01");
    ACME_CHECK(!acme_challenges_tls_path(p, "/d", "../x", "a.org"),
               "type ../x");
    ACME_CHECK(!acme_challenges_tls_path(p, "/d", NULL, "a.org"), "NULL type");
}

static void test_http01(apr_pool_t *p)
{
    acme_store_t *s = make_store(p);
    acme_challenge_t ch = { "http-01", NULL, TOKEN, NULL, NULL, KEYAUTHZ };
    acme_err_t err = { 0 };
    const char *dir, *path;
    char *data = NULL;
    apr_size_t len = 0;

    if (!s) {
        return;
    }
    dir = acme_challenges_dir(s, p);
    path = acme_challenges_http01_path(p, dir, TOKEN);
    ACME_CHECK_RV(acme_challenges_answer(p, dir, &ch, "example.org", &err));
    ACME_CHECK(mode_of(path) == 0644, "mode %o", mode_of(path));
    ACME_CHECK_RV(acme_challenges_read_http01(&data, &len, p, dir, TOKEN));
    ACME_CHECK_STR(data, KEYAUTHZ);
    ACME_CHECK(len == strlen(KEYAUTHZ), "len %lu", (unsigned long)len);
    ACME_CHECK(acme_challenges_read_http01(&data, &len, p, dir, "../x")
               == ACME_EINVAL, "read ../x");
    acme_challenges_remove(p, dir, &ch, "example.org");
    ACME_CHECK(!exists(path, p), "%s left", path);
    ACME_CHECK(APR_STATUS_IS_ENOENT(acme_challenges_read_http01(&data, &len,
                                                                p, dir,
                                                                TOKEN)),
               "read after remove");
    ch.type = "dns-01";
    ACME_CHECK(acme_challenges_answer(p, dir, &ch, "example.org", &err)
               == ACME_EINVAL, "dns-01 has no answer file");
    drop_store(s, p);
}

static void test_tls(apr_pool_t *p)
{
    acme_store_t *s = make_store(p);
    acme_challenge_t alpn = { "tls-alpn-01", NULL, TOKEN, NULL, NULL,
                              KEYAUTHZ };
    acme_challenge_t sni = { "tls-sni-01", NULL, TOKEN, NULL, NULL, KEYAUTHZ };
    const char *sni_name = acme_challenge_sni_name(p, KEYAUTHZ);
    const char *dir, *apath, *spath, *cert = NULL, *key = NULL;
    acme_err_t err = { 0 };

    if (!s) {
        return;
    }
    dir = acme_challenges_dir(s, p);
    apath = acme_challenges_tls_path(p, dir, "tls-alpn-01", "example.org");
    spath = acme_challenges_tls_path(p, dir, "tls-sni-01", sni_name);
    ACME_CHECK_RV(acme_challenges_answer(p, dir, &alpn, "example.org", &err));
    ACME_CHECK_RV(acme_challenges_answer(p, dir, &sni, "example.org", &err));
    ACME_CHECK(mode_of(apath) == 0644, "alpn mode %o", mode_of(apath));
    ACME_CHECK(mode_of(spath) == 0644, "sni mode %o", mode_of(spath));
    ACME_CHECK_RV(acme_challenges_read_tls(&cert, &key, p, dir, "tls-alpn-01",
                                           "example.org"));
    ACME_CHECK(cert && !strncmp(cert, "-----BEGIN CERTIFICATE-----", 27)
               && strstr(cert, "-----END CERTIFICATE-----")
               && !strstr(cert, "PRIVATE KEY"), "cert part");
    ACME_CHECK(key && !strncmp(key, "-----BEGIN", 10)
               && strstr(key, "PRIVATE KEY"), "key part");
    ACME_CHECK_RV(acme_challenges_read_tls(&cert, &key, p, dir, "tls-sni-01",
                                           sni_name));
    ACME_CHECK(acme_challenges_answer(p, dir, &alpn, "../evil.org", &err)
               != APR_SUCCESS, "alpn answer for ../evil.org");
    ACME_CHECK(acme_challenges_read_tls(&cert, &key, p, dir, "tls-alpn-01",
                                        "../x") == ACME_EINVAL, "read ../x");

    /* a file that is not a certificate followed by a key */
    ACME_CHECK_RV(acme_file_write_volatile(apath, "junk", 4, 0x0644, p));
    ACME_CHECK(acme_challenges_read_tls(&cert, &key, p, dir, "tls-alpn-01",
                                        "example.org") == ACME_EPROTO,
               "malformed");
    acme_challenges_remove(p, dir, &alpn, "example.org");
    acme_challenges_remove(p, dir, &sni, "example.org");
    ACME_CHECK(!exists(apath, p) && !exists(spath, p), "answers left");
    drop_store(s, p);
}

static void test_clean(apr_pool_t *p)
{
    acme_store_t *s = make_store(p);
    acme_err_t err = { 0 };
    const char *dir, *keep, *sub;

    if (!s) {
        return;
    }
    dir = acme_challenges_dir(s, p);
    ACME_CHECK_RV(acme_challenges_write_http01(p, dir, "t1", "t1.x", &err));
    ACME_CHECK_RV(acme_challenges_write_http01(p, dir, "t2", "t2.x", &err));
    keep = apr_pstrcat(p, dir, "/.keep", NULL);
    sub = apr_pstrcat(p, dir, "/sub", NULL);
    ACME_CHECK_RV(acme_file_write_volatile(keep, "", 0, 0x0644, p));
    ACME_CHECK_RV(apr_dir_make(sub, 0x0755, p));
    ACME_CHECK_RV(acme_challenges_clean(dir, p));
    ACME_CHECK(!exists(acme_challenges_http01_path(p, dir, "t1"), p)
               && !exists(acme_challenges_http01_path(p, dir, "t2"), p),
               "answers left");
    ACME_CHECK(exists(keep, p), "a dot file was removed");
    ACME_CHECK(exists(sub, p), "a directory was removed");
    ACME_CHECK_RV(acme_challenges_clean(apr_pstrcat(p, dir, "/missing",
                                                    NULL), p));
    drop_store(s, p);
}

int main(void)
{
    ACME_TEST_RUN(test_paths);
    ACME_TEST_RUN(test_bad_tokens_and_names);
    ACME_TEST_RUN(test_http01);
    ACME_TEST_RUN(test_tls);
    ACME_TEST_RUN(test_clean);
    return ACME_TEST_DONE();
}
