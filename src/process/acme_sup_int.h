/* mod_acme: what the supervisor's files share (private to src/process/):
 * the lineage index (acme_sup_index.c), the ARI refresh (acme_sup_ari.c)
 * and the worker call it needs from the pass (acme_supervisor.c). */
#ifndef ACME_SUP_INT_H
#define ACME_SUP_INT_H

#include <sys/stat.h>

#include <apr_hash.h>
#include <jansson.h>

#include "acme_supervisor.h"
#include "acme_state.h"
#include "acme_key.h"
#include "acme_obtain.h"
#include "acme_ratelimit.h"
#include "acme_workpool.h"

#define ACME_SUP_DAY apr_time_from_sec(86400)

/* What a pass learnt for the next one (an index of "nothing to do before"
 * times instead of re-reading every certificate each pass). Valid while
 * the store's change mark is the one the last pass left. */
struct acme_sup_index_t {
    apr_pool_t *pool;                 /* the conf's */
    char mark[256];                   /* the change mark after that pass */
    int valid;
    int n;                            /* entries in quiet (conf->mds) */
    apr_time_t *quiet;                /* per md: nothing to do before this
                                         (0: look again) */
    struct stat *state_st;            /* per md: its state file then (an
                                         edit by hand is seen too) */
    char *skip;                       /* this pass: the entry holds, skip */
};

/* What the jobs and decisions of one pass share. */
typedef struct acme_sup_pass_t {
    acme_sup_conf_t *conf;
    acme_store_t *store;
    acme_sup_result_t *res;
    apr_pool_t *p;
    apr_time_t now;
    apr_array_header_t *jobs;        /* job_t *; retries are appended */
    acme_workpool_t *wp;
    acme_batch_t *batch;             /* hooks, guard, the account in use */
    const char *account_pem;         /* the batch's account key, for the
                                        workers' requests */
    apr_hash_t *ids_cache;           /* lineage -> its CertID (ARI) */
    acme_state_t **states;           /* per md: its state, when the ARI
                                        refresh read it (else NULL) */
    apr_time_t ari_until;            /* the CA's renewalInfo not before */
    int *soon;                       /* per md: batched in round 1 */
    apr_pool_t *ip;                  /* per certificate, cleared each time */
} acme_sup_pass_t;

/* The earlier of two times, 0 meaning none. */
apr_time_t acme_sup_min_time(apr_time_t a, apr_time_t b);

/* --- the pass (acme_supervisor.c, acme_sup_decide.c) --- */

/* Decides every lineage of conf->mds (acme_sup_decide.c): each due one
 * gets an order (acme_sup_pass_order), the others an index entry. Fails
 * only when the pass's account is unusable. */
apr_status_t acme_sup_pass_decide(acme_sup_pass_t *ps);

/* Loads the pass's account once, when the first order needs it (a new key
 * when the CA has none of ours yet: registered before the orders). */
apr_status_t acme_sup_pass_account_load(acme_sup_pass_t *ps);

/* Begins md's issuance (acme_obtain_begin) and queues its first attempt
 * for the pass's workers; state and lineage (NULL: none) are md's as the
 * decision read them, in sp, which the issuance keeps; replaces: the ARI
 * CertID of the certificate it replaces, or NULL. Fails when the
 * duplicate-certificate guard refuses (recorded in the state). */
apr_status_t acme_sup_pass_order(acme_sup_pass_t *ps, acme_md_t *md,
                                 acme_due_e due, acme_state_t *state,
                                 acme_lineage_t *lineage,
                                 const char *replaces, apr_pool_t *sp);

/* --- the index (acme_sup_index.c) --- */

/* The identity of md's state file (all zero when it is missing). */
void acme_sup_state_stat(struct stat *st, const acme_store_t *store,
                         const acme_md_t *md, apr_pool_t *p);

/* Starts a pass's use of the index: sized to conf->mds, forgotten when
 * the store changed since the last pass ended (acmectl wrote to it); says
 * which certificates the pass can skip (conf->index->skip). */
void acme_sup_index_begin(acme_sup_conf_t *conf, const acme_store_t *store,
                          apr_time_t now, apr_pool_t *p);

/* Ends it: what this pass wrote is known, so its own mark is kept. */
void acme_sup_index_end(acme_sup_conf_t *conf, const acme_store_t *store,
                        apr_pool_t *p);

/* Nothing to do for conf->mds[i] before `until`, nor before ari_next, when
 * the CA's renewal window must be asked for again (0: every pass); seen is
 * the state file's identity before the pass read it. */
void acme_sup_quiet(acme_sup_conf_t *conf, acme_sup_result_t *res, int i,
                    apr_time_t until, apr_time_t ari_next,
                    const struct stat *seen);

/* --- ARI, RFC 9773 (acme_sup_ari.c) --- */

/* Asks the CA (through a worker: the supervisor does not talk to it) for
 * the renewal windows of the lineages whose recorded window is missing or
 * stale, and records them in their state (st->ari). *pari_until: when a
 * CA without renewalInfo is to be asked again (0: every pass). ids_cache
 * keeps the lineages' CertIDs for the pass; states[i] gets conf->mds[i]'s
 * state when it was read here (in p), for the pass's decision. */
void acme_sup_ari_refresh(acme_store_t *store, acme_sup_conf_t *conf,
                          acme_workpool_t *wp, apr_time_t now,
                          apr_hash_t *ids_cache, acme_state_t **states,
                          apr_time_t *pari_until, apr_pool_t *p);


/* Runs one "ari" request for the CertIDs ids alone on the pass's workers
 * and waits for it; the task holds its result or failure (in
 * acme_supervisor.c: the jobs are its). */
acme_task_t *acme_sup_ari_run(acme_workpool_t *wp, const acme_sup_conf_t *conf,
                              apr_array_header_t *ids, apr_pool_t *p);

/* --- dns-01 (acme_sup_dns.c) --- */

/* Runs md's dns-01 hook for a worker's request msg ({"type":"dns",
 * "action":"setup"|"cleanup",...}); hook_output keeps what setup printed
 * for the cleanup. Returns the answer line ({"ok":...}). */
const char *acme_sup_dns_answer(const acme_md_t *md, apr_table_t *hook_output,
                                json_t *msg, apr_pool_t *p);

#endif
