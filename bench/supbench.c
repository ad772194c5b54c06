/* bench/supbench.c -- CPU of the supervisor's idle pass (acme_sup_pass)
 * over a store of N lineages made by bench/gen_store.py.
 *
 *   supbench prep-ari   STORE N CA_URL   writes state/NAME.json for every
 *                                        lineage as after an issuance with a
 *                                        CA that has ARI (window recorded,
 *                                        next fetch in 6 h, renewal far away)
 *   supbench prep-noari STORE N CA_URL   writes state/_ari.json as after a
 *                                        CA without renewalInfo (asked again
 *                                        in a day); no per-lineage state
 *   supbench pass STORE N CA_URL PASSES  runs one warm-up pass, then PASSES
 *                                        passes; prints per pass the CPU
 *                                        (user+sys, getrusage) and wall ms,
 *                                        then "median_cpu_ms M median_wall_ms W
 *                                        attempted A"
 *
 * The names are n%05d.bench.test (bench/lib.sh, gen_store.py). Built by
 * bench/build.sh against build/libacme.a of a snapshot of the tree. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>

#include <jansson.h>

#include "acme_common.h"
#include "acme_ari.h"
#include "acme_cert.h"
#include "acme_store.h"
#include "acme_supervisor.h"

static void log_cb(void *baton, acme_log_level_e level, const char *msg)
{
    (void)baton;
    fprintf(stderr, "supbench: engine[%d]: %s\n", (int)level, msg);
}

static double cpu_ms(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000.0
        + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000.0;
}

static double wall_ms(void)
{
    struct timeval tv;

    gettimeofday(&tv, NULL);
    return tv.tv_sec * 1000.0 + tv.tv_usec / 1000.0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static const char *bench_name(apr_pool_t *p, int i)
{
    return apr_psprintf(p, "n%05d.bench.test", i);
}

static int prep(const char *mode, const char *dir, int n, const char *ca,
                apr_pool_t *p)
{
    acme_store_t *store;
    acme_err_t err;
    apr_time_t now = apr_time_now();
    int i;

    acme_err_clear(&err);
    if (acme_store_open(&store, p, dir, 1, &err) != APR_SUCCESS) {
        fprintf(stderr, "supbench: store %s: %s\n", dir, err.msg);
        return 1;
    }
    if (!strcmp(mode, "prep-noari")) {
        json_t *g = json_pack("{s:s, s:I}", "ca", ca, "unsupported_until",
                              (json_int_t)apr_time_sec(now) + 86400);
        acme_store_state_save(store, "_ari", g, p);
        json_decref(g);
        return 0;
    }
    for (i = 1; i <= n; i++) {
        apr_pool_t *sp;
        acme_lineage_t *l;
        apr_array_header_t *certs;
        const char *id, *name;
        json_t *st;
        apr_int64_t t = apr_time_sec(now);

        apr_pool_create(&sp, p);
        name = bench_name(sp, i);
        if (acme_store_lineage_load(&l, store, name, sp, &err) != APR_SUCCESS
            || acme_chain_load(&certs, sp, l->cert_path, &err) != APR_SUCCESS
            || acme_ari_cert_id(&id, sp, APR_ARRAY_IDX(certs, 0,
                                                       acme_cert_t *),
                                &err) != APR_SUCCESS) {
            fprintf(stderr, "supbench: %s: %s\n", name, err.msg);
            return 1;
        }
        st = json_pack("{s:I, s:I, s:s, s:[s], s:s, s:I, s:I, s:I, s:s, "
                       "s:I, s:I, s:s, s:{s:s, s:s, s:I, s:I, s:I, s:I}}",
                       "last_attempt", (json_int_t)t, "attempts",
                       (json_int_t)1, "name", name, "names", name,
                       "status", "valid", "failures", (json_int_t)0,
                       "last_success", (json_int_t)t, "next_try",
                       (json_int_t)0, "challenge", "http-01", "version",
                       (json_int_t)1, "renewals", (json_int_t)1,
                       "due_reason", "missing", "ari",
                       "cert_id", id, "serial", l->serial,
                       "start", (json_int_t)t + 1000 * 86400,
                       "end", (json_int_t)t + 1002 * 86400,
                       "chosen", (json_int_t)t + 1001 * 86400,
                       "next_fetch", (json_int_t)t + 6 * 3600);
        acme_store_state_save(store, name, st, sp);
        json_decref(st);
        apr_pool_destroy(sp);
    }
    return 0;
}

int main(int argc, char **argv)
{
    apr_pool_t *p, *pp;
    acme_sup_conf_t *conf;
    acme_sup_result_t res;
    double *cpu, *wall, c0, w0;
    int n, passes, i;

    if (argc < 5) {
        fprintf(stderr, "usage: supbench prep-ari|prep-noari|pass STORE N "
                "CA_URL [PASSES]\n");
        return 2;
    }
    apr_initialize();
    apr_pool_create(&p, NULL);
    acme_init(p);
    acme_log_set(log_cb, NULL, ACME_LOG_WARN);
    n = atoi(argv[3]);
    if (strcmp(argv[1], "pass")) {
        return prep(argv[1], argv[2], n, argv[4], p);
    }
    passes = argc > 5 ? atoi(argv[5]) : 5;
    conf = acme_sup_conf_make(p);
    conf->store_dir = argv[2];
    conf->ca_url = argv[4];
    conf->worker_path = "/bin/false";   /* an idle pass starts no worker */
    conf->agree_tos = 1;
    for (i = 1; i <= n; i++) {
        acme_md_t *md = apr_pcalloc(p, sizeof(*md));
        md->name = bench_name(p, i);
        md->names = apr_array_make(p, 1, sizeof(const char *));
        APR_ARRAY_PUSH(md->names, const char *) = md->name;
        md->key_type = ACME_KEY_EC256;
        md->challenges = apr_array_make(p, 1, sizeof(const char *));
        APR_ARRAY_PUSH(md->challenges, const char *) = "http-01";
        md->source = "supbench";
        APR_ARRAY_PUSH(conf->mds, acme_md_t *) = md;
    }
    cpu = calloc(passes + 1, sizeof(double));
    wall = calloc(passes + 1, sizeof(double));
    for (i = 0; i <= passes; i++) {       /* pass 0: warm-up */
        apr_pool_create(&pp, p);
        c0 = cpu_ms();
        w0 = wall_ms();
        acme_sup_pass(&res, conf, pp);
        cpu[i] = cpu_ms() - c0;
        wall[i] = wall_ms() - w0;
        apr_pool_destroy(pp);
        printf("pass %d: cpu_ms %.1f wall_ms %.1f attempted %d%s\n", i,
               cpu[i], wall[i], res.attempted, i ? "" : " (warm-up)");
        if (res.attempted) {
            fprintf(stderr, "supbench: the pass was not idle (%d orders "
                    "attempted)\n", res.attempted);
            return 1;
        }
    }
    qsort(cpu + 1, passes, sizeof(double), cmp_double);
    qsort(wall + 1, passes, sizeof(double), cmp_double);
    printf("median_cpu_ms %.1f median_wall_ms %.1f attempted %d\n",
           cpu[1 + passes / 2], wall[1 + passes / 2], res.attempted);
    return 0;
}
