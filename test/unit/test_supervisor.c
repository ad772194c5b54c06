/* Unit tests: the supervisor's decisions (due, backoff) and its handling of
 * misbehaving workers (a fake worker script stands in for `acmectl worker`;
 * the real one is exercised end to end against pebble). */
#include <stdlib.h>
#include <unistd.h>
#include <sys/stat.h>

#include "acme_test.h"
#include "acme_supervisor.h"
#include "acme_cert.h"
#include "acme_util.h"
#include "acme_worker.h"

static const char *tmpdir(apr_pool_t *p)
{
    char *d = apr_pstrdup(p, "/tmp/acme-unit-sup-XXXXXX");
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

static void test_backoff(apr_pool_t *p)
{
    struct { int n; long lo, hi; } want[] = {
        { 1, 60, 66 }, { 2, 600, 660 }, { 3, 6000, 6600 },
        { 4, 86400, 95040 }, { 9, 86400, 95040 } };
    int i;

    ACME_CHECK(acme_sup_backoff(0) == 0, "no failure, no wait");
    for (i = 0; i < 5; i++) {
        long s = (long)apr_time_sec(acme_sup_backoff(want[i].n));
        ACME_CHECK(s >= want[i].lo && s <= want[i].hi, "failures %d: %ld s",
                   want[i].n, s);
    }
}

/* Stores a self-signed lineage valid from now-age for `life`. */
static void store_lineage(acme_store_t *s, apr_pool_t *p, const char *name,
                          apr_interval_time_t life, acme_key_type_e kt)
{
    acme_key_t *key;
    acme_cert_t *cert;
    const char *kpem;
    apr_size_t klen;
    int v;

    acme_key_generate(&key, p, kt, NULL);
    acme_cert_self_signed(&cert, p, key, names1(p, name), life, NULL);
    acme_key_to_pem(&kpem, &klen, p, key);
    ACME_CHECK_RV(acme_store_lineage_save(s, name, acme_cert_to_pem(p, cert),
                                          "", kpem, acme_renewal_conf_make(p),
                                          &v, p, NULL));
}

static void test_due(apr_pool_t *p)
{
    acme_store_t *s;
    acme_md_t *md = md_make(p, "due.example.test");
    apr_time_t now = apr_time_now(), when;
    acme_due_e due;

    ACME_CHECK_RV(acme_store_open(&s, p, tmpdir(p), 1, NULL));
    due = acme_sup_due(&when, s, md, now, p);
    ACME_CHECK(due == ACME_DUE_MISSING, "missing: %d", due);

    /* 90 days, fresh: due in ~60 days (a third left) */
    store_lineage(s, p, md->name, apr_time_from_sec(90 * 86400),
                  ACME_KEY_EC256);
    due = acme_sup_due(&when, s, md, now, p);
    ACME_CHECK(due == ACME_DUE_NO, "fresh: %d", due);
    ACME_CHECK(apr_time_sec(when - now) > 59 * 86400
               && apr_time_sec(when - now) < 61 * 86400, "60 days: %ld",
               (long)apr_time_sec(when - now));
    /* 30 days before expiry: 30d window says not yet, 61d window says now */
    md->renew_abs = apr_time_from_sec(30 * 86400);
    ACME_CHECK(acme_sup_due(&when, s, md, now, p) == ACME_DUE_NO, "30d");
    md->renew_abs = apr_time_from_sec(91 * 86400);
    ACME_CHECK(acme_sup_due(&when, s, md, now, p) == ACME_DUE_WINDOW, "91d");
    md->renew_abs = 0;
    md->renew_pct = 99;
    ACME_CHECK(acme_sup_due(&when, s, md, now + apr_time_from_sec(86400), p)
               == ACME_DUE_WINDOW, "99%%");
    md->renew_pct = 0;
    /* after expiry */
    ACME_CHECK(acme_sup_due(&when, s, md, now + apr_time_from_sec(91 * 86400),
                            p) == ACME_DUE_EXPIRED, "expired");
    /* names changed */
    APR_ARRAY_PUSH(md->names, const char *) = "www.due.example.test";
    ACME_CHECK(acme_sup_due(&when, s, md, now, p) == ACME_DUE_NAMES, "names");
    md->names = names1(p, md->name);
    /* key type changed */
    md->key_type = ACME_KEY_RSA2048;
    ACME_CHECK(acme_sup_due(&when, s, md, now, p) == ACME_DUE_KEYTYPE, "kt");
    md->key_type = ACME_KEY_EC256;

    /* a 6-day certificate renews at half its life */
    store_lineage(s, p, "short.example.test", apr_time_from_sec(6 * 86400),
                  ACME_KEY_EC256);
    md = md_make(p, "short.example.test");
    ACME_CHECK(acme_sup_due(&when, s, md, now, p) == ACME_DUE_NO, "short");
    ACME_CHECK(apr_time_sec(when - now) > 2 * 86400 + 80000
               && apr_time_sec(when - now) < 3 * 86400 + 100, "3 days: %ld",
               (long)apr_time_sec(when - now));
}

static void test_worker_messages(apr_pool_t *p)
{
    acme_worker_req_t req, *back;
    acme_worker_res_t res, *rback;
    const char *text;

    memset(&req, 0, sizeof(req));
    req.name = "x.test";
    req.directory = "https://ca.test/dir";
    req.account_key_pem = "-----BEGIN PRIVATE KEY-----\n...";
    req.names = names1(p, "x.test");
    req.contacts = names1(p, "mailto:a@b.test");
    req.agree_tos = 1;
    req.csr_b64url = "MIIB";
    req.challenges = names1(p, "http-01");
    req.challenge_dir = "/store/challenges";
    text = acme_worker_req_format(p, &req);
    ACME_CHECK_RV(acme_worker_req_parse(&back, p, text, strlen(text), NULL));
    ACME_CHECK_STR(back->directory, req.directory);
    ACME_CHECK_STR(back->challenge_dir, req.challenge_dir);
    ACME_CHECK(back->agree_tos == 1 && back->account_url == NULL, "flags");
    ACME_CHECK_STR(APR_ARRAY_IDX(back->contacts, 0, const char *),
                   "mailto:a@b.test");
    /* a request without names is refused */
    req.names = apr_array_make(p, 1, sizeof(const char *));
    text = acme_worker_req_format(p, &req);
    ACME_CHECK(acme_worker_req_parse(&back, p, text, strlen(text), NULL)
               == ACME_EPROTO, "no names");

    memset(&res, 0, sizeof(res));
    res.a.error = "rateLimited: slow down";
    res.a.retry_after = apr_time_from_sec(7200);
    text = acme_worker_res_format(p, &res);
    ACME_CHECK_RV(acme_worker_res_parse(&rback, p, text, strlen(text), NULL));
    ACME_CHECK(!rback->a.ok && rback->a.retry_after == apr_time_from_sec(7200),
               "error result");
    ACME_CHECK(acme_worker_res_parse(&rback, p, "{\"ok\":true}", 11, NULL)
               == ACME_EPROTO, "ok without chain");
    ACME_CHECK(acme_worker_res_parse(&rback, p, "not json", 8, NULL)
               == ACME_EPROTO, "garbage");
}

/* Runs one pass with a fake worker script; returns the state. */
static const char *g_dns_hook;   /* set by the dns test */

static json_t *pass_with_worker(apr_pool_t *p, const char *script,
                                acme_sup_result_t *res, const char **pstore)
{
    acme_sup_conf_t *conf = acme_sup_conf_make(p);
    const char *dir = tmpdir(p);
    const char *worker = apr_pstrcat(p, dir, "-worker.sh", NULL);
    acme_store_t *s;
    json_t *state = NULL;
    FILE *f;

    /* served as `acmectl worker --serve` does: one request after the
     * other (the account's, then the order's) until end of file */
    f = fopen(worker, "w");
    fprintf(f, "#!/bin/sh\nread() { command read \"$@\" || exit 0; }\n"
            "while :; do\n%s\ndone\n", script);
    fclose(f);
    chmod(worker, 0755);
    conf->store_dir = dir;
    conf->ca_url = "https://ca.invalid/dir";
    conf->worker_path = worker;
    conf->worker_timeout = apr_time_from_sec(2);
    APR_ARRAY_PUSH(conf->mds, acme_md_t *) = md_make(p, "w.example.test");
    APR_ARRAY_IDX(conf->mds, 0, acme_md_t *)->dns_hook = g_dns_hook;
    ACME_CHECK_RV(acme_sup_pass(res, conf, p));
    acme_store_open(&s, p, dir, 0, NULL);
    acme_store_state_load(&state, s, "w.example.test", p);
    *pstore = dir;
    return state;
}

static int live_exists(apr_pool_t *p, const char *store)
{
    apr_finfo_t fi;
    return apr_stat(&fi, apr_pstrcat(p, store, "/live/w.example.test", NULL),
                    APR_FINFO_TYPE, p) == APR_SUCCESS;
}

static void check_failed(apr_pool_t *p, const char *script, const char *want,
                         long min_wait)
{
    acme_sup_result_t res;
    const char *store;
    json_t *st = pass_with_worker(p, script, &res, &store);
    const char *err = json_string_value(json_object_get(st, "last_error"));
    long next = (long)json_integer_value(json_object_get(st, "next_try"));

    ACME_CHECK(res.attempted == 1 && res.activated == 0 && res.failed == 1,
               "%s: attempted %d activated %d failed %d", want,
               res.attempted, res.activated, res.failed);
    ACME_CHECK(err && strstr(err, want), "want '%s' in '%s'", want,
               err ? err : "(none)");
    ACME_CHECK(next - (long)apr_time_sec(apr_time_now()) >= min_wait - 2,
               "%s: next_try in %ld s", want,
               next - (long)apr_time_sec(apr_time_now()));
    ACME_CHECK(json_integer_value(json_object_get(st, "failures")) == 1,
               "failures counted");
    ACME_CHECK(!live_exists(p, store), "%s: nothing activated", want);
    /* the in-flight key is not left behind */
    {
        apr_finfo_t fi;
        ACME_CHECK(apr_stat(&fi, apr_pstrcat(p, store,
                   "/staging/w.example.test/privkey.pem", NULL),
                   APR_FINFO_TYPE, p) != APR_SUCCESS, "staging key removed");
    }
    json_decref(st);
}

static void test_bad_workers(apr_pool_t *p)
{
    acme_key_t *k;
    acme_cert_t *c;
    const char *pem, *script;

    check_failed(p, "read -r req; echo 'this is not json'",
                 "malformed worker result", 60);
    check_failed(p, "read -r req; kill -9 $$", "killed by signal 9", 60);
    check_failed(p, "read -r req; exit 3", "exited with status 3", 60);
    check_failed(p, "exec sleep 30", "did not finish within 2 seconds", 60);
    check_failed(p, "read -r req; echo '{\"ok\":false,\"error\":"
                 "\"rateLimited: too many\",\"retry_after\":7200}'",
                 "rateLimited: too many", 7200);
    /* a chain whose key is not ours is refused */
    acme_key_generate(&k, p, ACME_KEY_EC256, NULL);
    acme_cert_self_signed(&c, p, k, names1(p, "w.example.test"),
                          apr_time_from_sec(86400 * 30), NULL);
    pem = acme_cert_to_pem(p, c);
    {
        char *q = apr_pstrdup(p, pem), *o;
        const char *esc = "";
        for (o = q; *o; o++) {
            esc = apr_pstrcat(p, esc, *o == '\n' ? "\\n"
                              : apr_pstrndup(p, o, 1), NULL);
        }
        script = apr_psprintf(p, "read -r req; printf '%%s\\n' "
                              "'{\"ok\":true,\"chain\":\"%s\"}'", esc);
    }
    check_failed(p, script, "does not match", 60);
}

/* dns-01: the worker asks, the supervisor runs the hook on its side with
 * Certbot's environment and "setup NAME VALUE", and answers. */
static void test_dns_hook_roundtrip(apr_pool_t *p)
{
    const char *dir = tmpdir(p);
    const char *log = apr_pstrcat(p, dir, "/hook.log", NULL);
    const char *script;
    char *text = NULL;
    apr_size_t len;

    g_dns_hook = apr_psprintf(p, "echo \"$1 $2 $3 uid=$(id -u) "
                              "dom=$CERTBOT_DOMAIN val=$CERTBOT_VALIDATION "
                              "out=$CERTBOT_AUTH_OUTPUT\" >> %s; echo token-out",
                              log);
    script =
        "read -r req\n"
        "echo '{\"type\":\"dns\",\"action\":\"setup\",\"domain\":"
        "\"w.example.test\",\"value\":\"VALUE_1\",\"remaining\":0}'\n"
        "read -r answer\n"
        "echo '{\"type\":\"dns\",\"action\":\"cleanup\",\"domain\":"
        "\"w.example.test\",\"value\":\"VALUE_1\",\"remaining\":0}'\n"
        "read -r answer2\n"
        "case \"$answer\" in *'\"ok\": true'*|*'\"ok\":true'*) "
        "echo '{\"ok\":false,\"error\":\"hook said ok\"}';; "
        "*) echo '{\"ok\":false,\"error\":\"hook said no\"}';; esac\n";
    check_failed(p, script, "hook said ok", 60);
    ACME_CHECK(acme_file_read(&text, &len, p, log, 4096) == APR_SUCCESS,
               "hook ran");
    if (text) {
        ACME_CHECK(strstr(text, "setup w.example.test VALUE_1") != NULL,
                   "setup args: %s", text);
        ACME_CHECK(strstr(text, "dom=w.example.test val=VALUE_1") != NULL,
                   "env: %s", text);
        ACME_CHECK(strstr(text, apr_psprintf(p, "uid=%d", (int)getuid()))
                   != NULL, "runs in the supervisor: %s", text);
        ACME_CHECK(strstr(text, "cleanup w.example.test VALUE_1") != NULL
                   && strstr(text, "out=token-out") != NULL,
                   "cleanup gets the setup's output: %s", text);
    }
    /* a failing hook is reported back to the worker */
    g_dns_hook = "echo 'zone not found' >&2; exit 4";
    check_failed(p, script, "hook said no", 60);
    g_dns_hook = NULL;
}

/* Passes share an index: a certificate with nothing to do is not read again
 * (a change behind the store's back goes unseen), but any write through the
 * store (acmectl, a renewal request) makes the next pass look again. */
static void test_index(apr_pool_t *p)
{
    acme_sup_conf_t *conf = acme_sup_conf_make(p);
    const char *dir = tmpdir(p);
    acme_sup_result_t res;
    acme_store_t *s;
    json_t *st;
    apr_pool_t *pp;
    const char *mark;

    ACME_CHECK_RV(acme_store_open(&s, p, dir, 1, NULL));
    store_lineage(s, p, "ix.example.test", apr_time_from_sec(90 * 86400),
                  ACME_KEY_EC256);
    conf->store_dir = dir;
    conf->ca_url = "https://ca.invalid/dir";
    conf->worker_path = "/bin/false";
    conf->worker_timeout = apr_time_from_sec(2);
    APR_ARRAY_PUSH(conf->mds, acme_md_t *) = md_make(p, "ix.example.test");

    /* as after a CA that has no renewalInfo (ARI): asked again in a day */
    st = json_pack("{s:s, s:I}", "ca", conf->ca_url, "unsupported_until",
                   (json_int_t)apr_time_sec(apr_time_now()) + 86400);
    ACME_CHECK_RV(acme_store_state_save(s, "_ari", st, p));
    json_decref(st);

    apr_pool_create(&pp, p);
    ACME_CHECK_RV(acme_sup_pass(&res, conf, pp));
    ACME_CHECK(res.attempted == 0, "fresh: nothing to do (%d)", res.attempted);
    /* the next wake-up is the renewal time, about 60 days away, or the
     * day after which the CA is asked for ARI again */
    ACME_CHECK(res.next_wakeup - apr_time_now() > apr_time_from_sec(3600),
               "next wake-up in %ld s",
               (long)apr_time_sec(res.next_wakeup - apr_time_now()));
    mark = acme_store_change_mark(s, p);
    ACME_CHECK(*mark, "the store has a change mark");
    apr_pool_clear(pp);

    /* a certificate that is due (its key type is not the configured one)
     * put there behind the store's back (the mark put back as the pass
     * left it): the index says nothing to do, so the pass does not read it */
    store_lineage(s, p, "ix.example.test", apr_time_from_sec(90 * 86400),
                  ACME_KEY_EC384);
    ACME_CHECK(strcmp(acme_store_change_mark(s, p), mark) != 0,
               "a lineage write moves the mark");
    ACME_CHECK_RV(acme_file_write_atomic(apr_pstrcat(p, dir, "/.changes",
                                                     NULL), mark,
                                         strlen(mark), 0x0644, p));
    ACME_CHECK_RV(acme_sup_pass(&res, conf, pp));
    ACME_CHECK(res.attempted == 0, "unchanged store: the index is used "
               "(attempted %d)", res.attempted);
    apr_pool_clear(pp);

    /* any write through the store (here another name's state) moves the
     * mark: the next pass looks again, and orders */
    st = json_object();
    ACME_CHECK_RV(acme_store_state_save(s, "other.example.test", st, p));
    json_decref(st);
    ACME_CHECK_RV(acme_sup_pass(&res, conf, pp));
    ACME_CHECK(res.attempted == 1, "after a store write: attempted %d",
               res.attempted);
    apr_pool_clear(pp);
    /* the worker failed: backoff, nothing to do in the next pass */
    ACME_CHECK_RV(acme_sup_pass(&res, conf, pp));
    ACME_CHECK(res.attempted == 0, "backing off: attempted %d",
               res.attempted);
    apr_pool_clear(pp);
    /* the state file edited by hand (the backoff cleared, as an
     * administrator does after fixing the cause): seen without a mark */
    mark = acme_store_change_mark(s, p);
    acme_store_state_load(&st, s, "ix.example.test", p);
    ACME_CHECK(json_integer_value(json_object_get(st, "next_try")) > 0,
               "a backoff was recorded");
    json_object_del(st, "next_try");
    ACME_CHECK(json_dump_file(st, apr_pstrcat(p, dir,
               "/state/ix.example.test.json", NULL), 0) == 0, "edit");
    json_decref(st);
    ACME_CHECK(!strcmp(mark, acme_store_change_mark(s, p)), "no mark");
    ACME_CHECK_RV(acme_sup_pass(&res, conf, pp));
    ACME_CHECK(res.attempted == 1, "after an edit by hand: attempted %d",
               res.attempted);
    apr_pool_destroy(pp);
}

int main(void)
{
    ACME_TEST_RUN(test_backoff);
    ACME_TEST_RUN(test_due);
    ACME_TEST_RUN(test_index);
    ACME_TEST_RUN(test_worker_messages);
    ACME_TEST_RUN(test_bad_workers);
    ACME_TEST_RUN(test_dns_hook_roundtrip);
    return ACME_TEST_DONE();
}
