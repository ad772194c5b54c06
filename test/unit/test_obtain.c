/* Unit tests for the root side of the issuance path (acme_obtain.c,
 * acme_batch.c): the attempt's results are made here, so every step runs
 * without a CA: the subset retry, the guard, the state, the lineage and the
 * hooks with Certbot's and the module's rules. */
#include <stdlib.h>
#include <unistd.h>

#include "acme_test.h"
#include "acme_obtain.h"
#include "acme_cert.h"
#include "acme_renewal_hooks.h"
#include "acme_util.h"

static acme_store_t *temp_store(apr_pool_t *p)
{
    static unsigned n;
    const char *tmp = NULL;
    acme_store_t *s = NULL;
    acme_err_t err;

    apr_temp_dir_get(&tmp, p);
    acme_store_open(&s, p, apr_psprintf(p, "%s/acme-test-obtain-%ld-%u",
                                        tmp ? tmp : "/tmp", (long)getpid(),
                                        ++n), 1, &err);
    return s;
}

static apr_array_header_t *names_of(apr_pool_t *p, const char *a,
                                    const char *b)
{
    apr_array_header_t *n = apr_array_make(p, 2, sizeof(const char *));

    APR_ARRAY_PUSH(n, const char *) = a;
    if (b) {
        APR_ARRAY_PUSH(n, const char *) = b;
    }
    return n;
}

static acme_order_opts_t *opts_for(apr_pool_t *p, const char *lineage,
                                   apr_array_header_t *names)
{
    acme_order_opts_t *o = apr_pcalloc(p, sizeof(*o));

    o->lineage = lineage;
    o->names = names;
    o->key_type = ACME_KEY_EC256;
    o->ca_url = "https://ca.test/dir";
    o->due = ACME_DUE_MISSING;
    o->conf_params = apr_table_make(p, 4);
    apr_table_set(o->conf_params, "authenticator", "mod_acme");
    return o;
}

/* A chain the CA could have sent for this attempt: self-signed for the
 * attempt's key and names. */
static const char *chain_for(acme_obtain_t *ob, apr_pool_t *p)
{
    acme_cert_t *c = NULL;
    apr_array_header_t *certs = apr_array_make(p, 1, sizeof(acme_cert_t *));
    acme_err_t err;

    acme_cert_self_signed(&c, p, ob->key, ob->names,
                          apr_time_from_sec(30 * 86400), &err);
    APR_ARRAY_PUSH(certs, acme_cert_t *) = c;
    return acme_chain_to_pem(p, certs, 0, 1);
}

/* A hook that appends "<tag> $RENEWED_DOMAINS|$FAILED_DOMAINS" to log. */
static const char *hook(apr_pool_t *p, const char *log, const char *tag)
{
    return apr_psprintf(p, "echo \"%s $RENEWED_DOMAINS|$FAILED_DOMAINS\" "
                        ">> %s", tag, log);
}

static const char *read_log(apr_pool_t *p, const char *log)
{
    char *text = NULL;
    apr_size_t len;

    if (acme_file_read(&text, &len, p, log, 65536) != APR_SUCCESS) {
        return "";
    }
    return text;
}

static void test_success_writes_lineage_state_and_hooks(apr_pool_t *p)
{
    acme_store_t *s = temp_store(p);
    const char *log = acme_store_path(s, p, "hooks.log", NULL);
    acme_batch_hooks_t hooks;
    acme_batch_t *b;
    acme_obtain_t *ob = NULL;
    acme_attempt_res_t res;
    acme_state_t *st;
    acme_lineage_t *l;
    acme_err_t err;

    memset(&hooks, 0, sizeof(hooks));
    hooks.pre = hook(p, log, "pre");
    hooks.post = hook(p, log, "post");
    hooks.deploy = hook(p, log, "deploy");
    hooks.no_dirs = 1;
    b = acme_batch_make(s, &hooks, p);
    ACME_CHECK_RV(acme_obtain_begin(&ob, b, opts_for(p, "a.test",
                  names_of(p, "a.test", "www.a.test")), NULL, 0, NULL, p,
                  &err));
    ACME_CHECK(!ob->lineage, "a new lineage has nothing loaded");
    ACME_CHECK_RV(acme_obtain_attempt(ob, &err));
    ACME_CHECK(ob->req.csr_len > 0 && ob->req.names->nelts == 2,
               "a CSR for both names");
    memset(&res, 0, sizeof(res));
    res.ok = 1;
    res.chain_pem = chain_for(ob, p);
    res.challenge_types = "http-01";
    ACME_CHECK(acme_obtain_next(ob, &res) == ACME_OBTAIN_DONE, "done");
    ACME_CHECK_RV(acme_obtain_finish(ob, &res, &err));
    ACME_CHECK(ob->version == 1, "version %d", ob->version);
    acme_batch_end(b);
    ACME_CHECK_RV(acme_store_lineage_load(&l, s, "a.test", p, &err));
    ACME_CHECK(l->names->nelts == 2, "the lineage has both names");
    ACME_CHECK_STR(apr_table_get(l->conf->params, "authenticator"),
                   "mod_acme");
    acme_state_load(&st, s, "a.test", p, NULL);
    ACME_CHECK_STR(st->status, "valid");
    ACME_CHECK(st->cert_version == 1 && st->renewals == 1
               && st->attempts == 1, "version %d renewals %d attempts %d",
               st->cert_version, st->renewals, st->attempts);
    ACME_CHECK_STR(st->challenge, "http-01");
    ACME_CHECK_STR(st->due_reason, "missing");
    ACME_CHECK_STR(read_log(p, log), "pre |\ndeploy a.test www.a.test|\n"
                   "post a.test www.a.test|\n");
}

static void test_subset_drops_the_failed_name(apr_pool_t *p)
{
    acme_store_t *s = temp_store(p);
    acme_batch_t *b = acme_batch_make(s, NULL, p);
    acme_order_opts_t *o = opts_for(p, "s.test", names_of(p, "s.test",
                                                          "bad.s.test"));
    acme_obtain_t *ob = NULL;
    acme_attempt_res_t res;
    acme_state_t *st;
    acme_err_t err;

    o->allow_subset = 1;
    ACME_CHECK_RV(acme_obtain_begin(&ob, b, o, NULL, 0, NULL, p, &err));
    ACME_CHECK_RV(acme_obtain_attempt(ob, &err));
    memset(&res, 0, sizeof(res));
    res.error = "authorization for bad.s.test is invalid";
    res.failed_name = "bad.s.test";
    ACME_CHECK(acme_obtain_next(ob, &res) == ACME_OBTAIN_AGAIN, "again");
    ACME_CHECK(ob->names->nelts == 1, "one name left");
    ACME_CHECK_STR(APR_ARRAY_IDX(ob->names, 0, const char *), "s.test");
    ACME_CHECK_RV(acme_obtain_attempt(ob, &err));
    ACME_CHECK(ob->req.names->nelts == 1, "the new CSR has one name");
    /* the last name failing ends it */
    res.failed_name = "s.test";
    ACME_CHECK(acme_obtain_next(ob, &res) == ACME_OBTAIN_DONE, "done");
    memset(&res, 0, sizeof(res));
    res.ok = 1;
    res.chain_pem = chain_for(ob, p);
    ACME_CHECK_RV(acme_obtain_finish(ob, &res, &err));
    acme_state_load(&st, s, "s.test", p, NULL);
    ACME_CHECK_STR(st->dropped_names, "bad.s.test");
    ACME_CHECK(st->names->nelts == 2, "the state keeps the names asked for");
}

static void test_failure_recorded_with_backoff(apr_pool_t *p)
{
    acme_store_t *s = temp_store(p);
    acme_batch_t *b = acme_batch_make(s, NULL, p);
    acme_order_opts_t *o = opts_for(p, "f.test", names_of(p, "f.test",
                                                          NULL));
    acme_obtain_t *ob = NULL;
    acme_attempt_res_t res;
    acme_state_t *st;
    acme_lineage_t *l;
    apr_time_t before = apr_time_now();
    acme_err_t err;

    o->record_failures = 1;
    ACME_CHECK_RV(acme_obtain_begin(&ob, b, o, NULL, 0, NULL, p, &err));
    ACME_CHECK_RV(acme_obtain_attempt(ob, &err));
    memset(&res, 0, sizeof(res));
    res.error = "rate limited";
    res.problem_type = "urn:ietf:params:acme:error:rateLimited";
    res.retry_after = apr_time_from_sec(3 * 86400);
    ACME_CHECK(acme_obtain_next(ob, &res) == ACME_OBTAIN_DONE, "done");
    ACME_CHECK(acme_obtain_finish(ob, &res, &err) != APR_SUCCESS, "fails");
    ACME_CHECK(err.msg && strstr(err.msg, "rate limited"), "%s", err.msg);
    acme_batch_end(b);
    ACME_CHECK(b->failed->nelts == 1, "one failed");
    acme_state_load(&st, s, "f.test", p, NULL);
    ACME_CHECK_STR(st->status, "error");
    ACME_CHECK(st->failures == 1, "failures %d", st->failures);
    ACME_CHECK(st->next_try >= before + apr_time_from_sec(3 * 86400 - 5),
               "Retry-After wins over the first backoff");
    ACME_CHECK_STR(st->last_problem, "urn:ietf:params:acme:error:rateLimited");
    ACME_CHECK(acme_store_lineage_load(&l, s, "f.test", p, NULL)
               != APR_SUCCESS, "nothing stored");
}

static void test_rejected_chain_keeps_nothing(apr_pool_t *p)
{
    acme_store_t *s = temp_store(p);
    acme_batch_t *b = acme_batch_make(s, NULL, p);
    acme_obtain_t *ob = NULL, *other = NULL;
    acme_attempt_res_t res;
    acme_err_t err;

    ACME_CHECK_RV(acme_obtain_begin(&ob, b, opts_for(p, "r.test",
                  names_of(p, "r.test", NULL)), NULL, 0, NULL, p, &err));
    ACME_CHECK_RV(acme_obtain_attempt(ob, &err));
    /* a chain for another key */
    ACME_CHECK_RV(acme_obtain_begin(&other, b, opts_for(p, "r.test",
                  names_of(p, "r.test", NULL)), NULL, 0, NULL, p, &err));
    ACME_CHECK_RV(acme_obtain_attempt(other, &err));
    memset(&res, 0, sizeof(res));
    res.ok = 1;
    res.chain_pem = chain_for(other, p);
    ACME_CHECK(acme_obtain_finish(ob, &res, &err) != APR_SUCCESS,
               "a chain for another key is refused");
    ACME_CHECK(err.msg && strstr(err.msg, "rejected"), "%s", err.msg);
}

static void test_dup_guard_refuses_and_records(apr_pool_t *p)
{
    acme_store_t *s = temp_store(p);
    acme_batch_t *b = acme_batch_make(s, NULL, p);
    acme_order_opts_t *o = opts_for(p, "d.test", names_of(p, "d.test",
                                                          NULL));
    acme_obtain_t *ob = NULL;
    acme_state_t *st;
    acme_err_t err;
    int i;

    for (i = 0; i < ACME_DUP_MAX; i++) {
        acme_dup_guard_record(s, o->names, apr_time_now(), p);
    }
    o->record_failures = 1;
    ACME_CHECK(acme_obtain_begin(&ob, b, o, NULL, 0, NULL, p, &err)
               != APR_SUCCESS, "the sixth is refused");
    acme_state_load(&st, s, "d.test", p, NULL);
    ACME_CHECK_STR(st->status, "error");
    ACME_CHECK(st->next_try > apr_time_now() + apr_time_from_sec(3600),
               "a day's wait");
    o->no_dup_guard = 1;
    ACME_CHECK_RV(acme_obtain_begin(&ob, b, o, NULL, 0, NULL, p, &err));
}

/* Certbot's rule (replace): a command-line hook replaces the lineage's;
 * the module's: both, the lineage's only when it is another command. */
static void test_lineage_hooks_rules(apr_pool_t *p)
{
    acme_store_t *s = temp_store(p);
    const char *log = acme_store_path(s, p, "hooks.log", NULL);
    acme_renewal_conf_t *conf = acme_renewal_conf_make(p);
    acme_batch_hooks_t hooks;
    acme_batch_t *b;
    apr_table_t *env = apr_table_make(p, 2);

    apr_table_set(conf->params, "pre_hook", hook(p, log, "lpre"));
    apr_table_set(conf->params, "post_hook", hook(p, log, "lpost"));
    apr_table_set(conf->params, "renew_hook", hook(p, log, "ldeploy"));
    memset(&hooks, 0, sizeof(hooks));
    hooks.pre = hook(p, log, "pre");
    hooks.deploy = hook(p, log, "deploy");
    hooks.no_dirs = 1;
    hooks.lineage_hooks = 1;
    hooks.replace = 1;
    b = acme_batch_make(s, &hooks, p);
    acme_batch_start(b);
    acme_batch_lineage_hooks(b, "x", conf);
    acme_batch_deploy(b, conf, env, NULL);
    acme_batch_end(b);
    ACME_CHECK_STR(read_log(p, log), "pre |\ndeploy |\nlpost |\n");
    apr_file_remove(log, p);

    hooks.replace = 0;
    b = acme_batch_make(s, &hooks, p);
    acme_batch_start(b);
    acme_batch_lineage_hooks(b, "x", conf);
    acme_batch_lineage_hooks(b, "y", conf);        /* once per command */
    acme_batch_deploy(b, conf, env, NULL);
    acme_batch_end(b);
    ACME_CHECK_STR(read_log(p, log), "pre |\nlpre |\ndeploy |\nldeploy |\n"
                   "lpost |\n");
    apr_file_remove(log, p);

    hooks.lineage_hooks = 0;                       /* certonly */
    b = acme_batch_make(s, &hooks, p);
    acme_batch_lineage_hooks(b, "x", conf);
    acme_batch_deploy(b, conf, env, NULL);
    acme_batch_end(b);
    ACME_CHECK_STR(read_log(p, log), "deploy |\n");
}

static void test_conf_merge(apr_pool_t *p)
{
    acme_store_t *s = temp_store(p);
    acme_batch_t *b = acme_batch_make(s, NULL, p);
    acme_order_opts_t *o = opts_for(p, "m.test", names_of(p, "m.test",
                                                          NULL));
    static const char *const keep[] = { "renew_hook", NULL };
    acme_lineage_t old;
    acme_obtain_t *ob = NULL;
    acme_err_t err;

    memset(&old, 0, sizeof(old));
    old.name = "m.test";
    old.conf = acme_renewal_conf_make(p);
    apr_table_set(old.conf->params, "renew_before_expiry", "30 days");
    apr_table_set(old.conf->params, "webroot_path", "/var/www,");
    apr_table_set(old.conf->params, "renew_hook", "/bin/true");
    apr_table_set(old.conf->params, "authenticator", "webroot");
    ACME_CHECK_RV(acme_obtain_begin(&ob, b, o, &old, 1, NULL, p, &err));
    ACME_CHECK_STR(apr_table_get(ob->conf->params, "renew_before_expiry"),
                   "30 days");
    ACME_CHECK(!apr_table_get(ob->conf->params, "webroot_path"),
               "webroot_path is the front end's to set");
    ACME_CHECK_STR(apr_table_get(ob->conf->params, "authenticator"),
                   "mod_acme");
    o->conf_keep = keep;
    ACME_CHECK_RV(acme_obtain_begin(&ob, b, o, &old, 1, NULL, p, &err));
    ACME_CHECK(!apr_table_get(ob->conf->params, "renew_before_expiry"),
               "only the kept parameters stay");
    ACME_CHECK_STR(apr_table_get(ob->conf->params, "renew_hook"),
                   "/bin/true");
}

int main(void)
{
    ACME_TEST_RUN(test_success_writes_lineage_state_and_hooks);
    ACME_TEST_RUN(test_subset_drops_the_failed_name);
    ACME_TEST_RUN(test_failure_recorded_with_backoff);
    ACME_TEST_RUN(test_rejected_chain_keeps_nothing);
    ACME_TEST_RUN(test_dup_guard_refuses_and_records);
    ACME_TEST_RUN(test_lineage_hooks_rules);
    ACME_TEST_RUN(test_conf_merge);
    return ACME_TEST_DONE();
}
