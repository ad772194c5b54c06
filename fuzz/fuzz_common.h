/* fuzz/fuzz_common.h -- shared by the libFuzzer targets: APR once, a pool
 * per input, the input as a NUL-terminated copy (the engine's HTTP layer
 * always hands NUL-terminated bodies to the parsers). */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <apr_general.h>
#include <apr_pools.h>
#include <apr_tables.h>
#include "acme_common.h"

static apr_pool_t *fuzz_root;

static void fuzz_quiet_log(void *baton, acme_log_level_e level, const char *msg)
{
    (void)level; (void)msg; (void)baton;
}

static apr_pool_t *fuzz_pool(void)
{
    apr_pool_t *p;
    if (!fuzz_root) {
        apr_initialize();
        apr_pool_create(&fuzz_root, NULL);
        acme_log_set(fuzz_quiet_log, NULL, ACME_LOG_ERR);
    }
    apr_pool_create(&p, fuzz_root);
    return p;
}

static char *fuzz_str(apr_pool_t *p, const uint8_t *data, size_t size)
{
    char *s = apr_palloc(p, size + 1);
    memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/* Splits the input at '\n' into an array of NUL-terminated strings. */
static apr_array_header_t *fuzz_lines(apr_pool_t *p, const char *s, size_t n)
{
    apr_array_header_t *a = apr_array_make(p, 4, sizeof(const char *));
    size_t i, start = 0;
    for (i = 0; i <= n; i++) {
        if (i == n || s[i] == '\n') {
            char *l = apr_palloc(p, i - start + 1);
            memcpy(l, s + start, i - start);
            l[i - start] = '\0';
            APR_ARRAY_PUSH(a, const char *) = l;
            start = i + 1;
        }
    }
    return a;
}
#endif
