/* mod_acme: the supervisor's lineage index: which certificates a pass can
 * skip because nothing can have changed for them since the last one. */
#include <string.h>

#include "acme_sup_int.h"
#include "acme_util.h"

apr_time_t acme_sup_min_time(apr_time_t a, apr_time_t b)
{
    return (!a || (b && b < a)) ? b : a;
}

void acme_sup_state_stat(struct stat *st, const acme_store_t *store,
                         const acme_md_t *md, apr_pool_t *p)
{
    if (stat(acme_store_path(store, p, "state", apr_pstrcat(p, md->name,
                             ".json", NULL), NULL), st) != 0) {
        memset(st, 0, sizeof(*st));
    }
}

/* Whether the index still holds for conf->mds[i] at now: its quiet time is
 * ahead and its state file is the one it was decided on. */
static int index_quiet(acme_sup_conf_t *conf, const acme_store_t *store,
                       int i, apr_time_t now, apr_pool_t *p)
{
    struct acme_sup_index_t *idx = conf->index;
    struct stat st, *was = &idx->state_st[i];

    if (idx->quiet[i] <= now) {
        return 0;
    }
    acme_sup_state_stat(&st, store, APR_ARRAY_IDX(conf->mds, i, acme_md_t *),
                        p);
    return acme_file_same(&st, was);
}

void acme_sup_index_begin(acme_sup_conf_t *conf, const acme_store_t *store,
                          apr_time_t now, apr_pool_t *p)
{
    struct acme_sup_index_t *idx = conf->index;
    const char *mark;
    int i;

    if (idx->n != conf->mds->nelts) {
        idx->n = conf->mds->nelts;
        idx->quiet = apr_pcalloc(idx->pool, sizeof(apr_time_t)
                                 * (apr_size_t)(idx->n + 1));
        idx->state_st = apr_pcalloc(idx->pool, sizeof(struct stat)
                                    * (apr_size_t)(idx->n + 1));
        idx->skip = apr_pcalloc(idx->pool, (apr_size_t)(idx->n + 1));
        idx->valid = 0;
    }
    mark = acme_store_change_mark(store, p);
    if (!idx->valid || strcmp(mark, idx->mark)) {
        memset(idx->quiet, 0, sizeof(apr_time_t) * (apr_size_t)(idx->n + 1));
    }
    idx->valid = 0;
    for (i = 0; i < idx->n; i++) {
        idx->skip[i] = (char)index_quiet(conf, store, i, now, p);
    }
}

void acme_sup_index_end(acme_sup_conf_t *conf, const acme_store_t *store,
                        apr_pool_t *p)
{
    struct acme_sup_index_t *idx = conf->index;
    const char *mark = acme_store_change_mark(store, p);

    if (strlen(mark) < sizeof(idx->mark)) {
        strcpy(idx->mark, mark);
        idx->valid = 1;
    }
}

void acme_sup_quiet(acme_sup_conf_t *conf, acme_sup_result_t *res, int i,
                    apr_time_t until, apr_time_t ari_next,
                    const struct stat *seen)
{
    res->next_wakeup = acme_sup_min_time(res->next_wakeup, until);
    conf->index->quiet[i] = !ari_next ? 0 : until < ari_next ? until
                                                             : ari_next;
    if (conf->index->quiet[i]) {
        /* the identity the state file had before it was read: an edit
         * made while the pass decided (acmectl, an administrator) is seen
         * by the next pass */
        conf->index->state_st[i] = *seen;
    }
}
